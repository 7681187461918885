/* profile.proto decoding (README §4): gunzip when the gzip magic is
 * present (up to a size limit), then read the wire format directly into
 * a new profile. The top-level fields are counted first, without
 * allocating; then each table is read in the order its references need
 * (strings, sample types and header, mappings, functions, locations,
 * samples), checking what pprof checks: string 0 "", nonzero unique ids,
 * value counts, references. Memory grows with what the input holds, never
 * with a count it claims. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "profile/profile_impl.h"
#include "profile/wire.h"

#define CHUNK_MAX (1u << 30) /* zlib's counters are 32-bit */

static int gunzip(const unsigned char *in, size_t inlen, size_t max, unsigned char **out,
                  size_t *outlen, char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) {
        prof_errf(err, errlen, "gzip: cannot initialise zlib");
        return -1;
    }
    size_t cap = inlen < max / 4 ? inlen * 4 + 4096 : max + 1, done = 0;
    unsigned char *buf = malloc(cap);
    const unsigned char *q = in;
    size_t left = inlen;
    while (buf) {
        if (zs.avail_in == 0 && left > 0) {
            uInt chunk = left > CHUNK_MAX ? CHUNK_MAX : (uInt)left;
            zs.next_in = (unsigned char *)q;
            zs.avail_in = chunk;
            q += chunk;
            left -= chunk;
        }
        if (done > max) {
            prof_errf(err, errlen,
                      "gzip: the profile inflates to more than %zu bytes (the limit; "
                      "pprof.read's max_size raises it)",
                      max);
            goto fail;
        }
        if (done == cap) {
            size_t ncap = cap > max / 2 ? max + 1 : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb)
                break;
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - done;
        zs.next_out = buf + done;
        zs.avail_out = room > CHUNK_MAX ? CHUNK_MAX : (uInt)room;
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        done += before - zs.avail_out;
        if (rc == Z_STREAM_END && done <= max) {
            inflateEnd(&zs);
            *out = buf;
            *outlen = done;
            return 0;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
            prof_errf(err, errlen, "gzip: truncated data");
            goto fail;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
            prof_errf(err, errlen, "gzip: %s", zs.msg ? zs.msg : "corrupt data");
            goto fail;
        }
    }
    prof_errf(err, errlen, "gzip: out of memory");
fail:
    free(buf);
    inflateEnd(&zs);
    return -1;
}

/* ---- old id -> new id, grown as ids arrive ---- */

typedef struct idmap {
    uint64_t *keys, *vals;
    size_t cap, n;
} idmap;

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
}

static size_t idmap_slot(const idmap *m, uint64_t key)
{
    size_t i = (size_t)ph_mix(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static uint64_t idmap_get(const idmap *m, uint64_t key)
{
    if (!m->cap || !key)
        return 0;
    size_t i = idmap_slot(m, key);
    return m->keys[i] == key ? m->vals[i] : 0;
}

/* Room for one more key. -1 on OOM. */
static int idmap_room(idmap *m)
{
    if ((m->n + 1) * 2 <= m->cap)
        return 0;
    idmap old = *m;
    size_t cap = old.cap ? old.cap * 2 : 64;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        *m = old;
        return -1;
    }
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) {
            size_t j = idmap_slot(m, old.keys[i]);
            m->keys[j] = old.keys[i];
            m->vals[j] = old.vals[i];
        }
    idmap_free(&old);
    return 0;
}

/* ---- decoding ---- */

/* The top-level fields, counted in the first pass. */
enum { F_SAMPLE_TYPE = 1, F_SAMPLE, F_MAPPING, F_LOCATION, F_FUNCTION, F_STRING, F_MAX = 16 };

typedef struct dec {
    wire top;            /* the whole message */
    size_t count[F_MAX]; /* occurrences (packed comments: values) per field */
    prof_profile *p;
    uint32_t *smap; /* old string index -> new */
    size_t nstrings;
    idmap maps, funcs, locs;
    char *err;
    size_t errlen;
} dec;

static bool bad(dec *d, const wire *w, const char *what)
{
    prof_errf(d->err, d->errlen, "not a pprof profile (malformed protobuf: %s at byte %zu)", what,
              (size_t)(w->field - w->base));
    return false;
}

static bool oom(dec *d)
{
    prof_errf(d->err, d->errlen, "out of memory");
    return false;
}

static bool str_ok(dec *d, int64_t idx, uint64_t *out, const char *what)
{
    if (idx < 0 || (uint64_t)idx >= d->nstrings) {
        prof_errf(d->err, d->errlen, "malformed profile: %s string index %lld out of range", what,
                  (long long)idx);
        return false;
    }
    *out = d->smap[idx];
    return true;
}

