/* vault member add | list | recertify | remove */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault member add TENANT PERSON --role ROLE [--side client|msp] "
    "[--token PATH]\n"
    "                        [--label LABEL] [--expires TIME] "
    "[--pin-file PATH]\n"
    "       vault member list [TENANT] [--person PERSON] [--all] [--json]\n"
    "       vault member recertify TENANT PERSON --until TIME --as PERSON "
    "[--role ROLE]\n"
    "                              [--shorten]\n"
    "       vault member remove TENANT PERSON --as PERSON [--role ROLE]\n";

#define DEFAULT_VALIDITY (365 * 86400)

enum { OPT_ROLE = VOPT_LOCAL, OPT_LABEL, OPT_EXPIRES, OPT_PERSON, OPT_ALL,
    OPT_SIDE, OPT_UNTIL, OPT_SHORTEN, OPT_AS };

static const struct option longopts[] = {
	VAULT_GLOBAL_LONGOPTS,
	{ "role",	required_argument, NULL, OPT_ROLE },
	{ "label",	required_argument, NULL, OPT_LABEL },
	{ "expires",	required_argument, NULL, OPT_EXPIRES },
	{ "person",	required_argument, NULL, OPT_PERSON },
	{ "all",	no_argument,	   NULL, OPT_ALL },
	{ "side",	required_argument, NULL, OPT_SIDE },
	{ "until",	required_argument, NULL, OPT_UNTIL },
	{ "shorten",	no_argument,	   NULL, OPT_SHORTEN },
	{ "as",		required_argument, NULL, OPT_AS },
	{ NULL, 0, NULL, 0 }
};

struct margs {
	int		 role;
	const char	*label;
	int64_t		 expires;
	const char	*person;
	bool		 all;
	int		 side;
	int64_t		 until;
	bool		 shorten;
	bool		 help;
	const char	*as;		/* remove, recertify: who signs */
};

/* remove and recertify: a signed amendment (vault_signed_act). */
struct amend_ctx {
	bg_vault_t		*v;
	const struct margs	*a;
	const char		*tenant, *person;
	bool			 recertify;
};

static int
amend_op(void *arg, const bg_vault_signer_t *by)
{
	struct amend_ctx *c = arg;

	if (c->recertify)
		return bg_vault_member_recertify(c->v, by, c->tenant,
		    c->person, c->a->role, c->a->until, c->a->shorten);
	return bg_vault_member_remove(c->v, by, c->tenant, c->person,
	    c->a->role);
}

