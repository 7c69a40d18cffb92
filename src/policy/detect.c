/*
 * detect.c - interception detections (see detect.h).
 *
 * Each detection is one function over struct detect_conn that appends at
 * most one alert.  Reasons are written for an analyst who has not read this
 * file: what was seen, what was expected, what it usually means.
 */
#include "policy/detect.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect/answers.h"
#include "detect/legs.h"
#include "detect/resume.h"
#include "policy/policy.h"
#include "policy/roots.h"
#include "policy/sigdb.h"
#include "util/dnsname.h"

#define PRODUCT_CACHE 4096   /* chains remembered with their signature match (80 B each) */
#define FP_MEMO_N 8          /* fingerprint entries remembered per JA4 or JA3 */
#define FP_MEMO_SLOTS CFG_DETECT_FP_MEMO   /* JA4s remembered, and as many JA3s */
#define FP_MEMO_LEN 64       /* a JA4 or JA3 longer than this is looked up each time */

struct product_slot {
    char leaf_sha256[65];
    const struct sig_issuer *sig;   /* NULL: no match */
};

struct detect {
    const struct policy *pol;
    const struct sigdb *sigs;
    struct legs *legs;               /* shared by every worker's detector */
    bool own_legs;
    struct resume *resume;           /* the same */
    bool own_resume;
    struct answers *answers;         /* shared too */
    bool own_answers;
    struct product_slot products[PRODUCT_CACHE];
    /* Fingerprint entries found for the last few JA4s and JA3s: the
     * detections and the event's client_app ask for the same connection,
     * and most connections share one of a few JA4s (JA3s differ more:
     * clients that shuffle their extensions make a new one each time). */
    struct fp_memo {
        struct fp_memo_slot {
            bool used;
            char v[FP_MEMO_LEN];
            size_t n;                          /* entries found (may exceed FP_MEMO_N) */
            const struct sig_fp *fps[FP_MEMO_N];
        } s[FP_MEMO_SLOTS];
        unsigned next;
    } fp_memo[2];                              /* [0]: JA4, [1]: JA3 */
};

struct detect *detect_new_shared(const struct policy *pol, const struct sigdb *sigs,
                                 struct legs *legs, struct resume *resume,
                                 struct answers *answers)
{
    struct detect *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->pol = pol;
    d->sigs = sigs;
    d->legs = legs;
    d->answers = answers;
    if (!legs) {
        d->legs = legs_new();
        d->own_legs = true;
    }
    if (!answers) {
        d->answers = answers_new();
        d->own_answers = true;
    }
    if (!d->legs || !d->answers) {
        detect_free(d);
        return NULL;
    }
    d->resume = resume;
    if (!resume) {
        d->resume = resume_new(CFG_RESUME_MAX);
        d->own_resume = true;
        if (!d->resume) {
            detect_free(d);
            return NULL;
        }
    }
    return d;
}

struct detect *detect_new(const struct policy *pol, const struct sigdb *sigs)
{
    return detect_new_shared(pol, sigs, NULL, NULL, NULL);
}

void detect_free(struct detect *d)
{
    if (!d)
        return;
    if (d->own_legs)
        legs_free(d->legs);
    if (d->own_resume)
        resume_free(d->resume);
    if (d->own_answers)
        answers_free(d->answers);
    free(d);
}

/* ---- helpers ----------------------------------------------------------- */

static struct detect_alert *new_alert(struct detect_alert *out, size_t max, size_t *n,
                                      uint32_t sid, const char *sig, const char *cat,
                                      int severity, const char *confidence)
{
    if (*n >= max)
        return NULL;
    struct detect_alert *a = &out[(*n)++];
    memset(a, 0, sizeof(*a));
    a->sid = sid;
    a->signature = sig;
    a->category = cat;
    a->severity = severity;
    a->confidence = confidence;
    return a;
}

__attribute__((format(printf, 2, 3)))
static void reason(struct detect_alert *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void evidence(struct detect_alert *a, const char *key, const char *fmt, ...)
{
    if (a->n_ev >= DETECT_MAX_EVIDENCE)
        return;
    struct detect_evidence *e = &a->ev[a->n_ev++];
    e->key = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->value, sizeof(e->value), fmt, ap);
    va_end(ap);
}

static const struct x509_cert *leaf_of(const struct detect_conn *c)
{
    return c->chain && c->chain->n > 0 ? &c->chain->e[0]->info : NULL;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

bool detect_public_looking(const char *name)
{
    return dnsname_public(name);
}

/* ---- chain facts --------------------------------------------------------- */

/* The removed public root this chain leads to (policy/roots.h), if any. */
static bool removed_root(const struct detect *d, const struct detect_conn *c,
                         struct roots_match *m)
{
    const struct roots *r = sigdb_roots(d->sigs);
    if (!r)
        return false;
    const struct x509_cert *certs[TLS_CERTMSG_MAX_CERTS];
    size_t n = 0;
    for (; n < c->chain->n && n < TLS_CERTMSG_MAX_CERTS; n++)
        certs[n] = &c->chain->e[n]->info;
    return roots_match_chain(r, certs, n, m);
}

static const char *how_text(enum roots_how how)
{
    switch (how) {
    case ROOTS_BY_CERT:
        return "root certificate sent";
    case ROOTS_BY_SUBJECT:
        return "certificate with the root's name and key sent";
    case ROOTS_KEY_DIFFERS:
        return "certificate with the root's name and another key sent";
    default:
        return "issued under the root's name";
    }
}

/*
 * A chain that does not validate for a public name.  When it leads to a
 * root that left the public store (signatures/removed_roots.json) and the
 * capture predates the removal (plus CFG_ROOTS_GRACE_DAYS), the root was
 * public when the traffic was seen: a low-confidence finding of its own
 * replaces the interception alert.  Later captures keep the alert and say
 * when the root was removed.  A certificate carrying the root's name with
 * another key is no reason for leniency.
 */
static void check_untrusted(const struct detect *d, const struct detect_conn *c,
                            struct detect_alert *out, size_t max, size_t *n)
{
    const struct x509_cert *leaf = leaf_of(c);
    if (!leaf || c->chain->verify_error == 0 || !detect_public_looking(c->sni))
        return;
    struct roots_match m;
    bool removed = removed_root(d, c, &m);
    const struct removed_root *rr = m.root;
    int64_t now = (int64_t)(c->ts_us / 1000000);
    if (removed && m.how != ROOTS_KEY_DIFFERS &&
        now < rr->removed_epoch + (int64_t)CFG_ROOTS_GRACE_DAYS * 86400) {
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_REMOVED_ROOT,
                                           "chain to a root since removed from the public store",
                                           "interception", 3, "low");
        if (!a)
            return;
        reason(a, "The certificate chain for %s does not validate against today's trust store "
                  "(%s), but it leads to %s, a public root until %s: the connection was "
                  "captured while that root was still trusted, which explains the failure "
                  "better than interception.", c->sni, x509_verify_text(c->chain->verify_error),
               rr->label, rr->removed);
        evidence(a, "sni", "%s", c->sni);
        evidence(a, "validation", "%s", x509_verify_name(c->chain->verify_error));
        evidence(a, "removed_root", "%s", rr->subject_dn);
        evidence(a, "removed", "%s (%s store; grace %d days)", rr->removed, rr->store,
                 CFG_ROOTS_GRACE_DAYS);
        evidence(a, "matched", "%s", how_text(m.how));
        evidence(a, "source", "%s", rr->source);
        evidence(a, "issuer", "%s", or_dash(leaf->issuer.dn));
        return;
    }
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_UNTRUSTED_PUBLIC_NAME,
                                       "chain does not validate for a public name",
                                       "interception", 2, "medium");
    if (!a)
        return;
    reason(a, "The certificate chain for %s does not validate against the trust store "
              "(%s), which a public site's chain normally does; a proxy's own CA is the "
              "usual cause.", c->sni, x509_verify_text(c->chain->verify_error));
    evidence(a, "sni", "%s", c->sni);
    evidence(a, "validation", "%s", x509_verify_name(c->chain->verify_error));
    evidence(a, "issuer", "%s", or_dash(leaf->issuer.dn));
    if (removed && m.how == ROOTS_KEY_DIFFERS)
        evidence(a, "removed_root", "%s carries the name of %s with another key",
                 c->chain->e[m.cert_index]->info.sha256, rr->label);
    else if (removed)
        evidence(a, "removed_root", "%s, removed from the %s store at %s (still untrusted)",
                 rr->label, rr->store, rr->removed);
    if (removed)
        evidence(a, "removed_root_source", "%s", rr->source);
}

