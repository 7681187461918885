/* The perf.data reader on files built here byte by byte: file and pipe
 * mode, time order across a round, a COMPRESSED record, the header
 * features, the other byte order, an unfinished header, and every prefix
 * and many bit flips of a valid file (which must give the complete
 * records or an error, never a crash; the ASan variant checks memory). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "check.h"
#include "perfdata/convert.h"
#include "perfdata/symtab.h"

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u64(buf *b, uint64_t v)
{
    put(b, &v, 8);
}
static void u32(buf *b, uint32_t v)
{
    put(b, &v, 4);
}
static void hdr(buf *b, uint32_t type, uint16_t misc, uint16_t size)
{
    u32(b, type);
    put(b, &misc, 2);
    put(b, &size, 2);
}

#define ST (1 | 2 | 4 | 32 | 256) /* IP, TID, TIME, CALLCHAIN, PERIOD */

static void attr(buf *b)
{
    unsigned char a[128] = {0};
    uint32_t type = 1, size = 128;
    uint64_t st = ST, flags = 1ull << 18; /* sample_id_all */
    memcpy(a, &type, 4);
    memcpy(a + 4, &size, 4);
    uint64_t period = 1000;
    memcpy(a + 16, &period, 8);
    memcpy(a + 24, &st, 8);
    memcpy(a + 40, &flags, 8);
    put(b, a, sizeof a);
}

/* sample_id trailer for ST: tid (pid, tid), time */
static void trailer(buf *b, uint32_t pid, uint64_t time)
{
    u32(b, pid);
    u32(b, pid);
    u64(b, time);
}

static void sample(buf *b, uint64_t ip, uint32_t pid, uint64_t time)
{
    hdr(b, 9, 2, 8 + 8 + 8 + 8 + 8 + 8 + 3 * 8);
    u64(b, ip);
    u32(b, pid);
    u32(b, pid);
    u64(b, time);
    u64(b, 1000);
    u64(b, 3);
    u64(b, (uint64_t)-512); /* PERF_CONTEXT_USER */
    u64(b, ip);
    u64(b, ip + 0x10);
}

static void records(buf *b)
{
    hdr(b, 3, 0, 8 + 8 + 8 + 16); /* COMM */
    u32(b, 42);
    u32(b, 42);
    put(b, "worker\0\0", 8);
    trailer(b, 42, 100);
    hdr(b, 10, 0, 8 + 64 + 24 + 16); /* MMAP2 */
    u32(b, 42);
    u32(b, 42);
    u64(b, 0x400000);
    u64(b, 0x1000);
    u64(b, 0);
    u32(b, 8);
    u32(b, 1);
    u64(b, 77);
    u64(b, 0);
    u32(b, 5);
    u32(b, 2);
    put(b, "/nonexistent/prog\0\0\0\0\0\0\0", 24);
    trailer(b, 42, 110);
    sample(b, 0x400100, 42, 300); /* out of order inside the round */
    sample(b, 0x400200, 42, 200);
    hdr(b, 68, 0, 8); /* FINISHED_ROUND */
    sample(b, 0x400300, 42, 400);
    hdr(b, 68, 0, 8);
}

/* A COMPRESSED record holding two samples. */
static void compressed(buf *b)
{
    buf in = {0};
    sample(&in, 0x400400, 42, 500);
    sample(&in, 0x400500, 42, 600);
    size_t cap = ZSTD_compressBound(in.n);
    unsigned char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, in.p, in.n, 1);
    hdr(b, 81, 0, (uint16_t)(8 + zn));
    put(b, z, zn);
    free(z);
    free(in.p);
}

static void file_mode(buf *b, bool finished)
{
    buf data = {0};
    records(&data);
    compressed(&data);
    uint64_t attr_off = 104, attr_size = 128 + 16, data_off = attr_off + attr_size;
    u64(b, 0x32454c4946524550ULL);
    u64(b, 104);
    u64(b, attr_size);
    u64(b, attr_off);
    u64(b, attr_size);
    u64(b, data_off);
    u64(b, finished ? data.n : 0);
    u64(b, 0);
    u64(b, 0);
    uint64_t bits[4] = {finished ? 1u << 3 : 0, 0, 0, 0}; /* HOSTNAME */
    put(b, bits, sizeof bits);
    attr(b);
    u64(b, 0); /* no ids */
    u64(b, 0);
    put(b, data.p, data.n);
    if (finished) { /* the feature section table, then the hostname */
        u64(b, b->n + 16);
        u64(b, 4 + 8);
        u32(b, 8);
        put(b, "testhost", 8);
    }
    free(data.p);
}

