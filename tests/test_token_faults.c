/*
 * Malformed token replies (issue 5): the token layer, and the vault above
 * it, driven through libfido2 against the in-process software token, with
 * a relay transport between the two that reassembles each CTAPHID CBOR
 * reply, lets the test edit the CTAP2 message (status byte + CBOR), and
 * re-frames it into 64-byte reports.  A lying token is simulated exactly:
 * where an edit must carry a valid signature (UV flag clear, missing or
 * wrong-length hmac-secret, counter moved), the test re-signs the edited
 * authenticator data with the credential's own Ed25519 key, which it
 * unwraps from the software token's credential id with the token's master
 * key - so each check is shown to stand on its own, not behind the
 * signature check.  Every case asserts the exact BG_ERR_* code.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cbor.h>
#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "soft/inproc.h"
#include "helpers/fixture.h"
#include "soft/soft.h"
#include "soft/soft_int.h"

#define RP	"vault.example"
#define PIN	"1234"

/* The software token's credential-wrap label (tokenctl/soft/ctap2.c). */
#define LABEL_CRED_WRAP	"breakglass soft v1 credential wrap"

#define HID_CBOR	0x90	/* CTAPHID_CBOR with the init bit */
#define MSG_CAP		2048
#define Q_MAX		48

/* ===================================================================== */
/* relay transport                                                       */

/* Edit one CTAP2 reply in place: msg[0] status, CBOR after; *lenp <= cap. */
typedef void (*relay_edit_fn)(void *ctx, uint8_t *msg, size_t *lenp,
    size_t cap);

static struct relay_cfg {
	relay_edit_fn	 edit;
	void		*ctx;
	uint8_t		 only_cmd;	/* edit replies to this CTAP command only */
	bool		 short_frame;	/* drop the last continuation report */
	unsigned	 edited;	/* replies edited so far */
} cfg;

struct relay {
	void		*inner;
	uint8_t		 q[Q_MAX][64];
	size_t		 qhead, qlen;
	uint8_t		 last_cmd;	/* CTAP command of the last request */
};