static void check_no_scts(const struct detect_conn *c, struct detect_alert *out, size_t max,
                          size_t *n)
{
    const struct x509_cert *leaf = leaf_of(c);
    if (!leaf || leaf->sct_count > 0 || leaf->is_ca || !detect_public_looking(c->sni))
        return;
    /* Chrome has required CT for every certificate issued since
     * 2018-04-30; older ones may carry none, and that says nothing. */
    if (!leaf->not_before.valid || leaf->not_before.epoch < DETECT_CT_REQUIRED_SINCE)
        return;
    /* Publicly trusted leaves have embedded SCTs since 2018 (Chrome's CT
     * policy); a validating chain without them is odd, a failing one
     * without them is what interception CAs mint. */
    bool trusted = c->chain->verify_error == 0;
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_NO_SCTS,
                                       "leaf without embedded SCTs", "interception",
                                       trusted ? 3 : 2, trusted ? "low" : "medium");
    if (!a)
        return;
    reason(a, "The certificate for %s carries no Certificate Transparency SCTs, which a "
              "public CA embeds in every certificate it issues; locally minted "
              "certificates lack them.", c->sni);
    evidence(a, "sni", "%s", c->sni);
    evidence(a, "expected", "embedded SCTs (>= 2)");
    evidence(a, "seen", "0");
    evidence(a, "issuer", "%s", or_dash(leaf->issuer.dn));
}

static void check_shared_key(const struct detect_conn *c, struct detect_alert *out, size_t max,
                             size_t *n)
{
    if (!leaf_of(c) || !c->chain->leaf_shares_issuer_key)
        return;
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_LEAF_SHARES_ISSUER_KEY,
                                       "leaf shares its issuer's key", "interception", 1,
                                       "high");
    if (!a)
        return;
    reason(a, "The server certificate for %s uses the same public key as the certificate "
              "that issued it; CAs never do this, but some interception tools (mitmproxy, "
              "Burp) sign their minted leaves this way.", or_dash(c->sni));
    evidence(a, "leaf_spki_sha256", "%s", c->chain->e[0]->info.spki_sha256);
    evidence(a, "issuer_spki_sha256", "%s", c->chain->e[1]->info.spki_sha256);
    evidence(a, "issuer", "%s", or_dash(c->chain->e[0]->info.issuer.dn));
}

/* Interception proxies mint a leaf per server name and backdate its
 * notBefore by whole days, so that a client clock a little behind still
 * accepts it: mitmproxy by 2 days, sslsplit by 1 (measured: the samples'
 * mitmproxy leaves are 172,800 s old at use, to the second).  A public CA's
 * leaf is exactly that old only by chance, in a ten-minute window.  (A
 * leaf "minted moments before use" fired on no real proxy and on many lab
 * certificates: it is gone.) */
static void check_just_minted(const struct detect_conn *c, struct detect_alert *out, size_t max,
                              size_t *n)
{
    const struct x509_cert *leaf = leaf_of(c);
    if (!leaf || c->chain->not_before_age_s < 0)
        return;
    int64_t age = c->chain->not_before_age_s;
    int days = 0;
    for (int d = 1; d <= 2; d++)
        if (age >= d * 86400 - DETECT_BACKDATE_SLACK_S && age <= d * 86400 + DETECT_BACKDATE_SLACK_S)
            days = d;
    if (!days)
        return;
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_JUST_MINTED,
                                       "leaf backdated by whole days", "interception", 2,
                                       "medium");
    if (!a)
        return;
    reason(a, "The certificate for %s became valid %lld seconds before this connection, %d "
              "day%s to within ten minutes: interception proxies mint a leaf on the fly and "
              "backdate it by whole days (mitmproxy 2, sslsplit 1).", or_dash(c->sni),
           (long long)age, days, days == 1 ? "" : "s");
    evidence(a, "not_before", "%s", leaf->not_before.iso);
    evidence(a, "age_seconds", "%lld", (long long)age);
    evidence(a, "issuer", "%s", or_dash(leaf->issuer.dn));
}

/* ---- the client's reaction ------------------------------------------------ */

static bool refusal_alert(uint8_t desc)
{
    switch (desc) {
    case 42: /* bad_certificate */
    case 43: /* unsupported_certificate */
    case 44: /* certificate_revoked */
    case 45: /* certificate_expired */
    case 46: /* certificate_unknown */
    case 48: /* unknown_ca */
    case 49: /* access_denied */
    case 51: /* decrypt_error (a pinning failure in some stacks) */
        return true;
    default:
        return false;
    }
}

/* Whether the client sent a handshake message, ChangeCipherSpec or alert
 * after the server's first Certificate (ssl_history: upper case is the
 * client's, 'x' the certificate). */
