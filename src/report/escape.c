/*
 * escape.c - wire strings made safe to show (render.h).
 *
 * A string from a capture can hold anything an attacker likes: escape
 * sequences that repaint a terminal, a right-to-left override that makes
 * "moc.knab" read as "bank.com", markup for the HTML page.  Each code point
 * is decoded strictly (no overlongs, no surrogates, nothing past U+10FFFF);
 * what is not printable text is written as a visible escape instead.
 */
#include "report/render.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Strict UTF-8 decode of one code point; its length, 0 when invalid. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; v = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; v = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Code points shown as escapes: controls, and the format characters
 * that reorder or hide text (Unicode bidi controls, zero-width marks,
 * line/paragraph separators, the BOM). */
static bool hidden(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return true;
    if (cp == 0x061c || cp == 0x00ad || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff)
        return true;
    return false;
}

size_t esc(enum esc_mode m, const char *in, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t n = strlen((const char *)p), o = 0, width = 0;
    if (cap == 0)
        return 0;
    while (n) {
        char tmp[16];
        size_t tl, adv;
        uint32_t cp = 0;
        size_t len = utf8_next(p, n, &cp);
        if (len == 0) {
            tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", p[0]);
            adv = 1;
        } else if (hidden(cp)) {
            tl = cp < 0x100 ? (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)cp)
                            : (size_t)snprintf(tmp, sizeof(tmp), "\\u{%04x}", (unsigned)cp);
            adv = len;
        } else if (m == ESC_HTML && strchr("&<>\"'", (int)cp) && cp) {
            const char *ent = cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;"
                            : cp == '"' ? "&quot;" : "&#39;";
            tl = strlen(ent);
            memcpy(tmp, ent, tl);
            adv = 1;
        } else if (m == ESC_MD && cp < 0x80 && strchr("|`<>\\*_[]", (int)cp) && cp) {
            tmp[0] = '\\';
            tmp[1] = (char)cp;
            tl = 2;
            adv = 1;
        } else {
            memcpy(tmp, p, len);
            tl = len;
            adv = len;
        }
        if (o + tl + 1 > cap)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
        /* an entity or a backslash pair shows as one character */
        width += (m == ESC_HTML && tmp[0] == '&') || (m == ESC_MD && tl == 2 && tmp[0] == '\\')
                     ? 1
                     : (len == 0 || hidden(cp)) ? tl : 1;
        p += adv;
        n -= adv;
    }
    out[o] = '\0';
    return width;
}

size_t esc_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            w++;
    return w;
}
