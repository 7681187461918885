/* ssh argv building: quoting, the remote wrapper (run here through a local
 * sh, as the remote login shell would), host parsing, platform names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ssh/ssh.h"

/* Runs CMD with sh and returns its stdout (static buffer). Temporary
 * files are unique: the plain and ASan builds run in parallel. */
static const char *sh_output(const char *cmd)
{
    static char out[8192];
    char path[] = "/tmp/perfgo-test-ssh.XXXXXX";
    char script[] = "/tmp/perfgo-test-ssh-cmd.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    fd = mkstemp(script);
    FILE *f = fdopen(fd, "w");
    fputs(cmd, f);
    fclose(f);
    char run[512];
    snprintf(run, sizeof run, "sh %s > %s 2>/dev/null", script, path);
    out[0] = '\0';
    if (system(run) == 0) {
        f = fopen(path, "r");
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    unlink(path);
    unlink(script);
    return out;
}

static const char *nasty = "a b 'c' \"d\" $(touch /tmp/perfgo-pwned) `x` \\ \\\\ \n;|&*?~ end";

static void test_quote_round_trips(void)
{
    const char *cases[] = {"", "plain", "it's", "\\", "'", "''", "a\nb", nasty};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ssh_str q = {0}, cmd = {0};
        CHECK(ssh_quote(&q, cases[i]) == 0);
        ssh_str_cat(&cmd, "printf '%s|' ");
        ssh_str_cat(&cmd, q.p);
        const char *out = sh_output(cmd.p);
        size_t n = strlen(out);
        CHECK(n > 0 && out[n - 1] == '|' && strncmp(out, cases[i], n - 1) == 0 &&
              strlen(cases[i]) == n - 1);
        /* nothing of it reaches the shell outside quotes but \' and \\ */
        for (const char *p = q.p; *p; p++) {
            if (*p == '\\') {
                CHECK(p[1] == '\'' || p[1] == '\\');
                p++;
            }
        }
        ssh_str_free(&q);
        ssh_str_free(&cmd);
    }
    CHECK(access("/tmp/perfgo-pwned", F_OK) != 0);
}

static void test_remote_command_runs_argv_intact(void)
{
    const char *argv[] = {
        "sh", "-c", "printf '%s|' \"$PWD\" \"$V\" \"${GONE-unset}\" \"$@\"", "x", nasty, "", NULL};
    struct ssh_env env[] = {{"V", "v a l'ue"}, {"GONE", NULL}};
    for (int wrap = 0; wrap < 2; wrap++) {
        struct ssh_str cmd = {0};
        CHECK(ssh_remote_command(&cmd, argv, "/tmp", env, 2, wrap ? SSH_WATCHDOG : SSH_PLAIN) == 0);
        char full[8192];
        /* stdin for the watchdog: an empty pipe would end it at once, so
         * feed it from a sleep that outlives the command */
        snprintf(full, sizeof full, "GONE=1; export GONE; %s%s", wrap ? "sleep 2 | " : "", cmd.p);
        const char *out = sh_output(full);
        char want[1024];
        snprintf(want, sizeof want, "/tmp|v a l'ue|unset|%s||", nasty);
        CHECK_STR(out, want);
        ssh_str_free(&cmd);
    }
    struct ssh_env bad[] = {{"A B", "x"}};
    struct ssh_str cmd = {0};
    CHECK(ssh_remote_command(&cmd, argv, NULL, bad, 1, SSH_PLAIN) == -1);
    ssh_str_free(&cmd);
}

/* The watchdog ends the command when its stdin reaches end of file. */
static void test_watchdog_kills_on_eof(void)
{
    char pidfile[64], script[128];
    snprintf(pidfile, sizeof pidfile, "/tmp/perfgo-test-wd.%ld", (long)getpid());
    snprintf(script, sizeof script, "echo $$ > %s; exec sleep 30", pidfile);
    const char *argv[] = {"sh", "-c", script, NULL};
    struct ssh_str cmd = {0};
    CHECK(ssh_remote_command(&cmd, argv, NULL, NULL, 0, SSH_WATCHDOG) == 0);
    char full[8192];
    snprintf(full, sizeof full, "sleep 1 | %s; echo \"exit=$?\"", cmd.p);
    const char *out = sh_output(full);
    CHECK_STR(out, "exit=143\n");
    FILE *f = fopen(pidfile, "r");
    int pid = 0;
    CHECK(f != NULL && fscanf(f, "%d", &pid) == 1);
    if (f)
        fclose(f);
    unlink(pidfile);
    char check[64];
    snprintf(check, sizeof check, "kill -0 %d 2>/dev/null", pid);
    CHECK(pid > 0 && system(check) != 0);
    ssh_str_free(&cmd);
}

static void test_parse_host(void)
{
    char u[64], h[64], p[16];
    CHECK(ssh_parse_host("alice@box:2222", u, 64, h, 64, p, 16) == 0);
    CHECK_STR(u, "alice");
    CHECK_STR(h, "box");
    CHECK_STR(p, "2222");
    CHECK(ssh_parse_host("box", u, 64, h, 64, p, 16) == 0);
    CHECK(u[0] == '\0' && p[0] == '\0');
    CHECK_STR(h, "box");
    CHECK(ssh_parse_host("[::1]:22", u, 64, h, 64, p, 16) == 0);
    CHECK_STR(h, "::1");
    CHECK_STR(p, "22");
    CHECK(ssh_parse_host("fe80::1", u, 64, h, 64, p, 16) == 0);
    CHECK_STR(h, "fe80::1");
    CHECK(ssh_parse_host("box:port", u, 64, h, 64, p, 16) == -1);
    CHECK(ssh_parse_host("u@", u, 64, h, 64, p, 16) == -1);
}

static void test_platform_names(void)
{
    char out[32];
    const char *pairs[][2] = {{"x86_64", "amd64"}, {"aarch64", "arm64"},   {"arm64", "arm64"},
                              {"i686", "386"},     {"i386", "386"},        {"armv7l", "arm"},
                              {"armv6l", "arm"},   {"riscv64", "riscv64"}, {"ppc64le", "ppc64le"},
                              {"s390x", "s390x"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ssh_goarch(pairs[i][0], out, sizeof out);
        CHECK_STR(out, pairs[i][1]);
    }
    ssh_goos("Linux", out, sizeof out);
    CHECK_STR(out, "linux");
    ssh_goos("Darwin", out, sizeof out);
    CHECK_STR(out, "darwin");
    ssh_goos("FreeBSD", out, sizeof out);
    CHECK_STR(out, "freebsd");
}

static void test_short_hash_and_rsync_quote(void)
{
    char a[17], b[17];
    ssh_short_hash("root@127.0.0.1:22", a);
    ssh_short_hash("root@127.0.0.1:23", b);
    CHECK(strlen(a) == 16 && strcmp(a, b) != 0);
    struct ssh_str s = {0};
    CHECK(ssh_rsync_quote(&s, "plain") == 0);
    CHECK(ssh_rsync_quote(&s, "with space") == 0);
    CHECK_STR(s.p, "plain'with space'");
    CHECK(ssh_rsync_quote(&s, "both ' and \"") == -1);
    ssh_str_free(&s);
}

int main(void)
{
    RUN(test_quote_round_trips);
    RUN(test_remote_command_runs_argv_intact);
    RUN(test_watchdog_kills_on_eof);
    RUN(test_parse_host);
    RUN(test_platform_names);
    RUN(test_short_hash_and_rsync_quote);
    return CHECK_DONE();
}
