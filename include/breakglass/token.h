/*
 * breakglass token layer: FIDO2 tokens through libfido2, by path.
 *
 *   "/dev/hidrawN"  a USB token from libfido2's manifest
 *   "unix:PATH"     a CTAPHID device on a UNIX SOCK_SEQPACKET socket, one raw
 *                   64-byte report per packet (the software authenticator,
 *                   or any authenticator bridged there)
 *
 * Every function returns BG_OK or a negative BG_ERR_* code (err.h); libfido2
 * codes are translated once, inside this layer.  Output pointers are cleared
 * on entry and set only on success; the caller owns what they point to and
 * frees it with the matching _free(), which tolerates NULL and sets the
 * caller's pointer to NULL.  Nothing here prints or reads the terminal.
 *
 * PINs are NUL-terminated strings the caller keeps in sodium_malloc memory.
 */
#ifndef BREAKGLASS_TOKEN_H
#define BREAKGLASS_TOKEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BG_TOKEN_AAGUID_LEN	16
#define BG_TOKEN_CDH_LEN	32	/* clientDataHash */
#define BG_TOKEN_SALT_LEN	32	/* hmac-secret salt */
#define BG_TOKEN_HMAC_LEN	32	/* hmac-secret output for one salt */
#define BG_TOKEN_TIMEOUT_MS	30000	/* default wait for a touch */

/* COSE algorithm identifiers. */
#define BG_TOKEN_ES256		(-7)
#define BG_TOKEN_EDDSA		(-8)

/* The AAGUID every breakglass software token reports (see soft/soft.h). */
extern const uint8_t bg_token_soft_aaguid[BG_TOKEN_AAGUID_LEN];

typedef struct bg_token bg_token_t;		/* an open device (opaque) */

/*
 * A transport with exactly libfido2's fido_dev_io_t semantics: write() gets
 * a report-id byte followed by the 64-byte report; read() fills one 64-byte
 * report, waiting at most ms milliseconds (-1: forever).  Used for "unix:"
 * paths internally, and by tests for an in-process software token.
 */
typedef struct bg_token_io {
	void	*(*open)(const char *path);
	void	 (*close)(void *handle);
	int	 (*read)(void *handle, unsigned char *buf, size_t len, int ms);
	int	 (*write)(void *handle, const unsigned char *buf, size_t len);
} bg_token_io_t;

/* Once per process, before anything else here. */
int bg_token_init(void);

/*
 * While *flag is non-zero (set it from a SIGINT handler), waits for a token
 * are abandoned and the token is sent CTAPHID CANCEL; the operation then
 * fails with BG_ERR_TOKEN_CANCELLED.  NULL turns this off.
 */
void bg_token_set_interrupt(volatile sig_atomic_t *flag);

/* --- discovery ------------------------------------------------------- */

typedef struct bg_token_desc {
	char	*path;			/* "unix:/x.sock" or "/dev/hidraw3" */
	char	*manufacturer;		/* "" when unknown */
	char	*product;		/* "" when unknown */
	uint16_t vendor_id;
	uint16_t product_id;
	bool	 aaguid_known;		/* false if the device did not answer */
	uint8_t	 aaguid[BG_TOKEN_AAGUID_LEN];
	bool	 is_soft;		/* a breakglass software token */
} bg_token_desc_t;

/*
 * HID tokens from libfido2's manifest, then each of unix_paths (without the
 * "unix:" prefix), then every socket in unix_dir (may be NULL).
 */
int bg_token_list(const char *const *unix_paths, size_t n_unix_paths,
    const char *unix_dir, bg_token_desc_t **listp, size_t *np);
void bg_token_list_free(bg_token_desc_t **listp, size_t n);

/* --- opening --------------------------------------------------------- */

int bg_token_open(const char *path, bg_token_t **tokp);
/* Open path through a caller-supplied transport (tests, in-process tokens). */
int bg_token_open_io(const char *path, const bg_token_io_t *io,
    bg_token_t **tokp);
void bg_token_close(bg_token_t **tokp);
const char *bg_token_path(const bg_token_t *tok);
/* Wait for a touch at most ms milliseconds (default BG_TOKEN_TIMEOUT_MS). */
int bg_token_set_timeout(bg_token_t *tok, int ms);

/* --- features -------------------------------------------------------- */

typedef struct bg_token_features {
	uint8_t	 aaguid[BG_TOKEN_AAGUID_LEN];
	bool	 is_soft;		/* breakglass software token */
	bool	 fido_2_0, fido_2_1;	/* advertised versions */
	bool	 hmac_secret;		/* extension offered */
	bool	 cred_protect;		/* extension offered */
	bool	 client_pin;		/* clientPin option present */
	bool	 pin_set;		/* clientPin option true */
	bool	 uv;			/* built-in UV (biometrics) */
	bool	 pin_uv_auth_token;	/* CTAP 2.1 pinUvAuthToken */
	bool	 es256, eddsa;		/* algorithms offered */
	uint8_t	 pin_protocols[4];	/* in the token's order of preference */
	size_t	 n_pin_protocols;
	int	 pin_retries;		/* -1 when unknown */
	uint64_t max_msg_size;
	char	 product[64];		/* "" when unknown */
} bg_token_features_t;

int bg_token_probe(bg_token_t *tok, bg_token_features_t *feat);

