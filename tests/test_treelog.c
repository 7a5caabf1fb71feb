/*
 * The transparency log over the events table (vault/treelog.c): the stored
 * frontier gives the same roots as bg_merkle_root() over the leaves after
 * every append, older roots stream, signed heads verify with the pinned
 * key, the signing key lives outside the database, a schema-1 vault gets
 * its frontier and key on first use, and verification names the first bad
 * event for an edited entry, a deleted row, swapped rows and a truncated
 * tail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "treelog.h"
#include "vault_int.h"

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
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/bgtreelog.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	assert_int_equal(bg_vault_create(f->path, true, "root", &f->v), BG_OK);
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
	char *err = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

/* n events in one transaction, then a tree head (as a state change). */
static void
append(fx_t *f, int n)
{
	int i;

	assert_int_equal(bg_store_begin(f->v), BG_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(bg_audit_append(f->v, bg_vault_clock(), "root",
		    "test", "", "", json_pack("{s:i}", "i", i)), BG_OK);
	assert_int_equal(bg_store_commit(f->v), BG_OK);
	assert_int_equal(bg_treelog_seal(f->v, NULL), BG_OK);
}

/* All leaf hashes, recomputed from the stored entries. */
static uint8_t *
leaves(fx_t *f, uint64_t *np)
{
	sqlite3_stmt *st = NULL;
	uint8_t *l = NULL;
	uint64_t n = 0;

	assert_int_equal(bg_treelog_size(f->v, np), BG_OK);
	l = calloc(*np + 1, 32);
	assert_non_null(l);
	assert_int_equal(bg_store_prepare(f->v, "SELECT entry FROM events "
	    "ORDER BY seq", &st), BG_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		bg_audit_leaf((const char *)sqlite3_column_text(st, 0),
		    l + 32 * n);
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, *np);
	return l;
}

static void
test_roots_after_appends(void **state)
{
	fx_t *f = *state;
	bg_merkle_array_t a;
	uint8_t got[32], want[32], *l;
	uint64_t n = 0, k;
	int i;

	for (i = 0; i < 70; i++) {
		append(f, 1 + i % 3);
		l = leaves(f, &n);
		a.leaves = l;
		a.count = n;
		assert_int_equal(bg_merkle_root(bg_merkle_array_get, &a, n,
		    want), BG_OK);
		assert_int_equal(bg_treelog_root(f->v, n, got), BG_OK);
		assert_memory_equal(got, want, 32);
		/* an older size streams the rows */
		k = n / 2 + 1;
		assert_int_equal(bg_merkle_root(bg_merkle_array_get, &a, k,
		    want), BG_OK);
		assert_int_equal(bg_treelog_root(f->v, k, got), BG_OK);
		assert_memory_equal(got, want, 32);
		free(l);
	}
	assert_int_equal(bg_treelog_root(f->v, n + 1, got), BG_ERR_RANGE);
	/* the frontier is O(log n): one hash per bit of the size */
	{
		int64_t len = 0;

		assert_int_equal(bg_store_int(f->v, "SELECT length(frontier) "
		    "FROM tree_state WHERE id = ?", 1, &len), BG_OK);
		assert_int_equal(len, 32 * __builtin_popcountll(n));
	}
}

static void
test_heads_signed(void **state)
{
	fx_t *f = *state;
	bg_vault_log_head_t h;
	bg_treehead_t th, latest;
	uint8_t pk[32], sig[64];
	static const uint8_t msg[] = "other subsystem v1\0payload";
	int64_t size = 0, bad = 0, nh = 0;

	append(f, 5);
	append(f, 2);
	assert_int_equal(bg_vault_log_head(f->v, &h), BG_OK);
	assert_int_equal(h.size, 8);
	assert_int_equal(bg_treelog_latest(f->v, &latest), BG_OK);
	assert_int_equal(bg_treehead_parse(h.text, &th, NULL, 0), BG_OK);
	assert_memory_equal(th.root, latest.root, 32);
	assert_int_equal(bg_vault_public_key(f->v, pk), BG_OK);
	assert_int_equal(bg_treehead_verify(&th, pk), BG_OK);
	th.root[3] ^= 1;
	assert_int_equal(bg_treehead_verify(&th, pk), BG_ERR_AUTH);
	/* one head per transaction: creation, then the two appends */
	assert_int_equal(bg_store_int(f->v, "SELECT COUNT(*) FROM tree_heads "
	    "WHERE size > ?", 0, &nh), BG_OK);
	assert_int_equal(nh, 3);
	/* the helper other areas use */
	assert_int_equal(bg_vault_sign(f->v, msg, sizeof(msg), sig), BG_OK);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg),
	    pk), 0);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad), BG_OK);
	assert_int_equal(size, 8);
	/* the private key is not in the database */
	{
		char kp[128];
		FILE *fp;
		char line[160];

		assert_int_equal(bg_treelog_key_path(f->path, kp, sizeof(kp)),
		    BG_OK);
		assert_non_null(fp = fopen(kp, "r"));
		assert_non_null(fgets(line, sizeof(line), fp));
		fclose(fp);
		assert_non_null(strstr(line, "breakglass-signing-key-v1 "));
	}
}

