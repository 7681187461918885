/* Private to core/profile: a reader of the protobuf wire format for the
 * decoder. Every read checks the bytes left, so malformed input is
 * refused at the byte where it goes wrong; nothing here allocates. */
#ifndef PERFGO_PROFILE_WIRE_H
#define PERFGO_PROFILE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* A message (or the bytes of a length-delimited field) being read: p up
 * to end; base is the start of the whole input and field the start of the
 * field being read, for error offsets. */
typedef struct wire {
    const unsigned char *p, *end, *base, *field;
} wire;

/* A varint of at most 10 bytes. false at the end of the bytes or on an
 * over-long one. */
static inline bool wire_varint(wire *w, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (w->p >= w->end)
            return false;
        unsigned char b = *w->p++;
        x |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (!(b & 0x80)) {
            if (shift == 63 && b > 1)
                return false; /* more than 64 bits */
            *v = x;
            return true;
        }
    }
    return false;
}

/* The next field's number and wire type; false at a malformed key (a
 * field number 0, a group or an unknown wire type). */
static inline bool wire_key(wire *w, uint32_t *field, unsigned *wt)
{
    uint64_t k;
    w->field = w->p;
    if (!wire_varint(w, &k) || (k >> 3) == 0 || (k >> 3) > UINT32_MAX)
        return false;
    *wt = (unsigned)(k & 7);
    *field = (uint32_t)(k >> 3);
    return *wt == WT_VARINT || *wt == WT_I64 || *wt == WT_LEN || *wt == WT_I32;
}

/* The bytes of a length-delimited field, as a message of their own. */
static inline bool wire_bytes(wire *w, wire *sub)
{
    uint64_t n;
    if (!wire_varint(w, &n) || n > (uint64_t)(w->end - w->p))
        return false;
    *sub = (wire){w->p, w->p + n, w->base, w->p};
    w->p += n;
    return true;
}

/* Skips a field's value of wire type wt. */
static inline bool wire_skip(wire *w, unsigned wt)
{
    uint64_t v;
    wire sub;
    switch (wt) {
    case WT_VARINT:
        return wire_varint(w, &v);
    case WT_LEN:
        return wire_bytes(w, &sub);
    case WT_I64:
    case WT_I32: {
        size_t n = wt == WT_I64 ? 8 : 4;
        if ((size_t)(w->end - w->p) < n)
            return false;
        w->p += n;
        return true;
    }
    default:
        return false;
    }
}

/* The number of varints in the bytes of a packed field (each ends in a
 * byte below 0x80); false when the last one is cut off. */
static inline bool wire_count_packed(const wire *w, size_t *n)
{
    size_t c = 0;
    for (const unsigned char *q = w->p; q < w->end; q++)
        c += *q < 0x80;
    *n = c;
    return w->p == w->end || w->end[-1] < 0x80;
}

#endif
