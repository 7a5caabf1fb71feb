/*
 * breakglass vault: approval policies (threshold trees).
 *
 * Grammar (whitespace -- space, tab, CR, LF -- allowed between tokens):
 *
 *   policy    = node
 *   node      = threshold "(" node { "," node } ")" | name
 *   threshold = K "-of" | "all-of" | "any-of"      K: decimal, no leading 0
 *   name      = [a-z0-9][a-z0-9._-]{0,63}          case-sensitive, lower case
 *
 * A name is one approver (a "leaf").  Words shaped like a threshold
 * ("2-of", "all-of", "any-of") are reserved and never names.  Limits:
 * 1 <= K <= number of children; no empty lists; nesting at most
 * BG_POLICY_MAX_DEPTH thresholds deep; at most BG_POLICY_MAX_LEAVES names,
 * each at most once in the whole tree; text at most BG_POLICY_MAX_TEXT
 * bytes.  A bare name parses (a one-leaf policy) but check_dual refuses it.
 *
 * Canonical form: no whitespace, every threshold written as a number
 * ("all-of" over n children becomes "n-of", "any-of" becomes "1-of"),
 * children in the order written.  Example:
 *   "all-of( 1-of(alice, bob), 1-of(mia) )" -> "2-of(1-of(alice,bob),1-of(mia))"
 * Parsing the canonical text gives the same canonical text and hash.
 *
 * Leaf index: the position of the name among the names of the canonical
 * text, from 0 ("alice"=0, "bob"=1, "mia"=2 above).  Arrays indexed by leaf
 * (have_leaf, leaf_shares) use it.
 *
 * Policy hash: BLAKE2b-256 (crypto_generichash, no key) over the domain tag
 * "breakglass policy v1" and a length-prefixed pre-order encoding of the
 * tree: threshold nodes as (K, number of children), leaves as (leaf index,
 * name).  See policy.c for the byte layout.
 *
 * Secret sharing: each threshold node splits its 32-byte node secret with
 * K-of-n Shamir (shamir.h) over its n children, child i (0-based, in
 * written order) getting x = i+1; a child threshold's y bytes are its node
 * secret; a leaf's y bytes are that leaf's 32-byte share.  The root's node
 * secret is the data key.
 *
 * Errors: int-returning functions return BG_OK or a negative BG_ERR_*
 * (err.h).  Output pointers are cleared on entry and set only on success.
 * Strings returned through char ** are malloc()ed and never secret: the
 * caller frees them with free().
 */
#ifndef BG_POLICY_H
#define BG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shamir.h"

#define BG_POLICY_MAX_DEPTH	8	/* thresholds nested at most 8 deep */
#define BG_POLICY_MAX_LEAVES	255	/* names in one policy */
#define BG_POLICY_NAME_MAX	64	/* bytes in one name */
#define BG_POLICY_MAX_TEXT	32768	/* bytes of policy text */
#define BG_POLICY_HASH_LEN	32
#define BG_POLICY_SHARE_LEN	32	/* bytes of one leaf share */
#define BG_POLICY_KEY_LEN	32	/* bytes of the data key being split */
#define BG_POLICY_ERRMSG_MAX	192

typedef struct bg_policy bg_policy_t;		/* opaque, immutable once parsed */

/*
 * Why a policy was refused.  pos is the 1-based byte position in the text
 * (1 = first byte) of the offending token, 0 when the error has no position.
 * msg is one sentence; for positional errors it starts "position N: ",
 * e.g. "position 7: expected '(' after '2-of'", "position 1: threshold 4
 * exceeds 3 children", "position 12: 'bob' appears twice".
 */
typedef struct bg_policy_error {
	size_t	pos;
	char	msg[BG_POLICY_ERRMSG_MAX];
} bg_policy_error_t;

/*
 * Parse text (NUL-terminated).  On success *pp is a new policy the caller
 * frees with bg_policy_free().  err may be NULL; it is filled on
 * BG_ERR_PARSE and cleared otherwise.
 * Returns BG_OK; BG_ERR_PARSE (grammar or limits; see err); BG_ERR_NOMEM;
 * BG_ERR_INVALID_ARG (NULL text or pp).
 */
int	bg_policy_parse(const char *text, bg_policy_t **pp,
	    bg_policy_error_t *err);

/* Frees *pp, tolerates NULL, sets *pp to NULL. */
void	bg_policy_free(bg_policy_t **pp);

/* The canonical text, owned by p (valid until bg_policy_free). */
const char *bg_policy_canonical(const bg_policy_t *p);

/* The 32-byte policy hash, owned by p. */
const uint8_t *bg_policy_hash(const bg_policy_t *p);

/*
 * Whether the n bytes at s are a name of the grammar above: 1 to
 * BG_POLICY_NAME_MAX of [a-z0-9._-], a letter or digit first.  The one
 * rule for names of people, tenants and secrets, in policies, links and
 * the store alike.
 */
bool	bg_policy_name_ok(const char *s, size_t n);

/* Number of leaves (names), 1..BG_POLICY_MAX_LEAVES. */
size_t	bg_policy_leaf_count(const bg_policy_t *p);

/* Name of leaf i (owned by p), or NULL if i is out of range. */
const char *bg_policy_leaf_name(const bg_policy_t *p, size_t i);

/* 1-based byte position of leaf i's name in the text given to parse (for
 * positioned errors such as "unknown approver"), or 0 if out of range. */
size_t	bg_policy_leaf_pos(const bg_policy_t *p, size_t i);

