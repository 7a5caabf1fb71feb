/*
 * Backup and restore of the vault file.  A backup is three files: the
 * SQLite copy (online backup API, so a running vault is copied
 * consistently), its signing key (FILE.key: a backup that cannot sign is
 * not restorable on a new machine) and the signed tree head of the copy
 * (FILE.head, one bg-treehead-v1 line).  Restore verifies a copy of the
 * backup in the vault's own directory before it atomically replaces the
 * vault file.  docs/audit-log.md "Backups" has the reasoning.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "chain.h"
#include "treelog.h"
#include "vault_int.h"

#define PATH_MAX_BG	4096

/* A sentence for the caller (truncated to fit, which is fine). */
static void
setmsg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
setmsg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

static int
suffixed(const char *path, const char *suffix, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s%s", path, suffix);

	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return BG_ERR_RANGE;
	}
	return BG_OK;
}

/* Copy src to a new file dst (O_EXCL, 0600), fsync'd. */
static int
copy_file(const char *src, const char *dst, bool excl, char *msg,
    size_t msglen)
{
	uint8_t buf[65536];
	ssize_t n, w;
	size_t off;
	int in = -1, out = -1, r = BG_ERR_INTERNAL;

	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		setmsg(msg, msglen, "%s: %s", src, strerror(errno));
		r = errno == ENOENT ? BG_ERR_NOT_FOUND : BG_ERR_IO;
		goto out;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    (excl ? O_EXCL : O_TRUNC), 0600)) < 0) {
		setmsg(msg, msglen, "%s: %s", dst, strerror(errno));
		r = errno == EEXIST ? BG_ERR_EXISTS : BG_ERR_IO;
		goto out;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			setmsg(msg, msglen, "%s: %s", src,
			    strerror(errno));
			r = BG_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		for (off = 0; off < (size_t)n; off += (size_t)w) {
			w = write(out, buf + off, (size_t)n - off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				setmsg(msg, msglen, "%s: %s", dst,
				    strerror(errno));
				r = BG_ERR_IO;
				goto out;
			}
		}
	}
	if (fsync(out) != 0) {
		setmsg(msg, msglen, "%s: %s", dst, strerror(errno));
		r = BG_ERR_IO;
		goto out;
	}
	r = BG_OK;
out:
	sodium_memzero(buf, sizeof(buf));	/* may have held a key */
	if (in >= 0)
		(void)close(in);
	if (out >= 0)
		(void)close(out);
	return r;
}

static int
write_text(const char *path, const char *text, char *msg, size_t msglen)
{
	FILE *f = NULL;
	int fd, r = BG_ERR_INTERNAL;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		setmsg(msg, msglen, "%s: %s", path, strerror(errno));
		return errno == EEXIST ? BG_ERR_EXISTS : BG_ERR_IO;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		(void)close(fd);
		setmsg(msg, msglen, "%s: %s", path, strerror(errno));
		return BG_ERR_IO;
	}
	if (fprintf(f, "%s\n", text) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		setmsg(msg, msglen, "%s: %s", path, strerror(errno));
		r = BG_ERR_IO;
	} else
		r = BG_OK;
	if (fclose(f) != 0 && r == BG_OK)
		r = BG_ERR_IO;
	return r;
}

