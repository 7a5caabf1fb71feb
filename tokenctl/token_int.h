/*
 * Private to the token layer (token.c, token_unix.c, token_list.c,
 * fido_err.c).  Not part of the public API in include/breakglass/token.h.
 */
#ifndef BG_TOKEN_INT_H
#define BG_TOKEN_INT_H

#include <signal.h>
#include <stdbool.h>

#include "breakglass/token.h"

/* fido_err.c: the one translation of libfido2's FIDO_ERR_* into BG_ERR_*. */
int bg_token_err_from_fido(int fido_r);

/* token_unix.c: the "unix:" transport (path without the prefix). */
extern const bg_token_io_t bg_token_unix_io;

/* token.c: true while the interrupt flag set by bg_token_set_interrupt is up. */
bool bg_token_interrupted(void);

/* token.c: open with an explicit timeout for the CTAPHID INIT exchange. */
int bg_token_open_timeout(const char *path, int ms, bg_token_t **tokp);
/* token.c: read the AAGUID of an open token (getInfo). */
int bg_token_aaguid(bg_token_t *tok, uint8_t aaguid[BG_TOKEN_AAGUID_LEN]);

/*
 * token.c, for "tokenctl test": getAssertion with user presence but no PIN
 * and no UV, with one hmac-secret salt.  BG_OK with the authenticator-data
 * flags in *flagsp and the hmac-secret output (BG_TOKEN_HMAC_LEN bytes,
 * sodium_malloc) in *hmacp; otherwise the token's refusal, mapped.
 */
int bg_token_assert_without_uv(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t *salt,
    uint8_t *flagsp, uint8_t **hmacp);

#endif /* BG_TOKEN_INT_H */
