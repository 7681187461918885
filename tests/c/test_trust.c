/* sys_untrusted: a configuration file is trusted only when nobody but the
 * user or root could have written it or a directory on its path. The
 * owner checks use a uid nobody has, so they need no second account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sys/trust.h"

static char dir[64];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void make_file(const char *name, mode_t mode)
{
    char p[128];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(chmod(p, mode) == 0);
}

static void test_own_file_is_trusted(void)
{
    char p[128], why[512];
    make_file("ok.lua", 0644);
    path_of(p, sizeof p, "ok.lua");
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == 0);
    CHECK_STR(why, "");
    /* spelt with a trailing slash on a directory and a dot */
    snprintf(p, sizeof p, "%s/./ok.lua", dir);
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == 0);
}

static void test_writable_file_is_refused(void)
{
    char p[128], why[512], want[600];
    make_file("w.lua", 0666);
    path_of(p, sizeof p, "w.lua");
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == 1);
    snprintf(want, sizeof want, "%s is writable by others", p);
    CHECK_STR(why, want);
    CHECK(chmod(p, 0664) == 0);
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == 1);
    snprintf(want, sizeof want, "%s is writable by its group", p);
    CHECK_STR(why, want);
}

static void test_writable_directory_is_refused_unless_sticky(void)
{
    char sub[128], p[160], why[512], want[600];
    path_of(sub, sizeof sub, "sub");
    CHECK(mkdir(sub, 0777) == 0);
    CHECK(chmod(sub, 0777) == 0);
    snprintf(p, sizeof p, "%s/f.lua", sub);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(chmod(p, 0600) == 0);
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == 1);
    snprintf(want, sizeof want, "%s is writable by others", sub);
    CHECK_STR(why, want);
    /* like /tmp: others may add entries but not replace ours */
    CHECK(chmod(sub, 01777) == 0);
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == 0);
    CHECK(unlink(p) == 0);
    CHECK(rmdir(sub) == 0);
}

static void test_owner_must_be_user_or_root(void)
{
    char p[128], why[512], want[600];
    path_of(p, sizeof p, "ok.lua");
    uid_t other = geteuid() == 0 ? 4242 : geteuid() + 1;
    if (geteuid() == 0) {
        /* root's files are trusted by everybody, here they are another's */
        CHECK(chown(p, 4242, (gid_t)-1) == 0);
        CHECK(sys_untrusted(p, 0, why, sizeof why) == 1);
        snprintf(want, sizeof want, "%s belongs to uid 4242, neither you nor root", p);
        CHECK_STR(why, want);
        CHECK(chown(p, 0, (gid_t)-1) == 0);
    }
    /* as another user, a file of ours (not root's) is someone else's;
     * when we are root, every ancestor is root's and trusted */
    int rc = sys_untrusted(p, other, why, sizeof why);
    if (geteuid() == 0) {
        CHECK(rc == 0);
    } else {
        CHECK(rc == 1);
        CHECK(strstr(why, "neither you nor root") != NULL);
    }
}

static void test_link_is_checked_where_it_leads(void)
{
    char link[128], target[128], why[512], want[600];
    make_file("target.lua", 0666);
    path_of(target, sizeof target, "target.lua");
    path_of(link, sizeof link, "link.lua");
    CHECK(symlink(target, link) == 0);
    CHECK(sys_untrusted(link, geteuid(), why, sizeof why) == 1);
    snprintf(want, sizeof want, "%s is writable by others", target);
    CHECK_STR(why, want);
    CHECK(chmod(target, 0644) == 0);
    CHECK(sys_untrusted(link, geteuid(), why, sizeof why) == 0);
}

static void test_missing_or_relative_cannot_be_examined(void)
{
    char p[128], why[512];
    path_of(p, sizeof p, "nothing.lua");
    CHECK(sys_untrusted(p, geteuid(), why, sizeof why) == -1);
    CHECK(strstr(why, "No such file") != NULL);
    CHECK(sys_untrusted("perfgo.lua", geteuid(), why, sizeof why) == -1);
    CHECK(sys_untrusted(p, geteuid(), why, 0) == -1); /* no room: nothing written */
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/perfgo-trust-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_own_file_is_trusted);
    RUN(test_writable_file_is_refused);
    RUN(test_writable_directory_is_refused_unless_sticky);
    RUN(test_owner_must_be_user_or_root);
    RUN(test_link_is_checked_where_it_leads);
    RUN(test_missing_or_relative_cannot_be_examined);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return CHECK_DONE();
}
