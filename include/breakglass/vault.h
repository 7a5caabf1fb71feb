/*
 * breakglass vault engine (libbgvault.a): one SQLite file holding tenants,
 * memberships (token credentials), policies, sealed secrets, requests,
 * approvals and the audit log.
 *
 * Conventions (as token.h):
 *  - Every function returns BG_OK (0) or a negative BG_ERR_* code (err.h).
 *    After a failure, bg_vault_errmsg(v) holds a one-line sentence with the
 *    details ("needs 1 more from: mia"); it never contains a secret.
 *  - Output pointers are cleared on entry and set only on success.  Lists
 *    and info structs are owned by the caller and freed with the matching
 *    _free(), which tolerates NULL and sets the caller's pointer to NULL.
 *    Secret values are handed out in sodium_malloc memory: the caller wipes
 *    and frees them with sodium_free().
 *  - The engine never prints, never reads the terminal, never exits.
 *  - Names (tenant, person, secret) are 1..BG_VAULT_NAME_MAX bytes of
 *    [a-z0-9._-], starting with a letter or digit (the policy grammar's
 *    names: lower case only).  Labels, reasons and
 *    tickets are printable UTF-8 without control characters.
 *  - Times are int64_t seconds since the epoch (UTC), from time(NULL).
 *  - "actor" is the operator the program names for admin operations (the
 *    OS user name); token operations name a person and prove it with that
 *    person's token and PIN.
 *  - Every state-changing call writes an audit event; every refusal of a
 *    state-changing call (after the vault is open) writes an event with
 *    action "refused" in its own transaction, whose details name the
 *    attempted action, the error code name and the errmsg sentence.
 *
 * Clock: every state-changing call first compares time(NULL) with the
 * newest event's time; if the clock is earlier it fails with BG_ERR_CLOCK
 * ("clock reads 2026-11-20 10:00 UTC, earlier than the newest event at
 * 2026-11-22 11:00 UTC") and records a "refused" event stamped with the
 * newest event's time (so event times never go backwards) whose details
 * carry the observed clock.  Read calls never refuse on the clock: they
 * judge deadlines, leases and expiries at max(clock, newest event time),
 * so setting the clock back cannot make anything look unexpired.
 */
#ifndef BREAKGLASS_VAULT_H
#define BREAKGLASS_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breakglass/token.h"

/*
 * PRAGMA user_version this program writes: 1 base schema, 2 transparency
 * log, 3 lifecycle (re-key, offboarding), 4 indexes for scale, 5 indexes
 * for the keyset check and status at scale, 6 and 7 indexes for status,
 * 8 signed genesis and keyset chains, 9 signed administrative acts,
 * 10 per-tenant counts for listings.  Raise it with each new entry of
 * migrations[] in vault/store.c.
 */
#define BG_VAULT_SCHEMA_VERSION	10
#define BG_VAULT_SCHEMA_GENESIS	8	/* older files are refused */
#define BG_VAULT_ID_LEN		32	/* hex characters of the vault id */
#define BG_VAULT_HASH_LEN	32	/* SHA-256 */
#define BG_VAULT_NAME_MAX	64
#define BG_VAULT_LABEL_MAX	64
#define BG_VAULT_REASON_MAX	512
#define BG_VAULT_TICKET_MAX	128
#define BG_VAULT_POLICY_MAX	2048	/* bytes of a policy expression */
#define BG_VAULT_VALUE_MAX	65536	/* bytes of a secret value */
#define BG_VAULT_TEXT_MAX	512	/* sentences in info structs */

/* Tenant defaults (seconds). */
#define BG_VAULT_DEFAULT_MAX_TTL		3600	/* 1 h */
#define BG_VAULT_DEFAULT_APPROVAL_WINDOW	86400	/* 24 h */
#define BG_VAULT_DEFAULT_ROTATION_DEADLINE	86400	/* 24 h after lease end */
#define BG_VAULT_EXPIRY_WARN			(30 * 86400)

typedef struct bg_vault bg_vault_t;	/* an open vault (opaque) */

/*
 * Who makes an administrative act (docs/security.md, "Every act is a
 * person with a token"): person, who must hold a role the act allows
 * (each call says which: the tenant's operators, or the vault's
 * custodians), signs the act's statement with one of their enrolled
 * credentials on tok (UV with pin).  The event names person and carries
 * the signature; no account name of the machine is an actor.
 * tok NULL: check only -- the call refuses whatever it would refuse
 * before the token is asked, and changes nothing.
 */
typedef struct bg_vault_signer {
	const char	*person;
	bg_token_t	*tok;
	const char	*pin;
} bg_vault_signer_t;

