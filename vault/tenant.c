/*
 * Tenants, their settings and policies: each change amends the tenant's
 * draft link (chainstore.c); the row a tenant has is for ids and
 * listings, and bg_tenant_get() reads policy and settings from the
 * verified chain (DESIGN "Future seals are the weak spot").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "lifecycle_int.h"
#include "policy.h"
#include "vault_int.h"

void
bg_tenant_row_clear(bg_tenant_row_t *row)
{
	if (row == NULL)
		return;
	free(row->policy);
	bg_chain_link_free(&row->head);
	memset(row, 0, sizeof(*row));
}

int
bg_tenant_get(bg_vault_t *v, const char *name, bg_tenant_row_t *row)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	int r = BG_ERR_INTERNAL;

	memset(row, 0, sizeof(*row));
	if ((r = bg_vault_check_name(v, "tenant name", name)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT id, name, created_at, "
	    "offboarded_at FROM tenants WHERE name = ?", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, name)) != BG_OK ||
	    (r = bg_store_step(v, st, &found)) != BG_OK)
		goto out;
	if (!found) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no tenant '%s'", name);
		goto out;
	}
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		char when[32];

		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' was offboarded "
		    "at %s", name, bg_vault_fmt_time(sqlite3_column_int64(st,
		    3), when, sizeof(when)));
		goto out;
	}
	row->id = sqlite3_column_int64(st, 0);
	bg_store_col_text(st, 1, row->name, sizeof(row->name));
	row->created_at = sqlite3_column_int64(st, 2);
	/* Settings and policy come from the verified chain, not the row. */
	if ((r = bg_chain_tenant(v, row->name, 0, &row->head,
	    row->head_hash)) != BG_OK)
		goto out;
	row->max_ttl = BG_VAULT_DEFAULT_MAX_TTL;
	row->approval_window = BG_VAULT_DEFAULT_APPROVAL_WINDOW;
	row->rotation_deadline = BG_VAULT_DEFAULT_ROTATION_DEADLINE;
	if (row->head != NULL) {
		row->max_ttl = row->head->settings.max_ttl;
		row->approval_window = row->head->settings.approval_window;
		row->rotation_deadline = row->head->settings.rotation_deadline;
		if (row->head->policy != NULL &&
		    (row->policy = strdup(row->head->policy)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	if (r != BG_OK)
		bg_tenant_row_clear(row);
	return r;
}

static int
check_opts(bg_vault_t *v, const bg_vault_tenant_opts_t *o)
{
	if (o == NULL)
		return BG_OK;
	if (o->max_ttl < 0 || (o->max_ttl > 0 && o->max_ttl < 60) ||
	    o->max_ttl > 7 * 86400)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "maximum TTL must be between 1 minute and 7 days");
	if (o->approval_window < 0 || (o->approval_window > 0 &&
	    o->approval_window < 60) || o->approval_window > 30 * 86400)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "approval window must be between 1 minute and 30 days");
	if (o->rotation_deadline < 0 || (o->rotation_deadline > 0 &&
	    o->rotation_deadline < 60) || o->rotation_deadline > 90 * 86400)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "rotation deadline must be between 1 minute and 90 days");
	if (o->client_cosign < 0 || o->client_cosign > 16)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "client co-signers must be between 1 and 16");
	return BG_OK;
}

/* Apply the non-zero fields of opts to a draft's settings. */
static void
apply_opts(bg_chain_link_t *d, const bg_vault_tenant_opts_t *o)
{
	if (o == NULL)
		return;
	if (o->max_ttl > 0)
		d->settings.max_ttl = o->max_ttl;
	if (o->approval_window > 0)
		d->settings.approval_window = o->approval_window;
	if (o->rotation_deadline > 0)
		d->settings.rotation_deadline = o->rotation_deadline;
	if (o->client_cosign > 0)
		d->settings.client_cosign = o->client_cosign;
}

static json_t *
settings_json(const bg_chain_link_t *d)
{
	return json_pack("{s:I, s:I, s:I, s:i, s:I}", "max_ttl",
	    (json_int_t)d->settings.max_ttl, "approval_window",
	    (json_int_t)d->settings.approval_window, "rotation_deadline",
	    (json_int_t)d->settings.rotation_deadline, "client_cosign",
	    d->settings.client_cosign, "draft_seq", (json_int_t)d->seq);
}

