/* The profile tables: strings, header fields, mappings, functions and
 * locations, each interned through an open-addressing hash index. */
#include <stdlib.h>
#include <string.h>

#include "profile/profile_impl.h"
#include "sys/hugepage.h"

/* ---- helpers ---- */

int ph_grow_slow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return -1;
    void *n = sys_realloc_big(*ptr, *cap * elem, ncap * elem);
    if (!n)
        return -1;
    *ptr = n;
    *cap = ncap;
    return 0;
}

static int ph_rehash(ph_index *ix, size_t ncap)
{
    uint64_t *ns = sys_calloc_big(ncap * sizeof *ns);
    if (!ns)
        return -1;
    size_t mask = ncap - 1;
    for (size_t i = 0; i < ix->cap; i++) {
        uint64_t s = ix->slots[i];
        if (!s)
            continue;
        size_t j = (size_t)(s >> 32) & mask;
        while (ns[j])
            j = (j + 1) & mask;
        ns[j] = s;
    }
    free(ix->slots);
    ix->slots = ns;
    ix->cap = ncap;
    return 0;
}

int ph_insert(ph_index *ix, uint64_t h, size_t idx)
{
    if (idx >= UINT32_MAX)
        return -1;
    if ((ix->count + 1) * 2 > ix->cap) {
        if (ph_rehash(ix, ix->cap ? ix->cap * 2 : 64) != 0)
            return -1;
    }
    size_t mask = ix->cap - 1;
    size_t j = (size_t)(h >> 32) & mask;
    while (ix->slots[j])
        j = (j + 1) & mask;
    ix->slots[j] = (h & 0xffffffff00000000ULL) | (uint64_t)(idx + 1);
    ix->count++;
    return 0;
}

int ph_reserve(ph_index *ix, size_t n)
{
    if (n > SIZE_MAX / 4)
        return -1;
    size_t cap = ix->cap ? ix->cap : 64;
    while (n * 2 > cap)
        cap *= 2;
    return cap == ix->cap ? 0 : ph_rehash(ix, cap);
}

void ph_free(ph_index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}

void ph_clear(ph_index *ix)
{
    if (ix->slots)
        memset(ix->slots, 0, ix->cap * sizeof *ix->slots);
    ix->count = 0;
}

/* ---- profile ---- */

prof_profile *prof_new(void)
{
    prof_profile *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (prof_string(p, "", 0) != 0 || prof_labelset_ids(p, NULL, 0) != 1) {
        prof_free(p);
        return NULL;
    }
    return p;
}

void prof_free(prof_profile *p)
{
    if (!p)
        return;
    free(p->sbytes);
    free(p->soff);
    free(p->slen);
    ph_free(&p->sindex);
    free(p->st_type);
    free(p->st_unit);
    free(p->comments);
    free(p->maps);
    ph_free(&p->mindex);
    free(p->funcs);
    ph_free(&p->findex);
    free(p->locs);
    free(p->lines);
    ph_free(&p->lindex);
    free(p->lsets);
    free(p->label_arena);
    ph_free(&p->lsindex);
    free(p->samples);
    free(p->stacks);
    free(p->values);
    ph_free(&p->smindex);
    free(p);
}

/* ---- strings ---- */

uint64_t prof_string(prof_profile *p, const char *s, size_t len)
{
    if (len >= UINT32_MAX)
        return UINT64_MAX;
    uint64_t h = ph_bytes(s, len, 0x5157);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&p->sindex, h, &pos)) != SIZE_MAX) {
        if (p->slen[i] == len && memcmp(p->sbytes + p->soff[i], s, len) == 0)
            return i;
    }
    if (ph_grow((void **)&p->sbytes, &p->sbytes_cap, p->sbytes_len + len + 1, 1) != 0)
        return UINT64_MAX;
    size_t cap = p->strings_cap;
    if (ph_grow((void **)&p->soff, &cap, p->nstrings + 1, sizeof *p->soff) != 0)
        return UINT64_MAX;
    cap = p->strings_cap;
    if (ph_grow((void **)&p->slen, &cap, p->nstrings + 1, sizeof *p->slen) != 0)
        return UINT64_MAX;
    p->strings_cap = cap;
    size_t idx = p->nstrings;
    if (ph_insert_at(&p->sindex, h, idx, pos) != 0)
        return UINT64_MAX;
    if (len)
        memcpy(p->sbytes + p->sbytes_len, s, len);
    p->sbytes[p->sbytes_len + len] = '\0';
    p->soff[idx] = p->sbytes_len;
    p->slen[idx] = (uint32_t)len;
    p->sbytes_len += len + 1;
    p->nstrings++;
    return idx;
}

