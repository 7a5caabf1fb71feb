/*
 * Re-key by redistribution: versions sealed under an older link of a
 * tenant's keyset chain move to the newest link without anyone ever
 * holding a data key (DESIGN "Sealing", docs/security.md "Re-keying").
 *
 *  1. propose (an operator; no token): every sealed or pending version
 *     not under the newest link, each with the canonical minimal
 *     qualified set of its policy among the approvers still live, and
 *     each contributor's coefficient (policy.h).  The statement names all
 *     of it, the newest link and its policy.
 *  2. contribute (each contributor, with their token): the contributor
 *     reads the statement, touches once (UV, hmac-secret with their
 *     salt), opens their own share of each version, multiplies it by
 *     their coefficient, splits the product under the new policy and
 *     boxes each sub-share from their own membership key to each token of
 *     its new holder (seal.h, sbox: the sender is authenticated).
 *  3. when the last contributor has contributed, in the same
 *     transaction: the old shares are destroyed and the sub-shares become
 *     the version's shares; each new holder's share is the sum of the
 *     sub-shares it received (bg_share_open), checked against the
 *     version's key commitment when a release rebuilds the key.
 *
 * While a re-key is open no request can be made on the tenant and
 * nothing can be sealed there; it is refused while a request is open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "policy.h"
#include "seal.h"
#include "vault_int.h"

/* one buffer holds a share box or a sub-share box */
_Static_assert(BG_SEAL_BOX_OVERHEAD >= BG_SEAL_SBOX_OVERHEAD,
    "share blob buffer too small for a sub-share");

#define RK_OPEN		1
#define RK_COMMITTED	2
#define RK_ABORTED	3

const char *
bg_vault_rekey_state_name(int state)
{
	switch (state) {
	case RK_OPEN:		return "open";
	case RK_COMMITTED:	return "committed";
	case RK_ABORTED:	return "aborted";
	default:		return "?";
	}
}

/* --- opening one's share: a plain share, or the sum of sub-shares ------------ */

static const char share_sql[] = "SELECT blob FROM shares WHERE "
    "version_id = ? AND leaf = ? AND token_id = ?";
static const char sub_sql[] = "SELECT s.redist_id, s.from_seq, "
    "s.contributor, s.sender_pk, s.blob FROM subshares s JOIN redist k ON "
    "k.id = s.redist_id AND k.state = 2 JOIN redist_contrib c ON "
    "c.redist_id = s.redist_id AND c.person = s.contributor WHERE "
    "s.version_id = ? AND s.leaf = ? AND s.token_id = ? AND s.live = 1 "
    "ORDER BY s.id";

/* sender_pk is one of contributor's membership keys in link from_seq. */
static int
sender_ok(bg_vault_t *v, const char *tenant, int64_t from_seq,
    const char *contributor, const uint8_t *sender_pk,
    bg_chain_link_t **cachep, int64_t *cache_seqp)
{
	const bg_chain_member_t *m;
	uint8_t h[BG_VAULT_HASH_LEN];
	size_t i;
	int r;

	if (*cachep == NULL || *cache_seqp != from_seq) {
		bg_chain_link_free(cachep);
		if ((r = bg_chain_tenant(v, tenant, (uint64_t)from_seq, cachep,
		    h)) != BG_OK)
			return r;
		*cache_seqp = from_seq;
	}
	if ((m = bg_chain_member_find(*cachep, contributor,
	    BG_CHAIN_ROLE_APPROVER)) != NULL)
		for (i = 0; i < m->n_tokens; i++)
			if (bg_same(m->tokens[i].member_pk, sender_pk, 32))
				return BG_OK;
	return bg_vault_fail(v, BG_ERR_AUTH, "a sub-share of %s is said to "
	    "come from %s, whose keys in link %lld do not include the "
	    "sender's: the file was altered", tenant, contributor,
	    (long long)from_seq);
}

