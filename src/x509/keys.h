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
 * x509_keys_init() registers such an ENGINE for RSA, RSA-PSS and EC.  It
 * implements nothing: for each key type it hands back OpenSSL's own
 * built-in method (EVP_PKEY_meth_find()), so keys are decoded, compared
 * and used for verification by the same OpenSSL code, only found without
 * the search.  d2i_X509() of an RSA leaf goes from 120 us to 7 us, of an
 * EC one to 19 us (measured with OpenSSL 3.0.19 on this project's
 * machines).
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
