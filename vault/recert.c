/*
 * A tenant's RACI and its recertification history, read from the signed
 * chain (vault_lifecycle.h).  The chain is verified first, from the
 * genesis by signatures (bg_tenant_get); then its links are read once,
 * oldest first, each re-parsed and hash-linked to the one before, so
 * that what is described here is exactly the chain that verified (the
 * head's hash must be the verified head's).  Membership rows are never
 * read: they are a cache for listings, written when a link takes effect.
 *
 * Who signed a link is read from link_sigs, and a signature is named
 * only when it verifies with the credential the chain gives that person
 * (in the link before, the link itself or the vault link it names), as
 * bg_chain_check counts them: a row added to link_sigs by whoever can
 * write the file names nobody.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "recert.h"
#include "vault_int.h"

#define RECERT_FORMAT	"bg-recert-v1"

const char *
bg_vault_raci_class(int role, int side)
{
	switch (role) {
	case BG_VAULT_ROLE_APPROVER:
		return side == BG_VAULT_SIDE_CLIENT ? "accountable" :
		    "responsible";
	case BG_VAULT_ROLE_OPERATOR:	return "responsible";
	case BG_VAULT_ROLE_REQUESTER:	return "requester";
	case BG_VAULT_ROLE_AUDITOR:	return "audit-owner";
	case BG_VAULT_ROLE_CUSTODIAN:	return "custodian";
	default:			return "?";
	}
}

/* Display order: accountable, responsible (operators, then MSP
 * approvers), requesters, audit owner. */
static int
raci_rank(const bg_vault_raci_member_t *m)
{
	switch (m->role) {
	case BG_VAULT_ROLE_APPROVER:
		return m->side == BG_VAULT_SIDE_CLIENT ? 0 : 2;
	case BG_VAULT_ROLE_OPERATOR:	return 1;
	case BG_VAULT_ROLE_REQUESTER:	return 3;
	case BG_VAULT_ROLE_AUDITOR:	return 4;
	default:			return 5;
	}
}

static int
cmp_members(const void *a, const void *b)
{
	const bg_vault_raci_member_t *x = a, *y = b;
	int rx = raci_rank(x), ry = raci_rank(y);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->person, y->person);
}

void
bg_vault_raci_free(bg_vault_raci_t **p)
{
	size_t i;

	if (p == NULL || *p == NULL)
		return;
	for (i = 0; i < (*p)->n_members; i++)
		free((*p)->members[i].signers);
	free((*p)->members);
	free((*p)->custodians);
	free((*p)->exception_signers);
	free(*p);
	*p = NULL;
}

/* --- one pass over the links ------------------------------------------------ */

/* What the pass keeps of each link: its place in time and its hash. */
typedef struct linkinfo {
	bg_vault_raci_when_t	 when;
	uint8_t			 hash[BG_CHAIN_HASH_LEN];
} linkinfo_t;

/* Per membership of a link (same index as its members). */
typedef struct mstate {
	bg_vault_raci_when_t	 since, cert;
	bool			 extended;
} mstate_t;

static int
changed(bg_vault_t *v, const char *tenant)
{
	return bg_vault_fail(v, BG_ERR_STATE, "the keyset chain of %s changed "
	    "while it was read; run it again", tenant);
}

static bool
same_exception(const bg_chain_link_t *a, const bg_chain_link_t *b)
{
	return a->has_exception && b->has_exception &&
	    a->exception_expires == b->exception_expires &&
	    strcmp(a->exception_reason, b->exception_reason) == 0;
}

typedef struct walk {
	linkinfo_t		*links;		/* links[i] is link i + 1 */
	size_t			 n, cap;
	bg_chain_link_t		*head;		/* the newest, as read */
	mstate_t		*st;		/* of head's members */
	bg_vault_raci_when_t	 exc_since;
} walk_t;

static void
walk_clear(walk_t *w)
{
	free(w->links);
	free(w->st);
	bg_chain_link_free(&w->head);
	memset(w, 0, sizeof(*w));
}

