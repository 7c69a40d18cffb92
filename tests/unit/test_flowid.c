/*
 * test_flowid.c - Community ID v1 against the specification's published
 * values (corelight/community-id-spec: its README and baseline), both
 * directions of a flow, and seeds.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "flow/id.h"
#include "testhelp.h"

/* A flow as the table stores it: the key normalised from a packet. */
static void make_flow(struct flow *f, const char *src, uint16_t sport, const char *dst,
                      uint16_t dport, uint8_t proto)
{
    struct pkt p;
    memset(&p, 0, sizeof(p));
    memset(f, 0, sizeof(*f));
    int fam = strchr(src, ':') ? AF_INET6 : AF_INET;
    p.ip_ver = fam == AF_INET6 ? 6 : 4;
    inet_pton(fam, src, p.src);
    inet_pton(fam, dst, p.dst);
    p.sport = sport;
    p.dport = dport;
    p.proto = proto;
    int side;
    flow_key_from_pkt(&p, &f->key, &side);
}

static void expect(const char *what, const char *src, uint16_t sport, const char *dst,
                   uint16_t dport, uint8_t proto, uint16_t seed, const char *want)
{
    struct flow f;
    char got[COMMUNITY_ID_LEN];
    make_flow(&f, src, sport, dst, dport, proto);
    community_id(&f, seed, got);
    test_streq(what, got, want);
    /* The other direction of the same flow gives the same string. */
    make_flow(&f, dst, dport, src, sport, proto);
    community_id(&f, seed, got);
    test_streq(what, got, want);
}

int main(void)
{
    expect("spec: TCP, seed 0", "128.232.110.120", 34855, "66.35.250.204", 80, IPPROTO_TCP, 0,
           "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    expect("spec: TCP, seed 1", "128.232.110.120", 34855, "66.35.250.204", 80, IPPROTO_TCP, 1,
           "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
    expect("spec: UDP DNS, seed 0", "192.168.1.52", 54585, "8.8.8.8", 53, IPPROTO_UDP, 0,
           "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
    expect("IPv6 TCP (hashlib reference)", "fe80::200:86ff:fe05:80da", 1,
           "fe80::260:97ff:fe07:69ea", 2, IPPROTO_TCP, 0, "1:JETlgBm4LXP5CwobPGu4IYZF5Hs=");
    return test_report();
}