int
bg_share_open(bg_vault_t *v, const bg_share_ref_t *ref, const char *holder,
    const bg_token_row_t *tr, const uint8_t *sk, uint8_t *share)
{
	sqlite3_stmt *st = NULL;
	bg_seal_ad_t ad;
	bg_chain_link_t *from = NULL;
	uint8_t blob[BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD];
	uint8_t *sub = NULL;
	char rk[24], contributor[BG_VAULT_NAME_MAX + 1];
	int64_t from_seq = 0, cache_seq = -1;
	size_t plen = 0, nsub = 0;
	bool row = false;
	int blen, r = BG_ERR_INTERNAL;

	sodium_memzero(share, BG_POLICY_SHARE_LEN);
	/* a share sealed to this token when the version was sealed */
	if ((r = bg_store_cached(v, share_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, ref->version_id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)ref->leaf)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, tr->id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		blen = sqlite3_column_bytes(st, 0);
		if (blen <= 0 || (size_t)blen > sizeof(blob)) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s's share of %s/%s "
			    "v%d is malformed", holder, ref->tenant,
			    ref->secret, ref->version);
			goto out;
		}
		memcpy(blob, sqlite3_column_blob(st, 0), (size_t)blen);
		bg_store_done(st);
		st = NULL;
		if ((r = bg_seal_ad_share(&ad, v->id, ref->tenant, ref->secret,
		    (uint64_t)ref->version, ref->leaf, ref->binding)) != BG_OK)
			goto out;
		if (bg_seal_box_open(sk, tr->member_pk, blob, (size_t)blen,
		    ad.buf, ad.len, share, BG_POLICY_SHARE_LEN, &plen) !=
		    BG_OK || plen != BG_POLICY_SHARE_LEN) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s's share of %s/%s "
			    "v%d does not open: it was altered or belongs "
			    "elsewhere", holder, ref->tenant, ref->secret,
			    ref->version);
			goto out;
		}
		r = BG_OK;
		goto out;
	}
	bg_store_done(st);
	st = NULL;
	/* ... or, after a re-key, the sum of the sub-shares sent to it */
	if ((sub = sodium_malloc(BG_POLICY_SHARE_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_cached(v, sub_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, ref->version_id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)ref->leaf)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, tr->id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		(void)snprintf(rk, sizeof(rk), "%lld",
		    (long long)sqlite3_column_int64(st, 0));
		from_seq = sqlite3_column_int64(st, 1);
		bg_store_col_text(st, 2, contributor, sizeof(contributor));
		blen = sqlite3_column_bytes(st, 4);
		if (sqlite3_column_bytes(st, 3) != 32 || blen <= 0 ||
		    (size_t)blen > sizeof(blob)) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "a sub-share of %s/%s "
			    "v%d is malformed", ref->tenant, ref->secret,
			    ref->version);
			goto out;
		}
		{
			uint8_t spk[32];

			memcpy(spk, sqlite3_column_blob(st, 3), 32);
			memcpy(blob, sqlite3_column_blob(st, 4), (size_t)blen);
			if ((r = sender_ok(v, ref->tenant, from_seq,
			    contributor, spk, &from, &cache_seq)) != BG_OK)
				goto out;
			if ((r = bg_seal_ad_subshare(&ad, v->id, ref->tenant,
			    ref->secret, (uint64_t)ref->version, ref->leaf,
			    ref->binding, rk, contributor)) != BG_OK)
				goto out;
			if (bg_seal_sbox_open(sk, spk, blob, (size_t)blen,
			    ad.buf, ad.len, sub, BG_POLICY_SHARE_LEN, &plen) !=
			    BG_OK || plen != BG_POLICY_SHARE_LEN) {
				r = bg_vault_fail(v, BG_ERR_AUTH, "the sub-share "
				    "%s sent %s for %s/%s v%d does not open: it "
				    "was altered or belongs elsewhere",
				    contributor, holder, ref->tenant,
				    ref->secret, ref->version);
				goto out;
			}
		}
		bg_policy_share_add(share, sub);
		sodium_memzero(sub, BG_POLICY_SHARE_LEN);
		nsub++;
	}
	if (nsub == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s's token '%s' holds "
		    "no share of %s/%s v%d (enrolled after it was sealed?): "
		    "use another of %s's tokens", holder, tr->label,
		    ref->tenant, ref->secret, ref->version, holder);
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	bg_chain_link_free(&from);
	if (sub != NULL)
		sodium_free(sub);
	if (r != BG_OK)
		sodium_memzero(share, BG_POLICY_SHARE_LEN);
	return r;
}

/* --- the plan: versions, their contributing sets, the statement -------------- */

typedef struct rk_ver {
	int64_t		 id;
	char		 secret[BG_VAULT_NAME_MAX + 1];
	int		 version;
	int64_t		 from_seq;
	uint8_t		 from_head[BG_VAULT_HASH_LEN];
	bg_chain_link_t	*from;		/* verified link that sealed it */
	bg_policy_t	*oldp;
	uint8_t		 coeff[BG_POLICY_MAX_LEAVES];
	bool		 chosen[BG_POLICY_MAX_LEAVES];
	size_t		 n_chosen;
} rk_ver_t;

typedef struct rk_plan {
	bg_tenant_row_t	 t;		/* newest link verified */
	bg_policy_t	*newp;
	rk_ver_t	*vs;
	size_t		 n, cap;
	char		*body;
} rk_plan_t;

static void
plan_clear(rk_plan_t *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		bg_chain_link_free(&p->vs[i].from);
		bg_policy_free(&p->vs[i].oldp);
	}
	free(p->vs);
	free(p->body);
	bg_policy_free(&p->newp);
	bg_tenant_row_clear(&p->t);
	memset(p, 0, sizeof(*p));
}

static const char plan_new_sql[] = "SELECT x.id, s.name, x.version, "
    "x.chain_seq, x.chain_head, x.policy FROM versions x JOIN secrets s ON "
    "s.id = x.secret_id WHERE s.tenant_id = ?1 AND x.state IN (0, 1) AND "
    "x.chain_seq <> ?2 ORDER BY s.name, x.version";
static const char plan_of_sql[] = "SELECT x.id, s.name, x.version, "
    "x.chain_seq, x.chain_head, x.policy FROM redist_versions rv JOIN "
    "versions x ON x.id = rv.version_id JOIN secrets s ON "
    "s.id = x.secret_id WHERE rv.redist_id = ?1 ORDER BY s.name, x.version";

/* The contributing set of one version: approvers of its link who are
 * still live approvers of the newest. */