/* --- open / create ----------------------------------------------------- */

/*
 * Create a new vault file at path (mode 0600; fails with BG_ERR_EXISTS if
 * anything exists there).  New vault id: 16 random bytes as 32 hex
 * characters; relying-party id "breakglass-" + first 16 hex characters of
 * the id.  allow_soft_tokens is recorded for good and shown by listings.
 * Writes the "vault.init" event.
 */
int bg_vault_create(const char *path, bool allow_soft_tokens,
    const char *actor, bg_vault_t **vp) __attribute__((warn_unused_result));

/*
 * Open an existing vault: sets the pragmas (WAL, synchronous=FULL,
 * foreign_keys, secure_delete, trusted_schema=OFF, defensive), runs
 * quick_check (BG_ERR_DB_CORRUPT), refuses a schema newer than this
 * program (BG_ERR_DB_VERSION) and applies pending migrations in one
 * transaction.  BG_ERR_NOT_FOUND if there is no file; BG_ERR_DB_BUSY when
 * another process holds it longer than the busy timeout.
 */
int bg_vault_open(const char *path, bg_vault_t **vp)
    __attribute__((warn_unused_result));

/*
 * As bg_vault_create() / bg_vault_open(), and on failure (when there is no
 * handle to ask for errmsg) the detailed sentence goes into msg (msglen
 * bytes, NUL-terminated; "" on success).  msg may be NULL.
 */
int bg_vault_create_msg(const char *path, bool allow_soft_tokens,
    const char *actor, bg_vault_t **vp, char *msg, size_t msglen)
    __attribute__((warn_unused_result));
int bg_vault_open_msg(const char *path, bg_vault_t **vp, char *msg,
    size_t msglen) __attribute__((warn_unused_result));

/*
 * SQLite's structural check of the vault file: PRAGMA quick_check, or
 * integrity_check (every index against its table too) when full.
 * BG_ERR_DB_CORRUPT, with errmsg naming the first problem, when the file is
 * damaged.  It reads the whole file, so opening a vault does not run it;
 * every commit does, and so do `vault check`, `vault audit verify`,
 * backup and restore (docs/security.md, "Integrity of the file").
 */
int bg_vault_integrity(bg_vault_t *v, bool full);

/*
 * Start the check the next commit of this handle needs (the quick_check
 * above) now, in the background, so that it runs while the person types
 * the PIN and touches the token, or while a command reads (audit verify
 * walks the log).  The commit, or bg_vault_integrity(v, false), takes its
 * verdict only if
 * nobody can have written the file since the check began, and runs the
 * check itself otherwise; so calling this never weakens the check and is
 * always safe.  A no-op while a check already runs ahead, or inside a
 * transaction.
 */
void bg_vault_check_ahead(bg_vault_t *v);

/*
 * Remove a vault that never came to be (its first custodian could not
 * enroll): the file, its -wal and -shm, and its log key file.  Only for a
 * vault just created by this process; never for one in use.
 */
void bg_vault_unlink(const char *path);

/* Close; tolerates NULL; sets *vp to NULL. */
void bg_vault_close(bg_vault_t **vp);

/*
 * The detailed one-line message of the last failure on v ("" when the last
 * call succeeded).  Valid until the next call on v.  v may be NULL (then
 * returns "").  Never contains a secret.
 */
const char *bg_vault_errmsg(const bg_vault_t *v);

const char *bg_vault_id(const bg_vault_t *v);		/* 32 hex chars */
const char *bg_vault_rp_id(const bg_vault_t *v);
const char *bg_vault_path(const bg_vault_t *v);
bool bg_vault_allows_soft_tokens(const bg_vault_t *v);
int64_t bg_vault_created_at(const bg_vault_t *v);
int bg_vault_schema_version(const bg_vault_t *v);	/* user_version on disk */

/*
 * Whether s is text a person may read and sign (a reason, ticket or
 * label): 1..max bytes of valid UTF-8 without C0/C1 controls, DEL, line
 * or paragraph separators or bidirectional controls.  The programs check
 * it before they print outside text; the engine checks it again.
 */
bool bg_vault_text_ok(const char *s, size_t max);

/*
 * Whether s is a valid name (a tenant, person or secret): the rule above,
 * that the engine applies; for programs that say where a bad name came
 * from (the line of an import file) before the engine refuses it.
 */
bool bg_vault_name_ok(const char *s);

/* "2026-11-22 03:40 UTC" into buf (at least 32 bytes); returns buf. */
char *bg_vault_fmt_time(int64_t t, char *buf, size_t len);

