/*
 * Policies: grammar errors with positions, canonical text and hash,
 * evaluation of every approver subset of many generated trees against an
 * independent brute-force reference, "missing" sentences, the dual-control
 * floor, and split/combine along the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "policy.h"
#include "shamir.h"

/* --- grammar errors ----------------------------------------------------- */

struct errcase {
	const char	*text;
	size_t		 pos;
	const char	*msg;
};

static const struct errcase errcases[] = {
	{ "", 1, "position 1: the policy is empty" },
	{ "   ", 4, "position 4: the policy is empty" },
	{ "2-of alice", 6, "position 6: expected '(' after '2-of'" },
	{ "2-of", 5, "position 5: expected '(' after '2-of'" },
	{ "all-of", 7, "position 7: expected '(' after 'all-of'" },
	{ "of(alice)", 1, "position 1: unknown threshold 'of' (use 'K-of', "
	    "'all-of' or 'any-of')" },
	{ "2-of(a, two-of(b,c))", 9, "position 9: unknown threshold 'two-of' "
	    "(use 'K-of', 'all-of' or 'any-of')" },
	{ "2-of(alice,bob)x", 16, "position 16: unexpected 'x' after the end "
	    "of the policy" },
	{ "2-of(a,b),c", 10, "position 10: unexpected ',' after the end of "
	    "the policy" },
	{ "a\x01", 2, "position 2: unexpected byte 0x01 after the end of the "
	    "policy" },
	{ "2 -of(a,b)", 3, "position 3: unexpected '-' after the end of the "
	    "policy" },
	{ "2-of(alice,bob,alice)", 16, "position 16: 'alice' appears twice" },
	{ "all-of(1-of(alice,bob), 1-of(mia, bob))", 35,
	    "position 35: 'bob' appears twice" },
	{ "4-of(a,b,c)", 1, "position 1: threshold 4 exceeds 3 children" },
	{ "2-of(x, 2-of(a))", 9, "position 9: threshold 2 exceeds 1 child" },
	{ "1000-of(a)", 1, "position 1: threshold 1000 exceeds 1 child" },
	{ "99999999999999999999-of(a)", 1, "position 1: threshold "
	    "99999999999999999999 exceeds 1 child" },
	{ "0-of(a,b)", 1, "position 1: threshold must be at least 1" },
	{ "02-of(a,b)", 1, "position 1: threshold '02-of' has a leading "
	    "zero" },
	{ "2-of()", 6, "position 6: empty list after '2-of('" },
	{ "any-of( )", 9, "position 9: empty list after 'any-of('" },
	{ "2-of(a,)", 8, "position 8: expected a name or a threshold such as "
	    "'2-of(' but found ')'" },
	{ "2-of(a, -b)", 9, "position 9: expected a name or a threshold such "
	    "as '2-of(' but found '-'" },
	{ "2-of(a b)", 8, "position 8: expected ',' or ')' but found 'b'" },
	{ "2-of(a,b", 9, "position 9: expected ',' or ')' but found the end "
	    "of the policy" },
	{ "2-of(a;b)", 7, "position 7: expected ',' or ')' but found ';'" },
	{ "Alice", 1, "position 1: expected a name or a threshold such as "
	    "'2-of(' but found 'A'" },
	{ "2-of(alice,Bob)", 12, "position 12: expected a name or a threshold "
	    "such as '2-of(' but found 'B'" },
	{ "2-of(al\xc3\xaf" "ce,bob)", 8, "position 8: expected ',' or ')' but "
	    "found byte 0xc3" },
	{ "1-of(1-of(1-of(1-of(1-of(1-of(1-of(1-of(1-of(a)))))))))", 41,
	    "position 41: nesting deeper than 8" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    1, "position 1: name 'aaaaaaaaaaaaaaaaaaaaaaaa...' is longer than "
	    "64 characters" },
	{ "2-of(a,b))", 10, "position 10: unexpected ')' after the end of the "
	    "policy" },
	{ "(a,b)", 1, "position 1: expected a name or a threshold such as "
	    "'2-of(' but found '('" },
};

