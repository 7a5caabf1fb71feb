/*
 * The RFC 9162 Merkle tree: the published Certificate Transparency test
 * vectors (roots of sizes 0..8, inclusion and consistency proofs over the
 * eight reference leaves), a cross-check of every proof against a direct
 * transcription of the RFC's recursive definitions for every (m, n) with
 * n <= 64, and the standard corruption probes against each proof.
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
#include "merkle.h"

#define HL	BG_MERKLE_HASH_LEN
#define MAXP	BG_MERKLE_MAX_PROOF
#define BIG	64

/* --- helpers --------------------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode hex into out; returns the byte count (fails the test on junk). */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i;

	assert_int_equal(n % 2, 0);
	assert_true(n / 2 <= cap);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static void
unhex32(const char *s, uint8_t out[HL])
{
	assert_int_equal(unhex(s, out, HL), HL);
}

/* The eight reference inputs of the CT test data and their leaf hashes. */
static const char *const ct_inputs[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

/* MTH(D[0:n]) for n = 0..8. */
static const char *const ct_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ct_inclusion {
	uint64_t	 index, size;	/* index 0-based */
	size_t		 len;
	const char	*proof[3];
};

static const struct ct_inclusion ct_incl[] = {
	{ 0, 1, 0, { NULL } },
	{ 0, 8, 3, {
	    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5, 8, 3, {
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, 1, {
	    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1, 5, 3, {
	    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

struct ct_consistency {
	uint64_t	 first, second;
	size_t		 len;
	const char	*proof[3];
};

static const struct ct_consistency ct_cons[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3, {
	    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6, 8, 3, {
	    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 5, 2, {
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	{ 2, 8, 2, {
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
};

static uint8_t ct_leaves[8][HL];
static uint8_t big_leaves[BIG][HL];
static uint8_t big_roots[BIG + 1][HL];

static void
setup_leaves(void)
{
	uint8_t in[16], seed[8];
	size_t i, n;

	for (i = 0; i < 8; i++) {
		n = unhex(ct_inputs[i], in, sizeof(in));
		bg_merkle_leaf_hash(n > 0 ? in : NULL, n, ct_leaves[i]);
	}
	for (i = 0; i < BIG; i++) {
		memset(seed, 0, sizeof(seed));
		seed[0] = (uint8_t)i;
		seed[1] = (uint8_t)(i * 7);
		bg_merkle_leaf_hash(seed, 1 + i % 8, big_leaves[i]);
	}
}

/* --- a direct transcription of the RFC's recursive definitions ----------- */

static uint64_t
ref_k(uint64_t n)
{
	uint64_t k = 1;

	while (2 * k < n)
		k *= 2;
	return k;
}

static void
ref_mth(const uint8_t (*d)[HL], uint64_t n, uint8_t out[HL])
{
	uint8_t l[HL], r[HL];
	uint64_t k;

	if (n == 0) {
		crypto_hash_sha256(out, (const uint8_t *)"", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], HL);
		return;
	}
	k = ref_k(n);
	ref_mth(d, k, l);
	ref_mth(d + k, n - k, r);
	bg_merkle_node_hash(l, r, out);
}

/* PATH(m, D[n]) appended to out at *len. */
static void
ref_path(uint64_t m, const uint8_t (*d)[HL], uint64_t n, uint8_t *out,
    size_t *len)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = ref_k(n);
	if (m < k) {
		ref_path(m, d, k, out, len);
		ref_mth(d + k, n - k, out + *len * HL);
	} else {
		ref_path(m - k, d + k, n - k, out, len);
		ref_mth(d, k, out + *len * HL);
	}
	(*len)++;
}

/* SUBPROOF(m, D[n], b) appended to out at *len. */
static void
ref_subproof(uint64_t m, const uint8_t (*d)[HL], uint64_t n, bool b,
    uint8_t *out, size_t *len)
{
	uint64_t k;

	if (m == n) {
		if (!b) {
			ref_mth(d, n, out + *len * HL);
			(*len)++;
		}
		return;
	}
	k = ref_k(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, out, len);
		ref_mth(d + k, n - k, out + *len * HL);
	} else {
		ref_subproof(m - k, d + k, n - k, false, out, len);
		ref_mth(d, k, out + *len * HL);
	}
	(*len)++;
}

static void
setup_big_roots(void)
{
	uint64_t n;

	for (n = 0; n <= BIG; n++)
		ref_mth((const uint8_t (*)[HL])big_leaves, n, big_roots[n]);
}

static int
failing_get(void *ctx, uint64_t index, uint8_t out[HL])
{
	const uint64_t *bad = ctx;

	if (index == *bad)
		return BG_ERR_DB;
	memset(out, (int)index, HL);
	return BG_OK;
}

/* --- probes ----------------------------------------------------------------- */

static int
expect_incl(uint64_t index, uint64_t size)
{
	return size == 0 || index >= size ? BG_ERR_INVALID_ARG : BG_ERR_AUTH;
}

static unsigned probes_run;

/*
 * The standard corruption probes against a good inclusion proof: every
 * one must be refused, with BG_ERR_AUTH unless the question itself is
 * malformed.  all_bits flips every bit of every input (for the small
 * reference vectors); otherwise one bit per element, varying with the
 * position.
 */
static void
probe_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[HL],
    const uint8_t *proof, size_t len, const uint8_t root[HL],
    const uint8_t (*leaves)[HL], bool all_bits)
{
	uint8_t p[(MAXP + 2) * HL], l[HL], rt[HL];
	uint64_t j, s;
	size_t i, bit, nbits = all_bits ? 8 * HL : 1;

	assert_true(len <= MAXP);
	assert_int_equal(bg_merkle_verify_inclusion(index, size, leaf, proof,
	    len, root), BG_OK);
	/* wrong index: every other leaf position */
	for (j = 0; j < size + 2; j++) {
		if (j == index)
			continue;
		assert_int_equal(bg_merkle_verify_inclusion(j, size, leaf,
		    proof, len, root), expect_incl(j, size));
		probes_run++;
	}
	/* wrong height: size * 2, size / 2, size + the next power of two */
	s = size * 2;
	assert_int_equal(bg_merkle_verify_inclusion(index, s, leaf, proof, len,
	    root), expect_incl(index, s));
	s = size / 2;
	assert_int_equal(bg_merkle_verify_inclusion(index, s, leaf, proof, len,
	    root), expect_incl(index, s));
	probes_run += 2;
	/* another leaf's hash in this position */
	if (leaves != NULL) {
		for (j = 0; j < size; j++) {
			if (j == index ||
			    memcmp(leaves[j], leaf, HL) == 0) /* public: test data */
				continue;
			assert_int_equal(bg_merkle_verify_inclusion(index, size,
			    leaves[j], proof, len, root), BG_ERR_AUTH);
			probes_run++;
		}
	}
	/* flipped bits in the leaf, the root and every proof element */
	for (bit = 0; bit < nbits; bit++) {
		size_t b = all_bits ? bit : (size_t)(index * 31 + size) % (8 * HL);

		memcpy(l, leaf, HL);
		l[b / 8] ^= (uint8_t)(1u << (b % 8));
		assert_int_equal(bg_merkle_verify_inclusion(index, size, l,
		    proof, len, root), BG_ERR_AUTH);
		memcpy(rt, root, HL);
		rt[b / 8] ^= (uint8_t)(1u << (b % 8));
		assert_int_equal(bg_merkle_verify_inclusion(index, size, leaf,
		    proof, len, rt), BG_ERR_AUTH);
		probes_run += 2;
		for (i = 0; i < len; i++) {
			size_t bb = all_bits ? bit : (b + 97 * i) % (8 * HL);

			memcpy(p, proof, len * HL);
			p[i * HL + bb / 8] ^= (uint8_t)(1u << (bb % 8));
			assert_int_equal(bg_merkle_verify_inclusion(index,
			    size, leaf, p, len, root), BG_ERR_AUTH);
			probes_run++;
		}
	}
	/* truncated: every shorter prefix */
	for (i = 0; i < len; i++) {
		assert_int_equal(bg_merkle_verify_inclusion(index, size, leaf,
		    i > 0 ? proof : NULL, i, root), BG_ERR_AUTH);
		probes_run++;
	}
	/* the first element dropped */
	if (len > 0) {
		assert_int_equal(bg_merkle_verify_inclusion(index, size, leaf,
		    proof + HL, len - 1, root), BG_ERR_AUTH);
		probes_run++;
	}
	/* extra elements: zeros, the leaf, the root; at the end and front */
	{
		const uint8_t *extra[3];
		uint8_t zero[HL];

		memset(zero, 0, sizeof(zero));
		extra[0] = zero;
		extra[1] = leaf;
		extra[2] = root;
		for (i = 0; i < 3; i++) {
			if (len > 0)
				memcpy(p, proof, len * HL);
			memcpy(p + len * HL, extra[i], HL);
			assert_int_equal(bg_merkle_verify_inclusion(index,
			    size, leaf, p, len + 1, root), BG_ERR_AUTH);
			memcpy(p, extra[i], HL);
			if (len > 0)
				memcpy(p + HL, proof, len * HL);
			assert_int_equal(bg_merkle_verify_inclusion(index,
			    size, leaf, p, len + 1, root), BG_ERR_AUTH);
			probes_run += 2;
		}
	}
	/* two elements swapped */
	if (len >= 2 && memcmp(proof, proof + HL, HL) != 0) { /* public: test data */
		memcpy(p, proof, len * HL);
		memcpy(p, proof + HL, HL);
		memcpy(p + HL, proof, HL);
		assert_int_equal(bg_merkle_verify_inclusion(index, size, leaf,
		    p, len, root), BG_ERR_AUTH);
		probes_run++;
	}
}

static int
expect_cons(uint64_t first, uint64_t second)
{
	return first > second ? BG_ERR_INVALID_ARG : BG_ERR_AUTH;
}

static void
probe_consistency(uint64_t first, uint64_t second, const uint8_t r1[HL],
    const uint8_t r2[HL], const uint8_t *proof, size_t len, bool all_bits)
{
	uint8_t p[(MAXP + 2) * HL], a[HL], zero[HL];
	size_t i, bit, nbits = all_bits ? 8 * HL : 1;
	const uint8_t *extra[3];

	memset(zero, 0, sizeof(zero));
	assert_true(len <= MAXP);
	assert_int_equal(bg_merkle_verify_consistency(first, second, r1, r2,
	    proof, len), BG_OK);
	if (first == 0) {
		/* Every tree extends the empty tree: only the old root and the
		 * (empty) proof are checked. */
		assert_int_equal(bg_merkle_verify_consistency(0, second, zero,
		    r2, proof, len), BG_ERR_AUTH);
		assert_int_equal(bg_merkle_verify_consistency(0, second, r2,
		    r1, proof, len), second == 0 ? BG_OK : BG_ERR_AUTH);
		assert_int_equal(bg_merkle_verify_consistency(0, second, r1,
		    r2, r1, 1), BG_ERR_AUTH);
		probes_run += 3;
		return;
	}
	/* wrong sizes */
	if (first > 0) {
		assert_int_equal(bg_merkle_verify_consistency(first - 1,
		    second, r1, r2, proof, len), BG_ERR_AUTH);
		probes_run++;
	}
	assert_int_equal(bg_merkle_verify_consistency(first + 1, second, r1,
	    r2, proof, len), expect_cons(first + 1, second));
	assert_int_equal(bg_merkle_verify_consistency(first ^ 2, second, r1,
	    r2, proof, len), expect_cons(first ^ 2, second));
	assert_int_equal(bg_merkle_verify_consistency(first, second * 2, r1,
	    r2, proof, len), BG_ERR_AUTH);
	assert_int_equal(bg_merkle_verify_consistency(first, second / 2, r1,
	    r2, proof, len), expect_cons(first, second / 2));
	probes_run += 4;
	/* swapped and wrong roots */
	if (memcmp(r1, r2, HL) != 0) { /* public: test data */
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r2, r1, proof, len), BG_ERR_AUTH);
		probes_run++;
	}
	assert_int_equal(bg_merkle_verify_consistency(first, second, zero, r2,
	    proof, len), BG_ERR_AUTH);
	assert_int_equal(bg_merkle_verify_consistency(first, second, r1, zero,
	    proof, len), BG_ERR_AUTH);
	probes_run += 2;
	/* flipped bits */
	for (bit = 0; bit < nbits; bit++) {
		size_t b = all_bits ? bit : (size_t)(first * 29 + second) % (8 * HL);

		memcpy(a, r1, HL);
		a[b / 8] ^= (uint8_t)(1u << (b % 8));
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    a, r2, proof, len), BG_ERR_AUTH);
		memcpy(a, r2, HL);
		a[b / 8] ^= (uint8_t)(1u << (b % 8));
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r1, a, proof, len), BG_ERR_AUTH);
		probes_run += 2;
		for (i = 0; i < len; i++) {
			size_t bb = all_bits ? bit : (b + 89 * i) % (8 * HL);

			memcpy(p, proof, len * HL);
			p[i * HL + bb / 8] ^= (uint8_t)(1u << (bb % 8));
			assert_int_equal(bg_merkle_verify_consistency(first,
			    second, r1, r2, p, len), BG_ERR_AUTH);
			probes_run++;
		}
	}
	/* truncated (every shorter prefix), first element dropped */
	for (i = 0; i < len; i++) {
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r1, r2, i > 0 ? proof : NULL, i), BG_ERR_AUTH);
		probes_run++;
	}
	if (len > 0) {
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r1, r2, proof + HL, len - 1), BG_ERR_AUTH);
		probes_run++;
	}
	/* extra elements at either end: zeros, root1, root2, proof[0] */
	extra[0] = zero;
	extra[1] = r1;
	extra[2] = r2;
	for (i = 0; i < 4; i++) {
		const uint8_t *e = i < 3 ? extra[i] : proof;

		if (i == 3 && len == 0)
			break;
		if (len > 0)
			memcpy(p, proof, len * HL);
		memcpy(p + len * HL, e, HL);
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r1, r2, p, len + 1), BG_ERR_AUTH);
		memcpy(p, e, HL);
		if (len > 0)
			memcpy(p + HL, proof, len * HL);
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r1, r2, p, len + 1), BG_ERR_AUTH);
		probes_run += 2;
	}
	/* two elements swapped */
	if (len >= 2 && memcmp(proof, proof + HL, HL) != 0) { /* public: test data */
		memcpy(p, proof, len * HL);
		memcpy(p, proof + HL, HL);
		memcpy(p + HL, proof, HL);
		assert_int_equal(bg_merkle_verify_consistency(first, second,
		    r1, r2, p, len), BG_ERR_AUTH);
		probes_run++;
	}
}

