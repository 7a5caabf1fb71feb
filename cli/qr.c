/*
 * QR codes of packet parts (qr.h): libqrencode draws, libpng writes and
 * reads images, zbar finds the codes.  Each foreign error is turned into
 * one sentence here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>
#include <zbar.h>

#include "breakglass/err.h"
#include "qr.h"
#include "qrpart.h"

#define PNG_SIDE_MAX	8192u	/* pixels; larger images are refused */
#define DIR_FILES_MAX	BG_QRPART_MAX_PARTS

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void
bg_qr_texts_free(bg_qr_texts_t **tp)
{
	bg_qr_texts_t *t;
	size_t i;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->text[i]);
	free(t->text);
	free(t->len);
	free(t);
	*tp = NULL;
}

/* One part as a QR code at level M; NULL with why said. */
static QRcode *
encode(const char *text, char *why, size_t whylen)
{
	QRcode *q;

	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) ==
	    NULL) {
		say(why, whylen, "cannot make a QR code of a part: %s",
		    strerror(errno));
		return NULL;
	}
	if (q->version > BG_QR_VERSION_MAX) {
		say(why, whylen, "a part needs QR version %d, above %d",
		    q->version, BG_QR_VERSION_MAX);
		QRcode_free(q);
		return NULL;
	}
	return q;
}

static bool
dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return (q->data[(size_t)y * (size_t)q->width + (size_t)x] & 1u) != 0;
}

static int
write_png(const QRcode *q, const char *path, char *why, size_t whylen)
{
	png_image img;
	uint8_t *px = NULL;
	size_t side, x, y;
	FILE *f = NULL;
	int fd = -1, r = BG_ERR_IO;

	side = (size_t)(q->width + 2 * BG_QR_QUIET) * BG_QR_PNG_SCALE;
	if ((px = malloc(side * side)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++)
			px[y * side + x] = dark(q,
			    (int)(x / BG_QR_PNG_SCALE) - BG_QR_QUIET,
			    (int)(y / BG_QR_PNG_SCALE) - BG_QR_QUIET) ? 0 : 255;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		say(why, whylen, "%s %s", path, errno == EEXIST ?
		    "already exists; refusing to overwrite it" :
		    strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "wb")) == NULL) {
		say(why, whylen, "writing %s: %s", path, strerror(errno));
		(void)close(fd);
		(void)unlink(path);
		goto out;
	}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)side;
	img.height = (png_uint_32)side;
	img.format = PNG_FORMAT_GRAY;
	if (png_image_write_to_stdio(&img, f, 0, px, (png_int_32)side,
	    NULL) == 0) {
		say(why, whylen, "writing %s: %s", path, img.message);
		png_image_free(&img);
		goto fail;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		say(why, whylen, "writing %s: %s", path, strerror(errno));
		goto fail;
	}
	r = BG_OK;
fail:
	if (fclose(f) != 0 && r == BG_OK) {
		say(why, whylen, "writing %s: %s", path, strerror(errno));
		r = BG_ERR_IO;
	}
	if (r != BG_OK)
		(void)unlink(path);
out:
	free(px);
	return r;
}

