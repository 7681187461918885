/* Folded stacks from any profile (e.g. one read back from a .pb.gz):
 * "comm;root;...;leaf count", inline frames expanded, merged, sorted. */
#include <stdlib.h>
#include <string.h>

#include "profile/profile_impl.h"

typedef struct fline {
    size_t off, len;
    int64_t count;
} fline;

typedef struct folder {
    const prof_profile *p;
    char *buf; /* all distinct lines, back to back */
    size_t len, cap;
    fline *lines;
    size_t nlines, lines_cap;
    ph_index index;
} folder;

static int put_raw(folder *f, const char *s, size_t n)
{
    if (ph_grow((void **)&f->buf, &f->cap, f->len + n, 1) != 0)
        return -1;
    memcpy(f->buf + f->len, s, n);
    f->len += n;
    return 0;
}

/* Appends a frame name: ';' becomes ':' (and ' ' becomes '_' for comms). */
static int put(folder *f, const char *s, size_t n, bool tidy_spaces)
{
    if (ph_grow((void **)&f->buf, &f->cap, f->len + n, 1) != 0)
        return -1;
    char *d = f->buf + f->len;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ';')
            c = ':';
        else if (tidy_spaces && c == ' ')
            c = '_';
        d[i] = c;
    }
    f->len += n;
    return 0;
}

static const char *base_name(const char *s, size_t len, size_t *out_len)
{
    const char *slash = memrchr(s, '/', len);
    const char *b = slash ? slash + 1 : s;
    *out_len = len - (size_t)(b - s);
    return b;
}

/* Appends one frame name for a location without lines. */
static int put_unnamed(folder *f, const prof_loc *l)
{
    const prof_profile *p = f->p;
    if (l->mapping_id && l->mapping_id <= p->nmaps && p->maps[l->mapping_id - 1].file) {
        size_t len, bl;
        const char *file = prof_str(p, p->maps[l->mapping_id - 1].file, &len);
        const char *b = base_name(file, len, &bl);
        if (put(f, "[", 1, false) != 0 || put(f, b, bl, false) != 0)
            return -1;
        return put(f, "]", 1, false);
    }
    return put(f, "[unknown]", 9, false);
}

/* Builds sample i's line at the end of f->buf (not yet committed). */
static int build(folder *f, const prof_sample_info *s)
{
    const prof_profile *p = f->p;
    bool first = true;
    for (size_t k = 0; k < s->nlabels; k++) {
        size_t kl;
        const char *key = prof_str(p, s->labels[k].key, &kl);
        if (kl == 4 && memcmp(key, "comm", 4) == 0 && s->labels[k].str) {
            size_t vl;
            const char *v = prof_str(p, s->labels[k].str, &vl);
            if (put(f, v, vl, true) != 0)
                return -1;
            first = false;
            break;
        }
    }
    for (size_t k = s->nlocations; k-- > 0;) {
        const prof_loc *l = &p->locs[s->locations[k] - 1];
        if (l->nlines == 0) {
            if ((!first && put_raw(f, ";", 1) != 0) || put_unnamed(f, l) != 0)
                return -1;
            first = false;
            continue;
        }
        for (size_t j = l->nlines; j-- > 0;) {
            const prof_line *ln = &p->lines[l->line_off + j];
            const prof_function_info *fn = &p->funcs[ln->function_id - 1];
            size_t nl;
            const char *name = prof_str(p, fn->name, &nl);
            if (!first && put_raw(f, ";", 1) != 0)
                return -1;
            if (nl == 0 ? put(f, "[unknown]", 9, false) : put(f, name, nl, false))
                return -1;
            first = false;
        }
    }
    return 0;
}

static int add_line(folder *f, size_t start, int64_t count)
{
    size_t n = f->len - start;
    const char *s = f->buf + start;
    uint64_t h = ph_bytes(s, n, 0xf01d);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&f->index, h, &pos)) != SIZE_MAX) {
        fline *l = &f->lines[i];
        if (l->len == n && memcmp(f->buf + l->off, s, n) == 0) {
            if (__builtin_add_overflow(l->count, count, &l->count))
                l->count = count < 0 ? INT64_MIN : INT64_MAX; /* saturate */
            f->len = start;                                   /* drop the duplicate bytes */
            return 0;
        }
    }
    if (ph_grow((void **)&f->lines, &f->lines_cap, f->nlines + 1, sizeof *f->lines) != 0 ||
        ph_insert(&f->index, h, f->nlines) != 0)
        return -1;
    f->lines[f->nlines++] = (fline){start, n, count};
    return 0;
}

static int cmp_lines(const void *a, const void *b, void *ctx)
{
    const fline *x = a, *y = b;
    const char *buf = ctx;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(buf + x->off, buf + y->off, n);
    if (c != 0)
        return c;
    /* A prefix sorts first, but the next byte after it is ' ' in the
     * output, so compare as the full line would. */
    if (x->len == y->len)
        return 0;
    unsigned char nx = x->len > n ? (unsigned char)buf[x->off + n] : ' ';
    unsigned char ny = y->len > n ? (unsigned char)buf[y->off + n] : ' ';
    return nx < ny ? -1 : nx > ny ? 1 : 0;
}

int prof_encode_folded(const prof_profile *p, size_t col, char **out, size_t *len)
{
    if (col >= p->ntypes && p->nsamples > 0)
        return -1;
    folder f = {.p = p};
    int rc = -1;
    char *o = NULL;
    for (size_t i = 0; i < p->nsamples; i++) {
        prof_sample_info s;
        prof_get_sample(p, i, &s);
        if (s.values[col] == 0)
            continue;
        size_t start = f.len;
        if (build(&f, &s) != 0)
            goto done;
        if (f.len == start)
            continue; /* no comm label and no location: nothing to name */
        if (add_line(&f, start, s.values[col]) != 0)
            goto done;
    }
    if (f.nlines)
        qsort_r(f.lines, f.nlines, sizeof *f.lines, cmp_lines, f.buf);
    size_t olen = 0, ocap = 0;
    for (size_t i = 0; i < f.nlines; i++) {
        if (f.lines[i].count == 0)
            continue;
        if (ph_grow((void **)&o, &ocap, olen + f.lines[i].len + 24, 1) != 0)
            goto done;
        memcpy(o + olen, f.buf + f.lines[i].off, f.lines[i].len);
        olen += f.lines[i].len;
        olen += (size_t)snprintf(o + olen, 24, " %lld\n", (long long)f.lines[i].count);
    }
    if (!o && !(o = malloc(1)))
        goto done;
    *out = o;
    *len = olen;
    o = NULL;
    rc = 0;
done:
    free(o);
    free(f.buf);
    free(f.lines);
    ph_free(&f.index);
    return rc;
}

int prof_write_folded_file(const prof_profile *p, size_t col, const char *path, char *err,
                           size_t errlen)
{
    char *buf;
    size_t len;
    if (prof_encode_folded(p, col, &buf, &len) != 0) {
        prof_errf(err, errlen, "%s: %s", path,
                  col >= p->ntypes ? "no such sample type column" : "out of memory");
        return -1;
    }
    int rc = prof_write_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}
