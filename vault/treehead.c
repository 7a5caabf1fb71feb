/*
 * Signed tree heads and receipts.  Formats in treehead.h and
 * docs/audit-log.md.
 *
 * The signed message is binary and fixed-length so that there is exactly
 * one encoding of a tree head and no parser in the signature path; the
 * domain string keeps a tree-head signature from ever being valid as any
 * other message the vault key might sign.  The text forms are parsed by a
 * bounded reader that accepts exactly one spelling of each field (no
 * leading zeros, no signs, no spaces), so format(parse(s)) == s for every
 * tree head line that parses.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "treehead.h"

#define HLEN		BG_MERKLE_HASH_LEN
#define ID_BYTES	(BG_TREEHEAD_VAULT_ID_LEN / 2)
#define DOMAIN_LEN	(sizeof(BG_TREEHEAD_DOMAIN) - 1)
#define TH_TAG		"bg-treehead-v1"
#define RC_TAG		"BG1-"

_Static_assert(DOMAIN_LEN + 1 + ID_BYTES + 8 + HLEN + 8 ==
    BG_TREEHEAD_MSG_LEN, "tree head message layout");
_Static_assert(BG_TREEHEAD_SIG_LEN == crypto_sign_BYTES, "Ed25519");
_Static_assert(BG_TREEHEAD_PK_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519");
_Static_assert(BG_TREEHEAD_SK_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519");

/* --- small helpers ------------------------------------------------------- */

static int
hexval(char c, bool fold)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (fold && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
tohex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* True if s is exactly n lowercase hex digits and then NUL. */
static bool
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hexval(s[i], false) < 0)
			return false;
	return s[n] == '\0';
}

/* CRC-16/XMODEM: polynomial 0x1021, initial 0, no reflection. */
static uint16_t
crc16(const char *s, size_t n)
{
	uint32_t c = 0;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		c ^= (uint32_t)(unsigned char)s[i] << 8;
		for (b = 0; b < 8; b++) {
			c <<= 1;
			if ((c & 0x10000) != 0)
				c ^= 0x11021;
		}
	}
	return (uint16_t)(c & 0xffff);
}

/* --- the bounded reader -------------------------------------------------- */

struct rd {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	bool		 fold;	/* accept upper-case hex and tag */
	char		*why;
	size_t		 whycap;
};

static int rd_fail(struct rd *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rd_fail(struct rd *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->why != NULL && rd->whycap > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(rd->why, rd->whycap, fmt, ap);
		va_end(ap);
	}
	return BG_ERR_PARSE;
}

/* A printable name for character c, for messages. */
static const char *
chardesc(char c, char buf[16])
{
	unsigned char u = (unsigned char)c;

	if (u == ' ')
		(void)snprintf(buf, 16, "a space");
	else if (u > 0x20 && u < 0x7f)
		(void)snprintf(buf, 16, "'%c'", c);
	else
		(void)snprintf(buf, 16, "byte 0x%02x", u);
	return buf;
}

/* A hint for the letters people write for 0 and 1. */
static const char *
hexhint(char c)
{
	switch (c) {
	case 'o': case 'O':
		return " (a zero, 0?)";
	case 'l': case 'I': case 'i':
		return " (a one, 1?)";
	default:
		return "";
	}
}

/* The length of the run from pos up to delim or the end. */
static size_t
rd_run(const struct rd *rd, char delim)
{
	size_t n = 0;

	while (rd->pos + n < rd->len && rd->s[rd->pos + n] != delim)
		n++;
	return n;
}

static int
rd_lit(struct rd *rd, const char *lit, const char *what)
{
	size_t n = strlen(lit), i;
	char a, b;

	for (i = 0; i < n; i++) {
		if (rd->pos + i >= rd->len)
			return rd_fail(rd, "%s is missing at the end "
			    "(character %zu)", what, rd->pos + i + 1);
		a = rd->s[rd->pos + i];
		b = lit[i];
		if (rd->fold && a >= 'a' && a <= 'z')
			a = (char)(a - 'a' + 'A');
		if (rd->fold && b >= 'a' && b <= 'z')
			b = (char)(b - 'a' + 'A');
		if (a != b)
			return rd_fail(rd, "expected %s at character %zu",
			    what, rd->pos + 1);
	}
	rd->pos += n;
	return BG_OK;
}

