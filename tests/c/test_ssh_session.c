/* The ssh session layer against a real sshd (tests/sshd/sshd.sh), through
 * the proc API: connect, exec, files, platform, close. Under ASan this also
 * checks that nothing leaks on the success and failure paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ssh/ssh.h"

static char dir[300], config[320], port[16];

static int start_sshd(void)
{
    FILE *p = popen("sh " PERFGO_SOURCE_DIR "/tests/sshd/sshd.sh start", "r");
    if (p == NULL)
        return -1;
    char line[256];
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "dir=", 4) == 0)
            snprintf(dir, sizeof dir, "%s", line + 4);
        else if (strncmp(line, "config=", 7) == 0)
            snprintf(config, sizeof config, "%s", line + 7);
        else if (strncmp(line, "port=", 5) == 0)
            snprintf(port, sizeof port, "%.15s", line + 5);
    }
    return pclose(p) == 0 && dir[0] ? 0 : -1;
}

static void stop_sshd(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sh " PERFGO_SOURCE_DIR "/tests/sshd/sshd.sh stop '%s'; rm -rf '%s'",
             dir, dir);
    CHECK(system(cmd) == 0);
}

static struct ssh_session *connect_test(const char *user, char *err, size_t errlen)
{
    char ctl[600];
    snprintf(ctl, sizeof ctl, "%s/ctl", dir);
    struct ssh_connect_opts o;
    memset(&o, 0, sizeof o);
    o.host = "perfgo-test";
    o.config = config;
    o.control_dir = ctl;
    o.user = user;
    return ssh_connect(&o, &proc_api, err, errlen);
}

static void test_session(void)
{
    char err[2048];
    struct ssh_session *s = connect_test(NULL, err, sizeof err);
    CHECK(s != NULL);
    if (s == NULL) {
        fprintf(stderr, "connect: %s\n", err);
        return;
    }
    const char *argv[] = {"sh", "-c", "printf '%s' \"$1\"; exit 3", "x", "a 'b' $(c)", NULL};
    struct ssh_result r;
    CHECK(ssh_exec(s, argv, NULL, NULL, &r, err, sizeof err) == 0);
    CHECK(r.code == 3);
    CHECK_STR(r.out.p, "a 'b' $(c)");
    ssh_result_free(&r);

    const char *os, *arch;
    CHECK(ssh_platform(s, &os, &arch, err, sizeof err) == 0);
    CHECK_STR(os, "linux");
    CHECK(ssh_home(s, err, sizeof err) != NULL);

    char src[600], remote[600], back[600];
    snprintf(src, sizeof src, "%s/src file", dir);
    snprintf(remote, sizeof remote, "%s/remote file", dir);
    snprintf(back, sizeof back, "%s/back", dir);
    FILE *f = fopen(src, "w");
    fputs("contents\n", f);
    fclose(f);
    CHECK(ssh_put(s, src, remote, err, sizeof err) == 0);
    CHECK(ssh_get(s, remote, back, err, sizeof err) == 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", src, back);
    CHECK(system(cmd) == 0);
    CHECK(ssh_get(s, "/nonexistent/file", back, err, sizeof err) == -1);
    CHECK(strstr(err, "No such file") != NULL);

    const char *files[] = {"src file"};
    char tree[600];
    snprintf(tree, sizeof tree, "%s/tree", dir);
    for (int m = SSH_TREE_RSYNC; m <= SSH_TREE_TAR; m++) {
        struct ssh_argv sent = {0};
        enum ssh_tree_method used;
        CHECK(ssh_put_tree(s, files, 1, dir, tree, (enum ssh_tree_method)m, &used, &sent, err,
                           sizeof err) == 0);
        CHECK(used == (enum ssh_tree_method)m);
        CHECK(sent.n == 1 && strcmp(sent.v[0], "src file") == 0);
        ssh_argv_free(&sent);
    }
    CHECK(ssh_alive(s));
    ssh_close(s);
    CHECK(!ssh_alive(s));
    CHECK(access(ssh_control_path(s), F_OK) != 0);
    ssh_free(s);
}

/* A channel: our writes and the heartbeat arrive, answers come back, a
 * read times out, close reaps it and keeps its stderr. */
static void test_channel(void)
{
    char err[2048];
    struct ssh_session *s = connect_test(NULL, err, sizeof err);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    const char *script =
        "echo ready; n=0\n"
        "while IFS= read -r l; do\n"
        "  if [ -z \"$l\" ]; then n=$((n+1)); [ $n -eq 2 ] && echo beats; continue; fi\n"
        "  echo \"got $l\"\n"
        "done\n"
        "echo bye >&2; exit 3\n";
    struct ssh_channel *c = ssh_channel_open(s, script, 0.1, err, sizeof err);
    CHECK(c != NULL);
    if (c == NULL) {
        ssh_free(s);
        return;
    }
    char buf[256], all[1024] = "";
    /* "ready", then two heartbeats arrive without a write of ours */
    for (int i = 0; i < 50 && strstr(all, "beats\n") == NULL; i++) {
        ssize_t n = ssh_channel_read(c, buf, sizeof buf - 1, 10);
        if (n <= 0)
            break;
        buf[n] = '\0';
        strncat(all, buf, sizeof all - strlen(all) - 1);
    }
    CHECK_STR(all, "ready\nbeats\n");
    CHECK(ssh_channel_write(c, "a 'b' $(c)\n", 11, 5) == 0);
    ssize_t n = ssh_channel_read(c, buf, sizeof buf - 1, 10);
    CHECK(n > 0);
    buf[n > 0 ? n : 0] = '\0';
    CHECK_STR(buf, "got a 'b' $(c)\n");
    CHECK(ssh_channel_read(c, buf, sizeof buf, 0.2) == -1 && errno == ETIMEDOUT);
    CHECK(ssh_channel_close(c, 10, true) == 3);
    size_t len;
    const char *e = ssh_channel_stderr(c, &len);
    CHECK(len == 4 && strncmp(e, "bye\n", 4) == 0);
    CHECK(ssh_channel_write(c, "x\n", 2, 1) == -1);
    ssh_channel_free(c);
    ssh_free(s);
}

static void test_connect_failure(void)
{
    char err[2048];
    struct ssh_session *s = connect_test("perfgo-no-such-user", err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, "Permission denied") != NULL);
    struct ssh_connect_opts o;
    memset(&o, 0, sizeof o);
    o.host = "-oProxyCommand=touch /tmp/perfgo-pwned";
    CHECK(ssh_connect(&o, &proc_api, err, sizeof err) == NULL);
    CHECK(strstr(err, "bad host") != NULL);
}

int main(void)
{
    if (start_sshd() != 0) {
        fprintf(stderr, "cannot start sshd\n");
        return 1;
    }
    RUN(test_session);
    RUN(test_channel);
    RUN(test_connect_failure);
    stop_sshd();
    return CHECK_DONE();
}
