/*
 * Starting a child: program lookup in PATH, the environment, files and
 * pipes for its standard streams, fork and exec. The child reports a
 * failed chdir or exec back through a close-on-exec pipe, so spawning a
 * missing program fails here, in the parent, with the cause. A child in
 * its own process group is led by a keeper process that ends the group
 * when perfgo dies (see keep_group).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "internal.h"

extern char **environ;

enum { STAGE_CHDIR = 1, STAGE_EXEC = 2, STAGE_SETUP = 3 };

struct report {
    int stage;
    int err;
};

int proc_find_program(const char *name, const char *path, char *out, size_t outlen)
{
    if (name[0] == '\0')
        return ENOENT;
    if (strchr(name, '/') != NULL) {
        if (strlen(name) >= outlen)
            return ENAMETOOLONG;
        strcpy(out, name);
        return 0;
    }
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    int found_err = ENOENT;
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        const char *dir = dlen ? p : ".";
        if (dlen == 0)
            dlen = 1;
        if (dlen + 1 + strlen(name) < outlen) {
            memcpy(out, dir, dlen);
            out[dlen] = '/';
            strcpy(out + dlen + 1, name);
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(out, X_OK) == 0)
                    return 0;
                found_err = EACCES;
            }
        }
        if (colon == NULL)
            break;
        p = colon + 1;
    }
    return found_err;
}

static const char *env_lookup(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; *envp != NULL; envp++) {
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    }
    return NULL;
}

/* The child's environment: environ (unless replaced) with opts->env applied.
 * The array and the "K=V" strings it made are freed by free_env. */
static char **build_env(const struct proc_opts *o, char ***made, size_t *n_made)
{
    size_t base = 0;
    if (!o->env_replace)
        for (char **e = environ; *e != NULL; e++)
            base++;
    char **env = calloc(base + o->n_env + 1, sizeof *env);
    char **own = calloc(o->n_env + 1, sizeof *own);
    if (env == NULL || own == NULL) {
        free(env);
        free(own);
        return NULL;
    }
    size_t n = 0, m = 0;
    for (size_t i = 0; i < base; i++) {
        const char *kv = environ[i];
        bool overridden = false;
        for (size_t j = 0; j < o->n_env; j++) {
            size_t kl = strlen(o->env[j].name);
            if (strncmp(kv, o->env[j].name, kl) == 0 && kv[kl] == '=')
                overridden = true;
        }
        if (!overridden)
            env[n++] = (char *)kv;
    }
    for (size_t j = 0; j < o->n_env; j++) {
        if (o->env[j].value == NULL)
            continue;
        bool later = false; /* the last setting of a name wins */
        for (size_t k = j + 1; k < o->n_env; k++)
            if (strcmp(o->env[k].name, o->env[j].name) == 0)
                later = true;
        if (later)
            continue;
        size_t len = strlen(o->env[j].name) + strlen(o->env[j].value) + 2;
        char *kv = malloc(len);
        if (kv == NULL) {
            for (size_t k = 0; k < m; k++)
                free(own[k]);
            free(own);
            free(env);
            return NULL;
        }
        snprintf(kv, len, "%s=%s", o->env[j].name, o->env[j].value);
        own[m++] = kv;
        env[n++] = kv;
    }
    *made = own;
    *n_made = m;
    return env;
}