static void
test_grammar_errors(void **state)
{
	bg_policy_t *p;
	bg_policy_error_t err;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(errcases) / sizeof(errcases[0]); i++) {
		p = (bg_policy_t *)&err;	/* must be cleared */
		r = bg_policy_parse(errcases[i].text, &p, &err);
		if (r != BG_ERR_PARSE || err.pos != errcases[i].pos ||
		    strcmp(err.msg, errcases[i].msg) != 0)
			print_error("case %zu \"%s\": r=%d pos=%zu msg=\"%s\"\n",
			    i, errcases[i].text, r, err.pos, err.msg);
		assert_int_equal(r, BG_ERR_PARSE);
		assert_null(p);
		assert_int_equal(err.pos, errcases[i].pos);
		assert_string_equal(err.msg, errcases[i].msg);
	}
	/* err may be NULL */
	assert_int_equal(bg_policy_parse("2-of(a)", &p, NULL), BG_ERR_PARSE);
	assert_null(p);
	assert_int_equal(bg_policy_parse(NULL, &p, &err), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_policy_parse("a", NULL, &err),
	    BG_ERR_INVALID_ARG);
}

static void
test_limits(void **state)
{
	bg_policy_t *p = NULL;
	bg_policy_error_t err;
	char *text;
	size_t len, i, cap = BG_POLICY_MAX_TEXT + 64;
	char name[BG_POLICY_NAME_MAX + 2];

	(void)state;
	text = malloc(cap);
	assert_non_null(text);

	/* 8 levels deep is fine */
	assert_int_equal(bg_policy_parse(
	    "1-of(1-of(1-of(1-of(1-of(1-of(1-of(1-of(a,b))))))))", &p, &err),
	    BG_OK);
	assert_string_equal(err.msg, "");
	bg_policy_free(&p);
	assert_null(p);
	bg_policy_free(&p);	/* tolerates NULL */
	bg_policy_free(NULL);

	/* a 64-byte name is fine, with every allowed character */
	memset(name, 'z', BG_POLICY_NAME_MAX);
	memcpy(name, "0a.b_c-d", 8);
	name[BG_POLICY_NAME_MAX] = '\0';
	(void)snprintf(text, cap, "2-of(%s,b)", name);
	assert_int_equal(bg_policy_parse(text, &p, &err), BG_OK);
	assert_string_equal(bg_policy_leaf_name(p, 0), name);
	bg_policy_free(&p);

	/* 255 names are fine, 256 are not */
	len = (size_t)snprintf(text, cap, "255-of(");
	for (i = 0; i < 255; i++)
		len += (size_t)snprintf(text + len, cap - len, "%sn%zu",
		    i ? "," : "", i);
	(void)snprintf(text + len, cap - len, ")");
	assert_int_equal(bg_policy_parse(text, &p, &err), BG_OK);
	assert_int_equal(bg_policy_leaf_count(p), 255);
	assert_int_equal(bg_policy_min_people(p), 255);
	bg_policy_free(&p);
	text[len] = '\0';
	(void)snprintf(text + len, cap - len, ",extra)");
	assert_int_equal(bg_policy_parse(text, &p, &err), BG_ERR_PARSE);
	assert_int_equal(err.pos, len + 2);
	assert_non_null(strstr(err.msg, "more than 255 names"));

	/* text longer than the limit, even if it is only whitespace */
	memset(text, ' ', BG_POLICY_MAX_TEXT + 1);
	text[0] = 'a';
	text[BG_POLICY_MAX_TEXT + 1] = '\0';
	assert_int_equal(bg_policy_parse(text, &p, &err), BG_ERR_PARSE);
	assert_int_equal(err.pos, 0);
	assert_string_equal(err.msg, "policy longer than 32768 bytes");
	text[BG_POLICY_MAX_TEXT] = '\0';
	assert_int_equal(bg_policy_parse(text, &p, &err), BG_OK);
	assert_string_equal(bg_policy_canonical(p), "a");
	bg_policy_free(&p);
	free(text);
}

/* --- canonical text and hash --------------------------------------------- */

static void
put16(crypto_generichash_state *st, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	crypto_generichash_update(st, b, 2);
}

static void
put_leaf(crypto_generichash_state *st, unsigned idx, const char *name)
{
	crypto_generichash_update(st, (const uint8_t *)"L", 1);
	put16(st, idx);
	put16(st, (unsigned)strlen(name));
	crypto_generichash_update(st, (const uint8_t *)name, strlen(name));
}

static void
put_thr(crypto_generichash_state *st, unsigned k, unsigned n)
{
	crypto_generichash_update(st, (const uint8_t *)"T", 1);
	put16(st, k);
	put16(st, n);
}