static void
test_wrong_key_refused(void **state)
{
	fx_t *f = *state;
	char kp[128], cmd[256];
	uint8_t sig[64];

	append(f, 1);
	assert_int_equal(bg_treelog_key_path(f->path, kp, sizeof(kp)), BG_OK);
	(void)snprintf(cmd, sizeof(cmd), "printf 'breakglass-signing-key-v1 "
	    "%064d\\n' 7 > '%s'", 0, kp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bg_vault_sign(f->v, (const uint8_t *)"x", 1, sig),
	    BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "not this vault's"));
	assert_int_equal(unlink(kp), 0);
	assert_int_equal(bg_vault_sign(f->v, (const uint8_t *)"x", 1, sig),
	    BG_ERR_NOT_FOUND);
}

static void
expect_bad(fx_t *f, int64_t first, const char *text)
{
	int64_t size = 0, bad = 0;

	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad),
	    BG_ERR_AUTH);
	assert_int_equal(bad, first);
	if (strstr(bg_vault_errmsg(f->v), text) == NULL)
		fail_msg("errmsg '%s' lacks '%s'", bg_vault_errmsg(f->v), text);
}

static void
test_edit_detected(void **state)
{
	fx_t *f = *state;

	append(f, 30);
	raw(f, "UPDATE events SET entry = replace(entry, '\"i\":15', "
	    "'\"i\":99') WHERE seq = 17");
	expect_bad(f, 17, "event 17: entry does not match its leaf hash "
	    "(edited)");
}

static void
test_delete_detected(void **state)
{
	fx_t *f = *state;

	append(f, 30);
	raw(f, "DELETE FROM events WHERE seq = 23");
	expect_bad(f, 23, "event 23 is missing");
}

static void
test_reorder_detected(void **state)
{
	fx_t *f = *state;

	append(f, 30);
	raw(f, "UPDATE events SET entry = CASE seq "
	    "WHEN 5 THEN (SELECT entry FROM events WHERE seq = 6) "
	    "ELSE (SELECT entry FROM events WHERE seq = 5) END "
	    "WHERE seq IN (5, 6)");
	expect_bad(f, 5, "event 5: the entry does not match its columns");
}

static void
test_truncate_detected(void **state)
{
	fx_t *f = *state;

	append(f, 39);		/* 40 events with vault.init */
	raw(f, "DELETE FROM events WHERE seq > 30");
	expect_bad(f, 31, "events end at 30 but a tree head covers 40 "
	    "(truncated)");
}

static void
test_rewrite_detected(void **state)
{
	fx_t *f = *state;

	append(f, 9);
	append(f, 10);
	raw(f, "UPDATE tree_heads SET root = zeroblob(32) WHERE size = 10");
	expect_bad(f, 10, "tree head at size 10: root does not match the "
	    "events (log rewritten)");
}

static void
test_receipt(void **state)
{
	fx_t *f = *state;
	bg_vault_log_head_t h;

	append(f, 10);
	assert_int_equal(bg_vault_log_head(f->v, &h), BG_OK);
	append(f, 5);
	assert_int_equal(bg_vault_log_check_receipt(f->v, h.receipt), BG_OK);
	assert_int_equal(bg_vault_log_check_receipt(f->v, "BG1-11-x"),
	    BG_ERR_PARSE);
	raw(f, "DELETE FROM events WHERE seq > 5; DELETE FROM tree_heads;");
	assert_int_equal(bg_vault_log_check_receipt(f->v, h.receipt),
	    BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v),
	    "the log has 5 events but the receipt covers 11"));
}

/*
 * A change made while the key file is missing commits without a head;
 * the next change finds the log past its newest head and verifies the
 * whole log before appending: an intact log goes on, one edited in the
 * unsigned stretch is refused.
 */
