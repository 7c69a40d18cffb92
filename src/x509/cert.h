/*
 * cert.h - one DER X.509 certificate into a plain struct (OpenSSL libcrypto).
 *
 * x509_cert_parse() decodes a certificate with d2i_X509 and copies out what
 * the detector and the event writer need: names, serial, validity, SANs,
 * digests of the certificate and of its SubjectPublicKeyInfo, key and
 * signature algorithms, CA and self-signed flags, key identifiers, the
 * number of embedded SCTs and the JA4X fingerprint.  The result holds no
 * OpenSSL object and no pointer into the input, so it outlives both.
 *
 * What it does not do: no chain building, no path validation, no trust
 * store, no revocation, no hostname matching, no time comparison with the
 * clock (expiry is the caller's policy: compare not_after.epoch with packet
 * time).  No I/O, no JSON.  X.509 itself is parsed only by OpenSSL; the one
 * thing read by hand is the TLS-encoded SCT list inside the CT extension,
 * through util/rd.h.
 *
 * Every text field is valid UTF-8 without NUL bytes: invalid sequences and
 * NULs are replaced by U+FFFD (text_repaired says so), and a field longer
 * than X509_CERT_MAX_TEXT bytes is cut at a character boundary (text_cut).
 * Lists are capped (X509_CERT_MAX_SAN) and keep their true length beside
 * the stored one.
 */
#ifndef PINSCOPE_X509_CERT_H
#define PINSCOPE_X509_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp/ja4x.h"

#define X509_CERT_MAX_SAN   128   /* entries kept per SAN list (dns, ip, email, uri) */
#define X509_CERT_MAX_TEXT  1024  /* bytes kept of one text field (DN, CN, O, SAN entry) */
#define X509_CERT_MAX_JA4X_R 4096 /* bytes kept of ja4x_r (ja4x itself covers everything) */
#define X509_CERT_ALG_LEN   64    /* bytes kept of an algorithm or curve name */

/* Return values of x509_cert_parse(): 0 on success, one of these on failure. */
enum x509_cert_err {
    X509_CERT_OK = 0,
    X509_CERT_EARG = -1,      /* NULL pointer, empty input, or len > LONG_MAX */
    X509_CERT_EDECODE = -2,   /* OpenSSL did not accept the bytes as a certificate */
    X509_CERT_ETRAILING = -3, /* a certificate followed by extra bytes */
    X509_CERT_ENOMEM = -4,    /* an allocation failed */
};

/* notBefore / notAfter, converted to UTC. */
struct x509_time {
    bool valid;        /* false: OpenSSL could not read the time (iso "", epoch 0) */
    int64_t epoch;     /* seconds since 1970-01-01T00:00:00Z, negative before 1970 */
    char iso[21];      /* "YYYY-MM-DDTHH:MM:SSZ" */
};

/* Subject or issuer. */
struct x509_cert_name {
    char *dn;          /* RFC 4514 string, most specific RDN first; "" for an empty name */
    char *dn_eve;      /* as Suricata's EVE writes it: encoded order, ", " between RDNs,
                          no escaping ("C=US, O=Example, Inc., CN=example.com") */
    char *cn;          /* value of the last commonName attribute, NULL if none */
    char *o;           /* value of the last organizationName attribute, NULL if none */
    char *ou, *c, *l, *st;  /* the same for organizationalUnitName, countryName,
                               localityName, stateOrProvinceName */
    size_t n_attrs;    /* attributes in the name (all RDNs, multi-valued ones counted per value) */
};

/* One capped list of strings, in certificate order. */
struct x509_cert_list {
    char **v;          /* n entries, each a heap string; NULL when n == 0 */
    size_t n;          /* stored, <= X509_CERT_MAX_SAN */
    size_t total;      /* seen in the certificate */
};

struct x509_cert {
    long version;                       /* 1, 2 or 3; 0 if the encoded value is not 0..2 */
    struct x509_cert_name subject, issuer;
    char *serial;                       /* lower-case hex magnitude, '-' first if negative */
    struct x509_time not_before, not_after;

    /* subjectAltName (first SAN extension only) */
    bool has_san;
    struct x509_cert_list san_dns;      /* dNSName, as encoded (no IDNA decoding) */
    struct x509_cert_list san_ip;       /* iPAddress: dotted quad, RFC 5952 IPv6, else hex */
    struct x509_cert_list san_email;    /* rfc822Name */
    struct x509_cert_list san_uri;      /* uniformResourceIdentifier */
    size_t san_other;                   /* otherName, x400, dirName, ediParty, RID */

