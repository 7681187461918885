/* Output files: replaced whole through a temporary file, modes kept, the
 * protected_symlinks rule applied to symbolic links. See writefile.h. */
#include "writefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Writes all of data to fd: 0 or an errno value. */
static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *q = data;
    while (len > 0) {
        ssize_t w = write(fd, q, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return EIO;
        q += w;
        len -= (size_t)w;
    }
    return 0;
}

/* A path that exists and is no regular file is written in place. */
static int write_in_place(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    int e = fd < 0 ? errno : write_all(fd, data, len);
    if (fd >= 0 && close(fd) != 0 && e == 0)
        e = errno;
    return e ? errf(err, errlen, "%s: %s", path, strerror(e)) : 0;
}

/* The directory part of path ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* The kernel's protected_symlinks rule for the link at path (lst its
 * lstat): in a sticky, world-writable directory a link is followed only
 * when it belongs to the follower or to the directory's owner. */
static bool link_may_be_followed(const char *path, const struct stat *lst)
{
    char *dir = dir_of(path);
    struct stat dst;
    bool ok = dir && stat(dir, &dst) == 0;
    free(dir);
    if (!ok)
        return false;
    if ((dst.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH))
        return true;
    return lst->st_uid == geteuid() || lst->st_uid == dst.st_uid;
}

/* The path a symbolic link names (relative to the link's directory when
 * it is relative), malloc'd; NULL when it cannot be read. */
static char *link_target(const char *link)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    const char *slash = strrchr(link, '/');
    size_t dl = buf[0] == '/' || !slash ? 0 : (size_t)(slash - link) + 1;
    char *out = malloc(dl + (size_t)n + 1);
    if (out) {
        memcpy(out, link, dl);
        memcpy(out + dl, buf, (size_t)n + 1);
    }
    return out;
}

/* A new file dest.tmp.XXXXXXXX opened for writing with mode 0666 (the
 * umask applies, as for any new file). fd, or -1 with errno set. */
static int open_temp(const char *dest, char **tmp_out)
{
    size_t n = strlen(dest);
    char *tmp = malloc(n + 16);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        unsigned char r[4];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            memcpy(r, &attempt, sizeof r);
        snprintf(tmp, n + 16, "%s.tmp.%02x%02x%02x%02x", dest, r[0], r[1], r[2], r[3]);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd >= 0) {
            *tmp_out = tmp;
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(tmp);
    errno = e;
    return -1;
}

int sys_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    struct stat lst, st;
    bool is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
    if (is_link && !link_may_be_followed(path, &lst))
        return errf(err, errlen,
                    "%s: a symbolic link in a sticky world-writable directory that belongs to "
                    "someone else: not followed (protected_symlinks); write to the file it "
                    "names, or remove the link",
                    path);
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode))
        return write_in_place(path, data, len, err, errlen);
    /* through a symbolic link: the file it names is replaced, the link stays */
    char *real = NULL;
    if (is_link && !(real = realpath(path, NULL)))
        real = link_target(path); /* a dangling link: its file is made */
    const char *dest = real ? real : path;
    char *tmp = NULL;
    int fd = open_temp(dest, &tmp);
    if (fd < 0) {
        int e = errno;
        free(real);
        return errf(err, errlen, "%s: %s", path, strerror(e));
    }
    int e = write_all(fd, data, len);
    if (e == 0 && exists) { /* the replaced file's mode, and its owner where we may */
        if (fchmod(fd, st.st_mode & 07777) != 0)
            e = errno;
        else if (geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) &&
                 fchown(fd, st.st_uid, st.st_gid) != 0)
            e = errno;
    }
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, dest) != 0)
        e = errno;
    if (e != 0)
        unlink(tmp);
    free(tmp);
    free(real);
    return e ? errf(err, errlen, "%s: %s", path, strerror(e)) : 0;
}
