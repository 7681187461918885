/* Internal structures of the perf script parser. */
#ifndef PERFGO_PS_INTERNAL_H
#define PERFGO_PS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "perfscript.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- util.c: hashing, arena, growable arrays, string interning ---- */

static inline uint64_t ps_hash_mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

static inline uint64_t ps_load64(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* Fast hash of a byte string: two independent multiply lanes, 16 bytes a
 * step. Strings over 48 bytes are hashed on their first 32 and last 16
 * bytes and their length (lookups compare the whole string anyway). */
static inline uint64_t ps_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *s = data;
    uint64_t a = seed ^ (len * 0x9e3779b97f4a7c15ULL), b = ~seed;
    if (len > 48) {
        a = (a ^ ps_load64(s)) * 0xff51afd7ed558ccdULL;
        b = (b ^ ps_load64(s + 8)) * 0xc4ceb9fe1a85ec53ULL;
        a = (a ^ ps_load64(s + 16)) * 0xff51afd7ed558ccdULL;
        b = (b ^ ps_load64(s + 24)) * 0xc4ceb9fe1a85ec53ULL;
        a = (a ^ ps_load64(s + len - 16)) * 0xff51afd7ed558ccdULL;
        b = (b ^ ps_load64(s + len - 8)) * 0xc4ceb9fe1a85ec53ULL;
        return ps_hash_mix(a ^ (b >> 29) ^ (b << 35));
    }
    while (len >= 16) {
        a = (a ^ ps_load64(s)) * 0xff51afd7ed558ccdULL;
        b = (b ^ ps_load64(s + 8)) * 0xc4ceb9fe1a85ec53ULL;
        s += 16;
        len -= 16;
    }
    if (len >= 8) {
        a = (a ^ ps_load64(s)) * 0xff51afd7ed558ccdULL;
        s += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, s, len);
        b = (b ^ w) * 0xc4ceb9fe1a85ec53ULL;
    }
    return ps_hash_mix(a ^ (b >> 29) ^ (b << 35));
}

/* Hash of all the bytes (for keys whose differences may be anywhere, such
 * as arrays of frame ids). */
static inline uint64_t ps_hash_all(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *s = data;
    uint64_t a = seed ^ (len * 0x9e3779b97f4a7c15ULL), b = ~seed;
    while (len >= 16) {
        a = (a ^ ps_load64(s)) * 0xff51afd7ed558ccdULL;
        b = (b ^ ps_load64(s + 8)) * 0xc4ceb9fe1a85ec53ULL;
        s += 16;
        len -= 16;
    }
    return ps_hash(s, len, ps_hash_mix(a ^ (b >> 29) ^ (b << 35)));
}

/* memcmp(a, b, n) == 0, inlined: 16 bytes a step (the last step overlaps
 * the one before), 8 bytes a step without SSE2. */
static inline bool ps_eq(const char *a, const char *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    if (n < 8)
        return memcmp(a, b, n) == 0;
#if defined(__SSE2__)
    if (n >= 16) {
        __m128i d = _mm_setzero_si128();
        size_t i = 0;
        for (; i + 16 <= n; i += 16)
            d = _mm_or_si128(d, _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + i)),
                                              _mm_loadu_si128((const __m128i *)(y + i))));
        d = _mm_or_si128(d, _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + n - 16)),
                                          _mm_loadu_si128((const __m128i *)(y + n - 16))));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
    }
    return (ps_load64(x) ^ ps_load64(y)) == 0 && (ps_load64(x + n - 8) ^ ps_load64(y + n - 8)) == 0;
#else
    uint64_t d = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        d |= ps_load64(x + i) ^ ps_load64(y + i);
    d |= ps_load64(x + n - 8) ^ ps_load64(y + n - 8);
    return d == 0;
#endif
}

/* An arena of immutable bytes (copies of distinct lines). */
typedef struct ps_arena_block ps_arena_block;
typedef struct ps_arena {
    ps_arena_block *head;
    size_t used, size;
} ps_arena;

