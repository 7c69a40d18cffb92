/*
 * keys.c - see keys.h.  The ENGINE API is deprecated in OpenSSL 3.0 and
 * this is the one file that uses it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "x509/keys.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/x509.h>

#ifndef OPENSSL_NO_ENGINE
#include <openssl/engine.h>
#endif

#ifndef OPENSSL_NO_ENGINE
/* ---- EC keys ------------------------------------------------------------
 *
 * OpenSSL 3.0's own EC ASN.1 method (crypto/ec/ec_ameth.c) builds the
 * named curve's group from its tables for every key it decodes,
 * EC_GROUP_new_by_curve_name_ex(): 131,000 of the 228,000 instructions of
 * a d2i_X509() of a P-256 leaf.  The key keeps a copy of whatever group it
 * is given (EC_KEY_set_group() dups it), so the method below is OpenSSL's,
 * function for function, except that for P-256, P-384 and P-521 it hands
 * over a group built once, the same way, and never modified afterwards:
 * copying it costs 5,000.  Any other curve, explicit parameters and every
 * error take OpenSSL's own steps.
 *
 * The public-key functions can only be replaced as a set
 * (EVP_PKEY_asn1_set_public()), so the other five are OpenSSL 3.0's too,
 * rewritten on its public API; everything else (private keys, parameters,
 * export to providers, checks) is OpenSSL's own method, copied.
 *
 * Note: OpenSSL builds the group in the X509_PUBKEY's library context,
 * which cannot be read from outside.  pinscope decodes in the default one
 * only (d2i_X509(), never d2i_X509_ex()); the kept groups are built there. */

static const int keys_ec_kept_nids[] = { NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1 };
#define KEYS_EC_KEPT (sizeof keys_ec_kept_nids / sizeof keys_ec_kept_nids[0])

static EC_GROUP *keys_ec_kept[KEYS_EC_KEPT];   /* set once, then read-only */
static pthread_once_t keys_ec_kept_once = PTHREAD_ONCE_INIT;

/* What ossl_ec_key_param_from_x509_algor() does for a curve OID. */
static EC_GROUP *keys_ec_group_new(int nid)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(NULL, NULL, nid);

    if (g)
        EC_GROUP_set_asn1_flag(g, OPENSSL_EC_NAMED_CURVE);
    return g;
}

static void keys_ec_keep(void)
{
    ERR_set_mark();   /* a group that fails is built per key instead */
    for (size_t i = 0; i < KEYS_EC_KEPT; i++)
        keys_ec_kept[i] = keys_ec_group_new(keys_ec_kept_nids[i]);
    ERR_pop_to_mark();
}

/* The kept group for `nid`, or NULL. */
static const EC_GROUP *keys_ec_kept_group(int nid)
{
    for (size_t i = 0; i < KEYS_EC_KEPT; i++)
        if (keys_ec_kept_nids[i] == nid) {
            pthread_once(&keys_ec_kept_once, keys_ec_keep);
            return keys_ec_kept[i];
        }
    return NULL;
}

/* ossl_ec_key_param_from_x509_algor() (crypto/ec/ec_backend.c). */
static EC_KEY *keys_ec_key_from_algor(const X509_ALGOR *palg)
{
    int ptype = 0;
    const void *pval = NULL;
    EC_KEY *eckey;
    EC_GROUP *group = NULL;

    X509_ALGOR_get0(NULL, &ptype, &pval, palg);
    if (!(eckey = EC_KEY_new())) {
        ERR_raise(ERR_LIB_EC, ERR_R_MALLOC_FAILURE);
        goto ecerr;
    }
    if (ptype == V_ASN1_SEQUENCE) {
        const ASN1_STRING *pstr = pval;
        const unsigned char *pm = ASN1_STRING_get0_data(pstr);

        if (!d2i_ECParameters(&eckey, &pm, ASN1_STRING_length(pstr))) {
            ERR_raise(ERR_LIB_EC, EC_R_DECODE_ERROR);
            goto ecerr;
        }
    } else if (ptype == V_ASN1_OBJECT) {
        int nid = OBJ_obj2nid(pval);
        const EC_GROUP *kept = keys_ec_kept_group(nid);

        if (!kept && !(kept = group = keys_ec_group_new(nid)))
            goto ecerr;
        if (EC_KEY_set_group(eckey, kept) == 0)
            goto ecerr;
        EC_GROUP_free(group);
    } else {
        ERR_raise(ERR_LIB_EC, EC_R_DECODE_ERROR);
        goto ecerr;
    }
    return eckey;

ecerr:
    EC_KEY_free(eckey);
    EC_GROUP_free(group);
    return NULL;
}

