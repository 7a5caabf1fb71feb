/*
 * Evidence bundles: everything an auditor needs to check one incident on
 * a machine without the vault file (docs/evidence-format.md is the
 * byte-level description).  Export gathers the incident's events with
 * inclusion proofs against one signed tree head, the enrolled public keys
 * and stored assertions of the tokens that signed, and the report, and
 * signs the whole.  Verify trusts nothing in the bundle but the vault key
 * (best pinned by the caller from the ceremony log book): every hash,
 * proof and signature is recomputed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "merkle.h"
#include "treehead.h"
#include "treelog.h"
#include "vault_int.h"

#define EVIDENCE_DOMAIN		"breakglass evidence v1"
#define PROOF_CAP		(BG_MERKLE_MAX_PROOF * BG_MERKLE_HASH_LEN)

/* --- shared helpers --------------------------------------------------------- */

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

/* hex of p as a new JSON string. */
static json_t *
hex_json(const uint8_t *p, size_t n)
{
	char *s;
	json_t *j;

	if ((s = malloc(2 * n + 1)) == NULL)
		return NULL;
	bg_hex(p, n, s);
	j = json_string(s);
	free(s);
	return j;
}

/* Proof elements as an array of hex strings. */
static json_t *
proof_json(const uint8_t *proof, size_t n)
{
	json_t *a = json_array(), *h;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((h = hex_json(proof + i * BG_MERKLE_HASH_LEN,
		    BG_MERKLE_HASH_LEN)) == NULL ||
		    json_array_append_new(a, h) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * The message the bundle signature covers: the domain string, a zero
 * byte, and SHA-256 of the canonical JSON of the bundle without its
 * "signature" member.
 */
static int
bundle_message(const json_t *bundle, uint8_t msg[sizeof(EVIDENCE_DOMAIN) +
    BG_VAULT_HASH_LEN])
{
	json_t *c = NULL;
	char *s = NULL;
	int r = BG_ERR_NOMEM;

	if ((c = json_copy((json_t *)(uintptr_t)bundle)) == NULL)
		goto out;
	(void)json_object_del(c, "signature");
	if ((s = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
		goto out;
	memcpy(msg, EVIDENCE_DOMAIN, sizeof(EVIDENCE_DOMAIN));	/* with NUL */
	crypto_hash_sha256(msg + sizeof(EVIDENCE_DOMAIN), (const uint8_t *)s,
	    strlen(s));
	r = BG_OK;
out:
	free(s);
	json_decref(c);
	return r;
}

/* The value of "key: value" in a statement into out; false if absent. */
static bool
stmt_get(const char *stmt, const char *key, char *out, size_t cap)
{
	char pat[48];
	const char *p, *e;
	size_t n;

	out[0] = '\0';
	if (snprintf(pat, sizeof(pat), "\n%s: ", key) >= (int)sizeof(pat) ||
	    (p = strstr(stmt, pat)) == NULL)
		return false;
	p += strlen(pat);
	if ((e = strchr(p, '\n')) == NULL)
		return false;
	n = (size_t)(e - p);
	if (n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* --- export ------------------------------------------------------------------ */

static int
add_event(bg_vault_t *v, json_t *events, json_t *have, int64_t seq,
    uint64_t size)
{
	sqlite3_stmt *st = NULL;
	uint8_t proof[PROOF_CAP];
	size_t plen = 0;
	char key[32];
	bool row = false;
	json_t *o = NULL;
	int r = BG_ERR_INTERNAL;

	(void)snprintf(key, sizeof(key), "%lld", (long long)seq);
	if (seq <= 0 || json_object_get(have, key) != NULL)
		return BG_OK;
	if ((uint64_t)seq > size) {
		r = bg_vault_fail(v, BG_ERR_STATE, "event %lld is newer than "
		    "the signed tree head (size %llu)", (long long)seq,
		    (unsigned long long)size);
		goto out;
	}
	if ((r = bg_store_prepare(v, "SELECT entry FROM events WHERE seq = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, seq)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "event %lld is missing",
		    (long long)seq);
		goto out;
	}
	if ((r = bg_treelog_inclusion_proof(v, (uint64_t)seq - 1, size, proof,
	    BG_MERKLE_MAX_PROOF, &plen)) != BG_OK)
		goto out;
	if ((o = json_pack("{s:I, s:s, s:o}", "index", (json_int_t)(seq - 1),
	    "entry", (const char *)sqlite3_column_text(st, 0), "proof",
	    proof_json(proof, plen))) == NULL ||
	    json_array_append(events, o) != 0 ||
	    json_object_set_new(have, key, json_true()) != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	json_decref(o);
	sqlite3_finalize(st);
	return r;
}

/* The seq of the request's event with action (and actor, when set). */
static int
event_seq_of(bg_vault_t *v, int64_t request_id, const char *action,
    const char *actor, int64_t *seqp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*seqp = 0;
	if ((r = bg_store_prepare(v, "SELECT seq FROM events WHERE action = ? "
	    "AND (?2 IS NULL OR actor = ?2) AND "
	    "json_extract(entry, '$.details.request') = ?3 "
	    "ORDER BY seq LIMIT 1", &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, action)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, actor)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, request_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row)
		*seqp = sqlite3_column_int64(st, 0);
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/*
 * The signer's attestation as the verified chain of tenant holds it
 * (authData, the attStmt with its x5c certificate chain, and the
 * clientDataHash it signed), so that whoever checks the bundle can check
 * the token's make and chain too: "attestation" in o, null when the
 * credential kept none (drill vaults).
 */
static int
add_attestation(bg_vault_t *v, const char *tenant, const uint8_t *cred_id,
    size_t cred_id_len, json_t *o)
{
	bg_chain_link_t *head = NULL;
	const bg_chain_member_t *m = NULL;
	const bg_chain_token_t *ct = NULL;
	uint8_t hash[BG_VAULT_HASH_LEN];
	json_t *a = NULL;
	int r;

	if (tenant == NULL || cred_id == NULL)
		return bg_vault_fail(v, BG_ERR_DB_CORRUPT, "a token row names "
		    "no tenant or credential");
	if ((r = bg_chain_tenant(v, tenant, 0, &head, hash)) != BG_OK)
		return r;
	if (head != NULL && bg_chain_find_cred(head, cred_id, cred_id_len, &m,
	    &ct) && ct->att_stmt_len > 0)
		a = json_pack("{s:o, s:o, s:o}", "authdata",
		    hex_json(ct->att_authdata, ct->att_authdata_len), "stmt",
		    hex_json(ct->att_stmt, ct->att_stmt_len), "client_data_hash",
		    hex_json(ct->att_cdh, sizeof(ct->att_cdh)));
	else
		a = json_null();
	bg_chain_link_free(&head);
	if (a == NULL || json_object_set_new(o, "attestation", a) != 0)
		return BG_ERR_NOMEM;
	return BG_OK;
}

/* One token (by id) into tokens, its enrollment event into events. */
static int
add_token(bg_vault_t *v, int64_t token_id, json_t *tokens, json_t *tokhave,
    json_t *events, json_t *evhave, uint64_t size)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	char key[32];
	json_t *o = NULL;
	int64_t seq = 0;
	int r = BG_ERR_INTERNAL;

	(void)snprintf(key, sizeof(key), "%lld", (long long)token_id);
	if (json_object_get(tokhave, key) != NULL)
		return BG_OK;
	if ((r = bg_store_prepare(v, "SELECT m.person, k.label, k.alg, "
	    "k.pubkey, k.cose_key, k.aaguid, k.is_soft, "
	    "(SELECT e.seq FROM events e, json_each(e.entry, "
	    " '$.details.tokens') j WHERE e.action = 'chain.link' AND "
	    " json_extract(j.value, '$.id') = k.id ORDER BY e.seq LIMIT 1), "
	    "t.name, k.cred_id "
	    "FROM tokens k JOIN memberships m ON m.id = k.membership_id "
	    "JOIN tenants t ON t.id = m.tenant_id "
	    "WHERE k.id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, token_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "token %lld is missing",
		    (long long)token_id);
		goto out;
	}
	if ((o = json_pack("{s:I, s:s, s:s, s:i, s:o, s:o, s:o, s:b}", "id",
	    (json_int_t)token_id, "person",
	    (const char *)sqlite3_column_text(st, 0), "label",
	    (const char *)sqlite3_column_text(st, 1), "alg",
	    sqlite3_column_int(st, 2), "public_key",
	    hex_json(sqlite3_column_blob(st, 3),
	    (size_t)sqlite3_column_bytes(st, 3)), "cose_key",
	    hex_json(sqlite3_column_blob(st, 4),
	    (size_t)sqlite3_column_bytes(st, 4)), "aaguid",
	    hex_json(sqlite3_column_blob(st, 5),
	    (size_t)sqlite3_column_bytes(st, 5)), "software",
	    sqlite3_column_int(st, 6) != 0)) == NULL ||
	    json_array_append(tokens, o) != 0 ||
	    json_object_set_new(tokhave, key, json_true()) != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = add_attestation(v, (const char *)sqlite3_column_text(st, 8),
	    sqlite3_column_blob(st, 9), (size_t)sqlite3_column_bytes(st, 9),
	    o)) != BG_OK)
		goto out;
	seq = sqlite3_column_int64(st, 7);
	r = add_event(v, events, evhave, seq, size);
out:
	json_decref(o);
	sqlite3_finalize(st);
	return r;
}

/*
 * When the statement carries the Merkle root at its log size ("tree-root",
 * or a "log-head" that is that root; older statements have only a
 * hash-chain head), a consistency proof from there to the bundle's head:
 * the token signature then vouches for the history it saw.
 */
static int
log_head_proof(bg_vault_t *v, const char *stmt, const bg_treehead_t *th,
    json_t *as)
{
	uint8_t root[BG_MERKLE_HASH_LEN], proof[PROOF_CAP];
	char sz[32], head[80], hex[2 * BG_MERKLE_HASH_LEN + 1];
	uint64_t n = 0;
	size_t plen = 0;
	char *end = NULL;
	int r;

	if (!stmt_get(stmt, "log-size", sz, sizeof(sz)) ||
	    (!stmt_get(stmt, "tree-root", head, sizeof(head)) &&
	    !stmt_get(stmt, "log-head", head, sizeof(head))))
		return BG_OK;
	n = strtoull(sz, &end, 10);
	if (end == sz || *end != '\0' || n == 0 || n > th->size)
		return BG_OK;
	if ((r = bg_treelog_root(v, n, root)) != BG_OK)
		return r;
	bg_hex(root, sizeof(root), hex);
	if (strcmp(hex, head) != 0)
		return BG_OK;	/* a hash-chain head: not provable offline */
	if ((r = bg_treelog_consistency_proof(v, n, th->size, proof,
	    BG_MERKLE_MAX_PROOF, &plen)) != BG_OK)
		return r;
	if (json_object_set_new(as, "log_head_proof", proof_json(proof, plen))
	    != 0)
		return BG_ERR_NOMEM;
	return BG_OK;
}

static int
add_assertion(bg_vault_t *v, sqlite3_stmt *st, const char *action,
    const char *person, int64_t request_id, const bg_treehead_t *th,
    json_t *assertions)
{
	const char *stmt = (const char *)sqlite3_column_text(st, 0);
	json_t *o = NULL;
	int64_t seq = 0;
	int r = BG_ERR_INTERNAL;

	if ((r = event_seq_of(v, request_id, action, person, &seq)) != BG_OK)
		goto out;
	if ((o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:o, s:o}", "action",
	    action, "person", person, "token",
	    (json_int_t)sqlite3_column_int64(st, 3), "event_seq",
	    (json_int_t)seq, "statement", stmt != NULL ? stmt : "",
	    "authenticator_data", hex_json(sqlite3_column_blob(st, 1),
	    (size_t)sqlite3_column_bytes(st, 1)), "signature",
	    hex_json(sqlite3_column_blob(st, 2),
	    (size_t)sqlite3_column_bytes(st, 2)))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = log_head_proof(v, stmt != NULL ? stmt : "", th, o)) != BG_OK)
		goto out;
	r = json_array_append(assertions, o) == 0 ? BG_OK : BG_ERR_NOMEM;
out:
	json_decref(o);
	return r;
}

/* The requester's and every approver's signed statement. */
static int
add_assertions(bg_vault_t *v, int64_t id, const bg_treehead_t *th,
    json_t *assertions, json_t *tokens, json_t *tokhave, json_t *events,
    json_t *evhave)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	char person[BG_VAULT_NAME_MAX + 1];
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "SELECT statement, authdata, sig, "
	    "token_id, requester, 0 FROM requests WHERE id = ?1 UNION ALL "
	    "SELECT statement, authdata, sig, token_id, person, decision "
	    "FROM approvals WHERE request_id = ?1", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 4, person, sizeof(person));
		if ((r = add_assertion(v, st, sqlite3_column_int(st, 5) == 0 ?
		    "request" : sqlite3_column_int(st, 5) == 2 ? "deny" :
		    "approve", person, id, th, assertions)) != BG_OK ||
		    (r = add_token(v, sqlite3_column_int64(st, 3), tokens,
		    tokhave, events, evhave, th->size)) != BG_OK)
			goto out;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
add_receipt(bg_vault_t *v, const char *line, const bg_treehead_t *th,
    json_t *bundle)
{
	bg_receipt_t rc;
	uint8_t root[BG_MERKLE_HASH_LEN], proof[PROOF_CAP];
	char why[BG_TREEHEAD_WHY_MAX];
	size_t plen = 0;
	json_t *o = NULL;
	int r = BG_ERR_INTERNAL;

	if (bg_receipt_parse(line, &rc, why, sizeof(why)) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "receipt: %s", why);
		goto out;
	}
	if (rc.size > th->size) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the log has %llu events, "
		    "fewer than the receipt's %llu: it was truncated or "
		    "restored from an older copy",
		    (unsigned long long)th->size, (unsigned long long)rc.size);
		goto out;
	}
	if ((r = bg_treelog_root(v, rc.size, root)) != BG_OK)
		goto out;
	if (bg_receipt_matches_root(&rc, root) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the log does not extend "
		    "the receipt: an event up to %llu was edited, removed or "
		    "reordered", (unsigned long long)rc.size);
		goto out;
	}
	if ((r = bg_treelog_consistency_proof(v, rc.size, th->size, proof,
	    BG_MERKLE_MAX_PROOF, &plen)) != BG_OK)
		goto out;
	if ((o = json_pack("{s:s, s:I, s:o, s:o}", "receipt", line, "size",
	    (json_int_t)rc.size, "root", hex_json(root, sizeof(root)),
	    "proof", proof_json(proof, plen))) == NULL ||
	    json_object_set_new(bundle, "receipts", json_pack("[O]", o))
	    != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	json_decref(o);
	return r;
}

/*
 * Log the export, signed by by (the tenant's auditor or an operator, or a
 * custodian): its own transaction; refusals recorded.  *checkedp: check
 * mode (by->tok NULL) ended here with nothing written.
 */
static int
log_export(bg_vault_t *v, const bg_vault_signer_t *by,
    const bg_vault_request_info_t *q, bool *checkedp)
{
	bg_tenant_row_t t;
	bg_admin_t a;
	json_t *det = NULL;
	char *lines = NULL;
	int64_t now = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, q->tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_AUDITOR |
	    BG_ADMIN_OPERATOR | BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK)
		goto out;
	if ((det = json_pack("{s:I}", "request", (json_int_t)q->id)) == NULL ||
	    bg_strcatf(&lines, "request: %lld\nsecret: %s\n",
	    (long long)q->id, q->secret) != BG_OK) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_act(v, t.name, &a, by, "evidence.export", lines, now,
	    det, checkedp)) != BG_OK || *checkedp)
		goto out;
	r = bg_audit_append(v, now, by->person, "evidence.export", q->tenant,
	    q->secret, det);
	det = NULL;
	if (r != BG_OK)
		goto out;
	r = bg_store_commit(v);