static bool put_id(dec *d, idmap *m, uint64_t old, uint64_t nid, const char *what)
{
    if (old == 0) {
        prof_errf(d->err, d->errlen, "malformed profile: %s with reserved id 0", what);
        return false;
    }
    if (nid == 0 || idmap_room(m) != 0)
        return oom(d);
    size_t i = idmap_slot(m, old);
    if (m->keys[i]) {
        prof_errf(d->err, d->errlen, "malformed profile: multiple %ss with id %llu", what,
                  (unsigned long long)old);
        return false;
    }
    m->keys[i] = old;
    m->vals[i] = nid;
    m->n++;
    return true;
}

/* The varint fields of a small message, by number (1..nf), into v; every
 * other field is skipped. A varint field given with another wire type is
 * malformed. */
static bool read_varints(dec *d, wire w, uint64_t *v, uint32_t nf)
{
    while (w.p < w.end) {
        uint32_t f;
        unsigned wt;
        if (!wire_key(&w, &f, &wt))
            return bad(d, &w, "bad field key");
        if (f <= nf && wt != WT_VARINT)
            return bad(d, &w, "wrong wire type");
        if (f <= nf ? !wire_varint(&w, &v[f - 1]) : !wire_skip(&w, wt))
            return bad(d, &w, "truncated field");
    }
    return true;
}

/* Pass 1: checks the top level's framing and counts each field. */
static bool count_fields(dec *d)
{
    wire w = d->top;
    while (w.p < w.end) {
        uint32_t f;
        unsigned wt;
        if (!wire_key(&w, &f, &wt))
            return bad(d, &w, "bad field key");
        bool len_field = f <= F_STRING || f == 11;
        bool packed = f == 13 && wt == WT_LEN;
        if (f < F_MAX && !packed && (len_field ? wt != WT_LEN : wt != WT_VARINT))
            return bad(d, &w, "wrong wire type");
        wire sub;
        if (packed) {
            size_t n;
            if (!wire_bytes(&w, &sub) || !wire_count_packed(&sub, &n))
                return bad(d, &w, "truncated field");
            d->count[f] += n;
        } else {
            if (!wire_skip(&w, wt))
                return bad(d, &w, "truncated field");
            if (f < F_MAX)
                d->count[f]++;
        }
    }
    return true;
}

/* The bytes of the next occurrence of top-level field fnum (a
 * length-delimited one) at or after *it; false at the end. Pass 1 checked
 * the framing. */
static bool next_field(wire *it, uint32_t fnum, wire *sub)
{
    while (it->p < it->end) {
        uint32_t f;
        unsigned wt;
        if (!wire_key(it, &f, &wt))
            return false;
        if (f == fnum && wt == WT_LEN)
            return wire_bytes(it, sub);
        if (!wire_skip(it, wt))
            return false;
    }
    return false;
}

static bool dec_strings(dec *d)
{
    if (d->count[F_STRING] == 0)
        goto no_empty;
    d->smap = malloc(d->count[F_STRING] * sizeof *d->smap);
    if (!d->smap)
        return oom(d);
    for (wire it = d->top, s; next_field(&it, F_STRING, &s);) {
        if (d->nstrings == 0 && s.end != s.p)
            goto no_empty;
        uint64_t id = prof_string(d->p, (const char *)s.p, (size_t)(s.end - s.p));
        if (id == UINT64_MAX || id > UINT32_MAX)
            return oom(d);
        d->smap[d->nstrings++] = (uint32_t)id;
    }
    return true;
no_empty:
    prof_errf(d->err, d->errlen, "not a pprof profile (string_table[0] is not \"\")");
    return false;
}

static bool add_comment(dec *d, uint64_t idx)
{
    uint64_t id;
    size_t len;
    if (!str_ok(d, (int64_t)idx, &id, "comment"))
        return false;
    const char *s = prof_str(d->p, id, &len);
    return prof_add_comment(d->p, s, len) == 0 || oom(d);
}

/* Sample types, then the scalar header fields (the last occurrence of
 * each wins, as protobuf has it; period_type's occurrences merge). */
