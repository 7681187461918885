/* Private to the symbol tables: symtab.c (the table, perf's rules and
 * lookups), symtab_elf.c (ELF files through libdwfl, source lines) and
 * symtab_text.c (kallsyms). */
#ifndef PERFGO_PD_SYMTAB_IMPL_H
#define PERFGO_PD_SYMTAB_IMPL_H

#include "symtab.h"

typedef struct sym {
    uint64_t start, end;
    uint32_t name; /* offset into names */
    uint32_t order;
    uint8_t bind, nonzero;
    uint8_t module; /* kallsyms: a module's symbol ("name\t[module]") */
    uint8_t plain;  /* shown as it is, even in a table that demangles */
} sym;

/* An ELF file's libdwfl module (symtab_elf.c), for source lines. */
typedef struct pd_elfsyms pd_elfsyms;

struct pd_symtab {
    sym *syms;
    size_t n, cap;
    char *names; /* NUL-terminated names; or a kallsyms text, each name ending at its newline */
    size_t names_len, names_cap;
    bool text;       /* names is a kallsyms text */
    bool mapped;     /* names is a mapped file */
    bool demangle;   /* names are shown demangled (demangle.h) */
    char **shown;    /* per symbol, once looked up: its demangled name, or NOT_MANGLED */
    pd_elfsyms *elf; /* NULL but for ELF files */
};

/* symtab.c */
/* Appends a symbol whose name is at offset name of names. 0 or -1 (OOM). */
int pd_symtab_push(pd_symtab *t, uint64_t start, uint64_t size, int bind, size_t name, bool module);
/* Appends a symbol with a copy of its name. 0 or -1 (OOM). */
int pd_symtab_add(pd_symtab *t, uint64_t start, uint64_t size, int bind, const char *name,
                  size_t len);
/* Sorts by address, symbols at one address in the order they were added. */
void pd_symtab_sort(pd_symtab *t);
/* perf's fixups once every symbol is in: ends of sizeless symbols, then
 * duplicates (symtab.c's header). */
void pd_symtab_fixup(pd_symtab *t, bool kallsyms);

/* symtab_elf.c */
void pd_elfsyms_free(pd_elfsyms *e);

#endif
