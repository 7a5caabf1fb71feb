/*
 * Internal to libbgvault: helpers the lifecycle flows (rekey.c,
 * offboard.c, member.c recertification) share with tenant.c and
 * secret.c.  Not a public header.
 */
#ifndef BG_LIFECYCLE_INT_H
#define BG_LIFECYCLE_INT_H

#include "policy.h"
#include "seal.h"
#include "vault_int.h"

/*
 * Parse expr as a new policy for tenant t and check it as policy set
 * does: every leaf a live approver (positioned errors), no single person
 * able to satisfy it.  *polp gets the parsed policy.
 */
int bg_policy_validate(bg_vault_t *v, const bg_tenant_row_t *t,
    const char *expr, int64_t now, bg_policy_t **polp);

/*
 * Seal one leaf share (32 bytes) of version version_id (secret name
 * secret, version number version) to every live token of approver name
 * in tenant t, with the share AD binding policy_hash (secret.c).  eph is
 * the version's ephemeral key (one per version, shared by its leaves).
 */
int bg_secret_seal_leaf(bg_vault_t *v, const bg_tenant_row_t *t,
    bg_seal_eph_t *eph, const char *secret, int version, int64_t version_id,
    const uint8_t policy_hash[32], size_t leaf, const char *name,
    const uint8_t *share);

/* The keyset hash tenant t would have under policy text (tenant.c). */
int bg_keyset_for(bg_vault_t *v, const bg_tenant_row_t *t,
    const char *policy, uint8_t out[BG_VAULT_HASH_LEN], json_t **keysp);

#endif /* BG_LIFECYCLE_INT_H */
