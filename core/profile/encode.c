/* profile.proto encoding, gzip with libdeflate, atomic writes. The encoder
 * streams the wire format straight from the profile's tables into one
 * growing buffer: each message's size is computed from its fields, then
 * its bytes are written with no further checks. The output is what
 * protobuf-c packs for the same message (tests/c checks it byte for byte). */
#include <libdeflate.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_impl.h"
#include "sys/writefile.h"

void prof_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- protobuf wire format ----
 * Every field number is at most 15, so a tag is one byte: field << 3 | wire
 * type (0 varint, 2 length-delimited). proto3 leaves out zero scalars and
 * empty repeated fields; repeated scalars are packed. */
enum { WT_VARINT = 0, WT_LEN = 2 };
#define TAG(field, wt) ((unsigned char)((field) << 3 | (wt)))

/* Bytes in the varint of v (1..10): (floor(log2 v) * 9 + 73) / 64 is
 * ceil(bits / 7) without a division. */
static inline size_t vsz(uint64_t v)
{
    return ((size_t)(63 - __builtin_clzll(v | 1)) * 9 + 73) / 64;
}

/* Bytes of an optional varint field: nothing when v is 0. */
static inline size_t fsz(uint64_t v)
{
    return v ? 1 + vsz(v) : 0;
}

/* Bytes of a length-delimited field holding n bytes. */
static inline size_t lsz(size_t n)
{
    return 1 + vsz(n) + n;
}

static inline unsigned char *put_v(unsigned char *q, uint64_t v)
{
    while (v >= 0x80) {
        *q++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *q++ = (unsigned char)v;
    return q;
}

static inline unsigned char *put_f(unsigned char *q, unsigned field, uint64_t v)
{
    if (v) {
        *q++ = TAG(field, WT_VARINT);
        q = put_v(q, v);
    }
    return q;
}

static inline unsigned char *put_len(unsigned char *q, unsigned field, size_t n)
{
    *q++ = TAG(field, WT_LEN);
    return put_v(q, n);
}

/* A growing output buffer. wb_room makes room for n more bytes and returns
 * where they go (NULL when out of memory); the caller writes at most n
 * bytes and calls wb_done with the end of what it wrote. */
typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
} wbuf;

static unsigned char *wb_grow(wbuf *b, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len)
        return NULL;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - b->len < n)
        ncap *= 2;
    unsigned char *q = realloc(b->p, ncap);
    if (!q)
        return NULL;
    b->p = q;
    b->cap = ncap;
    return q + b->len;
}

static inline unsigned char *wb_room(wbuf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return b->p + b->len;
    return wb_grow(b, n);
}

static inline void wb_done(wbuf *b, unsigned char *end)
{
    b->len = (size_t)(end - b->p);
}

/* ---- messages ---- */

static size_t label_size(const prof_label_ids *l)
{
    return fsz(l->key) + fsz(l->str) + fsz((uint64_t)l->num) + fsz(l->num_unit);
}

/* Every label set's Sample.label fields, encoded once: a set is shared by
 * many samples, which then copy its bytes. off has nlsets + 1 entries. */
typedef struct lset_bytes {
    unsigned char *bytes;
    size_t *off;
} lset_bytes;

static int encode_labelsets(const prof_profile *p, lset_bytes *ls)
{
    size_t total = 0;
    for (size_t i = 0; i < p->nlabel_arena; i++)
        total += lsz(label_size(&p->label_arena[i]));
    ls->bytes = malloc(total ? total : 1);
    ls->off = malloc((p->nlsets + 1) * sizeof *ls->off);
    if (!ls->bytes || !ls->off)
        return -1;
    unsigned char *q = ls->bytes;
    for (size_t i = 0; i < p->nlsets; i++) {
        const prof_labelset_rec *r = &p->lsets[i];
        ls->off[i] = (size_t)(q - ls->bytes);
        for (size_t k = 0; k < r->n; k++) {
            const prof_label_ids *l = &p->label_arena[r->off + k];
            q = put_len(q, 3, label_size(l));
            q = put_f(q, 1, l->key);
            q = put_f(q, 2, l->str);
            q = put_f(q, 3, (uint64_t)l->num);
            q = put_f(q, 4, l->num_unit);
        }
    }
    ls->off[p->nlsets] = (size_t)(q - ls->bytes);
    return 0;
}

static int put_value_type(wbuf *b, unsigned field, uint64_t type, uint64_t unit)
{
    unsigned char *q = wb_room(b, 2 + 22);
    if (!q)
        return -1;
    q = put_len(q, field, fsz(type) + fsz(unit));
    q = put_f(q, 1, type);
    q = put_f(q, 2, unit);
    wb_done(b, q);
    return 0;
}

/* A sample's location ids are written once: at the place their headers
 * would leave them with the largest possible payload (every id is at most
 * nlocs, so at most vsz(nlocs) bytes), then moved down in the rare case
 * that the actual length prefixes are shorter. */
