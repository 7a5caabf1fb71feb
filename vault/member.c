/*
 * Memberships and their token credentials: enrollment (the membership's
 * X25519 key from the token's hmac-secret), listing, removal, and the
 * assertion helper every token flow uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "policy.h"
#include "seal.h"
#include "vault_int.h"

const char *
bg_vault_role_name(int role)
{
	switch (role) {
	case BG_VAULT_ROLE_REQUESTER:	return "requester";
	case BG_VAULT_ROLE_APPROVER:	return "approver";
	case BG_VAULT_ROLE_AUDITOR:	return "auditor";
	default:			return "?";
	}
}

int
bg_vault_role_parse(const char *s, int *rolep)
{
	int role;

	if (rolep == NULL)
		return BG_ERR_INVALID_ARG;
	*rolep = 0;
	if (s == NULL)
		return BG_ERR_INVALID_ARG;
	for (role = 1; role <= 3; role++)
		if (strcmp(s, bg_vault_role_name(role)) == 0) {
			*rolep = role;
			return BG_OK;
		}
	return BG_ERR_INVALID_ARG;
}

static int
check_role(bg_vault_t *v, int role, bool allow_zero)
{
	if ((allow_zero && role == 0) || (role >= 1 && role <= 3))
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_INVALID_ARG, "unknown role %d "
	    "(requester, approver or auditor)", role);
}

static bool
is_soft_aaguid(const uint8_t aaguid[BG_TOKEN_AAGUID_LEN])
{
	/* AAGUIDs name a token model; nothing secret. */
	return memcmp(aaguid, bg_token_soft_aaguid, 16) == 0; /* public: AAGUID */
}

/* Whether person is a leaf of the tenant's current policy. */
static int
named_by_policy(bg_vault_t *v, const bg_tenant_row_t *t, const char *person,
    bool *namedp)
{
	bg_policy_t *pol = NULL;
	size_t idx = 0;
	int r = BG_ERR_INTERNAL;

	*namedp = false;
	if (t->policy == NULL)
		return BG_OK;
	if (bg_policy_parse(t->policy, &pol, NULL) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the stored policy of '%s' "
		    "does not parse: the database was altered", t->name);
		goto out;
	}
	*namedp = bg_policy_leaf_index(pol, person, &idx) == BG_OK;
	r = BG_OK;
out:
	bg_policy_free(&pol);
	return r;
}

/* Add the tenant's keyset to an event's details when it has a policy. */
static int
add_keyset(bg_vault_t *v, const bg_tenant_row_t *t, json_t *det)
{
	uint8_t ks[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1];
	json_t *keys = NULL;
	int r;

	if (t->policy == NULL)
		return BG_OK;
	if ((r = bg_keyset_compute(v, t, ks, &keys)) != BG_OK)
		return r;
	bg_hex(ks, sizeof(ks), hex);
	if (json_object_set_new(det, "keyset", json_string(hex)) != 0 ||
	    json_object_set_new(det, "keys", keys) != 0)
		return BG_ERR_NOMEM;
	return BG_OK;
}

/*
 * The statements every request, approval and release runs, kept prepared
 * (bg_store_cached(), keyed by these arrays' addresses).
 */
static const char live_sql[] = "SELECT id, expires_at, salt FROM "
    "memberships WHERE tenant_id = ? AND person = ? AND role = ? AND "
    "removed_at IS NULL";
static const char tokens_sql[] = "SELECT id, label, alg, cred_id, pubkey, "
    "member_pk, sign_count FROM tokens WHERE membership_id = ? AND "
    "removed_at IS NULL ORDER BY id";
static const char counter_sql[] = "UPDATE tokens SET sign_count = ? "
    "WHERE id = ?";

int
bg_member_live(bg_vault_t *v, int64_t tenant_id, const char *tenant,
    const char *person, int role, int64_t now, int64_t *membership_idp,
    uint8_t salt[BG_TOKEN_SALT_LEN])
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	char when[32];
	int64_t exp_at;
	int r = BG_ERR_INTERNAL;

	*membership_idp = 0;
	if ((r = bg_store_cached(v, live_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, role)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not %s %s of %s",
		    person, role == BG_VAULT_ROLE_APPROVER ? "an" : "a",
		    bg_vault_role_name(role), tenant);
		goto out;
	}
	exp_at = sqlite3_column_int64(st, 1);
	if (exp_at <= now) {
		r = bg_vault_fail(v, BG_ERR_EXPIRED, "the %s membership of %s "
		    "in %s expired at %s", bg_vault_role_name(role), person,
		    tenant, bg_vault_fmt_time(exp_at, when, sizeof(when)));
		goto out;
	}
	if (sqlite3_column_bytes(st, 2) != BG_TOKEN_SALT_LEN) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "the membership salt "
		    "of %s in %s is malformed", person, tenant);
		goto out;
	}
	memcpy(salt, sqlite3_column_blob(st, 2), BG_TOKEN_SALT_LEN);
	*membership_idp = sqlite3_column_int64(st, 0);
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

