/*
 * Secrets and their versions: sealing (value AEAD, data key split by the
 * policy tree, each leaf share sealed to every token key of its approver)
 * and the metadata views.  Values never leave here except via release.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "lifecycle_int.h"
#include "policy.h"
#include "seal.h"
#include "vault_int.h"

const char *
bg_vault_secret_state_name(int state)
{
	switch (state) {
	case BG_VAULT_SECRET_SEALED:		return "sealed";
	case BG_VAULT_SECRET_RELEASED:		return "released";
	case BG_VAULT_SECRET_ROTATION_DUE:	return "rotation-due";
	case BG_VAULT_SECRET_OVERDUE:		return "overdue";
	default:				return "?";
	}
}

const char *
bg_vault_version_state_name(int state)
{
	switch (state) {
	case BG_VAULT_VERSION_PENDING:	return "pending";
	case BG_VAULT_VERSION_SEALED:	return "sealed";
	case BG_VAULT_VERSION_SPENT:	return "spent";
	case BG_VAULT_VERSION_RETIRED:	return "retired";
	default:			return "?";
	}
}

/* One share box to one token, and its row. */
typedef struct seal_to {
	int64_t	 token_id;
	size_t	 leaf;
	uint8_t	 pk[BG_SEAL_PK_LEN];
} seal_to_t;

/* Who the shares of a policy go to: every live token of each leaf. */
typedef struct recipients {
	seal_to_t	*to;
	size_t		 n, cap;
} recipients_t;

static void
recipients_clear(recipients_t *rc)
{
	free(rc->to);
	memset(rc, 0, sizeof(*rc));
}

/*
 * Append the tokens that the verified head link gives leaf's approver
 * (their membership keys are what the chain vouches for); the rows give
 * only the ids that share rows refer to.  BG_ERR_STATE when there is none.
 */
static int
recipients_add_leaf(bg_vault_t *v, const bg_tenant_row_t *t, size_t leaf,
    const char *name, recipients_t *rc)
{
	static const char id_sql[] = "SELECT k.id FROM tokens k JOIN "
	    "memberships m ON m.id = k.membership_id WHERE m.tenant_id = ? AND "
	    "m.person = ? AND m.role = 2 AND k.cred_id = ?";
	const bg_chain_member_t *m;
	sqlite3_stmt *q = NULL;
	size_t j;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	m = t->head != NULL ? bg_chain_member_find(t->head, name,
	    BG_CHAIN_ROLE_APPROVER) : NULL;
	if (m == NULL || m->n_tokens == 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "approver '%s' has no "
		    "enrolled token in %s", name, t->name);
		goto out;
	}
	for (j = 0; j < m->n_tokens; j++) {
		if ((r = bg_store_cached(v, id_sql, &q)) != BG_OK ||
		    (r = bg_store_bind_int(v, q, 1, t->id)) != BG_OK ||
		    (r = bg_store_bind_text(v, q, 2, name)) != BG_OK ||
		    (r = bg_store_bind_blob(v, q, 3, m->tokens[j].cred_id,
		    m->tokens[j].cred_id_len)) != BG_OK ||
		    (r = bg_store_step(v, q, &row)) != BG_OK)
			goto out;
		if (!row) {
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "the token row of "
			    "%s's '%s' is missing: the file was altered", name,
			    m->tokens[j].label);
			goto out;
		}
		if ((r = bg_grow(&rc->to, &rc->cap, rc->n, sizeof(*rc->to))) !=
		    BG_OK)
			goto out;
		rc->to[rc->n].token_id = sqlite3_column_int64(q, 0);
		rc->to[rc->n].leaf = leaf;
		memcpy(rc->to[rc->n].pk, m->tokens[j].member_pk,
		    BG_SEAL_PK_LEN);
		rc->n++;
		bg_store_done(q);
		q = NULL;
	}
	r = BG_OK;
out:
	bg_store_done(q);
	return r;
}

/* Every leaf of pol, in leaf order (loaded once per batch). */
static int
recipients_load(bg_vault_t *v, const bg_tenant_row_t *t,
    const bg_policy_t *pol, recipients_t *rc)
{
	size_t i;
	int r = BG_OK;

	memset(rc, 0, sizeof(*rc));
	for (i = 0; i < bg_policy_leaf_count(pol) && r == BG_OK; i++)
		r = recipients_add_leaf(v, t, i, bg_policy_leaf_name(pol, i),
		    rc);
	if (r != BG_OK)
		recipients_clear(rc);
	return r;
}

