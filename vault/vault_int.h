/*
 * Internal to libbgvault: the vault handle, store helpers (store.c), the
 * audit log (audit.c), statements (statement.c) and the rows the flows
 * share.  Not a public header.
 */
#ifndef BG_VAULT_INT_H
#define BG_VAULT_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"

#define BG_VAULT_ERRMSG_MAX	512
#define BG_VAULT_BUSY_MS	10000
#define BG_STORE_CACHE_MAX	64	/* statements kept prepared */

struct frontier;
struct bg_chain_link;

/* What stat said of a file: equal means not written since (filecheck.c). */
typedef struct bg_file_seen {
	bool		exists;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime, ctime;
} bg_file_seen_t;

struct bg_vault {
	sqlite3	*db;
	char	*path;
	char	 id[BG_VAULT_ID_LEN + 1];
	char	 rp_id[64];
	bool	 allow_soft;	/* from the newest verified vault link (meta
				   only for the genesis draft) */
	/*
	 * The vault's own chain, verified from the genesis by signatures
	 * (chainstore.c): vault[i] is vault link i.  genesis is vault[0]
	 * (the vault's identity), vault_head the newest; both NULL until
	 * the genesis is signed.  vault_rows is the SHA-256 of the chain's
	 * rows (bodies and signatures) as verified; vault_logged says it was
	 * compared with the audit log at the connection's data_version
	 * vault_dv: when another connection commits and the rows differ,
	 * the chain is verified again.
	 */
	struct bg_chain_link **vault;
	size_t	 n_vault;
	struct bg_chain_link *genesis;
	struct bg_chain_link *vault_head;
	uint8_t	 genesis_hash[32];
	char	 genesis_hex[65];
	uint8_t	 vault_head_hash[32];
	uint8_t	 vault_rows[32];
	int64_t	 vault_dv;
	bool	 vault_loaded, vault_logged;
	/* Why the stored vault chain (the genesis or a later vault link)
	 * does not verify ("" when it does or there is none): reads still
	 * work, every act is refused with this. */
	char	 genesis_bad[BG_VAULT_ERRMSG_MAX];
	/* fingerprints of the credential the last enrollment made */
	char	 enrolled_sign_fpr[17], enrolled_member_fpr[17];
	/*
	 * Whose credential answered during the current act ("" when none
	 * did, or nobody's could be named): the person the chain gives it
	 * and its label.  A refusal's event records them beside the
	 * person the act was for; bg_vault_finish clears them.
	 */
	char	 act_owner[BG_VAULT_NAME_MAX + 1];
	char	 act_token[BG_VAULT_LABEL_MAX + 1];
	int64_t	 created_at;
	int	 schema;
	bool	 in_tx;
	bool	 logged;	/* events appended in the open transaction */
	/* The file's structural check run ahead of the next commit
	 * (filecheck.c): NULL when none runs; and what stat said of the
	 * database when the open transaction began. */
	struct bg_check_ahead *ahead;
	bg_file_seen_t tx_db;
	unsigned checks_inline;	/* checks run in line (tests count them) */
	bool	 tip_checked;	/* log extends its newest signed head (this tx) */
	/*
	 * Within one write transaction (only audit.c and treelog.c write
	 * events and tree_state, and the write lock keeps other processes
	 * out): the newest event's seq and chain hash, and the Merkle
	 * frontier, which is written to tree_state once, at commit.
	 */
	bool	 tx_last_ok;
	int64_t	 tx_last_seq;
	uint8_t	 tx_last_chain[32];
	struct frontier *txf;	/* treelog.c; NULL until first needed */
	bool	 txf_valid, txf_dirty;
	/* bg_store_cached(): keyed by the address of the SQL text */
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	}	 stc[BG_STORE_CACHE_MAX];
	size_t	 n_stc;
	char	 errmsg[BG_VAULT_ERRMSG_MAX];
};

/* --- the structural check before commits (filecheck.c) ------------------ */

/* PRAGMA quick_check now, on a fresh connection: BG_ERR_DB_CORRUPT with
 * errmsg naming the first problem when the file is damaged. */
