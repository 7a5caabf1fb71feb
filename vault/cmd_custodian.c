/*
 * vault custodian add | remove | set: the vault's custodians and trust
 * settings.  Before the genesis is signed, add enrolls another
 * custodian's token into the genesis draft; afterwards each amends the
 * vault's draft, the next vault link, which takes effect when a
 * custodian quorum of the vault link in force has signed it (vault chain
 * sign --as CUSTODIAN; docs/security.md, "Signing rules").
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

static const char usage[] =
    "usage: vault custodian add PERSON [--label LABEL] [--token PATH] "
    "[--pin-file PATH]\n"
    "       vault custodian remove PERSON --as CUSTODIAN\n"
    "       vault custodian set --as CUSTODIAN [--custodian-quorum N]\n"
    "                           [--allow-soft-tokens | --refuse-soft-tokens]\n"
    "       vault custodian trust --as CUSTODIAN [--fido-root FILE] "
    "[--mds FILE] "
    "[--root FILE] [--allow-aaguid HEX] [--clear]\n";

enum { OPT_LABEL = VOPT_LOCAL, OPT_QUORUM, OPT_SOFT, OPT_HARD, OPT_FIDO_ROOT,
    OPT_MDS, OPT_ROOT, OPT_AAGUID, OPT_CLEAR, OPT_AS };

/* trust: a custodian's signed act (vault_signed_act). */
struct trust_ctx {
	bg_vault_t		 *v;
	const char		 *fido_root, *mds;
	const char *const	 *roots;
	size_t			  n_roots;
	const uint8_t		(*aaguids)[16];
	size_t			  n_aaguids;
	bool			  clear;
};

static int
trust_op(void *arg, const bg_vault_signer_t *by)
{
	struct trust_ctx *t = arg;

	return bg_vault_custodian_trust(t->v, by, t->fido_root, t->mds,
	    t->roots, t->n_roots, t->aaguids, t->n_aaguids, t->clear);
}

/* remove and set: a custodian's signed act (vault_signed_act). */
struct cu_act {
	bg_vault_t	*v;
	const char	*person;	/* remove */
	int		 quorum, soft;	/* set */
};

static int
remove_op(void *arg, const bg_vault_signer_t *by)
{
	struct cu_act *c = arg;

	return bg_vault_custodian_remove(c->v, by, c->person);
}

static int
set_op(void *arg, const bg_vault_signer_t *by)
{
	struct cu_act *c = arg;

	return bg_vault_custodian_set(c->v, by, c->quorum, c->soft);
}

struct cu_ctx {
	bg_vault_t	*v;
	const char	*person, *label;
	int		 quorum;
	bg_token_t	*tok;
};

static int
add_op(void *arg, const char *pin)
{
	struct cu_ctx *c = arg;

	return bg_vault_custodian_add(c->v, c->person, c->label, c->quorum,
	    c->tok, pin);
}

int
vault_custodian_enroll(bg_vault_t *v, const char *what, const char *person,
    const char *label, int quorum)
{
	struct cu_ctx c;
	bg_token_t *tok = NULL;
	int ex;

	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	memset(&c, 0, sizeof(c));
	c.v = v;
	c.person = person;
	c.label = label;
	c.quorum = quorum;
	c.tok = tok;
	vault_note("Enrolling %s's token %s as a custodian of this vault "
	    "(two touches: one to create the credential, one to sign it "
	    "into the vault's draft).", person, bg_token_path(tok));
	ex = vault_with_pin(v, NULL, person, tok, NULL, what, NULL, add_op, &c);
out:
	bg_token_close(&tok);
	return ex;
}

/* Where the vault's changes go now, in words. */
static const char *
draft_words(bg_vault_t *v)
{
	return bg_vault_genesis_hash(v)[0] != '\0' ? "the vault's draft" :
	    "the genesis draft";
}

static int
custodian_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "label", required_argument, NULL, OPT_LABEL },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	const char *label = NULL;
	char what[128], sf[17], mf[17];
	bool genesis;
	int c, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_LABEL:
			label = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	genesis = bg_vault_genesis_hash(v)[0] == '\0';
	(void)snprintf(what, sizeof(what), "custodian add %s", argv[optind]);
	if ((ex = vault_custodian_enroll(v, what, argv[optind], label, 0)) !=
	    0)
		goto out;
	if (genesis)
		printf("%s enrolled as a custodian in the genesis draft; every "
		    "custodian signs it next (vault chain sign --as "
		    "CUSTODIAN)\n", argv[optind]);
	else
		printf("%s enrolled as a custodian in the vault's draft; it "
		    "takes effect when a custodian quorum has signed it (vault "
		    "chain sign --as CUSTODIAN)\n", argv[optind]);
	bg_vault_enrolled_fingerprints(v, sf, mf);
	printf("  signing key %s (check it in vault chain show before "
	    "anyone signs)\n", sf);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