static int
plan_version(bg_vault_t *v, rk_plan_t *p, rk_ver_t *x, const char *policy,
    int64_t now)
{
	bool have[BG_POLICY_MAX_LEAVES];
	const bg_chain_member_t *m, *nm;
	uint8_t h[BG_VAULT_HASH_LEN];
	size_t i, nl;
	int r;

	if (x > p->vs && x[-1].from_seq == x->from_seq) {
		if ((r = bg_chain_link_dup(x[-1].from, &x->from)) != BG_OK)
			return r;
		memcpy(h, x[-1].from_head, sizeof(h));
	} else if ((r = bg_chain_tenant(v, p->t.name, (uint64_t)x->from_seq,
	    &x->from, h)) != BG_OK)
		return r;
	if (memcmp(h, x->from_head, sizeof(h)) != 0 || /* public: hashes */
	    x->from->policy == NULL || strcmp(x->from->policy, policy) != 0 ||
	    bg_policy_parse(policy, &x->oldp, NULL) != BG_OK)
		return bg_vault_fail(v, BG_ERR_AUTH, "%s/%s v%d does not match "
		    "link %lld of its keyset chain: the file was altered",
		    p->t.name, x->secret, x->version, (long long)x->from_seq);
	nl = bg_policy_leaf_count(x->oldp);
	for (i = 0; i < nl; i++) {
		const char *name = bg_policy_leaf_name(x->oldp, i);

		m = bg_chain_member_find(x->from, name, BG_CHAIN_ROLE_APPROVER);
		nm = bg_chain_member_find(p->t.head, name,
		    BG_CHAIN_ROLE_APPROVER);
		have[i] = m != NULL && nm != NULL && nm->expires_at > now;
	}
	r = bg_policy_coefficients(x->oldp, have, x->coeff, x->chosen);
	if (r == BG_ERR_DENIED)
		return bg_vault_fail(v, BG_ERR_DENIED, "%s/%s v%d: the approvers "
		    "still live cannot meet the policy that sealed it (%s); "
		    "rotate it instead", p->t.name, x->secret, x->version,
		    policy);
	if (r != BG_OK)
		return r;
	for (i = 0, x->n_chosen = 0; i < nl; i++)
		if (x->chosen[i])
			x->n_chosen++;
	return BG_OK;
}

/* The statement every contributor signs (before the log lines). */
static int
plan_body(bg_vault_t *v, rk_plan_t *p, int64_t id)
{
	char hex[65];
	size_t i, j;
	int r;

	bg_hex(p->t.head_hash, sizeof(p->t.head_hash), hex);
	if ((r = bg_strcatf(&p->body, "breakglass re-key v1\nvault: %s\ngenesis: "
	    "%s\nre-key: %lld\ntenant: %s\nto: link %llu, %s\nnew-policy: "
	    "%s\n", v->id, v->genesis_hex, (long long)id, p->t.name,
	    (unsigned long long)p->t.head->seq, hex,
	    bg_policy_canonical(p->newp))) != BG_OK)
		return r;
	for (i = 0; i < p->n; i++) {
		rk_ver_t *x = &p->vs[i];

		bg_hex(x->from_head, sizeof(x->from_head), hex);
		if ((r = bg_strcatf(&p->body, "version: %s v%d from link %lld, %s, "
		    "policy %s; contributors:", x->secret, x->version,
		    (long long)x->from_seq, hex, bg_policy_canonical(x->oldp)))
		    != BG_OK)
			return r;
		for (j = 0; j < bg_policy_leaf_count(x->oldp); j++)
			if (x->chosen[j] && (r = bg_strcatf(&p->body, " %s x%02x",
			    bg_policy_leaf_name(x->oldp, j), x->coeff[j])) !=
			    BG_OK)
				return r;
		if ((r = bg_strcatf(&p->body, "\n")) != BG_OK)
			return r;
	}
	return BG_OK;
}

/* Load the plan of tenant: its versions not under the newest link (id
 * 0) or those of re-key id, each checked against the chain. */
static int
plan_load(bg_vault_t *v, const char *tenant, int64_t id, int64_t now,
    rk_plan_t *p)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(p, 0, sizeof(*p));
	if ((r = bg_tenant_get(v, tenant, &p->t)) != BG_OK)
		goto out;
	if (p->t.head == NULL || p->t.head->policy == NULL ||
	    bg_policy_parse(p->t.head->policy, &p->newp, NULL) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' has no signed "
		    "policy to re-key to", p->t.name);
		goto out;
	}
	if ((r = bg_store_prepare(v, id == 0 ? plan_new_sql : plan_of_sql,
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id == 0 ? p->t.id : id)) !=
	    BG_OK ||
	    (id == 0 && (r = bg_store_bind_int(v, st, 2,
	    (int64_t)p->t.head->seq)) != BG_OK))
		goto out;
	for (;;) {
		rk_ver_t *x;

		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&p->vs, &p->cap, p->n, sizeof(*p->vs))) !=
		    BG_OK)
			goto out;
		x = &p->vs[p->n++];
		memset(x, 0, sizeof(*x));
		x->id = sqlite3_column_int64(st, 0);
		bg_store_col_text(st, 1, x->secret, sizeof(x->secret));
		x->version = sqlite3_column_int(st, 2);
		x->from_seq = sqlite3_column_int64(st, 3);
		if (sqlite3_column_bytes(st, 4) != BG_VAULT_HASH_LEN ||
		    sqlite3_column_text(st, 5) == NULL) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s/%s v%d names no "
			    "keyset link: the file was altered", p->t.name,
			    x->secret, x->version);
			goto out;
		}
		memcpy(x->from_head, sqlite3_column_blob(st, 4),
		    BG_VAULT_HASH_LEN);
		if ((r = plan_version(v, p, x,
		    (const char *)sqlite3_column_text(st, 5), now)) != BG_OK)
			goto out;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	if (r != BG_OK)
		plan_clear(p);
	return r;
}

static int
no_open_requests(bg_vault_t *v, const bg_tenant_row_t *t, int64_t now)
{
	int64_t n = 0;
	int r;

	if ((r = bg_store_int(v, "SELECT count(*) FROM requests q JOIN "
	    "versions x ON x.id = q.version_id JOIN secrets s ON s.id = "
	    "x.secret_id WHERE q.state = 1 AND s.tenant_id = ?", t->id, &n)) !=
	    BG_OK)
		return r;
	(void)now;
	if (n > 0)
		return bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' has %lld open "
		    "request(s): a re-key waits until they are released, "
		    "denied or expired", t->name, (long long)n);
	return BG_OK;
}