int bg_file_check(bg_vault_t *v);
/* The verdict of the check run ahead if nobody wrote the file since it
 * began, else bg_file_check(). */
int bg_file_verdict(bg_vault_t *v);
/* After BEGIN IMMEDIATE: what stat says of the database now. */
void bg_file_tx_begun(bg_vault_t *v);
/* Before every COMMIT, under the write lock: BG_OK when the check run
 * ahead found the file sound and nobody has written it since it began,
 * or else when the check run now does. */
int bg_file_sound(bg_vault_t *v);
/* True when no check runs ahead, or it has ended (tests). */
bool bg_check_ahead_done(const bg_vault_t *v);
/* Stop a check running ahead, if any, and free it. */
void bg_check_ahead_stop(bg_vault_t *v);

/* --- errors (store.c) ---------------------------------------------------- */

/* Set errmsg (printf format) and return r. */
int bg_vault_fail(bg_vault_t *v, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set errmsg to bg_strerror(r) unless a message is already set; return r. */
int bg_vault_fail_default(bg_vault_t *v, int r);
void bg_vault_clear_err(bg_vault_t *v);

/*
 * The one SQLite -> BG_ERR_* mapper.  rc is a SQLite result code; sets
 * errmsg from sqlite3_errmsg() with what (the operation) in front.
 */
int bg_store_err(bg_vault_t *v, int rc, const char *what);

/* --- store helpers (store.c) --------------------------------------------- */

int bg_store_prepare(bg_vault_t *v, const char *sql, sqlite3_stmt **stp);
/*
 * A statement kept prepared for the life of the handle, for the paths that
 * run once per secret or per event (sealing, the audit log): preparing
 * costs more than running them.  sql must have static storage (a string
 * literal or a static array): the cache is keyed by its address.  The
 * statement comes back reset with its bindings cleared; it belongs to the
 * vault: end with bg_store_done(), never sqlite3_finalize().  One statement
 * text is in use once at a time: a caller must not reach the same text
 * again (recursion, a nested loop) before its bg_store_done().
 */
int bg_store_cached(bg_vault_t *v, const char *sql, sqlite3_stmt **stp);
/* Reset a cached statement (releases its read snapshot); NULL is fine. */
void bg_store_done(sqlite3_stmt *st);
/* Step a statement expected to finish (no rows). */
int bg_store_step_done(bg_vault_t *v, sqlite3_stmt *st);
/* Step: BG_OK with *rowp true for a row, false when done. */
int bg_store_step(bg_vault_t *v, sqlite3_stmt *st, bool *rowp);
int bg_store_exec(bg_vault_t *v, const char *sql);
int bg_store_begin(bg_vault_t *v);	/* BEGIN IMMEDIATE */
/*
 * COMMIT.  When the transaction appended events, the new tree head is
 * signed inside it first, so a change and its signed head reach the disk
 * together, with one fsync.  A head that cannot be signed (key file
 * missing) does not stop the change: the next change signs one.
 */
int bg_store_commit(bg_vault_t *v);
void bg_store_rollback(bg_vault_t *v);	/* no-op when no tx is open */
int bg_store_checkpoint(bg_vault_t *v);	/* wal_checkpoint(TRUNCATE) */
/*
 * SQLite's own structural check of the file: PRAGMA quick_check, or
 * integrity_check (also compares every index with its table) when full.
 * BG_ERR_DB_CORRUPT with errmsg naming the first problem.  Linear in the
 * file's size, so it is not run at every open but before the first write
 * transaction of a handle (bg_store_begin) and by the commands that check
 * (docs/security.md).
 */
int bg_store_integrity(bg_vault_t *v, bool full);
/* SELECT returning one integer; BG_ERR_NOT_FOUND when no row. */
int bg_store_int(bg_vault_t *v, const char *sql, int64_t arg, int64_t *outp);
/* The same through bg_store_cached(): sql must have static storage. */
int bg_store_int_cached(bg_vault_t *v, const char *sql, int64_t arg,
    int64_t *outp);

/* Bind helpers: text may be NULL (binds NULL). */
int bg_store_bind_text(bg_vault_t *v, sqlite3_stmt *st, int i, const char *s);
int bg_store_bind_blob(bg_vault_t *v, sqlite3_stmt *st, int i,
    const void *p, size_t n);
int bg_store_bind_int(bg_vault_t *v, sqlite3_stmt *st, int i, int64_t x);
/* Column text into buf (NUL-terminated, truncated to cap-1). */
void bg_store_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap);