static void
test_canonical_and_hash(void **state)
{
	static const char *spellings[] = {
		"all-of(1-of(alice,bob),1-of(mia))",
		"  all-of( 1-of( alice , bob ) ,\n\t1-of(mia)\r\n)  ",
		"2-of(any-of(alice,bob),all-of(mia))",
		"2-of(1-of(alice,bob),1-of(mia))",
	};
	static const char *different[] = {
		"2-of(1-of(bob,alice),1-of(mia))",
		"2-of(2-of(alice,bob),1-of(mia))",
		"1-of(1-of(alice,bob),1-of(mia))",
		"2-of(1-of(alice,bob),1-of(mio))",
		"2-of(alice,bob,mia)",
		"2-of(1-of(alice,bob),mia)",
	};
	crypto_generichash_state st;
	uint8_t want[32];
	bg_policy_t *p = NULL, *q = NULL;
	size_t i;

	(void)state;
	/* the documented encoding, computed here independently */
	crypto_generichash_init(&st, NULL, 0, 32);
	put16(&st, 20);
	crypto_generichash_update(&st, (const uint8_t *)"breakglass policy v1",
	    20);
	put_thr(&st, 2, 2);
	put_thr(&st, 1, 2);
	put_leaf(&st, 0, "alice");
	put_leaf(&st, 1, "bob");
	put_thr(&st, 1, 1);
	put_leaf(&st, 2, "mia");
	crypto_generichash_final(&st, want, 32);

	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		assert_int_equal(bg_policy_parse(spellings[i], &p, NULL),
		    BG_OK);
		assert_string_equal(bg_policy_canonical(p),
		    "2-of(1-of(alice,bob),1-of(mia))");
		assert_memory_equal(bg_policy_hash(p), want, 32);
		assert_int_equal(bg_policy_leaf_count(p), 3);
		assert_string_equal(bg_policy_leaf_name(p, 0), "alice");
		assert_string_equal(bg_policy_leaf_name(p, 1), "bob");
		assert_string_equal(bg_policy_leaf_name(p, 2), "mia");
		assert_null(bg_policy_leaf_name(p, 3));
		bg_policy_free(&p);
	}
	assert_int_equal(bg_policy_parse(spellings[0], &p, NULL), BG_OK);
	for (i = 0; i < sizeof(different) / sizeof(different[0]); i++) {
		assert_int_equal(bg_policy_parse(different[i], &q, NULL),
		    BG_OK);
		assert_memory_not_equal(bg_policy_hash(p), bg_policy_hash(q),
		    32);
		assert_string_not_equal(bg_policy_canonical(p),
		    bg_policy_canonical(q));
		bg_policy_free(&q);
	}
	bg_policy_free(&p);
}

static void
test_leaf_lookup(void **state)
{
	bg_policy_t *p = NULL;
	size_t idx = 99;

	(void)state;
	assert_int_equal(bg_policy_parse("2-of( alice , bob)", &p, NULL),
	    BG_OK);
	assert_int_equal(bg_policy_leaf_pos(p, 0), 7);
	assert_int_equal(bg_policy_leaf_pos(p, 1), 15);
	assert_int_equal(bg_policy_leaf_pos(p, 2), 0);
	assert_int_equal(bg_policy_leaf_index(p, "bob", &idx), BG_OK);
	assert_int_equal(idx, 1);
	assert_int_equal(bg_policy_leaf_index(p, "alice", &idx), BG_OK);
	assert_int_equal(idx, 0);
	assert_int_equal(bg_policy_leaf_index(p, "bo", &idx),
	    BG_ERR_NOT_FOUND);
	assert_int_equal(idx, 0);
	assert_int_equal(bg_policy_leaf_index(p, "Bob", &idx),
	    BG_ERR_NOT_FOUND);
	bg_policy_free(&p);
}

/* --- the independent reference ------------------------------------------- */

#define RMAX_KIDS	6
#define RMAX_LEAVES	6

struct rnode {
	bool		 leaf;
	unsigned	 k;
	unsigned	 n;
	struct rnode	*kid[RMAX_KIDS];
	unsigned	 idx;		/* leaf: order of appearance */
};

struct rtree {
	struct rnode	 nodes[64];
	unsigned	 nnodes;
	unsigned	 nleaves;
	const char	*names[RMAX_LEAVES];
	char		 text[1024];
	size_t		 len;
};

static uint64_t xs_state = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned bound)
{
	xs_state ^= xs_state << 13;
	xs_state ^= xs_state >> 7;
	xs_state ^= xs_state << 17;
	return (unsigned)(xs_state % bound);
}

static bool
ref_sat(const struct rnode *n, unsigned mask)
{
	unsigned i, got = 0;

	if (n->leaf)
		return (mask >> n->idx) & 1u;
	for (i = 0; i < n->n; i++)
		got += ref_sat(n->kid[i], mask) ? 1u : 0u;
	return got >= n->k;
}

