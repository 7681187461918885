/*
 * Process primitives: spawn a program from an argv (no shell) with its own
 * environment, directory and standard streams; stream its output through
 * pipes or tee it to a file while it is shown live; wait with a timeout;
 * forward SIGINT/SIGTERM/SIGHUP received by this process to running
 * children.
 *
 * A child runs in its own process group unless asked otherwise; kills and
 * forwarded signals go to the whole group, so grandchildren (a test binary
 * started by `go test`, a remote command's ssh client) go too, and the
 * group ends when this process dies, however it dies.
 */
#ifndef PERFGO_PROC_H
#define PERFGO_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum proc_io {
    PROC_INHERIT, /* our own fd 0/1/2 */
    PROC_NULL,    /* /dev/null */
    PROC_PIPE,    /* a pipe to us: proc_read / proc_write */
    PROC_FILE,    /* stdin: read from path; stdout/stderr: written to path */
    PROC_TEE,     /* stdout/stderr: shown on our fd 1/2 and written to path */
    PROC_FD,      /* an fd of ours (e.g. one end of a pipe to another child) */
    PROC_HOLD,    /* stdin: a pipe we keep open and never write (EOF when we go) */
};

struct proc_io_spec {
    enum proc_io mode;
    const char *path; /* PROC_FILE, PROC_TEE */
    bool append;      /* PROC_FILE output: append instead of truncate */
    int fd;           /* PROC_FD */
};

/* One environment change: value NULL removes the variable. */
struct proc_env {
    const char *name;
    const char *value;
};

struct proc_opts {
    const char *const *argv;    /* NULL-terminated, argv[0] looked up in PATH */
    const char *cwd;            /* NULL: ours */
    const struct proc_env *env; /* changes, n_env of them */
    size_t n_env;
    bool env_replace; /* start from an empty environment */
    struct proc_io_spec in, out, err;
    bool same_pgroup; /* stay in our process group (default: own group) */
    bool capture_tee; /* tee'd output is also kept for proc_read */
};

enum { PROC_STDOUT = 0, PROC_STDERR = 1 };

struct proc_status {
    int code;         /* exit code, or 128 + signal */
    int signal;       /* 0, or the signal that ended it */
    double duration;  /* seconds from spawn to exit */
    bool interrupted; /* we received SIGINT/SIGTERM while it ran */
};

struct proc_child;

/* Starts a child. On failure returns NULL and writes a message such as
 * "cannot run 'foo': No such file or directory" into err. */
struct proc_child *proc_spawn(const struct proc_opts *opts, char *err, size_t errlen);

/* Waits for the child to end, keeping tee'd output flowing and pipes
 * drained. timeout < 0 waits forever. Returns 0 with *st filled, 1 on
 * timeout (the child keeps running), -1 with errno on error. */
int proc_wait(struct proc_child *c, double timeout, struct proc_status *st);

/* Sends sig to the child's process group (or the child alone when it
 * shares ours). Returns 0, or -1 with errno (ESRCH once it was reaped). */
int proc_kill(struct proc_child *c, int sig);

/* Reads up to n bytes of a piped stream as they arrive. Returns the count,
 * 0 at end of file, -1 with errno (EINVAL: stream is not a pipe). */
ssize_t proc_read(struct proc_child *c, int stream, char *buf, size_t n);

/* Waits until a whole line (with its '\n') or the end of the stream is
 * buffered; *line and *len point into the child's buffer, valid until the next
 * call on c, and the line is consumed. Returns 1, 0 at end of file, -1. */
int proc_read_line(struct proc_child *c, int stream, const char **line, size_t *len);

/* Like proc_read_line but takes everything up to end of file. */
int proc_read_all(struct proc_child *c, int stream, const char **data, size_t *len);

/* Writes all of buf to the child's stdin pipe, keeping its output flowing.
 * Returns 0 or -1 with errno (EPIPE when the child closed its stdin). */
int proc_write(struct proc_child *c, const void *buf, size_t n);

/* Closes our end of the child's stdin pipe (the child sees end of file). */
void proc_close_stdin(struct proc_child *c);

pid_t proc_pid(const struct proc_child *c);
bool proc_running(const struct proc_child *c);

/* A tee whose file could not be written: errno value, or 0. */
int proc_tee_error(const struct proc_child *c, int stream);

/* Ends the child if it still runs (SIGTERM to its group, up to grace
 * seconds, then SIGKILL), reaps it and frees everything. NULL is fine. */
void proc_free(struct proc_child *c, double grace);

/* Signal number of the last SIGINT/SIGTERM/SIGHUP received while children
 * ran or signals were held (SIGPIPE for output that could not be written
 * then), or 0. Stays set until proc_clear_interrupted(). */
int proc_interrupted(void);
void proc_clear_interrupted(void);

/* How many signals arrived since the current batch of children started
 * or signals were held. */
int proc_signal_count(void);

/* Holds SIGINT, SIGTERM and SIGHUP for the duration of a run (calls nest):
 * they are recorded and forwarded as SIGINT, then SIGKILL, with or without
 * children; only the third is fatal. EPIPE on our stdout/stderr counts as
 * SIGPIPE. Call from the main thread. */
void proc_signals_hold(void);
void proc_signals_release(void);

/* While held: acts as if sig had arrived (e.g. SIGPIPE when our output is
 * gone). Does nothing otherwise. */
void proc_signals_notify(int sig);

/* Path of an executable: name itself when it holds a '/', else the first
 * match in path (a PATH value; NULL means the default). Returns 0 or an
 * errno value (ENOENT, EACCES, ENAMETOOLONG). */
int proc_find_program(const char *name, const char *path, char *out, size_t outlen);

/* The API as a table of functions. The perfgo.proc Lua module publishes a
 * pointer to it (registry key "perfgo.proc.api"), so other native modules
 * (perfgo.ssh) use the one copy of the process code and its signal state
 * that is loaded, instead of linking their own. */
struct proc_api {
    struct proc_child *(*spawn)(const struct proc_opts *, char *, size_t);
    int (*wait)(struct proc_child *, double, struct proc_status *);
    int (*kill)(struct proc_child *, int);
    int (*read_all)(struct proc_child *, int, const char **, size_t *);
    int (*write)(struct proc_child *, const void *, size_t);
    void (*close_stdin)(struct proc_child *);
    void (*free)(struct proc_child *, double);
    int (*find_program)(const char *, const char *, char *, size_t);
};

extern const struct proc_api proc_api;

#endif
