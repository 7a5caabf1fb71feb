/*
 * Remote approval at the vault: membership cards and request packets
 * (the formats and the approver's side are remote.c's; importing an
 * approval packet is request.c's, beside `vault approve`, so that both
 * run one sequence of checks).
 *
 * What leaves the vault in a request packet is public or sealed: the
 * requester's signed statement and signature, signed chain links, the
 * approver's own share (sealed to their membership key), a signed tree
 * head and consistency proofs.  No value ciphertext, no request key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "policy.h"
#include "remote.h"
#include "treelog.h"
#include "vault_int.h"

/* --- witnesses --------------------------------------------------------------------- */

int
bg_vault_log_check_witness(bg_vault_t *v, const char *text, uint64_t *sizep)
{
	bg_witness_t w;
	char why[BG_REMOTE_WHY_MAX];
	uint8_t root[32];
	uint64_t n = 0;
	int64_t size = 0, bad = 0;
	int r = BG_ERR_INTERNAL;

	if (sizep != NULL)
		*sizep = 0;
	if (v == NULL || text == NULL)
		return BG_ERR_INVALID_ARG;
	bg_vault_clear_err(v);
	if (bg_witness_parse(text, &w, why, sizeof(why)) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_PARSE, "%s", why);
		goto out;
	}
	if ((r = bg_chain_require_genesis(v)) != BG_OK)
		goto out;
	if (memcmp(w.genesis, v->genesis_hash, 32) != 0) { /* public: hash */
		r = bg_vault_fail(v, BG_ERR_AUTH, "the witness state is of "
		    "another vault (another genesis)");
		goto out;
	}
	if ((r = bg_vault_audit_verify(v, &size, &bad)) != BG_OK ||
	    (r = bg_treelog_size(v, &n)) != BG_OK)
		goto out;
	if (n < w.size) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "the log has %llu events, "
		    "fewer than the %llu an approver's machine witnessed: the "
		    "vault file was rolled back (restored from an older copy)",
		    (unsigned long long)n, (unsigned long long)w.size);
		goto out;
	}
	if ((r = bg_treelog_root(v, w.size, root)) != BG_OK)
		goto out;
	if (memcmp(root, w.root, 32) != 0) { /* public: roots */
		r = bg_vault_fail(v, BG_ERR_AUTH, "the first %llu events are "
		    "not the log an approver's machine witnessed: the vault "
		    "file was rolled back and grown again, or its log "
		    "rewritten", (unsigned long long)w.size);
		goto out;
	}
	if (sizep != NULL)
		*sizep = w.size;
	r = BG_OK;
out:
	return bg_vault_fail_default(v, r);
}

/* --- membership cards ----------------------------------------------------------- */

static int
card_fill(bg_vault_t *v, const bg_tenant_row_t *t, const bg_chain_member_t *m,
    const bg_treehead_t *th, int64_t now, bg_card_t *c)
{
	const bg_chain_token_t *k;
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	(void)snprintf(c->vault_id, sizeof(c->vault_id), "%s", v->id);
	(void)snprintf(c->rp_id, sizeof(c->rp_id), "%s", v->rp_id);
	memcpy(c->genesis, v->genesis_hash, 32);
	if ((r = bg_treelog_pinned_key(v, c->log_key)) != BG_OK)
		return r;
	(void)snprintf(c->tenant, sizeof(c->tenant), "%s", t->name);
	(void)snprintf(c->person, sizeof(c->person), "%s", m->person);
	c->role = m->role;
	memcpy(c->salt, m->salt, 32);
	if (m->n_tokens == 0 || m->n_tokens > BG_CHAIN_MAX_TOKENS)
		return bg_vault_fail(v, BG_ERR_STATE, "%s holds no credential "
		    "in %s", m->person, t->name);
	for (i = 0; i < m->n_tokens; i++) {
		k = &m->tokens[i];
		c->creds[i].alg = k->alg;
		(void)snprintf(c->creds[i].label, sizeof(c->creds[i].label),
		    "%s", k->label);
		memcpy(c->creds[i].id, k->cred_id, k->cred_id_len);
		c->creds[i].id_len = k->cred_id_len;
		memcpy(c->creds[i].pubkey, k->pubkey, k->pubkey_len);
		c->creds[i].pubkey_len = k->pubkey_len;
		memcpy(c->creds[i].member_pk, k->member_pk, 32);
	}
	c->n_creds = m->n_tokens;
	c->chain_seq = t->head->seq;
	memcpy(c->chain_hash, t->head_hash, 32);
	c->vault_seq = v->vault_head->seq;
	memcpy(c->vault_hash, v->vault_head_hash, 32);
	c->th = *th;
	c->time = now;
	return BG_OK;
}

