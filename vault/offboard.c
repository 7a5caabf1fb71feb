/*
 * Offboarding a tenant: every sealed value, share, request key,
 * re-sealed share, re-key proposal and token credential of the tenant is
 * destroyed in one transaction (secure_delete is on, so SQLite overwrites
 * the freed cells), the audit events stay, and the WAL is checkpointed
 * and truncated.  The signed destruction certificate lists what was
 * destroyed and the log's tree head after the "tenant.offboard" event.
 *
 * Certificate format (text, one "key: value" per line, version tagged):
 *
 *   breakglass destruction certificate v1
 *   vault: <vault id>
 *   tenant: <name>
 *   offboarded: <YYYY-MM-DD HH:MM UTC> (<epoch>)
 *   by: <operator> (operator)
 *   secret: <name> version <n> <state> value-sha256 <hex>     (0 or more)
 *   versions destroyed: <n>
 *   shares destroyed: <n>
 *   request keys destroyed: <n>
 *   re-sealed shares destroyed: <n>
 *   re-key proposals destroyed: <n>
 *   token credentials destroyed: <n>
 *   memberships ended: <n>
 *   event: <seq of the tenant.offboard event>
 *   tree size: <n>
 *   tree root: <hex SHA-256 RFC 9162 root of the first n events>
 *   signing key: <hex Ed25519 public key of the vault>
 *   signature: <hex Ed25519 signature>
 *
 * The signature covers "breakglass destruction certificate v1\n" (the
 * domain prefix) followed by every line above the signature line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "treelog.h"
#include "vault_int.h"

#define CERT_MAGIC	"breakglass destruction certificate v1\n"
#define CERT_DOMAIN	"breakglass destruction certificate v1\n"

/* A growing text buffer (the certificate holds nothing secret). */
typedef struct tbuf {
	char	*s;
	size_t	 len, cap;
	bool	 oom;
} tbuf_t;

