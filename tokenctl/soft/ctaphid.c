/*
 * CTAPHID framing (CTAP 2.1 §11.2).  Why it is shaped this way:
 *
 * - One message is assembled at a time, as on a USB token: an init packet
 *   from another channel while a message is being assembled, or while a
 *   CBOR request runs, gets ERR_CHANNEL_BUSY at once so the other client
 *   fails fast instead of hanging.  INIT on the broadcast channel is the
 *   exception: it is one packet, disturbs nothing, and lets a second
 *   client learn its channel.
 * - Channels are handed out by a counter; a channel is "allocated" when it
 *   lies in [first_cid, next_cid).  Nothing per channel needs remembering.
 * - We implement no CTAP1/U2F, so INIT advertises NMSG and MSG is
 *   ERR_INVALID_CMD.
 * - Time is only ever read through io.now_ms, so tests run on a fake clock.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "soft/ctaphid.h"
#include "soft/soft.h"

_Static_assert(BG_CTAPHID_MAX_MSG == BG_SOFT_MAX_MSG,
    "CTAPHID must accept what getInfo advertises as maxMsgSize");

struct bg_ctaphid {
	bg_ctaphid_io_t	 io;
	bg_ctaphid_cbor_fn cbor;
	void		*cbor_ctx;

	uint32_t	 first_cid;
	uint32_t	 next_cid;
	uint32_t	 up_timeout_ms;

	/* the message being assembled */
	bool		 assembling;
	uint32_t	 a_cid;
	uint8_t		 a_cmd;
	size_t		 a_len;		/* BCNT */
	size_t		 a_got;
	uint8_t		 a_seq;		/* next expected SEQ */
	uint64_t	 a_deadline;

	/* the CBOR request being processed */
	bool		 in_cbor;
	uint32_t	 active_cid;
	bool		 aborted;	/* INIT resync during the request */

	int		 send_err;	/* first io.send() failure, sticky per input */
	unsigned long	 n_keepalive;
	unsigned long	 n_sent;

	uint8_t		 msg[BG_CTAPHID_MAX_MSG];
	uint8_t		 resp[BG_CTAPHID_MAX_MSG];
};

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t
now(const bg_ctaphid_t *hid)
{
	return hid->io.now_ms(hid->io.ctx);
}

static bool
allocated(const bg_ctaphid_t *hid, uint32_t cid)
{
	return cid != 0 && cid != BG_CTAPHID_BROADCAST &&
	    cid >= hid->first_cid && cid < hid->next_cid;
}

static int
send_report(bg_ctaphid_t *hid, const uint8_t *rep)
{
	int r;

	hid->n_sent++;
	r = hid->io.send(hid->io.ctx, rep);
	if (r != 0 && hid->send_err == 0)
		hid->send_err = r;
	return r;
}

/* Fragment one message into an init packet and continuations. */
static int
send_msg(bg_ctaphid_t *hid, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len)
{
	uint8_t rep[BG_CTAPHID_REPORT_LEN];
	size_t off = 0, n;
	uint8_t seq = 0;
	int r = BG_ERR_INTERNAL;

	if (len > BG_CTAPHID_MAX_MSG)
		goto out;
	memset(rep, 0, sizeof(rep));
	put_be32(rep, cid);
	rep[4] = (uint8_t)(0x80 | cmd);
	rep[5] = (uint8_t)(len >> 8);
	rep[6] = (uint8_t)len;
	n = len < BG_CTAPHID_INIT_DATA ? len : BG_CTAPHID_INIT_DATA;
	if (n > 0)
		memcpy(rep + 7, data, n);
	off = n;
	if ((r = send_report(hid, rep)) != 0)
		goto out;
	while (off < len) {
		memset(rep, 0, sizeof(rep));
		put_be32(rep, cid);
		rep[4] = seq++;
		n = len - off < BG_CTAPHID_CONT_DATA ? len - off :
		    BG_CTAPHID_CONT_DATA;
		memcpy(rep + 5, data + off, n);
		off += n;
		if ((r = send_report(hid, rep)) != 0)
			goto out;
	}
	r = 0;
out:
	sodium_memzero(rep, sizeof(rep));
	return r;
}

static int
send_error(bg_ctaphid_t *hid, uint32_t cid, uint8_t code)
{
	return send_msg(hid, cid, BG_CTAPHID_ERROR, &code, 1);
}

