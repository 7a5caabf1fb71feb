/*
 * The software authenticator's CTAP2 core: getInfo, makeCredential,
 * getAssertion, reset, selection, dispatch and strict CBOR input, driven
 * through bg_soft_ctap2() with CBOR built by libcbor.  PIN and hmac-secret
 * have their own programs (test_soft_pin, test_soft_hmac).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "helpers/soft_client.h"
#include "soft/soft.h"

#define RP	"vault.example"

static sc_tok_t *
tok_new(const bg_soft_opts_t *opts)
{
	sc_tok_t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(sc_tok_open(t, 0x42, opts), BG_OK);
	return t;
}

static void
tok_del(sc_tok_t *t)
{
	sc_tok_close(t);
	free(t);
}

/* ----------------------------------------------------------------------- */

static void
check_canonical_keys(const cbor_item_t *m)
{
	struct cbor_pair *p = cbor_map_handle(m);

	for (size_t i = 1; i < cbor_map_size(m); i++)
		assert_true(cbor_get_int(p[i - 1].key) < cbor_get_int(p[i].key));
}

static void
test_get_info(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	cbor_item_t *r = NULL, *v, *o, *a;
	uint8_t req = 0x04, resp[2048];
	size_t len = 0;
	struct cbor_pair *op;

	(void)state;
	assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0);
	assert_int_equal(resp[1], 0xab);	/* map of 11 */
	assert_int_equal(sc_cmd(t, 0x04, NULL, &r), 0);
	check_canonical_keys(r);
	v = sc_get(r, 1);
	assert_int_equal(cbor_array_size(v), 2);
	assert_memory_equal(cbor_string_handle(cbor_array_handle(v)[0]), "FIDO_2_0", 8);
	assert_memory_equal(cbor_string_handle(cbor_array_handle(v)[1]), "FIDO_2_1", 8);
	v = sc_get(r, 2);
	assert_int_equal(cbor_array_size(v), 2);
	assert_memory_equal(cbor_string_handle(cbor_array_handle(v)[0]), "credProtect", 11);
	assert_memory_equal(cbor_string_handle(cbor_array_handle(v)[1]), "hmac-secret", 11);
	assert_int_equal(cbor_bytestring_length(sc_get(r, 3)), 16);
	assert_memory_equal(cbor_bytestring_handle(sc_get(r, 3)), bg_soft_aaguid, 16);
	o = sc_get(r, 4);
	assert_int_equal(cbor_map_size(o), 4);
	op = cbor_map_handle(o);
	assert_memory_equal(cbor_string_handle(op[0].key), "rk", 2);
	assert_false(cbor_get_bool(op[0].value));
	assert_memory_equal(cbor_string_handle(op[1].key), "up", 2);
	assert_true(cbor_get_bool(op[1].value));
	assert_memory_equal(cbor_string_handle(op[2].key), "clientPin", 9);
	assert_false(cbor_get_bool(op[2].value));
	assert_memory_equal(cbor_string_handle(op[3].key), "pinUvAuthToken", 14);
	assert_true(cbor_get_bool(op[3].value));
	assert_null(sc_gets(o, "uv"));
	assert_int_equal(sc_uintval(sc_get(r, 5)), BG_SOFT_MAX_MSG);
	v = sc_get(r, 6);
	assert_int_equal(cbor_array_size(v), 2);
	assert_int_equal(cbor_get_int(cbor_array_handle(v)[0]), 2);
	assert_int_equal(cbor_get_int(cbor_array_handle(v)[1]), 1);
	a = sc_get(r, 10);
	assert_int_equal(cbor_array_size(a), 2);
	assert_int_equal(cbor_get_int(sc_gets(cbor_array_handle(a)[0], "alg")), 6);	/* -7 */
	assert_int_equal(cbor_get_int(sc_gets(cbor_array_handle(a)[1], "alg")), 7);	/* -8 */
	assert_memory_equal(cbor_string_handle(sc_gets(cbor_array_handle(a)[0], "type")),
	    "public-key", 10);
	cbor_decref(&r);

	/* trailing bytes after a parameterless command */
	{
		uint8_t bad[2] = { 0x04, 0xa0 };

		assert_int_equal(sc_raw(t, bad, 2, resp, &len), 0x03);
		assert_int_equal(len, 1);
	}
	tok_del(t);
}