int
bg_rekey_open_check(bg_vault_t *v, const bg_tenant_row_t *t)
{
	int64_t id = 0;
	int r;

	r = bg_store_int(v, "SELECT id FROM redist WHERE tenant_id = ? AND "
	    "state = 1", t->id, &id);
	if (r == BG_ERR_NOT_FOUND)
		return BG_OK;
	if (r != BG_OK)
		return r;
	return bg_vault_fail(v, BG_ERR_STATE, "re-key %lld of %s is open: "
	    "nothing is sealed or requested there until it commits or is "
	    "aborted (vault rekey show %lld)", (long long)id, t->name,
	    (long long)id);
}

/* --- propose ------------------------------------------------------------------- */

int
bg_vault_rekey_propose(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, int64_t *idp)
{
	const char *actor = by != NULL ? by->person : NULL;
	rk_plan_t p;
	bg_admin_t a;
	sqlite3_stmt *st = NULL;
	json_t *det = NULL;
	uint8_t bh[BG_VAULT_HASH_LEN];
	char bhex[2 * BG_VAULT_HASH_LEN + 1], *lines = NULL;
	int64_t now = 0, id = 0;
	size_t i;
	bool checked = false;
	int r = BG_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	if (idp != NULL)
		*idp = 0;
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = plan_load(v, tenant, 0, now, &p)) != BG_OK ||
	    (r = bg_admin_who(v, &p.t, by->person, BG_ADMIN_OPERATOR |
	    BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK ||
	    (r = bg_rekey_open_check(v, &p.t)) != BG_OK ||
	    (r = no_open_requests(v, &p.t, now)) != BG_OK)
		goto out;
	if (p.n == 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "every version of %s is "
		    "sealed under its newest link already: nothing to re-key",
		    p.t.name);
		goto out;
	}
	if ((r = bg_store_prepare(v, "INSERT INTO redist (tenant_id, to_seq, "
	    "to_head, body, created_at, state) VALUES (?, ?, ?, '', ?, 1)",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, p.t.id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)p.t.head->seq)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 3, p.t.head_hash, 32)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, now)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	id = sqlite3_last_insert_rowid(v->db);
	for (i = 0; i < p.n; i++) {
		if ((r = bg_store_prepare(v, "INSERT INTO redist_versions "
		    "(redist_id, version_id) VALUES (?, ?)", &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 2, p.vs[i].id)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((r = plan_body(v, &p, id)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "UPDATE redist SET body = ? WHERE id = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, p.body)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	/* The proposer signs the plan the contributors will be shown. */
	crypto_hash_sha256(bh, (const uint8_t *)p.body, strlen(p.body));
	bg_hex(bh, sizeof(bh), bhex);
	det = json_pack("{s:I, s:I, s:I, s:s}", "rekey", (json_int_t)id,
	    "to_seq", (json_int_t)p.t.head->seq, "versions", (json_int_t)p.n,
	    "new_policy", bg_policy_canonical(p.newp));
	if (det == NULL || bg_strcatf(&lines, "rekey: %lld\nto: link %llu\n"
	    "versions: %zu\nplan-sha256: %s\n", (long long)id,
	    (unsigned long long)p.t.head->seq, p.n, bhex) != BG_OK) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_act(v, p.t.name, &a, by, "rekey.propose", lines,
	    now, det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "rekey.propose", p.t.name, "", det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (idp != NULL)
		*idp = id;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	plan_clear(&p);
	return bg_vault_finish(v, r, actor, "rekey.propose", tenant, "");
}

/* --- the re-key row ------------------------------------------------------------ */

typedef struct rk_row {
	int64_t	 id, tenant_id, to_seq;
	uint8_t	 to_head[BG_VAULT_HASH_LEN];
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	*body;
	int	 state;
} rk_row_t;

static int
rk_get(bg_vault_t *v, int64_t id, rk_row_t *k)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(k, 0, sizeof(*k));
	if ((r = bg_store_prepare(v, "SELECT k.id, k.tenant_id, k.to_seq, "
	    "k.to_head, t.name, k.body, k.state FROM redist k JOIN tenants t "
	    "ON t.id = k.tenant_id WHERE k.id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no re-key %lld",
		    (long long)id);
		goto out;
	}
	k->id = sqlite3_column_int64(st, 0);
	k->tenant_id = sqlite3_column_int64(st, 1);
	k->to_seq = sqlite3_column_int64(st, 2);
	if (sqlite3_column_bytes(st, 3) == BG_VAULT_HASH_LEN)
		memcpy(k->to_head, sqlite3_column_blob(st, 3),
		    BG_VAULT_HASH_LEN);
	bg_store_col_text(st, 4, k->tenant, sizeof(k->tenant));
	if ((k->body = strdup(sqlite3_column_text(st, 5) != NULL ?
	    (const char *)sqlite3_column_text(st, 5) : "")) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	k->state = sqlite3_column_int(st, 6);
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* The plan of an open re-key, as its statement said it. */
static int
rk_plan(bg_vault_t *v, const rk_row_t *k, int64_t now, rk_plan_t *p)
{
	int r;

	if (k->state != RK_OPEN)
		return bg_vault_fail(v, BG_ERR_STATE, "re-key %lld is %s",
		    (long long)k->id, bg_vault_rekey_state_name(k->state));
	if ((r = plan_load(v, k->tenant, k->id, now, p)) != BG_OK)
		return r;
	if (p->t.head->seq != (uint64_t)k->to_seq ||
	    memcmp(p->t.head_hash, k->to_head, 32) != 0) /* public: hashes */
		return bg_vault_fail(v, BG_ERR_STATE, "the keyset chain of %s "
		    "moved on since re-key %lld was proposed: abort it and "
		    "propose again", k->tenant, (long long)k->id);
	if ((r = plan_body(v, p, k->id)) != BG_OK)
		return r;
	if (strcmp(p->body, k->body) != 0)
		return bg_vault_fail(v, BG_ERR_AUTH, "re-key %lld no longer "
		    "says what its versions and links say: the file was "
		    "altered", (long long)k->id);
	return BG_OK;
}

int
bg_vault_rekey_statement(bg_vault_t *v, int64_t id, char **textp,
    uint8_t hash[BG_VAULT_HASH_LEN])
{
	rk_row_t k;
	rk_plan_t p;
	char *text = NULL;
	int r = BG_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	if (textp != NULL)
		*textp = NULL;
	bg_vault_clear_err(v);
	if ((r = rk_get(v, id, &k)) != BG_OK ||
	    (r = rk_plan(v, &k, bg_vault_read_now(v), &p)) != BG_OK ||
	    (r = bg_statement_full(v, p.body, &text, hash)) != BG_OK)
		goto out;
	if (textp != NULL) {
		*textp = text;
		text = NULL;
	}
	r = BG_OK;
out:
	free(text);
	free(k.body);
	plan_clear(&p);
	return bg_vault_fail_default(v, r);
}

/* --- contribute ------------------------------------------------------------------ */

static const char contributed_sql[] = "SELECT count(*) FROM redist_contrib "
    "WHERE redist_id = ? AND person = ?";

static bool
is_chosen(const rk_ver_t *x, const char *person, size_t *leafp)
{
	return bg_policy_leaf_index(x->oldp, person, leafp) == BG_OK &&
	    x->chosen[*leafp];
}

/*
 * person's contribution row is theirs: the statement they signed is this
 * re-key's (its body, then the log lines of the moment) and a credential
 * the sealing link gives them signed it.  A row root wrote counts for
 * nothing.
 */
static int
contribution_ok(bg_vault_t *v, const rk_row_t *k, const rk_plan_t *p,
    const rk_ver_t *x, const char *person, bool *okp)
{
	static const char sql[] = "SELECT statement, authdata, sig FROM "
	    "redist_contrib WHERE redist_id = ? AND person = ?";
	static const char tail[] = "log-size: ";
	sqlite3_stmt *st = NULL;
	const bg_chain_member_t *m;
	const char *stmt;
	uint8_t cdh[32];
	size_t i, blen = strlen(p->body);
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*okp = false;
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, k->id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	r = BG_OK;
	if (!row || (stmt = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strncmp(stmt, p->body, blen) != 0 ||
	    strncmp(stmt + blen, tail, sizeof(tail) - 1) != 0 ||
	    (m = bg_chain_member_find(x->from, person,
	    BG_CHAIN_ROLE_APPROVER)) == NULL)
		goto out;
	bg_statement_cdh("rekey", stmt, cdh);
	for (i = 0; i < m->n_tokens && !*okp; i++)
		*okp = bg_token_verify(m->tokens[i].alg, m->tokens[i].pubkey,
		    m->tokens[i].pubkey_len, v->rp_id, cdh,
		    sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1),
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), true) == BG_OK;
out:
	bg_store_done(st);
	return r;
}

/* Everyone chosen for any version has contributed, by their signature. */
static int
all_in(bg_vault_t *v, const rk_row_t *k, const rk_plan_t *p, bool *allp)
{
	size_t i, j;
	int r = BG_OK;

	*allp = true;
	for (i = 0; i < p->n && *allp && r == BG_OK; i++)
		for (j = 0; j < bg_policy_leaf_count(p->vs[i].oldp) &&
		    *allp && r == BG_OK; j++) {
			if (!p->vs[i].chosen[j])
				continue;
			r = contribution_ok(v, k, p, &p->vs[i],
			    bg_policy_leaf_name(p->vs[i].oldp, j), allp);
		}
	return r;
}

/* Sub-shares of x for every token of every new holder, boxed from sk. */
static int
send_subshares(bg_vault_t *v, const rk_row_t *k, const rk_plan_t *p,
    const rk_ver_t *x, const char *person, const uint8_t *sender_pk,
    const uint8_t *sk, const uint8_t *sub, const uint8_t binding[32],
    int64_t now)
{
	static const char ins_sql[] = "INSERT INTO subshares (version_id, "
	    "redist_id, from_seq, leaf, token_id, contributor, sender_pk, "
	    "blob, live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)";
	sqlite3_stmt *st = NULL;
	bg_token_row_t *toks = NULL;
	bg_seal_ad_t ad;
	uint8_t salt[BG_TOKEN_SALT_LEN];
	uint8_t blob[BG_POLICY_SHARE_LEN + BG_SEAL_SBOX_OVERHEAD];
	char rk[24];
	int64_t mid = 0;
	size_t j, i, ntoks = 0, blen = 0;
	int r = BG_OK;

	(void)snprintf(rk, sizeof(rk), "%lld", (long long)k->id);
	for (j = 0; j < bg_policy_leaf_count(p->newp) && r == BG_OK; j++) {
		const char *holder = bg_policy_leaf_name(p->newp, j);

		free(toks);
		toks = NULL;
		if ((r = bg_member_live(v, p->t.head, p->t.id, p->t.name,
		    holder, BG_VAULT_ROLE_APPROVER, now, &mid, salt)) != BG_OK ||
		    (r = bg_member_tokens(v, p->t.head, holder,
		    BG_VAULT_ROLE_APPROVER, mid, &toks, &ntoks)) != BG_OK ||
		    (r = bg_seal_ad_subshare(&ad, v->id, p->t.name, x->secret,
		    (uint64_t)x->version, j, binding, rk, person)) != BG_OK)
			break;
		for (i = 0; i < ntoks && r == BG_OK; i++) {
			if ((r = bg_seal_sbox(sk, toks[i].member_pk,
			    sub + j * BG_POLICY_SHARE_LEN, BG_POLICY_SHARE_LEN,
			    ad.buf, ad.len, blob, sizeof(blob), &blen)) !=
			    BG_OK ||
			    (r = bg_store_cached(v, ins_sql, &st)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 1, x->id)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 2, k->id)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 3, x->from_seq)) !=
			    BG_OK ||
			    (r = bg_store_bind_int(v, st, 4, (int64_t)j)) !=
			    BG_OK ||
			    (r = bg_store_bind_int(v, st, 5, toks[i].id)) !=
			    BG_OK ||
			    (r = bg_store_bind_text(v, st, 6, person)) != BG_OK ||
			    (r = bg_store_bind_blob(v, st, 7, sender_pk, 32)) !=
			    BG_OK ||
			    (r = bg_store_bind_blob(v, st, 8, blob, blen)) !=
			    BG_OK)
				break;
			r = bg_store_step_done(v, st);
			bg_store_done(st);
			st = NULL;
		}
	}
	bg_store_done(st);
	sodium_memzero(salt, sizeof(salt));
	free(toks);
	return r;
}

/*
 * The sub-shares of x this re-key holds (*np) and the number its chosen
 * contributors sent (*wantp): one per contributor, new leaf and token of
 * that leaf's holder.  A row from another re-key, or from someone not
 * chosen, makes the two differ.
 */
static int
subshares_complete(bg_vault_t *v, const rk_row_t *k, const rk_plan_t *p,
    const rk_ver_t *x, int64_t *np, int64_t *wantp)
{
	static const char all_sql[] = "SELECT count(*) FROM subshares WHERE "
	    "version_id = ? AND live = 0";
	static const char one_sql[] = "SELECT count(*) FROM subshares WHERE "
	    "version_id = ? AND redist_id = ? AND live = 0 AND contributor = ? "
	    "AND leaf = ?";
	const bg_chain_member_t *h;
	sqlite3_stmt *st = NULL;
	size_t i, j;
	int64_t got = 0;
	bool row = false;
	int r;

	*np = 0;
	*wantp = 0;
	if ((r = bg_store_int(v, all_sql, x->id, np)) != BG_OK)
		return r;
	for (i = 0; i < bg_policy_leaf_count(x->oldp); i++) {
		if (!x->chosen[i])
			continue;
		for (j = 0; j < bg_policy_leaf_count(p->newp); j++) {
			h = bg_chain_member_find(p->t.head,
			    bg_policy_leaf_name(p->newp, j),
			    BG_CHAIN_ROLE_APPROVER);
			if (h == NULL)
				return BG_ERR_INTERNAL;
			*wantp += (int64_t)h->n_tokens;
			if ((r = bg_store_cached(v, one_sql, &st)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 1, x->id)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 2, k->id)) != BG_OK ||
			    (r = bg_store_bind_text(v, st, 3,
			    bg_policy_leaf_name(x->oldp, i))) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 4, (int64_t)j)) !=
			    BG_OK ||
			    (r = bg_store_step(v, st, &row)) != BG_OK) {
				bg_store_done(st);
				return r;
			}
			got = row ? sqlite3_column_int64(st, 0) : 0;
			bg_store_done(st);
			st = NULL;
			/* each token of the holder exactly once */
			if (got != (int64_t)h->n_tokens)
				*wantp = -1;
		}
	}
	return BG_OK;
}

