/* Unit tests of the read-ahead reader: the bytes come out whole and in
 * order whatever the block size, an early stop leaves nothing behind, and
 * a failing read is reported. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sys/readahead.h"

static char path[] = "/tmp/perfgo-readahead-XXXXXX";

static unsigned char *make_file(size_t n)
{
    unsigned char *want = malloc(n ? n : 1);
    unsigned x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        want[i] = (unsigned char)(x >> 16);
    }
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, want, n) == (ssize_t)n);
    close(fd);
    return want;
}

static void test_whole_and_in_order(void)
{
    size_t sizes[] = {0, 1, 4095, 4096, 300001};
    size_t blocks[] = {1, 7, 4096, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *want = make_file(sizes[i]);
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            if (blocks[b] == 1 && sizes[i] > 5000)
                continue; /* a hand-off per byte: slow and adds nothing */
            int fd = open(path, O_RDONLY);
            sys_readahead *r = sys_readahead_new(fd, blocks[b], 3);
            CHECK(r != NULL);
            unsigned char *got = malloc(sizes[i] + 1);
            size_t len = 0;
            const char *data;
            ssize_t n;
            while ((n = sys_readahead_next(r, &data)) > 0) {
                CHECK((size_t)n <= blocks[b] && len + (size_t)n <= sizes[i]);
                if (len + (size_t)n > sizes[i])
                    break;
                memcpy(got + len, data, (size_t)n);
                len += (size_t)n;
            }
            CHECK(n == 0);
            CHECK(sys_readahead_next(r, &data) == 0); /* the end stays the end */
            CHECK(len == sizes[i] && memcmp(got, want, len) == 0);
            sys_readahead_free(r);
            close(fd);
            free(got);
        }
        unlink(path);
        memcpy(path + strlen(path) - 6, "XXXXXX", 6);
        free(want);
    }
}

static void test_early_stop(void)
{
    unsigned char *want = make_file(1u << 20);
    int fd = open(path, O_RDONLY);
    sys_readahead *r = sys_readahead_new(fd, 4096, 4);
    const char *data;
    CHECK(sys_readahead_next(r, &data) == 4096 && memcmp(data, want, 4096) == 0);
    sys_readahead_free(r); /* the thread is blocked on a full ring: it stops */
    r = sys_readahead_new(fd, 4096, 2);
    sys_readahead_free(r); /* stopped before anything was taken */
    close(fd);
    unlink(path);
    memcpy(path + strlen(path) - 6, "XXXXXX", 6);
    free(want);
}

static void test_errors(void)
{
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    sys_readahead *r = sys_readahead_new(fd, 4096, 2);
    const char *data;
    errno = 0;
    CHECK(sys_readahead_next(r, &data) == -1 && errno == EISDIR);
    sys_readahead_free(r);
    close(fd);
    errno = 0;
    CHECK(sys_readahead_new(0, 0, 2) == NULL && errno == EINVAL);
    CHECK(sys_readahead_new(0, 4096, 1) == NULL && errno == EINVAL);
    sys_readahead_free(NULL);
}

/* Read-ahead is for callers that may run on a second CPU. */
static void test_useful_with_two_cpus(void)
{
    cpu_set_t all, one;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &all))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK(!sys_readahead_useful());
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    CHECK(sys_readahead_useful() == (CPU_COUNT(&all) > 1));
}

int main(void)
{
    RUN(test_whole_and_in_order);
    RUN(test_early_stop);
    RUN(test_errors);
    RUN(test_useful_with_two_cpus);
    return CHECK_DONE();
}
