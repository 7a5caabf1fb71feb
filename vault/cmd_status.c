/* vault status | check */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage_status[] =
    "usage: vault status [TENANT] [--json]\n";
static const char usage_check[] =
    "usage: vault check [TENANT]\n";

static json_t *
check_json(const bg_vault_check_t *k)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
	    "open_requests", (json_int_t)k->n_open_requests,
	    "active_leases", (json_int_t)k->n_active_leases,
	    "rotation_due", (json_int_t)k->n_rotation_due,
	    "overdue", (json_int_t)k->n_overdue,
	    "pending_rotations", (json_int_t)k->n_pending_rotations,
	    "members_expiring", (json_int_t)k->n_members_expiring,
	    "members_expired", (json_int_t)k->n_members_expired,
	    "attention", k->attention);
}

/*
 * The role of a membership item, from its object "person (role)"; NULL
 * for other items.  role holds at least BG_VAULT_NAME_MAX + 1 bytes.
 */
static const char *
item_role(const bg_vault_status_item_t *it, char *role, size_t cap)
{
	const char *p;
	size_t n;
	int x;

	if (it->kind != BG_VAULT_STATUS_MEMBER_EXPIRING &&
	    it->kind != BG_VAULT_STATUS_MEMBER_EXPIRED)
		return NULL;
	if ((p = strrchr(it->object, '(')) == NULL ||
	    (n = strlen(p + 1)) < 2 || n - 1 >= cap)
		return NULL;
	memcpy(role, p + 1, n - 1);
	role[n - 1] = '\0';
	return bg_vault_role_parse(role, &x) == BG_OK ? role : NULL;
}

