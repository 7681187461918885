#include <ctype.h>
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

static void test_hostname_truncates(void)
{
    char full[256], tiny[4];
    CHECK(sys_hostname(full, sizeof full) == 0);
    CHECK(full[0] != '\0');
    CHECK(sys_hostname(tiny, sizeof tiny) == 0 || tiny[3] == '\0');
    CHECK(strlen(tiny) <= 3);
    CHECK(sys_hostname(tiny, 0) != 0);
}

int main(void)
{
    RUN(test_random_id_is_32_hex);
    RUN(test_random_ids_differ);
    RUN(test_monotonic_advances);
    RUN(test_hostname_truncates);
    return CHECK_DONE();
}
