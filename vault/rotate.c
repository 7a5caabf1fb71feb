/*
 * Rotation: an operator of the tenant seals a pending version (and is
 * from then on known to know the value), then an operator commits it (the
 * old version is retired and its open requests cancelled) or aborts it.
 * Each step is the operator's signed act (admin.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault_int.h"

/* Secret row id, active and pending version numbers. */
static int
secret_versions(bg_vault_t *v, int64_t tenant_id, const char *tenant,
    const char *name, int64_t *sidp, int *activep, int *pendingp,
    int *maxp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*sidp = 0;
	*activep = *pendingp = *maxp = 0;
	if ((r = bg_store_prepare(v, "SELECT s.id, "
	    "(SELECT coalesce(max(version), 0) FROM versions WHERE "
	    " secret_id = s.id AND state IN (1, 2)), "
	    "(SELECT coalesce(max(version), 0) FROM versions WHERE "
	    " secret_id = s.id AND state = 0), "
	    "(SELECT coalesce(max(version), 0) FROM versions WHERE "
	    " secret_id = s.id) "
	    "FROM secrets s WHERE s.tenant_id = ? AND s.name = ?", &st))
	    != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no secret '%s/%s'",
		    tenant, name);
		goto out;
	}
	*sidp = sqlite3_column_int64(st, 0);
	*activep = sqlite3_column_int(st, 1);
	*pendingp = sqlite3_column_int(st, 2);
	*maxp = sqlite3_column_int(st, 3);
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

int
bg_vault_rotate_begin(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *secret, const uint8_t *value, size_t len,
    int *versionp)
{
	bg_tenant_row_t t;
	bg_admin_t a;
	json_t *det = NULL;
	const char *person = by != NULL ? by->person : NULL;
	int64_t now = 0, sid = 0;
	int active = 0, pending = 0, maxv = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	if (versionp != NULL)
		*versionp = 0;
	bg_vault_clear_err(v);
	if (by == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "a rotation is made by "
		    "a named operator");
		goto out;
	}
	if ((r = bg_vault_check_name(v, "secret name", secret)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR, now, &a))
	    != BG_OK ||
	    (r = secret_versions(v, t.id, t.name, secret, &sid, &active,
	    &pending, &maxv)) != BG_OK)
		goto out;
	if (pending != 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "version %d of %s/%s is "
		    "already pending: commit or abort it first", pending,
		    t.name, secret);
		goto out;
	}
	if (by->tok == NULL) {	/* check only */
		bg_store_rollback(v);
		r = BG_OK;
		goto out;
	}
	if ((det = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_secret_seal(v, &t, &a, by, sid, secret, maxv + 1,
	    BG_VAULT_VERSION_PENDING, now, value, len, det)) != BG_OK)
		goto out;
	if (json_object_set_new(det, "replaces", json_integer(active)) != 0 ||
	    json_object_set_new(det, "known_to", json_string(by->person)) !=
	    0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, by->person, "rotate.begin", t.name, secret,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (versionp != NULL)
		*versionp = maxv + 1;
	r = BG_OK;
out:
	json_decref(det);
	bg_admin_clear(&a);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, person, "rotate.begin", tenant, secret);
}

static int
exec_ids(bg_vault_t *v, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, a)) != BG_OK ||
	    (sqlite3_bind_parameter_count(st) >= 2 &&
	    (r = bg_store_bind_int(v, st, 2, b)) != BG_OK) ||
	    (sqlite3_bind_parameter_count(st) >= 3 &&
	    (r = bg_store_bind_int(v, st, 3, c)) != BG_OK))
		goto out;
	r = bg_store_step_done(v, st);
out:
	sqlite3_finalize(st);
	return r;
}

static int
rotate_end(bg_vault_t *v, const bg_vault_signer_t *by, const char *tenant,
    const char *secret, bool commit)
{
	const char *action = commit ? "rotate.commit" : "rotate.abort";
	const char *person = by != NULL ? by->person : NULL;
	bg_tenant_row_t t;
	bg_admin_t a;
	json_t *det = NULL;
	char *lines = NULL;
	int64_t now = 0, sid = 0, cancelled = 0;
	int active = 0, pending = 0, maxv = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if (by == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "a rotation is made by "
		    "a named operator");
		goto out;
	}
	if ((r = bg_vault_check_name(v, "secret name", secret)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR, now, &a))
	    != BG_OK ||
	    (r = secret_versions(v, t.id, t.name, secret, &sid, &active,
	    &pending, &maxv)) != BG_OK)
		goto out;
	if (pending == 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "%s/%s has no pending "
		    "rotation (vault rotate begin)", t.name, secret);
		goto out;
	}
	if (by->tok == NULL) {	/* check only */
		bg_store_rollback(v);
		r = BG_OK;
		goto out;
	}
	det = json_pack("{s:i, s:i}", "version", pending, "previous", active);
	if (det == NULL || bg_strcatf(&lines, "secret: %s\nversion: %d\n"
	    "previous: %d\n", secret, pending, active) != BG_OK) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_sign(v, t.name, &a, action, lines, by->tok, by->pin,
	    now, det)) != BG_OK)
		goto out;
	if (commit) {
		/* Open requests on the old version end here; their request
		 * keys and re-sealed shares are destroyed. */
		if ((r = exec_ids(v, "UPDATE approvals SET resealed = NULL "
		    "WHERE request_id IN (SELECT q.id FROM requests q JOIN "
		    "versions x ON x.id = q.version_id WHERE x.secret_id = ?1 "
		    "AND x.version = ?2)", sid, active, 0)) != BG_OK)
			goto out;
		if ((r = exec_ids(v, "UPDATE requests SET state = 5, "
		    "closed_at = ?3, req_sk_sealed = NULL WHERE state = 1 AND "
		    "version_id IN (SELECT id FROM versions WHERE "
		    "secret_id = ?1 AND version = ?2)", sid, active, now))
		    != BG_OK)
			goto out;
		cancelled = sqlite3_changes(v->db);
		if ((r = exec_ids(v, "UPDATE versions SET state = 3, "
		    "retired_at = ?3 WHERE secret_id = ?1 AND version = ?2",
		    sid, active, now)) != BG_OK)
			goto out;
		if ((r = exec_ids(v, "UPDATE versions SET state = 1, "
		    "sealed_at = ?3 WHERE secret_id = ?1 AND version = ?2",
		    sid, pending, now)) != BG_OK)
			goto out;
	} else {
		if ((r = exec_ids(v, "DELETE FROM versions WHERE "
		    "secret_id = ?1 AND version = ?2 AND state = 0", sid,
		    pending, 0)) != BG_OK)
			goto out;
	}
	if (json_object_set_new(det, "cancelled_requests",
	    json_integer((json_int_t)cancelled)) != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, by->person, action, t.name, secret, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (!commit || cancelled > 0)
		(void)bg_store_checkpoint(v);
	r = BG_OK;
out:
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, person, action, tenant, secret);
}

int
bg_vault_rotate_commit(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *secret)
{
	return rotate_end(v, by, tenant, secret, true);
}

int
bg_vault_rotate_abort(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *secret)
{
	return rotate_end(v, by, tenant, secret, false);
}
