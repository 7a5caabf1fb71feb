/*
 * Signed keyset chains: who can open what is decided by token signatures,
 * never by a row (docs/security.md, "Keyset chains").
 *
 * A vault has one genesis: link 0 of the vault's own chain, naming the
 * custodians (each with a credential), the vault id and relying-party id,
 * whether software tokens are allowed and the custodian quorum.  It is
 * signed by every custodian it names.  Its hash is the vault's identity:
 * every tenant link, statement and share's associated data carries it.
 * Later vault links (seq 1, 2, ...) change the custodians, the quorum and
 * the drill/production flag, each signed by a custodian quorum of the
 * vault link before it (bg_chain_check_vault), as TUF rotates its root.
 * A tenant link names the vault link in force when it was made
 * (vault_seq): that link's custodians are the ones who count for it.
 *
 * Each tenant has a chain of links, in the manner of TUF's root rotation:
 * link n (n >= 1) carries the genesis hash, the tenant, n, the hash of
 * link n-1 (zeros for n = 1) and the whole resulting keyset: every
 * membership (person, role, side, expiry, salt) with every credential
 * (id, public key, AAGUID, attestation format, the X25519 membership key
 * derived from it, and the enrollment proof: the credential's own
 * signature over a statement carrying that key and the salt), the policy
 * and the tenant's security settings.  What signatures a link needs is
 * derived from the difference between the keyset before and after it
 * (bg_chain_check), never from a label the link carries about itself.
 *
 * This module is store-free (no SQLite): the approver's machine and the
 * auditor's verifier use it as the vault does.  Encoding: canonical JSON
 * (UTF-8, keys sorted, no white space, binary fields as lower-case hex);
 * bg_chain_link_parse() accepts only what bg_chain_link_encode() would
 * write (re-encodes and compares), so a link has exactly one text.
 *
 * Errors: BG_OK or a negative BG_ERR_* (err.h).  Functions that take
 * why/whylen write one sentence there on failure ("" on success).
 */
#ifndef BG_CHAIN_H
#define BG_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BG_CHAIN_VERSION	1
#include "attest.h"

#define BG_CHAIN_HASH_LEN	32
#define BG_CHAIN_NAME_MAX	64
#define BG_CHAIN_CRED_MAX	1024	/* bytes of a credential id */
#define BG_CHAIN_PUBKEY_MAX	128	/* raw public key (ES256 x||y, EdDSA) */
#define BG_CHAIN_AUTHDATA_MAX	1024
#define BG_CHAIN_SIG_MAX	160
#define BG_CHAIN_REASON_MAX	512
#define BG_CHAIN_MAX_MEMBERS	512
#define BG_CHAIN_MAX_TOKENS	16	/* per membership */
#define BG_CHAIN_WHY_MAX	512

enum bg_chain_scope {
	BG_CHAIN_VAULT  = 1,	/* the vault's chain: the genesis (seq 0),
				   then vault links 1.. */
	BG_CHAIN_TENANT = 2,	/* a tenant's link (seq >= 1) */
};

/* Roles of a membership: vault.h's enum bg_vault_role values. */
#define BG_CHAIN_ROLE_REQUESTER	1
#define BG_CHAIN_ROLE_APPROVER	2
#define BG_CHAIN_ROLE_AUDITOR	3
#define BG_CHAIN_ROLE_OPERATOR	4	/* MSP: administers, seals, rotates */
#define BG_CHAIN_ROLE_CUSTODIAN	5	/* vault links only */

/* Which side an approver stands on (0 for other roles). */
#define BG_CHAIN_SIDE_NONE	0
#define BG_CHAIN_SIDE_CLIENT	1	/* the customer: accountable */
#define BG_CHAIN_SIDE_MSP	2	/* the MSP: responsible */

