/* libFuzzer target: perf script text -> parser -> folded text under
 * several option sets -> profile builder -> pprof encoding. Whatever the
 * bytes, nothing may crash, leak or hit undefined behaviour.
 * The first byte chooses the options and where the input is split into two
 * chunks (the streaming boundary must not matter). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfscript/builder.h"
#include "perfscript/perfscript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t knobs = data[0];
    data++;
    size--;
    ps_options po = {
        .strict = (knobs & 0x80) != 0,
        .keep_pid = true,
        .keep_tid = (knobs & 1) != 0,
        .keep_cpu = (knobs & 2) != 0,
    };
    ps_parser *p = ps_new(&po);
    if (!p)
        return 0;
    size_t cut = size ? (size_t)knobs * 131 % (size + 1) : 0;
    int rc = ps_feed(p, (const char *)data, cut);
    if (rc == PS_OK)
        rc = ps_feed(p, (const char *)data + cut, size - cut);
    if (rc == PS_OK)
        rc = ps_finish(p);
    if (rc == PS_OK) {
        ps_fold_options fo = {
            .pid = true,
            .tid = (knobs & 1) != 0,
            .kernel = (knobs & 4) != 0,
            .jit = (knobs & 8) != 0,
            .addrs = (knobs & 16) != 0,
            .srcline = (knobs & 32) != 0,
        };
        if (knobs & 64) {
            fo.event_filter = "cpu-clock";
            fo.event_filter_len = 9;
        }
        char *out = NULL;
        size_t len = 0;
        if (ps_folded(p, &fo, &out, &len) == PS_OK && len && out[len - 1] != '\n')
            abort(); /* folded text always ends its lines */
        free(out);

        /* the Go rule's benchmark label, and one that takes any callee of
         * a common frame name */
        static const ps_stack_label stack_labels[] = {
            {.key = "benchmark",
             .caller = "testing.(*B).runN",
             .prefix = "Benchmark",
             .strip_package = true},
            {.key = "callee", .caller = "main"},
        };
        ps_build_options bo = {
            .stack_labels = stack_labels,
            .nstack_labels = (knobs & 4) ? 2 : 1,
            .label_comm = true,
            .label_thread_comm = true,
            .label_pid = true,
            .label_tid = (knobs & 1) != 0,
            .label_cpu = (knobs & 2) != 0,
            .remote = true, /* read no local files */
            .source = "fuzz",
        };
        char err[256];
        prof_profile *prof = ps_build_profile(p, &bo, err, sizeof err);
        if (prof) {
            unsigned char *enc = NULL;
            size_t enclen = 0;
            if (prof_encode(prof, false, &enc, &enclen, err, sizeof err) == 0) {
                prof_profile *back = prof_decode(enc, enclen, err, sizeof err);
                if (!back)
                    abort(); /* what we encode must decode */
                prof_free(back);
            }
            free(enc);
            prof_free(prof);
        }
    }
    ps_free(p);
    return 0;
}
