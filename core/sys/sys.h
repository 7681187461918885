/* Small system primitives: random ids, a monotonic clock, the host name. */
#ifndef PERFGO_SYS_H
#define PERFGO_SYS_H

#include <stddef.h>

/* Length of a random id in hex digits (16 random bytes). */
#define SYS_ID_HEX_LEN 32

/* Fills out[0..32] with 32 lowercase hex digits and a NUL, from getrandom.
 * Returns 0, or an errno value when the kernel gives no randomness. */
int sys_random_id(char out[SYS_ID_HEX_LEN + 1]);

/* Seconds on CLOCK_MONOTONIC, with nanosecond resolution. */
double sys_monotonic(void);

/* Seconds since the Unix epoch on CLOCK_REALTIME. */
double sys_realtime(void);

/* Copies the host name into buf (always NUL-terminated, truncated to size).
 * Returns 0 or an errno value. */
int sys_hostname(char *buf, size_t size);

/* True when fd refers to a terminal. */
int sys_isatty(int fd);

#endif
