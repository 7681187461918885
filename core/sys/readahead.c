/* A ring of blocks filled by a reader thread and emptied by the caller. */
#include "readahead.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct block {
    char *data;
    ssize_t len; /* bytes read; 0 = end of file; -1 = error */
    int err;
} block;

struct sys_readahead {
    int fd;
    size_t size, n;
    block *ring;
    size_t head;   /* the next block the caller takes */
    size_t filled; /* blocks read and not yet taken (the caller's one included) */
    bool holding;  /* the caller holds ring[head - 1] */
    bool done;     /* the thread read the end or an error */
    bool stop;
    /* Each side is woken only when it sleeps, and the thread, once the ring
     * is full, only when half of it is free again: a wake-up costs far
     * more than a block hand-off (an interrupt to the other CPU). */
    bool reader_sleeps, caller_sleeps;
    pthread_mutex_t mu;
    pthread_cond_t reader_cv, caller_cv;
    pthread_t thread;
};

bool sys_readahead_useful(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return true; /* more CPUs than the set holds */
    return CPU_COUNT(&set) > 1;
}

static void *reader_main(void *arg)
{
    sys_readahead *r = arg;
    size_t tail = 0;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        if (r->filled == r->n) {
            r->reader_sleeps = true;
            while (!r->stop && r->n - r->filled < (r->n + 1) / 2)
                pthread_cond_wait(&r->reader_cv, &r->mu);
            r->reader_sleeps = false;
        }
        bool stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            return NULL;
        block *b = &r->ring[tail];
        ssize_t got;
        do
            got = read(r->fd, b->data, r->size);
        while (got < 0 && errno == EINTR);
        b->len = got;
        b->err = got < 0 ? errno : 0;
        pthread_mutex_lock(&r->mu);
        r->filled++;
        if (got <= 0)
            r->done = true;
        if (r->caller_sleeps)
            pthread_cond_signal(&r->caller_cv);
        pthread_mutex_unlock(&r->mu);
        if (got <= 0)
            return NULL;
        tail = (tail + 1) % r->n;
    }
}

sys_readahead *sys_readahead_new(int fd, size_t block_size, size_t nblocks)
{
    if (block_size == 0 || nblocks < 2) {
        errno = EINVAL;
        return NULL;
    }
    sys_readahead *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = fd;
    r->size = block_size;
    r->n = nblocks;
    r->ring = calloc(nblocks, sizeof *r->ring);
    bool ok = r->ring != NULL;
    for (size_t i = 0; ok && i < nblocks; i++)
        ok = (r->ring[i].data = malloc(block_size)) != NULL;
    if (ok && pthread_mutex_init(&r->mu, NULL) != 0)
        ok = false;
    else if (ok && pthread_cond_init(&r->reader_cv, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        ok = false;
    } else if (ok && pthread_cond_init(&r->caller_cv, NULL) != 0) {
        pthread_cond_destroy(&r->reader_cv);
        pthread_mutex_destroy(&r->mu);
        ok = false;
    } else if (ok) {
        int e = pthread_create(&r->thread, NULL, reader_main, r);
        if (e != 0) {
            pthread_cond_destroy(&r->caller_cv);
            pthread_cond_destroy(&r->reader_cv);
            pthread_mutex_destroy(&r->mu);
            errno = e;
            ok = false;
        }
    }
    if (!ok) {
        int e = errno;
        for (size_t i = 0; r->ring && i < nblocks; i++)
            free(r->ring[i].data);
        free(r->ring);
        free(r);
        errno = e;
        return NULL;
    }
    return r;
}

ssize_t sys_readahead_next(sys_readahead *r, const char **data)
{
    pthread_mutex_lock(&r->mu);
    if (r->holding) { /* the block given last time goes back to the thread */
        r->holding = false;
        r->filled--;
        if (r->reader_sleeps && r->n - r->filled >= (r->n + 1) / 2)
            pthread_cond_signal(&r->reader_cv);
    }
    if (r->filled == 0 && !r->done) {
        r->caller_sleeps = true;
        while (r->filled == 0 && !r->done)
            pthread_cond_wait(&r->caller_cv, &r->mu);
        r->caller_sleeps = false;
    }
    if (r->filled == 0) { /* only after the end was taken already */
        pthread_mutex_unlock(&r->mu);
        *data = NULL;
        return 0;
    }
    block *b = &r->ring[r->head];
    r->head = (r->head + 1) % r->n;
    if (b->len > 0)
        r->holding = true;
    else
        r->filled--; /* the end or an error: nothing to hold */
    pthread_mutex_unlock(&r->mu);
    *data = b->data;
    if (b->len < 0)
        errno = b->err;
    return b->len;
}

void sys_readahead_free(sys_readahead *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->reader_cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->caller_cv);
    pthread_cond_destroy(&r->reader_cv);
    pthread_mutex_destroy(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        free(r->ring[i].data);
    free(r->ring);
    free(r);
}
