/*
 * ja4t.h - TCP handshake fingerprints: JA4T, JA4TS, JA4L (FoxIO License 1.1),
 * implemented from FoxIO's description and reference implementation.
 *
 *   JA4T  (the client's SYN)     window_options_mss_wscale
 *   JA4TS (the server's SYN-ACK) the same fields
 *     window   the raw window field (before scaling)
 *     options  every option kind in wire order, '-' between; each EOL or
 *              NOP byte counts as an option ("2-1-3-1-1-8-4-0-0"); "00"
 *              when there are none
 *     mss      the last MSS option's value, at least two digits ("00")
 *     wscale   the last window-scale option's shift; "00" when 0 or absent
 *   e.g. 64240_2-1-3-1-1-4_1460_8
 *
 *   JA4L  (client)  (t_ack - t_synack) / 2 "_" the client's TTL
 *   JA4LS (server)  (t_synack - t_syn) / 2 "_" the server's TTL
 *     in microseconds, integer division; taken only from a SYN (flags
 *     0x02), SYN-ACK (0x12), pure ACK (0x10) sequence, ECN's CWR and ECE
 *     bits aside, as FoxIO's Rust implementation does (its Python one
 *     takes the client's first data segment instead of the ACK).  TTL: IPv4 TTL or IPv6 hop limit as seen.
 *
 * A device in line (a proxy terminating TCP) answers with its own stack:
 * its JA4TS and its JA4LS differ from the origin's, and a SYN's MSS below
 * the path's usual 1460 points to a tunnel or a middlebox.
 */
#ifndef PINSCOPE_JA4T_H
#define PINSCOPE_JA4T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JA4T_MAX_KINDS 40       /* a TCP header holds at most 40 option bytes */
#define JA4T_STR_MAX   (6 + JA4T_MAX_KINDS * 4 + 16)

/* One SYN or SYN-ACK, as the fingerprint needs it. */
struct ja4t_syn {
    bool seen;
    uint8_t ttl;
    uint16_t window;
    uint16_t mss;
    uint8_t wscale;
    uint8_t n_kinds;
    uint8_t kinds[JA4T_MAX_KINDS];
};

/* The TCP handshake of one connection. */
struct tcp_handshake {
    struct ja4t_syn syn, synack;
    uint64_t t_syn, t_synack, t_ack;   /* us; 0: not seen (JA4L state) */
    uint8_t ttl_syn, ttl_synack;
    uint8_t client_side;                /* flow key side of the SYN */
    uint64_t t_client_hello, t_server_hello;   /* us: the packets that completed them */
};

/* Read the options of one SYN or SYN-ACK (opts: the bytes after the
 * 20-byte header).  A malformed option ends the walk; what came before
 * counts. */
void ja4t_read(struct ja4t_syn *s, uint16_t window, uint8_t ttl, const uint8_t *opts,
               size_t len);

/* The fingerprint string of s (JA4T for a SYN, JA4TS for a SYN-ACK). */
void ja4t_format(const struct ja4t_syn *s, char out[JA4T_STR_MAX]);

/* The server's side as a baseline holds it: JA4TS and the SYN-ACK's TTL
 * as decimal text.  False (nothing written) when no SYN-ACK was seen. */
bool ja4t_server_stack(const struct tcp_handshake *h, char ja4ts[JA4T_STR_MAX], char ttl[4]);

/* Feed a packet of the connection's handshake: flags as on the wire,
 * from_client, time in us, TTL.  The JA4L state machine above. */
void ja4l_packet(struct tcp_handshake *h, uint8_t flags, bool from_client, uint64_t ts_us,
                 uint8_t ttl);

/* JA4L / JA4LS strings; false when the handshake was not complete. */
bool ja4l_format(const struct tcp_handshake *h, char client[32], char server[32]);

#endif