/* Seal share (the share of to->leaf) to to's key with ad; insert the row. */
static int
seal_share_to(bg_vault_t *v, bg_seal_eph_t *eph, const bg_seal_ad_t *ad,
    int64_t version_id, const seal_to_t *to, const uint8_t *share)
{
	static const char insert_sql[] = "INSERT INTO shares (version_id, "
	    "leaf, token_id, blob) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *ins = NULL;
	uint8_t blob[BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD];
	size_t blen = 0;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_seal_box_eph(eph, to->pk, share, BG_POLICY_SHARE_LEN,
	    ad->buf, ad->len, blob, sizeof(blob), &blen)) != BG_OK ||
	    (r = bg_store_cached(v, insert_sql, &ins)) != BG_OK ||
	    (r = bg_store_bind_int(v, ins, 1, version_id)) != BG_OK ||
	    (r = bg_store_bind_int(v, ins, 2, (int64_t)to->leaf)) != BG_OK ||
	    (r = bg_store_bind_int(v, ins, 3, to->token_id)) != BG_OK ||
	    (r = bg_store_bind_blob(v, ins, 4, blob, blen)) != BG_OK)
		goto out;
	r = bg_store_step_done(v, ins);
out:
	bg_store_done(ins);
	return r;
}

/*
 * A version's secrets while it is sealed, in one guarded mapping that a
 * batch reuses for every secret (sodium_malloc costs more than the seal's
 * symmetric crypto); wiped after each version.
 */
typedef struct seal_work {
	size_t		len;		/* of the whole mapping */
	uint8_t	       *shares;		/* leaves x BG_POLICY_SHARE_LEN */
	uint8_t	       *split;		/* bg_policy_split_with() scratch */
	bg_seal_eph_t	eph;
	uint8_t		key[BG_SEAL_KEY_LEN];
	uint8_t		mem[];
} seal_work_t;

static void
seal_work_free(seal_work_t **wp)
{
	if (wp == NULL || *wp == NULL)
		return;
	sodium_memzero(*wp, (*wp)->len);
	sodium_free(*wp);
	*wp = NULL;
}

