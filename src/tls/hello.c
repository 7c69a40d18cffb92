/*
 * hello.c - parse one ClientHello or ServerHello body into struct tls_hello.
 *
 * Input is the body of a single, complete handshake message: the bytes after
 * the handshake header (after the 4-byte TLS header, or after the 12-byte
 * DTLS header once fragments are joined).  Every byte is read through
 * util/rd.h; each length-prefixed field becomes a child reader, so a field
 * cannot be read past the length its parent declared.  One function per
 * message part; each returns the bytes it consumed or a negative
 * enum tls_hello_err.
 *
 * What is decoded: versions, random, session id length, cipher suites,
 * compression methods, the extension type list in wire order, and the
 * bodies of server_name, supported_groups, ec_point_formats,
 * signature_algorithms, ALPN and supported_versions.  All other extensions
 * are listed in exts[] and skipped unread, including signature_algorithms_cert
 * (0x0032), which is deliberately not merged into sig_algs.
 *
 * What is not done: no record layer, no reassembly, no SSLv2-format hellos,
 * no semantic checks beyond lengths (a ClientHello offering zero cipher
 * suites or zero compression methods parses; fingerprints expect to see it).
 * When a known extension appears twice, the first occurrence is decoded and
 * later ones are only listed in exts[].  No allocation, no I/O, no state.
 *
 * DTLS: a ClientHello whose legacy_version has the DTLS high byte 0xfe
 * carries a cookie<0..2^8-1> after the session id (RFC 6347 4.2.1,
 * RFC 9147 5.3); it is skipped.  A DTLS ServerHello has the TLS layout.
 */
#include "tls/hello.h"

#include <string.h>

#include "util/rd.h"

/* RFC 8446 4.1.3: ServerHello.random of a HelloRetryRequest, which is
 * SHA-256("HelloRetryRequest"). */
static const uint8_t tls_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

#define TLS_SESSION_ID_MAX 32  /* RFC 8446 4.1.2: session_id<0..32> */

/* Bytes consumed by a part: the difference of two rd_left() values. */
static int consumed(size_t left_before, const struct rd *r)
{
    return (int)(left_before - rd_left(r));
}

/* Append one value to a capped list, counting it in *total either way. */
static void push_u16(uint16_t *arr, size_t cap, size_t *n, size_t *total,
                     uint16_t v, bool *capped)
{
    (*total)++;
    if (*n < cap)
        arr[(*n)++] = v;
    else
        *capped = true;
}

/*
 * Read a whole reader as a list of uint16 values into a capped array.
 * Returns TLS_HELLO_OK, or TLS_HELLO_EMALFORMED for an odd byte count.
 */
static int read_u16_list(struct rd *list, uint16_t *arr, size_t cap, size_t *n,
                         size_t *total, bool *capped)
{
    if (rd_left(list) % 2 != 0)
        return TLS_HELLO_EMALFORMED;
    while (rd_left(list) > 0)
        push_u16(arr, cap, n, total, rd_u16(list), capped);
    return list->bad ? TLS_HELLO_ETRUNC : TLS_HELLO_OK;
}

/* ---- message parts ---------------------------------------------------- */

/* session_id<0..32>: its bytes are kept (resumption is keyed on them). */
static int parse_session_id(struct rd *r, struct tls_hello *h)
{
    size_t before = rd_left(r);
    struct rd sid;

    if (!rd_vec8(r, &sid))
        return TLS_HELLO_ETRUNC;
    if (rd_left(&sid) > TLS_SESSION_ID_MAX)
        return TLS_HELLO_EMALFORMED;
    h->session_id_len = (uint8_t)rd_left(&sid);
    if (!rd_copy(&sid, h->session_id, h->session_id_len))
        return TLS_HELLO_ETRUNC;
    return consumed(before, r);
}

/* DTLS ClientHello cookie<0..2^8-1>: skipped. */
static int parse_dtls_cookie(struct rd *r)
{
    size_t before = rd_left(r);
    struct rd cookie;

    if (!rd_vec8(r, &cookie))
        return TLS_HELLO_ETRUNC;
    return consumed(before, r);
}

