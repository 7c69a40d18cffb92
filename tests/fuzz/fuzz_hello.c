/*
 * fuzz_hello.c - libFuzzer target for tls/hello.c and the fingerprints.
 *
 * The input is one hello body (the bytes after the handshake header).  It
 * goes through both tls_client_hello_parse() and tls_server_hello_parse();
 * every successful parse is fingerprinted (JA3 and JA4 for a ClientHello,
 * JA3S and JA4S for a ServerHello, and all four over either struct, since
 * the fingerprint functions must cope with any struct a parser produces).
 * The first input byte also picks the JA4 transport letter so that all
 * three are exercised; the parsers see the whole input.  The same bytes
 * also go through tls_new_session_ticket_parse() (TLS 1.2
 * NewSessionTicket), whose ticket view must lie inside the input.
 *
 * It checks memory safety (ASan/UBSan) and a few invariants: stored counts
 * never exceed the caps or the true counts, and every output string is
 * terminated inside its buffer.  It does not check fingerprint values
 * (tests/unit/test_fp.c does).
 *
 *   clang -fsanitize=fuzzer,address,undefined ... -o fuzz_hello
 *   ./fuzz_hello -max_total_time=60
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fp/fp.h"
#include "tls/hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
    if (!cond)
        abort();
}

static void check_struct(const struct tls_hello *h)
{
    check(h->n_ciphers <= TLS_HELLO_MAX_CIPHERS && h->n_ciphers <= h->total_ciphers);
    check(h->n_exts <= TLS_HELLO_MAX_EXTS && h->n_exts <= h->total_exts);
    check(h->n_groups <= TLS_HELLO_MAX_GROUPS && h->n_groups <= h->total_groups);
    check(h->n_sig_algs <= TLS_HELLO_MAX_SIGALGS && h->n_sig_algs <= h->total_sig_algs);
    check(h->n_point_formats <= TLS_HELLO_MAX_POINTFMTS &&
          h->n_point_formats <= h->total_point_formats);
    check(h->n_versions <= TLS_HELLO_MAX_VERSIONS && h->n_versions <= h->total_versions);
    check(h->n_alpn <= TLS_HELLO_MAX_ALPN && h->n_alpn <= h->total_alpn);
    check(h->sni_len <= TLS_HELLO_MAX_SNI);
    check(h->session_id_len <= sizeof h->session_id);
    if (h->n_ciphers < h->total_ciphers || h->n_exts < h->total_exts ||
        h->n_groups < h->total_groups || h->n_sig_algs < h->total_sig_algs ||
        h->n_point_formats < h->total_point_formats ||
        h->n_versions < h->total_versions || h->n_alpn < h->total_alpn)
        check(h->capped);
}

static void fingerprint_all(const struct tls_hello *h, enum fp_transport t)
{
    static struct fp_ja3 j3;
    static struct fp_ja4 j4;
    static struct fp_ja4s j4s;

    fp_ja3(h, &j3);
    check(memchr(j3.str, '\0', sizeof j3.str) != NULL && strlen(j3.hash) <= 32);
    fp_ja4(h, t, &j4);
    check(memchr(j4.ja4, '\0', sizeof j4.ja4) != NULL && strlen(j4.ja4) == 36);
    check(memchr(j4.ja4_o, '\0', sizeof j4.ja4_o) != NULL && strlen(j4.ja4_o) == 36);
    check(memchr(j4.ja4_r, '\0', sizeof j4.ja4_r) != NULL &&
          memchr(j4.ja4_ro, '\0', sizeof j4.ja4_ro) != NULL);
    fp_ja3s(h, &j3);
    check(memchr(j3.str, '\0', sizeof j3.str) != NULL);
    fp_ja4s(h, t, &j4s);
    check(memchr(j4s.ja4s, '\0', sizeof j4s.ja4s) != NULL && strlen(j4s.ja4s) == 25);
    check(memchr(j4s.ja4s_r, '\0', sizeof j4s.ja4s_r) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tls_hello h;
    static const enum fp_transport transports[] = {
        FP_TRANSPORT_TCP, FP_TRANSPORT_QUIC, FP_TRANSPORT_DTLS,
    };
    enum fp_transport t = transports[size ? data[0] % 3 : 0];

    if (tls_client_hello_parse(data, size, &h) == TLS_HELLO_OK) {
        check(!h.is_server);
        check_struct(&h);
        fingerprint_all(&h, t);
    }
    if (tls_server_hello_parse(data, size, &h) == TLS_HELLO_OK) {
        check(h.is_server && h.n_ciphers == 1);
        check_struct(&h);
        fingerprint_all(&h, t);
    }
    uint32_t hint;
    const uint8_t *ticket;
    size_t tlen;
    if (tls_new_session_ticket_parse(data, size, &hint, &ticket, &tlen) == TLS_HELLO_OK)
        check(size == 6 + tlen && ticket == data + 6);
    return 0;
}
