/*
 * The re-key ceremony (vault_lifecycle.h): a policy change for a tenant
 * that holds sealed material works like a request whose "release"
 * re-splits instead of printing.  The proposer's token holds the
 * proposal key; approvers meeting the OLD policy re-seal their leaf
 * shares of every sealed and pending version to it; the commit rebuilds
 * each data key, seals the value under a fresh one split by the new
 * policy, and switches the policy, all in one transaction.
 *
 * Associated data re-uses seal.h's builders with ids that cannot collide
 * with request ids: the proposal key is bound to "rekey:N", an interim
 * share to "rekey:N:version:V" and its leaf index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lifecycle_int.h"
#include "policy.h"
#include "seal.h"
#include "vault_int.h"

const char *
bg_vault_rekey_state_name(int state)
{
	switch (state) {
	case BG_VAULT_REKEY_OPEN:	return "open";
	case BG_VAULT_REKEY_COMMITTED:	return "committed";
	case BG_VAULT_REKEY_ABORTED:	return "aborted";
	case BG_VAULT_REKEY_EXPIRED:	return "expired";
	default:			return "?";
	}
}

typedef struct rk_row {
	int64_t	 id, tenant_id, token_id, created_at, deadline, closed_at;
	int	 state;
	bool	 lowers;
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 proposer[BG_VAULT_NAME_MAX + 1];
	char	*old_policy, *new_policy, *body;
	uint8_t	 old_hash[BG_POLICY_HASH_LEN], new_hash[BG_POLICY_HASH_LEN];
	uint8_t	 new_keyset[BG_VAULT_HASH_LEN];
	uint8_t	 rk_pk[BG_SEAL_PK_LEN];
	bool	 has_pk;
	uint8_t	*rk_sk_sealed;	size_t rk_sk_sealed_len;
} rk_row_t;

static void
rk_row_clear(rk_row_t *k)
{
	free(k->old_policy);
	free(k->new_policy);
	free(k->body);
	free(k->rk_sk_sealed);
	memset(k, 0, sizeof(*k));
}

static int
col_dup(sqlite3_stmt *st, int i, char **p)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	*p = NULL;
	if (s == NULL)
		s = (const unsigned char *)"";
	if ((*p = strdup((const char *)s)) == NULL)
		return BG_ERR_NOMEM;
	return BG_OK;
}

static int
col_fixed(bg_vault_t *v, sqlite3_stmt *st, int i, uint8_t *out, size_t n)
{
	if (sqlite3_column_bytes(st, i) != (int)n)
		return bg_vault_fail(v, BG_ERR_DB_CORRUPT, "a re-key proposal "
		    "row is malformed");
	memcpy(out, sqlite3_column_blob(st, i), n);
	return BG_OK;
}

static int
rk_get(bg_vault_t *v, int64_t id, rk_row_t *k)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(k, 0, sizeof(*k));
	if ((r = bg_store_prepare(v, "SELECT k.id, k.tenant_id, t.name, "
	    "k.proposer, k.token_id, k.old_policy, k.old_policy_hash, "
	    "k.new_policy, k.new_policy_hash, k.new_keyset, k.lowers, "
	    "k.created_at, k.deadline, k.state, coalesce(k.closed_at, 0), "
	    "k.body, k.rk_pk, k.rk_sk_sealed FROM rekeys k JOIN tenants t "
	    "ON t.id = k.tenant_id WHERE k.id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no re-key proposal %lld",
		    (long long)id);
		goto out;
	}
	k->id = sqlite3_column_int64(st, 0);
	k->tenant_id = sqlite3_column_int64(st, 1);
	bg_store_col_text(st, 2, k->tenant, sizeof(k->tenant));
	bg_store_col_text(st, 3, k->proposer, sizeof(k->proposer));
	k->token_id = sqlite3_column_int64(st, 4);
	if ((r = col_dup(st, 5, &k->old_policy)) != BG_OK ||
	    (r = col_fixed(v, st, 6, k->old_hash, sizeof(k->old_hash)))
	    != BG_OK ||
	    (r = col_dup(st, 7, &k->new_policy)) != BG_OK ||
	    (r = col_fixed(v, st, 8, k->new_hash, sizeof(k->new_hash)))
	    != BG_OK ||
	    (r = col_fixed(v, st, 9, k->new_keyset, sizeof(k->new_keyset)))
	    != BG_OK)
		goto out;
	k->lowers = sqlite3_column_int(st, 10) != 0;
	k->created_at = sqlite3_column_int64(st, 11);
	k->deadline = sqlite3_column_int64(st, 12);
	k->state = sqlite3_column_int(st, 13);
	k->closed_at = sqlite3_column_int64(st, 14);
	if ((r = col_dup(st, 15, &k->body)) != BG_OK)
		goto out;
	if (sqlite3_column_bytes(st, 16) == BG_SEAL_PK_LEN) {
		memcpy(k->rk_pk, sqlite3_column_blob(st, 16), BG_SEAL_PK_LEN);
		k->has_pk = true;
	}
	if (sqlite3_column_type(st, 17) != SQLITE_NULL &&
	    sqlite3_column_bytes(st, 17) > 0) {
		k->rk_sk_sealed_len = (size_t)sqlite3_column_bytes(st, 17);
		if ((k->rk_sk_sealed = malloc(k->rk_sk_sealed_len)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		memcpy(k->rk_sk_sealed, sqlite3_column_blob(st, 17),
		    k->rk_sk_sealed_len);
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	if (r != BG_OK)
		rk_row_clear(k);
	return r;
}

/* Append name to a ", "-separated list in buf. */
static void
list_add(char *buf, size_t cap, const char *name)
{
	size_t used = strlen(buf);

	(void)snprintf(buf + used, cap - used, "%s%s", used > 0 ? ", " : "",
	    name);
}

/* The before/after diff of two policies into info. */
static void
diff_fill(const bg_policy_t *before, const bg_policy_t *after,
    bg_vault_rekey_info_t *ri)
{
	size_t i, idx;

	ri->added[0] = ri->removed[0] = '\0';
	for (i = 0; i < bg_policy_leaf_count(after); i++)
		if (bg_policy_leaf_index(before, bg_policy_leaf_name(after, i),
		    &idx) != BG_OK)
			list_add(ri->added, sizeof(ri->added),
			    bg_policy_leaf_name(after, i));
	for (i = 0; i < bg_policy_leaf_count(before); i++)
		if (bg_policy_leaf_index(after, bg_policy_leaf_name(before, i),
		    &idx) != BG_OK)
			list_add(ri->removed, sizeof(ri->removed),
			    bg_policy_leaf_name(before, i));
	ri->thresholds_changed = strcmp(bg_policy_canonical(before),
	    bg_policy_canonical(after)) != 0 && ri->added[0] == '\0' &&
	    ri->removed[0] == '\0';
	ri->people_before = bg_policy_min_people(before);
	ri->people_after = bg_policy_min_people(after);
	ri->lowers = ri->people_after < ri->people_before;
	(void)snprintf(ri->old_policy, sizeof(ri->old_policy), "%s",
	    bg_policy_canonical(before));
	(void)snprintf(ri->new_policy, sizeof(ri->new_policy), "%s",
	    bg_policy_canonical(after));
}

