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

/* by: an operator of the tenant or a custodian, who signs the plan. */
int bg_vault_rekey_propose(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, int64_t *idp);
/* The statement a contributor is shown and signs, and its hash. */
int bg_vault_rekey_statement(bg_vault_t *v, int64_t id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN]);
int bg_vault_rekey_contribute(bg_vault_t *v, int64_t id, const char *person,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin, bool *committedp);
/* by: an operator of the tenant or a custodian. */
int bg_vault_rekey_abort(bg_vault_t *v, const bg_vault_signer_t *by,
    int64_t id);
int bg_vault_rekey_show(bg_vault_t *v, int64_t id,
    bg_vault_rekey_info_t **infop);
void bg_vault_rekey_free(bg_vault_rekey_info_t **p);

/* --- recertification ------------------------------------------------------ */

/*
 * Move person's membership (role 0: every role of theirs) in tenant to
 * expire at expires_at, as an amendment of the tenant's draft link: it
 * takes effect when the client co-signers sign it (vault chain sign).  A
 * date earlier than the current expiry is refused unless shorten is set
 * (then it is a removal-class change).  by: an operator of the tenant or
 * a custodian, who signs the amendment.
 */
int bg_vault_member_recertify(bg_vault_t *v, const bg_vault_signer_t *by,
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

/* --- RACI and recertification, read from the signed chain ---------------- */

/*
 * A tenant's RACI as its chain in force says it (vault/recert.c), never
 * from the membership rows: the chain is verified from the genesis by
 * signatures, then its links are read once, oldest first, to find for
 * every membership since when it has held continuously and which link
 * last certified it (granted it, or lengthened its expiry), and who
 * signed that link (signatures that verify, from link_sigs).
 *
 *  - accountable: client approvers;
 *  - responsible: operators and MSP approvers;
 *  - requesters (technicians); the auditor (audit owner);
 *  - custodians: of the newest vault link (vault-wide acts).
 *
 * Times of links: "time" is the link's own signed time (when its draft
 * was last amended); "committed_at" is when it took effect, from the
 * links row (the audit log's chain.link event records the same moment;
 * the row itself is not signed).
 */

/* A person who signed a link, as the membership whose credential signed
 * (BG_VAULT_ROLE_CUSTODIAN for a custodian of the vault link it names). */
typedef struct bg_vault_raci_signer {
	char	 person[BG_VAULT_NAME_MAX + 1];
	int	 role;			/* enum bg_vault_role */
	int	 side;			/* enum bg_vault_side (approvers) */
} bg_vault_raci_signer_t;

/* A link of the tenant's chain, as a point in time. */
typedef struct bg_vault_raci_when {
	uint64_t seq;			/* 0: none */
	int64_t	 time;			/* signed (drafted) */
	int64_t	 committed_at;		/* took effect (row) */
} bg_vault_raci_when_t;

typedef struct bg_vault_raci_member {
	char	 person[BG_VAULT_NAME_MAX + 1];
	int	 role;			/* enum bg_vault_role */
	int	 side;			/* enum bg_vault_side */
	int64_t	 expires_at;
	bool	 expired;		/* expires_at <= now */
	bool	 due;			/* not expired, expires within
					   BG_VAULT_EXPIRY_WARN (30 days) */
	size_t	 n_tokens;
	/* the first link of the unbroken run of links holding it */
	bg_vault_raci_when_t since;
	/* the newest link that granted it or lengthened its expiry */
	bg_vault_raci_when_t certified;
	bool	 extended;		/* certified lengthened (else granted) */
	size_t	 n_signers;		/* who signed `certified` */
	bg_vault_raci_signer_t *signers;
} bg_vault_raci_member_t;

typedef struct bg_vault_raci {
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	int64_t	 now;			/* judged at (max(clock, newest event)) */
	bool	 has_link;		/* false until a link took effect */
	bg_vault_raci_when_t link;	/* the link in force */
	char	 link_hash[2 * BG_VAULT_HASH_LEN + 1];	/* hex */
	char	 policy[BG_VAULT_POLICY_MAX + 1];	/* "" if none */
	int	 client_cosign;
	/* sorted: client approvers, operators, MSP approvers, requesters,
	 * auditors; by person within each */
	size_t	 n_members;
	bg_vault_raci_member_t *members;
	uint64_t vault_seq;		/* the vault link of the custodians */
	size_t	 n_custodians;
	char	(*custodians)[BG_VAULT_NAME_MAX + 1];
	/* Some qualified set of the policy has no client approver: the MSP
	 * could approve its own access (needs an exception). */
	bool	 msp_alone;
	/* The link in force carries an exception (bg_vault_policy_set). */
	bool	 has_exception;
	char	 exception_reason[BG_VAULT_REASON_MAX + 1];
	int64_t	 exception_expires;
	bool	 exception_live;	/* exception_expires > now */
	bg_vault_raci_when_t exception_since;	/* link that set it */
	size_t	 n_exception_signers;
	bg_vault_raci_signer_t *exception_signers;
} bg_vault_raci_t;

/*
 * The RACI of tenant (a tenant without a link in force: has_link false,
 * no members).  BG_ERR_NOT_FOUND for no such tenant, BG_ERR_STATE when
 * offboarded or when the chain changed while it was read (run it
 * again), BG_ERR_AUTH when a link does not verify.
 */
int bg_vault_raci(bg_vault_t *v, const char *tenant, bg_vault_raci_t **racip)
    __attribute__((warn_unused_result));
void bg_vault_raci_free(bg_vault_raci_t **p);
/* "accountable", "responsible", "requester", "audit-owner" or
 * "custodian": where a role (and side) stands in the RACI. */
const char *bg_vault_raci_class(int role, int side);
/*
 * The RACI as compact JSON (malloc; free()): the object that
 * `vault tenant show --json` and the reports carry as "raci"
 * (docs/vault.1, RACI).
 */
int bg_vault_raci_json(const bg_vault_raci_t *r, char **jsonp);

/*
 * The recertification report of tenant as JSON (format tag
 * "bg-recert-v1"): who holds which role, since when, last certified by
 * whom, expiring when, rows due within 30 days marked.  Render it with
 * bg_vault_report_render (text, JSON or HTML).
 */
int bg_vault_recert_report(bg_vault_t *v, const char *tenant, char **jsonp);

/*
 * Status items of these kinds (vault.h's enum continues here): the
 * MSP self-approval exception of a tenant's link in force, live
 * ("MSP may approve its own access until ...: reason") or ended while
 * the policy still lets the MSP side meet it alone.
 */
#define BG_VAULT_STATUS_MSP_EXCEPTION		10
#define BG_VAULT_STATUS_MSP_EXCEPTION_ENDED	11

/* --- offboarding ---------------------------------------------------------- */

/*
 * Destroy every sealed value, share, request key, re-sealed share,
 * re-key proposal and token credential of the tenant, end its
 * memberships and mark it offboarded, in one transaction with the
 * "tenant.offboard" event (audit events are kept); secure_delete is on,
 * and a WAL checkpoint TRUNCATE follows.  confirm must equal the tenant
 * name.  by: an operator of the tenant, who signs the destruction first
 * (tok NULL: check only, certp may then be NULL).  *certp (malloc;
 * free()) gets the signed destruction certificate (docs/vault.1,
 * DESTRUCTION CERTIFICATE).
 */
int bg_vault_tenant_offboard(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *confirm, char **certp);
/*
 * Check a destruction certificate's format and signature against this
 * vault's signing key.  BG_ERR_AUTH (errmsg says what) when it does not
 * verify, BG_ERR_PARSE when it is not one.
 */
int bg_vault_certificate_verify(bg_vault_t *v, const char *text,
    size_t len) __attribute__((warn_unused_result));

#endif /* BREAKGLASS_VAULT_LIFECYCLE_H */
