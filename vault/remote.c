/*
 * Remote approval: the packet formats and the approver's checks
 * (remote.h).  Store-free: the approver's machine has no vault file.
 *
 * Every parser works the way chain.c's does: JSON through jansson with
 * duplicate keys refused, every key of an object required and no other
 * allowed, then the parsed value encoded again and compared byte for byte
 * with the input, so that anything not in canonical form (white space,
 * key order, upper-case hex, escapes) is refused and a packet has one
 * text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "remote.h"

#define CARD_FORMAT	"bg-card"
#define REQ_FORMAT	"bg-request-packet"
#define APP_FORMAT	"bg-approval-packet"
#define WITNESS_TAG	"bg-witness-v1"
/* How far ahead of the approver's clock a link may be dated: offline
 * clocks drift; a link from the future counts nobody extra. */
#define CLOCK_SLACK	86400

static void
say(char *why, size_t whylen, const char *fmt, ...)
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

static int
fail(char *why, size_t whylen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *why, size_t whylen, int r, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	(void)sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* --- JSON helpers ------------------------------------------------------------ */

static json_t *
jhex(const uint8_t *p, size_t n)
{
	char *s;
	json_t *j;

	if ((s = malloc(2 * n + 1)) == NULL)
		return NULL;
	hex(p, n, s);
	j = json_string(s);
	free(s);
	return j;
}

/* Set o[key] = val (stolen); false when val is NULL or out of memory. */
static bool
jset(json_t *o, const char *key, json_t *val)
{
	return val != NULL && json_object_set_new(o, key, val) == 0;
}

/* o is an object with exactly the n keys. */
static int
jkeys(const json_t *o, const char *what, const char *const *keys, size_t n,
    char *why, size_t whylen)
{
	size_t i;

	if (!json_is_object(o))
		return fail(why, whylen, BG_ERR_PARSE, "%s is not an object",
		    what);
	for (i = 0; i < n; i++)
		if (json_object_get(o, keys[i]) == NULL)
			return fail(why, whylen, BG_ERR_PARSE, "%s lacks \"%s\"",
			    what, keys[i]);
	if (json_object_size(o) != n)
		return fail(why, whylen, BG_ERR_PARSE, "%s has a key it may "
		    "not have", what);
	return BG_OK;
}

static int
jstr(const json_t *o, const char *key, char *out, size_t cap, char *why,
    size_t whylen)
{
	const json_t *j = json_object_get(o, key);
	size_t n;

	if (!json_is_string(j) || (n = json_string_length(j)) >= cap ||
	    strlen(json_string_value(j)) != n)
		return fail(why, whylen, BG_ERR_PARSE, "\"%s\" is not a string "
		    "of at most %zu bytes", key, cap - 1);
	memcpy(out, json_string_value(j), n + 1);
	return BG_OK;
}

static int
jint(const json_t *o, const char *key, int64_t min, int64_t max,
    int64_t *out, char *why, size_t whylen)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < min ||
	    json_integer_value(j) > max)
		return fail(why, whylen, BG_ERR_PARSE, "\"%s\" is not an "
		    "integer in %" PRId64 "..%" PRId64, key, min, max);
	*out = (int64_t)json_integer_value(j);
	return BG_OK;
}

/* Lower-case hex of 1..cap bytes (exactly cap when exact). */
static int
jbin(const json_t *o, const char *key, uint8_t *out, size_t cap, bool exact,
    size_t *lenp, char *why, size_t whylen)
{
	const json_t *j = json_object_get(o, key);
	const char *s;
	size_t n, i, bin = 0;

	if (lenp != NULL)
		*lenp = 0;
	if (!json_is_string(j))
		goto bad;
	s = json_string_value(j);
	n = json_string_length(j);
	if (n % 2 != 0 || n / 2 > cap || (exact && n / 2 != cap) ||
	    strlen(s) != n)
		goto bad;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			goto bad;
	if (sodium_hex2bin(out, cap, s, n, NULL, &bin, NULL) != 0 ||
	    bin != n / 2)
		goto bad;
	if (lenp != NULL)
		*lenp = bin;
	return BG_OK;
bad:
	return fail(why, whylen, BG_ERR_PARSE, "\"%s\" is not lower-case hex "
	    "of %s%zu bytes", key, exact ? "" : "at most ", cap);
}

/*
 * A JSON list of 32-byte hashes in hex into *bufp (calloc'd, with one
 * spare entry so that an empty list has an address); each is read as
 * member key of an object of its own, so that a refusal names it as jbin
 * names any member.  The caller has checked that list is a list and how
 * long it may be.
 */
static int
jhashes(const json_t *list, const char *key, uint8_t (**bufp)[32],
    char *why, size_t whylen)
{
	uint8_t (*buf)[32];
	json_t *one;
	size_t j;
	int r = BG_OK;

	*bufp = NULL;
	if ((buf = calloc(json_array_size(list) + 1, 32)) == NULL)
		return BG_ERR_NOMEM;
	for (j = 0; j < json_array_size(list) && r == BG_OK; j++) {
		if ((one = json_object()) == NULL || json_object_set(one, key,
		    json_array_get(list, j)) != 0)
			r = BG_ERR_NOMEM;
		else
			r = jbin(one, key, buf[j], 32, true, NULL, why,
			    whylen);
		json_decref(one);
	}
	if (r != BG_OK) {
		free(buf);
		return r;
	}
	*bufp = buf;
	return BG_OK;
}

