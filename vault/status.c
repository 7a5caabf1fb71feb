/*
 * What needs attention: open requests, active leases, rotation-due and
 * overdue secrets, pending rotations, memberships expiring within 30 days
 * or expired (by tenant, then role), quorum at risk, and MSP
 * self-approval exceptions.  Judged at max(clock, newest event time).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
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
	case BG_VAULT_STATUS_QUORUM_BY_DESIGN:	return "quorum-by-design";
	case BG_VAULT_STATUS_MSP_EXCEPTION:	return "msp-exception";
	case BG_VAULT_STATUS_MSP_EXCEPTION_ENDED:
						return "msp-exception-ended";
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

/* The role word of a membership item's object, "person (role)". */
static const char *
object_role(const bg_vault_status_item_t *i)
{
	const char *p;

	if (i->kind != BG_VAULT_STATUS_MEMBER_EXPIRING &&
	    i->kind != BG_VAULT_STATUS_MEMBER_EXPIRED)
		return "";
	p = strrchr(i->object, '(');
	return p != NULL ? p : "";
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
	/* memberships: by tenant, then role (recertification per tier) */
	if ((c = strcmp(object_role(x), object_role(y))) != 0)
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

/*
 * Only secrets with a pending (0) or spent (2) version, or an exposed
 * sealed one, can be reported: the index on versions (state, secret_id)
 * finds the first, the partial index versions_exposed the last, without
 * walking every secret (docs/benchmarks.md).  "+state" keeps SQLite from
 * choosing versions_state for the exposed ones: state = 1 is every
 * sealed version of the vault, 95 ms at 475,000.  For those, the active version and
 * the pending one are chosen exactly as bg_vault_secret_list does.
 */
static const char status_secret_sql[] =
    "SELECT t.name, s.name, x.version, x.state, "
    "coalesce(x.lease_until, 0), t.rotation_deadline, "
    "(SELECT coalesce(max(p.version), 0) FROM versions p WHERE "
    " p.secret_id = s.id AND p.state = 0), coalesce(x.exposed_at, 0) "
    "FROM secrets s JOIN tenants t ON t.id = s.tenant_id "
    "JOIN versions x ON x.secret_id = s.id AND x.version = (SELECT "
    " max(version) FROM versions WHERE secret_id = s.id AND state IN (1, 2)) "
    "WHERE (s.id IN (SELECT secret_id FROM versions WHERE state IN (0, 2)) "
    " OR s.id IN (SELECT secret_id FROM versions WHERE exposed_at IS NOT "
    " NULL AND +state = 1)) "
    "AND (?1 IS NULL OR t.name = ?1) "
    "ORDER BY t.name, s.name";

static int
add_secrets(bg_vault_t *v, const char *tenant, int64_t now, items_t *it,
    bg_vault_check_t *c)
{
	sqlite3_stmt *st = NULL;
	bg_vault_status_item_t *i;
	char tn[BG_VAULT_NAME_MAX + 1], sn[BG_VAULT_NAME_MAX + 1];
	char w1[32], w2[32];
	int64_t lease_until, rotate_by, exposed_at;
	int version, vstate, pending, state;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, status_secret_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, tn, sizeof(tn));
		bg_store_col_text(st, 1, sn, sizeof(sn));
		version = sqlite3_column_int(st, 2);
		vstate = sqlite3_column_int(st, 3);
		lease_until = sqlite3_column_int64(st, 4);
		rotate_by = 0;
		pending = sqlite3_column_int(st, 6);
		exposed_at = sqlite3_column_int64(st, 7);
		/* as secret_fill() in secret.c */
		if (vstate == BG_VAULT_VERSION_SEALED && exposed_at != 0) {
			rotate_by = exposed_at + sqlite3_column_int64(st, 5);
			state = now < rotate_by ? BG_VAULT_SECRET_ROTATION_DUE :
			    BG_VAULT_SECRET_OVERDUE;
		} else if (vstate == BG_VAULT_VERSION_SPENT) {
			rotate_by = lease_until + sqlite3_column_int64(st, 5);
			if (now < lease_until)
				state = BG_VAULT_SECRET_RELEASED;
			else if (now < rotate_by)
				state = BG_VAULT_SECRET_ROTATION_DUE;
			else
				state = BG_VAULT_SECRET_OVERDUE;
		} else
			state = BG_VAULT_SECRET_SEALED;
		if (pending != 0) {
			if ((r = push(it, &i)) != BG_OK)
				goto out;
			i->kind = BG_VAULT_STATUS_PENDING_ROTATION;
			(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tn);
			(void)snprintf(i->object, sizeof(i->object), "%s", sn);
			i->version = pending;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d is "
			    "sealed but not committed (vault rotate commit)",
			    tn, sn, pending);
			c->n_pending_rotations++;
		}
		if (state == BG_VAULT_SECRET_SEALED)
			continue;
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tn);
		(void)snprintf(i->object, sizeof(i->object), "%s", sn);
		i->version = version;
		bg_vault_fmt_time(lease_until, w1, sizeof(w1));
		bg_vault_fmt_time(rotate_by, w2, sizeof(w2));
		switch (state) {
		case BG_VAULT_SECRET_RELEASED:
			i->kind = BG_VAULT_STATUS_ACTIVE_LEASE;
			i->when = lease_until;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d "
			    "released; lease ends %s, rotate by %s",
			    tn, sn, version, w1, w2);
			c->n_active_leases++;
			break;
		case BG_VAULT_SECRET_ROTATION_DUE:
			i->kind = BG_VAULT_STATUS_ROTATION_DUE;
			i->when = rotate_by;
			if (vstate == BG_VAULT_VERSION_SEALED)
				(void)snprintf(i->text, sizeof(i->text),
				    "%s/%s v%d exposed at quorum, not released: "
				    "rotation due by %s", tn, sn, version, w2);
			else
				(void)snprintf(i->text, sizeof(i->text),
				    "%s/%s v%d lease ended %s: rotation due by "
				    "%s", tn, sn, version, w1, w2);
			c->n_rotation_due++;
			break;
		default:
			i->kind = BG_VAULT_STATUS_OVERDUE;
			i->when = rotate_by;
			(void)snprintf(i->text, sizeof(i->text), "%s/%s v%d "
			    "rotation OVERDUE since %s%s", tn, sn, version, w2,
			    vstate == BG_VAULT_VERSION_SEALED ? " (exposed at "
			    "quorum, not released)" : "");
			c->n_overdue++;
			break;
		}
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
add_members(bg_vault_t *v, const char *tenant, int64_t now, items_t *it,
    bg_vault_check_t *c)
{
	sqlite3_stmt *st = NULL;
	bg_vault_status_item_t *i;
	char person[BG_VAULT_NAME_MAX + 1], when[32], what[48];
	bool row = false;
	int64_t exp_at;
	int role, side, r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "SELECT t.name, m.person, m.role, "
	    "m.expires_at, m.side FROM memberships m JOIN tenants t ON "
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
		side = sqlite3_column_int(st, 4);
		(void)snprintf(i->object, sizeof(i->object), "%s (%s)", person,
		    bg_vault_role_name(role));
		/* "client approver", "msp approver", "operator" */
		(void)snprintf(what, sizeof(what), "%s%s%s",
		    role == BG_VAULT_ROLE_APPROVER ? bg_vault_side_name(side) :
		    "", role == BG_VAULT_ROLE_APPROVER ? " " : "",
		    bg_vault_role_name(role));
		i->when = exp_at;
		bg_vault_fmt_time(exp_at, when, sizeof(when));
		if (exp_at <= now) {
			i->kind = BG_VAULT_STATUS_MEMBER_EXPIRED;
			(void)snprintf(i->text, sizeof(i->text), "%s's %s "
			    "membership of %s expired %s", person, what,
			    i->tenant, when);
			c->n_members_expired++;
		} else {
			i->kind = BG_VAULT_STATUS_MEMBER_EXPIRING;
			(void)snprintf(i->text, sizeof(i->text), "%s's %s "
			    "membership of %s expires %s: recertify (vault "
			    "member recertify)", person, what, i->tenant, when);
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
 * One statement lists every tenant with a policy and its live approvers
 * (not one query per leaf per tenant: docs/benchmarks.md); a leaf is live
 * when one of them bears its name (SQL's = on TEXT, i.e. strcmp).
 */
/*
 * The parsed policy of the previous tenant: at 10,000 tenants, parsing
 * each policy again (canonical form and hash included) was a third of
 * `vault status`, and tenants of one MSP often share a policy text.
 */
typedef struct policy_memo {
	char		*text;
	bg_policy_t	*pol;
} policy_memo_t;

static void
policy_memo_clear(policy_memo_t *m)
{
	free(m->text);
	m->text = NULL;
	bg_policy_free(&m->pol);
}

/* *polp: policy text parsed (NULL when it does not parse); owned by m. */
static int
policy_memo_get(policy_memo_t *m, const char *text, const bg_policy_t **polp)
{
	*polp = NULL;
	if (m->text != NULL && strcmp(m->text, text) == 0) {
		*polp = m->pol;
		return BG_OK;
	}
	policy_memo_clear(m);
	if ((m->text = strdup(text)) == NULL)
		return BG_ERR_NOMEM;
	if (bg_policy_parse(text, &m->pol, NULL) != BG_OK)
		m->pol = NULL;	/* reported where it matters: sealing */
	*polp = m->pol;
	return BG_OK;
}

/* The names of the leaves marked in live, ", "-separated, into buf. */
static void
leaf_names(const bg_policy_t *pol, const bool *live, bool want,
    char *buf, size_t cap)
{
	size_t k, used;

	buf[0] = '\0';
	for (k = 0; k < bg_policy_leaf_count(pol); k++) {
		if (live[k] != want)
			continue;
		used = strlen(buf);
		(void)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
		    bg_policy_leaf_name(pol, k));
	}
}

typedef char person_name_t[BG_VAULT_NAME_MAX + 1];

/* critical[k]: live leaf k whose loss alone leaves live unsatisfying pol. */
static bool
critical_leaves(const bg_policy_t *pol, bool *live, bool *critical)
{
	size_t k, n = bg_policy_leaf_count(pol);
	bool any = false;

	for (k = 0; k < n; k++) {
		critical[k] = false;
		if (!live[k])
			continue;
		live[k] = false;
		if (!bg_policy_satisfied(pol, live))
			critical[k] = any = true;
		live[k] = true;
	}
	return any;
}

/*
 * Graded: "quorum lost" and "quorum at risk" are alarms (check prints
 * them) for what changed since the policy was set, an approver removed
 * or expiring; an approver the policy itself gives no alternate (a group
 * of one, as in all-of(1-of(alice,bob),1-of(mia))) is a deliberate
 * design, a note in status only (BG_VAULT_STATUS_QUORUM_BY_DESIGN).
 */
static int
quorum_one(const char *tenant, const char *policy,
    const person_name_t *persons, size_t npersons, bool all_live,
    policy_memo_t *memo, items_t *it)
{
	const bg_policy_t *pol = NULL;
	bg_vault_status_item_t *i;
	bool *live = NULL, *crit = NULL, *all = NULL, *design = NULL;
	bool any = false;
	char critical[BG_VAULT_TEXT_MAX], alive[BG_VAULT_TEXT_MAX];
	char gone[BG_VAULT_TEXT_MAX];
	size_t j, k, n;
	int r = BG_ERR_INTERNAL;

	if ((r = policy_memo_get(memo, policy, &pol)) != BG_OK)
		goto out;
	r = BG_OK;
	if (pol == NULL)
		goto out;
	n = bg_policy_leaf_count(pol);
	if ((live = calloc(n, sizeof(*live))) == NULL ||
	    (crit = calloc(n, sizeof(*crit))) == NULL ||
	    (all = calloc(n, sizeof(*all))) == NULL ||
	    (design = calloc(n, sizeof(*design))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (k = 0; k < n; k++) {
		all[k] = true;
		for (j = 0, live[k] = all_live; j < npersons && !live[k]; j++)
			live[k] = strcmp(persons[j],
			    bg_policy_leaf_name(pol, k)) == 0;
	}
	leaf_names(pol, live, true, alive, sizeof(alive));
	leaf_names(pol, live, false, gone, sizeof(gone));
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
	(void)critical_leaves(pol, all, design);
	(void)critical_leaves(pol, live, crit);
	for (k = 0; k < n; k++)
		if ((crit[k] = crit[k] && !design[k]))
			any = true;
	if (any) {
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		leaf_names(pol, crit, true, critical, sizeof(critical));
		i->kind = BG_VAULT_STATUS_QUORUM_AT_RISK;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tenant);
		(void)snprintf(i->object, sizeof(i->object), "policy");
		say(i->text, sizeof(i->text), "quorum at risk for "
		    "%s: losing any one of %s would leave %s unsatisfiable by "
		    "the live approvers (%s), since %s %s removed, expired or "
		    "expiring within 30 days; recertify or re-key", tenant,
		    critical, policy, alive, gone, strchr(gone, ',') != NULL ?
		    "are" : "is");
	}
	leaf_names(pol, design, true, critical, sizeof(critical));
	if (critical[0] != '\0') {
		if ((r = push(it, &i)) != BG_OK)
			goto out;
		i->kind = BG_VAULT_STATUS_QUORUM_BY_DESIGN;
		(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tenant);
		(void)snprintf(i->object, sizeof(i->object), "policy");
		say(i->text, sizeof(i->text), "%s gives no alternate for %s: "
		    "every release of %s needs %s; by design, not an alarm "
		    "(should a token be lost, enroll another or re-key)",
		    policy, critical, tenant, strchr(critical, ',') != NULL ?
		    "each of them" : critical);
	}
	r = BG_OK;
out:
	free(live);
	free(crit);
	free(all);
	free(design);
	return r;
}

#define QUORUM_SELECT \
    "SELECT t.id, t.name, t.policy, m.person " \
    "FROM tenants t LEFT JOIN memberships m ON m.tenant_id = t.id " \
    "AND m.role = 2 AND m.removed_at IS NULL AND m.expires_at > ?2 " \
    "WHERE t.policy IS NOT NULL AND t.offboarded_at IS NULL "
/* Two texts, so that one tenant is found by name or id (see secret.c). */
static const char quorum_sql_name[] = QUORUM_SELECT "AND t.name = ?1";
static const char quorum_sql_id[] = QUORUM_SELECT "AND t.id = ?1";

/* One tenant's rows of a QUORUM_SELECT statement, its live approvers. */
static int
quorum_rows(bg_vault_t *v, sqlite3_stmt *st, policy_memo_t *memo,
    items_t *it)
{
	char name[BG_VAULT_NAME_MAX + 1], policy[BG_VAULT_POLICY_MAX + 1];
	person_name_t *persons = NULL;
	size_t npersons = 0, cap = 0;
	bool row = false, have = false;
	int r = BG_ERR_INTERNAL;

	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if (!have) {
			bg_store_col_text(st, 1, name, sizeof(name));
			bg_store_col_text(st, 2, policy, sizeof(policy));
			have = true;
		}
		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			continue;
		if ((r = bg_grow(&persons, &cap, npersons, sizeof(*persons))) !=
		    BG_OK)
			goto out;
		bg_store_col_text(st, 3, persons[npersons],
		    sizeof(persons[npersons]));
		npersons++;
	}
	r = have ? quorum_one(name, policy, persons, npersons, false, memo,
	    it) : BG_OK;
out:
	free(persons);
	return r;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Tenants with an approver membership that is removed or expires within
 * the warning window, sorted: the only ones whose policy leaves may not
 * all be live (found through memberships_expiry and memberships_removed).
 */
static int
suspect_tenants(bg_vault_t *v, int64_t until, int64_t **idsp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*idsp = NULL;
	*np = 0;
	if ((r = bg_store_prepare(v, "SELECT tenant_id FROM memberships "
	    "WHERE role = 2 AND expires_at <= ?1 UNION SELECT tenant_id "
	    "FROM memberships WHERE role = 2 AND removed_at IS NOT NULL",
	    &st)) != BG_OK || (r = bg_store_bind_int(v, st, 1, until)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&ids, &cap, n, sizeof(*ids))) != BG_OK)
			goto out;
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_id);
	*idsp = ids;
	*np = n;
	ids = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(ids);
	return r;
}

/*
 * Every tenant (status without a tenant).  Reading every approver of
 * every tenant was 26 of the 33 ms of `vault status` at 10,000 tenants x
 * 5 approvers.  Memberships are never deleted (removal sets removed_at;
 * only offboarding deletes, and offboarded tenants are skipped) and a
 * policy names only approvers that were live when it was set, so a
 * tenant none of whose approver memberships is removed or expiring has
 * every leaf live: its finding depends on its policy alone (parsed once
 * per distinct text, the memo).  The few others are read one by one, as
 * `vault status TENANT` does.
 */
static int
add_quorum_all(bg_vault_t *v, int64_t until, policy_memo_t *memo,
    items_t *it)
{
	sqlite3_stmt *st = NULL, *one = NULL;
	char name[BG_VAULT_NAME_MAX + 1], policy[BG_VAULT_POLICY_MAX + 1];
	int64_t *sus = NULL, id;
	size_t nsus = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = suspect_tenants(v, until, &sus, &nsus)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT id, name, policy FROM tenants "
	    "WHERE policy IS NOT NULL AND offboarded_at IS NULL "
	    "ORDER BY name", &st)) != BG_OK ||
	    (r = bg_store_prepare(v, quorum_sql_id, &one)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		id = sqlite3_column_int64(st, 0);
		if (nsus > 0 && bsearch(&id, sus, nsus, sizeof(*sus),
		    cmp_id) != NULL) {
			sqlite3_reset(one);
			if ((r = bg_store_bind_int(v, one, 1, id)) != BG_OK ||
			    (r = bg_store_bind_int(v, one, 2, until)) !=
			    BG_OK ||
			    (r = quorum_rows(v, one, memo, it)) != BG_OK)
				goto out;
			continue;
		}
		bg_store_col_text(st, 1, name, sizeof(name));
		bg_store_col_text(st, 2, policy, sizeof(policy));
		if ((r = quorum_one(name, policy, NULL, 0, true, memo, it)) !=
		    BG_OK)
			goto out;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(one);
	free(sus);
	return r;
}