static int
seal_work_new(const bg_policy_t *pol, seal_work_t **wp)
{
	seal_work_t *w = NULL;
	size_t nshares, nsplit, len;
	int r = BG_ERR_INTERNAL;

	*wp = NULL;
	nshares = bg_policy_leaf_count(pol) * BG_POLICY_SHARE_LEN;
	nsplit = bg_policy_split_work_len(pol);
	len = sizeof(*w) + nshares + nsplit;
	if ((w = sodium_malloc(len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	sodium_memzero(w, len);
	w->len = len;
	w->shares = w->mem;
	w->split = nsplit != 0 ? w->mem + nshares : NULL;
	*wp = w;
	w = NULL;
	r = BG_OK;
out:
	seal_work_free(&w);
	return r;
}

/*
 * Seal one version under pol, the policy of t's verified head link; the
 * shares are bound to that link's hash.  w from seal_work_new(pol).
 */
/*
 * What an operator's seal statement says of one version (admin.c has
 * the statement around it): the name and number, the hash of the value
 * ciphertext, of the share ciphertexts and the key commitment.  Whoever
 * writes the file cannot swap in a value or a share of their own
 * without changing a line the operator signed.
 */
static int
seal_line(bg_vault_t *v, const char *secret, int version, size_t value_len,
    const uint8_t *blob, size_t blen, int64_t version_id,
    const uint8_t commit[32], char **linep)
{
	uint8_t hv[32], hs[32];
	char xv[65], xs[65], xc[65];
	int r;

	*linep = NULL;
	if ((r = bg_seal_shares_hash(v, version_id, hs)) != BG_OK)
		return r;
	crypto_hash_sha256(hv, blob, blen);
	bg_hex(hv, sizeof(hv), xv);
	bg_hex(hs, sizeof(hs), xs);
	bg_hex(commit, 32, xc);
	return bg_strcatf(linep, "value: %s version %d, %zu bytes, "
	    "ciphertext %s, shares %s, key-commitment %s\n", secret, version,
	    value_len, xv, xs, xc);
}

int
bg_seal_shares_hash(bg_vault_t *v, int64_t version_id, uint8_t out[32])
{
	static const char sql[] = "SELECT leaf, blob FROM shares WHERE "
	    "version_id = ? ORDER BY leaf, blob";
	crypto_hash_sha256_state h;
	sqlite3_stmt *st = NULL;
	uint8_t be[8];
	uint64_t leaf, len;
	bool row = false;
	int i, r = BG_ERR_INTERNAL;

	crypto_hash_sha256_init(&h);
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, version_id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		/* each share framed: leaf and length, big-endian */
		leaf = (uint64_t)sqlite3_column_int64(st, 0);
		len = (uint64_t)sqlite3_column_bytes(st, 1);
		for (i = 0; i < 8; i++)
			be[i] = (uint8_t)(leaf >> (56 - 8 * i));
		crypto_hash_sha256_update(&h, be, 8);
		for (i = 0; i < 8; i++)
			be[i] = (uint8_t)(len >> (56 - 8 * i));
		crypto_hash_sha256_update(&h, be, 8);
		if (len > 0)
			crypto_hash_sha256_update(&h,
			    sqlite3_column_blob(st, 1), len);
	}
	crypto_hash_sha256_final(&h, out);
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/* The versions one seal statement covers, and its lines (a batch of
 * thousands grows them by doubling, not by copying each time). */
typedef struct seal_batch {
	char		*lines;
	size_t		 len, lcap;
	int64_t		*ids;
	size_t		 n, cap;
} seal_batch_t;

static int
seal_batch_add(seal_batch_t *b, int64_t version_id, const char *line)
{
	size_t n = strlen(line), ncap;
	char *p;
	int r;

	if ((r = bg_grow(&b->ids, &b->cap, b->n, sizeof(*b->ids))) != BG_OK)
		return r;
	if (b->len + n + 1 > b->lcap) {
		for (ncap = b->lcap != 0 ? b->lcap : 1024;
		    ncap < b->len + n + 1; ncap *= 2)
			;
		if ((p = realloc(b->lines, ncap)) == NULL)
			return BG_ERR_NOMEM;
		b->lines = p;
		b->lcap = ncap;
	}
	memcpy(b->lines + b->len, line, n + 1);
	b->len += n;
	b->ids[b->n++] = version_id;
	return BG_OK;
}

static void
seal_batch_clear(seal_batch_t *b)
{
	free(b->lines);
	free(b->ids);
	memset(b, 0, sizeof(*b));
}

static int
seal_version(bg_vault_t *v, const bg_tenant_row_t *t, const bg_policy_t *pol,
    const recipients_t *rc, seal_work_t *w, int64_t secret_id,
    const char *secret, int version, int state, int64_t now,
    const uint8_t *value, size_t len, json_t *details, seal_batch_t *batch)
{
	static const char insert_sql[] = "INSERT INTO versions (secret_id, "
	    "version, state, sealed_at, policy, policy_hash, value_len, blob, "
	    "chain_seq, chain_head, key_commit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?)";
	sqlite3_stmt *st = NULL;
	bg_seal_ad_t ad;
	uint8_t binding[32], commit[32];
	uint8_t *blob = NULL;
	size_t i, nleaves = bg_policy_leaf_count(pol), blen = 0, cap;
	int64_t version_id;
	char ph[2 * BG_POLICY_HASH_LEN + 1];
	int r = BG_ERR_INTERNAL;

	if (value == NULL || len == 0 || len > BG_VAULT_VALUE_MAX) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the value must have 1 to "
		    "%d bytes", BG_VAULT_VALUE_MAX);
		goto out;
	}
	cap = len + BG_SEAL_VALUE_OVERHEAD;
	if ((blob = malloc(cap)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_seal_data_key(w->key)) != BG_OK ||
	    (r = bg_seal_eph_init(&w->eph)) != BG_OK)
		goto out;
	if ((r = bg_seal_key_commit(v->id, t->name, secret, (uint64_t)version,
	    w->key, commit)) != BG_OK ||
	    (r = bg_seal_ad_value(&ad, v->id, t->name, secret,
	    (uint64_t)version, BG_SEAL_NO_POLICY)) != BG_OK ||
	    (r = bg_seal_value(w->key, value, len, ad.buf, ad.len, blob, cap,
	    &blen)) != BG_OK)
		goto out;
	r = bg_policy_split_with(pol, w->key, w->shares, w->split, NULL,
	    NULL);
	sodium_memzero(w->key, BG_SEAL_KEY_LEN);
	if (r != BG_OK)
		goto out;
	if ((r = bg_store_cached(v, insert_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, secret_id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, version)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, state)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, now)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 5, bg_policy_canonical(pol)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 6, bg_policy_hash(pol),
	    BG_POLICY_HASH_LEN)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 7, (int64_t)len)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, blob, blen)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 9, (int64_t)t->head->seq)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 10, t->head_hash, 32)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 11, commit, 32)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	version_id = sqlite3_last_insert_rowid(v->db);
	bg_share_binding(bg_policy_hash(pol), t->head_hash, binding);
	for (i = 0; i < rc->n; i++) {
		/* recipients come in leaf order: one AD per leaf */
		if ((i == 0 || rc->to[i].leaf != rc->to[i - 1].leaf) &&
		    (r = bg_seal_ad_share(&ad, v->id, t->name, secret,
		    (uint64_t)version, rc->to[i].leaf, binding)) != BG_OK)
			goto out;
		if (rc->to[i].leaf >= nleaves) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if ((r = seal_share_to(v, &w->eph, &ad, version_id, &rc->to[i],
		    w->shares + rc->to[i].leaf * BG_POLICY_SHARE_LEN)) !=
		    BG_OK)
			goto out;
	}
	{
		char *line = NULL;

		if ((r = seal_line(v, secret, version, len, blob, blen,
		    version_id, commit, &line)) == BG_OK)
			r = seal_batch_add(batch, version_id, line);
		free(line);
		if (r != BG_OK)
			goto out;
	}
	bg_hex(bg_policy_hash(pol), BG_POLICY_HASH_LEN, ph);
	if (details != NULL &&
	    (json_object_set_new(details, "version", json_integer(version)) ||
	    json_object_set_new(details, "policy_hash", json_string(ph)) ||
	    json_object_set_new(details, "policy",
	    json_string(bg_policy_canonical(pol))) ||
	    json_object_set_new(details, "value_len",
	    json_integer((json_int_t)len)))) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	/* everything secret: eph, key, shares, split scratch */
	sodium_memzero(&w->eph, w->len - offsetof(seal_work_t, eph));
	free(blob);
	return r;
}

