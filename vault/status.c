/*
 * What needs attention: open requests, active leases, rotation-due and
 * overdue secrets, pending rotations, memberships expiring within 30 days
 * or expired.  Judged at max(clock, newest event time).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "vault_int.h"

const char *
bg_vault_status_kind_name(int kind)
{
	switch (kind) {
	case BG_VAULT_STATUS_OPEN_REQUEST:	return "open-request";
	case BG_VAULT_STATUS_ACTIVE_LEASE:	return "active-lease";
	case BG_VAULT_STATUS_ROTATION_DUE:	return "rotation-due";
	case BG_VAULT_STATUS_OVERDUE:		return "overdue";
	case BG_VAULT_STATUS_PENDING_ROTATION:	return "pending-rotation";
	case BG_VAULT_STATUS_MEMBER_EXPIRING:	return "member-expiring";
	case BG_VAULT_STATUS_MEMBER_EXPIRED:	return "member-expired";
	case BG_VAULT_STATUS_QUORUM_AT_RISK:	return "quorum-at-risk";
	default:				return "?";
	}
}

typedef struct items {
	bg_vault_status_item_t	*l;
	size_t			 n;
} items_t;

static int
push(items_t *it, bg_vault_status_item_t **ip)
{
	bg_vault_status_item_t *nl;

	if ((nl = reallocarray(it->l, it->n + 1, sizeof(*nl))) == NULL)
		return BG_ERR_NOMEM;
	it->l = nl;
	*ip = &nl[it->n++];
	memset(*ip, 0, sizeof(**ip));
	return BG_OK;
}

static int
cmp_items(const void *a, const void *b)
{
	const bg_vault_status_item_t *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->tenant, y->tenant)) != 0)
		return c;
	return strcmp(x->object, y->object);
}

static int
add_requests(bg_vault_t *v, const char *tenant, int64_t now, items_t *it,
    bg_vault_check_t *c)
{
	bg_vault_request_info_t *l = NULL;
	bg_vault_status_item_t *i;
	size_t k, n = 0;
	char when[32];
	int r;

	if ((r = bg_vault_request_list(v, tenant, true, &l, &n)) != BG_OK)
		return r;
	for (k = 0; k < n; k++) {
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		i->kind = BG_VAULT_STATUS_OPEN_REQUEST;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", l[k].tenant);
		(void)snprintf(i->object, sizeof(i->object), "%s",
		    l[k].secret);
		i->request_id = l[k].id;
		i->version = l[k].version;
		i->when = l[k].deadline;
		(void)snprintf(i->text, sizeof(i->text), "request %lld by %s "
		    "for %s/%s v%d: %.200s; deadline %s", (long long)l[k].id,
		    l[k].requester, l[k].tenant, l[k].secret, l[k].version,
		    l[k].satisfied ? "approved, ready to release" :
		    l[k].missing,
		    bg_vault_fmt_time(l[k].deadline, when, sizeof(when)));
		c->n_open_requests++;
	}
	r = BG_OK;
	(void)now;
out:
	bg_vault_request_free(&l);
	return r;
}

static int
add_secrets(bg_vault_t *v, const char *tenant, int64_t now, items_t *it,
    bg_vault_check_t *c)
{
	bg_vault_secret_info_t *l = NULL;
	bg_vault_status_item_t *i;
	size_t k, n = 0;
	char w1[32], w2[32];
	int r;

	if ((r = bg_vault_secret_list(v, tenant, &l, &n)) != BG_OK)
		return r;
	for (k = 0; k < n; k++) {
		const bg_vault_secret_info_t *s = &l[k];

		if (s->pending_version != 0) {
			if ((r = push(it, &i)) != BG_OK)
				goto out;
			i->kind = BG_VAULT_STATUS_PENDING_ROTATION;
			(void)snprintf(i->tenant, sizeof(i->tenant), "%s",
			    s->tenant);
			(void)snprintf(i->object, sizeof(i->object), "%s",
			    s->name);
			i->version = s->pending_version;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d is "
			    "sealed but not committed (vault rotate commit)",
			    s->tenant, s->name, s->pending_version);
			c->n_pending_rotations++;
		}
		if (s->state == BG_VAULT_SECRET_SEALED)
			continue;
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", s->tenant);
		(void)snprintf(i->object, sizeof(i->object), "%s", s->name);
		i->version = s->version;
		bg_vault_fmt_time(s->lease_until, w1, sizeof(w1));
		bg_vault_fmt_time(s->rotate_by, w2, sizeof(w2));
		switch (s->state) {
		case BG_VAULT_SECRET_RELEASED:
			i->kind = BG_VAULT_STATUS_ACTIVE_LEASE;
			i->when = s->lease_until;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d "
			    "released; lease ends %s, rotate by %s",
			    s->tenant, s->name, s->version, w1, w2);
			c->n_active_leases++;
			break;
		case BG_VAULT_SECRET_ROTATION_DUE:
			i->kind = BG_VAULT_STATUS_ROTATION_DUE;
			i->when = s->rotate_by;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d "
			    "lease ended %s: rotation due by %s", s->tenant,
			    s->name, s->version, w1, w2);
			c->n_rotation_due++;
			break;
		default:
			i->kind = BG_VAULT_STATUS_OVERDUE;
			i->when = s->rotate_by;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d "
			    "rotation OVERDUE since %s", s->tenant, s->name,
			    s->version, w2);
			c->n_overdue++;
			break;
		}
	}
	r = BG_OK;
	(void)now;
out:
	bg_vault_secret_free(&l);
	return r;
}

static int
add_members(bg_vault_t *v, const char *tenant, int64_t now, items_t *it,
    bg_vault_check_t *c)
{
	sqlite3_stmt *st = NULL;
	bg_vault_status_item_t *i;
	char person[BG_VAULT_NAME_MAX + 1], when[32];
	bool row = false;
	int64_t exp_at;
	int role, r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "SELECT t.name, m.person, m.role, "
	    "m.expires_at FROM memberships m JOIN tenants t ON "
	    "t.id = m.tenant_id WHERE m.removed_at IS NULL AND "
	    "(?1 IS NULL OR t.name = ?1) AND m.expires_at <= ?2 "
	    "ORDER BY t.name, m.person, m.role", &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, now + BG_VAULT_EXPIRY_WARN))
	    != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		bg_store_col_text(st, 0, i->tenant, sizeof(i->tenant));
		bg_store_col_text(st, 1, person, sizeof(person));
		role = sqlite3_column_int(st, 2);
		exp_at = sqlite3_column_int64(st, 3);
		(void)snprintf(i->object, sizeof(i->object), "%s (%s)", person,
		    bg_vault_role_name(role));
		i->when = exp_at;
		bg_vault_fmt_time(exp_at, when, sizeof(when));
		if (exp_at <= now) {
			i->kind = BG_VAULT_STATUS_MEMBER_EXPIRED;
			(void)snprintf(i->text, sizeof(i->text), "%s's %s "
			    "membership of %s expired %s", person,
			    bg_vault_role_name(role), i->tenant, when);
			c->n_members_expired++;
		} else {
			i->kind = BG_VAULT_STATUS_MEMBER_EXPIRING;
			(void)snprintf(i->text, sizeof(i->text), "%s's %s "
			    "membership of %s expires %s", person,
			    bg_vault_role_name(role), i->tenant, when);
			c->n_members_expiring++;
		}
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* A sentence into buf, truncated to fit (it is only shown). */
static void
say(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/*
 * Quorum at risk (vault_lifecycle.h): leaves whose approver membership
 * is not removed and outlives the 30-day warning window count as live.
 */
static int
quorum_one(bg_vault_t *v, const char *tenant, int64_t tenant_id,
    const char *policy, int64_t now, items_t *it)
{
	bg_policy_t *pol = NULL;
	bg_vault_status_item_t *i;
	sqlite3_stmt *st = NULL;
	bool *live = NULL, row = false;
	char critical[BG_VAULT_TEXT_MAX], alive[BG_VAULT_TEXT_MAX];
	size_t k, n, used;
	int r = BG_ERR_INTERNAL;

	critical[0] = alive[0] = '\0';
	if (bg_policy_parse(policy, &pol, NULL) != BG_OK) {
		r = BG_OK;	/* reported where it matters: sealing refuses */
		goto out;
	}
	n = bg_policy_leaf_count(pol);
	if ((live = calloc(n, sizeof(*live))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_prepare(v, "SELECT 1 FROM memberships WHERE "
	    "tenant_id = ? AND person = ? AND role = 2 AND removed_at IS NULL "
	    "AND expires_at > ?", &st)) != BG_OK)
		goto out;
	for (k = 0; k < n; k++) {
		sqlite3_reset(st);
		if ((r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2,
		    bg_policy_leaf_name(pol, k))) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3,
		    now + BG_VAULT_EXPIRY_WARN)) != BG_OK ||
		    (r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		live[k] = row;
		if (row) {
			used = strlen(alive);
			(void)snprintf(alive + used, sizeof(alive) - used,
			    "%s%s", used ? ", " : "",
			    bg_policy_leaf_name(pol, k));
		}
	}
	if (!bg_policy_satisfied(pol, live)) {
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		i->kind = BG_VAULT_STATUS_QUORUM_AT_RISK;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tenant);
		(void)snprintf(i->object, sizeof(i->object), "policy");
		say(i->text, sizeof(i->text), "quorum lost for %s: "
		    "the approvers live beyond 30 days (%s) no longer satisfy "
		    "%s; recertify or re-key", tenant, alive[0] ? alive :
		    "none", policy);
		r = BG_OK;
		goto out;
	}
	for (k = 0; k < n; k++) {
		if (!live[k])
			continue;
		live[k] = false;
		if (!bg_policy_satisfied(pol, live)) {
			used = strlen(critical);
			(void)snprintf(critical + used, sizeof(critical) - used,
			    "%s%s", used ? ", " : "",
			    bg_policy_leaf_name(pol, k));
		}
		live[k] = true;
	}
	if (critical[0] != '\0') {
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		i->kind = BG_VAULT_STATUS_QUORUM_AT_RISK;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tenant);
		(void)snprintf(i->object, sizeof(i->object), "policy");
		say(i->text, sizeof(i->text), "quorum at risk for "
		    "%s: losing any one of %s would leave %s unsatisfiable by "
		    "the live approvers (%s)", tenant, critical, policy, alive);
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(live);
	bg_policy_free(&pol);
	return r;
}