/* --- tenants ----------------------------------------------------------- */

typedef struct bg_vault_tenant_opts {
	int64_t	max_ttl;		/* seconds; 0 = keep / default */
	int64_t	approval_window;	/* seconds; 0 = keep / default */
	int64_t	rotation_deadline;	/* seconds after lease end; 0 = keep / default */
	int	client_cosign;		/* client approvers who co-sign a grant;
					   0 = keep / default (1) */
} bg_vault_tenant_opts_t;

typedef struct bg_vault_tenant_info {
	char	 name[BG_VAULT_NAME_MAX + 1];
	int64_t	 created_at;
	int64_t	 max_ttl, approval_window, rotation_deadline;
	bool	 has_policy;
	char	 policy[BG_VAULT_POLICY_MAX + 1];	/* canonical text, "" if none */
	char	 policy_hash[2 * BG_VAULT_HASH_LEN + 1];	/* hex, "" if none */
	size_t	 n_requesters, n_approvers, n_auditors;	/* live (unexpired) people */
	size_t	 n_secrets;		/* secrets (any state) */
	size_t	 n_sealed;		/* secrets whose active version is sealed */
	int64_t	 offboarded_at;		/* 0 unless offboarded (tenant offboard) */
} bg_vault_tenant_info_t;

/*
 * A new tenant and the draft of its first link (settings from opts; NULL:
 * all defaults).  Its members, policy and settings take effect when the
 * first link is signed: a custodian quorum, every client approver it
 * names, and each member's own credential (vault/chain.h).
 * BG_ERR_EXISTS if the name is taken; BG_ERR_STATE before the genesis is
 * signed.  by: a custodian (the act is theirs, signed).
 */
int bg_vault_tenant_add(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *name, const bg_vault_tenant_opts_t *opts);
/* Change max TTL / approval window / rotation deadline / client
 * co-signers in the tenant's draft link (0 fields kept); by: an operator
 * of the tenant or a custodian. */
int bg_vault_tenant_set(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *name, const bg_vault_tenant_opts_t *opts);
int bg_vault_tenant_list(bg_vault_t *v, bg_vault_tenant_info_t **listp,
    size_t *np);
int bg_vault_tenant_show(bg_vault_t *v, const char *name,
    bg_vault_tenant_info_t **infop);
void bg_vault_tenant_free(bg_vault_tenant_info_t **p);	/* list or one */

/* --- members ----------------------------------------------------------- */

/*
 * A tenant's roles (RACI): requesters (technicians), approvers (the
 * client's are accountable), operators (the MSP, responsible: they
 * administer, seal, rotate and offboard) and the auditor (audit owner).
 * Custodians hold the vault's own chain and cover vault-wide acts.
 */
enum bg_vault_role {
	BG_VAULT_ROLE_REQUESTER = 1,
	BG_VAULT_ROLE_APPROVER  = 2,
	BG_VAULT_ROLE_AUDITOR   = 3,
	BG_VAULT_ROLE_OPERATOR  = 4,
	BG_VAULT_ROLE_CUSTODIAN = 5,	/* vault-wide; not a tenant role */
};
#define BG_VAULT_ROLE_TENANT_MAX	BG_VAULT_ROLE_OPERATOR
/* "requester" / "approver" / "auditor" / "operator" / "custodian"; "?"
 * otherwise.  Parse: tenant roles only. */
const char *bg_vault_role_name(int role);
/* Parse a role name; BG_ERR_INVALID_ARG if unknown. */
int bg_vault_role_parse(const char *s, int *rolep);

/* One row per enrolled token of a membership. */
typedef struct bg_vault_member_info {
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 person[BG_VAULT_NAME_MAX + 1];
	int	 role;			/* enum bg_vault_role */
	int64_t	 expires_at;
	bool	 expired;		/* expires_at <= now */
	bool	 removed;		/* only with include_removed */
	int64_t	 token_id;		/* row id of this token credential */
	char	 label[BG_VAULT_LABEL_MAX + 1];
	int64_t	 enrolled_at;
	uint8_t	 aaguid[BG_TOKEN_AAGUID_LEN];
	bool	 is_soft;		/* a breakglass software token */
	int	 alg;			/* BG_TOKEN_ES256 / BG_TOKEN_EDDSA */
	char	 fmt[32];		/* attestation format */
	int	 attestation;		/* enum bg_token_attestation */
	int	 cred_protect;		/* level granted, 0 if none */
	uint32_t sign_count;		/* last seen */
	char	 key_fpr[17];		/* hex prefix of SHA-256 of the X25519 key */
} bg_vault_member_info_t;