static int
count_versions(bg_vault_t *v, int64_t tenant_id, size_t *np)
{
	int64_t n = 0;
	int r;

	*np = 0;
	if ((r = bg_store_int(v, "SELECT count(*) FROM versions x JOIN "
	    "secrets s ON s.id = x.secret_id WHERE s.tenant_id = ? AND "
	    "x.state IN (0, 1)", tenant_id, &n)) != BG_OK)
		return r;
	*np = (size_t)n;
	return BG_OK;
}

/* Parse the tenant's current policy. */
static int
current_policy(bg_vault_t *v, const bg_tenant_row_t *t, bg_policy_t **polp)
{
	*polp = NULL;
	if (t->policy == NULL)
		return bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' has no "
		    "policy yet (vault policy set)", t->name);
	if (bg_policy_parse(t->policy, polp, NULL) != BG_OK)
		return bg_vault_fail(v, BG_ERR_AUTH, "the stored policy of "
		    "'%s' does not parse: the database was altered", t->name);
	return BG_OK;
}

static int
preview(bg_vault_t *v, const bg_tenant_row_t *t, const char *expr,
    int64_t now, bg_policy_t **newp, bg_vault_rekey_info_t *ri)
{
	bg_policy_t *before = NULL, *after = NULL;
	int r = BG_ERR_INTERNAL;

	*newp = NULL;
	memset(ri, 0, sizeof(*ri));
	(void)snprintf(ri->tenant, sizeof(ri->tenant), "%s", t->name);
	if ((r = current_policy(v, t, &before)) != BG_OK ||
	    (r = bg_policy_validate(v, t, expr, now, &after)) != BG_OK)
		goto out;
	if (strcmp(bg_policy_canonical(before),
	    bg_policy_canonical(after)) == 0) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the new policy is "
		    "the current policy of %s", t->name);
		goto out;
	}
	diff_fill(before, after, ri);
	if ((r = count_versions(v, t->id, &ri->n_versions)) != BG_OK)
		goto out;
	*newp = after;
	after = NULL;
	r = BG_OK;
out:
	bg_policy_free(&before);
	bg_policy_free(&after);
	return r;
}

int
bg_vault_rekey_preview(bg_vault_t *v, const char *tenant, const char *expr,
    bg_vault_rekey_info_t **infop)
{
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL;
	bg_vault_rekey_info_t *ri = NULL;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	if (infop == NULL)
		return BG_ERR_INVALID_ARG;
	*infop = NULL;
	bg_vault_clear_err(v);
	if ((ri = calloc(1, sizeof(*ri))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = preview(v, &t, expr, bg_vault_read_now(v), &pol, ri))
	    != BG_OK)
		goto out;
	*infop = ri;
	ri = NULL;
	r = BG_OK;
out:
	free(ri);
	bg_policy_free(&pol);
	bg_tenant_row_clear(&t);
	return bg_vault_fail_default(v, r);
}

static int
make_body(bg_vault_t *v, int64_t id, const char *proposer,
    const bg_vault_rekey_info_t *ri, const uint8_t old_hash[32],
    const uint8_t new_hash[32], const uint8_t keyset[32], int64_t now,
    int64_t deadline, bool confirmed, char **bodyp)
{
	char oh[65], nh[65], ks[65], tc[32], td[32], *s = NULL;

	*bodyp = NULL;
	bg_hex(old_hash, 32, oh);
	bg_hex(new_hash, 32, nh);
	bg_hex(keyset, 32, ks);
	if (asprintf(&s, "breakglass rekey statement v1\n"
	    "vault: %s\nrekey: %lld\ntenant: %s\nproposer: %s\n"
	    "policy before: %s\npolicy hash before: %s\n"
	    "policy after: %s\npolicy hash after: %s\n"
	    "approver keys after: %s\n"
	    "approvers added: %s\napprovers removed: %s\n"
	    "people needed: %zu -> %zu\nlowers quorum: %s\n"
	    "versions to re-split: %zu\n"
	    "proposed: %s (%lld)\ndeadline: %s (%lld)\n",
	    v->id, (long long)id, ri->tenant, proposer,
	    ri->old_policy, oh, ri->new_policy, nh, ks,
	    ri->added[0] ? ri->added : "none",
	    ri->removed[0] ? ri->removed : "none",
	    ri->people_before, ri->people_after,
	    ri->lowers ? (confirmed ? "YES (confirmed)" : "YES") : "no",
	    ri->n_versions,
	    bg_vault_fmt_time(now, tc, sizeof(tc)), (long long)now,
	    bg_vault_fmt_time(deadline, td, sizeof(td)),
	    (long long)deadline) < 0)
		return BG_ERR_NOMEM;
	*bodyp = s;
	return BG_OK;
}

/* Destroy a proposal's key material and close it in state. */
static int
rk_close(bg_vault_t *v, int64_t id, int state, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "DELETE FROM rekey_shares WHERE "
	    "rekey_id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "UPDATE rekeys SET state = ?, "
	    "closed_at = ?, rk_sk_sealed = NULL WHERE id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, state)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, id)) != BG_OK)
		goto out;
	r = bg_store_step_done(v, st);
out:
	sqlite3_finalize(st);
	return r;
}

/* The proposer's (or anyone's) live membership: requester first. */
static int
live_any(bg_vault_t *v, const bg_tenant_row_t *t, const char *person,
    int64_t now, int64_t *midp, uint8_t salt[BG_TOKEN_SALT_LEN])
{
	int r;

	r = bg_member_live(v, t->id, t->name, person,
	    BG_VAULT_ROLE_REQUESTER, now, midp, salt);
	if (r == BG_ERR_DENIED)
		r = bg_member_live(v, t->id, t->name, person,
		    BG_VAULT_ROLE_APPROVER, now, midp, salt);
	if (r == BG_ERR_DENIED)
		r = bg_vault_fail(v, r, "%s is neither a requester nor an "
		    "approver of %s, so cannot propose or commit a re-key",
		    person, t->name);
	return r;
}

