/*
 * Internals of the software authenticator's CTAP2 core, shared by
 * ctap2.c (dispatch, getInfo, makeCredential, getAssertion, reset,
 * selection), clientpin.c (authenticatorClientPIN, PIN/UV auth protocols),
 * state.c (the persistent state blob) and softcrypto.c (P-256 and AES from
 * OpenSSL; hashes, MACs, AEAD and Ed25519 from libsodium).
 *
 * Not a public header: only the files in tokenctl/soft/ include it.
 */
#ifndef BG_SOFT_INT_H
#define BG_SOFT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/evp.h>

#include "soft/soft.h"

/* Checks and decryptions whose result must not be ignored. */
#define BG_SOFT_WUR	__attribute__((warn_unused_result))

/* --- CTAP status codes (CTAP 2.1, "Status codes") --------------------- */
#define CTAP2_OK				0x00
#define CTAP1_ERR_INVALID_COMMAND		0x01
#define CTAP1_ERR_INVALID_PARAMETER		0x02
#define CTAP1_ERR_INVALID_LENGTH		0x03
#define CTAP2_ERR_CBOR_UNEXPECTED_TYPE		0x11
#define CTAP2_ERR_INVALID_CBOR			0x12
#define CTAP2_ERR_MISSING_PARAMETER		0x14
#define CTAP2_ERR_LIMIT_EXCEEDED		0x15
#define CTAP2_ERR_CREDENTIAL_EXCLUDED		0x19
#define CTAP2_ERR_UNSUPPORTED_ALGORITHM		0x26
#define CTAP2_ERR_OPERATION_DENIED		0x27
#define CTAP2_ERR_UNSUPPORTED_OPTION		0x2B
#define CTAP2_ERR_INVALID_OPTION		0x2C
#define CTAP2_ERR_KEEPALIVE_CANCEL		0x2D
#define CTAP2_ERR_NO_CREDENTIALS		0x2E
#define CTAP2_ERR_USER_ACTION_TIMEOUT		0x2F
#define CTAP2_ERR_NOT_ALLOWED			0x30
#define CTAP2_ERR_PIN_INVALID			0x31
#define CTAP2_ERR_PIN_BLOCKED			0x32
#define CTAP2_ERR_PIN_AUTH_INVALID		0x33
#define CTAP2_ERR_PIN_AUTH_BLOCKED		0x34
#define CTAP2_ERR_PIN_NOT_SET			0x35
#define CTAP2_ERR_PUAT_REQUIRED			0x36
#define CTAP2_ERR_PIN_POLICY_VIOLATION		0x37
#define CTAP2_ERR_REQUEST_TOO_LARGE		0x39
#define CTAP2_ERR_INVALID_SUBCOMMAND		0x3E
#define CTAP2_ERR_UNAUTHORIZED_PERMISSION	0x40
#define CTAP1_ERR_OTHER				0x7F

/* --- commands ---------------------------------------------------------- */
#define CTAP_CMD_MAKE_CREDENTIAL	0x01
#define CTAP_CMD_GET_ASSERTION		0x02
#define CTAP_CMD_GET_INFO		0x04
#define CTAP_CMD_CLIENT_PIN		0x06
#define CTAP_CMD_RESET			0x07
#define CTAP_CMD_SELECTION		0x0B

/* --- limits and constants --------------------------------------------- */
#define BG_SOFT_MASTER_LEN	32
#define BG_SOFT_PIN_HASH_LEN	16
#define BG_SOFT_PUAT_LEN	32	/* pinUvAuthToken */
#define BG_SOFT_MAX_RETRIES	8
#define BG_SOFT_MAX_MISMATCH	3	/* consecutive, per power cycle */
#define BG_SOFT_MIN_PIN_CP	4	/* code points */
#define BG_SOFT_MAX_PIN_BYTES	63
#define BG_SOFT_RESET_WINDOW_MS	10000
#define BG_SOFT_PUAT_FIRST_USE_MS 30000	/* unused token expires after */
#define BG_SOFT_PUAT_MAX_MS	600000	/* any token expires after */
#define BG_SOFT_MAX_CRED_LIST	16	/* maxCredentialCountInList */
#define BG_SOFT_MAX_CRED_ID	128	/* maxCredentialIdLength */
#define BG_SOFT_CBOR_DEPTH	8	/* nesting limit of accepted CBOR */

