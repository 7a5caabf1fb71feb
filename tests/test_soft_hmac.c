/*
 * hmac-secret of the software authenticator under PIN/UV auth protocols 1
 * and 2: deterministic per salt, different per salt, per credential, and
 * with and without UV; one and two salts; saltAuth checked; and the
 * documented derivation recomputed here with OpenSSL as a known answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "breakglass/err.h"
#include "helpers/soft_client.h"
#include "soft/soft.h"

#define RP	"vault.example"
#define PIN	"4321"

struct fx {
	sc_tok_t	t;
	sc_cred_t	c;
	uint8_t		salt1[32];
	uint8_t		salt2[32];
	uint8_t		salts[64];
};

static struct fx *
fx_new(int alg)
{
	struct fx *f = calloc(1, sizeof(*f));
	sc_mc_t mc = { .rpid = RP, .alg = alg, .hmac_secret = true };

	assert_non_null(f);
	assert_int_equal(sc_tok_open(&f->t, 0x99, NULL), BG_OK);
	assert_int_equal(sc_make_cred(&f->t, &mc, &f->c), 0);
	assert_int_equal(f->c.flags & 0x80, 0x80);	/* ED: hmac-secret: true */
	memset(f->salt1, 0x11, 32);
	memset(f->salt2, 0x22, 32);
	memcpy(f->salts, f->salt1, 32);
	memcpy(f->salts + 32, f->salt2, 32);
	return f;
}

static void
fx_del(struct fx *f)
{
	sc_tok_close(&f->t);
	free(f);
}

/* One assertion with hmac-secret; returns the CTAP status. */
static int
hs(struct fx *f, int proto, const uint8_t *salts, size_t n, const uint8_t *tok,
    sc_assert_t *as)
{
	sc_pin_t p;
	sc_ga_t ga = { .rpid = RP, .cred = &f->c, .up = -1 };
	int st;

	if ((st = sc_key_agreement(&f->t, proto, &p)) != 0)
		return st;
	ga.hs = &p;
	ga.salts = salts;
	ga.nsalts = n;
	if (tok != NULL) {
		ga.proto = proto;
		ga.token = tok;
	}
	return sc_get_assertion(&f->t, &ga, as);
}

static void
expected(const struct fx *f, bool uv, const uint8_t salt[32], uint8_t out[32])
{
	const char *label = uv ? "breakglass soft v1 hmac-secret CredRandomWithUV" :
	    "breakglass soft v1 hmac-secret CredRandomWithoutUV";
	uint8_t k[32], cr[32];
	unsigned int n = 32;

	assert_non_null(HMAC(EVP_sha256(), f->t.state + 8, 32,
	    (const uint8_t *)label, strlen(label), k, &n));
	assert_non_null(HMAC(EVP_sha256(), k, 32, f->c.id, f->c.id_len, cr, &n));
	assert_non_null(HMAC(EVP_sha256(), cr, 32, salt, 32, out, &n));
}

static void
basics(int proto, int alg)
{
	struct fx *f = fx_new(alg);
	sc_assert_t a, b;
	uint8_t want[32];

	/* same salt, same output; fresh key agreement every time */
	assert_int_equal(hs(f, proto, f->salt1, 32, NULL, &a), 0);
	assert_int_equal(a.hmac_len, 32);
	assert_int_equal(a.flags, 0x81);		/* UP | ED */
	assert_int_equal(hs(f, proto, f->salt1, 32, NULL, &b), 0);
	assert_memory_equal(a.hmac, b.hmac, 32);
	expected(f, false, f->salt1, want);
	assert_memory_equal(a.hmac, want, 32);
	/* other salt, other output */
	assert_int_equal(hs(f, proto, f->salt2, 32, NULL, &b), 0);
	assert_memory_not_equal(a.hmac, b.hmac, 32);
	/* two salts: both outputs, in order */
	{
		sc_assert_t two;

		assert_int_equal(hs(f, proto, f->salts, 64, NULL, &two), 0);
		assert_int_equal(two.hmac_len, 64);
		assert_memory_equal(two.hmac, a.hmac, 32);
		assert_memory_equal(two.hmac + 32, b.hmac, 32);
	}
	fx_del(f);
}

static void test_basics_p1_es256(void **s) { (void)s; basics(1, -7); }
static void test_basics_p2_es256(void **s) { (void)s; basics(2, -7); }
static void test_basics_p1_eddsa(void **s) { (void)s; basics(1, -8); }
static void test_basics_p2_eddsa(void **s) { (void)s; basics(2, -8); }

static void
uv_differs(int proto)
{
	struct fx *f = fx_new(0);
	sc_assert_t nouv, uv, uv2;
	uint8_t tok[32], want[32];

	assert_int_equal(hs(f, proto, f->salt1, 32, NULL, &nouv), 0);
	assert_int_equal(sc_set_pin(&f->t, proto, PIN), 0);
	assert_int_equal(sc_get_token(&f->t, proto, PIN, 0x02, RP, tok), 0);
	assert_int_equal(hs(f, proto, f->salt1, 32, tok, &uv), 0);
	assert_int_equal(uv.flags, 0x85);		/* UP | UV | ED */
	assert_memory_not_equal(nouv.hmac, uv.hmac, 32);
	expected(f, true, f->salt1, want);
	assert_memory_equal(uv.hmac, want, 32);
	/* stable with UV too */
	assert_int_equal(sc_get_token(&f->t, proto, PIN, 0x02, RP, tok), 0);
	assert_int_equal(hs(f, proto, f->salt1, 32, tok, &uv2), 0);
	assert_memory_equal(uv.hmac, uv2.hmac, 32);
	/* and without UV, still the no-UV value */
	assert_int_equal(hs(f, proto, f->salt1, 32, NULL, &uv2), 0);
	assert_memory_equal(nouv.hmac, uv2.hmac, 32);
	fx_del(f);
}