static bool client_spoke_after_certificate(const struct tls_session *t)
{
    const char *x = memchr(t->history, 'x', t->history_len);
    if (!x)
        return true;    /* not seen in order: do not guess */
    for (const char *p = x + 1; p < t->history + t->history_len; p++)
        if (*p >= 'A' && *p <= 'Z')
            return true;
    return t->history_cut;
}

/* TCP: the handshake completed and, in the wait after it (tls_post), the
 * client closed before sending any application data, the server not having
 * closed first: what a client checking a pin after the handshake (curl
 * --pinnedpubkey, OkHttp's CertificatePinner) does when the pin fails.  A
 * close with an alert (close_notify) counts anywhere in the wait; a bare
 * FIN or RST only within DETECT_BARE_CLOSE_MS (a browser dropping an
 * unused preconnection takes longer).  Handshake-only clients (health
 * checks, scanners) look the same, hence low severity. */
static void check_closed_after_handshake(const struct detect_conn *c, struct detect_alert *out,
                                         size_t max, size_t *n)
{
    const struct tls_session *t = c->tls;
    const struct tls_post *w = &t->post;
    if (!w->watching || t->progress != TLS_PROGRESS_COMPLETE || w->client_data ||
        !w->close_us || w->server_closed_first)
        return;
    uint64_t us = w->close_us > w->start_us ? w->close_us - w->start_us : 0;
    if (!w->client_alert && us > (uint64_t)DETECT_BARE_CLOSE_MS * 1000)
        return;
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_CLIENT_CLOSED_AFTER_HANDSHAKE,
                                       "client closed right after the handshake",
                                       "client-refused", 3, "medium");
    if (!a)
        return;
    char how[32];
    snprintf(how, sizeof(how), "%s%s%s", w->client_alert ? "alert" : "",
             w->client_alert && (w->client_fin || w->client_rst) ? "+" : "",
             w->client_rst ? "rst" : w->client_fin ? "fin" : "");
    reason(a, "The client of %s completed the handshake and closed the connection %.3f ms "
              "later (%s) without sending any application data: what a client that checks "
              "a pin after the handshake (curl --pinnedpubkey) does when the pin fails; a "
              "handshake-only client (a health check) looks the same.",
           or_dash(c->sni), (double)us / 1000.0, how);
    evidence(a, "closed_after_ms", "%.3f", (double)us / 1000.0);
    evidence(a, "client_close", "%s", how);
    evidence(a, "server_app_records", "%u", (unsigned)w->server_data);
    char vb[24];
    evidence(a, "version", "%s", tls_version_name(t->version, vb));
    if (leaf_of(c))
        evidence(a, "issuer", "%s", or_dash(leaf_of(c)->issuer.dn));
}

static void check_client_refused(const struct detect_conn *c, struct detect_alert *out,
                                 size_t max, size_t *n)
{
    const struct tls_session *t = c->tls;
    /* A fatal client alert right after the certificate flight (or read
     * with the session keys): a certificate alert is high confidence; any
     * other (a pinning callback failing makes OpenSSL send internal_error)
     * medium.  The first certificate alert wins, else the first other. */
    const struct tls_alert *cert = NULL, *other = NULL;
    for (unsigned i = 0; i < t->n_alerts; i++) {
        const struct tls_alert *al = &t->alerts[i];
        if (!al->from_client || al->encrypted || al->level != 2)
            continue;
        if (refusal_alert(al->description) && (al->after_certificate || al->decrypted)) {
            cert = al;
            break;
        }
        if (al->after_certificate && !other)
            other = al;
    }
    const struct tls_alert *al = cert ? cert : other;
    if (al) {
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_CLIENT_REFUSED_CERT,
                                           "client refused the server's certificate",
                                           "client-refused", cert ? 1 : 2,
                                           cert ? "high" : "medium");
        if (!a)
            return;
        if (cert)
            reason(a, "The client aborted the handshake with %s right after receiving the "
                      "certificate for %s: it did not trust what it was handed, as a pinning "
                      "or strict client does when a proxy intercepts it.",
                   tls_alert_name(al->description), or_dash(c->sni));
        else
            reason(a, "The client aborted the handshake with a fatal %s right after receiving "
                      "the certificate for %s: not a certificate alert, but what a pinning "
                      "check failing inside the client sends.",
                   tls_alert_name(al->description), or_dash(c->sni));
        evidence(a, "alert", "%s", tls_alert_name(al->description));
        evidence(a, "alert_code", "%u", al->description);
        if (cert && leaf_of(c))
            evidence(a, "issuer", "%s", or_dash(leaf_of(c)->issuer.dn));
        return;
    }
    /* No alert at all: the client saw the certificate (in clear, TLS 1.2
     * and before), sent nothing more and closed the connection first. */
    if (t->server_cert_seen && t->progress != TLS_PROGRESS_COMPLETE && c->client_closed_first &&
        !client_spoke_after_certificate(t)) {
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_CLIENT_LEFT_AFTER_CERT,
                                           "client closed after the certificate",
                                           "client-refused", 2, "medium");
        if (!a)
            return;
        reason(a, "The client of %s closed the connection right after the server's certificate, "
                  "without a key exchange or an alert: it did not accept what it was shown, as "
                  "a pinning client that drops the socket does.", or_dash(c->sni));
        if (leaf_of(c))
            evidence(a, "issuer", "%s", or_dash(leaf_of(c)->issuer.dn));
        evidence(a, "ssl_history", "%s", t->history);
        return;
    }
    if (t->client_aborted_tls13 && tls_session_is_13(t) && !t->keys_found) {
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_CLIENT_ABORTED_TLS13,
                                           "client closed TLS 1.3 before its Finished",
                                           "client-refused", 2, "medium");
        if (!a)
            return;
        reason(a, "After the server's encrypted certificate flight the client of %s sent "
                  "one alert-sized encrypted record instead of its Finished: most likely an "
                  "alert refusing the certificate (without session keys this cannot be "
                  "confirmed).", or_dash(c->sni));
        evidence(a, "version", "TLS 1.3");
        evidence(a, "keys", "none");
        return;
    }
    check_closed_after_handshake(c, out, max, n);
}

/* A client that offered ECH and ended with ech_required (121): the server
 * it reached did not take ECH, which a device terminating TLS in between,
 * or one stripping the extension, brings about (draft-ietf-tls-esni 6.1.6:
 * the client must then abort with ech_required).  The alert is readable
 * in clear or with the session keys. */