static void
test_get_info_variants(void **state)
{
	bg_soft_opts_t nopin = { .no_pin_uv = true, .pin_protocols = 0 };
	bg_soft_opts_t p1 = { .no_pin_uv = false, .pin_protocols = 1 << 1 };
	sc_tok_t *t = tok_new(&nopin);
	cbor_item_t *r = NULL, *o;

	(void)state;
	assert_int_equal(sc_cmd(t, 0x04, NULL, &r), 0);
	check_canonical_keys(r);
	o = sc_get(r, 4);
	assert_int_equal(cbor_map_size(o), 2);
	assert_null(sc_gets(o, "clientPin"));
	assert_null(sc_gets(o, "pinUvAuthToken"));
	assert_null(sc_get(r, 6));
	cbor_decref(&r);
	tok_del(t);

	t = tok_new(&p1);
	assert_int_equal(sc_cmd(t, 0x04, NULL, &r), 0);
	assert_int_equal(cbor_array_size(sc_get(r, 6)), 1);
	assert_int_equal(cbor_get_int(cbor_array_handle(sc_get(r, 6))[0]), 1);
	cbor_decref(&r);
	tok_del(t);

	/* unknown protocol bits are refused */
	{
		bg_soft_opts_t bad = { .pin_protocols = 1 << 3 };
		sc_tok_t x;

		assert_int_equal(sc_tok_open(&x, 1, &bad), BG_ERR_INVALID_ARG);
		assert_null(x.soft);
	}
}

static void
test_make_credential(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_cred_t c;

	(void)state;
	/* ES256 */
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	assert_int_equal(c.alg, -7);
	assert_int_equal(c.flags, 0x41);	/* UP | AT */
	assert_int_equal(c.counter, 1);
	assert_int_equal(c.id_len, 76);
	assert_int_equal(t->presence_calls, 1);
	/* EdDSA */
	mc.alg = -8;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	assert_int_equal(c.alg, -8);
	assert_int_equal(c.counter, 2);
	/* unsupported */
	mc.alg = -257;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0x26);
	tok_del(t);
}

static cbor_item_t *
param(const char *type, int64_t alg)
{
	cbor_item_t *m = cbor_new_definite_map(2);

	sc_puts(m, "alg", sc_int(alg));
	sc_puts(m, "type", sc_text(type));
	return m;
}

/* makeCredential with key `drop` removed (0: none) and key 4 replaced by
 * `params` if given. */
static cbor_item_t *
mc_req(int drop, cbor_item_t *params)
{
	static const uint8_t cdh[32];
	sc_mc_t a = { .rpid = RP };
	cbor_item_t *full = sc_mc_request(&a, cdh), *out;
	struct cbor_pair *p = cbor_map_handle(full);

	out = cbor_new_definite_map(cbor_map_size(full));
	for (size_t i = 0; i < cbor_map_size(full); i++) {
		uint64_t k = cbor_get_int(p[i].key);

		if ((int)k == drop)
			continue;
		if (k == 4 && params != NULL)
			sc_put(out, 4, params);
		else
			sc_put(out, (int64_t)k, cbor_incref(p[i].value));
	}
	cbor_decref(&full);
	return out;
}

static int
mc_status(sc_tok_t *t, cbor_item_t *req)
{
	int st = sc_cmd(t, 0x01, req, NULL);

	cbor_decref(&req);
	return st;
}