static void *
relay_open(const char *path)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if ((r->inner = bg_soft_inproc_io()->open(path)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void
relay_close(void *h)
{
	struct relay *r = h;

	bg_soft_inproc_io()->close(r->inner);
	free(r);
}

static int
relay_write(void *h, const unsigned char *buf, size_t len)
{
	struct relay *r = h;

	/* buf[0] is the report id; buf[1..4] CID, buf[5] command */
	if (len >= 9 && buf[5] == HID_CBOR)
		r->last_cmd = buf[8];
	return bg_soft_inproc_io()->write(r->inner, buf, len);
}

static void
push(struct relay *r, const uint8_t pkt[64])
{
	if (r->qlen < Q_MAX) {
		memcpy(r->q[(r->qhead + r->qlen) % Q_MAX], pkt, 64);
		r->qlen++;
	}
}

/* Reassemble the CBOR reply whose init report is pkt; edit; re-frame. */
static int
relay_message(struct relay *r, const uint8_t pkt[64], int ms)
{
	uint8_t msg[MSG_CAP], out[64], c[64];
	size_t total, have, n, off;
	uint8_t seq = 0;

	total = (size_t)pkt[5] << 8 | pkt[6];
	if (total > sizeof(msg))
		return -1;
	have = total < 57 ? total : 57;
	memcpy(msg, pkt + 7, have);
	while (have < total) {
		if (bg_soft_inproc_io()->read(r->inner, c, 64, ms) != 64 ||
		    memcmp(c, pkt, 4) != 0 || c[4] != seq) /* public: CID */
			return -1;
		seq++;
		n = total - have < 59 ? total - have : 59;
		memcpy(msg + have, c + 5, n);
		have += n;
	}
	if (cfg.edit != NULL) {
		cfg.edit(cfg.ctx, msg, &total, sizeof(msg));
		cfg.edited++;
	}
	/* re-frame */
	memset(out, 0, sizeof(out));
	memcpy(out, pkt, 4);
	out[4] = HID_CBOR;
	out[5] = (uint8_t)(total >> 8);
	out[6] = (uint8_t)total;
	n = total < 57 ? total : 57;
	memcpy(out + 7, msg, n);
	push(r, out);
	off = n;
	seq = 0;
	while (off < total) {
		memset(out, 0, sizeof(out));
		memcpy(out, pkt, 4);
		out[4] = seq++;
		n = total - off < 59 ? total - off : 59;
		memcpy(out + 5, msg + off, n);
		off += n;
		if (off >= total && cfg.short_frame)
			break;
		push(r, out);
	}
	return 0;
}

static int
relay_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct relay *r = h;
	uint8_t pkt[64];
	int n;

	if (r->qlen == 0) {
		n = bg_soft_inproc_io()->read(r->inner, pkt, sizeof(pkt), ms);
		if (n != 64)
			return n;
		if (pkt[4] == HID_CBOR && (cfg.edit != NULL || cfg.short_frame) &&
		    (cfg.only_cmd == 0 || cfg.only_cmd == r->last_cmd)) {
			if (relay_message(r, pkt, ms) != 0)
				return -1;
		} else {
			push(r, pkt);
		}
	}
	if (r->qlen == 0 || len < 64)
		return -1;
	memcpy(buf, r->q[r->qhead], 64);
	r->qhead = (r->qhead + 1) % Q_MAX;
	r->qlen--;
	return 64;
}

static const bg_token_io_t relay_io = {
	relay_open, relay_close, relay_read, relay_write,
};

/* ===================================================================== */
/* CBOR helpers: replace values of a CTAP2 response map                   */

/* The bytes of integer key k in map m, or NULL. */
static cbor_item_t *
map_get(cbor_item_t *m, uint64_t k)
{
	struct cbor_pair *p = cbor_map_handle(m);
	size_t i;

	for (i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_uint(p[i].key) && cbor_get_int(p[i].key) == k)
			return p[i].value;
	return NULL;
}

/*
 * msg = status || map: rebuild the map with key k1 set to bytes (b1, l1)
 * and key k2 to (b2, l2) (k 0: unchanged); write it back into msg.
 */
static void
map_replace(uint8_t *msg, size_t *lenp, size_t cap, uint64_t k1,
    const uint8_t *b1, size_t l1, uint64_t k2, const uint8_t *b2, size_t l2)
{
	struct cbor_load_result res;
	cbor_item_t *m, *nm;
	struct cbor_pair *p;
	unsigned char *ser = NULL;
	size_t i, sz = 0, n;

	m = cbor_load(msg + 1, *lenp - 1, &res);
	assert_non_null(m);
	assert_true(cbor_isa_map(m));
	p = cbor_map_handle(m);
	nm = cbor_new_definite_map(cbor_map_size(m));
	assert_non_null(nm);
	for (i = 0; i < cbor_map_size(m); i++) {
		struct cbor_pair np;
		uint64_t k = cbor_isa_uint(p[i].key) ? cbor_get_int(p[i].key) : 0;

		np.key = cbor_incref(p[i].key);
		if (k != 0 && k == k1)
			np.value = cbor_build_bytestring(b1, l1);
		else if (k != 0 && k == k2)
			np.value = cbor_build_bytestring(b2, l2);
		else
			np.value = cbor_incref(p[i].value);
		assert_true(cbor_map_add(nm, np));
		cbor_decref(&np.key);
		cbor_decref(&np.value);
	}
	n = cbor_serialize_alloc(nm, &ser, &sz);
	assert_true(n > 0 && n + 1 <= cap);
	memcpy(msg + 1, ser, n);
	*lenp = n + 1;
	free(ser);
	cbor_decref(&nm);
	cbor_decref(&m);
}

/* Copy the bytes of key k of the reply's map into buf; their length. */
static size_t
map_bytes(const uint8_t *msg, size_t len, uint64_t k, uint8_t *buf,
    size_t cap)
{
	struct cbor_load_result res;
	cbor_item_t *m, *v;
	size_t n = 0;

	m = cbor_load(msg + 1, len - 1, &res);
	assert_non_null(m);
	v = map_get(m, k);
	assert_non_null(v);
	if (!cbor_isa_bytestring(v)) {
		cbor_decref(&m);
		return SIZE_MAX;	/* attStmt of makeCredential: a map */
	}
	n = cbor_bytestring_length(v);
	assert_true(n <= cap);
	memcpy(buf, cbor_bytestring_handle(v), n);
	cbor_decref(&m);
	return n;
}

/* ===================================================================== */
/* edits                                                                  */

enum edit {
	ED_NONE = 0,
	ED_UV_CLEAR,		/* flags &= ~UV */
	ED_UP_CLEAR,		/* flags &= ~UP */
	ED_COUNTER,		/* signCount = counter */
	ED_DROP_EXT,		/* no extensions in authData */
	ED_HMAC_LEN,		/* hmac-secret output hmac_len bytes */
	ED_SIG_FLIP,		/* flip a signature bit */
	ED_RPID,		/* rpIdHash of another RP */
	ED_GARBAGE,		/* CBOR replaced by random bytes */
	ED_TRUNCATE,		/* CBOR cut in half */
	ED_STATUS_ONLY,		/* status OK, no CBOR at all */
	ED_NOT_MAP,		/* a CBOR array instead of the map */
	ED_STATUS_ERR,		/* CTAP1_ERR_OTHER */
};

struct aedit {
	int		 what;		/* enum edit */
	bool		 resign;	/* re-sign authData || cdh with sk */
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];
	uint8_t		 cdh[BG_TOKEN_CDH_LEN];
	uint32_t	 counter;
	size_t		 hmac_len;
	uint32_t	 seed;
};