int
bg_vault_tenant_add(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *name, const bg_vault_tenant_opts_t *opts)
{
	sqlite3_stmt *st = NULL;
	bg_chain_link_t *d = NULL;
	bg_admin_t a;
	int64_t now = 0;
	json_t *det = NULL;
	char *lines = NULL;
	const char *person = by != NULL ? by->person : NULL;
	bool checked = false;
	int r = BG_ERR_INTERNAL;

	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = bg_vault_check_name(v, "tenant name", name)) != BG_OK ||
	    (r = check_opts(v, opts)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_chain_require_genesis(v)) != BG_OK ||
	    (r = bg_admin_who(v, NULL, by->person, BG_ADMIN_CUSTODIAN, now,
	    &a)) != BG_OK)
		goto out;
	/* The row's settings are display copies; the link holds them. */
	if ((r = bg_store_prepare(v, "INSERT INTO tenants (name, created_at, "
	    "max_ttl, approval_window, rotation_deadline) "
	    "VALUES (?, ?, 0, 0, 0)", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, name)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, now)) != BG_OK)
		goto out;
	if ((r = bg_store_step_done(v, st)) != BG_OK) {
		if (r == BG_ERR_EXISTS)
			r = bg_vault_fail(v, r, "tenant '%s' already exists",
			    name);
		goto out;
	}
	if ((r = bg_chain_draft_get(v, name, now, &d)) != BG_OK)
		goto out;
	apply_opts(d, opts);
	(void)snprintf(d->note, sizeof(d->note), "first link of %s", name);
	if ((r = bg_chain_draft_put(v, name, d, now, NULL, NULL)) != BG_OK)
		goto out;
	if ((det = settings_json(d)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_note(d, det)) != BG_OK ||
	    (r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, name, &a, by, "tenant.add", lines, now, det,
	    &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, by->person, "tenant.add", name, name, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	bg_chain_link_free(&d);
	return bg_vault_finish(v, r, person, "tenant.add", name, name);
}

int
bg_vault_tenant_set(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *name, const bg_vault_tenant_opts_t *opts)
{
	bg_tenant_row_t t;
	bg_chain_link_t *d = NULL;
	bg_admin_t a;
	int64_t now = 0;
	size_t dropped = 0;
	json_t *det = NULL;
	char *lines = NULL;
	const char *person = by != NULL ? by->person : NULL;
	bool checked = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = check_opts(v, opts)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, name, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR |
	    BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK ||
	    (r = bg_chain_draft_get(v, t.name, now, &d)) != BG_OK)
		goto out;
	apply_opts(d, opts);
	if ((r = bg_chain_draft_put(v, t.name, d, now, &dropped, NULL)) != BG_OK)
		goto out;
	if ((det = settings_json(d)) == NULL ||
	    json_object_set_new(det, "signatures_dropped",
	    json_integer((json_int_t)dropped)) != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_note(d, det)) != BG_OK ||
	    (r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, t.name, &a, by, "tenant.set", lines, now, det,
	    &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, by->person, "tenant.set", name, name, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	bg_chain_link_free(&d);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, person, "tenant.set", name, name);
}

/*
 * One statement for the whole list: members counted as correlated
 * subqueries over an index, secrets and sealed versions read from the
 * counts the triggers of schema 10 keep (docs/benchmarks.md), so the list
 * does not touch every secret of the vault.
 */
#define BY_ROLE(n) \
	"(SELECT count(DISTINCT m.person) FROM memberships m WHERE " \
	"m.tenant_id = t.id AND m.removed_at IS NULL AND m.expires_at > ?2 " \
	"AND m.role = " #n "), "

static const char tenant_sql[] =
    "SELECT t.id, t.name, t.created_at, t.max_ttl, t.approval_window, "
    "t.rotation_deadline, t.policy, t.policy_hash, "
    BY_ROLE(1) BY_ROLE(2) BY_ROLE(3)
    "coalesce(c.secrets, 0), coalesce(c.sealed, 0), "
    "coalesce(t.offboarded_at, 0) "
    "FROM tenants t LEFT JOIN tenant_counts c ON c.tenant_id = t.id "
    "WHERE ?1 IS NULL OR t.name = ?1 ORDER BY t.name";