/* --- tests ------------------------------------------------------------------ */

static void
test_hashes(void **state)
{
	uint8_t out[HL], want[HL], l[HL], r[HL];

	(void)state;
	bg_merkle_empty_root(out);
	unhex32(ct_roots[0], want);
	assert_memory_equal(out, want, HL);
	/* The leaf hash of the empty input is the root of size 1. */
	bg_merkle_leaf_hash(NULL, 0, out);
	unhex32(ct_roots[1], want);
	assert_memory_equal(out, want, HL);
	/* Node hash against a one-shot SHA-256(0x01 || l || r), aliased. */
	{
		uint8_t buf[1 + 2 * HL];

		memset(l, 0xaa, HL);
		memset(r, 0x55, HL);
		buf[0] = 0x01;
		memcpy(buf + 1, l, HL);
		memcpy(buf + 1 + HL, r, HL);
		crypto_hash_sha256(want, buf, sizeof(buf));
		bg_merkle_node_hash(l, r, out);
		assert_memory_equal(out, want, HL);
		bg_merkle_node_hash(l, r, l);
		assert_memory_equal(l, want, HL);
		memset(l, 0xaa, HL);
		bg_merkle_node_hash(l, r, r);
		assert_memory_equal(r, want, HL);
	}
}

static void
test_ct_roots(void **state)
{
	bg_merkle_array_t arr = { &ct_leaves[0][0], 8 };
	bg_merkle_acc_t acc;
	uint8_t out[HL], want[HL];
	uint64_t n;

	(void)state;
	bg_merkle_acc_init(&acc);
	for (n = 0; n <= 8; n++) {
		unhex32(ct_roots[n], want);
		assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, n,
		    out), BG_OK);
		assert_memory_equal(out, want, HL);
		bg_merkle_acc_root(&acc, out);
		assert_memory_equal(out, want, HL);
		ref_mth((const uint8_t (*)[HL])ct_leaves, n, out);
		assert_memory_equal(out, want, HL);
		if (n < 8)
			assert_int_equal(bg_merkle_acc_push(&acc, ct_leaves[n]),
			    BG_OK);
	}
	/* Past the end of the array: the callback's error comes back and
	 * the root is cleared. */
	memset(out, 0xff, HL);
	assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, 9, out),
	    BG_ERR_RANGE);
	memset(want, 0, HL);
	assert_memory_equal(out, want, HL);
}

