/* ELF headers: type, PT_LOAD segments, NT_GNU_BUILD_ID. Reads only the
 * file header, the program headers and PT_NOTE segments (with pread), so a
 * large binary costs a few small reads. Files named by an input are opened
 * as elf.h says (elfi_open). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__linux__) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif

#include "elf/elf.h"

typedef struct src {
    int fd;                    /* >= 0: read from the file */
    const unsigned char *data; /* else from memory */
    size_t len;
} src;

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Reads exactly n bytes at off. 0, or -1 (short or failed). */
static int read_at(const src *s, uint64_t off, void *buf, size_t n)
{
    if (s->fd < 0) {
        if (off > s->len || n > s->len - off)
            return -1;
        memcpy(buf, s->data + off, n);
        return 0;
    }
    unsigned char *b = buf;
    while (n > 0) {
        ssize_t r = pread(s->fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

typedef struct conv {
    bool swap;
    bool is64;
} conv;

static uint16_t u16(const conv *c, const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return c->swap ? __builtin_bswap16(v) : v;
}

static uint32_t u32(const conv *c, const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return c->swap ? __builtin_bswap32(v) : v;
}

static uint64_t u64(const conv *c, const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return c->swap ? __builtin_bswap64(v) : v;
}

static void scan_notes(const conv *c, const unsigned char *n, size_t len, elfi_info *out)
{
    size_t i = 0;
    while (i + 12 <= len && out->build_id_len == 0) {
        uint32_t namesz = u32(c, n + i), descsz = u32(c, n + i + 4), type = u32(c, n + i + 8);
        size_t name_off = i + 12;
        size_t desc_off = name_off + ((namesz + 3u) & ~(size_t)3);
        size_t next = desc_off + ((descsz + 3u) & ~(size_t)3);
        if (namesz > len || descsz > len || next > len || desc_off + descsz > len)
            return;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(n + name_off, "GNU", 4) == 0 &&
            descsz > 0 && descsz <= ELFI_MAX_BUILD_ID) {
            memcpy(out->build_id, n + desc_off, descsz);
            out->build_id_len = descsz;
        }
        i = next;
    }
}

static int parse(const src *s, const char *name, elfi_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    unsigned char eh[64];
    if (read_at(s, 0, eh, 16) != 0 || memcmp(eh, ELFMAG, SELFMAG) != 0) {
        errf(err, errlen, "%s: not an ELF file", name);
        return -1;
    }
    conv c = {.is64 = eh[EI_CLASS] == ELFCLASS64};
    if ((eh[EI_CLASS] != ELFCLASS32 && !c.is64) ||
        (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB)) {
        errf(err, errlen, "%s: unsupported ELF class or byte order", name);
        return -1;
    }
    uint16_t probe = 1;
    bool host_le = *(unsigned char *)&probe == 1;
    c.swap = (eh[EI_DATA] == ELFDATA2LSB) != host_le;
    size_t ehsize = c.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (read_at(s, 0, eh, ehsize) != 0) {
        errf(err, errlen, "%s: truncated ELF header", name);
        return -1;
    }
    out->type = u16(&c, eh + 16);
    uint64_t phoff = c.is64 ? u64(&c, eh + 32) : u32(&c, eh + 28);
    uint16_t phentsize = u16(&c, eh + (c.is64 ? 54 : 42));
    uint16_t phnum = u16(&c, eh + (c.is64 ? 56 : 44));
    size_t want = c.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (phnum > 0 && phentsize < want) {
        errf(err, errlen, "%s: bad program header size", name);
        return -1;
    }
    for (uint16_t i = 0; i < phnum; i++) {
        unsigned char ph[sizeof(Elf64_Phdr)];
        if (read_at(s, phoff + (uint64_t)i * phentsize, ph, want) != 0) {
            errf(err, errlen, "%s: truncated program headers", name);
            return -1;
        }
        uint32_t type = u32(&c, ph);
        uint64_t off, vaddr, filesz, memsz;
        uint32_t flags;
        if (c.is64) {
            flags = u32(&c, ph + 4);
            off = u64(&c, ph + 8);
            vaddr = u64(&c, ph + 16);
            filesz = u64(&c, ph + 32);
            memsz = u64(&c, ph + 40);
        } else {
            off = u32(&c, ph + 4);
            vaddr = u32(&c, ph + 8);
            filesz = u32(&c, ph + 16);
            memsz = u32(&c, ph + 20);
            flags = u32(&c, ph + 24);
        }
        if (type == PT_LOAD && out->nloads < ELFI_MAX_LOADS) {
            elfi_load *l = &out->loads[out->nloads++];
            l->offset = off;
            l->vaddr = vaddr;
            l->filesz = filesz;
            l->memsz = memsz;
            l->flags = flags;
        } else if (type == PT_NOTE && out->build_id_len == 0 && filesz > 0 && filesz <= 65536) {
            unsigned char *notes = malloc((size_t)filesz);
            if (notes && read_at(s, off, notes, (size_t)filesz) == 0)
                scan_notes(&c, notes, (size_t)filesz, out);
            free(notes);
        }
    }
    if (out->nloads == 0) {
        errf(err, errlen, "%s: ELF file has no loadable segments", name);
        return -1;
    }
    return 0;
}

/* ---- opening files named by an input ---- */

/* path, lexically normal and absolute: "//a/./b/../c" -> "/a/c", ".." at
 * the top stays at the top. false when it does not fit. */
static bool normalize(const char *path, char *out, size_t outlen)
{
    size_t n = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - s);
        if (len == 0 || (len == 1 && s[0] == '.'))
            continue;
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--; /* the slash before the dropped name */
            continue;
        }
        if (n + 1 + len + 1 > outlen)
            return false;
        out[n++] = '/';
        memcpy(out + n, s, len);
        n += len;
    }
    if (n == 0 && outlen > 1)
        out[n++] = '/';
    if (n >= outlen)
        return false;
    out[n] = '\0';
    return true;
}

