/*
 * QR images (cli/qr.c): packets of each kind's size in the standard test
 * vault written as PNG images and read back with zbar (one part and
 * many), the terminal drawing, and refusals: a directory that is not
 * empty, an image missing, an image of another packet, an image that is
 * not a PNG, an image with no code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "qr.h"
#include "qrpart.h"

static char tmpl[] = "/tmp/bg-test-qr.XXXXXX";
static char *top;

static char *
path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
path(const char *fmt, ...)
{
	static char buf[4][512];
	static int i;
	char rel[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(rel));
	i = (i + 1) % 4;
	n = snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	assert_true(n > 0 && (size_t)n < sizeof(buf[i]));
	return buf[i];
}

static uint8_t *
random_packet(size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	randombytes_buf(b, len);
	return b;
}

static void
png_round_trip(size_t len, const char *dir)
{
	uint8_t *b = random_packet(len), *out = NULL;
	size_t n = 0, olen = 0;
	char why[BG_QR_WHY_MAX];

	assert_int_equal(bg_qr_write_dir(b, len, path("%s", dir), &n, why,
	    sizeof(why)), BG_OK);
	assert_int_equal(n, (len + BG_QRPART_BYTES - 1) / BG_QRPART_BYTES);
	assert_int_equal(bg_qr_read_packet(path("%s", dir), &out, &olen, why,
	    sizeof(why)), BG_OK);
	assert_int_equal(olen, len);
	assert_memory_equal(out, b, len);
	free(out);
	free(b);
}

static void
test_png_each_kind(void **state)
{
	(void)state;
	png_round_trip(1861, "card");		/* 4 parts */
	png_round_trip(20600, "request");	/* 35 parts */
	png_round_trip(1775, "approval");	/* 3 parts */
	png_round_trip(1441, "denial");		/* 3 parts */
	png_round_trip(BG_QRPART_BYTES, "one");	/* 1 part: the largest code */
}

static void
test_one_image_file(void **state)
{
	uint8_t *b = random_packet(100), *out = NULL;
	size_t olen;
	char why[BG_QR_WHY_MAX];

	(void)state;
	assert_int_equal(bg_qr_write_dir(b, 100, path("single"), NULL, why,
	    sizeof(why)), BG_OK);
	assert_int_equal(bg_qr_read_packet(path("single/part-1-of-1.png"),
	    &out, &olen, why, sizeof(why)), BG_OK);
	assert_int_equal(olen, 100);
	assert_memory_equal(out, b, 100);
	free(out);
	free(b);
}

static void
test_refusals(void **state)
{
	uint8_t *a = random_packet(1300), *b = random_packet(1300), *out = NULL;
	size_t olen;
	char why[BG_QR_WHY_MAX];
	FILE *f;

	(void)state;
	assert_int_equal(bg_qr_write_dir(a, 1300, path("a"), NULL, why,
	    sizeof(why)), BG_OK);
	/* a directory with anything in it */
	assert_int_equal(bg_qr_write_dir(b, 1300, path("a"), NULL, why,
	    sizeof(why)), BG_ERR_EXISTS);
	assert_non_null(strstr(why, "is not empty"));
	assert_int_equal(bg_qr_write_dir(b, 1300, path("b"), NULL, why,
	    sizeof(why)), BG_OK);
	/* a part missing */
	assert_int_equal(unlink(path("a/part-2-of-3.png")), 0);
	assert_int_equal(bg_qr_read_packet(path("a"), &out, &olen, why,
	    sizeof(why)), BG_ERR_INVALID_ARG);
	assert_non_null(strstr(why, "part 2 of 3 of packet"));
	/* another packet's part in its place */
	assert_int_equal(rename(path("b/part-2-of-3.png"),
	    path("a/part-2-of-3.png")), 0);
	assert_int_equal(bg_qr_read_packet(path("a"), &out, &olen, why,
	    sizeof(why)), BG_ERR_INVALID_ARG);
	assert_non_null(strstr(why, "is part of another packet"));
	assert_non_null(strstr(why, "part-2-of-3.png"));
	/* not a PNG */
	assert_non_null(f = fopen(path("a/part-2-of-3.png"), "w"));
	fputs("not an image\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(bg_qr_read_packet(path("a"), &out, &olen, why,
	    sizeof(why)), BG_ERR_PARSE);
	assert_non_null(strstr(why, "is not a readable PNG image"));
	/* no images at all, nothing there */
	assert_int_equal(bg_qr_read_packet(path("a/part-2-of-3.png"), &out,
	    &olen, why, sizeof(why)), BG_ERR_PARSE);
	assert_int_equal(bg_qr_write_dir(a, 1, path("empty-not"), NULL, why,
	    sizeof(why)), BG_OK);
	assert_int_equal(unlink(path("empty-not/part-1-of-1.png")), 0);
	assert_int_equal(bg_qr_read_packet(path("empty-not"), &out, &olen,
	    why, sizeof(why)), BG_ERR_NOT_FOUND);
	assert_non_null(strstr(why, "no *.png images in"));
	assert_int_equal(bg_qr_read_packet(path("nowhere"), &out, &olen, why,
	    sizeof(why)), BG_ERR_NOT_FOUND);
	assert_null(out);
	free(a);
	free(b);
}

static void
test_terminal(void **state)
{
	uint8_t *b = random_packet(700);
	char why[BG_QR_WHY_MAX], line[2048];
	size_t heads = 0, rows = 0;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(bg_qr_print(f, b, 700, false, why, sizeof(why)),
	    BG_OK);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "QR part ", 8) == 0)
			heads++;
		else
			rows++;
	}
	assert_int_equal(heads, 2);
	assert_true(rows > 2 * 20);
	(void)fclose(f);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png_each_kind),
		cmocka_unit_test(test_one_image_file),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_terminal),
	};
	char cmd[600];
	int r;

	if (sodium_init() < 0 || (top = mkdtemp(tmpl)) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