/* Every sub-share present: the old shares go, the new ones count.  The
 * commit is the act of the contributor whose sub-shares completed it
 * (by): no event names the machine. */
static int
commit_plan(bg_vault_t *v, const rk_row_t *k, const rk_plan_t *p,
    const char *by, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0, want = 0;
	size_t i;
	int r = BG_OK;

	for (i = 0; i < p->n && r == BG_OK; i++) {
		const rk_ver_t *x = &p->vs[i];

		/* exactly one sub-share of this re-key per chosen
		 * contributor, new leaf and holder token, and none from
		 * anyone else */
		if ((r = subshares_complete(v, k, p, x, &n, &want)) != BG_OK)
			break;
		if (n != want) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "re-key %lld: %s v%d "
			    "has %lld sub-shares where %lld were sent: the file "
			    "was altered", (long long)k->id, x->secret,
			    x->version, (long long)n, (long long)want);
			break;
		}
		if ((r = bg_store_prepare(v, "DELETE FROM shares WHERE "
		    "version_id = ?", &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, x->id)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			break;
		sqlite3_finalize(st);
		st = NULL;
		if ((r = bg_store_prepare(v, "DELETE FROM subshares WHERE "
		    "version_id = ? AND live = 1", &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, x->id)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			break;
		sqlite3_finalize(st);
		st = NULL;
		if ((r = bg_store_prepare(v, "UPDATE subshares SET live = 1 "
		    "WHERE version_id = ? AND redist_id = ?", &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, x->id)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 2, k->id)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			break;
		sqlite3_finalize(st);
		st = NULL;
		if ((r = bg_store_prepare(v, "UPDATE versions SET chain_seq = ?, "
		    "chain_head = ?, policy = ?, policy_hash = ? WHERE id = ?",
		    &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, (int64_t)p->t.head->seq)) !=
		    BG_OK ||
		    (r = bg_store_bind_blob(v, st, 2, p->t.head_hash, 32)) !=
		    BG_OK ||
		    (r = bg_store_bind_text(v, st, 3,
		    bg_policy_canonical(p->newp))) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 4, bg_policy_hash(p->newp),
		    BG_POLICY_HASH_LEN)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 5, x->id)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			break;
		sqlite3_finalize(st);
		st = NULL;
	}
	sqlite3_finalize(st);
	if (r != BG_OK)
		return r;
	if ((r = bg_store_prepare(v, "UPDATE redist SET state = 2, "
	    "closed_at = ? WHERE id = ?", &st)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 1, now)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 2, k->id)) == BG_OK)
		r = bg_store_step_done(v, st);
	sqlite3_finalize(st);
	if (r != BG_OK)
		return r;
	return bg_audit_append(v, now, by, "rekey.commit", k->tenant, "",
	    json_pack("{s:I, s:I, s:I}", "rekey", (json_int_t)k->id, "to_seq",
	    (json_int_t)k->to_seq, "versions", (json_int_t)p->n));
}

