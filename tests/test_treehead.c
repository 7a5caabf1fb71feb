/*
 * Signed tree heads and receipts: the signed message layout and an
 * Ed25519 signature computed independently (OpenSSL's pkeyutl over the
 * same 88 bytes), tampering with every field, the strict text parser, and
 * receipts: known answers computed with Python's binascii.crc_hqx, every
 * single-character typo and neighbour swap caught, and the check of a
 * receipt against today's log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "merkle.h"
#include "treehead.h"

#define HL	BG_MERKLE_HASH_LEN

static const char root8_hex[] =
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
static const char vid[] = "00112233445566778899aabbccddeeff";

/* The message for (vid, 8, root8, 1795000000), built by hand in Python. */
static const char msg_hex[] =
    "627265616b676c617373207472656520686561642076310000112233445566778899"
    "aabbccddeeff00000000000000085dc9da79a70659a9ad559cb701ded9a2ab9d823a"
    "ad2f4960cfe370eff4604328000000006afd86c0";
/* openssl pkeyutl -sign -rawin with the Ed25519 key of seed 0x42 * 32. */
static const char sig_hex[] =
    "a89454b93fadaae1582d302357725273ae88dbb41d78d4a0177985dfce3c4c21"
    "da512078e2da08c46070598e71cfe00041e91579656b787e5baefc4d5d1f9e08";
static const char pk_hex[] =
    "2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12";

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	assert_int_equal(sodium_hex2bin(out, n, s, 2 * n, NULL, NULL, NULL), 0);
}

struct keys {
	uint8_t pk[BG_TREEHEAD_PK_LEN];
	uint8_t *sk;	/* sodium_malloc */
};

static int
setup_keys(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (k == NULL)
		return -1;
	if ((k->sk = sodium_malloc(BG_TREEHEAD_SK_LEN)) == NULL) {
		free(k);
		return -1;
	}
	memset(seed, 0x42, sizeof(seed));
	if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0) {
		sodium_free(k->sk);
		free(k);
		return -1;
	}
	sodium_memzero(seed, sizeof(seed));
	*state = k;
	return 0;
}

static int
teardown_keys(void **state)
{
	struct keys *k = *state;

	if (k != NULL) {
		sodium_free(k->sk);
		free(k);
	}
	*state = NULL;
	return 0;
}

static void
sample(bg_treehead_t *th)
{
	memset(th, 0, sizeof(*th));
	memcpy(th->vault_id, vid, sizeof(vid));
	th->size = 8;
	unhex(root8_hex, th->root, HL);
	th->time = 1795000000;
}

/* --- tree heads ------------------------------------------------------------ */

static void
test_message(void **state)
{
	bg_treehead_t th;
	uint8_t msg[BG_TREEHEAD_MSG_LEN], want[BG_TREEHEAD_MSG_LEN];

	(void)state;
	sample(&th);
	unhex(msg_hex, want, sizeof(want));
	assert_int_equal(bg_treehead_message(&th, msg), BG_OK);
	assert_memory_equal(msg, want, sizeof(msg));
	/* out-of-range fields */
	th.time = -1;
	assert_int_equal(bg_treehead_message(&th, msg), BG_ERR_INVALID_ARG);
	memset(want, 0, sizeof(want));
	assert_memory_equal(msg, want, sizeof(msg));
	sample(&th);
	th.size = (uint64_t)INT64_MAX + 1;
	assert_int_equal(bg_treehead_message(&th, msg), BG_ERR_INVALID_ARG);
	sample(&th);
	th.vault_id[3] = 'A';
	assert_int_equal(bg_treehead_message(&th, msg), BG_ERR_INVALID_ARG);
	sample(&th);
	th.vault_id[31] = '\0';
	assert_int_equal(bg_treehead_message(&th, msg), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_treehead_message(NULL, msg), BG_ERR_INVALID_ARG);
	sample(&th);
	th.size = (uint64_t)INT64_MAX;
	th.time = INT64_MAX;
	assert_int_equal(bg_treehead_message(&th, msg), BG_OK);
}