/* Which side an approver stands on (vault/chain.h has the same values). */
enum bg_vault_side {
	BG_VAULT_SIDE_NONE   = 0,	/* requesters and auditors */
	BG_VAULT_SIDE_CLIENT = 1,	/* the customer: accountable */
	BG_VAULT_SIDE_MSP    = 2,	/* the MSP: responsible */
};
/* "client" / "msp" / "none"; parse: BG_ERR_INVALID_ARG if unknown. */
const char *bg_vault_side_name(int side);
int bg_vault_side_parse(const char *s, int *sidep);

/*
 * Enroll the token tok (with its PIN) for person in tenant with role
 * (approvers: side client or msp), valid until expires_at (> now), as an
 * amendment of the tenant's draft link (vault_chain.h): nothing takes
 * effect until the signers that the change needs have signed the draft.
 * Probes the token (hmac-secret and a set PIN required:
 * BG_ERR_TOKEN_UNSUPPORTED / BG_ERR_TOKEN_PIN_NOT_SET), refuses software
 * tokens unless the signed genesis allows them
 * (BG_ERR_TOKEN_SOFT_REFUSED), makes a credential for the vault's rp id,
 * takes a UV assertion with the membership's salt that gives the X25519
 * membership key, then a second UV assertion in which the new credential
 * signs the enrollment statement carrying that key and the salt
 * (bg_chain_enroll_cdh).  A credential already enrolled under another
 * person is refused.  The same person/tenant/role again adds another
 * token to that membership (its expiry stays: recertify changes it).  label
 * names the token for prompts; NULL or "" gives "token N".  The event's
 * actor is person, whose new credential signs the enrollment proof.
 */
int bg_vault_member_add(bg_vault_t *v, const char *tenant,
    const char *person, int role, int side, int64_t expires_at,
    const char *label, bg_token_t *tok, const char *pin);
/*
 * Remove person's membership(s) in tenant (role 0: every role) from the
 * draft link.  The policy of the draft must not name a removed approver.
 * by: an operator of the tenant or a custodian, who signs the amendment.
 */
int bg_vault_member_remove(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *person, int role);
/* tenant/person NULL: all.  Sorted by tenant, person, role, token id. */
int bg_vault_member_list(bg_vault_t *v, const char *tenant,
    const char *person, bool include_removed,
    bg_vault_member_info_t **listp, size_t *np);
void bg_vault_member_free(bg_vault_member_info_t **p);

/* --- policy ------------------------------------------------------------ */

/*
 * Set the policy of the tenant's draft link from a threshold-tree
 * expression ("all-of(1-of(alice,bob),1-of(mia))").  Every leaf must be a
 * live approver of the draft, no one twice, and no single person may
 * satisfy it; errors are positioned ("policy position 12: unknown
 * approver 'zed'").  A policy that some set of MSP approvers alone could
 * satisfy needs an exception: exception_reason (NULL: none) and
 * exception_until.  Takes effect when the draft is signed; versions
 * sealed before stay under the link they were sealed with.  by: an
 * operator of the tenant or a custodian, who signs the amendment.
 */
int bg_vault_policy_set(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *expr, const char *exception_reason,
    int64_t exception_until);
/*
 * The canonical policy text (malloc; free()) and its policy hash
 * (vault/policy.h: BLAKE2b-256), hex into hash_hex (may be NULL).  BG_ERR_NOT_FOUND when the tenant has none.
 */
int bg_vault_policy_get(bg_vault_t *v, const char *tenant, char **textp,
    char hash_hex[2 * BG_VAULT_HASH_LEN + 1]);

/* --- secrets ----------------------------------------------------------- */

enum bg_vault_secret_state {
	BG_VAULT_SECRET_SEALED       = 1,	/* active version releasable */
	BG_VAULT_SECRET_RELEASED     = 2,	/* spent, lease running */
	BG_VAULT_SECRET_ROTATION_DUE = 3,	/* spent, lease over */
	BG_VAULT_SECRET_OVERDUE      = 4,	/* rotation deadline passed */
};
const char *bg_vault_secret_state_name(int state); /* "sealed", "released",
						      "rotation-due", "overdue" */

enum bg_vault_version_state {
	BG_VAULT_VERSION_PENDING = 0,	/* rotate begin'd, not committed */
	BG_VAULT_VERSION_SEALED  = 1,
	BG_VAULT_VERSION_SPENT   = 2,	/* released once; never again */
	BG_VAULT_VERSION_RETIRED = 3,	/* replaced by a committed rotation */
};
const char *bg_vault_version_state_name(int state);

