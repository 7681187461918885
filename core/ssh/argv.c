/*
 * Building ssh command lines: strings and argv lists, POSIX shell quoting,
 * the remote wrapper script, host parsing, platform names, socket names.
 * No process is started here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh.h"

int ssh_str_add(struct ssh_str *s, const char *data, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1) {
            if (cap > ((size_t)-1) / 2) {
                errno = ENOMEM;
                return -1;
            }
            cap *= 2;
        }
        char *p = realloc(s->p, cap);
        if (p == NULL)
            return -1;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return 0;
}

int ssh_str_cat(struct ssh_str *s, const char *cstr)
{
    return ssh_str_add(s, cstr, strlen(cstr));
}

void ssh_str_free(struct ssh_str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

int ssh_argv_push(struct ssh_argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
    return 0;
}

int ssh_argv_pushf(struct ssh_argv *a, const char *fmt, const char *arg)
{
    int n = snprintf(NULL, 0, fmt, arg);
    if (n < 0)
        return -1;
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL)
        return -1;
    snprintf(buf, (size_t)n + 1, fmt, arg);
    int r = ssh_argv_push(a, buf);
    free(buf);
    return r;
}

int ssh_argv_extend(struct ssh_argv *a, const struct ssh_argv *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (ssh_argv_push(a, b->v[i]) != 0)
            return -1;
    return 0;
}

void ssh_argv_free(struct ssh_argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

int ssh_quote(struct ssh_str *out, const char *s)
{
    if (*s == '\0')
        return ssh_str_cat(out, "''");
    bool open = false;
    for (const char *p = s; *p; p++) {
        if (*p == '\'' || *p == '\\') {
            if (open && ssh_str_cat(out, "'") != 0)
                return -1;
            open = false;
            char esc[3] = {'\\', *p, '\0'};
            if (ssh_str_cat(out, esc) != 0)
                return -1;
            continue;
        }
        if (!open && ssh_str_cat(out, "'") != 0)
            return -1;
        open = true;
        if (ssh_str_add(out, p, 1) != 0)
            return -1;
    }
    return open ? ssh_str_cat(out, "'") : 0;
}

/* The wrapper's prologue: $1 is the directory ("" for the login directory),
 * then NAME=VALUE to export or NAME to unset, up to "--"; the command
 * follows. */
static const char prologue[] = "d=$1; shift; "
                               "if [ -n \"$d\" ]; then cd \"$d\" || exit 126; fi; "
                               "while [ \"$1\" != -- ]; do "
                               "case $1 in *=*) export \"$1\" ;; *) unset \"$1\" ;; esac; shift; "
                               "done; shift; ";

static const char plain[] = "exec \"$@\"";

/* See ssh.h: the command runs in the foreground (so SIGINT reaches it; an
 * asynchronous command of a non-interactive sh would ignore it) in a
 * session of its own, and tells its pid through a file; a reader of the
 * channel's stdin sends its group SIGINT for each byte that arrives (Ctrl-C
 * here) and ends it when the channel closes. With PERFGO_PIDS set (a
 * directory), "PGID WRAPPER_PGID" is kept in $PERFGO_PIDS/PGID while the
 * command runs, so that whoever watches the run can end both groups. */
