/*
 * The keyset chains in the vault file: loading and verifying the vault's
 * chain (the genesis and the vault links after it) and a tenant's links
 * (chain.c does the verifying; this file only reads and writes rows),
 * drafts and their signatures, and a link taking effect.
 *
 * Every read re-verifies from the genesis by signatures: nothing here is
 * cached in the file as "verified" (docs/security.md).  The vault's own
 * chain is verified when the handle is opened and again, inside the act,
 * whenever its rows in the file have changed since (vault_current).  The rows that a
 * link writes when it takes effect (memberships, tokens, the tenant's
 * policy and settings) are for listings and ids only; the flows that
 * decide anything read the verified link (bg_tenant_get).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "policy.h"
#include "vault_int.h"

/* The scope key of the vault's chain (the genesis and the vault links
 * after it) in links, drafts and signatures. */
#define GENESIS_SCOPE	""

static const char *
scope_of(const char *tenant)
{
	return tenant != NULL ? tenant : GENESIS_SCOPE;
}

static const char *
scope_words(const char *tenant, char *buf, size_t cap)
{
	if (tenant == NULL || tenant[0] == '\0')
		(void)snprintf(buf, cap, "the vault's chain");
	else
		(void)snprintf(buf, cap, "the keyset chain of %s", tenant);
	return buf;
}

/* --- rows -> structs --------------------------------------------------------- */

static int
parse_body(bg_vault_t *v, const char *what, const char *text,
    bg_chain_link_t **lp)
{
	char why[BG_CHAIN_WHY_MAX];

	*lp = NULL;
	if (bg_chain_link_parse(text, lp, why, sizeof(why)) != BG_OK)
		return bg_vault_fail(v, BG_ERR_AUTH, "%s does not parse: %s",
		    what, why);
	return BG_OK;
}

static int
col_into(sqlite3_stmt *st, int i, uint8_t *buf, size_t cap, size_t *lenp)
{
	int n = sqlite3_column_bytes(st, i);

	if (n <= 0 || (size_t)n > cap)
		return BG_ERR_DB_CORRUPT;
	memcpy(buf, sqlite3_column_blob(st, i), (size_t)n);
	*lenp = (size_t)n;
	return BG_OK;
}

/* The signatures of a link (seq >= 0) or, with seq < 0, of the draft. */
static int
load_sigs(bg_vault_t *v, const char *scope, int64_t seq,
    bg_chain_sig_t **sigsp, size_t *np)
{
	static const char link_sql[] = "SELECT person, cred_id, authdata, sig "
	    "FROM link_sigs WHERE tenant = ? AND seq = ? ORDER BY id";
	static const char draft_sql[] = "SELECT person, cred_id, authdata, "
	    "sig FROM draft_sigs WHERE tenant = ? ORDER BY id";
	sqlite3_stmt *st = NULL;
	bg_chain_sig_t *l = NULL;
	size_t n = 0, cap = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*sigsp = NULL;
	*np = 0;
	if ((r = bg_store_cached(v, seq >= 0 ? link_sql : draft_sql, &st)) !=
	    BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (seq >= 0 && (r = bg_store_bind_int(v, st, 2, seq)) != BG_OK))
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_grow(&l, &cap, n, sizeof(*l))) != BG_OK)
			goto out;
		memset(&l[n], 0, sizeof(l[n]));
		bg_store_col_text(st, 0, l[n].person, sizeof(l[n].person));
		if (col_into(st, 1, l[n].cred_id, sizeof(l[n].cred_id),
		    &l[n].cred_id_len) != BG_OK ||
		    col_into(st, 2, l[n].authdata, sizeof(l[n].authdata),
		    &l[n].authdata_len) != BG_OK ||
		    col_into(st, 3, l[n].sig, sizeof(l[n].sig),
		    &l[n].sig_len) != BG_OK) {
			/* A malformed signature counts for nobody. */
			continue;
		}
		n++;
	}
	*sigsp = l;
	*np = n;
	l = NULL;
	r = BG_OK;
out:
	bg_store_done(st);
	free(l);
	return r;
}

/*
 * The newest link of a scope that the audit log says took effect (-1:
 * none): chain.link for a tenant, vault.genesis and vault.link for the
 * vault.  Deleting links to roll a chain back to an older keyset then
 * also needs the log rewritten, which receipts, backups' signed heads
 * and witnesses catch (docs/security.md says what this does not stop).
 */
static int
logged_seq(bg_vault_t *v, const char *scope, int64_t *seqp)
{
	static const char sql[] = "SELECT max(CAST(json_extract(entry, "
	    "'$.details.seq') AS INTEGER)) FROM events INDEXED BY "
	    "events_tenant_action WHERE tenant = ? AND action IN (?, ?)";
	sqlite3_stmt *st = NULL;
	bool row = false, vault = scope[0] == '\0';
	int r = BG_ERR_INTERNAL;

	*seqp = -1;
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, vault ? "vault.genesis" :
	    "chain.link")) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, vault ? "vault.link" :
	    "chain.link")) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*seqp = sqlite3_column_int64(st, 0);
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/* --- the vault's chain ----------------------------------------------------- */

void
bg_chain_vault_free(bg_vault_t *v)
{
	size_t i;

	for (i = 0; i < v->n_vault; i++)
		bg_chain_link_free(&v->vault[i]);
	free(v->vault);
	v->vault = NULL;
	v->n_vault = 0;
	v->genesis = NULL;
	v->vault_head = NULL;
	memset(v->genesis_hash, 0, sizeof(v->genesis_hash));
	memset(v->vault_head_hash, 0, sizeof(v->vault_head_hash));
	v->genesis_hex[0] = '\0';
}

/* One column into a running hash, with its type and length. */
static void
rows_add(crypto_hash_sha256_state *hs, sqlite3_stmt *st, int col)
{
	uint8_t hdr[9];
	const void *p;
	uint64_t n;
	int type = sqlite3_column_type(st, col), i;

	p = type == SQLITE_BLOB ? sqlite3_column_blob(st, col) :
	    (const void *)sqlite3_column_text(st, col);
	n = (uint64_t)sqlite3_column_bytes(st, col);
	hdr[0] = (uint8_t)type;
	for (i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(n >> (56 - 8 * i));
	crypto_hash_sha256_update(hs, hdr, sizeof(hdr));
	if (p != NULL && n > 0)
		crypto_hash_sha256_update(hs, p, n);
}

/* SHA-256 of the vault chain's rows: every link body and signature. */
static int
vault_rows(bg_vault_t *v, uint8_t out[32])
{
	static const char links_sql[] = "SELECT seq, body FROM links WHERE "
	    "tenant = '' ORDER BY seq";
	static const char sigs_sql[] = "SELECT seq, person, cred_id, "
	    "authdata, sig FROM link_sigs WHERE tenant = '' ORDER BY seq, id";
	crypto_hash_sha256_state hs;
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL, c;

	crypto_hash_sha256_init(&hs);
	if ((r = bg_store_cached(v, links_sql, &st)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		for (c = 0; c < 2; c++)
			rows_add(&hs, st, c);
	}
	bg_store_done(st);
	st = NULL;
	crypto_hash_sha256_update(&hs, (const uint8_t *)"sigs", 4);
	if ((r = bg_store_cached(v, sigs_sql, &st)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		for (c = 0; c < 5; c++)
			rows_add(&hs, st, c);
	}
	crypto_hash_sha256_final(&hs, out);
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/* Verify the vault chain's rows, link by link from the genesis, into v
 * (the chain in v is freed first).  BG_ERR_AUTH with a sentence for a
 * chain that does not verify. */
static int
vault_load(bg_vault_t *v)
{
	static const char sql[] = "SELECT seq, body FROM links WHERE "
	    "tenant = '' ORDER BY seq";
	sqlite3_stmt *st = NULL;
	bg_chain_link_t **links = NULL, *l = NULL;
	bg_chain_sig_t *sigs = NULL;
	size_t n = 0, cap = 0, nsigs = 0;
	char why[BG_CHAIN_WHY_MAX], what[64];
	int64_t seq;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	bg_chain_vault_free(v);
	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		seq = sqlite3_column_int64(st, 0);
		if (n == 0)
			(void)snprintf(what, sizeof(what), "the vault's genesis");
		else
			(void)snprintf(what, sizeof(what), "vault link %lld",
			    (long long)seq);
		if (seq != (int64_t)n) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the vault's chain "
			    "has link %lld where link %zu belongs: the file was "
			    "altered", (long long)seq, n);
			goto out;
		}
		if ((r = parse_body(v, what, (const char *)
		    sqlite3_column_text(st, 1), &l)) != BG_OK)
			goto out;
		if (l->seq != (uint64_t)seq) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s is stored as vault "
			    "link %llu: the file was altered", what,
			    (unsigned long long)l->seq);
			goto out;
		}
		free(sigs);
		sigs = NULL;
		if ((r = load_sigs(v, GENESIS_SCOPE, seq, &sigs, &nsigs)) !=
		    BG_OK)
			goto out;
		/* The genesis by every custodian it names; each later link
		 * by the rules against the one before it. */
		r = n == 0 ? bg_chain_check_genesis(l, sigs, nsigs, why,
		    sizeof(why)) : bg_chain_check_vault(links[n - 1], l, sigs,
		    nsigs, why, sizeof(why));
		if (r != BG_OK) {
			r = r == BG_ERR_NOMEM ? r : bg_vault_fail(v,
			    BG_ERR_AUTH, "%s does not verify: %s", what, why);
			goto out;
		}
		/* The file's own id and relying party must be the chain's. */
		if (strcmp(l->vault_id, v->id) != 0 ||
		    strcmp(l->rp_id, v->rp_id) != 0) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s names vault %s, "
			    "but the file says %s: the file was altered", what,
			    l->vault_id, v->id);
			goto out;
		}
		if ((r = bg_grow(&links, &cap, n, sizeof(*links))) != BG_OK)
			goto out;
		links[n++] = l;
		l = NULL;
	}
	if (n > 0) {
		if ((r = bg_chain_link_hash(links[0], v->genesis_hash)) !=
		    BG_OK ||
		    (r = bg_chain_link_hash(links[n - 1], v->vault_head_hash))
		    != BG_OK)
			goto out;
		bg_hex(v->genesis_hash, sizeof(v->genesis_hash),
		    v->genesis_hex);
		v->genesis = links[0];
		v->vault_head = links[n - 1];
		v->allow_soft = v->vault_head->settings.allow_soft;
	}
	v->vault = links;
	v->n_vault = n;
	links = NULL;	/* transferred */
	n = 0;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(sigs);
	bg_chain_link_free(&l);
	while (n > 0)
		bg_chain_link_free(&links[--n]);
	free(links);
	if (r != BG_OK)
		bg_chain_vault_free(v);
	return r;
}

/* The connection's data_version: it moves when another connection
 * commits. */
static int
data_version(bg_vault_t *v, int64_t *dvp)
{
	static const char sql[] = "PRAGMA data_version";
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r;

	*dvp = 0;
	if ((r = bg_store_cached(v, sql, &st)) == BG_OK &&
	    (r = bg_store_step(v, st, &row)) == BG_OK && row)
		*dvp = sqlite3_column_int64(st, 0);
	bg_store_done(st);
	return r;
}

/* Keep a sentence why the vault's chain cannot be trusted: every act is
 * refused with it, reads go on. */
static void
vault_bad(bg_vault_t *v)
{
	(void)snprintf(v->genesis_bad, sizeof(v->genesis_bad), "%s",
	    v->errmsg);
	bg_chain_vault_free(v);
}

/*
 * Verify the vault chain's rows.  No event is read here: an open that
 * only reads must not depend on the log's index (vault check names
 * damage there); the log is compared at the first act (vault_current).
 */
int
bg_chain_load_genesis(bg_vault_t *v)
{
	uint8_t rows[32];
	int r = BG_ERR_INTERNAL;

	v->genesis_bad[0] = '\0';
	v->vault_loaded = v->vault_logged = false;
	if ((r = vault_rows(v, rows)) != BG_OK)
		goto out;
	r = vault_load(v);
	if (r == BG_OK || r == BG_ERR_AUTH) {
		/* Judged: the same rows are not verified again. */
		memcpy(v->vault_rows, rows, sizeof(rows));
		v->vault_loaded = true;
	}
	if (r == BG_ERR_AUTH)
		vault_bad(v);
out:
	return r;
}

/*
 * The audit log names every vault link that took effect: a chain shorter
 * than that was rolled back (the file, not the log) or altered.
 */