static void
fsync_dir_of(const char *path)
{
	char buf[PATH_MAX_BG];
	int fd;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return;
	if ((fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		(void)close(fd);
	}
}

/*
 * The custodian's signed act that a backup (or restore) is made, logged
 * in v inside its own transaction.  Check mode (by->tok NULL) stops
 * before anything is written: *checkedp.
 */
static int
log_act(bg_vault_t *v, const bg_vault_signer_t *by, const char *kind,
    const char *file, bool *checkedp)
{
	bg_admin_t a;
	json_t *det = NULL;
	char *lines = NULL;
	int64_t now = 0;
	int r = BG_ERR_INTERNAL;

	memset(&a, 0, sizeof(a));
	*checkedp = false;
	if ((r = bg_admin_need(v, by)) != BG_OK)
		return r;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_chain_require_genesis(v)) != BG_OK ||
	    (r = bg_admin_who(v, NULL, by->person, BG_ADMIN_CUSTODIAN, now,
	    &a)) != BG_OK)
		goto out;
	/* the file is named when it is text a person can read */
	det = bg_chain_text_ok(file, BG_VAULT_REASON_MAX) ?
	    json_pack("{s:s}", "file", file) : json_object();
	if (det == NULL || bg_strcatf(&lines, "file: %s\n",
	    bg_chain_text_ok(file, BG_VAULT_REASON_MAX) ? file : "(unnamed)")
	    != BG_OK) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_act(v, "", &a, by, kind, lines, now, det,
	    checkedp)) != BG_OK || *checkedp)
		goto out;
	r = bg_audit_append(v, now, by->person, kind, "", "", det);
	det = NULL;
	if (r == BG_OK)
		r = bg_store_commit(v);
out:
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	if (r != BG_OK || *checkedp)
		bg_store_rollback(v);
	return r;
}

