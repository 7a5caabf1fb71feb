/*
 * Signed acts: the one place where a person's token signs something for
 * the vault (STYLE rule 16).  Every act -- a request, an approval or
 * denial, a release, the new credential's enrollment proof, a signature
 * on a chain link -- is the same sequence:
 *
 *   1. the caller builds the whole statement first: every key anything
 *      will be sealed to and every setting the act relies on is inside
 *      it, and its clientDataHash is SHA-256("breakglass <kind> v1\n" ||
 *      text) (bg_statement_cdh; a link's is bg_chain_link_hash, the same
 *      shape with kind "link");
 *   2. the program shows it to the person (the engine never prints);
 *   3. bg_act_sign(): one UV assertion by one of the person's
 *      credentials (as the chain gives them) over that hash, the sign
 *      counter checked and stored;
 *   4. the caller stores the assertion as evidence and logs the event in
 *      the same transaction;
 *   5. anyone can check it later with bg_act_verify().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "vault_int.h"

static const char counter_by_id_sql[] = "UPDATE tokens SET sign_count = ? "
    "WHERE id = ?";
static const char counter_get_sql[] = "SELECT id, sign_count FROM tokens "
    "WHERE cred_id = ?";

/* Counters must move forward; a token that keeps 0 has none (CTAP 2.1). */
static int
counter_ok(bg_vault_t *v, const char *person, const char *label,
    uint32_t last, uint32_t now_count)
{
	if (now_count > last || (now_count == 0 && last == 0))
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_TOKEN_COUNTER, "the sign counter of "
	    "%s's token '%s' did not move forward (%lu after %lu): the token "
	    "may have been cloned", person, label, (unsigned long)now_count,
	    (unsigned long)last);
}

static int
counter_store(bg_vault_t *v, int64_t token_id, uint32_t count)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = bg_store_cached(v, counter_by_id_sql, &st)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 1, count)) == BG_OK &&
	    (r = bg_store_bind_int(v, st, 2, token_id)) == BG_OK)
		r = bg_store_step_done(v, st);
	bg_store_done(st);
	return r;
}

/*
 * The counter of a credential: its row's when the caller has it, else
 * every row holding that credential id (a custodian or a draft's new
 * credential has none yet).
 */
static int
counter_step(bg_vault_t *v, const char *person, const bg_token_row_t *tr,
    uint32_t count)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[16];
	size_t n = 0, i;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (tr->id != 0) {
		if ((r = counter_ok(v, person, tr->label, tr->sign_count,
		    count)) != BG_OK)
			return r;
		/* id -1: a credential being made, with no row yet */
		return tr->id > 0 ? counter_store(v, tr->id, count) : BG_OK;
	}
	if ((r = bg_store_cached(v, counter_get_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 1, tr->cred_id, tr->cred_id_len)) !=
	    BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = counter_ok(v, person, tr->label,
		    (uint32_t)sqlite3_column_int64(st, 1), count)) != BG_OK)
			goto out;
		if (n < sizeof(ids) / sizeof(ids[0]))
			ids[n++] = sqlite3_column_int64(st, 0);
	}
	bg_store_done(st);
	st = NULL;
	for (i = 0; i < n; i++)
		if ((r = counter_store(v, ids[i], count)) != BG_OK)
			goto out;
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

int
bg_act_check(bg_vault_t *v, const char *person, size_t n)
{
	if (n == 0)
		return bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no enrolled "
		    "token for this", person);
	return BG_OK;
}

int
bg_act_vetted(bg_vault_t *v, const char *person, const bg_token_row_t *cred)
{
	char why[BG_VAULT_ERRMSG_MAX];
	int r;

	if (cred->ct == NULL)
		return BG_OK;
	if ((r = bg_chain_vet(v, v->vault_head, cred->ct,
	    bg_vault_read_now(v))) == BG_OK)
		return BG_OK;
	(void)snprintf(why, sizeof(why), "%s", bg_vault_errmsg(v));
	return bg_vault_fail(v, r, "%s's token cannot sign here: %s", person,
	    why);
}