int
bg_member_tokens(bg_vault_t *v, int64_t membership_id, bg_token_row_t **rowsp,
    size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_token_row_t *l = NULL, *nl, *t;
	size_t n = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*rowsp = NULL;
	*np = 0;
	if ((r = bg_store_cached(v, tokens_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, membership_id)) != BG_OK)
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
		t = &l[n];
		memset(t, 0, sizeof(*t));
		t->id = sqlite3_column_int64(st, 0);
		t->membership_id = membership_id;
		bg_store_col_text(st, 1, t->label, sizeof(t->label));
		t->alg = sqlite3_column_int(st, 2);
		t->cred_id_len = (size_t)sqlite3_column_bytes(st, 3);
		t->pubkey_len = (size_t)sqlite3_column_bytes(st, 4);
		if (t->cred_id_len == 0 || t->cred_id_len > sizeof(t->cred_id) ||
		    t->pubkey_len == 0 || t->pubkey_len > sizeof(t->pubkey) ||
		    sqlite3_column_bytes(st, 5) != 32) {
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "token "
			    "credential %lld is malformed", (long long)t->id);
			goto out;
		}
		memcpy(t->cred_id, sqlite3_column_blob(st, 3), t->cred_id_len);
		memcpy(t->pubkey, sqlite3_column_blob(st, 4), t->pubkey_len);
		memcpy(t->member_pk, sqlite3_column_blob(st, 5), 32);
		t->sign_count = (uint32_t)sqlite3_column_int64(st, 6);
		n++;
	}
	*rowsp = l;
	*np = n;
	l = NULL;
	r = BG_OK;
out:
	bg_store_done(st);
	free(l);
	return r;
}

static int
store_counter(bg_vault_t *v, int64_t token_id, uint32_t count)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_cached(v, counter_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, count)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, token_id)) != BG_OK)
		goto out;
	r = bg_store_step_done(v, st);
out:
	bg_store_done(st);
	return r;
}

int
bg_member_sk(bg_vault_t *v, const char *person, const bg_token_row_t *tr,
    bg_token_assertion_t *as, uint8_t **skp)
{
	uint8_t pk[BG_SEAL_PK_LEN], *sk = NULL;
	int r = BG_ERR_INTERNAL;

	*skp = NULL;
	if (as->hmac_secret == NULL) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if ((sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_seal_member_keypair(as->hmac_secret, pk, sk);
	/* Last use of the hmac output: wipe it now, not when `as` goes. */
	sodium_free(as->hmac_secret);
	as->hmac_secret = NULL;
	if (r != BG_OK)
		goto out;
	if (memcmp(pk, tr->member_pk, sizeof(pk)) != 0) { /* public: keys */
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s's token does not give "
		    "the membership key enrolled for it (token '%s'): the "
		    "database was altered or the token was reset", person,
		    tr->label);
		goto out;
	}
	*skp = sk;
	sk = NULL;
	r = BG_OK;
out:
	if (sk != NULL)
		sodium_free(sk);
	return r;
}

/* Counters must move forward; a token that keeps 0 has none (CTAP 2.1). */
static int
check_counter(bg_vault_t *v, const char *person, const bg_token_row_t *row,
    uint32_t now_count)
{
	if (now_count > row->sign_count ||
	    (now_count == 0 && row->sign_count == 0))
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_TOKEN_COUNTER, "the sign counter of "
	    "%s's token '%s' did not move forward (%lu after %lu): the token "
	    "may have been cloned", person, row->label,
	    (unsigned long)now_count, (unsigned long)row->sign_count);
}