static void
test_mc_algorithms_and_params(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	cbor_item_t *l, *r = NULL, *ad;

	(void)state;
	/* first supported in the client's order */
	l = cbor_new_definite_array(3);
	(void)cbor_array_push(l, cbor_move(param("public-key", -257)));
	(void)cbor_array_push(l, cbor_move(param("public-key", -8)));
	(void)cbor_array_push(l, cbor_move(param("public-key", -7)));
	{
		cbor_item_t *req = mc_req(0, l);

		assert_int_equal(sc_cmd(t, 0x01, req, &r), 0);
		cbor_decref(&req);
		ad = sc_get(r, 2);
		/* COSE key after the 76-byte id: kty OKP */
		assert_int_equal(cbor_bytestring_handle(ad)[55 + 76 + 2], 0x01);
		assert_int_equal(cbor_get_int(sc_gets(sc_get(r, 3), "alg")), 7);
		cbor_decref(&r);
	}
	/* unknown type is skipped */
	l = cbor_new_definite_array(1);
	(void)cbor_array_push(l, cbor_move(param("other", -7)));
	assert_int_equal(mc_status(t, mc_req(0, l)), 0x26);
	/* empty list */
	assert_int_equal(mc_status(t, mc_req(0, cbor_new_definite_array(0))), 0x26);
	/* element without alg */
	l = cbor_new_definite_array(1);
	{
		cbor_item_t *m = cbor_new_definite_map(1);

		sc_puts(m, "type", sc_text("public-key"));
		(void)cbor_array_push(l, cbor_move(m));
	}
	assert_int_equal(mc_status(t, mc_req(0, l)), 0x14);
	/* wrong type of alg */
	l = cbor_new_definite_array(1);
	{
		cbor_item_t *m = cbor_new_definite_map(2);

		sc_puts(m, "alg", sc_text("ES256"));
		sc_puts(m, "type", sc_text("public-key"));
		(void)cbor_array_push(l, cbor_move(m));
	}
	assert_int_equal(mc_status(t, mc_req(0, l)), 0x11);
	/* params not an array */
	assert_int_equal(mc_status(t, mc_req(0, sc_int(5))), 0x11);
	/* each required parameter */
	for (int k = 1; k <= 4; k++)
		assert_int_equal(mc_status(t, mc_req(k, NULL)), 0x14);
	/* no CBOR at all */
	{
		uint8_t req = 0x01, resp[2048];
		size_t len;

		assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0x14);
	}
	tok_del(t);
}

static void
test_mc_options(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_cred_t c;

	(void)state;
	mc.opt_key = "rk";
	mc.opt_val = true;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0x2b);
	mc.opt_val = false;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	mc.opt_key = "uv";
	mc.opt_val = true;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0x2c);
	mc.opt_val = false;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	mc.opt_key = "up";
	mc.opt_val = false;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0x2c);
	mc.opt_val = true;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	mc.opt_key = "somethingElse";
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	tok_del(t);
}

static void
test_mc_exclude_list(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_cred_t a, b;
	uint8_t junk[76];

	(void)state;
	assert_int_equal(sc_make_cred(t, &mc, &a), 0);
	t->presence_calls = 0;
	mc.excl_id = a.id;
	mc.excl_len = a.id_len;
	assert_int_equal(sc_make_cred(t, &mc, &b), 0x19);
	assert_int_equal(t->presence_calls, 1);		/* asked for a touch first */
	/* excluded even when the touch does not come */
	t->presence = BG_SOFT_UP_DENIED;
	assert_int_equal(sc_make_cred(t, &mc, &b), 0x19);
	t->presence = BG_SOFT_UP_GRANTED;
	/* the same id means nothing for another RP */
	mc.rpid = "other.example";
	assert_int_equal(sc_make_cred(t, &mc, &b), 0);
	/* nor does a foreign id */
	memcpy(junk, a.id, sizeof(junk));
	junk[40] ^= 1;
	mc.rpid = RP;
	mc.excl_id = junk;
	assert_int_equal(sc_make_cred(t, &mc, &b), 0);
	/* credProtect 3 credentials are invisible without UV */
	mc.excl_id = NULL;
	mc.cred_protect = 3;
	assert_int_equal(sc_make_cred(t, &mc, &a), 0);
	mc.excl_id = a.id;
	mc.excl_len = a.id_len;
	assert_int_equal(sc_make_cred(t, &mc, &b), 0);
	tok_del(t);
}

