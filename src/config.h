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
#define CFG_HEAP_RESERVE        (48u << 20) /* a packet thread's malloc arena made writable, and advised for huge
                                             pages, once at its start (util/heap.h) ... */
#define CFG_HEAP_RESERVE_INPUT  (256ull << 20) /* ... when live, or when the input files total this many bytes */
#define CFG_FLOW_SPARE          256       /* removed flows kept per table for the next ones (192 B each) */
#define CFG_PRESSURE_HIGH_PERCENT 90     /* memcap or flow table this full: evict (pressure) */
#define CFG_PRESSURE_LOW_PERCENT  80     /* ... until both are this full again */
#define CFG_PRESSURE_SCAN       32        /* least recently active flows weighed per eviction */
#define CFG_PRESSURE_BATCH      64        /* evictions per packet at most (bounded work) */
#define CFG_PRESSURE_CALM_S     10        /* s of packet time without eviction to leave pressure */
#define CFG_PRESSURE_STALL_S    1         /* s idle: a handshake in progress counts as stalled */
#define CFG_SOURCE_SLOTS        16384     /* per-source flow counters (hashed), per worker */
#define CFG_SOURCE_SHARE_PERCENT 25       /* a source holding more of the flows is evicted first */
#define CFG_SOURCE_SHARE_MIN    64        /* ... once it holds at least this many */
#define CFG_FLOW_TIMEOUT_NEW    30        /* s idle before a flow without a TLS hello expires */
#define CFG_FLOW_TIMEOUT_EST    120       /* s idle before a flow in a handshake expires */
#define CFG_FLOW_TIMEOUT_CLOSED 10        /* s a closed flow is kept to absorb stragglers */
#define CFG_FLOW_EXPIRE_EVERY   1         /* s of packet time between expiry sweeps */
#define CFG_FLOW_EXPIRE_BATCH   256       /* flows examined per sweep step (bounded work) */

/* Reassembly (per direction) */
#define CFG_REASM_DEPTH         (256 * 1024) /* (opt --depth) stream bytes examined per direction */
#define CFG_REASM_MAX_RANGES    64        /* out-of-order holes tracked per direction */
#define CFG_MEMCAP_POOL_BYTES   (2u << 20) /* freed connection state kept for reuse per worker (util/memcap.h) */
#define CFG_REASM_MEMCAP        (32u * 1024 * 1024) /* (opt --memcap) all reassembly + TLS buffers */

/* IP fragments (per worker) */
#define CFG_FRAG_MAX_DATAGRAMS  4096      /* datagrams in reassembly; the oldest is evicted beyond */
#define CFG_FRAG_MAX_PIECES     64        /* separate byte ranges per datagram */
#define CFG_FRAG_MEMCAP_PERCENT 25        /* share of the memcap datagrams in reassembly may hold; the oldest are evicted beyond */
#define CFG_FRAG_TIMEOUT        30        /* s (packet time) a datagram may take to complete */

/* TLS */
#define CFG_TLS_PREAMBLE_MAX    8192      /* bytes of CONNECT/SOCKS/STARTTLS text before TLS */
#define CFG_TLS_CONNECT_HOST_MAX 255      /* bytes of an HTTP CONNECT request's target host kept
                                             (a DNS name is at most 253; "[v6]" fits); a longer
                                             or ill-formed target is a counted anomaly */
#define CFG_TLS_HS_MSG_MAX      (256 * 1024) /* largest handshake message buffered (chains) */
#define CFG_TLS_MAX_ALERTS      8         /* alerts recorded per connection */
#define CFG_TLS_MAX_RECORDS     4096      /* records examined per direction before giving up */
#define CFG_TLS_LINGER_MS       500       /* ms of packet time a completed TCP handshake is
                                             watched for the client's data or close before its
                                             event is written (at once when the client sends data) */
#define CFG_TLS_LINGER_RECORDS  16        /* records read per direction during that watch */
#define CFG_TLS_TUNNEL_FRAMES_MAX 1024    /* TDS packets or WebSocket frames read per direction for
                                             the TLS inside them (a handshake takes a handful) */
#define CFG_CIPHER_CTX_POOL     256       /* cipher contexts kept per cipher and thread, keyed with
                                             zeros (or a public QUIC Initial key), for the next
                                             connection's TLS 1.3 / QUIC keys: 0.5 to 1.2 KiB each
                                             (util/algs.c); handshakes in flight at once */

/* Fingerprints (fp/fp_util.c): a per-thread memo of digest results keyed by
 * the exact input string (clients repeat the same cipher and extension lists) */
#define CFG_FP_MEMO_SETS        64        /* sets of the memo (a power of two) */
#define CFG_FP_MEMO_WAYS        4         /* entries per set; a new entry replaces the least used */
#define CFG_FP_MEMO_KEY_MAX     512       /* longest input remembered; longer ones are digested each time */

/* Certificates */
#define CFG_X509_CERT_CACHE     4096      /* unreferenced parsed certificates kept (LRU): ~1.5 KB
                                             each, ~6 KB while holding OpenSSL's object */
