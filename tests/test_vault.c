/*
 * Whole vault flows in-process, with in-process software tokens (no
 * sockets): request -> approve -> release -> rotate, every refusal the
 * issue names, and database edits (made with raw SQL, as an attacker with
 * write access would) that must never open a secret.
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

enum { CAROL, ALICE, BOB, MIA, ZED };
static const char *const names[NPEOPLE] = {
	"carol", "alice", "bob", "mia", "zed"
};

typedef struct fx {
	char		 dir[64];
	char		 path[96];
	bg_vault_t	*v;
	bg_soft_inproc_t *ip[NPEOPLE];
	bg_token_t	*tok[NPEOPLE];
} fx_t;

static void
open_token(fx_t *f, int who)
{
	assert_int_equal(bg_soft_inproc_new(NULL, NULL, 0, &f->ip[who]), BG_OK);
	assert_int_equal(bg_token_open_io(bg_soft_inproc_path(f->ip[who]),
	    bg_soft_inproc_io(), &f->tok[who]), BG_OK);
	assert_int_equal(bg_token_pin_set(f->tok[who], PIN), BG_OK);
}

static int64_t
in_days(int d)
{
	return (int64_t)time(NULL) + (int64_t)d * 86400;
}

static int
side_of(int who, int role)
{
	if (role != BG_VAULT_ROLE_APPROVER)
		return BG_VAULT_SIDE_NONE;
	return who == MIA ? BG_VAULT_SIDE_MSP : BG_VAULT_SIDE_CLIENT;
}

static void
enroll(fx_t *f, int who, int role)
{
	int r = bg_vault_member_add(f->v, "acme", names[who], role,
	    side_of(who, role), in_days(365), NULL, f->tok[who], PIN);

	if (r != BG_OK)
		fail_msg("enroll %s: %s", names[who], bg_vault_errmsg(f->v));
}

/* Fresh vault: carol requests; alice, bob, mia approve; zed is a second
 * requester; policy all-of(1-of(alice,bob),1-of(mia)); secrets db, web. */
static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/bgvault.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	assert_int_equal(bg_vault_create(f->path, true, "root", &f->v), BG_OK);
	assert_int_equal(bgt_genesis(f->v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "acme", NULL),
	    BG_OK);
	for (i = 0; i < NPEOPLE; i++)
		open_token(f, i);
	enroll(f, CAROL, BG_VAULT_ROLE_REQUESTER);
	enroll(f, ZED, BG_VAULT_ROLE_REQUESTER);
	enroll(f, ALICE, BG_VAULT_ROLE_APPROVER);
	enroll(f, BOB, BG_VAULT_ROLE_APPROVER);
	enroll(f, MIA, BG_VAULT_ROLE_APPROVER);
	if (bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,bob),1-of(mia))", NULL, 0) != BG_OK)
		fail_msg("policy: %s", bg_vault_errmsg(f->v));
	/* The first link: a custodian quorum and every client approver. */
	assert_int_equal(bgt_operator_enroll(f->v, "acme"), BG_OK);
	assert_int_equal(bgt_sign_custodians(f->v, "acme"), BG_OK);
	assert_int_equal(bg_vault_chain_sign(f->v, "acme", "alice", NULL,
	    f->tok[ALICE], PIN, NULL), BG_OK);
	assert_int_equal(bg_vault_chain_sign(f->v, "acme", "bob", NULL,
	    f->tok[BOB], PIN, NULL), BG_OK);
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "db",
	    (const uint8_t *)VALUE, strlen(VALUE)), BG_OK);
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "web",
	    (const uint8_t *)"web-" VALUE, strlen(VALUE) + 4), BG_OK);
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
do_request(fx_t *f, int who, const char *secret)
{
	int64_t id = 0;
	int r = bg_vault_request(f->v, "acme", secret, names[who],
	    "disk full on db01", "INC-4711", 900, f->tok[who], PIN, &id);

	if (r != BG_OK)
		fail_msg("request: %s", bg_vault_errmsg(f->v));
	assert_true(id > 0);
	return id;
}

static int
do_approve(fx_t *f, int64_t id, int who)
{
	uint8_t h[BG_VAULT_HASH_LEN];

	int r;

	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	r = bg_vault_approve(f->v, id, names[who], h, f->tok[who], PIN);
	if (r != BG_OK)
		print_message("approve %s: %s\n", names[who],
		    bg_vault_errmsg(f->v));
	return r;
}

static int
do_release(fx_t *f, int64_t id, int who, char *out, size_t cap)
{
	uint8_t *val = NULL;
	size_t len = 0;
	int r = bg_vault_release(f->v, id, names[who], f->tok[who], PIN, &val,
	    &len);

	if (r == BG_OK) {
		assert_non_null(val);
		assert_true(len < cap);
		memcpy(out, val, len);
		out[len] = '\0';
		sodium_free(val);
	} else
		assert_null(val);
	return r;
}

