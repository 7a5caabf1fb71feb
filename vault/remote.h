/*
 * Remote approval across the air gap (issue 13): membership cards,
 * request packets and approval packets, and what the approver's own
 * machine checks before its token signs.  docs/remote-approval.md has
 * the walk-through, docs/security.md the threat model.
 *
 * Store-free (STYLE rule 17): nothing here touches SQLite, so the
 * approver's program (tokenctl approve) links none of the store.  The
 * vault writes cards and request packets and imports approval packets
 * through packet.c and request.c, which use these encoders and parsers.
 *
 * Formats: one canonical JSON object per file (UTF-8, keys sorted, no
 * white space, binary as lower-case hex), followed by one "\n".  Every
 * key is always present and no other key is allowed; a parser accepts
 * only the text its encoder writes (parse, encode again, compare), so a
 * packet has exactly one text, as a chain link has (chain.h).
 *
 *   card:      {"body":{...},"signature":{"authdata","cred_id","sig"}}
 *              the person's token signs SHA-256("breakglass card v1\n"
 *              || body's canonical text) with UV
 *   request:   {"format":"bg-request-packet","v":3,...}
 *   approval:  {"format":"bg-approval-packet","v":1,...}
 *
 * Errors: BG_OK or a negative BG_ERR_*; why/whylen get one sentence.
 */
#ifndef BG_REMOTE_H
#define BG_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breakglass/token.h"
#include "chain.h"
#include "policy.h"
#include "seal.h"
#include "treehead.h"

#define BG_REMOTE_V		1
#define BG_REMOTE_MAX		(4u * 1024u * 1024u)	/* bytes of a packet */
#define BG_REMOTE_MAX_LINKS	256	/* links of one kind in a packet */
#define BG_REMOTE_MAX_PROOFS	64
#define BG_REMOTE_MAX_ENTRIES	65536	/* log entries in a request packet */
#define BG_REMOTE_REQ_V		3	/* request packets: v2 carries the log,
					 * v3 the version's seal act and the
					 * witnesses' cosignatures */
#define BG_REMOTE_MAX_COSIGS	256	/* witnesses' cosignatures in a packet */
#define BG_REMOTE_MAX_SHARES	BG_CHAIN_MAX_TOKENS
#define BG_REMOTE_SHARE_BLOB	(BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD)
#define BG_REMOTE_WHY_MAX	512

#define BG_REMOTE_APPROVE	1
#define BG_REMOTE_DENY		2

/* Shared with the vault (hashes.c; also declared in vault_int.h). */
void	bg_statement_cdh(const char *action, const char *text,
	    uint8_t cdh[BG_TOKEN_CDH_LEN]);
/* What a denial signs: the statement with "deny-reason: REASON" as its
 * last line (*textp replaced; reason is clean text). */
int	bg_deny_text(char **textp, const char *reason);
void	bg_share_binding(const uint8_t policy_hash[32],
	    const uint8_t chain_head[32], uint8_t out[32]);

/* One credential on a card, as the chain gives it. */
typedef struct bg_card_cred {
	int	 alg;
	char	 label[BG_CHAIN_NAME_MAX + 1];
	uint8_t	 id[BG_CHAIN_CRED_MAX];		size_t id_len;
	uint8_t	 pubkey[BG_CHAIN_PUBKEY_MAX];	size_t pubkey_len;
	uint8_t	 member_pk[32];
} bg_card_cred_t;

/* An assertion: which credential, its authenticator data and signature. */
typedef struct bg_remote_sig {
	uint8_t	 cred_id[BG_CHAIN_CRED_MAX];	size_t cred_id_len;
	uint8_t	 authdata[BG_CHAIN_AUTHDATA_MAX]; size_t authdata_len;
	uint8_t	 sig[BG_CHAIN_SIG_MAX];		size_t sig_len;
} bg_remote_sig_t;

/*
 * A membership card: what the approver's machine trusts, made at the vault
 * with the person's token.  Its chain heads and tree head are the newest
 * the person has seen; a packet must extend them.
 */
