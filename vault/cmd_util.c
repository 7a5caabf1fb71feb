/*
 * Shared plumbing for the vault program's subcommands.  Nothing here
 * touches a secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "cmd_util.h"
#include "pin.h"

struct vault_globals vault_g;

bool
vault_global_opt(int c, const char *arg)
{
	switch (c) {
	case VOPT_VAULT:
		vault_g.vault = arg;
		return true;
	case VOPT_TOKEN:
		vault_g.token = arg;
		return true;
	case VOPT_PIN_FILE:
		vault_g.pin_file = arg;
		return true;
	case VOPT_JSON:
		vault_g.json = true;
		return true;
	default:
		return false;
	}
}

static char *
join_path(const char *a, const char *b)
{
	char *s = NULL;
	size_t n = strlen(a) + strlen(b) + 1;
	int w;

	if ((s = malloc(n)) == NULL)
		return NULL;
	w = snprintf(s, n, "%s%s", a, b);
	if (w < 0 || (size_t)w >= n) {
		free(s);
		return NULL;
	}
	return s;
}

/* mkdir -p for the directory part of path, mode 0700. */
static int
mkparents(const char *path)
{
	char *dir = NULL;
	char *p;
	int r = -1;

	if ((dir = strdup(path)) == NULL)
		goto out;
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			goto out;
		*p = '/';
	}
	r = 0;
out:
	free(dir);
	return r;
}

