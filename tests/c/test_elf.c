/* The ELF reader on this very test binary: file offset -> vaddr checked
 * against the dynamic loader's view of the running process. */
#include <elf.h>
#include <stdbool.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "elf/elf.h"

int data_marker[64] = {1, 2, 3};

typedef struct self_info {
    uintptr_t bias;
    unsigned char build_id[64];
    size_t build_id_len;
    size_t nloads;
} self_info;

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    self_info *s = data;
    s->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD)
            s->nloads++;
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *n = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t off = 0;
        while (off + sizeof(ElfW(Nhdr)) <= ph->p_memsz) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(n + off);
            size_t name = off + sizeof *nh, desc = name + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(n + name, "GNU", 4) == 0 && nh->n_descsz <= sizeof s->build_id) {
                memcpy(s->build_id, n + desc, nh->n_descsz);
                s->build_id_len = nh->n_descsz;
            }
            off = desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 1; /* the first entry is the main program */
}

/* The file offset of runtime address a, from /proc/self/maps. */
static bool self_offset(uintptr_t a, uint64_t *off)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, pg;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &pg) == 4 && a >= lo && a < hi) {
            *off = a - lo + pg;
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* This test binary's path (files under /proc are never read). */
static const char *exe(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    return path;
}

static void test_offset_to_vaddr_matches_loader(void)
{
    self_info s = {0};
    dl_iterate_phdr(phdr_cb, &s);
    elfi_info e;
    char err[256];
    CHECK(elfi_read(exe(), &e, err, sizeof err) == 0);
    CHECK(e.type == ET_DYN || e.type == ET_EXEC);
    CHECK(e.nloads == s.nloads);
    /* main's ELF vaddr is its runtime address minus the load bias. */
    uintptr_t rt = (uintptr_t)&test_offset_to_vaddr_matches_loader;
    uint64_t want = rt - s.bias, fo = 0, vaddr = 0, back = 0;
    CHECK(self_offset(rt, &fo));
    CHECK(elfi_offset_to_vaddr(&e, fo, &vaddr));
    CHECK(vaddr == want);
    CHECK(elfi_vaddr_to_offset(&e, vaddr, &back) && back == fo);
    /* The same for a variable in the data segment, where GNU ld puts
     * vaddr != offset in the plain build (exec segments often have
     * vaddr == offset). */
    uintptr_t drt = (uintptr_t)&data_marker;
    CHECK(self_offset(drt, &fo));
    CHECK(elfi_offset_to_vaddr(&e, fo, &vaddr));
    CHECK(vaddr == drt - s.bias);
    /* An offset beyond the file maps to nothing. */
    CHECK(!elfi_offset_to_vaddr(&e, (uint64_t)1 << 40, &vaddr));
}

static void test_build_id_matches_note_in_memory(void)
{
    self_info s = {0};
    dl_iterate_phdr(phdr_cb, &s);
    elfi_info e;
    char err[256], hex[2 * ELFI_MAX_BUILD_ID + 1];
    CHECK(elfi_read(exe(), &e, err, sizeof err) == 0);
    CHECK(e.build_id_len == s.build_id_len);
    CHECK(memcmp(e.build_id, s.build_id, s.build_id_len) == 0);
    size_t n = elfi_build_id_hex(&e, hex, sizeof hex);
    CHECK(n == 2 * s.build_id_len);
    if (s.build_id_len) {
        char first[3];
        snprintf(first, sizeof first, "%02x", s.build_id[0]);
        CHECK(memcmp(hex, first, 2) == 0);
    }
}

static void test_errors_name_the_file(void)
{
    elfi_info e;
    char err[256];
    CHECK(elfi_read("/nonexistent/bin", &e, err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/bin") != NULL);
    char text[] = "/tmp/perfgo-elf-text-XXXXXX";
    int tfd = mkstemp(text);
    CHECK(tfd >= 0 && write(tfd, "not an ELF file at all\n", 23) == 23);
    close(tfd);
    CHECK(elfi_read(text, &e, err, sizeof err) == -1);
    CHECK(strstr(err, "not an ELF file") != NULL);
    unlink(text);
    /* A truncated copy of a real header. */
    FILE *f = fopen("/proc/self/exe", "rb");
    unsigned char buf[100];
    CHECK(f && fread(buf, 1, sizeof buf, f) == sizeof buf);
    if (f)
        fclose(f);
    CHECK(elfi_parse(buf, 40, &e, err, sizeof err) == -1);
    CHECK(elfi_parse(buf, sizeof buf, &e, err, sizeof err) == -1); /* phdrs cut off */
    CHECK(strstr(err, "truncated") != NULL);
}

static void put16(unsigned char *p, uint16_t v, bool be)
{
    p[be ? 0 : 1] = (unsigned char)(v >> 8);
    p[be ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

/* A hand-made big-endian ELF32 (e.g. an old PowerPC binary): two PT_LOADs
 * and a PT_NOTE with a GNU build id. */
static void test_elf32_big_endian(void)
{
    unsigned char b[512] = {0};
    memcpy(b, ELFMAG, SELFMAG);
    b[EI_CLASS] = ELFCLASS32;
    b[EI_DATA] = ELFDATA2MSB;
    b[EI_VERSION] = EV_CURRENT;
    put16(b + 16, ET_EXEC, true);
    put32(b + 28, 52, true); /* e_phoff */
    put16(b + 42, 32, true); /* e_phentsize */
    put16(b + 44, 3, true);  /* e_phnum */
    unsigned char *ph = b + 52;
    put32(ph + 0, PT_LOAD, true);
    put32(ph + 4, 0x0, true);        /* p_offset */
    put32(ph + 8, 0x10000000, true); /* p_vaddr */
    put32(ph + 16, 0x180, true);     /* p_filesz */
    put32(ph + 20, 0x180, true);
    put32(ph + 24, PF_R | PF_X, true);
    ph += 32;
    put32(ph + 0, PT_LOAD, true);
    put32(ph + 4, 0x180, true);
    put32(ph + 8, 0x10010180, true);
    put32(ph + 16, 0x40, true);
    put32(ph + 20, 0x80, true);
    put32(ph + 24, PF_R | PF_W, true);
    ph += 32;
    put32(ph + 0, PT_NOTE, true);
    put32(ph + 4, 0x100, true);
    put32(ph + 16, 24, true);
    unsigned char *n = b + 0x100;
    put32(n, 4, true);     /* namesz */
    put32(n + 4, 4, true); /* descsz */
    put32(n + 8, NT_GNU_BUILD_ID, true);
    memcpy(n + 12, "GNU", 4);
    memcpy(n + 16, "\xde\xad\xbe\xef", 4);
    elfi_info e;
    char err[256], hex[16];
    CHECK(elfi_parse(b, sizeof b, &e, err, sizeof err) == 0);
    CHECK(e.type == ET_EXEC && e.nloads == 2);
    uint64_t v = 0;
    CHECK(elfi_offset_to_vaddr(&e, 0x100, &v) && v == 0x10000100);
    CHECK(elfi_offset_to_vaddr(&e, 0x190, &v) && v == 0x10010190);
    CHECK(!elfi_offset_to_vaddr(&e, 0x1c0, &v)); /* bss: memsz only */
    CHECK(elfi_build_id_hex(&e, hex, sizeof hex) == 8);
    CHECK_STR(hex, "deadbeef");
    /* A note that claims more than the segment holds is ignored. */
    put32(n + 4, 400, true);
    CHECK(elfi_parse(b, sizeof b, &e, err, sizeof err) == 0);
    CHECK(e.build_id_len == 0);
    /* Program headers beyond the data. */
    put16(b + 44, 40, true);
    CHECK(elfi_parse(b, sizeof b, &e, err, sizeof err) == -1);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    CHECK(in && out);
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        CHECK(fwrite(buf, 1, n, out) == n);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

/* Names an input gives (DSOs perf printed) are opened safely: nothing
 * under /proc, /sys or /dev however spelled or linked, no FIFO or device
 * (a FIFO would block), and under a root, nothing outside it. */
static void test_untrusted_names(void)
{
    elfi_info e;
    elfi_file f;
    char err[512], dir[] = "/tmp/perfgo-elf-XXXXXX", p[4300], q[4300];
    CHECK(mkdtemp(dir) != NULL);
    static const char *const under[] = {"//proc/kmsg",       "/./dev/zero", "/a/../proc/self/exe",
                                        "/sys/kernel/notes", "/dev/null",   "/proc"};
    for (size_t i = 0; i < sizeof under / sizeof under[0]; i++) {
        CHECK_MSG(elfi_read(under[i], &e, err, sizeof err) == -1, under[i]);
        CHECK_MSG(strstr(err, "under /proc, /sys or /dev") != NULL, err);
    }
    snprintf(p, sizeof p, "%s/fifo", dir);
    CHECK(mkfifo(p, 0600) == 0);
    CHECK(elfi_read(p, &e, err, sizeof err) == -1); /* at once, not blocked */
    CHECK(strstr(err, "not a regular file") != NULL);
    snprintf(p, sizeof p, "%s/status", dir);
    CHECK(symlink("/proc/self/status", p) == 0);
    CHECK(elfi_read(p, &e, err, sizeof err) == -1);
    CHECK(strstr(err, "a file of /proc or /sys") != NULL);
    snprintf(p, sizeof p, "%s/zero", dir);
    CHECK(symlink("/dev/zero", p) == 0);
    CHECK(elfi_read(p, &e, err, sizeof err) == -1);
    CHECK(strstr(err, "not a regular file") != NULL);

    /* a root: root/usr/bin/app, a relative link to it and an absolute
     * one to this binary outside the root */
    char root[4200];
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(p, sizeof p, "%s/root/usr", dir);
    CHECK(mkdir(root, 0755) == 0 && mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/root/usr/bin", dir);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/root/usr/bin/app", dir);
    copy_file(exe(), p);
    snprintf(q, sizeof q, "%s/root/rel", dir);
    CHECK(symlink("usr/bin/app", q) == 0);
    snprintf(q, sizeof q, "%s/root/abs", dir);
    CHECK(symlink(exe(), q) == 0);
    CHECK(elfi_open(root, "/../../../../usr/bin/app", &f, err, sizeof err) == 0);
    CHECK_STR(f.path, p); /* ".." stops at the root */
    CHECK(elfi_read_fd(f.fd, f.path, &e, err, sizeof err) == 0 && e.nloads > 0);
    elfi_close(&f);
    CHECK(elfi_open(root, "/rel", &f, err, sizeof err) == 0);
    CHECK_STR(f.path, p);
    elfi_close(&f);
    snprintf(q, sizeof q, "/../../../..%s", exe());
    CHECK(elfi_open(root, q, &f, err, sizeof err) == ENOENT); /* not the real one */
    CHECK(elfi_open(root, "/abs", &f, err, sizeof err) == ENOENT);
    CHECK(f.fd == -1);
    CHECK(elfi_open("/", "/proc/self/exe", &f, err, sizeof err) != 0);

    snprintf(p, sizeof p, "rm -rf %s", dir);
    CHECK(system(p) == 0);
}

int main(void)
{
    RUN(test_offset_to_vaddr_matches_loader);
    RUN(test_build_id_matches_note_in_memory);
    RUN(test_errors_name_the_file);
    RUN(test_elf32_big_endian);
    RUN(test_untrusted_names);
    return CHECK_DONE();
}
