/*
 * tokenctl test: enroll a throwaway credential and prove, one PASS/FAIL
 * line each, what the vault relies on.  The credential is non-resident,
 * so nothing is left on the token.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "pin.h"
#include "token_int.h"
#include "util.h"

#define TEST_RP		"breakglass.test"
#define TEST_USER	"breakglass-test"

static const char usage_test[] =
    "usage: tokenctl test --token PATH [--pin-file FILE] [--alg es256|eddsa]\n"
    "                [--timeout SECONDS]\n";

struct run {
	bg_token_t	*tok;
	const char	*path;
	int		 alg;
	char		*pin;		/* sodium_malloc copy once it worked */
	bg_token_cred_t	*cred;
	int		 passed, failed;
};

static void
check(struct run *t, bool ok, const char *what, const char *detail)
{
	if (ok)
		t->passed++;
	else
		t->failed++;
	printf("%s %s%s%s%s\n", ok ? "PASS" : "FAIL", what,
	    detail != NULL ? " (" : "", detail != NULL ? detail : "",
	    detail != NULL ? ")" : "");
	fflush(stdout);
}

static int
enroll_try(void *ctx, const char *pin)
{
	struct run *t = ctx;
	size_t len;
	int r;

	fprintf(stderr, "Touch the token to create a test credential.\n");
	r = bg_token_enroll(t->tok, TEST_RP, TEST_USER, t->alg, pin, &t->cred);
	if (r == BG_ERR_TOKEN_PIN_INVALID) {
		bg_cli_token_err("tokenctl", t->tok, r, "%s", t->path);
		return r;
	}
	if (r != BG_OK)
		return r;
	len = strlen(pin) + 1;
	if ((t->pin = sodium_malloc(len)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(t->pin, pin, len);
	return BG_OK;
}

static int
assert_salt(struct run *t, const uint8_t *salt, bg_token_assertion_t **ap,
    uint8_t cdh[BG_TOKEN_CDH_LEN])
{
	fprintf(stderr, "Touch the token to sign a test statement.\n");
	randombytes_buf(cdh, BG_TOKEN_CDH_LEN);
	return bg_token_assert(t->tok, TEST_RP, t->cred->id, t->cred->id_len,
	    t->alg, t->cred->pubkey, t->cred->pubkey_len, cdh, salt, t->pin,
	    ap);
}

/* The stored evidence verifies offline, and a flipped byte does not. */
static bool
evidence_ok(const struct run *t, const bg_token_assertion_t *a,
    const uint8_t cdh[BG_TOKEN_CDH_LEN])
{
	uint8_t *ad = NULL, bad_cdh[BG_TOKEN_CDH_LEN];
	bool ok = false;

	if (bg_token_verify(t->alg, t->cred->pubkey, t->cred->pubkey_len,
	    TEST_RP, cdh, a->authdata, a->authdata_len, a->sig, a->sig_len,
	    true) != BG_OK)
		goto out;
	memcpy(bad_cdh, cdh, sizeof(bad_cdh));
	bad_cdh[0] ^= 0x01;
	if (bg_token_verify(t->alg, t->cred->pubkey, t->cred->pubkey_len,
	    TEST_RP, bad_cdh, a->authdata, a->authdata_len, a->sig,
	    a->sig_len, true) == BG_OK)
		goto out;
	if ((ad = malloc(a->authdata_len)) == NULL)
		goto out;
	memcpy(ad, a->authdata, a->authdata_len);
	ad[a->authdata_len - 1] ^= 0x01;	/* the sign counter */
	if (bg_token_verify(t->alg, t->cred->pubkey, t->cred->pubkey_len,
	    TEST_RP, cdh, ad, a->authdata_len, a->sig, a->sig_len,
	    true) == BG_OK)
		goto out;
	ok = true;
out:
	free(ad);
	return ok;
}

static int
run_tests(struct run *t, const char *pin_file)
{
	bg_token_features_t feat;
	bg_token_assertion_t *a1 = NULL, *a2 = NULL, *a3 = NULL;
	uint8_t salt1[BG_TOKEN_SALT_LEN], salt2[BG_TOKEN_SALT_LEN];
	uint8_t cdh[BG_TOKEN_CDH_LEN], flags = 0, *nouv = NULL;
	const char *why = NULL, *att;
	char detail[160];
	int r;

	if ((r = bg_token_probe(t->tok, &feat)) != BG_OK) {
		bg_cli_token_err("tokenctl", NULL, r, "%s", t->path);
		goto out;
	}
	r = bg_token_check_usable(&feat, &why);
	check(t, r == BG_OK, "token has hmac-secret and a PIN",
	    r == BG_OK ? NULL : why);
	if (r != BG_OK) {
		bg_cli_errx("tokenctl", "%s: %s", t->path, why);
		goto out;
	}
	if ((t->alg == BG_TOKEN_EDDSA && !feat.eddsa) ||
	    (t->alg == BG_TOKEN_ES256 && !feat.es256)) {
		r = BG_ERR_TOKEN_UNSUPPORTED;
		check(t, false, "token offers the algorithm",
		    t->alg == BG_TOKEN_EDDSA ? "eddsa" : "es256");
		goto out;
	}

	r = bg_pin_try(pin_file, "PIN: ", enroll_try, t, &why);
	if (r != BG_OK && why != NULL) {
		/* the PIN could not be read: exit status 3 */
		bg_cli_errx("tokenctl", "%s: %s",
		    pin_file != NULL ? pin_file : "PIN", why);
		check(t, false, "enroll a test credential", why);
		r = BG_ERR_PIN_INPUT;
		goto out;
	}
	if (r != BG_OK) {
		if (r != BG_ERR_TOKEN_PIN_INVALID)
			bg_cli_token_err("tokenctl", NULL, r, "%s", t->path);
		check(t, false, "enroll a test credential", bg_strerror(r));
		goto out;
	}
	att = t->cred->attestation == BG_TOKEN_ATT_X5C ?
	    "certificate chain" : t->cred->attestation == BG_TOKEN_ATT_SELF ?
	    "packed self-attestation" : "format none: nothing to verify";
	snprintf(detail, sizeof(detail), "%s, fmt %s", att, t->cred->fmt);
	check(t, true, "attestation verifies", detail);
	if (feat.cred_protect)
		check(t, t->cred->cred_protect == 3,
		    "credProtect level 3 granted", NULL);

	randombytes_buf(salt1, sizeof(salt1));
	randombytes_buf(salt2, sizeof(salt2));
	if ((r = assert_salt(t, salt1, &a1, cdh)) != BG_OK) {
		bg_cli_token_err("tokenctl", t->tok, r, "%s", t->path);
		check(t, false, "signature verifies", bg_strerror(r));
		goto out;
	}
	check(t, evidence_ok(t, a1, cdh), "signature verifies",
	    "and a flipped byte does not");
	if ((r = assert_salt(t, salt1, &a2, cdh)) != BG_OK ||
	    (r = assert_salt(t, salt2, &a3, cdh)) != BG_OK) {
		bg_cli_token_err("tokenctl", t->tok, r, "%s", t->path);
		check(t, false, "hmac-secret", bg_strerror(r));
		goto out;
	}
	check(t, sodium_memcmp(a1->hmac_secret, a2->hmac_secret,
	    BG_TOKEN_HMAC_LEN) == 0, "hmac-secret is deterministic for a salt",
	    NULL);
	check(t, sodium_memcmp(a1->hmac_secret, a3->hmac_secret,
	    BG_TOKEN_HMAC_LEN) != 0, "hmac-secret differs for another salt",
	    NULL);
	check(t, a2->sign_count > a1->sign_count &&
	    a3->sign_count > a2->sign_count, "sign counter moves forward",
	    NULL);
	check(t, (a1->flags & a2->flags & a3->flags & 0x04) != 0,
	    "UV flag set in every assertion", NULL);

	/* Without the PIN: refused, or at least a different secret. */
	fprintf(stderr, "Touch the token once more (no PIN this time).\n");
	r = bg_token_assert_without_uv(t->tok, TEST_RP, t->cred->id,
	    t->cred->id_len, salt1, &flags, &nouv);
	if (r == BG_OK) {
		if ((flags & 0x04) != 0)
			check(t, false, "UV enforced",
			    "the token claims UV without a PIN");
		else if (sodium_memcmp(nouv, a1->hmac_secret,
		    BG_TOKEN_HMAC_LEN) == 0)
			check(t, false, "UV enforced", "hmac-secret output "
			    "without the PIN equals the one with it");
		else
			check(t, true, "UV enforced", "without the PIN the "
			    "hmac-secret output differs");
	} else if (r == BG_ERR_TOKEN_TIMEOUT || r == BG_ERR_TOKEN_IO ||
	    r == BG_ERR_TOKEN_CANCELLED || r == BG_ERR_NOMEM) {
		check(t, false, "UV enforced", bg_strerror(r));
	} else {
		snprintf(detail, sizeof(detail), "without the PIN the token "
		    "refuses: %s", bg_errname(r));
		check(t, true, "UV enforced", detail);
	}
	r = t->failed == 0 ? BG_OK : BG_ERR_TOKEN_UNSUPPORTED;
out:
	sodium_memzero(salt1, sizeof(salt1));
	sodium_memzero(salt2, sizeof(salt2));
	if (nouv != NULL)
		sodium_free(nouv);
	bg_token_assertion_free(&a1);
	bg_token_assertion_free(&a2);
	bg_token_assertion_free(&a3);
	return r;
}

int
cmd_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token",    required_argument, NULL, 't' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "alg",      required_argument, NULL, 'a' },
		{ "timeout",  required_argument, NULL, 'T' },
		{ "help",     no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run t;
	const char *pin_file = NULL;
	char *end;
	long secs = 0;
	int c, r = BG_ERR_INTERNAL, rc = BG_EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	t.alg = BG_TOKEN_ES256;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			t.path = optarg;
			break;
		case 'p':
			pin_file = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "es256") == 0)
				t.alg = BG_TOKEN_ES256;
			else if (strcmp(optarg, "eddsa") == 0)
				t.alg = BG_TOKEN_EDDSA;
			else {
				bg_cli_errx("tokenctl", "test: --alg is es256 "
				    "or eddsa, not '%s'", optarg);
				rc = BG_EXIT_USAGE;
				goto out;
			}
			break;
		case 'T':
			errno = 0;
			secs = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    secs < 1 || secs > 3600) {
				bg_cli_errx("tokenctl", "test: --timeout is "
				    "1 to 3600 seconds, not '%s'", optarg);
				rc = BG_EXIT_USAGE;
				goto out;
			}
			break;
		case 'h':
			fputs(usage_test, stdout);
			rc = BG_EXIT_OK;
			goto out;
		default:
			bg_cli_errx("tokenctl", "test: bad option '%s'",
			    argv[optind - 1]);
			fputs(usage_test, stderr);
			rc = BG_EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc || t.path == NULL) {
		fputs(usage_test, stderr);
		rc = BG_EXIT_USAGE;
		goto out;
	}
	if ((r = bg_token_open(t.path, &t.tok)) != BG_OK) {
		bg_cli_token_err("tokenctl", NULL, r, "%s", t.path);
		rc = bg_cli_exit_code(r);
		goto out;
	}
	if (secs > 0 && (r = bg_token_set_timeout(t.tok, (int)secs * 1000)) !=
	    BG_OK) {
		bg_cli_err("tokenctl", r, "test");
		goto out;
	}
	r = run_tests(&t, pin_file);
	if (t.failed == 0 && r == BG_OK) {
		printf("all %d checks passed: this token can hold a vault "
		    "membership\n", t.passed);
		rc = BG_EXIT_OK;
	} else {
		printf("%d of %d checks failed\n", t.failed > 0 ? t.failed : 1,
		    t.passed + (t.failed > 0 ? t.failed : 1));
		rc = bg_cli_exit_code(r);
		if (rc == BG_EXIT_OK)
			rc = BG_EXIT_FAIL;
	}
out:
	if (t.pin != NULL)
		sodium_free(t.pin);
	bg_token_cred_free(&t.cred);
	bg_token_close(&t.tok);
	return rc;
}