/* --- checks and time (store.c) -------------------------------------------- */

/* Validate a name: BG_ERR_INVALID_ARG with errmsg naming what. */
int bg_vault_check_name(bg_vault_t *v, const char *what, const char *name);
/* Validate free text (reason, ticket, label): 1..max bytes, no controls. */
int bg_vault_check_text(bg_vault_t *v, const char *what, const char *s,
    size_t max);

/* time(NULL). */
int64_t bg_vault_clock(void);
/* Time of the newest event (0 when none). */
int bg_vault_hwm(bg_vault_t *v, int64_t *hwmp);
/*
 * For state changes: *nowp = clock; BG_ERR_CLOCK (errmsg naming both times)
 * when it is earlier than the newest event.
 */
int bg_vault_now(bg_vault_t *v, int64_t *nowp);
/* For reads: max(clock, newest event time). */
int64_t bg_vault_read_now(bg_vault_t *v);

/* --- audit (audit.c) -------------------------------------------------------- */

/*
 * Append one event inside the caller's transaction.  details is stolen
 * (may be NULL: {}).  tenant/object may be NULL ("").
 */
int bg_audit_append(bg_vault_t *v, int64_t time, const char *actor,
    const char *action, const char *tenant, const char *object,
    json_t *details);

/*
 * After a failed state change (the caller has rolled back): record a
 * "refused" event in its own transaction, with the current errmsg.  Keeps
 * v->errmsg.  Failures to log are ignored (the original error wins).
 */
void bg_audit_refused(bg_vault_t *v, const char *actor, const char *attempted,
    const char *tenant, const char *object, int code);

/*
 * End of every state-changing call: on failure roll back, record the
 * refusal and make sure errmsg is set; returns r.
 */
int bg_vault_finish(bg_vault_t *v, int r, const char *actor,
    const char *attempted, const char *tenant, const char *object);

/* Canonical entry (compact JSON, sorted keys); malloc'd string. */
char *bg_audit_entry(int64_t seq, int64_t time, const char *actor,
    const char *action, const char *tenant, const char *object,
    const json_t *details);
/* leaf = SHA-256(0x00 || entry); chain = SHA-256(prev || leaf). */
void bg_audit_leaf(const char *entry, uint8_t leaf[BG_VAULT_HASH_LEN]);
void bg_audit_chain(const uint8_t prev[BG_VAULT_HASH_LEN],
    const uint8_t leaf[BG_VAULT_HASH_LEN], uint8_t out[BG_VAULT_HASH_LEN]);

/* --- rows shared by the flows ----------------------------------------------- */

typedef struct bg_tenant_row {
	int64_t	 id;
	char	 name[BG_VAULT_NAME_MAX + 1];
	int64_t	 created_at;
	/* From the verified head of the tenant's chain (defaults and NULL
	 * while no link has taken effect), never from the tenants row. */
	int64_t	 max_ttl, approval_window, rotation_deadline;
	char	*policy;		/* malloc'd canonical text or NULL */
	struct bg_chain_link *head;	/* verified head link, or NULL */
	uint8_t	 head_hash[BG_VAULT_HASH_LEN];
} bg_tenant_row_t;

/*
 * The tenant, with its chain verified from the genesis by signatures
 * (bg_chain_tenant).  BG_ERR_NOT_FOUND with errmsg "no tenant 'x'";
 * BG_ERR_AUTH when a link does not verify.
 */
int bg_tenant_get(bg_vault_t *v, const char *name, bg_tenant_row_t *row);
void bg_tenant_row_clear(bg_tenant_row_t *row);

/* A token credential of a membership: what the chain says of it, with
 * the row's id and last sign counter. */
