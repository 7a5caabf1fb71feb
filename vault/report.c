/*
 * Incident review reports: a timeline per request built from the audit
 * events (the log is the record; the request and approval rows add the
 * signed statements and the token evidence), rotation lag against the
 * tenant's deadline, refusals and anomalies.  The report is JSON first;
 * text and HTML are renderings of that JSON, so a report taken out of an
 * evidence bundle renders the same way.  Every string may come from an
 * edited database: the renderers escape all of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "recert.h"
#include "vault_int.h"

#define REPORT_FORMAT	"bg-report-v1"
#define RECERT_FORMAT	"bg-recert-v1"	/* recert.c */

/* --- building -------------------------------------------------------------- */

static json_int_t
jint(const json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_integer(x) ? json_integer_value(x) : 0;
}

static const char *
jstr(const json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_string(x) ? json_string_value(x) : "";
}

static int
set_new(json_t *o, const char *key, json_t *val)
{
	if (val == NULL)
		return BG_ERR_NOMEM;
	return json_object_set_new(o, key, val) == 0 ? BG_OK : BG_ERR_NOMEM;
}

static int
append_new(json_t *a, json_t *val)
{
	if (val == NULL)
		return BG_ERR_NOMEM;
	return json_array_append_new(a, val) == 0 ? BG_OK : BG_ERR_NOMEM;
}

/* A parsed event: its columns and details (borrowed from the list). */
typedef struct ev {
	const bg_vault_event_t	*e;
	json_t			*entry;		/* parsed, owned */
	json_t			*det;		/* borrowed from entry */
} ev_t;

static void
evs_free(ev_t **evsp, size_t n)
{
	size_t i;

	if (evsp == NULL || *evsp == NULL)
		return;
	for (i = 0; i < n; i++)
		json_decref((*evsp)[i].entry);
	free(*evsp);
	*evsp = NULL;
}

/* What kind of anomaly a refusal is, by its error code. */
static const char *
refusal_kind(const char *code)
{
	if (strcmp(code, "BG_ERR_TOKEN_PIN_INVALID") == 0 ||
	    strcmp(code, "BG_ERR_TOKEN_PIN_BLOCKED") == 0 ||
	    strcmp(code, "BG_ERR_TOKEN_PIN_AUTH_BLOCKED") == 0)
		return "wrong-pin";
	if (strcmp(code, "BG_ERR_CLOCK") == 0)
		return "clock";
	if (strcmp(code, "BG_ERR_AUTH") == 0 ||
	    strcmp(code, "BG_ERR_DB_CORRUPT") == 0)
		return "tamper";
	if (strcmp(code, "BG_ERR_DENIED") == 0)
		return "denied";
	if (strcmp(code, "BG_ERR_EXPIRED") == 0)
		return "expired";
	return "refused";
}