static void
test_presence_outcomes(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_ga_t ga = { .rpid = RP, .up = -1 };
	sc_cred_t c, c2;
	sc_assert_t as;
	static const struct { int up; int st; } cases[] = {
		{ BG_SOFT_UP_DENIED, 0x27 },
		{ BG_SOFT_UP_TIMEOUT, 0x2f },
		{ BG_SOFT_UP_CANCELLED, 0x2d },
	};

	(void)state;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	ga.cred = &c;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t sel = 0x0b, resp[2048];
		size_t len;

		t->presence = cases[i].up;
		assert_int_equal(sc_make_cred(t, &mc, &c2), cases[i].st);
		assert_int_equal(sc_get_assertion(t, &ga, &as), cases[i].st);
		assert_int_equal(sc_raw(t, &sel, 1, resp, &len), cases[i].st);
	}
	/* selection with presence */
	{
		uint8_t sel = 0x0b, resp[2048], bad[2] = { 0x0b, 0x00 };
		size_t len;

		t->presence = BG_SOFT_UP_GRANTED;
		assert_int_equal(sc_raw(t, &sel, 1, resp, &len), 0);
		assert_int_equal(len, 1);
		assert_int_equal(sc_raw(t, bad, 2, resp, &len), 0x03);
	}
	tok_del(t);
}

static void
test_get_assertion(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_ga_t ga = { .rpid = RP, .up = -1 };
	sc_cred_t es, ed;
	sc_assert_t as;

	(void)state;
	assert_int_equal(sc_make_cred(t, &mc, &es), 0);
	mc.alg = -8;
	assert_int_equal(sc_make_cred(t, &mc, &ed), 0);
	ga.cred = &es;
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0);	/* verifies sig */
	assert_int_equal(as.flags, 0x01);
	assert_int_equal(as.counter, 3);
	ga.cred = &ed;
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0);
	assert_int_equal(as.counter, 4);
	/* up = false: no touch, UP clear */
	t->presence_calls = 0;
	ga.up = 0;
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0);
	assert_int_equal(as.flags, 0x00);
	assert_int_equal(t->presence_calls, 0);
	ga.up = 1;
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0);
	assert_int_equal(as.flags, 0x01);
	/* another RP: not ours */
	ga.rpid = "evil.example";
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0x2e);
	ga.rpid = RP;
	/* no allowList */
	ga.cred = NULL;
	{
		uint8_t cdh[32] = { 0 };
		cbor_item_t *req = sc_ga_request(&ga, cdh);

		assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x2e);
		cbor_decref(&req);
	}
	/* tampered credential id */
	{
		sc_cred_t bad = es;

		bad.id[30] ^= 0x80;
		ga.cred = &bad;
		assert_int_equal(sc_get_assertion(t, &ga, &as), 0x2e);
	}
	tok_del(t);
}

