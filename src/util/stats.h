/*
 * stats.h - counters for one analysis run.
 *
 * One struct stats per worker.  Malformed input is never fatal: each
 * module reports a reason and the pipeline counts it here, once per
 * occurrence.  Limits that were hit have their own counters (caps).  The
 * summary on stderr and the JSON `stats` event are both printed from this
 * struct by output/.
 */
#ifndef PINSCOPE_STATS_H
#define PINSCOPE_STATS_H

#include <stdint.h>

/* Anomalies: input that broke a rule of its protocol. */
#define STATS_ANOMALIES(X)                                                      \
    X(LINK_TRUNCATED, "link_truncated")                                         \
    X(VLAN_TOO_DEEP, "vlan_too_deep")                                           \
    X(IP_TRUNCATED, "ip_truncated")                                             \
    X(IP_BAD_HEADER, "ip_bad_header")                                           \
    X(IP_FRAGMENT, "ip_fragment")                                               \
    X(IPV6_EXT_TRUNCATED, "ipv6_ext_truncated")                                 \
    X(TCP_TRUNCATED, "tcp_truncated")                                           \
    X(TCP_BAD_HEADER, "tcp_bad_header")                                         \
    X(UDP_TRUNCATED, "udp_truncated")                                           \
    X(PKT_SNAPLEN_CUT, "packet_cut_by_snaplen")                                 \
    X(TCP_OVERLAP_CONFLICT, "tcp_overlap_conflict")                             \
    X(TCP_DATA_AFTER_CLOSE, "tcp_data_after_close")                             \
    X(TLS_RECORD_INVALID, "tls_record_invalid")                                 \
    X(TLS_HELLO_MALFORMED, "tls_hello_malformed")                               \
    X(TLS_HS_UNEXPECTED, "tls_handshake_unexpected")                            \
    X(TLS_PREAMBLE_NO_TLS, "tls_preamble_without_tls")                          \
    X(TLS_FRAME_MALFORMED, "tls_tunnel_frame_malformed")                        \
    X(TLS_CONNECT_MALFORMED, "tls_connect_target_malformed")                    \
    X(TLS_HELLO_INCOMPLETE, "tls_hello_incomplete")                             \
    X(TLS_SSLV2_HELLO, "tls_sslv2_client_hello")                                \
    X(TLS_CERTMSG_MALFORMED, "tls_certificate_message_malformed")               \
    X(X509_UNPARSABLE, "x509_unparsable")                                       \
    X(TLS13_DECRYPT_FAILED, "tls13_decrypt_failed")                             \
    X(PCAP_TRUNCATED, "pcap_truncated")                                         \
    X(UDP_DATAGRAM_CUT, "udp_datagram_cut_by_snaplen")                          \
    X(QUIC_PACKET_MALFORMED, "quic_packet_malformed")                           \
    X(QUIC_INITIAL_UNDECRYPTABLE, "quic_initial_undecryptable")                 \
    X(QUIC_DECRYPT_FAILED, "quic_decrypt_failed")                               \
    X(QUIC_FRAME_INVALID, "quic_frame_invalid")                                 \
    X(QUIC_RETRY_INTEGRITY, "quic_retry_integrity_failed")                      \
    X(QUIC_HANDSHAKE_BEFORE_KEYS, "quic_handshake_before_keys")                 \
    X(QUIC_TRANSPORT_PARAMS_MALFORMED, "quic_transport_parameters_malformed")   \
    X(DTLS_RECORD_MALFORMED, "dtls_record_malformed")                           \
    X(DTLS_FRAGMENT_INVALID, "dtls_fragment_invalid")                           \
    X(DTLS_HANDSHAKE_GAP, "dtls_handshake_gap")                                 \
    X(TUNNEL_MALFORMED, "tunnel_malformed")                                     \
    X(TUNNEL_TOO_DEEP, "tunnel_too_deep")                                       \
    X(FRAG_OVERLAP_CONFLICT, "frag_overlap_conflict")                           \
    X(FRAG_ATTACK, "frag_attack")                                               \
    X(FRAG_TIMEOUT, "frag_timeout")                                             \
    X(FRAG_TOO_LARGE, "frag_too_large")                                         \
    X(TLS_TICKET_MALFORMED, "tls_session_ticket_malformed")

