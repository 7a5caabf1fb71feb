/*
 * breakglass vault engine: the signed genesis and the keyset chains
 * (docs/security.md, "Keyset chains").  Included by vault.h.
 *
 * Nothing that decides who can open a secret is a row: the custodians,
 * every membership with its credentials and membership keys, the policy
 * and the tenant's security settings are links of a chain that tokens
 * sign.  A change is made as a draft (the next link of its scope: the
 * vault's chain or a tenant's), shown to each signer in words, signed
 * with their token, and takes effect only when the signatures its kind of
 * change needs are all there (vault/chain.h has the rules).
 *
 * Scope: tenant NULL or "" is the vault's own chain: its genesis draft
 * until every custodian has signed it, then the next vault link
 * (custodians, custodian quorum, drill/production), which a custodian
 * quorum of the vault link in force signs.  Otherwise a tenant.
 */
#ifndef BREAKGLASS_VAULT_CHAIN_H
#define BREAKGLASS_VAULT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breakglass/token.h"

#define BG_VAULT_NEEDS_MAX	512

/* What a scope's chain and draft look like now (bg_vault_chain_show). */
typedef struct bg_vault_chain_view {
	char	 scope[65];		/* tenant, "" for the vault's chain */
	bool	 has_head;		/* a link has taken effect */
	uint64_t head_seq;
	char	 head_hash[65];		/* hex */
	bool	 has_draft;
	uint64_t draft_seq;
	char	 draft_hash[65];	/* hex: what a signer signs */
	uint8_t	 draft_hash_raw[32];
	char	*text;			/* the draft (else the head) in words */
	char	 signed_by[BG_VAULT_NEEDS_MAX];	/* "carol, dave" or "" */
	char	 needs[BG_VAULT_NEEDS_MAX];	/* what is missing, in words */
	bool	 ready;			/* the draft has what it needs */
} bg_vault_chain_view_t;

int bg_vault_chain_show(bg_vault_t *v, const char *tenant,
    bg_vault_chain_view_t **viewp) __attribute__((warn_unused_result));
void bg_vault_chain_view_free(bg_vault_chain_view_t **viewp);

/*
 * person signs the draft of the scope with their token (UV): the draft's
 * hash must still be expect (what was shown; NULL skips that check, for
 * callers that show nothing).  The credential is the person's in the
 * vault link in force, the chain or the draft.  When the signatures now
 * meet the rules the draft takes effect at once: *committedp is set (may
 * be NULL).  BG_ERR_STATE when the draft changed since it was shown, and
 * when a tenant's draft was made under another vault link than the one
 * in force ("the vault's custodians changed since this draft was made;
 * discard it").  tok and pin are both needed (both NULL is
 * bg_vault_chain_sign_check's call).
 */
int bg_vault_chain_sign(bg_vault_t *v, const char *tenant, const char *person,
    const uint8_t expect[32], bg_token_t *tok, const char *pin,
    bool *committedp) __attribute__((warn_unused_result));
/*
 * The checks of bg_vault_chain_sign without a token (no draft, a person
 * holding no credential in the scope, an expired membership, ...),
 * refused the same way and changing nothing else: called before the PIN
 * is asked for.
 */
int bg_vault_chain_sign_check(bg_vault_t *v, const char *tenant,
    const char *person) __attribute__((warn_unused_result));

/* Drop the scope's draft and its signatures; by: an operator of the
 * tenant or a custodian (the vault's draft: a custodian), who signs it. */
int bg_vault_chain_discard(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant);

/*
 * Enroll person's token as a custodian: into the vault's genesis draft
 * before the genesis is signed, afterwards into the vault's draft (the
 * next vault link, which a custodian quorum of the link in force signs).
 * quorum (0 = keep; new genesis drafts: 2) is how many custodians sign a
 * tenant's first link and the next vault link.  The event's actor is
 * person, whose new credential signs the enrollment proof.
 */
int bg_vault_custodian_add(bg_vault_t *v, const char *person,
    const char *label, int quorum, bg_token_t *tok, const char *pin)
    __attribute__((warn_unused_result));

/*
 * Remove custodian person in the vault's draft (after the genesis).
 * BG_ERR_STATE when fewer than two custodians would be left, when the
 * draft's quorum could not be met without them, or when the custodians
 * of the vault link in force that the draft keeps cannot reach its
 * quorum (lower the quorum in a link of its own first).  by: a
 * custodian in force, who signs the amendment.
 */
int bg_vault_custodian_remove(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *person) __attribute__((warn_unused_result));

/*
 * Vetted tokens: amend the vault's draft with its trust store
 * (docs/security.md, "Vetted tokens"): the FIDO root certificate file
 * (PEM or DER) the metadata BLOB is verified against, the BLOB file
 * (MDS3 JWS; verified, its nextUpdate not passed, its serial above the
 * one pinned), vendor attestation root files and AAGUIDs for the
 * allow-list; NULL / 0 leaves that part as it is, roots and AAGUIDs are
 * added (clear: the pinned roots and AAGUIDs are dropped first).  Takes
 * effect when a custodian quorum signs the vault link.  by: a custodian
 * in force (or one the genesis draft names), who signs the amendment.
 */
int bg_vault_custodian_trust(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *fido_root, const char *mds, const char *const *roots,
    size_t n_roots, const uint8_t (*aaguids)[16], size_t n_aaguids,
    bool clear);
/*
 * Set the vault's trust settings in its draft (after the genesis):
 * quorum (0 = keep; else 2..custodians) and allow_soft (-1 keep, 0
 * refuse software tokens: a production vault, 1 allow them: a drill
 * vault).  Refusing them while a custodian holds one is BG_ERR_STATE.
 * by: a custodian in force (or, before the genesis is signed, one its
 * draft names), who signs the amendment.
 */
int bg_vault_custodian_set(bg_vault_t *v, const bg_vault_signer_t *by,
    int quorum, int allow_soft) __attribute__((warn_unused_result));

/*
 * After a successful bg_vault_member_add or bg_vault_custodian_add: the
 * fingerprints (16 hex characters) of the new credential's signing key
 * and of its membership key ("" for a custodian), as vault chain show
 * prints them.  The person notes them and checks them in the draft
 * before anyone signs it.
 */
void bg_vault_enrolled_fingerprints(const bg_vault_t *v, char sign_fpr[17],
    char member_fpr[17]);

/*
 * Verify the vault's chain and every tenant's chain (not offboarded
 * ones) from the genesis by signatures, as every act does for its own
 * tenant: for vault check.  *np (may be NULL) gets the number of tenants verified.
 * BG_ERR_AUTH with a sentence naming the first link that does not
 * verify; BG_ERR_STATE before the genesis is signed.
 */
int bg_vault_chains_verify(bg_vault_t *v, size_t *np);

/* The hex SHA-256 of the vault's genesis ("" until it is signed). */
const char *bg_vault_genesis_hash(const bg_vault_t *v);

#endif /* BREAKGLASS_VAULT_CHAIN_H */