static void
test_sign_verify(void **state)
{
	struct keys *k = *state;
	bg_treehead_t th, t;
	uint8_t want[BG_TREEHEAD_SIG_LEN], pk[BG_TREEHEAD_PK_LEN];
	uint8_t other_pk[BG_TREEHEAD_PK_LEN], other_sk[BG_TREEHEAD_SK_LEN];
	size_t i;

	unhex(pk_hex, pk, sizeof(pk));
	assert_memory_equal(k->pk, pk, sizeof(pk));
	sample(&th);
	assert_int_equal(bg_treehead_sign(&th, k->sk), BG_OK);
	unhex(sig_hex, want, sizeof(want));
	assert_memory_equal(th.sig, want, sizeof(want));
	assert_int_equal(bg_treehead_verify(&th, k->pk), BG_OK);

	/* every field changed, every byte of the signature flipped */
	t = th;
	t.vault_id[0] = '1';
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	t = th;
	t.size = 7;
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	t = th;
	t.size = 9;
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	t = th;
	t.time++;
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	for (i = 0; i < HL; i++) {
		t = th;
		t.root[i] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	}
	for (i = 0; i < BG_TREEHEAD_SIG_LEN; i++) {
		t = th;
		t.sig[i] ^= (uint8_t)(0x80u >> (i % 8));
		assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	}
	/* another key */
	crypto_sign_keypair(other_pk, other_sk);
	assert_int_equal(bg_treehead_verify(&th, other_pk), BG_ERR_AUTH);
	t = th;
	assert_int_equal(bg_treehead_sign(&t, other_sk), BG_OK);
	sodium_memzero(other_sk, sizeof(other_sk));
	assert_int_equal(bg_treehead_verify(&t, other_pk), BG_OK);
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_AUTH);
	/* malformed */
	assert_int_equal(bg_treehead_verify(NULL, k->pk), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_treehead_verify(&th, NULL), BG_ERR_INVALID_ARG);
	t = th;
	t.time = -5;
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_treehead_sign(&t, k->sk), BG_ERR_INVALID_ARG);
	memset(want, 0, sizeof(want));
	assert_memory_equal(t.sig, want, sizeof(want));
}

static void
test_text_roundtrip(void **state)
{
	struct keys *k = *state;
	bg_treehead_t th, t;
	char buf[BG_TREEHEAD_TEXT_MAX], again[BG_TREEHEAD_TEXT_MAX];
	char why[BG_TREEHEAD_WHY_MAX];
	char want[BG_TREEHEAD_TEXT_MAX];

	sample(&th);
	assert_int_equal(bg_treehead_sign(&th, k->sk), BG_OK);
	assert_int_equal(bg_treehead_format(&th, buf, sizeof(buf)), BG_OK);
	(void)snprintf(want, sizeof(want), "bg-treehead-v1 vault=%s size=8 "
	    "root=%s time=1795000000 sig=%s", vid, root8_hex, sig_hex);
	assert_string_equal(buf, want);
	assert_int_equal(bg_treehead_parse(buf, &t, why, sizeof(why)), BG_OK);
	assert_string_equal(why, "");
	assert_memory_equal(&t, &th, sizeof(t));
	assert_int_equal(bg_treehead_verify(&t, k->pk), BG_OK);
	assert_int_equal(bg_treehead_format(&t, again, sizeof(again)), BG_OK);
	assert_string_equal(again, buf);

	/* the longest line fits BG_TREEHEAD_TEXT_MAX */
	th.size = (uint64_t)INT64_MAX;
	th.time = INT64_MAX;
	assert_int_equal(bg_treehead_format(&th, buf, sizeof(buf)), BG_OK);
	assert_int_equal(strlen(buf), 306);
	assert_int_equal(bg_treehead_parse(buf, &t, why, sizeof(why)), BG_OK);
	assert_memory_equal(&t, &th, sizeof(t));
	/* too small a buffer */
	assert_int_equal(bg_treehead_format(&th, buf, 306), BG_ERR_RANGE);
	assert_string_equal(buf, "");
	/* zero size, zero time */
	th.size = 0;
	th.time = 0;
	assert_int_equal(bg_treehead_format(&th, buf, sizeof(buf)), BG_OK);
	assert_non_null(strstr(buf, " size=0 "));
	assert_non_null(strstr(buf, " time=0 "));
	assert_int_equal(bg_treehead_parse(buf, &t, why, sizeof(why)), BG_OK);
	assert_memory_equal(&t, &th, sizeof(t));
}