static void
tb_add(tbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tb_add(tbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	char *ns;
	size_t ncap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		ncap = (b->len + (size_t)n + 1) * 2;
		if ((ns = realloc(b->s, ncap)) == NULL) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int
exec_n(bg_vault_t *v, const char *sql, int64_t id, int64_t *changesp)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if (changesp != NULL)
		*changesp = sqlite3_changes(v->db);
out:
	sqlite3_finalize(st);
	return r;
}

#define IN_VERSIONS "(SELECT x.id FROM versions x JOIN secrets s ON " \
	"s.id = x.secret_id WHERE s.tenant_id = ?1)"
#define IN_REQUESTS "(SELECT id FROM requests WHERE version_id IN " \
	IN_VERSIONS ")"
#define IN_REKEYS "(SELECT id FROM rekeys WHERE tenant_id = ?1)"
#define IN_MEMBERS "(SELECT id FROM memberships WHERE tenant_id = ?1)"

/* List every version (with its value-blob hash) into the certificate. */
static int
list_versions(bg_vault_t *v, int64_t tenant_id, tbuf_t *b, int64_t *np)
{
	sqlite3_stmt *st = NULL;
	uint8_t h[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*np = 0;
	if ((r = bg_store_prepare(v, "SELECT s.name, x.version, x.state, "
	    "x.blob FROM versions x JOIN secrets s ON s.id = x.secret_id "
	    "WHERE s.tenant_id = ? ORDER BY s.name, x.version", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		crypto_hash_sha256(h, sqlite3_column_blob(st, 3),
		    (unsigned long long)sqlite3_column_bytes(st, 3));
		bg_hex(h, sizeof(h), hex);
		tb_add(b, "secret: %s version %d %s value-sha256 %s\n",
		    (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1),
		    bg_vault_version_state_name(sqlite3_column_int(st, 2)), hex);
		(*np)++;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
mark_offboarded(bg_vault_t *v, int64_t tenant_id, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "UPDATE tenants SET offboarded_at = ?, "
	    "policy = NULL, policy_hash = NULL WHERE id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, tenant_id)) != BG_OK)
		goto out;
	r = bg_store_step_done(v, st);
out:
	sqlite3_finalize(st);
	return r;
}

int
bg_vault_tenant_offboard(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *confirm, char **certp)
{
	const char *actor = by != NULL ? by->person : NULL;
	bg_admin_t a;
	char *lines = NULL;
	bool checked = false;
	bg_tenant_row_t t;
	tbuf_t b = { NULL, 0, 0, false };
	json_t *det = NULL;
	uint8_t root[BG_MERKLE_HASH_LEN], pk[32], sig[64];
	char hex[2 * BG_VAULT_HASH_LEN + 1], sighex[129], when[32];
	uint8_t *msg = NULL;
	int64_t now = 0, nvers = 0, nshares = 0, nreqkeys = 0, nreseal = 0;
	int64_t nrekeys = 0, ntokens = 0, nmembers = 0, nrs = 0, seq = 0;
	uint64_t size = 0;
	size_t mlen;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	if (certp != NULL)
		*certp = NULL;
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if (certp == NULL && by->tok != NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (confirm == NULL || tenant == NULL || strcmp(confirm, tenant) != 0) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "offboarding destroys "
		    "every secret of %s for good: confirm with the tenant's "
		    "name (--confirm %s)", tenant != NULL ? tenant : "?",
		    tenant != NULL ? tenant : "TENANT");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR, now, &a))
	    != BG_OK)
		goto out;
	tb_add(&b, CERT_MAGIC);
	tb_add(&b, "vault: %s\ntenant: %s\noffboarded: %s (%lld)\nby: %s "
	    "(%s)\n", v->id, t.name, bg_vault_fmt_time(now, when,
	    sizeof(when)), (long long)now, actor, bg_vault_role_name(a.role));
	if ((r = list_versions(v, t.id, &b, &nvers)) != BG_OK)
		goto out;
	/* The operator signs the destruction before anything is destroyed:
	 * the tenant and every version the certificate lists. */
	if ((r = bg_strcatf(&lines, "confirm: %s\nversions: %lld\n", t.name,
	    (long long)nvers)) != BG_OK)
		goto out;
	if ((det = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_act(v, t.name, &a, by, "tenant.offboard", lines, now,
	    det, &checked)) != BG_OK || checked)
		goto out;
	/* Counts first, then destruction, children before parents. */
	if ((r = bg_store_int(v, "SELECT count(*) FROM shares WHERE "
	    "version_id IN " IN_VERSIONS, t.id, &nshares)) != BG_OK ||
	    (r = bg_store_int(v, "SELECT count(*) FROM requests WHERE "
	    "req_sk_sealed IS NOT NULL AND version_id IN " IN_VERSIONS, t.id,
	    &nreqkeys)) != BG_OK ||
	    (r = bg_store_int(v, "SELECT count(*) FROM approvals WHERE "
	    "resealed IS NOT NULL AND request_id IN " IN_REQUESTS, t.id,
	    &nreseal)) != BG_OK ||
	    (r = bg_store_int(v, "SELECT count(*) FROM rekey_shares WHERE "
	    "rekey_id IN " IN_REKEYS, t.id, &nrs)) != BG_OK)
		goto out;
	nreseal += nrs;
	if ((r = bg_store_int(v, "SELECT count(*) FROM subshares WHERE "
	    "version_id IN " IN_VERSIONS, t.id, &nrs)) != BG_OK)
		goto out;
	nshares += nrs;
	if ((r = exec_n(v, "DELETE FROM approvals WHERE request_id IN "
	    IN_REQUESTS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM requests WHERE version_id IN "
	    IN_VERSIONS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM rekey_shares WHERE rekey_id IN "
	    IN_REKEYS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM rekey_approvals WHERE rekey_id IN "
	    IN_REKEYS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM rekeys WHERE tenant_id = ?1", t.id,
	    &nrekeys)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM shares WHERE version_id IN "
	    IN_VERSIONS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM subshares WHERE version_id IN "
	    IN_VERSIONS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM redist_versions WHERE version_id IN "
	    IN_VERSIONS, t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM redist_contrib WHERE redist_id IN "
	    "(SELECT id FROM redist WHERE tenant_id = ?1)", t.id, NULL)) !=
	    BG_OK ||
	    (r = exec_n(v, "DELETE FROM redist WHERE tenant_id = ?1", t.id,
	    NULL)) != BG_OK ||
	    /* the keyset chain and any draft: salts, keys, signatures */
	    (r = exec_n(v, "DELETE FROM draft_sigs WHERE tenant = (SELECT "
	    "name FROM tenants WHERE id = ?1)", t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM drafts WHERE tenant = (SELECT name "
	    "FROM tenants WHERE id = ?1)", t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM link_sigs WHERE tenant = (SELECT "
	    "name FROM tenants WHERE id = ?1)", t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM links WHERE tenant = (SELECT name "
	    "FROM tenants WHERE id = ?1)", t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM versions WHERE secret_id IN (SELECT "
	    "id FROM secrets WHERE tenant_id = ?1)", t.id, NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM secrets WHERE tenant_id = ?1", t.id,
	    NULL)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM tokens WHERE membership_id IN "
	    IN_MEMBERS, t.id, &ntokens)) != BG_OK ||
	    (r = exec_n(v, "DELETE FROM memberships WHERE tenant_id = ?1",
	    t.id, &nmembers)) != BG_OK)
		goto out;
	if ((r = mark_offboarded(v, t.id, now)) != BG_OK)
		goto out;
	if (json_object_set_new(det, "versions", json_integer(nvers)) ||
	    json_object_set_new(det, "shares", json_integer(nshares)) ||
	    json_object_set_new(det, "request_keys", json_integer(nreqkeys)) ||
	    json_object_set_new(det, "resealed_shares",
	    json_integer(nreseal)) ||
	    json_object_set_new(det, "rekeys", json_integer(nrekeys)) ||
	    json_object_set_new(det, "tokens", json_integer(ntokens)) ||
	    json_object_set_new(det, "memberships", json_integer(nmembers))) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, actor, "tenant.offboard", t.name, t.name,
	    det);
	det = NULL;
	if (r != BG_OK)
		goto out;
	if ((r = bg_store_int(v, "SELECT max(seq) FROM events WHERE "
	    "seq >= ?", 0, &seq)) != BG_OK)
		goto out;
	if ((r = bg_treelog_size(v, &size)) != BG_OK ||
	    (r = bg_treelog_root(v, size, root)) != BG_OK ||
	    (r = bg_vault_public_key(v, pk)) != BG_OK)
		goto out;
	tb_add(&b, "versions destroyed: %lld\nshares destroyed: %lld\n"
	    "request keys destroyed: %lld\nre-sealed shares destroyed: %lld\n"
	    "re-key proposals destroyed: %lld\n"
	    "token credentials destroyed: %lld\nmemberships ended: %lld\n"
	    "event: %lld\ntree size: %llu\n",
	    (long long)nvers, (long long)nshares, (long long)nreqkeys,
	    (long long)nreseal, (long long)nrekeys, (long long)ntokens,
	    (long long)nmembers, (long long)seq, (unsigned long long)size);
	bg_hex(root, sizeof(root), hex);
	tb_add(&b, "tree root: %s\n", hex);
	bg_hex(pk, sizeof(pk), hex);
	tb_add(&b, "signing key: %s\n", hex);
	if (b.oom) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	mlen = strlen(CERT_DOMAIN) + b.len;
	if ((msg = malloc(mlen)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(msg, CERT_DOMAIN, strlen(CERT_DOMAIN));
	memcpy(msg + strlen(CERT_DOMAIN), b.s, b.len);
	if ((r = bg_vault_sign(v, msg, mlen, sig)) != BG_OK)
		goto out;
	bg_hex(sig, sizeof(sig), sighex);
	tb_add(&b, "signature: %s\n", sighex);
	if (b.oom) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_commit(v)) != BG_OK)
		goto out;
	(void)bg_store_checkpoint(v);
	*certp = b.s;
	b.s = NULL;
	r = BG_OK;
out:
	json_decref(det);
	free(msg);
	free(lines);
	free(b.s);
	bg_admin_clear(&a);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor != NULL ? actor : "?",
	    "tenant.offboard", tenant, tenant);
}

/* Exactly 2n hex digits at s (the caller checked they are there). */
static int
unhex(const char *s, size_t n, uint8_t *out)
{
	size_t bin_len = 0;

	if (sodium_hex2bin(out, n, s, 2 * n, NULL, &bin_len, NULL) != 0 ||
	    bin_len != n)
		return -1;
	return 0;
}

int
bg_vault_certificate_verify(bg_vault_t *v, const char *text, size_t len)
{
	const char *sigline, *keyline, *p;
	uint8_t pk[32], pinned[32], sig[64], *msg = NULL;
	size_t blen, mlen, i;
	int r = BG_ERR_INTERNAL;

	bg_vault_clear_err(v);
	if (text == NULL || len < strlen(CERT_MAGIC) ||
	    strncmp(text, CERT_MAGIC, strlen(CERT_MAGIC)) != 0 ||
	    memchr(text, '\0', len) != NULL) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "not a breakglass destruction "
		    "certificate (v1)");
		goto out;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\n') {
			r = bg_vault_fail(v, BG_ERR_PARSE, "the certificate "
			    "holds a control character at byte %zu", i + 1);
			goto out;
		}
	/* The signature line is the last line. */
	if (text[len - 1] != '\n') {
		r = bg_vault_fail(v, BG_ERR_PARSE, "the certificate does not "
		    "end with a line break");
		goto out;
	}
	for (p = text + len - 1; p > text && p[-1] != '\n'; p--)
		;
	sigline = p;
	blen = (size_t)(sigline - text);
	if (strncmp(sigline, "signature: ", 11) != 0 ||
	    (size_t)(text + len - sigline) != 11 + 128 + 1 ||
	    unhex(sigline + 11, sizeof(sig), sig) != 0) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "the certificate's last line "
		    "is not \"signature: <128 hex digits>\"");
		goto out;
	}
	if (blen < 2)
		goto bad_key;
	for (p = text + blen - 1; p > text && p[-1] != '\n'; p--)
		;
	keyline = p;
	if (strncmp(keyline, "signing key: ", 13) != 0 ||
	    (size_t)(sigline - keyline) != 13 + 64 + 1 ||
	    unhex(keyline + 13, sizeof(pk), pk) != 0)
		goto bad_key;
	if ((r = bg_treelog_pinned_key(v, pinned)) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "this vault has no signing "
		    "key to check the certificate against");
		goto out;
	}
	if (memcmp(pk, pinned, sizeof(pk)) != 0) { /* public: keys */
		r = bg_vault_fail(v, BG_ERR_AUTH, "the certificate was signed "
		    "by another key than this vault's");
		goto out;
	}
	mlen = strlen(CERT_DOMAIN) + blen;
	if ((msg = malloc(mlen)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(msg, CERT_DOMAIN, strlen(CERT_DOMAIN));
	memcpy(msg + strlen(CERT_DOMAIN), text, blen);
	if (crypto_sign_verify_detached(sig, msg, mlen, pk) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the certificate's signature "
		    "does not verify: it was altered");
		goto out;
	}
	r = BG_OK;
	goto out;
bad_key:
	r = bg_vault_fail(v, BG_ERR_PARSE, "the certificate's last line but "
	    "one is not \"signing key: <64 hex digits>\"");
out:
	free(msg);
	return r;
}