/* Parse the options; returns -1 on a usage error. */
static int
parse(int argc, char **argv, struct margs *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			a->help = true;
			break;
		case OPT_ROLE:
			if (bg_vault_role_parse(optarg, &a->role) != BG_OK) {
				vault_errx("member: unknown role '%s' (requester, "
				    "approver, auditor or operator)", optarg);
				return -1;
			}
			break;
		case OPT_LABEL:
			a->label = optarg;
			break;
		case OPT_EXPIRES:
			if (vault_parse_time(optarg, &a->expires) != 0) {
				vault_errx("member: bad time '%s' (YYYY-MM-DD "
				    "or +DURATION such as +180d)", optarg);
				return -1;
			}
			break;
		case OPT_PERSON:
			a->person = optarg;
			break;
		case OPT_ALL:
			a->all = true;
			break;
		case OPT_SIDE:
			if (bg_vault_side_parse(optarg, &a->side) != BG_OK) {
				vault_errx("member: unknown side '%s' (client or "
				    "msp)", optarg);
				return -1;
			}
			break;
		case OPT_UNTIL:
			if (vault_parse_time(optarg, &a->until) != 0) {
				vault_errx("member: bad time '%s' (YYYY-MM-DD "
				    "or +DURATION such as +180d)", optarg);
				return -1;
			}
			break;
		case OPT_SHORTEN:
			a->shorten = true;
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

struct add_ctx {
	bg_vault_t	*v;
	const char	*tenant, *person, *label;
	int		 role, side;
	int64_t		 expires;
	bg_token_t	*tok;
};

static int
add_op(void *arg, const char *pin)
{
	struct add_ctx *a = arg;

	return bg_vault_member_add(a->v, a->tenant, a->person,
	    a->role, a->side, a->expires, a->label, a->tok, pin);
}

static int
member_add(int argc, char **argv)
{
	struct margs a;
	struct add_ctx ac;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	char what[256], tb[32];
	int ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.as != NULL) {
		vault_errx("member add: the enrollee's own token signs the "
		    "enrollment; --as does not apply");
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (argc - optind != 2 || a.role == 0) {
		if (a.role == 0)
			vault_errx("member add: --role is required");
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.role == BG_VAULT_ROLE_APPROVER && a.side == 0) {
		vault_errx("member add: an approver needs --side client (the "
		    "customer's) or --side msp");
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (a.role != BG_VAULT_ROLE_APPROVER && a.side != 0) {
		vault_errx("member add: only approvers have a --side");
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (a.expires == 0)
		a.expires = (int64_t)time(NULL) + DEFAULT_VALIDITY;
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	memset(&ac, 0, sizeof(ac));
	ac.v = v;
	ac.tenant = argv[optind];
	ac.person = argv[optind + 1];
	ac.label = a.label;
	ac.role = a.role;
	ac.side = a.side;
	ac.expires = a.expires;
	ac.tok = tok;
	snprintf(what, sizeof(what), "member add %s %s", ac.tenant,
	    ac.person);
	vault_note("Enrolling %s's token %s as %s of %s (three touches: one "
	    "to create the credential, one to derive the key, one to sign "
	    "the key into the tenant's draft link).", ac.person,
	    bg_token_path(tok), bg_vault_role_name(a.role), ac.tenant);
	if ((ex = vault_with_pin(v, ac.tenant, ac.person, tok, NULL, what,
	    NULL, add_op, &ac)) != 0)
		goto out;
	printf("%s enrolled as %s%s%s of %s until %s, in the draft link: it "
	    "takes effect when the draft is signed (vault chain show %s)\n",
	    ac.person, a.side != 0 ? bg_vault_side_name(a.side) : "",
	    a.side != 0 ? " " : "", bg_vault_role_name(a.role), ac.tenant,
	    vault_fmt_time(a.expires, tb), ac.tenant);
	{
		char sf[17], mf[17];

		bg_vault_enrolled_fingerprints(v, sf, mf);
		printf("  signing key %s, membership key %s\n"
		    "  (note them: before anyone signs, %s checks them in "
		    "vault chain show %s)\n", sf, mf, ac.person, ac.tenant);
	}
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}

static json_t *
member_json(const bg_vault_member_info_t *m)
{
	char uuid[64];
	size_t i, w = 0;

	for (i = 0; i < BG_TOKEN_AAGUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			uuid[w++] = '-';
		snprintf(uuid + w, sizeof(uuid) - w, "%02x", m->aaguid[i]);
		w += 2;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:I, s:s, s:o, "
	    "s:s, s:b, s:s, s:s, s:i, s:I, s:s}",
	    "tenant", m->tenant, "person", m->person,
	    "role", bg_vault_role_name(m->role),
	    "expires_at", vault_json_time(m->expires_at),
	    "expired", m->expired, "removed", m->removed,
	    "token_id", (json_int_t)m->token_id, "label", m->label,
	    "enrolled_at", vault_json_time(m->enrolled_at),
	    "aaguid", uuid, "software_token", m->is_soft,
	    "alg", m->alg == BG_TOKEN_EDDSA ? "EdDSA" : "ES256",
	    "attestation_format", m->fmt, "cred_protect", m->cred_protect,
	    "sign_count", (json_int_t)m->sign_count,
	    "key_fingerprint", m->key_fpr);
}

static int
member_list(int argc, char **argv)
{
	struct margs a;
	bg_vault_t *v = NULL;
	bg_vault_member_info_t *list = NULL;
	json_t *j = NULL, *arr = NULL;
	const char *tenant = NULL;
	char tb[32];
	size_t n = 0, i;
	int r, ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (argc - optind > 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind == 1)
		tenant = argv[optind];
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_member_list(v, tenant, a.person, a.all, &list,
	    &n)) != BG_OK) {
		ex = vault_fail(v, r, "member list");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if (vault_g.json) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (i = 0; i < n; i++)
			if (json_array_append_new(arr, member_json(&list[i]))
			    != 0)
				goto out;
		j = json_pack("{s:o, s:b}", "members", arr,
		    "soft_tokens_allowed", bg_vault_allows_soft_tokens(v));
		arr = NULL;
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	vault_soft_banner(v);
	if (n == 0) {
		printf("no members%s%s\n", tenant ? " in " : "",
		    tenant ? tenant : "");
		ex = VAULT_EXIT_OK;
		goto out;
	}
	printf("%-12s %-12s %-10s %-21s %-16s %-16s %s\n", "TENANT", "PERSON",
	    "ROLE", "EXPIRES", "LABEL", "KEY", "TOKEN");
	for (i = 0; i < n; i++)
		printf("%-12s %-12s %-10s %-21s %-16s %-16s %s%s%s\n",
		    list[i].tenant, list[i].person,
		    bg_vault_role_name(list[i].role),
		    vault_fmt_time(list[i].expires_at, tb), list[i].label,
		    list[i].key_fpr,
		    list[i].is_soft ? "software token" : "hardware",
		    list[i].expired ? " EXPIRED" : "",
		    list[i].removed ? " REMOVED" : "");
	ex = VAULT_EXIT_OK;
out:
	json_decref(arr);
	json_decref(j);
	bg_vault_member_free(&list);
	bg_vault_close(&v);
	return ex;
}

static int
member_remove(int argc, char **argv)
{
	struct margs a;
	struct amend_ctx ac;
	bg_vault_t *v = NULL;
	char what[2 * BG_VAULT_NAME_MAX + 32];
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
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ac.v = v;
	ac.a = &a;
	ac.tenant = argv[optind];
	ac.person = argv[optind + 1];
	ac.recertify = false;
	(void)snprintf(what, sizeof(what), "member remove %s %s",
	    argv[optind], argv[optind + 1]);
	if ((ex = vault_signed_act(v, argv[optind], a.as, what, NULL, amend_op,
	    &ac)) != 0)
		goto out;
	printf("%s removed from the draft link of %s: the removal takes "
	    "effect when the draft is signed (vault chain show %s)\n",
	    argv[optind + 1], argv[optind], argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

/* --- recertify: a draft amendment the client co-signers sign ------------- */

static int
member_recertify(int argc, char **argv)
{
	struct margs a;
	struct amend_ctx ac;
	bg_vault_t *v = NULL;
	char tb[32], what[2 * BG_VAULT_NAME_MAX + 32];
	int ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (argc - optind != 2 || a.until == 0) {
		if (argc - optind == 2)
			vault_errx("member recertify: --until TIME is required");
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ac.v = v;
	ac.a = &a;
	ac.tenant = argv[optind];
	ac.person = argv[optind + 1];
	ac.recertify = true;
	(void)snprintf(what, sizeof(what), "member recertify %s %s",
	    argv[optind], argv[optind + 1]);
	if ((ex = vault_signed_act(v, argv[optind], a.as, what, NULL, amend_op,
	    &ac)) != 0)
		goto out;
	printf("%s in %s until %s, in the draft link: it takes effect when "
	    "the signers it needs sign it (vault chain show %s)\n",
	    argv[optind + 1], argv[optind], vault_fmt_time(a.until, tb),
	    argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

int
cmd_member(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "add") == 0)
		return member_add(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return member_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "recertify") == 0)
		return member_recertify(argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return member_remove(argc - 1, argv + 1);
	return vault_subcommand_unknown("member", argv[1], usage);
}
