/*
 * keys.c - see keys.h.  The ENGINE API is deprecated in OpenSSL 3.0 and
 * this is the one file that uses it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "x509/keys.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>

#ifndef OPENSSL_NO_ENGINE
#include <openssl/engine.h>
#endif

#ifndef OPENSSL_NO_ENGINE
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
    if (ENGINE_set_id(e, "pinscope-builtin-keys") &&
        ENGINE_set_name(e, "OpenSSL's built-in RSA and EC key methods") &&
        ENGINE_set_pkey_meths(e, keys_pmeths) && ENGINE_init(e)) {
        keys_direct = ENGINE_set_default_pkey_meths(e) == 1;
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
