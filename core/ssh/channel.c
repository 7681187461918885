/*
 * A channel: one long-lived remote command over the master that we talk
 * to through its stdin and stdout (perfgo's remote agent). Writes and reads
 * take timeouts and wake on signals. A thread of ours writes "\n" to the
 * command's stdin every `heartbeat` seconds, between our own writes, so
 * the remote side can tell a quiet perfgo from a lost connection or a dead
 * perfgo; when this process ends, however it ends, the command's stdin
 * reaches end of file.
 *
 * The local ssh client is started here, not through the process layer: it
 * must outlive a Ctrl-C (which perfgo.proc forwards to its children), so
 * that a run can still convert and collect what the stopped test left on
 * the host. It runs in a process group of its own (the terminal's Ctrl-C
 * does not reach it) and dies with perfgo (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ssh_internal.h"

struct ssh_channel {
    pid_t pid; /* the local ssh client, 0 once reaped */
    int in_w;  /* the command's stdin (non-blocking) */
    int out_r; /* its stdout */
    int err_r; /* its stderr, kept in err */
    int stop[2];
    pthread_mutex_t lock;
    pthread_t beat;
    bool beating;
    double heartbeat;
    struct ssh_str err;
    int code; /* exit code once closed, -1 before */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ms_left(double deadline)
{
    if (deadline < 0)
        return -1;
    double left = deadline - now();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

static void *beat_main(void *arg)
{
    struct ssh_channel *c = arg;
    int ms = (int)(c->heartbeat * 1000);
    for (;;) {
        struct pollfd p = {.fd = c->stop[0], .events = POLLIN};
        int r = poll(&p, 1, ms);
        if (r != 0 && !(r < 0 && errno == EINTR))
            return NULL; /* asked to stop (or poll broke) */
        /* Never wait for the lock: a request being written is a sign of
         * life as good as a heartbeat. */
        if (pthread_mutex_trylock(&c->lock) == 0) {
            ssize_t w = write(c->in_w, "\n", 1);
            (void)w; /* a full pipe or a gone reader: the remote will know */
            pthread_mutex_unlock(&c->lock);
        }
    }
}

/* Keeps what the command writes on stderr (bounded). */
static void pull_stderr(struct ssh_channel *c)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(c->err_r, buf, sizeof buf)) > 0) {
        if (c->err.len < 65536)
            ssh_str_add(&c->err, buf, (size_t)n);
    }
    if (n == 0) {
        close(c->err_r);
        c->err_r = -1;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Starts path with argv on the given stdin/stdout/stderr, in a process
 * group of its own, ending when we do. Returns the pid or -1 with err. */
static pid_t start_client(const char *path, char *const *argv, int in, int out, int errfd,
                          char *err, size_t errlen)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                sigaction(sig, &dfl, NULL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int fds[3] = {in, out, errfd};
        for (int i = 0; i < 3; i++)
            fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3); /* dup2 below clears it on 0-2 */
        for (int i = 0; i < 3; i++)
            if (fds[i] < 0 || dup2(fds[i], i) < 0)
                _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(path, argv);
        _exit(127);
    }
    int saved = errno;
    if (pid > 0)
        setpgid(pid, pid);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        snprintf(err, errlen, "cannot run ssh: fork: %s", strerror(saved));
    return pid;
}

