/*
 * QR codes of packet parts (vault/qrpart.h) for the programs: drawn with
 * libqrencode to PNG (libpng) or to the terminal, read back from PNG
 * images with zbar.  No camera: images only (docs/remote-approval.md).
 * These helpers never print; each failure comes with one sentence in
 * why (at most BG_QR_WHY_MAX bytes).
 */
#ifndef BG_CLI_QR_H
#define BG_CLI_QR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BG_QR_WHY_MAX	256
/* The largest part (BG_QRPART_TEXT_MAX characters) fits this version at
 * error-correction level M: 97 x 97 modules. */
#define BG_QR_VERSION_MAX	20
#define BG_QR_PNG_SCALE		4	/* pixels a module */
#define BG_QR_QUIET		4	/* modules of quiet zone */

/* Texts read from images (malloc'd; bg_qr_texts_free). */
typedef struct bg_qr_texts {
	size_t	  n;
	char	**text;
	size_t	 *len;
} bg_qr_texts_t;

void bg_qr_texts_free(bg_qr_texts_t **tp);

/*
 * Write each part of buf (len bytes) as dir/part-K-of-N.png, K padded to
 * N's width; dir is made (0700) when missing and must otherwise be
 * empty (one packet a directory); no file is overwritten.
 * *nparts (may be NULL) gets the number of images.  BG_OK or an error
 * with why said.
 */
int bg_qr_write_dir(const uint8_t *buf, size_t len, const char *dir,
    size_t *nparts, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Print each part of buf to f as a QR code of UTF-8 half blocks (light
 * modules drawn, for a dark terminal background), with a heading line
 * "QR part K of N".  With pause, and when /dev/tty opens, it waits for
 * Enter there before each next part (one code on the screen at a time).
 * BG_OK or an error with why said.
 */
int bg_qr_print(FILE *f, const uint8_t *buf, size_t len, bool pause,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/*
 * Read the QR codes of path (a PNG image, or a directory whose *.png
 * images are all read) and join the parts into the packet: *outp
 * (malloc'd, NUL-terminated after *lenp bytes) is the caller's.  An image
 * without a readable code, or parts that do not make one packet, are
 * refused with why naming the image or the part.
 */
int bg_qr_read_packet(const char *path, uint8_t **outp, size_t *lenp,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* The codes in one PNG image, appended to *tp (made when NULL). */
int bg_qr_read_png(const char *path, bg_qr_texts_t **tp, char *why,
    size_t whylen) __attribute__((warn_unused_result));

#endif