/* ClientHello cipher_suites<2..2^16-2> (an empty list is accepted). */
static int parse_cipher_suites(struct rd *r, struct tls_hello *h)
{
    size_t before = rd_left(r);
    struct rd list;
    int rc;

    if (!rd_vec16(r, &list))
        return TLS_HELLO_ETRUNC;
    rc = read_u16_list(&list, h->ciphers, TLS_HELLO_MAX_CIPHERS, &h->n_ciphers,
                       &h->total_ciphers, &h->capped);
    if (rc < 0)
        return rc;
    return consumed(before, r);
}

/* ClientHello compression_methods<1..2^8-1> (an empty list is accepted):
 * only the count is kept. */
static int parse_compression_methods(struct rd *r, struct tls_hello *h)
{
    size_t before = rd_left(r);
    struct rd list;

    if (!rd_vec8(r, &list))
        return TLS_HELLO_ETRUNC;
    h->n_compression = (uint8_t)rd_left(&list);
    return consumed(before, r);
}

/* ServerHello cipher_suite(2) and compression_method(1). */
static int parse_server_selection(struct rd *r, struct tls_hello *h)
{
    size_t before = rd_left(r);
    uint16_t suite = rd_u16(r);
    uint8_t method = rd_u8(r);

    if (r->bad)
        return TLS_HELLO_ETRUNC;
    h->ciphers[0] = suite;
    h->n_ciphers = 1;
    h->total_ciphers = 1;
    h->compression = method;
    h->n_compression = 1;
    return consumed(before, r);
}

/* ---- extension bodies ------------------------------------------------- */
/* Each takes a reader over exactly one extension_data and must consume all
 * of it; returns TLS_HELLO_OK or a negative enum tls_hello_err. */

/*
 * server_name (RFC 6066 3):
 *   struct { NameType name_type(1); HostName host_name<1..2^16-1>; } ServerName;
 *   ServerName server_name_list<1..2^16-1>;
 * An empty extension_data (ServerHello form, also seen from clients) only
 * sets has_sni.  The first host_name (type 0) is kept, cut at
 * TLS_HELLO_MAX_SNI bytes (capped is then set).
 */
static int ext_server_name(struct rd *d, struct tls_hello *h)
{
    struct rd list;
    bool got_name = false;

    h->has_sni = true;
    if (rd_left(d) == 0)
        return TLS_HELLO_OK;
    if (!rd_vec16(d, &list))
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    while (rd_left(&list) > 0) {
        uint8_t name_type = rd_u8(&list);
        struct rd name;

        if (!rd_vec16(&list, &name))
            return TLS_HELLO_ETRUNC;
        if (name_type == 0 && !got_name) {
            size_t n = rd_left(&name);

            if (n > TLS_HELLO_MAX_SNI) {
                n = TLS_HELLO_MAX_SNI;
                h->capped = true;
            }
            if (!rd_copy(&name, h->sni, n))
                return TLS_HELLO_ETRUNC;
            h->sni_len = (uint16_t)n;
            got_name = true;
        }
    }
    return TLS_HELLO_OK;
}

/* supported_groups (RFC 8446 4.2.7): NamedGroup named_group_list<2..2^16-1>. */
static int ext_supported_groups(struct rd *d, struct tls_hello *h)
{
    struct rd list;

    if (!rd_vec16(d, &list))
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    return read_u16_list(&list, h->groups, TLS_HELLO_MAX_GROUPS, &h->n_groups,
                         &h->total_groups, &h->capped);
}

/* ec_point_formats (RFC 8422 5.1.2): ECPointFormat ec_point_format_list<1..2^8-1>. */
static int ext_ec_point_formats(struct rd *d, struct tls_hello *h)
{
    struct rd list;

    if (!rd_vec8(d, &list))
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    while (rd_left(&list) > 0) {
        uint8_t v = rd_u8(&list);

        h->total_point_formats++;
        if (h->n_point_formats < TLS_HELLO_MAX_POINTFMTS)
            h->point_formats[h->n_point_formats++] = v;
        else
            h->capped = true;
    }
    return TLS_HELLO_OK;
}

/* signature_algorithms (RFC 8446 4.2.3):
 * SignatureScheme supported_signature_algorithms<2..2^16-2>. */
