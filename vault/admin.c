/*
 * Administrative acts: every change to the vault that is not a chain
 * link or a request's own step (sealing a value, rotating it, adding,
 * setting and offboarding a tenant) is made by a named person whose role
 * allows it, and signed by their token through the one signed-act
 * mechanism (act.c).  The event names that person and carries the
 * signature; the statement and its signature are kept in the acts table,
 * so that an act can be checked again later (a seal, at every approval
 * and release: bg_admin_verify).
 *
 * Who may act is read from the verified chain, never from a row: a
 * tenant's operators from the tenant's head link, the custodians from
 * the vault link in force.
 *
 * An act's statement, signed as SHA-256("breakglass <kind> v1\n" ||
 * text):
 *
 *   vault: <id>
 *   genesis: <hash of the genesis>
 *   act: <kind>
 *   tenant: <name>			("" for vault-wide acts)
 *   keyset: link <n>, <hash>		(the tenant's head, or the vault
 *					 link in force)
 *   by: <person> (<role>)
 *   time: <UTC> (<epoch seconds>)
 *   <the act's own lines>
 *   log-size / log-head / tree-root	(bg_statement_full: the history
 *					 the signature vouches for)
 *
 * Values hold no line breaks (names are [a-z0-9._-], texts pass
 * bg_chain_text_ok), so no line can be forged inside another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "vault_int.h"

static const char act_insert_sql[] = "INSERT INTO acts (time, kind, tenant, "
    "person, role, cred_id, statement, authdata, sig) VALUES (?, ?, ?, ?, "
    "?, ?, ?, ?, ?)";
static const char act_get_sql[] = "SELECT kind, tenant, person, role, "
    "cred_id, statement, authdata, sig FROM acts WHERE id = ?";

/* The link whose members decide: the tenant's head, or the vault's. */
static const bg_chain_link_t *
deciding_link(bg_vault_t *v, const bg_tenant_row_t *t, int role,
    const uint8_t **hashp)
{
	if (role == BG_VAULT_ROLE_CUSTODIAN) {
		*hashp = v->vault_head_hash;
		return v->vault_head;
	}
	*hashp = t != NULL ? t->head_hash : NULL;
	return t != NULL ? t->head : NULL;
}

/* The tenant roles an act may allow, in the order they are looked for. */
static const int tenant_roles[] = { BG_VAULT_ROLE_OPERATOR,
    BG_VAULT_ROLE_AUDITOR, BG_VAULT_ROLE_REQUESTER };

static const char *
roles_words(unsigned roles)
{
	switch (roles) {
	case BG_ADMIN_OPERATOR | BG_ADMIN_CUSTODIAN:
		return "an operator of the tenant or a custodian";
	case BG_ADMIN_CUSTODIAN:
		return "a custodian of the vault";
	case BG_ADMIN_OPERATOR | BG_ADMIN_AUDITOR | BG_ADMIN_CUSTODIAN:
		return "an operator or the auditor of the tenant, or a "
		    "custodian";
	case BG_ADMIN_REQUESTER | BG_ADMIN_OPERATOR | BG_ADMIN_CUSTODIAN:
		return "a requester or an operator of the tenant, or a "
		    "custodian";
	default:
		return "an operator of the tenant";
	}
}

int
bg_admin_need(bg_vault_t *v, const bg_vault_signer_t *by)
{
	if (by == NULL || by->person == NULL)
		return bg_vault_fail(v, BG_ERR_INVALID_ARG, "this act is made "
		    "by a named person (--as)");
	return BG_OK;
}