static bool dec_header(dec *d)
{
    prof_profile *p = d->p;
    bool ok = true;
    for (wire it = d->top, s; next_field(&it, F_SAMPLE_TYPE, &s);) {
        uint64_t v[2] = {0, 0};
        uint64_t t, u;
        if (!read_varints(d, s, v, 2) || !str_ok(d, (int64_t)v[0], &t, "sample type") ||
            !str_ok(d, (int64_t)v[1], &u, "sample unit"))
            return false;
        if (prof_add_sample_type_ids(p, t, u) < 0) {
            prof_errf(d->err, d->errlen, "too many sample types or out of memory");
            return false;
        }
    }
    if (d->count[F_SAMPLE] > 0 && d->count[F_SAMPLE_TYPE] == 0) {
        prof_errf(d->err, d->errlen, "malformed profile: missing sample type information");
        return false;
    }
    int64_t hv[F_MAX] = {0};
    uint64_t period_type[2] = {0, 0};
    bool have_period_type = false;
    wire w = d->top;
    while (ok && w.p < w.end) {
        uint32_t f;
        unsigned wt;
        wire sub;
        uint64_t v;
        if (!wire_key(&w, &f, &wt))
            return bad(d, &w, "bad field key");
        if (f == 11 || (f == 13 && wt == WT_LEN)) {
            if (!wire_bytes(&w, &sub))
                return bad(d, &w, "truncated field");
            if (f == 11) {
                have_period_type = true;
                ok = read_varints(d, sub, period_type, 2);
            }
            while (f == 13 && ok && sub.p < sub.end)
                ok = wire_varint(&sub, &v) ? add_comment(d, v) : bad(d, &sub, "bad varint");
        } else if (f > F_STRING && f < F_MAX && wt == WT_VARINT) {
            if (!wire_varint(&w, &v))
                return bad(d, &w, "truncated field");
            if (f == 13)
                ok = add_comment(d, v);
            else
                hv[f] = (int64_t)v;
        } else if (!wire_skip(&w, wt)) {
            return bad(d, &w, "truncated field");
        }
    }
    if (!ok || !str_ok(d, hv[14], &p->default_type, "default_sample_type") ||
        !str_ok(d, hv[7], &p->drop_frames, "drop_frames") ||
        !str_ok(d, hv[8], &p->keep_frames, "keep_frames") ||
        !str_ok(d, hv[15], &p->doc_url, "doc_url"))
        return false;
    if (have_period_type && (!str_ok(d, (int64_t)period_type[0], &p->period_type, "period type") ||
                             !str_ok(d, (int64_t)period_type[1], &p->period_unit, "period unit")))
        return false;
    p->time_nanos = hv[9];
    p->duration_nanos = hv[10];
    p->period = hv[12];
    return true;
}

static bool dec_mappings(dec *d)
{
    bool first = true;
    for (wire it = d->top, s; next_field(&it, F_MAPPING, &s);) {
        uint64_t v[10] = {0};
        prof_mapping_spec spec = {0};
        uint64_t file, build_id;
        if (!read_varints(d, s, v, 10) || !str_ok(d, (int64_t)v[4], &file, "mapping filename") ||
            !str_ok(d, (int64_t)v[5], &build_id, "mapping build id"))
            return false;
        spec.start = v[1];
        spec.limit = v[2];
        spec.offset = v[3];
        spec.file = prof_str(d->p, file, &spec.file_len);
        spec.build_id = prof_str(d->p, build_id, &spec.build_id_len);
        spec.has_functions = v[6] != 0;
        spec.has_filenames = v[7] != 0;
        spec.has_line_numbers = v[8] != 0;
        spec.has_inline_frames = v[9] != 0;
        uint64_t id = v[0] ? prof_mapping(d->p, &spec) : 1;
        if (!put_id(d, &d->maps, v[0], id, "mapping"))
            return false;
        if (first)
            d->p->main_mapping = id;
        first = false;
    }
    return true;
}

static bool dec_functions(dec *d)
{
    for (wire it = d->top, s; next_field(&it, F_FUNCTION, &s);) {
        uint64_t v[5] = {0};
        prof_function_info fi = {0};
        if (!read_varints(d, s, v, 5) || !str_ok(d, (int64_t)v[1], &fi.name, "function name") ||
            !str_ok(d, (int64_t)v[2], &fi.system_name, "function system name") ||
            !str_ok(d, (int64_t)v[3], &fi.filename, "function filename"))
            return false;
        fi.start_line = (int64_t)v[4];
        if (!put_id(d, &d->funcs, v[0], v[0] ? prof_function_full(d->p, &fi) : 1, "function"))
            return false;
    }
    return true;
}

