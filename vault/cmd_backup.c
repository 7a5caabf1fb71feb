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
    "usage: vault backup --out FILE --as CUSTODIAN\n";
static const char restore_usage[] =
    "usage: vault restore --from FILE --as CUSTODIAN [--receipt LINE] "
    "[--force]\n";

/* The backup or the log does not verify (docs/vault.1 EXIT STATUS). */

enum { OPT_OUT = VOPT_LOCAL, OPT_FROM, OPT_RECEIPT, OPT_FORCE, OPT_AS };

/* backup: a custodian's signed act (vault_signed_act). */
struct backup_ctx {
	bg_vault_t		*v;
	const char		*out;
	bg_vault_log_head_t	 h;
	int			 r;
};

static int
backup_op(void *arg, const bg_vault_signer_t *by)
{
	struct backup_ctx *b = arg;

	return (b->r = bg_vault_backup(b->v, by, b->out, &b->h));
}

/*
 * restore: there may be no vault to open yet, so the custodian's token
 * and PIN are taken here and the restore signs inside the copy.  A PIN
 * error goes back to vault_with_pin (which asks again); any other
 * failure is kept with its sentence for the caller to say.
 */
struct restore_ctx {
	const char		*path, *from, *receipt, *as;
	bool			 force;
	bg_token_t		*tok;
	bg_vault_log_head_t	 h;
	char			 msg[512];
	int			 r;
};

static int
restore_op(void *arg, const char *pin)
{
	struct restore_ctx *c = arg;
	bg_vault_signer_t by;

	by.person = c->as;
	by.tok = c->tok;
	by.pin = pin;
	c->msg[0] = '\0';
	c->r = bg_vault_restore(c->path, c->from, c->receipt, c->force, &by,
	    &c->h, c->msg, sizeof(c->msg));
	if (c->r == BG_ERR_TOKEN_PIN_INVALID || c->r == BG_ERR_TOKEN_PIN_BLOCKED)
		return c->r;
	return BG_OK;
}

int
cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "out",	required_argument, NULL, OPT_OUT },
		{ "as",		required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	struct backup_ctx bc;
	bg_vault_log_head_t h;
	const char *out = NULL, *as = NULL;
	int c, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == OPT_OUT) {
			out = optarg;
			continue;
		}
		if (c == OPT_AS) {
			as = optarg;
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
	memset(&bc, 0, sizeof(bc));
	bc.v = v;
	bc.out = out;
	if ((ex = vault_signed_act(v, NULL, as, "backup", NULL, backup_op,
	    &bc)) != 0) {
		if (bc.r == BG_ERR_AUTH)
			ex = VAULT_EXIT_TAMPERED;
		goto done;
	}
	h = bc.h;
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
		{ "as",		required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct restore_ctx rc;
	bg_vault_log_head_t h;
	const char *from = NULL, *receipt = NULL, *as = NULL;
	char *path = NULL;
	bool force = false;
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&rc, 0, sizeof(rc));

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
		case OPT_AS:
			as = optarg;
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
	if (as == NULL) {
		vault_errx("restore: --as CUSTODIAN is required: a restore is "
		    "signed by a custodian of the restored vault");
		ex = VAULT_EXIT_USAGE;
		goto done;
	}
	if ((path = vault_path(true)) == NULL)
		goto done;
	rc.path = path;
	rc.from = from;
	rc.receipt = receipt;
	rc.force = force;
	rc.as = as;
	if ((ex = vault_token_open(NULL, &rc.tok)) != 0)
		goto done;
	if ((ex = vault_with_pin(NULL, NULL, as, rc.tok, NULL, "restore", NULL,
	    restore_op, &rc)) != 0)
		goto done;
	h = rc.h;
	if ((r = rc.r) != BG_OK) {
		vault_errx("restore: %s", rc.msg);
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
	bg_token_close(&rc.tok);
	free(path);
	return ex;
}
