/*
 * libFuzzer harness for the proof documents `vault audit verify --proof`
 * reads (docs/audit-log.md "Proof files"): arbitrary text, with and
 * without a pinned key.  The verifier may only answer "verifies",
 * "malformed" or "does not verify", always with a printable one-line
 * sentence, and must never crash or read past the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any fixed key: a proof signed by another key must not verify with it. */
static const char pinned[] =
    "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

static void
check(int r, const char *msg)
{
	size_t i, n = strlen(msg);

	if (r != BG_OK && r != BG_ERR_PARSE && r != BG_ERR_AUTH &&
	    r != BG_ERR_NOMEM)
		abort();
	if (n == 0)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, msg[512];
	bool pin = false;
	int r;

	if (size > 64 * 1024)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = bg_vault_log_verify_proof(text, NULL, &pin, msg, sizeof(msg));
	check(r, msg);
	if (r == BG_OK && pin)
		abort();	/* no key was pinned: it cannot say it was */
	r = bg_vault_log_verify_proof(text, pinned, &pin, msg, sizeof(msg));
	check(r, msg);
	free(text);
	return 0;
}
