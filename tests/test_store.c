/*
 * The vault file: create/open/reopen, connection settings, schema version
 * and migrations, refusal of a newer schema, of a foreign file, and of a
 * damaged one (quick_check, no longer run at open: bg_vault_integrity).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "helpers/fixture.h"
#include "vault_int.h"

typedef struct fx {
	char	dir[64];
	char	path[96];
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/bgstore.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t
pragma(bg_vault_t *v, const char *q)
{
	int64_t x = -1;

	assert_int_equal(bg_store_int(v, q, 0, &x), BG_OK);
	return x;
}

static void
raw(const char *path, const char *q)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_create_reopen(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	struct stat sb;
	char id[BG_VAULT_ID_LEN + 1], rp[80];
	size_t i;

	assert_int_equal(bg_vault_create(f->path, true, "root", &v), BG_OK);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(strlen(bg_vault_id(v)), BG_VAULT_ID_LEN);
	for (i = 0; i < BG_VAULT_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", bg_vault_id(v)[i]));
	(void)snprintf(rp, sizeof(rp), "breakglass:%.16s", bg_vault_id(v));
	assert_string_equal(bg_vault_rp_id(v), rp);
	assert_true(bg_vault_allows_soft_tokens(v));
	assert_int_equal(bg_vault_schema_version(v), BG_VAULT_SCHEMA_VERSION);
	(void)snprintf(id, sizeof(id), "%s", bg_vault_id(v));
	bg_vault_close(&v);
	assert_null(v);
	bg_vault_close(&v);	/* tolerates NULL */

	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_string_equal(bg_vault_id(v), id);
	assert_string_equal(bg_vault_rp_id(v), rp);
	assert_true(bg_vault_allows_soft_tokens(v));
	assert_string_equal(bg_vault_path(v), f->path);
	bg_vault_close(&v);

	/* Never overwrite. */
	assert_int_equal(bg_vault_create(f->path, false, "root", &v),
	    BG_ERR_EXISTS);
	assert_null(v);
}

static void
test_pragmas(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	int on = -1;

	assert_int_equal(bg_vault_create(f->path, false, "root", &v), BG_OK);
	bg_vault_close(&v);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_int_equal(pragma(v, "PRAGMA foreign_keys"), 1);
	assert_int_equal(pragma(v, "PRAGMA secure_delete"), 1);
	assert_int_equal(pragma(v, "PRAGMA synchronous"), 2);	/* FULL */
	assert_int_equal(pragma(v, "PRAGMA trusted_schema"), 0);
	assert_int_equal(pragma(v, "PRAGMA user_version"),
	    BG_VAULT_SCHEMA_VERSION);
	assert_int_equal(pragma(v, "SELECT count(*) FROM migrations"),
	    BG_VAULT_SCHEMA_VERSION);
	assert_int_equal(sqlite3_db_config(v->db, SQLITE_DBCONFIG_DEFENSIVE,
	    -1, &on), SQLITE_OK);
	assert_int_equal(on, 1);
	{
		sqlite3_stmt *st = NULL;

		assert_int_equal(bg_store_prepare(v, "PRAGMA journal_mode",
		    &st), BG_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0),
		    "wal");
		sqlite3_finalize(st);
	}
	/* Defensive mode: no writable_schema games. */
	assert_int_not_equal(bg_store_exec(v, "PRAGMA writable_schema = ON;"
	    "DELETE FROM sqlite_schema WHERE name = 'events'"), BG_OK);
	bg_vault_close(&v);
}

static void
test_newer_schema_refused(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	char msg[256];

	assert_int_equal(bg_vault_create(f->path, true, "root", &v), BG_OK);
	bg_vault_close(&v);
	raw(f->path, "PRAGMA user_version = 99");
	assert_int_equal(bg_vault_open_msg(f->path, &v, msg, sizeof(msg)),
	    BG_ERR_DB_VERSION);
	assert_null(v);
	assert_non_null(strstr(msg, "schema version 99"));
}

