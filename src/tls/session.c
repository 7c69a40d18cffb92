/*
 * session.c - TLS record layer, handshake framing and preamble detection
 * for one TCP connection (see session.h).
 *
 *   TLSPlaintext (RFC 8446 5.1):  type(1) legacy_version(2) length(2) fragment
 *   Handshake    (RFC 8446 4):    msg_type(1) length(3) body
 *   Alert        (RFC 8446 6):    level(1) description(1)
 *   SSLv2 CLIENT-HELLO (draft-hickman-netscape-ssl-00, RFC 6101 E.1):
 *                 len(2, high bit set) msg_type(1)=1 version(2) ...
 *
 * A handshake record is walked in place: the record stays in the caller's
 * stream until all of it has been looked at, so a hello found in the middle
 * of a record can be returned to the caller and the walk resumed on the next
 * call (d->rec_pos).  Only ClientHello and ServerHello bodies are copied
 * (into d->hs); every other message is skipped by length.
 *
 * Shortcut, admitted: after the first ServerHello of TLS 1.3 the rest of the
 * handshake is encrypted; the handshake is taken as complete when the client
 * sends its first application_data record after it (its Finished).  An
 * encrypted alert from the client looks the same; tls/ cannot tell them
 * apart without keys.
 */
#include "tls/session.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "tls/certmsg.h"
#include "tls/frames.h"
#include "util/algs.h"
#include "util/rd.h"

#define TLS_CT_CCS        20
#define TLS_CT_ALERT      21
#define TLS_CT_HANDSHAKE  22
#define TLS_CT_APPDATA    23
#define TLS_CT_HEARTBEAT  24

#define TLS_HS_CLIENT_HELLO  1
#define TLS_HS_SERVER_HELLO  2
#define TLS_HS_NEW_SESSION_TICKET 4
#define TLS_HS_CERTIFICATE  11
#define TLS_HS_SERVER_KEY_EXCHANGE 12
#define TLS_HS_FINISHED     20
#define TLS_HS_COMPRESSED_CERTIFICATE 25   /* RFC 8879 */

#define TLS_RECORD_MAX (16384 + 2048)  /* TLSCiphertext limit, RFC 5246 6.2.3 */
/* A protected TLS 1.3 alert: 2 bytes, the inner content type and the
 * AEAD tag, 16 bytes (GCM, ChaCha20-Poly1305, CCM) or 8 (CCM_8).  Nothing
 * else the client sends first is that short: its Finished is at least
 * 32 + 1 + 8 bytes, an empty Certificate (no client certificate to give)
 * 8 + 1 + tag, 17 or 25. */
#define TLS13_ALERT_RECORD(len) ((len) == 2 + 1 + 16 || (len) == 2 + 1 + 8)
#define PREAMBLE_BINARY_MAX 1024       /* bytes scanned after a binary preamble */

void tls_session_init(struct tls_session *s)
{
    memset(s, 0, sizeof(*s));
    s->client = -1;
    s->connect_dir = -1;
}

static void release_cipher(struct tls_dir *d, struct memcap *mc)
{
    if (d->cipher) {
        tls13_dir_cipher_release(d->cipher);
        memcap_free(mc, d->cipher, sizeof(*d->cipher));
        d->cipher = NULL;
    }
    memcap_free(mc, d->plain, TLS13_MAX_CIPHERTEXT);
    d->plain = NULL;
    d->plain_len = 0;
}

void tls_session_release(struct tls_session *s, struct memcap *mc)
{
    for (int i = 0; i < 2; i++) {
        struct tls_dir *d = &s->d[i];
        memcap_free(mc, d->hs, d->hs_cap);
        d->hs = NULL;
        d->hs_cap = d->hs_len = 0;
        memcap_free(mc, d->decomp, d->decomp_cap);
        d->decomp = NULL;
        d->decomp_cap = 0;
        release_cipher(d, mc);
        if (d->fr) {
            tls_frames_release(d->fr, mc);
            memcap_free(mc, d->fr, sizeof(*d->fr));
            d->fr = NULL;
        }
    }
}

static bool dir_active(const struct tls_dir *d)
{
    return d->mode != TLS_DIR_DONE && d->mode != TLS_DIR_NOT_TLS;
}

bool tls_session_finished(const struct tls_session *s)
{
    if (s->progress == TLS_PROGRESS_COMPLETE)
        return true;
    if (s->progress == TLS_PROGRESS_NONE &&
        (s->d[0].mode == TLS_DIR_NOT_TLS || s->d[1].mode == TLS_DIR_NOT_TLS))
        return true;
    return !dir_active(&s->d[0]) && !dir_active(&s->d[1]);
}

static void set_progress(struct tls_session *s, enum tls_progress p)
{
    if (p > s->progress)
        s->progress = (uint8_t)p;
}

/* ---- detection and preambles ------------------------------------------ */

/* A plausible TLS record header carrying a hello at the start of r:
 *   16 03 0x LL LL  1|2  HH HH HH  03 */
static bool looks_like_hello_record(const uint8_t *p, size_t n)
{
    return n >= 10 && tls_hello_record_prefix(p, n);
}

static bool is_text_byte(uint8_t c)
{
    return c == '\t' || c == '\r' || c == '\n' || (c >= 0x20 && c != 0x7f);
}

/* True if p[0..n) is text without a line end (a line still arriving). */
static bool all_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_text_byte(p[i]) || p[i] == '\n')
            return false;
    return true;
}

static bool prefix_ci(const uint8_t *p, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++) {
        uint8_t c = p[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        uint8_t w = (uint8_t)kw[i];
        if (w >= 'a' && w <= 'z')
            w = (uint8_t)(w - 32);
        if (c != w)
            return false;
    }
    return true;
}

/* The line at p (up to its '\n' or n) contains `word`, any case. */
static bool line_has_ci(const uint8_t *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t i = 0; i + k <= n && p[i] != '\n'; i++)
        if (prefix_ci(p + i, n - i, word))
            return true;
    return false;
}

/* Name the protocol from one line of text (either side: a server's
 * Upgrade header names its side's framing too). */
static enum tls_tunnel classify_line(const uint8_t *p, size_t n, enum tls_tunnel cur)
{
    if (prefix_ci(p, n, "Upgrade:")) {
        if (cur != TLS_TUNNEL_TEXT && cur != TLS_TUNNEL_HTTP_UPGRADE)
            return cur;
        return line_has_ci(p, n, "websocket") ? TLS_TUNNEL_WEBSOCKET : TLS_TUNNEL_HTTP_UPGRADE;
    }
    if (prefix_ci(p, n, "CONNECT "))
        return TLS_TUNNEL_HTTP_CONNECT;
    if (prefix_ci(p, n, "EHLO ") || prefix_ci(p, n, "HELO "))
        return TLS_TUNNEL_SMTP;
    if (prefix_ci(p, n, "STLS"))
        return TLS_TUNNEL_POP3;
    if (prefix_ci(p, n, "AUTH TLS") || prefix_ci(p, n, "AUTH SSL"))
        return TLS_TUNNEL_FTP;
    if (prefix_ci(p, n, "<?xml") || prefix_ci(p, n, "<stream:stream") ||
        prefix_ci(p, n, "<starttls"))
        return TLS_TUNNEL_XMPP;
    if (prefix_ci(p, n, "STARTTLS"))
        return cur == TLS_TUNNEL_TEXT ? TLS_TUNNEL_SMTP : cur;
    /* IMAP: "<tag> STARTTLS" */
    size_t i = 0;
    while (i < n && i < 32 && p[i] != ' ')
        i++;
    if (i > 0 && i < n && prefix_ci(p + i + 1, n - i - 1, "STARTTLS") &&
        cur == TLS_TUNNEL_TEXT)
        return TLS_TUNNEL_IMAP;
    return cur;
}