int
bg_member_assert(bg_vault_t *v, bg_token_t *tok, const char *person,
    const bg_token_row_t *rows, size_t n, const uint8_t cdh[32],
    const uint8_t *salt, const char *pin, bg_token_assertion_t **assertp,
    size_t *whichp)
{
	bg_token_assertion_t *as = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	*assertp = NULL;
	*whichp = 0;
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no enrolled "
		    "token in this membership", person);
		goto out;
	}
	r = BG_ERR_TOKEN_NO_CREDENTIAL;
	for (i = 0; i < n; i++) {
		r = bg_token_assert(tok, v->rp_id, rows[i].cred_id,
		    rows[i].cred_id_len, rows[i].alg, rows[i].pubkey,
		    rows[i].pubkey_len, cdh, salt, pin, &as);
		if (r != BG_ERR_TOKEN_NO_CREDENTIAL)
			break;
	}
	if (r == BG_ERR_TOKEN_NO_CREDENTIAL) {
		r = bg_vault_fail(v, r, "this token holds none of %s's "
		    "credentials for this membership", person);
		goto out;
	}
	if (r != BG_OK) {
		r = bg_vault_fail(v, r, "%s's token: %s", person,
		    bg_strerror(r));
		goto out;
	}
	if ((as->flags & 0x04) == 0) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_NO_UV, "%s's token did not "
		    "verify the user (no UV flag)", person);
		goto out;
	}
	if (salt != NULL && as->hmac_secret == NULL) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_PROTOCOL, "%s's token gave "
		    "no hmac-secret output", person);
		goto out;
	}
	if ((r = check_counter(v, person, &rows[i], as->sign_count)) != BG_OK)
		goto out;
	if ((r = store_counter(v, rows[i].id, as->sign_count)) != BG_OK)
		goto out;
	*assertp = as;
	as = NULL;
	*whichp = i;
	r = BG_OK;
out:
	bg_token_assertion_free(&as);
	return r;
}

/* --- enrollment ------------------------------------------------------------ */

typedef struct membership_slot {
	int64_t	 id;
	bool	 existed, removed;
	uint8_t	 salt[BG_TOKEN_SALT_LEN];
} membership_slot_t;

static int
membership_prepare(bg_vault_t *v, int64_t tenant_id, const char *person,
    int role, int64_t expires_at, int64_t now, membership_slot_t *m)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(m, 0, sizeof(*m));
	if ((r = bg_store_prepare(v, "SELECT id, salt, removed_at FROM "
	    "memberships WHERE tenant_id = ? AND person = ? AND role = ?",
	    &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, role)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		m->existed = true;
		m->id = sqlite3_column_int64(st, 0);
		m->removed = sqlite3_column_type(st, 2) != SQLITE_NULL;
		if (sqlite3_column_bytes(st, 1) == BG_TOKEN_SALT_LEN &&
		    !m->removed)
			memcpy(m->salt, sqlite3_column_blob(st, 1),
			    BG_TOKEN_SALT_LEN);
		else
			randombytes_buf(m->salt, sizeof(m->salt));
	} else
		randombytes_buf(m->salt, sizeof(m->salt));
	sqlite3_finalize(st);
	st = NULL;
	if (m->existed) {
		if ((r = bg_store_prepare(v, "UPDATE memberships SET "
		    "expires_at = ?, salt = ?, removed_at = NULL WHERE id = ?",
		    &st)) != BG_OK)
			goto out;
		if ((r = bg_store_bind_int(v, st, 1, expires_at)) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 2, m->salt,
		    sizeof(m->salt))) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3, m->id)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			goto out;
	} else {
		if ((r = bg_store_prepare(v, "INSERT INTO memberships "
		    "(tenant_id, person, role, expires_at, created_at, salt) "
		    "VALUES (?, ?, ?, ?, ?, ?)", &st)) != BG_OK)
			goto out;
		if ((r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3, role)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 4, expires_at)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 5, now)) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 6, m->salt,
		    sizeof(m->salt))) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			goto out;
		m->id = sqlite3_last_insert_rowid(v->db);
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
insert_token(bg_vault_t *v, int64_t membership_id, const char *label,
    int64_t now, const bg_token_cred_t *cred, uint32_t count,
    const uint8_t pk[32], int64_t *idp)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	*idp = 0;
	if ((r = bg_store_prepare(v, "INSERT INTO tokens (membership_id, "
	    "label, enrolled_at, cred_id, cose_key, pubkey, alg, aaguid, "
	    "is_soft, fmt, attestation, x5c, cred_protect, sign_count, "
	    "member_pk) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st))
	    != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, membership_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, label)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 4, cred->id, cred->id_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, cred->cose_pubkey != NULL ?
	    (const void *)cred->cose_pubkey : (const void *)"",
	    cred->cose_pubkey_len)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 6, cred->pubkey, cred->pubkey_len))
	    != BG_OK ||
	    (r = bg_store_bind_int(v, st, 7, cred->alg)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, cred->aaguid,
	    BG_TOKEN_AAGUID_LEN)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 9, cred->is_soft ||
	    is_soft_aaguid(cred->aaguid))) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 10, cred->fmt != NULL ? cred->fmt :
	    "")) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 11, cred->attestation)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 12, cred->x5c, cred->x5c_len))
	    != BG_OK ||
	    (r = bg_store_bind_int(v, st, 13, cred->cred_protect)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 14, count)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 15, pk, 32)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	*idp = sqlite3_last_insert_rowid(v->db);
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