static int ext_signature_algorithms(struct rd *d, struct tls_hello *h)
{
    struct rd list;

    if (!rd_vec16(d, &list))
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    return read_u16_list(&list, h->sig_algs, TLS_HELLO_MAX_SIGALGS, &h->n_sig_algs,
                         &h->total_sig_algs, &h->capped);
}

/*
 * application_layer_protocol_negotiation (RFC 7301 3.1):
 *   opaque ProtocolName<1..2^8-1>;
 *   ProtocolName protocol_name_list<2..2^16-1>;
 * Same layout in both hellos (the server's list holds the one selected
 * name).  Empty names are accepted: JA4 defines a result for them.
 */
static int ext_alpn(struct rd *d, struct tls_hello *h)
{
    struct rd list;

    h->has_alpn = true;
    if (!rd_vec16(d, &list))
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    while (rd_left(&list) > 0) {
        struct rd name;

        if (!rd_vec8(&list, &name))
            return TLS_HELLO_ETRUNC;
        h->total_alpn++;
        if (h->n_alpn < TLS_HELLO_MAX_ALPN) {
            struct tls_alpn *a = &h->alpn[h->n_alpn++];

            a->len = (uint8_t)rd_left(&name);
            if (!rd_copy(&name, a->name, a->len))
                return TLS_HELLO_ETRUNC;
        } else {
            h->capped = true;
        }
    }
    return TLS_HELLO_OK;
}

/* supported_versions in a ClientHello (RFC 8446 4.2.1):
 * ProtocolVersion versions<2..254>. */
static int ext_supported_versions_client(struct rd *d, struct tls_hello *h)
{
    struct rd list;

    if (!rd_vec8(d, &list))
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    return read_u16_list(&list, h->versions, TLS_HELLO_MAX_VERSIONS, &h->n_versions,
                         &h->total_versions, &h->capped);
}

/* supported_versions in a ServerHello or HelloRetryRequest:
 * ProtocolVersion selected_version. */
static int ext_supported_versions_server(struct rd *d, struct tls_hello *h)
{
    uint16_t v = rd_u16(d);

    if (d->bad)
        return TLS_HELLO_ETRUNC;
    if (rd_left(d) != 0)
        return TLS_HELLO_EMALFORMED;
    h->versions[0] = v;
    h->n_versions = 1;
    h->total_versions = 1;
    return TLS_HELLO_OK;
}

/* key_share in a ServerHello (RFC 8446 4.2.8: KeyShareEntry server_share,
 * a group then key_exchange<1..2^16-1>) or a HelloRetryRequest
 * (NamedGroup selected_group): the group.  Read leniently: a fact for the
 * event, not a reason to refuse the hello (whose fingerprint matters more). */
static int ext_key_share_server(struct rd *d, struct tls_hello *h)
{
    uint16_t g = rd_u16(d);

    if (!d->bad)
        h->key_share_group = g;
    return TLS_HELLO_OK;
}

/* encrypted_client_hello in a ClientHello (draft-ietf-tls-esni-22 5):
 *   ECHClientHelloType type;  outer(0): HpkeSymmetricCipherSuite (kdf_id,
 *   aead_id), uint8 config_id, opaque enc<0..2^16-1>,
 *   opaque payload<1..2^16-1>;  inner(1): nothing.
 * Read leniently, like key_share: a malformed one is noted, the hello kept. */
static int ext_ech_client(struct rd *d, struct tls_hello *h)
{
    h->has_ech = true;
    h->ech_type = rd_u8(d);
    if (d->bad) {
        h->ech_bad = true;
        return TLS_HELLO_OK;
    }
    if (h->ech_type != 0) {
        h->ech_bad = h->ech_type != 1 || rd_left(d) != 0;
        return TLS_HELLO_OK;
    }
    h->ech_kdf = rd_u16(d);
    h->ech_aead = rd_u16(d);
    h->ech_config_id = rd_u8(d);
    struct rd enc, payload;
    if (d->bad || !rd_vec16(d, &enc) || !rd_vec16(d, &payload) || rd_left(d) != 0 ||
        rd_left(&payload) == 0) {
        h->ech_bad = true;
        return TLS_HELLO_OK;
    }
    h->ech_enc_len = (uint16_t)rd_left(&enc);
    h->ech_payload_len = (uint16_t)rd_left(&payload);
    return TLS_HELLO_OK;
}

