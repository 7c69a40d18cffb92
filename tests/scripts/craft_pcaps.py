#!/usr/bin/env python3
"""craft_pcaps.py - write hand-built regression captures into tests/golden/.

Each capture isolates one hostile or unusual input that real clients do not
produce, so that its expected JSON (tests/golden/NAME.jsonl) pins the
behaviour down:

  hostile_sni.pcap        SNI with quotes, backslash, control bytes and
                          invalid UTF-8; ALPN with a NUL and 0xff
  sslv2_hello.pcap        an SSLv2-format CLIENT-HELLO answered by TLS 1.0
  no_syn_midstream.pcap   a connection picked up without its handshake, the
                          ClientHello split over two segments in reverse order
  overlap_conflict.pcap   a ClientHello whose retransmission carries other
                          bytes (first copy wins, anomaly counted)
  truncated_record.pcap   a handshake record header promising more than ever
                          arrives, then RST (event at close, state client_hello)
  garbage_after_hello.pcap a ClientHello followed by a record with a bad
                          version (analysis stops, event still written)

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
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
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

    def close(self):
        self.f.close()


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


def main():
    os.makedirs(OUT, exist_ok=True)

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


if __name__ == "__main__":
    main()