/* eckey_pub_decode() */
static int keys_ec_pub_decode(EVP_PKEY *pkey, const X509_PUBKEY *pubkey)
{
    const unsigned char *p = NULL;
    int pklen;
    X509_ALGOR *palg;
    EC_KEY *eckey;

    if (!X509_PUBKEY_get0_param(NULL, &p, &pklen, &palg, pubkey))
        return 0;
    if (!(eckey = keys_ec_key_from_algor(palg)))
        return 0;
    if (!o2i_ECPublicKey(&eckey, &p, pklen)) {
        ERR_raise(ERR_LIB_EC, EC_R_DECODE_ERROR);
        EC_KEY_free(eckey);
        return 0;
    }
    EVP_PKEY_assign_EC_KEY(pkey, eckey);
    return 1;
}

/* eckey_param2type(): the AlgorithmIdentifier's parameters for `ec_key`. */
static int keys_ec_param2type(int *pptype, void **ppval, const EC_KEY *ec_key)
{
    const EC_GROUP *group;
    int nid;

    if (!ec_key || !(group = EC_KEY_get0_group(ec_key))) {
        ERR_raise(ERR_LIB_EC, EC_R_MISSING_PARAMETERS);
        return 0;
    }
    if (EC_GROUP_get_asn1_flag(group) && (nid = EC_GROUP_get_curve_name(group))) {
        ASN1_OBJECT *asn1obj = OBJ_nid2obj(nid);

        if (!asn1obj || OBJ_length(asn1obj) == 0) {
            ASN1_OBJECT_free(asn1obj);
            ERR_raise(ERR_LIB_EC, EC_R_MISSING_OID);
            return 0;
        }
        *ppval = asn1obj;
        *pptype = V_ASN1_OBJECT;
    } else {
        ASN1_STRING *pstr = ASN1_STRING_new();
        unsigned char *der = NULL;
        int len;

        if (!pstr)
            return 0;
        if ((len = i2d_ECParameters(ec_key, &der)) <= 0) {
            ASN1_STRING_free(pstr);
            ERR_raise(ERR_LIB_EC, ERR_R_EC_LIB);
            return 0;
        }
        ASN1_STRING_set0(pstr, der, len);
        *ppval = pstr;
        *pptype = V_ASN1_SEQUENCE;
    }
    return 1;
}

/* eckey_pub_encode() */
static int keys_ec_pub_encode(X509_PUBKEY *pk, const EVP_PKEY *pkey)
{
    const EC_KEY *ec_key = EVP_PKEY_get0(pkey);
    void *pval = NULL;
    int ptype;
    unsigned char *penc = NULL, *p;
    int penclen;

    if (!keys_ec_param2type(&ptype, &pval, ec_key)) {
        ERR_raise(ERR_LIB_EC, ERR_R_EC_LIB);
        return 0;
    }
    if ((penclen = i2o_ECPublicKey(ec_key, NULL)) <= 0)
        goto err;
    if (!(penc = OPENSSL_malloc((size_t)penclen)))
        goto err;
    p = penc;
    if ((penclen = i2o_ECPublicKey(ec_key, &p)) <= 0)
        goto err;
    if (X509_PUBKEY_set0_param(pk, OBJ_nid2obj(EVP_PKEY_EC), ptype, pval, penc, penclen))
        return 1;
err:
    if (ptype == V_ASN1_OBJECT)
        ASN1_OBJECT_free(pval);
    else
        ASN1_STRING_free(pval);
    OPENSSL_free(penc);
    return 0;
}

/* eckey_pub_cmp(): 1 equal, 0 different, -2 not comparable. */
static int keys_ec_pub_cmp(const EVP_PKEY *a, const EVP_PKEY *b)
{
    const EC_KEY *ka = EVP_PKEY_get0(a), *kb = EVP_PKEY_get0(b);
    const EC_GROUP *group = EC_KEY_get0_group(kb);
    const EC_POINT *pa = EC_KEY_get0_public_key(ka), *pb = EC_KEY_get0_public_key(kb);
    int r;

    if (!group || !pa || !pb)
        return -2;
    r = EC_POINT_cmp(group, pa, pb, NULL);
    if (r == 0)
        return 1;
    if (r == 1)
        return 0;
    return -2;
}

/* eckey_pub_print(): do_EC_KEY_print() for a public key. */
static int keys_ec_pub_print(BIO *bp, const EVP_PKEY *pkey, int off, ASN1_PCTX *ctx)
{
    const EC_KEY *x = EVP_PKEY_get0(pkey);
    const EC_GROUP *group;
    unsigned char *pub = NULL;
    size_t publen = 0;
    int ret = 0;

    (void)ctx;
    if (!x || !(group = EC_KEY_get0_group(x))) {
        ERR_raise(ERR_LIB_EC, ERR_R_PASSED_NULL_PARAMETER);
        return 0;
    }
    if (EC_KEY_get0_public_key(x) &&
        (publen = EC_KEY_key2buf(x, EC_KEY_get_conv_form(x), &pub, NULL)) == 0)
        goto err;
    if (!BIO_indent(bp, off, 128) ||
        BIO_printf(bp, "%s: (%d bit)\n", "Public-Key", EC_GROUP_order_bits(group)) <= 0)
        goto err;
    if (publen != 0 && (BIO_printf(bp, "%*spub:\n", off, "") <= 0 ||
                        ASN1_buf_print(bp, pub, publen, off + 4) == 0))
        goto err;
    if (!ECPKParameters_print(bp, group, off))
        goto err;
    ret = 1;
err:
    if (!ret)
        ERR_raise(ERR_LIB_EC, ERR_R_EC_LIB);
    OPENSSL_free(pub);
    return ret;
}