/* A refused event as a report item. */
static json_t *
refusal_json(const ev_t *x)
{
	const char *code = jstr(x->det, "code");
	json_t *o;

	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "seq", (json_int_t)x->e->seq, "time", (json_int_t)x->e->time,
	    "actor", x->e->actor, "tenant", x->e->tenant, "object",
	    x->e->object, "attempted", jstr(x->det, "attempted"), "code", code,
	    "message", jstr(x->det, "message"));
	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "kind", json_string(refusal_kind(code)))
	    != 0 || (json_object_get(x->det, "clock") != NULL &&
	    json_object_set_new(o, "clock", json_integer(jint(x->det,
	    "clock"))) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
anomaly_json(const char *kind, int64_t seq, int64_t time, int64_t request,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static json_t *
anomaly_json(const char *kind, int64_t seq, int64_t time, int64_t request,
    const char *fmt, ...)
{
	char text[BG_VAULT_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:I, s:I, s:I, s:s}", "kind", kind,
	    "seq", (json_int_t)seq, "time", (json_int_t)time,
	    "request", (json_int_t)request, "text", text);
}

/*
 * Token evidence of one signed statement: the statement, its hash, the
 * stored authenticator data and signature, and whether the signature
 * verifies (over SHA-256("breakglass <action> v1\n" || statement)) with
 * the enrolled key.
 */
static int
evidence_json(bg_vault_t *v, sqlite3_stmt *st, int col, const char *action,
    json_t **outp)
{
	const char *stmt = (const char *)sqlite3_column_text(st, col);
	const uint8_t *ad = sqlite3_column_blob(st, col + 1);
	const uint8_t *sig = sqlite3_column_blob(st, col + 2);
	const uint8_t *pk = sqlite3_column_blob(st, col + 4);
	size_t adlen = (size_t)sqlite3_column_bytes(st, col + 1);
	size_t siglen = (size_t)sqlite3_column_bytes(st, col + 2);
	size_t pklen = (size_t)sqlite3_column_bytes(st, col + 4);
	int alg = sqlite3_column_int(st, col + 3);
	uint8_t h[BG_VAULT_HASH_LEN], cdh[BG_TOKEN_CDH_LEN];
	char hh[2 * BG_VAULT_HASH_LEN + 1], *adh = NULL, *sigh = NULL;
	json_t *o = NULL;
	bool valid = false;
	int r = BG_ERR_INTERNAL;

	*outp = NULL;
	if (stmt == NULL)
		stmt = "";
	crypto_hash_sha256(h, (const uint8_t *)stmt, strlen(stmt));
	bg_hex(h, sizeof(h), hh);
	if ((adh = malloc(2 * adlen + 1)) == NULL ||
	    (sigh = malloc(2 * siglen + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_hex(ad != NULL ? ad : (const uint8_t *)"", ad != NULL ? adlen : 0,
	    adh);
	bg_hex(sig != NULL ? sig : (const uint8_t *)"", sig != NULL ? siglen :
	    0, sigh);
	if (ad != NULL && sig != NULL && pk != NULL && adlen > 0) {
		bg_statement_cdh(action, stmt, cdh);
		valid = bg_token_verify(alg, pk, pklen, v->rp_id, cdh, ad,
		    adlen, sig, siglen, true) == BG_OK;
	}
	if ((o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "statement", stmt,
	    "statement_hash", hh, "authenticator_data", adh, "signature",
	    sigh, "token", (const char *)sqlite3_column_text(st, col + 5) ?
	    (const char *)sqlite3_column_text(st, col + 5) : "",
	    "signature_valid", valid)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	*outp = o;
	o = NULL;
	r = BG_OK;
out:
	free(adh);
	free(sigh);
	json_decref(o);
	return r;
}

/* The request's own signed statement (the requester's token). */
static int
request_evidence(bg_vault_t *v, int64_t id, json_t **outp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*outp = NULL;
	if ((r = bg_store_prepare(v, "SELECT q.statement, q.authdata, q.sig, "
	    "k.alg, k.pubkey, k.label FROM requests q "
	    "JOIN tokens k ON k.id = q.token_id WHERE q.id = ?", &st))
	    != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	r = row ? evidence_json(v, st, 0, "request", outp) : BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* The approval or denial of person for request id (NULL when none). */
static int
approval_evidence(bg_vault_t *v, int64_t id, const char *person,
    const char *action, json_t **outp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*outp = NULL;
	if ((r = bg_store_prepare(v, "SELECT a.statement, a.authdata, a.sig, "
	    "k.alg, k.pubkey, k.label FROM approvals a "
	    "JOIN tokens k ON k.id = a.token_id "
	    "WHERE a.request_id = ? AND a.person = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	r = row ? evidence_json(v, st, 0, action, outp) : BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
item_cmp(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a;
	const json_t *y = *(const json_t *const *)b;
	json_int_t tx = jint(x, "time"), ty = jint(y, "time");
	json_int_t sx = jint(x, "seq"), sy = jint(y, "seq");

	if (tx != ty)
		return tx < ty ? -1 : 1;
	/* derived items (seq 0) after the logged ones of the same second */
	if (sx == 0 || sy == 0)
		return sx == sy ? 0 : (sx == 0 ? 1 : -1);
	return sx < sy ? -1 : (sx > sy ? 1 : 0);
}

/* Sort a timeline array by time, then seq. */
static int
sort_items(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **tmp = NULL;
	int r = BG_ERR_INTERNAL;

	if (n < 2)
		return BG_OK;
	if ((tmp = calloc(n, sizeof(*tmp))) == NULL)
		return BG_ERR_NOMEM;
	for (i = 0; i < n; i++)
		tmp[i] = json_incref(json_array_get(arr, i));
	qsort(tmp, n, sizeof(*tmp), item_cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, tmp[i]) != 0) {
			r = BG_ERR_NOMEM;
			i++;
			goto out;
		}
	}
	r = BG_OK;
out:
	for (; i < n; i++)
		json_decref(tmp[i]);
	free(tmp);
	return r;
}

/* The operator whose signed seal the version names ("" when none). */
static int
version_known_to(bg_vault_t *v, const bg_vault_request_info_t *q,
    char *buf, size_t cap)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r;

	buf[0] = '\0';
	if ((r = bg_store_prepare(v, "SELECT coalesce(a.person, '') FROM "
	    "versions x JOIN secrets s ON s.id = x.secret_id JOIN tenants t "
	    "ON t.id = s.tenant_id LEFT JOIN acts a ON a.id = x.seal_act "
	    "WHERE t.name = ? AND s.name = ? AND x.version = ?", &st)) ==
	    BG_OK && (r = bg_store_bind_text(v, st, 1, q->tenant)) == BG_OK &&
	    (r = bg_store_bind_text(v, st, 2, q->secret)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 3, q->version)) == BG_OK &&
	    (r = bg_store_step(v, st, &row)) == BG_OK && row)
		bg_store_col_text(st, 0, buf, cap);
	sqlite3_finalize(st);
	return r;
}

/*
 * A timeline item from an event.  An administrative act's event carries
 * the signature (details "signed"): the item names the role the person
 * acted in and the act, and the text says so.
 */
static json_t *
event_item(const ev_t *x, const char *kind, const char *text)
{
	const json_t *sg = json_object_get(x->det, "signed");
	json_t *o;
	char t2[BG_VAULT_TEXT_MAX + 96];

	if (!json_is_object(sg))
		return json_pack("{s:I, s:I, s:s, s:s, s:s}", "seq",
		    (json_int_t)x->e->seq, "time", (json_int_t)x->e->time,
		    "kind", kind, "actor", x->e->actor, "text", text);
	(void)snprintf(t2, sizeof(t2), "%s (%s, signed act %lld)", text,
	    jstr(sg, "role"), (long long)jint(sg, "act"));
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:{s:s, s:I, s:s, s:s}}",
	    "seq", (json_int_t)x->e->seq, "time", (json_int_t)x->e->time,
	    "kind", kind, "actor", x->e->actor, "text", t2, "signed", "role",
	    jstr(sg, "role"), "act", (json_int_t)jint(sg, "act"),
	    "statement_sha256", jstr(sg, "statement_sha256"), "sig",
	    jstr(sg, "sig"));
	return o;
}

static bool
object_is_request(const ev_t *x, const bg_vault_request_info_t *q)
{
	char obj[48];

	(void)snprintf(obj, sizeof(obj), "request %lld", (long long)q->id);
	return strcmp(x->e->object, obj) == 0;
}

/* One incident: a request and everything that followed from it. */
static int
incident_json(bg_vault_t *v, const bg_vault_request_info_t *q,
    const ev_t *evs, size_t nev, int64_t now, json_t *anomalies,
    json_t **outp)
{
	bg_tenant_row_t t;
	json_t *o = NULL, *tl = NULL, *refs = NULL, *item = NULL, *evj = NULL;
	json_t *rot = NULL, *appr = NULL;
	int64_t released_at = 0, lease_until = 0, rotated_at = 0, end = 0;
	int64_t rotate_by = 0, lag = 0, close_seq = 0;
	bool has_lag = false;
	const char *status;
	char text[BG_VAULT_TEXT_MAX], tb[32], sealer[BG_VAULT_NAME_MAX + 1];
	size_t i;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	*outp = NULL;
	if ((r = bg_tenant_get(v, q->tenant, &t)) != BG_OK)
		goto out;
	if ((tl = json_array()) == NULL || (refs = json_array()) == NULL ||
	    (appr = json_array()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* The request's own events, and the rotation of its version. */
	for (i = 0; i < nev; i++) {
		const ev_t *x = &evs[i];
		const char *a = x->e->action;
		bool mine = strcmp(x->e->tenant, q->tenant) == 0 &&
		    jint(x->det, "request") == q->id;
		bool same_secret = strcmp(x->e->tenant, q->tenant) == 0 &&
		    strcmp(x->e->object, q->secret) == 0;

		item = NULL;
		if (mine && strcmp(a, "request") == 0) {
			(void)snprintf(text, sizeof(text), "%s asked for "
			    "%s/%s v%d", x->e->actor, q->tenant, q->secret,
			    q->version);
			if ((item = event_item(x, "request", text)) == NULL ||
			    (r = request_evidence(v, q->id, &evj)) != BG_OK)
				goto fail;
			if (evj != NULL && json_object_set_new(evj,
			    "event_statement_hash", json_string(jstr(x->det,
			    "statement_hash"))) != 0) {
				r = BG_ERR_NOMEM;
				goto fail;
			}
		} else if (mine && (strcmp(a, "approve") == 0 ||
		    strcmp(a, "deny") == 0)) {
			bool deny = a[0] == 'd';

			if (deny && close_seq == 0)
				close_seq = x->e->seq;

			(void)snprintf(text, sizeof(text), "%s %s%s%s",
			    x->e->actor, deny ? "denied" : "approved",
			    json_is_true(json_object_get(x->det,
			    "satisfied")) ? " (the policy is met)" : "",
			    !deny && jstr(x->det, "missing")[0] ? "; " : "");
			if (!deny && jstr(x->det, "missing")[0] != '\0')
				(void)snprintf(text + strlen(text),
				    sizeof(text) - strlen(text), "%s",
				    jstr(x->det, "missing"));
			if (deny && jstr(x->det, "reason")[0] != '\0')
				(void)snprintf(text + strlen(text),
				    sizeof(text) - strlen(text), ": %s",
				    jstr(x->det, "reason"));
			if ((item = event_item(x, a, text)) == NULL ||
			    (r = approval_evidence(v, q->id, x->e->actor, a,
			    &evj)) != BG_OK)
				goto fail;
			if (evj != NULL && json_object_set_new(evj,
			    "event_statement_hash", json_string(jstr(x->det,
			    "statement_hash"))) != 0) {
				r = BG_ERR_NOMEM;
				goto fail;
			}
			if (!deny && (r = append_new(appr,
			    json_string(x->e->actor))) != BG_OK)
				goto fail;
			if (deny && (r = append_new(anomalies, anomaly_json(
			    "denial", x->e->seq, x->e->time, q->id, "%s denied "
			    "request %lld", x->e->actor, (long long)q->id)))
			    != BG_OK)
				goto fail;
		} else if (mine && strcmp(a, "withdraw") == 0) {
			if (close_seq == 0)
				close_seq = x->e->seq;
			(void)snprintf(text, sizeof(text), "%s withdrew the "
			    "request%s%s%s", x->e->actor,
			    jstr(x->det, "approvers")[0] != '\0' ?
			    " (the approvals of " : "",
			    jstr(x->det, "approvers"),
			    jstr(x->det, "approvers")[0] != '\0' ?
			    " still count toward exposure)" : "");
			if ((item = event_item(x, a, text)) == NULL)
				goto nomem;
		} else if (mine && strcmp(a, "release") == 0) {
			released_at = x->e->time;
			lease_until = jint(x->det, "lease_until");
			(void)snprintf(text, sizeof(text), "%s opened the "
			    "credential (approved by %s); lease until %s",
			    x->e->actor, jstr(x->det, "approvers"),
			    bg_vault_fmt_time(lease_until, tb, sizeof(tb)));
			if ((item = event_item(x, "release", text)) == NULL)
				goto nomem;
		} else if (released_at != 0 && same_secret &&
		    strcmp(a, "rotate.begin") == 0 &&
		    jint(x->det, "replaces") == q->version) {
			(void)snprintf(text, sizeof(text), "%s began the "
			    "rotation to v%lld", x->e->actor,
			    (long long)jint(x->det, "version"));
			if ((item = event_item(x, a, text)) == NULL)
				goto nomem;
		} else if (released_at != 0 && same_secret &&
		    (strcmp(a, "rotate.commit") == 0 ||
		    strcmp(a, "rotate.abort") == 0) &&
		    jint(x->det, "previous") == q->version) {
			bool commit = strcmp(a, "rotate.commit") == 0;

			if (commit && rotated_at == 0)
				rotated_at = x->e->time;
			(void)snprintf(text, sizeof(text), "%s %s the "
			    "rotation to v%lld", x->e->actor, commit ?
			    "committed" : "aborted",
			    (long long)jint(x->det, "version"));
			if ((item = event_item(x, a, text)) == NULL)
				goto nomem;
		}
		if (item != NULL) {
			if (evj != NULL && json_object_set_new(item,
			    "evidence", evj) != 0) {
				evj = NULL;
				goto nomem;
			}
			evj = NULL;
			if ((r = append_new(tl, item)) != BG_OK) {
				item = NULL;
				goto fail;
			}
			item = NULL;
		}
	}
	/* Refusals about this request or its secret from the request on,
	 * until it closed unreleased or the rotation retired the version. */
	end = rotated_at != 0 ? rotated_at : INT64_MAX;
	if (q->state != BG_VAULT_REQUEST_RELEASED && q->closed_at != 0)
		end = q->closed_at;	/* later refusals are a later request's */
	for (i = 0; i < nev; i++) {
		const ev_t *x = &evs[i];

		if (strcmp(x->e->action, "refused") != 0 ||
		    strcmp(x->e->tenant, q->tenant) != 0)
			continue;
		if (!object_is_request(x, q) &&
		    (strcmp(x->e->object, q->secret) != 0 ||
		    x->e->time < q->created_at || x->e->time > end ||
		    (close_seq != 0 && x->e->seq > close_seq)))
			continue;
		if ((r = append_new(refs, refusal_json(x))) != BG_OK)
			goto fail;
		(void)snprintf(text, sizeof(text), "refused %s by %s: %s",
		    jstr(x->det, "attempted"), x->e->actor,
		    jstr(x->det, "message"));
		if ((item = event_item(x, "refused", text)) == NULL ||
		    json_object_set_new(item, "anomaly", json_string(
		    refusal_kind(jstr(x->det, "code")))) != 0)
			goto nomem;
		if ((r = append_new(tl, item)) != BG_OK) {
			item = NULL;
			goto fail;
		}
		item = NULL;
	}
	/* Lease end and rotation lag. */
	if (released_at != 0) {
		rotate_by = lease_until + t.rotation_deadline;
		(void)snprintf(text, sizeof(text), "lease ended (release + TTL "
		    "%lld s)%s", (long long)q->ttl, lease_until > now ?
		    "; still running" : "");
		if ((item = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b}", "seq",
		    (json_int_t)0, "time", (json_int_t)lease_until, "kind",
		    "lease-end", "actor", "", "text", text, "derived", 1))
		    == NULL)
			goto nomem;
		if ((r = append_new(tl, item)) != BG_OK) {
			item = NULL;
			goto fail;
		}
		item = NULL;
		if (rotated_at != 0) {
			/* negative: committed before the lease ended */
			lag = rotated_at - lease_until;
			has_lag = true;
			status = rotated_at > rotate_by ? "late" : "on-time";
		} else if (now < lease_until) {
			status = "lease-running";
		} else {
			lag = now - lease_until;
			has_lag = true;
			status = now > rotate_by ? "overdue" : "open";
		}
		if ((strcmp(status, "late") == 0 ||
		    strcmp(status, "overdue") == 0) &&
		    (r = append_new(anomalies, anomaly_json(status, 0,
		    rotated_at != 0 ? rotated_at : now, q->id, "%s/%s v%d "
		    "rotation %s: due by %s", q->tenant, q->secret, q->version,
		    status[0] == 'l' ? "committed late" : "overdue",
		    bg_vault_fmt_time(rotate_by, tb, sizeof(tb))))) != BG_OK)
			goto fail;
	} else {
		status = "not-released";
	}
	if (q->state == BG_VAULT_REQUEST_EXPIRED && (r = append_new(anomalies,
	    anomaly_json("expired", 0, q->deadline, q->id, "request %lld "
	    "expired unreleased", (long long)q->id))) != BG_OK)
		goto fail;
	if ((r = sort_items(tl)) != BG_OK)
		goto fail;
	if ((rot = json_pack("{s:I, s:I, s:I, s:I, s:s}", "deadline_seconds",
	    (json_int_t)t.rotation_deadline, "lease_end",
	    (json_int_t)lease_until, "rotate_by", (json_int_t)rotate_by,
	    "rotated_at", (json_int_t)rotated_at, "status", status)) == NULL)
		goto nomem;
	if ((r = set_new(rot, "lag_seconds", has_lag ?
	    json_integer(lag) : json_null())) != BG_OK)
		goto fail;
	o = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:I, "
	    "s:s, s:I, s:s, s:s, s:I, s:O, s:O, s:O, s:O}",
	    "request", (json_int_t)q->id, "tenant", q->tenant, "secret",
	    q->secret, "version", q->version, "requester", q->requester,
	    "reason", q->reason, "ticket", q->ticket, "ttl",
	    (json_int_t)q->ttl, "created_at", (json_int_t)q->created_at,
	    "deadline", (json_int_t)q->deadline, "state",
	    bg_vault_request_state_name(q->state), "closed_at",
	    (json_int_t)q->closed_at, "policy", q->policy, "denied_by",
	    q->denied_by, "released_at", (json_int_t)released_at,
	    "approvers", appr, "timeline", tl, "refusals", refs,
	    "rotation", rot);
	if (o == NULL)
		goto nomem;
	/* who sealed the version, and so knew its value before any release */
	if ((r = version_known_to(v, q, sealer, sizeof(sealer))) != BG_OK ||
	    (r = set_new(o, "known_to", sealer[0] != '\0' ?
	    json_string(sealer) : json_null())) != BG_OK)
		goto fail;
	*outp = o;
	o = NULL;
	r = BG_OK;
	goto out;
nomem:
	r = BG_ERR_NOMEM;
fail:
out:
	json_decref(item);
	json_decref(evj);
	json_decref(o);
	json_decref(tl);
	json_decref(refs);
	json_decref(appr);
	json_decref(rot);
	bg_tenant_row_clear(&t);
	return r;
}

/*
 * The MSP self-approval exception of the link in force, as an anomaly:
 * live ("MSP may approve its own access until ...: reason") or ended.
 * The reason is up to BG_VAULT_REASON_MAX bytes: no fixed buffer.
 */
static int
exception_anomaly(const bg_vault_raci_t *rc, json_t *anoms)
{
	char tb[32], *text = NULL;
	int r = BG_ERR_INTERNAL;

	if (!rc->has_exception)
		return BG_OK;
	bg_vault_fmt_time(rc->exception_expires, tb, sizeof(tb));
	if ((r = bg_strcatf(&text, rc->exception_live ? "%s: MSP may approve "
	    "its own access until %s: %s" : "%s: the exception that let the "
	    "MSP approve its own access ended %s: %s", rc->tenant, tb,
	    rc->exception_reason)) != BG_OK)
		goto out;
	r = append_new(anoms, json_pack("{s:s, s:I, s:I, s:I, s:s}", "kind",
	    rc->exception_live ? "msp-exception" : "msp-exception-ended",
	    "seq", (json_int_t)0, "time", (json_int_t)
	    rc->exception_since.committed_at, "request", (json_int_t)0,
	    "text", text));
out:
	free(text);
	return r;
}

static bool
request_in_scope(const bg_vault_request_info_t *q,
    const bg_vault_report_query_t *s)
{
	if (s->request_id != 0 && q->id != s->request_id)
		return false;
	if (s->ticket != NULL && strcmp(q->ticket, s->ticket) != 0)
		return false;
	if (s->since != 0 && q->created_at < s->since)
		return false;
	if (s->until != 0 && q->created_at > s->until)
		return false;
	return true;
}

int
bg_vault_report(bg_vault_t *v, const bg_vault_report_query_t *q,
    char **jsonp)
{
	static const bg_vault_report_query_t all;
	const bg_vault_report_query_t *s = q != NULL ? q : &all;
	bg_vault_audit_filter_t f;
	bg_vault_request_info_t *reqs = NULL, *one = NULL;
	bg_vault_event_t *list = NULL;
	bg_vault_raci_t *rc = NULL;
	bg_tenant_row_t t;
	ev_t *evs = NULL;
	json_t *rep = NULL, *incs = NULL, *refs = NULL, *anoms = NULL;
	json_t *inc = NULL, *scope = NULL, *seen = NULL, *raci = NULL;
	json_error_t jerr;
	const char *tenant = s->tenant;
	char key[32];
	size_t nreq = 0, nlist = 0, nev = 0, i, j;
	int64_t now;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	if (jsonp == NULL)
		return BG_ERR_INVALID_ARG;
	*jsonp = NULL;
	bg_vault_clear_err(v);
	now = bg_vault_read_now(v);
	if (tenant != NULL && (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if (s->request_id != 0) {
		if ((r = bg_vault_request_show(v, s->request_id, &one))
		    != BG_OK)
			goto out;
		if (tenant != NULL && strcmp(one->tenant, tenant) != 0) {
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "request %lld "
			    "is not a request of tenant '%s'",
			    (long long)s->request_id, tenant);
			goto out;
		}
		tenant = one->tenant;
	}
	if ((r = bg_vault_request_list(v, tenant, false, &reqs, &nreq))
	    != BG_OK)
		goto out;
	f.tenant = tenant;
	if ((r = bg_vault_audit_list(v, &f, &list, &nlist)) != BG_OK)
		goto out;
	if (nlist > 0 && (evs = calloc(nlist, sizeof(*evs))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nlist; i++) {
		json_t *e = json_loads(list[i].entry, 0, &jerr), *d;

		if (e == NULL || !json_is_object(d = json_object_get(e,
		    "details"))) {
			json_decref(e);
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "event %lld: "
			    "entry is not well-formed (run vault audit verify)",
			    (long long)list[i].seq);
			goto out;
		}
		evs[nev].e = &list[i];
		evs[nev].entry = e;
		evs[nev].det = d;
		nev++;
	}
	if ((incs = json_array()) == NULL || (refs = json_array()) == NULL ||
	    (anoms = json_array()) == NULL || (seen = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nreq; i++) {
		if (!request_in_scope(&reqs[i], s))
			continue;
		if ((r = incident_json(v, &reqs[i], evs, nev, now, anoms,
		    &inc)) != BG_OK)
			goto out;
		if (s->request_id != 0 || s->ticket != NULL) {
			/* refusals: only those of the incidents */
			json_t *ir = json_object_get(inc, "refusals");

			for (j = 0; j < json_array_size(ir); j++) {
				json_t *x = json_array_get(ir, j);

				(void)snprintf(key, sizeof(key), "%lld",
				    (long long)jint(x, "seq"));
				if (json_object_get(seen, key) != NULL)
					continue;
				if (json_object_set_new(seen, key,
				    json_true()) != 0 ||
				    json_array_append(refs, x) != 0) {
					r = BG_ERR_NOMEM;
					goto out;
				}
			}
		}
		if ((r = append_new(incs, inc)) != BG_OK) {
			inc = NULL;
			goto out;
		}
		inc = NULL;
	}
	if (s->request_id == 0 && s->ticket == NULL) {
		for (i = 0; i < nev; i++) {
			if (strcmp(evs[i].e->action, "refused") != 0 ||
			    (s->since != 0 && evs[i].e->time < s->since) ||
			    (s->until != 0 && evs[i].e->time > s->until))
				continue;
			if ((r = append_new(refs, refusal_json(&evs[i])))
			    != BG_OK)
				goto out;
		}
	}
	/* Every refusal that is not a plain "no" is an anomaly. */
	for (i = 0; i < json_array_size(refs); i++) {
		json_t *x = json_array_get(refs, i);
		const char *kind = jstr(x, "kind");

		if (strcmp(kind, "refused") == 0)
			continue;
		if ((r = append_new(anoms, anomaly_json(kind, jint(x, "seq"),
		    jint(x, "time"), 0, "%s: %s refused to %s: %s", kind,
		    jstr(x, "attempted"), jstr(x, "actor"),
		    jstr(x, "message")))) != BG_OK)
			goto out;
	}
	/* The tenant's RACI from its chain, and an MSP self-approval
	 * exception in the link in force. */
	if (tenant != NULL) {
		if ((r = bg_vault_raci(v, tenant, &rc)) != BG_OK ||
		    (r = bg_raci_to_json(rc, &raci)) != BG_OK ||
		    (r = exception_anomaly(rc, anoms)) != BG_OK)
			goto out;
	} else if ((raci = json_null()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = sort_items(anoms)) != BG_OK)
		goto out;
	if ((scope = json_pack("{s:s, s:s, s:I, s:I, s:I}", "tenant",
	    s->tenant != NULL ? s->tenant : "", "ticket", s->ticket != NULL ?
	    s->ticket : "", "request", (json_int_t)s->request_id, "since",
	    (json_int_t)s->since, "until", (json_int_t)s->until)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((rep = json_pack("{s:s, s:s, s:I, s:O, s:O, s:O, s:O, s:O}",
	    "format", REPORT_FORMAT, "vault", v->id, "generated_at",
	    (json_int_t)now, "scope", scope, "incidents", incs, "refusals",
	    refs, "anomalies", anoms, "raci", raci)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((*jsonp = json_dumps(rep, JSON_SORT_KEYS | JSON_COMPACT)) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	json_decref(rep);
	json_decref(scope);
	json_decref(incs);
	json_decref(refs);
	json_decref(anoms);
	json_decref(inc);
	json_decref(seen);
	json_decref(raci);
	bg_vault_raci_free(&rc);
	evs_free(&evs, nev);
	bg_vault_audit_free(&list, nlist);
	bg_vault_request_free(&reqs);
	bg_vault_request_free(&one);
	bg_tenant_row_clear(&t);
	return bg_vault_fail_default(v, r);
}

/* --- rendering -------------------------------------------------------------- */

typedef struct sbuf {
	char	*p;
	size_t	 len, cap;
	bool	 failed;
} sbuf_t;

static void
sb_add(sbuf_t *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(sbuf_t *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(sbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_fmt(sbuf_t *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = true;
		return;
	}
	sb_add(b, tmp, (size_t)n);
}

/* Untrusted text for a terminal: control characters become '?'. */
static void
sb_text(sbuf_t *b, const char *s)
{
	char c;

	for (; *s != '\0'; s++) {
		c = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
		sb_add(b, &c, 1);
	}
}

/* Untrusted text for HTML (elements and quoted attributes). */
static void
sb_html(sbuf_t *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': sb_str(b, "&amp;"); break;
		case '<': sb_str(b, "&lt;"); break;
		case '>': sb_str(b, "&gt;"); break;
		case '"': sb_str(b, "&quot;"); break;
		case '\'': sb_str(b, "&#39;"); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				sb_str(b, "?");
			else
				sb_add(b, s, 1);
		}
	}
}

/* A CSS class word from untrusted text: [a-z0-9-] only. */
static void
sb_class(sbuf_t *b, const char *s)
{
	char c;
	size_t n = 0;

	for (; *s != '\0' && n < 32; s++, n++) {
		c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			c = '-';
		sb_add(b, &c, 1);
	}
}

static const char *
fmt_time(json_int_t t, char buf[32])
{
	if (t <= 0) {
		(void)snprintf(buf, 32, "-");
		return buf;
	}
	return bg_vault_fmt_time((int64_t)t, buf, 32);
}

static const char *
fmt_span(json_int_t s, char buf[32])
{
	long long x = (long long)s;

	if (x < 0)
		x = 0;
	if (x >= 86400)
		(void)snprintf(buf, 32, "%lldd %lldh", x / 86400,
		    (x % 86400) / 3600);
	else if (x >= 3600)
		(void)snprintf(buf, 32, "%lldh %02lldm", x / 3600,
		    (x % 3600) / 60);
	else if (x >= 60)
		(void)snprintf(buf, 32, "%lldm %02llds", x / 60, x % 60);
	else
		(void)snprintf(buf, 32, "%llds", x);
	return buf;
}

static void
text_rotation(sbuf_t *b, const json_t *rot)
{
	char t1[32], t2[32], sp[32], sp2[32];
	const char *st = jstr(rot, "status");
	json_t *lag = json_object_get(rot, "lag_seconds");

	sb_fmt(b, "  rotation:  deadline %s after lease end",
	    fmt_span(jint(rot, "deadline_seconds"), sp));
	if (strcmp(st, "not-released") == 0) {
		sb_str(b, "; not released, nothing to rotate\n");
		return;
	}
	sb_fmt(b, " (lease end %s, rotate by %s)\n",
	    fmt_time(jint(rot, "lease_end"), t1),
	    fmt_time(jint(rot, "rotate_by"), t2));
	sb_str(b, "             ");
	if (jint(rot, "rotated_at") != 0 && json_integer_value(lag) < 0)
		sb_fmt(b, "rotated %s, %s before lease end: ",
		    fmt_time(jint(rot, "rotated_at"), t1),
		    fmt_span(-json_integer_value(lag), sp2));
	else if (jint(rot, "rotated_at") != 0)
		sb_fmt(b, "rotated %s, lag %s after lease end: ",
		    fmt_time(jint(rot, "rotated_at"), t1),
		    fmt_span(json_integer_value(lag), sp2));
	else if (json_is_integer(lag))
		sb_fmt(b, "not rotated, %s since lease end: ",
		    fmt_span(json_integer_value(lag), sp2));
	else
		sb_str(b, "lease still running: ");
	sb_text(b, strcmp(st, "late") == 0 ? "LATE" : strcmp(st, "overdue") ==
	    0 ? "OVERDUE" : st);
	sb_str(b, "\n");
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>breakglass incident review</title>\n";
static const char html_style[] =
    "<style>\n"
    "body{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#1c2430;"
    "background:#f7f8fa}\n"
    "h1{margin:0 0 4px;font-size:26px}h2{font-size:19px;margin:0 0 10px}\n"
    ".meta{color:#56606e;margin:0 0 18px}\n"
    "section{background:#fff;border:1px solid #d5dae1;border-radius:6px;"
    "padding:16px;margin:0 0 18px}\n"
    "table{border-collapse:collapse;margin:8px 0}\n"
    "td,th{border-bottom:1px solid #e3e6ea;padding:3px 10px 3px 0;"
    "text-align:left;vertical-align:top;font-size:13px}\n"
    "th{color:#56606e;font-weight:normal}\n"
    ".state{font-size:13px;padding:2px 8px;border-radius:10px;"
    "background:#e6ecf5}\n"
    ".bad{color:#b3261e;font-weight:bold}.good{color:#1e7b34}\n"
    ".mono{font-family:'DejaVu Sans Mono',monospace;font-size:11px;"
    "word-break:break-all}\n"
    "svg.timeline{display:block;background:#fbfcfd;border:1px solid #e3e6ea;"
    "margin:8px 0}\n"
    ".tlwrap{overflow-x:auto;max-width:100%}\n"
    ".axis{stroke:#8a94a3;stroke-width:2}.lead{stroke:#c4cad3;stroke-width:1}\n"
    ".mark{stroke:#1c2430;stroke-width:1.5}\n"
    ".k-request{fill:#2f6fdf}.k-approve{fill:#2ea44f}.k-deny{fill:#d73a49}\n"
    ".k-release{fill:#e36209}.k-lease-end{fill:#6f42c1}\n"
    ".k-rotate-begin{fill:#0598bc}.k-rotate-commit{fill:#11756a}\n"
    ".k-rotate-abort{fill:#959da5}.k-refused{fill:#b31d28}\n"
    ".lbl{font-size:11px;fill:#1c2430}.tm{font-size:10px;fill:#56606e}\n"
    "li.anomaly{color:#b3261e}\n"
    ".due{color:#9a6700;font-weight:bold}\n"
    "</style>\n</head>\n<body>\n";

/* --- the RACI (incident review and recertification report) ------------------ */

static const struct {
	const char	*cls;
	const char	*title;
} raci_groups[] = {
	{ "accountable", "Accountable (client approvers)" },
	{ "responsible", "Responsible (operators, MSP approvers)" },
	{ "requester",	 "Requesters (technicians)" },
	{ "audit-owner", "Audit owner" },
};

/* "alice (client approver)", "oscar (operator)": side of every approver. */
static void
text_who(sbuf_t *b, const json_t *m)
{
	sb_text(b, jstr(m, "person"));
	sb_str(b, " (");
	if (strcmp(jstr(m, "role"), "approver") == 0) {
		sb_text(b, jstr(m, "side"));
		sb_str(b, " ");
	}
	sb_text(b, jstr(m, "role"));
	sb_str(b, ")");
}

static void
html_who(sbuf_t *b, const json_t *m)
{
	sb_html(b, jstr(m, "person"));
	sb_str(b, " (");
	if (strcmp(jstr(m, "role"), "approver") == 0) {
		sb_html(b, jstr(m, "side"));
		sb_str(b, " ");
	}
	sb_html(b, jstr(m, "role"));
	sb_str(b, ")");
}

static void
text_signers(sbuf_t *b, const json_t *a)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++) {
		sb_str(b, i ? ", " : "");
		text_who(b, json_array_get(a, i));
	}
	if (json_array_size(a) == 0)
		sb_str(b, "nobody whose signature verifies");
}

static void
html_signers(sbuf_t *b, const json_t *a)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++) {
		sb_str(b, i ? ", " : "");
		html_who(b, json_array_get(a, i));
	}
	if (json_array_size(a) == 0)
		sb_str(b, "<span class=\"bad\">nobody whose signature "
		    "verifies</span>");
}

/* The exception sentence (no trailing newline). */
static void
exception_words(sbuf_t *b, const json_t *x, bool html)
{
	char tb[32];

	sb_str(b, json_is_true(json_object_get(x, "live")) ?
	    "MSP may approve its own access until " :
	    "the exception that let the MSP approve its own access ended ");
	sb_str(b, fmt_time(jint(x, "expires"), tb));
	sb_str(b, ": ");
	if (html)
		sb_html(b, jstr(x, "reason"));
	else
		sb_text(b, jstr(x, "reason"));
}

static void
text_raci(sbuf_t *b, const json_t *raci)
{
	const json_t *mem = json_object_get(raci, "members");
	const json_t *link = json_object_get(raci, "link");
	const json_t *cus = json_object_get(raci, "custodians");
	const json_t *per = json_object_get(cus, "persons");
	const json_t *x = json_object_get(raci, "exception");
	char tb[32];
	size_t g, i, k;

	if (!json_is_object(raci))
		return;
	sb_str(b, "\nRACI of ");
	sb_text(b, jstr(raci, "tenant"));
	if (json_is_object(link))
		sb_fmt(b, " (link %lld, in force since %s)", (long long)
		    jint(link, "seq"), fmt_time(jint(link, "committed_at"),
		    tb));
	else
		sb_str(b, " (no link in force yet)");
	sb_str(b, ":\n");
	for (g = 0; g < sizeof(raci_groups) / sizeof(raci_groups[0]); g++) {
		sb_fmt(b, "  %-40s ", raci_groups[g].title);
		for (i = 0, k = 0; i < json_array_size(mem); i++) {
			const json_t *m = json_array_get(mem, i);

			if (strcmp(jstr(m, "class"), raci_groups[g].cls) != 0)
				continue;
			sb_str(b, k++ ? ", " : "");
			text_who(b, m);
			if (json_is_true(json_object_get(m, "expired")))
				sb_str(b, " EXPIRED");
		}
		sb_str(b, k == 0 ? "(none)\n" : "\n");
	}
	sb_fmt(b, "  Custodians (vault link %-15lld ", (long long)jint(cus,
	    "vault_link"));
	for (i = 0; i < json_array_size(per); i++) {
		const json_t *p = json_array_get(per, i);

		sb_str(b, i ? ", " : "");
		sb_text(b, json_is_string(p) ? json_string_value(p) : "?");
	}
	sb_str(b, json_array_size(per) == 0 ? "(none)\n" : "\n");
	if (json_is_true(json_object_get(raci, "msp_alone")))
		sb_str(b, "  The policy can be met by MSP approvers alone.\n");
	if (json_is_object(x)) {
		sb_str(b, "  EXCEPTION: ");
		exception_words(b, x, false);
		sb_fmt(b, "\n             (link %lld, signed by ", (long long)
		    jint(json_object_get(x, "since"), "seq"));
		text_signers(b, json_object_get(x, "signed_by"));
		sb_str(b, ")\n");
	}
}

static void
html_raci(sbuf_t *b, const json_t *raci)
{
	const json_t *mem = json_object_get(raci, "members");
	const json_t *link = json_object_get(raci, "link");
	const json_t *cus = json_object_get(raci, "custodians");
	const json_t *per = json_object_get(cus, "persons");
	const json_t *x = json_object_get(raci, "exception");
	char tb[32];
	size_t g, i, k;

	if (!json_is_object(raci))
		return;
	sb_str(b, "<section class=\"raci\">\n<h2>RACI of ");
	sb_html(b, jstr(raci, "tenant"));
	sb_str(b, "</h2>\n<p class=\"meta\">");
	if (json_is_object(link))
		sb_fmt(b, "link %lld, in force since %s", (long long)jint(link,
		    "seq"), fmt_time(jint(link, "committed_at"), tb));
	else
		sb_str(b, "no link in force yet");
	sb_str(b, "</p>\n<table>\n");
	for (g = 0; g < sizeof(raci_groups) / sizeof(raci_groups[0]); g++) {
		sb_str(b, "<tr><th>");
		sb_html(b, raci_groups[g].title);
		sb_str(b, "</th><td>");
		for (i = 0, k = 0; i < json_array_size(mem); i++) {
			const json_t *m = json_array_get(mem, i);

			if (strcmp(jstr(m, "class"), raci_groups[g].cls) != 0)
				continue;
			sb_str(b, k++ ? ", " : "");
			html_who(b, m);
			if (json_is_true(json_object_get(m, "expired")))
				sb_str(b, " <span class=\"bad\">expired</span>");
		}
		sb_str(b, k == 0 ? "(none)</td></tr>\n" : "</td></tr>\n");
	}
	sb_fmt(b, "<tr><th>Custodians (vault link %lld)</th><td>",
	    (long long)jint(cus, "vault_link"));
	for (i = 0; i < json_array_size(per); i++) {
		const json_t *p = json_array_get(per, i);

		sb_str(b, i ? ", " : "");
		sb_html(b, json_is_string(p) ? json_string_value(p) : "?");
	}
	sb_str(b, "</td></tr>\n");
	if (json_is_true(json_object_get(raci, "msp_alone")))
		sb_str(b, "<tr><th>Policy</th><td class=\"bad\">can be met by "
		    "MSP approvers alone</td></tr>\n");
	if (json_is_object(x)) {
		sb_str(b, "<tr><th>Exception</th><td><span class=\"bad\" "
		    "id=\"msp-exception\">");
		exception_words(b, x, true);
		sb_fmt(b, "</span> (link %lld, signed by ", (long long)
		    jint(json_object_get(x, "since"), "seq"));
		html_signers(b, json_object_get(x, "signed_by"));
		sb_str(b, ")</td></tr>\n");
	}
	sb_str(b, "</table>\n</section>\n");
}

/* "link 2, took effect 2026-12-04 21:50 UTC" */
static void
when_words(sbuf_t *b, const json_t *w)
{
	char tb[32];

	if (!json_is_object(w)) {
		sb_str(b, "-");
		return;
	}
	sb_fmt(b, "link %lld, took effect %s", (long long)jint(w, "seq"),
	    fmt_time(jint(w, "committed_at"), tb));
}

/* "EXPIRED", "DUE" or "" for a membership of a recertification report. */
static const char *
due_word(const json_t *m)
{
	if (json_is_true(json_object_get(m, "expired")))
		return "EXPIRED";
	if (json_is_true(json_object_get(m, "due")))
		return "DUE";
	return "";
}

static void
render_recert_text(sbuf_t *b, const json_t *rep)
{
	const json_t *raci = json_object_get(rep, "raci");
	const json_t *mem = json_object_get(raci, "members");
	char tb[32], sp[32];
	size_t i, ndue = 0;

	sb_str(b, "Recertification report of ");
	sb_text(b, jstr(rep, "tenant"));
	sb_str(b, ", vault ");
	sb_text(b, jstr(rep, "vault"));
	for (i = 0; i < json_array_size(mem); i++)
		if (due_word(json_array_get(mem, i))[0] != '\0')
			ndue++;
	sb_fmt(b, "\nGenerated %s; %zu membership(s), %zu due within %s or "
	    "expired\n", fmt_time(jint(rep, "generated_at"), tb),
	    json_array_size(mem), ndue, fmt_span(jint(raci, "due_seconds"),
	    sp));
	text_raci(b, raci);
	sb_str(b, "\nMemberships (who holds which role, since when, last "
	    "certified by whom, expiring when):\n");
	if (json_array_size(mem) == 0)
		sb_str(b, "  none\n");
	for (i = 0; i < json_array_size(mem); i++) {
		const json_t *m = json_array_get(mem, i);
		const char *dw = due_word(m);

		sb_str(b, "  ");
		text_who(b, m);
		sb_fmt(b, " expires %s", fmt_time(jint(m, "expires_at"), tb));
		if (dw[0] != '\0')
			sb_fmt(b, "  [%s]", dw);
		sb_str(b, "\n      since:          ");
		when_words(b, json_object_get(m, "since"));
		sb_str(b, "\n      last certified: ");
		when_words(b, json_object_get(m, "certified"));
		sb_str(b, strcmp(jstr(m, "certified_how"), "extended") == 0 ?
		    " (expiry lengthened)" : " (granted)");
		sb_str(b, "\n      signed by:      ");
		text_signers(b, json_object_get(m, "signed_by"));
		sb_str(b, "\n");
	}
}

static void
render_recert_html(sbuf_t *b, const json_t *rep)
{
	const json_t *raci = json_object_get(rep, "raci");
	const json_t *mem = json_object_get(raci, "members");
	char tb[32];
	size_t i;

	sb_str(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>breakglass recertification "
	    "report</title>\n");
	sb_str(b, html_style);
	sb_str(b, "<h1>Recertification report of ");
	sb_html(b, jstr(rep, "tenant"));
	sb_str(b, "</h1>\n<p class=\"meta\">vault ");
	sb_html(b, jstr(rep, "vault"));
	sb_fmt(b, ", generated %s</p>\n", fmt_time(jint(rep,
	    "generated_at"), tb));
	html_raci(b, raci);
	sb_str(b, "<section class=\"recert\">\n<h2>Memberships</h2>\n"
	    "<table class=\"memberships\">\n<tr><th>person</th><th>role</th>"
	    "<th>side</th><th>since</th><th>last certified</th>"
	    "<th>signed by</th><th>expires</th><th>status</th></tr>\n");
	for (i = 0; i < json_array_size(mem); i++) {
		const json_t *m = json_array_get(mem, i);
		const char *dw = due_word(m);

		sb_str(b, dw[0] == '\0' ? "<tr>" : dw[0] == 'D' ?
		    "<tr class=\"due\">" : "<tr class=\"bad\">");
		sb_str(b, "<td>");
		sb_html(b, jstr(m, "person"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(m, "role"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(m, "side"));
		sb_str(b, "</td><td>");
		when_words(b, json_object_get(m, "since"));
		sb_str(b, "</td><td>");
		when_words(b, json_object_get(m, "certified"));
		sb_str(b, strcmp(jstr(m, "certified_how"), "extended") == 0 ?
		    " (expiry lengthened)" : " (granted)");
		sb_str(b, "</td><td>");
		html_signers(b, json_object_get(m, "signed_by"));
		sb_fmt(b, "</td><td>%s</td><td>%s</td></tr>\n",
		    fmt_time(jint(m, "expires_at"), tb), dw[0] != '\0' ? dw :
		    "ok");
	}
	sb_str(b, "</table>\n</section>\n</body>\n</html>\n");
}

static void
render_text(sbuf_t *b, const json_t *rep)
{
	const json_t *incs = json_object_get(rep, "incidents");
	const json_t *refs = json_object_get(rep, "refusals");
	const json_t *an = json_object_get(rep, "anomalies");
	const json_t *sc = json_object_get(rep, "scope");
	char tb[32], sp[32];
	size_t i, j;

	sb_str(b, "Incident review, vault ");
	sb_text(b, jstr(rep, "vault"));
	sb_fmt(b, "\nGenerated %s; scope:", fmt_time(jint(rep,
	    "generated_at"), tb));
	if (jstr(sc, "tenant")[0] != '\0') {
		sb_str(b, " tenant ");
		sb_text(b, jstr(sc, "tenant"));
	}
	if (jstr(sc, "ticket")[0] != '\0') {
		sb_str(b, " ticket ");
		sb_text(b, jstr(sc, "ticket"));
	}
	if (jint(sc, "request") != 0)
		sb_fmt(b, " request %lld", (long long)jint(sc, "request"));
	if (jint(sc, "since") != 0)
		sb_fmt(b, " since %s", fmt_time(jint(sc, "since"), tb));
	if (jint(sc, "until") != 0)
		sb_fmt(b, " until %s", fmt_time(jint(sc, "until"), tb));
	sb_fmt(b, "%s\n", jstr(sc, "tenant")[0] || jstr(sc, "ticket")[0] ||
	    jint(sc, "request") || jint(sc, "since") || jint(sc, "until") ?
	    "" : " everything");
	sb_fmt(b, "%zu incident(s), %zu refusal(s), %zu anomal%s\n",
	    json_array_size(incs), json_array_size(refs), json_array_size(an),
	    json_array_size(an) == 1 ? "y" : "ies");
	text_raci(b, json_object_get(rep, "raci"));
	for (i = 0; i < json_array_size(incs); i++) {
		const json_t *in = json_array_get(incs, i);
		const json_t *tl = json_object_get(in, "timeline");
		const json_t *ap = json_object_get(in, "approvers");

		sb_fmt(b, "\nRequest %lld: ", (long long)jint(in, "request"));
		sb_text(b, jstr(in, "tenant"));
		sb_str(b, "/");
		sb_text(b, jstr(in, "secret"));
		sb_fmt(b, " v%lld, ", (long long)jint(in, "version"));
		sb_text(b, jstr(in, "state"));
		sb_str(b, "\n  requester: ");
		sb_text(b, jstr(in, "requester"));
		if (jstr(in, "known_to")[0] != '\0') {
			sb_str(b, "\n  known to:  ");
			sb_text(b, jstr(in, "known_to"));
			sb_str(b, " (sealed this version)");
		}
		sb_str(b, "\n  reason:    ");
		sb_text(b, jstr(in, "reason"));
		sb_str(b, "\n  ticket:    ");
		sb_text(b, jstr(in, "ticket"));
		sb_fmt(b, "\n  ttl:       %s\n  policy:    ",
		    fmt_span(jint(in, "ttl"), sp));
		sb_text(b, jstr(in, "policy"));
		sb_str(b, "\n  approvers: ");
		for (j = 0; j < json_array_size(ap); j++) {
			const json_t *x = json_array_get(ap, j);

			sb_str(b, j ? ", " : "");
			sb_text(b, json_is_string(x) ? json_string_value(x) :
			    "?");
		}
		if (json_array_size(ap) == 0)
			sb_str(b, "(none)");
		if (jstr(in, "denied_by")[0] != '\0') {
			sb_str(b, "\n  denied by: ");
			sb_text(b, jstr(in, "denied_by"));
		}
		sb_str(b, "\n");
		text_rotation(b, json_object_get(in, "rotation"));
		sb_str(b, "  timeline:\n");
		for (j = 0; j < json_array_size(tl); j++) {
			const json_t *x = json_array_get(tl, j);
			const json_t *e = json_object_get(x, "evidence");

			sb_fmt(b, "    %s ", fmt_time(jint(x, "time"), tb));
			if (jint(x, "seq") != 0)
				sb_fmt(b, "#%-5lld ", (long long)jint(x, "seq"));
			else
				sb_str(b, "(derived) ");
			sb_fmt(b, "%-13.13s ", jstr(x, "kind")[0] ?
			    jstr(x, "kind") : "?");
			sb_text(b, jstr(x, "text"));
			sb_str(b, "\n");
			if (json_is_object(e)) {
				sb_str(b, "        signed statement ");
				sb_text(b, jstr(e, "statement_hash"));
				sb_str(b, " with token '");
				sb_text(b, jstr(e, "token"));
				sb_fmt(b, "': signature %s\n",
				    json_is_true(json_object_get(e,
				    "signature_valid")) ? "verifies" :
				    "DOES NOT VERIFY");
			}
		}
	}
	if (json_array_size(refs) > 0)
		sb_str(b, "\nRefusals:\n");
	for (i = 0; i < json_array_size(refs); i++) {
		const json_t *x = json_array_get(refs, i);

		sb_fmt(b, "  %s #%-5lld ", fmt_time(jint(x, "time"), tb),
		    (long long)jint(x, "seq"));
		sb_text(b, jstr(x, "actor"));
		sb_str(b, " ");
		sb_text(b, jstr(x, "attempted"));
		sb_str(b, " ");
		sb_text(b, jstr(x, "tenant"));
		sb_str(b, " ");
		sb_text(b, jstr(x, "object"));
		sb_str(b, ": ");
		sb_text(b, jstr(x, "code"));
		sb_str(b, ": ");
		sb_text(b, jstr(x, "message"));
		sb_str(b, "\n");
	}
	if (json_array_size(an) > 0)
		sb_str(b, "\nAnomalies:\n");
	for (i = 0; i < json_array_size(an); i++) {
		const json_t *x = json_array_get(an, i);

		sb_fmt(b, "  %s [", fmt_time(jint(x, "time"), tb));
		sb_text(b, jstr(x, "kind"));
		sb_str(b, "] ");
		sb_text(b, jstr(x, "text"));
		sb_str(b, "\n");
	}
}


/*
 * A label's width in the SVG, estimated from its characters (11px and
 * 10px sans-serif: about 6.6 and 6.0 px a character, with margin).
 */
static long long
label_width(const json_t *x)
{
	char tb[32];
	size_t lbl = strlen(jstr(x, "kind")) + 1 + strlen(jstr(x, "actor"));
	size_t tm = strlen(fmt_time(jint(x, "time"), tb));
	long long a = (long long)lbl * 66 / 10, c = (long long)tm * 6;

	return (a > c ? a : c) + 12;
}

/*
 * Marks evenly spaced on one axis, labels in lanes above and below it in
 * turn.  With many marks there are more lanes (up to 8, leader lines to
 * the outer ones) and, when even those are too close, the timeline grows
 * wider than the page and scrolls: no two labels of a lane overlap.
 */
#define TL_LANES_MAX	8
static void
html_timeline(sbuf_t *b, const json_t *in)
{
	const json_t *tl = json_object_get(in, "timeline");
	size_t n = json_array_size(tl), i;
	long long w = 1100, h, x0 = 60, step, maxw = 0, lw, lanes = 2;
	long long depth, axis, ylbl, ytm;
	char tb[32];

	for (i = 0; i < n; i++)
		if ((lw = label_width(json_array_get(tl, i))) > maxw)
			maxw = lw;
	step = n > 1 ? (w - 2 * x0) / (long long)(n - 1) : 0;
	/* labels of one lane are `lanes` marks apart */
	while (n > 1 && lanes * step < maxw && lanes < TL_LANES_MAX)
		lanes += 2;
	if (n > 1 && lanes * step < maxw) {
		step = (maxw + lanes - 1) / lanes;
		w = 2 * x0 + (long long)(n - 1) * step;
	}
	depth = lanes / 2;		/* lanes on each side */
	axis = 95 + (depth - 1) * 34;
	h = 2 * axis;
	sb_fmt(b, "<div class=\"tlwrap\"><svg class=\"timeline\" "
	    "id=\"timeline-%lld\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%lld\" height=\"%lld\" viewBox=\"0 0 %lld %lld\" "
	    "role=\"img\" data-marks=\"%zu\" data-lanes=\"%lld\">\n"
	    "<title>Timeline of request %lld</title>\n",
	    (long long)jint(in, "request"), w, h, w, h, n, lanes,
	    (long long)jint(in, "request"));
	sb_fmt(b, "<line class=\"axis\" x1=\"%lld\" y1=\"%lld\" x2=\"%lld\" "
	    "y2=\"%lld\"/>\n", x0 - 20, axis, w - x0 + 20, axis);
	for (i = 0; i < n; i++) {
		const json_t *x = json_array_get(tl, i);
		long long cx = n > 1 ? x0 + (long long)i * step : w / 2;
		long long lane = (long long)(i % (size_t)lanes);
		long long d = lane / 2;	/* 0: next to the axis */
		bool up = (lane % 2) == 0;

		ylbl = up ? axis - 35 - d * 34 : axis + 41 + d * 34;
		ytm = ylbl + 14;
		sb_str(b, "<g class=\"ev\">");
		if (d > 0)
			sb_fmt(b, "<line class=\"lead\" x1=\"%lld\" y1=\"%lld\" "
			    "x2=\"%lld\" y2=\"%lld\"/>", cx, up ? axis - 10 :
			    axis + 10, cx, up ? ytm + 4 : ylbl - 12);
		sb_str(b, "<circle class=\"mark k-");
		sb_class(b, jstr(x, "kind"));
		sb_str(b, "\" data-kind=\"");
		sb_class(b, jstr(x, "kind"));
		sb_fmt(b, "\" cx=\"%lld\" cy=\"%lld\" r=\"9\"><title>", cx,
		    axis);
		sb_html(b, fmt_time(jint(x, "time"), tb));
		sb_str(b, " ");
		sb_html(b, jstr(x, "text"));
		sb_fmt(b, "</title></circle><text class=\"lbl\" x=\"%lld\" "
		    "y=\"%lld\" text-anchor=\"middle\">", cx, ylbl);
		sb_html(b, jstr(x, "kind"));
		if (jstr(x, "actor")[0] != '\0') {
			sb_str(b, " ");
			sb_html(b, jstr(x, "actor"));
		}
		sb_fmt(b, "</text><text class=\"tm\" x=\"%lld\" y=\"%lld\" "
		    "text-anchor=\"middle\">", cx, ytm);
		sb_html(b, fmt_time(jint(x, "time"), tb));
		sb_str(b, "</text></g>\n");
	}
	sb_str(b, "</svg>\n</div>\n");
}

static void
html_row(sbuf_t *b, const char *k, const char *val)
{
	sb_str(b, "<tr><th>");
	sb_html(b, k);
	sb_str(b, "</th><td>");
	sb_html(b, val);
	sb_str(b, "</td></tr>\n");
}

static void
html_incident(sbuf_t *b, const json_t *in)
{
	const json_t *tl = json_object_get(in, "timeline");
	const json_t *ap = json_object_get(in, "approvers");
	const json_t *rot = json_object_get(in, "rotation");
	const json_t *lag = json_object_get(rot, "lag_seconds");
	const char *st = jstr(rot, "status");
	char tb[32], sp[32];
	size_t j;

	sb_fmt(b, "<section class=\"incident\" id=\"request-%lld\">\n"
	    "<h2>Request %lld: ", (long long)jint(in, "request"),
	    (long long)jint(in, "request"));
	sb_html(b, jstr(in, "tenant"));
	sb_str(b, "/");
	sb_html(b, jstr(in, "secret"));
	sb_fmt(b, " v%lld <span class=\"state\">", (long long)jint(in,
	    "version"));
	sb_html(b, jstr(in, "state"));
	sb_str(b, "</span></h2>\n");
	html_timeline(b, in);
	sb_str(b, "<table class=\"who\">\n");
	html_row(b, "requester", jstr(in, "requester"));
	if (jstr(in, "known_to")[0] != '\0')
		html_row(b, "known to (sealed it)", jstr(in, "known_to"));
	html_row(b, "reason", jstr(in, "reason"));
	html_row(b, "ticket", jstr(in, "ticket"));
	html_row(b, "ttl", fmt_span(jint(in, "ttl"), sp));
	html_row(b, "policy", jstr(in, "policy"));
	sb_str(b, "<tr><th>approvers</th><td>");
	for (j = 0; j < json_array_size(ap); j++) {
		const json_t *x = json_array_get(ap, j);

		sb_str(b, j ? ", " : "");
		sb_html(b, json_is_string(x) ? json_string_value(x) : "?");
	}
	sb_str(b, "</td></tr>\n");
	if (jstr(in, "denied_by")[0] != '\0')
		html_row(b, "denied by", jstr(in, "denied_by"));
	sb_str(b, "<tr><th>rotation</th><td>");
	if (strcmp(st, "not-released") == 0) {
		sb_str(b, "not released");
	} else {
		sb_fmt(b, "lease end %s, rotate by %s; ",
		    fmt_time(jint(rot, "lease_end"), tb),
		    fmt_time(jint(rot, "rotate_by"), sp));
		if (json_is_integer(lag) && json_integer_value(lag) < 0)
			sb_fmt(b, "rotated %s before lease end; ",
			    fmt_span(-json_integer_value(lag), tb));
		else if (json_is_integer(lag))
			sb_fmt(b, "lag %s; ", fmt_span(json_integer_value(lag),
			    tb));
		sb_str(b, strcmp(st, "late") == 0 || strcmp(st, "overdue") ==
		    0 ? "<span class=\"bad\">" : "<span class=\"good\">");
		sb_html(b, st);
		sb_str(b, "</span>");
	}
	sb_str(b, "</td></tr>\n</table>\n<table class=\"events\">\n"
	    "<tr><th>time</th><th>#</th><th>event</th><th>by</th>"
	    "<th>what</th><th>token evidence</th></tr>\n");
	for (j = 0; j < json_array_size(tl); j++) {
		const json_t *x = json_array_get(tl, j);
		const json_t *e = json_object_get(x, "evidence");

		sb_fmt(b, "<tr><td>%s</td><td>", fmt_time(jint(x, "time"),
		    tb));
		if (jint(x, "seq") != 0)
			sb_fmt(b, "%lld", (long long)jint(x, "seq"));
		else
			sb_str(b, "derived");
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "kind"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "actor"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "text"));
		sb_str(b, "</td><td>");
		if (json_is_object(e)) {
			sb_str(b, json_is_true(json_object_get(e,
			    "signature_valid")) ? "<span class=\"good\">"
			    "signature verifies</span>" : "<span class=\"bad\">"
			    "signature does not verify</span>");
			sb_str(b, " (token ");
			sb_html(b, jstr(e, "token"));
			sb_str(b, ")<div class=\"mono\">statement ");
			sb_html(b, jstr(e, "statement_hash"));
			sb_str(b, "</div>");
		}
		sb_str(b, "</td></tr>\n");
	}
	sb_str(b, "</table>\n</section>\n");
}

static void
render_html(sbuf_t *b, const json_t *rep)
{
	const json_t *incs = json_object_get(rep, "incidents");
	const json_t *refs = json_object_get(rep, "refusals");
	const json_t *an = json_object_get(rep, "anomalies");
	char tb[32];
	size_t i;

	sb_str(b, html_head);
	sb_str(b, html_style);
	sb_str(b, "<h1>Incident review</h1>\n<p class=\"meta\">vault ");
	sb_html(b, jstr(rep, "vault"));
	sb_fmt(b, ", generated %s; %zu incident(s), %zu refusal(s), "
	    "%zu anomal%s</p>\n", fmt_time(jint(rep, "generated_at"), tb),
	    json_array_size(incs), json_array_size(refs), json_array_size(an),
	    json_array_size(an) == 1 ? "y" : "ies");
	html_raci(b, json_object_get(rep, "raci"));
	for (i = 0; i < json_array_size(incs); i++)
		html_incident(b, json_array_get(incs, i));
	sb_str(b, "<section class=\"anomalies\">\n<h2>Anomalies</h2>\n<ul>\n");
	for (i = 0; i < json_array_size(an); i++) {
		const json_t *x = json_array_get(an, i);

		sb_fmt(b, "<li class=\"anomaly\">%s [", fmt_time(jint(x,
		    "time"), tb));
		sb_html(b, jstr(x, "kind"));
		sb_str(b, "] ");
		sb_html(b, jstr(x, "text"));
		sb_str(b, "</li>\n");
	}
	if (json_array_size(an) == 0)
		sb_str(b, "<li>none</li>\n");
	sb_str(b, "</ul>\n</section>\n<section class=\"refusals\">\n"
	    "<h2>Refusals</h2>\n<table>\n<tr><th>time</th><th>#</th><th>by</th>"
	    "<th>attempted</th><th>object</th><th>code</th><th>message</th>"
	    "</tr>\n");
	for (i = 0; i < json_array_size(refs); i++) {
		const json_t *x = json_array_get(refs, i);

		sb_fmt(b, "<tr><td>%s</td><td>%lld</td><td>",
		    fmt_time(jint(x, "time"), tb), (long long)jint(x, "seq"));
		sb_html(b, jstr(x, "actor"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "attempted"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "tenant"));
		sb_str(b, " ");
		sb_html(b, jstr(x, "object"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "code"));
		sb_str(b, "</td><td>");
		sb_html(b, jstr(x, "message"));
		sb_str(b, "</td></tr>\n");
	}
	sb_str(b, "</table>\n</section>\n</body>\n</html>\n");
}

int
bg_vault_report_render(const char *json, int format, char **outp)
{
	json_t *rep = NULL;
	json_error_t jerr;
	sbuf_t b;
	char *s = NULL;
	bool recert = false;
	int r = BG_ERR_INTERNAL;

	memset(&b, 0, sizeof(b));
	if (outp == NULL)
		return BG_ERR_INVALID_ARG;
	*outp = NULL;
	if (json == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((rep = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(rep)) {
		r = BG_ERR_PARSE;
		goto out;
	}
	if (strcmp(jstr(rep, "format"), REPORT_FORMAT) == 0)
		recert = false;
	else if (strcmp(jstr(rep, "format"), RECERT_FORMAT) == 0)
		recert = true;
	else {
		r = BG_ERR_PARSE;
		goto out;
	}
	switch (format) {
	case BG_VAULT_REPORT_TEXT:
		if (recert)
			render_recert_text(&b, rep);
		else
			render_text(&b, rep);
		break;
	case BG_VAULT_REPORT_HTML:
		if (recert)
			render_recert_html(&b, rep);
		else
			render_html(&b, rep);
		break;
	case BG_VAULT_REPORT_JSON:
		if ((s = json_dumps(rep, JSON_SORT_KEYS | JSON_INDENT(2))) ==
		    NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		sb_str(&b, s);
		sb_str(&b, "\n");
		break;
	default:
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (b.failed || b.p == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	*outp = b.p;
	b.p = NULL;
	r = BG_OK;
out:
	free(s);
	free(b.p);
	json_decref(rep);
	return r;
}
