/*
 * breakglass vault: signed tree heads and paper receipts for the audit
 * log's Merkle tree (merkle.h).  docs/audit-log.md describes both formats
 * well enough to check them with outside tools.
 *
 * A signed tree head (STH) says "on <time>, the log of vault <id> had
 * <size> events and Merkle root <root>", signed with the vault's Ed25519
 * key.  The signed message is a fixed 88-byte binary encoding:
 *
 *   "breakglass tree head v1" (23 ASCII bytes) || 0x00
 *   || vault id (16 bytes: the 32 hex characters decoded)
 *   || size (uint64, big endian) || root (32 bytes)
 *   || time (int64 seconds since the epoch, big endian, >= 0)
 *
 * Its text form, one line without a newline, lowercase hex:
 *
 *   bg-treehead-v1 vault=<32 hex> size=<decimal> root=<64 hex>
 *       time=<decimal> sig=<128 hex>          (on one line, single spaces)
 *
 * A receipt is the short line written into the paper ceremony log book:
 *
 *   BG1-<size>-<first 16 hex digits of the root>-<4 hex digits checksum>
 *
 * The checksum is CRC-16/XMODEM (polynomial 0x1021, initial value 0, as
 * Python's binascii.crc_hqx(data, 0)) of the ASCII text before the last
 * '-' in its canonical form ("BG1", lowercase hex).  A CRC of degree 16
 * detects every error confined to 16 consecutive bits, so every single
 * mistyped character and every swap of two neighbouring characters is
 * caught, which a truncated hash would only catch with high probability.
 * The checksum guards against typing mistakes only; what makes a receipt
 * evidence is the 64-bit root prefix, which a forger would have to match
 * with a different history of the same size.  Receipts are read without
 * regard to case ("bg1-...-AB12..." is accepted) since they are copied by
 * hand.
 *
 * Sizes are limited to INT64_MAX (SQLite's integers); times to >= 0.
 * Parsers take a NUL-terminated string, reject anything not in the exact
 * form above, and put a sentence saying what is wrong (naming the
 * character position, 1-based) into why when why is not NULL.
 *
 * Every int-returning function returns BG_OK or a negative BG_ERR_* code.
 */
#ifndef BG_TREEHEAD_H
#define BG_TREEHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"

#define BG_TREEHEAD_DOMAIN	"breakglass tree head v1"
#define BG_TREEHEAD_VAULT_ID_LEN 32	/* hex characters (BG_VAULT_ID_LEN) */
#define BG_TREEHEAD_MSG_LEN	88	/* bytes of the signed message */
#define BG_TREEHEAD_SIG_LEN	64	/* Ed25519 */
#define BG_TREEHEAD_PK_LEN	32	/* crypto_sign_PUBLICKEYBYTES */
#define BG_TREEHEAD_SK_LEN	64	/* crypto_sign_SECRETKEYBYTES */
#define BG_TREEHEAD_TEXT_MAX	320	/* text form incl. NUL (306 + NUL max) */
#define BG_TREEHEAD_WHY_MAX	160	/* enough for any parser sentence */

#define BG_RECEIPT_PREFIX_LEN	8	/* root bytes in a receipt (16 hex) */
#define BG_RECEIPT_MAX		48	/* receipt text incl. NUL (46 max) */

/* A tree head; public data, a plain value the caller owns. */
typedef struct bg_treehead {
	char		vault_id[BG_TREEHEAD_VAULT_ID_LEN + 1];	/* lowercase hex */
	uint64_t	size;
	uint8_t		root[BG_MERKLE_HASH_LEN];
	int64_t		time;
	uint8_t		sig[BG_TREEHEAD_SIG_LEN];	/* set by _sign() */
} bg_treehead_t;

/*
 * The 88-byte message that is signed.  BG_ERR_INVALID_ARG when a field is
 * out of range (vault id not 32 lowercase hex characters, size above
 * INT64_MAX, negative time); msg is zeroed then.
 */
