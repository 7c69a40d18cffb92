/*
 * ja4t.c - JA4T, JA4TS and JA4L (see ja4t.h).
 *
 * TCP options (RFC 9293 3.1): kind 0 (end of list) and 1 (no-op) are one
 * byte; every other kind is kind, length (>= 2, counting both), data.
 */
#include "fp/ja4t.h"

#include <string.h>

#include "fp/fp_util.h"
#include "util/rd.h"

void ja4t_read(struct ja4t_syn *s, uint16_t window, uint8_t ttl, const uint8_t *opts,
               size_t len)
{
    memset(s, 0, sizeof(*s));
    s->seen = true;
    s->window = window;
    s->ttl = ttl;
    struct rd r;
    rd_init(&r, opts, len);
    while (rd_left(&r) > 0 && s->n_kinds < JA4T_MAX_KINDS) {
        uint8_t kind = rd_u8(&r);
        s->kinds[s->n_kinds++] = kind;
        if (kind == 0 || kind == 1)
            continue;
        uint8_t olen = rd_u8(&r);
        if (r.bad || olen < 2 || (size_t)(olen - 2) > rd_left(&r))
            break;     /* malformed: the kinds so far count */
        if (kind == 2 && olen == 4) {
            s->mss = rd_u16(&r);
        } else if (kind == 3 && olen == 3) {
            s->wscale = rd_u8(&r);
        } else {
            rd_skip(&r, (size_t)olen - 2);
        }
    }
}

/* Numbers are written with fp_util.h's writers: JA4T, JA4TS and JA4L are
 * formatted for every connection, and snprintf was a measurable share of
 * the event. */
static size_t put_dec(char *out, unsigned v, unsigned width)
{
    return (size_t)(dec_put_w(out, v, width) - out);
}

/* JA4T_STR_MAX holds the longest: 5 + 1 + JA4T_MAX_KINDS * 4 + 1 + 5 + 1 + 3 + NUL. */
void ja4t_format(const struct ja4t_syn *s, char out[JA4T_STR_MAX])
{
    size_t n = put_dec(out, s->window, 1);
    out[n++] = '_';
    if (s->n_kinds == 0) {
        out[n++] = '0';
        out[n++] = '0';
    }
    for (unsigned i = 0; i < s->n_kinds; i++) {
        if (i)
            out[n++] = '-';
        n += put_dec(out + n, s->kinds[i], 1);
    }
    out[n++] = '_';
    n += put_dec(out + n, s->mss, 2);
    out[n++] = '_';
    n += s->wscale == 0 ? put_dec(out + n, 0, 2) : put_dec(out + n, s->wscale, 1);
    out[n] = '\0';
}

bool ja4t_server_stack(const struct tcp_handshake *h, char ja4ts[JA4T_STR_MAX], char ttl[4])
{
    if (!h || !h->synack.seen)
        return false;
    ja4t_format(&h->synack, ja4ts);
    *dec_put(ttl, h->synack.ttl) = '\0';    /* at most "255" */
    return true;
}

void ja4l_packet(struct tcp_handshake *h, uint8_t flags, bool from_client, uint64_t ts_us,
                 uint8_t ttl)
{
    if (h->t_ack)
        return;                                 /* done */
    flags &= 0x3f;      /* ECN's CWR and ECE do not count (a macOS SYN is 0xc2) */
    if (!h->t_syn) {
        if (flags == 0x02 && from_client) {
            h->t_syn = ts_us ? ts_us : 1;
            h->ttl_syn = ttl;
        }
    } else if (!h->t_synack) {
        if (flags == 0x12 && !from_client) {
            h->t_synack = ts_us ? ts_us : 1;
            h->ttl_synack = ttl;
        }
    } else if (flags == 0x10 && from_client) {
        h->t_ack = ts_us ? ts_us : 1;
    }
}

bool ja4l_format(const struct tcp_handshake *h, char client[32], char server[32])
{
    if (!h->t_ack || h->t_synack < h->t_syn || h->t_ack < h->t_synack)
        return false;
    /* at most 20 digits, '_', 3 digits: 24 < 32 */
    char *p = dec_put(client, (h->t_ack - h->t_synack) / 2);
    *p++ = '_';
    *dec_put(p, h->ttl_syn) = '\0';
    p = dec_put(server, (h->t_synack - h->t_syn) / 2);
    *p++ = '_';
    *dec_put(p, h->ttl_synack) = '\0';
    return true;
}
