/*
 * Lifecycle flows in-process with in-process software tokens: changes of
 * the keyset chain (a policy change signed by the policy in force, an
 * approver removed with the quorum counted without them, versions that
 * stay under the link that sealed them), recertification as a link the
 * client co-signs (never the grantee), quorum at risk in status,
 * offboarding with its signed certificate.
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
#include "helpers/fixture.h"

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

/* who signs acme's draft; returns whether the draft took effect. */
static bool
sign(fx_t *f, int who, int want)
{
	bool done = false;
	int r = bg_vault_chain_sign(f->v, "acme", names[who], NULL,
	    f->tok[who], PIN, &done);

	if (r != want)
		fail_msg("%s signs: %d %s", names[who], r,
		    bg_vault_errmsg(f->v));
	return done;
}

static void
enroll(fx_t *f, int who, int role)
{
	int side = role != BG_VAULT_ROLE_APPROVER ? BG_VAULT_SIDE_NONE :
	    who == MIA ? BG_VAULT_SIDE_MSP : BG_VAULT_SIDE_CLIENT;
	int r = bg_vault_member_add(f->v, "acme", names[who], role,
	    side, in_days(365), NULL, f->tok[who], PIN);

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
	assert_int_equal(bgt_genesis(f->v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "acme", NULL),
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
	if (bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,bob),1-of(mia))", NULL, 0) != BG_OK)
		fail_msg("policy: %s", bg_vault_errmsg(f->v));
	assert_int_equal(bgt_operator_enroll(f->v, "acme"), BG_OK);
	assert_int_equal(bgt_sign_custodians(f->v, "acme"), BG_OK);
	for (i = ALICE; i <= DAN; i++)
		if (i != MIA)
			sign(f, i, BG_OK);
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "db",
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

static int
sql_exec_n(fx_t *f, const char *q)
{
	sqlite3 *db = NULL;
	int n;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	n = sqlite3_changes(db);
	sqlite3_close(db);
	return n;
}

static void
sql_exec(fx_t *f, const char *q)
{
	(void)sql_exec_n(f, q);
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

/* A secret sealed under the current link, opened by a and b. */
static void
seal_and_open(fx_t *f, const char *name, int a, int b, int want_b)
{
	uint8_t h[BG_VAULT_HASH_LEN], *val = NULL;
	size_t len = 0;
	int64_t id = 0;

	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", name,
	    (const uint8_t *)VALUE, strlen(VALUE)), BG_OK);
	assert_int_equal(bg_vault_request(f->v, "acme", name, "carol",
	    "disk full", "INC-2", 600, f->tok[CAROL], PIN, &id), BG_OK);
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_approve(f->v, id, names[a], h, f->tok[a],
	    PIN), BG_OK);
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_approve(f->v, id, names[b], h, f->tok[b],
	    PIN), want_b);
	if (want_b != BG_OK)
		return;
	assert_int_equal(bg_vault_release(f->v, id, "carol", f->tok[CAROL],
	    PIN, &val, &len), BG_OK);
	assert_int_equal(len, strlen(VALUE));
	sodium_free(val);
}

/* A policy change is a link the policy in force signs; versions sealed
 * before stay under the link that sealed them. */
static void
test_policy_link(void **state)
{
	fx_t *f = *state;

	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,bob,dan),1-of(mia))", NULL, 0), BG_OK);
	/* dan is no approver of the policy in force: his touch counts for
	 * nothing; alice (client co-signer) alone is not the policy. */
	assert_false(sign(f, DAN, BG_OK));
	assert_false(sign(f, ALICE, BG_OK));
	/* Nothing took effect: a new secret still seals under link 1. */
	assert_int_equal(sql_int(f, "SELECT max(seq) FROM links WHERE "
	    "tenant = 'acme'"), 1);
	assert_true(sign(f, MIA, BG_OK));
	assert_int_equal(sql_int(f, "SELECT max(seq) FROM links WHERE "
	    "tenant = 'acme'"), 2);
	/* db was sealed under link 1: dan is not named by its policy. */
	release_with(f, DAN, MIA, BG_ERR_DENIED);
	/* ... alice and mia still open it. */
	assert_int_equal(sql_exec_n(f, "UPDATE requests SET state = 5 WHERE "
	    "state = 1"), 1);
	release_with(f, ALICE, MIA, BG_OK);
	/* A secret sealed now follows link 2: dan and mia open it. */
	seal_and_open(f, "db2", DAN, MIA, BG_OK);
	assert_int_equal(sql_int(f, "SELECT chain_seq FROM versions v JOIN "
	    "secrets s ON s.id = v.secret_id WHERE s.name = 'db2'"), 2);
}

