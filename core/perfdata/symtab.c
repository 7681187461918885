/* Symbol tables with perf's rules: the table and its lookups. Tables
 * come from an ELF file (symtab_elf.c) or a kallsyms text
 * (symtab_text.c).
 *
 * perf's rules (tools/perf/util/symbol.c, symbol-elf.c), so that names
 * come out as `perf script` prints them:
 *   - kept: functions (STT_FUNC, STT_GNU_IFUNC) and objects with a name,
 *     not undefined; labels (STT_NOTYPE, not absolute, not hidden or
 *     internal) only in a section whose name has "text" or "data";
 *   - symbols at the same address: one is kept, preferring one with a
 *     size, then not weak, then global, then fewer leading underscores,
 *     then the longer name, then the first (names compared as shown);
 *   - a symbol of size 0 reaches the next symbol (the last one the end of
 *     its page plus a page; in kallsyms, the last before a module's
 *     symbols only the end of the next page);
 *   - an address belongs to the last symbol starting at or below it when
 *     it lies below that symbol's end, else to none ("[unknown]"). */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include "demangle.h"
#include "symtab_impl.h"

int pd_symtab_push(pd_symtab *t, uint64_t start, uint64_t size, int bind, size_t name, bool module)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        sym *s = realloc(t->syms, cap * sizeof *s);
        if (!s)
            return -1;
        t->syms = s;
        t->cap = cap;
    }
    if (name > UINT32_MAX)
        return -1;
    t->syms[t->n] = (sym){start,         start + size, (uint32_t)name, (uint32_t)t->n,
                          (uint8_t)bind, size != 0,    module,         0};
    t->n++;
    return 0;
}

int pd_symtab_add(pd_symtab *t, uint64_t start, uint64_t size, int bind, const char *name,
                  size_t len)
{
    if (t->names_cap - t->names_len < len + 1) {
        size_t cap = t->names_cap ? t->names_cap : 1u << 16;
        while (cap - t->names_len < len + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return -1;
        char *b = realloc(t->names, cap);
        if (!b)
            return -1;
        t->names = b;
        t->names_cap = cap;
    }
    memcpy(t->names + t->names_len, name, len);
    t->names[t->names_len + len] = '\0';
    if (pd_symtab_push(t, start, size, bind, t->names_len, false))
        return -1;
    t->names_len += len + 1;
    return 0;
}

static int cmp_sym(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void pd_symtab_sort(pd_symtab *t)
{
    bool sorted = true;
    for (size_t i = 0; sorted && i + 1 < t->n; i++)
        sorted = t->syms[i].start <= t->syms[i + 1].start;
    if (!sorted) /* kallsyms is sorted already */
        qsort(t->syms, t->n, sizeof *t->syms, cmp_sym);
}

static size_t underscores(const char *s)
{
    size_t n = 0;
    while (s[n] == '_')
        n++;
    return n;
}

/* The length of a symbol's name (up to its NUL, or its newline in a
 * kallsyms text). */
static size_t name_len(const pd_symtab *t, const sym *s)
{
    const char *p = t->names + s->name;
    return t->text ? strcspn(p, "\n") : strlen(p);
}

/* A marker in shown[]: the name is shown as stored. */
static char not_mangled[1];
#define NOT_MANGLED not_mangled

/* The name perf shows for s, as demangled when the table demangles:
 * malloc'd in *own (to be freed) when it differs from the stored one. */
static const char *shown_name(const pd_symtab *t, const sym *s, size_t *len, char **own)
{
    const char *name = t->names + s->name;
    *own = NULL;
    *len = name_len(t, s);
    if (t->demangle && !s->plain && (*own = pd_demangle(name, *len))) {
        *len = strlen(*own);
        return *own;
    }
    return name;
}

/* perf's choose_best_symbol, on the names as shown: true when a is kept
 * over b. */
static bool better(const pd_symtab *t, const sym *a, const sym *b)
{
    if (a->nonzero != b->nonzero)
        return a->nonzero;
    bool aw = a->bind == STB_WEAK, bw = b->bind == STB_WEAK;
    if (aw != bw)
        return bw;
    bool ag = a->bind == STB_GLOBAL, bg = b->bind == STB_GLOBAL;
    if (ag != bg)
        return ag;
    char *ao, *bo;
    size_t al, bl;
    const char *an = shown_name(t, a, &al, &ao), *bn = shown_name(t, b, &bl, &bo);
    size_t au = underscores(an), bu = underscores(bn);
    free(ao);
    free(bo);
    if (au != bu)
        return au < bu;
    if (al != bl)
        return al > bl;
    return true;
}

/* Sorts, gives sizeless symbols their end, then drops duplicates: in
 * this order, as perf does (symbols__fixup_end, then
 * symbols__fixup_duplicate), so that of several sizeless symbols at one
 * address the last one, which alone reaches the next address, is kept. */
void pd_symtab_fixup(pd_symtab *t, bool kallsyms)
{
    pd_symtab_sort(t);
    for (size_t i = 0; i + 1 < t->n; i++) {
        sym *p = &t->syms[i], *c = &t->syms[i + 1];
        if (p->end != p->start)
            continue;
        if (kallsyms && p->module != c->module)
            p->end = ((p->start + 4096) + 4095) & ~(uint64_t)4095;
        else
            p->end = c->start;
    }
    if (t->n && t->syms[t->n - 1].end == t->syms[t->n - 1].start) {
        sym *l = &t->syms[t->n - 1];
        l->end = ((l->start + 4095) & ~(uint64_t)4095) + 4096;
    }
    for (size_t i = 0; i < t->n; i++)
        t->syms[i].nonzero = t->syms[i].end > t->syms[i].start;
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (k && t->syms[k - 1].start == t->syms[i].start) {
            if (!better(t, &t->syms[k - 1], &t->syms[i]))
                t->syms[k - 1] = t->syms[i];
            continue;
        }
        t->syms[k++] = t->syms[i];
    }
    t->n = k;
}

const char *pd_symtab_find(pd_symtab *t, uint64_t addr, uint64_t *start, size_t *len)
{
    if (!t || !t->n || addr < t->syms[0].start)
        return NULL;
    size_t lo = 0, hi = t->n; /* the last symbol with start <= addr */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].start <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const sym *s = &t->syms[lo];
    if (addr >= s->end)
        return NULL;
    if (start)
        *start = s->start;
    if (t->demangle && (t->shown || (t->shown = calloc(t->n, sizeof *t->shown)))) {
        if (!t->shown[lo]) { /* demangled once, when first looked up */
            size_t n;
            char *own;
            shown_name(t, s, &n, &own);
            t->shown[lo] = own ? own : NOT_MANGLED;
        }
        if (t->shown[lo] != NOT_MANGLED) {
            if (len)
                *len = strlen(t->shown[lo]);
            return t->shown[lo];
        }
    }
    if (len)
        *len = name_len(t, s);
    return t->names + s->name;
}

size_t pd_symtab_count(const pd_symtab *t)
{
    return t ? t->n : 0;
}

void pd_symtab_free(pd_symtab *t)
{
    if (!t)
        return;
    pd_elfsyms_free(t->elf);
    for (size_t i = 0; t->shown && i < t->n; i++)
        if (t->shown[i] != NOT_MANGLED)
            free(t->shown[i]);
    free(t->shown);
    free(t->syms);
    if (t->mapped)
        munmap(t->names, t->names_len);
    else
        free(t->names);
    free(t);
}