int
bg_vault_member_card(bg_vault_t *v, const char *tenant, const char *person,
    bg_token_t *tok, const char *pin, char **textp, char **cardp)
{
	bg_tenant_row_t t;
	bg_card_t *c = NULL;
	bg_token_row_t *toks = NULL;
	bg_token_assertion_t *as = NULL;
	const bg_chain_member_t *m;
	bg_treehead_t th;
	json_t *det = NULL;
	uint8_t salt[BG_TOKEN_SALT_LEN], cdh[32], *sk = NULL;
	int64_t now = 0, mid = 0;
	size_t n = 0, which = 0;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	if (textp != NULL)
		*textp = NULL;
	if (cardp != NULL)
		*cardp = NULL;
	bg_vault_clear_err(v);
	if ((r = bg_vault_check_name(v, "person", person)) != BG_OK)
		goto out;
	if (tok != NULL && (pin == NULL || cardp == NULL)) {
		r = bg_vault_fail(v, BG_ERR_INVALID_ARG, "the person's token "
		    "and PIN are needed");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_chain_require_genesis(v)) != BG_OK ||
	    (r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if (t.head == NULL) {
		r = bg_vault_fail(v, BG_ERR_STATE, "%s has no keyset link in "
		    "force yet", t.name);
		goto out;
	}
	if ((r = bg_member_live(v, t.head, t.id, t.name, person,
	    BG_VAULT_ROLE_APPROVER, now, &mid, salt)) != BG_OK ||
	    (r = bg_member_tokens(v, t.head, person, BG_VAULT_ROLE_APPROVER,
	    mid, &toks, &n)) != BG_OK)
		goto out;
	m = bg_chain_member_find(t.head, person, BG_CHAIN_ROLE_APPROVER);
	/* the newest signed head, covering the log as it is now */
	if ((r = bg_treelog_seal(v, &th)) != BG_OK ||
	    (r = card_fill(v, &t, m, &th, now, c)) != BG_OK)
		goto out;
	if (textp != NULL && (r = bg_card_body(c, textp)) != BG_OK)
		goto out;
	if (tok == NULL) {
		bg_store_rollback(v);
		r = BG_OK;
		goto out;
	}
	/* One touch with the membership's salt: the signature over the
	 * card, and the proof that this token gives the card's key. */
	if ((r = bg_card_cdh(c, cdh)) != BG_OK ||
	    (r = bg_act_sign(v, tok, pin, person, toks, n, cdh, salt, &as,
	    &which)) != BG_OK ||
	    (r = bg_member_sk(v, person, &toks[which], as, &sk)) != BG_OK)
		goto out;
	sodium_free(sk);
	sk = NULL;
	memcpy(c->sig.cred_id, toks[which].cred_id, toks[which].cred_id_len);
	c->sig.cred_id_len = toks[which].cred_id_len;
	memcpy(c->sig.authdata, as->authdata, as->authdata_len);
	c->sig.authdata_len = as->authdata_len;
	memcpy(c->sig.sig, as->sig, as->sig_len);
	c->sig.sig_len = as->sig_len;
	if ((r = bg_card_encode(c, cardp)) != BG_OK)
		goto out;
	det = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:I}", "person",
	    person, "role", "approver", "chain_seq", (json_int_t)c->chain_seq,
	    "vault_seq", (json_int_t)c->vault_seq, "tree_size",
	    (json_int_t)th.size, "token", toks[which].label, "sign_count",
	    (json_int_t)as->sign_count);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = bg_audit_append(v, now, person, "member.card", t.name, person,
	    det);
	det = NULL;
	if (r != BG_OK || (r = bg_store_commit(v)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	if (r != BG_OK && cardp != NULL) {
		free(*cardp);
		*cardp = NULL;
	}
	if (sk != NULL)
		sodium_free(sk);
	json_decref(det);
	free(toks);
	free(c);
	bg_token_assertion_free(&as);
	sodium_memzero(salt, sizeof(salt));
	bg_tenant_row_clear(&t);
	if (tok == NULL)
		return bg_vault_fail_default(v, r);
	return bg_vault_finish(v, r, person, "member.card", tenant, person);
}

/* --- request packets ---------------------------------------------------------------- */

static const char req_sql[] = "SELECT q.state, q.deadline, q.statement, "
    "q.authdata, q.sig, k.cred_id, x.chain_seq, x.id, x.state, t.name, "
    "x.version, s.name, x.seal_act FROM requests q JOIN tokens k ON k.id = q.token_id "
    "JOIN versions x ON x.id = q.version_id "
    "JOIN secrets s ON s.id = x.secret_id "
    "JOIN tenants t ON t.id = s.tenant_id WHERE q.id = ?";

/* Copy a blob column of 1..cap bytes. */
static int
col_blob(bg_vault_t *v, sqlite3_stmt *st, int i, uint8_t *buf, size_t cap,
    size_t *lenp)
{
	int n = sqlite3_column_bytes(st, i);

	if (n <= 0 || (size_t)n > cap)
		return bg_vault_fail(v, BG_ERR_DB_CORRUPT, "a stored signature "
		    "or credential is malformed");
	memcpy(buf, sqlite3_column_blob(st, i), (size_t)n);
	*lenp = (size_t)n;
	return BG_OK;
}

/* Links of scope from seq `from` on, with their signatures. */
static int
add_links(bg_vault_t *v, bg_reqpkt_t *p, bool vault, const char *scope,
    int64_t from)
{
	static const char sql[] = "SELECT seq, body FROM links WHERE "
	    "tenant = ? AND seq >= ? ORDER BY seq";
	sqlite3_stmt *st = NULL;
	bg_chain_sig_t *sigs = NULL;
	size_t n = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, scope)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, from)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((r = bg_chain_link_sigs(v, scope,
		    sqlite3_column_int64(st, 0), &sigs, &n)) != BG_OK)
			goto out;
		if ((r = bg_reqpkt_add_link(p, vault,
		    (const char *)sqlite3_column_text(st, 1), sigs, n)) !=
		    BG_OK) {
			r = bg_vault_fail(v, r, "the chain is too long for one "
			    "packet");
			goto out;
		}
		free(sigs);
		sigs = NULL;
	}
	r = BG_OK;
