/*
 * The RACI read from the signed chain (vault/recert.c): classes and
 * sides, since when a membership holds, which link last certified it
 * and who signed that link (only signatures that verify), the custodians
 * of the vault link in force, an MSP self-approval exception, a chain
 * edited in the file, and the recertification report's renderers on
 * hostile input.  In-process software tokens (tests/helpers/fixture.c).
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

#define NPEOPLE	6

enum { CAROL, ALICE, BOB, MIA, DAN, OSCAR };
static const char *const names[NPEOPLE] = {
	"carol", "alice", "bob", "mia", "dan", "oscar"
};

typedef struct fx {
	char		 dir[64];
	char		 path[96];
	bg_vault_t	*v;
	bgt_token_t	 t[NPEOPLE];
} fx_t;

static int64_t
in_days(int d)
{
	return (int64_t)time(NULL) + (int64_t)d * 86400;
}

static bool
sign(fx_t *f, int who)
{
	bool done = false;

	if (bgt_sign(f->v, "acme", names[who], &f->t[who], &done) != BG_OK)
		fail_msg("%s signs: %s", names[who], bg_vault_errmsg(f->v));
	return done;
}

static void
enroll(fx_t *f, int who, int role, int side)
{
	if (bg_vault_member_add(f->v, "acme", names[who], role, side,
	    in_days(365), NULL, f->t[who].tok, BGT_PIN) != BG_OK)
		fail_msg("enroll %s: %s", names[who], bg_vault_errmsg(f->v));
}

/* carol requests; alice, bob (client), mia, dan (msp) approve; oscar
 * operates; policy all-of(1-of(alice,bob),1-of(mia)); link 1. */
static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/bgraci.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	assert_int_equal(bg_vault_create(f->path, true, "root", &f->v), BG_OK);
	assert_int_equal(bgt_genesis(f->v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "acme", NULL),
	    BG_OK);
	for (i = 0; i < NPEOPLE; i++)
		assert_int_equal(bgt_token_new(&f->t[i]), BG_OK);
	enroll(f, CAROL, BG_VAULT_ROLE_REQUESTER, BG_VAULT_SIDE_NONE);
	enroll(f, ALICE, BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_CLIENT);
	enroll(f, BOB, BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_CLIENT);
	enroll(f, MIA, BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_MSP);
	enroll(f, DAN, BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_MSP);
	enroll(f, OSCAR, BG_VAULT_ROLE_OPERATOR, BG_VAULT_SIDE_NONE);
	if (bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "all-of(1-of(alice,bob),1-of(mia))", NULL, 0) != BG_OK)
		fail_msg("policy: %s", bg_vault_errmsg(f->v));
	assert_int_equal(bgt_sign_custodians(f->v, "acme"), BG_OK);
	assert_false(sign(f, ALICE));
	assert_true(sign(f, BOB));
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
	for (i = 0; i < NPEOPLE; i++)
		bgt_token_free(&f->t[i]);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
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

static const bg_vault_raci_member_t *
member(const bg_vault_raci_t *rc, const char *person)
{
	size_t i;

	for (i = 0; i < rc->n_members; i++)
		if (strcmp(rc->members[i].person, person) == 0)
			return &rc->members[i];
	fail_msg("%s is not in the RACI", person);
	return NULL;
}

/* The signers' names, ", "-separated, into buf. */
static const char *
signers(const bg_vault_raci_signer_t *s, size_t n, char *buf, size_t cap)
{
	size_t i, used;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		used = strlen(buf);
		(void)snprintf(buf + used, cap - used, "%s%s/%s/%s",
		    i ? ", " : "", s[i].person, bg_vault_role_name(s[i].role),
		    bg_vault_side_name(s[i].side));
	}
	return buf;
}