/* Limits that were reached. */
#define STATS_CAPS(X)                                                           \
    X(FLOW_TABLE_FULL, "flow_table_full")                                       \
    X(FLOW_EVICTED, "flow_evicted")                                             \
    X(FLOW_RECLAIMED, "flow_reclaimed")                                         \
    X(PRESSURE, "memory_pressure")                                              \
    X(REASM_DEPTH, "reassembly_depth")                                          \
    X(REASM_WINDOW, "reassembly_window")                                        \
    X(REASM_HOLES, "reassembly_holes")                                          \
    X(MEMCAP, "memcap")                                                         \
    X(TLS_HELLO_CAPPED, "tls_hello_list_capped")                                \
    X(TLS_HS_MSG_TOO_LARGE, "tls_handshake_message_too_large")                  \
    X(TLS_RECORD_LIMIT, "tls_record_limit")                                     \
    X(TLS_TUNNEL_FRAMES, "tls_tunnel_frames")                                   \
    X(TLS_ALERTS, "tls_alerts")                                                 \
    X(QUIC_CRYPTO_OFFSET, "quic_crypto_offset")                                 \
    X(DTLS_MSG_TOO_LARGE, "dtls_handshake_message_too_large")                   \
    X(DTLS_REASSEMBLY, "dtls_reassembly_slots")                                 \
    X(FRAG_EVICTED, "frag_evicted")                                             \
    X(FRAG_PIECES, "frag_pieces")                                               \
    X(TLS_RESUME_EVICTED, "tls_resume_evicted")                                 \
    X(X509_CACHE_BUCKET, "x509_cache_bucket")

#define STATS_ENUM(name, str) STATS_##name,
enum stats_anomaly { STATS_ANOMALIES(STATS_ENUM) STATS_ANOMALY_COUNT };
enum stats_cap { STATS_CAPS(STATS_ENUM) STATS_CAP_COUNT };
#undef STATS_ENUM

struct stats {
    uint64_t packets;
    uint64_t bytes;           /* wire bytes */
    uint64_t packets_ip;
    uint64_t packets_tcp;
    uint64_t packets_udp;
    uint64_t packets_quic;    /* QUIC long-header packets examined */
    uint64_t packets_dtls;    /* DTLS records examined */
    uint64_t packets_other;   /* not IP, or IP but neither TCP nor UDP */
    uint64_t flows;           /* flows created */
    uint64_t flows_tls;       /* flows that carried a TLS hello */
    uint64_t flows_quic;      /* of which QUIC */
    uint64_t flows_dtls;      /* of which DTLS */
    uint64_t tls_events;      /* tls events written */
    uint64_t alerts;          /* alert events written */
    uint64_t events_unwritable; /* events that could not be serialized (size cap, memory) */
    uint64_t certs_dumped;    /* --dump-certs: files written */
    uint64_t certs_dump_failed; /* --dump-certs: files that could not be written */
    uint64_t certs_dump_capped; /* --dump-certs: not written, the run's cap was reached */
    uint64_t tls_client_hellos;
    uint64_t tls_server_hellos;
    uint64_t tls_complete;
    uint64_t tls_certificate_msgs; /* Certificate messages seen (clear or decrypted) */
    uint64_t certs_parsed;    /* certificates decoded (not found in the cache) */
    uint64_t chains_validated; /* chain validations run (not found in the chain cache) */
    uint64_t frag_reassembled; /* IP datagrams reassembled from fragments */
    uint64_t dtls_multiplexed; /* STUN/TURN/ZRTP/RTP datagrams on a DTLS flow, skipped */
    uint64_t tls_tunnelled;   /* TLS after CONNECT/SOCKS/STARTTLS/... */
    uint64_t tls_resumed_linked;   /* TLS 1.2 resumptions linked to their full handshake */
    uint64_t tls_resumed_unlinked; /* TLS 1.2 resumptions whose full handshake was not held */
    uint64_t pcap_received;   /* live: packets the kernel passed (pcap_stats) */
    uint64_t pcap_drops;      /* live: kernel drops (pcap_stats) */
    uint64_t pcap_ifdrops;
    uint64_t memuse;          /* bytes held against the memcap now (summed: all workers) */
    uint64_t memuse_peak;     /* the most held at once (summed: each worker's own peak) */
    uint64_t anomalies[STATS_ANOMALY_COUNT];
    uint64_t caps[STATS_CAP_COUNT];
};

const char *stats_anomaly_name(enum stats_anomaly a);

/* Add every counter of `b` to `a` (merging workers). */
void stats_add(struct stats *a, const struct stats *b);
const char *stats_cap_name(enum stats_cap c);

static inline void stats_anomaly(struct stats *s, enum stats_anomaly a)
{
    s->anomalies[a]++;
}

static inline void stats_cap(struct stats *s, enum stats_cap c)
{
    s->caps[c]++;
}

#endif