static void
test_foreign_and_missing(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	char msg[256];

	assert_int_equal(bg_vault_open_msg(f->path, &v, msg, sizeof(msg)),
	    BG_ERR_NOT_FOUND);
	raw(f->path, "CREATE TABLE t (x)");
	assert_int_equal(bg_vault_open_msg(f->path, &v, msg, sizeof(msg)),
	    BG_ERR_DB_CORRUPT);
	assert_string_equal(msg, "this file is not a breakglass vault");
	assert_null(v);
	/* ...and the foreign file was left alone. */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
		    "sqlite_schema", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 1);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

/* 512 bytes of 0xa5 over the b-tree header and cell pointers of page. */
static void
damage_page(const char *path, int page)
{
	unsigned char junk[512];
	FILE *fp;

	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(fp = fopen(path, "r+b"));
	assert_int_equal(fseek(fp, (long)(page - 1) * 4096, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	assert_int_equal(fclose(fp), 0);
}

/* The root page of the schema object name. */
static int
index_root(const char *path, const char *name)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int page;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage FROM "
	    "sqlite_schema WHERE name = ?", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	page = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(page > 1);
	return page;
}

/* A vault with 40 tenants, checkpointed, closed: every page in the file. */
static void
forty_tenants(const fx_t *f)
{
	bg_vault_t *v = NULL;
	char name[32];
	int i;

	assert_int_equal(bg_vault_create(f->path, true, "root", &v), BG_OK);
	assert_int_equal(bgt_genesis(v), BG_OK);
	for (i = 0; i < 40; i++) {
		(void)snprintf(name, sizeof(name), "tenant%d", i);
		assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(),
		    name, NULL), BG_OK);
	}
	bg_vault_close(&v);
	raw(f->path, "PRAGMA wal_checkpoint(TRUNCATE)");
}

static void
test_quick_check(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;

	forty_tenants(f);
	/* An index that opening never reads (events by tenant and action:
	 * 41 rows, one page). */
	damage_page(f->path, index_root(f->path, "events_tenant_action"));
	/* Opening reads only the header and the schema: it succeeds, and
	 * the structural check names the damage. */
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_int_equal(bg_vault_integrity(v, false), BG_ERR_DB_CORRUPT);
	assert_non_null(strstr(bg_vault_errmsg(v), "damaged (quick_check: "));
	assert_int_equal(bg_vault_integrity(v, true), BG_ERR_DB_CORRUPT);
	assert_non_null(strstr(bg_vault_errmsg(v),
	    "damaged (integrity_check: "));
	assert_null(strchr(bg_vault_errmsg(v), '\n'));
	bg_vault_close(&v);
}

static void
test_integrity_ok(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;

	assert_int_equal(bg_vault_create(f->path, true, "root", &v), BG_OK);
	assert_int_equal(bgt_genesis(v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme", NULL), BG_OK);
	assert_int_equal(bg_vault_integrity(v, false), BG_OK);
	assert_int_equal(bg_vault_integrity(v, true), BG_OK);
	bg_vault_close(&v);
}

static void
wait_ahead(const bg_vault_t *v)
{
	int i;

	for (i = 0; i < 5000 && !bg_check_ahead_done(v); i++)
		(void)usleep(1000);
	assert_true(bg_check_ahead_done(v));
}

/* The check started ahead is the first write's, when nothing came
 * between: it does not run a second time. */
static void
test_ahead_taken(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;

	forty_tenants(f);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	bg_vault_check_ahead(v);
	assert_non_null(v->ahead);
	wait_ahead(v);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme",
	    NULL), BG_OK);
	assert_int_equal(v->checks_inline, 0);
	assert_null(v->ahead);
	/* a verdict serves one commit: the next PIN starts another */
	bg_vault_check_ahead(v);
	assert_non_null(v->ahead);
	bg_vault_close(&v);
}

/* Another connection commits after the check's snapshot: its verdict is
 * not taken, the write checks again. */
static void
test_ahead_commit_between(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;

	forty_tenants(f);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	bg_vault_check_ahead(v);
	wait_ahead(v);
	raw(f->path, "CREATE TABLE t_between(x); DROP TABLE t_between;");
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme",
	    NULL), BG_OK);
	assert_int_equal(v->checks_inline, 1);
	bg_vault_close(&v);
}

/*
 * A check ahead, and the file damaged through the file system before it
 * began (it finds the damage) or after it passed, while the PIN is typed
 * (no commit, so data_version cannot tell, but the change time does):
 * either way the commit checks in line and refuses with the damage named.
 */
