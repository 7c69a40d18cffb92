/*
 * render.h - a finished summary written for people: the terminal, markdown,
 * JSON (report/text.c) and one self-contained HTML page (report/html.c).
 *
 * Every string in a summary came off the wire (SNI, subjects, issuers,
 * application names): the renderers pass each one through esc_*() below,
 * so no control byte, bidi override, invalid UTF-8 or markup from a
 * capture reaches the terminal or the page as anything but visible text.
 */
#ifndef PINSCOPE_RENDER_H
#define PINSCOPE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/summary.h"

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON };

struct render_opts {
    enum report_format format;
    bool color;             /* ANSI colour (text on a tty, NO_COLOR unset) */
    int width;              /* terminal columns (text) */
    size_t rows;            /* rows per table at most (text, markdown) */
    const char *title;      /* what was read, for the heading */
};

/* 0, or -1 when writing failed. */
int report_text(FILE *fp, const struct summary *s, const struct render_opts *o);
int report_html(FILE *fp, const struct summary *s, const struct render_opts *o);

/* Escaping for one medium.  `out` always ends with a NUL; text that does
 * not fit is cut at a character boundary.  Returns the display width (in
 * characters) of what was written.
 *   ESC_TERM  printable UTF-8 kept; C0/C1 controls, DEL, bidi controls
 *             and invalid bytes written as \xNN or \u{NNNN}
 *   ESC_MD    ESC_TERM, and '|', '`', '<', '>', '\\', '*', '_', '[', ']' backslashed
 *   ESC_HTML  ESC_TERM, and & < > " ' as character references */
enum esc_mode { ESC_TERM, ESC_MD, ESC_HTML };
size_t esc(enum esc_mode m, const char *in, char *out, size_t cap);

/* Display width of an escaped (valid UTF-8) string: code points. */
size_t esc_width(const char *s);

#endif