static void
edit_reply(void *ctx, uint8_t *msg, size_t *lenp, size_t cap)
{
	struct aedit *e = ctx;
	uint8_t ad[512], sig[128], tbs[512 + BG_TOKEN_CDH_LEN], ext[128];
	size_t adlen, siglen, i, n;
	unsigned char *ser = NULL;
	cbor_item_t *em;
	uint8_t k[randombytes_SEEDBYTES];

	assert_true(*lenp >= 1);
	switch (e->what) {
	case ED_GARBAGE:
		memset(k, 0, sizeof(k));
		memcpy(k, &e->seed, sizeof(e->seed));
		n = *lenp > 1 ? *lenp - 1 : 64;
		randombytes_buf_deterministic(msg + 1, n, k);
		*lenp = n + 1;
		msg[0] = 0;
		return;
	case ED_TRUNCATE:
		*lenp = 1 + (*lenp - 1) / 2;
		return;
	case ED_STATUS_ONLY:
		*lenp = 1;
		return;
	case ED_NOT_MAP:
		msg[1] = 0x82; msg[2] = 0x01; msg[3] = 0x02;
		*lenp = 4;
		return;
	case ED_STATUS_ERR:
		msg[0] = 0x7f;
		*lenp = 1;
		return;
	default:
		break;
	}
	assert_int_equal(msg[0], 0);
	adlen = map_bytes(msg, *lenp, 2, ad, sizeof(ad));
	siglen = map_bytes(msg, *lenp, 3, sig, sizeof(sig));
	assert_true(adlen != SIZE_MAX && adlen >= 37);
	switch (e->what) {
	case ED_UV_CLEAR:
		ad[32] &= (uint8_t)~0x04;
		break;
	case ED_UP_CLEAR:
		ad[32] &= (uint8_t)~0x01;
		break;
	case ED_COUNTER:
		ad[33] = (uint8_t)(e->counter >> 24);
		ad[34] = (uint8_t)(e->counter >> 16);
		ad[35] = (uint8_t)(e->counter >> 8);
		ad[36] = (uint8_t)e->counter;
		break;
	case ED_DROP_EXT:
		ad[32] &= (uint8_t)~0x80;
		adlen = 37;
		break;
	case ED_HMAC_LEN:
		assert_true(e->hmac_len <= 96);
		em = cbor_new_definite_map(1);
		randombytes_buf(ext, e->hmac_len);
		assert_true(cbor_map_add(em, (struct cbor_pair){
		    .key = cbor_move(cbor_build_string("hmac-secret")),
		    .value = cbor_move(cbor_build_bytestring(ext, e->hmac_len)) }));
		n = cbor_serialize_alloc(em, &ser, &i);
		assert_true(n > 0 && 37 + n <= sizeof(ad));
		memcpy(ad + 37, ser, n);
		adlen = 37 + n;
		ad[32] |= 0x80;
		free(ser);
		cbor_decref(&em);
		break;
	case ED_SIG_FLIP:
		assert_true(siglen != SIZE_MAX);
		sig[siglen / 2] ^= 0x01;
		break;
	case ED_RPID:
		crypto_hash_sha256(ad, (const unsigned char *)"evil.example", 12);
		break;
	default:
		break;
	}
	if (e->resign) {
		memcpy(tbs, ad, adlen);
		memcpy(tbs + adlen, e->cdh, BG_TOKEN_CDH_LEN);
		crypto_sign_detached(sig, NULL, tbs, adlen + BG_TOKEN_CDH_LEN,
		    e->sk);
		siglen = crypto_sign_BYTES;
	}
	if (siglen == SIZE_MAX)		/* makeCredential: authData only */
		map_replace(msg, lenp, cap, 2, ad, adlen, 0, NULL, 0);
	else
		map_replace(msg, lenp, cap, 2, ad, adlen, 3, sig, siglen);
}