/* pinUvAuthToken permissions (CTAP 2.1) */
#define BG_SOFT_PERM_MC		0x01
#define BG_SOFT_PERM_GA		0x02

/* COSE */
#define COSE_ES256		(-7)
#define COSE_EDDSA		(-8)
#define COSE_ECDH_ES_HKDF_256	(-25)

/* Credential id: version | nonce | AEAD(plaintext) | tag. */
#define BG_SOFT_CRED_VERSION	0x01
#define BG_SOFT_CRED_NONCE_LEN	24
#define BG_SOFT_CRED_PT_LEN	35	/* alg, credProtect, flags, key[32] */
#define BG_SOFT_CRED_TAG_LEN	16
#define BG_SOFT_CRED_ID_LEN	(1 + BG_SOFT_CRED_NONCE_LEN + \
				 BG_SOFT_CRED_PT_LEN + BG_SOFT_CRED_TAG_LEN)
#define BG_SOFT_CRED_ALG_ES256	1
#define BG_SOFT_CRED_ALG_EDDSA	2
#define BG_SOFT_CRED_F_HMAC	0x01	/* created with hmac-secret */

/* State blob: "BGSOFT" 0x00 version, then the fields below, fixed size. */
#define BG_SOFT_STATE_MAGIC	"BGSOFT\0"
#define BG_SOFT_STATE_MAGIC_LEN	7
#define BG_SOFT_STATE_VERSION	1
#define BG_SOFT_STATE_LEN	(BG_SOFT_STATE_MAGIC_LEN + 1 + \
				 BG_SOFT_MASTER_LEN + 1 + BG_SOFT_PIN_HASH_LEN + 1 + 4)
#define BG_SOFT_STATE_F_PIN	0x01
/*
 * Version 2 is version 1 followed by an attestation identity: the
 * attestation key (P-256 scalar, 32 bytes), the AAGUID (16), the number
 * of certificates (1..BG_SOFT_ATT_CERTS), then each certificate as a
 * big-endian 16-bit length and its DER: the x5c makeCredential returns
 * (leaf first).  Their sum is at most BG_SOFT_ATT_X5C_MAX, so that a
 * makeCredential reply stays within BG_SOFT_MAX_MSG.
 */
#define BG_SOFT_STATE_VERSION_ATT 2
#define BG_SOFT_ATT_CERTS	4
#define BG_SOFT_ATT_X5C_MAX	1536

/* The public part of a token's attestation identity (none when !on). */
struct bg_soft_att {
	bool	 on;
	uint8_t	 aaguid[BG_SOFT_AAGUID_LEN];
	size_t	 n;
	size_t	 off[BG_SOFT_ATT_CERTS], len[BG_SOFT_ATT_CERTS];
	uint8_t	 x5c[BG_SOFT_ATT_X5C_MAX];	/* the certificates, in order */
};

/* Secrets, kept together in one sodium_malloc region. */
struct bg_soft_secrets {
	uint8_t	 master[BG_SOFT_MASTER_LEN];
	uint8_t	 pin_hash[BG_SOFT_PIN_HASH_LEN];
	uint8_t	 puat[BG_SOFT_PUAT_LEN];
	uint8_t	 att_key[32];		/* attestation key, when att.on */
};

/* The persistent part of a token, as parsed from its blob. */
struct bg_soft_pstate {
	bool	 pin_set;
	uint8_t	 retries;
	uint32_t counter;
};

struct bg_soft {
	bg_soft_env_t		 env;
	int			(*presence)(void *);	/* env.presence or set_presence */
	void			*presence_ctx;
	bg_soft_opts_t		 opts;
	struct bg_soft_secrets	*sec;		/* sodium_malloc */
	struct bg_soft_pstate	 ps;
	struct bg_soft_att	 att;		/* from the state blob */
	bool			 broken;	/* env.save failed: refuse all */