/* Load text (len bytes, the last one "\n", no NUL) as one JSON value. */
static int
jload(const char *text, size_t len, json_t **rootp, char *why, size_t whylen)
{
	json_error_t jerr;

	*rootp = NULL;
	if (text == NULL || len == 0 || len > BG_REMOTE_MAX)
		return fail(why, whylen, BG_ERR_PARSE, "empty or larger than "
		    "%u bytes", BG_REMOTE_MAX);
	if (text[len - 1] != '\n' || memchr(text, '\0', len) != NULL)
		return fail(why, whylen, BG_ERR_PARSE, "not one line of text "
		    "ending in a newline");
	if ((*rootp = json_loadb(text, len - 1, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return fail(why, whylen, BG_ERR_PARSE, "not valid JSON (line "
		    "%d, column %d)", jerr.line, jerr.column);
	return BG_OK;
}

/* The canonical text of root, with its newline (malloc'd). */
static int
jdump(const json_t *root, char **textp)
{
	char *s = NULL, *t = NULL;
	size_t n;

	*textp = NULL;
	if ((s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return BG_ERR_NOMEM;
	n = strlen(s);
	if ((t = malloc(n + 2)) == NULL) {
		free(s);
		return BG_ERR_NOMEM;
	}
	memcpy(t, s, n);
	t[n] = '\n';
	t[n + 1] = '\0';
	free(s);
	*textp = t;
	return BG_OK;
}

/* The input must be what the encoder writes. */
static int
canonical(const char *text, size_t len, const char *again, char *why,
    size_t whylen)
{
	size_t i;

	if (strlen(again) == len && memcmp(again, text, /* public: packet text */
	    len) == 0)
		return BG_OK;
	for (i = 0; i < len && again[i] != '\0' && again[i] == text[i]; i++)
		;
	return fail(why, whylen, BG_ERR_PARSE, "not in canonical form (first "
	    "difference at byte %zu)", i + 1);
}

static json_t *
sig_json(const bg_remote_sig_t *s)
{
	json_t *o = json_object();

	if (o == NULL || !jset(o, "authdata", jhex(s->authdata,
	    s->authdata_len)) || !jset(o, "cred_id", jhex(s->cred_id,
	    s->cred_id_len)) || !jset(o, "sig", jhex(s->sig, s->sig_len))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
sig_from(const json_t *o, const char *what, bg_remote_sig_t *s, char *why,
    size_t whylen)
{
	static const char *const keys[] = { "authdata", "cred_id", "sig" };
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = jkeys(o, what, keys, 3, why, whylen)) != BG_OK ||
	    (r = jbin(o, "authdata", s->authdata, sizeof(s->authdata), false,
	    &s->authdata_len, why, whylen)) != BG_OK ||
	    (r = jbin(o, "cred_id", s->cred_id, sizeof(s->cred_id), false,
	    &s->cred_id_len, why, whylen)) != BG_OK ||
	    (r = jbin(o, "sig", s->sig, sizeof(s->sig), false, &s->sig_len,
	    why, whylen)) != BG_OK)
		return r;
	if (s->authdata_len == 0 || s->cred_id_len == 0 || s->sig_len == 0)
		return fail(why, whylen, BG_ERR_PARSE, "%s has an empty field",
		    what);
	return BG_OK;
}

static const char *
role_name(int role)
{
	switch (role) {
	case BG_CHAIN_ROLE_REQUESTER:	return "requester";
	case BG_CHAIN_ROLE_APPROVER:	return "approver";
	case BG_CHAIN_ROLE_AUDITOR:	return "auditor";
	case BG_CHAIN_ROLE_OPERATOR:	return "operator";
	default:			return NULL;
	}
}

static int
role_from(const char *s)
{
	int r;

	for (r = BG_CHAIN_ROLE_REQUESTER; r <= BG_CHAIN_ROLE_OPERATOR; r++)
		if (strcmp(role_name(r), s) == 0)
			return r;
	return 0;
}

static bool
name_ok(const char *s)
{
	return s[0] != '\0' && bg_policy_name_ok(s, strlen(s));
}

/* --- cards -------------------------------------------------------------------- */

static json_t *
head_json(uint64_t seq, const uint8_t hash[32])
{
	json_t *o = json_object();

	if (o == NULL || !jset(o, "hash", jhex(hash, 32)) ||
	    !jset(o, "seq", json_integer((json_int_t)seq))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
head_from(const json_t *o, const char *what, uint64_t *seq, uint8_t hash[32],
    char *why, size_t whylen)
{
	static const char *const keys[] = { "hash", "seq" };
	int64_t n = 0;
	int r;

	if ((r = jkeys(o, what, keys, 2, why, whylen)) != BG_OK ||
	    (r = jbin(o, "hash", hash, 32, true, NULL, why, whylen)) != BG_OK ||
	    (r = jint(o, "seq", 0, INT64_MAX, &n, why, whylen)) != BG_OK)
		return r;
	*seq = (uint64_t)n;
	return BG_OK;
}

static json_t *
card_body_json(const bg_card_t *c)
{
	json_t *o = json_object(), *creds = json_array(), *cr;
	char th[BG_TREEHEAD_TEXT_MAX];
	const char *role = role_name(c->role);
	size_t i;

	if (o == NULL || creds == NULL || role == NULL ||
	    bg_treehead_format(&c->th, th, sizeof(th)) != BG_OK)
		goto fail;
	for (i = 0; i < c->n_creds; i++) {
		if ((cr = json_object()) == NULL || json_array_append_new(creds,
		    cr) != 0 ||
		    !jset(cr, "alg", json_integer(c->creds[i].alg)) ||
		    !jset(cr, "id", jhex(c->creds[i].id, c->creds[i].id_len)) ||
		    !jset(cr, "label", json_string(c->creds[i].label)) ||
		    !jset(cr, "member_pk", jhex(c->creds[i].member_pk, 32)) ||
		    !jset(cr, "pubkey", jhex(c->creds[i].pubkey,
		    c->creds[i].pubkey_len)))
			goto fail;
	}
	if (!jset(o, "chain", head_json(c->chain_seq, c->chain_hash)) ||
	    !jset(o, "creds", creds))
		goto fail2;
	if (!jset(o, "format", json_string(CARD_FORMAT)) ||
	    !jset(o, "genesis", jhex(c->genesis, 32)) ||
	    !jset(o, "log_key", jhex(c->log_key, 32)) ||
	    !jset(o, "person", json_string(c->person)) ||
	    !jset(o, "role", json_string(role)) ||
	    !jset(o, "rp_id", json_string(c->rp_id)) ||
	    !jset(o, "salt", jhex(c->salt, 32)) ||
	    !jset(o, "tenant", json_string(c->tenant)) ||
	    !jset(o, "time", json_integer(c->time)) ||
	    !jset(o, "tree_head", json_string(th)) ||
	    !jset(o, "v", json_integer(BG_REMOTE_V)) ||
	    !jset(o, "vault", head_json(c->vault_seq, c->vault_hash)) ||
	    !jset(o, "vault_id", json_string(c->vault_id)))
		goto fail2;
	return o;
fail:
	json_decref(creds);
fail2:
	json_decref(o);
	return NULL;
}

int
bg_card_body(const bg_card_t *c, char **textp)
{
	json_t *o;
	char *s;

	*textp = NULL;
	if ((o = card_body_json(c)) == NULL)
		return BG_ERR_INVALID_ARG;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (s == NULL)
		return BG_ERR_NOMEM;
	*textp = s;
	return BG_OK;
}

int
bg_card_cdh(const bg_card_t *c, uint8_t cdh[32])
{
	char *body = NULL;
	int r;

	if ((r = bg_card_body(c, &body)) != BG_OK)
		return r;
	bg_statement_cdh("card", body, cdh);
	free(body);
	return BG_OK;
}

int
bg_card_encode(const bg_card_t *c, char **textp)
{
	json_t *o = NULL, *b = NULL;
	int r = BG_ERR_NOMEM;

	*textp = NULL;
	if ((b = card_body_json(c)) == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((o = json_object()) == NULL || !jset(o, "body", b)) {
		json_decref(b);
		goto out;
	}
	if (!jset(o, "signature", sig_json(&c->sig)))
		goto out;
	r = jdump(o, textp);
out:
	json_decref(o);
	return r;
}

static int
card_from(const json_t *b, bg_card_t *c, char *why, size_t whylen)
{
	static const char *const keys[] = { "chain", "creds", "format",
	    "genesis", "log_key", "person", "role", "rp_id", "salt", "tenant",
	    "time", "tree_head", "v", "vault", "vault_id" };
	static const char *const ckeys[] = { "alg", "id", "label", "member_pk",
	    "pubkey" };
	char fmt[32], role[16], th[BG_TREEHEAD_TEXT_MAX], thwhy[160];
	const json_t *creds, *cr;
	int64_t n = 0;
	size_t i;
	int r;

	if ((r = jkeys(b, "the card", keys, sizeof(keys) / sizeof(keys[0]),
	    why, whylen)) != BG_OK ||
	    (r = jstr(b, "format", fmt, sizeof(fmt), why, whylen)) != BG_OK)
		return r;
	if (strcmp(fmt, CARD_FORMAT) != 0)
		return fail(why, whylen, BG_ERR_PARSE, "not a membership card "
		    "(format \"%s\")", fmt);
	if ((r = jint(b, "v", 0, INT32_MAX, &n, why, whylen)) != BG_OK)
		return r;
	if (n != BG_REMOTE_V)
		return fail(why, whylen, BG_ERR_UNSUPPORTED, "card version %"
		    PRId64 " is not known to this program", n);
	if ((r = jstr(b, "vault_id", c->vault_id, sizeof(c->vault_id), why,
	    whylen)) != BG_OK ||
	    (r = jstr(b, "rp_id", c->rp_id, sizeof(c->rp_id), why, whylen)) !=
	    BG_OK ||
	    (r = jbin(b, "genesis", c->genesis, 32, true, NULL, why, whylen)) !=
	    BG_OK ||
	    (r = jbin(b, "log_key", c->log_key, 32, true, NULL, why, whylen)) !=
	    BG_OK ||
	    (r = jstr(b, "tenant", c->tenant, sizeof(c->tenant), why, whylen)) !=
	    BG_OK ||
	    (r = jstr(b, "person", c->person, sizeof(c->person), why, whylen)) !=
	    BG_OK ||
	    (r = jstr(b, "role", role, sizeof(role), why, whylen)) != BG_OK ||
	    (r = jbin(b, "salt", c->salt, 32, true, NULL, why, whylen)) !=
	    BG_OK ||
	    (r = head_from(json_object_get(b, "chain"), "the card's chain",
	    &c->chain_seq, c->chain_hash, why, whylen)) != BG_OK ||
	    (r = head_from(json_object_get(b, "vault"), "the card's vault "
	    "chain", &c->vault_seq, c->vault_hash, why, whylen)) != BG_OK ||
	    (r = jint(b, "time", 0, INT64_MAX, &c->time, why, whylen)) !=
	    BG_OK ||
	    (r = jstr(b, "tree_head", th, sizeof(th), why, whylen)) != BG_OK)
		return r;
	if (!name_ok(c->tenant) || !name_ok(c->person) ||
	    (c->role = role_from(role)) == 0 || c->chain_seq == 0)
		return fail(why, whylen, BG_ERR_PARSE, "the card names no valid "
		    "tenant, person, role or chain link");
	if (bg_treehead_parse(th, &c->th, thwhy, sizeof(thwhy)) != BG_OK)
		return fail(why, whylen, BG_ERR_PARSE, "the card's tree head: "
		    "%s", thwhy);
	creds = json_object_get(b, "creds");
	if (!json_is_array(creds) || json_array_size(creds) == 0 ||
	    json_array_size(creds) > BG_CHAIN_MAX_TOKENS)
		return fail(why, whylen, BG_ERR_PARSE, "the card has no "
		    "credentials, or more than %d", BG_CHAIN_MAX_TOKENS);
	for (i = 0; i < json_array_size(creds); i++) {
		bg_card_cred_t *k = &c->creds[i];

		cr = json_array_get(creds, i);
		if ((r = jkeys(cr, "a card credential", ckeys, 5, why,
		    whylen)) != BG_OK ||
		    (r = jint(cr, "alg", -65536, 65536, &n, why, whylen)) !=
		    BG_OK ||
		    (r = jbin(cr, "id", k->id, sizeof(k->id), false,
		    &k->id_len, why, whylen)) != BG_OK ||
		    (r = jstr(cr, "label", k->label, sizeof(k->label), why,
		    whylen)) != BG_OK ||
		    (r = jbin(cr, "member_pk", k->member_pk, 32, true, NULL,
		    why, whylen)) != BG_OK ||
		    (r = jbin(cr, "pubkey", k->pubkey, sizeof(k->pubkey), false,
		    &k->pubkey_len, why, whylen)) != BG_OK)
			return r;
		k->alg = (int)n;
		if (k->id_len == 0 || k->pubkey_len == 0)
			return fail(why, whylen, BG_ERR_PARSE, "a card "
			    "credential is empty");
		c->n_creds++;
	}
	return BG_OK;
}

int
bg_card_parse(const char *text, size_t len, bg_card_t **cp, char *why,
    size_t whylen)
{
	static const char *const keys[] = { "body", "signature" };
	bg_card_t *c = NULL;
	json_t *root = NULL;
	char *again = NULL;
	uint8_t cdh[32];
	size_t i;
	int r = BG_ERR_INTERNAL;

	say(why, whylen, "%s", "");
	*cp = NULL;
	if ((r = jload(text, len, &root, why, whylen)) != BG_OK ||
	    (r = jkeys(root, "the card file", keys, 2, why, whylen)) != BG_OK)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = card_from(json_object_get(root, "body"), c, why, whylen)) !=
	    BG_OK || (r = sig_from(json_object_get(root, "signature"),
	    "the card's signature", &c->sig, why, whylen)) != BG_OK)
		goto out;
	if ((r = bg_card_encode(c, &again)) != BG_OK) {
		r = fail(why, whylen, BG_ERR_PARSE, "the card does not encode "
		    "(%s)", bg_strerror(r));
		goto out;
	}
	if ((r = canonical(text, len, again, why, whylen)) != BG_OK)
		goto out;
	/* Signed by one of its own credentials: the holder's token. */
	for (i = 0; i < c->n_creds; i++)
		if (c->creds[i].id_len == c->sig.cred_id_len &&
		    memcmp(c->creds[i].id, c->sig.cred_id, /* public: id */
		    c->sig.cred_id_len) == 0)
			break;
	if ((r = bg_card_cdh(c, cdh)) != BG_OK)
		goto out;
	if (i == c->n_creds || bg_token_verify(c->creds[i].alg,
	    c->creds[i].pubkey, c->creds[i].pubkey_len, c->rp_id, cdh,
	    c->sig.authdata, c->sig.authdata_len, c->sig.sig, c->sig.sig_len,
	    true) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "the card's signature does "
		    "not verify with its own credentials: it was altered");
		goto out;
	}
	*cp = c;
	c = NULL;
	r = BG_OK;
out:
	free(again);
	free(c);
	json_decref(root);
	return r;
}

/* --- request packets ------------------------------------------------------------ */

bg_reqpkt_t *
bg_reqpkt_new(void)
{
	return calloc(1, sizeof(bg_reqpkt_t));
}

static void
links_free(bg_remote_link_t *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].body);
		free(l[i].sigs);
	}
	free(l);
}

void
bg_reqpkt_free(bg_reqpkt_t **pp)
{
	bg_reqpkt_t *p;
	size_t i;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	free(p->statement);
	free(p->seal);
	for (i = 0; i < p->n_cosigs; i++)
		free(p->cosigs[i].statement);
	free(p->cosigs);
	links_free(p->vault_links, p->n_vault_links);
	links_free(p->links, p->n_links);
	for (i = 0; i < p->n_proofs; i++)
		free(p->proofs[i].path);
	free(p->proofs);
	free(p->frontier);
	for (i = 0; i < p->n_entries; i++)
		free(p->entries[i]);
	free(p->entries);
	free(p);
	*pp = NULL;
}

int
bg_reqpkt_set_log(bg_reqpkt_t *p, uint64_t from, const uint8_t *frontier,
    size_t n)
{
	uint8_t (*f)[32] = NULL;

	if (n > 64 || (n > 0 && frontier == NULL))
		return BG_ERR_RANGE;
	if (n > 0) {
		if ((f = calloc(n, 32)) == NULL)
			return BG_ERR_NOMEM;
		memcpy(f, frontier, n * 32);
	}
	free(p->frontier);
	p->frontier = f;
	p->n_frontier = n;
	p->log_from = from;
	return BG_OK;
}

int
bg_reqpkt_add_entry(bg_reqpkt_t *p, const char *entry)
{
	char **grown;

	if (p->n_entries >= BG_REMOTE_MAX_ENTRIES)
		return BG_ERR_RANGE;
	if ((grown = realloc(p->entries, (p->n_entries + 1) *
	    sizeof(*grown))) == NULL)
		return BG_ERR_NOMEM;
	p->entries = grown;
	if ((grown[p->n_entries] = strdup(entry)) == NULL)
		return BG_ERR_NOMEM;
	p->n_entries++;
	return BG_OK;
}

int
bg_reqpkt_add_cosig(bg_reqpkt_t *p, const char *person,
    const char *statement, const bg_remote_sig_t *sig)
{
	bg_remote_cosig_t *grown, *k;

	if (p->n_cosigs >= BG_REMOTE_MAX_COSIGS)
		return BG_ERR_RANGE;
	if (strlen(person) >= sizeof(k->person))
		return BG_ERR_INVALID_ARG;
	if ((grown = realloc(p->cosigs, (p->n_cosigs + 1) *
	    sizeof(*grown))) == NULL)
		return BG_ERR_NOMEM;
	p->cosigs = grown;
	k = &grown[p->n_cosigs];
	memset(k, 0, sizeof(*k));
	(void)snprintf(k->person, sizeof(k->person), "%s", person);
	k->sig = *sig;
	if ((k->statement = strdup(statement)) == NULL)
		return BG_ERR_NOMEM;
	p->n_cosigs++;
	return BG_OK;
}

int
bg_reqpkt_add_link(bg_reqpkt_t *p, bool vault, const char *body,
    const bg_chain_sig_t *sigs, size_t n_sigs)
{
	bg_remote_link_t **arr = vault ? &p->vault_links : &p->links;
	size_t *n = vault ? &p->n_vault_links : &p->n_links;
	bg_remote_link_t *grown, *l;

	if (*n >= BG_REMOTE_MAX_LINKS)
		return BG_ERR_RANGE;
	if ((grown = realloc(*arr, (*n + 1) * sizeof(**arr))) == NULL)
		return BG_ERR_NOMEM;
	*arr = grown;
	l = &grown[*n];
	memset(l, 0, sizeof(*l));
	if ((l->body = strdup(body)) == NULL)
		return BG_ERR_NOMEM;
	if (n_sigs > 0) {
		if ((l->sigs = calloc(n_sigs, sizeof(*sigs))) == NULL) {
			free(l->body);
			return BG_ERR_NOMEM;
		}
		memcpy(l->sigs, sigs, n_sigs * sizeof(*sigs));
	}
	l->n_sigs = n_sigs;
	(*n)++;
	return BG_OK;
}

int
bg_reqpkt_add_proof(bg_reqpkt_t *p, uint64_t from, const uint8_t *path,
    size_t n)
{
	bg_remote_proof_t *grown, *pr;

	if (p->n_proofs >= BG_REMOTE_MAX_PROOFS || n > 64)
		return BG_ERR_RANGE;
	if ((grown = realloc(p->proofs, (p->n_proofs + 1) *
	    sizeof(*grown))) == NULL)
		return BG_ERR_NOMEM;
	p->proofs = grown;
	pr = &grown[p->n_proofs];
	memset(pr, 0, sizeof(*pr));
	if (n > 0) {
		if ((pr->path = calloc(n, 32)) == NULL)
			return BG_ERR_NOMEM;
		memcpy(pr->path, path, n * 32);
	}
	pr->from = from;
	pr->n = n;
	p->n_proofs++;
	return BG_OK;
}

static json_t *
links_json(const bg_remote_link_t *l, size_t n)
{
	json_t *a = json_array(), *o, *sigs, *s;
	size_t i, j;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((o = json_object()) == NULL ||
		    json_array_append_new(a, o) != 0 ||
		    !jset(o, "body", json_string(l[i].body)) ||
		    (sigs = json_array()) == NULL || !jset(o, "sigs", sigs))
			goto fail;
		for (j = 0; j < l[i].n_sigs; j++) {
			const bg_chain_sig_t *cs = &l[i].sigs[j];

			if ((s = json_object()) == NULL ||
			    json_array_append_new(sigs, s) != 0 ||
			    !jset(s, "authdata", jhex(cs->authdata,
			    cs->authdata_len)) ||
			    !jset(s, "cred_id", jhex(cs->cred_id,
			    cs->cred_id_len)) ||
			    !jset(s, "person", json_string(cs->person)) ||
			    !jset(s, "sig", jhex(cs->sig, cs->sig_len)))
				goto fail;
		}
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

static int
links_from(const json_t *a, const char *what, bg_reqpkt_t *p, bool vault,
    char *why, size_t whylen)
{
	static const char *const lkeys[] = { "body", "sigs" };
	static const char *const skeys[] = { "authdata", "cred_id", "person",
	    "sig" };
	bg_chain_sig_t *sigs = NULL;
	const json_t *o, *sa, *s;
	size_t i, j, n;
	int r = BG_ERR_INTERNAL;

	if (!json_is_array(a) || json_array_size(a) > BG_REMOTE_MAX_LINKS)
		return fail(why, whylen, BG_ERR_PARSE, "%s is not a list of at "
		    "most %d links", what, BG_REMOTE_MAX_LINKS);
	for (i = 0; i < json_array_size(a); i++) {
		o = json_array_get(a, i);
		if ((r = jkeys(o, what, lkeys, 2, why, whylen)) != BG_OK)
			goto out;
		sa = json_object_get(o, "sigs");
		if (!json_is_string(json_object_get(o, "body")) ||
		    !json_is_array(sa) || json_array_size(sa) >
		    BG_CHAIN_MAX_MEMBERS) {
			r = fail(why, whylen, BG_ERR_PARSE, "a link of %s is "
			    "malformed", what);
			goto out;
		}
		n = json_array_size(sa);
		if (n > 0 && (sigs = calloc(n, sizeof(*sigs))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		for (j = 0; j < n; j++) {
			s = json_array_get(sa, j);
			if ((r = jkeys(s, "a link signature", skeys, 4, why,
			    whylen)) != BG_OK ||
			    (r = jstr(s, "person", sigs[j].person,
			    sizeof(sigs[j].person), why, whylen)) != BG_OK ||
			    (r = jbin(s, "authdata", sigs[j].authdata,
			    sizeof(sigs[j].authdata), false,
			    &sigs[j].authdata_len, why, whylen)) != BG_OK ||
			    (r = jbin(s, "cred_id", sigs[j].cred_id,
			    sizeof(sigs[j].cred_id), false,
			    &sigs[j].cred_id_len, why, whylen)) != BG_OK ||
			    (r = jbin(s, "sig", sigs[j].sig,
			    sizeof(sigs[j].sig), false, &sigs[j].sig_len, why,
			    whylen)) != BG_OK)
				goto out;
		}
		if ((r = bg_reqpkt_add_link(p, vault, json_string_value(
		    json_object_get(o, "body")), sigs, n)) != BG_OK)
			goto out;
		free(sigs);
		sigs = NULL;
	}
	r = BG_OK;
out:
	free(sigs);
	return r;
}

int
bg_reqpkt_encode(const bg_reqpkt_t *p, char **textp)
{
	json_t *o = NULL, *a, *s, *path, *lg;
	char th[BG_TREEHEAD_TEXT_MAX];
	size_t i, j;
	int r = BG_ERR_NOMEM;

	*textp = NULL;
	if (p->statement == NULL || p->seal == NULL ||
	    bg_treehead_format(&p->th, th, sizeof(th)) != BG_OK) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((o = json_object()) == NULL ||
	    !jset(o, "format", json_string(REQ_FORMAT)) ||
	    !jset(o, "v", json_integer(BG_REMOTE_REQ_V)) ||
	    !jset(o, "vault_id", json_string(p->vault_id)) ||
	    !jset(o, "genesis", jhex(p->genesis, 32)) ||
	    !jset(o, "request", json_integer(p->request)) ||
	    !jset(o, "tenant", json_string(p->tenant)) ||
	    !jset(o, "for", json_string(p->person)) ||
	    !jset(o, "statement", json_string(p->statement)) ||
	    !jset(o, "requester_sig", sig_json(&p->req_sig)) ||
	    (s = json_object()) == NULL || !jset(o, "seal", s) ||
	    !jset(s, "signature", sig_json(&p->seal_sig)) ||
	    !jset(s, "statement", json_string(p->seal)) ||
	    !jset(o, "vault_links", links_json(p->vault_links,
	    p->n_vault_links)) ||
	    !jset(o, "links", links_json(p->links, p->n_links)) ||
	    !jset(o, "tree_head", json_string(th)) ||
	    !jset(o, "log_head", jhex(p->log_head, 32)) ||
	    !jset(o, "time", json_integer(p->time)) ||
	    (a = json_array()) == NULL || !jset(o, "shares", a))
		goto out;
	for (i = 0; i < p->n_shares; i++)
		if ((s = json_object()) == NULL ||
		    json_array_append_new(a, s) != 0 ||
		    !jset(s, "blob", jhex(p->shares[i].blob,
		    p->shares[i].blob_len)) ||
		    !jset(s, "cred_id", jhex(p->shares[i].cred_id,
		    p->shares[i].cred_id_len)) ||
		    !jset(s, "leaf", json_integer((json_int_t)
		    p->shares[i].leaf)))
			goto out;
	if ((a = json_array()) == NULL || !jset(o, "cosignatures", a))
		goto out;
	for (i = 0; i < p->n_cosigs; i++)
		if ((s = json_object()) == NULL ||
		    json_array_append_new(a, s) != 0 ||
		    !jset(s, "person", json_string(p->cosigs[i].person)) ||
		    !jset(s, "signature", sig_json(&p->cosigs[i].sig)) ||
		    !jset(s, "statement", json_string(p->cosigs[i].statement)))
			goto out;
	if ((a = json_array()) == NULL || !jset(o, "proofs", a))
		goto out;
	for (i = 0; i < p->n_proofs; i++) {
		if ((s = json_object()) == NULL ||
		    json_array_append_new(a, s) != 0 ||
		    !jset(s, "from", json_integer((json_int_t)p->proofs[i].from))
		    || (path = json_array()) == NULL || !jset(s, "path", path))
			goto out;
		for (j = 0; j < p->proofs[i].n; j++)
			if (json_array_append_new(path,
			    jhex(p->proofs[i].path[j], 32)) != 0)
				goto out;
	}
	if ((lg = json_object()) == NULL || !jset(o, "log", lg) ||
	    !jset(lg, "from", json_integer((json_int_t)p->log_from)) ||
	    (a = json_array()) == NULL || !jset(lg, "frontier", a))
		goto out;
	for (i = 0; i < p->n_frontier; i++)
		if (json_array_append_new(a, jhex(p->frontier[i], 32)) != 0)
			goto out;
	if ((a = json_array()) == NULL || !jset(lg, "entries", a))
		goto out;
	for (i = 0; i < p->n_entries; i++)
		if (json_array_append_new(a, json_string(p->entries[i])) != 0)
			goto out;
	r = jdump(o, textp);
out:
	json_decref(o);
	return r;
}

int
bg_reqpkt_parse(const char *text, size_t len, bg_reqpkt_t **pp, char *why,
    size_t whylen)
{
	static const char *const keys[] = { "cosignatures", "for", "format",
	    "genesis", "links", "log", "log_head", "proofs", "request", "requester_sig",
	    "seal", "shares", "statement", "tenant", "time", "tree_head", "v",
	    "vault_id", "vault_links" };
	static const char *const shkeys[] = { "blob", "cred_id", "leaf" };
	static const char *const prkeys[] = { "from", "path" };
	static const char *const lgkeys[] = { "entries", "from", "frontier" };
	static const char *const slkeys[] = { "signature", "statement" };
	static const char *const cskeys[] = { "person", "signature",
	    "statement" };
	bg_remote_sig_t csig;
	char cperson[BG_CHAIN_NAME_MAX + 1];
	bg_reqpkt_t *p = NULL;
	json_t *root = NULL;
	const json_t *a, *e, *path;
	char fmt[32], th[BG_TREEHEAD_TEXT_MAX], thwhy[160], *again = NULL;
	uint8_t (*buf)[32] = NULL;
	int64_t n = 0;
	size_t i, j;
	int r = BG_ERR_INTERNAL;

	say(why, whylen, "%s", "");
	*pp = NULL;
	/* the format and version first: an older packet is refused as one,
	 * not for the keys it lacks */
	if ((r = jload(text, len, &root, why, whylen)) != BG_OK ||
	    (r = jstr(root, "format", fmt, sizeof(fmt), why, whylen)) != BG_OK)
		goto out;
	if (strcmp(fmt, REQ_FORMAT) != 0) {
		r = fail(why, whylen, BG_ERR_PARSE, "not a request packet "
		    "(format \"%s\")", fmt);
		goto out;
	}
	if ((r = jint(root, "v", 0, INT32_MAX, &n, why, whylen)) != BG_OK)
		goto out;
	if (n != BG_REMOTE_REQ_V) {
		r = fail(why, whylen, BG_ERR_UNSUPPORTED, "request packet "
		    "version %" PRId64 " is not known to this program (it "
		    "needs version %d: export the packet again)", n,
		    BG_REMOTE_REQ_V);
		goto out;
	}
	if ((r = jkeys(root, "the request packet", keys,
	    sizeof(keys) / sizeof(keys[0]), why, whylen)) != BG_OK)
		goto out;
	if ((p = bg_reqpkt_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = jstr(root, "vault_id", p->vault_id, sizeof(p->vault_id), why,
	    whylen)) != BG_OK ||
	    (r = jbin(root, "genesis", p->genesis, 32, true, NULL, why,
	    whylen)) != BG_OK ||
	    (r = jint(root, "request", 1, INT64_MAX, &p->request, why,
	    whylen)) != BG_OK ||
	    (r = jstr(root, "tenant", p->tenant, sizeof(p->tenant), why,
	    whylen)) != BG_OK ||
	    (r = jstr(root, "for", p->person, sizeof(p->person), why,
	    whylen)) != BG_OK ||
	    (r = sig_from(json_object_get(root, "requester_sig"),
	    "the requester's signature", &p->req_sig, why, whylen)) != BG_OK ||
	    (r = links_from(json_object_get(root, "vault_links"),
	    "the vault links", p, true, why, whylen)) != BG_OK ||
	    (r = links_from(json_object_get(root, "links"), "the tenant links",
	    p, false, why, whylen)) != BG_OK ||
	    (r = jstr(root, "tree_head", th, sizeof(th), why, whylen)) !=
	    BG_OK ||
	    (r = jbin(root, "log_head", p->log_head, 32, true, NULL, why,
	    whylen)) != BG_OK ||
	    (r = jint(root, "time", 0, INT64_MAX, &p->time, why, whylen)) !=
	    BG_OK)
		goto out;
	/* names only: whatever a refusal quotes must be clean text */
	if (!name_ok(p->tenant) || !name_ok(p->person)) {
		r = fail(why, whylen, BG_ERR_PARSE, "the packet's tenant or "
		    "approver is not a name");
		goto out;
	}
	e = json_object_get(root, "statement");
	if (!json_is_string(e) || strlen(json_string_value(e)) !=
	    json_string_length(e) ||
	    (p->statement = strdup(json_string_value(e))) == NULL) {
		r = fail(why, whylen, BG_ERR_PARSE, "\"statement\" is not a "
		    "string");
		goto out;
	}
	/* the version's seal act: its statement and the operator's
	 * assertion (checked by bg_remote_check, not here) */
	a = json_object_get(root, "seal");
	if ((r = jkeys(a, "the seal act", slkeys, 2, why, whylen)) != BG_OK ||
	    (r = sig_from(json_object_get(a, "signature"), "the seal act's "
	    "signature", &p->seal_sig, why, whylen)) != BG_OK)
		goto out;
	e = json_object_get(a, "statement");
	if (!json_is_string(e) || strlen(json_string_value(e)) !=
	    json_string_length(e) ||
	    (p->seal = strdup(json_string_value(e))) == NULL) {
		r = fail(why, whylen, BG_ERR_PARSE, "the seal act's "
		    "\"statement\" is not a string");
		goto out;
	}
	if (bg_treehead_parse(th, &p->th, thwhy, sizeof(thwhy)) != BG_OK) {
		r = fail(why, whylen, BG_ERR_PARSE, "the packet's tree head: "
		    "%s", thwhy);
		goto out;
	}
	a = json_object_get(root, "shares");
	if (!json_is_array(a) || json_array_size(a) > BG_REMOTE_MAX_SHARES) {
		r = fail(why, whylen, BG_ERR_PARSE, "\"shares\" is not a list "
		    "of at most %d", BG_REMOTE_MAX_SHARES);
		goto out;
	}
	for (i = 0; i < json_array_size(a); i++) {
		bg_remote_share_t *s = &p->shares[i];

		e = json_array_get(a, i);
		if ((r = jkeys(e, "a share", shkeys, 3, why, whylen)) != BG_OK ||
		    (r = jbin(e, "blob", s->blob, sizeof(s->blob), false,
		    &s->blob_len, why, whylen)) != BG_OK ||
		    (r = jbin(e, "cred_id", s->cred_id, sizeof(s->cred_id),
		    false, &s->cred_id_len, why, whylen)) != BG_OK ||
		    (r = jint(e, "leaf", 0, 65535, &n, why, whylen)) != BG_OK)
			goto out;
		s->leaf = (uint64_t)n;
		p->n_shares++;
	}
	a = json_object_get(root, "cosignatures");
	if (!json_is_array(a) || json_array_size(a) > BG_REMOTE_MAX_COSIGS) {
		r = fail(why, whylen, BG_ERR_PARSE, "\"cosignatures\" is not a "
		    "list of at most %d", BG_REMOTE_MAX_COSIGS);
		goto out;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *st;

		e = json_array_get(a, i);
		st = json_object_get(e, "statement");
		if ((r = jkeys(e, "a cosignature", cskeys, 3, why, whylen)) !=
		    BG_OK || (r = jstr(e, "person", cperson, sizeof(cperson),
		    why, whylen)) != BG_OK || (r = sig_from(json_object_get(e,
		    "signature"), "a cosignature's signature", &csig, why,
		    whylen)) != BG_OK)
			goto out;
		if (!name_ok(cperson) || !json_is_string(st) ||
		    strlen(json_string_value(st)) != json_string_length(st)) {
			r = fail(why, whylen, BG_ERR_PARSE, "a cosignature's "
			    "person is not a name or its statement not a "
			    "string");
			goto out;
		}
		if ((r = bg_reqpkt_add_cosig(p, cperson, json_string_value(st),
		    &csig)) != BG_OK)
			goto out;
	}
	a = json_object_get(root, "proofs");
	if (!json_is_array(a) || json_array_size(a) > BG_REMOTE_MAX_PROOFS) {
		r = fail(why, whylen, BG_ERR_PARSE, "\"proofs\" is not a list "
		    "of at most %d", BG_REMOTE_MAX_PROOFS);
		goto out;
	}
	for (i = 0; i < json_array_size(a); i++) {
		e = json_array_get(a, i);
		path = json_object_get(e, "path");
		if ((r = jkeys(e, "a proof", prkeys, 2, why, whylen)) != BG_OK ||
		    (r = jint(e, "from", 0, INT64_MAX, &n, why, whylen)) !=
		    BG_OK)
			goto out;
		if (!json_is_array(path) || json_array_size(path) > 64) {
			r = fail(why, whylen, BG_ERR_PARSE, "a proof's path is "
			    "not a list of at most 64 hashes");
			goto out;
		}
		free(buf);
		buf = NULL;
		if ((r = jhashes(path, "h", &buf, why, whylen)) != BG_OK)
			goto out;
		if ((r = bg_reqpkt_add_proof(p, (uint64_t)n, buf[0],
		    json_array_size(path))) != BG_OK)
			goto out;
	}
	a = json_object_get(root, "log");
	if ((r = jkeys(a, "the packet's log", lgkeys, 3, why, whylen)) !=
	    BG_OK || (r = jint(a, "from", 0, INT64_MAX, &n, why, whylen)) !=
	    BG_OK)
		goto out;
	path = json_object_get(a, "frontier");
	e = json_object_get(a, "entries");
	if (!json_is_array(path) || json_array_size(path) > 64 ||
	    !json_is_array(e) || json_array_size(e) > BG_REMOTE_MAX_ENTRIES) {
		r = fail(why, whylen, BG_ERR_PARSE, "the packet's log is not a "
		    "frontier of at most 64 hashes and at most %d entries",
		    BG_REMOTE_MAX_ENTRIES);
		goto out;
	}
	free(buf);
	buf = NULL;
	if ((r = jhashes(path, "frontier", &buf, why, whylen)) != BG_OK)
		goto out;
	if ((r = bg_reqpkt_set_log(p, (uint64_t)n, buf[0],
	    json_array_size(path))) != BG_OK)
		goto out;
	for (j = 0; j < json_array_size(e); j++) {
		const json_t *en = json_array_get(e, j);

		if (!json_is_string(en) || strlen(json_string_value(en)) !=
		    json_string_length(en)) {
			r = fail(why, whylen, BG_ERR_PARSE, "log entry %zu is "
			    "not a string", j);
			goto out;
		}
		if ((r = bg_reqpkt_add_entry(p, json_string_value(en))) !=
		    BG_OK)
			goto out;
	}
	if ((r = bg_reqpkt_encode(p, &again)) != BG_OK) {
		r = fail(why, whylen, BG_ERR_PARSE, "the packet does not "
		    "encode (%s)", bg_strerror(r));
		goto out;
	}
	if ((r = canonical(text, len, again, why, whylen)) != BG_OK)
		goto out;
	*pp = p;
	p = NULL;
	r = BG_OK;
out:
	free(buf);
	free(again);
	bg_reqpkt_free(&p);
	json_decref(root);
	return r;
}

/* --- approval packets -------------------------------------------------------------- */

void
bg_apppkt_free(bg_apppkt_t **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free((*pp)->statement);
	free(*pp);
	*pp = NULL;
}

int
bg_apppkt_encode(const bg_apppkt_t *p, char **textp)
{
	json_t *o = NULL;
	int r = BG_ERR_NOMEM;

	*textp = NULL;
	if (p->statement == NULL || (p->decision != BG_REMOTE_APPROVE &&
	    p->decision != BG_REMOTE_DENY))
		return BG_ERR_INVALID_ARG;
	if ((o = json_object()) == NULL ||
	    !jset(o, "format", json_string(APP_FORMAT)) ||
	    !jset(o, "v", json_integer(BG_REMOTE_V)) ||
	    !jset(o, "vault_id", json_string(p->vault_id)) ||
	    !jset(o, "genesis", jhex(p->genesis, 32)) ||
	    !jset(o, "request", json_integer(p->request)) ||
	    !jset(o, "person", json_string(p->person)) ||
	    !jset(o, "decision", json_string(p->decision == BG_REMOTE_APPROVE ?
	    "approve" : "deny")) ||
	    !jset(o, "reason", json_string(p->reason)) ||
	    !jset(o, "statement", json_string(p->statement)) ||
	    !jset(o, "sig", sig_json(&p->sig)) ||
	    !jset(o, "leaf", json_integer((json_int_t)p->leaf)) ||
	    !jset(o, "resealed", jhex(p->resealed, p->resealed_len)))
		goto out;
	r = jdump(o, textp);
out:
	json_decref(o);
	return r;
}

int
bg_apppkt_parse(const char *text, size_t len, bg_apppkt_t **pp, char *why,
    size_t whylen)
{
	static const char *const keys[] = { "decision", "format", "genesis",
	    "leaf", "person", "reason", "request", "resealed", "sig",
	    "statement", "v", "vault_id" };
	bg_apppkt_t *p = NULL;
	json_t *root = NULL;
	const json_t *e;
	char fmt[32], dec[16], *again = NULL;
	int64_t n = 0;
	int r = BG_ERR_INTERNAL;

	say(why, whylen, "%s", "");
	*pp = NULL;
	if ((r = jload(text, len, &root, why, whylen)) != BG_OK ||
	    (r = jkeys(root, "the approval packet", keys,
	    sizeof(keys) / sizeof(keys[0]), why, whylen)) != BG_OK ||
	    (r = jstr(root, "format", fmt, sizeof(fmt), why, whylen)) != BG_OK)
		goto out;
	if (strcmp(fmt, APP_FORMAT) != 0) {
		r = fail(why, whylen, BG_ERR_PARSE, "not an approval packet "
		    "(format \"%s\")", fmt);
		goto out;
	}
	if ((r = jint(root, "v", 0, INT32_MAX, &n, why, whylen)) != BG_OK)
		goto out;
	if (n != BG_REMOTE_V) {
		r = fail(why, whylen, BG_ERR_UNSUPPORTED, "approval packet "
		    "version %" PRId64 " is not known to this program", n);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = jstr(root, "vault_id", p->vault_id, sizeof(p->vault_id), why,
	    whylen)) != BG_OK ||
	    (r = jbin(root, "genesis", p->genesis, 32, true, NULL, why,
	    whylen)) != BG_OK ||
	    (r = jint(root, "request", 1, INT64_MAX, &p->request, why,
	    whylen)) != BG_OK ||
	    (r = jstr(root, "person", p->person, sizeof(p->person), why,
	    whylen)) != BG_OK ||
	    (r = jstr(root, "decision", dec, sizeof(dec), why, whylen)) !=
	    BG_OK ||
	    (r = jstr(root, "reason", p->reason, sizeof(p->reason), why,
	    whylen)) != BG_OK ||
	    (r = sig_from(json_object_get(root, "sig"), "the approver's "
	    "signature", &p->sig, why, whylen)) != BG_OK ||
	    (r = jint(root, "leaf", 0, 65535, &n, why, whylen)) != BG_OK)
		goto out;
	p->leaf = (uint64_t)n;
	p->decision = strcmp(dec, "approve") == 0 ? BG_REMOTE_APPROVE :
	    strcmp(dec, "deny") == 0 ? BG_REMOTE_DENY : 0;
	if (p->decision == 0 || !name_ok(p->person)) {
		r = fail(why, whylen, BG_ERR_PARSE, "the decision is neither "
		    "approve nor deny, or the person is no valid name");
		goto out;
	}
	if ((r = jbin(root, "resealed", p->resealed, sizeof(p->resealed),
	    false, &p->resealed_len, why, whylen)) != BG_OK)
		goto out;
	if ((p->decision == BG_REMOTE_APPROVE) != (p->resealed_len > 0) ||
	    (p->decision == BG_REMOTE_DENY) != (p->reason[0] != '\0')) {
		r = fail(why, whylen, BG_ERR_PARSE, "an approval carries a "
		    "re-sealed share and no reason; a denial a reason and no "
		    "share");
		goto out;
	}
	e = json_object_get(root, "statement");
	if (!json_is_string(e) || strlen(json_string_value(e)) !=
	    json_string_length(e) ||
	    (p->statement = strdup(json_string_value(e))) == NULL) {
		r = fail(why, whylen, BG_ERR_PARSE, "\"statement\" is not a "
		    "string");
		goto out;
	}
	if ((r = bg_apppkt_encode(p, &again)) != BG_OK) {
		r = fail(why, whylen, BG_ERR_PARSE, "the packet does not "
		    "encode (%s)", bg_strerror(r));
		goto out;
	}
	if ((r = canonical(text, len, again, why, whylen)) != BG_OK)
		goto out;
	*pp = p;
	p = NULL;
	r = BG_OK;
out:
	free(again);
	bg_apppkt_free(&p);
	json_decref(root);
	return r;
}

/* --- statements ------------------------------------------------------------------ */

/* The next line of *pp, which must start with key ": "; its value into
 * val (at most cap-1 bytes).  *pp moves past the line. */
static int
stmt_line(const char **pp, const char *key, char *val, size_t cap, char *why,
    size_t whylen)
{
	const char *p = *pp, *e;
	size_t kl = strlen(key), n;

	if ((e = strchr(p, '\n')) == NULL || strncmp(p, key, kl) != 0 ||
	    p[kl] != ':' || p[kl + 1] != ' ')
		return fail(why, whylen, BG_ERR_PARSE, "the statement lacks its "
		    "\"%s\" line where it belongs", key);
	p += kl + 2;
	n = (size_t)(e - p);
	if (n >= cap)
		return fail(why, whylen, BG_ERR_PARSE, "the statement's \"%s\" "
		    "is too long", key);
	memcpy(val, p, n);
	val[n] = '\0';
	*pp = e + 1;
	return BG_OK;
}

static int
num(const char *s, int64_t min, int64_t *out)
{
	char *end = NULL;
	long long x;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') ||
	    !(s[0] >= '0' && s[0] <= '9'))
		return BG_ERR_PARSE;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || x < min)
		return BG_ERR_PARSE;
	*out = x;
	return BG_OK;
}

static int
hex32(const char *s, uint8_t out[32])
{
	size_t i, bin = 0;

	if (strlen(s) != 64)
		return BG_ERR_PARSE;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return BG_ERR_PARSE;
	if (sodium_hex2bin(out, 32, s, 64, NULL, &bin, NULL) != 0 || bin != 32)
		return BG_ERR_PARSE;
	return BG_OK;
}

/* "<anything> (N)": N */
static int
paren_num(const char *s, int64_t *out)
{
	const char *o = strrchr(s, '(');
	char buf[24];
	size_t n;

	if (o == NULL || (n = strlen(o)) < 3 || o[n - 1] != ')' ||
	    n - 2 >= sizeof(buf) || o == s || o[-1] != ' ')
		return BG_ERR_PARSE;
	memcpy(buf, o + 1, n - 2);
	buf[n - 2] = '\0';
	return num(buf, 0, out);
}

int
bg_remote_stmt_parse(const char *text, bool decision, bg_remote_stmt_t *s,
    uint8_t signedp[32], char *why, size_t whylen)
{
	static const char head[] = "breakglass statement v1\n";
	const char *p = text;
	char v[BG_CHAIN_REASON_MAX + 80];
	int64_t n = 0;
	char *comma;
	int r;

	memset(s, 0, sizeof(*s));
	say(why, whylen, "%s", "");
	if (text == NULL || strncmp(text, head, sizeof(head) - 1) != 0)
		return fail(why, whylen, BG_ERR_PARSE, "not a breakglass "
		    "request statement");
	p += sizeof(head) - 1;
#define LINE(k) \
	if ((r = stmt_line(&p, k, v, sizeof(v), why, whylen)) != BG_OK) \
		return r
#define BAD(k) return fail(why, whylen, BG_ERR_PARSE, "the statement's \"%s\" " \
	    "is malformed", k)
	LINE("vault");
	if (strlen(v) != 32 || strspn(v, "0123456789abcdef") != 32)
		BAD("vault");
	memcpy(s->vault_id, v, 33);
	LINE("genesis");
	if (hex32(v, s->genesis) != BG_OK)
		BAD("genesis");
	LINE("request");
	if (num(v, 1, &s->request) != BG_OK)
		BAD("request");
	LINE("tenant");
	if (!name_ok(v) || strlen(v) >= sizeof(s->tenant))
		BAD("tenant");
	memcpy(s->tenant, v, strlen(v) + 1);
	LINE("secret");
	if (!name_ok(v) || strlen(v) >= sizeof(s->secret))
		BAD("secret");
	memcpy(s->secret, v, strlen(v) + 1);
	LINE("version");
	if (num(v, 1, &n) != BG_OK || n > INT32_MAX)
		BAD("version");
	s->version = (int)n;
	LINE("keyset");
	if (strncmp(v, "link ", 5) != 0 || (comma = strchr(v, ',')) == NULL ||
	    comma[1] != ' ')
		BAD("keyset");
	*comma = '\0';
	if (num(v + 5, 1, &n) != BG_OK || hex32(comma + 2, s->keyset_hash) !=
	    BG_OK)
		BAD("keyset");
	s->keyset_seq = (uint64_t)n;
	LINE("requester");
	if (!name_ok(v) || strlen(v) >= sizeof(s->requester))
		BAD("requester");
	memcpy(s->requester, v, strlen(v) + 1);
	/* shown before the touch: clean text only, as the vault refuses it
	 * at request time (a requester can re-sign a statement into the
	 * file) */
	LINE("reason");
	if (strlen(v) >= sizeof(s->reason) ||
	    !bg_chain_text_ok(v, sizeof(s->reason) - 1))
		BAD("reason");
	memcpy(s->reason, v, strlen(v) + 1);
	LINE("ticket");
	if (strlen(v) >= sizeof(s->ticket) ||
	    !bg_chain_text_ok(v, sizeof(s->ticket) - 1))
		BAD("ticket");
	memcpy(s->ticket, v, strlen(v) + 1);
	LINE("ttl");
	if (strlen(v) < 9 || strcmp(v + strlen(v) - 8, " seconds") != 0)
		BAD("ttl");
	v[strlen(v) - 8] = '\0';
	if (num(v, 1, &s->ttl) != BG_OK)
		BAD("ttl");
	LINE("requested");
	if (paren_num(v, &s->requested) != BG_OK)
		BAD("requested");
	LINE("deadline");
	if (paren_num(v, &s->deadline) != BG_OK)
		BAD("deadline");
	LINE("request-key");
	if (hex32(v, s->request_key) != BG_OK)
		BAD("request-key");
	if (decision) {
		LINE("request-signed");
		if (hex32(v, signedp) != BG_OK)
			BAD("request-signed");
	}
	s->body_len = (size_t)(p - text);
	LINE("log-size");
	if (num(v, 0, &n) != BG_OK)
		BAD("log-size");
	s->log_size = (uint64_t)n;
	LINE("log-head");
	if (hex32(v, s->log_head) != BG_OK)
		BAD("log-head");
	LINE("tree-root");
	if (hex32(v, s->tree_root) != BG_OK)
		BAD("tree-root");
	if (*p != '\0')
		return fail(why, whylen, BG_ERR_PARSE, "the statement has text "
		    "after its tree-root line");
#undef LINE
#undef BAD
	return BG_OK;
}

/* --- witness state ----------------------------------------------------------------- */

int
bg_witness_format(const bg_witness_t *w, char *buf, size_t cap)
{
	char g[65], root[65];
	int n;

	hex(w->genesis, 32, g);
	hex(w->root, 32, root);
	n = snprintf(buf, cap, "%s genesis=%s size=%" PRIu64 " root=%s "
	    "time=%" PRId64 "\n", WITNESS_TAG, g, w->size, root, w->time);
	return n < 0 || (size_t)n >= cap ? BG_ERR_RANGE : BG_OK;
}

int
bg_witness_parse(const char *text, bg_witness_t *w, char *why, size_t whylen)
{
	char g[65], root[65], again[256];
	unsigned long long size = 0;
	long long t = 0;
	int end = 0;

	memset(w, 0, sizeof(*w));
	if (text == NULL || strlen(text) > 250 ||
	    sscanf(text, WITNESS_TAG " genesis=%64s size=%llu root=%64s "
	    "time=%lld\n%n", g, &size, root, &t, &end) != 4 ||
	    (size_t)end != strlen(text) || hex32(g, w->genesis) != BG_OK ||
	    hex32(root, w->root) != BG_OK || t < 0 || size > INT64_MAX)
		goto bad;
	w->size = (uint64_t)size;
	w->time = (int64_t)t;
	if (bg_witness_format(w, again, sizeof(again)) != BG_OK ||
	    strcmp(again, text) != 0)
		goto bad;
	return BG_OK;
bad:
	memset(w, 0, sizeof(*w));
	return fail(why, whylen, BG_ERR_PARSE, "the witness state is not one "
	    "\"%s genesis=... size=... root=... time=...\" line", WITNESS_TAG);
}

/* --- the approver's checks ------------------------------------------------------------ */

struct bg_remote_check {
	bg_remote_stmt_t stmt;
	char		*text;		/* the approval statement */
	uint8_t		 binding[32];
	size_t		 leaf;
	size_t		 n_use;		/* card credentials with a share */
	size_t		 use[BG_CHAIN_MAX_TOKENS];	/* index into creds */
	size_t		 share[BG_CHAIN_MAX_TOKENS];	/* index into shares */
	const bg_reqpkt_t *p;
};

void
bg_remote_check_free(bg_remote_check_t **ckp)
{
	if (ckp == NULL || *ckp == NULL)
		return;
	free((*ckp)->text);
	free(*ckp);
	*ckp = NULL;
}

const char *
bg_remote_check_text(const bg_remote_check_t *ck)
{
	return ck->text;
}

const bg_remote_stmt_t *
bg_remote_check_stmt(const bg_remote_check_t *ck)
{
	return &ck->stmt;
}

static bool
same(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n) == 0;	/* public: hashes, ids, keys */
}

