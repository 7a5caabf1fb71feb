/*
 * The audit log: one row per event, each a leaf of the RFC 9162 Merkle
 * tree (treelog.c keeps its frontier and signed tree heads on the same
 * rows), plus the earlier hash chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "treelog.h"
#include "vault_int.h"

char *
bg_audit_entry(int64_t seq, int64_t time, const char *actor,
    const char *action, const char *tenant, const char *object,
    const json_t *details)
{
	json_t *o = NULL, *d = NULL;
	char *s = NULL;

	d = details != NULL ? json_deep_copy(details) : json_object();
	if (d == NULL)
		goto out;
	o = json_pack("{s:i, s:I, s:I, s:s, s:s, s:s, s:s, s:O}",
	    "v", 1, "seq", (json_int_t)seq, "time", (json_int_t)time,
	    "actor", actor != NULL ? actor : "",
	    "action", action != NULL ? action : "",
	    "tenant", tenant != NULL ? tenant : "",
	    "object", object != NULL ? object : "",
	    "details", d);
	if (o == NULL)
		goto out;
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
out:
	json_decref(d);
	json_decref(o);
	return s;
}

void
bg_audit_leaf(const char *entry, uint8_t leaf[BG_VAULT_HASH_LEN])
{
	crypto_hash_sha256_state h;
	static const uint8_t zero = 0x00;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, &zero, 1);
	crypto_hash_sha256_update(&h, (const uint8_t *)entry, strlen(entry));
	crypto_hash_sha256_final(&h, leaf);
}

void
bg_audit_chain(const uint8_t prev[BG_VAULT_HASH_LEN],
    const uint8_t leaf[BG_VAULT_HASH_LEN], uint8_t out[BG_VAULT_HASH_LEN])
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, prev, BG_VAULT_HASH_LEN);
	crypto_hash_sha256_update(&h, leaf, BG_VAULT_HASH_LEN);
	crypto_hash_sha256_final(&h, out);
}

/* Last seq and chain hash (0 and zeros when the log is empty). */
static int
last_event(bg_vault_t *v, int64_t *seqp, uint8_t chain[BG_VAULT_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*seqp = 0;
	memset(chain, 0, BG_VAULT_HASH_LEN);
	if (v->in_tx && v->tx_last_ok) {
		*seqp = v->tx_last_seq;
		memcpy(chain, v->tx_last_chain, BG_VAULT_HASH_LEN);
		return BG_OK;
	}
	if ((r = bg_store_cached(v, "SELECT seq, chain FROM events "
	    "ORDER BY seq DESC LIMIT 1", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		if (sqlite3_column_bytes(st, 1) != BG_VAULT_HASH_LEN) {
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT,
			    "audit log: malformed chain hash");
			goto out;
		}
		*seqp = sqlite3_column_int64(st, 0);
		memcpy(chain, sqlite3_column_blob(st, 1), BG_VAULT_HASH_LEN);
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

int
bg_audit_append(bg_vault_t *v, int64_t time, const char *actor,
    const char *action, const char *tenant, const char *object,
    json_t *details)
{
	sqlite3_stmt *st = NULL;
	uint8_t prev[BG_VAULT_HASH_LEN], leaf[BG_VAULT_HASH_LEN];
	uint8_t chain[BG_VAULT_HASH_LEN];
	int64_t seq = 0;
	char *entry = NULL;
	int r = BG_ERR_INTERNAL;

	if (!v->in_tx) {
		r = bg_vault_fail(v, BG_ERR_INTERNAL,
		    "audit event outside a transaction");
		goto out;
	}
	if ((r = bg_treelog_check_tip(v)) != BG_OK ||
	    (r = last_event(v, &seq, prev)) != BG_OK)
		goto out;
	seq++;
	if ((entry = bg_audit_entry(seq, time, actor, action, tenant, object,
	    details)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_audit_leaf(entry, leaf);
	bg_audit_chain(prev, leaf, chain);
	if ((r = bg_store_cached(v, "INSERT INTO events (seq, time, actor, "
	    "action, tenant, object, entry, leaf, chain) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, seq)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, time)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, actor != NULL ? actor : ""))
	    != BG_OK ||
	    (r = bg_store_bind_text(v, st, 4, action)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 5, tenant != NULL ? tenant : ""))
	    != BG_OK ||
	    (r = bg_store_bind_text(v, st, 6, object != NULL ? object : ""))
	    != BG_OK ||
	    (r = bg_store_bind_text(v, st, 7, entry)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, leaf, sizeof(leaf))) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 9, chain, sizeof(chain))) != BG_OK)
		goto out;
	if ((r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	v->logged = true;	/* bg_store_commit() signs the new head */
	if ((r = bg_treelog_append(v, seq, leaf)) != BG_OK)
		goto out;
	v->tx_last_seq = seq;
	memcpy(v->tx_last_chain, chain, sizeof(chain));
	v->tx_last_ok = true;
out:
	bg_store_done(st);
	free(entry);
	json_decref(details);
	return r;
}

/* A printable, bounded copy of a caller's string for a refusal event. */
static void
clip(const char *s, char *buf, size_t cap)
{
	size_t i;

	(void)snprintf(buf, cap, "%s", s != NULL ? s : "");
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
}

void
bg_audit_refused(bg_vault_t *v, const char *actor, const char *attempted,
    const char *tenant, const char *object, int code)
{
	char saved[BG_VAULT_ERRMSG_MAX];
	char a[BG_VAULT_NAME_MAX + 1], t[BG_VAULT_NAME_MAX + 1];
	char o[2 * BG_VAULT_NAME_MAX + 16];
	int64_t clock = bg_vault_clock(), hwm = 0, when;
	json_t *det = NULL;

	if (v == NULL || v->db == NULL)
		return;
	memcpy(saved, v->errmsg, sizeof(saved));
	bg_store_rollback(v);
	clip(actor, a, sizeof(a));
	clip(tenant, t, sizeof(t));
	clip(object, o, sizeof(o));
	if (bg_store_begin(v) != BG_OK)
		goto out;
	if (bg_vault_hwm(v, &hwm) != BG_OK)
		goto out;
	/* Never move event time backwards: a refusal for a clock set back
	 * is stamped with the newest event's time and carries the clock. */
	when = clock < hwm ? hwm : clock;
	det = json_pack("{s:s, s:s, s:s}", "attempted", attempted,
	    "code", bg_errname(code), "message", saved);
	if (det == NULL)
		goto out;
	if (clock < hwm && json_object_set_new(det, "clock",
	    json_integer((json_int_t)clock)) != 0)
		goto out;
	/* The person the act was for is the actor; whose token answered,
	 * when one did, is said beside it. */
	if (v->act_owner[0] != '\0' && (json_object_set_new(det,
	    "token_owner", json_string(v->act_owner)) != 0 ||
	    json_object_set_new(det, "token", json_string(v->act_token)) != 0))
		goto out;
	if (bg_audit_append(v, when, a, "refused", t, o, det) != BG_OK) {
		det = NULL;
		goto out;
	}
	det = NULL;
	(void)bg_store_commit(v);
out:
	json_decref(det);
	bg_store_rollback(v);
	memcpy(v->errmsg, saved, sizeof(saved));
}

int
bg_vault_finish(bg_vault_t *v, int r, const char *actor,
    const char *attempted, const char *tenant, const char *object)
{
	/* A committed change had its tree head signed by bg_store_commit. */
	if (r != BG_OK) {
		bg_store_rollback(v);
		bg_vault_fail_default(v, r);
		bg_audit_refused(v, actor, attempted, tenant, object, r);
	}
	if (v != NULL) {
		v->act_owner[0] = '\0';
		v->act_token[0] = '\0';
	}
	return r;
}

/* --- reading ------------------------------------------------------------- */

void
bg_vault_audit_free(bg_vault_event_t **listp, size_t n)
{
	bg_vault_event_t *l;
	size_t i;

	if (listp == NULL || (l = *listp) == NULL)
		return;
	for (i = 0; i < n; i++)
		free(l[i].entry);
	free(l);
	*listp = NULL;
}

static int
event_from_row(sqlite3_stmt *st, bg_vault_event_t *e)
{
	const unsigned char *entry;

	memset(e, 0, sizeof(*e));
	e->seq = sqlite3_column_int64(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	bg_store_col_text(st, 2, e->actor, sizeof(e->actor));
	bg_store_col_text(st, 3, e->action, sizeof(e->action));
	bg_store_col_text(st, 4, e->tenant, sizeof(e->tenant));
	bg_store_col_text(st, 5, e->object, sizeof(e->object));
	entry = sqlite3_column_text(st, 6);
	if ((e->entry = strdup(entry != NULL ? (const char *)entry : "")) ==
	    NULL)
		return BG_ERR_NOMEM;
	if (sqlite3_column_bytes(st, 7) == BG_VAULT_HASH_LEN)
		memcpy(e->leaf, sqlite3_column_blob(st, 7), BG_VAULT_HASH_LEN);
	if (sqlite3_column_bytes(st, 8) == BG_VAULT_HASH_LEN)
		memcpy(e->chain, sqlite3_column_blob(st, 8), BG_VAULT_HASH_LEN);
	return BG_OK;
}

/*
 * Every action the vault logs.  A filter naming anything else is a typo
 * ("relase") that would match nothing, so it is refused; an action found
 * in the log (one an older version wrote) is accepted too.
 */
static const char *const audit_actions[] = {
	"vault.init", "vault.genesis", "custodian.add", "chain.sign",
	"chain.link", "chain.discard", "tenant.add", "tenant.set",
	"tenant.offboard", "member.add", "member.remove", "member.recertify",
	"policy.set", "secret.add", "request", "approve", "deny", "release",
	"withdraw", "rotate.begin", "rotate.commit", "rotate.abort",
	"rekey.propose", "rekey.contribute", "rekey.commit", "rekey.abort",
	"evidence.export", "clock.tick", "refused",
};
#define N_AUDIT_ACTIONS (sizeof(audit_actions) / sizeof(audit_actions[0]))

/* Edit distance of two short words, capped at 9. */
static size_t
edits(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[33], prev, tmp;

	if (la > 32 || lb > 32)
		return 9;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < d[j] ?
			    (prev < d[j - 1] ? prev : d[j - 1]) :
			    (d[j] < d[j - 1] ? d[j] : d[j - 1]));
			prev = tmp;
		}
	}
	return d[lb] > 9 ? 9 : d[lb];
}

/* Whether sql, with value bound to ?1, finds a row. */
static int
logged(bg_vault_t *v, const char *sql, const char *value, bool *yesp)
{
	sqlite3_stmt *st = NULL;
	int r;

	*yesp = false;
	if ((r = bg_store_prepare(v, sql, &st)) == BG_OK &&
	    (r = bg_store_bind_text(v, st, 1, value)) == BG_OK)
		r = bg_store_step(v, st, yesp);
	sqlite3_finalize(st);
	return r;
}

/* A filter that names an action or tenant the vault never knew. */
static int
filter_known(bg_vault_t *v, const bg_vault_audit_filter_t *f)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;
	bool yes = false;
	int r;

	if (f->action != NULL) {
		for (i = 0; i < N_AUDIT_ACTIONS; i++) {
			if (strcmp(f->action, audit_actions[i]) == 0)
				break;
			if ((d = edits(f->action, audit_actions[i])) < bestd) {
				bestd = d;
				best = audit_actions[i];
			}
		}
		if (i == N_AUDIT_ACTIONS) {
			if ((r = logged(v, "SELECT 1 FROM events WHERE "
			    "action = ? LIMIT 1", f->action, &yes)) != BG_OK)
				return r;
			if (!yes) {
				char all[400];
				size_t used = 0;

				all[0] = '\0';
				for (i = 0; i < N_AUDIT_ACTIONS &&
				    used < sizeof(all); i++)
					used += (size_t)snprintf(all + used,
					    sizeof(all) - used, "%s%s",
					    i > 0 ? " " : "",
					    audit_actions[i]);
				return bg_vault_fail(v, BG_ERR_INVALID_ARG,
				    "unknown action '%s'%s%s%s; the actions "
				    "are: %s", f->action, best ?
				    " (did you mean '" : "", best ? best : "",
				    best ? "'?)" : "", all);
			}
		}
	}
	if (f->tenant != NULL) {
		if ((r = logged(v, "SELECT 1 FROM tenants WHERE name = ?1 "
		    "UNION ALL SELECT 1 FROM events WHERE tenant = ?1 LIMIT 1",
		    f->tenant, &yes)) != BG_OK)
			return r;
		if (!yes)
			return bg_vault_fail(v, BG_ERR_NOT_FOUND, "no tenant "
			    "'%s' (vault tenant list)", f->tenant);
	}
	return BG_OK;
}

int
bg_vault_audit_list(bg_vault_t *v, const bg_vault_audit_filter_t *filter,
    bg_vault_event_t **listp, size_t *np)
{
	static const bg_vault_audit_filter_t none;
	const bg_vault_audit_filter_t *f = filter != NULL ? filter : &none;
	sqlite3_stmt *st = NULL;
	bg_vault_event_t *l = NULL;
	size_t n = 0, cap = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (listp == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	*listp = NULL;
	*np = 0;
	bg_vault_clear_err(v);
	if ((r = filter_known(v, f)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT seq, time, actor, action, "
	    "tenant, object, entry, leaf, chain FROM events WHERE "
	    "(?1 IS NULL OR tenant = ?1) AND "
	    "(?2 IS NULL OR actor = ?2 OR "
	    " json_extract(entry, '$.details.person') = ?2 OR "
	    " json_extract(entry, '$.details.requester') = ?2 OR "
	    " json_extract(entry, '$.details.approver') = ?2) AND "
	    "(?3 IS NULL OR action = ?3) AND "
	    "(?4 = 0 OR time >= ?4) AND (?5 = 0 OR time <= ?5) "
	    "ORDER BY seq", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, f->tenant)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, f->person)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, f->action)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, f->since)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 5, f->until)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&l, &cap, n, sizeof(*l))) != BG_OK)
			goto out;
		if ((r = event_from_row(st, &l[n])) != BG_OK)
			goto out;
		n++;
	}
	*listp = l;
	*np = n;
	l = NULL;
	n = 0;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	bg_vault_audit_free(&l, n);
	return bg_vault_fail_default(v, r);
}