/*
 * Classify the first bytes of a direction.  Returns the mode to enter, or
 * -1 when more bytes are needed.  Sets *skip for preambles whose length is
 * known from their first bytes.
 */
static int detect(struct tls_dir *d, const uint8_t *p, size_t n)
{
    if (n < 1)
        return -1;
    /* A handshake record, or an alert (a server refusing a ClientHello
     * answers with an alert before any handshake message). */
    if (p[0] == TLS_CT_HANDSHAKE || p[0] == TLS_CT_ALERT) {
        if (n < 3)
            return -1;
        return (p[1] == 3 && p[2] <= 4) ? TLS_DIR_RECORDS : TLS_DIR_NOT_TLS;
    }
    /* Binary preambles: exact first bytes, then TLS follows after a short,
     * structured exchange that we scan for a hello record. */
    if (n < 2)
        return -1;
    /* TDS: a PRELOGIN packet (0x12) or the server's reply (0x04), down to
     * its option table; the TLS after it travels in TDS packets.  Before
     * SOCKS4, whose request also starts 04 01. */
    if (p[0] == 0x12 || p[0] == 0x04) {
        int t = tls_tds_prelogin(p, n);
        if (t < 0)
            return -1;
        if (t > 0) {
            d->preamble_kind = TLS_TUNNEL_TDS;
            return TLS_DIR_PREAMBLE;
        }
    }
    if (p[0] == 0x04 && (p[1] == 1 || p[1] == 2)) {
        d->preamble_kind = TLS_TUNNEL_SOCKS4;
        return TLS_DIR_PREAMBLE;
    }
    if (p[0] == 0x00 && p[1] >= 0x5a && p[1] <= 0x5d) {   /* SOCKS4 reply */
        d->preamble_kind = TLS_TUNNEL_SOCKS4;
        return TLS_DIR_PREAMBLE;
    }
    if (p[0] == 0x05 && p[1] <= 0x10) {   /* SOCKS5 greeting or method reply */
        d->preamble_kind = TLS_TUNNEL_SOCKS5;
        return TLS_DIR_PREAMBLE;
    }
    if (n < 4)
        return -1;
    /* RDP: a TPKT (RFC 1006: version 3, reserved 0, length) holding an
     * X.224 Connection Request (0xe0) or Confirm (0xd0); TLS follows when
     * the confirm selects PROTOCOL_SSL or HYBRID (MS-RDPBCGR 2.2.1.2). */
    if (p[0] == 0x03 && p[1] == 0x00 && rd_load_be16(p + 2) >= 11) {
        if (n < 6)
            return -1;
        if ((p[5] & 0xf0) == 0xe0 || (p[5] & 0xf0) == 0xd0) {
            d->preamble_kind = TLS_TUNNEL_RDP;
            return TLS_DIR_PREAMBLE;
        }
    }
    /* MySQL: packets of a 3-byte little-endian length and a sequence
     * number; the server's greeting (sequence 0, protocol 10) or the
     * client's SSLRequest (sequence 1, 32 bytes, CLIENT_SSL 0x0800 set). */
    if (n >= 5 && p[2] == 0 && p[3] == 0 && p[4] == 0x0a && p[0] >= 16) {
        d->preamble_kind = TLS_TUNNEL_MYSQL;
        return TLS_DIR_PREAMBLE;
    }
    if (p[0] == 0x20 && p[1] == 0 && p[2] == 0 && p[3] == 1) {
        if (n < 6)
            return -1;
        if (p[5] & 0x08) {
            d->preamble_kind = TLS_TUNNEL_MYSQL;
            return TLS_DIR_PREAMBLE;
        }
    }
    if (p[0] == 0x30) {                    /* BER SEQUENCE: LDAP message */
        d->preamble_kind = TLS_TUNNEL_LDAP;
        return TLS_DIR_PREAMBLE;
    }
    if (n < 8 && p[0] == 0x00)
        return -1;
    if (n >= 8 && memcmp(p, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8) == 0) {
        d->preamble_kind = TLS_TUNNEL_POSTGRES;
        return TLS_DIR_PREAMBLE;
    }
    if (p[0] == 'S' && p[1] == TLS_CT_HANDSHAKE) {        /* PostgreSQL 'S' */
        d->preamble_kind = TLS_TUNNEL_POSTGRES;
        return TLS_DIR_PREAMBLE;
    }
    if (is_text_byte(p[0]) && p[0] != '\r' && p[0] != '\n') {
        d->preamble_kind = TLS_TUNNEL_TEXT;
        return TLS_DIR_PREAMBLE;
    }
    return TLS_DIR_NOT_TLS;
}

static bool preamble_is_text(uint8_t kind)
{
    return kind == TLS_TUNNEL_TEXT || kind == TLS_TUNNEL_HTTP_CONNECT ||
           (kind >= TLS_TUNNEL_SMTP && kind <= TLS_TUNNEL_XMPP) ||
           kind == TLS_TUNNEL_WEBSOCKET || kind == TLS_TUNNEL_HTTP_UPGRADE;
}

/* ---- HTTP CONNECT target ------------------------------------------------ */

#define CONNECT_LINE_MAX (CFG_TLS_CONNECT_HOST_MAX + 32)   /* "CONNECT " host ":65535 HTTP/1.1\r\n" */

static bool host_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

static bool v6_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
           c == ':' || c == '.';
}

bool tls_connect_target_parse(const uint8_t *line, size_t n,
                              char host[CFG_TLS_CONNECT_HOST_MAX + 1], uint16_t *port)
{
    struct rd r;
    rd_init(&r, line, n);
    host[0] = '\0';
    *port = 0;
    if (!prefix_ci(line, n, "CONNECT ") || !rd_skip(&r, 8))
        return false;
    /* host: a name, or "[" IPv6 "]" */
    size_t hl = 0;
    bool v6 = rd_has(&r, 1) && rd_ptr(&r)[0] == '[';
    if (v6)
        host[hl++] = (char)rd_u8(&r);
    while (rd_has(&r, 1)) {
        uint8_t c = rd_ptr(&r)[0];
        if (v6 ? !v6_byte(c) : !host_byte(c))
            break;
        if (hl >= CFG_TLS_CONNECT_HOST_MAX)
            return false;
        host[hl++] = (char)rd_u8(&r);
    }
    if (v6) {
        if (hl < 3 || !rd_has(&r, 1) || rd_ptr(&r)[0] != ']' || hl >= CFG_TLS_CONNECT_HOST_MAX)
            return false;
        host[hl++] = (char)rd_u8(&r);
    }
    if (hl == 0 || host[0] == '.' || host[0] == '-' || rd_u8(&r) != ':')
        return false;
    host[hl] = '\0';
    /* port: 1..5 digits, 1..65535 */
    uint32_t pv = 0;
    size_t digits = 0;
    while (rd_has(&r, 1) && rd_ptr(&r)[0] >= '0' && rd_ptr(&r)[0] <= '9') {
        if (++digits > 5)
            return false;
        pv = pv * 10 + (uint32_t)(rd_u8(&r) - '0');
    }
    if (digits == 0 || pv == 0 || pv > 65535)
        return false;
    /* " HTTP/1.x" and the line's end (or the bytes given) */
    if (rd_u8(&r) != ' ' || !rd_has(&r, 8) || !prefix_ci(rd_ptr(&r), 8, "HTTP/1.") ||
        !rd_skip(&r, 7))
        return false;
    uint8_t minor = rd_u8(&r);
    if (r.bad || (minor != '0' && minor != '1'))
        return false;
    if (rd_has(&r, 1) && rd_ptr(&r)[0] == '\r')
        rd_skip(&r, 1);
    if (rd_has(&r, 1) && rd_ptr(&r)[0] != '\n')
        return false;
    host[hl] = '\0';
    *port = (uint16_t)pv;
    return true;
}

