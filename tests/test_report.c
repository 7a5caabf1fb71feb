/*
 * Unit tests for the report renderers and the evidence verifier's handling
 * of input that is not what it claims: escaping of every string taken
 * from a report (HTML and terminal), refusal of non-reports, verdicts on
 * malformed bundles.  The full export/verify round trip with real tokens
 * is tests/e2e/vault_evidence.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"

static const char hostile[] =
    "{\"format\":\"bg-report-v1\",\"vault\":\"<v>\",\"generated_at\":1,"
    "\"scope\":{\"tenant\":\"a\\u001bb\"},"
    "\"incidents\":[{\"request\":7,\"tenant\":\"t<i>\",\"secret\":\"s\","
    "\"version\":1,\"requester\":\"r\\\"q\",\"reason\":"
    "\"<script>alert('x')</script> & \\u0007bell\",\"ticket\":\"<img src=x>\","
    "\"state\":\"released\",\"approvers\":[\"<a>\",5],"
    "\"rotation\":{\"status\":\"late\",\"lag_seconds\":90000,"
    "\"lease_end\":100,\"rotate_by\":200,\"rotated_at\":90100,"
    "\"deadline_seconds\":100},"
    "\"timeline\":[{\"seq\":1,\"time\":10,\"kind\":\"request\\\"><x\","
    "\"actor\":\"<b>\",\"text\":\"</svg><script>\"},"
    "{\"seq\":0,\"time\":20,\"kind\":\"lease-end\",\"text\":\"t\"}]}],"
    "\"refusals\":[{\"seq\":3,\"time\":5,\"actor\":\"m\",\"message\":"
    "\"<iframe>\",\"code\":\"BG_ERR_CLOCK\"}],"
    "\"anomalies\":[{\"kind\":\"clock\",\"time\":5,\"text\":\"<style>\"}]}";

static void
test_html_escapes_everything(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(bg_vault_report_render(hostile, BG_VAULT_REPORT_HTML,
	    &out), BG_OK);
	assert_non_null(out);
	assert_null(strstr(out, "<script"));
	assert_null(strstr(out, "<img"));
	assert_null(strstr(out, "<iframe"));
	assert_null(strstr(out, "<i>"));
	assert_null(strstr(out, "<b>"));
	assert_null(strstr(out, "<a>"));
	assert_null(strstr(out, "</svg><"));
	assert_null(strstr(out, "\x07"));
	assert_non_null(strstr(out, "&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt; &amp; ?bell"));
	assert_non_null(strstr(out, "&lt;img src=x&gt;"));
	/* the kind becomes a class word: no quote can leave the attribute */
	assert_non_null(strstr(out, "class=\"mark k-request---x\""));
	assert_non_null(strstr(out, "<svg class=\"timeline\" id=\"timeline-7\""));
	assert_non_null(strstr(out, "data-marks=\"2\""));
	assert_non_null(strstr(out, "class=\"mark k-lease-end\""));
	/* a single self-contained file: no external references */
	assert_null(strstr(out, "http://www.w3.org/1999"));
	assert_null(strstr(out, " src=\""));
	assert_null(strstr(out, " href=\""));
	free(out);
}

static void
test_text_strips_controls(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(bg_vault_report_render(hostile, BG_VAULT_REPORT_TEXT,
	    &out), BG_OK);
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_non_null(strstr(out, "tenant a?b"));
	assert_non_null(strstr(out, "Request 7: t<i>/s v1, released"));
	assert_non_null(strstr(out, "LATE"));
	assert_non_null(strstr(out, "(derived)"));
	assert_non_null(strstr(out, "BG_ERR_CLOCK"));
	free(out);
}

static void
test_json_round_trip(void **state)
{
	char *out = NULL, *again = NULL;

	(void)state;
	assert_int_equal(bg_vault_report_render(hostile, BG_VAULT_REPORT_JSON,
	    &out), BG_OK);
	assert_non_null(strstr(out, "\"format\": \"bg-report-v1\""));
	assert_int_equal(bg_vault_report_render(out, BG_VAULT_REPORT_JSON,
	    &again), BG_OK);
	assert_string_equal(out, again);
	free(out);
	free(again);
}

static void
test_render_refuses(void **state)
{
	char *out = (char *)1;

	(void)state;
	assert_int_equal(bg_vault_report_render("{\"format\":\"bg-report-v2\"}",
	    BG_VAULT_REPORT_TEXT, &out), BG_ERR_PARSE);
	assert_null(out);
	assert_int_equal(bg_vault_report_render("[1,2]", BG_VAULT_REPORT_HTML,
	    &out), BG_ERR_PARSE);
	assert_int_equal(bg_vault_report_render("{\"format\":",
	    BG_VAULT_REPORT_HTML, &out), BG_ERR_PARSE);
	assert_int_equal(bg_vault_report_render("{\"format\":\"bg-report-v1\"}",
	    99, &out), BG_ERR_INVALID_ARG);
	assert_null(out);
	assert_int_equal(bg_vault_report_render(NULL, BG_VAULT_REPORT_TEXT,
	    &out), BG_ERR_INVALID_ARG);
	/* an empty report still renders */
	assert_int_equal(bg_vault_report_render("{\"format\":\"bg-report-v1\"}",
	    BG_VAULT_REPORT_HTML, &out), BG_OK);
	assert_non_null(strstr(out, "0 incident(s)"));
	free(out);
}

static void
verdict(const char *bundle, int expect, const char *what)
{
	bg_evidence_result_t *res = NULL;
	size_t i;
	bool found = false;

	assert_int_equal(bg_evidence_verify((const uint8_t *)bundle,
	    strlen(bundle), NULL, NULL, &res), expect);
	assert_non_null(res);
	assert_true(res->n_failed > 0);
	for (i = 0; i < res->n_checks; i++)
		if (!res->checks[i].ok && strstr(res->checks[i].what, what))
			found = true;
	assert_true(found);
	bg_evidence_result_free(&res);
	assert_null(res);
}

static void
test_verify_malformed(void **state)
{
	char key[65];

	(void)state;
	verdict("not json", BG_ERR_PARSE, "bundle format");
	verdict("{\"format\":\"bg-evidence-v2\"}", BG_ERR_PARSE,
	    "bundle format");
	verdict("{\"format\":\"bg-evidence-v1\"}", BG_ERR_PARSE,
	    "vault public key");
	memset(key, 'a', 64);
	key[64] = '\0';
	{
		char b[512];

		(void)snprintf(b, sizeof(b), "{\"format\":\"bg-evidence-v1\","
		    "\"vault_public_key\":\"%s\",\"tree_head\":\"bg-treehead-v2"
		    "\",\"events\":[],\"signature\":\"00\"}", key);
		verdict(b, BG_ERR_AUTH, "tree head signature");
		verdict(b, BG_ERR_AUTH, "bundle signature");
		verdict(b, BG_ERR_AUTH, "events");
		verdict(b, BG_ERR_AUTH, "the request event is in the bundle");
	}
	assert_int_equal(bg_evidence_verify((const uint8_t *)"{}", 2, NULL,
	    NULL, NULL), BG_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escapes_everything),
		cmocka_unit_test(test_text_strips_controls),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_render_refuses),
		cmocka_unit_test(test_verify_malformed),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
