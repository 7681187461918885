/* ELF headers: type, PT_LOAD segments, NT_GNU_BUILD_ID. Reads only the
 * file header, the program headers and PT_NOTE segments (with pread), so a
 * large binary costs a few small reads. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int elfi_read(const char *path, elfi_info *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    src s = {.fd = fd};
    int rc = parse(&s, path, out, err, errlen);
    close(fd);
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