static int
vault_logged(bg_vault_t *v)
{
	int64_t logged = -1;
	int r;

	if ((r = logged_seq(v, GENESIS_SCOPE, &logged)) != BG_OK)
		return r;
	if (v->vault_head == NULL && logged >= 0)
		r = bg_vault_fail(v, BG_ERR_AUTH, "the audit log records the "
		    "vault's genesis, but the file holds none: the file was "
		    "altered");
	else if (v->vault_head != NULL &&
	    logged > (int64_t)v->vault_head->seq)
		r = bg_vault_fail(v, BG_ERR_AUTH, "the audit log records vault "
		    "link %lld, but the vault's chain ends at link %llu: the "
		    "file was rolled back or altered", (long long)logged,
		    (unsigned long long)v->vault_head->seq);
	return r;
}

/*
 * The vault's chain as the file holds it now: verified again when
 * another connection committed and the chain's rows differ from those
 * verified (a vault link that took effect since this handle was opened,
 * or one altered), and compared with the log.  A chain that does not
 * verify is kept in v->genesis_bad, not returned: callers ask
 * bg_chain_require_genesis.
 */
static int
vault_current(bg_vault_t *v)
{
	uint8_t rows[32];
	int64_t dv = 0;
	int r = BG_ERR_INTERNAL;

	if ((r = data_version(v, &dv)) != BG_OK)
		goto out;
	if (v->vault_loaded && v->vault_logged && dv == v->vault_dv)
		goto out;
	if ((r = vault_rows(v, rows)) != BG_OK)
		goto out;
	if (!v->vault_loaded || !bg_same(rows, v->vault_rows, sizeof(rows))) {
		r = bg_chain_load_genesis(v);
		if (r != BG_OK && r != BG_ERR_AUTH)
			goto out;
	}
	if (v->genesis_bad[0] == '\0') {
		r = vault_logged(v);
		if (r == BG_ERR_AUTH)
			vault_bad(v);
		else if (r != BG_OK)
			goto out;
	}
	v->vault_dv = dv;
	v->vault_logged = true;
	bg_vault_clear_err(v);
	r = BG_OK;
out:
	return r;
}

/* The vault link whose seq is seq, NULL when the chain has none. */
static const bg_chain_link_t *
vault_link(const bg_vault_t *v, uint64_t seq)
{
	return seq < v->n_vault ? v->vault[seq] : NULL;
}

int
bg_chain_require_genesis(bg_vault_t *v)
{
	int r;

	if ((r = vault_current(v)) != BG_OK)
		return r;
	if (v->genesis != NULL)
		return BG_OK;
	if (v->genesis_bad[0] != '\0')
		return bg_vault_fail(v, BG_ERR_AUTH, "%s", v->genesis_bad);
	return bg_vault_fail(v, BG_ERR_STATE, "the vault's genesis is not "
	    "signed yet: every custodian it names must sign it first "
	    "(vault chain show; vault chain sign --as CUSTODIAN)");
}

void
bg_vault_enrolled_fingerprints(const bg_vault_t *v, char sign_fpr[17],
    char member_fpr[17])
{
	(void)snprintf(sign_fpr, 17, "%s", v->enrolled_sign_fpr);
	(void)snprintf(member_fpr, 17, "%s", v->enrolled_member_fpr);
}

/* Remember the fingerprints of a credential just enrolled. */
void
bg_chain_note_enrolled(bg_vault_t *v, const bg_chain_token_t *t,
    bool member)
{
	uint8_t fp[32];

	crypto_hash_sha256(fp, t->pubkey, t->pubkey_len);
	bg_hex(fp, 8, v->enrolled_sign_fpr);
	v->enrolled_member_fpr[0] = '\0';
	if (member) {
		crypto_hash_sha256(fp, t->member_pk, 32);
		bg_hex(fp, 8, v->enrolled_member_fpr);
	}
}

const char *
bg_vault_genesis_hash(const bg_vault_t *v)
{
	return v != NULL ? v->genesis_hex : "";
}

/* --- a tenant's chain -------------------------------------------------------- */

int
bg_chain_tenant(bg_vault_t *v, const char *tenant, uint64_t upto,
    bg_chain_link_t **headp, uint8_t hash[BG_VAULT_HASH_LEN])
{
	static const char links_sql[] = "SELECT seq, body FROM links WHERE "
	    "tenant = ? AND seq >= 1 ORDER BY seq";
	sqlite3_stmt *st = NULL;
	bg_chain_link_t *prev = NULL, *l = NULL;
	const bg_chain_link_t *g;
	bg_chain_sig_t *sigs = NULL;
	size_t nsigs = 0;
	struct bg_chain_hashes known;
	uint8_t lhash[BG_CHAIN_HASH_LEN], phash[BG_CHAIN_HASH_LEN];
	char why[BG_CHAIN_WHY_MAX], what[96];
	const char *text;
	uint64_t seq;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*headp = NULL;
	memset(hash, 0, BG_VAULT_HASH_LEN);
	/* The vault's chain first, from the genesis: it gives each tenant
	 * link the custodians and settings of the vault link it names. */
	if ((r = bg_chain_require_genesis(v)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, links_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (upto != 0 && seq > upto)
			break;
		(void)snprintf(what, sizeof(what), "link %llu of %s",
		    (unsigned long long)seq, tenant);
		text = (const char *)sqlite3_column_text(st, 1);
		if ((r = parse_body(v, what, text, &l)) != BG_OK)
			goto out;
		/* The parser took only the link's one encoding: this is its
		 * hash, without encoding it again. */
		bg_chain_text_hash(text, lhash);
		if (l->seq != seq) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s is stored as link "
			    "%llu: the file was altered", what,
			    (unsigned long long)l->seq);
			goto out;
		}
		free(sigs);
		sigs = NULL;
		if ((r = load_sigs(v, tenant, (int64_t)seq, &sigs, &nsigs)) !=
		    BG_OK)
			goto out;
		if ((g = vault_link(v, l->vault_seq)) == NULL) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s names vault link "
			    "%llu, which the vault's chain does not have: the "
			    "file was altered or rolled back", what,
			    (unsigned long long)l->vault_seq);
			goto out;
		}
		/* The rules, the sequence, the previous hash, the tenant and
		 * the vault are all checked here, from signatures. */
		known.g = g == v->genesis ? v->genesis_hash : NULL;
		known.prev = prev != NULL ? phash : NULL;
		known.next = lhash;
		if (bg_chain_check_hashed(g, prev, l, &known, sigs, nsigs, why,
		    sizeof(why)) != BG_OK) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s does not verify: "
			    "%s", what, why);
			goto out;
		}
		bg_chain_link_free(&prev);
		prev = l;
		l = NULL;
		memcpy(phash, lhash, sizeof(phash));
	}
	if (upto == 0) {
		int64_t logged = -1;

		if ((r = logged_seq(v, tenant, &logged)) != BG_OK)
			goto out;
		if (logged > (prev != NULL ? (int64_t)prev->seq : 0)) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "the audit log records "
			    "link %lld of %s, but its chain ends at link %llu: "
			    "the file was rolled back or altered", (long long)
			    logged, tenant, prev != NULL ?
			    (unsigned long long)prev->seq : 0ULL);
			goto out;
		}
	}
	if (upto != 0 && (prev == NULL || prev->seq != upto)) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the keyset chain of %s has "
		    "no link %llu: the file was altered or rolled back",
		    tenant, (unsigned long long)upto);
		goto out;
	}
	if (prev != NULL)
		memcpy(hash, phash, BG_VAULT_HASH_LEN);
	*headp = prev;
	prev = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(sigs);
	bg_chain_link_free(&l);
	bg_chain_link_free(&prev);
	return r;
}

int
bg_vault_chains_verify(bg_vault_t *v, size_t *np)
{
	sqlite3_stmt *st = NULL;
	bg_chain_link_t *head = NULL;
	uint8_t hh[32];
	char name[BG_VAULT_NAME_MAX + 1];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (np != NULL)
		*np = 0;
	bg_vault_clear_err(v);
	if ((r = bg_chain_require_genesis(v)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, "SELECT name FROM tenants WHERE "
	    "offboarded_at IS NULL ORDER BY name", &st)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, name, sizeof(name));
		if ((r = bg_chain_tenant(v, name, 0, &head, hh)) != BG_OK)
			goto out;
		bg_chain_link_free(&head);
		if (np != NULL)
			(*np)++;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	bg_chain_link_free(&head);
	return bg_vault_fail_default(v, r);
}

/* --- drafts ------------------------------------------------------------------ */

/* The tenant exists and was not offboarded (its keys are destroyed). */
static int
tenant_exists(bg_vault_t *v, const char *tenant)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r;

	if ((r = bg_store_prepare(v, "SELECT offboarded_at FROM tenants "
	    "WHERE name = ?", &st)) == BG_OK &&
	    (r = bg_store_bind_text(v, st, 1, tenant)) == BG_OK &&
	    (r = bg_store_step(v, st, &row)) == BG_OK) {
		if (!row)
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no tenant '%s'",
			    tenant);
		else if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			r = bg_vault_fail(v, BG_ERR_STATE, "tenant '%s' was "
			    "offboarded", tenant);
	}
	sqlite3_finalize(st);
	return r;
}

static int
draft_load(bg_vault_t *v, const char *scope, bg_chain_link_t **draftp)
{
	static const char sql[] = "SELECT body FROM drafts WHERE tenant = ?";
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*draftp = NULL;
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = BG_ERR_NOT_FOUND;
		goto out;
	}
	r = parse_body(v, "the draft", (const char *)sqlite3_column_text(st,
	    0), draftp);
out:
	bg_store_done(st);
	return r;
}

/* A draft older than this is stale: make it again. */
#define DRAFT_MAX_AGE	(14 * 86400)

/*
 * The draft is the newest one the log names (not discarded, not an older
 * version of itself put back with the signatures it had), and it is
 * dated now or a little before: its time decides who counts as live, so
 * a time set back or forward in the file is refused.
 */
static int
draft_current(bg_vault_t *v, const char *scope, const bg_chain_link_t *d,
    const bg_chain_link_t *head, int64_t now)
{
	static const char sql[] = "SELECT action, json_extract(entry, "
	    "'$.details.draft_hash') FROM events WHERE tenant = ? AND "
	    "(action = 'chain.discard' OR json_extract(entry, "
	    "'$.details.draft_hash') IS NOT NULL) ORDER BY seq DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	uint8_t h[32];
	char hex[65], logged[65], action[32], when[32], words[96];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if (d->time > now || now - d->time > DRAFT_MAX_AGE ||
	    (head != NULL && d->time < head->time)) {
		r = bg_vault_fail(v, BG_ERR_STATE, "the draft of %s is dated %s, "
		    "not within the last 14 days: it is stale or was altered; "
		    "discard it and make it again", scope_words(scope[0] ?
		    scope : NULL, words, sizeof(words)), bg_vault_fmt_time(
		    d->time, when, sizeof(when)));
		goto out;
	}
	if ((r = bg_chain_link_hash(d, h)) != BG_OK)
		goto out;
	bg_hex(h, sizeof(h), hex);
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	action[0] = logged[0] = '\0';
	if (row) {
		bg_store_col_text(st, 0, action, sizeof(action));
		bg_store_col_text(st, 1, logged, sizeof(logged));
	}
	if (!row || strcmp(action, "chain.discard") == 0 ||
	    strcmp(logged, hex) != 0) {
		r = bg_vault_fail(v, BG_ERR_STATE, "the draft of %s is not the "
		    "newest one the audit log names (it was discarded or "
		    "amended, and put back in the file): discard it",
		    scope_words(scope[0] ? scope : NULL, words, sizeof(words)));
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/*
 * Whether person, a member of the link in force, is live there now (at
 * the clock, not the draft's time).  Custodians never expire; a person
 * the link in force does not name (a new member) is judged by the rules.
 */
static bool
live_now(const bg_vault_t *v, const bg_chain_link_t *head, const char *person,
    int64_t now, int64_t *expiredp)
{
	size_t i;
	bool named = false;

	*expiredp = 0;
	if (v->vault_head != NULL &&
	    bg_chain_member_find(v->vault_head, person,
	    BG_CHAIN_ROLE_CUSTODIAN) != NULL)
		return true;
	if (head == NULL)
		return true;
	for (i = 0; i < head->n_members; i++) {
		if (strcmp(head->members[i].person, person) != 0)
			continue;
		named = true;
		if (head->members[i].expires_at > now)
			return true;
		if (head->members[i].expires_at > *expiredp)
			*expiredp = head->members[i].expires_at;
	}
	return !named;
}

/*
 * A tenant draft counts the custodians of the vault link it names: it
 * must name the one in force, or a custodian the vault has removed since
 * the draft was made would still count for it.
 */
static int
draft_vault_current(bg_vault_t *v, const char *tenant,
    const bg_chain_link_t *d)
{
	if (v->vault_head != NULL && d->vault_seq == v->vault_head->seq)
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_STATE, "the draft of %s was made under "
	    "vault link %llu, and vault link %llu is in force: the vault's "
	    "custodians changed since this draft was made; discard it (vault "
	    "chain discard %s) and make it again", tenant,
	    (unsigned long long)d->vault_seq, v->vault_head != NULL ?
	    (unsigned long long)v->vault_head->seq : 0ULL, tenant);
}

/* The draft must still follow the head it was made from. */
static int
draft_fits(bg_vault_t *v, const char *tenant, const bg_chain_link_t *d,
    const bg_chain_link_t *head, const uint8_t head_hash[32])
{
	static const uint8_t zero[32];
	uint64_t want = head != NULL ? head->seq + 1 : 1;
	const uint8_t *prev = head != NULL ? head_hash : zero;

	if (d->scope == BG_CHAIN_TENANT && strcmp(d->tenant, tenant) == 0 &&
	    d->seq == want &&
	    memcmp(d->prev, prev, 32) == 0 && /* public: hashes */
	    memcmp(d->genesis, v->genesis_hash, 32) == 0) /* public: hashes */
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_STATE, "the draft of %s was made for "
	    "another state of its chain (link %llu, the chain now needs link "
	    "%llu): discard it with vault chain discard %s", tenant,
	    (unsigned long long)d->seq, (unsigned long long)want, tenant);
}

