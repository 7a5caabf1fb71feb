/*
 * vault chain show | sign | discard: a scope's keyset chain (the vault's
 * own chain when no tenant is named: its genesis, then the vault links
 * that change its custodians and trust settings; else a tenant's) and
 * its draft link.
 * A signer reads the draft in words, then signs its hash with their
 * token; the draft takes effect with the signature that completes what
 * its kind of change needs (docs/security.md, "Signing rules").
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
    "usage: vault chain show [TENANT] [--json]\n"
    "       vault chain sign [TENANT] --as PERSON [--token PATH] "
    "[--pin-file PATH]\n"
    "       vault chain discard [TENANT] --as PERSON\n";

enum { OPT_AS = VOPT_LOCAL };

struct cargs {
	const char	*as;
	const char	*tenant;	/* NULL: the vault's chain */
	bool		 help;
};

static int
parse(int argc, char **argv, struct cargs *a)
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
	if (argc - optind > 1)
		return -1;
	if (argc - optind == 1)
		a->tenant = argv[optind];
	return 0;
}

static const char *
scope_name(const char *tenant)
{
	return tenant != NULL ? tenant : "the vault";
}

/* What link seq of the view's chain is called. */
static const char *
link_word(const bg_vault_chain_view_t *w, uint64_t seq)
{
	if (w->scope[0] != '\0')
		return "link";
	return seq == 0 ? "genesis" : "vault link";
}

/* The draft (or the head) in words, indented, on f. */
static void
print_view(FILE *f, const bg_vault_chain_view_t *w)
{
	const char *p, *e;

	if (w->has_head)
		fprintf(f, "in force: %s %llu, hash %.16s\n",
		    link_word(w, w->head_seq), (unsigned long long)w->head_seq,
		    w->head_hash);
	else
		fprintf(f, "in force: nothing yet\n");
	if (w->has_draft)
		fprintf(f, "draft:    %s %llu, hash %s\n",
		    link_word(w, w->draft_seq),
		    (unsigned long long)w->draft_seq, w->draft_hash);
	for (p = w->text != NULL ? w->text : ""; *p != '\0';
	    p = *e == '\n' ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		fprintf(f, "    %.*s\n", (int)(e - p), p);
	}
	if (w->has_draft) {
		fprintf(f, "signed by: %s\n", w->signed_by[0] != '\0' ?
		    w->signed_by : "nobody yet");
		fprintf(f, "%s%s\n", w->ready ? "" : "still ", w->needs);
	}
}

static int
chain_show(int argc, char **argv)
{
	struct cargs a;
	bg_vault_t *v = NULL;
	bg_vault_chain_view_t *w = NULL;
	json_t *j = NULL;
	int r, ex = VAULT_EXIT_FAIL;

	if (parse(argc, argv, &a) != 0 || a.as != NULL) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_chain_show(v, a.tenant, &w)) != BG_OK) {
		ex = vault_fail(v, r, "chain show %s", scope_name(a.tenant));
		goto out;
	}
	if (vault_g.json) {
		j = json_pack("{s:s, s:b, s:I, s:s, s:b, s:I, s:s, s:s, s:s, "
		    "s:b, s:s}", "scope", w->scope, "in_force", w->has_head,
		    "seq", (json_int_t)w->head_seq, "hash", w->head_hash,
		    "draft", w->has_draft, "draft_seq",
		    (json_int_t)w->draft_seq, "draft_hash", w->draft_hash,
		    "signed_by", w->signed_by, "needs", w->needs, "ready",
		    w->ready, "text", w->text != NULL ? w->text : "");
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
	} else {
		printf("%s\n", a.tenant != NULL ? a.tenant : w->has_head ?
		    "vault chain" : "vault genesis");
		print_view(stdout, w);
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(j);
	bg_vault_chain_view_free(&w);
	bg_vault_close(&v);
	return ex;
}

struct sign_ctx {
	bg_vault_t	*v;
	const char	*tenant, *as;
	const uint8_t	*hash;
	bg_token_t	*tok;
	bool		 committed;
};

