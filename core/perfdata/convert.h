/* perf.data -> the perf script parser's tables (core/perfscript), through
 * its direct input: each sample becomes the header fields and the frame
 * lines that `perf script` (default fields, --show-mmap-events) would
 * print for it, built from the records and the symbolizer; every distinct
 * address is resolved and formatted once per address space. Folding and
 * the profile builder then treat both inputs alike.
 *
 * Where perf script's text drops or mangles something, the conversion
 * does what the text path does with that text, so that both paths give
 * the same output; each such case is named where it is handled (convert.c)
 * and tested.
 *
 * Pure C. */
#ifndef PERFGO_PD_CONVERT_H
#define PERFGO_PD_CONVERT_H

#include "perfdata.h"
#include "perfscript/perfscript.h"
#include "symbolize.h"

enum {
    PD_CONVERT_OK = 0,
    PD_CONVERT_ERROR = -1,       /* corrupt input or out of memory: message in err */
    PD_CONVERT_UNSUPPORTED = -2, /* a recording only perf script can read: reason in err */
    PD_CONVERT_STOPPED = -3,     /* the progress callback asked to stop */
};

typedef struct pd_convert_options {
    /* called every few MB of input: bytes read, samples so far; nonzero
     * stops the conversion */
    int (*progress)(void *ctx, uint64_t bytes, uint64_t samples);
    void *progress_ctx;
    /* each frame's source line, as `perf script -F +srcline` prints it
     * (srcline.h), for folded --srcline and the profile's file:line */
    bool srcline;
} pd_convert_options;

/* Why perf script must read this recording instead (DWARF user stacks,
 * LBR call stacks, AUX tracing), or NULL when the reader can. */
const char *pd_convert_unsupported(const pd_info *info);

/* Reads every record of r into p, resolving addresses with s. Warnings
 * (the reader's and the symbolizer's, lost samples) are added to p's.
 * PD_CONVERT_* with a message in err. */
int pd_convert(pd_reader *r, pd_syms *s, ps_parser *p, const pd_convert_options *o, char *err,
               size_t errlen);

#endif
