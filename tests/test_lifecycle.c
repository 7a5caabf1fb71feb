/*
 * Lifecycle flows in-process with in-process software tokens: the re-key
 * ceremony (diff, approvals meeting the old policy, commit, lowering,
 * abort, tampering), recertification (two tokens, self sign-off refused),
 * quorum at risk in status, offboarding with its signed certificate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "soft/inproc.h"

#define PIN	"4711-pin"
#define VALUE	"correct horse battery staple"
#define NPEOPLE	5

enum { CAROL, ALICE, BOB, MIA, DAN };
static const char *const names[NPEOPLE] = {
	"carol", "alice", "bob", "mia", "dan"
};

typedef struct fx {
	char		 dir[64];
	char		 path[96];
	bg_vault_t	*v;
	bg_soft_inproc_t *ip[NPEOPLE];
	bg_token_t	*tok[NPEOPLE];
} fx_t;

static int64_t
in_days(int d)
{
	return (int64_t)time(NULL) + (int64_t)d * 86400;
}

static void
enroll(fx_t *f, int who, int role)
{
	int r = bg_vault_member_add(f->v, "root", "acme", names[who], role,
	    in_days(365), NULL, f->tok[who], PIN);

	if (r != BG_OK)
		fail_msg("enroll %s: %s", names[who], bg_vault_errmsg(f->v));
}

/* carol requests; alice, bob, mia, dan approve; policy
 * all-of(1-of(alice,bob),1-of(mia)); secret db. */