out:
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, by->person, "evidence.export", q->tenant,
	    q->secret);
}

int
bg_vault_evidence_export(bg_vault_t *v, const bg_vault_signer_t *by,
    int64_t request_id, const char *receipt, char **bundlep)
{
	bool checked = false;
	bg_vault_report_query_t rq;
	bg_vault_request_info_t *q = NULL;
	bg_treehead_t th;
	json_t *bundle = NULL, *rep = NULL, *events = NULL, *evhave = NULL;
	json_t *tokens = NULL, *tokhave = NULL, *assertions = NULL, *inc, *a;
	json_error_t jerr;
	uint8_t pk[32], sig[64];
	uint8_t msg[sizeof(EVIDENCE_DOMAIN) + BG_VAULT_HASH_LEN];
	char thtext[BG_TREEHEAD_TEXT_MAX], *repjs = NULL, *out = NULL;
	size_t i, j;
	int r = BG_ERR_INTERNAL;

	memset(&th, 0, sizeof(th));
	memset(&rq, 0, sizeof(rq));
	if (bundlep == NULL)
		return BG_ERR_INVALID_ARG;
	*bundlep = NULL;
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = bg_vault_request_show(v, request_id, &q)) != BG_OK)
		goto out;
	if ((r = log_export(v, by, q, &checked)) != BG_OK || checked)
		goto out;
	bg_vault_clear_err(v);
	if ((r = bg_treelog_seal(v, &th)) != BG_OK ||
	    (r = bg_vault_public_key(v, pk)) != BG_OK ||
	    (r = bg_treehead_format(&th, thtext, sizeof(thtext))) != BG_OK)
		goto out;
	rq.request_id = request_id;
	if ((r = bg_vault_report(v, &rq, &repjs)) != BG_OK)
		goto out;
	if ((rep = json_loads(repjs, 0, &jerr)) == NULL ||
	    (events = json_array()) == NULL ||
	    (evhave = json_object()) == NULL ||
	    (tokens = json_array()) == NULL ||
	    (tokhave = json_object()) == NULL ||
	    (assertions = json_array()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* Every logged event of the report's timeline, and its refusals. */
	inc = json_array_get(json_object_get(rep, "incidents"), 0);
	for (i = 0; i < 2; i++) {
		a = json_object_get(inc, i == 0 ? "timeline" : "refusals");
		for (j = 0; j < json_array_size(a); j++)
			if ((r = add_event(v, events, evhave,
			    jint(json_array_get(a, j), "seq"), th.size))
			    != BG_OK)
				goto out;
	}
	if ((r = add_assertions(v, request_id, &th, assertions, tokens,
	    tokhave, events, evhave)) != BG_OK)
		goto out;
	if ((bundle = json_pack("{s:s, s:s, s:s, s:I, s:o, s:s, s:O, s:O, "
	    "s:O, s:O, s:s}", "format", BG_EVIDENCE_FORMAT, "vault", v->id,
	    "rp_id", v->rp_id, "request", (json_int_t)request_id,
	    "vault_public_key", hex_json(pk, sizeof(pk)), "tree_head", thtext,
	    "events", events, "tokens", tokens, "assertions", assertions,
	    "report", rep, "note", "Pin the vault public key from the "
	    "ceremony log book or a receipt, not from this file: vault "
	    "evidence verify BUNDLE --pubkey HEX")) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (receipt != NULL && (r = add_receipt(v, receipt, &th, bundle))
	    != BG_OK)
		goto out;
	if ((r = bundle_message(bundle, msg)) != BG_OK ||
	    (r = bg_vault_sign(v, msg, sizeof(msg), sig)) != BG_OK)
		goto out;
	if (json_object_set_new(bundle, "signature", hex_json(sig,
	    sizeof(sig))) != 0 ||
	    (out = json_dumps(bundle, JSON_SORT_KEYS | JSON_INDENT(1))) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	*bundlep = out;
	out = NULL;
	r = BG_OK;
out:
	free(out);
	free(repjs);
	json_decref(bundle);
	json_decref(rep);
	json_decref(events);
	json_decref(evhave);
	json_decref(tokens);
	json_decref(tokhave);
	json_decref(assertions);
	bg_vault_request_free(&q);
	return bg_vault_fail_default(v, r);
}

/* --- verify ------------------------------------------------------------------ */

static void
check(bg_evidence_result_t *res, bool ok, const char *what,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
check(bg_evidence_result_t *res, bool ok, const char *what,
    const char *fmt, ...)
{
	bg_evidence_check_t *nc, *c;
	va_list ap;

	if ((res->n_checks & 15) == 0) {
		nc = reallocarray(res->checks, res->n_checks + 16,
		    sizeof(*nc));
		if (nc == NULL) {	/* count it, lose the line */
			res->n_failed++;
			return;
		}
		res->checks = nc;
	}
	c = &res->checks[res->n_checks++];
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->what, sizeof(c->what), "%s", what);
	bg_text_defang(c->what);
	c->ok = ok ? 1 : 0;
	if (!ok) {
		res->n_failed++;
		va_start(ap, fmt);
		(void)vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
		va_end(ap);
		/* Both quote the bundle (tests/fuzz/fuzz_evidence.c). */
		bg_text_defang(c->detail);
	}
}

/* Exactly n bytes of lowercase hex into out. */
static bool
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i, len = strlen(s), got = 0;

	if (len != 2 * n)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return sodium_hex2bin(out, n, s, len, NULL, &got, NULL) == 0 &&
	    got == n;
}

/* Hex of any length up to cap bytes into a new buffer. */
static bool
unhex_alloc(const char *s, size_t cap, uint8_t **outp, size_t *np)
{
	size_t len = strlen(s);

	*outp = NULL;
	*np = 0;
	if (len == 0 || len % 2 != 0 || len / 2 > cap)
		return false;
	if ((*outp = malloc(len / 2)) == NULL)
		return false;
	if (!unhex(s, *outp, len / 2)) {
		free(*outp);
		*outp = NULL;
		return false;
	}
	*np = len / 2;
	return true;
}

/* A proof array into buf; false when malformed. */
static bool
proof_from(const json_t *a, uint8_t *buf, size_t *np)
{
	size_t i;

	*np = 0;
	if (!json_is_array(a) || json_array_size(a) > BG_MERKLE_MAX_PROOF)
		return false;
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i);

		if (!json_is_string(x) || !unhex(json_string_value(x),
		    buf + i * BG_MERKLE_HASH_LEN, BG_MERKLE_HASH_LEN))
			return false;
	}
	*np = json_array_size(a);
	return true;
}