/* int_ec_size() */
static int keys_ec_size(const EVP_PKEY *pkey)
{
    return ECDSA_size(EVP_PKEY_get0(pkey));
}

/* ec_bits() */
static int keys_ec_bits(const EVP_PKEY *pkey)
{
    return EC_GROUP_order_bits(EC_KEY_get0_group(EVP_PKEY_get0(pkey)));
}

static EVP_PKEY_ASN1_METHOD *keys_ec_ameth;
static const int keys_ameth_nids[] = { EVP_PKEY_EC };

/* OpenSSL's EC ASN.1 method with the public-key functions above, or NULL. */
static EVP_PKEY_ASN1_METHOD *keys_ec_ameth_new(void)
{
    const EVP_PKEY_ASN1_METHOD *builtin = EVP_PKEY_asn1_find(NULL, EVP_PKEY_EC);
    const char *info = NULL, *pem_str = NULL;
    int id = 0, base_id = 0, flags = 0;
    EVP_PKEY_ASN1_METHOD *m;

    if (!builtin ||
        !EVP_PKEY_asn1_get0_info(&id, &base_id, &flags, &info, &pem_str, builtin) ||
        id != EVP_PKEY_EC || base_id != EVP_PKEY_EC)
        return NULL;
    if (!(m = EVP_PKEY_asn1_new(id, flags, pem_str, info)))
        return NULL;
    EVP_PKEY_asn1_copy(m, builtin);
    EVP_PKEY_asn1_set_public(m, keys_ec_pub_decode, keys_ec_pub_encode, keys_ec_pub_cmp,
                             keys_ec_pub_print, keys_ec_size, keys_ec_bits);
    return m;
}

/* ENGINE_PKEY_ASN1_METHS_PTR: with ameth NULL, list the key types (EC
 * only); otherwise give the method above for `nid`. */
static int keys_ameths(ENGINE *e, EVP_PKEY_ASN1_METHOD **ameth, const int **nids, int nid)
{
    (void)e;
    if (!ameth) {
        *nids = keys_ameth_nids;
        return 1;
    }
    *ameth = nid == EVP_PKEY_EC ? keys_ec_ameth : NULL;
    return *ameth != NULL;
}

/* ---- the ENGINE --------------------------------------------------------- */

static const int keys_nids[] = { NID_rsaEncryption, NID_rsassaPss, NID_X9_62_id_ecPublicKey };

/* ENGINE_PKEY_METHS_PTR: with pmeth NULL, list the key types; otherwise
 * give OpenSSL's built-in method for `nid`. */
static int keys_pmeths(ENGINE *e, EVP_PKEY_METHOD **pmeth, const int **nids, int nid)
{
    (void)e;
    if (!pmeth) {
        *nids = keys_nids;
        return (int)(sizeof keys_nids / sizeof keys_nids[0]);
    }
    *pmeth = (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(nid);
    return *pmeth != NULL;
}
#endif

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static bool keys_direct;

static void keys_register(void)
{
#ifndef OPENSSL_NO_ENGINE
    ENGINE *e;

    if (getenv("PINSCOPE_OPENSSL_DECODERS") || OpenSSL_version_num() >= 0x30200000L)
        return;
    if (!(e = ENGINE_new()))
        return;
    /* Once set on the ENGINE, the EC method is the ENGINE's to free. */
    keys_ec_ameth = keys_ec_ameth_new();
    if (keys_ec_ameth && !ENGINE_set_pkey_asn1_meths(e, keys_ameths)) {
        EVP_PKEY_asn1_free(keys_ec_ameth);
        keys_ec_ameth = NULL;
    }
    if (ENGINE_set_id(e, "pinscope-builtin-keys") &&
        ENGINE_set_name(e, "OpenSSL's RSA and EC key methods, EC groups kept") &&
        ENGINE_set_pkey_meths(e, keys_pmeths) && ENGINE_init(e)) {
        keys_direct = ENGINE_set_default_pkey_meths(e) == 1;
        if (keys_direct && keys_ec_ameth)
            ENGINE_set_default_pkey_asn1_meths(e);
        ENGINE_finish(e);   /* the registration keeps its own reference */
    }
    ENGINE_free(e);
#endif
}

bool x509_keys_init(void)
{
    pthread_once(&keys_once, keys_register);
    return keys_direct;
}
