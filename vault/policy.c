/*
 * Approval policies: a recursive-descent parser for threshold trees, the
 * canonical text and hash, evaluation, "what is missing" sentences, and
 * splitting/combining a data key along the tree.
 *
 * The parser is bounded in every direction (text length, nesting depth,
 * number of names, name length) before it allocates, so hostile text costs
 * at most O(BG_POLICY_MAX_TEXT) work and recursion at most
 * BG_POLICY_MAX_DEPTH + 1 frames.  Tree-walking functions recurse too; the
 * depth limit is what makes that safe.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "policy.h"
#include "shamir.h"

#define POLICY_DOMAIN	"breakglass policy v1"

struct pnode {
	bool		  leaf;
	unsigned	  k;			/* threshold nodes */
	size_t		  nchild;
	struct pnode	**child;
	size_t		  leaf_idx;		/* leaves */
	char		  name[BG_POLICY_NAME_MAX + 1];
	size_t		  pos;			/* 1-based position in text */
};

struct bg_policy {
	struct pnode	*root;
	size_t		 nleaves;
	struct pnode	*leaves[BG_POLICY_MAX_LEAVES];
	char		*canonical;
	uint8_t		 hash[BG_POLICY_HASH_LEN];
};

/* --- small helpers ------------------------------------------------------ */

static void
node_free(struct pnode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nchild; i++)
		node_free(n->child[i]);
	free(n->child);
	free(n);
}

void
bg_policy_free(bg_policy_t **pp)
{
	bg_policy_t *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	node_free(p->root);
	free(p->canonical);
	sodium_memzero(p, sizeof(*p));
	free(p);
	*pp = NULL;
}