/*
 * The tree head is the vault's and extends what this machine knows: the
 * card's head, and w when it is larger (whose: what w is, for the
 * sentence; NULL: this machine's own witness state).
 */
static int
check_log(const bg_card_t *c, const bg_reqpkt_t *p, const bg_witness_t *w,
    const char *whose_w, char *why, size_t whylen)
{
	uint64_t base = c->th.size;
	const uint8_t *root = c->th.root;
	const char *whose = "your card's tree head";
	size_t i;

	if (strcmp(p->th.vault_id, c->vault_id) != 0 ||
	    bg_treehead_verify(&p->th, c->log_key) != BG_OK)
		return fail(why, whylen, BG_ERR_AUTH, "the packet's tree head "
		    "is not signed by the vault key on your card");
	/* a cosigned head counts even below the card's: it is another
	 * person's token's word on the log */
	if (w != NULL && same(w->genesis, c->genesis, 32) && w->size > 0 &&
	    (w->size > base || whose_w != NULL)) {
		base = w->size;
		root = w->root;
		whose = whose_w != NULL ? whose_w : "the largest tree head "
		    "this machine has checked";
	}
	if (p->th.size < base)
		return fail(why, whylen, BG_ERR_STATE, "the vault's log has %"
		    PRIu64 " events, fewer than the %" PRIu64 " of %s: the "
		    "vault file was rolled back (do not approve; see "
		    "docs/remote-approval.md, \"a forked log\")", p->th.size,
		    base, whose);
	if (p->th.size == base) {
		if (!same(p->th.root, root, 32))
			goto forked;
		return BG_OK;
	}
	for (i = 0; i < p->n_proofs; i++)
		if (p->proofs[i].from == base)
			break;
	if (i == p->n_proofs)
		return fail(why, whylen, BG_ERR_STATE, "the packet carries no "
		    "consistency proof from %s (size %" PRIu64 "): it cannot "
		    "show that the log extends it", whose, base);
	if (bg_merkle_verify_consistency(base, p->th.size, root, p->th.root,
	    p->proofs[i].n > 0 ? p->proofs[i].path[0] : NULL,
	    p->proofs[i].n) != BG_OK)
		goto forked;
	return BG_OK;
forked:
	return fail(why, whylen, BG_ERR_STATE, "the vault's log does not "
	    "extend %s (size %" PRIu64 "): the vault file was rolled back or "
	    "its log rewritten (do not approve; see docs/remote-approval.md, "
	    "\"a forked log\")", whose, base);
}

