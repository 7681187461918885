/* Large growing buffers (tables of 100,000s of entries) and the page
 * faults that filling them costs: one fault per 4 KiB page, several
 * microseconds each in a VM, is most of the time spent storing a table
 * that is read once. A buffer of SYS_HUGE_MIN bytes or more is therefore
 * allocated 2 MiB-aligned and advised for transparent huge pages (one
 * fault per 2 MiB) before it is first touched; where the kernel offers
 * none (transparent_hugepage "never") that changes nothing. Such buffers
 * are released with free(). Header-only, so that the pure-C engines can
 * use it without a library. */
#ifndef PERFGO_SYS_HUGEPAGE_H
#define PERFGO_SYS_HUGEPAGE_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SYS_HUGE_PAGE ((size_t)2 << 20)
#define SYS_HUGE_MIN ((size_t)4 << 20) /* smaller buffers come from malloc as usual */

/* n bytes (n >= SYS_HUGE_MIN), not zeroed, or NULL. */
static inline void *sys_alloc_huge(size_t n)
{
    if (n > SIZE_MAX - SYS_HUGE_PAGE)
        return NULL;
    size_t size = (n + SYS_HUGE_PAGE - 1) & ~(SYS_HUGE_PAGE - 1);
    void *p = aligned_alloc(SYS_HUGE_PAGE, size);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, size, MADV_HUGEPAGE); /* advice: failure is harmless */
#endif
    return p;
}

/* realloc(p, n) that moves a buffer of SYS_HUGE_MIN bytes or more (old of
 * them in use) to huge pages; smaller ones are left to realloc. */
static inline void *sys_realloc_big(void *p, size_t old, size_t n)
{
    if (n < SYS_HUGE_MIN)
        return realloc(p, n);
    void *q = sys_alloc_huge(n);
    if (!q)
        return NULL;
    if (old)
        memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}

/* calloc(n, 1) on huge pages when n is large. */
static inline void *sys_calloc_big(size_t n)
{
    if (n < SYS_HUGE_MIN)
        return calloc(n ? n : 1, 1);
    void *q = sys_alloc_huge(n);
    if (q)
        memset(q, 0, n);
    return q;
}

#endif