int
bg_vault_audit_head(bg_vault_t *v, int64_t *sizep,
    uint8_t head[BG_VAULT_HASH_LEN])
{
	uint8_t h[BG_VAULT_HASH_LEN];
	int64_t seq = 0;
	int r;

	bg_vault_clear_err(v);
	if ((r = last_event(v, &seq, h)) != BG_OK)
		return bg_vault_fail_default(v, r);
	if (sizep != NULL)
		*sizep = seq;
	if (head != NULL)
		memcpy(head, h, sizeof(h));
	return BG_OK;
}

/*
 * The fast path of audit verify (docs/benchmarks.md): decide without
 * jansson that an entry is exactly what bg_audit_entry() would make of its
 * row, by reading it once as canonical compact JSON.  It accepts only a
 * strict subset of what bg_audit_entry() emits (strings of printable ASCII
 * without escapes, integers without sign tricks or exponents, keys in
 * strictly rising byte order, no whitespace); anything else, and any
 * disagreement, returns false and the row goes through the full rebuild
 * in verify_row(), which alone may call a row bad.  So this can make
 * verification faster, never more lenient.
 */
struct cj {
	const char	*p;
	int		 depth;
};

/* A string of printable ASCII, no escapes; its contents in *sp, *np. */
static bool
cj_str(struct cj *c, const char **sp, size_t *np)
{
	const char *s;

	if (*c->p != '"')
		return false;
	s = ++c->p;
	while (*c->p != '"') {
		unsigned char ch = (unsigned char)*c->p;

		if (ch < 0x20 || ch > 0x7e || ch == '\\')
			return false;
		c->p++;
	}
	if (sp != NULL)
		*sp = s;
	if (np != NULL)
		*np = (size_t)(c->p - s);
	c->p++;
	return true;
}

