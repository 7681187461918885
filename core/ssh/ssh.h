/*
 * SSH over one control master: a session opens a master of its own whose
 * socket lives in a private
 * directory, and runs every remote command as an argv that it quotes for a
 * POSIX shell itself. The remote login shell (whatever it is: sh, bash,
 * zsh, fish, tcsh, csh) receives only a constant decoder and the script in
 * base64, and `sh` runs the script. Files travel as byte streams over the
 * master (cat, tar) or with rsync using the master as its transport.
 *
 * Processes are started through a struct proc_api (see proc/proc.h), so
 * this code uses whichever copy of the process layer is loaded.
 *
 * Ctrl-C: a remote command normally runs under a watchdog (SSH_WATCHDOG):
 * the wrapper starts it in its own session (setsid where the remote has it)
 * with stdin from /dev/null, and keeps reading the channel's stdin. Here,
 * the ssh client runs in a session of its own under a small sh that feeds
 * its stdin from a FIFO: a SIGINT to that sh (Ctrl-C, forwarded by the
 * process layer) becomes one byte, and the remote wrapper sends SIGINT to
 * the command's process group, so perf there stops and still reports what
 * it measured, and the output and exit status come back. When the local
 * sh ends (perfgo killed, a second signal) or the connection is lost, the
 * channel closes, the read sees end of file, and the wrapper sends SIGTERM
 * to the command's process group, then SIGKILL two seconds later. Commands
 * that need their stdin (file uploads) run without the watchdog
 * (SSH_PLAIN): they end at end of file anyway.
 */
#ifndef PERFGO_SSH_H
#define PERFGO_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc/proc.h"

/* A growable string. */
struct ssh_str {
    char *p;
    size_t len, cap;
};
int ssh_str_add(struct ssh_str *s, const char *data, size_t n);
int ssh_str_cat(struct ssh_str *s, const char *cstr);
void ssh_str_free(struct ssh_str *s);

/* A NULL-terminated list of owned strings. */
struct ssh_argv {
    char **v;
    size_t n, cap;
};
int ssh_argv_push(struct ssh_argv *a, const char *s);
int ssh_argv_pushf(struct ssh_argv *a, const char *fmt, const char *arg);
int ssh_argv_extend(struct ssh_argv *a, const struct ssh_argv *b);
void ssh_argv_free(struct ssh_argv *a);

/* Appends s quoted for a POSIX shell: single quotes around every run of
 * characters other than ' and \, which are written as \' and \\ outside
 * the quotes. The result means the same to sh, bash, zsh and fish. */
int ssh_quote(struct ssh_str *out, const char *s);

enum ssh_wrap { SSH_PLAIN, SSH_WATCHDOG };

/* One environment change for the remote command: value NULL unsets. */
struct ssh_env {
    const char *name;
    const char *value;
};

/* The sh script that runs argv: `set -- CWD ENV.. -- ARGV..` (every
 * variable part a quoted positional parameter), then the wrapper. Returns
 * 0 or -1 (out of memory, or a bad variable name: errno EINVAL). */
int ssh_command_script(struct ssh_str *out, const char *const *argv, const char *cwd,
                       const struct ssh_env *env, size_t n_env, enum ssh_wrap wrap);

/* The command string for the remote login shell that makes `sh` run
 * script: sh -c '<decoder>' perfgo <script in base64>. Only characters
 * every shell takes literally travel outside the constant decoder. Words
 * appended to it become the script's "$@". */
int ssh_login_command(struct ssh_str *out, const char *script);

/* Appends data in base64 (RFC 4648, padded, no line breaks). */
int ssh_base64(struct ssh_str *out, const void *data, size_t n);

/* ssh_login_command of ssh_command_script: what ssh sends to run argv. */
int ssh_remote_command(struct ssh_str *out, const char *const *argv, const char *cwd,
                       const struct ssh_env *env, size_t n_env, enum ssh_wrap wrap);

/* GOOS / GOARCH names for `uname -s` / `uname -m` output: perfgo's one
 * table of them (argv.c), for remote sessions and, through perfgo.ssh's
 * goos and goarch, for the local machine (lua/perfgo/target.lua). Unknown
 * names are returned lowercased (os) or as is (arch). */
void ssh_goos(const char *uname_s, char *out, size_t outlen);
void ssh_goarch(const char *uname_m, char *out, size_t outlen);

/* 16 hex digits of FNV-1a 64 of s: names control sockets. */
void ssh_short_hash(const char *s, char out[17]);

/* Splits "user@host:port" / "host:port" / "user@host" / "[v6]:port". The
 * parts are written into the given buffers ("" when absent). Returns 0 or
 * -1 when a part does not fit or the port is not a number. */
int ssh_parse_host(const char *spec, char *user, size_t ulen, char *host, size_t hlen, char *port,
                   size_t plen);

/* Appends an argument quoted for rsync's -e splitting (spaces separate,
 * single or double quotes group). Returns -1 when it cannot be said. */
int ssh_rsync_quote(struct ssh_str *out, const char *s);

struct ssh_connect_opts {
    const char *host; /* user@host:port, host, or an ssh config alias */
    const char *user;
    const char *port;
    const char *identity;
    const char *config;         /* -F FILE */
    const char *control_dir;    /* default $XDG_RUNTIME_DIR/perfgo or ~/.config/perfgo */
    const char *const *options; /* "Key=Value" for -o, NULL-terminated or NULL */
    int connect_timeout;        /* seconds, 0: 10 */
    int persist;                /* ControlPersist seconds, 0: 120 */
};

