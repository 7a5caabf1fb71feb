/*
 * vault rekey propose | show | contribute | abort: re-key by
 * redistribution (vault_lifecycle.h).  Contributors read the statement
 * (every version, its contributing set and coefficients, the link the
 * shares move to) before they touch.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault rekey propose TENANT --as PERSON\n"
    "       vault rekey show ID [--json]\n"
    "       vault rekey contribute ID --as PERSON [--token PATH] "
    "[--pin-file PATH]\n"
    "       vault rekey abort ID --as PERSON\n";

enum { OPT_AS = VOPT_LOCAL };

struct rargs {
	const char	*as;
	bool		 help;
};

/* propose and abort: an operator's or custodian's signed act. */
struct rk_ctx {
	bg_vault_t	*v;
	const char	*tenant;	/* propose */
	int64_t		 id;		/* abort; propose's result */
};

static int
propose_op(void *arg, const bg_vault_signer_t *by)
{
	struct rk_ctx *c = arg;

	return bg_vault_rekey_propose(c->v, by, c->tenant, &c->id);
}

static int
abort_op(void *arg, const bg_vault_signer_t *by)
{
	struct rk_ctx *c = arg;

	return bg_vault_rekey_abort(c->v, by, c->id);
}

static int
parse(int argc, char **argv, struct rargs *a)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",	required_argument, NULL, OPT_AS },
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
		case OPT_AS:
			a->as = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* The statement, indented, on stderr. */
static void
show_text(const char *heading, const char *text)
{
	const char *p, *e;

	fprintf(stderr, "%s\n", heading);
	for (p = text; *p != '\0'; p = *e == '\n' ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		fprintf(stderr, "    %.*s\n", (int)(e - p), p);
	}
	fflush(stderr);
}

static int
rekey_propose(int argc, char **argv)
{
	struct rargs a;
	struct rk_ctx rc;
	bg_vault_t *v = NULL;
	bg_vault_rekey_info_t *ri = NULL;
	char what[BG_VAULT_NAME_MAX + 32];
	int64_t id = 0;
	int ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0) {
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
	rc.v = v;
	rc.tenant = argv[optind];
	rc.id = 0;
	(void)snprintf(what, sizeof(what), "rekey propose %s", argv[optind]);
	if ((ex = vault_signed_act(v, argv[optind], a.as, what, NULL,
	    propose_op, &rc)) != 0)
		goto out;
	id = rc.id;
	printf("%lld\n", (long long)id);
	if (bg_vault_rekey_show(v, id, &ri) == BG_OK)
		show_text("re-key proposed; each contributor named below runs "
		    "'vault rekey contribute ID --as NAME':", ri->body);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_rekey_free(&ri);
	bg_vault_close(&v);
	return ex;
}

static int
parse_id(const char *s, int64_t *idp)
{
	if (vault_parse_request_id(s, idp) != 0) {
		vault_errx("rekey: bad re-key id '%s'", s);
		return -1;
	}
	return 0;
}

static int
rekey_show(int argc, char **argv)
{
	struct rargs a;
	bg_vault_t *v = NULL;
	bg_vault_rekey_info_t *ri = NULL;
	json_t *j = NULL;
	int64_t id = 0;
	int r, ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0 || a.as != NULL || (!a.help &&
	    (argc - optind != 1 || parse_id(argv[optind], &id) != 0))) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_rekey_show(v, id, &ri)) != BG_OK) {
		ex = vault_fail(v, r, "rekey show %lld", (long long)id);
		goto out;
	}
	if (vault_g.json) {
		j = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s}", "id",
		    (json_int_t)ri->id, "tenant", ri->tenant, "state",
		    bg_vault_rekey_state_name(ri->state), "to_seq",
		    (json_int_t)ri->to_seq, "contributed", ri->contributed,
		    "statement", ri->body);
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
	} else {
		printf("re-key %lld of %s: %s, to link %llu\n",
		    (long long)ri->id, ri->tenant,
		    bg_vault_rekey_state_name(ri->state),
		    (unsigned long long)ri->to_seq);
		printf("contributed: %s\n", ri->contributed[0] != '\0' ?
		    ri->contributed : "nobody yet");
		printf("%s", ri->body);
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(j);
	bg_vault_rekey_free(&ri);
	bg_vault_close(&v);
	return ex;
}

struct con_ctx {
	bg_vault_t	*v;
	int64_t		 id;
	const char	*as;
	uint8_t		 hash[BG_VAULT_HASH_LEN];
	bg_token_t	*tok;
	bool		 committed;
};

static int
con_op(void *arg, const char *pin)
{
	struct con_ctx *c = arg;

	return bg_vault_rekey_contribute(c->v, c->id, c->as, c->hash, c->tok,
	    pin, &c->committed);
}

static int
rekey_contribute(int argc, char **argv)
{
	struct rargs a;
	struct con_ctx cc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	char *text = NULL, what[64], heading[160];
	int r, ex = VAULT_EXIT_FAIL;

	memset(&cc, 0, sizeof(cc));
	if (parse(argc, argv, &a) != 0 || (!a.help && (argc - optind != 1 ||
	    parse_id(argv[optind], &cc.id) != 0))) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (a.as == NULL) {
		vault_errx("rekey contribute: --as PERSON is required");
		ex = vault_usage_err(usage);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "rekey contribute %lld",
	    (long long)cc.id);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if ((r = bg_vault_rekey_statement(v, cc.id, &text, cc.hash)) !=
	    BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	(void)snprintf(heading, sizeof(heading), "%s, you are asked to "
	    "CONTRIBUTE your shares to this re-key. Read it before you touch "
	    "your token:", a.as);
	show_text(heading, text);
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	cc.v = v;
	cc.as = a.as;
	cc.tok = tok;
	if ((ex = vault_with_pin(v, NULL, a.as, tok, NULL, what, NULL, con_op,
	    &cc)) != 0)
		goto out;
	printf("%s contributed to re-key %lld%s\n", a.as, (long long)cc.id,
	    cc.committed ? "; every sub-share is in: the re-key is committed"
	    : "");
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	free(text);
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}

static int
rekey_abort(int argc, char **argv)
{
	struct rargs a;
	struct rk_ctx rc;
	bg_vault_t *v = NULL;
	char what[64];
	int64_t id = 0;
	int ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0 || (!a.help &&
	    (argc - optind != 1 || parse_id(argv[optind], &id) != 0))) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	rc.v = v;
	rc.tenant = NULL;
	rc.id = id;
	(void)snprintf(what, sizeof(what), "rekey abort %lld", (long long)id);
	if ((ex = vault_signed_act(v, NULL, a.as, what, NULL, abort_op, &rc))
	    != 0)
		goto out;
	printf("re-key %lld aborted; its sub-shares are destroyed\n",
	    (long long)id);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

int
cmd_rekey(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "propose") == 0)
		return rekey_propose(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return rekey_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "contribute") == 0)
		return rekey_contribute(argc - 1, argv + 1);
	if (strcmp(argv[1], "abort") == 0)
		return rekey_abort(argc - 1, argv + 1);
	return vault_subcommand_unknown("rekey", argv[1], usage);
}
