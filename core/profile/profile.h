/* The in-memory profile: pprof's tables (strings, functions, mappings,
 * locations, samples with one value column per sample type, labels), all
 * interned by hash, plus the pprof encoder/decoder and a folded writer.
 *
 * Ids are pprof ids: 1-based uint64_t, dense (id N is the N-th entry added).
 * A function returning an id returns 0 when memory runs out. String ids are
 * indexes into the string table; string 0 is always "".
 *
 * Order of use: add sample types first, then samples (a sample carries one
 * value per sample type; prof_add_sample_type fails once samples exist).
 * Pure C, no Lua. */
#ifndef PERFGO_PROFILE_H
#define PERFGO_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct prof_profile prof_profile;

/* A new, empty profile (string 0 = ""), or NULL when out of memory. */
prof_profile *prof_new(void);
/* Frees p and everything it owns. NULL is fine. */
void prof_free(prof_profile *p);

/* ---- strings ---- */

/* Interns s[0..len) and returns its string-table index (0 for ""), or
 * UINT64_MAX when out of memory. */
uint64_t prof_string(prof_profile *p, const char *s, size_t len);
/* The string at index id (NUL-terminated, length in *len when len is not
 * NULL); "" for an index out of range. Valid until the profile changes. */
const char *prof_str(const prof_profile *p, uint64_t id, size_t *len);
size_t prof_num_strings(const prof_profile *p);

/* ---- header ---- */

/* Adds a sample type (e.g. "samples","count" or "cpu-clock","nanoseconds")
 * and returns its column index (0-based), or -1 when out of memory or when
 * samples were already added. A (type, unit) pair already present returns
 * its existing column. */
int prof_add_sample_type(prof_profile *p, const char *type, const char *unit);
size_t prof_num_sample_types(const prof_profile *p);
/* Type and unit string ids of column i (i < prof_num_sample_types). */
void prof_sample_type(const prof_profile *p, size_t i, uint64_t *type, uint64_t *unit);
/* Column index of a sample type by name, or -1. */
int prof_sample_type_index(const prof_profile *p, const char *type);

/* default_sample_type: the name of a type (NULL clears it). 0 or -1 (OOM). */
int prof_set_default_sample_type(prof_profile *p, const char *type);
/* The default type's string id (0 = unset). */
uint64_t prof_default_sample_type(const prof_profile *p);
/* period_type = {type, unit} and period. 0 or -1 (OOM). */
int prof_set_period(prof_profile *p, const char *type, const char *unit, int64_t period);
/* period_type string ids (0 when unset) and period. */
void prof_period(const prof_profile *p, uint64_t *type, uint64_t *unit, int64_t *period);
void prof_set_time(prof_profile *p, int64_t time_nanos, int64_t duration_nanos);
void prof_time(const prof_profile *p, int64_t *time_nanos, int64_t *duration_nanos);
/* Appends a comment (shown by `pprof -comments`). 0 or -1 (OOM). */
int prof_add_comment(prof_profile *p, const char *text, size_t len);
size_t prof_num_comments(const prof_profile *p);
/* String id of comment i. */
uint64_t prof_comment(const prof_profile *p, size_t i);

/* Lines of input the producer skipped or did not recognize. Not written to
 * pprof; kept for summaries. */
void prof_set_skipped_lines(prof_profile *p, uint64_t n);
uint64_t prof_skipped_lines(const prof_profile *p);

/* ---- mappings ---- */

#define PROF_NO_LIMIT UINT64_MAX /* memory_limit of a whole-address-space mapping */

typedef struct prof_mapping_spec {
    uint64_t start;   /* memory_start */
    uint64_t limit;   /* memory_limit */
    uint64_t offset;  /* file_offset */
    const char *file; /* filename, file_len bytes (NULL = "") */
    size_t file_len;
    const char *build_id; /* lowercase hex, build_id_len bytes (NULL = "") */
    size_t build_id_len;
    bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
} prof_mapping_spec;

/* Returns the id of the mapping with exactly these fields, creating it if
 * needed; 0 when out of memory. */
uint64_t prof_mapping(prof_profile *p, const prof_mapping_spec *spec);

