/*
 * The token layer (tokenctl/token*.c) driven through libfido2 against the
 * in-process software token (tokenctl/soft/inproc.h): real CTAPHID, real
 * CTAP2, no socket.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "soft/inproc.h"
#include "soft/soft.h"

#define RP	"vault.example"
#define PIN	"1234"

struct fx {
	bg_soft_inproc_t	*ip;
	bg_token_t		*tok;
};

static int
open_fx(struct fx *f, const bg_soft_inproc_opts_t *opts, const char *pin)
{
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = bg_soft_inproc_new(opts, NULL, 0, &f->ip)) != 0)
		return r;
	if ((r = bg_token_open_io(bg_soft_inproc_path(f->ip),
	    bg_soft_inproc_io(), &f->tok)) != BG_OK)
		return r;
	if (pin != NULL)
		return bg_token_pin_set(f->tok, pin);
	return BG_OK;
}

static void
close_fx(struct fx *f)
{
	bg_token_close(&f->tok);
	bg_soft_inproc_free(&f->ip);
}

/* Unplug and replug: the token forgets PIN-auth blocks and channels. */
static void
replug(struct fx *f)
{
	bg_token_close(&f->tok);
	bg_soft_inproc_power_cycle(f->ip);
	assert_int_equal(bg_token_open_io(bg_soft_inproc_path(f->ip),
	    bg_soft_inproc_io(), &f->tok), BG_OK);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || open_fx(f, NULL, PIN) != BG_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	close_fx(f);
	free(f);
	return 0;
}

static void
test_aaguid_copy(void **state)
{
	(void)state;
	/* token.c keeps a copy of the software token's AAGUID */
	assert_memory_equal(bg_token_soft_aaguid, bg_soft_aaguid,
	    BG_TOKEN_AAGUID_LEN);
}

static void
test_probe_fresh(void **state)
{
	bg_token_features_t feat;
	struct fx f;
	const char *why = NULL;

	(void)state;
	assert_int_equal(open_fx(&f, NULL, NULL), BG_OK);
	assert_int_equal(bg_token_probe(f.tok, &feat), BG_OK);
	assert_true(feat.is_soft);
	assert_memory_equal(feat.aaguid, bg_token_soft_aaguid,
	    BG_TOKEN_AAGUID_LEN);
	assert_true(feat.fido_2_0);
	assert_true(feat.fido_2_1);
	assert_true(feat.hmac_secret);
	assert_true(feat.cred_protect);
	assert_true(feat.client_pin);
	assert_false(feat.pin_set);
	assert_true(feat.es256);
	assert_true(feat.eddsa);
	assert_int_equal(feat.n_pin_protocols, 2);
	assert_int_equal(feat.pin_protocols[0], 2);
	assert_int_equal(feat.pin_protocols[1], 1);
	assert_int_equal(feat.pin_retries, 8);	/* no PIN yet, 8 to come */
	assert_true(feat.max_msg_size >= 1024);
	assert_int_equal(bg_token_check_usable(&feat, &why),
	    BG_ERR_TOKEN_PIN_NOT_SET);
	assert_non_null(why);
	assert_non_null(strstr(why, "tokenctl pin set"));
	close_fx(&f);
}

static void
test_probe_pin_set(void **state)
{
	struct fx *f = *state;
	bg_token_features_t feat;
	const char *why = "x";
	int n = -1;

	assert_int_equal(bg_token_probe(f->tok, &feat), BG_OK);
	assert_true(feat.pin_set);
	assert_int_equal(feat.pin_retries, 8);
	assert_int_equal(bg_token_check_usable(&feat, &why), BG_OK);
	assert_null(why);
	assert_int_equal(bg_token_pin_retries(f->tok, &n), BG_OK);
	assert_int_equal(n, 8);
	assert_string_equal(bg_token_path(f->tok), bg_soft_inproc_path(f->ip));
}

static void
test_no_pin_uv_refused(void **state)
{
	bg_soft_inproc_opts_t o;
	bg_token_features_t feat;
	bg_token_cred_t *cred = NULL;
	struct fx f;
	const char *why = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.soft.no_pin_uv = true;
	assert_int_equal(open_fx(&f, &o, NULL), BG_OK);
	assert_int_equal(bg_token_probe(f.tok, &feat), BG_OK);
	assert_false(feat.client_pin);
	assert_false(feat.uv);
	assert_int_equal(bg_token_check_usable(&feat, &why),
	    BG_ERR_TOKEN_UNSUPPORTED);
	assert_non_null(why);
	assert_non_null(strstr(why, "no clientPin support"));
	assert_int_equal(bg_token_enroll(f.tok, RP, "alice", 0, PIN, &cred),
	    BG_ERR_TOKEN_UNSUPPORTED);
	assert_null(cred);
	close_fx(&f);
}

