/* Record bodies: samples in every sample_type layout, the sample_id
 * trailer of other records, MMAP/MMAP2/COMM/FORK/EXIT/LOST/THROTTLE.
 * Every field is read only after checking that the body holds it. */
#include <string.h>

#include "pd_internal.h"

static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pd_update_id_pos(pd_reader *r)
{
    if (!r->nevents)
        return;
    uint64_t st = r->events[0].sample_type;
    if (st & PD_S_IDENTIFIER) {
        r->id_pos = 0;
        r->is_pos = 1;
    } else if (st & PD_S_ID) {
        r->id_pos = !!(st & PD_S_IP) + !!(st & PD_S_TID) + !!(st & PD_S_TIME) + !!(st & PD_S_ADDR);
        r->is_pos = 1 + !!(st & PD_S_STREAM_ID) + !!(st & PD_S_CPU);
    } else {
        r->id_pos = r->is_pos = -1;
    }
}

/* The event of a sample body, or SIZE_MAX. */
static size_t sample_event(const pd_reader *r, const unsigned char *p, size_t n)
{
    if (r->nevents == 1)
        return 0;
    if (r->id_pos < 0 || (size_t)r->id_pos >= n / 8)
        return r->nevents && r->idmap.n == 0 ? 0 : SIZE_MAX;
    return pd_event_of_id(r, pd_u64(p + 8 * (size_t)r->id_pos));
}

/* The event whose layout a non-sample record's trailer has. */
static const pd_event *trailer_event(const pd_reader *r, const unsigned char *p, size_t n)
{
    if (!r->nevents)
        return NULL;
    if (r->nevents > 1 && r->is_pos > 0 && (size_t)r->is_pos <= n / 8) {
        size_t e = pd_event_of_id(r, pd_u64(p + n - 8 * (size_t)r->is_pos));
        if (e != SIZE_MAX)
            return &r->events[e];
    }
    return &r->events[0];
}

/* Parses the sample_id trailer; false when the record has none. */
static bool trailer(const pd_reader *r, const unsigned char *p, size_t n, pd_record *out)
{
    const pd_event *e = trailer_event(r, p, n);
    if (!e || !e->sample_id_all)
        return false;
    uint64_t st = e->sample_type;
    size_t k = !!(st & PD_S_TID) + !!(st & PD_S_TIME) + !!(st & PD_S_ID) + !!(st & PD_S_STREAM_ID) +
               !!(st & PD_S_CPU) + !!(st & PD_S_IDENTIFIER);
    if (k == 0 || k * 8 > n)
        return false;
    const unsigned char *q = p + n - 8 * k;
    if (st & PD_S_TID) {
        out->id_pid = u32(q);
        out->id_tid = u32(q + 4);
        out->has_id = true;
        q += 8;
    }
    if (st & PD_S_TIME) {
        out->time = pd_u64(q);
        out->has_time = true;
        q += 8;
    }
    q += 8 * (!!(st & PD_S_ID) + !!(st & PD_S_STREAM_ID));
    if (st & PD_S_CPU)
        out->id_cpu = u32(q);
    return true;
}

bool pd_record_time(const pd_reader *r, uint32_t type, const unsigned char *p, size_t n,
                    uint64_t *time)
{
    if (type >= PD_HEADER_ATTR)
        return false;
    if (type == PD_SAMPLE) {
        size_t e = sample_event(r, p, n);
        if (e == SIZE_MAX)
            return false;
        uint64_t st = r->events[e].sample_type;
        if (!(st & PD_S_TIME))
            return false;
        size_t off = 8 * (!!(st & PD_S_IDENTIFIER) + !!(st & PD_S_IP) + !!(st & PD_S_TID));
        if (off + 8 > n)
            return false;
        *time = pd_u64(p + off);
        return true;
    }
    pd_record tmp;
    tmp.has_time = false;
    if (!trailer(r, p, n, &tmp) || !tmp.has_time)
        return false;
    *time = tmp.time;
    return true;
}

#define NEED(k)                                                                                    \
    do {                                                                                           \
        if ((k) > n - i)                                                                           \
            goto overrun;                                                                          \
    } while (0)
#define U64(dst)                                                                                   \
    do {                                                                                           \
        NEED(8);                                                                                   \
        (dst) = pd_u64(p + i);                                                                     \
        i += 8;                                                                                    \
    } while (0)