static void
tenant_fill(sqlite3_stmt *st, bg_vault_tenant_info_t *ti)
{
	memset(ti, 0, sizeof(*ti));
	bg_store_col_text(st, 1, ti->name, sizeof(ti->name));
	ti->created_at = sqlite3_column_int64(st, 2);
	ti->max_ttl = sqlite3_column_int64(st, 3);
	ti->approval_window = sqlite3_column_int64(st, 4);
	ti->rotation_deadline = sqlite3_column_int64(st, 5);
	ti->has_policy = sqlite3_column_type(st, 6) != SQLITE_NULL;
	bg_store_col_text(st, 6, ti->policy, sizeof(ti->policy));
	if (sqlite3_column_bytes(st, 7) == BG_VAULT_HASH_LEN)
		bg_hex(sqlite3_column_blob(st, 7), BG_VAULT_HASH_LEN,
		    ti->policy_hash);
	ti->n_requesters = (size_t)sqlite3_column_int64(st, 8);
	ti->n_approvers = (size_t)sqlite3_column_int64(st, 9);
	ti->n_auditors = (size_t)sqlite3_column_int64(st, 10);
	ti->n_secrets = (size_t)sqlite3_column_int64(st, 11);
	ti->n_sealed = (size_t)sqlite3_column_int64(st, 12);
	ti->offboarded_at = sqlite3_column_int64(st, 13);
}

static int
tenant_query(bg_vault_t *v, const char *name, bg_vault_tenant_info_t **listp,
    size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_vault_tenant_info_t *l = NULL;
	size_t n = 0, cap = 0;
	int64_t now = bg_vault_read_now(v);
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*listp = NULL;
	*np = 0;
	if ((r = bg_store_prepare(v, tenant_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, name)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, now)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&l, &cap, n, sizeof(*l))) != BG_OK)
			goto out;
		tenant_fill(st, &l[n++]);
	}
	*listp = l;
	*np = n;
	l = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(l);
	return r;
}

int
bg_vault_tenant_list(bg_vault_t *v, bg_vault_tenant_info_t **listp,
    size_t *np)
{
	if (listp == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	bg_vault_clear_err(v);
	return bg_vault_fail_default(v, tenant_query(v, NULL, listp, np));
}

int
bg_vault_tenant_show(bg_vault_t *v, const char *name,
    bg_vault_tenant_info_t **infop)
{
	bg_vault_tenant_info_t *l = NULL;
	size_t n = 0;
	int r = BG_ERR_INTERNAL;

	if (infop == NULL)
		return BG_ERR_INVALID_ARG;
	*infop = NULL;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "tenant name", name)) != BG_OK ||
	    (r = tenant_query(v, name, &l, &n)) != BG_OK)
		goto out;
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no tenant '%s'", name);
		goto out;
	}
	*infop = l;
	l = NULL;
	r = BG_OK;
out:
	free(l);
	return bg_vault_fail_default(v, r);
}

void
bg_vault_tenant_free(bg_vault_tenant_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}

/* --- policy ---------------------------------------------------------------- */

int
bg_policy_validate(bg_vault_t *v, const bg_chain_link_t *ks,
    const char *tenant, const char *expr, int64_t now, bg_policy_t **polp)
{
	bg_policy_t *pol = NULL;
	bg_policy_error_t perr;
	const bg_chain_member_t *m;
	char *why = NULL, when[32];
	size_t i, n;
	int r = BG_ERR_INTERNAL;

	*polp = NULL;
	if (expr == NULL || expr[0] == '\0') {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the policy is empty");
		goto out;
	}
	if (strlen(expr) > BG_VAULT_POLICY_MAX) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the policy is longer than "
		    "%d bytes", BG_VAULT_POLICY_MAX);
		goto out;
	}
	memset(&perr, 0, sizeof(perr));
	if ((r = bg_policy_parse(expr, &pol, &perr)) != BG_OK) {
		if (r == BG_ERR_PARSE)
			r = bg_vault_fail(v, r, "policy %s", perr.msg);
		goto out;
	}
	n = bg_policy_leaf_count(pol);
	for (i = 0; i < n; i++) {
		const char *name = bg_policy_leaf_name(pol, i);
		size_t pos = bg_policy_leaf_pos(pol, i);

		m = bg_chain_member_find(ks, name, BG_CHAIN_ROLE_APPROVER);
		if (m == NULL) {
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "policy position "
			    "%zu: unknown approver '%s' (not an approver of "
			    "%s)", pos, name, tenant);
			goto out;
		}
		if (m->expires_at <= now) {
			r = bg_vault_fail(v, BG_ERR_EXPIRED, "policy position "
			    "%zu: the approver membership of '%s' expired at "
			    "%s", pos, name,
			    bg_vault_fmt_time(m->expires_at, when, sizeof(when)));
			goto out;
		}
	}
	if ((r = bg_policy_check_dual(pol, &why)) != BG_OK) {
		if (r == BG_ERR_DENIED)
			r = bg_vault_fail(v, r, "%s", why != NULL ? why :
			    "a single person could satisfy this policy");
		goto out;
	}
	*polp = pol;
	pol = NULL;
	r = BG_OK;