/* Names of leaves the "missing" sentence must mention under mask. */
static unsigned
ref_mentioned(const struct rnode *n, unsigned mask)
{
	unsigned i, m = 0;

	if (ref_sat(n, mask))
		return 0;
	if (n->leaf)
		return 1u << n->idx;
	for (i = 0; i < n->n; i++)
		m |= ref_mentioned(n->kid[i], mask);
	return m;
}

static void
emit(struct rtree *t, const char *s)
{
	size_t n = strlen(s);

	assert_true(t->len + n < sizeof(t->text));
	memcpy(t->text + t->len, s, n + 1);
	t->len += n;
}

static void
emit_ws(struct rtree *t)
{
	static const char *ws[] = { "", "", "", " ", "  ", "\n", "\t" };

	emit(t, ws[rnd(7)]);
}

static const char *pool[] = {
	"alice", "bob", "carol", "dave", "erin", "mia", "x.y_z-9", "0ops",
};

/* A random tree over nl leaves whose text goes into t->text. */
static struct rnode *
gen(struct rtree *t, unsigned nl, unsigned depth, const char **names,
    unsigned *next)
{
	struct rnode *n;
	unsigned groups, i, left, take, maxg;
	char num[16];

	assert_true(t->nnodes < 64);
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	emit_ws(t);
	if (nl == 1 && (depth >= 3 || rnd(3) != 0)) {
		n->leaf = true;
		n->idx = t->nleaves;
		t->names[t->nleaves++] = names[(*next)++];
		emit(t, t->names[n->idx]);
		emit_ws(t);
		return n;
	}
	maxg = depth >= 3 ? nl : (nl < RMAX_KIDS ? nl : RMAX_KIDS);
	groups = 1 + rnd(maxg);
	if (depth >= 3)
		groups = nl;	/* only leaves below */
	n->n = groups;
	n->k = 1 + rnd(groups);
	if (n->k == groups && rnd(2))
		emit(t, "all-of");
	else if (n->k == 1 && rnd(2))
		emit(t, "any-of");
	else {
		(void)snprintf(num, sizeof(num), "%u-of", n->k);
		emit(t, num);
	}
	emit_ws(t);
	emit(t, "(");
	left = nl;
	for (i = 0; i < groups; i++) {
		/* leave at least one leaf for each remaining group */
		take = (i + 1 == groups) ? left :
		    1 + rnd(left - (groups - i - 1));
		left -= take;
		if (i > 0)
			emit(t, ",");
		n->kid[i] = gen(t, take, depth + 1, names, next);
	}
	emit(t, ")");
	emit_ws(t);
	return n;
}

static struct rnode *
gen_tree(struct rtree *t)
{
	const char *names[8];
	unsigned i, j, nl, next = 0;
	const char *tmp;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 8; i++)
		names[i] = pool[i];
	for (i = 7; i > 0; i--) {
		j = rnd(i + 1);
		tmp = names[i];
		names[i] = names[j];
		names[j] = tmp;
	}
	nl = 1 + rnd(RMAX_LEAVES);
	return gen(t, nl, 0, names, &next);
}

/* Does word w appear in s as a whole word? */
static bool
has_word(const char *s, const char *w)
{
	const char *p = s;
	size_t n = strlen(w);

	while ((p = strstr(p, w)) != NULL) {
		bool lb = p == s || !(p[-1] == '.' || p[-1] == '_' ||
		    p[-1] == '-' || (p[-1] >= 'a' && p[-1] <= 'z') ||
		    (p[-1] >= '0' && p[-1] <= '9'));
		char c = p[n];
		bool rb = !(c == '.' || c == '_' || c == '-' ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));

		if (lb && rb)
			return true;
		p++;
	}
	return false;
}

struct det_rng {
	uint64_t	counter;
};

static void
det_rng(void *ctx, void *buf, size_t len)
{
	struct det_rng *d = ctx;
	unsigned char seed[randombytes_SEEDBYTES] = { 0 };

	memcpy(seed, &d->counter, sizeof(d->counter));
	d->counter++;
	randombytes_buf_deterministic(buf, len, seed);
}

struct tally {
	unsigned long	trees;
	unsigned long	subsets;
	unsigned long	eval_mismatch;
	unsigned long	min_mismatch;
	unsigned long	dual_mismatch;
	unsigned long	missing_mismatch;
	unsigned long	combine_ok;
	unsigned long	combine_denied;
	unsigned long	combine_bad;
	unsigned long	canon_mismatch;
};

