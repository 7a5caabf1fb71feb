/*
 * vault packet card | export | import: remote approval across the air
 * gap (docs/remote-approval.md).  The approver's side is `tokenctl
 * approve` on their own machine, with no vault file.
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

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"
#include "qr.h"
#include "qrpart.h"

#define PACKET_MAX	(4u * 1024u * 1024u)

static const char usage[] =
    "usage: vault packet card TENANT --as PERSON --out FILE [--token PATH] "
    "[--pin-file PATH]\n"
    "                [--out-qr DIR] [--show-qr]\n"
    "       vault packet export REQUEST --for PERSON --out FILE --as PERSON\n"
    "                [--out-qr DIR] [--show-qr]\n"
    "       vault packet import FILE\n"
    "       vault packet import --qr DIR\n";

enum { OPT_OUT = VOPT_LOCAL, OPT_FOR, OPT_AS, OPT_OUT_QR, OPT_SHOW_QR,
    OPT_QR };

/* The packet s as QR codes: images in dir (when not NULL), and on the
 * terminal (when show); 0 or -1 (said). */
static int
qr_out(const char *what, const char *s, const char *dir, bool show)
{
	char why[BG_QR_WHY_MAX];
	size_t n = 0, len = strlen(s);

	if (dir != NULL) {
		if (bg_qr_write_dir((const uint8_t *)s, len, dir, &n, why,
		    sizeof(why)) != BG_OK) {
			vault_errx("%s: %s", what, why);
			return -1;
		}
		printf("%zu QR code%s written to %s (part-K-of-%zu.png, at most "
		    "%u bytes a part)\n", n, n == 1 ? "" : "s", dir, n,
		    BG_QRPART_BYTES);
	}
	if (show && bg_qr_print(stdout, (const uint8_t *)s, len,
	    isatty(STDOUT_FILENO) == 1, why, sizeof(why)) != BG_OK) {
		vault_errx("%s: %s", what, why);
		return -1;
	}
	return 0;
}

/* Read a whole regular file of at most PACKET_MAX bytes; 0 or an exit
 * code (the error said). */
