/*
 * breakglass vault: the Merkle tree of the audit log, exactly as RFC 9162
 * section 2.1 (Certificate Transparency v2) defines it, with SHA-256:
 *
 *   MTH({})        = SHA-256()                      (the empty string)
 *   leaf hash      = SHA-256(0x00 || d)
 *   node hash      = SHA-256(0x01 || left || right)
 *   MTH(D[n])      = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power
 *                    of two smaller than n
 *
 * The audit log's leaves are the canonical JSON entries of its events
 * (vault/audit.c); this module sees only their 32-byte leaf hashes, which
 * the caller hands out one at a time through a bg_merkle_leaf_fn so that
 * they can be streamed from SQLite rather than held in memory.
 *
 * Everything here is public data (hashes of a log anyone with the file can
 * read): plain memcmp is fine and nothing is wiped.
 *
 * Proofs are flat byte arrays: element i is proof[32*i .. 32*i+31], in the
 * order of RFC 9162 (the inclusion path from the leaf upwards; the
 * consistency path as SUBPROOF emits it).  No proof for tree sizes below
 * 2^64 is longer than BG_MERKLE_MAX_PROOF elements.
 *
 * Sizes and roots go together.  A proof is checked against the shape of
 * the tree that the claimed sizes give, and different sizes can share a
 * path's shape: leaf 5's inclusion proof in the tree of 8 leaves also
 * verifies as "leaf 17 of 20" against that same root of 8.  So a verifier
 * must take a root together with its size from one authenticated source
 * (a signed tree head, a receipt), never a size from one place and a root
 * from another; with the root's true size, index and proof are pinned.
 *
 * Every int-returning function returns BG_OK or a negative BG_ERR_* code
 * (include/breakglass/err.h).  Verifiers return BG_ERR_AUTH when the proof
 * does not verify and BG_ERR_INVALID_ARG when the question itself is
 * malformed (NULL pointers, index >= size, size 0, first > second).
 */
#ifndef BG_MERKLE_H
#define BG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define BG_MERKLE_HASH_LEN	32	/* SHA-256 */
#define BG_MERKLE_MAX_PROOF	66	/* elements; ceil(log2(2^64)) + 2 */

/*
 * Write the leaf hash of leaf number index (0-based) to out.  Return BG_OK,
 * or an error code that the calling function passes on unchanged (say
 * BG_ERR_DB when a row cannot be read).  Called with indexes in increasing
 * order within one subtree, each at most once per subtree computation.
 */
typedef int bg_merkle_leaf_fn(void *ctx, uint64_t index,
    uint8_t out[BG_MERKLE_HASH_LEN]);

/* SHA-256(0x00 || data); data may be NULL when len is 0. */
void	bg_merkle_leaf_hash(const uint8_t *data, size_t len,
	    uint8_t out[BG_MERKLE_HASH_LEN]);

/* SHA-256(0x01 || left || right); out may alias left or right. */
void	bg_merkle_node_hash(const uint8_t left[BG_MERKLE_HASH_LEN],
	    const uint8_t right[BG_MERKLE_HASH_LEN],
	    uint8_t out[BG_MERKLE_HASH_LEN]);

/* MTH of the empty tree: SHA-256 of the empty string. */
void	bg_merkle_empty_root(uint8_t out[BG_MERKLE_HASH_LEN]);

/*
 * MTH(D[0:size]): the root of the first size leaves (size 0 gives the
 * empty root).  O(size) hashing, O(log size) memory, get called once per
 * leaf in order.  A root at an older size is the same call with the older
 * size.  root is zeroed on failure.
 *
 * Returns BG_OK; BG_ERR_INVALID_ARG (NULL get or root); whatever get
 * returned.
 */
int	bg_merkle_root(bg_merkle_leaf_fn *get, void *ctx, uint64_t size,
	    uint8_t root[BG_MERKLE_HASH_LEN]);

/* MTH(D[start:start+len]) of any run of leaves, as bg_merkle_root(). */
int	bg_merkle_range_root(bg_merkle_leaf_fn *get, void *ctx,
	    uint64_t start, uint64_t len, uint8_t root[BG_MERKLE_HASH_LEN]);

/*
 * A bg_merkle_leaf_fn over an array of leaf hashes in memory: ctx is a
 * const bg_merkle_array_t *.  Index past count is BG_ERR_RANGE.
 */
typedef struct bg_merkle_array {
	const uint8_t	*leaves;	/* count * 32 bytes */
	uint64_t	 count;
} bg_merkle_array_t;
int	bg_merkle_array_get(void *ctx, uint64_t index,
	    uint8_t out[BG_MERKLE_HASH_LEN]);

/*
 * Incremental root: push leaf hashes in order, ask for the root of what
 * was pushed so far at any time.  O(1) amortised per push, fixed memory.
 * The struct is a value type only so that it can live on the stack: treat
 * its members as private.
 */