void ps_arena_free(ps_arena *a);
/* Copies len bytes (plus a NUL) into the arena; NULL when out of memory. */
char *ps_arena_dup(ps_arena *a, const char *s, size_t len);

/* Growable array of fixed-size elements. */
typedef struct ps_vec {
    void *data;
    size_t len, cap, elem;
} ps_vec;

void ps_vec_init(ps_vec *v, size_t elem);
void ps_vec_free(ps_vec *v);
/* Ensures room for n more elements; false when out of memory. */
bool ps_vec_reserve(ps_vec *v, size_t n);
/* Appends one element (copied from elem); NULL when out of memory. */
void *ps_vec_push(ps_vec *v, const void *elem);
#define PS_VEC_AT(v, type, i) (((type *)(v)->data)[i])

/* The parser's one string-keyed table: a set of byte strings with 1-based
 * ids, copied into an arena (events, comms, srclines, the builder's names
 * and DSOs, and every distinct frame line, which is the hot one). A slot
 * holds everything a lookup compares, so a string met before costs one
 * cache line and a comparison; the stream prefetches a line's slot while
 * the line before is read. (core/profile has a generic index of its own;
 * the parser does not depend on core/profile.) */
typedef struct ps_strslot {
    uint64_t hash;
    const char *ptr;
    uint32_t len;
    uint32_t id; /* 0 = empty */
} ps_strslot;

typedef struct ps_strtab {
    ps_vec strs;       /* ps_str, index id-1 */
    ps_strslot *slots; /* open addressing, at most half full */
    size_t nslots;
    ps_arena *arena;
} ps_strtab;

void ps_strtab_init(ps_strtab *t, ps_arena *arena);
void ps_strtab_free(ps_strtab *t);
/* The id of s, adding it when new; 0 when out of memory. */
uint32_t ps_strtab_intern(ps_strtab *t, const char *s, size_t len);
/* The id of s, or 0 when absent. */
uint32_t ps_strtab_find(const ps_strtab *t, const char *s, size_t len);

/* With a hash of the caller's (the frame lines' own seed): */
/* The id of s (hash h), or 0 with *slot where it would go. The table must
 * have a slot (ps_strtab_slot sees to it). */
static inline uint32_t ps_strtab_lookup(const ps_strtab *t, const char *s, size_t n, uint64_t h,
                                        size_t *slot)
{
    size_t mask = t->nslots - 1;
    size_t i = (size_t)h & mask;
    const ps_strslot *slots = t->slots;
    for (;;) {
        const ps_strslot *sl = &slots[i];
        if (sl->id == 0) {
            *slot = i;
            return 0;
        }
        if (sl->hash == h && sl->len == n && ps_eq(sl->ptr, s, n))
            return sl->id;
        i = (i + 1) & mask;
    }
}
/* Doubles the slots; false when out of memory. */
bool ps_strtab_grow(ps_strtab *t);
/* ps_strtab_lookup after growing the table when one more string would fill
 * it past half; UINT32_MAX when out of memory. */
static inline uint32_t ps_strtab_slot(ps_strtab *t, const char *s, size_t n, uint64_t h,
                                      size_t *slot)
{
    if ((t->strs.len + 1) * 2 > t->nslots && !ps_strtab_grow(t))
        return UINT32_MAX;
    return ps_strtab_lookup(t, s, n, h, slot);
}
/* Adds s (hash h) at the slot ps_strtab_slot gave, as id count + 1: its
 * copy in the arena; NULL when out of memory or too long. */
const char *ps_strtab_add(ps_strtab *t, const char *s, size_t n, uint64_t h, size_t slot);
static inline ps_str ps_strtab_get(const ps_strtab *t, uint32_t id)
{
    if (id == 0 || id > t->strs.len)
        return (ps_str){"", 0};
    return PS_VEC_AT(&t->strs, ps_str, id - 1);
}
static inline size_t ps_strtab_count(const ps_strtab *t)
{
    return t->strs.len;
}

/* The parser's one integer-keyed table: int64 -> nonzero uint64 (0 = absent),
 * open addressing, at most half full (pid -> comm, tid -> pid, and the
 * builder's tallies by frame id). */
