/*
 * Tenants and their policies, and the keyset binding of future seals
 * (DESIGN "Future seals are the weak spot").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lifecycle_int.h"
#include "policy.h"
#include "vault_int.h"

void
bg_tenant_row_clear(bg_tenant_row_t *row)
{
	if (row == NULL)
		return;
	free(row->policy);
	memset(row, 0, sizeof(*row));
}

int
bg_tenant_get(bg_vault_t *v, const char *name, bg_tenant_row_t *row)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	bool found = false;
	int r = BG_ERR_INTERNAL;

	memset(row, 0, sizeof(*row));
	if ((r = bg_vault_check_name(v, "tenant name", name)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT id, name, created_at, max_ttl, "
	    "approval_window, rotation_deadline, policy, offboarded_at "
	    "FROM tenants WHERE name = ?", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, name)) != BG_OK ||
	    (r = bg_store_step(v, st, &found)) != BG_OK)
		goto out;
	if (!found) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no tenant '%s'", name);
		goto out;
	}
	if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
		char when[32];

		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' was offboarded "
		    "at %s", name, bg_vault_fmt_time(sqlite3_column_int64(st,
		    7), when, sizeof(when)));
		goto out;
	}
	row->id = sqlite3_column_int64(st, 0);
	bg_store_col_text(st, 1, row->name, sizeof(row->name));
	row->created_at = sqlite3_column_int64(st, 2);
	row->max_ttl = sqlite3_column_int64(st, 3);
	row->approval_window = sqlite3_column_int64(st, 4);
	row->rotation_deadline = sqlite3_column_int64(st, 5);
	if ((p = sqlite3_column_text(st, 6)) != NULL &&
	    (row->policy = strdup((const char *)p)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
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
	if (o->max_ttl < 0 || o->max_ttl > 30 * 86400)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "maximum TTL must be between 1 second and 30 days");
	if (o->approval_window < 0 || o->approval_window > 30 * 86400)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "approval window must be between 1 second and 30 days");
	if (o->rotation_deadline < 0 || o->rotation_deadline > 365 * 86400)
		return bg_vault_fail(v, BG_ERR_RANGE,
		    "rotation deadline must be between 1 second and 365 days");
	return BG_OK;
}

int
bg_vault_tenant_add(bg_vault_t *v, const char *actor, const char *name,
    const bg_vault_tenant_opts_t *opts)
{
	sqlite3_stmt *st = NULL;
	int64_t now = 0, ttl, win, rot;
	json_t *det = NULL;
	int r = BG_ERR_INTERNAL;

	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK ||
	    (r = bg_vault_check_name(v, "tenant name", name)) != BG_OK ||
	    (r = check_opts(v, opts)) != BG_OK)
		goto out;
	ttl = opts != NULL && opts->max_ttl > 0 ? opts->max_ttl :
	    BG_VAULT_DEFAULT_MAX_TTL;
	win = opts != NULL && opts->approval_window > 0 ?
	    opts->approval_window : BG_VAULT_DEFAULT_APPROVAL_WINDOW;
	rot = opts != NULL && opts->rotation_deadline > 0 ?
	    opts->rotation_deadline : BG_VAULT_DEFAULT_ROTATION_DEADLINE;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "INSERT INTO tenants (name, created_at, "
	    "max_ttl, approval_window, rotation_deadline) "
	    "VALUES (?, ?, ?, ?, ?)", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, name)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, ttl)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, win)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 5, rot)) != BG_OK)
		goto out;
	if ((r = bg_store_step_done(v, st)) != BG_OK) {
		if (r == BG_ERR_EXISTS)
			r = bg_vault_fail(v, r, "tenant '%s' already exists",
			    name);
		goto out;
	}
	det = json_pack("{s:I, s:I, s:I}", "max_ttl", (json_int_t)ttl,
	    "approval_window", (json_int_t)win, "rotation_deadline",
	    (json_int_t)rot);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, actor, "tenant.add", name, name, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	return bg_vault_finish(v, r, actor, "tenant.add", name, name);
}

int
bg_vault_tenant_set(bg_vault_t *v, const char *actor, const char *name,
    const bg_vault_tenant_opts_t *opts)
{
	bg_tenant_row_t t;
	sqlite3_stmt *st = NULL;
	int64_t now = 0;
	json_t *det = NULL;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK ||
	    (r = check_opts(v, opts)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, name, &t)) != BG_OK)
		goto out;
	if (opts != NULL && opts->max_ttl > 0)
		t.max_ttl = opts->max_ttl;
	if (opts != NULL && opts->approval_window > 0)
		t.approval_window = opts->approval_window;
	if (opts != NULL && opts->rotation_deadline > 0)
		t.rotation_deadline = opts->rotation_deadline;
	if ((r = bg_store_prepare(v, "UPDATE tenants SET max_ttl = ?, "
	    "approval_window = ?, rotation_deadline = ? WHERE id = ?", &st))
	    != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, t.max_ttl)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, t.approval_window)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, t.rotation_deadline)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, t.id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	det = json_pack("{s:I, s:I, s:I}", "max_ttl", (json_int_t)t.max_ttl,
	    "approval_window", (json_int_t)t.approval_window,
	    "rotation_deadline", (json_int_t)t.rotation_deadline);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, actor, "tenant.set", name, name, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "tenant.set", name, name);
}

/*
 * One statement for the whole list, counts as correlated subqueries: it is
 * prepared once, not five times per tenant (docs/benchmarks.md).  CROSS
 * JOIN keeps secrets as the outer loop of the sealed count: otherwise the
 * planner walks every sealed version of the vault (versions_state) for
 * each tenant.
 */