/*
 * A policy the MSP alone can meet stands only while the exception the
 * client signed for it lasts; after it, nothing is sealed under it.
 */
static int
exception_in_force(bg_vault_t *v, const bg_chain_link_t *l,
    const char *tenant)
{
	char when[32];
	bool alone = false;
	int r;

	if ((r = bg_chain_msp_alone(l, &alone)) != BG_OK || !alone)
		return r;
	if (l->has_exception && l->exception_expires > bg_vault_read_now(v))
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_STATE, "the exception that lets the "
	    "MSP approve its own access to %s ended at %s: the client signs "
	    "a new policy first (vault policy set)", tenant,
	    bg_vault_fmt_time(l->exception_expires, when, sizeof(when)));
}

/*
 * The policy of the tenant's verified head link, parsed, and who its
 * shares go to: every key comes from the chain that bg_tenant_get()
 * verified from the genesis by signatures in this transaction, never
 * from a row (docs/security.md, "What a seal checks").
 */
static int
checked_policy(bg_vault_t *v, const bg_tenant_row_t *t, bg_policy_t **polp,
    recipients_t *rc)
{
	int r = BG_ERR_INTERNAL;

	*polp = NULL;
	memset(rc, 0, sizeof(*rc));
	/* a re-key moves shares: nothing new is sealed meanwhile */
	if ((r = bg_rekey_open_check(v, t)) != BG_OK)
		goto out;
	if (t->head == NULL || t->head->policy == NULL) {
		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' has no signed "
		    "policy yet: set one and have the draft signed (vault "
		    "policy set; vault chain sign)", t->name);
		goto out;
	}
	if (bg_policy_parse(t->head->policy, polp, NULL) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the signed policy of '%s' "
		    "does not parse", t->name);
		goto out;
	}
	if ((r = exception_in_force(v, t->head, t->name)) != BG_OK)
		goto out;
	r = recipients_load(v, t, *polp, rc);
out:
	if (r != BG_OK)
		bg_policy_free(polp);
	return r;
}

/*
 * The operator a signs the seal statement of batch b: the policy and one
 * line per version (seal_line).  The versions then name the act, which
 * approvals and releases check (bg_seal_check).  det gets "signed".
 */
static int
seal_sign(bg_vault_t *v, const bg_tenant_row_t *t, const bg_policy_t *pol,
    bg_admin_t *a, const seal_batch_t *b, const bg_vault_signer_t *by,
    int64_t now, json_t *det)
{
	static const char mark_sql[] = "UPDATE versions SET seal_act = ? "
	    "WHERE id = ?";
	sqlite3_stmt *st = NULL;
	char ph[2 * BG_POLICY_HASH_LEN + 1], *lines = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	bg_hex(bg_policy_hash(pol), BG_POLICY_HASH_LEN, ph);
	if (asprintf(&lines, "policy: %s\npolicy-hash: %s\nvalues: %zu\n%s",
	    bg_policy_canonical(pol), ph, b->n, b->lines != NULL ? b->lines :
	    "") < 0) {
		lines = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_sign(v, t->name, a, "seal", lines, by->tok, by->pin,
	    now, det)) != BG_OK)
		goto out;
	for (i = 0; i < b->n; i++) {
		if ((r = bg_store_cached(v, mark_sql, &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, a->act_id)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 2, b->ids[i])) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			goto out;
		bg_store_done(st);
		st = NULL;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	free(lines);
	return r;
}

