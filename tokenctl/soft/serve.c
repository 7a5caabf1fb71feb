/*
 * The socket daemon (serve.h).  Why it is shaped this way:
 *
 * - Single-threaded, one ppoll() loop: the served client, the listening
 *   socket and any clients turned away as busy.  The same loop runs inside
 *   a presence wait (the CTAPHID io.recv hook), so a client that connects
 *   while the token waits for a touch is still answered CHANNEL_BUSY at
 *   once instead of hanging.
 * - SIGTERM/SIGINT are blocked except inside ppoll(), so the stop flag is
 *   seen either before a wait or by the wait's EINTR, never lost.
 * - Replies are sent without blocking for long: a client that stops
 *   reading is dropped after a short grace rather than wedging the token.
 * - The socket is created under umask 0177 so it is 0600 from its first
 *   moment; it is removed at exit only if it is still the one we bound.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "soft/ctaphid.h"
#include "soft/serve.h"

#define REP		BG_CTAPHID_REPORT_LEN
#define MAX_BUSY	8
#define SEND_GRACE_MS	2000

struct srv {
	const bg_soft_serve_opts_t *opts;
	int		 lfd;
	int		 cfd;		/* the served client, or -1 */
	bool		 cdead;		/* cfd failed: close it in the main loop */
	int		 busy[MAX_BUSY];
	size_t		 nbusy;
	bool		 in_request;
	sigset_t	 waitmask;	/* mask inside ppoll: TERM/INT open */
	bg_soft_t	*soft;
	bg_ctaphid_t	*hid;
	uint8_t		 rx[REP];
	bool		 have_rx;
	uint64_t	 touch_asked;	/* when presence was first asked for
					   in this wait (touch_delay_ms) */
};

static void
logf_(const bg_soft_serve_opts_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logf_(const bg_soft_serve_opts_t *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (o->log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->log(o->log_ctx, line);
}

static bool
stopping(const struct srv *s)
{
	return s->opts->stop != NULL && *s->opts->stop != 0;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- state files ------------------------------------------------------ */

int
bg_soft_state_load(const char *path, uint8_t **blobp, size_t *lenp,
    unsigned *modep)
{
	struct stat st;
	uint8_t *blob = NULL;
	size_t len = 0, got = 0;
	ssize_t n;
	int fd = -1;
	int r = BG_ERR_INTERNAL;

	if (blobp == NULL || lenp == NULL)
		return BG_ERR_INVALID_ARG;
	*blobp = NULL;
	*lenp = 0;
	if (modep != NULL)
		*modep = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? BG_ERR_NOT_FOUND :
		    errno == ELOOP ? BG_ERR_DENIED : BG_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = BG_ERR_IO;
		goto out;
	}
	if (modep != NULL)
		*modep = (unsigned)st.st_mode & 07777;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		r = BG_ERR_DENIED;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > BG_SOFT_STATE_MAX) {
		r = BG_ERR_PARSE;
		goto out;
	}
	len = (size_t)st.st_size;
	if ((blob = sodium_malloc(len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	while (got < len) {
		n = read(fd, blob + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = BG_ERR_IO;
			goto out;
		}
		got += (size_t)n;
	}
	*blobp = blob;
	blob = NULL;
	*lenp = len;
	r = 0;
out:
	if (blob != NULL)
		sodium_free(blob);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

static int
fsync_dir(const char *dir)
{
	int fd, r = BG_ERR_IO;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) == 0)
			r = 0;
		(void)close(fd);
	}
	return r;
}

int
bg_soft_state_store(const char *path, const uint8_t *blob, size_t len,
    bool exclusive)
{
	char *pathcopy = NULL, *dir;
	char tmp[4096];
	size_t off = 0;
	ssize_t n;
	int fd = -1, w;
	bool made = false;
	int r = BG_ERR_INTERNAL;

	if (path == NULL || blob == NULL || len == 0)
		return BG_ERR_INVALID_ARG;
	if ((pathcopy = strdup(path)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	dir = dirname(pathcopy);
	w = snprintf(tmp, sizeof(tmp), "%s/.bg-soft-state.XXXXXX", dir);
	if (w < 0 || (size_t)w >= sizeof(tmp)) {
		r = BG_ERR_RANGE;
		goto out;
	}
	/* mkstemp creates mode 0600 */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = BG_ERR_IO;
		goto out;
	}
	made = true;
	while (off < len) {
		n = write(fd, blob + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = BG_ERR_IO;
			goto out;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		r = BG_ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = BG_ERR_IO;
		goto out;
	}
	fd = -1;
	if (exclusive) {
		if (link(tmp, path) != 0) {
			r = errno == EEXIST ? BG_ERR_EXISTS : BG_ERR_IO;
			goto out;
		}
		(void)unlink(tmp);
		made = false;
	} else {
		if (rename(tmp, path) != 0) {
			r = BG_ERR_IO;
			goto out;
		}
		made = false;
	}
	r = fsync_dir(dir);
out:
	if (fd >= 0)
		(void)close(fd);
	if (made)
		(void)unlink(tmp);
	free(pathcopy);
	return r;
}

/* --- the socket ------------------------------------------------------- */

static int
fill_addr(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);
	int r = BG_ERR_RANGE;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n > 0 && n < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, n + 1);
		r = 0;
	}
	return r;
}

/* Remove path if it is a socket nobody listens on; refuse anything else. */
static int
clear_stale(const char *path, const char **why)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd = -1;
	int r = BG_ERR_INTERNAL;

	if (lstat(path, &st) != 0) {
		r = errno == ENOENT ? 0 : BG_ERR_IO;
		goto out;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*why = "the socket path exists and is not a socket";
		r = BG_ERR_EXISTS;
		goto out;
	}
	if ((r = fill_addr(&sa, path)) != 0)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		r = BG_ERR_IO;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		*why = "another process is serving on the socket path";
		r = BG_ERR_EXISTS;
		goto out;
	}
	if (errno != ECONNREFUSED) {
		*why = "the socket path exists and could not be checked";
		r = BG_ERR_EXISTS;
		goto out;
	}
	if (unlink(path) != 0) {
		r = BG_ERR_IO;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	return r;
}

