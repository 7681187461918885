/*
 * Output streams: buffers for piped output, the tee (our terminal and a
 * file, byte for byte), and the reading API on top of the poll loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int proc_buf_append(struct proc_buf *b, const char *data, size_t n)
{
    if (b->start > 0 && b->start + b->len + n > b->cap) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > ((size_t)-1) / 2)
                return -1;
            cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (p == NULL)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->start + b->len, data, n);
    b->len += n;
    return 0;
}

void proc_buf_consume(struct proc_buf *b, size_t n)
{
    if (n >= b->len) {
        b->start = b->len = 0;
        return;
    }
    b->start += n;
    b->len -= n;
}

void proc_buf_free(struct proc_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Writes all of data to fd, waiting when fd is non-blocking and full. */
static int write_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                poll(&p, 1, 100);
                continue;
            }
            return -1;
        }
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static int deliver(struct proc_stream *s, const char *data, size_t n)
{
    if (s->mode == PROC_TEE) {
        if (s->echo_fd >= 0 && write_all(s->echo_fd, data, n) != 0) {
            /* our terminal or reader went away: keep the file going */
            if (errno == EPIPE)
                proc_signals_notify(SIGPIPE);
            s->echo_fd = -1;
        }
        if (s->tee_fd >= 0 && write_all(s->tee_fd, data, n) != 0) {
            if (s->tee_error == 0)
                s->tee_error = errno;
            close(s->tee_fd);
            s->tee_fd = -1;
        }
    }
    if (s->capture && proc_buf_append(&s->buf, data, n) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int proc_stream_pull(struct proc_stream *s)
{
    if (s->fd < 0)
        return 0;
    char chunk[PROC_CHUNK];
    ssize_t n;
    do {
        n = read(s->fd, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? 0 : -1;
    if (n == 0) {
        close(s->fd);
        s->fd = -1;
        s->eof = true;
        return 0;
    }
    return deliver(s, chunk, (size_t)n) == 0 ? 1 : -1;
}

void proc_stream_drain(struct proc_stream *s)
{
    while (proc_stream_pull(s) > 0) {
    }
}

static struct proc_stream *piped(struct proc_child *c, int stream)
{
    if (stream != PROC_STDOUT && stream != PROC_STDERR)
        return NULL;
    struct proc_stream *s = &c->out[stream];
    return s->capture ? s : NULL;
}

/* Pumps until s has at least one byte buffered (or a '\n' when line is
 * set), or reached end of file. */
static int fill(struct proc_child *c, struct proc_stream *s, bool line)
{
    for (;;) {
        if (s->buf.len > 0 &&
            (!line || memchr(s->buf.data + s->buf.start, '\n', s->buf.len) != NULL))
            return 0;
        if (s->eof || s->fd < 0)
            return 0;
        proc_check_exit(c);
        if (proc_pump(c, false, c->pidfd < 0 && !c->reaped ? 20 : -1, NULL) != 0)
            return -1;
    }
}

ssize_t proc_read(struct proc_child *c, int stream, char *buf, size_t n)
{
    struct proc_stream *s = piped(c, stream);
    if (s == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (fill(c, s, false) != 0)
        return -1;
    size_t take = s->buf.len < n ? s->buf.len : n;
    memcpy(buf, s->buf.data + s->buf.start, take);
    proc_buf_consume(&s->buf, take);
    return (ssize_t)take;
}

int proc_read_line(struct proc_child *c, int stream, const char **line, size_t *len)
{
    struct proc_stream *s = piped(c, stream);
    if (s == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (fill(c, s, true) != 0)
        return -1;
    if (s->buf.len == 0)
        return 0;
    const char *p = s->buf.data + s->buf.start;
    const char *nl = memchr(p, '\n', s->buf.len);
    size_t take = nl ? (size_t)(nl - p) + 1 : s->buf.len;
    *line = p;
    *len = take;
    proc_buf_consume(&s->buf, take);
    /* consume only moves offsets: the bytes stay valid until the next
     * append, which cannot happen before the caller's next call. */
    return 1;
}

int proc_read_all(struct proc_child *c, int stream, const char **data, size_t *len)
{
    struct proc_stream *s = piped(c, stream);
    if (s == NULL) {
        errno = EINVAL;
        return -1;
    }
    while (!s->eof && s->fd >= 0) {
        proc_check_exit(c);
        if (proc_pump(c, false, c->pidfd < 0 && !c->reaped ? 20 : -1, NULL) != 0)
            return -1;
    }
    *data = s->buf.data ? s->buf.data + s->buf.start : "";
    *len = s->buf.len;
    proc_buf_consume(&s->buf, s->buf.len);
    return 0;
}

int proc_write(struct proc_child *c, const void *buf, size_t n)
{
    const char *p = buf;
    if (c->stdin_fd < 0) {
        errno = EBADF;
        return -1;
    }
    while (n > 0) {
        bool writable = false;
        if (proc_pump(c, true, -1, &writable) != 0)
            return -1;
        if (!writable)
            continue;
        ssize_t w = write(c->stdin_fd, p, n > PROC_CHUNK ? PROC_CHUNK : n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void proc_close_stdin(struct proc_child *c)
{
    if (c->stdin_fd >= 0) {
        close(c->stdin_fd);
        c->stdin_fd = -1;
    }
}

int proc_tee_error(const struct proc_child *c, int stream)
{
    if (stream != PROC_STDOUT && stream != PROC_STDERR)
        return 0;
    return c->out[stream].tee_error;
}