/* encrypted_client_hello in a HelloRetryRequest: an 8-byte confirmation
 * that the server accepted ECH (draft-ietf-tls-esni-22 7.2.1). */
static int ext_ech_server(struct rd *d, struct tls_hello *h)
{
    h->has_ech = true;
    h->ech_bad = !h->is_hrr || rd_left(d) != 8;
    return TLS_HELLO_OK;
}

/* Extensions whose bodies are decoded; NULL where a hello of that side does
 * not carry the extension (it is then only listed). */
static const struct {
    uint16_t type;
    int (*client)(struct rd *d, struct tls_hello *h);
    int (*server)(struct rd *d, struct tls_hello *h);
} known_exts[] = {
    { TLS_EXT_SERVER_NAME, ext_server_name, ext_server_name },
    { TLS_EXT_SUPPORTED_GROUPS, ext_supported_groups, NULL },
    { TLS_EXT_EC_POINT_FORMATS, ext_ec_point_formats, ext_ec_point_formats },
    { TLS_EXT_SIGNATURE_ALGORITHMS, ext_signature_algorithms, NULL },
    { TLS_EXT_ALPN, ext_alpn, ext_alpn },
    { TLS_EXT_SUPPORTED_VERSIONS, ext_supported_versions_client,
      ext_supported_versions_server },
    { TLS_EXT_KEY_SHARE, NULL, ext_key_share_server },
    { TLS_EXT_ECH, ext_ech_client, ext_ech_server },
};

#define N_KNOWN_EXTS (sizeof known_exts / sizeof known_exts[0])

/* Decode one extension body if its type is known and not seen before. */
static int parse_one_extension(uint16_t type, struct rd *data, struct tls_hello *h,
                               unsigned *seen)
{
    for (size_t i = 0; i < N_KNOWN_EXTS; i++) {
        int (*fn)(struct rd *d, struct tls_hello *h);

        if (known_exts[i].type != type)
            continue;
        if (*seen & (1u << i))
            return TLS_HELLO_OK;  /* duplicate: listed, not decoded */
        *seen |= 1u << i;
        fn = h->is_server ? known_exts[i].server : known_exts[i].client;
        return fn ? fn(data, h) : TLS_HELLO_OK;
    }
    return TLS_HELLO_OK;
}

/*
 * Optional extensions<0..2^16-1> block: absent when the message ends after
 * the compression field.  Every type is appended to exts[] in wire order.
 */
static int parse_extensions(struct rd *r, struct tls_hello *h)
{
    size_t before = rd_left(r);
    struct rd block;
    unsigned seen = 0;

    if (rd_left(r) == 0)
        return 0;
    if (!rd_vec16(r, &block))
        return TLS_HELLO_ETRUNC;
    h->has_extensions = true;
    while (rd_left(&block) > 0) {
        uint16_t type = rd_u16(&block);
        struct rd data;
        int rc;

        if (!rd_vec16(&block, &data))
            return TLS_HELLO_ETRUNC;
        push_u16(h->exts, TLS_HELLO_MAX_EXTS, &h->n_exts, &h->total_exts, type,
                 &h->capped);
        if ((type == TLS_EXT_QUIC_TRANSPORT_PARAMS || type == TLS_EXT_QUIC_TRANSPORT_PARAMS_DRAFT) &&
            !h->quic_tp) {
            h->quic_tp = rd_ptr(&data);
            h->quic_tp_len = (uint16_t)rd_left(&data);
        }
        if (type == TLS_EXT_SESSION_TICKET && !h->is_server && !h->has_ticket) {
            h->has_ticket = true;
            h->ticket_len = (uint16_t)rd_left(&data);
            h->ticket = h->ticket_len ? rd_ptr(&data) : NULL;
        }
        rc = parse_one_extension(type, &data, h, &seen);
        if (rc < 0)
            return rc;
    }
    return consumed(before, r);
}