int
bg_vault_member_add(bg_vault_t *v, const char *actor, const char *tenant,
    const char *person, int role, int64_t expires_at, const char *label,
    bg_token_t *tok, const char *pin)
{
	bg_tenant_row_t t;
	bg_token_features_t feat;
	bg_token_cred_t *cred = NULL;
	bg_token_assertion_t *as = NULL;
	membership_slot_t m;
	crypto_hash_sha256_state h;
	uint8_t cdh[BG_TOKEN_CDH_LEN], pk[32], fp[32];
	uint8_t *sk = NULL;
	char lbl[BG_VAULT_LABEL_MAX + 1], hex[2 * BG_TOKEN_AAGUID_LEN + 1];
	char fpr[17], obj[2 * BG_VAULT_NAME_MAX + 16];
	const char *why = NULL;
	json_t *det = NULL;
	int64_t now = 0, ntok = 0, token_id = 0;
	uint32_t count = 0;
	bool soft;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&m, 0, sizeof(m));
	bg_vault_clear_err(v);
	(void)snprintf(obj, sizeof(obj), "%.64s (%s)", person != NULL ?
	    person : "", bg_vault_role_name(role));
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK ||
	    (r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (r = check_role(v, role, false)) != BG_OK)
		goto out;
	if (label != NULL && label[0] != '\0' &&
	    (r = bg_vault_check_text(v, "label", label, BG_VAULT_LABEL_MAX))
	    != BG_OK)
		goto out;
	if (tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "a token and its PIN "
		    "are needed to enroll");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if (expires_at <= now) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the membership expiry must "
		    "lie in the future");
		goto out;
	}
	/* Probe before anything asks for a touch. */
	memset(&feat, 0, sizeof(feat));
	if ((r = bg_token_probe(tok, &feat)) != BG_OK) {
		r = bg_vault_fail(v, r, "probing the token: %s",
		    bg_strerror(r));
		goto out;
	}
	soft = feat.is_soft || is_soft_aaguid(feat.aaguid);
	if (soft && !v->allow_soft) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_SOFT_REFUSED, "this is a "
		    "breakglass software token, and this vault was created "
		    "without --allow-soft-tokens: enroll a hardware token");
		goto out;
	}
	if ((r = bg_token_check_usable(&feat, &why)) != BG_OK) {
		r = bg_vault_fail(v, r, "this token cannot hold a vault "
		    "membership: %s", why != NULL ? why : bg_strerror(r));
		goto out;
	}
	if ((r = membership_prepare(v, t.id, person, role, expires_at, now,
	    &m)) != BG_OK)
		goto out;
	if ((r = bg_token_enroll(tok, v->rp_id, person, 0, pin, &cred))
	    != BG_OK) {
		r = bg_vault_fail(v, r, "enrolling the token: %s",
		    bg_strerror(r));
		goto out;
	}
	if ((cred->is_soft || is_soft_aaguid(cred->aaguid)) &&
	    !v->allow_soft) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_SOFT_REFUSED, "the credential "
		    "comes from a breakglass software token, and this vault "
		    "was created without --allow-soft-tokens");
		goto out;
	}
	soft = soft || cred->is_soft || is_soft_aaguid(cred->aaguid);
	/* One UV assertion with the membership salt: binds the enrollment
	 * to this vault, tenant, person and role. */
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)"breakglass enroll v1\n",
	    21);
	crypto_hash_sha256_update(&h, (const uint8_t *)v->id, strlen(v->id));
	crypto_hash_sha256_update(&h, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&h, (const uint8_t *)obj, strlen(obj));
	crypto_hash_sha256_update(&h, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&h, (const uint8_t *)t.name, strlen(t.name));
	crypto_hash_sha256_final(&h, cdh);
	r = bg_token_assert(tok, v->rp_id, cred->id, cred->id_len, cred->alg,
	    cred->pubkey, cred->pubkey_len, cdh, m.salt, pin, &as);
	if (r != BG_OK) {
		r = bg_vault_fail(v, r, "first assertion of the new credential: "
		    "%s", bg_strerror(r));
		goto out;
	}
	if ((as->flags & 0x04) == 0 || as->hmac_secret == NULL) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_UNSUPPORTED, "the token gave "
		    "no user-verified hmac-secret output");
		goto out;
	}
	if (!(as->sign_count > cred->sign_count ||
	    (as->sign_count == 0 && cred->sign_count == 0))) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_COUNTER, "the token's sign "
		    "counter did not move forward");
		goto out;
	}
	count = as->sign_count;
	if ((sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_seal_member_keypair(as->hmac_secret, pk, sk);
	sodium_memzero(sk, BG_SEAL_SK_LEN);
	sodium_free(sk);
	sk = NULL;
	bg_token_assertion_free(&as);	/* wipes the hmac-secret output */
	if (r != BG_OK)
		goto out;
	if ((r = bg_store_int(v, "SELECT count(*) FROM tokens WHERE "
	    "membership_id = ?", m.id, &ntok)) != BG_OK)
		goto out;
	if (label != NULL && label[0] != '\0')
		(void)snprintf(lbl, sizeof(lbl), "%s", label);
	else
		(void)snprintf(lbl, sizeof(lbl), "token %lld",
		    (long long)ntok + 1);
	if ((r = insert_token(v, m.id, lbl, now, cred, count, pk, &token_id))
	    != BG_OK)
		goto out;
	crypto_hash_sha256(fp, pk, sizeof(pk));
	bg_hex(fp, 8, fpr);
	bg_hex(cred->aaguid, BG_TOKEN_AAGUID_LEN, hex);
	det = json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:b, s:s, s:i, s:i, "
	    "s:i, s:s, s:b}",
	    "person", person, "role", bg_vault_role_name(role),
	    "expires_at", (json_int_t)expires_at, "label", lbl,
	    "token_id", (json_int_t)token_id, "aaguid", hex, "soft", soft,
	    "fmt", cred->fmt != NULL ? cred->fmt : "",
	    "attestation", cred->attestation, "cred_protect",
	    cred->cred_protect, "alg", cred->alg, "key", fpr,
	    "added_token", m.existed && !m.removed);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = add_keyset(v, &t, det)) != BG_OK)
		goto out;
	r = bg_audit_append(v, now, actor, "member.add", t.name, obj, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	json_decref(det);
	if (sk != NULL)
		sodium_free(sk);
	sodium_memzero(&m, sizeof(m));
	bg_token_assertion_free(&as);
	bg_token_cred_free(&cred);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "member.add", tenant, obj);
}