static void
links_drop(bg_chain_link_t **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		bg_chain_link_free(&l[i]);
	free(l);
}

/* The vault's chain from the genesis the card pins, by signatures. */
static int
check_vault_chain(const bg_card_t *c, const bg_reqpkt_t *p, int64_t now,
    bg_chain_link_t ***vlp, char *why, size_t whylen)
{
	bg_chain_link_t **vl = NULL;
	uint8_t h[32];
	char lwhy[BG_CHAIN_WHY_MAX];
	size_t i;
	int r = BG_ERR_INTERNAL;

	*vlp = NULL;
	if (p->n_vault_links == 0 || p->n_vault_links <= c->vault_seq) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet lacks the "
		    "vault's chain up to the link on your card");
		goto out;
	}
	if ((vl = calloc(p->n_vault_links, sizeof(*vl))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < p->n_vault_links; i++) {
		if (bg_chain_link_parse(p->vault_links[i].body, &vl[i], lwhy,
		    sizeof(lwhy)) != BG_OK) {
			r = fail(why, whylen, BG_ERR_AUTH, "vault link %zu: %s",
			    i, lwhy);
			goto out;
		}
		if (vl[i]->scope != BG_CHAIN_VAULT || vl[i]->seq != i ||
		    vl[i]->time > now + CLOCK_SLACK) {
			r = fail(why, whylen, BG_ERR_AUTH, "vault link %zu is "
			    "out of place or dated in the future", i);
			goto out;
		}
		bg_chain_text_hash(p->vault_links[i].body, h);
		if (i == 0 && !same(h, c->genesis, 32)) {
			r = fail(why, whylen, BG_ERR_AUTH, "the packet's genesis "
			    "is not the one on your card: another vault");
			goto out;
		}
		if (i == c->vault_seq && !same(h, c->vault_hash, 32)) {
			r = fail(why, whylen, BG_ERR_AUTH, "vault link %zu is "
			    "not the one on your card: the vault's chain was "
			    "rewritten", i);
			goto out;
		}
		r = i == 0 ? bg_chain_check_genesis(vl[0],
		    p->vault_links[0].sigs, p->vault_links[0].n_sigs, lwhy,
		    sizeof(lwhy)) : bg_chain_check_vault(vl[i - 1], vl[i],
		    p->vault_links[i].sigs, p->vault_links[i].n_sigs, lwhy,
		    sizeof(lwhy));
		if (r != BG_OK) {
			r = fail(why, whylen, BG_ERR_AUTH, "vault link %zu does "
			    "not verify: %s", i, lwhy);
			goto out;
		}
	}
	if (strcmp(vl[0]->vault_id, c->vault_id) != 0 ||
	    strcmp(vl[0]->rp_id, c->rp_id) != 0) {
		r = fail(why, whylen, BG_ERR_AUTH, "the genesis names another "
		    "vault id or relying party than your card");
		goto out;
	}
	*vlp = vl;
	vl = NULL;
	r = BG_OK;
out:
	if (vl != NULL)
		links_drop(vl, p->n_vault_links);
	return r;
}

