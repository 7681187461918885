#include "trust.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* 1 with the reason when the entry at p (lstat'ed as st) could have been
 * written by someone other than uid or root, else 0. */
static int check_entry(const char *p, const struct stat *st, uid_t uid, char *why, size_t whylen)
{
    if (st->st_uid != uid && st->st_uid != 0) {
        snprintf(why, whylen, "%s belongs to uid %lu, neither you nor root", p,
                 (unsigned long)st->st_uid);
        return 1;
    }
    if (S_ISLNK(st->st_mode))
        return 0; /* a link's mode bits mean nothing */
    if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
        return 0; /* sticky: only an entry's owner may replace it */
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, whylen, "%s is writable by %s", p,
                 (st->st_mode & S_IWOTH) ? "others" : "its group");
        return 1;
    }
    return 0;
}

/* Checks path (absolute, as spelt) and every directory above it. */
static int check_chain(const char *path, uid_t uid, char *why, size_t whylen)
{
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p) {
        snprintf(why, whylen, "%s: out of memory", path);
        return -1;
    }
    memcpy(p, path, len + 1);
    int rc = 0;
    for (;;) {
        /* "/a/b/" is "/a/b" */
        while (len > 1 && p[len - 1] == '/')
            p[--len] = '\0';
        struct stat st;
        if (lstat(p, &st) != 0) {
            snprintf(why, whylen, "%s: %s", p, strerror(errno));
            rc = -1;
            break;
        }
        rc = check_entry(p, &st, uid, why, whylen);
        if (rc != 0 || len <= 1)
            break;
        char *slash = strrchr(p, '/');
        len = slash == p ? 1 : (size_t)(slash - p);
        p[len] = '\0';
    }
    free(p);
    return rc;
}

int sys_untrusted(const char *path, uid_t uid, char *why, size_t whylen)
{
    if (whylen > 0)
        why[0] = '\0';
    if (path[0] != '/') {
        snprintf(why, whylen, "%s: not an absolute path", path);
        return -1;
    }
    int rc = check_chain(path, uid, why, whylen);
    if (rc != 0)
        return rc;
    char *real = realpath(path, NULL);
    if (!real) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (strcmp(real, path) != 0)
        rc = check_chain(real, uid, why, whylen);
    free(real);
    return rc;
}
