/*
 * QR parts: a packet file's bytes cut into parts small enough for one QR
 * code each, and joined back (docs/remote-approval.md, "Carrying packets
 * as QR codes").  Store-free and image-free: the codes themselves are
 * drawn and read by cli/qr.c.
 *
 * One part is the text
 *
 *     BG1/<k>/<n>/<id>/<data>
 *
 * k (1..n) and n in decimal without leading zeros, id the first 8 bytes
 * of SHA-256 over the whole packet in upper-case hex (16 characters),
 * data at most BG_QRPART_BYTES bytes of the packet in base45 (RFC 9285).
 * Every character is in the QR alphanumeric set, so a part is encoded in
 * alphanumeric mode (5.5 bits a character, 8.25 bits a packet byte, near
 * binary mode's 8) and reads back as the same text from any scanner,
 * with no binary-mode or character-set guessing.  The id names the
 * packet a part belongs to and catches damage; it is not what makes a
 * packet trusted: the packet's own signatures are checked after the join.
 */
#ifndef BG_QRPART_H
#define BG_QRPART_H

#include <stddef.h>
#include <stdint.h>

#define BG_QRPART_MAGIC		"BG1"
#define BG_QRPART_BYTES		600u	/* packet bytes in one part */
#define BG_QRPART_MAX_PARTS	7000u	/* > 4 MiB / BG_QRPART_BYTES */
#define BG_QRPART_MAX_PACKET	(4u * 1024u * 1024u)
/* the longest part text: header "BG1/7000/7000/<16>/" and 900 chars */
#define BG_QRPART_TEXT_MAX	(4u + 5u + 5u + 17u + 900u)
#define BG_QRPART_WHY_MAX	160

/* Parts of one packet: n texts, each NUL-terminated (malloc'd). */
typedef struct bg_qrparts {
	size_t	  n;
	char	**text;
} bg_qrparts_t;

/*
 * Cut len bytes (1..BG_QRPART_MAX_PACKET) into ceil(len / BG_QRPART_BYTES)
 * parts.  *outp is the caller's (bg_qrparts_free).  BG_OK, BG_ERR_RANGE
 * for an empty or too large packet, BG_ERR_NOMEM.
 */
int bg_qrpart_split(const uint8_t *buf, size_t len, bg_qrparts_t **outp)
    __attribute__((warn_unused_result));

/* Frees the parts and sets *pp to NULL; NULL and *pp == NULL are fine. */
void bg_qrparts_free(bg_qrparts_t **pp);

/*
 * Join n part texts (texts[i] of lens[i] bytes, in any order; a part
 * seen twice with the same text counts once) into the packet they cut.
 * names[i] (names may be NULL: "input i+1") names a text in why.
 * Refused, with one sentence in why: a text that is not a part, parts of
 * two packets, a part missing, two different texts for one part number,
 * a joined packet whose SHA-256 does not start with the id.  On success
 * *outp (malloc'd, NUL-terminated after *lenp bytes) is the caller's.
 * BG_OK, BG_ERR_PARSE (malformed part), BG_ERR_INVALID_ARG (parts that
 * do not make one packet), BG_ERR_AUTH (the id does not match),
 * BG_ERR_NOMEM.
 */
int bg_qrpart_join(const char *const *texts, const size_t *lens,
    const char *const *names, size_t n, uint8_t **outp, size_t *lenp,
    char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Base45 (RFC 9285) of len bytes into out (3 chars per 2 bytes, 2 for
 * an odd last byte, then NUL): out must hold bg_base45_len(len) + 1. */
size_t bg_base45_len(size_t len);
void bg_base45_encode(const uint8_t *buf, size_t len, char *out);
/* Decode slen chars into out (at most slen / 3 * 2 + 1 bytes); the byte
 * count, or -1 for a malformed text. */
long bg_base45_decode(const char *s, size_t slen, uint8_t *out);

#endif
