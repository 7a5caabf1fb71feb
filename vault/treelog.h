/*
 * Internal to libbgvault: the audit log as an RFC 9162 transparency log
 * (treelog.c), and the vault's Ed25519 signing key.  Not a public header.
 *
 * The events table holds the leaves (events.leaf = SHA-256(0x00 || entry),
 * leaf index i is seq i+1).  tree_state keeps the compact range (frontier)
 * of the whole log, so appending is O(log n); tree_heads keeps one signed
 * tree head per committed state change.  docs/audit-log.md has the why.
 *
 * The signing key lives in its own file, "<vault path>.key" (mode 0600,
 * never inside the SQLite file), and is read into sodium_malloc memory
 * only for the duration of one signature.  Its public key is pinned in the
 * vault's meta table ("log_public_key", 64 hex digits).
 *
 * Every int-returning function returns BG_OK or a negative BG_ERR_* code,
 * with a sentence in the vault's errmsg.
 */
#ifndef BG_TREELOG_H
#define BG_TREELOG_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "treehead.h"
#include "vault_int.h"

#define BG_TREELOG_KEY_SUFFIX	".key"

/*
 * Sign msg with the vault's Ed25519 key (plain crypto_sign_detached; the
 * caller prefixes its own domain-separation string).  Creates the key on
 * first use in a vault that has none yet (new vault, or one migrated from
 * schema 1).  BG_ERR_NOT_FOUND when the vault has a pinned public key but
 * the key file is missing; BG_ERR_AUTH when the key file does not match the
 * pinned public key; BG_ERR_IO.  Works inside or outside a transaction.
 */
int bg_vault_sign(bg_vault_t *v, const uint8_t *msg, size_t len,
    uint8_t sig[64]);

/*
 * The vault's Ed25519 public key (as pinned in meta).  Creates the key
 * pair when the vault has none yet, as bg_vault_sign().
 */
int bg_vault_public_key(bg_vault_t *v, uint8_t pk[32]);

/* The pinned public key without creating one: BG_ERR_NOT_FOUND if none. */
int bg_treelog_pinned_key(bg_vault_t *v, uint8_t pk[32]);

/* "<path>.key" into buf; BG_ERR_RANGE when it does not fit. */
int bg_treelog_key_path(const char *path, char *buf, size_t cap);

/*
 * A bg_merkle_leaf_fn over the events table: ctx is a bg_treelog_cursor_t
 * set up with bg_treelog_cursor_init() and released with _done().  Reads
 * in seq order with one statement; jumps re-query.  BG_ERR_RANGE past the
 * last event.
 */
typedef struct bg_treelog_cursor {
	bg_vault_t	*v;
	sqlite3_stmt	*st;
	uint64_t	 next;		/* index the statement yields next */
} bg_treelog_cursor_t;
void bg_treelog_cursor_init(bg_treelog_cursor_t *c, bg_vault_t *v);
void bg_treelog_cursor_done(bg_treelog_cursor_t *c);
int bg_treelog_leaf_get(void *ctx, uint64_t index,
    uint8_t out[BG_MERKLE_HASH_LEN]);

/* Number of events (the tree size). */
int bg_treelog_size(bg_vault_t *v, uint64_t *sizep);

/*
 * The root of the first size events.  The current size comes from the
 * stored frontier (O(log n)); older sizes stream the leaves (O(size)).
 * BG_ERR_RANGE when size is larger than the log.
 */
int bg_treelog_root(bg_vault_t *v, uint64_t size,
    uint8_t root[BG_MERKLE_HASH_LEN]);

/*
 * Before the first event a transaction appends (bg_audit_append): the
 * stored log must extend the newest signed tree head, so that the vault
 * never signs a head over a history that contradicts one it signed
 * before.  O(log n) when the stored tree state is at the head's size:
 * the head's signature with the pinned key and the frontier's root;
 * otherwise (the log grew while the key file was missing) the whole log
 * is verified.  Old rows edited in place are not re-read here: the heads
 * still commit to their original hashes and `vault audit verify` names
 * them.  BG_ERR_AUTH with errmsg on a mismatch.  Once per transaction.
 */
int bg_treelog_check_tip(bg_vault_t *v);

/* Write the frontier kept during a transaction (bg_store_commit). */
int bg_treelog_flush(bg_vault_t *v);

/*
 * Called by bg_audit_append() inside its transaction after inserting
 * event seq with leaf hash leaf: extends the stored frontier (rebuilding
 * it by one scan when it is missing or stale, e.g. after migration).
 */
int bg_treelog_append(bg_vault_t *v, int64_t seq,
    const uint8_t leaf[BG_MERKLE_HASH_LEN]);

/*
 * Sign and store a tree head for the current log if the newest stored
 * head does not cover it yet (in its own transaction, or inside the
 * caller's).  *thp (may be NULL) gets the newest head afterwards.
 */
int bg_treelog_seal(bg_vault_t *v, bg_treehead_t *thp);

/* The newest stored head; BG_ERR_NOT_FOUND when there is none. */
int bg_treelog_latest(bg_vault_t *v, bg_treehead_t *th);

/* Inclusion proof of leaf index in the tree of size (see merkle.h). */
int bg_treelog_inclusion_proof(bg_vault_t *v, uint64_t index, uint64_t size,
    uint8_t *proof, size_t cap, size_t *lenp);
/* Consistency proof from first to second (see merkle.h). */
int bg_treelog_consistency_proof(bg_vault_t *v, uint64_t first,
    uint64_t second, uint8_t *proof, size_t cap, size_t *lenp);

/* The frontier of the first size events (see bg_merkle_frontier). */
int bg_treelog_frontier(bg_vault_t *v, uint64_t size, uint8_t *out,
    size_t cap, size_t *np);

#endif /* BG_TREELOG_H */
