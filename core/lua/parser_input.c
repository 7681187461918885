/* Text input of perfgo.parser's feed_file: the file (or stdin) streamed
 * into the parser in blocks, read ahead by a thread for regular files,
 * gunzipped on the way when it starts with the gzip magic (the archive
 * keeps perf.script.gz), and refused when its first 64 KiB of text hold a
 * NUL byte: perf script never prints one, so such input is binary (an
 * ELF file, a pprof profile, ...) and the error names the first one. */
#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <sys/stat.h>

#include "parser_udata.h"
#include "sys/readahead.h"

/* Input is read in blocks small enough to stay in the CPU caches while
 * they are parsed (measured: as fast as mapping the file, with less RSS).
 * Regular files are read ahead by a thread, READ_AHEAD blocks at most, so
 * the kernel's copy runs beside the parsing. */
#define READ_CHUNK (128u << 10)
#define READ_AHEAD 8
#define SNIFF_BYTES (64u << 10) /* text checked for NUL bytes */

typedef struct stream {
    int fd;
    sys_readahead *ra;
    char *raw;   /* plain reads */
    bool gz;     /* inflate what is read */
    bool gz_end; /* the last gzip member ended (more may follow) */
    z_stream zs;
    bool zs_live;
    char *out; /* inflated text */
    const char *head;
    size_t nhead; /* bytes read before the stream started */
    int err;      /* errno of a failed read */
    const char *zerr;
} stream;

static void stream_free(stream *s)
{
    sys_readahead_free(s->ra);
    free(s->raw);
    free(s->out);
    if (s->zs_live)
        inflateEnd(&s->zs);
}

/* The next block of the file as it is: the head first. 0 at the end, -1
 * on a read error (s->err). */
static ssize_t next_raw(stream *s, const char **data)
{
    if (s->nhead) {
        *data = s->head;
        ssize_t n = (ssize_t)s->nhead;
        s->nhead = 0;
        return n;
    }
    for (;;) {
        *data = s->raw;
        ssize_t n = s->ra ? sys_readahead_next(s->ra, data) : read(s->fd, s->raw, READ_CHUNK);
        if (n < 0 && errno == EINTR && !s->ra)
            continue;
        if (n < 0)
            s->err = errno;
        return n;
    }
}

/* The next block of text: the file's bytes, or what they inflate to. 0 at
 * the end, -1 on an error (s->err or s->zerr). */
static ssize_t next_text(stream *s, const char **data)
{
    if (!s->gz)
        return next_raw(s, data);
    for (;;) {
        if (s->zs.avail_in == 0) {
            const char *in;
            ssize_t n = next_raw(s, &in);
            if (n < 0)
                return -1;
            if (n == 0) {
                if (!s->gz_end)
                    s->zerr = "the gzip data is truncated";
                return s->gz_end ? 0 : -1;
            }
            s->zs.next_in = (Bytef *)in;
            s->zs.avail_in = (uInt)n;
        }
        if (s->gz_end) { /* another member follows (gzip -c a b) */
            if (inflateReset(&s->zs) != Z_OK)
                return s->zerr = "gzip: cannot continue", -1;
            s->gz_end = false;
        }
        s->zs.next_out = (Bytef *)s->out;
        s->zs.avail_out = READ_CHUNK;
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            s->gz_end = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return s->zerr = s->zs.msg ? s->zs.msg : "corrupt gzip data", -1;
        size_t n = READ_CHUNK - s->zs.avail_out;
        if (n) {
            *data = s->out;
            return (ssize_t)n;
        }
    }
}

int perfgo_parser_feed_stream(lua_State *L, lparser *lp, int fd, const char *name, const char *head,
                              size_t nhead, int progress)
{
    stream s = {.fd = fd, .head = head, .nhead = nhead};
    s.gz = nhead >= 2 && (unsigned char)head[0] == 0x1f && (unsigned char)head[1] == 0x8b;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && sys_readahead_useful())
        s.ra = sys_readahead_new(fd, READ_CHUNK, READ_AHEAD);
    bool oom = (!s.ra && !(s.raw = malloc(READ_CHUNK))) || (s.gz && !(s.out = malloc(READ_CHUNK)));
    if (!oom && s.gz) {
        s.zs_live = inflateInit2(&s.zs, 15 + 16) == Z_OK;
        oom = !s.zs_live;
    }
    if (oom) {
        stream_free(&s);
        return luaL_error(L, "out of memory");
    }
    uint64_t next = 16u << 20, text = 0;
    int rc = PS_OK;
    ssize_t n;
    const char *data;
    while ((n = next_text(&s, &data)) > 0) {
        if (text < SNIFF_BYTES) {
            size_t k = (size_t)n < SNIFF_BYTES - text ? (size_t)n : SNIFF_BYTES - text;
            const char *nul = memchr(data, '\0', k);
            if (nul) {
                stream_free(&s);
                lua_pushnil(L);
                lua_pushfstring(L,
                                "%s: binary data (a NUL byte) at byte %I%s: not perf script "
                                "output or perf.data",
                                name, (lua_Integer)(text + (uint64_t)(nul - data)),
                                s.gz ? " of the gunzipped text" : "");
                return 2;
            }
        }
        text += (uint64_t)n;
        if ((rc = ps_feed(lp->p, data, (size_t)n)) != PS_OK)
            break;
        const ps_stats *pst = ps_get_stats(lp->p);
        if (progress && pst->bytes >= next) {
            next = pst->bytes + (16u << 20);
            lua_pushvalue(L, progress);
            lua_pushinteger(L, (lua_Integer)pst->bytes);
            lua_pushinteger(L, (lua_Integer)pst->samples);
            if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
                stream_free(&s);
                return lua_error(L);
            }
        }
    }
    if (n < 0) {
        lua_pushnil(L);
        if (s.zerr)
            lua_pushfstring(L, "%s: gzip: %s", name, s.zerr);
        else
            lua_pushfstring(L, "%s: %s", name, strerror(s.err));
        stream_free(&s);
        return 2;
    }
    stream_free(&s);
    if (rc)
        return perfgo_parser_error(L, lp, rc);
    lua_pushboolean(L, 1);
    lua_pushliteral(L, "text");
    return 2;
}
