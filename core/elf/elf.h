/* Just enough ELF for address translation: file type, PT_LOAD segments and
 * the GNU build id of a 32- or 64-bit ELF file of either byte order.
 * Include it as "elf/elf.h" (it does not replace the system <elf.h>). */
#ifndef PERFGO_ELF_ELF_H
#define PERFGO_ELF_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELFI_MAX_LOADS 32
#define ELFI_MAX_BUILD_ID 64

typedef struct elfi_load {
    uint64_t offset, vaddr, filesz, memsz;
    uint32_t flags; /* PF_X = 1, PF_W = 2, PF_R = 4 */
} elfi_load;

typedef struct elfi_info {
    int type; /* e_type: 2 = ET_EXEC, 3 = ET_DYN, ... */
    size_t nloads;
    elfi_load loads[ELFI_MAX_LOADS];           /* PT_LOAD headers in file order */
    unsigned char build_id[ELFI_MAX_BUILD_ID]; /* NT_GNU_BUILD_ID descriptor */
    size_t build_id_len;                       /* 0 = none */
} elfi_info;

/* ---- opening a file named by an input ----
 * A DSO name perf printed is input, so opening it must be safe whatever it
 * says: a name under /proc, /sys or /dev is never opened, however it is
 * spelled (//proc/kmsg, /./dev/zero, /a/../proc/x); only a regular file is
 * opened (checked without opening first, so a FIFO never blocks and a
 * device is never woken), with O_NONBLOCK | O_NOCTTY, and checked again
 * once open, also for procfs and sysfs (reached through a symbolic link);
 * and under a root directory (a binary root, a path map's directory) the
 * name resolves inside it: ".." cannot climb above it and a symbolic link
 * cannot leave it (openat2 RESOLVE_IN_ROOT; where the kernel lacks it, the
 * real path must lie under the root's). */
typedef struct elfi_file {
    int fd;            /* open for reading, -1 when not */
    char path[4096];   /* the file's real path (for a mapping's name) */
    uint64_t dev, ino; /* its device and inode */
} elfi_file;

/* Opens path (inside root when root is not NULL) as above. 0, or an errno
 * value with a message naming the path in err: ENOENT when there is no
 * such file (a caller may look elsewhere), EPERM when it is refused. */
int elfi_open(const char *root, const char *path, elfi_file *f, char *err, size_t errlen);
void elfi_close(elfi_file *f);
/* Whether path is absolute and lexically normal: no "//", "." or ".."
 * components, no trailing "/" (perf prints DSO paths so; one that is not
 * is not read at its own path). */
bool elfi_path_is_normal(const char *path);

/* Reads the headers of the file open on fd (name for messages). 0, or -1
 * with a message in err. */
int elfi_read_fd(int fd, const char *name, elfi_info *out, char *err, size_t errlen);
/* elfi_open(NULL, path) and elfi_read_fd: 0, or -1 with a message naming
 * the file in err (missing, refused, unreadable, not ELF, truncated). */
int elfi_read(const char *path, elfi_info *out, char *err, size_t errlen);
/* The same from bytes in memory. */
int elfi_parse(const unsigned char *data, size_t len, elfi_info *out, char *err, size_t errlen);

/* vaddr of file offset fo: fo - p_offset + p_vaddr for the PT_LOAD with
 * p_offset <= fo < p_offset + p_filesz (executable segments preferred).
 * false when no segment holds fo. */
bool elfi_offset_to_vaddr(const elfi_info *e, uint64_t fo, uint64_t *vaddr);
/* Inverse: the file offset of vaddr (p_vaddr <= v < p_vaddr + p_filesz). */
bool elfi_vaddr_to_offset(const elfi_info *e, uint64_t vaddr, uint64_t *fo);

/* Lowercase hex of the build id into out (2*build_id_len+1 bytes at most
 * outlen); returns the hex length, 0 when there is no build id. */
size_t elfi_build_id_hex(const elfi_info *e, char *out, size_t outlen);

#endif