	/* volatile, reset by bg_soft_power_cycle() */
	uint64_t		 power_on_ms;
	unsigned		 mismatches;	/* consecutive wrong PINs */
	EVP_PKEY		*ka[2];		/* key agreement, protocol 1, 2 */

	/* the pinUvAuthToken's state */
	bool			 tok_in_use;
	bool			 tok_used;
	bool			 tok_uv;	/* userVerified flag */
	uint8_t			 tok_perms;
	int64_t			 tok_proto;	/* protocol it was issued under */
	bool			 tok_has_rp;
	uint8_t			 tok_rp_hash[32];
	uint64_t		 tok_issued_ms;
};

/* --- CBOR writer (canonical: shortest heads, definite lengths) -------- */
typedef struct bg_cbw {
	uint8_t	*p;
	size_t	 cap;
	size_t	 len;
	bool	 err;		/* overflow: the output is unusable */
} bg_cbw_t;

void bg_cbw_init(bg_cbw_t *w, uint8_t *buf, size_t cap);
void bg_cbw_uint(bg_cbw_t *w, uint64_t v);
void bg_cbw_int(bg_cbw_t *w, int64_t v);
void bg_cbw_bytes(bg_cbw_t *w, const uint8_t *b, size_t n);
void bg_cbw_text(bg_cbw_t *w, const char *s);
void bg_cbw_bool(bg_cbw_t *w, bool v);
void bg_cbw_map(bg_cbw_t *w, size_t n);
void bg_cbw_array(bg_cbw_t *w, size_t n);
/* COSE_Key of an EC2 P-256 public key with the given alg. */
void bg_cbw_cose_p256(bg_cbw_t *w, int64_t alg, const uint8_t x[32],
    const uint8_t y[32]);

/* --- CBOR reader: bounded pre-check, then libcbor ------------------- */
/*
 * Parse buf as exactly one CBOR item that must be a map.  Definite lengths
 * only, no tags, no floats, nesting at most BG_SOFT_CBOR_DEPTH, no
 * duplicate map keys, every declared length within the input.  Returns a
 * CTAP status; on CTAP2_OK *itemp is the map (cbor_decref it).
 */
BG_SOFT_WUR int bg_soft_cbor_parse_map(const uint8_t *buf, size_t len, cbor_item_t **itemp);
/* Value of integer key k in map m, or NULL. */
cbor_item_t *bg_soft_cbor_get_int(const cbor_item_t *m, int64_t k);
/* Value of text key k in map m, or NULL. */
cbor_item_t *bg_soft_cbor_get_text(const cbor_item_t *m, const char *k);
/* Integer value (unsigned or negative) in range, else CTAP error. */
int bg_soft_cbor_int(const cbor_item_t *it, int64_t *vp);
bool bg_soft_cbor_text_eq(const cbor_item_t *it, const char *s);

/* --- state blob (state.c) --------------------------------------------- */
/* Serialise master key and pstate into out[BG_SOFT_STATE_LEN]. */
void bg_soft_state_write(const struct bg_soft_secrets *sec,
    const struct bg_soft_pstate *ps, uint8_t out[BG_SOFT_STATE_LEN]);
/* Bytes of the blob for a token with attestation identity att (NULL or
 * off: version 1). */
size_t bg_soft_state_len(const struct bg_soft_att *att);
/* As bg_soft_state_write, with att (version 2 when att->on) and
 * sec->att_key; out has bg_soft_state_len(att) bytes. */
void bg_soft_state_write_att(const struct bg_soft_secrets *sec,
    const struct bg_soft_pstate *ps, const struct bg_soft_att *att,
    uint8_t *out);
/* Strict parse; fills sec->master, sec->pin_hash and *ps.  BG_ERR_PARSE on
 * a wrong magic, version, length or field value.  Version 1 only. */
BG_SOFT_WUR int bg_soft_state_read(const uint8_t *blob, size_t len,
    struct bg_soft_secrets *sec, struct bg_soft_pstate *ps);
/* Versions 1 and 2: also *att (off for version 1) and sec->att_key. */
BG_SOFT_WUR int bg_soft_state_read_att(const uint8_t *blob, size_t len,
    struct bg_soft_secrets *sec, struct bg_soft_pstate *ps,
    struct bg_soft_att *att);

