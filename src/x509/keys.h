/*
 * keys.h - decode certificates' public keys without OpenSSL 3.0's per-call
 * decoder search.
 *
 * OpenSSL 3.0 and 3.1 decode the SubjectPublicKeyInfo of every certificate
 * through OSSL_DECODER_CTX_new_for_pkey(), which builds a new decoder
 * chain each time by walking every decoder and key manager the providers
 * offer: about 100 us of a 110 us d2i_X509() on this project's machines,
 * whatever the key.  OpenSSL 3.2 caches those chains.  x509_pubkey_decode()
 * in crypto/x509/x_pubkey.c takes the older route, the key type's own
 * ASN.1 method (ameth->pub_decode), when an ENGINE is registered as the
 * default for that key type.
 *
 * x509_keys_init() registers such an ENGINE for RSA, RSA-PSS and EC.  For
 * each key type it hands back OpenSSL's own built-in EVP_PKEY_METHOD
 * (EVP_PKEY_meth_find()), so keys are compared and used for verification
 * by the same OpenSSL code, only found without the search.  d2i_X509() of
 * an RSA leaf goes from 120 us to 7 us.
 *
 * EC keys also get the ENGINE's ASN.1 method: OpenSSL 3.0's own
 * (crypto/ec/ec_ameth.c) builds the named curve's group from its tables
 * for every key it decodes, about 60% of what is left of a d2i_X509() of
 * an ECDSA leaf.  The ENGINE's is OpenSSL's method with the six
 * public-key functions (decode, encode, compare, print, size, bits)
 * rewritten as OpenSSL 3.0 has them, except that the decoder copies a
 * group built once for P-256, P-384 and P-521; other curves, explicit
 * parameters and every error take OpenSSL's own steps.  d2i_X509() of a
 * P-256 or P-384 leaf goes from 27 us to 11 us (230,000 to 95,000
 * instructions under callgrind).  tests/unit/test_keys.c compares every
 * result with the provider route's, curve by curve, point form by point
 * form, malformed keys included.
 *
 * Note: an EC key decoded so holds a reference to the ENGINE, which
 * EVP_PKEY_free() drops under OpenSSL's global ENGINE lock (as
 * x509_pubkey_decode() already takes it for every key type).
 *
 * Figures measured with OpenSSL 3.0.19 on this project's machines.
 *
 * It is a process-wide setting, made once; it does nothing with OpenSSL
 * 3.2 or later, without ENGINE support, or when PINSCOPE_OPENSSL_DECODERS
 * is set in the environment (the tests compare both ways: every event must
 * be the same).
 */
#ifndef PINSCOPE_X509_KEYS_H
#define PINSCOPE_X509_KEYS_H

#include <stdbool.h>

/* Register the ENGINE, once per process; thread-safe.  Returns true if
 * keys now take the direct route. */
bool x509_keys_init(void);

#endif