static int
add_quorum(bg_vault_t *v, const char *tenant, int64_t now, items_t *it)
{
	sqlite3_stmt *st = NULL;
	policy_memo_t memo = { NULL, NULL };
	int64_t until = now + BG_VAULT_EXPIRY_WARN;
	int r = BG_ERR_INTERNAL;

	if (tenant == NULL) {
		r = add_quorum_all(v, until, &memo, it);
		goto out;
	}
	if ((r = bg_store_prepare(v, quorum_sql_name, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, until)) != BG_OK)
		goto out;
	r = quorum_rows(v, st, &memo, it);
out:
	sqlite3_finalize(st);
	policy_memo_clear(&memo);
	return r;
}

/* Cut s back to whole UTF-8 characters (after a truncating snprintf). */
static void
utf8_trim(char *s)
{
	size_t len = strlen(s), p = len, need;
	unsigned char c;

	while (p > 0 && ((unsigned char)s[p - 1] & 0xc0) == 0x80)
		p--;
	if (p == 0)
		return;
	c = (unsigned char)s[p - 1];
	need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (p - 1 + need > len)
		s[p - 1] = '\0';
}

/*
 * MSP self-approval exceptions.  Only a policy that the MSP's approvers
 * can meet alone needs one, so the candidates are the tenants whose
 * policy row the rows' MSP approvers satisfy (one statement, no link
 * read); each candidate's exception is then read from its chain,
 * verified from the genesis (bg_tenant_get).  At 10,000 tenants the
 * chain of every tenant is not read: status verifies no chain but the
 * one it is asked about (docs/benchmarks.md).
 */