out:
	free(sigs);
	sqlite3_finalize(st);
	return r;
}

/*
 * The tree sizes the person's machine may hold as its newest checked
 * head: its cards' heads and the heads of packets written for it.  And
 * the oldest chain link its cards start from (*card_seqp, 0 if none) and
 * the smallest tree size of its cards (*card_sizep, -1 if none).
 */
static int
witness_sizes(bg_vault_t *v, const char *tenant, const char *person,
    int64_t *sizes, size_t cap, size_t *np, int64_t *card_seqp,
    int64_t *card_sizep)
{
	static const char sql[] = "SELECT action, seq, "
	    "json_extract(entry, '$.details.tree_size'), "
	    "json_extract(entry, '$.details.chain_seq') FROM events "
	    "WHERE tenant = ?1 AND ((action = 'member.card' AND "
	    "json_extract(entry, '$.details.person') = ?2) OR "
	    "(action = 'packet.export' AND "
	    "json_extract(entry, '$.details.for') = ?2)) ORDER BY seq DESC";
	sqlite3_stmt *st = NULL;
	bool row = false, card;
	int64_t sz, cs;
	size_t i;
	int r = BG_ERR_INTERNAL;

	*np = 0;
	*card_seqp = 0;
	*card_sizep = -1;
	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, person)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		card = strcmp((const char *)sqlite3_column_text(st, 0),
		    "member.card") == 0;
		sz = card ? sqlite3_column_int64(st, 2) :
		    sqlite3_column_int64(st, 1);
		if (card) {
			if (*card_sizep < 0 || sz < *card_sizep)
				*card_sizep = sz;
			cs = sqlite3_column_int64(st, 3);
			if (cs > 0 && (*card_seqp == 0 || cs < *card_seqp))
				*card_seqp = cs;
		}
		for (i = 0; i < *np && sizes[i] != sz; i++)
			;
		/* every card's head, and the newest packets' */
		if (i == *np && sz > 0 && *np < cap && (card || *np < cap / 2))
			sizes[(*np)++] = sz;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/*
 * The log from size from (the oldest card's head) to size to: its
 * frontier there and every entry after it, so that the approver sees
 * every link event since its card (none can be withheld without a
 * forked, signed log).
 */
