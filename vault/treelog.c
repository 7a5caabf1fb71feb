/*
 * The audit log as an RFC 9162 transparency log: the frontier that makes
 * appends O(log n), signed tree heads, proofs over the events table, and
 * the vault's Ed25519 signing key (a 0600 file beside the vault file; see
 * docs/audit-log.md "The signing key" for why not inside the database).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "treelog.h"

#define KEY_MAGIC	"breakglass-signing-key-v1 "
#define KEY_FILE_MAX	256
#define FRONTIER_MAX	64

/* --- the signing key ----------------------------------------------------- */

int
bg_treelog_key_path(const char *path, char *buf, size_t cap)
{
	int n;

	if (path == NULL || buf == NULL || cap == 0)
		return BG_ERR_INVALID_ARG;
	n = snprintf(buf, cap, "%s%s", path, BG_TREELOG_KEY_SUFFIX);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return BG_ERR_RANGE;
	}
	return BG_OK;
}

static const char pinned_sql[] = "SELECT value FROM meta WHERE key = "
    "'log_public_key'";

int
bg_treelog_pinned_key(bg_vault_t *v, uint8_t pk[32])
{
	sqlite3_stmt *st = NULL;
	const char *hex;
	size_t bin = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(pk, 0, 32);
	if ((r = bg_store_cached(v, pinned_sql, &st)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "the vault has no "
		    "signing key yet");
		goto out;
	}
	hex = (const char *)sqlite3_column_text(st, 0);
	if (hex == NULL || strlen(hex) != 64 ||
	    sodium_hex2bin(pk, 32, hex, 64, NULL, &bin, NULL) != 0 ||
	    bin != 32) {
		memset(pk, 0, 32);
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "vault database: "
		    "malformed log_public_key");
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/*
 * Read the key file into buf and its seed into seed, both the caller's
 * sodium_malloc memory; buf is wiped before return, seed on failure.
 */
static int
key_load(bg_vault_t *v, const char *kpath, char buf[KEY_FILE_MAX],
    uint8_t seed[32])
{
	size_t got = 0, bin = 0, ml = strlen(KEY_MAGIC);
	ssize_t n;
	int fd = -1, r = BG_ERR_INTERNAL;

	if ((fd = open(kpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = bg_vault_fail(v, errno == ENOENT ? BG_ERR_NOT_FOUND :
		    BG_ERR_IO, "vault signing key %s: %s", kpath,
		    strerror(errno));
		goto out;
	}
	while (got < KEY_FILE_MAX - 1) {
		n = read(fd, buf + got, KEY_FILE_MAX - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = bg_vault_fail(v, BG_ERR_IO, "vault signing key "
			    "%s: %s", kpath, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (got < ml + 64 || strncmp(buf, KEY_MAGIC, ml) != 0 ||
	    sodium_hex2bin(seed, 32, buf + ml, 64, NULL, &bin, NULL) != 0 ||
	    bin != 32 || (got != ml + 64 && !(got == ml + 65 &&
	    buf[ml + 64] == '\n'))) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "vault signing key %s is "
		    "not a breakglass-signing-key-v1 file", kpath);
		goto out;
	}
	r = BG_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	sodium_memzero(buf, KEY_FILE_MAX);
	if (r != BG_OK)
		sodium_memzero(seed, 32);
	return r;
}

/* Write a new key file (O_EXCL, 0600, fsync'd). BG_ERR_EXISTS if present. */
static int
key_write(bg_vault_t *v, const char *kpath, const uint8_t *seed)
{
	char *buf = NULL;
	size_t ml = strlen(KEY_MAGIC), len = ml + 65, off = 0;
	ssize_t n;
	int fd = -1, r = BG_ERR_INTERNAL;

	if ((buf = sodium_malloc(KEY_FILE_MAX)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(buf, KEY_MAGIC, ml);
	sodium_bin2hex(buf + ml, 65, seed, 32);
	buf[ml + 64] = '\n';
	if ((fd = open(kpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		r = bg_vault_fail(v, errno == EEXIST ? BG_ERR_EXISTS :
		    BG_ERR_IO, "vault signing key %s: %s", kpath,
		    strerror(errno));
		goto out;
	}
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = bg_vault_fail(v, BG_ERR_IO, "vault signing key "
			    "%s: %s", kpath, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		r = bg_vault_fail(v, BG_ERR_IO, "vault signing key %s: %s",
		    kpath, strerror(errno));
		goto out;
	}
	r = BG_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	if (r != BG_OK && r != BG_ERR_EXISTS && fd >= 0)
		(void)unlink(kpath);
	sodium_free(buf);
	return r;
}

static int
pin_key(bg_vault_t *v, const uint8_t pk[32])
{
	sqlite3_stmt *st = NULL;
	char hex[65];
	bool own = !v->in_tx;
	int r = BG_ERR_INTERNAL;

	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	if (own && (r = bg_store_begin(v)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "INSERT INTO meta (key, value) "
	    "VALUES ('log_public_key', ?)", &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, hex)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if (own && (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	if (own && r != BG_OK)
		bg_store_rollback(v);
	return r;
}

/*
 * The secret key (sodium_malloc, 64 bytes) and public key: loaded from the
 * key file and checked against the pinned public key, or created when the
 * vault has none pinned yet.
 */
static int
key_get(bg_vault_t *v, uint8_t **skp, uint8_t pk[32])
{
	char kpath[4096];
	uint8_t pinned[32], *seed = NULL, *sk = NULL;
	char *buf = NULL;
	bool have_pin = false;
	int r = BG_ERR_INTERNAL;

	*skp = NULL;
	memset(pk, 0, 32);
	if ((r = bg_treelog_key_path(v->path, kpath, sizeof(kpath))) != BG_OK)
		goto out;
	r = bg_treelog_pinned_key(v, pinned);
	if (r != BG_OK && r != BG_ERR_NOT_FOUND)
		goto out;
	have_pin = r == BG_OK;
	/* One guarded region: first the secret key handed to the caller
	 * (so that its sodium_free(sk) releases it all), then the seed and
	 * the file's text, wiped before returning. */
	if ((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES + 32 +
	    KEY_FILE_MAX)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	seed = sk + crypto_sign_SECRETKEYBYTES;
	buf = (char *)(seed + 32);
	if (!have_pin) {
		randombytes_buf(seed, 32);
		r = key_write(v, kpath, seed);
		if (r == BG_ERR_EXISTS) {
			/* Left by an earlier attempt whose pinning did not
			 * commit: adopt it. */
			sodium_memzero(seed, 32);
			r = key_load(v, kpath, buf, seed);
		}
		if (r != BG_OK)
			goto out;
	} else if ((r = key_load(v, kpath, buf, seed)) != BG_OK) {
		if (r == BG_ERR_NOT_FOUND)
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "the vault's "
			    "signing key %s is missing (restore it from the "
			    "backup's .key file)", kpath);
		goto out;
	}
	if (crypto_sign_seed_keypair(pk, sk, seed) != 0) {
		r = bg_vault_fail(v, BG_ERR_CRYPTO, "signing key: key "
		    "derivation failed");
		goto out;
	}
	sodium_memzero(seed, 32);
	if (have_pin && memcmp(pk, pinned, 32) != 0) { /* public: public keys */
		r = bg_vault_fail(v, BG_ERR_AUTH, "the signing key %s is not "
		    "this vault's (its public key differs from the pinned "
		    "one)", kpath);
		goto out;
	}
	if (!have_pin && (r = pin_key(v, pk)) != BG_OK)
		goto out;
	*skp = sk;
	sk = NULL;
	r = BG_OK;
out:
	sodium_free(sk);	/* on failure: wipes the seed and text too */
	if (r != BG_OK)
		memset(pk, 0, 32);
	return r;
}

int
bg_vault_sign(bg_vault_t *v, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	uint8_t *sk = NULL, pk[32];
	int r = BG_ERR_INTERNAL;

	if (v == NULL || sig == NULL || (msg == NULL && len > 0))
		return BG_ERR_INVALID_ARG;
	memset(sig, 0, 64);
	if ((r = key_get(v, &sk, pk)) != BG_OK)
		goto out;
	if (crypto_sign_detached(sig, NULL, msg, len, sk) != 0) {
		memset(sig, 0, 64);
		r = bg_vault_fail(v, BG_ERR_CRYPTO, "signing failed");
		goto out;
	}
	r = BG_OK;
out:
	sodium_free(sk);	/* wipes */
	return r;
}

int
bg_vault_public_key(bg_vault_t *v, uint8_t pk[32])
{
	uint8_t *sk = NULL;
	int r;

	if (v == NULL || pk == NULL)
		return BG_ERR_INVALID_ARG;
	if ((r = bg_treelog_pinned_key(v, pk)) != BG_ERR_NOT_FOUND)
		return r;
	r = key_get(v, &sk, pk);
	sodium_free(sk);
	return r;
}

/* --- leaves ---------------------------------------------------------------- */

void
bg_treelog_cursor_init(bg_treelog_cursor_t *c, bg_vault_t *v)
{
	memset(c, 0, sizeof(*c));
	c->v = v;
}

void
bg_treelog_cursor_done(bg_treelog_cursor_t *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->st);
	c->st = NULL;
}

int
bg_treelog_leaf_get(void *ctx, uint64_t index, uint8_t out[BG_MERKLE_HASH_LEN])
{
	bg_treelog_cursor_t *c = ctx;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (c == NULL || c->v == NULL || index > INT64_MAX - 1)
		return BG_ERR_INVALID_ARG;
	if (c->st == NULL || c->next != index) {
		sqlite3_finalize(c->st);
		c->st = NULL;
		if ((r = bg_store_prepare(c->v, "SELECT seq, leaf FROM events "
		    "WHERE seq > ? ORDER BY seq", &c->st)) != BG_OK ||
		    (r = bg_store_bind_int(c->v, c->st, 1, (int64_t)index))
		    != BG_OK)
			goto out;
		c->next = index;
	}
	if ((r = bg_store_step(c->v, c->st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(c->v, BG_ERR_RANGE, "the log has no event "
		    "%llu", (unsigned long long)index + 1);
		goto out;
	}
	if (sqlite3_column_int64(c->st, 0) != (int64_t)index + 1 ||
	    sqlite3_column_bytes(c->st, 1) != BG_MERKLE_HASH_LEN) {
		r = bg_vault_fail(c->v, BG_ERR_DB_CORRUPT, "audit log: event "
		    "%llu is missing or malformed",
		    (unsigned long long)index + 1);
		goto out;
	}
	memcpy(out, sqlite3_column_blob(c->st, 1), BG_MERKLE_HASH_LEN);
	c->next = index + 1;
	r = BG_OK;
out:
	if (r != BG_OK) {
		sqlite3_finalize(c->st);
		c->st = NULL;
		memset(out, 0, BG_MERKLE_HASH_LEN);
	}
	return r;
}

static const char size_sql[] = "SELECT COALESCE(MAX(seq), 0) FROM events";

int
bg_treelog_size(bg_vault_t *v, uint64_t *sizep)
{
	int64_t n = 0;
	int r;

	*sizep = 0;
	if ((r = bg_store_int_cached(v, size_sql, 0, &n)) != BG_OK)
		return r;
	*sizep = n > 0 ? (uint64_t)n : 0;
	return BG_OK;
}

/* --- the frontier ---------------------------------------------------------- */

/*
 * The roots of the perfect subtrees of the binary decomposition of size,
 * largest (leftmost) first: one per bit set in size.
 */
typedef struct frontier {
	uint64_t	size;
	size_t		n;
	uint8_t		h[FRONTIER_MAX][BG_MERKLE_HASH_LEN];
} frontier_t;

static size_t
popcount64(uint64_t x)
{
	size_t n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

static void
frontier_push(frontier_t *f, const uint8_t leaf[BG_MERKLE_HASH_LEN])
{
	uint8_t node[BG_MERKLE_HASH_LEN];
	uint64_t s = f->size;

	memcpy(node, leaf, sizeof(node));
	while ((s & 1) != 0 && f->n > 0) {
		bg_merkle_node_hash(f->h[f->n - 1], node, node);
		f->n--;
		s >>= 1;
	}
	memcpy(f->h[f->n], node, sizeof(node));
	f->n++;
	f->size++;
}

static void
frontier_root(const frontier_t *f, uint8_t root[BG_MERKLE_HASH_LEN])
{
	size_t j;

	if (f->n == 0) {
		bg_merkle_empty_root(root);
		return;
	}
	memcpy(root, f->h[f->n - 1], BG_MERKLE_HASH_LEN);
	for (j = f->n - 1; j > 0; j--)
		bg_merkle_node_hash(f->h[j - 1], root, root);
}

static int frontier_write(bg_vault_t *, const frontier_t *);

/* Load the stored frontier; *okp false when there is none or it is bad. */
static int
frontier_load(bg_vault_t *v, frontier_t *f, bool *okp)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int64_t size;
	size_t len;
	int r = BG_ERR_INTERNAL;

	*okp = false;
	memset(f, 0, sizeof(*f));
	if (v->in_tx && v->txf_valid) {
		*f = *v->txf;
		*okp = true;
		return BG_OK;
	}
	if ((r = bg_store_cached(v, "SELECT size, frontier FROM tree_state "
	    "WHERE id = 1", &st)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	r = BG_OK;
	if (!row)
		goto out;
	size = sqlite3_column_int64(st, 0);
	len = (size_t)sqlite3_column_bytes(st, 1);
	if (size < 0 || len != popcount64((uint64_t)size) *
	    BG_MERKLE_HASH_LEN)
		goto out;
	f->size = (uint64_t)size;
	f->n = len / BG_MERKLE_HASH_LEN;
	if (len > 0)
		memcpy(f->h, sqlite3_column_blob(st, 1), len);
	*okp = true;
out:
	bg_store_done(st);
	return r;
}

/*
 * Inside a write transaction the frontier is kept in the handle and
 * written once, by bg_treelog_flush() at commit: per event that saves a
 * read and a rewrite of the tree_state row.
 */
static int
frontier_store(bg_vault_t *v, const frontier_t *f)
{
	if (!v->in_tx)
		return frontier_write(v, f);
	if (v->txf == NULL && (v->txf = malloc(sizeof(*v->txf))) == NULL)
		return BG_ERR_NOMEM;
	*v->txf = *f;
	v->txf_valid = v->txf_dirty = true;
	return BG_OK;
}

int
bg_treelog_flush(bg_vault_t *v)
{
	int r;

	if (!v->txf_dirty)
		return BG_OK;
	if ((r = frontier_write(v, v->txf)) == BG_OK)
		v->txf_dirty = false;
	return r;
}

static int
frontier_write(bg_vault_t *v, const frontier_t *f)
{
	sqlite3_stmt *st = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_cached(v, "INSERT OR REPLACE INTO tree_state "
	    "(id, size, frontier) VALUES (1, ?, ?)", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, (int64_t)f->size)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 2, f->h,
	    f->n * BG_MERKLE_HASH_LEN)) != BG_OK)
		goto out;
	r = bg_store_step_done(v, st);
out:
	bg_store_done(st);
	return r;
}

/* Rebuild the frontier of the first size events by one scan. */
static int
frontier_rebuild(bg_vault_t *v, uint64_t size, frontier_t *f)
{
	bg_treelog_cursor_t c;
	uint8_t leaf[BG_MERKLE_HASH_LEN];
	uint64_t i;
	int r = BG_OK;

	memset(f, 0, sizeof(*f));
	bg_treelog_cursor_init(&c, v);
	for (i = 0; i < size; i++) {
		if ((r = bg_treelog_leaf_get(&c, i, leaf)) != BG_OK)
			break;
		frontier_push(f, leaf);
	}
	bg_treelog_cursor_done(&c);
	return r;
}

int
bg_treelog_check_tip(bg_vault_t *v)
{
	bg_treehead_t th;
	frontier_t *f = NULL;
	uint8_t pk[32], root[BG_MERKLE_HASH_LEN];
	uint64_t n = 0;
	int64_t size = 0, bad = 0;
	bool ok = false;
	int r = BG_ERR_INTERNAL;

	if (v->tip_checked)
		return BG_OK;
	if ((r = bg_treelog_latest(v, &th)) != BG_OK) {
		if (r != BG_ERR_NOT_FOUND)
			goto out;
		/* nothing signed yet: nothing to extend */
		bg_vault_clear_err(v);
		r = BG_OK;
		goto done;
	}
	if ((r = bg_treelog_pinned_key(v, pk)) != BG_OK)
		goto out;
	if (bg_treehead_verify(&th, pk) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the newest signed tree head "
		    "(size %llu) does not verify with the vault's key",
		    (unsigned long long)th.size);
		goto out;
	}
	if ((f = malloc(sizeof(*f))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = frontier_load(v, f, &ok)) != BG_OK ||
	    (r = bg_treelog_size(v, &n)) != BG_OK)
		goto out;
	if (ok && f->size == th.size && n == th.size) {
		frontier_root(f, root);
		if (sodium_memcmp(root, th.root, sizeof(root)) != 0) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the stored Merkle "
			    "tree does not match the newest signed tree head "
			    "(size %llu)", (unsigned long long)th.size);
			goto out;
		}
		r = BG_OK;
		goto done;
	}
	/*
	 * The log grew past its newest head (a change made while the key
	 * file was missing) or the stored tree state is off: check it all.
	 */
	if ((r = bg_vault_audit_verify(v, &size, &bad)) != BG_OK)
		goto out;
done:
	v->tip_checked = true;
out:
	free(f);
	return r;
}

int
bg_treelog_append(bg_vault_t *v, int64_t seq,
    const uint8_t leaf[BG_MERKLE_HASH_LEN])
{
	frontier_t *f = NULL;
	bool ok = false;
	int r = BG_ERR_INTERNAL;

	if (seq < 1)
		return BG_ERR_INVALID_ARG;
	if ((f = malloc(sizeof(*f))) == NULL)
		return BG_ERR_NOMEM;
	if ((r = frontier_load(v, f, &ok)) != BG_OK)
		goto out;
	if (ok && f->size == (uint64_t)seq - 1)
		frontier_push(f, leaf);
	else if ((r = frontier_rebuild(v, (uint64_t)seq, f)) != BG_OK)
		goto out;
	if ((r = frontier_store(v, f)) != BG_OK)
		goto out;
	/* A new vault gets its key and first signed head with its first
	 * event, so that the key can be written down from day one. */
	if (seq == 1)
		r = bg_treelog_seal(v, NULL);
out:
	free(f);
	return r;
}

int
bg_treelog_root(bg_vault_t *v, uint64_t size, uint8_t root[BG_MERKLE_HASH_LEN])
{
	bg_treelog_cursor_t c;
	frontier_t *f = NULL;
	uint64_t n = 0;
	bool ok = false;
	int r = BG_ERR_INTERNAL;

	memset(root, 0, BG_MERKLE_HASH_LEN);
	bg_treelog_cursor_init(&c, v);
	if ((r = bg_treelog_size(v, &n)) != BG_OK)
		goto out;
	if (size > n) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the log has %llu events, "
		    "fewer than %llu", (unsigned long long)n,
		    (unsigned long long)size);
		goto out;
	}
	if ((f = malloc(sizeof(*f))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = frontier_load(v, f, &ok)) != BG_OK)
		goto out;
	if (ok && f->size == size) {
		frontier_root(f, root);
		r = BG_OK;
		goto out;
	}
	r = bg_merkle_root(bg_treelog_leaf_get, &c, size, root);
out:
	bg_treelog_cursor_done(&c);
	free(f);
	return r;
}

/* --- tree heads ------------------------------------------------------------ */

static int
head_from_row(bg_vault_t *v, sqlite3_stmt *st, bg_treehead_t *th)
{
	memset(th, 0, sizeof(*th));
	if (sqlite3_column_int64(st, 0) < 0 ||
	    sqlite3_column_bytes(st, 2) != BG_MERKLE_HASH_LEN ||
	    sqlite3_column_bytes(st, 3) != BG_TREEHEAD_SIG_LEN)
		return bg_vault_fail(v, BG_ERR_DB_CORRUPT, "vault database: "
		    "malformed tree head at size %lld",
		    (long long)sqlite3_column_int64(st, 0));
	(void)snprintf(th->vault_id, sizeof(th->vault_id), "%s", v->id);
	th->size = (uint64_t)sqlite3_column_int64(st, 0);
	th->time = sqlite3_column_int64(st, 1);
	memcpy(th->root, sqlite3_column_blob(st, 2), BG_MERKLE_HASH_LEN);
	memcpy(th->sig, sqlite3_column_blob(st, 3), BG_TREEHEAD_SIG_LEN);
	return BG_OK;
}

int
bg_treelog_latest(bg_vault_t *v, bg_treehead_t *th)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(th, 0, sizeof(*th));
	if ((r = bg_store_prepare(v, "SELECT size, time, root, sig FROM "
	    "tree_heads ORDER BY size DESC LIMIT 1", &st)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "the vault has no "
		    "signed tree head yet");
		goto out;
	}
	r = head_from_row(v, st, th);
out:
	sqlite3_finalize(st);
	return r;
}

int
bg_treelog_seal(bg_vault_t *v, bg_treehead_t *thp)
{
	sqlite3_stmt *st = NULL;
	bg_treehead_t th, last;
	uint8_t msg[BG_TREEHEAD_MSG_LEN];
	uint64_t n = 0;
	bool own = !v->in_tx, have_last = false;
	int r = BG_ERR_INTERNAL;

	if (thp != NULL)
		memset(thp, 0, sizeof(*thp));
	memset(&th, 0, sizeof(th));
	if (own && (r = bg_store_begin(v)) != BG_OK)
		goto out;
	if ((r = bg_treelog_size(v, &n)) != BG_OK)
		goto out;
	r = bg_treelog_latest(v, &last);
	if (r != BG_OK && r != BG_ERR_NOT_FOUND)
		goto out;
	have_last = r == BG_OK;
	bg_vault_clear_err(v);
	if (n == 0 || (have_last && last.size >= n)) {
		/* nothing to sign: nothing to commit (a commit would cost
		 * the whole file's check, store.c) */
		th = last;
		r = have_last ? BG_OK : bg_vault_fail(v, BG_ERR_NOT_FOUND,
		    "the log is empty");
		if (own)
			bg_store_rollback(v);
		own = false;
		goto done;
	}
	(void)snprintf(th.vault_id, sizeof(th.vault_id), "%s", v->id);
	th.size = n;
	th.time = bg_vault_read_now(v);
	if (have_last && th.time < last.time)
		th.time = last.time;
	if ((r = bg_treelog_root(v, n, th.root)) != BG_OK ||
	    (r = bg_treehead_message(&th, msg)) != BG_OK ||
	    (r = bg_vault_sign(v, msg, sizeof(msg), th.sig)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "INSERT INTO tree_heads (size, time, "
	    "root, sig) VALUES (?, ?, ?, ?)", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, (int64_t)th.size)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, th.time)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 3, th.root, sizeof(th.root)))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 4, th.sig, sizeof(th.sig)))
	    != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	r = BG_OK;
done:
	if (r == BG_OK && own && (r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (r == BG_OK && thp != NULL)
		*thp = th;
out:
	sqlite3_finalize(st);
	if (own && r != BG_OK)
		bg_store_rollback(v);
	return r;
}

/* --- proofs ---------------------------------------------------------------- */

int
bg_treelog_inclusion_proof(bg_vault_t *v, uint64_t index, uint64_t size,
    uint8_t *proof, size_t cap, size_t *lenp)
{
	bg_treelog_cursor_t c;
	int r;

	bg_treelog_cursor_init(&c, v);
	r = bg_merkle_inclusion_proof(bg_treelog_leaf_get, &c, index, size,
	    proof, cap, lenp);
	bg_treelog_cursor_done(&c);
	return r;
}

int
bg_treelog_consistency_proof(bg_vault_t *v, uint64_t first, uint64_t second,
    uint8_t *proof, size_t cap, size_t *lenp)
{
	bg_treelog_cursor_t c;
	int r;

	bg_treelog_cursor_init(&c, v);
	r = bg_merkle_consistency_proof(bg_treelog_leaf_get, &c, first, second,
	    proof, cap, lenp);
	bg_treelog_cursor_done(&c);
	return r;
}

int
bg_treelog_frontier(bg_vault_t *v, uint64_t size, uint8_t *out, size_t cap,
    size_t *np)
{
	bg_treelog_cursor_t c;
	int r;

	bg_treelog_cursor_init(&c, v);
	r = bg_merkle_frontier(bg_treelog_leaf_get, &c, size, out, cap, np);
	bg_treelog_cursor_done(&c);
	return r;
}

/* --- public: heads, receipts, proofs, export -------------------------------- */

static int
head_fill(bg_vault_t *v, const bg_treehead_t *th, bg_vault_log_head_t *h)
{
	uint8_t pk[32];
	int r;

	memset(h, 0, sizeof(*h));
	h->size = th->size;
	h->time = th->time;
	memcpy(h->root, th->root, sizeof(h->root));
	memcpy(h->sig, th->sig, sizeof(h->sig));
	if ((r = bg_treehead_format(th, h->text, sizeof(h->text))) != BG_OK ||
	    (r = bg_receipt_format(th->size, th->root, h->receipt,
	    sizeof(h->receipt))) != BG_OK ||
	    (r = bg_treelog_pinned_key(v, pk)) != BG_OK)
		return r;
	sodium_bin2hex(h->public_key, sizeof(h->public_key), pk, sizeof(pk));
	return BG_OK;
}

int
bg_vault_log_head(bg_vault_t *v, bg_vault_log_head_t *h)
{
	bg_treehead_t th;
	int r;

	if (v == NULL || h == NULL)
		return BG_ERR_INVALID_ARG;
	memset(h, 0, sizeof(*h));
	bg_vault_clear_err(v);
	if ((r = bg_treelog_seal(v, &th)) != BG_OK ||
	    (r = head_fill(v, &th, h)) != BG_OK)
		memset(h, 0, sizeof(*h));
	return bg_vault_fail_default(v, r);
}

int
bg_vault_log_check_receipt(bg_vault_t *v, const char *line)
{
	bg_treelog_cursor_t c;
	bg_receipt_t rc;
	char why[BG_TREEHEAD_WHY_MAX];
	uint64_t n = 0;
	int64_t size = 0, bad = 0;
	int r = BG_ERR_INTERNAL;

	if (v == NULL || line == NULL)
		return BG_ERR_INVALID_ARG;
	bg_vault_clear_err(v);
	bg_treelog_cursor_init(&c, v);
	if (bg_receipt_parse(line, &rc, why, sizeof(why)) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "receipt '%s': %s", line,
		    why);
		goto out;
	}
	if ((r = bg_treelog_size(v, &n)) != BG_OK)
		goto out;
	if (n < rc.size) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the log has %llu events but "
		    "the receipt covers %llu (truncated, or restored from an "
		    "older copy)", (unsigned long long)n,
		    (unsigned long long)rc.size);
		goto out;
	}
	if ((r = bg_vault_audit_verify(v, &size, &bad)) != BG_OK)
		goto out;
	r = bg_receipt_check(&rc, n, bg_treelog_leaf_get, &c);
	if (r == BG_ERR_AUTH) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the first %llu events do "
		    "not match the receipt (an event up to %llu was edited, "
		    "removed or reordered, or this is another vault's log)",
		    (unsigned long long)rc.size, (unsigned long long)rc.size);
		goto out;
	}