/* Read tenant's links 1..upto once, oldest first, into w. */
static int
walk_links(bg_vault_t *v, const char *tenant, uint64_t upto, walk_t *w)
{
	static const char sql[] = "SELECT seq, body, committed_at FROM links "
	    "WHERE tenant = ? AND seq >= 1 AND seq <= ? ORDER BY seq";
	static const uint8_t zeros[BG_CHAIN_HASH_LEN];
	sqlite3_stmt *st = NULL;
	bg_chain_link_t *l = NULL;
	const bg_chain_member_t *mp;
	mstate_t *cst = NULL;
	linkinfo_t *li;
	char why[BG_CHAIN_WHY_MAX];
	const char *text;
	bool row = false;
	size_t j, k;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)upto)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		if ((text = (const char *)sqlite3_column_text(st, 1)) == NULL) {
			r = changed(v, tenant);
			goto out;
		}
		if (bg_chain_link_parse(text, &l, why, sizeof(why)) != BG_OK) {
			r = bg_vault_fail(v, BG_ERR_AUTH, "link %lld of %s does "
			    "not parse: %s", (long long)sqlite3_column_int64(st,
			    0), tenant, why);
			goto out;
		}
		if ((r = bg_grow(&w->links, &w->cap, w->n,
		    sizeof(*w->links))) != BG_OK)
			goto out;
		li = &w->links[w->n];
		memset(li, 0, sizeof(*li));
		bg_chain_text_hash(text, li->hash);
		li->when.seq = l->seq;
		li->when.time = l->time;
		li->when.committed_at = sqlite3_column_int64(st, 2);
		/* the links verified a moment ago, in order, hash-linked */
		if (l->seq != w->n + 1 ||
		    (uint64_t)sqlite3_column_int64(st, 0) != l->seq ||
		    !bg_same(l->prev, w->n == 0 ? zeros : w->links[w->n - 1].hash,
		    BG_CHAIN_HASH_LEN)) {
			r = changed(v, tenant);
			goto out;
		}
		w->n++;
		if (l->n_members > 0 &&
		    (cst = calloc(l->n_members, sizeof(*cst))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		for (j = 0; j < l->n_members; j++) {
			const bg_chain_member_t *mn = &l->members[j];

			mp = w->head == NULL ? NULL : bg_chain_member_find(
			    w->head, mn->person, mn->role);
			if (mp == NULL) {
				/* granted here (again, after a gap) */
				cst[j].since = cst[j].cert = li->when;
				continue;
			}
			k = (size_t)(mp - w->head->members);
			cst[j] = w->st[k];
			if (mn->expires_at > mp->expires_at) {
				cst[j].cert = li->when;
				cst[j].extended = true;
			}
		}
		if (!l->has_exception)
			memset(&w->exc_since, 0, sizeof(w->exc_since));
		else if (w->head == NULL || !same_exception(w->head, l))
			w->exc_since = li->when;
		bg_chain_link_free(&w->head);
		free(w->st);
		w->head = l;
		w->st = cst;
		l = NULL;
		cst = NULL;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	bg_chain_link_free(&l);
	free(cst);
	return r;
}

/* --- who signed a link ------------------------------------------------------ */

/* Link seq of tenant, parsed; its hash must be the one the pass saw. */
static int
read_link(bg_vault_t *v, const char *tenant, const walk_t *w, uint64_t seq,
    bg_chain_link_t **lp)
{
	static const char sql[] = "SELECT body FROM links WHERE tenant = ? "
	    "AND seq = ?";
	sqlite3_stmt *st = NULL;
	uint8_t h[BG_CHAIN_HASH_LEN];
	char why[BG_CHAIN_WHY_MAX];
	const char *text;
	bool row = false;
	int r = BG_ERR_INTERNAL;

	*lp = NULL;
	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)seq)) != BG_OK ||
	    (r = bg_store_step(v, st, &row)) != BG_OK)
		goto out;
	if (!row || seq == 0 || seq > w->n ||
	    (text = (const char *)sqlite3_column_text(st, 0)) == NULL) {
		r = changed(v, tenant);
		goto out;
	}
	bg_chain_text_hash(text, h);
	if (!bg_same(h, w->links[seq - 1].hash, sizeof(h))) {
		r = changed(v, tenant);
		goto out;
	}
	if (bg_chain_link_parse(text, lp, why, sizeof(why)) != BG_OK) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "link %llu of %s does not "
		    "parse: %s", (unsigned long long)seq, tenant, why);
		goto out;
	}
	r = BG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static const bg_chain_token_t *
