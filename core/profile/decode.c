/* profile.proto decoding: gunzip when gzip magic is present, unpack with
 * protobuf-c, check what pprof checks (string 0 "", nonzero unique ids,
 * value counts, references), then rebuild the tables in a new profile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "profile.pb-c.h"
#include "profile/profile_impl.h"

#define MAX_INFLATED ((size_t)1 << 33) /* refuse gzip bombs beyond 8 GiB */

static int gunzip(const unsigned char *in, size_t inlen, unsigned char **out, size_t *outlen,
                  char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) {
        prof_errf(err, errlen, "gzip: cannot initialise zlib");
        return -1;
    }
    size_t cap = inlen * 4 + 4096, done = 0;
    unsigned char *buf = malloc(cap);
    int rc = Z_OK;
    const unsigned char *q = in;
    size_t left = inlen;
    while (buf) {
        if (zs.avail_in == 0 && left > 0) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            zs.next_in = (unsigned char *)q;
            zs.avail_in = chunk;
            q += chunk;
            left -= chunk;
        }
        if (done == cap) {
            if (cap >= MAX_INFLATED) {
                prof_errf(err, errlen, "gzip: decompressed data larger than 8 GiB");
                goto fail;
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t room = cap - done;
        zs.next_out = buf + done;
        zs.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        uInt before = zs.avail_out;
        rc = inflate(&zs, Z_NO_FLUSH);
        done += before - zs.avail_out;
        if (rc == Z_STREAM_END) {
            inflateEnd(&zs);
            *out = buf;
            *outlen = done;
            return 0;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
            prof_errf(err, errlen, "gzip: truncated data");
            goto fail;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            prof_errf(err, errlen, "gzip: %s", zs.msg ? zs.msg : "corrupt data");
            goto fail;
        }
    }
    prof_errf(err, errlen, "gzip: out of memory");
fail:
    free(buf);
    inflateEnd(&zs);
    return -1;
}

/* ---- old id -> new id ---- */

typedef struct idmap {
    uint64_t *keys, *vals;
    size_t cap;
} idmap;

static int idmap_init(idmap *m, size_t n)
{
    m->cap = 16;
    while (m->cap < n * 2 + 2)
        m->cap *= 2;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = calloc(m->cap, sizeof *m->vals);
    return m->keys && m->vals ? 0 : -1;
}

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
}

