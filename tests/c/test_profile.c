/* Profile tables, pprof encode/decode, gzip, corrupt input, folded output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "profile.pb-c.h"
#include "profile/profile.h"

/* A small profile: 2 sample types, 2 mappings, 3 functions, 3 locations
 * (one with an inlined frame), samples with and without labels. */
static prof_profile *make_profile(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_add_sample_type(p, "samples", "count") == 0);
    CHECK(prof_add_sample_type(p, "cpu-clock", "nanoseconds") == 1);
    CHECK(prof_set_default_sample_type(p, "cpu-clock") == 0);
    CHECK(prof_set_period(p, "cpu-clock", "nanoseconds", 250000) == 0);
    prof_set_time(p, 1700000000000000000LL, 5000000000LL);
    CHECK(prof_add_comment(p, "perf-version:6.1", 16) == 0);
    prof_mapping_spec ms = {.limit = PROF_NO_LIMIT,
                            .file = "/usr/bin/app",
                            .file_len = 12,
                            .build_id = "abcd",
                            .build_id_len = 4};
    uint64_t m1 = prof_mapping(p, &ms);
    prof_mapping_spec mk = {.start = 0xffffffff81000000ULL,
                            .limit = 0xffffffff82000000ULL,
                            .file = "[kernel.kallsyms]_text",
                            .file_len = 22,
                            .has_functions = true};
    uint64_t m2 = prof_mapping(p, &mk);
    uint64_t fmain = prof_function(p, "main", 4, "/src/main.c", 11);
    uint64_t fwork = prof_function(p, "work;x", 6, "/src/work.c", 11);
    uint64_t fk = prof_function(p, "do_syscall_64", 13, NULL, 0);
    prof_line l1[] = {{fwork, 20}, {fmain, 7}}; /* work inlined into main */
    prof_line l2[] = {{fmain, 9}};
    prof_line l3[] = {{fk, 0}};
    uint64_t a = prof_location(p, m1, 0x401000, l1, 2);
    uint64_t b = prof_location(p, m1, 0x401100, l2, 1);
    uint64_t k = prof_location(p, m2, 0xffffffff81001234ULL, l3, 1);
    CHECK(a == 1 && b == 2 && k == 3);
    uint64_t s1[] = {k, a, b};
    int64_t v1[] = {1, 250000};
    prof_label lab[] = {{.key = "comm", .str = "app worker", .str_len = 10},
                        {.key = "pid", .num = 42, .num_unit = "pid"},
                        {.key = "cpu", .num = 0, .num_unit = "cpu"}};
    CHECK(prof_add_sample(p, s1, 3, v1, lab, 3) == 0);
    CHECK(prof_add_sample(p, s1, 3, v1, lab, 3) == 0);
    uint64_t s2[] = {b};
    int64_t v2[] = {1, 100};
    CHECK(prof_add_sample(p, s2, 1, v2, NULL, 0) == 0);
    return p;
}

