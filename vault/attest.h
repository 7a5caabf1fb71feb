/*
 * Vetted tokens: whether a credential was made by a token model the
 * custodians trust (docs/security.md, "Vetted tokens").
 *
 * A production vault's trust store lives in its signed vault chain (a
 * vault link signed by a custodian quorum): the FIDO root certificate
 * the custodians pin, the FIDO Metadata Service BLOB (MDS3, a JWS signed
 * under that root), vendor attestation roots and an AAGUID allow-list.
 * A new credential's attestation (fmt "packed" with x5c, authData and
 * clientDataHash, all kept in the link's token record) is verified here
 * against the trust store the link names, so that anyone who re-verifies
 * a chain re-checks every credential's attestation too.
 *
 * Store-free (no SQLite).  OpenSSL's libcrypto is used for X.509 chains,
 * the attestation signature and the BLOB's JWS only: libsodium has no
 * X.509 and no RSA, and libfido2 already links libcrypto.
 */
#ifndef BG_ATTEST_H
#define BG_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BG_ATTEST_CERT_MAX	4096		/* bytes of one DER certificate */
#define BG_ATTEST_ROOTS_MAX	32		/* vendor roots in a trust store */
#define BG_ATTEST_AAGUIDS_MAX	256		/* AAGUIDs on the allow-list */
#define BG_ATTEST_MDS_MAX	(8u << 20)	/* bytes of an MDS BLOB (JWT) */
#define BG_ATTEST_X5C_MAX	4		/* certificates in an x5c */
#define BG_ATTEST_STMT_MAX	8192		/* bytes of a packed attStmt */
#define BG_ATTEST_AUTHDATA_MAX	2048		/* makeCredential authData */
#define BG_ATTEST_MODEL_MAX	128		/* make and model, in words */

typedef struct bg_attest_cert {
	uint8_t	*der;
	size_t	 len;
} bg_attest_cert_t;

/*
 * A trust store, as a vault link carries it.  Every pointer is owned;
 * roots are sorted by their DER bytes and the AAGUIDs by value, each at
 * most once (bg_attest_trust_normalize sorts and refuses repeats).
 */
typedef struct bg_attest_trust {
	uint8_t	*fido_root;	size_t fido_root_len;	/* DER, NULL if none */
	char	*mds;			/* the BLOB, JWS compact; NULL if none */
	size_t	 n_roots;
	bg_attest_cert_t *roots;	/* vendor attestation roots (DER) */
	size_t	 n_aaguids;
	uint8_t	 (*aaguids)[16];	/* the allow-list */
} bg_attest_trust_t;

bg_attest_trust_t *bg_attest_trust_new(void);
void	bg_attest_trust_free(bg_attest_trust_t **tp);
int	bg_attest_trust_dup(const bg_attest_trust_t *t,
	    bg_attest_trust_t **outp);
/* Whether a and b hold the same store (both may be NULL). */
bool	bg_attest_trust_same(const bg_attest_trust_t *a,
	    const bg_attest_trust_t *b);
/* Whether t can vet any token: a metadata BLOB (with its FIDO root), or
 * at least one vendor root and one AAGUID on the allow-list.  A
 * production vault's every link carries such a store. */
bool	bg_attest_trust_vets(const bg_attest_trust_t *t);
/* Add a root (DER, a copy) or an AAGUID, kept sorted; BG_ERR_EXISTS for a
 * repeat, BG_ERR_RANGE past the limits, BG_ERR_PARSE for a DER that is
 * not one X.509 certificate. */
int	bg_attest_trust_add_root(bg_attest_trust_t *t, const uint8_t *der,
	    size_t len);
int	bg_attest_trust_add_aaguid(bg_attest_trust_t *t,
	    const uint8_t aaguid[16]);
/* Sorted and without repeats, every certificate parses, the BLOB only
 * with a FIDO root: BG_OK or BG_ERR_PARSE with why. */