typedef struct bg_token_row {
	int64_t	 id;
	int64_t	 membership_id;
	char	 label[BG_VAULT_LABEL_MAX + 1];
	int	 alg;
	uint8_t	 cred_id[1024];	size_t cred_id_len;
	uint8_t	 pubkey[128];	size_t pubkey_len;
	uint8_t	 member_pk[32];
	uint32_t sign_count;
	/* the chain's record of a tenant membership's credential (valid
	 * while that link lives), or NULL (a credential being made; chain
	 * signatures and custodians' acts): bg_act_sign vets it against the
	 * trust store in force before any touch */
	const struct bg_chain_token *ct;
} bg_token_row_t;

/*
 * The live (in keyset ks, not expired at now) membership of person in
 * tenant with role: its row id and salt.  BG_ERR_DENIED with errmsg when
 * there is none ("bob is not a requester of acme"), BG_ERR_EXPIRED when
 * it expired.  ks is a verified link (bg_tenant_row_t.head), or NULL.
 */
int bg_member_live(bg_vault_t *v, const struct bg_chain_link *ks,
    int64_t tenant_id, const char *tenant, const char *person, int role,
    int64_t now, int64_t *membership_idp, uint8_t salt[BG_TOKEN_SALT_LEN]);
/* The credentials keyset ks gives person in role (malloc'd array), with
 * the ids of their rows under membership_id. */
int bg_member_tokens(bg_vault_t *v, const struct bg_chain_link *ks,
    const char *person, int role, int64_t membership_id,
    bg_token_row_t **rowsp, size_t *np);

/*
 * The person's membership key pair from an assertion's hmac-secret output:
 * the public half must be the one enrolled for token tr.  The hmac output
 * has no use after this, so it is wiped and freed here (as->hmac_secret
 * becomes NULL); the private key goes to *skp in sodium_malloc memory.
 */
int bg_member_sk(bg_vault_t *v, const char *person, const bg_token_row_t *tr,
    bg_token_assertion_t *as, uint8_t **skp);

/* --- signed acts (act.c) ------------------------------------------------- */

#define BG_ACT_AUTHDATA_MAX	1024
#define BG_ACT_SIG_MAX		160

/*
 * The one way a token signs for the vault (act.c has the sequence): one
 * UV assertion from tok by one of person's credentials creds (tried in
 * turn while the token says it does not hold one) over cdh, the hash of
 * a statement that is complete before the touch, with salt (may be NULL)
 * for the hmac-secret output.  The sign counter must move forward (both
 * zero is accepted: counters not supported) and is stored, inside the
 * caller's transaction, in the credential's rows.  *whichp gets the
 * credential used.
 */
int bg_act_sign(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const char *person, const bg_token_row_t *creds, size_t n,
    const uint8_t cdh[32], const uint8_t *salt,
    bg_token_assertion_t **assertp, size_t *whichp)
    __attribute__((warn_unused_result));
/*
 * Vetted at use: a tenant member's credential (cred->ct set) signs only
 * while the trust store in force (the newest vault link) vets its
 * attestation; BG_ERR_TOKEN_ATTESTATION with "PERSON's token cannot sign
 * here: ..." otherwise.  bg_act_sign and the import of an approval packet
 * both ask it.
 */
int bg_act_vetted(bg_vault_t *v, const char *person,
    const bg_token_row_t *cred);
/*
 * What bg_act_sign refuses before any token is asked (person holds none
 * of the n credentials): for the checks an act runs before its PIN is
 * asked for (bg_vault_*_check).
 */
int bg_act_check(bg_vault_t *v, const char *person, size_t n);
/*
 * After bg_act_sign found that tok holds none of person's credentials:
 * whose credential in the links (n of them, NULLs skipped) it holds,
 * asked without a touch (bg_token_holds, with the PIN just accepted),
 * at most BG_ACT_PROBE_MAX credentials.  When one answers, errmsg names
 * its owner and v->act_owner / act_token are set for the refusal's
 * event.  Failures to ask are ignored: the refusal stands as it is.
 */
