#!/usr/bin/env python3
"""craft_pcaps.py - write hand-built regression captures into tests/golden/.

Each capture isolates one hostile or unusual input that real clients do not
produce, so that its expected JSON (tests/golden/NAME.jsonl) pins the
behaviour down:

  hostile_sni.pcap        SNI with quotes, backslash, control bytes and
                          invalid UTF-8; ALPN with a NUL and 0xff
  sslv2_hello.pcap        an SSLv2-format CLIENT-HELLO answered by TLS 1.0
  reconnect_same_ports.pcap  a connection closed by FINs, its old SYN again,
                          then a new connection on the same ports 2 s later
  no_syn_midstream.pcap   a connection picked up without its handshake, the
                          ClientHello split over two segments in reverse order
  overlap_conflict.pcap   a ClientHello whose retransmission carries other
                          bytes (first copy wins, anomaly counted)
  truncated_record.pcap   a handshake record header promising more than ever
                          arrives, then RST (event at close, state client_hello)
  garbage_after_hello.pcap a ClientHello followed by a record with a bad
                          version (analysis stops, event still written)
  quic_rfc_initials.pcap  the protected client and server Initial packets of
                          RFC 9001 A.2/A.3 (QUIC v1) and RFC 9369 A.2/A.3
                          (v2), as the RFCs print them (copied from
                          tests/unit/test_quic.c, where they are checked)
  quic_version_negotiation.pcap  the RFC 9001 client Initial answered by a
                          Version Negotiation packet
  quic_hostile.pcap       an Initial with one ciphertext byte changed (no
                          flow), one cut short (its Length runs past the
                          datagram), a lone server Initial, and a good client
                          Initial followed by a long header whose Length
                          runs past the datagram
  quic_handshake_reordered.pcap  the real ngtcp2 connection of
                          udp_quic_v1_keylog.pcap with the server's first
                          datagram (Initial + Handshake, coalesced) split in
                          two and its Initial (the ServerHello) delivered
                          after the server's Handshake packets: with the key
                          log, those wait for their keys and the chain is
                          still seen (NAME.keylog is the same key log)
  quic_client_port_4789.pcap  the real ngtcp2 connection of
                          udp_quic_v1_keylog.pcap with the client's port
                          moved to 4789, VXLAN's: the server's datagrams to
                          it are QUIC, not VXLAN (a regression: a short
                          header whose first byte has 0x08 set was taken
                          for a VXLAN header and the connection lost its
                          chain); NAME.keylog is the same key log
  tunnels.pcap            one TLS connection in each encapsulation (see
                          tunnels() below)
  tunnels_hostile.pcap    each encapsulation truncated or lying about its
                          length, nesting past the cap, conflicting and
                          tiny fragments inside tunnels, then a good
                          connection (see tunnels_hostile())
  frag_flood.pcap         fragments that never complete, past the memcap
                          and past the datagrams kept, then two connections
                          (see frag_flood())
  ip_fragments.pcap       hellos and a QUIC Initial in IPv4/IPv6 fragments,
                          a conflicting overlap, two fragment attacks and a
                          datagram that never completes (see fragments())
  dtls_stun_multiplexed.pcap  STUN, DTLS and RTP on one UDP port (WebRTC)
  rdp_tls.pcap, mysql_tls.pcap  TLS after an RDP X.224 negotiation and
                          after a MySQL greeting and SSLRequest
  tfo.pcap                ClientHellos in SYNs (TCP Fast Open), accepted
                          and refused by the server
  linktype_*.pcap         one TLS connection per link type: PPP, PPP in
                          HDLC framing, Cisco HDLC, NFLOG, 802.11, radiotap
  dtls_hostile.pcap       a DTLS ClientHello in three fragments, out of order,
                          with an overlapping retransmission that carries
                          other bytes; a fragment past its message length; a
                          record whose length runs past the datagram

Standard library only; addresses from 198.18.0.0/15.
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "golden")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                      bytes(src), bytes(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                       65535, 0, 0) + payload


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
C = [198, 18, 0, 10]
S = [198, 18, 0, 20]


class Pcap:
    def __init__(self, path, linktype=1):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        self.t = 1700000000.0

    def pkt(self, frame):
        self.t += 0.001
        sec = int(self.t)
        usec = int(round((self.t - sec) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)

    def tcp(self, from_client, seq, ack, flags, payload=b"", sport=41000, dport=443):
        eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
        if from_client:
            seg = tcp(sport, dport, seq, ack, flags, payload)
            self.pkt(eth + ipv4(C, S, 6, seg))
        else:
            seg = tcp(dport, sport, seq, ack, flags, payload)
            self.pkt(eth + ipv4(S, C, 6, seg))

    def udp(self, from_client, payload, sport=41000, dport=443):
        eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
        a, b = (sport, dport) if from_client else (dport, sport)
        seg = struct.pack("!HHHH", a, b, 8 + len(payload), 0) + payload
        self.pkt(eth + (ipv4(C, S, 17, seg) if from_client else ipv4(S, C, 17, seg)))

    def close(self):
        self.f.close()


def rfc_packet(name):
    """A QUIC packet printed in RFC 9001/9369 Appendix A, read from the C
    string literal of that name in tests/unit/test_quic.c."""
    path = os.path.join(os.path.dirname(__file__), "..", "unit", "test_quic.c")
    src = open(path).read()
    start = src.index("static const char %s[] =" % name)
    body = src[start:src.index(";", start)]
    return bytes.fromhex("".join(part.split('"')[1] for part in body.split("\n")[1:] if '"' in part))


def read_pcap(path):
    """(header, [(ts_sec, ts_usec, frame)]) of a classic little-endian pcap."""
    data = open(path, "rb").read()
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        recs.append((sec, usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], recs


def quic_varint(b, off):
    n = 1 << (b[off] >> 6)
    v = b[off] & 0x3F
    for i in range(1, n):
        v = v << 8 | b[off + i]
    return v, off + n


def quic_long_len(b):
    """Length of the long-header packet at the start of b (Initial,
    0-RTT or Handshake of QUIC v1)."""
    off = 5
    off += 1 + b[off]                     # DCID
    off += 1 + b[off]                     # SCID
    if (b[0] >> 4) & 3 == 0:              # Initial: token
        tl, off = quic_varint(b, off)
        off += tl
    ln, off = quic_varint(b, off)
    return off + ln


def dtls_client_hello_frags(sni, msg_seq=0, pieces=1):
    """A DTLS 1.2 ClientHello (empty cookie) as handshake fragments."""
    exts = ext(0, v16(b"\0" + v16(sni))) + ext(0x000A, v16(struct.pack("!H", 0x0017)))
    body = struct.pack("!H", 0xFEFD) + bytes(range(32)) + v8(b"") + v8(b"") + \
        v16(struct.pack("!HH", 0xC02B, 0xC02F)) + v8(b"\0") + v16(exts)
    n, out, step = len(body), [], -(-len(body) // pieces)
    for off in range(0, n, step):
        part = body[off:off + step]
        out.append(struct.pack("!B", 1) + n.to_bytes(3, "big") + struct.pack("!H", msg_seq) +
                   off.to_bytes(3, "big") + len(part).to_bytes(3, "big") + part)
    return out


def dtls_record(ct, payload, epoch=0, seq=0, ver=0xFEFD):
    return struct.pack("!BHH", ct, ver, epoch) + seq.to_bytes(6, "big") + v16(payload)


def v8(b):
    return struct.pack("!B", len(b)) + b


def v16(b):
    return struct.pack("!H", len(b)) + b


def ext(t, body):
    return struct.pack("!H", t) + v16(body)


def client_hello(sni, alpn=(b"h2",), ciphers=(0x1301, 0xC02F), version_ext=True):
    exts = b""
    if sni is not None:
        exts += ext(0, v16(b"\0" + v16(sni)))
    exts += ext(0x000A, v16(struct.pack("!HH", 0x001D, 0x0017)))
    exts += ext(0x000B, v8(b"\0"))
    exts += ext(0x000D, v16(struct.pack("!HH", 0x0403, 0x0804)))
    if alpn:
        exts += ext(0x0010, v16(b"".join(v8(a) for a in alpn)))
    if version_ext:
        exts += ext(0x002B, v8(struct.pack("!HH", 0x0304, 0x0303)))
    body = struct.pack("!H", 0x0303) + bytes(range(32)) + v8(b"") + \
        v16(b"".join(struct.pack("!H", c) for c in ciphers)) + v8(b"\0") + v16(exts)
    return b"\x01" + len(body).to_bytes(3, "big") + body


def server_hello(cipher=0xC02F, version=0x0303):
    body = struct.pack("!H", version) + bytes(32) + v8(b"") + struct.pack("!HB", cipher, 0) + \
        v16(ext(0xFF01, b"\0"))
    return b"\x02" + len(body).to_bytes(3, "big") + body


def record(ct, payload, ver=0x0303):
    return struct.pack("!BHH", ct, ver, len(payload)) + payload


def handshake(p, ch, sh, cisn=1000, sisn=5000, close=True):
    p.tcp(True, cisn, 0, SYN)
    p.tcp(False, sisn, cisn + 1, SYN | ACK)
    p.tcp(True, cisn + 1, sisn + 1, ACK)
    p.tcp(True, cisn + 1, sisn + 1, PSH | ACK, ch)
    p.tcp(False, sisn + 1, cisn + 1 + len(ch), PSH | ACK, sh)
    if close:
        p.tcp(True, cisn + 1 + len(ch), sisn + 1 + len(sh), FIN | ACK)
        p.tcp(False, sisn + 1 + len(sh), cisn + 2 + len(ch), FIN | ACK)


# ---- tunnels.pcap ---------------------------------------------------------

ETH_IP4 = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"


def eth(payload, etype=0x0800):
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + struct.pack("!H", etype) + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) + bytes(src) + bytes(dst) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def gre(proto, payload, key=None, seq=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h + payload


def tunnel_conn(p, sni, wrap, cport=41000, cisn=1000, sisn=5000):
    """A TLS handshake between 10.0.0.1:cport and 10.0.0.2:443, every IP
    packet passed through wrap(ip_packet, from_client) -> Ethernet frame."""
    A, B = [10, 0, 0, 1], [10, 0, 0, 2]
    ch, sh = record(0x16, client_hello(sni)), record(0x16, server_hello())

    def seg(from_client, seq, ack, flags, payload=b""):
        if from_client:
            ip = ipv4(A, B, 6, tcp(cport, 443, seq, ack, flags, payload))
        else:
            ip = ipv4(B, A, 6, tcp(443, cport, seq, ack, flags, payload))
        p.pkt(wrap(ip, from_client))
    seg(True, cisn, 0, SYN)
    seg(False, sisn, cisn + 1, SYN | ACK)
    seg(True, cisn + 1, sisn + 1, ACK)
    seg(True, cisn + 1, sisn + 1, PSH | ACK, ch)
    seg(False, sisn + 1, cisn + 1 + len(ch), PSH | ACK, sh)
    seg(True, cisn + 1 + len(ch), sisn + 1 + len(sh), FIN | ACK)
    seg(False, sisn + 1 + len(sh), cisn + 2 + len(ch), FIN | ACK)


def outer4(from_client, proto, payload, a=(198, 18, 1, 1), b=(198, 18, 1, 2)):
    return ipv4(a, b, proto, payload) if from_client else ipv4(b, a, proto, payload)


def tunnels(path):
    """Every encapsulation pinscope follows, one TLS connection each (SNI
    names it), outer addresses 198.18.1.0/24, inner 10.0.0.1 -> 10.0.0.2:443:
    two VXLAN tenants (VNI 100 and 200) with the same inner addresses and
    ports, each VTEP with its own source port; GRE with key 7; ERSPAN II
    (session 5) and III (session 9, with the platform subheader); Geneve
    (VNI 300, 8 bytes of options); two MPLS labels; PPPoE session 0x1234;
    IPv4 in IPv4; IPv6 in IPv4; GTP-U with a TEID per direction (0xabc up,
    0xdef down) and an extension header; VXLAN inside GRE; then a UDP
    datagram to port 4789 that is not VXLAN (ignored) and five nested IP in
    IP headers (one too many: counted)."""
    p = Pcap(path)

    def vxlan(vni, inner_frame, from_client):
        return eth(outer4(from_client, 17, udp(50000 if from_client else 51111, 4789,
                                                struct.pack("!II", 0x08000000, vni << 8) +
                                                inner_frame)))
    tunnel_conn(p, b"vxlan100.example", lambda ip, c: vxlan(100, eth(ip), c))
    tunnel_conn(p, b"vxlan200.example", lambda ip, c: vxlan(200, eth(ip), c))
    tunnel_conn(p, b"gre.example", lambda ip, c: eth(outer4(c, 47, gre(0x0800, ip, key=7))),
                cport=41001)

    def erspan2(ip, c):
        hdr = struct.pack("!HHI", (1 << 12) | 10, 5, 0)
        return eth(outer4(c, 47, gre(0x88BE, hdr + eth(ip), seq=1)))
    tunnel_conn(p, b"erspan2.example", erspan2, cport=41002)

    def erspan3(ip, c):
        hdr = struct.pack("!HHIHH", (2 << 12) | 10, 9, 0x12345678, 0, 1) + bytes(8)
        return eth(outer4(c, 47, gre(0x22EB, hdr + eth(ip), seq=1)))
    tunnel_conn(p, b"erspan3.example", erspan3, cport=41003)

    def geneve(ip, c):
        opts = struct.pack("!HBB", 0x0102, 0x03, 1) + bytes(4)   # one 8-byte option
        hdr = struct.pack("!BBHI", len(opts) // 4, 0, 0x6558, 300 << 8)
        return eth(outer4(c, 17, udp(52000, 6081, hdr + opts + eth(ip))))
    tunnel_conn(p, b"geneve.example", geneve, cport=41004)

    def mpls(ip, c):
        stack = struct.pack("!II", (1000 << 12) | 64, (2000 << 12) | 0x100 | 64)
        return eth(stack + ip, 0x8847)
    tunnel_conn(p, b"mpls.example", mpls, cport=41005)

    def pppoe(ip, c):
        return eth(struct.pack("!BBHHH", 0x11, 0, 0x1234, len(ip) + 2, 0x0021) + ip, 0x8864)
    tunnel_conn(p, b"pppoe.example", pppoe, cport=41006)
    tunnel_conn(p, b"ipip.example", lambda ip, c: eth(outer4(c, 4, ip)), cport=41007)

    # IPv6 inside IPv4 (6in4): the inner packet is IPv6.
    A6, B6 = bytes.fromhex("20010db8000000000000000000000001"), bytes.fromhex("20010db8000000000000000000000002")
    ch6, sh6 = record(0x16, client_hello(b"sixinfour.example")), record(0x16, server_hello())
    for c, seq, ack, fl, pl in ((True, 1000, 0, SYN, b""), (False, 5000, 1001, SYN | ACK, b""),
                                (True, 1001, 5001, ACK, b""), (True, 1001, 5001, PSH | ACK, ch6),
                                (False, 5001, 1001 + len(ch6), PSH | ACK, sh6)):
        t = tcp(41008, 443, seq, ack, fl, pl) if c else tcp(443, 41008, seq, ack, fl, pl)
        ip6 = ipv6(A6, B6, 6, t) if c else ipv6(B6, A6, 6, t)
        p.pkt(eth(outer4(c, 41, ip6)))

    def gtpu(ip, c):
        teid = 0xABC if c else 0xDEF
        ext = bytes([1, 0x00, 0x09, 0])     # PDU session container: len 1 (4 bytes), next 0
        body = struct.pack("!HBB", 0, 0, 0x85) + ext + ip
        hdr = struct.pack("!BBHI", 0x34, 0xFF, len(body), teid)
        return eth(outer4(c, 17, udp(2152, 2152, hdr + body)))
    tunnel_conn(p, b"gtpu.example", gtpu, cport=41009)

    def nested(ip, c):
        inner = udp(50001, 4789, struct.pack("!II", 0x08000000, 400 << 8) + eth(ip))
        return eth(outer4(c, 47, gre(0x0800, outer4(c, 17, inner, (198, 18, 2, 1), (198, 18, 2, 2)),
                                     key=8)))
    tunnel_conn(p, b"nested.example", nested, cport=41010)

    # Not VXLAN (the I flag is clear): an ordinary UDP datagram, no event.
    p.pkt(eth(outer4(True, 17, udp(50002, 4789, bytes(8) + b"not a frame"))))
    # Five IP-in-IP layers around a SYN: one more than is followed.
    pkt = ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, tcp(41011, 443, 1, 0, SYN))
    for _ in range(5):
        pkt = ipv4([198, 18, 1, 1], [198, 18, 1, 2], 4, pkt)
    p.pkt(eth(pkt))
    p.close()


def tunnels_hostile(path):
    """Broken encapsulations, each once, then a good connection: a GRE
    header cut after 2 bytes; a GRE key cut short; an ERSPAN II header cut
    short; ERSPAN III with version 1; ERSPAN III announcing a platform
    subheader that is not there; a VXLAN header cut short (not VXLAN: an
    ordinary datagram, nothing counted); VXLAN around 10 bytes of Ethernet;
    Geneve whose options length (252 bytes) runs past the datagram; an MPLS
    stack that never reaches bottom of stack; nine MPLS labels (one more
    than followed); a PPPoE session header cut short; PPPoE version 2; a
    PPPoE length past the frame; GTP-U whose length runs past the datagram;
    GTP-U extension headers that each announce another (a loop of 20); a
    GTP-U extension header of length 0; GRE in GRE five deep and VXLAN in
    VXLAN five deep (one layer more than followed); a ClientHello in three
    IPv4 fragments inside VXLAN, the middle one twice, the second copy with
    other bytes (the first wins); a first fragment inside GRE too short for
    the TCP header; then a TLS connection in VXLAN (after-hostile.example),
    read as usual."""
    p = Pcap(path)
    A, B = [10, 0, 0, 1], [10, 0, 0, 2]
    O1, O2 = (198, 18, 3, 1), (198, 18, 3, 2)
    syn = ipv4(A, B, 6, tcp(41100, 443, 1, 0, SYN))

    def o4(proto, payload):
        return eth(ipv4(O1, O2, proto, payload))

    def vx(frame, vni=500, sport=50100):
        return udp(sport, 4789, struct.pack("!II", 0x08000000, vni << 8) + frame)

    p.pkt(o4(47, b"\x00\x00"))                                        # GRE cut
    p.pkt(o4(47, struct.pack("!HH", 0x2000, 0x0800) + b"\x00\x07"))    # key cut
    p.pkt(o4(47, gre(0x88BE, struct.pack("!HH", (1 << 12) | 10, 5), seq=1)))   # ERSPAN II cut
    e3 = struct.pack("!HHIHH", (1 << 12) | 10, 9, 0, 0, 0)             # version 1 in type III
    p.pkt(o4(47, gre(0x22EB, e3 + eth(syn), seq=2)))
    e3 = struct.pack("!HHIHH", (2 << 12) | 10, 9, 0, 0, 1)             # o set, no subheader
    p.pkt(o4(47, gre(0x22EB, e3, seq=3)))
    p.pkt(o4(17, udp(50100, 4789, b"\x08\x00\x00\x00\x00")))           # not VXLAN
    p.pkt(o4(17, vx(eth(b"")[:10])))                                   # Ethernet cut
    gopt = struct.pack("!BBHI", 63, 0, 0x6558, 600 << 8) + bytes(8)
    p.pkt(o4(17, udp(52100, 6081, gopt)))                              # Geneve options past the end
    p.pkt(eth(struct.pack("!III", 100 << 12, 200 << 12, 300 << 12), 0x8847))   # no bottom
    stack = b"".join(struct.pack("!I", (100 + i) << 12 | 64) for i in range(8)) + \
        struct.pack("!I", 108 << 12 | 0x100 | 64)
    p.pkt(eth(stack + syn, 0x8847))                                    # nine labels
    p.pkt(eth(b"\x11\x00\x12", 0x8864))                                # PPPoE cut
    p.pkt(eth(struct.pack("!BBHHH", 0x21, 0, 0x1234, len(syn) + 2, 0x0021) + syn, 0x8864))
    p.pkt(eth(struct.pack("!BBHHH", 0x11, 0, 0x1234, 1400, 0x0021) + syn, 0x8864))
    gtp = struct.pack("!BBHI", 0x30, 0xFF, 2000, 0xABC) + syn          # length past the end
    p.pkt(o4(17, udp(2152, 2152, gtp)))
    loop = struct.pack("!HBB", 0, 0, 0x85) + b"".join(bytes([1, 0, 0, 0x85]) for _ in range(20))
    gtp = struct.pack("!BBHI", 0x34, 0xFF, len(loop) + len(syn), 0xABC) + loop + syn
    p.pkt(o4(17, udp(2152, 2152, gtp)))
    zero = struct.pack("!HBB", 0, 0, 0x85) + bytes([0, 0, 0, 0])
    gtp = struct.pack("!BBHI", 0x34, 0xFF, len(zero) + len(syn), 0xABC) + zero + syn
    p.pkt(o4(17, udp(2152, 2152, gtp)))
    pkt = syn
    for i in range(5):
        pkt = ipv4(O1, O2, 47, gre(0x0800, pkt, key=i))
    p.pkt(eth(pkt))                                                    # GRE x5
    frame = eth(syn)
    for i in range(5):
        frame = eth(ipv4(O1, O2, 17, vx(frame, vni=700 + i)))
    p.pkt(frame)                                                       # VXLAN x5

    ch = record(0x16, client_hello(b"overlap-in-vxlan.example"))
    sh = record(0x16, server_hello())
    X = lambda ip, c: eth(ipv4(O1, O2, 17, vx(eth(ip), 501, 50101)) if c else
                          ipv4(O2, O1, 17, vx(eth(ip), 501, 50102)))
    p.pkt(X(ipv4(A, B, 6, tcp(41101, 443, 1000, 0, SYN)), True))
    p.pkt(X(ipv4(B, A, 6, tcp(443, 41101, 5000, 1001, SYN | ACK)), False))
    f = ipv4_frags(A, B, 6, tcp(41101, 443, 1001, 5001, PSH | ACK, ch), (64, 128), 0x501)
    bad = bytearray(f[1])
    bad[-1] ^= 0xFF
    for fr in (f[0], f[1], bytes(bad), f[2]):
        p.pkt(X(fr, True))
    p.pkt(X(ipv4(B, A, 6, tcp(443, 41101, 5001, 1001 + len(ch), PSH | ACK, sh)), False))
    tiny = ipv4_frags(A, B, 6, tcp(41102, 443, 1, 0, SYN) + bytes(24), (8,), 0x502)
    p.pkt(o4(47, gre(0x0800, tiny[0])))                                # 8 bytes of TCP first

    tunnel_conn(p, b"after-hostile.example", lambda ip, c: eth(outer4(c, 17, vx(eth(ip), 502))),
                cport=41103)
    p.close()


def frag_flood(path):
    """Fragments past the memcap: 600 first fragments of datagrams that
    never complete, each a few bytes at offset 65000 (so each holds a 64 KiB
    buffer: 39 MiB against the default 32 MiB memcap); then 4200 more of 8
    bytes at offset 8 (past the 4096 datagrams kept in reassembly). Then a
    TLS connection in one piece (after-flood.example) and one whose
    ClientHello comes in three fragments (frag-after-flood.example): both
    read."""
    p = Pcap(path)
    X = (198, 18, 9, 9)
    for i in range(600):
        body = struct.pack("!HH", 40000 + i, 443) + bytes(4)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, i, 0x2000 | (65000 // 8), 64, 6, 0,
                          bytes(X), bytes(S))
        p.pkt(ETH_IP4 + hdr + body)
    for i in range(4200):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1000 + i, 0x2000 | 1, 64, 17, 0,
                          bytes(X), bytes(S))
        p.pkt(ETH_IP4 + hdr + bytes(8))
    handshake(p, record(0x16, client_hello(b"after-flood.example")), record(0x16, server_hello()))
    ch = record(0x16, client_hello(b"frag-after-flood.example"))
    sh = record(0x16, server_hello())
    p.tcp(True, 1000, 0, SYN, sport=41001)
    p.tcp(False, 5000, 1001, SYN | ACK, sport=41001)
    for f in ipv4_frags(C, S, 6, tcp(41001, 443, 1001, 5001, PSH | ACK, ch), (64, 128), 0x7001):
        p.pkt(ETH_IP4 + f)
    p.tcp(False, 5001, 1001 + len(ch), PSH | ACK, sh, sport=41001)
    p.tcp(True, 1001 + len(ch), 5001 + len(sh), FIN | ACK, sport=41001)
    p.tcp(False, 5001 + len(sh), 1002 + len(ch), FIN | ACK, sport=41001)
    p.close()


def linktypes(out):
    """One TLS connection (198.18.0.10:41000 -> 198.18.0.20:443) per link
    type: linktype_ppp (9, address/control and a 2-byte protocol),
    linktype_ppp_hdlc (50, a 1-byte compressed protocol), linktype_chdlc
    (104), linktype_nflog (239: a prefix TLV before the payload TLV),
    linktype_80211 (105: QoS data frames, to-DS and from-DS, LLC/SNAP) and
    linktype_radiotap (127: the same behind a radiotap header)."""
    def ppp(ip, c):
        return b"\xff\x03\x00\x21" + ip

    def ppp_short(ip, c):
        return b"\x21" + ip

    def chdlc(ip, c):
        return b"\x0f\x00\x08\x00" + ip

    def nflog(ip, c):
        prefix = b"pinscope\0"
        tlv1 = struct.pack("<HH", 4 + len(prefix), 10) + prefix
        tlv1 += bytes(-len(tlv1) % 4)
        tlv2 = struct.pack("<HH", 4 + len(ip), 9) + ip
        return struct.pack("!BBH", 2, 0, 0) + tlv1 + tlv2

    def wifi(ip, c):
        fc = b"\x88" + (b"\x03" if True else b"")      # QoS data, to-DS and from-DS
        hdr = fc + b"\x00\x00" + bytes(range(18)) + b"\x10\x00" + bytes(6) + b"\x00\x00"
        return hdr + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ip

    def radiotap(ip, c):
        return struct.pack("<BBHI", 0, 0, 8, 0) + wifi(ip, c)

    for name, lt, wrap in (("linktype_ppp", 9, ppp), ("linktype_ppp_hdlc", 50, ppp_short),
                           ("linktype_chdlc", 104, chdlc), ("linktype_nflog", 239, nflog),
                           ("linktype_80211", 105, wifi), ("linktype_radiotap", 127, radiotap)):
        p = Pcap(os.path.join(out, name + ".pcap"), lt)
        ch, sh = record(0x16, client_hello(name.encode() + b".example")), record(0x16, server_hello())

        def seg(c, seq, ack, fl, pl=b""):
            t = tcp(41000, 443, seq, ack, fl, pl) if c else tcp(443, 41000, seq, ack, fl, pl)
            p.pkt(wrap(ipv4(C, S, 6, t) if c else ipv4(S, C, 6, t), c))
        seg(True, 1000, 0, SYN)
        seg(False, 5000, 1001, SYN | ACK)
        seg(True, 1001, 5001, ACK)
        seg(True, 1001, 5001, PSH | ACK, ch)
        seg(False, 5001, 1001 + len(ch), PSH | ACK, sh)
        seg(True, 1001 + len(ch), 5001 + len(sh), FIN | ACK)
        seg(False, 5001 + len(sh), 1002 + len(ch), FIN | ACK)
        p.close()


def tfo(path):
    """TCP Fast Open (RFC 7413): a ClientHello carried in the SYN that the
    server accepts (its SYN-ACK acknowledges the data, its ServerHello comes
    in the SYN-ACK's data); and one the server refuses (the SYN-ACK
    acknowledges only the SYN), so the client sends the same hello again at
    ISN + 1: one hello, no overlap conflict."""
    p = Pcap(path)
    ch = record(0x16, client_hello(b"tfo-accepted.example"))
    sh = record(0x16, server_hello())
    p.tcp(True, 1000, 0, SYN, ch, sport=42000)
    p.tcp(False, 5000, 1001 + len(ch), SYN | ACK, sh, sport=42000)
    p.tcp(True, 1001 + len(ch), 5001 + len(sh), ACK, sport=42000)
    p.tcp(True, 1001 + len(ch), 5001 + len(sh), FIN | ACK, sport=42000)
    p.tcp(False, 5001 + len(sh), 1002 + len(ch), FIN | ACK, sport=42000)
    ch = record(0x16, client_hello(b"tfo-refused.example"))
    p.tcp(True, 2000, 0, SYN, ch, sport=42001)
    p.tcp(False, 7000, 2001, SYN | ACK, sport=42001)
    p.tcp(True, 2001, 7001, PSH | ACK, ch, sport=42001)
    p.tcp(False, 7001, 2001 + len(ch), PSH | ACK, sh, sport=42001)
    p.tcp(True, 2001 + len(ch), 7001 + len(sh), FIN | ACK, sport=42001)
    p.tcp(False, 7001 + len(sh), 2002 + len(ch), FIN | ACK, sport=42001)
    p.close()


def ipv4_frags(src, dst, proto, payload, cuts, ident, order=None):
    """IPv4 fragments of one datagram cut at the byte offsets `cuts`
    (multiples of 8), in `order` (indexes) if given."""
    bounds = [0] + list(cuts) + [len(payload)]
    frags = []
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        more = 0x2000 if i < len(bounds) - 2 else 0
        body = payload[lo:hi]
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, more | (lo // 8), 64,
                          proto, 0, bytes(src), bytes(dst))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        frags.append(hdr + body)
    return [frags[i] for i in order] if order else frags


def ipv6_frags(src, dst, nh, payload, cuts, ident):
    bounds = [0] + list(cuts) + [len(payload)]
    out = []
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        more = 1 if i < len(bounds) - 2 else 0
        fh = struct.pack("!BBHI", nh, 0, lo | more, ident)
        out.append(ipv6(src, dst, 44, fh + payload[lo:hi]))
    return out


def fragments(path):
    """IP fragment reassembly: a ClientHello in three IPv4 fragments, the
    last sent first; one in two IPv6 fragments; the RFC 9001 QUIC client
    Initial in two IPv4 fragments; a ClientHello whose middle fragment comes
    twice, the second copy with other bytes (the first wins, counted); a TCP
    fragment at offset 8 and a first fragment too short for the TCP header
    (attacks: dropped, counted); a datagram whose middle never comes (timed
    out 30 s later, counted)."""
    p = Pcap(path)
    E = lambda ip: b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip
    E6 = lambda ip: b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x86\xdd" + ip
    sh = record(0x16, server_hello())

    def conn(sni, sport, send_ch):
        ch = record(0x16, client_hello(sni))
        p.tcp(True, 1000, 0, SYN, sport=sport)
        p.tcp(False, 5000, 1001, SYN | ACK, sport=sport)
        p.tcp(True, 1001, 5001, ACK, sport=sport)
        send_ch(tcp(sport, 443, 1001, 5001, PSH | ACK, ch))
        p.tcp(False, 5001, 1001 + len(ch), PSH | ACK, sh, sport=sport)
        p.tcp(True, 1001 + len(ch), 5001 + len(sh), FIN | ACK, sport=sport)
        p.tcp(False, 5001 + len(sh), 1002 + len(ch), FIN | ACK, sport=sport)

    conn(b"frag-v4.example", 43000,
         lambda seg: [p.pkt(E(f)) for f in ipv4_frags(C, S, 6, seg, (64, 128), 0x101, (2, 0, 1))])

    A6, B6 = bytes.fromhex("20010db8000000000000000000000001"), bytes.fromhex("20010db8000000000000000000000002")
    ch6 = record(0x16, client_hello(b"frag-v6.example"))
    t = lambda c, seq, ack, fl, pl=b"": tcp(43001, 443, seq, ack, fl, pl) if c else tcp(443, 43001, seq, ack, fl, pl)
    p.pkt(E6(ipv6(A6, B6, 6, t(True, 1000, 0, SYN))))
    p.pkt(E6(ipv6(B6, A6, 6, t(False, 5000, 1001, SYN | ACK))))
    for f in ipv6_frags(A6, B6, 6, t(True, 1001, 5001, PSH | ACK, ch6), (96,), 0x7777):
        p.pkt(E6(f))
    p.pkt(E6(ipv6(B6, A6, 6, t(False, 5001, 1001 + len(ch6), PSH | ACK, sh))))

    initial = rfc_packet("v1_client_initial")
    dg = struct.pack("!HHHH", 44000, 443, 8 + len(initial), 0) + initial
    for f in ipv4_frags(C, S, 17, dg, (600,), 0x202):
        p.pkt(E(f))

    def twice(seg):
        f = ipv4_frags(C, S, 6, seg, (64, 128), 0x303)
        p.pkt(E(f[0]))
        p.pkt(E(f[1]))
        bad = bytearray(f[1])
        bad[-1] ^= 0xFF
        p.pkt(E(bytes(bad)))
        p.pkt(E(f[2]))
    conn(b"frag-twice.example", 43002, twice)

    seg = tcp(43003, 443, 1, 0, SYN)
    for f in ipv4_frags(C, S, 6, seg + bytes(16), (8,), 0x404):   # the second at offset 8
        p.pkt(E(f))
    tiny = ipv4_frags(C, S, 6, seg + bytes(24), (8,), 0x405)      # 8 bytes of TCP header first
    p.pkt(E(tiny[0]))
    lost = ipv4_frags(C, S, 6, tcp(43004, 443, 1, 0, SYN) + bytes(64), (24, 48), 0x406)
    p.pkt(E(lost[0]))
    p.pkt(E(lost[2]))
    p.t += 31
    p.tcp(True, 9000, 0, SYN, sport=43005)
    p.close()


def exchange(p, sport, dport, steps):
    """A TCP connection on ports sport -> dport: the handshake, then each
    (from_client, bytes) in `steps`, then FINs."""
    c, s_ = 1000, 5000
    p.tcp(True, c, 0, SYN, sport=sport, dport=dport)
    p.tcp(False, s_, c + 1, SYN | ACK, sport=sport, dport=dport)
    c += 1
    s_ += 1
    p.tcp(True, c, s_, ACK, sport=sport, dport=dport)
    for from_client, data in steps:
        if from_client:
            p.tcp(True, c, s_, PSH | ACK, data, sport=sport, dport=dport)
            c += len(data)
        else:
            p.tcp(False, s_, c, PSH | ACK, data, sport=sport, dport=dport)
            s_ += len(data)
    p.tcp(True, c, s_, FIN | ACK, sport=sport, dport=dport)
    p.tcp(False, s_, c + 1, FIN | ACK, sport=sport, dport=dport)


def preambles(out):
    """TLS after other protocols' opening exchanges: rdp_tls.pcap (an X.224
    Connection Request with RDP_NEG_REQ, a Confirm selecting PROTOCOL_SSL,
    then TLS, port 3389) and mysql_tls.pcap (the server's protocol-10
    greeting, the client's SSLRequest with CLIENT_SSL, then TLS, port 3306)."""
    ch = lambda name: record(0x16, client_hello(name, alpn=()))
    sh = record(0x16, server_hello())
    p = Pcap(os.path.join(out, "rdp_tls.pcap"))
    cr = bytes.fromhex("030000130ee000000000000100080003000000")
    cc = bytes.fromhex("030000130ed000001234000200080001000000")
    exchange(p, 42100, 3389, [(True, cr), (False, cc), (True, ch(b"rdp.example")), (False, sh)])
    p.close()

    p = Pcap(os.path.join(out, "mysql_tls.pcap"))
    body = (b"\x0a" + b"8.0.36\0" + struct.pack("<I", 42) + b"abcdefgh\0" +
            struct.pack("<HBHHB", 0xffff, 0xff, 0x0002, 0xdfff, 21) + bytes(10) +
            b"ijklmnopqrst\0" + b"caching_sha2_password\0")
    greeting = len(body).to_bytes(3, "little") + b"\0" + body
    sslreq = b"\x20\x00\x00\x01" + struct.pack("<IIB", 0x01ffaa05 | 0x0800, 16777216, 0xff) + bytes(23)
    exchange(p, 42101, 3306, [(False, greeting), (True, sslreq), (True, ch(b"mysql.example")),
                              (False, sh)])
    p.close()


def stun_dtls(path):
    """WebRTC on one UDP port (RFC 7983): a STUN binding request and
    response, the DTLS ClientHello, STUN again and an RTP packet; only the
    DTLS record is DTLS."""
    p = Pcap(path)

    def stun(kind, tid):
        return struct.pack("!HHI", kind, 8, 0x2112A442) + tid + struct.pack("!HHI", 0x8022, 4, 0x74657374)
    for i, (c, kind) in enumerate(((True, 0x0001), (False, 0x0101))):
        p.udp(c, stun(kind, bytes(range(12))), sport=50000, dport=50001)
    p.udp(True, dtls_record(22, dtls_client_hello_frags(b"webrtc.example")[0]), sport=50000, dport=50001)
    p.udp(True, stun(0x0001, bytes(range(1, 13))), sport=50000, dport=50001)
    p.udp(False, stun(0x0101, bytes(range(1, 13))), sport=50000, dport=50001)
    p.udp(True, b"\x80\x60" + bytes(30), sport=50000, dport=50001)   # RTP
    p.close()


def quic_client_port_4789(out_dir):
    src = os.path.join(out_dir, "udp_quic_v1_keylog")
    _, recs = read_pcap(src + ".pcap")
    p = Pcap(os.path.join(out_dir, "quic_client_port_4789.pcap"))
    for sec, usec, fr in recs:
        p.t = sec + usec / 1e6 - 0.001   # the original times (pkt() adds 1 ms)
        fr = bytearray(fr)
        sport, dport = struct.unpack("!HH", fr[34:38])
        if sport != 443:
            sport = 4789
        if dport != 443:
            dport = 4789
        fr[34:38] = struct.pack("!HH", sport, dport)
        fr[40:42] = b"\0\0"   # IPv4: no UDP checksum
        p.pkt(bytes(fr))
    p.close()
    with open(src + ".keylog", "rb") as f_in, \
            open(os.path.join(out_dir, "quic_client_port_4789.keylog"), "wb") as f_out:
        f_out.write(f_in.read())


def main():
    os.makedirs(OUT, exist_ok=True)

    quic_client_port_4789(OUT)

    stun_dtls(os.path.join(OUT, "dtls_stun_multiplexed.pcap"))

    preambles(OUT)

    fragments(os.path.join(OUT, "ip_fragments.pcap"))

    tfo(os.path.join(OUT, "tfo.pcap"))

    linktypes(OUT)

    tunnels(os.path.join(OUT, "tunnels.pcap"))

    tunnels_hostile(os.path.join(OUT, "tunnels_hostile.pcap"))

    frag_flood(os.path.join(OUT, "frag_flood.pcap"))

    p = Pcap(os.path.join(OUT, "hostile_sni.pcap"))
    sni = b'evil"\\\x01\x1f<script>\xff\xfe\xc3\x28.test'
    handshake(p, record(0x16, client_hello(sni, alpn=(b"h\x002", b"\xff"))),
              record(0x16, server_hello()))
    p.close()

    p = Pcap(os.path.join(OUT, "sslv2_hello.pcap"))
    ciphers = b"\x00\x00\x2f\x00\x00\x35\x01\x00\x80"
    challenge = bytes(range(16))
    body = b"\x01" + struct.pack("!HHHH", 0x0301, len(ciphers), 0, len(challenge)) + ciphers + challenge
    v2 = struct.pack("!H", 0x8000 | len(body)) + body
    handshake(p, v2, record(0x16, server_hello(cipher=0x002F, version=0x0301), 0x0301))
    p.close()

    p = Pcap(os.path.join(OUT, "reconnect_same_ports.pcap"))
    # A connection closes with FINs; 2 s later a retransmission of its old
    # SYN (same ISN: part of the old connection, ignored), then a new
    # connection on the same addresses and ports (a new ISN) within the 10 s
    # a closed flow lingers.  Both connections must be reported.
    handshake(p, record(0x16, client_hello(b"first.reconnect.test")),
              record(0x16, server_hello()), cisn=1000, sisn=5000)
    p.t += 2.0
    p.tcp(True, 1000, 0, SYN)
    handshake(p, record(0x16, client_hello(b"second.reconnect.test")),
              record(0x16, server_hello()), cisn=900000, sisn=770000)
    p.close()

    p = Pcap(os.path.join(OUT, "no_syn_midstream.pcap"))
    ch = record(0x16, client_hello(b"midstream.test"))
    # No handshake captured: the first data segment defines offset 0, so
    # the first half must come first; the second half arrives, then a
    # retransmission of the first half, then the server's answer.
    p.tcp(True, 70000, 9000, PSH | ACK, ch[:60], sport=41001)
    p.tcp(True, 70000 + 60, 9000, PSH | ACK, ch[60:], sport=41001)
    p.tcp(True, 70000, 9000, PSH | ACK, ch[:60], sport=41001)
    p.tcp(False, 9000, 70000 + len(ch), PSH | ACK, record(0x16, server_hello()), sport=41001)
    p.close()

    p = Pcap(os.path.join(OUT, "overlap_conflict.pcap"))
    ch = record(0x16, client_hello(b"first.test"))
    evil = record(0x16, client_hello(b"other.test"))
    p.tcp(True, 1000, 0, SYN, sport=41002)
    p.tcp(False, 5000, 1001, SYN | ACK, sport=41002)
    # The tail (holding the SNI) first, out of order; then a full copy whose
    # SNI differs: the bytes that arrived first win, and the conflict is
    # counted.
    p.tcp(True, 1001 + 40, 5001, PSH | ACK, ch[40:], sport=41002)
    p.tcp(True, 1001, 5001, PSH | ACK, evil, sport=41002)
    p.tcp(True, 1001 + len(ch), 5001, RST | ACK, sport=41002)
    p.close()

    p = Pcap(os.path.join(OUT, "truncated_record.pcap"))
    ch = record(0x16, client_hello(b"short.test"))
    p.tcp(True, 1000, 0, SYN, sport=41003)
    p.tcp(False, 5000, 1001, SYN | ACK, sport=41003)
    p.tcp(True, 1001, 5001, PSH | ACK, ch[:-20], sport=41003)
    p.tcp(False, 5001, 1001, RST | ACK, sport=41003)
    p.close()

    p = Pcap(os.path.join(OUT, "garbage_after_hello.pcap"))
    ch = record(0x16, client_hello(b"garbage.test"))
    junk = b"\x16\x09\x09\x00\x10" + bytes(16)
    handshake(p, ch + junk, record(0x16, server_hello()))
    p.close()

    v1c, v1s = rfc_packet("v1_client_initial"), rfc_packet("v1_server_initial")
    v2c, v2s = rfc_packet("v2_client_initial"), rfc_packet("v2_server_initial")

    p = Pcap(os.path.join(OUT, "quic_rfc_initials.pcap"))
    p.udp(True, v1c, sport=41010)
    p.udp(False, v1s, sport=41010)
    p.udp(True, v2c, sport=41011)
    p.udp(False, v2s, sport=41011)
    p.close()

    p = Pcap(os.path.join(OUT, "quic_version_negotiation.pcap"))
    p.udp(True, v1c, sport=41012)
    # Version Negotiation (RFC 9000 17.2.1): version 0, the client's CIDs
    # swapped (its SCID was empty), the versions the server speaks.
    vn = b"\xc5" + bytes(4) + v8(b"") + v8(bytes.fromhex("8394c8f03e515708")) + \
        struct.pack("!II", 0x6B3343CF, 0x1A2A3A4A)
    p.udp(False, vn, sport=41012)
    p.close()

    p = Pcap(os.path.join(OUT, "quic_hostile.pcap"))
    bad = bytearray(v1c)
    bad[600] ^= 0x01
    p.udp(True, bytes(bad), sport=41013)       # does not authenticate: no flow
    p.udp(True, v1c[:600], sport=41014)        # Length past the datagram
    p.udp(False, v1s, sport=41015)             # server Initial, no client: no flow
    # A good Initial, then a Handshake-type long header whose Length runs
    # past the datagram: the first is analysed, the second counted.
    tail = b"\xe0\x00\x00\x00\x01" + v8(b"\x01" * 8) + v8(b"") + b"\x7f\xff" + bytes(8)
    p.udp(True, v1c + tail, sport=41016)
    p.udp(False, v1s, sport=41016)
    p.close()

    # The server's first datagram split into its Initial and its
    # Handshake packet; the Initial then goes after the next server datagram.
    src = os.path.join(OUT, "udp_quic_v1_keylog")
    hdr, recs = read_pcap(src + ".pcap")
    eth_ip_udp = 14 + 20 + 8
    frame = recs[1][2]    # the server's Initial + Handshake
    dgram = frame[eth_ip_udp:]
    n = quic_long_len(dgram)

    def with_payload(fr, payload):
        ip = bytearray(fr[14:34])
        ip[2:4] = struct.pack("!H", 20 + 8 + len(payload))
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", csum(bytes(ip)))
        udp = bytearray(fr[34:42])
        udp[4:6] = struct.pack("!H", 8 + len(payload))
        udp[6:8] = b"\0\0"
        return fr[:14] + bytes(ip) + bytes(udp) + payload

    initial_dg, handshake_dg = with_payload(frame, dgram[:n]), with_payload(frame, dgram[n:])
    out = [recs[0][2], handshake_dg, recs[2][2], initial_dg] + [r[2] for r in recs[3:]]
    p = Pcap(os.path.join(OUT, "quic_handshake_reordered.pcap"))
    for fr in out:
        p.pkt(fr)
    p.close()
    with open(src + ".keylog", "rb") as f_in, \
            open(os.path.join(OUT, "quic_handshake_reordered.keylog"), "wb") as f_out:
        f_out.write(f_in.read())

    p = Pcap(os.path.join(OUT, "dtls_hostile.pcap"))
    good = dtls_client_hello_frags(b"frag.dtls.test", pieces=3)
    evil = dtls_client_hello_frags(b"evil.dtls.test", pieces=3)
    # Third piece first, then the first, then a retransmission of the
    # middle carrying other bytes (first copy of a byte wins), then the
    # real middle.
    p.udp(True, dtls_record(22, good[2], seq=0), sport=41020, dport=4433)
    p.udp(True, dtls_record(22, good[0], seq=1), sport=41020, dport=4433)
    p.udp(True, dtls_record(22, evil[0][:12] + good[1][12:], seq=2), sport=41020, dport=4433)
    p.udp(True, dtls_record(22, good[1], seq=3), sport=41020, dport=4433)
    # A fragment that claims bytes past its message's length.
    frag = bytearray(dtls_client_hello_frags(b"range.dtls.test")[0])
    frag[6:9] = (10).to_bytes(3, "big")                   # fragment_offset 10
    p.udp(True, dtls_record(22, bytes(frag)), sport=41021, dport=4433)
    # A record whose length runs past the end of the datagram.
    rec = dtls_record(22, dtls_client_hello_frags(b"short.dtls.test")[0])
    p.udp(True, rec[:-30], sport=41022, dport=4433)
    p.close()


if __name__ == "__main__":
    main()