typedef struct bg_vault_secret_info {
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 name[BG_VAULT_NAME_MAX + 1];
	int64_t	 created_at;
	int	 version;		/* active version number (1, 2, ...) */
	int	 state;			/* enum bg_vault_secret_state */
	int64_t	 sealed_at;		/* active version */
	int64_t	 released_at;		/* 0 unless spent */
	int64_t	 lease_until;		/* 0 unless spent */
	int64_t	 rotate_by;		/* lease_until + rotation deadline; 0 unless spent */
	size_t	 value_len;
	char	 policy_hash[2 * BG_VAULT_HASH_LEN + 1]; /* that sealed the active version */
	int	 pending_version;	/* 0 if no rotation is pending */
	size_t	 n_retired;		/* retired versions */
	int64_t	 open_request;		/* id of the open request, 0 if none */
	int64_t	 exposed_at;		/* approvals over all its requests met
					   its policy (0: not); rotate it */
} bg_vault_secret_info_t;

typedef struct bg_vault_version_info {
	int	 version;
	int	 state;			/* enum bg_vault_version_state */
	int64_t	 sealed_at, released_at, lease_until, retired_at; /* 0 = not yet */
	size_t	 value_len;
	char	 policy_hash[2 * BG_VAULT_HASH_LEN + 1];
	/* The operator who sealed it and so knows the value ("" for a
	 * version without a seal); they may not request it.  As the file
	 * says: a request checks the seal's signature. */
	char	 known_to[BG_VAULT_NAME_MAX + 1];
} bg_vault_version_info_t;

/*
 * Seal value (len 1..BG_VAULT_VALUE_MAX bytes; the caller keeps it in
 * sodium_malloc memory and wipes it) as version 1 of a new secret under
 * the policy of the tenant's signed head link.  by: a live operator of
 * the tenant, who signs the seal statement (the value and share
 * ciphertext hashes and the key commitment: what every approval and
 * release checks) and from then on is known to know the value (they may
 * not request it).  BG_ERR_STATE if the tenant has no signed policy.
 */
int bg_vault_secret_add(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *name, const uint8_t *value, size_t len);
/*
 * The same for n new secrets of one tenant (names[i], values[i], lens[i]),
 * all or none, in one transaction: one seal statement and one touch, one
 * fsync and one signed tree head for the batch, one secret.add event per
 * secret.  A refusal (a name that exists, a bad value) names the secret
 * and adds none of them.
 */
#define BG_VAULT_ADD_MANY_MAX	10000
int bg_vault_secret_add_many(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, size_t n, const char *const *names,
    const uint8_t *const *values, const size_t *lens);
/* tenant NULL: all tenants. */
int bg_vault_secret_list(bg_vault_t *v, const char *tenant,
    bg_vault_secret_info_t **listp, size_t *np);
int bg_vault_secret_show(bg_vault_t *v, const char *tenant, const char *name,
    bg_vault_secret_info_t **infop);
void bg_vault_secret_free(bg_vault_secret_info_t **p);
/* Every version of a secret, oldest first. */
int bg_vault_secret_versions(bg_vault_t *v, const char *tenant,
    const char *name, bg_vault_version_info_t **listp, size_t *np);
void bg_vault_version_free(bg_vault_version_info_t **p);

/* --- value generation -------------------------------------------------- */

#define BG_VAULT_GEN_LOWER	0x01u	/* a-z */
#define BG_VAULT_GEN_UPPER	0x02u	/* A-Z */
#define BG_VAULT_GEN_DIGIT	0x04u	/* 0-9 */
#define BG_VAULT_GEN_SYMBOL	0x08u	/* !#%+-.:=?@^_~ (shell- and URL-tame) */
#define BG_VAULT_GEN_DEFAULT	0x0fu
#define BG_VAULT_GEN_MIN_LEN	8
#define BG_VAULT_GEN_MAX_LEN	1024

/*
 * A random value of len characters (BG_VAULT_GEN_MIN_LEN..MAX_LEN) drawn
 * uniformly (randombytes_uniform, no modulo bias) from the union of the
 * classes, containing at least one character of every class asked for
 * (whole-value rejection sampling, so still uniform over such values).
 * *valuep: sodium_malloc, NUL-terminated, *lenp = len; sodium_free() it.
 */
int bg_vault_generate(size_t len, unsigned classes, uint8_t **valuep,
    size_t *lenp) __attribute__((warn_unused_result));

/* --- requests ----------------------------------------------------------- */

