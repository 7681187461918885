/* libFuzzer target: pprof bytes -> the decoder (README §4 of
 * core/profile) -> the encoder -> the decoder again. Whatever the bytes,
 * nothing may crash, leak or hit undefined behaviour, memory stays
 * bounded (-rss_limit_mb), a refusal says why, and what decodes encodes
 * to bytes that decode again, to the same encoding after one round. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    /* a small limit, so that gzip bombs are refused rather than timed */
    prof_decode_options o = {.max_size = 8u << 20};
    prof_profile *p = prof_decode_ex(data, size, &o, err, sizeof err);
    if (!p) {
        if (!err[0])
            abort(); /* a refusal always says why */
        return 0;
    }
    for (size_t c = 0; c < prof_num_sample_types(p); c++)
        (void)prof_total(p, c);
    char *folded = NULL;
    size_t flen = 0;
    if (prof_num_sample_types(p) && prof_encode_folded(p, 0, &folded, &flen) == 0)
        free(folded);
    /* decode(encode(p)) is a fixed point after one round: ids renumbered
     * in table order, equal mappings and functions merged */
    unsigned char *a = NULL, *b = NULL, *c = NULL;
    size_t alen = 0, blen = 0, clen = 0;
    prof_profile *q = NULL, *r = NULL;
    if (prof_encode(p, false, &a, &alen, err, sizeof err) == 0) {
        if (!(q = prof_decode(a, alen, err, sizeof err)))
            abort(); /* what we encode must decode */
        if (prof_encode(q, false, &b, &blen, err, sizeof err) == 0) {
            if (!(r = prof_decode(b, blen, err, sizeof err)))
                abort();
            if (prof_encode(r, false, &c, &clen, err, sizeof err) == 0 &&
                (blen != clen || memcmp(b, c, blen) != 0))
                abort();
        }
    }
    free(a);
    free(b);
    free(c);
    prof_free(r);
    prof_free(q);
    prof_free(p);
    return 0;
}