static void
test_ct_inclusion(void **state)
{
	bg_merkle_array_t arr = { &ct_leaves[0][0], 8 };
	uint8_t proof[MAXP * HL], want[3 * HL], root[HL];
	size_t t, i, len;

	(void)state;
	for (t = 0; t < sizeof(ct_incl) / sizeof(ct_incl[0]); t++) {
		const struct ct_inclusion *v = &ct_incl[t];

		for (i = 0; i < v->len; i++)
			unhex32(v->proof[i], want + i * HL);
		assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get,
		    &arr, v->index, v->size, proof, MAXP, &len), BG_OK);
		assert_int_equal(len, v->len);
		assert_int_equal(bg_merkle_inclusion_proof_len(v->index,
		    v->size), v->len);
		if (len > 0)
			assert_memory_equal(proof, want, len * HL);
		unhex32(ct_roots[v->size], root);
		probe_inclusion(v->index, v->size, ct_leaves[v->index], want,
		    v->len, root, (const uint8_t (*)[HL])ct_leaves, true);
	}
}

static void
test_ct_consistency(void **state)
{
	bg_merkle_array_t arr = { &ct_leaves[0][0], 8 };
	uint8_t proof[MAXP * HL], want[3 * HL], r1[HL], r2[HL];
	size_t t, i, len;

	(void)state;
	for (t = 0; t < sizeof(ct_cons) / sizeof(ct_cons[0]); t++) {
		const struct ct_consistency *v = &ct_cons[t];

		for (i = 0; i < v->len; i++)
			unhex32(v->proof[i], want + i * HL);
		assert_int_equal(bg_merkle_consistency_proof(
		    bg_merkle_array_get, &arr, v->first, v->second, proof,
		    MAXP, &len), BG_OK);
		assert_int_equal(len, v->len);
		assert_int_equal(bg_merkle_consistency_proof_len(v->first,
		    v->second), v->len);
		if (len > 0)
			assert_memory_equal(proof, want, len * HL);
		unhex32(ct_roots[v->first], r1);
		unhex32(ct_roots[v->second], r2);
		probe_consistency(v->first, v->second, r1, r2, want, v->len,
		    true);
	}
	/* All pairs over the reference leaves, against the published roots. */
	{
		uint64_t m, n;

		for (n = 0; n <= 8; n++)
			for (m = 0; m <= n; m++) {
				assert_int_equal(bg_merkle_consistency_proof(
				    bg_merkle_array_get, &arr, m, n, proof,
				    MAXP, &len), BG_OK);
				unhex32(ct_roots[m], r1);
				unhex32(ct_roots[n], r2);
				assert_int_equal(bg_merkle_verify_consistency(
				    m, n, r1, r2, len > 0 ? proof : NULL, len),
				    BG_OK);
			}
	}
}