static void
check_cred(const bg_token_cred_t *c, int alg)
{
	assert_int_equal(c->alg, alg);
	assert_non_null(c->id);
	assert_true(c->id_len >= 16);
	assert_non_null(c->pubkey);
	assert_int_equal(c->pubkey_len, alg == BG_TOKEN_ES256 ? 64 : 32);
	assert_non_null(c->cose_pubkey);
	assert_true(c->cose_pubkey_len > c->pubkey_len);
	/* a CBOR map whose key 3 (alg) is the algorithm */
	assert_int_equal(c->cose_pubkey[0] & 0xe0, 0xa0);
	assert_memory_equal(c->aaguid, bg_token_soft_aaguid,
	    BG_TOKEN_AAGUID_LEN);
	assert_string_equal(c->fmt, "packed");
	assert_int_equal(c->attestation, BG_TOKEN_ATT_SELF);
	assert_null(c->x5c);
	assert_int_equal(c->cred_protect, 3);
	assert_true(c->is_soft);
}

static void
test_enroll_es256(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *cred = NULL;

	assert_int_equal(bg_token_enroll(f->tok, RP, "alice", 0, PIN, &cred),
	    BG_OK);
	check_cred(cred, BG_TOKEN_ES256);
	bg_token_cred_free(&cred);
	assert_null(cred);
	bg_token_cred_free(&cred);	/* tolerates NULL */
}

static void
test_enroll_eddsa(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *cred = NULL;

	assert_int_equal(bg_token_enroll(f->tok, RP, "alice", BG_TOKEN_EDDSA,
	    PIN, &cred), BG_OK);
	check_cred(cred, BG_TOKEN_EDDSA);
	bg_token_cred_free(&cred);
}

static void
test_enroll_bad_args(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *cred = (bg_token_cred_t *)(uintptr_t)1;

	assert_int_equal(bg_token_enroll(f->tok, RP, "alice", -257, PIN,
	    &cred), BG_ERR_INVALID_ARG);
	assert_null(cred);	/* cleared on entry */
	assert_int_equal(bg_token_enroll(f->tok, NULL, "alice", 0, PIN,
	    &cred), BG_ERR_INVALID_ARG);
}

static void
do_assert(struct fx *f, const bg_token_cred_t *c, const uint8_t *salt,
    uint8_t cdh[BG_TOKEN_CDH_LEN], bg_token_assertion_t **ap)
{
	randombytes_buf(cdh, BG_TOKEN_CDH_LEN);
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, salt, PIN, ap), BG_OK);
}