static const char watchdog[] =
    "exec 3<&0 </dev/null; "
    "pf=${TMPDIR:-/tmp}/perfgo-wd.$$; rm -f \"$pf\"; "
    "read -r _ _ _ _ g _ </proc/$$/stat 2>/dev/null || g=; "
    "{ n=0; while [ ! -s \"$pf\" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; "
    "read -r p <\"$pf\" 2>/dev/null || p=; [ -n \"$p\" ] || exit 0; "
    "if [ -n \"${PERFGO_PIDS:-}\" ]; then echo \"$p $g\" >\"$PERFGO_PIDS/$p\"; fi; "
    "while c=$(dd bs=1 count=1 <&3 2>/dev/null) && [ -n \"$c\" ]; do "
    "kill -INT -$p 2>/dev/null || kill -INT $p 2>/dev/null; done; "
    "trap '' TERM; kill -TERM -$p 2>/dev/null || kill -TERM $p 2>/dev/null; sleep 2; "
    "kill -KILL -$p 2>/dev/null || kill -KILL $p 2>/dev/null; } >/dev/null 2>&1 & "
    "w=$!; exec 3<&-; "
    "if command -v setsid >/dev/null 2>&1; then "
    "setsid sh -c 'echo $$ >\"$0\"; exec \"$@\"' \"$pf\" \"$@\"; "
    "else sh -c 'echo $$ >\"$0\"; exec \"$@\"' \"$pf\" \"$@\"; fi; "
    "s=$?; exec 2>/dev/null; kill $w; "
    "if [ -n \"${PERFGO_PIDS:-}\" ] && read -r p <\"$pf\"; then rm -f \"$PERFGO_PIDS/$p\"; fi; "
    "rm -f \"$pf\"; exit $s";

/* What reaches the remote login shell: a constant decoder, then the script
 * in base64. The decoder is one single-quoted word without '!', '\\' or a
 * newline, which sh, bash, dash, zsh, fish, tcsh and csh all pass on
 * unchanged; every variable byte travels in the base64 word. Arguments
 * after it are the script's "$@". */
static const char decoder[] =
    "sh -c 'c=$(printf %s \"$1\" | base64 -d) || exit 127; shift; eval \"$c\"' perfgo ";

int ssh_base64(struct ssh_str *out, const void *data, size_t n)
{
    const unsigned char *p = data;
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        quad[0] = tab[(v >> 18) & 63];
        quad[1] = tab[(v >> 12) & 63];
        quad[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < n ? tab[v & 63] : '=';
        if (ssh_str_add(out, quad, 4) != 0)
            return -1;
    }
    return 0;
}

int ssh_login_command(struct ssh_str *out, const char *script)
{
    if (ssh_str_cat(out, decoder) != 0)
        return -1;
    if (*script == '\0')
        script = ":";
    return ssh_base64(out, script, strlen(script));
}

