/* The perf.data reader: the file header, the attribute section and event
 * ids, the data stream in bounded chunks, and the record loop (pd_next),
 * which inflates COMPRESSED records and releases records in time order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "pd_internal.h"

#define FILE_HEADER_SIZE 104
#define PIPE_HEADER_SIZE 16

int pd_fail(pd_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(r->error, sizeof r->error, "%s: ", r->name);
    if (n < 0 || (size_t)n >= sizeof r->error)
        n = 0;
    vsnprintf(r->error + n, sizeof r->error - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int pd_warn(pd_reader *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < r->nwarnings; i++)
        if (strcmp(r->warnings[i], buf) == 0)
            return 0;
    if (r->nwarnings == r->warnings_cap) {
        size_t cap = r->warnings_cap ? r->warnings_cap * 2 : 8;
        char **w = realloc(r->warnings, cap * sizeof *w);
        if (!w)
            return -1;
        r->warnings = w;
        r->warnings_cap = cap;
    }
    char *s = strdup(buf);
    if (!s)
        return -1;
    r->warnings[r->nwarnings++] = s;
    return 0;
}

char *pd_strdup(pd_reader *r, const char *s, size_t n)
{
    if (r->nowned == r->owned_cap) {
        size_t cap = r->owned_cap ? r->owned_cap * 2 : 16;
        char **o = realloc(r->owned, cap * sizeof *o);
        if (!o)
            return NULL;
        r->owned = o;
        r->owned_cap = cap;
    }
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    r->owned[r->nowned++] = d;
    return d;
}

/* ---- the input ---- */

