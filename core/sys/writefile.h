/* Writing an output file the way a user expects of `-o FILE`:
 *
 * - a regular file is replaced whole: the data goes to a temporary file in
 *   the same directory, which is then renamed over it, so a failed write
 *   leaves the old file as it was;
 * - a new file gets 0666 & ~umask, as a shell redirection gives it; a
 *   replaced file keeps its mode (and, written by root, its owner);
 * - through a symbolic link, the file it names is replaced and the link
 *   stays, except where the kernel's protected_symlinks rule would refuse
 *   to follow it: a link in a sticky, world-writable directory (/tmp) that
 *   belongs neither to the writer nor to the directory's owner is refused,
 *   so nobody can point perfgo, run by another user, at a file of theirs;
 * - a path that exists and is no regular file (/dev/null, /dev/stdout, a
 *   FIFO, a terminal) is written in place, as a shell redirection would;
 * - every write error (a full disk, /dev/full, a closed pipe) is an error.
 *
 * Pure C, no Lua. */
#ifndef PERFGO_SYS_WRITEFILE_H
#define PERFGO_SYS_WRITEFILE_H

#include <stddef.h>

/* Writes data[0..len) to path as above. 0, or -1 with a message naming
 * path in err. */
int sys_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