static int
sign_op(void *arg, const char *pin)
{
	struct sign_ctx *c = arg;

	return bg_vault_chain_sign(c->v, c->tenant, c->as, c->hash, c->tok,
	    pin, &c->committed);
}

static int
chain_sign(int argc, char **argv)
{
	struct cargs a;
	struct sign_ctx sc;
	bg_vault_t *v = NULL;
	bg_vault_chain_view_t *w = NULL;
	bg_token_t *tok = NULL;
	char what[160];
	int r, ex = VAULT_EXIT_FAIL;

	memset(&sc, 0, sizeof(sc));
	if (parse(argc, argv, &a) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (a.help) {
		ex = vault_usage_ok(usage);
		goto out;
	}
	if (a.as == NULL) {
		vault_errx("chain sign: --as PERSON is required: the person "
		    "whose token signs");
		ex = vault_usage_err(usage);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "chain sign %s",
	    scope_name(a.tenant));
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if ((r = bg_vault_chain_show(v, a.tenant, &w)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	if (!w->has_draft) {
		vault_errx("%s: there is no draft to sign", what);
		ex = VAULT_EXIT_NOTFOUND;
		goto out;
	}
	if ((r = bg_vault_chain_sign_check(v, a.tenant, a.as)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	/* Everything checked: now the person reads what they sign. */
	fprintf(stderr, "%s, you are asked to SIGN this change of %s. Read "
	    "it before you touch your token:\n", a.as, scope_name(a.tenant));
	print_view(stderr, w);
	fflush(stderr);
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	sc.v = v;
	sc.tenant = a.tenant;
	sc.as = a.as;
	sc.hash = w->draft_hash_raw;
	sc.tok = tok;
	if ((ex = vault_with_pin(v, a.tenant, a.as, tok, NULL, what, NULL,
	    sign_op, &sc)) != 0)
		goto out;
	if (sc.committed && a.tenant == NULL && w->draft_seq == 0)
		printf("%s signed; the vault's genesis takes effect now\n",
		    a.as);
	else if (sc.committed && a.tenant == NULL)
		printf("%s signed; vault link %llu takes effect now\n", a.as,
		    (unsigned long long)w->draft_seq);
	else if (sc.committed)
		printf("%s signed; link %llu of %s takes effect now\n", a.as,
		    (unsigned long long)w->draft_seq, a.tenant);
	else {
		bg_vault_chain_view_free(&w);
		if (bg_vault_chain_show(v, a.tenant, &w) == BG_OK)
			printf("%s signed; the draft %s%s\n", a.as, w->ready ?
			    "" : "still ", w->needs);
		else
			printf("%s signed\n", a.as);
	}
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_token_close(&tok);
	bg_vault_chain_view_free(&w);
	bg_vault_close(&v);
	return ex;
}

struct discard_ctx {
	bg_vault_t	*v;
	const char	*tenant;
};

static int
discard_op(void *arg, const bg_vault_signer_t *by)
{
	struct discard_ctx *d = arg;

	return bg_vault_chain_discard(d->v, by, d->tenant);
}

static int
chain_discard(int argc, char **argv)
{
	struct cargs a;
	struct discard_ctx dc;
	bg_vault_t *v = NULL;
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
	if ((ex = vault_open(&v)) != 0)
		goto out;
	dc.v = v;
	dc.tenant = a.tenant;
	(void)snprintf(what, sizeof(what), "chain discard %s",
	    scope_name(a.tenant));
	if ((ex = vault_signed_act(v, a.tenant, a.as, what, NULL, discard_op,
	    &dc)) != 0)
		goto out;
	printf("draft of %s discarded\n", scope_name(a.tenant));
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

int
cmd_chain(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "show") == 0)
		return chain_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return chain_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "discard") == 0)
		return chain_discard(argc - 1, argv + 1);
	return vault_subcommand_unknown("chain", argv[1], usage);
}
