/* Symbol tables with perf's rules (symtab.c; from ELF files in
 * symtab_elf.c, from kallsyms in symtab_text.c): from an ELF file through
 * libdwfl, or from a kallsyms text. Pure C. */
#ifndef PERFGO_PD_SYMTAB_H
#define PERFGO_PD_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pd_symtab pd_symtab;

/* The symbols of an ELF file (and of its separate debug file, found by
 * build id or debug link). NULL with a message in err when the file
 * cannot be opened or is not ELF. */
pd_symtab *pd_symtab_elf(const char *path, char *err, size_t errlen);
/* The symbols of a kallsyms file ("addr type name[\t[module]]" lines).
 * NULL when unreadable or when every address is 0 (kptr_restrict). */
pd_symtab *pd_symtab_kallsyms(const char *path, char *err, size_t errlen);
/* The symbols of a JIT's /tmp/perf-PID.map ("START SIZE name" lines),
 * as perf reads them (symtab_text.c), from the file open on fd (path for
 * messages; fd stays open). NULL with a message in err when unreadable or
 * not owned by this user or root. */
pd_symtab *pd_symtab_perfmap(int fd, const char *path, char *err, size_t errlen);
void pd_symtab_free(pd_symtab *t);
size_t pd_symtab_count(const pd_symtab *t);

/* The name of the symbol holding addr (an ELF vaddr, or a kernel
 * address), its length in *len (it need not be NUL-terminated) and its
 * start in *start; NULL when none does. An ELF file's names come
 * demangled as perf shows them (demangle.h). A kallsyms module symbol's
 * name is "name\t[module]". */
const char *pd_symtab_find(pd_symtab *t, uint64_t addr, uint64_t *start, size_t *len);
/* The source position of vaddr as perf's addr2line gives it: the line
 * table row that holds it (the innermost inlined function's file and
 * line, which may be 0), in the file the symbols came from, when that
 * file has a line table (.debug_line), as perf checks. false when there
 * is none (addr2line answers "??:0"). The file string lives as long as
 * t. */
bool pd_symtab_srcline(pd_symtab *t, uint64_t vaddr, const char **file, int *line);

#endif
