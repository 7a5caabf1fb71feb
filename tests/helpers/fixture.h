/*
 * Test helper: in-process software tokens and the signed set-up every
 * vault now needs (a genesis signed by two custodians, tenant links
 * signed as the rules ask).  Linked into every test program: no main();
 * failures are reported through the return code and a message on stderr,
 * so that each test decides how to fail.
 */
#ifndef BG_TEST_FIXTURE_H
#define BG_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "soft/inproc.h"

#define BGT_PIN	"4711-pin"

typedef struct bgt_token {
	bg_soft_inproc_t	*ip;
	bg_token_t		*tok;
} bgt_token_t;

/* A fresh in-process token with PIN BGT_PIN; BG_OK or an error. */
int bgt_token_new(bgt_token_t *t);
void bgt_token_free(bgt_token_t *t);

/*
 * The custodians "cust-a" and "cust-b" (tokens kept for the life of the
 * test program) enroll into v's genesis draft and sign it.  BG_OK, or an
 * error with the vault's sentence on stderr.
 */
int bgt_genesis(bg_vault_t *v);
/* The custodians' tokens (0 or 1), for tests that sign as them. */
bgt_token_t *bgt_custodian(int i);
/* cust-a and cust-b sign tenant's draft. */
int bgt_sign_custodians(bg_vault_t *v, const char *tenant);
/* person signs tenant's draft with t; *committedp may be NULL. */
int bgt_sign(bg_vault_t *v, const char *tenant, const char *person,
    bgt_token_t *t, bool *committedp);
/*
 * The operator "olga" (a token kept for the life of the test program,
 * like the custodians'): enroll into tenant's draft link as its operator
 * (before the link is signed), and the signer that seals and rotates as
 * her.
 */
#define BGT_OPERATOR	"olga"
int bgt_operator_enroll(bg_vault_t *v, const char *tenant);
const bg_vault_signer_t *bgt_operator(void);
/* cust-a as the signer of a custodian's act (tenant add, amendments). */
const bg_vault_signer_t *bgt_by_custodian(void);
/* Free the custodians' tokens (at the end of a test program). */
void bgt_fixture_done(void);

#endif /* BG_TEST_FIXTURE_H */