/* An integer as jansson prints one: 0, or -?[1-9][0-9]{0,17}. */
static bool
cj_int(struct cj *c, int64_t *xp)
{
	int64_t x = 0;
	bool neg = false;
	int n = 0;

	if (*c->p == '-') {
		neg = true;
		c->p++;
	}
	if (*c->p == '0') {
		c->p++;
		if (neg || (*c->p >= '0' && *c->p <= '9') || *c->p == '.' ||
		    *c->p == 'e' || *c->p == 'E')
			return false;
		*xp = 0;
		return true;
	}
	while (*c->p >= '0' && *c->p <= '9') {
		if (++n > 18)
			return false;
		x = x * 10 + (*c->p - '0');
		c->p++;
	}
	if (n == 0 || *c->p == '.' || *c->p == 'e' || *c->p == 'E')
		return false;
	*xp = neg ? -x : x;
	return true;
}

static bool cj_value(struct cj *);

static bool
cj_object(struct cj *c)
{
	const char *prev = NULL, *k;
	size_t prevn = 0, kn, m;
	int cmp;

	if (*c->p != '{' || ++c->depth > 32)
		return false;
	c->p++;
	if (*c->p == '}') {
		c->p++;
		c->depth--;
		return true;
	}
	for (;;) {
		if (!cj_str(c, &k, &kn))
			return false;
		if (prev != NULL) {
			m = prevn < kn ? prevn : kn;
			cmp = memcmp(prev, k, m);	/* public: log keys */
			if (cmp > 0 || (cmp == 0 && prevn >= kn))
				return false;	/* not strictly rising */
		}
		prev = k;
		prevn = kn;
		if (*c->p++ != ':' || !cj_value(c))
			return false;
		if (*c->p == '}')
			break;
		if (*c->p++ != ',')
			return false;
	}
	c->p++;
	c->depth--;
	return true;
}

