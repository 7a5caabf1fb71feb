/*
 * Memberships and their token credentials: enrollment into the tenant's
 * draft link (the membership's X25519 key from the token's hmac-secret,
 * signed by the new credential), recertification and removal (draft
 * amendments), listing, and the assertion helper every token flow uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
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
	case BG_VAULT_ROLE_OPERATOR:	return "operator";
	case BG_VAULT_ROLE_CUSTODIAN:	return "custodian";
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
	for (role = 1; role <= BG_VAULT_ROLE_TENANT_MAX; role++)
		if (strcmp(s, bg_vault_role_name(role)) == 0) {
			*rolep = role;
			return BG_OK;
		}
	return BG_ERR_INVALID_ARG;
}

static int
check_role(bg_vault_t *v, int role, bool allow_zero)
{
	if ((allow_zero && role == 0) || (role >= 1 &&
	    role <= BG_VAULT_ROLE_TENANT_MAX))
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_INVALID_ARG, "unknown role %d "
	    "(requester, approver, auditor or operator)", role);
}

const char *
bg_vault_side_name(int side)
{
	switch (side) {
	case BG_VAULT_SIDE_CLIENT:	return "client";
	case BG_VAULT_SIDE_MSP:		return "msp";
	default:			return "none";
	}
}

int
bg_vault_side_parse(const char *s, int *sidep)
{
	if (sidep == NULL)
		return BG_ERR_INVALID_ARG;
	*sidep = 0;
	if (s == NULL)
		return BG_ERR_INVALID_ARG;
	if (strcmp(s, "client") == 0)
		*sidep = BG_VAULT_SIDE_CLIENT;
	else if (strcmp(s, "msp") == 0)
		*sidep = BG_VAULT_SIDE_MSP;
	else
		return BG_ERR_INVALID_ARG;
	return BG_OK;
}

/*
 * Statements every request, approval and release runs, kept prepared
 * (bg_store_cached(), keyed by these arrays' addresses).
 */
static const char live_sql[] = "SELECT id FROM memberships WHERE "
    "tenant_id = ? AND person = ? AND role = ?";
static const char token_id_sql[] = "SELECT id, sign_count FROM tokens "
    "WHERE membership_id = ? AND cred_id = ?";

int
bg_member_live(bg_vault_t *v, const bg_chain_link_t *ks, int64_t tenant_id,
    const char *tenant, const char *person, int role, int64_t now,
    int64_t *membership_idp, uint8_t salt[BG_TOKEN_SALT_LEN])
{
	const bg_chain_member_t *m;
	sqlite3_stmt *st = NULL;
	bool row = false;
	char when[32];
	int r = BG_ERR_INTERNAL;

	*membership_idp = 0;
	/* Who is a member, until when, with which salt: the signed keyset
	 * says so; the row only gives the id the flows' rows refer to. */
	m = ks != NULL ? bg_chain_member_find(ks, person, role) : NULL;
	if (m == NULL) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not %s %s of %s",
		    person, role == BG_VAULT_ROLE_APPROVER ? "an" : "a",
		    bg_vault_role_name(role), tenant);
		goto out;
	}
	if (m->expires_at <= now) {
		r = bg_vault_fail(v, BG_ERR_EXPIRED, "the %s membership of %s "
		    "in %s expired at %s", bg_vault_role_name(role), person,
		    tenant, bg_vault_fmt_time(m->expires_at, when,
		    sizeof(when)));
		goto out;
	}
	if ((r = bg_store_cached(v, live_sql, &st)) != BG_OK)
		goto out;
	if ((r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, role)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "the membership row of "
		    "%s in %s is missing: the file was altered", person, tenant);
		goto out;
	}
	memcpy(salt, m->salt, BG_TOKEN_SALT_LEN);
	*membership_idp = sqlite3_column_int64(st, 0);
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