int
bg_chain_draft_get(bg_vault_t *v, const char *tenant, int64_t now,
    bg_chain_link_t **draftp)
{
	bg_chain_link_t *head = NULL, *d = NULL;
	uint8_t hh[32];
	int r = BG_ERR_INTERNAL;

	*draftp = NULL;
	if ((r = bg_chain_require_genesis(v)) != BG_OK ||
	    (r = bg_chain_tenant(v, tenant, 0, &head, hh)) != BG_OK)
		goto out;
	r = draft_load(v, tenant, &d);
	if (r == BG_OK) {
		if ((r = draft_fits(v, tenant, d, head, hh)) != BG_OK ||
		    (r = draft_vault_current(v, tenant, d)) != BG_OK)
			goto out;
		goto done;
	}
	if (r != BG_ERR_NOT_FOUND)
		goto out;
	if (head != NULL) {
		if ((r = bg_chain_link_dup(head, &d)) != BG_OK)
			goto out;
		d->seq = head->seq + 1;
		memcpy(d->prev, hh, 32);
		d->note[0] = '\0';
		d->vault_seq = v->vault_head->seq;
	} else {
		if ((d = bg_chain_link_new()) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		d->scope = BG_CHAIN_TENANT;
		(void)snprintf(d->vault_id, sizeof(d->vault_id), "%s", v->id);
		(void)snprintf(d->rp_id, sizeof(d->rp_id), "%s", v->rp_id);
		memcpy(d->genesis, v->genesis_hash, 32);
		(void)snprintf(d->tenant, sizeof(d->tenant), "%s", tenant);
		d->seq = 1;
		d->vault_seq = v->vault_head->seq;
		d->settings.max_ttl = BG_VAULT_DEFAULT_MAX_TTL;
		d->settings.approval_window = BG_VAULT_DEFAULT_APPROVAL_WINDOW;
		d->settings.rotation_deadline =
		    BG_VAULT_DEFAULT_ROTATION_DEADLINE;
		d->settings.client_cosign = 1;
	}
	d->time = now;
done:
	*draftp = d;
	d = NULL;
	r = BG_OK;
out:
	bg_chain_link_free(&head);
	bg_chain_link_free(&d);
	return r;
}

/*
 * The event of an amendment names the draft it made: a draft that is not
 * the newest one the log names is refused at signing (a discarded or
 * amended draft put back in the file, with the signatures it had).
 */
int
bg_chain_draft_note(const bg_chain_link_t *draft, json_t *det)
{
	uint8_t h[32];
	char hex[65];
	int r;

	if ((r = bg_chain_link_hash(draft, h)) != BG_OK)
		return r;
	bg_hex(h, sizeof(h), hex);
	return json_object_set_new(det, "draft_hash", json_string(hex)) == 0 ?
	    BG_OK : BG_ERR_NOMEM;
}

int
bg_chain_draft_put(bg_vault_t *v, const char *tenant, bg_chain_link_t *draft,
    int64_t now, size_t *droppedp, json_t *det)
{
	static const char put_sql[] = "INSERT OR REPLACE INTO drafts "
	    "(tenant, body, updated_at) VALUES (?, ?, ?)";
	static const char drop_sql[] = "DELETE FROM draft_sigs WHERE "
	    "tenant = ?";
	sqlite3_stmt *st = NULL;
	char *text = NULL;
	const char *scope = scope_of(tenant);
	int r = BG_ERR_INTERNAL;

	if (droppedp != NULL)
		*droppedp = 0;
	if (draft->time < now)
		draft->time = now;
	if ((r = bg_chain_link_encode(draft, &text)) != BG_OK) {
		r = bg_vault_fail(v, r, "the draft cannot be encoded: %s",
		    bg_strerror(r));
		goto out;
	}
	if (det != NULL && (r = bg_chain_draft_note(draft, det)) != BG_OK)
		goto out;
	if ((r = bg_store_cached(v, put_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, text)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	bg_store_done(st);
	st = NULL;
	if ((r = bg_store_cached(v, drop_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if (droppedp != NULL)
		*droppedp = (size_t)sqlite3_changes(v->db);
	r = BG_OK;
out:
	bg_store_done(st);
	free(text);
	return r;
}

/* The vault's draft must still follow the vault link in force. */
static int
vault_draft_fits(bg_vault_t *v, const bg_chain_link_t *d)
{
	const bg_chain_link_t *head = v->vault_head;

	if (head != NULL && d->scope == BG_CHAIN_VAULT &&
	    d->seq == head->seq + 1 &&
	    bg_same(d->prev, v->vault_head_hash, 32) &&
	    bg_same(d->genesis, v->genesis_hash, 32))
		return BG_OK;
	return bg_vault_fail(v, BG_ERR_STATE, "the vault's draft was made for "
	    "another state of its chain (vault link %llu, the chain now "
	    "needs vault link %llu): discard it with vault chain discard",
	    (unsigned long long)d->seq, head != NULL ?
	    (unsigned long long)head->seq + 1 : 0ULL);
}

/*
 * The vault's draft to amend, once the genesis is in force: the stored
 * one, or the next vault link made from the one in force.  Inside the
 * caller's transaction.
 */
static int
vault_draft_get(bg_vault_t *v, int64_t now, bg_chain_link_t **draftp)
{
	bg_chain_link_t *d = NULL;
	int r = BG_ERR_INTERNAL;

	*draftp = NULL;
	if ((r = bg_chain_require_genesis(v)) != BG_OK)
		goto out;
	r = draft_load(v, GENESIS_SCOPE, &d);
	if (r == BG_OK) {
		if ((r = vault_draft_fits(v, d)) != BG_OK)
			goto out;
	} else if (r == BG_ERR_NOT_FOUND) {
		if ((r = bg_chain_link_dup(v->vault_head, &d)) != BG_OK)
			goto out;
		d->seq = v->vault_head->seq + 1;
		memcpy(d->prev, v->vault_head_hash, 32);
		memcpy(d->genesis, v->genesis_hash, 32);
		d->note[0] = '\0';
		d->time = now;
	} else {
		goto out;
	}
	*draftp = d;
	d = NULL;
	r = BG_OK;
out:
	bg_chain_link_free(&d);
	return r;
}

int
bg_chain_cred_unique(bg_vault_t *v, const char *person,
    const uint8_t *cred_id, size_t cred_id_len)
{
	static const char sql[] = "SELECT m.person FROM tokens k JOIN "
	    "memberships m ON m.id = k.membership_id WHERE k.cred_id = ? AND "
	    "m.person <> ?";
	sqlite3_stmt *st = NULL;
	const bg_chain_member_t *m = NULL;
	const bg_chain_token_t *t = NULL;
	char other[BG_VAULT_NAME_MAX + 1];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 1, cred_id, cred_id_len)) !=
	    BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row) {
		bg_store_col_text(st, 0, other, sizeof(other));
		r = bg_vault_fail(v, BG_ERR_EXISTS, "this credential is "
		    "already enrolled for %s: one credential belongs to one "
		    "person", other);
		goto out;
	}
	if (v->vault_head != NULL && bg_chain_find_cred(v->vault_head,
	    cred_id, cred_id_len, &m, &t) && strcmp(m->person, person) != 0) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, "this credential is "
		    "custodian %s's: one credential belongs to one person",
		    m->person);
		goto out;
	}
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/* --- a link takes effect ------------------------------------------------------- */

static int
exec_bind(bg_vault_t *v, const char *sql, sqlite3_stmt **stp)
{
	*stp = NULL;
	return bg_store_prepare(v, sql, stp);
}

/* A token of the new head, with its row id, for the chain.link event:
 * evidence bundles name tokens by id and show the link that made them. */
static int
token_note(json_t *toks, int64_t id, const bg_chain_member_t *m,
    const bg_chain_token_t *t)
{
	char aaguid[33], pk[2 * BG_CHAIN_PUBKEY_MAX + 1];

	bg_hex(t->aaguid, sizeof(t->aaguid), aaguid);
	bg_hex(t->pubkey, t->pubkey_len, pk);
	return json_array_append_new(toks, json_pack("{s:I, s:s, s:s, s:s, "
	    "s:i, s:s, s:s}", "id", (json_int_t)id, "person", m->person,
	    "role", bg_vault_role_name(m->role), "label", t->label, "alg",
	    t->alg, "aaguid", aaguid, "public_key", pk)) == 0 ? BG_OK :
	    BG_ERR_NOMEM;
}

/* Write the rows that listings and ids read from a tenant's new head. */
static int
materialize(bg_vault_t *v, const bg_chain_link_t *l, int64_t now,
    json_t *toks)
{
	sqlite3_stmt *st = NULL;
	bg_policy_t *pol = NULL;
	int64_t tid = 0, mid = 0, kid = 0;
	size_t i, j;
	int r = BG_ERR_INTERNAL;

	if ((r = exec_bind(v, "SELECT id FROM tenants WHERE name = ?", &st))
	    != BG_OK || (r = bg_store_bind_text(v, st, 1, l->tenant)) != BG_OK)
		goto out;
	{
		bool row = false;

		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row) {
			r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no tenant '%s'",
			    l->tenant);
			goto out;
		}
		tid = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (l->policy != NULL && bg_policy_parse(l->policy, &pol, NULL) !=
	    BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the policy of %s does not "
		    "parse", l->tenant);
		goto out;
	}
	if ((r = exec_bind(v, "UPDATE tenants SET max_ttl = ?, "
	    "approval_window = ?, rotation_deadline = ?, policy = ?, "
	    "policy_hash = ? WHERE id = ?", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, l->settings.max_ttl)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, l->settings.approval_window)) !=
	    BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, l->settings.rotation_deadline)) !=
	    BG_OK ||
	    (r = bg_store_bind_text(v, st, 4, pol != NULL ?
	    bg_policy_canonical(pol) : NULL)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, pol != NULL ?
	    bg_policy_hash(pol) : NULL, pol != NULL ? BG_POLICY_HASH_LEN : 0))
	    != BG_OK ||
	    (r = bg_store_bind_int(v, st, 6, tid)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	/* Everyone out, then everyone the link names back in. */
	if ((r = exec_bind(v, "UPDATE memberships SET removed_at = ? WHERE "
	    "tenant_id = ? AND removed_at IS NULL", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, tid)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < l->n_members; i++) {
		const bg_chain_member_t *m = &l->members[i];

		if ((r = exec_bind(v, "INSERT INTO memberships (tenant_id, "
		    "person, role, expires_at, created_at, salt, side) VALUES "
		    "(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (tenant_id, "
		    "person, role) DO UPDATE SET expires_at = ?4, salt = ?6, "
		    "side = ?7, removed_at = NULL RETURNING id", &st)) !=
		    BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, tid)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 2, m->person)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3, m->role)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 4, m->expires_at)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 5, now)) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 6, m->salt,
		    sizeof(m->salt))) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 7, m->side)) != BG_OK)
			goto out;
		{
			bool row = false;

			if ((r = bg_store_step(v, st, &row)) != BG_OK)
				goto out;
			if (!row) {
				r = BG_ERR_INTERNAL;
				goto out;
			}
			mid = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		st = NULL;
		if ((r = exec_bind(v, "UPDATE tokens SET removed_at = ? WHERE "
		    "membership_id = ? AND removed_at IS NULL", &st)) !=
		    BG_OK ||
		    (r = bg_store_bind_int(v, st, 1, now)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 2, mid)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
		for (j = 0; j < m->n_tokens; j++) {
			const bg_chain_token_t *t = &m->tokens[j];
			bool row = false;

			if ((r = exec_bind(v, "UPDATE tokens SET removed_at = "
			    "NULL, label = ? WHERE membership_id = ? AND "
			    "cred_id = ? RETURNING id", &st)) != BG_OK ||
			    (r = bg_store_bind_text(v, st, 1, t->label)) !=
			    BG_OK ||
			    (r = bg_store_bind_int(v, st, 2, mid)) != BG_OK ||
			    (r = bg_store_bind_blob(v, st, 3, t->cred_id,
			    t->cred_id_len)) != BG_OK ||
			    (r = bg_store_step(v, st, &row)) != BG_OK)
				goto out;
			kid = row ? sqlite3_column_int64(st, 0) : 0;
			sqlite3_finalize(st);
			st = NULL;
			if (kid != 0 && (r = token_note(toks, kid, m, t)) !=
			    BG_OK)
				goto out;
			if (kid != 0)
				continue;
			if ((r = exec_bind(v, "INSERT INTO tokens "
			    "(membership_id, label, enrolled_at, cred_id, "
			    "cose_key, pubkey, alg, aaguid, is_soft, fmt, "
			    "attestation, x5c, cred_protect, sign_count, "
			    "member_pk) VALUES (?, ?, ?, ?, x'', ?, ?, ?, ?, "
			    "?, ?, NULL, ?, 0, ?)", &st)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 1, mid)) != BG_OK ||
			    (r = bg_store_bind_text(v, st, 2, t->label)) !=
			    BG_OK ||
			    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK ||
			    (r = bg_store_bind_blob(v, st, 4, t->cred_id,
			    t->cred_id_len)) != BG_OK ||
			    (r = bg_store_bind_blob(v, st, 5, t->pubkey,
			    t->pubkey_len)) != BG_OK ||
			    (r = bg_store_bind_int(v, st, 6, t->alg)) != BG_OK ||
			    (r = bg_store_bind_blob(v, st, 7, t->aaguid, 16)) !=
			    BG_OK ||
			    (r = bg_store_bind_int(v, st, 8, t->soft)) !=
			    BG_OK ||
			    (r = bg_store_bind_text(v, st, 9, t->fmt)) !=
			    BG_OK ||
			    (r = bg_store_bind_int(v, st, 10, t->attestation))
			    != BG_OK ||
			    (r = bg_store_bind_int(v, st, 11, t->cred_protect))
			    != BG_OK ||
			    (r = bg_store_bind_blob(v, st, 12, t->member_pk,
			    32)) != BG_OK ||
			    (r = bg_store_step_done(v, st)) != BG_OK)
				goto out;
			sqlite3_finalize(st);
			st = NULL;
			if ((r = token_note(toks, sqlite3_last_insert_rowid(
			    v->db), m, t)) != BG_OK)
				goto out;
		}
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	bg_policy_free(&pol);
	return r;
}

