/*
 * vault release: the value once, to the terminal or to a new 0600 file.
 * The file is created (O_EXCL) before the release so that a name clash
 * cannot spend the version for nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault release REQUEST --as PERSON [--out FILE] [--token PATH] "
    "[--pin-file PATH]\n";

enum { OPT_AS = VOPT_LOCAL, OPT_OUT };

struct rel_ctx {
	bg_vault_t	*v;
	int64_t		 id;
	const char	*as;
	bg_token_t	*tok;
	uint8_t		*val;
	size_t		 len;
};

static int
rel_op(void *arg, const char *pin)
{
	struct rel_ctx *c = arg;

	return bg_vault_release(c->v, c->id, c->as, c->tok, pin, &c->val,
	    &c->len);
}

int
cmd_release(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",	required_argument, NULL, OPT_AS },
		{ "out", required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 }
	};
	struct rel_ctx rc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	bg_vault_request_info_t *q = NULL;
	bg_vault_secret_info_t *s = NULL;
	const char *out = NULL;
	char what[64], tb[32];
	int fd = -1, c, r, ex = VAULT_EXIT_FAIL, wr;
	bool created = false;

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
		case OPT_OUT:
			out = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 ||
	    vault_parse_request_id(argv[optind], &rc.id) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (rc.as == NULL) {
		vault_errx("release: --as PERSON is required");
		ex = vault_usage_err(usage);
		goto out;
	}
	snprintf(what, sizeof(what), "release %lld", (long long)rc.id);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	/* Everything but the token first: no file, PIN or touch for a
	 * release that would be refused anyway. */
	if ((r = bg_vault_request_show(v, rc.id, &q)) != BG_OK ||
	    (r = bg_vault_release_check(v, rc.id, rc.as)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	if (out != NULL) {
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0) {
			ex = VAULT_EXIT_FAIL;
			if (errno == EEXIST)
				vault_errx("%s: %s already exists; refusing to "
				    "overwrite it (nothing was released)", what,
				    out);
			else
				vault_errx("%s: cannot create %s: %s (nothing "
				    "was released)", what, out,
				    strerror(errno));
			goto out;
		}
		created = true;
	}
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	rc.v = v;
	rc.tok = tok;
	if ((ex = vault_with_pin(v, q->tenant, rc.as, tok, NULL, what, NULL,
	    rel_op, &rc)) != 0)
		goto out;
	/* The version is spent now: hand the value over and wipe it. */
	if (fd >= 0) {
		wr = vault_write_value(fd, rc.val, rc.len, false);
		if (wr == 0)
			wr = fsync(fd);
		if (close(fd) != 0)
			wr = -1;
		fd = -1;
	} else {
		/*
		 * Straight to the descriptor, not through stdio, whose buffer
		 * would keep a copy of the value until exit (tests/e2e/
		 * canary.sh looks for one); the newline only after the wipe.
		 */
		wr = fflush(stdout) == 0 ? vault_write_value(STDOUT_FILENO,
		    rc.val, rc.len, false) : -1;
	}
	sodium_memzero(rc.val, rc.len);
	sodium_free(rc.val);
	rc.val = NULL;
	if (out == NULL && wr == 0)
		wr = vault_write_value(STDOUT_FILENO, (const uint8_t *)"\n",
		    1, false);
	if (wr != 0) {
		vault_errx("%s: the value was released but could not be "
		    "written: %s; the version is spent, rotate it", what,
		    strerror(errno));
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	created = false;	/* keep the file */
	if (out != NULL)
		vault_note("value of %s/%s written to %s (mode 0600)",
		    q->tenant, q->secret, out);
	if (bg_vault_secret_show(v, q->tenant, q->secret, &s) == BG_OK)
		vault_note("released %s/%s version %d to %s; lease until %s.  "
		    "This version is now spent: rotate it (vault rotate begin "
		    "%s/%s).", q->tenant, q->secret, q->version, rc.as,
		    vault_fmt_time(s->lease_until, tb), q->tenant, q->secret);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	if (rc.val != NULL) {
		sodium_memzero(rc.val, rc.len);
		sodium_free(rc.val);
	}
	if (fd >= 0)
		close(fd);
	if (created && out != NULL)
		(void)unlink(out);	/* nothing was released into it */
	bg_vault_secret_free(&s);
	bg_vault_request_free(&q);
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}