static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/bglife.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	assert_int_equal(bg_vault_create(f->path, true, "root", &f->v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(f->v, "root", "acme", NULL),
	    BG_OK);
	for (i = 0; i < NPEOPLE; i++) {
		assert_int_equal(bg_soft_inproc_new(NULL, NULL, 0, &f->ip[i]),
		    BG_OK);
		assert_int_equal(bg_token_open_io(bg_soft_inproc_path(f->ip[i]),
		    bg_soft_inproc_io(), &f->tok[i]), BG_OK);
		assert_int_equal(bg_token_pin_set(f->tok[i], PIN), BG_OK);
	}
	enroll(f, CAROL, BG_VAULT_ROLE_REQUESTER);
	enroll(f, ALICE, BG_VAULT_ROLE_APPROVER);
	enroll(f, BOB, BG_VAULT_ROLE_APPROVER);
	enroll(f, MIA, BG_VAULT_ROLE_APPROVER);
	enroll(f, DAN, BG_VAULT_ROLE_APPROVER);
	if (bg_vault_policy_set(f->v, "root", "acme",
	    "all-of(1-of(alice,bob),1-of(mia))") != BG_OK)
		fail_msg("policy: %s", bg_vault_errmsg(f->v));
	assert_int_equal(bg_vault_secret_add(f->v, "root", "acme", "db",
	    (const uint8_t *)VALUE, strlen(VALUE)), BG_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;
	char cmd[160];
	int i;

	bg_vault_close(&f->v);
	for (i = 0; i < NPEOPLE; i++) {
		bg_token_close(&f->tok[i]);
		bg_soft_inproc_free(&f->ip[i]);
	}
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t
sql_int(fx_t *f, const char *q)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t x = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		x = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return x;
}

static void
sql_exec(fx_t *f, const char *q)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
rk_approve(fx_t *f, int64_t id, int who, int want)
{
	uint8_t h[BG_VAULT_HASH_LEN];
	int r;

	assert_int_equal(bg_vault_rekey_statement(f->v, id, NULL, h), BG_OK);
	r = bg_vault_rekey_approve(f->v, id, names[who], h, f->tok[who], PIN);
	if (r != want)
		fail_msg("rekey approve %s: %d %s", names[who], r,
		    bg_vault_errmsg(f->v));
}

/* Request db as carol, approvals by a and b, release: the value. */
static void
release_with(fx_t *f, int a, int b, int want)
{
	uint8_t h[BG_VAULT_HASH_LEN], *val = NULL;
	size_t len = 0;
	int64_t id = 0;
	int r;

	assert_int_equal(bg_vault_request(f->v, "acme", "db", "carol",
	    "disk full", "INC-1", 600, f->tok[CAROL], PIN, &id), BG_OK);
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	r = bg_vault_approve(f->v, id, names[a], h, f->tok[a], PIN);
	if (r != BG_OK) {
		assert_int_equal(r, want);
		return;
	}
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	r = bg_vault_approve(f->v, id, names[b], h, f->tok[b], PIN);
	if (r != BG_OK) {
		assert_int_equal(r, want);
		return;
	}
	r = bg_vault_release(f->v, id, "carol", f->tok[CAROL], PIN, &val,
	    &len);
	assert_int_equal(r, want);
	if (r == BG_OK) {
		assert_int_equal(len, strlen(VALUE));
		assert_memory_equal(val, VALUE, len);
		sodium_free(val);
	}
}

static void
test_rekey_add_approver(void **state)
{
	fx_t *f = *state;
	bg_vault_rekey_info_t *ri = NULL;
	char *pol = NULL;
	int64_t id = 0, open_id = 0;

	assert_int_equal(bg_vault_rekey_preview(f->v, "acme",
	    "all-of(1-of(alice,bob,dan),1-of(mia))", &ri), BG_OK);
	assert_string_equal(ri->added, "dan");
	assert_string_equal(ri->removed, "");
	assert_int_equal(ri->people_before, 2);
	assert_int_equal(ri->people_after, 2);
	assert_false(ri->lowers);
	assert_int_equal(ri->n_versions, 1);
	bg_vault_rekey_free(&ri);
	assert_null(ri);

	assert_int_equal(bg_vault_rekey_propose(f->v, "acme",
	    "all-of(1-of(alice,bob,dan),1-of(mia))", false, "carol",
	    f->tok[CAROL], PIN, &id), BG_OK);
	assert_true(id > 0);
	assert_int_equal(bg_vault_rekey_open_id(f->v, "acme", &open_id), BG_OK);
	assert_int_equal(open_id, id);
	/* a second proposal while one is open */
	assert_int_equal(bg_vault_rekey_propose(f->v, "acme", "2-of(alice,mia)",
	    true, "carol", f->tok[CAROL], PIN, NULL), BG_ERR_STATE);
	/* dan is not named by the current policy; the proposer never counts */
	rk_approve(f, id, DAN, BG_ERR_DENIED);
	rk_approve(f, id, ALICE, BG_OK);
	rk_approve(f, id, ALICE, BG_ERR_EXISTS);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_ERR_DENIED);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "mia"));
	/* until commit the old policy stays */
	assert_int_equal(bg_vault_policy_get(f->v, "acme", &pol, NULL), BG_OK);
	assert_string_equal(pol, "2-of(1-of(alice,bob),1-of(mia))");
	free(pol);
	rk_approve(f, id, MIA, BG_OK);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "alice",
	    f->tok[ALICE], PIN), BG_ERR_DENIED);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_OK);
	assert_int_equal(bg_vault_policy_get(f->v, "acme", &pol, NULL), BG_OK);
	assert_string_equal(pol, "2-of(1-of(alice,bob,dan),1-of(mia))");
	free(pol);
	assert_int_equal(bg_vault_rekey_show(f->v, id, &ri), BG_OK);
	assert_int_equal(ri->state, BG_VAULT_REKEY_COMMITTED);
	bg_vault_rekey_free(&ri);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM rekey_shares"), 0);
	/* the new approver's share opens */
	release_with(f, DAN, MIA, BG_OK);
}

static void
test_rekey_remove_and_lower(void **state)
{
	fx_t *f = *state;
	bg_vault_rekey_info_t *ri = NULL;
	int64_t id = 0;

	/* 2 -> 2 people, bob removed */
	assert_int_equal(bg_vault_rekey_propose(f->v, "acme", "2-of(alice,mia)",
	    false, "carol", f->tok[CAROL], PIN, &id), BG_OK);
	rk_approve(f, id, BOB, BG_OK);
	rk_approve(f, id, MIA, BG_OK);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_OK);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM shares s JOIN "
	    "tokens k ON k.id = s.token_id JOIN memberships m ON "
	    "m.id = k.membership_id WHERE m.person = 'bob'"), 0);
	release_with(f, BOB, MIA, BG_ERR_DENIED);	/* bob: not named */

	/* raise to 3 people, then lowering needs confirm_lower */
	assert_int_equal(bg_vault_rekey_propose(f->v, "acme",
	    "3-of(alice,dan,mia)", false, "carol", f->tok[CAROL], PIN, &id),
	    BG_OK);
	rk_approve(f, id, ALICE, BG_OK);
	rk_approve(f, id, MIA, BG_OK);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_OK);
	assert_int_equal(bg_vault_rekey_preview(f->v, "acme",
	    "2-of(alice,dan,mia)", &ri), BG_OK);
	assert_true(ri->lowers);
	assert_int_equal(ri->people_before, 3);
	assert_int_equal(ri->people_after, 2);
	bg_vault_rekey_free(&ri);
	assert_int_equal(bg_vault_rekey_propose(f->v, "acme",
	    "2-of(alice,dan,mia)", false, "carol", f->tok[CAROL], PIN, &id),
	    BG_ERR_DENIED);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "--confirm-lower"));
	assert_int_equal(bg_vault_rekey_propose(f->v, "acme",
	    "2-of(alice,dan,mia)", true, "carol", f->tok[CAROL], PIN, &id),
	    BG_OK);
	rk_approve(f, id, ALICE, BG_OK);
	rk_approve(f, id, DAN, BG_OK);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_ERR_DENIED);	/* 3-of: mia too */
	rk_approve(f, id, MIA, BG_OK);
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_OK);
	release_with(f, ALICE, DAN, BG_OK);
}