/*
 * The tenant's links: the one on the card by hash, older ones back by
 * their prev hashes, newer ones forward by signatures under the vault
 * link each names.
 */
static int
check_tenant_chain(const bg_card_t *c, const bg_reqpkt_t *p,
    bg_chain_link_t **vl, int64_t now, bg_chain_link_t ***tlp, char *why,
    size_t whylen)
{
	bg_chain_link_t **tl = NULL;
	uint8_t h[32], prevh[32];
	char lwhy[BG_CHAIN_WHY_MAX];
	size_t i, at = 0;
	int r = BG_ERR_INTERNAL;

	*tlp = NULL;
	if (p->n_links == 0) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet carries no "
		    "tenant links");
		goto out;
	}
	if ((tl = calloc(p->n_links, sizeof(*tl))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < p->n_links; i++) {
		if (bg_chain_link_parse(p->links[i].body, &tl[i], lwhy,
		    sizeof(lwhy)) != BG_OK) {
			r = fail(why, whylen, BG_ERR_AUTH, "a tenant link: %s",
			    lwhy);
			goto out;
		}
		if (tl[i]->scope != BG_CHAIN_TENANT ||
		    strcmp(tl[i]->tenant, c->tenant) != 0 ||
		    !same(tl[i]->genesis, c->genesis, 32) ||
		    (i > 0 && tl[i]->seq != tl[i - 1]->seq + 1) ||
		    tl[i]->time > now + CLOCK_SLACK) {
			r = fail(why, whylen, BG_ERR_AUTH, "the tenant links "
			    "are not consecutive links of %s in this vault, or "
			    "one is dated in the future", c->tenant);
			goto out;
		}
		if (tl[i]->seq == c->chain_seq)
			at = i + 1;
	}
	if (at == 0) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet's links do not "
		    "include link %" PRIu64 ", the one on your card",
		    c->chain_seq);
		goto out;
	}
	at--;
	bg_chain_text_hash(p->links[at].body, h);
	if (!same(h, c->chain_hash, 32)) {
		r = fail(why, whylen, BG_ERR_AUTH, "link %" PRIu64 " of %s is "
		    "not the one on your card: the chain was rewritten",
		    c->chain_seq, c->tenant);
		goto out;
	}
	/* back from the card's link, by hash */
	for (i = at; i > 0; i--) {
		bg_chain_text_hash(p->links[i - 1].body, prevh);
		if (!same(prevh, tl[i]->prev, 32)) {
			r = fail(why, whylen, BG_ERR_AUTH, "link %" PRIu64 " is "
			    "not the one link %" PRIu64 " follows",
			    tl[i - 1]->seq, tl[i]->seq);
			goto out;
		}
	}
	/* forward, by signatures */
	for (i = at + 1; i < p->n_links; i++) {
		if (tl[i]->vault_seq >= p->n_vault_links) {
			r = fail(why, whylen, BG_ERR_AUTH, "link %" PRIu64 " "
			    "names vault link %" PRIu64 ", which the packet "
			    "lacks", tl[i]->seq, tl[i]->vault_seq);
			goto out;
		}
		if (bg_chain_check(vl[tl[i]->vault_seq], tl[i - 1], tl[i],
		    p->links[i].sigs, p->links[i].n_sigs, lwhy,
		    sizeof(lwhy)) != BG_OK) {
			r = fail(why, whylen, BG_ERR_AUTH, "link %" PRIu64 " of "
			    "%s does not verify: %s", tl[i]->seq, c->tenant,
			    lwhy);
			goto out;
		}
	}
	*tlp = tl;
	tl = NULL;
	r = BG_OK;
