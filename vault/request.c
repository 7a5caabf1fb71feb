/*
 * request -> approve | deny -> release.
 *
 * Each flow runs in one BEGIN IMMEDIATE transaction that also spans the
 * token touch: the checks, the statement the token signs and the writes
 * see one state of the vault (WAL readers are not blocked meanwhile).
 *
 * One open request per secret version: a second request while one is open
 * is refused, naming the open one; an open request past its deadline is
 * closed as expired when the next request comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "policy.h"
#include "remote.h"
#include "seal.h"
#include "treelog.h"
#include "vault_int.h"

#define BG_APPROVE	1
#define BG_DENY		2

const char *
bg_vault_request_state_name(int state)
{
	switch (state) {
	case BG_VAULT_REQUEST_OPEN:		return "open";
	case BG_VAULT_REQUEST_RELEASED:		return "released";
	case BG_VAULT_REQUEST_DENIED:		return "denied";
	case BG_VAULT_REQUEST_EXPIRED:		return "expired";
	case BG_VAULT_REQUEST_CANCELLED:	return "cancelled";
	default:				return "?";
	}
}

/* Everything the flows need about one request. */
typedef struct req_row {
	int64_t	 id, version_id, token_id, ttl, created_at, deadline;
	int	 state, version, vstate;
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	int64_t	 tenant_id;
	char	 secret[BG_VAULT_NAME_MAX + 1];
	char	 requester[BG_VAULT_NAME_MAX + 1];
	char	*policy;
	uint8_t	 policy_hash[BG_POLICY_HASH_LEN];
	int64_t	 chain_seq;		/* the link the version was sealed under */
	uint8_t	 chain_head[BG_VAULT_HASH_LEN];	/* its hash, as the row says */
	uint8_t	 binding[32];		/* bg_share_binding() of the two */
	uint8_t	 key_commit[32];	/* bg_seal_key_commit() at sealing */
	uint8_t	 req_pk[BG_SEAL_PK_LEN];
	bool	 has_req_pk;
	uint8_t	*req_sk_sealed;	size_t req_sk_sealed_len;
	uint8_t	*value_blob;	size_t value_blob_len;
	size_t	 value_len;
} req_row_t;

static void
req_row_clear(req_row_t *q)
{
	free(q->policy);
	free(q->req_sk_sealed);
	free(q->value_blob);
	memset(q, 0, sizeof(*q));
}

static int
dup_blob(sqlite3_stmt *st, int i, uint8_t **p, size_t *n)
{
	int len = sqlite3_column_bytes(st, i);

	*p = NULL;
	*n = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL || len <= 0)
		return BG_OK;
	if ((*p = malloc((size_t)len)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(*p, sqlite3_column_blob(st, i), (size_t)len);
	*n = (size_t)len;
	return BG_OK;
}

/*
 * Statements every approval and release runs, kept prepared
 * (bg_store_cached(), keyed by these arrays' addresses).
 */
static const char req_get_sql[] = "SELECT q.id, q.version_id, q.token_id, "
    "q.ttl, q.created_at, q.deadline, q.state, x.version, x.state, "
    "t.name, t.id, s.name, q.requester, x.policy, x.policy_hash, "
    "q.req_pk, q.req_sk_sealed, x.blob, x.value_len, x.chain_seq, "
    "x.chain_head, x.key_commit FROM requests q JOIN versions x ON x.id = q.version_id "
    "JOIN secrets s ON s.id = x.secret_id "
    "JOIN tenants t ON t.id = s.tenant_id WHERE q.id = ?";
static const char approvals_sql[] = "SELECT person FROM approvals WHERE "
    "request_id = ? AND decision = 1 ORDER BY id";
static const char decided_sql[] = "SELECT decision FROM approvals WHERE "
    "request_id = ? AND person = ?";
static const char approval_insert_sql[] = "INSERT INTO approvals "
    "(request_id, person, token_id, leaf, decision, created_at, statement, "
    "authdata, sig, resealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static const char evidence_sql[] = "SELECT a.person, a.leaf, a.statement, "
    "a.authdata, a.sig, a.resealed, k.alg, k.pubkey FROM approvals a "
    "JOIN tokens k ON k.id = a.token_id WHERE a.request_id = ? AND "
    "a.decision = 1 ORDER BY a.id";

static int
req_get(bg_vault_t *v, int64_t id, req_row_t *q)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(q, 0, sizeof(*q));
	if ((r = bg_store_cached(v, req_get_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no request %lld",
		    (long long)id);
		goto out;
	}
	q->id = sqlite3_column_int64(st, 0);
	q->version_id = sqlite3_column_int64(st, 1);
	q->token_id = sqlite3_column_int64(st, 2);
	q->ttl = sqlite3_column_int64(st, 3);
	q->created_at = sqlite3_column_int64(st, 4);
	q->deadline = sqlite3_column_int64(st, 5);
	q->state = sqlite3_column_int(st, 6);
	q->version = sqlite3_column_int(st, 7);
	q->vstate = sqlite3_column_int(st, 8);
	bg_store_col_text(st, 9, q->tenant, sizeof(q->tenant));
	q->tenant_id = sqlite3_column_int64(st, 10);
	bg_store_col_text(st, 11, q->secret, sizeof(q->secret));
	bg_store_col_text(st, 12, q->requester, sizeof(q->requester));
	if ((p = sqlite3_column_text(st, 13)) == NULL ||
	    (q->policy = strdup((const char *)p)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (sqlite3_column_bytes(st, 14) != BG_POLICY_HASH_LEN) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the policy hash of %s/%s "
		    "v%d is malformed", q->tenant, q->secret, q->version);
		goto out;
	}
	memcpy(q->policy_hash, sqlite3_column_blob(st, 14),
	    BG_POLICY_HASH_LEN);
	if (sqlite3_column_bytes(st, 15) == BG_SEAL_PK_LEN) {
		memcpy(q->req_pk, sqlite3_column_blob(st, 15), BG_SEAL_PK_LEN);
		q->has_req_pk = true;
	}
	if ((r = dup_blob(st, 16, &q->req_sk_sealed,
	    &q->req_sk_sealed_len)) != BG_OK ||
	    (r = dup_blob(st, 17, &q->value_blob, &q->value_blob_len))
	    != BG_OK)
		goto out;
	q->value_len = (size_t)sqlite3_column_int64(st, 18);
	q->chain_seq = sqlite3_column_int64(st, 19);
	if (q->chain_seq < 1 || sqlite3_column_bytes(st, 20) !=
	    BG_VAULT_HASH_LEN) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s/%s v%d names no keyset "
		    "link: the file was altered", q->tenant, q->secret,
		    q->version);
		goto out;
	}
	memcpy(q->chain_head, sqlite3_column_blob(st, 20), BG_VAULT_HASH_LEN);
	if (sqlite3_column_bytes(st, 21) != 32) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s/%s v%d has no key "
		    "commitment: the file was altered", q->tenant, q->secret,
		    q->version);
		goto out;
	}
	memcpy(q->key_commit, sqlite3_column_blob(st, 21), 32);
	/* The row's claims only pick the AD: a wrong one opens nothing. */
	bg_share_binding(q->policy_hash, q->chain_head, q->binding);
	r = BG_OK;
out:
	bg_store_done(st);
	if (r != BG_OK)
		req_row_clear(q);
	return r;
}

/* Parse the policy that sealed the version; its hash must be the stored
 * one (it is also bound into every AD, so this only explains failures). */
static int
version_policy(bg_vault_t *v, const req_row_t *q, bg_policy_t **polp)
{
	bg_policy_t *pol = NULL;
	int r = BG_ERR_INTERNAL;

	*polp = NULL;
	if (bg_policy_parse(q->policy, &pol, NULL) != BG_OK ||
	    memcmp(bg_policy_hash(pol), q->policy_hash, /* public: hash */
	    BG_POLICY_HASH_LEN) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the policy that sealed "
		    "%s/%s v%d was altered in the database", q->tenant,
		    q->secret, q->version);
		goto out;
	}
	*polp = pol;
	pol = NULL;
	r = BG_OK;
out:
	bg_policy_free(&pol);
	return r;
}

/*
 * The link the version was sealed under, verified from the genesis; its
 * hash must be the one the version's shares are bound to, and its policy
 * the version's.
 */
static int
version_keyset(bg_vault_t *v, const req_row_t *q, const bg_tenant_row_t *t,
    bg_chain_link_t **ksp)
{
	bg_chain_link_t *ks = NULL;
	uint8_t h[BG_VAULT_HASH_LEN];
	int r = BG_ERR_INTERNAL;

	*ksp = NULL;
	/* Sealed under the newest link: the caller verified it already. */
	if (t != NULL && t->head != NULL &&
	    t->head->seq == (uint64_t)q->chain_seq) {
		if ((r = bg_chain_link_dup(t->head, &ks)) != BG_OK)
			goto out;
		memcpy(h, t->head_hash, sizeof(h));
	} else if ((r = bg_chain_tenant(v, q->tenant, (uint64_t)q->chain_seq,
	    &ks, h)) != BG_OK)
		goto out;
	if (memcmp(h, q->chain_head, sizeof(h)) != 0 || /* public: hashes */
	    ks->policy == NULL || strcmp(ks->policy, q->policy) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s/%s v%d does not match "
		    "link %lld of its tenant's keyset chain: the file was "
		    "altered", q->tenant, q->secret, q->version,
		    (long long)q->chain_seq);
		goto out;
	}
	*ksp = ks;
	ks = NULL;
	r = BG_OK;