typedef struct bg_chain_token {
	char	 label[BG_CHAIN_NAME_MAX + 1];
	int	 alg;				/* BG_TOKEN_ES256 / _EDDSA */
	uint8_t	 cred_id[BG_CHAIN_CRED_MAX];	size_t cred_id_len;
	uint8_t	 pubkey[BG_CHAIN_PUBKEY_MAX];	size_t pubkey_len;
	uint8_t	 aaguid[16];
	bool	 soft;			/* AAGUID is the software token's */
	char	 fmt[32];		/* attestation format */
	int	 attestation;		/* enum bg_token_attestation */
	int	 cred_protect;		/* credProtect level granted, 0 if none */
	uint8_t	 member_pk[32];		/* X25519; zeros for custodians */
	/* Proof of possession: this credential's assertion over
	 * bg_chain_enroll_cdh() of (link, member, this token). */
	uint8_t	 enroll_authdata[BG_CHAIN_AUTHDATA_MAX];
	size_t	 enroll_authdata_len;
	uint8_t	 enroll_sig[BG_CHAIN_SIG_MAX];	size_t enroll_sig_len;
	/* The attestation as makeCredential returned it (empty when none
	 * was kept): authData, the attStmt CBOR (alg, sig, x5c: the full
	 * certificate chain) and the clientDataHash it signed.  In a
	 * production vault every new credential's is verified against the
	 * trust store of the vault link in force (attest.h). */
	uint8_t	 att_authdata[BG_ATTEST_AUTHDATA_MAX];	size_t att_authdata_len;
	uint8_t	 att_stmt[BG_ATTEST_STMT_MAX];		size_t att_stmt_len;
	uint8_t	 att_cdh[32];
} bg_chain_token_t;

typedef struct bg_chain_member {
	char	 person[BG_CHAIN_NAME_MAX + 1];
	int	 role;			/* BG_CHAIN_ROLE_* */
	int	 side;			/* BG_CHAIN_SIDE_* (approvers) */
	int64_t	 expires_at;		/* custodians: 0 (no expiry) */
	uint8_t	 salt[32];		/* hmac-secret salt; zeros for custodians */
	size_t	 n_tokens;
	bg_chain_token_t *tokens;	/* owned */
} bg_chain_member_t;

typedef struct bg_chain_settings {
	/* tenant links */
	int64_t	 max_ttl;		/* seconds */
	int64_t	 approval_window;	/* seconds */
	int64_t	 rotation_deadline;	/* seconds after lease end */
	int	 client_cosign;		/* client approvers who co-sign a
					   grant (>= 1) */
	/* vault links (the genesis and later) */
	bool	 allow_soft;		/* software tokens may enroll */
	int	 custodian_quorum;	/* custodians who sign a tenant's first
					   link and the next vault link
					   (>= 2, <= custodians) */
} bg_chain_settings_t;

typedef struct bg_chain_link {
	int	 scope;			/* enum bg_chain_scope */
	char	 vault_id[33];		/* hex */
	char	 rp_id[64];
	uint8_t	 genesis[BG_CHAIN_HASH_LEN];	/* zeros in the genesis itself */
	char	 tenant[BG_CHAIN_NAME_MAX + 1];	/* "" in vault links */
	uint64_t seq;			/* vault links 0 (genesis), 1..;
					   tenant links 1.. */
	uint64_t vault_seq;		/* tenant links: the vault link in force
					   when it was made; 0 in vault links */
	uint8_t	 prev[BG_CHAIN_HASH_LEN];	/* zeros in the genesis and in
						   a tenant's link 1 */
	int64_t	 time;			/* when it was drafted */
	char	 note[BG_CHAIN_REASON_MAX + 1];	/* what it does, in words */
	size_t	 n_members;
	bg_chain_member_t *members;	/* owned; sorted by (person, role) */
	char	*policy;		/* owned canonical text, NULL if none */
	bg_chain_settings_t settings;
	/* An exception that lets the MSP side approve its own access
	 * (a qualified set with no client approver). */
	bool	 has_exception;
	char	 exception_reason[BG_CHAIN_REASON_MAX + 1];
	int64_t	 exception_expires;
	/* Vault links: the trust store for vetted tokens (owned; NULL when
	 * the link pins none). */
	bg_attest_trust_t *trust;
} bg_chain_link_t;