enum bg_vault_request_state {
	BG_VAULT_REQUEST_OPEN      = 1,	/* collecting approvals / releasable */
	BG_VAULT_REQUEST_RELEASED  = 2,
	BG_VAULT_REQUEST_DENIED    = 3,
	BG_VAULT_REQUEST_EXPIRED   = 4,	/* deadline passed before release */
	BG_VAULT_REQUEST_CANCELLED = 5,	/* withdrawn by its requester, or its
					   version retired by a rotation */
};
const char *bg_vault_request_state_name(int state);

typedef struct bg_vault_request_info {
	int64_t	 id;
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 secret[BG_VAULT_NAME_MAX + 1];
	int	 version;
	char	 requester[BG_VAULT_NAME_MAX + 1];
	char	 reason[BG_VAULT_REASON_MAX + 1];
	char	 ticket[BG_VAULT_TICKET_MAX + 1];
	int64_t	 ttl;
	int64_t	 created_at;
	int64_t	 deadline;		/* approvals and release before this */
	int	 state;			/* enum bg_vault_request_state (EXPIRED is
					   reported once the deadline passed) */
	int64_t	 closed_at;		/* 0 while open */
	bool	 satisfied;		/* the policy tree is met */
	size_t	 n_approvals;
	char	 approved_by[BG_VAULT_TEXT_MAX];	/* "alice, mia" */
	char	 denied_by[BG_VAULT_NAME_MAX + 1];	/* "" unless denied */
	char	 deny_reason[BG_VAULT_REASON_MAX + 1]; /* from the deny event */
	char	 missing[BG_VAULT_TEXT_MAX];	/* "needs 1 more from: mia", "" if met */
	char	 policy[BG_VAULT_POLICY_MAX + 1];	/* that sealed the version */
} bg_vault_request_info_t;

/*
 * Open a request by requester (a live requester of tenant) for the active
 * version of secret.  reason (1..BG_VAULT_REASON_MAX) and ticket
 * (1..BG_VAULT_TICKET_MAX) required; ttl 1..tenant max.  The version must
 * be sealed (not spent, not retired).  At most one open request per
 * version: a second one fails with BG_ERR_STATE naming the open one (an
 * open request past its deadline is closed as expired first).  The
 * requester's token signs the request statement (UV, counter forward).
 * Approval deadline = now + the tenant's approval window.
 */
int bg_vault_request(bg_vault_t *v, const char *tenant, const char *secret,
    const char *requester, const char *reason, const char *ticket,
    int64_t ttl, bg_token_t *tok, const char *pin, int64_t *request_idp);

/*
 * The canonical statement of request id as approvers are shown it right
 * now (vault id, tenant, secret, version, requester, reason, ticket, TTL,
 * request time, deadline, current audit-log head: size and hash), as text
 * (malloc, NUL-terminated, lines "key: value\n"; free()) and its SHA-256
 * in hash (may be NULL).  textp may be NULL when only the hash is wanted.
 * The statement changes whenever an event is logged (the head moves).
 */
int bg_vault_statement(bg_vault_t *v, int64_t request_id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN]);

/*
 * approver approves request id having been shown the statement whose hash
 * is shown_hash.  Refused: statement changed since shown (BG_ERR_STATE,
 * "... changed since it was shown ...; show it again"), approver is the
 * requester (BG_ERR_DENIED, "carol is the requester and cannot approve"),
 * not an approver of the tenant or not named by the sealing policy
 * (BG_ERR_DENIED), approver membership expired (BG_ERR_EXPIRED), already
 * approved (BG_ERR_EXISTS), deadline passed (BG_ERR_EXPIRED, "request 7
 * expired at ..."), request not open (BG_ERR_STATE), a token holding none
 * of the person's credentials (BG_ERR_TOKEN_NO_CREDENTIAL), token errors
 * (BG_ERR_TOKEN_*: wrong PIN, no UV, counter not forward), tampered rows
 * (BG_ERR_AUTH).  The token's
 * assertion is over SHA-256("breakglass approve v1\n" || statement); it is
 * stored as evidence.  The approver's share is opened with the token's
 * hmac-secret key and re-sealed to the request key.
 */
int bg_vault_approve(bg_vault_t *v, int64_t request_id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin);
/*
 * As approve, but closes the request as denied (assertion over
 * SHA-256("breakglass deny v1\n" || statement)).  reason is required
 * (1..BG_VAULT_REASON_MAX bytes, no control characters; else
 * BG_ERR_INVALID_ARG / BG_ERR_RANGE before the token is touched) and is
 * recorded as "reason" in the details of the "deny" audit event.  It is
 * not part of what the token signs.
 */
int bg_vault_deny(bg_vault_t *v, int64_t request_id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin, const char *reason);

