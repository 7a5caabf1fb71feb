/*
 * Output helpers for the programs.  Error lines follow one shape,
 * "prog: context: sentence", so that scripts and people can read them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "util.h"

int
bg_cli_exit_code(int r)
{
	switch (r) {
	case BG_OK:
		return BG_EXIT_OK;
	case BG_ERR_TOKEN_PIN_INVALID:
	case BG_ERR_TOKEN_PIN_BLOCKED:
	case BG_ERR_TOKEN_PIN_AUTH_BLOCKED:
	case BG_ERR_TOKEN_PIN_NOT_SET:
	case BG_ERR_TOKEN_PIN_POLICY:
	case BG_ERR_TOKEN_PIN_REQUIRED:
	case BG_ERR_PIN_INPUT:
		return BG_EXIT_PIN;
	case BG_ERR_TOKEN_NOT_FOUND:
	case BG_ERR_TOKEN_IO:
		return BG_EXIT_NOTOKEN;
	default:
		return BG_EXIT_FAIL;
	}
}

void
bg_cli_err(const char *prog, int r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(": ", stderr);
	}
	fprintf(stderr, "%s\n", bg_strerror(r));
}

void
bg_cli_errx(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
bg_cli_token_err(const char *prog, bg_token_t *tok, int r, const char *fmt,
    ...)
{
	va_list ap;
	int left = -1;

	fprintf(stderr, "%s: ", prog);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(": ", stderr);
	}
	if (r == BG_ERR_TOKEN_PIN_INVALID && tok != NULL &&
	    bg_token_pin_retries(tok, &left) == BG_OK && left >= 0) {
		if (left == 0)
			fprintf(stderr, "wrong PIN; %s\n",
			    bg_strerror(BG_ERR_TOKEN_PIN_BLOCKED));
		else
			fprintf(stderr, "wrong PIN, %d %s left\n", left,
			    left == 1 ? "try" : "tries");
		return;
	}
	fprintf(stderr, "%s\n", bg_strerror(r));
}

int
bg_cli_confirm(const char *question)
{
	char line[16];
	size_t len = 0;
	ssize_t n;
	char c;
	int fd = -1, r = BG_ERR_INTERNAL;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = BG_ERR_PIN_INPUT;
		goto out;
	}
	if (write(fd, question, strlen(question)) < 0) {
		r = BG_ERR_PIN_INPUT;
		goto out;
	}
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR) {
			r = BG_ERR_DENIED;
			goto out;
		}
		if (n <= 0 || c == '\n')
			break;
		if (len < sizeof(line) - 1)
			line[len++] = c;
	}
	line[len] = '\0';
	r = strcmp(line, "yes") == 0 ? BG_OK : BG_ERR_DENIED;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

char *
bg_cli_hex(const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = NULL;
	size_t i;

	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	if ((s = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[buf[i] >> 4];
		s[2 * i + 1] = digits[buf[i] & 0x0f];
	}
	s[2 * len] = '\0';
	return s;
}

void
bg_cli_uuid(const uint8_t aaguid[16], char out[37])
{
	static const char digits[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[aaguid[i] >> 4];
		out[o++] = digits[aaguid[i] & 0x0f];
	}
	out[o] = '\0';
}

int
bg_cli_json_print(const json_t *j)
{
	int r = BG_ERR_IO;

	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		goto out;
	if (fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		goto out;
	r = BG_OK;
out:
	return r;
}
