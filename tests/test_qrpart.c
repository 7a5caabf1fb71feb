/*
 * QR parts (vault/qrpart.c): the RFC 9285 base45 examples, round trips
 * at the sizes of each packet kind in the standard test vault (card
 * 1,861, request 20,600, approval 1,775, denial 1,441 bytes) and at the
 * part boundaries, joins in any order and with repeats, and refusals:
 * a part missing, parts of two packets, two texts for one part, a
 * tampered part, texts that are not parts.
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
#include "qrpart.h"

static uint8_t *
random_packet(size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	randombytes_buf(b, len);
	return b;
}

/* join p's parts in the order idx (n entries); returns the BG code */
static int
join_idx(const bg_qrparts_t *p, const size_t *idx, size_t n, uint8_t **out,
    size_t *len, char *why, size_t whylen)
{
	const char **t = calloc(n ? n : 1, sizeof(*t));
	size_t *l = calloc(n ? n : 1, sizeof(*l)), i;
	int r;

	assert_non_null(t);
	assert_non_null(l);
	for (i = 0; i < n; i++) {
		t[i] = p->text[idx[i]];
		l[i] = strlen(t[i]);
	}
	r = bg_qrpart_join(t, l, NULL, n, out, len, why, whylen);
	free(t);
	free(l);
	return r;
}

/* the data of a part: after the fourth '/' ('/' is a base45 digit too) */
static char *
data_of(char *t)
{
	int i;

	for (i = 0; i < 4; i++) {
		t = strchr(t, '/');
		assert_non_null(t);
		t++;
	}
	return t;
}

static void
test_base45_rfc9285(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "AB", "BB8" },
		{ "Hello!!", "%69 VD92EX0" },
		{ "base-45", "UJCLQE7W581" },
		{ "ietf!", "QED8WEX0" },
	};
	char enc[64];
	uint8_t dec[64];
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		bg_base45_encode((const uint8_t *)v[i].in, strlen(v[i].in), enc);
		assert_string_equal(enc, v[i].out);
		assert_int_equal(bg_base45_len(strlen(v[i].in)),
		    strlen(v[i].out));
		n = bg_base45_decode(v[i].out, strlen(v[i].out), dec);
		assert_int_equal(n, (long)strlen(v[i].in));
		assert_memory_equal(dec, v[i].in, strlen(v[i].in));
	}
	/* RFC 9285 section 4.4: GGW is 65535 + 1; a lone char; bad chars */
	assert_int_equal(bg_base45_decode("GGW", 3, dec), -1);
	assert_int_equal(bg_base45_decode("FGW", 3, dec), 2);
	assert_int_equal(bg_base45_decode("A", 1, dec), -1);
	assert_int_equal(bg_base45_decode("ab", 2, dec), -1);
	assert_int_equal(bg_base45_decode("::", 2, dec), -1);	/* > 255 */
}

static void
round_trip(size_t len)
{
	bg_qrparts_t *p = NULL;
	uint8_t *b = random_packet(len), *out = NULL;
	size_t *idx, i, olen = 0, n;
	char why[BG_QRPART_WHY_MAX];

	assert_int_equal(bg_qrpart_split(b, len, &p), BG_OK);
	n = (len + BG_QRPART_BYTES - 1) / BG_QRPART_BYTES;
	assert_int_equal(p->n, n);
	idx = calloc(n, sizeof(*idx));
	assert_non_null(idx);
	for (i = 0; i < n; i++) {
		assert_true(strlen(p->text[i]) <= BG_QRPART_TEXT_MAX);
		assert_int_equal(strspn(p->text[i], "0123456789ABCDEFGHIJKLMN"
		    "OPQRSTUVWXYZ $%*+-./:"), strlen(p->text[i]));
		idx[i] = n - 1 - i;	/* reversed */
	}
	assert_int_equal(join_idx(p, idx, n, &out, &olen, why, sizeof(why)),
	    BG_OK);
	assert_int_equal(olen, len);
	assert_memory_equal(out, b, len);
	assert_int_equal(out[len], 0);
	free(out);
	free(idx);
	free(b);
	bg_qrparts_free(&p);
	assert_null(p);
}