static void
test_sweep_roots(void **state)
{
	bg_merkle_array_t arr = { &big_leaves[0][0], BIG };
	bg_merkle_acc_t acc;
	uint8_t out[HL];
	uint64_t n, s;

	(void)state;
	bg_merkle_acc_init(&acc);
	for (n = 0; n <= BIG; n++) {
		assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, n,
		    out), BG_OK);
		assert_memory_equal(out, big_roots[n], HL);
		bg_merkle_acc_root(&acc, out);
		assert_memory_equal(out, big_roots[n], HL);
		if (n < BIG)
			assert_int_equal(bg_merkle_acc_push(&acc, big_leaves[n]),
			    BG_OK);
		/* any run of leaves, against the reference */
		for (s = 0; s + n <= BIG && n <= 16; s++) {
			uint8_t want[HL];

			ref_mth((const uint8_t (*)[HL])big_leaves + s, n, want);
			assert_int_equal(bg_merkle_range_root(
			    bg_merkle_array_get, &arr, s, n, out), BG_OK);
			assert_memory_equal(out, want, HL);
		}
	}
	/* Distinct sizes have distinct roots. */
	for (n = 1; n <= BIG; n++)
		assert_memory_not_equal(big_roots[n], big_roots[n - 1], HL);
}

/* A frontier at m, resumed and pushed on to n, gives the root of n; a
 * frontier of the wrong length is refused. */
