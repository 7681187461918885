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

/* Reads path's headers into *out. 0, or -1 with a message naming the file
 * in err (missing, unreadable, not ELF, truncated). */
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
