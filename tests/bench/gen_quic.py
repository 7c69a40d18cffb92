#!/usr/bin/env python3
"""gen_quic.py - a QUIC benchmark capture made of one real connection replayed.

    gen_quic.py TEMPLATE.pcap OUT.pcap N_CONNECTIONS [CONCURRENCY]

TEMPLATE is a classic pcap (Ethernet, IPv4/UDP) holding one QUIC connection
recorded between real peers (tests/golden/udp_quic_v1_keylog.pcap: ngtcp2's
client and server).  OUT holds N_CONNECTIONS copies of it, each from its own
client address (10.0.0.0/8) and port, CONCURRENCY of them interleaved
packet by packet, timestamps advancing 5 us per packet.  The QUIC bytes are
left as they are, so every copy is a complete, decryptable connection with
the same connection IDs and the same TLS client random: pinscope derives
Initial keys and decrypts, reassembles and fingerprints each copy on its
own, and with the template's key log it decrypts every copy's Handshake
packets and validates the chain (the certificate cache sees one chain).
The IPv4 header checksum is recomputed; the UDP checksum is set to 0 (no
checksum, legal over IPv4).  Prints "connections=N packets=P bytes=B".
"""
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic != 0xa1b2c3d4:
        sys.exit("gen_quic: %s: not a little-endian microsecond pcap" % path)
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype != 1:
        sys.exit("gen_quic: %s: link type %d, want Ethernet" % (path, linktype))
    off, pkts = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        pkts.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return pkts


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    template, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conc = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    pkts = read_pcap(template)
    # The client is the source of the first packet.
    first = pkts[0]
    if struct.unpack("!H", first[12:14])[0] != 0x0800 or first[23] != 17:
        sys.exit("gen_quic: the template's first packet is not IPv4/UDP")
    ihl = (first[14] & 0x0f) * 4
    client_ip = first[26:30]
    client_port = first[14 + ihl:14 + ihl + 2]

    def variant(pkt, k):
        b = bytearray(pkt)
        ip = 14
        ihl = (b[ip] & 0x0f) * 4
        new_ip = struct.pack("!I", (10 << 24) | (k + 1))
        new_port = struct.pack("!H", 1024 + k % 60000)
        if b[ip + 12:ip + 16] == client_ip and b[ip + ihl:ip + ihl + 2] == client_port:
            b[ip + 12:ip + 16] = new_ip
            b[ip + ihl:ip + ihl + 2] = new_port
        else:
            b[ip + 16:ip + 20] = new_ip
            b[ip + ihl + 2:ip + ihl + 4] = new_port
        b[ip + 10:ip + 12] = b"\0\0"
        b[ip + 10:ip + 12] = struct.pack("!H", ip_checksum(bytes(b[ip:ip + ihl])))
        b[ip + ihl + 6:ip + ihl + 8] = b"\0\0"
        return bytes(b)

    total_pk = total_by = 0
    ts = 1740787200 * 1000000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        nxt = 0
        active = []          # [connection index, next packet index]
        while nxt < n or active:
            while len(active) < conc and nxt < n:
                active.append([nxt, 0])
                nxt += 1
            still = []
            for a in active:
                p = variant(pkts[a[1]], a[0])
                ts += 5
                f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(p), len(p)))
                f.write(p)
                total_pk += 1
                total_by += len(p)
                a[1] += 1
                if a[1] < len(pkts):
                    still.append(a)
            active = still
    print("connections=%d packets=%d bytes=%d" % (n, total_pk, total_by))


if __name__ == "__main__":
    main()
