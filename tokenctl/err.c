/*
 * bg_strerror(): sentences a person can act on.  Kept beside the enum's
 * only other user (the libfido2 mapper in fido_err.c) so that wording for
 * token errors is decided in one place.
 */
#include <stddef.h>

#include "breakglass/err.h"

struct errdesc {
	int		 code;
	const char	*name;
	const char	*text;
};

static const struct errdesc errtab[] = {
	{ BG_OK, "BG_OK", "success" },
	{ BG_ERR_INTERNAL, "BG_ERR_INTERNAL", "internal error (a bug in breakglass; please report it)" },
	{ BG_ERR_NOMEM, "BG_ERR_NOMEM", "out of memory" },
	{ BG_ERR_INVALID_ARG, "BG_ERR_INVALID_ARG", "invalid argument" },
	{ BG_ERR_IO, "BG_ERR_IO", "input/output error" },
	{ BG_ERR_CRYPTO, "BG_ERR_CRYPTO", "a cryptographic operation failed" },
	{ BG_ERR_AUTH, "BG_ERR_AUTH", "authentication failed: the data was altered or belongs elsewhere" },
	{ BG_ERR_PARSE, "BG_ERR_PARSE", "malformed input" },
	{ BG_ERR_RANGE, "BG_ERR_RANGE", "value out of range" },
	{ BG_ERR_NOT_FOUND, "BG_ERR_NOT_FOUND", "not found" },
	{ BG_ERR_EXISTS, "BG_ERR_EXISTS", "already exists" },
	{ BG_ERR_DENIED, "BG_ERR_DENIED", "refused by policy" },
	{ BG_ERR_STATE, "BG_ERR_STATE", "not allowed in the current state" },
	{ BG_ERR_CLOCK, "BG_ERR_CLOCK", "the system clock is earlier than the vault's newest event; fix the clock" },
	{ BG_ERR_DB, "BG_ERR_DB", "database error" },
	{ BG_ERR_DB_CORRUPT, "BG_ERR_DB_CORRUPT", "the vault file is damaged; restore it from a backup" },
	{ BG_ERR_DB_BUSY, "BG_ERR_DB_BUSY", "the vault is in use by another process; try again" },
	{ BG_ERR_DB_VERSION, "BG_ERR_DB_VERSION", "the vault file was written by a newer breakglass; upgrade this program" },
	{ BG_ERR_EXPIRED, "BG_ERR_EXPIRED", "expired" },
	{ BG_ERR_HARDENING, "BG_ERR_HARDENING", "could not disable core dumps or lock memory; refusing to handle secrets" },
	{ BG_ERR_PIN_INPUT, "BG_ERR_PIN_INPUT", "could not read the PIN" },
	{ BG_ERR_UNSUPPORTED, "BG_ERR_UNSUPPORTED", "not supported" },
	{ BG_ERR_TOKEN_NOT_FOUND, "BG_ERR_TOKEN_NOT_FOUND", "no security token found at that path; is it plugged in (or the software token running)?" },
	{ BG_ERR_TOKEN_IO, "BG_ERR_TOKEN_IO", "lost contact with the security token; reconnect it and try again" },
	{ BG_ERR_TOKEN_PROTOCOL, "BG_ERR_TOKEN_PROTOCOL", "the security token sent a malformed reply" },
	{ BG_ERR_TOKEN_PIN_INVALID, "BG_ERR_TOKEN_PIN_INVALID", "wrong PIN for the security token" },
	{ BG_ERR_TOKEN_PIN_BLOCKED, "BG_ERR_TOKEN_PIN_BLOCKED", "the token's PIN is blocked: reset it with tokenctl reset (this erases its credentials)" },
	{ BG_ERR_TOKEN_PIN_AUTH_BLOCKED, "BG_ERR_TOKEN_PIN_AUTH_BLOCKED", "too many wrong PINs in a row: unplug and reconnect the token, then try again" },
	{ BG_ERR_TOKEN_PIN_NOT_SET, "BG_ERR_TOKEN_PIN_NOT_SET", "the token has no PIN yet: set one with tokenctl pin set" },
	{ BG_ERR_TOKEN_PIN_POLICY, "BG_ERR_TOKEN_PIN_POLICY", "the PIN does not meet the token's rules (4 to 63 characters)" },
	{ BG_ERR_TOKEN_PIN_REQUIRED, "BG_ERR_TOKEN_PIN_REQUIRED", "the token requires a PIN for this" },
	{ BG_ERR_TOKEN_TIMEOUT, "BG_ERR_TOKEN_TIMEOUT", "no touch on the security token in time; try again and touch it when it blinks" },
	{ BG_ERR_TOKEN_CANCELLED, "BG_ERR_TOKEN_CANCELLED", "the token operation was cancelled" },
	{ BG_ERR_TOKEN_NO_CREDENTIAL, "BG_ERR_TOKEN_NO_CREDENTIAL", "this token does not hold the enrolled credential; is it the right token?" },
	{ BG_ERR_TOKEN_UNSUPPORTED, "BG_ERR_TOKEN_UNSUPPORTED", "the token lacks a feature breakglass needs (hmac-secret, a PIN, and user verification)" },
	{ BG_ERR_TOKEN_NO_UV, "BG_ERR_TOKEN_NO_UV", "the token did not verify the user (no PIN check); refusing" },
	{ BG_ERR_TOKEN_BAD_SIGNATURE, "BG_ERR_TOKEN_BAD_SIGNATURE", "the token's signature does not verify against the enrolled key" },
	{ BG_ERR_TOKEN_COUNTER, "BG_ERR_TOKEN_COUNTER", "the token's signature counter went backwards: the token may be cloned" },
	{ BG_ERR_TOKEN_SOFT_REFUSED, "BG_ERR_TOKEN_SOFT_REFUSED", "this is a breakglass software token, and this vault was not created with --allow-soft-tokens" },
	{ BG_ERR_TOKEN_DENIED, "BG_ERR_TOKEN_DENIED", "the security token refused the operation" },
	{ BG_ERR_TOKEN_BUSY, "BG_ERR_TOKEN_BUSY", "the security token is busy with another program; try again" },
	{ BG_ERR_TOKEN_ATTESTATION, "BG_ERR_TOKEN_ATTESTATION", "the token's attestation does not verify" },
	{ BG_ERR_TOKEN_RESET_WINDOW, "BG_ERR_TOKEN_RESET_WINDOW", "a token can be reset only within 10 seconds of plugging it in: reconnect it and run reset at once" },
	{ BG_ERR_TOKEN_EXCLUDED, "BG_ERR_TOKEN_EXCLUDED", "this token is already enrolled for that" },
};

static const struct errdesc *
lookup(int r)
{
	size_t i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == r)
			return &errtab[i];
	return NULL;
}

const char *
bg_strerror(int r)
{
	const struct errdesc *d = lookup(r);

	return d != NULL ? d->text : "unknown error";
}

const char *
bg_errname(int r)
{
	const struct errdesc *d = lookup(r);

	return d != NULL ? d->name : "BG_ERR_UNKNOWN";
}
