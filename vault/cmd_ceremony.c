/*
 * vault ceremony TENANT/SECRET: request, each approval and the release in
 * one sitting, asking for each person's token in turn.  People and tokens
 * come from --requester/--approver (scripted drills) or are asked for on
 * the terminal.
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
#include "util.h"

static const char usage[] =
    "usage: vault ceremony TENANT/SECRET "
    "[--requester PERSON=TOKEN[,PINFILE]]\n"
    "                      [--approver PERSON=TOKEN[,PINFILE]]... "
    "[--reason TEXT] [--ticket ID]\n"
    "                      [--ttl DURATION] [--out FILE]\n";

#define MAX_APPROVERS 32

enum { OPT_REQUESTER = VOPT_LOCAL, OPT_APPROVER, OPT_REASON, OPT_TICKET,
    OPT_TTL, OPT_OUT };

struct person {
	char	*name;
	char	*token;		/* NULL: the only token plugged in */
	char	*pin_file;	/* NULL: ask on the terminal */
};

static void
person_clear(struct person *p)
{
	free(p->name);
	free(p->token);
	free(p->pin_file);
	memset(p, 0, sizeof(*p));
}

/* "PERSON=TOKEN[,PINFILE]" */
static int
person_parse(const char *s, struct person *p)
{
	const char *eq = strchr(s, '='), *comma;

	memset(p, 0, sizeof(*p));
	if (eq == NULL || eq == s || eq[1] == '\0')
		return -1;
	comma = strchr(eq + 1, ',');
	p->name = strndup(s, (size_t)(eq - s));
	p->token = comma ? strndup(eq + 1, (size_t)(comma - eq - 1)) :
	    strdup(eq + 1);
	p->pin_file = comma && comma[1] ? strdup(comma + 1) : NULL;
	if (p->name == NULL || p->token == NULL || (comma && comma[1] &&
	    p->pin_file == NULL) || p->token[0] == '\0') {
		person_clear(p);
		return -1;
	}
	return 0;
}

/* A line from the terminal, echoed; NULL at EOF or without a terminal. */
static char *
ask(const char *prompt)
{
	FILE *tty = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return NULL;
	fputs(prompt, stderr);
	fflush(stderr);
	n = getline(&line, &cap, tty);
	fclose(tty);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static void
show_statement(const char *text)
{
	const char *p = text, *e;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		fprintf(stderr, "    %.*s\n", (int)(e - p), p);
		p = *e == '\n' ? e + 1 : e;
	}
}

struct cer {
	bg_vault_t	*v;
	char		*tenant, *secret;
	const char	*reason, *ticket;
	int64_t		 ttl, id;
	bg_token_t	*tok;
	const char	*person;
	uint8_t		 hash[BG_VAULT_HASH_LEN];
	int		 tries;
	uint8_t		*val;
	size_t		 len;
};

static int
op_request(void *arg, const char *pin)
{
	struct cer *c = arg;

	return bg_vault_request(c->v, c->tenant, c->secret, c->person,
	    c->reason, c->ticket, c->ttl, c->tok, pin, &c->id);
}

/* As in cmd_approve.c: after a failed try, show the moved statement. */
static int
before_approve(void *arg, const char *pin)
{
	struct cer *c = arg;
	uint8_t now[BG_VAULT_HASH_LEN];
	char *text = NULL;
	int r = BG_OK;

	(void)pin;
	if (c->tries++ == 0)
		goto out;
	if ((r = bg_vault_statement(c->v, c->id, &text, now)) != BG_OK)
		goto out;
	if (memcmp(now, c->hash, sizeof(now)) != 0) { /* public: hashes */
		vault_note("The audit log moved (the failed try was logged); "
		    "the statement now reads:");
		show_statement(text);
		memcpy(c->hash, now, sizeof(now));
	}
out:
	free(text);
	return r;
}

