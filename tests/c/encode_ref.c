/* The protobuf-c encoding of a profile, as prof_encode produced it before
 * it wrote the wire format itself: the reference the streaming encoder is
 * checked against byte for byte. The message structs point into the
 * profile's arenas (stacks, values, strings). */
#include <stdlib.h>
#include <string.h>

#include "encode_ref.h"
#include "profile.pb-c.h"
#include "profile/profile_impl.h"

typedef struct enc_mem {
    Perftools__Profiles__ValueType *vt, **vtp, period_type;
    Perftools__Profiles__Sample *smp, **smpp;
    Perftools__Profiles__Label *lab, **labp;
    Perftools__Profiles__Mapping *map, **mapp;
    Perftools__Profiles__Location *loc, **locp;
    Perftools__Profiles__Line *line, **linep;
    Perftools__Profiles__Function *fn, **fnp;
    char **strs;
    int64_t *comments;
} enc_mem;

static void enc_free(enc_mem *m)
{
    free(m->vt);
    free(m->vtp);
    free(m->smp);
    free(m->smpp);
    free(m->lab);
    free(m->labp);
    free(m->map);
    free(m->mapp);
    free(m->loc);
    free(m->locp);
    free(m->line);
    free(m->linep);
    free(m->fn);
    free(m->fnp);
    free(m->strs);
    free(m->comments);
}

/* calloc that treats n == 0 as success (returns a 1-element block). */
static void *acalloc(size_t n, size_t size, bool *ok)
{
    void *q = calloc(n ? n : 1, size);
    if (!q)
        *ok = false;
    return q;
}

static bool enc_alloc(const prof_profile *p, enc_mem *m)
{
    bool ok = true;
    m->vt = acalloc(p->ntypes, sizeof *m->vt, &ok);
    m->vtp = acalloc(p->ntypes, sizeof *m->vtp, &ok);
    m->smp = acalloc(p->nsamples, sizeof *m->smp, &ok);
    m->smpp = acalloc(p->nsamples, sizeof *m->smpp, &ok);
    m->lab = acalloc(p->nlabel_arena, sizeof *m->lab, &ok);
    m->labp = acalloc(p->nlabel_arena, sizeof *m->labp, &ok);
    m->map = acalloc(p->nmaps, sizeof *m->map, &ok);
    m->mapp = acalloc(p->nmaps, sizeof *m->mapp, &ok);
    m->loc = acalloc(p->nlocs, sizeof *m->loc, &ok);
    m->locp = acalloc(p->nlocs, sizeof *m->locp, &ok);
    m->line = acalloc(p->nlines, sizeof *m->line, &ok);
    m->linep = acalloc(p->nlines, sizeof *m->linep, &ok);
    m->fn = acalloc(p->nfuncs, sizeof *m->fn, &ok);
    m->fnp = acalloc(p->nfuncs, sizeof *m->fnp, &ok);
    m->strs = acalloc(p->nstrings, sizeof *m->strs, &ok);
    m->comments = acalloc(p->ncomments, sizeof *m->comments, &ok);
    return ok;
}

