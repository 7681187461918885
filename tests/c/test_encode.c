/* The streaming pprof encoder: its bytes equal protobuf-c's packing of the
 * same profile, its gzip inflates to them, and decoding gives back the
 * profile's tables. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "encode_ref.h"
#include "profile.pb-c.h"
#include "profile/profile.h"

/* ---- profiles ---- */

static prof_profile *empty_profile(void)
{
    return prof_new();
}

static prof_profile *types_only_profile(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_add_sample_type(p, "samples", "count") == 0);
    return p;
}

/* Every field the builder API can set, with negative values, labels of
 * each kind, inlined frames, empty stacks and a main mapping that is not
 * the first one. */
static prof_profile *rich_profile(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_add_sample_type(p, "samples", "count") == 0);
    CHECK(prof_add_sample_type(p, "cpu-clock", "nanoseconds") == 1);
    CHECK(prof_add_sample_type(p, "delta", "bytes") == 2);
    CHECK(prof_set_default_sample_type(p, "cpu-clock") == 0);
    CHECK(prof_set_period(p, "cpu-clock", "nanoseconds", 250000) == 0);
    prof_set_time(p, 1700000000000000000LL, -5);
    CHECK(prof_add_comment(p, "perf-version:6.1", 16) == 0);
    CHECK(prof_add_comment(p, "", 0) == 0);
    prof_mapping_spec lib = {.start = 0x7f0000000000ULL,
                             .limit = 0x7f0000100000ULL,
                             .offset = 0x1000,
                             .file = "/lib/libc.so.6",
                             .file_len = 14,
                             .has_filenames = true,
                             .has_line_numbers = true};
    prof_mapping_spec app = {.limit = PROF_NO_LIMIT,
                             .file = "/usr/bin/app",
                             .file_len = 12,
                             .build_id = "abcd",
                             .build_id_len = 4,
                             .has_functions = true,
                             .has_inline_frames = true};
    prof_mapping_spec kern = {.start = 0xffffffff81000000ULL,
                              .limit = 0xffffffff82000000ULL,
                              .file = "[kernel.kallsyms]_text",
                              .file_len = 22,
                              .has_functions = true};
    uint64_t m1 = prof_mapping(p, &lib), m2 = prof_mapping(p, &app), m3 = prof_mapping(p, &kern);
    CHECK(prof_set_main_mapping(p, m2) == 0);
    uint64_t fmain = prof_function(p, "main", 4, "/src/main.c", 11);
    uint64_t fwork = prof_function(p, "work;x", 6, "/src/work.c", 11);
    uint64_t fk = prof_function(p, "do_syscall_64", 13, NULL, 0);
    uint64_t fl = prof_function(p, "memcpy", 6, NULL, 0);
    prof_line l1[] = {{fwork, 20}, {fmain, 7}};
    prof_line l2[] = {{fmain, -3}};
    prof_line l3[] = {{fk, 0}};
    prof_line l4[] = {{fl, 1}};
    uint64_t a = prof_location(p, m2, 0x401000, l1, 2);
    uint64_t b = prof_location(p, m2, 0x401100, l2, 1);
    uint64_t k = prof_location(p, m3, 0xffffffff81001234ULL, l3, 1);
    uint64_t c = prof_location(p, m1, 0x7f0000001000ULL, NULL, 0);
    uint64_t d = prof_location(p, 0, 0, l4, 1);
    uint64_t s1[] = {k, a, b}, s2[] = {b}, s3[] = {c, d, c, a};
    int64_t v1[] = {1, 250000, -1}, v2[] = {1, 100, 0}, v3[] = {0, 0, INT64_MIN};
    prof_label lab[] = {{.key = "comm", .str = "app worker", .str_len = 10},
                        {.key = "pid", .num = 42, .num_unit = "pid"},
                        {.key = "cpu", .num = 0, .num_unit = "cpu"},
                        {.key = "delta", .num = -7}};
    CHECK(prof_add_sample(p, s1, 3, v1, lab, 4) == 0);
    CHECK(prof_add_sample(p, s1, 3, v1, lab, 4) == 0);
    CHECK(prof_add_sample(p, s2, 1, v2, NULL, 0) == 0);
    CHECK(prof_add_sample(p, s3, 4, v3, lab + 1, 1) == 0);
    CHECK(prof_add_sample(p, NULL, 0, v2, lab, 1) == 0);
    CHECK(prof_num_samples(p) == 4);
    return p;
}

/* A profile decoded from a protobuf-c message: it sets what the builder
 * API cannot (drop/keep frames, doc URL, folded locations, a function's
 * system name and start line). */