static bool
dir_empty(const char *dir)
{
	struct dirent *de;
	DIR *d;
	bool empty = true;

	if ((d = opendir(dir)) == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	(void)closedir(d);
	return empty;
}

int
bg_qr_write_dir(const uint8_t *buf, size_t len, const char *dir,
    size_t *nparts, char *why, size_t whylen)
{
	bg_qrparts_t *p = NULL;
	QRcode *q = NULL;
	struct stat sb;
	char *path = NULL;
	size_t i;
	int w, r;

	if (nparts != NULL)
		*nparts = 0;
	if ((r = bg_qrpart_split(buf, len, &p)) != BG_OK) {
		say(why, whylen, "cannot cut the packet into QR parts: %s",
		    bg_strerror(r));
		goto out;
	}
	r = BG_ERR_IO;
	if (mkdir(dir, 0700) != 0 && (errno != EEXIST || stat(dir, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode))) {
		say(why, whylen, "cannot make the directory %s: %s", dir,
		    errno == EEXIST ? "not a directory" : strerror(errno));
		goto out;
	}
	/* one packet a directory: its images are read back as one packet */
	if (!dir_empty(dir)) {
		say(why, whylen, "%s already exists and is not empty; refusing "
		    "to mix two packets' images in it", dir);
		r = BG_ERR_EXISTS;
		goto out;
	}
	w = snprintf(NULL, 0, "%zu", p->n);
	for (i = 0; i < p->n; i++) {
		if ((q = encode(p->text[i], why, whylen)) == NULL)
			goto out;
		if (asprintf(&path, "%s/part-%0*zu-of-%zu.png", dir, w, i + 1u,
		    p->n) < 0) {
			path = NULL;
			r = BG_ERR_NOMEM;
			goto out;
		}
		if ((r = write_png(q, path, why, whylen)) != BG_OK)
			goto out;
		QRcode_free(q);
		q = NULL;
		free(path);
		path = NULL;
	}
	if (nparts != NULL)
		*nparts = p->n;
	r = BG_OK;
out:
	if (q != NULL)
		QRcode_free(q);
	free(path);
	bg_qrparts_free(&p);
	return r;
}

/* Wait for a line on tty (never the PIN's terminal settings: echo on). */
static void
wait_enter(FILE *tty, FILE *f, size_t next, size_t n)
{
	int c;

	fprintf(f, "Press Enter for part %zu of %zu.", next, n);
	(void)fflush(f);
	while ((c = fgetc(tty)) != EOF && c != '\n')
		;
	fputc('\n', f);
}

int
bg_qr_print(FILE *f, const uint8_t *buf, size_t len, bool pause, char *why,
    size_t whylen)
{
	FILE *tty = NULL;
	/* light modules are drawn: [top light][bottom light] */
	static const char *const cell[2][2] = {
		{ " ", "\xe2\x96\x84" },		/* dark top: ▄ or blank */
		{ "\xe2\x96\x80", "\xe2\x96\x88" },	/* light top: ▀ or █ */
	};
	bg_qrparts_t *p = NULL;
	QRcode *q = NULL;
	size_t i;
	int x, y, r;

	if ((r = bg_qrpart_split(buf, len, &p)) != BG_OK) {
		say(why, whylen, "cannot cut the packet into QR parts: %s",
		    bg_strerror(r));
		goto out;
	}
	if (pause && p->n > 1)
		tty = fopen("/dev/tty", "re");
	for (i = 0; i < p->n; i++) {
		if ((q = encode(p->text[i], why, whylen)) == NULL) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if (i > 0 && tty != NULL)
			wait_enter(tty, f, i + 1u, p->n);
		fprintf(f, "QR part %zu of %zu:\n", i + 1u, p->n);
		for (y = -BG_QR_QUIET; y < q->width + BG_QR_QUIET; y += 2) {
			for (x = -BG_QR_QUIET; x < q->width + BG_QR_QUIET; x++)
				fputs(cell[!dark(q, x, y)][!dark(q, x, y + 1)],
				    f);
			fputc('\n', f);
		}
		QRcode_free(q);
		q = NULL;
	}
	if (fflush(f) != 0 || ferror(f)) {
		say(why, whylen, "cannot print the QR codes: %s",
		    strerror(errno));
		r = BG_ERR_IO;
		goto out;
	}
	r = BG_OK;
out:
	if (tty != NULL)
		(void)fclose(tty);
	if (q != NULL)
		QRcode_free(q);
	bg_qrparts_free(&p);
	return r;
}

static int
texts_add(bg_qr_texts_t *t, const char *s, size_t len)
{
	char **nt;
	size_t *nl;
	char *c;

	if ((c = malloc(len + 1u)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	if ((nt = realloc(t->text, (t->n + 1u) * sizeof(*nt))) == NULL) {
		free(c);
		return BG_ERR_NOMEM;
	}
	t->text = nt;
	if ((nl = realloc(t->len, (t->n + 1u) * sizeof(*nl))) == NULL) {
		free(c);
		return BG_ERR_NOMEM;
	}
	t->len = nl;
	t->text[t->n] = c;
	t->len[t->n] = len;
	t->n++;
	return BG_OK;
}

int
bg_qr_read_png(const char *path, bg_qr_texts_t **tp, char *why,
    size_t whylen)
{
	png_image img;
	zbar_image_scanner_t *sc = NULL;
	zbar_image_t *zi = NULL;
	const zbar_symbol_t *sym;
	bg_qr_texts_t *t = *tp;
	uint8_t *px = NULL;
	size_t found = 0;
	int r = BG_ERR_PARSE;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (t == NULL && (t = calloc(1, sizeof(*t))) == NULL)
		return BG_ERR_NOMEM;
	if (png_image_begin_read_from_file(&img, path) == 0) {
		say(why, whylen, "%s is not a readable PNG image: %s", path,
		    img.message);
		goto out;
	}
	if (img.width == 0 || img.height == 0 || img.width > PNG_SIDE_MAX ||
	    img.height > PNG_SIDE_MAX) {
		say(why, whylen, "%s: %ux%u pixels, more than %u a side", path,
		    img.width, img.height, PNG_SIDE_MAX);
		goto out;
	}
	img.format = PNG_FORMAT_GRAY;
	if ((px = malloc(PNG_IMAGE_SIZE(img))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (png_image_finish_read(&img, NULL, px, 0, NULL) == 0) {
		say(why, whylen, "%s is not a readable PNG image: %s", path,
		    img.message);
		goto out;
	}
	if ((sc = zbar_image_scanner_create()) == NULL ||
	    (zi = zbar_image_create()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	(void)zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	(void)zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE,
	    1);
	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, img.width, img.height);
	zbar_image_set_data(zi, px, (unsigned long)img.width * img.height,
	    NULL);
	if (zbar_scan_image(sc, zi) < 0) {
		say(why, whylen, "%s: the QR reader failed", path);
		goto out;
	}
	for (sym = zbar_image_first_symbol(zi); sym != NULL;
	    sym = zbar_symbol_next(sym)) {
		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
			continue;
		if ((r = texts_add(t, zbar_symbol_get_data(sym),
		    zbar_symbol_get_data_length(sym))) != BG_OK)
			goto out;
		found++;
	}
	if (found == 0) {
		say(why, whylen, "no QR code found in %s", path);
		r = BG_ERR_NOT_FOUND;
		goto out;
	}
	*tp = t;
	t = NULL;	/* transferred (or it was the caller's) */
	r = BG_OK;
out:
	if (zi != NULL)
		zbar_image_destroy(zi);
	if (sc != NULL)
		zbar_image_scanner_destroy(sc);
	png_image_free(&img);
	free(px);
	if (t != NULL && t != *tp)
		bg_qr_texts_free(&t);
	return r;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_png_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && l > 4 && strcmp(n + l - 4, ".png") == 0;
}

int
bg_qr_read_packet(const char *path, uint8_t **outp, size_t *lenp,
    char *why, size_t whylen)
{
	bg_qr_texts_t *t = NULL;
	struct stat sb;
	struct dirent *de;
	DIR *d = NULL;
	char **files = NULL, **nf, **names = NULL;
	size_t nfiles = 0, i, j, before;
	int r = BG_ERR_IO;

	*outp = NULL;
	*lenp = 0;
	if (stat(path, &sb) != 0) {
		say(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return errno == ENOENT ? BG_ERR_NOT_FOUND : BG_ERR_IO;
	}
	if (S_ISDIR(sb.st_mode)) {
		if ((d = opendir(path)) == NULL) {
			say(why, whylen, "cannot open %s: %s", path,
			    strerror(errno));
			goto out;
		}
		while ((de = readdir(d)) != NULL) {
			if (!is_png_name(de->d_name))
				continue;
			if (nfiles >= DIR_FILES_MAX) {
				say(why, whylen, "%s: more than %u images",
				    path, DIR_FILES_MAX);
				r = BG_ERR_RANGE;
				goto out;
			}
			if ((nf = realloc(files, (nfiles + 1u) *
			    sizeof(*nf))) == NULL) {
				r = BG_ERR_NOMEM;
				goto out;
			}
			files = nf;
			if (asprintf(&files[nfiles], "%s/%s", path,
			    de->d_name) < 0) {
				r = BG_ERR_NOMEM;
				goto out;
			}
			nfiles++;
		}
		if (nfiles == 0) {
			say(why, whylen, "no *.png images in %s", path);
			r = BG_ERR_NOT_FOUND;
			goto out;
		}
		qsort(files, nfiles, sizeof(*files), by_name);
	} else {
		if ((files = calloc(1, sizeof(*files))) == NULL ||
		    (files[0] = strdup(path)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		nfiles = 1;
	}
	for (i = 0; i < nfiles; i++) {
		before = t == NULL ? 0 : t->n;
		if ((r = bg_qr_read_png(files[i], &t, why, whylen)) != BG_OK)
			goto out;
		if ((nf = realloc(names, t->n * sizeof(*nf))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		names = nf;
		for (j = before; j < t->n; j++)
			names[j] = files[i];
	}
	r = bg_qrpart_join((const char *const *)t->text, t->len,
	    (const char *const *)names, t->n, outp, lenp, why, whylen);
out:
	if (d != NULL)
		(void)closedir(d);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(names);
	bg_qr_texts_free(&t);
	return r;
}
