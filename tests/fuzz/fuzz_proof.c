/*
 * libFuzzer harness for Merkle proof verification.  Arbitrary bytes are
 * decoded into a question (inclusion: index, size, a leaf of a fixed tree,
 * a root of that tree at some size; consistency: two sizes and two of its
 * roots) and a proof, either raw bytes or an honest proof of the fixed
 * tree with one edit (an element dropped, doubled, swapped, flipped,
 * appended, or the proof cut short), so that the fuzzer works near the
 * valid proofs it could never find by chance.
 *
 * Verification must never crash, and must accept only what is true of the
 * fixed tree: an accepted inclusion proof is the honest proof of that
 * leaf's own position against that root's own size (and the claimed index
 * is the leaf's when the claimed size is the root's), and an accepted
 * consistency proof is the honest proof between the two roots' own sizes.
 * A proof alone does not pin the claimed sizes: RFC 9162 verification
 * only follows the shape of the path, and e.g. leaf 5's proof in a tree
 * of 8 also "proves" leaf 17 of 20 against that same root of 8.  Callers
 * take (size, root) together from a signed tree head or a receipt; see
 * merkle.h and docs/audit-log.md.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "merkle.h"

#define HL	BG_MERKLE_HASH_LEN
#define N	37	/* leaves of the fixed tree: not a power of two */
#define MAXE	(BG_MERKLE_MAX_PROOF + 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t leaves[N][HL];
static uint8_t roots[N + 1][HL];
static bool ready;

static void
init(void)
{
	bg_merkle_array_t arr = { &leaves[0][0], N };
	uint64_t i;

	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < N; i++)
		bg_merkle_leaf_hash((const uint8_t *)&i, sizeof(i), leaves[i]);
	for (i = 0; i <= N; i++)
		if (bg_merkle_root(bg_merkle_array_get, &arr, i, roots[i]) !=
		    BG_OK)
			abort();
	ready = true;
}

/* A bounded reader: bytes past the end read as zero. */
struct in {
	const uint8_t	*p;
	size_t		 len, pos;
};

static uint8_t
get8(struct in *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

static uint64_t
get64(struct in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)get8(in) << (8 * i);
	return v;
}

/* The honest proof of the fixed tree, into p; returns its length. */
static size_t
honest(bool cons, uint64_t a, uint64_t b, uint8_t *p)
{
	bg_merkle_array_t arr = { &leaves[0][0], N };
	size_t len = 0;
	int r;

	if (cons)
		r = bg_merkle_consistency_proof(bg_merkle_array_get, &arr, a, b,
		    p, BG_MERKLE_MAX_PROOF, &len);
	else
		r = bg_merkle_inclusion_proof(bg_merkle_array_get, &arr, a, b,
		    p, BG_MERKLE_MAX_PROOF, &len);
	if (r != BG_OK)
		abort();
	return len;
}

/* One edit of an honest proof, steered by the input. */
static size_t
edit(struct in *in, uint8_t *p, size_t len)
{
	uint8_t op = get8(in), k = get8(in), v = get8(in);
	size_t i = len > 0 ? k % len : 0;

	switch (op % 7) {
	case 0:		/* unchanged */
		break;
	case 1:		/* drop element i */
		if (len > 0) {
			memmove(p + i * HL, p + (i + 1) * HL, (len - i - 1) * HL);
			len--;
		}
		break;
	case 2:		/* double element i */
		if (len > 0 && len < MAXE) {
			memmove(p + (i + 1) * HL, p + i * HL, (len - i) * HL);
			len++;
		}
		break;
	case 3:		/* swap elements i and i+1 */
		if (i + 1 < len) {
			uint8_t t[HL];

			memcpy(t, p + i * HL, HL);
			memcpy(p + i * HL, p + (i + 1) * HL, HL);
			memcpy(p + (i + 1) * HL, t, HL);
		}
		break;
	case 4:		/* flip bits of one byte */
		if (len > 0)
			p[i * HL + v % HL] ^= (uint8_t)(v | 1);
		break;
	case 5:		/* append the rest of the input as elements */
		while (len < MAXE && in->len - in->pos >= HL) {
			memcpy(p + len * HL, in->p + in->pos, HL);
			in->pos += HL;
			len++;
		}
		break;
	default:	/* cut short */
		len = len > 0 ? k % len : 0;
		break;
	}
	return len;
}

static size_t
raw(struct in *in, uint8_t *p)
{
	size_t len = 0;

	while (len < MAXE && in->len - in->pos >= HL) {
		memcpy(p + len * HL, in->p + in->pos, HL);
		in->pos += HL;
		len++;
	}
	return len;
}

static bool
same(const uint8_t *p, size_t len, const uint8_t *q, size_t qlen)
{
	return len == qlen && (len == 0 ||
	    memcmp(p, q, len * HL) == 0); /* public: proof hashes */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	uint8_t proof[MAXE * HL], want[MAXE * HL];
	uint8_t flags, pick1, pick2, base1, base2;
	uint64_t x, y;
	size_t len, wlen;
	bool cons, small, from_honest;
	int r;

	init();
	memset(proof, 0, sizeof(proof));
	flags = get8(&in);
	cons = (flags & 1) != 0;
	small = (flags & 2) != 0;
	from_honest = (flags & 4) != 0;
	x = get64(&in);
	y = get64(&in);
	if (small) {
		x %= N + 2;
		y %= N + 2;
	}
	pick1 = get8(&in);
	pick2 = get8(&in);
	base1 = get8(&in);
	base2 = get8(&in);

	if (!cons) {
		uint64_t j = pick1 % N, n = 1 + pick2 % N;

		if (from_honest) {
			uint64_t bn = 1 + base2 % N, bi = base1 % bn;

			len = honest(false, bi, bn, proof);
			len = edit(&in, proof, len);
		} else {
			len = raw(&in, proof);
		}
		r = bg_merkle_verify_inclusion(x, y, leaves[j], proof, len,
		    roots[n]);
		if (r == BG_OK) {
			/* only leaf j's own proof against its own tree; the
			 * claimed index is pinned when the claimed size is the
			 * root's true size */
			if (j >= n || (y == n && x != j))
				abort();
			wlen = honest(false, j, n, want);
			if (!same(proof, len, want, wlen))
				abort();
		} else if (r != BG_ERR_AUTH && r != BG_ERR_INVALID_ARG) {
			abort();
		}
		if (r == BG_ERR_INVALID_ARG && !(y == 0 || x >= y))
			abort();
	} else {
		uint64_t a = pick1 % (N + 1), b = pick2 % (N + 1);

		if (from_honest) {
			uint64_t bb = base2 % (N + 1), ba = base1 % (bb + 1);

			len = honest(true, ba, bb, proof);
			len = edit(&in, proof, len);
		} else {
			len = raw(&in, proof);
		}
		r = bg_merkle_verify_consistency(x, y, roots[a], roots[b],
		    len > 0 ? proof : NULL, len);
		if (r == BG_OK) {
			/* only the honest proof from a's tree to b's */
			if (a > b)
				abort();
			wlen = 0;
			if (a > 0 && a < b)
				wlen = honest(true, a, b, want);
			if (!same(proof, len, want, wlen))
				abort();
			if (x > y)
				abort();
		} else if (r != BG_ERR_AUTH && r != BG_ERR_INVALID_ARG) {
			abort();
		}
		if (r == BG_ERR_INVALID_ARG && x <= y)
			abort();
	}
	return 0;
}
