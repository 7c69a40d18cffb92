/*
 * xml.c - a small strict XML reader for the two XML pin formats (Android
 * network security config, property lists).
 *
 * It reads elements, attributes, text, comments and processing
 * instructions, and the five predefined entities (&amp; &lt; &gt; &quot;
 * &apos;).  Everything else is an error naming the line: a DOCTYPE (the
 * one exception is Apple's plist DOCTYPE, which declares nothing and is
 * never fetched), ENTITY declarations, other entity or character
 * references, CDATA, mismatched or unclosed tags, a second root.  So no
 * entity expansion and no external fetch can happen (XXE, billion laughs).
 * Depth, element and attribute counts are capped (config.h).  Names are
 * compared as written: there is no namespace processing.
 */
#include "pinimport/pi_int.h"

#include <stdlib.h>
#include <string.h>

struct xml_doc {
    struct xml_node *root;
};

struct xcur {
    struct pi_file *f;
    const char *p, *end;
    unsigned line;
    size_t nodes;
};

static const char apple_doctype[] =
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">";

static void node_free(struct xml_node *n)
{
    while (n) {
        struct xml_node *next = n->next;
        node_free(n->child);
        free(n->name);
        for (size_t i = 0; i < n->n_attrs; i++) {
            free(n->attrs[i].name);
            free(n->attrs[i].value);
        }
        free(n->attrs);
        free(n->text);
        free(n);
        n = next;
    }
}

void xml_free(struct xml_doc *d)
{
    if (!d)
        return;
    node_free(d->root);
    free(d);
}

const struct xml_node *xml_root(const struct xml_doc *d)
{
    return d->root;
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return n->attrs[i].value;
    return NULL;
}

bool xml_text_trim(const struct xml_node *n, char *out, size_t outlen)
{
    const char *a = n->text ? n->text : "", *b = a + n->text_len;
    while (a < b && pi_is_space(*a))
        a++;
    while (b > a && pi_is_space(b[-1]))
        b--;
    if ((size_t)(b - a) >= outlen)
        return false;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    return true;
}

int xml_check_attrs(struct pi_file *f, const struct xml_node *n, const char *const *known)
{
    for (size_t i = 0; i < n->n_attrs; i++) {
        const char *const *k = known;
        while (*k && strcmp(*k, n->attrs[i].name) != 0)
            k++;
        if (!*k) {
            char q[48];
            return pi_fail(f, n->line, "<%s>: unknown attribute \"%s\"", n->name,
                           pi_quote(n->attrs[i].name, strlen(n->attrs[i].name), q));
        }
    }
    return 0;
}

/* ---- the cursor ---- */

static bool at(const struct xcur *c, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(c->end - c->p) >= n && memcmp(c->p, lit, n) == 0;
}

static void adv(struct xcur *c, size_t n)
{
    for (size_t i = 0; i < n && c->p < c->end; i++)
        if (*c->p++ == '\n')
            c->line++;
}

static void skip_ws(struct xcur *c)
{
    while (c->p < c->end && pi_is_space(*c->p))
        adv(c, 1);
}

/* Advance past the next occurrence of lit; false if there is none. */
static bool skip_past(struct xcur *c, const char *lit)
{
    size_t n = strlen(lit);
    while ((size_t)(c->end - c->p) >= n) {
        if (memcmp(c->p, lit, n) == 0) {
            adv(c, n);
            return true;
        }
        adv(c, 1);
    }
    return false;
}

static bool name_start(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':';
}