static int
op_approve(void *arg, const char *pin)
{
	struct cer *c = arg;

	return bg_vault_approve(c->v, c->id, c->person, c->hash, c->tok, pin);
}

static int
op_release(void *arg, const char *pin)
{
	struct cer *c = arg;

	return bg_vault_release(c->v, c->id, c->person, c->tok, pin, &c->val,
	    &c->len);
}

/* Ask for a person's name; -1 at EOF, on an empty line or without a
 * terminal. */
static int
ask_name(struct person *p, const char *role)
{
	char prompt[192];
	char *s;

	snprintf(prompt, sizeof(prompt), "%s (name): ", role);
	if ((s = ask(prompt)) == NULL || *s == '\0') {
		free(s);
		return -1;
	}
	free(p->name);
	p->name = s;
	return 0;
}

/* Ask for a person's token path when it was not given. */
static int
ask_token(struct person *p)
{
	char prompt[192];
	char *s;

	if (p->token != NULL)
		return 0;
	snprintf(prompt, sizeof(prompt), "Plug in the token of %s and "
	    "give its path (Enter: the only token plugged in): ", p->name);
	if ((s = ask(prompt)) == NULL)
		return -1;
	if (*s == '\0')
		free(s);
	else
		p->token = s;
	return 0;
}

/*
 * Whether name may act in role for the tenant, by its live memberships
 * (the rows the links write, as listings read them): a typo or the
 * wrong person is caught here, before any request is opened or any
 * refusal logged; the engine checks the chain again at each act.
 * requester: the request's requester (an approver must be someone
 * else), or NULL.  Else a sentence in why.
 */
static bool
member_ok(bg_vault_t *v, const char *tenant, const char *name, int role,
    const char *requester, char *why, size_t cap)
{
	bg_vault_member_info_t *m = NULL;
	char names[BG_VAULT_TEXT_MAX];
	size_t n = 0, i, used = 0;
	bool found = false;

	names[0] = '\0';
	if (requester != NULL && strcmp(name, requester) == 0) {
		snprintf(why, cap, "%s is the requester and cannot approve "
		    "their own request", name);
		return false;
	}
	if (bg_vault_member_list(v, tenant, NULL, false, &m, &n) != BG_OK) {
		snprintf(why, cap, "%s", bg_vault_errmsg(v));
		return false;
	}
	for (i = 0; i < n; i++) {
		if (m[i].role != role || m[i].expired ||
		    (requester != NULL && strcmp(m[i].person, requester) == 0))
			continue;
		if (strcmp(m[i].person, name) == 0)
			found = true;
		/* one name per person (a person may hold several tokens) */
		if (i > 0 && m[i - 1].role == role &&
		    strcmp(m[i - 1].person, m[i].person) == 0)
			continue;
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used,
			    sizeof(names) - used, "%s%s", used > 0 ? ", " : "",
			    m[i].person);
	}
	bg_vault_member_free(&m);
	if (!found)
		snprintf(why, cap, "%s is not %s %s of %s (%ss: %s)", name,
		    role == BG_VAULT_ROLE_APPROVER ? "an" : "a",
		    bg_vault_role_name(role), tenant, bg_vault_role_name(role),
		    names[0] != '\0' ? names : "none");
	return found;
}

/*
 * The ceremony stops with its request open: say how to go on (one note
 * after the error line).
 */
static void
how_to_continue(const struct cer *c, const char *requester)
{
	bg_vault_request_info_t *q = NULL;
	char tb[32];

	if (c->id == 0 || bg_vault_request_show(c->v, c->id, &q) != BG_OK ||
	    q->state != BG_VAULT_REQUEST_OPEN) {
		bg_vault_request_free(&q);
		return;
	}
	vault_note("request %lld stays open until %s: go on with 'vault "
	    "approve %lld --as PERSON' and 'vault release %lld --as %s', or "
	    "withdraw it with 'vault request withdraw %lld --as %s'",
	    (long long)c->id, vault_fmt_time(q->deadline, tb),
	    (long long)c->id, (long long)c->id, requester, (long long)c->id,
	    requester);
	bg_vault_request_free(&q);
}