const char *prof_str(const prof_profile *p, uint64_t id, size_t *len)
{
    if (id >= p->nstrings) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = p->slen[id];
    return p->sbytes + p->soff[id];
}

size_t prof_num_strings(const prof_profile *p)
{
    return p->nstrings;
}

static uint64_t cstr(prof_profile *p, const char *s)
{
    return s ? prof_string(p, s, strlen(s)) : 0;
}

/* ---- header ---- */

int prof_add_sample_type(prof_profile *p, const char *type, const char *unit)
{
    uint64_t t = cstr(p, type), u = cstr(p, unit);
    if (t == UINT64_MAX || u == UINT64_MAX)
        return -1;
    for (size_t i = 0; i < p->ntypes; i++) /* a handful of columns */
        if (p->st_type[i] == t && p->st_unit[i] == u)
            return (int)i;
    return prof_add_sample_type_ids(p, t, u);
}

int prof_add_sample_type_ids(prof_profile *p, uint64_t t, uint64_t u)
{
    if (p->nsamples > 0 || p->ntypes >= 1024)
        return -1;
    size_t cap = p->types_cap;
    if (ph_grow((void **)&p->st_type, &cap, p->ntypes + 1, sizeof(uint64_t)) != 0)
        return -1;
    cap = p->types_cap;
    if (ph_grow((void **)&p->st_unit, &cap, p->ntypes + 1, sizeof(uint64_t)) != 0)
        return -1;
    p->types_cap = cap;
    p->st_type[p->ntypes] = t;
    p->st_unit[p->ntypes] = u;
    return (int)p->ntypes++;
}

size_t prof_num_sample_types(const prof_profile *p)
{
    return p->ntypes;
}

void prof_sample_type(const prof_profile *p, size_t i, uint64_t *type, uint64_t *unit)
{
    *type = i < p->ntypes ? p->st_type[i] : 0;
    *unit = i < p->ntypes ? p->st_unit[i] : 0;
}

int prof_sample_type_index(const prof_profile *p, const char *type)
{
    size_t n = strlen(type);
    for (size_t i = 0; i < p->ntypes; i++) {
        size_t l;
        const char *s = prof_str(p, p->st_type[i], &l);
        if (l == n && memcmp(s, type, n) == 0)
            return (int)i;
    }
    return -1;
}

int prof_set_default_sample_type(prof_profile *p, const char *type)
{
    uint64_t t = cstr(p, type);
    if (t == UINT64_MAX)
        return -1;
    p->default_type = t;
    return 0;
}

uint64_t prof_default_sample_type(const prof_profile *p)
{
    return p->default_type;
}

int prof_set_period(prof_profile *p, const char *type, const char *unit, int64_t period)
{
    uint64_t t = cstr(p, type), u = cstr(p, unit);
    if (t == UINT64_MAX || u == UINT64_MAX)
        return -1;
    p->period_type = t;
    p->period_unit = u;
    p->period = period;
    return 0;
}

void prof_period(const prof_profile *p, uint64_t *type, uint64_t *unit, int64_t *period)
{
    *type = p->period_type;
    *unit = p->period_unit;
    *period = p->period;
}

void prof_set_time(prof_profile *p, int64_t time_nanos, int64_t duration_nanos)
{
    p->time_nanos = time_nanos;
    p->duration_nanos = duration_nanos;
}

void prof_time(const prof_profile *p, int64_t *time_nanos, int64_t *duration_nanos)
{
    *time_nanos = p->time_nanos;
    *duration_nanos = p->duration_nanos;
}

int prof_add_comment(prof_profile *p, const char *text, size_t len)
{
    uint64_t s = prof_string(p, text, len);
    if (s == UINT64_MAX)
        return -1;
    if (ph_grow((void **)&p->comments, &p->comments_cap, p->ncomments + 1, sizeof *p->comments) !=
        0)
        return -1;
    p->comments[p->ncomments++] = s;
    return 0;
}

size_t prof_num_comments(const prof_profile *p)
{
    return p->ncomments;
}

uint64_t prof_comment(const prof_profile *p, size_t i)
{
    return i < p->ncomments ? p->comments[i] : 0;
}

void prof_set_skipped_lines(prof_profile *p, uint64_t n)
{
    p->skipped_lines = n;
}

uint64_t prof_skipped_lines(const prof_profile *p)
{
    return p->skipped_lines;
}

/* ---- mappings ---- */