static int
listen_on(const char *path, int *fdp, struct stat *st, const char **why)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd = -1, rc;
	int r = BG_ERR_INTERNAL;

	*fdp = -1;
	if ((r = fill_addr(&sa, path)) != 0) {
		*why = "the socket path is too long";
		goto out;
	}
	if ((r = clear_stale(path, why)) != 0)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		r = BG_ERR_IO;
		goto out;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)umask(old);
	if (rc != 0) {
		*why = "could not bind the socket";
		r = errno == EADDRINUSE ? BG_ERR_EXISTS : BG_ERR_IO;
		goto out;
	}
	if (chmod(path, 0600) != 0 || lstat(path, st) != 0 ||
	    listen(fd, 8) != 0) {
		*why = "could not listen on the socket";
		(void)unlink(path);
		r = BG_ERR_IO;
		goto out;
	}
	*fdp = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	return r;
}

static void
remove_if_ours(const char *path, const struct stat *ours)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == ours->st_dev &&
	    st.st_ino == ours->st_ino)
		(void)unlink(path);
}

/* --- reports ---------------------------------------------------------- */

static int
send_to(int fd, const uint8_t *rep)
{
	struct pollfd p;
	ssize_t n;
	uint64_t until = mono_ms() + SEND_GRACE_MS, t;
	int r = BG_ERR_IO;

	for (;;) {
		n = send(fd, rep, REP, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == REP) {
			r = 0;
			break;
		}
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			break;
		if ((t = mono_ms()) >= until)
			break;
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		(void)poll(&p, 1, (int)(until - t));
	}
	return r;
}

static void
busy_reply(int fd, const uint8_t *rep)
{
	uint8_t out[REP];

	memset(out, 0, sizeof(out));
	memcpy(out, rep, 4);
	out[4] = 0x80 | BG_CTAPHID_ERROR;
	out[6] = 1;
	out[7] = BG_CTAPHID_ERR_CHANNEL_BUSY;
	(void)send_to(fd, out);
}

/* Read one packet; 1: a 64-byte report, 0: dropped, <0: connection gone. */
static int
read_packet(struct srv *s, int fd, uint8_t *rep)
{
	uint8_t buf[REP + 1];
	ssize_t n;
	int r = 0;

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		r = 0;
	else if (n <= 0)
		r = BG_ERR_IO;		/* EOF or error: the client is gone */
	else if (n != REP)
		logf_(s->opts, "soft token: dropped a packet of %zd bytes "
		    "(reports are 64 bytes)", n);
	else {
		memcpy(rep, buf, REP);
		r = 1;
	}
	sodium_memzero(buf, sizeof(buf));
	return r;
}

static void
close_busy(struct srv *s, size_t i)
{
	(void)close(s->busy[i]);
	s->busy[i] = s->busy[--s->nbusy];
}

static void
drop_client(struct srv *s)
{
	if (s->cfd >= 0)
		(void)close(s->cfd);
	s->cfd = -1;
	s->cdead = false;
	s->have_rx = false;
}