static void
assert_hmac_and_verify(void **state, int alg)
{
	struct fx *f = *state;
	bg_token_cred_t *c = NULL;
	bg_token_assertion_t *a1 = NULL, *a2 = NULL, *a3 = NULL, *a4 = NULL;
	uint8_t s1[BG_TOKEN_SALT_LEN], s2[BG_TOKEN_SALT_LEN];
	uint8_t cdh[BG_TOKEN_CDH_LEN], bad[BG_TOKEN_CDH_LEN], *ad;
	uint8_t rph[32];

	randombytes_buf(s1, sizeof(s1));
	randombytes_buf(s2, sizeof(s2));
	assert_int_equal(bg_token_enroll(f->tok, RP, "alice", alg, PIN, &c),
	    BG_OK);
	do_assert(f, c, s1, cdh, &a1);
	assert_int_equal(a1->flags & 0x05, 0x05);	/* UP and UV */
	assert_non_null(a1->hmac_secret);
	assert_true(a1->authdata_len >= 37);
	crypto_hash_sha256(rph, (const unsigned char *)RP, strlen(RP));
	assert_memory_equal(a1->authdata, rph, 32);
	assert_int_equal(a1->authdata[32], a1->flags);

	/* the stored evidence verifies offline ... */
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    cdh, a1->authdata, a1->authdata_len, a1->sig, a1->sig_len, true),
	    BG_OK);
	/* ... and not for another statement, rp, authdata or signature */
	memcpy(bad, cdh, sizeof(bad));
	bad[31] ^= 0x80;
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    bad, a1->authdata, a1->authdata_len, a1->sig, a1->sig_len, true),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len,
	    "evil.example", cdh, a1->authdata, a1->authdata_len, a1->sig,
	    a1->sig_len, true), BG_ERR_TOKEN_BAD_SIGNATURE);
	ad = malloc(a1->authdata_len);
	assert_non_null(ad);
	memcpy(ad, a1->authdata, a1->authdata_len);
	ad[36] ^= 0x01;				/* sign counter */
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    cdh, ad, a1->authdata_len, a1->sig, a1->sig_len, true),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	ad[36] ^= 0x01;
	ad[32] &= (uint8_t)~0x04;		/* UV cleared */
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    cdh, ad, a1->authdata_len, a1->sig, a1->sig_len, true),
	    BG_ERR_TOKEN_NO_UV);
	ad[32] &= (uint8_t)~0x01;		/* UP cleared */
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    cdh, ad, a1->authdata_len, a1->sig, a1->sig_len, false),
	    BG_ERR_TOKEN_DENIED);
	free(ad);
	a1->sig[a1->sig_len / 2] ^= 0x01;
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    cdh, a1->authdata, a1->authdata_len, a1->sig, a1->sig_len, true),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	a1->sig[a1->sig_len / 2] ^= 0x01;
	assert_int_equal(bg_token_verify(alg, c->pubkey, c->pubkey_len, RP,
	    cdh, a1->authdata, 36, a1->sig, a1->sig_len, true),
	    BG_ERR_PARSE);

	/* hmac-secret: same salt same output, other salt other output */
	do_assert(f, c, s1, cdh, &a2);
	do_assert(f, c, s2, cdh, &a3);
	assert_int_equal(sodium_memcmp(a1->hmac_secret, a2->hmac_secret,
	    BG_TOKEN_HMAC_LEN), 0);
	assert_int_not_equal(sodium_memcmp(a1->hmac_secret, a3->hmac_secret,
	    BG_TOKEN_HMAC_LEN), 0);
	/* the counter moves forward */
	assert_true(a2->sign_count > a1->sign_count);
	assert_true(a3->sign_count > a2->sign_count);

	/* no salt: no hmac-secret */
	do_assert(f, c, NULL, cdh, &a4);
	assert_null(a4->hmac_secret);

	bg_token_assertion_free(&a1);
	bg_token_assertion_free(&a2);
	bg_token_assertion_free(&a3);
	bg_token_assertion_free(&a4);
	assert_null(a1);
	bg_token_cred_free(&c);
}

static void
test_assert_es256(void **state)
{
	assert_hmac_and_verify(state, BG_TOKEN_ES256);
}

static void
test_assert_eddsa(void **state)
{
	assert_hmac_and_verify(state, BG_TOKEN_EDDSA);
}

static void
test_assert_wrong_key(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *c = NULL, *other = NULL;
	bg_token_assertion_t *a = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN] = { 1 };

	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c), BG_OK);
	assert_int_equal(bg_token_enroll(f->tok, RP, "b", 0, PIN, &other),
	    BG_OK);
	/* right credential, somebody else's public key */
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len,
	    c->alg, other->pubkey, other->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_null(a);
	/* a credential from another rp is not found */
	assert_int_equal(bg_token_assert(f->tok, "other.example", c->id,
	    c->id_len, c->alg, c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_NO_CREDENTIAL);
	assert_null(a);
	bg_token_cred_free(&c);
	bg_token_cred_free(&other);
}

static void
test_cred_of_other_token(void **state)
{
	struct fx *f = *state, g;
	bg_token_cred_t *c = NULL;
	bg_token_assertion_t *a = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN] = { 2 };

	assert_int_equal(open_fx(&g, NULL, PIN), BG_OK);
	assert_int_equal(bg_token_enroll(g.tok, RP, "a", 0, PIN, &c), BG_OK);
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len,
	    c->alg, c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_NO_CREDENTIAL);
	assert_null(a);
	bg_token_cred_free(&c);
	close_fx(&g);
}

/* bg_token_holds: without a touch (presence denied), with the PIN;
 * another token's credential is not held; a wrong key is not taken. */
