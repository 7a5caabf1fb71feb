/*
 * Test helper: the platform side of CTAP 2.1 against the software
 * authenticator's core (bg_soft_ctap2), written independently of it with
 * OpenSSL (P-256, AES-CBC, HKDF, HMAC, SHA-256) and libsodium (Ed25519).
 *
 * Linked into every test program: no main(), no cmocka.
 */
#ifndef BG_TEST_SOFT_CLIENT_H
#define BG_TEST_SOFT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "soft/soft.h"

/* An in-process token with a deterministic environment. */
typedef struct sc_tok {
	bg_soft_t	*soft;
	bg_soft_opts_t	 opts;
	uint8_t		 state[256];	/* last saved blob */
	size_t		 state_len;
	int		 saves;
	bool		 fail_save;
	uint64_t	 now;		/* ms */
	int		 presence;	/* enum bg_soft_up to answer */
	int		 presence_calls;
	uint8_t		 seed[32];	/* deterministic random stream */
	uint64_t	 rnd_calls;
} sc_tok_t;

/* Fresh token from seed byte `seed`; 0 or a BG_ERR code. */
int sc_tok_open(sc_tok_t *t, uint8_t seed, const bg_soft_opts_t *opts);
/* Reload the token from its last saved state (a new process). */
int sc_tok_reopen(sc_tok_t *t);
void sc_tok_close(sc_tok_t *t);

/*
 * Send command cmd with params (may be NULL; not consumed).  Returns the
 * CTAP status byte, or -1 if bg_soft_ctap2 failed outside CTAP.  *respp
 * (if respp != NULL) gets the decoded response map, or NULL.
 */
int sc_cmd(sc_tok_t *t, uint8_t cmd, const cbor_item_t *params,
    cbor_item_t **respp);
/* Same with raw bytes after the command byte. */
int sc_raw(sc_tok_t *t, const uint8_t *req, size_t len, uint8_t *resp,
    size_t *resp_len);

/* CBOR construction (shortest encodings, as CTAP2 canonical CBOR wants). */
cbor_item_t *sc_int(int64_t v);
cbor_item_t *sc_bytes(const uint8_t *b, size_t n);
cbor_item_t *sc_text(const char *s);
/* add k -> v to map m (v is consumed); k an int */
void sc_put(cbor_item_t *m, int64_t k, cbor_item_t *v);
void sc_puts(cbor_item_t *m, const char *k, cbor_item_t *v);
cbor_item_t *sc_get(const cbor_item_t *m, int64_t k);
cbor_item_t *sc_gets(const cbor_item_t *m, const char *k);
/* uint value of it, or -1 */
int64_t sc_uintval(const cbor_item_t *it);

/* One PIN/UV auth protocol session (platform key + shared secret). */
typedef struct sc_pin {
	int	 proto;
	uint8_t	 shared[64];	/* HMAC key at 0, AES key at 32 */
	uint8_t	 x[32], y[32];	/* platform public key */
} sc_pin_t;

/* getKeyAgreement + ECDH; returns the CTAP status. */
int sc_key_agreement(sc_tok_t *t, int proto, sc_pin_t *p);
/* The platform's COSE key (alg -25). */
cbor_item_t *sc_pin_cose(const sc_pin_t *p);
size_t sc_encrypt(const sc_pin_t *p, const uint8_t *pt, size_t len,
    uint8_t *out);
int sc_decrypt(const sc_pin_t *p, const uint8_t *ct, size_t len, uint8_t *out,
    size_t *outlen);
/* authenticate(key, m1|m2): 16 bytes (protocol 1) or 32; returns length. */
size_t sc_authenticate(int proto, const uint8_t key[32], const uint8_t *m1,
    size_t l1, const uint8_t *m2, size_t l2, uint8_t out[32]);

int sc_set_pin(sc_tok_t *t, int proto, const char *pin);
/* setPIN with the 64 padded bytes given as they are */
int sc_set_pin_padded(sc_tok_t *t, int proto, const uint8_t padded[64]);
int sc_change_pin(sc_tok_t *t, int proto, const char *cur, const char *pin);
/*
 * getPinToken (perms == 0 and rpid == NULL) or
 * getPinUvAuthTokenUsingPinWithPermissions; token[32] on success.
 */
int sc_get_token(sc_tok_t *t, int proto, const char *pin, uint8_t perms,
    const char *rpid, uint8_t token[32]);
int sc_pin_retries(sc_tok_t *t, int *retries, bool *power_cycle);

/* makeCredential request parameters. */
typedef struct sc_mc {
	const char	*rpid;
	int		 alg;		/* 0: ES256 */
	bool		 hmac_secret;
	int		 cred_protect;	/* 0: not requested */
	const uint8_t	*excl_id;	/* one excludeList entry, or NULL */
	size_t		 excl_len;
	int		 proto;		/* pinUvAuthParam protocol, 0: none */
	const uint8_t	*token;		/* pinUvAuthToken for pinUvAuthParam */
	const char	*opt_key;	/* one option, or NULL */
	bool		 opt_val;
} sc_mc_t;

/* Credential made by makeCredential. */
typedef struct sc_cred {
	uint8_t	 id[256];
	size_t	 id_len;
	int	 alg;
	uint8_t	 pk[64];	/* ES256: x|y, EdDSA: 32 bytes */
	uint8_t	 flags;
	uint32_t counter;
	uint8_t	 cdh[32];
} sc_cred_t;

cbor_item_t *sc_mc_request(const sc_mc_t *a, const uint8_t cdh[32]);
/* makeCredential; on success verifies the packed self attestation and
 * fills *c.  Returns the CTAP status, or 0x100 if the response failed to
 * verify. */
int sc_make_cred(sc_tok_t *t, const sc_mc_t *a, sc_cred_t *c);

typedef struct sc_ga {
	const char	*rpid;
	const sc_cred_t	*cred;		/* allowList of this one, or NULL */
	int		 up;		/* -1 absent, 0, 1 */
	int		 proto;
	const uint8_t	*token;
	/* hmac-secret */
	const sc_pin_t	*hs;		/* NULL: no hmac-secret */
	const uint8_t	*salts;		/* 32 or 64 bytes */
	size_t		 nsalts;
	bool		 hs_bad_auth;
	bool		 hs_omit_proto;
} sc_ga_t;

typedef struct sc_assert {
	uint8_t	 flags;
	uint32_t counter;
	uint8_t	 hmac[64];	/* decrypted hmac-secret output */
	size_t	 hmac_len;
} sc_assert_t;

cbor_item_t *sc_ga_request(const sc_ga_t *a, const uint8_t cdh[32]);
/* getAssertion; on success verifies the signature against cred's key and
 * decrypts the hmac-secret output.  0x100 on a verification failure. */
int sc_get_assertion(sc_tok_t *t, const sc_ga_t *a, sc_assert_t *out);

/* Verify sig over m with a COSE-style key. */
bool sc_verify(int alg, const uint8_t *pk, const uint8_t *m, size_t mlen,
    const uint8_t *sig, size_t siglen);

#endif
