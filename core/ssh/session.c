/*
 * An ssh session: destination resolved with `ssh -G`, one control master
 * of its own (a socket name no other session uses, short ControlPersist,
 * ConnectTimeout, ServerAlive),
 * remote commands over it, files over it, close with `ssh -O exit`.
 * Host key checking and everything else stays as the user's ssh config
 * says: only the options listed here are added.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ssh_internal.h"

void ssh_result_free(struct ssh_result *r)
{
    ssh_str_free(&r->out);
    ssh_str_free(&r->err);
}

/* Trims trailing whitespace; returns the string. */
static const char *trimmed(struct ssh_str *s)
{
    if (s->p == NULL)
        return "";
    while (s->len > 0 &&
           (s->p[s->len - 1] == '\n' || s->p[s->len - 1] == '\r' || s->p[s->len - 1] == ' '))
        s->p[--s->len] = '\0';
    return s->p;
}

int ssh_run_local(const struct proc_api *api, char *const *argv, const struct proc_io_spec *in,
                  const struct proc_io_spec *out, bool same_pgroup, struct ssh_result *r, char *err,
                  size_t errlen)
{
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    memset(r, 0, sizeof *r);
    o.argv = (const char *const *)argv;
    o.in = in ? *in : (struct proc_io_spec){.mode = PROC_NULL};
    o.out = out ? *out : (struct proc_io_spec){.mode = PROC_PIPE};
    o.err.mode = PROC_PIPE;
    o.same_pgroup = same_pgroup;
    struct proc_child *c = api->spawn(&o, err, errlen);
    if (c == NULL)
        return -1;
    struct proc_status st;
    int rc = 0;
    if (api->wait(c, -1, &st) != 0) {
        snprintf(err, errlen, "waiting for %s: %s", argv[0], strerror(errno));
        rc = -1;
    } else {
        const char *data;
        size_t len;
        r->code = st.code;
        if (o.out.mode == PROC_PIPE && api->read_all(c, PROC_STDOUT, &data, &len) == 0)
            rc |= ssh_str_add(&r->out, data, len);
        if (api->read_all(c, PROC_STDERR, &data, &len) == 0)
            rc |= ssh_str_add(&r->err, data, len);
        if (rc != 0)
            snprintf(err, errlen, "out of memory");
    }
    api->free(c, 1.0);
    return rc;
}

static int ensure_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
    if (mkdir(path, mode) == 0)
        return chmod(path, mode); /* whatever the umask said */
    if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a directory", path);
        return -1;
    }
    if (mode == 0700 && st.st_uid == getuid() && (st.st_mode & 0077) != 0)
        chmod(path, 0700);
    return 0;
}

/* $XDG_RUNTIME_DIR/perfgo, else ~/.config/perfgo (both mode 0700). */
static int control_dir(const struct ssh_connect_opts *o, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    if (o->control_dir != NULL) {
        snprintf(out, outlen, "%s", o->control_dir);
        return ensure_dir(out, 0700, err, errlen);
    }
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (xdg != NULL && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(out, outlen, "%s/perfgo", xdg);
        return ensure_dir(out, 0700, err, errlen);
    }
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
        snprintf(err, errlen,
                 "neither XDG_RUNTIME_DIR nor HOME is set: no place for the ssh "
                 "control socket (give control_dir)");
        return -1;
    }
    snprintf(out, outlen, "%s/.config", home);
    if (ensure_dir(out, 0755, err, errlen) != 0)
        return -1;
    snprintf(out, outlen, "%s/.config/perfgo", home);
    return ensure_dir(out, 0700, err, errlen);
}