static int
add_quorum(bg_vault_t *v, const char *tenant, int64_t now, items_t *it)
{
	sqlite3_stmt *st = NULL;
	char name[BG_VAULT_NAME_MAX + 1], *policy = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "SELECT id, name, policy FROM tenants "
	    "WHERE policy IS NOT NULL AND offboarded_at IS NULL AND "
	    "(?1 IS NULL OR name = ?1) ORDER BY name", &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 1, name, sizeof(name));
		free(policy);
		if ((policy = strdup((const char *)sqlite3_column_text(st, 2)))
		    == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		if ((r = quorum_one(v, name, sqlite3_column_int64(st, 0),
		    policy, now, it)) != BG_OK)
			goto out;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(policy);
	return r;
}

int
bg_vault_status(bg_vault_t *v, const char *tenant,
    bg_vault_status_item_t **itemsp, size_t *np, bg_vault_check_t *check)
{
	items_t it = { NULL, 0 };
	bg_vault_check_t c;
	bg_tenant_row_t t;
	int64_t now;
	int r = BG_ERR_INTERNAL;

	if (itemsp != NULL)
		*itemsp = NULL;
	if (np != NULL)
		*np = 0;
	if (check != NULL)
		memset(check, 0, sizeof(*check));
	memset(&c, 0, sizeof(c));
	bg_vault_clear_err(v);
	if (tenant != NULL) {
		if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK)
			goto out;
		bg_tenant_row_clear(&t);
	}
	now = bg_vault_read_now(v);
	if ((r = add_requests(v, tenant, now, &it, &c)) != BG_OK ||
	    (r = add_secrets(v, tenant, now, &it, &c)) != BG_OK ||
	    (r = add_members(v, tenant, now, &it, &c)) != BG_OK ||
	    (r = add_quorum(v, tenant, now, &it)) != BG_OK)
		goto out;
	if (it.n > 1)
		qsort(it.l, it.n, sizeof(*it.l), cmp_items);
	c.attention = c.n_rotation_due > 0 || c.n_overdue > 0;
	if (check != NULL)
		*check = c;
	if (itemsp != NULL && np != NULL) {
		*itemsp = it.l;
		*np = it.n;
		it.l = NULL;
	}
	r = BG_OK;
out:
	free(it.l);
	return bg_vault_fail_default(v, r);
}

void
bg_vault_status_free(bg_vault_status_item_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}

int
bg_vault_check(bg_vault_t *v, const char *tenant, bg_vault_check_t *check)
{
	if (check == NULL)
		return BG_ERR_INVALID_ARG;
	return bg_vault_status(v, tenant, NULL, NULL, check);
}
