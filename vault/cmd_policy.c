/*
 * vault policy set | show.  A policy is part of the tenant's keyset
 * chain: set amends the tenant's draft link, which takes effect when its
 * signers have signed it (vault chain sign).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault policy set TENANT POLICY --as PERSON [--exception REASON "
    "--exception-until TIME]\n"
    "       vault policy show TENANT [--json]\n";

enum { OPT_EXCEPTION = VOPT_LOCAL, OPT_UNTIL, OPT_AS };

struct pargs {
	const char	*exception;
	const char	*until;
	const char	*as;
	bool		 help;
};

/* policy set: a signed amendment of the draft (vault_signed_act). */
struct set_ctx {
	bg_vault_t		*v;
	const char		*tenant, *expr;
	const struct pargs	*a;
	int64_t			 until;
};

static int
set_op(void *arg, const bg_vault_signer_t *by)
{
	struct set_ctx *c = arg;

	return bg_vault_policy_set(c->v, by, c->tenant, c->expr,
	    c->a->exception, c->until);
}

static int
parse(int argc, char **argv, struct pargs *a)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "exception",	     required_argument, NULL, OPT_EXCEPTION },
		{ "exception-until", required_argument, NULL, OPT_UNTIL },
		{ "as",		     required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			a->help = true;
			break;
		case OPT_EXCEPTION:
			a->exception = optarg;
			break;
		case OPT_UNTIL:
			a->until = optarg;
			break;
		case OPT_AS:
			a->as = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int
policy_set(int argc, char **argv)
{
	struct pargs a;
	struct set_ctx sc;
	bg_vault_t *v = NULL;
	int64_t until = 0;
	char what[BG_VAULT_NAME_MAX + 32];
	int ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (argc - optind != 2) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((a.exception == NULL) != (a.until == NULL)) {
		vault_errx("policy set: --exception and --exception-until go "
		    "together");
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (a.until != NULL && vault_parse_time(a.until, &until) != 0) {
		vault_errx("policy set: bad time '%s' (YYYY-MM-DD, +30d, ...)",
		    a.until);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	sc.v = v;
	sc.tenant = argv[optind];
	sc.expr = argv[optind + 1];
	sc.a = &a;
	sc.until = until;
	(void)snprintf(what, sizeof(what), "policy set %s", argv[optind]);
	if ((ex = vault_signed_act(v, argv[optind], a.as, what, NULL, set_op,
	    &sc)) != 0)
		goto out;
	printf("policy of %s set in its draft link; it takes effect when the "
	    "draft is signed (vault chain show %s)\n", argv[optind],
	    argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

static int
policy_show(int argc, char **argv)
{
	struct pargs a;
	bg_vault_t *v = NULL;
	bg_vault_tenant_info_t *t = NULL;
	char *text = NULL;
	char hash[2 * BG_VAULT_HASH_LEN + 1];
	json_t *j = NULL;
	int r, ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0 || a.exception != NULL || a.as != NULL ||
	    a.until != NULL) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if ((r = bg_vault_policy_get(v, argv[optind], &text, hash)) != BG_OK) {
		if (r == BG_ERR_NOT_FOUND &&
		    bg_vault_tenant_show(v, argv[optind], &t) == BG_OK)
			vault_errx("policy show %s: no policy yet (vault policy "
			    "set %s 'POLICY')", argv[optind], argv[optind]);
		else
			(void)vault_fail(v, r, "policy show %s", argv[optind]);
		ex = vault_exit(r);
		goto out;
	}
	if ((r = bg_vault_tenant_show(v, argv[optind], &t)) != BG_OK) {
		ex = vault_fail(v, r, "policy show %s", argv[optind]);
		goto out;
	}
	if (vault_g.json) {
		j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
		    "tenant", argv[optind], "policy", text, "policy_hash", hash,
		    "max_ttl", (json_int_t)t->max_ttl,
		    "approval_window", (json_int_t)t->approval_window,
		    "rotation_deadline", (json_int_t)t->rotation_deadline);
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
	} else {
		char s1[32], s2[32], s3[32];

		printf("tenant:            %s\n", argv[optind]);
		printf("policy:            %s\n", text);
		printf("policy hash:       %s\n", hash);
		printf("max TTL:           %s\n",
		    vault_fmt_span(t->max_ttl, s1));
		printf("approval window:   %s\n",
		    vault_fmt_span(t->approval_window, s2));
		printf("rotation deadline: %s after the lease ends\n",
		    vault_fmt_span(t->rotation_deadline, s3));
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(j);
	free(text);
	bg_vault_tenant_free(&t);
	bg_vault_close(&v);
	return ex;
}

int
cmd_policy(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "set") == 0)
		return policy_set(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return policy_show(argc - 1, argv + 1);
	return vault_subcommand_unknown("policy", argv[1], usage);
}