static void fill(const prof_profile *p, enc_mem *m, Perftools__Profiles__Profile *pb)
{
    perftools__profiles__profile__init(pb);
    for (size_t i = 0; i < p->ntypes; i++) {
        perftools__profiles__value_type__init(&m->vt[i]);
        m->vt[i].type = (int64_t)p->st_type[i];
        m->vt[i].unit = (int64_t)p->st_unit[i];
        m->vtp[i] = &m->vt[i];
    }
    pb->n_sample_type = p->ntypes;
    pb->sample_type = m->vtp;

    for (size_t i = 0; i < p->nlabel_arena; i++) {
        const prof_label_ids *l = &p->label_arena[i];
        perftools__profiles__label__init(&m->lab[i]);
        m->lab[i].key = (int64_t)l->key;
        m->lab[i].str = (int64_t)l->str;
        m->lab[i].num = l->num;
        m->lab[i].num_unit = (int64_t)l->num_unit;
        m->labp[i] = &m->lab[i];
    }
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample_rec *s = &p->samples[i];
        const prof_labelset_rec *ls = &p->lsets[s->labelset - 1];
        Perftools__Profiles__Sample *o = &m->smp[i];
        perftools__profiles__sample__init(o);
        o->n_location_id = s->nloc;
        o->location_id = s->nloc ? p->stacks + s->loc_off : NULL;
        o->n_value = p->ntypes;
        o->value = p->values + i * p->ntypes;
        o->n_label = ls->n;
        o->label = ls->n ? m->labp + ls->off : NULL;
        m->smpp[i] = o;
    }
    pb->n_sample = p->nsamples;
    pb->sample = m->smpp;

    /* The main binary's mapping goes first (pprof treats mapping[0] so). */
    size_t k = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->nmaps; i++) {
            bool is_main = p->main_mapping == i + 1;
            if ((pass == 0) != is_main)
                continue;
            const prof_mapping_info *mi = &p->maps[i];
            Perftools__Profiles__Mapping *o = &m->map[k];
            perftools__profiles__mapping__init(o);
            o->id = i + 1;
            o->memory_start = mi->start;
            o->memory_limit = mi->limit;
            o->file_offset = mi->offset;
            o->filename = (int64_t)mi->file;
            o->build_id = (int64_t)mi->build_id;
            o->has_functions = mi->has_functions;
            o->has_filenames = mi->has_filenames;
            o->has_line_numbers = mi->has_line_numbers;
            o->has_inline_frames = mi->has_inline_frames;
            m->mapp[k] = o;
            k++;
        }
    }
    pb->n_mapping = p->nmaps;
    pb->mapping = m->mapp;

    for (size_t i = 0; i < p->nlines; i++) {
        perftools__profiles__line__init(&m->line[i]);
        m->line[i].function_id = p->lines[i].function_id;
        m->line[i].line = p->lines[i].line;
        m->linep[i] = &m->line[i];
    }
    for (size_t i = 0; i < p->nlocs; i++) {
        const prof_loc *l = &p->locs[i];
        Perftools__Profiles__Location *o = &m->loc[i];
        perftools__profiles__location__init(o);
        o->id = i + 1;
        o->mapping_id = l->mapping_id;
        o->address = l->address;
        o->n_line = l->nlines;
        o->line = l->nlines ? m->linep + l->line_off : NULL;
        o->is_folded = l->is_folded;
        m->locp[i] = o;
    }
    pb->n_location = p->nlocs;
    pb->location = m->locp;

    for (size_t i = 0; i < p->nfuncs; i++) {
        const prof_function_info *f = &p->funcs[i];
        Perftools__Profiles__Function *o = &m->fn[i];
        perftools__profiles__function__init(o);
        o->id = i + 1;
        o->name = (int64_t)f->name;
        o->system_name = (int64_t)f->system_name;
        o->filename = (int64_t)f->filename;
        o->start_line = f->start_line;
        m->fnp[i] = o;
    }
    pb->n_function = p->nfuncs;
    pb->function = m->fnp;

    for (size_t i = 0; i < p->nstrings; i++)
        m->strs[i] = p->sbytes + p->soff[i];
    pb->n_string_table = p->nstrings;
    pb->string_table = m->strs;

    pb->drop_frames = (int64_t)p->drop_frames;
    pb->keep_frames = (int64_t)p->keep_frames;
    pb->doc_url = (int64_t)p->doc_url;
    pb->time_nanos = p->time_nanos;
    pb->duration_nanos = p->duration_nanos;
    if (p->period_type || p->period_unit) {
        perftools__profiles__value_type__init(&m->period_type);
        m->period_type.type = (int64_t)p->period_type;
        m->period_type.unit = (int64_t)p->period_unit;
        pb->period_type = &m->period_type;
    }
    pb->period = p->period;
    for (size_t i = 0; i < p->ncomments; i++)
        m->comments[i] = (int64_t)p->comments[i];
    pb->n_comment = p->ncomments;
    pb->comment = m->comments;
    pb->default_sample_type = (int64_t)p->default_type;
}

int prof_encode_reference(const prof_profile *p, unsigned char **out, size_t *len)
{
    enc_mem m;
    memset(&m, 0, sizeof m);
    if (!enc_alloc(p, &m)) {
        enc_free(&m);
        return -1;
    }
    Perftools__Profiles__Profile pb;
    fill(p, &m, &pb);
    size_t n = perftools__profiles__profile__get_packed_size(&pb);
    unsigned char *raw = malloc(n ? n : 1);
    if (!raw) {
        enc_free(&m);
        return -1;
    }
    *len = perftools__profiles__profile__pack(&pb, raw);
    *out = raw;
    enc_free(&m);
    return 0;
}