static void
take_client(struct srv *s, int fd)
{
	s->cfd = fd;
	s->cdead = false;
	/* a new connection is plugging the token in */
	bg_soft_power_cycle(s->soft);
	bg_ctaphid_reset(s->hid);
}

static void
accept_one(struct srv *s)
{
	int fd;

	if (s->cdead && !s->in_request)
		drop_client(s);		/* its hang-up came with this accept */
	fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		/* nothing to do: the client gave up already */
	} else if (s->cfd < 0 && !s->in_request)
		take_client(s, fd);
	else if (s->nbusy < MAX_BUSY)
		s->busy[s->nbusy++] = fd;
	else {
		logf_(s->opts, "soft token: turned away a client: too many "
		    "connections");
		(void)close(fd);
	}
}

/*
 * One wait of at most ms (-1: forever) on every socket.  Accepts and
 * answers busy clients itself; a report from the served client is left in
 * s->rx (s->have_rx).  Returns <0 when asked to stop.
 */
static int
pump(struct srv *s, int ms)
{
	struct pollfd p[2 + MAX_BUSY];
	struct timespec ts, *tsp = NULL;
	uint8_t rep[REP];
	size_t np = 0, i, nb;
	int n, rr, ci = -1, li = -1;
	int r = BG_ERR_STATE;

	if (stopping(s))
		goto out;
	if (s->cfd >= 0 && !s->cdead) {
		ci = (int)np;
		p[np].fd = s->cfd;
		p[np++].events = POLLIN;
	}
	/* while a request runs for a client that left, new ones wait */
	if ((s->cfd >= 0 && !s->cdead) || !s->in_request) {
		li = (int)np;
		p[np].fd = s->lfd;
		p[np++].events = POLLIN;
	}
	nb = s->nbusy;
	for (i = 0; i < nb; i++) {
		p[np].fd = s->busy[i];
		p[np++].events = POLLIN;
	}
	for (i = 0; i < np; i++)
		p[i].revents = 0;
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		tsp = &ts;
	}
	n = ppoll(p, (nfds_t)np, tsp, &s->waitmask);
	if (n < 0) {
		r = stopping(s) ? BG_ERR_STATE : 0;
		goto out;
	}
	/* busy clients, from the back so close_busy() keeps indices valid */
	for (i = nb; i-- > 0;) {
		struct pollfd *q = &p[np - nb + i];

		if (q->revents == 0)
			continue;
		rr = read_packet(s, q->fd, rep);
		if (rr > 0)
			busy_reply(q->fd, rep);
		else if (rr < 0 || (q->revents & (POLLHUP | POLLERR)))
			close_busy(s, i);
	}
	if (ci >= 0 && p[ci].revents != 0) {
		rr = read_packet(s, s->cfd, s->rx);
		if (rr > 0)
			s->have_rx = true;
		else if (rr < 0)
			s->cdead = true;
	}
	if (li >= 0 && (p[li].revents & POLLIN))
		accept_one(s);
	r = 0;
out:
	sodium_memzero(rep, sizeof(rep));
	return r;
}

/* --- CTAPHID and core callbacks --------------------------------------- */

static int
srv_send(void *ctx, const uint8_t *rep)
{
	struct srv *s = ctx;
	int r = BG_ERR_IO;

	if (s->cfd >= 0 && !s->cdead) {
		if ((r = send_to(s->cfd, rep)) != 0)
			s->cdead = true;
	}
	return r;
}

static int
srv_recv(void *ctx, uint8_t *rep, int ms)
{
	struct srv *s = ctx;
	uint64_t until = mono_ms() + (uint64_t)(ms < 0 ? 0 : ms), t;
	int r = 0;

	for (;;) {
		if (s->cfd < 0 || s->cdead) {
			r = BG_ERR_IO;		/* the client left mid-wait */
			break;
		}
		t = mono_ms();
		if (pump(s, t >= until ? 0 : (int)(until - t)) < 0) {
			r = BG_ERR_STATE;	/* asked to stop */
			break;
		}
		if (s->have_rx) {
			memcpy(rep, s->rx, REP);
			sodium_memzero(s->rx, REP);
			s->have_rx = false;
			r = 1;
			break;
		}
		if (mono_ms() >= until)
			break;
	}
	return r;
}

static uint64_t
srv_now(void *ctx)
{
	(void)ctx;
	return mono_ms();
}