#define BG_ACT_PROBE_MAX	64
struct bg_chain_link;
void bg_act_identify(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const struct bg_chain_link *const *links, size_t n, const char *person);
/* A credential makeCredential just made, as a row for bg_act_sign (id
 * -1: no row yet; its counter starts from the one the token reported). */
int bg_act_new_cred(const bg_token_cred_t *cred, bg_token_row_t *row);
/* Check a stored act: a UV signature by that credential over cdh.
 * BG_ERR_AUTH with a sentence naming person when it does not verify. */
int bg_act_verify(bg_vault_t *v, const char *person, int alg,
    const uint8_t *pubkey, size_t pubkey_len, const uint8_t cdh[32],
    const uint8_t *authdata, size_t authdata_len, const uint8_t *sig,
    size_t sig_len) __attribute__((warn_unused_result));

/*
 * What a version's shares are bound to, in their associated data: the
 * policy hash and the hash of the chain link the version was sealed
 * under: SHA-256("breakglass share binding v1\n" || policy_hash ||
 * chain_head).
 */
void bg_share_binding(const uint8_t policy_hash[32],
    const uint8_t chain_head[32], uint8_t out[32]);

/* --- shares and re-keys (rekey.c) -------------------------------------------- */

/* Which share of which version, and the binding its AD carries. */
typedef struct bg_share_ref {
	const char	*tenant, *secret;
	int		 version;
	int64_t		 version_id;
	size_t		 leaf;
	const uint8_t	*binding;	/* bg_share_binding of the version */
} bg_share_ref_t;

/*
 * Open holder's share of ref with the key pair of token tr (sk in
 * sodium_malloc memory): the share sealed to that token, or after a
 * re-key the sum of the sub-shares the contributors sent it, each from
 * a sender key the chain gives that contributor.  share: 32 bytes of
 * guarded memory, zeroed on failure.
 */
int bg_share_open(bg_vault_t *v, const bg_share_ref_t *ref,
    const char *holder, const bg_token_row_t *tr, const uint8_t *sk,
    uint8_t *share) __attribute__((warn_unused_result));
/* BG_ERR_STATE while a re-key of tenant t is open (seals, requests). */
int bg_rekey_open_check(bg_vault_t *v, const bg_tenant_row_t *t);

/* --- keyset chains (chainstore.c) ------------------------------------------ */

/*
 * Load and verify the vault's chain (the genesis, then every vault link)
 * into v (v->genesis stays NULL while there is none); called at open,
 * and again whenever the chain's rows in the file change.  BG_ERR_AUTH
 * with a sentence, also kept in v->genesis_bad, when a link does not
 * verify or the log records a newer vault link than the file holds.
 */
int bg_chain_load_genesis(bg_vault_t *v);
/* Free v's vault chain (bg_vault_close). */
void bg_chain_vault_free(bg_vault_t *v);
/*
 * The vault's chain as the file holds it now, verified (re-verified when
 * its rows changed since); then BG_ERR_AUTH with v->genesis_bad when it
 * does not verify, BG_ERR_STATE, with a sentence, until the genesis is
 * signed.
 */
int bg_chain_require_genesis(bg_vault_t *v);
/*
 * Verify tenant's chain from its first link to link upto (0: the head),
 * each link against the vault link it names, after the vault's chain
 * from the genesis, by signatures.  *headp gets that link (caller
 * frees with bg_chain_link_free; NULL when the tenant has no link yet
 * and upto is 0), hash its hash.  BG_ERR_AUTH with a sentence when a link
 * does not verify or link upto does not exist.
 */
int bg_chain_tenant(bg_vault_t *v, const char *tenant, uint64_t upto,
    struct bg_chain_link **headp, uint8_t hash[BG_VAULT_HASH_LEN]);
/*
 * The tenant's draft to amend: the stored one, or a new one made from
 * the head (or, for a tenant without links, an empty first link with
 * default settings).  Inside the caller's transaction.
 */
int bg_chain_draft_get(bg_vault_t *v, const char *tenant, int64_t now,
    struct bg_chain_link **draftp);
