/* The ELF reader on this very test binary: file offset -> vaddr checked
 * against the dynamic loader's view of the running process. */
#include <elf.h>
#include <stdbool.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "elf/elf.h"

int data_marker[64] = {1, 2, 3};

typedef struct self_info {
    uintptr_t bias;
    unsigned char build_id[64];
    size_t build_id_len;
    size_t nloads;
} self_info;

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    self_info *s = data;
    s->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD)
            s->nloads++;
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *n = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t off = 0;
        while (off + sizeof(ElfW(Nhdr)) <= ph->p_memsz) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(n + off);
            size_t name = off + sizeof *nh, desc = name + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(n + name, "GNU", 4) == 0 && nh->n_descsz <= sizeof s->build_id) {
                memcpy(s->build_id, n + desc, nh->n_descsz);
                s->build_id_len = nh->n_descsz;
            }
            off = desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 1; /* the first entry is the main program */
}

/* The file offset of runtime address a, from /proc/self/maps. */
static bool self_offset(uintptr_t a, uint64_t *off)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, pg;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &pg) == 4 && a >= lo && a < hi) {
            *off = a - lo + pg;
            found = true;
        }
    }
    fclose(f);
    return found;
}

static void test_offset_to_vaddr_matches_loader(void)
{
    self_info s = {0};
    dl_iterate_phdr(phdr_cb, &s);
    elfi_info e;
    char err[256];
    CHECK(elfi_read("/proc/self/exe", &e, err, sizeof err) == 0);
    CHECK(e.type == ET_DYN || e.type == ET_EXEC);
    CHECK(e.nloads == s.nloads);
    /* main's ELF vaddr is its runtime address minus the load bias. */
    uintptr_t rt = (uintptr_t)&test_offset_to_vaddr_matches_loader;
    uint64_t want = rt - s.bias, fo = 0, vaddr = 0, back = 0;
    CHECK(self_offset(rt, &fo));
    CHECK(elfi_offset_to_vaddr(&e, fo, &vaddr));
    CHECK(vaddr == want);
    CHECK(elfi_vaddr_to_offset(&e, vaddr, &back) && back == fo);
    /* The same for a variable in the data segment, where GNU ld puts
     * vaddr != offset in the plain build (exec segments often have
     * vaddr == offset). */
    uintptr_t drt = (uintptr_t)&data_marker;
    CHECK(self_offset(drt, &fo));
    CHECK(elfi_offset_to_vaddr(&e, fo, &vaddr));
    CHECK(vaddr == drt - s.bias);
    /* An offset beyond the file maps to nothing. */
    CHECK(!elfi_offset_to_vaddr(&e, (uint64_t)1 << 40, &vaddr));
}

static void test_build_id_matches_note_in_memory(void)
{
    self_info s = {0};
    dl_iterate_phdr(phdr_cb, &s);
    elfi_info e;
    char err[256], hex[2 * ELFI_MAX_BUILD_ID + 1];
    CHECK(elfi_read("/proc/self/exe", &e, err, sizeof err) == 0);
    CHECK(e.build_id_len == s.build_id_len);
    CHECK(memcmp(e.build_id, s.build_id, s.build_id_len) == 0);
    size_t n = elfi_build_id_hex(&e, hex, sizeof hex);
    CHECK(n == 2 * s.build_id_len);
    if (s.build_id_len) {
        char first[3];
        snprintf(first, sizeof first, "%02x", s.build_id[0]);
        CHECK(memcmp(hex, first, 2) == 0);
    }
}