int
bg_vault_rekey_contribute(bg_vault_t *v, int64_t id, const char *person,
    const uint8_t shown_hash[BG_VAULT_HASH_LEN], bg_token_t *tok,
    const char *pin, bool *committedp)
{
	rk_row_t k;
	rk_plan_t p;
	sqlite3_stmt *st = NULL;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	const bg_chain_member_t *m;
	uint8_t salt[BG_TOKEN_SALT_LEN], hash[BG_VAULT_HASH_LEN], cdh[32];
	uint8_t binding[32], *sk = NULL, *work = NULL;
	char *text = NULL, tenant[BG_VAULT_NAME_MAX + 1];
	int64_t now = 0, mid = 0, n = 0;
	size_t i, leaf = 0, ntoks = 0, which = 0, nmine = 0, nl, wlen;
	bool all = false, have_salt = false;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	memset(&p, 0, sizeof(p));
	tenant[0] = '\0';
	if (committedp != NULL)
		*committedp = false;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "person", person)) != BG_OK)
		goto out;
	if (shown_hash == NULL || tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the statement hash "
		    "shown, the contributor's token and PIN are needed");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	(void)snprintf(tenant, sizeof(tenant), "%s", k.tenant);
	if ((r = rk_plan(v, &k, now, &p)) != BG_OK ||
	    (r = no_open_requests(v, &p.t, now)) != BG_OK)
		goto out;
	/* Who contributes is fixed by the statement; once each. */
	for (i = 0; i < p.n; i++) {
		if (!is_chosen(&p.vs[i], person, &leaf))
			continue;
		m = bg_chain_member_find(p.vs[i].from, person,
		    BG_CHAIN_ROLE_APPROVER);
		if (m == NULL) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if (have_salt && !bg_same(salt, m->salt, sizeof(salt))) {
			r = bg_vault_fail(v, BG_ERR_STATE, "%s's versions in "
			    "re-key %lld were sealed under different "
			    "memberships of theirs: re-key them apart", person,
			    (long long)id);
			goto out;
		}
		memcpy(salt, m->salt, sizeof(salt));
		have_salt = true;
		nmine++;
	}
	if (nmine == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not a contributor of "
		    "re-key %lld", person, (long long)id);
		goto out;
	}
	if ((r = bg_store_cached(v, contributed_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK)
		goto out;
	{
		bool row = false;

		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		n = row ? sqlite3_column_int64(st, 0) : 0;
	}
	bg_store_done(st);
	st = NULL;
	if (n > 0) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, "%s contributed to re-key "
		    "%lld already", person, (long long)id);
		goto out;
	}
	/* Live in the newest link; the keys are those of the sealing link. */
	{
		uint8_t s2[BG_TOKEN_SALT_LEN];

		r = bg_member_live(v, p.t.head, p.t.id, p.t.name, person,
		    BG_VAULT_ROLE_APPROVER, now, &mid, s2);
		sodium_memzero(s2, sizeof(s2));
		if (r != BG_OK)
			goto out;
	}
	for (i = 0; i < p.n && !is_chosen(&p.vs[i], person, &leaf); i++)
		;
	if ((r = bg_member_tokens(v, p.vs[i].from, person,
	    BG_VAULT_ROLE_APPROVER, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	if ((r = bg_statement_full(v, p.body, &text, hash)) != BG_OK)
		goto out;
	if (memcmp(hash, shown_hash, sizeof(hash)) != 0) { /* public: hash */
		r = bg_vault_fail(v, BG_ERR_STATE, "the statement of re-key "
		    "%lld changed since it was shown (the audit log moved on); "
		    "show it again", (long long)id);
		goto out;
	}
	bg_statement_cdh("rekey", text, cdh);
	if ((r = bg_act_sign(v, tok, pin, person, toks, ntoks, cdh, salt, &as,
	    &which)) != BG_OK ||
	    (r = bg_member_sk(v, person, &toks[which], as, &sk)) != BG_OK)
		goto out;
	bg_share_binding(bg_policy_hash(p.newp), p.t.head_hash, binding);
	nl = bg_policy_leaf_count(p.newp);
	/* own share, scaled, and its split: one guarded region */
	wlen = 2 * BG_POLICY_SHARE_LEN + nl * BG_POLICY_SHARE_LEN +
	    bg_policy_split_work_len(p.newp);
	if ((work = sodium_malloc(wlen)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < p.n; i++) {
		rk_ver_t *x = &p.vs[i];
		uint8_t xb[32], *own = work, *u = work + BG_POLICY_SHARE_LEN;
		uint8_t *sub = u + BG_POLICY_SHARE_LEN;
		uint8_t *split = sub + nl * BG_POLICY_SHARE_LEN;
		bg_share_ref_t ref;

		if (!is_chosen(x, person, &leaf))
			continue;
		bg_share_binding(bg_policy_hash(x->oldp), x->from_head, xb);
		ref.tenant = p.t.name;
		ref.secret = x->secret;
		ref.version = x->version;
		ref.version_id = x->id;
		ref.leaf = leaf;
		ref.binding = xb;
		if ((r = bg_share_open(v, &ref, person, &toks[which], sk, own))
		    != BG_OK)
			goto out;
		bg_policy_scale(u, x->coeff[leaf], own);
		sodium_memzero(own, BG_POLICY_SHARE_LEN);
		r = bg_policy_split_with(p.newp, u, sub,
		    bg_policy_split_work_len(p.newp) != 0 ? split : NULL, NULL,
		    NULL);
		sodium_memzero(u, BG_POLICY_SHARE_LEN);
		if (r != BG_OK)
			goto out;
		r = send_subshares(v, &k, &p, x, person, toks[which].member_pk,
		    sk, sub, binding, now);
		sodium_memzero(sub, nl * BG_POLICY_SHARE_LEN);
		if (r != BG_OK)
			goto out;
	}
	sodium_free(sk);
	sk = NULL;
	if ((r = bg_store_prepare(v, "INSERT INTO redist_contrib (redist_id, "
	    "person, created_at, statement, authdata, sig) VALUES (?, ?, ?, ?, "
	    "?, ?)", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 4, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, as->authdata, as->authdata_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 6, as->sig, as->sig_len)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	{
		char hx[65];

		bg_hex(hash, sizeof(hash), hx);
		if ((r = bg_audit_append(v, now, person, "rekey.contribute",
		    p.t.name, "", json_pack("{s:I, s:I, s:s, s:s}", "rekey",
		    (json_int_t)id, "versions", (json_int_t)nmine,
		    "statement_hash", hx, "token", toks[which].label))) !=
		    BG_OK)
			goto out;
	}
	if ((r = all_in(v, &k, &p, &all)) != BG_OK ||
	    (all && (r = commit_plan(v, &k, &p, person, now)) != BG_OK) ||
	    (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (all)
		(void)bg_store_checkpoint(v);	/* old shares destroyed */
	if (committedp != NULL)
		*committedp = all;
	r = BG_OK;
out:
	bg_store_done(st);
	if (work != NULL)
		sodium_free(work);
	if (sk != NULL)
		sodium_free(sk);
	bg_token_assertion_free(&as);
	free(toks);
	free(text);
	free(k.body);
	plan_clear(&p);
	sodium_memzero(salt, sizeof(salt));
	return bg_vault_finish(v, r, person, "rekey.contribute", tenant, "");
}

/* --- abort and show ------------------------------------------------------------- */

int
bg_vault_rekey_abort(bg_vault_t *v, const bg_vault_signer_t *by, int64_t id)
{
	const char *actor = by != NULL ? by->person : NULL;
	rk_row_t k;
	bg_tenant_row_t t;
	bg_admin_t a;
	sqlite3_stmt *st = NULL;
	json_t *det = NULL;
	int64_t now = 0;
	char tenant[BG_VAULT_NAME_MAX + 1], *lines = NULL;
	bool checked = false;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	tenant[0] = '\0';
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	(void)snprintf(tenant, sizeof(tenant), "%s", k.tenant);
	if ((r = bg_tenant_get(v, k.tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR |
	    BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK)
		goto out;
	if (k.state != RK_OPEN) {
		r = bg_vault_fail(v, BG_ERR_STATE, "re-key %lld is %s",
		    (long long)id, bg_vault_rekey_state_name(k.state));
		goto out;
	}
	if ((r = bg_store_prepare(v, "DELETE FROM subshares WHERE "
	    "redist_id = ? AND live = 0", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "UPDATE redist SET state = 3, closed_at = "
	    "? WHERE id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, id)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if ((det = json_pack("{s:I}", "rekey", (json_int_t)id)) == NULL ||
	    bg_strcatf(&lines, "rekey: %lld\n", (long long)id) != BG_OK) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_act(v, k.tenant, &a, by, "rekey.abort", lines, now,
	    det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "rekey.abort", k.tenant, "", det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	(void)bg_store_checkpoint(v);
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	bg_tenant_row_clear(&t);
	free(k.body);
	return bg_vault_finish(v, r, actor, "rekey.abort", tenant, "");
}

int
bg_vault_rekey_show(bg_vault_t *v, int64_t id, bg_vault_rekey_info_t **infop)
{
	rk_row_t k;
	bg_vault_rekey_info_t *ri = NULL;
	sqlite3_stmt *st = NULL;
	bool row = false;
	size_t used = 0;
	int r = BG_ERR_INTERNAL;

	memset(&k, 0, sizeof(k));
	if (infop == NULL)
		return BG_ERR_INVALID_ARG;
	*infop = NULL;
	bg_vault_clear_err(v);
	if ((r = rk_get(v, id, &k)) != BG_OK)
		goto out;
	if ((ri = calloc(1, sizeof(*ri))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	ri->id = k.id;
	ri->state = k.state;
	ri->to_seq = (uint64_t)k.to_seq;
	(void)snprintf(ri->tenant, sizeof(ri->tenant), "%s", k.tenant);
	ri->body = k.body;
	k.body = NULL;
	if ((r = bg_store_prepare(v, "SELECT person FROM redist_contrib WHERE "
	    "redist_id = ? ORDER BY created_at, person", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if (used < sizeof(ri->contributed))
			used += (size_t)snprintf(ri->contributed + used,
			    sizeof(ri->contributed) - used, "%s%s",
			    used > 0 ? ", " : "",
			    (const char *)sqlite3_column_text(st, 0));
	}
	*infop = ri;
	ri = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(k.body);
	bg_vault_rekey_free(&ri);
	return bg_vault_fail_default(v, r);
}

void
bg_vault_rekey_free(bg_vault_rekey_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free((*p)->body);
	free(*p);
	*p = NULL;
}
