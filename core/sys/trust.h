/* Whether a file may be trusted as code to run: a configuration file found
 * by looking around (a project's perfgo.lua) runs with the rights of
 * whoever runs perfgo, so it must be one that nobody else could have
 * written or put there. */
#ifndef PERFGO_SYS_TRUST_H
#define PERFGO_SYS_TRUST_H

#include <stddef.h>
#include <sys/types.h>

/* Checks the absolute path, each directory above it up to /, and the same
 * for its real path when a symbolic link leads elsewhere. Each must belong
 * to uid or to root, and none may be writable by its group or by others,
 * except a directory with the sticky bit (such as /tmp), where nobody can
 * replace an entry another user owns. A symbolic link's own mode does not
 * count, its owner does.
 *
 * Returns 0 when the file may be trusted; 1 when it may not, with the
 * reason in why ("/x/perfgo.lua is writable by others", "/x belongs to
 * uid 1001, neither you nor root"); -1 when a part cannot be examined
 * (why says which and the errno text). why is always NUL-terminated. */
int sys_untrusted(const char *path, uid_t uid, char *why, size_t whylen);

#endif