/*
 * Store the amended draft (time set to now) and drop the signatures it
 * had: they were over another text.  *droppedp (may be NULL) gets their
 * number.  det, the details of the amendment's event, gets the new
 * draft's hash ("draft_hash"): signing refuses a draft that is not the
 * newest the log names.  Inside the caller's transaction.
 */
int bg_chain_draft_put(bg_vault_t *v, const char *tenant,
    struct bg_chain_link *draft, int64_t now, size_t *droppedp,
    json_t *det);
/*
 * A new credential on tok for person (the token probed first: hmac-secret
 * and a PIN; software tokens refused unless allow_soft), described as a
 * chain token *ct (all but the membership key and the enrollment proof),
 * with *nr its row for bg_act_sign.  purpose completes "this token cannot
 * ...".  *credp: the credential (bg_token_cred_free).
 */
struct bg_chain_token;
struct bg_chain_member;
int bg_chain_new_credential(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const char *person, bool allow_soft, const char *purpose,
    struct bg_chain_token *ct, bg_token_row_t *nr, bg_token_cred_t **credp);
/* The new credential's enrollment proof into ct (its second touch). */
int bg_chain_enroll_prove(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const struct bg_chain_link *d, const struct bg_chain_member *m,
    struct bg_chain_token *ct, const bg_token_row_t *nr);
/* Keep the fingerprints of t for bg_vault_enrolled_fingerprints. */
struct bg_chain_token;
void bg_chain_note_enrolled(bg_vault_t *v, const struct bg_chain_token *t,
    bool member);
/* The stored signatures of link seq of scope ("" for the vault's own
 * chain): a malloc'd array (free()); malformed rows are left out. */
struct bg_chain_sig;
int bg_chain_link_sigs(bg_vault_t *v, const char *scope, int64_t seq,
    struct bg_chain_sig **sigsp, size_t *np);
/* Add "draft_hash" of draft (as stored) to an event's details. */
int bg_chain_draft_note(const struct bg_chain_link *draft, json_t *det);
/* BG_ERR_EXISTS when a credential id is enrolled under a person other
 * than person in the vault (token rows, the custodians in force). */
int bg_chain_cred_unique(bg_vault_t *v, const char *person,
    const uint8_t *cred_id, size_t cred_id_len);

/*
 * Mark request_id's version exposed when the approvals over all its
 * requests, with every approver a request packet was exported to counted
 * as approving, meet its policy (request.c); det gets "exposed" and
 * "exposed_by" when this call marks it.  In the caller's transaction.
 */
int bg_request_exposure(bg_vault_t *v, int64_t request_id, int64_t now,
    json_t *det);

/* --- administrative acts (admin.c) ------------------------------------------ */

/* Roles an act allows (bits of enum bg_vault_role). */
#define BG_ADMIN_OPERATOR	(1u << BG_VAULT_ROLE_OPERATOR)
#define BG_ADMIN_AUDITOR	(1u << BG_VAULT_ROLE_AUDITOR)
#define BG_ADMIN_REQUESTER	(1u << BG_VAULT_ROLE_REQUESTER)
#define BG_ADMIN_CUSTODIAN	(1u << BG_VAULT_ROLE_CUSTODIAN)

/* Who acts: found in the verified chain by bg_admin_who. */
typedef struct bg_admin {
	char		 person[BG_VAULT_NAME_MAX + 1];
	int		 role;		/* BG_VAULT_ROLE_OPERATOR / _CUSTODIAN */
	const struct bg_chain_link *link; /* the link that says so */
	uint64_t	 seq;		/* its seq and hash */
	uint8_t		 link_hash[BG_VAULT_HASH_LEN];
	bg_token_row_t	*creds;		/* person's credentials in that role */
	size_t		 n;
	int64_t		 act_id;	/* after bg_admin_sign */
} bg_admin_t;

/* BG_ERR_INVALID_ARG unless by names a person (its token may be NULL:
 * check only). */