/* Leaf index of name; BG_OK, or BG_ERR_NOT_FOUND (then *idx is 0). */
int	bg_policy_leaf_index(const bg_policy_t *p, const char *name,
	    size_t *idx);

/* The smallest number of distinct names that satisfies p (>= 1). */
size_t	bg_policy_min_people(const bg_policy_t *p);

/*
 * The dual-control floor: BG_OK if no single person can satisfy p, else
 * BG_ERR_DENIED and *msg (may be NULL) is a sentence such as "a single
 * approver (alice) could satisfy this policy; breakglass requires at least
 * two" (several names are listed as "alice or bob").  BG_ERR_NOMEM.
 */
int	bg_policy_check_dual(const bg_policy_t *p, char **msg);

/*
 * have_leaf has bg_policy_leaf_count(p) entries, indexed by leaf index:
 * true for each approver who has approved.  True if that set satisfies p.
 */
bool	bg_policy_satisfied(const bg_policy_t *p, const bool *have_leaf);

/*
 * What is still needed, in words, into *sentence, e.g.
 *   "needs 1 more from: mia"
 *   "needs 1 more from: alice, bob; and 1 more from: mia"
 *   "needs any 2 of: (1 more from: a, b), (1 more from: c, d), e"
 * or "nothing more is needed" when have_leaf satisfies p.
 * Returns BG_OK, BG_ERR_NOMEM, BG_ERR_INVALID_ARG.
 */
int	bg_policy_missing(const bg_policy_t *p, const bool *have_leaf,
	    char **sentence);
/*
 * The same, leaving out the approvers who cannot approve (cannot_leaf,
 * indexed like have_leaf; NULL: nobody), such as the request's own
 * requester or an approver whose membership ended: they are never named,
 * and a policy that only they could complete reads "cannot be met: too
 * few of the approvers it names can still approve".
 */
int	bg_policy_missing_except(const bg_policy_t *p, const bool *have_leaf,
	    const bool *cannot_leaf, char **sentence);

/*
 * Split the 32-byte key by p: leaf_shares receives leaf_count*32 bytes,
 * leaf i's share at leaf_shares + i*32 (caller's memory: sodium_malloc).
 * rng as in shamir.h (NULL: randombytes_buf); node secrets are drawn and
 * consumed in pre-order.  Every intermediate is wiped.
 * Returns BG_OK, BG_ERR_INVALID_ARG, BG_ERR_NOMEM; on failure leaf_shares
 * is zeroed.
 */
int	bg_policy_split(const bg_policy_t *p,
	    const uint8_t key[BG_POLICY_KEY_LEN], uint8_t *leaf_shares,
	    bg_rng_fn *rng, void *rng_ctx);

/*
 * The same with the caller's guarded scratch: work holds
 * bg_policy_split_work_len(p) bytes of sodium_malloc memory (NULL when
 * that is 0), wiped before return.  For callers that split many times
 * (a batch of secrets): one guarded allocation instead of one per split.
 */
size_t	bg_policy_split_work_len(const bg_policy_t *p);
int	bg_policy_split_with(const bg_policy_t *p,
	    const uint8_t key[BG_POLICY_KEY_LEN], uint8_t *leaf_shares,
	    uint8_t *work, bg_rng_fn *rng, void *rng_ctx);

/*
 * Rebuild the key from the shares of the leaves marked in have_leaf
 * (leaf_shares laid out as for split; only marked entries are read).
 * Extra shares beyond what a node needs are ignored.  Wrong or foreign
 * shares give a wrong key, caught by the value AEAD (seal.h).
 * Returns BG_OK; BG_ERR_DENIED if have_leaf does not satisfy p (key_out
 * untouched except zeroed); BG_ERR_INVALID_ARG; BG_ERR_NOMEM.
 */
int	bg_policy_combine(const bg_policy_t *p, const bool *have_leaf,
	    const uint8_t *leaf_shares, uint8_t key_out[BG_POLICY_KEY_LEN]);

/*
 * Redistribution (a re-key that never rebuilds a data key).  Rebuilding
 * is linear over GF(2^8): key = XOR over the chosen leaves of
 * coeff[i] * share_i (bytewise), coeff[i] the product of the
 * Lagrange-at-zero coefficients along leaf i's path.  So each contributor
 * of a qualified set splits coeff_i * share_i under a new policy, each
 * new holder adds up the sub-shares it receives, and the new shares
 * rebuild the same key under the new policy.
 *
 * bg_policy_coefficients: for have_leaf satisfying p, the canonical
 * minimal qualified set within it (at each threshold node the first k
 * satisfied children, recursively) in chosen (may be NULL), and each
 * chosen leaf's coefficient in coeff (leaf_count bytes; 0 for leaves not
 * chosen).  Coefficients are public: they depend on positions only.
 * BG_ERR_DENIED when have_leaf does not satisfy p.
 * bg_policy_scale: out = coeff * share.  bg_policy_share_add: acc ^= share.
 */
int	bg_policy_coefficients(const bg_policy_t *p, const bool *have_leaf,
	    uint8_t *coeff, bool *chosen);
void	bg_policy_scale(uint8_t out[BG_POLICY_SHARE_LEN], uint8_t coeff,
	    const uint8_t share[BG_POLICY_SHARE_LEN]);
void	bg_policy_share_add(uint8_t acc[BG_POLICY_SHARE_LEN],
	    const uint8_t share[BG_POLICY_SHARE_LEN]);

#endif /* BG_POLICY_H */
