/*
 * Helpers shared by the vault program's subcommands (never by the engine):
 * global options, the vault path, error lines, exit codes, small parsers.
 */
#ifndef VAULT_CMD_UTIL_H
#define VAULT_CMD_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "breakglass/token.h"
#include "breakglass/vault.h"

/* Exit codes of vault(1); documented under EXIT STATUS in docs/vault.1. */
#define VAULT_EXIT_OK		0	/* success */
#define VAULT_EXIT_FAIL		1	/* refused or failed */
#define VAULT_EXIT_USAGE	2	/* bad command line */
#define VAULT_EXIT_TOKEN	3	/* PIN, token or authentication failure */
#define VAULT_EXIT_NOTFOUND	4	/* no such vault, tenant, person, ... */
#define VAULT_EXIT_CHECK	5	/* check: something is overdue */
#define VAULT_EXIT_TAMPERED	6	/* the log, a proof or a backup does not verify */

/* Global options; they may stand before or after the verb. */
struct vault_globals {
	const char	*vault;		/* --vault PATH */
	const char	*token;		/* --token PATH */
	const char	*pin_file;	/* --pin-file PATH */
	bool		 json;		/* --json */
};
extern struct vault_globals vault_g;

enum {
	VOPT_VAULT = 0x1000,
	VOPT_TOKEN,
	VOPT_PIN_FILE,
	VOPT_JSON,
	VOPT_VERSION,
	VOPT_LOCAL			/* first code free for a verb's options */
};

#define VAULT_GLOBAL_LONGOPTS \
	{ "vault",	required_argument, NULL, VOPT_VAULT }, \
	{ "token",	required_argument, NULL, VOPT_TOKEN }, \
	{ "pin-file",	required_argument, NULL, VOPT_PIN_FILE }, \
	{ "json",	no_argument,	   NULL, VOPT_JSON }, \
	{ "help",	no_argument,	   NULL, 'h' }

/* Handles a global option code from getopt_long; true when it was one. */
bool vault_global_opt(int c, const char *arg);

/*
 * The vault file: --vault, else $BREAKGLASS_VAULT, else
 * $XDG_DATA_HOME/breakglass/vault.db, else ~/.local/share/breakglass/vault.db.
 * Returns a malloc'd string (free()) or NULL with a message printed.
 * When mkparent is true the parent directory is created (0700) if missing.
 */
char *vault_path(bool mkparent);

/* "vault: <what>: <sentence for r>" on stderr. */
void vault_err(int r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "vault: <message>" on stderr. */
void vault_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An informational line for people (stderr, so stdout stays clean). */
void vault_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for an error code (see above). */
int vault_exit(int r);

/* Usage text to stderr (bad command line) and VAULT_EXIT_USAGE. */
int vault_usage_err(const char *usage);
/* Usage text to stdout (--help) and VAULT_EXIT_OK. */
int vault_usage_ok(const char *usage);

/*
 * What every "vault CMD SUB ..." does before it picks SUB: no SUB is a
 * usage error, -h or --help prints the usage.  Returns the exit code when
 * it handled argv, or -1 when the caller goes on to dispatch argv[1].
 */
int vault_subcommand_pre(int argc, char **argv, const char *usage);
/* An unknown SUB of cmd: one line naming it, the usage, VAULT_EXIT_USAGE. */
int vault_subcommand_unknown(const char *cmd, const char *sub,
    const char *usage);

/*
 * Parse a duration: N, Ns, Nm, Nh, Nd or Nw (plain N is seconds).  Returns
 * 0 or -1.
 */
int vault_parse_duration(const char *s, int64_t *secsp);
/* An AAGUID: 32 hex digits, dashes allowed where a UUID has them. */
bool vault_parse_aaguid(const char *s, uint8_t out[16]);
/* Parse a decimal unsigned integer in [lo, hi].  Returns 0 or -1. */
int vault_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *vp);
/*
 * Parse a time: "now", a duration relative to now with a leading '+' or
 * '-', YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC), or @EPOCH.  Returns 0/-1.
 */
int vault_parse_time(const char *s, int64_t *tp);
/* Format a UTC time as "2026-11-22 03:14:15Z" into buf. */
const char *vault_fmt_time(int64_t t, char buf[32]);
/* Format a span of seconds as "1h 05m" / "3d 4h" / "45s" into buf. */
const char *vault_fmt_span(int64_t secs, char buf[32]);

/* Print j with sorted keys and indentation to stdout; frees nothing. */
int vault_json_print(const json_t *j);

/*
 * Open the vault file (vault_path()).  On failure prints the error and
 * returns the exit code; 0 on success.
 */
int vault_open(bg_vault_t **vp);

/*
 * The error line for a failed engine call and its exit code:
 * "vault: <what>: <detail>", detail being bg_vault_errmsg(v) when set,
 * else bg_strerror(r).  v may be NULL.
 */
