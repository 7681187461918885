/* Symbol names demangled as perf demangles user-space symbols (its
 * symbol-elf.c demangle_sym, perf built with libiberty, default options):
 * GNU libiberty's cplus_demangle without options, so no parameter lists
 * ("ns::Box<unsigned long>::spin", "(anonymous namespace)::f"), which
 * also reads Rust's legacy mangling (hash dropped) and its v0, and D;
 * else OCaml's "caml" names ("camlFoo__bar_12" is "Foo.bar_12"). perf's last
 * resort, reading a name with a ')' as a Java signature, is left out: ELF
 * symbols do not have one. Kernel symbols are not demangled (perf's
 * default), nor the names of JIT maps. Pure C. */
#ifndef PERFGO_PD_DEMANGLE_H
#define PERFGO_PD_DEMANGLE_H

#include <stddef.h>

/* The demangled name (malloc'd, NUL-terminated), or NULL when name (len
 * bytes) is not mangled or memory is short. */
char *pd_demangle(const char *name, size_t len);

#endif