token_of(const bg_chain_member_t *m, const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < m->n_tokens; i++)
		if (m->tokens[i].cred_id_len == len &&
		    bg_same(m->tokens[i].cred_id, id, len))
			return &m->tokens[i];
	return NULL;
}

/*
 * The membership whose credential made a valid signature over the link
 * (cdh: its hash), looked for in prev, the link and the vault link g,
 * approvers first; NULL when none.
 */
static const bg_chain_member_t *
signer_of(const bg_chain_link_t *const lists[3], const char *rp_id,
    const uint8_t cdh[BG_CHAIN_HASH_LEN], const char *person,
    const uint8_t *cred, size_t cred_len, const uint8_t *ad, size_t ad_len,
    const uint8_t *sig, size_t sig_len)
{
	static const int roles[] = { BG_CHAIN_ROLE_APPROVER,
	    BG_CHAIN_ROLE_CUSTODIAN, BG_CHAIN_ROLE_OPERATOR,
	    BG_CHAIN_ROLE_AUDITOR, BG_CHAIN_ROLE_REQUESTER };
	const bg_chain_member_t *m;
	const bg_chain_token_t *t;
	size_t i, j;

	for (i = 0; i < 3; i++) {
		if (lists[i] == NULL)
			continue;
		for (j = 0; j < sizeof(roles) / sizeof(roles[0]); j++) {
			if ((m = bg_chain_member_find(lists[i], person,
			    roles[j])) == NULL ||
			    (t = token_of(m, cred, cred_len)) == NULL)
				continue;
			if (bg_token_verify(t->alg, t->pubkey, t->pubkey_len,
			    rp_id, cdh, ad, ad_len, sig, sig_len, true) ==
			    BG_OK)
				return m;
		}
	}
	return NULL;
}

/* The persons whose signatures over link seq verify, once each. */
static int
link_signers(bg_vault_t *v, const char *tenant, const walk_t *w,
    uint64_t seq, bg_vault_raci_signer_t **sp, size_t *np)
{
	static const char sql[] = "SELECT person, cred_id, authdata, sig "
	    "FROM link_sigs WHERE tenant = ? AND seq = ? ORDER BY person, id";
	sqlite3_stmt *st = NULL;
	bg_chain_link_t *l = NULL, *prev = NULL;
	const bg_chain_link_t *lists[3];
	const bg_chain_member_t *m;
	bg_vault_raci_signer_t *s = NULL;
	char person[BG_CHAIN_NAME_MAX + 1];
	size_t n = 0, cap = 0, lens[3];
	const uint8_t *b[3];
	bool row = false;
	int i, r = BG_ERR_INTERNAL;

	*sp = NULL;
	*np = 0;
	if ((r = read_link(v, tenant, w, seq, &l)) != BG_OK ||
	    (seq > 1 && (r = read_link(v, tenant, w, seq - 1, &prev)) !=
	    BG_OK))
		goto out;
	lists[0] = prev;
	lists[1] = l;
	lists[2] = l->vault_seq < v->n_vault ? v->vault[l->vault_seq] : NULL;
	if (lists[2] == NULL) {
		r = bg_vault_fail(v, BG_ERR_AUTH, "link %llu of %s names vault "
		    "link %llu, which the vault's chain does not have",
		    (unsigned long long)seq, tenant,
		    (unsigned long long)l->vault_seq);
		goto out;
	}
	if ((r = bg_store_prepare(v, sql, &st)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 1, tenant)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 2, (int64_t)seq)) != BG_OK)
		goto out;
	for (;;) {
		if ((r = bg_store_step(v, st, &row)) != BG_OK)
			goto out;
		if (!row)
			break;
		bg_store_col_text(st, 0, person, sizeof(person));
		if (n > 0 && strcmp(s[n - 1].person, person) == 0)
			continue;	/* counted once */
		for (i = 0; i < 3; i++) {
			b[i] = sqlite3_column_blob(st, i + 1);
			lens[i] = (size_t)sqlite3_column_bytes(st, i + 1);
		}
		if (b[0] == NULL || b[1] == NULL || b[2] == NULL ||
		    lens[0] > BG_CHAIN_CRED_MAX ||
		    lens[1] > BG_CHAIN_AUTHDATA_MAX ||
		    lens[2] > BG_CHAIN_SIG_MAX)
			continue;	/* names nobody */
		if ((m = signer_of(lists, lists[2]->rp_id,
		    w->links[seq - 1].hash, person, b[0], lens[0], b[1],
		    lens[1], b[2], lens[2])) == NULL)
			continue;
		if ((r = bg_grow(&s, &cap, n, sizeof(*s))) != BG_OK)
			goto out;
		memset(&s[n], 0, sizeof(s[n]));
		(void)snprintf(s[n].person, sizeof(s[n].person), "%s",
		    m->person);
		s[n].role = m->role;
		s[n].side = m->side;
		n++;
	}
	*sp = s;
	*np = n;
	s = NULL;
	r = BG_OK;
