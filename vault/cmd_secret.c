/* vault secret add | import | list | show  (never prints a stored value;
 * sealing is an operator's signed act) */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault secret add TENANT NAME --as OPERATOR [--generate "
    "[--length N]\n"
    "                        [--charset SET] [--show]]\n"
    "       vault secret import TENANT --as OPERATOR < FILE\n"
    "       vault secret list [TENANT] [--json]\n"
    "       vault secret show TENANT/NAME [--json]\n";

#define DEFAULT_GEN_LEN 32

enum { OPT_GENERATE = VOPT_LOCAL, OPT_LENGTH, OPT_CHARSET, OPT_SHOW,
    OPT_AS };

/* A seal: the operator's signed act (bg_vault_secret_add_many). */
struct seal_op {
	bg_vault_t		 *v;
	const char		 *tenant;
	size_t			  n;
	const char *const	 *names;
	const uint8_t *const	 *values;
	const size_t		 *lens;
};

static int
seal_op(void *ctx, const bg_vault_signer_t *by)
{
	struct seal_op *o = ctx;

	return bg_vault_secret_add_many(o->v, by, o->tenant, o->n, o->names,
	    o->values, o->lens);
}

/* Refusals before any value is read; then the signed seal. */
static int
seal_check(bg_vault_t *v, const char *as, const char *what,
    struct seal_op *o)
{
	bg_vault_signer_t chk = { as, NULL, NULL };
	int r;

	if (as == NULL)
		return vault_signed_act(v, o->tenant, as, what, NULL, seal_op,
		    o);
	if ((r = seal_op(o, &chk)) != BG_OK)
		return vault_fail(v, r, "%s", what);
	return VAULT_EXIT_OK;
}

static int
secret_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "generate",	no_argument,	   NULL, OPT_GENERATE },
		{ "length",	required_argument, NULL, OPT_LENGTH },
		{ "charset",	required_argument, NULL, OPT_CHARSET },
		{ "show",	no_argument,	   NULL, OPT_SHOW },
		{ "as",		required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct seal_op o;
	const char *as = NULL, *name;
	const uint8_t *vp;
	char shown[256];
	bg_vault_t *v = NULL;
	uint8_t *val = NULL;
	size_t len = 0;
	uint64_t glen = DEFAULT_GEN_LEN;
	unsigned classes = BG_VAULT_GEN_DEFAULT;
	bool gen = false, show = false, opt_gen = false;
	char ref[2 * BG_VAULT_NAME_MAX + 2], what[sizeof(ref) + 16];
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_GENERATE:
			gen = true;
			break;
		case OPT_LENGTH:
			opt_gen = true;
			if (vault_parse_uint(optarg, BG_VAULT_GEN_MIN_LEN,
			    BG_VAULT_GEN_MAX_LEN, &glen) != 0) {
				vault_errx("secret add: --length must be %d..%d",
				    BG_VAULT_GEN_MIN_LEN, BG_VAULT_GEN_MAX_LEN);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_CHARSET:
			opt_gen = true;
			if (vault_parse_charset(optarg, &classes) != 0) {
				vault_errx("secret add: bad --charset '%s' (lower, "
				    "upper, digit, symbol, alnum, "
				    "alnum-symbols)", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_SHOW:
			opt_gen = show = true;
			break;
		case OPT_AS:
			as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 2) {
		(void)vault_hint_ref("secret add", false, argc - optind,
		    argv + optind);
		ex = vault_usage_err(usage);
		goto out;
	}
	if (opt_gen && !gen) {
		vault_errx("secret add: --length, --charset and --show go "
		    "with --generate");
		ex = vault_usage_err(usage);
		goto out;
	}
	snprintf(ref, sizeof(ref), "%s/%s", argv[optind], argv[optind + 1]);
	snprintf(what, sizeof(what), "secret add %s", ref);
	if ((ex = vault_open(&v)) != 0)
		goto out;
	/* a placeholder value for the check: nothing is sealed by it */
	name = argv[optind + 1];
	vp = (const uint8_t *)"";
	memset(&o, 0, sizeof(o));
	o.v = v;
	o.tenant = argv[optind];
	o.n = 1;
	o.names = &name;
	o.values = &vp;
	o.lens = &len;
	if ((ex = seal_check(v, as, what, &o)) != 0)
		goto out;
	if (gen) {
		if ((r = bg_vault_generate((size_t)glen, classes, &val,
		    &len)) != BG_OK) {
			ex = vault_fail(NULL, r, "%s", what);
			goto out;
		}
	} else if ((ex = vault_read_value(ref, &val, &len)) != 0)
		goto out;
	vp = val;
	(void)snprintf(shown, sizeof(shown), "%s seals %s (and knows its value "
	    "from now on)", as, ref);
	if ((ex = vault_signed_act(v, argv[optind], as, what, shown, seal_op,
	    &o)) != 0)
		goto out;
	if (show) {
		/* shown once, at the operator's request */
		ex = VAULT_EXIT_FAIL;
		if (fflush(stdout) != 0 ||
		    vault_write_value(STDOUT_FILENO, val, len, true) != 0) {
			vault_errx("%s: sealed, but writing the value failed",
			    what);
			goto out;
		}
	}
	sodium_memzero(val, len);
	vault_note("sealed %s/%s version 1 (%zu bytes%s) under the policy "
	    "of %s", argv[optind], argv[optind + 1], len,
	    gen ? (show ? ", generated, shown above" :
	    ", generated, not shown") : "", argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	if (val != NULL) {
		sodium_memzero(val, len);
		sodium_free(val);
	}
	bg_vault_close(&v);
	return ex;
}

/*
 * vault secret import TENANT < FILE: one secret per line, NAME=VALUE; the
 * value is the rest of the line after the first '=' (names cannot hold
 * one).  Blank lines and lines starting with '#' are skipped.  All are
 * sealed in one transaction (bg_vault_secret_add_many): one fsync, one
 * structural check and one signed tree head for the batch, all or none.
 * The input is read into guarded memory and wiped.
 */
#define IMPORT_MAX_BYTES	(16u * 1024u * 1024u)

typedef struct import_item {
	char		 name[BG_VAULT_NAME_MAX + 1];
	const uint8_t	*val;		/* into the input buffer */
	size_t		 len;
	size_t		 line;
} import_item_t;

/* All of standard input into guarded memory (at most IMPORT_MAX_BYTES). */
static int
import_read(uint8_t **bufp, size_t *capp, size_t *lenp)
{
	uint8_t *buf = NULL, *nb;
	size_t cap = 65536, len = 0;
	ssize_t k;
	int ex = VAULT_EXIT_FAIL;

	*bufp = NULL;
	*capp = *lenp = 0;
	if ((buf = sodium_malloc(cap)) == NULL) {
		vault_err(BG_ERR_NOMEM, "secret import");
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= IMPORT_MAX_BYTES) {
				vault_errx("secret import: the input is larger "
				    "than %u MiB: split it", IMPORT_MAX_BYTES >>
				    20);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			if ((nb = sodium_malloc(cap * 2)) == NULL) {
				vault_err(BG_ERR_NOMEM, "secret import");
				goto out;
			}
			memcpy(nb, buf, len);
			sodium_memzero(buf, cap);
			sodium_free(buf);
			buf = nb;
			cap *= 2;
		}
		k = read(STDIN_FILENO, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			vault_errx("secret import: reading standard input: %s",
			    strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	*bufp = buf;
	*capp = cap;
	*lenp = len;
	buf = NULL;
	ex = VAULT_EXIT_OK;
out:
	if (buf != NULL) {
		sodium_memzero(buf, cap);
		sodium_free(buf);
	}
	return ex;
}

static int
import_cmp(const void *a, const void *b)
{
	const import_item_t *x = *(const import_item_t *const *)a;
	const import_item_t *y = *(const import_item_t *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Split buf into items; one line of error naming the line on failure. */
static int
import_parse(const uint8_t *buf, size_t len, import_item_t **itemsp,
    size_t *np)
{
	import_item_t *it = NULL, **sorted = NULL;
	const uint8_t *p = buf, *end = buf + len, *nl, *eq;
	size_t n = 0, line = 0, i, cap = 0;
	int ex = VAULT_EXIT_USAGE;

	*itemsp = NULL;
	*np = 0;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p || *p == '#')
			continue;
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL) {
			vault_errx("secret import: line %zu holds a NUL byte",
			    line);
			goto out;
		}
		if (nl[-1] == '\r') {
			vault_errx("secret import: line %zu ends in a carriage "
			    "return: convert the file to Unix line ends", line);
			goto out;
		}
		if ((eq = memchr(p, '=', (size_t)(nl - p))) == NULL) {
			vault_errx("secret import: line %zu: expected "
			    "NAME=VALUE", line);
			goto out;
		}
		if (eq == p || (size_t)(eq - p) > BG_VAULT_NAME_MAX) {
			vault_errx("secret import: line %zu: the name must "
			    "have 1 to %d bytes", line, BG_VAULT_NAME_MAX);
			goto out;
		}
		if (eq + 1 == nl || (size_t)(nl - eq - 1) > BG_VAULT_VALUE_MAX) {
			vault_errx("secret import: line %zu: the value of "
			    "'%.*s' must have 1 to %d bytes", line,
			    (int)(eq - p), (const char *)p, BG_VAULT_VALUE_MAX);
			goto out;
		}
		if (n == BG_VAULT_ADD_MANY_MAX) {
			vault_errx("secret import: more than %d secrets: split "
			    "the file", BG_VAULT_ADD_MANY_MAX);
			goto out;
		}
		if (n == cap) {
			import_item_t *ni;

			cap = cap ? cap * 2 : 64;
			if ((ni = reallocarray(it, cap, sizeof(*it))) == NULL) {
				vault_err(BG_ERR_NOMEM, "secret import");
				ex = VAULT_EXIT_FAIL;
				goto out;
			}
			it = ni;
		}
		memcpy(it[n].name, p, (size_t)(eq - p));
		it[n].name[eq - p] = '\0';
		if (!bg_vault_name_ok(it[n].name)) {
			vault_errx("secret import: line %zu: the name '%s' may "
			    "only hold a-z, 0-9, '.', '_', '-' and must start "
			    "with a letter or digit", line, it[n].name);
			goto out;
		}
		it[n].val = eq + 1;
		it[n].len = (size_t)(nl - eq - 1);
		it[n].line = line;
		n++;
	}
	if (n == 0) {
		vault_errx("secret import: no NAME=VALUE line on standard "
		    "input");
		goto out;
	}
	/* a name twice would read as "already exists": say what it is */
	if ((sorted = calloc(n, sizeof(*sorted))) == NULL) {
		vault_err(BG_ERR_NOMEM, "secret import");
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < n; i++)
		sorted[i] = &it[i];
	qsort(sorted, n, sizeof(*sorted), import_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
			vault_errx("secret import: line %zu: '%s' again (first "
			    "on line %zu)", sorted[i]->line, sorted[i]->name,
			    sorted[i - 1]->line);
			goto out;
		}
	*itemsp = it;
	*np = n;
	it = NULL;
	ex = VAULT_EXIT_OK;
out:
	free(sorted);
	free(it);	/* names and pointers only; values are in buf */
	return ex;
}

static int
secret_cmp(const void *a, const void *b)
{
	return strcmp(((const bg_vault_secret_info_t *)a)->name,
	    ((const bg_vault_secret_info_t *)b)->name);
}

/*
 * A name the tenant has already refuses the whole file: say on which
 * line (the engine names only the secret).  One listing of the tenant,
 * not one query per line.
 */
static int
import_exists(bg_vault_t *v, const char *tenant, const import_item_t *it,
    size_t n)
{
	bg_vault_secret_info_t *l = NULL;
	size_t nl = 0, i;
	int r, ex = VAULT_EXIT_FAIL;

	if ((r = bg_vault_secret_list(v, tenant, &l, &nl)) != BG_OK) {
		ex = vault_fail(v, r, "secret import %s", tenant);
		goto out;
	}
	if (nl > 1)
		qsort(l, nl, sizeof(*l), secret_cmp);
	for (i = 0; i < n; i++) {
		bg_vault_secret_info_t key;

		(void)snprintf(key.name, sizeof(key.name), "%s", it[i].name);
		if (nl > 0 && bsearch(&key, l, nl, sizeof(*l),
		    secret_cmp) != NULL) {
			vault_errx("secret import: line %zu: secret '%s/%s' "
			    "already exists (nothing was sealed; rotate it to "
			    "change its value)", it[i].line, tenant,
			    it[i].name);
			goto out;
		}
	}
	ex = VAULT_EXIT_OK;
out:
	bg_vault_secret_free(&l);
	return ex;
}

static int
secret_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "as",		required_argument, NULL, OPT_AS },
		{ NULL, 0, NULL, 0 }
	};
	struct seal_op o;
	const char *as = NULL;
	char what[BG_VAULT_NAME_MAX + 32], shown[256];
	bg_vault_t *v = NULL;
	import_item_t *it = NULL;
	const char **names = NULL;
	const uint8_t **where = NULL;	/* into buf: pointers only */
	size_t *lens = NULL, n = 0, i, cap = 0, len = 0;
	uint8_t *buf = NULL;
	int c, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == 'h') {
			ex = vault_usage_ok(usage);
			goto out;
		}
		if (c == OPT_AS) {
			as = optarg;
			continue;
		}
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "secret import %s", argv[optind]);
	if (as == NULL) {
		vault_errx("%s: --as OPERATOR is required: the seal is signed "
		    "by the operator who makes it", what);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (vault_g.pin_file == NULL) {
		vault_errx("%s: standard input holds the values: give the "
		    "operator's PIN with --pin-file", what);
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (isatty(STDIN_FILENO)) {
		vault_errx("secret import: reads NAME=VALUE lines from a file "
		    "or a pipe on standard input, not from a terminal");
		ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if ((ex = import_read(&buf, &cap, &len)) != 0 ||
	    (ex = import_parse(buf, len, &it, &n)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	if ((names = calloc(n, sizeof(*names))) == NULL ||
	    (where = calloc(n, sizeof(*where))) == NULL ||
	    (lens = calloc(n, sizeof(*lens))) == NULL) {
		vault_err(BG_ERR_NOMEM, "secret import");
		goto out;
	}
	for (i = 0; i < n; i++) {
		names[i] = it[i].name;
		where[i] = it[i].val;
		lens[i] = it[i].len;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((ex = import_exists(v, argv[optind], it, n)) != 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.v = v;
	o.tenant = argv[optind];
	o.n = n;
	o.names = names;
	o.values = where;
	o.lens = lens;
	(void)snprintf(shown, sizeof(shown), "%s seals %zu secrets of %s in "
	    "one statement (and knows their values from now on)", as, n,
	    argv[optind]);
	if ((ex = vault_signed_act(v, argv[optind], as, what, shown, seal_op,
	    &o)) != 0)
		goto out;
	vault_note("sealed %zu secrets of %s, version 1 each, in one "
	    "transaction", n, argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	if (buf != NULL) {
		sodium_memzero(buf, cap);
		sodium_free(buf);
	}
	free(names);
	free(where);
	free(lens);
	free(it);
	bg_vault_close(&v);
	return ex;
}

static json_t *
secret_json(const bg_vault_secret_info_t *s)
{
	return json_pack("{s:s, s:s, s:o, s:i, s:s, s:o, s:o, s:o, s:o, "
	    "s:I, s:s, s:o, s:I, s:o}",
	    "tenant", s->tenant, "name", s->name,
	    "created_at", vault_json_time(s->created_at),
	    "version", s->version,
	    "state", bg_vault_secret_state_name(s->state),
	    "sealed_at", vault_json_time(s->sealed_at),
	    "released_at", vault_json_time(s->released_at),
	    "lease_until", vault_json_time(s->lease_until),
	    "rotate_by", vault_json_time(s->rotate_by),
	    "value_length", (json_int_t)s->value_len,
	    "policy_hash", s->policy_hash,
	    "pending_version", s->pending_version > 0 ?
	    json_integer(s->pending_version) : json_null(),
	    "retired_versions", (json_int_t)s->n_retired,
	    "open_request", s->open_request > 0 ?
	    json_integer((json_int_t)s->open_request) : json_null());
}

/* "sealed", "released (lease ends ...)", "rotation-due since ..." */
static void
state_words(const bg_vault_secret_info_t *s, char *buf, size_t cap)
{
	char tb[32];

	switch (s->state) {
	case BG_VAULT_SECRET_RELEASED:
		snprintf(buf, cap, "released, lease until %s",
		    vault_fmt_time(s->lease_until, tb));
		break;
	case BG_VAULT_SECRET_ROTATION_DUE:
		snprintf(buf, cap, "rotation-due by %s",
		    vault_fmt_time(s->rotate_by, tb));
		break;
	case BG_VAULT_SECRET_OVERDUE:
		snprintf(buf, cap, "OVERDUE since %s",
		    vault_fmt_time(s->rotate_by, tb));
		break;
	default:
		snprintf(buf, cap, "%s", bg_vault_secret_state_name(s->state));
		break;
	}
}

static int
secret_list_show(int argc, char **argv, bool show)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_secret_info_t *list = NULL;
	bg_vault_version_info_t *vers = NULL;
	json_t *j = NULL, *arr = NULL, *o;
	char *tenant = NULL, *name = NULL;
	char st[128], tb[32], tb2[32];
	size_t n = 0, nv = 0, i;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == 'h') {
			ex = vault_usage_ok(usage);
			goto out;
		}
		ex = vault_usage_err(usage);
		goto out;
	}
	if (show) {
		if (argc - optind != 1 ||
		    vault_split_ref(argv[optind], &tenant, &name) != 0) {
			(void)vault_hint_ref("secret show", true, argc - optind,
			    argv + optind);
			ex = vault_usage_err(usage);
			goto out;
		}
	} else if (argc - optind > 1) {
		if (argc - optind == 2)
			vault_errx("secret list takes one TENANT; to see one "
			    "secret: vault secret show %s/%s", argv[optind],
			    argv[optind + 1]);
		ex = vault_usage_err(usage);
		goto out;
	} else if (argc - optind == 1 && strchr(argv[optind], '/') != NULL) {
		vault_errx("secret list takes a TENANT; to see one secret: "
		    "vault secret show %s", argv[optind]);
		ex = vault_usage_err(usage);
		goto out;
	} else if (argc - optind == 1 && (tenant = strdup(argv[optind])) == NULL) {
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (show) {
		r = bg_vault_secret_show(v, tenant, name, &list);
		n = 1;
		if (r == BG_OK)
			r = bg_vault_secret_versions(v, tenant, name, &vers,
			    &nv);
	} else
		r = bg_vault_secret_list(v, tenant, &list, &n);
	if (r != BG_OK) {
		ex = vault_fail(v, r, "secret %s%s%s%s%s", show ? "show" :
		    "list", tenant ? " " : "", tenant ? tenant : "",
		    name ? "/" : "", name ? name : "");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if (vault_g.json) {
		if (show) {
			if ((j = secret_json(&list[0])) == NULL ||
			    (arr = json_array()) == NULL)
				goto out;
			for (i = 0; i < nv; i++) {
				o = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, "
				    "s:I, s:s}", "version", vers[i].version,
				    "state",
				    bg_vault_version_state_name(vers[i].state),
				    "sealed_at",
				    vault_json_time(vers[i].sealed_at),
				    "released_at",
				    vault_json_time(vers[i].released_at),
				    "lease_until",
				    vault_json_time(vers[i].lease_until),
				    "retired_at",
				    vault_json_time(vers[i].retired_at),
				    "value_length", (json_int_t)vers[i].value_len,
				    "policy_hash", vers[i].policy_hash);
				if (o != NULL && json_object_set_new(o,
				    "known_to", vers[i].known_to[0] != '\0' ?
				    json_string(vers[i].known_to) :
				    json_null()) != 0)
					goto out;
				if (json_array_append_new(arr, o) != 0)
					goto out;
			}
			if (json_object_set_new(j, "versions", arr) != 0) {
				arr = NULL;
				goto out;
			}
			arr = NULL;
		} else {
			if ((arr = json_array()) == NULL)
				goto out;
			for (i = 0; i < n; i++)
				if (json_array_append_new(arr,
				    secret_json(&list[i])) != 0)
					goto out;
			j = json_pack("{s:o}", "secrets", arr);
			arr = NULL;
		}
		if (j == NULL || json_object_set_new(j, "soft_tokens_allowed",
		    json_boolean(bg_vault_allows_soft_tokens(v))) != 0 ||
		    vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	vault_soft_banner(v);
	if (show) {
		const bg_vault_secret_info_t *s = &list[0];

		state_words(s, st, sizeof(st));
		printf("secret:        %s/%s\n", s->tenant, s->name);
		printf("state:         %s\n", st);
		printf("version:       %d (sealed %s, %zu bytes)\n", s->version,
		    vault_fmt_time(s->sealed_at, tb), s->value_len);
		printf("sealed under:  policy %.16s...\n", s->policy_hash);
		if (s->released_at > 0)
			printf("released:      %s, lease until %s\n",
			    vault_fmt_time(s->released_at, tb),
			    vault_fmt_time(s->lease_until, tb2));
		if (s->open_request > 0)
			printf("open request:  %lld\n",
			    (long long)s->open_request);
		if (s->pending_version > 0)
			printf("rotation:      version %d pending (vault rotate "
			    "commit %s/%s)\n", s->pending_version, s->tenant,
			    s->name);
		printf("versions:\n");
		for (i = 0; i < nv; i++)
			printf("  %3d  %-8s sealed %s%s%s%s%s%s\n",
			    vers[i].version,
			    bg_vault_version_state_name(vers[i].state),
			    vault_fmt_time(vers[i].sealed_at, tb),
			    vers[i].known_to[0] != '\0' ? " by " : "",
			    vers[i].known_to,
			    vers[i].known_to[0] != '\0' ?
			    " (known to them)" : " (no signed seal: rotate it)",
			    vers[i].retired_at > 0 ? ", retired " : "",
			    vers[i].retired_at > 0 ?
			    vault_fmt_time(vers[i].retired_at, tb2) : "");
		printf("(the value is never shown here; see vault request)\n");
	} else if (n == 0)
		printf("no secrets%s%s\n", tenant ? " in " : "",
		    tenant ? tenant : "");
	else {
		printf("%-28s %-4s %s\n", "SECRET", "VER", "STATE");
		for (i = 0; i < n; i++) {
			char ref[2 * BG_VAULT_NAME_MAX + 2];

			snprintf(ref, sizeof(ref), "%s/%s", list[i].tenant,
			    list[i].name);
			state_words(&list[i], st, sizeof(st));
			printf("%-28s %-4d %s%s\n", ref, list[i].version, st,
			    list[i].pending_version > 0 ?
			    " (rotation pending)" : "");
		}
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(arr);
	json_decref(j);
	bg_vault_secret_free(&list);
	bg_vault_version_free(&vers);
	bg_vault_close(&v);
	free(tenant);
	free(name);
	return ex;
}

int
cmd_secret(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "add") == 0)
		return secret_add(argc - 1, argv + 1);
	if (strcmp(argv[1], "import") == 0)
		return secret_import(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return secret_list_show(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "show") == 0)
		return secret_list_show(argc - 1, argv + 1, true);
	return vault_subcommand_unknown("secret", argv[1], usage);
}
