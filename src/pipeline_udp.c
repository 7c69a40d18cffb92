/*
 * pipeline_udp.c - UDP flows: QUIC and DTLS.
 *
 * A UDP flow is created only when its first datagram is a QUIC client
 * Initial that decrypts, or a DTLS handshake record; any other UDP costs
 * one header test and is only counted.  Both protocols end in the same
 * TLS session, fingerprints, certificate chain, detections and tls event
 * as TCP; only the framing differs, and that is quic/conn.c's and
 * dtls/conn.c's:
 *
 *   QUIC  datagram -> long-header packets -> Initial keys from the client's
 *         first Destination Connection ID, Handshake keys from the key log
 *         -> CRYPTO frames -> one reassembly stream per packet-number space
 *         and direction (reasm/, offsets as sequence numbers) -> handshake
 *         messages -> the TLS session.
 *   DTLS  datagram -> records -> handshake fragments reassembled in
 *         message_seq order -> the TLS session; CCS, alerts and protected
 *         records to the session's datagram path.
 */
#include "pipeline_priv.h"

#include "dtls/dtls.h"
#include "quic/conn.h"

/* After a datagram: report once the handshake needs nothing more. */
static void udp_check_finished(struct pipeline *pl, struct flow *f, struct conn *c)
{
    if (tls_session_finished(c->tls))
        tracker_finish(&pl->tr, f, c,
                       c->tls->progress == TLS_PROGRESS_COMPLETE ? EV_END_HANDSHAKE
                                                                : EV_END_STOPPED);
}

/* The first datagram of a 5-tuple not in the table.  A QUIC flow is created
 * only once its client Initial has opened: what merely looks like one (or
 * is a QUIC connection whose first Initial was not captured) costs no flow
 * and writes no event. */
static void udp_first(struct pipeline *pl, const struct pkt *p, const struct flow_key *key,
                      int side)
{
    struct quic_long_hdr h;
    uint8_t transport = 0;
    if (quic_conn_candidate(p->payload, p->payload_len, &h))
        transport = FP_TRANSPORT_QUIC;
    else if (dtls_looks_like_handshake(p->payload, p->payload_len))
        transport = FP_TRANSPORT_DTLS;
    if (!transport)
        return;
    if (p->caplen < p->wirelen) {
        stats_anomaly(&pl->st, STATS_UDP_DATAGRAM_CUT);
        return;
    }
    struct conn *c = conn_new(&pl->env, transport, side);
    if (!c)
        return;
    if (transport == FP_TRANSPORT_QUIC &&
        !conn_quic_start(&pl->env, c, side, p->payload, p->payload_len, &h)) {
        conn_free(&pl->env, c);
        return;
    }
    struct flow *f = tracker_create(&pl->tr, key, c, p);
    if (!f)
        return;   /* c went with it */
    tracker_seen(&pl->tr, f, side, p);
    if (transport == FP_TRANSPORT_DTLS)
        conn_datagram(&pl->env, c, side, p->payload, p->payload_len);
    udp_check_finished(pl, f, c);
}

void pl_handle_udp(struct pipeline *pl, const struct pkt *p)
{
    if (p->payload_len == 0)
        return;
    struct flow_key key;
    int side;
    flow_key_from_pkt(p, &key, &side);
    struct flow *f = tracker_lookup(&pl->tr, &key);
    if (!f) {
        udp_first(pl, p, &key, side);
        return;
    }
    tracker_seen(&pl->tr, f, side, p);

    struct conn *c = f->app;
    if (!c || c->done)
        return;
    /* WebRTC multiplexes STUN, TURN channels, ZRTP and RTP with DTLS on one
     * port; the first byte tells them apart (RFC 7983 7, RFC 9443):
     * 20-63 is DTLS, anything else is not for the DTLS parser. */
    if (c->transport == FP_TRANSPORT_DTLS && (p->payload[0] < 20 || p->payload[0] > 63)) {
        pl->st.dtls_multiplexed++;
        return;
    }
    if (p->caplen < p->wirelen) {
        stats_anomaly(&pl->st, STATS_UDP_DATAGRAM_CUT);
        return;
    }
    conn_datagram(&pl->env, c, side, p->payload, p->payload_len);
    udp_check_finished(pl, f, c);
}