const char *tls_connect_target(const struct tls_session *s, char *buf, size_t cap)
{
    if (s->tunnel != TLS_TUNNEL_HTTP_CONNECT || !s->connect_port || !s->connect_host[0])
        return NULL;
    snprintf(buf, cap, "%s:%u", s->connect_host, (unsigned)s->connect_port);
    return buf;
}

/* The first line of a direction is a CONNECT request whose end has not
 * come yet (at most CONNECT_LINE_MAX bytes are waited for). */
static bool connect_line_pending(const uint8_t *p, size_t n)
{
    if (n >= CONNECT_LINE_MAX || !prefix_ci(p, n, "CONNECT "))
        return false;
    return memchr(p, '\n', n) == NULL;
}

/* Keep the target of a CONNECT request line at p (the direction's first
 * line); an ill-formed one is counted and not kept. */
static void keep_connect_target(struct tls_session *s, struct stats *st, int dir,
                                const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n < CONNECT_LINE_MAX ? n : CONNECT_LINE_MAX);
    size_t ll = nl ? (size_t)(nl - p) + 1 : 0;
    if (!nl || !tls_connect_target_parse(p, ll, s->connect_host, &s->connect_port)) {
        s->connect_host[0] = '\0';
        s->connect_port = 0;
        stats_anomaly(st, STATS_TLS_CONNECT_MALFORMED);
        return;
    }
    s->connect_dir = (int8_t)dir;
}

/* An Upgrade header is classified whole: wait for its end (at most 80
 * bytes). */
static bool upgrade_line_pending(const uint8_t *p, size_t n)
{
    if (!prefix_ci(p, n, "Upgrade:") || n >= 80)
        return false;
    return memchr(p, '\n', n) == NULL;
}

/*
 * Walk a preamble.  Text: line by line; TLS may start at a line start or
 * after '>' (XMPP), and any non-text byte elsewhere means "not TLS".
 * After an Upgrade: websocket header, a line that starts with a byte no
 * header line starts with is the first WebSocket frame: TLS in frames
 * (*framed set) when its payload starts a hello record, else not TLS.
 * Binary (SOCKS, LDAP, PostgreSQL): scan for a hello record within
 * PREAMBLE_BINARY_MAX bytes.  Sets *used to the bytes passed.  Returns the
 * new mode, or -1 for "need more".
 */
static int walk_preamble(struct tls_session *s, struct stats *st, int dir, const uint8_t *p,
                         size_t n, size_t *used, bool *framed)
{
    struct tls_dir *d = &s->d[dir];
    bool text = preamble_is_text(d->preamble_kind);
    size_t limit = text ? CFG_TLS_PREAMBLE_MAX : PREAMBLE_BINARY_MAX;
    size_t i = 0;

    for (; i < n; i++) {
        size_t pos = d->preamble_len + i;
        if (pos >= limit) {
            *used = i;
            return TLS_DIR_NOT_TLS;
        }
        if (pos > 0 && (!text || d->line_start) && p[i] == TLS_CT_HANDSHAKE) {
            if (n - i < 10) {
                *used = i;
                return -1;
            }
            if (looks_like_hello_record(p + i, n - i)) {
                /* Records on the stream after a WebSocket upgrade: a
                 * plain HTTP Upgrade as far as the TLS is concerned. */
                if (d->preamble_kind == TLS_TUNNEL_WEBSOCKET)
                    d->preamble_kind = TLS_TUNNEL_HTTP_UPGRADE;
                *used = i;
                return TLS_DIR_RECORDS;
            }
        }
        if (text && d->line_start && d->preamble_kind == TLS_TUNNEL_WEBSOCKET &&
            (!is_text_byte(p[i]) || p[i] >= 0x80)) {
            int t = tls_ws_frame_starts_tls(p + i, n - i);
            *used = i;
            if (t < 0)
                return -1;
            *framed = t > 0;
            return t > 0 ? TLS_DIR_RECORDS : TLS_DIR_NOT_TLS;
        }
        if (text) {
            /* Keywords are matched at line starts: wait for enough of the
             * line to decide (12 bytes, or its end). */
            if (d->line_start && ((n - i < 12 && all_text(p + i, n - i)) ||
                                  upgrade_line_pending(p + i, n - i) ||
                                  (pos == 0 && connect_line_pending(p + i, n - i)))) {
                *used = i;
                return -1;
            }
            if (d->line_start)
                d->preamble_kind = (uint8_t)classify_line(p + i, n - i,
                                                          (enum tls_tunnel)d->preamble_kind);
            if (pos == 0 && d->preamble_kind == TLS_TUNNEL_HTTP_CONNECT)
                keep_connect_target(s, st, dir, p + i, n - i);
            if (!is_text_byte(p[i])) {
                *used = i;
                return TLS_DIR_NOT_TLS;
            }
            d->line_start = p[i] == '\n' || p[i] == '>';
        }
    }
    *used = i;
    return -1;
}

/* ---- records ----------------------------------------------------------- */

static void add_alert(struct tls_session *s, struct stats *st, int dir, bool encrypted,
                      bool decrypted, uint8_t level, uint8_t desc)
{
    s->alerts_total++;
    if (s->n_alerts == CFG_TLS_MAX_ALERTS) {
        stats_cap(st, STATS_TLS_ALERTS);
        return;
    }
    struct tls_alert *a = &s->alerts[s->n_alerts++];
    a->from_client = s->client >= 0 && dir == s->client;
    a->encrypted = encrypted;
    a->decrypted = decrypted;
    a->level = encrypted ? 0 : level;
    a->description = encrypted ? 0 : desc;
    a->after_certificate = 0;
    if (a->from_client && s->server_cert_seen) {
        const struct tls_dir *c = &s->d[dir];
        a->after_certificate = !c->ccs && c->last_hs_type == TLS_HS_CLIENT_HELLO;
    } else if (a->from_client && tls_session_is_13(s)) {
        /* TLS 1.3: the server's Certificate travels in its encrypted flight;
         * an alert after that flight and before the client's Finished
         * answers it. */
        a->after_certificate = s->d[dir ^ 1].appdata && !s->d[dir].appdata;
    }
}

