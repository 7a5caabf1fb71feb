/*
 * tokenctl: manage FIDO2 tokens for breakglass, and run the software
 * token.  main() hardens the process, parses the global flags and
 * dispatches by table to cmd_<verb>() (one file each).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "harden.h"
#include "util.h"

/* Both set by the Makefile from VERSION and the source commit (git). */
#ifndef BG_VERSION
#define BG_VERSION	"unknown"
#endif
#ifndef BG_COMMIT
#define BG_COMMIT	"unknown"
#endif

static const char usage_text[] =
    "usage: tokenctl list [--json] [--dir DIR] [--token PATH]...\n"
    "       tokenctl info [--json] --token PATH\n"
    "       tokenctl pin set --token PATH [--pin-file FILE]\n"
    "       tokenctl pin change --token PATH [--pin-file FILE] "
    "[--new-pin-file FILE]\n"
    "       tokenctl reset --token PATH [--yes]\n"
    "       tokenctl test --token PATH [--pin-file FILE] [--alg es256|eddsa]\n"
    "                [--timeout SECONDS]\n"
    "       tokenctl approve {--card FILE | --card-qr DIR}\n"
    "                {--packet FILE | --packet-qr DIR} --out FILE\n"
    "                --token PATH [--pin-file FILE] [--state DIR] "
    "[--out-qr DIR] [--show-qr]\n"
    "       tokenctl deny {--card FILE | --card-qr DIR}\n"
    "                {--packet FILE | --packet-qr DIR} --out FILE\n"
    "                --reason TEXT --token PATH [--pin-file FILE] "
    "[--state DIR]\n"
    "                [--out-qr DIR] [--show-qr]\n"
    "       tokenctl soft create --state FILE [--attestation-cert FILE "
    "--attestation-key FILE\n"
    "           [--attestation-chain FILE] --aaguid HEX]\n"
    "       tokenctl soft serve --state FILE --socket PATH [--no-presence]\n"
    "                [--no-uv] [--pin-protocols LIST] [--no-cred-protect]\n"
    "                [--touch-delay MS]\n"
    "       tokenctl --help | --version\n";

struct verb {
	const char	*name;
	int		(*fn)(int, char **);
	bool		 token;	/* talks to a token: Ctrl-C cancels the wait */
};

static const struct verb verbs[] = {
	{ "list",	cmd_list,	true },
	{ "info",	cmd_info,	true },
	{ "pin",	cmd_pin,	true },
	{ "reset",	cmd_reset,	true },
	{ "test",	cmd_test,	true },
	{ "approve",	cmd_approve,	true },
	{ "deny",	cmd_deny,	true },
	{ "soft",	cmd_soft,	false },
};

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
main(int argc, char **argv)
{
	const struct verb *v = NULL;
	struct sigaction sa;
	const char *why = NULL;
	size_t i;
	int r;

	if ((r = bg_harden_process(&why)) != BG_OK) {
		bg_cli_errx("tokenctl", "%s: %s", bg_strerror(r),
		    why != NULL ? why : "");
		return BG_EXIT_FAIL;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return BG_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return BG_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tokenctl (breakglass) %s\ncommit %s\n", BG_VERSION,
		    BG_COMMIT);
		return BG_EXIT_OK;
	}
	if (argv[1][0] == '-') {
		bg_cli_errx("tokenctl", "unknown option '%s'", argv[1]);
		fputs(usage_text, stderr);
		return BG_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL) {
		bg_cli_errx("tokenctl", "unknown command '%s'", argv[1]);
		fputs(usage_text, stderr);
		return BG_EXIT_USAGE;
	}
	if (v->token) {
		if ((r = bg_token_init()) != BG_OK) {
			bg_cli_err("tokenctl", r, NULL);
			return BG_EXIT_FAIL;
		}
		/* No SA_RESTART: a wait must notice at once. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGINT, &sa, NULL);
		bg_token_set_interrupt(&interrupted);
	}
	return v->fn(argc - 1, argv + 1);
}
