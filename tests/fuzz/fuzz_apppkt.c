/*
 * libFuzzer harness for the approval packet parser (bg_apppkt_parse); the packet's statement then goes to the statement parser, and the first line of the input to the witness-state parser.
 * Whatever parses must encode back to exactly the input (one text per
 * packet); whatever is refused must come with a printable sentence.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_why(const char *why, bool empty)
{
	size_t i, n = strlen(why);

	if (empty != (n == 0))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)why[i] < 0x20)
			abort();
}

/* The same bytes as a statement (request and decision) and as a witness
 * state line: whatever parses formats back to itself. */
static void
other(const uint8_t *data, size_t size)
{
	bg_remote_stmt_t st;
	bg_witness_t w;
	uint8_t h[32];
	char *s, why[BG_REMOTE_WHY_MAX], again[256];

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (bg_remote_stmt_parse(s, false, &st, NULL, why, sizeof(why)) ==
	    BG_OK && (st.body_len == 0 || st.body_len > strlen(s)))
		abort();
	if (bg_remote_stmt_parse(s, true, &st, h, why, sizeof(why)) == BG_OK &&
	    (st.body_len == 0 || st.body_len > strlen(s)))
		abort();
	if (bg_witness_parse(s, &w, why, sizeof(why)) == BG_OK &&
	    (bg_witness_format(&w, again, sizeof(again)) != BG_OK ||
	    strcmp(again, s) != 0))
		abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bg_apppkt_t *p = NULL;
	char why[BG_REMOTE_WHY_MAX], *again = NULL;
	int r;

	other(data, size);
	why[0] = '\0';
	r = bg_apppkt_parse((const char *)data, size, &p, why, sizeof(why));
	if (r != BG_OK) {
		if (p != NULL)
			abort();
		check_why(why, false);
		return 0;
	}
	check_why(why, true);
	if (bg_apppkt_encode(p, &again) != BG_OK || strlen(again) != size ||
	    memcmp(again, data, /* public: packet text */
	    size) != 0)
		abort();
	free(again);
	bg_apppkt_free(&p);
	return 0;
}