int bg_admin_need(bg_vault_t *v, const bg_vault_signer_t *by);
/*
 * person as one of roles: a live operator of t (t's verified head link)
 * or a custodian of the vault link in force, with their credentials.
 * BG_ERR_DENIED naming who may act, BG_ERR_EXPIRED.  Clear with
 * bg_admin_clear.
 */
int bg_admin_who(bg_vault_t *v, const bg_tenant_row_t *t, const char *person,
    unsigned roles, int64_t now, bg_admin_t *a);
void bg_admin_clear(bg_admin_t *a);
/* A custodian amending the vault's draft d: one of the vault link in
 * force, or, while the genesis is a draft, one it names. */
int bg_admin_who_vault(bg_vault_t *v, const struct bg_chain_link *d,
    const char *person, int64_t now, bg_admin_t *a);
/*
 * Sign act kind on tenant ("" for vault-wide acts) by a with tok: the
 * statement is the head (admin.c), the time, lines (the act's own
 * "key: value" lines, each ending in a newline) and the log head.
 * Stores it in acts (a->act_id) and adds "signed" (by, role, act,
 * statement hash, token, authdata, sig) to det.  In the caller's
 * transaction.
 */
int bg_admin_sign(bg_vault_t *v, const char *tenant, bg_admin_t *a,
    const char *kind, const char *lines, bg_token_t *tok, const char *pin,
    int64_t now, json_t *det);

/*
 * The end of an act that by makes: with a token, bg_admin_sign; in check
 * mode (by->tok NULL) roll the transaction back and set *checkedp, so
 * the caller stops with BG_OK having changed nothing.
 */
int bg_admin_act(bg_vault_t *v, const char *tenant, bg_admin_t *a,
    const bg_vault_signer_t *by, const char *kind, const char *lines,
    int64_t now, json_t *det, bool *checkedp);
/* "draft: <scope> link <seq>, <hash>" and extra (may be NULL): the lines
 * of an amendment's statement, naming the draft as amended. */
struct bg_chain_link;
int bg_admin_draft_lines(const struct bg_chain_link *d, const char *extra,
    char **linesp);

/* A stored act. */
typedef struct bg_act_row {
	int64_t	 id;
	char	 kind[32];
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 person[BG_VAULT_NAME_MAX + 1];
	int	 role;
	uint8_t	 cred_id[1024];		size_t cred_id_len;
	uint8_t	 authdata[BG_ACT_AUTHDATA_MAX];	size_t authdata_len;
	uint8_t	 sig[BG_ACT_SIG_MAX];	size_t sig_len;
	char	*statement;		/* malloc'd */
} bg_act_row_t;
int bg_admin_load(bg_vault_t *v, int64_t act_id, bg_act_row_t *ar);
void bg_act_row_clear(bg_act_row_t *ar);
/*
 * Check a stored act: of kind on tenant, made by ar->person in role as
 * link l (hash l_hash, verified by the caller) gives them, with one of
 * their credentials there, while that membership was live, and the
 * signature good.  *timep gets the act's time.  BG_ERR_AUTH with a
 * sentence otherwise.
 */
int bg_admin_verify(bg_vault_t *v, const bg_act_row_t *ar, const char *kind,
    const char *tenant, const struct bg_chain_link *l,
    const uint8_t l_hash[32], int role, int64_t *timep);
/* A person's credentials in link l (any role), appended to *rowsp
 * (chainstore.c). */
int bg_chain_creds_of(const struct bg_chain_link *l, const char *person,
    bg_token_row_t **rowsp, size_t *np, size_t *capp);

/*
 * Seal value as version `version` of secret row secret_id (tenant t) with
 * state `state`, inside the caller's transaction, and have the operator a
 * (bg_admin_who) sign the seal statement with by's token; details get
 * the version's facts and "signed".
 */
int bg_secret_seal(bg_vault_t *v, const bg_tenant_row_t *t, bg_admin_t *a,
    const bg_vault_signer_t *by, int64_t secret_id, const char *secret,
    int version, int state, int64_t now, const uint8_t *value, size_t len,
    json_t *details);