static prof_profile *decoded_profile(void)
{
    char *strs[] = {"",       "samples",     "count",  "f",    "_Zf", "/f.c", "drop.*",
                    "keep.*", "https://doc", "/bin/x", "note", "key", "val"};
    Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vtp = &vt;
    vt.type = 1;
    vt.unit = 2;
    Perftools__Profiles__Mapping map = PERFTOOLS__PROFILES__MAPPING__INIT, *mapp = &map;
    map.id = 7;
    map.memory_start = 0x400000;
    map.memory_limit = 0x500000;
    map.filename = 9;
    Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT, *fnp = &fn;
    fn.id = 3;
    fn.name = 3;
    fn.system_name = 4;
    fn.filename = 5;
    fn.start_line = 12;
    Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT, *linep = &line;
    line.function_id = 3;
    line.line = 14;
    Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT, *locp = &loc;
    loc.id = 5;
    loc.mapping_id = 7;
    loc.address = 0x401234;
    loc.n_line = 1;
    loc.line = &linep;
    loc.is_folded = true;
    Perftools__Profiles__Label label = PERFTOOLS__PROFILES__LABEL__INIT, *labelp = &label;
    label.key = 11;
    label.str = 12;
    uint64_t ids[] = {5, 5};
    int64_t val = 9;
    Perftools__Profiles__Sample smp = PERFTOOLS__PROFILES__SAMPLE__INIT, *smpp = &smp;
    smp.n_location_id = 2;
    smp.location_id = ids;
    smp.n_value = 1;
    smp.value = &val;
    smp.n_label = 1;
    smp.label = &labelp;
    int64_t comment = 10;
    Perftools__Profiles__Profile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
    pb.n_sample_type = 1;
    pb.sample_type = &vtp;
    pb.n_sample = 1;
    pb.sample = &smpp;
    pb.n_mapping = 1;
    pb.mapping = &mapp;
    pb.n_location = 1;
    pb.location = &locp;
    pb.n_function = 1;
    pb.function = &fnp;
    pb.n_string_table = sizeof strs / sizeof strs[0];
    pb.string_table = strs;
    pb.drop_frames = 6;
    pb.keep_frames = 7;
    pb.doc_url = 8;
    pb.n_comment = 1;
    pb.comment = &comment;
    pb.period = 3;
    size_t n = perftools__profiles__profile__get_packed_size(&pb);
    unsigned char *buf = malloc(n);
    CHECK(buf != NULL);
    if (!buf)
        return NULL;
    perftools__profiles__profile__pack(&pb, buf);
    char err[256];
    prof_profile *p = prof_decode(buf, n, err, sizeof err);
    free(buf);
    CHECK(p != NULL);
    return p;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Many locations (ids of 1 to 3 varint bytes) and stacks whose length
 * prefixes fall on both sides of the 1/2/3-byte boundaries. */
static prof_profile *random_profile(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_add_sample_type(p, "a", "count") == 0);
    CHECK(prof_add_sample_type(p, "b", "nanoseconds") == 1);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    prof_mapping_spec ms = {.start = 0x1000, .limit = 0x7fffffff, .file = "/x", .file_len = 2};
    uint64_t m = prof_mapping(p, &ms);
    char name[32];
    enum { NF = 300, NL = 20000, NS = 1500 };
    for (int i = 0; i < NF; i++) {
        int len = snprintf(name, sizeof name, "fn%d", i);
        CHECK(prof_function(p, name, (size_t)len, i % 3 ? "/a.go" : NULL, i % 3 ? 5 : 0) ==
              (uint64_t)i + 1);
    }
    for (uint64_t i = 0; i < NL; i++) {
        prof_line lines[3];
        size_t nl = rnd(&seed) % 4;
        for (size_t k = 0; k < nl; k++) {
            lines[k].function_id = rnd(&seed) % NF + 1;
            lines[k].line = (int64_t)(rnd(&seed) % 5000);
        }
        CHECK(prof_location(p, i % 5 ? m : 0, 0x1000 + i * 16, lines, nl) == i + 1);
    }
    prof_label pool[] = {{.key = "comm", .str = "a", .str_len = 1},
                         {.key = "comm", .str = "bb", .str_len = 2},
                         {.key = "pid", .num = 1, .num_unit = "pid"},
                         {.key = "pid", .num = 123456789, .num_unit = "pid"}};
    static uint64_t stack[20000];
    for (int i = 0; i < NS; i++) {
        static const size_t base[] = {0, 40, 5400, 0}, span[] = {8, 100, 300, 9000};
        size_t depth = base[i % 4] + rnd(&seed) % span[i % 4];
        for (size_t k = 0; k < depth; k++) {
            uint64_t r = rnd(&seed);
            stack[k] = (r & 1 ? r % 127 : r % NL) + 1;
        }
        int64_t v[2] = {(int64_t)(rnd(&seed) % 3), (int64_t)(rnd(&seed) >> 24) - (1LL << 39)};
        size_t nlab = (size_t)i % 3;
        CHECK(prof_add_sample(p, stack, depth, v, pool + (size_t)i % 2 * 2, nlab) == 0);
    }
    return p;
}

