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

#include "treelog.h"
#include "vault_int.h"

/* Run once per request, statement shown, approval and release: kept
 * prepared (bg_store_cached()). */
static const char body_sql[] = "SELECT t.name, s.name, x.version, "
    "q.requester, q.reason, q.ticket, q.ttl, q.created_at, q.deadline "
    "FROM requests q JOIN versions x ON x.id = q.version_id "
    "JOIN secrets s ON s.id = x.secret_id "
    "JOIN tenants t ON t.id = s.tenant_id WHERE q.id = ?";

int
bg_statement_body(bg_vault_t *v, int64_t request_id, char **bodyp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	char *s = NULL, tc[32], td[32];
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
	n = asprintf(&s, "breakglass statement v1\n"
	    "vault: %s\nrequest: %lld\ntenant: %s\nsecret: %s\nversion: %d\n"
	    "requester: %s\nreason: %s\nticket: %s\nttl: %lld seconds\n"
	    "requested: %s (%lld)\ndeadline: %s (%lld)\n",
	    v->id, (long long)request_id,
	    (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1),
	    sqlite3_column_int(st, 2),
	    (const char *)sqlite3_column_text(st, 3),
	    (const char *)sqlite3_column_text(st, 4),
	    (const char *)sqlite3_column_text(st, 5),
	    (long long)sqlite3_column_int64(st, 6),
	    bg_vault_fmt_time(sqlite3_column_int64(st, 7), tc, sizeof(tc)),
	    (long long)sqlite3_column_int64(st, 7),
	    bg_vault_fmt_time(sqlite3_column_int64(st, 8), td, sizeof(td)),
	    (long long)sqlite3_column_int64(st, 8));
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

void
bg_statement_cdh(const char *action, const char *text,
    uint8_t cdh[BG_TOKEN_CDH_LEN])
{
	crypto_hash_sha256_state h;
	char tag[64];
	int n;

	n = snprintf(tag, sizeof(tag), "breakglass %s v1\n", action);
	if (n < 0 || (size_t)n >= sizeof(tag))
		tag[0] = '\0';
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)tag, strlen(tag));
	crypto_hash_sha256_update(&h, (const uint8_t *)text, strlen(text));
	crypto_hash_sha256_final(&h, cdh);
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
	if ((r = bg_statement_body(v, request_id, &body)) != BG_OK ||
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