static void
test_sweep_frontier(void **state)
{
	bg_merkle_array_t arr = { &big_leaves[0][0], BIG };
	bg_merkle_acc_t acc;
	uint8_t fr[64 * HL], out[HL];
	uint64_t m, n;
	size_t nf = 0;

	(void)state;
	for (m = 0; m <= BIG; m++) {
		assert_int_equal(bg_merkle_frontier(bg_merkle_array_get, &arr,
		    m, fr, 64, &nf), BG_OK);
		assert_int_equal(nf, (size_t)__builtin_popcountll(m));
		assert_int_equal(bg_merkle_acc_resume(&acc, m, fr, nf), BG_OK);
		bg_merkle_acc_root(&acc, out);
		assert_memory_equal(out, big_roots[m], HL);
		for (n = m; n < BIG; n++) {
			assert_int_equal(bg_merkle_acc_push(&acc, big_leaves[n]),
			    BG_OK);
			bg_merkle_acc_root(&acc, out);
			assert_memory_equal(out, big_roots[n + 1], HL);
		}
		assert_int_equal(bg_merkle_acc_resume(&acc, m, fr, nf + 1),
		    BG_ERR_INVALID_ARG);
	}
	assert_int_equal(bg_merkle_frontier(bg_merkle_array_get, &arr, 7, fr,
	    2, &nf), BG_ERR_RANGE);
}