int
bg_vault_rekey_propose(bg_vault_t *v, const char *tenant, const char *expr,
    bool confirm_lower, const char *proposer, bg_token_t *tok,
    const char *pin, int64_t *idp)
{
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL, *oldp = NULL;
	bg_vault_rekey_info_t ri;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t shash[BG_VAULT_HASH_LEN], ks[BG_VAULT_HASH_LEN];
	uint8_t pk[BG_SEAL_PK_LEN];
	uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN];
	char *body = NULL, *text = NULL, idbuf[48], sh[65], oh[65], nh[65];
	char ksh[65], when[32];
	json_t *det = NULL;
	int64_t now = 0, mid = 0, id = 0, open_id = 0, open_dl = 0, dl;
	size_t ntoks = 0, which = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&ri, 0, sizeof(ri));
	if (idp != NULL)
		*idp = 0;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "proposer", proposer)) != BG_OK)
		goto out;
	if (tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the proposer's token "
		    "and PIN are needed");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if ((r = bg_keyset_verify(v, &t)) != BG_OK ||
	    (r = preview(v, &t, expr, now, &pol, &ri)) != BG_OK ||
	    (r = current_policy(v, &t, &oldp)) != BG_OK)
		goto out;
	if (ri.n_versions == 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' holds no sealed "
		    "or pending version: set the policy directly (vault policy "
		    "set without --as)", t.name);
		goto out;
	}
	if (ri.lowers && !confirm_lower) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "this change lowers the "
		    "number of people needed to open %s's secrets from %zu to "
		    "%zu: confirm it with --confirm-lower", t.name,
		    ri.people_before, ri.people_after);
		goto out;
	}
	/* One open proposal per tenant; a stale one expires now. */
	if ((r = bg_store_prepare(v, "SELECT id, deadline FROM rekeys WHERE "
	    "tenant_id = ? AND state = 1", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, t.id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		open_id = sqlite3_column_int64(st, 0);
		open_dl = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (open_id != 0 && open_dl > now) {
		r = bg_vault_fail(v, BG_ERR_STATE, "re-key proposal %lld is "
		    "already open for %s (deadline %s): commit or abort it "
		    "first", (long long)open_id, t.name,
		    bg_vault_fmt_time(open_dl, when, sizeof(when)));
		goto out;
	}
	if (open_id != 0 && (r = rk_close(v, open_id, BG_VAULT_REKEY_EXPIRED,
	    now)) != BG_OK)
		goto out;
	if ((r = live_any(v, &t, proposer, now, &mid, salt)) != BG_OK ||
	    (r = bg_member_tokens(v, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	if (ntoks == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no enrolled "
		    "token in %s", proposer, t.name);
		goto out;
	}
	if ((r = bg_keyset_for(v, &t, bg_policy_canonical(pol), ks, NULL))
	    != BG_OK)
		goto out;
	dl = now + t.approval_window;
	if ((r = bg_store_prepare(v, "INSERT INTO rekeys (tenant_id, "
	    "proposer, token_id, old_policy, old_policy_hash, new_policy, "
	    "new_policy_hash, new_keyset, lowers, created_at, deadline, state, "
	    "body, statement, authdata, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, 1, '', '', x'', x'')", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, t.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, proposer)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, toks[0].id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 4, bg_policy_canonical(oldp)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, bg_policy_hash(oldp),
	    BG_POLICY_HASH_LEN)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 6, bg_policy_canonical(pol)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 7, bg_policy_hash(pol),
	    BG_POLICY_HASH_LEN)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, ks, sizeof(ks))) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 9, ri.lowers)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 10, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 11, dl)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	id = sqlite3_last_insert_rowid(v->db);
	if ((r = make_body(v, id, proposer, &ri, bg_policy_hash(oldp),
	    bg_policy_hash(pol), ks, now, dl, confirm_lower, &body)) != BG_OK ||
	    (r = bg_statement_full(v, body, &text, shash)) != BG_OK)
		goto out;
	bg_statement_cdh("rekey-propose", text, cdh);
	if ((r = bg_member_assert(v, tok, proposer, toks, ntoks, cdh, NULL,
	    pin, &as, &which)) != BG_OK)
		goto out;
	(void)snprintf(idbuf, sizeof(idbuf), "rekey:%lld", (long long)id);
	if ((r = bg_seal_reqkey_new(v->id, idbuf, toks[which].member_pk, pk,
	    sealed)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "UPDATE rekeys SET token_id = ?, "
	    "body = ?, statement = ?, authdata = ?, sig = ?, rk_pk = ?, "
	    "rk_sk_sealed = ? WHERE id = ?", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, toks[which].id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, body)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 4, as->authdata, as->authdata_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, as->sig, as->sig_len)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 6, pk, sizeof(pk))) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 7, sealed, sizeof(sealed))) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 8, id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	bg_hex(shash, sizeof(shash), sh);
	bg_hex(bg_policy_hash(oldp), 32, oh);
	bg_hex(bg_policy_hash(pol), 32, nh);
	bg_hex(ks, sizeof(ks), ksh);
	det = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
	    "s:I, s:b, s:b, s:I, s:I, s:s, s:s, s:I}",
	    "rekey", (json_int_t)id, "proposer", proposer,
	    "policy_before", ri.old_policy, "policy_hash_before", oh,
	    "policy_after", ri.new_policy, "policy_hash_after", nh,
	    "keyset_after", ksh, "added", ri.added, "removed", ri.removed,
	    "people_before", (json_int_t)ri.people_before,
	    "people_after", (json_int_t)ri.people_after,
	    "lowers", ri.lowers, "confirm_lower", confirm_lower && ri.lowers,
	    "versions", (json_int_t)ri.n_versions,
	    "deadline", (json_int_t)dl, "statement_hash", sh,
	    "token", toks[which].label, "sign_count",
	    (json_int_t)as->sign_count);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, proposer, "rekey.propose", t.name,
	    t.name, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (open_id != 0)
		(void)bg_store_checkpoint(v);
	if (idp != NULL)
		*idp = id;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(body);
	free(text);
	free(toks);
	bg_token_assertion_free(&as);
	bg_policy_free(&pol);
	bg_policy_free(&oldp);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, proposer, "rekey.propose", tenant,
	    tenant);
}

int
bg_vault_rekey_statement(bg_vault_t *v, int64_t id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN])
{
	rk_row_t k;
	char *text = NULL;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	if (textp != NULL)
		*textp = NULL;
	bg_vault_clear_err(v);
	if ((r = rk_get(v, id, &k)) != BG_OK ||
	    (r = bg_statement_full(v, k.body, &text, hash)) != BG_OK)
		goto out;
	if (textp != NULL) {
		*textp = text;
		text = NULL;
	}
	r = BG_OK;
out:
	free(text);
	rk_row_clear(&k);
	return bg_vault_fail_default(v, r);
}

/* Open (state and deadline) and the tenant still under the old policy. */
static int
rk_check_open(bg_vault_t *v, const rk_row_t *k, int64_t now,
    bg_tenant_row_t *t)
{
	char when[32];
	int r;

	if (k->state != BG_VAULT_REKEY_OPEN)
		return bg_vault_fail(v, BG_ERR_STATE, "re-key proposal %lld "
		    "is %s", (long long)k->id,
		    bg_vault_rekey_state_name(k->state));
	if (now >= k->deadline)
		return bg_vault_fail(v, BG_ERR_EXPIRED, "re-key proposal %lld "
		    "expired at %s", (long long)k->id,
		    bg_vault_fmt_time(k->deadline, when, sizeof(when)));
	if ((r = bg_tenant_get(v, k->tenant, t)) != BG_OK)
		return r;
	if (t->policy == NULL || strcmp(t->policy, k->old_policy) != 0)
		return bg_vault_fail(v, BG_ERR_STATE, "the policy of %s changed "
		    "since re-key proposal %lld was made", k->tenant,
		    (long long)k->id);
	return BG_OK;
}

