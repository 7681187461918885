/*
 * Files over the master: put and get stream one file through cat (binary
 * safe, no scp/sftp needed on the remote); put_tree sends a list of files
 * with rsync (rsync's transport is our ssh over the master, paths travel
 * inside rsync's protocol with -s, --protect-args) or as a tar stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh_internal.h"

int ssh_put(struct ssh_session *s, const char *local, const char *remote, char *err, size_t errlen)
{
    struct stat st;
    if (stat(local, &st) != 0) {
        snprintf(err, errlen, "cannot read '%s': %s", local, strerror(errno));
        return -1;
    }
    char mode[8];
    snprintf(mode, sizeof mode, "%o", (unsigned)(st.st_mode & 07777));
    static const char script[] = "t=\"$1.perfgo-tmp.$$\"; "
                                 "cat >\"$t\" && chmod \"$2\" \"$t\" && mv -f \"$t\" \"$1\" "
                                 "|| { rm -f \"$t\"; exit 1; }";
    const char *argv[] = {"sh", "-c", script, "perfgo-put", remote, mode, NULL};
    struct proc_io_spec in = {.mode = PROC_FILE, .path = local};
    struct ssh_result r;
    if (ssh_exec_ok(s, argv, &in, NULL, &r, "copying to remote", err, errlen) != 0)
        return -1;
    ssh_result_free(&r);
    return 0;
}

int ssh_get(struct ssh_session *s, const char *remote, const char *local, char *err, size_t errlen)
{
    size_t len = strlen(local) + 32;
    char *tmp = malloc(len);
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, len, "%s.perfgo-tmp.%ld", local, (long)getpid());
    const char *argv[] = {"cat", "--", remote, NULL};
    struct proc_io_spec out = {.mode = PROC_FILE, .path = tmp};
    struct ssh_result r;
    int rc = ssh_exec_ok(s, argv, NULL, &out, &r, "copying from remote", err, errlen);
    if (rc == 0) {
        ssh_result_free(&r);
        if (rename(tmp, local) != 0) {
            snprintf(err, errlen, "cannot write '%s': %s", local, strerror(errno));
            rc = -1;
        }
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* The file list, NUL-separated, in a temporary file. */
static int write_list(const char *const *files, size_t n, char *path, size_t pathlen, char *err,
                      size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(path, pathlen, "%s/perfgo-files.XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(path);
        snprintf(err, errlen, "fdopen: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        fputs(files[i], f);
        fputc('\0', f);
    }
    if (fclose(f) != 0) {
        unlink(path);
        snprintf(err, errlen, "writing the file list: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static bool remote_has_rsync(struct ssh_session *s)
{
    if (s->remote_rsync < 0) {
        static const char *const argv[] = {"sh", "-c", "command -v rsync", NULL};
        struct ssh_result r;
        char err[256];
        s->remote_rsync = ssh_exec(s, argv, NULL, NULL, &r, err, sizeof err) == 0 && r.code == 0;
        if (s->remote_rsync || r.out.p)
            ssh_result_free(&r);
    }
    return s->remote_rsync == 1;
}

static int mkdir_remote(struct ssh_session *s, const char *dir, char *err, size_t errlen)
{
    const char *argv[] = {"mkdir", "-p", "--", dir, NULL};
    struct ssh_result r;
    if (ssh_exec_ok(s, argv, NULL, NULL, &r, "mkdir", err, errlen) != 0)
        return -1;
    ssh_result_free(&r);
    return 0;
}

/* rsync -e wants one string: our ssh argv (without the destination). */
static int rsync_rsh(const struct ssh_session *s, struct ssh_str *rsh)
{
    for (size_t i = 0; i < s->client.n; i++) {
        if ((i > 0 && ssh_str_cat(rsh, " ")) || ssh_rsync_quote(rsh, s->client.v[i]))
            return -1;
    }
    return 0;
}

char *ssh_rsync_shell(const struct ssh_session *s, char *err, size_t errlen)
{
    struct ssh_str rsh = {0};
    if (rsync_rsh(s, &rsh) != 0) {
        ssh_str_free(&rsh);
        snprintf(err, errlen,
                 "an ssh option cannot be passed to rsync -e (quotes and backslashes, or out "
                 "of memory)");
        return NULL;
    }
    return rsh.p;
}

static int put_rsync(struct ssh_session *s, const char *list, const char *base,
                     const char *remote_dir, struct ssh_argv *sent, char *err, size_t errlen)
{
    struct ssh_str rsh = {0};
    struct ssh_argv a = {0};
    int rc = -1;
    if (rsync_rsh(s, &rsh) != 0) {
        snprintf(err, errlen,
                 "an ssh option cannot be passed to rsync -e (quotes and "
                 "backslashes): use the tar method");
        goto done;
    }
    /* rsync reads "host:path"; a host with ':' would need brackets. */
    if (strchr(s->dest, ':') != NULL) {
        snprintf(err, errlen, "rsync cannot name host '%s'", s->dest);
        goto done;
    }
    if (ssh_argv_push(&a, "rsync") || ssh_argv_push(&a, "-a") || ssh_argv_push(&a, "-s") ||
        ssh_argv_push(&a, "--from0") || ssh_argv_pushf(&a, "--files-from=%s", list) ||
        ssh_argv_push(&a, "--out-format=%n") || ssh_argv_push(&a, "-e") ||
        ssh_argv_push(&a, rsh.p) || ssh_argv_pushf(&a, "%s/", base) ||
        ssh_argv_pushf(&a, "%s:", s->dest)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* remote_dir travels inside the protocol (-s). */
    size_t last = a.n - 1;
    struct ssh_str dst = {0};
    if (ssh_str_cat(&dst, a.v[last]) || ssh_str_cat(&dst, remote_dir) || ssh_str_cat(&dst, "/")) {
        ssh_str_free(&dst);
        goto done;
    }
    free(a.v[last]);
    a.v[last] = dst.p;
    struct ssh_result r;
    if (ssh_run_local(s->proc, a.v, NULL, NULL, false, &r, err, errlen) != 0)
        goto done;
    if (r.code != 0) {
        snprintf(err, errlen, "rsync to %s failed (exit %d): %s", s->dest, r.code,
                 r.err.p ? r.err.p : "");
        ssh_result_free(&r);
        goto done;
    }
    for (char *line = r.out.p ? strtok(r.out.p, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '/' && ssh_argv_push(sent, line) != 0)
            break;
    }
    ssh_result_free(&r);
    rc = 0;
done:
    ssh_str_free(&rsh);
    ssh_argv_free(&a);
    return rc;
}

static int put_tar(struct ssh_session *s, const char *list, const char *const *files, size_t n,
                   const char *base, const char *remote_dir, struct ssh_argv *sent, char *err,
                   size_t errlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    char from[PATH_MAX + 16];
    snprintf(from, sizeof from, "--files-from=%s", list);
    const char *tar_argv[] = {"tar", "-c", "-f", "-", "-C", base, "--null", from, NULL};
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    o.argv = tar_argv;
    o.in.mode = PROC_NULL;
    o.out = (struct proc_io_spec){.mode = PROC_FD, .fd = fds[1]};
    o.err.mode = PROC_PIPE;
    struct proc_child *tar = s->proc->spawn(&o, err, errlen);
    close(fds[1]);
    if (tar == NULL) {
        close(fds[0]);
        return -1;
    }
    static const char script[] = "mkdir -p -- \"$1\" && exec tar -x -f - -C \"$1\"";
    const char *argv[] = {"sh", "-c", script, "perfgo-untar", remote_dir, NULL};
    struct proc_io_spec in = {.mode = PROC_FD, .fd = fds[0]};
    struct ssh_result r;
    int rc = ssh_exec_ok(s, argv, &in, NULL, &r, "unpacking files", err, errlen);
    close(fds[0]);
    struct proc_status st;
    s->proc->wait(tar, -1, &st);
    const char *terr = "";
    size_t tlen = 0;
    s->proc->read_all(tar, PROC_STDERR, &terr, &tlen);
    if (rc == 0) {
        ssh_result_free(&r);
        if (st.code != 0) {
            snprintf(err, errlen, "tar failed (exit %d): %.*s", st.code, (int)tlen, terr);
            rc = -1;
        }
    }
    s->proc->free(tar, 1.0);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (ssh_argv_push(sent, files[i]) != 0)
            rc = -1;
    return rc;
}

int ssh_put_tree(struct ssh_session *s, const char *const *files, size_t n, const char *base,
                 const char *remote_dir, enum ssh_tree_method method, enum ssh_tree_method *used,
                 struct ssh_argv *sent, char *err, size_t errlen)
{
    char local_rsync[PATH_MAX];
    if (method == SSH_TREE_AUTO) {
        bool here =
            s->proc->find_program("rsync", getenv("PATH"), local_rsync, sizeof local_rsync) == 0;
        method = here && remote_has_rsync(s) ? SSH_TREE_RSYNC : SSH_TREE_TAR;
    }
    *used = method;
    char list[PATH_MAX];
    if (write_list(files, n, list, sizeof list, err, errlen) != 0)
        return -1;
    int rc = mkdir_remote(s, remote_dir, err, errlen);
    if (rc == 0 && n > 0) {
        if (method == SSH_TREE_RSYNC)
            rc = put_rsync(s, list, base, remote_dir, sent, err, errlen);
        else
            rc = put_tar(s, list, files, n, base, remote_dir, sent, err, errlen);
    }
    unlink(list);
    return rc;
}
