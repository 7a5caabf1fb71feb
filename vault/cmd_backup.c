/* vault backup | restore */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char backup_usage[] =
    "usage: vault backup --out FILE\n";
static const char restore_usage[] =
    "usage: vault restore --from FILE [--receipt LINE] [--force]\n";

/* The backup or the log does not verify (docs/vault.1 EXIT STATUS). */

enum { OPT_OUT = VOPT_LOCAL, OPT_FROM, OPT_RECEIPT, OPT_FORCE };

int
cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "out",	required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_log_head_t h;
	const char *out = NULL;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == OPT_OUT) {
			out = optarg;
			continue;
		}
		ex = c == 'h' ? vault_usage_ok(backup_usage) :
		    vault_usage_err(backup_usage);
		goto done;
	}
	if (argc - optind != 0 || out == NULL) {
		ex = vault_usage_err(backup_usage);
		goto done;
	}
	if ((ex = vault_open(&v)) != 0)
		goto done;
	if ((r = bg_vault_backup(v, out, &h)) != BG_OK) {
		ex = vault_fail(v, r, "backup");
		if (r == BG_ERR_AUTH)
			ex = VAULT_EXIT_TAMPERED;
		goto done;
	}
	printf("%s\n", h.text);
	vault_note("backup %s (%llu events), signing key %s.key, tree head "
	    "%s.head", out, (unsigned long long)h.size, out, out);
	vault_note("receipt: %s", h.receipt);
	ex = VAULT_EXIT_OK;
done:
	bg_vault_close(&v);
	return ex;
}

int
cmd_restore(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "from",	required_argument, NULL, OPT_FROM },
		{ "receipt",	required_argument, NULL, OPT_RECEIPT },
		{ "force",	no_argument,	   NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_log_head_t h;
	const char *from = NULL, *receipt = NULL;
	char *path = NULL, msg[512];
	bool force = false;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_RECEIPT:
			receipt = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case 'h':
			ex = vault_usage_ok(restore_usage);
			goto done;
		default:
			ex = vault_usage_err(restore_usage);
			goto done;
		}
	}
	if (argc - optind != 0 || from == NULL) {
		ex = vault_usage_err(restore_usage);
		goto done;
	}
	if ((path = vault_path(true)) == NULL)
		goto done;
	if ((r = bg_vault_restore(path, from, receipt, force, &h, msg,
	    sizeof(msg))) != BG_OK) {
		vault_errx("restore: %s", msg);
		ex = r == BG_ERR_AUTH || r == BG_ERR_DB_CORRUPT ?
		    VAULT_EXIT_TAMPERED : r == BG_ERR_PARSE ? VAULT_EXIT_USAGE :
		    vault_exit(r);
		goto done;
	}
	printf("%s\n", h.text);
	vault_note("restored %s from %s (%llu events); the previous file is "
	    "%s.before-restore", path, from, (unsigned long long)h.size,
	    path);
	vault_note("receipt: %s", h.receipt);
	ex = VAULT_EXIT_OK;
done:
	free(path);
	return ex;
}
