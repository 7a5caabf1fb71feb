/*
 * The keyset chains in the vault file: loading and verifying the genesis
 * and a tenant's links (chain.c does the verifying; this file only reads
 * and writes rows), drafts and their signatures, and a link taking
 * effect.
 *
 * Every read re-verifies from the genesis by signatures: nothing here is
 * cached in the file as "verified" (docs/security.md).  The rows that a
 * link writes when it takes effect (memberships, tokens, the tenant's
 * policy and settings) are for listings and ids only; the flows that
 * decide anything read the verified link (bg_tenant_get).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "policy.h"
#include "vault_int.h"

/* The scope key of the genesis in links, drafts and signatures. */
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
		(void)snprintf(buf, cap, "the vault's genesis");
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
 * none).  Deleting links to roll a chain back to an older keyset then
 * also needs the log rewritten, which receipts, backups' signed heads
 * and witnesses catch (docs/security.md says what this does not stop).
 */
static int
logged_seq(bg_vault_t *v, const char *scope, int64_t *seqp)
{
	static const char sql[] = "SELECT max(CAST(json_extract(entry, "
	    "'$.details.seq') AS INTEGER)) FROM events INDEXED BY "
	    "events_tenant_action WHERE tenant = ? AND action = ?";
	sqlite3_stmt *st = NULL;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*seqp = -1;
	if ((r = bg_store_cached(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, scope[0] == '\0' ?
	    "vault.genesis" : "chain.link")) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (row && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*seqp = sqlite3_column_int64(st, 0);
	r = BG_OK;
out:
	bg_store_done(st);
	return r;
}

/* --- the genesis --------------------------------------------------------------- */

int
bg_chain_load_genesis(bg_vault_t *v)
{
	sqlite3_stmt *st = NULL;
	bg_chain_link_t *g = NULL;
	bg_chain_sig_t *sigs = NULL;
	size_t nsigs = 0;
	char why[BG_CHAIN_WHY_MAX];
	bool row = false;
	int r = BG_ERR_INTERNAL;

	bg_chain_link_free(&v->genesis);
	v->genesis_hex[0] = '\0';
	if ((r = bg_store_prepare(v, "SELECT body FROM links WHERE tenant = '' "
	    "AND seq = 0", &st)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		int64_t logged = -1;

		if ((r = logged_seq(v, GENESIS_SCOPE, &logged)) != BG_OK)
			goto out;
		if (logged >= 0)
			r = bg_vault_fail(v, BG_ERR_AUTH, "the audit log records "
			    "the vault's genesis, but the file holds none: the "
			    "file was altered");
		goto out;
	}
	if ((r = parse_body(v, "the vault's genesis",
	    (const char *)sqlite3_column_text(st, 0), &g)) != BG_OK)
		goto out;
	if ((r = load_sigs(v, GENESIS_SCOPE, 0, &sigs, &nsigs)) != BG_OK)
		goto out;
	if (bg_chain_check_genesis(g, sigs, nsigs, why, sizeof(why)) !=
	    BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the vault's genesis does "
		    "not verify: %s", why);
		goto out;
	}
	/* The file's own id and relying party must be the genesis's. */
	if (strcmp(g->vault_id, v->id) != 0 || strcmp(g->rp_id, v->rp_id) !=
	    0) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the vault's genesis names "
		    "vault %s, but the file says %s: the file was altered",
		    g->vault_id, v->id);
		goto out;
	}
	if ((r = bg_chain_link_hash(g, v->genesis_hash)) != BG_OK)
		goto out;
	bg_hex(v->genesis_hash, sizeof(v->genesis_hash), v->genesis_hex);
	v->allow_soft = g->settings.allow_soft;
	v->genesis = g;
	g = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	free(sigs);
	bg_chain_link_free(&g);
	return r;
}