struct bad_line {
	const char	*line;		/* %V vault, %R root, %S sig */
	const char	*why;		/* substring of the sentence */
};

static const struct bad_line bad_th[] = {
	{ "", "the tree head is empty" },
	{ "x", "expected \"bg-treehead-v1 vault=\" at character 1" },
	{ "bg-tree", "\"bg-treehead-v1 vault=\" is missing at the end" },
	{ "bg-treehead-v2 vault=%V size=8 root=%R time=1 sig=%S",
	    "version is not known" },
	{ "bg-treehead-v10 vault=%V size=8 root=%R time=1 sig=%S",
	    "version is not known" },
	{ "BG-TREEHEAD-V1 vault=%V size=8 root=%R time=1 sig=%S",
	    "expected \"bg-treehead-v1 vault=\"" },
	{ "bg-treehead-v1  vault=%V size=8 root=%R time=1 sig=%S",
	    "expected \"bg-treehead-v1 vault=\"" },
	{ "bg-treehead-v1 vault=%V0 size=8 root=%R time=1 sig=%S",
	    "vault id must be 32 hex digits, found 33" },
	{ "bg-treehead-v1 vault=0011 size=8 root=%R time=1 sig=%S",
	    "vault id must be 32 hex digits, found 4" },
	{ "bg-treehead-v1 vault=00112233445566778899AABBCCDDEEFF size=8 "
	    "root=%R time=1 sig=%S", "(\'A\') in the vault id is not a "
	    "lowercase hex digit" },
	{ "bg-treehead-v1 vault=%V size=08 root=%R time=1 sig=%S",
	    "tree size has a leading zero" },
	{ "bg-treehead-v1 vault=%V size=+8 root=%R time=1 sig=%S",
	    "(\'+\') in the tree size is not a digit" },
	{ "bg-treehead-v1 vault=%V size= root=%R time=1 sig=%S",
	    "tree size is missing" },
	{ "bg-treehead-v1 vault=%V size=9223372036854775808 root=%R time=1 "
	    "sig=%S", "tree size is too large" },
	{ "bg-treehead-v1 vault=%V size=18446744073709551616 root=%R time=1 "
	    "sig=%S", "tree size is too large" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=-1 sig=%S",
	    "(\'-\') in the time is not a digit" },
	{ "bg-treehead-v1 vault=%V root=%R size=8 time=1 sig=%S",
	    "expected \" size=\"" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=1 sig=%S ",
	    "(a space) after the signature" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=1 sig=%S\n",
	    "signature is not a lowercase hex digit" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=1 sig=%S extra=1",
	    "unexpected text at character" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=1",
	    "\" sig=\" is missing at the end" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=1 sig=",
	    "signature must be 128 hex digits, found 0" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R\ttime=1 sig=%S",
	    "(byte 0x09) in the root hash" },
	{ "bg-treehead-v1 vault=%V size=8 root=%R time=1 sig=%S%S",
	    "too long" },
};