static void
sql(fx_t *f, const char *q)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sql %s: %s", q, err);
	assert_int_equal(sqlite3_changes(db) > 0, 1);
	sqlite3_close(db);
}

static int64_t
count_events(fx_t *f, const char *action)
{
	bg_vault_audit_filter_t flt = { .action = action };
	bg_vault_event_t *l = NULL;
	size_t n = 0;

	assert_int_equal(bg_vault_audit_list(f->v, &flt, &l, &n), BG_OK);
	bg_vault_audit_free(&l, n);
	return (int64_t)n;
}

/* The newest event with that action contains needle in its entry. */
static bool
last_event_has(fx_t *f, const char *action, const char *needle)
{
	bg_vault_audit_filter_t flt = { .action = action };
	bg_vault_event_t *l = NULL;
	size_t n = 0;
	bool found;

	assert_int_equal(bg_vault_audit_list(f->v, &flt, &l, &n), BG_OK);
	found = n > 0 && strstr(l[n - 1].entry, needle) != NULL;
	if (!found && n > 0)
		print_message("last %s event: %s\n", action, l[n - 1].entry);
	bg_vault_audit_free(&l, n);
	return found;
}

/* --- tests ------------------------------------------------------------------ */

static void
test_full_flow(void **state)
{
	fx_t *f = *state;
	bg_vault_request_info_t *ri = NULL;
	bg_vault_secret_info_t *si = NULL;
	char out[128], *text = NULL;
	int64_t id, size = 0, bad = 0;

	id = do_request(f, CAROL, "db");
	assert_int_equal(bg_vault_statement(f->v, id, &text, NULL), BG_OK);
	assert_non_null(strstr(text, "requester: carol\n"));
	assert_non_null(strstr(text, "reason: disk full on db01\n"));
	assert_non_null(strstr(text, "ticket: INC-4711\n"));
	assert_non_null(strstr(text, "log-head: "));
	free(text);

	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	/* Early release: refused, saying exactly what is missing. */
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)),
	    BG_ERR_DENIED);
	assert_string_equal(bg_vault_errmsg(f->v), "needs 1 more from: mia");
	assert_int_equal(bg_vault_request_show(f->v, id, &ri), BG_OK);
	assert_false(ri->satisfied);
	assert_string_equal(ri->approved_by, "alice");
	assert_string_equal(ri->missing, "needs 1 more from: mia");
	bg_vault_request_free(&ri);

	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	/* Only the requester releases. */
	assert_int_equal(do_release(f, id, ZED, out, sizeof(out)),
	    BG_ERR_DENIED);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_string_equal(out, VALUE);

	/* Spent: never again, neither this request nor a new one. */
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)),
	    BG_ERR_STATE);
	assert_int_equal(bg_vault_request(f->v, "acme", "db", "carol", "again",
	    "INC-1", 60, f->tok[CAROL], PIN, &id), BG_ERR_STATE);
	assert_int_equal(bg_vault_secret_show(f->v, "acme", "db", &si), BG_OK);
	assert_int_equal(si->state, BG_VAULT_SECRET_RELEASED);
	assert_true(si->lease_until > si->released_at);
	bg_vault_secret_free(&si);

	assert_int_equal(count_events(f, "release"), 1);
	assert_true(count_events(f, "refused") >= 3);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad), BG_OK);
	assert_true(size > 10);
	assert_int_equal(bad, 0);
}

static void
test_refusals(void **state)
{
	fx_t *f = *state;
	uint8_t h[BG_VAULT_HASH_LEN];
	int64_t id, id2 = 0;

	id = do_request(f, CAROL, "db");
	/* One open request per version. */
	assert_int_equal(bg_vault_request(f->v, "acme", "db", "zed", "x",
	    "y", 60, f->tok[ZED], PIN, &id2), BG_ERR_STATE);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "already open"));
	/* TTL above the tenant maximum. */
	assert_int_equal(bg_vault_request(f->v, "acme", "web", "zed", "x",
	    "y", 7200, f->tok[ZED], PIN, &id2), BG_ERR_RANGE);
	/* An approver is not a requester. */
	assert_int_equal(bg_vault_request(f->v, "acme", "web", "alice", "x",
	    "y", 60, f->tok[ALICE], PIN, &id2), BG_ERR_DENIED);
	/* The requester cannot approve. */
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_approve(f->v, id, "carol", h, f->tok[CAROL],
	    PIN), BG_ERR_DENIED);
	assert_string_equal(bg_vault_errmsg(f->v),
	    "carol is the requester and cannot approve");
	/* Statement changed since shown (the refusal above moved the log). */
	assert_int_equal(bg_vault_approve(f->v, id, "alice", h, f->tok[ALICE],
	    PIN), BG_ERR_STATE);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "changed since"));
	/* Someone else's token. */
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_approve(f->v, id, "alice", h, f->tok[BOB],
	    PIN), BG_ERR_TOKEN_NO_CREDENTIAL);
	/* Wrong PIN. */
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_approve(f->v, id, "alice", h, f->tok[ALICE],
	    "0000-bad"), BG_ERR_TOKEN_PIN_INVALID);
	/* Same person twice. */
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, ALICE), BG_ERR_EXISTS);
	/* Deny closes the request. */
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_deny(f->v, id, "mia", h, f->tok[MIA], PIN,
	    "db01 is back; no access needed"), BG_OK);
	assert_int_equal(do_approve(f, id, BOB), BG_ERR_STATE);
	assert_int_equal(count_events(f, "deny"), 1);
	assert_true(last_event_has(f, "deny",
	    "\"reason\":\"db01 is back; no access needed\""));
	/* Every refusal above is in the log. */
	assert_true(count_events(f, "refused") >= 8);
}

