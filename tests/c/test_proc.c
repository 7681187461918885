#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "proc/proc.h"

static struct proc_child *spawn(const char *const *argv, enum proc_io out, enum proc_io err)
{
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    o.argv = argv;
    o.in.mode = PROC_NULL;
    o.out.mode = out;
    o.err.mode = err;
    char msg[512];
    struct proc_child *c = proc_spawn(&o, msg, sizeof msg);
    if (c == NULL)
        fprintf(stderr, "spawn: %s\n", msg);
    return c;
}

static void test_exit_code_and_output(void)
{
    const char *argv[] = {"sh", "-c", "printf out; printf err >&2; exit 7", NULL};
    struct proc_child *c = spawn(argv, PROC_PIPE, PROC_PIPE);
    CHECK(c != NULL);
    struct proc_status st;
    CHECK(proc_wait(c, -1, &st) == 0);
    CHECK(st.code == 7);
    CHECK(st.signal == 0);
    CHECK(!st.interrupted);
    const char *data;
    size_t len;
    CHECK(proc_read_all(c, PROC_STDOUT, &data, &len) == 0);
    CHECK(len == 3 && memcmp(data, "out", 3) == 0);
    CHECK(proc_read_all(c, PROC_STDERR, &data, &len) == 0);
    CHECK(len == 3 && memcmp(data, "err", 3) == 0);
    proc_free(c, 0);
}

static void test_signal_and_timeout(void)
{
    const char *argv[] = {"sleep", "10", NULL};
    struct proc_child *c = spawn(argv, PROC_NULL, PROC_NULL);
    CHECK(c != NULL);
    struct proc_status st;
    CHECK(proc_wait(c, 0.1, &st) == 1);
    CHECK(proc_running(c));
    CHECK(proc_kill(c, SIGKILL) == 0);
    CHECK(proc_wait(c, 5, &st) == 0);
    CHECK(st.signal == SIGKILL);
    CHECK(st.code == 128 + SIGKILL);
    CHECK(proc_kill(c, SIGTERM) == -1 && errno == ESRCH);
    proc_free(c, 0);
}

static void test_missing_program_and_bad_cwd(void)
{
    char msg[512];
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    const char *argv[] = {"perfgo-no-such-program", NULL};
    o.argv = argv;
    CHECK(proc_spawn(&o, msg, sizeof msg) == NULL);
    CHECK_STR(msg, "cannot run 'perfgo-no-such-program': No such file or directory");

    const char *argv2[] = {"/nonexistent/prog", NULL};
    o.argv = argv2;
    CHECK(proc_spawn(&o, msg, sizeof msg) == NULL);
    CHECK_STR(msg, "cannot run '/nonexistent/prog': No such file or directory");

    const char *argv3[] = {"true", NULL};
    o.argv = argv3;
    o.cwd = "/nonexistent-dir";
    CHECK(proc_spawn(&o, msg, sizeof msg) == NULL);
    CHECK_STR(msg, "cannot run 'true': cannot change directory to '/nonexistent-dir': "
                   "No such file or directory");
}

static void test_env_replace_and_cwd(void)
{
    struct proc_env env[] = {{"A", "1"}, {"B", NULL}, {"A", "2"}};
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    const char *argv[] = {"/usr/bin/env", NULL};
    o.argv = argv;
    o.env = env;
    o.n_env = 3;
    o.env_replace = true;
    o.cwd = "/";
    o.out.mode = PROC_PIPE;
    char msg[512];
    struct proc_child *c = proc_spawn(&o, msg, sizeof msg);
    CHECK(c != NULL);
    const char *data;
    size_t len;
    CHECK(proc_read_all(c, PROC_STDOUT, &data, &len) == 0);
    CHECK(len == 4 && memcmp(data, "A=2\n", 4) == 0);
    proc_free(c, 5);
}

/* 4 MB through cat while stderr is piped too: nothing deadlocks. */
static void test_write_read_large(void)
{
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    const char *argv[] = {"sh", "-c", "cat; echo done >&2", NULL};
    o.argv = argv;
    o.in.mode = PROC_PIPE;
    o.out.mode = PROC_PIPE;
    o.err.mode = PROC_PIPE;
    char msg[512];
    struct proc_child *c = proc_spawn(&o, msg, sizeof msg);
    CHECK(c != NULL);
    size_t n = 4u << 20;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 7);
    CHECK(proc_write(c, big, n) == 0);
    proc_close_stdin(c);
    size_t total = 0;
    bool same = true;
    char chunk[65536];
    ssize_t r;
    while ((r = proc_read(c, PROC_STDOUT, chunk, sizeof chunk)) > 0) {
        if (memcmp(chunk, big + total, (size_t)r) != 0)
            same = false;
        total += (size_t)r;
    }
    CHECK(r == 0);
    CHECK(total == n);
    CHECK(same);
    const char *data;
    size_t len;
    CHECK(proc_read_all(c, PROC_STDERR, &data, &len) == 0);
    CHECK(len == 5 && memcmp(data, "done\n", 5) == 0);
    free(big);
    proc_free(c, 5);
}