static void test_dedup_and_merge(void)
{
    prof_profile *p = make_profile();
    CHECK(prof_num_mappings(p) == 2);
    CHECK(prof_num_functions(p) == 3);
    CHECK(prof_num_locations(p) == 3);
    CHECK(prof_num_samples(p) == 2); /* the identical stack+labels merged */
    CHECK(prof_total(p, 0) == 3);
    CHECK(prof_total(p, 1) == 500100);

    /* Same (name, file) -> same function; other file -> new one. */
    CHECK(prof_function(p, "main", 4, "/src/main.c", 11) == 1);
    CHECK(prof_function(p, "main", 4, "/src/other.c", 12) == 4);
    /* Same (mapping, address) -> same location whatever the lines. */
    prof_line l[] = {{4, 1}};
    CHECK(prof_location(p, 1, 0x401000, l, 1) == 1);
    CHECK(prof_location(p, 2, 0x401000, l, 1) == 4);
    /* Address 0: dedup on lines. */
    uint64_t z1 = prof_location(p, 0, 0, l, 1);
    CHECK(z1 == 5 && prof_location(p, 0, 0, l, 1) == z1);
    /* Identical mapping fields -> same id. */
    prof_mapping_spec ms = {.limit = PROF_NO_LIMIT,
                            .file = "/usr/bin/app",
                            .file_len = 12,
                            .build_id = "abcd",
                            .build_id_len = 4};
    CHECK(prof_mapping(p, &ms) == 1);
    ms.has_functions = true;
    CHECK(prof_mapping(p, &ms) == 3);
    /* Invalid references are refused, not stored. */
    prof_line bad[] = {{99, 1}};
    CHECK(prof_location(p, 1, 0x5000, bad, 1) == 0);
    CHECK(prof_location(p, 99, 0x5000, l, 1) == 0);
    uint64_t badstack[] = {77};
    int64_t v[] = {1, 1};
    CHECK(prof_add_sample(p, badstack, 1, v, NULL, 0) == -1);
    /* Labels in another order are another label set: a new sample. */
    uint64_t s[] = {1};
    prof_label a[] = {{.key = "comm", .str = "x", .str_len = 1}, {.key = "tid", .num = 1}};
    prof_label b[] = {{.key = "tid", .num = 1}, {.key = "comm", .str = "x", .str_len = 1}};
    size_t before = prof_num_samples(p);
    CHECK(prof_add_sample(p, s, 1, v, a, 2) == 0);
    CHECK(prof_add_sample(p, s, 1, v, a, 2) == 0);
    CHECK(prof_num_samples(p) == before + 1);
    CHECK(prof_add_sample(p, s, 1, v, b, 2) == 0);
    CHECK(prof_num_samples(p) == before + 2);
    /* Sample types are fixed once samples exist. */
    CHECK(prof_add_sample_type(p, "page-faults", "count") == -1);
    CHECK(prof_add_sample_type(p, "samples", "count") == 0);
    prof_free(p);
}

static void test_many_samples_merge_by_hash(void)
{
    prof_profile *p = prof_new();
    prof_add_sample_type(p, "samples", "count");
    uint64_t f = prof_function(p, "f", 1, NULL, 0);
    enum { NLOC = 2000, NS = 50000 };
    for (uint64_t i = 0; i < NLOC; i++) {
        prof_line l = {f, (int64_t)i};
        CHECK(prof_location(p, 0, 0x1000 + i, &l, 1) == i + 1);
    }
    uint64_t st[8];
    int64_t one = 1;
    for (uint64_t i = 0; i < NS; i++) {
        uint64_t x = (i * 2654435761u) % 5000; /* 5000 distinct stacks */
        st[0] = x % NLOC + 1;                  /* (st[0], st[1]) is unique per x */
        st[1] = x / NLOC + 1;
        for (int d = 2; d < 8; d++)
            st[d] = (x * 7 + (uint64_t)d * 13) % NLOC + 1;
        if (prof_add_sample(p, st, 8, &one, NULL, 0) != 0) {
            CHECK(!"prof_add_sample failed");
            break;
        }
    }
    CHECK(prof_num_samples(p) == 5000);
    CHECK(prof_total(p, 0) == NS);
    prof_free(p);
}