struct ssh_session;

/* Resolves the destination, makes the control directory and opens the
 * master (or joins one already running for the same user@host:port).
 * NULL with a message (ssh's own stderr included) on failure. */
struct ssh_session *ssh_connect(const struct ssh_connect_opts *o, const struct proc_api *proc,
                                char *err, size_t errlen);

/* The local argv that runs argv remotely over the master (owned by the
 * caller: ssh_argv_free). */
int ssh_command_argv(const struct ssh_session *s, struct ssh_argv *out, const char *const *argv,
                     const char *cwd, const struct ssh_env *env, size_t n_env, enum ssh_wrap wrap);

/* Is the master still up (ssh -O check)? */
bool ssh_alive(const struct ssh_session *s);

/* "user@host:port" as `ssh -G` resolves it (run on first use; the
 * destination as given when that fails), and the control socket path. */
const char *ssh_target(struct ssh_session *s);
const char *ssh_control_path(const struct ssh_session *s);
/* The host as ssh is given it (a name or an alias, without user and port). */
const char *ssh_destination(const struct ssh_session *s);

struct ssh_result {
    int code;
    struct ssh_str out, err;
};
void ssh_result_free(struct ssh_result *r);

/* Runs argv remotely with stdin/stdout as given (NULL: held open / piped)
 * and captures what is piped. Returns 0 (see r->code) or -1 with err. */
int ssh_exec(struct ssh_session *s, const char *const *argv, const struct proc_io_spec *in,
             const struct proc_io_spec *out, struct ssh_result *r, char *err, size_t errlen);

/* ssh_exec that wants exit code 0: otherwise -1 with "<what> on <host>
 * failed (exit N): <stderr>". */
int ssh_exec_ok(struct ssh_session *s, const char *const *argv, const struct proc_io_spec *in,
                const struct proc_io_spec *out, struct ssh_result *r, const char *what, char *err,
                size_t errlen);

/* Copies a local file to a remote path (through a temporary name, mode
 * kept) and back. 0 or -1 with err. */
int ssh_put(struct ssh_session *s, const char *local, const char *remote, char *err, size_t errlen);
int ssh_get(struct ssh_session *s, const char *remote, const char *local, char *err, size_t errlen);

enum ssh_tree_method { SSH_TREE_AUTO, SSH_TREE_RSYNC, SSH_TREE_TAR };

/* Sends files (paths relative to base) under remote_dir. With rsync only
 * changed files travel; *sent lists those that did (all of them with tar).
 * *used says which method ran. */
int ssh_put_tree(struct ssh_session *s, const char *const *files, size_t n, const char *base,
                 const char *remote_dir, enum ssh_tree_method method, enum ssh_tree_method *used,
                 struct ssh_argv *sent, char *err, size_t errlen);

/* Remote GOOS/GOARCH (cached). */
int ssh_platform(struct ssh_session *s, const char **os, const char **arch, char *err,
                 size_t errlen);

/* Remote $HOME (cached). */
const char *ssh_home(struct ssh_session *s, char *err, size_t errlen);

/* The -e argument that makes rsync reach the host over the master, or NULL
 * with err when an option cannot be said in rsync's -e syntax. Owned by
 * the caller (free). */
char *ssh_rsync_shell(const struct ssh_session *s, char *err, size_t errlen);

/* A channel: a long-lived remote sh script that we talk to through its
 * stdin and stdout (see channel.c). While it is open a thread writes "\n"
 * to its stdin every `heartbeat` seconds (default 1), between our writes. */
struct ssh_channel;
struct ssh_channel *ssh_channel_open(struct ssh_session *s, const char *script, double heartbeat,
                                     char *err, size_t errlen);
/* Writes all of buf. 0, or -1 with errno (ETIMEDOUT; EINTR on a signal;
 * EPIPE when the command is gone). timeout < 0: no limit. */
int ssh_channel_write(struct ssh_channel *c, const char *buf, size_t n, double timeout);
/* Reads what arrives, up to n bytes: the count, 0 at end of file, or -1
 * with errno (ETIMEDOUT, EINTR on a signal). */
ssize_t ssh_channel_read(struct ssh_channel *c, char *buf, size_t n, double timeout);
/* What the command wrote on its stderr so far (up to 64 KiB). */
const char *ssh_channel_stderr(struct ssh_channel *c, size_t *len);
/* Stops the heartbeat and closes its stdin, reads the rest of its output
 * for up to grace seconds (until the script closes its stdout and stderr),
 * then, with wait_exit, waits the rest of grace for it to end; then reaps
 * the local ssh (ending it if it still runs). Returns the exit code, or -1
 * when it was not waited for. Idempotent. */
int ssh_channel_close(struct ssh_channel *c, double grace, bool wait_exit);
bool ssh_channel_running(struct ssh_channel *c);
void ssh_channel_free(struct ssh_channel *c);

/* ssh -O exit and the socket removed, when this session started the
 * master; a master it joined is left to its owner. The session stays
 * valid for ssh_free. */
void ssh_close(struct ssh_session *s);
void ssh_free(struct ssh_session *s);

#endif