/* Leaves approved so far (have[]) and their names. */
static int
rk_have(bg_vault_t *v, int64_t id, const bg_policy_t *pol, bool *have,
    char *names, size_t cap, size_t *np)
{
	sqlite3_stmt *st = NULL;
	char person[BG_VAULT_NAME_MAX + 1];
	size_t idx;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*np = 0;
	if (names != NULL)
		names[0] = '\0';
	if ((r = bg_store_prepare(v, "SELECT person FROM rekey_approvals "
	    "WHERE rekey_id = ? ORDER BY id", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, person, sizeof(person));
		if (have != NULL &&
		    bg_policy_leaf_index(pol, person, &idx) == BG_OK)
			have[idx] = true;
		if (names != NULL)
			list_add(names, cap, person);
		(*np)++;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* Re-seal approver's leaf share of every sealed/pending version. */
static int
reseal_all(bg_vault_t *v, const rk_row_t *k, const char *approver,
    const bg_token_row_t *tr, size_t leaf, const uint8_t *sk,
    size_t *countp)
{
	sqlite3_stmt *q = NULL, *sh = NULL, *ins = NULL;
	bg_seal_ad_t ad;
	uint8_t blob[BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD];
	uint8_t out[BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD];
	uint8_t *share = NULL;
	char secret[BG_VAULT_NAME_MAX + 1], idbuf[96];
	int64_t vid;
	size_t plen = 0, olen = 0;
	bool row = false, srow = false;
	int blen, version, r = BG_ERR_INTERNAL;

	*countp = 0;
	if ((share = sodium_malloc(BG_POLICY_SHARE_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_prepare(v, "SELECT x.id, x.version, s.name, "
	    "x.policy_hash FROM versions x JOIN secrets s ON "
	    "s.id = x.secret_id WHERE s.tenant_id = ? AND x.state IN (0, 1) "
	    "ORDER BY x.id", &q)) != BG_OK ||
	    (r = bg_store_bind_int(v, q, 1, k->tenant_id)) != BG_OK ||
	    (r = bg_store_prepare(v, "SELECT blob FROM shares WHERE "
	    "version_id = ? AND leaf = ? AND token_id = ?", &sh)) != BG_OK ||
	    (r = bg_store_prepare(v, "INSERT INTO rekey_shares (rekey_id, "
	    "version_id, leaf, blob) VALUES (?, ?, ?, ?)", &ins)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, q, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		vid = sqlite3_column_int64(q, 0);
		version = sqlite3_column_int(q, 1);
		bg_store_col_text(q, 2, secret, sizeof(secret));
		if (sqlite3_column_bytes(q, 3) != BG_POLICY_HASH_LEN ||
		    memcmp(sqlite3_column_blob(q, 3), k->old_hash, /* public: hash */
		    BG_POLICY_HASH_LEN) != 0) {
			r = bg_vault_fail(v, BG_ERR_STATE, "%s/%s v%d was not "
			    "sealed by the policy this re-key replaces",
			    k->tenant, secret, version);
			goto out;
		}
		sqlite3_reset(sh);
		if ((r = bg_store_bind_int(v, sh, 1, vid)) != BG_OK ||
		    (r = bg_store_bind_int(v, sh, 2, (int64_t)leaf)) != BG_OK ||
		    (r = bg_store_bind_int(v, sh, 3, tr->id)) != BG_OK ||
		    (r = bg_store_step(v, sh, &srow)) != BG_OK)
			goto out;
		blen = srow ? sqlite3_column_bytes(sh, 0) : 0;
		if (!srow || blen <= 0 || (size_t)blen > sizeof(blob)) {
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s's token '%s' "
			    "holds no share of %s/%s v%d: use another of %s's "
			    "tokens", approver, tr->label, k->tenant, secret,
			    version, approver);
			goto out;
		}
		memcpy(blob, sqlite3_column_blob(sh, 0), (size_t)blen);
		if ((r = bg_seal_ad_share(&ad, v->id, k->tenant, secret,
		    (uint64_t)version, leaf, k->old_hash)) != BG_OK)
			goto out;
		if (bg_seal_box_open(sk, tr->member_pk, blob, (size_t)blen,
		    ad.buf, ad.len, share, BG_POLICY_SHARE_LEN, &plen) != BG_OK ||
		    plen != BG_POLICY_SHARE_LEN) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s's share of %s/%s "
			    "v%d does not open: it was altered or belongs "
			    "elsewhere", approver, k->tenant, secret, version);
			goto out;
		}
		(void)snprintf(idbuf, sizeof(idbuf), "rekey:%lld:version:%lld",
		    (long long)k->id, (long long)vid);
		if ((r = bg_seal_ad_reshare(&ad, v->id, idbuf, leaf)) != BG_OK)
			goto out;
		r = bg_seal_box(k->rk_pk, share, BG_POLICY_SHARE_LEN, ad.buf,
		    ad.len, out, sizeof(out), &olen);
		sodium_memzero(share, BG_POLICY_SHARE_LEN);
		if (r != BG_OK)
			goto out;
		sqlite3_reset(ins);
		if ((r = bg_store_bind_int(v, ins, 1, k->id)) != BG_OK ||
		    (r = bg_store_bind_int(v, ins, 2, vid)) != BG_OK ||
		    (r = bg_store_bind_int(v, ins, 3, (int64_t)leaf)) != BG_OK ||
		    (r = bg_store_bind_blob(v, ins, 4, out, olen)) != BG_OK ||
		    (r = bg_store_step_done(v, ins)) != BG_OK)
			goto out;
		(*countp)++;
	}
	r = BG_OK;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(sh);
	sqlite3_finalize(ins);
	if (share != NULL)
		sodium_free(share);
	return r;
}

int
bg_vault_rekey_approve(bg_vault_t *v, int64_t id, const char *approver,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin)
{
	rk_row_t k;
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t shash[BG_VAULT_HASH_LEN], *sk = NULL;
	char *text = NULL, *missing = NULL, sh[65], obj[48];
	char tenant[BG_VAULT_NAME_MAX + 1];
	bool *have = NULL, row = false, satisfied;
	json_t *det = NULL;
	int64_t now = 0, mid = 0;
	size_t ntoks = 0, which = 0, leaf = 0, nv = 0, napp = 0;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	memset(&t, 0, sizeof(t));
	tenant[0] = '\0';
	(void)snprintf(obj, sizeof(obj), "rekey %lld", (long long)id);
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "approver", approver)) != BG_OK)
		goto out;
	if (shown_hash == NULL || tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the statement hash "
		    "shown, the approver's token and PIN are needed");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	(void)snprintf(tenant, sizeof(tenant), "%s", k.tenant);
	if ((r = rk_check_open(v, &k, now, &t)) != BG_OK)
		goto out;
	if (strcmp(approver, k.proposer) == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s proposed re-key %lld "
		    "and cannot approve it", approver, (long long)id);
		goto out;
	}
	if ((r = bg_member_live(v, t.id, t.name, approver,
	    BG_VAULT_ROLE_APPROVER, now, &mid, salt)) != BG_OK ||
	    (r = current_policy(v, &t, &pol)) != BG_OK)
		goto out;
	if (bg_policy_leaf_index(pol, approver, &leaf) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not named by the "
		    "current policy of %s (%s); a re-key needs approvals that "
		    "meet the current policy", approver, t.name, t.policy);
		goto out;
	}
	if ((r = bg_store_prepare(v, "SELECT 1 FROM rekey_approvals WHERE "
	    "rekey_id = ? AND person = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, approver)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (row) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, "%s already approved "
		    "re-key %lld", approver, (long long)id);
		goto out;
	}
	if ((r = bg_statement_full(v, k.body, &text, shash)) != BG_OK)
		goto out;
	if (memcmp(shash, shown_hash, sizeof(shash)) != 0) { /* public: hash */
		r = bg_vault_fail(v, BG_ERR_STATE, "the statement of re-key "
		    "%lld changed since it was shown (the audit log moved on); "
		    "show it again", (long long)id);
		goto out;
	}
	bg_statement_cdh("rekey-approve", text, cdh);
	if ((r = bg_member_tokens(v, mid, &toks, &ntoks)) != BG_OK ||
	    (r = bg_member_assert(v, tok, approver, toks, ntoks, cdh, salt,
	    pin, &as, &which)) != BG_OK ||
	    (r = bg_member_sk(v, approver, &toks[which], as, &sk)) != BG_OK)
		goto out;
	if (!k.has_pk) {
		r = bg_vault_fail(v, BG_ERR_STATE, "re-key %lld has no "
		    "proposal key", (long long)id);
		goto out;
	}
	r = reseal_all(v, &k, approver, &toks[which], leaf, sk, &nv);
	sodium_free(sk);
	sk = NULL;
	if (r != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "INSERT INTO rekey_approvals (rekey_id, "
	    "person, token_id, leaf, created_at, statement, authdata, sig) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, approver)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, toks[which].id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, (int64_t)leaf)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 5, now)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 6, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 7, as->authdata, as->authdata_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, as->sig, as->sig_len)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if ((have = calloc(bg_policy_leaf_count(pol), sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = rk_have(v, id, pol, have, NULL, 0, &napp)) != BG_OK ||
	    (r = bg_policy_missing(pol, have, &missing)) != BG_OK)
		goto out;
	satisfied = bg_policy_satisfied(pol, have);
	bg_hex(shash, sizeof(shash), sh);
	det = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:I, s:b, s:s}",
	    "rekey", (json_int_t)id, "approver", approver, "leaf",
	    (json_int_t)leaf, "versions", (json_int_t)nv, "statement_hash", sh,
	    "token", toks[which].label, "sign_count",
	    (json_int_t)as->sign_count, "satisfied", satisfied, "missing",
	    satisfied ? "" : missing);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, approver, "rekey.approve", t.name, obj,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	if (sk != NULL)
		sodium_free(sk);
	free(have);
	free(missing);
	free(text);
	free(toks);
	bg_token_assertion_free(&as);
	bg_policy_free(&pol);
	bg_tenant_row_clear(&t);
	rk_row_clear(&k);
	return bg_vault_finish(v, r, approver, "rekey.approve", tenant, obj);
}