static void
ahead_damage(fx_t *f, bool before)
{
	bg_vault_t *v = NULL;
	int page;

	forty_tenants(f);
	page = index_root(f->path, "subshares_version");
	if (before)
		damage_page(f->path, page);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	bg_vault_check_ahead(v);
	wait_ahead(v);
	if (!before)
		damage_page(f->path, page);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme",
	    NULL), BG_ERR_DB_CORRUPT);
	assert_non_null(strstr(bg_vault_errmsg(v), "damaged (quick_check: "));
	assert_true(v->checks_inline >= 1);
	bg_vault_close(&v);
}

static void
test_ahead_damage_between(void **state)
{
	ahead_damage(*state, false);
}

static void
test_ahead_damaged_before(void **state)
{
	ahead_damage(*state, true);
}

/* One handle, several commits: each is checked, and the one after the
 * file system damaged the file refuses. */
static void
test_damage_between_commits(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	int page;

	forty_tenants(f);
	page = index_root(f->path, "subshares_version");
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme",
	    NULL), BG_OK);
	assert_int_equal(v->checks_inline, 1);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme2",
	    NULL), BG_OK);
	assert_int_equal(v->checks_inline, 2);
	raw(f->path, "PRAGMA wal_checkpoint(TRUNCATE)");
	damage_page(f->path, page);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme3",
	    NULL), BG_ERR_DB_CORRUPT);
	assert_non_null(strstr(bg_vault_errmsg(v), "damaged (quick_check: "));
	bg_vault_close(&v);
}

/* The file says it is in rollback-journal mode (edited): opening it
 * switches it back to WAL, a header write, only after checking it. */
static void
test_journal_mode_edited(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	char msg[256];

	forty_tenants(f);
	raw(f->path, "PRAGMA journal_mode = DELETE");
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_int_equal(v->checks_inline, 1);
	bg_vault_close(&v);
	raw(f->path, "PRAGMA journal_mode = DELETE");
	damage_page(f->path, index_root(f->path, "subshares_version"));
	assert_int_equal(bg_vault_open_msg(f->path, &v, msg, sizeof(msg)),
	    BG_ERR_DB_CORRUPT);
	assert_non_null(strstr(msg, "damaged (quick_check: "));
}

/* Another program writes the database while a transaction is open (a
 * token being touched inside it): the check at COMMIT sees the file as it
 * is then, the transaction read it before, so the commit is refused. */
static void
test_written_during_tx(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;
	struct timespec ts[2];

	forty_tenants(f);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_int_equal(bg_store_begin(v), BG_OK);
	assert_int_equal(bg_store_exec(v, "UPDATE tenants SET name = name"),
	    BG_OK);
	assert_int_equal(bg_store_commit(v), BG_OK);	/* the control */
	assert_int_equal(bg_store_begin(v), BG_OK);
	assert_int_equal(bg_store_exec(v, "UPDATE tenants SET name = name"),
	    BG_OK);
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_NOW;
	assert_int_equal(utimensat(AT_FDCWD, f->path, ts, 0), 0);
	assert_int_equal(bg_store_commit(v), BG_ERR_DB);
	assert_non_null(strstr(bg_vault_errmsg(v), "changed by another "
	    "program during this change; nothing was written"));
	bg_store_rollback(v);
	bg_vault_close(&v);
}

/* A command that ends before writing (a wrong PIN, a refusal) closes the
 * handle with the check still running: it is stopped, nothing leaks. */
static void
test_ahead_close_running(void **state)
{
	fx_t *f = *state;
	bg_vault_t *v = NULL;

	forty_tenants(f);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	bg_vault_check_ahead(v);
	bg_vault_close(&v);
	assert_null(v);
	assert_int_equal(bg_vault_open(f->path, &v), BG_OK);
	assert_int_equal(bg_vault_integrity(v, false), BG_OK);
	bg_vault_close(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_and_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quick_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_integrity_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ahead_taken, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ahead_commit_between,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ahead_damage_between,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ahead_damaged_before,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_between_commits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_mode_edited,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_written_during_tx,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ahead_close_running,
		    setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