static void
test_holds(void **state)
{
	struct fx *f = *state, g;
	bg_token_cred_t *c = NULL, *other = NULL;
	bool held = true;

	assert_int_equal(open_fx(&g, NULL, PIN), BG_OK);
	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c), BG_OK);
	assert_int_equal(bg_token_enroll(g.tok, RP, "b", BG_TOKEN_EDDSA, PIN,
	    &other), BG_OK);
	bg_soft_inproc_set_presence(f->ip, BG_SOFT_INPROC_DENY);
	assert_int_equal(bg_token_holds(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, PIN, &held), BG_OK);
	assert_true(held);
	assert_int_equal(bg_token_holds(f->tok, RP, other->id, other->id_len,
	    other->alg, other->pubkey, other->pubkey_len, PIN, &held), BG_OK);
	assert_false(held);
	/* its own credential with another credential's key: not taken */
	assert_int_equal(bg_token_holds(f->tok, RP, c->id, c->id_len,
	    BG_TOKEN_EDDSA, other->pubkey, other->pubkey_len, PIN, &held),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_false(held);
	assert_int_equal(bg_token_holds(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, "0000", &held),
	    BG_ERR_TOKEN_PIN_INVALID);
	assert_false(held);
	bg_token_cred_free(&c);
	bg_token_cred_free(&other);
	close_fx(&g);
}

static void
test_wrong_pin_and_block(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *c = NULL, *c2 = NULL;
	bg_token_assertion_t *a = NULL;
	bg_token_features_t feat;
	uint8_t cdh[BG_TOKEN_CDH_LEN] = { 3 };
	int n = -1, i;

	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c), BG_OK);
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, NULL, "0000", &a),
	    BG_ERR_TOKEN_PIN_INVALID);
	assert_null(a);
	assert_int_equal(bg_token_pin_retries(f->tok, &n), BG_OK);
	assert_int_equal(n, 7);
	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, "0000", &c2),
	    BG_ERR_TOKEN_PIN_INVALID);
	assert_null(c2);
	/* the third in a row blocks PIN auth until the token is replugged */
	assert_int_equal(bg_token_pin_change(f->tok, "0000", "5678"),
	    BG_ERR_TOKEN_PIN_AUTH_BLOCKED);
	assert_int_equal(bg_token_pin_retries(f->tok, &n), BG_OK);
	assert_int_equal(n, 5);
	replug(f);
	/* a right PIN resets the count */
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a), BG_OK);
	bg_token_assertion_free(&a);
	assert_int_equal(bg_token_pin_retries(f->tok, &n), BG_OK);
	assert_int_equal(n, 8);
	/* eight wrong PINs, replugging as needed, block the PIN for good */
	for (i = 0; i < 8; i++) {
		if (i > 0 && i % 3 == 0)
			replug(f);
		assert_int_equal(bg_token_pin_change(f->tok, "0000", "5678"),
		    i == 7 ? BG_ERR_TOKEN_PIN_BLOCKED :
		    i % 3 == 2 ? BG_ERR_TOKEN_PIN_AUTH_BLOCKED :
		    BG_ERR_TOKEN_PIN_INVALID);
	}
	replug(f);
	assert_int_equal(bg_token_pin_retries(f->tok, &n), BG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_PIN_BLOCKED);
	assert_int_equal(bg_token_probe(f->tok, &feat), BG_OK);
	assert_int_equal(feat.pin_retries, 0);
	bg_token_cred_free(&c);
}

static void
test_pin_change_and_policy(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *c = NULL;

	assert_int_equal(bg_token_pin_change(f->tok, PIN, "12"),
	    BG_ERR_TOKEN_PIN_POLICY);
	assert_int_equal(bg_token_pin_change(f->tok, PIN, "98765"), BG_OK);
	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c),
	    BG_ERR_TOKEN_PIN_INVALID);
	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, "98765", &c),
	    BG_OK);
	bg_token_cred_free(&c);
	/* a PIN is already set */
	assert_int_not_equal(bg_token_pin_set(f->tok, "55555"), BG_OK);
}

static void
test_reset(void **state)
{
	struct fx *f = *state;
	bg_token_features_t feat;
	bg_token_cred_t *c = NULL;
	bg_token_assertion_t *a = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN] = { 4 };

	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c), BG_OK);
	replug(f);
	assert_int_equal(bg_token_reset(f->tok), BG_OK);
	assert_int_equal(bg_token_probe(f->tok, &feat), BG_OK);
	assert_false(feat.pin_set);
	assert_int_equal(bg_token_pin_set(f->tok, PIN), BG_OK);
	/* the old credential is gone with the old master key */
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_NO_CREDENTIAL);
	bg_token_cred_free(&c);
}