static int put_samples(const prof_profile *p, wbuf *b, const lset_bytes *ls)
{
    size_t nt = p->ntypes, vmax = vsz(p->nlocs);
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample_rec *s = &p->samples[i];
        const uint64_t *ids = s->nloc ? p->stacks + s->loc_off : NULL;
        const int64_t *vals = p->values + i * nt;
        size_t lbeg = ls->off[s->labelset - 1], lend = ls->off[s->labelset];
        size_t valsz = 0;
        for (size_t k = 0; k < nt; k++)
            valsz += vsz((uint64_t)vals[k]);
        size_t tail = (nt ? lsz(valsz) : 0) + (lend - lbeg);
        size_t locmax = s->nloc * vmax;
        size_t bodymax = (s->nloc ? lsz(locmax) : 0) + tail;
        unsigned char *q = wb_room(b, 11 + bodymax);
        if (!q)
            return -1;
        unsigned char *at = q + 1 + vsz(bodymax) + (s->nloc ? 1 + vsz(locmax) : 0);
        unsigned char *e = at;
        for (size_t k = 0; k < s->nloc; k++)
            e = put_v(e, ids[k]);
        size_t locsz = (size_t)(e - at);
        size_t body = (s->nloc ? lsz(locsz) : 0) + tail;
        size_t hdr = 1 + vsz(body) + (s->nloc ? 1 + vsz(locsz) : 0);
        if (q + hdr != at)
            memmove(q + hdr, at, locsz);
        q = put_len(q, 2, body);
        if (s->nloc)
            q = put_len(q, 1, locsz);
        q += locsz;
        if (nt) {
            q = put_len(q, 2, valsz);
            for (size_t k = 0; k < nt; k++)
                q = put_v(q, (uint64_t)vals[k]);
        }
        memcpy(q, ls->bytes + lbeg, lend - lbeg);
        wb_done(b, q + (lend - lbeg));
    }
    return 0;
}

/* The main binary's mapping goes first (pprof treats mapping[0] so), then
 * the others in id order. */
static int put_mappings(const prof_profile *p, wbuf *b)
{
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->nmaps; i++) {
            if ((pass == 0) != (p->main_mapping == i + 1))
                continue;
            const prof_mapping_info *m = &p->maps[i];
            size_t body = fsz(i + 1) + fsz(m->start) + fsz(m->limit) + fsz(m->offset) +
                          fsz(m->file) + fsz(m->build_id) + 2 * (size_t)m->has_functions +
                          2 * (size_t)m->has_filenames + 2 * (size_t)m->has_line_numbers +
                          2 * (size_t)m->has_inline_frames;
            unsigned char *q = wb_room(b, 11 + body);
            if (!q)
                return -1;
            q = put_len(q, 3, body);
            q = put_f(q, 1, i + 1);
            q = put_f(q, 2, m->start);
            q = put_f(q, 3, m->limit);
            q = put_f(q, 4, m->offset);
            q = put_f(q, 5, m->file);
            q = put_f(q, 6, m->build_id);
            q = put_f(q, 7, m->has_functions);
            q = put_f(q, 8, m->has_filenames);
            q = put_f(q, 9, m->has_line_numbers);
            q = put_f(q, 10, m->has_inline_frames);
            wb_done(b, q);
        }
    }
    return 0;
}

static size_t line_size(const prof_line *l)
{
    return fsz(l->function_id) + fsz((uint64_t)l->line);
}

static int put_locations(const prof_profile *p, wbuf *b)
{
    for (size_t i = 0; i < p->nlocs; i++) {
        const prof_loc *l = &p->locs[i];
        const prof_line *lines = l->nlines ? p->lines + l->line_off : NULL;
        size_t body = fsz(i + 1) + fsz(l->mapping_id) + fsz(l->address) + 2 * (size_t)l->is_folded;
        for (size_t k = 0; k < l->nlines; k++)
            body += lsz(line_size(&lines[k]));
        unsigned char *q = wb_room(b, 11 + body);
        if (!q)
            return -1;
        q = put_len(q, 4, body);
        q = put_f(q, 1, i + 1);
        q = put_f(q, 2, l->mapping_id);
        q = put_f(q, 3, l->address);
        for (size_t k = 0; k < l->nlines; k++) {
            q = put_len(q, 4, line_size(&lines[k]));
            q = put_f(q, 1, lines[k].function_id);
            q = put_f(q, 2, (uint64_t)lines[k].line);
        }
        q = put_f(q, 5, l->is_folded);
        wb_done(b, q);
    }
    return 0;
}

static int put_functions(const prof_profile *p, wbuf *b)
{
    for (size_t i = 0; i < p->nfuncs; i++) {
        const prof_function_info *f = &p->funcs[i];
        size_t body = fsz(i + 1) + fsz(f->name) + fsz(f->system_name) + fsz(f->filename) +
                      fsz((uint64_t)f->start_line);
        unsigned char *q = wb_room(b, 11 + body);
        if (!q)
            return -1;
        q = put_len(q, 5, body);
        q = put_f(q, 1, i + 1);
        q = put_f(q, 2, f->name);
        q = put_f(q, 3, f->system_name);
        q = put_f(q, 4, f->filename);
        q = put_f(q, 5, (uint64_t)f->start_line);
        wb_done(b, q);
    }
    return 0;
}

