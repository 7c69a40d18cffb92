/*
 * id.h - identifiers of a flow that events carry: pinscope's flow_id and
 * the Community ID other tools compute for the same flow.
 */
#ifndef PINSCOPE_FLOW_ID_H
#define PINSCOPE_FLOW_ID_H

#include <stdint.h>

#include "flow/table.h"

/* flow_id: 51 bits of SipHash over the key and first timestamp, with a
 * fixed key so the same capture always gives the same ids (whatever the
 * worker count: it depends on the flow only). */
uint64_t flow_id(const struct flow *f);

/* Community ID v1 (github.com/corelight/community-id-spec), with `seed`
 * (0 unless the sensors of a site agree on another, --community-id-seed):
 * "1:" + base64(SHA-1(seed . addr_a . addr_b . proto . 0 . port_a . port_b))
 * with the smaller (address, port) endpoint first, so both directions and
 * every tool that implements it (Zeek, Suricata, Arkime) give the same
 * string for the flow.  `out` gets a NUL-terminated string. */
#define COMMUNITY_ID_LEN 32   /* "1:" + 28 base64 characters + NUL, rounded up */
void community_id(const struct flow *f, uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif
