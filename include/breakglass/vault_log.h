/*
 * breakglass vault engine: the transparency log: signed tree heads, proofs, receipts, export, backup and restore.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 */
#ifndef BREAKGLASS_VAULT_LOG_H
#define BREAKGLASS_VAULT_LOG_H

#endif /* BREAKGLASS_VAULT_LOG_H */
