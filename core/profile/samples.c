/* Label sets and samples. A sample is (location ids, label set) -> values;
 * identical keys merge through a hash index. Stacks live in one growing
 * arena of location ids and values in one arena of ntypes-wide rows, so
 * adding a sample allocates nothing once the arenas are large enough. */
#include <stdlib.h>
#include <string.h>

#include "profile/profile_impl.h"

/* ---- label sets ---- */

uint64_t prof_labelset_ids(prof_profile *p, const prof_label_ids *labels, size_t n)
{
    if (n >= UINT32_MAX)
        return 0;
    uint64_t h = ph_bytes(labels, n * sizeof *labels, 0x1abe1);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&p->lsindex, h, &pos)) != SIZE_MAX) {
        const prof_labelset_rec *r = &p->lsets[i];
        if (r->n == n &&
            (n == 0 || memcmp(p->label_arena + r->off, labels, n * sizeof *labels) == 0))
            return i + 1;
    }
    if (ph_grow((void **)&p->lsets, &p->lsets_cap, p->nlsets + 1, sizeof *p->lsets) != 0 ||
        ph_grow((void **)&p->label_arena, &p->label_arena_cap, p->nlabel_arena + n,
                sizeof *p->label_arena) != 0 ||
        ph_insert(&p->lsindex, h, p->nlsets) != 0)
        return 0;
    prof_labelset_rec *r = &p->lsets[p->nlsets];
    r->off = p->nlabel_arena;
    r->n = (uint32_t)n;
    if (n)
        memcpy(p->label_arena + p->nlabel_arena, labels, n * sizeof *labels);
    p->nlabel_arena += n;
    return ++p->nlsets;
}

uint64_t prof_labelset(prof_profile *p, const prof_label *labels, size_t nlabels)
{
    prof_label_ids small[16];
    prof_label_ids *ids = small;
    if (nlabels > 16) {
        ids = calloc(nlabels, sizeof *ids);
        if (!ids)
            return 0;
    }
    uint64_t id = 0;
    for (size_t i = 0; i < nlabels; i++) {
        const prof_label *l = &labels[i];
        memset(&ids[i], 0, sizeof ids[i]);
        ids[i].key = prof_string(p, l->key ? l->key : "", l->key ? strlen(l->key) : 0);
        if (l->str) {
            ids[i].str = prof_string(p, l->str, l->str_len);
        } else {
            ids[i].num = l->num;
            ids[i].num_unit = l->num_unit ? prof_string(p, l->num_unit, strlen(l->num_unit)) : 0;
        }
        if (ids[i].key == UINT64_MAX || ids[i].str == UINT64_MAX || ids[i].num_unit == UINT64_MAX)
            goto done;
    }
    id = prof_labelset_ids(p, ids, nlabels);
done:
    if (ids != small)
        free(ids);
    return id;
}

/* ---- samples ---- */

/* The hash of a sample key, seeded with the label set: two
 * multiply-rotate lanes as in ph_bytes, each taking two ids packed in one
 * word (location ids fit in 32 bits; a wider one only hashes worse). */
static uint64_t sample_hash(const uint64_t *locs, size_t n, uint64_t labelset)
{
    uint64_t seed = labelset * 0x9e3779b97f4a7c15ULL;
    uint64_t a = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    uint64_t b = ph_rotl(seed, 32) ^ 0x94d049bb133111ebULL;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        a = ph_rotl((a ^ (locs[k] + (locs[k + 1] << 32))) * 0xff51afd7ed558ccdULL, 29);
        b = ph_rotl((b ^ (locs[k + 2] + (locs[k + 3] << 32))) * 0xc4ceb9fe1a85ec53ULL, 31);
    }
    for (; k < n; k++)
        a = ph_rotl((a ^ locs[k]) * 0xff51afd7ed558ccdULL, 29);
    return ph_mix(a ^ ph_rotl(b, 17));
}

uint64_t prof_sample_prepare(const prof_profile *p, const uint64_t *location_ids, size_t n,
                             uint64_t labelset_id)
{
    uint64_t h = sample_hash(location_ids, n, labelset_id);
    if (p->smindex.cap)
        __builtin_prefetch(&p->smindex.slots[(size_t)(h >> 32) & (p->smindex.cap - 1)]);
    return h;
}