out:
	bg_treelog_cursor_done(&c);
	return bg_vault_fail_default(v, r);
}

/* The signed head stored at exactly size, if any (*found). */
static int
head_at(bg_vault_t *v, uint64_t size, bg_treehead_t *th, bool *found)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*found = false;
	memset(th, 0, sizeof(*th));
	if ((r = bg_store_prepare(v, "SELECT size, time, root, sig FROM "
	    "tree_heads WHERE size = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, (int64_t)size)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		if ((r = head_from_row(v, st, th)) != BG_OK)
			goto out;
		*found = true;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* Append "<key>: <value>\n" to a growing malloc'd string. */
static int
put(char **sp, size_t *lenp, const char *key, const char *val)
{
	size_t add = strlen(key) + strlen(val) + 3;
	char *ns;

	if ((ns = realloc(*sp, *lenp + add + 1)) == NULL)
		return BG_ERR_NOMEM;
	*sp = ns;
	(void)snprintf(ns + *lenp, add + 1, "%s: %s\n", key, val);
	*lenp += add;
	return BG_OK;
}

static int
put_u(char **sp, size_t *lenp, const char *key, uint64_t x)
{
	char b[32];

	(void)snprintf(b, sizeof(b), "%llu", (unsigned long long)x);
	return put(sp, lenp, key, b);
}

static int
put_hash(char **sp, size_t *lenp, const char *key, const uint8_t *h)
{
	char b[2 * BG_MERKLE_HASH_LEN + 1];

	sodium_bin2hex(b, sizeof(b), h, BG_MERKLE_HASH_LEN);
	return put(sp, lenp, key, b);
}

/* size, root and (when one is stored at that size) the signed head. */
static int
put_tree(bg_vault_t *v, char **sp, size_t *lenp, const char *pfx,
    uint64_t size)
{
	bg_treehead_t th;
	bg_treelog_cursor_t c;
	uint8_t root[BG_MERKLE_HASH_LEN];
	char key[32], text[BG_TREEHEAD_TEXT_MAX];
	bool found = false;
	int r = BG_ERR_INTERNAL;

	bg_treelog_cursor_init(&c, v);
	if ((r = bg_merkle_root(bg_treelog_leaf_get, &c, size, root))
	    != BG_OK)
		goto out;
	(void)snprintf(key, sizeof(key), "%ssize", pfx);
	if ((r = put_u(sp, lenp, key, size)) != BG_OK)
		goto out;
	(void)snprintf(key, sizeof(key), "%sroot", pfx);
	if ((r = put_hash(sp, lenp, key, root)) != BG_OK)
		goto out;
	if ((r = head_at(v, size, &th, &found)) != BG_OK)
		goto out;
	if (found) {
		if ((r = bg_treehead_format(&th, text, sizeof(text))) != BG_OK)
			goto out;
		(void)snprintf(key, sizeof(key), "%shead", pfx);
		if ((r = put(sp, lenp, key, text)) != BG_OK)
			goto out;
	}
	r = BG_OK;
out:
	bg_treelog_cursor_done(&c);
	return r;
}

static int
proof_start(bg_vault_t *v, const char *kind, char **sp, size_t *lenp)
{
	uint8_t pk[32];
	char hex[65];
	int r;

	if ((r = put(sp, lenp, "bg-proof-v1", kind)) != BG_OK ||
	    (r = put(sp, lenp, "vault", v->id)) != BG_OK)
		return r;
	if (bg_treelog_pinned_key(v, pk) == BG_OK) {
		sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
		if ((r = put(sp, lenp, "public-key", hex)) != BG_OK)
			return r;
	}
	bg_vault_clear_err(v);
	return BG_OK;
}

/* The size to prove against: the given one, else the newest head's. */
static int
proof_size(bg_vault_t *v, uint64_t want, uint64_t *sizep)
{
	bg_treehead_t th;
	uint64_t n = 0;
	int r;

	*sizep = 0;
	if ((r = bg_treelog_size(v, &n)) != BG_OK)
		return r;
	if (want == 0) {
		if ((r = bg_treelog_seal(v, &th)) != BG_OK)
			return r;
		want = th.size;
	}
	if (want > n)
		return bg_vault_fail(v, BG_ERR_RANGE, "the log has %llu "
		    "events, fewer than %llu", (unsigned long long)n,
		    (unsigned long long)want);
	*sizep = want;
	return BG_OK;
}

static int
put_path(char **sp, size_t *lenp, const uint8_t *proof, size_t len)
{
	size_t i;
	int r;

	for (i = 0; i < len; i++)
		if ((r = put_hash(sp, lenp, "path",
		    proof + i * BG_MERKLE_HASH_LEN)) != BG_OK)
			return r;
	return BG_OK;
}

int
bg_vault_log_inclusion_proof(bg_vault_t *v, int64_t seq, uint64_t size,
    char **textp)
{
	bg_treelog_cursor_t c;
	uint8_t *proof = NULL, leaf[BG_MERKLE_HASH_LEN];
	char *s = NULL;
	size_t len = 0, plen = 0;
	int r = BG_ERR_INTERNAL;

	if (v == NULL || textp == NULL)
		return BG_ERR_INVALID_ARG;
	*textp = NULL;
	bg_vault_clear_err(v);
	bg_treelog_cursor_init(&c, v);
	if ((r = proof_size(v, size, &size)) != BG_OK)
		goto out;
	if (seq < 1 || (uint64_t)seq > size) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "event %lld is not "
		    "in the tree of %llu events", (long long)seq,
		    (unsigned long long)size);
		goto out;
	}
	if ((proof = calloc(BG_MERKLE_MAX_PROOF, BG_MERKLE_HASH_LEN)) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_treelog_leaf_get(&c, (uint64_t)seq - 1, leaf)) != BG_OK ||
	    (r = bg_treelog_inclusion_proof(v, (uint64_t)seq - 1, size, proof,
	    BG_MERKLE_MAX_PROOF, &plen)) != BG_OK)
		goto out;
	if ((r = proof_start(v, "inclusion", &s, &len)) != BG_OK ||
	    (r = put_u(&s, &len, "event", (uint64_t)seq)) != BG_OK ||
	    (r = put_hash(&s, &len, "leaf", leaf)) != BG_OK ||
	    (r = put_tree(v, &s, &len, "", size)) != BG_OK ||
	    (r = put_path(&s, &len, proof, plen)) != BG_OK)
		goto out;
	*textp = s;
	s = NULL;
	r = BG_OK;
out:
	bg_treelog_cursor_done(&c);
	free(proof);
	free(s);
	return bg_vault_fail_default(v, r);
}