char *
vault_path(bool mkparent)
{
	const char *e;
	char *path = NULL;

	if (vault_g.vault != NULL)
		path = strdup(vault_g.vault);
	else if ((e = getenv("BREAKGLASS_VAULT")) != NULL && *e != '\0')
		path = strdup(e);
	else if ((e = getenv("XDG_DATA_HOME")) != NULL && *e == '/')
		path = join_path(e, "/breakglass/vault.db");
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		path = join_path(e, "/.local/share/breakglass/vault.db");
	else {
		vault_errx("no vault file: use --vault PATH or set "
		    "BREAKGLASS_VAULT");
		return NULL;
	}
	if (path == NULL) {
		vault_err(BG_ERR_NOMEM, "vault path");
		return NULL;
	}
	if (mkparent && vault_g.vault == NULL && mkparents(path) != 0) {
		vault_errx("cannot create the directory for %s: %s", path,
		    strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

void
vault_err(int r, const char *fmt, ...)
{
	va_list ap;

	fputs("vault: ", stderr);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(": ", stderr);
	}
	fprintf(stderr, "%s\n", bg_strerror(r));
}

void
vault_errx(const char *fmt, ...)
{
	va_list ap;

	fputs("vault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
vault_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

int
vault_exit(int r)
{
	switch (r) {
	case BG_OK:
		return VAULT_EXIT_OK;
	case BG_ERR_INVALID_ARG:
		return VAULT_EXIT_USAGE;
	case BG_ERR_NOT_FOUND:
		return VAULT_EXIT_NOTFOUND;
	case BG_ERR_AUTH:
	case BG_ERR_PIN_INPUT:
		return VAULT_EXIT_TOKEN;
	default:
		/* every token error (-40 .. -99) */
		if (r <= -40 && r > -100)
			return VAULT_EXIT_TOKEN;
		return VAULT_EXIT_FAIL;
	}
}

int
vault_usage_err(const char *usage)
{
	fprintf(stderr, "%s", usage);
	return VAULT_EXIT_USAGE;
}

int
vault_usage_ok(const char *usage)
{
	fprintf(stdout, "%s", usage);
	return VAULT_EXIT_OK;
}

int
vault_subcommand_pre(int argc, char **argv, const char *usage)
{
	if (argc < 2)
		return vault_usage_err(usage);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return vault_usage_ok(usage);
	return -1;
}

int
vault_subcommand_unknown(const char *cmd, const char *sub, const char *usage)
{
	vault_errx("%s: unknown subcommand '%s'", cmd, sub);
	return vault_usage_err(usage);
}

int
vault_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *vp)
{
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*vp = (uint64_t)v;
	return 0;
}

/* 32 hex digits, dashes allowed where a UUID has them. */
bool
vault_parse_aaguid(const char *s, uint8_t out[16])
{
	size_t o = 0;
	int hi = -1, d;

	for (; *s != '\0'; s++) {
		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (o >= 16)
			return false;
		if (hi < 0)
			hi = d;
		else {
			out[o++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
	}
	return o == 16 && hi < 0;
}

int
vault_parse_duration(const char *s, int64_t *secsp)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mul = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > (uint64_t)INT64_MAX / mul)
		return -1;
	*secsp = (int64_t)(v * mul);
	return 0;
}

int
vault_parse_time(const char *s, int64_t *tp)
{
	struct tm tm;
	const char *end;
	int64_t d;
	uint64_t u;
	time_t t;

	if (s == NULL)
		return -1;
	if (strcmp(s, "now") == 0) {
		*tp = (int64_t)time(NULL);
		return 0;
	}
	if (s[0] == '+' || s[0] == '-') {
		if (vault_parse_duration(s + 1, &d) != 0)
			return -1;
		*tp = (int64_t)time(NULL) + (s[0] == '+' ? d : -d);
		return 0;
	}
	if (s[0] == '@') {
		if (vault_parse_uint(s + 1, 0, INT64_MAX, &u) != 0)
			return -1;
		*tp = (int64_t)u;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);
		if (e2 == NULL)
			e2 = strptime(end + 1, "%H:%M", &tm);
		if (e2 == NULL)
			return -1;
		end = e2;
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*tp = (int64_t)t;
	return 0;
}

const char *
vault_fmt_time(int64_t t, char buf[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "-");
	return buf;
}

const char *
vault_fmt_span(int64_t secs, char buf[32])
{
	const char *sign = "";

	if (secs < 0) {
		sign = "-";
		secs = -secs;
	}
	if (secs >= 86400)
		snprintf(buf, 32, "%s%lldd %02lldh", sign,
		    (long long)(secs / 86400), (long long)(secs % 86400 / 3600));
	else if (secs >= 3600)
		snprintf(buf, 32, "%s%lldh %02lldm", sign,
		    (long long)(secs / 3600), (long long)(secs % 3600 / 60));
	else if (secs >= 60)
		snprintf(buf, 32, "%s%lldm %02llds", sign,
		    (long long)(secs / 60), (long long)(secs % 60));
	else
		snprintf(buf, 32, "%s%llds", sign, (long long)secs);
	return buf;
}

int
vault_json_print(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_SORT_KEYS | JSON_INDENT(2)) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		return BG_ERR_IO;
	return BG_OK;
}

/* --- vault, tokens, PINs ------------------------------------------------ */

int
vault_open(bg_vault_t **vp)
{
	char *path = NULL;
	int r, ex = VAULT_EXIT_FAIL;

	*vp = NULL;
	if ((path = vault_path(false)) == NULL)
		goto out;
	if ((r = bg_vault_open(path, vp)) != BG_OK) {
		if (r == BG_ERR_NOT_FOUND)
			vault_errx("%s: no vault here (create one with "
			    "vault init)", path);
		else
			vault_err(r, "%s", path);
		ex = vault_exit(r);
		goto out;
	}
	ex = VAULT_EXIT_OK;
out:
	free(path);
	return ex;
}

int
vault_fail(const bg_vault_t *v, int r, const char *fmt, ...)
{
	const char *m = bg_vault_errmsg(v);
	va_list ap;

	fputs("vault: ", stderr);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(": ", stderr);
	}
	fprintf(stderr, "%s\n", (m != NULL && *m != '\0') ? m : bg_strerror(r));
	return vault_exit(r);
}

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
vault_token_open(const char *path, bg_token_t **tokp)
{
	struct sigaction sa;
	bg_token_desc_t *list = NULL;
	size_t n = 0;
	int r, ex = VAULT_EXIT_FAIL;

	*tokp = NULL;
	if (path == NULL)
		path = vault_g.token;
	if (path == NULL) {
		if ((r = bg_token_list(NULL, 0, NULL, &list, &n)) != BG_OK) {
			vault_err(r, "looking for tokens");
			ex = vault_exit(r);
			goto out;
		}
		if (n != 1) {
			vault_errx("%s: name the token with --token PATH",
			    n == 0 ? "no token plugged in" :
			    "more than one token plugged in");
			ex = VAULT_EXIT_TOKEN;
			goto out;
		}
		path = list[0].path;
	}
	if ((r = bg_token_open(path, tokp)) != BG_OK) {
		vault_err(r, "token %s", path);
		ex = vault_exit(r);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	bg_token_set_interrupt(&interrupted);
	ex = VAULT_EXIT_OK;
out:
	bg_token_list_free(&list, n);
	return ex;
}

struct pin_ctx {
	const char	*who;
	bg_token_t	*tok;
	bool		 tty;
	int		 retries;
	vault_pin_op	 before;
	vault_pin_op	 op;
	void		*ctx;
};

static int
pin_try_fn(void *arg, const char *pin)
{
	struct pin_ctx *pc = arg;
	int r, left = -1;

	if (pc->before != NULL && (r = pc->before(pc->ctx, pin)) != BG_OK)
		return r;
	vault_note("Touch the token of %s now... (waiting for touch)", pc->who);
	r = pc->op(pc->ctx, pin);
	if (r == BG_ERR_TOKEN_PIN_INVALID) {
		if (bg_token_pin_retries(pc->tok, &left) == BG_OK)
			pc->retries = left;
		if (pc->tty && left >= 0)
			vault_note("wrong PIN, %d tries left", left);
	}
	return r;
}

int
vault_with_pin(bg_vault_t *v, const char *tenant, const char *person,
    bg_token_t *tok, const char *pin_file, const char *what,
    vault_pin_op before, vault_pin_op op, void *ctx)
{
	bg_vault_member_info_t *m = NULL;
	struct pin_ctx pc;
	char who[3 * BG_VAULT_LABEL_MAX + BG_VAULT_NAME_MAX + 64];
	char prompt[sizeof(who) + 32];
	const char *why = NULL;
	size_t n = 0, i, nl = 0;
	int r;
	int ex = VAULT_EXIT_FAIL;

	if (pin_file == NULL)
		pin_file = vault_g.pin_file;
	/* What the PIN and the touch are for changes the vault: the check
	 * of the file its commit needs runs meanwhile. */
	bg_vault_check_ahead(v);
	snprintf(who, sizeof(who), "%s", person);
	if (v != NULL &&
	    bg_vault_member_list(v, tenant, person, false, &m, &n) == BG_OK) {
		size_t w = strlen(who);
		for (i = 0; i < n && w < sizeof(who); i++) {
			/* the same label once per token, not once per role */
			size_t j;
			bool dup = false;
			for (j = 0; j < i; j++)
				if (m[j].token_id == m[i].token_id)
					dup = true;
			if (dup)
				continue;
			int k = snprintf(who + w, sizeof(who) - w, "%s'%s'",
			    nl == 0 ? " (label " : " or ", m[i].label);
			if (k < 0)
				break;
			w += (size_t)k;
			nl++;
		}
		if (nl > 0 && w < sizeof(who) - 1) {
			who[w++] = ')';
			who[w] = '\0';
		}
	}
	snprintf(prompt, sizeof(prompt), "PIN of %s: ", who);
	memset(&pc, 0, sizeof(pc));
	pc.who = who;
	pc.tok = tok;
	pc.tty = (pin_file == NULL);
	pc.retries = -1;
	pc.before = before;
	pc.op = op;
	pc.ctx = ctx;
	r = bg_pin_try(pin_file, prompt, pin_try_fn, &pc, &why);
	if (r == BG_OK) {
		ex = VAULT_EXIT_OK;
		goto out;
	}
	if (why != NULL) {
		/* the PIN could not be read: a PIN problem, exit 3 */
		vault_errx("%s: %s", what, why);
		ex = r == BG_ERR_NOMEM ? VAULT_EXIT_FAIL : VAULT_EXIT_TOKEN;
		goto out;
	}
	if (r == BG_ERR_TOKEN_PIN_INVALID && pc.retries >= 0)
		vault_errx("%s: wrong PIN for the token of %s: %d tries left",
		    what, person, pc.retries);
	else if (r == BG_ERR_TOKEN_CANCELLED && interrupted)
		vault_errx("%s: interrupted: nothing was done", what);
	else {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	ex = vault_exit(r);
out:
	bg_vault_member_free(&m);
	return ex;
}

struct signed_ctx {
	const char	*as;
	bg_token_t	*tok;
	vault_signed_op	 op;
	void		*ctx;
};

static int
signed_pin_op(void *ctx, const char *pin)
{
	struct signed_ctx *sc = ctx;
	bg_vault_signer_t by;

	by.person = sc->as;
	by.tok = sc->tok;
	by.pin = pin;
	return sc->op(sc->ctx, &by);
}

int
vault_signed_act(bg_vault_t *v, const char *tenant, const char *as,
    const char *what, const char *shown, vault_signed_op op, void *ctx)
{
	struct signed_ctx sc;
	bg_vault_signer_t by;
	bg_token_t *tok = NULL;
	int r, ex;

	if (as == NULL) {
		vault_errx("%s: --as PERSON is required: the act is signed by "
		    "the operator or custodian who makes it", what);
		return VAULT_EXIT_USAGE;
	}
	/* Everything but the token first: no PIN or touch for a refusal. */
	by.person = as;
	by.tok = NULL;
	by.pin = NULL;
	if ((r = op(ctx, &by)) != BG_OK)
		return vault_fail(v, r, "%s", what);
	if ((ex = vault_token_open(NULL, &tok)) != 0)
		return ex;
	if (shown != NULL)
		vault_note("%s", shown);
	sc.as = as;
	sc.tok = tok;
	sc.op = op;
	sc.ctx = ctx;
	ex = vault_with_pin(v, tenant, as, tok, NULL, what, NULL,
	    signed_pin_op, &sc);
	bg_token_close(&tok);
	return ex;
}

/* --- --out files ---------------------------------------------------------- */

int
vault_create_out(const char *what, const char *path)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		vault_errx("%s: %s %s", what, path, errno == EEXIST ?
		    "already exists; refusing to overwrite it" :
		    strerror(errno));
	return fd;
}

int
vault_write_out(const char *what, int fd, const char *path, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;
	int ret = -1;

	while (off < len) {
		if ((n = write(fd, s + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			vault_errx("%s: writing %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	ret = 0;
out:
	if ((fsync(fd) != 0 || close(fd) != 0) && ret == 0) {
		vault_errx("%s: writing %s: %s", what, path, strerror(errno));
		ret = -1;
	}
	if (ret != 0)
		(void)unlink(path);	/* ours, and incomplete */
	return ret;
}

int
vault_write_new(const char *what, const char *path, const char *s)
{
	int fd;

	if ((fd = vault_create_out(what, path)) < 0)
		return -1;
	return vault_write_out(what, fd, path, s);
}

/* --- values -------------------------------------------------------------- */

/* One line from the terminal with echo off into buf (cap bytes). */
static int
tty_line(int fd, const char *prompt, uint8_t *buf, size_t cap, size_t *lenp)
{
	struct termios old, noecho;
	size_t len = 0;
	ssize_t k;
	char c;
	int r = -1;
	bool restore = false;

	if (tcgetattr(fd, &old) != 0)
		goto out;
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0)
		goto out;
	restore = true;
	fputs(prompt, stderr);
	fflush(stderr);
	for (;;) {
		k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || c == '\n')
			break;
		if (len >= cap) {
			len = cap + 1;	/* too long; keep draining */
			continue;
		}
		buf[len++] = (uint8_t)c;
	}
	sodium_memzero(&c, sizeof(c));
	*lenp = len;
	r = 0;
out:
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return r;
}

int
vault_read_value(const char *what, uint8_t **valp, size_t *lenp)
{
	uint8_t *buf = NULL, *again = NULL;
	size_t cap = BG_VAULT_VALUE_MAX + 2, len = 0, len2 = 0;
	char prompt[256];
	ssize_t k;
	int ex = VAULT_EXIT_FAIL;

	*valp = NULL;
	*lenp = 0;
	if ((buf = sodium_malloc(cap + 1)) == NULL) {
		vault_err(BG_ERR_NOMEM, "%s", what);
		goto out;
	}
	if (isatty(STDIN_FILENO)) {
		if ((again = sodium_malloc(cap + 1)) == NULL) {
			vault_err(BG_ERR_NOMEM, "%s", what);
			goto out;
		}
		snprintf(prompt, sizeof(prompt),
		    "Value for %s (not echoed): ", what);
		if (tty_line(STDIN_FILENO, prompt, buf, cap, &len) != 0) {
			vault_errx("%s: cannot read the value from the "
			    "terminal", what);
			goto out;
		}
		snprintf(prompt, sizeof(prompt), "Repeat the value: ");
		if (tty_line(STDIN_FILENO, prompt, again, cap, &len2) != 0) {
			vault_errx("%s: cannot read the value from the "
			    "terminal", what);
			goto out;
		}
		if (len != len2 || sodium_memcmp(buf, again, len) != 0) {
			vault_errx("%s: the two entries differ; nothing was "
			    "stored", what);
			goto out;
		}
	} else {
		for (;;) {
			k = read(STDIN_FILENO, buf + len, cap - len);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				vault_errx("%s: reading standard input: %s",
				    what, strerror(errno));
				goto out;
			}
			if (k == 0)
				break;
			len += (size_t)k;
			if (len >= cap)
				break;
		}
		/* one trailing newline is not part of the value */
		if (len > 0 && buf[len - 1] == '\n') {
			len--;
			if (len > 0 && buf[len - 1] == '\r')
				len--;
		}
	}
	if (len > BG_VAULT_VALUE_MAX) {
		vault_errx("%s: the value is longer than %u bytes", what,
		    (unsigned)BG_VAULT_VALUE_MAX);
		goto out;
	}
	if (len == 0) {
		vault_errx("%s: empty value refused (give the value on "
		    "standard input, or use --generate)", what);
		goto out;
	}
	buf[len] = 0;
	*valp = buf;
	*lenp = len;
	buf = NULL;
	ex = VAULT_EXIT_OK;
out:
	if (buf != NULL) {
		sodium_memzero(buf, cap + 1);
		sodium_free(buf);
	}
	if (again != NULL) {
		sodium_memzero(again, cap + 1);
		sodium_free(again);
	}
	return ex;
}

int
vault_parse_charset(const char *s, unsigned *classesp)
{
	static const struct {
		const char *name;
		unsigned mask;
	} words[] = {
		{ "lower", BG_VAULT_GEN_LOWER },
		{ "upper", BG_VAULT_GEN_UPPER },
		{ "digit", BG_VAULT_GEN_DIGIT },
		{ "digits", BG_VAULT_GEN_DIGIT },
		{ "symbol", BG_VAULT_GEN_SYMBOL },
		{ "symbols", BG_VAULT_GEN_SYMBOL },
		{ "alnum", BG_VAULT_GEN_LOWER | BG_VAULT_GEN_UPPER |
		    BG_VAULT_GEN_DIGIT },
		{ "alnum-symbols", BG_VAULT_GEN_DEFAULT },
	};
	unsigned mask = 0;
	const char *p = s, *e;
	size_t i, wl;
	bool found;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		e = strchr(p, ',');
		wl = e != NULL ? (size_t)(e - p) : strlen(p);
		found = false;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strlen(words[i].name) == wl &&
			    strncmp(words[i].name, p, wl) == 0) {
				mask |= words[i].mask;
				found = true;
			}
		}
		if (!found)
			return -1;
		p += wl;
		if (*p == ',')
			p++;
	}
	*classesp = mask;
	return 0;
}

bool
vault_hint_ref(const char *cmd, bool slash, int n, char *const *args)
{
	const char *s;

	if (slash && n == 2 && strchr(args[0], '/') == NULL &&
	    strchr(args[1], '/') == NULL && args[0][0] != '\0' &&
	    args[1][0] != '\0') {
		vault_errx("%s takes TENANT/NAME, one word: vault %s %s/%s",
		    cmd, cmd, args[0], args[1]);
		return true;
	}
	if (!slash && n == 1 && (s = strchr(args[0], '/')) != NULL &&
	    s != args[0] && s[1] != '\0' && strchr(s + 1, '/') == NULL) {
		vault_errx("%s takes TENANT NAME, two words: vault %s %.*s %s",
		    cmd, cmd, (int)(s - args[0]), args[0], s + 1);
		return true;
	}
	return false;
}

int
vault_split_ref(const char *ref, char **tenantp, char **namep)
{
	const char *slash;

	*tenantp = NULL;
	*namep = NULL;
	if (ref == NULL || (slash = strchr(ref, '/')) == NULL ||
	    slash == ref || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return -1;
	if ((*tenantp = strndup(ref, (size_t)(slash - ref))) == NULL)
		return -1;
	if ((*namep = strdup(slash + 1)) == NULL) {
		free(*tenantp);
		*tenantp = NULL;
		return -1;
	}
	return 0;
}

int
vault_parse_request_id(const char *s, int64_t *idp)
{
	uint64_t u;

	if (s != NULL && s[0] == '#')
		s++;
	if (vault_parse_uint(s, 1, INT64_MAX, &u) != 0)
		return -1;
	*idp = (int64_t)u;
	return 0;
}

void
vault_soft_banner(const bg_vault_t *v)
{
	if (!vault_g.json && bg_vault_allows_soft_tokens(v))
		printf("note: this vault accepts software tokens "
		    "(test/drill vault)\n");
}

json_t *
vault_json_time(int64_t t)
{
	return t > 0 ? json_integer((json_int_t)t) : json_null();
}

void
vault_note_receipt(bg_vault_t *v)
{
	bg_vault_log_head_t h;

	if (bg_vault_log_head(v, &h) == BG_OK)
		vault_note("receipt: %s", h.receipt);
	else
		vault_note("no receipt: %s", bg_vault_errmsg(v));
}

int
vault_write_value(int fd, const uint8_t *val, size_t len, bool newline)
{
	ssize_t k;

	/* write(2) from the caller's guarded buffer: no stdio buffer ever
	 * holds a copy that is freed unwiped. */
	while (len > 0) {
		k = write(fd, val, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		val += k;
		len -= (size_t)k;
	}
	while (newline && (k = write(fd, "\n", 1)) != 1)
		if (k < 0 && errno != EINTR)
			return -1;
	return 0;
}