int
bg_secret_seal(bg_vault_t *v, const bg_tenant_row_t *t, bg_admin_t *a,
    const bg_vault_signer_t *by, int64_t secret_id, const char *secret,
    int version, int state, int64_t now, const uint8_t *value, size_t len,
    json_t *details)
{
	bg_policy_t *pol = NULL;
	recipients_t rc;
	seal_work_t *w = NULL;
	seal_batch_t b;
	int r = BG_ERR_INTERNAL;

	memset(&rc, 0, sizeof(rc));
	memset(&b, 0, sizeof(b));
	if ((r = checked_policy(v, t, &pol, &rc)) != BG_OK ||
	    (r = seal_work_new(pol, &w)) != BG_OK)
		goto out;
	if ((r = seal_version(v, t, pol, &rc, w, secret_id, secret, version,
	    state, now, value, len, details, &b)) != BG_OK)
		goto out;
	r = seal_sign(v, t, pol, a, &b, by, now, details);
out:
	seal_batch_clear(&b);
	seal_work_free(&w);
	recipients_clear(&rc);
	bg_policy_free(&pol);
	return r;
}

int
bg_vault_secret_add_many(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, size_t n, const char *const *names,
    const uint8_t *const *values, const size_t *lens)
{
	static const char insert_sql[] = "INSERT INTO secrets (tenant_id, "
	    "name, created_at) VALUES (?, ?, ?)";
	bg_tenant_row_t t;
	bg_admin_t a;
	bg_policy_t *pol = NULL;
	recipients_t rc;
	seal_work_t *w = NULL;
	seal_batch_t b;
	sqlite3_stmt *st = NULL;
	json_t **dets = NULL, *sig = NULL;
	const char *name = n == 1 && names != NULL ? names[0] : NULL;
	const char *person = by != NULL ? by->person : NULL;
	int64_t now = 0, *sids = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	memset(&rc, 0, sizeof(rc));
	memset(&b, 0, sizeof(b));
	bg_vault_clear_err(v);
	if (n == 0 || n > BG_VAULT_ADD_MANY_MAX || names == NULL ||
	    values == NULL || lens == NULL || by == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "between 1 and %d "
		    "secrets can be added at once, by a named operator",
		    BG_VAULT_ADD_MANY_MAX);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = bg_vault_check_name(v, "secret name", names[i])) !=
		    BG_OK)
			goto out;
	if ((sids = calloc(n, sizeof(*sids))) == NULL ||
	    (dets = calloc(n, sizeof(*dets))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR, now, &a))
	    != BG_OK)
		goto out;
	/* One chain check for the batch (bg_tenant_get): nothing else
	 * changes the tenant inside this transaction. */
	if ((r = checked_policy(v, &t, &pol, &rc)) != BG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = bg_store_cached(v, insert_sql, &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, t.id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2, names[i])) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK)
			goto out;
		if ((r = bg_store_step_done(v, st)) != BG_OK) {
			if (r == BG_ERR_EXISTS)
				r = bg_vault_fail(v, r, "secret '%s/%s' already "
				    "exists (use vault rotate to replace its "
				    "value)", t.name, names[i]);
			goto out;
		}
		sids[i] = sqlite3_last_insert_rowid(v->db);
		bg_store_done(st);
		st = NULL;
	}
	if (by->tok == NULL) {	/* check only: nothing is sealed */
		bg_store_rollback(v);
		r = BG_OK;
		goto out;
	}
	if ((r = seal_work_new(pol, &w)) != BG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((dets[i] = json_object()) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		if ((r = seal_version(v, &t, pol, &rc, w, sids[i], names[i], 1,
		    BG_VAULT_VERSION_SEALED, now, values[i], lens[i], dets[i],
		    &b)) != BG_OK)
			goto out;
	}
	/* One touch for the batch: the operator signs every line. */
	if ((sig = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = seal_sign(v, &t, pol, &a, &b, by, now, sig)) != BG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (json_object_set(dets[i], "signed", json_object_get(sig,
		    "signed")) != 0) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		r = bg_audit_append(v, now, by->person, "secret.add", t.name,
		    names[i], dets[i]);
		dets[i] = NULL;
		if (r != BG_OK)
			goto out;
	}
	if ((r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	bg_store_done(st);
	for (i = 0; dets != NULL && i < n; i++)
		json_decref(dets[i]);
	free(dets);
	free(sids);
	json_decref(sig);
	seal_batch_clear(&b);
	seal_work_free(&w);
	recipients_clear(&rc);
	bg_policy_free(&pol);
	bg_admin_clear(&a);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, person, "secret.add", tenant, name);
}

int
bg_vault_secret_add(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *name, const uint8_t *value, size_t len)
{
	return bg_vault_secret_add_many(v, by, tenant, 1, &name, &value,
	    &len);
}

int64_t
bg_seal_link_seq(const char *statement)
{
	const char *p = strstr(statement, "\nkeyset: link ");
	long long n = -1;

	if (p == NULL || sscanf(p, "\nkeyset: link %lld, ", &n) != 1 || n < 1)
		return -1;
	return (int64_t)n;
}

/*
 * Whether the statement holds the line want, exactly; with any_shares,
 * whatever share hash it names (a re-key replaced the shares the
 * operator sealed and left no plain share: the sub-shares are
 * authenticated by their senders and the key they rebuild by the key
 * commitment, which is still checked).
 */
static bool
seal_line_in(const char *statement, const char *want, bool any_shares)
{
	const char *sh = strstr(want, ", shares "), *p, *q;
	size_t pre;

	if (!any_shares || sh == NULL) {
		for (p = statement; (p = strstr(p, want)) != NULL; p++)
			if (p != statement && p[-1] == '\n')
				return true;
		return false;
	}
	pre = (size_t)(sh - want) + strlen(", shares ");
	for (p = statement; (p = strstr(p, "\nvalue: ")) != NULL; p++) {
		q = p + 1;
		if (strncmp(q, want, pre) == 0 &&
		    strspn(q + pre, "0123456789abcdef") == 64 &&
		    strncmp(q + pre + 64, want + pre + 64,
		    strlen(want + pre + 64)) == 0)
			return true;
	}
	return false;
}

int
bg_seal_check(bg_vault_t *v, const bg_tenant_row_t *t, int64_t version_id,
    char sealer[BG_VAULT_NAME_MAX + 1])
{
	static const char sql[] = "SELECT x.seal_act, s.name, x.version, "
	    "x.value_len, x.blob, x.key_commit, x.chain_seq FROM versions x "
	    "JOIN secrets s ON s.id = x.secret_id WHERE x.id = ?";
	sqlite3_stmt *st = NULL;
	bg_act_row_t ar;
	bg_chain_link_t *l = NULL;
	uint8_t lh[BG_VAULT_HASH_LEN];
	char name[BG_VAULT_NAME_MAX + 1], *line = NULL;
	int64_t when = 0, seq, nplain = 0;
	bool row = false, rekeyed;
	int version, r = BG_ERR_INTERNAL;

	memset(&ar, 0, sizeof(ar));
	if (sealer != NULL)
		sealer[0] = '\0';
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, version_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no such version");
		goto out;
	}
	bg_store_col_text(st, 1, name, sizeof(name));
	version = sqlite3_column_int(st, 2);
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "version %d of %s/%s carries "
		    "no operator's signed seal (sealed before schema 9, or the "
		    "file was altered): an operator rotates it (vault rotate "
		    "begin)", version, t->name, name);
		goto out;
	}
	if (sqlite3_column_bytes(st, 5) != 32) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "version %d of %s/%s has no "
		    "key commitment: the file was altered", version, t->name,
		    name);
		goto out;
	}
	if ((r = seal_line(v, name, version,
	    (size_t)sqlite3_column_int64(st, 3), sqlite3_column_blob(st, 4),
	    (size_t)sqlite3_column_bytes(st, 4), version_id,
	    sqlite3_column_blob(st, 5), &line)) != BG_OK ||
	    (r = bg_admin_load(v, sqlite3_column_int64(st, 0), &ar)) != BG_OK)
		goto out;
	/* The operator must have been one in the link the seal names,
	 * verified from the genesis like any link. */
	if ((seq = bg_seal_link_seq(ar.statement)) < 0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the seal of %s/%s v%d names "
		    "no keyset link: the file was altered", t->name, name,
		    version);
		goto out;
	}
	if (t->head != NULL && t->head->seq == (uint64_t)seq)
		memcpy(lh, t->head_hash, sizeof(lh));
	else if ((r = bg_chain_tenant(v, t->name, (uint64_t)seq, &l, lh)) !=
	    BG_OK)
		goto out;
	if ((r = bg_admin_verify(v, &ar, "seal", t->name, l != NULL ? l :
	    t->head, lh, BG_VAULT_ROLE_OPERATOR, &when)) != BG_OK)
		goto out;
	/* Only a version whose shares are all sub-shares of a committed
	 * re-key goes without the share hash: a plain share is compared
	 * whatever link the row names (the row is not the authority). */
	rekeyed = sqlite3_column_int64(st, 6) != seq;
	if (rekeyed && (r = bg_store_int(v, "SELECT count(*) FROM shares "
	    "WHERE version_id = ?", version_id, &nplain)) != BG_OK)
		goto out;
	if (!seal_line_in(ar.statement, line, rekeyed && nplain == 0)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "version %d of %s/%s is not "
		    "what %s sealed (its value or a share was changed in the "
		    "file)", version, t->name, name, ar.person);
		goto out;
	}
	if (sealer != NULL)
		(void)snprintf(sealer, BG_VAULT_NAME_MAX + 1, "%s", ar.person);
	r = BG_OK;