/* Removing an approver: the quorum is counted without them, and from
 * then on they approve nothing, even versions sealed to them before. */
static void
test_remove_approver(void **state)
{
	fx_t *f = *state;

	assert_int_equal(bg_vault_member_remove(f->v, bgt_by_custodian(), "acme", "bob",
	    0), BG_ERR_STATE);		/* the draft's policy names bob */
	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,dan),1-of(mia))", NULL, 0), BG_OK);
	assert_int_equal(bg_vault_member_remove(f->v, bgt_by_custodian(), "acme", "bob",
	    0), BG_OK);
	/* bob's own signature does not count for his removal. */
	assert_false(sign(f, BOB, BG_OK));
	assert_false(sign(f, MIA, BG_OK));
	assert_true(sign(f, ALICE, BG_OK));
	release_with(f, BOB, MIA, BG_ERR_DENIED);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "not an approver"));
}

static bool
contribute(fx_t *f, int64_t id, int who, int want)
{
	uint8_t h[BG_VAULT_HASH_LEN];
	bool done = false;
	int r;

	assert_int_equal(bg_vault_rekey_statement(f->v, id, NULL, h), BG_OK);
	r = bg_vault_rekey_contribute(f->v, id, names[who], h, f->tok[who],
	    PIN, &done);
	if (r != want)
		fail_msg("%s contributes: %d %s", names[who], r,
		    bg_vault_errmsg(f->v));
	return done;
}

/*
 * Re-key by redistribution: db moves from link 1 to link 2 without
 * anyone rebuilding its key; the new approver dan opens it, twice in a
 * row, and the old shares are gone.
 */
static void
test_rekey_redistribute(void **state)
{
	fx_t *f = *state;
	char *text = NULL;
	int64_t id = 0, id2 = 0;

	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "web",
	    (const uint8_t *)VALUE, strlen(VALUE)), BG_OK);
	assert_int_equal(bg_vault_rekey_propose(f->v, bgt_by_custodian(), "acme", &id),
	    BG_ERR_STATE);	/* nothing to move yet */
	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,bob,dan),1-of(mia))", NULL, 0), BG_OK);
	assert_false(sign(f, ALICE, BG_OK));
	assert_true(sign(f, MIA, BG_OK));
	assert_int_equal(bg_vault_rekey_propose(f->v, bgt_by_custodian(), "acme", &id),
	    BG_OK);
	assert_int_equal(bg_vault_rekey_statement(f->v, id, &text, NULL),
	    BG_OK);
	assert_non_null(strstr(text, "version: db v1 from link 1"));
	assert_non_null(strstr(text, "version: web v1 from link 1"));
	assert_non_null(strstr(text, "contributors: alice x"));
	assert_non_null(strstr(text, " mia x"));
	free(text);
	/* nothing is sealed or requested meanwhile */
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "x",
	    (const uint8_t *)"x", 1), BG_ERR_STATE);
	/* bob is not a contributor; one contribution each */
	assert_false(contribute(f, id, BOB, BG_ERR_DENIED));
	assert_false(contribute(f, id, ALICE, BG_OK));
	assert_false(contribute(f, id, ALICE, BG_ERR_EXISTS));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM shares"), 6);
	assert_true(contribute(f, id, MIA, BG_OK));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM shares"), 0);
	assert_int_equal(sql_int(f, "SELECT min(chain_seq) FROM versions"), 2);
	/* dan, the new approver, opens db; nobody rebuilt a key meanwhile */
	release_with(f, DAN, MIA, BG_OK);
	/* a second re-key in a row: web's shares are sums of sub-shares */
	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(bob,dan),1-of(mia))", NULL, 0), BG_OK);
	assert_false(sign(f, DAN, BG_OK));
	assert_true(sign(f, MIA, BG_OK));
	assert_int_equal(bg_vault_rekey_propose(f->v, bgt_by_custodian(), "acme", &id2),
	    BG_OK);
	assert_false(contribute(f, id2, ALICE, BG_OK));
	assert_true(contribute(f, id2, MIA, BG_OK));
	{
		uint8_t h[BG_VAULT_HASH_LEN], *val = NULL;
		size_t len = 0;
		int64_t rq = 0;

		assert_int_equal(bg_vault_request(f->v, "acme", "web", "carol",
		    "disk full", "INC-3", 600, f->tok[CAROL], PIN, &rq), BG_OK);
		assert_int_equal(bg_vault_statement(f->v, rq, NULL, h), BG_OK);
		/* alice is no longer named by web's policy */
		assert_int_equal(bg_vault_approve(f->v, rq, "alice", h,
		    f->tok[ALICE], PIN), BG_ERR_DENIED);
		assert_int_equal(bg_vault_statement(f->v, rq, NULL, h), BG_OK);
		assert_int_equal(bg_vault_approve(f->v, rq, "bob", h,
		    f->tok[BOB], PIN), BG_OK);
		assert_int_equal(bg_vault_statement(f->v, rq, NULL, h), BG_OK);
		assert_int_equal(bg_vault_approve(f->v, rq, "mia", h,
		    f->tok[MIA], PIN), BG_OK);
		assert_int_equal(bg_vault_release(f->v, rq, "carol",
		    f->tok[CAROL], PIN, &val, &len), BG_OK);
		assert_int_equal(len, strlen(VALUE));
		assert_memory_equal(val, VALUE, len);
		sodium_free(val);
	}
}