/* Verify every approval's evidence; mark have[] by leaf. */
static int
rk_verify_approvals(bg_vault_t *v, const rk_row_t *k, const bg_policy_t *pol,
    bool *have, char *names, size_t cap)
{
	sqlite3_stmt *st = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN];
	char person[BG_VAULT_NAME_MAX + 1];
	const char *stmt, *lname;
	size_t leaf;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	names[0] = '\0';
	if ((r = bg_store_prepare(v, "SELECT a.person, a.leaf, a.statement, "
	    "a.authdata, a.sig, t.alg, t.pubkey FROM rekey_approvals a JOIN "
	    "tokens t ON t.id = a.token_id WHERE a.rekey_id = ? ORDER BY a.id",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, k->id)) != BG_OK)
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
		    strcmp(person, k->proposer) == 0 || stmt == NULL ||
		    strncmp(stmt, k->body, strlen(k->body)) != 0) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the approval by %s "
			    "does not belong to re-key %lld: the database was "
			    "altered", person, (long long)k->id);
			goto out;
		}
		bg_statement_cdh("rekey-approve", stmt, cdh);
		if (bg_token_verify(sqlite3_column_int(st, 5),
		    sqlite3_column_blob(st, 6),
		    (size_t)sqlite3_column_bytes(st, 6), v->rp_id, cdh,
		    sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3),
		    sqlite3_column_blob(st, 4),
		    (size_t)sqlite3_column_bytes(st, 4), true) != BG_OK) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the signed evidence "
			    "of %s's re-key approval does not verify: the "
			    "database was altered", person);
			goto out;
		}
		have[leaf] = true;
		list_add(names, cap, person);
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/*
 * Re-split one version: interim shares -> old data key -> value -> fresh
 * key split by newp; the version's shares, policy and blob replaced.
 */