int
bg_member_tokens(bg_vault_t *v, const bg_chain_link_t *ks, const char *person,
    int role, int64_t membership_id, bg_token_row_t **rowsp, size_t *np)
{
	const bg_chain_member_t *m;
	sqlite3_stmt *st = NULL;
	bg_token_row_t *l = NULL, *t;
	size_t i, n = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*rowsp = NULL;
	*np = 0;
	m = ks != NULL ? bg_chain_member_find(ks, person, role) : NULL;
	if (m == NULL || m->n_tokens == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no enrolled "
		    "token in this membership", person);
		goto out;
	}
	if ((l = calloc(m->n_tokens, sizeof(*l))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < m->n_tokens; i++) {
		const bg_chain_token_t *ct = &m->tokens[i];

		t = &l[n];
		t->membership_id = membership_id;
		(void)snprintf(t->label, sizeof(t->label), "%s", ct->label);
		t->alg = ct->alg;
		if (ct->cred_id_len > sizeof(t->cred_id) ||
		    ct->pubkey_len > sizeof(t->pubkey)) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		memcpy(t->cred_id, ct->cred_id, ct->cred_id_len);
		t->cred_id_len = ct->cred_id_len;
		memcpy(t->pubkey, ct->pubkey, ct->pubkey_len);
		t->pubkey_len = ct->pubkey_len;
		memcpy(t->member_pk, ct->member_pk, sizeof(t->member_pk));
		t->ct = ct;
		if ((r = bg_store_cached(v, token_id_sql, &st)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, membership_id)) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 2, ct->cred_id,
		    ct->cred_id_len)) != BG_OK ||
		    (r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row) {
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "the token row "
			    "of %s's '%s' is missing: the file was altered",
			    person, ct->label);
			goto out;
		}
		t->id = sqlite3_column_int64(st, 0);
		t->sign_count = (uint32_t)sqlite3_column_int64(st, 1);
		bg_store_done(st);
		st = NULL;
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

/* --- enrollment ------------------------------------------------------------ */

/* The draft's membership of person in role, added (with a fresh salt)
 * when the draft has none. */
static int
draft_member(bg_vault_t *v, bg_chain_link_t *d, const char *person,
    int role, int side, int64_t expires_at, bg_chain_member_t **mp)
{
	bg_chain_member_t nm, *m;
	int r;

	*mp = NULL;
	if ((m = bg_chain_member_find(d, person, role)) != NULL) {
		if (m->side != side)
			return bg_vault_fail(v, BG_ERR_STATE, "%s is a %s-side "
			    "approver of %s: a membership keeps its side (remove "
			    "it and enroll anew)", person,
			    bg_vault_side_name(m->side), d->tenant);
		/* another token for the same membership: its expiry stays
		 * (a longer one is a grant: vault member recertify) */
		(void)expires_at;
		*mp = m;
		return BG_OK;
	}
	memset(&nm, 0, sizeof(nm));
	(void)snprintf(nm.person, sizeof(nm.person), "%s", person);
	nm.role = role;
	nm.side = side;
	nm.expires_at = expires_at;
	randombytes_buf(nm.salt, sizeof(nm.salt));
	if ((r = bg_chain_member_add(d, &nm)) != BG_OK)
		return bg_vault_fail(v, r, "adding %s to the draft: %s", person,
		    bg_strerror(r));
	*mp = bg_chain_member_find(d, person, role);
	return *mp != NULL ? BG_OK : BG_ERR_INTERNAL;
}

/* The statement the first assertion (the one giving the hmac-secret
 * output) signs: nothing rests on it but the UV flag and the counter;
 * the enrollment proof that follows carries the derived key. */
static void
keygen_cdh(const bg_vault_t *v, const char *tenant, const char *person,
    int role, const uint8_t salt[32], uint8_t cdh[32])
{
	crypto_hash_sha256_state h;
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "breakglass enroll-key v1\n%s\n%s\n"
	    "%s\n%s\n", v->id, tenant, person, bg_vault_role_name(role));
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)line,
	    n > 0 && (size_t)n < sizeof(line) ? (unsigned long long)n : 0ULL);
	crypto_hash_sha256_update(&h, salt, 32);
	crypto_hash_sha256_final(&h, cdh);
}