static void
test_first_link(void **state)
{
	fx_t *f = *state;
	bg_vault_raci_t *rc = NULL;
	const bg_vault_raci_member_t *m;
	char buf[512];
	static const char *const order[] = {
		"alice", "bob", "oscar", "dan", "mia", "carol"
	};
	size_t i;

	assert_int_equal(bg_vault_raci(f->v, "acme", &rc), BG_OK);
	assert_true(rc->has_link);
	assert_int_equal(rc->link.seq, 1);
	assert_int_equal(strlen(rc->link_hash), 64);
	assert_string_equal(rc->policy, "2-of(1-of(alice,bob),1-of(mia))");
	assert_int_equal(rc->n_members, 6);
	/* accountable, responsible (operators, MSP approvers), requesters */
	for (i = 0; i < rc->n_members; i++)
		assert_string_equal(rc->members[i].person, order[i]);
	assert_string_equal(bg_vault_raci_class(rc->members[0].role,
	    rc->members[0].side), "accountable");
	assert_string_equal(bg_vault_raci_class(rc->members[2].role,
	    rc->members[2].side), "responsible");
	assert_string_equal(bg_vault_raci_class(rc->members[3].role,
	    rc->members[3].side), "responsible");
	assert_string_equal(bg_vault_raci_class(BG_VAULT_ROLE_AUDITOR, 0),
	    "audit-owner");
	m = member(rc, "carol");
	assert_int_equal(m->since.seq, 1);
	assert_int_equal(m->certified.seq, 1);
	assert_false(m->extended);
	assert_false(m->due);
	assert_false(m->expired);
	assert_true(m->certified.committed_at > 0);
	/* link 1: the custodians and every client approver */
	assert_string_equal(signers(m->signers, m->n_signers, buf,
	    sizeof(buf)), "alice/approver/client, bob/approver/client, "
	    "cust-a/custodian/none, cust-b/custodian/none");
	assert_int_equal(rc->n_custodians, 2);
	assert_string_equal(rc->custodians[0], "cust-a");
	assert_int_equal(rc->vault_seq, 0);
	assert_false(rc->has_exception);
	assert_false(rc->msp_alone);
	bg_vault_raci_free(&rc);
	assert_null(rc);
	bg_vault_raci_free(NULL);
}

static void
test_recertify(void **state)
{
	fx_t *f = *state;
	bg_vault_raci_t *rc = NULL;
	const bg_vault_raci_member_t *m;
	char buf[512], *json = NULL, *text = NULL;

	assert_int_equal(bg_vault_member_recertify(f->v, bgt_by_custodian(), "acme",
	    "carol", 0, in_days(500), false), BG_OK);
	/* not in force before it is signed */
	assert_int_equal(bg_vault_raci(f->v, "acme", &rc), BG_OK);
	assert_int_equal(rc->link.seq, 1);
	bg_vault_raci_free(&rc);
	assert_true(sign(f, BOB));
	assert_int_equal(bg_vault_raci(f->v, "acme", &rc), BG_OK);
	assert_int_equal(rc->link.seq, 2);
	m = member(rc, "carol");
	assert_int_equal(m->since.seq, 1);
	assert_int_equal(m->certified.seq, 2);
	assert_true(m->extended);
	assert_string_equal(signers(m->signers, m->n_signers, buf,
	    sizeof(buf)), "bob/approver/client");
	/* the others: still link 1 */
	assert_int_equal(member(rc, "oscar")->certified.seq, 1);
	bg_vault_raci_free(&rc);

	/* a signature row added to the file names nobody */
	sql_exec(f, "INSERT INTO link_sigs (tenant, seq, person, cred_id, "
	    "authdata, sig) SELECT tenant, seq, 'alice', cred_id, authdata, "
	    "sig FROM link_sigs WHERE tenant = 'acme' AND seq = 2");
	assert_int_equal(bg_vault_raci(f->v, "acme", &rc), BG_OK);
	m = member(rc, "carol");
	assert_string_equal(signers(m->signers, m->n_signers, buf,
	    sizeof(buf)), "bob/approver/client");
	bg_vault_raci_free(&rc);

	/* the report: JSON first, rendered */
	assert_int_equal(bg_vault_recert_report(f->v, "acme", &json), BG_OK);
	assert_non_null(strstr(json, "\"format\":\"bg-recert-v1\""));
	assert_int_equal(bg_vault_report_render(json, BG_VAULT_REPORT_TEXT,
	    &text), BG_OK);
	assert_non_null(strstr(text, "carol (requester) expires"));
	assert_non_null(strstr(text, "signed by:      bob (client approver)"));
	assert_non_null(strstr(text, "(expiry lengthened)"));
	free(text);
	free(json);
}

static void
test_exception(void **state)
{
	fx_t *f = *state;
	bg_vault_raci_t *rc = NULL;
	bg_vault_status_item_t *it = NULL;
	char buf[512];
	size_t i, n = 0;
	bool found = false;

	assert_int_equal(bg_vault_policy_set(f->v, bgt_by_custodian(), "acme",
	    "2-of(alice,mia,dan)", "night cover", in_days(20)), BG_OK);
	(void)sign(f, ALICE);
	assert_true(sign(f, MIA));
	assert_int_equal(bg_vault_raci(f->v, "acme", &rc), BG_OK);
	assert_true(rc->msp_alone);
	assert_true(rc->has_exception);
	assert_true(rc->exception_live);
	assert_string_equal(rc->exception_reason, "night cover");
	assert_int_equal(rc->exception_since.seq, 2);
	assert_string_equal(signers(rc->exception_signers,
	    rc->n_exception_signers, buf, sizeof(buf)),
	    "alice/approver/client, mia/approver/msp");
	bg_vault_raci_free(&rc);
	assert_int_equal(bg_vault_status(f->v, NULL, &it, &n, NULL), BG_OK);
	for (i = 0; i < n; i++)
		if (it[i].kind == BG_VAULT_STATUS_MSP_EXCEPTION &&
		    strstr(it[i].text, "MSP may approve its own access until")
		    != NULL && strstr(it[i].text, ": night cover") != NULL)
			found = true;
	assert_true(found);
	assert_string_equal(bg_vault_status_kind_name(
	    BG_VAULT_STATUS_MSP_EXCEPTION), "msp-exception");
	bg_vault_status_free(&it);
}