/* An alert record of `len` bytes: readable when it was sent in clear and
 * has the 2-byte form, else counted as an encrypted alert. */
static void record_alert(struct tls_session *s, struct stats *st, int dir, const uint8_t *frag,
                         size_t len)
{
    bool enc = s->d[dir].encrypted || len != 2;
    add_alert(s, st, dir, enc, false, enc ? 0 : frag[0], enc ? 0 : frag[1]);
}

static enum tls_event check_complete(struct tls_session *s)
{
    /* s->version is set by a real ServerHello, not by a HelloRetryRequest. */
    if (s->version != 0 && s->progress != TLS_PROGRESS_COMPLETE) {
        bool done = false;
        if (tls_session_is_13(s)) {
            done = s->client >= 0 && s->d[s->client].appdata;
        } else {
            done = s->d[0].ccs && s->d[1].ccs;
        }
        if (done) {
            int server = s->client >= 0 ? s->client ^ 1 : 1;
            if (!tls_session_is_13(s) && s->n_certificates[server] == 0 &&
                ((s->ch_sid_len > 0 && s->sh_sid_len == s->ch_sid_len &&
                  memcmp(s->ch_sid, s->sh_sid, s->ch_sid_len) == 0) || s->ch_ticket))
                s->resumed = true;   /* an abbreviated handshake (RFC 5246 7.3) */
            tls_session_set_complete(s);
            return TLS_EV_PROGRESS;
        }
    }
    return TLS_EV_NEED_MORE;
}

/* The SHA-256 of a session ticket: tickets are keyed by it, not kept. */
static void ticket_digest(const uint8_t *t, size_t n, uint8_t out[32])
{
    algs_sha256_once(t, n, out);
}

/* A complete hello body: parse it into msg->hello. */
/* One direction's handshake cipher from a traffic secret of the key log. */
static void start_cipher(struct tls_session *s, struct memcap *mc, struct stats *st,
                         struct tls_dir *d, const struct keylog_secret *sec)
{
    if (!sec->len)
        return;
    struct tls13_dir_cipher *c = memcap_calloc(mc, sizeof(*c));
    if (!c) {
        stats_cap(st, STATS_MEMCAP);
        return;
    }
    int rc = tls13_dir_cipher_init_secret(c, s->cipher, sec->v, sec->len);
    if (rc != TLS13_OK) {
        if (!s->decrypt_error)
            s->decrypt_error = rc;
        stats_anomaly(st, STATS_TLS13_DECRYPT_FAILED);
        tls13_dir_cipher_release(c);
        memcap_free(mc, c, sizeof(*c));
        return;
    }
    d->cipher = c;
}

/* TLS 1.3 ServerHello from `server_dir`: look the connection up in the key
 * log and prepare both directions' handshake ciphers. */
static void setup_tls13_keys(struct tls_session *s, struct memcap *mc, struct stats *st,
                             int server_dir)
{
    if (!s->keylog || !s->have_random)
        return;
    const struct keylog_entry *e = keylog_find(s->keylog, s->client_random);
    if (!e)
        return;
    struct keylog_secret ss = keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET);
    struct keylog_secret cs = keylog_entry_secret(e, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET);
    if (!ss.len && !cs.len)
        return;
    s->keys_found = true;
    start_cipher(s, mc, st, &s->d[server_dir], &ss);
    start_cipher(s, mc, st, &s->d[server_dir ^ 1], &cs);
}

static enum tls_event finish_hello(struct tls_session *s, struct memcap *mc, struct stats *st,
                                   int dir, uint8_t type, const uint8_t *body, size_t blen,
                                   struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    struct tls_hello *hello = msg->hello;
    int *idx = &msg->idx;

    if (type == TLS_HS_CLIENT_HELLO) {
        if (s->client < 0)
            s->client = (int8_t)dir;
        /* A second ClientHello answers a HelloRetryRequest, which may not
         * have been captured; after a real ServerHello it is unexpected
         * (renegotiation is encrypted or refused in practice). */
        if (s->client != dir || s->n_client_hellos >= 2 ||
            (s->n_client_hellos == 1 && s->version != 0)) {
            stats_anomaly(st, STATS_TLS_HS_UNEXPECTED);
            return TLS_EV_NEED_MORE;
        }
        if (tls_client_hello_parse(body, blen, hello) != TLS_HELLO_OK) {
            stats_anomaly(st, STATS_TLS_HELLO_MALFORMED);
            return TLS_EV_NEED_MORE;
        }
        if (hello->capped)
            stats_cap(st, STATS_TLS_HELLO_CAPPED);
        if (s->transport == TLS_TRANSPORT_DTLS && s->dtls_hvr && s->n_client_hellos == 1 &&
            !s->hrr) {
            /* The first ClientHello again, now with the server's cookie
             * (RFC 6347 4.2.1): not a new hello. */
            s->dtls_cookie_hello = true;
            return TLS_EV_NEED_MORE;
        }
        *idx = s->n_client_hellos++;
        if (*idx == 0) {
            s->client_version = tls_hello_version(hello);
            if (d->preamble_len > 0 || d->fr)
                s->tunnel = d->preamble_kind;
            /* The target holds for the TLS of the side that asked. */
            if (s->connect_dir != dir || s->tunnel != TLS_TUNNEL_HTTP_CONNECT) {
                s->connect_host[0] = '\0';
                s->connect_port = 0;
            }
            memcpy(s->client_random, hello->random, sizeof(s->client_random));
            s->have_random = true;
            s->ch_sid_len = hello->session_id_len;
            memcpy(s->ch_sid, hello->session_id, hello->session_id_len);
            if (hello->ticket_len > 0) {
                s->ch_ticket = true;
                ticket_digest(hello->ticket, hello->ticket_len, s->ch_ticket_sha256);
            }
        }
        set_progress(s, TLS_PROGRESS_CLIENT_HELLO);
        return TLS_EV_CLIENT_HELLO;
    }

    /* ServerHello or HelloRetryRequest */
    if (s->client < 0)
        s->client = (int8_t)(dir ^ 1);
    if (s->client == dir || s->n_server_hellos >= 2 ||
        (s->n_server_hellos == 1 && !s->hrr)) {
        stats_anomaly(st, STATS_TLS_HS_UNEXPECTED);
        return TLS_EV_NEED_MORE;
    }
    if (tls_server_hello_parse(body, blen, hello) != TLS_HELLO_OK) {
        stats_anomaly(st, STATS_TLS_HELLO_MALFORMED);
        return TLS_EV_NEED_MORE;
    }
    if (hello->capped)
        stats_cap(st, STATS_TLS_HELLO_CAPPED);
    /* A ServerHello after a second ClientHello answers that one, even
     * when the HelloRetryRequest before it was not captured. */
    *idx = (s->n_client_hellos == 2 && !hello->is_hrr) ? 1 : s->n_server_hellos;
    s->n_server_hellos++;
    if (hello->is_hrr) {
        s->hrr = true;
        /* Zeek writes a HelloRetryRequest as j, not s. */
        if (s->history_len > 0 && s->history[s->history_len - 1] == 's')
            s->history[s->history_len - 1] = 'j';
    } else {
        if (hello->key_share_group)
            s->group = hello->key_share_group;
        s->version = tls_hello_version(hello);
        s->cipher = hello->ciphers[0];
        s->has_cipher = true;
        s->sh_sid_len = hello->session_id_len;
        memcpy(s->sh_sid, hello->session_id, hello->session_id_len);
        if (s->version == 0x0304 && s->transport == TLS_TRANSPORT_TCP) {
            d->encrypted = true;
            setup_tls13_keys(s, mc, st, dir);
        }
    }
    set_progress(s, TLS_PROGRESS_SERVER_HELLO);
    return TLS_EV_SERVER_HELLO;
}

