/* tokenctl pin set | pin change */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "pin.h"
#include "util.h"

static const char usage_pin[] =
    "usage: tokenctl pin set --token PATH [--pin-file FILE]\n"
    "       tokenctl pin change --token PATH [--pin-file FILE] "
    "[--new-pin-file FILE]\n";

static int
usage_err(const char *fmt, const char *arg)
{
	if (fmt != NULL)
		bg_cli_errx("tokenctl", fmt, arg);
	fputs(usage_pin, stderr);
	return BG_EXIT_USAGE;
}

/* Open and probe; say why a token without PIN support cannot be used. */
static int
open_pin_token(const char *path, bg_token_t **tokp, bg_token_features_t *feat)
{
	int r;

	if ((r = bg_token_open(path, tokp)) != BG_OK ||
	    (r = bg_token_probe(*tokp, feat)) != BG_OK) {
		bg_cli_token_err("tokenctl", NULL, r, "%s", path);
		return r;
	}
	if (!feat->client_pin) {
		bg_cli_errx("tokenctl", "%s: this token cannot verify a PIN "
		    "(no clientPin support); breakglass needs a token with "
		    "a PIN", path);
		return BG_ERR_TOKEN_UNSUPPORTED;
	}
	return BG_OK;
}

static int
pin_read_err(const char *file, int r, const char *why)
{
	if (file != NULL)
		bg_cli_errx("tokenctl", "%s: %s", file,
		    why != NULL ? why : bg_strerror(r));
	else
		bg_cli_errx("tokenctl", "%s", why != NULL ? why :
		    bg_strerror(r));
	return bg_cli_exit_code(r) == BG_EXIT_FAIL ? BG_EXIT_PIN :
	    bg_cli_exit_code(r);
}

static int
pin_set(const char *path, const char *pin_file)
{
	bg_token_features_t feat;
	bg_token_t *tok = NULL;
	char *pin = NULL;
	const char *why = NULL;
	int r, rc = BG_EXIT_FAIL;

	if ((r = open_pin_token(path, &tok, &feat)) != BG_OK) {
		rc = bg_cli_exit_code(r);
		goto out;
	}
	if (feat.pin_set) {
		bg_cli_errx("tokenctl", "%s: the token already has a PIN; "
		    "change it with tokenctl pin change", path);
		rc = BG_EXIT_FAIL;
		goto out;
	}
	if ((r = bg_pin_read_new(pin_file, "New PIN: ", &pin, &why)) !=
	    BG_OK) {
		rc = pin_read_err(pin_file, r, why);
		goto out;
	}
	if ((r = bg_token_pin_set(tok, pin)) != BG_OK) {
		bg_cli_token_err("tokenctl", tok, r, "%s", path);
		rc = bg_cli_exit_code(r);
		goto out;
	}
	printf("PIN set on %s\n", path);
	rc = BG_EXIT_OK;
out:
	bg_pin_free(&pin);
	bg_token_close(&tok);
	return rc;
}

static int
pin_change(const char *path, const char *pin_file, const char *new_pin_file)
{
	bg_token_features_t feat;
	bg_token_t *tok = NULL;
	char *old = NULL, *pin = NULL;
	const char *why = NULL;
	int r, rc = BG_EXIT_FAIL;

	if ((r = open_pin_token(path, &tok, &feat)) != BG_OK) {
		rc = bg_cli_exit_code(r);
		goto out;
	}
	if (!feat.pin_set) {
		bg_cli_err("tokenctl", BG_ERR_TOKEN_PIN_NOT_SET, "%s", path);
		rc = BG_EXIT_PIN;
		goto out;
	}
	if ((r = bg_pin_read(pin_file, "Current PIN: ", &old, &why)) !=
	    BG_OK) {
		rc = pin_read_err(pin_file, r, why);
		goto out;
	}
	if ((r = bg_pin_read_new(new_pin_file, "New PIN: ", &pin, &why)) !=
	    BG_OK) {
		rc = pin_read_err(new_pin_file, r, why);
		goto out;
	}
	if ((r = bg_token_pin_change(tok, old, pin)) != BG_OK) {
		bg_cli_token_err("tokenctl", tok, r, "%s", path);
		rc = bg_cli_exit_code(r);
		goto out;
	}
	printf("PIN changed on %s\n", path);
	rc = BG_EXIT_OK;
out:
	bg_pin_free(&old);
	bg_pin_free(&pin);
	bg_token_close(&tok);
	return rc;
}

int
cmd_pin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token",        required_argument, NULL, 't' },
		{ "pin-file",     required_argument, NULL, 'p' },
		{ "new-pin-file", required_argument, NULL, 'n' },
		{ "help",         no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *pin_file = NULL, *new_pin_file = NULL;
	bool set;
	int c;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage_pin, stdout);
		return BG_EXIT_OK;
	}
	if (argc < 2)
		return usage_err(NULL, NULL);
	if (strcmp(argv[1], "set") == 0)
		set = true;
	else if (strcmp(argv[1], "change") == 0)
		set = false;
	else
		return usage_err("pin: unknown subcommand '%s'", argv[1]);
	argc--;
	argv++;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			path = optarg;
			break;
		case 'p':
			pin_file = optarg;
			break;
		case 'n':
			if (set)
				return usage_err("pin set: bad option '%s'",
				    "--new-pin-file");
			new_pin_file = optarg;
			break;
		case 'h':
			fputs(usage_pin, stdout);
			return BG_EXIT_OK;
		default:
			return usage_err("pin: bad option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind != argc || path == NULL)
		return usage_err(NULL, NULL);
	return set ? pin_set(path, pin_file) :
	    pin_change(path, pin_file, new_pin_file);
}