static int
add_log(bg_vault_t *v, bg_reqpkt_t *p, uint64_t from, uint64_t to)
{
	sqlite3_stmt *st = NULL;
	uint8_t fr[64 * 32];
	size_t n = 0;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_treelog_frontier(v, from, fr, 64, &n)) != BG_OK ||
	    (r = bg_reqpkt_set_log(p, from, fr, n)) != BG_OK ||
	    (r = bg_store_prepare(v, "SELECT seq, entry FROM events WHERE "
	    "seq > ? AND seq <= ? ORDER BY seq", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, (int64_t)from)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)to)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((uint64_t)sqlite3_column_int64(st, 0) != from +
		    p->n_entries + 1 || sqlite3_column_text(st, 1) == NULL) {
			r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "the log lacks "
			    "event %llu", (unsigned long long)(from +
			    p->n_entries + 1));
			goto out;
		}
		if ((r = bg_reqpkt_add_entry(p, (const char *)
		    sqlite3_column_text(st, 1))) != BG_OK) {
			r = bg_vault_fail(v, r, "the log since the approver's "
			    "oldest card is too long for one packet: make a new "
			    "card");
			goto out;
		}
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/*
 * The newest cosignature of every witness of the tenant: per person, the
 * approval (decision 1, request.c's BG_APPROVE) whose signed statement
 * names the largest log size, as the approvals rows keep it (statement,
 * assertion, the credential's id).  Each size is added to sizes (for a
 * consistency proof) and *minseqp lowered to the oldest keyset link they
 * name (the approver verifies each through the chain).
 */
static int
add_cosigs(bg_vault_t *v, bg_reqpkt_t *p, int64_t tenant_id,
    int64_t *minseqp, int64_t *sizes, size_t cap, size_t *np)
{
	static const char sql[] = "SELECT a.person, a.statement, a.authdata, "
	    "a.sig, k.cred_id FROM approvals a "
	    "JOIN requests q ON q.id = a.request_id "
	    "JOIN versions x ON x.id = q.version_id "
	    "JOIN secrets s ON s.id = x.secret_id "
	    "JOIN tokens k ON k.id = a.token_id "
	    "WHERE s.tenant_id = ? AND a.decision = 1 ORDER BY a.person, a.id";
	sqlite3_stmt *st = NULL;
	bg_remote_stmt_t rs;
	bg_remote_sig_t sig, best_sig;
	uint8_t sh[32];
	char why[BG_REMOTE_WHY_MAX], person[BG_VAULT_NAME_MAX + 1];
	char cur[BG_VAULT_NAME_MAX + 1], *best = NULL;
	uint64_t best_size = 0;
	int64_t best_seq = 0;
	const char *text;
	bool row = false;
	size_t i;
	int r = BG_ERR_INTERNAL;

	cur[0] = '\0';
	memset(&best_sig, 0, sizeof(best_sig));
	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, tenant_id)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (row)
			bg_store_col_text(st, 0, person, sizeof(person));
		/* a person's rows end: their newest goes in the packet */
		if (best != NULL && (!row || strcmp(person, cur) != 0)) {
			if ((r = bg_reqpkt_add_cosig(p, cur, best, &best_sig)) !=
			    BG_OK) {
				r = bg_vault_fail(v, r, "too many witnesses' "
				    "cosignatures for one packet");
				goto out;
			}
			if (best_seq > 0 && (*minseqp == 0 ||
			    best_seq < *minseqp))
				*minseqp = best_seq;
			for (i = 0; i < *np && sizes[i] != (int64_t)best_size;
			    i++)
				;
			if (i == *np && *np < cap)
				sizes[(*np)++] = (int64_t)best_size;
			free(best);
			best = NULL;
			best_size = 0;
		}
		if (!row)
			break;
		(void)snprintf(cur, sizeof(cur), "%s", person);
		text = (const char *)sqlite3_column_text(st, 1);
		/* a statement that is not an approval's (altered) is no
		 * witness's word: it is left out, as root could anyway */
		if (text == NULL || bg_remote_stmt_parse(text, true, &rs, sh,
		    why, sizeof(why)) != BG_OK || rs.log_size <= best_size)
			continue;
		memset(&sig, 0, sizeof(sig));
		if ((r = col_blob(v, st, 2, sig.authdata, sizeof(sig.authdata),
		    &sig.authdata_len)) != BG_OK ||
		    (r = col_blob(v, st, 3, sig.sig, sizeof(sig.sig),
		    &sig.sig_len)) != BG_OK ||
		    (r = col_blob(v, st, 4, sig.cred_id, sizeof(sig.cred_id),
		    &sig.cred_id_len)) != BG_OK)
			goto out;
		free(best);
		if ((best = strdup(text)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		best_sig = sig;
		best_size = rs.log_size;
		best_seq = (int64_t)rs.keyset_seq;
	}
	r = BG_OK;
out:
	free(best);
	sqlite3_finalize(st);
	return r;
}

