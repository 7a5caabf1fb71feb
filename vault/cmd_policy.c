/*
 * vault policy set | show, and the re-key ceremony that a policy change
 * becomes once the tenant holds sealed material:
 * rekey-show | approve-rekey | commit-rekey | abort-rekey.
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
    "usage: vault policy set TENANT POLICY [--as PROPOSER] "
    "[--confirm-lower] [--token PATH] [--pin-file PATH]\n"
    "       vault policy show TENANT [--json]\n"
    "       vault policy rekey-show ID [--json]\n"
    "       vault policy approve-rekey ID --as PERSON [--token PATH] "
    "[--pin-file PATH]\n"
    "       vault policy commit-rekey ID --as PROPOSER [--token PATH] "
    "[--pin-file PATH]\n"
    "       vault policy abort-rekey ID\n";

enum { OPT_AS = VOPT_LOCAL, OPT_CONFIRM_LOWER };

struct pargs {
	const char	*as;
	bool		 confirm_lower;
	bool		 help;
};

static int
parse(int argc, char **argv, struct pargs *a)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",		   required_argument, NULL, OPT_AS },
		{ "confirm-lower", no_argument,	      NULL, OPT_CONFIRM_LOWER },
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
		case OPT_CONFIRM_LOWER:
			a->confirm_lower = true;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Print a statement (lines "key: value") indented, on stderr. */
static void
show_text(const char *heading, const char *text)
{
	const char *p = text, *e;

	fprintf(stderr, "%s\n", heading);
	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		fprintf(stderr, "    %.*s\n", (int)(e - p), p);
		p = *e == '\n' ? e + 1 : e;
	}
	fflush(stderr);
}

static void
show_diff(const bg_vault_rekey_info_t *ri)
{
	fprintf(stderr, "Policy change for %s:\n", ri->tenant);
	fprintf(stderr, "    before:            %s\n", ri->old_policy);
	fprintf(stderr, "    after:             %s\n", ri->new_policy);
	fprintf(stderr, "    approvers added:   %s\n",
	    ri->added[0] ? ri->added : "none");
	fprintf(stderr, "    approvers removed: %s\n",
	    ri->removed[0] ? ri->removed : "none");
	if (ri->thresholds_changed)
		fprintf(stderr, "    thresholds changed (same approvers)\n");
	fprintf(stderr, "    people needed:     %zu -> %zu%s\n",
	    ri->people_before, ri->people_after,
	    ri->lowers ? "   (LOWERS the quorum)" : "");
	fprintf(stderr, "    versions to re-split: %zu\n", ri->n_versions);
	fflush(stderr);
}

struct rk_ctx {
	bg_vault_t	*v;
	const char	*tenant, *expr, *as;
	bool		 confirm_lower;
	bg_token_t	*tok;
	int64_t		 id;
	uint8_t		 hash[BG_VAULT_HASH_LEN];
	int		 tries;
};

static int
propose_op(void *arg, const char *pin)
{
	struct rk_ctx *c = arg;

	return bg_vault_rekey_propose(c->v, c->tenant, c->expr,
	    c->confirm_lower, c->as, c->tok, pin, &c->id);
}

static int
approve_before(void *arg, const char *pin)
{
	struct rk_ctx *c = arg;
	uint8_t now[BG_VAULT_HASH_LEN];
	char *text = NULL;
	int r = BG_OK;

	(void)pin;
	if (c->tries++ == 0)
		goto out;
	if ((r = bg_vault_rekey_statement(c->v, c->id, &text, now)) != BG_OK)
		goto out;
	if (memcmp(now, c->hash, sizeof(now)) != 0) { /* public: hashes */
		show_text("The audit log moved (the failed try was logged); "
		    "the statement now reads:", text);
		memcpy(c->hash, now, sizeof(now));
	}
out:
	free(text);
	return r;
}

static int
approve_op(void *arg, const char *pin)
{
	struct rk_ctx *c = arg;

	return bg_vault_rekey_approve(c->v, c->id, c->as, c->hash, c->tok,
	    pin);
}

static int
commit_op(void *arg, const char *pin)
{
	struct rk_ctx *c = arg;

	return bg_vault_rekey_commit(c->v, c->id, c->as, c->tok, pin);
}