int
bg_admin_who(bg_vault_t *v, const bg_tenant_row_t *t, const char *person,
    unsigned roles, int64_t now, bg_admin_t *a)
{
	const bg_chain_link_t *l;
	const bg_chain_member_t *m;
	const uint8_t *hash;
	uint8_t salt[BG_TOKEN_SALT_LEN];
	int64_t mid = 0;
	size_t cap = 0, i;
	char when[32];
	int r = BG_ERR_INTERNAL;

	memset(a, 0, sizeof(*a));
	if ((r = bg_vault_check_name(v, "person (--as)", person)) != BG_OK)
		return r;
	(void)snprintf(a->person, sizeof(a->person), "%s", person);
	/* A member of the tenant first (an operator, or the auditor where
	 * the act allows): the tenant's own people act for it; a custodian
	 * where the act allows one. */
	m = NULL;
	for (i = 0; i < sizeof(tenant_roles) / sizeof(tenant_roles[0]) &&
	    m == NULL; i++)
		if ((roles & (1u << tenant_roles[i])) != 0 && t != NULL &&
		    t->head != NULL)
			m = bg_chain_member_find(t->head, person,
			    tenant_roles[i]);
	if (m != NULL) {
		if (m->expires_at <= now) {
			r = bg_vault_fail(v, BG_ERR_EXPIRED, "the %s "
			    "membership of %s in %s expired at %s: the client "
			    "recertifies it first (vault member recertify)",
			    bg_vault_role_name(m->role), person, t->name,
			    bg_vault_fmt_time(m->expires_at, when,
			    sizeof(when)));
			goto out;
		}
		a->role = m->role;
		if ((r = bg_member_live(v, t->head, t->id, t->name, person,
		    m->role, now, &mid, salt)) != BG_OK ||
		    (r = bg_member_tokens(v, t->head, person, m->role, mid,
		    &a->creds, &a->n)) != BG_OK)
			goto out;
	} else if ((roles & BG_ADMIN_CUSTODIAN) != 0 &&
	    v->vault_head != NULL && bg_chain_member_find(v->vault_head,
	    person, BG_CHAIN_ROLE_CUSTODIAN) != NULL) {
		a->role = BG_VAULT_ROLE_CUSTODIAN;
		if ((r = bg_chain_creds_of(v->vault_head, person, &a->creds,
		    &a->n, &cap)) != BG_OK)
			goto out;
	} else if ((roles & BG_ADMIN_CUSTODIAN) != 0 &&
	    v->vault_head == NULL) {
		r = bg_vault_fail(v, BG_ERR_STATE, "the vault's genesis is not "
		    "signed yet: no custodian acts before it is (vault chain "
		    "show)");
		goto out;
	} else if ((roles & ~BG_ADMIN_CUSTODIAN) != 0 && t != NULL &&
	    t->head == NULL && (roles & BG_ADMIN_CUSTODIAN) == 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' has no signed "
		    "link yet: nobody acts for it until its first link is "
		    "signed (vault chain show %s)", t->name, t->name);
		goto out;
	} else {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not %s%s%s: only "
		    "they may do this", person, roles_words(roles),
		    t != NULL && (roles & ~BG_ADMIN_CUSTODIAN) != 0 ? " " : "",
		    t != NULL && (roles & ~BG_ADMIN_CUSTODIAN) != 0 ? t->name :
		    "");
		goto out;
	}
	l = deciding_link(v, t, a->role, &hash);
	if (l == NULL || hash == NULL) {
		r = bg_vault_fail(v, BG_ERR_STATE, "no signed link says who "
		    "may act here yet");
		goto out;
	}
	a->link = l;
	a->seq = l->seq;
	memcpy(a->link_hash, hash, sizeof(a->link_hash));
	r = bg_act_check(v, person, a->n);
out:
	sodium_memzero(salt, sizeof(salt));
	if (r != BG_OK)
		bg_admin_clear(a);
	return r;
}

void
bg_admin_clear(bg_admin_t *a)
{
	if (a == NULL)
		return;
	free(a->creds);
	memset(a, 0, sizeof(*a));
}

/* The statement's fixed head: everything before the act's own lines. */
static int
act_head(bg_vault_t *v, const char *kind, const char *tenant,
    const bg_admin_t *a, char **sp)
{
	char lh[2 * BG_VAULT_HASH_LEN + 1];

	*sp = NULL;
	bg_hex(a->link_hash, sizeof(a->link_hash), lh);
	return bg_strcatf(sp, "vault: %s\ngenesis: %s\nact: %s\ntenant: %s\n"
	    "keyset: link %llu, %s\nby: %s (%s)\n", v->id, v->genesis_hex,
	    kind, tenant, (unsigned long long)a->seq, lh, a->person,
	    bg_vault_role_name(a->role));
}

