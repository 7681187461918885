/* Source lines as perf script prints them (srcline.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srcline.h"

#define A2L_FAIL_LIMIT 123 /* perf's: failures before it gives up on a DSO */

typedef struct fsrc {
    uint32_t src; /* srcline id, 0 = none printed */
    int32_t dso;  /* the DSO addr2line is asked in, -1 = none that can answer */
    bool known;   /* learnt */
    bool ok;      /* addr2line answers (a line table row holds the address) */
} fsrc;

struct pd_srclines {
    fsrc *frames; /* by frame id */
    size_t nframes;
    uint32_t *fails; /* by DSO: perf's a2l_fails (1 at first, 0 after a success) */
    size_t nfails;
};

pd_srclines *pd_srclines_new(void)
{
    return calloc(1, sizeof(pd_srclines));
}

void pd_srclines_free(pd_srclines *t)
{
    if (!t)
        return;
    free(t->frames);
    free(t->fails);
    free(t);
}

static bool grow(void **p, size_t *n, size_t want, size_t elem)
{
    if (want <= *n)
        return true;
    size_t cap = *n ? *n : 256;
    while (cap < want)
        cap *= 2;
    unsigned char *q = realloc(*p, cap * elem);
    if (!q)
        return false;
    memset(q + *n * elem, 0, (cap - *n) * elem);
    *p = q;
    *n = cap;
    return true;
}

int pd_srclines_learn(pd_srclines *t, pd_syms *s, ps_parser *p, uint32_t id, const pd_frame *f)
{
    if (!grow((void **)&t->frames, &t->nframes, (size_t)id + 1, sizeof *t->frames))
        return -1;
    fsrc *e = &t->frames[id];
    if (e->known)
        return 0;
    e->known = true;
    e->dso = -1;
    if (f->kernel || f->dso_id < 0)
        return 0; /* no file to ask: it never answers, its count never matters */
    size_t old = t->nfails;
    if (!grow((void **)&t->fails, &t->nfails, (size_t)f->dso_id + 1, sizeof *t->fails))
        return -1;
    for (size_t i = old; i < t->nfails; i++)
        t->fails[i] = 1;
    e->dso = f->dso_id;
    const char *file;
    int line;
    if (!(e->ok = pd_syms_srcline(s, f, &file, &line)))
        return 0;
    /* "file:line" with the file's base name, as perf prints it */
    const char *base = strrchr(file, '/');
    char text[4096 + 16];
    int n = snprintf(text, sizeof text, "%.4096s:%u", base ? base + 1 : file, (unsigned)line);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    uint32_t src = ps_direct_srcline(p, text, len);
    if (src == UINT32_MAX)
        return -1;
    e->src = src;
    return 0;
}

uint32_t pd_srclines_print(pd_srclines *t, uint32_t id)
{
    if (id >= t->nframes || t->frames[id].dso < 0)
        return 0;
    const fsrc *e = &t->frames[id];
    uint32_t *fails = &t->fails[e->dso];
    if (*fails > A2L_FAIL_LIMIT) /* perf gave up on the DSO */
        return 0;
    if (e->ok) {
        *fails = 0;
        return e->src;
    }
    if (*fails)
        ++*fails;
    return 0;
}