static uint64_t map_hash(const prof_mapping_info *m)
{
    uint64_t h = ph_combine(m->start, m->limit);
    h = ph_combine(h, m->offset);
    h = ph_combine(h, m->file);
    h = ph_combine(h, m->build_id);
    unsigned flags = (unsigned)m->has_functions | (unsigned)m->has_filenames << 1 |
                     (unsigned)m->has_line_numbers << 2 | (unsigned)m->has_inline_frames << 3;
    return ph_combine(h, flags);
}

static bool map_eq(const prof_mapping_info *a, const prof_mapping_info *b)
{
    return a->start == b->start && a->limit == b->limit && a->offset == b->offset &&
           a->file == b->file && a->build_id == b->build_id &&
           a->has_functions == b->has_functions && a->has_filenames == b->has_filenames &&
           a->has_line_numbers == b->has_line_numbers &&
           a->has_inline_frames == b->has_inline_frames;
}

static uint64_t mapping_intern(prof_profile *p, const prof_mapping_info *m)
{
    uint64_t h = map_hash(m);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&p->mindex, h, &pos)) != SIZE_MAX)
        if (map_eq(&p->maps[i], m))
            return i + 1;
    if (ph_grow((void **)&p->maps, &p->maps_cap, p->nmaps + 1, sizeof *p->maps) != 0 ||
        ph_insert(&p->mindex, h, p->nmaps) != 0)
        return 0;
    p->maps[p->nmaps] = *m;
    return ++p->nmaps;
}

uint64_t prof_mapping(prof_profile *p, const prof_mapping_spec *spec)
{
    prof_mapping_info m = {
        .start = spec->start,
        .limit = spec->limit,
        .offset = spec->offset,
        .has_functions = spec->has_functions,
        .has_filenames = spec->has_filenames,
        .has_line_numbers = spec->has_line_numbers,
        .has_inline_frames = spec->has_inline_frames,
    };
    m.file = spec->file ? prof_string(p, spec->file, spec->file_len) : 0;
    m.build_id = spec->build_id ? prof_string(p, spec->build_id, spec->build_id_len) : 0;
    if (m.file == UINT64_MAX || m.build_id == UINT64_MAX)
        return 0;
    return mapping_intern(p, &m);
}

size_t prof_num_mappings(const prof_profile *p)
{
    return p->nmaps;
}

bool prof_get_mapping(const prof_profile *p, uint64_t id, prof_mapping_info *out)
{
    if (id == 0 || id > p->nmaps)
        return false;
    *out = p->maps[id - 1];
    return true;
}

static int mapping_reindex(prof_profile *p)
{
    ph_clear(&p->mindex);
    for (size_t i = 0; i < p->nmaps; i++)
        if (ph_insert(&p->mindex, map_hash(&p->maps[i]), i) != 0)
            return -1;
    return 0;
}

int prof_set_mapping_file(prof_profile *p, uint64_t id, const char *file, size_t len)
{
    if (id == 0 || id > p->nmaps)
        return -1;
    uint64_t s = prof_string(p, file, len);
    if (s == UINT64_MAX)
        return -1;
    p->maps[id - 1].file = s;
    return mapping_reindex(p);
}

int prof_set_main_mapping(prof_profile *p, uint64_t id)
{
    if (id == 0 || id > p->nmaps)
        return -1;
    p->main_mapping = id;
    return 0;
}

int prof_set_mapping_range(prof_profile *p, uint64_t id, uint64_t start, uint64_t limit)
{
    if (id == 0 || id > p->nmaps)
        return -1;
    p->maps[id - 1].start = start;
    p->maps[id - 1].limit = limit;
    return mapping_reindex(p);
}

/* ---- functions ---- */

static uint64_t func_hash(const prof_function_info *f)
{
    return ph_mix(f->name * 0x9e3779b97f4a7c15ULL ^
                  ph_rotl(f->system_name * 0xc2b2ae3d27d4eb4fULL, 21) ^
                  ph_rotl(f->filename * 0x165667b19e3779f9ULL, 42) ^ (uint64_t)f->start_line);
}

uint64_t prof_function_full(prof_profile *p, const prof_function_info *f)
{
    uint64_t h = func_hash(f);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&p->findex, h, &pos)) != SIZE_MAX) {
        const prof_function_info *g = &p->funcs[i];
        if (g->name == f->name && g->system_name == f->system_name && g->filename == f->filename &&
            g->start_line == f->start_line)
            return i + 1;
    }
    if (ph_grow((void **)&p->funcs, &p->funcs_cap, p->nfuncs + 1, sizeof *p->funcs) != 0 ||
        ph_insert_at(&p->findex, h, p->nfuncs, pos) != 0)
        return 0;
    p->funcs[p->nfuncs] = *f;
    return ++p->nfuncs;
}