/* Persons in a signature list, as "carol, dave". */
static void
signers_words(const bg_chain_sig_t *sigs, size_t n, char *buf, size_t cap)
{
	size_t i, j, used = 0;
	bool dup;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		dup = false;
		for (j = 0; j < i && !dup; j++)
			dup = strcmp(sigs[i].person, sigs[j].person) == 0;
		if (dup)
			continue;
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used, "%s%s",
			    used > 0 ? ", " : "", sigs[i].person);
	}
}

/* The draft and its signatures become link seq of the scope. */
static int
commit_draft(bg_vault_t *v, const char *scope, const bg_chain_link_t *d,
    const bg_chain_sig_t *sigs, size_t nsigs, int64_t now,
    const char *person)
{
	static const char link_sql[] = "INSERT INTO links (tenant, seq, body, "
	    "hash, committed_at) VALUES (?, ?, ?, ?, ?)";
	static const char sig_sql[] = "INSERT INTO link_sigs (tenant, seq, "
	    "person, cred_id, authdata, sig) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = NULL;
	char *text = NULL, hex[65], prev[65], who[BG_VAULT_NEEDS_MAX];
	uint8_t hash[32];
	json_t *det = NULL, *members = NULL, *toks = NULL;
	size_t i;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_chain_link_encode(d, &text)) != BG_OK)
		goto out;
	bg_chain_text_hash(text, hash);
	if ((r = bg_store_prepare(v, link_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)d->seq)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 3, text)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 4, hash, sizeof(hash))) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 5, now)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < nsigs; i++) {
		if ((r = bg_store_prepare(v, sig_sql, &st)) != BG_OK ||
		    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 2, (int64_t)d->seq)) !=
		    BG_OK ||
		    (r = bg_store_bind_text(v, st, 3, sigs[i].person)) !=
		    BG_OK ||
		    (r = bg_store_bind_blob(v, st, 4, sigs[i].cred_id,
		    sigs[i].cred_id_len)) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 5, sigs[i].authdata,
		    sigs[i].authdata_len)) != BG_OK ||
		    (r = bg_store_bind_blob(v, st, 6, sigs[i].sig,
		    sigs[i].sig_len)) != BG_OK ||
		    (r = bg_store_step_done(v, st)) != BG_OK)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((r = bg_store_prepare(v, "DELETE FROM drafts WHERE tenant = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "DELETE FROM draft_sigs WHERE tenant = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if ((toks = json_array()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (d->scope == BG_CHAIN_TENANT &&
	    (r = materialize(v, d, now, toks)) != BG_OK)
		goto out;
	/* The event lists what took effect; the link itself is the proof. */
	bg_hex(hash, sizeof(hash), hex);
	bg_hex(d->prev, sizeof(d->prev), prev);
	signers_words(sigs, nsigs, who, sizeof(who));
	if ((members = json_array()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < d->n_members; i++) {
		char line[256];

		(void)snprintf(line, sizeof(line), "%s %s%s%s (%zu token%s)",
		    d->members[i].person, d->members[i].side ==
		    BG_CHAIN_SIDE_CLIENT ? "client " : d->members[i].side ==
		    BG_CHAIN_SIDE_MSP ? "msp " : "",
		    bg_vault_role_name(d->members[i].role), "",
		    d->members[i].n_tokens, d->members[i].n_tokens == 1 ?
		    "" : "s");
		if (json_array_append_new(members, json_string(line)) != 0) {
			r = BG_ERR_NOMEM;
			goto out;
		}
	}
	det = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "seq",
	    (json_int_t)d->seq, "hash", hex, "prev", prev, "signed_by", who,
	    "note", d->note, "members", members, "tokens", toks);
	members = NULL;
	toks = NULL;
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (d->policy != NULL && json_object_set_new(det, "policy",
	    json_string(d->policy)) != 0) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (d->scope == BG_CHAIN_VAULT &&
	    (json_object_set_new(det, "custodian_quorum",
	    json_integer(d->settings.custodian_quorum)) != 0 ||
	    json_object_set_new(det, "allow_soft",
	    json_boolean(d->settings.allow_soft)) != 0)) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* The log names every link of every chain that took effect: a
	 * chain shorter than the log says was rolled back (logged_seq). */
	r = bg_audit_append(v, now, person, d->scope == BG_CHAIN_TENANT ?
	    "chain.link" : d->seq == 0 ? "vault.genesis" : "vault.link",
	    d->tenant, "", det);
	det = NULL;
out:
	sqlite3_finalize(st);
	json_decref(det);
	json_decref(members);
	json_decref(toks);
	free(text);
	return r;
}

/* --- signing ----------------------------------------------------------------- */

/* Every credential person holds in keyset l (any role), appended. */
int
bg_chain_creds_of(const bg_chain_link_t *l, const char *person,
    bg_token_row_t **rowsp, size_t *np, size_t *capp)
{
	size_t i, j, k;
	bool dup;
	int r;

	if (l == NULL)
		return BG_OK;
	for (i = 0; i < l->n_members; i++) {
		const bg_chain_member_t *m = &l->members[i];

		if (strcmp(m->person, person) != 0)
			continue;
		for (j = 0; j < m->n_tokens; j++) {
			const bg_chain_token_t *t = &m->tokens[j];
			bg_token_row_t *row;

			dup = false;
			for (k = 0; k < *np && !dup; k++)
				dup = (*rowsp)[k].cred_id_len ==
				    t->cred_id_len && bg_same((*rowsp)[k].cred_id,
				    t->cred_id, t->cred_id_len);
			if (dup)
				continue;
			if ((r = bg_grow(rowsp, capp, *np, sizeof(**rowsp))) !=
			    BG_OK)
				return r;
			row = &(*rowsp)[(*np)++];
			memset(row, 0, sizeof(*row));
			(void)snprintf(row->label, sizeof(row->label), "%s",
			    t->label);
			row->alg = t->alg;
			memcpy(row->cred_id, t->cred_id, t->cred_id_len);
			row->cred_id_len = t->cred_id_len;
			memcpy(row->pubkey, t->pubkey, t->pubkey_len);
			row->pubkey_len = t->pubkey_len;
			memcpy(row->member_pk, t->member_pk, 32);
			/* not vetted at use (ct NULL): chain links and
			 * custodians' acts must stay signable after a model
			 * is revoked, or a vault whose custodians all hold it
			 * could never be repaired */
		}
	}
	return BG_OK;
}

int
bg_vault_chain_sign(bg_vault_t *v, const char *tenant, const char *person,
    const uint8_t expect[32], bg_token_t *tok, const char *pin,
    bool *committedp)
{
	static const char sig_sql[] = "INSERT OR REPLACE INTO draft_sigs "
	    "(tenant, person, cred_id, authdata, sig) VALUES (?, ?, ?, ?, ?)";
	const char *scope = scope_of(tenant);
	bg_chain_link_t *d = NULL, *head = NULL;
	const bg_chain_link_t *before;
	bg_chain_sig_t *sigs = NULL;
	bg_token_row_t *creds = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	size_t ncreds = 0, cap = 0, nsigs = 0, which = 0;
	uint8_t hash[32], hh[32];
	char why[BG_CHAIN_WHY_MAX], words[96], hex[65];
	json_t *det = NULL;
	int64_t now = 0;
	bool vscope = scope[0] == '\0', genesis = false, ready = false;
	int r = BG_ERR_INTERNAL;

	if (committedp != NULL)
		*committedp = false;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (!vscope && (r = bg_vault_check_name(v, "tenant name", scope)) !=
	    BG_OK))
		goto out;
	if ((tok == NULL) != (pin == NULL)) {	/* both NULL: the check */
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "a token and its PIN "
		    "are needed to sign");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK)
		goto out;
	/* The vault's chain as the file holds it now, in this transaction:
	 * a tenant draft is judged by the custodians in force. */
	if ((r = vault_current(v)) != BG_OK)
		goto out;
	if (v->genesis_bad[0] != '\0') {
		r = bg_chain_require_genesis(v);
		goto out;
	}
	/* The vault's scope: the genesis draft until the genesis is in
	 * force, then the next vault link. */
	genesis = vscope && v->genesis == NULL;
	if (!vscope && ((r = tenant_exists(v, scope)) != BG_OK ||
	    (r = bg_chain_tenant(v, scope, 0, &head, hh)) != BG_OK))
		goto out;
	r = draft_load(v, scope, &d);
	if (r == BG_ERR_NOT_FOUND) {
		r = bg_vault_fail(v, r, "%s has no draft: nothing to sign",
		    scope_words(tenant, words, sizeof(words)));
		goto out;
	}
	if (r != BG_OK)
		goto out;
	if (!vscope && ((r = draft_fits(v, scope, d, head, hh)) != BG_OK ||
	    (r = draft_vault_current(v, scope, d)) != BG_OK))
		goto out;
	if (vscope && !genesis && (r = vault_draft_fits(v, d)) != BG_OK)
		goto out;
	/* The link the draft follows: the vault link in force for the
	 * vault's draft, the tenant's head for a tenant's. */
	before = vscope ? v->vault_head : head;
	if ((r = draft_current(v, scope, d, before, now)) != BG_OK)
		goto out;
	{
		int64_t exp_at = 0;
		char when[32];

		if (!live_now(v, head, person, now, &exp_at)) {
			r = bg_vault_fail(v, BG_ERR_EXPIRED, "%s's membership of "
			    "%s expired at %s: their signature would not count",
			    person, scope, bg_vault_fmt_time(exp_at, when,
			    sizeof(when)));
			goto out;
		}
	}
	if ((r = bg_chain_link_hash(d, hash)) != BG_OK)
		goto out;
	if (expect != NULL &&
	    memcmp(expect, hash, sizeof(hash)) != 0) { /* public: hashes */
		r = bg_vault_fail(v, BG_ERR_STATE, "the draft of %s changed "
		    "since it was shown: show it again and sign what you read",
		    vscope ? "the vault" : scope);
		goto out;
	}
	/* Whatever the person may sign with: as custodian in force, as a
	 * member of the chain in force, or as one the draft names. */
	if ((r = bg_chain_creds_of(v->vault_head, person, &creds, &ncreds,
	    &cap)) != BG_OK ||
	    (r = bg_chain_creds_of(head, person, &creds, &ncreds, &cap)) != BG_OK ||
	    (r = bg_chain_creds_of(d, person, &creds, &ncreds, &cap)) != BG_OK)
		goto out;
	if (ncreds == 0) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s holds no credential in "
		    "%s or its draft: nothing of theirs can sign it", person,
		    scope_words(tenant, words, sizeof(words)));
		goto out;
	}
	if (tok == NULL) {	/* bg_vault_chain_sign_check */
		bg_store_rollback(v);
		goto out;
	}
	if ((r = bg_act_sign(v, tok, pin, person, creds, ncreds, hash, NULL,
	    &as, &which)) != BG_OK) {
		const bg_chain_link_t *in[3] = { v->genesis, head, d };

		if (r == BG_ERR_TOKEN_NO_CREDENTIAL)	/* whose token it is */
			bg_act_identify(v, tok, pin, in, 3, person);
		goto out;
	}
	if ((r = bg_store_cached(v, sig_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 3, creds[which].cred_id,
	    creds[which].cred_id_len)) != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 4, as->authdata, as->authdata_len))
	    != BG_OK ||
	    (r = bg_store_bind_blob(v, st, 5, as->sig, as->sig_len)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	bg_store_done(st);
	st = NULL;
	bg_hex(hash, sizeof(hash), hex);
	if ((det = json_pack("{s:I, s:s}", "seq", (json_int_t)d->seq,
	    "draft_hash", hex)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, person, "chain.sign", d->tenant, "", det);
	det = NULL;
	if (r != BG_OK)
		goto out;
	if ((r = load_sigs(v, scope, -1, &sigs, &nsigs)) != BG_OK)
		goto out;
	/* Count only signers live now, whatever the draft's time says. */
	{
		size_t i, k = 0;
		int64_t exp_at;

		for (i = 0; i < nsigs; i++)
			if (live_now(v, head, sigs[i].person, now, &exp_at))
				sigs[k++] = sigs[i];
		nsigs = k;
	}
	if (genesis)
		r = bg_chain_check_genesis(d, sigs, nsigs, why, sizeof(why));
	else if (vscope)
		r = bg_chain_check_vault(v->vault_head, d, sigs, nsigs, why,
		    sizeof(why));
	else
		r = bg_chain_check(v->vault_head, head, d, sigs, nsigs, why,
		    sizeof(why));
	if (r == BG_OK)
		ready = true;
	else if (r != BG_ERR_DENIED) {
		/* A draft that cannot take effect as it stands (too few
		 * custodians, a malformed roster) is a state, not forgery:
		 * forged signatures are ignored, never an error. */
		r = bg_vault_fail(v, BG_ERR_STATE, "the draft of %s cannot take "
		    "effect: %s", vscope ? "the vault" : scope, why);
		goto out;
	}
	if (ready && (r = commit_draft(v, scope, d, sigs, nsigs, now, person))
	    != BG_OK)
		goto out;
	if ((r = bg_store_commit(v)) != BG_OK)
		goto out;
	/* A new vault link is the chain in force from now on. */
	if (ready && vscope && (r = bg_chain_load_genesis(v)) != BG_OK)
		goto out;
	if (committedp != NULL)
		*committedp = ready;
	r = BG_OK;
out:
	bg_store_done(st);
	json_decref(det);
	bg_token_assertion_free(&as);
	free(creds);
	free(sigs);
	bg_chain_link_free(&d);
	bg_chain_link_free(&head);
	return bg_vault_finish(v, r, person, "chain.sign", scope, "");
}

int
bg_vault_chain_sign_check(bg_vault_t *v, const char *tenant,
    const char *person)
{
	return bg_vault_chain_sign(v, tenant, person, NULL, NULL, NULL, NULL);
}

int
bg_vault_chain_discard(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *tenant)
{
	const char *scope = scope_of(tenant);
	const char *actor = by != NULL ? by->person : NULL;
	sqlite3_stmt *st = NULL;
	bg_tenant_row_t t;
	bg_chain_link_t *d = NULL;
	bg_admin_t a;
	json_t *det = NULL;
	int64_t now = 0;
	char words[96], *lines = NULL;
	bool checked = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK)
		goto out;
	if (scope[0] != '\0' && (r = tenant_exists(v, scope)) != BG_OK)
		goto out;
	/* Who may drop a draft: an operator of the tenant or a custodian;
	 * the vault's draft, a custodian. */
	r = draft_load(v, scope, &d);
	if (r == BG_ERR_NOT_FOUND)
		r = bg_vault_fail(v, r, "%s has no draft",
		    scope_words(tenant, words, sizeof(words)));
	if (r != BG_OK)
		goto out;
	if (scope[0] != '\0') {
		if ((r = bg_tenant_get(v, scope, &t)) == BG_OK)
			r = bg_admin_who(v, &t, by->person, BG_ADMIN_OPERATOR |
			    BG_ADMIN_CUSTODIAN, now, &a);
	} else
		r = bg_admin_who_vault(v, d, by->person, now, &a);
	if (r != BG_OK)
		goto out;
	if ((det = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, scope, &a, by, "chain.discard", lines, now,
	    det, &checked)) != BG_OK || checked)
		goto out;
	if ((r = bg_store_prepare(v, "DELETE FROM drafts WHERE tenant = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	if (sqlite3_changes(v->db) == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s has no draft",
		    scope_words(tenant, words, sizeof(words)));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = bg_store_prepare(v, "DELETE FROM draft_sigs WHERE tenant = ?",
	    &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	r = bg_audit_append(v, now, actor, "chain.discard", scope, "", det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	free(lines);
	bg_admin_clear(&a);
	bg_chain_link_free(&d);
	bg_tenant_row_clear(&t);
	return bg_vault_finish(v, r, actor, "chain.discard", scope, "");
}

/* --- showing ------------------------------------------------------------------- */

static const char *
side_word(int side)
{
	return side == BG_CHAIN_SIDE_CLIENT ? "client " :
	    side == BG_CHAIN_SIDE_MSP ? "msp " : "";
}

static const char *
role_word(int role)
{
	return bg_vault_role_name(role);
}

/* The same credentials (ids and membership keys), in any order. */
static bool
same_creds(const bg_chain_member_t *a, const bg_chain_member_t *b)
{
	size_t i, j;
	bool found;

	if (a->n_tokens != b->n_tokens)
		return false;
	for (i = 0; i < a->n_tokens; i++) {
		found = false;
		for (j = 0; j < b->n_tokens && !found; j++)
			found = a->tokens[i].cred_id_len ==
			    b->tokens[j].cred_id_len &&
			    bg_same(a->tokens[i].cred_id, b->tokens[j].cred_id,
			    a->tokens[i].cred_id_len) &&
			    bg_same(a->tokens[i].member_pk,
			    b->tokens[j].member_pk, 32) &&
			    a->tokens[i].alg == b->tokens[j].alg &&
			    a->tokens[i].pubkey_len ==
			    b->tokens[j].pubkey_len &&
			    bg_same(a->tokens[i].pubkey, b->tokens[j].pubkey,
			    a->tokens[i].pubkey_len);
		if (!found)
			return false;
	}
	return true;
}

/* A vault link's trust store in words: what custodians check before
 * they sign (docs/security.md, "Vetted tokens"). */
static int
render_trust(char **sp, const bg_chain_link_t *l,
    const bg_chain_link_t *before)
{
	const bg_attest_trust_t *t = l->trust;
	char subj[256], fpr[17], day[32], why[BG_CHAIN_WHY_MAX];
	bg_mds_t *mds = NULL;
	const uint8_t *a;
	size_t i;
	int r;

	if ((r = bg_strcatf(sp, "  trust store:%s%s\n", t == NULL ? " none" :
	    "", before != NULL && !bg_attest_trust_same(before->trust, t) ?
	    "  (changed)" : "")) != BG_OK || t == NULL)
		return r;
	if (t->fido_root != NULL) {
		bg_attest_cert_name(t->fido_root, t->fido_root_len, subj,
		    sizeof(subj), fpr);
		r = bg_strcatf(sp, "    FIDO root: %s (sha256 %s)\n", subj, fpr);
	}
	if (r == BG_OK && t->mds != NULL) {
		why[0] = '\0';
		if (bg_mds_parse(t->mds, t->fido_root, t->fido_root_len, l->time,
		    &mds, why, sizeof(why)) == BG_OK)
			r = bg_strcatf(sp, "    metadata BLOB: serial %llu, "
			    "nextUpdate %.10s\n",
			    (unsigned long long)bg_mds_serial(mds),
			    bg_vault_fmt_time(bg_mds_next_update(mds), day,
			    sizeof(day)));
		else
			r = bg_strcatf(sp, "    metadata BLOB: does not verify "
			    "(%s)\n", why);
		bg_mds_free(&mds);
	}
	for (i = 0; i < t->n_roots && r == BG_OK; i++) {
		bg_attest_cert_name(t->roots[i].der, t->roots[i].len, subj,
		    sizeof(subj), fpr);
		r = bg_strcatf(sp, "    vendor root: %s (sha256 %s)\n", subj,
		    fpr);
	}
	for (i = 0; i < t->n_aaguids && r == BG_OK; i++) {
		a = t->aaguids[i];
		r = bg_strcatf(sp, "    allowed AAGUID: %02x%02x%02x%02x-%02x%02x-"
		    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", a[0], a[1],
		    a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
		    a[11], a[12], a[13], a[14], a[15]);
	}
	return r;
}

/*
 * A link in words, each membership marked against the link before it:
 * "+" new, "-" gone, "~" changed, " " the same.  This is what a signer
 * reads before touching; the link's hash is what the token signs.
 */
static int
render(const bg_chain_link_t *l, const bg_chain_link_t *before, char **textp)
{
	char *s = NULL, when[32], fpr[17];
	uint8_t fp[32];
	size_t i, j;
	int r = BG_OK;

	*textp = NULL;
	if (l->scope == BG_CHAIN_VAULT) {
		if (l->seq == 0)
			r = bg_strcatf(&s, "vault genesis of %s (relying party "
			    "%s)\n", l->vault_id, l->rp_id);
		else
			r = bg_strcatf(&s, "vault link %llu of %s (relying "
			    "party %s)%s%s\n", (unsigned long long)l->seq,
			    l->vault_id, l->rp_id, l->note[0] != '\0' ? ": " :
			    "", l->note);
		if (r == BG_OK)
			r = bg_strcatf(&s, "  software tokens: %s%s\n"
			    "  custodian quorum: %d%s\n",
			    l->settings.allow_soft ? "allowed (drill vault)" :
			    "refused (production vault)", before != NULL &&
			    before->settings.allow_soft !=
			    l->settings.allow_soft ? "  (changed)" : "",
			    l->settings.custodian_quorum, before != NULL &&
			    before->settings.custodian_quorum !=
			    l->settings.custodian_quorum ? "  (changed)" : "");
		if (r == BG_OK)
			r = render_trust(&s, l, before);
	} else {
		r = bg_strcatf(&s, "link %llu of tenant %s%s%s\n", (unsigned long long)
		    l->seq, l->tenant, l->note[0] != '\0' ? ": " : "",
		    l->note);
		/* whose custodians count for it */
		if (r == BG_OK && l->vault_seq > 0)
			r = bg_strcatf(&s, "  under vault link %llu\n",
			    (unsigned long long)l->vault_seq);
	}
	if (r == BG_OK)
		r = bg_strcatf(&s, "  dated %s\n", bg_vault_fmt_time(l->time, when,
		    sizeof(when)));
	for (i = 0; i < l->n_members && r == BG_OK; i++) {
		const bg_chain_member_t *m = &l->members[i];
		const bg_chain_member_t *o = before != NULL ?
		    bg_chain_member_find(before, m->person, m->role) : NULL;
		char mark = o == NULL ? '+' : ' ';

		if (o != NULL && (o->expires_at != m->expires_at ||
		    o->side != m->side || !same_creds(o, m)))
			mark = '~';
		r = bg_strcatf(&s, " %c %s%s %s%s%s\n", mark, side_word(m->side),
		    role_word(m->role), m->person, m->expires_at != 0 ?
		    " until " : "", m->expires_at != 0 ? bg_vault_fmt_time(
		    m->expires_at, when, sizeof(when)) : "");
		for (j = 0; j < m->n_tokens && r == BG_OK; j++) {
			/*
			 * Both fingerprints, as each person was shown them
			 * when they enrolled: the signing key (what every
			 * signature of theirs is checked with) and the
			 * membership key (what shares are sealed to, as
			 * member list prints it).  A person whose
			 * fingerprints differ from their own must not let
			 * anyone sign.
			 */
			crypto_hash_sha256(fp, m->tokens[j].pubkey,
			    m->tokens[j].pubkey_len);
			bg_hex(fp, 8, fpr);
			r = bg_strcatf(&s, "      token '%s'%s, signing key %s",
			    m->tokens[j].label, m->tokens[j].soft ?
			    " (software token)" : "", fpr);
			if (r == BG_OK && m->role != BG_CHAIN_ROLE_CUSTODIAN) {
				crypto_hash_sha256(fp, m->tokens[j].member_pk,
				    32);
				bg_hex(fp, 8, fpr);
				r = bg_strcatf(&s, ", membership key %s", fpr);
			}
			if (r == BG_OK)
				r = bg_strcatf(&s, "\n");
		}
	}
	for (i = 0; before != NULL && i < before->n_members && r == BG_OK;
	    i++)
		if (bg_chain_member_find(l, before->members[i].person,
		    before->members[i].role) == NULL)
			r = bg_strcatf(&s, " - %s%s %s\n",
			    side_word(before->members[i].side),
			    role_word(before->members[i].role),
			    before->members[i].person);
	if (l->scope == BG_CHAIN_TENANT && r == BG_OK)
		r = bg_strcatf(&s, "  policy: %s%s\n  max TTL %llds, approval window "
		    "%llds, rotation deadline %llds, client co-signers %d\n",
		    l->policy != NULL ? l->policy : "(none yet)",
		    before != NULL && ((before->policy == NULL) !=
		    (l->policy == NULL) || (l->policy != NULL &&
		    strcmp(before->policy, l->policy) != 0)) ? "  (changed)" :
		    "", (long long)l->settings.max_ttl,
		    (long long)l->settings.approval_window,
		    (long long)l->settings.rotation_deadline,
		    l->settings.client_cosign);
	if (l->has_exception && r == BG_OK)
		r = bg_strcatf(&s, "  exception (MSP may approve its own access) until "
		    "%s: %s\n", bg_vault_fmt_time(l->exception_expires, when,
		    sizeof(when)), l->exception_reason);
	if (r != BG_OK) {
		free(s);
		return r;
	}
	*textp = s;
	return BG_OK;
}


int
bg_vault_chain_show(bg_vault_t *v, const char *tenant,
    bg_vault_chain_view_t **viewp)
{
	const char *scope = scope_of(tenant);
	bg_vault_chain_view_t *w = NULL;
	bg_chain_link_t *head = NULL, *d = NULL;
	const bg_chain_link_t *before;
	bg_chain_sig_t *sigs = NULL;
	size_t nsigs = 0;
	uint8_t hh[32];
	char why[BG_CHAIN_WHY_MAX];
	bool vscope = scope[0] == '\0', genesis, fits;
	int r = BG_ERR_INTERNAL;

	if (viewp != NULL)
		*viewp = NULL;
	bg_vault_clear_err(v);
	if (viewp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (!vscope && (r = bg_vault_check_name(v, "tenant name", scope)) !=
	    BG_OK)
		goto out;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	(void)snprintf(w->scope, sizeof(w->scope), "%s", scope);
	if ((r = vault_current(v)) != BG_OK)
		goto out;
	if (vscope && v->genesis_bad[0] != '\0') {
		r = bg_chain_require_genesis(v);
		goto out;
	}
	genesis = vscope && v->genesis == NULL;
	if (vscope) {
		if (v->vault_head != NULL) {
			w->has_head = true;
			w->head_seq = v->vault_head->seq;
			bg_hex(v->vault_head_hash, 32, w->head_hash);
		}
	} else {
		if ((r = tenant_exists(v, scope)) != BG_OK)
			goto out;
		if ((r = bg_chain_tenant(v, scope, 0, &head, hh)) != BG_OK)
			goto out;
		if (head != NULL) {
			w->has_head = true;
			w->head_seq = head->seq;
			bg_hex(hh, sizeof(hh), w->head_hash);
		}
	}
	before = vscope ? v->vault_head : head;
	r = draft_load(v, scope, &d);
	if (r != BG_OK && r != BG_ERR_NOT_FOUND)
		goto out;
	fits = r == BG_OK && (genesis || (vscope ?
	    vault_draft_fits(v, d) == BG_OK :
	    draft_fits(v, scope, d, head, hh) == BG_OK));
	if (fits) {
		w->has_draft = true;
		w->draft_seq = d->seq;
		if ((r = bg_chain_link_hash(d, w->draft_hash_raw)) != BG_OK)
			goto out;
		bg_hex(w->draft_hash_raw, 32, w->draft_hash);
		if ((r = load_sigs(v, scope, -1, &sigs, &nsigs)) != BG_OK)
			goto out;
		signers_words(sigs, nsigs, w->signed_by, sizeof(w->signed_by));
		why[0] = '\0';
		if (genesis)
			r = bg_chain_check_genesis(d, sigs, nsigs, why,
			    sizeof(why));
		else if (vscope)
			r = bg_chain_check_vault(v->vault_head, d, sigs, nsigs,
			    why, sizeof(why));
		else if (draft_vault_current(v, scope, d) != BG_OK) {
			(void)snprintf(why, sizeof(why), "cannot take effect: "
			    "%s", bg_vault_errmsg(v));
			r = BG_ERR_STATE;
		} else
			r = bg_chain_check(v->vault_head, head, d, sigs, nsigs,
			    why, sizeof(why));
		w->ready = r == BG_OK;
		(void)snprintf(w->needs, sizeof(w->needs), "%s", w->ready ?
		    "nothing more: it takes effect with the next signature" :
		    why);
		if ((r = render(d, before, &w->text)) != BG_OK)
			goto out;
	} else if (before != NULL) {
		if ((r = render(before, NULL, &w->text)) != BG_OK)
			goto out;
	}
	bg_vault_clear_err(v);
	*viewp = w;
	w = NULL;
	r = BG_OK;
out:
	bg_vault_chain_view_free(&w);
	free(sigs);
	bg_chain_link_free(&d);
	bg_chain_link_free(&head);
	return bg_vault_fail_default(v, r);
}

void
bg_vault_chain_view_free(bg_vault_chain_view_t **viewp)
{
	if (viewp == NULL || *viewp == NULL)
		return;
	free((*viewp)->text);
	free(*viewp);
	*viewp = NULL;
}

/* --- enrolling a credential (custodians and members) ----------------------- */

int
bg_chain_new_credential(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const char *person, bool allow_soft, const char *purpose,
    bg_chain_token_t *ct, bg_token_row_t *nr, bg_token_cred_t **credp)
{
	bg_token_features_t feat;
	bg_token_cred_t *cred = NULL;
	const char *why = NULL;
	bool soft;
	int r = BG_ERR_INTERNAL;

	*credp = NULL;
	memset(ct, 0, sizeof(*ct));
	/* Probe before anything asks for a touch. */
	memset(&feat, 0, sizeof(feat));
	if ((r = bg_token_probe(tok, &feat)) != BG_OK) {
		r = bg_vault_fail(v, r, "probing the token: %s",
		    bg_strerror(r));
		goto out;
	}
	soft = feat.is_soft || bg_same(feat.aaguid, bg_token_soft_aaguid,
	    BG_TOKEN_AAGUID_LEN);
	if (soft && !allow_soft) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_SOFT_REFUSED, "this is a "
		    "breakglass software token, and this vault was created "
		    "without --allow-soft-tokens: enroll a hardware token");
		goto out;
	}
	if ((r = bg_token_check_usable(&feat, &why)) != BG_OK) {
		r = bg_vault_fail(v, r, "this token cannot %s: %s", purpose,
		    why != NULL ? why : bg_strerror(r));
		goto out;
	}
	if ((r = bg_token_enroll(tok, v->rp_id, person, 0, pin, &cred)) !=
	    BG_OK) {
		r = bg_vault_fail(v, r, "enrolling the token: %s",
		    bg_strerror(r));
		goto out;
	}
	soft = soft || cred->is_soft || bg_same(cred->aaguid,
	    bg_token_soft_aaguid, BG_TOKEN_AAGUID_LEN);
	if (soft && !allow_soft) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_SOFT_REFUSED, "the credential "
		    "comes from a breakglass software token, and this vault "
		    "was created without --allow-soft-tokens");
		goto out;
	}
	if (cred->id_len > sizeof(ct->cred_id) ||
	    cred->pubkey_len > sizeof(ct->pubkey) ||
	    bg_act_new_cred(cred, nr) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_PROTOCOL, "the token made an "
		    "oversized credential");
		goto out;
	}
	ct->alg = cred->alg;
	memcpy(ct->cred_id, cred->id, cred->id_len);
	ct->cred_id_len = cred->id_len;
	memcpy(ct->pubkey, cred->pubkey, cred->pubkey_len);
	ct->pubkey_len = cred->pubkey_len;
	memcpy(ct->aaguid, cred->aaguid, sizeof(ct->aaguid));
	ct->soft = soft;
	(void)snprintf(ct->fmt, sizeof(ct->fmt), "%s", cred->fmt != NULL ?
	    cred->fmt : "");
	ct->attestation = cred->attestation;
	ct->cred_protect = cred->cred_protect;
	/* The attestation goes into the link whole, so that whoever
	 * verifies the chain can check it again. */
	if (cred->att_stmt_len > 0 && cred->att_authdata_len > 0) {
		if (cred->att_stmt_len > sizeof(ct->att_stmt) ||
		    cred->att_authdata_len > sizeof(ct->att_authdata)) {
			r = bg_vault_fail(v, BG_ERR_TOKEN_PROTOCOL, "the token's "
			    "attestation is larger than a link keeps (%zu "
			    "bytes)", sizeof(ct->att_stmt));
			goto out;
		}
		memcpy(ct->att_stmt, cred->att_stmt, cred->att_stmt_len);
		ct->att_stmt_len = cred->att_stmt_len;
		memcpy(ct->att_authdata, cred->att_authdata,
		    cred->att_authdata_len);
		ct->att_authdata_len = cred->att_authdata_len;
		memcpy(ct->att_cdh, cred->att_cdh, sizeof(ct->att_cdh));
	}
	*credp = cred;
	cred = NULL;
	r = BG_OK;