/* One location: its scalar fields and its lines (into *lines, grown). */
static bool dec_location(dec *d, wire s, prof_line **lines, size_t *cap)
{
    uint64_t v[5] = {0};
    size_t n = 0;
    wire w = s;
    while (w.p < w.end) { /* the scalars, and room for the lines */
        uint32_t f;
        unsigned wt;
        if (!wire_key(&w, &f, &wt))
            return bad(d, &w, "bad field key");
        if (f <= 5 && wt != (f == 4 ? WT_LEN : WT_VARINT))
            return bad(d, &w, "wrong wire type");
        if (f <= 5 && f != 4 ? !wire_varint(&w, &v[f - 1]) : !wire_skip(&w, wt))
            return bad(d, &w, "truncated field");
        n += f == 4;
    }
    if (ph_grow((void **)lines, cap, n, sizeof **lines) != 0)
        return oom(d);
    n = 0;
    wire lw;
    for (wire it = s; next_field(&it, 4, &lw); n++) {
        uint64_t lv[3] = {0};
        if (!read_varints(d, lw, lv, 3))
            return false;
        (*lines)[n].function_id = idmap_get(&d->funcs, lv[0]);
        (*lines)[n].line = (int64_t)lv[1];
        if ((*lines)[n].function_id == 0) {
            prof_errf(d->err, d->errlen,
                      "malformed profile: location id %llu has a line with nil function",
                      (unsigned long long)v[0]);
            return false;
        }
    }
    /* A mapping id naming no mapping leaves the location unmapped (pprof
     * does the same). */
    uint64_t mid = v[1] ? idmap_get(&d->maps, v[1]) : 0;
    uint64_t id = v[0] ? prof_location_raw(d->p, mid, v[2], *lines, n, v[4] != 0) : 1;
    return put_id(d, &d->locs, v[0], id, "location");
}

static bool dec_locations(dec *d)
{
    prof_line *lines = NULL;
    size_t cap = 0;
    bool ok = true;
    for (wire it = d->top, s; next_field(&it, F_LOCATION, &s);) {
        if (!(ok = dec_location(d, s, &lines, &cap)))
            break;
    }
    free(lines);
    return ok;
}

typedef struct sbuf {
    uint64_t *locs;
    int64_t *vals;
    prof_label_ids *labels;
    size_t locs_cap, vals_cap, labels_cap;
} sbuf;

/* The values of a repeated varint field, packed or not, appended. */
static bool add_varints(dec *d, wire *s, unsigned wt, uint64_t *out, size_t *n)
{
    if (wt == WT_VARINT)
        return wire_varint(s, &out[(*n)++]) || bad(d, s, "truncated field");
    wire pk;
    if (!wire_bytes(s, &pk))
        return bad(d, s, "truncated field");
    while (pk.p < pk.end)
        if (!wire_varint(&pk, &out[(*n)++]))
            return bad(d, &pk, "bad packed varint");
    return true;
}

static bool dec_sample(dec *d, wire s, sbuf *b)
{
    size_t nl = 0, nv = 0, nlab = 0;
    wire w = s;
    while (w.p < w.end) { /* count first: room for what the sample holds */
        uint32_t f;
        unsigned wt;
        wire sub;
        size_t k = 1;
        if (!wire_key(&w, &f, &wt))
            return bad(d, &w, "bad field key");
        if ((f == 1 || f == 2) && wt == WT_LEN) {
            if (!wire_bytes(&w, &sub) || !wire_count_packed(&sub, &k))
                return bad(d, &w, "truncated field");
        } else if ((f == 1 || f == 2) && wt != WT_VARINT) {
            return bad(d, &w, "wrong wire type");
        } else if (f == 3 && wt != WT_LEN) {
            return bad(d, &w, "wrong wire type");
        } else if (!wire_skip(&w, wt)) {
            return bad(d, &w, "truncated field");
        }
        nl += f == 1 ? k : 0;
        nv += f == 2 ? k : 0;
        nlab += f == 3;
    }
    if (nv != prof_num_sample_types(d->p)) {
        prof_errf(d->err, d->errlen,
                  "malformed profile: mismatch: sample has %zu values vs. %zu types", nv,
                  prof_num_sample_types(d->p));
        return false;
    }
    if (ph_grow((void **)&b->locs, &b->locs_cap, nl, sizeof *b->locs) != 0 ||
        ph_grow((void **)&b->vals, &b->vals_cap, nv, sizeof *b->vals) != 0 ||
        ph_grow((void **)&b->labels, &b->labels_cap, nlab, sizeof *b->labels) != 0)
        return oom(d);
    nl = nv = nlab = 0;
    while (s.p < s.end) {
        uint32_t f;
        unsigned wt;
        if (!wire_key(&s, &f, &wt))
            return bad(d, &s, "bad field key");
        if (f == 1 && !add_varints(d, &s, wt, b->locs, &nl))
            return false;
        if (f == 2 && !add_varints(d, &s, wt, (uint64_t *)b->vals, &nv))
            return false;
        if (f == 3) {
            wire lw;
            if (!wire_bytes(&s, &lw))
                return bad(d, &s, "truncated field");
            uint64_t lv[4] = {0};
            prof_label_ids *l = &b->labels[nlab++];
            memset(l, 0, sizeof *l);
            if (!read_varints(d, lw, lv, 4) || !str_ok(d, (int64_t)lv[0], &l->key, "label key") ||
                !str_ok(d, (int64_t)lv[1], &l->str, "label value") ||
                !str_ok(d, (int64_t)lv[3], &l->num_unit, "label unit"))
                return false;
            l->num = l->str ? 0 : (int64_t)lv[2];
            if (l->str)
                l->num_unit = 0;
        }
        if (f > 3 && !wire_skip(&s, wt))
            return bad(d, &s, "truncated field");
    }
    for (size_t k = 0; k < nl; k++) {
        uint64_t old = b->locs[k];
        if ((b->locs[k] = idmap_get(&d->locs, old)) == 0) {
            prof_errf(d->err, d->errlen, "malformed profile: sample has nil location (id %llu)",
                      (unsigned long long)old);
            return false;
        }
    }
    uint64_t ls = prof_labelset_ids(d->p, b->labels, nlab);
    if (ls == 0 || prof_add_sample_ls(d->p, b->locs, nl, b->vals, ls) != 0)
        return oom(d);
    return true;
}

