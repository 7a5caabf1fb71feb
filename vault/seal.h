/*
 * breakglass vault: sealing.
 *
 *  - membership keys: an X25519 key pair derived from a token's
 *    hmac-secret output;
 *  - value blobs: a secret's value under its 32-byte data key,
 *    XChaCha20-Poly1305;
 *  - box blobs: a share (or a request private key) sealed to an X25519
 *    public key with associated data (ephemeral-static X25519, BLAKE2b key
 *    derivation, XChaCha20-Poly1305); the boxes of one secret version
 *    may share their ephemeral key (bg_seal_eph_t);
 *  - associated-data builders, so every caller binds the same fields the
 *    same way.
 *
 * Blob formats (all integers big-endian; the whole header is also part of
 * the AEAD's associated data, so it cannot be altered):
 *
 *   value v1: 0x01 || nonce[24] || ciphertext || tag[16]
 *   box v1:   0x02 || eph_pk[32] || nonce[24] || ciphertext || tag[16]
 *
 * Box key = BLAKE2b-256("breakglass box v1\0" || X25519(eph_sk, pk) ||
 * eph_pk || pk); an all-zero X25519 result is refused.
 *
 * Errors: BG_OK or a negative BG_ERR_* (err.h).  Open functions return
 * BG_ERR_AUTH for every authentication failure (wrong key, wrong AD,
 * altered or truncated blob, unknown version): callers should say "this
 * data was altered or belongs elsewhere", never more.
 *
 * Secrets: data keys, private keys and plaintext shares live in the
 * caller's sodium_malloc memory; functions here wipe their own temporaries
 * at once.  On failure, plaintext outputs are zeroed.
 */
#ifndef BG_SEAL_H
#define BG_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define BG_SEAL_KEY_LEN		32	/* data key */
#define BG_SEAL_PK_LEN		32	/* X25519 public key */
#define BG_SEAL_SK_LEN		32	/* X25519 private key */
#define BG_SEAL_HMAC_LEN	32	/* hmac-secret output */
#define BG_SEAL_NONCE_LEN	24
#define BG_SEAL_TAG_LEN		16

#define BG_SEAL_VALUE_V1	0x01
#define BG_SEAL_BOX_V1		0x02

/* Blob size = plaintext size + overhead. */
#define BG_SEAL_VALUE_OVERHEAD	(1 + BG_SEAL_NONCE_LEN + BG_SEAL_TAG_LEN)
#define BG_SEAL_BOX_OVERHEAD \
	(1 + BG_SEAL_PK_LEN + BG_SEAL_NONCE_LEN + BG_SEAL_TAG_LEN)

/* Largest plaintext accepted (1 MiB). */
#define BG_SEAL_MAX_PLAINTEXT	(1024u * 1024u)

#if defined(__GNUC__) || defined(__clang__)
#define BG_SEAL_WUR __attribute__((warn_unused_result))
#else
#define BG_SEAL_WUR
#endif

/* --- keys -------------------------------------------------------------- */

/*
 * Membership key pair from the token's hmac-secret output for the
 * membership's salt: seed = BLAKE2b-256 keyed with hmac_out over
 * "breakglass membership key v1"; sk = seed (an X25519 scalar; clamped
 * by X25519 itself), pk = X25519(sk, base).  Deterministic.
 * sk: 32 bytes of the caller's sodium_malloc memory.
 * Returns BG_OK, BG_ERR_INVALID_ARG, BG_ERR_CRYPTO; on failure pk and sk
 * are zeroed.
 */
int	bg_seal_member_keypair(const uint8_t hmac_out[BG_SEAL_HMAC_LEN],
	    uint8_t pk[BG_SEAL_PK_LEN], uint8_t *sk);

/*
 * A fresh random X25519 key pair (the request key).  sk: 32 bytes of the
 * caller's sodium_malloc memory.  BG_OK, BG_ERR_INVALID_ARG, BG_ERR_CRYPTO.
 */
int	bg_seal_keypair(uint8_t pk[BG_SEAL_PK_LEN], uint8_t *sk);

/* A fresh random 32-byte data key into the caller's (sodium_malloc) key. */
int	bg_seal_data_key(uint8_t *key);

/* --- value blobs ------------------------------------------------------- */

/*
 * Encrypt pt (ptlen bytes, 0..BG_SEAL_MAX_PLAINTEXT) under key with ad
 * (adlen bytes; ad may be NULL when adlen is 0) into blob, which has room
 * for blob_cap bytes; *blob_len = ptlen + BG_SEAL_VALUE_OVERHEAD.
 * Returns BG_OK, BG_ERR_INVALID_ARG, BG_ERR_RANGE (too large / blob_cap
 * too small), BG_ERR_CRYPTO.
 */
int	bg_seal_value(const uint8_t *key, const uint8_t *pt, size_t ptlen,
	    const uint8_t *ad, size_t adlen, uint8_t *blob, size_t blob_cap,
	    size_t *blob_len);