out:
	bg_token_cred_free(&cred);
	return r;
}

int
bg_chain_vet(bg_vault_t *v, const bg_chain_link_t *vl,
    const bg_chain_token_t *ct, int64_t now)
{
	bg_attest_evidence_t e;
	char why[BG_CHAIN_WHY_MAX];
	int r;

	if (vl == NULL || vl->settings.allow_soft)
		return BG_OK;
	if (!bg_attest_trust_vets(vl->trust))
		return bg_vault_fail(v, BG_ERR_TOKEN_ATTESTATION, "this "
		    "production vault pins no trust store, so it can vet no "
		    "token: custodians pin one with vault custodian trust "
		    "(or make a drill vault with --allow-soft-tokens)");
	if (ct->att_stmt_len == 0)
		return bg_vault_fail(v, BG_ERR_TOKEN_ATTESTATION, "the token "
		    "gave no attestation (format '%s'); this production vault "
		    "takes only tokens whose attestation its trust store "
		    "vets", ct->fmt);
	memset(&e, 0, sizeof(e));
	e.rp_id = v->rp_id;
	e.alg = ct->alg;
	e.cred_id = ct->cred_id;
	e.cred_id_len = ct->cred_id_len;
	e.pubkey = ct->pubkey;
	e.pubkey_len = ct->pubkey_len;
	e.aaguid = ct->aaguid;
	e.fmt = ct->fmt;
	e.authdata = ct->att_authdata;
	e.authdata_len = ct->att_authdata_len;
	e.stmt = ct->att_stmt;
	e.stmt_len = ct->att_stmt_len;
	e.cdh = ct->att_cdh;
	why[0] = '\0';
	if ((r = bg_attest_verify(vl->trust, NULL, &e, now, NULL, 0, why,
	    sizeof(why))) != BG_OK)
		return bg_vault_fail(v, r, "%s", why[0] != '\0' ? why :
		    bg_strerror(r));
	return BG_OK;
}