/* An amendment drops the signatures gathered on the draft. */
static void
test_amend_drops_signatures(void **state)
{
	fx_t *f = *state;
	bg_vault_chain_view_t *w = NULL;

	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,bob,dan),1-of(mia))", NULL, 0), BG_OK);
	assert_false(sign(f, ALICE, BG_OK));
	assert_int_equal(bg_vault_chain_show(f->v, "acme", &w), BG_OK);
	assert_string_equal(w->signed_by, "alice");
	bg_vault_chain_view_free(&w);
	assert_int_equal(bg_vault_tenant_set(f->v, bgt_by_custodian(), "acme",
	    &(bg_vault_tenant_opts_t){ .max_ttl = 1800 }), BG_OK);
	assert_int_equal(bg_vault_chain_show(f->v, "acme", &w), BG_OK);
	assert_string_equal(w->signed_by, "");
	assert_false(w->ready);
	bg_vault_chain_view_free(&w);
	/* A signature over what was shown before the amendment is refused. */
	{
		uint8_t stale[32];

		memset(stale, 0xab, sizeof(stale));
		assert_int_equal(bg_vault_chain_sign(f->v, "acme", "mia",
		    stale, f->tok[MIA], PIN, NULL), BG_ERR_STATE);
	}
	assert_int_equal(bg_vault_chain_discard(f->v, bgt_by_custodian(), "acme"), BG_OK);
	assert_int_equal(bg_vault_chain_discard(f->v, bgt_by_custodian(), "acme"),
	    BG_ERR_NOT_FOUND);
}

static void
test_recertify(void **state)
{
	fx_t *f = *state;
	bg_vault_member_info_t *m = NULL;
	size_t n = 0;
	int64_t until = in_days(500);

	/* shortening is refused unless asked for */
	assert_int_equal(bg_vault_member_recertify(f->v, bgt_by_custodian(), "acme", "bob",
	    0, in_days(30), false), BG_ERR_RANGE);
	assert_int_equal(bg_vault_member_recertify(f->v, bgt_by_custodian(), "acme",
	    "nobody", 0, until, false), BG_ERR_NOT_FOUND);
	assert_int_equal(bg_vault_member_recertify(f->v, bgt_by_custodian(), "acme", "carol",
	    0, until, false), BG_OK);
	/* the grantee never counts for her own grant */
	assert_false(sign(f, CAROL, BG_OK));
	assert_int_equal(bg_vault_member_list(f->v, "acme", "carol", false, &m,
	    &n), BG_OK);
	assert_int_equal(n, 1);
	assert_true(m[0].expires_at < until);
	bg_vault_member_free(&m);
	/* one client approver co-signs: it takes effect */
	assert_true(sign(f, BOB, BG_OK));
	assert_int_equal(bg_vault_member_list(f->v, "acme", "carol", false, &m,
	    &n), BG_OK);
	assert_int_equal(m[0].expires_at, until);
	bg_vault_member_free(&m);
}

