/* Stack labels (builder.h, ps_stack_label): a label whose value is the
 * function a given caller called, read off each distinct stack while the
 * profile is built. The work is per distinct stack (a scan of its frames
 * for a flag byte) and per distinct function name (the prefix test and
 * the value's string), never per input sample. */
#include <stdlib.h>

#include "builder_impl.h"

enum { SL_UNKNOWN = 0, SL_YES = 1, SL_NO = -1 };

int psb_labels_init(builder *b, size_t nf)
{
    size_t nrules = b->o->nstack_labels;
    if (nrules > PS_MAX_STACK_LABELS)
        nrules = PS_MAX_STACK_LABELS;
    for (size_t r = 0; r < PS_MAX_STACK_LABELS; r++)
        b->sl_key[r] = UINT64_MAX;
    if (!nrules)
        return 0;
    size_t nnames = ps_strtab_count(&b->names) + 1;
    b->caller_mask = calloc(nf, 1);
    if (!b->caller_mask)
        return -1;
    for (size_t r = 0; r < nrules; r++) {
        b->sl_ok[r] = calloc(nnames, sizeof *b->sl_ok[r]);
        b->sl_str[r] = malloc(nnames * sizeof *b->sl_str[r]);
        if (!b->sl_ok[r] || !b->sl_str[r])
            return -1;
        for (size_t i = 0; i < nnames; i++)
            b->sl_str[r][i] = UINT64_MAX;
    }
    /* the callers, by name id, then by frame */
    uint8_t *name_mask = calloc(nnames, 1);
    if (!name_mask)
        return -1;
    for (size_t r = 0; r < nrules; r++) {
        const char *c = b->o->stack_labels[r].caller;
        uint32_t id = c ? ps_strtab_find(&b->names, c, strlen(c)) : 0;
        if (id)
            name_mask[id] |= (uint8_t)(1u << r);
    }
    for (size_t id = 1; id < nf; id++)
        b->caller_mask[id] = name_mask[b->frames[id].name];
    free(name_mask);
    return 0;
}

void psb_labels_free(builder *b)
{
    free(b->caller_mask);
    b->caller_mask = NULL;
    for (size_t r = 0; r < PS_MAX_STACK_LABELS; r++) {
        free(b->sl_ok[r]);
        free(b->sl_str[r]);
        b->sl_ok[r] = NULL;
        b->sl_str[r] = NULL;
    }
}

/* The value text of a function name: after the Go package path ("a/b.")
 * when the rule says so. The path ends at the first '.' after the last
 * '/' that comes before any '(' or '[' (a method's receiver, a generic's
 * type arguments). */
static ps_str value_text(const ps_stack_label *rule, ps_str name)
{
    if (!rule->strip_package)
        return name;
    size_t end = name.len, slash = 0;
    for (size_t i = 0; i < name.len; i++) {
        if (name.ptr[i] == '(' || name.ptr[i] == '[') {
            end = i;
            break;
        }
        if (name.ptr[i] == '/')
            slash = i + 1;
    }
    const char *dot = memchr(name.ptr + slash, '.', end - slash);
    if (!dot)
        return name;
    size_t skip = (size_t)(dot - name.ptr) + 1;
    return (ps_str){name.ptr + skip, name.len - skip};
}

/* Whether name id v makes a value for rule r (its prefix test, once). */
static bool name_ok(builder *b, size_t r, uint32_t v)
{
    if (b->sl_ok[r][v] == SL_UNKNOWN) {
        const ps_stack_label *rule = &b->o->stack_labels[r];
        ps_str text = value_text(rule, ps_strtab_get(&b->names, v));
        size_t n = rule->prefix ? strlen(rule->prefix) : 0;
        bool ok =
            text.len > 0 && text.len >= n && (n == 0 || memcmp(text.ptr, rule->prefix, n) == 0);
        b->sl_ok[r][v] = ok ? SL_YES : SL_NO;
    }
    return b->sl_ok[r][v] == SL_YES;
}

void psb_stack_label_values(builder *b, const ps_stack *st, uint32_t *vals)
{
    size_t nrules = b->o->nstack_labels;
    if (nrules > PS_MAX_STACK_LABELS)
        nrules = PS_MAX_STACK_LABELS;
    uint32_t todo = (1u << nrules) - 1;
    for (size_t r = 0; r < nrules; r++)
        vals[r] = 0;
    /* leaf first: the first caller frame met is the innermost */
    for (uint32_t k = 1; k < st->nframes && todo; k++) {
        uint32_t m = b->caller_mask[st->frames[k]] & todo;
        if (!m)
            continue;
        uint32_t callee = b->frames[st->frames[k - 1]].name;
        for (size_t r = 0; r < nrules; r++) {
            if (!(m & (1u << r)))
                continue;
            todo &= ~(1u << r);
            if (name_ok(b, r, callee))
                vals[r] = callee;
        }
    }
}

bool psb_stack_label_add(builder *b, size_t r, uint32_t v, prof_label_ids *l)
{
    const ps_stack_label *rule = &b->o->stack_labels[r];
    *l = (prof_label_ids){0};
    if (b->sl_key[r] == UINT64_MAX)
        b->sl_key[r] = prof_string(b->prof, rule->key, strlen(rule->key));
    if (b->sl_key[r] == UINT64_MAX)
        return false;
    if (b->sl_str[r][v] == UINT64_MAX) {
        ps_str text = value_text(rule, ps_strtab_get(&b->names, v));
        b->sl_str[r][v] = prof_string(b->prof, text.ptr, text.len);
        if (b->sl_str[r][v] == UINT64_MAX)
            return false;
    }
    l->key = b->sl_key[r];
    l->str = b->sl_str[r][v];
    return true;
}