int
bg_vault_member_add(bg_vault_t *v, const char *tenant, const char *person,
    int role, int side, int64_t expires_at, const char *label,
    bg_token_t *tok, const char *pin)
{
	/* The enrollee acts: their new credential signs the enrollment. */
	const char *actor = person;
	bg_tenant_row_t t;
	bg_chain_link_t *d = NULL;
	bg_chain_member_t *m = NULL;
	bg_chain_token_t ct;
	bg_token_row_t nr;
	bg_token_cred_t *cred = NULL;
	bg_token_assertion_t *as = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN], fp[32];
	uint8_t *sk = NULL;
	char hex[2 * BG_TOKEN_AAGUID_LEN + 1], fpr[17];
	char obj[2 * BG_VAULT_NAME_MAX + 16];
	json_t *det = NULL;
	int64_t now = 0;
	size_t dropped = 0, which = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&ct, 0, sizeof(ct));
	bg_vault_clear_err(v);
	(void)snprintf(obj, sizeof(obj), "%.64s (%s)", person != NULL ?
	    person : "", bg_vault_role_name(role));
	if ((r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (r = check_role(v, role, false)) != BG_OK)
		goto out;
	if (role == BG_VAULT_ROLE_APPROVER && side != BG_VAULT_SIDE_CLIENT &&
	    side != BG_VAULT_SIDE_MSP) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "an approver stands on "
		    "the client's side or the MSP's: say which (--side client "
		    "or --side msp)");
		goto out;
	}
	if (role != BG_VAULT_ROLE_APPROVER && side != BG_VAULT_SIDE_NONE) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "only approvers have a "
		    "side");
		goto out;
	}
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
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_chain_draft_get(v, t.name, now, &d)) != BG_OK)
		goto out;
	if (expires_at <= now) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the membership expiry must "
		    "lie in the future");
		goto out;
	}
	if ((r = draft_member(v, d, person, role, side, expires_at, &m)) !=
	    BG_OK)
		goto out;
	if (m->n_tokens >= BG_CHAIN_MAX_TOKENS) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "%s has %d tokens in this "
		    "membership already", person, BG_CHAIN_MAX_TOKENS);
		goto out;
	}
	if ((r = bg_chain_new_credential(v, tok, pin, person, v->allow_soft,
	    "hold a vault membership", &ct, &nr, &cred)) != BG_OK)
		goto out;
	if ((r = bg_chain_cred_unique(v, person, cred->id, cred->id_len)) !=
	    BG_OK)
		goto out;
	/* Vetted before the second touch and before anything is stored. */
	if ((r = bg_chain_vet(v, v->vault_head, &ct, now)) != BG_OK)
		goto out;
	/* 1: the hmac-secret output for the salt, with UV, gives the key. */
	keygen_cdh(v, t.name, person, role, m->salt, cdh);
	if ((r = bg_act_sign(v, tok, pin, person, &nr, 1, cdh, m->salt, &as,
	    &which)) != BG_OK)
		goto out;
	nr.sign_count = as->sign_count;
	if ((sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_seal_member_keypair(as->hmac_secret, ct.member_pk, sk);
	sodium_free(sk);		/* only the public half is kept */
	sk = NULL;
	bg_token_assertion_free(&as);	/* wipes the hmac-secret output */
	if (r != BG_OK)
		goto out;
	(void)snprintf(ct.label, sizeof(ct.label), "%s", label != NULL &&
	    label[0] != '\0' ? label : "");
	if (ct.label[0] == '\0')
		(void)snprintf(ct.label, sizeof(ct.label), "token %zu",
		    m->n_tokens + 1);
	/* 2: the new credential signs its key into the draft */
	if ((r = bg_chain_enroll_prove(v, tok, pin, d, m, &ct, &nr)) !=
	    BG_OK)
		goto out;
	if ((r = bg_chain_member_add_token(m, &ct)) != BG_OK) {
		r = bg_vault_fail(v, r, "adding the token to the draft: %s",
		    bg_strerror(r));
		goto out;
	}
	if ((r = bg_chain_draft_put(v, t.name, d, now, &dropped, NULL)) != BG_OK)
		goto out;
	crypto_hash_sha256(fp, ct.member_pk, sizeof(ct.member_pk));
	bg_hex(fp, 8, fpr);
	bg_hex(cred->aaguid, BG_TOKEN_AAGUID_LEN, hex);
	det = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:s, s:i, s:i, "
	    "s:i, s:s, s:I, s:I}",
	    "person", person, "role", bg_vault_role_name(role), "side",
	    bg_vault_side_name(side), "expires_at", (json_int_t)expires_at,
	    "label", ct.label, "aaguid", hex, "soft", ct.soft,
	    "fmt", ct.fmt, "attestation", cred->attestation, "cred_protect",
	    cred->cred_protect, "alg", cred->alg, "key", fpr,
	    "draft_seq", (json_int_t)d->seq, "signatures_dropped",
	    (json_int_t)dropped);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_note(d, det)) != BG_OK)
		goto out;
	r = bg_audit_append(v, now, actor, "member.add", t.name, obj, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	bg_chain_note_enrolled(v, &ct, true);
	r = BG_OK;
out:
	json_decref(det);
	if (sk != NULL)
		sodium_free(sk);
	bg_token_assertion_free(&as);
	bg_token_cred_free(&cred);
	bg_chain_link_free(&d);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "member.add", tenant, obj);
}

/* --- recertification and removal: amendments of the draft -------------------- */