/*
 * Whether a probed token can hold a vault membership: hmac-secret and
 * clientPin are required, and the PIN must be set.  On refusal returns
 * BG_ERR_TOKEN_UNSUPPORTED or BG_ERR_TOKEN_PIN_NOT_SET and points *whyp at a
 * sentence naming what is missing.
 */
int bg_token_check_usable(const bg_token_features_t *feat, const char **whyp);

/* --- PIN management -------------------------------------------------- */

int bg_token_pin_set(bg_token_t *tok, const char *pin);
int bg_token_pin_change(bg_token_t *tok, const char *old_pin,
    const char *new_pin);
int bg_token_pin_retries(bg_token_t *tok, int *retriesp);
/* Erases every credential; most tokens allow it only just after plug-in. */
int bg_token_reset(bg_token_t *tok);

/* --- enrollment ------------------------------------------------------ */

enum bg_token_attestation {
	BG_TOKEN_ATT_NONE = 0,		/* fmt "none": nothing to verify */
	BG_TOKEN_ATT_SELF = 1,		/* packed self-attestation, verified */
	BG_TOKEN_ATT_X5C  = 2,		/* certificate chain, signature verified */
};

typedef struct bg_token_cred {
	int	 alg;			/* BG_TOKEN_ES256 or BG_TOKEN_EDDSA */
	uint8_t	*id;	size_t id_len;	/* credential id */
	uint8_t	*pubkey; size_t pubkey_len; /* raw: ES256 x||y (64), EdDSA 32 */
	uint8_t	*cose_pubkey; size_t cose_pubkey_len; /* COSE_Key, CBOR */
	uint8_t	 aaguid[BG_TOKEN_AAGUID_LEN];
	char	*fmt;			/* attestation statement format */
	int	 attestation;		/* enum bg_token_attestation */
	uint8_t	*x5c;	size_t x5c_len;	/* leaf certificate DER, or NULL */
	int	 cred_protect;		/* level the token granted, 0 if none */
	uint32_t sign_count;
	bool	 is_soft;
	/* The attestation as returned, for whoever verifies it again:
	 * authData (raw), the attStmt CBOR (with the whole x5c chain) and
	 * the clientDataHash the token signed. */
	uint8_t	*att_authdata;	size_t att_authdata_len;
	uint8_t	*att_stmt;	size_t att_stmt_len;
	uint8_t	 att_cdh[BG_TOKEN_CDH_LEN];
} bg_token_cred_t;

/*
 * makeCredential for rp_id with hmac-secret, credProtect level 3 where the
 * token offers it, UV through the PIN, non-resident; alg 0 means ES256.
 * The attestation is verified before this returns.
 */
int bg_token_enroll(bg_token_t *tok, const char *rp_id, const char *user_name,
    int alg, const char *pin, bg_token_cred_t **credp);
void bg_token_cred_free(bg_token_cred_t **credp);

/* --- assertion ------------------------------------------------------- */

typedef struct bg_token_assertion {
	uint32_t sign_count;
	uint8_t	 flags;			/* authenticator-data flags (UP 0x01, UV 0x04) */
	uint8_t	*authdata; size_t authdata_len; /* raw authenticator data */
	uint8_t	*sig;	size_t sig_len;	/* over authdata || clientDataHash */
	uint8_t	*hmac_secret;		/* BG_TOKEN_HMAC_LEN bytes in sodium_malloc
					   memory, or NULL when no salt was given */
} bg_token_assertion_t;

/*
 * getAssertion for one credential with UP and UV (PIN) required, over the
 * caller's clientDataHash, with one hmac-secret salt (or salt NULL).  The
 * signature is verified against pubkey and the UP and UV flags checked
 * before this returns; BG_ERR_TOKEN_NO_UV, BG_ERR_TOKEN_BAD_SIGNATURE tell
 * why not.  The sign counter is returned, not judged: the caller knows the
 * last one.
 */
int bg_token_assert(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len,
    int alg, const uint8_t *pubkey, size_t pubkey_len,
    const uint8_t cdh[BG_TOKEN_CDH_LEN], const uint8_t *salt,
    const char *pin, bg_token_assertion_t **assertp)
    __attribute__((warn_unused_result));
void bg_token_assertion_free(bg_token_assertion_t **assertp);

/*
 * Whether tok holds the credential (rp_id, cred_id), asked without user
 * presence (no touch) but with UV through the PIN, over a fixed probe
 * hash; a reply's signature must verify with pubkey.  *heldp false when
 * the token holds no such credential.  What the token signs carries no
 * UP flag, so no act accepts it.  For naming whose token was used when
 * it held none of the credentials an act asked for.
 */
int bg_token_holds(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len,
    int alg, const uint8_t *pubkey, size_t pubkey_len, const char *pin,
    bool *heldp) __attribute__((warn_unused_result));

/*
 * Verify stored evidence offline: signature over authdata || cdh with the
 * raw public key, rpIdHash == SHA-256(rp_id), UP set, and UV set when
 * require_uv.  Needs no token.
 */
int bg_token_verify(int alg, const uint8_t *pubkey, size_t pubkey_len,
    const char *rp_id, const uint8_t cdh[BG_TOKEN_CDH_LEN],
    const uint8_t *authdata, size_t authdata_len,
    const uint8_t *sig, size_t sig_len, bool require_uv)
    __attribute__((warn_unused_result));

#endif /* BREAKGLASS_TOKEN_H */