/* A denial needs a reason: checked before the token is touched, and the
 * request stays open when it is refused. */
static void
test_deny_reason(void **state)
{
	fx_t *f = *state;
	bg_vault_request_info_t *ri = NULL;
	uint8_t h[BG_VAULT_HASH_LEN];
	char longest[BG_VAULT_REASON_MAX + 2];
	int64_t id, denies;

	id = do_request(f, CAROL, "db");
	denies = count_events(f, "deny");
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_deny(f->v, id, "mia", h, f->tok[MIA], PIN,
	    NULL), BG_ERR_INVALID_ARG);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "reason"));
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_deny(f->v, id, "mia", h, f->tok[MIA], PIN,
	    ""), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_deny(f->v, id, "mia", h, f->tok[MIA], PIN,
	    "two\nlines"), BG_ERR_INVALID_ARG);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "control"));
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';	/* one byte too long */
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_deny(f->v, id, "mia", h, f->tok[MIA], PIN,
	    longest), BG_ERR_RANGE);
	assert_int_equal(count_events(f, "deny"), denies);
	assert_true(last_event_has(f, "refused", "reason for denying"));
	/* still open: an approval goes through */
	assert_int_equal(bg_vault_request_show(f->v, id, &ri), BG_OK);
	assert_int_equal(ri->state, BG_VAULT_REQUEST_OPEN);
	bg_vault_request_free(&ri);
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	/* the longest reason allowed is kept whole */
	longest[BG_VAULT_REASON_MAX] = '\0';
	assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
	assert_int_equal(bg_vault_deny(f->v, id, "mia", h, f->tok[MIA], PIN,
	    longest), BG_OK);
	assert_int_equal(count_events(f, "deny"), denies + 1);
	assert_true(last_event_has(f, "deny", longest));
	assert_int_equal(bg_vault_request_show(f->v, id, &ri), BG_OK);
	assert_int_equal(ri->state, BG_VAULT_REQUEST_DENIED);
	assert_string_equal(ri->denied_by, "mia");
	bg_vault_request_free(&ri);
}

/* The tenant listing's counts equal the secrets and sealed versions. */
static void
tenant_counts_are(fx_t *f, size_t secrets, size_t sealed)
{
	bg_vault_tenant_info_t *ti = NULL;

	assert_int_equal(bg_vault_tenant_show(f->v, "acme", &ti), BG_OK);
	assert_int_equal(ti->n_secrets, secrets);
	assert_int_equal(ti->n_sealed, sealed);
	bg_vault_tenant_free(&ti);
}

