/* vault policy set | show */
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

static const char usage[] =
    "usage: vault policy set TENANT POLICY\n"
    "       vault policy show TENANT [--json]\n";

static int
policy_cmd(int argc, char **argv, bool set)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_tenant_info_t *t = NULL;
	char *text = NULL;
	char hash[2 * BG_VAULT_HASH_LEN + 1];
	json_t *j = NULL;
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
	if (argc - optind != (set ? 2 : 1)) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (set && (r = bg_vault_policy_set(v, vault_actor(), argv[optind],
	    argv[optind + 1])) != BG_OK) {
		ex = vault_fail(v, r, "policy set %s", argv[optind]);
		goto out;
	}
	if ((r = bg_vault_policy_get(v, argv[optind], &text, hash)) != BG_OK) {
		if (r == BG_ERR_NOT_FOUND && !set &&
		    bg_vault_tenant_show(v, argv[optind], &t) == BG_OK)
			vault_errx("policy show %s: no policy yet (vault policy "
			    "set %s 'POLICY')", argv[optind], argv[optind]);
		else
			(void)vault_fail(v, r, "policy %s %s",
			    set ? "set" : "show", argv[optind]);
		ex = vault_exit(r);
		goto out;
	}
	if (set) {
		printf("policy of %s set: %s\n", argv[optind], text);
		printf("policy hash: %s\n", hash);
		ex = VAULT_EXIT_OK;
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if ((r = bg_vault_tenant_show(v, argv[optind], &t)) != BG_OK) {
		ex = vault_fail(v, r, "policy show %s", argv[optind]);
		goto out;
	}
	if (vault_g.json) {
		j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
		    "tenant", argv[optind], "policy", text, "policy_hash", hash,
		    "max_ttl", (json_int_t)t->max_ttl,
		    "approval_window", (json_int_t)t->approval_window,
		    "rotation_deadline", (json_int_t)t->rotation_deadline);
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
	} else {
		char s1[32], s2[32], s3[32];

		printf("tenant:            %s\n", argv[optind]);
		printf("policy:            %s\n", text);
		printf("policy hash:       %s\n", hash);
		printf("max TTL:           %s\n",
		    vault_fmt_span(t->max_ttl, s1));
		printf("approval window:   %s\n",
		    vault_fmt_span(t->approval_window, s2));
		printf("rotation deadline: %s after the lease ends\n",
		    vault_fmt_span(t->rotation_deadline, s3));
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(j);
	free(text);
	bg_vault_tenant_free(&t);
	bg_vault_close(&v);
	return ex;
}

int
cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		return vault_usage_err(usage);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return vault_usage_ok(usage);
	if (strcmp(argv[1], "set") == 0)
		return policy_cmd(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "show") == 0)
		return policy_cmd(argc - 1, argv + 1, false);
	vault_errx("policy: unknown subcommand '%s'", argv[1]);
	return vault_usage_err(usage);
}