typedef struct bg_card {
	char	 vault_id[33];
	char	 rp_id[64];
	uint8_t	 genesis[32];
	uint8_t	 log_key[32];		/* the vault's tree-head key, pinned */
	char	 tenant[BG_CHAIN_NAME_MAX + 1];
	char	 person[BG_CHAIN_NAME_MAX + 1];
	int	 role;			/* BG_CHAIN_ROLE_* */
	uint8_t	 salt[32];
	size_t	 n_creds;
	bg_card_cred_t creds[BG_CHAIN_MAX_TOKENS];
	uint64_t chain_seq;		/* the tenant link in force */
	uint8_t	 chain_hash[32];
	uint64_t vault_seq;		/* the vault link in force */
	uint8_t	 vault_hash[32];
	bg_treehead_t th;		/* the newest signed tree head */
	int64_t	 time;
	bg_remote_sig_t sig;		/* the person's, over the body */
} bg_card_t;

/* A link with its signatures, as the links and link_sigs rows hold it. */
typedef struct bg_remote_link {
	char		*body;		/* the link's canonical text */
	size_t		 n_sigs;
	bg_chain_sig_t	*sigs;
} bg_remote_link_t;

typedef struct bg_remote_share {
	uint8_t	 cred_id[BG_CHAIN_CRED_MAX];	size_t cred_id_len;
	uint64_t leaf;
	uint8_t	 blob[BG_REMOTE_SHARE_BLOB];	size_t blob_len;
} bg_remote_share_t;

typedef struct bg_remote_proof {
	uint64_t from;			/* consistency proof from this size */
	size_t	 n;
	uint8_t	 (*path)[32];
} bg_remote_proof_t;

/*
 * A witness's cosignature: the statement an approver's token signed at an
 * approval (at the vault or away), which names the genesis, the tenant,
 * the keyset link whose credential signed, and the log's size, head and
 * root the approver was shown; and that assertion.
 */
typedef struct bg_remote_cosig {
	char	 person[BG_CHAIN_NAME_MAX + 1];
	char	*statement;
	bg_remote_sig_t sig;
} bg_remote_cosig_t;

/* A request packet: one request, for one approver. */
typedef struct bg_reqpkt {
	char	 vault_id[33];
	uint8_t	 genesis[32];
	int64_t	 request;
	char	 tenant[BG_CHAIN_NAME_MAX + 1];
	char	 person[BG_CHAIN_NAME_MAX + 1];	/* the approver it is for */
	char	*statement;		/* the requester's signed statement */
	bg_remote_sig_t req_sig;	/* the requester's assertion over it */
	size_t	 n_vault_links;		/* the vault's chain from the genesis */
	bg_remote_link_t *vault_links;
	size_t	 n_links;		/* the tenant's links, consecutive */
	bg_remote_link_t *links;
	size_t	 n_shares;
	bg_remote_share_t shares[BG_REMOTE_MAX_SHARES];
	bg_treehead_t th;		/* the log when the packet was written */
	uint8_t	 log_head[32];		/* the event hash chain at th.size */
	size_t	 n_proofs;
	bg_remote_proof_t *proofs;	/* to th.size from earlier sizes */
	/* The log itself from size log_from (at most the approver's card's
	 * tree size) to th.size: the frontier at log_from and every entry
	 * after it, so that the approver recomputes the roots its card,
	 * its witness state and th name and sees every link event. */
	uint64_t log_from;
	size_t	 n_frontier;
	uint8_t	 (*frontier)[32];
	size_t	 n_entries;
	char	**entries;		/* event seq log_from+1+i */
	/* The operator's signed seal of the version (the acts row): its
	 * statement and the assertion over SHA-256("breakglass seal v1\n"
	 * || statement), checked on the approver's machine through the
	 * chain it verifies (bg_remote_check). */
	char	*seal;
	bg_remote_sig_t seal_sig;
	/* The newest cosignature of every witness of the tenant the vault
	 * holds (the approval with the largest log size, per person): the
	 * approver's machine refuses a log that does not extend the
	 * largest it verifies. */
	size_t	 n_cosigs;
	bg_remote_cosig_t *cosigs;
	int64_t	 time;
} bg_reqpkt_t;

