/*
 * The one place where libfido2's error space enters ours.  CTAP status
 * codes (positive) and libfido2's own codes (negative) become BG_ERR_*
 * codes whose bg_strerror() sentences a person can act on.
 */
#include <fido.h>
#include <fido/err.h>

#include "breakglass/err.h"
#include "token_int.h"

int
bg_token_err_from_fido(int fido_r)
{
	switch (fido_r) {
	case FIDO_OK:
		return BG_OK;

	/* PIN handling */
	case FIDO_ERR_PIN_INVALID:
	case FIDO_ERR_PIN_AUTH_INVALID:	/* a wrong PIN as the token sees it */
		return BG_ERR_TOKEN_PIN_INVALID;
	case FIDO_ERR_PIN_BLOCKED:
		return BG_ERR_TOKEN_PIN_BLOCKED;
	case FIDO_ERR_PIN_AUTH_BLOCKED:
		return BG_ERR_TOKEN_PIN_AUTH_BLOCKED;
	case FIDO_ERR_PIN_NOT_SET:
		return BG_ERR_TOKEN_PIN_NOT_SET;
	case FIDO_ERR_PIN_POLICY_VIOLATION:
		return BG_ERR_TOKEN_PIN_POLICY;
	case FIDO_ERR_PIN_REQUIRED:
	case FIDO_ERR_PIN_TOKEN_EXPIRED:
		return BG_ERR_TOKEN_PIN_REQUIRED;
	case FIDO_ERR_UV_BLOCKED:
		return BG_ERR_TOKEN_PIN_BLOCKED;
	case FIDO_ERR_UV_INVALID:
		return BG_ERR_TOKEN_PIN_INVALID;

	/* user presence */
	case FIDO_ERR_ACTION_TIMEOUT:
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_USER_ACTION_PENDING:
	case FIDO_ERR_TIMEOUT:
		return BG_ERR_TOKEN_TIMEOUT;
	case FIDO_ERR_KEEPALIVE_CANCEL:
		return BG_ERR_TOKEN_CANCELLED;
	case FIDO_ERR_OPERATION_DENIED:
	case FIDO_ERR_UP_REQUIRED:
	case FIDO_ERR_USER_PRESENCE_REQUIRED:
	case FIDO_ERR_UNAUTHORIZED_PERM:
		return BG_ERR_TOKEN_DENIED;

	/* credentials */
	case FIDO_ERR_NO_CREDENTIALS:
	case FIDO_ERR_INVALID_CREDENTIAL:
		return BG_ERR_TOKEN_NO_CREDENTIAL;
	case FIDO_ERR_CREDENTIAL_EXCLUDED:
		return BG_ERR_TOKEN_EXCLUDED;

	/* features */
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_UNSUPPORTED_EXTENSION:
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
	case FIDO_ERR_INVALID_OPTION:
	case FIDO_ERR_INVALID_COMMAND:
		return BG_ERR_TOKEN_UNSUPPORTED;

	/* reset window */
	case FIDO_ERR_NOT_ALLOWED:
		return BG_ERR_TOKEN_RESET_WINDOW;

	/* busy */
	case FIDO_ERR_CHANNEL_BUSY:
	case FIDO_ERR_LOCK_REQUIRED:
	case FIDO_ERR_OPERATION_PENDING:
		return BG_ERR_TOKEN_BUSY;

	/* transport */
	case FIDO_ERR_TX:
	case FIDO_ERR_RX:
	case FIDO_ERR_INVALID_CHANNEL:
	case FIDO_ERR_INVALID_SEQ:
	case FIDO_ERR_INVALID_LENGTH:
		return BG_ERR_TOKEN_IO;
	case FIDO_ERR_NOTFOUND:
		return BG_ERR_TOKEN_NOT_FOUND;

	/* malformed replies */
	case FIDO_ERR_RX_NOT_CBOR:
	case FIDO_ERR_RX_INVALID_CBOR:
	case FIDO_ERR_INVALID_CBOR:
	case FIDO_ERR_CBOR_UNEXPECTED_TYPE:
	case FIDO_ERR_INVALID_PARAM:
	case FIDO_ERR_MISSING_PARAMETER:
	case FIDO_ERR_INVALID_PARAMETER:
	case FIDO_ERR_REQUEST_TOO_LARGE:
	case FIDO_ERR_LIMIT_EXCEEDED:
		return BG_ERR_TOKEN_PROTOCOL;

	case FIDO_ERR_INVALID_SIG:
		return BG_ERR_TOKEN_BAD_SIGNATURE;
	case FIDO_ERR_INVALID_ARGUMENT:
		return BG_ERR_INVALID_ARG;
	case FIDO_ERR_INTERNAL:
		/* libfido2 also says "internal" when it cannot decrypt or
		 * decode what the token sent, so do not blame ourselves. */
		return BG_ERR_TOKEN_PROTOCOL;
	default:
		return BG_ERR_TOKEN_PROTOCOL;
	}
}