#define BY_ROLE(n) \
	"(SELECT count(DISTINCT m.person) FROM memberships m WHERE " \
	"m.tenant_id = t.id AND m.removed_at IS NULL AND m.expires_at > ?2 " \
	"AND m.role = " #n "), "

static const char tenant_sql[] =
    "SELECT t.id, t.name, t.created_at, t.max_ttl, t.approval_window, "
    "t.rotation_deadline, t.policy, t.policy_hash, "
    BY_ROLE(1) BY_ROLE(2) BY_ROLE(3)
    "(SELECT count(*) FROM secrets s WHERE s.tenant_id = t.id), "
    "(SELECT count(*) FROM secrets s CROSS JOIN versions x "
    " ON x.secret_id = s.id WHERE s.tenant_id = t.id AND x.state = 1) "
    "FROM tenants t WHERE ?1 IS NULL OR t.name = ?1 ORDER BY t.name";

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

/* --- keysets --------------------------------------------------------------- */

static void
hash_item(crypto_hash_sha256_state *h, const void *p, size_t n)
{
	uint8_t len[4];

	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	crypto_hash_sha256_update(h, len, sizeof(len));
	crypto_hash_sha256_update(h, p, n);
}

int
bg_keyset_compute(bg_vault_t *v, const bg_tenant_row_t *t,
    uint8_t out[BG_VAULT_HASH_LEN], json_t **keysp)
{
	crypto_hash_sha256_state h;
	bg_policy_t *pol = NULL;
	sqlite3_stmt *st = NULL;
	json_t *keys = NULL, *arr = NULL;
	uint8_t fp[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1];
	const char *name;
	size_t i, nleaves;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (keysp != NULL)
		*keysp = NULL;
	if (t->policy == NULL) {
		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' has no policy "
		    "yet (vault policy set)", t->name);
		goto out;
	}
	if (bg_policy_parse(t->policy, &pol, NULL) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the stored policy of '%s' "
		    "does not parse: the database was altered", t->name);
		goto out;
	}
	if ((keys = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	crypto_hash_sha256_init(&h);
	hash_item(&h, "breakglass keyset v1", 20);
	hash_item(&h, bg_policy_hash(pol), BG_POLICY_HASH_LEN);
	nleaves = bg_policy_leaf_count(pol);
	if ((r = bg_store_prepare(v, "SELECT k.member_pk FROM tokens k "
	    "JOIN memberships m ON m.id = k.membership_id "
	    "WHERE m.tenant_id = ? AND m.person = ? AND m.role = 2 "
	    "AND m.removed_at IS NULL AND k.removed_at IS NULL "
	    "ORDER BY k.id", &st)) != BG_OK)
		goto out;
	for (i = 0; i < nleaves; i++) {
		name = bg_policy_leaf_name(pol, i);
		hash_item(&h, name, strlen(name));
		if ((arr = json_array()) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		sqlite3_reset(st);
		if ((r = bg_store_bind_int(v, st, 1, t->id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK)
			goto out;
		for (;;) {
			if ((r = bg_store_step(v, st, &row)) != BG_OK)
				goto out;
			if (!row)
				break;
			if (sqlite3_column_bytes(st, 0) != 32) {
				r = bg_vault_fail(v, BG_ERR_AUTH, "a member key "
				    "of '%s' is malformed: the database was "
				    "altered", name);
				goto out;
			}
			hash_item(&h, sqlite3_column_blob(st, 0), 32);
			crypto_hash_sha256(fp, sqlite3_column_blob(st, 0), 32);
			bg_hex(fp, 8, hex);
			if (json_array_append_new(arr, json_string(hex)) != 0) {
				r = BG_ERR_NOMEM;
				goto out;
			}
		}
		if (json_object_set_new(keys, name, arr) != 0) {
			arr = NULL;
			r = BG_ERR_NOMEM;
			goto out;
		}
		arr = NULL;
	}
	crypto_hash_sha256_final(&h, out);
	if (keysp != NULL) {
		*keysp = keys;
		keys = NULL;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(arr);
	json_decref(keys);
	bg_policy_free(&pol);
	return r;
}

int
bg_keyset_for(bg_vault_t *v, const bg_tenant_row_t *t, const char *policy,
    uint8_t out[BG_VAULT_HASH_LEN], json_t **keysp)
{
	bg_tenant_row_t tmp;

	tmp = *t;
	tmp.policy = (char *)(uintptr_t)policy;	/* read only */
	return bg_keyset_compute(v, &tmp, out, keysp);
}

int
bg_keyset_verify(bg_vault_t *v, const bg_tenant_row_t *t)
{
	sqlite3_stmt *st = NULL;
	uint8_t ks[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1], logged[2 * BG_VAULT_HASH_LEN + 1];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_keyset_compute(v, t, ks, NULL)) != BG_OK)
		goto out;
	bg_hex(ks, sizeof(ks), hex);
	/*
	 * The latest event of the tenant that logs a keyset.  Only these
	 * actions ever carry one (policy.set in tenant.c and rekey.c,
	 * member.add/member.remove in member.c), so the index on (tenant,
	 * action, seq) finds it without parsing the tenant's other events
	 * (one per secret sealed): the scan that made filling a tenant
	 * quadratic (docs/benchmarks.md).  INDEXED BY keeps the planner
	 * from walking events_tenant backwards instead.
	 */
	if ((r = bg_store_prepare(v, "SELECT json_extract(entry, "
	    "'$.details.keyset') FROM events INDEXED BY events_tenant_action "
	    "WHERE tenant = ? AND action IN ('policy.set', 'member.add', "
	    "'member.remove') AND "
	    "json_extract(entry, '$.details.keyset') IS NOT NULL "
	    "ORDER BY seq DESC LIMIT 1", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, t->name)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	logged[0] = '\0';
	if (row)
		bg_store_col_text(st, 0, logged, sizeof(logged));
	if (strcmp(hex, logged) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the policy or member keys of "
		    "'%s' do not match its latest policy/membership event: "
		    "the database was altered; refusing to seal", t->name);
		goto out;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* --- policy ---------------------------------------------------------------- */

int
bg_policy_validate(bg_vault_t *v, const bg_tenant_row_t *t, const char *expr,
    int64_t now, bg_policy_t **polp)
{
	bg_policy_t *pol = NULL;
	bg_policy_error_t perr;
	sqlite3_stmt *st = NULL;
	char *why = NULL, when[32];
	int64_t exp_at = 0;
	size_t i, n;
	bool row = false;
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
	if ((r = bg_store_prepare(v, "SELECT expires_at FROM memberships "
	    "WHERE tenant_id = ? AND person = ? AND role = 2 "
	    "AND removed_at IS NULL", &st)) != BG_OK)
		goto out;
	n = bg_policy_leaf_count(pol);
	for (i = 0; i < n; i++) {
		const char *name = bg_policy_leaf_name(pol, i);
		size_t pos = bg_policy_leaf_pos(pol, i);

		sqlite3_reset(st);
		if ((r = bg_store_bind_int(v, st, 1, t->id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK ||
		    (r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row) {
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "policy position "
			    "%zu: unknown approver '%s' (not an approver of "
			    "%s)", pos, name, t->name);
			goto out;
		}
		exp_at = sqlite3_column_int64(st, 0);
		if (exp_at <= now) {
			r = bg_vault_fail(v, BG_ERR_EXPIRED, "policy position "
			    "%zu: the approver membership of '%s' expired at "
			    "%s", pos, name,
			    bg_vault_fmt_time(exp_at, when, sizeof(when)));
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
	sqlite3_finalize(st);
	free(why);
	bg_policy_free(&pol);
	return r;
}

int
bg_vault_policy_set(bg_vault_t *v, const char *actor, const char *tenant,
    const char *expr)
{
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL;
	sqlite3_stmt *st = NULL;
	json_t *det = NULL, *keys = NULL, *also = NULL;
	uint8_t ks[BG_VAULT_HASH_LEN];
	char ph[2 * BG_VAULT_HASH_LEN + 1], ksh[2 * BG_VAULT_HASH_LEN + 1];
	int64_t now = 0, n_secrets = 0;
	size_t i, n;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if ((r = bg_store_int(v, "SELECT count(*) FROM versions x JOIN "
	    "secrets s ON s.id = x.secret_id WHERE s.tenant_id = ? AND "
	    "x.state IN (0, 1)", t.id, &n_secrets)) != BG_OK)
		goto out;
	if (n_secrets > 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' holds %lld "
		    "sealed or pending version(s): a policy change re-splits "
		    "them in a re-key ceremony (vault policy set %s POLICY "
		    "--as PROPOSER)", t.name, (long long)n_secrets, t.name);
		goto out;
	}
	if ((r = bg_policy_validate(v, &t, expr, now, &pol)) != BG_OK)
		goto out;
	n = bg_policy_leaf_count(pol);
	/* The requester never counts: note approvers who also request. */
	if ((also = json_array()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_prepare(v, "SELECT count(*) FROM memberships WHERE "
	    "tenant_id = ? AND person = ? AND role = 1 AND removed_at IS NULL",
	    &st)) != BG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		if ((r = bg_store_bind_int(v, st, 1, t.id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2,
		    bg_policy_leaf_name(pol, i))) != BG_OK ||
		    (r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (row && sqlite3_column_int64(st, 0) > 0 &&
		    json_array_append_new(also,
		    json_string(bg_policy_leaf_name(pol, i))) != 0) {
			r = BG_ERR_NOMEM;
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "UPDATE tenants SET policy = ?, "
	    "policy_hash = ? WHERE id = ?", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, bg_policy_canonical(pol)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 2, bg_policy_hash(pol),
	    BG_POLICY_HASH_LEN)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, t.id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	free(t.policy);
	if ((t.policy = strdup(bg_policy_canonical(pol))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_keyset_compute(v, &t, ks, &keys)) != BG_OK)
		goto out;
	bg_hex(bg_policy_hash(pol), BG_POLICY_HASH_LEN, ph);
	bg_hex(ks, sizeof(ks), ksh);
	det = json_pack("{s:s, s:s, s:s, s:O, s:O}", "policy",
	    bg_policy_canonical(pol), "policy_hash", ph, "keyset", ksh,
	    "keys", keys, "approvers_who_also_request", also);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, actor, "policy.set", t.name, t.name, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	json_decref(keys);
	json_decref(also);
	bg_policy_free(&pol);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "policy.set", tenant, tenant);
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