typedef struct vstate {
	bg_evidence_result_t	*res;
	bg_treehead_t		 th;
	bool			 th_ok;
	int64_t			 request;
	const char		*vault;
	const char		*rp_id;
	json_t			*evmap;		/* "seq" -> entry object (verified) */
	const json_t		*reqev;		/* the request event, or NULL */
} vstate_t;

static void
verify_events(vstate_t *s, const json_t *events)
{
	uint8_t leaf[BG_MERKLE_HASH_LEN], proof[PROOF_CAP];
	char what[128], key[32];
	size_t i, plen = 0;

	if (!json_is_array(events) || json_array_size(events) == 0) {
		check(s->res, false, "events", "the bundle has no events");
		return;
	}
	for (i = 0; i < json_array_size(events); i++) {
		const json_t *x = json_array_get(events, i);
		json_t *entry = json_object_get(x, "entry"), *e = NULL;
		json_int_t idx = jint(x, "index");
		const char *es;

		(void)snprintf(what, sizeof(what), "event %zu of the bundle",
		    i + 1);
		if (!json_is_string(entry) || idx < 0 ||
		    !json_is_integer(json_object_get(x, "index"))) {
			check(s->res, false, what, "no entry or index");
			continue;
		}
		es = json_string_value(entry);
		if ((e = json_loads(es, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
		    !json_is_object(e) || jint(e, "seq") != idx + 1 ||
		    !json_is_object(json_object_get(e, "details"))) {
			check(s->res, false, what, "the entry is not an event "
			    "with seq = index + 1");
			json_decref(e);
			continue;
		}
		(void)snprintf(what, sizeof(what), "event %lld (%s by %s) is "
		    "in the log", (long long)(idx + 1), jstr(e, "action"),
		    jstr(e, "actor"));
		if (!proof_from(json_object_get(x, "proof"), proof, &plen)) {
			check(s->res, false, what, "the proof is malformed");
			json_decref(e);
			continue;
		}
		bg_merkle_leaf_hash((const uint8_t *)es, strlen(es), leaf);
		if (!s->th_ok || bg_merkle_verify_inclusion((uint64_t)idx,
		    s->th.size, leaf, proof, plen, s->th.root) != BG_OK) {
			check(s->res, false, what, "the inclusion proof does "
			    "not lead to the tree head's root: the event or "
			    "its proof was changed");
			json_decref(e);
			continue;
		}
		check(s->res, true, what, " ");
		(void)snprintf(key, sizeof(key), "%lld", (long long)(idx + 1));
		(void)json_object_set_new(s->evmap, key, e);
	}
}

static const json_t *
event_at(const vstate_t *s, json_int_t seq)
{
	char key[32];

	(void)snprintf(key, sizeof(key), "%lld", (long long)seq);
	return json_object_get(s->evmap, key);
}

static const json_t *
find_token(const json_t *tokens, json_int_t id)
{
	size_t i;

	for (i = 0; i < json_array_size(tokens); i++)
		if (jint(json_array_get(tokens, i), "id") == id)
			return json_array_get(tokens, i);
	return NULL;
}

/* The token's enrollment event agrees with the token entry. */
static void
verify_enrollment(vstate_t *s, const json_t *tok)
{
	const char *k;
	json_t *e;
	const json_t *d;
	char what[160];

	(void)snprintf(what, sizeof(what), "token %lld ('%.40s' of %.64s) was "
	    "enrolled in the log", (long long)jint(tok, "id"),
	    jstr(tok, "label"), jstr(tok, "person"));
	json_object_foreach(s->evmap, k, e) {
		const json_t *toks;
		size_t i;

		if (strcmp(jstr(e, "action"), "chain.link") != 0)
			continue;
		toks = json_object_get(json_object_get(e, "details"),
		    "tokens");
		d = NULL;
		for (i = 0; i < json_array_size(toks); i++)
			if (jint(json_array_get(toks, i), "id") ==
			    jint(tok, "id"))
				d = json_array_get(toks, i);
		if (d == NULL)
			continue;
		if (strcmp(jstr(d, "person"), jstr(tok, "person")) != 0 ||
		    strcmp(jstr(d, "label"), jstr(tok, "label")) != 0 ||
		    jint(d, "alg") != jint(tok, "alg") ||
		    strcmp(jstr(d, "aaguid"), jstr(tok, "aaguid")) != 0 ||
		    strcmp(jstr(d, "public_key"), jstr(tok, "public_key")) !=
		    0) {
			check(s->res, false, what, "the link event %s names "
			    "another person, label, algorithm, AAGUID or key",
			    k);
			return;
		}
		check(s->res, true, what, " ");
		return;
	}
	check(s->res, false, what, "no enrollment event for it in the bundle");
}

/* The first disagreement between a statement and the events, or NULL. */
static const char *
statement_mismatch(const vstate_t *s, const json_t *as, const json_t *ev,
    char *buf, size_t cap)
{
	static const char *const fields[] = { "reason", "ticket", "requester" };
	const char *stmt = jstr(as, "statement");
	const json_t *d = json_object_get(ev, "details");
	const json_t *rd = json_object_get(s->reqev, "details");
	uint8_t h[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1], val[BG_VAULT_REASON_MAX + 1];
	char num[32];
	size_t i;

	crypto_hash_sha256(h, (const uint8_t *)stmt, strlen(stmt));
	bg_hex(h, sizeof(h), hex);
	if (strncmp(stmt, "breakglass statement v1\n", 24) != 0)
		return "not a breakglass statement v1";
	if (strcmp(jstr(ev, "action"), jstr(as, "action")) != 0 ||
	    strcmp(jstr(ev, "actor"), jstr(as, "person")) != 0)
		return "the event is another action or by another person";
	if (jint(d, "request") != s->request)
		return "the event is about another request";
	if (strcmp(jstr(d, "statement_hash"), hex) != 0)
		return "its SHA-256 is not the statement_hash of the event";
	if (!stmt_get(stmt, "vault", val, sizeof(val)) ||
	    strcmp(val, s->vault) != 0)
		return "it names another vault";
	(void)snprintf(num, sizeof(num), "%lld", (long long)s->request);
	if (!stmt_get(stmt, "request", val, sizeof(val)) ||
	    strcmp(val, num) != 0)
		return "it names another request";
	if (!stmt_get(stmt, "tenant", val, sizeof(val)) ||
	    strcmp(val, jstr(ev, "tenant")) != 0)
		return "it names another tenant than the event";
	if (!stmt_get(stmt, "secret", val, sizeof(val)) ||
	    strcmp(val, jstr(ev, "object")) != 0)
		return "it names another secret than the event";
	if (s->reqev == NULL)
		return "the request event is not in the bundle";
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!stmt_get(stmt, fields[i], val, sizeof(val)) ||
		    strcmp(val, jstr(rd, fields[i])) != 0) {
			(void)snprintf(buf, cap, "its %s differs from the "
			    "request event's", fields[i]);
			return buf;
		}
	}
	(void)snprintf(num, sizeof(num), "%lld", (long long)jint(rd,
	    "version"));
	if (!stmt_get(stmt, "version", val, sizeof(val)) ||
	    strcmp(val, num) != 0)
		return "its version differs from the request event's";
	(void)snprintf(num, sizeof(num), "%lld", (long long)jint(ev, "seq") -
	    1);
	if (!stmt_get(stmt, "log-size", val, sizeof(val)) ||
	    strcmp(val, num) != 0)
		return "its log size is not the size of the log just before "
		    "the event";
	return NULL;
}