/* One signature on a link: person's credential cred_id asserted (UV)
 * over bg_chain_link_cdh(link). */
typedef struct bg_chain_sig {
	char	 person[BG_CHAIN_NAME_MAX + 1];
	uint8_t	 cred_id[BG_CHAIN_CRED_MAX];	size_t cred_id_len;
	uint8_t	 authdata[BG_CHAIN_AUTHDATA_MAX]; size_t authdata_len;
	uint8_t	 sig[BG_CHAIN_SIG_MAX];		size_t sig_len;
} bg_chain_sig_t;

/*
 * The one rule for text a person reads before they sign (labels, notes,
 * reasons, tickets): at most maxlen bytes of well-formed UTF-8 without
 * C0/C1 controls, DEL, line or paragraph separators or bidirectional
 * controls.  The vault checks every such text with it before any token
 * is touched.
 */
bool	bg_chain_text_ok(const char *s, size_t maxlen);

/*
 * Whether some qualified set of l's policy has no client approver (the
 * MSP could approve its own access): such a link needs an exception,
 * and once the exception has ended nothing may be sealed under it or
 * released without a client approver.  BG_OK; *alonep false when l has
 * no policy.
 */
int	bg_chain_msp_alone(const bg_chain_link_t *l, bool *alonep);

/* New, empty link (caller fills it); free with bg_chain_link_free. */
bg_chain_link_t *bg_chain_link_new(void);
void	bg_chain_link_free(bg_chain_link_t **lp);
/* Deep copy. */
int	bg_chain_link_dup(const bg_chain_link_t *l, bg_chain_link_t **outp);

/* Members: find by (person, role) (NULL if none); add a copy (kept
 * sorted; BG_ERR_EXISTS if present); remove (BG_ERR_NOT_FOUND). */
bg_chain_member_t *bg_chain_member_find(const bg_chain_link_t *l,
	    const char *person, int role);
int	bg_chain_member_add(bg_chain_link_t *l, const bg_chain_member_t *m);
int	bg_chain_member_remove(bg_chain_link_t *l, const char *person,
	    int role);
/* Add a copy of tok to m (BG_ERR_EXISTS for the same credential id). */
int	bg_chain_member_add_token(bg_chain_member_t *m,
	    const bg_chain_token_t *tok);
/* The member and token holding cred_id (any role), or false. */
bool	bg_chain_find_cred(const bg_chain_link_t *l, const uint8_t *cred_id,
	    size_t cred_id_len, const bg_chain_member_t **mp,
	    const bg_chain_token_t **tp);

/*
 * Canonical text (malloc'd, NUL-terminated) of l, and its hash:
 * SHA-256("breakglass link v1\n" || text).  The signed clientDataHash of
 * a link is that hash too (bg_chain_link_cdh).
 */
/*
 * Text details (chain.c; an independent verifier can follow them):
 *  - one JSON object, keys sorted, no white space, UTF-8 written as is:
 *    v (1), scope ("vault"/"tenant"), vault_id, vault_seq, rp_id,
 *    genesis, tenant, seq, prev, time, note, members, policy (canonical
 *    text or null), settings (all six fields), exception (null or
 *    {reason, expires}); every key always present, no other key.  In
 *    vault links "tenant" is "" and "vault_seq" 0; in the genesis
 *    (vault link 0) "genesis" and "prev" are 64 zeros, in later vault
 *    links neither is.
 *  - members sorted by person (bytes), then role number (requester <
 *    approver < auditor); a member's tokens sorted by credential id bytes
 *    (a prefix before its extensions).  encode sorts (the struct's order
 *    does not matter); parse refuses any other order and any repeat.
 *  - names [a-z0-9][a-z0-9._-]{0,63}; rp_id 1..63 of [A-Za-z0-9.:_-];
 *    fmt a name of at most 31 bytes; label, note, reason UTF-8 without
 *    C0/C1 controls, DEL, U+2028/U+2029 or bidirectional controls
 *    (encode refuses them with BG_ERR_INVALID_ARG, parse with
 *    BG_ERR_PARSE).
 *  - custodians (vault links only): side none, expires 0, salt and
 *    member_pk zeros, one credential each with its enrollment proof.
 *    Tenant-link roles are requester, approver (side client or msp),
 *    auditor (none).
 *  - vault links leave the tenant settings (max_ttl, approval_window,
 *    rotation_deadline, client_cosign) 0; tenant links leave the vault
 *    settings (allow_soft, custodian_quorum) false and 0.  The checks
 *    refuse otherwise, so that no signed field is one nobody reads.
 */
