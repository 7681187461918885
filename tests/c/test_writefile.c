/* sys_write_file: what `-o FILE` must do to the file system. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sys/writefile.h"

static char dir[64];

static char *path_in(const char *d, const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", d, name);
    return p;
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return f ? buf : NULL;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* A new file gets 0666 & ~umask, a replaced one keeps its mode. */
static void test_modes(void)
{
    char err[512];
    const char *f = path_in(dir, "new.out");
    mode_t old = umask(077);
    CHECK(sys_write_file(f, "one", 3, err, sizeof err) == 0);
    CHECK(mode_of(f) == 0600);
    unlink(f);
    umask(022);
    CHECK(sys_write_file(f, "one", 3, err, sizeof err) == 0);
    CHECK(mode_of(f) == 0644);
    CHECK(chmod(f, 0640) == 0);
    CHECK(sys_write_file(f, "two", 3, err, sizeof err) == 0);
    CHECK(mode_of(f) == 0640);
    CHECK(strcmp(slurp(f), "two") == 0);
    umask(old);
    /* nothing left behind: the temporary file was renamed */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0);
    unlink(f);
}

/* A symbolic link is followed (the file it names is replaced, the link
 * stays), except one that protected_symlinks would not follow: in a
 * sticky, world-writable directory, owned by neither the writer nor the
 * directory's owner. */
static void test_symlinks(void)
{
    char err[512];
    const char *target = path_in(dir, "target");
    FILE *t = fopen(target, "w");
    CHECK(t != NULL);
    if (t) {
        fputs("precious", t);
        fclose(t);
    }
    const char *link = path_in(dir, "link");
    CHECK(symlink(target, link) == 0);
    CHECK(sys_write_file(link, "new", 3, err, sizeof err) == 0);
    CHECK(strcmp(slurp(target), "new") == 0);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));

    const char *tmp = path_in(dir, "sticky");
    CHECK(mkdir(tmp, 0777) == 0 && chmod(tmp, 01777) == 0);
    const char *trap = path_in(tmp, "out.pb.gz");
    CHECK(symlink(target, trap) == 0);
    /* the writer's own link: followed */
    CHECK(sys_write_file(trap, "mine", 4, err, sizeof err) == 0);
    CHECK(strcmp(slurp(target), "mine") == 0);
    /* someone else's link (needs root to make one): refused, target intact */
    if (geteuid() == 0 && lchown(trap, 65534, 65534) == 0) {
        CHECK(sys_write_file(trap, "evil", 4, err, sizeof err) == -1);
        CHECK(strstr(err, "protected_symlinks") != NULL && strstr(err, trap) != NULL);
        CHECK(strcmp(slurp(target), "mine") == 0);
        /* ... unless the directory is that user's own */
        CHECK(chown(tmp, 65534, 65534) == 0);
        CHECK(sys_write_file(trap, "theirs", 6, err, sizeof err) == 0);
        CHECK(strcmp(slurp(target), "theirs") == 0);
    } else {
        printf("skip: someone else's link needs root\n");
    }
    unlink(trap);
    rmdir(tmp);
    unlink(link);
    unlink(target);
}

/* Devices are written in place, and their write errors are errors. */
static void test_devices(void)
{
    char err[512];
    CHECK(sys_write_file("/dev/null", "x", 1, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(sys_write_file("/dev/full", "x", 1, err, sizeof err) == -1);
    CHECK(strstr(err, "/dev/full: No space left on device") != NULL);
    CHECK(sys_write_file(path_in(dir, "no/such/dir/x"), "x", 1, err, sizeof err) == -1);
    CHECK(strstr(err, "no/such/dir/x") != NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/perfgo-writefile-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_modes);
    RUN(test_symlinks);
    RUN(test_devices);
    rmdir(dir);
    return CHECK_DONE();
}