typedef struct prof_mapping_info {
    uint64_t start, limit, offset;
    uint64_t file, build_id; /* string ids */
    bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
} prof_mapping_info;

size_t prof_num_mappings(const prof_profile *p);
/* Fills *out for mapping id (1..prof_num_mappings). false if no such id. */
bool prof_get_mapping(const prof_profile *p, uint64_t id, prof_mapping_info *out);
/* Points mapping id at another file (archiving). 0, or -1 (OOM or bad id). */
int prof_set_mapping_file(prof_profile *p, uint64_t id, const char *file, size_t len);
/* Marks mapping id as the main binary: the encoder writes it first
 * (pprof's mapping[0]). 0, or -1 for a bad id. */
int prof_set_main_mapping(prof_profile *p, uint64_t id);
/* Sets a mapping's memory range (e.g. a kernel mapping spanning the
 * addresses seen). 0, or -1 (bad id or OOM). */
int prof_set_mapping_range(prof_profile *p, uint64_t id, uint64_t start, uint64_t limit);

/* ---- functions ---- */

/* Function {name, system_name = name, filename}, deduplicated on
 * (name, filename). filename may be NULL. 0 when out of memory. */
uint64_t prof_function(prof_profile *p, const char *name, size_t name_len, const char *filename,
                       size_t filename_len);

typedef struct prof_function_info {
    uint64_t name, system_name, filename; /* string ids */
    int64_t start_line;
} prof_function_info;

size_t prof_num_functions(const prof_profile *p);
bool prof_get_function(const prof_profile *p, uint64_t id, prof_function_info *out);

/* ---- locations ---- */

typedef struct prof_line {
    uint64_t function_id;
    int64_t line; /* 0 = unknown */
} prof_line;

/* The location of (mapping_id, address): mapping_id 0 = no mapping; lines
 * run from the innermost inlined frame (lines[0]) to its caller, as in
 * pprof. Deduplicated on (mapping_id, address) when address != 0 (the first
 * call's lines win), else on (mapping_id, lines). 0 when out of memory or
 * when mapping_id or a function id names nothing. */
uint64_t prof_location(prof_profile *p, uint64_t mapping_id, uint64_t address,
                       const prof_line *lines, size_t nlines);

/* Makes room for n more locations of one line each, so that adding them
 * grows nothing (more may still be added). 0, or -1 when out of memory. */
int prof_reserve_locations(prof_profile *p, size_t n);

typedef struct prof_location_info {
    uint64_t mapping_id, address;
    const prof_line *lines; /* valid until the profile changes */
    size_t nlines;
    bool is_folded;
} prof_location_info;

size_t prof_num_locations(const prof_profile *p);
bool prof_get_location(const prof_profile *p, uint64_t id, prof_location_info *out);

/* ---- samples ---- */

typedef struct prof_label {
    const char *key; /* NUL-terminated, e.g. "comm", "pid", "cpu" */
    const char *str; /* string value (str_len bytes), or NULL for numeric */
    size_t str_len;
    int64_t num;          /* numeric value when str == NULL */
    const char *num_unit; /* NUL-terminated unit or NULL; give one so 0 survives */
} prof_label;

/* A label as stored: string ids (str 0 = numeric label). */
typedef struct prof_label_ids {
    uint64_t key, str;
    int64_t num;
    uint64_t num_unit;
} prof_label_ids;

/* Adds a sample: location_ids[0] is the leaf, values has one entry per
 * sample type. A sample with the same locations and the same labels (in the
 * same order) merges into the existing one by adding values (hash lookup).
 * Returns 0, or -1 when out of memory, when no sample type exists or when a
 * location id names no location. */
int prof_add_sample(prof_profile *p, const uint64_t *location_ids, size_t n, const int64_t *values,
                    const prof_label *labels, size_t nlabels);

/* Interns a label set once, for callers that add many samples with the same
 * labels: returns a label-set id (1-based; 0 = OOM). prof_add_sample_ls then
 * skips the per-sample label interning. The empty set is id 1. */
uint64_t prof_labelset(prof_profile *p, const prof_label *labels, size_t nlabels);
int prof_add_sample_ls(prof_profile *p, const uint64_t *location_ids, size_t n,
                       const int64_t *values, uint64_t labelset_id);
