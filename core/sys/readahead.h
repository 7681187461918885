/* Reading a file ahead in a second thread: while the caller works on one
 * block, the next ones are being read, so the kernel's copy of the file
 * into memory overlaps with the caller's work instead of adding to it. */
#ifndef PERFGO_READAHEAD_H
#define PERFGO_READAHEAD_H

#include <stddef.h>
#include <sys/types.h>

#include <stdbool.h>

typedef struct sys_readahead sys_readahead;

/* Whether reading ahead can pay: the calling thread may run on more than
 * one CPU. On one CPU the reader thread only takes turns with the caller,
 * adding its switches and wake-ups to the same copy; read in place then. */
bool sys_readahead_useful(void);

/* Starts reading fd (a regular file: reads never block for long) in blocks
 * of block_size bytes, up to nblocks blocks ahead. NULL with errno set when
 * out of memory or the thread cannot start. fd stays the caller's. */
sys_readahead *sys_readahead_new(int fd, size_t block_size, size_t nblocks);

/* The next block: its length, 0 at the end of the file, -1 with errno set
 * when a read failed. *data stays valid until the next call or
 * sys_readahead_free. */
ssize_t sys_readahead_next(sys_readahead *r, const char **data);

/* Stops the thread (at most one read in progress is waited for) and frees
 * everything; NULL is ignored. */
void sys_readahead_free(sys_readahead *r);

#endif