static bool valid_name(const char *name)
{
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

int ssh_command_script(struct ssh_str *out, const char *const *argv, const char *cwd,
                       const struct ssh_env *env, size_t n_env, enum ssh_wrap wrap)
{
    if (ssh_str_cat(out, "set -- ") != 0 || ssh_quote(out, cwd ? cwd : "") != 0)
        return -1;
    for (size_t i = 0; i < n_env; i++) {
        if (!valid_name(env[i].name)) {
            errno = EINVAL;
            return -1;
        }
        struct ssh_str kv = {0};
        int bad = ssh_str_cat(&kv, env[i].name);
        if (!bad && env[i].value != NULL)
            bad = ssh_str_cat(&kv, "=") || ssh_str_cat(&kv, env[i].value);
        if (!bad)
            bad = ssh_str_cat(out, " ") || ssh_quote(out, kv.p);
        ssh_str_free(&kv);
        if (bad)
            return -1;
    }
    if (ssh_str_cat(out, " --") != 0)
        return -1;
    for (size_t i = 0; argv[i] != NULL; i++)
        if (ssh_str_cat(out, " ") != 0 || ssh_quote(out, argv[i]) != 0)
            return -1;
    if (ssh_str_cat(out, "\n") != 0 || ssh_str_cat(out, prologue) != 0 ||
        ssh_str_cat(out, wrap == SSH_WATCHDOG ? watchdog : plain) != 0)
        return -1;
    return 0;
}

/* The local side of a watchdog command (see ssh.h): ssh in a session of
 * its own, fed from a FIFO that this sh holds; SIGINT here becomes a byte
 * for the remote watchdog. $1 names the FIFO (a private directory). */
const char ssh_local_watchdog[] =
    "f=$1.$$; shift; "
    "if ! command -v setsid >/dev/null 2>&1 || ! mkfifo -m 600 \"$f\" 2>/dev/null; then exec "
    "\"$@\"; fi; "
    "setsid \"$@\" <\"$f\" & s=$!; "
    "exec 4>\"$f\"; rm -f \"$f\"; "
    "trap 'printf i >&4' INT; "
    "while :; do wait \"$s\"; r=$?; kill -0 \"$s\" 2>/dev/null || exit \"$r\"; done";

int ssh_remote_command(struct ssh_str *out, const char *const *argv, const char *cwd,
                       const struct ssh_env *env, size_t n_env, enum ssh_wrap wrap)
{
    struct ssh_str script = {0};
    int r = ssh_command_script(&script, argv, cwd, env, n_env, wrap);
    if (r == 0)
        r = ssh_login_command(out, script.p);
    ssh_str_free(&script);
    return r;
}

static void lower_copy(const char *in, char *out, size_t outlen)
{
    size_t i = 0;
    for (; in[i] && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    if (outlen)
        out[i] = '\0';
}

void ssh_goos(const char *uname_s, char *out, size_t outlen)
{
    lower_copy(uname_s, out, outlen);
}

void ssh_goarch(const char *m, char *out, size_t outlen)
{
    static const struct {
        const char *uname, *goarch;
    } map[] = {
        {"x86_64", "amd64"},    {"amd64", "amd64"},     {"aarch64", "arm64"},
        {"arm64", "arm64"},     {"i386", "386"},        {"i486", "386"},
        {"i586", "386"},        {"i686", "386"},        {"armv7l", "arm"},
        {"armv6l", "arm"},      {"armv5tel", "arm"},    {"armv8l", "arm"},
        {"riscv64", "riscv64"}, {"ppc64le", "ppc64le"}, {"ppc64", "ppc64"},
        {"s390x", "s390x"},     {"mips64", "mips64"},   {"loongarch64", "loong64"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(m, map[i].uname) == 0) {
            snprintf(out, outlen, "%s", map[i].goarch);
            return;
        }
    }
    snprintf(out, outlen, "%s", m);
}

void ssh_short_hash(const char *s, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int copy_part(const char *from, size_t n, char *to, size_t tolen)
{
    if (n >= tolen)
        return -1;
    memcpy(to, from, n);
    to[n] = '\0';
    return 0;
}

int ssh_parse_host(const char *spec, char *user, size_t ulen, char *host, size_t hlen, char *port,
                   size_t plen)
{
    user[0] = host[0] = port[0] = '\0';
    const char *at = strrchr(spec, '@');
    const char *h = spec;
    if (at != NULL) {
        if (copy_part(spec, (size_t)(at - spec), user, ulen) != 0)
            return -1;
        h = at + 1;
    }
    const char *end = h + strlen(h);
    const char *colon = NULL;
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        if (close == NULL)
            return -1;
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1] != '\0')
            return -1;
        if (copy_part(h + 1, (size_t)(close - h - 1), host, hlen) != 0)
            return -1;
    } else {
        colon = strchr(h, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL; /* a bare IPv6 address */
        if (copy_part(h, (size_t)((colon ? colon : end) - h), host, hlen) != 0)
            return -1;
    }
    if (colon != NULL) {
        const char *p = colon + 1;
        if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
            return -1;
        if (copy_part(p, strlen(p), port, plen) != 0)
            return -1;
    }
    return host[0] == '\0' ? -1 : 0;
}

int ssh_rsync_quote(struct ssh_str *out, const char *s)
{
    if (*s != '\0' && strpbrk(s, " \t\n'\"\\") == NULL)
        return ssh_str_cat(out, s);
    if (strchr(s, '\\') != NULL || strchr(s, '\n') != NULL)
        return -1;
    const char *q = strchr(s, '\'') == NULL ? "'" : strchr(s, '"') == NULL ? "\"" : NULL;
    if (q == NULL)
        return -1;
    return ssh_str_cat(out, q) || ssh_str_cat(out, s) || ssh_str_cat(out, q) ? -1 : 0;
}