static void check_ech_required(const struct detect_conn *c, struct detect_alert *out, size_t max,
                               size_t *n)
{
    const struct tls_session *t = c->tls;
    if (!c->ech_offered)
        return;
    for (unsigned i = 0; i < t->n_alerts; i++) {
        const struct tls_alert *al = &t->alerts[i];
        if (!al->from_client || al->encrypted || al->description != 121)
            continue;
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_ECH_REQUIRED,
                                           "client required ECH and did not get it",
                                           "interception", 2, "medium");
        if (!a)
            return;
        reason(a, "The client of %s offered Encrypted Client Hello and aborted with "
                  "ech_required: what answered did not accept ECH, as a device that terminates "
                  "TLS on the way, or strips the extension, makes happen.", or_dash(c->sni));
        evidence(a, "alert", "ech_required");
        evidence(a, "decrypted", "%s", al->decrypted ? "yes" : "no");
        return;
    }
}

/* ---- policy --------------------------------------------------------------- */

static void join_values(const char *const *v, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        int w = snprintf(buf + o, cap - o, "%s%s", i ? "," : "", v[i]);
        if (w < 0 || (size_t)w >= cap - o)
            break;
        o += (size_t)w;
    }
}

static void check_pins(const struct detect *d, const struct detect_conn *c,
                       struct detect_alert *out, size_t max, size_t *n)
{
    if (!c->sni || !leaf_of(c))
        return;
    const struct policy_pin_set *set = policy_find_pinset(d->pol, c->sni, strlen(c->sni));
    if (!set)
        return;
    uint8_t spkis[TLS_CERTMSG_MAX_CERTS][32];
    for (size_t i = 0; i < c->chain->n; i++)
        memcpy(spkis[i], c->chain->e[i]->info.spki_sha256_raw, 32);
    struct policy_pin_result r;
    if (policy_pinset_check(set, (const uint8_t(*)[32])spkis, c->chain->n,
                            (int64_t)(c->ts_us / 1000000), &r) != 0 || r.matched)
        return;
    bool expired = r.expired;
    struct detect_alert *a = new_alert(out, max, n,
                                       expired ? DETECT_SID_PIN_EXPIRED_MISMATCH
                                               : DETECT_SID_PIN_MISMATCH,
                                       expired ? "pin mismatch (pin-set expired)" : "pin mismatch",
                                       "policy", expired ? 3 : 1, expired ? "low" : "high");
    if (!a)
        return;
    const struct x509_cert *leaf = &c->chain->e[0]->info;
    if (expired)
        reason(a, "No certificate served for %s matches its pin-set, but the pin-set has "
                  "expired, so the pins may simply be out of date.", c->sni);
    else
        reason(a, "No certificate served for %s matches the SPKI pins expected for it: the "
                  "client was handed a different key than the real server's, as an "
                  "interception proxy does.", c->sni);
    evidence(a, "domain", "%s%s", set->include_subdomains ? "*." : "", set->domain);
    evidence(a, "expected_pins", "%zu pins, %zu backup", set->pins.n, set->backup_pins.n);
    evidence(a, "seen_leaf_spki", "%s", leaf->spki_sha256);
    if (c->chain->n > 1)
        evidence(a, "seen_issuer_spki", "%s", c->chain->e[1]->info.spki_sha256);
    evidence(a, "issuer", "%s", or_dash(leaf->issuer.dn));
}

static void check_issuer(const struct detect *d, const struct detect_conn *c,
                         struct detect_alert *out, size_t max, size_t *n)
{
    if (!c->sni || !leaf_of(c))
        return;
    const struct policy_issuer_set *set = policy_find_issuers(d->pol, c->sni, strlen(c->sni));
    if (!set)
        return;
    const struct x509_cert *leaf = &c->chain->e[0]->info;
    const uint8_t *issuer_spki = NULL;
    if (c->chain->n > 1 && c->chain->linked)
        issuer_spki = c->chain->e[1]->info.spki_sha256_raw;
    struct policy_issuer_result r;
    if (policy_issuer_check(set, leaf->issuer.dn, leaf->issuer.cn, issuer_spki, &r) < 0)
        return;
    /* UNKNOWN: no expected name matched and the issuing certificate, whose
     * key an issuer pin could have matched, was not sent (mitmproxy sends
     * the leaf alone).  Still reported, with less confidence, when the
     * policy names its issuers. */
    bool unknown = r.verdict == POLICY_ISSUER_UNKNOWN;
    if (r.verdict == POLICY_ISSUER_MATCH || (unknown && set->issuers.n == 0))
        return;
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_UNEXPECTED_ISSUER,
                                       "unexpected issuer for the domain", "policy",
                                       unknown ? 2 : 1, unknown ? "medium" : "high");
    if (!a)
        return;
    char exp[160];
    join_values((const char *const *)set->issuers.v, set->issuers.n, exp, sizeof(exp));
    reason(a, "The certificate for %s was issued by %s, not by any CA the policy expects "
              "for this domain.", c->sni, or_dash(leaf->issuer.dn));
    evidence(a, "domain", "%s%s", set->include_subdomains ? "*." : "", set->domain);
    evidence(a, "expected", "%s", exp[0] ? exp : "(issuer pins)");
    evidence(a, "seen", "%s", or_dash(leaf->issuer.dn));
}

/* The alert a deviating attribute belongs to. */
static uint32_t baseline_sid(enum policy_attr attr, const char **sig)
{
    switch (attr) {
    case POLICY_ATTR_JA4:
    case POLICY_ATTR_JA3:
        *sig = "client fingerprint outside its baseline";
        return DETECT_SID_CLIENT_FP_BASELINE;
    case POLICY_ATTR_JA4S:
    case POLICY_ATTR_JA3S:
        *sig = "server fingerprint outside its baseline";
        return DETECT_SID_SERVER_FP_BASELINE;
    case POLICY_ATTR_JA4TS:
    case POLICY_ATTR_SERVER_TTL:
        *sig = "server TCP stack outside its baseline";
        return DETECT_SID_SERVER_STACK_BASELINE;
    case POLICY_ATTR_FLIGHT_BYTES:
    case POLICY_ATTR_HELLO_RETRY:
    case POLICY_ATTR_HELLO_DELAY:
        *sig = "server handshake shape outside its baseline";
        return DETECT_SID_SERVER_KEYLESS_BASELINE;
    case POLICY_ATTR_TLS_VERSION:
    case POLICY_ATTR_MIN_TLS_VERSION:
        *sig = "TLS version outside its baseline";
        return DETECT_SID_VERSION_DOWNGRADE;
    default:
        *sig = "ALPN outside its baseline";
        return DETECT_SID_ALPN_BASELINE;
    }
}

/*
 * The deviations of one baseline, one alert per kind: a JA4 and a JA3 that
 * both deviate are one "fingerprint" alert with both in its evidence.
 */