static void
test_rotation(void **state)
{
	fx_t *f = *state;
	static const char nv[] = "new value after rotation";
	bg_vault_secret_info_t *si = NULL;
	char out[128];
	int64_t id;
	int ver = 0;

	id = do_request(f, CAROL, "db");
	assert_int_equal(do_approve(f, id, BOB), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_int_equal(bg_vault_rotate_begin(f->v, bgt_operator(), "acme", "db",
	    (const uint8_t *)nv, strlen(nv), &ver), BG_OK);
	assert_int_equal(ver, 2);
	assert_int_equal(bg_vault_rotate_begin(f->v, bgt_operator(), "acme", "db",
	    (const uint8_t *)nv, strlen(nv), &ver), BG_ERR_STATE);
	/* Still spent until commit. */
	assert_int_equal(bg_vault_request(f->v, "acme", "db", "carol", "x",
	    "y", 60, f->tok[CAROL], PIN, &id), BG_ERR_STATE);
	assert_int_equal(bg_vault_rotate_commit(f->v, bgt_operator(), "acme", "db"),
	    BG_OK);
	assert_int_equal(bg_vault_secret_show(f->v, "acme", "db", &si), BG_OK);
	assert_int_equal(si->version, 2);
	assert_int_equal(si->state, BG_VAULT_SECRET_SEALED);
	assert_int_equal(si->n_retired, 1);
	bg_vault_secret_free(&si);
	id = do_request(f, CAROL, "db");
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_string_equal(out, nv);
	/* Abort drops a pending version. */
	assert_int_equal(bg_vault_rotate_begin(f->v, bgt_operator(), "acme", "web",
	    (const uint8_t *)nv, strlen(nv), &ver), BG_OK);
	assert_int_equal(bg_vault_rotate_abort(f->v, bgt_operator(), "acme", "web"),
	    BG_OK);
	assert_int_equal(bg_vault_rotate_abort(f->v, bgt_operator(), "acme", "web"),
	    BG_ERR_STATE);
	/* the listing's counts (schema 10 triggers) follow every step:
	 * db spent again, web sealed */
	tenant_counts_are(f, 2, 1);
}

static void
test_status(void **state)
{
	fx_t *f = *state;
	bg_vault_status_item_t *items = NULL;
	bg_vault_check_t c;
	char out[128];
	size_t n = 0;
	int64_t id;

	assert_int_equal(bg_vault_check(f->v, NULL, &c), BG_OK);
	assert_false(c.attention);
	id = do_request(f, CAROL, "db");
	assert_int_equal(bg_vault_status(f->v, "acme", &items, &n, &c), BG_OK);
	assert_int_equal(c.n_open_requests, 1);
	assert_true(n >= 1);
	assert_int_equal(items[0].kind, BG_VAULT_STATUS_OPEN_REQUEST);
	assert_int_equal(items[0].request_id, id);
	bg_vault_status_free(&items);
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_int_equal(bg_vault_check(f->v, "acme", &c), BG_OK);
	assert_int_equal(c.n_active_leases, 1);
	assert_int_equal(c.n_open_requests, 0);
	/* End the lease in the database's own terms (as the clock would). */
	sql(f, "UPDATE versions SET lease_until = released_at - 1 "
	    "WHERE state = 2");
	assert_int_equal(bg_vault_check(f->v, "acme", &c), BG_OK);
	assert_int_equal(c.n_rotation_due, 1);
	assert_true(c.attention);
	sql(f, "UPDATE versions SET lease_until = released_at - 90000 "
	    "WHERE state = 2");
	assert_int_equal(bg_vault_check(f->v, "acme", &c), BG_OK);
	assert_int_equal(c.n_overdue, 1);
}

/* An approval row copied onto another request does not count there. */
static void
test_approval_replay(void **state)
{
	fx_t *f = *state;
	char out[128];
	int64_t id1, id2;

	id1 = do_request(f, CAROL, "db");
	assert_int_equal(do_approve(f, id1, ALICE), BG_OK);
	id2 = do_request(f, CAROL, "web");
	assert_int_equal(do_approve(f, id2, MIA), BG_OK);
	sql(f, "INSERT INTO approvals (request_id, person, token_id, leaf, "
	    "decision, created_at, statement, authdata, sig, resealed) "
	    "SELECT 2, person, token_id, leaf, decision, created_at, "
	    "statement, authdata, sig, resealed FROM approvals "
	    "WHERE request_id = 1 AND person = 'alice'");
	assert_int_equal(do_release(f, id2, CAROL, out, sizeof(out)),
	    BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "alice"));
	/* Request 1 is still fine. */
	assert_int_equal(do_approve(f, id1, MIA), BG_OK);
	assert_int_equal(do_release(f, id1, CAROL, out, sizeof(out)), BG_OK);
	assert_string_equal(out, VALUE);
}

/* Shares swapped between secrets fail to open. */
static void
test_swapped_shares(void **state)
{
	fx_t *f = *state;
	int64_t id = 0;

	sql(f, "UPDATE shares SET blob = (SELECT s2.blob FROM shares s2 "
	    "WHERE s2.version_id = 3 - shares.version_id AND "
	    "s2.leaf = shares.leaf AND s2.token_id = shares.token_id)");
	/* The operator's signed seal names the share ciphertexts: the
	 * swap is seen before anyone is asked to approve. */
	assert_int_equal(bg_vault_request(f->v, "acme", "db", names[CAROL],
	    "disk full on db01", "INC-4711", 900, f->tok[CAROL], PIN, &id),
	    BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "is not what olga "
	    "sealed"));
}

/* Lowering the threshold in the database opens nothing. */
static void
test_lowered_threshold(void **state)
{
	fx_t *f = *state;
	char out[128];
	int64_t id;

	sql(f, "UPDATE versions SET policy = '1-of(alice,bob,mia)'");
	id = do_request(f, CAROL, "db");
	assert_int_equal(do_approve(f, id, ALICE), BG_ERR_AUTH);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)),
	    BG_ERR_AUTH);
}

/*
 * Future seals take their keys from the signed chain, never from rows: a
 * member key swapped in the tokens table changes nothing, and an edited
 * link stops every seal.
 */