static bool
has_item(fx_t *f, int kind, const char *needle)
{
	bg_vault_status_item_t *it = NULL;
	size_t i, n = 0;
	bool found = false;

	assert_int_equal(bg_vault_status(f->v, "acme", &it, &n, NULL), BG_OK);
	for (i = 0; i < n; i++)
		if (it[i].kind == kind && strstr(it[i].text, needle) != NULL)
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
	assert_string_equal(bg_vault_status_kind_name(
	    BG_VAULT_STATUS_QUORUM_BY_DESIGN), "quorum-by-design");
	/* 1-of(mia): the policy gives mia no alternate, by design: a note */
	assert_true(has_item(f, BG_VAULT_STATUS_QUORUM_BY_DESIGN,
	    "gives no alternate for mia"));
	assert_false(has_item(f, BG_VAULT_STATUS_QUORUM_AT_RISK, ""));
	/* bob expiring within 30 days: alice has lost her alternate */
	sql_exec(f, "UPDATE memberships SET expires_at = strftime('%s','now') "
	    "+ 10 * 86400 WHERE person = 'bob'");
	assert_true(has_item(f, BG_VAULT_STATUS_QUORUM_AT_RISK,
	    "losing any one of alice would"));
	assert_false(has_item(f, BG_VAULT_STATUS_QUORUM_AT_RISK,
	    "losing any one of alice, mia"));
	sql_exec(f, "UPDATE memberships SET expires_at = strftime('%s','now') "
	    "+ 100 * 86400 WHERE person = 'bob'");
	/* mia expiring within 30 days no longer counts: quorum lost */
	sql_exec(f, "UPDATE memberships SET expires_at = strftime('%s','now') "
	    "+ 10 * 86400 WHERE person = 'mia'");
	assert_true(has_item(f, BG_VAULT_STATUS_QUORUM_AT_RISK,
	    "quorum lost for acme"));
	sql_exec(f, "UPDATE memberships SET expires_at = strftime('%s','now') "
	    "+ 100 * 86400 WHERE person = 'mia'");
	assert_false(has_item(f, BG_VAULT_STATUS_QUORUM_AT_RISK, ""));
}

static void
test_offboard(void **state)
{
	fx_t *f = *state;
	char *cert = NULL, *bad = NULL, *p;
	bg_vault_secret_info_t *l = NULL;
	size_t n = 0;

	assert_int_equal(bg_vault_tenant_offboard(f->v, bgt_operator(), "acme", "acm",
	    &cert), BG_ERR_INVALID_ARG);
	assert_null(cert);
	assert_int_equal(bg_vault_tenant_offboard(f->v, bgt_operator(), "acme", "acme",
	    &cert), BG_OK);
	assert_non_null(cert);
	assert_non_null(strstr(cert, "breakglass destruction certificate v1\n"
	    "vault: "));
	assert_non_null(strstr(cert, "secret: db version 1 sealed "
	    "value-sha256 "));
	assert_non_null(strstr(cert, "token credentials destroyed: 6\n"));
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
	assert_int_equal(bg_vault_tenant_offboard(f->v, bgt_operator(), "acme", "acme",
	    &p), BG_ERR_STATE);
	free(bad);
	free(cert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_approver, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_amend_drops_signatures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_redistribute,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recertify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quorum_at_risk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_offboard, setup,
		    teardown),
	};

	int rc;

	if (sodium_init() < 0 || bg_token_init() != BG_OK)
		return 1;
	rc = cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
	bgt_fixture_done();
	return rc;
}