static void
test_ga_errors(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_cred_t c;
	uint8_t cdh[32] = { 1 };
	cbor_item_t *req, *l, *o;

	(void)state;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	/* missing rpId */
	req = cbor_new_definite_map(1);
	sc_put(req, 2, sc_bytes(cdh, 32));
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x14);
	cbor_decref(&req);
	/* missing clientDataHash */
	req = cbor_new_definite_map(1);
	sc_put(req, 1, sc_text(RP));
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x14);
	cbor_decref(&req);
	/* short clientDataHash, rpId of the wrong type */
	req = cbor_new_definite_map(2);
	sc_put(req, 1, sc_text(RP));
	sc_put(req, 2, sc_bytes(cdh, 31));
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x03);
	cbor_decref(&req);
	req = cbor_new_definite_map(2);
	sc_put(req, 1, sc_bytes(cdh, 4));
	sc_put(req, 2, sc_bytes(cdh, 32));
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x11);
	cbor_decref(&req);
	/* empty allowList */
	req = cbor_new_definite_map(3);
	sc_put(req, 1, sc_text(RP));
	sc_put(req, 2, sc_bytes(cdh, 32));
	sc_put(req, 3, cbor_new_definite_array(0));
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x2e);
	cbor_decref(&req);
	/* allowList too long */
	req = cbor_new_definite_map(3);
	sc_put(req, 1, sc_text(RP));
	sc_put(req, 2, sc_bytes(cdh, 32));
	l = cbor_new_definite_array(17);
	for (int i = 0; i < 17; i++) {
		cbor_item_t *d = cbor_new_definite_map(2);

		sc_puts(d, "id", sc_bytes(c.id, 8));
		sc_puts(d, "type", sc_text("public-key"));
		(void)cbor_array_push(l, cbor_move(d));
	}
	sc_put(req, 3, l);
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x15);
	cbor_decref(&req);
	/* descriptor without id */
	req = cbor_new_definite_map(3);
	sc_put(req, 1, sc_text(RP));
	sc_put(req, 2, sc_bytes(cdh, 32));
	l = cbor_new_definite_array(1);
	{
		cbor_item_t *d = cbor_new_definite_map(1);

		sc_puts(d, "type", sc_text("public-key"));
		(void)cbor_array_push(l, cbor_move(d));
	}
	sc_put(req, 3, l);
	assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x14);
	cbor_decref(&req);
	/* rk in getAssertion, uv without built-in UV, non-bool option */
	{
		static const struct { const char *k; int st; } opts[] = {
			{ "rk", 0x2b }, { "uv", 0x2c },
		};

		for (size_t i = 0; i < 2; i++) {
			sc_ga_t ga = { .rpid = RP, .cred = &c, .up = -1 };

			req = sc_ga_request(&ga, cdh);
			o = cbor_new_definite_map(1);
			sc_puts(o, opts[i].k, cbor_build_bool(true));
			sc_put(req, 5, o);
			assert_int_equal(sc_cmd(t, 0x02, req, NULL), opts[i].st);
			cbor_decref(&req);
		}
		{
			sc_ga_t ga = { .rpid = RP, .cred = &c, .up = -1 };

			req = sc_ga_request(&ga, cdh);
			o = cbor_new_definite_map(1);
			sc_puts(o, "up", sc_int(1));
			sc_put(req, 5, o);
			assert_int_equal(sc_cmd(t, 0x02, req, NULL), 0x11);
			cbor_decref(&req);
		}
	}
	tok_del(t);
}

static void
test_counter_persisted(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_ga_t ga = { .rpid = RP, .up = -1 };
	sc_cred_t c;
	sc_assert_t as;
	int saves;

	(void)state;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	ga.cred = &c;
	saves = t->saves;
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0);
	assert_int_equal(t->saves, saves + 1);
	assert_int_equal(as.counter, 2);
	/* counter bytes in the blob, big-endian at offset 58 */
	assert_int_equal(t->state[61], 2);
	/* a "new process" continues from the saved state */
	assert_int_equal(sc_tok_reopen(t), BG_OK);
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0);
	assert_int_equal(as.counter, 3);
	/* a failed save: no signature, and the token stops */
	t->fail_save = true;
	{
		uint8_t cdh[32] = { 0 }, req[2048], resp[2048];
		cbor_item_t *r = sc_ga_request(&ga, cdh);
		unsigned char *buf = NULL;
		size_t buflen = 0, n, len = 0;

		n = cbor_serialize_alloc(r, &buf, &buflen);
		req[0] = 0x02;
		memcpy(req + 1, buf, n);
		free(buf);
		cbor_decref(&r);
		assert_int_equal(bg_soft_ctap2(t->soft, req, n + 1, resp,
		    sizeof(resp), &len), BG_ERR_IO);
		assert_int_equal(len, 1);
		assert_int_equal(resp[0], 0x7f);
		t->fail_save = false;
		req[0] = 0x04;
		assert_int_equal(bg_soft_ctap2(t->soft, req, 1, resp,
		    sizeof(resp), &len), BG_ERR_IO);
	}
	tok_del(t);
}

