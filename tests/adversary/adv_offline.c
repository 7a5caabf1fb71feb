/*
 * The insider's second machine: a program of his own, linked against
 * libbgvault.a, on a copy of the vault file, with his own token and PIN.
 * It skips every check the vault makes and tries the cryptography
 * directly: for every share of every version, the membership key his
 * token gives for every salt in the file, against the associated data
 * rebuilt from the file's own claims.  Dual control holds if nothing
 * opens.
 *
 *   adv_offline VAULT-COPY TOKEN-PATH PIN-FILE PERSON
 *
 * Exit 0 when no share opened (and prints how many were tried), 1 when
 * any did, 2 on a usage or set-up error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "pin.h"
#include "policy.h"
#include "seal.h"
#include "vault_int.h"

#define MAX_SALTS	64
#define MAX_CREDS	8

struct cred {
	uint8_t	 id[1024];	size_t id_len;
	uint8_t	 pk[128];	size_t pk_len;
	int	 alg;
};

int
main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bg_token_t *tok = NULL;
	bg_token_assertion_t *as = NULL;
	struct cred creds[MAX_CREDS];
	uint8_t salts[MAX_SALTS][32], cdh[32];
	uint8_t keys_pk[MAX_SALTS * MAX_CREDS][32];
	uint8_t *keys_sk = NULL, pt[64];
	char *pin = NULL, rp[64] = "", vid[64] = "";
	size_t ncreds = 0, nsalts = 0, nkeys = 0, i, j, plen;
	long tried = 0, opened = 0;
	int ex = 2;

	if (argc != 5) {
		fprintf(stderr, "usage: adv_offline VAULT TOKEN PIN-FILE "
		    "PERSON\n");
		return 2;
	}
	if (sodium_init() < 0 || bg_token_init() != BG_OK ||
	    sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto out;
	if (bg_pin_read(argv[3], "PIN: ", &pin, NULL) != BG_OK)
		goto out;
	/* vault id and relying party, as the file says */
	sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *val = (const char *)sqlite3_column_text(st, 1);

		if (strcmp(k, "rp_id") == 0)
			(void)snprintf(rp, sizeof(rp), "%s", val);
		if (strcmp(k, "vault_id") == 0)
			(void)snprintf(vid, sizeof(vid), "%s", val);
	}
	sqlite3_finalize(st);
	/* his own credentials, and every salt in the file */
	sqlite3_prepare_v2(db, "SELECT k.cred_id, k.pubkey, k.alg FROM tokens "
	    "k JOIN memberships m ON m.id = k.membership_id WHERE m.person = ?",
	    -1, &st, NULL);
	sqlite3_bind_text(st, 1, argv[4], -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && ncreds < MAX_CREDS) {
		struct cred *c = &creds[ncreds];

		c->id_len = (size_t)sqlite3_column_bytes(st, 0);
		c->pk_len = (size_t)sqlite3_column_bytes(st, 1);
		if (c->id_len > sizeof(c->id) || c->pk_len > sizeof(c->pk))
			continue;
		memcpy(c->id, sqlite3_column_blob(st, 0), c->id_len);
		memcpy(c->pk, sqlite3_column_blob(st, 1), c->pk_len);
		c->alg = sqlite3_column_int(st, 2);
		ncreds++;
	}
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "SELECT DISTINCT salt FROM memberships", -1,
	    &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW && nsalts < MAX_SALTS)
		if (sqlite3_column_bytes(st, 0) == 32)
			memcpy(salts[nsalts++], sqlite3_column_blob(st, 0), 32);
	sqlite3_finalize(st);
	st = NULL;
	if (ncreds == 0 || nsalts == 0) {
		fprintf(stderr, "adv_offline: no credentials of %s or no "
		    "salts in the file\n", argv[4]);
		goto out;
	}
	if (bg_token_open(argv[2], &tok) != BG_OK ||
	    (keys_sk = sodium_malloc(sizeof(keys_pk))) == NULL)
		goto out;
	/* every key his token can give for any salt of the file */
	randombytes_buf(cdh, sizeof(cdh));
	for (i = 0; i < ncreds; i++)
		for (j = 0; j < nsalts; j++) {
			if (bg_token_assert(tok, rp, creds[i].id,
			    creds[i].id_len, creds[i].alg, creds[i].pk,
			    creds[i].pk_len, cdh, salts[j], pin, &as) != BG_OK)
				continue;
			if (as->hmac_secret != NULL &&
			    bg_seal_member_keypair(as->hmac_secret,
			    keys_pk[nkeys], keys_sk + 32 * nkeys) == BG_OK)
				nkeys++;
			bg_token_assertion_free(&as);
		}
	if (nkeys == 0) {
		fprintf(stderr, "adv_offline: the token gave no key\n");
		goto out;
	}
	/* every share, with the AD its row claims */
	sqlite3_prepare_v2(db, "SELECT t.name, s.name, x.version, sh.leaf, "
	    "x.policy_hash, x.chain_head, sh.blob FROM shares sh JOIN versions "
	    "x ON x.id = sh.version_id JOIN secrets s ON s.id = x.secret_id "
	    "JOIN tenants t ON t.id = s.tenant_id", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		bg_seal_ad_t ad;
		uint8_t binding[32], ph[32], ch[32];

		if (sqlite3_column_bytes(st, 4) != 32 ||
		    sqlite3_column_bytes(st, 5) != 32)
			continue;
		memcpy(ph, sqlite3_column_blob(st, 4), 32);
		memcpy(ch, sqlite3_column_blob(st, 5), 32);
		bg_share_binding(ph, ch, binding);
		if (bg_seal_ad_share(&ad, vid,
		    (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (uint64_t)sqlite3_column_int64(st, 2),
		    (uint64_t)sqlite3_column_int64(st, 3), binding) != BG_OK)
			continue;
		for (i = 0; i < nkeys; i++) {
			tried++;
			if (bg_seal_box_open(keys_sk + 32 * i, keys_pk[i],
			    sqlite3_column_blob(st, 6),
			    (size_t)sqlite3_column_bytes(st, 6), ad.buf, ad.len,
			    pt, sizeof(pt), &plen) == BG_OK)
				opened++;
		}
	}
	sodium_memzero(pt, sizeof(pt));
	printf("adv_offline: %ld share openings tried with %zu keys of %s's "
	    "token, %ld opened\n", tried, nkeys, argv[4], opened);
	ex = opened == 0 && tried > 0 ? 0 : 1;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	bg_token_assertion_free(&as);
	bg_token_close(&tok);
	if (keys_sk != NULL)
		sodium_free(keys_sk);
	if (pin != NULL)
		sodium_free(pin);
	return ex;
}