static void
check_tree(struct rtree *t, struct rnode *root, struct tally *ty)
{
	bg_policy_t *p = NULL, *q = NULL;
	bg_policy_error_t err;
	bool have[RMAX_LEAVES];
	unsigned mask, i, minpop = 99, pop, want_mention;
	uint8_t key[32], out[32];
	uint8_t shares[RMAX_LEAVES * 32], partial[RMAX_LEAVES * 32];
	struct det_rng d = { ty->trees };
	char *sentence = NULL, *dmsg = NULL;
	bool sat, mention_ok;
	int r;

	r = bg_policy_parse(t->text, &p, &err);
	if (r != BG_OK)
		print_error("\"%s\": %s\n", t->text, err.msg);
	assert_int_equal(r, BG_OK);
	ty->trees++;
	assert_int_equal(bg_policy_leaf_count(p), t->nleaves);
	for (i = 0; i < t->nleaves; i++)
		assert_string_equal(bg_policy_leaf_name(p, i), t->names[i]);

	/* canonical text re-parses to itself and the same hash */
	assert_int_equal(bg_policy_parse(bg_policy_canonical(p), &q, NULL),
	    BG_OK);
	if (strcmp(bg_policy_canonical(p), bg_policy_canonical(q)) != 0 ||
	    memcmp(bg_policy_hash(p), bg_policy_hash(q), 32) != 0) /* public: policy hash */
		ty->canon_mismatch++;
	bg_policy_free(&q);

	det_rng(&d, key, sizeof(key));
	assert_int_equal(bg_policy_split(p, key, shares, det_rng, &d), BG_OK);

	for (mask = 0; mask < (1u << t->nleaves); mask++) {
		ty->subsets++;
		pop = 0;
		for (i = 0; i < t->nleaves; i++) {
			have[i] = (mask >> i) & 1u;
			pop += have[i];
			/* shares not held are garbage: they must not be read */
			if (have[i])
				memcpy(partial + i * 32, shares + i * 32, 32);
			else
				memset(partial + i * 32, 0xa5, 32);
		}
		sat = ref_sat(root, mask);
		if (sat && pop < minpop)
			minpop = pop;
		if (bg_policy_satisfied(p, have) != sat) {
			ty->eval_mismatch++;
			print_error("eval mismatch: \"%s\" mask %x\n",
			    t->text, mask);
		}

		assert_int_equal(bg_policy_missing(p, have, &sentence), BG_OK);
		mention_ok = sat == (strcmp(sentence,
		    "nothing more is needed") == 0);
		want_mention = ref_mentioned(root, mask);
		for (i = 0; i < t->nleaves; i++)
			if (has_word(sentence, t->names[i]) !=
			    ((want_mention >> i) & 1u))
				mention_ok = false;
		if (!sat && strncmp(sentence, "needs ", 6) != 0)
			mention_ok = false;
		if (!mention_ok) {
			ty->missing_mismatch++;
			print_error("missing: \"%s\" mask %x: %s\n", t->text,
			    mask, sentence);
		}
		free(sentence);
		sentence = NULL;

		memset(out, 0x5a, sizeof(out));
		r = bg_policy_combine(p, have, partial, out);
		if (sat && r == BG_OK && sodium_memcmp(out, key, 32) == 0)
			ty->combine_ok++;
		else if (!sat && r == BG_ERR_DENIED &&
		    sodium_is_zero(out, sizeof(out)))
			ty->combine_denied++;
		else {
			ty->combine_bad++;
			print_error("combine: \"%s\" mask %x r=%d\n", t->text,
			    mask, r);
		}
	}
	if (bg_policy_min_people(p) != minpop)
		ty->min_mismatch++;
	r = bg_policy_check_dual(p, &dmsg);
	if ((minpop >= 2) != (r == BG_OK) ||
	    (r == BG_OK) != (dmsg == NULL) ||
	    (r != BG_OK && r != BG_ERR_DENIED))
		ty->dual_mismatch++;
	free(dmsg);
	bg_policy_free(&p);
}

