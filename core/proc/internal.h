/* Internals shared by the proc source files; not part of the API. */
#ifndef PERFGO_PROC_INTERNAL_H
#define PERFGO_PROC_INTERNAL_H

#include <signal.h>

#include "proc.h"

#define PROC_CHUNK 65536

struct proc_buf {
    char *data;
    size_t start, len, cap;
};

struct proc_stream {
    enum proc_io mode;
    int fd;       /* our read end, -1 when none or closed */
    int tee_fd;   /* the tee's file, -1 */
    int echo_fd;  /* where the tee shows output (1 or 2), -1 after EPIPE */
    bool capture; /* keep the bytes for proc_read */
    bool eof;
    int tee_error; /* errno of the first failed write to the tee file */
    struct proc_buf buf;
};

struct proc_child {
    pid_t pid;
    bool pgroup;  /* leader of its own process group */
    int pidfd;    /* -1 when the kernel has no pidfd_open */
    int stdin_fd; /* our write end, -1 */
    struct proc_stream out[2];
    double start;
    bool reaped;
    int wstatus;
    struct proc_status status;
    unsigned long sig_gen; /* interrupt generation at spawn */
};

/* stream.c */
int proc_buf_append(struct proc_buf *b, const char *data, size_t n);
void proc_buf_consume(struct proc_buf *b, size_t n);
void proc_buf_free(struct proc_buf *b);
/* Reads what is ready on s (one read), tees/captures it. Returns 1 data,
 * 0 nothing or EOF reached, -1 error. */
int proc_stream_pull(struct proc_stream *s);
/* Pulls until the fd would block or reaches EOF. */
void proc_stream_drain(struct proc_stream *s);

/* wait.c */
/* One round of poll over the child's streams, its pidfd and the signal
 * pipe. want_write: also wait for stdin to be writable (*writable set).
 * timeout_ms < 0: forever. Returns 0 or -1 with errno. */
int proc_pump(struct proc_child *c, bool want_write, int timeout_ms, bool *writable);
/* Reaps the child if it has exited. Returns true once reaped. */
bool proc_check_exit(struct proc_child *c);

/* signals.c */
void proc_signals_track(pid_t target);
void proc_signals_untrack(pid_t target);
int proc_signals_fd(void);
unsigned long proc_signals_generation(void);
void proc_signals_block(sigset_t *old);
void proc_signals_restore(const sigset_t *old);
void proc_signals_child_reset(void);
void proc_groups_add(pid_t pgid);
void proc_groups_remove(pid_t pgid);

double proc_now(void);

#endif
