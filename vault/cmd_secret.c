/* vault secret add | list | show  (never prints a stored value) */
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
    "usage: vault secret add TENANT NAME [--generate [--length N] "
    "[--charset SET] [--show]]\n"
    "       vault secret list [TENANT] [--json]\n"
    "       vault secret show TENANT/NAME [--json]\n";

#define DEFAULT_GEN_LEN 32

enum { OPT_GENERATE = VOPT_LOCAL, OPT_LENGTH, OPT_CHARSET, OPT_SHOW };

static int
secret_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "generate",	no_argument,	   NULL, OPT_GENERATE },
		{ "length",	required_argument, NULL, OPT_LENGTH },
		{ "charset",	required_argument, NULL, OPT_CHARSET },
		{ "show",	no_argument,	   NULL, OPT_SHOW },
		{ NULL, 0, NULL, 0 }
	};
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
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 2) {
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
	if (gen) {
		if ((r = bg_vault_generate((size_t)glen, classes, &val,
		    &len)) != BG_OK) {
			ex = vault_fail(NULL, r, "%s", what);
			goto out;
		}
	} else if ((ex = vault_read_value(ref, &val, &len)) != 0)
		goto out;
	if ((r = bg_vault_secret_add(v, vault_actor(), argv[optind],
	    argv[optind + 1], val, len)) != BG_OK) {
		ex = vault_fail(v, r, "%s", what);
		goto out;
	}
	if (show) {
		/* shown once, at the operator's request */
		ex = VAULT_EXIT_FAIL;
		if (fwrite(val, 1, len, stdout) != len || putchar('\n') == EOF
		    || fflush(stdout) != 0) {
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
	ex = VAULT_EXIT_OK;
out:
	if (val != NULL) {
		sodium_memzero(val, len);
		sodium_free(val);
	}
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
			ex = vault_usage_err(usage);
			goto out;
		}
	} else if (argc - optind > 1) {
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
			printf("  %3d  %-8s sealed %s%s%s\n", vers[i].version,
			    bg_vault_version_state_name(vers[i].state),
			    vault_fmt_time(vers[i].sealed_at, tb),
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
	if (argc < 2)
		return vault_usage_err(usage);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return vault_usage_ok(usage);
	if (strcmp(argv[1], "add") == 0)
		return secret_add(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return secret_list_show(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "show") == 0)
		return secret_list_show(argc - 1, argv + 1, true);
	vault_errx("secret: unknown subcommand '%s'", argv[1]);
	return vault_usage_err(usage);
}