static void
verify_assertion(vstate_t *s, const json_t *as, const json_t *tokens)
{
	const char *action = jstr(as, "action"), *person = jstr(as, "person");
	const char *stmt = jstr(as, "statement"), *why;
	const json_t *tok = find_token(tokens, jint(as, "token")), *ev;
	uint8_t *pk = NULL, *ad = NULL, *sig = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN], head[BG_MERKLE_HASH_LEN];
	uint8_t proof[PROOF_CAP];
	crypto_hash_sha256_state hs;
	size_t pklen = 0, adlen = 0, siglen = 0, plen = 0;
	char what[160], buf[128], tag[48], val[80];
	unsigned long long n = 0;
	char *end = NULL;

	(void)snprintf(what, sizeof(what), "%.16s by %.64s: token signature "
	    "over the statement", action, person);
	if (strcmp(action, "request") != 0 && strcmp(action, "approve") != 0 &&
	    strcmp(action, "deny") != 0) {
		check(s->res, false, what, "unknown action");
		return;
	}
	if (tok == NULL || strcmp(jstr(tok, "person"), person) != 0) {
		check(s->res, false, what, "the bundle has no token %lld of "
		    "%s", (long long)jint(as, "token"), person);
		return;
	}
	if (!unhex_alloc(jstr(tok, "public_key"), 128, &pk, &pklen) ||
	    !unhex_alloc(jstr(as, "authenticator_data"), 4096, &ad, &adlen) ||
	    !unhex_alloc(jstr(as, "signature"), 256, &sig, &siglen)) {
		check(s->res, false, what, "key, authenticator data or "
		    "signature is not hex");
		goto out;
	}
	(void)snprintf(tag, sizeof(tag), "breakglass %s v1\n", action);
	crypto_hash_sha256_init(&hs);
	crypto_hash_sha256_update(&hs, (const uint8_t *)tag, strlen(tag));
	crypto_hash_sha256_update(&hs, (const uint8_t *)stmt, strlen(stmt));
	crypto_hash_sha256_final(&hs, cdh);
	if (bg_token_verify((int)jint(tok, "alg"), pk, pklen, s->rp_id, cdh,
	    ad, adlen, sig, siglen, true) != BG_OK)
		check(s->res, false, what, "the signature does not verify "
		    "(statement, authenticator data, signature or key "
		    "changed, or no user verification)");
	else
		check(s->res, true, what, " ");
	(void)snprintf(what, sizeof(what), "%.16s by %.64s: statement agrees "
	    "with event %lld", action, person, (long long)jint(as,
	    "event_seq"));
	if ((ev = event_at(s, jint(as, "event_seq"))) == NULL)
		check(s->res, false, what, "that event is not in the bundle "
		    "or did not verify");
	else if ((why = statement_mismatch(s, as, ev, buf, sizeof(buf))) !=
	    NULL)
		check(s->res, false, what, "%s", why);
	else
		check(s->res, true, what, " ");
	if (json_object_get(as, "log_head_proof") == NULL)
		goto out;
	(void)snprintf(what, sizeof(what), "%.16s by %.64s: the log the token "
	    "signed is a prefix of the tree head", action, person);
	if (!stmt_get(stmt, "log-size", val, sizeof(val)) ||
	    (n = strtoull(val, &end, 10)) == 0 || *end != '\0' ||
	    (!stmt_get(stmt, "tree-root", val, sizeof(val)) &&
	    !stmt_get(stmt, "log-head", val, sizeof(val))) ||
	    !unhex(val, head, sizeof(head)) ||
	    !proof_from(json_object_get(as, "log_head_proof"), proof, &plen) ||
	    !s->th_ok || bg_merkle_verify_consistency(n, s->th.size, head,
	    s->th.root, proof, plen) != BG_OK)
		check(s->res, false, what, "the consistency proof from the "
		    "statement's log head does not verify");
	else
		check(s->res, true, what, " ");