static void free_env(char **env, char **made, size_t n_made)
{
    for (size_t i = 0; i < n_made; i++)
        free(made[i]);
    free(made);
    free(env);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* The fds the child gets as 0, 1, 2 and what the parent keeps. */
struct plumbing {
    int child[3]; /* -1: inherit ours */
    int ours[3];  /* our ends of pipes: stdin write end, stdout/err read ends */
    int tee[3];   /* tee files (stdout, stderr) */
};

static int open_stream(int which, const struct proc_io_spec *io, struct plumbing *p, char *err,
                       size_t errlen)
{
    static const char *names[] = {"stdin", "stdout", "stderr"};
    int fds[2];
    switch (io->mode) {
    case PROC_INHERIT:
        return 0;
    case PROC_FD:
        p->child[which] = fcntl(io->fd, F_DUPFD_CLOEXEC, 3);
        if (p->child[which] < 0) {
            snprintf(err, errlen, "%s: %s", names[which], strerror(errno));
            return -1;
        }
        return 0;
    case PROC_NULL:
        p->child[which] = open("/dev/null", (which == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        if (p->child[which] < 0) {
            snprintf(err, errlen, "/dev/null: %s", strerror(errno));
            return -1;
        }
        return 0;
    case PROC_FILE:
        if (io->path == NULL)
            goto bad;
        if (which == 0)
            p->child[0] = open(io->path, O_RDONLY | O_CLOEXEC);
        else
            p->child[which] = open(
                io->path, O_WRONLY | O_CREAT | O_CLOEXEC | (io->append ? O_APPEND : O_TRUNC), 0644);
        if (p->child[which] < 0) {
            snprintf(err, errlen, "cannot open '%s' for %s: %s", io->path, names[which],
                     strerror(errno));
            return -1;
        }
        return 0;
    case PROC_TEE:
        if (which == 0 || io->path == NULL)
            goto bad;
        p->tee[which] = open(io->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (p->tee[which] < 0) {
            snprintf(err, errlen, "cannot open '%s' for %s: %s", io->path, names[which],
                     strerror(errno));
            return -1;
        }
        /* a tee is a pipe we copy from */
        __attribute__((fallthrough));
    case PROC_PIPE:
    case PROC_HOLD:
        if (pipe2(fds, O_CLOEXEC) != 0) {
            snprintf(err, errlen, "pipe for %s: %s", names[which], strerror(errno));
            return -1;
        }
        p->child[which] = which == 0 ? fds[0] : fds[1];
        p->ours[which] = which == 0 ? fds[1] : fds[0];
        fcntl(p->ours[which], F_SETFL, O_NONBLOCK);
        return 0;
    }
bad:
    snprintf(err, errlen, "%s: unsupported mode", names[which]);
    return -1;
}

static void report_and_exit(int fd, int stage)
{
    struct report r = {stage, errno};
    ssize_t w = write(fd, &r, sizeof r);
    (void)w;
    _exit(127);
}

/* Closes every descriptor: the keeper holds nothing open, so a pipe's
 * other end sees end of file when the program (not the keeper) is done. */
static void close_all_fds(void)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 0U, ~0U, 0U) == 0)
        return;
#endif
    struct rlimit rl;
    rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    if (max == RLIM_INFINITY || max > 65536)
        max = 65536;
    for (int fd = 0; (rlim_t)fd < max; fd++)
        close(fd);
}

/* Dies the way the program died, so the parent's status is the program's. */
static void exit_like(int wstatus)
{
    if (!WIFSIGNALED(wstatus))
        _exit(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1);
    int sig = WTERMSIG(wstatus);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    raise(sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    _exit(128 + sig);
}

/* Ends the keeper's group after perfgo died: SIGTERM, a second for the
 * processes to go, then SIGKILL to whatever is left, the keeper included
 * (the program may be gone while a process it started ignores SIGTERM). */
static void end_group(pid_t pid)
{
    kill(-getpid(), SIGTERM);
    struct timespec grace = {1, 0};
    while (nanosleep(&grace, &grace) != 0 && errno == EINTR) {
    }
    waitpid(pid, NULL, WNOHANG);
    kill(-getpid(), SIGKILL);
    _exit(1);
}

/*
 * The keeper: the first process of a child's own group forks the process
 * that runs the program and stays behind, holding no descriptor and
 * blocking every signal (signals sent to the group reach the program).
 * When the program ends it exits the same way, so waiting for it is
 * waiting for the program. When perfgo dies first, even by SIGKILL, the
 * kernel tells it (PR_SET_PDEATHSIG) and it ends the whole group (end_group). Without it a program
 * run under perf could outlive perfgo: perf stat leaves its workload running when it goes. Returns
 * in the new process only; the keeper never returns.
 */
static void keep_group(int report_fd, pid_t parent)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid < 0)
        report_and_exit(report_fd, STAGE_SETUP);
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return;
    }
#ifdef __linux__
    prctl(PR_SET_NAME, "perfgo-keeper", 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGHUP);
#endif
    close_all_fds();
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, SIGCHLD);
    sigaddset(&wake, SIGHUP);
    int wstatus = 0;
    for (;;) {
        if (getppid() != parent)
            end_group(pid);
        if (waitpid(pid, &wstatus, WNOHANG) == pid)
            exit_like(wstatus);
        sigwaitinfo(&wake, NULL);
    }
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_main(const struct proc_opts *o, struct plumbing *p, int report_fd,
                       const char *path, char **env, pid_t parent)
{
    proc_signals_child_reset();
    if (!o->same_pgroup) {
        setpgid(0, 0);
        keep_group(report_fd, parent);
        parent = getppid(); /* the keeper */
    }
#ifdef __linux__
    /* If our parent dies without reaping us, we die too. */
    prctl(PR_SET_PDEATHSIG, o->same_pgroup ? SIGTERM : SIGKILL);
    if (getppid() != parent)
        _exit(127);
#endif
    int moved[3];
    for (int i = 0; i < 3; i++) {
        /* Move every source above 2 first so no dup2 clobbers another. */
        moved[i] = p->child[i] >= 0 ? fcntl(p->child[i], F_DUPFD_CLOEXEC, 3) : -1;
        if (p->child[i] >= 0 && moved[i] < 0)
            report_and_exit(report_fd, STAGE_SETUP);
    }
    for (int i = 0; i < 3; i++) {
        if (moved[i] >= 0 && dup2(moved[i], i) < 0)
            report_and_exit(report_fd, STAGE_SETUP);
    }
    if (o->cwd != NULL && chdir(o->cwd) != 0)
        report_and_exit(report_fd, STAGE_CHDIR);
    execve(path, (char *const *)o->argv, env);
    report_and_exit(report_fd, STAGE_EXEC);
}

