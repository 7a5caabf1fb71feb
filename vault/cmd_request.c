/* vault request TENANT/SECRET | request show | request list */
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
    "usage: vault request TENANT/SECRET --as PERSON --reason TEXT "
    "--ticket ID [--ttl DURATION]\n"
    "                     [--token PATH] [--pin-file PATH]\n"
    "       vault request show REQUEST [--json]\n"
    "       vault request list [TENANT] [--all] [--json]\n"
    "       vault request withdraw REQUEST --as PERSON [--token PATH] "
    "[--pin-file PATH]\n";

enum { OPT_AS = VOPT_LOCAL, OPT_REASON, OPT_TICKET, OPT_TTL, OPT_ALL };

struct req_ctx {
	bg_vault_t	*v;
	const char	*tenant, *secret, *as, *reason, *ticket;
	int64_t		 ttl;
	bg_token_t	*tok;
	int64_t		 id;
};

static int
req_op(void *arg, const char *pin)
{
	struct req_ctx *c = arg;

	return bg_vault_request(c->v, c->tenant, c->secret, c->as, c->reason,
	    c->ticket, c->ttl, c->tok, pin, &c->id);
}

static int
request_new(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",		required_argument, NULL, OPT_AS },
		{ "reason",	required_argument, NULL, OPT_REASON },
		{ "ticket",	required_argument, NULL, OPT_TICKET },
		{ "ttl",	required_argument, NULL, OPT_TTL },
		{ NULL, 0, NULL, 0 }
	};
	struct req_ctx rc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	bg_vault_tenant_info_t *t = NULL;
	bg_vault_request_info_t *ri = NULL;
	char *tenant = NULL, *secret = NULL;
	char what[192], tb[32], sb[32];
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&rc, 0, sizeof(rc));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_AS:
			rc.as = optarg;
			break;
		case OPT_REASON:
			rc.reason = optarg;
			break;
		case OPT_TICKET:
			rc.ticket = optarg;
			break;
		case OPT_TTL:
			if (vault_parse_duration(optarg, &rc.ttl) != 0 ||
			    rc.ttl <= 0) {
				vault_errx("request: bad --ttl '%s' (e.g. 30m, "
				    "1h)", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 ||
	    vault_split_ref(argv[optind], &tenant, &secret) != 0) {
		(void)vault_hint_ref("request", true, argc - optind,
		    argv + optind);
		ex = vault_usage_err(usage);
		goto out;
	}
	if (rc.as == NULL || rc.reason == NULL || rc.ticket == NULL) {
		vault_errx("request: --as, --reason and --ticket are required");
		ex = vault_usage_err(usage);
		goto out;
	}
	snprintf(what, sizeof(what), "request %s/%s", tenant, secret);
	/* Refuse outside text before it reaches anyone's terminal. */
	if (!bg_vault_text_ok(rc.reason, BG_VAULT_REASON_MAX) ||
	    !bg_vault_text_ok(rc.ticket, BG_VAULT_TICKET_MAX)) {
		vault_errx("request: --%s must be 1 to %d bytes of valid "
		    "UTF-8 without control characters, line separators or "
		    "bidirectional controls", !bg_vault_text_ok(rc.reason,
		    BG_VAULT_REASON_MAX) ? "reason" : "ticket",
		    !bg_vault_text_ok(rc.reason, BG_VAULT_REASON_MAX) ?
		    BG_VAULT_REASON_MAX : BG_VAULT_TICKET_MAX);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (rc.ttl == 0) {
		/* default: the tenant's maximum */
		if ((r = bg_vault_tenant_show(v, tenant, &t)) != BG_OK) {
			ex = vault_fail(v, r, "%s", what);
			goto out;
		}
		rc.ttl = t->max_ttl;
	}
	/* Everything but the token first: no PIN or touch for a refusal. */
	if ((r = bg_vault_request_check(v, tenant, secret, rc.as, rc.reason,
	    rc.ticket, rc.ttl)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	rc.v = v;
	rc.tenant = tenant;
	rc.secret = secret;
	rc.tok = tok;
	vault_note("%s asks for %s/%s for %s: %s (ticket %s)", rc.as, tenant,
	    secret, vault_fmt_span(rc.ttl, sb), rc.reason, rc.ticket);
	if ((ex = vault_with_pin(v, tenant, rc.as, tok, NULL, what, NULL,
	    req_op, &rc)) != 0)
		goto out;
	printf("%lld\n", (long long)rc.id);
	if (bg_vault_request_show(v, rc.id, &ri) == BG_OK)
		vault_note("request %lld opened; approvals and release before "
		    "%s; %s", (long long)rc.id,
		    vault_fmt_time(ri->deadline, tb), ri->missing);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_request_free(&ri);
	bg_vault_tenant_free(&t);
	bg_token_close(&tok);
	bg_vault_close(&v);
	free(tenant);
	free(secret);
	return ex;
}

struct wd_ctx {
	bg_vault_t	*v;
	int64_t		 id;
	const char	*as;
	bg_token_t	*tok;
};

static int
wd_op(void *arg, const char *pin)
{
	struct wd_ctx *c = arg;

	return bg_vault_request_withdraw(c->v, c->id, c->as, c->tok, pin);
}

/* vault request withdraw REQUEST --as PERSON */
static int
request_withdraw(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",		required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct wd_ctx wc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	bg_vault_request_info_t *q = NULL;
	char what[64];
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&wc, 0, sizeof(wc));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_AS:
			wc.as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 ||
	    vault_parse_request_id(argv[optind], &wc.id) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (wc.as == NULL) {
		vault_errx("request withdraw: --as PERSON is required (the "
		    "requester)");
		ex = vault_usage_err(usage);
		goto out;
	}
	snprintf(what, sizeof(what), "request withdraw %lld",
	    (long long)wc.id);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_request_show(v, wc.id, &q)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	if ((r = bg_vault_request_withdraw_check(v, wc.id, wc.as)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	vault_note("%s withdraws request %lld for %s/%s (%s, ticket %s)",
	    wc.as, (long long)wc.id, q->tenant, q->secret, q->reason,
	    q->ticket);
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	wc.v = v;
	wc.tok = tok;
	if ((ex = vault_with_pin(v, q->tenant, wc.as, tok, NULL, what, NULL,
	    wd_op, &wc)) != 0)
		goto out;
	printf("request %lld withdrawn by %s\n", (long long)wc.id, wc.as);
	if (q->approved_by[0] != '\0')
		vault_note("the approvals given (%s) still count toward the "
		    "exposure of %s/%s v%d", q->approved_by, q->tenant,
		    q->secret, q->version);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_request_free(&q);
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}

static json_t *
request_json(const bg_vault_request_info_t *q)
{
	return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:I, s:o, s:o, "
	    "s:s, s:o, s:b, s:I, s:s, s:o, s:o, s:o, s:s}",
	    "id", (json_int_t)q->id, "tenant", q->tenant, "secret", q->secret,
	    "version", q->version, "requester", q->requester,
	    "reason", q->reason, "ticket", q->ticket, "ttl", (json_int_t)q->ttl,
	    "created_at", vault_json_time(q->created_at),
	    "deadline", vault_json_time(q->deadline),
	    "state", bg_vault_request_state_name(q->state),
	    "closed_at", vault_json_time(q->closed_at),
	    "satisfied", q->satisfied,
	    "approvals", (json_int_t)q->n_approvals,
	    "approved_by", q->approved_by,
	    "denied_by", q->denied_by[0] ? json_string(q->denied_by) :
	    json_null(),
	    "deny_reason", q->deny_reason[0] ? json_string(q->deny_reason) :
	    json_null(),
	    "missing", q->missing[0] ? json_string(q->missing) : json_null(),
	    "policy", q->policy);
}

static void
print_request(const bg_vault_request_info_t *q)
{
	char tb[32], sb[32];

	printf("request:      %lld\n", (long long)q->id);
	printf("state:        %s\n", bg_vault_request_state_name(q->state));
	printf("secret:       %s/%s version %d\n", q->tenant, q->secret,
	    q->version);
	printf("requester:    %s\n", q->requester);
	printf("reason:       %s\n", q->reason);
	printf("ticket:       %s\n", q->ticket);
	printf("TTL:          %s\n", vault_fmt_span(q->ttl, sb));
	printf("requested:    %s\n", vault_fmt_time(q->created_at, tb));
	printf("deadline:     %s\n", vault_fmt_time(q->deadline, tb));
	printf("policy:       %s\n", q->policy);
	printf("approved by:  %s\n", q->approved_by[0] ? q->approved_by :
	    "(nobody yet)");
	if (q->denied_by[0])
		printf("denied by:    %s\n", q->denied_by);
	if (q->deny_reason[0])
		printf("deny reason:  %s\n", q->deny_reason);
	if (q->state == BG_VAULT_REQUEST_OPEN)
		printf("release:      %s\n", q->satisfied ?
		    "the policy is met; the requester can release" :
		    q->missing);
}

static int
request_show_list(int argc, char **argv, bool show)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "all",	no_argument, NULL, OPT_ALL },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_request_info_t *list = NULL;
	json_t *j = NULL, *arr = NULL;
	const char *tenant = NULL;
	bool all = false;
	int64_t id = 0;
	char tb[32];
	size_t n = 0, i;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == 'h') {
			ex = vault_usage_ok(usage);
			goto out;
		}
		if (c == OPT_ALL && !show) {
			all = true;
			continue;
		}
		ex = vault_usage_err(usage);
		goto out;
	}
	if (show) {
		if (argc - optind != 1 ||
		    vault_parse_request_id(argv[optind], &id) != 0) {
			ex = vault_usage_err(usage);
			goto out;
		}
	} else if (argc - optind > 1) {
		ex = vault_usage_err(usage);
		goto out;
	} else if (argc - optind == 1)
		tenant = argv[optind];
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (show) {
		r = bg_vault_request_show(v, id, &list);
		n = 1;
	} else
		r = bg_vault_request_list(v, tenant, !all, &list, &n);
	if (r != BG_OK) {
		if (show)
			ex = vault_fail(v, r, "request show %lld",
			    (long long)id);
		else
			ex = vault_fail(v, r, "request list");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if (vault_g.json) {
		if (show)
			j = request_json(&list[0]);
		else {
			if ((arr = json_array()) == NULL)
				goto out;
			for (i = 0; i < n; i++)
				if (json_array_append_new(arr,
				    request_json(&list[i])) != 0)
					goto out;
			j = json_pack("{s:o}", "requests", arr);
			arr = NULL;
		}
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	if (show)
		print_request(&list[0]);
	else if (n == 0)
		printf("no %srequests\n", all ? "" : "open ");
	else {
		printf("%-5s %-24s %-10s %-10s %-21s %s\n", "ID", "SECRET",
		    "REQUESTER", "STATE", "DEADLINE", "APPROVALS");
		for (i = 0; i < n; i++) {
			char ref[2 * BG_VAULT_NAME_MAX + 2];

			snprintf(ref, sizeof(ref), "%s/%s", list[i].tenant,
			    list[i].secret);
			printf("%-5lld %-24s %-10s %-10s %-21s %s\n",
			    (long long)list[i].id, ref, list[i].requester,
			    bg_vault_request_state_name(list[i].state),
			    vault_fmt_time(list[i].deadline, tb),
			    list[i].satisfied ? "complete" :
			    list[i].missing);
		}
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(arr);
	json_decref(j);
	bg_vault_request_free(&list);
	bg_vault_close(&v);
	return ex;
}

int
cmd_request(int argc, char **argv)
{
	if (argc < 2)
		return vault_usage_err(usage);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return vault_usage_ok(usage);
	if (strcmp(argv[1], "show") == 0)
		return request_show_list(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "list") == 0)
		return request_show_list(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "withdraw") == 0)
		return request_withdraw(argc - 1, argv + 1);
	return request_new(argc, argv);
}