/* Exactly 2*n hex digits, up to delim or the end. */
static int
rd_hex(struct rd *rd, char delim, uint8_t *out, size_t n, const char *what)
{
	size_t run = rd_run(rd, delim), i;
	char cb[16];
	int hi, lo;

	for (i = 0; i < run; i++) {
		char c = rd->s[rd->pos + i];

		if (hexval(c, rd->fold) < 0)
			return rd_fail(rd, "character %zu (%s) in the %s is "
			    "not a%s hex digit%s", rd->pos + i + 1,
			    chardesc(c, cb), what,
			    rd->fold ? "" : " lowercase", hexhint(c));
	}
	if (run != 2 * n)
		return rd_fail(rd, "the %s must be %zu hex digits, found %zu",
		    what, 2 * n, run);
	for (i = 0; i < n; i++) {
		hi = hexval(rd->s[rd->pos + 2 * i], rd->fold);
		lo = hexval(rd->s[rd->pos + 2 * i + 1], rd->fold);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	rd->pos += run;
	return BG_OK;
}

/* A decimal in 0..max without sign or leading zeros, up to delim. */
static int
rd_dec(struct rd *rd, char delim, uint64_t max, uint64_t *out,
    const char *what)
{
	size_t run = rd_run(rd, delim), i;
	uint64_t v = 0, d;
	char cb[16];

	*out = 0;
	if (run == 0)
		return rd_fail(rd, "the %s is missing (character %zu)", what,
		    rd->pos + 1);
	for (i = 0; i < run; i++) {
		char c = rd->s[rd->pos + i];

		if (c < '0' || c > '9')
			return rd_fail(rd, "character %zu (%s) in the %s is "
			    "not a digit%s", rd->pos + i + 1, chardesc(c, cb),
			    what, c == 'o' || c == 'O' ? " (a zero, 0?)" :
			    c == 'l' || c == 'I' ? " (a one, 1?)" : "");
	}
	if (run > 1 && rd->s[rd->pos] == '0')
		return rd_fail(rd, "the %s has a leading zero", what);
	for (i = 0; i < run; i++) {
		d = (uint64_t)(rd->s[rd->pos + i] - '0');
		if (v > (max - d) / 10)
			return rd_fail(rd, "the %s is too large", what);
		v = v * 10 + d;
	}
	rd->pos += run;
	*out = v;
	return BG_OK;
}

static int
rd_end(struct rd *rd, const char *after)
{
	char cb[16];

	if (rd->pos != rd->len)
		return rd_fail(rd, "unexpected text at character %zu (%s) "
		    "after the %s", rd->pos + 1, chardesc(rd->s[rd->pos], cb),
		    after);
	return BG_OK;
}

static void
rd_init(struct rd *rd, const char *s, bool fold, char *why, size_t whycap)
{
	memset(rd, 0, sizeof(*rd));
	rd->s = s;
	rd->len = strnlen(s, 4096);
	rd->fold = fold;
	rd->why = why;
	rd->whycap = whycap;
	if (why != NULL && whycap > 0)
		why[0] = '\0';
}

/* --- tree heads ------------------------------------------------------------ */

int
bg_treehead_message(const bg_treehead_t *th, uint8_t msg[BG_TREEHEAD_MSG_LEN])
{
	uint8_t *p = msg;
	size_t i;
	int r = BG_ERR_INTERNAL;

	if (msg == NULL)
		return BG_ERR_INVALID_ARG;
	memset(msg, 0, BG_TREEHEAD_MSG_LEN);
	if (th == NULL ||
	    !is_lower_hex(th->vault_id, BG_TREEHEAD_VAULT_ID_LEN) ||
	    th->size > (uint64_t)INT64_MAX || th->time < 0) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	memcpy(p, BG_TREEHEAD_DOMAIN, DOMAIN_LEN);
	p += DOMAIN_LEN;
	*p++ = 0x00;
	for (i = 0; i < ID_BYTES; i++)
		*p++ = (uint8_t)(hexval(th->vault_id[2 * i], false) << 4 |
		    hexval(th->vault_id[2 * i + 1], false));
	put_be64(p, th->size);
	p += 8;
	memcpy(p, th->root, HLEN);
	p += HLEN;
	put_be64(p, (uint64_t)th->time);
	p += 8;
	if ((size_t)(p - msg) != BG_TREEHEAD_MSG_LEN) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	r = BG_OK;
out:
	if (r != BG_OK)
		memset(msg, 0, BG_TREEHEAD_MSG_LEN);
	return r;
}

int
bg_treehead_sign(bg_treehead_t *th, const uint8_t sk[BG_TREEHEAD_SK_LEN])
{
	uint8_t msg[BG_TREEHEAD_MSG_LEN];
	int r = BG_ERR_INTERNAL;

	if (th == NULL || sk == NULL)
		return BG_ERR_INVALID_ARG;
	memset(th->sig, 0, sizeof(th->sig));
	if ((r = bg_treehead_message(th, msg)) != BG_OK)
		goto out;
	if (crypto_sign_detached(th->sig, NULL, msg, sizeof(msg), sk) != 0) {
		memset(th->sig, 0, sizeof(th->sig));
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_treehead_verify(const bg_treehead_t *th,
    const uint8_t pk[BG_TREEHEAD_PK_LEN])
{
	uint8_t msg[BG_TREEHEAD_MSG_LEN];
	int r = BG_ERR_INTERNAL;

	if (th == NULL || pk == NULL)
		return BG_ERR_INVALID_ARG;
	if ((r = bg_treehead_message(th, msg)) != BG_OK)
		goto out;
	if (crypto_sign_verify_detached(th->sig, msg, sizeof(msg), pk) != 0) {
		r = BG_ERR_AUTH;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_treehead_format(const bg_treehead_t *th, char *buf, size_t cap)
{
	char root[2 * HLEN + 1], sig[2 * BG_TREEHEAD_SIG_LEN + 1];
	uint8_t msg[BG_TREEHEAD_MSG_LEN];
	int n, r = BG_ERR_INTERNAL;

	if (buf == NULL || cap == 0)
		return BG_ERR_INVALID_ARG;
	buf[0] = '\0';
	if ((r = bg_treehead_message(th, msg)) != BG_OK)
		goto out;
	tohex(th->root, HLEN, root);
	tohex(th->sig, BG_TREEHEAD_SIG_LEN, sig);
	n = snprintf(buf, cap, TH_TAG " vault=%s size=%" PRIu64 " root=%s "
	    "time=%" PRId64 " sig=%s", th->vault_id, th->size, root,
	    th->time, sig);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		r = BG_ERR_RANGE;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_treehead_parse(const char *s, bg_treehead_t *th, char *why, size_t whycap)
{
	bg_treehead_t t;
	struct rd rd;
	uint8_t id[ID_BYTES];
	uint64_t v = 0;
	size_t tag;
	int r = BG_ERR_INTERNAL;

	if (why != NULL && whycap > 0)
		why[0] = '\0';
	if (th != NULL)
		memset(th, 0, sizeof(*th));
	if (s == NULL || th == NULL)
		return BG_ERR_INVALID_ARG;
	memset(&t, 0, sizeof(t));
	rd_init(&rd, s, false, why, whycap);
	if (rd.len == 0) {
		r = rd_fail(&rd, "the tree head is empty");
		goto out;
	}
	if (rd.len >= BG_TREEHEAD_TEXT_MAX) {
		r = rd_fail(&rd, "the tree head is too long (%zu characters "
		    "or more; at most %d)", rd.len, BG_TREEHEAD_TEXT_MAX - 1);
		goto out;
	}
	tag = rd_run(&rd, ' ');
	if (strncmp(s, "bg-treehead-v", 13) == 0 &&
	    (tag != sizeof(TH_TAG) - 1 || strncmp(s, TH_TAG, tag) != 0)) {
		r = rd_fail(&rd, "this tree head version is not known to "
		    "this program, which reads " TH_TAG);
		goto out;
	}
	if ((r = rd_lit(&rd, TH_TAG " vault=",
	    "\"" TH_TAG " vault=\"")) != BG_OK ||
	    (r = rd_hex(&rd, ' ', id, sizeof(id), "vault id")) != BG_OK)
		goto out;
	tohex(id, sizeof(id), t.vault_id);
	if ((r = rd_lit(&rd, " size=", "\" size=\"")) != BG_OK ||
	    (r = rd_dec(&rd, ' ', (uint64_t)INT64_MAX, &t.size,
	    "tree size")) != BG_OK ||
	    (r = rd_lit(&rd, " root=", "\" root=\"")) != BG_OK ||
	    (r = rd_hex(&rd, ' ', t.root, HLEN, "root hash")) != BG_OK ||
	    (r = rd_lit(&rd, " time=", "\" time=\"")) != BG_OK ||
	    (r = rd_dec(&rd, ' ', (uint64_t)INT64_MAX, &v, "time")) != BG_OK ||
	    (r = rd_lit(&rd, " sig=", "\" sig=\"")) != BG_OK ||
	    (r = rd_hex(&rd, ' ', t.sig, BG_TREEHEAD_SIG_LEN, "signature")) !=
	    BG_OK ||
	    (r = rd_end(&rd, "signature")) != BG_OK)
		goto out;
	t.time = (int64_t)v;
	*th = t;
	r = BG_OK;
out:
	return r;
}

/* --- receipts ---------------------------------------------------------------- */

/* "BG1-<size>-<hex16>" into buf; returns its length or 0 on overflow. */
static size_t
receipt_body(uint64_t size, const uint8_t prefix[BG_RECEIPT_PREFIX_LEN],
    char *buf, size_t cap)
{
	char hex[2 * BG_RECEIPT_PREFIX_LEN + 1];
	int n;

	tohex(prefix, BG_RECEIPT_PREFIX_LEN, hex);
	n = snprintf(buf, cap, RC_TAG "%" PRIu64 "-%s", size, hex);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

int
bg_receipt_format(uint64_t size, const uint8_t root[HLEN], char *buf,
    size_t cap)
{
	char body[BG_RECEIPT_MAX];
	size_t n;
	int w, r = BG_ERR_INTERNAL;

	if (buf == NULL || cap == 0)
		return BG_ERR_INVALID_ARG;
	buf[0] = '\0';
	if (root == NULL || size > (uint64_t)INT64_MAX) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((n = receipt_body(size, root, body, sizeof(body))) == 0) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	w = snprintf(buf, cap, "%s-%04x", body, (unsigned)crc16(body, n));
	if (w < 0 || (size_t)w >= cap) {
		buf[0] = '\0';
		r = BG_ERR_RANGE;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_receipt_parse(const char *s, bg_receipt_t *rc, char *why, size_t whycap)
{
	bg_receipt_t t;
	struct rd rd;
	char body[BG_RECEIPT_MAX];
	uint8_t sum[2];
	size_t n;
	int r = BG_ERR_INTERNAL;

	if (why != NULL && whycap > 0)
		why[0] = '\0';
	if (rc != NULL)
		memset(rc, 0, sizeof(*rc));
	if (s == NULL || rc == NULL)
		return BG_ERR_INVALID_ARG;
	memset(&t, 0, sizeof(t));
	rd_init(&rd, s, true, why, whycap);
	if (rd.len == 0) {
		r = rd_fail(&rd, "the receipt is empty");
		goto out;
	}
	if (rd.len >= BG_RECEIPT_MAX) {
		r = rd_fail(&rd, "the receipt is too long (%zu characters or "
		    "more; at most %d)", rd.len, BG_RECEIPT_MAX - 2);
		goto out;
	}
	if (rd.len >= 3 && (s[0] == 'B' || s[0] == 'b') &&
	    (s[1] == 'G' || s[1] == 'g') && s[2] >= '0' && s[2] <= '9' &&
	    s[2] != '1') {
		r = rd_fail(&rd, "receipt version BG%c is not known to this "
		    "program, which reads BG1", s[2]);
		goto out;
	}
	if ((r = rd_lit(&rd, RC_TAG, "a receipt starting \"BG1-\"")) != BG_OK ||
	    (r = rd_dec(&rd, '-', (uint64_t)INT64_MAX, &t.size,
	    "tree size")) != BG_OK)
		goto out;
	if (rd.pos == rd.len) {
		r = rd_fail(&rd, "the root prefix and checksum are missing "
		    "after the tree size");
		goto out;
	}
	rd.pos++;	/* '-' */
	if ((r = rd_hex(&rd, '-', t.root_prefix, BG_RECEIPT_PREFIX_LEN,
	    "root prefix")) != BG_OK)
		goto out;
	if (rd.pos == rd.len) {
		r = rd_fail(&rd, "the checksum (4 hex digits after a '-') is "
		    "missing at the end");
		goto out;
	}
	rd.pos++;	/* '-' */
	if ((r = rd_hex(&rd, '-', sum, sizeof(sum), "checksum")) != BG_OK ||
	    (r = rd_end(&rd, "checksum")) != BG_OK)
		goto out;
	if ((n = receipt_body(t.size, t.root_prefix, body, sizeof(body))) == 0) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	if (crc16(body, n) != (uint16_t)(sum[0] << 8 | sum[1])) {
		r = rd_fail(&rd, "the checksum does not match: a character "
		    "was mistyped or two were swapped");
		goto out;
	}
	*rc = t;
	r = BG_OK;
out:
	return r;
}

int
bg_receipt_matches_root(const bg_receipt_t *rc, const uint8_t root[HLEN])
{
	int r = BG_ERR_INTERNAL;

	if (rc == NULL || root == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (memcmp(rc->root_prefix, root, BG_RECEIPT_PREFIX_LEN) != 0) { /* public: log root */
		r = BG_ERR_AUTH;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_receipt_check(const bg_receipt_t *rc, uint64_t size,
    bg_merkle_leaf_fn *get, void *ctx)
{
	uint8_t root[HLEN];
	int r = BG_ERR_INTERNAL;

	if (rc == NULL || get == NULL)
		return BG_ERR_INVALID_ARG;
	if (rc->size > size) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((r = bg_merkle_root(get, ctx, rc->size, root)) != BG_OK)
		goto out;
	r = bg_receipt_matches_root(rc, root);
out:
	return r;
}