int
bg_chain_require_genesis(bg_vault_t *v)
{
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
	bg_chain_sig_t *sigs = NULL;
	size_t nsigs = 0;
	char why[BG_CHAIN_WHY_MAX], what[96];
	uint64_t seq;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*headp = NULL;
	memset(hash, 0, BG_VAULT_HASH_LEN);
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
		if ((r = parse_body(v, what,
		    (const char *)sqlite3_column_text(st, 1), &l)) != BG_OK)
			goto out;
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
		/* The rules, the sequence, the previous hash, the tenant and
		 * the genesis are all checked here, from signatures. */
		if (bg_chain_check(v->genesis, prev, l, sigs, nsigs, why,
		    sizeof(why)) != BG_OK) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "%s does not verify: "
			    "%s", what, why);
			goto out;
		}
		bg_chain_link_free(&prev);
		prev = l;
		l = NULL;
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
	if (prev != NULL && (r = bg_chain_link_hash(prev, hash)) != BG_OK)
		goto out;
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
	if (v->genesis != NULL &&
	    bg_chain_member_find(v->genesis, person, BG_CHAIN_ROLE_CUSTODIAN)
	    != NULL)
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
		if ((r = draft_fits(v, tenant, d, head, hh)) != BG_OK)
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
	if (v->genesis != NULL && bg_chain_find_cred(v->genesis, cred_id,
	    cred_id_len, &m, &t) && strcmp(m->person, person) != 0) {
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
		    d->members[i].role == BG_CHAIN_ROLE_CUSTODIAN ?
		    "custodian" : bg_vault_role_name(d->members[i].role), "",
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
	r = bg_audit_append(v, now, person, d->scope == BG_CHAIN_VAULT ?
	    "vault.genesis" : "chain.link", d->tenant, "", det);
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
static int
creds_of(const bg_chain_link_t *l, const char *person, bg_token_row_t **rowsp,
    size_t *np, size_t *capp)
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
				    t->cred_id_len && memcmp((*rowsp)[k].cred_id,
				    t->cred_id, t->cred_id_len) == 0; /* public: ids */
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
	bg_chain_sig_t *sigs = NULL;
	bg_token_row_t *creds = NULL;
	bg_token_assertion_t *as = NULL;
	sqlite3_stmt *st = NULL;
	size_t ncreds = 0, cap = 0, nsigs = 0, which = 0;
	uint8_t hash[32], hh[32];
	char why[BG_CHAIN_WHY_MAX], words[96], hex[65];
	json_t *det = NULL;
	int64_t now = 0;
	bool genesis = scope[0] == '\0', ready = false;
	int r = BG_ERR_INTERNAL;

	if (committedp != NULL)
		*committedp = false;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "person", person)) != BG_OK ||
	    (!genesis && (r = bg_vault_check_name(v, "tenant name", scope)) !=
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
	if (genesis && (v->genesis != NULL || v->genesis_bad[0] != '\0')) {
		r = v->genesis != NULL ? bg_vault_fail(v, BG_ERR_STATE, "the "
		    "vault's genesis is signed already; custodians are fixed "
		    "by it") : bg_chain_require_genesis(v);
		goto out;
	}
	if (!genesis && ((r = tenant_exists(v, scope)) != BG_OK ||
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
	if (!genesis && (r = draft_fits(v, scope, d, head, hh)) != BG_OK)
		goto out;
	if ((r = draft_current(v, scope, d, head, now)) != BG_OK)
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
		    genesis ? "the genesis" : scope);
		goto out;
	}
	/* Whatever the person may sign with: as custodian, as a member of
	 * the chain in force, or as a member the draft names. */
	if ((r = creds_of(v->genesis, person, &creds, &ncreds, &cap)) !=
	    BG_OK ||
	    (r = creds_of(head, person, &creds, &ncreds, &cap)) != BG_OK ||
	    (r = creds_of(d, person, &creds, &ncreds, &cap)) != BG_OK)
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
	else
		r = bg_chain_check(v->genesis, head, d, sigs, nsigs, why,
		    sizeof(why));
	if (r == BG_OK)
		ready = true;
	else if (r != BG_ERR_DENIED) {
		/* A draft that cannot take effect as it stands (too few
		 * custodians, a malformed roster) is a state, not forgery:
		 * forged signatures are ignored, never an error. */
		r = bg_vault_fail(v, BG_ERR_STATE, "the draft of %s cannot take "
		    "effect: %s", genesis ? "the genesis" : scope, why);
		goto out;
	}
	if (ready && (r = commit_draft(v, scope, d, sigs, nsigs, now, person))
	    != BG_OK)
		goto out;
	if ((r = bg_store_commit(v)) != BG_OK)
		goto out;
	if (ready && genesis && (r = bg_chain_load_genesis(v)) != BG_OK)
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
bg_vault_chain_discard(bg_vault_t *v, const char *actor, const char *tenant)
{
	const char *scope = scope_of(tenant);
	sqlite3_stmt *st = NULL;
	int64_t now = 0;
	char words[96];
	int r = BG_ERR_INTERNAL;

	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK)
		goto out;
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK)
		goto out;
	if (scope[0] != '\0' && (r = tenant_exists(v, scope)) != BG_OK)
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
	if ((r = bg_audit_append(v, now, actor, "chain.discard", scope, "",
	    NULL)) != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	sqlite3_finalize(st);
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
	return role == BG_CHAIN_ROLE_CUSTODIAN ? "custodian" :
	    bg_vault_role_name(role);
}

