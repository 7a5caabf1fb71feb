/*
 * The structural check of the vault file before every commit
 * (docs/security.md, "Integrity of the file").
 *
 * Committing into a damaged file (a wrong freelist pointer in the header,
 * say) can overwrite live pages, so every COMMIT is preceded, under the
 * write lock, by PRAGMA quick_check of the whole file: about 2 s at 10,000
 * tenants.  It runs on a connection of its own, so that it reads what is
 * on disk; bg_store_begin drops the pages the handle cached before, so
 * that the change is built on what is on disk too.  Transactions that end
 * in ROLLBACK (the check pass of an act, before its PIN) leave nothing in
 * the file and need no check.
 *
 * bg_vault_check_ahead() runs that check earlier, in a thread of its own,
 * when a command is about to ask for a PIN, so that it runs while the
 * person types it and touches the token.  Its verdict is taken by the
 * next commit only if nobody can have written the file since the check
 * began:
 *
 *  - PRAGMA data_version of the checker's connection, read in the
 *    transaction the check ran in and again under the committer's lock,
 *    differs if any other connection committed in between (SQLite's
 *    documented meaning);
 *  - stat of the database and its WAL (inode, size, modification and
 *    change times) differs if anything wrote either through the file
 *    system (an editor, dd, a copy over it); no process can set the
 *    change time.
 *
 * Any doubt (a difference, a failure, damage found) and the check runs
 * again in line, and that verdict is the one reported; then the
 * database's stat must be what it was at BEGIN, since the transaction
 * read the file before the check did (a token may have been touched in
 * between).  A verdict serves one commit.  What is left (docs/security.md
 * lists it): bytes changed under the file system, the wal-index (-shm),
 * writes that leave stat unchanged, and writes by another program in the
 * milliseconds between the check and the COMMIT: root's, or the
 * hardware's, not a command's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "vault_int.h"

struct bg_check_ahead {
	sqlite3		*db;
	pthread_t	 th;
	bg_file_seen_t	 db_seen, wal_seen;
	int64_t		 dv;		/* data_version of the checked snapshot */
	bool		 ok;		/* quick_check answered "ok" */
	int		 stop;		/* set (atomically) to end the check */
	int		 done;		/* set (atomically) when it has ended */
};

static void
file_look(const char *path, bg_file_seen_t *s)
{
	struct stat sb;

	memset(s, 0, sizeof(*s));
	if (stat(path, &sb) != 0)
		return;
	s->exists = true;
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->size = sb.st_size;
	s->mtime = sb.st_mtim;
	s->ctime = sb.st_ctim;
}

static bool
file_same(const bg_file_seen_t *a, const bg_file_seen_t *b)
{
	return a->exists == b->exists && a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void
wal_look(const bg_vault_t *v, bg_file_seen_t *s)
{
	char wal[4096];

	memset(s, 0, sizeof(*s));
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", v->path) <
	    sizeof(wal))
		file_look(wal, s);
}

/* One integer from a one-row statement; false on any failure. */
static bool
one_int(sqlite3 *db, const char *sql, int64_t *outp)
{
	sqlite3_stmt *st = NULL;
	bool ok = false;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*outp = sqlite3_column_int64(st, 0);
		ok = true;
	}
	sqlite3_finalize(st);
	return ok;
}

/* A connection of its own for the check: it reads only from disk. */
static int
checker_open(const char *path, sqlite3 **dbp)
{
	int on = 1, rc;

	*dbp = NULL;
	if ((rc = sqlite3_open_v2(path, dbp, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL)) != SQLITE_OK)
		return rc;
	(void)sqlite3_extended_result_codes(*dbp, 1);
	if ((rc = sqlite3_db_config(*dbp, SQLITE_DBCONFIG_DEFENSIVE, 1, &on))
	    != SQLITE_OK ||
	    (rc = sqlite3_db_config(*dbp, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    &on)) != SQLITE_OK ||
	    (rc = sqlite3_busy_timeout(*dbp, BG_VAULT_BUSY_MS)) != SQLITE_OK ||
	    (rc = sqlite3_exec(*dbp, "PRAGMA query_only = ON", NULL, NULL,
	    NULL)) != SQLITE_OK)
		return rc;
	return SQLITE_OK;
}

/* --- the check in line --------------------------------------------------- */

int
bg_file_check(bg_vault_t *v)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	char res[160];
	int rc, r = BG_ERR_INTERNAL;

	v->checks_inline++;
	res[0] = '\0';
	if ((rc = checker_open(v->path, &db)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st,
	    NULL)) != SQLITE_OK) {
		r = bg_vault_fail(v, (rc & 0xff) == SQLITE_NOMEM ?
		    BG_ERR_NOMEM : (rc & 0xff) == SQLITE_CORRUPT ||
		    (rc & 0xff) == SQLITE_NOTADB ? BG_ERR_DB_CORRUPT :
		    BG_ERR_DB, "cannot check the vault file: %s",
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((t = sqlite3_column_text(st, 0)) != NULL)
			(void)snprintf(res, sizeof(res), "%s", t);
		if (strcmp(res, "ok") == 0) {
			r = BG_OK;
			goto out;
		}
	} else if ((rc & 0xff) == SQLITE_CORRUPT ||
	    (rc & 0xff) == SQLITE_NOTADB) {
		/* SQLite gave up on the file rather than describe it */
		(void)snprintf(res, sizeof(res), "%s", sqlite3_errmsg(db));
	} else {
		/* not a verdict: out of memory, I/O, locked, ... */
		r = bg_vault_fail(v, (rc & 0xff) == SQLITE_NOMEM ?
		    BG_ERR_NOMEM : (rc & 0xff) == SQLITE_IOERR ? BG_ERR_IO :
		    BG_ERR_DB, "cannot check the vault file: %s",
		    sqlite3_errmsg(db));
		goto out;
	}
	bg_text_defang(res);	/* SQLite's report spans lines */
	r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "vault database is damaged "
	    "(quick_check: %s)", res[0] != '\0' ? res : "no answer");