int vault_fail(const bg_vault_t *v, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Open the token: path, else --token, else the only FIDO2 token plugged
 * in.  On failure prints the error and returns the exit code; 0 on
 * success.  Installs a SIGINT handler so that Ctrl-C cancels a wait for a
 * touch.
 */
int vault_token_open(const char *path, bg_token_t **tokp);

/*
 * Run op(ctx, pin) with the PIN of person's token: PIN from pin_file
 * (else --pin-file, else the terminal, three tries).  Before each try
 * calls before(ctx, pin) when not NULL (a non-zero result ends the tries
 * with that code), then prints "Touch the token of PERSON (label 'L')
 * now..." on stderr.  On
 * failure prints the error line ("vault: <what>: <detail>", with the
 * number of PIN tries left after a wrong PIN) and returns the exit code;
 * 0 on success.
 */
typedef int (*vault_pin_op)(void *ctx, const char *pin);
int vault_with_pin(bg_vault_t *v, const char *tenant, const char *person,
    bg_token_t *tok, const char *pin_file, const char *what,
    vault_pin_op before, vault_pin_op op, void *ctx);

/*
 * An administrative act signed by person as (the vault engine's
 * bg_vault_signer_t): op(ctx, by) first runs with no token (check only:
 * a refusal is said before any PIN or touch), then, after shown (may be
 * NULL) is printed on stderr, with the token (--token) and its PIN.
 * Returns the exit code; 0 when op succeeded with the token.
 */
typedef int (*vault_signed_op)(void *ctx, const bg_vault_signer_t *by);
int vault_signed_act(bg_vault_t *v, const char *tenant, const char *as,
    const char *what, const char *shown, vault_signed_op op, void *ctx);

/*
 * Read a secret value from stdin: with echo off, asked twice, when stdin
 * is a terminal; otherwise all of stdin.  One trailing newline ("\n" or
 * "\r\n") is stripped; an empty or oversized value is refused.  *valp is
 * sodium_malloc memory (sodium_free()).  Prints its own errors; returns
 * the exit code, 0 on success.
 */
int vault_read_value(const char *what, uint8_t **valp, size_t *lenp);

/*
 * Write a secret value (and a newline when asked) to fd with write(2),
 * straight from the caller's sodium_malloc buffer: stdio would keep a
 * copy in a buffer that is freed unwiped.  0 or -1.  Flush stdout
 * before, so that notes and the value keep their order.
 */
int vault_write_value(int fd, const uint8_t *val, size_t len, bool newline);

/*
 * An --out file: created mode 0600 (it may name people, reasons and
 * tickets), never over an existing one (every --out refuses to
 * overwrite), not through a symlink.  vault_create_out returns the fd or
 * -1; vault_write_out writes all of s, fsyncs and closes fd, and removes
 * path if any of that failed: 0 or -1; vault_write_new does both.  Every
 * failure is said in one line starting with what.
 */
int vault_create_out(const char *what, const char *path);
int vault_write_out(const char *what, int fd, const char *path,
    const char *s);
int vault_write_new(const char *what, const char *path, const char *s);

/*
 * Parse a --charset: a comma-separated list of lower, upper, digit, symbol,
 * alnum (= lower,upper,digit) and alnum-symbols (all four, the default).
 * Returns 0 and the BG_VAULT_GEN_* mask, or -1.
 */
int vault_parse_charset(const char *s, unsigned *classesp);

/*
 * A secret named the other way round: for a command that takes
 * TENANT/NAME (slash true) given "TENANT NAME", or one that takes
 * "TENANT NAME" given "TENANT/NAME", say the form it takes in the
 * person's own words ("vault: secret show takes TENANT/NAME: vault
 * secret show acme/domain-admin").  args are the n operands; cmd is
 * "secret show".  True when it said so (the caller then prints usage).
 */
bool vault_hint_ref(const char *cmd, bool slash, int n, char *const *args);

/* Split "TENANT/NAME" into two malloc'd strings; 0 or -1. */
int vault_split_ref(const char *ref, char **tenantp, char **namep);

/* Parse a request id (decimal, > 0); 0 or -1. */
int vault_parse_request_id(const char *s, int64_t *idp);

/* "this vault accepts software tokens (test/drill vault)" on stderr when
 * it does (and not --json), so every listing shows it. */
void vault_soft_banner(const bg_vault_t *v);

/*
 * After a ceremony step: "receipt: BG1-..." on stderr for the paper log
 * book (docs/audit-log.md).  A failure to get one is said, not fatal: the
 * step itself is done and logged.
 */
void vault_note_receipt(bg_vault_t *v);

/* JSON helpers (jansson); every one returns a new reference or NULL. */
json_t *vault_json_time(int64_t t);	/* integer, or null when 0 */

#endif /* VAULT_CMD_UTIL_H */
