/*
 * perfdata: a reader of perf.data (the format of `perf record`, specified
 * in the Linux tree's tools/perf/Documentation/perf.data-file-format.txt).
 *
 * File mode (a seekable file: header, attribute section with event ids,
 * data section, feature sections) and pipe mode (`perf record -o -`: a
 * stream of records, attributes and features as records) are both read
 * from a file descriptor, in bounded chunks: memory does not grow with the
 * number of records. COMPRESSED records (`perf record -z`) are inflated
 * with libzstd as they come.
 *
 * Records are returned in time order, the way perf orders them: records
 * are queued and sorted, and a FINISHED_ROUND record releases those no
 * later than the end of the round before it (records without a time are
 * returned as they come). The queue is bounded; past the bound its older
 * half is released.
 *
 * Every length in the input is checked against the bytes that hold it
 * before it is used. A record that does not fit its own size, or a sample
 * whose fields overrun it, is an error naming the offset; a file that ends
 * inside a record gives the complete records before it and a warning.
 *
 * Pure C, no Lua. One reader per thread.
 */
#ifndef PERFGO_PERFDATA_H
#define PERFGO_PERFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pd_reader pd_reader;

/* Record types (perf_event.h and perf's own user records). */
enum {
    PD_MMAP = 1,
    PD_LOST = 2,
    PD_COMM = 3,
    PD_EXIT = 4,
    PD_THROTTLE = 5,
    PD_UNTHROTTLE = 6,
    PD_FORK = 7,
    PD_READ = 8,
    PD_SAMPLE = 9,
    PD_MMAP2 = 10,
    PD_AUX = 11,
    PD_ITRACE_START = 12,
    PD_LOST_SAMPLES = 13,
    PD_SWITCH = 14,
    PD_SWITCH_CPU_WIDE = 15,
    PD_HEADER_ATTR = 64,
    PD_HEADER_EVENT_TYPE = 65,
    PD_HEADER_TRACING_DATA = 66,
    PD_HEADER_BUILD_ID = 67,
    PD_FINISHED_ROUND = 68,
    PD_ID_INDEX = 69,
    PD_AUXTRACE_INFO = 70,
    PD_AUXTRACE = 71,
    PD_HEADER_FEATURE = 80,
    PD_COMPRESSED = 81,
    PD_FINISHED_INIT = 82,
};

/* perf_event_attr.sample_type bits */
enum {
    PD_S_IP = 1 << 0,
    PD_S_TID = 1 << 1,
    PD_S_TIME = 1 << 2,
    PD_S_ADDR = 1 << 3,
    PD_S_READ = 1 << 4,
    PD_S_CALLCHAIN = 1 << 5,
    PD_S_ID = 1 << 6,
    PD_S_CPU = 1 << 7,
    PD_S_PERIOD = 1 << 8,
    PD_S_STREAM_ID = 1 << 9,
    PD_S_RAW = 1 << 10,
    PD_S_BRANCH_STACK = 1 << 11,
    PD_S_REGS_USER = 1 << 12,
    PD_S_STACK_USER = 1 << 13,
    PD_S_WEIGHT = 1 << 14,
    PD_S_DATA_SRC = 1 << 15,
    PD_S_IDENTIFIER = 1 << 16,
    PD_S_TRANSACTION = 1 << 17,
    PD_S_REGS_INTR = 1 << 18,
    PD_S_PHYS_ADDR = 1 << 19,
    PD_S_AUX = 1 << 20,
    PD_S_CGROUP = 1 << 21,
    PD_S_DATA_PAGE_SIZE = 1 << 22,
    PD_S_CODE_PAGE_SIZE = 1 << 23,
    PD_S_WEIGHT_STRUCT = 1 << 24,
};

/* Callchain context markers (values >= PD_CONTEXT_MAX are markers). */
#define PD_CONTEXT_HV ((uint64_t)-32)
#define PD_CONTEXT_KERNEL ((uint64_t)-128)
#define PD_CONTEXT_USER ((uint64_t)-512)
#define PD_CONTEXT_GUEST ((uint64_t)-2048)
#define PD_CONTEXT_GUEST_KERNEL ((uint64_t)-2176)
#define PD_CONTEXT_GUEST_USER ((uint64_t)-2560)
#define PD_CONTEXT_MAX ((uint64_t)-4095)

/* header.misc */
#define PD_MISC_CPUMODE_MASK 7u
#define PD_MISC_KERNEL 1u
#define PD_MISC_USER 2u
#define PD_MISC_COMM_EXEC (1u << 13)
#define PD_MISC_MMAP_BUILD_ID (1u << 14)

/* One event (perf_event_attr and what perf recorded about it). */
typedef struct pd_event {
    uint32_t type; /* PERF_TYPE_*: 0 hardware, 1 software, 2 tracepoint, ... */
    uint64_t config;
    uint64_t sample_period; /* or the frequency when freq */
    bool freq;
    bool sample_id_all;
    uint64_t sample_type, read_format, branch_sample_type;
    uint64_t sample_regs_user, sample_regs_intr;
    const char *name; /* from the event description, or made from type/config */
} pd_event;