static void
test_round_trips(void **state)
{
	static const size_t sizes[] = { 1, 2, 599, 600, 601, 1199, 1200,
	    1441, 1775, 1861, 20600, 65537 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(sizes[i]);
}

static void
test_part_counts(void **state)
{
	/* the part counts docs/remote-approval.md states */
	static const struct { size_t len, n; } v[] = {
		{ 1861, 4 }, { 20600, 35 }, { 1775, 3 }, { 1441, 3 },
	};
	bg_qrparts_t *p = NULL;
	uint8_t *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b = random_packet(v[i].len);
		assert_int_equal(bg_qrpart_split(b, v[i].len, &p), BG_OK);
		assert_int_equal(p->n, v[i].n);
		assert_memory_equal(p->text[0], "BG1/1/", 6);
		bg_qrparts_free(&p);
		free(b);
	}
}

static void
test_split_limits(void **state)
{
	bg_qrparts_t *p = NULL;
	uint8_t b[1] = { 0 };

	(void)state;
	assert_int_equal(bg_qrpart_split(b, 0, &p), BG_ERR_RANGE);
	assert_null(p);
	assert_int_equal(bg_qrpart_split(b, BG_QRPART_MAX_PACKET + 1u, &p),
	    BG_ERR_RANGE);
	assert_null(p);
}

static void
test_repeats_and_any_order(void **state)
{
	bg_qrparts_t *p = NULL;
	uint8_t *b = random_packet(2000), *out = NULL;
	size_t idx[] = { 2, 0, 3, 0, 1, 2 }, olen;
	char why[BG_QRPART_WHY_MAX];

	(void)state;
	assert_int_equal(bg_qrpart_split(b, 2000, &p), BG_OK);
	assert_int_equal(p->n, 4);
	assert_int_equal(join_idx(p, idx, 6, &out, &olen, why, sizeof(why)),
	    BG_OK);
	assert_int_equal(olen, 2000);
	assert_memory_equal(out, b, 2000);
	free(out);
	free(b);
	bg_qrparts_free(&p);
}

static void
test_missing(void **state)
{
	bg_qrparts_t *p = NULL;
	uint8_t *b = random_packet(3000), *out = NULL;
	size_t idx[] = { 0, 1, 3 }, olen;
	char why[BG_QRPART_WHY_MAX];

	(void)state;
	assert_int_equal(bg_qrpart_split(b, 3000, &p), BG_OK);
	assert_int_equal(join_idx(p, idx, 3, &out, &olen, why, sizeof(why)),
	    BG_ERR_INVALID_ARG);
	assert_null(out);
	assert_non_null(strstr(why, "part 3 of 5 of packet"));
	assert_non_null(strstr(why, "is missing (and more)"));
	assert_int_equal(join_idx(p, idx, 0, &out, &olen, why, sizeof(why)),
	    BG_ERR_INVALID_ARG);
	assert_string_equal(why, "no QR parts");
	free(b);
	bg_qrparts_free(&p);
}

static void
test_mixed(void **state)
{
	bg_qrparts_t *p = NULL, *q = NULL;
	uint8_t *a = random_packet(1800), *b = random_packet(1800), *out = NULL;
	const char *t[3];
	const char *names[3] = { "a1.png", "a2.png", "b3.png" };
	size_t l[3], olen, i;
	char why[BG_QRPART_WHY_MAX];

	(void)state;
	assert_int_equal(bg_qrpart_split(a, 1800, &p), BG_OK);
	assert_int_equal(bg_qrpart_split(b, 1800, &q), BG_OK);
	t[0] = p->text[0];
	t[1] = p->text[1];
	t[2] = q->text[2];
	for (i = 0; i < 3; i++)
		l[i] = strlen(t[i]);
	assert_int_equal(bg_qrpart_join(t, l, names, 3, &out, &olen, why,
	    sizeof(why)), BG_ERR_INVALID_ARG);
	assert_null(out);
	assert_non_null(strstr(why, "b3.png is part of another packet"));
	assert_non_null(strstr(why, "parts of two packets are mixed"));
	/* a part of the same number from another packet of the same size */
	t[2] = q->text[1];
	assert_int_equal(bg_qrpart_join(t, l, NULL, 3, &out, &olen, why,
	    sizeof(why)), BG_ERR_INVALID_ARG);
	assert_non_null(strstr(why, "input 3 is part of another packet"));
	free(a);
	free(b);
	bg_qrparts_free(&p);
	bg_qrparts_free(&q);
}