static void same_profile(const prof_profile *a, const prof_profile *b)
{
    CHECK(prof_num_samples(a) == prof_num_samples(b));
    CHECK(prof_num_locations(a) == prof_num_locations(b));
    CHECK(prof_num_functions(a) == prof_num_functions(b));
    CHECK(prof_num_mappings(a) == prof_num_mappings(b));
    CHECK(prof_num_sample_types(a) == prof_num_sample_types(b));
    for (size_t i = 0; i < prof_num_sample_types(a); i++)
        CHECK(prof_total(a, i) == prof_total(b, i));
    uint64_t t1, u1, t2, u2;
    int64_t p1, p2, tn1, dn1, tn2, dn2;
    prof_period(a, &t1, &u1, &p1);
    prof_period(b, &t2, &u2, &p2);
    CHECK_STR(prof_str(a, t1, NULL), prof_str(b, t2, NULL));
    CHECK_STR(prof_str(a, u1, NULL), prof_str(b, u2, NULL));
    CHECK(p1 == p2);
    prof_time(a, &tn1, &dn1);
    prof_time(b, &tn2, &dn2);
    CHECK(tn1 == tn2 && dn1 == dn2);
    CHECK_STR(prof_str(a, prof_default_sample_type(a), NULL),
              prof_str(b, prof_default_sample_type(b), NULL));
    CHECK(prof_num_comments(a) == prof_num_comments(b));
    for (size_t i = 0; i < prof_num_comments(a) && i < prof_num_comments(b); i++)
        CHECK_STR(prof_str(a, prof_comment(a, i), NULL), prof_str(b, prof_comment(b, i), NULL));
    for (uint64_t id = 1; id <= prof_num_mappings(a); id++) {
        prof_mapping_info x, y;
        CHECK(prof_get_mapping(a, id, &x) && prof_get_mapping(b, id, &y));
        CHECK(x.start == y.start && x.limit == y.limit && x.offset == y.offset);
        CHECK(x.has_functions == y.has_functions);
        CHECK_STR(prof_str(a, x.file, NULL), prof_str(b, y.file, NULL));
        CHECK_STR(prof_str(a, x.build_id, NULL), prof_str(b, y.build_id, NULL));
    }
    for (uint64_t id = 1; id <= prof_num_locations(a); id++) {
        prof_location_info x, y;
        CHECK(prof_get_location(a, id, &x) && prof_get_location(b, id, &y));
        CHECK(x.mapping_id == y.mapping_id && x.address == y.address && x.nlines == y.nlines);
        for (size_t k = 0; k < x.nlines && k < y.nlines; k++) {
            prof_function_info fx, fy;
            prof_get_function(a, x.lines[k].function_id, &fx);
            prof_get_function(b, y.lines[k].function_id, &fy);
            CHECK_STR(prof_str(a, fx.name, NULL), prof_str(b, fy.name, NULL));
            CHECK_STR(prof_str(a, fx.filename, NULL), prof_str(b, fy.filename, NULL));
            CHECK(x.lines[k].line == y.lines[k].line);
        }
    }
    for (size_t i = 0; i < prof_num_samples(a); i++) {
        prof_sample_info x, y;
        CHECK(prof_get_sample(a, i, &x) && prof_get_sample(b, i, &y));
        CHECK(x.nlocations == y.nlocations && x.nlabels == y.nlabels);
        CHECK(memcmp(x.values, y.values, prof_num_sample_types(a) * sizeof(int64_t)) == 0);
        for (size_t k = 0; k < x.nlocations && k < y.nlocations; k++)
            CHECK(x.locations[k] == y.locations[k]);
        for (size_t k = 0; k < x.nlabels && k < y.nlabels; k++) {
            CHECK_STR(prof_str(a, x.labels[k].key, NULL), prof_str(b, y.labels[k].key, NULL));
            CHECK_STR(prof_str(a, x.labels[k].str, NULL), prof_str(b, y.labels[k].str, NULL));
            CHECK(x.labels[k].num == y.labels[k].num);
            CHECK_STR(prof_str(a, x.labels[k].num_unit, NULL),
                      prof_str(b, y.labels[k].num_unit, NULL));
        }
    }
}

static void test_round_trip(void)
{
    prof_profile *p = make_profile();
    char err[256];
    for (int gz = 0; gz < 2; gz++) {
        unsigned char *buf;
        size_t len;
        CHECK(prof_encode(p, gz, &buf, &len, err, sizeof err) == 0);
        CHECK(len > 2 && (gz == (buf[0] == 0x1f && buf[1] == 0x8b)));
        prof_profile *q = prof_decode(buf, len, err, sizeof err);
        CHECK(q != NULL);
        if (q) {
            same_profile(p, q);
            /* And again: encode(decode(x)) decodes to the same tables. */
            unsigned char *buf2;
            size_t len2;
            CHECK(prof_encode(q, gz, &buf2, &len2, err, sizeof err) == 0);
            prof_profile *r = prof_decode(buf2, len2, err, sizeof err);
            CHECK(r != NULL);
            if (r)
                same_profile(q, r);
            prof_free(r);
            free(buf2);
        }
        prof_free(q);
        free(buf);
    }
    prof_free(p);
}