/* A normal path under /proc, /sys or /dev. */
static bool forbidden(const char *norm)
{
    static const char *const dirs[] = {"/proc", "/sys", "/dev"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t k = strlen(dirs[i]);
        if (strncmp(norm, dirs[i], k) == 0 && (norm[k] == '\0' || norm[k] == '/'))
            return true;
    }
    return false;
}

/* The file system of fd is procfs, sysfs or one of their kin. */
static bool pseudo_fs(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return true;
    switch ((unsigned long)sf.f_type) {
    case 0x9fa0UL:     /* procfs */
    case 0x62656572UL: /* sysfs */
    case 0x64626720UL: /* debugfs */
    case 0x74726163UL: /* tracefs */
    case 0x73636673UL: /* securityfs */
    case 0x1cd1UL:     /* devpts */
        return true;
    default:
        return false;
    }
}

/* rel (a normal path) under the directory open as dirfd, with flags,
 * resolved inside it. -1 with errno, ENOSYS without openat2. */
static int open_beneath(int dirfd, const char *root, const char *norm, int flags)
{
#if defined(HAVE_OPENAT2) && defined(SYS_openat2)
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd = (int)syscall(SYS_openat2, dirfd, norm[1] ? norm + 1 : ".", &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
        return fd;
#endif
    /* No openat2: the lexical path under the root, accepted only when its
     * real path (symbolic links followed) lies under the root's. */
    (void)dirfd;
    char cand[PATH_MAX], real[PATH_MAX], rroot[PATH_MAX];
    if ((size_t)snprintf(cand, sizeof cand, "%s%s", root, norm) >= sizeof cand) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!realpath(root, rroot) || !realpath(cand, real))
        return -1;
    size_t k = strlen(rroot);
    if (!(k == 1 || (strncmp(real, rroot, k) == 0 && (real[k] == '/' || real[k] == '\0')))) {
        errno = EXDEV; /* it leads out of the root */
        return -1;
    }
    return open(real, flags);
}