int
bg_admin_sign(bg_vault_t *v, const char *tenant, bg_admin_t *a,
    const char *kind, const char *lines, bg_token_t *tok, const char *pin,
    int64_t now, json_t *det)
{
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t cdh[32], h[32];
	char *body = NULL, *text = NULL, tb[32], hex[65];
	char *ahex = NULL, *shex = NULL;
	size_t which = 0;
	int r = BG_ERR_INTERNAL;

	if ((r = act_head(v, kind, tenant, a, &body)) != BG_OK ||
	    (r = bg_strcatf(&body, "time: %s (%lld)\n%s",
	    bg_vault_fmt_time(now, tb, sizeof(tb)), (long long)now,
	    lines != NULL ? lines : "")) != BG_OK ||
	    (r = bg_statement_full(v, body, &text, h)) != BG_OK)
		goto out;
	bg_statement_cdh(kind, text, cdh);
	if ((r = bg_act_sign(v, tok, pin, a->person, a->creds, a->n, cdh,
	    NULL, &as, &which)) != BG_OK) {
		const bg_chain_link_t *in[2] = { a->link, v->vault_head };

		if (r == BG_ERR_TOKEN_NO_CREDENTIAL)
			bg_act_identify(v, tok, pin, in, 2, a->person);
		goto out;
	}
	if ((r = bg_store_cached(v, act_insert_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, kind)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, tenant)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 4, a->person)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 5, a->role)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 6, a->creds[which].cred_id,
	    a->creds[which].cred_id_len)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 7, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 8, as->authdata, as->authdata_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 9, as->sig, as->sig_len)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	a->act_id = sqlite3_last_insert_rowid(v->db);
	bg_hex(h, sizeof(h), hex);
	/* The event carries the signature: the log alone proves who. */
	if ((ahex = malloc(2 * as->authdata_len + 1)) == NULL ||
	    (shex = malloc(2 * as->sig_len + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_hex(as->authdata, as->authdata_len, ahex);
	bg_hex(as->sig, as->sig_len, shex);
	if (det != NULL && json_object_set_new(det, "signed",
	    json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "by", a->person,
	    "role", bg_vault_role_name(a->role), "act", (json_int_t)a->act_id,
	    "statement_sha256", hex, "token", a->creds[which].label,
	    "authdata", ahex, "sig", shex)) != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	bg_token_assertion_free(&as);
	free(ahex);
	free(shex);
	free(body);
	free(text);
	return r;
}

int
bg_admin_load(bg_vault_t *v, int64_t act_id, bg_act_row_t *ar)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	const void *p;
	size_t n;
	int r = BG_ERR_INTERNAL;

	memset(ar, 0, sizeof(*ar));
	if ((r = bg_store_cached(v, act_get_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, act_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "signed act %lld is missing: "
		    "the file was altered", (long long)act_id);
		goto out;
	}
	ar->id = act_id;
	bg_store_col_text(st, 0, ar->kind, sizeof(ar->kind));
	bg_store_col_text(st, 1, ar->tenant, sizeof(ar->tenant));
	bg_store_col_text(st, 2, ar->person, sizeof(ar->person));
	ar->role = sqlite3_column_int(st, 3);
	if ((n = (size_t)sqlite3_column_bytes(st, 4)) > sizeof(ar->cred_id) ||
	    (size_t)sqlite3_column_bytes(st, 6) > sizeof(ar->authdata) ||
	    (size_t)sqlite3_column_bytes(st, 7) > sizeof(ar->sig)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "signed act %lld is "
		    "malformed: the file was altered", (long long)act_id);
		goto out;
	}
	if ((p = sqlite3_column_blob(st, 4)) != NULL)
		memcpy(ar->cred_id, p, n);
	ar->cred_id_len = n;
	ar->authdata_len = (size_t)sqlite3_column_bytes(st, 6);
	if ((p = sqlite3_column_blob(st, 6)) != NULL)
		memcpy(ar->authdata, p, ar->authdata_len);
	ar->sig_len = (size_t)sqlite3_column_bytes(st, 7);
	if ((p = sqlite3_column_blob(st, 7)) != NULL)
		memcpy(ar->sig, p, ar->sig_len);
	if ((p = sqlite3_column_text(st, 5)) == NULL ||
	    (ar->statement = strdup(p)) == NULL) {
		r = p == NULL ? bg_vault_fail(v, BG_ERR_AUTH, "signed act "
		    "%lld has no statement", (long long)act_id) : BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	if (r != BG_OK)
		bg_act_row_clear(ar);
	return r;
}

void
bg_act_row_clear(bg_act_row_t *ar)
{
	if (ar == NULL)
		return;
	free(ar->statement);
	memset(ar, 0, sizeof(*ar));
}

int
bg_admin_verify(bg_vault_t *v, const bg_act_row_t *ar, const char *kind,
    const char *tenant, const bg_chain_link_t *l, const uint8_t l_hash[32],
    int role, int64_t *timep)
{
	const bg_chain_member_t *m;
	const bg_chain_token_t *ct = NULL;
	bg_admin_t a;
	uint8_t cdh[32];
	char *head = NULL, when[32];
	const char *p;
	long long t = 0;
	size_t i, hl;
	int r = BG_ERR_INTERNAL;

	memset(&a, 0, sizeof(a));
	*timep = 0;
	if (strcmp(ar->kind, kind) != 0 || strcmp(ar->tenant, tenant) != 0 ||
	    ar->role != role || l == NULL) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "signed act %lld is not a "
		    "%s of %s: the file was altered", (long long)ar->id, kind,
		    tenant);
		goto out;
	}
	/* The statement must open with exactly the head this act has: the
	 * vault, the kind, the tenant, the link that decided and the
	 * person in the role the act needs. */
	(void)snprintf(a.person, sizeof(a.person), "%s", ar->person);
	a.role = role;
	a.seq = l->seq;
	memcpy(a.link_hash, l_hash, sizeof(a.link_hash));
	if ((r = act_head(v, kind, tenant, &a, &head)) != BG_OK)
		goto out;
	hl = strlen(head);
	if (strncmp(ar->statement, head, hl) != 0 ||
	    strncmp(ar->statement + hl, "time: ", 6) != 0 ||
	    (p = strstr(ar->statement + hl, " (")) == NULL ||
	    sscanf(p, " (%lld)\n", &t) != 1) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the %s statement of act "
		    "%lld does not name this vault, tenant, keyset and %s: the "
		    "file was altered", kind, (long long)ar->id, ar->person);
		goto out;
	}
	m = bg_chain_member_find(l, ar->person, role);
	for (i = 0; m != NULL && i < m->n_tokens && ct == NULL; i++)
		if (m->tokens[i].cred_id_len == ar->cred_id_len &&
		    bg_same(m->tokens[i].cred_id, ar->cred_id,
		    ar->cred_id_len))
			ct = &m->tokens[i];
	if (ct == NULL) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s (%s) of the %s's signed "
		    "link holds no such credential: act %lld was not made by "
		    "them", ar->person, bg_vault_role_name(role), kind,
		    (long long)ar->id);
		goto out;
	}
	if (m->expires_at != 0 && m->expires_at <= (int64_t)t) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "%s's %s membership had "
		    "expired at %s, before act %lld", ar->person,
		    bg_vault_role_name(role), bg_vault_fmt_time(m->expires_at,
		    when, sizeof(when)), (long long)ar->id);
		goto out;
	}
	bg_statement_cdh(kind, ar->statement, cdh);
	if ((r = bg_act_verify(v, ar->person, ct->alg, ct->pubkey,
	    ct->pubkey_len, cdh, ar->authdata, ar->authdata_len, ar->sig,
	    ar->sig_len)) != BG_OK)
		goto out;
	*timep = (int64_t)t;
	r = BG_OK;