out:
	sqlite3_finalize(st);
	bg_chain_link_free(&l);
	bg_chain_link_free(&prev);
	free(s);
	return r;
}

/* The signers of link seq, read once per link (memo) and copied. */
typedef struct memo {
	uint64_t		 seq;
	bg_vault_raci_signer_t	*s;
	size_t			 n;
} memo_t;

static int
signers_copy(bg_vault_t *v, const char *tenant, const walk_t *w,
    memo_t **memop, size_t *nmemop, size_t *capp, uint64_t seq,
    bg_vault_raci_signer_t **sp, size_t *np)
{
	memo_t *mm = NULL;
	size_t i;
	int r;

	*sp = NULL;
	*np = 0;
	if (seq == 0)
		return BG_OK;
	for (i = 0; i < *nmemop; i++)
		if ((*memop)[i].seq == seq)
			mm = &(*memop)[i];
	if (mm == NULL) {
		if ((r = bg_grow(memop, capp, *nmemop, sizeof(**memop))) !=
		    BG_OK)
			return r;
		mm = &(*memop)[*nmemop];
		memset(mm, 0, sizeof(*mm));
		if ((r = link_signers(v, tenant, w, seq, &mm->s, &mm->n)) !=
		    BG_OK)
			return r;
		mm->seq = seq;
		(*nmemop)++;
	}
	if (mm->n == 0)
		return BG_OK;
	if ((*sp = calloc(mm->n, sizeof(**sp))) == NULL)
		return BG_ERR_NOMEM;
	memcpy(*sp, mm->s, mm->n * sizeof(**sp));
	*np = mm->n;
	return BG_OK;
}

/* --- the RACI ----------------------------------------------------------------- */

static int
custodians_of(const bg_vault_t *v, bg_vault_raci_t *rc)
{
	const bg_chain_link_t *g = v->vault_head;
	size_t i;

	if (g == NULL)
		return BG_OK;
	rc->vault_seq = g->seq;
	if (g->n_members == 0)
		return BG_OK;
	if ((rc->custodians = calloc(g->n_members,
	    sizeof(*rc->custodians))) == NULL)
		return BG_ERR_NOMEM;
	for (i = 0; i < g->n_members; i++)
		if (g->members[i].role == BG_CHAIN_ROLE_CUSTODIAN)
			(void)snprintf(rc->custodians[rc->n_custodians++],
			    sizeof(rc->custodians[0]), "%s",
			    g->members[i].person);
	return BG_OK;
}