#define MSP_SELECT \
    "SELECT t.name, t.policy, m.person FROM memberships m JOIN tenants t " \
    "ON t.id = m.tenant_id WHERE m.role = 2 AND m.side = 2 AND " \
    "m.removed_at IS NULL AND t.policy IS NOT NULL AND " \
    "t.offboarded_at IS NULL AND (?1 IS NULL OR t.name = ?1) " \
    "ORDER BY t.name"

static int
exception_one(bg_vault_t *v, const char *tenant, int64_t now, items_t *it)
{
	bg_tenant_row_t t;
	bg_vault_status_item_t *i;
	const bg_chain_link_t *h;
	bool alone = false;
	char when[32];
	int r = BG_ERR_INTERNAL;

	if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if ((h = t.head) == NULL || !h->has_exception) {
		r = BG_OK;
		goto out;
	}
	if ((r = bg_chain_msp_alone(h, &alone)) != BG_OK)
		goto out;
	if (h->exception_expires <= now && !alone) {
		r = BG_OK;	/* ended, and no longer needed */
		goto out;
	}
	if ((r = push(it, &i)) != BG_OK)
		goto out;
	(void)snprintf(i->tenant, sizeof(i->tenant), "%s", tenant);
	(void)snprintf(i->object, sizeof(i->object), "policy exception");
	i->when = h->exception_expires;
	bg_vault_fmt_time(h->exception_expires, when, sizeof(when));
	if (h->exception_expires > now) {
		i->kind = BG_VAULT_STATUS_MSP_EXCEPTION;
		say(i->text, sizeof(i->text), "%s: MSP may approve its own "
		    "access until %s: %s", tenant, when, h->exception_reason);
	} else {
		i->kind = BG_VAULT_STATUS_MSP_EXCEPTION_ENDED;
		say(i->text, sizeof(i->text), "%s: the exception that let the "
		    "MSP approve its own access ended %s (%s); the policy still "
		    "needs it: releases need a client approver, nothing is "
		    "sealed until the policy is changed", tenant, when,
		    h->exception_reason);
	}
	utf8_trim(i->text);
	r = BG_OK;
out:
	bg_tenant_row_clear(&t);
	return r;
}

