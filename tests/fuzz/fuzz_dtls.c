/*
 * fuzz_dtls.c - libFuzzer target: the DTLS record walker, the detection
 * test and handshake reassembly of two directions, fed arbitrary
 * datagrams under one of several memcaps.
 *
 * Input framing: one byte choosing the memcap (low two bits: 1 MiB, 64 B,
 * 3000 B, 70000 B), then a sequence of datagrams, each a 2-byte header
 * (bit 15: direction; bit 14: raw, the bytes go straight to dtls_hs_add()
 * as one handshake record's fragment; bits 0-13: length) followed by that
 * many bytes.  Each datagram is copied to an exact-size buffer so ASan
 * catches any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_msg(void *ctx, const uint8_t *msg, size_t len)
{
    (void)ctx;
    if (len < 4 || len - 4 != ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]))
        abort();   /* delivered messages carry their TLS framing */
    if (len - 4 > DTLS_MSG_MAX)
        abort();
    if (msg[0] == DTLS_HS_HELLO_VERIFY_REQUEST) {
        uint16_t ver;
        uint8_t clen;
        (void)dtls_hello_verify_parse(msg + 4, len - 4, &ver, &clen);
    }
}

static void check_dir(const struct dtls_hs_dir *d)
{
    for (int i = 0; i < DTLS_MAX_PENDING; i++) {
        const struct dtls_hs_slot *s = &d->slot[i];
        if (!s->used)
            continue;
        if (s->n_ranges > DTLS_MAX_RANGES || s->cap > 4 + (size_t)s->length)
            abort();
        if (d->started && s->msg_seq < d->next_seq)
            abort();   /* nothing pending below the delivery point */
        for (int k = 0; k < s->n_ranges; k++) {
            if (s->r[k].start >= s->r[k].end || s->r[k].end > s->length ||
                (k > 0 && s->r[k].start <= s->r[k - 1].end))
                abort();   /* sorted, disjoint, non-adjacent, inside */
            if (4 + (size_t)s->r[k].end > s->cap)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[4] = { 1u << 20, 64, 3000, 70000 };
    struct memcap mc;
    struct dtls_hs_dir dir[2];

    if (size < 1)
        return 0;
    memcap_init(&mc, caps[data[0] & 3]);
    dtls_hs_init(&dir[0]);
    dtls_hs_init(&dir[1]);

    size_t i = 1;
    while (i + 2 <= size) {
        unsigned hdr = (unsigned)data[i] << 8 | data[i + 1];
        int d = hdr >> 15;
        bool raw = (hdr >> 14) & 1;
        size_t n = hdr & 0x3fff;
        i += 2;
        if (n > size - i)
            n = size - i;
        uint8_t *dg = malloc(n ? n : 1);
        if (!dg)
            break;
        memcpy(dg, data + i, n);
        i += n;

        if (raw) {
            dtls_hs_add(&dir[d], &mc, dg, n, on_msg, NULL);
        } else {
            (void)dtls_looks_like_handshake(dg, n);
            struct rd r;
            struct dtls_record rec;
            int rc, k = 0;
            rd_init(&r, dg, n);
            while ((rc = dtls_record_next(&r, &rec)) == 1) {
                if (rec.frag < dg || rec.len > n || rec.frag + rec.len > dg + n)
                    abort();
                if (++k > 16384)
                    abort();   /* every record costs at least a byte */
                if (rec.type == DTLS_CT_HANDSHAKE && !rec.encrypted)
                    dtls_hs_add(&dir[d], &mc, rec.frag, rec.len, on_msg, NULL);
            }
            if (rc < 0 && dtls_record_next(&r, &rec) != 0)
                abort();   /* an error ends the datagram */
            (void)dtls_err_name(rc);
        }
        free(dg);
        check_dir(&dir[d]);
        if (mc.used > mc.cap)
            abort();
    }
    dtls_hs_release(&dir[0], &mc);
    dtls_hs_release(&dir[1], &mc);
    if (mc.used != 0)
        abort();   /* every buffer returned to the memcap */
    return 0;
}