/* --- recertification --------------------------------------------------------- */

#define BG_RECERT_WINDOW	600	/* seconds from proof to sign-off */

struct bg_vault_recert_proof {
	char	 tenant[BG_VAULT_NAME_MAX + 1];
	char	 person[BG_VAULT_NAME_MAX + 1];
	char	 approver[BG_VAULT_NAME_MAX + 1];
	int64_t	 expires_at, made_at, token_id;
	char	 label[BG_VAULT_LABEL_MAX + 1];
	char	*statement;
	uint8_t	*authdata;	size_t authdata_len;
	uint8_t	*sig;		size_t sig_len;
	uint32_t sign_count;
};

void
bg_vault_recert_proof_free(bg_vault_recert_proof_t **pp)
{
	bg_vault_recert_proof_t *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	free(p->statement);
	free(p->authdata);
	free(p->sig);
	memset(p, 0, sizeof(*p));
	free(p);
	*pp = NULL;
}

const char *
bg_vault_recert_statement(const bg_vault_recert_proof_t *p)
{
	return p != NULL && p->statement != NULL ? p->statement : "";
}

static int
dup_bytes(const uint8_t *src, size_t n, uint8_t **dstp)
{
	*dstp = NULL;
	if (n == 0 || (*dstp = malloc(n)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(*dstp, src, n);
	return BG_OK;
}

/* The person's memberships as "approver until 2026-..., ..." */
static int
recert_roles(bg_vault_t *v, int64_t tenant_id, const char *person,
    char *buf, size_t cap, int64_t **midsp, size_t *nmidsp)
{
	sqlite3_stmt *st = NULL;
	int64_t *mids = NULL, *nm;
	size_t n = 0, used;
	char when[32];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	buf[0] = '\0';
	*midsp = NULL;
	*nmidsp = 0;
	if ((r = bg_store_prepare(v, "SELECT id, role, expires_at FROM "
	    "memberships WHERE tenant_id = ? AND person = ? AND removed_at IS "
	    "NULL ORDER BY role", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((nm = reallocarray(mids, n + 1, sizeof(*mids))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		mids = nm;
		mids[n++] = sqlite3_column_int64(st, 0);
		used = strlen(buf);
		(void)snprintf(buf + used, cap - used, "%s%s until %s",
		    used > 0 ? ", " : "",
		    bg_vault_role_name(sqlite3_column_int(st, 1)),
		    bg_vault_fmt_time(sqlite3_column_int64(st, 2), when,
		    sizeof(when)));
	}
	*midsp = mids;
	*nmidsp = n;
	mids = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(mids);
	return r;
}

int
bg_vault_recertify_prove(bg_vault_t *v, const char *tenant,
    const char *person, int64_t expires_at, const char *approver,
    bg_token_t *tok, const char *pin, bg_vault_recert_proof_t **proofp)
{
	bg_tenant_row_t t;
	bg_vault_recert_proof_t *p = NULL;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	int64_t now = 0, *mids = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN];
	char roles[BG_VAULT_TEXT_MAX], when[32], made[32];
	char obj[2 * BG_VAULT_NAME_MAX + 16], *body = NULL;
	size_t i, nmids = 0, ntoks = 0, which = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	if (proofp != NULL)
		*proofp = NULL;
	bg_vault_clear_err(v);
	(void)snprintf(obj, sizeof(obj), "%.64s (all roles)", person != NULL ?
	    person : "");
	if (proofp == NULL || tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the person's token "
		    "and PIN are needed");
		goto out;
	}
	if ((r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (r = bg_vault_check_name(v, "approver", approver)) != BG_OK)
		goto out;
	if (strcmp(person, approver) == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s cannot sign off their "
		    "own recertification: another approver of the tenant must",
		    person);
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if (expires_at <= now) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the membership expiry must "
		    "lie in the future");
		goto out;
	}
	if ((r = recert_roles(v, t.id, person, roles, sizeof(roles), &mids,
	    &nmids)) != BG_OK)
		goto out;
	if (nmids == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no membership "
		    "in %s", person, t.name);
		goto out;
	}
	if (asprintf(&body, "breakglass recertify statement v1\n"
	    "vault: %s\ntenant: %s\nperson: %s\nmemberships: %s\n"
	    "new expiry: %s (%lld)\napprover: %s\nmade: %s (%lld)\n",
	    v->id, t.name, person, roles,
	    bg_vault_fmt_time(expires_at, when, sizeof(when)),
	    (long long)expires_at, approver,
	    bg_vault_fmt_time(now, made, sizeof(made)), (long long)now) < 0) {
		body = NULL;
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_statement_full(v, body, &p->statement, NULL)) != BG_OK)
		goto out;
	bg_statement_cdh("recertify", p->statement, cdh);
	/* Any of the person's memberships' credentials proves possession. */
	r = BG_ERR_TOKEN_NO_CREDENTIAL;
	for (i = 0; i < nmids && r == BG_ERR_TOKEN_NO_CREDENTIAL; i++) {
		free(toks);
		toks = NULL;
		if ((r = bg_member_tokens(v, mids[i], &toks, &ntoks)) != BG_OK)
			goto out;
		if (ntoks == 0) {
			r = BG_ERR_TOKEN_NO_CREDENTIAL;
			continue;
		}
		r = bg_member_assert(v, tok, person, toks, ntoks, cdh, NULL,
		    pin, &as, &which);
	}
	if (r != BG_OK)
		goto out;
	(void)snprintf(p->tenant, sizeof(p->tenant), "%s", t.name);
	(void)snprintf(p->person, sizeof(p->person), "%s", person);
	(void)snprintf(p->approver, sizeof(p->approver), "%s", approver);
	(void)snprintf(p->label, sizeof(p->label), "%s", toks[which].label);
	p->expires_at = expires_at;
	p->made_at = now;
	p->token_id = toks[which].id;
	p->sign_count = as->sign_count;
	if ((r = dup_bytes(as->authdata, as->authdata_len, &p->authdata))
	    != BG_OK ||
	    (r = dup_bytes(as->sig, as->sig_len, &p->sig)) != BG_OK)
		goto out;
	p->authdata_len = as->authdata_len;
	p->sig_len = as->sig_len;
	if ((r = bg_store_commit(v)) != BG_OK)	/* the sign counter */
		goto out;
	*proofp = p;
	p = NULL;
	r = BG_OK;
out:
	bg_vault_recert_proof_free(&p);
	bg_token_assertion_free(&as);
	free(toks);
	free(mids);
	free(body);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, person != NULL ? person : "?",
	    "member.recertify", tenant, obj);
}