/* ---- checks ---- */

static int gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -1;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    int rc = Z_OK;
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    while (buf && rc == Z_OK) {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        zs.next_out = buf + n;
        zs.avail_out = (uInt)(cap - n);
        rc = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || zs.avail_in != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

static const char *S(const prof_profile *p, uint64_t id)
{
    return prof_str(p, id, NULL);
}

/* Mapping ids of p as the encoder numbers them in the message: the main
 * mapping first, then the others in id order; the decoder keeps that
 * order. */
static uint64_t written_mapping_id(uint64_t main_id, uint64_t id)
{
    if (id == 0 || main_id == 0)
        return id;
    if (id == main_id)
        return 1;
    return id < main_id ? id + 1 : id;
}

static void check_same(const prof_profile *p, uint64_t main_id, const prof_profile *q)
{
    CHECK(prof_num_strings(p) == prof_num_strings(q));
    for (uint64_t i = 0; i < prof_num_strings(p) && i < prof_num_strings(q); i++)
        CHECK_STR(S(p, i), S(q, i));
    CHECK(prof_num_sample_types(p) == prof_num_sample_types(q));
    for (size_t i = 0; i < prof_num_sample_types(p) && i < prof_num_sample_types(q); i++) {
        uint64_t t1, u1, t2, u2;
        prof_sample_type(p, i, &t1, &u1);
        prof_sample_type(q, i, &t2, &u2);
        CHECK(t1 == t2 && u1 == u2);
    }
    CHECK(prof_default_sample_type(p) == prof_default_sample_type(q));
    uint64_t pt1, pu1, pt2, pu2;
    int64_t per1, per2, t1, d1, t2, d2;
    prof_period(p, &pt1, &pu1, &per1);
    prof_period(q, &pt2, &pu2, &per2);
    CHECK(pt1 == pt2 && pu1 == pu2 && per1 == per2);
    prof_time(p, &t1, &d1);
    prof_time(q, &t2, &d2);
    CHECK(t1 == t2 && d1 == d2);
    CHECK(prof_num_comments(p) == prof_num_comments(q));
    for (size_t i = 0; i < prof_num_comments(p) && i < prof_num_comments(q); i++)
        CHECK(prof_comment(p, i) == prof_comment(q, i));

    CHECK(prof_num_mappings(p) == prof_num_mappings(q));
    for (uint64_t id = 1; id <= prof_num_mappings(p); id++) {
        prof_mapping_info x, y;
        CHECK(prof_get_mapping(p, id, &x));
        CHECK(prof_get_mapping(q, written_mapping_id(main_id, id), &y));
        CHECK(memcmp(&x, &y, sizeof x) == 0);
    }
    CHECK(prof_num_functions(p) == prof_num_functions(q));
    for (uint64_t id = 1; id <= prof_num_functions(p); id++) {
        prof_function_info x, y;
        CHECK(prof_get_function(p, id, &x) && prof_get_function(q, id, &y));
        CHECK(x.name == y.name && x.system_name == y.system_name && x.filename == y.filename &&
              x.start_line == y.start_line);
    }
    CHECK(prof_num_locations(p) == prof_num_locations(q));
    for (uint64_t id = 1; id <= prof_num_locations(p); id++) {
        prof_location_info x, y;
        CHECK(prof_get_location(p, id, &x) && prof_get_location(q, id, &y));
        CHECK(written_mapping_id(main_id, x.mapping_id) == y.mapping_id);
        CHECK(x.address == y.address && x.is_folded == y.is_folded && x.nlines == y.nlines);
        if (x.nlines == y.nlines && x.nlines)
            CHECK(memcmp(x.lines, y.lines, x.nlines * sizeof *x.lines) == 0);
    }
    CHECK(prof_num_samples(p) == prof_num_samples(q));
    size_t nt = prof_num_sample_types(p);
    for (size_t i = 0; i < prof_num_samples(p) && i < prof_num_samples(q); i++) {
        prof_sample_info x, y;
        CHECK(prof_get_sample(p, i, &x) && prof_get_sample(q, i, &y));
        CHECK(x.nlocations == y.nlocations && x.nlabels == y.nlabels);
        if (x.nlocations == y.nlocations && x.nlocations)
            CHECK(memcmp(x.locations, y.locations, x.nlocations * sizeof *x.locations) == 0);
        CHECK(memcmp(x.values, y.values, nt * sizeof *x.values) == 0);
        if (x.nlabels == y.nlabels && x.nlabels)
            CHECK(memcmp(x.labels, y.labels, x.nlabels * sizeof *x.labels) == 0);
    }
}

/* Encodes p both ways and checks bytes, gzip and the round trip. */
static void check_profile(prof_profile *p, const char *what)
{
    CHECK(p != NULL);
    if (!p)
        return;
    unsigned char *raw = NULL, *ref = NULL, *gz = NULL, *plain = NULL;
    size_t rawlen = 0, reflen = 0, gzlen = 0, plainlen = 0;
    char err[256];
    CHECK(prof_encode(p, false, &raw, &rawlen, err, sizeof err) == 0);
    CHECK(prof_encode_reference(p, &ref, &reflen) == 0);
    CHECK(rawlen == reflen && memcmp(raw, ref, rawlen) == 0);
    if (rawlen != reflen || memcmp(raw, ref, rawlen) != 0) {
        size_t i = 0;
        while (i < rawlen && i < reflen && raw[i] == ref[i])
            i++;
        fprintf(stderr, "%s: %zu bytes vs protobuf-c %zu, first difference at %zu\n", what, rawlen,
                reflen, i);
    }

    CHECK(prof_encode(p, true, &gz, &gzlen, err, sizeof err) == 0);
    CHECK(gzlen > 18 && gz[0] == 0x1f && gz[1] == 0x8b);
    CHECK(gunzip(gz, gzlen, &plain, &plainlen) == 0);
    CHECK(plainlen == rawlen && plain && memcmp(plain, raw, rawlen) == 0);

    /* The main mapping is the one written first (the API has no getter). */
    uint64_t main_id = 0;
    Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, rawlen, raw);
    CHECK(pb != NULL);
    if (pb && pb->n_mapping > 0)
        main_id = pb->mapping[0]->id;
    if (pb)
        perftools__profiles__profile__free_unpacked(pb, NULL);
    for (int z = 0; z < 2; z++) {
        prof_profile *q =
            z ? prof_decode(gz, gzlen, err, sizeof err) : prof_decode(raw, rawlen, err, sizeof err);
        CHECK(q != NULL);
        if (!q)
            fprintf(stderr, "%s: decode: %s\n", what, err);
        else
            check_same(p, main_id, q);
        prof_free(q);
    }
    free(raw);
    free(ref);
    free(gz);
    free(plain);
    prof_free(p);
}