int
bg_ctaphid_new(const bg_ctaphid_io_t *io, bg_ctaphid_cbor_fn cbor,
    void *cbor_ctx, bg_ctaphid_t **hidp)
{
	bg_ctaphid_t *hid = NULL;
	int r = BG_ERR_INTERNAL;

	if (hidp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	*hidp = NULL;
	if (io == NULL || io->send == NULL || io->now_ms == NULL ||
	    cbor == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((hid = calloc(1, sizeof(*hid))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	hid->io = *io;
	hid->cbor = cbor;
	hid->cbor_ctx = cbor_ctx;
	hid->first_cid = hid->next_cid = 1;
	hid->up_timeout_ms = BG_CTAPHID_UP_TIMEOUT_MS;
	*hidp = hid;
	hid = NULL;
	r = 0;
out:
	bg_ctaphid_free(&hid);
	return r;
}

void
bg_ctaphid_free(bg_ctaphid_t **hidp)
{
	if (hidp == NULL || *hidp == NULL)
		return;
	/* messages may hold PINs (encrypted) and hmac-secret outputs */
	sodium_memzero(*hidp, sizeof(**hidp));
	free(*hidp);
	*hidp = NULL;
}

void
bg_ctaphid_set_next_cid(bg_ctaphid_t *hid, uint32_t cid)
{
	if (cid == 0 || cid == BG_CTAPHID_BROADCAST)
		cid = 1;
	hid->first_cid = hid->next_cid = cid;
}

void
bg_ctaphid_set_up_timeout(bg_ctaphid_t *hid, uint32_t ms)
{
	hid->up_timeout_ms = ms ? ms : BG_CTAPHID_UP_TIMEOUT_MS;
}

void
bg_ctaphid_reset(bg_ctaphid_t *hid)
{
	hid->assembling = false;
	hid->a_got = hid->a_len = 0;
	hid->next_cid = hid->first_cid;
	sodium_memzero(hid->msg, sizeof(hid->msg));
}

unsigned long
bg_ctaphid_keepalives(const bg_ctaphid_t *hid)
{
	return hid->n_keepalive;
}

unsigned long
bg_ctaphid_sent(const bg_ctaphid_t *hid)
{
	return hid->n_sent;
}

/* INIT: allocate on the broadcast channel, resync on an allocated one. */
static int
handle_init(bg_ctaphid_t *hid, uint32_t cid, size_t bcnt, const uint8_t *data)
{
	uint8_t reply[17];
	uint32_t newcid;
	int r = BG_ERR_INTERNAL;

	if (bcnt != 8) {
		r = send_error(hid, cid, BG_CTAPHID_ERR_INVALID_LEN);
		goto out;
	}
	if (cid == BG_CTAPHID_BROADCAST) {
		if (hid->next_cid == BG_CTAPHID_BROADCAST) {
			r = send_error(hid, cid, BG_CTAPHID_ERR_OTHER);
			goto out;
		}
		newcid = hid->next_cid++;
	} else if (allocated(hid, cid)) {
		newcid = cid;
		if (hid->assembling && hid->a_cid == cid)
			hid->assembling = false;
		if (hid->in_cbor && hid->active_cid == cid)
			hid->aborted = true;
	} else {
		r = send_error(hid, cid, BG_CTAPHID_ERR_INVALID_CHANNEL);
		goto out;
	}
	memcpy(reply, data, 8);
	put_be32(reply + 8, newcid);
	reply[12] = BG_CTAPHID_PROTOCOL;
	reply[13] = BG_CTAPHID_DEV_MAJOR;
	reply[14] = BG_CTAPHID_DEV_MINOR;
	reply[15] = BG_CTAPHID_DEV_BUILD;
	reply[16] = BG_CTAPHID_CAP_WINK | BG_CTAPHID_CAP_CBOR |
	    BG_CTAPHID_CAP_NMSG;
	r = send_msg(hid, cid, BG_CTAPHID_INIT, reply, sizeof(reply));
out:
	return r;
}

/* A complete message on an allocated channel. */
static int
dispatch(bg_ctaphid_t *hid, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len)
{
	size_t resp_len = 0;
	int r = BG_ERR_INTERNAL;

	switch (cmd) {
	case BG_CTAPHID_PING:
		r = send_msg(hid, cid, BG_CTAPHID_PING, data, len);
		break;
	case BG_CTAPHID_WINK:
		if (len != 0)
			r = send_error(hid, cid, BG_CTAPHID_ERR_INVALID_LEN);
		else
			r = send_msg(hid, cid, BG_CTAPHID_WINK, NULL, 0);
		break;
	case BG_CTAPHID_CANCEL:
		r = 0;		/* nothing pending: ignored, never answered */
		break;
	case BG_CTAPHID_CBOR:
		if (len == 0) {
			r = send_error(hid, cid, BG_CTAPHID_ERR_INVALID_LEN);
			break;
		}
		hid->in_cbor = true;
		hid->active_cid = cid;
		hid->aborted = false;
		r = hid->cbor(hid->cbor_ctx, data, len, hid->resp,
		    sizeof(hid->resp), &resp_len);
		hid->in_cbor = false;
		if (hid->aborted)	/* INIT resync: the reply is already out */
			r = 0;
		else if (r != 0 || resp_len == 0 ||
		    resp_len > sizeof(hid->resp))
			r = send_error(hid, cid, BG_CTAPHID_ERR_OTHER);
		else
			r = send_msg(hid, cid, BG_CTAPHID_CBOR, hid->resp,
			    resp_len);
		hid->aborted = false;
		sodium_memzero(hid->resp, sizeof(hid->resp));
		break;
	default:	/* MSG (no CTAP1), LOCK, KEEPALIVE, ERROR, vendor */
		r = send_error(hid, cid, BG_CTAPHID_ERR_INVALID_CMD);
		break;
	}
	return r;
}

static int
finish_message(bg_ctaphid_t *hid)
{
	int r;

	hid->assembling = false;
	r = dispatch(hid, hid->a_cid, hid->a_cmd, hid->msg, hid->a_len);
	sodium_memzero(hid->msg, hid->a_len);
	return r;
}

int
bg_ctaphid_tick(bg_ctaphid_t *hid)
{
	uint64_t t;
	int left = -1;

	if (!hid->assembling)
		goto out;
	t = now(hid);
	if (t >= hid->a_deadline) {
		hid->assembling = false;
		sodium_memzero(hid->msg, sizeof(hid->msg));
		(void)send_error(hid, hid->a_cid, BG_CTAPHID_ERR_MSG_TIMEOUT);
		goto out;
	}
	left = (int)(hid->a_deadline - t);
out:
	return left;
}

static void
input_init_packet(bg_ctaphid_t *hid, uint32_t cid, const uint8_t *rep)
{
	uint8_t cmd = rep[4] & 0x7f;
	size_t bcnt = (size_t)rep[5] << 8 | rep[6];

	if (cmd == BG_CTAPHID_INIT && (!hid->assembling ||
	    cid == hid->a_cid || cid == BG_CTAPHID_BROADCAST)) {
		/* allocation, or resync (which abandons a partial message) */
		(void)handle_init(hid, cid, bcnt, rep + 7);
	} else if (hid->assembling && cid == hid->a_cid) {
		/* a new message before the old one ended */
		hid->assembling = false;
		sodium_memzero(hid->msg, sizeof(hid->msg));
		(void)send_error(hid, cid, BG_CTAPHID_ERR_INVALID_SEQ);
	} else if (hid->assembling) {
		if (cmd != BG_CTAPHID_CANCEL)
			(void)send_error(hid, cid,
			    BG_CTAPHID_ERR_CHANNEL_BUSY);
	} else if (!allocated(hid, cid)) {
		(void)send_error(hid, cid, BG_CTAPHID_ERR_INVALID_CHANNEL);
	} else if (bcnt > BG_CTAPHID_MAX_MSG) {
		(void)send_error(hid, cid, BG_CTAPHID_ERR_INVALID_LEN);
	} else {
		hid->a_cid = cid;
		hid->a_cmd = cmd;
		hid->a_len = bcnt;
		hid->a_seq = 0;
		if (bcnt <= BG_CTAPHID_INIT_DATA) {
			memcpy(hid->msg, rep + 7, bcnt);
			(void)finish_message(hid);
		} else {
			memcpy(hid->msg, rep + 7, BG_CTAPHID_INIT_DATA);
			hid->a_got = BG_CTAPHID_INIT_DATA;
			hid->a_deadline = now(hid) + BG_CTAPHID_MSG_TIMEOUT_MS;
			hid->assembling = true;
		}
	}
}

static void
input_cont_packet(bg_ctaphid_t *hid, uint32_t cid, const uint8_t *rep)
{
	size_t n;

	/* spurious continuations (no message on that channel) are ignored */
	if (!hid->assembling || cid != hid->a_cid)
		goto out;
	if (rep[4] != hid->a_seq) {
		hid->assembling = false;
		sodium_memzero(hid->msg, sizeof(hid->msg));
		(void)send_error(hid, cid, BG_CTAPHID_ERR_INVALID_SEQ);
		goto out;
	}
	n = hid->a_len - hid->a_got;
	if (n > BG_CTAPHID_CONT_DATA)
		n = BG_CTAPHID_CONT_DATA;
	memcpy(hid->msg + hid->a_got, rep + 5, n);
	hid->a_got += n;
	hid->a_seq++;
	hid->a_deadline = now(hid) + BG_CTAPHID_MSG_TIMEOUT_MS;
	if (hid->a_got == hid->a_len)
		(void)finish_message(hid);
out:
	return;
}

int
bg_ctaphid_input(bg_ctaphid_t *hid, const uint8_t rep[BG_CTAPHID_REPORT_LEN])
{
	uint32_t cid;
	int r;

	hid->send_err = 0;
	(void)bg_ctaphid_tick(hid);	/* an overdue message times out first */
	cid = get_be32(rep);
	if (cid == 0) {
		if (rep[4] & 0x80)
			(void)send_error(hid, cid,
			    BG_CTAPHID_ERR_INVALID_CHANNEL);
	} else if (rep[4] & 0x80)
		input_init_packet(hid, cid, rep);
	else
		input_cont_packet(hid, cid, rep);
	r = hid->send_err;
	hid->send_err = 0;
	return r;
}

/*
 * A report that arrives while the active request waits for a touch.
 * Returns a bg_soft_up to end the wait with, or BG_CTAPHID_UP_PENDING.
 */
static int
wait_input(bg_ctaphid_t *hid, const uint8_t *rep)
{
	uint32_t cid = get_be32(rep);
	uint8_t cmd = rep[4] & 0x7f;
	size_t bcnt = (size_t)rep[5] << 8 | rep[6];
	int up = BG_CTAPHID_UP_PENDING;

	if (!(rep[4] & 0x80)) {
		/* stray continuation: ignored */
	} else if (cid == hid->active_cid && cmd == BG_CTAPHID_CANCEL) {
		up = BG_SOFT_UP_CANCELLED;
	} else if (cid == hid->active_cid && cmd == BG_CTAPHID_INIT) {
		(void)handle_init(hid, cid, bcnt, rep + 7);
		if (hid->aborted)
			up = BG_SOFT_UP_CANCELLED;
	} else if (cid == hid->active_cid) {
		(void)send_error(hid, cid, BG_CTAPHID_ERR_CHANNEL_BUSY);
	} else if (cid == BG_CTAPHID_BROADCAST && cmd == BG_CTAPHID_INIT) {
		(void)handle_init(hid, cid, bcnt, rep + 7);
	} else if (cmd != BG_CTAPHID_CANCEL) {
		(void)send_error(hid, cid, cid == 0 ?
		    BG_CTAPHID_ERR_INVALID_CHANNEL :
		    BG_CTAPHID_ERR_CHANNEL_BUSY);
	}
	return up;
}

static int
ask_policy(const bg_ctaphid_t *hid)
{
	return hid->io.policy == NULL ? BG_SOFT_UP_GRANTED :
	    hid->io.policy(hid->io.ctx);
}

int
bg_ctaphid_presence(void *ctx)
{
	bg_ctaphid_t *hid = ctx;
	uint8_t rep[BG_CTAPHID_REPORT_LEN];
	uint8_t status = BG_CTAPHID_STATUS_UPNEEDED;
	uint64_t t, deadline, next_ka, until;
	int p, rr;
	int r = BG_SOFT_UP_TIMEOUT;

	p = ask_policy(hid);
	if (p != BG_CTAPHID_UP_PENDING) {
		r = p;
		goto out;
	}
	if (!hid->in_cbor || hid->io.recv == NULL)
		goto out;	/* nobody can ever answer: timeout */
	t = now(hid);
	deadline = t + hid->up_timeout_ms;
	next_ka = t;
	for (;;) {
		if ((p = ask_policy(hid)) != BG_CTAPHID_UP_PENDING) {
			r = p;
			goto out;
		}
		t = now(hid);
		if (t >= deadline) {
			r = BG_SOFT_UP_TIMEOUT;
			goto out;
		}
		if (t >= next_ka) {
			hid->n_keepalive++;
			if (send_msg(hid, hid->active_cid,
			    BG_CTAPHID_KEEPALIVE, &status, 1) != 0) {
				r = BG_SOFT_UP_CANCELLED;	/* host gone */
				goto out;
			}
			next_ka = t + BG_CTAPHID_KEEPALIVE_MS;
		}
		until = next_ka < deadline ? next_ka : deadline;
		rr = hid->io.recv(hid->io.ctx, rep, (int)(until - t));
		if (rr < 0) {
			r = BG_SOFT_UP_CANCELLED;
			goto out;
		}
		if (rr == 0)
			continue;
		if ((p = wait_input(hid, rep)) != BG_CTAPHID_UP_PENDING) {
			r = p;
			goto out;
		}
	}
out:
	sodium_memzero(rep, sizeof(rep));
	return r;
}
