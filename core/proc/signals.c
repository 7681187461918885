/*
 * Signal forwarding. While at least one child runs, SIGINT, SIGTERM and
 * SIGHUP get a handler that forwards the signal to every tracked child's
 * process group (a second signal forwards SIGKILL), records it for
 * proc_interrupted(), and writes a byte to a self-pipe that wakes the poll
 * loops. The handler does nothing but waitid(2) with WNOHANG, kill(2),
 * write(2) and sig_atomic_t stores (and sigaction(2) + raise(3) to give the
 * signal its old meaning when every tracked child has already exited).
 * SIGPIPE is ignored meanwhile so a child that closes its stdin gives EPIPE
 * instead of killing us. When the last child is reaped the previous
 * dispositions come back.
 *
 * While signals are held (proc_signals_hold: a perfgo run in progress) the
 * handler stays installed with or without children, and no signal is fatal
 * until the third: the first asks every child to stop with SIGINT, which
 * perf stat and perf record answer by writing what they measured (SIGTERM
 * would end perf stat without a word), the second sends SIGKILL, the third
 * gives the signal its old meaning. Output to our own stdout or stderr that
 * fails with EPIPE counts as a SIGPIPE then.
 *
 * Signal dispositions are process-wide, so this file holds the one piece of
 * process-wide state in the module; it is only changed from the main thread
 * with the handled signals blocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_TRACKED 256

static volatile sig_atomic_t targets[MAX_TRACKED]; /* kill(2) targets, 0 = free */
static volatile sig_atomic_t last_signal;
static volatile sig_atomic_t signals_seen; /* since the first child of this batch */
static volatile sig_atomic_t generation;   /* every signal ever handled */
static int self_pipe[2] = {-1, -1};
static volatile sig_atomic_t held; /* proc_signals_hold depth */
static int live;
static bool installed[3];
static struct sigaction saved_int, saved_term, saved_hup, saved_pipe;

static struct sigaction *saved_for(int sig)
{
    switch (sig) {
    case SIGINT:
        return &saved_int;
    case SIGTERM:
        return &saved_term;
    case SIGHUP:
        return &saved_hup;
    default:
        return &saved_pipe;
    }
}

/* Gives sig its old meaning and raises it (delivered once the handler
 * returns, or the mask is restored). */
static void fall_back(int sig)
{
    sigaction(sig, saved_for(sig), NULL);
    raise(sig);
}

/* Is any tracked child still running (not merely awaiting its reaping)?
 * WNOWAIT leaves the status for proc_wait. */
static bool any_running(void)
{
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        pid_t t = (pid_t)targets[i];
        if (t == 0)
            continue;
        siginfo_t si;
        si.si_pid = 0;
        if (waitid(P_PID, (id_t)(t < 0 ? -t : t), &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
            si.si_pid == 0)
            return true;
    }
    return false;
}

static void on_signal(int sig)
{
    int saved_errno = errno;
    if (!held && !any_running()) {
        /* Only exited children not yet reaped: behave as if no child ran,
         * with the disposition we replaced (by default, terminate). */
        fall_back(sig);
        errno = saved_errno;
        return;
    }
    last_signal = sig;
    signals_seen = signals_seen + 1;
    generation = generation + 1;
    if (held && signals_seen > 2) {
        fall_back(sig);
        errno = saved_errno;
        return;
    }
    int fwd = signals_seen > 1 ? SIGKILL : held ? SIGINT : sig;
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        pid_t t = (pid_t)targets[i];
        if (t != 0)
            kill(t, fwd);
    }
    if (self_pipe[1] >= 0) {
        unsigned char b = (unsigned char)sig;
        ssize_t r = write(self_pipe[1], &b, 1);
        (void)r;
    }
    errno = saved_errno;
}

void proc_signals_block(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, old);
}

