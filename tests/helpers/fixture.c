/* Test helper: see fixture.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "fixture.h"

static bgt_token_t custodians[2];
static bool have_custodians;
static const char *const cust_names[2] = { "cust-a", "cust-b" };
static bgt_token_t operator_tok;
static bool have_operator;
static bg_vault_signer_t operator_signer;

int
bgt_token_new(bgt_token_t *t)
{
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = bg_soft_inproc_new(NULL, NULL, 0, &t->ip)) != BG_OK ||
	    (r = bg_token_open_io(bg_soft_inproc_path(t->ip),
	    bg_soft_inproc_io(), &t->tok)) != BG_OK ||
	    (r = bg_token_pin_set(t->tok, BGT_PIN)) != BG_OK)
		bgt_token_free(t);
	return r;
}

void
bgt_token_free(bgt_token_t *t)
{
	bg_token_close(&t->tok);
	bg_soft_inproc_free(&t->ip);
}

bgt_token_t *
bgt_custodian(int i)
{
	return i >= 0 && i < 2 && have_custodians ? &custodians[i] : NULL;
}

int
bgt_sign(bg_vault_t *v, const char *tenant, const char *person,
    bgt_token_t *t, bool *committedp)
{
	int r = bg_vault_chain_sign(v, tenant, person, NULL, t->tok, BGT_PIN,
	    committedp);

	if (r != BG_OK)
		fprintf(stderr, "fixture: %s signs %s: %s\n", person,
		    tenant != NULL ? tenant : "the genesis",
		    bg_vault_errmsg(v));
	return r;
}

int
bgt_sign_custodians(bg_vault_t *v, const char *tenant)
{
	int i, r = BG_OK;

	for (i = 0; i < 2 && r == BG_OK; i++)
		r = bgt_sign(v, tenant, cust_names[i], &custodians[i], NULL);
	return r;
}

int
bgt_genesis(bg_vault_t *v)
{
	bool done = false;
	int i, r = BG_OK;

	if (!have_custodians) {
		for (i = 0; i < 2 && r == BG_OK; i++)
			r = bgt_token_new(&custodians[i]);
		if (r != BG_OK)
			return r;
		have_custodians = true;
		(void)atexit(bgt_fixture_done);
	}
	for (i = 0; i < 2 && r == BG_OK; i++) {
		r = bg_vault_custodian_add(v, cust_names[i], NULL, 0,
		    custodians[i].tok, BGT_PIN);
		if (r != BG_OK)
			fprintf(stderr, "fixture: custodian %s: %s\n",
			    cust_names[i], bg_vault_errmsg(v));
	}
	for (i = 0; i < 2 && r == BG_OK; i++)
		r = bgt_sign(v, NULL, cust_names[i], &custodians[i], &done);
	if (r == BG_OK && !done) {
		fprintf(stderr, "fixture: the genesis did not take effect\n");
		r = BG_ERR_STATE;
	}
	return r;
}

int
bgt_operator_enroll(bg_vault_t *v, const char *tenant)
{
	int r;

	if (!have_operator) {
		if ((r = bgt_token_new(&operator_tok)) != BG_OK)
			return r;
		have_operator = true;
		(void)atexit(bgt_fixture_done);
	}
	r = bg_vault_member_add(v, tenant, BGT_OPERATOR,
	    BG_VAULT_ROLE_OPERATOR, BG_VAULT_SIDE_NONE,
	    bg_vault_created_at(v) + 3 * 365 * 86400, "olga-soft",
	    operator_tok.tok, BGT_PIN);
	if (r != BG_OK)
		fprintf(stderr, "fixture: operator of %s: %s\n", tenant,
		    bg_vault_errmsg(v));
	return r;
}

const bg_vault_signer_t *
bgt_by_custodian(void)
{
	static bg_vault_signer_t by;

	by.person = cust_names[0];
	by.tok = have_custodians ? custodians[0].tok : NULL;
	by.pin = BGT_PIN;
	return &by;
}

const bg_vault_signer_t *
bgt_operator(void)
{
	operator_signer.person = BGT_OPERATOR;
	operator_signer.tok = have_operator ? operator_tok.tok : NULL;
	operator_signer.pin = BGT_PIN;
	return &operator_signer;
}

void
bgt_fixture_done(void)
{
	int i;

	if (have_operator) {
		bgt_token_free(&operator_tok);
		have_operator = false;
	}
	if (!have_custodians)
		return;
	for (i = 0; i < 2; i++)
		bgt_token_free(&custodians[i]);
	have_custodians = false;
}
