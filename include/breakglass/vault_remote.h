/*
 * breakglass vault engine: remote approval across the air gap (issue 13).
 * Part of the public API; included by vault.h, not on its own.  Same
 * conventions as vault.h.  The formats are vault/remote.h's; the walk-
 * through is docs/remote-approval.md.
 */
#ifndef BREAKGLASS_VAULT_REMOTE_H
#define BREAKGLASS_VAULT_REMOTE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The membership card of approver person of tenant (a file's text,
 * malloc'd into *cardp): the genesis, the vault's log key, the person's
 * salt, credentials and membership keys, and the newest chain links and
 * signed tree head, signed by the person's token (one UV touch with the
 * membership's salt: the hmac-secret output must give the enrolled
 * membership key).  Logs "member.card".  *textp (may be NULL) gets the
 * card's body to show before the touch is asked: call with tok NULL
 * first (nothing is signed or stored then, BG_OK), then with the token.
 */
int bg_vault_member_card(bg_vault_t *v, const char *tenant,
    const char *person, bg_token_t *tok, const char *pin, char **textp,
    char **cardp);

/*
 * The request packet of open request request_id for approver person
 * (malloc'd text into *packetp): the requester's signed statement and
 * signature, the vault's links from the genesis and the tenant's links
 * from the oldest the person's cards or the version need, the person's
 * sealed shares, the signed tree head with the hash-chain head at its
 * size, and consistency proofs to it from the tree heads of the person's
 * cards and earlier packets.  No value ciphertext.  Logs
 * "packet.export", signed by by (a requester or an operator of the
 * tenant, or a custodian; tok NULL: check only) before the tree head is
 * taken, so the head covers it.  *sizep (may be NULL) gets the packet's
 * tree size.
 */
int bg_vault_packet_export(bg_vault_t *v, const bg_vault_signer_t *by,
    int64_t request_id, const char *person, char **packetp,
    int64_t *sizep);

/*
 * Import an approval packet (len bytes of text): it counts exactly as an
 * approval or denial made at the vault (request.c's decide: every check
 * of `vault approve`), with the approver's signature verified over the
 * full statement, whose log lines must be this log's at a size a request
 * packet for this request and person was written at.  *request_idp and
 * *decisionp (1 approve, 2 deny; may be NULL) say what it was.
 */
int bg_vault_packet_import(bg_vault_t *v, const char *text, size_t len,
    int64_t *request_idp, int *decisionp);

/*
 * Does today's log extend the tree head an approver's machine witnessed?
 * text: the witness state file's one line (tokenctl's
 * "witness-<genesis>").  It must name this vault's genesis; the log must
 * verify whole (bg_vault_audit_verify()), have at least its size events
 * and the root of its first size events must be its root.  *sizep (may
 * be NULL) gets the witnessed size.  BG_OK; BG_ERR_PARSE (not a witness
 * state); BG_ERR_AUTH (another vault's, or this log rolled back behind
 * it or rewritten: errmsg says which).
 */
int bg_vault_log_check_witness(bg_vault_t *v, const char *text,
    uint64_t *sizep) __attribute__((warn_unused_result));

#endif /* BREAKGLASS_VAULT_REMOTE_H */