out:
	if (tl != NULL)
		links_drop(tl, p->n_links);
	return r;
}

/*
 * One log entry, event number seq: canonical JSON with that seq.  A link
 * event of the card's tenant, or of the vault's chain, must name a link
 * the packet carries (marked in tlog/vlog), with its hash, and no link
 * newer than the packet's newest: else links were withheld.
 */
static int
check_entry(const bg_card_t *c, const bg_reqpkt_t *p, bg_chain_link_t **tl,
    const char *entry, uint64_t seq, bool *tlog, bool *vlog, char *why,
    size_t whylen)
{
	json_t *o = NULL;
	const json_t *d;
	const char *action, *tenant, *hx;
	char *again = NULL;
	uint8_t want[32], h[32];
	uint64_t ls;
	size_t j, nl;
	bool vault;
	const bg_remote_link_t *pl;
	int r = BG_ERR_AUTH;

	if ((o = json_loads(entry, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    (again = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    strcmp(again, entry) != 0 ||
	    !json_is_integer(json_object_get(o, "seq")) ||
	    json_integer_value(json_object_get(o, "seq")) != (json_int_t)seq ||
	    (action = json_string_value(json_object_get(o, "action"))) ==
	    NULL ||
	    (tenant = json_string_value(json_object_get(o, "tenant"))) ==
	    NULL) {
		r = fail(why, whylen, BG_ERR_AUTH, "log entry %" PRIu64 " in "
		    "the packet is not an event of this log", seq);
		goto out;
	}
	vault = tenant[0] == '\0' && (strcmp(action, "vault.genesis") == 0 ||
	    strcmp(action, "vault.link") == 0);
	if (!vault && (strcmp(action, "chain.link") != 0 ||
	    strcmp(tenant, c->tenant) != 0)) {
		r = BG_OK;
		goto out;
	}
	d = json_object_get(o, "details");
	if (!json_is_integer(json_object_get(d, "seq")) ||
	    json_integer_value(json_object_get(d, "seq")) < 0 ||
	    (hx = json_string_value(json_object_get(d, "hash"))) == NULL ||
	    hex32(hx, want) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "log entry %" PRIu64 " is a "
		    "link event without a link number and hash", seq);
		goto out;
	}
	ls = (uint64_t)json_integer_value(json_object_get(d, "seq"));
	nl = vault ? p->n_vault_links : p->n_links;
	for (j = 0; j < nl; j++)
		if ((vault ? (uint64_t)j : tl[j]->seq) == ls)
			break;
	if (j == nl) {
		if (!vault && ls < tl[0]->seq) {
			r = BG_OK;	/* older than the card's link */
			goto out;
		}
		r = fail(why, whylen, BG_ERR_AUTH, "%s link %" PRIu64 " took "
		    "effect in the log (event %" PRIu64 ") but the packet "
		    "withholds it: whoever wrote the packet left out the "
		    "newest links (do not approve)", vault ? "vault" :
		    c->tenant, ls, seq);
		goto out;
	}
	pl = vault ? &p->vault_links[j] : &p->links[j];
	bg_chain_text_hash(pl->body, h);
	if (!same(h, want, 32)) {
		r = fail(why, whylen, BG_ERR_AUTH, "the log's event %" PRIu64
		    " names another %s link %" PRIu64 " than the packet's",
		    seq, vault ? "vault" : c->tenant, ls);
		goto out;
	}
	if (vault)
		vlog[j] = true;
	else
		tlog[j] = true;
	r = BG_OK;
out:
	free(again);
	json_decref(o);
	return r;
}

/*
 * The log itself, from the packet's start to its tree head: the frontier
 * and the entries fold to the card's root at its size, to the witness's
 * at its size and to the signed root, so the entries are the log's and
 * none is left out; then every link newer than the card's is in it and
 * every link event in it is in the packet (check_entry).
 */
static int
check_events(const bg_card_t *c, const bg_reqpkt_t *p,
    const bg_witness_t *w, const bg_witness_t *cw, const char *cwho,
    bg_chain_link_t **tl, char *why, size_t whylen)
{
	bg_merkle_acc_t acc;
	uint8_t root[32], leaf[32];
	uint64_t size, wsize = 0;
	bool *tlog = NULL, *vlog = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	/* wsize 0: no witness state of this vault (nothing to compare) */
	if (w != NULL && same(w->genesis, c->genesis, 32))
		wsize = w->size;
	if (p->log_from > c->th.size) {
		r = fail(why, whylen, BG_ERR_STATE, "the packet's log starts "
		    "at event %" PRIu64 ", after your card's tree head (size %"
		    PRIu64 "): it cannot show every link since your card "
		    "(the vault has no record of your card: was the file "
		    "rolled back?)", p->log_from + 1, c->th.size);
		goto out;
	}
	if (p->th.size < p->log_from ||
	    p->n_entries != p->th.size - p->log_from ||
	    bg_merkle_acc_resume(&acc, p->log_from, p->n_frontier > 0 ?
	    p->frontier[0] : NULL, p->n_frontier) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet's log does not "
		    "run from its start to its tree head's size %" PRIu64
		    " (entries left out or added)", p->th.size);
		goto out;
	}
	if ((tlog = calloc(p->n_links + 1, sizeof(*tlog))) == NULL ||
	    (vlog = calloc(p->n_vault_links + 1, sizeof(*vlog))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0;; i++) {
		size = p->log_from + i;
		if (cw != NULL && cw->size > 0 && size == cw->size) {
			bg_merkle_acc_root(&acc, root);
			if (!same(root, cw->root, 32)) {
				r = fail(why, whylen, BG_ERR_STATE, "the log in "
				    "the packet does not extend the tree head of "
				    "size %" PRIu64 " %s's token cosigned: the "
				    "vault file was rolled back or its log "
				    "rewritten (do not approve; see "
				    "docs/remote-approval.md, \"a forked log\")",
				    size, cwho);
				goto out;
			}
		}
		if (size == c->th.size || (wsize > 0 && size == wsize)) {
			bg_merkle_acc_root(&acc, root);
			if ((size == c->th.size && !same(root, c->th.root, 32)) ||
			    (wsize > 0 && size == wsize &&
			    !same(root, w->root, 32))) {
				r = fail(why, whylen, BG_ERR_STATE, "the log in "
				    "the packet does not extend the tree head of "
				    "size %" PRIu64 " this machine has checked: "
				    "the vault file was rolled back or its log "
				    "rewritten (do not approve; see "
				    "docs/remote-approval.md, \"a forked log\")",
				    size);
				goto out;
			}
		}
		if (i == p->n_entries)
			break;
		if ((r = check_entry(c, p, tl, p->entries[i], size + 1, tlog,
		    vlog, why, whylen)) != BG_OK)
			goto out;
		bg_merkle_leaf_hash((const uint8_t *)p->entries[i],
		    strlen(p->entries[i]), leaf);
		if (bg_merkle_acc_push(&acc, leaf) != BG_OK) {
			r = BG_ERR_RANGE;
			goto out;
		}
	}
	bg_merkle_acc_root(&acc, root);
	if (!same(root, p->th.root, 32)) {
		r = fail(why, whylen, BG_ERR_AUTH, "the log entries in the "
		    "packet are not the log its tree head signs: entries were "
		    "left out, added or edited");
		goto out;
	}
	for (i = 0; i < p->n_links; i++)
		if (tl[i]->seq > c->chain_seq && !tlog[i]) {
			r = fail(why, whylen, BG_ERR_AUTH, "link %" PRIu64 " of "
			    "%s is not in the log the packet carries",
			    tl[i]->seq, c->tenant);
			goto out;
		}
	for (i = 0; i < p->n_vault_links; i++)
		if ((uint64_t)i > c->vault_seq && !vlog[i]) {
			r = fail(why, whylen, BG_ERR_AUTH, "vault link %zu is not "
			    "in the log the packet carries", i);
			goto out;
		}
	r = BG_OK;
out:
	free(tlog);
	free(vlog);
	return r;
}

/* Whether s is n lower-case hex digits followed by tail. */
static bool
hex_then(const char *s, size_t n, const char *tail)
{
	return strspn(s, "0123456789abcdef") == n &&
	    strncmp(s + n, tail, strlen(tail)) == 0;
}

/*
 * The version's seal act, store-free (the vault's bg_seal_check without
 * the file): its head names this vault, genesis, tenant and a keyset link
 * of the verified chain tl no newer than the request's; its signer is an
 * operator of that link, with the credential that signed, live at the
 * act's time; the signature (UV) verifies over the whole statement; and
 * it holds a well-formed "value:" line for the request's secret and
 * version.  The shares hash on that line covers every approver's share,
 * which this machine does not see: it is checked at the vault
 * (docs/security.md, "Remote approval").
 */
static int
check_seal(const bg_card_t *c, const bg_reqpkt_t *p, bg_chain_link_t **tl,
    const bg_remote_stmt_t *st, char *why, size_t whylen)
{
	const bg_chain_link_t *l = NULL;
	const bg_chain_member_t *m;
	const bg_chain_token_t *ct = NULL;
	const char *q = p->seal, *v;
	char val[BG_CHAIN_NAME_MAX + 128], *want = NULL, *sp;
	uint8_t h[32], lh[32], cdh[32];
	unsigned long long seq = 0;
	int64_t t = 0;
	size_t i, n;
	int r = BG_ERR_INTERNAL;

	if (stmt_line(&q, "vault", val, sizeof(val), why, whylen) != BG_OK ||
	    strcmp(val, c->vault_id) != 0 ||
	    stmt_line(&q, "genesis", val, sizeof(val), why, whylen) != BG_OK ||
	    hex32(val, h) != BG_OK || !same(h, c->genesis, 32) ||
	    stmt_line(&q, "act", val, sizeof(val), why, whylen) != BG_OK ||
	    strcmp(val, "seal") != 0 ||
	    stmt_line(&q, "tenant", val, sizeof(val), why, whylen) != BG_OK ||
	    strcmp(val, c->tenant) != 0) {
		r = fail(why, whylen, BG_ERR_AUTH, "the version's seal act "
		    "is not a seal of this vault and tenant (%s)", c->tenant);
		goto out;
	}
	if (stmt_line(&q, "keyset", val, sizeof(val), why, whylen) != BG_OK ||
	    sscanf(val, "link %llu, ", &seq) != 1 || seq < 1 ||
	    (sp = strchr(val, ' ')) == NULL ||
	    (sp = strchr(sp + 1, ' ')) == NULL || hex32(sp + 1, lh) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "the version's seal act "
		    "names no keyset link");
		goto out;
	}
	for (i = 0; i < p->n_links; i++)
		if (tl[i]->seq == seq)
			break;
	if (i < p->n_links)
		bg_chain_text_hash(p->links[i].body, h);
	if (i == p->n_links || seq > st->keyset_seq || !same(h, lh, 32)) {
		r = fail(why, whylen, BG_ERR_AUTH, "the version's seal act "
		    "names link %llu of %s, which is not in the chain this "
		    "machine verified (or is newer than the request's)", seq,
		    c->tenant);
		goto out;
	}
	l = tl[i];
	if (stmt_line(&q, "by", val, sizeof(val), why, whylen) != BG_OK ||
	    (n = strlen(val)) < sizeof(" (operator)") ||
	    strcmp(val + n - strlen(" (operator)"), " (operator)") != 0) {
		r = fail(why, whylen, BG_ERR_AUTH, "the version's seal act is "
		    "not made by an operator");
		goto out;
	}
	val[n - strlen(" (operator)")] = '\0';
	if (!name_ok(val) || (m = bg_chain_member_find(l, val,
	    BG_CHAIN_ROLE_OPERATOR)) == NULL) {
		r = fail(why, whylen, BG_ERR_AUTH, "the version's seal act is "
		    "not made by an operator of link %llu of %s", seq,
		    c->tenant);
		goto out;
	}
	for (i = 0; i < m->n_tokens && ct == NULL; i++)
		if (m->tokens[i].cred_id_len == p->seal_sig.cred_id_len &&
		    same(m->tokens[i].cred_id, p->seal_sig.cred_id,
		    p->seal_sig.cred_id_len))
			ct = &m->tokens[i];
	if (stmt_line(&q, "time", val, sizeof(val), why, whylen) != BG_OK ||
	    paren_num(val, &t) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "the version's seal act "
		    "has no time");
		goto out;
	}
	bg_statement_cdh("seal", p->seal, cdh);
	if (ct == NULL || bg_token_verify(ct->alg, ct->pubkey,
	    ct->pubkey_len, c->rp_id, cdh, p->seal_sig.authdata,
	    p->seal_sig.authdata_len, p->seal_sig.sig, p->seal_sig.sig_len,
	    true) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "the operator's signature "
		    "over the version's seal does not verify with a credential "
		    "link %llu gives %s", seq, m->person);
		goto out;
	}
	if (m->expires_at != 0 && m->expires_at <= t) {
		r = fail(why, whylen, BG_ERR_AUTH, "%s's operator membership "
		    "had expired when the version was sealed", m->person);
		goto out;
	}
	/* "value: <secret> version <n>, <len> bytes, ciphertext <hex>,
	 * shares <hex>, key-commitment <hex>" among the act's own lines */
	if (asprintf(&want, "\nvalue: %s version %d, ", st->secret,
	    st->version) < 0) {
		want = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (v = q - 1; (v = strstr(v, want)) != NULL; v++) {
		const char *x = v + strlen(want);

		if ((n = strspn(x, "0123456789")) == 0 || n > 19 ||
		    strncmp(x + n, " bytes, ciphertext ", 19) != 0)
			continue;
		x += n + 19;
		if (hex_then(x, 64, ", shares ") &&
		    hex_then(x + 64 + 9, 64, ", key-commitment ") &&
		    hex_then(x + 64 + 9 + 64 + 17, 64, "\n"))
			break;
	}
	if (v == NULL) {
		r = fail(why, whylen, BG_ERR_AUTH, "%s's seal does not name "
		    "%s/%s v%d: the version is not what an operator sealed",
		    m->person, c->tenant, st->secret, st->version);
		goto out;
	}
	r = BG_OK;
out:
	free(want);
	return r;
}