static void pipe_mode(buf *b)
{
    u64(b, 0x32454c4946524550ULL);
    u64(b, 16);
    hdr(b, 64, 0, 8 + 128 + 8); /* HEADER_ATTR with one id */
    attr(b);
    u64(b, 1);
    records(b);
    compressed(b);
}

typedef struct result {
    int rc; /* -1 open failed, -2 next failed, 0 read to the end */
    size_t samples;
    uint64_t times[8];
    char msg[512];
} result;

static int mem_fd(const buf *b)
{
    int fd = memfd_create("pd", 0);
    if (fd >= 0 && write(fd, b->p, b->n) != (ssize_t)b->n) {
        close(fd);
        return -1;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static result read_all(const buf *b, pd_reader **keep)
{
    result r = {0};
    int fd = mem_fd(b);
    pd_reader *rd = pd_open(fd, "test.data", r.msg, sizeof r.msg);
    if (!rd) {
        r.rc = -1;
        close(fd);
        return r;
    }
    pd_record rec;
    int got;
    while ((got = pd_next(rd, &rec)) == 1)
        if (rec.type == PD_SAMPLE) {
            if (r.samples < 8)
                r.times[r.samples] = rec.u.sample.time;
            r.samples++;
        }
    if (got < 0) {
        r.rc = -2;
        snprintf(r.msg, sizeof r.msg, "%s", pd_error(rd));
    }
    if (keep)
        *keep = rd;
    else
        pd_close(rd);
    close(fd);
    return r;
}

static void test_file_mode(void)
{
    buf b = {0};
    file_mode(&b, true);
    pd_reader *rd;
    result r = read_all(&b, &rd);
    CHECK(r.rc == 0);
    CHECK(r.samples == 5);
    uint64_t want[] = {200, 300, 400, 500, 600}; /* time order */
    for (size_t i = 0; i < 5; i++)
        CHECK(r.times[i] == want[i]);
    CHECK_STR(pd_get_info(rd)->hostname, "testhost");
    CHECK_STR(pd_get_info(rd)->events[0].name, "cpu-clock");
    CHECK(pd_get_counts(rd)->compressed == 1);
    pd_close(rd);
    free(b.p);
}

static void test_pipe_mode(void)
{
    buf b = {0};
    pipe_mode(&b);
    result r = read_all(&b, NULL);
    CHECK(r.rc == 0);
    CHECK(r.samples == 5);
    CHECK(r.times[0] == 200 && r.times[4] == 600);
    free(b.p);
}

static void test_other_byte_order(void)
{
    buf b = {0};
    u64(&b, __builtin_bswap64(0x32454c4946524550ULL));
    u64(&b, __builtin_bswap64(104));
    result r = read_all(&b, NULL);
    CHECK(r.rc == -1);
    CHECK(strstr(r.msg, "big-endian") != NULL);
    CHECK(strstr(r.msg, "test.data") == r.msg);
    free(b.p);
    buf t = {0};
    put(&t, "not a perf.data file", 20);
    r = read_all(&t, NULL);
    CHECK(r.rc == -1 && strstr(r.msg, "not a perf.data file") != NULL);
    free(t.p);
}

static void test_unfinished(void)
{
    buf b = {0};
    file_mode(&b, false);
    pd_reader *rd;
    result r = read_all(&b, &rd);
    CHECK(r.rc == 0);
    CHECK(r.samples == 5);
    CHECK(pd_get_info(rd)->unfinished);
    CHECK(pd_warning_count(rd) == 1 && strstr(pd_warning(rd, 0), "never finished"));
    pd_close(rd);
    free(b.p);
}

/* Many rounds, megabytes of records (so that they span several blocks),
 * each round two runs in time order (two CPUs) and a record that belongs
 * to the next round; plain, and each round in a COMPRESSED record. Every
 * sample comes out once, intact (its ip follows from its time), in time
 * order. */
static void test_many_rounds(void)
{
    for (int z = 0; z < 2; z++) {
        buf b = {0};
        u64(&b, 0x32454c4946524550ULL);
        u64(&b, 16);
        hdr(&b, 64, 0, 8 + 128 + 8);
        attr(&b);
        u64(&b, 1);
        size_t want = 0;
        for (uint64_t round = 0; round < 40; round++) {
            buf r = {0};
            uint64_t base = round * 10000;
            for (int cpu = 0; cpu < 2; cpu++)
                for (uint64_t i = 0; i < 500; i++) {
                    uint64_t t = base + 2 * i + (uint64_t)cpu;
                    sample(&r, 0x400000 + t, 42, t);
                }
            sample(&r, 0x400000 + base + 10001, 42, base + 10001);
            want += 1001;
            if (z) {
                size_t cap = ZSTD_compressBound(r.n);
                unsigned char *c = malloc(cap);
                size_t cn = ZSTD_compress(c, cap, r.p, r.n, 1);
                CHECK(!ZSTD_isError(cn) && cn + 8 < 65536);
                hdr(&b, 81, 0, (uint16_t)(8 + cn));
                put(&b, c, cn);
                free(c);
            } else {
                put(&b, r.p, r.n);
            }
            hdr(&b, 68, 0, 8);
            free(r.p);
        }
        CHECK(b.n > (z ? 0 : (size_t)2 << 20));
        int fd = mem_fd(&b);
        char err[256];
        pd_reader *rd = pd_open(fd, "rounds", err, sizeof err);
        CHECK(rd != NULL);
        pd_record rec;
        size_t n = 0;
        uint64_t last = 0;
        bool ordered = true, intact = true;
        int got;
        while (rd && (got = pd_next(rd, &rec)) == 1) {
            if (rec.type != PD_SAMPLE)
                continue;
            ordered &= rec.u.sample.time >= last;
            intact &= rec.u.sample.ip == 0x400000 + rec.u.sample.time &&
                      pd_u64(rec.u.sample.chain + 8) == rec.u.sample.ip;
            last = rec.u.sample.time;
            n++;
        }
        CHECK_MSG(rd && got == 0, z ? "compressed" : "plain");
        CHECK_MSG(n == want, z ? "compressed" : "plain");
        CHECK_MSG(ordered && intact, z ? "compressed" : "plain");
        pd_close(rd);
        close(fd);
        free(b.p);
    }
}

/* Every prefix of both files: never more samples than the whole, an error
 * or the records before the cut. */
static void test_every_prefix(void)
{
    for (int mode = 0; mode < 2; mode++) {
        buf b = {0};
        if (mode)
            pipe_mode(&b);
        else
            file_mode(&b, false);
        for (size_t n = 0; n < b.n; n++) {
            buf cut = {b.p, n, n};
            result r = read_all(&cut, NULL);
            CHECK_MSG(r.samples <= 5, mode ? "pipe" : "file");
            CHECK_MSG(r.rc != 0 || n >= 16 || mode == 0, "short pipe input");
        }
        free(b.p);
    }
}

/* Bit flips: any outcome but a crash; converting them too. */
static void test_bit_flips(void)
{
    buf b = {0};
    pipe_mode(&b);
    unsigned seed = 1;
    for (int k = 0; k < 1000; k++) {
        buf f = {malloc(b.n), b.n, b.n};
        memcpy(f.p, b.p, b.n);
        for (int j = 0; j < 1 + k % 3; j++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % f.n;
            f.p[at] ^= (unsigned char)(1u << ((seed >> 4) % 8));
        }
        result r = read_all(&f, NULL);
        CHECK(r.samples <= 64);
        int fd = mem_fd(&f);
        char err[256];
        pd_reader *rd = pd_open(fd, "flip", err, sizeof err);
        if (rd) {
            pd_syms_options so = {.remote = true};
            pd_syms *s = pd_syms_new(&so, pd_get_info(rd));
            ps_options po = {.keep_pid = true};
            ps_parser *p = ps_new(&po);
            pd_convert(rd, s, p, NULL, err, sizeof err);
            ps_finish(p);
            ps_free(p);
            pd_syms_free(s);
            pd_close(rd);
        }
        close(fd);
        free(f.p);
    }
    free(b.p);
}

static void test_convert(void)
{
    buf b = {0};
    file_mode(&b, true);
    int fd = mem_fd(&b);
    char err[256];
    pd_reader *rd = pd_open(fd, "conv", err, sizeof err);
    CHECK(rd != NULL);
    pd_syms_options so = {.remote = true};
    pd_syms *s = pd_syms_new(&so, pd_get_info(rd));
    ps_options po = {.keep_pid = true};
    ps_parser *p = ps_new(&po);
    CHECK(pd_convert(rd, s, p, NULL, err, sizeof err) == PD_CONVERT_OK);
    CHECK(ps_finish(p) == PS_OK);
    ps_fold_options fo = {0};
    char *out;
    size_t len;
    CHECK(ps_folded(p, &fo, &out, &len) == PS_OK);
    /* the thread's COMM names the root; the unreadable program's frames
     * are [prog] (perf's [unknown] symbol, the DSO's file name) */
    CHECK(len > 0 && strncmp(out, "worker;[prog];[prog] 5000\n", len) == 0);
    free(out);
    ps_free(p);
    pd_syms_free(s);
    pd_close(rd);
    close(fd);
    free(b.p);
}

/* kallsyms with perf's rules: types other than T/W/D/B dropped, of two
 * symbols at one address the one that reaches the next kept, a symbol
 * reaching the next (the last core one only to the next page before the
 * modules', the very last a page past its own), module symbols named
 * "name\t[module]", and a last line without newline (cut off) ignored. */
static void test_kallsyms(void)
{
    static const char text[] = "ffffffff81000000 T _text\n"
                               "ffffffff81000000 T startup_64\n"
                               "ffffffff81001000 t helper\n"
                               "ffffffff81002000 r some_rodata\n"
                               "ffffffff81003000 T last_core\n"
                               "ffffffffc0001000 t mod_fn\t[kvm]\n"
                               "ffffffffc0002000 t mod_fn2\t[kvm]\n"
                               "ffffffffc0009000 t cut\t[kvm]";
    char path[] = "/tmp/perfgo-test-kallsyms-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    char err[256];
    pd_symtab *t = pd_symtab_kallsyms(path, err, sizeof err);
    unlink(path);
    CHECK(t != NULL);
    if (!t)
        return;
    static const struct {
        uint64_t addr;
        const char *name; /* NULL: none */
        uint64_t start;
    } want[] = {
        {0xffffffff81000010, "startup_64", 0xffffffff81000000},
        {0xffffffff81002500, "helper", 0xffffffff81001000},
        {0xffffffff81003fff, "last_core", 0xffffffff81003000},
        {0xffffffff81004000, NULL, 0},
        {0xffffffffc0001010, "mod_fn\t[kvm]", 0xffffffffc0001000},
        {0xffffffffc0002fff, "mod_fn2\t[kvm]", 0xffffffffc0002000},
        {0xffffffffc0003000, NULL, 0},
        {0xffffffffc0009000, NULL, 0},
        {0xffffffff80000000, NULL, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        uint64_t start = 0;
        size_t len = 0;
        const char *name = pd_symtab_find(t, want[i].addr, &start, &len);
        char got[64] = "";
        if (name)
            snprintf(got, sizeof got, "%.*s", (int)len, name);
        CHECK_MSG(want[i].name ? name && strcmp(got, want[i].name) == 0 : name == NULL,
                  want[i].name ? want[i].name : got);
        CHECK_MSG(!want[i].name || start == want[i].start, got);
    }
    pd_symtab_free(t);
}

int main(void)
{
    RUN(test_file_mode);
    RUN(test_pipe_mode);
    RUN(test_other_byte_order);
    RUN(test_unfinished);
    RUN(test_many_rounds);
    RUN(test_every_prefix);
    RUN(test_bit_flips);
    RUN(test_convert);
    RUN(test_kallsyms);
    return CHECK_DONE();
}
