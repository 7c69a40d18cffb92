/*
 * spki.h - SPKI pins of certificate and key files (`pinscope spki`).
 *
 * The pin is the base64 of SHA-256 over the DER SubjectPublicKeyInfo: the
 * value Android's Network Security Config, OkHttp's CertificatePinner,
 * curl --pinnedpubkey and HPKP use.  Files may hold a PEM or DER
 * certificate or public key, or an unencrypted PEM private key (its public
 * half is pinned); for a PEM file with several certificates the first is
 * used.
 */
#ifndef PINSCOPE_X509_SPKI_H
#define PINSCOPE_X509_SPKI_H

#include <stddef.h>

#define X509_SPKI_PIN_LEN 44   /* base64 of 32 bytes, without NUL */

/* Compute the pin of the first certificate or public key in `path`.
 * Returns 0, or -1 with a one-line reason in err. */
int x509_spki_pin_file(const char *path, char pin[X509_SPKI_PIN_LEN + 1], char *err,
                       size_t errlen);

#endif
