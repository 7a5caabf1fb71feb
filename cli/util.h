/*
 * Small helpers for the programs (never used by engine code): one-line
 * error messages, exit codes, hex and JSON output.
 */
#ifndef BG_CLI_UTIL_H
#define BG_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "breakglass/token.h"

/* Exit codes shared by the programs (documented in their man pages). */
#define BG_EXIT_OK	0	/* success */
#define BG_EXIT_FAIL	1	/* the operation failed */
#define BG_EXIT_USAGE	2	/* bad command line */
#define BG_EXIT_PIN	3	/* wrong PIN, PIN blocked or not set */
#define BG_EXIT_NOTOKEN	4	/* no token at that path / lost contact */

/* BG_OK -> 0; PIN errors -> 3; token missing/unreachable -> 4; else 1. */
int bg_cli_exit_code(int r);

/*
 * "prog: <context>: <bg_strerror(r)>\n" on stderr; fmt may be NULL, then
 * "prog: <bg_strerror(r)>".
 */
void bg_cli_err(const char *prog, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "prog: <message>\n" on stderr. */
void bg_cli_errx(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A token error, one line on stderr: "prog: <context>: <sentence>".  For a
 * wrong PIN it asks tok (when not NULL) how many tries are left and says
 * "wrong PIN, N tries left" (or that the PIN is now blocked); a blocked PIN
 * or "reconnect the token" gets bg_strerror()'s sentence.
 */
void bg_cli_token_err(const char *prog, bg_token_t *tok, int r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Ask a yes/no question on /dev/tty; BG_OK only when the answer is "yes".
 * BG_ERR_DENIED for any other answer, BG_ERR_PIN_INPUT when there is no
 * terminal (the caller suggests its --yes option).
 */
int bg_cli_confirm(const char *question);

/*
 * Lower-case hex of buf into a new NUL-terminated string (malloc; free()).
 * NULL when out of memory.  For public data only.
 */
char *bg_cli_hex(const uint8_t *buf, size_t len);

/* Hex of a 16-byte AAGUID in UUID form (8-4-4-4-12) into out[37]. */
void bg_cli_uuid(const uint8_t aaguid[16], char out[37]);

/*
 * Print a JSON value to stdout with sorted keys, two-space indent and a
 * trailing newline; returns BG_OK or BG_ERR_IO.  Does not free j.
 */
int bg_cli_json_print(const json_t *j);

#endif /* BG_CLI_UTIL_H */
