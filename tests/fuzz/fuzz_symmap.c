/* libFuzzer target: a stream of side-band records and frames -> symmap
 * (core/profile/README.md §3) -> the profile it fills -> the encoder.
 * The input is a little program: each operation is a byte, then its
 * operands from the following bytes (missing ones read as 0):
 *   MMAP  pid start len pgoff path exec build-id dev
 *   FORK  parent child       EXEC pid        BUILD_ID path hex
 *   RESOLVE dso address pid kind (auto, offset, raw)
 *   NAME  n bytes: a DSO name of the input's own (arbitrary bytes)
 * Paths and DSOs come from a table of hostile and ordinary names (a FIFO,
 * /proc and /dev spellings, names that climb out of the binary root, a
 * copy of an ELF file inside it, kernel and special DSOs) plus the input's
 * own names. Whatever the stream, nothing may crash, leak, hang (a FIFO is
 * never opened for reading: -timeout catches a block), read outside the
 * sandbox or hit undefined behaviour, and the profile encodes. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile/profile.h"
#include "profile/symmap.h"

static char root[200];
static char names[24][260];
static size_t nnames;

static void add_name(const char *fmt, const char *arg)
{
    snprintf(names[nnames++], sizeof names[0], fmt, arg);
}

/* The sandbox, in $PERFGO_FUZZ_SANDBOX (run_fuzz.sh puts it in its work
 * directory) or a new directory under /tmp: <root>/usr/bin/app (the first
 * 64 KiB of this program: its ELF headers), <root>/fifo, a link out of
 * the root. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("PERFGO_FUZZ_SANDBOX");
    if (dir && dir[0]) {
        snprintf(root, sizeof root, "%s", dir);
        mkdir(root, 0700);
    } else {
        snprintf(root, sizeof root, "/tmp/perfgo-fuzz-symmap-XXXXXX");
        if (!mkdtemp(root))
            abort();
    }
    char p[512], buf[65536];
    snprintf(p, sizeof p, "%s/usr", root);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/usr/bin", root);
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        abort();
    FILE *in = fopen("/proc/self/exe", "rb");
    snprintf(p, sizeof p, "%s/usr/bin/app", root);
    FILE *out = fopen(p, "wb");
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (!out || fwrite(buf, 1, n, out) != n)
        abort();
    fclose(out);
    if (in)
        fclose(in);
    snprintf(p, sizeof p, "%s/fifo", root);
    mkfifo(p, 0600);
    snprintf(p, sizeof p, "%s/out", root);
    if (symlink("/etc/passwd", p) != 0) {
        /* it exists from an earlier run of this pid: fine */
    }
    add_name("%s", "/usr/bin/app");
    add_name("%s", "/fifo");
    add_name("%s", "/out");
    add_name("%s/fifo", root); /* the FIFO by its real path */
    add_name("%s", "/../../../../usr/bin/app");
    add_name("%s", "//proc/kmsg");
    add_name("%s", "/./dev/zero");
    add_name("%s", "/proc/self/exe");
    add_name("%s", "/remote/app");
    add_name("%s", "[kernel.kallsyms]");
    add_name("%s", "[kernel.kallsyms]_text");
    add_name("%s", "[vdso]");
    add_name("%s", "[unknown]");
    add_name("%s", "");
    add_name("%s", "/tmp/perf-123.map");
    add_name("%s", "/lib/libgone.so (deleted)");
    add_name("%s", "//anon");
    add_name("%s", "[nf_tables]");
    return 0;
}

typedef struct rd {
    const uint8_t *p, *e;
} rd;

static uint64_t take(rd *r, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | (r->p < r->e ? *r->p++ : 0);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { OWN = 4 };
    char own[OWN][64];
    size_t nown = 0;
    rd r = {data, data + size};
    bool remote = size && (data[0] & 1);
    prof_profile *p = prof_new();
    char to[256];
    snprintf(to, sizeof to, "%s/usr/bin/", root);
    symmap_path pm[] = {{"/remote/", to}};
    symmap_options o = {.binary_root = root, .remote = remote, .path_map = pm, .npath_map = 1};
    symmap *s = p ? symmap_new(p, &o) : NULL;
    if (!s) {
        prof_free(p);
        return 0;
    }
    if (size)
        r.p++;
    int ops = 0;
    while (r.p < r.e && ops++ < 256) {
        unsigned op = (unsigned)take(&r, 1) % 6;
        size_t ni = (size_t)take(&r, 1) % (nnames + nown);
        const char *name = ni < nnames ? names[ni] : own[ni - nnames];
        int pid = (int)(take(&r, 1) % 5) - 1;
        switch (op) {
        case 0: {
            uint64_t start = take(&r, 8), len = take(&r, 3) << 4, pgoff = take(&r, 3) << 4;
            unsigned flags = (unsigned)take(&r, 1);
            symmap_mmap m = {.pid = pid,
                             .start = start,
                             .len = len,
                             .pgoff = pgoff,
                             .path = name,
                             .path_len = strlen(name),
                             .exec = flags & 1,
                             /* only the table's names never change */
                             .borrow = (flags & 2) != 0 && ni < nnames,
                             .dev_known = (flags & 4) != 0,
                             .ino = flags >> 3};
            if (flags & 8) {
                m.build_id = (flags & 16) ? "DEADBEEF" : "abcd";
                m.build_id_len = strlen(m.build_id);
            }
            symmap_add_mmap(s, &m);
            break;
        }
        case 1:
            symmap_add_fork(s, pid, (int)(take(&r, 1) % 5) - 1);
            break;
        case 2:
            symmap_add_exec(s, pid);
            break;
        case 3:
            symmap_add_build_id(s, name, strlen(name), (take(&r, 1) & 1) ? "feed" : "ABCD", 4);
            break;
        case 4: {
            symmap_result res;
            uint64_t addr = take(&r, 1) & 1 ? take(&r, 8) : take(&r, 2);
            symmap_addr_kind kind = (symmap_addr_kind)(take(&r, 1) % 3);
            if (symmap_resolve_as(s, name, strlen(name), addr, pid, kind, &res) == 0 &&
                res.mapping_id > prof_num_mappings(p))
                abort(); /* a mapping that does not exist */
            break;
        }
        default: {
            size_t n = (size_t)take(&r, 1) % (sizeof own[0]);
            char *dst = own[nown < OWN ? nown++ : (size_t)take(&r, 1) % OWN];
            for (size_t i = 0; i < n; i++)
                dst[i] = (char)take(&r, 1);
            dst[n] = '\0';
            break;
        }
        }
    }
    symmap_finish(s);
    for (size_t i = 0; i < symmap_num_warnings(s); i++)
        if (!symmap_warning(s, i)[0])
            abort();
    unsigned char *enc = NULL;
    size_t enclen = 0;
    char err[256];
    if (prof_encode(p, false, &enc, &enclen, err, sizeof err) == 0) {
        prof_profile *back = prof_decode(enc, enclen, err, sizeof err);
        if (!back)
            abort();
        prof_free(back);
    }
    free(enc);
    symmap_free(s);
    prof_free(p);
    return 0;
}