/* Append printf output to a malloc'd string. */
static int __attribute__((format(printf, 2, 3)))
cat(char **sp, const char *fmt, ...)
{
	va_list ap;
	char *add = NULL, *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&add, fmt, ap);
	va_end(ap);
	if (n < 0)
		return BG_ERR_NOMEM;
	if (asprintf(&s, "%s%s", *sp != NULL ? *sp : "", add) < 0) {
		free(add);
		return BG_ERR_NOMEM;
	}
	free(add);
	free(*sp);
	*sp = s;
	return BG_OK;
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
			    memcmp(a->tokens[i].cred_id, b->tokens[j].cred_id,
			    a->tokens[i].cred_id_len) == 0 && /* public: ids */
			    memcmp(a->tokens[i].member_pk,
			    b->tokens[j].member_pk, 32) == 0 && /* public */
			    a->tokens[i].alg == b->tokens[j].alg &&
			    a->tokens[i].pubkey_len ==
			    b->tokens[j].pubkey_len &&
			    memcmp(a->tokens[i].pubkey, b->tokens[j].pubkey,
			    a->tokens[i].pubkey_len) == 0; /* public: keys */
		if (!found)
			return false;
	}
	return true;
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
	if (l->scope == BG_CHAIN_VAULT)
		r = cat(&s, "vault genesis of %s (relying party %s)\n"
		    "  software tokens: %s\n  custodian quorum: %d\n",
		    l->vault_id, l->rp_id, l->settings.allow_soft ?
		    "allowed (drill vault)" : "refused (production vault)",
		    l->settings.custodian_quorum);
	else
		r = cat(&s, "link %llu of tenant %s%s%s\n", (unsigned long long)
		    l->seq, l->tenant, l->note[0] != '\0' ? ": " : "",
		    l->note);
	if (r == BG_OK)
		r = cat(&s, "  dated %s\n", bg_vault_fmt_time(l->time, when,
		    sizeof(when)));
	for (i = 0; i < l->n_members && r == BG_OK; i++) {
		const bg_chain_member_t *m = &l->members[i];
		const bg_chain_member_t *o = before != NULL ?
		    bg_chain_member_find(before, m->person, m->role) : NULL;
		char mark = o == NULL ? '+' : ' ';

		if (o != NULL && (o->expires_at != m->expires_at ||
		    o->side != m->side || !same_creds(o, m)))
			mark = '~';
		r = cat(&s, " %c %s%s %s%s%s\n", mark, side_word(m->side),
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
			r = cat(&s, "      token '%s'%s, signing key %s",
			    m->tokens[j].label, m->tokens[j].soft ?
			    " (software token)" : "", fpr);
			if (r == BG_OK && m->role != BG_CHAIN_ROLE_CUSTODIAN) {
				crypto_hash_sha256(fp, m->tokens[j].member_pk,
				    32);
				bg_hex(fp, 8, fpr);
				r = cat(&s, ", membership key %s", fpr);
			}
			if (r == BG_OK)
				r = cat(&s, "\n");
		}
	}
	for (i = 0; before != NULL && i < before->n_members && r == BG_OK;
	    i++)
		if (bg_chain_member_find(l, before->members[i].person,
		    before->members[i].role) == NULL)
			r = cat(&s, " - %s%s %s\n",
			    side_word(before->members[i].side),
			    role_word(before->members[i].role),
			    before->members[i].person);
	if (l->scope == BG_CHAIN_TENANT && r == BG_OK)
		r = cat(&s, "  policy: %s%s\n  max TTL %llds, approval window "
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
		r = cat(&s, "  exception (MSP may approve its own access) until "
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
	bg_chain_sig_t *sigs = NULL;
	size_t nsigs = 0;
	uint8_t hh[32];
	char why[BG_CHAIN_WHY_MAX];
	bool genesis = scope[0] == '\0';
	int r = BG_ERR_INTERNAL;

	if (viewp != NULL)
		*viewp = NULL;
	bg_vault_clear_err(v);
	if (viewp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (!genesis && (r = bg_vault_check_name(v, "tenant name", scope)) !=
	    BG_OK)
		goto out;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	(void)snprintf(w->scope, sizeof(w->scope), "%s", scope);
	if (genesis && v->genesis_bad[0] != '\0') {
		r = bg_chain_require_genesis(v);
		goto out;
	}
	if (genesis) {
		if (v->genesis != NULL) {
			w->has_head = true;
			(void)snprintf(w->head_hash, sizeof(w->head_hash), "%s",
			    v->genesis_hex);
			head = NULL;
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
	r = draft_load(v, scope, &d);
	if (r != BG_OK && r != BG_ERR_NOT_FOUND)
		goto out;
	if (r == BG_OK && (genesis || draft_fits(v, scope, d, head, hh) ==
	    BG_OK)) {
		w->has_draft = true;
		w->draft_seq = d->seq;
		if ((r = bg_chain_link_hash(d, w->draft_hash_raw)) != BG_OK)
			goto out;
		bg_hex(w->draft_hash_raw, 32, w->draft_hash);
		if ((r = load_sigs(v, scope, -1, &sigs, &nsigs)) != BG_OK)
			goto out;
		signers_words(sigs, nsigs, w->signed_by, sizeof(w->signed_by));
		why[0] = '\0';
		r = genesis ? bg_chain_check_genesis(d, sigs, nsigs, why,
		    sizeof(why)) : bg_chain_check(v->genesis, head, d, sigs,
		    nsigs, why, sizeof(why));
		w->ready = r == BG_OK;
		(void)snprintf(w->needs, sizeof(w->needs), "%s", w->ready ?
		    "nothing more: it takes effect with the next signature" :
		    why);
		if ((r = render(d, genesis ? NULL : head, &w->text)) != BG_OK)
			goto out;
	} else if (genesis && v->genesis != NULL) {
		if ((r = render(v->genesis, NULL, &w->text)) != BG_OK)
			goto out;
	} else if (head != NULL) {
		if ((r = render(head, NULL, &w->text)) != BG_OK)
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

/* --- custodians ---------------------------------------------------------------- */

int
bg_vault_custodian_add(bg_vault_t *v, const char *actor, const char *person,
    const char *label, int quorum, bg_token_t *tok, const char *pin)
{
	bg_chain_link_t *d = NULL;
	bg_chain_member_t m;
	bg_chain_token_t ct;
	bg_token_row_t nr;
	bg_token_features_t feat;
	bg_token_cred_t *cred = NULL;
	bg_token_assertion_t *as = NULL;
	json_t *det = NULL;
	uint8_t cdh[32];
	const char *why = NULL;
	int64_t now = 0;
	size_t dropped = 0, which = 0;
	bool soft;
	int r = BG_ERR_INTERNAL;

	memset(&m, 0, sizeof(m));
	memset(&ct, 0, sizeof(ct));
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "actor", actor)) != BG_OK ||
	    (r = bg_vault_check_name(v, "custodian", person)) != BG_OK)
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
	if (v->genesis != NULL || v->genesis_bad[0] != '\0') {
		r = v->genesis != NULL ? bg_vault_fail(v, BG_ERR_STATE, "the "
		    "vault's genesis is signed already; custodians are fixed "
		    "by it") : bg_chain_require_genesis(v);
		goto out;
	}
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
	if (quorum != 0)
		d->settings.custodian_quorum = quorum;
	if (bg_chain_member_find(d, person, BG_CHAIN_ROLE_CUSTODIAN) != NULL) {
		r = bg_vault_fail(v, BG_ERR_EXISTS, "%s is a custodian of this "
		    "genesis already", person);
		goto out;
	}
	memset(&feat, 0, sizeof(feat));
	if ((r = bg_token_probe(tok, &feat)) != BG_OK) {
		r = bg_vault_fail(v, r, "probing the token: %s",
		    bg_strerror(r));
		goto out;
	}
	soft = feat.is_soft || memcmp(feat.aaguid, bg_token_soft_aaguid,
	    BG_TOKEN_AAGUID_LEN) == 0; /* public: AAGUID */
	if (soft && !d->settings.allow_soft) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_SOFT_REFUSED, "this is a "
		    "breakglass software token, and this vault was created "
		    "without --allow-soft-tokens: enroll a hardware token");
		goto out;
	}
	if ((r = bg_token_check_usable(&feat, &why)) != BG_OK) {
		r = bg_vault_fail(v, r, "this token cannot serve a custodian: "
		    "%s", why != NULL ? why : bg_strerror(r));
		goto out;
	}
	if ((r = bg_token_enroll(tok, v->rp_id, person, 0, pin, &cred)) !=
	    BG_OK) {
		r = bg_vault_fail(v, r, "enrolling the token: %s",
		    bg_strerror(r));
		goto out;
	}
	soft = soft || cred->is_soft || memcmp(cred->aaguid,
	    bg_token_soft_aaguid, BG_TOKEN_AAGUID_LEN) == 0; /* public */
	if (soft && !d->settings.allow_soft) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_SOFT_REFUSED, "the credential "
		    "comes from a breakglass software token, and this vault "
		    "refuses them");
		goto out;
	}
	if (cred->id_len > sizeof(ct.cred_id) ||
	    cred->pubkey_len > sizeof(ct.pubkey)) {
		r = bg_vault_fail(v, BG_ERR_TOKEN_PROTOCOL, "the token made an "
		    "oversized credential");
		goto out;
	}
	(void)snprintf(m.person, sizeof(m.person), "%s", person);
	m.role = BG_CHAIN_ROLE_CUSTODIAN;
	(void)snprintf(ct.label, sizeof(ct.label), "%s", label != NULL &&
	    label[0] != '\0' ? label : "custodian token");
	ct.alg = cred->alg;
	memcpy(ct.cred_id, cred->id, cred->id_len);
	ct.cred_id_len = cred->id_len;
	memcpy(ct.pubkey, cred->pubkey, cred->pubkey_len);
	ct.pubkey_len = cred->pubkey_len;
	memcpy(ct.aaguid, cred->aaguid, sizeof(ct.aaguid));
	ct.soft = soft;
	(void)snprintf(ct.fmt, sizeof(ct.fmt), "%s", cred->fmt != NULL ?
	    cred->fmt : "");
	ct.attestation = cred->attestation;
	ct.cred_protect = cred->cred_protect;
	/* Proof of possession: the new credential signs its enrollment. */
	if ((r = bg_act_new_cred(cred, &nr)) != BG_OK) {
		r = bg_vault_fail(v, r, "the token made an oversized credential");
		goto out;
	}
	if ((r = bg_chain_enroll_cdh(d, &m, &ct, cdh, NULL)) != BG_OK ||
	    (r = bg_act_sign(v, tok, pin, person, &nr, 1, cdh, NULL, &as,
	    &which)) != BG_OK)
		goto out;
	memcpy(ct.enroll_authdata, as->authdata, as->authdata_len);
	ct.enroll_authdata_len = as->authdata_len;
	memcpy(ct.enroll_sig, as->sig, as->sig_len);
	ct.enroll_sig_len = as->sig_len;
	if ((r = bg_chain_member_add(d, &m)) != BG_OK ||
	    (r = bg_chain_member_add_token(bg_chain_member_find(d, person,
	    BG_CHAIN_ROLE_CUSTODIAN), &ct)) != BG_OK) {
		r = bg_vault_fail(v, r, "adding custodian %s to the genesis: %s",
		    person, bg_strerror(r));
		goto out;
	}
	if ((det = json_pack("{s:s, s:b, s:i}", "label", ct.label, "soft",
	    soft, "quorum", d->settings.custodian_quorum)) == NULL) {
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
	bg_token_assertion_free(&as);
	bg_token_cred_free(&cred);
	bg_chain_link_free(&d);
	return bg_vault_finish(v, r, actor, "custodian.add", "", person);
}