static void baseline_alerts(const struct detect_conn *c, const char *who, const char *name,
                            const struct policy_dev *dev, struct detect_alert *out, size_t max,
                            size_t *n)
{
    bool done[POLICY_DEV_MAX] = { false };
    for (size_t i = 0; i < dev->n; i++) {
        if (done[i])
            continue;
        const char *sig;
        uint32_t sid = baseline_sid(dev->item[i].attr, &sig);
        struct detect_alert *a = new_alert(out, max, n, sid, sig, "policy", 2, "medium");
        if (!a)
            return;
        char seen[200] = "";
        size_t o = 0;
        evidence(a, "baseline", "%s", name);
        for (size_t k = i; k < dev->n; k++) {
            const struct policy_dev_item *it = &dev->item[k];
            const char *unused;
            if (done[k] || baseline_sid(it->attr, &unused) != sid)
                continue;
            done[k] = true;
            char exp[170];
            const char *seen_v = it->seen ? it->seen : it->seen_num;
            if (it->expected)
                join_values(it->expected, it->n_expected, exp, sizeof(exp));
            else
                snprintf(exp, sizeof(exp), "%s", it->expected_num);
            /* Evidence keys are not copied: the attribute's own static
             * name for what was seen, a literal for what was expected. */
            evidence(a, it->key, "%s", or_dash(seen_v));
            evidence(a, it->attr == POLICY_ATTR_JA4 ? "expected_ja4" :
                        it->attr == POLICY_ATTR_JA3 ? "expected_ja3" :
                        it->attr == POLICY_ATTR_JA4S ? "expected_ja4s" :
                        it->attr == POLICY_ATTR_JA3S ? "expected_ja3s" :
                        it->attr == POLICY_ATTR_ALPN ? "expected_alpn" :
                        it->attr == POLICY_ATTR_JA4TS ? "expected_ja4ts" :
                        it->attr == POLICY_ATTR_SERVER_TTL ? "expected_server_ttl" :
                        it->attr == POLICY_ATTR_FLIGHT_BYTES ? "expected_server_flight_bytes" :
                        it->attr == POLICY_ATTR_HELLO_RETRY ? "expected_hello_retry" :
                        it->attr == POLICY_ATTR_HELLO_DELAY ? "expected_server_hello_delay_us"
                                                            : "expected_tls_version",
                     "%s", exp);
            int w = snprintf(seen + o, sizeof(seen) - o, "%s%s %s", o ? " and " : "", it->key,
                             or_dash(seen_v));
            if (w > 0 && (size_t)w < sizeof(seen) - o)
                o += (size_t)w;
        }
        reason(a, "The %s of %s (baseline \"%s\") presented %s, which its baseline does not "
                  "allow; a middlebox re-originating the connection changes exactly this.",
               who, or_dash(c->sni), name, seen);
    }
}

static const char *version_text(uint16_t v, char buf[24])
{
    return v ? tls_version_name(v, buf) : NULL;
}

static void check_baselines(const struct detect *d, const struct detect_conn *c,
                            struct detect_alert *out, size_t max, size_t *n)
{
    char vb[24];
    const char *version = version_text(c->tls->version, vb);
    size_t sni_len = c->sni ? strlen(c->sni) : 0;

    const struct policy_client_baseline *cb[8];
    size_t ncb = policy_find_client_baselines(d->pol, c->client_ip, c->ip_ver, c->sni, sni_len,
                                              c->server_ip, cb, 8);
    for (size_t i = 0; i < ncb && i < 8; i++) {
        struct policy_dev dev;
        if (policy_client_check(cb[i], c->ja4, c->ja3, version, c->alpn_client, &dev) > 0)
            baseline_alerts(c, "client", cb[i]->name, &dev, out, max, n);
    }

    const struct policy_server_baseline *sb[8];
    size_t nsb = policy_find_server_baselines(d->pol, c->client_ip, c->ip_ver, c->sni, sni_len,
                                              c->server_ip, sb, 8);
    for (size_t i = 0; i < nsb && i < 8; i++) {
        struct policy_dev dev;
        if (policy_server_check(sb[i], c->ja4s, c->ja3s, version, c->alpn_server, &dev) >= 0 &&
            policy_server_stack_check(sb[i], c->ja4ts, c->server_ttl, &dev) >= 0 &&
            policy_server_keyless_check(
                sb[i], c->has_flight_bytes ? (int64_t)c->flight_bytes : -1, c->hello_retry,
                c->has_hello_delay && c->hello_delay_us <= INT64_MAX ? (int64_t)c->hello_delay_us
                                                                     : -1,
                &dev) > 0)
            baseline_alerts(c, "server", sb[i]->name, &dev, out, max, n);
    }
}

static void detect_policy_checks(const struct detect *d, const struct detect_conn *c,
                                 struct detect_alert *out, size_t max, size_t *n)
{
    if (!d->pol)
        return;
    check_pins(d, c, out, max, n);
    check_issuer(d, c, out, max, n);
    check_baselines(d, c, out, max, n);
}

/* ---- signatures ----------------------------------------------------------- */

/* The interception product matching this chain, cached by leaf (a chain
 * match runs a few hundred regexec() calls). */
static const struct sig_issuer *chain_product(const struct detect *dc, const struct detect_conn *c)
{
    struct detect *d = (struct detect *)dc;   /* the cache is not observable state */
    const struct x509_cert *leaf = leaf_of(c);
    if (!d->sigs || !leaf)
        return NULL;
    size_t slot = 0;
    for (int i = 0; i < 6; i++) {
        char h = leaf->sha256[i];
        slot = slot * 16 + (size_t)(h <= '9' ? h - '0' : h - 'a' + 10);
    }
    slot %= PRODUCT_CACHE;
    struct product_slot *ps = &d->products[slot];
    if (strcmp(ps->leaf_sha256, leaf->sha256) == 0)
        return ps->sig;
    const struct x509_cert *certs[TLS_CERTMSG_MAX_CERTS];
    for (size_t i = 0; i < c->chain->n; i++)
        certs[i] = &c->chain->e[i]->info;
    struct sigdb_chain_facts facts = {
        .leaf_shares_issuer_key = c->chain->n > 1 ? (c->chain->leaf_shares_issuer_key ? SIGDB_YES
                                                                                      : SIGDB_NO)
                                                  : SIGDB_UNKNOWN,
        .chain_length = c->chain->total,
        .has_validity_days = true,
        .validity_days = c->chain->validity_days,
    };
    ps->sig = sigdb_match_chain(d->sigs, certs, c->chain->n, &facts);
    memcpy(ps->leaf_sha256, leaf->sha256, sizeof(ps->leaf_sha256));
    return ps->sig;
}

