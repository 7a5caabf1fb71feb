/*
 * breakglass vault engine: re-keying, recertification, offboarding.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 */
#ifndef BREAKGLASS_VAULT_LIFECYCLE_H
#define BREAKGLASS_VAULT_LIFECYCLE_H

/* --- re-key -------------------------------------------------------------- */

/*
 * A change of policy or approvers is a link of the tenant's keyset chain
 * (vault_chain.h).  Versions sealed before it stay sealed under the link
 * they were sealed with (their shares are bound to that link's hash) and
 * open only for that link's policy, met by approvers who are still live
 * in the newest link; a rotation seals the new value under the newest
 * link.  The re-key ceremony that rebuilt every data key at one
 * proposer's machine is gone: it handed every secret of a tenant to one
 * person (docs/security.md).  Re-keying by redistribution of shares
 * comes in its place.
 */

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