#define CFG_X509_VERIFY_CACHE   4096      /* chains whose facts and validation result are kept
                                             (~310 bytes a slot) ... */
#define CFG_X509_VERIFY_WAYS    4         /* ... in sets of this many slots, LRU within a set */
#define CFG_X509_OBJECTS_KEPT   384       /* of those, the most recently used keep OpenSSL's X509
                                             object; older ones are decoded again when needed */
#define CFG_X509_OBJECTS_SLACK  64        /* objects over that before the oldest are let go */
#define CFG_X509_SPARE          8         /* freed certificate entries kept for reuse, per class of
                                             DER capacity (512-byte steps) ... */
#define CFG_X509_SPARE_DER_MAX  8192      /* ... up to this capacity (at most 1.2 MB kept) */
#define CFG_X509_BUCKET_MAX     32        /* certificates per certificate-cache bucket: a new one
                                             for a full bucket replaces an unused one there, else
                                             is used uncached (caps.x509_cache_bucket) */
#define CFG_X509_SNI_MEMO       128       /* bytes of the last SNI a chain slot remembers the leaf's
                                             match for; longer names are matched every time */
#define CFG_X509_OBJECT_BASE    4608      /* bytes charged while a certificate holds OpenSSL's X509 ... */
#define CFG_X509_OBJECT_FACTOR  2         /* ... plus this many times its DER length */
#define CFG_X509_NAME_ATTRS_STACK 16      /* name attributes read on the stack; a longer name uses the heap */

/* TLS 1.2 resumption (detect/resume.h): full handshakes remembered by
 * session_id and ticket, shared by every worker */
#define CFG_RESUME_MAX          4096        /* session ids and tickets held (~0.4 KB each, at
                                               most 0.7 KB), LRU */
#define CFG_RESUME_MAX_AGE_S    (7 * 86400) /* packet time after which one is no longer matched
                                               (RFC 8446 4.6.1's ticket lifetime cap) */

/* Names and client fingerprints hashed for the legs and answers tables
 * (detect/strhash.h): remembered per thread */
#define CFG_DETECT_HASH_NAMES   2         /* last server names (one connection asks twice) */
#define CFG_DETECT_HASH_FPS     8         /* last JA4s */
#define CFG_DETECT_HASH_LEN     64        /* bytes below which a string is remembered */
#define CFG_DETECT_FP_MEMO      8         /* JA4s, and as many JA3s, remembered per detector with
                                             their known_fingerprints.json entries */

/* Signatures: interception_issuers.json matching (policy/sigdb.c) */
#define CFG_SIGDB_NAME_CACHE    1024      /* CA names kept per thread with every entry's issuer_*
                                             verdict on them (direct-mapped, ~150 KiB) */
#define CFG_SIGDB_NAME_MEMO     128       /* ... and in front of them, names kept with their key
                                             (2-way sets, ~50 KiB) ... */
#define CFG_SIGDB_NAME_MEMO_KEY 256       /* ... when the key (CN, O, DN) is this short */

/* Signatures: signatures/removed_roots.json (policy/roots.c) */
#define CFG_ROOTS_MAX           4096      /* removed-root entries in the file */
#define CFG_ROOTS_MAX_FILE_BYTES (4u << 20) /* bytes of the file */
#define CFG_ROOTS_MAX_STR       2048      /* bytes of one string value */
#define CFG_ROOTS_GRACE_DAYS    90        /* a chain captured this long after the removal date is
                                             still treated as captured before it (clients update
                                             their store late) */

/* Events */
#define CFG_TLS_HISTORY_MAX     48          /* letters of a connection's ssl_history kept */
#define CFG_DNSNAME_CACHE_SLOTS 4096        /* public-suffix answers kept per thread, by exact
                                               name (util/dnsname.c; 4-way sets; 1 MiB) */
#define CFG_DNSNAME_SUFFIX_SLOTS 256        /* public-suffix verdicts on names' tails (shop.example,
                                               example) kept per thread, by exact suffix (64 KiB) */
#define CFG_GEOIP_CACHE_SLOTS   4096        /* GeoIP answers kept per worker (1.5 MiB) */
#define CFG_EVENT_UNIT_INITIAL  (32 * 1024) /* a worker's event buffer at start; grows */
#define CFG_EVENT_UNIT_MAX      (4u << 20) /* one connection's lines (tls event + alerts) */
#define CFG_EMIT_BATCH_BYTES    (64u << 10) /* a worker's consecutive units handed to the sinks
                                               at once (output/emit.c); a batch holds less
                                               than this plus one unit */