int	bg_chain_link_encode(const bg_chain_link_t *l, char **textp);
int	bg_chain_link_parse(const char *text, bg_chain_link_t **lp,
	    char *why, size_t whylen) __attribute__((warn_unused_result));
void	bg_chain_text_hash(const char *text, uint8_t hash[BG_CHAIN_HASH_LEN]);
int	bg_chain_link_hash(const bg_chain_link_t *l,
	    uint8_t hash[BG_CHAIN_HASH_LEN]);
#define bg_chain_link_cdh bg_chain_link_hash

/*
 * The statement an enrolling credential signs (its enrollment proof):
 * vault id, genesis hash, tenant, person, role, side, salt, credential id
 * and the X25519 membership key.  cdh = SHA-256 of "breakglass enroll
 * v1\n" || those lines.  A custodian's names the link's own genesis
 * field (zeros in the genesis, the genesis hash in later vault links), no
 * tenant, salt or membership key.  text (may be NULL) gets the lines
 * (malloc'd), to show the person.
 */
int	bg_chain_enroll_cdh(const bg_chain_link_t *l,
	    const bg_chain_member_t *m, const bg_chain_token_t *t,
	    uint8_t cdh[32], char **textp);

/*
 * Verify a genesis: scope vault, seq 0, >= 2 custodians, each with one
 * credential, custodian_quorum in 2..custodians, no credential twice, and
 * a valid UV signature over the genesis by every custodian it names.
 * Also verified: each custodian's enrollment proof, and no software token
 * unless settings.allow_soft.
 */
int	bg_chain_check_genesis(const bg_chain_link_t *g,
	    const bg_chain_sig_t *sigs, size_t n_sigs, char *why,
	    size_t whylen) __attribute__((warn_unused_result));

/*
 * Whether vault link `next` (seq >= 1) may follow vault link `prev`, given
 * sigs over next.  The caller has verified prev (bg_chain_check_genesis,
 * then this function link by link).  BG_OK; BG_ERR_AUTH when next is
 * malformed for its place; BG_ERR_DENIED with "needs: ..." when
 * signatures are missing; BG_ERR_STATE when it changes nothing.
 *
 * Structure (BG_ERR_AUTH): scope vault, seq prev+1, prev = hash(prev),
 * genesis = the vault's identity (hash of link 0), the same vault id and
 * relying party, time >= prev's, >= 2 custodians each with exactly one
 * credential and no salt or membership key, quorum in 2..custodians, no
 * tenant settings, policy or exception, the enrollment proof of every
 * credential prev did not hold identically, a credential id keeping the
 * signing key prev gave it, no software token unless
 * next->settings.allow_soft, no credential or public key under two
 * custodians.
 *
 * Rules (BG_ERR_DENIED), whatever changed (custodians, quorum, the
 * drill/production flag):
 *  - prev's custodian_quorum of prev's custodians, each signing with the
 *    credential prev gives them, counting only custodians next keeps (a
 *    custodian never signs off their own removal; new custodians do not
 *    count);
 *  - a custodian whom next gives another credential: also their
 *    signature with the credential prev gives them.
 * Invalid signatures are ignored, never counted.
 */