/* An approval or a denial, made on the approver's machine. */
typedef struct bg_apppkt {
	char	 vault_id[33];
	uint8_t	 genesis[32];
	int64_t	 request;
	char	 person[BG_CHAIN_NAME_MAX + 1];
	int	 decision;		/* BG_REMOTE_APPROVE / _DENY */
	char	 reason[BG_CHAIN_REASON_MAX + 1];	/* deny: why */
	char	*statement;		/* what the approver signed */
	bg_remote_sig_t sig;
	uint64_t leaf;
	uint8_t	 resealed[BG_REMOTE_SHARE_BLOB];	size_t resealed_len;
} bg_apppkt_t;

/* --- cards ------------------------------------------------------------- */

/* The body's canonical text (malloc'd) and the hash the token signs. */
int	bg_card_body(const bg_card_t *c, char **textp);
int	bg_card_cdh(const bg_card_t *c, uint8_t cdh[32]);
/* The whole file (malloc'd, ends in "\n"). */
int	bg_card_encode(const bg_card_t *c, char **textp);
/*
 * Parse a card file of len bytes strictly and check its signature: by one
 * of its own credentials, UV, over its body, for its relying party.
 * *cp: calloc'd (free()).
 */
int	bg_card_parse(const char *text, size_t len, bg_card_t **cp, char *why,
	    size_t whylen) __attribute__((warn_unused_result));

/* --- request packets ------------------------------------------------------ */

bg_reqpkt_t *bg_reqpkt_new(void);
void	bg_reqpkt_free(bg_reqpkt_t **pp);
/* Append a copy of a link body and its signatures (to p's links, or its
 * vault links when vault is true). */
int	bg_reqpkt_add_link(bg_reqpkt_t *p, bool vault, const char *body,
	    const bg_chain_sig_t *sigs, size_t n_sigs);
/* Append a consistency proof from size from (n hashes). */
int	bg_reqpkt_add_proof(bg_reqpkt_t *p, uint64_t from,
	    const uint8_t *path, size_t n);
/* Set the log's start: size from and its frontier (n hashes). */
int	bg_reqpkt_set_log(bg_reqpkt_t *p, uint64_t from,
	    const uint8_t *frontier, size_t n);
/* Append a copy of the next log entry (the event's canonical text). */
int	bg_reqpkt_add_entry(bg_reqpkt_t *p, const char *entry);
/* Append a copy of a witness's cosignature (person: a name). */
int	bg_reqpkt_add_cosig(bg_reqpkt_t *p, const char *person,
	    const char *statement, const bg_remote_sig_t *sig);
int	bg_reqpkt_encode(const bg_reqpkt_t *p, char **textp);
int	bg_reqpkt_parse(const char *text, size_t len, bg_reqpkt_t **pp,
	    char *why, size_t whylen) __attribute__((warn_unused_result));

/* --- approval packets ----------------------------------------------------- */

void	bg_apppkt_free(bg_apppkt_t **pp);
int	bg_apppkt_encode(const bg_apppkt_t *p, char **textp);
int	bg_apppkt_parse(const char *text, size_t len, bg_apppkt_t **pp,
	    char *why, size_t whylen) __attribute__((warn_unused_result));

/* --- the request statement (statement.c writes it) ------------------------ */

typedef struct bg_remote_stmt {
	char	 vault_id[33];
	uint8_t	 genesis[32];
	int64_t	 request;
	char	 tenant[BG_CHAIN_NAME_MAX + 1];
	char	 secret[BG_CHAIN_NAME_MAX + 1];
	int	 version;
	uint64_t keyset_seq;
	uint8_t	 keyset_hash[32];
	char	 requester[BG_CHAIN_NAME_MAX + 1];
	char	 reason[BG_CHAIN_REASON_MAX + 1];
	char	 ticket[BG_CHAIN_REASON_MAX + 1];
	int64_t	 ttl, requested, deadline;
	uint8_t	 request_key[32];
	size_t	 body_len;		/* bytes before "log-size: " */
	uint64_t log_size;
	uint8_t	 log_head[32];
	uint8_t	 tree_root[32];
} bg_remote_stmt_t;