typedef struct bg_merkle_acc {
	uint64_t	count;
	uint8_t		stack[64][BG_MERKLE_HASH_LEN];
} bg_merkle_acc_t;
void	bg_merkle_acc_init(bg_merkle_acc_t *acc);
/* BG_ERR_RANGE once 2^64 - 1 leaves were pushed. */
int	bg_merkle_acc_push(bg_merkle_acc_t *acc,
	    const uint8_t leaf[BG_MERKLE_HASH_LEN]);
void	bg_merkle_acc_root(const bg_merkle_acc_t *acc,
	    uint8_t root[BG_MERKLE_HASH_LEN]);
/*
 * Resume an accumulator at count leaves from the tree's frontier: the
 * roots of its perfect subtrees, largest (leftmost) first, one per set
 * bit of count (n must be popcount(count)).  A frontier is not checked
 * here: fold it (bg_merkle_acc_root) and compare with a root of count
 * leaves from an authenticated source before trusting what follows.
 * BG_ERR_INVALID_ARG when n does not fit count.
 */
int	bg_merkle_acc_resume(bg_merkle_acc_t *acc, uint64_t count,
	    const uint8_t *frontier, size_t n);
/* The frontier of the first size leaves into out (room for cap hashes,
 * 64 always enough); *np gets popcount(size).  O(size) hashing. */
int	bg_merkle_frontier(bg_merkle_leaf_fn *get, void *ctx, uint64_t size,
	    uint8_t *out, size_t cap, size_t *np);

/*
 * Inclusion proof PATH(index, D[0:size]) (RFC 9162 2.1.3.1) into proof
 * (room for cap elements); *lenp receives the number of elements.
 * O(size) hashing: each element is one subtree root.
 *
 * Returns BG_OK; BG_ERR_INVALID_ARG (NULL pointer, size 0,
 * index >= size); BG_ERR_RANGE (cap too small; BG_MERKLE_MAX_PROOF is
 * always enough); whatever get returned.  On failure *lenp is 0 and proof
 * is zeroed up to cap.
 */
int	bg_merkle_inclusion_proof(bg_merkle_leaf_fn *get, void *ctx,
	    uint64_t index, uint64_t size, uint8_t *proof, size_t cap,
	    size_t *lenp);

/*
 * Consistency proof PROOF(first, D[0:second]) (RFC 9162 2.1.4.1) into
 * proof, as above.  first == second and first == 0 give the empty proof
 * (the RFC defines PROOF only for 0 < first < second; these two cases are
 * trivially consistent and bg_merkle_verify_consistency() accepts them
 * only with an empty proof).
 *
 * Returns BG_OK; BG_ERR_INVALID_ARG (NULL pointer, first > second);
 * BG_ERR_RANGE (cap too small); whatever get returned.
 */
int	bg_merkle_consistency_proof(bg_merkle_leaf_fn *get, void *ctx,
	    uint64_t first, uint64_t second, uint8_t *proof, size_t cap,
	    size_t *lenp);

/* The number of elements an honest proof has: O(log size). */
size_t	bg_merkle_inclusion_proof_len(uint64_t index, uint64_t size);
size_t	bg_merkle_consistency_proof_len(uint64_t first, uint64_t second);

/*
 * Verify that leaf (a leaf hash) is leaf number index of the tree of size
 * leaves whose root is root, given the inclusion proof of len elements
 * (RFC 9162 2.1.3.2).  proof may be NULL when len is 0.
 *
 * Returns BG_OK if it verifies; BG_ERR_AUTH if it does not (wrong leaf,
 * index, size, root or proof; a proof element too many or too few);
 * BG_ERR_INVALID_ARG for NULL pointers, size 0 or index >= size.
 */
int	bg_merkle_verify_inclusion(uint64_t index, uint64_t size,
	    const uint8_t leaf[BG_MERKLE_HASH_LEN], const uint8_t *proof,
	    size_t len, const uint8_t root[BG_MERKLE_HASH_LEN])
	    __attribute__((warn_unused_result));

/*
 * Verify that the tree of second leaves with root second_root extends the
 * tree of first leaves with root first_root, given the consistency proof of
 * len elements (RFC 9162 2.1.4.2).  first == second verifies when the
 * proof is empty and the roots are equal; first == 0 when the proof is
 * empty and first_root is the empty root.
 *
 * Returns BG_OK if it verifies; BG_ERR_AUTH if it does not;
 * BG_ERR_INVALID_ARG for NULL pointers or first > second.
 */
int	bg_merkle_verify_consistency(uint64_t first, uint64_t second,
	    const uint8_t first_root[BG_MERKLE_HASH_LEN],
	    const uint8_t second_root[BG_MERKLE_HASH_LEN],
	    const uint8_t *proof, size_t len)
	    __attribute__((warn_unused_result));

#endif /* BG_MERKLE_H */