/*
 * The witnesses' cosignatures the packet ships: each an approval
 * statement of this vault and tenant, signed (UV) by an approver of the
 * keyset link it names, a link of the chain tl this machine verified,
 * with a credential that link gives them.  A cosignature that does not
 * verify is a tampered packet.  *best gets the largest head they name
 * (size 0: none) and who its cosigner; two that name different roots at
 * one size are a forked log.
 */
static int
check_cosigs(const bg_card_t *c, const bg_reqpkt_t *p, bg_chain_link_t **tl,
    bg_witness_t *best, char who[BG_CHAIN_NAME_MAX + 1], char *why,
    size_t whylen)
{
	const bg_remote_cosig_t *k;
	const bg_chain_member_t *m;
	const bg_chain_token_t *ct;
	bg_remote_stmt_t *st = NULL;
	uint8_t h[32], cdh[32], signed_h[32];
	char swhy[BG_REMOTE_WHY_MAX];
	size_t i, j;
	int r = BG_ERR_INTERNAL;

	memset(best, 0, sizeof(*best));
	who[0] = '\0';
	if (p->n_cosigs > 0 &&
	    (st = calloc(p->n_cosigs, sizeof(*st))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < p->n_cosigs; i++) {
		k = &p->cosigs[i];
		if (bg_remote_stmt_parse(k->statement, true, &st[i], signed_h,
		    swhy, sizeof(swhy)) != BG_OK ||
		    strcmp(st[i].vault_id, c->vault_id) != 0 ||
		    !same(st[i].genesis, c->genesis, 32) ||
		    strcmp(st[i].tenant, c->tenant) != 0) {
			r = fail(why, whylen, BG_ERR_AUTH, "%s's cosignature is "
			    "not an approval statement of this vault and "
			    "tenant", k->person);
			goto out;
		}
		for (j = 0; j < p->n_links; j++)
			if (tl[j]->seq == st[i].keyset_seq)
				break;
		if (j < p->n_links)
			bg_chain_text_hash(p->links[j].body, h);
		if (j == p->n_links || !same(h, st[i].keyset_hash, 32)) {
			r = fail(why, whylen, BG_ERR_AUTH, "%s's cosignature "
			    "names link %" PRIu64 " of %s, which is not in the "
			    "chain this machine verified", k->person,
			    st[i].keyset_seq, c->tenant);
			goto out;
		}
		ct = NULL;
		m = bg_chain_member_find(tl[j], k->person,
		    BG_CHAIN_ROLE_APPROVER);
		for (j = 0; m != NULL && j < m->n_tokens && ct == NULL; j++)
			if (m->tokens[j].cred_id_len == k->sig.cred_id_len &&
			    same(m->tokens[j].cred_id, k->sig.cred_id,
			    k->sig.cred_id_len))
				ct = &m->tokens[j];
		bg_statement_cdh("approve", k->statement, cdh);
		if (ct == NULL || bg_token_verify(ct->alg, ct->pubkey,
		    ct->pubkey_len, c->rp_id, cdh, k->sig.authdata,
		    k->sig.authdata_len, k->sig.sig, k->sig.sig_len, true) !=
		    BG_OK) {
			r = fail(why, whylen, BG_ERR_AUTH, "%s's cosignature "
			    "does not verify with a credential link %" PRIu64
			    " gives them as approver", k->person,
			    st[i].keyset_seq);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (st[j].log_size == st[i].log_size &&
			    !same(st[j].tree_root, st[i].tree_root, 32)) {
				r = fail(why, whylen, BG_ERR_STATE, "%s's and %s's "
				    "cosignatures name different logs of %"
				    PRIu64 " events: the vault's log was forked "
				    "(do not approve; see docs/remote-approval.md, "
				    "\"a forked log\")", p->cosigs[j].person,
				    k->person, st[i].log_size);
				goto out;
			}
		if (st[i].log_size > best->size) {
			memcpy(best->genesis, c->genesis, 32);
			best->size = st[i].log_size;
			memcpy(best->root, st[i].tree_root, 32);
			(void)snprintf(who, BG_CHAIN_NAME_MAX + 1, "%s",
			    k->person);
		}
	}
	r = BG_OK;
out:
	free(st);
	return r;
}

static bool
cred_match(const bg_chain_token_t *t, const bg_card_cred_t *k)
{
	return t->cred_id_len == k->id_len && same(t->cred_id, k->id,
	    k->id_len) && t->pubkey_len == k->pubkey_len &&
	    same(t->pubkey, k->pubkey, k->pubkey_len) && t->alg == k->alg &&
	    same(t->member_pk, k->member_pk, 32);
}

int
bg_remote_check(const bg_card_t *c, const bg_reqpkt_t *p,
    const bg_witness_t *w, int64_t now, bg_remote_check_t **ckp,
    bg_witness_t *wp, char *why, size_t whylen)
{
	bg_remote_check_t *ck = NULL;
	bg_chain_link_t **vl = NULL, **tl = NULL;
	const bg_chain_link_t *head, *ks = NULL;
	const bg_chain_member_t *m;
	const bg_chain_token_t *tok;
	bg_policy_t *pol = NULL;
	bg_witness_t cw;
	uint8_t h[32], cdh[32];
	char rsh[65], lh[65], rt[65], when[32], cwho[BG_CHAIN_NAME_MAX + 1];
	char cwhose[BG_CHAIN_NAME_MAX + 64];
	size_t i, j, k;
	int r = BG_ERR_INTERNAL;

	*ckp = NULL;
	say(why, whylen, "%s", "");
	if (strcmp(p->vault_id, c->vault_id) != 0 ||
	    !same(p->genesis, c->genesis, 32)) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet is for another "
		    "vault than your card's (%s)", c->vault_id);
		goto out;
	}
	if (strcmp(p->tenant, c->tenant) != 0 ||
	    strcmp(p->person, c->person) != 0) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet is for %s of %s, "
		    "your card is %s's of %s", p->person, p->tenant, c->person,
		    c->tenant);
		goto out;
	}
	if (c->role != BG_CHAIN_ROLE_APPROVER) {
		r = fail(why, whylen, BG_ERR_DENIED, "your card is not an "
		    "approver's");
		goto out;
	}
	/* the log extends what this machine has checked, and the largest
	 * head a witness of the tenant cosigned (verified through the
	 * chain, so the chains first) */
	if ((r = check_log(c, p, w, NULL, why, whylen)) != BG_OK ||
	    (r = check_vault_chain(c, p, now, &vl, why, whylen)) != BG_OK ||
	    (r = check_tenant_chain(c, p, vl, now, &tl, why, whylen)) != BG_OK ||
	    (r = check_cosigs(c, p, tl, &cw, cwho, why, whylen)) != BG_OK)
		goto out;
	if (cw.size > 0) {
		(void)snprintf(cwhose, sizeof(cwhose), "the tree head %s's "
		    "token cosigned at an approval", cwho);
		if ((r = check_log(c, p, &cw, cwhose, why, whylen)) != BG_OK)
			goto out;
	}
	if ((r = check_events(c, p, w, &cw, cwho, tl, why, whylen)) != BG_OK)
		goto out;
	head = tl[p->n_links - 1];
	if ((ck = calloc(1, sizeof(*ck))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	ck->p = p;
	/* the request, as its requester signed it */
	if ((r = bg_remote_stmt_parse(p->statement, false, &ck->stmt, NULL,
	    why, whylen)) != BG_OK) {
		r = BG_ERR_AUTH;
		goto out;
	}
	if (strcmp(ck->stmt.vault_id, c->vault_id) != 0 ||
	    !same(ck->stmt.genesis, c->genesis, 32) ||
	    strcmp(ck->stmt.tenant, c->tenant) != 0 ||
	    ck->stmt.request != p->request) {
		r = fail(why, whylen, BG_ERR_AUTH, "the statement names another "
		    "vault, tenant or request than the packet");
		goto out;
	}
	for (i = 0; i < p->n_links; i++)
		if (tl[i]->seq == ck->stmt.keyset_seq)
			ks = tl[i];
	if (ks == NULL) {
		r = fail(why, whylen, BG_ERR_AUTH, "the packet lacks link %"
		    PRIu64 ", which sealed the version", ck->stmt.keyset_seq);
		goto out;
	}
	for (i = 0; i < p->n_links && tl[i] != ks; i++)
		;
	bg_chain_text_hash(p->links[i].body, h);
	if (!same(h, ck->stmt.keyset_hash, 32) || ks->policy == NULL) {
		r = fail(why, whylen, BG_ERR_AUTH, "the statement's keyset link "
		    "is not link %" PRIu64 " of the verified chain",
		    ck->stmt.keyset_seq);
		goto out;
	}
	/* the version: sealed by an operator's signed act */
	if ((r = check_seal(c, p, tl, &ck->stmt, why, whylen)) != BG_OK)
		goto out;
	/* the requester: live now, the credential that signed theirs */
	if (strcmp(ck->stmt.requester, c->person) == 0) {
		r = fail(why, whylen, BG_ERR_DENIED, "you are the requester");
		goto out;
	}
	if ((m = bg_chain_member_find(head, ck->stmt.requester,
	    BG_CHAIN_ROLE_REQUESTER)) == NULL || m->expires_at <= now) {
		r = fail(why, whylen, BG_ERR_DENIED, "%s is not a live "
		    "requester of %s in link %" PRIu64, ck->stmt.requester,
		    c->tenant, head->seq);
		goto out;
	}
	for (i = 0; i < m->n_tokens; i++)
		if (m->tokens[i].cred_id_len == p->req_sig.cred_id_len &&
		    same(m->tokens[i].cred_id, p->req_sig.cred_id,
		    p->req_sig.cred_id_len))
			break;
	bg_statement_cdh("request", p->statement, cdh);
	if (i == m->n_tokens || bg_token_verify(m->tokens[i].alg,
	    m->tokens[i].pubkey, m->tokens[i].pubkey_len, c->rp_id, cdh,
	    p->req_sig.authdata, p->req_sig.authdata_len, p->req_sig.sig,
	    p->req_sig.sig_len, true) != BG_OK) {
		r = fail(why, whylen, BG_ERR_AUTH, "%s's signature over the "
		    "request statement does not verify with a credential the "
		    "chain gives them", ck->stmt.requester);
		goto out;
	}
	/* the approver: live now, named by the policy that sealed it, with
	 * the salt and keys of the card */
	if ((m = bg_chain_member_find(head, c->person,
	    BG_CHAIN_ROLE_APPROVER)) == NULL || m->expires_at <= now) {
		r = fail(why, whylen, BG_ERR_DENIED, "you (%s) are not a live "
		    "approver of %s in link %" PRIu64, c->person, c->tenant,
		    head->seq);
		goto out;
	}
	if ((m = bg_chain_member_find(ks, c->person,
	    BG_CHAIN_ROLE_APPROVER)) == NULL) {
		r = fail(why, whylen, BG_ERR_DENIED, "you (%s) were not an "
		    "approver when %s/%s v%d was sealed", c->person, c->tenant,
		    ck->stmt.secret, ck->stmt.version);
		goto out;
	}
	if (!same(m->salt, c->salt, 32)) {
		r = fail(why, whylen, BG_ERR_STATE, "your card's salt is not "
		    "the one your membership had when %s/%s v%d was sealed: "
		    "make a new card", c->tenant, ck->stmt.secret,
		    ck->stmt.version);
		goto out;
	}
	if (bg_policy_parse(ks->policy, &pol, NULL) != BG_OK ||
	    bg_policy_leaf_index(pol, c->person, &ck->leaf) != BG_OK) {
		r = fail(why, whylen, BG_ERR_DENIED, "you (%s) are not named by "
		    "the policy that sealed %s/%s v%d", c->person, c->tenant,
		    ck->stmt.secret, ck->stmt.version);
		goto out;
	}
	bg_share_binding(bg_policy_hash(pol), ck->stmt.keyset_hash,
	    ck->binding);
	for (j = 0; j < c->n_creds; j++) {
		for (k = 0, tok = NULL; k < m->n_tokens; k++)
			if (cred_match(&m->tokens[k], &c->creds[j]))
				tok = &m->tokens[k];
		if (tok == NULL)
			continue;
		for (k = 0; k < p->n_shares; k++)
			if (p->shares[k].cred_id_len == c->creds[j].id_len &&
			    same(p->shares[k].cred_id, c->creds[j].id,
			    c->creds[j].id_len))
				break;
		if (k == p->n_shares)
			continue;
		ck->use[ck->n_use] = j;
		ck->share[ck->n_use++] = k;
	}
	if (ck->n_use == 0) {
		r = fail(why, whylen, BG_ERR_DENIED, "the packet holds no share "
		    "sealed to a credential on your card as link %" PRIu64
		    " gives it", ks->seq);
		goto out;
	}
	if (now >= ck->stmt.deadline) {
		time_t d = (time_t)ck->stmt.deadline;
		struct tm tm;

		if (gmtime_r(&d, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
			(void)snprintf(when, sizeof(when), "%" PRId64,
			    ck->stmt.deadline);
		r = fail(why, whylen, BG_ERR_EXPIRED, "request %" PRId64 " "
		    "expired at %s by this machine's clock", p->request, when);
		goto out;
	}
	/* the statement `vault approve` signs: the request's body, the hash
	 * of the requester's statement, the log as the packet shows it */
	crypto_hash_sha256(h, (const uint8_t *)p->statement,
	    strlen(p->statement));
	hex(h, 32, rsh);
	hex(p->log_head, 32, lh);
	hex(p->th.root, 32, rt);
	if (asprintf(&ck->text, "%.*srequest-signed: %s\nlog-size: %" PRIu64
	    "\nlog-head: %s\ntree-root: %s\n", (int)ck->stmt.body_len,
	    p->statement, rsh, p->th.size, lh, rt) < 0) {
		ck->text = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (wp != NULL) {
		memset(wp, 0, sizeof(*wp));
		memcpy(wp->genesis, c->genesis, 32);
		wp->size = p->th.size;
		memcpy(wp->root, p->th.root, 32);
		wp->time = p->th.time;
	}
	*ckp = ck;
	ck = NULL;
	r = BG_OK;
out:
	bg_policy_free(&pol);
	if (vl != NULL)
		links_drop(vl, p->n_vault_links);
	if (tl != NULL)
		links_drop(tl, p->n_links);
	bg_remote_check_free(&ck);
	return r;
}

int
bg_remote_sign(const bg_card_t *c, const bg_remote_check_t *ck,
    bg_token_t *tok, const char *pin, int decision, const char *reason,
    bg_apppkt_t **outp, char *why, size_t whylen)
{
	const bool approve = decision == BG_REMOTE_APPROVE;
	const bg_reqpkt_t *p = ck->p;
	const bg_card_cred_t *k = NULL;
	const bg_remote_share_t *sh = NULL;
	bg_token_assertion_t *as = NULL;
	bg_apppkt_t *out = NULL;
	bg_seal_ad_t ad;
	uint8_t cdh[32], pk[32], *sk = NULL, *share = NULL;
	char idbuf[24], *dtext = NULL;
	size_t i, plen = 0;
	int r = BG_ERR_INTERNAL;

	*outp = NULL;
	say(why, whylen, "%s", "");
	if (!approve && (decision != BG_REMOTE_DENY || reason == NULL ||
	    !bg_chain_text_ok(reason, BG_CHAIN_REASON_MAX))) {
		r = fail(why, whylen, BG_ERR_INVALID_ARG, "a denial needs a "
		    "reason of valid UTF-8 without control characters");
		goto out;
	}
	if (approve)
		bg_statement_cdh("approve", ck->text, cdh);
	else {
		/* the reason is signed with the decision (bg_deny_text) */
		if ((dtext = strdup(ck->text)) == NULL ||
		    bg_deny_text(&dtext, reason) != BG_OK) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		bg_statement_cdh("deny", dtext, cdh);
	}
	r = BG_ERR_TOKEN_NO_CREDENTIAL;
	for (i = 0; i < ck->n_use; i++) {
		k = &c->creds[ck->use[i]];
		sh = &p->shares[ck->share[i]];
		r = bg_token_assert(tok, c->rp_id, k->id, k->id_len, k->alg,
		    k->pubkey, k->pubkey_len, cdh, approve ? c->salt : NULL,
		    pin, &as);
		if (r != BG_ERR_TOKEN_NO_CREDENTIAL)
			break;
	}
	if (r == BG_ERR_TOKEN_NO_CREDENTIAL) {
		r = fail(why, whylen, r, "this token holds none of %s's "
		    "credentials on the card", c->person);
		goto out;
	}
	if (r != BG_OK) {
		r = fail(why, whylen, r, "%s's token: %s", c->person,
		    bg_strerror(r));
		goto out;
	}
	if ((as->flags & 0x04) == 0 || (approve && as->hmac_secret == NULL) ||
	    as->authdata_len > BG_CHAIN_AUTHDATA_MAX ||
	    as->sig_len > BG_CHAIN_SIG_MAX) {
		r = fail(why, whylen, BG_ERR_TOKEN_PROTOCOL, "%s's token gave no "
		    "user verification, no hmac-secret output or an oversized "
		    "assertion", c->person);
		goto out;
	}
	if ((out = calloc(1, sizeof(*out))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (approve) {
		if ((sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL ||
		    (share = sodium_malloc(BG_POLICY_SHARE_LEN)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		r = bg_seal_member_keypair(as->hmac_secret, pk, sk);
		sodium_memzero(as->hmac_secret, BG_TOKEN_HMAC_LEN);
		if (r != BG_OK)
			goto out;
		if (!same(pk, k->member_pk, 32)) {
			r = fail(why, whylen, BG_ERR_AUTH, "the token's key for "
			    "your membership is not the one on your card");
			goto out;
		}
		/* the associated data from the statement and the chain */
		if ((r = bg_seal_ad_share(&ad, c->vault_id, ck->stmt.tenant,
		    ck->stmt.secret, (uint64_t)ck->stmt.version, ck->leaf,
		    ck->binding)) != BG_OK)
			goto out;
		if (bg_seal_box_open(sk, k->member_pk, sh->blob, sh->blob_len,
		    ad.buf, ad.len, share, BG_POLICY_SHARE_LEN, &plen) !=
		    BG_OK || plen != BG_POLICY_SHARE_LEN) {
			r = fail(why, whylen, BG_ERR_AUTH, "your share of %s/%s "
			    "v%d does not open: it was altered or belongs "
			    "elsewhere (nothing was written)", ck->stmt.tenant,
			    ck->stmt.secret, ck->stmt.version);
			goto out;
		}
		sodium_free(sk);
		sk = NULL;
		(void)snprintf(idbuf, sizeof(idbuf), "%" PRId64, p->request);
		if ((r = bg_seal_ad_reshare(&ad, c->vault_id, idbuf,
		    ck->leaf)) != BG_OK ||
		    (r = bg_seal_box(ck->stmt.request_key, share,
		    BG_POLICY_SHARE_LEN, ad.buf, ad.len, out->resealed,
		    sizeof(out->resealed), &out->resealed_len)) != BG_OK)
			goto out;
		sodium_free(share);
		share = NULL;
	}
	memcpy(out->vault_id, c->vault_id, sizeof(out->vault_id));
	memcpy(out->genesis, c->genesis, 32);
	out->request = p->request;
	memcpy(out->person, c->person, sizeof(out->person));
	out->decision = decision;
	if (!approve)
		(void)snprintf(out->reason, sizeof(out->reason), "%s", reason);
	if ((out->statement = strdup(ck->text)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(out->sig.cred_id, k->id, k->id_len);
	out->sig.cred_id_len = k->id_len;
	memcpy(out->sig.authdata, as->authdata, as->authdata_len);
	out->sig.authdata_len = as->authdata_len;
	memcpy(out->sig.sig, as->sig, as->sig_len);
	out->sig.sig_len = as->sig_len;
	out->leaf = ck->leaf;
	*outp = out;
	out = NULL;
	r = BG_OK;
out:
	if (sk != NULL)
		sodium_free(sk);
	if (share != NULL)
		sodium_free(share);
	bg_token_assertion_free(&as);
	free(dtext);
	bg_apppkt_free(&out);
	return r;
}
