/*
 * breakglass vault engine: the transparency log: signed tree heads, proofs, receipts, export, backup and restore.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 */
#ifndef BREAKGLASS_VAULT_LOG_H
#define BREAKGLASS_VAULT_LOG_H

#define BG_VAULT_TREEHEAD_TEXT_MAX	320	/* "bg-treehead-v1 ..." + NUL */
#define BG_VAULT_RECEIPT_MAX		48	/* "BG1-..." + NUL */

/*
 * The newest signed tree head of the audit log (docs/audit-log.md):
 * "on <time>, the log of this vault had <size> events with Merkle root
 * <root>", Ed25519-signed with the vault's key.
 */
typedef struct bg_vault_log_head {
	uint64_t size;
	int64_t	 time;
	uint8_t	 root[BG_VAULT_HASH_LEN];
	uint8_t	 sig[64];
	char	 text[BG_VAULT_TREEHEAD_TEXT_MAX];	/* bg-treehead-v1 line */
	char	 receipt[BG_VAULT_RECEIPT_MAX];	/* BG1-<size>-<root16>-<crc> */
	char	 public_key[65];		/* the vault's key, hex */
} bg_vault_log_head_t;

/*
 * The newest signed tree head, signing one first when the log has grown
 * past it (a write; creates the vault's signing key, "<vault path>.key",
 * when the vault has none yet).  BG_ERR_NOT_FOUND when the signing key
 * file is missing; BG_ERR_AUTH when it is not the pinned one.
 */
int bg_vault_log_head(bg_vault_t *v, bg_vault_log_head_t *h);

/*
 * Does today's log extend the receipt line?  Verifies the whole log
 * (bg_vault_audit_verify()) and the root of the first <size> events.
 * BG_OK; BG_ERR_PARSE (malformed receipt, sentence in errmsg);
 * BG_ERR_AUTH with errmsg naming the first inconsistency (edited,
 * truncated, or an older copy).
 */
int bg_vault_log_check_receipt(bg_vault_t *v, const char *line)
    __attribute__((warn_unused_result));

/*
 * A proof as a text document (docs/audit-log.md "Proof files"):
 * inclusion of event seq in the tree of size events (size 0: the newest
 * signed head), or consistency from size first to size second (second 0:
 * the newest signed head).  *textp is malloc'd.  BG_ERR_RANGE when a size
 * is beyond the log; BG_ERR_INVALID_ARG for an impossible question.
 */
int bg_vault_log_inclusion_proof(bg_vault_t *v, int64_t seq, uint64_t size,
    char **textp);
int bg_vault_log_consistency_proof(bg_vault_t *v, uint64_t first,
    uint64_t second, char **textp);

/*
 * Check a proof document offline (no vault needed).  pk_hex: the vault's
 * public key the verifier pinned (64 hex digits), or NULL to use the key
 * written in the proof (then *pinnedp is false).  BG_OK when the proof
 * verifies (and any tree head in it is correctly signed); BG_ERR_PARSE
 * (malformed); BG_ERR_AUTH (does not verify).  msg gets a one-line
 * sentence either way.
 */
int bg_vault_log_verify_proof(const char *text, const char *pk_hex,
    bool *pinnedp, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

/*
 * Write the events and tree heads to path (a new file, 0600) in the
 * versioned JSON-lines format of docs/audit-log.md "Export".  Signs a
 * head for the current log first.  *neventsp and *nheadsp (may be NULL) get
 * the counts.
 */
int bg_vault_log_export(bg_vault_t *v, const char *path, int64_t *neventsp,
    int64_t *nheadsp);

/*
 * Backup: copy the vault with SQLite's online backup API into out (a new
 * file, 0600; BG_ERR_EXISTS if anything is there), copy the signing key
 * to out + ".key" (0600) and write the signed tree head of the copy to
 * out + ".head".  *h gets that head.  by: a custodian in force, whose
 * signed "backup" event is logged first, so the copy carries it (tok
 * NULL: check only, nothing written).
 */
int bg_vault_backup(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *out, bg_vault_log_head_t *h);

/*
 * Restore: verify the backup at from (integrity_check, the audit log and
 * its tree heads, signatures with the key pinned by the current vault at
 * path when there is one, else the backup's own), refuse it when it does
 * not extend receipt (may be NULL) or when the current vault's log is
 * longer unless force, then replace path atomically (temp file in the
 * same directory, fsync, rename), keeping the old file as
 * path + ".before-restore".  The key file comes along when path has none.
 * msg gets the sentence on failure.  *h gets the restored head.  by (with
 * its token): a custodian of the restored vault, whose signed "restore"
 * event is logged into the copy before it replaces path.
 */
int bg_vault_restore(const char *path, const char *from, const char *receipt,
    bool force, const bg_vault_signer_t *by, bg_vault_log_head_t *h,
    char *msg, size_t msglen);

#endif /* BREAKGLASS_VAULT_LOG_H */