int
bg_chain_enroll_prove(bg_vault_t *v, bg_token_t *tok, const char *pin,
    const bg_chain_link_t *d, const bg_chain_member_t *m,
    bg_chain_token_t *ct, const bg_token_row_t *nr)
{
	bg_token_assertion_t *as = NULL;
	uint8_t cdh[32];
	size_t which = 0;
	int r;

	/* The new credential signs the statement carrying its key, the
	 * derived membership key and the salt: whoever writes the file
	 * cannot swap a key in. */
	if ((r = bg_chain_enroll_cdh(d, m, ct, cdh, NULL)) == BG_OK &&
	    (r = bg_act_sign(v, tok, pin, m->person, nr, 1, cdh, NULL, &as,
	    &which)) == BG_OK) {
		memcpy(ct->enroll_authdata, as->authdata, as->authdata_len);
		ct->enroll_authdata_len = as->authdata_len;
		memcpy(ct->enroll_sig, as->sig, as->sig_len);
		ct->enroll_sig_len = as->sig_len;
	}
	bg_token_assertion_free(&as);
	return r;
}

/* --- custodians ---------------------------------------------------------------- */

/* Words for the vault link's note: what the amendments did, in order. */
static void
note_add(bg_chain_link_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note_add(bg_chain_link_t *d, const char *fmt, ...)
{
	char part[160];
	size_t n = strlen(d->note), k;
	int w;
	va_list ap;

	va_start(ap, fmt);
	w = vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(part))
		return;
	k = (size_t)w;
	/* names and numbers only; a note that is full stays as it is */
	if (n + (n > 0 ? 2 : 0) + k > BG_CHAIN_REASON_MAX)
		return;
	if (n > 0) {
		memcpy(d->note + n, "; ", 2);
		n += 2;
	}
	memcpy(d->note + n, part, k + 1);
}

