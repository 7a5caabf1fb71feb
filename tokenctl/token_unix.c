/*
 * The "unix:" transport: a CTAPHID device on a UNIX SOCK_SEQPACKET socket,
 * one raw 64-byte report per packet in each direction, no report-id byte.
 * libfido2 drives it through fido_dev_set_io_functions(), so everything
 * above this file is the code path a USB token takes.
 *
 * Reads wake at least every 100 ms to look at the interrupt flag, so that
 * Ctrl-C cancels a wait for a touch.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "token_int.h"

#define REPORT_LEN	64
#define SLICE_MS	100

struct unix_dev {
	int	fd;
};

static void *
unix_open(const char *path)
{
	struct sockaddr_un sa;
	struct unix_dev *u = NULL;
	size_t len;
	int fd = -1;

	if (path == NULL || (len = strlen(path)) == 0 ||
	    len >= sizeof(sa.sun_path))
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto fail;
	u->fd = fd;
	return u;
fail:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void
unix_close(void *handle)
{
	struct unix_dev *u = handle;

	if (u == NULL)
		return;
	close(u->fd);
	free(u);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
unix_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct unix_dev *u = handle;
	struct pollfd pfd;
	unsigned char pkt[REPORT_LEN + 1];
	int64_t deadline = ms < 0 ? -1 : now_ms() + ms, left;
	ssize_t n;
	int slice, pr;

	if (u == NULL || buf == NULL || len != REPORT_LEN)
		return -1;
	for (;;) {
		if (bg_token_interrupted())
			return -1;
		slice = SLICE_MS;
		if (deadline >= 0) {
			if ((left = deadline - now_ms()) <= 0)
				return -1;
			if (left < slice)
				slice = (int)left;
		}
		pfd.fd = u->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, slice);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -1;
		if (pr == 0)
			continue;
		/* One packet is one report; a longer packet is not ours. */
		n = recv(u->fd, pkt, sizeof(pkt), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != REPORT_LEN)
			return -1;
		memcpy(buf, pkt, REPORT_LEN);
		return REPORT_LEN;
	}
}

static int
unix_write(void *handle, const unsigned char *buf, size_t len)
{
	struct unix_dev *u = handle;
	ssize_t n;

	/* libfido2 hands us a report-id byte (0) and then the report. */
	if (u == NULL || buf == NULL || len != REPORT_LEN + 1)
		return -1;
	do {
		n = send(u->fd, buf + 1, REPORT_LEN, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != REPORT_LEN)
		return -1;
	return (int)len;
}

const bg_token_io_t bg_token_unix_io = {
	unix_open,
	unix_close,
	unix_read,
	unix_write,
};