static void
test_tampered(void **state)
{
	bg_qrparts_t *p = NULL;
	uint8_t *b = random_packet(1500), *out = NULL;
	size_t idx[] = { 0, 1, 2 }, olen, k;
	char why[BG_QRPART_WHY_MAX], *d, c;
	const char *t[2];
	size_t l[2];

	(void)state;
	assert_int_equal(bg_qrpart_split(b, 1500, &p), BG_OK);
	/* change one data character of part 2 to another valid one */
	d = data_of(p->text[1]);
	k = 100;
	c = d[k];
	d[k] = c == '0' ? '1' : '0';
	assert_int_equal(join_idx(p, idx, 3, &out, &olen, why, sizeof(why)),
	    BG_ERR_AUTH);
	assert_null(out);
	assert_non_null(strstr(why, "a part is damaged"));
	/* two different texts for one part number */
	t[0] = p->text[1];
	d[k] = c;
	t[1] = NULL;
	{
		char *other = strdup(p->text[1]);

		assert_non_null(other);
		data_of(other)[k] = c == '0' ? '1' : '0';
		t[1] = other;
		l[0] = strlen(t[0]);
		l[1] = strlen(t[1]);
		assert_int_equal(bg_qrpart_join(t, l, NULL, 2, &out, &olen,
		    why, sizeof(why)), BG_ERR_INVALID_ARG);
		assert_non_null(strstr(why, "another text for part 2 of 3"));
		free(other);
	}
	/* a lower-case (not base45) character */
	d[k] = 'a';
	assert_int_equal(join_idx(p, idx, 3, &out, &olen, why, sizeof(why)),
	    BG_ERR_PARSE);
	d[k] = c;
	assert_int_equal(join_idx(p, idx, 3, &out, &olen, why, sizeof(why)),
	    BG_OK);
	free(out);
	free(b);
	bg_qrparts_free(&p);
}

static void
test_not_parts(void **state)
{
	static const char *const bad[] = {
		"",
		"BG1",
		"BG2/1/1/0123456789ABCDEF/BB8",
		"BG1/0/1/0123456789ABCDEF/BB8",
		"BG1/2/1/0123456789ABCDEF/BB8",
		"BG1/01/1/0123456789ABCDEF/BB8",
		"BG1/1/7001/0123456789ABCDEF/BB8",
		"BG1/1/1/0123456789abcdef/BB8",
		"BG1/1/1/0123456789ABCDE/BB8",
		"BG1/1/1/0123456789ABCDEF/",
		"BG1/1/1/0123456789ABCDEF",
		"BG1/1/2/0123456789ABCDEF/BB8",		/* short non-last part */
		"https://example.invalid/",
	};
	uint8_t *out = NULL;
	size_t i, l, olen;
	char why[BG_QRPART_WHY_MAX];
	const char *t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = bad[i];
		l = strlen(t);
		assert_int_equal(bg_qrpart_join(&t, &l, NULL, 1, &out, &olen,
		    why, sizeof(why)), BG_ERR_PARSE);
		assert_null(out);
		assert_non_null(strstr(why, "input 1 is not a breakglass QR "
		    "part"));
	}
	/* a NUL inside the text */
	t = "BG1/1/1/0123456789ABCDEF/BB\0";
	l = 28;
	assert_int_equal(bg_qrpart_join(&t, &l, NULL, 1, &out, &olen, why,
	    sizeof(why)), BG_ERR_PARSE);
	/* well formed, but the id is not the data's */
	t = "BG1/1/1/0123456789ABCDEF/BB8";
	l = strlen(t);
	assert_int_equal(bg_qrpart_join(&t, &l, NULL, 1, &out, &olen, why,
	    sizeof(why)), BG_ERR_AUTH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base45_rfc9285),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_part_counts),
		cmocka_unit_test(test_split_limits),
		cmocka_unit_test(test_repeats_and_any_order),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_not_parts),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
