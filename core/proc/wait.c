/*
 * The poll loop shared by wait, read and write: it moves tee'd output to
 * the terminal and file, drains pipes into their buffers (so a child never
 * blocks on a full pipe nobody reads), notices the child's exit through a
 * pidfd (or a short poll timeout where the kernel has none) and wakes on
 * the signal self-pipe. Also kill, reap and free.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

double proc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_status(struct proc_child *c, int wstatus)
{
    c->reaped = true;
    c->wstatus = wstatus;
    c->status.duration = proc_now() - c->start;
    if (WIFSIGNALED(wstatus)) {
        c->status.signal = WTERMSIG(wstatus);
        c->status.code = 128 + c->status.signal;
    } else {
        c->status.signal = 0;
        c->status.code = WEXITSTATUS(wstatus);
    }
    c->status.interrupted = proc_signals_generation() != c->sig_gen;
    proc_signals_untrack(c->pgroup ? -c->pid : c->pid);
    if (c->pidfd >= 0) {
        close(c->pidfd);
        c->pidfd = -1;
    }
}

bool proc_check_exit(struct proc_child *c)
{
    if (c->reaped)
        return true;
    int wstatus;
    pid_t r;
    do {
        r = waitpid(c->pid, &wstatus, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == c->pid) {
        set_status(c, wstatus);
    } else if (r < 0 && errno == ECHILD) {
        /* Someone else reaped it (a SIGCHLD handler set to SIG_IGN): we
         * cannot know how it ended. */
        set_status(c, 0);
    }
    return c->reaped;
}

int proc_pump(struct proc_child *c, bool want_write, int timeout_ms, bool *writable)
{
    struct pollfd fds[5];
    int kinds[5];
    nfds_t n = 0;
    for (int i = 0; i < 2; i++) {
        if (c->out[i].fd >= 0) {
            fds[n] = (struct pollfd){.fd = c->out[i].fd, .events = POLLIN};
            kinds[n++] = i;
        }
    }
    if (!c->reaped && c->pidfd >= 0) {
        fds[n] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
        kinds[n++] = 2;
    }
    if (want_write && c->stdin_fd >= 0) {
        fds[n] = (struct pollfd){.fd = c->stdin_fd, .events = POLLOUT};
        kinds[n++] = 3;
    }
    if (proc_signals_fd() >= 0) {
        fds[n] = (struct pollfd){.fd = proc_signals_fd(), .events = POLLIN};
        kinds[n++] = 4;
    }
    if (n == 0 || (c->reaped && n == 1 && kinds[0] == 4 && !want_write))
        return 0; /* nothing left to wait for */
    int r = poll(fds, n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].revents == 0)
            continue;
        switch (kinds[i]) {
        case 0:
        case 1:
            if (proc_stream_pull(&c->out[kinds[i]]) < 0)
                return -1;
            break;
        case 2:
            proc_check_exit(c);
            break;
        case 3:
            if (writable)
                *writable = true;
            break;
        case 4: {
            unsigned char drain[64];
            while (read(fds[i].fd, drain, sizeof drain) > 0) {
            }
            break;
        }
        }
    }
    return 0;
}

int proc_wait(struct proc_child *c, double timeout, struct proc_status *st)
{
    double deadline = timeout >= 0 ? proc_now() + timeout : -1;
    while (!proc_check_exit(c)) {
        int ms = -1;
        if (deadline >= 0) {
            double left = deadline - proc_now();
            if (left <= 0)
                return 1;
            ms = (int)(left * 1000) + 1;
        }
        if (c->pidfd < 0 && (ms < 0 || ms > 20))
            ms = 20;
        if (proc_pump(c, false, ms, NULL) != 0)
            return -1;
    }
    /* Everything the child wrote is in the pipes now: show the rest of a
     * tee before returning. Piped output stays for proc_read. */
    for (int i = 0; i < 2; i++) {
        if (c->out[i].mode == PROC_TEE)
            proc_stream_drain(&c->out[i]);
    }
    if (st != NULL)
        *st = c->status;
    return 0;
}

int proc_kill(struct proc_child *c, int sig)
{
    if (proc_check_exit(c)) {
        errno = ESRCH;
        return -1;
    }
    if (c->pgroup && kill(-c->pid, sig) == 0)
        return 0;
    return kill(c->pid, sig);
}

pid_t proc_pid(const struct proc_child *c)
{
    return c->pid;
}

bool proc_running(const struct proc_child *c)
{
    return !c->reaped;
}

void proc_free(struct proc_child *c, double grace)
{
    if (c == NULL)
        return;
    if (c->pid > 0 && !proc_check_exit(c)) {
        proc_close_stdin(c);
        proc_kill(c, SIGTERM);
        if (proc_wait(c, grace, NULL) != 0) {
            proc_kill(c, SIGKILL);
            int wstatus = 0;
            while (waitpid(c->pid, &wstatus, 0) < 0 && errno == EINTR) {
            }
            set_status(c, wstatus);
        }
    }
    if (c->pid > 0 && c->pgroup) {
        /* What is left of its group (jobs that outlived the leader) goes
         * with it: the group id cannot be reused while members remain. */
        kill(-c->pid, SIGKILL);
        proc_groups_remove(c->pid);
    }
    proc_close_stdin(c);
    for (int i = 0; i < 2; i++) {
        struct proc_stream *s = &c->out[i];
        if (s->fd >= 0)
            close(s->fd);
        if (s->tee_fd >= 0)
            close(s->tee_fd);
        proc_buf_free(&s->buf);
    }
    if (c->pidfd >= 0)
        close(c->pidfd);
    free(c);
}