/* Slot of key (key != 0). */
static size_t idmap_slot(const idmap *m, uint64_t key)
{
    size_t i = (size_t)ph_mix(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static uint64_t idmap_get(const idmap *m, uint64_t key)
{
    size_t i = idmap_slot(m, key);
    return m->keys[i] == key ? m->vals[i] : 0;
}

/* ---- decoding ---- */

typedef struct dec {
    const Perftools__Profiles__Profile *pb;
    prof_profile *p;
    uint64_t *smap; /* old string index -> new */
    idmap maps, funcs, locs;
    char *err;
    size_t errlen;
} dec;

static bool str_ok(dec *d, int64_t idx, uint64_t *out, const char *what)
{
    if (idx < 0 || (uint64_t)idx >= d->pb->n_string_table) {
        prof_errf(d->err, d->errlen, "malformed profile: %s string index %lld out of range", what,
                  (long long)idx);
        return false;
    }
    *out = d->smap[idx];
    return true;
}

static bool put_id(dec *d, idmap *m, uint64_t old, uint64_t nid, const char *what)
{
    if (old == 0) {
        prof_errf(d->err, d->errlen, "malformed profile: %s with reserved id 0", what);
        return false;
    }
    size_t i = idmap_slot(m, old);
    if (m->keys[i]) {
        prof_errf(d->err, d->errlen, "malformed profile: multiple %ss with id %llu", what,
                  (unsigned long long)old);
        return false;
    }
    if (nid == 0) {
        prof_errf(d->err, d->errlen, "out of memory");
        return false;
    }
    m->keys[i] = old;
    m->vals[i] = nid;
    return true;
}

static bool dec_header(dec *d)
{
    const Perftools__Profiles__Profile *pb = d->pb;
    prof_profile *p = d->p;
    for (size_t i = 0; i < pb->n_string_table; i++) {
        const char *s = pb->string_table[i] ? pb->string_table[i] : "";
        d->smap[i] = prof_string(p, s, strlen(s));
        if (d->smap[i] == UINT64_MAX) {
            prof_errf(d->err, d->errlen, "out of memory");
            return false;
        }
    }
    for (size_t i = 0; i < pb->n_sample_type; i++) {
        uint64_t t, u;
        if (!str_ok(d, pb->sample_type[i]->type, &t, "sample type") ||
            !str_ok(d, pb->sample_type[i]->unit, &u, "sample unit"))
            return false;
        if (prof_add_sample_type_ids(p, t, u) != (int)i) {
            prof_errf(d->err, d->errlen, "too many sample types or out of memory");
            return false;
        }
    }
    if (pb->n_sample > 0 && pb->n_sample_type == 0) {
        prof_errf(d->err, d->errlen, "malformed profile: missing sample type information");
        return false;
    }
    if (!str_ok(d, pb->default_sample_type, &p->default_type, "default_sample_type") ||
        !str_ok(d, pb->drop_frames, &p->drop_frames, "drop_frames") ||
        !str_ok(d, pb->keep_frames, &p->keep_frames, "keep_frames") ||
        !str_ok(d, pb->doc_url, &p->doc_url, "doc_url"))
        return false;
    if (pb->period_type && (!str_ok(d, pb->period_type->type, &p->period_type, "period type") ||
                            !str_ok(d, pb->period_type->unit, &p->period_unit, "period unit")))
        return false;
    p->period = pb->period;
    p->time_nanos = pb->time_nanos;
    p->duration_nanos = pb->duration_nanos;
    for (size_t i = 0; i < pb->n_comment; i++) {
        uint64_t c;
        size_t len;
        if (!str_ok(d, pb->comment[i], &c, "comment"))
            return false;
        const char *s = prof_str(p, c, &len);
        if (prof_add_comment(p, s, len) != 0) {
            prof_errf(d->err, d->errlen, "out of memory");
            return false;
        }
    }
    return true;
}

static bool dec_tables(dec *d)
{
    const Perftools__Profiles__Profile *pb = d->pb;
    prof_profile *p = d->p;
    for (size_t i = 0; i < pb->n_mapping; i++) {
        const Perftools__Profiles__Mapping *m = pb->mapping[i];
        prof_mapping_info mi = {
            .start = m->memory_start,
            .limit = m->memory_limit,
            .offset = m->file_offset,
            .has_functions = m->has_functions,
            .has_filenames = m->has_filenames,
            .has_line_numbers = m->has_line_numbers,
            .has_inline_frames = m->has_inline_frames,
        };
        if (!str_ok(d, m->filename, &mi.file, "mapping filename") ||
            !str_ok(d, m->build_id, &mi.build_id, "mapping build id"))
            return false;
        prof_mapping_spec spec = {
            .start = mi.start,
            .limit = mi.limit,
            .offset = mi.offset,
            .has_functions = mi.has_functions,
            .has_filenames = mi.has_filenames,
            .has_line_numbers = mi.has_line_numbers,
            .has_inline_frames = mi.has_inline_frames,
        };
        spec.file = prof_str(p, mi.file, &spec.file_len);
        spec.build_id = prof_str(p, mi.build_id, &spec.build_id_len);
        uint64_t id = prof_mapping(p, &spec);
        if (!put_id(d, &d->maps, m->id, id, "mapping"))
            return false;
        if (i == 0 && id)
            p->main_mapping = id;
    }
    for (size_t i = 0; i < pb->n_function; i++) {
        const Perftools__Profiles__Function *f = pb->function[i];
        prof_function_info fi = {.start_line = f->start_line};
        if (!str_ok(d, f->name, &fi.name, "function name") ||
            !str_ok(d, f->system_name, &fi.system_name, "function system name") ||
            !str_ok(d, f->filename, &fi.filename, "function filename"))
            return false;
        if (!put_id(d, &d->funcs, f->id, prof_function_full(p, &fi), "function"))
            return false;
    }
    prof_line small[32];
    for (size_t i = 0; i < pb->n_location; i++) {
        const Perftools__Profiles__Location *l = pb->location[i];
        prof_line *lines = small;
        if (l->n_line > 32 && !(lines = calloc(l->n_line, sizeof *lines))) {
            prof_errf(d->err, d->errlen, "out of memory");
            return false;
        }
        bool ok = true;
        for (size_t k = 0; k < l->n_line && ok; k++) {
            lines[k].function_id = idmap_get(&d->funcs, l->line[k]->function_id);
            lines[k].line = l->line[k]->line;
            if (lines[k].function_id == 0) {
                prof_errf(d->err, d->errlen,
                          "malformed profile: location id %llu has a line with nil function",
                          (unsigned long long)l->id);
                ok = false;
            }
        }
        /* A mapping id naming no mapping leaves the location unmapped
         * (pprof does the same). */
        uint64_t mid = l->mapping_id ? idmap_get(&d->maps, l->mapping_id) : 0;
        if (ok)
            ok = put_id(d, &d->locs, l->id,
                        prof_location_raw(p, mid, l->address, lines, l->n_line, l->is_folded),
                        "location");
        if (lines != small)
            free(lines);
        if (!ok)
            return false;
    }
    return true;
}

static bool dec_samples(dec *d)
{
    const Perftools__Profiles__Profile *pb = d->pb;
    prof_profile *p = d->p;
    uint64_t *locs = NULL;
    prof_label_ids *labels = NULL;
    size_t locs_cap = 0, labels_cap = 0;
    bool ok = false;
    for (size_t i = 0; i < pb->n_sample; i++) {
        const Perftools__Profiles__Sample *s = pb->sample[i];
        if (s->n_value != pb->n_sample_type) {
            prof_errf(d->err, d->errlen,
                      "malformed profile: mismatch: sample has %zu values vs. %zu types",
                      s->n_value, pb->n_sample_type);
            goto out;
        }
        if (ph_grow((void **)&locs, &locs_cap, s->n_location_id, sizeof *locs) != 0 ||
            ph_grow((void **)&labels, &labels_cap, s->n_label, sizeof *labels) != 0) {
            prof_errf(d->err, d->errlen, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < s->n_location_id; k++) {
            locs[k] = idmap_get(&d->locs, s->location_id[k]);
            if (locs[k] == 0) {
                prof_errf(d->err, d->errlen, "malformed profile: sample has nil location (id %llu)",
                          (unsigned long long)s->location_id[k]);
                goto out;
            }
        }
        for (size_t k = 0; k < s->n_label; k++) {
            const Perftools__Profiles__Label *l = s->label[k];
            memset(&labels[k], 0, sizeof labels[k]);
            labels[k].num = l->num;
            if (!str_ok(d, l->key, &labels[k].key, "label key") ||
                !str_ok(d, l->str, &labels[k].str, "label value") ||
                !str_ok(d, l->num_unit, &labels[k].num_unit, "label unit"))
                goto out;
            if (labels[k].str)
                labels[k].num = 0, labels[k].num_unit = 0;
        }
        uint64_t ls = prof_labelset_ids(p, labels, s->n_label);
        if (ls == 0 || prof_add_sample_ls(p, locs, s->n_location_id, s->value, ls) != 0) {
            prof_errf(d->err, d->errlen, "out of memory");
            goto out;
        }
    }
    ok = true;
out:
    free(locs);
    free(labels);
    return ok;
}

prof_profile *prof_decode(const unsigned char *data, size_t len, char *err, size_t errlen)
{
    unsigned char *plain = NULL;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        if (gunzip(data, len, &plain, &len, err, errlen) != 0)
            return NULL;
        data = plain;
    }
    Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, len, data);
    free(plain);
    if (!pb) {
        prof_errf(err, errlen, "not a pprof profile (malformed protobuf)");
        return NULL;
    }
    dec d = {.pb = pb, .err = err, .errlen = errlen};
    prof_profile *p = NULL;
    if (pb->n_string_table == 0 || !pb->string_table[0] || pb->string_table[0][0] != '\0') {
        prof_errf(err, errlen, "not a pprof profile (string_table[0] is not \"\")");
        goto out;
    }
    p = prof_new();
    d.p = p;
    d.smap = calloc(pb->n_string_table, sizeof *d.smap);
    if (!p || !d.smap || idmap_init(&d.maps, pb->n_mapping) != 0 ||
        idmap_init(&d.funcs, pb->n_function) != 0 || idmap_init(&d.locs, pb->n_location) != 0) {
        prof_errf(err, errlen, "out of memory");
        goto fail;
    }
    if (dec_header(&d) && dec_tables(&d) && dec_samples(&d))
        goto out;
fail:
    prof_free(p);
    p = NULL;
out:
    free(d.smap);
    idmap_free(&d.maps);
    idmap_free(&d.funcs);
    idmap_free(&d.locs);
    perftools__profiles__profile__free_unpacked(pb, NULL);
    return p;
}

prof_profile *prof_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        prof_errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, want = 65536;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        want = (size_t)st.st_size + 1; /* room to see EOF without growing */
    int rerr = 0;
    for (;;) {
        if (len == cap && ph_grow((void **)&buf, &cap, len + want, 1) != 0) {
            fclose(f);
            free(buf);
            prof_errf(err, errlen, "%s: out of memory", path);
            return NULL;
        }
        errno = 0;
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rerr = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (rerr) {
        free(buf);
        prof_errf(err, errlen, "%s: %s", path, strerror(rerr));
        return NULL;
    }
    char e[256];
    prof_profile *p = prof_decode(buf, len, e, sizeof e);
    free(buf);
    if (!p)
        prof_errf(err, errlen, "%s: %s", path, e);
    return p;
}