/* Skips a register dump: abi, then one u64 per register in mask. */
static bool skip_regs(const unsigned char *p, size_t n, size_t *ip, uint64_t mask)
{
    size_t i = *ip;
    if (8 > n - i)
        return false;
    uint64_t abi = pd_u64(p + i);
    i += 8;
    if (abi) {
        size_t k = 8 * (size_t)__builtin_popcountll(mask);
        if (k > n - i)
            return false;
        i += k;
    }
    *ip = i;
    return true;
}

static int parse_sample(pd_reader *r, const unsigned char *p, size_t n, pd_record *rec)
{
    size_t ev = sample_event(r, p, n);
    if (ev == SIZE_MAX) {
        r->counts.unknown_event++;
        return 0;
    }
    const pd_event *e = &r->events[ev];
    uint64_t st = e->sample_type, x;
    pd_sample *s = &rec->u.sample;
    memset(s, 0, sizeof *s);
    s->event = ev;
    size_t i = 0;
    if (st & PD_S_IDENTIFIER)
        U64(x);
    if (st & PD_S_IP)
        U64(s->ip);
    if (st & PD_S_TID) {
        NEED(8);
        s->pid = u32(p + i);
        s->tid = u32(p + i + 4);
        i += 8;
    }
    if (st & PD_S_TIME) {
        U64(s->time);
        rec->has_time = true;
        rec->time = s->time;
    }
    if (st & PD_S_ADDR)
        U64(s->addr);
    if (st & PD_S_ID)
        U64(s->id);
    if (st & PD_S_STREAM_ID)
        U64(s->stream_id);
    if (st & PD_S_CPU) {
        NEED(8);
        s->cpu = u32(p + i);
        i += 8;
    }
    if (st & PD_S_PERIOD)
        U64(s->period);
    if (st & PD_S_READ) {
        uint64_t rf = e->read_format;
        size_t per = 8 * (1 + !!(rf & 4) + !!(rf & 16)); /* value, id, lost */
        size_t times = 8 * (!!(rf & 1) + !!(rf & 2));
        if (rf & 8) { /* PERF_FORMAT_GROUP */
            uint64_t nr;
            U64(nr);
            NEED(times);
            i += times;
            if (nr > (n - i) / per)
                goto overrun;
            i += (size_t)nr * per;
        } else {
            NEED(per + times);
            i += per + times;
        }
    }
    if (st & PD_S_CALLCHAIN) {
        uint64_t nr;
        U64(nr);
        if (nr > (n - i) / 8)
            goto overrun;
        s->nchain = (size_t)nr;
        s->chain = p + i;
        i += (size_t)nr * 8;
    }
    if (st & PD_S_RAW) {
        NEED(4);
        uint32_t sz = u32(p + i);
        i += 4;
        NEED(sz);
        s->raw_size = sz;
        s->raw = p + i;
        i += sz;
    }
    if (st & PD_S_BRANCH_STACK) {
        uint64_t nr;
        U64(nr);
        if (e->branch_sample_type & (1u << 17)) /* PERF_SAMPLE_BRANCH_HW_INDEX */
            U64(x);
        if (nr > (n - i) / 24)
            goto overrun;
        s->nbranch = (size_t)nr;
        s->branch = p + i;
        i += (size_t)nr * 24;
    }
    if ((st & PD_S_REGS_USER) && !skip_regs(p, n, &i, e->sample_regs_user))
        goto overrun;
    if (st & PD_S_STACK_USER) {
        uint64_t sz;
        U64(sz);
        if (sz) {
            NEED(sz);
            i += (size_t)sz;
            U64(x); /* dyn_size */
        }
    }
    if (st & (PD_S_WEIGHT | PD_S_WEIGHT_STRUCT))
        U64(s->weight);
    if (st & PD_S_DATA_SRC)
        U64(s->data_src);
    if (st & PD_S_TRANSACTION)
        U64(s->transaction);
    if ((st & PD_S_REGS_INTR) && !skip_regs(p, n, &i, e->sample_regs_intr))
        goto overrun;
    if (st & PD_S_PHYS_ADDR)
        U64(s->phys_addr);
    if (st & PD_S_CGROUP)
        U64(x);
    if (st & PD_S_DATA_PAGE_SIZE)
        U64(x);
    if (st & PD_S_CODE_PAGE_SIZE)
        U64(x);
    if (st & PD_S_AUX) {
        uint64_t sz;
        U64(sz);
        NEED(sz);
        i += (size_t)sz;
    }
    (void)x;
    return 1;
overrun:
    return pd_fail(r, "corrupt sample at offset %llu: its fields overrun the record",
                   (unsigned long long)rec->offset);
}