static void
test_keyset_tamper(void **state)
{
	fx_t *f = *state;
	char out[128];
	int64_t id;

	sql(f, "UPDATE tokens SET member_pk = (SELECT member_pk FROM tokens "
	    "WHERE id = 1) WHERE id = 3");
	sql(f, "UPDATE tenants SET policy = '2-of(alice,bob,mia)'");
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "new",
	    (const uint8_t *)"x1", 2), BG_OK);
	id = do_request(f, CAROL, "new");
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_string_equal(out, "x1");
	sql(f, "UPDATE links SET body = replace(body, '\"max_ttl\":3600', "
	    "'\"max_ttl\":7200') WHERE tenant = 'acme'");
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "new2",
	    (const uint8_t *)"x", 1), BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "does not verify"));
	assert_int_equal(bg_vault_rotate_begin(f->v, bgt_operator(), "acme", "db",
	    (const uint8_t *)"x", 1, NULL), BG_ERR_AUTH);
}

static void
test_policy_rules(void **state)
{
	fx_t *f = *state;

	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "beta", NULL),
	    BG_OK);
	/* A tenant holding secrets: the change is a draft link. */
	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "2-of(alice,bob,mia)", NULL, 0), BG_OK);
	/* carol requests; she is no approver. */
	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "2-of(alice,bob,mia,carol)", NULL, 0), BG_ERR_NOT_FOUND);
	/* Unknown approver (the person is in acme, not beta). */
	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "beta",
	    "2-of(alice,zed)", NULL, 0), BG_ERR_NOT_FOUND);
	assert_string_equal(bg_vault_errmsg(f->v), "policy position 6: "
	    "unknown approver 'alice' (not an approver of beta)");
	/* Remove an approver named by the draft's policy: refused. */
	assert_int_equal(bg_vault_member_remove(f->v, bgt_by_custodian(), "acme", "mia",
	    BG_VAULT_ROLE_APPROVER), BG_ERR_STATE);
	assert_int_equal(bg_vault_member_remove(f->v, bgt_by_custodian(), "acme", "zed",
	    0), BG_OK);
}

/*
 * Custodians change by vault links.  A handle opened before a vault link
 * took effect (another process) sees it at its next act: a tenant draft
 * made under the older vault link is refused, so a custodian removed
 * meanwhile never counts for it.
 */
static void
test_custodian_change(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v2 = NULL;
	size_t n = 0;
	bool done = false;

	/* a third custodian (a fresh credential on zed's token) */
	if (bg_vault_custodian_add(f->v, "cust-c", NULL, 0,
	    f->tok[ZED], PIN) != BG_OK)
		fail_msg("custodian add: %s", bg_vault_errmsg(f->v));
	assert_int_equal(bgt_sign(f->v, NULL, "cust-a", bgt_custodian(0),
	    &done), BG_OK);
	assert_false(done);
	assert_int_equal(bgt_sign(f->v, NULL, "cust-b", bgt_custodian(1),
	    &done), BG_OK);
	assert_true(done);
	/* beta's first draft, made under vault link 1 */
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "beta", NULL),
	    BG_OK);
	assert_int_equal(bg_vault_open(f->path, &v2), BG_OK);
	/* cust-c is removed through the first handle; her own signature
	 * does not count for it */
	assert_int_equal(bg_vault_custodian_remove(f->v, bgt_by_custodian(), "cust-c"),
	    BG_OK);
	assert_int_equal(bg_vault_chain_sign(f->v, NULL, "cust-c", NULL,
	    f->tok[ZED], PIN, &done), BG_OK);
	assert_false(done);
	assert_int_equal(bgt_sign(f->v, NULL, "cust-a", bgt_custodian(0),
	    &done), BG_OK);
	assert_false(done);
	assert_int_equal(bgt_sign(f->v, NULL, "cust-b", bgt_custodian(1),
	    &done), BG_OK);
	assert_true(done);
	/* the second handle signs with what the file holds now */
	assert_int_equal(bg_vault_chain_sign(v2, "beta", "cust-c", NULL,
	    f->tok[ZED], PIN, NULL), BG_ERR_STATE);
	assert_non_null(strstr(bg_vault_errmsg(v2), "the vault's custodians "
	    "changed since this draft was made; discard it"));
	assert_int_equal(bg_vault_chain_discard(v2, bgt_by_custodian(), "beta"), BG_OK);
	assert_int_equal(bg_vault_tenant_set(v2, bgt_by_custodian(), "beta", NULL),
	    BG_OK);
	assert_int_equal(bg_vault_chain_sign(v2, "beta", "cust-c", NULL,
	    f->tok[ZED], PIN, NULL), BG_ERR_DENIED);
	assert_non_null(strstr(bg_vault_errmsg(v2), "cust-c holds no "
	    "credential"));
	/* acme's link, made under the genesis, still seals */
	assert_int_equal(bg_vault_secret_add(v2, bgt_operator(), "acme", "v2",
	    (const uint8_t *)VALUE, strlen(VALUE)), BG_OK);
	assert_int_equal(bg_vault_chains_verify(v2, &n), BG_OK);
	assert_int_equal(n, 2);
	bg_vault_close(&v2);
}

