/*
 * In-process software token (see inproc.h).  Why it is shaped this way:
 *
 * - libfido2 is single-threaded per device and drives a token by writing a
 *   whole request and then reading, so processing in write() and queueing
 *   the replies is exactly what it expects; the queue is unbounded because
 *   a presence wait queues one KEEPALIVE per 100 ms until read() runs.
 * - The only concurrency is a second thread's write() (fido_dev_cancel())
 *   while the first thread's write() sits in a presence wait: that report
 *   goes to an inbox that the wait reads through the CTAPHID io.recv hook.
 *   One mutex guards the queues; the core and framing are only ever run by
 *   the thread that owns "processing".
 * - Paths map back to instances through a process-wide registry so that a
 *   plain fido_dev_open(dev, "inproc:N") works.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fido.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "soft/ctaphid.h"
#include "soft/inproc.h"

#define REP	BG_CTAPHID_REPORT_LEN
#define INBOX	32

struct bg_soft_inproc {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;

	bg_soft_t	*soft;
	bg_ctaphid_t	*hid;
	bg_soft_inproc_opts_t opts;
	int		 presence;

	uint8_t		*state;		/* sodium_malloc */
	size_t		 state_len;
	unsigned long	 saves;

	uint8_t		(*out)[REP];	/* queued replies */
	size_t		 out_head, out_n, out_cap;
	uint8_t		 inbox[INBOX][REP];
	size_t		 in_head, in_n;
	bool		 processing;

	bg_soft_inproc_tamper_fn tamper;
	void		*tamper_ctx;
	unsigned long	 sent;
	unsigned long	 keepalives;	/* counted here, under mu, so another
					   thread may watch them */

	char		 path[32];
	struct bg_soft_inproc *next;	/* registry */
};