static bool
cj_value(struct cj *c)
{
	int64_t x;

	switch (*c->p) {
	case '"':
		return cj_str(c, NULL, NULL);
	case '{':
		return cj_object(c);
	case '[':
		if (++c->depth > 32)
			return false;
		c->p++;
		if (*c->p != ']') {
			for (;;) {
				if (!cj_value(c))
					return false;
				if (*c->p == ']')
					break;
				if (*c->p++ != ',')
					return false;
			}
		}
		c->p++;
		c->depth--;
		return true;
	case 't':
		if (strncmp(c->p, "true", 4) != 0)
			return false;
		c->p += 4;
		return true;
	case 'f':
		if (strncmp(c->p, "false", 5) != 0)
			return false;
		c->p += 5;
		return true;
	case 'n':
		if (strncmp(c->p, "null", 4) != 0)
			return false;
		c->p += 4;
		return true;
	default:
		return cj_int(c, &x);
	}
}

/* "key": then a string equal to want. */
static bool
cj_member_str(struct cj *c, const char *key, const char *want)
{
	const char *s;
	size_t n, kl = strlen(key);

	if (*c->p != '"' || strncmp(c->p + 1, key, kl) != 0 ||
	    c->p[kl + 1] != '"' || c->p[kl + 2] != ':')
		return false;
	c->p += kl + 3;
	return cj_str(c, &s, &n) && n == strlen(want) &&
	    memcmp(s, want, n) == 0 && *c->p++ == ',';	/* public: log text */
}

