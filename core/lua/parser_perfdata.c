/* perf.data input of perfgo.parser: the file is read by core/perfdata
 * and its samples go into the parser's tables as perf script's text
 * would (core/perfdata/convert.h), so that p:finish() and p:folded()
 * work the same for both inputs. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "parser_udata.h"
#include "perfdata/convert.h"

typedef struct progress_ctx {
    lua_State *L;
    int fn;
    bool failed;
} progress_ctx;

static int on_progress(void *ctx, uint64_t bytes, uint64_t samples)
{
    progress_ctx *pc = ctx;
    lua_pushvalue(pc->L, pc->fn);
    lua_pushinteger(pc->L, (lua_Integer)bytes);
    lua_pushinteger(pc->L, (lua_Integer)samples);
    if (lua_pcall(pc->L, 2, 0, 0) != LUA_OK) {
        pc->failed = true; /* the error object stays on the stack */
        return 1;
    }
    return 0;
}

/* Everything the conversion owns, freed on every path (a Lua error from
 * the progress function included: it is raised only after the free). */
typedef struct job {
    pd_reader *r;
    pd_syms *s;
    pd_path_map *pm;
} job;

static void job_free(job *j)
{
    pd_syms_free(j->s);
    pd_close(j->r);
    free(j->pm);
}

int perfgo_parser_feed_perfdata(lua_State *L, lparser *lp, int fd, const char *name,
                                const char *head, size_t nhead, int progress)
{
    char err[640];
    job j = {NULL, NULL, NULL};
    int rc = PD_CONVERT_ERROR;
    j.r = pd_open_prefix(fd, name, head, nhead, err, sizeof err);
    if (j.r) {
        const char *why = pd_convert_unsupported(pd_get_info(j.r));
        if (why) {
            snprintf(err, sizeof err, "%s: %s", name, why);
            rc = PD_CONVERT_UNSUPPORTED;
        } else if (lp->npath_map && !(j.pm = calloc(lp->npath_map, sizeof *j.pm))) {
            snprintf(err, sizeof err, "out of memory");
        } else {
            for (size_t i = 0; i < lp->npath_map; i++)
                j.pm[i] = (pd_path_map){lp->path_map[i].from, lp->path_map[i].to};
            pd_syms_options so = {
                .binary_root = lp->binary_root,
                .path_map = j.pm,
                .npath_map = lp->npath_map,
                .remote = lp->bo.remote,
                .kallsyms = lp->kallsyms,
                .debug_dir = lp->debug_dir,
            };
            j.s = pd_syms_new(&so, pd_get_info(j.r));
            if (!j.s) {
                snprintf(err, sizeof err, "out of memory");
            } else {
                progress_ctx pc = {L, progress, false};
                pd_convert_options co = {progress ? on_progress : NULL, &pc, lp->fo.srcline};
                char msg[512];
                rc = pd_convert(j.r, j.s, lp->p, &co, msg, sizeof msg);
                if (pc.failed) {
                    job_free(&j);
                    return lua_error(L);
                }
                if (rc == PD_CONVERT_UNSUPPORTED)
                    snprintf(err, sizeof err, "%s: %s", name, msg);
                else if (rc != PD_CONVERT_OK)
                    snprintf(err, sizeof err, "%s", msg);
            }
        }
    }
    job_free(&j);
    if (rc == PD_CONVERT_OK) {
        /* the addresses are the ips themselves, not printed offsets */
        lp->bo.addr_kind = SYMMAP_ADDR_RAW;
        lp->bo.perfdata = true;
        lua_pushboolean(L, 1);
        lua_pushliteral(L, "perf.data");
        return 2;
    }
    if (strstr(err, "out of memory") == err)
        return luaL_error(L, "out of memory while reading %s", name);
    lua_pushnil(L);
    lua_pushstring(L, err);
    if (rc == PD_CONVERT_UNSUPPORTED) {
        lua_pushliteral(L, "unsupported");
        return 3;
    }
    return 2;
}