static int
with_token(struct cer *c, const struct person *p, const char *what,
    vault_pin_op before, vault_pin_op op)
{
	int ex;

	c->person = p->name;
	c->tries = 0;
	if ((ex = vault_token_open(p->token, &c->tok)) != 0)
		return ex;
	ex = vault_with_pin(c->v, c->tenant, p->name, c->tok, p->pin_file,
	    what, before, op, c);
	bg_token_close(&c->tok);
	return ex;
}

/* Whether name is one of the names of list ("alice, mia"). */
static bool
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' ||
		    p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

/*
 * Ask the terminal for the next approver until a name passes every
 * check an approval makes before the touch, then for their token: a
 * mistyped name, the requester's or someone who approved already is
 * said and asked for again.  -1 when nobody more comes forward (EOF, an
 * empty line, no terminal).
 */
static int
next_approver(struct cer *c, struct person *p, const char *requester,
    const bg_vault_request_info_t *q)
{
	char why[BG_VAULT_TEXT_MAX + 128], what[64];
	int r;

	snprintf(what, sizeof(what), "approve %lld", (long long)c->id);
	for (;;) {
		if (ask_name(p, "Next approver") != 0)
			return -1;
		if (!member_ok(c->v, c->tenant, p->name,
		    BG_VAULT_ROLE_APPROVER, requester, why, sizeof(why))) {
			vault_note("%s; give another name (Enter: stop)", why);
			continue;
		}
		if (in_list(q->approved_by, p->name)) {
			vault_note("%s approved already; give another name "
			    "(Enter: stop)", p->name);
			continue;
		}
		if ((r = bg_vault_approve_check(c->v, c->id, p->name)) !=
		    BG_OK) {
			(void)vault_fail(c->v, r, "%s", what);
			vault_note("give another name (Enter: stop)");
			continue;
		}
		break;
	}
	return ask_token(p);
}