static void test_write_and_read_file(void)
{
    prof_profile *p = make_profile();
    char dir[] = "/tmp/perfgo-test-XXXXXX", path[128], err[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/p.pb.gz", dir);
    CHECK(prof_write_file(p, path, true, err, sizeof err) == 0);
    prof_profile *q = prof_read_file(path, err, sizeof err);
    CHECK(q != NULL);
    if (q)
        same_profile(p, q);
    prof_free(q);
    /* Missing files and unwritable paths name the file. */
    snprintf(path, sizeof path, "%s/missing.pb.gz", dir);
    CHECK(prof_read_file(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "missing.pb.gz") != NULL);
    snprintf(path, sizeof path, "%s/no/such/dir/p.pb.gz", dir);
    CHECK(prof_write_file(p, path, true, err, sizeof err) == -1);
    CHECK(strstr(err, "no/such/dir") != NULL);
    snprintf(path, sizeof path, "%s/p.pb.gz", dir);
    unlink(path);
    rmdir(dir);
    prof_free(p);
}

/* Output paths that are no regular file are written in place, never
 * replaced: a FIFO, a device (perfgo convert -o /dev/null as root once
 * replaced /dev/null with a file), a symbolic link (its target is
 * replaced), a directory (an error naming it). */
static void test_write_special_paths(void)
{
    prof_profile *p = make_profile();
    unsigned char *want;
    size_t wlen;
    char dir[] = "/tmp/perfgo-test-XXXXXX", path[160], target[160], err[512];
    CHECK(prof_encode(p, true, &want, &wlen, err, sizeof err) == 0);
    CHECK(wlen < 60000); /* fits in a pipe's buffer */
    CHECK(mkdtemp(dir) != NULL);
    struct stat st;

    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600) == 0);
    int rfd = open(path, O_RDWR | O_NONBLOCK); /* a reader, so that opening for write succeeds */
    CHECK(rfd >= 0);
    CHECK(prof_write_file(p, path, true, err, sizeof err) == 0);
    CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
    unsigned char *got = malloc(wlen + 1);
    CHECK(read(rfd, got, wlen + 1) == (ssize_t)wlen && memcmp(got, want, wlen) == 0);
    close(rfd);
    unlink(path);

    if (geteuid() == 0) {
        snprintf(path, sizeof path, "%s/null", dir);
        CHECK(mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0);
        CHECK(prof_write_file(p, path, true, err, sizeof err) == 0);
        CHECK(stat(path, &st) == 0 && S_ISCHR(st.st_mode));
        unlink(path);
    }

    snprintf(target, sizeof target, "%s/target.pb.gz", dir);
    snprintf(path, sizeof path, "%s/link.pb.gz", dir);
    CHECK(symlink("target.pb.gz", path) == 0);
    for (int round = 0; round < 2; round++) { /* the target made, then replaced */
        CHECK(prof_write_file(p, path, true, err, sizeof err) == 0);
        CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
        FILE *f = fopen(target, "rb");
        CHECK(f != NULL);
        if (f) {
            CHECK(fread(got, 1, wlen + 1, f) == wlen && memcmp(got, want, wlen) == 0);
            fclose(f);
        }
    }
    unlink(path);
    unlink(target);

    CHECK(prof_write_file(p, dir, true, err, sizeof err) == -1);
    CHECK(strstr(err, dir) != NULL);
    CHECK(rmdir(dir) == 0); /* nothing left behind */
    free(got);
    free(want);
    prof_free(p);
}

/* Files larger than one read chunk (64 KiB), gzip'd and not. */
static void test_read_large_file(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_add_sample_type(p, "samples", "count") == 0);
    char name[64];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* names that do not compress */
        int n = snprintf(name, sizeof name, "f%016llx", (unsigned long long)x);
        prof_line l = {prof_function(p, name, (size_t)n, NULL, 0), i};
        uint64_t loc = prof_location(p, 0, 0x1000 + (uint64_t)i, &l, 1);
        int64_t v = i;
        CHECK(prof_add_sample(p, &loc, 1, &v, NULL, 0) == 0);
    }
    char dir[] = "/tmp/perfgo-test-XXXXXX", path[128], err[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/big.pb.gz", dir);
    for (int gz = 0; gz < 2; gz++) {
        CHECK(prof_write_file(p, path, gz, err, sizeof err) == 0);
        FILE *f = fopen(path, "rb");
        CHECK(f && fseek(f, 0, SEEK_END) == 0 && ftell(f) > 4 * 65536);
        if (f)
            fclose(f);
        prof_profile *q = prof_read_file(path, err, sizeof err);
        CHECK(q != NULL);
        if (q)
            same_profile(p, q);
        else
            fprintf(stderr, "%s\n", err);
        prof_free(q);
    }
    unlink(path);
    rmdir(dir);
    prof_free(p);
}