out:
	free(head);
	return r;
}

int
bg_admin_act(bg_vault_t *v, const char *tenant, bg_admin_t *a,
    const bg_vault_signer_t *by, const char *kind, const char *lines,
    int64_t now, json_t *det, bool *checkedp)
{
	*checkedp = false;
	if (by->tok == NULL) {	/* check only: nothing is kept */
		bg_store_rollback(v);
		*checkedp = true;
		return BG_OK;
	}
	return bg_admin_sign(v, tenant, a, kind, lines, by->tok, by->pin, now,
	    det);
}

int
bg_admin_draft_lines(const bg_chain_link_t *d, const char *extra,
    char **linesp)
{
	uint8_t h[BG_VAULT_HASH_LEN];
	char hex[2 * BG_VAULT_HASH_LEN + 1];
	int r;

	*linesp = NULL;
	if ((r = bg_chain_link_hash(d, h)) != BG_OK)
		return r;
	bg_hex(h, sizeof(h), hex);
	return bg_strcatf(linesp, "draft: %s link %llu, %s\n%s",
	    d->scope == BG_CHAIN_VAULT ? "vault" : d->tenant,
	    (unsigned long long)d->seq, hex, extra != NULL ? extra : "");
}

int
bg_admin_who_vault(bg_vault_t *v, const bg_chain_link_t *d,
    const char *person, int64_t now, bg_admin_t *a)
{
	size_t cap = 0;
	int r;

	if (v->vault_head != NULL)
		return bg_admin_who(v, NULL, person, BG_ADMIN_CUSTODIAN, now,
		    a);
	/* The genesis is still a draft: its own custodians amend it. */
	memset(a, 0, sizeof(*a));
	if ((r = bg_vault_check_name(v, "person (--as)", person)) != BG_OK)
		return r;
	if (d == NULL || bg_chain_member_find(d, person,
	    BG_CHAIN_ROLE_CUSTODIAN) == NULL)
		return bg_vault_fail(v, BG_ERR_DENIED, "%s is not a custodian "
		    "the vault's genesis draft names: only they may amend it",
		    person);
	(void)snprintf(a->person, sizeof(a->person), "%s", person);
	a->role = BG_VAULT_ROLE_CUSTODIAN;
	a->link = d;
	a->seq = d->seq;
	if ((r = bg_chain_link_hash(d, a->link_hash)) != BG_OK ||
	    (r = bg_chain_creds_of(d, person, &a->creds, &a->n, &cap)) !=
	    BG_OK || (r = bg_act_check(v, person, a->n)) != BG_OK)
		bg_admin_clear(a);
	return r;
}