int	bg_treehead_message(const bg_treehead_t *th,
	    uint8_t msg[BG_TREEHEAD_MSG_LEN]);

/*
 * Sign th's fields with the Ed25519 secret key sk (libsodium's 64-byte
 * form; the caller keeps it in sodium_malloc memory) into th->sig.
 * Returns BG_OK; BG_ERR_INVALID_ARG; BG_ERR_CRYPTO.
 */
int	bg_treehead_sign(bg_treehead_t *th,
	    const uint8_t sk[BG_TREEHEAD_SK_LEN]);

/*
 * Check th->sig against th's fields and the vault's public key pk.
 * Returns BG_OK; BG_ERR_AUTH (signature does not verify: wrong key or
 * any field changed); BG_ERR_INVALID_ARG (NULL or a field out of range).
 */
int	bg_treehead_verify(const bg_treehead_t *th,
	    const uint8_t pk[BG_TREEHEAD_PK_LEN])
	    __attribute__((warn_unused_result));

/*
 * The text form of th into buf (cap bytes; BG_TREEHEAD_TEXT_MAX is always
 * enough).  Returns BG_OK; BG_ERR_INVALID_ARG (field out of range);
 * BG_ERR_RANGE (buf too small; buf is then "").
 */
int	bg_treehead_format(const bg_treehead_t *th, char *buf, size_t cap);

/*
 * Parse the text form.  Returns BG_OK; BG_ERR_PARSE with a sentence in why
 * (whycap bytes; BG_TREEHEAD_WHY_MAX is enough); BG_ERR_INVALID_ARG for
 * NULL s or th.  Parsing does not check the signature: call
 * bg_treehead_verify().  On failure *th is zeroed.
 */
int	bg_treehead_parse(const char *s, bg_treehead_t *th, char *why,
	    size_t whycap);

/* --- receipts -------------------------------------------------------------- */

typedef struct bg_receipt {
	uint64_t	size;
	uint8_t		root_prefix[BG_RECEIPT_PREFIX_LEN];
} bg_receipt_t;

/*
 * The receipt line for a tree of size leaves with the given root into buf
 * (BG_RECEIPT_MAX is always enough).  Returns BG_OK; BG_ERR_INVALID_ARG
 * (NULL, size above INT64_MAX); BG_ERR_RANGE (buf too small).
 */
int	bg_receipt_format(uint64_t size, const uint8_t root[BG_MERKLE_HASH_LEN],
	    char *buf, size_t cap);

/*
 * Parse a receipt line, as above.  Returns BG_OK; BG_ERR_PARSE with a
 * sentence in why ("the checksum does not match: a character was mistyped
 * or two were swapped"); BG_ERR_INVALID_ARG for NULL s or rc.
 */
int	bg_receipt_parse(const char *s, bg_receipt_t *rc, char *why,
	    size_t whycap);

/*
 * BG_OK if root (the log's root at rc->size, computed from today's log)
 * starts with the receipt's root prefix; BG_ERR_AUTH if not;
 * BG_ERR_INVALID_ARG for NULL.
 */
int	bg_receipt_matches_root(const bg_receipt_t *rc,
	    const uint8_t root[BG_MERKLE_HASH_LEN])
	    __attribute__((warn_unused_result));

/*
 * Does today's log (size leaves, read through get) extend the receipt?
 * Computes the root at rc->size and compares.  Returns BG_OK;
 * BG_ERR_RANGE when the log is shorter than the receipt (truncated, or an
 * older copy); BG_ERR_AUTH when the root differs (an event up to rc->size
 * was edited, removed or reordered); BG_ERR_INVALID_ARG; or whatever get
 * returned.  Naming the first differing event is the caller's job (it
 * has the events; the receipt has only a prefix of one root).
 */
int	bg_receipt_check(const bg_receipt_t *rc, uint64_t size,
	    bg_merkle_leaf_fn *get, void *ctx)
	    __attribute__((warn_unused_result));

#endif /* BG_TREEHEAD_H */