out:
	bg_store_done(st);
	bg_act_row_clear(&ar);
	bg_chain_link_free(&l);
	free(line);
	return r;
}

/* --- views ------------------------------------------------------------------ */

/*
 * Two texts, not one with "(?1 IS NULL OR t.name = ?1)": SQLite plans a
 * statement before its parameters are known, so that form walks every
 * secret of every tenant even when one tenant is asked for
 * (docs/benchmarks.md).
 */
#define SECRET_SELECT \
    "SELECT t.name, s.name, s.created_at, x.version, x.state, x.sealed_at, " \
    "coalesce(x.released_at, 0), coalesce(x.lease_until, 0), x.value_len, " \
    "x.policy_hash, t.rotation_deadline, " \
    "(SELECT coalesce(max(p.version), 0) FROM versions p WHERE " \
    " p.secret_id = s.id AND p.state = 0), " \
    "(SELECT count(*) FROM versions p WHERE p.secret_id = s.id AND " \
    " p.state = 3), " \
    "(SELECT coalesce(max(q.id), 0) FROM requests q WHERE " \
    " q.version_id = x.id AND q.state = 1 AND q.deadline > ?3), " \
    "coalesce(x.exposed_at, 0) " \
    "FROM secrets s JOIN tenants t ON t.id = s.tenant_id " \
    "JOIN versions x ON x.secret_id = s.id AND x.version = (SELECT " \
    " max(version) FROM versions WHERE secret_id = s.id AND " \
    " state IN (1, 2)) "