static void test_uv_differs_p1(void **s) { (void)s; uv_differs(1); }
static void test_uv_differs_p2(void **s) { (void)s; uv_differs(2); }

static void
test_per_credential(void **state)
{
	struct fx *f = fx_new(0);
	sc_mc_t mc = { .rpid = RP, .hmac_secret = true };
	sc_cred_t first = f->c;
	sc_assert_t a, b;

	(void)state;
	assert_int_equal(hs(f, 2, f->salt1, 32, NULL, &a), 0);
	assert_int_equal(sc_make_cred(&f->t, &mc, &f->c), 0);
	assert_int_equal(hs(f, 2, f->salt1, 32, NULL, &b), 0);
	assert_memory_not_equal(a.hmac, b.hmac, 32);
	f->c = first;
	assert_int_equal(hs(f, 2, f->salt1, 32, NULL, &b), 0);
	assert_memory_equal(a.hmac, b.hmac, 32);
	fx_del(f);
}

static void
test_bad_salt_auth(void **state)
{
	struct fx *f = fx_new(0);
	sc_pin_t p;
	sc_ga_t ga = { .rpid = RP, .cred = &f->c, .up = -1, .salts = NULL };
	sc_assert_t as;
	uint8_t cdh[32] = { 0 };

	(void)state;
	for (int proto = 1; proto <= 2; proto++) {
		assert_int_equal(sc_key_agreement(&f->t, proto, &p), 0);
		ga.hs = &p;
		ga.salts = f->salt1;
		ga.nsalts = 32;
		ga.hs_bad_auth = true;
		f->t.presence_calls = 0;
		assert_int_equal(sc_get_assertion(&f->t, &ga, &as), 0x33);
		assert_int_equal(f->t.presence_calls, 0);	/* refused before a touch */
		ga.hs_bad_auth = false;
		/* 48 bytes of salt is neither one nor two */
		{
			uint8_t salts[48] = { 0 };

			ga.salts = salts;
			ga.nsalts = 48;
			assert_int_equal(sc_get_assertion(&f->t, &ga, &as), 0x03);
		}
	}
	/* a missing saltAuth */
	{
		cbor_item_t *req, *h;

		assert_int_equal(sc_key_agreement(&f->t, 2, &p), 0);
		ga.hs = NULL;
		req = sc_ga_request(&ga, cdh);
		h = cbor_new_definite_map(2);
		sc_put(h, 1, sc_pin_cose(&p));
		sc_put(h, 2, sc_bytes(f->salts, 48));
		{
			cbor_item_t *e = cbor_new_definite_map(1);

			sc_puts(e, "hmac-secret", h);
			sc_put(req, 4, e);
		}
		assert_int_equal(sc_cmd(&f->t, 0x02, req, NULL), 0x14);
		cbor_decref(&req);
	}
	/* a key agreement of the other protocol does not work */
	{
		sc_pin_t p1;

		assert_int_equal(sc_key_agreement(&f->t, 1, &p1), 0);
		p1.proto = 2;	/* the platform claims protocol 2 */
		ga.hs = &p1;
		ga.salts = f->salt1;
		ga.nsalts = 32;
		assert_int_equal(sc_get_assertion(&f->t, &ga, &as), 0x33);
	}
	fx_del(f);
}

static void
test_default_protocol_one(void **state)
{
	struct fx *f = fx_new(0);
	sc_pin_t p;
	sc_ga_t ga = { .rpid = RP, .cred = &f->c, .up = -1 };
	sc_assert_t a, b;

	(void)state;
	assert_int_equal(sc_key_agreement(&f->t, 1, &p), 0);
	ga.hs = &p;
	ga.salts = f->salt1;
	ga.nsalts = 32;
	ga.hs_omit_proto = true;
	assert_int_equal(sc_get_assertion(&f->t, &ga, &a), 0);
	assert_int_equal(hs(f, 2, f->salt1, 32, NULL, &b), 0);
	assert_memory_equal(a.hmac, b.hmac, 32);	/* same secret either way */
	fx_del(f);
}

static void
test_not_enabled(void **state)
{
	struct fx *f = fx_new(0);
	sc_mc_t mc = { .rpid = RP, .hmac_secret = false };
	sc_assert_t as;

	(void)state;
	assert_int_equal(sc_make_cred(&f->t, &mc, &f->c), 0);
	assert_int_equal(f->c.flags & 0x80, 0);
	/* the extension is ignored for a credential made without it */
	assert_int_equal(hs(f, 2, f->salt1, 32, NULL, &as), 0);
	assert_int_equal(as.flags, 0x01);
	assert_int_equal(as.hmac_len, 0);
	fx_del(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basics_p1_es256),
		cmocka_unit_test(test_basics_p2_es256),
		cmocka_unit_test(test_basics_p1_eddsa),
		cmocka_unit_test(test_basics_p2_eddsa),
		cmocka_unit_test(test_uv_differs_p1),
		cmocka_unit_test(test_uv_differs_p2),
		cmocka_unit_test(test_per_credential),
		cmocka_unit_test(test_bad_salt_auth),
		cmocka_unit_test(test_default_protocol_one),
		cmocka_unit_test(test_not_enabled),
	};

	return cmocka_run_group_tests_name("soft_hmac", tests, NULL, NULL);
}
