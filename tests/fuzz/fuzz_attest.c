/*
 * libFuzzer harness for the vetted-token parsers (vault/attest.c): the
 * packed attStmt and authenticator data a token returns (through
 * bg_attest_verify, against a trust store that pins nothing the input
 * can chain to), and the MDS BLOB's JWS (bg_mds_parse, against a root
 * that is no certificate).  The first byte picks one; for the attStmt
 * the second gives the length of the authenticator data before it.
 * Neither may ever accept, and each refusal comes with a printable
 * sentence.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_why(const char *why)
{
	size_t i, n = strlen(why);

	if (n == 0)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)why[i] < 0x20 ||
		    (unsigned char)why[i] >= 0x7f)
			abort();
}

static void
fuzz_stmt(const uint8_t *data, size_t size)
{
	static const uint8_t aaguid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    11, 12, 13, 14, 15, 16 };
	bg_attest_trust_t *t = bg_attest_trust_new();
	bg_attest_evidence_t e;
	uint8_t cred[16], pk[64], cdh[32];
	char why[512], model[BG_ATTEST_MODEL_MAX];
	size_t adlen;

	if (t == NULL || size < 1)
		goto out;
	if (bg_attest_trust_add_aaguid(t, aaguid) != BG_OK)
		abort();
	adlen = data[0];
	data++;
	size--;
	if (adlen > size)
		adlen = size;
	memset(cred, 0x11, sizeof(cred));
	memset(pk, 0x22, sizeof(pk));
	memset(cdh, 0x33, sizeof(cdh));
	memset(&e, 0, sizeof(e));
	e.rp_id = "breakglass:0123456789abcdef";
	e.alg = BG_TOKEN_ES256;
	e.cred_id = cred;
	e.cred_id_len = sizeof(cred);
	e.pubkey = pk;
	e.pubkey_len = sizeof(pk);
	e.aaguid = aaguid;
	e.fmt = "packed";
	e.authdata = data;
	e.authdata_len = adlen;
	e.stmt = data + adlen;
	e.stmt_len = size - adlen;
	e.cdh = cdh;
	why[0] = '\0';
	if (bg_attest_verify(t, NULL, &e, 1800000000, model, sizeof(model),
	    why, sizeof(why)) == BG_OK)
		abort();	/* no root is pinned: nothing can chain */
	check_why(why);
out:
	bg_attest_trust_free(&t);
}

static void
fuzz_jws(const uint8_t *data, size_t size)
{
	static const uint8_t root[4] = { 0x30, 0x02, 0x05, 0x00 };
	bg_mds_t *m = NULL;
	char *jwt, why[512];

	if ((jwt = malloc(size + 1)) == NULL)
		return;
	memcpy(jwt, data, size);
	jwt[size] = '\0';
	why[0] = '\0';
	if (bg_mds_parse(jwt, root, sizeof(root), 1800000000, &m, why,
	    sizeof(why)) == BG_OK)
		abort();	/* the root is no certificate */
	if (m != NULL)
		abort();
	check_why(why);
	free(jwt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || sodium_init() < 0)
		return 0;
	if (data[0] & 1)
		fuzz_jws(data + 1, size - 1);
	else
		fuzz_stmt(data + 1, size - 1);
	return 0;
}