/* Handshake messages whose bodies are kept whole; the rest are skipped by
 * length without buffering. */
static bool message_wanted(uint8_t type)
{
    return type == TLS_HS_CLIENT_HELLO || type == TLS_HS_SERVER_HELLO ||
           type == TLS_HS_CERTIFICATE || type == TLS_HS_COMPRESSED_CERTIFICATE ||
           type == TLS_HS_SERVER_KEY_EXCHANGE || type == TLS_HS_NEW_SESSION_TICKET;
}

/* TLS 1.2 NewSessionTicket from the server, in clear before its
 * ChangeCipherSpec (RFC 5077 3.3): its ticket's digest.  In TLS 1.3 the
 * message is encrypted and never reaches here. */
static void new_session_ticket(struct tls_session *s, struct stats *st, const uint8_t *b,
                               size_t n)
{
    uint32_t hint;
    const uint8_t *t;
    size_t tlen;
    if (tls_new_session_ticket_parse(b, n, &hint, &t, &tlen) != TLS_HELLO_OK) {
        stats_anomaly(st, STATS_TLS_TICKET_MALFORMED);
        return;
    }
    if (tlen == 0)
        return;   /* the server will not issue one after all (RFC 5077 3.3) */
    s->new_ticket = true;
    ticket_digest(t, tlen, s->new_ticket_sha256);
}

/* Zeek's ssl_history letter of a handshake message type. */
static char history_letter(uint8_t type)
{
    switch (type) {
    case 0: return 'h';    case 1: return 'c';    case 2: return 's';
    case 3: return 'v';    case 4: return 't';    case 5: return 'e';
    case 6: return 'j';    case 8: return 'o';    case 11: return 'x';
    case 12: return 'k';   case 13: return 'r';   case 14: return 'n';
    case 15: return 'y';   case 16: return 'g';   case 20: return 'f';
    case 21: return 'w';   case 22: return 'u';   case 23: return 'a';
    case 24: return 'p';   case 25: return 'x';   case 254: return 'm';
    default: return 'z';
    }
}

/* Append a letter to the history, upper case when the client sent it (the
 * direction that sends a ClientHello before the client is known). */
static void history_add(struct tls_session *s, int dir, char letter, bool client_hello)
{
    bool from_client = s->client >= 0 ? dir == s->client : client_hello;
    if (s->history_len >= CFG_TLS_HISTORY_MAX) {
        s->history_cut = true;
        return;
    }
    s->history[s->history_len++] = from_client ? (char)(letter - 32) : letter;
    s->history[s->history_len] = '\0';
}

/* TLS 1.2 ECDHE ServerKeyExchange (RFC 8422 5.4): ECParameters
 * {curve_type named_curve(3), NamedCurve}.  Only for suites whose key
 * exchange is ECDHE without PSK, where the message starts with them. */
static void server_key_exchange(struct tls_session *s, const uint8_t *b, size_t n)
{
    uint16_t c = s->cipher;
    bool ecdhe = ((c >> 8) == 0xc0 && !(c >= 0xc033 && c <= 0xc03b)) ||
                 c == 0xcca8 || c == 0xcca9;
    if (ecdhe && n >= 3 && b[0] == 3 && s->group == 0)
        s->group = rd_load_be16(b + 1);
}

/* A handshake message header arrived: decide to buffer or skip it. */
static void start_message(struct tls_session *s, struct stats *st, int dir)
{
    struct tls_dir *d = &s->d[dir];
    uint8_t type = d->hs_hdr[0];
    uint32_t len = rd_load_be24(d->hs_hdr + 1);

    d->last_hs_type = type;
    history_add(s, dir, history_letter(type), type == TLS_HS_CLIENT_HELLO);
    if (type == TLS_HS_CERTIFICATE && s->client >= 0 && dir != s->client)
        s->server_cert_seen = true;

    d->skip = len;
    d->hs_len = 0;
    d->keep = false;
    if (message_wanted(type)) {
        if (len > CFG_TLS_HS_MSG_MAX)
            stats_cap(st, STATS_TLS_HS_MSG_TOO_LARGE);
        else
            d->keep = true;   /* d->skip: bytes still to collect */
    }
}

/* Append n body bytes of the current message, growing the buffer with the
 * bytes that actually arrive (a declared length alone reserves nothing). */
static bool keep_bytes(struct tls_dir *d, struct memcap *mc, struct stats *st,
                       const uint8_t *q, size_t n)
{
    if (d->hs_len + n > d->hs_cap) {
        size_t want = d->hs_cap ? d->hs_cap : 1024;
        while (want < d->hs_len + n)
            want *= 2;
        if (want > CFG_TLS_HS_MSG_MAX)
            want = CFG_TLS_HS_MSG_MAX;
        uint8_t *nb = memcap_realloc(mc, d->hs, d->hs_cap, want);
        if (!nb) {
            stats_cap(st, STATS_MEMCAP);
            return false;
        }
        d->hs = nb;
        d->hs_cap = (uint32_t)want;
    }
    memcpy(d->hs + d->hs_len, q, n);
    d->hs_len += (uint32_t)n;
    return true;
}

/* A kept message is complete in d->hs[0..hs_len). */
static enum tls_event finish_message(struct tls_session *s, struct memcap *mc,
                                     struct stats *st, int dir, struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    uint8_t type = d->hs_hdr[0];
    d->keep = false;
    msg->type = type;
    msg->from_client = s->client >= 0 && dir == s->client;
    msg->body = d->hs;
    msg->len = d->hs_len;
    msg->tls13 = tls_session_is_13(s);
    if (type == TLS_HS_CLIENT_HELLO || type == TLS_HS_SERVER_HELLO)
        return finish_hello(s, mc, st, dir, type, d->hs, d->hs_len, msg);
    if (type == TLS_HS_SERVER_KEY_EXCHANGE) {
        if (!msg->from_client)
            server_key_exchange(s, d->hs, d->hs_len);
        return TLS_EV_NEED_MORE;
    }
    if (type == TLS_HS_NEW_SESSION_TICKET) {
        if (!msg->from_client && s->client >= 0 && !msg->tls13 && s->version != 0)
            new_session_ticket(s, st, d->hs, d->hs_len);
        return TLS_EV_NEED_MORE;
    }
    if (type == TLS_HS_COMPRESSED_CERTIFICATE) {
        size_t n = 0;
        int rc = tls_certmsg_decompress(d->hs, d->hs_len, mc, &d->decomp, &d->decomp_cap, &n);
        if (rc != TLS_CERTMSG_OK) {
            stats_anomaly(st, STATS_TLS_CERTMSG_MALFORMED);
            return TLS_EV_NEED_MORE;
        }
        msg->body = d->decomp;
        msg->len = n;
        type = TLS_HS_CERTIFICATE;
    }
    if (type == TLS_HS_CERTIFICATE) {
        if (s->n_certificates[dir] < 255)
            s->n_certificates[dir]++;
        return TLS_EV_CERTIFICATE;
    }
    return TLS_EV_NEED_MORE;
}

