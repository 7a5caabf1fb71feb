/*
 * The audit log: canonical JSON entries (sorted keys, compact), the
 * RFC 9162 leaf hash against an independent SHA-256 (OpenSSL) and a fixed
 * vector, the hash chain, verification catching rows edited with raw SQL,
 * filters, refusal events, and the clock high-water mark.
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
#include <jansson.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "helpers/fixture.h"
#include "vault_int.h"

/* cust-b, who adds tenant beta */
static bg_vault_signer_t by_b;

static const char entry_vec[] =
    "{\"action\":\"tenant.add\",\"actor\":\"root\",\"details\":{\"a\":\"x\","
    "\"z\":1},\"object\":\"acme\",\"seq\":2,\"tenant\":\"acme\","
    "\"time\":1700000000,\"v\":1}";
/* SHA-256(0x00 || entry_vec) and SHA-256(0^32 || leaf), by Python's
 * hashlib. */
static const char leaf_vec[] =
    "5b562f6c9e1edba867f7b89b8116f2e6ed0d5c6aa6b3b00b78ef5d34e4ba6126";
static const char chain_vec[] =
    "efaf43604326fbbf648c69fb3d4b6d9cd11826f6d4b1d35c862a480ff5821ce7";

typedef struct fx {
	char		 dir[64];
	char		 path[96];
	bg_vault_t	*v;
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/bgaudit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	assert_int_equal(bg_vault_create(f->path, true, "root", &f->v), BG_OK);
	assert_int_equal(bgt_genesis(f->v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "acme",
	    NULL), BG_OK);
	/* beta by the other custodian: events name who acted */
	by_b.person = "cust-b";
	by_b.tok = bgt_custodian(1)->tok;
	by_b.pin = BGT_PIN;
	assert_int_equal(bg_vault_tenant_add(f->v, &by_b, "beta", NULL),
	    BG_OK);
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "gamma",
	    NULL), BG_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;
	char cmd[128];

	bg_vault_close(&f->v);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
raw(fx_t *f, const char *q)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	assert_true(sqlite3_changes(db) > 0);
	sqlite3_close(db);
}

static void
test_canonical_entry(void **state)
{
	json_t *d;
	char *e;
	uint8_t leaf[32], ossl[32], chain[32], zero[32];
	char hex[65];

	(void)state;
	d = json_pack("{s:i, s:s}", "z", 1, "a", "x");
	assert_non_null(d);
	e = bg_audit_entry(2, 1700000000, "root", "tenant.add", "acme", "acme",
	    d);
	assert_non_null(e);
	assert_string_equal(e, entry_vec);
	bg_audit_leaf(e, leaf);
	/* Independently: OpenSSL over 0x00 || entry. */
	{
		size_t n = strlen(e);
		unsigned char *buf = malloc(n + 1);

		assert_non_null(buf);
		buf[0] = 0x00;
		memcpy(buf + 1, e, n);
		SHA256(buf, n + 1, ossl);
		free(buf);
	}
	assert_memory_equal(leaf, ossl, 32);
	bg_hex(leaf, 32, hex);
	assert_string_equal(hex, leaf_vec);
	memset(zero, 0, sizeof(zero));
	bg_audit_chain(zero, leaf, chain);
	bg_hex(chain, 32, hex);
	assert_string_equal(hex, chain_vec);
	free(e);
	json_decref(d);
}

static void
test_chain_and_rows(void **state)
{
	fx_t *f = *state;
	bg_vault_event_t *l = NULL;
	uint8_t prev[32], chain[32], leaf[32], head[32];
	int64_t size = 0, bad = 0;
	size_t n = 0, i;

	assert_int_equal(bg_vault_audit_list(f->v, NULL, &l, &n), BG_OK);
	/* init, the genesis (2 custodians enrolled, 2 signatures, the
	 * genesis taking effect), then the three tenants */
	assert_int_equal(n, 9);
	assert_string_equal(l[0].action, "vault.init");
	assert_string_equal(l[5].action, "vault.genesis");
	assert_string_equal(l[6].action, "tenant.add");
	assert_string_equal(l[7].actor, "cust-b");
	assert_string_equal(l[6].actor, "cust-a");
	memset(prev, 0, sizeof(prev));
	for (i = 0; i < n; i++) {
		json_t *j = json_loads(l[i].entry, 0, NULL);

		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")),
		    (json_int_t)(i + 1));
		assert_int_equal(json_integer_value(json_object_get(j, "v")), 1);
		json_decref(j);
		bg_audit_leaf(l[i].entry, leaf);
		assert_memory_equal(leaf, l[i].leaf, 32);
		bg_audit_chain(prev, leaf, chain);
		assert_memory_equal(chain, l[i].chain, 32);
		memcpy(prev, chain, 32);
	}
	assert_int_equal(bg_vault_audit_head(f->v, &size, head), BG_OK);
	assert_int_equal(size, 9);
	assert_memory_equal(head, prev, 32);
	bg_vault_audit_free(&l, n);
	assert_null(l);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad), BG_OK);
	assert_int_equal(size, 9);
	assert_int_equal(bad, 0);
}

