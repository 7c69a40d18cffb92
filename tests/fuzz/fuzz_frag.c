/*
 * fuzz_frag.c - libFuzzer target: IP fragment reassembly (reasm/frag.h)
 * fed arbitrary fragments under one of several memcaps, every datagram it
 * completes decoded again as the pipeline does (decode_ip()).
 *
 * Input framing: one byte choosing the memcap (low two bits: 1 MiB, 64 B,
 * 4000 B, 300000 B), then a sequence of fragments, each a 6-byte header
 *   flags(1)   bit 0: IPv6; bit 1: more fragments; bits 2-3: protocol (TCP,
 *              UDP, GRE, ICMP); bits 4-5: identification (one of four);
 *              bit 6: the other source address; bit 7: another zone
 *   offset(2)  in bytes (multiples of 8 or not: the table must cope)
 *   length(2)  of the fragment's data, cut to what the input still holds
 *   time(1)    seconds since the previous fragment (0 most of the time;
 *              255 runs frag_expire())
 * followed by that many bytes.  Each fragment's data is copied to an
 * exact-size buffer so ASan catches any read past it.
 *
 * The table must stay within its share of the memcap, a datagram it hands
 * back must be a well-formed IP header and the payload it says, and every
 * byte must be given back at the end.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decode/decode.h"
#include "reasm/frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[4] = { 1u << 20, 64, 4000, 300000 };
    static const uint8_t protos[4] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_GRE, IPPROTO_ICMP };
    static struct stats st;
    struct memcap mc;

    if (size < 1)
        return 0;
    memset(&st, 0, sizeof(st));
    memcap_init(&mc, caps[data[0] & 3]);
    struct frag_table *t = frag_new(&mc, &st);
    if (!t)
        return 0;
    const size_t share = mc.cap / 100 * CFG_FRAG_MEMCAP_PERCENT;
    uint64_t now = 1700000000ull * 1000000;

    size_t i = 1;
    while (i + 6 <= size) {
        unsigned flags = data[i];
        size_t off = (size_t)data[i + 1] << 8 | data[i + 2];
        size_t n = (size_t)data[i + 3] << 8 | data[i + 4];
        unsigned dt = data[i + 5];
        i += 6;
        if (n > size - i)
            n = size - i;
        uint8_t *frag = malloc(n ? n : 1);
        if (!frag)
            break;
        memcpy(frag, data + i, n);
        i += n;

        struct pkt p;
        memset(&p, 0, sizeof(p));
        p.ip_ver = flags & 1 ? 6 : 4;
        p.src[0] = 198;
        p.src[1] = 18;
        p.src[3] = flags & 0x40 ? 3 : 1;
        p.dst[0] = 198;
        p.dst[1] = 18;
        p.dst[3] = 2;
        if (p.ip_ver == 6)
            p.src[15] = p.dst[15] = 9;
        p.zone = flags & 0x80 ? 0x5eed : 0;
        p.frag.id = 0x1000 + ((flags >> 4) & 3);
        p.frag.offset = (uint32_t)(p.ip_ver == 4 ? off & 0xfff8 : off);
        p.frag.more = flags & 2;
        p.frag.proto = protos[(flags >> 2) & 3];
        p.frag.data = frag;
        p.frag.len = n;

        if (dt == 255) {
            now += (uint64_t)CFG_FRAG_TIMEOUT * 1000000;
            frag_expire(t, now);
        } else {
            now += (uint64_t)dt * 1000000;
        }
        size_t len = 0;
        const uint8_t *dg = frag_add(t, &p, now, &len);
        free(frag);
        if (mc.used > share)
            abort();   /* past the fragments' share of the memcap */
        if (dg) {
            size_t hdr = p.ip_ver == 4 ? 20 : 40;
            if (len < hdr || len > hdr + 65535)
                abort();
            if (p.ip_ver == 4 && (dg[0] != 0x45 || ((size_t)dg[2] << 8 | dg[3]) != len ||
                                  dg[9] != p.frag.proto))
                abort();
            if (p.ip_ver == 6 && (dg[0] >> 4 != 6 || ((size_t)dg[4] << 8 | dg[5]) + 40 != len ||
                                  dg[6] != p.frag.proto))
                abort();
            /* What the pipeline does with it; a copy of exactly its size. */
            uint8_t *copy = malloc(len);
            if (!copy)
                break;
            memcpy(copy, dg, len);
            struct pkt q = p;
            enum decode_result r = decode_ip(&q, copy, len, p.ip_ver, &st);
            if (r == DECODE_OK && q.payload_len > 0 &&
                (q.payload < copy || q.payload + q.payload_len > copy + len))
                abort();
            free(copy);
        }
    }
    frag_free(t);
    if (mc.used != 0)
        abort();   /* every byte given back to the memcap */
    return 0;
}