#define CFG_EMIT_FLUSH_MS       100         /* a worker's held events are handed over at
                                               least this often while packets flow
                                               (the control loop's tick, app/run.c) */
#define CFG_CERTJSON_SLOTS      1024        /* certificates whose JSON a worker keeps (output/certjson.h) */
#define CFG_CERTJSON_WAYS       4           /* ... in sets of this many slots, LRU within a set */
#define CFG_CERTJSON_SLOTS_MAX  65536       /* cap on certjson_new(slots) */
#define CFG_CERTJSON_BYTES      (4u << 20)  /* JSON kept per worker, all certificates */
#define CFG_CERTJSON_FRAGMENT_MAX (16 * 1024) /* one certificate's fragment; larger is not kept */

#define CFG_DUMP_SEEN           4096      /* --dump-certs: certificates remembered as written, per worker */
#define CFG_DUMP_MAX_FILES      100000    /* (opt --dump-certs-max) files written per run */
#define CFG_DUMP_MAX_BYTES      (1u << 30) /* (opt --dump-certs-max-bytes) bytes written per run */

/* Workers (file input: reader -> worker queues) */
#define CFG_WORKERS_MAX         64        /* (opt --workers) */
#define CFG_WORKER_QUEUE_BYTES  (16u << 20) /* packet bytes waiting per worker queue */
#define CFG_WORKER_BATCH_BYTES  (256u << 10) /* packets handed over at once (one lock) */
#define CFG_RUN_MAX_FILES       100000    /* capture files in one run (-r DIR) */

/* Capture */
#define CFG_SNAPLEN             262144    /* live capture snap length */
#define CFG_PCAP_TIMEOUT_MS     200       /* live capture read timeout (drives idle expiry) */
#define CFG_PCAP_BUFFER_BYTES   (32u << 20) /* (opt --buffer-size) kernel ring per handle */

/* Output sinks (-o) */
#define CFG_SINK_QUEUE_BYTES    (8u << 20) /* bytes of event lines queued per sink */
#define CFG_SINK_BATCH_BYTES    (256u << 10) /* whole units written at once per sink */
#define CFG_SINK_BATCH_UNITS    1024      /* ... at most this many */
#define CFG_SINK_UNIT_POOL      128       /* spare event buffers kept per size class (4 to 128 KiB,
                                             6 classes) per sink, enough for the units one
                                             linger gathers ... */
#define CFG_SINK_POOL_BYTES     (2u << 20) /* ... and at most this many bytes of them per sink */
#define CFG_SINK_LINGER_US      1000      /* a lone unit waits this long for company */
#define CFG_SINK_BACKOFF_MIN_MS 100       /* first reconnect delay (doubles each failure) */
#define CFG_SINK_BACKOFF_MAX_MS 5000      /* longest reconnect delay */
#define CFG_SINK_IO_TIMEOUT_MS  2000      /* a socket/Redis write stalled this long = connection lost */
#define CFG_SINK_CONNECT_TIMEOUT_MS 2000  /* Redis connect timeout */
#define CFG_SINK_CLOSE_WAIT_MS  2000      /* at close, how long a down destination is retried before the rest is dropped */

/* pinscope report (report/summary.c): beyond a cap, entries are counted, not kept */
#define CFG_REPORT_SERVERS_MAX  1000000   /* server names (SNI, else address:port) */
#define CFG_REPORT_CLIENTS_MAX  1000000   /* client addresses */
#define CFG_REPORT_CONNS_MAX    4000000   /* connections itemised (timeline, matrix, joins) */
#define CFG_REPORT_PAIRS_MAX    4000000   /* client-server pairs */
#define CFG_REPORT_TALLY_MAX    100000    /* distinct values per tally (JA4, issuers, certificates...) */
#define CFG_REPORT_LINE_MAX     (16u << 20) /* longest event line read back from a file */
#define CFG_REPORT_ROWS         40        /* (opt report --rows) rows per terminal table */
#define CFG_REPORT_HTML_ROWS    500       /* verdict and client rows written as HTML elements */
#define CFG_REPORT_HTML_DATA    50000     /* further verdict rows, as data the page's script pages through */
#define CFG_PROGRESS_HZ         4         /* progress line updates per second at most */

/* pinscope policy import (pinimport/): app pin formats -> a policy */
#define CFG_PINIMPORT_FILE_MAX  (4u << 20) /* bytes of one input file */
#define CFG_PINIMPORT_FILES_MAX 256       /* input files in one run */
#define CFG_PINIMPORT_SETS_MAX  4096      /* pin sets (and issuer sets) from all files (the policy's cap) */
#define CFG_PINIMPORT_PINS_MAX  32        /* pins per set, primary and backup each (the policy's cap) */
#define CFG_PINIMPORT_XML_DEPTH 32        /* nested XML elements */
#define CFG_PINIMPORT_XML_NODES 100000    /* XML elements in one file */
#define CFG_PINIMPORT_XML_ATTRS 32        /* attributes of one XML element */
#define CFG_PINIMPORT_NAMES_MAX 4096      /* named hashes of a Chromium .pins file */

/* pinscope policy audit */
#define CFG_AUDIT_DAYS          30        /* (opt policy audit --days) "expires soon" horizon */
#define CFG_AUDIT_CHAINS_MAX    64        /* distinct chains kept per pin set; more are counted */
#define CFG_AUDIT_UNPINNED_MAX  10000     /* server names without a pin set kept; more are counted */

#endif
