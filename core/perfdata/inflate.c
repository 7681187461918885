/* COMPRESSED records (`perf record -z`): one zstd stream across all of
 * them, holding ordinary records, which may straddle two COMPRESSED
 * records. The output is produced a window at a time (at most one record
 * plus PD_CHUNK bytes are held), so a small record cannot make the reader
 * hold a large output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "pd_internal.h"

struct pd_inflate {
    ZSTD_DStream *ds;
    unsigned char *in; /* the payload being inflated (a copy) */
    size_t in_len, in_pos, in_cap;
    unsigned char *out; /* inflated bytes [start, len) */
    size_t start, len, cap;
    uint64_t total;
};

pd_inflate *pd_inflate_new(void)
{
    pd_inflate *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->cap = PD_CHUNK + PD_MAX_RECORD + 1;
    z->out = malloc(z->cap);
    z->ds = ZSTD_createDStream();
    if (!z->out || !z->ds || ZSTD_isError(ZSTD_initDStream(z->ds))) {
        pd_inflate_free(z);
        return NULL;
    }
    return z;
}

void pd_inflate_free(pd_inflate *z)
{
    if (!z)
        return;
    if (z->ds)
        ZSTD_freeDStream(z->ds);
    free(z->in);
    free(z->out);
    free(z);
}

int pd_inflate_feed(pd_inflate *z, const unsigned char *p, size_t n, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    /* the previous payload is used up before the next record is read */
    if (n > z->in_cap) {
        unsigned char *b = realloc(z->in, n);
        if (!b) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        z->in = b;
        z->in_cap = n;
    }
    memcpy(z->in, p, n);
    z->in_len = n;
    z->in_pos = 0;
    return 0;
}

/* Inflates more into the output window. -1 on corrupt data. */
static int more(pd_inflate *z, char *err, size_t errlen)
{
    if (z->start) {
        memmove(z->out, z->out + z->start, z->len - z->start);
        z->len -= z->start;
        z->start = 0;
    }
    while (z->in_pos < z->in_len && z->len < z->cap) {
        ZSTD_inBuffer in = {z->in, z->in_len, z->in_pos};
        ZSTD_outBuffer out = {z->out, z->cap, z->len};
        size_t rc = ZSTD_decompressStream(z->ds, &out, &in);
        if (ZSTD_isError(rc)) {
            snprintf(err, errlen, "corrupt zstd data (%s)", ZSTD_getErrorName(rc));
            return -1;
        }
        z->total += out.pos - z->len;
        bool progress = in.pos != z->in_pos || out.pos != z->len;
        z->in_pos = in.pos;
        z->len = out.pos;
        if (!progress)
            break;
    }
    return 0;
}

int pd_inflate_next(pd_inflate *z, const unsigned char **rec, size_t *len, char *err,
                    size_t errlen)
{
    for (int round = 0; round < 2; round++) {
        size_t avail = z->len - z->start;
        if (avail >= 8) {
            const unsigned char *h = z->out + z->start;
            size_t size = (size_t)h[6] | (size_t)h[7] << 8;
            if (size < 8) {
                snprintf(err, errlen, "corrupt record of size %zu inside", size);
                return -1;
            }
            if (avail >= size) {
                *rec = h;
                *len = size;
                z->start += size;
                return 1;
            }
        }
        if (round == 0 && more(z, err, errlen))
            return -1;
    }
    return 0;
}

uint64_t pd_inflate_total(const pd_inflate *z)
{
    return z->total;
}

size_t pd_inflate_pending(const pd_inflate *z)
{
    return z->len - z->start;
}