const char *detect_interception_product(const struct detect *d, const struct detect_conn *c)
{
    const struct sig_issuer *sig = chain_product(d, c);
    return sig ? sig->product : NULL;
}

/* Entries for one fingerprint (up to FP_MEMO_N into out), and how many
 * there are, from the memo of its type when it holds it. */
static size_t fp_find(struct detect *d, enum sig_fp_type type, const char *v,
                      const struct sig_fp **out)
{
    size_t len = strlen(v);
    if (len >= FP_MEMO_LEN)
        return sigdb_find_fingerprint(d->sigs, type, v, out, FP_MEMO_N);
    struct fp_memo *m = &d->fp_memo[type == SIG_FP_JA4 ? 0 : 1];
    struct fp_memo_slot *sl = m->s;
    for (int i = 0; i < FP_MEMO_SLOTS; i++, sl++)
        if (sl->used && memcmp(sl->v, v, len + 1) == 0)
            goto hit;
    sl = &m->s[m->next++ % FP_MEMO_SLOTS];
    sl->used = true;
    memcpy(sl->v, v, len + 1);
    sl->n = sigdb_find_fingerprint(d->sigs, type, v, sl->fps, FP_MEMO_N);
hit:
    memcpy(out, sl->fps, (sl->n < FP_MEMO_N ? sl->n : FP_MEMO_N) * sizeof(*out));
    return sl->n;
}

/* Fingerprint entries for the client (at most max <= FP_MEMO_N): JA4
 * first, then JA3. */
static size_t client_fps(const struct detect *dc, const struct detect_conn *c,
                         const struct sig_fp **out, size_t max)
{
    struct detect *d = (struct detect *)dc;   /* the memo is not observable state */
    if (!d->sigs)
        return 0;
    const struct sig_fp *fps[FP_MEMO_N];
    size_t n = 0;
    if (c->ja4)
        n = fp_find(d, SIG_FP_JA4, c->ja4, fps);
    if (n == 0 && c->ja3)
        n = fp_find(d, SIG_FP_JA3, c->ja3, fps);
    n = n < max ? n : max;
    n = n < FP_MEMO_N ? n : FP_MEMO_N;
    memcpy(out, fps, n * sizeof(*out));
    return n;
}

const char *detect_client_app(const struct detect *d, const struct detect_conn *c)
{
    const struct sig_fp *fps[8];
    size_t n = client_fps(d, c, fps, 8);
    for (size_t i = 0; i < n; i++)   /* prefer a known-good name */
        if (fps[i]->kind == SIG_KIND_KNOWN_GOOD)
            return fps[i]->application;
    return n ? fps[0]->application : NULL;
}

static void detect_signature_checks(struct detect *d, const struct detect_conn *c,
                                    struct detect_alert *out, size_t max, size_t *n)
{
    const struct sig_issuer *sig = chain_product(d, c);
    if (sig) {
        const struct x509_cert *leaf = leaf_of(c);
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_KNOWN_PRODUCT,
                                           "known interception product", "interception", 1,
                                           "high");
        if (a) {
            reason(a, "The certificate for %s was issued by %s (%s), an interception product: "
                      "this connection was decrypted and re-encrypted on the way.",
                   or_dash(c->sni), sig->product, sig->category);
            evidence(a, "product", "%s", sig->product);
            evidence(a, "signature", "%s", sig->id);
            evidence(a, "matched", "%s", sig->matched ? sig->matched : "-");
            evidence(a, "issuer", "%s", or_dash(leaf->issuer.dn));
            evidence(a, "source", "%s", sig->source);
        }
    }

    const struct sig_fp *fps[8];
    size_t nf = client_fps(d, c, fps, 8);
    const struct sig_fp *bad = NULL;
    bool also_good = false;
    for (size_t i = 0; i < nf; i++) {
        if (fps[i]->kind == SIG_KIND_KNOWN_INTERCEPTOR && !bad)
            bad = fps[i];
        if (fps[i]->kind == SIG_KIND_KNOWN_GOOD)
            also_good = true;
    }
    if (bad) {
        /* A JA3 alone (no JA4 entry matched) is weak: one IE11 client's
         * JA3 is listed as a proxy's.  Low confidence then, as when an
         * ordinary client shares the fingerprint. */
        bool weak = also_good || bad->type != SIG_FP_JA4;
        struct detect_alert *a = new_alert(out, max, n, DETECT_SID_KNOWN_INTERCEPTOR_FP,
                                           "known interceptor client fingerprint",
                                           "interception", weak ? 3 : 2, weak ? "low" : "medium");
        if (!a)
            return;
        reason(a, "The client of %s presented a TLS fingerprint listed for an interception "
                  "product (%s)%s; a fingerprint names a TLS library more than a product.",
               or_dash(c->sni), bad->application,
               also_good ? ", which an ordinary client also shares" : "");
        evidence(a, "fingerprint_type", "%s", sigdb_fp_type_name(bad->type));
        evidence(a, "fingerprint", "%s", bad->value);
        evidence(a, "product", "%s", bad->application);
        evidence(a, "source", "%s", bad->source);
    }
}

/* ---- two legs ------------------------------------------------------------- */

