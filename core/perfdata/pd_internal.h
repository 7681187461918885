/* Private to the perf.data reader (reader.c, features.c, record.c,
 * order.c, inflate.c). */
#ifndef PERFGO_PD_INTERNAL_H
#define PERFGO_PD_INTERNAL_H

#include <stdarg.h>

#include "perfdata.h"

#define PD_MAGIC 0x32454c4946524550ULL /* "PERFILE2" */
#define PD_MAX_RECORD 65535u           /* header.size is 16 bits */
#define PD_CHUNK (1u << 20)            /* read size of the spool copy */
#define PD_BLOCK ((size_t)2 << 20)     /* input is read and inflated into blocks of this size */
#define PD_MAX_EVENTS 4096
#define PD_MAX_FEATURE (64u << 20) /* a feature section larger than this is refused */
#define PD_QUEUE_MAX (64u << 20)   /* bytes of queued records before half is released */
#define PD_BLOCKS_MAX 96           /* blocks pinned by queued records before all are released */

/* A buffer that input is read (or inflated) into. Records are not copied
 * out of it: a queued record points into its block, and a block is reused
 * only when no queued record pins it any more. Its data is one huge page
 * where the kernel offers them (one page fault instead of 512). */
typedef struct pd_block {
    struct pd_block *next_free; /* in the pool's free list */
    struct pd_block *next_all;  /* every block of the pool */
    size_t refs;                /* queued records in it, +1 while it is being filled */
    unsigned char *data;        /* PD_BLOCK bytes */
} pd_block;

typedef struct pd_pool {
    pd_block *free, *all;
    size_t nfree;
    size_t live; /* blocks in use (not in the free list) */
} pd_pool;

/* A block with refs 1 (taken from the free list, or new); NULL on OOM. */
pd_block *pd_block_get(pd_pool *p);
/* Drops one reference; the block goes back to the pool at 0. */
void pd_block_put(pd_pool *p, pd_block *b);
/* Frees every block, pinned or not. */
void pd_pool_free(pd_pool *p);

/* Bytes [pos, end) of an input, read into blocks. */
typedef struct pd_src {
    int fd;
    uint64_t pos; /* input offset of blk->data[start] */
    uint64_t end; /* where the data ends (UINT64_MAX: at EOF) */
    pd_pool *pool;
    pd_block *blk; /* the block being read into, NULL before the first read */
    size_t start, len;
    bool eof;
    bool failed; /* a read error (errno in err) */
    int err;
} pd_src;

/* A queued record: where it is, pinning its block. */
typedef struct pd_qent {
    uint64_t time;
    const unsigned char *rec; /* header included; the size is in the header */
    pd_block *blk;
    uint64_t offset; /* input offset */
} pd_qent;

typedef struct pd_queue {
    pd_qent *ents, *tmp; /* ents[next, nready): released; [nready, n): waiting */
    size_t n, cap;
    size_t nready, next;
    size_t bytes;                       /* of the waiting records */
    uint64_t round_max, prev_round_max; /* newest time of this and the last round */
    bool any_round;
} pd_queue;

typedef struct pd_idmap {
    uint64_t *ids;
    uint32_t *events; /* event index + 1, 0 = empty */
    size_t cap, n;
} pd_idmap;

struct pd_reader {
    char name[256];
    pd_src src;
    pd_info info;
    pd_event *events;
    size_t nevents, events_cap;
    pd_idmap idmap;
    /* sample id positions (perf's id_pos/is_pos), from the first event */
    int id_pos;   /* u64 index of the id in a sample, -1 = none */
    int is_pos;   /* u64 index from the end of a non-sample record, -1 = none */
    int owned_fd; /* a spooled copy of a piped file-mode input, or -1 */
    char **owned; /* owned allocations (strings of info) */
    size_t nowned, owned_cap;
    const char **cmdline;
    pd_build_id *bids;
    size_t nbids, bids_cap;