static int
resplit_version(bg_vault_t *v, const rk_row_t *k, const bg_tenant_row_t *t,
    const bg_policy_t *oldp, const bg_policy_t *newp, const uint8_t *rk_sk,
    int64_t vid, int version, const char *secret, const uint8_t *blob,
    size_t bloblen)
{
	sqlite3_stmt *st = NULL;
	bg_seal_ad_t ad;
	uint8_t *shares = NULL, *key = NULL, *val = NULL, *nshares = NULL;
	uint8_t *nblob = NULL;
	bg_seal_eph_t *eph = NULL;
	bool *have = NULL;
	char idbuf[96];
	size_t i, leaf, nold, nnew, plen = 0, vlen = 0, nblen = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	nold = bg_policy_leaf_count(oldp);
	nnew = bg_policy_leaf_count(newp);
	if ((have = calloc(nold, sizeof(*have))) == NULL ||
	    (shares = sodium_malloc(nold * BG_POLICY_SHARE_LEN)) == NULL ||
	    (nshares = sodium_malloc(nnew * BG_POLICY_SHARE_LEN)) == NULL ||
	    (key = sodium_malloc(BG_SEAL_KEY_LEN)) == NULL ||
	    (val = sodium_malloc(bloblen + 1)) == NULL ||
	    (eph = sodium_malloc(sizeof(*eph))) == NULL ||
	    (nblob = malloc(bloblen)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	(void)snprintf(idbuf, sizeof(idbuf), "rekey:%lld:version:%lld",
	    (long long)k->id, (long long)vid);
	if ((r = bg_store_prepare(v, "SELECT leaf, blob FROM rekey_shares "
	    "WHERE rekey_id = ? AND version_id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, k->id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, vid)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		leaf = (size_t)sqlite3_column_int64(st, 0);
		if (leaf >= nold ||
		    (r = bg_seal_ad_reshare(&ad, v->id, idbuf, leaf)) != BG_OK ||
		    bg_seal_box_open(rk_sk, k->rk_pk, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), ad.buf, ad.len,
		    shares + leaf * BG_POLICY_SHARE_LEN, BG_POLICY_SHARE_LEN,
		    &plen) != BG_OK || plen != BG_POLICY_SHARE_LEN) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "a share re-sealed "
			    "for re-key %lld does not open: it was altered or "
			    "belongs elsewhere", (long long)k->id);
			goto out;
		}
		have[leaf] = true;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!bg_policy_satisfied(oldp, have)) {
		r = bg_vault_fail(v, BG_ERR_STATE, "%s/%s v%d was sealed after "
		    "the approvals of re-key %lld: abort it and propose again",
		    t->name, secret, version, (long long)k->id);
		goto out;
	}
	r = bg_policy_combine(oldp, have, shares, key);
	sodium_memzero(shares, nold * BG_POLICY_SHARE_LEN);
	if (r != BG_OK)
		goto out;
	if ((r = bg_seal_ad_value(&ad, v->id, t->name, secret,
	    (uint64_t)version, k->old_hash)) != BG_OK)
		goto out;
	r = bg_seal_value_open(key, blob, bloblen, ad.buf, ad.len, val,
	    bloblen, &vlen);
	sodium_memzero(key, BG_SEAL_KEY_LEN);
	if (r != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the value of %s/%s v%d does "
		    "not open with the key the approvals rebuilt: it was "
		    "altered or belongs elsewhere", t->name, secret, version);
		goto out;
	}
	/* A fresh data key: old shares (and copies of them) open nothing. */
	if ((r = bg_seal_data_key(key)) != BG_OK ||
	    (r = bg_seal_ad_value(&ad, v->id, t->name, secret,
	    (uint64_t)version, bg_policy_hash(newp))) != BG_OK ||
	    (r = bg_seal_value(key, val, vlen, ad.buf, ad.len, nblob, bloblen,
	    &nblen)) != BG_OK)
		goto out;
	sodium_memzero(val, bloblen + 1);
	r = bg_policy_split(newp, key, nshares, NULL, NULL);
	sodium_memzero(key, BG_SEAL_KEY_LEN);
	if (r != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "DELETE FROM shares WHERE version_id = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, vid)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "UPDATE versions SET policy = ?, "
	    "policy_hash = ?, blob = ? WHERE id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, bg_policy_canonical(newp)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 2, bg_policy_hash(newp),
	    BG_POLICY_HASH_LEN)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 3, nblob, nblen)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, vid)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if ((r = bg_seal_eph_init(eph)) != BG_OK)
		goto out;
	for (i = 0; i < nnew; i++)
		if ((r = bg_secret_seal_leaf(v, t, eph, secret, version, vid,
		    bg_policy_hash(newp), i, bg_policy_leaf_name(newp, i),
		    nshares + i * BG_POLICY_SHARE_LEN)) != BG_OK)
			goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(have);
	if (shares != NULL)
		sodium_free(shares);
	if (nshares != NULL)
		sodium_free(nshares);
	if (key != NULL)
		sodium_free(key);
	if (val != NULL)
		sodium_free(val);
	if (eph != NULL) {
		bg_seal_eph_clear(eph);
		sodium_free(eph);
	}
	free(nblob);
	return r;
}

typedef struct ver_row {
	int64_t	 id;
	int	 version;
	char	 secret[BG_VAULT_NAME_MAX + 1];
	uint8_t	*blob;
	size_t	 len;
} ver_row_t;

static void
vers_free(ver_row_t *l, size_t n)
{
	size_t i;

	for (i = 0; l != NULL && i < n; i++)
		free(l[i].blob);
	free(l);
}

static int
vers_get(bg_vault_t *v, int64_t tenant_id, ver_row_t **lp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	ver_row_t *l = NULL, *nl;
	size_t n = 0;
	bool row = false;
	int len, r = BG_ERR_INTERNAL;

	*lp = NULL;
	*np = 0;
	if ((r = bg_store_prepare(v, "SELECT x.id, x.version, s.name, x.blob "
	    "FROM versions x JOIN secrets s ON s.id = x.secret_id WHERE "
	    "s.tenant_id = ? AND x.state IN (0, 1) ORDER BY x.id", &st))
	    != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK)
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
		memset(&l[n], 0, sizeof(l[n]));
		l[n].id = sqlite3_column_int64(st, 0);
		l[n].version = sqlite3_column_int(st, 1);
		bg_store_col_text(st, 2, l[n].secret, sizeof(l[n].secret));
		len = sqlite3_column_bytes(st, 3);
		n++;
		if (len <= 0 || (l[n - 1].blob = malloc((size_t)len)) == NULL) {
			r = len <= 0 ? bg_vault_fail(v, BG_ERR_DB_CORRUPT,
			    "an empty value blob") : BG_ERR_NOMEM;
			goto out;
		}
		memcpy(l[n - 1].blob, sqlite3_column_blob(st, 3), (size_t)len);
		l[n - 1].len = (size_t)len;
	}
	*lp = l;
	*np = n;
	l = NULL;
	n = 0;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	vers_free(l, n);
	return r;
}

static int
exec_id(bg_vault_t *v, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, a)) != BG_OK)
		goto out;
	if (sqlite3_bind_parameter_count(st) >= 2 &&
	    (r = bg_store_bind_int(v, st, 2, b)) != BG_OK)
		goto out;
	r = bg_store_step_done(v, st);
out:
	sqlite3_finalize(st);
	return r;
}

