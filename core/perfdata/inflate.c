/* COMPRESSED records (`perf record -z`): one zstd stream across all of
 * them, holding ordinary records, which may straddle two COMPRESSED
 * records. The output is inflated into the reader's blocks, a block at a
 * time, so that queued records stay where they were inflated and a small
 * record cannot make the reader hold a large output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "pd_internal.h"

struct pd_inflate {
    ZSTD_DStream *ds;
    unsigned char *in; /* the payload being inflated (a copy) */
    size_t in_len, in_pos, in_cap;
    pd_pool *pool;
    pd_block *blk; /* inflated bytes [start, len) of blk->data */
    size_t start, len;
    uint64_t total;
};

pd_inflate *pd_inflate_new(pd_pool *pool)
{
    pd_inflate *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->pool = pool;
    z->blk = pd_block_get(pool);
    z->ds = ZSTD_createDStream();
    if (!z->blk || !z->ds || ZSTD_isError(ZSTD_initDStream(z->ds))) {
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
    pd_block_put(z->pool, z->blk);
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

/* Inflates more into the output block. -1 on corrupt data or OOM. */
static int more(pd_inflate *z, char *err, size_t errlen)
{
    if (z->start) { /* the bytes not used yet go to the start of a block */
        size_t rest = z->len - z->start;
        if (z->blk->refs == 1) {
            memmove(z->blk->data, z->blk->data + z->start, rest);
        } else {
            pd_block *b = pd_block_get(z->pool);
            if (!b) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            memcpy(b->data, z->blk->data + z->start, rest);
            pd_block_put(z->pool, z->blk);
            z->blk = b;
        }
        z->len = rest;
        z->start = 0;
    }
    while (z->in_pos < z->in_len && z->len < PD_BLOCK) {
        ZSTD_inBuffer in = {z->in, z->in_len, z->in_pos};
        ZSTD_outBuffer out = {z->blk->data, PD_BLOCK, z->len};
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

int pd_inflate_next(pd_inflate *z, const unsigned char **rec, size_t *len, pd_block **blk,
                    char *err, size_t errlen)
{
    for (int round = 0; round < 2; round++) {
        size_t avail = z->len - z->start;
        if (avail >= 8) {
            const unsigned char *h = z->blk->data + z->start;
            size_t size = (size_t)h[6] | (size_t)h[7] << 8;
            if (size < 8) {
                snprintf(err, errlen, "corrupt record of size %zu inside", size);
                return -1;
            }
            if (avail >= size) {
                *rec = h;
                *len = size;
                *blk = z->blk;
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