static ssize_t read_some(pd_src *s, void *buf, size_t n, uint64_t off)
{
    (void)off;
    for (;;) {
        ssize_t k = read(s->fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        return k;
    }
}

const unsigned char *pd_src_peek(pd_src *s, size_t n)
{
    if (s->len >= n)
        return s->blk->data + s->start;
    if (s->failed)
        return NULL;
    if (n > PD_BLOCK) {
        s->failed = true;
        s->err = EFBIG;
        return NULL;
    }
    if (!s->blk || s->start + n > PD_BLOCK) {
        /* the rest of the block is too small: the bytes not yet used move
         * to the start of a block, the same one when no queued record
         * pins it */
        if (s->blk && s->blk->refs == 1) {
            memmove(s->blk->data, s->blk->data + s->start, s->len);
        } else {
            pd_block *b = pd_block_get(s->pool);
            if (!b) {
                s->failed = true;
                s->err = ENOMEM;
                return NULL;
            }
            if (s->len)
                memcpy(b->data, s->blk->data + s->start, s->len);
            pd_block_put(s->pool, s->blk);
            s->blk = b;
        }
        s->start = 0;
    }
    while (s->len < n && !s->eof) {
        uint64_t at = s->pos + s->len;
        size_t want = PD_BLOCK - s->start - s->len;
        if (s->end != UINT64_MAX) {
            if (at >= s->end) {
                s->eof = true;
                break;
            }
            if (want > s->end - at)
                want = (size_t)(s->end - at);
        }
        ssize_t k = read_some(s, s->blk->data + s->start + s->len, want, at);
        if (k < 0) {
            s->failed = true;
            s->err = errno;
            return NULL;
        }
        if (k == 0)
            s->eof = true;
        s->len += (size_t)k;
    }
    return s->len >= n ? s->blk->data + s->start : NULL;
}

void pd_src_skip(pd_src *s, size_t n)
{
    if (n > s->len)
        n = s->len;
    s->start += n;
    s->len -= n;
    s->pos += n;
}

int pd_src_discard(pd_src *s, uint64_t n)
{
    while (n > 0) {
        if (s->len == 0 && !pd_src_peek(s, 1))
            return -1;
        size_t k = n < s->len ? (size_t)n : s->len;
        pd_src_skip(s, k);
        n -= k;
    }
    return 0;
}

/* Reads exactly n bytes at off of a seekable file. 0 or -1. */
static int read_at(int fd, uint64_t off, void *buf, size_t n)
{
    unsigned char *b = buf;
    while (n > 0) {
        ssize_t k = pread(fd, b, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* ---- events ---- */

static const char *const hw_names[] = {"cycles",
                                       "instructions",
                                       "cache-references",
                                       "cache-misses",
                                       "branches",
                                       "branch-misses",
                                       "bus-cycles",
                                       "stalled-cycles-frontend",
                                       "stalled-cycles-backend",
                                       "ref-cycles"};
static const char *const sw_names[] = {
    "cpu-clock",        "task-clock",   "page-faults",  "context-switches",
    "cpu-migrations",   "minor-faults", "major-faults", "alignment-faults",
    "emulation-faults", "dummy",        "bpf-output",   "cgroup-switches"};

const char *pd_event_default_name(uint32_t type, uint64_t config, char *buf, size_t len)
{
    if (type == 0 && config < sizeof hw_names / sizeof *hw_names)
        return hw_names[config];
    if (type == 1 && config < sizeof sw_names / sizeof *sw_names)
        return sw_names[config];
    snprintf(buf, len, "%s:0x%llx",
             type == 2   ? "tracepoint"
             : type == 4 ? "raw"
                         : "event",
             (unsigned long long)config);
    return buf;
}

static int idmap_put(pd_reader *r, uint64_t id, uint32_t ev)
{
    pd_idmap *m = &r->idmap;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t *ids = calloc(cap, sizeof *ids);
        uint32_t *evs = calloc(cap, sizeof *evs);
        if (!ids || !evs) {
            free(ids);
            free(evs);
            return pd_fail(r, "out of memory");
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->events[i])
                continue;
            size_t j = (size_t)(m->ids[i] * 0x9e3779b97f4a7c15ULL >> 7) & (cap - 1);
            while (evs[j])
                j = (j + 1) & (cap - 1);
            ids[j] = m->ids[i];
            evs[j] = m->events[i];
        }
        free(m->ids);
        free(m->events);
        m->ids = ids;
        m->events = evs;
        m->cap = cap;
    }
    size_t j = (size_t)(id * 0x9e3779b97f4a7c15ULL >> 7) & (m->cap - 1);
    while (m->events[j]) {
        if (m->ids[j] == id)
            return 0; /* the first event to claim an id keeps it */
        j = (j + 1) & (m->cap - 1);
    }
    m->ids[j] = id;
    m->events[j] = ev + 1;
    m->n++;
    return 0;
}

size_t pd_event_of_id(const pd_reader *r, uint64_t id)
{
    const pd_idmap *m = &r->idmap;
    if (!m->cap)
        return SIZE_MAX;
    size_t j = (size_t)(id * 0x9e3779b97f4a7c15ULL >> 7) & (m->cap - 1);
    while (m->events[j]) {
        if (m->ids[j] == id)
            return m->events[j] - 1;
        j = (j + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}

static uint64_t attr_u64(const unsigned char *a, size_t n, size_t off)
{
    return off + 8 <= n ? pd_u64(a + off) : 0;
}

int pd_add_event(pd_reader *r, const unsigned char *a, size_t n, const unsigned char *ids,
                 size_t nids)
{
    if (n < 8)
        return pd_fail(r, "event attribute of %zu bytes is too short", n);
    if (r->nevents >= PD_MAX_EVENTS)
        return pd_fail(r, "more than %d events", PD_MAX_EVENTS);
    if (r->nevents == r->events_cap) {
        size_t cap = r->events_cap ? r->events_cap * 2 : 8;
        pd_event *e = realloc(r->events, cap * sizeof *e);
        if (!e)
            return pd_fail(r, "out of memory");
        r->events = e;
        r->events_cap = cap;
    }
    pd_event *e = &r->events[r->nevents];
    memset(e, 0, sizeof *e);
    e->type = (uint32_t)a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 | (uint32_t)a[3] << 24;
    e->config = attr_u64(a, n, 8);
    e->sample_period = attr_u64(a, n, 16);
    e->sample_type = attr_u64(a, n, 24);
    e->read_format = attr_u64(a, n, 32);
    uint64_t flags = attr_u64(a, n, 40);
    e->freq = (flags >> 10) & 1;
    e->sample_id_all = (flags >> 18) & 1;
    e->branch_sample_type = attr_u64(a, n, 72);
    e->sample_regs_user = attr_u64(a, n, 80);
    e->sample_regs_intr = attr_u64(a, n, 96);
    char buf[64];
    const char *nm = pd_event_default_name(e->type, e->config, buf, sizeof buf);
    if (!(e->name = pd_strdup(r, nm, strlen(nm))))
        return pd_fail(r, "out of memory");
    size_t idx = r->nevents++;
    for (size_t i = 0; i < nids; i++)
        if (idmap_put(r, pd_u64(ids + 8 * i), (uint32_t)idx))
            return -1;
    r->info.events = r->events;
    r->info.nevents = r->nevents;
    pd_update_id_pos(r);
    return 0;
}

/* ---- opening ---- */

/* A file-mode perf.data on a pipe: spooled into an unlinked temporary
 * file, which then stands for the input. fd of the copy or -1. */
static int spool(pd_reader *r, int fd, const unsigned char *head, size_t n)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/perfgo-perfdata-XXXXXX", dir && *dir ? dir : "/tmp");
    int t = mkstemp(path);
    if (t < 0)
        return pd_fail(r, "cannot spool the input to %s: %s", path, strerror(errno));
    unlink(path);
    unsigned char *buf = malloc(PD_CHUNK);
    bool ok = buf && write(t, head, n) == (ssize_t)n;
    while (ok) {
        ssize_t k = read(fd, buf, PD_CHUNK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            ok = k == 0;
            break;
        }
        ok = write(t, buf, (size_t)k) == k;
    }
    free(buf);
    if (!ok) {
        close(t);
        return pd_fail(r, "cannot spool the input: %s", strerror(errno ? errno : EIO));
    }
    return t;
}

static int read_attrs(pd_reader *r, int fd, uint64_t fsize, uint64_t attr_size, uint64_t off,
                      uint64_t size)
{
    if (attr_size < 16 + 8 || attr_size > 4096)
        return pd_fail(r, "corrupt header: attribute size %llu", (unsigned long long)attr_size);
    if (off > fsize || size > fsize - off || size % attr_size)
        return pd_fail(r, "corrupt header: attribute section outside the file");
    size_t n = (size_t)(size / attr_size);
    if (n > PD_MAX_EVENTS)
        return pd_fail(r, "corrupt header: %zu events", n);
    unsigned char a[4096];
    for (size_t i = 0; i < n; i++) {
        if (read_at(fd, off + i * attr_size, a, (size_t)attr_size))
            return pd_fail(r, "cannot read the attribute section");
        size_t an = (size_t)attr_size - 16;
        uint64_t ioff = pd_u64(a + an), isz = pd_u64(a + an + 8);
        if (ioff > fsize || isz > fsize - ioff || isz > (64u << 20))
            return pd_fail(r, "corrupt header: ids of event %zu outside the file", i);
        unsigned char *ids = malloc(isz ? (size_t)isz : 1);
        if (!ids)
            return pd_fail(r, "out of memory");
        if (isz && read_at(fd, ioff, ids, (size_t)isz)) {
            free(ids);
            return pd_fail(r, "cannot read the ids of event %zu", i);
        }
        int rc = pd_add_event(r, a, an, ids, (size_t)(isz / 8));
        free(ids);
        if (rc)
            return -1;
    }
    return 0;
}

static int read_features(pd_reader *r, int fd, uint64_t fsize, const unsigned char *bitmap)
{
    uint64_t at = r->info.data_offset + r->info.data_size;
    for (unsigned bit = 0; bit < 256; bit++) {
        if (!((bitmap[bit / 8] >> (bit % 8)) & 1))
            continue;
        unsigned char sec[16];
        if (at > fsize || read_at(fd, at, sec, 16)) {
            pd_warn(r, "the feature sections are cut off: host and event details are missing");
            return 0;
        }
        at += 16;
        uint64_t off = pd_u64(sec), size = pd_u64(sec + 8);
        if (off > fsize || size > fsize - off || size > PD_MAX_FEATURE)
            continue; /* perf skips such a section too */
        unsigned char *p = malloc(size ? (size_t)size : 1);
        if (!p)
            return pd_fail(r, "out of memory");
        int rc = read_at(fd, off, p, (size_t)size) ? 0 : pd_feature(r, bit, p, (size_t)size);
        free(p);
        if (rc)
            return -1;
    }
    return 0;
}

static int open_file_mode(pd_reader *r, int fd, const unsigned char *h)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return pd_fail(r, "%s", strerror(errno));
    uint64_t fsize = (uint64_t)st.st_size;
    if (read_attrs(r, fd, fsize, pd_u64(h + 16), pd_u64(h + 24), pd_u64(h + 32)))
        return -1;
    uint64_t doff = pd_u64(h + 40), dsize = pd_u64(h + 48);
    if (doff > fsize)
        return pd_fail(r, "corrupt header: data at %llu, past the end of the file",
                       (unsigned long long)doff);
    r->info.data_offset = doff;
    if (dsize == 0) {
        r->info.unfinished = true;
        dsize = fsize - doff;
        if (pd_warn(r, "the header was never finished (perf was stopped before it wrote it): "
                       "reading the records up to the end of the file"))
            return pd_fail(r, "out of memory");
    } else if (dsize > fsize - doff) {
        if (pd_warn(r,
                    "the file is shorter than its header says (%llu of %llu data bytes): "
                    "reading the complete records",
                    (unsigned long long)(fsize - doff), (unsigned long long)dsize))
            return pd_fail(r, "out of memory");
        dsize = fsize - doff;
    }
    r->info.data_size = dsize;
    if (!r->info.unfinished && read_features(r, fd, fsize, h + 72))
        return -1;
    if (lseek(fd, (off_t)doff, SEEK_SET) < 0)
        return pd_fail(r, "cannot seek: %s", strerror(errno));
    r->src.pos = doff;
    r->src.end = doff + dsize;
    r->src.start = r->src.len = 0;
    return 0;
}

bool pd_is_perfdata(const void *head, size_t len)
{
    if (len < 8)
        return false;
    uint64_t m = pd_u64(head);
    return m == PD_MAGIC || m == __builtin_bswap64(PD_MAGIC);
}

pd_reader *pd_open(int fd, const char *name, char *err, size_t errlen)
{
    return pd_open_prefix(fd, name, NULL, 0, err, errlen);
}

pd_reader *pd_open_prefix(int fd, const char *name, const void *head, size_t nhead, char *err,
                          size_t errlen)
{
    pd_reader *r = calloc(1, sizeof *r);
    if (r) {
        r->src.pool = &r->pool;
        if (nhead > PD_BLOCK || (nhead && !(r->src.blk = pd_block_get(&r->pool)))) {
            pd_pool_free(&r->pool);
            free(r);
            r = NULL;
        } else if (nhead) {
            memcpy(r->src.blk->data, head, nhead);
            r->src.len = nhead;
        }
    }
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    r->src.fd = fd;
    r->src.end = UINT64_MAX;
    r->owned_fd = -1;
    r->id_pos = r->is_pos = -1;
    const unsigned char *h = pd_src_peek(&r->src, PIPE_HEADER_SIZE);
    int rc = 0;
    if (!h) {
        rc = pd_fail(r, "%s",
                     r->src.failed ? strerror(r->src.err) : "too short for a perf.data file");
    } else if (pd_u64(h) == __builtin_bswap64(PD_MAGIC)) {
        rc = pd_fail(r, "written on a machine of the other byte order (big-endian): "
                        "perfgo reads little-endian perf.data only; run perf script there");
    } else if (pd_u64(h) != PD_MAGIC) {
        rc =
            pd_fail(r, memcmp(h, "PERFFILE", 8) == 0 ? "an old perf.data (version 1): not supported"
                                                     : "not a perf.data file (no PERFILE2 magic)");
    } else if (pd_u64(h + 8) == PIPE_HEADER_SIZE) {
        r->info.pipe = true;
        pd_src_skip(&r->src, PIPE_HEADER_SIZE);
    } else if (pd_u64(h + 8) < FILE_HEADER_SIZE || pd_u64(h + 8) > 4096) {
        rc = pd_fail(r, "corrupt header: size %llu", (unsigned long long)pd_u64(h + 8));
    } else if (!(h = pd_src_peek(&r->src, FILE_HEADER_SIZE))) {
        rc = pd_fail(r, "the file header is cut off");
    } else {
        unsigned char hdr[FILE_HEADER_SIZE];
        memcpy(hdr, h, sizeof hdr);
        if (lseek(fd, 0, SEEK_CUR) < 0) { /* a pipe: copy it to a file first */
            int t = spool(r, fd, r->src.blk->data + r->src.start, r->src.len);
            if (t < 0)
                rc = -1;
            else
                r->src.fd = r->owned_fd = t;
        }
        if (!rc)
            rc = open_file_mode(r, r->src.fd, hdr);
    }
    if (rc) {
        snprintf(err, errlen, "%s", r->error);
        pd_close(r);
        return NULL;
    }
    return r;
}

void pd_close(pd_reader *r)
{
    if (!r)
        return;
    if (r->owned_fd >= 0)
        close(r->owned_fd);
    free(r->events);
    free(r->idmap.ids);
    free(r->idmap.events);
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    free(r->owned);
    free(r->cmdline);
    free(r->bids);
    pd_queue_free(&r->q, &r->pool);
    pd_inflate_free(r->z);
    pd_pool_free(&r->pool);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

const pd_info *pd_get_info(const pd_reader *r)
{
    return &r->info;
}
const char *pd_error(const pd_reader *r)
{
    return r->error;
}
size_t pd_warning_count(const pd_reader *r)
{
    return r->nwarnings;
}
const char *pd_warning(const pd_reader *r, size_t i)
{
    return i < r->nwarnings ? r->warnings[i] : NULL;
}
const pd_counts *pd_get_counts(const pd_reader *r)
{
    return &r->counts;
}
