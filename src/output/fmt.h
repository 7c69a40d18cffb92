/*
 * fmt.h - the pieces both event formats (EVE, ECS) write: wire values made
 * into text, and pinscope's own objects.
 *
 * Text from the wire is made valid UTF-8 here (each byte that is not part
 * of a valid sequence becomes U+FFFD), so every line is valid JSON
 * whatever the packet held.  The object writers append to a struct jw
 * (output/jw.h) under the key they are given; they read finished records
 * only and never parse packet bytes.
 */
#ifndef PINSCOPE_FMT_H
#define PINSCOPE_FMT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/report.h"
#include "enrich/geoip.h"
#include "output/certjson.h"
#include "output/jw.h"
#include "util/stats.h"

/* ---- text ---------------------------------------------------------------- */

/* Wire bytes as a NUL-terminated valid UTF-8 string (NUL bytes and
 * invalid sequences become U+FFFD); true if the input was valid as it
 * was.  `out` needs 3 * n + 1 bytes. */
bool fmt_utf8(const uint8_t *p, size_t n, char *out);
/* The address of a flow side, as inet_ntop writes it. */
void fmt_addr(const struct flow *f, int side, char *buf, size_t len);
/* IANA name of a cipher suite from OpenSSL's table, or "0x%04x". */
const char *fmt_cipher_name(SSL *ssl, uint16_t id, char buf[8]);
/* Why the event was written: "handshake_complete", "fin", ... */
const char *fmt_end_name(enum ev_end e);
/* "ab:cd:.." of a lower-case hex string, upper-cased if asked; an odd
 * length gets a leading 0. */
void fmt_colon_hex(const char *hex, bool upper, char *out, size_t cap);
/* Why no server chain is shown, or NULL when one is. */
const char *fmt_chain_invisible_reason(const struct conn_report *ev);
/* A TLS version as Suricata names it: "TLS 1.2", "TLSv1", "SSLv3",
 * "TLS 1.3 draft-23", "UNDETERMINED" for 0, else "0x%04x". */
const char *fmt_version(uint16_t v, char buf[24]);

/* A key exchange group's name ("x25519", "secp256r1", "X25519MLKEM768"),
 * else "0x%04x". */
const char *fmt_group_name(uint16_t g, char buf[8]);

/* A server baseline's hello_retry value: "none", the group a
 * HelloRetryRequest asked for, or NULL when not known (conn_keyless). */
const char *fmt_hello_retry(const struct conn_keyless *k, char buf[8]);
/* tls.after_handshake (TCP: the wait after completion), when the client
 * sent no application data in it. */
void fmt_after_handshake(struct jw *w, const struct tls_session *t);
/* How the client closed in that wait: "alert", "fin", "rst", "alert+fin",
 * "alert+rst". */
const char *fmt_client_close(const struct tls_post *p, char *buf, size_t cap);

/* ---- values and objects -------------------------------------------------- */

/* A wire string (at most 255 bytes) under `name`, plus `name`_hex with the
 * raw bytes when they were not valid UTF-8 (not in an array: name NULL). */
void fmt_wire_string(struct jw *w, const char *name, const uint8_t *p, size_t n);
/* One ALPN protocol name; the client's whole list as an array. */
void fmt_alpn(struct jw *w, const char *key, const uint8_t *p, size_t n);
void fmt_alpn_list(struct jw *w, const char *key, const struct ev_client_hello *c);
/* An array of integers; nothing when n is 0 (Suricata: minItems 1). */
void fmt_u16_list(struct jw *w, const char *key, const uint16_t *v, size_t n);
/* Text the program made from numbers: JA3/JA4/JA4T/JA4X strings
 * (decimal, lower-case hex, '_', ',', '-', and JA4's [0-9A-Za-z] ALPN
 * characters), hex, colon hex or base64 digests, certificate serials and
 * key identifiers in hex, the Community ID.  None can hold '"', '\\' or
 * a control character: written unescaped. */
static inline void fmt_fp(struct jw *w, const char *key, const char *s)
{
    jw_plain(w, key, s, strlen(s));
}
/* {"hash":..., "string":...} under key ("ja3", "ja3s"); str may be NULL
 * (written as ""), len its length. */
void fmt_ja3(struct jw *w, const char *key, const char *hash, const char *str, size_t len);
/* ja3{hash,string}, ja4, ja4_r, ja4_o, ja4_ro / ja3s{}, ja4s, ja4s_r. */
void fmt_client_fps(struct jw *w, const struct ev_client_hello *c);
void fmt_server_fps(struct jw *w, const struct ev_server_hello *s);
/* pinscope's certificate objects, leaf first. */
/*
 * One certificate's JSON of `kind`, written by render(w, e) or copied from
 * the worker's certjson cache (cj; NULL writes it directly).  A value
 * (members false) is an array element; members true writes a run of
 * members into the object open at w.
 */
void fmt_cert_cached(struct jw *w, struct certjson *cj, const struct x509_entry *e,
                     enum certjson_kind kind, bool members,
                     void (*render)(struct jw *w, const struct x509_entry *e));
/* The DER of e in base64, as an array element (EVE tls.chain). */
void fmt_cert_base64(struct jw *w, struct certjson *cj, const struct x509_entry *e);
void fmt_x509_chain(struct jw *w, const char *key, const struct x509_chain *c,
                    struct certjson *cj);
/* chain_checks: linkage, validation, SNI match, key reuse, validity. */
void fmt_chain_checks(struct jw *w, const struct x509_chain *c);
/* QUIC version text ("1", "2", "draft-29", "0x%08x"). */
void fmt_quic_version(struct jw *w, const char *name, uint32_t v);
/* pinscope's facts about a QUIC connection (inside an open object). */
void fmt_quic_facts(struct jw *w, const struct ev_quic *q);
/* The dtls object; the alerts array (and alerts_dropped). */
void fmt_dtls(struct jw *w, const struct ev_dtls *d);
void fmt_tls_alerts(struct jw *w, const struct tls_session *t);
/* geo{...} and as{...} of one address, with ECS's names, in an object
 * under `key`, or (key NULL) into the object that is open. */
void fmt_geoip(struct jw *w, const char *key, const struct geoip_info *g);
/* pinscope's own keys of the tls object (inside an open object): the
 * offered version, cipher name, the other JA4 forms and JA4S, tunnel,
 * signature matches, state, end, hello_retry, dtls, chain visibility,
 * x509_chain, chain_checks, alerts. */
void fmt_tls_own(struct jw *w, SSL *ssl, const struct conn_report *ev, struct certjson *cj);

/* Suricata's "tunnel" object for a tunnelled flow: the outermost layer's
 * addresses (client's side as src), protocol and the depth; nothing for a
 * flow outside any tunnel. */
void fmt_tunnel(struct jw *w, const struct flow *f, int client_side);
/* pinscope's "encapsulation": every layer, outermost first, with its id
 * (vni, key, session, teid, label) and the outermost one's addresses. */
void fmt_encapsulation(struct jw *w, const struct flow *f, int client_side);
/* The counters of one stats object (inside an open object). */
void fmt_stats_fields(struct jw *w, const struct stats *st);

#endif
