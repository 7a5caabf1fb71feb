/*
 * The breakglass software authenticator: CTAP2 core.
 *
 * A pure function of (state, request) -> response.  Everything outside
 * itself comes in through bg_soft_env_t: randomness, persistence of the
 * state blob, the clock, and the user-presence decision.  It knows nothing
 * of CTAPHID or sockets (ctaphid.h frames it; serve.c and inproc.c are the
 * front ends).
 *
 * Internal to libbgtoken; not a public header.
 */
#ifndef BG_SOFT_H
#define BG_SOFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Fixed AAGUID of breakglass software tokens ("breakglass-soft1" in ASCII
 * would be guessable; it is a random UUID fixed once, see state.c):
 * 7c3e6a1f-52b4-4d9e-a8f0-3b91d5c2e64a.  The one source of those bytes:
 * bg_soft_aaguid (state.c) and bg_token_soft_aaguid (token.c) are both
 * initialised from this macro.
 */
#define BG_SOFT_AAGUID_LEN	16
#define BG_SOFT_AAGUID_INIT { \
	0x7c, 0x3e, 0x6a, 0x1f, 0x52, 0xb4, 0x4d, 0x9e, \
	0xa8, 0xf0, 0x3b, 0x91, 0xd5, 0xc2, 0xe6, 0x4a, \
}
extern const uint8_t bg_soft_aaguid[BG_SOFT_AAGUID_LEN];

/*
 * maxMsgSize advertised in getInfo, and the largest reply.  CTAPHID over
 * 64-byte reports carries at most 57 + 128 * 59 = 7609 bytes (CTAP 2.1,
 * "Message and packet structure"); libfido2 1.12 reads at most 2048
 * (FIDO_MAXMSG) and sizes its reply buffer by maxMsgSize, which a
 * makeCredential reply with an x5c chain (~1.4 KB) needs.
 */
#define BG_SOFT_MAX_MSG		2048

/* Outcome of a request for user presence. */
enum bg_soft_up {
	BG_SOFT_UP_GRANTED = 0,
	BG_SOFT_UP_DENIED,		/* -> CTAP2_ERR_OPERATION_DENIED */
	BG_SOFT_UP_CANCELLED,		/* CTAPHID_CANCEL -> CTAP2_ERR_KEEPALIVE_CANCEL */
	BG_SOFT_UP_TIMEOUT,		/* -> CTAP2_ERR_USER_ACTION_TIMEOUT */
};

typedef struct bg_soft_env {
	/* Fill buf with len random bytes.  Tests inject a deterministic one. */
	void	 (*random)(void *ctx, uint8_t *buf, size_t len);
	/* Persist the state blob (atomically); 0 on success.  Called whenever
	 * persistent state changed, before the response is returned. */
	int	 (*save)(void *ctx, const uint8_t *blob, size_t len);
	/* Monotonic milliseconds; used for the reset window and token expiry. */
	uint64_t (*now_ms)(void *ctx);
	/* Ask for a touch; may block (the CTAPHID layer sends KEEPALIVE and
	 * watches for CANCEL meanwhile).  Returns enum bg_soft_up. */
	int	 (*presence)(void *ctx);
	void	*ctx;
} bg_soft_env_t;

typedef struct bg_soft_opts {
	bool	 no_pin_uv;		/* report no clientPin and no UV support */
	bool	 no_cred_protect;	/* no credProtect extension: not in
					   getInfo, ignored in makeCredential
					   (credentials get level 1) */
	uint8_t	 pin_protocols;		/* bit 1<<1: protocol 1, 1<<2: protocol 2;
					   0 means both, advertised [2,1] */
} bg_soft_opts_t;

typedef struct bg_soft bg_soft_t;

/*
 * A fresh token's state: new master key, no PIN, 8 retries, counter 0.
 * *blobp is sodium_malloc memory (it holds the master key): free it with
 * sodium_free().
 */
int bg_soft_state_create(void (*rnd)(void *, uint8_t *, size_t), void *ctx,
    uint8_t **blobp, size_t *lenp);

/*
 * A fresh token state with an attestation identity (state version 2):
 * makeCredential then reports aaguid and answers with packed attestation
 * signed by the P-256 key in key_path (PEM; a regular file not
 * accessible to group or others) with x5c = the certificate in cert_path
 * (PEM, its public key the key's) followed by those in chain_path (PEM,
 * may be NULL), at most 4 in all and 1536 bytes of DER.  *blobp is
 * sodium_malloc memory.  BG_OK, or a BG_ERR_* code with one sentence in
 * why.
 */
int bg_soft_state_create_att(void (*rnd)(void *, uint8_t *, size_t),
    void *ctx, const uint8_t aaguid[BG_SOFT_AAGUID_LEN],
    const char *cert_path, const char *key_path, const char *chain_path,
    uint8_t **blobp, size_t *lenp, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Load a token from its state blob (copied).  0 or a BG_ERR_* code. */
int bg_soft_new(const bg_soft_env_t *env, const bg_soft_opts_t *opts,
    const uint8_t *blob, size_t len, bg_soft_t **softp);
void bg_soft_free(bg_soft_t **softp);

/* Replace the presence callback (the CTAPHID layer installs its own). */
void bg_soft_set_presence(bg_soft_t *soft, int (*presence)(void *), void *ctx);
/*
 * (Added by the core.)  ctx above is passed to presence only; random, save
 * and now_ms keep env->ctx.  A NULL presence callback means "denied".
 * If env->save fails, bg_soft_ctap2() answers CTAP1_ERR_OTHER, returns
 * BG_ERR_IO, and so does every later request: reload the token from its
 * last saved state.  Request lengths above BG_SOFT_MAX_MSG are answered
 * with CTAP2_ERR_REQUEST_TOO_LARGE.  Input CBOR must be CTAP2 canonical in
 * its heads (shortest form, definite lengths), without tags or floats,
 * nested at most 8 deep, without duplicate map keys; otherwise
 * CTAP2_ERR_INVALID_CBOR.
 */

/*
 * A new connection ("power cycle"): forgets pinUvAuthTokens and the key
 * agreement key, clears the consecutive-wrong-PIN block, and restarts the
 * reset window.
 */
void bg_soft_power_cycle(bg_soft_t *soft);

/*
 * One CTAP2 request: req[0] is the command byte, the rest its CBOR
 * parameters.  Writes status byte + CBOR response to resp (cap >=
 * BG_SOFT_MAX_MSG) and its length to *resp_len.  Returns 0, or a BG_ERR_*
 * code only for failures outside CTAP (state could not be saved); CTAP
 * errors are status bytes in resp.
 */
int bg_soft_ctap2(bg_soft_t *soft, const uint8_t *req, size_t req_len,
    uint8_t *resp, size_t resp_cap, size_t *resp_len);

#endif /* BG_SOFT_H */
