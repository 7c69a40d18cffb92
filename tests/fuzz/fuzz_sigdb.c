/*
 * fuzz_sigdb.c - libFuzzer target for policy/sigdb.c.
 *
 * The input is interception_issuers.json, optionally followed by a NUL
 * byte and known_fingerprints.json (without one, the fingerprint file is
 * an empty list).  Both are loaded with sigdb_load_buffers().  Failure to
 * load is fine; the error must be one NUL-terminated line.
 *
 * When it loads:
 *   - every issuer entry is read back, and the input is parsed again here
 *     (cJSON) for what the database does not hand out: the regexes and the
 *     fingerprint values;
 *   - sigdb_regex_literal() runs on every regex: the literal is "" or 3 to
 *     SIGDB_LITERAL_MAX letters and digits, and no string the regex matches
 *     (names made from the regexes themselves, the entries' products and
 *     pieces of the input) may lack it: the prefilter must never hide a
 *     regexec() match;
 *   - one-certificate chains are made from each entry's regexes (anchors
 *     and escapes dropped) and matched with sigdb_match_chain_ex(); the
 *     result must be the first entry, in file order, whose conditions all
 *     hold by a plain regexec() of each condition here;
 *   - longer chains (with NULL certificates) carry those names as CA
 *     subjects and issuers: the result must be consistent (role, index);
 *   - a second database loaded from the same bytes (another generation of
 *     the per-thread name cache) must give the same answers, and so must
 *     the first again after it;
 *   - sigdb_find_fingerprint() on every entry's value finds that entry
 *     among equal values in file order, the totals add up to
 *     sigdb_fp_count(), and strings that are not values find nothing.
 *
 * It checks memory safety (ASan/UBSan, leaks with LSan) and the checks
 * above; which inputs are accepted is test_sigdb.c's business.
 *
 *   make build-fuzz/fuzz_sigdb
 *   build-fuzz/fuzz_sigdb -max_total_time=60 tests/fuzz/seeds/fuzz_sigdb
 */
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "policy/sigdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUBJECT_NAME (SIG_F_SUBJECT_CN | SIG_F_SUBJECT_O | SIG_F_SUBJECT_OU | SIG_F_SUBJECT_DN)

static void check(bool cond)
{
    if (!cond)
        abort();
}

/* Regex condition keys of an issuer entry's "match" object. */
enum { K_ICN, K_IO, K_IOU, K_IDN, K_SCN, K_SO, K_SOU, K_SDN, K_NREGEX };
static const char *const rkeys[K_NREGEX] = {
    "issuer_cn_regex",  "issuer_o_regex",  "issuer_ou_regex",  "issuer_dn_regex",
    "subject_cn_regex", "subject_o_regex", "subject_ou_regex", "subject_dn_regex",
};

struct ent {
    const char *src[K_NREGEX];   /* regex text; NULL where absent */
    regex_t re[K_NREGEX];
    bool has[K_NREGEX];
    bool traits;                 /* some trait condition */
};

/* A regex's text as a plain string: anchors and backslashes dropped. */
static void plain(const char *re, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = re; *p && o + 1 < cap; p++) {
        if (*p == '^' || *p == '$')
            continue;
        if (*p == '\\' && p[1])
            p++;
        out[o++] = *p;
    }
    out[o] = '\0';
}

/* The literal of re, checked against s: every string the regex matches
 * contains it (case-insensitively). */
static void literal_sound(const char *src, const regex_t *re, const char *lit, const char *s)
{
    if (!lit[0] || regexec(re, s, 0, NULL, 0) != 0)
        return;
    if (!strcasestr(s, lit)) {
        fprintf(stderr, "prefilter hides a match: regex \"%s\", literal \"%s\", text \"%s\"\n",
                src, lit, s);
        abort();
    }
}

static void literal_shape(const char *lit)
{
    size_t n = strlen(lit);
    check(n == 0 || (n >= 3 && n <= SIGDB_LITERAL_MAX));
    for (size_t i = 0; i < n; i++)
        check(isalnum((unsigned char)lit[i]));
}

/* A name: CN, O, one OU (escaped into the DN this builds unless dn_given). */
struct nm {
    char cn[300], o[300], ou[300], dn[1100];
    bool dn_given;
};

static void dn_escape_append(char *dn, size_t cap, const char *v)
{
    size_t o = strlen(dn);
    for (; *v && o + 3 < cap; v++) {
        if (*v == ',' || *v == '+' || *v == '\\')
            dn[o++] = '\\';
        dn[o++] = *v;
    }
    dn[o] = '\0';
}

