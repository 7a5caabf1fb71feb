/*
 * Signed keyset chains (chain.h).
 *
 * Three parts: the link as data (members, tokens, deep copies), its one
 * canonical text (encode, and a parser that accepts only what encode
 * writes), and the checks that decide whether a link may stand where it
 * is presented, from signatures alone.  Store-free: the approver's
 * machine and the auditor's verifier link this without SQLite, so nothing
 * here includes vault_int.h or sqlite3.h.
 *
 * What a link needs is derived from the difference between the keyset
 * before it and after it, never from anything the link says about itself
 * (its note is words for people, nothing more).  Every signature is looked
 * up in the keyset the rule draws from: a signature that names alice but
 * was made with a credential alice does not hold there counts for nobody.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "chain.h"
#include "policy.h"

#define LINK_DOMAIN	"breakglass link v1\n"
#define ENROLL_DOMAIN	"breakglass enroll v1\n"

#define RP_ID_MAX	63
#define FMT_MAX		31
#define MIN_AUTHDATA	37	/* rpIdHash, flags, signCount */

/* Settings bounds for tenant links (seconds). */
#define TTL_MIN		60
#define TTL_MAX		(7 * 86400)
#define WINDOW_MIN	60
#define WINDOW_MAX	(30 * 86400)
#define ROTATE_MIN	60
#define ROTATE_MAX	(90 * 86400)

static const uint8_t zero32[32];

/* --- small helpers ------------------------------------------------------ */

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void
clear_why(char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
}

/* A growing sentence; on allocation failure it remembers and stays put. */
struct sb {
	char	*buf;
	size_t	 len, cap;
	bool	 oom;
};

static void sb_add(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap, aq;
	int n;
	size_t need, cap;
	char *nb;

	if (b->oom)
		return;
	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		goto out;
	}
	need = b->len + (size_t)n + 1;
	if (need > b->cap) {
		cap = b->cap == 0 ? 128 : b->cap;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(b->buf, cap)) == NULL) {
			b->oom = true;
			goto out;
		}
		b->buf = nb;
		b->cap = cap;
	}
	(void)vsnprintf(b->buf + b->len, b->cap - b->len, fmt, aq);
	b->len += (size_t)n;
out:
	va_end(aq);
}

static const char *
sb_str(const struct sb *b)
{
	return b->buf != NULL ? b->buf : "";
}

static void
hex_enc(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;		/* upper case is not canonical */
}

/* Lower-case hex of min..max bytes into out; false if anything is off. */
static bool
hex_dec(const char *s, size_t slen, uint8_t *out, size_t min, size_t max,
    size_t *lenp)
{
	size_t i;
	int hi, lo;

	if (slen % 2 != 0 || slen / 2 < min || slen / 2 > max)
		return false;
	for (i = 0; i < slen / 2; i++) {
		if ((hi = hex_nibble(s[2 * i])) < 0 ||
		    (lo = hex_nibble(s[2 * i + 1])) < 0)
			return false;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	if (lenp != NULL)
		*lenp = slen / 2;
	return true;
}

/* Public data only: credential ids, public keys, hashes of public texts. */
static bool
beq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen &&
	    (alen == 0 || memcmp(a, b, alen) == 0); /* public: keyset bytes */
}

static int
cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0; /* public: credential ids */

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static bool
is_zero(const uint8_t *b, size_t n)
{
	return sodium_is_zero(b, n) == 1;
}

/* A short printable handle for a credential in sentences. */
static void
cred_short(const bg_chain_token_t *t, char out[17])
{
	hex_enc(t->cred_id, t->cred_id_len < 8 ? t->cred_id_len : 8, out);
}

/* NUL inside cap bytes, and the length. */
static bool
bounded(const char *s, size_t cap, size_t *lenp)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	*lenp = n;
	return true;
}

/* A name (bg_policy_name_ok) inside a buffer of cap bytes. */
static bool
name_ok(const char *s, size_t cap)
{
	size_t n;

	return bounded(s, cap, &n) && n <= BG_CHAIN_NAME_MAX &&
	    bg_policy_name_ok(s, n);
}

static bool
vault_id_ok(const char *s, size_t cap)
{
	size_t n, i;

	if (!bounded(s, cap, &n) || n != 32)
		return false;
	for (i = 0; i < n; i++)
		if (hex_nibble(s[i]) < 0)
			return false;
	return true;
}

static bool
rp_id_ok(const char *s, size_t cap)
{
	size_t n, i;
	char c;

	if (!bounded(s, cap, &n) || n < 1 || n > RP_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == ':'))
			return false;
	}
	return true;
}

static bool
fmt_ok(const char *s, size_t cap)
{
	size_t n;

	return bounded(s, cap, &n) && n <= FMT_MAX && name_ok(s, cap);
}

/*
 * Text a person reads (labels, notes, reasons): well-formed UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF) without C0 or
 * C1 controls, DEL, line or paragraph separators, or the bidirectional
 * controls that make a text display other than it reads.
 */
static bool
text_ok(const char *s, size_t cap, size_t maxlen)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n, i = 0, k, j;
	uint32_t c;

	if (!bounded(s, cap, &n) || n > maxlen)
		return false;
	while (i < n) {
		if (p[i] < 0x80) {
			c = p[i];
			k = 1;
		} else if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			c = (uint32_t)(p[i] & 0x1f);
			k = 2;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			c = (uint32_t)(p[i] & 0x0f);
			k = 3;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			c = (uint32_t)(p[i] & 0x07);
			k = 4;
		} else {
			return false;
		}
		if (n - i < k)
			return false;
		for (j = 1; j < k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (uint32_t)(p[i + j] & 0x3f);
		}
		if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 ||
		    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
			return false;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return false;
		if (c == 0x061c || c == 0x200e || c == 0x200f ||
		    (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069) ||
		    c == 0x2028 || c == 0x2029)
			return false;
		i += k;
	}
	return true;
}

bool
bg_chain_text_ok(const char *s, size_t maxlen)
{
	return s != NULL && text_ok(s, maxlen + 1, maxlen);
}

static const char *
role_name(int role)
{
	switch (role) {
	case BG_CHAIN_ROLE_REQUESTER:	return "requester";
	case BG_CHAIN_ROLE_APPROVER:	return "approver";
	case BG_CHAIN_ROLE_AUDITOR:	return "auditor";
	case BG_CHAIN_ROLE_OPERATOR:	return "operator";
	case BG_CHAIN_ROLE_CUSTODIAN:	return "custodian";
	default:			return NULL;
	}
}

static int
role_from(const char *s)
{
	int r;

	for (r = BG_CHAIN_ROLE_REQUESTER; r <= BG_CHAIN_ROLE_CUSTODIAN; r++)
		if (strcmp(s, role_name(r)) == 0)
			return r;
	return 0;
}

static const char *
side_name(int side)
{
	switch (side) {
	case BG_CHAIN_SIDE_NONE:	return "none";
	case BG_CHAIN_SIDE_CLIENT:	return "client";
	case BG_CHAIN_SIDE_MSP:		return "msp";
	default:			return NULL;
	}
}

static int
side_from(const char *s)
{
	if (strcmp(s, "none") == 0)
		return BG_CHAIN_SIDE_NONE;
	if (strcmp(s, "client") == 0)
		return BG_CHAIN_SIDE_CLIENT;
	if (strcmp(s, "msp") == 0)
		return BG_CHAIN_SIDE_MSP;
	return -1;
}

static int
cmp_member(const bg_chain_member_t *a, const bg_chain_member_t *b)
{
	int c = strcmp(a->person, b->person);

	if (c != 0)
		return c;
	return a->role < b->role ? -1 : a->role > b->role ? 1 : 0;
}

static int
qcmp_member(const void *a, const void *b)
{
	const bg_chain_member_t *const *x = a, *const *y = b;

	return cmp_member(*x, *y);
}

static int
qcmp_token(const void *a, const void *b)
{
	const bg_chain_token_t *const *x = a, *const *y = b;

	return cmp_bytes((*x)->cred_id, (*x)->cred_id_len, (*y)->cred_id,
	    (*y)->cred_id_len);
}

static const bg_chain_token_t *
find_token(const bg_chain_member_t *m, const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < m->n_tokens; i++)
		if (beq(m->tokens[i].cred_id, m->tokens[i].cred_id_len, id,
		    len))
			return &m->tokens[i];
	return NULL;
}

static bool
token_same(const bg_chain_token_t *a, const bg_chain_token_t *b)
{
	return strcmp(a->label, b->label) == 0 && a->alg == b->alg &&
	    beq(a->cred_id, a->cred_id_len, b->cred_id, b->cred_id_len) &&
	    beq(a->pubkey, a->pubkey_len, b->pubkey, b->pubkey_len) &&
	    beq(a->aaguid, 16, b->aaguid, 16) && a->soft == b->soft &&
	    strcmp(a->fmt, b->fmt) == 0 &&
	    a->attestation == b->attestation &&
	    a->cred_protect == b->cred_protect &&
	    beq(a->member_pk, 32, b->member_pk, 32) &&
	    beq(a->enroll_authdata, a->enroll_authdata_len,
	    b->enroll_authdata, b->enroll_authdata_len) &&
	    beq(a->enroll_sig, a->enroll_sig_len, b->enroll_sig,
	    b->enroll_sig_len) &&
	    beq(a->att_authdata, a->att_authdata_len, b->att_authdata,
	    b->att_authdata_len) &&
	    beq(a->att_stmt, a->att_stmt_len, b->att_stmt, b->att_stmt_len) &&
	    beq(a->att_cdh, 32, b->att_cdh, 32);
}

static bool
is_soft_aaguid(const uint8_t aaguid[16])
{
	return beq(aaguid, 16, bg_token_soft_aaguid, BG_TOKEN_AAGUID_LEN);
}

/* --- links as data ------------------------------------------------------ */

static void
member_clear(bg_chain_member_t *m)
{
	free(m->tokens);
	m->tokens = NULL;
	m->n_tokens = 0;
}

bg_chain_link_t *
bg_chain_link_new(void)
{
	return calloc(1, sizeof(bg_chain_link_t));
}

void
bg_chain_link_free(bg_chain_link_t **lp)
{
	bg_chain_link_t *l;
	size_t i;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (i = 0; i < l->n_members && l->members != NULL; i++)
		member_clear(&l->members[i]);
	free(l->members);
	free(l->policy);
	bg_attest_trust_free(&l->trust);
	free(l);
	*lp = NULL;
}

/* Deep copy of m into out (out's old contents are not freed). */
static int
member_copy(const bg_chain_member_t *m, bg_chain_member_t *out)
{
	bg_chain_token_t *toks = NULL;

	if (m->n_tokens > BG_CHAIN_MAX_TOKENS ||
	    (m->n_tokens > 0 && m->tokens == NULL))
		return BG_ERR_INVALID_ARG;
	if (m->n_tokens > 0) {
		if ((toks = calloc(m->n_tokens, sizeof(*toks))) == NULL)
			return BG_ERR_NOMEM;
		memcpy(toks, m->tokens, m->n_tokens * sizeof(*toks));
	}
	*out = *m;
	out->tokens = toks;
	return BG_OK;
}

