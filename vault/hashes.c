/*
 * Store-free hashes shared by the vault and by the approver's machine
 * (remote.c), which must compute them byte for byte as the vault does and
 * links none of the store: the clientDataHash of a statement and the
 * binding a version's shares carry in their associated data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "remote.h"
#include "vault_int.h"

void
bg_statement_cdh(const char *action, const char *text,
    uint8_t cdh[BG_TOKEN_CDH_LEN])
{
	crypto_hash_sha256_state h;
	char tag[64];
	int n;

	n = snprintf(tag, sizeof(tag), "breakglass %s v1\n", action);
	if (n < 0 || (size_t)n >= sizeof(tag))
		tag[0] = '\0';
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)tag, strlen(tag));
	crypto_hash_sha256_update(&h, (const uint8_t *)text, strlen(text));
	crypto_hash_sha256_final(&h, cdh);
}

int
bg_deny_text(char **textp, const char *reason)
{
	char *s = NULL;

	if (reason == NULL || asprintf(&s, "%sdeny-reason: %s\n", *textp,
	    reason) < 0)
		return BG_ERR_NOMEM;
	free(*textp);
	*textp = s;
	return BG_OK;
}

void
bg_share_binding(const uint8_t policy_hash[32], const uint8_t chain_head[32],
    uint8_t out[32])
{
	static const char tag[] = "breakglass share binding v1\n";
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)tag, sizeof(tag) - 1);
	crypto_hash_sha256_update(&h, policy_hash, 32);
	crypto_hash_sha256_update(&h, chain_head, 32);
	crypto_hash_sha256_final(&h, out);
}