/* --- core helpers (ctap2.c) ------------------------------------------ */
void bg_soft_rand(bg_soft_t *s, uint8_t *buf, size_t len);
uint64_t bg_soft_now(bg_soft_t *s);
/* Persist the state; on failure the token refuses all further requests. */
int bg_soft_commit(bg_soft_t *s);
/* Ask for presence; CTAP2_OK or the status for the outcome. */
int bg_soft_presence(bg_soft_t *s);
/* A P-256 key pair from injected randomness; d is the private scalar. */
int bg_soft_p256_gen(bg_soft_t *s, uint8_t d[32], EVP_PKEY **pkeyp,
    uint8_t x[32], uint8_t y[32]);

/* --- PIN/UV auth protocols (clientpin.c) -------------------------- */
bool bg_soft_proto_ok(const bg_soft_t *s, int64_t proto);
/*
 * shared[64]: bytes 0..31 the HMAC key, 32..63 the AES key (protocol 1
 * holds the same 32-byte secret in both halves).  Platform key in COSE
 * form; CTAP status (CTAP1_ERR_INVALID_PARAMETER when not on the curve).
 */
BG_SOFT_WUR int bg_soft_pp_decapsulate(bg_soft_t *s, int64_t proto,
    const cbor_item_t *cose, uint8_t shared[64]);
/* out gets 16 more bytes than len under protocol 2 (the IV). */
int bg_soft_pp_encrypt(bg_soft_t *s, int64_t proto, const uint8_t shared[64],
    const uint8_t *pt, size_t len, uint8_t *out, size_t *outlen);
/* CTAP status; out has room for len bytes. */
BG_SOFT_WUR int bg_soft_pp_decrypt(int64_t proto, const uint8_t shared[64],
    const uint8_t *ct, size_t len, uint8_t *out, size_t *outlen);
/* Constant-time check of an authenticate() value under key (32 bytes). */
BG_SOFT_WUR bool bg_soft_pp_verify(int64_t proto, const uint8_t key[32],
    const uint8_t *m1, size_t l1, const uint8_t *m2, size_t l2,
    const uint8_t *sig, size_t siglen);
/* New key-agreement keys for both protocols. */
int bg_soft_pp_regenerate(bg_soft_t *s);
/* Forget the pinUvAuthToken and make a new random one. */
void bg_soft_puat_reset(bg_soft_t *s);
int bg_soft_client_pin(bg_soft_t *s, const cbor_item_t *req, bg_cbw_t *w);

/* --- crypto (softcrypto.c) ------------------------------------------- */
/* P-256 private key from scalar d; BG_ERR_RANGE if d is 0 or >= n. */
int bg_soft_p256_priv(const uint8_t d[32], EVP_PKEY **pkeyp,
    uint8_t x[32], uint8_t y[32]);
/* P-256 public key; BG_ERR_INVALID_ARG unless (x,y) is on the curve. */
int bg_soft_p256_pub(const uint8_t x[32], const uint8_t y[32],
    EVP_PKEY **pkeyp);
int bg_soft_p256_xy(EVP_PKEY *pkey, uint8_t x[32], uint8_t y[32]);
int bg_soft_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[32]);
/* DER ECDSA-SHA256 signature, *siglen <= 72. */
int bg_soft_es256_sign(EVP_PKEY *priv, const uint8_t *m, size_t mlen,
    uint8_t sig[72], size_t *siglen);
/* AES-256-CBC without padding; len a multiple of 16. */
int bg_soft_aes256_cbc(bool enc, const uint8_t key[32], const uint8_t iv[16],
    const uint8_t *in, size_t len, uint8_t *out);
void bg_soft_hmac(const uint8_t *key, size_t keylen, const uint8_t *m1,
    size_t l1, const uint8_t *m2, size_t l2, uint8_t out[32]);
/* HKDF-SHA-256 with a 32-byte zero salt and L = 32 (RFC 5869). */
void bg_soft_hkdf32(const uint8_t *ikm, size_t ikmlen, const char *info,
    uint8_t out[32]);

#endif /* BG_SOFT_INT_H */
