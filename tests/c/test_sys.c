#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sys/sys.h"

static void test_random_id_is_32_hex(void)
{
    char id[SYS_ID_HEX_LEN + 1];
    CHECK(sys_random_id(id) == 0);
    CHECK(strlen(id) == 32);
    for (size_t i = 0; i < strlen(id); i++)
        CHECK(isxdigit((unsigned char)id[i]) && !isupper((unsigned char)id[i]));
}

static void test_random_ids_differ(void)
{
    char a[SYS_ID_HEX_LEN + 1], b[SYS_ID_HEX_LEN + 1];
    CHECK(sys_random_id(a) == 0);
    CHECK(sys_random_id(b) == 0);
    CHECK(strcmp(a, b) != 0);
}

static void test_monotonic_advances(void)
{
    double t0 = sys_monotonic();
    double t1 = sys_monotonic();
    CHECK(t0 > 0.0);
    CHECK(t1 >= t0);
}

/* A buffer too small for the name gets its first size-1 bytes and a NUL,
 * whatever the name's length (ctest also runs this under a 63-byte host
 * name: c.sys.long_hostname). */
static void test_hostname_truncates(void)
{
    char full[256];
    CHECK(sys_hostname(full, sizeof full) == 0);
    CHECK(full[0] != '\0');
    size_t len = strlen(full);
    for (size_t size = 1; size <= len + 2; size++) {
        char buf[258];
        memset(buf, 'x', sizeof buf);
        CHECK(sys_hostname(buf, size) == 0);
        size_t want = len < size - 1 ? len : size - 1;
        CHECK(memchr(buf, '\0', size) != NULL);
        CHECK(strlen(buf) == want);
        CHECK(strncmp(buf, full, want) == 0);
        CHECK(buf[size] == 'x'); /* nothing written past size */
    }
    char tiny[1];
    CHECK(sys_hostname(tiny, 0) != 0);
}

/* PERFGO_EXPECT_HOSTNAME: the name the test runs under (set with
 * unshare -u), read back whole. */
static void test_hostname_whole(void)
{
    const char *want = getenv("PERFGO_EXPECT_HOSTNAME");
    if (!want)
        return;
    char full[256];
    CHECK(sys_hostname(full, sizeof full) == 0);
    CHECK(strcmp(full, want) == 0);
}

int main(void)
{
    RUN(test_random_id_is_32_hex);
    RUN(test_random_ids_differ);
    RUN(test_monotonic_advances);
    RUN(test_hostname_truncates);
    RUN(test_hostname_whole);
    return CHECK_DONE();
}