static void test_errors_name_the_file(void)
{
    elfi_info e;
    char err[256];
    CHECK(elfi_read("/nonexistent/bin", &e, err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/bin") != NULL);
    CHECK(elfi_read("/proc/self/maps", &e, err, sizeof err) == -1);
    CHECK(strstr(err, "not an ELF file") != NULL);
    /* A truncated copy of a real header. */
    FILE *f = fopen("/proc/self/exe", "rb");
    unsigned char buf[100];
    CHECK(f && fread(buf, 1, sizeof buf, f) == sizeof buf);
    if (f)
        fclose(f);
    CHECK(elfi_parse(buf, 40, &e, err, sizeof err) == -1);
    CHECK(elfi_parse(buf, sizeof buf, &e, err, sizeof err) == -1); /* phdrs cut off */
    CHECK(strstr(err, "truncated") != NULL);
}

static void put16(unsigned char *p, uint16_t v, bool be)
{
    p[be ? 0 : 1] = (unsigned char)(v >> 8);
    p[be ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

/* A hand-made big-endian ELF32 (e.g. an old PowerPC binary): two PT_LOADs
 * and a PT_NOTE with a GNU build id. */
static void test_elf32_big_endian(void)
{
    unsigned char b[512] = {0};
    memcpy(b, ELFMAG, SELFMAG);
    b[EI_CLASS] = ELFCLASS32;
    b[EI_DATA] = ELFDATA2MSB;
    b[EI_VERSION] = EV_CURRENT;
    put16(b + 16, ET_EXEC, true);
    put32(b + 28, 52, true); /* e_phoff */
    put16(b + 42, 32, true); /* e_phentsize */
    put16(b + 44, 3, true);  /* e_phnum */
    unsigned char *ph = b + 52;
    put32(ph + 0, PT_LOAD, true);
    put32(ph + 4, 0x0, true);        /* p_offset */
    put32(ph + 8, 0x10000000, true); /* p_vaddr */
    put32(ph + 16, 0x180, true);     /* p_filesz */
    put32(ph + 20, 0x180, true);
    put32(ph + 24, PF_R | PF_X, true);
    ph += 32;
    put32(ph + 0, PT_LOAD, true);
    put32(ph + 4, 0x180, true);
    put32(ph + 8, 0x10010180, true);
    put32(ph + 16, 0x40, true);
    put32(ph + 20, 0x80, true);
    put32(ph + 24, PF_R | PF_W, true);
    ph += 32;
    put32(ph + 0, PT_NOTE, true);
    put32(ph + 4, 0x100, true);
    put32(ph + 16, 24, true);
    unsigned char *n = b + 0x100;
    put32(n, 4, true);     /* namesz */
    put32(n + 4, 4, true); /* descsz */
    put32(n + 8, NT_GNU_BUILD_ID, true);
    memcpy(n + 12, "GNU", 4);
    memcpy(n + 16, "\xde\xad\xbe\xef", 4);
    elfi_info e;
    char err[256], hex[16];
    CHECK(elfi_parse(b, sizeof b, &e, err, sizeof err) == 0);
    CHECK(e.type == ET_EXEC && e.nloads == 2);
    uint64_t v = 0;
    CHECK(elfi_offset_to_vaddr(&e, 0x100, &v) && v == 0x10000100);
    CHECK(elfi_offset_to_vaddr(&e, 0x190, &v) && v == 0x10010190);
    CHECK(!elfi_offset_to_vaddr(&e, 0x1c0, &v)); /* bss: memsz only */
    CHECK(elfi_build_id_hex(&e, hex, sizeof hex) == 8);
    CHECK_STR(hex, "deadbeef");
    /* A note that claims more than the segment holds is ignored. */
    put32(n + 4, 400, true);
    CHECK(elfi_parse(b, sizeof b, &e, err, sizeof err) == 0);
    CHECK(e.build_id_len == 0);
    /* Program headers beyond the data. */
    put16(b + 44, 40, true);
    CHECK(elfi_parse(b, sizeof b, &e, err, sizeof err) == -1);
}

int main(void)
{
    RUN(test_offset_to_vaddr_matches_loader);
    RUN(test_build_id_matches_note_in_memory);
    RUN(test_errors_name_the_file);
    RUN(test_elf32_big_endian);
    return CHECK_DONE();
}