static const char secret_sql_all[] = SECRET_SELECT
    "WHERE ?1 IS NULL AND ?2 IS NULL ORDER BY t.name, s.name";
static const char secret_sql_tenant[] = SECRET_SELECT
    "WHERE t.name = ?1 AND (?2 IS NULL OR s.name = ?2) "
    "ORDER BY s.name";

static void
secret_fill(sqlite3_stmt *st, int64_t now, bg_vault_secret_info_t *si)
{
	int vstate;

	memset(si, 0, sizeof(*si));
	bg_store_col_text(st, 0, si->tenant, sizeof(si->tenant));
	bg_store_col_text(st, 1, si->name, sizeof(si->name));
	si->created_at = sqlite3_column_int64(st, 2);
	si->version = sqlite3_column_int(st, 3);
	vstate = sqlite3_column_int(st, 4);
	si->sealed_at = sqlite3_column_int64(st, 5);
	si->released_at = sqlite3_column_int64(st, 6);
	si->lease_until = sqlite3_column_int64(st, 7);
	si->value_len = (size_t)sqlite3_column_int64(st, 8);
	if (sqlite3_column_bytes(st, 9) == BG_VAULT_HASH_LEN)
		bg_hex(sqlite3_column_blob(st, 9), BG_VAULT_HASH_LEN,
		    si->policy_hash);
	si->pending_version = sqlite3_column_int(st, 11);
	si->n_retired = (size_t)sqlite3_column_int64(st, 12);
	si->open_request = sqlite3_column_int64(st, 13);
	si->exposed_at = sqlite3_column_int64(st, 14);
	if (vstate == BG_VAULT_VERSION_SEALED && si->exposed_at != 0) {
		/* exposed at quorum, not released: rotate as after a lease */
		si->rotate_by = si->exposed_at + sqlite3_column_int64(st, 10);
		si->state = now < si->rotate_by ?
		    BG_VAULT_SECRET_ROTATION_DUE : BG_VAULT_SECRET_OVERDUE;
	} else if (vstate == BG_VAULT_VERSION_SPENT) {
		si->rotate_by = si->lease_until + sqlite3_column_int64(st, 10);
		if (now < si->lease_until)
			si->state = BG_VAULT_SECRET_RELEASED;
		else if (now < si->rotate_by)
			si->state = BG_VAULT_SECRET_ROTATION_DUE;
		else
			si->state = BG_VAULT_SECRET_OVERDUE;
	} else
		si->state = BG_VAULT_SECRET_SEALED;
}

