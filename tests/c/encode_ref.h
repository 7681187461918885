/* The protobuf-c reference encoding of a profile (tests only). */
#ifndef PERFGO_TEST_ENCODE_REF_H
#define PERFGO_TEST_ENCODE_REF_H

#include <stddef.h>

#include "profile/profile.h"

/* profile.proto bytes of p packed by protobuf-c, not compressed. *out is
 * malloc'd. 0, or -1 when out of memory. */
int prof_encode_reference(const prof_profile *p, unsigned char **out, size_t *len);

#endif