out:
	bg_chain_link_free(&ks);
	return r;
}

/*
 * The requester's signature over the request statement, checked with the
 * credential the request was made with, as the newest link gives it.
 */
static int
request_signed(bg_vault_t *v, const bg_tenant_row_t *t, const req_row_t *q,
    int64_t now)
{
	bg_token_row_t *toks = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN];
	int64_t mid = 0;
	size_t i, n = 0;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_member_live(v, t->head, q->tenant_id, q->tenant,
	    q->requester, BG_VAULT_ROLE_REQUESTER, now, &mid, salt)) != BG_OK ||
	    (r = bg_member_tokens(v, t->head, q->requester,
	    BG_VAULT_ROLE_REQUESTER, mid, &toks, &n)) != BG_OK)
		goto out;
	for (i = 0; i < n && toks[i].id != q->token_id; i++)
		;
	if (i == n) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the credential %s made "
		    "request %lld with is not in force", q->requester,
		    (long long)q->id);
		goto out;
	}
	r = bg_statement_check_request(v, q->id, q->requester, &toks[i]);
out:
	sodium_memzero(salt, sizeof(salt));
	free(toks);
	return r;
}

/*
 * A version sealed under a policy the MSP alone can meet: after the
 * client's exception ended, a release needs a client approver among the
 * approvals.
 */
static int
client_after_exception(bg_vault_t *v, const req_row_t *q,
    const bg_tenant_row_t *t, int64_t now)
{
	bg_chain_link_t *vks = NULL;
	const bg_chain_member_t *m;
	sqlite3_stmt *st = NULL;
	char person[BG_VAULT_NAME_MAX + 1], when[32];
	bool alone = false, client = false, row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = version_keyset(v, q, t, &vks)) != BG_OK ||
	    (r = bg_chain_msp_alone(vks, &alone)) != BG_OK)
		goto out;
	if (!alone || (vks->has_exception && vks->exception_expires > now)) {
		r = BG_OK;
		goto out;
	}
	if ((r = bg_store_cached(v, approvals_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, q->id)) != BG_OK)
		goto out;
	while (!client) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, person, sizeof(person));
		m = bg_chain_member_find(vks, person, BG_CHAIN_ROLE_APPROVER);
		client = m != NULL && m->side == BG_CHAIN_SIDE_CLIENT;
	}
	r = client ? BG_OK : bg_vault_fail(v, BG_ERR_DENIED, "%s/%s v%d was "
	    "sealed under an exception that let the MSP approve alone, which "
	    "ended at %s: a client approver must approve too", q->tenant,
	    q->secret, q->version, bg_vault_fmt_time(vks->exception_expires,
	    when, sizeof(when)));
out:
	bg_store_done(st);
	bg_chain_link_free(&vks);
	return r;
}

static const char *
state_sentence(int state)
{
	switch (state) {
	case BG_VAULT_REQUEST_RELEASED:
		return "was released already; a released version is never "
		    "released again";
	case BG_VAULT_REQUEST_DENIED:	return "was denied";
	case BG_VAULT_REQUEST_EXPIRED:	return "has expired";
	case BG_VAULT_REQUEST_CANCELLED:
		return "was cancelled (withdrawn by its requester, or its "
		    "version rotated)";
	default:			return "is not open";
	}
}

static int
check_open(bg_vault_t *v, const req_row_t *q, int64_t now)
{
	char when[32];

	if (q->state != BG_VAULT_REQUEST_OPEN)
		return bg_vault_fail(v, BG_ERR_STATE, "request %lld %s",
		    (long long)q->id, state_sentence(q->state));
	if (now >= q->deadline)
		return bg_vault_fail(v, BG_ERR_EXPIRED, "request %lld expired "
		    "at %s", (long long)q->id,
		    bg_vault_fmt_time(q->deadline, when, sizeof(when)));
	if (q->vstate != BG_VAULT_VERSION_SEALED)
		return bg_vault_fail(v, BG_ERR_STATE, "%s/%s v%d is %s",
		    q->tenant, q->secret, q->version,
		    bg_vault_version_state_name(q->vstate));
	return BG_OK;
}

static int
exec1(bg_vault_t *v, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, a)) != BG_OK ||
	    (sqlite3_bind_parameter_count(st) >= 2 &&
	    (r = bg_store_bind_int(v, st, 2, b)) != BG_OK))
		goto out;
	r = bg_store_step_done(v, st);
out:
	sqlite3_finalize(st);
	return r;
}

/* Close request id in state, destroying its key material. */
static int
close_request(bg_vault_t *v, int64_t id, int state, int64_t now)
{
	char sql[160];
	int r;

	if ((r = exec1(v, "UPDATE approvals SET resealed = NULL WHERE "
	    "request_id = ?", id, 0)) != BG_OK)
		return r;
	(void)snprintf(sql, sizeof(sql), "UPDATE requests SET state = %d, "
	    "closed_at = ?2, req_sk_sealed = NULL WHERE id = ?1", state);
	return exec1(v, sql, id, now);
}

/* --- request ---------------------------------------------------------------- */

/*
 * bg_act_sign, and when the token holds none of person's credentials,
 * whose credential in the tenant's newest link (or ks2, the link that
 * sealed the version) it does hold, for the refusal.
 */
static int
act_sign(bg_vault_t *v, const bg_chain_link_t *ks, const bg_chain_link_t *ks2,
    bg_token_t *tok, const char *pin, const char *person,
    const bg_token_row_t *creds, size_t n, const uint8_t cdh[32],
    const uint8_t *salt, bg_token_assertion_t **assertp, size_t *whichp)
{
	const bg_chain_link_t *links[2] = { ks, ks2 };
	int r;

	r = bg_act_sign(v, tok, pin, person, creds, n, cdh, salt, assertp,
	    whichp);
	if (r == BG_ERR_TOKEN_NO_CREDENTIAL)
		bg_act_identify(v, tok, pin, links, 2, person);
	return r;
}

/*
 * check: stop where the token would be asked (tok and pin unused),
 * having refused whatever the act would refuse before it, and change
 * nothing (bg_vault_request_check).
 */
