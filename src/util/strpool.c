/*
 * strpool.c - see strpool.h.
 */
#include "util/strpool.h"

#include <stdlib.h>
#include <string.h>

const char *strpool_dup(struct strpool *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->v = v;
        p->cap = cap;
    }
    char *d = strdup(s);
    if (d)
        p->v[p->n++] = d;
    return d;
}

void strpool_free(struct strpool *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}