static int
srv_policy(void *ctx)
{
	struct srv *s = ctx;
	uint64_t t;

	if (s->opts->no_presence)
		return BG_CTAPHID_UP_PENDING;
	if (s->opts->touch_delay_ms == 0)
		return BG_SOFT_UP_GRANTED;
	/* A person's touch: pending until the delay has passed since the
	 * wait began, then granted and the clock reset for the next one. */
	t = mono_ms();
	if (s->touch_asked == 0)
		s->touch_asked = t;
	if (t - s->touch_asked < s->opts->touch_delay_ms)
		return BG_CTAPHID_UP_PENDING;
	s->touch_asked = 0;
	return BG_SOFT_UP_GRANTED;
}

static void
srv_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

static int
srv_save(void *ctx, const uint8_t *blob, size_t len)
{
	struct srv *s = ctx;
	int r;

	if ((r = bg_soft_state_store(s->opts->state_path, blob, len,
	    false)) != 0)
		logf_(s->opts, "soft token: could not save the token state "
		    "to %s: %s", s->opts->state_path, bg_strerror(r));
	return r;
}

static int
srv_presence(void *ctx)
{
	struct srv *s = ctx;

	return bg_ctaphid_presence(s->hid);
}

static int
srv_cbor(void *ctx, const uint8_t *req, size_t len, uint8_t *resp,
    size_t cap, size_t *resp_len)
{
	struct srv *s = ctx;

	return bg_soft_ctap2(s->soft, req, len, resp, cap, resp_len);
}

/* --- the loop --------------------------------------------------------- */

int
bg_soft_serve(const bg_soft_serve_opts_t *opts, const uint8_t *blob,
    size_t len, const char **why)
{
	struct srv s;
	struct stat ours;
	bg_soft_env_t env;
	bg_ctaphid_io_t io;
	sigset_t block, old;
	uint8_t seed[4];
	bool masked = false, listening = false;
	const char *dummy;
	int ms, rr;
	int r = BG_ERR_INTERNAL;

	if (why == NULL)
		why = &dummy;
	*why = "internal error";
	memset(&s, 0, sizeof(s));
	s.lfd = s.cfd = -1;
	s.opts = opts;
	if (opts == NULL || opts->state_path == NULL ||
	    opts->socket_path == NULL || blob == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (sodium_init() < 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, &old) != 0) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	masked = true;
	s.waitmask = old;
	sigdelset(&s.waitmask, SIGTERM);
	sigdelset(&s.waitmask, SIGINT);

	memset(&io, 0, sizeof(io));
	io.send = srv_send;
	io.recv = srv_recv;
	io.now_ms = srv_now;
	io.policy = srv_policy;
	io.ctx = &s;
	if ((r = bg_ctaphid_new(&io, srv_cbor, &s, &s.hid)) != 0)
		goto out;
	bg_ctaphid_set_up_timeout(s.hid, opts->up_timeout_ms);
	/* unpredictable channel ids, as a USB token would hand out */
	randombytes_buf(seed, sizeof(seed));
	bg_ctaphid_set_next_cid(s.hid, ((uint32_t)seed[0] << 24 |
	    (uint32_t)seed[1] << 16 | (uint32_t)seed[2] << 8 | seed[3]) &
	    0x7fffffffu);

	memset(&env, 0, sizeof(env));
	env.random = srv_random;
	env.save = srv_save;
	env.now_ms = srv_now;
	env.presence = srv_presence;
	env.ctx = &s;
	if ((r = bg_soft_new(&env, &opts->soft, blob, len, &s.soft)) != 0) {
		*why = "the token state is not valid";
		goto out;
	}

	if ((r = listen_on(opts->socket_path, &s.lfd, &ours, why)) != 0)
		goto out;
	listening = true;
	logf_(opts, "soft token ready on unix:%s", opts->socket_path);

	while (!stopping(&s)) {
		if (s.cdead)
			drop_client(&s);
		ms = s.cfd >= 0 ? bg_ctaphid_tick(s.hid) : -1;
		if (pump(&s, ms) < 0)
			break;
		if (s.have_rx) {
			s.have_rx = false;
			s.in_request = true;
			rr = bg_ctaphid_input(s.hid, s.rx);
			s.in_request = false;
			sodium_memzero(s.rx, sizeof(s.rx));
			if (rr != 0)
				s.cdead = true;
		}
		if (s.cfd >= 0 && !s.cdead)
			(void)bg_ctaphid_tick(s.hid);
	}
	r = 0;
out:
	drop_client(&s);
	while (s.nbusy > 0)
		close_busy(&s, 0);
	if (s.lfd >= 0)
		(void)close(s.lfd);
	if (listening)
		remove_if_ours(opts->socket_path, &ours);
	bg_soft_free(&s.soft);
	bg_ctaphid_free(&s.hid);
	if (masked)
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (r == 0)
		*why = NULL;
	return r;
}