static int
request_do(bg_vault_t *v, const char *tenant, const char *secret,
    const char *requester, const char *reason, const char *ticket,
    int64_t ttl, bg_token_t *tok, const char *pin, bool check,
    int64_t *request_idp)
{
	bg_tenant_row_t t;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t shash[BG_VAULT_HASH_LEN], pk[BG_SEAL_PK_LEN];
	uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN], *req_sk = NULL;
	char *body = NULL, *text = NULL, idbuf[24], when[32], sh[65];
	char open_by[BG_VAULT_NAME_MAX + 1] = "";
	char sealer[BG_VAULT_NAME_MAX + 1];
	json_t *det = NULL;
	int64_t now = 0, mid = 0, vid = 0, id = 0, open_id = 0, open_dl = 0;
	size_t ntoks = 0, which = 0;
	int vstate = 0, version = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	if (request_idp != NULL)
		*request_idp = 0;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "requester", requester)) != BG_OK ||
	    (r = bg_vault_check_name(v, "secret name", secret)) != BG_OK ||
	    (r = bg_vault_check_text(v, "reason", reason,
	    BG_VAULT_REASON_MAX)) != BG_OK ||
	    (r = bg_vault_check_text(v, "ticket", ticket,
	    BG_VAULT_TICKET_MAX)) != BG_OK)
		goto out;
	if (!check && (tok == NULL || pin == NULL)) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the requester's "
		    "token and PIN are needed");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if ((r = bg_rekey_open_check(v, &t)) != BG_OK)
		goto out;
	if (ttl <= 0 || ttl > t.max_ttl) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "TTL %lld s is outside "
		    "1..%lld s, the maximum of %s", (long long)ttl,
		    (long long)t.max_ttl, t.name);
		goto out;
	}
	if ((r = bg_member_live(v, t.head, t.id, t.name, requester,
	    BG_VAULT_ROLE_REQUESTER, now, &mid, salt)) != BG_OK ||
	    (r = bg_member_tokens(v, t.head, requester,
	    BG_VAULT_ROLE_REQUESTER, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT x.id, x.state, x.version FROM "
	    "versions x JOIN secrets s ON s.id = x.secret_id WHERE "
	    "s.tenant_id = ? AND s.name = ? AND x.state IN (1, 2) "
	    "ORDER BY x.version DESC LIMIT 1", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, t.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, secret)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no secret '%s/%s'",
		    t.name, secret);
		goto out;
	}
	vid = sqlite3_column_int64(st, 0);
	vstate = sqlite3_column_int(st, 1);
	version = sqlite3_column_int(st, 2);
	sqlite3_finalize(st);
	st = NULL;
	if (vstate != BG_VAULT_VERSION_SEALED) {
		r = bg_vault_fail(v, BG_ERR_STATE, "%s/%s v%d was released "
		    "already (spent); it can be requested again only after "
		    "it is rotated", t.name, secret, version);
		goto out;
	}
	/* Who sealed the value knows it: they may not ask for it. */
	if ((r = bg_seal_check(v, &t, vid, sealer)) != BG_OK)
		goto out;
	if (strcmp(sealer, requester) == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s sealed %s/%s v%d and "
		    "knows its value: another requester asks for it, or "
		    "another operator rotates it first", requester, t.name,
		    secret, version);
		goto out;
	}
	/* One open request per version; expire a stale one first. */
	if ((r = bg_store_prepare(v, "SELECT id, deadline, requester FROM "
	    "requests WHERE version_id = ? AND state = 1", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, vid)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		open_id = sqlite3_column_int64(st, 0);
		open_dl = sqlite3_column_int64(st, 1);
		bg_store_col_text(st, 2, open_by, sizeof(open_by));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (open_id != 0 && open_dl > now) {
		r = bg_vault_fail(v, BG_ERR_STATE, "request %lld is already "
		    "open for %s/%s (deadline %s): continue it (vault approve "
		    "%lld, vault release %lld), or its requester withdraws it "
		    "(vault request withdraw %lld --as %s)", (long long)open_id,
		    t.name, secret, bg_vault_fmt_time(open_dl, when,
		    sizeof(when)), (long long)open_id, (long long)open_id,
		    (long long)open_id, open_by);
		goto out;
	}
	if (check) {
		if ((r = bg_act_check(v, requester, ntoks)) == BG_OK)
			bg_store_rollback(v);
		goto out;
	}
	if (open_id != 0 && (r = close_request(v, open_id,
	    BG_VAULT_REQUEST_EXPIRED, now)) != BG_OK)
		goto out;
	/* The request key exists before the statement, so that the key the
	 * approvers re-seal their shares to is inside what is signed. */
	if ((req_sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_seal_keypair(pk, req_sk)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "INSERT INTO requests (version_id, "
	    "requester, token_id, reason, ticket, ttl, created_at, deadline, "
	    "state, statement, authdata, sig, req_pk) VALUES (?, ?, ?, ?, ?, ?, "
	    "?, ?, 1, '', x'', x'', ?)", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, vid)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, requester)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, toks[0].id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 4, reason)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 5, ticket)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 6, ttl)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 7, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 8, now + t.approval_window))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 9, pk, sizeof(pk))) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	id = sqlite3_last_insert_rowid(v->db);
	if ((r = bg_statement_body(v, id, &body)) != BG_OK ||
	    (r = bg_statement_full(v, body, &text, shash)) != BG_OK)
		goto out;
	bg_statement_cdh("request", text, cdh);
	if ((r = act_sign(v, t.head, NULL, tok, pin, requester, toks, ntoks,
	    cdh, NULL, &as, &which)) != BG_OK)
		goto out;
	/* The request key's private half is only ever sealed to the
	 * requester's membership key of the token just used. */
	(void)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	r = bg_seal_reqkey_seal(v->id, idbuf, req_sk, toks[which].member_pk,
	    sealed);
	sodium_free(req_sk);
	req_sk = NULL;
	if (r != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "UPDATE requests SET token_id = ?, "
	    "statement = ?, authdata = ?, sig = ?, req_sk_sealed = ? "
	    "WHERE id = ? AND req_pk = ?", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, toks[which].id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 3, as->authdata, as->authdata_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 4, as->sig, as->sig_len)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, sealed, sizeof(sealed))) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 6, id)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 7, pk, sizeof(pk))) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	bg_hex(shash, sizeof(shash), sh);
	det = json_pack("{s:I, s:s, s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:I}",
	    "request", (json_int_t)id, "requester", requester,
	    "version", version, "reason", reason, "ticket", ticket,
	    "ttl", (json_int_t)ttl, "deadline",
	    (json_int_t)(now + t.approval_window), "statement_hash", sh,
	    "token", toks[which].label, "sign_count",
	    (json_int_t)as->sign_count);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, requester, "request", t.name, secret, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (open_id != 0)	/* the stale request's key was destroyed */
		(void)bg_store_checkpoint(v);
	if (request_idp != NULL)
		*request_idp = id;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(body);
	free(text);
	free(toks);
	if (req_sk != NULL)
		sodium_free(req_sk);
	bg_token_assertion_free(&as);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, requester, "request", tenant, secret);
}

int
bg_vault_request(bg_vault_t *v, const char *tenant, const char *secret,
    const char *requester, const char *reason, const char *ticket,
    int64_t ttl, bg_token_t *tok, const char *pin, int64_t *request_idp)
{
	return request_do(v, tenant, secret, requester, reason, ticket, ttl,
	    tok, pin, false, request_idp);
}

int
bg_vault_request_check(bg_vault_t *v, const char *tenant, const char *secret,
    const char *requester, const char *reason, const char *ticket,
    int64_t ttl)
{
	return request_do(v, tenant, secret, requester, reason, ticket, ttl,
	    NULL, NULL, true, NULL);
}

/* --- approve / deny --------------------------------------------------------- */