static void
test_tip_fallback(void **state)
{
	fx_t *f = *state;
	char kp[128], away[160];
	int64_t size = 0, bad = 0;

	append(f, 5);
	assert_int_equal(bg_treelog_key_path(f->path, kp, sizeof(kp)), BG_OK);
	(void)snprintf(away, sizeof(away), "%s.away", kp);
	assert_int_equal(rename(kp, away), 0);
	assert_int_equal(bg_store_begin(f->v), BG_OK);
	assert_int_equal(bg_audit_append(f->v, bg_vault_clock(), "root",
	    "test", "", "", json_pack("{s:i}", "i", 6)), BG_OK);
	assert_int_equal(bg_store_commit(f->v), BG_OK);	/* no head */
	assert_int_equal(rename(away, kp), 0);
	/* intact: the whole-log check passes and the change is made */
	append(f, 1);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad), BG_OK);
	assert_int_equal(size, 8);	/* vault.init, 5, 1 unsigned, 1 */

	assert_int_equal(rename(kp, away), 0);
	assert_int_equal(bg_store_begin(f->v), BG_OK);
	assert_int_equal(bg_audit_append(f->v, bg_vault_clock(), "root",
	    "test", "", "", json_pack("{s:i}", "i", 8)), BG_OK);
	assert_int_equal(bg_store_commit(f->v), BG_OK);
	assert_int_equal(rename(away, kp), 0);
	/* the unsigned event edited: the next append is refused */
	raw(f, "UPDATE events SET entry = replace(entry, '\"i\":8', "
	    "'\"i\":9') WHERE seq = 9");
	assert_int_equal(bg_store_begin(f->v), BG_OK);
	assert_int_equal(bg_audit_append(f->v, bg_vault_clock(), "root",
	    "test", "", "", json_pack("{s:i}", "i", 9)), BG_ERR_AUTH);
	assert_non_null(strstr(bg_vault_errmsg(f->v), "event 9"));
	bg_store_rollback(f->v);
}

static void
test_schema1_vault(void **state)
{
	fx_t *f = *state;
	bg_merkle_array_t a;
	char kp[128];
	uint8_t got[32], want[32], *l;
	uint64_t n = 0;
	int64_t size = 0, bad = 0;

	append(f, 12);
	/* what a vault made before the transparency log looks like */
	assert_int_equal(bg_treelog_key_path(f->path, kp, sizeof(kp)), BG_OK);
	assert_int_equal(unlink(kp), 0);
	raw(f, "DELETE FROM tree_state; DELETE FROM tree_heads; "
	    "DELETE FROM meta WHERE key = 'log_public_key'");
	append(f, 3);
	assert_int_equal(access(kp, R_OK), 0);
	l = leaves(f, &n);
	assert_int_equal(n, 16);
	a.leaves = l;
	a.count = n;
	assert_int_equal(bg_merkle_root(bg_merkle_array_get, &a, n, want),
	    BG_OK);
	assert_int_equal(bg_treelog_root(f->v, n, got), BG_OK);
	assert_memory_equal(got, want, 32);
	free(l);
	assert_int_equal(bg_vault_audit_verify(f->v, &size, &bad), BG_OK);
}

static void
test_proofs_roundtrip(void **state)
{
	fx_t *f = *state;
	char *text = NULL, msg[256];
	bool pinned = true;
	char *p;

	append(f, 20);
	assert_int_equal(bg_vault_log_inclusion_proof(f->v, 7, 0, &text),
	    BG_OK);
	assert_int_equal(bg_vault_log_verify_proof(text, NULL, &pinned, msg,
	    sizeof(msg)), BG_OK);
	assert_false(pinned);
	/* a flipped bit in the leaf */
	p = strstr(text, "leaf: ") + 6;
	*p = *p == '0' ? '1' : '0';
	assert_int_equal(bg_vault_log_verify_proof(text, NULL, NULL, msg,
	    sizeof(msg)), BG_ERR_AUTH);
	free(text);
	assert_int_equal(bg_vault_log_consistency_proof(f->v, 3, 0, &text),
	    BG_OK);
	assert_int_equal(bg_vault_log_verify_proof(text, NULL, NULL, msg,
	    sizeof(msg)), BG_OK);
	free(text);
	assert_int_equal(bg_vault_log_consistency_proof(f->v, 30, 0, &text),
	    BG_ERR_INVALID_ARG);
	assert_null(text);
	assert_int_equal(bg_vault_log_verify_proof("bg-proof-v1: inclusion\n",
	    NULL, NULL, msg, sizeof(msg)), BG_ERR_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roots_after_appends,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_heads_signed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_edit_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reorder_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncate_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_receipt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tip_fallback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema1_vault, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_proofs_roundtrip, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("treelog", tests, NULL, NULL);
}