int
cmd_ceremony(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "requester",	required_argument, NULL, OPT_REQUESTER },
		{ "approver",	required_argument, NULL, OPT_APPROVER },
		{ "reason",	required_argument, NULL, OPT_REASON },
		{ "ticket",	required_argument, NULL, OPT_TICKET },
		{ "ttl",	required_argument, NULL, OPT_TTL },
		{ "out",	required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 }
	};
	struct person req, appr[MAX_APPROVERS];
	struct cer c;
	bg_vault_tenant_info_t *t = NULL;
	bg_vault_request_info_t *q = NULL;
	char *text = NULL, *reason = NULL, *ticket = NULL;
	const char *out = NULL;
	bg_vault_log_head_t lh;
	size_t na = 0, i, j, step = 1;
	char what[192], why[BG_VAULT_TEXT_MAX + 128];
	int ch, r, ex = VAULT_EXIT_FAIL, fd = -1;
	bool scripted, created = false, asked;

	memset(&req, 0, sizeof(req));
	memset(appr, 0, sizeof(appr));
	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_REQUESTER:
			person_clear(&req);
			if (person_parse(optarg, &req) != 0) {
				vault_errx("ceremony: bad --requester '%s' "
				    "(PERSON=TOKEN[,PINFILE])", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_APPROVER:
			if (na == MAX_APPROVERS ||
			    person_parse(optarg, &appr[na]) != 0) {
				vault_errx("ceremony: bad --approver '%s' "
				    "(PERSON=TOKEN[,PINFILE])", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			na++;
			break;
		case OPT_REASON:
			c.reason = optarg;
			break;
		case OPT_TICKET:
			c.ticket = optarg;
			break;
		case OPT_TTL:
			if (vault_parse_duration(optarg, &c.ttl) != 0 ||
			    c.ttl <= 0) {
				vault_errx("ceremony: bad --ttl '%s'", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
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
	    vault_split_ref(argv[optind], &c.tenant, &c.secret) != 0) {
		(void)vault_hint_ref("ceremony", true, argc - optind,
		    argv + optind);
		ex = vault_usage_err(usage);
		goto out;
	}
	scripted = req.name != NULL && na > 0;
	snprintf(what, sizeof(what), "ceremony %s/%s", c.tenant, c.secret);
	if ((ex = vault_open(&c.v)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if ((r = bg_vault_tenant_show(c.v, c.tenant, &t)) != BG_OK) {
		ex = vault_fail(c.v, r, "%s", what);
		goto out;
	}
	if (c.ttl == 0)
		c.ttl = t->max_ttl;
	vault_note("=== Break-glass ceremony for %s/%s ===", c.tenant,
	    c.secret);
	vault_note("policy: %s", t->policy);
	if (bg_vault_allows_soft_tokens(c.v))
		vault_note("note: this vault accepts software tokens "
		    "(test/drill vault)");
	/* The requester: a wrong name typed is asked for again. */
	asked = req.name == NULL;
	for (;;) {
		if (req.name == NULL && ask_name(&req, "Requester") != 0) {
			vault_errx("%s: no requester named (--requester "
			    "PERSON=TOKEN[,PINFILE], or a terminal to ask on); "
			    "nothing was done", what);
			ex = VAULT_EXIT_USAGE;
			goto out;
		}
		if (member_ok(c.v, c.tenant, req.name, BG_VAULT_ROLE_REQUESTER,
		    NULL, why, sizeof(why)))
			break;
		if (!asked) {
			vault_errx("%s: --requester %s: %s; nothing was done",
			    what, req.name, why);
			ex = VAULT_EXIT_USAGE;
			goto out;
		}
		vault_note("%s; give another name (Enter: stop)", why);
		free(req.name);
		req.name = NULL;
	}
	/* Approvers named on the command line, before anything is done. */
	for (i = 0; i < na; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(appr[j].name, appr[i].name) == 0)
				break;
		if (j < i)
			snprintf(why, sizeof(why), "%s is named twice",
			    appr[i].name);
		else if (member_ok(c.v, c.tenant, appr[i].name,
		    BG_VAULT_ROLE_APPROVER, req.name, why, sizeof(why)))
			continue;
		vault_errx("%s: --approver %s: %s; nothing was done", what,
		    appr[i].name, why);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (c.reason == NULL) {
		if ((reason = ask("Reason: ")) == NULL || *reason == '\0') {
			vault_errx("%s: --reason is required", what);
			ex = VAULT_EXIT_USAGE;
			goto out;
		}
		c.reason = reason;
	}
	if (c.ticket == NULL) {
		if ((ticket = ask("Ticket: ")) == NULL || *ticket == '\0') {
			vault_errx("%s: --ticket is required", what);
			ex = VAULT_EXIT_USAGE;
			goto out;
		}
		c.ticket = ticket;
	}
	/* Everything the request would be refused for, before any PIN. */
	if ((r = bg_vault_request_check(c.v, c.tenant, c.secret, req.name,
	    c.reason, c.ticket, c.ttl)) != BG_OK) {
		ex = vault_fail(c.v, r, "%s", what);
		goto out;
	}
	if (ask_token(&req) != 0) {
		vault_errx("%s: no token named for %s (no terminal to ask on)",
		    what, req.name);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (out != NULL) {
		if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) < 0) {
			vault_errx("%s: cannot create %s: %s (refusing to "
			    "overwrite; nothing was done)", what, out,
			    strerror(errno));
			goto out;
		}
		created = true;
	}

	vault_note("\n--- step %zu: %s requests %s/%s ---", step++, req.name,
	    c.tenant, c.secret);
	if ((ex = with_token(&c, &req, what, NULL, op_request)) != 0)
		goto out;
	vault_note("request %lld opened", (long long)c.id);

	for (i = 0;; i++) {
		bg_vault_request_free(&q);
		if ((r = bg_vault_request_show(c.v, c.id, &q)) != BG_OK) {
			ex = vault_fail(c.v, r, "%s", what);
			goto out;
		}
		if (q->satisfied)
			break;
		vault_note("still missing: %s", q->missing);
		if (i >= na) {
			if (scripted || na == MAX_APPROVERS ||
			    next_approver(&c, &appr[na], req.name, q) != 0) {
				vault_errx("%s: request %lld %s", what,
				    (long long)c.id, q->missing);
				ex = VAULT_EXIT_FAIL;
				goto stopped;
			}
			na++;
		} else if ((r = bg_vault_approve_check(c.v, c.id,
		    appr[i].name)) != BG_OK) {
			ex = vault_fail(c.v, r, "%s", what);
			goto stopped;
		}
		vault_note("\n--- step %zu: approval by %s ---", step++,
		    appr[i].name);
		free(text);
		text = NULL;
		if ((r = bg_vault_statement(c.v, c.id, &text, c.hash)) !=
		    BG_OK) {
			ex = vault_fail(c.v, r, "%s", what);
			goto out;
		}
		vault_note("%s, read the statement before you touch your "
		    "token:", appr[i].name);
		show_statement(text);
		if ((ex = with_token(&c, &appr[i], what, before_approve,
		    op_approve)) != 0)
			goto stopped;
		vault_note("approved by %s", appr[i].name);
	}

	vault_note("\n--- step %zu: %s releases the value ---", step++,
	    req.name);
	vault_note("the policy is met (approved by %s)", q->approved_by);
	if ((r = bg_vault_release_check(c.v, c.id, req.name)) != BG_OK) {
		ex = vault_fail(c.v, r, "%s", what);
		goto stopped;
	}
	if ((ex = with_token(&c, &req, what, NULL, op_release)) != 0)
		goto stopped;
	if (fd >= 0) {
		r = (vault_write_value(fd, c.val, c.len, false) == 0 &&
		    fsync(fd) == 0) ? 0 : -1;
		if (close(fd) != 0)
			r = -1;
		fd = -1;
	} else {
		vault_note("The value (shown once):");
		r = (fflush(stdout) == 0 && vault_write_value(STDOUT_FILENO,
		    c.val, c.len, true) == 0) ? 0 : -1;
	}
	sodium_memzero(c.val, c.len);
	sodium_free(c.val);
	c.val = NULL;
	if (r != 0) {
		vault_errx("%s: the value was released but could not be "
		    "written; the version is spent, rotate it", what);
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	created = false;
	if (out != NULL)
		vault_note("value written to %s (mode 0600)", out);
	ex = VAULT_EXIT_OK;
	/* The receipt is the signed tree head's (docs/audit-log.md). */
	if (bg_vault_log_head(c.v, &lh) == BG_OK)
		vault_note("\nreceipt for the ceremony log book: %s\n"
		    "  (%s/%s request %lld released to %s; log size %llu)",
		    lh.receipt, c.tenant, c.secret, (long long)c.id, req.name,
		    (unsigned long long)lh.size);
	else
		vault_note("\nno receipt: %s", bg_vault_errmsg(c.v));
	goto out;
stopped:
	how_to_continue(&c, req.name);
out:
	if (c.val != NULL) {
		sodium_memzero(c.val, c.len);
		sodium_free(c.val);
	}
	if (fd >= 0)
		close(fd);
	if (created && out != NULL)
		(void)unlink(out);
	bg_token_close(&c.tok);
	bg_vault_request_free(&q);
	bg_vault_tenant_free(&t);
	bg_vault_close(&c.v);
	for (i = 0; i < MAX_APPROVERS; i++)
		person_clear(&appr[i]);
	person_clear(&req);
	free(c.tenant);
	free(c.secret);
	free(text);
	free(reason);
	free(ticket);
	return ex;
}
