/*
 * vault: the breakglass vault program.  Parses the global options that
 * stand before the verb, then dispatches by table to cmd_<verb>() (one file
 * per verb, each with its own getopt_long, which also accepts the global
 * options after the verb).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmd_util.h"
#include "cmds.h"
#include "harden.h"

/* Both set by the Makefile from VERSION and the source commit (git). */
#ifndef BG_VERSION
#define BG_VERSION	"unknown"
#endif
#ifndef BG_COMMIT
#define BG_COMMIT	"unknown"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} verbs[] = {
	{ "init",	cmd_init,	"create a vault file with its first custodian" },
	{ "custodian",	cmd_custodian,	"add or remove custodians; the vault's trust settings" },
	{ "chain",	cmd_chain,	"show, sign or discard a keyset chain's draft" },
	{ "rekey",	cmd_rekey,	"move sealed versions to the newest link" },
	{ "tenant",	cmd_tenant,	"add, list or show tenants" },
	{ "member",	cmd_member,	"enroll, list or remove a person's token" },
	{ "policy",	cmd_policy,	"set or show a tenant's approval policy" },
	{ "secret",	cmd_secret,	"seal a credential; list or show metadata" },
	{ "request",	cmd_request,	"ask for a credential; show or list requests" },
	{ "approve",	cmd_approve,	"approve a request with your token" },
	{ "deny",	cmd_deny,	"deny a request with your token" },
	{ "packet",	cmd_packet,	"approve away from the vault: cards and packets" },
	{ "release",	cmd_release,	"open an approved credential, once" },
	{ "ceremony",	cmd_ceremony,	"request, approvals and release in one sitting" },
	{ "rotate",	cmd_rotate,	"begin, commit or abort a rotation" },
	{ "status",	cmd_status,	"open requests, leases, rotations due" },
	{ "check",	cmd_check,	"exit non-zero while anything is overdue" },
	{ "audit",	cmd_audit,	"print the audit log" },
	{ "backup",	cmd_backup,	"copy the vault, its key and a signed tree head" },
	{ "restore",	cmd_restore,	"verify a backup and put it in place" },
	{ "report",	cmd_report,	"incident review: text, JSON or HTML timeline" },
	{ "evidence",	cmd_evidence,	"export or verify an incident's signed evidence" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vault [--vault PATH] [--token PATH] "
	    "[--pin-file PATH] [--json]\n"
	    "             COMMAND [ARGS...]\n"
	    "       vault --help | --version\n"
	    "       vault COMMAND --help\n\ncommands:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].what);
	fprintf(f, "\nSee vault(1).\n");
}

/*
 * The SHA-256 of the running program (/proc/self/exe) as hex, so that a
 * custodian can check the binary against the one a reproducible build of
 * the named commit gives.  Returns 0, or -1 with errno set.
 */
static int
self_sha256(char hex[crypto_hash_sha256_BYTES * 2 + 1])
{
	crypto_hash_sha256_state st;
	unsigned char buf[65536], md[crypto_hash_sha256_BYTES];
	ssize_t n;
	int fd = -1, r = -1, saved;

	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) == -1)
		goto out;
	if (crypto_hash_sha256_init(&st) != 0)
		goto out;
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		if (crypto_hash_sha256_update(&st, buf, (unsigned long long)n) != 0)
			goto out;
	}
	if (crypto_hash_sha256_final(&st, md) != 0)
		goto out;
	(void)sodium_bin2hex(hex, crypto_hash_sha256_BYTES * 2 + 1, md,
	    sizeof(md));
	r = 0;
out:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	errno = saved;
	return r;
}

/* --version: version, source commit and the running binary's SHA-256. */
static int
print_version(void)
{
	char hex[crypto_hash_sha256_BYTES * 2 + 1];

	if (self_sha256(hex) != 0) {
		vault_errx("--version: cannot hash the running program "
		    "(/proc/self/exe): %s; is /proc mounted?", strerror(errno));
		return VAULT_EXIT_FAIL;
	}
	printf("vault (breakglass) %s\n"
	    "commit %s\n"
	    "sha256 %s\n", BG_VERSION, BG_COMMIT, hex);
	return VAULT_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "version",	no_argument,	NULL, VOPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const char *why = NULL;
	int c, r;
	size_t i;

	if (bg_harden_process(&why) != BG_OK) {
		vault_errx("process hardening failed: %s",
		    why != NULL ? why : "unknown step");
		return VAULT_EXIT_FAIL;
	}
	opterr = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return VAULT_EXIT_OK;
		case VOPT_VERSION:
			return print_version();
		default:
			usage(stderr);
			return VAULT_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return VAULT_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[0], verbs[i].name) != 0)
			continue;
		if ((r = bg_token_init()) != BG_OK) {
			vault_err(r, "token layer");
			return vault_exit(r);
		}
		optind = 0;	/* GNU: reinitialise for the verb */
		fflush(stderr);
		r = verbs[i].fn(argc, argv);
		if (fflush(stdout) != 0 && r == VAULT_EXIT_OK) {
			vault_errx("writing standard output failed (what the "
			    "command changed is recorded in the vault)");
			r = VAULT_EXIT_FAIL;
		}
		return r;
	}
	vault_errx("unknown command '%s' (try vault --help)", argv[0]);
	return VAULT_EXIT_USAGE;
}
