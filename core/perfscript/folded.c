/* The folded writer (README §1, §5): the merged stacks as
 * `root;outer;...;leaf COUNT` lines, merged by name and sorted bytewise. */
#include <stdio.h>
#include <stdlib.h>

#include "ps_internal.h"

typedef struct fline {
    const char *s; /* the stack text (or whole line) */
    size_t len;
    uint64_t count;
} fline;

static int cmp_fline(const void *a, const void *b)
{
    const fline *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Merges lines with equal text into the first of them (adding counts) and
 * compacts the array; returns the new count, SIZE_MAX on OOM. */
static size_t merge_equal(fline *lines, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return SIZE_MAX;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)ps_hash_all(lines[i].s, lines[i].len, 7) & (cap - 1);
        for (;;) {
            uint32_t j = slots[k];
            if (j == 0) {
                lines[m] = lines[i];
                slots[k] = (uint32_t)++m;
                break;
            }
            fline *e = &lines[j - 1];
            if (e->len == lines[i].len && memcmp(e->s, lines[i].s, e->len) == 0) {
                e->count = ps_sat_add(e->count, lines[i].count);
                break;
            }
            k = (k + 1) & (cap - 1);
        }
    }
    free(slots);
    return m;
}

typedef struct namecache {
    size_t *off; /* per frame id * 2 (+1 for java): offset+1 into names */
    size_t *len;
    char *names;
    size_t nlen, ncap;
} namecache;

static int frame_name(const ps_parser *p, namecache *nc, const ps_fold_options *o, uint32_t fid,
                      uint32_t src, bool java, const char **s, size_t *n, char **tmp, size_t *tlen,
                      size_t *tcap)
{
    const ps_frame *f = ps_frame_get(p, fid);
    if (src && o->srcline) {
        ps_str sl = ps_srcline_get(p, src);
        *tlen = 0;
        int rc = ps_fold_frame(f, o, java, sl.ptr, sl.len, tmp, tlen, tcap);
        *s = *tmp;
        *n = *tlen;
        return rc;
    }
    size_t k = (size_t)(fid - 1) * 2 + java;
    if (!nc->off[k]) {
        size_t start = nc->nlen;
        int rc = ps_fold_frame(f, o, java, NULL, 0, &nc->names, &nc->nlen, &nc->ncap);
        if (rc)
            return rc;
        nc->off[k] = start + 1;
        nc->len[k] = nc->nlen - start;
    }
    *s = nc->names + nc->off[k] - 1;
    *n = nc->len[k];
    return PS_OK;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n) {
            if (c > SIZE_MAX / 2)
                return false;
            c *= 2;
        }
        char *d = realloc(*buf, c);
        if (!d)
            return false;
        *buf = d;
        *cap = c;
    }
    if (n)
        memcpy(*buf + *len, s, n);
    *len += n;
    return true;
}

static bool put_root(const ps_parser *p, const ps_stack *st, const ps_fold_options *o, char **buf,
                     size_t *len, size_t *cap)
{
    ps_str c = ps_comm_get(p, st->comm);
    size_t start = *len;
    if (!append(buf, len, cap, c.ptr, c.len))
        return false;
    for (size_t i = start; i < *len; i++) {
        if ((*buf)[i] == ' ')
            (*buf)[i] = '_';
        else if ((*buf)[i] == ';')
            (*buf)[i] = ':';
    }
    if (o->pid || o->tid) {
        char ids[64];
        char pid[24] = "?", tid[24] = "?";
        if (st->pid >= 0 && !st->pid_inferred)
            snprintf(pid, sizeof pid, "%lld", (long long)st->pid);
        if (st->tid >= 0)
            snprintf(tid, sizeof tid, "%lld", (long long)st->tid);
        int n = o->tid ? snprintf(ids, sizeof ids, "-%s/%s", pid, tid)
                       : snprintf(ids, sizeof ids, "-%s", pid);
        if (!append(buf, len, cap, ids, (size_t)n))
            return false;
    }
    return true;
}

