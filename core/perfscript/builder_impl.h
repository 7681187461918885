/* Private to the profile builder (builder.c, builder_frames.c): its state
 * and the frame-to-location half. */
#ifndef PERFGO_PS_BUILDER_IMPL_H
#define PERFGO_PS_BUILDER_IMPL_H

#include "builder.h"
#include "ps_internal.h"

/* Per frame id: what the stack walks test for every frame occurrence,
 * computed once. */
#define FRAME_IN_DSO 1    /* in_dso() */
#define FRAME_KERNEL 2    /* a kernel DSO */
#define FRAME_FILE 4      /* file_dso(): a candidate for the main binary */
#define FRAME_HEADER_IP 8 /* ps_frame.header_ip */
#define FRAME_DELETED 16  /* ps_frame.deleted */

/* The location cache, a 32-bit entry per (frame, adjusted) slot:
 *   LOC_ID: the location id, 0 = not cached yet;
 *   LOC_KERNEL: the frame is a kernel frame (set from the start, so that
 *     the stack walk reads a frame's entry and nothing else);
 *   LOC_SLOW: not for the call-free path: a location of the one process
 *     loc_pid[slot] (runtime mode), or a frame in no DSO (it may begin an
 *     inline run; its location holds for every process). */
#define LOC_ID 0x3fffffffu
#define LOC_KERNEL 0x40000000u
#define LOC_SLOW 0x80000000u

/* What the builder needs of a frame, gathered in one pass in frame id
 * order (sequential through the parser's memory), so that the first use
 * of a frame, in stack order, reads only the builder's compact tables. */
typedef struct bframe {
    uint64_t address;
    uint32_t name; /* function name, id in builder.names */
    uint32_t dso;  /* DSO text for symmap (with " (deleted)"), id in builder.dsos; 0 = none */
} bframe;

typedef struct builder {
    ps_parser *p;
    prof_profile *prof;
    symmap *sm;
    const ps_build_options *o;
    bframe *frames;   /* per frame id */
    uint8_t *flags;   /* per frame id: FRAME_* (compact: read for every frame) */
    uint32_t *loc;    /* per frame id * 2 + adjusted: LOC_* */
    int64_t *loc_pid; /* per slot: the process of a runtime-mode location (made at the
                       * first such location) */
    size_t nslots;    /* of loc and loc_pid */
    ps_arena arena;   /* the bytes of names and dsos */
    ps_strtab names, dsos;
    uint64_t *name_func; /* per name id: its function id (0 = not yet) */
    /* label string ids, interned at first use (UINT64_MAX = not yet) */
    uint64_t key_ids[5], unit_ids[5];
    uint64_t *comm_ids; /* per comm id: its string id, UINT64_MAX = not yet */
    size_t ncomm_ids;
    /* stack labels (ps_build_options.stack_labels): per frame id, bit r
     * when the frame's function is rule r's caller; per rule and name id,
     * whether the name makes a value (SL_*) and its string id */
    uint8_t *caller_mask;
    int8_t *sl_ok[PS_MAX_STACK_LABELS];
    uint64_t *sl_str[PS_MAX_STACK_LABELS];
    uint64_t sl_key[PS_MAX_STACK_LABELS];
    /* label sets by what decides them (a stack's comm, pid, tid, cpu and
     * stack label values), direct-mapped: few threads, many stacks each */
    struct {
        uint32_t comm;
        int32_t cpu;
        int64_t pid, tid;
        uint32_t vals[PS_MAX_STACK_LABELS];
        uint64_t id; /* 0 = empty */
    } lsets[64];
} builder;

/* Stack labels (builder_labels.c). Init after psb_gather_frames: -1 on
 * OOM. psb_stack_label_values puts, per rule, the name id of the value
 * (0 = none) into vals. psb_stack_label_add appends rule r's label for
 * name id v to l (interning key, then value); false on OOM. */
int psb_labels_init(builder *b, size_t nf);
void psb_labels_free(builder *b);
void psb_stack_label_values(builder *b, const ps_stack *st, uint32_t *vals);
bool psb_stack_label_add(builder *b, size_t r, uint32_t v, prof_label_ids *l);

/* Fills b->frames, b->flags and the name tables from the parser's frames
 * (nf = frame count + 1). -1 on OOM. */
int psb_gather_frames(builder *b, size_t nf);
/* The location of frame fid (srcline src) in a stack of process pid,
 * adjusted when it is a return address; made and cached on first use.
 * 0 on OOM. */
uint64_t psb_frame_location(builder *b, uint32_t fid, uint32_t src, int64_t pid, bool adjusted);
/* The locations of stack st, leaf first, into lp (room for st->nframes);
 * their number in *nl. false on OOM. */
bool psb_stack_locations(builder *b, const ps_stack *st, uint64_t *lp, size_t *nl);

#endif