/* Reaps the client within timeout seconds (< 0: wait); 1 when it ended. */
static int reap(struct ssh_channel *c, double timeout, int *code)
{
    double deadline = timeout >= 0 ? now() + timeout : -1;
    for (;;) {
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            c->pid = 0;
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            c->pid = 0;
            return 1;
        }
        if (deadline >= 0 && now() >= deadline)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

struct ssh_channel *ssh_channel_open(struct ssh_session *s, const char *script, double heartbeat,
                                     char *err, size_t errlen)
{
    struct ssh_channel *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->in_w = c->out_r = c->err_r = -1;
    c->stop[0] = c->stop[1] = -1;
    c->code = -1;
    c->heartbeat = heartbeat > 0 ? heartbeat : 1.0;
    pthread_mutex_init(&c->lock, NULL);
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
    struct ssh_str cmd = {0};
    struct ssh_argv a = {0};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(er, O_CLOEXEC) != 0 ||
        pipe2(c->stop, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (ssh_login_command(&cmd, script) != 0 || ssh_session_argv(s, &a, cmd.p) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    char path[PATH_MAX];
    if (s->proc->find_program(a.v[0], getenv("PATH"), path, sizeof path) != 0) {
        snprintf(err, errlen, "cannot run '%s': no such program in PATH", a.v[0]);
        goto fail;
    }
    c->pid = start_client(path, a.v, in[0], out[1], er[1], err, errlen);
    if (c->pid < 0) {
        c->pid = 0;
        goto fail;
    }
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&er[1]);
    c->in_w = in[1];
    c->out_r = out[0];
    c->err_r = er[0];
    in[1] = out[0] = er[0] = -1;
    fcntl(c->in_w, F_SETFL, O_NONBLOCK);
    fcntl(c->out_r, F_SETFL, O_NONBLOCK);
    fcntl(c->err_r, F_SETFL, O_NONBLOCK);
    /* The thread takes no signal: they stay with the thread that waits. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&c->beat, NULL, beat_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the heartbeat thread: %s", strerror(rc));
        goto fail;
    }
    c->beating = true;
    ssh_str_free(&cmd);
    ssh_argv_free(&a);
    return c;
fail:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&er[i]);
    }
    ssh_str_free(&cmd);
    ssh_argv_free(&a);
    ssh_channel_free(c);
    return NULL;
}

int ssh_channel_write(struct ssh_channel *c, const char *buf, size_t n, double timeout)
{
    if (c->in_w < 0) {
        errno = EPIPE;
        return -1;
    }
    double deadline = timeout >= 0 ? now() + timeout : -1;
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    while (n > 0) {
        ssize_t w = write(c->in_w, buf, n);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            rc = -1;
            break;
        }
        struct pollfd p = {.fd = c->in_w, .events = POLLOUT};
        int ms = ms_left(deadline);
        int r = ms == 0 ? 0 : poll(&p, 1, ms);
        if (r == 0) {
            errno = ETIMEDOUT;
            rc = -1;
            break;
        }
        if (r < 0) {
            rc = -1; /* EINTR: a signal, the caller asks proc */
            break;
        }
    }
    int saved = errno;
    pthread_mutex_unlock(&c->lock);
    errno = saved;
    return rc;
}

ssize_t ssh_channel_read(struct ssh_channel *c, char *buf, size_t n, double timeout)
{
    double deadline = timeout >= 0 ? now() + timeout : -1;
    for (;;) {
        if (c->out_r < 0)
            return 0;
        ssize_t r = read(c->out_r, buf, n);
        if (r > 0)
            return r;
        if (r == 0) {
            close_fd(&c->out_r);
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        struct pollfd p[2] = {{.fd = c->out_r, .events = POLLIN},
                              {.fd = c->err_r, .events = POLLIN}};
        int ms = ms_left(deadline);
        if (ms == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int pr = poll(p, c->err_r >= 0 ? 2 : 1, ms);
        if (pr < 0)
            return -1; /* EINTR: a signal, the caller asks proc */
        if (c->err_r >= 0 && p[1].revents != 0)
            pull_stderr(c);
    }
}

const char *ssh_channel_stderr(struct ssh_channel *c, size_t *len)
{
    if (c->err_r >= 0)
        pull_stderr(c);
    *len = c->err.len;
    return c->err.p ? c->err.p : "";
}

int ssh_channel_close(struct ssh_channel *c, double grace, bool wait_exit)
{
    if (c->beating) {
        ssize_t w = write(c->stop[1], "x", 1);
        (void)w;
        pthread_join(c->beat, NULL);
        c->beating = false;
    }
    close_fd(&c->in_w);
    if (c->pid == 0)
        return c->code;
    /* Let it finish (reading what it still says), then reap it. */
    double deadline = now() + (grace >= 0 ? grace : 0);
    char buf[4096];
    while (c->out_r >= 0 || c->err_r >= 0) {
        struct pollfd p[2] = {{.fd = c->out_r, .events = POLLIN},
                              {.fd = c->err_r, .events = POLLIN}};
        int ms = ms_left(deadline);
        if (ms == 0)
            break;
        int r = poll(p, 2, ms);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (c->out_r >= 0 && p[0].revents != 0) {
            ssize_t n = read(c->out_r, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                close_fd(&c->out_r);
        }
        if (c->err_r >= 0 && p[1].revents != 0)
            pull_stderr(c);
    }
    int ms = wait_exit ? ms_left(deadline) : 0;
    int code;
    if (reap(c, ms > 0 ? ms / 1000.0 : 0, &code)) {
        c->code = code;
    } else {
        kill(c->pid, SIGTERM);
        if (!reap(c, 1.0, &code)) {
            kill(c->pid, SIGKILL);
            reap(c, -1, &code);
        }
    }
    close_fd(&c->out_r);
    close_fd(&c->err_r);
    return c->code;
}

bool ssh_channel_running(struct ssh_channel *c)
{
    return c->pid != 0 && c->out_r >= 0;
}

void ssh_channel_free(struct ssh_channel *c)
{
    if (c == NULL)
        return;
    ssh_channel_close(c, 0, false);
    close_fd(&c->stop[0]);
    close_fd(&c->stop[1]);
    pthread_mutex_destroy(&c->lock);
    ssh_str_free(&c->err);
    free(c);
}
