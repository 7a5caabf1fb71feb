/*
 * tokenctl soft create | soft serve: the software authenticator's front
 * end for people and scripts.  The daemon stays in the foreground (scripts
 * background it with & and wait for the "ready" line; a supervisor can run
 * it as is): a self-daemonising test token would only outlive its test.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "cmds.h"
#include "soft/serve.h"
#include "soft/soft.h"
#include "util.h"

static const char usage_text[] =
    "usage: tokenctl soft create --state FILE [--attestation-cert FILE "
    "--attestation-key FILE\n"
    "           [--attestation-chain FILE] --aaguid HEX]\n"
    "       tokenctl soft serve --state FILE --socket PATH [--no-presence] "
    "[--no-uv] [--pin-protocols LIST] [--no-cred-protect]\n"
    "           [--touch-delay MS]\n";

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
usage(FILE *f, int code)
{
	(void)fputs(usage_text, f);
	return code;
}

static void
rnd(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

static void
log_line(void *ctx, const char *line)
{
	(void)ctx;
	(void)fprintf(stderr, "%s\n", line);
	(void)fflush(stderr);
}

/* "1", "2", "1,2" or "2,1" -> bg_soft_opts_t.pin_protocols */
static int
parse_protocols(const char *s, uint8_t *out)
{
	uint8_t bits = 0;
	const char *p = s;

	if (*p == '\0')
		return BG_ERR_INVALID_ARG;
	for (;;) {
		if (*p != '1' && *p != '2')
			return BG_ERR_INVALID_ARG;
		bits |= (uint8_t)(1u << (*p - '0'));
		p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return BG_ERR_INVALID_ARG;
		p++;
	}
	/* both protocols is the core's default, advertised [2,1] */
	*out = bits == ((1u << 1) | (1u << 2)) ? 0 : bits;
	return 0;
}

static void
state_error(const char *path, int r, unsigned mode)
{
	switch (r) {
	case BG_ERR_NOT_FOUND:
		(void)fprintf(stderr, "tokenctl: no token state at %s (make "
		    "one with: tokenctl soft create --state %s)\n", path,
		    path);
		break;
	case BG_ERR_DENIED:
		if (mode != 0 && (mode & 077) != 0)
			(void)fprintf(stderr, "tokenctl: %s has mode %04o: a "
			    "token state must not be accessible to group or "
			    "others (chmod 600 %s)\n", path, mode, path);
		else
			(void)fprintf(stderr, "tokenctl: %s is not a regular "
			    "file\n", path);
		break;
	case BG_ERR_PARSE:
		(void)fprintf(stderr, "tokenctl: %s is not a token state "
		    "file (empty or too large)\n", path);
		break;
	default:
		(void)fprintf(stderr, "tokenctl: cannot read %s: %s\n", path,
		    bg_strerror(r));
		break;
	}
}

/* 32 hex digits, dashes allowed between them (a UUID's spelling). */
static int
parse_aaguid(const char *s, uint8_t out[BG_SOFT_AAGUID_LEN])
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return BG_ERR_INVALID_ARG;
		if (n == BG_SOFT_AAGUID_LEN)
			return BG_ERR_INVALID_ARG;
		if (hi < 0) {
			hi = v;
			continue;
		}
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return n == BG_SOFT_AAGUID_LEN && hi < 0 ? 0 : BG_ERR_INVALID_ARG;
}

static int
soft_create(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "attestation-cert", required_argument, NULL, 'c' },
		{ "attestation-key", required_argument, NULL, 'k' },
		{ "attestation-chain", required_argument, NULL, 'C' },
		{ "aaguid", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *cert = NULL, *key = NULL, *chain = NULL;
	uint8_t *blob = NULL, aaguid[BG_SOFT_AAGUID_LEN];
	char why[256];
	size_t len = 0;
	bool have_aaguid = false;
	int ch, r, ret = BG_EXIT_FAIL;

	optind = 0;
	why[0] = '\0';
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'C':
			chain = optarg;
			break;
		case 'a':
			if (parse_aaguid(optarg, aaguid) != 0) {
				(void)fprintf(stderr, "tokenctl: --aaguid takes "
				    "32 hex digits (dashes allowed)\n");
				return usage(stderr, BG_EXIT_USAGE);
			}
			have_aaguid = true;
			break;
		case 'h':
			return usage(stdout, BG_EXIT_OK);
		default:
			return usage(stderr, BG_EXIT_USAGE);
		}
	}
	if (optind != argc || state == NULL) {
		(void)fprintf(stderr, "tokenctl: soft create needs --state "
		    "FILE\n");
		return usage(stderr, BG_EXIT_USAGE);
	}
	if ((cert != NULL || key != NULL || chain != NULL || have_aaguid) &&
	    (cert == NULL || key == NULL || !have_aaguid)) {
		(void)fprintf(stderr, "tokenctl: an attestation identity needs "
		    "--attestation-cert, --attestation-key and --aaguid\n");
		return usage(stderr, BG_EXIT_USAGE);
	}
	if (sodium_init() < 0) {
		(void)fprintf(stderr, "tokenctl: libsodium failed to start\n");
		goto out;
	}
	if (cert != NULL) {
		if ((r = bg_soft_state_create_att(rnd, NULL, aaguid, cert, key,
		    chain, &blob, &len, why, sizeof(why))) != 0) {
			(void)fprintf(stderr, "tokenctl: %s\n", why[0] != '\0' ?
			    why : bg_strerror(r));
			goto out;
		}
	} else if ((r = bg_soft_state_create(rnd, NULL, &blob, &len)) != 0) {
		(void)fprintf(stderr, "tokenctl: cannot make a token state: "
		    "%s\n", bg_strerror(r));
		goto out;
	}
	if ((r = bg_soft_state_store(state, blob, len, true)) != 0) {
		if (r == BG_ERR_EXISTS)
			(void)fprintf(stderr, "tokenctl: %s exists; refusing "
			    "to overwrite a token state\n", state);
		else
			(void)fprintf(stderr, "tokenctl: cannot write %s: "
			    "%s (%s)\n", state, bg_strerror(r),
			    strerror(errno));
		goto out;
	}
	ret = BG_EXIT_OK;