struct handle {
	bg_soft_inproc_t *ip;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static bg_soft_inproc_t *reg_head;
static unsigned long reg_serial;

/* --- callbacks of the core and the framing ---------------------------- */

static void
default_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

static void
ip_random(void *ctx, uint8_t *buf, size_t len)
{
	bg_soft_inproc_t *ip = ctx;

	ip->opts.random(ip->opts.random_ctx, buf, len);
}

static uint64_t
ip_now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
ip_save(void *ctx, const uint8_t *blob, size_t len)
{
	bg_soft_inproc_t *ip = ctx;
	uint8_t *copy = NULL;
	int r = BG_ERR_INTERNAL;

	if (len == 0 || (copy = sodium_malloc(len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, blob, len);
	pthread_mutex_lock(&ip->mu);
	sodium_free(ip->state);
	ip->state = copy;
	copy = NULL;
	ip->state_len = len;
	ip->saves++;
	pthread_mutex_unlock(&ip->mu);
	r = 0;
out:
	sodium_free(copy);
	return r;
}

static int
ip_presence(void *ctx)
{
	bg_soft_inproc_t *ip = ctx;

	return bg_ctaphid_presence(ip->hid);
}

static int
ip_policy(void *ctx)
{
	bg_soft_inproc_t *ip = ctx;
	int p;

	pthread_mutex_lock(&ip->mu);
	p = ip->presence;
	pthread_mutex_unlock(&ip->mu);
	return p == BG_SOFT_INPROC_GRANT ? BG_SOFT_UP_GRANTED :
	    p == BG_SOFT_INPROC_DENY ? BG_SOFT_UP_DENIED :
	    BG_CTAPHID_UP_PENDING;
}

static int
ip_send(void *ctx, const uint8_t report[REP])
{
	bg_soft_inproc_t *ip = ctx;
	uint8_t (*grown)[REP];
	size_t cap;
	int r = BG_ERR_INTERNAL;

	pthread_mutex_lock(&ip->mu);
	ip->sent++;
	if (report[4] == (0x80 | BG_CTAPHID_KEEPALIVE))
		ip->keepalives++;
	if (ip->out_head > 0 && ip->out_head == ip->out_n)
		ip->out_head = ip->out_n = 0;
	if (ip->out_n == ip->out_cap) {
		cap = ip->out_cap ? ip->out_cap * 2 : 64;
		if ((grown = reallocarray(ip->out, cap, REP)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		ip->out = grown;
		ip->out_cap = cap;
	}
	memcpy(ip->out[ip->out_n], report, REP);
	if (ip->tamper != NULL &&
	    !ip->tamper(ip->tamper_ctx, ip->out[ip->out_n])) {
		r = 0;		/* dropped by the test */
		goto out;
	}
	ip->out_n++;
	pthread_cond_broadcast(&ip->cv);
	r = 0;
out:
	pthread_mutex_unlock(&ip->mu);
	return r;
}

static void
deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* The presence wait's view of the host: reports other threads wrote. */
static int
ip_recv(void *ctx, uint8_t report[REP], int ms)
{
	bg_soft_inproc_t *ip = ctx;
	struct timespec ts;
	int r = 0;

	deadline_in(&ts, ms < 0 ? 0 : ms);
	pthread_mutex_lock(&ip->mu);
	while (ip->in_n == 0) {
		if (pthread_cond_timedwait(&ip->cv, &ip->mu, &ts) != 0)
			break;
	}
	if (ip->in_n > 0) {
		memcpy(report, ip->inbox[ip->in_head], REP);
		sodium_memzero(ip->inbox[ip->in_head], REP);
		ip->in_head = (ip->in_head + 1) % INBOX;
		ip->in_n--;
		r = 1;
	}
	pthread_mutex_unlock(&ip->mu);
	return r;
}

static int
ip_cbor(void *ctx, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	bg_soft_inproc_t *ip = ctx;

	return bg_soft_ctap2(ip->soft, req, len, resp, cap, resp_len);
}

/* --- lifetime --------------------------------------------------------- */

int
bg_soft_inproc_new(const bg_soft_inproc_opts_t *opts, const uint8_t *blob,
    size_t len, bg_soft_inproc_t **ipp)
{
	bg_soft_inproc_t *ip = NULL;
	bg_soft_env_t env;
	bg_ctaphid_io_t io;
	pthread_condattr_t ca;
	uint8_t *fresh = NULL;
	size_t fresh_len = 0;
	int r = BG_ERR_INTERNAL;

	if (ipp == NULL)
		return BG_ERR_INVALID_ARG;
	*ipp = NULL;
	if (sodium_init() < 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	if ((ip = calloc(1, sizeof(*ip))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_init(&ip->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ip->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (opts != NULL)
		ip->opts = *opts;
	if (ip->opts.random == NULL)
		ip->opts.random = default_random;
	ip->presence = ip->opts.presence;

	if (blob == NULL) {
		if ((r = bg_soft_state_create(ip->opts.random,
		    ip->opts.random_ctx, &fresh, &fresh_len)) != 0)
			goto out;
		blob = fresh;
		len = fresh_len;
	}
	if (len == 0 || (ip->state = sodium_malloc(len)) == NULL) {
		r = len == 0 ? BG_ERR_INVALID_ARG : BG_ERR_NOMEM;
		goto out;
	}
	memcpy(ip->state, blob, len);
	ip->state_len = len;

	memset(&io, 0, sizeof(io));
	io.send = ip_send;
	io.recv = ip_recv;
	io.now_ms = ip_now_ms;
	io.policy = ip_policy;
	io.ctx = ip;
	if ((r = bg_ctaphid_new(&io, ip_cbor, ip, &ip->hid)) != 0)
		goto out;
	bg_ctaphid_set_up_timeout(ip->hid, ip->opts.up_timeout_ms);

	memset(&env, 0, sizeof(env));
	env.random = ip_random;
	env.save = ip_save;
	env.now_ms = ip_now_ms;
	env.presence = ip_presence;
	env.ctx = ip;
	if ((r = bg_soft_new(&env, &ip->opts.soft, blob, len, &ip->soft)) != 0)
		goto out;

	pthread_mutex_lock(&reg_mu);
	(void)snprintf(ip->path, sizeof(ip->path), "%s%lu",
	    BG_SOFT_INPROC_PREFIX, ++reg_serial);
	ip->next = reg_head;
	reg_head = ip;
	pthread_mutex_unlock(&reg_mu);

	*ipp = ip;
	ip = NULL;
	r = 0;
out:
	if (fresh != NULL)
		sodium_free(fresh);
	bg_soft_inproc_free(&ip);
	return r;
}

void
bg_soft_inproc_free(bg_soft_inproc_t **ipp)
{
	bg_soft_inproc_t *ip, **pp;

	if (ipp == NULL || (ip = *ipp) == NULL)
		return;
	pthread_mutex_lock(&reg_mu);
	for (pp = &reg_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ip) {
			*pp = ip->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
	bg_soft_free(&ip->soft);
	bg_ctaphid_free(&ip->hid);
	if (ip->state != NULL)
		sodium_free(ip->state);
	if (ip->out != NULL) {
		sodium_memzero(ip->out, ip->out_cap * REP);
		free(ip->out);
	}
	pthread_cond_destroy(&ip->cv);
	pthread_mutex_destroy(&ip->mu);
	sodium_memzero(ip, sizeof(*ip));
	free(ip);
	*ipp = NULL;
}

const char *
bg_soft_inproc_path(const bg_soft_inproc_t *ip)
{
	return ip->path;
}

int
bg_soft_inproc_state(bg_soft_inproc_t *ip, uint8_t **blobp, size_t *lenp)
{
	uint8_t *copy = NULL;
	size_t len = 0;
	int r = BG_ERR_INTERNAL;

	if (blobp == NULL || lenp == NULL)
		return BG_ERR_INVALID_ARG;
	*blobp = NULL;
	*lenp = 0;
	pthread_mutex_lock(&ip->mu);
	len = ip->state_len;
	if ((copy = sodium_malloc(len)) == NULL) {
		pthread_mutex_unlock(&ip->mu);
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, ip->state, len);
	pthread_mutex_unlock(&ip->mu);
	*blobp = copy;
	copy = NULL;
	*lenp = len;
	r = 0;
out:
	if (copy != NULL)
		sodium_free(copy);
	return r;
}

unsigned long
bg_soft_inproc_saves(bg_soft_inproc_t *ip)
{
	unsigned long n;

	pthread_mutex_lock(&ip->mu);
	n = ip->saves;
	pthread_mutex_unlock(&ip->mu);
	return n;
}

void
bg_soft_inproc_set_presence(bg_soft_inproc_t *ip, int presence)
{
	pthread_mutex_lock(&ip->mu);
	ip->presence = presence;
	pthread_mutex_unlock(&ip->mu);
}

void
bg_soft_inproc_power_cycle(bg_soft_inproc_t *ip)
{
	/* the core may save; ip_save takes the lock itself */
	bg_soft_power_cycle(ip->soft);
	bg_ctaphid_reset(ip->hid);
	pthread_mutex_lock(&ip->mu);
	ip->out_head = ip->out_n = 0;
	ip->in_head = ip->in_n = 0;
	pthread_mutex_unlock(&ip->mu);
}

void
bg_soft_inproc_set_tamper(bg_soft_inproc_t *ip, bg_soft_inproc_tamper_fn fn,
    void *ctx)
{
	pthread_mutex_lock(&ip->mu);
	ip->tamper = fn;
	ip->tamper_ctx = ctx;
	pthread_mutex_unlock(&ip->mu);
}

unsigned long
bg_soft_inproc_sent(bg_soft_inproc_t *ip)
{
	unsigned long n;

	pthread_mutex_lock(&ip->mu);
	n = ip->sent;
	pthread_mutex_unlock(&ip->mu);
	return n;
}

unsigned long
bg_soft_inproc_keepalives(bg_soft_inproc_t *ip)
{
	unsigned long n;

	pthread_mutex_lock(&ip->mu);
	n = ip->keepalives;
	pthread_mutex_unlock(&ip->mu);
	return n;
}

/* --- the transport ---------------------------------------------------- */

static void *
io_open(const char *path)
{
	bg_soft_inproc_t *ip = NULL;
	struct handle *h = NULL;

	pthread_mutex_lock(&reg_mu);
	for (ip = path != NULL ? reg_head : NULL; ip != NULL; ip = ip->next)
		if (strcmp(ip->path, path) == 0)
			break;
	pthread_mutex_unlock(&reg_mu);
	if (ip != NULL && (h = calloc(1, sizeof(*h))) != NULL)
		h->ip = ip;
	return h;
}

static void
io_close(void *handle)
{
	free(handle);
}

static int
io_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct handle *h = handle;
	bg_soft_inproc_t *ip;
	struct timespec ts;
	size_t n;
	int r = -1;

	if (h == NULL || buf == NULL)
		goto out;
	ip = h->ip;
	if (ms >= 0)
		deadline_in(&ts, ms);
	pthread_mutex_lock(&ip->mu);
	/* only a request running in another thread can still produce */
	while (ip->out_head == ip->out_n && ip->processing) {
		if (ms < 0)
			pthread_cond_wait(&ip->cv, &ip->mu);
		else if (pthread_cond_timedwait(&ip->cv, &ip->mu, &ts) != 0)
			break;
	}
	if (ip->out_head < ip->out_n) {
		n = len < REP ? len : REP;
		memcpy(buf, ip->out[ip->out_head], n);
		sodium_memzero(ip->out[ip->out_head], REP);
		ip->out_head++;
		r = (int)n;
	}
	pthread_mutex_unlock(&ip->mu);
out:
	return r;
}

static int
io_write(void *handle, const unsigned char *buf, size_t len)
{
	struct handle *h = handle;
	bg_soft_inproc_t *ip;
	size_t slot;
	bool mine = false;
	int r = -1;

	/* report id byte + one report, as libfido2 writes to hidraw */
	if (h == NULL || buf == NULL || len != REP + 1)
		goto out;
	ip = h->ip;
	pthread_mutex_lock(&ip->mu);
	if (ip->processing) {
		/* another thread is in a presence wait: hand it the report */
		if (ip->in_n < INBOX) {
			slot = (ip->in_head + ip->in_n) % INBOX;
			memcpy(ip->inbox[slot], buf + 1, REP);
			ip->in_n++;
			pthread_cond_broadcast(&ip->cv);
		}
	} else
		mine = ip->processing = true;
	pthread_mutex_unlock(&ip->mu);
	if (mine) {
		(void)bg_ctaphid_input(ip->hid, buf + 1);
		pthread_mutex_lock(&ip->mu);
		ip->processing = false;
		ip->in_head = ip->in_n = 0;
		pthread_cond_broadcast(&ip->cv);
		pthread_mutex_unlock(&ip->mu);
	}
	r = (int)len;
out:
	return r;
}

static const bg_token_io_t inproc_io = {
	.open = io_open,
	.close = io_close,
	.read = io_read,
	.write = io_write,
};

static const fido_dev_io_t inproc_fido_io = {
	.open = io_open,
	.close = io_close,
	.read = io_read,
	.write = io_write,
};

const bg_token_io_t *
bg_soft_inproc_io(void)
{
	return &inproc_io;
}

const void *
bg_soft_inproc_fido_io(void)
{
	return &inproc_fido_io;
}
