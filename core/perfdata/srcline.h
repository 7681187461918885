/* The source lines `perf script -F +srcline` prints under callchain
 * frames, for the conversion (convert.c): "file:line", the file's base
 * name, from what perf's addr2line answers (pd_syms_srcline), looked up
 * once per distinct frame. perf asks addr2line again for every frame it
 * prints and gives up on a DSO after 123 failures in a row that no
 * success ever preceded (its A2L_FAIL_LIMIT); that rule is applied per
 * printed frame, in print order, so that the same frames get a source
 * line. Pure C. */
#ifndef PERFGO_PD_SRCLINE_H
#define PERFGO_PD_SRCLINE_H

#include "perfscript/perfscript.h"
#include "symbolize.h"

typedef struct pd_srclines pd_srclines;

pd_srclines *pd_srclines_new(void);
void pd_srclines_free(pd_srclines *t);

/* Learns frame id's source line from its resolved frame f (the first
 * time id is seen; later calls do nothing). 0, or -1 when out of memory. */
int pd_srclines_learn(pd_srclines *t, pd_syms *s, ps_parser *p, uint32_t id, const pd_frame *f);
/* The source line id (ps_direct_srcline) perf prints for frame id now, 0
 * for none; counts perf's addr2line failures for the frame's DSO. */
uint32_t pd_srclines_print(pd_srclines *t, uint32_t id);

#endif
