/*
 * breakglass vault engine: re-key ceremonies, recertification, offboarding.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 */
#ifndef BREAKGLASS_VAULT_LIFECYCLE_H
#define BREAKGLASS_VAULT_LIFECYCLE_H

/* --- re-key ceremony ------------------------------------------------------ */

/*
 * Changing the policy of a tenant that holds sealed material re-splits
 * every sealed and pending version of the tenant in one ceremony whose
 * approvals meet the OLD policy (DESIGN "Sealing"):
 *
 *  1. propose: a live requester or approver of the tenant (the proposer)
 *     touches their token; the vault makes a fresh X25519 proposal key
 *     and seals its private half to the proposer's membership key.  The
 *     statement every approver signs names the old and new policy, the
 *     hash of the new approvers' keys and the diff.
 *  2. approve: each approver named by the old policy (never the
 *     proposer) is shown the statement and touches; the vault opens that
 *     approver's leaf share of every sealed and pending version and
 *     re-seals it to the proposal key.
 *  3. commit: the proposer touches again; in ONE transaction the vault
 *     opens the proposal key, rebuilds each version's data key, decrypts
 *     the value, seals it under a FRESH data key split by the new policy,
 *     replaces the version's shares, sets the tenant's policy, cancels the
 *     tenant's open requests, destroys the proposal key and interim
 *     shares and writes the "policy.set" event (policy hash and keyset,
 *     as for a first policy, plus the re-key id and diff); then WAL
 *     checkpoint TRUNCATE.
 *
 * Until commit the old policy stays in force.  One open proposal per
 * tenant; a proposal expires after the tenant's approval window.
 * Spent and retired versions are not re-split: their shares are destroyed
 * at commit (they can never be released again).
 */
enum bg_vault_rekey_state {
	BG_VAULT_REKEY_OPEN      = 1,
	BG_VAULT_REKEY_COMMITTED = 2,
	BG_VAULT_REKEY_ABORTED   = 3,
	BG_VAULT_REKEY_EXPIRED   = 4,
};
const char *bg_vault_rekey_state_name(int state); /* "open", ... */

typedef struct bg_vault_rekey_info {
	int64_t	 id;			/* 0 for a preview */
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 proposer[BG_VAULT_NAME_MAX + 1];
	int	 state;			/* enum bg_vault_rekey_state */
	char	 old_policy[BG_VAULT_POLICY_MAX + 1];
	char	 new_policy[BG_VAULT_POLICY_MAX + 1];
	char	 added[BG_VAULT_TEXT_MAX];	/* "carol, dan" or "" */
	char	 removed[BG_VAULT_TEXT_MAX];	/* "bob" or "" */
	bool	 thresholds_changed;	/* same names, different tree */
	size_t	 people_before, people_after;	/* bg_policy_min_people */
	bool	 lowers;		/* people_after < people_before */
	size_t	 n_versions;		/* sealed + pending versions */
	int64_t	 created_at, deadline, closed_at;
	size_t	 n_approvals;
	char	 approved_by[BG_VAULT_TEXT_MAX];
	bool	 satisfied;		/* the old policy is met */
	char	 missing[BG_VAULT_TEXT_MAX];
} bg_vault_rekey_info_t;

/*
 * The diff a policy change would make (no write, no token): fills *infop
 * (id 0).  Validates expr as policy set does.
 */
int bg_vault_rekey_preview(bg_vault_t *v, const char *tenant,
    const char *expr, bg_vault_rekey_info_t **infop);

/*
 * Open a re-key proposal (see above).  A change that lowers the number of
 * people needed is refused with BG_ERR_DENIED unless confirm_lower is set;
 * the event then says "lowers": true.  BG_ERR_STATE when a proposal is
 * already open for the tenant, or the tenant holds no versions to
 * re-split (use bg_vault_policy_set).  *idp gets the proposal id.
 */
int bg_vault_rekey_propose(bg_vault_t *v, const char *tenant,
    const char *expr, bool confirm_lower, const char *proposer,
    bg_token_t *tok, const char *pin, int64_t *idp);