static int put_strings(const prof_profile *p, wbuf *b)
{
    for (size_t i = 0; i < p->nstrings; i++) {
        size_t n = p->slen[i];
        unsigned char *q = wb_room(b, 11 + n);
        if (!q)
            return -1;
        q = put_len(q, 6, n);
        memcpy(q, p->sbytes + p->soff[i], n);
        wb_done(b, q + n);
    }
    return 0;
}

/* The scalar fields after the string table, in field order. */
static int put_tail(const prof_profile *p, wbuf *b)
{
    unsigned char *q = wb_room(b, 4 * 11);
    if (!q)
        return -1;
    q = put_f(q, 7, p->drop_frames);
    q = put_f(q, 8, p->keep_frames);
    q = put_f(q, 9, (uint64_t)p->time_nanos);
    q = put_f(q, 10, (uint64_t)p->duration_nanos);
    wb_done(b, q);
    if ((p->period_type || p->period_unit) &&
        put_value_type(b, 11, p->period_type, p->period_unit) != 0)
        return -1;
    size_t csz = 0;
    for (size_t i = 0; i < p->ncomments; i++)
        csz += vsz(p->comments[i]);
    q = wb_room(b, 11 + 11 + csz + 3 * 11);
    if (!q)
        return -1;
    q = put_f(q, 12, (uint64_t)p->period);
    if (p->ncomments) {
        q = put_len(q, 13, csz);
        for (size_t i = 0; i < p->ncomments; i++)
            q = put_v(q, p->comments[i]);
    }
    q = put_f(q, 14, p->default_type);
    q = put_f(q, 15, p->doc_url);
    wb_done(b, q);
    return 0;
}

/* A first guess at the encoded size, so the buffer rarely grows. */
static size_t size_guess(const prof_profile *p)
{
    return 256 + p->sbytes_len + 2 * p->nstrings + 3 * p->nstacks +
           p->nsamples * (8 + 4 * p->ntypes) + 16 * p->nlocs + 8 * p->nlines + 16 * p->nfuncs +
           48 * p->nmaps + 24 * p->nlabel_arena;
}

/* profile.proto bytes of p, in field order, into *b. -1 on OOM. */
static int encode_raw(const prof_profile *p, wbuf *b)
{
    if (!wb_room(b, size_guess(p)))
        return -1;
    for (size_t i = 0; i < p->ntypes; i++)
        if (put_value_type(b, 1, p->st_type[i], p->st_unit[i]) != 0)
            return -1;
    lset_bytes ls = {0};
    int rc = encode_labelsets(p, &ls);
    if (rc == 0)
        rc = put_samples(p, b, &ls);
    free(ls.bytes);
    free(ls.off);
    if (rc != 0 || put_mappings(p, b) != 0 || put_locations(p, b) != 0 ||
        put_functions(p, b) != 0 || put_strings(p, b) != 0 || put_tail(p, b) != 0)
        return -1;
    return 0;
}

/* gzip (RFC 1952) of in with libdeflate's fastest level. */
static int gzip_buf(const unsigned char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    if (!c)
        return -1;
    size_t cap = libdeflate_gzip_compress_bound(c, inlen);
    unsigned char *buf = malloc(cap);
    size_t n = buf ? libdeflate_gzip_compress(c, in, inlen, buf, cap) : 0;
    libdeflate_free_compressor(c);
    if (n == 0) {
        free(buf);
        return -1;
    }
    unsigned char *fit = realloc(buf, n); /* give back the unused bound */
    *out = fit ? fit : buf;
    *outlen = n;
    return 0;
}

int prof_encode(const prof_profile *p, bool gzip, unsigned char **out, size_t *len, char *err,
                size_t errlen)
{
    wbuf b = {0};
    if (encode_raw(p, &b) != 0) {
        free(b.p);
        prof_errf(err, errlen, "encode: out of memory");
        return -1;
    }
    if (!gzip) {
        *out = b.p;
        *len = b.len;
        return 0;
    }
    int rc = gzip_buf(b.p, b.len, out, len);
    free(b.p);
    if (rc != 0)
        prof_errf(err, errlen, "encode: gzip failed (out of memory)");
    return rc;
}

int prof_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    return sys_write_file(path, data, len, err, errlen);
}

int prof_write_file(const prof_profile *p, const char *path, bool gzip, char *err, size_t errlen)
{
    unsigned char *buf;
    size_t len;
    char e[200];
    if (prof_encode(p, gzip, &buf, &len, e, sizeof e) != 0) {
        prof_errf(err, errlen, "%s: %s", path, e);
        return -1;
    }
    int rc = prof_write_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}