int	bg_chain_check_vault(const bg_chain_link_t *prev,
	    const bg_chain_link_t *next, const bg_chain_sig_t *sigs,
	    size_t n_sigs, char *why, size_t whylen)
	    __attribute__((warn_unused_result));

/*
 * Whether `next` may follow `prev` (NULL for a tenant's first link) under
 * vault link g, the one whose seq is next->vault_seq (the genesis when
 * that is 0), given sigs over next: BG_OK, or BG_ERR_DENIED with why
 * naming what is missing ("needs: a custodian quorum (1 more of carol,
 * dave); alice (client approver named by the link)"), BG_ERR_AUTH when
 * the link is malformed for its place (wrong genesis, tenant, seq, prev,
 * a bad enrollment proof, a software token in a production vault, a
 * credential under two people).  Signatures that do not verify are
 * ignored (never counted), so a draft's missing signers are reported the
 * same way.  The signing rules (docs/security.md has the same table):
 *
 *  first link, or any approver/policy/settings change while prev has no
 *  policy:  a custodian quorum of g (g's custodians and quorum), every
 *           client approver named by next, and each new credential's
 *           enrollment proof;
 *  approvers, approver credentials, policy, settings, exception:
 *           the policy in force (prev) met by signers who are live
 *           approvers of prev and not removed by next, plus
 *           prev.client_cosign client approvers among them;
 *  a new requester or auditor, a longer expiry, a new credential of a
 *           requester or auditor:  prev.client_cosign client approvers of
 *           prev (at least one), the grantee never counting for their own
 *           grant;
 *  a removal (person, credential, shorter expiry) of a requester or
 *           auditor: one client approver of prev;
 *  a new credential for a person who already had one: also one of that
 *           person's credentials in prev;
 *  a policy some qualified set of which has no client approver: next
 *           must carry an unexpired exception (reason, expiry) (and so
 *           needs the approver rule above).
 * Signers count once per person, only while live (expiry > next->time).
 * why, if non-NULL, gets the sentence.
 *
 * Notes on the rules as implemented: a link that changes nothing but its
 * note and time is BG_ERR_STATE.  A credential is "new" (its enrollment
 * proof checked, and a grant when a requester's or auditor's) unless prev
 * held an identical one under the same person, role, side and salt.  The
 * existing-credential signature need not be live (it proves who, not
 * authority).  The link's identity check is against g's genesis field
 * (hash(g) when g is the genesis); next->vault_seq must be g's seq and
 * not older than prev->vault_seq; software tokens and uniqueness of
 * credentials are judged against g.  The caller has verified the vault
 * chain up to g and prev (bg_chain_check, link by link), and compares
 * next->time with its own clock: this function judges liveness at
 * next->time.
 */
int	bg_chain_check(const bg_chain_link_t *g, const bg_chain_link_t *prev,
	    const bg_chain_link_t *next, const bg_chain_sig_t *sigs,
	    size_t n_sigs, char *why, size_t whylen)
	    __attribute__((warn_unused_result));

/*
 * The hashes of g, prev and next when the caller already holds them (any
 * may be NULL: bg_chain_link_hash is computed).  Encoding a link to hash
 * it is most of what a check costs that is not a signature, and the store
 * reads each link as text it has just parsed: bg_chain_link_parse accepts
 * only the link's one encoding, so the hash of that stored text is the
 * link's hash.  A hash given here must be exactly that.
 */
struct bg_chain_hashes {
	const uint8_t	*g;
	const uint8_t	*prev;
	const uint8_t	*next;
};

/* bg_chain_check, with the hashes the caller holds. */
int	bg_chain_check_hashed(const bg_chain_link_t *g,
	    const bg_chain_link_t *prev, const bg_chain_link_t *next,
	    const struct bg_chain_hashes *known, const bg_chain_sig_t *sigs,
	    size_t n_sigs, char *why, size_t whylen)
	    __attribute__((warn_unused_result));

#endif /* BG_CHAIN_H */
