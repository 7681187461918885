/* libFuzzer target: bytes as a perf.data file (through a memfd, so both
 * file mode with its seeks and pipe mode are read) -> every record ->
 * the conversion into the perf script parser (symbolizing nothing from
 * disk: remote mode, no kallsyms) -> folded text. Whatever the bytes,
 * nothing may crash, leak, hit undefined behaviour or allocate without
 * bound. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "perfdata/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return 0;
    }
    char err[512];
    pd_reader *r = pd_open(fd, "fuzz.data", err, sizeof err);
    if (r) {
        pd_syms_options so = {.remote = true};
        pd_syms *s = pd_syms_new(&so, pd_get_info(r));
        ps_options po = {.keep_pid = true, .keep_tid = true};
        ps_parser *p = ps_new(&po);
        if (s && p && pd_convert(r, s, p, NULL, err, sizeof err) == PD_CONVERT_OK &&
            ps_finish(p) == PS_OK) {
            ps_fold_options fo = {.pid = true, .tid = true, .addrs = true};
            char *out;
            size_t len;
            if (ps_folded(p, &fo, &out, &len) == PS_OK)
                free(out);
        }
        ps_free(p);
        pd_syms_free(s);
        pd_close(r);
    }
    close(fd);
    return 0;
}