static void fail_message(const struct proc_opts *o, const struct report *r, char *err,
                         size_t errlen)
{
    const char *prog = o->argv[0];
    if (r->stage == STAGE_CHDIR)
        snprintf(err, errlen, "cannot run '%s': cannot change directory to '%s': %s", prog, o->cwd,
                 strerror(r->err));
    else if (r->stage == STAGE_SETUP)
        snprintf(err, errlen, "cannot run '%s': setting up its streams: %s", prog,
                 strerror(r->err));
    else
        snprintf(err, errlen, "cannot run '%s': %s", prog, strerror(r->err));
}

static void init_stream(struct proc_stream *s, enum proc_io mode, int fd, int tee_fd, int echo_fd,
                        bool capture_tee)
{
    s->mode = mode;
    s->fd = fd;
    s->tee_fd = tee_fd;
    s->echo_fd = mode == PROC_TEE ? echo_fd : -1;
    s->capture = mode == PROC_PIPE || (mode == PROC_TEE && capture_tee);
    s->eof = fd < 0;
}

struct proc_child *proc_spawn(const struct proc_opts *o, char *err, size_t errlen)
{
    if (o->argv == NULL || o->argv[0] == NULL) {
        snprintf(err, errlen, "cannot run an empty command");
        return NULL;
    }
    char **made = NULL;
    size_t n_made = 0;
    char **env = build_env(o, &made, &n_made);
    if (env == NULL) {
        snprintf(err, errlen, "cannot run '%s': out of memory", o->argv[0]);
        return NULL;
    }
    char path[PATH_MAX];
    int ferr = proc_find_program(o->argv[0], env_lookup(env, "PATH"), path, sizeof path);
    if (ferr != 0) {
        snprintf(err, errlen, "cannot run '%s': %s", o->argv[0], strerror(ferr));
        free_env(env, made, n_made);
        return NULL;
    }

    /* Output we buffered must come before the child's on a shared fd. */
    fflush(stdout);
    fflush(stderr);
    struct proc_child *c = calloc(1, sizeof *c);
    struct plumbing p = {{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}};
    int report[2] = {-1, -1};
    char why[512];
    const struct proc_io_spec *ios[3] = {&o->in, &o->out, &o->err};
    if (c == NULL) {
        snprintf(err, errlen, "cannot run '%s': out of memory", o->argv[0]);
        goto fail;
    }
    for (int i = 0; i < 3; i++) {
        if (open_stream(i, ios[i], &p, why, sizeof why) != 0) {
            snprintf(err, errlen, "cannot run '%s': %s", o->argv[0], why);
            goto fail;
        }
    }
    if (pipe2(report, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot run '%s': pipe: %s", o->argv[0], strerror(errno));
        goto fail;
    }

    sigset_t old;
    proc_signals_block(&old);
    pid_t self = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_main(o, &p, report[1], path, env, self);
    int fork_err = errno;
    if (pid > 0) {
        if (!o->same_pgroup)
            setpgid(pid, pid); /* no race with a kill before the child runs */
        c->pid = pid;
        c->pgroup = !o->same_pgroup;
        c->start = proc_now();
        c->sig_gen = proc_signals_generation();
        proc_signals_track(c->pgroup ? -pid : pid);
    }
    proc_signals_restore(&old);
    if (pid < 0) {
        snprintf(err, errlen, "cannot run '%s': fork: %s", o->argv[0], strerror(fork_err));
        goto fail;
    }

    close_fd(&report[1]);
    for (int i = 0; i < 3; i++)
        close_fd(&p.child[i]);
    struct report r;
    ssize_t got;
    do {
        got = read(report[0], &r, sizeof r);
    } while (got < 0 && errno == EINTR);
    close_fd(&report[0]);
    c->pidfd = -1;
    if (got == (ssize_t)sizeof r) {
        int wstatus;
        while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
        }
        proc_signals_untrack(c->pgroup ? -pid : pid);
        fail_message(o, &r, err, errlen);
        c->pid = 0;
        goto fail;
    }
#ifdef SYS_pidfd_open
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (c->pidfd >= 0)
        fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
#endif
    if (c->pgroup)
        proc_groups_add(pid);
    c->stdin_fd = p.ours[0];
    init_stream(&c->out[0], o->out.mode, p.ours[1], p.tee[1], 1, o->capture_tee);
    init_stream(&c->out[1], o->err.mode, p.ours[2], p.tee[2], 2, o->capture_tee);
    free_env(env, made, n_made);
    return c;

fail:
    for (int i = 0; i < 3; i++) {
        close_fd(&p.child[i]);
        close_fd(&p.ours[i]);
        close_fd(&p.tee[i]);
    }
    close_fd(&report[0]);
    close_fd(&report[1]);
    free(c);
    free_env(env, made, n_made);
    return NULL;
}
