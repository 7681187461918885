#include "sys.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int sys_random_id(char out[SYS_ID_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[SYS_ID_HEX_LEN / 2];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof bytes; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 0xf];
    }
    out[SYS_ID_HEX_LEN] = '\0';
    return 0;
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double sys_monotonic(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

double sys_realtime(void)
{
    return clock_seconds(CLOCK_REALTIME);
}

int sys_hostname(char *buf, size_t size)
{
    if (size == 0)
        return EINVAL;
    /* glibc fills buf and fails with ENAMETOOLONG when the name does not
     * fit; POSIX leaves the terminating NUL unspecified either way. Read
     * the whole name (at most HOST_NAME_MAX bytes) and copy what fits. */
    char full[HOST_NAME_MAX + 1];
    if (gethostname(full, sizeof full) != 0)
        return errno;
    full[HOST_NAME_MAX] = '\0';
    size_t n = strnlen(full, size - 1);
    memcpy(buf, full, n);
    buf[n] = '\0';
    return 0;
}

int sys_isatty(int fd)
{
    return isatty(fd) == 1;
}