out:
	if (blob != NULL)
		sodium_free(blob);
	return ret;
}

static int
soft_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "no-presence", no_argument, NULL, 'P' },
		{ "no-uv", no_argument, NULL, 'U' },
		{ "pin-protocols", required_argument, NULL, 'p' },
		{ "no-cred-protect", no_argument, NULL, 'C' },
		{ "touch-delay", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_soft_serve_opts_t o;
	struct sigaction sa;
	uint8_t *blob = NULL;
	size_t len = 0;
	unsigned mode = 0;
	const char *why = NULL;
	int ch, r, ret = BG_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.state_path = optarg;
			break;
		case 'S':
			o.socket_path = optarg;
			break;
		case 'P':
			o.no_presence = true;
			break;
		case 'U':
			o.soft.no_pin_uv = true;
			break;
		case 'C':
			o.soft.no_cred_protect = true;
			break;
		case 'T': {
			char *end = NULL;
			unsigned long ms;

			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || errno != 0 ||
			    end == NULL || *end != '\0' || ms > 20000) {
				(void)fprintf(stderr, "tokenctl: --touch-delay "
				    "takes milliseconds, 0 to 20000\n");
				return usage(stderr, BG_EXIT_USAGE);
			}
			o.touch_delay_ms = (uint32_t)ms;
			break;
		}
		case 'p':
			if (parse_protocols(optarg, &o.soft.pin_protocols)
			    != 0) {
				(void)fprintf(stderr, "tokenctl: --pin-protocols "
				    "takes 1, 2 or 1,2\n");
				return usage(stderr, BG_EXIT_USAGE);
			}
			break;
		case 'h':
			return usage(stdout, BG_EXIT_OK);
		default:
			return usage(stderr, BG_EXIT_USAGE);
		}
	}
	if (optind != argc || o.state_path == NULL || o.socket_path == NULL) {
		(void)fprintf(stderr, "tokenctl: soft serve needs --state FILE "
		    "and --socket PATH\n");
		return usage(stderr, BG_EXIT_USAGE);
	}
	if (sodium_init() < 0) {
		(void)fprintf(stderr, "tokenctl: libsodium failed to start\n");
		goto out;
	}
	if ((r = bg_soft_state_load(o.state_path, &blob, &len, &mode)) != 0) {
		state_error(o.state_path, r, mode);
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits must wake */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0) {
		(void)fprintf(stderr, "tokenctl: cannot install signal "
		    "handlers\n");
		goto out;
	}
	stop_flag = 0;
	o.stop = &stop_flag;
	o.log = log_line;

	if ((r = bg_soft_serve(&o, blob, len, &why)) != 0) {
		if (r == BG_ERR_EXISTS || why == NULL)
			(void)fprintf(stderr, "tokenctl: cannot serve on %s: "
			    "%s\n", o.socket_path, why ? why : bg_strerror(r));
		else
			(void)fprintf(stderr, "tokenctl: %s (%s)\n", why,
			    bg_strerror(r));
		goto out;
	}
	ret = BG_EXIT_OK;
out:
	if (blob != NULL)
		sodium_free(blob);
	return ret;
}

int
cmd_soft(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, BG_EXIT_USAGE);
	if (strcmp(argv[1], "create") == 0)
		return soft_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return soft_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout, BG_EXIT_OK);
	(void)fprintf(stderr, "tokenctl: unknown soft command '%s'\n",
	    argv[1]);
	return usage(stderr, BG_EXIT_USAGE);
}
