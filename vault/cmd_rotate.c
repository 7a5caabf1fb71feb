/*
 * vault rotate begin | commit | abort: each an operator's signed act
 * (--as); the operator who begins a rotation sees the new value and may
 * not request it.
 */
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
    "usage: vault rotate begin TENANT/SECRET --as OPERATOR [--generate "
    "[--length N]\n"
    "                          [--charset SET]]\n"
    "       vault rotate commit TENANT/SECRET --as OPERATOR\n"
    "       vault rotate abort TENANT/SECRET --as OPERATOR\n";

#define DEFAULT_GEN_LEN 32

enum { OPT_GENERATE = VOPT_LOCAL, OPT_LENGTH, OPT_CHARSET, OPT_AS };

struct rot {
	bg_vault_t	*v;
	const char	*tenant, *secret;
	int		 which;		/* 0 begin, 1 commit, 2 abort */
	const uint8_t	*val;
	size_t		 len;
	int		 version;
};

static int
rot_op(void *ctx, const bg_vault_signer_t *by)
{
	struct rot *o = ctx;

	if (o->which == 1)
		return bg_vault_rotate_commit(o->v, by, o->tenant, o->secret);
	if (o->which == 2)
		return bg_vault_rotate_abort(o->v, by, o->tenant, o->secret);
	return bg_vault_rotate_begin(o->v, by, o->tenant, o->secret, o->val,
	    o->len, &o->version);
}

static int
rotate(int argc, char **argv, int which)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "generate",	no_argument,	   NULL, OPT_GENERATE },
		{ "length",	required_argument, NULL, OPT_LENGTH },
		{ "charset",	required_argument, NULL, OPT_CHARSET },
		{ "as",		required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct rot o;
	const char *as = NULL;
	char shown[256];
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
		case OPT_AS:
			as = optarg;
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
	memset(&o, 0, sizeof(o));
	o.v = v;
	o.tenant = tenant;
	o.secret = secret;
	o.which = which;
	if (which != 0) {
		(void)snprintf(shown, sizeof(shown), "%s %ss the rotation of "
		    "%s/%s", as != NULL ? as : "", which == 1 ? "commit" :
		    "abort", tenant, secret);
		if ((ex = vault_signed_act(v, tenant, as, what, shown, rot_op,
		    &o)) != 0)
			goto out;
		if (which == 1)
			printf("rotation of %s/%s committed: the new version is "
			    "active, the old one retired\n", tenant, secret);
		else
			printf("rotation of %s/%s aborted: the pending version "
			    "was dropped\n", tenant, secret);
		vault_note_receipt(v);
		ex = VAULT_EXIT_OK;
		goto out;
	}
	/* Refusals before the value is asked for. */
	if (as == NULL) {
		ex = vault_signed_act(v, tenant, as, what, NULL, rot_op, &o);
		goto out;
	}
	{
		bg_vault_signer_t chk = { as, NULL, NULL };

		if ((r = bg_vault_rotate_begin(v, &chk, tenant, secret, NULL, 0,
		    NULL)) != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
	}
	if (gen) {
		if ((r = bg_vault_generate((size_t)glen, classes, &val,
		    &len)) != BG_OK) {
			ex = vault_fail(NULL, r, "%s", what);
			goto out;
		}
	} else if ((ex = vault_read_value(argv[optind], &val, &len)) != 0)
		goto out;
	o.val = val;
	o.len = len;
	(void)snprintf(shown, sizeof(shown), "%s seals a new version of %s/%s "
	    "(and knows its value from now on)", as, tenant, secret);
	if ((ex = vault_signed_act(v, tenant, as, what, shown, rot_op, &o)) !=
	    0)
		goto out;
	version = o.version;
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
