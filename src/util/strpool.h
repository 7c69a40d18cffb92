/*
 * strpool.h - copies of strings owned by one loaded database (signatures,
 * removed roots), freed together with it.
 */
#ifndef PINSCOPE_STRPOOL_H
#define PINSCOPE_STRPOOL_H

#include <stddef.h>

struct strpool {
    char **v;
    size_t n, cap;
};

/* A copy of s kept in the pool; NULL on allocation failure. */
const char *strpool_dup(struct strpool *p, const char *s);
/* Free every copy (the pool is empty and reusable afterwards). */
void strpool_free(struct strpool *p);

#endif
