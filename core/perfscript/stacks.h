/* The table of distinct stacks: samples merge into it through a hash. */
#ifndef PERFGO_PS_STACKS_H
#define PERFGO_PS_STACKS_H

#include "ps_internal.h"

void ps_stacks_init(ps_parser *p);
void ps_stacks_free(ps_parser *p);
/* Merges the current sample (p->cur); the
 * merge completes at the next call or at ps_stacks_flush. */
int ps_stacks_add(ps_parser *p);
/* Completes a pending merge. */
int ps_stacks_flush(ps_parser *p);

#endif