static void
test_cred_protect(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_ga_t ga = { .rpid = RP, .up = -1 };
	sc_cred_t c;
	sc_assert_t as;
	cbor_item_t *req, *r = NULL;
	uint8_t cdh[32] = { 0 };

	(void)state;
	for (int level = 1; level <= 3; level++) {
		const uint8_t *ad;
		size_t adlen;

		mc.cred_protect = level;
		req = sc_mc_request(&mc, cdh);
		assert_int_equal(sc_cmd(t, 0x01, req, &r), 0);
		cbor_decref(&req);
		ad = cbor_bytestring_handle(sc_get(r, 2));
		adlen = cbor_bytestring_length(sc_get(r, 2));
		assert_int_equal(ad[32] & 0x80, 0x80);		/* ED */
		/* extensions map { "credProtect": level } ends authData */
		assert_int_equal(ad[adlen - 14], 0xa1);
		assert_memory_equal(ad + adlen - 12, "credProtect", 11);
		assert_int_equal(ad[adlen - 1], level);
		cbor_decref(&r);

		assert_int_equal(sc_make_cred(t, &mc, &c), 0);
		ga.cred = &c;
		/* no UV here: level 3 is not found, 1 and 2 (with allowList) are */
		assert_int_equal(sc_get_assertion(t, &ga, &as),
		    level == 3 ? 0x2e : 0);
	}
	/* an unknown policy value is ignored: no extension output */
	mc.cred_protect = 7;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	assert_int_equal(c.flags & 0x80, 0);
	tok_del(t);
}

static void
test_reset(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	sc_mc_t mc = { .rpid = RP };
	sc_ga_t ga = { .rpid = RP, .up = -1 };
	sc_cred_t c;
	sc_assert_t as;
	uint8_t req = 0x07, resp[2048], master[32];
	size_t len;

	(void)state;
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	ga.cred = &c;
	memcpy(master, t->state + 8, 32);
	/* presence outcomes */
	t->presence = BG_SOFT_UP_DENIED;
	assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0x27);
	t->presence = BG_SOFT_UP_TIMEOUT;
	assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0x2f);
	t->presence = BG_SOFT_UP_CANCELLED;
	assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0x2d);
	assert_int_equal(sc_get_assertion(t, &(sc_ga_t){ .rpid = RP, .up = 0,
	    .cred = &c }, &as), 0);
	t->presence = BG_SOFT_UP_GRANTED;
	/* out of the window */
	t->now += 10001;
	assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0x30);
	bg_soft_power_cycle(t->soft);
	t->now += 9999;
	assert_int_equal(sc_raw(t, &req, 1, resp, &len), 0);
	assert_int_equal(memcmp(master, t->state + 8, 32) != 0, 1); /* public: test */
	/* old credentials are gone, the counter did not go back */
	assert_int_equal(sc_get_assertion(t, &ga, &as), 0x2e);
	assert_int_equal(sc_make_cred(t, &mc, &c), 0);
	assert_true(c.counter > 2);
	tok_del(t);
}

static void
test_dispatch(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	uint8_t resp[2048], req[1300];
	size_t len = 99;

	(void)state;
	req[0] = 0x03;
	assert_int_equal(sc_raw(t, req, 1, resp, &len), 0x01);
	req[0] = 0x40;
	assert_int_equal(sc_raw(t, req, 1, resp, &len), 0x01);
	req[0] = 0x08;	/* getNextAssertion: not implemented */
	assert_int_equal(sc_raw(t, req, 1, resp, &len), 0x01);
	assert_int_equal(sc_raw(t, req, 0, resp, &len), 0x03);
	memset(req, 0, sizeof(req));
	req[0] = 0x01;
	assert_int_equal(sc_raw(t, req, BG_SOFT_MAX_MSG + 1, resp, &len), 0x39);
	assert_int_equal(len, 1);
	/* bad arguments */
	assert_int_equal(bg_soft_ctap2(NULL, req, 1, resp, sizeof(resp), &len),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_soft_ctap2(t->soft, req, 1, resp, 0, &len),
	    BG_ERR_INVALID_ARG);
	tok_del(t);
}