/* ===================================================================== */
/* fixture                                                                */

struct fx {
	bg_soft_inproc_t	*ip;
	bg_token_t		*tok;
	bg_token_cred_t		*cred;		/* EdDSA, hmac-secret */
	uint8_t			 sk[crypto_sign_SECRETKEYBYTES];
	uint8_t			 salt[BG_TOKEN_SALT_LEN];
	uint8_t			 cdh[BG_TOKEN_CDH_LEN];
	struct aedit		 e;
};

/*
 * The credential's Ed25519 key, unwrapped from its id with the software
 * token's master key exactly as the token does (ctap2.c cred_unwrap).
 */
static void
cred_secret_key(bg_soft_inproc_t *ip, const bg_token_cred_t *c,
    uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
	struct bg_soft_secrets *sec;
	struct bg_soft_pstate ps;
	uint8_t *blob = NULL, k[32], ad[33], pt[BG_SOFT_CRED_PT_LEN];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	size_t len = 0;

	assert_int_equal(c->id_len, BG_SOFT_CRED_ID_LEN);
	assert_int_equal(bg_soft_inproc_state(ip, &blob, &len), 0);
	sec = sodium_malloc(sizeof(*sec));
	assert_non_null(sec);
	assert_int_equal(bg_soft_state_read(blob, len, sec, &ps), 0);
	bg_soft_hmac(sec->master, BG_SOFT_MASTER_LEN,
	    (const uint8_t *)LABEL_CRED_WRAP, strlen(LABEL_CRED_WRAP), NULL, 0,
	    k);
	ad[0] = BG_SOFT_CRED_VERSION;
	crypto_hash_sha256(ad + 1, (const unsigned char *)RP, strlen(RP));
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL,
	    NULL, c->id + 1 + BG_SOFT_CRED_NONCE_LEN,
	    BG_SOFT_CRED_PT_LEN + BG_SOFT_CRED_TAG_LEN, ad, sizeof(ad),
	    c->id + 1, k), 0);
	assert_int_equal(pt[0], BG_SOFT_CRED_ALG_EDDSA);
	crypto_sign_seed_keypair(pk, sk, pt + 3);
	/* the key we forge with is the enrolled one */
	assert_memory_equal(pk, c->pubkey, sizeof(pk));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pt, sizeof(pt));
	sodium_free(sec);
	sodium_free(blob);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	memset(&cfg, 0, sizeof(cfg));
	if (f == NULL || bg_soft_inproc_new(NULL, NULL, 0, &f->ip) != 0 ||
	    bg_token_open_io(bg_soft_inproc_path(f->ip), &relay_io,
	    &f->tok) != BG_OK ||
	    bg_token_pin_set(f->tok, PIN) != BG_OK ||
	    bg_token_enroll(f->tok, RP, "alice", BG_TOKEN_EDDSA, PIN,
	    &f->cred) != BG_OK)
		return -1;
	(void)bg_token_set_timeout(f->tok, 2000);
	cred_secret_key(f->ip, f->cred, f->sk);
	randombytes_buf(f->salt, sizeof(f->salt));
	randombytes_buf(f->cdh, sizeof(f->cdh));
	memcpy(f->e.sk, f->sk, sizeof(f->sk));
	memcpy(f->e.cdh, f->cdh, sizeof(f->cdh));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	memset(&cfg, 0, sizeof(cfg));
	bg_token_cred_free(&f->cred);
	bg_token_close(&f->tok);
	bg_soft_inproc_free(&f->ip);
	sodium_memzero(f, sizeof(*f));
	free(f);
	return 0;
}

