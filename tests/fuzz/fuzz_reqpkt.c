/*
 * libFuzzer harness for the request packet parser (bg_reqpkt_parse).
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bg_reqpkt_t *p = NULL;
	char why[BG_REMOTE_WHY_MAX], *again = NULL;
	int r;

	why[0] = '\0';
	r = bg_reqpkt_parse((const char *)data, size, &p, why, sizeof(why));
	if (r != BG_OK) {
		if (p != NULL)
			abort();
		check_why(why, false);
		return 0;
	}
	check_why(why, true);
	if (bg_reqpkt_encode(p, &again) != BG_OK || strlen(again) != size ||
	    memcmp(again, data, /* public: packet text */
	    size) != 0)
		abort();
	free(again);
	if (p->statement == NULL)
		abort();
	bg_reqpkt_free(&p);
	return 0;
}