static void
test_soft_refused(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v2 = NULL;
	char p2[128];

	(void)snprintf(p2, sizeof(p2), "%s/prod.db", f->dir);
	assert_int_equal(bg_vault_create(p2, false, "root", &v2), BG_OK);
	assert_false(bg_vault_allows_soft_tokens(v2));
	/* No genesis yet: nothing can be added. */
	assert_int_equal(bg_vault_tenant_add(v2, bgt_by_custodian(), "acme", NULL),
	    BG_ERR_STATE);
	assert_non_null(strstr(bg_vault_errmsg(v2), "genesis"));
	assert_int_equal(bg_vault_custodian_add(v2, "alice", NULL, 0,
	    f->tok[ALICE], PIN), BG_ERR_TOKEN_SOFT_REFUSED);
	assert_non_null(strstr(bg_vault_errmsg(v2), "--allow-soft-tokens"));
	bg_vault_close(&v2);
	/* Refuse to overwrite. */
	assert_int_equal(bg_vault_create(p2, true, "root", &v2),
	    BG_ERR_EXISTS);
}

static void
test_second_token(void **state)
{
	fx_t *f = *state;
	bg_soft_inproc_t *ip = NULL;
	bg_token_t *tok = NULL;
	bg_vault_member_info_t *l = NULL;
	size_t n = 0;
	int64_t id;
	bool done = false;

	assert_int_equal(bg_soft_inproc_new(NULL, NULL, 0, &ip), BG_OK);
	assert_int_equal(bg_token_open_io(bg_soft_inproc_path(ip),
	    bg_soft_inproc_io(), &tok), BG_OK);
	assert_int_equal(bg_token_pin_set(tok, PIN), BG_OK);
	assert_int_equal(bg_vault_member_add(f->v, "acme", "alice",
	    BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_CLIENT, in_days(30), "spare",
	    tok, PIN), BG_OK);
	/* Not in force until signed: the policy in force (alice with her
	 * old token, and mia) and alice's own old token. */
	assert_int_equal(bg_vault_member_list(f->v, "acme", "alice", false,
	    &l, &n), BG_OK);
	assert_int_equal(n, 1);
	bg_vault_member_free(&l);
	assert_int_equal(bg_vault_chain_sign(f->v, "acme", "mia", NULL,
	    f->tok[MIA], PIN, &done), BG_OK);
	assert_false(done);
	assert_int_equal(bg_vault_chain_sign(f->v, "acme", "alice", NULL,
	    f->tok[ALICE], PIN, &done), BG_OK);
	assert_true(done);
	assert_int_equal(bg_vault_member_list(f->v, "acme", "alice", false,
	    &l, &n), BG_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[1].label, "spare");
	assert_true(l[1].is_soft);
	bg_vault_member_free(&l);
	/* A secret sealed after: both tokens work, but count once. */
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "k2",
	    (const uint8_t *)"v2", 2), BG_OK);
	id = do_request(f, CAROL, "k2");
	{
		uint8_t h[BG_VAULT_HASH_LEN];

		assert_int_equal(bg_vault_statement(f->v, id, NULL, h), BG_OK);
		assert_int_equal(bg_vault_approve(f->v, id, "alice", h, tok,
		    PIN), BG_OK);
	}
	assert_int_equal(do_approve(f, id, ALICE), BG_ERR_EXISTS);
	bg_token_close(&tok);
	bg_soft_inproc_free(&ip);
}

static void
test_deadline(void **state)
{
	fx_t *f = *state;
	char out[128], want[64];
	int64_t id;

	id = do_request(f, CAROL, "db");
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	sql(f, "UPDATE requests SET deadline = created_at");
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)),
	    BG_ERR_EXPIRED);
	(void)snprintf(want, sizeof(want), "request %lld expired at ",
	    (long long)id);
	assert_memory_equal(bg_vault_errmsg(f->v), want, strlen(want));
	assert_int_equal(do_approve(f, id, BOB), BG_ERR_EXPIRED);
	/* A new request closes the stale one as expired. */
	id = do_request(f, CAROL, "db");
	assert_int_equal(id, 2);
}

static void
test_token_without_uv(void **state)
{
	fx_t *f = *state;
	bg_soft_inproc_opts_t o;
	bg_soft_inproc_t *ip = NULL;
	bg_token_t *tok = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	o.soft.no_pin_uv = true;
	assert_int_equal(bg_soft_inproc_new(&o, NULL, 0, &ip), BG_OK);
	assert_int_equal(bg_token_open_io(bg_soft_inproc_path(ip),
	    bg_soft_inproc_io(), &tok), BG_OK);
	r = bg_vault_member_add(f->v, "acme", "nora",
	    BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_CLIENT, in_days(30), NULL,
	    tok, PIN);
	assert_true(r == BG_ERR_TOKEN_UNSUPPORTED ||
	    r == BG_ERR_TOKEN_PIN_NOT_SET);
	assert_non_null(strstr(bg_vault_errmsg(f->v),
	    "cannot hold a vault membership"));
	bg_token_close(&tok);
	bg_soft_inproc_free(&ip);
}