out:
	free(pk);
	free(ad);
	free(sig);
}

static void
verify_receipt(vstate_t *s, const json_t *bundle, const char *line)
{
	bg_receipt_t rc;
	const json_t *rs = json_object_get(bundle, "receipts");
	uint8_t root[BG_MERKLE_HASH_LEN], proof[PROOF_CAP];
	char why[BG_TREEHEAD_WHY_MAX], what[96];
	size_t i, plen = 0;

	(void)snprintf(what, sizeof(what), "the tree head extends receipt "
	    "%.46s", line);
	if (bg_receipt_parse(line, &rc, why, sizeof(why)) != BG_OK) {
		check(s->res, false, what, "%s", why);
		return;
	}
	for (i = 0; i < json_array_size(rs); i++) {
		const json_t *x = json_array_get(rs, i);

		if (jint(x, "size") != (json_int_t)rc.size)
			continue;
		if (!unhex(jstr(x, "root"), root, sizeof(root)) ||
		    bg_receipt_matches_root(&rc, root) != BG_OK) {
			check(s->res, false, what, "the bundle's root at size "
			    "%llu does not match the receipt",
			    (unsigned long long)rc.size);
			return;
		}
		if (!proof_from(json_object_get(x, "proof"), proof, &plen) ||
		    !s->th_ok || bg_merkle_verify_consistency(rc.size,
		    s->th.size, root, s->th.root, proof, plen) != BG_OK) {
			check(s->res, false, what, "the consistency proof "
			    "does not verify");
			return;
		}
		check(s->res, true, what, " ");
		return;
	}
	check(s->res, false, what, "the bundle has no proof for a receipt "
	    "of size %llu (export it with --receipt)",
	    (unsigned long long)rc.size);
}