/* For callers adding many samples in a row: the hash of a sample's key
 * (location ids and label set), which also prefetches the index slot the
 * sample will be looked up in; prof_add_sample_hashed then adds it as
 * prof_add_sample_ls does, given that hash. Preparing the next sample
 * before adding the current one hides the index's cache miss. */
uint64_t prof_sample_prepare(const prof_profile *p, const uint64_t *location_ids, size_t n,
                             uint64_t labelset_id);
int prof_add_sample_hashed(prof_profile *p, const uint64_t *location_ids, size_t n,
                           const int64_t *values, uint64_t labelset_id, uint64_t hash);
/* prof_labelset for labels already given as string ids (from prof_string;
 * str 0 = numeric), for callers that keep those ids. 0 on OOM. */
uint64_t prof_labelset_ids(prof_profile *p, const prof_label_ids *labels, size_t n);

/* Makes room for nsamples more samples with nlocations location ids in
 * all, so that adding them grows nothing (more may still be added). Call
 * after the sample types are added. 0, or -1 when out of memory. */
int prof_reserve_samples(prof_profile *p, size_t nsamples, size_t nlocations);

typedef struct prof_sample_info {
    const uint64_t *locations; /* leaf first */
    size_t nlocations;
    const int64_t *values; /* prof_num_sample_types entries */
    const prof_label_ids *labels;
    size_t nlabels;
} prof_sample_info;

size_t prof_num_samples(const prof_profile *p);
/* Sample i (0-based). Pointers are valid until the profile changes. */
bool prof_get_sample(const prof_profile *p, size_t i, prof_sample_info *out);
/* Sum of column col over all samples. */
int64_t prof_total(const prof_profile *p, size_t col);

/* ---- pprof encoding ---- */

/* Encodes p as profile.proto, gzip-compressed when gzip is true. *out is
 * malloc'd (free it). 0, or -1 with a message in err. */
int prof_encode(const prof_profile *p, bool gzip, unsigned char **out, size_t *len, char *err,
                size_t errlen);
/* Writes the encoding to path atomically (temporary file + rename).
 * 0, or -1 with a message naming the file in err. */
int prof_write_file(const prof_profile *p, const char *path, bool gzip, char *err, size_t errlen);

/* Decodes a profile.proto message, gunzipping first when data starts with
 * the gzip magic. Checks what pprof checks (string 0 "", ids, value counts,
 * references). NULL with a message in err on corrupt input or OOM. Memory
 * is bounded by the input (README §4). */
prof_profile *prof_decode(const unsigned char *data, size_t len, char *err, size_t errlen);
/* Reads and decodes a file; err names the file. */
prof_profile *prof_read_file(const char *path, char *err, size_t errlen);

#define PROF_DECODE_MAX_SIZE ((size_t)1 << 30) /* 1 GiB */

typedef struct prof_decode_options {
    /* The largest protobuf message accepted, after gunzip: a larger one is
     * refused before it is read. 0 = PROF_DECODE_MAX_SIZE. */
    size_t max_size;
} prof_decode_options;

/* prof_decode and prof_read_file with options (o may be NULL). */
prof_profile *prof_decode_ex(const unsigned char *data, size_t len, const prof_decode_options *o,
                             char *err, size_t errlen);
prof_profile *prof_read_file_ex(const char *path, const prof_decode_options *o, char *err,
                                size_t errlen);

/* ---- folded output ---- */

/* Folded stacks ("root;...;leaf count\n"): root = the "comm" label when a
 * sample has one, then function names root first with inline frames
 * expanded (outer first), ';' in names replaced by ':'. Counts come from
 * column col; identical lines merge; lines with a zero total are left out;
 * output is sorted bytewise. *out is malloc'd. 0, or -1 (OOM / bad column). */
int prof_encode_folded(const prof_profile *p, size_t col, char **out, size_t *len);
/* Same, written to path atomically. err names the file on failure. */
int prof_write_folded_file(const prof_profile *p, size_t col, const char *path, char *err,
                           size_t errlen);

#endif