static void
test_rekey_abort_and_tamper(void **state)
{
	fx_t *f = *state;
	char *pol = NULL;
	int64_t id = 0;

	assert_int_equal(bg_vault_rekey_propose(f->v, "acme", "2-of(alice,mia)",
	    false, "carol", f->tok[CAROL], PIN, &id), BG_OK);
	rk_approve(f, id, ALICE, BG_OK);
	rk_approve(f, id, MIA, BG_OK);
	/* an interim share altered in the database: the commit refuses and
	 * changes nothing */
	sql_exec(f, "UPDATE rekey_shares SET blob = zeroblob(length(blob)) "
	    "WHERE id = (SELECT min(id) FROM rekey_shares)");
	assert_int_equal(bg_vault_rekey_commit(f->v, id, "carol",
	    f->tok[CAROL], PIN), BG_ERR_AUTH);
	assert_int_equal(bg_vault_policy_get(f->v, "acme", &pol, NULL), BG_OK);
	assert_string_equal(pol, "2-of(1-of(alice,bob),1-of(mia))");
	free(pol);
	assert_int_equal(bg_vault_rekey_abort(f->v, "root", id), BG_OK);
	assert_int_equal(bg_vault_rekey_abort(f->v, "root", id), BG_ERR_STATE);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM rekey_shares"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM rekeys WHERE "
	    "rk_sk_sealed IS NOT NULL"), 0);
	rk_approve(f, id, BOB, BG_ERR_STATE);
	/* everything as it was: the old approvers still open it */
	release_with(f, BOB, MIA, BG_OK);
	/* a spent version is not re-split and stays spent */
	assert_int_equal(bg_vault_rekey_propose(f->v, "acme", "2-of(alice,mia)",
	    false, "carol", f->tok[CAROL], PIN, &id), BG_ERR_STATE);
	assert_int_equal(bg_vault_policy_set(f->v, "root", "acme",
	    "2-of(alice,mia)"), BG_OK);
	assert_int_equal(sql_int(f, "SELECT state FROM versions"), 2);
}

static void
test_recertify(void **state)
{
	fx_t *f = *state;
	bg_vault_recert_proof_t *p = NULL;
	bg_vault_member_info_t *m = NULL;
	size_t n = 0;
	int64_t until = in_days(500);

	assert_int_equal(bg_vault_recertify_prove(f->v, "acme", "bob", until,
	    "bob", f->tok[BOB], PIN, &p), BG_ERR_DENIED);
	assert_null(p);
	/* the wrong token cannot prove bob's possession */
	assert_int_equal(bg_vault_recertify_prove(f->v, "acme", "bob", until,
	    "alice", f->tok[MIA], PIN, &p), BG_ERR_TOKEN_NO_CREDENTIAL);
	assert_int_equal(bg_vault_recertify_prove(f->v, "acme", "bob", until,
	    "alice", f->tok[BOB], "wrong-pin", &p), BG_ERR_TOKEN_PIN_INVALID);
	assert_int_equal(bg_vault_recertify_prove(f->v, "acme", "bob", until,
	    "alice", f->tok[BOB], PIN, &p), BG_OK);
	assert_non_null(strstr(bg_vault_recert_statement(p),
	    "breakglass recertify statement v1\n"));
	/* the named approver must sign off, with her own token */
	assert_int_equal(bg_vault_recertify(f->v, p, f->tok[MIA], PIN),
	    BG_ERR_TOKEN_NO_CREDENTIAL);
	assert_int_equal(bg_vault_recertify(f->v, p, f->tok[ALICE], PIN),
	    BG_OK);
	bg_vault_recert_proof_free(&p);
	assert_null(p);
	assert_int_equal(bg_vault_member_list(f->v, "acme", "bob", false, &m,
	    &n), BG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].expires_at, until);
	bg_vault_member_free(&m);
	/* a requester cannot sign off */
	assert_int_equal(bg_vault_recertify_prove(f->v, "acme", "bob", until,
	    "carol", f->tok[BOB], PIN, &p), BG_OK);
	assert_int_equal(bg_vault_recertify(f->v, p, f->tok[CAROL], PIN),
	    BG_ERR_DENIED);
	bg_vault_recert_proof_free(&p);
}