static void
test_generate(void **state)
{
	uint8_t *val = NULL;
	size_t len = 0, i, k;
	int seen[4];

	(void)state;
	for (k = 0; k < 50; k++) {
		assert_int_equal(bg_vault_generate(12, BG_VAULT_GEN_DEFAULT,
		    &val, &len), BG_OK);
		assert_int_equal(len, 12);
		assert_int_equal(strlen((char *)val), 12);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < len; i++) {
			char c = (char)val[i];

			if (c >= 'a' && c <= 'z')
				seen[0] = 1;
			else if (c >= 'A' && c <= 'Z')
				seen[1] = 1;
			else if (c >= '0' && c <= '9')
				seen[2] = 1;
			else if (strchr("!#%+-.:=?@^_~", c) != NULL)
				seen[3] = 1;
			else
				fail_msg("unexpected character %d", c);
		}
		assert_true(seen[0] && seen[1] && seen[2] && seen[3]);
		sodium_free(val);
		val = NULL;
	}
	assert_int_equal(bg_vault_generate(7, BG_VAULT_GEN_DEFAULT, &val,
	    &len), BG_ERR_RANGE);
	assert_int_equal(bg_vault_generate(16, 0, &val, &len), BG_ERR_RANGE);
	assert_int_equal(bg_vault_generate(16, BG_VAULT_GEN_DIGIT, &val, &len),
	    BG_OK);
	for (i = 0; i < len; i++)
		assert_true(val[i] >= '0' && val[i] <= '9');
	sodium_free(val);
}

static int64_t
count_rows(fx_t *f, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/*
 * A batch is one transaction: one signed tree head for all its events,
 * all or none of its secrets, and each secret opens like any other.
 */
static void
test_add_many(void **state)
{
	fx_t *f = *state;
	const char *batch[3] = { "a1", "a2", "a3" };
	const uint8_t *vals[3] = { (const uint8_t *)"one",
	    (const uint8_t *)"two-" VALUE, (const uint8_t *)"three" };
	size_t lens[3] = { 3, strlen(VALUE) + 4, 5 };
	const char *bad[3] = { "b1", "db", "b2" };
	const char *badname[2] = { "c1", "no spaces" };
	bg_vault_secret_info_t *si = NULL;
	bg_vault_log_head_t h;
	int64_t ev, heads, id;
	char out[256];

	ev = count_rows(f, "SELECT count(*) FROM events");
	heads = count_rows(f, "SELECT count(*) FROM tree_heads");
	assert_int_equal(bg_vault_secret_add_many(f->v, bgt_operator(), "acme", 3,
	    batch, vals, lens), BG_OK);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), ev + 3);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM tree_heads"),
	    heads + 1);
	/* the head signed inside the batch's transaction covers it all */
	assert_int_equal(count_rows(f, "SELECT max(size) FROM tree_heads"),
	    ev + 3);
	assert_int_equal(bg_vault_log_head(f->v, &h), BG_OK);
	assert_int_equal(h.size, (uint64_t)(ev + 3));

	/* one name already taken: none of the batch is added */
	assert_int_equal(bg_vault_secret_add_many(f->v, bgt_operator(), "acme", 3,
	    bad, vals, lens), BG_ERR_EXISTS);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "'acme/db' already"));
	assert_int_equal(bg_vault_secret_show(f->v, "acme", "b1", &si),
	    BG_ERR_NOT_FOUND);
	assert_null(si);
	assert_int_equal(bg_vault_secret_show(f->v, "acme", "b2", &si),
	    BG_ERR_NOT_FOUND);
	/* a bad name is refused before anything is sealed */
	assert_int_equal(bg_vault_secret_add_many(f->v, bgt_operator(), "acme", 2,
	    badname, vals, lens), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_vault_secret_show(f->v, "acme", "c1", &si),
	    BG_ERR_NOT_FOUND);
	assert_int_equal(bg_vault_secret_add_many(f->v, bgt_operator(), "acme", 0,
	    batch, vals, lens), BG_ERR_INVALID_ARG);
	/* only the three, one secret.add event each; refusals logged */
	assert_int_equal(count_rows(f, "SELECT count(*) FROM events WHERE "
	    "action = 'secret.add'"), 5);

	/* a secret of the batch goes through a ceremony like any other */
	id = do_request(f, CAROL, "a2");
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_string_equal(out, "two-" VALUE);
}