/* One getAssertion with the edit e applied to its reply; the result. */
static int
edited_assert(struct fx *f, int what, bool resign,
    bg_token_assertion_t **ap)
{
	int r;

	f->e.what = what;
	f->e.resign = resign;
	cfg.edit = edit_reply;
	cfg.ctx = &f->e;
	cfg.only_cmd = CTAP_CMD_GET_ASSERTION;
	cfg.edited = 0;
	r = bg_token_assert(f->tok, RP, f->cred->id, f->cred->id_len,
	    f->cred->alg, f->cred->pubkey, f->cred->pubkey_len, f->cdh,
	    f->salt, PIN, ap);
	assert_int_equal(cfg.edited, 1);	/* the edit was applied */
	cfg.edit = NULL;
	return r;
}

/* After a rejected reply the same token still works. */
static void
still_works(struct fx *f)
{
	bg_token_assertion_t *a = NULL;

	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(bg_token_assert(f->tok, RP, f->cred->id,
	    f->cred->id_len, f->cred->alg, f->cred->pubkey,
	    f->cred->pubkey_len, f->cdh, f->salt, PIN, &a), BG_OK);
	assert_non_null(a->hmac_secret);
	bg_token_assertion_free(&a);
}

/* ===================================================================== */
/* tests                                                                  */

/* The relay itself, with an identity edit, changes nothing. */
static void
test_relay_identity(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	assert_int_equal(edited_assert(f, ED_NONE, false, &a), BG_OK);
	assert_int_equal(a->flags & 0x05, 0x05);
	assert_non_null(a->hmac_secret);
	bg_token_assertion_free(&a);
	/* re-signing an unchanged authData with the unwrapped key verifies:
	 * the forgery machinery is sound */
	assert_int_equal(edited_assert(f, ED_NONE, true, &a), BG_OK);
	bg_token_assertion_free(&a);
}

static void
test_uv_clear(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	/* validly signed, UV flag clear */
	assert_int_equal(edited_assert(f, ED_UV_CLEAR, true, &a),
	    BG_ERR_TOKEN_NO_UV);
	assert_null(a);
	/* and the same with the signature left broken */
	assert_int_equal(edited_assert(f, ED_UV_CLEAR, false, &a),
	    BG_ERR_TOKEN_NO_UV);
	assert_null(a);
	still_works(f);
}

static void
test_up_clear(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	assert_int_equal(edited_assert(f, ED_UP_CLEAR, true, &a),
	    BG_ERR_TOKEN_DENIED);
	assert_null(a);
}

