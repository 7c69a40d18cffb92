/*
 * report.c - rules of the finished-connection record (see report.h).
 */
#include "conn/report.h"

#include <stdlib.h>
#include <string.h>

void ev_client_hello_release(struct ev_client_hello *c)
{
    free(c->heap);
    memset(c, 0, sizeof(*c));
}

void ev_server_hello_release(struct ev_server_hello *s)
{
    free(s->heap);
    memset(s, 0, sizeof(*s));
}

const struct ev_server_hello *conn_report_final_sh(const struct conn_report *r)
{
    if (r->sh[1] && r->sh[1]->present)
        return r->sh[1];
    return r->sh[0];
}

void conn_report_keyless(const struct conn_report *r, struct conn_keyless *k)
{
    memset(k, 0, sizeof(*k));
    const struct ev_server_hello *sh = conn_report_final_sh(r);
    if (!r->tls || r->quic || r->dtls || r->tls->version != 0x0304 || !sh || !sh->present)
        return;
    bool psk = false;
    for (uint16_t i = 0; i < sh->n_exts && sh->exts; i++)
        psk |= sh->exts[i] == 41;   /* pre_shared_key */
    const struct tls_session *t = r->tls;
    if (t->flight_records && t->client_protected && !psk) {
        k->has_flight = true;
        k->flight_bytes = t->flight_bytes;
    }
    k->has_hrr = true;
    k->hrr = t->hrr;
    k->hrr_group = t->hrr ? t->group : 0;
    if (r->tcp && r->tcp->t_client_hello && r->tcp->t_server_hello >= r->tcp->t_client_hello) {
        k->has_delay = true;
        k->delay_us = r->tcp->t_server_hello - r->tcp->t_client_hello;
    }
}

static const char *name_copy(const uint8_t *p, size_t n, char *buf, size_t cap)
{
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (p[i] > 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    buf[n] = '\0';
    return buf;
}

void conn_report_names(const struct conn_report *r, struct conn_names *n)
{
    const struct ev_client_hello *ch = r->ch[0];
    const struct ev_server_hello *sh = conn_report_final_sh(r);
    n->sni = ch && ch->has_sni && ch->sni_len
                 ? name_copy(ch->sni, ch->sni_len, n->sni_buf, sizeof(n->sni_buf))
                 : NULL;
    n->alpn_client = ch && ch->n_alpn && ch->alpn
                         ? name_copy(ch->alpn + 1, ch->alpn[0], n->alpn_c_buf,
                                     sizeof(n->alpn_c_buf))
                         : NULL;
    n->alpn_server = sh && sh->has_alpn
                         ? name_copy(sh->alpn, sh->alpn_len, n->alpn_s_buf, sizeof(n->alpn_s_buf))
                         : NULL;
}