static void
test_sweep_inclusion(void **state)
{
	bg_merkle_array_t arr = { &big_leaves[0][0], BIG };
	uint8_t proof[MAXP * HL], want[MAXP * HL];
	uint64_t m, n;
	size_t len, wlen;
	unsigned count = 0;

	(void)state;
	probes_run = 0;
	for (n = 1; n <= BIG; n++) {
		for (m = 0; m < n; m++) {
			assert_int_equal(bg_merkle_inclusion_proof(
			    bg_merkle_array_get, &arr, m, n, proof, MAXP, &len),
			    BG_OK);
			wlen = 0;
			ref_path(m, (const uint8_t (*)[HL])big_leaves, n, want,
			    &wlen);
			assert_int_equal(len, wlen);
			if (len > 0)
				assert_memory_equal(proof, want, len * HL);
			probe_inclusion(m, n, big_leaves[m], proof, len,
			    big_roots[n], (const uint8_t (*)[HL])big_leaves,
			    false);
			count++;
		}
	}
	assert_int_equal(count, BIG * (BIG + 1) / 2);
	assert_true(probes_run > 100000);
}

static void
test_sweep_consistency(void **state)
{
	bg_merkle_array_t arr = { &big_leaves[0][0], BIG };
	uint8_t proof[MAXP * HL], want[MAXP * HL];
	uint64_t m, n;
	size_t len, wlen;
	unsigned count = 0;

	(void)state;
	probes_run = 0;
	for (n = 0; n <= BIG; n++) {
		for (m = 0; m <= n; m++) {
			assert_int_equal(bg_merkle_consistency_proof(
			    bg_merkle_array_get, &arr, m, n, proof, MAXP, &len),
			    BG_OK);
			wlen = 0;
			if (m > 0 && m < n)
				ref_subproof(m, (const uint8_t (*)[HL])big_leaves,
				    n, true, want, &wlen);
			assert_int_equal(len, wlen);
			if (len > 0)
				assert_memory_equal(proof, want, len * HL);
			probe_consistency(m, n, big_roots[m], big_roots[n],
			    proof, len, false);
			/* A different old tree of the same size does not
			 * extend into this one. */
			if (m > 0 && m < n) {
				uint8_t other[HL];

				memcpy(other, big_roots[m], HL);
				other[HL - 1] ^= 0x80;
				assert_int_equal(bg_merkle_verify_consistency(
				    m, n, other, big_roots[n], proof, len),
				    BG_ERR_AUTH);
			}
			count++;
		}
	}
	assert_int_equal(count, (BIG + 1) * (BIG + 2) / 2);
	assert_true(probes_run > 10000);
}

