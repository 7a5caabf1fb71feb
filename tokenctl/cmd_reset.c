/* tokenctl reset: erase every credential and the PIN of a token. */
#include <getopt.h>
#include <stdio.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "util.h"

static const char usage_reset[] =
    "usage: tokenctl reset --token PATH [--yes]\n";

int
cmd_reset(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token", required_argument, NULL, 't' },
		{ "yes",   no_argument,       NULL, 'y' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_token_t *tok = NULL;
	const char *path = NULL;
	char question[512];
	bool yes = false;
	int c, r, rc = BG_EXIT_FAIL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			path = optarg;
			break;
		case 'y':
			yes = true;
			break;
		case 'h':
			fputs(usage_reset, stdout);
			rc = BG_EXIT_OK;
			goto out;
		default:
			bg_cli_errx("tokenctl", "reset: bad option '%s'",
			    argv[optind - 1]);
			fputs(usage_reset, stderr);
			rc = BG_EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc || path == NULL) {
		fputs(usage_reset, stderr);
		rc = BG_EXIT_USAGE;
		goto out;
	}
	if (!yes) {
		if ((size_t)snprintf(question, sizeof(question),
		    "Reset %s? This erases its PIN and every credential on it; "
		    "vault memberships enrolled with it are lost.\n"
		    "Type 'yes' to continue: ", path) >= sizeof(question)) {
			bg_cli_errx("tokenctl", "reset: path too long");
			goto out;
		}
		r = bg_cli_confirm(question);
		if (r == BG_ERR_PIN_INPUT) {
			bg_cli_errx("tokenctl", "reset: no terminal to confirm "
			    "on; use --yes");
			rc = BG_EXIT_USAGE;
			goto out;
		}
		if (r != BG_OK) {
			bg_cli_errx("tokenctl", "reset: not confirmed; nothing "
			    "done");
			goto out;
		}
	}
	if ((r = bg_token_open(path, &tok)) != BG_OK) {
		bg_cli_token_err("tokenctl", NULL, r, "%s", path);
		rc = bg_cli_exit_code(r);
		goto out;
	}
	fprintf(stderr, "Touch the token to confirm the reset.\n");
	if ((r = bg_token_reset(tok)) != BG_OK) {
		bg_cli_token_err("tokenctl", NULL, r, "%s", path);
		rc = bg_cli_exit_code(r);
		goto out;
	}
	printf("token %s reset: no PIN, no credentials\n", path);
	rc = BG_EXIT_OK;
out:
	bg_token_close(&tok);
	return rc;
}
