/*
 * libFuzzer harness for the QR part parser and joiner (bg_qrpart_join).
 * The input is split at newlines into part texts (at most 64).  Whatever
 * joins must cut back into exactly the texts given (parts are canonical:
 * one text per part of one packet); whatever is refused must come with a
 * printable sentence and no output.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "breakglass/err.h"
#include "qrpart.h"

#define MAX_TEXTS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t[MAX_TEXTS];
	size_t l[MAX_TEXTS], n = 0, i, j, olen = 0, k;
	const uint8_t *p = data, *e = data + size, *nl;
	bg_qrparts_t *parts = NULL;
	uint8_t *out = NULL;
	char why[BG_QRPART_WHY_MAX];
	int r;

	while (p <= e && n < MAX_TEXTS) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		t[n] = (const char *)p;
		l[n] = (size_t)(nl - p);
		n++;
		p = nl + 1;
	}
	why[0] = '\0';
	r = bg_qrpart_join(t, l, NULL, n, &out, &olen, why, sizeof(why));
	if (r != BG_OK) {
		if (out != NULL || olen != 0 || why[0] == '\0')
			abort();
		for (i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] < 0x20)
				abort();
		return 0;
	}
	if (bg_qrpart_split(out, olen, &parts) != BG_OK)
		abort();
	for (i = 0; i < n; i++) {
		/* "BG1/k/": the part number picks the text it must equal */
		k = 0;
		for (j = 4; j < l[i] && t[i][j] != '/'; j++)
			k = k * 10u + (size_t)(t[i][j] - '0');
		if (k < 1 || k > parts->n || strlen(parts->text[k - 1]) != l[i] ||
		    memcmp(parts->text[k - 1], t[i], l[i]) != 0) /* public: */
			abort();
	}
	bg_qrparts_free(&parts);
	free(out);
	return 0;
}