static prof_profile *decode_msg(Perftools__Profiles__Profile *pb, char *err, size_t errlen)
{
    size_t n = perftools__profiles__profile__get_packed_size(pb);
    unsigned char *buf = malloc(n + 1);
    perftools__profiles__profile__pack(pb, buf);
    prof_profile *p = prof_decode(buf, n, err, errlen);
    free(buf);
    return p;
}

static void test_corrupt_input(void)
{
    char err[256];
    prof_profile *p = make_profile();
    unsigned char *buf;
    size_t len;
    CHECK(prof_encode(p, true, &buf, &len, err, sizeof err) == 0);
    /* Truncated gzip. */
    CHECK(prof_decode(buf, len / 2, err, sizeof err) == NULL);
    CHECK(strstr(err, "gzip") != NULL);
    /* A flipped byte in the deflate data (CRC or data error). */
    buf[len / 2] ^= 0x55;
    CHECK(prof_decode(buf, len, err, sizeof err) == NULL);
    free(buf);
    /* Not a protobuf at all. */
    const char *text = "this is not a profile at all\n";
    CHECK(prof_decode((const unsigned char *)text, strlen(text), err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
    /* Empty input. */
    CHECK(prof_decode((const unsigned char *)"", 0, err, sizeof err) == NULL);
    prof_free(p);

    /* Hand-made messages that pprof rejects. */
    Perftools__Profiles__Profile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
    char *strs[] = {"x", "samples", "count"};
    pb.n_string_table = 3;
    pb.string_table = strs;
    CHECK(decode_msg(&pb, err, sizeof err) == NULL);
    CHECK(strstr(err, "string_table[0]") != NULL);
    strs[0] = "";

    Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    vt.type = 1;
    vt.unit = 2;
    Perftools__Profiles__ValueType *vtp[] = {&vt};
    pb.n_sample_type = 1;
    pb.sample_type = vtp;
    Perftools__Profiles__Sample s = PERFTOOLS__PROFILES__SAMPLE__INIT;
    int64_t vals[] = {1, 2};
    uint64_t locid[] = {1};
    s.n_value = 2;
    s.value = vals;
    Perftools__Profiles__Sample *sp[] = {&s};
    pb.n_sample = 1;
    pb.sample = sp;
    CHECK(decode_msg(&pb, err, sizeof err) == NULL);
    CHECK(strstr(err, "2 values vs. 1 types") != NULL);
    s.n_value = 1;
    s.n_location_id = 1;
    s.location_id = locid;
    CHECK(decode_msg(&pb, err, sizeof err) == NULL);
    CHECK(strstr(err, "nil location") != NULL);

    Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT;
    Perftools__Profiles__Location *locp[] = {&loc, &loc};
    pb.n_location = 1;
    pb.location = locp;
    CHECK(decode_msg(&pb, err, sizeof err) == NULL); /* id 0 */
    CHECK(strstr(err, "reserved id 0") != NULL);
    loc.id = 1;
    pb.n_location = 2;
    CHECK(decode_msg(&pb, err, sizeof err) == NULL);
    CHECK(strstr(err, "multiple locations") != NULL);
    pb.n_location = 1;
    Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT;
    line.function_id = 5;
    Perftools__Profiles__Line *linep[] = {&line};
    loc.n_line = 1;
    loc.line = linep;
    CHECK(decode_msg(&pb, err, sizeof err) == NULL);
    CHECK(strstr(err, "nil function") != NULL);
    loc.n_line = 0;
    vt.unit = 9; /* string index out of range */
    CHECK(decode_msg(&pb, err, sizeof err) == NULL);
    CHECK(strstr(err, "out of range") != NULL);
    vt.unit = 2;
    /* Now valid: one sample at one unmapped location. */
    prof_profile *ok = decode_msg(&pb, err, sizeof err);
    CHECK(ok != NULL);
    if (ok) {
        CHECK(prof_num_samples(ok) == 1 && prof_total(ok, 0) == 1);
        prof_free(ok);
    }
}

/* Every single-byte change or truncation of a valid encoding either
 * decodes to a valid profile or fails with a message; never crashes (the
 * ASan build checks the memory side). */
static void test_mutations_never_crash(void)
{
    prof_profile *p = make_profile();
    unsigned char *buf;
    size_t len;
    char err[256];
    CHECK(prof_encode(p, false, &buf, &len, err, sizeof err) == 0);
    unsigned char *m = malloc(len);
    unsigned seed = 12345;
    int decoded = 0, refused = 0;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(m, buf, len);
        seed = seed * 1103515245u + 12345u;
        size_t at = (seed >> 8) % len;
        size_t n = len;
        if (iter % 4 == 0)
            n = at; /* truncate */
        else
            m[at] = (unsigned char)(seed >> 20);
        err[0] = '\0';
        prof_profile *q = prof_decode(m, n, err, sizeof err);
        if (q) {
            decoded++;
            unsigned char *b2;
            size_t l2;
            CHECK(prof_encode(q, true, &b2, &l2, err, sizeof err) == 0);
            free(b2);
            prof_free(q);
        } else {
            refused++;
            CHECK(err[0] != '\0');
        }
    }
    CHECK(decoded > 0 && refused > 0);
    free(m);
    free(buf);
    prof_free(p);
}

static void test_folded(void)
{
    prof_profile *p = make_profile();
    char *out;
    size_t len;
    CHECK(prof_encode_folded(p, 1, &out, &len) == 0);
    /* Root = comm with spaces as '_', then root->leaf, the inlined work
     * expanded after main, ';' in names as ':'; the no-label sample has no
     * comm root. Sorted bytewise. */
    const char *want = "app_worker;main;main;work:x;do_syscall_64 500000\n"
                       "main 100\n";
    CHECK(len == strlen(want));
    CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
    if (len != strlen(want) || memcmp(out, want, len) != 0)
        fprintf(stderr, "got:\n%.*s", (int)len, out);
    free(out);
    CHECK(prof_encode_folded(p, 0, &out, &len) == 0);
    CHECK(strstr(out, "do_syscall_64 2\n") != NULL && strstr(out, "main 1\n") != NULL);
    free(out);
    CHECK(prof_encode_folded(p, 7, &out, &len) == -1);
    prof_free(p);
}

/* Merged values and totals saturate instead of overflowing. */
static void test_values_saturate(void)
{
    prof_profile *p = make_profile();
    uint64_t st[] = {1};
    int64_t big[] = {INT64_MAX - 1, INT64_MIN + 1};
    int64_t more[] = {5, -5};
    CHECK(prof_add_sample(p, st, 1, big, NULL, 0) == 0);
    CHECK(prof_add_sample(p, st, 1, more, NULL, 0) == 0);
    prof_sample_info si;
    CHECK(prof_get_sample(p, prof_num_samples(p) - 1, &si));
    CHECK(si.values[0] == INT64_MAX && si.values[1] == INT64_MIN);
    CHECK(prof_total(p, 0) == INT64_MAX && prof_total(p, 1) == INT64_MIN + 500100);
    prof_free(p);
}

/* A sample with no locations and no comm label folds to nothing, also
 * when it is the only one (no memcpy/memcmp on a NULL buffer: the asan
 * build aborts on that), and equal lines add up without wrapping. */
static void test_folded_empty_and_huge(void)
{
    prof_profile *p = prof_new();
    CHECK(p && prof_add_sample_type(p, "samples", "count") == 0);
    int64_t v[] = {5};
    CHECK(prof_add_sample(p, NULL, 0, v, NULL, 0) == 0);
    char *out = NULL;
    size_t len = 1;
    CHECK(prof_encode_folded(p, 0, &out, &len) == 0);
    CHECK(len == 0);
    free(out);
    uint64_t f1 = prof_function(p, "f", 1, NULL, 0);
    prof_line ln = {f1, 0};
    uint64_t l1 = prof_location(p, 0, 0x10, &ln, 1), l2 = prof_location(p, 0, 0x20, &ln, 1);
    int64_t big[] = {INT64_MAX - 1};
    /* two stacks that fold to the same line "f": their sum saturates */
    CHECK(prof_add_sample(p, &l1, 1, big, NULL, 0) == 0);
    CHECK(prof_add_sample(p, &l2, 1, big, NULL, 0) == 0);
    CHECK(prof_encode_folded(p, 0, &out, &len) == 0);
    const char *want = "f 9223372036854775807\n";
    CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
    free(out);
    prof_free(p);
}

/* ---- the wire format, byte by byte ---- */

typedef struct wbuf {
    unsigned char b[512];
    size_t n;
} wbuf;

static void w_varint(wbuf *w, uint64_t v)
{
    do {
        w->b[w->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void w_key(wbuf *w, unsigned field, unsigned wt)
{
    w_varint(w, (uint64_t)field << 3 | wt);
}

static void w_bytes(wbuf *w, unsigned field, const void *s, size_t n)
{
    w_key(w, field, 2);
    w_varint(w, n);
    memcpy(w->b + w->n, s, n);
    w->n += n;
}

static void w_msg(wbuf *w, unsigned field, const wbuf *m)
{
    w_bytes(w, field, m->b, m->n);
}

static void w_int(wbuf *w, unsigned field, uint64_t v)
{
    w_key(w, field, 0);
    w_varint(w, v);
}

/* What protobuf accepts besides what protobuf-c writes: unpacked repeated
 * fields, unknown fields of every wire type, the string table after its
 * users, a singular message given twice (its fields merge), the last of a
 * repeated scalar winning. */
static void test_decode_wire_variants(void)
{
    wbuf w = {.n = 0}, m;
    /* sample: location ids unpacked, values packed, an unknown I64 field */
    m.n = 0;
    w_int(&m, 1, 7);
    w_int(&m, 1, 7);
    unsigned char packed[] = {0x96, 0x01}; /* 150 */
    w_bytes(&m, 2, packed, sizeof packed);
    w_key(&m, 9, 1);
    memset(m.b + m.n, 0xee, 8);
    m.n += 8;
    w_msg(&w, 2, &m);
    m.n = 0; /* location 7, one line of function 3 */
    w_int(&m, 1, 7);
    w_int(&m, 3, 0x1234);
    wbuf line = {.n = 0};
    w_int(&line, 1, 3);
    w_int(&line, 2, 42);
    w_msg(&m, 4, &line);
    w_msg(&w, 4, &m);
    m.n = 0; /* function 3: name "f" (string 3) */
    w_int(&m, 1, 3);
    w_int(&m, 2, 3);
    w_msg(&w, 5, &m);
    m.n = 0; /* sample type: samples/count */
    w_int(&m, 1, 1);
    w_int(&m, 2, 2);
    w_msg(&w, 1, &m);
    m.n = 0; /* period_type twice: type from the first, unit from the second */
    w_int(&m, 1, 1);
    w_msg(&w, 11, &m);
    m.n = 0;
    w_int(&m, 2, 2);
    w_msg(&w, 11, &m);
    w_int(&w, 12, 100);
    w_int(&w, 12, 250); /* the last wins */
    w_key(&w, 20, 5);   /* unknown I32 field */
    memset(w.b + w.n, 0, 4);
    w.n += 4;
    w_bytes(&w, 21, "xyz", 3); /* unknown LEN field */
    w_int(&w, 13, 3);          /* comment, unpacked */
    const char *strs[] = {"", "samples", "count", "f"};
    for (size_t i = 0; i < 4; i++)
        w_bytes(&w, 6, strs[i], strlen(strs[i]));
    char err[256] = "";
    prof_profile *p = prof_decode(w.b, w.n, err, sizeof err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(prof_num_samples(p) == 1 && prof_total(p, 0) == 150);
    prof_sample_info si;
    CHECK(prof_get_sample(p, 0, &si) && si.nlocations == 2);
    prof_location_info li;
    CHECK(prof_get_location(p, si.locations[0], &li) && li.address == 0x1234 && li.nlines == 1);
    CHECK(li.nlines == 1 && li.lines[0].line == 42);
    uint64_t pt, pu;
    int64_t period;
    prof_period(p, &pt, &pu, &period);
    CHECK(strcmp(prof_str(p, pt, NULL), "samples") == 0 &&
          strcmp(prof_str(p, pu, NULL), "count") == 0);
    CHECK(period == 250);
    CHECK(prof_num_comments(p) == 1 && strcmp(prof_str(p, prof_comment(p, 0), NULL), "f") == 0);
    prof_free(p);
}

/* Malformed wire data is refused at the byte where it goes wrong. */
static void test_decode_malformed_wire(void)
{
    static const struct {
        unsigned char b[16];
        size_t n;
        const char *want;
    } cases[] = {
        {{0x32, 0x00, 0x60}, 3, "truncated field at byte 2"},       /* varint cut off */
        {{0x32, 0x05, 'a'}, 3, "truncated field at byte 0"},        /* length beyond the end */
        {{0x32, 0x00, 0x08, 0x01}, 4, "wrong wire type at byte 2"}, /* sample_type as a varint */
        {{0x32, 0x00, 0x0b}, 3, "bad field key at byte 2"},         /* a group */
        {{0x32, 0x00, 0x00}, 3, "bad field key at byte 2"},         /* field 0 */
        {{0x32, 0x00, 0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         14,
         "truncated field"}, /* an 11-byte varint */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        prof_profile *p = prof_decode(cases[i].b, cases[i].n, err, sizeof err);
        CHECK_MSG(p == NULL, cases[i].want);
        CHECK_MSG(strstr(err, "malformed protobuf") && strstr(err, cases[i].want), err);
        prof_free(p);
    }
}

/* A gzip bomb: 16 Mi empty strings (32 MiB) in 32 KiB. Past max_size it
 * is refused before it is inflated whole; within it, decoding costs a few
 * bytes per string, not the 40 that one allocation per string costs. */
static void test_decode_bomb(void)
{
    size_t n = (size_t)16 << 20, raw = 2 * n;
    unsigned char *plain = malloc(raw);
    for (size_t i = 0; plain && i < raw; i += 2)
        plain[i] = 0x32, plain[i + 1] = 0;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    CHECK(deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&zs, raw);
    unsigned char *gz = malloc(cap);
    zs.next_in = plain;
    zs.avail_in = (uInt)raw;
    zs.next_out = gz;
    zs.avail_out = (uInt)cap;
    CHECK(plain && gz && deflate(&zs, Z_FINISH) == Z_STREAM_END);
    size_t gzlen = zs.total_out;
    deflateEnd(&zs);
    free(plain);
    CHECK(gzlen < 256 << 10);
    char err[256] = "";
    prof_decode_options small = {.max_size = 8 << 20};
    CHECK(prof_decode_ex(gz, gzlen, &small, err, sizeof err) == NULL);
    CHECK(strstr(err, "inflates to more than 8388608 bytes") != NULL);
#if !defined(__SANITIZE_ADDRESS__)
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
#endif
    prof_profile *p = prof_decode(gz, gzlen, err, sizeof err);
    CHECK(p != NULL && prof_num_strings(p) == 1);
#if !defined(__SANITIZE_ADDRESS__)
    getrusage(RUSAGE_SELF, &ru1);
    /* the inflated 32 MiB, 4 bytes per string, and slack */
    CHECK(ru1.ru_maxrss - ru0.ru_maxrss < 160 * 1024);
    if (ru1.ru_maxrss - ru0.ru_maxrss >= 160 * 1024)
        fprintf(stderr, "peak RSS grew by %ld KiB\n", ru1.ru_maxrss - ru0.ru_maxrss);
#endif
    prof_free(p);
    free(gz);
}

int main(void)
{
    RUN(test_dedup_and_merge);
    RUN(test_many_samples_merge_by_hash);
    RUN(test_round_trip);
    RUN(test_write_and_read_file);
    RUN(test_write_special_paths);
    RUN(test_read_large_file);
    RUN(test_corrupt_input);
    RUN(test_mutations_never_crash);
    RUN(test_folded);
    RUN(test_values_saturate);
    RUN(test_folded_empty_and_huge);
    RUN(test_decode_wire_variants);
    RUN(test_decode_malformed_wire);
    RUN(test_decode_bomb);
    return CHECK_DONE();
}