out:
	sqlite3_finalize(st);
	if (db != NULL)
		(void)sqlite3_close_v2(db);
	return r;
}

/* --- the check ahead ----------------------------------------------------- */

/* SQLite's progress handler: a non-zero answer interrupts the check.
 * (sqlite3_interrupt alone is lost if it comes before the statement.) */
static int
ahead_stopped(void *arg)
{
	struct bg_check_ahead *a = arg;

	return __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE);
}

static void *
ahead_run(void *arg)
{
	struct bg_check_ahead *a = arg;
	sqlite3_stmt *st = NULL;
	const unsigned char *res;

	a->ok = false;
	/* data_version and the check in one read transaction, ended at
	 * once: a snapshot held through the PIN would keep every other
	 * process's checkpoint waiting. */
	if (sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    !one_int(a->db, "PRAGMA data_version", &a->dv))
		goto out;
	if (sqlite3_prepare_v2(a->db, "PRAGMA quick_check", -1, &st,
	    NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (res = sqlite3_column_text(st, 0)) != NULL &&
	    strcmp((const char *)res, "ok") == 0 &&
	    sqlite3_step(st) == SQLITE_DONE)
		a->ok = true;
	sqlite3_finalize(st);
	if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		a->ok = false;
out:
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
ahead_free(struct bg_check_ahead *a)
{
	if (a == NULL)
		return;
	if (a->db != NULL)
		(void)sqlite3_close_v2(a->db);
	free(a);
}

void
bg_vault_check_ahead(bg_vault_t *v)
{
	struct bg_check_ahead *a = NULL;
	sigset_t all, old;

	if (v == NULL || v->db == NULL || v->ahead != NULL || v->in_tx)
		return;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto fail;
	/* Before the connection reads anything: whatever is written to
	 * the files from here on shows when the committer looks again.
	 * (The WAL after opening it: a connection opening it as root
	 * gives it the database's owner, which moves its change time.) */
	file_look(v->path, &a->db_seen);
	if (!a->db_seen.exists)
		goto fail;
	if (checker_open(v->path, &a->db) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(a->db, "PRAGMA schema_version", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	wal_look(v, &a->wal_seen);
	sqlite3_progress_handler(a->db, 10000, ahead_stopped, a);
	/* Signals stay with the thread that waits on the token (SIGINT
	 * cancels it there). */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&a->th, NULL, ahead_run, a) != 0) {
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	v->ahead = a;
	return;
fail:
	/* Nothing lost: the first commit runs the check itself. */
	ahead_free(a);
}

bool
bg_check_ahead_done(const bg_vault_t *v)
{
	return v->ahead == NULL ||
	    __atomic_load_n(&v->ahead->done, __ATOMIC_ACQUIRE) != 0;
}

void
bg_check_ahead_stop(bg_vault_t *v)
{
	struct bg_check_ahead *a = v->ahead;

	if (a == NULL)
		return;
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	sqlite3_interrupt(a->db);	/* the flag covers a check not begun */
	(void)pthread_join(a->th, NULL);
	v->ahead = NULL;
	ahead_free(a);
}

/*
 * True when the check started ahead found the file sound and nobody has
 * written it since it began: the caller holds the write lock, so nobody
 * can commit now, and data_version read now equals the one read with
 * the check only if nobody committed in between.  Frees the check either
 * way; stops it first if the file has already changed.
 */
static bool
ahead_take(bg_vault_t *v)
{
	struct bg_check_ahead *a = v->ahead;
	bg_file_seen_t db_now, wal_now;
	int64_t dv = -1;
	bool same = false;

	if (a == NULL)
		return false;
	file_look(v->path, &db_now);
	if (!file_same(&a->db_seen, &db_now)) {
		bg_check_ahead_stop(v);	/* its verdict is of no use */
		return false;
	}
	(void)pthread_join(a->th, NULL);
	v->ahead = NULL;
	if (a->ok && one_int(a->db, "PRAGMA data_version", &dv) &&
	    dv == a->dv) {
		file_look(v->path, &db_now);
		wal_look(v, &wal_now);
		same = file_same(&a->db_seen, &db_now) &&
		    file_same(&a->wal_seen, &wal_now);
	}
	ahead_free(a);
	return same;
}

/* --- before every commit ------------------------------------------------ */

void
bg_file_tx_begun(bg_vault_t *v)
{
	file_look(v->path, &v->tx_db);
}

int
bg_file_verdict(bg_vault_t *v)
{
	if (ahead_take(v))
		return BG_OK;
	return bg_file_check(v);
}

int
bg_file_sound(bg_vault_t *v)
{
	bg_file_seen_t db_now;
	int r;

	if (ahead_take(v))
		return BG_OK;	/* its stat covers the transaction too */
	if ((r = bg_file_check(v)) != BG_OK)
		return r;
	/*
	 * The check saw the file as it is now; the transaction read it
	 * earlier, maybe before a token was touched.  No other connection
	 * can commit while this one holds the write lock and the
	 * transaction's own pages go to the WAL, so the database itself
	 * changed meanwhile only by another program (or another process's
	 * checkpoint): what was read may not be what was checked.
	 */
	file_look(v->path, &db_now);
	if (!file_same(&v->tx_db, &db_now))
		return bg_vault_fail(v, BG_ERR_DB, "the vault file was changed "
		    "by another program during this change; nothing was "
		    "written: run the command again");
	return BG_OK;
}