int
bg_chain_link_dup(const bg_chain_link_t *l, bg_chain_link_t **outp)
{
	bg_chain_link_t *c = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	if (outp != NULL)
		*outp = NULL;
	if (l == NULL || outp == NULL || l->n_members > BG_CHAIN_MAX_MEMBERS ||
	    (l->n_members > 0 && l->members == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((c = bg_chain_link_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	*c = *l;
	c->members = NULL;
	c->n_members = 0;
	c->policy = NULL;
	c->trust = NULL;
	if (l->policy != NULL && (c->policy = strdup(l->policy)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_attest_trust_dup(l->trust, &c->trust)) != BG_OK)
		goto out;
	if (l->n_members > 0) {
		if ((c->members = calloc(l->n_members,
		    sizeof(*c->members))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < l->n_members; i++) {
			if ((r = member_copy(&l->members[i], &c->members[i]))
			    != BG_OK)
				goto out;
			c->n_members = i + 1;
		}
	}
	*outp = c;
	c = NULL;	/* transferred */
	r = BG_OK;
out:
	bg_chain_link_free(&c);
	return r;
}

bg_chain_member_t *
bg_chain_member_find(const bg_chain_link_t *l, const char *person, int role)
{
	size_t i;

	if (l == NULL || person == NULL || l->members == NULL)
		return NULL;
	for (i = 0; i < l->n_members; i++)
		if (l->members[i].role == role &&
		    strcmp(l->members[i].person, person) == 0)
			return &l->members[i];
	return NULL;
}

int
bg_chain_member_add(bg_chain_link_t *l, const bg_chain_member_t *m)
{
	bg_chain_member_t *nm = NULL, copy;
	size_t i, at;
	int r = BG_ERR_INTERNAL;

	memset(&copy, 0, sizeof(copy));
	if (l == NULL || m == NULL || !name_ok(m->person, sizeof(m->person)) ||
	    role_name(m->role) == NULL ||
	    (l->n_members > 0 && l->members == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (bg_chain_member_find(l, m->person, m->role) != NULL) {
		r = BG_ERR_EXISTS;
		goto out;
	}
	if (l->n_members >= BG_CHAIN_MAX_MEMBERS) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((r = member_copy(m, &copy)) != BG_OK)
		goto out;
	if ((nm = realloc(l->members, (l->n_members + 1) * sizeof(*nm))) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	l->members = nm;
	for (at = 0; at < l->n_members; at++)
		if (cmp_member(&l->members[at], m) > 0)
			break;
	for (i = l->n_members; i > at; i--)
		l->members[i] = l->members[i - 1];
	l->members[at] = copy;
	l->n_members++;
	memset(&copy, 0, sizeof(copy));	/* transferred */
	r = BG_OK;
out:
	member_clear(&copy);
	return r;
}

int
bg_chain_member_remove(bg_chain_link_t *l, const char *person, int role)
{
	bg_chain_member_t *m;
	size_t i, at;
	int r = BG_ERR_INTERNAL;

	if (l == NULL || person == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((m = bg_chain_member_find(l, person, role)) == NULL) {
		r = BG_ERR_NOT_FOUND;
		goto out;
	}
	at = (size_t)(m - l->members);
	member_clear(m);
	for (i = at; i + 1 < l->n_members; i++)
		l->members[i] = l->members[i + 1];
	l->n_members--;
	if (l->n_members == 0) {
		free(l->members);
		l->members = NULL;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_chain_member_add_token(bg_chain_member_t *m, const bg_chain_token_t *tok)
{
	bg_chain_token_t *nt;
	size_t i, at;
	int r = BG_ERR_INTERNAL;

	if (m == NULL || tok == NULL || tok->cred_id_len == 0 ||
	    tok->cred_id_len > BG_CHAIN_CRED_MAX ||
	    tok->pubkey_len > BG_CHAIN_PUBKEY_MAX ||
	    tok->enroll_authdata_len > BG_CHAIN_AUTHDATA_MAX ||
	    tok->enroll_sig_len > BG_CHAIN_SIG_MAX ||
	    tok->att_authdata_len > BG_ATTEST_AUTHDATA_MAX ||
	    tok->att_stmt_len > BG_ATTEST_STMT_MAX ||
	    (m->n_tokens > 0 && m->tokens == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (find_token(m, tok->cred_id, tok->cred_id_len) != NULL) {
		r = BG_ERR_EXISTS;
		goto out;
	}
	if (m->n_tokens >= BG_CHAIN_MAX_TOKENS) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((nt = realloc(m->tokens, (m->n_tokens + 1) * sizeof(*nt))) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	m->tokens = nt;
	/* kept in the canonical order: by credential id bytes */
	for (at = 0; at < m->n_tokens; at++)
		if (cmp_bytes(m->tokens[at].cred_id, m->tokens[at].cred_id_len,
		    tok->cred_id, tok->cred_id_len) > 0)
			break;
	for (i = m->n_tokens; i > at; i--)
		m->tokens[i] = m->tokens[i - 1];
	m->tokens[at] = *tok;
	m->n_tokens++;
	r = BG_OK;
out:
	return r;
}

bool
bg_chain_find_cred(const bg_chain_link_t *l, const uint8_t *cred_id,
    size_t cred_id_len, const bg_chain_member_t **mp,
    const bg_chain_token_t **tp)
{
	const bg_chain_token_t *t;
	size_t i;

	if (mp != NULL)
		*mp = NULL;
	if (tp != NULL)
		*tp = NULL;
	if (l == NULL || cred_id == NULL || l->members == NULL)
		return false;
	for (i = 0; i < l->n_members; i++) {
		if ((t = find_token(&l->members[i], cred_id, cred_id_len)) ==
		    NULL)
			continue;
		if (mp != NULL)
			*mp = &l->members[i];
		if (tp != NULL)
			*tp = t;
		return true;
	}
	return false;
}

/* --- the canonical text ------------------------------------------------- */

/*
 * What the text format itself demands, shared by encode and parse (so a
 * link that encodes also parses back): types, lengths, names, hex, text,
 * enumerations and their scope, the policy's canonical form.  Rules about
 * a link's place in a chain (signatures, settings bounds, non-zero keys)
 * are bg_chain_check's.  Duplicates are found where the arrays are sorted.
 */
static int
validate_token(const bg_chain_token_t *t, const char *who, size_t ti,
    char *why, size_t whylen)
{
	if (!text_ok(t->label, sizeof(t->label), BG_CHAIN_NAME_MAX)) {
		say(why, whylen, "%s: the label of credential %zu is not "
		    "plain text of at most %d bytes", who, ti,
		    BG_CHAIN_NAME_MAX);
		return BG_ERR_INVALID_ARG;
	}
	if (t->alg != BG_TOKEN_ES256 && t->alg != BG_TOKEN_EDDSA) {
		say(why, whylen, "%s: credential %zu has an unknown "
		    "algorithm", who, ti);
		return BG_ERR_INVALID_ARG;
	}
	if (t->cred_id_len < 1 || t->cred_id_len > BG_CHAIN_CRED_MAX) {
		say(why, whylen, "%s: credential %zu has an id of %zu "
		    "bytes (1..%d)", who, ti, t->cred_id_len,
		    BG_CHAIN_CRED_MAX);
		return BG_ERR_INVALID_ARG;
	}
	if (t->pubkey_len != (t->alg == BG_TOKEN_ES256 ? 64u : 32u)) {
		say(why, whylen, "%s: credential %zu has a public key of "
		    "the wrong length for its algorithm", who, ti);
		return BG_ERR_INVALID_ARG;
	}
	if (!fmt_ok(t->fmt, sizeof(t->fmt))) {
		say(why, whylen, "%s: credential %zu has an attestation "
		    "format that is not a short lower-case word", who, ti);
		return BG_ERR_INVALID_ARG;
	}
	if (t->enroll_authdata_len > BG_CHAIN_AUTHDATA_MAX ||
	    t->enroll_sig_len > BG_CHAIN_SIG_MAX) {
		say(why, whylen, "%s: credential %zu has an over-long "
		    "enrollment proof", who, ti);
		return BG_ERR_INVALID_ARG;
	}
	/* attestation evidence: all three parts or none */
	if (t->att_authdata_len > BG_ATTEST_AUTHDATA_MAX ||
	    t->att_stmt_len > BG_ATTEST_STMT_MAX ||
	    (t->att_stmt_len == 0) != (t->att_authdata_len == 0) ||
	    (t->att_stmt_len == 0 && !is_zero(t->att_cdh, 32))) {
		say(why, whylen, "%s: credential %zu has incomplete or "
		    "over-long attestation evidence", who, ti);
		return BG_ERR_INVALID_ARG;
	}
	return BG_OK;
}

static int
validate_member(const bg_chain_link_t *l, const bg_chain_member_t *m,
    char *why, size_t whylen)
{
	char who[BG_CHAIN_NAME_MAX + 16];
	size_t i;
	int r;

	if (!name_ok(m->person, sizeof(m->person))) {
		say(why, whylen, "a member's name is not 1..%d characters of "
		    "a-z, 0-9, '.', '_', '-' starting with a letter or digit",
		    BG_CHAIN_NAME_MAX);
		return BG_ERR_INVALID_ARG;
	}
	if (role_name(m->role) == NULL) {
		say(why, whylen, "%s has an unknown role", m->person);
		return BG_ERR_INVALID_ARG;
	}
	(void)snprintf(who, sizeof(who), "%s (%s)", m->person,
	    role_name(m->role));
	if ((l->scope == BG_CHAIN_VAULT) !=
	    (m->role == BG_CHAIN_ROLE_CUSTODIAN)) {
		say(why, whylen, "%s: custodians belong in vault links and "
		    "only there", who);
		return BG_ERR_INVALID_ARG;
	}
	if ((m->role == BG_CHAIN_ROLE_APPROVER) !=
	    (m->side == BG_CHAIN_SIDE_CLIENT || m->side == BG_CHAIN_SIDE_MSP) ||
	    side_name(m->side) == NULL) {
		say(why, whylen, "%s: approvers stand on the client or the "
		    "MSP side, other roles on none", who);
		return BG_ERR_INVALID_ARG;
	}
	if (m->expires_at < 0 || (m->role == BG_CHAIN_ROLE_CUSTODIAN &&
	    m->expires_at != 0)) {
		say(why, whylen, "%s: the expiry is out of range", who);
		return BG_ERR_INVALID_ARG;
	}
	if (m->n_tokens > BG_CHAIN_MAX_TOKENS ||
	    (m->n_tokens > 0 && m->tokens == NULL)) {
		say(why, whylen, "%s: more than %d credentials", who,
		    BG_CHAIN_MAX_TOKENS);
		return BG_ERR_INVALID_ARG;
	}
	for (i = 0; i < m->n_tokens; i++)
		if ((r = validate_token(&m->tokens[i], who, i, why, whylen)) !=
		    BG_OK)
			return r;
	return BG_OK;
}

static int
validate_trust(const bg_chain_link_t *l, char *why, size_t whylen)
{
	if (l->trust == NULL)
		return BG_OK;
	if (l->scope != BG_CHAIN_VAULT) {
		say(why, whylen, "a trust store belongs in vault links only");
		return BG_ERR_INVALID_ARG;
	}
	if (bg_attest_trust_validate(l->trust, why, whylen) != BG_OK)
		return BG_ERR_INVALID_ARG;
	return BG_OK;
}

static int
validate_link(const bg_chain_link_t *l, char *why, size_t whylen)
{
	const bg_chain_settings_t *s = &l->settings;
	bg_policy_t *p = NULL;
	bg_policy_error_t perr;
	size_t i, n;
	int r = BG_ERR_INVALID_ARG;

	if (l->scope != BG_CHAIN_VAULT && l->scope != BG_CHAIN_TENANT) {
		say(why, whylen, "the scope is neither vault nor tenant");
		goto out;
	}
	if (!vault_id_ok(l->vault_id, sizeof(l->vault_id))) {
		say(why, whylen, "the vault id is not 32 lower-case hex "
		    "digits");
		goto out;
	}
	if (!rp_id_ok(l->rp_id, sizeof(l->rp_id))) {
		say(why, whylen, "the relying-party id is not 1..%d "
		    "characters of letters, digits, '.', '-', '_', ':'",
		    RP_ID_MAX);
		goto out;
	}
	if (l->scope == BG_CHAIN_VAULT) {
		if (!bounded(l->tenant, sizeof(l->tenant), &n) || n != 0 ||
		    l->vault_seq != 0 || l->seq > (uint64_t)INT64_MAX) {
			say(why, whylen, "a vault link has no tenant and "
			    "vault_seq 0");
			goto out;
		}
		/* The genesis is the vault's identity and has none before
		 * it; every later vault link names both. */
		if ((l->seq == 0) != is_zero(l->genesis, sizeof(l->genesis)) ||
		    (l->seq == 0) != is_zero(l->prev, sizeof(l->prev))) {
			say(why, whylen, "the genesis and prev hashes are zero "
			    "in vault link 0 (the genesis) and only there");
			goto out;
		}
	} else {
		if (!name_ok(l->tenant, sizeof(l->tenant))) {
			say(why, whylen, "the tenant name is not 1..%d "
			    "characters of a-z, 0-9, '.', '_', '-'",
			    BG_CHAIN_NAME_MAX);
			goto out;
		}
		if (l->seq < 1 || l->seq > (uint64_t)INT64_MAX) {
			say(why, whylen, "a tenant link's sequence number is "
			    "1 or more");
			goto out;
		}
		if ((l->seq == 1) != is_zero(l->prev, sizeof(l->prev))) {
			say(why, whylen, "the prev hash is zero for link 1 "
			    "and only there");
			goto out;
		}
		if (l->vault_seq > (uint64_t)INT64_MAX) {
			say(why, whylen, "the vault link number is out of "
			    "range");
			goto out;
		}
	}
	if (l->time < 0) {
		say(why, whylen, "the time is negative");
		goto out;
	}
	if (!text_ok(l->note, sizeof(l->note), BG_CHAIN_REASON_MAX)) {
		say(why, whylen, "the note is not plain text of at most %d "
		    "bytes (no control or bidirectional characters)",
		    BG_CHAIN_REASON_MAX);
		goto out;
	}
	if (l->n_members > BG_CHAIN_MAX_MEMBERS ||
	    (l->n_members > 0 && l->members == NULL)) {
		say(why, whylen, "more than %d members", BG_CHAIN_MAX_MEMBERS);
		goto out;
	}
	for (i = 0; i < l->n_members; i++)
		if ((r = validate_member(l, &l->members[i], why, whylen)) !=
		    BG_OK)
			goto out;
	if ((r = validate_trust(l, why, whylen)) != BG_OK)
		goto out;
	r = BG_ERR_INVALID_ARG;
	if (l->policy != NULL) {
		if (bg_policy_parse(l->policy, &p, &perr) != BG_OK ||
		    strcmp(bg_policy_canonical(p), l->policy) != 0) {
			say(why, whylen, "the policy is not a policy in "
			    "canonical form");
			goto out;
		}
	}
	if (s->max_ttl < 0 || s->approval_window < 0 ||
	    s->rotation_deadline < 0 || s->client_cosign < 0 ||
	    s->client_cosign > BG_CHAIN_MAX_MEMBERS ||
	    s->custodian_quorum < 0 ||
	    s->custodian_quorum > BG_CHAIN_MAX_MEMBERS) {
		say(why, whylen, "a setting is out of range");
		goto out;
	}
	if (l->has_exception && (l->exception_expires <= 0 ||
	    !text_ok(l->exception_reason, sizeof(l->exception_reason),
	    BG_CHAIN_REASON_MAX) || l->exception_reason[0] == '\0')) {
		say(why, whylen, "the exception needs a reason in plain text "
		    "of at most %d bytes and an expiry", BG_CHAIN_REASON_MAX);
		goto out;
	}
	r = BG_OK;
out:
	bg_policy_free(&p);
	return r;
}

static json_t *
hex_json(const uint8_t *b, size_t n)
{
	char *h;
	json_t *j;

	if ((h = malloc(2 * n + 1)) == NULL)
		return NULL;
	hex_enc(b, n, h);
	j = json_string(h);
	free(h);
	return j;
}

/* Set o[k] = v, taking v; -1 if v is NULL or the set failed. */
static int
oset(json_t *o, const char *k, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, k, v);
}

/* A token's attestation evidence: present exactly when kept. */
static json_t *
att_json(const bg_chain_token_t *t)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (oset(o, "authdata", hex_json(t->att_authdata,
	    t->att_authdata_len)) != 0 ||
	    oset(o, "cdh", hex_json(t->att_cdh, 32)) != 0 ||
	    oset(o, "stmt", hex_json(t->att_stmt, t->att_stmt_len)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A vault link's trust store: present exactly when it pins one. */
static json_t *
trust_json(const bg_attest_trust_t *ts)
{
	json_t *o, *roots = NULL, *ids = NULL;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if ((roots = json_array()) == NULL || (ids = json_array()) == NULL)
		goto fail;
	for (i = 0; i < ts->n_roots; i++)
		if (json_array_append_new(roots, hex_json(ts->roots[i].der,
		    ts->roots[i].len)) != 0)
			goto fail;
	for (i = 0; i < ts->n_aaguids; i++)
		if (json_array_append_new(ids, hex_json(ts->aaguids[i], 16))
		    != 0)
			goto fail;
	if (oset(o, "fido_root", ts->fido_root != NULL ?
	    hex_json(ts->fido_root, ts->fido_root_len) : json_null()) != 0 ||
	    oset(o, "mds", ts->mds != NULL ? json_string(ts->mds) :
	    json_null()) != 0)
		goto fail;
	if (json_object_set(o, "roots", roots) != 0 ||
	    json_object_set(o, "aaguids", ids) != 0)
		goto fail;
	json_decref(roots);
	json_decref(ids);
	return o;
fail:
	json_decref(roots);
	json_decref(ids);
	json_decref(o);
	return NULL;
}

static json_t *
token_json(const bg_chain_token_t *t)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (oset(o, "label", json_string(t->label)) != 0 ||
	    oset(o, "alg", json_integer(t->alg)) != 0 ||
	    oset(o, "cred_id", hex_json(t->cred_id, t->cred_id_len)) != 0 ||
	    oset(o, "pubkey", hex_json(t->pubkey, t->pubkey_len)) != 0 ||
	    oset(o, "aaguid", hex_json(t->aaguid, sizeof(t->aaguid))) != 0 ||
	    oset(o, "soft", json_boolean(t->soft)) != 0 ||
	    oset(o, "fmt", json_string(t->fmt)) != 0 ||
	    oset(o, "attestation", json_integer(t->attestation)) != 0 ||
	    oset(o, "cred_protect", json_integer(t->cred_protect)) != 0 ||
	    oset(o, "member_pk", hex_json(t->member_pk,
	    sizeof(t->member_pk))) != 0 ||
	    oset(o, "enroll_authdata", hex_json(t->enroll_authdata,
	    t->enroll_authdata_len)) != 0 ||
	    oset(o, "enroll_sig", hex_json(t->enroll_sig,
	    t->enroll_sig_len)) != 0 ||
	    (t->att_stmt_len > 0 && oset(o, "att", att_json(t)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
member_json(const bg_chain_member_t *m, json_t **outp, char *why,
    size_t whylen)
{
	const bg_chain_token_t **ts = NULL;
	json_t *o = NULL, *arr = NULL;
	size_t i;
	int r = BG_ERR_NOMEM;

	*outp = NULL;
	if (m->n_tokens > 0) {
		if ((ts = calloc(m->n_tokens, sizeof(*ts))) == NULL)
			goto out;
		for (i = 0; i < m->n_tokens; i++)
			ts[i] = &m->tokens[i];
		qsort(ts, m->n_tokens, sizeof(*ts), qcmp_token);
	}
	for (i = 1; i < m->n_tokens; i++) {
		if (qcmp_token(&ts[i - 1], &ts[i]) == 0) {
			say(why, whylen, "%s (%s) holds one credential twice",
			    m->person, role_name(m->role));
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
	}
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < m->n_tokens; i++)
		if (json_array_append_new(arr, token_json(ts[i])) != 0)
			goto out;
	if (oset(o, "person", json_string(m->person)) != 0 ||
	    oset(o, "role", json_string(role_name(m->role))) != 0 ||
	    oset(o, "side", json_string(side_name(m->side))) != 0 ||
	    oset(o, "expires", json_integer(m->expires_at)) != 0 ||
	    oset(o, "salt", hex_json(m->salt, sizeof(m->salt))) != 0)
		goto out;
	r = oset(o, "tokens", arr);
	arr = NULL;	/* taken */
	if (r != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	*outp = o;
	o = NULL;	/* transferred */
	r = BG_OK;
out:
	json_decref(arr);
	json_decref(o);
	free(ts);
	return r;
}

static json_t *
settings_json(const bg_chain_settings_t *s)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (oset(o, "max_ttl", json_integer(s->max_ttl)) != 0 ||
	    oset(o, "approval_window", json_integer(s->approval_window)) != 0 ||
	    oset(o, "rotation_deadline", json_integer(s->rotation_deadline))
	    != 0 ||
	    oset(o, "client_cosign", json_integer(s->client_cosign)) != 0 ||
	    oset(o, "allow_soft", json_boolean(s->allow_soft)) != 0 ||
	    oset(o, "custodian_quorum", json_integer(s->custodian_quorum))
	    != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
exception_json(const bg_chain_link_t *l)
{
	json_t *o;

	if (!l->has_exception)
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	if (oset(o, "reason", json_string(l->exception_reason)) != 0 ||
	    oset(o, "expires", json_integer(l->exception_expires)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
encode(const bg_chain_link_t *l, char **textp, char *why, size_t whylen)
{
	const bg_chain_member_t **ms = NULL;
	json_t *root = NULL, *arr = NULL, *jm = NULL;
	char *text = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	*textp = NULL;
	if ((r = validate_link(l, why, whylen)) != BG_OK)
		goto out;
	if (l->n_members > 0) {
		if ((ms = calloc(l->n_members, sizeof(*ms))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < l->n_members; i++)
			ms[i] = &l->members[i];
		qsort(ms, l->n_members, sizeof(*ms), qcmp_member);
	}
	for (i = 1; i < l->n_members; i++) {
		if (cmp_member(ms[i - 1], ms[i]) == 0) {
			say(why, whylen, "%s is listed twice as %s",
			    ms[i]->person, role_name(ms[i]->role));
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
	}
	if ((arr = json_array()) == NULL || (root = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < l->n_members; i++) {
		if ((r = member_json(ms[i], &jm, why, whylen)) != BG_OK)
			goto out;
		if (json_array_append_new(arr, jm) != 0) {
			jm = NULL;
			r = BG_ERR_NOMEM;
			goto out;
		}
		jm = NULL;
	}
	r = BG_ERR_NOMEM;
	if (oset(root, "v", json_integer(BG_CHAIN_VERSION)) != 0 ||
	    oset(root, "scope", json_string(l->scope == BG_CHAIN_VAULT ?
	    "vault" : "tenant")) != 0 ||
	    oset(root, "vault_id", json_string(l->vault_id)) != 0 ||
	    oset(root, "vault_seq", json_integer((json_int_t)l->vault_seq))
	    != 0 ||
	    oset(root, "rp_id", json_string(l->rp_id)) != 0 ||
	    oset(root, "genesis", hex_json(l->genesis, sizeof(l->genesis)))
	    != 0 ||
	    oset(root, "tenant", json_string(l->tenant)) != 0 ||
	    oset(root, "seq", json_integer((json_int_t)l->seq)) != 0 ||
	    oset(root, "prev", hex_json(l->prev, sizeof(l->prev))) != 0 ||
	    oset(root, "time", json_integer(l->time)) != 0 ||
	    oset(root, "note", json_string(l->note)) != 0 ||
	    oset(root, "policy", l->policy != NULL ?
	    json_string(l->policy) : json_null()) != 0 ||
	    oset(root, "settings", settings_json(&l->settings)) != 0 ||
	    oset(root, "exception", exception_json(l)) != 0 ||
	    (l->trust != NULL && oset(root, "trust", trust_json(l->trust))
	    != 0))
		goto out;
	r = oset(root, "members", arr);
	arr = NULL;	/* taken */
	if (r != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	*textp = text;
	text = NULL;	/* transferred */
	r = BG_OK;
out:
	free(text);
	json_decref(jm);
	json_decref(arr);
	json_decref(root);
	free(ms);
	return r;
}

int
bg_chain_link_encode(const bg_chain_link_t *l, char **textp)
{
	if (textp != NULL)
		*textp = NULL;
	if (l == NULL || textp == NULL)
		return BG_ERR_INVALID_ARG;
	return encode(l, textp, NULL, 0);
}

/* --- parsing ------------------------------------------------------------ */

static bool keys_exact(const json_t *o, const char *const *keys, size_t n,
    const char *where, char *why, size_t whylen);

/* Exactly these keys, and opt (may be absent; encode writes it only when
 * there is something to carry). */
static bool
keys_exact_opt(const json_t *o, const char *const *keys, size_t n,
    const char *opt, const char *where, char *why, size_t whylen)
{
	json_t *c;
	bool ok;

	if (json_is_object(o) && json_object_get(o, opt) != NULL) {
		if ((c = json_copy((json_t *)(uintptr_t)o)) == NULL) {
			say(why, whylen, "%s: out of memory", where);
			return false;
		}
		(void)json_object_del(c, opt);
		ok = keys_exact(c, keys, n, where, why, whylen);
		json_decref(c);
		return ok;
	}
	return keys_exact(o, keys, n, where, why, whylen);
}

/* Exactly these keys (none missing, none unknown). */
static bool
keys_exact(const json_t *o, const char *const *keys, size_t n,
    const char *where, char *why, size_t whylen)
{
	size_t i;

	if (!json_is_object(o)) {
		say(why, whylen, "%s: not an object", where);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (json_object_get(o, keys[i]) == NULL) {
			say(why, whylen, "%s: '%s' is missing", where,
			    keys[i]);
			return false;
		}
	}
	if (json_object_size(o) != n) {
		say(why, whylen, "%s: an unknown key", where);
		return false;
	}
	return true;
}

static bool
get_str(const json_t *o, const char *key, char *dst, size_t cap,
    const char *where, char *why, size_t whylen)
{
	const json_t *j = json_object_get(o, key);
	size_t n;

	if (!json_is_string(j)) {
		say(why, whylen, "%s: '%s' is not a string", where, key);
		return false;
	}
	n = json_string_length(j);
	if (n >= cap || strlen(json_string_value(j)) != n) {
		say(why, whylen, "%s: '%s' is longer than %zu bytes", where,
		    key, cap - 1);
		return false;
	}
	memcpy(dst, json_string_value(j), n + 1);
	return true;
}

static bool
get_int(const json_t *o, const char *key, int64_t min, int64_t max,
    int64_t *v, const char *where, char *why, size_t whylen)
{
	const json_t *j = json_object_get(o, key);
	json_int_t x;

	if (!json_is_integer(j)) {
		say(why, whylen, "%s: '%s' is not an integer", where, key);
		return false;
	}
	x = json_integer_value(j);
	if (x < min || x > max) {
		say(why, whylen, "%s: '%s' is out of range", where, key);
		return false;
	}
	*v = (int64_t)x;
	return true;
}

static bool
get_hex(const json_t *o, const char *key, uint8_t *dst, size_t min,
    size_t max, size_t *lenp, const char *where, char *why, size_t whylen)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_string(j) || !hex_dec(json_string_value(j),
	    json_string_length(j), dst, min, max, lenp)) {
		if (min == max)
			say(why, whylen, "%s: '%s' is not lower-case hex of "
			    "%zu bytes", where, key, min);
		else
			say(why, whylen, "%s: '%s' is not lower-case hex of "
			    "%zu..%zu bytes", where, key, min, max);
		return false;
	}
	return true;
}

static bool
get_bool(const json_t *o, const char *key, bool *v, const char *where,
    char *why, size_t whylen)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_boolean(j)) {
		say(why, whylen, "%s: '%s' is not true or false", where, key);
		return false;
	}
	*v = json_is_true(j);
	return true;
}

static const char *const link_keys[] = {
	"exception", "genesis", "members", "note", "policy", "prev", "rp_id",
	"scope", "seq", "settings", "tenant", "time", "v", "vault_id",
	"vault_seq",
};
static const char *const member_keys[] = {
	"expires", "person", "role", "salt", "side", "tokens",
};
static const char *const token_keys[] = {
	"aaguid", "alg", "attestation", "cred_id", "cred_protect",
	"enroll_authdata", "enroll_sig", "fmt", "label", "member_pk", "pubkey",
	"soft",
};
static const char *const settings_keys[] = {
	"allow_soft", "approval_window", "client_cosign", "custodian_quorum",
	"max_ttl", "rotation_deadline",
};
static const char *const exception_keys[] = { "expires", "reason" };
static const char *const att_keys[] = { "authdata", "cdh", "stmt" };
static const char *const trust_keys[] = {
	"aaguids", "fido_root", "mds", "roots",
};

#define NKEYS(a)	(sizeof(a) / sizeof((a)[0]))

static bool
token_from(const json_t *o, bg_chain_token_t *t, const char *where,
    char *why, size_t whylen)
{
	int64_t alg, att, cp;
	const json_t *a;

	if (!keys_exact_opt(o, token_keys, NKEYS(token_keys), "att", where,
	    why, whylen) ||
	    !get_str(o, "label", t->label, sizeof(t->label), where, why,
	    whylen) ||
	    !get_int(o, "alg", -65536, 65536, &alg, where, why, whylen) ||
	    !get_hex(o, "cred_id", t->cred_id, 1, BG_CHAIN_CRED_MAX,
	    &t->cred_id_len, where, why, whylen) ||
	    !get_hex(o, "pubkey", t->pubkey, 1, BG_CHAIN_PUBKEY_MAX,
	    &t->pubkey_len, where, why, whylen) ||
	    !get_hex(o, "aaguid", t->aaguid, 16, 16, NULL, where, why,
	    whylen) ||
	    !get_bool(o, "soft", &t->soft, where, why, whylen) ||
	    !get_str(o, "fmt", t->fmt, sizeof(t->fmt), where, why, whylen) ||
	    !get_int(o, "attestation", 0, 2, &att, where, why, whylen) ||
	    !get_int(o, "cred_protect", 0, 3, &cp, where, why, whylen) ||
	    !get_hex(o, "member_pk", t->member_pk, 32, 32, NULL, where, why,
	    whylen) ||
	    !get_hex(o, "enroll_authdata", t->enroll_authdata, 0,
	    BG_CHAIN_AUTHDATA_MAX, &t->enroll_authdata_len, where, why,
	    whylen) ||
	    !get_hex(o, "enroll_sig", t->enroll_sig, 0, BG_CHAIN_SIG_MAX,
	    &t->enroll_sig_len, where, why, whylen))
		return false;
	t->alg = (int)alg;
	t->attestation = (int)att;
	t->cred_protect = (int)cp;
	if ((a = json_object_get(o, "att")) != NULL &&
	    (!keys_exact(a, att_keys, NKEYS(att_keys), where, why, whylen) ||
	    !get_hex(a, "authdata", t->att_authdata, 1,
	    BG_ATTEST_AUTHDATA_MAX, &t->att_authdata_len, where, why,
	    whylen) ||
	    !get_hex(a, "stmt", t->att_stmt, 1, BG_ATTEST_STMT_MAX,
	    &t->att_stmt_len, where, why, whylen) ||
	    !get_hex(a, "cdh", t->att_cdh, 32, 32, NULL, where, why,
	    whylen)))
		return false;
	return true;
}

/* A vault link's trust store; sortedness and certificates are checked by
 * the re-encoding (validate_trust). */
static int
trust_from(const json_t *j, bg_attest_trust_t **outp, char *why,
    size_t whylen)
{
	bg_attest_trust_t *t = NULL;
	const json_t *a, *x;
	uint8_t *der = NULL;
	size_t i, n;
	int r = BG_ERR_PARSE;

	*outp = NULL;
	if (!keys_exact(j, trust_keys, NKEYS(trust_keys), "trust", why,
	    whylen))
		goto out;
	if ((t = bg_attest_trust_new()) == NULL ||
	    (der = malloc(BG_ATTEST_CERT_MAX)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	x = json_object_get(j, "fido_root");
	if (!json_is_null(x)) {
		if (!get_hex(j, "fido_root", der, 1, BG_ATTEST_CERT_MAX, &n,
		    "trust", why, whylen))
			goto out;
		if ((t->fido_root = malloc(n)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		memcpy(t->fido_root, der, n);
		t->fido_root_len = n;
	}
	x = json_object_get(j, "mds");
	if (json_is_string(x)) {
		if (json_string_length(x) > BG_ATTEST_MDS_MAX ||
		    strlen(json_string_value(x)) != json_string_length(x)) {
			say(why, whylen, "trust: 'mds' is over-long");
			goto out;
		}
		if ((t->mds = strdup(json_string_value(x))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
	} else if (!json_is_null(x)) {
		say(why, whylen, "trust: 'mds' is neither text nor null");
		goto out;
	}
	a = json_object_get(j, "roots");
	if (!json_is_array(a) || json_array_size(a) > BG_ATTEST_ROOTS_MAX) {
		say(why, whylen, "trust: 'roots' is not a list of at most %d "
		    "certificates", BG_ATTEST_ROOTS_MAX);
		goto out;
	}
	for (i = 0; i < json_array_size(a); i++) {
		x = json_array_get(a, i);
		if (!json_is_string(x) || !hex_dec(json_string_value(x),
		    json_string_length(x), der, 1, BG_ATTEST_CERT_MAX, &n) ||
		    bg_attest_trust_add_root(t, der, n) != BG_OK) {
			say(why, whylen, "trust: roots[%zu] is not a "
			    "certificate in lower-case hex, or a repeat", i);
			goto out;
		}
	}
	a = json_object_get(j, "aaguids");
	if (!json_is_array(a) || json_array_size(a) > BG_ATTEST_AAGUIDS_MAX) {
		say(why, whylen, "trust: 'aaguids' is not a list of at most %d "
		    "AAGUIDs", BG_ATTEST_AAGUIDS_MAX);
		goto out;
	}
	for (i = 0; i < json_array_size(a); i++) {
		x = json_array_get(a, i);
		if (!json_is_string(x) || !hex_dec(json_string_value(x),
		    json_string_length(x), der, 16, 16, NULL) ||
		    bg_attest_trust_add_aaguid(t, der) != BG_OK) {
			say(why, whylen, "trust: aaguids[%zu] is not 16 bytes "
			    "of lower-case hex, or a repeat", i);
			goto out;
		}
	}
	*outp = t;
	t = NULL;	/* transferred */
	r = BG_OK;
out:
	free(der);
	bg_attest_trust_free(&t);
	return r;
}

static int
member_from(const json_t *o, bg_chain_member_t *m, size_t mi, char *why,
    size_t whylen)
{
	char where[64], role[16], side[16];
	const json_t *toks;
	size_t i;

	(void)snprintf(where, sizeof(where), "members[%zu]", mi);
	if (!keys_exact(o, member_keys, NKEYS(member_keys), where, why,
	    whylen) ||
	    !get_str(o, "person", m->person, sizeof(m->person), where, why,
	    whylen) ||
	    !get_str(o, "role", role, sizeof(role), where, why, whylen) ||
	    !get_str(o, "side", side, sizeof(side), where, why, whylen) ||
	    !get_int(o, "expires", 0, INT64_MAX, &m->expires_at, where, why,
	    whylen) ||
	    !get_hex(o, "salt", m->salt, 32, 32, NULL, where, why, whylen))
		return BG_ERR_PARSE;
	if ((m->role = role_from(role)) == 0 ||
	    (m->side = side_from(side)) < 0) {
		say(why, whylen, "%s: unknown role or side", where);
		return BG_ERR_PARSE;
	}
	toks = json_object_get(o, "tokens");
	if (!json_is_array(toks) ||
	    json_array_size(toks) > BG_CHAIN_MAX_TOKENS) {
		say(why, whylen, "%s: 'tokens' is not a list of at most %d "
		    "credentials", where, BG_CHAIN_MAX_TOKENS);
		return BG_ERR_PARSE;
	}
	if (json_array_size(toks) > 0 && (m->tokens = calloc(
	    json_array_size(toks), sizeof(*m->tokens))) == NULL)
		return BG_ERR_NOMEM;
	for (i = 0; i < json_array_size(toks); i++) {
		(void)snprintf(where, sizeof(where), "members[%zu].tokens[%zu]",
		    mi, i);
		if (!token_from(json_array_get(toks, i), &m->tokens[i], where,
		    why, whylen))
			return BG_ERR_PARSE;
		m->n_tokens = i + 1;
		if (i > 0 && cmp_bytes(m->tokens[i - 1].cred_id,
		    m->tokens[i - 1].cred_id_len, m->tokens[i].cred_id,
		    m->tokens[i].cred_id_len) >= 0) {
			say(why, whylen, "%s: credentials are not sorted by "
			    "id, or one is listed twice", where);
			return BG_ERR_PARSE;
		}
	}
	return BG_OK;
}

static int
link_from(const json_t *root, bg_chain_link_t *l, char *why, size_t whylen)
{
	char scope[16];
	const json_t *j, *arr;
	int64_t v, seq, vseq, x;
	size_t i;
	int r;

	if (!keys_exact_opt(root, link_keys, NKEYS(link_keys), "trust", "link",
	    why, whylen) ||
	    !get_int(root, "v", INT64_MIN, INT64_MAX, &v, "link", why, whylen))
		return BG_ERR_PARSE;
	if (v != BG_CHAIN_VERSION) {
		say(why, whylen, "link version %" PRId64 " is not supported "
		    "(this program reads version %d)", v, BG_CHAIN_VERSION);
		return BG_ERR_PARSE;
	}
	if (!get_str(root, "scope", scope, sizeof(scope), "link", why,
	    whylen))
		return BG_ERR_PARSE;
	if (strcmp(scope, "vault") == 0) {
		l->scope = BG_CHAIN_VAULT;
	} else if (strcmp(scope, "tenant") == 0) {
		l->scope = BG_CHAIN_TENANT;
	} else {
		say(why, whylen, "link: 'scope' is neither vault nor tenant");
		return BG_ERR_PARSE;
	}
	if (!get_str(root, "vault_id", l->vault_id, sizeof(l->vault_id),
	    "link", why, whylen) ||
	    !get_int(root, "vault_seq", 0, INT64_MAX, &vseq, "link", why,
	    whylen) ||
	    !get_str(root, "rp_id", l->rp_id, sizeof(l->rp_id), "link", why,
	    whylen) ||
	    !get_hex(root, "genesis", l->genesis, BG_CHAIN_HASH_LEN,
	    BG_CHAIN_HASH_LEN, NULL, "link", why, whylen) ||
	    !get_str(root, "tenant", l->tenant, sizeof(l->tenant), "link",
	    why, whylen) ||
	    !get_int(root, "seq", 0, INT64_MAX, &seq, "link", why, whylen) ||
	    !get_hex(root, "prev", l->prev, BG_CHAIN_HASH_LEN,
	    BG_CHAIN_HASH_LEN, NULL, "link", why, whylen) ||
	    !get_int(root, "time", 0, INT64_MAX, &l->time, "link", why,
	    whylen) ||
	    !get_str(root, "note", l->note, sizeof(l->note), "link", why,
	    whylen))
		return BG_ERR_PARSE;
	l->seq = (uint64_t)seq;
	l->vault_seq = (uint64_t)vseq;

	arr = json_object_get(root, "members");
	if (!json_is_array(arr) ||
	    json_array_size(arr) > BG_CHAIN_MAX_MEMBERS) {
		say(why, whylen, "link: 'members' is not a list of at most %d "
		    "members", BG_CHAIN_MAX_MEMBERS);
		return BG_ERR_PARSE;
	}
	if (json_array_size(arr) > 0 && (l->members = calloc(
	    json_array_size(arr), sizeof(*l->members))) == NULL)
		return BG_ERR_NOMEM;
	for (i = 0; i < json_array_size(arr); i++) {
		l->n_members = i + 1;	/* so that free sees its tokens */
		if ((r = member_from(json_array_get(arr, i), &l->members[i], i,
		    why, whylen)) != BG_OK)
			return r;
		if (i > 0 && cmp_member(&l->members[i - 1], &l->members[i]) >=
		    0) {
			say(why, whylen, "members[%zu]: members are not sorted "
			    "by person and role, or one is listed twice", i);
			return BG_ERR_PARSE;
		}
	}

	j = json_object_get(root, "policy");
	if (json_is_string(j)) {
		if (json_string_length(j) > BG_POLICY_MAX_TEXT) {
			say(why, whylen, "link: the policy is longer than %d "
			    "bytes", BG_POLICY_MAX_TEXT);
			return BG_ERR_PARSE;
		}
		if ((l->policy = strdup(json_string_value(j))) == NULL)
			return BG_ERR_NOMEM;
	} else if (!json_is_null(j)) {
		say(why, whylen, "link: 'policy' is neither text nor null");
		return BG_ERR_PARSE;
	}

	j = json_object_get(root, "settings");
	if (!keys_exact(j, settings_keys, NKEYS(settings_keys), "settings",
	    why, whylen) ||
	    !get_int(j, "max_ttl", 0, INT64_MAX, &l->settings.max_ttl,
	    "settings", why, whylen) ||
	    !get_int(j, "approval_window", 0, INT64_MAX,
	    &l->settings.approval_window, "settings", why, whylen) ||
	    !get_int(j, "rotation_deadline", 0, INT64_MAX,
	    &l->settings.rotation_deadline, "settings", why, whylen) ||
	    !get_bool(j, "allow_soft", &l->settings.allow_soft, "settings",
	    why, whylen))
		return BG_ERR_PARSE;
	if (!get_int(j, "client_cosign", 0, BG_CHAIN_MAX_MEMBERS, &x,
	    "settings", why, whylen))
		return BG_ERR_PARSE;
	l->settings.client_cosign = (int)x;
	if (!get_int(j, "custodian_quorum", 0, BG_CHAIN_MAX_MEMBERS, &x,
	    "settings", why, whylen))
		return BG_ERR_PARSE;
	l->settings.custodian_quorum = (int)x;

	j = json_object_get(root, "exception");
	if (!json_is_null(j)) {
		if (!keys_exact(j, exception_keys, NKEYS(exception_keys),
		    "exception", why, whylen) ||
		    !get_str(j, "reason", l->exception_reason,
		    sizeof(l->exception_reason), "exception", why, whylen) ||
		    !get_int(j, "expires", 1, INT64_MAX,
		    &l->exception_expires, "exception", why, whylen))
			return BG_ERR_PARSE;
		l->has_exception = true;
	}
	if ((j = json_object_get(root, "trust")) != NULL &&
	    (r = trust_from(j, &l->trust, why, whylen)) != BG_OK)
		return r;
	return BG_OK;
}

int
bg_chain_link_parse(const char *text, bg_chain_link_t **lp, char *why,
    size_t whylen)
{
	bg_chain_link_t *l = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	char *again = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	clear_why(why, whylen);
	if (lp != NULL)
		*lp = NULL;
	if (text == NULL || lp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		/* jerr.text may quote the input: give the place only. */
		say(why, whylen, "not valid JSON (line %d, column %d)",
		    jerr.line, jerr.column);
		r = BG_ERR_PARSE;
		goto out;
	}
	if ((l = bg_chain_link_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = link_from(root, l, why, whylen)) != BG_OK)
		goto out;
	if ((r = encode(l, &again, why, whylen)) != BG_OK) {
		if (r == BG_ERR_INVALID_ARG)
			r = BG_ERR_PARSE;
		goto out;
	}
	/* One text per link: anything encode would write differently (white
	 * space, key order, escapes, member order) is refused. */
	if (strcmp(again, text) != 0) {
		for (i = 0; again[i] != '\0' && again[i] == text[i]; i++)
			;
		say(why, whylen, "the link is not in canonical form (first "
		    "difference at byte %zu)", i + 1);
		r = BG_ERR_PARSE;
		goto out;
	}
	*lp = l;
	l = NULL;	/* transferred */
	r = BG_OK;
out:
	if (r != BG_OK && why != NULL && whylen > 0 && why[0] == '\0')
		say(why, whylen, "%s", bg_strerror(r));
	free(again);
	json_decref(root);
	bg_chain_link_free(&l);
	return r;
}

void
bg_chain_text_hash(const char *text, uint8_t hash[BG_CHAIN_HASH_LEN])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)LINK_DOMAIN,
	    sizeof(LINK_DOMAIN) - 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)text,
	    strlen(text));
	crypto_hash_sha256_final(&st, hash);
}

static int
link_hash_why(const bg_chain_link_t *l, uint8_t hash[BG_CHAIN_HASH_LEN],
    char *why, size_t whylen)
{
	char *text = NULL;
	int r;

	if ((r = encode(l, &text, why, whylen)) == BG_OK)
		bg_chain_text_hash(text, hash);
	free(text);
	return r;
}

int
bg_chain_link_hash(const bg_chain_link_t *l, uint8_t hash[BG_CHAIN_HASH_LEN])
{
	if (l == NULL || hash == NULL)
		return BG_ERR_INVALID_ARG;
	return link_hash_why(l, hash, NULL, 0);
}

/* --- the enrollment statement ------------------------------------------- */

int
bg_chain_enroll_cdh(const bg_chain_link_t *l, const bg_chain_member_t *m,
    const bg_chain_token_t *t, uint8_t cdh[32], char **textp)
{
	char hbuf[2 * BG_CHAIN_CRED_MAX + 1];
	struct sb b = { NULL, 0, 0, false };
	bool custodian;
	int r = BG_ERR_INTERNAL;

	if (textp != NULL)
		*textp = NULL;
	if (l == NULL || m == NULL || t == NULL || cdh == NULL ||
	    !vault_id_ok(l->vault_id, sizeof(l->vault_id)) ||
	    !name_ok(m->person, sizeof(m->person)) ||
	    role_name(m->role) == NULL || side_name(m->side) == NULL ||
	    t->cred_id_len < 1 || t->cred_id_len > BG_CHAIN_CRED_MAX) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	custodian = m->role == BG_CHAIN_ROLE_CUSTODIAN;
	if (!custodian && !name_ok(l->tenant, sizeof(l->tenant))) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	/* A custodian has no tenant, salt or membership key.  The genesis
	 * field is the link's own: zeros for the custodians of the genesis
	 * (who enroll before it exists), the vault's identity for those a
	 * later vault link adds. */
	sb_add(&b, "%svault: %s\n", ENROLL_DOMAIN, l->vault_id);
	hex_enc(l->genesis, 32, hbuf);
	sb_add(&b, "genesis: %s\n", hbuf);
	sb_add(&b, "tenant: %s\n", custodian ? "-" : l->tenant);
	sb_add(&b, "person: %s\nrole: %s\nside: %s\n", m->person,
	    role_name(m->role), side_name(m->side));
	hex_enc(custodian ? zero32 : m->salt, 32, hbuf);
	sb_add(&b, "salt: %s\n", hbuf);
	hex_enc(t->cred_id, t->cred_id_len, hbuf);
	sb_add(&b, "cred-id: %s\n", hbuf);
	/* the signing key too: a credential id is bound to its key */
	hex_enc(t->pubkey, t->pubkey_len, hbuf);
	sb_add(&b, "cred-key: %d %s\n", t->alg, hbuf);
	hex_enc(custodian ? zero32 : t->member_pk, 32, hbuf);
	sb_add(&b, "member-key: %s\n", hbuf);
	if (b.oom) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	crypto_hash_sha256(cdh, (const unsigned char *)b.buf, b.len);
	if (textp != NULL) {
		*textp = b.buf;
		b.buf = NULL;	/* transferred */
	}
	r = BG_OK;
out:
	free(b.buf);
	return r;
}

/* --- checks ------------------------------------------------------------- */

/*
 * One verification: the signatures, the link's hash they sign, and the
 * keysets rules draw from.  A cache remembers, per member of prev, whether
 * one of its credentials signed, so that rules asked per grantee do not
 * verify the same signature again.
 */
struct ctx {
	const bg_chain_link_t	*g, *prev, *next;
	const bg_chain_sig_t	*sigs;
	size_t			 n_sigs;
	const struct bg_chain_hashes *known;	/* may be NULL */
	const char		*rp_id;
	uint8_t			 cdh[BG_CHAIN_HASH_LEN];
	int64_t			 now;
	int8_t			*prev_signed;	/* 0 unknown, 1 yes, -1 no */
	struct sb		 need;		/* "; "-separated parts */
};

static void need(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
need(struct ctx *c, const char *fmt, ...)
{
	char part[BG_CHAIN_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	sb_add(&c->need, "%s%s", c->need.len > 0 ? "; " : "", part);
}

static bool
sig_sane(const bg_chain_sig_t *s)
{
	size_t n;

	return bounded(s->person, sizeof(s->person), &n) &&
	    s->cred_id_len <= BG_CHAIN_CRED_MAX &&
	    s->authdata_len <= BG_CHAIN_AUTHDATA_MAX &&
	    s->sig_len <= BG_CHAIN_SIG_MAX;
}

/*
 * Whether m's person signed the link with one of m's credentials.  A
 * signature that does not verify is simply not counted; only running out
 * of memory is an error.
 */
static int
signed_by(const struct ctx *c, const bg_chain_member_t *m, bool *okp)
{
	const bg_chain_sig_t *s;
	const bg_chain_token_t *t;
	size_t i;
	int r;

	*okp = false;
	for (i = 0; i < c->n_sigs; i++) {
		s = &c->sigs[i];
		if (!sig_sane(s) || strcmp(s->person, m->person) != 0)
			continue;
		if ((t = find_token(m, s->cred_id, s->cred_id_len)) == NULL)
			continue;
		r = bg_token_verify(t->alg, t->pubkey, t->pubkey_len, c->rp_id,
		    c->cdh, s->authdata, s->authdata_len, s->sig, s->sig_len,
		    true);
		if (r == BG_OK) {
			*okp = true;
			return BG_OK;
		}
		if (r == BG_ERR_NOMEM)
			return r;
	}
	return BG_OK;
}

static int
prev_signed(struct ctx *c, const bg_chain_member_t *mp, bool *okp)
{
	size_t i = (size_t)(mp - c->prev->members);
	int r;

	if (c->prev_signed[i] == 0) {
		if ((r = signed_by(c, mp, okp)) != BG_OK)
			return r;
		c->prev_signed[i] = *okp ? 1 : -1;
	}
	*okp = c->prev_signed[i] > 0;
	return BG_OK;
}

static bool
live(const bg_chain_member_t *m, int64_t now)
{
	return m->expires_at > now;
}

/*
 * An approver of prev whose signature counts for this link: live in prev
 * at the link's time and still a live approver in next (a removal is
 * never signed off by the person removed).
 */
static bool
eligible(const struct ctx *c, const bg_chain_member_t *mp)
{
	const bg_chain_member_t *mn;

	if (mp->role != BG_CHAIN_ROLE_APPROVER || !live(mp, c->now))
		return false;
	mn = bg_chain_member_find(c->next, mp->person, BG_CHAIN_ROLE_APPROVER);
	return mn != NULL && live(mn, c->now);
}

static int
verify_enroll(const bg_chain_link_t *l, const bg_chain_member_t *m,
    const bg_chain_token_t *t, const char *rp_id, bool *okp)
{
	uint8_t cdh[32];
	int r;

	*okp = false;
	if ((r = bg_chain_enroll_cdh(l, m, t, cdh, NULL)) != BG_OK)
		return r;
	r = bg_token_verify(t->alg, t->pubkey, t->pubkey_len, rp_id, cdh,
	    t->enroll_authdata, t->enroll_authdata_len, t->enroll_sig,
	    t->enroll_sig_len, true);
	if (r == BG_ERR_NOMEM)
		return r;
	*okp = r == BG_OK;
	return BG_OK;
}

/*
 * Whether credential t of m is vetted by trust store ts at time at (a
 * production vault's new credential): its attestation evidence, kept in
 * the link, verified again here, so a link written into the file with a
 * self-attested or foreign credential fails wherever the chain is
 * verified.  mds is ts's BLOB already verified, or NULL.
 */
static int
check_vetted(const bg_attest_trust_t *ts, const bg_mds_t *mds,
    const char *rp_id, const bg_chain_member_t *m, const bg_chain_token_t *t,
    int64_t at, char *why, size_t whylen)
{
	bg_attest_evidence_t e;
	char sub[BG_CHAIN_WHY_MAX], id[17];
	int r;

	cred_short(t, id);
	memset(&e, 0, sizeof(e));
	e.rp_id = rp_id;
	e.alg = t->alg;
	e.cred_id = t->cred_id;
	e.cred_id_len = t->cred_id_len;
	e.pubkey = t->pubkey;
	e.pubkey_len = t->pubkey_len;
	e.aaguid = t->aaguid;
	e.fmt = t->fmt;
	e.authdata = t->att_authdata;
	e.authdata_len = t->att_authdata_len;
	e.stmt = t->att_stmt;
	e.stmt_len = t->att_stmt_len;
	e.cdh = t->att_cdh;
	sub[0] = '\0';
	if (t->att_stmt_len == 0) {
		say(why, whylen, "credential %s of %s carries no attestation, "
		    "which a production vault requires", id, m->person);
		return BG_ERR_AUTH;
	}
	r = bg_attest_verify(ts, mds, &e, at, NULL, 0, sub, sizeof(sub));
	if (r == BG_ERR_NOMEM || r == BG_ERR_INVALID_ARG)
		return r;
	if (r != BG_OK) {
		say(why, whylen, "credential %s of %s: %s", id, m->person, sub);
		return BG_ERR_AUTH;
	}
	return BG_OK;
}

/* The trust store's BLOB verified at time at (NULL when it has none). */
static int
trust_mds(const bg_attest_trust_t *ts, int64_t at, bg_mds_t **mdsp,
    char *why, size_t whylen)
{
	char sub[BG_CHAIN_WHY_MAX];
	int r;

	*mdsp = NULL;
	if (ts == NULL || ts->mds == NULL)
		return BG_OK;
	sub[0] = '\0';
	if ((r = bg_mds_parse(ts->mds, ts->fido_root, ts->fido_root_len, at,
	    mdsp, sub, sizeof(sub))) != BG_OK) {
		if (r == BG_ERR_NOMEM)
			return r;
		say(why, whylen, "the trust store does not verify: %s", sub);
		return BG_ERR_AUTH;
	}
	return BG_OK;
}

/*
 * A vault link's trust store against the one before it: the BLOB
 * verifies under the pinned FIDO root at the link's time, its serial
 * never goes down (a new BLOB has a higher one), and once a vault link
 * carries a BLOB every later one does (else removing it, then adding an
 * older one, would roll the serial back).
 */
static int
trust_follows(const bg_chain_link_t *l, const bg_chain_link_t *prev,
    bg_mds_t **mdsp, char *why, size_t whylen)
{
	bg_mds_t *pm = NULL;
	int r;

	if ((r = trust_mds(l->trust, l->time, mdsp, why, whylen)) != BG_OK)
		goto out;
	if (prev == NULL || prev->trust == NULL || prev->trust->mds == NULL)
		goto out;
	r = BG_ERR_AUTH;
	if (*mdsp == NULL) {
		say(why, whylen, "the link drops the metadata BLOB the vault "
		    "link before it carries; load a newer one instead");
		goto out;
	}
	if (strcmp(prev->trust->mds, l->trust->mds) == 0) {
		r = BG_OK;
		goto out;
	}
	/* prev's BLOB verified when prev did; only its serial is needed */
	if ((r = trust_mds(prev->trust, prev->time, &pm, why, whylen)) !=
	    BG_OK)
		goto out;
	r = BG_ERR_AUTH;
	if (bg_mds_serial(*mdsp) <= bg_mds_serial(pm)) {
		say(why, whylen, "the metadata BLOB's serial number %llu is "
		    "not above the one in force (%llu): an older or replayed "
		    "BLOB", (unsigned long long)bg_mds_serial(*mdsp),
		    (unsigned long long)bg_mds_serial(pm));
		goto out;
	}
	r = BG_OK;
out:
	bg_mds_free(&pm);
	if (r != BG_OK)
		bg_mds_free(mdsp);
	return r;
}

/* A software token where vault link g refuses them, or one that hides. */
static int
check_soft(const bg_chain_link_t *g, const bg_chain_member_t *m,
    const bg_chain_token_t *t, char *why, size_t whylen)
{
	char id[17], where[64];

	cred_short(t, id);
	if (is_soft_aaguid(t->aaguid) && !t->soft) {
		say(why, whylen, "credential %s of %s is a software token "
		    "but is not marked as one", id, m->person);
		return BG_ERR_AUTH;
	}
	if ((t->soft || is_soft_aaguid(t->aaguid)) &&
	    !g->settings.allow_soft) {
		if (g->seq == 0)
			(void)snprintf(where, sizeof(where), "this vault's "
			    "genesis");
		else
			(void)snprintf(where, sizeof(where), "vault link "
			    "%llu", (unsigned long long)g->seq);
		say(why, whylen, "credential %s of %s is a software token, "
		    "and %s does not allow them", id, m->person, where);
		return BG_ERR_AUTH;
	}
	return BG_OK;
}

/* One entry per credential id and per public key, to find any listed
 * under two people. */
struct keyref {
	const char	*person;
	const uint8_t	*b;
	size_t		 len;
	const bg_chain_token_t *t;
};

static int
qcmp_keyref(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;

	return cmp_bytes(x->b, x->len, y->b, y->len);
}

static int
check_unique(const bg_chain_link_t *g, const bg_chain_link_t *l, char *why,
    size_t whylen)
{
	const bg_chain_link_t *ls[2] = { g, l };
	struct keyref *ids = NULL, *pks = NULL;
	const bg_chain_member_t *m;
	size_t n = 0, i, j, k;
	char id[17];
	int r = BG_ERR_INTERNAL;

	for (k = 0; k < 2; k++)
		for (i = 0; ls[k] != NULL && i < ls[k]->n_members; i++)
			n += ls[k]->members[i].n_tokens;
	if (n == 0) {
		r = BG_OK;
		goto out;
	}
	if ((ids = calloc(n, sizeof(*ids))) == NULL ||
	    (pks = calloc(n, sizeof(*pks))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	n = 0;
	for (k = 0; k < 2; k++) {
		for (i = 0; ls[k] != NULL && i < ls[k]->n_members; i++) {
			m = &ls[k]->members[i];
			for (j = 0; j < m->n_tokens; j++, n++) {
				ids[n].person = pks[n].person = m->person;
				ids[n].t = pks[n].t = &m->tokens[j];
				ids[n].b = m->tokens[j].cred_id;
				ids[n].len = m->tokens[j].cred_id_len;
				pks[n].b = m->tokens[j].pubkey;
				pks[n].len = m->tokens[j].pubkey_len;
			}
		}
	}
	qsort(ids, n, sizeof(*ids), qcmp_keyref);
	qsort(pks, n, sizeof(*pks), qcmp_keyref);
	r = BG_ERR_AUTH;
	for (i = 1; i < n; i++) {
		if (qcmp_keyref(&ids[i - 1], &ids[i]) == 0 &&
		    strcmp(ids[i - 1].person, ids[i].person) != 0) {
			cred_short(ids[i].t, id);
			say(why, whylen, "credential %s is listed under both "
			    "%s and %s", id, ids[i - 1].person,
			    ids[i].person);
			goto out;
		}
		if (qcmp_keyref(&pks[i - 1], &pks[i]) == 0 &&
		    strcmp(pks[i - 1].person, pks[i].person) != 0) {
			say(why, whylen, "one public key is listed under both "
			    "%s and %s", pks[i - 1].person, pks[i].person);
			goto out;
		}
	}
	r = BG_OK;
out:
	free(ids);
	free(pks);
	return r;
}

static bool token_unchanged(const bg_chain_link_t *prev,
    const bg_chain_member_t *mn, const bg_chain_token_t *t);
static bool id_keeps_key(const bg_chain_link_t *l, const bg_chain_token_t *t);

/*
 * A vault link (the genesis or a later one) as a structure: everything
 * but its signatures and its place after prev.  verify says whether to
 * check enrollment proofs too, of every credential prev (NULL for the
 * genesis) did not hold identically (a tenant link's check trusts a vault
 * link its caller already verified whole).  With prev, a credential id
 * must keep the signing key prev gave it.
 */
static int
vault_structure(const bg_chain_link_t *l, const bg_chain_link_t *prev,
    bool verify, char *why, size_t whylen)
{
	const bg_chain_settings_t *s = &l->settings;
	const bg_chain_member_t *m;
	const char *what = l->seq == 0 ? "the genesis" : "the vault link";
	char sub[BG_CHAIN_WHY_MAX], id[17];
	uint8_t h[BG_CHAIN_HASH_LEN];
	bg_mds_t *mds = NULL;
	size_t i;
	bool ok, vet_all;
	int r = BG_ERR_AUTH;

	sub[0] = '\0';
	if ((r = link_hash_why(l, h, sub, sizeof(sub))) != BG_OK) {
		if (r == BG_ERR_INVALID_ARG) {
			say(why, whylen, "%s is malformed: %s", what, sub);
			r = BG_ERR_AUTH;
		}
		goto out;
	}
	r = BG_ERR_AUTH;
	if (l->scope != BG_CHAIN_VAULT) {
		say(why, whylen, "%s is not a vault link", what);
		goto out;
	}
	if (l->n_members < 2) {
		say(why, whylen, "%s names at least two custodians",
		    l->seq == 0 ? "a genesis" : "a vault link");
		goto out;
	}
	if (s->custodian_quorum < 2 ||
	    (size_t)s->custodian_quorum > l->n_members) {
		say(why, whylen, "the custodian quorum is %d; it must be "
		    "2..%zu (the custodians named)", s->custodian_quorum,
		    l->n_members);
		goto out;
	}
	if (s->max_ttl != 0 || s->approval_window != 0 ||
	    s->rotation_deadline != 0 || s->client_cosign != 0 ||
	    l->policy != NULL || l->has_exception) {
		say(why, whylen, "%s carries tenant settings, a policy or an "
		    "exception, which belong in tenant links", what);
		goto out;
	}
	/* A production vault vets every token from its genesis on. */
	if (!s->allow_soft && !bg_attest_trust_vets(l->trust)) {
		say(why, whylen, "%s is a production vault link without a "
		    "trust store that vets tokens", what);
		goto out;
	}
	if (verify && (r = trust_follows(l, prev, &mds, why, whylen)) !=
	    BG_OK)
		goto out;
	/* A production vault's trust store vets every new custodian
	 * credential, and every custodian when it is first pinned. */
	vet_all = prev == NULL || prev->trust == NULL ||
	    prev->settings.allow_soft;
	for (i = 0; i < l->n_members; i++) {
		m = &l->members[i];
		r = BG_ERR_AUTH;
		if (m->n_tokens != 1) {
			say(why, whylen, "custodian %s must have exactly one "
			    "credential", m->person);
			goto out;
		}
		if (!is_zero(m->salt, sizeof(m->salt)) ||
		    !is_zero(m->tokens[0].member_pk, 32)) {
			say(why, whylen, "custodian %s carries a salt or a "
			    "membership key, which custodians do not have",
			    m->person);
			goto out;
		}
		if ((r = check_soft(l, m, &m->tokens[0], why, whylen)) !=
		    BG_OK)
			goto out;
		r = BG_ERR_AUTH;
		if (prev != NULL && !id_keeps_key(prev, &m->tokens[0])) {
			cred_short(&m->tokens[0], id);
			say(why, whylen, "credential %s of custodian %s carries "
			    "another signing key than it had in the previous "
			    "vault link", id, m->person);
			goto out;
		}
		if (verify && l->trust != NULL && !l->settings.allow_soft &&
		    (vet_all || !token_unchanged(prev, m, &m->tokens[0])) &&
		    (r = check_vetted(l->trust, mds, l->rp_id, m,
		    &m->tokens[0], l->time, why, whylen)) != BG_OK)
			goto out;
		if (!verify || token_unchanged(prev, m, &m->tokens[0]))
			continue;
		if ((r = verify_enroll(l, m, &m->tokens[0], l->rp_id, &ok)) !=
		    BG_OK)
			goto out;
		if (!ok) {
			say(why, whylen, "the enrollment proof of custodian %s "
			    "does not verify", m->person);
			r = BG_ERR_AUTH;
			goto out;
		}
	}
	if ((r = check_unique(l, NULL, why, whylen)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	bg_mds_free(&mds);
	return r;
}

static void
finish_why(const struct sb *need, char *why, size_t whylen)
{
	say(why, whylen, "needs: %s", sb_str(need));
}

int
bg_chain_check_genesis(const bg_chain_link_t *g, const bg_chain_sig_t *sigs,
    size_t n_sigs, char *why, size_t whylen)
{
	struct ctx c;
	size_t i;
	bool ok;
	int r = BG_ERR_INTERNAL;

	clear_why(why, whylen);
	memset(&c, 0, sizeof(c));
	if (g == NULL || (sigs == NULL && n_sigs > 0)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (g->seq != 0) {
		say(why, whylen, "the genesis is vault link 0; this is vault "
		    "link %llu", (unsigned long long)g->seq);
		r = BG_ERR_AUTH;
		goto out;
	}
	if ((r = vault_structure(g, NULL, true, why, whylen)) != BG_OK)
		goto out;
	c.g = c.next = g;
	c.sigs = sigs;
	c.n_sigs = n_sigs;
	c.rp_id = g->rp_id;
	if ((r = bg_chain_link_hash(g, c.cdh)) != BG_OK)
		goto out;
	for (i = 0; i < g->n_members; i++) {
		if ((r = signed_by(&c, &g->members[i], &ok)) != BG_OK)
			goto out;
		if (!ok)
			need(&c, "a signature by %s (custodian named by this "
			    "genesis)", g->members[i].person);
	}
	if (c.need.oom) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (c.need.len > 0) {
		finish_why(&c.need, why, whylen);
		r = BG_ERR_DENIED;
		goto out;
	}
	r = BG_OK;
out:
	free(c.need.buf);
	return r;
}

static bool
settings_same(const bg_chain_settings_t *a, const bg_chain_settings_t *b)
{
	return a->max_ttl == b->max_ttl &&
	    a->approval_window == b->approval_window &&
	    a->rotation_deadline == b->rotation_deadline &&
	    a->client_cosign == b->client_cosign &&
	    a->allow_soft == b->allow_soft &&
	    a->custodian_quorum == b->custodian_quorum;
}

static bool
exception_same(const bg_chain_link_t *a, const bg_chain_link_t *b)
{
	if (a->has_exception != b->has_exception)
		return false;
	return !a->has_exception ||
	    (a->exception_expires == b->exception_expires &&
	    strcmp(a->exception_reason, b->exception_reason) == 0);
}

/* Token t of next's membership mn, unchanged since prev: the same
 * membership (side, salt) held an identical token. */
static bool
token_unchanged(const bg_chain_link_t *prev, const bg_chain_member_t *mn,
    const bg_chain_token_t *t)
{
	const bg_chain_member_t *mp;
	const bg_chain_token_t *tp;

	if (prev == NULL ||
	    (mp = bg_chain_member_find(prev, mn->person, mn->role)) == NULL ||
	    mp->side != mn->side || !beq(mp->salt, 32, mn->salt, 32) ||
	    (tp = find_token(mp, t->cred_id, t->cred_id_len)) == NULL)
		return false;
	return token_same(tp, t);
}

static bool
member_same(const bg_chain_link_t *prev, const bg_chain_member_t *mp,
    const bg_chain_member_t *mn)
{
	size_t i;

	if (mp->side != mn->side || mp->expires_at != mn->expires_at ||
	    !beq(mp->salt, 32, mn->salt, 32) || mp->n_tokens != mn->n_tokens)
		return false;
	for (i = 0; i < mn->n_tokens; i++)
		if (!token_unchanged(prev, mn, &mn->tokens[i]))
			return false;
	return true;
}

/* Whether person holds cred_id in l under any role. */
static bool
holds_cred(const bg_chain_link_t *l, const char *person, const uint8_t *id,
    size_t len, const bg_chain_token_t *key)
{
	size_t i;

	const bg_chain_token_t *t;

	for (i = 0; i < l->n_members; i++)
		if (strcmp(l->members[i].person, person) == 0 &&
		    (t = find_token(&l->members[i], id, len)) != NULL &&
		    t->alg == key->alg && beq(t->pubkey, t->pubkey_len,
		    key->pubkey, key->pubkey_len))
			return true;
	return false;
}

/* Every credential of l with t's id has t's signing key. */
static bool
id_keeps_key(const bg_chain_link_t *l, const bg_chain_token_t *t)
{
	const bg_chain_token_t *o;
	size_t i;

	for (i = 0; i < l->n_members; i++)
		if ((o = find_token(&l->members[i], t->cred_id,
		    t->cred_id_len)) != NULL && (o->alg != t->alg ||
		    !beq(o->pubkey, o->pubkey_len, t->pubkey, t->pubkey_len)))
			return false;
	return true;
}

static bool
has_person(const bg_chain_link_t *l, const char *person)
{
	size_t i;

	for (i = 0; i < l->n_members; i++)
		if (strcmp(l->members[i].person, person) == 0)
			return true;
	return false;
}

/* A set of names (pointers into the links), without repeats. */
struct names {
	const char	**v;
	size_t		  n;
};

static int
names_add(struct names *s, const char *name)
{
	const char **nv;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return BG_OK;
	if ((nv = realloc(s->v, (s->n + 1) * sizeof(*nv))) == NULL)
		return BG_ERR_NOMEM;
	s->v = nv;
	s->v[s->n++] = name;
	return BG_OK;
}

/* What changed from prev to next, by class. */
struct diff {
	bool		approver;	/* approvers, policy, settings, exception */
	bool		removal;	/* a requester/auditor lost something */
	struct names	grantees;	/* members gaining (any role) */
	struct names	owners;		/* new credential, had one before */
};

static int
classify(const bg_chain_link_t *prev, const bg_chain_link_t *next,
    struct diff *d)
{
	const bg_chain_member_t *mp, *mn;
	const bg_chain_token_t *tn;
	size_t i, j;
	int r;

	for (i = 0; i < prev->n_members; i++) {
		mp = &prev->members[i];
		mn = bg_chain_member_find(next, mp->person, mp->role);
		if (mp->role == BG_CHAIN_ROLE_APPROVER) {
			if (mn == NULL || !member_same(prev, mp, mn))
				d->approver = true;
			continue;
		}
		if (mn == NULL) {
			d->removal = true;
			continue;
		}
		if (mn->expires_at < mp->expires_at)
			d->removal = true;
		/* a credential of prev not kept, unchanged, by next */
		for (j = 0; j < mp->n_tokens; j++) {
			tn = find_token(mn, mp->tokens[j].cred_id,
			    mp->tokens[j].cred_id_len);
			if (tn == NULL || !token_same(tn, &mp->tokens[j]) ||
			    mp->side != mn->side ||
			    !beq(mp->salt, 32, mn->salt, 32))
				d->removal = true;
		}
	}
	for (i = 0; i < next->n_members; i++) {
		mn = &next->members[i];
		mp = bg_chain_member_find(prev, mn->person, mn->role);
		if (mn->role == BG_CHAIN_ROLE_APPROVER && mp == NULL)
			d->approver = true;
		/* Whoever gains a membership or a longer expiry, approvers
		 * included, never co-signs it. */
		if ((mp == NULL || mn->expires_at > mp->expires_at) &&
		    (r = names_add(&d->grantees, mn->person)) != BG_OK)
			return r;
		for (j = 0; j < mn->n_tokens; j++) {
			/* an approver's new token is an approver change
			 * (the policy in force signs, and the owner) */
			if (mn->role != BG_CHAIN_ROLE_APPROVER &&
			    !token_unchanged(prev, mn, &mn->tokens[j]) &&
			    (r = names_add(&d->grantees, mn->person)) != BG_OK)
				return r;
			if (has_person(prev, mn->person) &&
			    !holds_cred(prev, mn->person,
			    mn->tokens[j].cred_id, mn->tokens[j].cred_id_len,
			    &mn->tokens[j]) &&
			    (r = names_add(&d->owners, mn->person)) != BG_OK)
				return r;
		}
	}
	if ((prev->policy == NULL) != (next->policy == NULL) ||
	    (prev->policy != NULL && strcmp(prev->policy, next->policy) != 0) ||
	    !settings_same(&prev->settings, &next->settings) ||
	    !exception_same(prev, next))
		d->approver = true;
	return BG_OK;
}

/* The structure of next in its place: everything but signatures. */
static int
link_structure(struct ctx *c, char *why, size_t whylen)
{
	const bg_chain_link_t *g = c->g, *prev = c->prev, *next = c->next;
	const bg_chain_settings_t *s = &next->settings;
	const bg_chain_member_t *m, *lm;
	const bg_chain_token_t *t;
	uint8_t gh[BG_CHAIN_HASH_LEN], ph[BG_CHAIN_HASH_LEN];
	char sub[BG_CHAIN_WHY_MAX], id[17], *msg = NULL;
	bg_policy_t *p = NULL;
	bg_mds_t *mds = NULL;
	size_t i, j;
	bool ok, mds_read = false;
	int r = BG_ERR_AUTH;

	sub[0] = '\0';
	if ((r = vault_structure(g, NULL, false, why, whylen)) != BG_OK)
		goto out;
	/* The vault's identity: the genesis's hash, which every later
	 * vault link carries. */
	if (g->seq == 0) {
		if (c->known != NULL && c->known->g != NULL)
			memcpy(gh, c->known->g, sizeof(gh));
		else if ((r = bg_chain_link_hash(g, gh)) != BG_OK)
			goto out;
	} else {
		memcpy(gh, g->genesis, sizeof(gh));
	}
	if (c->known != NULL && c->known->next != NULL)
		memcpy(c->cdh, c->known->next, sizeof(c->cdh));
	else if ((r = link_hash_why(next, c->cdh, sub, sizeof(sub))) !=
	    BG_OK) {
		if (r == BG_ERR_INVALID_ARG) {
			say(why, whylen, "the link is malformed: %s", sub);
			r = BG_ERR_AUTH;
		}
		goto out;
	}
	r = BG_ERR_AUTH;
	if (next->scope != BG_CHAIN_TENANT) {
		say(why, whylen, "the link is not a tenant link");
		goto out;
	}
	if (!beq(next->genesis, 32, gh, 32)) {
		say(why, whylen, "the link belongs to another vault (its "
		    "genesis differs)");
		goto out;
	}
	if (strcmp(next->vault_id, g->vault_id) != 0 ||
	    strcmp(next->rp_id, g->rp_id) != 0) {
		say(why, whylen, "the link names another vault id or "
		    "relying party than its genesis");
		goto out;
	}
	if (next->vault_seq != g->seq) {
		say(why, whylen, "the link was made under vault link %llu, "
		    "not vault link %llu", (unsigned long long)next->vault_seq,
		    (unsigned long long)g->seq);
		goto out;
	}
	if (prev != NULL) {
		if (c->known != NULL && c->known->prev != NULL)
			memcpy(ph, c->known->prev, sizeof(ph));
		if (prev->scope != BG_CHAIN_TENANT ||
		    !beq(prev->genesis, 32, gh, 32) ||
		    ((c->known == NULL || c->known->prev == NULL) &&
		    (r = link_hash_why(prev, ph, NULL, 0)) != BG_OK)) {
			say(why, whylen, "the previous link is not a tenant "
			    "link of this vault");
			r = BG_ERR_AUTH;
			goto out;
		}
		r = BG_ERR_AUTH;
		if (strcmp(next->tenant, prev->tenant) != 0) {
			say(why, whylen, "the link is for tenant %s, not %s",
			    next->tenant, prev->tenant);
			goto out;
		}
		/* Custodians who were replaced never come back for a
		 * tenant that has moved on. */
		if (next->vault_seq < prev->vault_seq) {
			say(why, whylen, "the link was made under vault link "
			    "%llu, older than the previous link's %llu",
			    (unsigned long long)next->vault_seq,
			    (unsigned long long)prev->vault_seq);
			goto out;
		}
	} else {
		memset(ph, 0, sizeof(ph));
	}
	if (next->seq != (prev != NULL ? prev->seq + 1 : 1)) {
		say(why, whylen, "the link is number %" PRIu64 " of tenant "
		    "%s; number %" PRIu64 " is due", next->seq, next->tenant,
		    prev != NULL ? prev->seq + 1 : 1);
		goto out;
	}
	if (!beq(next->prev, 32, ph, 32)) {
		say(why, whylen, "the link does not follow the previous link "
		    "(its prev hash differs)");
		goto out;
	}
	if (prev != NULL && next->time < prev->time) {
		say(why, whylen, "the link is dated before the previous link");
		goto out;
	}
	if (s->max_ttl < TTL_MIN || s->max_ttl > TTL_MAX ||
	    s->approval_window < WINDOW_MIN || s->approval_window > WINDOW_MAX ||
	    s->rotation_deadline < ROTATE_MIN ||
	    s->rotation_deadline > ROTATE_MAX || s->client_cosign < 1) {
		say(why, whylen, "the settings are out of bounds (maximum "
		    "TTL 1 minute..7 days, approval window 1 minute..30 days, "
		    "rotation deadline 1 minute..90 days, at least 1 client "
		    "co-signer)");
		goto out;
	}
	if (s->allow_soft || s->custodian_quorum != 0) {
		say(why, whylen, "the link carries vault settings (software "
		    "tokens, custodian quorum), which only vault links set");
		goto out;
	}
	for (i = 0; i < next->n_members; i++) {
		m = &next->members[i];
		r = BG_ERR_AUTH;
		if (m->n_tokens < 1) {
			say(why, whylen, "%s (%s) has no credential",
			    m->person, role_name(m->role));
			goto out;
		}
		if (is_zero(m->salt, sizeof(m->salt))) {
			say(why, whylen, "%s (%s) has no salt", m->person,
			    role_name(m->role));
			goto out;
		}
		if (prev == NULL && m->expires_at <= next->time) {
			say(why, whylen, "the first link names %s (%s), whose "
			    "membership has expired at the link's time",
			    m->person, role_name(m->role));
			goto out;
		}
		for (j = 0; j < m->n_tokens; j++) {
			t = &m->tokens[j];
			cred_short(t, id);
			r = BG_ERR_AUTH;
			if (is_zero(t->member_pk, sizeof(t->member_pk))) {
				say(why, whylen, "credential %s of %s has no "
				    "membership key", id, m->person);
				goto out;
			}
			if ((r = check_soft(g, m, t, why, whylen)) != BG_OK)
				goto out;
			/* A credential id is bound to its signing key for
			 * good: the same id with another key is refused, so
			 * a key cannot be swapped under a known id. */
			r = BG_ERR_AUTH;
			if (prev != NULL && !id_keeps_key(prev, t)) {
				say(why, whylen, "credential %s of %s carries "
				    "another signing key than it had in the "
				    "previous link", id, m->person);
				goto out;
			}
			if (token_unchanged(prev, m, t))
				continue;
			if ((r = verify_enroll(next, m, t, g->rp_id, &ok)) !=
			    BG_OK)
				goto out;
			r = BG_ERR_AUTH;
			if (!ok) {
				say(why, whylen, "the enrollment proof of "
				    "credential %s of %s (%s) does not verify",
				    id, m->person, role_name(m->role));
				goto out;
			}
			/* A production vault takes only tokens its trust
			 * store vets, judged at the link's time; one
			 * without a trust store takes none. */
			if (g->settings.allow_soft)
				continue;
			if (!bg_attest_trust_vets(g->trust)) {
				say(why, whylen, "credential %s of %s cannot be "
				    "vetted: the production vault link in force "
				    "pins no trust store", id, m->person);
				goto out;
			}
			if (!mds_read && (r = trust_mds(g->trust, next->time,
			    &mds, why, whylen)) != BG_OK)
				goto out;
			mds_read = true;
			if ((r = check_vetted(g->trust, mds, g->rp_id, m, t,
			    next->time, why, whylen)) != BG_OK)
				goto out;
		}
	}
	if ((r = check_unique(g, next, why, whylen)) != BG_OK)
		goto out;
	r = BG_ERR_AUTH;
	if (next->policy != NULL) {
		if (bg_policy_parse(next->policy, &p, NULL) != BG_OK) {
			say(why, whylen, "the policy does not parse");
			goto out;
		}
		for (i = 0; i < bg_policy_leaf_count(p); i++) {
			lm = bg_chain_member_find(next,
			    bg_policy_leaf_name(p, i), BG_CHAIN_ROLE_APPROVER);
			if (lm == NULL) {
				say(why, whylen, "the policy names %s, who is "
				    "not an approver of tenant %s",
				    bg_policy_leaf_name(p, i), next->tenant);
				goto out;
			}
		}
		if ((r = bg_policy_check_dual(p, &msg)) != BG_OK) {
			if (r == BG_ERR_DENIED) {
				say(why, whylen, "%s", msg != NULL ? msg :
				    "the policy lets one person act alone");
				r = BG_ERR_AUTH;
			}
			goto out;
		}
	}
	r = BG_OK;
out:
	bg_mds_free(&mds);
	free(msg);
	bg_policy_free(&p);
	return r;
}

/* ", "-joined names into out (truncated to fit). */
static void
list_add(char *out, size_t cap, const char *name)
{
	size_t n = strlen(out);

	if (n < cap)
		(void)snprintf(out + n, cap - n, "%s%s", n > 0 ? ", " : "",
		    name);
}

/* First link, or an approver change before any policy: the custodians of
 * the vault link the tenant link names. */
static int
rule_custodians(struct ctx *c)
{
	const bg_chain_link_t *g = c->g;
	char missing[BG_CHAIN_WHY_MAX] = "";
	size_t i, have = 0;
	bool ok;
	int r;

	for (i = 0; i < g->n_members; i++) {
		if ((r = signed_by(c, &g->members[i], &ok)) != BG_OK)
			return r;
		if (ok)
			have++;
		else
			list_add(missing, sizeof(missing),
			    g->members[i].person);
	}
	if (have < (size_t)g->settings.custodian_quorum)
		need(c, "a custodian quorum (%zu more of: %s)",
		    (size_t)g->settings.custodian_quorum - have, missing);
	return BG_OK;
}

/* ... and every live client approver the new keyset names, each with a
 * credential next gives them. */
static int
rule_next_clients(struct ctx *c)
{
	const bg_chain_member_t *m;
	size_t i;
	bool ok;
	int r;

	for (i = 0; i < c->next->n_members; i++) {
		m = &c->next->members[i];
		if (m->role != BG_CHAIN_ROLE_APPROVER ||
		    m->side != BG_CHAIN_SIDE_CLIENT || !live(m, c->now))
			continue;
		if ((r = signed_by(c, m, &ok)) != BG_OK)
			return r;
		if (!ok)
			need(c, "a signature by %s (client approver named by "
			    "this link)", m->person);
	}
	return BG_OK;
}

/*
 * Client approvers of prev who may sign and did, leaving out `except`
 * (a grantee); *countp gets their number, and unsigned the names of those
 * who could still sign.
 */
static int
client_signers(struct ctx *c, const char *except, size_t *countp,
    char *unsigned_names, size_t cap)
{
	const bg_chain_member_t *mp;
	size_t i;
	bool ok;
	int r;

	*countp = 0;
	unsigned_names[0] = '\0';
	for (i = 0; i < c->prev->n_members; i++) {
		mp = &c->prev->members[i];
		if (mp->side != BG_CHAIN_SIDE_CLIENT || !eligible(c, mp) ||
		    (except != NULL && strcmp(mp->person, except) == 0))
			continue;
		if ((r = prev_signed(c, mp, &ok)) != BG_OK)
			return r;
		if (ok)
			(*countp)++;
		else
			list_add(unsigned_names, cap, mp->person);
	}
	return BG_OK;
}

static void
need_cosigners(struct ctx *c, size_t want, size_t have, const char *what,
    const char *names)
{
	size_t more = want - have;

	need(c, "%zu %sclient co-signer%s%s (%s%s)", more,
	    have > 0 ? "more " : "", more == 1 ? "" : "s", what,
	    names[0] != '\0' ? "of: " : "", names[0] != '\0' ? names :
	    "no client approver of the previous link can sign");
}

/* The policy in force, by eligible approvers of prev, plus co-signers. */
static int
rule_policy(struct ctx *c)
{
	bg_policy_t *p = NULL;
	const bg_chain_member_t *mp;
	char names[BG_CHAIN_WHY_MAX], *sentence = NULL;
	bool *have = NULL, ok;
	size_t i, n, want, count;
	int r = BG_ERR_INTERNAL;

	if (bg_policy_parse(c->prev->policy, &p, NULL) != BG_OK) {
		r = BG_ERR_AUTH;	/* prev was checked: should not happen */
		goto out;
	}
	n = bg_policy_leaf_count(p);
	if ((have = calloc(n, sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		mp = bg_chain_member_find(c->prev, bg_policy_leaf_name(p, i),
		    BG_CHAIN_ROLE_APPROVER);
		if (mp == NULL || !eligible(c, mp))
			continue;
		if ((r = prev_signed(c, mp, &ok)) != BG_OK)
			goto out;
		have[i] = ok;
	}
	if (!bg_policy_satisfied(p, have)) {
		if ((r = bg_policy_missing(p, have, &sentence)) != BG_OK)
			goto out;
		need(c, "the policy in force (%s)", sentence);
	}
	want = c->prev->settings.client_cosign > 1 ?
	    (size_t)c->prev->settings.client_cosign : 1;
	if ((r = client_signers(c, NULL, &count, names, sizeof(names))) !=
	    BG_OK)
		goto out;
	if (count < want)
		need_cosigners(c, want, count, "", names);
	r = BG_OK;
out:
	free(sentence);
	free(have);
	bg_policy_free(&p);
	return r;
}

static int
rule_grants(struct ctx *c, const struct names *grantees)
{
	char names[BG_CHAIN_WHY_MAX], what[BG_CHAIN_NAME_MAX + 32];
	size_t i, want, count;
	int r;

	want = c->prev->settings.client_cosign > 1 ?
	    (size_t)c->prev->settings.client_cosign : 1;
	for (i = 0; i < grantees->n; i++) {
		if ((r = client_signers(c, grantees->v[i], &count, names,
		    sizeof(names))) != BG_OK)
			return r;
		if (count >= want)
			continue;
		(void)snprintf(what, sizeof(what), " for the grant to %s",
		    grantees->v[i]);
		need_cosigners(c, want, count, what, names);
	}
	return BG_OK;
}

static int
rule_removal(struct ctx *c)
{
	char names[BG_CHAIN_WHY_MAX];
	size_t count;
	int r;

	if ((r = client_signers(c, NULL, &count, names, sizeof(names))) !=
	    BG_OK)
		return r;
	if (count < 1)
		need(c, "a client approver's signature for the removal (%s%s)",
		    names[0] != '\0' ? "one of: " : "", names[0] != '\0' ?
		    names : "no client approver of the previous link can "
		    "sign");
	return BG_OK;
}

/* A new credential under a name that already had one: that name's
 * existing credential must say so. */
static int
rule_owners(struct ctx *c, const struct names *owners)
{
	const bg_chain_member_t *mp;
	size_t i, j;
	bool ok;
	int r;

	for (i = 0; i < owners->n; i++) {
		ok = false;
		for (j = 0; j < c->prev->n_members && !ok; j++) {
			mp = &c->prev->members[j];
			if (strcmp(mp->person, owners->v[i]) != 0)
				continue;
			if ((r = prev_signed(c, mp, &ok)) != BG_OK)
				return r;
		}
		if (!ok)
			need(c, "a signature by %s with a credential %s "
			    "already holds (for %s's new credential)",
			    owners->v[i], owners->v[i], owners->v[i]);
	}
	return BG_OK;
}

/* Some qualified set of the policy without a client approver. */
int
bg_chain_msp_alone(const bg_chain_link_t *next, bool *alonep)
{
	const bg_chain_member_t *m;
	bg_policy_t *p = NULL;
	bool *have = NULL;
	size_t i, n;
	int r = BG_ERR_INTERNAL;

	*alonep = false;
	if (next->policy == NULL) {
		r = BG_OK;
		goto out;
	}
	if ((r = bg_policy_parse(next->policy, &p, NULL)) != BG_OK)
		goto out;
	n = bg_policy_leaf_count(p);
	if ((have = calloc(n, sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		m = bg_chain_member_find(next, bg_policy_leaf_name(p, i),
		    BG_CHAIN_ROLE_APPROVER);
		have[i] = m != NULL && m->side != BG_CHAIN_SIDE_CLIENT;
	}
	*alonep = bg_policy_satisfied(p, have);
	r = BG_OK;
out:
	free(have);
	bg_policy_free(&p);
	return r;
}

int
bg_chain_check(const bg_chain_link_t *g, const bg_chain_link_t *prev,
    const bg_chain_link_t *next, const bg_chain_sig_t *sigs, size_t n_sigs,
    char *why, size_t whylen)
{
	return bg_chain_check_hashed(g, prev, next, NULL, sigs, n_sigs, why,
	    whylen);
}

int
bg_chain_check_hashed(const bg_chain_link_t *g, const bg_chain_link_t *prev,
    const bg_chain_link_t *next, const struct bg_chain_hashes *known,
    const bg_chain_sig_t *sigs, size_t n_sigs, char *why, size_t whylen)
{
	struct ctx c;
	struct diff d;
	bool alone, approver_rule;
	int r = BG_ERR_INTERNAL;

	clear_why(why, whylen);
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	if (g == NULL || next == NULL || (sigs == NULL && n_sigs > 0)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	c.g = g;
	c.prev = prev;
	c.next = next;
	c.sigs = sigs;
	c.n_sigs = n_sigs;
	c.known = known;
	c.rp_id = g->rp_id;
	c.now = next->time;
	if ((r = link_structure(&c, why, whylen)) != BG_OK)
		goto out;

	if (prev != NULL) {
		if (prev->n_members > 0 && (c.prev_signed = calloc(
		    prev->n_members, sizeof(*c.prev_signed))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		if ((r = classify(prev, next, &d)) != BG_OK)
			goto out;
		if (!d.approver && !d.removal && d.grantees.n == 0 &&
		    d.owners.n == 0) {
			say(why, whylen, "the link changes nothing");
			r = BG_ERR_STATE;
			goto out;
		}
	}

	if ((r = bg_chain_msp_alone(next, &alone)) != BG_OK)
		goto out;
	if (alone && !(next->has_exception &&
	    next->exception_expires > next->time))
		need(&c, "an unexpired exception (reason and expiry), since "
		    "the policy can be met without a client approver");

	approver_rule = prev == NULL || d.approver;
	if (approver_rule && (prev == NULL || prev->policy == NULL)) {
		if ((r = rule_custodians(&c)) != BG_OK ||
		    (r = rule_next_clients(&c)) != BG_OK)
			goto out;
	} else if (approver_rule) {
		if ((r = rule_policy(&c)) != BG_OK)
			goto out;
	}
	if (prev != NULL) {
		if ((r = rule_grants(&c, &d.grantees)) != BG_OK ||
		    (d.removal && (r = rule_removal(&c)) != BG_OK) ||
		    (r = rule_owners(&c, &d.owners)) != BG_OK)
			goto out;
	}
	if (c.need.oom) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (c.need.len > 0) {
		finish_why(&c.need, why, whylen);
		r = BG_ERR_DENIED;
		goto out;
	}
	r = BG_OK;
out:
	free(d.grantees.v);
	free(d.owners.v);
	free(c.prev_signed);
	free(c.need.buf);
	return r;
}

/* --- vault links after the genesis --------------------------------------- */

/* Vault link next in its place after prev: everything but signatures. */
static int
vault_link_structure(struct ctx *c, char *why, size_t whylen)
{
	const bg_chain_link_t *prev = c->prev, *next = c->next;
	uint8_t ph[BG_CHAIN_HASH_LEN], gh[BG_CHAIN_HASH_LEN];
	char sub[BG_CHAIN_WHY_MAX];
	int r = BG_ERR_AUTH;

	sub[0] = '\0';
	if ((r = vault_structure(prev, NULL, false, sub, sizeof(sub))) !=
	    BG_OK) {
		if (r == BG_ERR_AUTH)
			say(why, whylen, "the previous vault link is not a "
			    "vault link: %s", sub);
		goto out;
	}
	if ((r = bg_chain_link_hash(prev, ph)) != BG_OK)
		goto out;
	if ((r = link_hash_why(next, c->cdh, sub, sizeof(sub))) != BG_OK) {
		if (r == BG_ERR_INVALID_ARG) {
			say(why, whylen, "the link is malformed: %s", sub);
			r = BG_ERR_AUTH;
		}
		goto out;
	}
	r = BG_ERR_AUTH;
	if (next->scope != BG_CHAIN_VAULT) {
		say(why, whylen, "the link is not a vault link");
		goto out;
	}
	if (next->seq != prev->seq + 1) {
		say(why, whylen, "the link is vault link %llu; vault link "
		    "%llu is due", (unsigned long long)next->seq,
		    (unsigned long long)prev->seq + 1);
		goto out;
	}
	/* The vault's identity never changes: the genesis's hash. */
	if (prev->seq == 0)
		memcpy(gh, ph, sizeof(gh));
	else
		memcpy(gh, prev->genesis, sizeof(gh));
	if (!beq(next->genesis, 32, gh, 32)) {
		say(why, whylen, "the link belongs to another vault (its "
		    "genesis differs)");
		goto out;
	}
	if (!beq(next->prev, 32, ph, 32)) {
		say(why, whylen, "the link does not follow the previous vault "
		    "link (its prev hash differs)");
		goto out;
	}
	if (strcmp(next->vault_id, prev->vault_id) != 0 ||
	    strcmp(next->rp_id, prev->rp_id) != 0) {
		say(why, whylen, "the link names another vault id or "
		    "relying party than the vault link before it");
		goto out;
	}
	if (next->time < prev->time) {
		say(why, whylen, "the link is dated before the previous vault "
		    "link");
		goto out;
	}
	r = vault_structure(next, prev, true, why, whylen);
out:
	return r;
}

/* Custodians, their credentials or the vault's settings changed. */
static bool
vault_changed(const bg_chain_link_t *prev, const bg_chain_link_t *next)
{
	const bg_chain_member_t *mp, *mn;
	size_t i;

	if (!settings_same(&prev->settings, &next->settings) ||
	    prev->n_members != next->n_members ||
	    !bg_attest_trust_same(prev->trust, next->trust))
		return true;
	for (i = 0; i < prev->n_members; i++) {
		mp = &prev->members[i];
		mn = bg_chain_member_find(next, mp->person, mp->role);
		if (mn == NULL || !member_same(prev, mp, mn))
			return true;
	}
	return false;
}

/*
 * prev's quorum of prev's custodians, each with the credential prev gives
 * them, leaving out those next removes: nobody signs off their own
 * removal, and nobody next adds vouches for themselves.
 */
static int
rule_vault_quorum(struct ctx *c)
{
	const bg_chain_member_t *mp;
	char missing[BG_CHAIN_WHY_MAX] = "";
	size_t i, have = 0, can = 0, want;
	bool ok;
	int r;

	want = (size_t)c->prev->settings.custodian_quorum;
	for (i = 0; i < c->prev->n_members; i++) {
		mp = &c->prev->members[i];
		if (bg_chain_member_find(c->next, mp->person, mp->role) == NULL)
			continue;
		can++;
		if ((r = prev_signed(c, mp, &ok)) != BG_OK)
			return r;
		if (ok)
			have++;
		else
			list_add(missing, sizeof(missing), mp->person);
	}
	if (have >= want)
		return BG_OK;
	if (can < want)
		need(c, "a custodian quorum of %zu, which the %zu custodian%s "
		    "this link keeps cannot reach (custodians it removes do "
		    "not count): lower the quorum in a vault link of its own "
		    "first", want, can, can == 1 ? "" : "s");
	else
		need(c, "a custodian quorum (%zu more of: %s)", want - have,
		    missing);
	return BG_OK;
}

/* A custodian with another credential: their credential in force says so. */
static int
rule_vault_owners(struct ctx *c)
{
	const bg_chain_member_t *mp, *mn;
	const bg_chain_token_t *t;
	size_t i;
	bool ok;
	int r;

	for (i = 0; i < c->next->n_members; i++) {
		mn = &c->next->members[i];
		mp = bg_chain_member_find(c->prev, mn->person, mn->role);
		if (mp == NULL || mn->n_tokens != 1)
			continue;
		t = &mn->tokens[0];
		if (holds_cred(c->prev, mn->person, t->cred_id, t->cred_id_len,
		    t))
			continue;
		if ((r = prev_signed(c, mp, &ok)) != BG_OK)
			return r;
		if (!ok)
			need(c, "a signature by %s with a credential %s "
			    "already holds (for %s's new credential)",
			    mn->person, mn->person, mn->person);
	}
	return BG_OK;
}

int
bg_chain_check_vault(const bg_chain_link_t *prev, const bg_chain_link_t *next,
    const bg_chain_sig_t *sigs, size_t n_sigs, char *why, size_t whylen)
{
	struct ctx c;
	int r = BG_ERR_INTERNAL;

	clear_why(why, whylen);
	memset(&c, 0, sizeof(c));
	if (prev == NULL || next == NULL || (sigs == NULL && n_sigs > 0)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	c.g = prev;
	c.prev = prev;
	c.next = next;
	c.sigs = sigs;
	c.n_sigs = n_sigs;
	c.rp_id = prev->rp_id;
	c.now = next->time;
	if ((r = vault_link_structure(&c, why, whylen)) != BG_OK)
		goto out;
	if (!vault_changed(prev, next)) {
		say(why, whylen, "the link changes nothing");
		r = BG_ERR_STATE;
		goto out;
	}
	if ((c.prev_signed = calloc(prev->n_members,
	    sizeof(*c.prev_signed))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = rule_vault_quorum(&c)) != BG_OK ||
	    (r = rule_vault_owners(&c)) != BG_OK)
		goto out;
	if (c.need.oom) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (c.need.len > 0) {
		finish_why(&c.need, why, whylen);
		r = BG_ERR_DENIED;
		goto out;
	}
	r = BG_OK;
out:
	free(c.prev_signed);
	free(c.need.buf);
	return r;
}