static void
verify_report(vstate_t *s, const json_t *rep, bg_evidence_result_t *res)
{
	const json_t *inc = json_array_get(json_object_get(rep, "incidents"),
	    0), *tl = json_object_get(inc, "timeline"), *ev;
	const char *what = "the report agrees with the events";
	size_t i;

	if (!json_is_object(rep) || strcmp(jstr(rep, "format"),
	    "bg-report-v1") != 0 || jint(inc, "request") != s->request) {
		check(res, false, what, "no report of request %lld",
		    (long long)s->request);
		return;
	}
	res->report_json = json_dumps(rep, JSON_SORT_KEYS | JSON_COMPACT);
	for (i = 0; i < json_array_size(tl); i++) {
		const json_t *x = json_array_get(tl, i);
		json_int_t seq = jint(x, "seq");

		if (seq == 0)
			continue;
		if ((ev = event_at(s, seq)) == NULL ||
		    jint(ev, "time") != jint(x, "time") ||
		    strcmp(jstr(ev, "action"), strcmp(jstr(x, "kind"),
		    "refused") == 0 ? "refused" : jstr(x, "kind")) != 0) {
			check(res, false, what, "timeline entry %lld has no "
			    "matching event", (long long)seq);
			return;
		}
	}
	check(res, true, what, " ");
}

