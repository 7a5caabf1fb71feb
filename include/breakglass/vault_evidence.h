/*
 * breakglass vault engine: incident reports and evidence bundles.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 */
#ifndef BREAKGLASS_VAULT_EVIDENCE_H
#define BREAKGLASS_VAULT_EVIDENCE_H

#endif /* BREAKGLASS_VAULT_EVIDENCE_H */
