/*
 * The audit log's Merkle tree (vault/merkle.h) over N events (1,000,000;
 * 100,000 with BENCH_QUICK): build the root from the canonical entries
 * (leaf hashes computed from the entries, then bg_merkle_root streaming
 * over them), verify it (recompute and compare, plus inclusion proofs),
 * and the ratio to hashing the same entry bytes with bare SHA-256.
 */
#include <sodium.h>

#include "bench.h"
#include "breakglass/err.h"
#include "merkle.h"
#include "vault_int.h"

typedef struct entries {
	char	**e;
	size_t	 *len;
	size_t	  n;
	uint8_t	 *leaves;		/* n * 32 */
} entries_t;

/* bg_merkle_leaf_fn computing each leaf from its entry. */
static int
leaf_from_entry(void *ctx, uint64_t index, uint8_t out[BG_MERKLE_HASH_LEN])
{
	const entries_t *es = ctx;

	if (index >= es->n)
		return BG_ERR_RANGE;
	bg_merkle_leaf_hash((const uint8_t *)es->e[index], es->len[index], out);
	return BG_OK;
}

int
main(void)
{
	entries_t es;
	bg_merkle_array_t arr;
	json_t *det;
	size_t n = bench_quick() ? 100000 : 1000000, rounds = bench_rounds();
	size_t i, bytes = 0, plen = 0;
	double s_bare[BENCH_MAX_ROUNDS], s_build[BENCH_MAX_ROUNDS];
	double s_tree[BENCH_MAX_ROUNDS], s_verify[BENCH_MAX_ROUNDS], t0;
	uint8_t root[32], root2[32], h[32], proof[32 * BG_MERKLE_MAX_PROOF];
	char label[96];
	bench_stat_t bare, build;
	volatile uint8_t sink = 0;

	if (sodium_init() < 0)
		bench_die("sodium_init");
	if (rounds > 3)		/* 1M events: each round is seconds */
		rounds = 3;
	memset(&es, 0, sizeof(es));
	es.n = n;
	if ((es.e = calloc(n, sizeof(*es.e))) == NULL ||
	    (es.len = calloc(n, sizeof(*es.len))) == NULL ||
	    (es.leaves = malloc(n * 32)) == NULL)
		bench_die("out of memory");
	/* Realistic entries: the engine's canonical JSON of secret.add. */
	for (i = 0; i < n; i++) {
		det = json_pack("{s:i,s:s,s:s,s:i}", "version", 1,
		    "policy_hash", "3f1c0e8d9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
		    "policy", "2-of(p1,p2,p3,p4,p5)", "value_len", 45);
		if (det == NULL)
			bench_die("json");
		(void)snprintf(label, sizeof(label), "s%07zu", i);
		es.e[i] = bg_audit_entry((int64_t)i + 1, 1790000000 +
		    (int64_t)i, "bench", "secret.add", "t00042", label, det);
		json_decref(det);
		if (es.e[i] == NULL)
			bench_die("entry");
		es.len[i] = strlen(es.e[i]);
		bytes += es.len[i];
	}
	arr.leaves = es.leaves;
	arr.count = n;
	bench_note("audit", "%zu events, %zu bytes of canonical entries "
	    "(%.0f B each), %zu rounds", n, bytes, (double)bytes / (double)n,
	    rounds);
	for (i = 0; i < rounds; i++) {
		size_t k;

		/* bare: SHA-256 of every entry's bytes */
		t0 = bench_now();
		for (k = 0; k < n; k++) {
			crypto_hash_sha256(h, (const uint8_t *)es.e[k],
			    es.len[k]);
			sink ^= h[0];
		}
		s_bare[i] = bench_now() - t0;
		/* build: leaves from entries, streamed into the root */
		t0 = bench_now();
		if (bg_merkle_root(leaf_from_entry, &es, n, root) != BG_OK)
			bench_die("root");
		s_build[i] = bench_now() - t0;
		/* tree only, over leaf hashes already computed */
		for (k = 0; k < n; k++)
			bg_merkle_leaf_hash((const uint8_t *)es.e[k], es.len[k],
			    es.leaves + 32 * k);
		t0 = bench_now();
		if (bg_merkle_root(bg_merkle_array_get, &arr, n, root2) !=
		    BG_OK)
			bench_die("root");
		s_tree[i] = bench_now() - t0;
		/* verify: recompute from the entries and compare */
		t0 = bench_now();
		if (bg_merkle_root(leaf_from_entry, &es, n, root2) != BG_OK ||
		    memcmp(root, root2, 32) != 0) /* public: Merkle roots */
			bench_die("verify: roots differ");
		s_verify[i] = bench_now() - t0;
	}
	bare = bench_stat(s_bare, rounds);
	build = bench_stat(s_build, rounds);
	bench_fig("audit", "bare SHA-256 of the entries", bare, "s");
	bench_fig("audit", "Merkle root built from the entries", build, "s");
	bench_fig("audit", "Merkle root over precomputed leaf hashes",
	    bench_stat(s_tree, rounds), "s");
	bench_fig("audit", "verify: recompute root from entries, compare",
	    bench_stat(s_verify, rounds), "s");
	bench_fig1("audit", "ratio build / bare hash", build.med / bare.med,
	    "x");
	/* inclusion proofs: make (O(n)) once, verify (O(log n)) many */
	t0 = bench_now();
	if (bg_merkle_inclusion_proof(bg_merkle_array_get, &arr, n / 3, n,
	    proof, BG_MERKLE_MAX_PROOF, &plen) != BG_OK)
		bench_die("proof");
	bench_fig1("audit", "inclusion proof, make one",
	    (bench_now() - t0) * 1e3, "ms");
	t0 = bench_now();
	for (i = 0; i < 10000; i++)
		if (bg_merkle_verify_inclusion(n / 3, n, es.leaves +
		    32 * (n / 3), proof, plen, root) != BG_OK)
			bench_die("inclusion proof does not verify");
	bench_fig1("audit", "inclusion proof, verify one",
	    (bench_now() - t0) / 10000 * 1e6, "us");
	for (i = 0; i < n; i++)
		free(es.e[i]);
	free(es.e);
	free(es.len);
	free(es.leaves);
	(void)sink;
	return 0;
}
