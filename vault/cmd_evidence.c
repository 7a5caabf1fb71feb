/*
 * vault evidence export | verify: the signed bundle of one incident, and
 * its check on any machine (verify never opens a vault file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault evidence export --request ID --out BUNDLE --as PERSON "
    "[--receipt LINE]\n"
    "       vault evidence verify BUNDLE [--pubkey HEX] [--receipt LINE]\n";

enum { OPT_REQUEST = VOPT_LOCAL, OPT_OUT, OPT_RECEIPT, OPT_PUBKEY, OPT_AS };

static const struct option longopts[] = {
	VAULT_GLOBAL_LONGOPTS,
	{ "request",	required_argument, NULL, OPT_REQUEST },
	{ "out",	required_argument, NULL, OPT_OUT },
	{ "receipt",	required_argument, NULL, OPT_RECEIPT },
	{ "pubkey",	required_argument, NULL, OPT_PUBKEY },
	{ NULL, 0, NULL, 0 }
};
static const struct option export_longopts[] = {
	VAULT_GLOBAL_LONGOPTS,
	{ "request",	required_argument, NULL, OPT_REQUEST },
	{ "out",	required_argument, NULL, OPT_OUT },
	{ "receipt",	required_argument, NULL, OPT_RECEIPT },
	{ "as",		required_argument, NULL, OPT_AS },
	{ NULL, 0, NULL, 0 }
};

/* The export is a signed act of the tenant's auditor (or an operator,
 * or a custodian). */
struct export_ctx {
	bg_vault_t	*v;
	int64_t		 id;
	const char	*receipt;
	char		*bundle;
};

static int
export_op(void *arg, const bg_vault_signer_t *by)
{
	struct export_ctx *e = arg;

	free(e->bundle);
	e->bundle = NULL;
	return bg_vault_evidence_export(e->v, by, e->id, e->receipt,
	    &e->bundle);
}

/* Read a whole file of at most BG_EVIDENCE_MAX bytes; 0 or an exit code. */
static int
read_all(const char *path, uint8_t **bufp, size_t *lenp)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t off = 0;
	ssize_t n;
	int fd, ex = VAULT_EXIT_FAIL;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		vault_errx("evidence verify: cannot open %s: %s", path,
		    strerror(errno));
		return errno == ENOENT ? VAULT_EXIT_NOTFOUND : VAULT_EXIT_FAIL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > BG_EVIDENCE_MAX) {
		vault_errx("evidence verify: %s is not a bundle (empty, not a "
		    "file, or larger than %u bytes)", path, BG_EVIDENCE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size)) == NULL)
		goto out;
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, buf + off, (size_t)sb.st_size - off)) < 0) {
			if (errno == EINTR)
				continue;
			vault_errx("evidence verify: reading %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*bufp = buf;
	*lenp = off;
	buf = NULL;
	ex = 0;
out:
	free(buf);
	(void)close(fd);
	return ex;
}

static int
evidence_export(int argc, char **argv)
{
	bg_vault_t *v = NULL;
	struct export_ctx ec;
	const char *out = NULL, *receipt = NULL, *as = NULL;
	char *bundle = NULL, what[64];
	int64_t id = 0;
	int c, ex = VAULT_EXIT_FAIL;

	memset(&ec, 0, sizeof(ec));
	while ((c = getopt_long(argc, argv, "h", export_longopts, NULL)) !=
	    -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_REQUEST:
			if (vault_parse_request_id(optarg, &id) != 0) {
				vault_errx("evidence export: bad request id "
				    "'%s'", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_RECEIPT:
			receipt = optarg;
			break;
		case OPT_AS:
			as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 0 || id == 0 || out == NULL) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ec.v = v;
	ec.id = id;
	ec.receipt = receipt;
	(void)snprintf(what, sizeof(what), "evidence export %lld",
	    (long long)id);
	ex = vault_signed_act(v, NULL, as, what, NULL, export_op, &ec);
	bundle = ec.bundle;
	if (ex != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if (vault_write_new(what, out, bundle) != 0)
		goto out;
	vault_note("evidence of request %lld written to %s", (long long)id,
	    out);
	vault_note("verify it anywhere with: vault evidence verify %s "
	    "--pubkey <the vault key from the ceremony log book>", out);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	free(bundle);
	bg_vault_close(&v);
	return ex;
}

static int
evidence_verify(int argc, char **argv)
{
	bg_evidence_result_t *res = NULL;
	const char *receipt = NULL, *hex = NULL, *path;
	uint8_t *buf = NULL, pk[32];
	size_t len = 0, i, got = 0;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_PUBKEY:
			hex = optarg;
			break;
		case OPT_RECEIPT:
			receipt = optarg;
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
	path = argv[optind];
	if (hex != NULL && (strlen(hex) != 64 || sodium_hex2bin(pk, sizeof(pk),
	    hex, 64, NULL, &got, NULL) != 0 || got != sizeof(pk))) {
		vault_errx("evidence verify: --pubkey wants the vault key as "
		    "64 hex digits");
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if ((ex = read_all(path, &buf, &len)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	r = bg_evidence_verify(buf, len, hex != NULL ? pk : NULL, receipt,
	    &res);
	if (res == NULL) {
		vault_err(r, "evidence verify %s", path);
		goto out;
	}
	printf("evidence bundle %s: request %lld of vault %s\n", path,
	    (long long)res->request_id, res->vault_id);
	for (i = 0; i < res->n_checks; i++) {
		if (res->checks[i].ok)
			printf("PASS %s\n", res->checks[i].what);
		else
			printf("FAIL %s: %s\n", res->checks[i].what,
			    res->checks[i].detail);
	}
	if (!res->pubkey_pinned)
		printf("NOTE the vault key %s was taken from the bundle itself; "
		    "compare it with the ceremony log book, or pass --pubkey\n",
		    res->pubkey_hex);
	if (r == BG_OK) {
		printf("evidence: PASS (%zu checks)\n", res->n_checks);
		ex = VAULT_EXIT_OK;
	} else {
		printf("evidence: FAIL (%zu of %zu checks failed)\n",
		    res->n_failed, res->n_checks);
		vault_errx("evidence verify: %s does not verify", path);
	}
out:
	free(buf);
	bg_evidence_result_free(&res);
	return ex;
}

int
cmd_evidence(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return evidence_export(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return evidence_verify(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return vault_usage_ok(usage);
	return vault_usage_err(usage);
}