/*
 * Walk the handshake bytes frag[0..flen) of the record at the front of the
 * stream, from d->rec_pos.  Returns an event when a wanted message
 * completes (the record is not consumed yet; the next call resumes at
 * rec_pos), or NEED_MORE when the whole fragment has been walked.
 */
static enum tls_event walk_handshake(struct tls_session *s, struct memcap *mc,
                                     struct stats *st, int dir, const uint8_t *frag,
                                     size_t flen, struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    while (d->rec_pos < flen) {
        size_t left = flen - d->rec_pos;
        const uint8_t *q = frag + d->rec_pos;
        if (d->skip > 0) {
            size_t n = left < d->skip ? left : d->skip;
            if (d->keep && !keep_bytes(d, mc, st, q, n))
                d->keep = false;   /* memcap: skip the rest of it */
            d->skip -= (uint32_t)n;
            d->rec_pos += (uint32_t)n;
            if (d->skip == 0 && d->keep) {
                enum tls_event ev = finish_message(s, mc, st, dir, msg);
                if (ev != TLS_EV_NEED_MORE)
                    return ev;
            }
            continue;
        }
        /* Collect a 4-byte message header (it may span records). */
        d->hs_hdr[d->hdr_have++] = *q;
        d->rec_pos++;
        if (d->hdr_have == 4) {
            d->hdr_have = 0;
            start_message(s, st, dir);
            if (d->skip == 0 && d->keep) {   /* empty body */
                enum tls_event ev = finish_message(s, mc, st, dir, msg);
                if (ev != TLS_EV_NEED_MORE)
                    return ev;
            }
        }
    }
    return TLS_EV_NEED_MORE;
}

/*
 * A TLS 1.3 protected record of the handshake epoch, with keys: decrypt it
 * (once: the plaintext stays in d->plain while it is walked) and treat its
 * content as a cleartext record would be.  A record that does not
 * authenticate ends decryption for this direction (wrong or missing keys).
 */
static enum tls_event walk_protected(struct tls_session *s, struct memcap *mc,
                                     struct stats *st, int dir, const uint8_t *hdr,
                                     const uint8_t *frag, size_t flen, struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    bool client = s->client >= 0 && dir == s->client;

    if (d->plain_len == 0) {
        if (!d->plain) {
            /* Not zeroed: only the plain_len bytes a record opened into
             * it are read (a failed open wipes what it wrote). */
            d->plain = memcap_malloc(mc, TLS13_MAX_CIPHERTEXT);
            if (!d->plain) {
                stats_cap(st, STATS_MEMCAP);
                release_cipher(d, mc);
                return TLS_EV_NEED_MORE;
            }
        }
        size_t n = 0;
        uint8_t inner = 0;
        int rc = tls13_record_open(d->cipher, hdr, frag, flen, d->plain, TLS13_MAX_CIPHERTEXT,
                                   &n, &inner);
        if (rc != TLS13_OK || n == 0) {
            if (!s->decrypt_error)
                s->decrypt_error = rc ? rc : TLS13_E_NO_CONTENT_TYPE;
            stats_anomaly(st, STATS_TLS13_DECRYPT_FAILED);
            release_cipher(d, mc);
            if (client)
                d->appdata = true;   /* as without keys */
            return TLS_EV_NEED_MORE;
        }
        d->plain_len = (uint32_t)n;
        d->plain_type = inner;
        d->rec_pos = 0;
    }

    if (d->plain_type == TLS_CT_HANDSHAKE) {
        enum tls_event ev = walk_handshake(s, mc, st, dir, d->plain, d->plain_len, msg);
        if (ev != TLS_EV_NEED_MORE)
            return ev;
        if (d->last_hs_type == TLS_HS_FINISHED && d->skip == 0 && d->hdr_have == 0) {
            d->hs_done = true;
            if (!client && s->n_certificates[dir] == 0)
                s->resumed = true;   /* PSK: no Certificate in the server's flight */
            if (client)
                d->appdata = true;   /* the client's Finished ends the handshake */
        }
    } else if (d->plain_type == TLS_CT_ALERT && d->plain_len >= 2) {
        history_add(s, dir, 'l', false);
        add_alert(s, st, dir, false, true, d->plain[0], d->plain[1]);
    } else if (d->plain_type == TLS_CT_APPDATA) {
        d->hs_done = true;
        if (client)
            d->appdata = true;
    }
    d->plain_len = 0;
    d->rec_pos = 0;
    if (d->hs_done)
        release_cipher(d, mc);   /* the handshake epoch is over: keys and buffer */
    return TLS_EV_NEED_MORE;
}

/*
 * The TLS records in data[0..len) of direction `dir`, one after the other,
 * until one is incomplete or an event is due.  *used: the bytes of whole
 * records done with (a record whose walk stopped at a hello stays).
 */
static enum tls_event feed_records(struct tls_session *s, struct memcap *mc, struct stats *st,
                                   int dir, const uint8_t *data, size_t len, size_t *used,
                                   struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    *used = 0;

    for (;;) {
        const uint8_t *p = data + *used;
        size_t n = len - *used;
        if (n < 5)
            return TLS_EV_NEED_MORE;
        uint8_t type = p[0];
        unsigned rlen = rd_load_be16(p + 3);
        if (type < TLS_CT_CCS || type > TLS_CT_HEARTBEAT || p[1] != 3 ||
            rlen > TLS_RECORD_MAX || (rlen == 0 && type != TLS_CT_APPDATA)) {
            stats_anomaly(st, STATS_TLS_RECORD_INVALID);
            d->mode = TLS_DIR_DONE;
            *used = len;
            return TLS_EV_DONE;
        }
        if (n < 5 + (size_t)rlen)
            return TLS_EV_NEED_MORE;
        const uint8_t *frag = p + 5;

        if (type == TLS_CT_HANDSHAKE && !d->encrypted) {
            enum tls_event ev = walk_handshake(s, mc, st, dir, frag, rlen, msg);
            if (ev != TLS_EV_NEED_MORE)
                return ev;   /* the record stays; the walk resumes at rec_pos */
            d->rec_pos = 0;
        } else if (type == TLS_CT_CCS) {
            history_add(s, dir, 'i', false);
            /* Before any ServerHello a CCS is TLS 1.3 middlebox
             * compatibility (RFC 8446 D.4), not the start of encryption. */
            d->ccs = true;
            if (s->version != 0 && s->version != 0x0304)
                d->encrypted = true;
        } else if (type == TLS_CT_HEARTBEAT) {
            history_add(s, dir, 'b', false);
        } else if (type == TLS_CT_ALERT) {
            history_add(s, dir, 'l', false);
            record_alert(s, st, dir, frag, rlen);
        } else if (type == TLS_CT_APPDATA) {
            if (d->cipher && !d->hs_done) {
                enum tls_event ev = walk_protected(s, mc, st, dir, p, frag, rlen, msg);
                if (ev != TLS_EV_NEED_MORE)
                    return ev;   /* the record stays; its plaintext too */
            } else if (s->version != 0) {
                bool from_client = s->client >= 0 && dir == s->client;
                if (s->version == 0x0304 && !from_client && !s->client_protected) {
                    if (s->flight_records < UINT16_MAX)
                        s->flight_records++;
                    s->flight_bytes += rlen;
                    if (s->n_flight_sizes < TLS_FLIGHT_SIZES)
                        s->flight_sizes[s->n_flight_sizes++] = (uint16_t)rlen;
                }
                if (from_client)
                    s->client_protected = true;
                if (from_client && s->version == 0x0304 && !d->appdata &&
                    TLS13_ALERT_RECORD(rlen)) {
                    /* Alert-sized, where the client's Certificate or
                     * Finished belongs: it closed with an (encrypted)
                     * alert instead. */
                    add_alert(s, st, dir, true, false, 0, 0);
                    s->client_aborted_tls13 = true;
                } else {
                    d->appdata = true;
                }
            }
        }
        *used += 5 + rlen;
        if (++d->records >= CFG_TLS_MAX_RECORDS) {
            stats_cap(st, STATS_TLS_RECORD_LIMIT);
            d->mode = TLS_DIR_DONE;
            return TLS_EV_DONE;
        }
        enum tls_event ev = check_complete(s);
        if (ev != TLS_EV_NEED_MORE)
            return ev;
    }
}