int
bg_vault_packet_export(bg_vault_t *v, const bg_vault_signer_t *by,
    int64_t request_id, const char *person, char **packetp, int64_t *sizep)
{
	const char *actor = by != NULL ? by->person : NULL;
	bg_admin_t a;
	bg_act_row_t ar;
	char *lines = NULL;
	bool checked = false;
	bg_tenant_row_t t;
	bg_reqpkt_t *p = NULL;
	bg_chain_link_t *vks = NULL;
	const bg_chain_member_t *m;
	bg_policy_t *pol = NULL;
	bg_token_row_t *toks = NULL;
	sqlite3_stmt *st = NULL;
	bg_treehead_t th;
	json_t *det = NULL, *counts = NULL;
	uint8_t h[32], salt[BG_TOKEN_SALT_LEN], proof[64 * 32];
	char tenant[BG_VAULT_NAME_MAX + 1], secret[BG_VAULT_NAME_MAX + 1];
	char key[24];
	int64_t now = 0, mid = 0, chain_seq = 0, version_id = 0, seq = 0;
	int64_t sizes[BG_REMOTE_MAX_PROOFS], card_seq = 0, card_size = -1;
	int64_t from, seal_act = 0, seal_seq, chain_seq_min = 0, cosig_seq = 0;
	size_t i, n = 0, nsizes = 0, plen = 0, leaf = 0;
	int state, vstate, version;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	memset(&ar, 0, sizeof(ar));
	*packetp = NULL;
	if (sizep != NULL)
		*sizep = 0;
	tenant[0] = secret[0] = '\0';
	bg_vault_clear_err(v);
	if ((r = bg_admin_need(v, by)) != BG_OK ||
	    (r = bg_vault_check_name(v, "approver", person)) != BG_OK)
		goto out;
	if ((p = bg_reqpkt_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_store_begin(v)) != BG_OK ||
	    (r = bg_vault_now(v, &now)) != BG_OK ||
	    (r = bg_chain_require_genesis(v)) != BG_OK)
		goto out;
	if ((r = bg_store_prepare(v, req_sql, &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, request_id)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "no request %lld",
		    (long long)request_id);
		goto out;
	}
	state = sqlite3_column_int(st, 0);
	bg_store_col_text(st, 9, tenant, sizeof(tenant));
	bg_store_col_text(st, 11, secret, sizeof(secret));
	version = sqlite3_column_int(st, 10);
	vstate = sqlite3_column_int(st, 8);
	if (state != BG_VAULT_REQUEST_OPEN || sqlite3_column_int64(st, 1) <=
	    now || vstate != BG_VAULT_VERSION_SEALED) {
		r = bg_vault_fail(v, BG_ERR_STATE, "request %lld is %s: no "
		    "packet is written for it", (long long)request_id,
		    state != BG_VAULT_REQUEST_OPEN ?
		    bg_vault_request_state_name(state) :
		    vstate != BG_VAULT_VERSION_SEALED ? "for a spent version" :
		    "past its deadline");
		goto out;
	}
	if (sqlite3_column_bytes(st, 2) <= 0 ||
	    (p->statement = strdup((const char *)sqlite3_column_text(st,
	    2))) == NULL) {
		r = bg_vault_fail(v, BG_ERR_STATE, "request %lld was never "
		    "signed by its requester", (long long)request_id);
		goto out;
	}
	if ((r = col_blob(v, st, 3, p->req_sig.authdata,
	    sizeof(p->req_sig.authdata), &p->req_sig.authdata_len)) != BG_OK ||
	    (r = col_blob(v, st, 4, p->req_sig.sig, sizeof(p->req_sig.sig),
	    &p->req_sig.sig_len)) != BG_OK ||
	    (r = col_blob(v, st, 5, p->req_sig.cred_id,
	    sizeof(p->req_sig.cred_id), &p->req_sig.cred_id_len)) != BG_OK)
		goto out;
	chain_seq = sqlite3_column_int64(st, 6);
	version_id = sqlite3_column_int64(st, 7);
	seal_act = sqlite3_column_type(st, 12) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(st, 12);
	sqlite3_finalize(st);
	st = NULL;
	/* the approver: live now, named by the policy that sealed it */
	if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK ||
	    (r = bg_admin_who(v, &t, by->person, BG_ADMIN_REQUESTER |
	    BG_ADMIN_OPERATOR | BG_ADMIN_CUSTODIAN, now, &a)) != BG_OK ||
	    (r = bg_member_live(v, t.head, t.id, t.name, person,
	    BG_VAULT_ROLE_APPROVER, now, &mid, salt)) != BG_OK ||
	    (r = bg_chain_tenant(v, tenant, (uint64_t)chain_seq, &vks, h)) !=
	    BG_OK)
		goto out;
	/* the operator's signed seal, checked here as at approval, goes
	 * with the packet for the approver's machine to check again */
	if ((r = bg_seal_check(v, &t, version_id, NULL)) != BG_OK ||
	    (r = bg_admin_load(v, seal_act, &ar)) != BG_OK)
		goto out;
	if ((seal_seq = bg_seal_link_seq(ar.statement)) > 0 &&
	    seal_seq < chain_seq)
		chain_seq_min = seal_seq;
	if ((p->seal = strdup(ar.statement)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(p->seal_sig.cred_id, ar.cred_id, ar.cred_id_len);
	p->seal_sig.cred_id_len = ar.cred_id_len;
	memcpy(p->seal_sig.authdata, ar.authdata, ar.authdata_len);
	p->seal_sig.authdata_len = ar.authdata_len;
	memcpy(p->seal_sig.sig, ar.sig, ar.sig_len);
	p->seal_sig.sig_len = ar.sig_len;
	if ((m = bg_chain_member_find(vks, person,
	    BG_CHAIN_ROLE_APPROVER)) == NULL ||
	    bg_policy_parse(vks->policy, &pol, NULL) != BG_OK ||
	    bg_policy_leaf_index(pol, person, &leaf) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_DENIED, "%s is not an approver named "
		    "by the policy that sealed %s/%s v%d", person, tenant,
		    secret, version);
		goto out;
	}
	if ((r = bg_member_tokens(v, vks, person, BG_VAULT_ROLE_APPROVER, mid,
	    &toks, &n)) != BG_OK)
		goto out;
	/* the person's shares, sealed to their tokens */
	if ((r = bg_store_prepare(v, "SELECT blob FROM shares WHERE "
	    "version_id = ? AND leaf = ? AND token_id = ?", &st)) != BG_OK)
		goto out;
	if ((counts = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n && p->n_shares < BG_REMOTE_MAX_SHARES; i++) {
		bg_remote_share_t *sh = &p->shares[p->n_shares];

		(void)snprintf(key, sizeof(key), "%lld", (long long)toks[i].id);
		if (json_object_set_new(counts, key,
		    json_integer(toks[i].sign_count)) != 0) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		sqlite3_reset(st);
		if ((r = bg_store_bind_int(v, st, 1, version_id)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 2, (int64_t)leaf)) != BG_OK ||
		    (r = bg_store_bind_int(v, st, 3, toks[i].id)) != BG_OK ||
		    (r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			continue;
		if ((r = col_blob(v, st, 0, sh->blob, sizeof(sh->blob),
		    &sh->blob_len)) != BG_OK)
			goto out;
		memcpy(sh->cred_id, toks[i].cred_id, toks[i].cred_id_len);
		sh->cred_id_len = toks[i].cred_id_len;
		sh->leaf = leaf;
		p->n_shares++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (p->n_shares == 0) {
		r = bg_vault_fail(v, BG_ERR_NOT_FOUND, "%s holds no share of "
		    "%s/%s v%d sealed to their own tokens (after a re-key the "
		    "share is made of sub-shares): approve at the vault",
		    person, tenant, secret, version);
		goto out;
	}
	if ((r = witness_sizes(v, tenant, person, sizes,
	    BG_REMOTE_MAX_PROOFS, &nsizes, &card_seq, &card_size)) != BG_OK ||
	    (r = add_cosigs(v, p, t.id, &cosig_seq, sizes,
	    BG_REMOTE_MAX_PROOFS, &nsizes)) != BG_OK)
		goto out;
	det = json_pack("{s:I, s:s, s:s, s:i, s:O}", "request",
	    (json_int_t)request_id, "for", person, "secret", secret,
	    "version", version, "sign_counts", counts);
	if (det == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_strcatf(&lines, "request: %lld\nfor: %s\n",
	    (long long)request_id, person)) != BG_OK ||
	    (r = bg_admin_act(v, tenant, &a, by, "packet.export", lines, now,
	    det, &checked)) != BG_OK || checked)
		goto out;
	r = bg_audit_append(v, now, actor, "packet.export", tenant, secret,
	    det);
	det = NULL;
	/* an approval signed on the approver's machine counts toward
	 * exposure whether or not it is ever imported: the export (just
	 * logged) does; the version's exposed_at says so from now */
	if (r == BG_OK) {
		json_t *xd = json_object();

		r = xd == NULL ? BG_ERR_NOMEM : bg_request_exposure(v,
		    request_id, now, xd);
		json_decref(xd);
	}
	det = NULL;
	if (r != BG_OK || (r = bg_store_int(v, "SELECT max(seq) FROM events "
	    "WHERE seq >= ?", 0, &seq)) != BG_OK)
		goto out;
	if ((r = bg_store_commit(v)) != BG_OK)
		goto out;
	/* The head the commit signed covers the export event, and no more:
	 * the approval's statement will name exactly this size. */
	if ((r = bg_treelog_latest(v, &th)) != BG_OK)
		goto out;
	if (th.size != (uint64_t)seq) {
		r = bg_vault_fail(v, BG_ERR_STATE, "the vault could not sign a "
		    "tree head at the packet's event (its signing key file?), "
		    "or the log moved on meanwhile: export the packet again");
		goto out;
	}
	p->th = th;
	if ((r = bg_store_prepare(v, "SELECT chain FROM events WHERE seq = ?",
	    &st)) != BG_OK || (r = bg_store_bind_int(v, st, 1, seq)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row || sqlite3_column_bytes(st, 0) != 32) {
		r = bg_vault_fail(v, BG_ERR_DB_CORRUPT, "event %lld has no "
		    "chain hash", (long long)seq);
		goto out;
	}
	memcpy(p->log_head, sqlite3_column_blob(st, 0), 32);
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < nsizes; i++) {
		if (sizes[i] <= 0 || (uint64_t)sizes[i] >= th.size)
			continue;
		if ((r = bg_treelog_consistency_proof(v, (uint64_t)sizes[i],
		    th.size, proof, sizeof(proof) / 32, &plen)) != BG_OK ||
		    (r = bg_reqpkt_add_proof(p, (uint64_t)sizes[i], proof,
		    plen)) != BG_OK)
			goto out;
	}
	if ((r = add_log(v, p, card_size < 0 ? 0 : (uint64_t)card_size,
	    th.size)) != BG_OK)
		goto out;
	/* the vault's chain whole; the tenant's from the oldest link a card
	 * of the person, the version, its seal or a cosignature needs */
	from = chain_seq_min > 0 ? chain_seq_min : chain_seq;
	if (card_seq > 0 && card_seq < from)
		from = card_seq;
	if (cosig_seq > 0 && cosig_seq < from)
		from = cosig_seq;
	if ((r = add_links(v, p, true, "", 0)) != BG_OK ||
	    (r = add_links(v, p, false, tenant, from)) != BG_OK)
		goto out;
	(void)snprintf(p->vault_id, sizeof(p->vault_id), "%s", v->id);
	memcpy(p->genesis, v->genesis_hash, 32);
	p->request = request_id;
	(void)snprintf(p->tenant, sizeof(p->tenant), "%s", tenant);
	(void)snprintf(p->person, sizeof(p->person), "%s", person);
	p->time = now;
	if ((r = bg_reqpkt_encode(p, packetp)) != BG_OK)
		goto out;
	if (sizep != NULL)
		*sizep = seq;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	json_decref(det);
	json_decref(counts);
	bg_policy_free(&pol);
	bg_chain_link_free(&vks);
	free(toks);
	bg_reqpkt_free(&p);
	sodium_memzero(salt, sizeof(salt));
	bg_tenant_row_clear(&t);
	bg_act_row_clear(&ar);
	free(lines);
	bg_admin_clear(&a);
	return bg_vault_finish(v, r, actor, "packet.export", tenant, secret);
}