/* The name an entry's issuer_* (base 0) or subject_* (base 4) regexes
 * describe. */
static void name_from(const struct ent *e, int base, struct nm *n)
{
    memset(n, 0, sizeof *n);
    if (e->src[base + 0])
        plain(e->src[base + 0], n->cn, sizeof n->cn);
    if (e->src[base + 1])
        plain(e->src[base + 1], n->o, sizeof n->o);
    if (e->src[base + 2])
        plain(e->src[base + 2], n->ou, sizeof n->ou);
    if (e->src[base + 3]) {
        plain(e->src[base + 3], n->dn, sizeof n->dn);
        n->dn_given = true;
        return;
    }
    strcpy(n->dn, "CN=");
    dn_escape_append(n->dn, sizeof n->dn, n->cn);
    strcat(n->dn, ",OU=");
    dn_escape_append(n->dn, sizeof n->dn, n->ou);
    strcat(n->dn, ",O=");
    dn_escape_append(n->dn, sizeof n->dn, n->o);
}

static void to_cert_name(struct nm *n, struct x509_cert_name *out)
{
    memset(out, 0, sizeof *out);
    out->cn = n->cn;
    out->o = n->o;
    out->dn = n->dn;
}

/* Whether e's conditions of one side (base 0 or 4) hold on n: 1 yes,
 * 0 no, -1 unknown (an OU condition on a DN this did not build). */
static int side_holds(const struct ent *e, int base, const struct nm *n)
{
    int r = 1;
    for (int k = base; k < base + 4; k++) {
        if (!e->has[k])
            continue;
        const char *v = k - base == 0 ? n->cn : k - base == 1 ? n->o : k - base == 2 ? n->ou
                                                                                     : n->dn;
        if (k - base == 2 && n->dn_given) {
            r = -1;
            continue;
        }
        if (regexec(&e->re[k], v, 0, NULL, 0) != 0)
            return 0;
    }
    return r;
}

static bool has_side(const struct ent *e, int base)
{
    return e->has[base] || e->has[base + 1] || e->has[base + 2] || e->has[base + 3];
}

/* Every answer of db for one chain, to compare two databases. */
struct answer {
    const struct sig_issuer *sig;
    size_t index;
    enum sig_name_role role;
    size_t cert_index;
};

static struct answer match(const struct sigdb *db, const struct x509_cert *const *chain, size_t n,
                           const struct sigdb_chain_facts *facts)
{
    struct sig_match m;
    memset(&m, 0x5a, sizeof m);
    const struct sig_issuer *r = sigdb_match_chain_ex(db, chain, n, facts, &m);
    check(r == m.sig);
    check(r == sigdb_match_chain(db, chain, n, facts));
    struct answer a = {.sig = r};
    if (!r) {
        check(m.role == SIG_NAME_NONE && m.cert_index == 0);
        return a;
    }
    check(r->index < sigdb_issuer_count(db) && sigdb_issuer_at(db, r->index) == r);
    check(n > 0);
    a.index = r->index;
    a.role = m.role;
    a.cert_index = m.cert_index;
    if (!(r->fields & SIG_F_ISSUER_NAME)) {
        check(m.role == SIG_NAME_NONE && m.cert_index == 0);
    } else {
        check(m.role != SIG_NAME_NONE);
        check(m.cert_index < n && m.cert_index < SIGDB_CHAIN_MAX);
        check((m.role == SIG_NAME_LEAF_ISSUER) == (m.cert_index == 0));
        check(chain[m.cert_index] != NULL);
    }
    if (r->fields & SUBJECT_NAME)
        check(chain[0] != NULL);
    return a;
}

static bool same(struct answer a, struct answer b)
{
    return (a.sig == NULL) == (b.sig == NULL) && a.index == b.index && a.role == b.role &&
           a.cert_index == b.cert_index;
}

static void split(const uint8_t *data, size_t size, const char **iss, size_t *il,
                  const char **fps, size_t *fl)
{
    static const char empty[] = "{\"version\":1,\"entries\":[]}";
    const uint8_t *z = memchr(data, 0, size);
    *iss = (const char *)data;
    if (z) {
        *il = (size_t)(z - data);
        *fps = (const char *)z + 1;
        *fl = size - *il - 1;
    } else {
        *il = size;
        *fps = empty;
        *fl = sizeof empty - 1;
    }
}