static int
status_cmd(int argc, char **argv, bool check)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *usage = check ? usage_check : usage_status;
	bg_vault_t *v = NULL;
	bg_vault_status_item_t *it = NULL;
	bg_vault_check_t k;
	json_t *j = NULL, *arr = NULL, *o;
	const char *tenant = NULL, *role;
	char tb[32], sb[32], rb[BG_VAULT_NAME_MAX + 1];
	char group[2 * BG_VAULT_NAME_MAX + 4];
	bool sub;
	int64_t now = (int64_t)time(NULL);
	size_t n = 0, i;
	int c, r, ex = VAULT_EXIT_FAIL, last = 0;

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
	if (argc - optind > 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind == 1)
		tenant = argv[optind];
	memset(&k, 0, sizeof(k));
	if ((ex = vault_open(&v)) != 0)
		goto out;
	/* check reads the whole file once: opening does not (security.md) */
	if (check && (r = bg_vault_integrity(v, false)) != BG_OK) {
		ex = vault_fail(v, r, "check");
		if (r == BG_ERR_DB_CORRUPT)
			ex = VAULT_EXIT_TAMPERED;
		goto out;
	}
	/* every keyset chain, by signatures: an edited link is tampering */
	if (check && (r = bg_vault_chains_verify(v, NULL)) != BG_OK &&
	    r != BG_ERR_STATE) {
		ex = vault_fail(v, r, "check");
		if (r == BG_ERR_AUTH)
			ex = VAULT_EXIT_TAMPERED;
		goto out;
	}
	/* check moves the clock's high-water mark: deadlines passed while
	 * nobody worked stay passed if the clock is set back later */
	if (check && (r = bg_vault_clock_tick(v, "clock")) != BG_OK) {
		ex = vault_fail(v, r, "check");
		goto out;
	}
	if ((r = bg_vault_status(v, tenant, &it, &n, &k)) != BG_OK) {
		ex = vault_fail(v, r, "%s", argv[0]);
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if (check) {
		/* one line per finding that needs action, for cron mail,
		 * and each lease running (the rotation that will be due) */
		for (i = 0; i < n; i++) {
			if (it[i].kind != BG_VAULT_STATUS_ACTIVE_LEASE &&
			    it[i].kind != BG_VAULT_STATUS_ROTATION_DUE &&
			    it[i].kind != BG_VAULT_STATUS_OVERDUE &&
			    it[i].kind != BG_VAULT_STATUS_MEMBER_EXPIRED &&
			    it[i].kind != BG_VAULT_STATUS_MEMBER_EXPIRING &&
			    it[i].kind != BG_VAULT_STATUS_QUORUM_AT_RISK)
				continue;
			printf("%s: %s/%s: %s\n",
			    bg_vault_status_kind_name(it[i].kind),
			    it[i].tenant, it[i].object, it[i].text);
		}
		if (k.attention) {
			fflush(stdout);
			vault_errx("check: %zu secret(s) await rotation "
			    "(%zu overdue)", k.n_rotation_due + k.n_overdue,
			    k.n_overdue);
			ex = VAULT_EXIT_CHECK;
		} else {
			/* a lease is the approved use: nothing to do yet */
			if (k.n_active_leases > 0)
				printf("ok: nothing overdue (%zu lease(s) "
				    "running: rotate each once it ends)\n",
				    k.n_active_leases);
			else
				printf("ok: nothing overdue\n");
			ex = VAULT_EXIT_OK;
		}
		goto out;
	}
	if (vault_g.json) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (i = 0; i < n; i++) {
			o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s}",
			    "kind", bg_vault_status_kind_name(it[i].kind),
			    "tenant", it[i].tenant, "object", it[i].object,
			    "request", it[i].request_id > 0 ?
			    json_integer((json_int_t)it[i].request_id) :
			    json_null(),
			    "version", it[i].version > 0 ?
			    json_integer(it[i].version) : json_null(),
			    "when", vault_json_time(it[i].when),
			    "text", it[i].text);
			/* memberships: the role, for grouping per tier */
			if (o != NULL && (role = item_role(&it[i], rb,
			    sizeof(rb))) != NULL && json_object_set_new(o,
			    "role", json_string(role)) != 0)
				goto out;
			if (json_array_append_new(arr, o) != 0)
				goto out;
		}
		j = json_pack("{s:o, s:o, s:b, s:I}", "items", arr,
		    "counts", check_json(&k),
		    "soft_tokens_allowed", bg_vault_allows_soft_tokens(v),
		    "now", (json_int_t)now);
		arr = NULL;
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	vault_soft_banner(v);
	if (n == 0)
		printf("nothing to report%s%s: no open requests, leases or "
		    "rotations due\n", tenant ? " for " : "",
		    tenant ? tenant : "");
	for (i = 0; i < n; i++) {
		if (it[i].kind != last) {
			const char *h = "";
			switch (it[i].kind) {
			case BG_VAULT_STATUS_OPEN_REQUEST:
				h = "Open requests"; break;
			case BG_VAULT_STATUS_ACTIVE_LEASE:
				h = "Active leases"; break;
			case BG_VAULT_STATUS_ROTATION_DUE:
				h = "Rotation due"; break;
			case BG_VAULT_STATUS_OVERDUE:
				h = "OVERDUE rotations"; break;
			case BG_VAULT_STATUS_PENDING_ROTATION:
				h = "Rotations begun, not committed"; break;
			case BG_VAULT_STATUS_MEMBER_EXPIRING:
				h = "Memberships expiring within 30 days";
				break;
			case BG_VAULT_STATUS_MEMBER_EXPIRED:
				h = "Expired memberships"; break;
			case BG_VAULT_STATUS_QUORUM_AT_RISK:
				h = "QUORUM AT RISK"; break;
			case BG_VAULT_STATUS_QUORUM_BY_DESIGN:
				h = "Approvers without an alternate (by "
				    "design; a note)";
				break;
			case BG_VAULT_STATUS_MSP_EXCEPTION:
				h = "MSP self-approval exceptions (documented)";
				break;
			case BG_VAULT_STATUS_MSP_EXCEPTION_ENDED:
				h = "MSP self-approval exceptions ENDED";
				break;
			default:
				h = bg_vault_status_kind_name(it[i].kind);
			}
			printf("%s%s:\n", last ? "\n" : "", h);
			last = it[i].kind;
			group[0] = '\0';
		}
		/* memberships by tenant and role: recertification per tier */
		sub = (role = item_role(&it[i], rb, sizeof(rb))) != NULL;
		if (sub) {
			char g[sizeof(group)];

			(void)snprintf(g, sizeof(g), "%s, %s", it[i].tenant,
			    role);
			if (strcmp(g, group) != 0) {
				printf("  %s:\n", g);
				memcpy(group, g, sizeof(group));
			}
		}
		printf("%s%s/%s", sub ? "    " : "  ", it[i].tenant,
		    it[i].object);
		if (it[i].request_id > 0)
			printf(" (request %lld)", (long long)it[i].request_id);
		if (it[i].when > 0)
			printf(" %s %s (%s %s)",
			    it[i].when >= now ? "until" : "since",
			    vault_fmt_time(it[i].when, tb),
			    vault_fmt_span(it[i].when >= now ?
			    it[i].when - now : now - it[i].when, sb),
			    it[i].when >= now ? "left" : "ago");
		printf("\n%s%s\n", sub ? "      " : "    ", it[i].text);
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(arr);
	json_decref(j);
	bg_vault_status_free(&it);
	bg_vault_close(&v);
	return ex;
}

int
cmd_status(int argc, char **argv)
{
	return status_cmd(argc, argv, false);
}

int
cmd_check(int argc, char **argv)
{
	return status_cmd(argc, argv, true);
}