/*
 * The vault's draft to amend: the genesis draft until the genesis is in
 * force (*genesisp true; a new one made when there is none), else the
 * next vault link.  Inside the caller's transaction.
 */
static int
custodian_draft(bg_vault_t *v, int64_t now, bool genesis_ok,
    bg_chain_link_t **dp, bool *genesisp)
{
	bg_chain_link_t *d = NULL;
	int r = BG_ERR_INTERNAL;

	*dp = NULL;
	*genesisp = false;
	if ((r = vault_current(v)) != BG_OK)
		goto out;
	if (v->genesis != NULL || v->genesis_bad[0] != '\0' || !genesis_ok) {
		r = vault_draft_get(v, now, dp);
		goto out;
	}
	*genesisp = true;
	r = draft_load(v, GENESIS_SCOPE, &d);
	if (r == BG_ERR_NOT_FOUND) {
		if ((d = bg_chain_link_new()) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		d->scope = BG_CHAIN_VAULT;
		(void)snprintf(d->vault_id, sizeof(d->vault_id), "%s", v->id);
		(void)snprintf(d->rp_id, sizeof(d->rp_id), "%s", v->rp_id);
		d->settings.allow_soft = v->allow_soft;
		d->settings.custodian_quorum = 2;
		d->time = now;
	} else if (r != BG_OK)
		goto out;
	*dp = d;
	d = NULL;
	r = BG_OK;
out:
	bg_chain_link_free(&d);
	return r;
}

int
bg_vault_custodian_add(bg_vault_t *v, const char *person, const char *label,
    int quorum, bg_token_t *tok, const char *pin)
{
	/* The new custodian acts: their new credential signs the
	 * enrollment proof. */
	const char *actor = person;
	bg_chain_link_t *d = NULL;
	bg_chain_member_t m;
	bg_chain_token_t ct;
	bg_token_row_t nr;
	bg_token_cred_t *cred = NULL;
	json_t *det = NULL;
	int64_t now = 0;
	size_t dropped = 0;
	bool genesis = false;
	int r = BG_ERR_INTERNAL;

	memset(&m, 0, sizeof(m));
	memset(&ct, 0, sizeof(ct));
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "custodian", person)) != BG_OK)
		goto out;
	if (label != NULL && label[0] != '\0' &&
	    (r = bg_vault_check_text(v, "label", label, BG_VAULT_LABEL_MAX))
	    != BG_OK)
		goto out;
	if (tok == NULL || pin == NULL) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "a token and its PIN "
		    "are needed to enroll a custodian");
		goto out;
	}
	if (quorum < 0 || quorum > BG_CHAIN_MAX_MEMBERS) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the custodian quorum must "
		    "be at least 2");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK)
		goto out;
	if ((r = custodian_draft(v, now, true, &d, &genesis)) != BG_OK)
		goto out;
	if (quorum != 0)
		d->settings.custodian_quorum = quorum;
	if (bg_chain_member_find(d, person, BG_CHAIN_ROLE_CUSTODIAN) != NULL) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, genesis ? "%s is a "
		    "custodian of this genesis already" : "%s is a custodian "
		    "already (in the vault's draft)", person);
		goto out;
	}
	/* The draft decides: a production vault's next link takes no
	 * software token even while the link in force still allows them. */
	if ((r = bg_chain_new_credential(v, tok, pin, person,
	    d->settings.allow_soft, "serve a custodian", &ct, &nr, &cred)) !=
	    BG_OK)
		goto out;
	if (!genesis && (r = bg_chain_cred_unique(v, person, ct.cred_id,
	    ct.cred_id_len)) != BG_OK)
		goto out;
	if ((r = bg_chain_vet(v, d, &ct, now)) != BG_OK)
		goto out;
	(void)snprintf(m.person, sizeof(m.person), "%s", person);
	m.role = BG_CHAIN_ROLE_CUSTODIAN;
	(void)snprintf(ct.label, sizeof(ct.label), "%s", label != NULL &&
	    label[0] != '\0' ? label : "custodian token");
	if ((r = bg_chain_enroll_prove(v, tok, pin, d, &m, &ct, &nr)) !=
	    BG_OK)
		goto out;
	if ((r = bg_chain_member_add(d, &m)) != BG_OK ||
	    (r = bg_chain_member_add_token(bg_chain_member_find(d, person,
	    BG_CHAIN_ROLE_CUSTODIAN), &ct)) != BG_OK) {
		r = bg_vault_fail(v, r, "adding custodian %s to %s: %s",
		    person, genesis ? "the genesis" : "the vault's draft",
		    bg_strerror(r));
		goto out;
	}
	if (!genesis)
		note_add(d, "custodian %s added", person);
	if ((det = json_pack("{s:s, s:b, s:i}", "label", ct.label, "soft",
	    ct.soft, "quorum", d->settings.custodian_quorum)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_put(v, GENESIS_SCOPE, d, now, &dropped, det))
	    != BG_OK)
		goto out;
	(void)json_object_set_new(det, "signatures_dropped",
	    json_integer((json_int_t)dropped));
	r = bg_audit_append(v, now, actor, "custodian.add", "", person, det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	bg_chain_note_enrolled(v, &ct, false);
	r = BG_OK;
out:
	json_decref(det);
	bg_token_cred_free(&cred);
	bg_chain_link_free(&d);
	return bg_vault_finish(v, r, actor, "custodian.add", "", person);
}

/* How many custodians of the vault link in force d keeps. */
static size_t
custodians_kept(const bg_vault_t *v, const bg_chain_link_t *d)
{
	size_t i, n = 0;

	for (i = 0; i < v->vault_head->n_members; i++)
		if (bg_chain_member_find(d, v->vault_head->members[i].person,
		    BG_CHAIN_ROLE_CUSTODIAN) != NULL)
			n++;
	return n;
}