int
bg_vault_log_consistency_proof(bg_vault_t *v, uint64_t first, uint64_t second,
    char **textp)
{
	uint8_t *proof = NULL;
	char *s = NULL;
	size_t len = 0, plen = 0;
	int r = BG_ERR_INTERNAL;

	if (v == NULL || textp == NULL)
		return BG_ERR_INVALID_ARG;
	*textp = NULL;
	bg_vault_clear_err(v);
	if ((r = proof_size(v, second, &second)) != BG_OK)
		goto out;
	if (first < 1 || first > second) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "cannot prove size "
		    "%llu consistent with size %llu",
		    (unsigned long long)first, (unsigned long long)second);
		goto out;
	}
	if ((proof = calloc(BG_MERKLE_MAX_PROOF, BG_MERKLE_HASH_LEN)) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_treelog_consistency_proof(v, first, second, proof,
	    BG_MERKLE_MAX_PROOF, &plen)) != BG_OK)
		goto out;
	if ((r = proof_start(v, "consistency", &s, &len)) != BG_OK ||
	    (r = put_tree(v, &s, &len, "from-", first)) != BG_OK ||
	    (r = put_tree(v, &s, &len, "to-", second)) != BG_OK ||
	    (r = put_path(&s, &len, proof, plen)) != BG_OK)
		goto out;
	*textp = s;
	s = NULL;
	r = BG_OK;