static void
test_presence_denied(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *c = NULL;
	bg_token_assertion_t *a = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN] = { 5 };

	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c), BG_OK);
	bg_soft_inproc_set_presence(f->ip, BG_SOFT_INPROC_DENY);
	assert_int_equal(bg_token_assert(f->tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_DENIED);
	assert_null(a);
	bg_token_cred_free(&c);
	assert_int_equal(bg_token_enroll(f->tok, RP, "a", 0, PIN, &c),
	    BG_ERR_TOKEN_DENIED);
	assert_null(c);
}

static void
test_presence_timeout(void **state)
{
	bg_soft_inproc_opts_t o;
	bg_token_cred_t *c = NULL;
	bg_token_assertion_t *a = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN] = { 6 };
	struct fx f;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.up_timeout_ms = 300;
	assert_int_equal(open_fx(&f, &o, PIN), BG_OK);
	assert_int_equal(bg_token_enroll(f.tok, RP, "a", 0, PIN, &c), BG_OK);
	bg_soft_inproc_set_presence(f.ip, BG_SOFT_INPROC_NEVER);
	assert_int_equal(bg_token_set_timeout(f.tok, 2000), BG_OK);
	assert_int_equal(bg_token_assert(f.tok, RP, c->id, c->id_len, c->alg,
	    c->pubkey, c->pubkey_len, cdh, NULL, PIN, &a),
	    BG_ERR_TOKEN_TIMEOUT);
	assert_null(a);
	assert_true(bg_soft_inproc_keepalives(f.ip) > 0);
	bg_token_cred_free(&c);
	close_fx(&f);
}

static void
test_interrupt(void **state)
{
	struct fx *f = *state;
	volatile sig_atomic_t flag = 1;
	bg_token_features_t feat;

	bg_token_set_interrupt(&flag);
	assert_int_equal(bg_token_probe(f->tok, &feat),
	    BG_ERR_TOKEN_CANCELLED);
	flag = 0;
	replug(f);
	assert_int_equal(bg_token_probe(f->tok, &feat), BG_OK);
	bg_token_set_interrupt(NULL);
}

static void
test_open_missing(void **state)
{
	bg_token_t *tok = (bg_token_t *)(uintptr_t)1;

	(void)state;
	assert_int_equal(bg_token_open("unix:/nonexistent/bg.sock", &tok),
	    BG_ERR_TOKEN_NOT_FOUND);
	assert_null(tok);
	assert_int_equal(bg_token_open("/dev/hidraw-none", &tok),
	    BG_ERR_TOKEN_NOT_FOUND);
	assert_int_equal(bg_token_open_io("inproc:999999",
	    bg_soft_inproc_io(), &tok), BG_ERR_TOKEN_NOT_FOUND);
	assert_int_equal(bg_token_open(NULL, &tok), BG_ERR_INVALID_ARG);
	bg_token_close(&tok);	/* tolerates NULL */
}

static void
test_list_dir(void **state)
{
	bg_token_desc_t *list = NULL;
	const char *paths[] = { "/nonexistent/bg.sock" };
	size_t n = 99;

	(void)state;
	/* an unreachable socket is listed, without an AAGUID */
	assert_int_equal(bg_token_list(paths, 1, NULL, &list, &n), BG_OK);
	assert_true(n >= 1);
	assert_string_equal(list[n - 1].path, "unix:/nonexistent/bg.sock");
	assert_false(list[n - 1].aaguid_known);
	assert_false(list[n - 1].is_soft);
	bg_token_list_free(&list, n);
	assert_null(list);
	assert_int_equal(bg_token_list(NULL, 0, "/nonexistent-dir", &list,
	    &n), BG_ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aaguid_copy),
		cmocka_unit_test(test_probe_fresh),
		cmocka_unit_test_setup_teardown(test_probe_pin_set, setup,
		    teardown),
		cmocka_unit_test(test_no_pin_uv_refused),
		cmocka_unit_test_setup_teardown(test_enroll_es256, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_eddsa, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_bad_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_assert_es256, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_assert_eddsa, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_assert_wrong_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cred_of_other_token,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_pin_and_block,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_change_and_policy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_presence_denied, setup,
		    teardown),
		cmocka_unit_test(test_presence_timeout),
		cmocka_unit_test_setup_teardown(test_interrupt, setup,
		    teardown),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_list_dir),
	};

	if (bg_token_init() != BG_OK)
		return 1;
	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
