/* vault rotate begin | commit | abort  (sealing needs no approver token) */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault rotate begin TENANT/SECRET [--generate [--length N] "
    "[--charset SET]]\n"
    "       vault rotate commit TENANT/SECRET\n"
    "       vault rotate abort TENANT/SECRET\n";

#define DEFAULT_GEN_LEN 32

enum { OPT_GENERATE = VOPT_LOCAL, OPT_LENGTH, OPT_CHARSET };

static int
rotate(int argc, char **argv, int which)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "generate",	no_argument,	   NULL, OPT_GENERATE },
		{ "length",	required_argument, NULL, OPT_LENGTH },
		{ "charset",	required_argument, NULL, OPT_CHARSET },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	char *tenant = NULL, *secret = NULL;
	uint8_t *val = NULL;
	size_t len = 0;
	uint64_t glen = DEFAULT_GEN_LEN;
	unsigned classes = BG_VAULT_GEN_DEFAULT;
	bool gen = false, opt_gen = false;
	char what[192];
	int c, r, ex = VAULT_EXIT_FAIL, version = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_GENERATE:
			gen = true;
			break;
		case OPT_LENGTH:
			opt_gen = true;
			if (vault_parse_uint(optarg, BG_VAULT_GEN_MIN_LEN,
			    BG_VAULT_GEN_MAX_LEN, &glen) != 0) {
				vault_errx("rotate: --length must be %d..%d",
				    BG_VAULT_GEN_MIN_LEN, BG_VAULT_GEN_MAX_LEN);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_CHARSET:
			opt_gen = true;
			if (vault_parse_charset(optarg, &classes) != 0) {
				vault_errx("rotate: bad --charset '%s'", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 || ((gen || opt_gen) && which != 0) ||
	    (opt_gen && !gen) ||
	    vault_split_ref(argv[optind], &tenant, &secret) != 0) {
		char cmd[32];

		(void)snprintf(cmd, sizeof(cmd), "rotate %s", argv[0]);
		(void)vault_hint_ref(cmd, true, argc - optind, argv + optind);
		ex = vault_usage_err(usage);
		goto out;
	}
	snprintf(what, sizeof(what), "rotate %s %s/%s", argv[0], tenant,
	    secret);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (which == 1) {
		if ((r = bg_vault_rotate_commit(v, vault_actor(), tenant,
		    secret)) != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		printf("rotation of %s/%s committed: the new version is "
		    "active, the old one retired\n", tenant, secret);
		vault_note_receipt(v);
		ex = VAULT_EXIT_OK;
		goto out;
	}
	if (which == 2) {
		if ((r = bg_vault_rotate_abort(v, vault_actor(), tenant,
		    secret)) != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		printf("rotation of %s/%s aborted: the pending version was "
		    "dropped\n", tenant, secret);
		vault_note_receipt(v);
		ex = VAULT_EXIT_OK;
		goto out;
	}
	if (gen) {
		if ((r = bg_vault_generate((size_t)glen, classes, &val,
		    &len)) != BG_OK) {
			ex = vault_fail(NULL, r, "%s", what);
			goto out;
		}
	} else if ((ex = vault_read_value(argv[optind], &val, &len)) != 0)
		goto out;
	if ((r = bg_vault_rotate_begin(v, vault_actor(), tenant, secret, val,
	    len, &version)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	if (gen) {
		/* shown once, so the operator can set it on the target */
		vault_note("New value for %s/%s (shown once; set it on the "
		    "target system now):", tenant, secret);
		ex = VAULT_EXIT_FAIL;
		if (fflush(stdout) != 0 ||
		    vault_write_value(STDOUT_FILENO, val, len, true) != 0) {
			vault_errx("%s: writing the value failed; run vault "
			    "rotate abort %s/%s", what, tenant, secret);
			goto out;
		}
	}
	sodium_memzero(val, len);
	vault_note("version %d of %s/%s sealed as pending.  Once it is set on "
	    "the target, run: vault rotate commit %s/%s", version, tenant,
	    secret, tenant, secret);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	if (val != NULL) {
		sodium_memzero(val, len);
		sodium_free(val);
	}
	bg_vault_close(&v);
	free(tenant);
	free(secret);
	return ex;
}

int
cmd_rotate(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "begin") == 0)
		return rotate(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "commit") == 0)
		return rotate(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "abort") == 0)
		return rotate(argc - 1, argv + 1, 2);
	return vault_subcommand_unknown("rotate", argv[1], usage);
}