out:
	free(proof);
	free(s);
	return bg_vault_fail_default(v, r);
}

/* --- offline proof check ----------------------------------------------------- */

typedef struct proof_doc {
	int		 kind;		/* 1 inclusion, 2 consistency */
	char		 vault[BG_TREEHEAD_VAULT_ID_LEN + 1];
	bool		 have_pk;
	uint8_t		 pk[32];
	uint64_t	 event;
	uint8_t		 leaf[BG_MERKLE_HASH_LEN];
	uint64_t	 size[2];
	uint8_t		 root[2][BG_MERKLE_HASH_LEN];
	bool		 have_head[2];
	bg_treehead_t	 head[2];
	unsigned	 seen;		/* bit per key */
	uint8_t		 path[BG_MERKLE_MAX_PROOF][BG_MERKLE_HASH_LEN];
	size_t		 npath;
} proof_doc_t;

static int
doc_fail(char *msg, size_t msglen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
doc_fail(char *msg, size_t msglen, int r, const char *fmt, ...)
{
	va_list ap;

	if (msg != NULL && msglen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
		/* It quotes the proof file (tests/fuzz/fuzz_prooffile.c). */
		bg_text_defang(msg);
	}
	return r;
}

static bool
hex32(const char *s, uint8_t out[32])
{
	size_t bin = 0;
	size_t i;

	if (strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return false;
	return sodium_hex2bin(out, 32, s, 64, NULL, &bin, NULL) == 0 &&
	    bin == 32;
}

static bool
dec(const char *s, uint64_t *xp)
{
	uint64_t x = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*xp = x;
	return x <= INT64_MAX;
}

static const char *const doc_keys[] = {
	"bg-proof-v1", "vault", "public-key", "event", "leaf", "size", "root",
	"head", "from-size", "from-root", "from-head", "to-size", "to-root",
	"to-head", "path",
};

static int
doc_line(proof_doc_t *d, char *line, size_t lineno, char *msg, size_t msglen)
{
	char *val, why[BG_TREEHEAD_WHY_MAX];
	size_t k, nk = sizeof(doc_keys) / sizeof(doc_keys[0]);
	int slot;

	if ((val = strstr(line, ": ")) == NULL)
		return doc_fail(msg, msglen, BG_ERR_PARSE, "proof line %zu: "
		    "expected 'key: value'", lineno);
	*val = '\0';
	val += 2;
	for (k = 0; k < nk; k++)
		if (strcmp(line, doc_keys[k]) == 0)
			break;
	if (k == nk)
		return doc_fail(msg, msglen, BG_ERR_PARSE, "proof line %zu: "
		    "unknown key '%s'", lineno, line);
	if (lineno == 1 && k != 0)
		return doc_fail(msg, msglen, BG_ERR_PARSE, "not a breakglass "
		    "proof (the first line must be 'bg-proof-v1: ...')");
	if (k != nk - 1 && (d->seen & (1u << k)) != 0)
		return doc_fail(msg, msglen, BG_ERR_PARSE, "proof line %zu: "
		    "'%s' given twice", lineno, line);
	d->seen |= 1u << k;
	slot = strncmp(line, "to-", 3) == 0 ? 1 : 0;
	switch (k) {
	case 0:
		if (strcmp(val, "inclusion") == 0)
			d->kind = 1;
		else if (strcmp(val, "consistency") == 0)
			d->kind = 2;
		else
			return doc_fail(msg, msglen, BG_ERR_PARSE, "unknown "
			    "proof kind '%s'", val);
		return BG_OK;
	case 1:
		if (strlen(val) != BG_TREEHEAD_VAULT_ID_LEN ||
		    strspn(val, "0123456789abcdef") != BG_TREEHEAD_VAULT_ID_LEN)
			break;
		(void)snprintf(d->vault, sizeof(d->vault), "%s", val);
		return BG_OK;
	case 2:
		if (!hex32(val, d->pk))
			break;
		d->have_pk = true;
		return BG_OK;
	case 3:
		if (!dec(val, &d->event))
			break;
		return BG_OK;
	case 4:
		if (!hex32(val, d->leaf))
			break;
		return BG_OK;
	case 5: case 8: case 11:
		if (!dec(val, &d->size[slot]))
			break;
		return BG_OK;
	case 6: case 9: case 12:
		if (!hex32(val, d->root[slot]))
			break;
		return BG_OK;
	case 7: case 10: case 13:
		if (bg_treehead_parse(val, &d->head[slot], why, sizeof(why))
		    != BG_OK)
			return doc_fail(msg, msglen, BG_ERR_PARSE, "proof line "
			    "%zu: %s", lineno, why);
		d->have_head[slot] = true;
		return BG_OK;
	default:
		if (d->npath == BG_MERKLE_MAX_PROOF)
			return doc_fail(msg, msglen, BG_ERR_PARSE, "proof "
			    "line %zu: too many path elements", lineno);
		if (!hex32(val, d->path[d->npath]))
			break;
		d->npath++;
		return BG_OK;
	}
	return doc_fail(msg, msglen, BG_ERR_PARSE, "proof line %zu: bad "
	    "value for '%s'", lineno, line);
}

/* A head in the document must match its size and root and be signed. */
static int
doc_head(const proof_doc_t *d, int slot, const uint8_t pk[32], char *msg,
    size_t msglen)
{
	const bg_treehead_t *th = &d->head[slot];
	bool same_root;

	if (!d->have_head[slot])
		return BG_OK;
	same_root = memcmp(th->root, d->root[slot], 32) == 0; /* public: roots */

	if (th->size != d->size[slot] || !same_root ||
	    strcmp(th->vault_id, d->vault) != 0)
		return doc_fail(msg, msglen, BG_ERR_AUTH, "the tree head in "
		    "the proof is not the one the proof is about (size, root "
		    "or vault differ)");
	if (bg_treehead_verify(th, pk) != BG_OK)
		return doc_fail(msg, msglen, BG_ERR_AUTH, "the tree head at "
		    "size %llu is not signed by the vault's key",
		    (unsigned long long)th->size);
	return BG_OK;
}

int
bg_vault_log_verify_proof(const char *text, const char *pk_hex,
    bool *pinnedp, char *msg, size_t msglen)
{
	proof_doc_t *d = NULL;
	char *copy = NULL, *line, *save = NULL;
	uint8_t pk[32];
	size_t lineno = 0;
	unsigned need;
	int r = BG_ERR_INTERNAL;

	if (pinnedp != NULL)
		*pinnedp = false;
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (text == NULL)
		return BG_ERR_INVALID_ARG;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (copy = strdup(text)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if ((r = doc_line(d, line, lineno, msg, msglen)) != BG_OK)
			goto out;
	}
	if (d->kind == 1)
		need = (1u << 0) | (1u << 1) | (1u << 3) | (1u << 4) |
		    (1u << 5) | (1u << 6);
	else
		need = (1u << 0) | (1u << 1) | (1u << 8) | (1u << 9) |
		    (1u << 11) | (1u << 12);
	if (d->kind == 0 || (d->seen & need) != need) {
		r = doc_fail(msg, msglen, BG_ERR_PARSE, "the proof is "
		    "incomplete (a required line is missing)");
		goto out;
	}
	if (pk_hex != NULL) {
		if (!hex32(pk_hex, pk)) {
			r = doc_fail(msg, msglen, BG_ERR_INVALID_ARG, "the "
			    "public key must be 64 lower-case hex digits");
			goto out;
		}
		if (pinnedp != NULL)
			*pinnedp = true;
	} else if (d->have_pk) {
		memcpy(pk, d->pk, sizeof(pk));
	} else if (d->have_head[0] || d->have_head[1]) {
		r = doc_fail(msg, msglen, BG_ERR_PARSE, "the proof names no "
		    "public key: give the vault's key");
		goto out;
	}
	if ((r = doc_head(d, 0, pk, msg, msglen)) != BG_OK ||
	    (r = doc_head(d, 1, pk, msg, msglen)) != BG_OK)
		goto out;
	if (d->kind == 1) {
		if (d->event < 1 || d->event > d->size[0]) {
			r = doc_fail(msg, msglen, BG_ERR_AUTH, "event %llu is "
			    "not in a tree of %llu events",
			    (unsigned long long)d->event,
			    (unsigned long long)d->size[0]);
			goto out;
		}
		if (bg_merkle_verify_inclusion(d->event - 1, d->size[0],
		    d->leaf, d->path[0], d->npath, d->root[0]) != BG_OK) {
			r = doc_fail(msg, msglen, BG_ERR_AUTH, "the inclusion "
			    "proof of event %llu in the tree of %llu events "
			    "does not verify", (unsigned long long)d->event,
			    (unsigned long long)d->size[0]);
			goto out;
		}
		r = doc_fail(msg, msglen, BG_OK, "event %llu is in the log of "
		    "%llu events with root %02x%02x%02x%02x...%s",
		    (unsigned long long)d->event,
		    (unsigned long long)d->size[0], d->root[0][0],
		    d->root[0][1], d->root[0][2], d->root[0][3],
		    d->have_head[0] ? " (signed tree head verified)" : "");
		goto out;
	}
	if (bg_merkle_verify_consistency(d->size[0], d->size[1], d->root[0],
	    d->root[1], d->path[0], d->npath) != BG_OK) {
		r = doc_fail(msg, msglen, BG_ERR_AUTH, "the log of %llu events "
		    "is not proven to extend the log of %llu events (the "
		    "consistency proof does not verify)",
		    (unsigned long long)d->size[1],
		    (unsigned long long)d->size[0]);
		goto out;
	}
	r = doc_fail(msg, msglen, BG_OK, "the log of %llu events extends the "
	    "log of %llu events%s", (unsigned long long)d->size[1],
	    (unsigned long long)d->size[0],
	    d->have_head[0] || d->have_head[1] ?
	    " (signed tree heads verified)" : "");
out:
	if (copy != NULL)
		free(copy);
	free(d);
	return r;
}

/* --- export ------------------------------------------------------------------ */

static int
jline(bg_vault_t *v, FILE *f, json_t *o)
{
	char *s = NULL;
	int r = BG_ERR_INTERNAL;

	if (o == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (fprintf(f, "%s\n", s) < 0) {
		r = bg_vault_fail(v, BG_ERR_IO, "export: write failed");
		goto out;
	}
	r = BG_OK;
out:
	free(s);
	json_decref(o);
	return r;
}

int
bg_vault_log_export(bg_vault_t *v, const char *path, int64_t *neventsp,
    int64_t *nheadsp)
{
	bg_vault_log_head_t h;
	bg_treehead_t th;
	sqlite3_stmt *st = NULL;
	char text[BG_TREEHEAD_TEXT_MAX], hex[2 * BG_MERKLE_HASH_LEN + 1];
	FILE *f = NULL;
	int64_t ne = 0, nh = 0;
	bool row = false;
	int fd = -1, r = BG_ERR_INTERNAL;

	if (neventsp != NULL)
		*neventsp = 0;
	if (nheadsp != NULL)
		*nheadsp = 0;
	if (v == NULL || path == NULL)
		return BG_ERR_INVALID_ARG;
	if ((r = bg_vault_log_head(v, &h)) != BG_OK)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		r = bg_vault_fail(v, errno == EEXIST ? BG_ERR_EXISTS :
		    BG_ERR_IO, "%s: %s", path, errno == EEXIST ? "already "
		    "exists; refusing to overwrite it" : strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		r = bg_vault_fail(v, BG_ERR_IO, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if ((r = jline(v, f, json_pack("{s:s, s:i, s:s, s:s, s:I, s:s}",
	    "format", "breakglass-audit-export", "version", 1, "vault", v->id,
	    "public_key", h.public_key, "size", (json_int_t)h.size,
	    "tree_head", h.text))) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT seq, entry, leaf FROM events "
	    "ORDER BY seq", &st)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if (sqlite3_column_bytes(st, 2) != BG_MERKLE_HASH_LEN) {
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "export: event "
			    "%lld has a malformed leaf hash",
			    (long long)sqlite3_column_int64(st, 0));
			goto out;
		}
		sodium_bin2hex(hex, sizeof(hex), sqlite3_column_blob(st, 2),
		    BG_MERKLE_HASH_LEN);
		if ((r = jline(v, f, json_pack("{s:s, s:I, s:s, s:s}", "type",
		    "event", "seq", (json_int_t)sqlite3_column_int64(st, 0),
		    "entry", (const char *)sqlite3_column_text(st, 1),
		    "leaf", hex))) != BG_OK)
			goto out;
		ne++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "SELECT size, time, root, sig FROM "
	    "tree_heads ORDER BY size", &st)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = head_from_row(v, st, &th)) != BG_OK ||
		    (r = bg_treehead_format(&th, text, sizeof(text))) != BG_OK)
			goto out;
		if ((r = jline(v, f, json_pack("{s:s, s:s}", "type",
		    "tree_head", "text", text))) != BG_OK)
			goto out;
		nh++;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		r = bg_vault_fail(v, BG_ERR_IO, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (neventsp != NULL)
		*neventsp = ne;
	if (nheadsp != NULL)
		*nheadsp = nh;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	if (f != NULL && fclose(f) != 0 && r == BG_OK)
		r = bg_vault_fail(v, BG_ERR_IO, "%s: close failed", path);
	if (fd >= 0)
		(void)close(fd);
	if (r != BG_OK && (f != NULL || fd >= 0))
		(void)unlink(path);
	return bg_vault_fail_default(v, r);
}