/* Every flat K-of-n up to 6, then many random trees; every subset. */
static void
test_against_reference(void **state)
{
	struct rtree *t;
	struct rnode *root;
	struct tally ty;
	unsigned n, k, i, ntrees = 2500;
	char num[16];

	(void)state;
	memset(&ty, 0, sizeof(ty));
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	for (n = 1; n <= RMAX_LEAVES; n++) {
		for (k = 1; k <= n; k++) {
			memset(t, 0, sizeof(*t));
			root = &t->nodes[t->nnodes++];
			root->n = n;
			root->k = k;
			(void)snprintf(num, sizeof(num), "%u-of(", k);
			emit(t, num);
			for (i = 0; i < n; i++) {
				struct rnode *l = &t->nodes[t->nnodes++];

				l->leaf = true;
				l->idx = i;
				t->names[t->nleaves++] = pool[i];
				root->kid[i] = l;
				if (i)
					emit(t, ",");
				emit(t, pool[i]);
			}
			emit(t, ")");
			check_tree(t, root, &ty);
		}
	}
	for (i = 0; i < ntrees; i++) {
		root = gen_tree(t);
		check_tree(t, root, &ty);
	}
	free(t);
	print_message("%lu trees, %lu subsets: %lu eval, %lu min, %lu dual, "
	    "%lu missing, %lu canonical mismatches; combine %lu ok, %lu "
	    "denied, %lu bad\n", ty.trees, ty.subsets, ty.eval_mismatch,
	    ty.min_mismatch, ty.dual_mismatch, ty.missing_mismatch,
	    ty.canon_mismatch, ty.combine_ok, ty.combine_denied,
	    ty.combine_bad);
	assert_int_equal(ty.eval_mismatch, 0);
	assert_int_equal(ty.min_mismatch, 0);
	assert_int_equal(ty.dual_mismatch, 0);
	assert_int_equal(ty.missing_mismatch, 0);
	assert_int_equal(ty.canon_mismatch, 0);
	assert_int_equal(ty.combine_bad, 0);
	assert_true(ty.combine_ok > 1000 && ty.combine_denied > 1000);
}

/* --- sentences ------------------------------------------------------------ */

struct missing_case {
	const char	*policy;
	const char	*have;		/* space-separated names */
	const char	*want;
};

static const struct missing_case missing_cases[] = {
	{ "all-of(1-of(alice,bob),1-of(mia))", "",
	    "needs 1 more from: alice, bob; and 1 more from: mia" },
	{ "all-of(1-of(alice,bob),1-of(mia))", "alice",
	    "needs 1 more from: mia" },
	{ "all-of(1-of(alice,bob),1-of(mia))", "mia",
	    "needs 1 more from: alice, bob" },
	{ "all-of(1-of(alice,bob),1-of(mia))", "alice mia",
	    "nothing more is needed" },
	{ "2-of(alice,bob,carol)", "", "needs 2 more from: alice, bob, carol" },
	{ "2-of(alice,bob,carol)", "bob", "needs 1 more from: alice, carol" },
	{ "2-of(alice,bob,carol)", "bob carol", "nothing more is needed" },
	{ "2-of(1-of(a,b),1-of(c,d),e)", "",
	    "needs any 2 of: (1 more from: a, b), (1 more from: c, d), e" },
	{ "2-of(1-of(a,b),1-of(c,d),e)", "c",
	    "needs any 1 of: (1 more from: a, b), e" },
	{ "3-of(a,b,2-of(c,d,e))", "a",
	    "needs 1 more from: b; and 2 more from: c, d, e" },
	{ "3-of(a,b,2-of(c,d,e))", "a d",
	    "needs 1 more from: b; and 1 more from: c, e" },
	{ "all-of(all-of(a,b),c)", "b",
	    "needs 1 more from: c; and 1 more from: a" },
	{ "alice", "", "needs 1 more from: alice" },
};

static void
set_have(const bg_policy_t *p, const char *names, bool *have)
{
	char buf[128], *tok, *save = NULL;
	size_t idx;

	memset(have, 0, bg_policy_leaf_count(p) * sizeof(bool));
	(void)snprintf(buf, sizeof(buf), "%s", names);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_int_equal(bg_policy_leaf_index(p, tok, &idx), BG_OK);
		have[idx] = true;
	}
}

static void
test_missing_sentences(void **state)
{
	bg_policy_t *p = NULL;
	bool have[16];
	char *s = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(missing_cases) / sizeof(missing_cases[0]);
	    i++) {
		assert_int_equal(bg_policy_parse(missing_cases[i].policy, &p,
		    NULL), BG_OK);
		set_have(p, missing_cases[i].have, have);
		assert_int_equal(bg_policy_missing(p, have, &s), BG_OK);
		assert_string_equal(s, missing_cases[i].want);
		free(s);
		s = NULL;
		bg_policy_free(&p);
	}
	assert_int_equal(bg_policy_missing(NULL, have, &s),
	    BG_ERR_INVALID_ARG);
	assert_null(s);
}