static int
secret_query(bg_vault_t *v, const char *tenant, const char *name,
    bg_vault_secret_info_t **listp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_vault_secret_info_t *l = NULL;
	size_t n = 0, cap = 0;
	int64_t now = bg_vault_read_now(v);
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*listp = NULL;
	*np = 0;
	if ((r = bg_store_prepare(v, tenant != NULL ? secret_sql_tenant :
	    secret_sql_all, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&l, &cap, n, sizeof(*l))) != BG_OK)
			goto out;
		secret_fill(st, now, &l[n++]);
	}
	*listp = l;
	*np = n;
	l = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(l);
	return r;
}

int
bg_vault_secret_list(bg_vault_t *v, const char *tenant,
    bg_vault_secret_info_t **listp, size_t *np)
{
	bg_tenant_row_t t;
	int r = BG_ERR_INTERNAL;

	if (listp == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	*listp = NULL;
	*np = 0;
	bg_vault_clear_err(v);
	if (tenant != NULL) {
		if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK)
			goto out;
		bg_tenant_row_clear(&t);
	}
	r = secret_query(v, tenant, NULL, listp, np);
out:
	return bg_vault_fail_default(v, r);
}

int
bg_vault_secret_show(bg_vault_t *v, const char *tenant, const char *name,
    bg_vault_secret_info_t **infop)
{
	bg_vault_secret_info_t *l = NULL;
	size_t n = 0;
	int r = BG_ERR_INTERNAL;

	if (infop == NULL)
		return BG_ERR_INVALID_ARG;
	*infop = NULL;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "tenant name", tenant)) != BG_OK ||
	    (r = bg_vault_check_name(v, "secret name", name)) != BG_OK ||
	    (r = secret_query(v, tenant, name, &l, &n)) != BG_OK)
		goto out;
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no secret '%s/%s'",
		    tenant, name);
		goto out;
	}
	*infop = l;
	l = NULL;
	r = BG_OK;
out:
	free(l);
	return bg_vault_fail_default(v, r);
}

void
bg_vault_secret_free(bg_vault_secret_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}

int
bg_vault_secret_versions(bg_vault_t *v, const char *tenant, const char *name,
    bg_vault_version_info_t **listp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_vault_version_info_t *l = NULL, *nl, *vi;
	size_t n = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (listp == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	*listp = NULL;
	*np = 0;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "tenant name", tenant)) != BG_OK ||
	    (r = bg_vault_check_name(v, "secret name", name)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT x.version, x.state, x.sealed_at, "
	    "coalesce(x.released_at, 0), coalesce(x.lease_until, 0), "
	    "coalesce(x.retired_at, 0), x.value_len, x.policy_hash, "
	    "coalesce(a.person, '') "
	    "FROM versions x JOIN secrets s ON s.id = x.secret_id "
	    "JOIN tenants t ON t.id = s.tenant_id "
	    "LEFT JOIN acts a ON a.id = x.seal_act WHERE t.name = ? AND "
	    "s.name = ? ORDER BY x.version", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK)
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
		vi = &l[n++];
		memset(vi, 0, sizeof(*vi));
		vi->version = sqlite3_column_int(st, 0);
		vi->state = sqlite3_column_int(st, 1);
		vi->sealed_at = sqlite3_column_int64(st, 2);
		vi->released_at = sqlite3_column_int64(st, 3);
		vi->lease_until = sqlite3_column_int64(st, 4);
		vi->retired_at = sqlite3_column_int64(st, 5);
		vi->value_len = (size_t)sqlite3_column_int64(st, 6);
		if (sqlite3_column_bytes(st, 7) == BG_VAULT_HASH_LEN)
			bg_hex(sqlite3_column_blob(st, 7), BG_VAULT_HASH_LEN,
			    vi->policy_hash);
		bg_store_col_text(st, 8, vi->known_to, sizeof(vi->known_to));
	}
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no secret '%s/%s'",
		    tenant, name);
		goto out;
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
bg_vault_version_free(bg_vault_version_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}