/* An edited leaf changes every root from its position on, and the old
 * roots no longer extend into the new ones. */
static void
test_tamper(void **state)
{
	uint8_t copy[BIG][HL], r_old[HL], r_new[HL], proof[MAXP * HL];
	bg_merkle_array_t arr = { &copy[0][0], BIG };
	size_t len;

	(void)state;
	memcpy(copy, big_leaves, sizeof(copy));
	copy[20][5] ^= 1;
	/* roots before the edit are unchanged, from it on they differ */
	assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, 20, r_old),
	    BG_OK);
	assert_memory_equal(r_old, big_roots[20], HL);
	assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, 21, r_old),
	    BG_OK);
	assert_memory_not_equal(r_old, big_roots[21], HL);
	/* the tampered log's own proof from 30 to 64 does not connect the
	 * honest root at 30 */
	assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, 64, r_new),
	    BG_OK);
	assert_int_equal(bg_merkle_consistency_proof(bg_merkle_array_get, &arr,
	    30, 64, proof, MAXP, &len), BG_OK);
	assert_int_equal(bg_merkle_verify_consistency(30, 64, big_roots[30],
	    r_new, proof, len), BG_ERR_AUTH);
	/* truncation: the honest root at 64 is not the root at 63 */
	assert_int_equal(bg_merkle_verify_consistency(63, 63, big_roots[64],
	    big_roots[63], NULL, 0), BG_ERR_AUTH);
}

