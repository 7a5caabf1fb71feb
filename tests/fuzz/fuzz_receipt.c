/*
 * libFuzzer harness for the receipt and tree-head text parsers.  The input,
 * as a NUL-terminated string, goes to both.  Whatever parses must format
 * back to the same text (tree heads: byte for byte; receipts: up to case,
 * which receipts ignore), and re-parse to the same value.  Whatever is
 * refused must come with a printable sentence and a zeroed output.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "treehead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_why(const char *why)
{
	size_t i, n = strlen(why);

	if (n == 0)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] >= 0x7f)
			abort();
}

static void
receipt(const char *s)
{
	char why[BG_TREEHEAD_WHY_MAX], out[BG_RECEIPT_MAX];
	uint8_t root[BG_MERKLE_HASH_LEN];
	bg_receipt_t rc, again;
	int r;

	memset(why, 'x', sizeof(why));
	r = bg_receipt_parse(s, &rc, why, sizeof(why));
	if (r != BG_OK) {
		if (r != BG_ERR_PARSE ||
		    !sodium_is_zero((const unsigned char *)&rc, sizeof(rc)))
			abort();
		check_why(why);
		return;
	}
	if (why[0] != '\0')
		abort();
	memset(root, 0xa5, sizeof(root));
	memcpy(root, rc.root_prefix, sizeof(rc.root_prefix));
	if (bg_receipt_format(rc.size, root, out, sizeof(out)) != BG_OK)
		abort();
	if (strlen(out) != strlen(s) || strcasecmp(out, s) != 0)
		abort();
	if (bg_receipt_parse(out, &again, NULL, 0) != BG_OK ||
	    memcmp(&again, &rc, sizeof(rc)) != 0) /* public: parsed receipt */
		abort();
	if (bg_receipt_matches_root(&rc, root) != BG_OK)
		abort();
	root[0] ^= 1;
	if (bg_receipt_matches_root(&rc, root) != BG_ERR_AUTH)
		abort();
}

static void
treehead(const char *s)
{
	static uint8_t pk[BG_TREEHEAD_PK_LEN];
	char why[BG_TREEHEAD_WHY_MAX], out[BG_TREEHEAD_TEXT_MAX];
	bg_treehead_t th, again;
	int r;

	memset(why, 'x', sizeof(why));
	r = bg_treehead_parse(s, &th, why, sizeof(why));
	if (r != BG_OK) {
		if (r != BG_ERR_PARSE ||
		    !sodium_is_zero((const unsigned char *)&th, sizeof(th)))
			abort();
		check_why(why);
		return;
	}
	if (why[0] != '\0')
		abort();
	if (bg_treehead_format(&th, out, sizeof(out)) != BG_OK ||
	    strcmp(out, s) != 0)
		abort();
	if (bg_treehead_parse(out, &again, NULL, 0) != BG_OK ||
	    memcmp(&again, &th, sizeof(th)) != 0) /* public: parsed tree head */
		abort();
	/* A fixed key no input was signed with: must never verify. */
	pk[0] = 0x21;
	r = bg_treehead_verify(&th, pk);
	if (r != BG_ERR_AUTH)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (sodium_init() < 0)
		abort();
	if (size > 4096)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	receipt(s);
	treehead(s);
	free(s);
	return 0;
}