/* Which event the fold keeps: its id, UINT32_MAX for "none matched". */
static int pick_event(ps_parser *p, const ps_fold_options *o, uint32_t *keep)
{
    if (o->event_filter) {
        *keep = ps_event_find(p, o->event_filter, o->event_filter_len);
        if (*keep)
            return PS_OK;
        *keep = UINT32_MAX;
        char seen[256] = "";
        size_t used = 0;
        for (uint32_t e = 1; e <= ps_event_count(p) && used + 1 < sizeof seen; e++) {
            ps_str s = ps_event_get(p, e);
            int n = snprintf(seen + used, sizeof seen - used, "%s%.*s", e > 1 ? ", " : "",
                             (int)s.len, s.ptr);
            if (n < 0)
                break;
            used += (size_t)n;
            if (used >= sizeof seen)
                used = sizeof seen - 1;
        }
        return ps_warn(p, "event filter '%.*s' matches no sample (events seen: %s)",
                       (int)o->event_filter_len, o->event_filter,
                       ps_event_count(p) ? seen : "none");
    }
    *keep = ps_first_event(p);
    if (ps_event_count(p) > 1) {
        ps_str k = ps_event_get(p, *keep);
        char dropped[256] = "";
        size_t used = 0;
        for (uint32_t e = 1; e <= ps_event_count(p) && used + 1 < sizeof dropped; e++) {
            if (e == *keep)
                continue;
            ps_str s = ps_event_get(p, e);
            int n = snprintf(dropped + used, sizeof dropped - used, "%s%.*s", used ? ", " : "",
                             (int)s.len, s.ptr);
            if (n < 0)
                break;
            used += (size_t)n;
            if (used >= sizeof dropped)
                used = sizeof dropped - 1;
        }
        return ps_warn(p,
                       "folding only event '%.*s' (the first seen); dropped samples of: %s "
                       "(choose with --event-filter)",
                       (int)k.len, k.ptr, dropped);
    }
    return PS_OK;
}

int ps_folded(ps_parser *p, const ps_fold_options *o, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    uint32_t keep;
    int rc = pick_event(p, o, &keep);
    if (rc)
        return rc;
    size_t nframes = ps_frame_count(p), nstacks = ps_stack_count(p);
    namecache nc = {0};
    nc.off = calloc(nframes * 2 + 1, sizeof *nc.off);
    nc.len = calloc(nframes * 2 + 1, sizeof *nc.len);
    fline *lines = malloc((nstacks + 1) * sizeof *lines);
    size_t *offs = malloc((nstacks + 1) * sizeof *offs);
    char *text = NULL, *tmp = NULL, *res = NULL;
    size_t tlen = 0, tcap = 0, tmplen = 0, tmpcap = 0, rlen = 0, rcap = 0;
    size_t nl = 0;
    rc = PS_ERR_NOMEM;
    if (!nc.off || !nc.len || !lines || !offs)
        goto out;

    for (size_t i = 0; i < nstacks; i++) {
        ps_stack st;
        ps_stack_get(p, i, &st);
        if (st.event && st.event != keep)
            continue;
        if (!st.comm && st.nframes == 0)
            continue;
        size_t start = tlen;
        bool any = st.comm != 0;
        if (st.comm && !put_root(p, &st, o, &text, &tlen, &tcap))
            goto out;
        ps_str comm = ps_comm_get(p, st.comm);
        bool java = comm.len >= 4 && memcmp(comm.ptr, "java", 4) == 0;
        for (size_t k = st.nframes; k-- > 0;) {
            const char *s;
            size_t n;
            if (frame_name(p, &nc, o, st.frames[k], st.srclines[k], java, &s, &n, &tmp, &tmplen,
                           &tmpcap))
                goto out;
            if ((any && !append(&text, &tlen, &tcap, ";", 1)) || !append(&text, &tlen, &tcap, s, n))
                goto out;
            any = true;
        }
        offs[nl] = start;
        lines[nl].len = tlen - start;
        lines[nl].count = st.weight;
        nl++;
    }
    for (size_t i = 0; i < nl; i++)
        lines[i].s = text + offs[i];

    /* merge equal stacks through a hash (stacks share long prefixes, so
     * sorting them first would compare long strings), then write and sort
     * whole lines once */
    size_t m = merge_equal(lines, nl);
    if (m == SIZE_MAX)
        goto out;
    for (size_t i = 0; i < m; i++) {
        char num[32];
        int n = snprintf(num, sizeof num, " %llu\n", (unsigned long long)lines[i].count);
        offs[i] = rlen;
        if (!append(&res, &rlen, &rcap, lines[i].s, lines[i].len) ||
            !append(&res, &rlen, &rcap, num, (size_t)n))
            goto out;
        lines[i].len += (size_t)n;
    }
    for (size_t i = 0; i < m; i++)
        lines[i].s = res + offs[i];
    qsort(lines, m, sizeof *lines, cmp_fline);
    char *sorted = malloc(rlen + 1);
    if (!sorted)
        goto out;
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        memcpy(sorted + w, lines[i].s, lines[i].len);
        w += lines[i].len;
    }
    sorted[w] = '\0';
    *out = sorted;
    *outlen = w;
    rc = PS_OK;
out:
    free(nc.off);
    free(nc.len);
    free(nc.names);
    free(lines);
    free(offs);
    free(text);
    free(tmp);
    free(res);
    return rc;
}