out:
	free(why);
	bg_policy_free(&pol);
	return r;
}

int
bg_vault_policy_set(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *expr, const char *exception_reason,
    int64_t exception_until)
{
	bg_tenant_row_t t;
	bg_chain_link_t *d = NULL;
	bg_policy_t *pol = NULL;
	bg_admin_t a;
	json_t *det = NULL;
	char ph[2 * BG_VAULT_HASH_LEN + 1], *lines = NULL, *extra = NULL;
	const char *person = by != NULL ? by->person : NULL;
	int64_t now = 0;
	size_t dropped = 0;
	bool alone = false, checked = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if (exception_reason != NULL && (r = bg_vault_check_text(v,
	    "exception reason", exception_reason, BG_VAULT_REASON_MAX)) !=
	    BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR |
	    BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK ||
	    (r = bg_chain_draft_get(v, t.name, now, &d)) != BG_OK)
		goto out;
	if ((r = bg_policy_validate(v, d, t.name, expr, now, &pol)) != BG_OK)
		goto out;
	d->has_exception = false;
	d->exception_reason[0] = '\0';
	d->exception_expires = 0;
	free(d->policy);
	if ((d->policy = strdup(bg_policy_canonical(pol))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_msp_alone(d, &alone)) != BG_OK)
		goto out;
	if (alone) {
		if (exception_reason == NULL) {
			r = bg_vault_fail(v, BG_ERR_DENIED, "MSP approvers alone "
			    "could meet this policy: that is an exception the "
			    "client must sign, with a reason and an end date "
			    "(--exception REASON --exception-until TIME)");
			goto out;
		}
		if (exception_until <= now) {
			r = bg_vault_fail(v, BG_ERR_RANGE, "the exception must "
			    "end in the future");
			goto out;
		}
		d->has_exception = true;
		(void)snprintf(d->exception_reason,
		    sizeof(d->exception_reason), "%s", exception_reason);
		d->exception_expires = exception_until;
	}
	if ((r = bg_chain_draft_put(v, t.name, d, now, &dropped, NULL)) != BG_OK)
		goto out;
	bg_hex(bg_policy_hash(pol), BG_POLICY_HASH_LEN, ph);
	det = json_pack("{s:s, s:s, s:I, s:I, s:b}", "policy",
	    bg_policy_canonical(pol), "policy_hash", ph, "draft_seq",
	    (json_int_t)d->seq, "signatures_dropped", (json_int_t)dropped,
	    "exception", d->has_exception);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_note(d, det)) != BG_OK ||
	    (r = bg_strcatf(&extra, "policy: %s\n", d->policy)) != BG_OK ||
	    (r = bg_admin_draft_lines(d, extra, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, t.name, &a, by, "policy.set", lines, now, det,
	    &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, by->person, "policy.set", t.name, t.name,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	json_decref(det);
	free(lines);
	free(extra);
	bg_admin_clear(&a);
	bg_policy_free(&pol);
	bg_chain_link_free(&d);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, person, "policy.set", tenant, tenant);
}

int
bg_vault_policy_get(bg_vault_t *v, const char *tenant, char **textp,
    char hash_hex[2 * BG_VAULT_HASH_LEN + 1])
{
	bg_vault_tenant_info_t *ti = NULL;
	char *s = NULL;
	int r = BG_ERR_INTERNAL;

	if (textp == NULL)
		return BG_ERR_INVALID_ARG;
	*textp = NULL;
	if (hash_hex != NULL)
		hash_hex[0] = '\0';
	if ((r = bg_vault_tenant_show(v, tenant, &ti)) != BG_OK)
		goto out;
	if (!ti->has_policy) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "tenant '%s' has no "
		    "policy yet", tenant);
		goto out;
	}
	if ((s = strdup(ti->policy)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (hash_hex != NULL)
		(void)snprintf(hash_hex, 2 * BG_VAULT_HASH_LEN + 1, "%s",
		    ti->policy_hash);
	*textp = s;
	s = NULL;
	r = BG_OK;
out:
	free(s);
	bg_vault_tenant_free(&ti);
	return r;
}