int
bg_vault_raci(bg_vault_t *v, const char *tenant, bg_vault_raci_t **racip)
{
	bg_tenant_row_t t;
	bg_vault_raci_t *rc = NULL;
	bg_vault_raci_member_t *rm;
	const bg_chain_member_t *m;
	walk_t w;
	memo_t *memo = NULL;
	size_t nmemo = 0, capmemo = 0, i;
	int r = BG_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(&w, 0, sizeof(w));
	if (racip == NULL)
		return BG_ERR_INVALID_ARG;
	*racip = NULL;
	bg_vault_clear_err(v);
	/* verified from the genesis, by signatures */
	if ((r = bg_tenant_get(v, tenant, &t)) != BG_OK)
		goto out;
	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	(void)snprintf(rc->tenant, sizeof(rc->tenant), "%s", t.name);
	rc->now = bg_vault_read_now(v);
	if ((r = custodians_of(v, rc)) != BG_OK)
		goto out;
	if (t.head == NULL) {
		r = BG_OK;
		goto done;
	}
	if ((r = walk_links(v, t.name, t.head->seq, &w)) != BG_OK)
		goto out;
	if (w.head == NULL || w.head->seq != t.head->seq ||
	    !bg_same(w.links[w.n - 1].hash, t.head_hash, BG_CHAIN_HASH_LEN)) {
		r = changed(v, t.name);
		goto out;
	}
	rc->has_link = true;
	rc->link = w.links[w.n - 1].when;
	bg_hex(t.head_hash, BG_VAULT_HASH_LEN, rc->link_hash);
	if (w.head->policy != NULL)
		(void)snprintf(rc->policy, sizeof(rc->policy), "%s",
		    w.head->policy);
	rc->client_cosign = w.head->settings.client_cosign;
	if ((r = bg_chain_msp_alone(w.head, &rc->msp_alone)) != BG_OK)
		goto out;
	if (w.head->n_members > 0 && (rc->members = calloc(w.head->n_members,
	    sizeof(*rc->members))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < w.head->n_members; i++) {
		m = &w.head->members[i];
		rm = &rc->members[rc->n_members++];
		(void)snprintf(rm->person, sizeof(rm->person), "%s",
		    m->person);
		rm->role = m->role;
		rm->side = m->side;
		rm->expires_at = m->expires_at;
		rm->expired = m->expires_at <= rc->now;
		rm->due = !rm->expired &&
		    m->expires_at <= rc->now + BG_VAULT_EXPIRY_WARN;
		rm->n_tokens = m->n_tokens;
		rm->since = w.st[i].since;
		rm->certified = w.st[i].cert;
		rm->extended = w.st[i].extended;
		if ((r = signers_copy(v, t.name, &w, &memo, &nmemo, &capmemo,
		    rm->certified.seq, &rm->signers, &rm->n_signers)) != BG_OK)
			goto out;
	}
	if (rc->n_members > 1)
		qsort(rc->members, rc->n_members, sizeof(*rc->members),
		    cmp_members);
	if (w.head->has_exception) {
		rc->has_exception = true;
		(void)snprintf(rc->exception_reason,
		    sizeof(rc->exception_reason), "%s",
		    w.head->exception_reason);
		rc->exception_expires = w.head->exception_expires;
		rc->exception_live = w.head->exception_expires > rc->now;
		rc->exception_since = w.exc_since;
		if ((r = signers_copy(v, t.name, &w, &memo, &nmemo, &capmemo,
		    w.exc_since.seq, &rc->exception_signers,
		    &rc->n_exception_signers)) != BG_OK)
			goto out;
	}
done:
	*racip = rc;
	rc = NULL;
	r = BG_OK;
out:
	for (i = 0; i < nmemo; i++)
		free(memo[i].s);
	free(memo);
	walk_clear(&w);
	bg_tenant_row_clear(&t);
	bg_vault_raci_free(&rc);
	return bg_vault_fail_default(v, r);
}

/* --- JSON -------------------------------------------------------------------- */

static json_t *
when_json(const bg_vault_raci_when_t *w)
{
	if (w->seq == 0)
		return json_null();
	return json_pack("{s:I, s:I, s:I}", "seq", (json_int_t)w->seq,
	    "time", (json_int_t)w->time, "committed_at",
	    (json_int_t)w->committed_at);
}

static json_t *
signers_json(const bg_vault_raci_signer_t *s, size_t n)
{
	json_t *a = json_array(), *o;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		o = json_pack("{s:s, s:s, s:s, s:s}", "person", s[i].person,
		    "role", bg_vault_role_name(s[i].role), "side",
		    bg_vault_side_name(s[i].side), "class",
		    bg_vault_raci_class(s[i].role, s[i].side));
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
member_json(const bg_vault_raci_member_t *m)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:b, s:I, s:o, s:o, "
	    "s:s, s:o}", "person", m->person, "role",
	    bg_vault_role_name(m->role), "side", bg_vault_side_name(m->side),
	    "class", bg_vault_raci_class(m->role, m->side), "expires_at",
	    (json_int_t)m->expires_at, "expired", m->expired, "due", m->due,
	    "tokens", (json_int_t)m->n_tokens, "since", when_json(&m->since),
	    "certified", when_json(&m->certified), "certified_how",
	    m->extended ? "extended" : "granted", "signed_by",
	    signers_json(m->signers, m->n_signers));
}

