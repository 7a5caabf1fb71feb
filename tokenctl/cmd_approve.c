/*
 * tokenctl approve | deny: the approver's side of remote approval, on
 * their own machine with their token and no vault file (no SQLite is
 * linked into tokenctl: tests/e2e/remote_approval.sh checks).  The
 * checks are vault/remote.c's; this file reads the files, keeps the
 * witness state and the log of what was issued, shows the statement,
 * asks for the PIN and writes the approval packet.
 *
 * What this machine keeps (--state DIR, else $XDG_STATE_HOME/breakglass,
 * else ~/.local/state/breakglass, mode 0700):
 *   witness-<genesis>  the largest tree head of that vault it has checked
 *                      (one line, bg-witness-v1 ...);
 *   issued.log         one line per approval or denial it signed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "pin.h"
#include "qr.h"
#include "qrpart.h"
#include "remote.h"
#include "util.h"

#define PROG	"tokenctl"

static const char usage_approve[] =
    "usage: tokenctl approve {--card FILE | --card-qr DIR}\n"
    "                {--packet FILE | --packet-qr DIR} --out FILE\n"
    "                --token PATH [--pin-file FILE] [--state DIR] "
    "[--out-qr DIR] [--show-qr]\n";
static const char usage_deny[] =
    "usage: tokenctl deny {--card FILE | --card-qr DIR}\n"
    "                {--packet FILE | --packet-qr DIR} --out FILE\n"
    "                --reason TEXT --token PATH [--pin-file FILE] "
    "[--state DIR]\n"
    "                [--out-qr DIR] [--show-qr]\n";

enum { OPT_CARD = 0x100, OPT_PACKET, OPT_OUT, OPT_TOKEN, OPT_PIN_FILE,
    OPT_STATE, OPT_REASON, OPT_PACKET_QR, OPT_OUT_QR, OPT_SHOW_QR, OPT_CARD_QR };

/* Read a regular file of at most BG_REMOTE_MAX bytes. */
static int
read_file(const char *path, char **bufp, size_t *lenp)
{
	struct stat sb;
	char *buf = NULL;
	size_t off = 0;
	ssize_t n;
	int fd, r = BG_ERR_IO;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		bg_cli_errx(PROG, "cannot open %s: %s", path, strerror(errno));
		return errno == ENOENT ? BG_ERR_NOT_FOUND : BG_ERR_IO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size <= 0 || (uint64_t)sb.st_size > BG_REMOTE_MAX) {
		bg_cli_errx(PROG, "%s is empty, not a file, or larger than %u "
		    "bytes", path, BG_REMOTE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, buf + off, (size_t)sb.st_size - off)) < 0) {
			if (errno == EINTR)
				continue;
			bg_cli_errx(PROG, "reading %s: %s", path,
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
	r = BG_OK;
out:
	free(buf);
	(void)close(fd);
	return r;
}

/* Create path (O_EXCL, 0600) with s, synced; 0 or -1 (said). */
static int
write_new(const char *path, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;
	int fd, ret = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		bg_cli_errx(PROG, "%s %s", path, errno == EEXIST ?
		    "already exists; refusing to overwrite it" :
		    strerror(errno));
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, s + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	ret = 0;
out:
	if (fsync(fd) != 0 || close(fd) != 0)
		ret = -1;
	if (ret != 0) {
		bg_cli_errx(PROG, "writing %s: %s", path, strerror(errno));
		(void)unlink(path);
	}
	return ret;
}

/* The state directory, made 0700 if missing (malloc'd). */
static char *
state_dir(const char *opt)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *d = NULL, *p;

	if (opt != NULL)
		d = strdup(opt);
	else if (x != NULL && x[0] == '/')
		(void)(asprintf(&d, "%s/breakglass", x) < 0 ? (d = NULL) : 0);
	else if (home != NULL && home[0] == '/')
		(void)(asprintf(&d, "%s/.local/state/breakglass", home) < 0 ?
		    (d = NULL) : 0);
	if (d == NULL) {
		bg_cli_errx(PROG, "no state directory: give --state DIR (or set "
		    "HOME)");
		return NULL;
	}
	/* mkdir -p, each new level 0700 */
	for (p = d + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(d, 0700) != 0 && errno != EEXIST) {
				bg_cli_errx(PROG, "cannot make %s: %s", d,
				    strerror(errno));
				free(d);
				return NULL;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return d;
}

/* Replace path's content with s atomically (tmp, fsync, rename). */
static int
replace_file(const char *path, const char *s)
{
	char *tmp = NULL;
	int ret = -1;

	if (asprintf(&tmp, "%s.new", path) < 0)
		return -1;
	(void)unlink(tmp);
	if (write_new(tmp, s) != 0)
		goto out;
	if (rename(tmp, path) != 0) {
		bg_cli_errx(PROG, "cannot replace %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	return ret;
}

static int
append_line(const char *path, const char *line)
{
	int fd, ret = -1;
	size_t len = strlen(line);

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		return -1;
	if (write(fd, line, len) == (ssize_t)len && fsync(fd) == 0)
		ret = 0;
	if (close(fd) != 0)
		ret = -1;
	return ret;
}

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

struct sign_ctx {
	const bg_card_t		*card;
	const bg_remote_check_t	*ck;
	bg_token_t		*tok;
	const char		*path;
	int			 decision;
	const char		*reason;
	bg_apppkt_t		*out;
	char			 why[BG_REMOTE_WHY_MAX];
};

static int
sign_try(void *arg, const char *pin)
{
	struct sign_ctx *s = arg;
	int r;

	fprintf(stderr, "Touch your token now (%s).\n", s->path);
	r = bg_remote_sign(s->card, s->ck, s->tok, pin, s->decision,
	    s->reason, &s->out, s->why, sizeof(s->why));
	if (r == BG_ERR_TOKEN_PIN_INVALID) {
		bg_cli_token_err(PROG, s->tok, r, "%s", s->path);
		s->why[0] = '\0';
	}
	return r;
}

static int
approve_or_deny(int argc, char **argv, bool deny)
{
	static const struct option longopts[] = {
		{ "card",	required_argument, NULL, OPT_CARD },
		{ "packet",	required_argument, NULL, OPT_PACKET },
		{ "out",	required_argument, NULL, OPT_OUT },
		{ "token",	required_argument, NULL, OPT_TOKEN },
		{ "pin-file",	required_argument, NULL, OPT_PIN_FILE },
		{ "state",	required_argument, NULL, OPT_STATE },
		{ "reason",	required_argument, NULL, OPT_REASON },
		{ "card-qr",	required_argument, NULL, OPT_CARD_QR },
		{ "packet-qr",	required_argument, NULL, OPT_PACKET_QR },
		{ "out-qr",	required_argument, NULL, OPT_OUT_QR },
		{ "show-qr",	no_argument,	   NULL, OPT_SHOW_QR },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *usage = deny ? usage_deny : usage_approve;
	const char *card_path = NULL, *pkt_path = NULL, *out_path = NULL;
	const char *tok_path = NULL, *pin_file = NULL, *state = NULL;
	const char *reason = NULL, *pwhy = NULL, *pkt_qr = NULL, *card_qr = NULL;
	const char *out_qr = NULL;
	bool show_qr = false;
	uint8_t *qbuf = NULL;
	char qwhy[BG_QR_WHY_MAX];
	size_t nq = 0;
	struct sign_ctx sc;
	bg_card_t *card = NULL;
	bg_reqpkt_t *pkt = NULL;
	bg_remote_check_t *ck = NULL;
	bg_witness_t w, wnew;
	bg_token_t *tok = NULL;
	char *cbuf = NULL, *pbuf = NULL, *dir = NULL, *wpath = NULL;
	char *wtext = NULL, *text = NULL, *logp = NULL, *line = NULL;
	char why[BG_REMOTE_WHY_MAX], g[65], wl[256], heading[256];
	uint8_t sh[32];
	size_t clen = 0, plen = 0;
	bool have_w = false;
	int c, r, ex = BG_EXIT_FAIL;

	memset(&sc, 0, sizeof(sc));
	memset(&w, 0, sizeof(w));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CARD:		card_path = optarg;	break;
		case OPT_PACKET:	pkt_path = optarg;	break;
		case OPT_OUT:		out_path = optarg;	break;
		case OPT_TOKEN:		tok_path = optarg;	break;
		case OPT_PIN_FILE:	pin_file = optarg;	break;
		case OPT_STATE:		state = optarg;		break;
		case OPT_CARD_QR:	card_qr = optarg;	break;
		case OPT_PACKET_QR:	pkt_qr = optarg;	break;
		case OPT_OUT_QR:	out_qr = optarg;	break;
		case OPT_SHOW_QR:	show_qr = true;		break;
		case OPT_REASON:
			if (!deny)
				goto usage;
			reason = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			ex = BG_EXIT_OK;
			goto out;
		default:
			goto usage;
		}
	}
	if (optind != argc || (card_path == NULL) == (card_qr == NULL) ||
	    (pkt_path == NULL) == (pkt_qr == NULL) || out_path == NULL || tok_path == NULL || (deny && reason == NULL))
		goto usage;
	if (deny && !bg_chain_text_ok(reason, BG_CHAIN_REASON_MAX)) {
		bg_cli_errx(PROG, "deny: --reason must be valid UTF-8 without "
		    "control characters, at most %d bytes", BG_CHAIN_REASON_MAX);
		ex = BG_EXIT_USAGE;
		goto out;
	}
	if (card_qr != NULL) {
		/* the card is named by its directory from here on */
		card_path = card_qr;
		if (bg_qr_read_packet(card_qr, &qbuf, &clen, qwhy,
		    sizeof(qwhy)) != BG_OK) {
			bg_cli_errx(PROG, "the card %s: %s", card_qr, qwhy);
			goto out;
		}
		cbuf = (char *)qbuf;
		qbuf = NULL;
	} else if ((r = read_file(card_path, &cbuf, &clen)) != BG_OK)
		goto out;
	if (pkt_qr != NULL) {
		/* the packet is named by its directory from here on */
		pkt_path = pkt_qr;
		if (bg_qr_read_packet(pkt_qr, &qbuf, &plen, qwhy,
		    sizeof(qwhy)) != BG_OK) {
			bg_cli_errx(PROG, "the packet %s: %s", pkt_qr, qwhy);
			goto out;
		}
		pbuf = (char *)qbuf;
		qbuf = NULL;
	} else if ((r = read_file(pkt_path, &pbuf, &plen)) != BG_OK)
		goto out;
	if (bg_card_parse(cbuf, clen, &card, why, sizeof(why)) != BG_OK) {
		bg_cli_errx(PROG, "the card %s: %s", card_path, why);
		goto out;
	}
	if (bg_reqpkt_parse(pbuf, plen, &pkt, why, sizeof(why)) != BG_OK) {
		bg_cli_errx(PROG, "the packet %s: %s", pkt_path, why);
		goto out;
	}
	/* the witness state of this vault, if this machine has one */
	if ((dir = state_dir(state)) == NULL)
		goto out;
	(void)sodium_bin2hex(g, sizeof(g), card->genesis, 32);
	if (asprintf(&wpath, "%s/witness-%s", dir, g) < 0 ||
	    asprintf(&logp, "%s/issued.log", dir) < 0) {
		wpath = logp = NULL;
		goto out;
	}
	if (access(wpath, F_OK) == 0) {
		if ((r = read_file(wpath, &wtext, &clen)) != BG_OK)
			goto out;
		if (bg_witness_parse(wtext, &w, why, sizeof(why)) != BG_OK ||
		    sodium_memcmp(w.genesis, card->genesis, 32) != 0) {
			bg_cli_errx(PROG, "%s is damaged (%s): move it aside to "
			    "fall back to your card's tree head", wpath, why);
			goto out;
		}
		have_w = true;
	} else
		fprintf(stderr, "No witness state for this vault on this "
		    "machine: the log is checked against your card's tree "
		    "head (size %llu).\n", (unsigned long long)card->th.size);
	if (bg_remote_check(card, pkt, have_w ? &w : NULL, (int64_t)time(NULL),
	    &ck, &wnew, why, sizeof(why)) != BG_OK) {
		bg_cli_errx(PROG, "refusing the packet %s: %s", pkt_path, why);
		goto out;
	}
	(void)snprintf(heading, sizeof(heading), "%s, you are asked to %s "
	    "this request.  Read it before you touch your token:",
	    card->person, deny ? "DENY" : "APPROVE");
	show_statement(heading, bg_remote_check_text(ck));
	if (deny)
		fprintf(stderr, "    (your reason: %s)\n", reason);
	fprintf(stderr, "    (checked here: the requester's signature, the "
	    "keyset chain from your card, the log extends size %llu)\n",
	    (unsigned long long)(have_w && w.size > card->th.size ? w.size :
	    card->th.size));
	if ((r = bg_token_open(tok_path, &tok)) != BG_OK) {
		bg_cli_token_err(PROG, NULL, r, "%s", tok_path);
		ex = bg_cli_exit_code(r);
		goto out;
	}
	sc.card = card;
	sc.ck = ck;
	sc.tok = tok;
	sc.path = tok_path;
	sc.decision = deny ? BG_REMOTE_DENY : BG_REMOTE_APPROVE;
	sc.reason = reason;
	r = bg_pin_try(pin_file, "PIN: ", sign_try, &sc, &pwhy);
	if (r != BG_OK) {
		if (pwhy != NULL)
			bg_cli_errx(PROG, "%s: %s", tok_path, pwhy);
		else if (sc.why[0] != '\0')
			bg_cli_errx(PROG, "%s", sc.why);
		else if (r != BG_ERR_TOKEN_PIN_INVALID)
			bg_cli_token_err(PROG, tok, r, "%s", tok_path);
		ex = bg_cli_exit_code(r);
		goto out;
	}
	/* Signed: it counts toward exposure whether or not it is ever
	 * imported.  The log says so first, then the state moves on. */
	crypto_hash_sha256(sh, (const uint8_t *)sc.out->statement,
	    strlen(sc.out->statement));
	(void)sodium_bin2hex(g, sizeof(g), sh, 32);
	if (asprintf(&line, "%lld vault=%s request=%lld person=%s %s "
	    "statement=%s tree-size=%llu out=%s\n", (long long)time(NULL),
	    card->vault_id, (long long)pkt->request, card->person,
	    deny ? "deny" : "approve", g, (unsigned long long)pkt->th.size,
	    out_path) < 0) {
		line = NULL;
		goto out;
	}
	if (append_line(logp, line) != 0) {
		bg_cli_errx(PROG, "cannot append to %s: %s (nothing written)",
		    logp, strerror(errno));
		goto out;
	}
	if (bg_witness_format(&wnew, wl, sizeof(wl)) != BG_OK ||
	    replace_file(wpath, wl) != 0)
		goto out;
	if (bg_apppkt_encode(sc.out, &text) != BG_OK || write_new(out_path,
	    text) != 0)
		goto out;
	printf("%s of request %lld written to %s (%zu bytes); carry it to the "
	    "vault: vault packet import %s\n", deny ? "denial" : "approval",
	    (long long)pkt->request, out_path, strlen(text), out_path);
	if (out_qr != NULL) {
		if (bg_qr_write_dir((const uint8_t *)text, strlen(text), out_qr,
		    &nq, qwhy, sizeof(qwhy)) != BG_OK) {
			bg_cli_errx(PROG, "%s", qwhy);
			goto out;
		}
		printf("%zu QR code%s written to %s (part-K-of-%zu.png, at most "
		    "%u bytes a part); at the vault: vault packet import --qr "
		    "%s\n", nq, nq == 1 ? "" : "s", out_qr, nq,
		    BG_QRPART_BYTES, out_qr);
	}
	if (show_qr && bg_qr_print(stdout, (const uint8_t *)text,
	    strlen(text), isatty(STDOUT_FILENO) == 1, qwhy,
	    sizeof(qwhy)) != BG_OK) {
		bg_cli_errx(PROG, "%s", qwhy);
		goto out;
	}
	ex = BG_EXIT_OK;
	goto out;
usage:
	fputs(usage, stderr);
	ex = BG_EXIT_USAGE;
out:
	bg_apppkt_free(&sc.out);
	bg_remote_check_free(&ck);
	bg_reqpkt_free(&pkt);
	free(card);
	bg_token_close(&tok);
	free(cbuf);
	free(pbuf);
	free(qbuf);
	free(wtext);
	free(text);
	free(line);
	free(dir);
	free(wpath);
	free(logp);
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
