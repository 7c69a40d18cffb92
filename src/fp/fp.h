/*
 * fp.h - TLS client and server fingerprints: JA3, JA3S, JA4, JA4S.
 *
 * Pure functions of a parsed struct tls_hello: no I/O, no flow, no global
 * state except the digest implementations (OpenSSL EVP).
 *
 * JA3 / JA3S: the Salesforce definition (BSD-3-Clause).  Decimal values,
 * '-' inside a field, ',' between fields:
 *   JA3  = legacy_version,ciphers,extensions,groups,point_formats
 *   JA3S = legacy_version,cipher,extensions
 * GREASE values are dropped from ciphers, extensions and groups.  The hash
 * is the lower-case hex MD5 of the string.
 *
 * JA4 (BSD-3-Clause) and JA4S (FoxIO License 1.1), implemented from FoxIO's
 * written specification (technical_details/JA4.md, JA4S.md):
 *   JA4  = a_b_c
 *     a = transport ('t' TCP, 'q' QUIC, 'd' DTLS) + version (2 chars) +
 *         'd'|'i' (SNI extension present or not) + cipher count (2 digits,
 *         max 99) + extension count (2 digits, max 99) + ALPN (2 chars)
 *     b = first 12 hex of SHA-256 of the sorted cipher list (4-hex, ',')
 *     c = first 12 hex of SHA-256 of the sorted extensions without SNI and
 *         ALPN, then '_' and the signature algorithms in wire order
 *   ja4_r  : b and c as the raw lists instead of hashes
 *   ja4_o  : original order, SNI and ALPN kept in the extension list
 *   ja4_ro : raw and original order
 *   GREASE is ignored everywhere (counts, lists, signature algorithms).
 *   An empty list hashes to "000000000000".
 *   ALPN chars: first and last character of the first ALPN value when both
 *   are ASCII alphanumeric; otherwise the first hex digit of its first byte
 *   and the last hex digit of its last byte; "00" without ALPN or for an
 *   empty first value.  A one-byte value 'x' gives "xx".
 *   Version: 13/12/11/10/s3/s2, DTLS d1/d2/d3, "00" when unknown.
 *
 *   JA4S = a_b_c
 *     a = transport + version + extension count (2 digits) + ALPN (2 chars)
 *     b = selected cipher (4 hex)
 *     c = first 12 hex of SHA-256 of the extensions in wire order
 *   ja4s_r: c as the raw list.
 */
#ifndef PINSCOPE_FP_H
#define PINSCOPE_FP_H

#include <stddef.h>

#include "tls/hello.h"

/* Longest raw string any fingerprint can produce from a capped hello:
 * 1024 ciphers and 256 extensions at 6 chars, plus groups and sig algs. */
#define FP_STR_MAX 16384

enum fp_transport {
    FP_TRANSPORT_TCP = 't',
    FP_TRANSPORT_QUIC = 'q',
    FP_TRANSPORT_DTLS = 'd',
};

struct fp_ja3 {
    char hash[33];
    char str[FP_STR_MAX];
};

struct fp_ja4 {
    char ja4[64];
    char ja4_o[64];
    char ja4_r[FP_STR_MAX];
    char ja4_ro[FP_STR_MAX];
};

struct fp_ja4s {
    char ja4s[64];
    char ja4s_r[FP_STR_MAX];
};

/* Fill `out` from a ClientHello.  Never fails; strings are NUL-terminated. */
void fp_ja3(const struct tls_hello *ch, struct fp_ja3 *out);
void fp_ja4(const struct tls_hello *ch, enum fp_transport t, struct fp_ja4 *out);

/* Fill `out` from a ServerHello. */
void fp_ja3s(const struct tls_hello *sh, struct fp_ja3 *out);
void fp_ja4s(const struct tls_hello *sh, enum fp_transport t, struct fp_ja4s *out);

/* The two version characters JA4/JA4S use for a version number
 * (e.g. 0x0304 -> "13", 0xfefd -> "d2", unknown -> "00"). */
void fp_ja4_version(unsigned version, char out[3]);

#endif
