/* vault init: create a new vault file. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault init [--allow-soft-tokens]\n";

enum { OPT_SOFT = VOPT_LOCAL };

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "allow-soft-tokens", no_argument, NULL, OPT_SOFT },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_log_head_t h;
	char *path = NULL;
	bool soft = false;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_SOFT:
			soft = true;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (optind != argc) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((path = vault_path(true)) == NULL)
		goto out;
	if ((r = bg_vault_create(path, soft, vault_actor(), &v)) != BG_OK) {
		if (r == BG_ERR_EXISTS)
			vault_errx("init: %s already exists; refusing to "
			    "overwrite it", path);
		else
			(void)vault_fail(NULL, r, "init: %s", path);
		ex = vault_exit(r);
		goto out;
	}
	printf("created vault %s\n", path);
	printf("  vault id:        %s\n", bg_vault_id(v));
	printf("  relying party:   %s\n", bg_vault_rp_id(v));
	printf("  software tokens: %s\n", soft ?
	    "accepted (test/drill vault)" : "refused (production vault)");
	/* Auditors pin this key: write it in the ceremony log book. */
	if (bg_vault_log_head(v, &h) == BG_OK) {
		printf("  log key:         %s\n", h.public_key);
		printf("  receipt:         %s\n", h.receipt);
	}
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	free(path);
	return ex;
}