static bool name_char(char ch)
{
    return name_start(ch) || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/* A name at the cursor into a heap string; NULL after pi_fail. */
static char *read_name(struct xcur *c, const char *what)
{
    const char *s = c->p;
    if (s >= c->end || !name_start(*s)) {
        pi_fail(c->f, c->line, "%s: expected a name", what);
        return NULL;
    }
    while (c->p < c->end && name_char(*c->p) && c->p - s < 256)
        c->p++;
    char *n = strndup(s, (size_t)(c->p - s));
    if (!n)
        pi_fail(c->f, c->line, "out of memory");
    return n;
}

/* Append s[0..n) to a growing buffer. */
static bool buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap : 64;
        while (nc < *len + n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return false;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/* An entity reference at the cursor (on '&'): its character in *out. */
static bool read_entity(struct xcur *c, char *out)
{
    static const struct { const char *ref; char ch; } ents[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
        if (at(c, ents[i].ref)) {
            *out = ents[i].ch;
            adv(c, strlen(ents[i].ref));
            return true;
        }
    const char *semi = memchr(c->p, ';', (size_t)(c->end - c->p) < 16 ? (size_t)(c->end - c->p) : 16);
    char q[48];
    pi_fail(c->f, c->line, "entity \"%s\": only &amp; &lt; &gt; &quot; &apos; are read",
            pi_quote(c->p, semi ? (size_t)(semi - c->p + 1) : 1, q));
    return false;
}

static int read_attrs(struct xcur *c, struct xml_node *n)
{
    for (;;) {
        skip_ws(c);
        if (c->p >= c->end)
            return pi_fail(c->f, c->line, "<%s>: unexpected end of file in the tag", n->name);
        if (*c->p == '>' || *c->p == '/')
            return 0;
        if (n->n_attrs >= CFG_PINIMPORT_XML_ATTRS)
            return pi_fail(c->f, c->line, "<%s>: more than %d attributes", n->name,
                           CFG_PINIMPORT_XML_ATTRS);
        char *an = read_name(c, "attribute");
        if (!an)
            return -1;
        for (size_t i = 0; i < n->n_attrs; i++)
            if (strcmp(n->attrs[i].name, an) == 0) {
                pi_fail(c->f, c->line, "<%s>: attribute %s given twice", n->name, an);
                free(an);
                return -1;
            }
        struct xml_attr *na = realloc(n->attrs, (n->n_attrs + 1) * sizeof(*na));
        if (!na) {
            free(an);
            return pi_fail(c->f, c->line, "out of memory");
        }
        n->attrs = na;
        n->attrs[n->n_attrs].name = an;
        n->attrs[n->n_attrs].value = NULL;
        n->n_attrs++;
        skip_ws(c);
        if (c->p >= c->end || *c->p != '=')
            return pi_fail(c->f, c->line, "<%s>: attribute %s without a value", n->name, an);
        adv(c, 1);
        skip_ws(c);
        if (c->p >= c->end || (*c->p != '"' && *c->p != '\''))
            return pi_fail(c->f, c->line, "<%s>: attribute %s: expected a quoted value",
                           n->name, an);
        char quote = *c->p;
        adv(c, 1);
        char *v = NULL;
        size_t vl = 0, vc = 0;
        if (!buf_add(&v, &vl, &vc, "", 0))
            return pi_fail(c->f, c->line, "out of memory");
        n->attrs[n->n_attrs - 1].value = v;
        for (;;) {
            if (c->p >= c->end)
                return pi_fail(c->f, c->line, "<%s>: unexpected end of file in attribute %s",
                               n->name, an);
            char ch = *c->p;
            if (ch == quote) {
                adv(c, 1);
                break;
            }
            if (ch == '<')
                return pi_fail(c->f, c->line, "<%s>: '<' in attribute %s", n->name, an);
            if (ch == '&') {
                if (!read_entity(c, &ch))
                    return -1;
            } else {
                adv(c, 1);
            }
            if (!buf_add(&n->attrs[n->n_attrs - 1].value, &vl, &vc, &ch, 1))
                return pi_fail(c->f, c->line, "out of memory");
        }
    }
}

/* Comments, processing instructions and the rejected declarations. */
static int read_markup(struct xcur *c, bool prolog)
{
    unsigned line = c->line;
    if (at(c, "<!--")) {
        adv(c, 4);
        if (!skip_past(c, "-->"))
            return pi_fail(c->f, line, "unclosed comment");
        return 0;
    }
    if (at(c, "<?")) {
        if (!skip_past(c, "?>"))
            return pi_fail(c->f, line, "unclosed processing instruction");
        return 0;
    }
    if (at(c, "<![CDATA["))
        return pi_fail(c->f, line, "CDATA sections are not read");
    if (at(c, "<!DOCTYPE")) {
        if (prolog && at(c, apple_doctype)) {
            adv(c, strlen(apple_doctype));
            return 0;
        }
        return pi_fail(c->f, line, "<!DOCTYPE>: document type declarations are refused (only "
                                   "Apple's plist DOCTYPE is accepted)");
    }
    if (at(c, "<!ENTITY"))
        return pi_fail(c->f, line, "<!ENTITY>: entity declarations are refused");
    return pi_fail(c->f, line, "unknown markup \"<!\"");
}

static struct xml_node *read_element(struct xcur *c, int depth)
{
    if (depth > CFG_PINIMPORT_XML_DEPTH) {
        pi_fail(c->f, c->line, "elements nested deeper than %d", CFG_PINIMPORT_XML_DEPTH);
        return NULL;
    }
    if (++c->nodes > CFG_PINIMPORT_XML_NODES) {
        pi_fail(c->f, c->line, "more than %d elements", CFG_PINIMPORT_XML_NODES);
        return NULL;
    }
    struct xml_node *n = calloc(1, sizeof(*n));
    if (!n) {
        pi_fail(c->f, c->line, "out of memory");
        return NULL;
    }
    n->line = c->line;
    adv(c, 1); /* '<' */
    if (!(n->name = read_name(c, "element")) || read_attrs(c, n) < 0)
        goto fail;
    if (*c->p == '/') {
        adv(c, 1);
        if (c->p >= c->end || *c->p != '>') {
            pi_fail(c->f, c->line, "<%s>: expected '>' after '/'", n->name);
            goto fail;
        }
        adv(c, 1);
        return n;
    }
    adv(c, 1); /* '>' */
    size_t tcap = 0;
    struct xml_node **tail = &n->child;
    for (;;) {
        if (c->p >= c->end) {
            pi_fail(c->f, c->line, "unexpected end of file: <%s> from line %u is not closed",
                    n->name, n->line);
            goto fail;
        }
        if (*c->p == '<') {
            if (at(c, "</")) {
                adv(c, 2);
                const char *s = c->p;
                size_t nl = strlen(n->name);
                if ((size_t)(c->end - s) < nl || memcmp(s, n->name, nl) != 0 ||
                    (s + nl < c->end && name_char(s[nl]))) {
                    char q[48];
                    size_t l = 0;
                    while (s + l < c->end && name_char(s[l]) && l < 64)
                        l++;
                    pi_fail(c->f, c->line, "</%s> closes <%s> from line %u",
                            pi_quote(s, l, q), n->name, n->line);
                    goto fail;
                }
                adv(c, nl);
                skip_ws(c);
                if (c->p >= c->end || *c->p != '>') {
                    pi_fail(c->f, c->line, "</%s>: expected '>'", n->name);
                    goto fail;
                }
                adv(c, 1);
                return n;
            }
            if (at(c, "<!") || at(c, "<?")) {
                if (read_markup(c, false) < 0)
                    goto fail;
                continue;
            }
            struct xml_node *ch = read_element(c, depth + 1);
            if (!ch)
                goto fail;
            *tail = ch;
            tail = &ch->next;
            continue;
        }
        char ch = *c->p;
        if (ch == '&') {
            if (!read_entity(c, &ch))
                goto fail;
        } else {
            adv(c, 1);
        }
        if (!buf_add(&n->text, &n->text_len, &tcap, &ch, 1)) {
            pi_fail(c->f, c->line, "out of memory");
            goto fail;
        }
    }
fail:
    node_free(n);
    return NULL;
}

struct xml_doc *xml_parse(struct pi_file *f, const char *buf, size_t len)
{
    struct xcur c = {.f = f, .p = buf, .end = buf + len, .line = 1};
    if (at(&c, "\xef\xbb\xbf"))
        c.p += 3;
    struct xml_doc *d = calloc(1, sizeof(*d));
    if (!d) {
        pi_fail(f, 0, "out of memory");
        return NULL;
    }
    for (;;) {
        skip_ws(&c);
        if (c.p >= c.end) {
            if (!d->root) {
                pi_fail(f, c.line, "no XML element");
                goto fail;
            }
            return d;
        }
        if (*c.p != '<') {
            pi_fail(f, c.line, "text outside the root element");
            goto fail;
        }
        if (at(&c, "<!") || at(&c, "<?")) {
            if (read_markup(&c, !d->root) < 0)
                goto fail;
            continue;
        }
        if (d->root) {
            pi_fail(f, c.line, "a second root element");
            goto fail;
        }
        if (!(d->root = read_element(&c, 1)))
            goto fail;
    }
fail:
    xml_free(d);
    return NULL;
}
