/*
 * QR parts (qrpart.h): cut a packet into base45 parts, join them back.
 * The parts are transport only: a joined packet goes to the same parser
 * and the same checks as a packet file.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "qrpart.h"

#define ID_BYTES	8u
#define ID_HEX		(2u * ID_BYTES)

static const char b45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

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

size_t
bg_base45_len(size_t len)
{
	return len / 2u * 3u + (len % 2u) * 2u;
}

void
bg_base45_encode(const uint8_t *buf, size_t len, char *out)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 1 < len; i += 2) {
		v = (unsigned)buf[i] * 256u + buf[i + 1];
		out[o++] = b45[v % 45u];
		out[o++] = b45[v / 45u % 45u];
		out[o++] = b45[v / 2025u];
	}
	if (i < len) {
		v = buf[i];
		out[o++] = b45[v % 45u];
		out[o++] = b45[v / 45u];
	}
	out[o] = '\0';
}

static int
b45val(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b45, c)) == NULL)
		return -1;
	return (int)(p - b45);
}

long
bg_base45_decode(const char *s, size_t slen, uint8_t *out)
{
	size_t i, o = 0;
	unsigned long v;
	int a, b, c;

	if (slen % 3u == 1u)
		return -1;
	for (i = 0; i < slen; i += 3) {
		if ((a = b45val(s[i])) < 0 || (b = b45val(s[i + 1])) < 0)
			return -1;
		if (i + 2 < slen) {
			if ((c = b45val(s[i + 2])) < 0)
				return -1;
			v = (unsigned long)a + (unsigned long)b * 45u +
			    (unsigned long)c * 2025u;
			if (v > 0xffffu)
				return -1;
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)(v & 0xffu);
		} else {
			v = (unsigned long)a + (unsigned long)b * 45u;
			if (v > 0xffu)
				return -1;
			out[o++] = (uint8_t)v;
		}
	}
	return (long)o;
}

void
bg_qrparts_free(bg_qrparts_t **pp)
{
	bg_qrparts_t *p;
	size_t i;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->text[i]);
	free(p->text);
	free(p);
	*pp = NULL;
}

static void
packet_id(const uint8_t *buf, size_t len, char hex[ID_HEX + 1])
{
	static const char hx[] = "0123456789ABCDEF";
	uint8_t h[crypto_hash_sha256_BYTES];
	size_t i;

	crypto_hash_sha256(h, buf, len);
	for (i = 0; i < ID_BYTES; i++) {
		hex[2 * i] = hx[h[i] >> 4];
		hex[2 * i + 1] = hx[h[i] & 0x0fu];
	}
	hex[ID_HEX] = '\0';
}

int
bg_qrpart_split(const uint8_t *buf, size_t len, bg_qrparts_t **outp)
{
	bg_qrparts_t *p = NULL;
	char id[ID_HEX + 1], *t = NULL;
	size_t i, off, chunk, hl;
	int hn, r = BG_ERR_NOMEM;

	*outp = NULL;
	if (buf == NULL || len == 0 || len > BG_QRPART_MAX_PACKET)
		return BG_ERR_RANGE;
	packet_id(buf, len, id);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	p->n = (len + BG_QRPART_BYTES - 1u) / BG_QRPART_BYTES;
	if ((p->text = calloc(p->n, sizeof(*p->text))) == NULL) {
		p->n = 0;
		goto out;
	}
	for (i = 0; i < p->n; i++) {
		off = i * BG_QRPART_BYTES;
		chunk = len - off < BG_QRPART_BYTES ? len - off :
		    BG_QRPART_BYTES;
		if ((t = malloc(BG_QRPART_TEXT_MAX + 1u)) == NULL)
			goto out;
		hn = snprintf(t, BG_QRPART_TEXT_MAX + 1u, "%s/%zu/%zu/%s/",
		    BG_QRPART_MAGIC, i + 1u, p->n, id);
		if (hn < 0 || (hl = (size_t)hn) + bg_base45_len(chunk) >
		    BG_QRPART_TEXT_MAX) {
			free(t);
			r = BG_ERR_INTERNAL;
			goto out;
		}
		bg_base45_encode(buf + off, chunk, t + hl);
		p->text[i] = t;
		t = NULL;
	}
	*outp = p;
	p = NULL;	/* transferred */
	r = BG_OK;
out:
	bg_qrparts_free(&p);
	return r;
}

/* A decimal 1..BG_QRPART_MAX_PARTS without leading zeros, ended by '/'. */
static bool
number(const char **sp, const char *end, size_t *v)
{
	const char *s = *sp;
	size_t x = 0;

	if (s >= end || *s < '1' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		x = x * 10u + (size_t)(*s - '0');
		if (x > BG_QRPART_MAX_PARTS)
			return false;
		s++;
	}
	if (s >= end || *s != '/')
		return false;
	*sp = s + 1;
	*v = x;
	return true;
}

struct part {
	size_t		 k, n;
	char		 id[ID_HEX + 1];
	const char	*data;
	size_t		 dlen;
};

