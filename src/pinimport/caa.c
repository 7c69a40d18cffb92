/*
 * caa.c - CAA issuer domains -> the CNs of the issuing CA certificates
 * they stand for, for `expected_issuers`.
 *
 * pinscope's issuer check compares the leaf's issuer DN or CN (see
 * policy.h); it has no organisation (O=) match, so a CAA domain is
 * mapped to the CNs of the CA's current TLS issuing certificates, each
 * list from the CA's own repository page cited beside it (as published
 * in 2025).  CAs add issuing certificates over time: a certificate from
 * one that is not listed here shows up as an unexpected issuer until the
 * table (or the policy) gains its name.  CAA domains not in the table
 * give no expected issuers for that name (dns.c warns).
 */
#include "pinimport/pi_int.h"

#include <string.h>

/* https://letsencrypt.org/certificates/ (intermediates, active and backup) */
static const char *const letsencrypt[] = {"R10", "R11", "R12", "R13", "R14",
                                          "E5",  "E6",  "E7",  "E8",  "E9", NULL};
/* https://pki.goog/repository/ (subordinate CAs) */
static const char *const google[] = {"WR1", "WR2", "WR3", "WR4", "WE1", "WE2", "WE3", "WE4",
                                     "GTS CA 1C3", "GTS CA 1D4", "GTS CA 1P5", NULL};
/* https://www.amazontrust.com/repository/ (intermediate CAs) */
static const char *const amazon[] = {"Amazon RSA 2048 M01", "Amazon RSA 2048 M02",
                                     "Amazon RSA 2048 M03", "Amazon RSA 2048 M04",
                                     "Amazon ECDSA 256 M01", "Amazon ECDSA 256 M02",
                                     "Amazon ECDSA 256 M03", "Amazon ECDSA 256 M04", NULL};
/* https://www.digicert.com/kb/digicert-root-certificates.htm (intermediate
 * certificates); CAA identifiers from DigiCert's CPS, section 4.2 */
static const char *const digicert[] = {"DigiCert Global G2 TLS RSA SHA256 2020 CA1",
                                       "DigiCert TLS RSA SHA256 2020 CA1",
                                       "DigiCert TLS Hybrid ECC SHA384 2020 CA1",
                                       "DigiCert Global G3 TLS ECC SHA384 2020 CA1",
                                       "DigiCert SHA2 Secure Server CA",
                                       "DigiCert SHA2 Extended Validation Server CA",
                                       "DigiCert EV RSA CA G2",
                                       "GeoTrust TLS RSA CA G1",
                                       "GeoTrust Global TLS RSA4096 SHA256 2022 CA1",
                                       "RapidSSL TLS RSA CA G1",
                                       "Thawte TLS RSA CA G1",
                                       "Encryption Everywhere DV TLS CA - G2",
                                       NULL};
/* https://www.sectigo.com/knowledge-base (Sectigo Chain Hierarchy and
 * Intermediate Roots); CAA identifiers from Sectigo's CPS, section 4.2 */
static const char *const sectigo[] = {"Sectigo RSA Domain Validation Secure Server CA",
                                      "Sectigo RSA Organization Validation Secure Server CA",
                                      "Sectigo RSA Extended Validation Secure Server CA",
                                      "Sectigo ECC Domain Validation Secure Server CA",
                                      "Sectigo ECC Organization Validation Secure Server CA",
                                      "Sectigo ECC Extended Validation Secure Server CA",
                                      "Sectigo Public Server Authentication CA DV R36",
                                      "Sectigo Public Server Authentication CA DV E36",
                                      "Sectigo Public Server Authentication CA OV R36",
                                      "Sectigo Public Server Authentication CA OV E36",
                                      "Sectigo Public Server Authentication CA EV R36",
                                      "Sectigo Public Server Authentication CA EV E36",
                                      NULL};

static const struct pi_caa table[] = {
    {"letsencrypt.org", letsencrypt},
    {"pki.goog", google},
    {"amazon.com", amazon},
    {"amazontrust.com", amazon},
    {"awstrust.com", amazon},
    {"amazonaws.com", amazon},
    {"digicert.com", digicert},
    {"www.digicert.com", digicert},
    {"geotrust.com", digicert},
    {"rapidssl.com", digicert},
    {"thawte.com", digicert},
    {"sectigo.com", sectigo},
    {"comodoca.com", sectigo},
    {"comodo.com", sectigo},
    {"usertrust.com", sectigo},
    {"trust-provider.com", sectigo},
};

const struct pi_caa *pi_caa_find(const char *ca_domain)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].domain, ca_domain) == 0)
            return &table[i];
    return NULL;
}