/* Expand %V, %R, %S in a template. */
static void
expand(const char *tpl, char *out, size_t cap)
{
	size_t o = 0;
	const char *p;

	for (p = tpl; *p != '\0'; p++) {
		const char *sub = NULL;

		if (p[0] == '%' && p[1] == 'V')
			sub = vid;
		else if (p[0] == '%' && p[1] == 'R')
			sub = root8_hex;
		else if (p[0] == '%' && p[1] == 'S')
			sub = sig_hex;
		if (sub != NULL) {
			assert_true(o + strlen(sub) < cap);
			memcpy(out + o, sub, strlen(sub));
			o += strlen(sub);
			p++;
		} else {
			assert_true(o + 1 < cap);
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void
test_text_rejects(void **state)
{
	bg_treehead_t th;
	char line[1024], why[BG_TREEHEAD_WHY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_th) / sizeof(bad_th[0]); i++) {
		expand(bad_th[i].line, line, sizeof(line));
		memset(&th, 0xff, sizeof(th));
		if (bg_treehead_parse(line, &th, why, sizeof(why)) !=
		    BG_ERR_PARSE || strstr(why, bad_th[i].why) == NULL)
			fail_msg("line %zu: \"%s\" gave \"%s\", want \"%s\"",
			    i, line, why, bad_th[i].why);
		assert_true(sodium_is_zero((const unsigned char *)&th,
		    sizeof(th)));
	}
	/* the good line parses; NULL arguments; no why buffer */
	expand("bg-treehead-v1 vault=%V size=8 root=%R time=1 sig=%S", line,
	    sizeof(line));
	assert_int_equal(bg_treehead_parse(line, &th, NULL, 0), BG_OK);
	assert_int_equal(bg_treehead_parse(NULL, &th, why, sizeof(why)),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_treehead_parse(line, NULL, why, sizeof(why)),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_treehead_parse("x", &th, NULL, 0), BG_ERR_PARSE);
	/* a tiny why buffer is truncated, still terminated */
	assert_int_equal(bg_treehead_parse("x", &th, why, 8), BG_ERR_PARSE);
	assert_int_equal(strlen(why), 7);
}

/* --- receipts ---------------------------------------------------------------- */

struct rc_kat {
	uint64_t	 size;
	const char	*root;
	const char	*line;
};

/* Computed with: body = "BG1-%d-%s" % (size, root[:16]);
 *                body + "-%04x" % binascii.crc_hqx(body.encode(), 0) */
static const struct rc_kat rc_kats[] = {
	{ 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "BG1-0-e3b0c44298fc1c14-b63a" },
	{ 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "BG1-1-6e340b9cffb37a98-9852" },
	{ 8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	    "BG1-8-5dc9da79a70659a9-fc49" },
	{ 9223372036854775807ULL,
	    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	    "BG1-9223372036854775807-5dc9da79a70659a9-1244" },
};

static void
test_receipt_kat(void **state)
{
	char buf[BG_RECEIPT_MAX], why[BG_TREEHEAD_WHY_MAX];
	uint8_t root[HL];
	bg_receipt_t rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rc_kats) / sizeof(rc_kats[0]); i++) {
		unhex(rc_kats[i].root, root, HL);
		assert_int_equal(bg_receipt_format(rc_kats[i].size, root, buf,
		    sizeof(buf)), BG_OK);
		assert_string_equal(buf, rc_kats[i].line);
		assert_int_equal(bg_receipt_parse(buf, &rc, why, sizeof(why)),
		    BG_OK);
		assert_int_equal(rc.size, rc_kats[i].size);
		assert_memory_equal(rc.root_prefix, root, BG_RECEIPT_PREFIX_LEN);
		assert_int_equal(bg_receipt_matches_root(&rc, root), BG_OK);
		root[HL - 1] ^= 1;	/* beyond the prefix: not checked */
		assert_int_equal(bg_receipt_matches_root(&rc, root), BG_OK);
		root[BG_RECEIPT_PREFIX_LEN - 1] ^= 1;
		assert_int_equal(bg_receipt_matches_root(&rc, root),
		    BG_ERR_AUTH);
	}
	/* case does not matter when reading */
	assert_int_equal(bg_receipt_parse("bg1-8-5DC9DA79A70659A9-FC49", &rc,
	    why, sizeof(why)), BG_OK);
	assert_int_equal(rc.size, 8);
	/* limits and malformed arguments */
	unhex(rc_kats[3].root, root, HL);
	assert_int_equal(bg_receipt_format(rc_kats[3].size, root, buf, 45),
	    BG_ERR_RANGE);
	assert_string_equal(buf, "");
	assert_int_equal(bg_receipt_format(rc_kats[3].size, root, buf, 46),
	    BG_OK);
	assert_int_equal(bg_receipt_format((uint64_t)INT64_MAX + 1, root, buf,
	    sizeof(buf)), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_receipt_format(1, NULL, buf, sizeof(buf)),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_receipt_parse(NULL, &rc, why, sizeof(why)),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_receipt_parse(buf, NULL, why, sizeof(why)),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_receipt_matches_root(NULL, root),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_receipt_matches_root(&rc, NULL),
	    BG_ERR_INVALID_ARG);
}