/* Leaves approved so far (have[leaf]) and their names. */
static int
approvals_have(bg_vault_t *v, int64_t request_id, const bg_policy_t *pol,
    bool *have, char *names, size_t cap, size_t *countp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	size_t idx;
	char person[BG_VAULT_NAME_MAX + 1];
	int r = BG_ERR_INTERNAL;

	*countp = 0;
	if (names != NULL && cap > 0)
		names[0] = '\0';
	if ((r = bg_store_cached(v, approvals_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, request_id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, person, sizeof(person));
		if (bg_policy_leaf_index(pol, person, &idx) == BG_OK)
			have[idx] = true;
		if (names != NULL && cap > 0) {
			size_t used = strlen(names);

			(void)snprintf(names + used, cap - used, "%s%s",
			    used > 0 ? ", " : "", person);
		}
		(*countp)++;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/*
 * The leaves of pol who cannot approve request q (cannot[leaf]): its
 * requester, and anyone without a live approver membership of the
 * tenant now.  For the "still missing" sentence only, so it reads the
 * rows the links write, as the listings do; the acts check the chain.
 */
static int
cannot_approve(bg_vault_t *v, const req_row_t *q, const bg_policy_t *pol,
    int64_t now, bool *cannot)
{
	static const char live_sql[] = "SELECT count(*) FROM memberships "
	    "WHERE tenant_id = ?1 AND person = ?2 AND role = 2 AND "
	    "removed_at IS NULL AND expires_at > ?3";
	sqlite3_stmt *st = NULL;
	const char *name;
	size_t i, n = bg_policy_leaf_count(pol);
	bool row = false;
	int r = BG_ERR_INTERNAL;

	for (i = 0; i < n; i++) {
		name = bg_policy_leaf_name(pol, i);
		cannot[i] = name == NULL || strcmp(name, q->requester) == 0;
		if (cannot[i])
			continue;
		if ((r = bg_store_cached(v, live_sql, &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, q->tenant_id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK ||
		    (r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		cannot[i] = !row || sqlite3_column_int64(st, 0) == 0;
		bg_store_done(st);
		st = NULL;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/*
 * What request q still needs, in words (malloc'd), naming only people
 * who can still approve it.
 */
static int
still_missing(bg_vault_t *v, const req_row_t *q, const bg_policy_t *pol,
    const bool *have, int64_t now, char **sentencep)
{
	bool *cannot = NULL;
	int r = BG_ERR_INTERNAL;

	*sentencep = NULL;
	if ((cannot = calloc(bg_policy_leaf_count(pol) + 1,
	    sizeof(*cannot))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = cannot_approve(v, q, pol, now, cannot)) != BG_OK)
		goto out;
	r = bg_policy_missing_except(pol, have, cannot, sentencep);
out:
	free(cannot);
	return r;
}

/* Open approver's share of the version with sk and re-seal it to the
 * request key; resealed gets the blob. */
static int
reseal_share(bg_vault_t *v, const req_row_t *q, const char *approver,
    const bg_token_row_t *tr, size_t leaf, const uint8_t *sk,
    uint8_t *resealed, size_t cap, size_t *lenp)
{
	bg_share_ref_t ref;
	bg_seal_ad_t ad;
	uint8_t *share = NULL;
	char idbuf[24];
	int r = BG_ERR_INTERNAL;

	*lenp = 0;
	if (!q->has_req_pk) {
		r = bg_vault_fail(v, BG_ERR_STATE, "request %lld has no "
		    "request key", (long long)q->id);
		goto out;
	}
	if ((share = sodium_malloc(BG_POLICY_SHARE_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	ref.tenant = q->tenant;
	ref.secret = q->secret;
	ref.version = q->version;
	ref.version_id = q->version_id;
	ref.leaf = leaf;
	ref.binding = q->binding;
	if ((r = bg_share_open(v, &ref, approver, tr, sk, share)) != BG_OK)
		goto out;
	(void)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)q->id);
	if ((r = bg_seal_ad_reshare(&ad, v->id, idbuf, leaf)) != BG_OK)
		goto out;
	r = bg_seal_box(q->req_pk, share, BG_POLICY_SHARE_LEN, ad.buf, ad.len,
	    resealed, cap, lenp);
out:
	if (share != NULL)
		sodium_free(share);	/* sodium_free wipes */
	return r;
}

/*
 * Exposure, counted honestly: once the approvals given to all requests of
 * a version, whatever became of them (denied, expired, withdrawn), meet
 * its policy, the requester's token and a copy of the file can open it
 * without release.  From then the version must be rotated; release still
 * works and deny still stops it, but neither undoes exposure.  A request
 * packet exported to an approver counts as that approver's approval: an
 * approval signed on their machine may be carried back, or kept, by
 * whoever holds the file, whether or not it is ever imported.
 */
static int mark_exposed(bg_vault_t *v, const req_row_t *q,
    const bg_policy_t *pol, int64_t now, json_t *det);

int
bg_request_exposure(bg_vault_t *v, int64_t request_id, int64_t now,
    json_t *det)
{
	req_row_t q;
	bg_policy_t *pol = NULL;
	int r;

	memset(&q, 0, sizeof(q));
	if ((r = req_get(v, request_id, &q)) == BG_OK &&
	    (r = version_policy(v, &q, &pol)) == BG_OK)
		r = mark_exposed(v, &q, pol, now, det);
	bg_policy_free(&pol);
	req_row_clear(&q);
	return r;
}

static int
mark_exposed(bg_vault_t *v, const req_row_t *q, const bg_policy_t *pol,
    int64_t now, json_t *det)
{
	static const char union_sql[] = "SELECT a.person FROM approvals a "
	    "JOIN requests r ON r.id = a.request_id WHERE r.version_id = ?1 "
	    "AND a.decision = 1 UNION SELECT json_extract(e.entry, "
	    "'$.details.for') FROM events e WHERE e.tenant = ?2 AND "
	    "e.action = 'packet.export' AND json_extract(e.entry, "
	    "'$.details.request') IN (SELECT id FROM requests WHERE "
	    "version_id = ?1) ORDER BY 1";
	static const char mark_sql[] = "UPDATE versions SET exposed_at = ? "
	    "WHERE id = ? AND exposed_at IS NULL";
	sqlite3_stmt *st = NULL;
	bool *have = NULL, row = false;
	char who[BG_VAULT_TEXT_MAX], person[BG_VAULT_NAME_MAX + 1];
	size_t idx, used = 0;
	int r = BG_ERR_INTERNAL;

	who[0] = '\0';
	if ((have = calloc(bg_policy_leaf_count(pol), sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_cached(v, union_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, q->version_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, q->tenant)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, person, sizeof(person));
		if (bg_policy_leaf_index(pol, person, &idx) == BG_OK)
			have[idx] = true;
		if (used < sizeof(who))
			used += (size_t)snprintf(who + used, sizeof(who) - used,
			    "%s%s", used > 0 ? ", " : "", person);
	}
	bg_store_done(st);
	st = NULL;
	if (!bg_policy_satisfied(pol, have)) {
		r = BG_OK;
		goto out;
	}
	if ((r = bg_store_cached(v, mark_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, q->version_id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	/* The approval's own event says so: exposed from this moment. */
	if (sqlite3_changes(v->db) > 0 &&
	    (json_object_set_new(det, "exposed", json_true()) != 0 ||
	    json_object_set_new(det, "exposed_by", json_string(who)) != 0))
		r = BG_ERR_NOMEM;
out:
	bg_store_done(st);
	free(have);
	return r;
}

/* --- remote approvals (issue 13): what replaces the touch ---------------- */

static const char export_at_sql[] = "SELECT action, entry FROM events "
    "WHERE seq = ?";
static const char chain_at_sql[] = "SELECT chain FROM events WHERE seq = ?";

/*
 * The statement of an approval packet: the decision body this vault
 * writes for the request now (a statement for another request, another
 * vault or an altered one differs), then the log lines of a size at
 * which a request packet for this request was written for approver:
 * its hash-chain head and Merkle root must be this log's at that size.
 * *exportp gets that export event's details (the sign counters then).
 */
static int
remote_statement(bg_vault_t *v, const req_row_t *q, const char *approver,
    const bg_apppkt_t *pkt, const char *body, char **textp,
    uint8_t shash[BG_VAULT_HASH_LEN], json_t **exportp)
{
	bg_remote_stmt_t s;
	sqlite3_stmt *st = NULL;
	json_t *e = NULL, *d;
	uint8_t signed_h[32], root[32];
	uint64_t size = 0;
	char why[BG_REMOTE_WHY_MAX];
	const char *action;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*textp = NULL;
	*exportp = NULL;
	if (bg_remote_stmt_parse(pkt->statement, true, &s, signed_h, why,
	    sizeof(why)) != BG_OK || s.body_len != strlen(body) ||
	    strncmp(pkt->statement, body, s.body_len) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet's "
		    "statement is not this vault's statement of request %lld "
		    "(another request or vault, or altered)", (long long)q->id);
		goto out;
	}
	if ((r = bg_treelog_size(v, &size)) != BG_OK)
		goto out;
	if (s.log_size == 0 || s.log_size > size) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet names a "
		    "log of %llu events; this vault's has %llu (another vault, "
		    "or this one rolled back)", (unsigned long long)s.log_size,
		    (unsigned long long)size);
		goto out;
	}
	if ((r = bg_store_cached(v, chain_at_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, (int64_t)s.log_size)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row || sqlite3_column_bytes(st, 0) != 32 ||
	    !bg_same(sqlite3_column_blob(st, 0), s.log_head, 32)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet's log "
		    "head is not this log's at %llu events",
		    (unsigned long long)s.log_size);
		goto out;
	}
	bg_store_done(st);
	st = NULL;
	if ((r = bg_treelog_root(v, s.log_size, root)) != BG_OK)
		goto out;
	if (!bg_same(root, s.tree_root, 32)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet's tree "
		    "root is not this log's at %llu events",
		    (unsigned long long)s.log_size);
		goto out;
	}
	/* the log at that size ends with this request's packet for them */
	if ((r = bg_store_cached(v, export_at_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, (int64_t)s.log_size)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	action = row ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (action == NULL || strcmp(action, "packet.export") != 0 ||
	    (e = json_loads((const char *)sqlite3_column_text(st, 1), 0,
	    NULL)) == NULL || (d = json_object_get(e, "details")) == NULL ||
	    json_integer_value(json_object_get(d, "request")) != q->id ||
	    !json_is_string(json_object_get(d, "for")) ||
	    strcmp(json_string_value(json_object_get(d, "for")),
	    approver) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet answers "
		    "no request packet this vault wrote for %s on request %lld",
		    approver, (long long)q->id);
		goto out;
	}
	if ((*textp = strdup(pkt->statement)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	crypto_hash_sha256(shash, (const uint8_t *)pkt->statement,
	    strlen(pkt->statement));
	*exportp = json_incref(d);
	r = BG_OK;
out:
	bg_store_done(st);
	json_decref(e);
	return r;
}

/*
 * The approver's signature in an approval packet, over cdh, by one of
 * the credentials the version's link gives them, with UV.  Sign
 * counters: packets arrive in any order, so the counter must exceed the
 * one this vault held for that credential when it wrote the request
 * packet (recorded in its export event); the stored counter becomes the
 * larger of the two.  A clone's signature made before the export is
 * refused; two packets answered in one order and imported in the other
 * are not.
 */
static int
remote_signed(bg_vault_t *v, const char *approver, const bg_apppkt_t *pkt,
    const bg_token_row_t *toks, size_t n, const uint8_t cdh[32],
    const json_t *export_det, size_t *whichp, uint32_t *countp)
{
	static const char bump_sql[] = "UPDATE tokens SET sign_count = ?1 "
	    "WHERE id = ?2 AND sign_count < ?1";
	sqlite3_stmt *st = NULL;
	const uint8_t *a = pkt->sig.authdata;
	char key[24];
	json_int_t then;
	uint32_t count;
	size_t i;
	int r = BG_ERR_INTERNAL;

	for (i = 0; i < n; i++)
		if (toks[i].cred_id_len == pkt->sig.cred_id_len &&
		    bg_same(toks[i].cred_id, pkt->sig.cred_id,
		    pkt->sig.cred_id_len))
			break;
	if (i == n)
		return bg_vault_fail(v, BG_ERR_AUTH, "the approval packet is "
		    "signed by a credential that is not %s's as approver",
		    approver);
	/* counted only for a token the trust store in force vets, as at
	 * the vault (bg_act_sign) */
	if ((r = bg_act_vetted(v, approver, &toks[i])) != BG_OK)
		return r;
	if ((r = bg_act_verify(v, approver, toks[i].alg, toks[i].pubkey,
	    toks[i].pubkey_len, cdh, pkt->sig.authdata, pkt->sig.authdata_len,
	    pkt->sig.sig, pkt->sig.sig_len)) != BG_OK)
		return r;
	/* verified: authData is at least rpIdHash, flags and counter */
	count = (uint32_t)a[33] << 24 | (uint32_t)a[34] << 16 |
	    (uint32_t)a[35] << 8 | (uint32_t)a[36];
	(void)snprintf(key, sizeof(key), "%lld", (long long)toks[i].id);
	then = json_integer_value(json_object_get(json_object_get(export_det,
	    "sign_counts"), key));
	if (!(count > (uint32_t)then || (count == 0 && then == 0)))
		return bg_vault_fail(v, BG_ERR_TOKEN_COUNTER, "the sign counter "
		    "of %s's token '%s' in the approval packet (%lu) is not past "
		    "the %lu the vault knew when it wrote the request packet: "
		    "the token may have been cloned", approver, toks[i].label,
		    (unsigned long)count, (unsigned long)then);
	if ((r = bg_store_cached(v, bump_sql, &st)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 1, count)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 2, toks[i].id)) == BG_OK)
		r = bg_store_step_done(v, st);
	bg_store_done(st);
	if (r != BG_OK)
		return r;
	(void)snprintf(v->act_owner, sizeof(v->act_owner), "%s", approver);
	(void)snprintf(v->act_token, sizeof(v->act_token), "%s",
	    toks[i].label);
	*whichp = i;
	*countp = count;
	return BG_OK;
}

/*
 * reason: a denial's reason (required for BG_DENY, NULL for approve).
 * check: as in request_do (shown_hash, tok and pin unused).
 * pkt: an approval packet made on the approver's machine (remote.h):
 * every check is the same; its statement and signature stand in for the
 * touch (shown_hash, tok and pin unused) and its re-sealed share for
 * the one opened here.
 */
static int
decide(bg_vault_t *v, int64_t request_id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin, int decision, const char *reason, bool check,
    const bg_apppkt_t *pkt)
{
	const char *action = decision == BG_APPROVE ? "approve" : "deny";
	req_row_t q;
	bg_tenant_row_t t;
	bg_chain_link_t *vks = NULL;
	const bg_chain_member_t *vm;
	bg_policy_t *pol = NULL;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t shash[BG_VAULT_HASH_LEN], *sk = NULL;
	uint8_t resealed[BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD];
	bool *have = NULL, row = false, satisfied = false;
	char *body = NULL, *text = NULL, *missing = NULL, sh[65];
	char obj[2 * BG_VAULT_NAME_MAX + 16], tenant[BG_VAULT_NAME_MAX + 1];
	json_t *det = NULL, *export_det = NULL;
	const uint8_t *ev_ad, *ev_sig;
	size_t ev_adlen, ev_siglen;
	uint32_t ev_count = 0;
	int64_t now = 0, mid = 0;
	size_t ntoks = 0, which = 0, leaf = 0, slen = 0, napp = 0;
	int r = BG_ERR_INTERNAL;

	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	(void)snprintf(obj, sizeof(obj), "request %lld", (long long)request_id);
	tenant[0] = '\0';
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "approver", approver)) != BG_OK)
		goto out;
	if (!check && pkt == NULL && (shown_hash == NULL || tok == NULL ||
	    pin == NULL)) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the statement hash "
		    "shown, the approver's token and PIN are needed");
		goto out;
	}
	/* before the touch: a denial without a usable reason is refused */
	if (decision == BG_DENY && (r = bg_vault_check_text(v,
	    "the reason for denying", reason, BG_VAULT_REASON_MAX)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = req_get(v, request_id, &q)) != BG_OK)
		goto out;
	(void)snprintf(tenant, sizeof(tenant), "%s", q.tenant);
	(void)snprintf(obj, sizeof(obj), "%s", q.secret);
	if ((r = check_open(v, &q, now)) != BG_OK) {
		if (pkt != NULL) {
			char was[BG_VAULT_ERRMSG_MAX];

			(void)snprintf(was, sizeof(was), "%s",
			    bg_vault_errmsg(v));
			r = bg_vault_fail(v, r, "the approval packet is stale: "
			    "%s", was);
		}
		goto out;
	}
	if (strcmp(approver, q.requester) == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is the requester and "
		    "cannot %s", approver, decision == BG_APPROVE ? "approve" :
		    "deny (let the deadline pass instead)");
		goto out;
	}
	/* Live now, by the newest link; the share and its key are those of
	 * the link the version was sealed under. */
	if ((r = bg_tenant_get(v, q.tenant, &t)) != BG_OK ||
	    (r = bg_member_live(v, t.head, q.tenant_id, q.tenant, approver,
	    BG_VAULT_ROLE_APPROVER, now, &mid, salt)) != BG_OK)
		goto out;
	if ((r = version_policy(v, &q, &pol)) != BG_OK ||
	    (r = version_keyset(v, &q, &t, &vks)) != BG_OK ||
	    (r = bg_seal_check(v, &t, q.version_id, NULL)) != BG_OK)
		goto out;
	if ((vm = bg_chain_member_find(vks, approver,
	    BG_CHAIN_ROLE_APPROVER)) == NULL) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s was not an approver "
		    "when %s/%s v%d was sealed", approver, q.tenant, q.secret,
		    q.version);
		goto out;
	}
	memcpy(salt, vm->salt, sizeof(salt));
	if (bg_policy_leaf_index(pol, approver, &leaf) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not named by the "
		    "policy that sealed %s/%s v%d (%s)", approver, q.tenant,
		    q.secret, q.version, q.policy);
		goto out;
	}
	if ((r = bg_store_cached(v, decided_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, q.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, approver)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	bg_store_done(st);
	st = NULL;
	if (row) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, "%s already approved "
		    "request %lld (two tokens of one person count once)",
		    approver, (long long)q.id);
		goto out;
	}
	/* The request is what its requester signed, key and all, before
	 * anything is re-sealed to its key. */
	if ((r = request_signed(v, &t, &q, now)) != BG_OK)
		goto out;
	if (check) {
		if ((r = bg_member_tokens(v, vks, approver,
		    BG_VAULT_ROLE_APPROVER, mid, &toks, &ntoks)) == BG_OK &&
		    (r = bg_act_check(v, approver, ntoks)) == BG_OK)
			bg_store_rollback(v);
		goto out;
	}
	if ((r = bg_statement_decision_body(v, q.id, &body)) != BG_OK)
		goto out;
	if (pkt != NULL) {
		if ((r = remote_statement(v, &q, approver, pkt, body, &text,
		    shash, &export_det)) != BG_OK)
			goto out;
	} else if ((r = bg_statement_full(v, body, &text, shash)) != BG_OK)
		goto out;
	if (pkt == NULL &&
	    memcmp(shash, shown_hash, sizeof(shash)) != 0) { /* public: hash */
		r = bg_vault_fail(v, BG_ERR_STATE, "the statement of request "
		    "%lld changed since it was shown (the audit log moved on); "
		    "show it again", (long long)q.id);
		goto out;
	}
	/* A denial signs its reason too (bg_deny_text), at the vault and on
	 * the approver's machine alike, and the stored statement is what
	 * was signed: whoever carries a denial cannot change why. */
	if (decision != BG_APPROVE) {
		if ((r = bg_deny_text(&text, reason)) != BG_OK)
			goto out;
		/* the event names the hash of what was signed */
		crypto_hash_sha256(shash, (const uint8_t *)text, strlen(text));
	}
	bg_statement_cdh(action, text, cdh);
	if ((r = bg_member_tokens(v, vks, approver, BG_VAULT_ROLE_APPROVER,
	    mid, &toks, &ntoks)) != BG_OK)
		goto out;
	if (pkt != NULL) {
		if ((r = remote_signed(v, approver, pkt, toks, ntoks, cdh,
		    export_det, &which, &ev_count)) != BG_OK)
			goto out;
		if (pkt->leaf != leaf || (decision == BG_APPROVE &&
		    pkt->resealed_len != sizeof(resealed))) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet's "
			    "share is for another leaf or malformed");
			goto out;
		}
		ev_ad = pkt->sig.authdata;
		ev_adlen = pkt->sig.authdata_len;
		ev_sig = pkt->sig.sig;
		ev_siglen = pkt->sig.sig_len;
		if (decision == BG_APPROVE) {
			memcpy(resealed, pkt->resealed, sizeof(resealed));
			slen = sizeof(resealed);
		}
	} else {
		if ((r = act_sign(v, t.head, vks, tok, pin, approver, toks,
		    ntoks, cdh, decision == BG_APPROVE ? salt : NULL, &as,
		    &which)) != BG_OK)
			goto out;
		ev_ad = as->authdata;
		ev_adlen = as->authdata_len;
		ev_sig = as->sig;
		ev_siglen = as->sig_len;
		ev_count = as->sign_count;
	}
	if (pkt == NULL && decision == BG_APPROVE) {
		if ((r = bg_member_sk(v, approver, &toks[which], as, &sk))
		    != BG_OK)
			goto out;
		r = reseal_share(v, &q, approver, &toks[which], leaf, sk,
		    resealed, sizeof(resealed), &slen);
		sodium_free(sk);
		sk = NULL;
		if (r != BG_OK)
			goto out;
	}
	if ((r = bg_store_cached(v, approval_insert_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, q.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, approver)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, toks[which].id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, (int64_t)leaf)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 5, decision)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 6, now)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 7, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, ev_ad, ev_adlen)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 9, ev_sig, ev_siglen)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 10, decision == BG_APPROVE ?
	    resealed : NULL, slen)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	bg_store_done(st);
	st = NULL;
	if (decision == BG_DENY &&
	    (r = close_request(v, q.id, BG_VAULT_REQUEST_DENIED, now)) != BG_OK)
		goto out;

	if ((have = calloc(bg_policy_leaf_count(pol), sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = approvals_have(v, q.id, pol, have, NULL, 0, &napp)) != BG_OK)
		goto out;
	satisfied = bg_policy_satisfied(pol, have);
	if ((r = still_missing(v, &q, pol, have, now, &missing)) != BG_OK)
		goto out;
	bg_hex(shash, sizeof(shash), sh);
	det = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:I, s:b, s:s}",
	    "request", (json_int_t)q.id, "approver", approver, "requester",
	    q.requester, "leaf", (json_int_t)leaf, "statement_hash", sh,
	    "token", toks[which].label, "sign_count",
	    (json_int_t)ev_count, "satisfied", satisfied,
	    "missing", satisfied ? "" : missing);
	if (det == NULL || (decision == BG_DENY && json_object_set_new(det,
	    "reason", json_string(reason)) != 0) || (pkt != NULL &&
	    json_object_set_new(det, "remote", json_true()) != 0)) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (decision == BG_APPROVE &&
	    (r = mark_exposed(v, &q, pol, now, det)) != BG_OK)
		goto out;
	r = bg_audit_append(v, now, approver, action, q.tenant, q.secret, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (decision == BG_DENY)
		(void)bg_store_checkpoint(v);
	r = BG_OK;
out:
	bg_store_done(st);
	json_decref(det);
	free(missing);
	free(have);
	json_decref(export_det);
	if (sk != NULL)
		sodium_free(sk);
	free(body);
	free(text);
	free(toks);
	bg_token_assertion_free(&as);
	bg_policy_free(&pol);
	bg_chain_link_free(&vks);
	bg_tenant_row_clear(&t);
	req_row_clear(&q);
	return bg_vault_finish(v, r, approver, action, tenant, obj);
}

