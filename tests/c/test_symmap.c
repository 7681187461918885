/* symmap: the core/profile/README.md §3 modes on this test binary (a real ELF
 * file): ELF-address mode, runtime mode, names only, build-id and inode
 * checks, path map, binary root, kernel and special DSOs. */
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "elf/elf.h"
#include "profile/profile.h"
#include "profile/symmap.h"

static char self[4096];
static uint64_t fn_off, fn_vaddr;              /* this file's marker function */
static uint64_t map_start, map_len, map_pgoff; /* its r-xp mapping */
static char self_hex[2 * ELFI_MAX_BUILD_ID + 1];
static struct stat self_st;

static int bias_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr;
    return 1;
}

void symmap_marker(void);
void symmap_marker(void)
{
}

static void setup(void)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n > 0 ? n : 0] = '\0';
    stat(self, &self_st);
    uintptr_t bias = 0, rt = (uintptr_t)&symmap_marker;
    dl_iterate_phdr(bias_cb, &bias);
    fn_vaddr = rt - bias;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4608];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, pg;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &pg) == 4 && rt >= lo && rt < hi) {
            fn_off = rt - lo + pg;
            map_start = lo;
            map_len = hi - lo;
            map_pgoff = pg;
        }
    }
    if (f)
        fclose(f);
    elfi_info e;
    char err[256];
    CHECK(elfi_read(self, &e, err, sizeof err) == 0);
    elfi_build_id_hex(&e, self_hex, sizeof self_hex);
    CHECK(self_hex[0] != '\0'); /* gcc/ld on Debian add a GNU build id */
}

static symmap_mmap self_mmap(const char *path, const char *build_id)
{
    symmap_mmap m = {.pid = 100,
                     .start = map_start,
                     .len = map_len,
                     .pgoff = map_pgoff,
                     .path = path,
                     .path_len = strlen(path),
                     .exec = true};
    if (build_id) {
        m.build_id = build_id;
        m.build_id_len = strlen(build_id);
    }
    return m;
}

static const char *mapping_file(prof_profile *p, uint64_t id, prof_mapping_info *m)
{
    CHECK(prof_get_mapping(p, id, m));
    return prof_str(p, m->file, NULL);
}

static void test_elf_mode_from_offset(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    symmap_result r;
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.kind == SYMMAP_USER && r.mode == SYMMAP_MODE_ELF && r.adjust_return);
    CHECK(r.address == fn_vaddr);
    prof_mapping_info m;
    CHECK_STR(mapping_file(p, r.mapping_id, &m), self);
    CHECK(m.start == 0 && m.limit == PROF_NO_LIMIT && m.offset == 0 && !m.has_functions);
    CHECK_STR(prof_str(p, m.build_id, NULL), self_hex);
    /* Another pid, same file: the same mapping. */
    symmap_result r2;
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 200, &r2) == 0);
    CHECK(r2.mapping_id == r.mapping_id && prof_num_mappings(p) == 1);
    CHECK(symmap_num_warnings(s) == 0);
    symmap_free(s);
    prof_free(p);
}

static void test_raw_and_auto_addresses(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_RAW});
    symmap_mmap mm = self_mmap(self, NULL);
    CHECK(symmap_add_mmap(s, &mm) == 0);
    symmap_result r;
    uint64_t ip = fn_off - map_pgoff + map_start;
    CHECK(symmap_resolve(s, self, strlen(self), ip, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);

    /* AUTO: a PIE's raw ip lies in the runtime range, an offset in the
     * pgoff range: both resolve to the same vaddr. */
    s = symmap_new(p, NULL);
    CHECK(symmap_add_mmap(s, &mm) == 0);
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);
    s = symmap_new(p, NULL);
    CHECK(symmap_add_mmap(s, &mm) == 0);
    CHECK(symmap_resolve(s, self, strlen(self), ip, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);

    /* AUTO without any record: a PIE's raw ip (as perf -G prints it) is no
     * file offset of the file, so it is not read as one: names only, and
     * the warning says why. */
    s = symmap_new(p, NULL);
    CHECK(symmap_resolve(s, self, strlen(self), ip, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES && r.address == ip);
    CHECK(symmap_num_warnings(s) == 1 && strstr(symmap_warning(s, 0), "runtime address"));
    /* ...while a file offset of the same DSO still translates. */
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);
    prof_free(p);
}

