/*
 * vault init: create a new vault file and its genesis draft with the
 * first custodian (--as, with --token).  The other custodians enroll
 * with vault custodian add; the genesis takes effect when every
 * custodian it names has signed it (vault chain sign --as CUSTODIAN).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "breakglass/vault_chain.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault init --as CUSTODIAN [--allow-soft-tokens] "
    "[--custodian-quorum N]\n"
    "                  [--fido-root FILE] [--mds FILE] [--root FILE] "
    "[--allow-aaguid HEX]\n"
    "                  [--label LABEL] [--token PATH] [--pin-file PATH]\n";

enum { OPT_SOFT = VOPT_LOCAL, OPT_AS, OPT_QUORUM, OPT_LABEL, OPT_FIDO_ROOT,
    OPT_MDS, OPT_ROOT, OPT_AAGUID };

#define TRUST_ARGS_MAX	32

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "allow-soft-tokens", no_argument, NULL, OPT_SOFT },
		{ "as",		required_argument, NULL, OPT_AS },
		{ "custodian-quorum", required_argument, NULL, OPT_QUORUM },
		{ "label",	required_argument, NULL, OPT_LABEL },
		{ "fido-root",	required_argument, NULL, OPT_FIDO_ROOT },
		{ "mds",	required_argument, NULL, OPT_MDS },
		{ "root",	required_argument, NULL, OPT_ROOT },
		{ "allow-aaguid", required_argument, NULL, OPT_AAGUID },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_signer_t init_by;
	const char *fido_root = NULL, *mds = NULL, *roots[TRUST_ARGS_MAX];
	uint8_t aaguids[TRUST_ARGS_MAX][16];
	size_t n_roots = 0, n_aaguids = 0;
	bg_vault_t *v = NULL;
	bg_vault_log_head_t h;
	const char *as = NULL, *label = NULL;
	char *path = NULL, msg[512];
	uint64_t quorum = 2;
	bool soft = false, created = false;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_SOFT:
			soft = true;
			break;
		case OPT_AS:
			as = optarg;
			break;
		case OPT_LABEL:
			label = optarg;
			break;
		case OPT_QUORUM:
			if (vault_parse_uint(optarg, 2, 64, &quorum) != 0) {
				vault_errx("init: --custodian-quorum must be a "
				    "number from 2 to 64");
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_FIDO_ROOT:
			fido_root = optarg;
			break;
		case OPT_MDS:
			mds = optarg;
			break;
		case OPT_ROOT:
			if (n_roots >= TRUST_ARGS_MAX) {
				vault_errx("init: at most %d --root",
				    TRUST_ARGS_MAX);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			roots[n_roots++] = optarg;
			break;
		case OPT_AAGUID:
			if (n_aaguids >= TRUST_ARGS_MAX ||
			    !vault_parse_aaguid(optarg, aaguids[n_aaguids])) {
				vault_errx("init: --allow-aaguid takes 32 hex "
				    "digits (at most %d)", TRUST_ARGS_MAX);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			n_aaguids++;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (optind != argc) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (as == NULL) {
		vault_errx("init: --as CUSTODIAN is required: a vault starts "
		    "with its custodians, each with their own token");
		ex = vault_usage_err(usage);
		goto out;
	}
	/* A production vault vets its tokens from the genesis on: its
	 * custodians' too (docs/security.md, "Vetted tokens"). */
	if (!soft && !(fido_root != NULL && mds != NULL) &&
	    !(n_roots > 0 && n_aaguids > 0)) {
		vault_errx("init: a production vault pins a trust store in its "
		    "genesis: give --fido-root FILE with --mds FILE, or --root "
		    "FILE with --allow-aaguid HEX (or --allow-soft-tokens for "
		    "a drill vault)");
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if ((path = vault_path(true)) == NULL)
		goto out;
	if ((r = bg_vault_create_msg(path, soft, as, &v, msg,
	    sizeof(msg))) != BG_OK) {
		if (r == BG_ERR_EXISTS)
			vault_errx("init: %s already exists; refusing to "
			    "overwrite it", path);
		else if (msg[0] != '\0')
			vault_errx("init: %s", msg);
		else
			(void)vault_fail(NULL, r, "init: %s", path);
		ex = vault_exit(r);
		goto out;
	}
	created = true;
	/* Into the genesis draft before anyone enrolls (no signature: the
	 * custodians' signatures on the genesis vouch for it). */
	init_by.person = as;
	init_by.tok = NULL;
	init_by.pin = NULL;
	if ((fido_root != NULL || mds != NULL || n_roots > 0 ||
	    n_aaguids > 0) && (r = bg_vault_custodian_trust(v, &init_by,
	    fido_root, mds, roots, n_roots, (const uint8_t (*)[16])aaguids,
	    n_aaguids, false)) != BG_OK) {
		ex = vault_fail(v, r, "init");
		goto out;
	}
	if ((ex = vault_custodian_enroll(v, "init", as, label, (int)quorum))
	    != 0)
		goto out;
	printf("created vault %s\n", path);
	printf("  vault id:         %s\n", bg_vault_id(v));
	printf("  relying party:    %s\n", bg_vault_rp_id(v));
	printf("  software tokens:  %s\n", soft ?
	    "accepted (test/drill vault)" : "refused (production vault)");
	printf("  custodian quorum: %llu\n", (unsigned long long)quorum);
	if (fido_root != NULL || mds != NULL || n_roots > 0 || n_aaguids > 0)
		printf("  trust store:      %s%zu vendor root%s, %zu AAGUID%s "
		    "(vault chain show prints it)\n", mds != NULL ?
		    "metadata BLOB, " : "", n_roots, n_roots == 1 ? "" : "s",
		    n_aaguids, n_aaguids == 1 ? "" : "s");
	printf("  first custodian:  %s\n", as);
	{
		char sf[17], mf[17];

		bg_vault_enrolled_fingerprints(v, sf, mf);
		printf("  %s's signing key: %s (check it in vault chain show "
		    "before anyone signs)\n", as, sf);
	}
	/* Auditors pin this key: write it in the ceremony log book. */
	if (bg_vault_log_head(v, &h) == BG_OK) {
		printf("  log key:          %s\n", h.public_key);
		printf("  receipt:          %s\n", h.receipt);
	}
	printf("next: every other custodian runs 'vault custodian add NAME', "
	    "then each custodian 'vault chain sign --as NAME'\n");
	created = false;
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	/* a vault whose first custodian could not enroll is no vault */
	if (created)
		bg_vault_unlink(path);
	free(path);
	return ex;
}