/* No stack holds a location and no location a line: the encoder must not
 * index the (never allocated) stack and line arenas. */
static prof_profile *empty_stacks_profile(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_add_sample_type(p, "samples", "count") == 0);
    CHECK(prof_location(p, 0, 0x1234, NULL, 0) == 1);
    int64_t v = 3;
    CHECK(prof_add_sample(p, NULL, 0, &v, NULL, 0) == 0);
    return p;
}

static void test_empty(void)
{
    check_profile(empty_profile(), "empty");
    check_profile(types_only_profile(), "types only");
    check_profile(empty_stacks_profile(), "empty stacks");
}

static void test_rich(void)
{
    check_profile(rich_profile(), "rich");
}

static void test_decoded(void)
{
    check_profile(decoded_profile(), "decoded");
}

static void test_random(void)
{
    check_profile(random_profile(), "random");
}

/* A string's bytes are written whole, an embedded NUL included (protobuf-c
 * stops at the NUL of a C string). */
static void test_string_with_nul(void)
{
    prof_profile *p = prof_new();
    CHECK(prof_string(p, "a\0b", 3) == 1);
    unsigned char *raw;
    size_t len;
    char err[256];
    CHECK(prof_encode(p, false, &raw, &len, err, sizeof err) == 0);
    const unsigned char want[] = {0x32, 0x00, 0x32, 0x03, 'a', 0x00, 'b'};
    CHECK(len == sizeof want && memcmp(raw, want, len) == 0);
    free(raw);
    prof_free(p);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_rich);
    RUN(test_decoded);
    RUN(test_random);
    RUN(test_string_with_nul);
    return CHECK_DONE();
}