/* legacy_version(2) random(32), common to both hellos. */
static int parse_version_random(struct rd *r, struct tls_hello *h)
{
    size_t before = rd_left(r);

    h->legacy_version = rd_u16(r);
    if (!rd_copy(r, h->random, sizeof h->random))
        return TLS_HELLO_ETRUNC;
    return consumed(before, r);
}

/* ---- entry points ------------------------------------------------------ */

/*
 * Contract in hello.h: `out` is cleared up to its lists first, then filled
 * part by part;
 * returns TLS_HELLO_OK or the first part's negative error.
 * Note: a DTLS ClientHello is recognised by legacy_version 0xfeXX alone.
 */
int tls_client_hello_parse(const uint8_t *body, size_t len, struct tls_hello *out)
{
    struct rd r;
    int rc;

    memset(out, 0, TLS_HELLO_LISTS);
    rd_init(&r, body, len);

    if ((rc = parse_version_random(&r, out)) < 0)
        return rc;
    if ((rc = parse_session_id(&r, out)) < 0)
        return rc;
    if ((out->legacy_version >> 8) == 0xfe && (rc = parse_dtls_cookie(&r)) < 0)
        return rc;
    if ((rc = parse_cipher_suites(&r, out)) < 0)
        return rc;
    if ((rc = parse_compression_methods(&r, out)) < 0)
        return rc;
    if ((rc = parse_extensions(&r, out)) < 0)
        return rc;
    if (rd_left(&r) != 0)
        return TLS_HELLO_EMALFORMED;  /* bytes after the extensions block */
    return TLS_HELLO_OK;
}

/*
 * Contract in hello.h.  is_hrr is set as soon as the random is read, so it
 * is meaningful even when a later part fails.
 */
int tls_server_hello_parse(const uint8_t *body, size_t len, struct tls_hello *out)
{
    struct rd r;
    int rc;

    memset(out, 0, TLS_HELLO_LISTS);
    out->is_server = true;
    rd_init(&r, body, len);

    if ((rc = parse_version_random(&r, out)) < 0)
        return rc;
    out->is_hrr = memcmp(out->random, tls_hrr_random, sizeof tls_hrr_random) == 0;
    if ((rc = parse_session_id(&r, out)) < 0)
        return rc;
    if ((rc = parse_server_selection(&r, out)) < 0)
        return rc;
    if ((rc = parse_extensions(&r, out)) < 0)
        return rc;
    if (rd_left(&r) != 0)
        return TLS_HELLO_EMALFORMED;
    return TLS_HELLO_OK;
}

/* Contract in hello.h. */
int tls_new_session_ticket_parse(const uint8_t *body, size_t len, uint32_t *lifetime,
                                 const uint8_t **ticket, size_t *ticket_len)
{
    struct rd r, t;

    rd_init(&r, body, len);
    uint32_t hint = rd_u32(&r);
    if (!rd_vec16(&r, &t) || r.bad)
        return TLS_HELLO_ETRUNC;
    if (rd_left(&r) != 0)
        return TLS_HELLO_EMALFORMED;
    *lifetime = hint;
    *ticket = rd_ptr(&t);
    *ticket_len = rd_left(&t);
    return TLS_HELLO_OK;
}

/*
 * Contract in hello.h.  Works for both sides: a ServerHello stores its
 * selected_version as the only entry.
 * Note: "highest" is the numerically largest value, as JA4.md words it.  For
 * DTLS this is not the newest protocol (DTLS 1.3 is 0xfefc, below DTLS 1.2's
 * 0xfefd), so a DTLS 1.3 hello offering both reports 0xfefd; the conformance
 * corpus expects exactly that.  An unknown value above 0x0304 (a draft
 * version) wins over 0x0304 for the same reason.
 */
uint16_t tls_hello_version(const struct tls_hello *h)
{
    size_t n = h->n_versions < TLS_HELLO_MAX_VERSIONS ? h->n_versions
                                                      : TLS_HELLO_MAX_VERSIONS;
    bool found = false;
    uint16_t best = 0;

    for (size_t i = 0; i < n; i++) {
        uint16_t v = h->versions[i];

        if (tls_is_grease(v))
            continue;
        if (!found || v > best) {
            best = v;
            found = true;
        }
    }
    return found ? best : h->legacy_version;
}