int
bg_vault_recertify(bg_vault_t *v, const bg_vault_recert_proof_t *p,
    bg_token_t *tok, const char *pin)
{
	bg_tenant_row_t t;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[BG_TOKEN_CDH_LEN];
	uint8_t sh[BG_VAULT_HASH_LEN];
	char obj[2 * BG_VAULT_NAME_MAX + 16], shx[65];
	char *pa = NULL, *ps = NULL, *aa = NULL, *as_ = NULL;
	const char *actor = "?", *tenant = "";
	json_t *det = NULL;
	int64_t now = 0, mid = 0, n = 0;
	size_t ntoks = 0, which = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	bg_vault_clear_err(v);
	obj[0] = '\0';
	if (p == NULL || p->statement == NULL || tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the person's proof, "
		    "the approver's token and PIN are needed");
		goto out;
	}
	actor = p->approver;
	tenant = p->tenant;
	(void)snprintf(obj, sizeof(obj), "%.64s (all roles)", p->person);
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, p->tenant, &t)) != BG_OK)
		goto out;
	if (now < p->made_at || now - p->made_at > BG_RECERT_WINDOW) {
		r = bg_vault_fail(v, BG_ERR_EXPIRED, "%s's proof of possession "
		    "is older than %d minutes: start again", p->person,
		    BG_RECERT_WINDOW / 60);
		goto out;
	}
	if (p->expires_at <= now) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the membership expiry must "
		    "lie in the future");
		goto out;
	}
	/* The person's assertion, against the enrolled key (not the proof's
	 * word for it). */
	if ((r = bg_store_prepare(v, "SELECT k.alg, k.pubkey FROM tokens k "
	    "JOIN memberships m ON m.id = k.membership_id WHERE k.id = ? AND "
	    "m.tenant_id = ? AND m.person = ? AND m.removed_at IS NULL AND "
	    "k.removed_at IS NULL", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, p->token_id)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, t.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, p->person)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	bg_statement_cdh("recertify", p->statement, cdh);
	if (!row || bg_token_verify(sqlite3_column_int(st, 0),
	    sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
	    v->rp_id, cdh, p->authdata, p->authdata_len, p->sig, p->sig_len,
	    true) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s's proof of possession "
		    "does not verify against the enrolled token", p->person);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (strcmp(p->approver, p->person) == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s cannot sign off their "
		    "own recertification", p->person);
		goto out;
	}
	if ((r = bg_member_live(v, t.id, t.name, p->approver,
	    BG_VAULT_ROLE_APPROVER, now, &mid, salt)) != BG_OK ||
	    (r = bg_member_tokens(v, mid, &toks, &ntoks)) != BG_OK)
		goto out;
	bg_statement_cdh("recertify-approve", p->statement, cdh);
	if ((r = bg_member_assert(v, tok, p->approver, toks, ntoks, cdh, NULL,
	    pin, &as, &which)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "UPDATE memberships SET expires_at = ? "
	    "WHERE tenant_id = ? AND person = ? AND removed_at IS NULL", &st))
	    != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, p->expires_at)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, t.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, p->person)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	n = sqlite3_changes(v->db);
	crypto_hash_sha256(sh, (const uint8_t *)p->statement,
	    strlen(p->statement));
	bg_hex(sh, sizeof(sh), shx);
	if ((pa = malloc(2 * p->authdata_len + 1)) == NULL ||
	    (ps = malloc(2 * p->sig_len + 1)) == NULL ||
	    (aa = malloc(2 * as->authdata_len + 1)) == NULL ||
	    (as_ = malloc(2 * as->sig_len + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_hex(p->authdata, p->authdata_len, pa);
	bg_hex(p->sig, p->sig_len, ps);
	bg_hex(as->authdata, as->authdata_len, aa);
	bg_hex(as->sig, as->sig_len, as_);
	det = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, "
	    "s:{s:s, s:I, s:s, s:s, s:I}, s:{s:s, s:I, s:s, s:s, s:I}}",
	    "person", p->person, "approver", p->approver,
	    "expires_at", (json_int_t)p->expires_at,
	    "memberships", (json_int_t)n,
	    "statement", p->statement, "statement_hash", shx,
	    "person_proof", "token", p->label, "token_id",
	    (json_int_t)p->token_id, "authdata", pa, "sig", ps,
	    "sign_count", (json_int_t)p->sign_count,
	    "approver_signoff", "token", toks[which].label, "token_id",
	    (json_int_t)toks[which].id, "authdata", aa, "sig", as_,
	    "sign_count", (json_int_t)as->sign_count);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, p->approver, "member.recertify", t.name,
	    obj, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(pa);
	free(ps);
	free(aa);
	free(as_);
	free(toks);
	bg_token_assertion_free(&as);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "member.recertify", tenant, obj);
}

