/*
 * The canonical statement of a request: what the requester signs, what
 * every approver is shown and signs (through the assertion's
 * clientDataHash), and what the release signs.  Plain "key: value" lines
 * (values hold no control characters, so lines cannot be forged), the
 * request's fixed fields first, then the audit-log head at signing time so
 * that the token signature vouches for the history before it: its size,
 * the hash chain head and the RFC 9162 Merkle root of those events
 * ("tree-root"), which a receipt or a consistency proof can be checked
 * against (docs/audit-log.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "treelog.h"
#include "vault_int.h"

/* Run once per request, statement shown, approval and release: kept
 * prepared (bg_store_cached()). */
static const char body_sql[] = "SELECT t.name, s.name, x.version, "
    "q.requester, q.reason, q.ticket, q.ttl, q.created_at, q.deadline, "
    "x.chain_seq, x.chain_head, q.req_pk "
    "FROM requests q JOIN versions x ON x.id = q.version_id "
    "JOIN secrets s ON s.id = x.secret_id "
    "JOIN tenants t ON t.id = s.tenant_id WHERE q.id = ?";

int
bg_statement_body(bg_vault_t *v, int64_t request_id, char **bodyp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	char *s = NULL, tc[32], td[32], head[65], rk[65];
	int r = BG_ERR_INTERNAL, n;

	*bodyp = NULL;
	if ((r = bg_store_cached(v, body_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, request_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no request %lld",
		    (long long)request_id);
		goto out;
	}
	/* Everything the request commits to is here before the touch: the
	 * vault's genesis, the keyset link that sealed the version and the
	 * key the approvers' shares will be re-sealed to. */
	if (sqlite3_column_bytes(st, 10) != 32 ||
	    sqlite3_column_bytes(st, 11) != 32) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "request %lld names no "
		    "keyset link or request key: the file was altered",
		    (long long)request_id);
		goto out;
	}
	bg_hex(sqlite3_column_blob(st, 10), 32, head);
	bg_hex(sqlite3_column_blob(st, 11), 32, rk);
	n = asprintf(&s, "breakglass statement v1\n"
	    "vault: %s\ngenesis: %s\nrequest: %lld\ntenant: %s\nsecret: %s\n"
	    "version: %d\nkeyset: link %lld, %s\nrequester: %s\nreason: %s\n"
	    "ticket: %s\nttl: %lld seconds\nrequested: %s (%lld)\n"
	    "deadline: %s (%lld)\nrequest-key: %s\n",
	    v->id, v->genesis_hex, (long long)request_id,
	    (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1),
	    sqlite3_column_int(st, 2),
	    (long long)sqlite3_column_int64(st, 9), head,
	    (const char *)sqlite3_column_text(st, 3),
	    (const char *)sqlite3_column_text(st, 4),
	    (const char *)sqlite3_column_text(st, 5),
	    (long long)sqlite3_column_int64(st, 6),
	    bg_vault_fmt_time(sqlite3_column_int64(st, 7), tc, sizeof(tc)),
	    (long long)sqlite3_column_int64(st, 7),
	    bg_vault_fmt_time(sqlite3_column_int64(st, 8), td, sizeof(td)),
	    (long long)sqlite3_column_int64(st, 8), rk);
	if (n < 0) {
		s = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	*bodyp = s;
	s = NULL;
	r = BG_OK;
out:
	bg_store_done(st);
	free(s);
	return r;
}

