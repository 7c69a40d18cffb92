/*
 * pipeline_tcp.c - TCP flows.
 *
 * Per TCP flow the connection (conn/conn.h) keeps endpoint state and one
 * reassembly stream per direction, created on the first payload byte.
 * When the TLS session says it needs nothing more, the connection is
 * reported, its buffers are freed and the flow stays in the table only as
 * a key: later packets cost one lookup.  A closed flow lingers
 * CFG_FLOW_TIMEOUT_CLOSED seconds to absorb retransmissions, unless a new
 * SYN reuses its ports; it keeps only its sides' initial sequence numbers
 * (struct flow's closed_*), its connection state is freed.
 *
 * Directions are numbered by flow key side (0/1), which the TLS session
 * uses as its own direction numbers; the client is whichever side sent the
 * ClientHello.
 */
#include "pipeline_priv.h"

#include "config.h"
#include "reasm/stream.h"

static void tcp_payload(struct pipeline *pl, struct conn *c, int side, const struct pkt *p)
{
    if ((c->tls->d[side].mode == TLS_DIR_DONE || c->tls->d[side].mode == TLS_DIR_NOT_TLS) &&
        !c->tls->post.watching)
        return;
    struct reasm_stream *rs = c->rs[side];
    if (!rs) {
        rs = memcap_calloc(&pl->mc, reasm_stream_size());
        if (!rs) {
            stats_cap(&pl->st, STATS_MEMCAP);
            return;
        }
        reasm_stream_start(rs, c->syn[side] ? c->isn1[side] : p->seq, pl->cfg.depth);
        c->rs[side] = rs;
    }
    /* A SYN's own sequence number is the SYN; its data (TCP Fast Open,
     * RFC 7413) starts one later, at ISN + 1, where the stream starts. */
    uint32_t seq = p->seq + ((p->tcp_flags & TCP_SYN) ? 1u : 0u);
    uint8_t nch = c->tls->n_client_hellos, nsh = c->tls->n_server_hellos;
    if (reasm_add(rs, &pl->mc, &pl->st, seq, p->payload, p->payload_len))
        conn_drive_stream(&pl->env, c, side);
    /* When the hellos completed, for the ServerHello's delay. */
    if (c->tcp && c->tls) {
        if (!c->tcp->t_client_hello && c->tls->n_client_hellos > nch)
            c->tcp->t_client_hello = p->ts_us ? p->ts_us : 1;
        if (!c->tcp->t_server_hello && c->tls->n_server_hellos > nsh)
            c->tcp->t_server_hello = p->ts_us ? p->ts_us : 1;
    }
}

void pl_handle_tcp(struct pipeline *pl, const struct pkt *p)
{
    struct flow_key key;
    int side;
    flow_key_from_pkt(p, &key, &side);
    struct flow *f = tracker_lookup(&pl->tr, &key);
    uint8_t fl = p->tcp_flags;

    if (!f) {
        /* Stray resets and bare ACKs/FINs do not open a flow. */
        if (!(fl & TCP_SYN) && p->payload_len == 0)
            return;
        struct conn *c = conn_new(&pl->env, FP_TRANSPORT_TCP, side);
        if (!c || !(f = tracker_create(&pl->tr, &key, c, p)))
            return;
    }
    tracker_seen(&pl->tr, f, side, p);

    struct conn *c = f->app;
    if (!c) {
        /* Closed (below).  Port reuse: a new connection on the same
         * addresses.  A SYN with the closed connection's own ISN is a
         * retransmission of it; any other SYN opens a new connection
         * (RFC 9293 3.10.7.4 allows a new SYN in TIME-WAIT with a new
         * sequence number). */
        bool fresh_syn = (fl & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
                         (!((f->closed_syn >> side) & 1) || p->seq + 1 != f->closed_isn1[side]);
        if (fresh_syn) {
            tracker_remove(&pl->tr, f, EV_END_FIN);
            pl_handle_tcp(pl, p);
        } else if (p->payload_len > 0) {
            stats_anomaly(&pl->st, STATS_TCP_DATA_AFTER_CLOSE);
        }
        return;
    }

    if ((fl & TCP_SYN) || (c->tcp && !c->tcp->t_ack))
        conn_tcp_opening(&pl->env, c, p, side);
    if (fl & TCP_SYN) {
        if (!c->syn[side] && !c->rs[side]) {
            c->syn[side] = true;
            c->isn1[side] = p->seq + 1;
        }
    }
    /* A completed handshake waits CFG_TLS_LINGER_MS at most for the
     * client's data or close; a packet past that is no longer its. */
    if (c->waiting && p->ts_us > c->tls->post.start_us + CFG_TLS_LINGER_MS * 1000ULL)
        tracker_finish(&pl->tr, f, c, EV_END_HANDSHAKE);
    if (!c->done && p->payload_len > 0 && !(fl & TCP_RST)) {
        bool watching = c->tls->post.watching;
        tcp_payload(pl, c, side, p);
        if (!watching && c->tls->post.watching && c->rs[side ^ 1])
            conn_drive_stream(&pl->env, c, side ^ 1);   /* what the other side sent already */
        if (tls_session_finished(c->tls)) {
            if (c->tls->post.watching && !c->tls->post.over)
                tracker_wait(&pl->tr, f);
            else
                tracker_finish(&pl->tr, f, c,
                               c->tls->progress == TLS_PROGRESS_COMPLETE ? EV_END_HANDSHAKE
                                                                          : EV_END_STOPPED);
        }
    }
    if (c->waiting && (fl & (TCP_FIN | TCP_RST))) {
        tls_session_watch_close(c->tls, side, (fl & TCP_RST) != 0, p->ts_us);
        if (side == c->tls->client)
            tracker_finish(&pl->tr, f, c, EV_END_HANDSHAKE);   /* what was waited for */
    }
    if ((fl & (TCP_FIN | TCP_RST)) && c->closed_by < 0)
        c->closed_by = (int8_t)side;
    if (fl & TCP_FIN)
        c->fin[side] = true;
    if (fl & TCP_RST)
        c->rst = true;
    if (c->rst || (c->fin[0] && c->fin[1])) {
        tracker_finish(&pl->tr, f, c, c->rst ? EV_END_RST : EV_END_FIN);
        /* Reported and released: while the flow lingers it keeps only
         * what tells a retransmitted SYN from a new connection, and the
         * connection's state goes (144 bytes for each of the many flows
         * a busy link closes within CFG_FLOW_TIMEOUT_CLOSED). */
        f->closed_syn = (uint8_t)((c->syn[0] ? 1 : 0) | (c->syn[1] ? 2 : 0));
        f->closed_isn1[0] = c->isn1[0];
        f->closed_isn1[1] = c->isn1[1];
        conn_free(&pl->env, c);
        f->app = NULL;
    }
}

/* ---- expiry ------------------------------------------------------------ */