/* Leaving out who cannot approve (the requester, an ended membership). */
static void
test_missing_except(void **state)
{
	static const struct {
		const char	*policy;
		const char	*have;
		const char	*cannot;
		const char	*want;
	} cases[] = {
		{ "all-of(1-of(alice,bob),1-of(mia,tom))", "", "tom",
		    "needs 1 more from: alice, bob; and 1 more from: mia" },
		{ "all-of(1-of(alice,bob),1-of(mia,tom))", "alice", "tom",
		    "needs 1 more from: mia" },
		{ "2-of(alice,bob,tom)", "", "tom",
		    "needs 2 more from: alice, bob" },
		{ "2-of(alice,bob,tom)", "bob", "tom",
		    "needs 1 more from: alice" },
		{ "2-of(1-of(a,b),1-of(c,d),e)", "", "e",
		    "needs 1 more from: a, b; and 1 more from: c, d" },
		{ "2-of(1-of(a,b),1-of(c,d),e)", "", "c d",
		    "needs 1 more from: e; and 1 more from: a, b" },
		{ "2-of(1-of(a,b),1-of(c,d),e)", "", "",
		    "needs any 2 of: (1 more from: a, b), (1 more from: c, d), "
		    "e" },
		{ "all-of(1-of(alice,bob),1-of(mia))", "alice", "mia",
		    "cannot be met: too few of the approvers it names can "
		    "still approve" },
		{ "all-of(1-of(alice,bob),1-of(mia))", "alice mia", "mia",
		    "nothing more is needed" },
	};
	bg_policy_t *p = NULL;
	bool have[16], cannot[16];
	char *s = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(bg_policy_parse(cases[i].policy, &p, NULL),
		    BG_OK);
		set_have(p, cases[i].have, have);
		set_have(p, cases[i].cannot, cannot);
		assert_int_equal(bg_policy_missing_except(p, have, cannot, &s),
		    BG_OK);
		assert_string_equal(s, cases[i].want);
		free(s);
		s = NULL;
		/* NULL leaves nobody out: the plain sentence */
		assert_int_equal(bg_policy_missing_except(p, have, NULL, &s),
		    BG_OK);
		free(s);
		s = NULL;
		bg_policy_free(&p);
	}
}

static void
test_check_dual(void **state)
{
	static const struct {
		const char	*policy;
		size_t		 min;
		const char	*msg;	/* NULL: accepted */
	} cases[] = {
		{ "2-of(alice,bob,carol)", 2, NULL },
		{ "all-of(1-of(alice,bob),1-of(mia))", 2, NULL },
		{ "3-of(a,b,2-of(c,d,e))", 4, NULL },
		{ "alice", 1, "a single approver (alice) could satisfy this "
		    "policy; breakglass requires at least two" },
		{ "1-of(alice)", 1, "a single approver (alice) could satisfy "
		    "this policy; breakglass requires at least two" },
		{ "any-of(alice,bob)", 1, "a single approver (alice or bob) "
		    "could satisfy this policy; breakglass requires at least "
		    "two" },
		{ "any-of(a,b,c)", 1, "a single approver (a, b or c) could "
		    "satisfy this policy; breakglass requires at least two" },
		{ "1-of(2-of(bob,carol),alice)", 1, "a single approver "
		    "(alice) could satisfy this policy; breakglass requires "
		    "at least two" },
		{ "2-of(1-of(a),1-of(b),all-of(c))", 2, NULL },
	};
	bg_policy_t *p = NULL;
	char *msg = NULL;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(bg_policy_parse(cases[i].policy, &p, NULL),
		    BG_OK);
		assert_int_equal(bg_policy_min_people(p), cases[i].min);
		r = bg_policy_check_dual(p, &msg);
		if (cases[i].msg == NULL) {
			assert_int_equal(r, BG_OK);
			assert_null(msg);
		} else {
			assert_int_equal(r, BG_ERR_DENIED);
			assert_string_equal(msg, cases[i].msg);
			/* msg is optional */
			assert_int_equal(bg_policy_check_dual(p, NULL),
			    BG_ERR_DENIED);
		}
		free(msg);
		msg = NULL;
		bg_policy_free(&p);
	}
}

/* --- splitting ------------------------------------------------------------ */

/*
 * The caller-scratch split is the same split: same randomness in, same
 * shares out, for nested trees too; the scratch is wiped afterwards.
 */