int
bg_vault_member_remove(bg_vault_t *v, const char *actor, const char *tenant,
    const char *person, int role)
{
	bg_tenant_row_t t;
	sqlite3_stmt *st = NULL;
	json_t *det = NULL;
	int64_t now = 0, n = 0;
	bool named = false;
	char obj[2 * BG_VAULT_NAME_MAX + 16];
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	bg_vault_clear_err(v);
	(void)snprintf(obj, sizeof(obj), "%.64s (%s)", person != NULL ?
	    person : "", role == 0 ? "all roles" : bg_vault_role_name(role));
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK ||
	    (r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (r = check_role(v, role, true)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if (role == 0 || role == BG_VAULT_ROLE_APPROVER) {
		if ((r = named_by_policy(v, &t, person, &named)) != BG_OK)
			goto out;
		if (named) {
			r = bg_vault_fail(v, BG_ERR_STATE, "%s is named by the "
			    "policy of %s: first change the policy without %s "
			    "in a re-key ceremony (vault policy set %s POLICY "
			    "--as PROPOSER)", person, t.name, person, t.name);
			goto out;
		}
	}
	if ((r = bg_store_prepare(v, "UPDATE tokens SET removed_at = ?1 "
	    "WHERE removed_at IS NULL AND membership_id IN (SELECT id FROM "
	    "memberships WHERE tenant_id = ?2 AND person = ?3 AND "
	    "(?4 = 0 OR role = ?4) AND removed_at IS NULL)", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, t.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, role)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "UPDATE memberships SET removed_at = ?1 "
	    "WHERE tenant_id = ?2 AND person = ?3 AND (?4 = 0 OR role = ?4) "
	    "AND removed_at IS NULL", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, t.id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 4, role)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	n = sqlite3_changes(v->db);
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no such "
		    "membership in %s", person, t.name);
		goto out;
	}
	det = json_pack("{s:s, s:s, s:I}", "person", person, "role",
	    role == 0 ? "all" : bg_vault_role_name(role), "removed",
	    (json_int_t)n);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = add_keyset(v, &t, det)) != BG_OK)
		goto out;
	r = bg_audit_append(v, now, actor, "member.remove", t.name, obj, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "member.remove", tenant, obj);
}