static void
test_bad_args(void **state)
{
	bg_merkle_array_t arr = { &big_leaves[0][0], BIG };
	uint8_t proof[MAXP * HL], root[HL], zero[HL];
	uint64_t bad = 5;
	size_t len = 99;

	(void)state;
	memset(zero, 0, sizeof(zero));
	/* verification: malformed questions */
	assert_int_equal(bg_merkle_verify_inclusion(0, 0, big_leaves[0], NULL,
	    0, big_roots[0]), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_inclusion(3, 3, big_leaves[0], NULL,
	    0, big_roots[3]), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_inclusion(0, 1, NULL, NULL, 0,
	    big_roots[1]), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_inclusion(0, 1, big_leaves[0], NULL,
	    0, NULL), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_inclusion(0, 2, big_leaves[0], NULL,
	    1, big_roots[2]), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_inclusion(0, 1, big_leaves[0], NULL,
	    0, big_roots[1]), BG_OK);
	assert_int_equal(bg_merkle_verify_consistency(5, 4, big_roots[5],
	    big_roots[4], NULL, 0), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_consistency(1, 4, NULL,
	    big_roots[4], NULL, 0), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_consistency(1, 4, big_roots[1],
	    NULL, NULL, 0), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_verify_consistency(1, 4, big_roots[1],
	    big_roots[4], NULL, 2), BG_ERR_INVALID_ARG);
	/* the trivial consistency cases */
	assert_int_equal(bg_merkle_verify_consistency(0, 0, big_roots[0],
	    big_roots[0], NULL, 0), BG_OK);
	assert_int_equal(bg_merkle_verify_consistency(0, 9, big_roots[0],
	    zero, NULL, 0), BG_OK);
	assert_int_equal(bg_merkle_verify_consistency(0, 9, zero, zero, NULL,
	    0), BG_ERR_AUTH);
	assert_int_equal(bg_merkle_verify_consistency(0, 9, big_roots[0],
	    zero, zero, 1), BG_ERR_AUTH);
	assert_int_equal(bg_merkle_verify_consistency(7, 7, big_roots[7],
	    big_roots[7], NULL, 0), BG_OK);
	assert_int_equal(bg_merkle_verify_consistency(7, 7, big_roots[7],
	    big_roots[7], big_roots[7], 1), BG_ERR_AUTH);
	/* generation: malformed questions, short buffers, failing source */
	assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get, &arr,
	    4, 4, proof, MAXP, &len), BG_ERR_INVALID_ARG);
	assert_int_equal(len, 0);
	assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get, &arr,
	    0, 0, proof, MAXP, &len), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_inclusion_proof(NULL, &arr, 0, 4, proof,
	    MAXP, &len), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get, &arr,
	    0, 4, proof, MAXP, NULL), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get, &arr,
	    0, 64, proof, 5, &len), BG_ERR_RANGE);
	assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get, &arr,
	    0, 1, NULL, 0, &len), BG_OK);
	assert_int_equal(len, 0);
	assert_int_equal(bg_merkle_consistency_proof(bg_merkle_array_get, &arr,
	    5, 4, proof, MAXP, &len), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_consistency_proof(bg_merkle_array_get, &arr,
	    3, 64, proof, 2, &len), BG_ERR_RANGE);
	assert_int_equal(bg_merkle_inclusion_proof(bg_merkle_array_get, &arr,
	    0, 65, proof, MAXP, &len), BG_ERR_RANGE);
	assert_int_equal(len, 0);
	assert_int_equal(bg_merkle_inclusion_proof(failing_get, &bad, 0, 16,
	    proof, MAXP, &len), BG_ERR_DB);
	assert_int_equal(len, 0);
	assert_int_equal(bg_merkle_consistency_proof(failing_get, &bad, 3, 16,
	    proof, MAXP, &len), BG_ERR_DB);
	assert_int_equal(bg_merkle_root(failing_get, &bad, 16, root),
	    BG_ERR_DB);
	assert_memory_equal(root, zero, HL);
	assert_int_equal(bg_merkle_root(failing_get, &bad, 5, root), BG_OK);
	assert_int_equal(bg_merkle_range_root(bg_merkle_array_get, &arr, 1,
	    UINT64_MAX, root), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_merkle_root(NULL, &arr, 1, root),
	    BG_ERR_INVALID_ARG);
}

/* Proof lengths stay within BG_MERKLE_MAX_PROOF for the largest sizes,
 * and the accumulator refuses to overflow its count. */
static void
test_limits(void **state)
{
	bg_merkle_acc_t acc;
	uint64_t sizes[] = { UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63,
	    ((uint64_t)1 << 63) + 1, INT64_MAX };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];
		uint64_t ms[] = { 0, 1, n / 2, n / 3, n - 2, n - 1 };

		for (j = 0; j < sizeof(ms) / sizeof(ms[0]); j++) {
			size_t a = bg_merkle_inclusion_proof_len(ms[j], n);
			size_t b = bg_merkle_consistency_proof_len(ms[j], n);

			assert_true(a >= 1 && a <= 64);
			assert_true(b <= BG_MERKLE_MAX_PROOF);
			assert_true(ms[j] == 0 || b >= 1);
		}
	}
	assert_int_equal(bg_merkle_inclusion_proof_len(0, 1), 0);
	assert_int_equal(bg_merkle_inclusion_proof_len(1, 1), 0);
	assert_int_equal(bg_merkle_consistency_proof_len(3, 3), 0);
	bg_merkle_acc_init(&acc);
	acc.count = UINT64_MAX;	/* poke the private count: 2^64 - 1 leaves */
	assert_int_equal(bg_merkle_acc_push(&acc, big_leaves[0]), BG_ERR_RANGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_ct_roots),
		cmocka_unit_test(test_ct_inclusion),
		cmocka_unit_test(test_ct_consistency),
		cmocka_unit_test(test_sweep_roots),
		cmocka_unit_test(test_sweep_frontier),
		cmocka_unit_test(test_sweep_inclusion),
		cmocka_unit_test(test_sweep_consistency),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_limits),
	};

	if (sodium_init() < 0)
		return 1;
	setup_leaves();
	setup_big_roots();
	return cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
}