static int
add_exceptions(bg_vault_t *v, const char *tenant, int64_t now, items_t *it)
{
	sqlite3_stmt *st = NULL;
	policy_memo_t memo = { NULL, NULL };
	const bg_policy_t *pol = NULL;
	char name[BG_VAULT_NAME_MAX + 1], cur[BG_VAULT_NAME_MAX + 1];
	char policy[BG_VAULT_POLICY_MAX + 1];
	person_name_t *persons = NULL;
	size_t np = 0, cap = 0, k, j, n;
	bool row = false, *have = NULL, alone;
	int r = BG_ERR_INTERNAL;

	cur[0] = '\0';
	policy[0] = '\0';
	if ((r = bg_store_prepare(v, MSP_SELECT, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (row)
			bg_store_col_text(st, 0, name, sizeof(name));
		/* the previous tenant's rows are complete */
		if (cur[0] != '\0' && (!row || strcmp(name, cur) != 0)) {
			if ((r = policy_memo_get(&memo, policy, &pol)) !=
			    BG_OK)
				goto out;
			alone = false;
			if (pol != NULL && (n = bg_policy_leaf_count(pol)) > 0) {
				free(have);
				if ((have = calloc(n, sizeof(*have))) == NULL) {
					r = BG_ERR_NOMEM;
					goto out;
				}
				for (k = 0; k < n; k++)
					for (j = 0; j < np && !have[k]; j++)
						have[k] = strcmp(persons[j],
						    bg_policy_leaf_name(pol,
						    k)) == 0;
				alone = bg_policy_satisfied(pol, have);
			}
			if (alone && (r = exception_one(v, cur, now, it)) !=
			    BG_OK) {
				if (tenant != NULL)
					goto out;
				/* another tenant's chain: status TENANT and
				 * check say what is wrong with it */
				bg_vault_clear_err(v);
			}
			np = 0;
			cur[0] = '\0';
		}
		if (!row)
			break;
		if (cur[0] == '\0') {
			(void)snprintf(cur, sizeof(cur), "%s", name);
			bg_store_col_text(st, 1, policy, sizeof(policy));
		}
		if ((r = bg_grow(&persons, &cap, np, sizeof(*persons))) !=
		    BG_OK)
			goto out;
		bg_store_col_text(st, 2, persons[np], sizeof(persons[np]));
		np++;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	policy_memo_clear(&memo);
	free(persons);
	free(have);
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
	    (r = add_quorum(v, tenant, now, &it)) != BG_OK ||
	    (r = add_exceptions(v, tenant, now, &it)) != BG_OK)
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

int
bg_vault_clock_tick(bg_vault_t *v, const char *actor)
{
	int64_t now = 0, hwm = 0;
	int r = BG_ERR_INTERNAL;

	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK)
		goto out;
	/*
	 * The high-water mark is the newest event's time: a tick is an event
	 * at the clock's time, so that a clock set back later cannot revive
	 * a deadline or lease that passed while nobody worked on the vault
	 * (vault check runs from a timer).  A clock already behind the mark
	 * is refused and logged, as for any change.
	 */
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_vault_hwm(v, &hwm)) != BG_OK)
		goto out;
	if (now > hwm) {
		if ((r = bg_audit_append(v, now, actor, "clock.tick", "", "",
		    json_pack("{s:I}", "previous", (json_int_t)hwm))) != BG_OK ||
		    (r = bg_store_commit(v)) != BG_OK)
			goto out;
	} else
		bg_store_rollback(v);
	r = BG_OK;
out:
	return bg_vault_finish(v, r, actor, "clock.tick", "", "");
}