static void addr_text(uint8_t ver, const uint8_t *a, char *buf, size_t len)
{
    inet_ntop(ver == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

/* The other leg of one interception (detect/legs.c finds it). */
static void check_two_legs(struct detect *d, const struct detect_conn *c,
                           struct detect_alert *out, size_t max, size_t *n)
{
    const struct x509_cert *leaf = leaf_of(c);
    struct leg_match m;
    if (!legs_match_and_remember(d->legs, c, leaf ? leaf->sha256 : NULL,
                                 leaf ? or_dash(leaf->issuer.dn) : NULL, &m))
        return;
    const struct leg *l = &m.other;
    size_t al = c->ip_ver == 4 ? 4 : 16;
    int64_t now = (int64_t)(c->ts_us / 1000000);
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_TWO_LEGS,
                                       "both legs of one interception", "interception",
                                       1, m.other_leaf && (m.explicit_shape || m.by_connect) ? "high"
                                                                               : "medium");
    if (!a)
        return;
    char pa[48];
    long long dt = (long long)(now >= l->ts_s ? now - l->ts_s : l->ts_s - now);
    if (m.by_connect) {
        /* The CONNECT leg's server is the proxy; the other leg's client is
         * the address its upstream connection left from. */
        bool this_via = !l->via_connect;
        char up[48];
        addr_text(c->ip_ver, this_via ? c->server_ip : l->server_ip, pa, sizeof(pa));
        addr_text(c->ip_ver, this_via ? l->client_ip : c->client_ip, up, sizeof(up));
        uint64_t dus = c->ts_us >= l->ts_us ? c->ts_us - l->ts_us : l->ts_us - c->ts_us;
        unsigned port = this_via ? c->tls->connect_port : l->connect_port;
        reason(a, "A client asked the proxy at %s (HTTP CONNECT) for %s:%u, and %llu ms apart "
                  "%s opened its own TLS connection to %s port %u, shown another server "
                  "certificate: a proxy terminated the client's TLS and its upstream leaves "
                  "from another address.",
               pa, c->sni, port, (unsigned long long)(dus / 1000), up, c->sni, port);
        a->related_flow_id = l->flow_id;
        evidence(a, "proxy", "%s", pa);
        evidence(a, "proxy_upstream", "%s", up);
        evidence(a, "connect_target", "%s:%u", c->sni, port);
        evidence(a, "linked_by", "connect_target");
    } else if (m.explicit_shape) {
        addr_text(c->ip_ver, memcmp(l->server_ip, c->client_ip, al) == 0 ? c->client_ip
                                                                          : c->server_ip,
                  pa, sizeof(pa));
        reason(a, "Two connections for %s within %llds meet at %s, which is the server of "
                  "one and the client of the other, and they %s: a proxy terminated the "
                  "client's TLS and opened its own to the server.",
               c->sni, dt, pa,
               m.other_leaf ? "present different server certificates"
                            : "come from different TLS clients");
    } else {
        char ca[48], cb[48];
        addr_text(c->ip_ver, c->server_ip, pa, sizeof(pa));
        addr_text(c->ip_ver, c->client_ip, ca, sizeof(ca));
        addr_text(c->ip_ver, l->client_ip, cb, sizeof(cb));
        reason(a, "Within %llds two clients (%s, %s) reached %s at %s and were shown "
                  "different certificates: one of them is a transparent proxy's upstream "
                  "connection, the other its minted reply.", dt, ca, cb, c->sni, pa);
        evidence(a, "clients", "%s,%s", ca, cb);
    }
    if (!m.by_connect) {
        a->related_flow_id = l->flow_id;
        evidence(a, m.explicit_shape ? "proxy" : "server", "%s", pa);
    }
    evidence(a, "sni", "%s", c->sni);
    if (m.other_leaf) {
        evidence(a, "leaf_sha256_this_leg", "%s", leaf->sha256);
        evidence(a, "leaf_sha256_other_leg", "%s", l->leaf_sha256);
        evidence(a, "issuer_this_leg", "%s", or_dash(leaf->issuer.dn));
        evidence(a, "issuer_other_leg", "%s", or_dash(l->issuer));
    }
    if (m.other_fp) {
        evidence(a, "ja4_this_leg", "%s", c->ja4);
        evidence(a, "ja4_other_leg", "%s", l->ja4);
    }
}

/* ---- TLS 1.2 resumption ---------------------------------------------------- */

/* The key of a session: its kind and id (session_id bytes or the ticket's
 * SHA-256) at the server's address and port. */
static void resume_key_of(const struct detect_conn *c, enum resume_kind kind, const uint8_t *id,
                          size_t len, struct resume_key *k)
{
    memset(k, 0, sizeof(*k));
    k->kind = (uint8_t)kind;
    k->ip_ver = c->ip_ver;
    k->port = c->server_port;
    memcpy(k->server_ip, c->server_ip, c->ip_ver == 4 ? 4 : 16);
    k->id_len = (uint8_t)(len > 32 ? 32 : len);
    memcpy(k->id, id, k->id_len);
}

/* src (NULL: "") cut to cap - 1 bytes and terminated, as snprintf("%s"). */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* What a resumption inherits from this full handshake and its alerts. */
static void origin_of(struct detect *d, const struct detect_conn *c, const struct detect_alert *a,
                      size_t n, struct resume_origin *o)
{
    const struct x509_entry *e = c->chain->e[0];
    const struct x509_cert *leaf = &e->info;
    memset(o, 0, sizeof(*o));
    o->flow_id = c->flow_id;
    o->ts_s = (int64_t)(c->ts_us / 1000000);
    size_t p = 0;   /* "ab:cd:...", as tls.fingerprint */
    for (int i = 0; i < 20 && leaf->sha1[2 * i] && leaf->sha1[2 * i + 1]; i++) {
        if (i)
            o->fingerprint[p++] = ':';
        o->fingerprint[p++] = leaf->sha1[2 * i];
        o->fingerprint[p++] = leaf->sha1[2 * i + 1];
    }
    o->fingerprint[p] = '\0';
    copy_cut(o->leaf_sha256, sizeof(o->leaf_sha256), leaf->sha256);
    copy_cut(o->spki_sha256, sizeof(o->spki_sha256), leaf->spki_sha256);
    copy_cut(o->subject, sizeof(o->subject), leaf->subject.dn_eve);
    copy_cut(o->issuer, sizeof(o->issuer), leaf->issuer.dn_eve);
    copy_cut(o->product, sizeof(o->product), detect_interception_product(d, c));
    for (size_t i = 0; i < n; i++) {
        uint32_t sid = a[i].sid;
        if (sid == DETECT_SID_TWO_LEGS || sid == DETECT_SID_CLIENT_REFUSED_CERT ||
            sid == DETECT_SID_CLIENT_ABORTED_TLS13 || sid == DETECT_SID_CLIENT_LEFT_AFTER_CERT ||
            sid == DETECT_SID_CLIENT_CLOSED_AFTER_HANDSHAKE ||
            sid == DETECT_SID_RESUMED_FLAGGED || o->n_sids >= RESUME_SIDS)
            continue;
        o->sids[o->n_sids++] = sid;
        if (o->severity == 0 || a[i].severity < o->severity) {
            o->severity = a[i].severity;
            copy_cut(o->category, sizeof(o->category), a[i].category);
            copy_cut(o->confidence, sizeof(o->confidence), a[i].confidence);
        }
    }
}

/* The inherited verdict: one alert naming the origin and its alerts. */
static void inherited_alert(const struct resume_origin *o, const char *with,
                            const struct detect_conn *c, struct detect_alert *out, size_t max,
                            size_t *n)
{
    if (o->n_sids == 0)
        return;
    /* The alert's strings must outlive the copy *o: the family and
     * confidence named by the detections above. */
    const char *cat = strcmp(o->category, "policy") == 0 ? "policy" : "interception";
    const char *conf = strcmp(o->confidence, "high") == 0  ? "high"
                       : strcmp(o->confidence, "low") == 0 ? "low"
                                                           : "medium";
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_RESUMED_FLAGGED,
                                       "resumed session of a flagged connection", cat,
                                       o->severity, conf);
    if (!a)
        return;
    char sids[RESUME_SIDS * 9];
    size_t k = 0;
    sids[0] = '\0';
    for (uint8_t i = 0; i < o->n_sids; i++)
        k += (size_t)snprintf(sids + k, sizeof(sids) - k, "%s%u", i ? "," : "", o->sids[i]);
    reason(a, "This connection%s%s resumed (TLS 1.2 %s) the session of connection %llu, "
              "whose full handshake showed the certificate %s issued by %s and raised "
              "alert%s %s; a resumed connection shows no certificate but runs on that "
              "session's keys, so it inherits that verdict.",
           c->sni ? " to " : "", c->sni ? c->sni : "", with,
           (unsigned long long)o->flow_id, o->subject[0] ? o->subject : "-",
           o->issuer[0] ? o->issuer : "-", o->n_sids > 1 ? "s" : "", sids);
    a->related_flow_id = o->flow_id;
    evidence(a, "resumed_from", "%llu", (unsigned long long)o->flow_id);
    evidence(a, "resumed_with", "%s", with);
    evidence(a, "origin_sids", "%s", sids);
    evidence(a, "fingerprint", "%s", o->fingerprint);
    evidence(a, "subject", "%s", o->subject);
    evidence(a, "issuerdn", "%s", o->issuer);
    evidence(a, "spki_sha256", "%s", o->spki_sha256);
    if (o->product[0])
        evidence(a, "product", "%s", o->product);
}