int
bg_vault_approve(bg_vault_t *v, int64_t request_id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin)
{
	return decide(v, request_id, approver, shown_hash, tok, pin,
	    BG_APPROVE, NULL, false, NULL);
}

int
bg_vault_approve_check(bg_vault_t *v, int64_t request_id,
    const char *approver)
{
	return decide(v, request_id, approver, NULL, NULL, NULL, BG_APPROVE,
	    NULL, true, NULL);
}

int
bg_vault_deny_check(bg_vault_t *v, int64_t request_id, const char *approver,
    const char *reason)
{
	return decide(v, request_id, approver, NULL, NULL, NULL, BG_DENY,
	    reason, true, NULL);
}

int
bg_vault_deny(bg_vault_t *v, int64_t request_id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin, const char *reason)
{
	return decide(v, request_id, approver, shown_hash, tok, pin, BG_DENY,
	    reason, false, NULL);
}

int
bg_vault_packet_import(bg_vault_t *v, const char *text, size_t len,
    int64_t *request_idp, int *decisionp)
{
	bg_apppkt_t *pkt = NULL;
	char why[BG_REMOTE_WHY_MAX];
	int r = BG_ERR_INTERNAL;

	if (request_idp != NULL)
		*request_idp = 0;
	if (decisionp != NULL)
		*decisionp = 0;
	bg_vault_clear_err(v);
	if ((r = bg_apppkt_parse(text, len, &pkt, why, sizeof(why))) !=
	    BG_OK) {
		r = bg_vault_fail(v, r, "not an approval packet: %s", why);
		goto out;
	}
	if ((r = bg_chain_require_genesis(v)) != BG_OK)
		goto out;
	if (strcmp(pkt->vault_id, v->id) != 0 ||
	    !bg_same(pkt->genesis, v->genesis_hash, 32)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the approval packet is for "
		    "another vault (%s), not this one (%s)", pkt->vault_id,
		    v->id);
		goto out;
	}
	if (request_idp != NULL)
		*request_idp = pkt->request;
	if (decisionp != NULL)
		*decisionp = pkt->decision;
	r = decide(v, pkt->request, pkt->person, NULL, NULL, NULL,
	    pkt->decision == BG_REMOTE_APPROVE ? BG_APPROVE : BG_DENY,
	    pkt->decision == BG_REMOTE_DENY ? pkt->reason : NULL, false, pkt);
