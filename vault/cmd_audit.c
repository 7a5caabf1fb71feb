/* vault audit log | verify */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"
#include "util.h"

static const char usage[] =
    "usage: vault audit log [--json] [--tenant TENANT] [--person PERSON] "
    "[--action ACTION]\n"
    "                       [--since TIME] [--until TIME]\n"
    "       vault audit verify\n";

enum { OPT_TENANT = VOPT_LOCAL, OPT_PERSON, OPT_ACTION, OPT_SINCE,
    OPT_UNTIL };

static json_t *
event_json(const bg_vault_event_t *e)
{
	json_t *o = NULL, *ret = NULL;
	char *leaf = NULL, *chain = NULL;

	if ((o = json_loads(e->entry, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o))
		goto out;
	if ((leaf = bg_cli_hex(e->leaf, sizeof(e->leaf))) == NULL ||
	    (chain = bg_cli_hex(e->chain, sizeof(e->chain))) == NULL)
		goto out;
	if (json_object_set_new(o, "leaf_hash", json_string(leaf)) != 0 ||
	    json_object_set_new(o, "chain_hash", json_string(chain)) != 0)
		goto out;
	ret = o;
	o = NULL;
out:
	json_decref(o);
	free(leaf);
	free(chain);
	return ret;
}

static void
print_event(const bg_vault_event_t *e)
{
	json_t *o = NULL, *d;
	char *det = NULL;
	char tb[32];

	if ((o = json_loads(e->entry, 0, NULL)) != NULL &&
	    (d = json_object_get(o, "details")) != NULL &&
	    json_object_size(d) > 0)
		det = json_dumps(d, JSON_SORT_KEYS | JSON_COMPACT);
	printf("%5lld  %s  %-10s %-16s %s%s%s%s%s\n", (long long)e->seq,
	    vault_fmt_time(e->time, tb), e->actor, e->action,
	    e->tenant[0] ? e->tenant : "-", e->object[0] ? " " : "",
	    e->object, det ? "  " : "", det ? det : "");
	free(det);
	json_decref(o);
}

static int
audit_log(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "tenant",	required_argument, NULL, OPT_TENANT },
		{ "person",	required_argument, NULL, OPT_PERSON },
		{ "action",	required_argument, NULL, OPT_ACTION },
		{ "since",	required_argument, NULL, OPT_SINCE },
		{ "until",	required_argument, NULL, OPT_UNTIL },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_audit_filter_t f;
	bg_vault_t *v = NULL;
	bg_vault_event_t *list = NULL;
	json_t *j = NULL, *arr = NULL, *o;
	uint8_t head[BG_VAULT_HASH_LEN];
	char *hh = NULL;
	int64_t size = 0;
	size_t n = 0, i;
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&f, 0, sizeof(f));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_TENANT:
			f.tenant = optarg;
			break;
		case OPT_PERSON:
			f.person = optarg;
			break;
		case OPT_ACTION:
			f.action = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (vault_parse_time(optarg, c == OPT_SINCE ?
			    &f.since : &f.until) != 0) {
				vault_errx("audit log: bad time '%s' "
				    "(YYYY-MM-DD[THH:MM[:SS]], @EPOCH, -2h)",
				    optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_audit_list(v, &f, &list, &n)) != BG_OK ||
	    (r = bg_vault_audit_head(v, &size, head)) != BG_OK) {
		ex = vault_fail(v, r, "audit log");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if ((hh = bg_cli_hex(head, sizeof(head))) == NULL)
		goto out;
	if (vault_g.json) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (i = 0; i < n; i++) {
			if ((o = event_json(&list[i])) == NULL) {
				vault_errx("audit log: event %lld is not "
				    "valid JSON", (long long)list[i].seq);
				goto out;
			}
			if (json_array_append_new(arr, o) != 0)
				goto out;
		}
		j = json_pack("{s:o, s:{s:I, s:s}, s:s}", "events", arr,
		    "head", "size", (json_int_t)size, "chain_hash", hh,
		    "vault_id", bg_vault_id(v));
		arr = NULL;
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	for (i = 0; i < n; i++)
		print_event(&list[i]);
	printf("log head: %lld events, chain %.16s...\n", (long long)size, hh);
	ex = VAULT_EXIT_OK;
out:
	free(hh);
	json_decref(arr);
	json_decref(j);
	bg_vault_audit_free(&list, n);
	bg_vault_close(&v);
	return ex;
}

static int
audit_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	uint8_t head[BG_VAULT_HASH_LEN];
	char *hh = NULL;
	int64_t size = 0, bad = 0, hsize = 0;
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
	if (argc - optind != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_audit_verify(v, &size, &bad)) != BG_OK) {
		if (r == BG_ERR_AUTH)
			ex = vault_fail(v, r, "audit verify: event %lld",
			    (long long)bad);
		else
			ex = vault_fail(v, r, "audit verify");
		goto out;
	}
	if ((r = bg_vault_audit_head(v, &hsize, head)) != BG_OK) {
		ex = vault_fail(v, r, "audit verify");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if ((hh = bg_cli_hex(head, sizeof(head))) == NULL)
		goto out;
	printf("audit log intact: %lld events, chain head %s\n",
	    (long long)size, hh);
	ex = VAULT_EXIT_OK;
out:
	free(hh);
	bg_vault_close(&v);
	return ex;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2)
		return vault_usage_err(usage);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return vault_usage_ok(usage);
	if (strcmp(argv[1], "log") == 0)
		return audit_log(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	vault_errx("audit: unknown subcommand '%s'", argv[1]);
	return vault_usage_err(usage);
}