/* What the header and the feature sections tell (NULL / 0 = not recorded). */
typedef struct pd_build_id {
    int32_t pid;  /* -1 for the kernel */
    bool kernel;  /* recorded with a kernel cpumode */
    char hex[41]; /* lowercase hex, up to 20 bytes */
    const char *path;
} pd_build_id;

typedef struct pd_info {
    bool pipe;       /* pipe mode */
    bool unfinished; /* file header never finished (data size 0) */
    uint64_t data_offset, data_size;
    const char *hostname, *os_release, *version, *arch, *cpu_desc;
    uint32_t nr_cpus_avail, nr_cpus_online;
    size_t ncmdline;
    const char *const *cmdline;
    size_t nevents;
    const pd_event *events;
    size_t nbuild_ids;
    const pd_build_id *build_ids;
    bool has_clock_data;
    uint32_t clockid;
    uint64_t clock_wall_ns, clock_ref_ns;
} pd_info;

/* A parsed sample (fields not in the event's sample_type are 0). */
typedef struct pd_sample {
    size_t event; /* index into pd_info.events */
    uint64_t ip;
    uint32_t pid, tid;
    uint64_t time, addr, id, stream_id;
    uint32_t cpu;
    uint64_t period;
    size_t nchain;
    const unsigned char *chain; /* nchain u64s (unaligned: read with pd_u64) */
    size_t raw_size;
    const unsigned char *raw;
    size_t nbranch;
    const unsigned char *branch; /* nbranch entries of 24 bytes: from, to, flags */
    uint64_t weight, data_src, transaction, phys_addr;
} pd_sample;

typedef struct pd_record {
    uint32_t type;
    uint16_t misc;
    uint64_t offset; /* where it was in the input (inside a COMPRESSED
                      * record: that record's offset) */
    bool has_time;
    uint64_t time;
    /* sample_id of non-sample records (when the event has sample_id_all) */
    bool has_id;
    uint32_t id_pid, id_tid, id_cpu;
    const unsigned char *body; /* the bytes after the 8-byte header */
    size_t size;               /* of body */
    union {
        pd_sample sample;
        struct { /* MMAP, MMAP2 */
            uint32_t pid, tid;
            uint64_t start, len, pgoff;
            bool has_dev;
            uint32_t maj, min;
            uint64_t ino, ino_generation;
            uint32_t prot, flags;
            size_t build_id_len; /* MMAP2 with the build-id flag */
            unsigned char build_id[20];
            const char *filename;
        } mmap;
        struct { /* COMM */
            uint32_t pid, tid;
            bool exec;
            const char *comm;
        } comm;
        struct { /* FORK, EXIT */
            uint32_t pid, ppid, tid, ptid;
            uint64_t time;
        } task;
        struct { /* LOST (id, lost), LOST_SAMPLES (lost) */
            uint64_t id, lost;
        } lost;
        struct { /* THROTTLE, UNTHROTTLE */
            uint64_t time, id, stream_id;
        } throttle;
    } u;
} pd_record;

/* Little-endian u64 at p. */
static inline uint64_t pd_u64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* Opens a reader on fd (not closed by the reader; name is for messages).
 * Reads the header, the attributes and, in file mode, the feature
 * sections. NULL with a message in err (not a perf.data file, the other
 * byte order, a corrupt header, out of memory). */
pd_reader *pd_open(int fd, const char *name, char *err, size_t errlen);
/* The same when the first nhead bytes of the input were already read from
 * fd (to look at its magic): they are taken from head. */
pd_reader *pd_open_prefix(int fd, const char *name, const void *head, size_t nhead, char *err,
                          size_t errlen);
void pd_close(pd_reader *r);

const pd_info *pd_get_info(const pd_reader *r);

/* The next record in time order: 1 with *out filled (its pointers valid
 * until the next call), 0 at the end, -1 on error (pd_error). A SAMPLE
 * whose event is unknown is counted and skipped. The attribute and
 * feature records of pipe mode update pd_get_info and are returned too. */
int pd_next(pd_reader *r, pd_record *out);
const char *pd_error(const pd_reader *r);

/* Warnings so far (each once): a truncated file, an unfinished header,
 * samples of unknown events. */
size_t pd_warning_count(const pd_reader *r);
const char *pd_warning(const pd_reader *r, size_t i);

typedef struct pd_counts {
    uint64_t records, samples, compressed, lost, lost_samples, throttles, unknown_event;
    uint64_t input_bytes, decompressed_bytes;
    bool aux; /* AUX tracing records were seen */
} pd_counts;
const pd_counts *pd_get_counts(const pd_reader *r);

/* The name perf gives an event of this type and config when the file does
 * not name it ("cpu-clock", "cycles", ...), into buf. */
const char *pd_event_default_name(uint32_t type, uint64_t config, char *buf, size_t len);

/* True when the first bytes (at least 8) are perf.data's magic, either
 * byte order. */
bool pd_is_perfdata(const void *head, size_t len);

#endif
