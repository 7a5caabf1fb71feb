/*
 * breakglass — one error space for the whole project.
 *
 * Every function that can fail returns BG_OK (0) or one of the negative
 * codes below.  Foreign error spaces (libfido2, SQLite, libsodium, libcbor,
 * the OS) are translated exactly once, where they enter our code, into one
 * of these.  Codes are appended, never renumbered: they may be stored in
 * audit events and shown to auditors.
 */
#ifndef BREAKGLASS_ERR_H
#define BREAKGLASS_ERR_H

enum bg_err {
	BG_OK                        =   0,
	BG_ERR_INTERNAL              =  -1, /* a bug: an invariant did not hold */
	BG_ERR_NOMEM                 =  -2,
	BG_ERR_INVALID_ARG           =  -3, /* caller passed something malformed */
	BG_ERR_IO                    =  -4, /* file or socket I/O failed */
	BG_ERR_CRYPTO                =  -5, /* a crypto primitive failed to run */
	BG_ERR_AUTH                  =  -6, /* authentication failed: tampered or foreign data */
	BG_ERR_PARSE                 =  -7, /* malformed input */
	BG_ERR_RANGE                 =  -8, /* a value out of its allowed range */
	BG_ERR_NOT_FOUND             =  -9,
	BG_ERR_EXISTS                = -10,
	BG_ERR_DENIED                = -11, /* refused by policy or role */
	BG_ERR_STATE                 = -12, /* not allowed in the object's current state */
	BG_ERR_CLOCK                 = -13, /* the clock is behind the vault's newest event */
	BG_ERR_DB                    = -14, /* the database refused or failed */
	BG_ERR_DB_CORRUPT            = -15, /* the database file is damaged */
	BG_ERR_DB_BUSY               = -16, /* the vault is in use by another process */
	BG_ERR_DB_VERSION            = -17, /* schema newer than this program */
	BG_ERR_EXPIRED               = -18, /* membership, request or lease has expired */
	BG_ERR_HARDENING             = -19, /* core dumps / memory locking could not be set */
	BG_ERR_PIN_INPUT             = -20, /* the PIN could not be read */
	BG_ERR_UNSUPPORTED           = -21, /* feature not supported (by us) */

	/* Tokens.  Sentences a person at 03:00 can act on live in bg_strerror(). */
	BG_ERR_TOKEN_NOT_FOUND       = -40, /* no token at that path */
	BG_ERR_TOKEN_IO              = -41, /* lost contact with the token */
	BG_ERR_TOKEN_PROTOCOL        = -42, /* the token sent a malformed reply */
	BG_ERR_TOKEN_PIN_INVALID     = -43, /* wrong PIN */
	BG_ERR_TOKEN_PIN_BLOCKED     = -44, /* no PIN retries left */
	BG_ERR_TOKEN_PIN_AUTH_BLOCKED= -45, /* 3 wrong PINs: reconnect the token */
	BG_ERR_TOKEN_PIN_NOT_SET     = -46,
	BG_ERR_TOKEN_PIN_POLICY      = -47, /* PIN too short / too long / not allowed */
	BG_ERR_TOKEN_PIN_REQUIRED    = -48,
	BG_ERR_TOKEN_TIMEOUT         = -49, /* no touch in time */
	BG_ERR_TOKEN_CANCELLED       = -50,
	BG_ERR_TOKEN_NO_CREDENTIAL   = -51, /* the credential is not from this token */
	BG_ERR_TOKEN_UNSUPPORTED     = -52, /* token lacks hmac-secret, PIN or UV */
	BG_ERR_TOKEN_NO_UV           = -53, /* reply lacked the user-verified flag */
	BG_ERR_TOKEN_BAD_SIGNATURE   = -54,
	BG_ERR_TOKEN_COUNTER         = -55, /* sign counter did not move forward */
	BG_ERR_TOKEN_SOFT_REFUSED    = -56, /* software token in a vault that refuses them */
	BG_ERR_TOKEN_DENIED          = -57, /* the token refused the operation */
	BG_ERR_TOKEN_BUSY            = -58,
	BG_ERR_TOKEN_ATTESTATION     = -59, /* attestation did not verify */
	BG_ERR_TOKEN_RESET_WINDOW    = -60, /* reset only right after plugging in */
	BG_ERR_TOKEN_EXCLUDED        = -61, /* token already holds that credential */
};

/* A one-line sentence for code r; never NULL, never contains a secret. */
const char *bg_strerror(int r);

/* A stable short name ("BG_ERR_AUTH") for logs and audit events. */
const char *bg_errname(int r);

#endif /* BREAKGLASS_ERR_H */