static int
read_all(const char *what, const char *path, char **bufp, size_t *lenp)
{
	struct stat sb;
	char *buf = NULL;
	size_t off = 0;
	ssize_t n;
	int fd, ex = VAULT_EXIT_FAIL;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		vault_errx("%s: cannot open %s: %s", what, path,
		    strerror(errno));
		return errno == ENOENT ? VAULT_EXIT_NOTFOUND : VAULT_EXIT_FAIL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > PACKET_MAX) {
		vault_errx("%s: %s is not a packet (empty, not a file, or larger "
		    "than %u bytes)", what, path, PACKET_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, buf + off, (size_t)sb.st_size - off)) < 0) {
			if (errno == EINTR)
				continue;
			vault_errx("%s: reading %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	*bufp = buf;
	*lenp = off;
	buf = NULL;
	ex = 0;
out:
	free(buf);
	(void)close(fd);
	return ex;
}

struct card_ctx {
	bg_vault_t	*v;
	const char	*tenant, *person;
	bg_token_t	*tok;
	char		*card;
};

static int
card_op(void *arg, const char *pin)
{
	struct card_ctx *c = arg;

	return bg_vault_member_card(c->v, c->tenant, c->person, c->tok, pin,
	    NULL, &c->card);
}

static int
packet_card(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "out",	required_argument, NULL, OPT_OUT },
		{ "as",		required_argument, NULL, OPT_AS },
		{ "out-qr",	required_argument, NULL, OPT_OUT_QR },
		{ "show-qr",	no_argument,	   NULL, OPT_SHOW_QR },
		{ NULL, 0, NULL, 0 }
	};
	struct card_ctx cc;
	bg_vault_t *v = NULL;
	bg_token_t *tok = NULL;
	const char *out = NULL, *qrdir = NULL;
	bool show = false;
	char *body = NULL, what[160];
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&cc, 0, sizeof(cc));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_AS:
			cc.person = optarg;
			break;
		case OPT_OUT_QR:
			qrdir = optarg;
			break;
		case OPT_SHOW_QR:
			show = true;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 || out == NULL || cc.person == NULL) {
		ex = vault_usage_err(usage);
		goto out;
	}
	cc.tenant = argv[optind];
	(void)snprintf(what, sizeof(what), "packet card %s %s", cc.tenant,
	    cc.person);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_member_card(v, cc.tenant, cc.person, NULL, NULL,
	    &body, NULL)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	fprintf(stderr, "%s, your membership card for %s (what your own "
	    "machine will trust when you approve away from the vault):\n"
	    "    %s\nCheck the chain head and your key fingerprints against "
	    "`vault chain show`, then touch your token.\n", cc.person,
	    cc.tenant, body);
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		goto out;
	cc.v = v;
	cc.tok = tok;
	if ((ex = vault_with_pin(v, cc.tenant, cc.person, tok, NULL, what,
	    NULL, card_op, &cc)) != 0)
		goto out;
	if (vault_write_new(what, out, cc.card) != 0) {
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	printf("membership card of %s (%s) written to %s (%zu bytes)\n",
	    cc.person, cc.tenant, out, strlen(cc.card));
	if (qr_out(what, cc.card, qrdir, show) != 0) {
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	ex = VAULT_EXIT_OK;
out:
	free(body);
	free(cc.card);
	bg_token_close(&tok);
	bg_vault_close(&v);
	return ex;
}

/* export: a signed act of a requester, an operator or a custodian. */
struct export_ctx {
	bg_vault_t	*v;
	int64_t		 id, size;
	const char	*person;
	char		*pkt;
};

static int
export_op(void *arg, const bg_vault_signer_t *by)
{
	struct export_ctx *e = arg;

	free(e->pkt);
	e->pkt = NULL;
	return bg_vault_packet_export(e->v, by, e->id, e->person, &e->pkt,
	    &e->size);
}

static int
packet_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "for",	required_argument, NULL, OPT_FOR },
		{ "out",	required_argument, NULL, OPT_OUT },
		{ "as",		required_argument, NULL, OPT_AS },
		{ "out-qr",	required_argument, NULL, OPT_OUT_QR },
		{ "show-qr",	no_argument,	   NULL, OPT_SHOW_QR },
		{ NULL, 0, NULL, 0 }
	};
	struct export_ctx ec;
	bg_vault_t *v = NULL;
	const char *out = NULL, *person = NULL, *as = NULL, *qrdir = NULL;
	bool show = false;
	char *pkt = NULL, what[96];
	int64_t id = 0, size = 0;
	int c, ex = VAULT_EXIT_FAIL;

	memset(&ec, 0, sizeof(ec));

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_FOR:
			person = optarg;
			break;
		case OPT_AS:
			as = optarg;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_OUT_QR:
			qrdir = optarg;
			break;
		case OPT_SHOW_QR:
			show = true;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1 || person == NULL || out == NULL ||
	    vault_parse_request_id(argv[optind], &id) != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "packet export %lld",
	    (long long)id);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ec.v = v;
	ec.id = id;
	ec.person = person;
	ex = vault_signed_act(v, NULL, as, what, NULL, export_op, &ec);
	pkt = ec.pkt;
	size = ec.size;
	if (ex != 0)
		goto out;
	if (vault_write_new(what, out, pkt) != 0) {
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	printf("request packet of request %lld for %s written to %s (%zu "
	    "bytes, log of %lld events)\n", (long long)id, person, out,
	    strlen(pkt), (long long)size);
	if (qr_out(what, pkt, qrdir, show) != 0) {
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	vault_note("carry it to %s; they run: tokenctl approve --card CARD "
	    "--packet %s --out APPROVAL", person, out);
	ex = VAULT_EXIT_OK;
out:
	free(pkt);
	bg_vault_close(&v);
	return ex;
}

static int
packet_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "qr",		required_argument, NULL, OPT_QR },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_request_info_t *q = NULL;
	const char *qrdir = NULL, *from;
	char *buf = NULL, what[96], why[BG_QR_WHY_MAX];
	uint8_t *qbuf = NULL;
	size_t len = 0;
	int64_t id = 0;
	int c, r, decision = 0, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == 'h') {
			ex = vault_usage_ok(usage);
			goto out;
		}
		if (c == OPT_QR) {
			qrdir = optarg;
			continue;
		}
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind != (qrdir == NULL ? 1 : 0)) {
		ex = vault_usage_err(usage);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "packet import");
	if (qrdir != NULL) {
		from = qrdir;
		if (bg_qr_read_packet(qrdir, &qbuf, &len, why, sizeof(why)) !=
		    BG_OK) {
			vault_errx("%s: %s", what, why);
			goto out;
		}
		buf = (char *)qbuf;
		qbuf = NULL;
	} else {
		from = argv[optind];
		if ((ex = read_all(what, from, &buf, &len)) != 0)
			goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_packet_import(v, buf, len, &id, &decision)) !=
	    BG_OK) {
		ex = vault_fail(v, r, "%s %s", what, from);
		goto out;
	}
	printf("request %lld %s (remote approval packet)\n", (long long)id,
	    decision == 1 ? "approved" : "denied");
	if (decision == 1 && bg_vault_request_show(v, id, &q) == BG_OK)
		printf("%s\n", q->satisfied ? "the policy is met: the "
		    "requester can release now" : q->missing);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_request_free(&q);
	free(qbuf);
	free(buf);
	bg_vault_close(&v);
	return ex;
}

int
cmd_packet(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "card") == 0)
		return packet_card(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return packet_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "import") == 0)
		return packet_import(argc - 1, argv + 1);
	return vault_subcommand_unknown("packet", argv[1], usage);
}