typedef struct ps_imap {
    int64_t *keys;
    uint64_t *vals; /* 0 = empty slot */
    size_t n, cap;
} ps_imap;

/* Sets key to val (not 0); false when out of memory. */
bool ps_imap_put(ps_imap *m, int64_t key, uint64_t val);
/* The value of key, 0 when absent. */
static inline uint64_t ps_imap_get(const ps_imap *m, int64_t key)
{
    if (!m->cap)
        return 0;
    size_t j = (size_t)ps_hash_mix((uint64_t)key) & (m->cap - 1);
    while (m->vals[j]) {
        if (m->keys[j] == key)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}
void ps_imap_free(ps_imap *m);

/* ---- character classes ---- */

static inline bool ps_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}
static inline bool ps_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static inline bool ps_xdigit(unsigned char c)
{
    return ps_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool ps_all_xdigits(const char *s, size_t len);
bool ps_all_digits(const char *s, size_t len);

/* a + b, or UINT64_MAX when that does not fit: counts never wrap. */
static inline uint64_t ps_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
/* Parses hex digits (no prefix), saturating; false if none or a non-hex. */
bool ps_parse_hex(const char *s, size_t len, uint64_t *out);
bool ps_parse_u64(const char *s, size_t len, uint64_t *out);

/* ---- header.c: sample headers and side-band lines (README §3) ---- */

/* PS_LINE_BAD_HEADER: shaped like a header, but an id, `[cpu]` or period
 * is negative or out of range (README §3.5): never a sample. */
enum ps_header_kind { PS_LINE_OTHER, PS_LINE_HEADER, PS_LINE_SIDEBAND, PS_LINE_BAD_HEADER };
enum ps_header_rule { PS_RULE_A = 1, PS_RULE_B = 2, PS_RULE_C = 4 };

typedef struct ps_header {
    int kind;
    int rule;
    bool id_before_time; /* rule A: an id precedes the timestamp */
    ps_str comm;
    bool has_pid, has_tid;
    int64_t pid, tid;
    bool has_cpu;
    int32_t cpu;
    bool has_time;
    uint64_t time_ns;
    size_t time_pos, time_end; /* rule A: the timestamp token, end at its colon */
    bool has_period;
    uint64_t period;     /* at most INT64_MAX */
    bool period_clamped; /* the printed period was at or beyond 2^63 */
    bool has_event;
    ps_str event;
    ps_str tail;        /* text after the event (trimmed) */
    bool tail_is_frame; /* the tail starts with a hex token: one-line sample */
    ps_str record;      /* side-band: the text from PERF_RECORD_ on */
} ps_header;

/* The timestamp `digits.digits:` at the start of s: its length, the colon
 * included, and *ns its nanoseconds (saturating); 0 when s does not start
 * with one. */
size_t ps_scan_timestamp(const char *s, size_t len, uint64_t *ns);
/* Classifies a line (no newline) under the rules allowed (PS_RULE_* mask). */
void ps_parse_header(const char *line, size_t len, int rules, ps_header *h);
/* Parses `PERF_RECORD_MMAP[2] pid/tid: [start(len) @ pgoff ...]: prot path`;
 * false if the record is of another kind or malformed. */
bool ps_parse_mmap(const ps_str *record, ps_mmap *m);
/* Parses COMM records: `PERF_RECORD_COMM[ exec]: name:pid/tid`. */
bool ps_parse_comm_record(const ps_str *record, ps_str *name, int64_t *pid, int64_t *tid,
                          bool *exec);
/* Parses `PERF_RECORD_FORK(pid:tid):(ppid:ptid)`. */
bool ps_parse_fork(const ps_str *record, int64_t *pid, int64_t *ppid, int64_t *tid);

/* ---- frame.c: frame lines (README §4.1) ---- */

/* Parses a frame line; false if it is not one. Strings point into line. */
bool ps_parse_frame(const char *line, size_t len, ps_frame *f);

/* ---- the parser ---- */

typedef struct ps_stack_entry {
    uint64_t hash;
    uint32_t comm, event;
    int64_t pid, tid;
    int32_t cpu;
    bool pid_inferred;
    bool has_src; /* some frame has a srcline */
    uint32_t nframes;
    size_t frames_off; /* into stacks.ids: frames, then srclines if has_src */
    uint64_t count, weight, period_samples;
} ps_stack_entry;

/* A slot of the stack table: enough to prefetch a stack and its frame ids
 * before comparing them. */
typedef struct ps_sslot {
    uint32_t hash; /* the low bits of the stack's hash */
    uint32_t idx;  /* index + 1 into stacks; 0 = empty */
    size_t frames_off;
} ps_sslot;

/* A sample waiting for its merge. */
typedef struct ps_stack_pending {
    ps_stack_entry key;
    ps_vec frames, src;
    uint64_t weight;
    bool has_period;
} ps_stack_pending;

enum ps_state { PS_START, PS_IN_SAMPLE, PS_AFTER_ONELINE, PS_SKIP };

/* succ[] value: the callchain ended after this frame (a blank line). */
#define PS_SUCC_END UINT32_MAX

/* What followed a frame: the last time (next) and the time before, when
 * that was something else (alt); 0 = not known. */
typedef struct ps_succ {
    uint32_t next, alt;
} ps_succ;

/* The last sample header parsed in full, kept as a template: a header that
 * differs from it only in its timestamp is not parsed again. */
#define PS_TMPL_MAX 256
#define PS_TEMPLATES 4
typedef struct ps_htmpl {
    bool valid;
    size_t len;    /* of line */
    size_t ts, te; /* the timestamp token: [ts, te), te at its colon */
    size_t dot;    /* its decimal point */
    ps_header h;   /* strings point into line */
    char line[PS_TMPL_MAX];
} ps_htmpl;

/* Keeps header h of line l (parsed in full) as the template, when it can
 * be one (rule A, with a timestamp). */
void ps_keep_template(ps_htmpl *t, const char *l, size_t n, const ps_header *h);
/* A line that equals the template but for its timestamp: out = the
 * template's fields with this line's time, exactly what ps_parse_header
 * finds (README §3.1: the bytes before the timestamp token and
 * from its colon on are the template's). false when the line differs
 * elsewhere (then parse it in full). */
bool ps_header_from_template(const ps_htmpl *t, const char *l, size_t n, ps_header *out);
/* The test of ps_header_from_template alone: when line l equals the
 * template but for its timestamp, the timestamp's nanoseconds in *ns and
 * the position of its colon in l (then the header's other fields are the
 * template's); else 0. */
size_t ps_template_time(const ps_htmpl *t, const char *l, size_t n, uint64_t *ns);

/* The parser's state, grouped by concern: the line splitter (stream.c),
 * the frame-line table (frametab.c) and its predictions (predict.c), the
 * header templates and the sample being assembled (sample.c), the merged
 * stacks (stacks.c) and the side-band tables (tables.c). */

/* A partial line carried from one chunk to the next. */
typedef struct ps_carry {
    char *buf;
    size_t len, cap;
    bool overflow; /* the line is too long: discard until newline */
} ps_carry;

/* Every distinct callchain line, keyed by its bytes: its text and its
 * parsed frame under the same id. */
typedef struct ps_frametab {
    ps_strtab text; /* the lines (hashed with the stream's own seed) */
    ps_vec list;    /* ps_frame, index id-1 */
} ps_frametab;

/* Callchains repeat: succ[id] holds the two frames (or PS_SUCC_END) that
 * last followed frame id, and a line that has exactly the text of one of
 * them is taken as that frame without being looked up. */
typedef struct ps_chain {
    ps_vec succ;        /* ps_succ, index id-1 */
    uint32_t pred;      /* the predicted next line (0 = none) */
    uint32_t last_link; /* the callchain frame before this line (0 = none) */
} ps_chain;

/* Interned strings of the headers and of srclines. */
typedef struct ps_names {
    ps_strtab events, comms, srclines;
    uint32_t first_event;
} ps_names;

/* The headers of the last threads seen, kept as templates (several:
 * samples of a few threads interleave), with their comm and event ids. */
typedef struct ps_headers {
    ps_htmpl tmpl[PS_TEMPLATES];
    uint32_t comm[PS_TEMPLATES], event[PS_TEMPLATES];
    unsigned last, next;            /* the last one that matched; the next to replace */
    uint32_t last_comm, last_event; /* ids of the previous header's strings */
} ps_headers;

/* The sample being read. */
typedef struct ps_cursample {
    bool active;
    ps_header h; /* its strings are dropped once the sample starts */
    uint32_t comm, event;
    ps_vec frames; /* uint32_t frame ids */
    ps_vec src;    /* uint32_t srcline ids */
    bool has_src;
    bool last_was_frame;
} ps_cursample;

/* The merged stacks, and the samples whose merge is pending. */
typedef struct ps_stacktab {
    ps_stack_pending pend[2]; /* pend[pend_head] is the older when there are two */
    size_t npend, pend_head;
    ps_vec list;     /* ps_stack_entry */
    ps_vec ids;      /* uint32_t: frame ids, then srcline ids if has_src */
    ps_vec no_src;   /* uint32_t zeros: the srclines of stacks without */
    ps_sslot *slots; /* open addressing */
    size_t nslots;
} ps_stacktab;

/* Process comms and thread -> process, from headers and side-band records. */
typedef struct ps_threads {
    ps_imap comm; /* pid -> comm id */
    ps_imap pid;  /* tid -> pid + 1 */
} ps_threads;

/* Warnings, and which of the once-per-input ones were given. */
typedef struct ps_warnings {
    ps_vec list; /* char * */
    bool headerless, unrecognized;
    bool period;     /* a period was saturated (README §3.5) */
    bool bad_header; /* a malformed header was skipped (README §3.5) */
} ps_warnings;

struct ps_parser {
    ps_options opts;
    ps_arena arena;
    int state;
    bool finished;
    bool failed;
    char error[512];

    ps_carry carry;
    ps_frametab frames;
    ps_chain chain;
    ps_names names;
    ps_headers hdr;
    ps_cursample cur;
    ps_stacktab stacks;
    ps_vec mmaps;  /* ps_mmap */
    ps_vec evinfo; /* ps_event_info, index id-1 */
    ps_threads threads;
    ps_warnings warn;
    ps_stats stats;
};

/* ---- frametab.c: the frame-line intern table ---- */

/* The id of frame line l (hash h), or 0 with *slot where it would go. The
 * table must have room (ps_frame_find sees to it). */
static inline uint32_t ps_frame_lookup(const ps_parser *p, const char *l, size_t n, uint64_t h,
                                       size_t *slot)
{
    return ps_strtab_lookup(&p->frames.text, l, n, h, slot);
}

/* ps_frame_lookup after growing the table when it must; UINT32_MAX when
 * out of memory. */
static inline uint32_t ps_frame_find(ps_parser *p, const char *l, size_t n, uint64_t h,
                                     size_t *slot)
{
    return ps_strtab_slot(&p->frames.text, l, n, h, slot);
}
/* Parses l and adds it at the slot ps_frame_find gave: its new id; 0 when
 * it is not a frame line; UINT32_MAX when out of memory. */
uint32_t ps_frame_add(ps_parser *p, const char *l, size_t n, uint64_t h, size_t slot,
                      bool header_ip);

/* tables.c: pid -> comm and tid -> pid maps. PS_OK or PS_ERR_NOMEM. */
int ps_set_process_comm(ps_parser *p, int64_t pid, uint32_t comm);
int ps_set_thread_pid(ps_parser *p, int64_t tid, int64_t pid);

int ps_warn(ps_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sample.c, also for direct input (direct.c): a sample begun from a header
 * whose comm and event are interned (0 = none), its frames pushed onto
 * cur.frames, then ended; the hash a frame line is interned under. */
int ps_sample_begin(ps_parser *p, const ps_header *h, uint32_t comm, uint32_t event);
int ps_sample_end(ps_parser *p);
uint64_t ps_frame_hash(const char *l, size_t n, bool header_ip);

#endif