static bool dec_samples(dec *d)
{
    sbuf b = {0};
    bool ok = true;
    for (wire it = d->top, s; next_field(&it, F_SAMPLE, &s);) {
        if (!(ok = dec_sample(d, s, &b)))
            break;
    }
    free(b.locs);
    free(b.vals);
    free(b.labels);
    return ok;
}

prof_profile *prof_decode_ex(const unsigned char *data, size_t len, const prof_decode_options *o,
                             char *err, size_t errlen)
{
    size_t max = o && o->max_size ? o->max_size : PROF_DECODE_MAX_SIZE;
    unsigned char *plain = NULL;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        if (gunzip(data, len, max, &plain, &len, err, errlen) != 0)
            return NULL;
        data = plain;
    } else if (len > max) {
        prof_errf(err, errlen,
                  "the profile is larger than %zu bytes (the limit; pprof.read's "
                  "max_size raises it)",
                  max);
        return NULL;
    }
    dec d = {.top = {data, data + len, data, data}, .err = err, .errlen = errlen};
    bool ok = count_fields(&d);
    if (ok && !(d.p = prof_new()))
        ok = oom(&d);
    ok = ok && dec_strings(&d) && dec_header(&d) && dec_mappings(&d) && dec_functions(&d) &&
         dec_locations(&d) && dec_samples(&d);
    free(plain);
    free(d.smap);
    idmap_free(&d.maps);
    idmap_free(&d.funcs);
    idmap_free(&d.locs);
    if (!ok) {
        prof_free(d.p);
        return NULL;
    }
    return d.p;
}

prof_profile *prof_decode(const unsigned char *data, size_t len, char *err, size_t errlen)
{
    return prof_decode_ex(data, len, NULL, err, errlen);
}

prof_profile *prof_read_file_ex(const char *path, const prof_decode_options *o, char *err,
                                size_t errlen)
{
    size_t max = o && o->max_size ? o->max_size : PROF_DECODE_MAX_SIZE;
    FILE *f = fopen(path, "rb");
    if (!f) {
        prof_errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, want = 65536;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= max)
        want = (size_t)st.st_size + 1; /* room to see EOF without growing */
    int rerr = 0;
    for (;;) {
        if (len > max) {
            fclose(f);
            free(buf);
            prof_errf(err, errlen,
                      "%s: larger than %zu bytes (the limit; pprof.read's max_size "
                      "raises it)",
                      path, max);
            return NULL;
        }
        if (len == cap && ph_grow((void **)&buf, &cap, len + want, 1) != 0) {
            fclose(f);
            free(buf);
            prof_errf(err, errlen, "%s: out of memory", path);
            return NULL;
        }
        errno = 0;
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rerr = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (rerr) {
        free(buf);
        prof_errf(err, errlen, "%s: %s", path, strerror(rerr));
        return NULL;
    }
    char e[256];
    e[0] = '\0';
    prof_profile *p = prof_decode_ex(buf, len, o, e, sizeof e);
    free(buf);
    if (!p)
        prof_errf(err, errlen, "%s: %s", path, e);
    return p;
}

prof_profile *prof_read_file(const char *path, char *err, size_t errlen)
{
    return prof_read_file_ex(path, NULL, err, errlen);
}
