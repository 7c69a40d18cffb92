/*
 * fuzz_session.c - libFuzzer target: the TLS session state machine
 * (detection, preambles, records, handshake framing, hellos, alerts) fed
 * two directions of arbitrary bytes in arbitrary chunks.
 *
 * Input framing: a sequence of chunks, each one header byte (bit 7: the
 * direction; bits 0-6: length 1..128 after adding one) followed by that
 * many bytes.  Each direction accumulates what it has not consumed, as the
 * reassembly window does in the pipeline.
 *
 * Every input runs twice: as TCP (tls_session_feed, records) and as bare
 * handshake messages (tls_session_feed_handshake), with the QUIC transport
 * for even input sizes and DTLS for odd ones.  In the second run a 1-byte
 * chunk is instead a DTLS record event (tls_session_dgram_record) whose
 * content type is that byte (high bit: protected), and after the first
 * ClientHello a HelloVerifyRequest is taken as seen, so the cookie hello
 * path runs too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WIN 65536

static void run(const uint8_t *data, size_t size, bool raw)
{
    static struct tls_hello hello;
    static uint8_t win[2][WIN];
    size_t have[2] = { 0, 0 };
    struct memcap mc;
    struct stats st;
    struct tls_session s;

    memcap_init(&mc, 1u << 20);
    memset(&st, 0, sizeof(st));
    tls_session_init(&s);
    if (raw)
        s.transport = size % 2 ? TLS_TRANSPORT_DTLS : TLS_TRANSPORT_QUIC;

    size_t i = 0;
    while (i < size) {
        int dir = data[i] >> 7;
        size_t n = (size_t)(data[i] & 0x7f) + 1;
        i++;
        if (n > size - i)
            n = size - i;
        if (raw && n == 1) {
            uint8_t ct = data[i];
            tls_session_dgram_record(&s, &st, dir, ct & 0x7f, ct & 0x80, data + i, n);
            i += n;
            continue;
        }
        if (have[dir] + n > WIN)
            break;
        memcpy(win[dir] + have[dir], data + i, n);
        have[dir] += n;
        i += n;
        for (int guard = 0; guard < 100000; guard++) {
            size_t used = 0;
            struct tls_msg msg = { .hello = &hello, .idx = -1 };
            /* An exact-size copy so ASan catches any read past the data. */
            uint8_t *exact = malloc(have[dir] ? have[dir] : 1);
            if (!exact)
                break;
            memcpy(exact, win[dir], have[dir]);
            enum tls_event ev =
                raw ? tls_session_feed_handshake(&s, &mc, &st, dir, exact, have[dir], &used, &msg)
                    : tls_session_feed(&s, &mc, &st, dir, exact, have[dir], &used, &msg);
            free(exact);
            if (used > have[dir])
                abort();   /* the session may never claim more than it was given */
            memmove(win[dir], win[dir] + used, have[dir] - used);
            have[dir] -= used;
            if (ev == TLS_EV_CLIENT_HELLO || ev == TLS_EV_SERVER_HELLO) {
                if (msg.idx < 0 || msg.idx > 1)
                    abort();
                if (raw && s.transport == TLS_TRANSPORT_DTLS)
                    s.dtls_hvr = true;
                continue;
            }
            if (ev == TLS_EV_PROGRESS || ev == TLS_EV_CERTIFICATE)
                continue;
            break;
        }
    }
    if (s.n_alerts > CFG_TLS_MAX_ALERTS)
        abort();
    tls_session_release(&s, &mc);
    if (mc.used != 0)
        abort();   /* every buffer returned to the memcap */
}

/* The watch after a completed TCP handshake (tls_session_watch): the first
 * byte picks the client side, the TLS version and whether a close arrives
 * between chunks; then chunks as in run(), each an exact-size copy. */
static void run_watch(const uint8_t *data, size_t size)
{
    struct tls_session s;
    if (size < 1)
        return;
    tls_session_init(&s);
    s.client = data[0] & 1;
    s.version = data[0] & 2 ? 0x0304 : 0x0303;
    bool closes = data[0] & 4;
    if (!tls_session_watch_start(&s, 1))
        abort();   /* a fresh session has no frame buffers: it must start */
    size_t i = 1;
    uint64_t t = 1;
    while (i < size) {
        int dir = data[i] >> 7;
        size_t n = (size_t)(data[i] & 0x7f) + 1;
        i++;
        if (n > size - i)
            n = size - i;
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact)
            break;
        memcpy(exact, data + i, n);
        size_t used = tls_session_watch(&s, dir, exact, n, ++t);
        free(exact);
        if (used > n)
            abort();
        if (s.post.records[0] > CFG_TLS_LINGER_RECORDS || s.post.records[1] > CFG_TLS_LINGER_RECORDS)
            abort();
        i += n;
        if (closes && n % 7 == 0)
            tls_session_watch_close(&s, dir, n % 2, ++t);
    }
    if (s.post.client_data && !s.post.over)
        abort();   /* the client's data ends the watch */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, false);
    run(data, size, true);
    run_watch(data, size);
    return 0;
}