/* A growing string; on allocation failure it remembers and stops. */
struct sb {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

static void
sb_addn(struct sb *b, const char *s, size_t n)
{
	char *nb;
	size_t ncap;

	if (b->oom)
		return;
	if (b->cap - b->len <= n) {
		ncap = b->cap ? b->cap : 64;
		while (ncap - b->len <= n) {
			if (ncap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			ncap *= 2;
		}
		if ((nb = realloc(b->buf, ncap)) == NULL) {
			b->oom = true;
			return;
		}
		b->buf = nb;
		b->cap = ncap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void
sb_add(struct sb *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void
sb_addz(struct sb *b, size_t v)
{
	char num[32];
	int n;

	n = snprintf(num, sizeof(num), "%zu", v);
	if (n < 0 || (size_t)n >= sizeof(num)) {
		b->oom = true;
		return;
	}
	sb_addn(b, num, (size_t)n);
}

/* Hand the string over (never NULL on success). */
static int
sb_take(struct sb *b, char **outp)
{
	if (!b->oom && b->buf == NULL)
		sb_addn(b, "", 0);
	if (b->oom) {
		free(b->buf);
		b->buf = NULL;
		return BG_ERR_NOMEM;
	}
	*outp = b->buf;
	b->buf = NULL;
	return BG_OK;
}

/* --- parser ------------------------------------------------------------ */

struct parser {
	const char		*s;
	size_t			 len;
	size_t			 i;
	bg_policy_t		*p;
	bg_policy_error_t	*err;
	int			 fail;	/* first error's code, BG_OK if none */
};

static void perr(struct parser *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the first error, at 0-based offset off (shown 1-based). */
static void
perr(struct parser *ps, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->fail != BG_OK)
		return;
	ps->fail = BG_ERR_PARSE;
	if (ps->err == NULL)
		return;
	ps->err->pos = off + 1;
	n = snprintf(ps->err->msg, sizeof(ps->err->msg), "position %zu: ",
	    off + 1);
	if (n < 0 || (size_t)n >= sizeof(ps->err->msg))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(ps->err->msg + n, sizeof(ps->err->msg) - (size_t)n,
	    fmt, ap);
	va_end(ap);
}

/* How the byte at off reads in a message: 'x', byte 0xNN, or the end. */
static const char *
describe_at(const struct parser *ps, size_t off, char *buf, size_t sz)
{
	unsigned char c;

	if (off >= ps->len) {
		(void)snprintf(buf, sz, "the end of the policy");
		return buf;
	}
	c = (unsigned char)ps->s[off];
	if (c > 0x20 && c < 0x7f)
		(void)snprintf(buf, sz, "'%c'", c);
	else
		(void)snprintf(buf, sz, "byte 0x%02x", c);
	return buf;
}

/* A word as shown in a message: at most 24 bytes, then "...". */
static void
show_word(const char *w, size_t n, char *buf, size_t sz)
{
	if (n > 24)
		(void)snprintf(buf, sz, "%.24s...", w);
	else
		(void)snprintf(buf, sz, "%.*s", (int)n, w);
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_first(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_word(char c)
{
	return is_first(c) || c == '.' || c == '_' || c == '-';
}

bool
bg_policy_name_ok(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n < 1 || n > BG_POLICY_NAME_MAX || !is_first(s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!is_word(s[i]))
			return false;
	return true;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->i < ps->len && is_ws(ps->s[ps->i]))
		ps->i++;
}

enum thr { THR_NONE, THR_ALL, THR_ANY, THR_NUM };

/* Is w (n bytes) a threshold word?  For THR_NUM, *digits is the count of
 * leading digits. */
static enum thr
classify(const char *w, size_t n, size_t *digits)
{
	size_t d = 0;

	*digits = 0;
	if (n == 6 && strncmp(w, "all-of", 6) == 0)
		return THR_ALL;
	if (n == 6 && strncmp(w, "any-of", 6) == 0)
		return THR_ANY;
	while (d < n && w[d] >= '0' && w[d] <= '9')
		d++;
	if (d > 0 && n == d + 3 && strncmp(w + d, "-of", 3) == 0) {
		*digits = d;
		return THR_NUM;
	}
	return THR_NONE;
}

static int
add_child(struct pnode *n, struct pnode *c)
{
	struct pnode **nc;

	if (n->nchild >= BG_POLICY_MAX_LEAVES * (BG_POLICY_MAX_DEPTH + 1))
		return BG_ERR_PARSE;	/* unreachable: leaves bound it first */
	nc = realloc(n->child, (n->nchild + 1) * sizeof(*nc));
	if (nc == NULL)
		return BG_ERR_NOMEM;
	n->child = nc;
	n->child[n->nchild++] = c;
	return BG_OK;
}

static int parse_node(struct parser *, unsigned, struct pnode **);

static int
parse_leaf(struct parser *ps, const char *w, size_t wlen, size_t start,
    struct pnode **outp)
{
	int r = BG_ERR_INTERNAL;
	struct pnode *n = NULL;
	char shown[32];
	size_t i;

	*outp = NULL;
	if (wlen > BG_POLICY_NAME_MAX) {
		show_word(w, wlen, shown, sizeof(shown));
		perr(ps, start, "name '%s' is longer than %d characters",
		    shown, BG_POLICY_NAME_MAX);
		r = BG_ERR_PARSE;
		goto out;
	}
	for (i = 0; i < ps->p->nleaves; i++) {
		if (strlen(ps->p->leaves[i]->name) == wlen &&
		    strncmp(ps->p->leaves[i]->name, w, wlen) == 0) {
			perr(ps, start, "'%.*s' appears twice", (int)wlen, w);
			r = BG_ERR_PARSE;
			goto out;
		}
	}
	if (ps->p->nleaves >= BG_POLICY_MAX_LEAVES) {
		perr(ps, start, "more than %d names", BG_POLICY_MAX_LEAVES);
		r = BG_ERR_PARSE;
		goto out;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	n->leaf = true;
	n->pos = start + 1;
	memcpy(n->name, w, wlen);
	n->name[wlen] = '\0';
	n->leaf_idx = ps->p->nleaves;
	ps->p->leaves[ps->p->nleaves++] = n;
	*outp = n;
	n = NULL;
	r = BG_OK;
out:
	free(n);
	return r;
}

static int
parse_threshold(struct parser *ps, const char *w, size_t wlen, size_t start,
    enum thr t, size_t digits, unsigned depth, struct pnode **outp)
{
	int r = BG_ERR_INTERNAL;
	struct pnode *n = NULL, *c = NULL;
	unsigned long k = 0;
	size_t d;
	char what[32];

	*outp = NULL;
	if (t == THR_NUM) {
		if (digits > 1 && w[0] == '0') {
			perr(ps, start, "threshold '%.*s' has a leading zero",
			    (int)wlen, w);
			r = BG_ERR_PARSE;
			goto out;
		}
		/* more than 3 digits is beyond any list; keep k bounded */
		for (d = 0; d < digits && d < 4; d++)
			k = k * 10 + (unsigned long)(w[d] - '0');
		if (k == 0) {
			perr(ps, start, "threshold must be at least 1");
			r = BG_ERR_PARSE;
			goto out;
		}
	}
	if (depth + 1 > BG_POLICY_MAX_DEPTH) {
		perr(ps, start, "nesting deeper than %d", BG_POLICY_MAX_DEPTH);
		r = BG_ERR_PARSE;
		goto out;
	}
	skip_ws(ps);
	if (ps->i >= ps->len || ps->s[ps->i] != '(') {
		perr(ps, ps->i, "expected '(' after '%.*s'", (int)wlen, w);
		r = BG_ERR_PARSE;
		goto out;
	}
	ps->i++;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	n->pos = start + 1;
	skip_ws(ps);
	if (ps->i < ps->len && ps->s[ps->i] == ')') {
		perr(ps, ps->i, "empty list after '%.*s('", (int)wlen, w);
		r = BG_ERR_PARSE;
		goto out;
	}
	for (;;) {
		if ((r = parse_node(ps, depth + 1, &c)) != BG_OK)
			goto out;
		if ((r = add_child(n, c)) != BG_OK)
			goto out;
		c = NULL;
		skip_ws(ps);
		if (ps->i < ps->len && ps->s[ps->i] == ',') {
			ps->i++;
			continue;
		}
		if (ps->i < ps->len && ps->s[ps->i] == ')') {
			ps->i++;
			break;
		}
		perr(ps, ps->i, "expected ',' or ')' but found %s",
		    describe_at(ps, ps->i, what, sizeof(what)));
		r = BG_ERR_PARSE;
		goto out;
	}
	switch (t) {
	case THR_ALL:
		k = n->nchild;
		break;
	case THR_ANY:
		k = 1;
		break;
	default:
		if (digits > 3 || k > n->nchild) {
			perr(ps, start, "threshold %.*s exceeds %zu %s",
			    (int)digits, w, n->nchild,
			    n->nchild == 1 ? "child" : "children");
			r = BG_ERR_PARSE;
			goto out;
		}
		break;
	}
	n->k = (unsigned)k;
	*outp = n;
	n = NULL;
	r = BG_OK;
out:
	node_free(c);
	node_free(n);
	return r;
}

static int
parse_node(struct parser *ps, unsigned depth, struct pnode **outp)
{
	int r = BG_ERR_INTERNAL;
	size_t start, wlen, digits, after;
	const char *w;
	enum thr t;
	char what[32], shown[32];

	*outp = NULL;
	skip_ws(ps);
	start = ps->i;
	if (start >= ps->len || !is_first(ps->s[start])) {
		perr(ps, start, "expected a name or a threshold such as "
		    "'2-of(' but found %s",
		    describe_at(ps, start, what, sizeof(what)));
		r = BG_ERR_PARSE;
		goto out;
	}
	while (ps->i < ps->len && is_word(ps->s[ps->i]))
		ps->i++;
	w = ps->s + start;
	wlen = ps->i - start;
	t = classify(w, wlen, &digits);
	if (t != THR_NONE) {
		r = parse_threshold(ps, w, wlen, start, t, digits, depth, outp);
		goto out;
	}
	after = ps->i;
	while (after < ps->len && is_ws(ps->s[after]))
		after++;
	if (after < ps->len && ps->s[after] == '(') {
		show_word(w, wlen, shown, sizeof(shown));
		perr(ps, start, "unknown threshold '%s' (use 'K-of', "
		    "'all-of' or 'any-of')", shown);
		r = BG_ERR_PARSE;
		goto out;
	}
	r = parse_leaf(ps, w, wlen, start, outp);
out:
	return r;
}

/* --- canonical text and hash -------------------------------------------- */

static void
canon(const struct pnode *n, struct sb *b)
{
	size_t i;

	if (n->leaf) {
		sb_add(b, n->name);
		return;
	}
	sb_addz(b, n->k);
	sb_add(b, "-of(");
	for (i = 0; i < n->nchild; i++) {
		if (i > 0)
			sb_add(b, ",");
		canon(n->child[i], b);
	}
	sb_add(b, ")");
}

static void
hash_u16(crypto_generichash_state *st, size_t v)
{
	uint8_t b[2];

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	(void)crypto_generichash_update(st, b, sizeof(b));
}

/*
 * After u16 length || "breakglass policy v1", the tree in pre-order:
 *             threshold: 'T' || u16 K || u16 n, then the n children;
 *             leaf:      'L' || u16 leaf index || u16 name length || name.
 */
static void
hash_node(const struct pnode *n, crypto_generichash_state *st)
{
	size_t i;
	uint8_t tag;

	if (n->leaf) {
		tag = 'L';
		(void)crypto_generichash_update(st, &tag, 1);
		hash_u16(st, n->leaf_idx);
		hash_u16(st, strlen(n->name));
		(void)crypto_generichash_update(st,
		    (const unsigned char *)n->name, strlen(n->name));
		return;
	}
	tag = 'T';
	(void)crypto_generichash_update(st, &tag, 1);
	hash_u16(st, n->k);
	hash_u16(st, n->nchild);
	for (i = 0; i < n->nchild; i++)
		hash_node(n->child[i], st);
}

static int
finish(bg_policy_t *p)
{
	int r = BG_ERR_INTERNAL;
	struct sb b = { NULL, 0, 0, false };
	crypto_generichash_state st;

	canon(p->root, &b);
	if ((r = sb_take(&b, &p->canonical)) != BG_OK)
		goto out;
	if (crypto_generichash_init(&st, NULL, 0, BG_POLICY_HASH_LEN) != 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	hash_u16(&st, sizeof(POLICY_DOMAIN) - 1);
	(void)crypto_generichash_update(&st,
	    (const unsigned char *)POLICY_DOMAIN, sizeof(POLICY_DOMAIN) - 1);
	hash_node(p->root, &st);
	if (crypto_generichash_final(&st, p->hash, sizeof(p->hash)) != 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_policy_parse(const char *text, bg_policy_t **pp, bg_policy_error_t *err)
{
	int r = BG_ERR_INTERNAL;
	struct parser ps;
	bg_policy_t *p = NULL;
	size_t len;
	char what[32];

	if (pp != NULL)
		*pp = NULL;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (text == NULL || pp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	len = strnlen(text, BG_POLICY_MAX_TEXT + 1);
	if (len > BG_POLICY_MAX_TEXT) {
		if (err != NULL)
			(void)snprintf(err->msg, sizeof(err->msg),
			    "policy longer than %d bytes", BG_POLICY_MAX_TEXT);
		r = BG_ERR_PARSE;
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memset(&ps, 0, sizeof(ps));
	ps.s = text;
	ps.len = len;
	ps.p = p;
	ps.err = err;
	ps.fail = BG_OK;

	skip_ws(&ps);
	if (ps.i >= ps.len) {
		perr(&ps, ps.i, "the policy is empty");
		r = BG_ERR_PARSE;
		goto out;
	}
	if ((r = parse_node(&ps, 0, &p->root)) != BG_OK)
		goto out;
	skip_ws(&ps);
	if (ps.i < ps.len) {
		perr(&ps, ps.i, "unexpected %s after the end of the policy",
		    describe_at(&ps, ps.i, what, sizeof(what)));
		r = BG_ERR_PARSE;
		goto out;
	}
	if ((r = finish(p)) != BG_OK)
		goto out;
	*pp = p;
	p = NULL;
	r = BG_OK;
out:
	/* a parse error always carries a message */
	if (r == BG_ERR_PARSE && err != NULL && err->msg[0] == '\0')
		(void)snprintf(err->msg, sizeof(err->msg), "invalid policy");
	if (r != BG_ERR_PARSE && err != NULL)
		memset(err, 0, sizeof(*err));
	bg_policy_free(&p);
	return r;
}

/* --- accessors ----------------------------------------------------------- */

const char *
bg_policy_canonical(const bg_policy_t *p)
{
	return p != NULL ? p->canonical : NULL;
}

const uint8_t *
bg_policy_hash(const bg_policy_t *p)
{
	return p != NULL ? p->hash : NULL;
}

size_t
bg_policy_leaf_count(const bg_policy_t *p)
{
	return p != NULL ? p->nleaves : 0;
}

const char *
bg_policy_leaf_name(const bg_policy_t *p, size_t i)
{
	if (p == NULL || i >= p->nleaves)
		return NULL;
	return p->leaves[i]->name;
}

size_t
bg_policy_leaf_pos(const bg_policy_t *p, size_t i)
{
	if (p == NULL || i >= p->nleaves)
		return 0;
	return p->leaves[i]->pos;
}

int
bg_policy_leaf_index(const bg_policy_t *p, const char *name, size_t *idx)
{
	int r = BG_ERR_NOT_FOUND;
	size_t i;

	if (idx != NULL)
		*idx = 0;
	if (p == NULL || name == NULL || idx == NULL)
		return BG_ERR_INVALID_ARG;
	for (i = 0; i < p->nleaves; i++) {
		if (strcmp(p->leaves[i]->name, name) == 0) {
			*idx = i;
			r = BG_OK;
			break;
		}
	}
	return r;
}

/* --- evaluation ---------------------------------------------------------- */

static bool
node_sat(const struct pnode *n, const bool *have)
{
	size_t i, got = 0;

	if (n->leaf)
		return have[n->leaf_idx];
	for (i = 0; i < n->nchild; i++)
		if (node_sat(n->child[i], have))
			got++;
	return got >= n->k;
}

bool
bg_policy_satisfied(const bg_policy_t *p, const bool *have_leaf)
{
	if (p == NULL || have_leaf == NULL)
		return false;
	return node_sat(p->root, have_leaf);
}

/* Names are distinct across the tree, so the cheapest K children are
 * disjoint and their sum is exact. */
static size_t
node_min(const struct pnode *n)
{
	size_t m[BG_POLICY_MAX_LEAVES];
	size_t i, j, v, sum = 0;

	if (n->leaf)
		return 1;
	for (i = 0; i < n->nchild; i++) {
		v = node_min(n->child[i]);
		for (j = i; j > 0 && m[j - 1] > v; j--)
			m[j] = m[j - 1];
		m[j] = v;
	}
	for (i = 0; i < n->k; i++)
		sum += m[i];
	return sum;
}

size_t
bg_policy_min_people(const bg_policy_t *p)
{
	return p != NULL ? node_min(p->root) : 0;
}

int
bg_policy_check_dual(const bg_policy_t *p, char **msg)
{
	int r = BG_ERR_INTERNAL;
	bool have[BG_POLICY_MAX_LEAVES];
	size_t i, nsingle = 0, shown = 0;
	struct sb b = { NULL, 0, 0, false };

	if (msg != NULL)
		*msg = NULL;
	if (p == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (bg_policy_min_people(p) >= 2) {
		r = BG_OK;
		goto out;
	}
	memset(have, 0, sizeof(have));
	for (i = 0; i < p->nleaves; i++) {
		have[i] = true;
		if (node_sat(p->root, have))
			nsingle++;
		have[i] = false;
	}
	sb_add(&b, "a single approver (");
	for (i = 0; i < p->nleaves; i++) {
		have[i] = true;
		if (node_sat(p->root, have)) {
			if (shown > 0)
				sb_add(&b, shown + 1 == nsingle ? " or " :
				    ", ");
			sb_add(&b, p->leaves[i]->name);
			shown++;
		}
		have[i] = false;
	}
	sb_add(&b, ") could satisfy this policy; breakglass requires at "
	    "least two");
	if (msg != NULL && (r = sb_take(&b, msg)) != BG_OK)
		goto out;
	r = BG_ERR_DENIED;
out:
	free(b.buf);
	return r;
}

/*
 * Whether n could still be satisfied: by the leaves approved so far and
 * every leaf not marked in cannot (NULL: nobody is left out).
 */
static bool
node_possible(const struct pnode *n, const bool *have, const bool *cannot)
{
	size_t i, got = 0;

	if (n->leaf)
		return have[n->leaf_idx] || cannot == NULL ||
		    !cannot[n->leaf_idx];
	for (i = 0; i < n->nchild; i++)
		if (node_possible(n->child[i], have, cannot))
			got++;
	return got >= n->k;
}

/* A child still worth naming: not satisfied, and still possible. */
static bool
open_child(const struct pnode *c, const bool *have, const bool *cannot)
{
	return !node_sat(c, have) && node_possible(c, have, cannot);
}

/*
 * What an unsatisfied, still possible threshold node still needs (see
 * policy.h); children that can no longer be satisfied are not named.
 */
static void
describe(const struct pnode *n, const bool *have, const bool *cannot,
    struct sb *b)
{
	size_t i, sat = 0, nunsat = 0, nleaf = 0, m, shown;
	bool first;

	for (i = 0; i < n->nchild; i++) {
		if (node_sat(n->child[i], have)) {
			sat++;
		} else if (open_child(n->child[i], have, cannot)) {
			nunsat++;
			if (n->child[i]->leaf)
				nleaf++;
		}
	}
	m = n->k - sat;
	if (nleaf == nunsat || m == nunsat) {
		/* every remaining group is required, or all are names */
		first = true;
		if (nleaf > 0) {
			sb_addz(b, nleaf == nunsat ? m : nleaf);
			sb_add(b, " more from: ");
			shown = 0;
			for (i = 0; i < n->nchild; i++) {
				if (!n->child[i]->leaf ||
				    !open_child(n->child[i], have, cannot))
					continue;
				if (shown++ > 0)
					sb_add(b, ", ");
				sb_add(b, n->child[i]->name);
			}
			first = false;
		}
		for (i = 0; i < n->nchild; i++) {
			if (n->child[i]->leaf ||
			    !open_child(n->child[i], have, cannot))
				continue;
			if (!first)
				sb_add(b, "; and ");
			describe(n->child[i], have, cannot, b);
			first = false;
		}
		return;
	}
	/* a choice among groups */
	sb_add(b, "any ");
	sb_addz(b, m);
	sb_add(b, " of: ");
	shown = 0;
	for (i = 0; i < n->nchild; i++) {
		if (!open_child(n->child[i], have, cannot))
			continue;
		if (shown++ > 0)
			sb_add(b, ", ");
		if (n->child[i]->leaf) {
			sb_add(b, n->child[i]->name);
		} else {
			sb_add(b, "(");
			describe(n->child[i], have, cannot, b);
			sb_add(b, ")");
		}
	}
}

int
bg_policy_missing(const bg_policy_t *p, const bool *have_leaf,
    char **sentence)
{
	return bg_policy_missing_except(p, have_leaf, NULL, sentence);
}

int
bg_policy_missing_except(const bg_policy_t *p, const bool *have_leaf,
    const bool *cannot_leaf, char **sentence)
{
	int r = BG_ERR_INTERNAL;
	struct sb b = { NULL, 0, 0, false };

	if (sentence != NULL)
		*sentence = NULL;
	if (p == NULL || have_leaf == NULL || sentence == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (node_sat(p->root, have_leaf)) {
		sb_add(&b, "nothing more is needed");
	} else if (!node_possible(p->root, have_leaf, cannot_leaf)) {
		sb_add(&b, "cannot be met: too few of the approvers it names "
		    "can still approve");
	} else if (p->root->leaf) {
		sb_add(&b, "needs 1 more from: ");
		sb_add(&b, p->root->name);
	} else {
		sb_add(&b, "needs ");
		describe(p->root, have_leaf, cannot_leaf, &b);
	}
	r = sb_take(&b, sentence);
out:
	free(b.buf);
	return r;
}

/* --- splitting and combining -------------------------------------------- */

/*
 * Guarded scratch split_node needs under n: its children's node secrets,
 * then either its own coefficients (during its split) or its children's
 * scratch (after it), which reuse the same bytes.
 */
static size_t
split_need(const struct pnode *n)
{
	size_t i, sub, most;

	if (n->leaf)
		return 0;
	most = (size_t)(n->k - 1) * BG_POLICY_SHARE_LEN;
	for (i = 0; i < n->nchild; i++)
		if ((sub = split_need(n->child[i])) > most)
			most = sub;
	return n->nchild * BG_POLICY_SHARE_LEN + most;
}

static int
split_node(const struct pnode *n, const uint8_t *secret, uint8_t *shares,
    uint8_t *work, bg_rng_fn *rng, void *rng_ctx)
{
	uint8_t *ys = work, *rest;
	size_t i, sz = 0;
	int r = BG_ERR_INTERNAL;

	if (n->leaf) {
		memcpy(shares + n->leaf_idx * BG_POLICY_SHARE_LEN, secret,
		    BG_POLICY_SHARE_LEN);
		r = BG_OK;
		goto out;
	}
	sz = n->nchild * BG_POLICY_SHARE_LEN;
	rest = work + sz;
	if ((r = bg_shamir_split_scratch(secret, BG_POLICY_SHARE_LEN, n->k,
	    (unsigned)n->nchild, ys, n->k > 1 ? rest : NULL, rng,
	    rng_ctx)) != BG_OK)
		goto out;
	for (i = 0; i < n->nchild; i++) {
		r = split_node(n->child[i], ys + i * BG_POLICY_SHARE_LEN,
		    shares, rest, rng, rng_ctx);
		/* child i's node secret: last use was just now */
		sodium_memzero(ys + i * BG_POLICY_SHARE_LEN,
		    BG_POLICY_SHARE_LEN);
		if (r != BG_OK)
			goto out;
	}
	r = BG_OK;
out:
	if (sz != 0)
		sodium_memzero(ys, sz);
	return r;
}

size_t
bg_policy_split_work_len(const bg_policy_t *p)
{
	return p != NULL ? split_need(p->root) : 0;
}

int
bg_policy_split_with(const bg_policy_t *p,
    const uint8_t key[BG_POLICY_KEY_LEN], uint8_t *leaf_shares,
    uint8_t *work, bg_rng_fn *rng, void *rng_ctx)
{
	size_t need = 0;
	int r = BG_ERR_INTERNAL;

	if (p == NULL || key == NULL || leaf_shares == NULL ||
	    ((need = split_need(p->root)) != 0 && work == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	r = split_node(p->root, key, leaf_shares, work, rng, rng_ctx);
out:
	if (work != NULL && need != 0)
		sodium_memzero(work, need);
	if (r != BG_OK && p != NULL && leaf_shares != NULL)
		sodium_memzero(leaf_shares,
		    p->nleaves * BG_POLICY_SHARE_LEN);
	return r;
}

int
bg_policy_split(const bg_policy_t *p, const uint8_t key[BG_POLICY_KEY_LEN],
    uint8_t *leaf_shares, bg_rng_fn *rng, void *rng_ctx)
{
	uint8_t *work = NULL;
	size_t need = 0;
	int r = BG_ERR_INTERNAL;

	if (p == NULL || key == NULL || leaf_shares == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	need = split_need(p->root);
	if (need != 0 && (work = sodium_malloc(need)) == NULL) {
		r = BG_ERR_NOMEM;
		sodium_memzero(leaf_shares, p->nleaves * BG_POLICY_SHARE_LEN);
		goto out;
	}
	r = bg_policy_split_with(p, key, leaf_shares, work, rng, rng_ctx);
out:
	if (work != NULL)
		sodium_free(work);
	return r;
}

/* n is satisfied by have; rebuild its node secret into out[32]. */
static int
combine_node(const struct pnode *n, const bool *have, const uint8_t *shares,
    uint8_t *out)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *ys = NULL;
	uint8_t xs[BG_SHAMIR_MAX_SHARES];
	const uint8_t *yp[BG_SHAMIR_MAX_SHARES];
	size_t i, used = 0, sz = 0;

	if (n->leaf) {
		memcpy(out, shares + n->leaf_idx * BG_POLICY_SHARE_LEN,
		    BG_POLICY_SHARE_LEN);
		r = BG_OK;
		goto out;
	}
	sz = (size_t)n->k * BG_POLICY_SHARE_LEN;
	if ((ys = sodium_malloc(sz)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n->nchild && used < n->k; i++) {
		if (!node_sat(n->child[i], have))
			continue;
		if ((r = combine_node(n->child[i], have, shares,
		    ys + used * BG_POLICY_SHARE_LEN)) != BG_OK)
			goto out;
		xs[used] = (uint8_t)(i + 1);
		yp[used] = ys + used * BG_POLICY_SHARE_LEN;
		used++;
	}
	if (used != n->k) {
		r = BG_ERR_INTERNAL;	/* caller checked satisfaction */
		goto out;
	}
	r = bg_shamir_combine(xs, yp, used, BG_POLICY_SHARE_LEN, out);
out:
	if (ys != NULL) {
		sodium_memzero(ys, sz);
		sodium_free(ys);
	}
	return r;
}

int
bg_policy_combine(const bg_policy_t *p, const bool *have_leaf,
    const uint8_t *leaf_shares, uint8_t key_out[BG_POLICY_KEY_LEN])
{
	int r = BG_ERR_INTERNAL;

	if (key_out != NULL)
		sodium_memzero(key_out, BG_POLICY_KEY_LEN);
	if (p == NULL || have_leaf == NULL || leaf_shares == NULL ||
	    key_out == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (!node_sat(p->root, have_leaf)) {
		r = BG_ERR_DENIED;
		goto out;
	}
	r = combine_node(p->root, have_leaf, leaf_shares, key_out);
out:
	if (r != BG_OK && key_out != NULL)
		sodium_memzero(key_out, BG_POLICY_KEY_LEN);
	return r;
}

/* --- redistribution ------------------------------------------------------ */

/*
 * Lagrange basis at 0 of xs[i] among xs[0..count): prod x_j / (x_j - x_i)
 * over j != i.  The x values are public (child positions).
 */
static uint8_t
lagrange0(const uint8_t *xs, size_t count, size_t i)
{
	uint8_t num = 1, den = 1;
	size_t j;

	for (j = 0; j < count; j++) {
		if (j == i)
			continue;
		num = bg_gf256_mul(num, xs[j]);
		den = bg_gf256_mul(den, (uint8_t)(xs[j] ^ xs[i]));
	}
	return bg_gf256_mul(num, bg_gf256_inv(den));
}

/* n is satisfied by have: the first k satisfied children, recursively. */
static void
coeff_node(const struct pnode *n, const bool *have, uint8_t mult,
    uint8_t *coeff, bool *chosen)
{
	uint8_t xs[BG_SHAMIR_MAX_SHARES];
	size_t idx[BG_SHAMIR_MAX_SHARES];
	size_t i, used = 0;

	if (n->leaf) {
		coeff[n->leaf_idx] = mult;
		if (chosen != NULL)
			chosen[n->leaf_idx] = true;
		return;
	}
	for (i = 0; i < n->nchild && used < n->k; i++) {
		if (!node_sat(n->child[i], have))
			continue;
		xs[used] = (uint8_t)(i + 1);
		idx[used] = i;
		used++;
	}
	for (i = 0; i < used; i++)
		coeff_node(n->child[idx[i]], have, bg_gf256_mul(mult,
		    lagrange0(xs, used, i)), coeff, chosen);
}

int
bg_policy_coefficients(const bg_policy_t *p, const bool *have_leaf,
    uint8_t *coeff, bool *chosen)
{
	if (p == NULL || have_leaf == NULL || coeff == NULL)
		return BG_ERR_INVALID_ARG;
	memset(coeff, 0, p->nleaves);
	if (chosen != NULL)
		memset(chosen, 0, p->nleaves * sizeof(*chosen));
	if (!node_sat(p->root, have_leaf))
		return BG_ERR_DENIED;
	coeff_node(p->root, have_leaf, 1, coeff, chosen);
	return BG_OK;
}

void
bg_policy_scale(uint8_t out[BG_POLICY_SHARE_LEN], uint8_t coeff,
    const uint8_t share[BG_POLICY_SHARE_LEN])
{
	size_t b;

	for (b = 0; b < BG_POLICY_SHARE_LEN; b++)
		out[b] = bg_gf256_mul(coeff, share[b]);
}

void
bg_policy_share_add(uint8_t acc[BG_POLICY_SHARE_LEN],
    const uint8_t share[BG_POLICY_SHARE_LEN])
{
	size_t b;

	for (b = 0; b < BG_POLICY_SHARE_LEN; b++)
		acc[b] = (uint8_t)(acc[b] ^ share[b]);
}