static bool
parse_part(const char *t, size_t len, struct part *p)
{
	const char *s = t, *end = t + len;
	size_t i;

	if (len > BG_QRPART_TEXT_MAX || len < 4 ||
	    strncmp(s, BG_QRPART_MAGIC "/", 4) != 0)
		return false;
	s += 4;
	if (!number(&s, end, &p->k) || !number(&s, end, &p->n) ||
	    p->k > p->n || (size_t)(end - s) < ID_HEX + 1u)
		return false;
	for (i = 0; i < ID_HEX; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return false;
		p->id[i] = s[i];
	}
	p->id[ID_HEX] = '\0';
	s += ID_HEX;
	if (*s != '/')
		return false;
	p->data = s + 1;
	p->dlen = (size_t)(end - p->data);
	/* every part but the last carries exactly BG_QRPART_BYTES */
	if (p->k < p->n ? p->dlen != bg_base45_len(BG_QRPART_BYTES) :
	    p->dlen == 0 || p->dlen > bg_base45_len(BG_QRPART_BYTES))
		return false;
	return true;
}

/* names[i] when given, else "input i+1" (1-based), into buf. */
static const char *
label(const char *const *names, size_t i, char *buf, size_t len)
{
	if (names != NULL && names[i] != NULL)
		return names[i];
	(void)snprintf(buf, len, "input %zu", i + 1u);
	return buf;
}

int
bg_qrpart_join(const char *const *texts, const size_t *lens,
    const char *const *names, size_t n, uint8_t **outp, size_t *lenp,
    char *why, size_t whylen)
{
	char lb[32];
	struct part p, first;
	const char **slot = NULL;
	size_t *slen = NULL, i, k, missing = 0, firstmiss = 0, total = 0;
	uint8_t *buf = NULL;
	char id[ID_HEX + 1];
	long got;
	int r = BG_ERR_INVALID_ARG;

	*outp = NULL;
	*lenp = 0;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&first, 0, sizeof(first));
	if (n == 0) {
		say(why, whylen, "no QR parts");
		goto out;
	}
	for (i = 0; i < n; i++) {
		memset(&p, 0, sizeof(p));
		if (memchr(texts[i], '\0', lens[i]) != NULL ||
		    !parse_part(texts[i], lens[i], &p)) {
			say(why, whylen, "%s is not a breakglass QR part "
			    "(BG1/k/n/id/base45 data)", label(names, i, lb,
			    sizeof(lb)));
			r = BG_ERR_PARSE;
			goto out;
		}
		if (i == 0) {
			first = p;
			if ((slot = calloc(p.n, sizeof(*slot))) == NULL ||
			    (slen = calloc(p.n, sizeof(*slen))) == NULL) {
				r = BG_ERR_NOMEM;
				goto out;
			}
		} else if (p.n != first.n || strcmp(p.id, first.id) != 0) {
			say(why, whylen, "%s is part of another packet "
			    "(%s, %zu parts), not of %s (%zu parts): parts of "
			    "two packets are mixed", label(names, i, lb,
			    sizeof(lb)), p.id, p.n, first.id, first.n);
			goto out;
		}
		k = p.k - 1u;
		if (slot[k] != NULL) {
			if (slen[k] != p.dlen ||
			    memcmp(slot[k], p.data, p.dlen) != 0) { /* public: */
				say(why, whylen, "%s: another text for part %zu "
				    "of %zu of packet %s was read already",
				    label(names, i, lb, sizeof(lb)), p.k, p.n,
				    p.id);
				goto out;
			}
			continue;
		}
		slot[k] = p.data;
		slen[k] = p.dlen;
	}
	for (k = 0; k < first.n; k++)
		if (slot[k] == NULL && missing++ == 0)
			firstmiss = k + 1u;
	if (missing > 0) {
		say(why, whylen, "part %zu of %zu of packet %s is missing%s",
		    firstmiss, first.n, first.id, missing > 1 ?
		    " (and more)" : "");
		goto out;
	}
	if ((buf = malloc(first.n * BG_QRPART_BYTES + 1u)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (k = 0; k < first.n; k++) {
		if ((got = bg_base45_decode(slot[k], slen[k], buf + total)) <
		    1 || (k + 1u < first.n && (size_t)got != BG_QRPART_BYTES)) {
			say(why, whylen, "part %zu of %zu of packet %s is not "
			    "valid base45", k + 1u, first.n, first.id);
			r = BG_ERR_PARSE;
			goto out;
		}
		total += (size_t)got;
	}
	buf[total] = '\0';
	packet_id(buf, total, id);
	if (strcmp(id, first.id) != 0) {
		say(why, whylen, "the joined parts do not hash to packet id %s "
		    "(got %s): a part is damaged", first.id, id);
		r = BG_ERR_AUTH;
		goto out;
	}
	*outp = buf;
	*lenp = total;
	buf = NULL;	/* transferred */
	r = BG_OK;
out:
	free(buf);
	free(slot);
	free(slen);
	return r;
}