static int
custodian_remove(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",	required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct cu_act ca;
	const char *as = NULL;
	char what[BG_VAULT_NAME_MAX + 32];
	bg_vault_t *v = NULL;
	int c, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_AS:
			as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	memset(&ca, 0, sizeof(ca));
	ca.v = v;
	ca.person = argv[optind];
	(void)snprintf(what, sizeof(what), "custodian remove %s",
	    argv[optind]);
	if ((ex = vault_signed_act(v, NULL, as, what, NULL, remove_op, &ca))
	    != 0)
		goto out;
	printf("custodian %s removed in %s; it takes effect when a custodian "
	    "quorum of the others has signed it (vault chain sign --as "
	    "CUSTODIAN)\n", argv[optind], draft_words(v));
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

static int
custodian_set(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "custodian-quorum", required_argument, NULL, OPT_QUORUM },
		{ "allow-soft-tokens", no_argument, NULL, OPT_SOFT },
		{ "refuse-soft-tokens", no_argument, NULL, OPT_HARD },
		{ "as",	required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct cu_act ca;
	const char *as = NULL;
	bg_vault_t *v = NULL;
	uint64_t quorum = 0;
	int c, soft = -1, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_QUORUM:
			if (vault_parse_uint(optarg, 2, 64, &quorum) != 0) {
				vault_errx("custodian set: --custodian-quorum "
				    "must be a number from 2 to 64");
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_AS:
			as = optarg;
			break;
		case OPT_SOFT:
		case OPT_HARD:
			if (soft >= 0 && soft != (c == OPT_SOFT)) {
				vault_errx("custodian set: --allow-soft-tokens "
				    "and --refuse-soft-tokens exclude each "
				    "other");
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			soft = c == OPT_SOFT;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc != optind || (quorum == 0 && soft < 0)) {
		if (argc == optind)
			vault_errx("custodian set: nothing to set");
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	memset(&ca, 0, sizeof(ca));
	ca.v = v;
	ca.quorum = (int)quorum;
	ca.soft = soft;
	if ((ex = vault_signed_act(v, NULL, as, "custodian set", NULL, set_op,
	    &ca)) != 0)
		goto out;
	printf("set in the vault's draft; it takes effect when a custodian "
	    "quorum has signed it (vault chain sign --as CUSTODIAN)\n");
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

#define TRUST_ARGS_MAX	32

static int
custodian_trust(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "fido-root", required_argument, NULL, OPT_FIDO_ROOT },
		{ "mds", required_argument, NULL, OPT_MDS },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "allow-aaguid", required_argument, NULL, OPT_AAGUID },
		{ "clear", no_argument, NULL, OPT_CLEAR },
		{ "as", required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct trust_ctx tc;
	const char *as = NULL;
	bg_vault_t *v = NULL;
	const char *fido_root = NULL, *mds = NULL, *roots[TRUST_ARGS_MAX];
	uint8_t aaguids[TRUST_ARGS_MAX][16];
	size_t n_roots = 0, n_aaguids = 0;
	bool clear = false;
	int c, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_FIDO_ROOT:
			fido_root = optarg;
			break;
		case OPT_MDS:
			mds = optarg;
			break;
		case OPT_ROOT:
			if (n_roots >= TRUST_ARGS_MAX) {
				vault_errx("custodian trust: at most %d --root "
				    "at once", TRUST_ARGS_MAX);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			roots[n_roots++] = optarg;
			break;
		case OPT_AAGUID:
			if (n_aaguids >= TRUST_ARGS_MAX ||
			    !vault_parse_aaguid(optarg, aaguids[n_aaguids])) {
				vault_errx("custodian trust: --allow-aaguid "
				    "takes 32 hex digits (at most %d at once)",
				    TRUST_ARGS_MAX);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			n_aaguids++;
			break;
		case OPT_CLEAR:
			clear = true;
			break;
		case OPT_AS:
			as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc != optind) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	tc.v = v;
	tc.fido_root = fido_root;
	tc.mds = mds;
	tc.roots = roots;
	tc.n_roots = n_roots;
	tc.aaguids = (const uint8_t (*)[16])aaguids;
	tc.n_aaguids = n_aaguids;
	tc.clear = clear;
	if ((ex = vault_signed_act(v, NULL, as, "custodian trust", NULL,
	    trust_op, &tc)) != 0)
		goto out;
	printf("trust store set in the vault's draft; it takes effect when a "
	    "custodian quorum has signed it (vault chain sign --as "
	    "CUSTODIAN)\n");
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

int
cmd_custodian(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "add") == 0)
		return custodian_add(argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return custodian_remove(argc - 1, argv + 1);
	if (strcmp(argv[1], "set") == 0)
		return custodian_set(argc - 1, argv + 1);
	if (strcmp(argv[1], "trust") == 0)
		return custodian_trust(argc - 1, argv + 1);
	return vault_subcommand_unknown("custodian", argv[1], usage);
}