/*
 * Release: only by the requester, with the token used for the request,
 * while the request is open and before its deadline, and only when the
 * policy tree is satisfied (else BG_ERR_DENIED, errmsg "needs 1 more
 * from: mia").  The value (sodium_malloc; the caller sodium_free()s it)
 * is handed out once: in one transaction the version becomes spent, the
 * lease starts (now + TTL), the request key and re-sealed shares are
 * destroyed and the event written.  A spent version is never released
 * again (BG_ERR_STATE).
 */
int bg_vault_release(bg_vault_t *v, int64_t request_id, const char *requester,
    bg_token_t *tok, const char *pin, uint8_t **valuep, size_t *lenp)
    __attribute__((warn_unused_result));

/*
 * Withdraw: the requester closes their own open request (state
 * CANCELLED), with any of their tokens in force signing
 * SHA-256("breakglass withdraw v1\n" || statement), the statement release
 * would sign.  In one transaction the request key and the re-sealed
 * shares are destroyed and the "withdraw" event written.  Approvals
 * already given still count toward the version's exposure: withdrawing
 * does not undo it.  Refused: not the requester (BG_ERR_DENIED), the
 * request not open (BG_ERR_STATE) or past its deadline (BG_ERR_EXPIRED),
 * token errors as for approve.
 */
int bg_vault_request_withdraw(bg_vault_t *v, int64_t request_id,
    const char *requester, bg_token_t *tok, const char *pin);

/*
 * The checks of request, approve, deny, release and withdraw without a
 * token: whatever the act would refuse before the touch (names, text,
 * state, deadline, membership, policy, a second approval, the quorum for
 * a release, tampered rows) is refused here the same way, with errmsg
 * and a "refused" event, and nothing else changes.  BG_OK means only
 * that the token and PIN are what remains to be asked for: the programs
 * call these before they ask for a PIN or a touch.
 */
int bg_vault_request_check(bg_vault_t *v, const char *tenant,
    const char *secret, const char *requester, const char *reason,
    const char *ticket, int64_t ttl);
int bg_vault_approve_check(bg_vault_t *v, int64_t request_id,
    const char *approver);
int bg_vault_deny_check(bg_vault_t *v, int64_t request_id,
    const char *approver, const char *reason);
int bg_vault_release_check(bg_vault_t *v, int64_t request_id,
    const char *requester);
int bg_vault_request_withdraw_check(bg_vault_t *v, int64_t request_id,
    const char *requester);

int bg_vault_request_show(bg_vault_t *v, int64_t request_id,
    bg_vault_request_info_t **infop);
/* tenant NULL: all; open_only: only requests still open (not expired). */
int bg_vault_request_list(bg_vault_t *v, const char *tenant, bool open_only,
    bg_vault_request_info_t **listp, size_t *np);
void bg_vault_request_free(bg_vault_request_info_t **p);

/* --- rotation ---------------------------------------------------------- */

/*
 * Seal value as a pending new version of secret, signed by by (a live
 * operator of the tenant, who is from then on known to know the value:
 * the version records it and they may not request it).  BG_ERR_STATE if
 * a rotation is already pending.  *versionp (may be NULL) gets the new
 * version number.
 */
int bg_vault_rotate_begin(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *secret, const uint8_t *value, size_t len,
    int *versionp);
/* Activate the pending version, retire the old one, cancel its requests;
 * signed by an operator of the tenant. */
int bg_vault_rotate_commit(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *secret);
/* Drop the pending version; signed by an operator of the tenant. */
int bg_vault_rotate_abort(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *secret);

/* --- status ------------------------------------------------------------ */

enum bg_vault_status_kind {
	BG_VAULT_STATUS_OPEN_REQUEST     = 1,
	BG_VAULT_STATUS_ACTIVE_LEASE     = 2,
	BG_VAULT_STATUS_ROTATION_DUE     = 3,
	BG_VAULT_STATUS_OVERDUE          = 4,	/* rotation deadline passed */
	BG_VAULT_STATUS_PENDING_ROTATION = 5,
	BG_VAULT_STATUS_MEMBER_EXPIRING  = 6,	/* within 30 days */
	BG_VAULT_STATUS_MEMBER_EXPIRED   = 7,
	BG_VAULT_STATUS_QUORUM_AT_RISK   = 8,	/* see vault_lifecycle.h */
	BG_VAULT_STATUS_QUORUM_BY_DESIGN = 9,	/* a note: see vault_lifecycle.h */
};
const char *bg_vault_status_kind_name(int kind); /* "open-request", ... */

