/*
 * libFuzzer harness for the keyset-chain link parser.  The input, as a
 * NUL-terminated string, goes to bg_chain_link_parse().  Whatever parses
 * must encode back to exactly the input (one text per link), survive a
 * deep copy with the same text and hash, give every credential an
 * enrollment statement, and never pass a check without signatures
 * (a genesis, a tenant link, a vault link after itself).
 * Whatever is refused must come with a printable sentence and no link.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_why(const char *why, bool empty)
{
	size_t i, n = strlen(why);

	if (empty != (n == 0))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)why[i] < 0x20 ||
		    (unsigned char)why[i] >= 0x7f)
			abort();
}

static void
exercise(const bg_chain_link_t *l, const char *text)
{
	bg_chain_link_t *d = NULL;
	char *again = NULL, *etext = NULL, why[BG_CHAIN_WHY_MAX];
	uint8_t h1[BG_CHAIN_HASH_LEN], h2[BG_CHAIN_HASH_LEN], cdh[32];
	size_t i, j;
	int r;

	if (bg_chain_link_encode(l, &again) != BG_OK ||
	    strcmp(again, text) != 0)
		abort();
	if (bg_chain_link_dup(l, &d) != BG_OK)
		abort();
	free(again);
	again = NULL;
	if (bg_chain_link_encode(d, &again) != BG_OK ||
	    strcmp(again, text) != 0)
		abort();
	bg_chain_text_hash(text, h1);
	if (bg_chain_link_hash(d, h2) != BG_OK ||
	    memcmp(h1, h2, sizeof(h1)) != 0) /* public: link hash */
		abort();
	for (i = 0; i < l->n_members; i++) {
		for (j = 0; j < l->members[i].n_tokens; j++) {
			r = bg_chain_enroll_cdh(l, &l->members[i],
			    &l->members[i].tokens[j], cdh, &etext);
			if (r != BG_OK || etext == NULL ||
			    strncmp(etext, "breakglass enroll v1\n", 21) != 0)
				abort();
			free(etext);
			etext = NULL;
		}
	}
	/* No signatures: never accepted, always explained. */
	memset(why, 'x', sizeof(why));
	r = bg_chain_check_genesis(l, NULL, 0, why, sizeof(why));
	if (r == BG_OK || (r != BG_ERR_AUTH && r != BG_ERR_DENIED))
		abort();
	check_why(why, false);
	memset(why, 'x', sizeof(why));
	r = bg_chain_check(l, NULL, l, NULL, 0, why, sizeof(why));
	if (r == BG_OK || r != BG_ERR_AUTH)
		abort();
	check_why(why, false);
	/* A link never follows itself. */
	memset(why, 'x', sizeof(why));
	r = bg_chain_check_vault(l, l, NULL, 0, why, sizeof(why));
	if (r != BG_ERR_AUTH)
		abort();
	check_why(why, false);
	free(again);
	bg_chain_link_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	bg_chain_link_t *l = NULL;
	char *text, why[BG_CHAIN_WHY_MAX];
	int r;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = true;
	}
	if (size > 65536)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';

	memset(why, 'x', sizeof(why));
	r = bg_chain_link_parse(text, &l, why, sizeof(why));
	if (r == BG_OK) {
		if (l == NULL)
			abort();
		check_why(why, true);
		exercise(l, text);
	} else if (r == BG_ERR_PARSE) {
		if (l != NULL)
			abort();
		check_why(why, false);
	} else if (r != BG_ERR_NOMEM) {
		abort();
	}
	bg_chain_link_free(&l);
	free(text);
	return 0;
}
