/*
 * libFuzzer harness for the evidence bundle verifier and the report
 * renderers, which both read untrusted JSON.  The input goes to
 * bg_evidence_verify() (with and without a pinned key and a receipt) and,
 * as a NUL-terminated string, to bg_vault_report_render() in every format;
 * a bundle's report goes to the renderers too.  Invariants: a verdict
 * comes with a result whose failure count agrees with it; no rendering of
 * any input contains a script element or an unescaped '<' from the data.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
render_all(const char *json)
{
	static const int formats[] = { BG_VAULT_REPORT_TEXT,
	    BG_VAULT_REPORT_JSON, BG_VAULT_REPORT_HTML };
	char *out = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		r = bg_vault_report_render(json, formats[i], &out);
		if (r != BG_OK && out != NULL)
			abort();
		if (r == BG_OK && out == NULL)
			abort();
		if (out != NULL && formats[i] == BG_VAULT_REPORT_HTML &&
		    strcasestr(out, "<script") != NULL)
			abort();
		free(out);
		out = NULL;
	}
}

static int
printable(const char *t)
{
	for (; *t != '\0'; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return 0;
	return 1;
}

static void
verify(const uint8_t *data, size_t size, const uint8_t *pk,
    const char *receipt)
{
	bg_evidence_result_t *res = NULL;
	size_t i, failed = 0;
	int r;

	r = bg_evidence_verify(data, size, pk, receipt, &res);
	if (r != BG_OK && r != BG_ERR_AUTH && r != BG_ERR_PARSE &&
	    r != BG_ERR_NOMEM)
		abort();
	if ((r == BG_ERR_NOMEM) != (res == NULL))
		abort();
	if (res == NULL)
		return;
	for (i = 0; i < res->n_checks; i++) {
		/* PASS/FAIL lines quote the bundle: no control bytes. */
		if (!printable(res->checks[i].what) ||
		    !printable(res->checks[i].detail))
			abort();
	}
	for (i = 0; i < res->n_checks; i++)
		if (!res->checks[i].ok)
			failed++;
	if (failed != res->n_failed || (r == BG_OK) != (failed == 0) ||
	    (r == BG_OK && res->n_checks == 0))
		abort();
	if (res->report_json != NULL)
		render_all(res->report_json);
	bg_evidence_result_free(&res);
	if (res != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[32] = { 1, 2, 3 };
	char *s;

	if (size > 1u << 20)
		return 0;
	if (sodium_init() < 0)
		abort();
	verify(data, size, NULL, NULL);
	verify(data, size, pk, "BG1-8-5dc9da79a70659a9-fc49");
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	render_all(s);
	free(s);
	return 0;
}
