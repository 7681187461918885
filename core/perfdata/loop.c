/* The record loop: raw records from the input or from inflated COMPRESSED
 * records; perf's own header records applied; the others queued by time
 * (where they lie in their block) and released in order (pd_next). */
#include <string.h>

#include "pd_internal.h"

static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The next record of the input: 1, 0 at its end, -1 on error. */
static int next_raw(pd_reader *r, const unsigned char **rec, size_t *len, uint64_t *off)
{
    pd_src *s = &r->src;
    const unsigned char *h = pd_src_peek(s, 8);
    if (!h) {
        if (s->failed)
            return pd_fail(r, "read error: %s", strerror(s->err));
        if (s->len && pd_warn(r,
                              "the data ends inside a record header at offset %llu: "
                              "the complete records before it are read",
                              (unsigned long long)s->pos))
            return pd_fail(r, "out of memory");
        return 0;
    }
    size_t size = (size_t)h[6] | (size_t)h[7] << 8;
    if (size < 8)
        return pd_fail(r, "corrupt record at offset %llu: size %zu", (unsigned long long)s->pos,
                       size);
    const unsigned char *p = pd_src_peek(s, size);
    if (!p) {
        if (s->failed)
            return pd_fail(r, "read error: %s", strerror(s->err));
        if (pd_warn(r,
                    "the data ends inside a record at offset %llu (perf was stopped, or the "
                    "file was cut): the complete records before it are read",
                    (unsigned long long)s->pos))
            return pd_fail(r, "out of memory");
        return 0;
    }
    *rec = p;
    *len = size;
    *off = s->pos;
    pd_src_skip(s, size);
    r->counts.input_bytes += size;
    return 1;
}

/* Parses a record to be returned: 1, 0 (skipped), -1. */
static int deliver(pd_reader *r, const unsigned char *rec, size_t len, uint64_t off, pd_record *out)
{
    out->offset = off;
    uint32_t type = u32(rec);
    uint16_t misc = (uint16_t)(rec[4] | rec[5] << 8);
    int rc = pd_parse_record(r, type, misc, rec + 8, len - 8, out);
    if (rc == 1) {
        r->counts.records++;
        r->counts.samples += type == PD_SAMPLE;
    }
    return rc;
}

/* Pipe-mode HEADER_ATTR: the attribute, then its ids. */
static int header_attr(pd_reader *r, const unsigned char *p, size_t n)
{
    if (n < 8)
        return pd_fail(r, "corrupt attribute record");
    size_t asz = u32(p + 4);
    if (asz < 8 || asz > n)
        return pd_fail(r, "corrupt attribute record: attribute size %zu", asz);
    return pd_add_event(r, p, asz, p + asz, (n - asz) / 8);
}

/* Handles a raw record: 1 when *out is to be returned now, 0 when it was
 * consumed or queued, -1 on error. from_input: it came from the input
 * (not from an inflated stream), so a payload that follows it is skipped
 * there. */
static int handle(pd_reader *r, const unsigned char *rec, size_t len, uint64_t off, pd_block *blk,
                  bool from_input, pd_record *out)
{
    uint32_t type = u32(rec);
    const unsigned char *body = rec + 8;
    size_t n = len - 8;
    char msg[256];
    switch (type) {
    case PD_COMPRESSED:
        r->counts.compressed++;
        if (!r->z && !(r->z = pd_inflate_new(&r->pool)))
            return pd_fail(r, "out of memory");
        r->zoff = off;
        if (pd_inflate_feed(r->z, body, n, msg, sizeof msg))
            return pd_fail(r, "compressed record at offset %llu: %s", (unsigned long long)off, msg);
        return 0;
    case PD_FINISHED_ROUND:
        return pd_queue_round(&r->q);
    case PD_HEADER_ATTR:
        if (header_attr(r, body, n))
            return -1;
        break;
    case PD_HEADER_FEATURE:
        if (n >= 8 && pd_u64(body) < 256 && pd_feature(r, (unsigned)pd_u64(body), body + 8, n - 8))
            return -1;
        break;
    case PD_HEADER_BUILD_ID:
        if (pd_build_id_record(r, rec, len))
            return -1;
        break;
    case PD_HEADER_TRACING_DATA:
        if (from_input && n >= 4 && pd_src_discard(&r->src, ((uint64_t)u32(body) + 7) & ~7ULL))
            return pd_fail(r, "the tracing data at offset %llu is cut off",
                           (unsigned long long)off);
        return 0;
    case PD_AUXTRACE:
        r->counts.aux = true;
        if (from_input && n >= 8 && pd_src_discard(&r->src, pd_u64(body)))
            return pd_fail(r, "the AUX data at offset %llu is cut off", (unsigned long long)off);
        return 0;
    case PD_AUX:
    case PD_ITRACE_START:
    case PD_AUXTRACE_INFO:
        r->counts.aux = true;
        break;
    default: {
        uint64_t t;
        if (type < PD_HEADER_ATTR && pd_record_time(r, type, body, n, &t)) {
            blk->refs++;
            if (pd_queue_push(&r->q, t, rec, blk, off)) {
                pd_block_put(&r->pool, blk);
                return pd_fail(r, "out of memory");
            }
            /* bounds: the bytes queued, and the blocks they pin (a record
             * held back by a broken time would pin a block each) */
            if (r->q.bytes > PD_QUEUE_MAX)
                pd_queue_flush(&r->q, false);
            else if (r->pool.live > PD_BLOCKS_MAX)
                pd_queue_flush(&r->q, true);
            return 0;
        }
    }
    }
    return deliver(r, rec, len, off, out);
}

int pd_next(pd_reader *r, pd_record *out)
{
    pd_block_put(&r->pool, r->held); /* the record returned last is done with */
    r->held = NULL;
    for (;;) {
        const unsigned char *rec;
        size_t len;
        uint64_t off = 0;
        pd_block *blk;
        int rc;
        pd_qent e;
        if (pd_queue_pop(&r->q, &e)) {
            r->held = e.blk;
            len = (size_t)e.rec[6] | (size_t)e.rec[7] << 8;
            if ((rc = deliver(r, e.rec, len, e.offset, out)) != 0)
                return rc;
            pd_block_put(&r->pool, r->held);
            r->held = NULL;
            continue;
        }
        if (r->z) {
            char msg[256];
            rc = pd_inflate_next(r->z, &rec, &len, &blk, msg, sizeof msg);
            if (rc < 0)
                return pd_fail(r, "compressed record at offset %llu: %s",
                               (unsigned long long)r->zoff, msg);
            if (rc == 1) {
                if ((rc = handle(r, rec, len, r->zoff, blk, false, out)) != 0)
                    return rc;
                continue;
            }
        }
        if (r->finished_input) {
            if (pd_queue_waiting(&r->q)) {
                pd_queue_flush(&r->q, true);
                continue;
            }
            return 0;
        }
        rc = next_raw(r, &rec, &len, &off);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            r->finished_input = true;
            if (r->z && pd_inflate_pending(r->z) &&
                pd_warn(r, "the compressed data ends inside a record: the complete records "
                           "before it are read"))
                return pd_fail(r, "out of memory");
            if (r->z)
                r->counts.decompressed_bytes = pd_inflate_total(r->z);
            continue;
        }
        if ((rc = handle(r, rec, len, off, r->src.blk, true, out)) != 0)
            return rc;
    }
}
