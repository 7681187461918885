/* Private to core/profile: the table layout behind prof_profile and the
 * hashing/open-addressing helpers shared by the profile's C files. */
#ifndef PERFGO_PROFILE_IMPL_H
#define PERFGO_PROFILE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "profile/profile.h"

/* ---- hashing ---- */

static inline uint64_t ph_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

static inline uint64_t ph_combine(uint64_t h, uint64_t v)
{
    return ph_mix(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

static inline uint64_t ph_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* Hash of len bytes: two independent multiply-rotate lanes, 16 bytes a
 * step (each step is a bijection of its lane, so no input is forgotten),
 * then ph_mix. Hashes only narrow candidates: ids and orders never depend
 * on them. */
static inline uint64_t ph_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *s = data;
    uint64_t a = seed ^ (len * 0x9e3779b97f4a7c15ULL),
             b = ph_rotl(seed, 32) ^ 0x94d049bb133111ebULL;
    uint64_t v, w;
    while (len >= 16) {
        memcpy(&v, s, 8);
        memcpy(&w, s + 8, 8);
        a = ph_rotl((a ^ v) * 0xff51afd7ed558ccdULL, 29);
        b = ph_rotl((b ^ w) * 0xc4ceb9fe1a85ec53ULL, 31);
        s += 16;
        len -= 16;
    }
    if (len >= 8) {
        memcpy(&v, s, 8);
        a = ph_rotl((a ^ v) * 0xff51afd7ed558ccdULL, 29);
        s += 8;
        len -= 8;
    }
    if (len) { /* 1..7 bytes: overlapping loads, no byte loop */
        if (len >= 4) {
            uint32_t x, y;
            memcpy(&x, s, 4);
            memcpy(&y, s + len - 4, 4);
            w = (uint64_t)x << 32 | y;
        } else {
            w = (uint64_t)s[0] << 16 | (uint64_t)s[len >> 1] << 8 | s[len - 1];
        }
        b = ph_rotl((b ^ w) * 0xc4ceb9fe1a85ec53ULL, 31);
    }
    return ph_mix(a ^ ph_rotl(b, 17));
}

/* ---- open addressing index ----
 * Slots hold (hash high 32 bits << 32) | (index + 1); 0 is empty. The
 * capacity is a power of two kept at most half full; the probe starts at
 * the hash's high half, so slots can be re-placed from the tag alone. Entries are never
 * removed. The owner compares keys; the index only narrows candidates. */
typedef struct ph_index {
    uint64_t *slots;
    size_t cap; /* power of two, 0 before the first insert */
    size_t count;
} ph_index;

/* Iterates candidate indexes for hash h: start with *pos = SIZE_MAX. Returns
 * the next candidate entry index, or SIZE_MAX at the first empty slot (then
 * *pos is the slot where a new entry goes). */
static inline size_t ph_probe(const ph_index *ix, uint64_t h, size_t *pos)
{
    if (ix->cap == 0)
        return SIZE_MAX;
    size_t mask = ix->cap - 1;
    size_t i = (*pos == SIZE_MAX) ? (size_t)(h >> 32) & mask : (*pos + 1) & mask;
    uint32_t tag = (uint32_t)(h >> 32);
    for (;;) {
        uint64_t s = ix->slots[i];
        if (s == 0) {
            *pos = i;
            return SIZE_MAX;
        }
        if ((uint32_t)(s >> 32) == tag) {
            *pos = i;
            return (size_t)(uint32_t)s - 1;
        }
        i = (i + 1) & mask;
    }
}

/* Inserts entry idx with hash h (known absent). -1 on OOM. */
int ph_insert(ph_index *ix, uint64_t h, size_t idx);
/* ph_insert after a ph_probe for h that ended at the empty slot *pos:
 * fills that slot when the index need not grow. */
static inline int ph_insert_at(ph_index *ix, uint64_t h, size_t idx, size_t pos)
{
    if (pos == SIZE_MAX || idx >= UINT32_MAX || (ix->count + 1) * 2 > ix->cap)
        return ph_insert(ix, h, idx);
    ix->slots[pos] = (h & 0xffffffff00000000ULL) | (uint64_t)(idx + 1);
    ix->count++;
    return 0;
}
/* Sizes ix for n entries in all, so inserting up to n rehashes nothing.
 * -1 on OOM. */
int ph_reserve(ph_index *ix, size_t n);
void ph_free(ph_index *ix);
void ph_clear(ph_index *ix);

/* Grows *ptr (element size elem) to hold at least need elements. -1 on OOM. */
int ph_grow_slow(void **ptr, size_t *cap, size_t need, size_t elem);
static inline int ph_grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    return need <= *cap ? 0 : ph_grow_slow(ptr, cap, need, elem);
}