static void
test_strict_cbor(void **state)
{
	sc_tok_t *t = tok_new(NULL);
	static const struct {
		const char	*hex;
		int		 st;
	} cases[] = {
		{ "a1", 0x12 },				/* truncated map */
		{ "a1010203", 0x12 },			/* trailing byte */
		{ "bf01ff", 0x12 },			/* indefinite map */
		{ "a1015f4100ff", 0x12 },		/* indefinite bytes */
		{ "80", 0x11 },				/* top level is no map */
		{ "01", 0x11 },
		{ "a2010101 02", 0x12 },		/* duplicate key (below) */
		{ "a1180101", 0x12 },			/* non-shortest key */
		{ "a101c0 01", 0x12 },			/* tag (below) */
		{ "a101f93c00", 0x12 },			/* half float */
		{ "a101f7", 0x12 },			/* undefined */
		{ "a1019affffffff", 0x12 },		/* 4G-element array */
		{ "a1015affffffff", 0x12 },		/* 4G-byte string */
		{ "a101bbffffffffffffffff", 0x12 },	/* huge map */
		{ "a18101", 0x12 },			/* array as map key */
		{ "a1011c", 0x12 },			/* reserved info */
		{ "a1018181818181818181818101", 0x12 },	/* depth 10 */
	};
	uint8_t req[64], resp[2048];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *h = cases[i].hex;
		size_t n = 1;

		req[0] = 0x01;
		for (; *h != '\0'; h++) {
			unsigned v;

			if (*h == ' ')
				continue;
			assert_int_equal(sscanf(h, "%2x", &v), 1);
			req[n++] = (uint8_t)v;
			h++;
		}
		/* fix-ups of the cases that need exact bytes */
		if (i == 6) {
			const uint8_t dup[] = { 0xa2, 0x01, 0x01, 0x01, 0x02 };
			memcpy(req + 1, dup, sizeof(dup));
			n = 1 + sizeof(dup);
		}
		if (i == 8) {
			const uint8_t tag[] = { 0xa1, 0x01, 0xc0, 0x01 };
			memcpy(req + 1, tag, sizeof(tag));
			n = 1 + sizeof(tag);
		}
		assert_int_equal(sc_raw(t, req, n, resp, &len), cases[i].st);
		req[0] = 0x02;
		assert_int_equal(sc_raw(t, req, n, resp, &len), cases[i].st);
		req[0] = 0x06;
		assert_int_equal(sc_raw(t, req, n, resp, &len), cases[i].st);
	}
	/* depth 4 is fine (and then misses parameters) */
	{
		const uint8_t ok[] = { 0x01, 0xa1, 0x05, 0x81, 0x81, 0x81, 0x01 };

		assert_int_equal(sc_raw(t, ok, sizeof(ok), resp, &len), 0x14);
	}
	tok_del(t);
}

static void
t_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

static int
t_save(void *ctx, const uint8_t *blob, size_t len)
{
	(void)ctx;
	(void)blob;
	(void)len;
	return 0;
}