static bool
has_quorum_item(fx_t *f, const char *needle)
{
	bg_vault_status_item_t *it = NULL;
	size_t i, n = 0;
	bool found = false;

	assert_int_equal(bg_vault_status(f->v, "acme", &it, &n, NULL), BG_OK);
	for (i = 0; i < n; i++)
		if (it[i].kind == BG_VAULT_STATUS_QUORUM_AT_RISK &&
		    strstr(it[i].text, needle) != NULL)
			found = true;
	bg_vault_status_free(&it);
	return found;
}

static void
test_quorum_at_risk(void **state)
{
	fx_t *f = *state;

	assert_string_equal(bg_vault_status_kind_name(
	    BG_VAULT_STATUS_QUORUM_AT_RISK), "quorum-at-risk");
	/* 1-of(mia): mia alone stands between the tenant and no quorum */
	assert_true(has_quorum_item(f, "losing any one of mia would"));
	/* mia expiring within 30 days no longer counts: quorum lost */
	sql_exec(f, "UPDATE memberships SET expires_at = strftime('%s','now') "
	    "+ 10 * 86400 WHERE person = 'mia'");
	assert_true(has_quorum_item(f, "quorum lost for acme"));
	sql_exec(f, "UPDATE memberships SET expires_at = strftime('%s','now') "
	    "+ 100 * 86400 WHERE person = 'mia'");
	assert_false(has_quorum_item(f, "quorum lost"));
}

static void
test_offboard(void **state)
{
	fx_t *f = *state;
	char *cert = NULL, *bad = NULL, *p;
	bg_vault_secret_info_t *l = NULL;
	size_t n = 0;

	assert_int_equal(bg_vault_tenant_offboard(f->v, "root", "acme", "acm",
	    &cert), BG_ERR_INVALID_ARG);
	assert_null(cert);
	assert_int_equal(bg_vault_tenant_offboard(f->v, "root", "acme", "acme",
	    &cert), BG_OK);
	assert_non_null(cert);
	assert_non_null(strstr(cert, "breakglass destruction certificate v1\n"
	    "vault: "));
	assert_non_null(strstr(cert, "secret: db version 1 sealed "
	    "value-sha256 "));
	assert_non_null(strstr(cert, "token credentials destroyed: 5\n"));
	assert_int_equal(bg_vault_certificate_verify(f->v, cert,
	    strlen(cert)), BG_OK);
	assert_non_null(bad = strdup(cert));
	assert_non_null(p = strstr(bad, "tenant: acme"));
	p[8] = 'x';
	assert_int_equal(bg_vault_certificate_verify(f->v, bad, strlen(bad)),
	    BG_ERR_AUTH);
	assert_int_equal(bg_vault_certificate_verify(f->v, "hello\n", 6),
	    BG_ERR_PARSE);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM versions"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM shares"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM tokens"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE "
	    "action = 'secret.add'"), 1);
	assert_int_equal(bg_vault_secret_list(f->v, "acme", &l, &n),
	    BG_ERR_STATE);
	assert_int_equal(bg_vault_tenant_offboard(f->v, "root", "acme", "acme",
	    &p), BG_ERR_STATE);
	free(bad);
	free(cert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rekey_add_approver,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_remove_and_lower,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_abort_and_tamper,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recertify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quorum_at_risk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_offboard, setup,
		    teardown),
	};

	if (sodium_init() < 0 || bg_token_init() != BG_OK)
		return 1;
	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