int
bg_vault_member_list(bg_vault_t *v, const char *tenant, const char *person,
    bool include_removed, bg_vault_member_info_t **listp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_vault_member_info_t *l = NULL, *mi;
	size_t n = 0, cap = 0;
	int64_t now = bg_vault_read_now(v);
	uint8_t fp[32];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (listp == NULL || np == NULL)
		return BG_ERR_INVALID_ARG;
	*listp = NULL;
	*np = 0;
	bg_vault_clear_err(v);
	if (tenant != NULL) {
		bg_tenant_row_t t;

		if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK)
			goto out;
		bg_tenant_row_clear(&t);
	}
	if ((r = bg_store_prepare(v, "SELECT t.name, m.person, m.role, "
	    "m.expires_at, (m.removed_at IS NOT NULL OR k.removed_at IS NOT "
	    "NULL), k.id, k.label, k.enrolled_at, k.aaguid, k.is_soft, k.alg, "
	    "k.fmt, k.attestation, k.cred_protect, k.sign_count, k.member_pk "
	    "FROM tokens k JOIN memberships m ON m.id = k.membership_id "
	    "JOIN tenants t ON t.id = m.tenant_id WHERE "
	    "(?1 IS NULL OR t.name = ?1) AND (?2 IS NULL OR m.person = ?2) "
	    "AND (?3 OR (m.removed_at IS NULL AND k.removed_at IS NULL)) "
	    "ORDER BY t.name, m.person, m.role, k.id", &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, include_removed)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&l, &cap, n, sizeof(*l))) != BG_OK)
			goto out;
		mi = &l[n++];
		memset(mi, 0, sizeof(*mi));
		bg_store_col_text(st, 0, mi->tenant, sizeof(mi->tenant));
		bg_store_col_text(st, 1, mi->person, sizeof(mi->person));
		mi->role = sqlite3_column_int(st, 2);
		mi->expires_at = sqlite3_column_int64(st, 3);
		mi->expired = mi->expires_at <= now;
		mi->removed = sqlite3_column_int(st, 4) != 0;
		mi->token_id = sqlite3_column_int64(st, 5);
		bg_store_col_text(st, 6, mi->label, sizeof(mi->label));
		mi->enrolled_at = sqlite3_column_int64(st, 7);
		if (sqlite3_column_bytes(st, 8) == BG_TOKEN_AAGUID_LEN)
			memcpy(mi->aaguid, sqlite3_column_blob(st, 8),
			    BG_TOKEN_AAGUID_LEN);
		mi->is_soft = sqlite3_column_int(st, 9) != 0;
		mi->alg = sqlite3_column_int(st, 10);
		bg_store_col_text(st, 11, mi->fmt, sizeof(mi->fmt));
		mi->attestation = sqlite3_column_int(st, 12);
		mi->cred_protect = sqlite3_column_int(st, 13);
		mi->sign_count = (uint32_t)sqlite3_column_int64(st, 14);
		if (sqlite3_column_bytes(st, 15) == 32) {
			crypto_hash_sha256(fp, sqlite3_column_blob(st, 15), 32);
			bg_hex(fp, 8, mi->key_fpr);
		}
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
bg_vault_member_free(bg_vault_member_info_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free(*p);
	*p = NULL;
}