int
bg_act_sign(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const char *person, const bg_token_row_t *creds, size_t n,
    const uint8_t cdh[32], const uint8_t *salt,
    bg_token_assertion_t **assertp, size_t *whichp)
{
	bg_token_assertion_t *as = NULL;
	bool *ok = NULL;
	size_t i, usable;
	int r = BG_ERR_INTERNAL;

	*assertp = NULL;
	*whichp = 0;
	if ((r = bg_act_check(v, person, n)) != BG_OK)
		goto out;
	if ((ok = calloc(n, sizeof(*ok))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/*
	 * Vetted at use: in a production vault a credential signs only while
	 * the trust store in force (the newest vault link) vets its
	 * attestation, whatever link enrolled it, so a link made against an
	 * older store, a model since revoked, or a drill-era software token
	 * signs nothing (docs/security.md, "Vetted tokens").
	 */
	for (i = 0, usable = 0; i < n; i++)
		if ((r = bg_act_vetted(v, person, &creds[i])) == BG_OK) {
			ok[i] = true;
			usable++;
		}
	if (usable == 0)
		goto out;
	bg_vault_clear_err(v);
	r = BG_ERR_TOKEN_NO_CREDENTIAL;
	for (i = 0; i < n; i++) {
		if (!ok[i])	/* vetted once, above */
			continue;
		r = bg_token_assert(tok, v->rp_id, creds[i].cred_id,
		    creds[i].cred_id_len, creds[i].alg, creds[i].pubkey,
		    creds[i].pubkey_len, cdh, salt, pin, &as);
		if (r != BG_ERR_TOKEN_NO_CREDENTIAL)
			break;
	}
	if (r == BG_ERR_TOKEN_NO_CREDENTIAL) {
		r = bg_vault_fail(v, r, "this token holds none of %s's "
		    "credentials for this", person);
		goto out;
	}
	if (r != BG_OK) {
		r = bg_vault_fail(v, r, "%s's token: %s", person,
		    bg_strerror(r));
		goto out;
	}
	/* bg_token_assert checked signature, UP and UV; say it once more
	 * where it matters, for tokens that lie about flags. */
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
	if (as->authdata_len > BG_ACT_AUTHDATA_MAX ||
	    as->sig_len > BG_ACT_SIG_MAX) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_PROTOCOL, "%s's token sent "
		    "an oversized assertion", person);
		goto out;
	}
	/* A credential of person's answered: a refusal from here on says
	 * whose token it was. */
	(void)snprintf(v->act_owner, sizeof(v->act_owner), "%s", person);
	(void)snprintf(v->act_token, sizeof(v->act_token), "%s",
	    creds[i].label);
	if ((r = counter_step(v, person, &creds[i], as->sign_count)) != BG_OK)
		goto out;
	*assertp = as;
	as = NULL;
	*whichp = i;
	r = BG_OK;
out:
	free(ok);
	bg_token_assertion_free(&as);
	return r;
}

void
bg_act_identify(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const struct bg_chain_link *const *links, size_t n, const char *person)
{
	const bg_chain_member_t *m;
	const bg_chain_token_t *ct;
	size_t i, j, k, asked = 0;
	bool held = false;

	if (v == NULL || tok == NULL || pin == NULL || links == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (links[i] == NULL)
			continue;
		for (j = 0; j < links[i]->n_members; j++) {
			m = &links[i]->members[j];
			for (k = 0; k < m->n_tokens; k++) {
				ct = &m->tokens[k];
				if (asked++ >= BG_ACT_PROBE_MAX ||
				    bg_token_holds(tok, v->rp_id, ct->cred_id,
				    ct->cred_id_len, ct->alg, ct->pubkey,
				    ct->pubkey_len, pin, &held) != BG_OK)
					return;
				if (!held)
					continue;
				(void)snprintf(v->act_owner,
				    sizeof(v->act_owner), "%s", m->person);
				(void)snprintf(v->act_token,
				    sizeof(v->act_token), "%s", ct->label);
				(void)bg_vault_fail(v,
				    BG_ERR_TOKEN_NO_CREDENTIAL, "this token "
				    "holds none of %s's credentials for this: "
				    "it is %s's token '%s'", person, m->person,
				    ct->label);
				return;
			}
		}
	}
}

int
bg_act_verify(bg_vault_t *v, const char *person, int alg,
    const uint8_t *pubkey, size_t pubkey_len, const uint8_t cdh[32],
    const uint8_t *authdata, size_t authdata_len, const uint8_t *sig,
    size_t sig_len)
{
	if (authdata == NULL || sig == NULL || authdata_len == 0 ||
	    sig_len == 0 || bg_token_verify(alg, pubkey, pubkey_len, v->rp_id,
	    cdh, authdata, authdata_len, sig, sig_len, true) != BG_OK)
		return bg_vault_fail(v, BG_ERR_AUTH, "%s's signature on this "
		    "statement does not verify: the file was altered", person);
	return BG_OK;
}

int
bg_act_new_cred(const bg_token_cred_t *cred, bg_token_row_t *row)
{
	memset(row, 0, sizeof(*row));
	if (cred->id_len == 0 || cred->id_len > sizeof(row->cred_id) ||
	    cred->pubkey_len == 0 || cred->pubkey_len > sizeof(row->pubkey))
		return BG_ERR_TOKEN_PROTOCOL;
	(void)snprintf(row->label, sizeof(row->label), "new credential");
	row->alg = cred->alg;
	memcpy(row->cred_id, cred->id, cred->id_len);
	row->cred_id_len = cred->id_len;
	memcpy(row->pubkey, cred->pubkey, cred->pubkey_len);
	row->pubkey_len = cred->pubkey_len;
	/* its counter must move past the one makeCredential reported */
	row->sign_count = cred->sign_count;
	row->id = -1;
	return BG_OK;
}