size_t detect_resumption(struct detect *d, const struct detect_conn *c, struct detect_alert *out,
                         size_t n, size_t max, struct detect_resumed *res)
{
    memset(res, 0, sizeof(*res));
    const struct tls_session *t = c->tls;
    if (!t || t->version == 0 || tls_session_is_13(t) || t->transport == TLS_TRANSPORT_QUIC ||
        !c->server_ip)
        return n;
    struct resume_key k;
    struct resume_origin o;
    int64_t now = (int64_t)(c->ts_us / 1000000);
    if (t->resumed) {
        bool found = false;
        res->with = t->ch_ticket ? "session_ticket" : "session_id";
        if (t->ch_ticket) {
            resume_key_of(c, RESUME_TICKET, t->ch_ticket_sha256, 32, &k);
            found = resume_get(d->resume, &k, now, &o);
        }
        if (!found && t->ch_sid_len > 0 && t->sh_sid_len == t->ch_sid_len &&
            memcmp(t->ch_sid, t->sh_sid, t->ch_sid_len) == 0) {
            resume_key_of(c, RESUME_SESSION_ID, t->ch_sid, t->ch_sid_len, &k);
            if ((found = resume_get(d->resume, &k, now, &o)))
                res->with = "session_id";
        }
        if (!found) {
            res->unlinked = true;
            return n;
        }
        res->from = o.flow_id;
        inherited_alert(&o, res->with, c, out, max, &n);
        /* A renewed ticket resumes the same origin later. */
        if (t->new_ticket) {
            resume_key_of(c, RESUME_TICKET, t->new_ticket_sha256, 32, &k);
            res->evicted |= resume_put(d->resume, &k, &o);
        }
        return n;
    }
    if (!c->chain || c->chain->n == 0 || (t->sh_sid_len == 0 && !t->new_ticket))
        return n;
    origin_of(d, c, out, n, &o);
    if (t->sh_sid_len > 0) {
        resume_key_of(c, RESUME_SESSION_ID, t->sh_sid, t->sh_sid_len, &k);
        res->evicted |= resume_put(d->resume, &k, &o);
    }
    if (t->new_ticket) {
        resume_key_of(c, RESUME_TICKET, t->new_ticket_sha256, 32, &k);
        res->evicted |= resume_put(d->resume, &k, &o);
    }
    return n;
}

/*
 * One server name, two answers (no baseline): the same kind of client
 * (JA4) from two addresses within DETECT_ANSWERS_WINDOW_S got first
 * flights far apart or a HelloRetryRequest only one of them saw.  One of
 * the two was answered by something else than the origin; which one is
 * not known, so medium confidence, both flows in the evidence.
 */
static void check_two_answers(struct detect *d, const struct detect_conn *c,
                              struct detect_alert *out, size_t max, size_t *n)
{
    struct answer_match m;
    if (!answers_match_and_remember(d->answers, c, &m))
        return;
    const struct answer *o = &m.other;
    struct detect_alert *a = new_alert(out, max, n, DETECT_SID_TWO_ANSWERS,
                                       "one server name answered one kind of client two ways",
                                       "interception", 2, "medium");
    if (!a)
        return;
    char ca[48], cb[48];
    addr_text(c->ip_ver, c->client_ip, ca, sizeof(ca));
    addr_text(o->ip_ver, o->client_ip, cb, sizeof(cb));
    a->related_flow_id = o->flow_id;
    evidence(a, "sni", "%s", c->sni);
    evidence(a, "ja4", "%s", c->ja4);
    evidence(a, "clients", "%s,%s", ca, cb);
    if (m.flight_apart) {
        evidence(a, "server_flight_bytes_this", "%u", c->flight_bytes);
        evidence(a, "server_flight_bytes_other", "%u", o->flight_bytes);
    }
    if (m.hrr_differs) {
        evidence(a, "hello_retry_this", "%s", c->hello_retry);
        evidence(a, "hello_retry_other", "%s", o->hello_retry);
    }
    reason(a, "Two clients (%s, %s) with the same TLS fingerprint reached %s and were "
              "answered differently (%s%s%s): a server answers one offer the same way, so one "
              "of them went through something that terminates TLS.",
           ca, cb, c->sni, m.flight_apart ? "first encrypted flight size" : "",
           m.flight_apart && m.hrr_differs ? ", " : "",
           m.hrr_differs ? "HelloRetryRequest" : "");
}

/* ---- entry points ---------------------------------------------------------- */

size_t detect_run(struct detect *d, const struct detect_conn *c, struct detect_alert *out,
                  size_t max)
{
    size_t n = 0;
    detect_policy_checks(d, c, out, max, &n);
    detect_signature_checks(d, c, out, max, &n);
    check_untrusted(d, c, out, max, &n);
    check_no_scts(c, out, max, &n);
    check_shared_key(c, out, max, &n);
    check_just_minted(c, out, max, &n);
    check_client_refused(c, out, max, &n);
    check_ech_required(c, out, max, &n);
    check_two_legs(d, c, out, max, &n);
    check_two_answers(d, c, out, max, &n);
    return n;
}