    /* digests */
    char sha1[41];                      /* lower-case hex SHA-1 of the DER */
    char sha256[65];                    /* lower-case hex SHA-256 of the DER */
    uint8_t sha256_raw[32];             /* the same, raw */
    uint8_t spki_sha256_raw[32];        /* SHA-256 of the DER SubjectPublicKeyInfo */
    char spki_sha256[45];               /* the same, base64 (RFC 7469 pin-sha256) */

    /* public key and signature */
    char key_alg[X509_CERT_ALG_LEN];    /* "RSA", "RSA-PSS", "EC", "Ed25519", "Ed448",
                                           "DSA", "DH", "X25519", "X448", "SM2", else the
                                           OpenSSL short name or the dotted OID */
    int key_bits;                       /* EVP_PKEY_get_bits(); 0 if the key did not decode */
    uint64_t rsa_exponent;              /* RSA public exponent; 0 if not RSA or > 63 bits */
    char curve[X509_CERT_ALG_LEN];      /* EC: curve short name ("prime256v1"), "explicit"
                                           for inline parameters; "" otherwise */
    char curve_nist[8];                 /* EC: "P-256", "P-384", ... or "" */
    char sig_alg[X509_CERT_ALG_LEN];    /* outer signatureAlgorithm as `openssl x509 -text`
                                           names it ("sha256WithRSAEncryption") */
    bool sig_alg_mismatch;              /* outer and TBS signature AlgorithmIdentifiers differ */

    /* constraints and identity */
    bool has_basic_constraints;
    bool is_ca;                         /* basicConstraints cA is TRUE */
    long path_len;                      /* pathLenConstraint, -1 if absent */
    bool self_issued;                   /* issuer equals subject (OpenSSL X509_NAME_cmp) */
    bool self_signed;                   /* self_issued and the signature verifies with the
                                           certificate's own public key */
    char *skid;                         /* subjectKeyIdentifier, lower-case hex; NULL if absent */
    char *akid;                         /* authorityKeyIdentifier keyIdentifier, hex; NULL if absent */

    /* extensions */
    size_t n_exts;                      /* extensions present */
    bool ext_invalid;                   /* some extension OpenSSL or this module decodes was
                                           malformed (its fields above are then missing) */
    bool has_sct_list;                  /* 1.3.6.1.4.1.11129.2.4.2 present */
    bool sct_list_malformed;            /* its TLS encoding was inconsistent */
    size_t sct_count;                   /* well-framed SCTs in the list (up to the first error) */

    /* fingerprint */
    char ja4x[JA4X_LEN + 1];
    char *ja4x_r;                       /* at most X509_CERT_MAX_JA4X_R bytes (text_cut) */

    /* text hygiene */
    bool text_repaired;                 /* some text had invalid UTF-8 or a NUL, replaced */
    bool text_cut;                      /* some text field was cut at X509_CERT_MAX_TEXT,
                                           or ja4x_r at X509_CERT_MAX_JA4X_R */
};

/*
 * Decode the DER certificate der[0..len) into *out, which is fully
 * overwritten.  The input must be exactly one certificate: trailing bytes
 * after it are rejected with X509_CERT_ETRAILING (a TLS Certificate entry
 * carries its exact length, so extra bytes are a malformed entry, and
 * digests over a different span than the certificate would mislead).
 *
 * Returns X509_CERT_OK or a negative enum x509_cert_err.  On failure *out
 * is zeroed and owns nothing (x509_cert_release() on it is a harmless
 * no-op).  On success the caller owns *out and frees it with
 * x509_cert_release().  der is not retained.
 *
 * Note: a certificate that OpenSSL decodes is accepted even when parts of
 * it are odd: an unreadable time gives valid=false, an undecodable public
 * key gives key_bits 0, a malformed known extension sets ext_invalid.  The
 * OpenSSL error queue is left as it was found.  Cost: about 0.1 ms per
 * certificate with OpenSSL 3.0.19, 80 us of it inside d2i_X509 building a
 * decoder for the public key (OSSL_DECODER_CTX_new_for_pkey); callers on
 * the packet path cache the result per distinct certificate.
 */
int x509_cert_parse(const uint8_t *der, size_t len, struct x509_cert *out);

/* The same, and on success *x509_out is the decoded X509 (the caller
 * X509_free()s it), so a cache needs one decode per certificate. */
int x509_cert_parse_keep(const uint8_t *der, size_t len, struct x509_cert *out,
                         void **x509_out);

/* Heap bytes that *c owns (its strings and lists). */
size_t x509_cert_heap_bytes(const struct x509_cert *c);

/* Free everything *c owns and zero it.  NULL and zeroed structs are fine. */
void x509_cert_release(struct x509_cert *c);

#endif