static void test_build_id_mismatch_refuses_the_file(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    /* MMAP2 with --buildid-mmap says another build id: the local file is
     * not the profiled one, so runtime mode from the record. */
    symmap_mmap mm = self_mmap(self, "00112233445566778899aabbccddeeff00112233");
    CHECK(symmap_add_mmap(s, &mm) == 0);
    symmap_result r;
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_RUNTIME && r.adjust_return);
    CHECK(r.address == fn_off - map_pgoff + map_start);
    prof_mapping_info m;
    CHECK_STR(mapping_file(p, r.mapping_id, &m), self);
    CHECK(m.start == map_start && m.limit == map_start + map_len && m.offset == map_pgoff);
    CHECK_STR(prof_str(p, m.build_id, NULL), "00112233445566778899aabbccddeeff00112233");
    CHECK(m.has_functions); /* pprof must not symbolize from the wrong file */
    /* A thread or process with no record of its own (perf printed only
     * the tid): a file offset is placed through another process's record
     * of the same file, a consistent (ip, mapping) pair. */
    symmap_result r2;
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 999, &r2) == 0);
    CHECK(r2.mode == SYMMAP_MODE_RUNTIME && r2.mapping_id == r.mapping_id);
    CHECK(r2.address == r.address);
    CHECK(symmap_num_warnings(s) == 0);
    symmap_free(s);

    /* Without any record: names only, one warning that says why. */
    s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    CHECK(symmap_add_build_id(s, self, strlen(self), "0011", 4) == 0);
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 999, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES && !r.adjust_return && r.address == fn_off);
    CHECK(symmap_resolve(s, self, strlen(self), fn_off + 4, 999, &r) == 0);
    CHECK(symmap_num_warnings(s) == 1);
    CHECK(strstr(symmap_warning(s, 0), "build id") != NULL);
    CHECK(mapping_file(p, r.mapping_id, &m) && m.has_functions && m.limit == PROF_NO_LIMIT);
    symmap_free(s);

    /* The matching build id (upper case as some tools print it) is used. */
    s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    char upper[sizeof self_hex];
    for (size_t i = 0; i <= strlen(self_hex); i++)
        upper[i] =
            (char)(self_hex[i] >= 'a' && self_hex[i] <= 'f' ? self_hex[i] - 32 : self_hex[i]);
    CHECK(symmap_add_build_id(s, self, strlen(self), upper, strlen(upper)) == 0);
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);
    prof_free(p);
}

static void test_inode_mismatch_refuses_the_file(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    symmap_mmap mm = self_mmap(self, NULL);
    mm.dev_known = true;
    mm.maj = major(self_st.st_dev);
    mm.min = minor(self_st.st_dev);
    mm.ino = (uint64_t)self_st.st_ino + 1; /* a rebuilt file */
    CHECK(symmap_add_mmap(s, &mm) == 0);
    symmap_result r;
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_RUNTIME);
    symmap_free(s);
    s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    mm.ino = (uint64_t)self_st.st_ino;
    CHECK(symmap_add_mmap(s, &mm) == 0);
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 100, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);
    prof_free(p);
}