static void
test_verify_catches_column_edit(void **state)
{
	fx_t *f = *state;
	int64_t size = 0, bad = 0;

	raw(f, "UPDATE events SET actor = 'mallory' WHERE seq = 3");
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad),
	    BG_ERR_AUTH);
	assert_int_equal(bad, 3);
	assert_int_equal(size, 2);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "event 3"));
}

static void
test_verify_catches_entry_edit(void **state)
{
	fx_t *f = *state;
	int64_t bad = 0;

	/* Edit entry and columns together and fix the leaf: the chain
	 * still catches it. */
	raw(f, "UPDATE events SET actor = 'mallory', entry = replace(entry, "
	    "'\"actor\":\"ops\"', '\"actor\":\"mallory\"') WHERE seq = 3");
	assert_int_equal(bg_vault_audit_verify(f->v, NULL, &bad), BG_ERR_AUTH);
	assert_int_equal(bad, 3);
	raw(f, "UPDATE events SET leaf = x'00' WHERE seq = 2");
	assert_int_equal(bg_vault_audit_verify(f->v, NULL, &bad), BG_ERR_AUTH);
	assert_int_equal(bad, 2);
}

/* Replace the newest event's entry and make its leaf and chain fit, so
 * that only the check that the entry is canonical can object. */
static void
rewrite_last(fx_t *f, const char *entry)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t prev[32], leaf[32], chain[32];
	int64_t seq;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(seq) FROM events",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT chain FROM events "
	    "WHERE seq = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, seq - 1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	memcpy(prev, sqlite3_column_blob(st, 0), 32);
	sqlite3_finalize(st);
	bg_audit_leaf(entry, leaf);
	bg_audit_chain(prev, leaf, chain);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE events SET entry = ?, "
	    "leaf = ?, chain = ? WHERE seq = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, entry, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, leaf, 32, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, chain, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, seq);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * audit verify reads most entries on a fast path without jansson
 * (audit.c, entry_canonical_fast); what that path does not accept goes
 * through the full rebuild.  Neither may accept an entry that is not
 * byte for byte the canonical one of its row.
 */
static void
test_verify_canonical_paths(void **state)
{
	fx_t *f = *state;
	bg_vault_event_t *l = NULL;
	char *good = NULL, buf[1024];
	size_t n = 0, k;
	int64_t bad = 0, size = 0;
	json_t *d;
	/* each an equivalent, non-canonical spelling of the canonical entry */
	static const char *const edits[][2] = {
		{ "\"v\":1}", "\"v\": 1}" },
		{ "\"v\":1}", "\"v\":1 }" },
		{ "\"v\":1}", "\"v\":1.0}" },
		{ "\"v\":1}", "\"v\":1,\"v\":1}" },
		{ "\"v\":1}", "\"v\":1,\"w\":0}" },
		{ "\"details\":{", "\"details\":{\"a\":-0," },
		{ "\"details\":{", "\"details\":{\"a\":01," },
		{ "\"details\":{", "\"details\":{\"zz\":1,\"a\":2," },
		{ "\"details\":{", "\"details\":{\"b\":\"\\u0061\"," },
		{ "\"details\":{", "\"details\":{\"b\":[1, 2]," },
		{ "\"details\":{", "\"details\":{\"0\":1,\"0\":1," },
	};

	/* an entry with escapes and non-ASCII takes the full rebuild and
	 * verifies */
	assert_non_null(d = json_pack("{s:s, s:[i, b, n], s:{s:s}}",
	    "note", "say \"hi\"\n\tcaf\xc3\xa9 / \\", "list", -5, 1,
	    "o", "k", "v"));
	assert_int_equal(bg_store_begin(f->v), BG_OK);
	assert_int_equal(bg_audit_append(f->v, bg_vault_clock(), "ops",
	    "tenant.set", "acme", "acme", d), BG_OK);
	assert_int_equal(bg_store_commit(f->v), BG_OK);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad), BG_OK);
	assert_int_equal(bad, 0);
	assert_int_equal(bg_vault_audit_list(f->v, NULL, &l, &n), BG_OK);
	assert_non_null(strchr(l[n - 1].entry, '\\'));
	assert_non_null(good = strdup(l[n - 1].entry));
	bg_vault_audit_free(&l, n);
	/* the canonical entry put back through rewrite_last verifies */
	rewrite_last(f, good);
	assert_int_equal(bg_vault_audit_verify(f->v, NULL, &bad), BG_OK);
	for (k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		const char *at = strstr(good, edits[k][0]);
		int len;

		assert_non_null(at);
		len = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good),
		    good, edits[k][1], at + strlen(edits[k][0]));
		assert_true(len > 0 && (size_t)len < sizeof(buf));
		rewrite_last(f, buf);
		assert_int_equal(bg_vault_audit_verify(f->v, NULL, &bad),
		    BG_ERR_AUTH);
		assert_int_equal(bad, size);
		/* refused for the entry, before its tree head is reached */
		assert_non_null(strstr(bg_vault_errmsg(f->v), "entry"));
		assert_null(strstr(bg_vault_errmsg(f->v), "tree head"));
	}
	free(good);
}