/* Direction `dir` carries its TLS inside TDS packets or WebSocket frames
 * from here on. */
static bool start_frames(struct tls_dir *d, struct memcap *mc, struct stats *st,
                         enum tls_frames_kind kind)
{
    d->fr = memcap_calloc(mc, sizeof(*d->fr));
    if (!d->fr) {
        stats_cap(st, STATS_MEMCAP);
        return false;
    }
    d->fr->kind = (uint8_t)kind;
    d->fr->tls = kind == TLS_FRAMES_WEBSOCKET;   /* checked in the first frame */
    return true;
}

/*
 * Framed records: take the TLS bytes out of the frames in data[0..len)
 * into d->fr->buf and read the records there, alternately, until neither
 * moves.  *used counts the framed bytes consumed.
 */
static enum tls_event feed_framed(struct tls_session *s, struct memcap *mc, struct stats *st,
                                  int dir, const uint8_t *data, size_t len, size_t *used,
                                  struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    struct tls_frames *f = d->fr;
    *used = 0;

    for (;;) {
        size_t u = 0;
        if (f->len > 0) {
            enum tls_event ev = feed_records(s, mc, st, dir, f->buf, f->len, &u, msg);
            tls_frames_drop(f, u);
            if (ev != TLS_EV_NEED_MORE)
                return ev;
        }
        enum tls_frames_rc rc = tls_frames_take(f, mc, data + *used, len - *used, &u);
        *used += u;
        if (rc != TLS_FRAMES_OK) {
            bool before_tls = !f->tls && s->progress == TLS_PROGRESS_NONE;
            if (rc == TLS_FRAMES_NOT_TLS)
                stats_anomaly(st, STATS_TLS_PREAMBLE_NO_TLS);
            else if (rc == TLS_FRAMES_MALFORMED)
                stats_anomaly(st, STATS_TLS_FRAME_MALFORMED);
            else
                stats_cap(st, rc == TLS_FRAMES_CAP ? STATS_TLS_TUNNEL_FRAMES : STATS_MEMCAP);
            d->mode = before_tls ? TLS_DIR_NOT_TLS : TLS_DIR_DONE;
            *used = len;
            return TLS_EV_DONE;
        }
        if (u == 0)
            return TLS_EV_NEED_MORE;
    }
}

enum tls_event tls_session_feed(struct tls_session *s, struct memcap *mc,
                                struct stats *st, int dir, const uint8_t *data,
                                size_t len, size_t *used, struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    *used = 0;

    for (;;) {
        const uint8_t *p = data + *used;
        size_t n = len - *used;

        switch (d->mode) {
        case TLS_DIR_DETECT: {
            if (n >= 5 && (p[0] & 0x80) && p[2] == 1 && p[3] <= 3) {
                /* SSLv2-format CLIENT-HELLO: reported, not fingerprinted. */
                if (s->client < 0)
                    s->client = (int8_t)dir;
                s->sslv2_version = rd_load_be16(p + 3);
                set_progress(s, TLS_PROGRESS_SSLV2_HELLO);
                stats_anomaly(st, STATS_TLS_SSLV2_HELLO);
                d->mode = TLS_DIR_DONE;
                *used = len;
                return TLS_EV_PROGRESS;
            }
            int m = detect(d, p, n);
            if (m < 0)
                return TLS_EV_NEED_MORE;
            if (m == TLS_DIR_PREAMBLE && d->preamble_kind == TLS_TUNNEL_TDS) {
                /* The PRELOGIN exchange and the TLS after it are one
                 * sequence of TDS packets. */
                m = start_frames(d, mc, st, TLS_FRAMES_TDS) ? TLS_DIR_RECORDS : TLS_DIR_DONE;
            }
            d->mode = (uint8_t)m;
            d->line_start = true;
            if (m == TLS_DIR_NOT_TLS || m == TLS_DIR_DONE)
                return TLS_EV_DONE;
            break;
        }
        case TLS_DIR_PREAMBLE: {
            size_t u = 0;
            bool framed = false;
            int m = walk_preamble(s, st, dir, p, n, &u, &framed);
            d->preamble_len += (uint32_t)u;
            *used += u;
            if (m < 0)
                return TLS_EV_NEED_MORE;
            if (framed && !start_frames(d, mc, st, TLS_FRAMES_WEBSOCKET))
                m = TLS_DIR_DONE;
            d->mode = (uint8_t)m;
            if (m == TLS_DIR_NOT_TLS || m == TLS_DIR_DONE) {
                /* A WebSocket that carries something else is no anomaly. */
                if (m == TLS_DIR_NOT_TLS && s->progress == TLS_PROGRESS_NONE &&
                    d->preamble_kind != TLS_TUNNEL_WEBSOCKET)
                    stats_anomaly(st, STATS_TLS_PREAMBLE_NO_TLS);
                *used = len;
                return TLS_EV_DONE;
            }
            break;
        }
        case TLS_DIR_RECORDS: {
            size_t u = 0;
            enum tls_event ev = d->fr ? feed_framed(s, mc, st, dir, p, n, &u, msg)
                                      : feed_records(s, mc, st, dir, p, n, &u, msg);
            *used += u;
            return ev;
        }
        case TLS_DIR_DONE:
        case TLS_DIR_NOT_TLS:
        default:
            *used = len;
            return TLS_EV_DONE;
        }
    }
}

/* ---- QUIC and DTLS ----------------------------------------------------- */