/* The tee writes what the child printed to the file and to our stdout. */
static void test_tee(void)
{
    char dir[] = "/tmp/perfgo-test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char tee[256], shown[256];
    snprintf(tee, sizeof tee, "%s/tee", dir);
    snprintf(shown, sizeof shown, "%s/shown", dir);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(shown, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    close(fd);
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    const char *argv[] = {
        "sh", "-c",
        "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; printf '\\001\\377'", NULL};
    o.argv = argv;
    o.out.mode = PROC_TEE;
    o.out.path = tee;
    char msg[512];
    struct proc_child *c = proc_spawn(&o, msg, sizeof msg);
    struct proc_status st;
    CHECK(c != NULL && proc_wait(c, -1, &st) == 0 && st.code == 0);
    proc_free(c, 0);
    dup2(saved, 1);
    close(saved);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s && test $(wc -l < %s) = 2000", tee, shown, tee);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* SIGINT to us reaches the child's own process group; afterwards the
 * default disposition is back. */
static void test_sigint_forwarded(void)
{
    const char *argv[] = {"sleep", "10", NULL};
    struct proc_child *c = spawn(argv, PROC_NULL, PROC_NULL);
    CHECK(c != NULL);
    proc_clear_interrupted();
    kill(getpid(), SIGINT);
    struct proc_status st;
    CHECK(proc_wait(c, 5, &st) == 0);
    CHECK(st.signal == SIGINT);
    CHECK(st.interrupted);
    CHECK(proc_interrupted() == SIGINT);
    proc_free(c, 0);
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL);
    proc_clear_interrupted();
    CHECK(proc_interrupted() == 0);
}

/* SIGTERM is forwarded the same way; a second signal forwards SIGKILL to
 * a child that ignores the first. */
static void test_sigterm_and_second_signal(void)
{
    const char *argv[] = {"sleep", "10", NULL};
    struct proc_child *c = spawn(argv, PROC_NULL, PROC_NULL);
    CHECK(c != NULL);
    kill(getpid(), SIGTERM);
    struct proc_status st;
    CHECK(proc_wait(c, 5, &st) == 0);
    CHECK(st.signal == SIGTERM);
    CHECK(proc_interrupted() == SIGTERM);
    proc_free(c, 0);

    const char *stubborn[] = {"sh", "-c", "trap '' INT; echo ready; while :; do sleep 0.05; done",
                              NULL};
    c = spawn(stubborn, PROC_PIPE, PROC_NULL);
    char buf[16];
    CHECK(proc_read(c, PROC_STDOUT, buf, sizeof buf) == 6);
    kill(getpid(), SIGINT);
    CHECK(proc_wait(c, 0.3, &st) == 1); /* ignored */
    kill(getpid(), SIGINT);
    CHECK(proc_wait(c, 5, &st) == 0);
    CHECK(st.signal == SIGKILL);
    CHECK(st.interrupted);
    proc_free(c, 0);
    proc_clear_interrupted();
}

static void test_free_kills_running_child(void)
{
    const char *argv[] = {"sh", "-c", "sleep 30 & wait", NULL};
    struct proc_child *c = spawn(argv, PROC_NULL, PROC_NULL);
    CHECK(c != NULL);
    pid_t pgid = proc_pid(c);
    usleep(100 * 1000);
    proc_free(c, 1.0);
    /* The whole group goes (the grandchild is reaped by init: allow it 2 s). */
    int alive = 1;
    for (int i = 0; i < 200 && alive; i++) {
        alive = kill(-pgid, 0) == 0;
        if (alive)
            usleep(10 * 1000);
    }
    CHECK(!alive);
}

/* A process that is neither zombie nor gone. */
static int alive(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *end = strrchr(buf, ')');
    return end == NULL || end[1] == '\0' || end[2] != 'Z';
}

static int gone_within(pid_t pid, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (!alive(pid))
            return 1;
        usleep(10 * 1000);
    }
    return !alive(pid);
}

/* When the process that spawned a child is killed with SIGKILL (no
 * cleanup runs), the child's whole group still goes: the program gets
 * SIGTERM, and a process of the group that ignores SIGTERM (as a workload
 * whose perf stat died) gets SIGKILL a second later. */
static void test_group_dies_with_parent(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t parent = fork();
    CHECK(parent >= 0);
    if (parent == 0) {
        close(fds[0]);
        const char *argv[] = {"sh", "-c", "(trap '' TERM; exec sleep 60) & echo $$ $!; wait", NULL};
        struct proc_opts o;
        memset(&o, 0, sizeof o);
        o.argv = argv;
        o.in.mode = PROC_NULL;
        o.out.mode = PROC_FD;
        o.out.fd = fds[1];
        o.err.mode = PROC_NULL;
        char msg[256];
        if (proc_spawn(&o, msg, sizeof msg) == NULL)
            _exit(1);
        close(fds[1]);
        for (;;)
            pause();
    }
    close(fds[1]);
    char line[64] = {0};
    size_t got = 0;
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL) {
        ssize_t n = read(fds[0], line + got, sizeof line - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int shell = 0, workload = 0;
    CHECK(sscanf(line, "%d %d", &shell, &workload) == 2);
    CHECK(shell > 0 && workload > 0 && alive(shell) && alive(workload));
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    CHECK(gone_within(shell, 3000));
    CHECK(gone_within(workload, 5000));
}

static void test_find_program(void)
{
    char out[256];
    CHECK(proc_find_program("sh", "/nonexistent:/bin", out, sizeof out) == 0);
    CHECK_STR(out, "/bin/sh");
    CHECK(proc_find_program("sh", "/nonexistent", out, sizeof out) == ENOENT);
    CHECK(proc_find_program("", "/bin", out, sizeof out) == ENOENT);
}

int main(void)
{
    RUN(test_exit_code_and_output);
    RUN(test_signal_and_timeout);
    RUN(test_missing_program_and_bad_cwd);
    RUN(test_env_replace_and_cwd);
    RUN(test_write_read_large);
    RUN(test_tee);
    RUN(test_sigint_forwarded);
    RUN(test_sigterm_and_second_signal);
    RUN(test_free_kills_running_child);
    RUN(test_group_dies_with_parent);
    RUN(test_find_program);
    return CHECK_DONE();
}