int
bg_raci_to_json(const bg_vault_raci_t *r, json_t **outp)
{
	json_t *o = NULL, *mem = NULL, *cus = NULL, *exc = NULL, *x;
	size_t i;
	int ret = BG_ERR_NOMEM;

	*outp = NULL;
	if ((mem = json_array()) == NULL || (cus = json_array()) == NULL)
		goto out;
	for (i = 0; i < r->n_members; i++)
		if ((x = member_json(&r->members[i])) == NULL ||
		    json_array_append_new(mem, x) != 0)
			goto out;
	for (i = 0; i < r->n_custodians; i++)
		if (json_array_append_new(cus, json_string(r->custodians[i]))
		    != 0)
			goto out;
	if (r->has_exception) {
		if ((exc = json_pack("{s:s, s:I, s:b, s:o, s:o}", "reason",
		    r->exception_reason, "expires", (json_int_t)
		    r->exception_expires, "live", r->exception_live, "since",
		    when_json(&r->exception_since), "signed_by",
		    signers_json(r->exception_signers,
		    r->n_exception_signers))) == NULL)
			goto out;
	} else if ((exc = json_null()) == NULL)
		goto out;
	o = json_pack("{s:s, s:I, s:o, s:s, s:o, s:i, s:O, s:{s:I, s:O}, "
	    "s:b, s:O, s:I}", "tenant", r->tenant, "now", (json_int_t)r->now,
	    "link", r->has_link ? when_json(&r->link) : json_null(),
	    "link_hash", r->link_hash, "policy", r->policy[0] != '\0' ?
	    json_string(r->policy) : json_null(), "client_cosign",
	    r->client_cosign, "members", mem, "custodians", "vault_link",
	    (json_int_t)r->vault_seq, "persons", cus, "msp_alone",
	    r->msp_alone, "exception", exc, "due_seconds",
	    (json_int_t)BG_VAULT_EXPIRY_WARN);
	if (o == NULL)
		goto out;
	*outp = o;
	ret = BG_OK;
out:
	json_decref(mem);
	json_decref(cus);
	json_decref(exc);
	return ret;
}

int
bg_vault_raci_json(const bg_vault_raci_t *r, char **jsonp)
{
	json_t *o = NULL;
	int ret;

	if (jsonp == NULL || r == NULL)
		return BG_ERR_INVALID_ARG;
	*jsonp = NULL;
	if ((ret = bg_raci_to_json(r, &o)) != BG_OK)
		return ret;
	if ((*jsonp = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
		ret = BG_ERR_NOMEM;
	json_decref(o);
	return ret;
}

int
bg_vault_recert_report(bg_vault_t *v, const char *tenant, char **jsonp)
{
	bg_vault_raci_t *rc = NULL;
	json_t *raci = NULL, *rep = NULL;
	int r = BG_ERR_INTERNAL;

	if (jsonp == NULL)
		return BG_ERR_INVALID_ARG;
	*jsonp = NULL;
	if ((r = bg_vault_raci(v, tenant, &rc)) != BG_OK)
		goto out;
	if ((r = bg_raci_to_json(rc, &raci)) != BG_OK)
		goto out;
	if ((rep = json_pack("{s:s, s:s, s:I, s:s, s:O}", "format",
	    RECERT_FORMAT, "vault", v->id, "generated_at", (json_int_t)rc->now,
	    "tenant", rc->tenant, "raci", raci)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((*jsonp = json_dumps(rep, JSON_SORT_KEYS | JSON_COMPACT)) ==
	    NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = BG_OK;
out:
	json_decref(raci);
	json_decref(rep);
	bg_vault_raci_free(&rc);
	return bg_vault_fail_default(v, r);
}