static void
test_split_with_scratch(void **state)
{
	static const char *const trees[] = {
		"2-of(a,b,c,d)", "all-of(1-of(a,b),c)",
		"2-of(all-of(a,b),3-of(c,d,e,f),1-of(g,h))", "1-of(a,b)",
	};
	bg_policy_t *p = NULL;
	uint8_t key[32], s1[8 * 32], s2[8 * 32], *work;
	size_t i, need;

	(void)state;
	randombytes_buf(key, sizeof(key));
	for (i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		struct det_rng d1 = { 11 }, d2 = { 11 };

		assert_int_equal(bg_policy_parse(trees[i], &p, NULL), BG_OK);
		need = bg_policy_split_work_len(p);
		assert_true(need >= 32 * 2);
		assert_non_null(work = sodium_malloc(need));
		memset(work, 0x5a, need);
		assert_int_equal(bg_policy_split(p, key, s1, det_rng, &d1),
		    BG_OK);
		assert_int_equal(bg_policy_split_with(p, key, s2, work,
		    det_rng, &d2), BG_OK);
		assert_memory_equal(s1, s2,
		    bg_policy_leaf_count(p) * BG_POLICY_SHARE_LEN);
		assert_true(sodium_is_zero(work, need));
		assert_int_equal(bg_policy_split_with(p, key, s2, NULL,
		    NULL, NULL), BG_ERR_INVALID_ARG);
		sodium_free(work);
		bg_policy_free(&p);
	}
}

/* A flat policy splits exactly like Shamir over its leaves. */
static void
test_split_structure(void **state)
{
	bg_policy_t *p = NULL;
	uint8_t key[32], shares[4 * 32], direct[4 * 32], out[32];
	struct det_rng d1 = { 7 }, d2 = { 7 };
	bool have[4] = { false, true, false, true };

	(void)state;
	randombytes_buf(key, sizeof(key));
	assert_int_equal(bg_policy_parse("2-of(a,b,c,d)", &p, NULL), BG_OK);
	assert_int_equal(bg_policy_split(p, key, shares, det_rng, &d1), BG_OK);
	assert_int_equal(bg_shamir_split(key, 32, 2, 4, direct, det_rng, &d2),
	    BG_OK);
	assert_memory_equal(shares, direct, sizeof(shares));
	assert_int_equal(bg_policy_combine(p, have, shares, out), BG_OK);
	assert_memory_equal(out, key, 32);
	bg_policy_free(&p);

	/* 1-of hands every child the node secret; all-of needs them all */
	assert_int_equal(bg_policy_parse("all-of(1-of(a,b),c)", &p, NULL),
	    BG_OK);
	assert_int_equal(bg_policy_split(p, key, shares, NULL, NULL), BG_OK);
	assert_memory_equal(shares, shares + 32, 32);
	assert_memory_not_equal(shares, key, 32);
	assert_memory_not_equal(shares + 64, key, 32);
	/* a tampered share yields a wrong key, not an error */
	have[0] = true;
	have[1] = false;
	have[2] = true;
	shares[64] ^= 1;
	assert_int_equal(bg_policy_combine(p, have, shares, out), BG_OK);
	assert_memory_not_equal(out, key, 32);
	/* refusals */
	assert_int_equal(bg_policy_split(NULL, key, shares, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_policy_combine(p, NULL, shares, out),
	    BG_ERR_INVALID_ARG);
	have[2] = false;
	assert_int_equal(bg_policy_combine(p, have, shares, out),
	    BG_ERR_DENIED);
	assert_true(sodium_is_zero(out, 32));
	bg_policy_free(&p);
}

/* The one name rule, as the store and the chain use it. */
static void
test_name_ok(void **state)
{
	char longest[BG_POLICY_NAME_MAX + 2];

	(void)state;
	assert_true(bg_policy_name_ok("alice", 5));
	assert_true(bg_policy_name_ok("0ps.team_a-1", 12));
	assert_false(bg_policy_name_ok("", 0));
	assert_false(bg_policy_name_ok(NULL, 3));
	assert_false(bg_policy_name_ok("-alice", 6));
	assert_false(bg_policy_name_ok(".a", 2));
	assert_false(bg_policy_name_ok("Alice", 5));
	assert_false(bg_policy_name_ok("al ice", 6));
	assert_false(bg_policy_name_ok("al\0ce", 5));
	memset(longest, 'a', sizeof(longest));
	assert_true(bg_policy_name_ok(longest, BG_POLICY_NAME_MAX));
	assert_false(bg_policy_name_ok(longest, BG_POLICY_NAME_MAX + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar_errors),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_canonical_and_hash),
		cmocka_unit_test(test_leaf_lookup),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_missing_sentences),
		cmocka_unit_test(test_missing_except),
		cmocka_unit_test(test_check_dual),
		cmocka_unit_test(test_split_structure),
		cmocka_unit_test(test_split_with_scratch),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