int
bg_statement_full(bg_vault_t *v, const char *body, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN])
{
	uint8_t head[BG_VAULT_HASH_LEN], root[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1], rhex[2 * BG_VAULT_HASH_LEN + 1];
	char *s = NULL;
	int64_t size = 0;
	int r = BG_ERR_INTERNAL;

	*textp = NULL;
	if ((r = bg_vault_audit_head(v, &size, head)) != BG_OK)
		goto out;
	if ((r = bg_treelog_root(v, (uint64_t)size, root)) != BG_OK)
		goto out;
	bg_hex(head, sizeof(head), hex);
	bg_hex(root, sizeof(root), rhex);
	if (asprintf(&s, "%slog-size: %lld\nlog-head: %s\ntree-root: %s\n",
	    body, (long long)size, hex, rhex) < 0) {
		s = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (hash != NULL)
		crypto_hash_sha256(hash, (const uint8_t *)s, strlen(s));
	*textp = s;
	s = NULL;
	r = BG_OK;
out:
	free(s);
	return r;
}

/* The requester's signed statement of a request (malloc'd; "" while
 * the request is being made) and its signature. */
static const char signed_sql[] = "SELECT statement, authdata, sig FROM "
    "requests WHERE id = ?";

int
bg_statement_decision_body(bg_vault_t *v, int64_t request_id, char **bodyp)
{
	sqlite3_stmt *st = NULL;
	uint8_t h[32];
	char hex[65], *body = NULL, *s = NULL;
	const char *stored;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*bodyp = NULL;
	if ((r = bg_statement_body(v, request_id, &body)) != BG_OK)
		goto out;
	if ((r = bg_store_cached(v, signed_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, request_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	stored = row ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (stored == NULL || stored[0] == '\0') {
		r = bg_vault_fail(v, BG_ERR_STATE, "request %lld was never "
		    "signed by its requester", (long long)request_id);
		goto out;
	}
	crypto_hash_sha256(h, (const uint8_t *)stored, strlen(stored));
	bg_hex(h, sizeof(h), hex);
	if (asprintf(&s, "%srequest-signed: %s\n", body, hex) < 0) {
		s = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	*bodyp = s;
	s = NULL;
	r = BG_OK;
out:
	bg_store_done(st);
	free(body);
	free(s);
	return r;
}

/* Every line of a statement is clean text (bg_chain_text_ok). */
static bool
statement_lines_ok(const char *s)
{
	char line[BG_VAULT_REASON_MAX + 64];
	const char *nl;
	size_t n;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			return false;
		if ((n = (size_t)(nl - s)) >= sizeof(line))
			return false;
		memcpy(line, s, n);
		line[n] = '\0';
		if (n > 0 && !bg_chain_text_ok(line, sizeof(line) - 1))
			return false;
	}
	return true;
}

int
bg_statement_check_request(bg_vault_t *v, int64_t request_id,
    const char *requester, const bg_token_row_t *tr)
{
	static const char tail[] = "log-size: ";
	sqlite3_stmt *st = NULL;
	uint8_t cdh[32];
	char *body = NULL;
	const char *stored;
	size_t blen;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_statement_body(v, request_id, &body)) != BG_OK)
		goto out;
	if ((r = bg_store_cached(v, signed_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, request_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	stored = row ? (const char *)sqlite3_column_text(st, 0) : NULL;
	blen = strlen(body);
	/* What the rows say now must be what the requester signed: a
	 * request key or keyset swapped in the file changes the body. */
	if (stored == NULL || strncmp(stored, body, blen) != 0 ||
	    strncmp(stored + blen, tail, sizeof(tail) - 1) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "request %lld is not what %s "
		    "signed (its request key, keyset or text was changed in "
		    "the file)", (long long)request_id, requester);
		goto out;
	}
	/* Clean text line by line, as a request is refused at its making:
	 * a statement re-signed into the file by its requester must not
	 * carry what a terminal would act on to an approver. */
	if (!statement_lines_ok(stored)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "request %lld carries text "
		    "no approver should be shown (control characters or "
		    "bidirectional controls): the file was altered",
		    (long long)request_id);
		goto out;
	}
	bg_statement_cdh("request", stored, cdh);
	r = bg_act_verify(v, requester, tr->alg, tr->pubkey, tr->pubkey_len,
	    cdh, sqlite3_column_blob(st, 1),
	    (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_blob(st, 2),
	    (size_t)sqlite3_column_bytes(st, 2));
out:
	bg_store_done(st);
	free(body);
	return r;
}

int
bg_vault_statement(bg_vault_t *v, int64_t request_id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN])
{
	char *body = NULL, *text = NULL;
	int r = BG_ERR_INTERNAL;

	if (textp != NULL)
		*textp = NULL;
	bg_vault_clear_err(v);
	if ((r = bg_statement_decision_body(v, request_id, &body)) != BG_OK ||
	    (r = bg_statement_full(v, body, &text, hash)) != BG_OK)
		goto out;
	if (textp != NULL) {
		*textp = text;
		text = NULL;
	}
	r = BG_OK;
out:
	free(body);
	free(text);
	return bg_vault_fail_default(v, r);
}
