/* Feature sections (file mode) and HEADER_FEATURE records (pipe mode):
 * hostname, os release, perf version, arch, cpu description, nr cpus,
 * cmdline, event descriptions (names), build ids, clock data. Others are
 * skipped. A section that does not hold what it claims is ignored, as perf
 * ignores it, with a warning. */
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

enum {
    FEAT_BUILD_ID = 2,
    FEAT_HOSTNAME = 3,
    FEAT_OSRELEASE = 4,
    FEAT_VERSION = 5,
    FEAT_ARCH = 6,
    FEAT_NRCPUS = 7,
    FEAT_CPUDESC = 8,
    FEAT_CMDLINE = 11,
    FEAT_EVENT_DESC = 12,
    FEAT_CLOCK_DATA = 29,
};

static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* perf's string: u32 length (with padding), then the bytes (NUL-padded).
 * The copy, with *pos advanced; NULL (and *bad) when it does not fit. */
static const char *str_at(pd_reader *r, const unsigned char *p, size_t n, size_t *pos, bool *bad)
{
    size_t i = *pos;
    if (i > n || n - i < 4) {
        *bad = true;
        return NULL;
    }
    size_t len = u32(p + i);
    i += 4;
    if (len > n - i) {
        *bad = true;
        return NULL;
    }
    size_t k = strnlen((const char *)p + i, len);
    const char *s = pd_strdup(r, (const char *)p + i, k);
    if (!s)
        *bad = true;
    *pos = i + len;
    return s;
}

static int event_desc(pd_reader *r, const unsigned char *p, size_t n, bool *bad)
{
    if (n < 8) {
        *bad = true;
        return 0;
    }
    size_t nev = u32(p), asz = u32(p + 4), i = 8;
    if (asz < 8 || asz > 4096 || nev > PD_MAX_EVENTS) {
        *bad = true;
        return 0;
    }
    for (size_t e = 0; e < nev; e++) {
        if (asz > n - i || n - i - asz < 4) {
            *bad = true;
            return 0;
        }
        i += asz;
        size_t nids = u32(p + i);
        i += 4;
        const char *name = str_at(r, p, n, &i, bad);
        if (!name)
            return 0;
        if (nids > (n - i) / 8) {
            *bad = true;
            return 0;
        }
        /* the event with these ids; by position when it has none */
        size_t idx = nids ? pd_event_of_id(r, pd_u64(p + i)) : e;
        if (idx == SIZE_MAX && e < r->nevents)
            idx = e;
        if (idx < r->nevents && *name)
            r->events[idx].name = name;
        i += nids * 8;
    }
    return 0;
}

static int cmdline(pd_reader *r, const unsigned char *p, size_t n, bool *bad)
{
    if (n < 4) {
        *bad = true;
        return 0;
    }
    size_t nr = u32(p), i = 4;
    if (nr > n / 4) {
        *bad = true;
        return 0;
    }
    const char **v = calloc(nr ? nr : 1, sizeof *v);
    if (!v)
        return pd_fail(r, "out of memory");
    size_t k = 0;
    for (; k < nr; k++)
        if (!(v[k] = str_at(r, p, n, &i, bad)))
            break;
    free(r->cmdline);
    r->cmdline = v;
    r->info.cmdline = v;
    r->info.ncmdline = k;
    return 0;
}

int pd_build_id_record(pd_reader *r, const unsigned char *p, size_t n)
{
    /* header (8), pid (4), build id (20) + size (1) + reserved (3), path */
    if (n < 8 + 4 + 24 + 1)
        return 0;
    uint16_t misc = (uint16_t)(p[4] | p[5] << 8);
    const char *path = memchr(p + 36, '\0', n - 36) ? (const char *)p + 36 : NULL;
    if (!path)
        return 0;
    size_t bl = (misc & (1u << 15)) ? p[32] : 20; /* PERF_RECORD_MISC_BUILD_ID_SIZE */
    if (bl > 20)
        bl = 20;
    if (r->nbids == r->bids_cap) {
        size_t cap = r->bids_cap ? r->bids_cap * 2 : 16;
        pd_build_id *b = realloc(r->bids, cap * sizeof *b);
        if (!b)
            return pd_fail(r, "out of memory");
        r->bids = b;
        r->bids_cap = cap;
    }
    pd_build_id *b = &r->bids[r->nbids];
    b->pid = (int32_t)u32(p + 8);
    b->kernel = (misc & PD_MISC_CPUMODE_MASK) == PD_MISC_KERNEL;
    for (size_t i = 0; i < bl; i++) {
        static const char hex[] = "0123456789abcdef";
        b->hex[2 * i] = hex[p[12 + i] >> 4];
        b->hex[2 * i + 1] = hex[p[12 + i] & 15];
    }
    b->hex[2 * bl] = '\0';
    if (!(b->path = pd_strdup(r, path, strlen(path))))
        return pd_fail(r, "out of memory");
    r->nbids++;
    r->info.build_ids = r->bids;
    r->info.nbuild_ids = r->nbids;
    return 0;
}

static int build_ids(pd_reader *r, const unsigned char *p, size_t n, bool *bad)
{
    size_t i = 0;
    while (n - i >= 8) {
        size_t sz = (size_t)p[i + 6] | (size_t)p[i + 7] << 8;
        if (sz < 8 || sz > n - i) {
            *bad = true;
            return 0;
        }
        if (pd_build_id_record(r, p + i, sz))
            return -1;
        i += sz;
    }
    return 0;
}

int pd_feature(pd_reader *r, unsigned feat, const unsigned char *p, size_t n)
{
    bool bad = false;
    size_t i = 0;
    int rc = 0;
    switch (feat) {
    case FEAT_HOSTNAME:
        r->info.hostname = str_at(r, p, n, &i, &bad);
        break;
    case FEAT_OSRELEASE:
        r->info.os_release = str_at(r, p, n, &i, &bad);
        break;
    case FEAT_VERSION:
        r->info.version = str_at(r, p, n, &i, &bad);
        break;
    case FEAT_ARCH:
        r->info.arch = str_at(r, p, n, &i, &bad);
        break;
    case FEAT_CPUDESC:
        r->info.cpu_desc = str_at(r, p, n, &i, &bad);
        break;
    case FEAT_NRCPUS:
        if (n >= 8) {
            r->info.nr_cpus_avail = u32(p);
            r->info.nr_cpus_online = u32(p + 4);
        } else {
            bad = true;
        }
        break;
    case FEAT_CMDLINE:
        rc = cmdline(r, p, n, &bad);
        break;
    case FEAT_EVENT_DESC:
        rc = event_desc(r, p, n, &bad);
        break;
    case FEAT_BUILD_ID:
        rc = build_ids(r, p, n, &bad);
        break;
    case FEAT_CLOCK_DATA:
        if (n >= 24) {
            r->info.has_clock_data = true;
            r->info.clockid = u32(p + 4);
            r->info.clock_wall_ns = pd_u64(p + 8);
            r->info.clock_ref_ns = pd_u64(p + 16);
        }
        break;
    default:
        break;
    }
    if (!rc && bad && pd_warn(r, "feature section %u is corrupt and was skipped", feat))
        return pd_fail(r, "out of memory");
    return rc;
}
