/*
 * vault custodian add PERSON: enroll another custodian's token into the
 * vault's genesis draft (before every custodian has signed it).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault custodian add PERSON [--label LABEL] [--token PATH] "
    "[--pin-file PATH]\n";

enum { OPT_LABEL = VOPT_LOCAL };

struct cu_ctx {
	bg_vault_t	*v;
	const char	*person, *label;
	int		 quorum;
	bg_token_t	*tok;
};

static int
add_op(void *arg, const char *pin)
{
	struct cu_ctx *c = arg;

	return bg_vault_custodian_add(c->v, vault_actor(), c->person,
	    c->label, c->quorum, c->tok, pin);
}

int
vault_custodian_enroll(bg_vault_t *v, const char *what, const char *person,
    const char *label, int quorum)
{
	struct cu_ctx c;
	bg_token_t *tok = NULL;
	int ex;

	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	memset(&c, 0, sizeof(c));
	c.v = v;
	c.person = person;
	c.label = label;
	c.quorum = quorum;
	c.tok = tok;
	vault_note("Enrolling %s's token %s as a custodian of this vault "
	    "(two touches: one to create the credential, one to sign it "
	    "into the genesis draft).", person, bg_token_path(tok));
	ex = vault_with_pin(v, NULL, person, tok, NULL, what, NULL, add_op, &c);
out:
	bg_token_close(&tok);
	return ex;
}

int
cmd_custodian(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "label", required_argument, NULL, OPT_LABEL },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	const char *label = NULL;
	int c, ex = VAULT_EXIT_FAIL;

	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0))
			return vault_usage_ok(usage);
		return vault_usage_err(usage);
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_LABEL:
			label = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	{
		char what[128];

		(void)snprintf(what, sizeof(what), "custodian add %s",
		    argv[optind]);
		if ((ex = vault_custodian_enroll(v, what, argv[optind], label,
		    0)) != 0)
			goto out;
	}
	printf("%s enrolled as a custodian in the genesis draft; every "
	    "custodian signs it next (vault chain sign --as CUSTODIAN)\n",
	    argv[optind]);
	{
		char sf[17], mf[17];

		bg_vault_enrolled_fingerprints(v, sf, mf);
		printf("  signing key %s (check it in vault chain show before "
		    "anyone signs)\n", sf);
	}
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}