int
bg_vault_backup(bg_vault_t *v, const bg_vault_signer_t *by, const char *out,
    bg_vault_log_head_t *h)
{
	bool checked = false;
	sqlite3 *dst = NULL;
	sqlite3_backup *bk = NULL;
	char kpath[PATH_MAX_BG], okey[PATH_MAX_BG], ohead[PATH_MAX_BG];
	char msg[BG_VAULT_ERRMSG_MAX];
	int64_t size = 0, bad = 0;
	bool made_db = false, made_key = false, made_head = false;
	int fd = -1, rc, r = BG_ERR_INTERNAL;

	if (v == NULL || out == NULL || h == NULL)
		return BG_ERR_INVALID_ARG;
	memset(h, 0, sizeof(*h));
	msg[0] = '\0';
	bg_vault_clear_err(v);
	if ((r = suffixed(out, BG_TREELOG_KEY_SUFFIX, okey, sizeof(okey))) !=
	    BG_OK || (r = suffixed(out, ".head", ohead, sizeof(ohead))) !=
	    BG_OK || (r = bg_treelog_key_path(v->path, kpath, sizeof(kpath)))
	    != BG_OK)
		goto out;
	/* A damaged file or a tampered log is not worth keeping: say so
	 * now. */
	if ((r = bg_store_integrity(v, false)) != BG_OK ||
	    (r = bg_vault_audit_verify(v, &size, &bad)) != BG_OK)
		goto out;
	if (access(out, F_OK) == 0) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, "%s: already exists; "
		    "refusing to overwrite it", out);
		goto out;
	}
	/* A custodian signs that the backup is made; the copy carries the
	 * event, so every copy of the vault says who made it. */
	if ((r = log_act(v, by, "backup", out, &checked)) != BG_OK || checked)
		goto out;
	if ((r = bg_vault_log_head(v, h)) != BG_OK)
		goto out;
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		r = bg_vault_fail(v, errno == EEXIST ? BG_ERR_EXISTS :
		    BG_ERR_IO, "%s: %s", out, errno == EEXIST ? "already "
		    "exists; refusing to overwrite it" : strerror(errno));
		goto out;
	}
	made_db = true;
	(void)close(fd);
	fd = -1;
	if ((rc = sqlite3_open_v2(out, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL)) != SQLITE_OK) {
		r = bg_vault_fail(v, BG_ERR_IO, "%s: %s", out,
		    dst != NULL ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto out;
	}
	if ((bk = sqlite3_backup_init(dst, "main", v->db, "main")) == NULL) {
		r = bg_vault_fail(v, BG_ERR_DB, "backup: %s",
		    sqlite3_errmsg(dst));
		goto out;
	}
	rc = sqlite3_backup_step(bk, -1);
	if (rc != SQLITE_DONE) {
		r = bg_vault_fail(v, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ?
		    BG_ERR_DB_BUSY : BG_ERR_IO, "backup: %s",
		    sqlite3_errstr(rc));
		goto out;
	}
	rc = sqlite3_backup_finish(bk);
	bk = NULL;
	if (rc != SQLITE_OK) {
		r = bg_vault_fail(v, BG_ERR_IO, "backup: %s",
		    sqlite3_errstr(rc));
		goto out;
	}
	if ((rc = sqlite3_close(dst)) != SQLITE_OK) {
		r = bg_vault_fail(v, BG_ERR_IO, "backup: close: %s",
		    sqlite3_errstr(rc));
		goto out;
	}
	dst = NULL;
	if ((fd = open(out, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
		r = bg_vault_fail(v, BG_ERR_IO, "%s: %s", out,
		    strerror(errno));
		goto out;
	}
	if ((r = copy_file(kpath, okey, true, msg, sizeof(msg))) != BG_OK) {
		r = bg_vault_fail(v, r, "backup: signing key: %s", msg);
		goto out;
	}
	made_key = true;
	if ((r = write_text(ohead, h->text, msg, sizeof(msg))) != BG_OK) {
		r = bg_vault_fail(v, r, "backup: %s", msg);
		goto out;
	}
	made_head = true;
	fsync_dir_of(out);
	r = BG_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	if (bk != NULL)
		(void)sqlite3_backup_finish(bk);
	if (dst != NULL)
		(void)sqlite3_close(dst);
	if (r != BG_OK) {
		if (made_db)
			(void)unlink(out);
		if (made_key && !made_head)
			(void)unlink(okey);
		memset(h, 0, sizeof(*h));
	}
	return bg_vault_fail_default(v, r);
}

/* Facts about the current vault at path (when there is one). */
typedef struct cur_vault {
	bool	 exists;
	char	 id[BG_VAULT_ID_LEN + 1];
	bool	 have_pk;
	uint8_t	 pk[32];
	uint64_t size;
} cur_vault_t;

static int
current_vault(const char *path, cur_vault_t *c, char *msg, size_t msglen)
{
	bg_vault_t *v = NULL;
	struct stat sb;
	int r = BG_ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	if (lstat(path, &sb) != 0 && errno == ENOENT)
		return BG_OK;
	if ((r = bg_vault_open_msg(path, &v, msg, msglen)) != BG_OK) {
		/* A damaged current vault is what restores are for. */
		if (r == BG_ERR_DB_CORRUPT)
			r = BG_OK;
		c->exists = true;
		goto out;
	}
	c->exists = true;
	(void)snprintf(c->id, sizeof(c->id), "%s", v->id);
	r = bg_treelog_pinned_key(v, c->pk);
	if (r != BG_OK && r != BG_ERR_NOT_FOUND)
		goto out;
	c->have_pk = r == BG_OK;
	if ((r = bg_treelog_size(v, &c->size)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	if (r != BG_OK && v != NULL)
		setmsg(msg, msglen, "current vault %s: %s", path,
		    bg_vault_errmsg(v));
	bg_vault_close(&v);
	return r;
}

/*
 * Nobody else may have the current vault open while it is replaced: a
 * command holding it would go on writing to the old file and, when it
 * ends, remove the new file's WAL by name.  SQLite's exclusive lock
 * tells: it is refused while any other connection has the file open in
 * WAL mode.  Taking it also folds the old file's WAL into the old file,
 * which is kept.  A file too damaged to be locked is what a restore is
 * for: only "in use" refuses.  (A command that opens the vault in the
 * moment between this and the rename is not seen.)
 */
static int
vault_alone(const char *path, char *msg, size_t msglen)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK) {
		(void)sqlite3_busy_timeout(db, 1000);
		rc = sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE; "
		    "BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_schema; "
		    "COMMIT", NULL, NULL, NULL);
	}
	(void)sqlite3_close_v2(db);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		setmsg(msg, msglen, "another vault command has %s open: let "
		    "it finish (and the timer's vault check) and run restore "
		    "again; nothing was changed", path);
		return BG_ERR_DB_BUSY;
	}
	return BG_OK;
}

