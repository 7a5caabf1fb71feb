/*
 * RFC 9162 Merkle tree: roots, inclusion and consistency proofs.
 *
 * Roots are computed with a stack of perfect-subtree roots (the binary
 * decomposition of the leaf count), which is the RFC's recursive MTH
 * evaluated left to right: every leaf is hashed in once and every interior
 * node once, and memory stays at 64 hashes whatever the size.
 *
 * Proof generation walks the RFC's recursion (PATH, SUBPROOF) iteratively
 * from the top: each level contributes one subtree root, which is computed
 * from its leaves, so a proof costs O(size) hashing and O(log size) calls
 * of the subtree routine.  The elements are discovered top-down and the
 * RFC lists them bottom-up, so they are written from the end of the
 * caller's array backwards, after counting them.
 *
 * Verification is the RFC's own algorithm (2.1.3.2 and 2.1.4.2), plus an
 * explicit check that the proof has exactly the length an honest proof for
 * those sizes has.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "merkle.h"

#define HLEN	BG_MERKLE_HASH_LEN

void
bg_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[HLEN])
{
	crypto_hash_sha256_state h;
	static const uint8_t prefix = 0x00;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, &prefix, 1);
	if (len > 0)
		crypto_hash_sha256_update(&h, data, len);
	crypto_hash_sha256_final(&h, out);
}

void
bg_merkle_node_hash(const uint8_t left[HLEN], const uint8_t right[HLEN],
    uint8_t out[HLEN])
{
	crypto_hash_sha256_state h;
	static const uint8_t prefix = 0x01;

	/* The state has absorbed both inputs before out is written, so out
	 * may alias either of them. */
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, &prefix, 1);
	crypto_hash_sha256_update(&h, left, HLEN);
	crypto_hash_sha256_update(&h, right, HLEN);
	crypto_hash_sha256_final(&h, out);
}