/*
 * Parse a request statement ("breakglass statement v1" and its lines, in
 * their order, then the three log lines) or, with decision true, an
 * approval's (the same with "request-signed: <hash>" before the log
 * lines; *signedp gets that hash).
 */
int	bg_remote_stmt_parse(const char *text, bool decision,
	    bg_remote_stmt_t *s, uint8_t signedp[32], char *why,
	    size_t whylen) __attribute__((warn_unused_result));

/* --- the approver's side ---------------------------------------------------- */

/* What the approver's machine remembers of one vault's log: the largest
 * tree head it has checked (size 0: nothing yet). */
typedef struct bg_witness {
	uint8_t	 genesis[32];
	uint64_t size;
	uint8_t	 root[32];
	int64_t	 time;
} bg_witness_t;

/* The witness state's one-line text form and its strict parser. */
int	bg_witness_format(const bg_witness_t *w, char *buf, size_t cap);
int	bg_witness_parse(const char *text, bg_witness_t *w, char *why,
	    size_t whylen) __attribute__((warn_unused_result));

/* A checked request packet: everything the approver will be shown and
 * sign, derived from the card and the chain, not from the packet's
 * claims.  Opaque. */
typedef struct bg_remote_check bg_remote_check_t;

/*
 * Check packet p against card c at the approver's clock now, witness w
 * (may be NULL: none yet, the card's head counts): the tree head is the
 * card's vault key's and extends the card's head and w (a consistency
 * proof from each); the vault chain from the genesis the card pins,
 * through the vault link it pins, by signatures; the tenant's links from
 * the card's head by signatures (older links back by hash); the request
 * statement's vault, genesis, tenant, keyset link and hash; the
 * log's entries from the packet's start fold to the roots of the card's
 * head, of w and of the tree head, and every link event among them names
 * a link the packet carries (none withheld) and every link newer than the
 * card's is among them; the requester live in the newest link with the
 * credential that signed, and
 * the signature (UV) over exactly that statement; the person a live
 * approver named by the policy that sealed the version, with the card's
 * salt and credentials there; the version's seal act signed (UV) by an
 * operator of the keyset link it names (in the verified chain, no newer
 * than the statement's), live at the act's time with that credential,
 * naming this vault and tenant and holding a well-formed "value:" line
 * for the statement's secret and version; every cosignature an approval
 * statement of this vault and tenant, signed (UV) by an approver of the
 * keyset link it names (in the verified chain) with that credential, and
 * the log extends the largest head they name (a consistency proof from
 * it, and the carried log's root at its size); the deadline not
 * passed.  *wp gets the witness state to keep once the person acts.  BG_ERR_AUTH (forged,
 * spliced, foreign), BG_ERR_STATE (rolled back or forked log: why says
 * so), BG_ERR_EXPIRED, BG_ERR_DENIED.
 */
int	bg_remote_check(const bg_card_t *c, const bg_reqpkt_t *p,
	    const bg_witness_t *w, int64_t now, bg_remote_check_t **ckp,
	    bg_witness_t *wp, char *why, size_t whylen)
	    __attribute__((warn_unused_result));
void	bg_remote_check_free(bg_remote_check_t **ckp);
/* The statement the person signs (the same text `vault approve` signs),
 * owned by ck. */
const char *bg_remote_check_text(const bg_remote_check_t *ck);
/* The parsed request, owned by ck. */
const bg_remote_stmt_t *bg_remote_check_stmt(const bg_remote_check_t *ck);

/*
 * The person's act: one UV assertion with tok over the statement (with
 * the card's salt when approving: the hmac-secret output gives the
 * membership key, which must be the card's), then, approving, open the
 * share with associated data built from the statement and the chain,
 * re-seal it to the request key the requester signed, and fill *outp.
 * reason: a denial's (NULL for approve).  The private key and the share
 * live in sodium_malloc memory and are wiped at once.
 */
int	bg_remote_sign(const bg_card_t *c, const bg_remote_check_t *ck,
	    bg_token_t *tok, const char *pin, int decision,
	    const char *reason, bg_apppkt_t **outp, char *why, size_t whylen)
	    __attribute__((warn_unused_result));

#endif /* BG_REMOTE_H */
