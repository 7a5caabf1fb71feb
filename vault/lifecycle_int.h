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

struct bg_chain_link;

/*
 * Parse expr as a new policy for keyset ks (a draft link) of tenant and
 * check it as policy set does: every leaf a live approver of ks
 * (positioned errors), no single person able to satisfy it.  *polp gets
 * the parsed policy.
 */
int bg_policy_validate(bg_vault_t *v, const struct bg_chain_link *ks,
    const char *tenant, const char *expr, int64_t now, bg_policy_t **polp);

#endif /* BG_LIFECYCLE_INT_H */
