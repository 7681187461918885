/* The process heap, prepared for conversions. Converting a recording
 * fills tables of tens of MB (frames, stacks, the profile's) once; where
 * every 4 KiB page fault costs microseconds (a VM), those faults were a
 * third of a perf.data conversion's time. So before anything is
 * allocated in earnest the main heap is given HEAP_AHEAD bytes of room
 * (grown without touching it) that are advised for transparent huge
 * pages: one fault per 2 MiB. Blocks up to 32 MiB come from the heap
 * (mmap'd blocks would get 4 KiB pages again), and freed memory stays in
 * the process rather than going back to the kernel and faulting in
 * again. Only memory touched is resident; where the kernel offers no huge
 * pages ("never") the advice changes nothing. glibc only (mallopt); a
 * failure anywhere leaves the heap as it was. */
#include <stdint.h>
#include <stdlib.h>

#ifdef __GLIBC__
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "host.h"

#define HEAP_STEP ((size_t)16 << 20)
#define HEAP_AHEAD (8 * HEAP_STEP)
#define HUGE_PAGE ((uintptr_t)2 << 20)

void host_prepare_heap(void)
{
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
    if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, 256 << 20) ||
        !mallopt(M_TOP_PAD, 16 << 20))
        return;
    char *start = sbrk(0);
    void *blocks[HEAP_AHEAD / HEAP_STEP];
    size_t n = 0;
    while (n < HEAP_AHEAD / HEAP_STEP && (blocks[n] = malloc(HEAP_STEP)))
        n++;
    while (n)
        free(blocks[--n]); /* the room becomes the heap's free top, kept */
    char *end = sbrk(0);
    uintptr_t from = ((uintptr_t)start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (start != (char *)-1 && end != (char *)-1 && (uintptr_t)end > from)
        (void)madvise((void *)from, (uintptr_t)end - from, MADV_HUGEPAGE); /* advice */
#endif
}