/* Verify the candidate (a copy of the backup) before it replaces path. */
static int
check_candidate(const char *tmp, const cur_vault_t *c, const char *receipt,
    bool force, const bg_vault_signer_t *by, const char *from,
    bg_vault_log_head_t *h, char *msg, size_t msglen)
{
	bool checked = false;
	bg_vault_t *b = NULL;
	bg_treelog_cursor_t cur;
	uint8_t pk[32];
	uint64_t size = 0;
	int64_t n = 0, bad = 0;
	int r = BG_ERR_INTERNAL;

	bg_treelog_cursor_init(&cur, NULL);
	if ((r = bg_vault_open_msg(tmp, &b, msg, msglen)) != BG_OK)
		goto out;
	cur.v = b;
	if ((r = bg_store_integrity(b, true)) != BG_OK)
		goto fail;
	if ((r = bg_treelog_pinned_key(b, pk)) != BG_OK) {
		r = bg_vault_fail(b, BG_ERR_AUTH, "the backup has no pinned "
		    "signing key: it cannot be checked");
		goto fail;
	}
	if (c->exists && c->id[0] != '\0' && strcmp(c->id, b->id) != 0) {
		r = bg_vault_fail(b, BG_ERR_AUTH, "the backup is of vault %s, "
		    "not of the current vault %s", b->id, c->id);
		goto fail;
	}
	if (c->have_pk && memcmp(pk, c->pk, sizeof(pk)) != 0) { /* public: keys */
		r = bg_vault_fail(b, BG_ERR_AUTH, "the backup's signing key "
		    "is not the current vault's pinned key");
		goto fail;
	}
	if ((r = bg_vault_audit_verify(b, &n, &bad)) != BG_OK)
		goto fail;
	if ((r = bg_treelog_size(b, &size)) != BG_OK)
		goto fail;
	if (receipt != NULL &&
	    (r = bg_vault_log_check_receipt(b, receipt)) != BG_OK) {
		if (r == BG_ERR_AUTH)
			setmsg(msg, msglen, "the backup does not "
			    "extend receipt %s (it is older, or not this "
			    "vault's history): %s", receipt,
			    bg_vault_errmsg(b));
		else
			setmsg(msg, msglen, "%s", bg_vault_errmsg(b));
		goto out;
	}
	if (c->exists && c->id[0] != '\0' && c->size > size && !force) {
		r = bg_vault_fail(b, BG_ERR_STATE, "the backup has %llu "
		    "events and the current vault %llu: restoring it rolls "
		    "the log back (use --force to do that on purpose)",
		    (unsigned long long)size, (unsigned long long)c->size);
		goto fail;
	}
	/* A custodian of the restored vault signs the restore, into the
	 * copy before it replaces anything: the restored log says who. */
	if ((r = log_act(b, by, "restore", from, &checked)) != BG_OK)
		goto fail;
	if ((r = bg_vault_log_head(b, h)) != BG_OK)
		goto fail;
	r = BG_OK;
	goto out;
fail:
	setmsg(msg, msglen, "%s", bg_vault_errmsg(b));
out:
	bg_treelog_cursor_done(&cur);
	bg_vault_close(&b);
	return r;
}