/* The NUL-terminated string at p[i..n), or NULL when it is not terminated. */
static const char *cstr(const unsigned char *p, size_t n, size_t i)
{
    if (i >= n || !memchr(p + i, '\0', n - i))
        return NULL;
    return (const char *)p + i;
}

int pd_parse_record(pd_reader *r, uint32_t type, uint16_t misc, const unsigned char *p, size_t n,
                    pd_record *out)
{
    out->type = type;
    out->misc = misc;
    out->body = p;
    out->size = n;
    out->has_time = out->has_id = false;
    out->time = 0;
    out->id_pid = out->id_tid = out->id_cpu = 0;
    if (type == PD_SAMPLE)
        return parse_sample(r, p, n, out);
    if (type < PD_HEADER_ATTR)
        trailer(r, p, n, out);
    switch (type) {
    case PD_MMAP:
    case PD_MMAP2: {
        size_t fo = type == PD_MMAP ? 32 : 64;
        if (n < fo)
            goto short_record;
        memset(&out->u.mmap, 0, sizeof out->u.mmap);
        out->u.mmap.pid = u32(p);
        out->u.mmap.tid = u32(p + 4);
        out->u.mmap.start = pd_u64(p + 8);
        out->u.mmap.len = pd_u64(p + 16);
        out->u.mmap.pgoff = pd_u64(p + 24);
        if (type == PD_MMAP2) {
            if (misc & PD_MISC_MMAP_BUILD_ID) {
                size_t bl = p[32] > 20 ? 20 : p[32];
                out->u.mmap.build_id_len = bl;
                memcpy(out->u.mmap.build_id, p + 36, bl);
            } else {
                out->u.mmap.has_dev = true;
                out->u.mmap.maj = u32(p + 32);
                out->u.mmap.min = u32(p + 36);
                out->u.mmap.ino = pd_u64(p + 40);
                out->u.mmap.ino_generation = pd_u64(p + 48);
            }
            out->u.mmap.prot = u32(p + 56);
            out->u.mmap.flags = u32(p + 60);
        } else {
            out->u.mmap.prot = 4; /* PROT_EXEC: perf records executable maps */
        }
        if (!(out->u.mmap.filename = cstr(p, n, fo)))
            goto short_record;
        return 1;
    }
    case PD_COMM:
        if (n < 8)
            goto short_record;
        out->u.comm.pid = u32(p);
        out->u.comm.tid = u32(p + 4);
        out->u.comm.exec = (misc & PD_MISC_COMM_EXEC) != 0;
        if (!(out->u.comm.comm = cstr(p, n, 8)))
            goto short_record;
        return 1;
    case PD_FORK:
    case PD_EXIT:
        if (n < 24)
            goto short_record;
        out->u.task.pid = u32(p);
        out->u.task.ppid = u32(p + 4);
        out->u.task.tid = u32(p + 8);
        out->u.task.ptid = u32(p + 12);
        out->u.task.time = pd_u64(p + 16);
        return 1;
    case PD_LOST:
        if (n < 16)
            goto short_record;
        out->u.lost.id = pd_u64(p);
        out->u.lost.lost = pd_u64(p + 8);
        r->counts.lost += out->u.lost.lost;
        return 1;
    case PD_LOST_SAMPLES:
        if (n < 8)
            goto short_record;
        out->u.lost.id = 0;
        out->u.lost.lost = pd_u64(p);
        r->counts.lost_samples += out->u.lost.lost;
        return 1;
    case PD_THROTTLE:
    case PD_UNTHROTTLE:
        if (n < 24)
            goto short_record;
        out->u.throttle.time = pd_u64(p);
        out->u.throttle.id = pd_u64(p + 8);
        out->u.throttle.stream_id = pd_u64(p + 16);
        r->counts.throttles += type == PD_THROTTLE;
        return 1;
    default:
        return 1;
    }
short_record:
    return pd_fail(r, "corrupt record of type %u at offset %llu: %zu bytes are too few", type,
                   (unsigned long long)out->offset, n);
}
