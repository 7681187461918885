/* Small containers for the parser: arena, growable arrays, string sets. */
#include <stdlib.h>

#include "ps_internal.h"
#include "sys/hugepage.h"

struct ps_arena_block {
    ps_arena_block *next;
    size_t size;
    char data[];
};

#define PS_ARENA_BLOCK (64 * 1024)

void ps_arena_free(ps_arena *a)
{
    ps_arena_block *b = a->head;
    while (b) {
        ps_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = a->size = 0;
}

char *ps_arena_dup(ps_arena *a, const char *s, size_t len)
{
    size_t need = len + 1;
    if (!a->head || a->size - a->used < need) {
        size_t size = need > PS_ARENA_BLOCK / 4 ? need : PS_ARENA_BLOCK;
        ps_arena_block *b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->size = size;
        if (a->head && size == need) {
            /* a big string: own block, keep filling the current one */
            b->next = a->head->next;
            a->head->next = b;
            memcpy(b->data, s, len);
            b->data[len] = '\0';
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->size = size;
    }
    char *d = a->head->data + a->used;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    a->used += need;
    return d;
}

void ps_vec_init(ps_vec *v, size_t elem)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

void ps_vec_free(ps_vec *v)
{
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

bool ps_vec_reserve(ps_vec *v, size_t n)
{
    if (v->cap - v->len >= n)
        return true;
    size_t cap = v->cap ? v->cap : 16;
    while (cap - v->len < n) {
        if (cap > SIZE_MAX / 2 / v->elem)
            return false;
        cap *= 2;
    }
    void *d = sys_realloc_big(v->data, v->len * v->elem, cap * v->elem);
    if (!d)
        return false;
    v->data = d;
    v->cap = cap;
    return true;
}

void *ps_vec_push(ps_vec *v, const void *elem)
{
    if (!ps_vec_reserve(v, 1))
        return NULL;
    void *slot = (char *)v->data + v->len * v->elem;
    memcpy(slot, elem, v->elem);
    v->len++;
    return slot;
}

bool ps_imap_put(ps_imap *m, int64_t key, uint64_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        int64_t *keys = malloc(cap * sizeof *keys);
        uint64_t *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->vals[i])
                continue;
            size_t j = (size_t)ps_hash_mix((uint64_t)m->keys[i]) & (cap - 1);
            while (vals[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t j = (size_t)ps_hash_mix((uint64_t)key) & (m->cap - 1);
    while (m->vals[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->vals[j])
        m->n++;
    m->keys[j] = key;
    m->vals[j] = val;
    return true;
}

void ps_imap_free(ps_imap *m)
{
    free(m->keys);
    free(m->vals);
    *m = (ps_imap){0};
}

#define STRTAB_SEED 0x5eed

void ps_strtab_init(ps_strtab *t, ps_arena *arena)
{
    ps_vec_init(&t->strs, sizeof(ps_str));
    t->slots = NULL;
    t->nslots = 0;
    t->arena = arena;
}

void ps_strtab_free(ps_strtab *t)
{
    ps_vec_free(&t->strs);
    free(t->slots);
    t->slots = NULL;
    t->nslots = 0;
}

bool ps_strtab_grow(ps_strtab *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 64;
    ps_strslot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    for (size_t k = 0; k < t->nslots; k++) {
        if (!t->slots[k].id)
            continue;
        size_t i = (size_t)t->slots[k].hash & (n - 1);
        while (slots[i].id)
            i = (i + 1) & (n - 1);
        slots[i] = t->slots[k];
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return true;
}

const char *ps_strtab_add(ps_strtab *t, const char *s, size_t n, uint64_t h, size_t slot)
{
    if (t->strs.len >= UINT32_MAX - 1 || n > UINT32_MAX || !ps_vec_reserve(&t->strs, 1))
        return NULL;
    char *copy = ps_arena_dup(t->arena, s, n);
    if (!copy)
        return NULL;
    ps_str e = {copy, n};
    ps_vec_push(&t->strs, &e);
    t->slots[slot] = (ps_strslot){h, copy, (uint32_t)n, (uint32_t)t->strs.len};
    return copy;
}

uint32_t ps_strtab_intern(ps_strtab *t, const char *s, size_t len)
{
    uint64_t h = ps_hash(s, len, STRTAB_SEED);
    size_t slot;
    uint32_t id = ps_strtab_slot(t, s, len, h, &slot);
    if (id == UINT32_MAX)
        return 0;
    if (id)
        return id;
    return ps_strtab_add(t, s, len, h, slot) ? (uint32_t)t->strs.len : 0;
}

uint32_t ps_strtab_find(const ps_strtab *t, const char *s, size_t len)
{
    if (!t->nslots)
        return 0;
    size_t slot;
    return ps_strtab_lookup(t, s, len, ps_hash(s, len, STRTAB_SEED), &slot);
}

bool ps_all_xdigits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ps_xdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool ps_all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ps_digit((unsigned char)s[i]))
            return false;
    return true;
}

bool ps_parse_hex(const char *s, size_t len, uint64_t *out)
{
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned d;
        if (ps_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v > (UINT64_MAX >> 4) ? UINT64_MAX : (v << 4) | d;
    }
    *out = v;
    return true;
}

bool ps_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!ps_digit(c))
            return false;
        unsigned d = c - '0';
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return true;
}