int
bg_vault_member_recertify(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *person, int role, int64_t expires_at,
    bool shorten)
{
	bg_admin_t a;
	char *lines = NULL;
	const char *actor = by != NULL ? by->person : NULL;
	bool checked = false;
	bg_tenant_row_t t;
	bg_chain_link_t *d = NULL;
	char obj[2 * BG_VAULT_NAME_MAX + 16], when[32];
	json_t *det = NULL;
	int64_t now = 0;
	size_t i, n = 0, dropped = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	(void)snprintf(obj, sizeof(obj), "%.64s (%s)", person != NULL ?
	    person : "", role == 0 ? "all roles" : bg_vault_role_name(role));
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (r = check_role(v, role, true)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR |
	    BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK ||
	    (r = bg_chain_draft_get(v, t.name, now, &d)) != BG_OK)
		goto out;
	if (expires_at <= now) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the new expiry must lie in "
		    "the future (to end a membership, remove it)");
		goto out;
	}
	for (i = 0; i < d->n_members; i++) {
		bg_chain_member_t *m = &d->members[i];

		if (strcmp(m->person, person) != 0 ||
		    (role != 0 && m->role != role) ||
		    m->role == BG_CHAIN_ROLE_CUSTODIAN)
			continue;
		if (expires_at < m->expires_at && !shorten) {
			r = bg_vault_fail(v, BG_ERR_RANGE, "%s's %s membership "
			    "runs until %s, later than the date given: "
			    "recertify extends; say --shorten to bring it "
			    "forward", person, bg_vault_role_name(m->role),
			    bg_vault_fmt_time(m->expires_at, when,
			    sizeof(when)));
			goto out;
		}
		m->expires_at = expires_at;
		n++;
	}
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no such "
		    "membership in %s", person, t.name);
		goto out;
	}
	if ((r = bg_chain_draft_put(v, t.name, d, now, &dropped, NULL)) != BG_OK)
		goto out;
	det = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "person", person,
	    "role", role == 0 ? "all" : bg_vault_role_name(role),
	    "expires_at", (json_int_t)expires_at, "memberships",
	    (json_int_t)n, "draft_seq", (json_int_t)d->seq,
	    "signatures_dropped", (json_int_t)dropped);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_note(d, det)) != BG_OK)
		goto out;
	if ((r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, t.name, &a, by, "member.recertify", lines,
	    now, det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "member.recertify", t.name, obj,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	free(lines);
	bg_admin_clear(&a);
	json_decref(det);
	bg_chain_link_free(&d);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "member.recertify", tenant, obj);
}

int
bg_vault_member_remove(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant, const char *person, int role)
{
	bg_admin_t a;
	char *lines = NULL;
	const char *actor = by != NULL ? by->person : NULL;
	bool checked = false;
	bg_tenant_row_t t;
	bg_chain_link_t *d = NULL;
	bg_policy_t *pol = NULL;
	json_t *det = NULL;
	int64_t now = 0;
	size_t n = 0, dropped = 0, idx = 0;
	char obj[2 * BG_VAULT_NAME_MAX + 16];
	int ro, r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	(void)snprintf(obj, sizeof(obj), "%.64s (%s)", person != NULL ?
	    person : "", role == 0 ? "all roles" : bg_vault_role_name(role));
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (r = check_role(v, role, true)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR |
	    BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK ||
	    (r = bg_chain_draft_get(v, t.name, now, &d)) != BG_OK)
		goto out;
	if ((role == 0 || role == BG_VAULT_ROLE_APPROVER) &&
	    d->policy != NULL && bg_policy_parse(d->policy, &pol, NULL) ==
	    BG_OK && bg_policy_leaf_index(pol, person, &idx) == BG_OK) {
		r = bg_vault_fail(v, BG_ERR_STATE, "%s is named by the draft's "
		    "policy of %s: set a policy without %s in the same draft "
		    "first (vault policy set %s POLICY)", person, t.name,
		    person, t.name);
		goto out;
	}
	for (ro = BG_VAULT_ROLE_REQUESTER; ro <= BG_VAULT_ROLE_TENANT_MAX; ro++)
		if ((role == 0 || role == ro) &&
		    bg_chain_member_remove(d, person, ro) == BG_OK)
			n++;
	if (n == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no such "
		    "membership in %s", person, t.name);
		goto out;
	}
	if ((r = bg_chain_draft_put(v, t.name, d, now, &dropped, NULL)) != BG_OK)
		goto out;
	det = json_pack("{s:s, s:s, s:I, s:I, s:I}", "person", person, "role",
	    role == 0 ? "all" : bg_vault_role_name(role), "removed",
	    (json_int_t)n, "draft_seq", (json_int_t)d->seq,
	    "signatures_dropped", (json_int_t)dropped);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_note(d, det)) != BG_OK)
		goto out;
	if ((r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, t.name, &a, by, "member.remove", lines,
	    now, det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "member.remove", t.name, obj, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	free(lines);
	bg_admin_clear(&a);
	json_decref(det);
	bg_policy_free(&pol);
	bg_chain_link_free(&d);
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