/*
 * Decrypt a value blob into pt (room for pt_cap >= bloblen -
 * BG_SEAL_VALUE_OVERHEAD bytes; put it in sodium_malloc memory);
 * *pt_len is the plaintext length.
 * Returns BG_OK; BG_ERR_AUTH (any mismatch, unknown version, short blob);
 * BG_ERR_INVALID_ARG; BG_ERR_RANGE (pt_cap too small).
 */
int	bg_seal_value_open(const uint8_t *key, const uint8_t *blob,
	    size_t bloblen, const uint8_t *ad, size_t adlen, uint8_t *pt,
	    size_t pt_cap, size_t *pt_len) BG_SEAL_WUR;

/* --- box blobs (to an X25519 public key) ------------------------------- */

/*
 * Seal pt (0..BG_SEAL_MAX_PLAINTEXT bytes) to recipient public key pk with
 * ad; blob gets ptlen + BG_SEAL_BOX_OVERHEAD bytes.
 * Returns BG_OK, BG_ERR_INVALID_ARG, BG_ERR_RANGE, BG_ERR_CRYPTO (pk is a
 * low-order point).
 */
int	bg_seal_box(const uint8_t pk[BG_SEAL_PK_LEN], const uint8_t *pt,
	    size_t ptlen, const uint8_t *ad, size_t adlen, uint8_t *blob,
	    size_t blob_cap, size_t *blob_len);

/*
 * One ephemeral key shared by several boxes: the share boxes of one secret
 * version, one per approver token.  Each box still gets its own key,
 * BLAKE2b over X25519(eph_sk, pk) || eph_pk || pk, and its own random
 * nonce, so the blob format and bg_seal_box_open() are unchanged; sealing
 * N boxes costs N + 1 X25519 multiplications instead of 2N.  Reusing the
 * ephemeral scalar across recipients of one message is the multi-recipient
 * setting of hashed ElGamal / DHIES, shown as secure as one box per
 * recipient (Bellare, Boldyreva, Kurosawa, Staddon, "Multirecipient
 * encryption schemes", IEEE Trans. IT 53(11), 2007; Kurosawa, PKC 2002),
 * because each key hashes in the recipient's public key.  Use one
 * bg_seal_eph_t per secret version, never across versions or secrets.
 *
 * The struct holds secrets: keep it in sodium_malloc memory.
 * bg_seal_eph_init: BG_OK, BG_ERR_INVALID_ARG, BG_ERR_CRYPTO.
 * bg_seal_eph_clear wipes it (NULL is fine).
 * bg_seal_box_eph: as bg_seal_box, with eph's key.
 */
typedef struct bg_seal_eph {
	uint8_t	sk[BG_SEAL_SK_LEN];
	uint8_t	pk[BG_SEAL_PK_LEN];
	uint8_t	work[64];	/* one box's X25519 result and key */
} bg_seal_eph_t;

int	bg_seal_eph_init(bg_seal_eph_t *eph);
void	bg_seal_eph_clear(bg_seal_eph_t *eph);
int	bg_seal_box_eph(bg_seal_eph_t *eph, const uint8_t pk[BG_SEAL_PK_LEN],
	    const uint8_t *pt, size_t ptlen, const uint8_t *ad, size_t adlen,
	    uint8_t *blob, size_t blob_cap, size_t *blob_len);

/*
 * Open a box blob with the recipient's key pair (sk in sodium_malloc
 * memory, pk its public key).  pt needs bloblen - BG_SEAL_BOX_OVERHEAD
 * bytes.  Returns BG_OK; BG_ERR_AUTH (wrong key, wrong ad, altered, short
 * or unknown blob); BG_ERR_INVALID_ARG; BG_ERR_RANGE (pt_cap too small).
 */
int	bg_seal_box_open(const uint8_t *sk, const uint8_t pk[BG_SEAL_PK_LEN],
	    const uint8_t *blob, size_t bloblen, const uint8_t *ad,
	    size_t adlen, uint8_t *pt, size_t pt_cap, size_t *pt_len)
	    BG_SEAL_WUR;

/* --- associated data --------------------------------------------------- */

/*
 * Canonical associated data, built into a caller's struct (no allocation).
 * Encoding: a domain tag then each field, every item as
 * u32 length || bytes; integers as 8-byte big-endian items.  Tags:
 *   "breakglass ad value v1"    vault, tenant, secret, version, policy hash
 *   "breakglass ad share v1"    vault, tenant, secret, version, leaf index,
 *                               policy hash
 *   "breakglass ad reqkey v1"   vault, request
 *   "breakglass ad reshare v1"  vault, request, leaf index
 * Ids are the store's ids as NUL-terminated text (hex for binary ids,
 * decimal for integer ids), each 1..BG_SEAL_AD_ID_MAX bytes.
 * Returns BG_OK or BG_ERR_INVALID_ARG (NULL, empty or too-long id); on
 * failure ad->len is 0.
 */
#define BG_SEAL_AD_ID_MAX	255
#define BG_SEAL_AD_MAX		1024