int
bg_vault_custodian_remove(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *person)
{
	bg_admin_t a;
	char *lines = NULL;
	const char *actor = by != NULL ? by->person : NULL;
	bool checked = false;
	bg_chain_link_t *d = NULL;
	json_t *det = NULL;
	int64_t now = 0;
	size_t dropped = 0, left, kept;
	bool genesis = false;
	int r = BG_ERR_INTERNAL;

	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = bg_vault_check_name(v, "custodian", person)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = custodian_draft(v, now, false, &d, &genesis)) != BG_OK ||
	    (r = bg_admin_who_vault(v, d, by->person, now, &a)) != BG_OK)
		goto out;
	if (bg_chain_member_find(d, person, BG_CHAIN_ROLE_CUSTODIAN) ==
	    NULL) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s is not a custodian "
		    "of the vault's draft", person);
		goto out;
	}
	left = d->n_members - 1;
	if (left < 2) {
		r = bg_vault_fail(v, BG_ERR_STATE, "a vault keeps at least two "
		    "custodians: add another before removing %s", person);
		goto out;
	}
	if ((size_t)d->settings.custodian_quorum > left) {
		r = bg_vault_fail(v, BG_ERR_STATE, "the custodian quorum is %d; "
		    "with %zu custodians left it could not be met: lower it "
		    "first (vault custodian set --custodian-quorum %zu)",
		    d->settings.custodian_quorum, left, left);
		goto out;
	}
	if ((r = bg_chain_member_remove(d, person, BG_CHAIN_ROLE_CUSTODIAN))
	    != BG_OK)
		goto out;
	/* A custodian never signs off their own removal: those kept must
	 * reach the quorum in force, or the draft could never take effect. */
	kept = custodians_kept(v, d);
	if (kept < (size_t)v->vault_head->settings.custodian_quorum) {
		r = bg_vault_fail(v, BG_ERR_STATE, "removing %s leaves %zu "
		    "custodian%s of the vault link in force to sign, fewer than "
		    "its quorum of %d: lower the quorum in a vault link of its "
		    "own first", person, kept, kept == 1 ? "" : "s",
		    v->vault_head->settings.custodian_quorum);
		goto out;
	}
	note_add(d, "custodian %s removed", person);
	if ((det = json_pack("{s:i}", "quorum",
	    d->settings.custodian_quorum)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_put(v, GENESIS_SCOPE, d, now, &dropped, det))
	    != BG_OK)
		goto out;
	(void)json_object_set_new(det, "signatures_dropped",
	    json_integer((json_int_t)dropped));
	if ((r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, "", &a, by, "custodian.remove", lines,
	    now, det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "custodian.remove", "", person,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	free(lines);
	bg_admin_clear(&a);
	json_decref(det);
	bg_chain_link_free(&d);
	return bg_vault_finish(v, r, actor, "custodian.remove", "", person);
}

int
bg_vault_custodian_set(bg_vault_t *v, const bg_vault_signer_t *by,
    int quorum, int allow_soft)
{
	bg_admin_t a;
	char *lines = NULL;
	const char *actor = by != NULL ? by->person : NULL;
	bool checked = false;
	bg_chain_link_t *d = NULL;
	const bg_chain_member_t *m;
	json_t *det = NULL;
	int64_t now = 0;
	size_t dropped = 0, i;
	bool genesis = false;
	int r = BG_ERR_INTERNAL;

	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if (quorum == 0 && allow_soft < 0) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "nothing to set: give "
		    "a custodian quorum, or allow or refuse software tokens");
		goto out;
	}
	if (quorum < 0 || quorum > BG_CHAIN_MAX_MEMBERS || allow_soft > 1) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the custodian quorum must "
		    "be at least 2");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = custodian_draft(v, now, false, &d, &genesis)) != BG_OK ||
	    (r = bg_admin_who_vault(v, d, by->person, now, &a)) != BG_OK)
		goto out;
	if (quorum != 0 && (quorum < 2 || (size_t)quorum > d->n_members)) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "the custodian quorum must "
		    "be 2..%zu (the custodians of the vault's draft)",
		    d->n_members);
		goto out;
	}
	if (allow_soft == 0) {
		for (i = 0; i < d->n_members; i++) {
			m = &d->members[i];
			if (m->n_tokens > 0 && m->tokens[0].soft) {
				r = bg_vault_fail(v, BG_ERR_STATE, "custodian "
				    "%s's token is a software token, which a "
				    "production vault refuses: replace it first "
				    "(vault custodian remove, then add with a "
				    "hardware token)", m->person);
				goto out;
			}
		}
		if (!bg_attest_trust_vets(d->trust)) {
			r = bg_vault_fail(v, BG_ERR_STATE, "a production vault "
			    "vets every token against a trust store, and the "
			    "vault's draft pins none that vets: pin one first "
			    "(vault custodian trust)");
			goto out;
		}
	}
	if (quorum != 0 && quorum != d->settings.custodian_quorum) {
		d->settings.custodian_quorum = quorum;
		note_add(d, "custodian quorum %d", quorum);
	}
	if (allow_soft >= 0 && (allow_soft == 1) != d->settings.allow_soft) {
		d->settings.allow_soft = allow_soft == 1;
		note_add(d, "%s vault", allow_soft == 1 ? "drill" :
		    "production");
	}
	if ((det = json_pack("{s:i, s:b}", "quorum",
	    d->settings.custodian_quorum, "allow_soft",
	    d->settings.allow_soft)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_put(v, GENESIS_SCOPE, d, now, &dropped, det))
	    != BG_OK)
		goto out;
	(void)json_object_set_new(det, "signatures_dropped",
	    json_integer((json_int_t)dropped));
	if ((r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, "", &a, by, "custodian.set", lines,
	    now, det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "custodian.set", "", "", det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	free(lines);
	bg_admin_clear(&a);
	json_decref(det);
	bg_chain_link_free(&d);
	return bg_vault_finish(v, r, actor, "custodian.set", "", "");
}

/* --- vetted tokens: the trust store in the vault's draft ------------------ */

static int
custodian_trust(bg_vault_t *v, const bg_vault_signer_t *by,
    const bg_attest_trust_t *add, bool clear_roots, bool clear_aaguids)
{
	const char *actor = by != NULL ? by->person : NULL;
	bg_admin_t a;
	char *lines = NULL;
	bool checked = false;
	bg_chain_link_t *d = NULL;
	bg_attest_trust_t *nt = NULL;
	bg_mds_t *mds = NULL, *old = NULL;
	json_t *det = NULL;
	char why[BG_CHAIN_WHY_MAX];
	int64_t now = 0;
	size_t dropped = 0, i;
	bool genesis = false;
	int r = BG_ERR_INTERNAL;

	memset(&a, 0, sizeof(a));
	bg_vault_clear_err(v);
	why[0] = '\0';
	if ((r = bg_admin_need(v, by)) != BG_OK)
		goto out;
	if (add == NULL || (add->fido_root == NULL && add->mds == NULL &&
	    add->n_roots == 0 && add->n_aaguids == 0 && !clear_roots &&
	    !clear_aaguids)) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "nothing to pin: give "
		    "a FIDO root, a metadata BLOB, a root or an AAGUID");
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = custodian_draft(v, now, true, &d, &genesis)) != BG_OK)
		goto out;
	/* A genesis draft that names nobody yet exists only inside vault
	 * init, before its first custodian enrolls: nobody can sign there,
	 * and every custodian's signature on the genesis will vouch for the
	 * trust store it carries.  Everywhere else a custodian signs. */
	if (!(genesis && d->n_members == 0) &&
	    (r = bg_admin_who_vault(v, d, by->person, now, &a)) != BG_OK)
		goto out;
	if (d->trust != NULL) {
		if ((r = bg_attest_trust_dup(d->trust, &nt)) != BG_OK)
			goto out;
	} else if ((nt = bg_attest_trust_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (clear_roots) {
		for (i = 0; i < nt->n_roots; i++)
			free(nt->roots[i].der);
		free(nt->roots);
		nt->roots = NULL;
		nt->n_roots = 0;
	}
	if (clear_aaguids) {
		free(nt->aaguids);
		nt->aaguids = NULL;
		nt->n_aaguids = 0;
	}
	if (add->fido_root != NULL) {
		free(nt->fido_root);
		if ((nt->fido_root = malloc(add->fido_root_len)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		memcpy(nt->fido_root, add->fido_root, add->fido_root_len);
		nt->fido_root_len = add->fido_root_len;
	}
	for (i = 0; i < add->n_roots; i++) {
		if ((r = bg_attest_trust_add_root(nt, add->roots[i].der,
		    add->roots[i].len)) != BG_OK) {
			r = bg_vault_fail(v, r, "attestation root %zu: %s", i + 1,
			    r == BG_ERR_EXISTS ? "pinned already" :
			    bg_strerror(r));
			goto out;
		}
	}
	for (i = 0; i < add->n_aaguids; i++) {
		if ((r = bg_attest_trust_add_aaguid(nt, add->aaguids[i])) !=
		    BG_OK) {
			r = bg_vault_fail(v, r, "AAGUID %zu: %s", i + 1,
			    r == BG_ERR_EXISTS ? "on the allow-list already" :
			    bg_strerror(r));
			goto out;
		}
	}
	if (add->mds != NULL) {
		free(nt->mds);
		if ((nt->mds = strdup(add->mds)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
	}
	if (nt->mds != NULL) {
		if (nt->fido_root == NULL) {
			r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "a metadata "
			    "BLOB needs the FIDO root it is verified against "
			    "(--fido-root)");
			goto out;
		}
		if ((r = bg_mds_parse(nt->mds, nt->fido_root,
		    nt->fido_root_len, now, &mds, why, sizeof(why))) !=
		    BG_OK) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s", why);
			goto out;
		}
		if (now > bg_mds_next_update(mds)) {
			r = bg_vault_fail(v, BG_ERR_EXPIRED, "the metadata BLOB "
			    "(no %llu) passed its nextUpdate; load a current "
			    "one", (unsigned long long)bg_mds_serial(mds));
			goto out;
		}
		if (d->trust != NULL && d->trust->mds != NULL &&
		    strcmp(d->trust->mds, nt->mds) != 0) {
			if ((r = bg_mds_parse(d->trust->mds, d->trust->fido_root,
			    d->trust->fido_root_len, d->time, &old, NULL, 0))
			    == BG_OK && bg_mds_serial(mds) <=
			    bg_mds_serial(old)) {
				r = bg_vault_fail(v, BG_ERR_STATE, "the metadata "
				    "BLOB's serial number %llu is not above "
				    "the one pinned (%llu): an older or "
				    "replayed BLOB",
				    (unsigned long long)bg_mds_serial(mds),
				    (unsigned long long)bg_mds_serial(old));
				goto out;
			}
		}
	}
	if ((r = bg_attest_trust_validate(nt, why, sizeof(why))) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "%s", why);
		goto out;
	}
	if (!d->settings.allow_soft && !bg_attest_trust_vets(nt)) {
		r = bg_vault_fail(v, BG_ERR_STATE, "a production vault's trust "
		    "store must vet tokens: keep a metadata BLOB with its FIDO "
		    "root, or a vendor root and an AAGUID on the allow-list");
		goto out;
	}
	if (bg_attest_trust_same(d->trust, nt)) {
		r = bg_vault_fail(v, BG_ERR_STATE, "the vault's draft pins "
		    "this trust store already");
		goto out;
	}
	bg_attest_trust_free(&d->trust);
	d->trust = nt;
	nt = NULL;
	note_add(d, "trust store: %s%zu roots, %zu AAGUIDs%s",
	    d->trust->fido_root != NULL ? "FIDO root, " : "",
	    d->trust->n_roots, d->trust->n_aaguids,
	    mds != NULL ? ", metadata BLOB" : "");
	if ((det = json_pack("{s:b, s:i, s:i, s:I}", "fido_root",
	    d->trust->fido_root != NULL, "roots", (int)d->trust->n_roots,
	    "aaguids", (int)d->trust->n_aaguids, "mds_no",
	    (json_int_t)bg_mds_serial(mds))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_chain_draft_put(v, GENESIS_SCOPE, d, now, &dropped, det))
	    != BG_OK)
		goto out;
	(void)json_object_set_new(det, "signatures_dropped",
	    json_integer((json_int_t)dropped));
	if (a.n > 0 && ((r = bg_admin_draft_lines(d, NULL, &lines)) != BG_OK ||
	    (r = bg_admin_act(v, "", &a, by, "custodian.trust", lines, now,
	    det, &checked)) != BG_OK || checked))
		goto out;
	r = bg_audit_append(v, now, actor, "custodian.trust", "", "", det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	free(lines);
	bg_admin_clear(&a);
	json_decref(det);
	bg_mds_free(&mds);
	bg_mds_free(&old);
	bg_attest_trust_free(&nt);
	bg_chain_link_free(&d);
	return bg_vault_finish(v, r, actor, "custodian.trust", "", "");
}

/* The BLOB file: base64url text and dots, one line, bounded. */
static int
read_mds(bg_vault_t *v, const char *path, char **outp)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;
	int r = BG_ERR_INTERNAL;

	*outp = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		r = bg_vault_fail(v, BG_ERR_IO, "%s cannot be read", path);
		goto out;
	}
	if ((buf = malloc(BG_ATTEST_MDS_MAX + 2)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	n = fread(buf, 1, BG_ATTEST_MDS_MAX + 1, f);
	if (ferror(f) || n > BG_ATTEST_MDS_MAX) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "%s is not a metadata BLOB "
		    "of at most %u bytes", path, BG_ATTEST_MDS_MAX);
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0 || strlen(buf) != n) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "%s is not a metadata BLOB "
		    "(a JWS in one line)", path);
		goto out;
	}
	*outp = buf;
	buf = NULL;
	r = BG_OK;
out:
	if (f != NULL)
		(void)fclose(f);
	free(buf);
	return r;
}

int
bg_vault_custodian_trust(bg_vault_t *v, const bg_vault_signer_t *by,
    const char *fido_root, const char *mds, const char *const *roots,
    size_t n_roots, const uint8_t (*aaguids)[16], size_t n_aaguids,
    bool clear)
{
	bg_attest_trust_t *add = NULL;
	char why[BG_CHAIN_WHY_MAX];
	uint8_t *der = NULL;
	size_t len = 0, i;
	int r = BG_ERR_INTERNAL;

	bg_vault_clear_err(v);
	if ((add = bg_attest_trust_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (n_roots > BG_ATTEST_ROOTS_MAX || n_aaguids > BG_ATTEST_AAGUIDS_MAX) {
		r = bg_vault_fail(v, BG_ERR_RANGE, "at most %d roots and %d "
		    "AAGUIDs", BG_ATTEST_ROOTS_MAX, BG_ATTEST_AAGUIDS_MAX);
		goto out;
	}
	if (fido_root != NULL) {
		if ((r = bg_attest_cert_read(fido_root, &add->fido_root,
		    &add->fido_root_len, why, sizeof(why))) != BG_OK) {
			r = bg_vault_fail(v, r, "--fido-root: %s", why);
			goto out;
		}
	}
	if (mds != NULL && (r = read_mds(v, mds, &add->mds)) != BG_OK)
		goto out;
	for (i = 0; i < n_roots; i++) {
		if ((r = bg_attest_cert_read(roots[i], &der, &len, why,
		    sizeof(why))) != BG_OK) {
			r = bg_vault_fail(v, r, "--root: %s", why);
			goto out;
		}
		r = bg_attest_trust_add_root(add, der, len);
		free(der);
		der = NULL;
		if (r != BG_OK) {
			r = bg_vault_fail(v, r, "--root %s: %s", roots[i],
			    r == BG_ERR_EXISTS ? "given twice" : bg_strerror(r));
			goto out;
		}
	}
	for (i = 0; i < n_aaguids; i++) {
		if ((r = bg_attest_trust_add_aaguid(add, aaguids[i])) != BG_OK) {
			r = bg_vault_fail(v, r, "--allow-aaguid: %s",
			    r == BG_ERR_EXISTS ? "an AAGUID given twice" :
			    bg_strerror(r));
			goto out;
		}
	}
	r = custodian_trust(v, by, add, clear, clear);
out:
	free(der);
	bg_attest_trust_free(&add);
	return r;
}

/* The stored signatures of link seq of scope ("" for the vault), for
 * request packets (packet.c). */
int
bg_chain_link_sigs(bg_vault_t *v, const char *scope, int64_t seq,
    bg_chain_sig_t **sigsp, size_t *np)
{
	return load_sigs(v, scope, seq, sigsp, np);
}