int	bg_attest_trust_validate(const bg_attest_trust_t *t, char *why,
	    size_t whylen) __attribute__((warn_unused_result));

/* A certificate in words, for people who check a trust store: its
 * subject (one line, RFC 2253 order) and the first 16 hex digits of the
 * SHA-256 of its DER.  "(not a certificate)" when der does not parse. */
void	bg_attest_cert_name(const uint8_t *der, size_t len, char *subject,
	    size_t subjectlen, char fpr[17]);

/* A certificate file (PEM, one certificate, or DER) to DER, malloc'd. */
int	bg_attest_cert_read(const char *path, uint8_t **derp, size_t *lenp,
	    char *why, size_t whylen) __attribute__((warn_unused_result));

/*
 * The MDS BLOB, verified: JWS compact serialization, header alg ES256 or
 * RS256 with an x5c whose chain ends at root (DER) at time `at` (Unix
 * seconds), the signature by x5c[0], and a payload with "no" (the serial)
 * and "nextUpdate" (YYYY-MM-DD) and "entries".  BG_OK, or BG_ERR_AUTH
 * (signature, chain) / BG_ERR_PARSE (format) with one sentence in why.
 */
typedef struct bg_mds bg_mds_t;
int	bg_mds_parse(const char *jwt, const uint8_t *root, size_t root_len,
	    int64_t at, bg_mds_t **mdsp, char *why, size_t whylen)
	    __attribute__((warn_unused_result));
void	bg_mds_free(bg_mds_t **mdsp);
uint64_t bg_mds_serial(const bg_mds_t *m);
/* The end (Unix seconds) of the nextUpdate day, UTC. */
int64_t	bg_mds_next_update(const bg_mds_t *m);

/* A new credential's attestation, as the link's token record holds it. */
typedef struct bg_attest_evidence {
	const char	*rp_id;
	int		 alg;		/* BG_TOKEN_ES256 / _EDDSA */
	const uint8_t	*cred_id;	size_t cred_id_len;
	const uint8_t	*pubkey;	size_t pubkey_len;	/* raw */
	const uint8_t	*aaguid;	/* 16 bytes: what the record claims */
	const char	*fmt;
	const uint8_t	*authdata;	size_t authdata_len;	/* raw */
	const uint8_t	*stmt;		size_t stmt_len;	/* attStmt CBOR */
	const uint8_t	*cdh;		/* 32 bytes */
} bg_attest_evidence_t;

/*
 * Verify e against trust store t at time `at`: fmt "packed" with x5c
 * (self attestation and "none" are refused: they name no model), the
 * attestation signature by the leaf over authData || cdh, authData's
 * rpIdHash, UP and UV flags, AAGUID, credential id and public key equal
 * to the record's, the leaf's id-fido-gen-ce-aaguid extension equal to
 * authData's AAGUID, the AAGUID on the allow-list (when there is one) or
 * in the BLOB, the chain ending at a trusted root for that AAGUID (a
 * vendor root for an AAGUID on the allow-list, or a root the BLOB's entry
 * gives), and with a BLOB: its nextUpdate not passed at `at` and no
 * status report of REVOKED, ATTESTATION_KEY_COMPROMISE,
 * USER_VERIFICATION_BYPASS, USER_KEY_REMOTE_COMPROMISE or
 * USER_KEY_PHYSICAL_COMPROMISE.  BG_OK, or BG_ERR_TOKEN_ATTESTATION with
 * one sentence naming make and model (the BLOB's description, else the
 * AAGUID) and the reason.  model (may be NULL) gets the make and model.
 * mds, when not NULL, is t's BLOB already parsed (else it is parsed).
 */
int	bg_attest_verify(const bg_attest_trust_t *t, const bg_mds_t *mds,
	    const bg_attest_evidence_t *e, int64_t at, char *model,
	    size_t modellen, char *why, size_t whylen)
	    __attribute__((warn_unused_result));

#endif /* BG_ATTEST_H */