static void
test_bad_signature(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	assert_int_equal(edited_assert(f, ED_SIG_FLIP, false, &a),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_null(a);
	/* a valid signature by another key */
	crypto_sign_keypair((uint8_t[crypto_sign_PUBLICKEYBYTES]){ 0 },
	    f->e.sk);
	assert_int_equal(edited_assert(f, ED_NONE, true, &a),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_null(a);
	/* authData edited after signing (counter), signature kept */
	f->e.counter = 0x7fffffff;
	assert_int_equal(edited_assert(f, ED_COUNTER, false, &a),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_null(a);
	/* a validly signed assertion for another relying party */
	memcpy(f->e.sk, f->sk, sizeof(f->sk));
	assert_int_equal(edited_assert(f, ED_RPID, true, &a),
	    BG_ERR_TOKEN_BAD_SIGNATURE);
	assert_null(a);
	still_works(f);
}

static void
test_hmac_missing(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	assert_int_equal(edited_assert(f, ED_DROP_EXT, true, &a),
	    BG_ERR_TOKEN_PROTOCOL);
	assert_null(a);
	/* unsigned too: the reply's shape is judged before its signature */
	assert_int_equal(edited_assert(f, ED_DROP_EXT, false, &a),
	    BG_ERR_TOKEN_PROTOCOL);
	assert_null(a);
}

static void
test_hmac_wrong_length(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;
	static const size_t lens[] = {
		16 + 64,	/* two outputs: decrypts to 64 bytes */
		16 + 16,	/* decrypts to 16 bytes */
		16 + 31,	/* not a whole number of AES blocks */
		16,		/* IV only */
		0,
	};
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		f->e.hmac_len = lens[i];
		assert_int_equal(edited_assert(f, ED_HMAC_LEN, true, &a),
		    BG_ERR_TOKEN_PROTOCOL);
		assert_null(a);
	}
	still_works(f);
}

/*
 * The token layer reports the counter, it does not judge it (token.h):
 * a validly signed reply with the counter moved back comes out with that
 * counter in both sign_count and the signed authData, for the vault to
 * refuse (test_vault_counter_backwards below).
 */
static void
test_counter_reported(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	f->e.counter = 1;
	assert_int_equal(edited_assert(f, ED_COUNTER, true, &a), BG_OK);
	assert_int_equal(a->sign_count, 1);
	assert_int_equal(a->authdata[36], 1);
	assert_int_equal(bg_token_verify(f->cred->alg, f->cred->pubkey,
	    f->cred->pubkey_len, RP, f->cdh, a->authdata, a->authdata_len,
	    a->sig, a->sig_len, true), BG_OK);
	bg_token_assertion_free(&a);
}

static void
test_garbage_cbor(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;
	uint32_t s;

	for (s = 1; s <= 16; s++) {
		f->e.seed = s;
		assert_int_equal(edited_assert(f, ED_GARBAGE, false, &a),
		    BG_ERR_TOKEN_PROTOCOL);
		assert_null(a);
	}
	assert_int_equal(edited_assert(f, ED_NOT_MAP, false, &a),
	    BG_ERR_TOKEN_PROTOCOL);
	assert_null(a);
	still_works(f);
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	assert_int_equal(edited_assert(f, ED_TRUNCATE, false, &a),
	    BG_ERR_TOKEN_PROTOCOL);
	assert_null(a);
	assert_int_equal(edited_assert(f, ED_STATUS_ONLY, false, &a),
	    BG_ERR_TOKEN_PROTOCOL);
	assert_null(a);
	still_works(f);
}

/* A CTAPHID message shorter than its declared length: the host waits. */
static void
test_short_frame(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	/*
	 * The in-process token answers synchronously, so once its queue is
	 * empty a read fails at once rather than after the timeout: the layer
	 * reports a lost token, where a USB token would time out.
	 */
	assert_int_equal(bg_token_set_timeout(f->tok, 300), BG_OK);
	cfg.short_frame = true;
	cfg.only_cmd = CTAP_CMD_GET_ASSERTION;
	assert_int_equal(bg_token_assert(f->tok, RP, f->cred->id,
	    f->cred->id_len, f->cred->alg, f->cred->pubkey,
	    f->cred->pubkey_len, f->cdh, f->salt, PIN, &a),
	    BG_ERR_TOKEN_IO);
	assert_null(a);
	cfg.short_frame = false;
}

static void
test_status_error(void **state)
{
	struct fx *f = *state;
	bg_token_assertion_t *a = NULL;

	assert_int_equal(edited_assert(f, ED_STATUS_ERR, false, &a),
	    BG_ERR_TOKEN_PROTOCOL);
	assert_null(a);
}

/* makeCredential replies. */
static void
test_enroll_faults(void **state)
{
	struct fx *f = *state;
	bg_token_cred_t *c = NULL;

	cfg.edit = edit_reply;
	cfg.ctx = &f->e;
	cfg.only_cmd = CTAP_CMD_MAKE_CREDENTIAL;
	f->e.resign = false;

	f->e.what = ED_UV_CLEAR;
	assert_int_equal(bg_token_enroll(f->tok, RP, "bob", BG_TOKEN_EDDSA,
	    PIN, &c), BG_ERR_TOKEN_NO_UV);
	assert_null(c);
	f->e.what = ED_GARBAGE;
	f->e.seed = 99;
	assert_int_equal(bg_token_enroll(f->tok, RP, "bob", BG_TOKEN_EDDSA,
	    PIN, &c), BG_ERR_TOKEN_PROTOCOL);
	assert_null(c);
	f->e.what = ED_TRUNCATE;
	assert_int_equal(bg_token_enroll(f->tok, RP, "bob", BG_TOKEN_EDDSA,
	    PIN, &c), BG_ERR_TOKEN_PROTOCOL);
	assert_null(c);
	/* authData edited, self-attestation signature kept */
	f->e.what = ED_COUNTER;
	f->e.counter = 77;
	assert_int_equal(bg_token_enroll(f->tok, RP, "bob", BG_TOKEN_EDDSA,
	    PIN, &c), BG_ERR_TOKEN_ATTESTATION);
	assert_null(c);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(bg_token_enroll(f->tok, RP, "bob", BG_TOKEN_EDDSA,
	    PIN, &c), BG_OK);
	bg_token_cred_free(&c);
}

/* getInfo replies. */
static void
test_probe_faults(void **state)
{
	struct fx *f = *state;
	bg_token_features_t feat;
	uint32_t s;

	cfg.edit = edit_reply;
	cfg.ctx = &f->e;
	cfg.only_cmd = CTAP_CMD_GET_INFO;
	for (s = 1; s <= 8; s++) {
		f->e.what = ED_GARBAGE;
		f->e.seed = 1000 + s;
		assert_int_equal(bg_token_probe(f->tok, &feat),
		    BG_ERR_TOKEN_PROTOCOL);
	}
	f->e.what = ED_TRUNCATE;
	assert_int_equal(bg_token_probe(f->tok, &feat), BG_ERR_TOKEN_PROTOCOL);
	f->e.what = ED_NOT_MAP;
	assert_int_equal(bg_token_probe(f->tok, &feat), BG_ERR_TOKEN_PROTOCOL);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(bg_token_probe(f->tok, &feat), BG_OK);
	assert_true(feat.hmac_secret);
}

/* ===================================================================== */
/* the vault's counter check                                              */

struct person {
	bg_soft_inproc_t	*ip;
	bg_token_t		*tok;
};

static void
person_new(struct person *p)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(bg_soft_inproc_new(NULL, NULL, 0, &p->ip), 0);
	assert_int_equal(bg_token_open_io(bg_soft_inproc_path(p->ip),
	    bg_soft_inproc_io(), &p->tok), BG_OK);
	assert_int_equal(bg_token_pin_set(p->tok, PIN), BG_OK);
}

static void
person_free(struct person *p)
{
	bg_token_close(&p->tok);
	bg_soft_inproc_free(&p->ip);
}

/* Remove dir and the files in it (the vault, its WAL and anything else). */
static void
rm_dir(const char *dir)
{
	char p[512];
	DIR *d;
	struct dirent *de;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		assert_int_equal(unlink(p), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A cloned token (its state copied before the last use) signs with a
 * counter that did not move forward: the vault refuses the request with
 * BG_ERR_TOKEN_COUNTER and records the refusal.
 */
static void
test_vault_counter_backwards(void **state)
{
	struct person tom, alice, bob, clone;
	bg_vault_t *v = NULL;
	bg_vault_event_t *ev = NULL;
	char dir[] = "/tmp/bg-faults.XXXXXX", path[128];
	uint8_t *blob = NULL;
	size_t len = 0, n = 0;
	int64_t exp = (int64_t)time(NULL) + 30 * 86400, id = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.db", dir);
	person_new(&tom);
	person_new(&alice);
	person_new(&bob);
	assert_int_equal(bg_vault_create(path, true, "op", &v), BG_OK);
	assert_int_equal(bgt_genesis(v), BG_OK);
	assert_int_equal(bg_vault_tenant_add(v, bgt_by_custodian(), "acme", NULL), BG_OK);
	assert_int_equal(bg_vault_member_add(v, "acme", "tom",
	    BG_VAULT_ROLE_REQUESTER, BG_VAULT_SIDE_NONE, exp, "tom", tom.tok,
	    PIN), BG_OK);
	assert_int_equal(bg_vault_member_add(v, "acme", "alice",
	    BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_CLIENT, exp, "alice",
	    alice.tok, PIN), BG_OK);
	assert_int_equal(bg_vault_member_add(v, "acme", "bob",
	    BG_VAULT_ROLE_APPROVER, BG_VAULT_SIDE_CLIENT, exp, "bob", bob.tok,
	    PIN), BG_OK);
	assert_int_equal(bg_vault_policy_set(v, bgt_by_custodian(), "acme",
	    "2-of(alice,bob)", NULL, 0), BG_OK);
	assert_int_equal(bgt_operator_enroll(v, "acme"), BG_OK);
	assert_int_equal(bgt_sign_custodians(v, "acme"), BG_OK);
	assert_int_equal(bg_vault_chain_sign(v, "acme", "alice", NULL,
	    alice.tok, PIN, NULL), BG_OK);
	assert_int_equal(bg_vault_chain_sign(v, "acme", "bob", NULL, bob.tok,
	    PIN, NULL), BG_OK);
	assert_int_equal(bg_vault_secret_add(v, bgt_operator(), "acme", "da",
	    (const uint8_t *)"value-da", 8), BG_OK);
	assert_int_equal(bg_vault_secret_add(v, bgt_operator(), "acme", "db",
	    (const uint8_t *)"value-db", 8), BG_OK);

	/* copy tom's token now, then use the original once */
	assert_int_equal(bg_soft_inproc_state(tom.ip, &blob, &len), 0);
	assert_int_equal(bg_vault_request(v, "acme", "da", "tom", "outage",
	    "INC-1", 600, tom.tok, PIN, &id), BG_OK);
	assert_true(id > 0);

	memset(&clone, 0, sizeof(clone));
	assert_int_equal(bg_soft_inproc_new(NULL, blob, len, &clone.ip), 0);
	assert_int_equal(bg_token_open_io(bg_soft_inproc_path(clone.ip),
	    bg_soft_inproc_io(), &clone.tok), BG_OK);
	assert_int_equal(bg_vault_request(v, "acme", "db", "tom", "outage",
	    "INC-2", 600, clone.tok, PIN, &id), BG_ERR_TOKEN_COUNTER);
	assert_non_null(strstr(bg_vault_errmsg(v), "counter"));
	assert_int_equal(bg_vault_audit_list(v, NULL, &ev, &n), BG_OK);
	assert_true(n > 0);
	assert_string_equal(ev[n - 1].action, "refused");
	assert_non_null(strstr(ev[n - 1].entry, "BG_ERR_TOKEN_COUNTER"));
	/* the credential that answered is named beside the actor */
	assert_non_null(strstr(ev[n - 1].entry, "\"token_owner\":\"tom\""));
	bg_vault_audit_free(&ev, n);

	/* the original token, whose counter did move, still works */
	assert_int_equal(bg_vault_request(v, "acme", "db", "tom", "outage",
	    "INC-2", 600, tom.tok, PIN, &id), BG_OK);

	bg_vault_close(&v);
	sodium_free(blob);
	person_free(&clone);
	person_free(&tom);
	person_free(&alice);
	person_free(&bob);
	rm_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_uv_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hmac_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hmac_wrong_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counter_reported, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage_cbor, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_frame, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_faults, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_probe_faults, setup,
		    teardown),
		cmocka_unit_test(test_vault_counter_backwards),
	};

	if (bg_token_init() != BG_OK)
		return 1;
	return cmocka_run_group_tests_name("token_faults", tests, NULL, NULL);
}