/*
 * Check the signed seal of version_id of tenant t before anything of it
 * is opened (secret.c): made by a live operator of the link it names
 * (verified from the genesis), naming this version's value ciphertext,
 * share ciphertexts (unless a re-key replaced them) and key commitment.
 * sealer (may be NULL) gets that operator's name: they know the value.
 * BG_ERR_AUTH with a sentence.
 */
int bg_seal_check(bg_vault_t *v, const bg_tenant_row_t *t,
    int64_t version_id, char sealer[BG_VAULT_NAME_MAX + 1]);
/* The link number a seal statement names ("keyset: link N, "), or -1. */
int64_t bg_seal_link_seq(const char *statement);
/* SHA-256 over a version's share ciphertexts in (leaf, blob) order, each
 * framed by its leaf and length. */
int bg_seal_shares_hash(bg_vault_t *v, int64_t version_id, uint8_t out[32]);

/* --- statements (statement.c) ---------------------------------------------- */

/*
 * The request-fixed part of a statement (malloc'd): vault, genesis,
 * request, tenant, secret, version, the keyset link that sealed it,
 * requester, reason, ticket, TTL, times and the request key.
 */
int bg_statement_body(bg_vault_t *v, int64_t request_id, char **bodyp);
/*
 * The body that approvals, denials and release sign: bg_statement_body
 * plus "request-signed: <SHA-256 of the requester's signed statement>",
 * so each decision is bound to that exact request statement.
 */
int bg_statement_decision_body(bg_vault_t *v, int64_t request_id,
    char **bodyp);
/*
 * The requester's signed statement of the request still matches its
 * rows (request key, keyset, every field) and carries tr's valid
 * signature.  BG_ERR_AUTH with a sentence otherwise.
 */
int bg_statement_check_request(bg_vault_t *v, int64_t request_id,
    const char *requester, const bg_token_row_t *tr);
/* body + current log head lines (malloc'd) and SHA-256 of the whole. */
int bg_statement_full(bg_vault_t *v, const char *body, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN]);
/* cdh = SHA-256("breakglass <action> v1\n" || text). */
void bg_statement_cdh(const char *action, const char *text,
    uint8_t cdh[BG_TOKEN_CDH_LEN]);
/* What a denial signs: the statement with "deny-reason: REASON" as its
 * last line (*textp replaced; reason is clean text). */
int bg_deny_text(char **textp, const char *reason);

/*
 * Equality of public bytes (keys, ids, hashes, AAGUIDs, salts): never for
 * secrets, which sodium_memcmp compares.
 */
static inline bool
bg_same(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n) == 0; /* public: callers pass public data */
}

/* hex of len bytes into out (2*len+1). */
void bg_hex(const uint8_t *p, size_t len, char *out);

/* Append printf output to the malloc'd string *sp (NULL: start one);
 * BG_ERR_NOMEM leaves *sp as it was. */
int bg_strcatf(char **sp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Replace control bytes in a message that quotes outside input (a proof
 * file, an evidence bundle) with '?', so that the one line shown to an
 * auditor cannot carry terminal escapes or break into several lines.
 */
void bg_text_defang(char *s);

/*
 * Room for one more element in the array *arrp points to (a T **: n in
 * use, *capp allocated, elements of elsize bytes), doubling as it grows.
 * On failure (BG_ERR_NOMEM) the array is untouched, so the caller's
 * cleanup still frees it.
 */
int bg_grow(void *arrp, size_t *capp, size_t n, size_t elsize);

struct bg_chain_token;

/*
 * Vetted tokens (chainstore.c): whether new credential ct may enroll under
 * vault link vl (the draft's, or the one in force): in a production vault
 * whose link pins a trust store, its attestation must verify against that
 * store at the vault's clock (attest.h), before anything is touched again
 * or stored; BG_ERR_TOKEN_ATTESTATION with one sentence naming make and
 * model and the reason.  Drill vaults and vaults without a trust store:
 * BG_OK.  The same check runs again in bg_chain_check on the link.
 */
int bg_chain_vet(bg_vault_t *v, const struct bg_chain_link *vl,
    const struct bg_chain_token *ct, int64_t now);

#endif /* BG_VAULT_INT_H */