static void test_remote_path_map_and_binary_root(void)
{
    prof_profile *p = prof_new();
    const char *remote_path = "/home/ci/work/pkg.test";
    /* Remote without a path map: a file at the same path is not trusted. */
    symmap *s = symmap_new(p, &(symmap_options){.remote = true, .addr_kind = SYMMAP_ADDR_OFFSET});
    symmap_result r;
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 1, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES);
    CHECK(symmap_num_warnings(s) == 1 && strstr(symmap_warning(s, 0), "remote") != NULL);
    symmap_free(s);

    /* The path map names the local file that stands for the remote one. */
    symmap_path pm[] = {{remote_path, self}};
    s = symmap_new(
        p, &(symmap_options){
               .remote = true, .path_map = pm, .npath_map = 1, .addr_kind = SYMMAP_ADDR_OFFSET});
    CHECK(symmap_resolve(s, remote_path, strlen(remote_path), fn_off, 1, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    prof_mapping_info m;
    CHECK_STR(mapping_file(p, r.mapping_id, &m), self); /* the file read */
    symmap_free(s);

    /* A directory entry ("dir/" -> "dir/") maps everything below it. */
    char dir[4096], from[] = "/remote/bin/";
    snprintf(dir, sizeof dir, "%s", self);
    *strrchr(dir, '/') = '\0';
    const char *base = strrchr(self, '/') + 1;
    char rpath[4200];
    snprintf(rpath, sizeof rpath, "%s%s", from, base);
    symmap_path pd[] = {{from, dir}};
    s = symmap_new(
        p, &(symmap_options){
               .remote = true, .path_map = pd, .npath_map = 1, .addr_kind = SYMMAP_ADDR_OFFSET});
    CHECK(symmap_resolve(s, rpath, strlen(rpath), fn_off, 1, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    symmap_free(s);

    /* binary_root: <root>/<profiled path>. */
    char root[] = "/tmp/perfgo-root-XXXXXX", sub[4300], link[4400];
    CHECK(mkdtemp(root) != NULL);
    snprintf(sub, sizeof sub, "%s/home", root);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/home/ci", root);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/home/ci/work", root);
    mkdir(sub, 0755);
    snprintf(link, sizeof link, "%s/pkg.test", sub);
    char cp[9000];
    snprintf(cp, sizeof cp, "cp '%s' '%s'", self, link);
    CHECK(system(cp) == 0);
    s = symmap_new(
        p, &(symmap_options){.remote = true, .binary_root = root, .addr_kind = SYMMAP_ADDR_OFFSET});
    CHECK(symmap_resolve(s, remote_path, strlen(remote_path), fn_off, 1, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_ELF && r.address == fn_vaddr);
    CHECK_STR(mapping_file(p, r.mapping_id, &m), link);
    /* A name that climbs out of the root stays in it: not this binary. */
    char climb[4400];
    snprintf(climb, sizeof climb, "/../../../..%s", self);
    CHECK(symmap_resolve(s, climb, strlen(climb), fn_off, 1, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES);
    /* ...but a build id from the remote side still has to match. */
    symmap_free(s);
    s = symmap_new(
        p, &(symmap_options){.remote = true, .binary_root = root, .addr_kind = SYMMAP_ADDR_OFFSET});
    CHECK(symmap_add_build_id(s, remote_path, strlen(remote_path), "feed", 4) == 0);
    CHECK(symmap_resolve(s, remote_path, strlen(remote_path), fn_off, 1, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES);
    symmap_free(s);
    unlink(link);
    snprintf(sub, sizeof sub, "%s/home/ci/work", root);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/home/ci", root);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/home", root);
    rmdir(sub);
    rmdir(root);
    prof_free(p);
}

/* DSO names under /proc, /sys or /dev, and FIFOs, are never read (a FIFO
 * would block the conversion for ever, /proc/kmsg too): names only. */
static void test_unsafe_names_are_not_read(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    char dir[] = "/tmp/perfgo-fifo-XXXXXX", fifo[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fifo, sizeof fifo, "%s/lib.so", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    const char *names[] = {fifo, "//proc/kmsg", "/./dev/zero", "/proc/self/exe"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        symmap_result r;
        CHECK(symmap_resolve(s, names[i], strlen(names[i]), 0x1000, 1, &r) == 0);
        CHECK_MSG(r.mode == SYMMAP_MODE_NAMES, names[i]);
    }
    CHECK(symmap_num_warnings(s) == 4);
    CHECK(strstr(symmap_warning(s, 0), "not a regular file") != NULL);
    CHECK(strstr(symmap_warning(s, 1), "not read (a name with .") != NULL);
    CHECK(strstr(symmap_warning(s, 3), "under /proc, /sys or /dev") != NULL);
    symmap_free(s);
    unlink(fifo);
    rmdir(dir);
    prof_free(p);
}

static void test_unreadable_without_mmap_is_names_only(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, NULL);
    const char *gone = "/nonexistent/lib/libgone.so";
    symmap_result r;
    for (int i = 0; i < 3; i++) {
        CHECK(symmap_resolve(s, gone, strlen(gone), 0x1234 + (uint64_t)i, 5, &r) == 0);
        CHECK(r.mode == SYMMAP_MODE_NAMES && r.address == 0x1234 + (uint64_t)i);
    }
    CHECK(symmap_num_warnings(s) == 1);
    CHECK(strstr(symmap_warning(s, 0), gone) != NULL);
    prof_mapping_info m;
    CHECK_STR(mapping_file(p, r.mapping_id, &m), gone);
    CHECK(m.has_functions && m.start == 0 && m.limit == PROF_NO_LIMIT);
    symmap_free(s);
    prof_free(p);
}

static void test_fork_inherits_and_exec_resets(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_RAW});
    const char *lib = "/nonexistent/libx.so";
    symmap_mmap mm = {.pid = 10,
                      .start = 0x7f0000000000,
                      .len = 0x10000,
                      .pgoff = 0x1000,
                      .path = lib,
                      .path_len = strlen(lib),
                      .exec = true};
    CHECK(symmap_add_mmap(s, &mm) == 0);
    CHECK(symmap_add_fork(s, 10, 11) == 0);
    symmap_result r;
    CHECK(symmap_resolve(s, lib, strlen(lib), 0x7f0000000100, 11, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_RUNTIME && r.address == 0x7f0000000100);
    prof_mapping_info m;
    CHECK(prof_get_mapping(p, r.mapping_id, &m) && !m.has_functions); /* nothing at the path */
    CHECK(m.start == 0x7f0000000000 && m.limit == 0x7f0000010000 && m.offset == 0x1000);
    /* After exec the old maps are gone; another process's ips say nothing
     * about this one. */
    symmap_add_exec(s, 11);
    CHECK(symmap_resolve(s, lib, strlen(lib), 0x7f0000000200, 11, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES);
    /* A pid the side band never saw (perf printed no pid): any record of
     * the path that holds the ip. */
    CHECK(symmap_resolve(s, lib, strlen(lib), 0x7f0000000300, 55, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_RUNTIME && r.address == 0x7f0000000300);
    symmap_free(s);
    prof_free(p);
}

/* Many records (one file per JIT-compiled function, as perf inject --jit
 * leaves them) in two processes and a fork: each frame is placed by the
 * record of its own process and file, the newest first, a fork sees its
 * parent's records from before the fork only. (tests/bench measures the
 * time: lookups go through the (pid, path) index, not over all records.) */
static void test_many_records(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_RAW});
    enum { N = 20000 };
    static char paths[N][48];
    CHECK(symmap_reserve(s, 2 * N + 8) == 0);
    for (int k = 0; k < N; k++) {
        snprintf(paths[k], sizeof paths[k], "/nonexistent/jitted-%d.so", k);
        for (int pid = 20; pid <= 21; pid++) {
            symmap_mmap mm = {.pid = pid,
                              .start = 0x7e0000000000 + (uint64_t)pid * 0x1000000000 +
                                       (uint64_t)k * 0x10000,
                              .len = 0x1000,
                              .path = paths[k],
                              .path_len = strlen(paths[k]),
                              .exec = true,
                              .borrow = pid == 20};
            CHECK(symmap_add_mmap(s, &mm) == 0);
        }
        if (k == N / 2)
            CHECK(symmap_add_fork(s, 20, 22) == 0);
    }
    /* file 7 mapped again in process 20, at a new address: both places hold */
    symmap_mmap again = {.pid = 20,
                         .start = 0x10000,
                         .len = 0x1000,
                         .path = paths[7],
                         .path_len = strlen(paths[7]),
                         .exec = true};
    CHECK(symmap_add_mmap(s, &again) == 0);
    symmap_result r;
    for (int k = 0; k < N; k += 997) {
        for (int pid = 20; pid <= 21; pid++) {
            uint64_t ip = 0x7e0000000000 + (uint64_t)pid * 0x1000000000 + (uint64_t)k * 0x10000 + 8;
            CHECK(symmap_resolve(s, paths[k], strlen(paths[k]), ip, pid, &r) == 0);
            prof_mapping_info m;
            CHECK(r.mode == SYMMAP_MODE_RUNTIME && prof_get_mapping(p, r.mapping_id, &m));
            CHECK(m.start == ip - 8 && m.limit == ip - 8 + 0x1000);
            /* the other process's address is not this one's */
            uint64_t other = ip ^ ((uint64_t)(20 ^ 21) * 0x1000000000);
            CHECK(symmap_resolve(s, paths[k], strlen(paths[k]), other, pid, &r) == 0);
            CHECK(r.mode == SYMMAP_MODE_NAMES);
        }
        /* the fork inherited process 20's records up to the fork */
        uint64_t ip20 = 0x7e0000000000 + 20 * 0x1000000000ULL + (uint64_t)k * 0x10000 + 8;
        CHECK(symmap_resolve(s, paths[k], strlen(paths[k]), ip20, 22, &r) == 0);
        CHECK(r.mode == (k <= N / 2 ? SYMMAP_MODE_RUNTIME : SYMMAP_MODE_NAMES));
    }
    CHECK(symmap_resolve(s, paths[7], strlen(paths[7]), 0x10008, 20, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_RUNTIME && r.address == 0x10008);
    CHECK(symmap_resolve(s, paths[7], strlen(paths[7]), 0x10008, 21, &r) == 0);
    CHECK(r.mode == SYMMAP_MODE_NAMES);
    symmap_free(s);
    prof_free(p);
}

static void test_kernel_and_special(void)
{
    prof_profile *p = prof_new();
    symmap *s = symmap_new(p, NULL);
    symmap_result r;
    const char *k = "[kernel.kallsyms]";
    CHECK(symmap_resolve(s, k, strlen(k), 0xffffffff81000100ULL, 1, &r) == 0);
    CHECK(r.kind == SYMMAP_KERNEL && !r.adjust_return && r.address == 0xffffffff81000100ULL);
    CHECK(symmap_resolve(s, k, strlen(k), 0xffffffff81200000ULL, 1, &r) == 0);
    CHECK(symmap_finish(s) == 0);
    prof_mapping_info m;
    CHECK_STR(mapping_file(p, r.mapping_id, &m), "[kernel.kallsyms]");
    CHECK(m.start == 0xffffffff81000100ULL && m.limit == 0xffffffff81200001ULL);
    CHECK(m.has_functions);
    symmap_free(s);

    /* With the kernel MMAP record: its range and name verbatim. */
    s = symmap_new(p, NULL);
    const char *kt = "[kernel.kallsyms]_text";
    symmap_mmap km = {.pid = -1,
                      .start = 0xffffffff81000000ULL,
                      .len = 0x1209988,
                      .pgoff = 0xffffffff81000000ULL,
                      .path = kt,
                      .path_len = strlen(kt),
                      .exec = true};
    CHECK(symmap_add_mmap(s, &km) == 0);
    CHECK(symmap_resolve(s, k, strlen(k), 0xffffffff81000100ULL, 1, &r) == 0);
    CHECK_STR(mapping_file(p, r.mapping_id, &m), kt);
    CHECK(m.start == km.start && m.limit == km.start + km.len && m.offset == km.pgoff);
    symmap_free(s);

    s = symmap_new(p, NULL);
    const char *special[] = {"[vdso]", "//anon", "/tmp/perf-1234.map", "/memfd:x (deleted)",
                             "/opt/app/selfdel (deleted)"};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        CHECK(symmap_resolve(s, special[i], strlen(special[i]), 0x7fff1234, 1, &r) == 0);
        CHECK(r.kind == SYMMAP_SPECIAL && r.mode == SYMMAP_MODE_NAMES);
        CHECK(r.address == 0x7fff1234 && !r.adjust_return);
        CHECK_STR(mapping_file(p, r.mapping_id, &m), special[i]);
        CHECK(m.has_functions);
    }
    CHECK(symmap_resolve(s, "[unknown]", 9, 0x42, 1, &r) == 0);
    CHECK(r.kind == SYMMAP_UNKNOWN && r.mapping_id == 0 && r.address == 0x42);
    CHECK(symmap_resolve(s, "", 0, 0x42, 1, &r) == 0);
    CHECK(r.kind == SYMMAP_UNKNOWN && r.mapping_id == 0);
    CHECK(symmap_num_warnings(s) == 0);
    symmap_free(s);
    prof_free(p);
}

static void test_main_binary_goes_first(void)
{
    prof_profile *p = prof_new();
    prof_add_sample_type(p, "samples", "count");
    symmap *s = symmap_new(p, &(symmap_options){.addr_kind = SYMMAP_ADDR_OFFSET});
    symmap_result r;
    const char *libc = "/nonexistent/libc.so.6";
    CHECK(symmap_resolve(s, "[kernel.kallsyms]", 17, 0xffffffff81000100ULL, 1, &r) == 0);
    CHECK(symmap_resolve(s, libc, strlen(libc), 0x1000, 1, &r) == 0);
    CHECK(symmap_resolve(s, self, strlen(self), fn_off, 1, &r) == 0);
    CHECK(r.mapping_id == 3);
    CHECK(symmap_finish(s) == 0);
    unsigned char *buf;
    size_t len;
    char err[256];
    CHECK(prof_encode(p, false, &buf, &len, err, sizeof err) == 0);
    prof_profile *q = prof_decode(buf, len, err, sizeof err);
    CHECK(q != NULL);
    prof_mapping_info m;
    if (q)
        CHECK_STR(mapping_file(q, 1, &m), self); /* mapping[0] in the file */
    prof_free(q);
    free(buf);
    symmap_free(s);
    prof_free(p);
}

int main(void)
{
    setup();
    RUN(test_elf_mode_from_offset);
    RUN(test_raw_and_auto_addresses);
    RUN(test_build_id_mismatch_refuses_the_file);
    RUN(test_inode_mismatch_refuses_the_file);
    RUN(test_remote_path_map_and_binary_root);
    RUN(test_unreadable_without_mmap_is_names_only);
    RUN(test_fork_inherits_and_exec_resets);
    RUN(test_many_records);
    RUN(test_unsafe_names_are_not_read);
    RUN(test_kernel_and_special);
    RUN(test_main_binary_goes_first);
    return CHECK_DONE();
}