/* "key": then an integer equal to want; last: '}' follows, else ','. */
static bool
cj_member_int(struct cj *c, const char *key, int64_t want, bool last)
{
	size_t kl = strlen(key);
	int64_t x = 0;

	if (*c->p != '"' || strncmp(c->p + 1, key, kl) != 0 ||
	    c->p[kl + 1] != '"' || c->p[kl + 2] != ':')
		return false;
	c->p += kl + 3;
	return cj_int(c, &x) && x == want && *c->p++ == (last ? '}' : ',');
}

/* True when entry is, byte for byte, bg_audit_entry() of its columns. */
static bool
entry_canonical_fast(const bg_vault_event_t *e, const char *entry)
{
	struct cj c;

	c.p = entry;
	c.depth = 0;
	if (*c.p++ != '{' ||
	    !cj_member_str(&c, "action", e->action) ||
	    !cj_member_str(&c, "actor", e->actor) ||
	    strncmp(c.p, "\"details\":{", 11) != 0)
		return false;
	c.p += 10;
	if (!cj_object(&c) || *c.p++ != ',' ||
	    !cj_member_str(&c, "object", e->object) ||
	    !cj_member_int(&c, "seq", e->seq, false) ||
	    !cj_member_str(&c, "tenant", e->tenant) ||
	    !cj_member_int(&c, "time", e->time, false) ||
	    !cj_member_int(&c, "v", 1, true))
		return false;
	return *c.p == '\0';
}

/* Rebuild the canonical entry of one row from its stored JSON; *ok false
 * (with errmsg) when the row and its entry disagree. */