/* The statement of proposal id as approvers see and sign it, and its hash. */
int bg_vault_rekey_statement(bg_vault_t *v, int64_t id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN]);
/* One approval (statement hash as shown; BG_ERR_STATE if it moved). */
int bg_vault_rekey_approve(bg_vault_t *v, int64_t id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin);
/* Commit (the proposer, with the token used to propose). */
int bg_vault_rekey_commit(bg_vault_t *v, int64_t id, const char *proposer,
    bg_token_t *tok, const char *pin);
/* Abort an open proposal (an operator; no token needed). */
int bg_vault_rekey_abort(bg_vault_t *v, const char *actor, int64_t id);
int bg_vault_rekey_show(bg_vault_t *v, int64_t id,
    bg_vault_rekey_info_t **infop);
/* The open proposal of a tenant: *idp 0 when none. */
int bg_vault_rekey_open_id(bg_vault_t *v, const char *tenant, int64_t *idp);
void bg_vault_rekey_free(bg_vault_rekey_info_t **p);

/* --- recertification ------------------------------------------------------ */

/*
 * Two touches over one statement (vault, tenant, person, the person's
 * roles and expiries, the new expiry, the approver, time, log head):
 *  1. prove: the person's token (PIN + touch, UV checked; no hmac-secret,
 *     nothing is opened) signs SHA-256("breakglass recertify v1\n" ||
 *     statement).  Counter stored; no event unless it fails.
 *  2. recertify: a live approver of the tenant other than the person
 *     signs SHA-256("breakglass recertify-approve v1\n" || statement)
 *     within 10 minutes of the proof; every non-removed membership of the
 *     person in the tenant then expires at expires_at; the event
 *     "member.recertify" carries both assertions (authdata, signature,
 *     token) and the statement.
 */
typedef struct bg_vault_recert_proof bg_vault_recert_proof_t;

int bg_vault_recertify_prove(bg_vault_t *v, const char *tenant,
    const char *person, int64_t expires_at, const char *approver,
    bg_token_t *tok, const char *pin, bg_vault_recert_proof_t **proofp);
/* The statement (owned by the proof). */
const char *bg_vault_recert_statement(const bg_vault_recert_proof_t *p);
int bg_vault_recertify(bg_vault_t *v, const bg_vault_recert_proof_t *proof,
    bg_token_t *tok, const char *pin);
void bg_vault_recert_proof_free(bg_vault_recert_proof_t **p);

/*
 * Quorum at risk (a status item of this kind; vault.h's enum continues
 * here).  A policy leaf counts as live when the approver's membership is
 * not removed and expires more than BG_VAULT_EXPIRY_WARN (30 days) after
 * now.  The tenant is at risk when the live approvers do not satisfy its
 * policy ("quorum lost"), or when losing any one more of them would leave
 * it unsatisfiable ("quorum at risk").
 */

/* --- offboarding ---------------------------------------------------------- */

/*
 * Destroy every sealed value, share, request key, re-sealed share,
 * re-key proposal and token credential of the tenant, end its
 * memberships and mark it offboarded, in one transaction with the
 * "tenant.offboard" event (audit events are kept); secure_delete is on,
 * and a WAL checkpoint TRUNCATE follows.  confirm must equal the tenant
 * name.  *certp (malloc; free()) gets the signed destruction certificate
 * (docs/vault.1, DESTRUCTION CERTIFICATE).
 */
int bg_vault_tenant_offboard(bg_vault_t *v, const char *actor,
    const char *tenant, const char *confirm, char **certp);
/*
 * Check a destruction certificate's format and signature against this
 * vault's signing key.  BG_ERR_AUTH (errmsg says what) when it does not
 * verify, BG_ERR_PARSE when it is not one.
 */
int bg_vault_certificate_verify(bg_vault_t *v, const char *text,
    size_t len) __attribute__((warn_unused_result));

#endif /* BREAKGLASS_VAULT_LIFECYCLE_H */