out:
	bg_apppkt_free(&pkt);
	return r;
}

/* --- release ---------------------------------------------------------------- */

/*
 * Check every approval's stored evidence (the approver's assertion over
 * this request's statement) and open its re-sealed share with the request
 * key into leaf_shares.  An approval row copied from another request fails
 * here twice over: its statement names the other request, and its share
 * is sealed to the other request's key with the other request's id.
 */
static int
collect_shares(bg_vault_t *v, const req_row_t *q, const char *body,
    const bg_policy_t *pol, const uint8_t *req_sk, bool *have,
    uint8_t *leaf_shares)
{
	sqlite3_stmt *st = NULL;
	bg_seal_ad_t ad;
	uint8_t cdh[BG_TOKEN_CDH_LEN];
	char person[BG_VAULT_NAME_MAX + 1], idbuf[24];
	const char *stmt, *lname;
	size_t leaf, plen = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL, vr;

	(void)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)q->id);
	if ((r = bg_store_cached(v, evidence_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, q->id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, person, sizeof(person));
		leaf = (size_t)sqlite3_column_int64(st, 1);
		stmt = (const char *)sqlite3_column_text(st, 2);
		lname = bg_policy_leaf_name(pol, leaf);
		if (lname == NULL || strcmp(lname, person) != 0 ||
		    strcmp(person, q->requester) == 0 || stmt == NULL ||
		    strncmp(stmt, body, strlen(body)) != 0) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the approval by %s "
			    "does not belong to request %lld: the database was "
			    "altered", person, (long long)q->id);
			goto out;
		}
		bg_statement_cdh("approve", stmt, cdh);
		vr = bg_token_verify(sqlite3_column_int(st, 6),
		    sqlite3_column_blob(st, 7),
		    (size_t)sqlite3_column_bytes(st, 7), v->rp_id, cdh,
		    sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3),
		    sqlite3_column_blob(st, 4),
		    (size_t)sqlite3_column_bytes(st, 4), true);
		if (vr != BG_OK) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the signed evidence "
			    "of %s's approval does not verify: the database "
			    "was altered", person);
			goto out;
		}
		if ((r = bg_seal_ad_reshare(&ad, v->id, idbuf, leaf)) != BG_OK)
			goto out;
		if (sqlite3_column_type(st, 5) == SQLITE_NULL ||
		    bg_seal_box_open(req_sk, q->req_pk,
		    sqlite3_column_blob(st, 5),
		    (size_t)sqlite3_column_bytes(st, 5), ad.buf, ad.len,
		    leaf_shares + leaf * BG_POLICY_SHARE_LEN,
		    BG_POLICY_SHARE_LEN, &plen) != BG_OK ||
		    plen != BG_POLICY_SHARE_LEN) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the share %s "
			    "re-sealed for request %lld does not open: it was "
			    "altered or belongs elsewhere", person,
			    (long long)q->id);
			goto out;
		}
		have[leaf] = true;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/*
 * A release appends its event to the log an auditor will rely on; on a log
 * that contradicts what the vault has signed, that event would vouch for
 * nothing.  So the stored tree must extend the newest signed tree head
 * (bg_treelog_check_tip: O(log n), not the whole log, which at a million
 * events took over a minute; every append checks the same, this says why
 * a release is refused).  Rows edited in place are left to `vault audit
 * verify`: the signed heads still commit to their original hashes.
 */
static int
release_log_intact(bg_vault_t *v)
{
	char why[BG_VAULT_TEXT_MAX];
	int r;

	if ((r = bg_treelog_check_tip(v)) == BG_OK)
		return BG_OK;
	(void)snprintf(why, sizeof(why), "%s", bg_vault_errmsg(v));
	return bg_vault_fail(v, r == BG_ERR_NOMEM ? r : BG_ERR_DB_CORRUPT,
	    "the audit log does not verify (%s); refusing to release: "
	    "investigate with 'vault audit verify' and restore the vault "
	    "from a backup", why);
}

/*
 * What release and withdraw both begin with: the requester's name, their
 * token and PIN unless only checking, the transaction, the clock, the
 * request, and that the request is theirs.  verb names the act in the
 * refusal.  The request's tenant and secret are copied for the event.
 */
static int
requester_begin(bg_vault_t *v, int64_t request_id, const char *requester,
    const bg_token_t *tok, const char *pin, bool check, const char *verb,
    req_row_t *q, int64_t *nowp, char *tenant, size_t tenantlen, char *obj,
    size_t objlen)
{
	int r;

	if ((r = bg_vault_check_name(v, "requester", requester)) != BG_OK)
		return r;
	if (!check && (tok == NULL || pin == NULL))
		return bg_vault_fail(v, BG_ERR_INVALID_ARG, "the requester's "
		    "token and PIN are needed");
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, nowp)) != BG_OK ||
	    (r = req_get(v, request_id, q)) != BG_OK)
		return r;
	(void)snprintf(tenant, tenantlen, "%s", q->tenant);
	(void)snprintf(obj, objlen, "%s", q->secret);
	if (strcmp(requester, q->requester) != 0)
		return bg_vault_fail(v, BG_ERR_DENIED, "only the requester "
		    "(%s) can %s request %lld", q->requester, verb,
		    (long long)q->id);
	return BG_OK;
}