static uint64_t
t_now(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
test_state_blob(void **state)
{
	sc_tok_t a, b;
	bg_soft_env_t env;
	bg_soft_t *s = NULL;
	uint8_t blob[62];
	sc_mc_t mc = { .rpid = RP };
	sc_cred_t ca, cb;

	(void)state;
	/* reproducible: same seed, same blob, same credential */
	assert_int_equal(sc_tok_open(&a, 7, NULL), BG_OK);
	assert_int_equal(sc_tok_open(&b, 7, NULL), BG_OK);
	assert_int_equal(a.state_len, 62);
	assert_memory_equal(a.state, b.state, 62);
	assert_memory_equal(a.state, "BGSOFT\0\1", 8);
	assert_int_equal(a.state[57], 8);		/* retries */
	assert_int_equal(sc_make_cred(&a, &mc, &ca), 0);
	assert_int_equal(sc_make_cred(&b, &mc, &cb), 0);
	assert_int_equal(ca.id_len, cb.id_len);
	assert_memory_equal(ca.id, cb.id, ca.id_len);
	assert_memory_equal(ca.pk, cb.pk, 64);
	/* known answer: seed 7, first makeCredential for RP (ES256).  A
	 * change here changes the credential format or key derivation. */
	{
		static const char id_hex[] =
		    "011152c68f2f556624ca7b648a1dbb8caab2bead4844a8554891675df1b536"
		    "0420e6b38fd88ae5b68c618b271cd1d5eeca43fdbf8fa4d2d146f12ea5d027"
		    "bab28b7768c332b5df78fb61432e";
		static const char pk_hex[] =
		    "83fa8936535959f96b50427540bf0f8646cf00ed2f638dcf17203eabbfcd2d6c"
		    "0e50cb1b3b655be28d23703c5e441e7ceecb1c0755425c40b9ff333f139646b7";
		uint8_t want[76];
		size_t n = 0;

		assert_int_equal(sodium_hex2bin(want, sizeof(want), id_hex,
		    strlen(id_hex), NULL, &n, NULL), 0);
		assert_int_equal(n, 76);
		assert_memory_equal(ca.id, want, 76);
		assert_int_equal(sodium_hex2bin(want, sizeof(want), pk_hex,
		    strlen(pk_hex), NULL, &n, NULL), 0);
		assert_int_equal(n, 64);
		assert_memory_equal(ca.pk, want, 64);
	}
	memcpy(blob, a.state, sizeof(blob));
	sc_tok_close(&b);

	memset(&env, 0, sizeof(env));
	env.random = t_random;
	env.save = t_save;
	env.now_ms = t_now;
	env.ctx = NULL;
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s), BG_OK);
	bg_soft_free(&s);
	assert_null(s);
	bg_soft_free(&s);	/* tolerates NULL */
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob) - 1, &s),
	    BG_ERR_PARSE);
	assert_null(s);
	blob[0] ^= 1;
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_PARSE);
	blob[0] ^= 1;
	blob[7] = 3;
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_UNSUPPORTED);
	blob[7] = 2;		/* version 2 without its attestation part */
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_PARSE);
	blob[7] = 1;
	blob[40] = 0x02;	/* unknown flag */
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_PARSE);
	blob[40] = 0;
	blob[45] = 1;		/* PIN hash without a PIN */
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_PARSE);
	blob[45] = 0;
	blob[57] = 9;		/* retries above 8 */
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_PARSE);
	blob[57] = 8;
	env.save = NULL;
	assert_int_equal(bg_soft_new(&env, NULL, blob, sizeof(blob), &s),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_soft_state_create(NULL, NULL, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	sc_tok_close(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_info),
		cmocka_unit_test(test_get_info_variants),
		cmocka_unit_test(test_make_credential),
		cmocka_unit_test(test_mc_algorithms_and_params),
		cmocka_unit_test(test_mc_options),
		cmocka_unit_test(test_mc_exclude_list),
		cmocka_unit_test(test_presence_outcomes),
		cmocka_unit_test(test_get_assertion),
		cmocka_unit_test(test_ga_errors),
		cmocka_unit_test(test_counter_persisted),
		cmocka_unit_test(test_cred_protect),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_strict_cbor),
		cmocka_unit_test(test_state_blob),
	};

	return cmocka_run_group_tests_name("soft_ctap2", tests, NULL, NULL);
}