/* ssh -G: the user, host name and port ssh will really use. */
static int resolve(struct ssh_session *s, char *err, size_t errlen)
{
    struct ssh_argv a = {0};
    struct ssh_result r;
    int rc = -1;
    if (ssh_argv_extend(&a, &s->base) || ssh_argv_push(&a, "-G") || ssh_argv_push(&a, "--") ||
        ssh_argv_push(&a, s->dest)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (ssh_run_local(s->proc, a.v, NULL, NULL, false, &r, err, errlen) != 0)
        goto done;
    if (r.code != 0) {
        snprintf(err, errlen, "ssh %s: %s", s->dest, trimmed(&r.err));
        ssh_result_free(&r);
        goto done;
    }
    char user[256] = "", host[256] = "", port[16] = "";
    for (char *line = r.out.p ? strtok(r.out.p, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "user ", 5) == 0)
            snprintf(user, sizeof user, "%s", line + 5);
        else if (strncmp(line, "hostname ", 9) == 0)
            snprintf(host, sizeof host, "%s", line + 9);
        else if (strncmp(line, "port ", 5) == 0)
            snprintf(port, sizeof port, "%s", line + 5);
    }
    ssh_result_free(&r);
    size_t len = strlen(user) + strlen(host) + strlen(port) + 3;
    s->target = malloc(len);
    if (s->target == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    snprintf(s->target, len, "%s@%s:%s", user, host, port);
    rc = 0;
done:
    ssh_argv_free(&a);
    return rc;
}

/* The ssh options of the master (client false) or of a command over it
 * (client true). A client never connects by itself: without the master
 * (the connection is lost) it fails instead of authenticating again. */
static int build_argv(struct ssh_session *s, const struct ssh_connect_opts *o, const char *user,
                      const char *port, struct ssh_argv *b, bool client)
{
    char num[32];
    if (ssh_argv_push(b, "ssh"))
        return -1;
    if (o->config && (ssh_argv_push(b, "-F") || ssh_argv_push(b, o->config)))
        return -1;
    /* ssh keeps the first value it sees for an option: ours that must hold
     * first, then the caller's, then our defaults. */
    if (ssh_argv_push(b, "-o") || ssh_argv_pushf(b, "ControlPath=%s", s->control_path))
        return -1;
    if (client && (ssh_argv_push(b, "-o") || ssh_argv_push(b, "ControlMaster=no") ||
                   ssh_argv_push(b, "-o") || ssh_argv_push(b, "BatchMode=yes") ||
                   ssh_argv_push(b, "-o") || ssh_argv_push(b, "ProxyCommand=false") ||
                   ssh_argv_push(b, "-o") || ssh_argv_push(b, "ProxyJump=none")))
        return -1;
    for (size_t i = 0; o->options && o->options[i]; i++)
        if (ssh_argv_push(b, "-o") || ssh_argv_push(b, o->options[i]))
            return -1;
    snprintf(num, sizeof num, "%d", o->connect_timeout > 0 ? o->connect_timeout : 10);
    if (ssh_argv_push(b, "-o") || ssh_argv_pushf(b, "ConnectTimeout=%s", num) ||
        ssh_argv_push(b, "-o") || ssh_argv_push(b, "ServerAliveInterval=5") ||
        ssh_argv_push(b, "-o") || ssh_argv_push(b, "ServerAliveCountMax=3"))
        return -1;
    if (port[0] && (ssh_argv_push(b, "-p") || ssh_argv_push(b, port)))
        return -1;
    if (user[0] && (ssh_argv_push(b, "-l") || ssh_argv_push(b, user)))
        return -1;
    if (o->identity && (ssh_argv_push(b, "-i") || ssh_argv_push(b, o->identity)))
        return -1;
    return 0;
}

static int build_base(struct ssh_session *s, const struct ssh_connect_opts *o, const char *user,
                      const char *port)
{
    return build_argv(s, o, user, port, &s->base, false) ||
                   build_argv(s, o, user, port, &s->client, true)
               ? -1
               : 0;
}

/* ssh -O CMD: 0 when ssh says yes. */
static int control(const struct ssh_session *s, const char *cmd, struct ssh_result *r)
{
    struct ssh_argv a = {0};
    char err[256];
    int rc = -1;
    if (!ssh_argv_extend(&a, &s->base) && !ssh_argv_push(&a, "-O") && !ssh_argv_push(&a, cmd) &&
        !ssh_argv_push(&a, "--") && !ssh_argv_push(&a, s->dest) &&
        ssh_run_local(s->proc, a.v, NULL, NULL, false, r, err, sizeof err) == 0)
        rc = r->code == 0 ? 0 : -1;
    ssh_argv_free(&a);
    return rc;
}

bool ssh_alive(const struct ssh_session *s)
{
    struct ssh_result r;
    memset(&r, 0, sizeof r);
    bool up = !s->closed && control(s, "check", &r) == 0;
    ssh_result_free(&r);
    return up;
}

static int start_master(struct ssh_session *s, int persist, char *err, size_t errlen)
{
    struct ssh_argv a = {0};
    struct ssh_result r;
    char opt[64];
    int rc = -1;
    snprintf(opt, sizeof opt, "ControlPersist=%d", persist > 0 ? persist : 120);
    /* In our own process group, so ssh can still ask for a passphrase on
     * the terminal; -f puts the master in the background once it is in. */
    if (ssh_argv_extend(&a, &s->base) || ssh_argv_push(&a, "-o") ||
        ssh_argv_push(&a, "ControlMaster=yes") || ssh_argv_push(&a, "-o") ||
        ssh_argv_push(&a, opt) || ssh_argv_push(&a, "-f") || ssh_argv_push(&a, "-N") ||
        ssh_argv_push(&a, "--") || ssh_argv_push(&a, s->dest)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    struct proc_io_spec in = {.mode = PROC_INHERIT};
    if (ssh_run_local(s->proc, a.v, isatty(0) ? &in : NULL, NULL, true, &r, err, errlen) != 0)
        goto done;
    if (r.code != 0)
        snprintf(err, errlen, "cannot connect to %s: %s", s->dest,
                 r.err.len ? trimmed(&r.err) : "ssh failed");
    else
        rc = 0;
    ssh_result_free(&r);
done:
    ssh_argv_free(&a);
    return rc;
}

struct ssh_session *ssh_connect(const struct ssh_connect_opts *o, const struct proc_api *proc,
                                char *err, size_t errlen)
{
    char user[256], host[1024], port[16], dir[PATH_MAX], hash[17];
    if (o->host == NULL || o->host[0] == '\0' || o->host[0] == '-' ||
        ssh_parse_host(o->host, user, sizeof user, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errlen, "bad host '%s' (user@host:port, host or an ssh config alias)",
                 o->host ? o->host : "");
        return NULL;
    }
    if (o->user)
        snprintf(user, sizeof user, "%s", o->user);
    if (o->port)
        snprintf(port, sizeof port, "%s", o->port);
    if (control_dir(o, dir, sizeof dir, err, errlen) != 0)
        return NULL;

    struct ssh_session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->proc = proc;
    s->remote_rsync = -1;
    s->dest = strdup(host);
    if (s->dest == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* A master of our own, named by the destination and a random part:
     * another session (another perfgo run) never uses it, and we never
     * end theirs. */
    char named[1400];
    snprintf(named, sizeof named, "%s@%s:%s", user, host, port);
    ssh_short_hash(named, hash);
    unsigned char rnd[4] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        uint32_t mix = (uint32_t)getpid() ^ (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)s;
        memcpy(rnd, &mix, sizeof rnd);
    }
    snprintf(hash + 8, sizeof hash - 8, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    size_t len = strlen(dir) + sizeof "/ssh-" + sizeof hash;
    /* ssh binds "<path>.<16 random chars>" first: stay under sun_path. */
    if (len + 18 > 104) {
        snprintf(err, errlen,
                 "control directory '%s' is too long for a Unix socket path "
                 "(give a shorter control_dir)",
                 dir);
        goto fail;
    }
    s->control_path = malloc(len);
    if (s->control_path == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(s->control_path, len, "%s/ssh-%s", dir, hash);
    if (build_base(s, o, user, port) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (start_master(s, o->persist, err, errlen) != 0)
        goto fail;
    s->owns_master = true;
    return s;
fail:
    s->closed = true;
    ssh_free(s);
    return NULL;
}

int ssh_session_argv(const struct ssh_session *s, struct ssh_argv *out, const char *remote_cmd)
{
    /* Over the master only (see build_argv). */
    int rc = ssh_argv_extend(out, &s->client) || ssh_argv_push(out, "-T") ||
             ssh_argv_push(out, "--") || ssh_argv_push(out, s->dest) ||
             ssh_argv_push(out, remote_cmd);
    return rc ? -1 : 0;
}

int ssh_command_argv(const struct ssh_session *s, struct ssh_argv *out, const char *const *argv,
                     const char *cwd, const struct ssh_env *env, size_t n_env, enum ssh_wrap wrap)
{
    struct ssh_str cmd = {0};
    if (ssh_remote_command(&cmd, argv, cwd, env, n_env, wrap) != 0) {
        ssh_str_free(&cmd);
        return -1;
    }
    int rc = 0;
    if (wrap == SSH_WATCHDOG)
        rc = ssh_argv_push(out, "sh") || ssh_argv_push(out, "-c") ||
             ssh_argv_push(out, ssh_local_watchdog) || ssh_argv_push(out, "perfgo-ssh") ||
             ssh_argv_push(out, s->control_path);
    if (rc == 0)
        rc = ssh_session_argv(s, out, cmd.p);
    ssh_str_free(&cmd);
    return rc ? -1 : 0;
}

const char *ssh_target(struct ssh_session *s)
{
    /* ssh -G only when asked: it costs a process, and a run never needs it. */
    if (s->target == NULL) {
        char err[512];
        if (resolve(s, err, sizeof err) != 0)
            return s->dest;
    }
    return s->target;
}

const char *ssh_destination(const struct ssh_session *s)
{
    return s->dest;
}

const char *ssh_control_path(const struct ssh_session *s)
{
    return s->control_path;
}

int ssh_exec(struct ssh_session *s, const char *const *argv, const struct proc_io_spec *in,
             const struct proc_io_spec *out, struct ssh_result *r, char *err, size_t errlen)
{
    struct ssh_argv a = {0};
    struct proc_io_spec hold = {.mode = PROC_HOLD};
    if (ssh_command_argv(s, &a, argv, NULL, NULL, 0, in ? SSH_PLAIN : SSH_WATCHDOG) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = ssh_run_local(s->proc, a.v, in ? in : &hold, out, false, r, err, errlen);
    ssh_argv_free(&a);
    if (rc == 0 && r->code == 255 && !ssh_alive(s)) {
        snprintf(err, errlen, "connection to %s lost (its SSH master has ended)", s->dest);
        ssh_result_free(r);
        return -1;
    }
    return rc;
}

/* Runs argv remotely and wants exit code 0; err gets its stderr. */
int ssh_exec_ok(struct ssh_session *s, const char *const *argv, const struct proc_io_spec *in,
                const struct proc_io_spec *out, struct ssh_result *r, const char *what, char *err,
                size_t errlen)
{
    if (ssh_exec(s, argv, in, out, r, err, errlen) != 0)
        return -1;
    if (r->code != 0) {
        snprintf(err, errlen, "%s on %s failed (exit %d): %s", what, s->dest, r->code,
                 r->err.len ? trimmed(&r->err) : "no message");
        ssh_result_free(r);
        return -1;
    }
    return 0;
}

int ssh_platform(struct ssh_session *s, const char **os, const char **arch, char *err,
                 size_t errlen)
{
    if (!s->have_platform) {
        static const char *const argv[] = {"uname", "-s", "-m", NULL};
        struct ssh_result r;
        if (ssh_exec_ok(s, argv, NULL, NULL, &r, "uname", err, errlen) != 0)
            return -1;
        char sys[64] = "", mach[64] = "";
        if (sscanf(trimmed(&r.out), "%63s %63s", sys, mach) != 2) {
            snprintf(err, errlen, "uname on %s said '%s'", s->dest, r.out.p ? r.out.p : "");
            ssh_result_free(&r);
            return -1;
        }
        ssh_result_free(&r);
        ssh_goos(sys, s->os, sizeof s->os);
        ssh_goarch(mach, s->arch, sizeof s->arch);
        s->have_platform = true;
    }
    *os = s->os;
    *arch = s->arch;
    return 0;
}

const char *ssh_home(struct ssh_session *s, char *err, size_t errlen)
{
    if (s->home == NULL) {
        static const char *const argv[] = {"sh", "-c", "printf '%s\\n' \"$HOME\"", NULL};
        struct ssh_result r;
        if (ssh_exec_ok(s, argv, NULL, NULL, &r, "reading $HOME", err, errlen) != 0)
            return NULL;
        s->home = strdup(trimmed(&r.out));
        ssh_result_free(&r);
        if (s->home == NULL)
            snprintf(err, errlen, "out of memory");
    }
    return s->home;
}

void ssh_close(struct ssh_session *s)
{
    if (s == NULL || s->closed)
        return;
    /* A master we joined (another perfgo's, or one left from an earlier
     * run) is its owner's to end; ControlPersist ends it when idle. */
    if (s->owns_master) {
        struct ssh_result r;
        memset(&r, 0, sizeof r);
        control(s, "exit", &r);
        ssh_result_free(&r);
        unlink(s->control_path);
    }
    s->closed = true;
}

void ssh_free(struct ssh_session *s)
{
    if (s == NULL)
        return;
    ssh_close(s);
    ssh_argv_free(&s->base);
    ssh_argv_free(&s->client);
    free(s->dest);
    free(s->target);
    free(s->control_path);
    free(s->home);
    free(s);
}
