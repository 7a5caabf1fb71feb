/*
 * vault approve | deny: the approver is shown the full statement first;
 * the token then signs the hash of exactly what was shown.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage_approve[] =
    "usage: vault approve REQUEST --as PERSON [--token PATH] "
    "[--pin-file PATH]\n";
static const char usage_deny[] =
    "usage: vault deny REQUEST --as PERSON --reason TEXT [--token PATH] "
    "[--pin-file PATH]\n";

enum { OPT_AS = VOPT_LOCAL, OPT_REASON };

/* Print a statement (lines "key: value") indented, on stderr. */
static void
show_statement(const char *heading, const char *text)
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

struct appr_ctx {
	bg_vault_t	*v;
	int64_t		 id;
	const char	*as;
	const char	*reason;	/* deny only */
	bg_token_t	*tok;
	bool		 deny;
	uint8_t		 hash[BG_VAULT_HASH_LEN];
	int		 tries;
};

/*
 * Before each try after the first: a failed try was logged, so the log
 * head (part of the statement) moved.  Show the statement again before
 * the next touch, and sign what is shown now.
 */
static int
appr_before(void *arg, const char *pin)
{
	struct appr_ctx *c = arg;
	uint8_t now[BG_VAULT_HASH_LEN];
	char *text = NULL;
	int r = BG_OK;

	(void)pin;
	if (c->tries++ == 0)
		goto out;
	if ((r = bg_vault_statement(c->v, c->id, &text, now)) != BG_OK)
		goto out;
	if (memcmp(now, c->hash, sizeof(now)) != 0) { /* public: hashes */
		show_statement("The audit log moved (the failed try was logged); "
		    "the statement now reads:", text);
		memcpy(c->hash, now, sizeof(now));
	}
out:
	free(text);
	return r;
}

static int
appr_op(void *arg, const char *pin)
{
	struct appr_ctx *c = arg;

	if (c->deny)
		return bg_vault_deny(c->v, c->id, c->as, c->hash, c->tok, pin,
		    c->reason);
	return bg_vault_approve(c->v, c->id, c->as, c->hash, c->tok, pin);
}

static int
approve_or_deny(int argc, char **argv, bool deny)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",	required_argument, NULL, OPT_AS },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ NULL, 0, NULL, 0 }
	};
	const char *usage = deny ? usage_deny : usage_approve;
	struct appr_ctx ac;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	bg_vault_request_info_t *q = NULL;
	char *text = NULL;
	char what[64], heading[160];
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&ac, 0, sizeof(ac));
	ac.deny = deny;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_AS:
			ac.as = optarg;
			break;
		case OPT_REASON:
			if (!deny) {
				ex = vault_usage_err(usage);
				goto out;
			}
			ac.reason = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 ||
	    vault_parse_request_id(argv[optind], &ac.id) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (ac.as == NULL) {
		vault_errx("%s: --as PERSON is required", argv[0]);
		ex = vault_usage_err(usage);
		goto out;
	}
	if (deny && ac.reason != NULL &&
	    !bg_vault_text_ok(ac.reason, BG_VAULT_REASON_MAX)) {
		vault_errx("deny: --reason must be 1 to %d bytes of valid UTF-8 "
		    "without control characters, line separators or "
		    "bidirectional controls", BG_VAULT_REASON_MAX);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (deny && ac.reason == NULL) {
		vault_errx("%s: --reason TEXT is required (it goes into the "
		    "audit log)", argv[0]);
		ex = vault_usage_err(usage);
		goto out;
	}
	snprintf(what, sizeof(what), "%s %lld", argv[0], (long long)ac.id);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	/* Everything but the token first: no statement, PIN or touch for
	 * an act that would be refused anyway. */
	if ((r = bg_vault_request_show(v, ac.id, &q)) != BG_OK ||
	    (r = deny ? bg_vault_deny_check(v, ac.id, ac.as, ac.reason) :
	    bg_vault_approve_check(v, ac.id, ac.as)) != BG_OK ||
	    (r = bg_vault_statement(v, ac.id, &text, ac.hash)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	snprintf(heading, sizeof(heading), "%s, you are asked to %s this "
	    "request.  Read it before you touch your token:",
	    ac.as, deny ? "DENY" : "APPROVE");
	show_statement(heading, text);
	if (deny)
		vault_note("    (your reason, for the audit log: %s)", ac.reason);
	if (!deny && q->state == BG_VAULT_REQUEST_OPEN)
		vault_note("    (policy %s; so far %s)", q->policy,
		    q->approved_by[0] ? q->approved_by : "no approvals");
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	ac.v = v;
	ac.tok = tok;
	if ((ex = vault_with_pin(v, q->tenant, ac.as, tok, NULL, what,
	    appr_before, appr_op, &ac)) != 0)
		goto out;
	bg_vault_request_free(&q);
	if (deny) {
		printf("request %lld denied by %s\n", (long long)ac.id, ac.as);
	} else {
		printf("request %lld approved by %s\n", (long long)ac.id,
		    ac.as);
		if (bg_vault_request_show(v, ac.id, &q) == BG_OK)
			printf("%s\n", q->satisfied ? "the policy is met: "
			    "the requester can release now" : q->missing);
	}
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	free(text);
	bg_vault_request_free(&q);
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}

int
cmd_approve(int argc, char **argv)
{
	return approve_or_deny(argc, argv, false);
}

int
cmd_deny(int argc, char **argv)
{
	return approve_or_deny(argc, argv, true);
}
