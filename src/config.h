/*
 * config.h - every default limit of pinscope, one comment each.
 *
 * The same limits apply to live capture and to -r file input.  Command-line
 * options override the ones marked (opt).
 */
#ifndef PINSCOPE_CONFIG_H
#define PINSCOPE_CONFIG_H

/* Flow table */
#define CFG_FLOW_MAX            65536     /* (opt --max-flows) live flows tracked */
#define CFG_FLOW_EVICT_PERCENT  10        /* share of oldest flows dropped when full */
#define CFG_FLOW_TIMEOUT_NEW    30        /* s idle before a flow without a TLS hello expires */
#define CFG_FLOW_TIMEOUT_EST    120       /* s idle before a flow in a handshake expires */
#define CFG_FLOW_TIMEOUT_CLOSED 10        /* s a closed flow is kept to absorb stragglers */
#define CFG_FLOW_EXPIRE_EVERY   1         /* s of packet time between expiry sweeps */
#define CFG_FLOW_EXPIRE_BATCH   256       /* flows examined per sweep step (bounded work) */

/* Reassembly (per direction) */
#define CFG_REASM_DEPTH         (256 * 1024) /* (opt --depth) stream bytes examined per direction */
#define CFG_REASM_MAX_RANGES    64        /* out-of-order holes tracked per direction */
#define CFG_REASM_MEMCAP        (32u * 1024 * 1024) /* (opt --memcap) all reassembly + TLS buffers */

/* TLS */
#define CFG_TLS_PREAMBLE_MAX    8192      /* bytes of CONNECT/SOCKS/STARTTLS text before TLS */
#define CFG_TLS_HS_MSG_MAX      (256 * 1024) /* largest handshake message buffered (chains) */
#define CFG_TLS_MAX_ALERTS      8         /* alerts recorded per connection */
#define CFG_TLS_MAX_RECORDS     4096      /* records examined per direction before giving up */

/* Certificates */
#define CFG_X509_CERT_CACHE     1024      /* unreferenced parsed certificates kept (LRU) */
#define CFG_X509_VERIFY_CACHE   4096      /* chain validation results kept (direct-mapped) */

/* Capture */
#define CFG_SNAPLEN             262144    /* live capture snap length */
#define CFG_PCAP_TIMEOUT_MS     200       /* live capture read timeout (drives idle expiry) */

#endif