/* ---- the profile ---- */

typedef struct prof_loc {
    uint64_t mapping_id, address;
    size_t line_off; /* into lines */
    uint32_t nlines;
    bool is_folded;
} prof_loc;

typedef struct prof_labelset_rec {
    size_t off; /* into label_arena */
    uint32_t n;
} prof_labelset_rec;

typedef struct prof_sample_rec {
    size_t loc_off; /* into stacks */
    uint32_t nloc;
    uint32_t labelset; /* 1-based labelset id */
} prof_sample_rec;

struct prof_profile {
    /* strings: NUL-terminated bytes in one arena */
    char *sbytes;
    size_t sbytes_len, sbytes_cap;
    size_t *soff;
    uint32_t *slen;
    size_t nstrings, strings_cap;
    ph_index sindex;

    /* header */
    uint64_t *st_type, *st_unit;
    size_t ntypes, types_cap;
    uint64_t default_type;
    uint64_t period_type, period_unit;
    int64_t period;
    int64_t time_nanos, duration_nanos;
    uint64_t *comments;
    size_t ncomments, comments_cap;
    uint64_t drop_frames, keep_frames, doc_url;
    uint64_t skipped_lines;
    uint64_t main_mapping; /* 0 = none chosen: id order */

    /* mappings, functions, locations (index = id - 1) */
    prof_mapping_info *maps;
    size_t nmaps, maps_cap;
    ph_index mindex;
    prof_function_info *funcs;
    size_t nfuncs, funcs_cap;
    ph_index findex;
    prof_loc *locs;
    size_t nlocs, locs_cap;
    prof_line *lines;
    size_t nlines, lines_cap;
    ph_index lindex;

    /* label sets */
    prof_labelset_rec *lsets;
    size_t nlsets, lsets_cap;
    prof_label_ids *label_arena;
    size_t nlabel_arena, label_arena_cap;
    ph_index lsindex;

    /* samples: stacks and values in growing arenas */
    prof_sample_rec *samples;
    size_t nsamples, samples_cap;
    uint64_t *stacks;
    size_t nstacks, stacks_cap;
    int64_t *values; /* nsamples * ntypes */
    size_t values_cap;
    ph_index smindex;
};

/* Appends a sample type column (no check for an equal one: decoder use).
 * Column index or -1. */
int prof_add_sample_type_ids(prof_profile *p, uint64_t type, uint64_t unit);
/* Creates a location without deduplication by address (decoder use): 0 on
 * OOM. */
uint64_t prof_location_raw(prof_profile *p, uint64_t mapping_id, uint64_t address,
                           const prof_line *lines, size_t nlines, bool is_folded);
/* A function with every field given (decoder use), deduplicated on all of
 * them. 0 on OOM. */
uint64_t prof_function_full(prof_profile *p, const prof_function_info *f);

/* snprintf into err when err is not NULL. */
void prof_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes data to path as core/sys/writefile.h says: replaced whole
 * through a temporary file, modes kept, symbolic links followed as the
 * kernel's protected_symlinks rule allows, devices and FIFOs written in
 * place. 0, or -1 with a message naming path. */
int prof_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