/* check: as in request_do (tok, pin, valuep and lenp unused). */
static int
release_do(bg_vault_t *v, int64_t request_id, const char *requester,
    bg_token_t *tok, const char *pin, bool check, uint8_t **valuep,
    size_t *lenp)
{
	req_row_t q;
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL;
	bg_token_row_t *toks = NULL, *mine = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	bg_seal_ad_t ad;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN], commit[32];
	uint8_t *sk = NULL, *req_sk = NULL, *shares = NULL, *key = NULL;
	uint8_t *guard = NULL;
	uint8_t *val = NULL;
	bool *have = NULL;
	char *body = NULL, *text = NULL, *missing = NULL, idbuf[24];
	char obj[2 * BG_VAULT_NAME_MAX + 16], tenant[BG_VAULT_NAME_MAX + 1];
	char names[BG_VAULT_TEXT_MAX];
	json_t *det = NULL;
	int64_t now = 0, mid = 0;
	size_t i, ntoks = 0, which = 0, nleaves = 0, plen = 0, vlen = 0;
	size_t napp = 0;
	int r = BG_ERR_INTERNAL;

	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	if (valuep != NULL)
		*valuep = NULL;
	if (lenp != NULL)
		*lenp = 0;
	(void)snprintf(obj, sizeof(obj), "request %lld", (long long)request_id);
	tenant[0] = '\0';
	bg_vault_clear_err(v);
	if (!check && (valuep == NULL || lenp == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = requester_begin(v, request_id, requester, tok, pin, check,
	    "release", &q, &now, tenant, sizeof(tenant), obj, sizeof(obj))) !=
	    BG_OK)
		goto out;
	if ((r = check_open(v, &q, now)) != BG_OK)
		goto out;
	if ((r = bg_tenant_get(v, q.tenant, &t)) != BG_OK ||
	    (r = bg_member_live(v, t.head, q.tenant_id, q.tenant, requester,
	    BG_VAULT_ROLE_REQUESTER, now, &mid, salt)) != BG_OK)
		goto out;
	if ((r = release_log_intact(v)) != BG_OK)
		goto out;
	/* The value and the key commitment are what an operator sealed. */
	if ((r = bg_seal_check(v, &t, q.version_id, NULL)) != BG_OK ||
	    (r = version_policy(v, &q, &pol)) != BG_OK)
		goto out;
	nleaves = bg_policy_leaf_count(pol);
	if ((have = calloc(nleaves, sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* Quorum first, by the rows; the shares prove it below. */
	if ((r = approvals_have(v, q.id, pol, have, names, sizeof(names),
	    &napp)) != BG_OK)
		goto out;
	if (!bg_policy_satisfied(pol, have)) {
		if ((r = still_missing(v, &q, pol, have, now, &missing)) !=
		    BG_OK)
			goto out;
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s", missing);
		goto out;
	}
	if ((r = client_after_exception(v, &q, &t, now)) != BG_OK)
		goto out;
	memset(have, 0, nleaves * sizeof(*have));
	/* The request key was sealed to the token used for the request. */
	if ((r = bg_member_tokens(v, t.head, requester,
	    BG_VAULT_ROLE_REQUESTER, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	for (i = 0; i < ntoks; i++)
		if (toks[i].id == q.token_id)
			mine = &toks[i];
	if (mine == NULL) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "the token %s used for "
		    "request %lld is no longer enrolled", requester,
		    (long long)q.id);
		goto out;
	}
	if ((r = bg_statement_check_request(v, q.id, q.requester, mine)) !=
	    BG_OK ||
	    (r = bg_statement_decision_body(v, q.id, &body)) != BG_OK ||
	    (r = bg_statement_full(v, body, &text, NULL)) != BG_OK)
		goto out;
	if (check) {
		bg_store_rollback(v);
		r = BG_OK;
		goto out;
	}
	bg_statement_cdh("release", text, cdh);
	if ((r = act_sign(v, t.head, NULL, tok, pin, requester, mine, 1, cdh,
	    salt, &as, &which)) != BG_OK)
		goto out;
	if ((r = bg_member_sk(v, requester, mine, as, &sk)) != BG_OK)
		goto out;
	/* Request key, shares and data key share one guarded region. */
	if ((guard = sodium_malloc(BG_SEAL_SK_LEN + BG_SEAL_KEY_LEN +
	    nleaves * BG_POLICY_SHARE_LEN)) == NULL ||
	    (val = sodium_malloc(q.value_blob_len + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	req_sk = guard;
	key = guard + BG_SEAL_SK_LEN;
	shares = key + BG_SEAL_KEY_LEN;
	(void)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)q.id);
	if ((r = bg_seal_ad_reqkey(&ad, v->id, idbuf)) != BG_OK)
		goto out;
	if (q.req_sk_sealed == NULL || !q.has_req_pk ||
	    bg_seal_box_open(sk, mine->member_pk, q.req_sk_sealed,
	    q.req_sk_sealed_len, ad.buf, ad.len, req_sk, BG_SEAL_SK_LEN,
	    &plen) != BG_OK || plen != BG_SEAL_SK_LEN) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the request key of request "
		    "%lld does not open: it was altered or belongs elsewhere",
		    (long long)q.id);
		goto out;
	}
	sodium_free(sk);
	sk = NULL;
	if ((r = collect_shares(v, &q, body, pol, req_sk, have, shares))
	    != BG_OK)
		goto out;
	sodium_memzero(req_sk, BG_SEAL_SK_LEN);
	if ((r = bg_policy_combine(pol, have, shares, key)) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "the approvals that opened "
		    "do not satisfy the policy that sealed %s/%s v%d",
		    q.tenant, q.secret, q.version);
		goto out;
	}
	sodium_memzero(shares, nleaves * BG_POLICY_SHARE_LEN);
	if ((r = bg_seal_key_commit(v->id, q.tenant, q.secret,
	    (uint64_t)q.version, key, commit)) != BG_OK)
		goto out;
	if (sodium_memcmp(commit, q.key_commit, sizeof(commit)) != 0) {
		sodium_memzero(key, BG_SEAL_KEY_LEN);
		r = bg_vault_fail(v, BG_ERR_AUTH, "the shares of %s/%s v%d do "
		    "not rebuild its data key (a share or a re-key's sub-share "
		    "was wrong): the version cannot be opened; rotate it",
		    q.tenant, q.secret, q.version);
		goto out;
	}
	if ((r = bg_seal_ad_value(&ad, v->id, q.tenant, q.secret,
	    (uint64_t)q.version, BG_SEAL_NO_POLICY)) != BG_OK)
		goto out;
	r = bg_seal_value_open(key, q.value_blob, q.value_blob_len, ad.buf,
	    ad.len, val, q.value_blob_len, &vlen);
	sodium_memzero(key, BG_SEAL_KEY_LEN);
	if (r != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the value of %s/%s v%d does "
		    "not open with the key the approvals rebuilt: it was "
		    "altered or belongs elsewhere", q.tenant, q.secret,
		    q.version);
		goto out;
	}
	val[vlen] = '\0';
	/* One transaction: spent, lease, key material destroyed, event. */
	if ((r = bg_store_prepare(v, "UPDATE versions SET state = 2, "
	    "released_at = ?, lease_until = ? WHERE id = ? AND state = 1",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, now + q.ttl)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, q.version_id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if (sqlite3_changes(v->db) != 1) {
		r = bg_vault_fail(v, BG_ERR_STATE, "%s/%s v%d is no longer "
		    "sealed", q.tenant, q.secret, q.version);
		goto out;
	}
	if ((r = close_request(v, q.id, BG_VAULT_REQUEST_RELEASED, now))
	    != BG_OK)
		goto out;
	det = json_pack("{s:I, s:s, s:i, s:I, s:I, s:s, s:s, s:I}",
	    "request", (json_int_t)q.id, "requester", requester, "version",
	    q.version, "ttl", (json_int_t)q.ttl, "lease_until",
	    (json_int_t)(now + q.ttl), "approvers", names, "token",
	    mine->label, "sign_count", (json_int_t)as->sign_count);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, requester, "release", q.tenant, q.secret,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	(void)bg_store_checkpoint(v);
	*valuep = val;
	*lenp = vlen;
	val = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	if (sk != NULL)
		sodium_free(sk);
	if (guard != NULL)
		sodium_free(guard);	/* wipes req_sk, key, shares */
	if (val != NULL)
		sodium_free(val);
	free(missing);
	free(have);
	free(body);
	free(text);
	free(toks);
	bg_token_assertion_free(&as);
	bg_policy_free(&pol);
	bg_tenant_row_clear(&t);
	req_row_clear(&q);
	return bg_vault_finish(v, r, requester, "release", tenant, obj);
}

int
bg_vault_release(bg_vault_t *v, int64_t request_id, const char *requester,
    bg_token_t *tok, const char *pin, uint8_t **valuep, size_t *lenp)
{
	return release_do(v, request_id, requester, tok, pin, false, valuep,
	    lenp);
}

int
bg_vault_release_check(bg_vault_t *v, int64_t request_id,
    const char *requester)
{
	return release_do(v, request_id, requester, NULL, NULL, true, NULL,
	    NULL);
}

/* --- withdraw --------------------------------------------------------------- */

/*
 * The requester takes back an open request: their token signs the
 * statement release would sign, with kind "withdraw", and in one
 * transaction the request is closed as cancelled, its request key and
 * re-sealed shares destroyed, and the event logged.  Approvals already
 * given stay: they still count toward the version's exposure
 * (mark_exposed), so withdrawing undoes nothing a copy of the file and
 * the requester's token could already open.
 */
/* check: as in request_do (tok and pin unused). */
static int
withdraw_do(bg_vault_t *v, int64_t request_id, const char *requester,
    bg_token_t *tok, const char *pin, bool check)
{
	req_row_t q;
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t shash[BG_VAULT_HASH_LEN];
	bool *have = NULL;
	char *body = NULL, *text = NULL, names[BG_VAULT_TEXT_MAX], sh[65];
	char obj[2 * BG_VAULT_NAME_MAX + 16], tenant[BG_VAULT_NAME_MAX + 1];
	char when[32];
	json_t *det = NULL;
	int64_t now = 0, mid = 0;
	size_t ntoks = 0, which = 0, napp = 0;
	int r = BG_ERR_INTERNAL;

	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	(void)snprintf(obj, sizeof(obj), "request %lld", (long long)request_id);
	tenant[0] = '\0';
	names[0] = '\0';
	bg_vault_clear_err(v);
	if ((r = requester_begin(v, request_id, requester, tok, pin, check,
	    "withdraw", &q, &now, tenant, sizeof(tenant), obj, sizeof(obj))) !=
	    BG_OK)
		goto out;
	if (q.state != BG_VAULT_REQUEST_OPEN) {
		r = bg_vault_fail(v, BG_ERR_STATE, "request %lld %s: there is "
		    "nothing to withdraw", (long long)q.id,
		    state_sentence(q.state));
		goto out;
	}
	if (now >= q.deadline) {
		r = bg_vault_fail(v, BG_ERR_EXPIRED, "request %lld expired at "
		    "%s: there is nothing to withdraw (a new request closes "
		    "it)", (long long)q.id, bg_vault_fmt_time(q.deadline, when,
		    sizeof(when)));
		goto out;
	}
	/* Any credential of the requester in force signs: the request key
	 * is destroyed, never opened, so it need not be the request's. */
	if ((r = bg_tenant_get(v, q.tenant, &t)) != BG_OK ||
	    (r = bg_member_live(v, t.head, q.tenant_id, q.tenant, requester,
	    BG_VAULT_ROLE_REQUESTER, now, &mid, salt)) != BG_OK ||
	    (r = bg_member_tokens(v, t.head, requester,
	    BG_VAULT_ROLE_REQUESTER, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	sodium_memzero(salt, sizeof(salt));
	if (check) {
		if ((r = bg_act_check(v, requester, ntoks)) == BG_OK)
			bg_store_rollback(v);
		goto out;
	}
	if ((r = bg_statement_decision_body(v, q.id, &body)) != BG_OK ||
	    (r = bg_statement_full(v, body, &text, shash)) != BG_OK)
		goto out;
	bg_statement_cdh("withdraw", text, cdh);
	if ((r = act_sign(v, t.head, NULL, tok, pin, requester, toks, ntoks,
	    cdh, NULL, &as, &which)) != BG_OK)
		goto out;
	/* Who had approved, for the event: their approvals still count. */
	if ((r = version_policy(v, &q, &pol)) != BG_OK)
		goto out;
	if ((have = calloc(bg_policy_leaf_count(pol), sizeof(*have))) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = approvals_have(v, q.id, pol, have, names, sizeof(names),
	    &napp)) != BG_OK)
		goto out;
	if ((r = close_request(v, q.id, BG_VAULT_REQUEST_CANCELLED, now)) !=
	    BG_OK)
		goto out;
	bg_hex(shash, sizeof(shash), sh);
	det = json_pack("{s:I, s:s, s:i, s:s, s:s, s:I, s:s}",
	    "request", (json_int_t)q.id, "requester", requester, "version",
	    q.version, "approvers", names, "statement_hash", sh, "sign_count",
	    (json_int_t)as->sign_count, "token", toks[which].label);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, requester, "withdraw", q.tenant, q.secret,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	(void)bg_store_checkpoint(v);	/* the request key's bytes go */
	r = BG_OK;
out:
	json_decref(det);
	sodium_memzero(salt, sizeof(salt));
	free(have);
	free(body);
	free(text);
	free(toks);
	bg_token_assertion_free(&as);
	bg_policy_free(&pol);
	bg_tenant_row_clear(&t);
	req_row_clear(&q);
	return bg_vault_finish(v, r, requester, "withdraw", tenant, obj);
}

int
bg_vault_request_withdraw(bg_vault_t *v, int64_t request_id,
    const char *requester, bg_token_t *tok, const char *pin)
{
	return withdraw_do(v, request_id, requester, tok, pin, false);
}

int
bg_vault_request_withdraw_check(bg_vault_t *v, int64_t request_id,
    const char *requester)
{
	return withdraw_do(v, request_id, requester, NULL, NULL, true);
}

/* --- views ------------------------------------------------------------------ */

static int
request_fill(bg_vault_t *v, int64_t id, int64_t now,
    bg_vault_request_info_t *ri)
{
	req_row_t q;
	bg_policy_t *pol = NULL;
	sqlite3_stmt *st = NULL;
	bool *have = NULL, row = false;
	char *missing = NULL;
	int r = BG_ERR_INTERNAL;

	memset(ri, 0, sizeof(*ri));
	if ((r = req_get(v, id, &q)) != BG_OK)
		goto out;
	ri->id = q.id;
	(void)snprintf(ri->tenant, sizeof(ri->tenant), "%s", q.tenant);
	(void)snprintf(ri->secret, sizeof(ri->secret), "%s", q.secret);
	ri->version = q.version;
	(void)snprintf(ri->requester, sizeof(ri->requester), "%s",
	    q.requester);
	ri->ttl = q.ttl;
	ri->created_at = q.created_at;
	ri->deadline = q.deadline;
	ri->state = q.state;
	if (q.state == BG_VAULT_REQUEST_OPEN && now >= q.deadline)
		ri->state = BG_VAULT_REQUEST_EXPIRED;
	(void)snprintf(ri->policy, sizeof(ri->policy), "%s", q.policy);
	if ((r = bg_store_prepare(v, "SELECT reason, ticket, "
	    "coalesce(closed_at, 0), (SELECT person FROM approvals WHERE "
	    "request_id = q.id AND decision = 2), "
	    /* The reason is not signed by the token: it lives in the event. */
	    "(SELECT json_extract(entry, '$.details.reason') FROM events "
	    "WHERE action = 'deny' AND tenant = ?2 AND "
	    "json_extract(entry, '$.details.request') = q.id) "
	    "FROM requests q WHERE id = ?1",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, q.tenant)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		bg_store_col_text(st, 0, ri->reason, sizeof(ri->reason));
		bg_store_col_text(st, 1, ri->ticket, sizeof(ri->ticket));
		ri->closed_at = sqlite3_column_int64(st, 2);
		bg_store_col_text(st, 3, ri->denied_by, sizeof(ri->denied_by));
		bg_store_col_text(st, 4, ri->deny_reason,
		    sizeof(ri->deny_reason));
	}
	if (bg_policy_parse(q.policy, &pol, NULL) != BG_OK) {
		(void)snprintf(ri->missing, sizeof(ri->missing),
		    "the sealing policy does not parse");
		r = BG_OK;
		goto out;
	}
	if ((have = calloc(bg_policy_leaf_count(pol), sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = approvals_have(v, id, pol, have, ri->approved_by,
	    sizeof(ri->approved_by), &ri->n_approvals)) != BG_OK)
		goto out;
	ri->satisfied = bg_policy_satisfied(pol, have);
	if (!ri->satisfied) {
		if ((r = still_missing(v, &q, pol, have, now, &missing)) !=
		    BG_OK)
			goto out;
		(void)snprintf(ri->missing, sizeof(ri->missing), "%s", missing);
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(missing);
	free(have);
	bg_policy_free(&pol);
	req_row_clear(&q);
	return r;
}

int
bg_vault_request_show(bg_vault_t *v, int64_t request_id,
    bg_vault_request_info_t **infop)
{
	bg_vault_request_info_t *ri = NULL;
	int r = BG_ERR_INTERNAL;

	if (infop == NULL)
		return BG_ERR_INVALID_ARG;
	*infop = NULL;
	bg_vault_clear_err(v);
	if ((ri = calloc(1, sizeof(*ri))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = request_fill(v, request_id, bg_vault_read_now(v), ri))
	    != BG_OK)
		goto out;
	*infop = ri;
	ri = NULL;
	r = BG_OK;
out:
	free(ri);
	return bg_vault_fail_default(v, r);
}

int
bg_vault_request_list(bg_vault_t *v, const char *tenant, bool open_only,
    bg_vault_request_info_t **listp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_vault_request_info_t *l = NULL, *nl;
	size_t n = 0;
	int64_t now = bg_vault_read_now(v);
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (listp == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	*listp = NULL;
	*np = 0;
	bg_vault_clear_err(v);
	if ((r = bg_store_prepare(v, "SELECT q.id FROM requests q "
	    "JOIN versions x ON x.id = q.version_id "
	    "JOIN secrets s ON s.id = x.secret_id "
	    "JOIN tenants t ON t.id = s.tenant_id "
	    "WHERE (?1 IS NULL OR t.name = ?1) AND "
	    "(?2 = 0 OR (q.state = 1 AND q.deadline > ?3)) ORDER BY q.id",
	    &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, open_only)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((nl = reallocarray(l, n + 1, sizeof(*l))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		l = nl;
		if ((r = request_fill(v, sqlite3_column_int64(st, 0), now,
		    &l[n])) != BG_OK)
			goto out;
		n++;
	}
	*listp = l;
	*np = n;
	l = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(l);
	return bg_vault_fail_default(v, r);
}

void
bg_vault_request_free(bg_vault_request_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}