/* Pieces of the input as NUL-terminated strings (for names and values). */
static void piece(const uint8_t *data, size_t size, size_t at, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = at; i < size && o < len; i++)
        out[o++] = data[i] ? (char)data[i] : ' ';
    out[o] = '\0';
}

static void fingerprints(const struct sigdb *db, const cJSON *froot, const uint8_t *data,
                         size_t size)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(froot, "entries");
    check(cJSON_IsArray(arr));
    size_t n = (size_t)cJSON_GetArraySize(arr), pos = 0, sum = 0;
    check(n == sigdb_fp_count(db));
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const char *ts = cJSON_GetObjectItemCaseSensitive(it, "type")->valuestring;
        const char *v = cJSON_GetObjectItemCaseSensitive(it, "value")->valuestring;
        enum sig_fp_type t = SIG_FP_TYPE_COUNT;
        for (int k = 0; k < SIG_FP_TYPE_COUNT; k++)
            if (strcmp(sigdb_fp_type_name((enum sig_fp_type)k), ts) == 0)
                t = (enum sig_fp_type)k;
        check(t != SIG_FP_TYPE_COUNT);
        const struct sig_fp *out[8];
        size_t total = sigdb_find_fingerprint(db, t, v, out, 8);
        check(total >= 1 && total <= n);
        check(sigdb_find_fingerprint(db, t, v, NULL, 0) == total);
        bool seen_self = total > 8;
        for (size_t i = 0; i < total && i < 8; i++) {
            check(out[i]->type == t && strcmp(out[i]->value, v) == 0);
            check(out[i]->application && out[i]->category && out[i]->source &&
                  out[i]->comment && out[i]->kind_name);
            check(out[i]->index < n);
            check(i == 0 || out[i - 1]->index < out[i]->index);
            if (out[i]->index == pos)
                seen_self = true;
            if (out[i]->index < pos)   /* count each distinct value once */
                goto next;
        }
        check(seen_self);
        sum += total;
    next:
        /* The same value with its last character changed, another type. */
        {
            char alt[128];
            snprintf(alt, sizeof alt, "%s", v);
            size_t l = strlen(alt);
            if (l) {
                alt[l - 1] = alt[l - 1] == '0' ? '1' : '0';
                const struct sig_fp *o1[2];
                size_t c = sigdb_find_fingerprint(db, t, alt, o1, 2);
                for (size_t i = 0; i < c && i < 2; i++)
                    check(o1[i]->type == t && strcmp(o1[i]->value, alt) == 0);
            }
            enum sig_fp_type t2 = (enum sig_fp_type)((t + 1) % SIG_FP_TYPE_COUNT);
            const struct sig_fp *o2[2];
            size_t c = sigdb_find_fingerprint(db, t2, v, o2, 2);
            for (size_t i = 0; i < c && i < 2; i++)
                check(o2[i]->type == t2 && strcmp(o2[i]->value, v) == 0);
        }
        pos++;
    }
    check(sum == n);
    /* Strings from the input, and out-of-range arguments. */
    for (size_t at = 0; at < size && at < 4 * 64; at += 64) {
        char s[80];
        piece(data, size, at, 36, s);
        for (int k = 0; k < SIG_FP_TYPE_COUNT; k++) {
            const struct sig_fp *o[2];
            size_t c = sigdb_find_fingerprint(db, (enum sig_fp_type)k, s, o, 2);
            for (size_t i = 0; i < c && i < 2; i++)
                check((int)o[i]->type == k && strcmp(o[i]->value, s) == 0);
        }
    }
    check(sigdb_find_fingerprint(db, SIG_FP_TYPE_COUNT, "x", NULL, 0) == 0);
    check(sigdb_find_fingerprint(db, SIG_FP_JA3, NULL, NULL, 0) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *iss, *fps;
    size_t il, fl;
    split(data, size, &iss, &il, &fps, &fl);
    char err[512];
    memset(err, 'x', sizeof err);
    struct sigdb *db = sigdb_load_buffers("iss.json", iss, il, "fps.json", fps, fl, err,
                                          sizeof err);
    if (!db) {
        size_t n = strnlen(err, sizeof err);
        check(n > 0 && n < sizeof err && !memchr(err, '\n', n));
        return 0;
    }
    check(sigdb_roots(db) == NULL);
    struct sigdb *db2 = sigdb_load_buffers(NULL, iss, il, NULL, fps, fl, err, sizeof err);
    check(db2 != NULL);

    /* What the database does not hand out, from the input. */
    cJSON *iroot = cJSON_ParseWithLength(iss, il);
    cJSON *froot = cJSON_ParseWithLength(fps, fl);
    check(iroot && froot);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(iroot, "entries");
    size_t n = sigdb_issuer_count(db);
    check(cJSON_IsArray(arr) && (size_t)cJSON_GetArraySize(arr) == n);
    check(sigdb_issuer_count(db2) == n && sigdb_fp_count(db2) == sigdb_fp_count(db));
    check(sigdb_issuer_at(db, n) == NULL);
    struct ent *ents = calloc(n ? n : 1, sizeof *ents);
    check(ents != NULL);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const struct sig_issuer *e = sigdb_issuer_at(db, i);
        check(e && e->index == i && e->id && e->product && e->category && e->kind &&
              e->source && e->source[0] && e->comment && e->matched && e->n_cond > 0);
        check(strcmp(e->id, cJSON_GetObjectItemCaseSensitive(it, "id")->valuestring) == 0);
        check(strcmp(sigdb_issuer_at(db2, i)->id, e->id) == 0);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "match");
        unsigned fields = 0;
        for (const cJSON *c = m->child; c; c = c->next) {
            int k = 0;
            while (k < K_NREGEX && strcmp(rkeys[k], c->string) != 0)
                k++;
            if (k == K_NREGEX) {
                ents[i].traits = true;
            } else {
                ents[i].src[k] = c->valuestring;
                check(regcomp(&ents[i].re[k], c->valuestring,
                              REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0);
                ents[i].has[k] = true;
            }
            unsigned f = 0;
            for (unsigned b = 1; b <= SIG_F_MAX_VALIDITY; b <<= 1)
                if (strcmp(sigdb_field_name(b), c->string) == 0)
                    f = b;
            check(f != 0);
            fields |= f;
        }
        check(fields == e->fields);
        i++;
    }
    check(i == n);

    /* Strings the literals are checked against. */
    enum { NS_INPUT = 6 };
    size_t nstr = 3 * n + NS_INPUT;
    char (*strs)[300] = calloc(nstr, sizeof *strs);
    check(strs != NULL);
    size_t ns = 0;
    for (i = 0; i < n; i++) {
        for (int k = 0; k < K_NREGEX; k++)
            if (ents[i].src[k]) {
                plain(ents[i].src[k], strs[ns], sizeof strs[ns]);
                break;
            }
        ns++;
        snprintf(strs[ns++], sizeof strs[0], "%s", sigdb_issuer_at(db, i)->product);
        snprintf(strs[ns++], sizeof strs[0], "x %s y", sigdb_issuer_at(db, i)->id);
    }
    for (int k = 0; k < NS_INPUT; k++)
        piece(data, size, size / NS_INPUT * (size_t)k, 40 + 20 * (size_t)k, strs[ns++]);
    for (i = 0; i < n; i++)
        for (int k = 0; k < K_NREGEX; k++) {
            if (!ents[i].src[k])
                continue;
            char lit[SIGDB_LITERAL_MAX + 1];
            sigdb_regex_literal(ents[i].src[k], lit);
            literal_shape(lit);
            for (size_t s = 0; s < ns; s++)
                literal_sound(ents[i].src[k], &ents[i].re[k], lit, strs[s]);
            struct nm own;
            name_from(&ents[i], k < 4 ? 0 : 4, &own);
            literal_sound(ents[i].src[k], &ents[i].re[k], lit, own.cn);
            literal_sound(ents[i].src[k], &ents[i].re[k], lit, own.o);
            literal_sound(ents[i].src[k], &ents[i].re[k], lit, own.ou);
            literal_sound(ents[i].src[k], &ents[i].re[k], lit, own.dn);
        }

    /* One-certificate chains from each entry's names, all traits true:
     * the first entry that holds, by this file's own regexec(). */
    struct sigdb_chain_facts facts = {.leaf_shares_issuer_key = SIGDB_YES, .chain_length = 1,
                                      .has_validity_days = true, .validity_days = 1};
    struct nm *in = malloc(sizeof *in), *sn = malloc(sizeof *sn);
    check(in && sn);
    for (i = 0; i < n; i++) {
        name_from(&ents[i], 0, in);
        name_from(&ents[i], 4, sn);
        struct x509_cert leaf;
        memset(&leaf, 0, sizeof leaf);
        to_cert_name(in, &leaf.issuer);
        to_cert_name(sn, &leaf.subject);
        const struct x509_cert *chain[1] = {&leaf};
        struct answer a = match(db, chain, 1, &facts);
        /* The expected answer: the first entry whose conditions hold. */
        bool known = true;
        size_t want = n;
        for (size_t j = 0; j < n && want == n; j++) {
            int h1 = has_side(&ents[j], 0) ? side_holds(&ents[j], 0, in) : 1;
            int h2 = has_side(&ents[j], 4) ? side_holds(&ents[j], 4, sn) : 1;
            if (h1 == 0 || h2 == 0)
                continue;
            if (h1 < 0 || h2 < 0) {
                known = false;
                break;
            }
            want = j;
        }
        if (known) {
            if (want == n) {
                check(a.sig == NULL);
            } else if (!a.sig || a.index != want) {
                fprintf(stderr, "entry %zu's names: matched %s, want entry %zu\n", i,
                        a.sig ? a.sig->id : "nothing", want);
                abort();
            }
        }
        check(same(a, match(db, chain, 1, &facts)));   /* from the name cache */
        check(same(a, match(db2, chain, 1, &facts)));  /* another generation */
        check(same(a, match(db, chain, 1, &facts)));
        /* Without facts, a lone leaf without validity: the key and
         * lifetime traits cannot hold. */
        struct answer b = match(db, chain, 1, NULL);
        check(!b.sig || !(b.sig->fields & (SIG_F_LEAF_SHARES_KEY | SIG_F_MAX_VALIDITY)));
    }

    /* Longer chains: the names as CA subjects and issuers, with holes. */
    for (i = 0; i < n; i++) {
        struct nm *names = calloc(4, sizeof *names);
        check(names != NULL);
        name_from(&ents[i], 0, &names[0]);
        name_from(&ents[(i + 1) % n], 0, &names[1]);
        name_from(&ents[i], 4, &names[2]);
        piece(data, size, i * 7 % (size ? size : 1), 64, names[3].cn);
        piece(data, size, i * 13 % (size ? size : 1), 64, names[3].o);
        snprintf(names[3].dn, sizeof names[3].dn, "CN=%s,OU=%s", names[3].cn, names[3].o);
        struct x509_cert certs[4];
        memset(certs, 0, sizeof certs);
        to_cert_name(&names[2], &certs[0].subject);
        to_cert_name(&names[3], &certs[0].issuer);
        to_cert_name(&names[3], &certs[1].subject);
        to_cert_name(&names[0], &certs[1].issuer);
        to_cert_name(&names[0], &certs[3].subject);
        to_cert_name(&names[1], &certs[3].issuer);
        certs[0].not_before.valid = certs[0].not_after.valid = true;
        certs[0].not_after.epoch = (int64_t)(data[i % size] * 86400);
        certs[0].skid = (i & 1) ? (char *)"00" : NULL;
        const struct x509_cert *chain[20] = {&certs[0], &certs[1], NULL, &certs[3]};
        for (size_t k = 4; k < 20; k++)
            chain[k] = &certs[k % 2 ? 3 : 1];
        for (size_t len = 0; len <= 20; len += (len < 5 ? 1 : 15)) {
            struct answer a = match(db, chain, len, NULL);
            check(len > 0 || a.sig == NULL);
            check(same(a, match(db2, chain, len, NULL)));
            check(same(a, match(db, chain, len, NULL)));
        }
        const struct x509_cert *holes[3] = {NULL, &certs[3], &certs[1]};
        struct answer h = match(db, holes, 3, NULL);
        check(!h.sig || h.role != SIG_NAME_LEAF_ISSUER);
        free(names);
    }
    check(sigdb_match_chain_ex(db, NULL, 1, NULL, NULL) == NULL);

    fingerprints(db, froot, data, size);
    check(sigdb_find_fingerprint(NULL, SIG_FP_JA3, "x", NULL, 0) == 0);

    for (i = 0; i < n; i++)
        for (int k = 0; k < K_NREGEX; k++)
            if (ents[i].has[k])
                regfree(&ents[i].re[k]);
    free(in);
    free(sn);
    free(strs);
    free(ents);
    cJSON_Delete(iroot);
    cJSON_Delete(froot);
    sigdb_free(db2);
    sigdb_free(db);
    return 0;
}