int prof_add_sample_hashed(prof_profile *p, const uint64_t *location_ids, size_t n,
                           const int64_t *values, uint64_t labelset_id, uint64_t h)
{
    size_t nt = p->ntypes;
    if (nt == 0 || labelset_id == 0 || labelset_id > p->nlsets || n >= UINT32_MAX)
        return -1;
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&p->smindex, h, &pos)) != SIZE_MAX) {
        const prof_sample_rec *s = &p->samples[i];
        if (s->nloc == n && s->labelset == labelset_id &&
            (n == 0 ||
             memcmp(p->stacks + s->loc_off, location_ids, n * sizeof *location_ids) == 0)) {
            int64_t *v = p->values + i * nt;
            for (size_t c = 0; c < nt; c++)
                if (__builtin_add_overflow(v[c], values[c], &v[c]))
                    v[c] = values[c] < 0 ? INT64_MIN : INT64_MAX; /* saturate */
            return 0;
        }
    }
    /* A new stack: check its ids once (a merged one matched stored ids).
     * id - 1 wraps for 0, so the largest id - 1 tells; two running maxima
     * halve the dependency chain. */
    uint64_t m0 = 0, m1 = 0;
    size_t k = 0;
    for (; k + 2 <= n; k += 2) {
        uint64_t a = location_ids[k] - 1, b = location_ids[k + 1] - 1;
        m0 = a > m0 ? a : m0;
        m1 = b > m1 ? b : m1;
    }
    if (k < n && location_ids[k] - 1 > m0)
        m0 = location_ids[k] - 1;
    if (n && (m0 > m1 ? m0 : m1) >= p->nlocs)
        return -1;
    if (ph_grow((void **)&p->samples, &p->samples_cap, p->nsamples + 1, sizeof *p->samples) != 0 ||
        ph_grow((void **)&p->stacks, &p->stacks_cap, p->nstacks + n, sizeof *p->stacks) != 0 ||
        ph_grow((void **)&p->values, &p->values_cap, (p->nsamples + 1) * nt, sizeof *p->values) !=
            0 ||
        ph_insert_at(&p->smindex, h, p->nsamples, pos) != 0)
        return -1;
    prof_sample_rec *s = &p->samples[p->nsamples];
    s->loc_off = p->nstacks;
    s->nloc = (uint32_t)n;
    s->labelset = (uint32_t)labelset_id;
    if (n)
        memcpy(p->stacks + p->nstacks, location_ids, n * sizeof *location_ids);
    p->nstacks += n;
    memcpy(p->values + p->nsamples * nt, values, nt * sizeof *values);
    p->nsamples++;
    return 0;
}

int prof_add_sample_ls(prof_profile *p, const uint64_t *location_ids, size_t n,
                       const int64_t *values, uint64_t labelset_id)
{
    return prof_add_sample_hashed(p, location_ids, n, values, labelset_id,
                                  sample_hash(location_ids, n, labelset_id));
}

int prof_reserve_samples(prof_profile *p, size_t nsamples, size_t nlocations)
{
    size_t nt = p->ntypes ? p->ntypes : 1;
    if (nsamples > SIZE_MAX - p->nsamples || nlocations > SIZE_MAX - p->nstacks ||
        p->nsamples + nsamples > SIZE_MAX / nt)
        return -1;
    size_t ns = p->nsamples + nsamples;
    if (ph_grow((void **)&p->samples, &p->samples_cap, ns, sizeof *p->samples) != 0 ||
        ph_grow((void **)&p->stacks, &p->stacks_cap, p->nstacks + nlocations, sizeof *p->stacks) !=
            0 ||
        ph_grow((void **)&p->values, &p->values_cap, ns * nt, sizeof *p->values) != 0 ||
        ph_reserve(&p->smindex, ns) != 0)
        return -1;
    return 0;
}

int prof_add_sample(prof_profile *p, const uint64_t *location_ids, size_t n, const int64_t *values,
                    const prof_label *labels, size_t nlabels)
{
    uint64_t ls = nlabels ? prof_labelset(p, labels, nlabels) : 1;
    if (ls == 0)
        return -1;
    return prof_add_sample_ls(p, location_ids, n, values, ls);
}

size_t prof_num_samples(const prof_profile *p)
{
    return p->nsamples;
}

bool prof_get_sample(const prof_profile *p, size_t i, prof_sample_info *out)
{
    if (i >= p->nsamples)
        return false;
    const prof_sample_rec *s = &p->samples[i];
    const prof_labelset_rec *ls = &p->lsets[s->labelset - 1];
    out->locations = s->nloc ? p->stacks + s->loc_off : NULL;
    out->nlocations = s->nloc;
    out->values = p->values + i * p->ntypes;
    out->labels = ls->n ? p->label_arena + ls->off : NULL;
    out->nlabels = ls->n;
    return true;
}

int64_t prof_total(const prof_profile *p, size_t col)
{
    if (col >= p->ntypes)
        return 0;
    int64_t t = 0;
    for (size_t i = 0; i < p->nsamples; i++)
        if (__builtin_add_overflow(t, p->values[i * p->ntypes + col], &t))
            t = p->values[i * p->ntypes + col] < 0 ? INT64_MIN : INT64_MAX; /* saturate */
    return t;
}