static int
verify_row(bg_vault_t *v, sqlite3_stmt *st, int64_t expect_seq,
    uint8_t prev[BG_VAULT_HASH_LEN], int64_t *prev_time, bool *ok,
    uint8_t leaf[BG_VAULT_HASH_LEN])
{
	bg_vault_event_t e;
	json_t *j = NULL, *det;
	json_error_t jerr;
	char *again = NULL;
	uint8_t chain[BG_VAULT_HASH_LEN];
	int r = BG_ERR_INTERNAL;

	*ok = false;
	if ((r = event_from_row(st, &e)) != BG_OK)
		goto out;
	if (e.seq != expect_seq) {
		r = bg_vault_fail(v, BG_OK, "event %lld is missing (deleted; "
		    "the next row is event %lld)", (long long)expect_seq,
		    (long long)e.seq);
		goto out;
	}
	if (e.time < *prev_time) {
		r = bg_vault_fail(v, BG_OK, "event %lld is dated before the "
		    "event preceding it", (long long)e.seq);
		goto out;
	}
	if (entry_canonical_fast(&e, e.entry))
		goto hashes;
	if ((j = json_loads(e.entry, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(j) ||
	    (det = json_object_get(j, "details")) == NULL ||
	    !json_is_object(det)) {
		r = bg_vault_fail(v, BG_OK, "event %lld: entry is not "
		    "well-formed", (long long)e.seq);
		goto out;
	}
	if ((again = bg_audit_entry(e.seq, e.time, e.actor, e.action,
	    e.tenant, e.object, det)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (strcmp(again, e.entry) != 0) {
		r = bg_vault_fail(v, BG_OK, "event %lld: the entry does not "
		    "match its columns (edited or reordered)", (long long)e.seq);
		goto out;
	}
hashes:
	bg_audit_leaf(e.entry, leaf);
	if (memcmp(leaf, e.leaf, BG_VAULT_HASH_LEN) != 0) { /* public: log hashes */
		r = bg_vault_fail(v, BG_OK, "event %lld: entry does not match "
		    "its leaf hash (edited)", (long long)e.seq);
		goto out;
	}
	bg_audit_chain(prev, leaf, chain);
	if (memcmp(chain, e.chain, sizeof(chain)) != 0) { /* public: log hashes */
		r = bg_vault_fail(v, BG_OK, "event %lld: chain hash does not "
		    "follow from the previous event (edited)", (long long)e.seq);
		goto out;
	}
	memcpy(prev, chain, BG_VAULT_HASH_LEN);
	*prev_time = e.time;
	*ok = true;
	r = BG_OK;
out:
	free(again);
	free(e.entry);
	json_decref(j);
	return r;
}

/* The next stored tree head (*rowp false at the end). */
static int
next_head(bg_vault_t *v, sqlite3_stmt *hs, bool *rowp, int64_t *sizep,
    int64_t *timep, uint8_t root[BG_VAULT_HASH_LEN],
    uint8_t sig[BG_TREEHEAD_SIG_LEN])
{
	int r;

	if ((r = bg_store_step(v, hs, rowp)) != BG_OK || !*rowp)
		return r;
	*sizep = sqlite3_column_int64(hs, 0);
	*timep = sqlite3_column_int64(hs, 1);
	if (*sizep < 1 || sqlite3_column_bytes(hs, 2) != BG_VAULT_HASH_LEN ||
	    sqlite3_column_bytes(hs, 3) != BG_TREEHEAD_SIG_LEN)
		return bg_vault_fail(v, BG_ERR_AUTH, "tree head at size %lld "
		    "is malformed", (long long)*sizep);
	memcpy(root, sqlite3_column_blob(hs, 2), BG_VAULT_HASH_LEN);
	memcpy(sig, sqlite3_column_blob(hs, 3), BG_TREEHEAD_SIG_LEN);
	return BG_OK;
}

/* Check one stored head against the root of the events up to its size. */
static int
check_head(bg_vault_t *v, const uint8_t pk[32], bool have_pk, int64_t size,
    int64_t time, const uint8_t stored[BG_VAULT_HASH_LEN],
    const uint8_t sig[BG_TREEHEAD_SIG_LEN],
    const uint8_t computed[BG_VAULT_HASH_LEN])
{
	bg_treehead_t th;

	if (memcmp(stored, computed, BG_VAULT_HASH_LEN) != 0) /* public: roots */
		return bg_vault_fail(v, BG_ERR_AUTH, "tree head at size %lld: "
		    "root does not match the events (log rewritten)",
		    (long long)size);
	if (!have_pk)
		return bg_vault_fail(v, BG_ERR_AUTH, "tree head at size %lld: "
		    "the vault has no pinned public key to check it with",
		    (long long)size);
	memset(&th, 0, sizeof(th));
	(void)snprintf(th.vault_id, sizeof(th.vault_id), "%s", v->id);
	th.size = (uint64_t)size;
	th.time = time;
	memcpy(th.root, stored, BG_VAULT_HASH_LEN);
	memcpy(th.sig, sig, BG_TREEHEAD_SIG_LEN);
	if (bg_treehead_verify(&th, pk) != BG_OK)
		return bg_vault_fail(v, BG_ERR_AUTH, "tree head at size %lld: "
		    "the signature does not verify with the vault's key "
		    "(forged or altered)", (long long)size);
	return BG_OK;
}

int
bg_vault_audit_verify(bg_vault_t *v, int64_t *sizep, int64_t *first_badp)
{
	sqlite3_stmt *st = NULL, *hs = NULL;
	uint8_t prev[BG_VAULT_HASH_LEN], leaf[BG_VAULT_HASH_LEN];
	uint8_t root[BG_VAULT_HASH_LEN], hroot[BG_VAULT_HASH_LEN];
	uint8_t hsig[BG_TREEHEAD_SIG_LEN], pk[32];
	bg_merkle_acc_t *acc = NULL;
	int64_t seq = 0, prev_time = 0, hsize = 0, htime = 0;
	bool row = false, ok = false, hrow = false, have_pk = false;
	int r = BG_ERR_INTERNAL;

	if (sizep != NULL)
		*sizep = 0;
	if (first_badp != NULL)
		*first_badp = 0;
	bg_vault_clear_err(v);
	memset(prev, 0, sizeof(prev));
	if ((acc = malloc(sizeof(*acc))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_merkle_acc_init(acc);
	r = bg_treelog_pinned_key(v, pk);
	if (r != BG_OK && r != BG_ERR_NOT_FOUND)
		goto out;
	have_pk = r == BG_OK;
	bg_vault_clear_err(v);
	if ((r = bg_store_prepare(v, "SELECT seq, time, actor, action, "
	    "tenant, object, entry, leaf, chain FROM events ORDER BY seq",
	    &st)) != BG_OK ||
	    (r = bg_store_prepare(v, "SELECT size, time, root, sig FROM "
	    "tree_heads ORDER BY size", &hs)) != BG_OK)
		goto out;
	if ((r = next_head(v, hs, &hrow, &hsize, &htime, hroot, hsig))
	    != BG_OK)
		goto bad;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		seq++;
		if ((r = verify_row(v, st, seq, prev, &prev_time, &ok, leaf))
		    != BG_OK)
			goto out;
		if (!ok) {
			if (first_badp != NULL)
				*first_badp = seq;
			r = BG_ERR_AUTH;
			goto out;
		}
		if ((r = bg_merkle_acc_push(acc, leaf)) != BG_OK)
			goto out;
		while (hrow && hsize == seq) {
			bg_merkle_acc_root(acc, root);
			if ((r = check_head(v, pk, have_pk, hsize, htime, hroot,
			    hsig, root)) != BG_OK)
				goto bad;
			if ((r = next_head(v, hs, &hrow, &hsize, &htime, hroot,
			    hsig)) != BG_OK)
				goto bad;
		}
		if (sizep != NULL)
			*sizep = seq;
	}
	if (hrow) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "events end at %lld but a "
		    "tree head covers %lld (truncated)", (long long)seq,
		    (long long)hsize);
		hsize = seq + 1;
		goto bad;
	}
	r = BG_OK;
	goto out;
bad:
	if (r == BG_ERR_AUTH && first_badp != NULL)
		*first_badp = hsize;
out:
	free(acc);
	sqlite3_finalize(st);
	sqlite3_finalize(hs);
	return bg_vault_fail_default(v, r);
}