static int
policy_set(int argc, char **argv)
{
	struct pargs a;
	struct rk_ctx rc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	bg_vault_rekey_info_t *ri = NULL;
	char *text = NULL, hash[2 * BG_VAULT_HASH_LEN + 1], what[128];
	int r, ex = VAULT_EXIT_FAIL;

	memset(&rc, 0, sizeof(rc));
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
	ex = VAULT_EXIT_FAIL;
	(void)snprintf(what, sizeof(what), "policy set %s", argv[optind]);
	if (a.as == NULL) {
		if ((r = bg_vault_policy_set(v, vault_actor(), argv[optind],
		    argv[optind + 1])) != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		if ((r = bg_vault_policy_get(v, argv[optind], &text, hash))
		    != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		printf("policy of %s set: %s\n", argv[optind], text);
		printf("policy hash: %s\n", hash);
		ex = VAULT_EXIT_OK;
		goto out;
	}
	/* A re-key: show the diff, then the proposer's touch. */
	if ((r = bg_vault_rekey_preview(v, argv[optind], argv[optind + 1],
	    &ri)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	show_diff(ri);
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	rc.v = v;
	rc.tenant = argv[optind];
	rc.expr = argv[optind + 1];
	rc.as = a.as;
	rc.confirm_lower = a.confirm_lower;
	rc.tok = tok;
	if ((ex = vault_with_pin(v, argv[optind], a.as, tok, NULL, what, NULL,
	    propose_op, &rc)) != 0)
		goto out;
	printf("%lld\n", (long long)rc.id);
	vault_note("re-key proposal %lld opened for %s; the current policy "
	    "stays in force until %s commits it (vault policy approve-rekey "
	    "%lld --as APPROVER, then vault policy commit-rekey %lld --as %s)",
	    (long long)rc.id, argv[optind], a.as, (long long)rc.id,
	    (long long)rc.id, a.as);
	ex = VAULT_EXIT_OK;
out:
	free(text);
	bg_vault_rekey_free(&ri);
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}

static int
parse_id(const char *s, int64_t *idp)
{
	return vault_parse_request_id(s, idp);
}

static int
rekey_cmd(int argc, char **argv, int which)
{
	struct pargs a;
	struct rk_ctx rc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	bg_vault_rekey_info_t *ri = NULL;
	char *text = NULL, *pol = NULL, what[64], heading[160], tb[32];
	json_t *j = NULL;
	int r, ex = VAULT_EXIT_FAIL;

	memset(&rc, 0, sizeof(rc));
	if (parse(argc, argv, &a) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (argc - optind != 1 || parse_id(argv[optind], &rc.id) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((which == 1 || which == 2) && a.as == NULL) {
		vault_errx("policy %s: --as PERSON is required", argv[0]);
		ex = vault_usage_err(usage);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "policy %s %lld", argv[0],
	    (long long)rc.id);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if ((r = bg_vault_rekey_show(v, rc.id, &ri)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	rc.v = v;
	rc.as = a.as;
	switch (which) {
	case 0:		/* rekey-show */
		if (vault_g.json) {
			j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, "
			    "s:b, s:I, s:I, s:b, s:I, s:I, s:I, s:s, s:b, "
			    "s:s}", "id", (json_int_t)ri->id, "tenant",
			    ri->tenant, "proposer", ri->proposer, "state",
			    bg_vault_rekey_state_name(ri->state),
			    "policy_before", ri->old_policy, "policy_after",
			    ri->new_policy, "added", ri->added,
			    "thresholds_changed", ri->thresholds_changed,
			    "people_before", (json_int_t)ri->people_before,
			    "people_after", (json_int_t)ri->people_after,
			    "lowers", ri->lowers,
			    "versions", (json_int_t)ri->n_versions,
			    "created_at", (json_int_t)ri->created_at,
			    "deadline", (json_int_t)ri->deadline,
			    "approved_by", ri->approved_by,
			    "satisfied", ri->satisfied, "removed",
			    ri->removed);
			if (j == NULL || vault_json_print(j) != BG_OK)
				goto out;
			ex = VAULT_EXIT_OK;
			goto out;
		}
		printf("re-key:       %lld\n", (long long)ri->id);
		printf("state:        %s\n",
		    bg_vault_rekey_state_name(ri->state));
		printf("tenant:       %s\n", ri->tenant);
		printf("proposer:     %s\n", ri->proposer);
		printf("before:       %s\n", ri->old_policy);
		printf("after:        %s\n", ri->new_policy);
		printf("added:        %s\n", ri->added[0] ? ri->added : "none");
		printf("removed:      %s\n",
		    ri->removed[0] ? ri->removed : "none");
		printf("people:       %zu -> %zu%s\n", ri->people_before,
		    ri->people_after, ri->lowers ? " (lowers the quorum)" :
		    "");
		printf("deadline:     %s\n", vault_fmt_time(ri->deadline, tb));
		printf("approved by:  %s\n",
		    ri->approved_by[0] ? ri->approved_by : "nobody yet");
		printf("%s\n", ri->satisfied ? "the current policy is met: "
		    "the proposer can commit" : ri->missing);
		ex = VAULT_EXIT_OK;
		goto out;
	case 1:		/* approve-rekey */
		if ((r = bg_vault_rekey_statement(v, rc.id, &text, rc.hash))
		    != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		(void)snprintf(heading, sizeof(heading), "%s, you are asked to "
		    "APPROVE this policy change and re-key.  Read it before "
		    "you touch your token:", a.as);
		show_text(heading, text);
		if ((ex = vault_token_open(NULL, &tok)) != 0)
			goto out;
		rc.tok = tok;
		if ((ex = vault_with_pin(v, ri->tenant, a.as, tok, NULL, what,
		    approve_before, approve_op, &rc)) != 0)
			goto out;
		bg_vault_rekey_free(&ri);
		printf("re-key %lld approved by %s\n", (long long)rc.id, a.as);
		if (bg_vault_rekey_show(v, rc.id, &ri) == BG_OK)
			printf("%s\n", ri->satisfied ? "the current policy is "
			    "met: the proposer can commit now" : ri->missing);
		break;
	case 2:		/* commit-rekey */
		if ((ex = vault_token_open(NULL, &tok)) != 0)
			goto out;
		rc.tok = tok;
		if ((ex = vault_with_pin(v, ri->tenant, a.as, tok, NULL, what,
		    NULL, commit_op, &rc)) != 0)
			goto out;
		printf("re-key %lld committed: the policy of %s is now %s\n",
		    (long long)rc.id, ri->tenant, ri->new_policy);
		if (bg_vault_policy_get(v, ri->tenant, &pol, NULL) == BG_OK &&
		    strcmp(pol, ri->new_policy) != 0)
			vault_note("warning: the stored policy reads %s", pol);
		break;
	default:	/* abort-rekey */
		if ((r = bg_vault_rekey_abort(v, vault_actor(), rc.id))
		    != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		printf("re-key %lld aborted; the policy of %s stays %s\n",
		    (long long)rc.id, ri->tenant, ri->old_policy);
		break;
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(j);
	free(text);
	free(pol);
	bg_vault_rekey_free(&ri);
	bg_token_close(&tok);
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
	int64_t open_id = 0;
	int r, ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0 || a.as != NULL || a.confirm_lower) {
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
	if ((r = bg_vault_tenant_show(v, argv[optind], &t)) != BG_OK ||
	    (r = bg_vault_rekey_open_id(v, argv[optind], &open_id)) != BG_OK) {
		ex = vault_fail(v, r, "policy show %s", argv[optind]);
		goto out;
	}
	if (vault_g.json) {
		j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o}",
		    "tenant", argv[optind], "policy", text, "policy_hash", hash,
		    "max_ttl", (json_int_t)t->max_ttl,
		    "approval_window", (json_int_t)t->approval_window,
		    "rotation_deadline", (json_int_t)t->rotation_deadline,
		    "rekey_open", open_id > 0 ?
		    json_integer((json_int_t)open_id) : json_null());
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
		if (open_id > 0)
			printf("re-key open:       %lld (vault policy "
			    "rekey-show %lld)\n", (long long)open_id,
			    (long long)open_id);
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
	if (argc < 2)
		return vault_usage_err(usage);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return vault_usage_ok(usage);
	if (strcmp(argv[1], "set") == 0)
		return policy_set(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return policy_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "rekey-show") == 0)
		return rekey_cmd(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "approve-rekey") == 0)
		return rekey_cmd(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "commit-rekey") == 0)
		return rekey_cmd(argc - 1, argv + 1, 2);
	if (strcmp(argv[1], "abort-rekey") == 0)
		return rekey_cmd(argc - 1, argv + 1, 3);
	vault_errx("policy: unknown subcommand '%s'", argv[1]);
	return vault_usage_err(usage);
}