static int refuse(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(int code, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int elfi_open(const char *root, const char *path, elfi_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    char norm[PATH_MAX];
    if (!normalize(path, norm, sizeof norm))
        return refuse(ENAMETOOLONG, err, errlen, "%s: name too long", path);
    if (!root && forbidden(norm))
        return refuse(EPERM, err, errlen, "%s: not read (a file under /proc, /sys or /dev)", path);
    int rootfd = -1;
    if (root && (rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return refuse(errno, err, errlen, "%s: %s", root, strerror(errno));
    /* O_PATH first: it opens nothing, so a FIFO cannot block and a device
     * is not woken before the file is known to be a regular one */
    int pfd = root ? open_beneath(rootfd, root, norm, O_PATH | O_CLOEXEC)
                   : open(path, O_PATH | O_CLOEXEC);
    int e = errno, code = 0;
    struct stat pst, st;
    if (pfd < 0) {
        if (e == EXDEV)
            code = refuse(EPERM, err, errlen, "%s: not read (it leads out of %s)", path, root);
        else if (e == ELOOP && root)
            code = refuse(EPERM, err, errlen, "%s: not read (a link that leaves %s)", path, root);
        else
            code = refuse(e, err, errlen, "%s%s: %s", root ? root : "", root ? norm : path,
                          strerror(e));
    } else if (fstat(pfd, &pst) != 0 || !S_ISREG(pst.st_mode)) {
        code = refuse(EPERM, err, errlen, "%s: not read (not a regular file)", path);
    } else if (pseudo_fs(pfd)) {
        code = refuse(EPERM, err, errlen, "%s: not read (a file of /proc or /sys)", path);
    } else {
        int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
        f->fd = root ? open_beneath(rootfd, root, norm, flags) : open(path, flags);
        if (f->fd < 0)
            code = refuse(errno, err, errlen, "%s: %s", path, strerror(errno));
        else if (fstat(f->fd, &st) != 0 || st.st_dev != pst.st_dev || st.st_ino != pst.st_ino)
            code = refuse(EPERM, err, errlen, "%s: not read (it changed while being opened)", path);
    }
    if (code == 0) {
        f->dev = (uint64_t)st.st_dev;
        f->ino = (uint64_t)st.st_ino;
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", f->fd);
        ssize_t n = readlink(link, f->path, sizeof f->path - 1);
        if (n <= 0) /* no /proc: the name it was opened by */
            n = snprintf(f->path, sizeof f->path, "%s%s", root ? root : "", root ? norm : path);
        f->path[(size_t)n < sizeof f->path ? (size_t)n : sizeof f->path - 1] = '\0';
    } else if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (pfd >= 0)
        close(pfd);
    if (rootfd >= 0)
        close(rootfd);
    return code;
}

bool elfi_path_is_normal(const char *path)
{
    char norm[PATH_MAX];
    return path[0] == '/' && normalize(path, norm, sizeof norm) && strcmp(norm, path) == 0;
}

void elfi_close(elfi_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int elfi_read_fd(int fd, const char *name, elfi_info *out, char *err, size_t errlen)
{
    src s = {.fd = fd};
    return parse(&s, name, out, err, errlen);
}

int elfi_read(const char *path, elfi_info *out, char *err, size_t errlen)
{
    elfi_file f;
    if (elfi_open(NULL, path, &f, err, errlen) != 0)
        return -1;
    int rc = elfi_read_fd(f.fd, path, out, err, errlen);
    elfi_close(&f);
    return rc;
}

int elfi_parse(const unsigned char *data, size_t len, elfi_info *out, char *err, size_t errlen)
{
    src s = {.fd = -1, .data = data, .len = len};
    return parse(&s, "<memory>", out, err, errlen);
}

bool elfi_offset_to_vaddr(const elfi_info *e, uint64_t fo, uint64_t *vaddr)
{
    /* Executable segments first: a file offset can sit in two segments
     * when they share a page. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < e->nloads; i++) {
            const elfi_load *l = &e->loads[i];
            if ((pass == 0) != ((l->flags & PF_X) != 0))
                continue;
            if (fo >= l->offset && fo - l->offset < l->filesz) {
                *vaddr = fo - l->offset + l->vaddr;
                return true;
            }
        }
    }
    return false;
}

bool elfi_vaddr_to_offset(const elfi_info *e, uint64_t vaddr, uint64_t *fo)
{
    for (size_t i = 0; i < e->nloads; i++) {
        const elfi_load *l = &e->loads[i];
        if (vaddr >= l->vaddr && vaddr - l->vaddr < l->filesz) {
            *fo = vaddr - l->vaddr + l->offset;
            return true;
        }
    }
    return false;
}

size_t elfi_build_id_hex(const elfi_info *e, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    if (e->build_id_len == 0 || outlen < e->build_id_len * 2 + 1) {
        if (outlen)
            out[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < e->build_id_len; i++) {
        out[2 * i] = hex[e->build_id[i] >> 4];
        out[2 * i + 1] = hex[e->build_id[i] & 15];
    }
    out[2 * e->build_id_len] = '\0';
    return 2 * e->build_id_len;
}