void
bg_evidence_result_free(bg_evidence_result_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free((*p)->checks);
	free((*p)->report_json);
	free(*p);
	*p = NULL;
}

int
bg_evidence_verify(const uint8_t *bundle, size_t len, const uint8_t *pubkey,
    const char *receipt, bg_evidence_result_t **resultp)
{
	bg_evidence_result_t *res = NULL;
	vstate_t s;
	json_t *b = NULL;
	const json_t *as, *tokens, *x;
	uint8_t pk[32], sig[64];
	uint8_t msg[sizeof(EVIDENCE_DOMAIN) + BG_VAULT_HASH_LEN];
	char why[BG_TREEHEAD_WHY_MAX], bpk[65];
	const char *k;
	json_t *e;
	size_t i, napprove = 0, nassert = 0;
	int r = BG_ERR_INTERNAL;

	memset(&s, 0, sizeof(s));
	if (resultp == NULL)
		return BG_ERR_INVALID_ARG;
	*resultp = NULL;
	if ((res = calloc(1, sizeof(*res))) == NULL)
		return BG_ERR_NOMEM;
	s.res = res;
	if (bundle == NULL || len == 0 || len > BG_EVIDENCE_MAX ||
	    (b = json_loadb((const char *)bundle, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(b) ||
	    strcmp(jstr(b, "format"), BG_EVIDENCE_FORMAT) != 0) {
		check(res, false, "bundle format", "not a %s bundle (JSON "
		    "object with \"format\": \"%s\")", BG_EVIDENCE_FORMAT,
		    BG_EVIDENCE_FORMAT);
		r = BG_ERR_PARSE;
		goto out;
	}
	if ((s.evmap = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	s.request = jint(b, "request");
	s.vault = jstr(b, "vault");
	s.rp_id = jstr(b, "rp_id");
	res->request_id = s.request;
	(void)snprintf(res->vault_id, sizeof(res->vault_id), "%s", s.vault);
	(void)snprintf(bpk, sizeof(bpk), "%s", jstr(b, "vault_public_key"));
	/* The key: the caller's pin, else the bundle's own (say so). */
	if (pubkey != NULL) {
		memcpy(pk, pubkey, sizeof(pk));
		res->pubkey_pinned = 1;
		bg_hex(pk, sizeof(pk), res->pubkey_hex);
		check(res, strcmp(bpk, res->pubkey_hex) == 0, "the bundle names "
		    "the pinned vault key", "it names %.64s", bpk);
	} else if (!unhex(bpk, pk, sizeof(pk))) {
		check(res, false, "vault public key", "missing or not 64 hex "
		    "digits");
		r = BG_ERR_PARSE;
		goto out;
	} else {
		(void)snprintf(res->pubkey_hex, sizeof(res->pubkey_hex), "%s",
		    bpk);
	}
	/* The tree head. */
	if (bg_treehead_parse(jstr(b, "tree_head"), &s.th, why, sizeof(why))
	    != BG_OK) {
		check(res, false, "tree head signature", "%s", why);
	} else if (strcmp(s.th.vault_id, s.vault) != 0) {
		check(res, false, "tree head signature", "the tree head is of "
		    "vault %s, the bundle of %.32s", s.th.vault_id, s.vault);
	} else if (bg_treehead_verify(&s.th, pk) != BG_OK) {
		check(res, false, "tree head signature", "the signature does "
		    "not verify with the vault key");
	} else {
		s.th_ok = true;
		check(res, true, "tree head signature", " ");
	}
	/* The bundle signature. */
	if (!unhex(jstr(b, "signature"), sig, sizeof(sig)) ||
	    bundle_message(b, msg) != BG_OK ||
	    crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
		check(res, false, "bundle signature", "the vault key's "
		    "signature over the bundle does not verify: something in "
		    "it was changed");
	else
		check(res, true, "bundle signature", " ");
	verify_events(&s, json_object_get(b, "events"));
	json_object_foreach(s.evmap, k, e) {
		if (strcmp(jstr(e, "action"), "request") == 0 &&
		    jint(json_object_get(e, "details"), "request") == s.request)
			s.reqev = e;
		if (strcmp(jstr(e, "action"), "approve") == 0 &&
		    jint(json_object_get(e, "details"), "request") == s.request)
			napprove++;
	}
	check(res, s.reqev != NULL, "the request event is in the bundle",
	    "no verified request event for request %lld",
	    (long long)s.request);
	tokens = json_object_get(b, "tokens");
	for (i = 0; i < json_array_size(tokens); i++)
		verify_enrollment(&s, json_array_get(tokens, i));
	as = json_object_get(b, "assertions");
	for (i = 0; i < json_array_size(as); i++) {
		x = json_array_get(as, i);
		verify_assertion(&s, x, tokens);
		if (strcmp(jstr(x, "action"), "approve") == 0)
			nassert++;
	}
	check(res, nassert == napprove, "every approval event has its token "
	    "assertion", "%zu approval events, %zu approval assertions",
	    napprove, nassert);
	if (receipt != NULL)
		verify_receipt(&s, b, receipt);
	verify_report(&s, json_object_get(b, "report"), res);
	r = res->n_failed == 0 ? BG_OK : BG_ERR_AUTH;
out:
	/* Verdicts (held, failed, unreadable) are handed over; errors not. */
	if (r == BG_OK || r == BG_ERR_AUTH || r == BG_ERR_PARSE) {
		*resultp = res;
		res = NULL;
	}
	bg_evidence_result_free(&res);
	json_decref(s.evmap);
	json_decref(b);
	return r;
}
