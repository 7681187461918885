/* Time order, as perf's ordered events give it: records are queued (copied)
 * and sorted by time (then by arrival); a FINISHED_ROUND releases the
 * records no later than the newest time of the round before it, since
 * every CPU's buffer has been read past that point. At the end, or when
 * the queue holds more than its bound, records are released all or by
 * half. */
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

static int bytes_append(pd_bytes *b, const unsigned char *p, size_t n, size_t *off)
{
    size_t need = (n + 7) & ~(size_t)7;
    if (b->cap - b->len < need) {
        size_t cap = b->cap ? b->cap : 1u << 16;
        while (cap - b->len < need)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    *off = b->len;
    b->len += need;
    return 0;
}

void pd_queue_free(pd_queue *q)
{
    free(q->ents);
    free(q->arena.data);
    free(q->ready);
    free(q->ready_arena.data);
    memset(q, 0, sizeof *q);
}

int pd_queue_push(pd_queue *q, uint64_t time, const unsigned char *rec, size_t len,
                  uint64_t offset)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        pd_qent *e = realloc(q->ents, cap * sizeof *e);
        if (!e)
            return -1;
        q->ents = e;
        q->cap = cap;
    }
    size_t off;
    if (bytes_append(&q->arena, rec, len, &off))
        return -1;
    q->ents[q->n++] = (pd_qent){time, q->seq++, off, len, offset};
    if (time > q->round_max)
        q->round_max = time;
    return 0;
}

size_t pd_queue_bytes(const pd_queue *q)
{
    return q->arena.len;
}

static int cmp_ent(const void *a, const void *b)
{
    const pd_qent *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Releases the first k entries of the sorted queue; the rest are copied
 * into a new arena. Called only when the ready list is used up. */
static int release(pd_queue *q, size_t k)
{
    pd_bytes keep = {NULL, 0, 0};
    for (size_t i = k; i < q->n; i++) {
        size_t off;
        if (bytes_append(&keep, q->arena.data + q->ents[i].off, q->ents[i].len, &off)) {
            free(keep.data);
            return -1;
        }
        q->ents[i].off = off;
    }
    if (k > q->ready_cap) {
        pd_qent *r = realloc(q->ready, k * sizeof *r);
        if (!r) {
            free(keep.data);
            return -1;
        }
        q->ready = r;
        q->ready_cap = k;
    }
    if (k)
        memcpy(q->ready, q->ents, k * sizeof *q->ents);
    memmove(q->ents, q->ents + k, (q->n - k) * sizeof *q->ents);
    q->n -= k;
    q->nready = k;
    q->next = 0;
    free(q->ready_arena.data);
    q->ready_arena = q->arena;
    q->arena = keep;
    return 0;
}

int pd_queue_round(pd_queue *q)
{
    uint64_t limit = q->prev_round_max;
    bool any = q->any_round;
    q->prev_round_max = q->round_max;
    q->any_round = true;
    if (!any || !q->n)
        return 0;
    qsort(q->ents, q->n, sizeof *q->ents, cmp_ent);
    size_t k = 0;
    while (k < q->n && q->ents[k].time <= limit)
        k++;
    return k ? release(q, k) : 0;
}

int pd_queue_flush(pd_queue *q, bool all)
{
    if (!q->n)
        return 0;
    qsort(q->ents, q->n, sizeof *q->ents, cmp_ent);
    return release(q, all ? q->n : (q->n + 1) / 2);
}

bool pd_queue_pop(pd_queue *q, const unsigned char **rec, size_t *len, uint64_t *offset)
{
    if (q->next >= q->nready)
        return false;
    const pd_qent *e = &q->ready[q->next++];
    *rec = q->ready_arena.data + e->off;
    *len = e->len;
    *offset = e->offset;
    return true;
}