int
bg_vault_rekey_commit(bg_vault_t *v, int64_t id, const char *proposer,
    bg_token_t *tok, const char *pin)
{
	rk_row_t k;
	bg_tenant_row_t t;
	bg_policy_t *oldp = NULL, *newp = NULL;
	bg_token_row_t *toks = NULL, *mine = NULL;
	bg_token_assertion_t *as = NULL;
	ver_row_t *vers = NULL;
	sqlite3_stmt *st = NULL;
	bg_seal_ad_t ad;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t ks[BG_VAULT_HASH_LEN], *sk = NULL, *rk_sk = NULL;
	char *text = NULL, *missing = NULL, idbuf[48], obj[48];
	char tenant[BG_VAULT_NAME_MAX + 1], names[BG_VAULT_TEXT_MAX];
	char ph[65], ksh[65], oph[65];
	bg_vault_rekey_info_t ri;
	bool *have = NULL;
	json_t *det = NULL, *keys = NULL;
	int64_t now = 0, mid = 0, exp_at = 0, n_cancelled = 0;
	size_t i, ntoks = 0, which = 0, nvers = 0, plen = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	memset(&t, 0, sizeof(t));
	memset(&ri, 0, sizeof(ri));
	tenant[0] = '\0';
	(void)snprintf(obj, sizeof(obj), "rekey %lld", (long long)id);
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "proposer", proposer)) != BG_OK)
		goto out;
	if (tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the proposer's token "
		    "and PIN are needed");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	(void)snprintf(tenant, sizeof(tenant), "%s", k.tenant);
	if ((r = rk_check_open(v, &k, now, &t)) != BG_OK)
		goto out;
	if (strcmp(proposer, k.proposer) != 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "only the proposer (%s) "
		    "can commit re-key %lld", k.proposer, (long long)id);
		goto out;
	}
	if ((r = current_policy(v, &t, &oldp)) != BG_OK)
		goto out;
	if (memcmp(bg_policy_hash(oldp), k.old_hash, /* public: hash */
	    BG_POLICY_HASH_LEN) != 0 ||
	    bg_policy_parse(k.new_policy, &newp, NULL) != BG_OK ||
	    memcmp(bg_policy_hash(newp), k.new_hash, /* public: hash */
	    BG_POLICY_HASH_LEN) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "re-key proposal %lld does "
		    "not match the policies it names: the database was "
		    "altered", (long long)id);
		goto out;
	}
	/* The approvers signed the new approvers' keys: they must stand. */
	if ((r = bg_keyset_for(v, &t, k.new_policy, ks, NULL)) != BG_OK)
		goto out;
	if (sodium_memcmp(ks, k.new_keyset, sizeof(ks)) != 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the keys of the approvers "
		    "the new policy names changed since re-key %lld was "
		    "proposed: abort it and propose again", (long long)id);
		goto out;
	}
	/* The proposal key was sealed to the token used to propose. */
	if ((r = bg_store_prepare(v, "SELECT m.id, m.expires_at FROM tokens k "
	    "JOIN memberships m ON m.id = k.membership_id WHERE k.id = ? AND "
	    "m.person = ? AND m.removed_at IS NULL AND k.removed_at IS NULL",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, k.token_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, proposer)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		mid = sqlite3_column_int64(st, 0);
		exp_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!row || exp_at <= now) {
		r = bg_vault_fail(v, row ? BG_ERR_EXPIRED : BG_ERR_NOT_FOUND,
		    "the membership and token %s used to propose re-key %lld "
		    "are no longer live", proposer, (long long)id);
		goto out;
	}
	if ((r = bg_store_prepare(v, "SELECT salt FROM memberships WHERE "
	    "id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, mid)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row || sqlite3_column_bytes(st, 0) != BG_TOKEN_SALT_LEN) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "the membership salt "
		    "of %s is malformed", proposer);
		goto out;
	}
	memcpy(salt, sqlite3_column_blob(st, 0), BG_TOKEN_SALT_LEN);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_member_tokens(v, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	for (i = 0; i < ntoks; i++)
		if (toks[i].id == k.token_id)
			mine = &toks[i];
	if (mine == NULL) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "the token %s used to "
		    "propose re-key %lld is no longer enrolled", proposer,
		    (long long)id);
		goto out;
	}
	/* Quorum of the OLD policy, proven by the stored evidence. */
	if ((have = calloc(bg_policy_leaf_count(oldp), sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = rk_verify_approvals(v, &k, oldp, have, names,
	    sizeof(names))) != BG_OK)
		goto out;
	if (!bg_policy_satisfied(oldp, have)) {
		if ((r = bg_policy_missing(oldp, have, &missing)) != BG_OK)
			goto out;
		r = bg_vault_fail(v, BG_ERR_DENIED, "re-key %lld %s",
		    (long long)id, missing);
		goto out;
	}
	if ((r = bg_statement_full(v, k.body, &text, NULL)) != BG_OK)
		goto out;
	bg_statement_cdh("rekey-commit", text, cdh);
	if ((r = bg_member_assert(v, tok, proposer, mine, 1, cdh, salt, pin,
	    &as, &which)) != BG_OK ||
	    (r = bg_member_sk(v, proposer, mine, as, &sk)) != BG_OK)
		goto out;
	if ((rk_sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	(void)snprintf(idbuf, sizeof(idbuf), "rekey:%lld", (long long)id);
	if ((r = bg_seal_ad_reqkey(&ad, v->id, idbuf)) != BG_OK)
		goto out;
	if (k.rk_sk_sealed == NULL || !k.has_pk ||
	    bg_seal_box_open(sk, mine->member_pk, k.rk_sk_sealed,
	    k.rk_sk_sealed_len, ad.buf, ad.len, rk_sk, BG_SEAL_SK_LEN,
	    &plen) != BG_OK || plen != BG_SEAL_SK_LEN) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the proposal key of re-key "
		    "%lld does not open: it was altered or belongs elsewhere",
		    (long long)id);
		goto out;
	}
	sodium_free(sk);
	sk = NULL;
	if ((r = vers_get(v, t.id, &vers, &nvers)) != BG_OK)
		goto out;
	for (i = 0; i < nvers; i++)
		if ((r = resplit_version(v, &k, &t, oldp, newp, rk_sk,
		    vers[i].id, vers[i].version, vers[i].secret, vers[i].blob,
		    vers[i].len)) != BG_OK)
			goto out;
	sodium_memzero(rk_sk, BG_SEAL_SK_LEN);
	/* Spent and retired versions are never released again. */
	if ((r = exec_id(v, "DELETE FROM shares WHERE version_id IN (SELECT "
	    "x.id FROM versions x JOIN secrets s ON s.id = x.secret_id WHERE "
	    "s.tenant_id = ? AND x.state IN (2, 3))", t.id, 0)) != BG_OK)
		goto out;
	/* Open requests were approved under the old shares: cancel them. */
	if ((r = exec_id(v, "UPDATE approvals SET resealed = NULL WHERE "
	    "request_id IN (SELECT q.id FROM requests q JOIN versions x ON "
	    "x.id = q.version_id JOIN secrets s ON s.id = x.secret_id WHERE "
	    "s.tenant_id = ? AND q.state = 1)", t.id, 0)) != BG_OK ||
	    (r = exec_id(v, "UPDATE requests SET state = 5, closed_at = ?2, "
	    "req_sk_sealed = NULL WHERE state = 1 AND version_id IN (SELECT "
	    "x.id FROM versions x JOIN secrets s ON s.id = x.secret_id WHERE "
	    "s.tenant_id = ?1)", t.id, now)) != BG_OK)
		goto out;
	n_cancelled = sqlite3_changes(v->db);
	if ((r = bg_store_prepare(v, "UPDATE tenants SET policy = ?, "
	    "policy_hash = ? WHERE id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, bg_policy_canonical(newp)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 2, bg_policy_hash(newp),
	    BG_POLICY_HASH_LEN)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, t.id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = rk_close(v, id, BG_VAULT_REKEY_COMMITTED, now)) != BG_OK ||
	    (r = bg_keyset_for(v, &t, k.new_policy, ks, &keys)) != BG_OK)
		goto out;
	diff_fill(oldp, newp, &ri);
	bg_hex(bg_policy_hash(newp), BG_POLICY_HASH_LEN, ph);
	bg_hex(bg_policy_hash(oldp), BG_POLICY_HASH_LEN, oph);
	bg_hex(ks, sizeof(ks), ksh);
	det = json_pack("{s:s, s:s, s:s, s:O, s:I, s:s, s:s, s:s, s:s, s:I, "
	    "s:I, s:b, s:I, s:I, s:s, s:s, s:I}",
	    "policy", k.new_policy, "policy_hash", ph, "keyset", ksh,
	    "keys", keys, "rekey", (json_int_t)id,
	    "policy_before", k.old_policy, "policy_hash_before", oph,
	    "added", ri.added, "removed", ri.removed,
	    "people_before", (json_int_t)ri.people_before,
	    "people_after", (json_int_t)ri.people_after,
	    "lowers", k.lowers, "versions_resplit", (json_int_t)nvers,
	    "requests_cancelled", (json_int_t)n_cancelled,
	    "approvers", names, "token", mine->label,
	    "sign_count", (json_int_t)as->sign_count);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, proposer, "policy.set", t.name, t.name,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	(void)bg_store_checkpoint(v);
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	json_decref(keys);
	if (sk != NULL)
		sodium_free(sk);
	if (rk_sk != NULL)
		sodium_free(rk_sk);
	vers_free(vers, nvers);
	free(have);
	free(missing);
	free(text);
	free(toks);
	bg_token_assertion_free(&as);
	bg_policy_free(&oldp);
	bg_policy_free(&newp);
	bg_tenant_row_clear(&t);
	rk_row_clear(&k);
	(void)which;
	return bg_vault_finish(v, r, proposer, "rekey.commit", tenant, obj);
}

int
bg_vault_rekey_abort(bg_vault_t *v, const char *actor, int64_t id)
{
	rk_row_t k;
	json_t *det = NULL;
	char tenant[BG_VAULT_NAME_MAX + 1], obj[48];
	int64_t now = 0;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	tenant[0] = '\0';
	(void)snprintf(obj, sizeof(obj), "rekey %lld", (long long)id);
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	(void)snprintf(tenant, sizeof(tenant), "%s", k.tenant);
	if (k.state != BG_VAULT_REKEY_OPEN) {
		r = bg_vault_fail(v, BG_ERR_STATE, "re-key proposal %lld is %s",
		    (long long)id, bg_vault_rekey_state_name(k.state));
		goto out;
	}
	if ((r = rk_close(v, id, now >= k.deadline ? BG_VAULT_REKEY_EXPIRED :
	    BG_VAULT_REKEY_ABORTED, now)) != BG_OK)
		goto out;
	det = json_pack("{s:I, s:s, s:b}", "rekey", (json_int_t)id,
	    "proposer", k.proposer, "expired", now >= k.deadline);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, actor, "rekey.abort", k.tenant, obj, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	(void)bg_store_checkpoint(v);
	r = BG_OK;
out:
	json_decref(det);
	rk_row_clear(&k);
	return bg_vault_finish(v, r, actor, "rekey.abort", tenant, obj);
}

int
bg_vault_rekey_show(bg_vault_t *v, int64_t id, bg_vault_rekey_info_t **infop)
{
	rk_row_t k;
	bg_policy_t *oldp = NULL, *newp = NULL;
	bg_vault_rekey_info_t *ri = NULL;
	bool *have = NULL;
	char *missing = NULL;
	int64_t now = bg_vault_read_now(v);
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	if (infop == NULL)
		return BG_ERR_INVALID_ARG;
	*infop = NULL;
	bg_vault_clear_err(v);
	if ((ri = calloc(1, sizeof(*ri))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	if (bg_policy_parse(k.old_policy, &oldp, NULL) != BG_OK ||
	    bg_policy_parse(k.new_policy, &newp, NULL) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "re-key proposal %lld "
		    "names a policy that does not parse", (long long)id);
		goto out;
	}
	diff_fill(oldp, newp, ri);
	ri->id = k.id;
	(void)snprintf(ri->tenant, sizeof(ri->tenant), "%s", k.tenant);
	(void)snprintf(ri->proposer, sizeof(ri->proposer), "%s", k.proposer);
	ri->state = k.state;
	if (k.state == BG_VAULT_REKEY_OPEN && now >= k.deadline)
		ri->state = BG_VAULT_REKEY_EXPIRED;
	ri->created_at = k.created_at;
	ri->deadline = k.deadline;
	ri->closed_at = k.closed_at;
	ri->lowers = k.lowers;
	if ((r = count_versions(v, k.tenant_id, &ri->n_versions)) != BG_OK)
		goto out;
	if ((have = calloc(bg_policy_leaf_count(oldp), sizeof(*have))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = rk_have(v, id, oldp, have, ri->approved_by,
	    sizeof(ri->approved_by), &ri->n_approvals)) != BG_OK)
		goto out;
	ri->satisfied = bg_policy_satisfied(oldp, have);
	if (!ri->satisfied) {
		if ((r = bg_policy_missing(oldp, have, &missing)) != BG_OK)
			goto out;
		(void)snprintf(ri->missing, sizeof(ri->missing), "%s", missing);
	}
	*infop = ri;
	ri = NULL;
	r = BG_OK;
out:
	free(ri);
	free(have);
	free(missing);
	bg_policy_free(&oldp);
	bg_policy_free(&newp);
	rk_row_clear(&k);
	return bg_vault_fail_default(v, r);
}

int
bg_vault_rekey_open_id(bg_vault_t *v, const char *tenant, int64_t *idp)
{
	bg_tenant_row_t t;
	int r;

	if (idp == NULL)
		return BG_ERR_INVALID_ARG;
	*idp = 0;
	bg_vault_clear_err(v);
	if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		return bg_vault_fail_default(v, r);
	r = bg_store_int(v, "SELECT id FROM rekeys WHERE tenant_id = ? AND "
	    "state = 1 ORDER BY id DESC LIMIT 1", t.id, idp);
	bg_tenant_row_clear(&t);
	if (r == BG_ERR_NOT_FOUND) {
		*idp = 0;
		r = BG_OK;
	}
	return bg_vault_fail_default(v, r);
}

void
bg_vault_rekey_free(bg_vault_rekey_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}