static const struct bad_line bad_rc[] = {
	{ "", "the receipt is empty" },
	{ "BG2-8-5dc9da79a70659a9-fc49", "version BG2 is not known" },
	{ "XG1-8-5dc9da79a70659a9-fc49", "expected a receipt starting" },
	{ "BG1-", "tree size is missing" },
	{ "BG1--5dc9da79a70659a9-fc49", "tree size is missing" },
	{ "BG1-08-5dc9da79a70659a9-fc49", "leading zero" },
	{ "BG1-O-5dc9da79a70659a9-fc49", "not a digit (a zero, 0?)" },
	{ "BG1-9223372036854775808-5dc9da79a70659a9-fc49", "too large" },
	{ "BG1-8", "root prefix and checksum are missing" },
	{ "BG1-8-5dc9da79a70659a9", "checksum (4 hex digits after a '-') "
	    "is missing" },
	{ "BG1-8-5dc9da79a70659a9-", "checksum must be 4 hex digits, found 0" },
	{ "BG1-8-5dc9da79a7O659a9-fc49", "character 17 ('O') in the root "
	    "prefix is not a hex digit (a zero, 0?)" },
	{ "BG1-8-5dc9da79a70659a-fc49", "root prefix must be 16 hex digits, "
	    "found 15" },
	{ "BG1-8-5dc9da79a70659a9a-fc49", "found 17" },
	{ "BG1-8-5dc9da79a70659a9-fc4", "checksum must be 4 hex digits, "
	    "found 3" },
	{ "BG1-8-5dc9da79a70659a9-fc49 ", "(a space) in the checksum" },
	{ " BG1-8-5dc9da79a70659a9-fc49", "expected a receipt starting" },
	{ "BG1-8-5dc9da79a70659a9-fc49-", "unexpected text at character 28 ('-')" },
	{ "BG1-8-5dc9da79a70659a9-fc4a", "checksum does not match" },
	{ "BG1-9-5dc9da79a70659a9-fc49", "checksum does not match" },
	{ "BG1-8-5dc9da79a70659a9-fc49-0000-0000-0000-0000-0000", "too long" },
};

static void
test_receipt_rejects(void **state)
{
	char why[BG_TREEHEAD_WHY_MAX];
	bg_receipt_t rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_rc) / sizeof(bad_rc[0]); i++) {
		memset(&rc, 0xff, sizeof(rc));
		if (bg_receipt_parse(bad_rc[i].line, &rc, why, sizeof(why)) !=
		    BG_ERR_PARSE || strstr(why, bad_rc[i].why) == NULL)
			fail_msg("receipt %zu: \"%s\" gave \"%s\", want \"%s\"",
			    i, bad_rc[i].line, why, bad_rc[i].why);
		assert_true(sodium_is_zero((const unsigned char *)&rc,
		    sizeof(rc)));
	}
}

static bool
same_ci(char a, char b)
{
	if (a >= 'A' && a <= 'Z')
		a = (char)(a - 'A' + 'a');
	if (b >= 'A' && b <= 'Z')
		b = (char)(b - 'A' + 'a');
	return a == b;
}

/*
 * Every receipt with one character replaced by any other printable
 * character, and with any two neighbours swapped, is refused; only a change
 * of case reads as the same receipt.
 */
static void
test_receipt_typos(void **state)
{
	static const uint64_t sizes[] = { 0, 7, 42, 1000, 65536, 123456789 };
	char good[BG_RECEIPT_MAX], t[BG_RECEIPT_MAX], why[BG_TREEHEAD_WHY_MAX];
	uint8_t root[HL];
	bg_receipt_t rc, want;
	size_t s, i, len;
	unsigned tried = 0;
	int c;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		crypto_hash_sha256(root, (const uint8_t *)&sizes[s],
		    sizeof(sizes[s]));
		assert_int_equal(bg_receipt_format(sizes[s], root, good,
		    sizeof(good)), BG_OK);
		assert_int_equal(bg_receipt_parse(good, &want, why,
		    sizeof(why)), BG_OK);
		len = strlen(good);
		for (i = 0; i < len; i++) {
			for (c = 0x21; c < 0x7f; c++) {
				if ((char)c == good[i])
					continue;
				memcpy(t, good, len + 1);
				t[i] = (char)c;
				if (same_ci(t[i], good[i])) {
					assert_int_equal(bg_receipt_parse(t,
					    &rc, why, sizeof(why)), BG_OK);
					assert_memory_equal(&rc, &want,
					    sizeof(rc));
				} else if (bg_receipt_parse(t, &rc, why,
				    sizeof(why)) != BG_ERR_PARSE) {
					fail_msg("typo accepted: %s for %s",
					    t, good);
				}
				tried++;
			}
			if (i + 1 < len && !same_ci(good[i], good[i + 1])) {
				memcpy(t, good, len + 1);
				t[i] = good[i + 1];
				t[i + 1] = good[i];
				if (bg_receipt_parse(t, &rc, why, sizeof(why))
				    != BG_ERR_PARSE)
					fail_msg("swap accepted: %s for %s",
					    t, good);
				tried++;
			}
		}
		/* a dropped or doubled character */
		for (i = 0; i < len; i++) {
			memcpy(t, good, i);
			memcpy(t + i, good + i + 1, len - i);
			assert_int_equal(bg_receipt_parse(t, &rc, why,
			    sizeof(why)), BG_ERR_PARSE);
			tried++;
		}
	}
	assert_true(tried > 10000);
}

