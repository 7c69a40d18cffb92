/*
 * id.h - identifiers of a flow that events carry.
 */
#ifndef PINSCOPE_FLOW_ID_H
#define PINSCOPE_FLOW_ID_H

#include <stdint.h>

#include "flow/table.h"

/* flow_id: 51 bits of SipHash over the key and first timestamp, with a
 * fixed key so the same capture always gives the same ids (whatever the
 * worker count: it depends on the flow only). */
uint64_t flow_id(const struct flow *f);

#endif