static void
test_refusals(void **state)
{
	fx_t *f = *state;
	bg_vault_raci_t *rc = (bg_vault_raci_t *)1;
	char *json = NULL;

	assert_int_equal(bg_vault_raci(f->v, "nosuch", &rc), BG_ERR_NOT_FOUND);
	assert_null(rc);
	assert_int_equal(bg_vault_raci(f->v, "acme", NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_vault_raci_json(NULL, &json), BG_ERR_INVALID_ARG);
	/* a tenant without a link: no members, the custodians */
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "beta", NULL),
	    BG_OK);
	assert_int_equal(bg_vault_raci(f->v, "beta", &rc), BG_OK);
	assert_false(rc->has_link);
	assert_int_equal(rc->n_members, 0);
	assert_int_equal(rc->n_custodians, 2);
	assert_int_equal(bg_vault_raci_json(rc, &json), BG_OK);
	assert_non_null(strstr(json, "\"link\":null"));
	free(json);
	bg_vault_raci_free(&rc);
	/* a link edited in the file: refused, not described */
	sql_exec(f, "UPDATE links SET body = replace(body, '\"note\":\"', "
	    "'\"note\":\"x') WHERE tenant = 'acme' AND seq = 1");
	assert_int_equal(bg_vault_raci(f->v, "acme", &rc), BG_ERR_AUTH);
	assert_null(rc);
}

/* A recertification report from a hostile file renders escaped. */
static const char hostile[] =
    "{\"format\":\"bg-recert-v1\",\"vault\":\"<v>\",\"generated_at\":1,"
    "\"tenant\":\"a\\u001b[2Jb\",\"raci\":{\"tenant\":\"<t>\","
    "\"link\":{\"seq\":3,\"time\":1,\"committed_at\":2},"
    "\"members\":[{\"person\":\"<script>x</script>\",\"role\":\"approver\","
    "\"side\":\"cli\\u0007ent\",\"class\":\"accountable\",\"due\":true,"
    "\"expires_at\":5,\"since\":{\"seq\":1},\"certified\":7,"
    "\"signed_by\":[{\"person\":\"<img src=x>\",\"role\":\"r\"},3]},"
    "\"junk\"],"
    "\"custodians\":{\"vault_link\":0,\"persons\":[\"<b>\",1]},"
    "\"exception\":{\"reason\":\"<iframe>\\u001b\",\"live\":true,"
    "\"expires\":9,\"since\":{\"seq\":2},\"signed_by\":{}}}}";

static void
test_render_hostile(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(bg_vault_report_render(hostile, BG_VAULT_REPORT_HTML,
	    &out), BG_OK);
	assert_null(strstr(out, "<script"));
	assert_null(strstr(out, "<img"));
	assert_null(strstr(out, "<iframe"));
	assert_null(strstr(out, "<b>"));
	assert_null(strstr(out, "<t>"));
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_non_null(strstr(out, "&lt;script&gt;x&lt;/script&gt;"));
	assert_non_null(strstr(out, "class=\"due\""));
	assert_null(strstr(out, " src=\""));
	assert_null(strstr(out, " href=\""));
	free(out);
	assert_int_equal(bg_vault_report_render(hostile, BG_VAULT_REPORT_TEXT,
	    &out), BG_OK);
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_non_null(strstr(out, "Recertification report of a?[2Jb"));
	assert_non_null(strstr(out, "[DUE]"));
	assert_non_null(strstr(out, "EXCEPTION: MSP may approve"));
	free(out);
	assert_int_equal(bg_vault_report_render("{\"format\":\"bg-recert-v2\"}",
	    BG_VAULT_REPORT_TEXT, &out), BG_ERR_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recertify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exception, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
		    teardown),
		cmocka_unit_test(test_render_hostile),
	};
	int r;

	if (sodium_init() < 0)
		return 1;
	r = cmocka_run_group_tests_name("raci", tests, NULL, NULL);
	bgt_fixture_done();
	return r;
}