enum tls_event tls_session_feed_handshake(struct tls_session *s, struct memcap *mc,
                                          struct stats *st, int dir, const uint8_t *data,
                                          size_t len, size_t *used, struct tls_msg *msg)
{
    struct tls_dir *d = &s->d[dir];
    *used = 0;
    if (d->mode == TLS_DIR_DETECT)
        d->mode = TLS_DIR_RECORDS;
    if (d->mode != TLS_DIR_RECORDS) {
        *used = len;
        return TLS_EV_DONE;
    }
    /* The whole input is one "fragment" walked from its start; what the
     * walk covered is consumed, so the next call starts at the new front. */
    d->rec_pos = 0;
    enum tls_event ev = walk_handshake(s, mc, st, dir, data, len, msg);
    *used = d->rec_pos;
    d->rec_pos = 0;
    return ev;
}

enum tls_event tls_session_dgram_record(struct tls_session *s, struct stats *st, int dir,
                                        uint8_t type, bool encrypted, const uint8_t *frag,
                                        size_t len)
{
    struct tls_dir *d = &s->d[dir];
    if (d->mode == TLS_DIR_DETECT)
        d->mode = TLS_DIR_RECORDS;
    if (encrypted) {
        d->encrypted = true;
        if (type == TLS_CT_ALERT && !tls_session_is_13(s))
            add_alert(s, st, dir, true, false, 0, 0);
        else if (s->version != 0)
            d->appdata = true;   /* protected traffic after the ServerHello */
    } else if (type == TLS_CT_CCS) {
        d->ccs = true;
    } else if (type == TLS_CT_ALERT) {
        record_alert(s, st, dir, frag, len);
    } else if (type == TLS_CT_APPDATA && s->version != 0) {
        d->appdata = true;
    }
    return check_complete(s);
}

void tls_session_set_complete(struct tls_session *s)
{
    set_progress(s, TLS_PROGRESS_COMPLETE);
    s->d[0].mode = s->d[1].mode = TLS_DIR_DONE;
}

/* ---- after the handshake (TCP) -------------------------------------------- */

bool tls_session_watch_start(struct tls_session *s, uint64_t ts_us)
{
    if (s->d[0].fr || s->d[1].fr || s->client < 0)
        return false;
    memset(&s->post, 0, sizeof(s->post));
    s->post.watching = true;
    s->post.start_us = ts_us ? ts_us : 1;
    return true;
}

static void post_client_closed(struct tls_post *w, uint64_t ts_us)
{
    if (!w->close_us)
        w->close_us = ts_us ? ts_us : 1;
}

size_t tls_session_watch(struct tls_session *s, int dir, const uint8_t *data, size_t len,
                         uint64_t ts_us)
{
    struct tls_post *w = &s->post;
    bool client = dir == s->client;
    size_t off = 0;
    while (w->watching && !w->over && !w->dead[dir]) {
        if (w->skip[dir]) {
            size_t k = len - off < w->skip[dir] ? len - off : w->skip[dir];
            off += k;
            w->skip[dir] -= (uint32_t)k;
            if (w->skip[dir])
                break;
            continue;
        }
        if (len - off < 5)
            break;
        const uint8_t *h = data + off;
        uint8_t type = h[0];
        unsigned rlen = rd_load_be16(h + 3);
        if (type < TLS_CT_CCS || type > TLS_CT_HEARTBEAT || h[1] != 3 || rlen > TLS_RECORD_MAX) {
            w->dead[dir] = true;   /* not a record: this direction is not read further */
            break;
        }
        off += 5;
        w->skip[dir] = rlen;
        bool alert = type == TLS_CT_ALERT ||
                     (type == TLS_CT_APPDATA && tls_session_is_13(s) && TLS13_ALERT_RECORD(rlen));
        if (client) {
            if (alert) {
                w->client_alert = true;
                post_client_closed(w, ts_us);
            } else if (type == TLS_CT_APPDATA) {
                w->client_data = true;
                w->over = true;
            }
        } else if (alert) {
            if (!w->close_us)
                w->server_closed_first = true;
        } else if (type == TLS_CT_APPDATA && w->server_data < UINT16_MAX) {
            w->server_data++;
        }
        if (++w->records[dir] >= CFG_TLS_LINGER_RECORDS)
            w->over = true;
    }
    return w->over || w->dead[dir] ? len : off;
}

void tls_session_watch_close(struct tls_session *s, int dir, bool rst, uint64_t ts_us)
{
    struct tls_post *w = &s->post;
    if (!w->watching)
        return;
    if (dir == s->client) {
        if (rst)
            w->client_rst = true;
        else
            w->client_fin = true;
        post_client_closed(w, ts_us);
    } else if (!w->close_us) {
        w->server_closed_first = true;
    }
}

bool tls_session_between_messages(const struct tls_session *s, int dir)
{
    const struct tls_dir *d = &s->d[dir];
    return d->skip == 0 && d->hdr_have == 0;
}

/* ---- names ------------------------------------------------------------- */

/* Spelled as Suricata EVE spells them ("TLSv1" for 1.0 included), so that
 * existing SIEM parsers and dashboards keep working. */
const char *tls_version_name(uint16_t v, char buf[24])
{
    switch (v) {
    case 0x0002: return "SSLv2";
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLSv1";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0xfeff: return "DTLS 1.0";
    case 0xfefd: return "DTLS 1.2";
    case 0xfefc: return "DTLS 1.3";
    default:
        if ((v >> 8) == 0x7f) {   /* TLS 1.3 drafts */
            snprintf(buf, 24, "TLS 1.3 draft %u", v & 0xff);
            return buf;
        }
        snprintf(buf, 24, "0x%04x", v);
        return buf;
    }
}

const char *tls_alert_name(uint8_t desc)
{
    switch (desc) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 111: return "certificate_unobtainable";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 114: return "bad_certificate_hash_value";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    case 121: return "ech_required";
    default: return "unknown";
    }
}

const char *tls_tunnel_name(enum tls_tunnel t)
{
    switch (t) {
    case TLS_TUNNEL_HTTP_CONNECT: return "http-connect";
    case TLS_TUNNEL_SOCKS4: return "socks4";
    case TLS_TUNNEL_SOCKS5: return "socks5";
    case TLS_TUNNEL_SMTP: return "starttls-smtp";
    case TLS_TUNNEL_IMAP: return "starttls-imap";
    case TLS_TUNNEL_POP3: return "starttls-pop3";
    case TLS_TUNNEL_FTP: return "starttls-ftp";
    case TLS_TUNNEL_XMPP: return "starttls-xmpp";
    case TLS_TUNNEL_LDAP: return "starttls-ldap";
    case TLS_TUNNEL_POSTGRES: return "starttls-postgres";
    case TLS_TUNNEL_TEXT: return "plaintext-preamble";
    case TLS_TUNNEL_RDP: return "rdp";
    case TLS_TUNNEL_MYSQL: return "mysql";
    case TLS_TUNNEL_TDS: return "tds";
    case TLS_TUNNEL_WEBSOCKET: return "websocket";
    case TLS_TUNNEL_HTTP_UPGRADE: return "http-upgrade";
    default: return NULL;
    }
}

const char *tls_progress_name(enum tls_progress p)
{
    switch (p) {
    case TLS_PROGRESS_SSLV2_HELLO: return "sslv2_client_hello";
    case TLS_PROGRESS_CLIENT_HELLO: return "client_hello";
    case TLS_PROGRESS_SERVER_HELLO: return "server_hello";
    case TLS_PROGRESS_COMPLETE: return "complete";
    default: return "none";
    }
}