void proc_signals_restore(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* In a forked child before exec: default dispositions, nothing blocked. */
void proc_signals_child_reset(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    if (installed[0])
        sigaction(SIGINT, &dfl, NULL);
    if (installed[1])
        sigaction(SIGTERM, &dfl, NULL);
    if (installed[2])
        sigaction(SIGHUP, &dfl, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void open_self_pipe(void)
{
    if (self_pipe[0] >= 0)
        return;
    if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        self_pipe[0] = self_pipe[1] = -1;
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sa.sa_flags = SA_RESTART;

    /* A signal we were started with ignored stays ignored. */
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        sigaction(sigs[i], NULL, saved_for(sigs[i]));
        installed[i] = saved_for(sigs[i])->sa_handler != SIG_IGN;
        if (installed[i])
            sigaction(sigs[i], &sa, NULL);
    }

    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &saved_pipe);
}

static void uninstall(void)
{
    if (installed[0])
        sigaction(SIGINT, &saved_int, NULL);
    if (installed[1])
        sigaction(SIGTERM, &saved_term, NULL);
    if (installed[2])
        sigaction(SIGHUP, &saved_hup, NULL);
    sigaction(SIGPIPE, &saved_pipe, NULL);
    installed[0] = installed[1] = installed[2] = false;
}

/* Called with signals blocked (around fork). */
void proc_signals_track(pid_t target)
{
    open_self_pipe();
    if (live == 0) {
        signals_seen = 0;
        install();
    }
    live++;
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (targets[i] == 0) {
            targets[i] = (sig_atomic_t)target;
            return;
        }
    }
    /* More than MAX_TRACKED children: this one is reaped and killed on
     * free like the others but gets no forwarded signal. */
}

void proc_signals_untrack(pid_t target)
{
    sigset_t old;
    proc_signals_block(&old);
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (targets[i] == (sig_atomic_t)target) {
            targets[i] = 0;
            break;
        }
    }
    if (live > 0 && --live == 0)
        uninstall();
    proc_signals_restore(&old);
}

void proc_signals_hold(void)
{
    sigset_t old;
    proc_signals_block(&old);
    open_self_pipe();
    if (live == 0)
        install();
    if (live == 0 || held == 0)
        signals_seen = 0;
    live++;
    held = held + 1;
    last_signal = 0;
    proc_signals_restore(&old);
}

void proc_signals_release(void)
{
    sigset_t old;
    proc_signals_block(&old);
    if (held > 0) {
        held = held - 1;
        if (live > 0 && --live == 0)
            uninstall();
    }
    proc_signals_restore(&old);
}

void proc_signals_notify(int sig)
{
    sigset_t old;
    proc_signals_block(&old);
    if (held)
        on_signal(sig);
    proc_signals_restore(&old);
}

int proc_signal_count(void)
{
    return (int)signals_seen;
}

int proc_signals_fd(void)
{
    return self_pipe[0];
}

unsigned long proc_signals_generation(void)
{
    return (unsigned long)generation;
}

int proc_interrupted(void)
{
    return (int)last_signal;
}

void proc_clear_interrupted(void)
{
    last_signal = 0;
}

/*
 * Process groups of children not yet freed, reaped or not: a group can
 * outlive its leader (a background job that ignores SIGINT). proc_free
 * kills what is left of it; at exit (os.exit skips __gc) an atexit handler
 * ends every group still listed: SIGTERM, up to half a second, SIGKILL.
 */
static pid_t groups[MAX_TRACKED];
static bool atexit_done;

static void end_groups_at_exit(void)
{
    bool any = false;
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (groups[i] > 0 && kill(-groups[i], SIGTERM) == 0)
            any = true;
    }
    for (int round = 0; any && round < 50; round++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        any = false;
        for (size_t i = 0; i < MAX_TRACKED; i++) {
            if (groups[i] <= 0)
                continue;
            waitpid(groups[i], NULL, WNOHANG); /* our leader: not a zombie member */
            if (kill(-groups[i], 0) == 0)
                any = true;
        }
    }
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (groups[i] > 0) {
            kill(-groups[i], SIGKILL);
            waitpid(groups[i], NULL, WNOHANG);
            groups[i] = 0;
        }
    }
}

void proc_groups_add(pid_t pgid)
{
    if (!atexit_done)
        atexit_done = atexit(end_groups_at_exit) == 0;
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (groups[i] == 0) {
            groups[i] = pgid;
            return;
        }
    }
}

void proc_groups_remove(pid_t pgid)
{
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (groups[i] == pgid) {
            groups[i] = 0;
            return;
        }
    }
}

const struct proc_api proc_api = {
    .spawn = proc_spawn,
    .wait = proc_wait,
    .kill = proc_kill,
    .read_all = proc_read_all,
    .write = proc_write,
    .close_stdin = proc_close_stdin,
    .free = proc_free,
    .find_program = proc_find_program,
};