uint64_t prof_function(prof_profile *p, const char *name, size_t name_len, const char *filename,
                       size_t filename_len)
{
    prof_function_info f = {0};
    f.name = prof_string(p, name ? name : "", name ? name_len : 0);
    f.filename = filename ? prof_string(p, filename, filename_len) : 0;
    if (f.name == UINT64_MAX || f.filename == UINT64_MAX)
        return 0;
    f.system_name = f.name;
    return prof_function_full(p, &f);
}

size_t prof_num_functions(const prof_profile *p)
{
    return p->nfuncs;
}

bool prof_get_function(const prof_profile *p, uint64_t id, prof_function_info *out)
{
    if (id == 0 || id > p->nfuncs)
        return false;
    *out = p->funcs[id - 1];
    return true;
}

/* ---- locations ---- */

static uint64_t loc_hash(uint64_t mapping_id, uint64_t address, const prof_line *lines,
                         size_t nlines)
{
    uint64_t h = ph_mix(mapping_id * 0x9e3779b97f4a7c15ULL ^ address);
    if (address == 0)
        h = ph_bytes(lines, nlines * sizeof *lines, h);
    return h;
}

static uint64_t loc_append(prof_profile *p, uint64_t h, size_t pos, uint64_t mapping_id,
                           uint64_t address, const prof_line *lines, size_t nlines, bool is_folded)
{
    if (nlines >= UINT32_MAX || mapping_id > p->nmaps)
        return 0;
    for (size_t k = 0; k < nlines; k++)
        if (lines[k].function_id == 0 || lines[k].function_id > p->nfuncs)
            return 0;
    if (ph_grow((void **)&p->locs, &p->locs_cap, p->nlocs + 1, sizeof *p->locs) != 0 ||
        ph_grow((void **)&p->lines, &p->lines_cap, p->nlines + nlines, sizeof *p->lines) != 0 ||
        ph_insert_at(&p->lindex, h, p->nlocs, pos) != 0)
        return 0;
    prof_loc *l = &p->locs[p->nlocs];
    l->mapping_id = mapping_id;
    l->address = address;
    l->line_off = p->nlines;
    l->nlines = (uint32_t)nlines;
    l->is_folded = is_folded;
    if (nlines)
        memcpy(p->lines + p->nlines, lines, nlines * sizeof *lines);
    p->nlines += nlines;
    return ++p->nlocs;
}

uint64_t prof_location(prof_profile *p, uint64_t mapping_id, uint64_t address,
                       const prof_line *lines, size_t nlines)
{
    uint64_t h = loc_hash(mapping_id, address, lines, nlines);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&p->lindex, h, &pos)) != SIZE_MAX) {
        const prof_loc *l = &p->locs[i];
        if (l->mapping_id != mapping_id || l->address != address)
            continue;
        if (address != 0)
            return i + 1;
        if (l->nlines == nlines &&
            (nlines == 0 || memcmp(p->lines + l->line_off, lines, nlines * sizeof *lines) == 0))
            return i + 1;
    }
    return loc_append(p, h, pos, mapping_id, address, lines, nlines, false);
}

uint64_t prof_location_raw(prof_profile *p, uint64_t mapping_id, uint64_t address,
                           const prof_line *lines, size_t nlines, bool is_folded)
{
    return loc_append(p, loc_hash(mapping_id, address, lines, nlines), SIZE_MAX, mapping_id,
                      address, lines, nlines, is_folded);
}

int prof_reserve_locations(prof_profile *p, size_t n)
{
    if (n > SIZE_MAX / 4 - p->nlocs || n > SIZE_MAX / 4 - p->nlines)
        return -1;
    if (ph_grow((void **)&p->locs, &p->locs_cap, p->nlocs + n, sizeof *p->locs) != 0 ||
        ph_grow((void **)&p->lines, &p->lines_cap, p->nlines + n, sizeof *p->lines) != 0 ||
        ph_reserve(&p->lindex, p->nlocs + n) != 0)
        return -1;
    return 0;
}

size_t prof_num_locations(const prof_profile *p)
{
    return p->nlocs;
}

bool prof_get_location(const prof_profile *p, uint64_t id, prof_location_info *out)
{
    if (id == 0 || id > p->nlocs)
        return false;
    const prof_loc *l = &p->locs[id - 1];
    out->mapping_id = l->mapping_id;
    out->address = l->address;
    out->lines = l->nlines ? p->lines + l->line_off : NULL;
    out->nlines = l->nlines;
    out->is_folded = l->is_folded;
    return true;
}
