/* Time order, as perf's ordered events give it: records are queued where
 * they were read (in their block, not copied) and sorted by time, then by
 * arrival; a FINISHED_ROUND releases the records no later than the newest
 * time of the round before it, since every CPU's buffer has been read past
 * that point. At the end everything is released; when the queue holds
 * more than its bound, the older half.
 *
 * A round arrives as one run of records in time order per CPU (perf
 * empties each CPU's buffer in turn), after the records the last round
 * kept, which are in order too: the sort merges those runs. */
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"
#include "sys/hugepage.h"

/* ---- blocks ---- */

pd_block *pd_block_get(pd_pool *p)
{
    pd_block *b = p->free;
    if (b) {
        p->free = b->next_free;
    } else {
        if (!(b = malloc(sizeof *b)))
            return NULL;
        if (!(b->data = sys_alloc_huge(PD_BLOCK))) {
            free(b);
            return NULL;
        }
        b->next_all = p->all;
        p->all = b;
    }
    b->next_free = NULL;
    b->refs = 1;
    p->live++;
    return b;
}

void pd_block_put(pd_pool *p, pd_block *b)
{
    if (b && --b->refs == 0) {
        b->next_free = p->free;
        p->free = b;
        p->live--;
    }
}

void pd_pool_free(pd_pool *p)
{
    for (pd_block *b = p->all, *next; b; b = next) {
        next = b->next_all;
        free(b->data);
        free(b);
    }
    memset(p, 0, sizeof *p);
}

/* ---- the queue ---- */

void pd_queue_free(pd_queue *q, pd_pool *pool)
{
    for (size_t i = q->next; i < q->n; i++)
        pd_block_put(pool, q->ents[i].blk);
    free(q->ents);
    free(q->tmp);
    memset(q, 0, sizeof *q);
}

static size_t rec_size(const unsigned char *rec)
{
    return (size_t)rec[6] | (size_t)rec[7] << 8;
}

int pd_queue_push(pd_queue *q, uint64_t time, const unsigned char *rec, pd_block *blk,
                  uint64_t offset)
{
    if (q->next == q->nready && q->nready) { /* the released ones are used up */
        memmove(q->ents, q->ents + q->nready, (q->n - q->nready) * sizeof *q->ents);
        q->n -= q->nready;
        q->nready = q->next = 0;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        pd_qent *e = realloc(q->ents, cap * sizeof *e);
        if (!e)
            return -1;
        q->ents = e;
        pd_qent *t = realloc(q->tmp, cap * sizeof *t);
        if (!t)
            return -1;
        q->tmp = t;
        q->cap = cap;
    }
    q->ents[q->n++] = (pd_qent){time, rec, blk, offset};
    q->bytes += rec_size(rec);
    if (time > q->round_max)
        q->round_max = time;
    return 0;
}

/* The end of the run of entries in time order that starts at i. */
static size_t run_end(const pd_qent *a, size_t i, size_t n)
{
    while (i + 1 < n && a[i].time <= a[i + 1].time)
        i++;
    return i + 1;
}

/* Merges a[0, m) and a[m, n) into out; on equal times the first run's
 * entry goes first (it arrived first). */
static void merge(const pd_qent *a, size_t m, size_t n, pd_qent *out)
{
    size_t i = 0, j = m, k = 0;
    while (i < m && j < n)
        out[k++] = a[j].time < a[i].time ? a[j++] : a[i++];
    memcpy(out + k, a + i, (m - i) * sizeof *a);
    k += m - i;
    memcpy(out + k, a + j, (n - j) * sizeof *a);
}

/* Sorts the waiting entries (stable: by time, then arrival), merging
 * neighbouring runs pass by pass. */
static void sort_waiting(pd_queue *q)
{
    size_t n = q->n - q->nready;
    pd_qent *a = q->ents + q->nready, *b = q->tmp + q->nready;
    while (run_end(a, 0, n) < n) {
        for (size_t i = 0; i < n;) {
            size_t m = run_end(a, i, n);
            size_t e = m < n ? run_end(a, m, n) : n;
            merge(a + i, m - i, e - i, b + i);
            i = e;
        }
        pd_qent *t = a;
        a = b;
        b = t;
    }
    if (a != q->ents + q->nready) { /* the sorted entries are in tmp: swap the arrays */
        memcpy(q->tmp, q->ents, q->nready * sizeof *q->ents);
        pd_qent *t = q->ents;
        q->ents = q->tmp;
        q->tmp = t;
    }
}

/* Releases the first k waiting entries (sorted). */
static void release(pd_queue *q, size_t k)
{
    for (size_t i = q->nready; i < q->nready + k; i++)
        q->bytes -= rec_size(q->ents[i].rec);
    q->nready += k;
}

int pd_queue_round(pd_queue *q)
{
    uint64_t limit = q->prev_round_max;
    bool any = q->any_round;
    q->prev_round_max = q->round_max;
    q->any_round = true;
    if (!any || !pd_queue_waiting(q))
        return 0;
    sort_waiting(q);
    size_t k = 0, w = pd_queue_waiting(q);
    while (k < w && q->ents[q->nready + k].time <= limit)
        k++;
    release(q, k);
    return 0;
}

int pd_queue_flush(pd_queue *q, bool all)
{
    size_t w = pd_queue_waiting(q);
    if (!w)
        return 0;
    sort_waiting(q);
    release(q, all ? w : (w + 1) / 2);
    return 0;
}

bool pd_queue_pop(pd_queue *q, pd_qent *out)
{
    if (q->next >= q->nready)
        return false;
    *out = q->ents[q->next++];
    return true;
}
