/*
 * breakglass vault engine: re-keying, recertification, offboarding.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 */
#ifndef BREAKGLASS_VAULT_LIFECYCLE_H
#define BREAKGLASS_VAULT_LIFECYCLE_H

/* --- re-key by redistribution ----------------------------------------------- */

/*
 * A change of policy or approvers is a link of the tenant's keyset chain
 * (vault_chain.h).  Versions sealed before it stay under the link that
 * sealed them until they are rotated or re-keyed.  A re-key never
 * rebuilds a data key (vault/rekey.c has the protocol):
 *  - propose (no token): every sealed or pending version not under the
 *    newest link, each with the canonical minimal qualified set of its
 *    policy among approvers still live and their coefficients;
 *  - contribute (each contributor's token, once): their own share,
 *    scaled and split under the new policy, each sub-share boxed from
 *    their membership key to each token of its new holder;
 *  - the last contribution commits: the old shares are destroyed and the
 *    sub-shares become the shares (a holder's share is their sum).
 * Refused while a request of the tenant is open; while it is open,
 * nothing is sealed or requested there.
 */
const char *bg_vault_rekey_state_name(int state); /* "open", ... */

typedef struct bg_vault_rekey_info {
	int64_t	 id;
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	int	 state;			/* 1 open, 2 committed, 3 aborted */
	uint64_t to_seq;		/* the link the versions move to */
	char	 contributed[BG_VAULT_TEXT_MAX];	/* "alice, mia" */
	char	*body;			/* the statement without log lines */
} bg_vault_rekey_info_t;

int bg_vault_rekey_propose(bg_vault_t *v, const char *actor,
    const char *tenant, int64_t *idp);
/* The statement a contributor is shown and signs, and its hash. */
int bg_vault_rekey_statement(bg_vault_t *v, int64_t id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN]);
int bg_vault_rekey_contribute(bg_vault_t *v, int64_t id, const char *person,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin, bool *committedp);
int bg_vault_rekey_abort(bg_vault_t *v, const char *actor, int64_t id);
int bg_vault_rekey_show(bg_vault_t *v, int64_t id,
    bg_vault_rekey_info_t **infop);
void bg_vault_rekey_free(bg_vault_rekey_info_t **p);

/* --- recertification ------------------------------------------------------ */

/*
 * Move person's membership (role 0: every role of theirs) in tenant to
 * expire at expires_at, as an amendment of the tenant's draft link: it
 * takes effect when the client co-signers sign it (vault chain sign).  A
 * date earlier than the current expiry is refused unless shorten is set
 * (then it is a removal-class change).
 */
int bg_vault_member_recertify(bg_vault_t *v, const char *actor,
    const char *tenant, const char *person, int role, int64_t expires_at,
    bool shorten);

/*
 * Quorum at risk (a status item of this kind; vault.h's enum continues
 * here).  A policy leaf counts as live when the approver's membership is
 * not removed and expires more than BG_VAULT_EXPIRY_WARN (30 days) after
 * now.  The tenant is at risk when the live approvers do not satisfy its
 * policy ("quorum lost"), or when losing any one more of them would leave
 * it unsatisfiable although the policy itself gave that approver an
 * alternate, who is removed or expiring ("quorum at risk").  An approver
 * the policy gives no alternate even with everyone live (a group of one)
 * is a deliberate design: BG_VAULT_STATUS_QUORUM_BY_DESIGN, a note that
 * status shows and check does not print.
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