static int
array_get(void *ctx, uint64_t index, uint8_t out[HL])
{
	return bg_merkle_array_get(ctx, index, out);
}

static void
test_receipt_check(void **state)
{
	uint8_t leaves[40][HL], root[HL];
	bg_merkle_array_t arr = { &leaves[0][0], 40 };
	char line[BG_RECEIPT_MAX], why[BG_TREEHEAD_WHY_MAX];
	bg_receipt_t rc;
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++)
		bg_merkle_leaf_hash((const uint8_t *)&i, sizeof(i), leaves[i]);
	/* a receipt taken at 25 events */
	assert_int_equal(bg_merkle_root(bg_merkle_array_get, &arr, 25, root),
	    BG_OK);
	assert_int_equal(bg_receipt_format(25, root, line, sizeof(line)),
	    BG_OK);
	assert_int_equal(bg_receipt_parse(line, &rc, why, sizeof(why)), BG_OK);
	/* today's log (40 events, or exactly 25) extends it */
	assert_int_equal(bg_receipt_check(&rc, 40, array_get, &arr), BG_OK);
	assert_int_equal(bg_receipt_check(&rc, 25, array_get, &arr), BG_OK);
	/* truncated, or restored from an older copy */
	arr.count = 24;
	assert_int_equal(bg_receipt_check(&rc, 24, array_get, &arr),
	    BG_ERR_RANGE);
	arr.count = 40;
	/* an edit after the receipt is not the receipt's business */
	leaves[30][0] ^= 1;
	assert_int_equal(bg_receipt_check(&rc, 40, array_get, &arr), BG_OK);
	/* an edit, a removal, a swap before it are */
	leaves[3][0] ^= 1;
	assert_int_equal(bg_receipt_check(&rc, 40, array_get, &arr),
	    BG_ERR_AUTH);
	leaves[3][0] ^= 1;
	memmove(leaves[10], leaves[11], (size_t)(40 - 11) * HL);
	assert_int_equal(bg_receipt_check(&rc, 39, array_get, &arr),
	    BG_ERR_AUTH);
	for (i = 0; i < 40; i++)
		bg_merkle_leaf_hash((const uint8_t *)&i, sizeof(i), leaves[i]);
	assert_int_equal(bg_receipt_check(&rc, 40, array_get, &arr), BG_OK);
	memcpy(root, leaves[5], HL);
	memcpy(leaves[5], leaves[6], HL);
	memcpy(leaves[6], root, HL);
	assert_int_equal(bg_receipt_check(&rc, 40, array_get, &arr),
	    BG_ERR_AUTH);
	/* a failing source passes its error through */
	arr.count = 10;
	assert_int_equal(bg_receipt_check(&rc, 40, array_get, &arr),
	    BG_ERR_RANGE);
	assert_int_equal(bg_receipt_check(NULL, 40, array_get, &arr),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_receipt_check(&rc, 40, NULL, &arr),
	    BG_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message),
		cmocka_unit_test_setup_teardown(test_sign_verify, setup_keys,
		    teardown_keys),
		cmocka_unit_test_setup_teardown(test_text_roundtrip,
		    setup_keys, teardown_keys),
		cmocka_unit_test(test_text_rejects),
		cmocka_unit_test(test_receipt_kat),
		cmocka_unit_test(test_receipt_rejects),
		cmocka_unit_test(test_receipt_typos),
		cmocka_unit_test(test_receipt_check),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("treehead", tests, NULL, NULL);
}