void
bg_merkle_empty_root(uint8_t out[HLEN])
{
	crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

/* --- the accumulator ------------------------------------------------------ */

void
bg_merkle_acc_init(bg_merkle_acc_t *acc)
{
	memset(acc, 0, sizeof(*acc));
}

int
bg_merkle_acc_push(bg_merkle_acc_t *acc, const uint8_t leaf[HLEN])
{
	uint8_t h[HLEN];
	uint64_t c;
	unsigned top;

	if (acc == NULL || leaf == NULL)
		return BG_ERR_INVALID_ARG;
	if (acc->count == UINT64_MAX)
		return BG_ERR_RANGE;	/* nothing to free: plain returns */
	/* The stack holds one perfect subtree per set bit of count, largest
	 * first; adding a leaf carries through the low run of set bits. */
	top = (unsigned)__builtin_popcountll(acc->count);
	memcpy(h, leaf, HLEN);
	for (c = acc->count; (c & 1) != 0; c >>= 1) {
		top--;
		bg_merkle_node_hash(acc->stack[top], h, h);
	}
	memcpy(acc->stack[top], h, HLEN);
	acc->count++;
	return BG_OK;
}

void
bg_merkle_acc_root(const bg_merkle_acc_t *acc, uint8_t root[HLEN])
{
	unsigned top, j;

	top = (unsigned)__builtin_popcountll(acc->count);
	if (top == 0) {
		bg_merkle_empty_root(root);
		return;
	}
	/* Smaller subtrees sit on the right: fold from the top down. */
	memcpy(root, acc->stack[top - 1], HLEN);
	for (j = top - 1; j > 0; j--)
		bg_merkle_node_hash(acc->stack[j - 1], root, root);
}

int
bg_merkle_acc_resume(bg_merkle_acc_t *acc, uint64_t count,
    const uint8_t *frontier, size_t n)
{
	if (acc == NULL || (n > 0 && frontier == NULL) ||
	    n != (size_t)__builtin_popcountll(count))
		return BG_ERR_INVALID_ARG;
	bg_merkle_acc_init(acc);
	if (n > 0)
		memcpy(acc->stack, frontier, n * HLEN);
	acc->count = count;
	return BG_OK;
}

/* --- roots ------------------------------------------------------------------ */

int
bg_merkle_frontier(bg_merkle_leaf_fn *get, void *ctx, uint64_t size,
    uint8_t *out, size_t cap, size_t *np)
{
	uint64_t start = 0, len;
	size_t n = 0;
	int bit, r = BG_ERR_INTERNAL;

	if (np != NULL)
		*np = 0;
	if (get == NULL || out == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	if ((size_t)__builtin_popcountll(size) > cap)
		return BG_ERR_RANGE;
	/* one perfect subtree per set bit of size, largest first */
	for (bit = 63; bit >= 0; bit--) {
		len = (uint64_t)1 << bit;
		if ((size & len) == 0)
			continue;
		if ((r = bg_merkle_range_root(get, ctx, start, len,
		    out + n * HLEN)) != BG_OK)
			return r;
		n++;
		start += len;
	}
	*np = n;
	return BG_OK;
}

int
bg_merkle_range_root(bg_merkle_leaf_fn *get, void *ctx, uint64_t start,
    uint64_t len, uint8_t root[HLEN])
{
	bg_merkle_acc_t acc;
	uint8_t leaf[HLEN];
	uint64_t i;
	int r = BG_ERR_INTERNAL;

	if (root == NULL)
		return BG_ERR_INVALID_ARG;
	memset(root, 0, HLEN);
	if (get == NULL || len > UINT64_MAX - start) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	bg_merkle_acc_init(&acc);
	for (i = 0; i < len; i++) {
		if ((r = get(ctx, start + i, leaf)) != BG_OK)
			goto out;
		if ((r = bg_merkle_acc_push(&acc, leaf)) != BG_OK)
			goto out;
	}
	bg_merkle_acc_root(&acc, root);
	r = BG_OK;
out:
	if (r != BG_OK)
		memset(root, 0, HLEN);
	return r;
}

int
bg_merkle_root(bg_merkle_leaf_fn *get, void *ctx, uint64_t size,
    uint8_t root[HLEN])
{
	return bg_merkle_range_root(get, ctx, 0, size, root);
}

int
bg_merkle_array_get(void *ctx, uint64_t index, uint8_t out[HLEN])
{
	const bg_merkle_array_t *a = ctx;
	int r = BG_ERR_INTERNAL;

	if (a == NULL || out == NULL || (a->leaves == NULL && a->count > 0)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (index >= a->count) {
		r = BG_ERR_RANGE;
		goto out;
	}
	memcpy(out, a->leaves + (size_t)index * HLEN, HLEN);
	r = BG_OK;
out:
	return r;
}

/* --- proofs ------------------------------------------------------------------ */

/* The largest power of two strictly smaller than n, for n >= 2. */
static uint64_t
split_point(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/*
 * The RFC's PATH(index, D[0:size]) recursion, top-down.  With proof NULL
 * only counts; otherwise writes element number (len - 1 - level) at each
 * level, len being the count from an earlier pass.
 */
static int
walk_inclusion(bg_merkle_leaf_fn *get, void *ctx, uint64_t index,
    uint64_t size, uint8_t *proof, size_t len, size_t *countp)
{
	uint64_t lo = 0, hi = size, k;
	size_t n = 0;
	int r = BG_ERR_INTERNAL;

	while (hi - lo > 1) {
		k = split_point(hi - lo);
		if (proof != NULL && n >= len) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if (index - lo < k) {
			if (proof != NULL && (r = bg_merkle_range_root(get, ctx,
			    lo + k, hi - lo - k, proof + (len - 1 - n) * HLEN))
			    != BG_OK)
				goto out;
			hi = lo + k;
		} else {
			if (proof != NULL && (r = bg_merkle_range_root(get, ctx,
			    lo, k, proof + (len - 1 - n) * HLEN)) != BG_OK)
				goto out;
			lo += k;
		}
		n++;
	}
	*countp = n;
	r = BG_OK;
out:
	return r;
}

/*
 * The RFC's SUBPROOF(first, D[0:second], true) recursion, top-down, as
 * walk_inclusion().  Requires 0 < first < second.
 */
static int
walk_consistency(bg_merkle_leaf_fn *get, void *ctx, uint64_t first,
    uint64_t second, uint8_t *proof, size_t len, size_t *countp)
{
	uint64_t lo = 0, hi = second, m = first, k;
	bool whole = true;	/* the RFC's b: still on the old tree's edge */
	size_t n = 0;
	int r = BG_ERR_INTERNAL;

	for (;;) {
		if (proof != NULL && n >= len && !(m == hi - lo && whole)) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if (m == hi - lo) {
			/* The old tree's last subtree: the verifier knows its
			 * hash only if it is the whole old tree. */
			if (!whole) {
				if (proof != NULL && (r = bg_merkle_range_root(
				    get, ctx, lo, hi - lo,
				    proof + (len - 1 - n) * HLEN)) != BG_OK)
					goto out;
				n++;
			}
			break;
		}
		k = split_point(hi - lo);
		if (m <= k) {
			if (proof != NULL && (r = bg_merkle_range_root(get, ctx,
			    lo + k, hi - lo - k, proof + (len - 1 - n) * HLEN))
			    != BG_OK)
				goto out;
			hi = lo + k;
		} else {
			if (proof != NULL && (r = bg_merkle_range_root(get, ctx,
			    lo, k, proof + (len - 1 - n) * HLEN)) != BG_OK)
				goto out;
			m -= k;
			lo += k;
			whole = false;
		}
		n++;
	}
	*countp = n;
	r = BG_OK;
out:
	return r;
}

size_t
bg_merkle_inclusion_proof_len(uint64_t index, uint64_t size)
{
	size_t n = 0;

	if (size == 0 || index >= size)
		return 0;
	if (walk_inclusion(NULL, NULL, index, size, NULL, 0, &n) != BG_OK)
		return 0;
	return n;
}

size_t
bg_merkle_consistency_proof_len(uint64_t first, uint64_t second)
{
	size_t n = 0;

	if (first == 0 || first >= second)
		return 0;
	if (walk_consistency(NULL, NULL, first, second, NULL, 0, &n) != BG_OK)
		return 0;
	return n;
}

int
bg_merkle_inclusion_proof(bg_merkle_leaf_fn *get, void *ctx, uint64_t index,
    uint64_t size, uint8_t *proof, size_t cap, size_t *lenp)
{
	size_t len = 0, n = 0;
	int r = BG_ERR_INTERNAL;

	if (lenp == NULL)
		return BG_ERR_INVALID_ARG;
	*lenp = 0;
	if (proof != NULL && cap > 0)
		memset(proof, 0, cap * HLEN);
	if (get == NULL || (proof == NULL && cap > 0) || size == 0 ||
	    index >= size) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	len = bg_merkle_inclusion_proof_len(index, size);
	if (len > cap) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if (len == 0) {
		r = BG_OK;
		goto out;
	}
	if ((r = walk_inclusion(get, ctx, index, size, proof, len, &n)) !=
	    BG_OK)
		goto out;
	if (n != len) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	*lenp = len;
	r = BG_OK;
out:
	if (r != BG_OK && proof != NULL && cap > 0)
		memset(proof, 0, cap * HLEN);
	return r;
}

int
bg_merkle_consistency_proof(bg_merkle_leaf_fn *get, void *ctx,
    uint64_t first, uint64_t second, uint8_t *proof, size_t cap,
    size_t *lenp)
{
	size_t len = 0, n = 0;
	int r = BG_ERR_INTERNAL;

	if (lenp == NULL)
		return BG_ERR_INVALID_ARG;
	*lenp = 0;
	if (proof != NULL && cap > 0)
		memset(proof, 0, cap * HLEN);
	if (get == NULL || (proof == NULL && cap > 0) || first > second) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	len = bg_merkle_consistency_proof_len(first, second);
	if (len > cap) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if (len == 0) {
		r = BG_OK;
		goto out;
	}
	if ((r = walk_consistency(get, ctx, first, second, proof, len, &n)) !=
	    BG_OK)
		goto out;
	if (n != len) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	*lenp = len;
	r = BG_OK;
out:
	if (r != BG_OK && proof != NULL && cap > 0)
		memset(proof, 0, cap * HLEN);
	return r;
}

/* --- verification ------------------------------------------------------------ */

int
bg_merkle_verify_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf[HLEN], const uint8_t *proof, size_t len,
    const uint8_t root[HLEN])
{
	uint8_t h[HLEN];
	uint64_t fn, sn;
	size_t i;
	int r = BG_ERR_INTERNAL;

	if (leaf == NULL || root == NULL || (proof == NULL && len > 0) ||
	    size == 0 || index >= size) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (len != bg_merkle_inclusion_proof_len(index, size)) {
		r = BG_ERR_AUTH;
		goto out;
	}
	fn = index;
	sn = size - 1;
	memcpy(h, leaf, HLEN);
	for (i = 0; i < len; i++) {
		const uint8_t *p = proof + i * HLEN;

		if (sn == 0) {
			r = BG_ERR_AUTH;
			goto out;
		}
		if ((fn & 1) != 0 || fn == sn) {
			bg_merkle_node_hash(p, h, h);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			bg_merkle_node_hash(h, p, h);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(h, root, HLEN) != 0) { /* public: log hashes */
		r = BG_ERR_AUTH;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}

int
bg_merkle_verify_consistency(uint64_t first, uint64_t second,
    const uint8_t first_root[HLEN], const uint8_t second_root[HLEN],
    const uint8_t *proof, size_t len)
{
	uint8_t fr[HLEN], sr[HLEN], empty[HLEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t i, total;
	bool pow2;
	int r = BG_ERR_INTERNAL;

	if (first_root == NULL || second_root == NULL ||
	    (proof == NULL && len > 0) || first > second) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (first == 0) {
		/* Every tree extends the empty one; only the old root can be
		 * wrong. */
		bg_merkle_empty_root(empty);
		r = len == 0 && memcmp(first_root, empty, HLEN) == 0 ? /* public: log hashes */
		    BG_OK : BG_ERR_AUTH;
		goto out;
	}
	if (first == second) {
		r = len == 0 && memcmp(first_root, second_root, HLEN) == 0 ? /* public: log hashes */
		    BG_OK : BG_ERR_AUTH;
		goto out;
	}
	/* 1: an empty path, or one of the wrong length, cannot verify. */
	if (len == 0 || len != bg_merkle_consistency_proof_len(first, second)) {
		r = BG_ERR_AUTH;
		goto out;
	}
	/* 2: when first is a power of two the old root is the path's first
	 * element; element i of the extended path is then proof[i - 1]. */
	pow2 = (first & (first - 1)) == 0;
	total = len + (pow2 ? 1 : 0);
	/* 3, 4 */
	fn = first - 1;
	sn = second - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5 */
	c = pow2 ? first_root : proof;
	memcpy(fr, c, HLEN);
	memcpy(sr, c, HLEN);
	/* 6 */
	for (i = 1; i < total; i++) {
		c = proof + (pow2 ? i - 1 : i) * HLEN;
		if (sn == 0) {
			r = BG_ERR_AUTH;
			goto out;
		}
		if ((fn & 1) != 0 || fn == sn) {
			bg_merkle_node_hash(c, fr, fr);
			bg_merkle_node_hash(c, sr, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			bg_merkle_node_hash(sr, c, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* 7 */
	if (sn != 0 ||
	    memcmp(fr, first_root, HLEN) != 0 || /* public: log hashes */
	    memcmp(sr, second_root, HLEN) != 0) { /* public: log hashes */
		r = BG_ERR_AUTH;
		goto out;
	}
	r = BG_OK;
out:
	return r;
}