static void
test_verify_catches_deletion(void **state)
{
	fx_t *f = *state;
	int64_t bad = 0;

	raw(f, "DELETE FROM events WHERE seq = 2");
	assert_int_equal(bg_vault_audit_verify(f->v, NULL, &bad), BG_ERR_AUTH);
	assert_int_equal(bad, 2);
}

static void
test_filters_and_refusals(void **state)
{
	fx_t *f = *state;
	bg_vault_audit_filter_t flt;
	bg_vault_event_t *l = NULL;
	json_t *j;
	size_t n = 0;

	memset(&flt, 0, sizeof(flt));
	flt.tenant = "beta";
	assert_int_equal(bg_vault_audit_list(f->v, &flt, &l, &n), BG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].tenant, "beta");
	bg_vault_audit_free(&l, n);

	/* A refusal is an event of its own. */
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "acme",
	    NULL), BG_ERR_EXISTS);
	assert_string_equal(bg_vault_errmsg(f->v),
	    "tenant 'acme' already exists");
	memset(&flt, 0, sizeof(flt));
	flt.action = "refused";
	assert_int_equal(bg_vault_audit_list(f->v, &flt, &l, &n), BG_OK);
	assert_int_equal(n, 1);
	j = json_loads(l[0].entry, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "details"), "attempted")), "tenant.add");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "details"), "code")), "BG_ERR_EXISTS");
	json_decref(j);
	bg_vault_audit_free(&l, n);

	memset(&flt, 0, sizeof(flt));
	flt.person = "cust-b";
	flt.action = "tenant.add";
	assert_int_equal(bg_vault_audit_list(f->v, &flt, &l, &n), BG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].tenant, "beta");
	bg_vault_audit_free(&l, n);
	assert_int_equal(bg_vault_audit_verify(f->v, NULL, NULL), BG_OK);
}

/* A clock behind the newest event: refused, and the refusal is stamped
 * with the newest event's time (times never go backwards). */
static void
test_clock_behind(void **state)
{
	fx_t *f = *state;
	bg_vault_event_t *l = NULL;
	bg_vault_tenant_info_t *ti = NULL;
	int64_t future = (int64_t)time(NULL) + 86400;
	char q[128];
	json_t *j;
	size_t n = 0;

	(void)snprintf(q, sizeof(q), "UPDATE events SET time = %lld WHERE "
	    "seq = 9", (long long)future);
	raw(f, q);
	assert_int_equal(bg_vault_tenant_add(f->v, bgt_by_custodian(), "delta", NULL),
	    BG_ERR_CLOCK);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "earlier than the "
	    "newest event"));
	assert_int_equal(bg_vault_tenant_show(f->v, "delta", &ti),
	    BG_ERR_NOT_FOUND);
	assert_int_equal(bg_vault_audit_list(f->v, NULL, &l, &n), BG_OK);
	assert_int_equal(n, 10);
	assert_string_equal(l[9].action, "refused");
	assert_int_equal(l[9].time, future);
	j = json_loads(l[9].entry, 0, NULL);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(json_object_get(j,
	    "details"), "clock")) < future);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "details"), "code")), "BG_ERR_CLOCK");
	json_decref(j);
	bg_vault_audit_free(&l, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_entry),
		cmocka_unit_test_setup_teardown(test_chain_and_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_catches_column_edit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_catches_entry_edit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_canonical_paths,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_catches_deletion,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_and_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_behind, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