typedef struct bg_seal_ad {
	size_t	len;
	uint8_t	buf[BG_SEAL_AD_MAX];
} bg_seal_ad_t;

/*
 * The value's AD binds its record only: the policy (which a re-key
 * changes) is bound in the shares (bg_share_binding), so a re-key never
 * touches a value ciphertext.  Callers pass BG_SEAL_NO_POLICY.
 */
extern const uint8_t BG_SEAL_NO_POLICY[32];
int	bg_seal_ad_value(bg_seal_ad_t *ad, const char *vault_id,
	    const char *tenant_id, const char *secret_id, uint64_t version,
	    const uint8_t policy_hash[32]);
int	bg_seal_ad_share(bg_seal_ad_t *ad, const char *vault_id,
	    const char *tenant_id, const char *secret_id, uint64_t version,
	    uint64_t leaf_index, const uint8_t policy_hash[32]);
int	bg_seal_ad_reqkey(bg_seal_ad_t *ad, const char *vault_id,
	    const char *request_id);
int	bg_seal_ad_reshare(bg_seal_ad_t *ad, const char *vault_id,
	    const char *request_id, uint64_t leaf_index);

/* --- request keys ------------------------------------------------------- */

/* Size of a request key's private half sealed to a member key. */
#define BG_SEAL_REQKEY_SEALED_LEN	(BG_SEAL_SK_LEN + BG_SEAL_BOX_OVERHEAD)

/*
 * A fresh X25519 key pair for one request (or re-key proposal) key_id of
 * vault_id: pk gets the public half, sealed (BG_SEAL_REQKEY_SEALED_LEN
 * bytes) the private half sealed at once to member_pk with the request-key
 * associated data.  The private half never leaves this function; it is
 * opened later only with that member's token.  Returns BG_OK, BG_ERR_NOMEM
 * or an error of bg_seal_box / bg_seal_ad_reqkey.
 */
int	bg_seal_reqkey_new(const char *vault_id, const char *key_id,
	    const uint8_t member_pk[BG_SEAL_PK_LEN], uint8_t pk[BG_SEAL_PK_LEN],
	    uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN]);

/*
 * Seal an existing request private key sk (the caller's sodium_malloc
 * memory; made with bg_seal_keypair before the statement naming its
 * public half was signed) to member_pk, as bg_seal_reqkey_new does.
 */
int	bg_seal_reqkey_seal(const char *vault_id, const char *key_id,
	    const uint8_t *sk, const uint8_t member_pk[BG_SEAL_PK_LEN],
	    uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN]);

/*
 * The key commitment of a version: BLAKE2b-256 keyed with the data key
 * over "breakglass key commitment v1", vault, tenant, secret, version.
 * Checked whenever a data key is rebuilt from shares (a re-key's
 * contributor who sent garbage is caught there, before the value).
 */
int	bg_seal_key_commit(const char *vault_id, const char *tenant_id,
	    const char *secret_id, uint64_t version, const uint8_t *key,
	    uint8_t out[32]);

/* --- sub-shares of a re-key (rekey.c) ------------------------------------ */

/*
 * A sender-authenticated box: a re-key contributor boxes each sub-share
 * from their own membership key to a new holder's, so the holder knows
 * who sent it.  Key: crypto_box_beforenm(X25519 of sender_sk and
 * recipient_pk, then HSalsa20); cipher: XChaCha20-Poly1305 with ad.
 *   sbox v1: 0x03 || nonce[24] || ciphertext || tag[16]
 * Open with the recipient's secret key and the sender's public key;
 * BG_ERR_AUTH for every failure.  Associated data of a sub-share: vault,
 * tenant, secret, version, the new leaf, the share binding of the new
 * link (bg_share_binding), the re-key id and the contributor.
 */
#define BG_SEAL_SBOX_V1		0x03
#define BG_SEAL_SBOX_OVERHEAD	(1 + BG_SEAL_NONCE_LEN + BG_SEAL_TAG_LEN)

int	bg_seal_sbox(const uint8_t *sender_sk,
	    const uint8_t recipient_pk[BG_SEAL_PK_LEN], const uint8_t *pt,
	    size_t ptlen, const uint8_t *ad, size_t adlen, uint8_t *blob,
	    size_t blob_cap, size_t *blob_len);
int	bg_seal_sbox_open(const uint8_t *recipient_sk,
	    const uint8_t sender_pk[BG_SEAL_PK_LEN], const uint8_t *blob,
	    size_t bloblen, const uint8_t *ad, size_t adlen, uint8_t *pt,
	    size_t pt_cap, size_t *pt_len) BG_SEAL_WUR;
int	bg_seal_ad_subshare(bg_seal_ad_t *ad, const char *vault_id,
	    const char *tenant_id, const char *secret_id, uint64_t version,
	    uint64_t leaf_index, const uint8_t binding[32],
	    const char *rekey_id, const char *contributor);

#endif /* BG_SEAL_H */