typedef struct bg_vault_status_item {
	int	 kind;			/* enum bg_vault_status_kind */
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 object[2 * BG_VAULT_NAME_MAX + 16]; /* secret name, or "person (role)" */
	int64_t	 request_id;		/* OPEN_REQUEST, else 0 */
	int	 version;		/* secret items, else 0 */
	int64_t	 when;			/* deadline / lease end / rotate-by / expiry */
	char	 text[BG_VAULT_TEXT_MAX]; /* one-line sentence */
} bg_vault_status_item_t;

typedef struct bg_vault_check {
	size_t	 n_open_requests, n_active_leases, n_rotation_due, n_overdue,
		 n_pending_rotations, n_members_expiring, n_members_expired;
	/* true while any spent secret's lease has ended and it awaits
	 * rotation (rotation-due or overdue), and while a version is
	 * exposed at quorum unreleased: `vault check` exits non-zero then.
	 * A lease still running is not: it is the approved use, and the
	 * rotation cannot start before it ends. */
	bool	 attention;
} bg_vault_check_t;

/* tenant NULL: all tenants.  Items in kind order, then tenant, object. */
int bg_vault_status(bg_vault_t *v, const char *tenant,
    bg_vault_status_item_t **itemsp, size_t *np, bg_vault_check_t *check);
void bg_vault_status_free(bg_vault_status_item_t **p);
/* Just the counts (check may not be NULL). */
int bg_vault_check(bg_vault_t *v, const char *tenant, bg_vault_check_t *check);
/*
 * Move the clock's high-water mark to now with a "clock.tick" event (none
 * when nothing moved).  BG_ERR_CLOCK, logged, when the clock reads
 * earlier than the newest event.  vault check calls it, from a timer.
 */
int bg_vault_clock_tick(bg_vault_t *v, const char *actor);

/* --- audit log --------------------------------------------------------- */

/*
 * Each event's canonical entry is compact JSON with sorted keys:
 *   {"action":..,"actor":..,"details":{..},"object":..,"seq":N,
 *    "tenant":..,"time":T,"v":1}
 * leaf_i = SHA-256(0x00 || entry_i) (RFC 9162 leaf hash) and
 * chain_i = SHA-256(chain_{i-1} || leaf_i), with chain_0 = 32 zero bytes;
 * seq numbers start at 1 and have no gaps.  "refused" events carry
 * details {"attempted": action, "code": "BG_ERR_...", "message": errmsg}.
 */
typedef struct bg_vault_event {
	int64_t	 seq;
	int64_t	 time;
	char	 actor[BG_VAULT_NAME_MAX + 1];
	char	 action[32];		/* "request", "approve", "refused", ... */
	char	 tenant[BG_VAULT_NAME_MAX + 1];	/* "" for vault-wide events */
	char	 object[2 * BG_VAULT_NAME_MAX + 16];
	char	*entry;			/* canonical JSON (owned by the list) */
	uint8_t	 leaf[BG_VAULT_HASH_LEN];
	uint8_t	 chain[BG_VAULT_HASH_LEN];
} bg_vault_event_t;

typedef struct bg_vault_audit_filter {
	const char *tenant;		/* NULL: any */
	const char *person;		/* actor or details.person/requester/approver */
	const char *action;		/* NULL: any */
	int64_t	 since, until;		/* inclusive; 0: unbounded */
} bg_vault_audit_filter_t;

/* filter NULL: everything.  Oldest first. */
int bg_vault_audit_list(bg_vault_t *v, const bg_vault_audit_filter_t *filter,
    bg_vault_event_t **listp, size_t *np);
void bg_vault_audit_free(bg_vault_event_t **listp, size_t n);

/* Current head: number of events and chain hash (zeros when empty). */
int bg_vault_audit_head(bg_vault_t *v, int64_t *sizep,
    uint8_t head[BG_VAULT_HASH_LEN]);

/*
 * Recompute every entry (from its columns), leaf and chain hash.  BG_OK
 * when all match; BG_ERR_AUTH with *first_badp = the first bad seq and
 * errmsg saying what differs.  *sizep gets the number of events checked.
 */
int bg_vault_audit_verify(bg_vault_t *v, int64_t *sizep, int64_t *first_badp)
    __attribute__((warn_unused_result));

/* The rest of the engine's public API, one header per area. */
#include "breakglass/vault_log.h"
#include "breakglass/vault_evidence.h"
#include "breakglass/vault_lifecycle.h"
#include "breakglass/vault_chain.h"
#include "breakglass/vault_remote.h"

#endif /* BREAKGLASS_VAULT_H */