static void
raw_exec(fx_t *f, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * Appending checks that the stored tree extends the newest signed head
 * (O(log n)) instead of re-verifying the whole log: a forged tree state
 * or head stops every change, and an old row edited in place is not
 * laundered: later heads still commit to its original hash, so the full
 * verification keeps naming it.
 */
static void
test_tip_check(void **state)
{
	fx_t *f = *state;
	int64_t id, size = 0, bad = 0;
	uint8_t *val = NULL;
	size_t len = 0;
	char out[256];

	/* an old event edited in place: changes go on, the edit stays seen */
	raw_exec(f, "UPDATE events SET entry = replace(entry, '\"cust-a\"', "
	    "'\"cust-z\"') WHERE seq = 2");
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad),
	    BG_ERR_AUTH);
	assert_int_equal(bad, 2);
	id = do_request(f, CAROL, "db");
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	assert_int_equal(do_release(f, id, CAROL, out, sizeof(out)), BG_OK);
	assert_string_equal(out, VALUE);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad),
	    BG_ERR_AUTH);
	assert_int_equal(bad, 2);

	/* the stored tree state forged: no change is made on top of it */
	id = do_request(f, CAROL, "web");
	assert_int_equal(do_approve(f, id, ALICE), BG_OK);
	assert_int_equal(do_approve(f, id, MIA), BG_OK);
	raw_exec(f, "UPDATE tree_state SET frontier = "
	    "zeroblob(length(frontier))");
	assert_int_equal(bg_vault_secret_add(f->v, bgt_operator(), "acme", "new",
	    (const uint8_t *)"v", 1), BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "does not match the "
	    "newest signed tree head"));
	/* and release says why it refuses */
	assert_int_equal(bg_vault_release(f->v, id, "carol", f->tok[CAROL],
	    PIN, &val, &len), BG_ERR_DB_CORRUPT);
	assert_null(val);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "refusing to release"));
}

static void
test_tip_forged_head(void **state)
{
	fx_t *f = *state;
	int64_t id;

	raw_exec(f, "UPDATE tree_heads SET sig = zeroblob(64) WHERE size = "
	    "(SELECT max(size) FROM tree_heads)");
	assert_int_equal(bg_vault_request(f->v, "acme", "db", "carol",
	    "disk full on db01", "INC-4711", 900, f->tok[CAROL], PIN, &id),
	    BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "does not verify with "
	    "the vault's key"));
}

/* The quorum finding of acme of that kind, by `status` (all tenants) or
 * `status acme`. */
static void
quorum_text(fx_t *f, const char *tenant, int kind, char *buf, size_t cap)
{
	bg_vault_status_item_t *it = NULL;
	size_t n = 0, i;

	buf[0] = '\0';
	assert_int_equal(bg_vault_status(f->v, tenant, &it, &n, NULL), BG_OK);
	for (i = 0; i < n; i++)
		if (it[i].kind == kind && strcmp(it[i].tenant, "acme") == 0)
			(void)snprintf(buf, cap, "%s", it[i].text);
	bg_vault_status_free(&it);
}

/*
 * vault status reads the approvers only of tenants with a removed or
 * expiring one, and judges the others by their policy alone: both ways
 * must give the finding `status TENANT` gives.  (Removing an approver a
 * policy names is refused, so expiry stands in for both.)
 */
/* Both paths agree, and the finding says expect. */
static void
quorum_both(fx_t *f, int kind, const char *expect)
{
	char all[BG_VAULT_TEXT_MAX], one[BG_VAULT_TEXT_MAX];

	quorum_text(f, NULL, kind, all, sizeof(all));
	quorum_text(f, "acme", kind, one, sizeof(one));
	assert_string_equal(all, one);
	assert_non_null(strstr(all, expect));
}

static void
test_quorum_paths(void **state)
{
	fx_t *f = *state;

	/* everyone live: mia alone is indispensable, by design (a note) */
	quorum_both(f, BG_VAULT_STATUS_QUORUM_BY_DESIGN,
	    "gives no alternate for mia");
	quorum_both(f, BG_VAULT_STATUS_QUORUM_AT_RISK, "");
	/* bob expiring within 30 days: alice has lost her alternate */
	raw_exec(f, "UPDATE memberships SET expires_at = strftime('%s') + "
	    "86400 WHERE person = 'bob'");
	quorum_both(f, BG_VAULT_STATUS_QUORUM_AT_RISK,
	    "losing any one of alice would");
	quorum_both(f, BG_VAULT_STATUS_QUORUM_BY_DESIGN,
	    "gives no alternate for mia");
	/* mia too: quorum lost */
	raw_exec(f, "UPDATE memberships SET expires_at = strftime('%s') + "
	    "86400 WHERE person = 'mia'");
	quorum_both(f, BG_VAULT_STATUS_QUORUM_AT_RISK, "quorum lost for acme");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deny_reason, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approval_replay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_swapped_shares, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lowered_threshold, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keyset_tamper, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_soft_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_second_token, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_without_uv, setup,
		    teardown),
		cmocka_unit_test(test_generate),
		cmocka_unit_test_setup_teardown(test_add_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tip_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tip_forged_head, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_custodian_change, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quorum_paths, setup,
		    teardown),
	};

	int rc;

	if (sodium_init() < 0 || bg_token_init() != BG_OK)
		return 1;
	rc = cmocka_run_group_tests_name("vault", tests, NULL, NULL);
	bgt_fixture_done();
	return rc;
}