    pd_pool pool;
    pd_queue q;
    pd_block *held;       /* the block of the record returned last from the queue */
    struct pd_inflate *z; /* COMPRESSED records, NULL until one comes */
    uint64_t zoff;        /* offset of the COMPRESSED record being inflated */
    pd_counts counts;
    bool finished_input;
    char error[512];
    char **warnings;
    size_t nwarnings, warnings_cap;
};

/* reader.c */
int pd_fail(pd_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pd_warn(pd_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A NUL-terminated copy owned by the reader; NULL on OOM. */
char *pd_strdup(pd_reader *r, const char *s, size_t n);
/* Adds event attr (attr bytes, size n) with its ids; 0 or -1 (pd_fail). */
int pd_add_event(pd_reader *r, const unsigned char *attr, size_t n, const unsigned char *ids,
                 size_t nids);
/* The event index of sample id, or SIZE_MAX. */
size_t pd_event_of_id(const pd_reader *r, uint64_t id);

/* src: n bytes at the current position (growing the buffer up to need);
 * NULL at the end of the data or on a read error (src->failed). */
const unsigned char *pd_src_peek(pd_src *s, size_t n);
void pd_src_skip(pd_src *s, size_t n);
/* Skips n bytes that may be far more than the buffer holds. 0 or -1. */
int pd_src_discard(pd_src *s, uint64_t n);

/* features.c: a feature section's bytes (file mode) or a HEADER_FEATURE
 * record's payload. 0, or -1 with pd_fail. */
int pd_feature(pd_reader *r, unsigned feat, const unsigned char *p, size_t n);
/* A build id record (feature BUILD_ID or HEADER_BUILD_ID record). */
int pd_build_id_record(pd_reader *r, const unsigned char *p, size_t n);

/* record.c: fills out's type-specific fields from body (size n). The event
 * of a sample is found by its id. 1 = ok, 0 = skip (unknown event), -1 =
 * error (pd_fail). */
int pd_parse_record(pd_reader *r, uint32_t type, uint16_t misc, const unsigned char *body, size_t n,
                    pd_record *out);
/* The time of a record, when it has one (sample TIME or sample_id_all). */
bool pd_record_time(const pd_reader *r, uint32_t type, const unsigned char *body, size_t n,
                    uint64_t *time);
/* The sample-id positions from the events (after each event is added). */
void pd_update_id_pos(pd_reader *r);

/* order.c */
void pd_queue_free(pd_queue *q, pd_pool *pool);
/* Queues record rec (its header first) of block blk, whose reference it
 * takes over. 0 or -1 (OOM). */
int pd_queue_push(pd_queue *q, uint64_t time, const unsigned char *rec, pd_block *blk,
                  uint64_t offset);
/* FINISHED_ROUND: releases the records no later than the round before. */
int pd_queue_round(pd_queue *q);
/* Releases everything (end of input) or the older half. */
int pd_queue_flush(pd_queue *q, bool all);
/* The next released record (its block reference goes to the caller);
 * false when none is ready. */
bool pd_queue_pop(pd_queue *q, pd_qent *out);
/* Records waiting (not released). */
static inline size_t pd_queue_waiting(const pd_queue *q)
{
    return q->n - q->nready;
}

/* inflate.c: COMPRESSED records. */
typedef struct pd_inflate pd_inflate;
/* Inflated records go into blocks of pool. */
pd_inflate *pd_inflate_new(pd_pool *pool);
void pd_inflate_free(pd_inflate *z);
/* Feeds a COMPRESSED record's payload. 0 or -1 (corrupt: message in err). */
int pd_inflate_feed(pd_inflate *z, const unsigned char *p, size_t n, char *err, size_t errlen);
/* The next whole record of the inflated stream: 1 (rec, len, and the
 * block it is in), 0 when more input is needed, -1 on corrupt data or OOM
 * (message in err). */
int pd_inflate_next(pd_inflate *z, const unsigned char **rec, size_t *len, pd_block **blk,
                    char *err, size_t errlen);
/* Bytes inflated so far; bytes left over that are not a whole record. */
uint64_t pd_inflate_total(const pd_inflate *z);
size_t pd_inflate_pending(const pd_inflate *z);

#endif