int
bg_vault_restore(const char *path, const char *from, const char *receipt,
    bool force, const bg_vault_signer_t *by, bg_vault_log_head_t *h,
    char *msg, size_t msglen)
{
	cur_vault_t c;
	char tmp[PATH_MAX_BG], tmpkey[PATH_MAX_BG], before[PATH_MAX_BG];
	char fromkey[PATH_MAX_BG], key[PATH_MAX_BG], side[PATH_MAX_BG];
	char m[BG_VAULT_ERRMSG_MAX];
	struct stat sb;
	bool made_tmp = false, made_tmpkey = false;
	int fd = -1, r = BG_ERR_INTERNAL;

	if (path == NULL || from == NULL || h == NULL)
		return BG_ERR_INVALID_ARG;
	memset(h, 0, sizeof(*h));
	m[0] = '\0';
	if (by == NULL || by->person == NULL || by->tok == NULL) {
		setmsg(msg, msglen, "a restore is a custodian's signed act: "
		    "--as CUSTODIAN with their token");
		return BG_ERR_INVALID_ARG;
	}
	if ((r = suffixed(path, ".restore-XXXXXX", tmp, sizeof(tmp))) !=
	    BG_OK || (r = suffixed(path, ".before-restore", before,
	    sizeof(before))) != BG_OK ||
	    (r = suffixed(from, BG_TREELOG_KEY_SUFFIX, fromkey,
	    sizeof(fromkey))) != BG_OK ||
	    (r = suffixed(path, BG_TREELOG_KEY_SUFFIX, key, sizeof(key)))
	    != BG_OK)
		goto out;
	if (stat(from, &sb) != 0) {
		setmsg(m, sizeof(m), "%s: %s", from, strerror(errno));
		r = errno == ENOENT ? BG_ERR_NOT_FOUND : BG_ERR_IO;
		goto out;
	}
	if ((r = current_vault(path, &c, m, sizeof(m))) != BG_OK)
		goto out;
	if ((fd = mkstemp(tmp)) < 0) {
		setmsg(m, sizeof(m), "%s: %s", tmp, strerror(errno));
		r = BG_ERR_IO;
		goto out;
	}
	made_tmp = true;
	(void)close(fd);
	fd = -1;
	if ((r = copy_file(from, tmp, false, m, sizeof(m))) != BG_OK)
		goto out;
	/* The candidate signs nothing new, but give it its key so that a
	 * missing head can be signed while it is checked. */
	if ((r = suffixed(tmp, BG_TREELOG_KEY_SUFFIX, tmpkey,
	    sizeof(tmpkey))) != BG_OK)
		goto out;
	if (copy_file(stat(key, &sb) == 0 ? key : fromkey, tmpkey, true, m,
	    sizeof(m)) == BG_OK)
		made_tmpkey = true;
	m[0] = '\0';
	if ((r = check_candidate(tmp, &c, receipt, force, by, from, h, m,
	    sizeof(m)))
	    != BG_OK)
		goto out;
	if (c.exists && (r = vault_alone(path, m, sizeof(m))) != BG_OK)
		goto out;
	if (c.exists) {
		(void)unlink(before);
		if (link(path, before) != 0) {
			setmsg(m, sizeof(m), "%s: %s", before,
			    strerror(errno));
			r = BG_ERR_IO;
			goto out;
		}
	}
	if (rename(tmp, path) != 0) {
		setmsg(m, sizeof(m), "%s: %s", path, strerror(errno));
		r = BG_ERR_IO;
		goto out;
	}
	made_tmp = false;
	/* The old file's WAL and shared memory belong to the old file. */
	if (suffixed(path, "-wal", side, sizeof(side)) == BG_OK)
		(void)unlink(side);
	if (suffixed(path, "-shm", side, sizeof(side)) == BG_OK)
		(void)unlink(side);
	if (stat(key, &sb) != 0 && made_tmpkey) {
		if (rename(tmpkey, key) != 0) {
			setmsg(m, sizeof(m), "%s: %s", key,
			    strerror(errno));
			r = BG_ERR_IO;
			goto out;
		}
		made_tmpkey = false;
	}
	fsync_dir_of(path);
	r = BG_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	if (made_tmp) {
		(void)unlink(tmp);
		if (suffixed(tmp, "-wal", side, sizeof(side)) == BG_OK)
			(void)unlink(side);
		if (suffixed(tmp, "-shm", side, sizeof(side)) == BG_OK)
			(void)unlink(side);
	}
	if (made_tmpkey)
		(void)unlink(tmpkey);
	if (r != BG_OK)
		memset(h, 0, sizeof(*h));
	if (msg != NULL && msglen > 0)
		setmsg(msg, msglen, "%s", r == BG_OK ? "" : m[0] ?
		    m : bg_strerror(r));
	return r;
}
