/*
 * CTAPHID framing units: a fake clock, a scripted host and a CBOR handler
 * of our own stand in for the front end and the core (both are our own
 * layers; nothing of libfido2, SQLite or libsodium is faked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "breakglass/err.h"
#include "soft/ctaphid.h"
#include "soft/soft.h"

#define MAXSENT		512
#define MAXSCRIPT	8

struct fake {
	uint64_t	 now;
	uint8_t		 sent[MAXSENT][BG_CTAPHID_REPORT_LEN];
	size_t		 nsent;
	int		 send_ret;
	int		 policy;		/* answer of the presence policy */
	/* reports the host sends during a presence wait, from time script_at */
	uint8_t		 script[MAXSCRIPT][BG_CTAPHID_REPORT_LEN];
	size_t		 nscript, iscript;
	uint64_t	 script_at;
	int		 recv_fail;		/* recv returns this (<0) when set */
	/* the CBOR handler */
	bg_ctaphid_t	*hid;
	int		 calls;
	uint8_t		 req[BG_CTAPHID_MAX_MSG];
	size_t		 req_len;
	bool		 ask_presence;
	int		 up;			/* what presence returned */
	int		 handler_ret;
};

static int
f_send(void *ctx, const uint8_t *rep)
{
	struct fake *f = ctx;

	assert_true(f->nsent < MAXSENT);
	memcpy(f->sent[f->nsent++], rep, BG_CTAPHID_REPORT_LEN);
	return f->send_ret;
}

static int
f_recv(void *ctx, uint8_t *rep, int ms)
{
	struct fake *f = ctx;

	assert_true(ms >= 0);
	if (f->recv_fail)
		return f->recv_fail;
	if (f->iscript < f->nscript && f->now >= f->script_at) {
		memcpy(rep, f->script[f->iscript++], BG_CTAPHID_REPORT_LEN);
		return 1;
	}
	f->now += (uint64_t)ms;
	return 0;
}

static uint64_t
f_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static int
f_policy(void *ctx)
{
	return ((struct fake *)ctx)->policy;
}

static int
f_cbor(void *ctx, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	struct fake *f = ctx;
	size_t i;

	f->calls++;
	assert_true(len <= sizeof(f->req));
	memcpy(f->req, req, len);
	f->req_len = len;
	if (f->ask_presence)
		f->up = bg_ctaphid_presence(f->hid);
	if (f->handler_ret != 0)
		return f->handler_ret;
	/* reply: status 0, then the request bytes reversed, plus 100 bytes */
	assert_true(cap >= len + 101);
	resp[0] = 0x00;
	for (i = 0; i < len; i++)
		resp[1 + i] = req[len - 1 - i];
	for (i = 0; i < 100; i++)
		resp[1 + len + i] = (uint8_t)i;
	*resp_len = len + 101;
	return 0;
}

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	bg_ctaphid_io_t io = { f_send, f_recv, f_now, f_policy, NULL };

	assert_non_null(f);
	io.ctx = f;
	f->now = 1000;
	f->policy = BG_SOFT_UP_GRANTED;
	assert_int_equal(bg_ctaphid_new(&io, f_cbor, f, &f->hid), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;

	bg_ctaphid_free(&f->hid);
	assert_null(f->hid);
	free(f);
	return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
mk_init(uint8_t *rep, uint32_t cid, uint8_t cmd, size_t bcnt,
    const uint8_t *data, size_t n)
{
	memset(rep, 0, BG_CTAPHID_REPORT_LEN);
	put32(rep, cid);
	rep[4] = (uint8_t)(0x80 | cmd);
	rep[5] = (uint8_t)(bcnt >> 8);
	rep[6] = (uint8_t)bcnt;
	if (n)
		memcpy(rep + 7, data, n);
}

static void
mk_cont(uint8_t *rep, uint32_t cid, uint8_t seq, const uint8_t *data,
    size_t n)
{
	memset(rep, 0, BG_CTAPHID_REPORT_LEN);
	put32(rep, cid);
	rep[4] = seq;
	if (n)
		memcpy(rep + 5, data, n);
}

/* Send a whole message the way a host fragments it. */
static void
host_send(struct fake *f, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len)
{
	uint8_t rep[BG_CTAPHID_REPORT_LEN];
	size_t off, n;
	uint8_t seq = 0;

	n = len < 57 ? len : 57;
	mk_init(rep, cid, cmd, len, data, n);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	for (off = n; off < len; off += n) {
		n = len - off < 59 ? len - off : 59;
		mk_cont(rep, cid, seq++, data + off, n);
		assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	}
}

/*
 * Reassemble the reply that starts at sent[*idx]; checks CID, SEQ order
 * and zero padding.  Returns the command (without 0x80).
 */
static uint8_t
host_recv(struct fake *f, size_t *idx, uint32_t cid, uint8_t *buf,
    size_t cap, size_t *lenp)
{
	const uint8_t *rep;
	size_t len, got, n, k;
	uint8_t cmd, seq = 0;

	assert_true(*idx < f->nsent);
	rep = f->sent[(*idx)++];
	assert_int_equal(get32(rep), cid);
	assert_true(rep[4] & 0x80);
	cmd = rep[4] & 0x7f;
	len = (size_t)rep[5] << 8 | rep[6];
	assert_true(len <= cap);
	got = len < 57 ? len : 57;
	memcpy(buf, rep + 7, got);
	for (k = 7 + got; k < 64; k++)
		assert_int_equal(rep[k], 0);
	while (got < len) {
		assert_true(*idx < f->nsent);
		rep = f->sent[(*idx)++];
		assert_int_equal(get32(rep), cid);
		assert_int_equal(rep[4], seq);
		seq++;
		n = len - got < 59 ? len - got : 59;
		memcpy(buf + got, rep + 5, n);
		got += n;
	}
	*lenp = len;
	return cmd;
}

static void
expect_error(struct fake *f, size_t *idx, uint32_t cid, uint8_t code)
{
	uint8_t buf[8];
	size_t len = 0;

	assert_int_equal(host_recv(f, idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_ERROR);
	assert_int_equal(len, 1);
	assert_int_equal(buf[0], code);
}

/* INIT on the broadcast channel; returns the allocated CID. */
static uint32_t
do_init(struct fake *f)
{
	const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[64];
	size_t idx = f->nsent, len = 0;

	host_send(f, BG_CTAPHID_BROADCAST, BG_CTAPHID_INIT, nonce, 8);
	assert_int_equal(host_recv(f, &idx, BG_CTAPHID_BROADCAST, buf,
	    sizeof(buf), &len), BG_CTAPHID_INIT);
	assert_int_equal(len, 17);
	assert_memory_equal(buf, nonce, 8);
	return get32(buf + 8);
}

static void
test_init_allocates(void **state)
{
	struct fake *f = *state;
	const uint8_t nonce[8] = { 9, 9, 9, 9, 1, 2, 3, 4 };
	uint8_t buf[64];
	size_t idx = 0, len = 0;
	uint32_t c1, c2;

	bg_ctaphid_set_next_cid(f->hid, 0x11223344);
	host_send(f, BG_CTAPHID_BROADCAST, BG_CTAPHID_INIT, nonce, 8);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(host_recv(f, &idx, BG_CTAPHID_BROADCAST, buf,
	    sizeof(buf), &len), BG_CTAPHID_INIT);
	assert_int_equal(len, 17);
	assert_memory_equal(buf, nonce, 8);
	c1 = get32(buf + 8);
	assert_int_equal(c1, 0x11223344);
	assert_int_equal(buf[12], 2);			/* CTAPHID version */
	/* WINK and CBOR, and NMSG because we have no CTAP1 MSG */
	assert_int_equal(buf[16], BG_CTAPHID_CAP_WINK | BG_CTAPHID_CAP_CBOR |
	    BG_CTAPHID_CAP_NMSG);
	c2 = do_init(f);
	assert_true(c2 != c1);
	assert_true(c2 != 0 && c2 != BG_CTAPHID_BROADCAST);
}

static void
test_init_bad_len(void **state)
{
	struct fake *f = *state;
	const uint8_t nonce[8] = { 0 };
	size_t idx = 0;

	host_send(f, BG_CTAPHID_BROADCAST, BG_CTAPHID_INIT, nonce, 7);
	expect_error(f, &idx, BG_CTAPHID_BROADCAST, BG_CTAPHID_ERR_INVALID_LEN);
	assert_int_equal(f->nsent, 1);
}

static void
test_ping_fragmented(void **state)
{
	struct fake *f = *state;
	uint8_t data[300], buf[400];
	size_t i, idx, len = 0;
	uint32_t cid = do_init(f);

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_PING, data, sizeof(data));
	/* 300 bytes: 57 + 5 * 59 -> 6 reports */
	assert_int_equal(f->nsent - idx, 6);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_PING);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	assert_int_equal(idx, f->nsent);
}

static void
test_ping_max_and_empty(void **state)
{
	struct fake *f = *state;
	uint8_t data[BG_CTAPHID_MAX_MSG], buf[BG_CTAPHID_MAX_MSG];
	size_t idx, len = 1;
	uint32_t cid = do_init(f);

	memset(data, 0xa5, sizeof(data));
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_PING, data, sizeof(data));
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_PING);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	host_send(f, cid, BG_CTAPHID_PING, NULL, 0);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_PING);
	assert_int_equal(len, 0);
}

static void
test_cbor_fragmented(void **state)
{
	struct fake *f = *state;
	uint8_t req[500], buf[BG_CTAPHID_MAX_MSG];
	size_t i, idx, len = 0;
	uint32_t cid = do_init(f);

	for (i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)(i ^ 0x5a);
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_CBOR, req, sizeof(req));
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->req_len, sizeof(req));
	assert_memory_equal(f->req, req, sizeof(req));
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_CBOR);
	assert_int_equal(len, sizeof(req) + 101);
	assert_int_equal(buf[0], 0);
	for (i = 0; i < sizeof(req); i++)
		assert_int_equal(buf[1 + i], req[sizeof(req) - 1 - i]);
	assert_int_equal(idx, f->nsent);
}

static void
test_cbor_empty_and_handler_error(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x04 };
	size_t idx;
	uint32_t cid = do_init(f);

	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_CBOR, NULL, 0);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_LEN);
	assert_int_equal(f->calls, 0);
	f->handler_ret = BG_ERR_IO;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->calls, 1);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_OTHER);
}

static void
test_bad_sequence(void **state)
{
	struct fake *f = *state;
	uint8_t data[200], rep[64];
	size_t idx;
	uint32_t cid = do_init(f);

	memset(data, 1, sizeof(data));
	idx = f->nsent;
	mk_init(rep, cid, BG_CTAPHID_CBOR, sizeof(data), data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	mk_cont(rep, cid, 0, data + 57, 59);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	mk_cont(rep, cid, 2, data + 116, 59);		/* skips SEQ 1 */
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_SEQ);
	/* the message is abandoned: its tail is a spurious continuation */
	mk_cont(rep, cid, 1, data + 116, 59);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	assert_int_equal(f->nsent, idx);
	assert_int_equal(f->calls, 0);
	/* the channel still works */
	host_send(f, cid, BG_CTAPHID_CBOR, data, sizeof(data));
	assert_int_equal(f->calls, 1);
}

static void
test_new_message_mid_message(void **state)
{
	struct fake *f = *state;
	uint8_t data[100], rep[64];
	size_t idx;
	uint32_t cid = do_init(f);

	memset(data, 2, sizeof(data));
	idx = f->nsent;
	mk_init(rep, cid, BG_CTAPHID_CBOR, sizeof(data), data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	mk_init(rep, cid, BG_CTAPHID_PING, 1, data, 1);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_SEQ);
	assert_int_equal(f->calls, 0);
}

static void
test_wrong_channel(void **state)
{
	struct fake *f = *state;
	const uint8_t nonce[8] = { 0 };
	uint8_t data[4] = { 1, 2, 3, 4 };
	size_t idx;
	uint32_t cid = do_init(f);

	idx = f->nsent;
	host_send(f, 0, BG_CTAPHID_PING, data, 4);
	expect_error(f, &idx, 0, BG_CTAPHID_ERR_INVALID_CHANNEL);
	host_send(f, cid + 1000, BG_CTAPHID_PING, data, 4);
	expect_error(f, &idx, cid + 1000, BG_CTAPHID_ERR_INVALID_CHANNEL);
	host_send(f, cid + 1000, BG_CTAPHID_INIT, nonce, 8);
	expect_error(f, &idx, cid + 1000, BG_CTAPHID_ERR_INVALID_CHANNEL);
	host_send(f, BG_CTAPHID_BROADCAST, BG_CTAPHID_CBOR, data, 4);
	expect_error(f, &idx, BG_CTAPHID_BROADCAST,
	    BG_CTAPHID_ERR_INVALID_CHANNEL);
	host_send(f, BG_CTAPHID_BROADCAST, BG_CTAPHID_PING, data, 4);
	expect_error(f, &idx, BG_CTAPHID_BROADCAST,
	    BG_CTAPHID_ERR_INVALID_CHANNEL);
	assert_int_equal(f->calls, 0);
	assert_int_equal(idx, f->nsent);
	/* after a power cycle the old channel is gone */
	bg_ctaphid_reset(f->hid);
	host_send(f, cid, BG_CTAPHID_PING, data, 4);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_CHANNEL);
}

static void
test_oversize_length(void **state)
{
	struct fake *f = *state;
	uint8_t rep[64], data[57];
	size_t idx;
	uint32_t cid = do_init(f);

	memset(data, 3, sizeof(data));
	idx = f->nsent;
	mk_init(rep, cid, BG_CTAPHID_CBOR, BG_CTAPHID_MAX_MSG + 1, data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_LEN);
	mk_init(rep, cid, BG_CTAPHID_PING, 0xffff, data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_LEN);
	/* nothing is being assembled: continuations are ignored */
	mk_cont(rep, cid, 0, data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	assert_int_equal(idx, f->nsent);
	assert_int_equal(f->calls, 0);
}

static void
test_init_resync_mid_message(void **state)
{
	struct fake *f = *state;
	const uint8_t nonce[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	uint8_t data[150], rep[64], buf[64];
	size_t idx, len = 0;
	uint32_t cid = do_init(f);

	memset(data, 4, sizeof(data));
	idx = f->nsent;
	mk_init(rep, cid, BG_CTAPHID_CBOR, sizeof(data), data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	host_send(f, cid, BG_CTAPHID_INIT, nonce, 8);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_INIT);
	assert_int_equal(len, 17);
	assert_memory_equal(buf, nonce, 8);
	assert_int_equal(get32(buf + 8), cid);		/* same channel */
	/* the old message's continuation is now spurious */
	mk_cont(rep, cid, 0, data + 57, 59);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	assert_int_equal(idx, f->nsent);
	assert_int_equal(f->calls, 0);
}

static void
test_busy_other_channel(void **state)
{
	struct fake *f = *state;
	uint8_t data[120], rep[64], buf[BG_CTAPHID_MAX_MSG];
	size_t idx, len = 0;
	uint32_t a = do_init(f), b = do_init(f), c;

	memset(data, 5, sizeof(data));
	idx = f->nsent;
	mk_init(rep, a, BG_CTAPHID_CBOR, sizeof(data), data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	host_send(f, b, BG_CTAPHID_PING, data, 5);
	expect_error(f, &idx, b, BG_CTAPHID_ERR_CHANNEL_BUSY);
	/* a broadcast INIT still allocates: it disturbs nothing */
	c = do_init(f);
	idx = f->nsent;
	assert_true(c != a && c != b);
	mk_cont(rep, a, 0, data + 57, 59);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	mk_cont(rep, a, 1, data + 116, 4);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->req_len, sizeof(data));
	assert_int_equal(host_recv(f, &idx, a, buf, sizeof(buf), &len),
	    BG_CTAPHID_CBOR);
	/* and afterwards b is served */
	host_send(f, b, BG_CTAPHID_PING, data, 5);
	assert_int_equal(host_recv(f, &idx, b, buf, sizeof(buf), &len),
	    BG_CTAPHID_PING);
}

static void
test_msg_timeout(void **state)
{
	struct fake *f = *state;
	uint8_t data[100], rep[64];
	size_t idx;
	uint32_t cid = do_init(f);

	memset(data, 6, sizeof(data));
	idx = f->nsent;
	assert_int_equal(bg_ctaphid_tick(f->hid), -1);
	mk_init(rep, cid, BG_CTAPHID_CBOR, sizeof(data), data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	assert_int_equal(bg_ctaphid_tick(f->hid), BG_CTAPHID_MSG_TIMEOUT_MS);
	f->now += BG_CTAPHID_MSG_TIMEOUT_MS - 1;
	assert_int_equal(bg_ctaphid_tick(f->hid), 1);
	assert_int_equal(f->nsent, idx);
	f->now += 1;
	assert_int_equal(bg_ctaphid_tick(f->hid), -1);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_MSG_TIMEOUT);
	/* a late continuation is ignored */
	mk_cont(rep, cid, 0, data + 57, 43);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	assert_int_equal(f->calls, 0);
	assert_int_equal(idx, f->nsent);

	/* an overdue message also times out when the next report arrives */
	mk_init(rep, cid, BG_CTAPHID_CBOR, sizeof(data), data, 57);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	f->now += 10000;
	mk_cont(rep, cid, 0, data + 57, 43);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), 0);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_MSG_TIMEOUT);
	assert_int_equal(f->calls, 0);
}

static void
test_commands(void **state)
{
	struct fake *f = *state;
	uint8_t data[8] = { 0 }, buf[64];
	size_t idx, len = 9;
	uint32_t cid = do_init(f);

	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_MSG, data, 8);	/* no CTAP1 */
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_CMD);
	host_send(f, cid, 0x3e, data, 1);		/* unknown */
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_CMD);
	host_send(f, cid, BG_CTAPHID_KEEPALIVE, data, 1);
	expect_error(f, &idx, cid, BG_CTAPHID_ERR_INVALID_CMD);
	host_send(f, cid, BG_CTAPHID_WINK, NULL, 0);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_WINK);
	assert_int_equal(len, 0);
	host_send(f, cid, BG_CTAPHID_CANCEL, NULL, 0);	/* never answered */
	assert_int_equal(idx, f->nsent);
}

static void
test_send_failure_reported(void **state)
{
	struct fake *f = *state;
	uint8_t rep[64];
	const uint8_t nonce[8] = { 0 };

	f->send_ret = BG_ERR_IO;
	mk_init(rep, BG_CTAPHID_BROADCAST, BG_CTAPHID_INIT, 8, nonce, 8);
	assert_int_equal(bg_ctaphid_input(f->hid, rep), BG_ERR_IO);
}

/* --- presence waits --------------------------------------------------- */

static size_t
count_keepalives(struct fake *f, size_t from, uint32_t cid)
{
	size_t i, n = 0;

	for (i = from; i < f->nsent; i++) {
		if (f->sent[i][4] != (0x80 | BG_CTAPHID_KEEPALIVE))
			continue;
		assert_int_equal(get32(f->sent[i]), cid);
		assert_int_equal(f->sent[i][6], 1);
		assert_int_equal(f->sent[i][7], BG_CTAPHID_STATUS_UPNEEDED);
		n++;
	}
	return n;
}

static void
test_presence_granted(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x01 };
	uint8_t buf[BG_CTAPHID_MAX_MSG];
	size_t idx, len = 0;
	uint32_t cid = do_init(f);

	f->ask_presence = true;
	f->up = -99;
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_GRANTED);
	assert_int_equal(count_keepalives(f, idx, cid), 0);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_CBOR);
	f->policy = BG_SOFT_UP_DENIED;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_DENIED);
	/* outside a request nobody can be asked: pending counts as timeout */
	f->policy = BG_CTAPHID_UP_PENDING;
	assert_int_equal(bg_ctaphid_presence(f->hid), BG_SOFT_UP_TIMEOUT);
}

static void
test_presence_timeout_keepalives(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x02 };
	uint8_t buf[BG_CTAPHID_MAX_MSG];
	size_t idx, len = 0, n;
	uint64_t t0;
	uint32_t cid = do_init(f);

	f->ask_presence = true;
	f->policy = BG_CTAPHID_UP_PENDING;
	bg_ctaphid_set_up_timeout(f->hid, 1000);
	idx = f->nsent;
	t0 = f->now;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_TIMEOUT);
	assert_int_equal(f->now - t0, 1000);
	n = count_keepalives(f, idx, cid);
	assert_int_equal(n, 10);		/* t = 0, 100, ..., 900 */
	assert_int_equal(bg_ctaphid_keepalives(f->hid), 10);
	idx += n;
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_CBOR);			/* the core's answer follows */
	assert_int_equal(idx, f->nsent);
}

static void
test_presence_cancel(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x02 };
	uint8_t buf[BG_CTAPHID_MAX_MSG];
	size_t idx, len = 0, n;
	uint32_t cid = do_init(f), other = do_init(f);

	f->ask_presence = true;
	f->policy = BG_CTAPHID_UP_PENDING;
	f->script_at = f->now + 300;
	mk_init(f->script[0], other, BG_CTAPHID_PING, 1, req, 1);
	mk_init(f->script[1], other, BG_CTAPHID_CANCEL, 0, NULL, 0);
	mk_init(f->script[2], cid, BG_CTAPHID_CANCEL, 0, NULL, 0);
	f->nscript = 3;
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_CANCELLED);
	assert_int_equal(f->iscript, 3);
	n = count_keepalives(f, idx, cid);
	assert_int_equal(n, 4);			/* 0, 100, 200, 300 */
	idx += n;
	/* the other channel's PING was refused; its CANCEL ignored */
	expect_error(f, &idx, other, BG_CTAPHID_ERR_CHANNEL_BUSY);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_CBOR);
	assert_int_equal(idx, f->nsent);
}

static void
test_presence_init_resync(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x02 };
	const uint8_t nonce[8] = { 5, 5, 5, 5, 6, 6, 6, 6 };
	uint8_t buf[64];
	size_t idx, len = 0;
	uint32_t cid = do_init(f);

	f->ask_presence = true;
	f->policy = BG_CTAPHID_UP_PENDING;
	f->script_at = f->now + 150;
	mk_init(f->script[0], cid, BG_CTAPHID_INIT, 8, nonce, 8);
	f->nscript = 1;
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_CANCELLED);
	idx += count_keepalives(f, idx, cid);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_INIT);
	assert_memory_equal(buf, nonce, 8);
	assert_int_equal(get32(buf + 8), cid);
	/* the aborted request's reply is never sent */
	assert_int_equal(idx, f->nsent);
}

static void
test_presence_host_gone(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x02 };
	uint32_t cid = do_init(f);

	f->ask_presence = true;
	f->policy = BG_CTAPHID_UP_PENDING;
	f->recv_fail = BG_ERR_IO;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_CANCELLED);
}

static void
test_presence_broadcast_init(void **state)
{
	struct fake *f = *state;
	const uint8_t req[1] = { 0x02 };
	const uint8_t nonce[8] = { 4, 4, 4, 4, 2, 2, 2, 2 };
	uint8_t buf[BG_CTAPHID_MAX_MSG];
	size_t idx, len = 0;
	uint32_t cid = do_init(f), fresh;

	f->ask_presence = true;
	f->policy = BG_CTAPHID_UP_PENDING;
	bg_ctaphid_set_up_timeout(f->hid, 250);
	f->script_at = f->now + 100;
	/* a second application learns its channel while the token waits,
	 * and a report on CID 0 is refused as an invalid channel */
	mk_init(f->script[0], BG_CTAPHID_BROADCAST, BG_CTAPHID_INIT, 8,
	    nonce, 8);
	mk_init(f->script[1], 0, BG_CTAPHID_PING, 0, NULL, 0);
	f->nscript = 2;
	idx = f->nsent;
	host_send(f, cid, BG_CTAPHID_CBOR, req, 1);
	assert_int_equal(f->up, BG_SOFT_UP_TIMEOUT);
	idx += 2;		/* KEEPALIVEs at 0 and 100 ms */
	assert_int_equal(host_recv(f, &idx, BG_CTAPHID_BROADCAST, buf,
	    sizeof(buf), &len), BG_CTAPHID_INIT);
	assert_memory_equal(buf, nonce, 8);
	fresh = get32(buf + 8);
	assert_true(fresh != cid);
	expect_error(f, &idx, 0, BG_CTAPHID_ERR_INVALID_CHANNEL);
	idx += count_keepalives(f, idx, cid);
	assert_int_equal(host_recv(f, &idx, cid, buf, sizeof(buf), &len),
	    BG_CTAPHID_CBOR);
	assert_int_equal(idx, f->nsent);
	/* the new channel works once the token is free */
	host_send(f, fresh, BG_CTAPHID_WINK, NULL, 0);
	assert_int_equal(host_recv(f, &idx, fresh, buf, sizeof(buf), &len),
	    BG_CTAPHID_WINK);
	host_send(f, fresh, BG_CTAPHID_WINK, req, 1);
	expect_error(f, &idx, fresh, BG_CTAPHID_ERR_INVALID_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_init_allocates),
		T(test_init_bad_len),
		T(test_ping_fragmented),
		T(test_ping_max_and_empty),
		T(test_cbor_fragmented),
		T(test_cbor_empty_and_handler_error),
		T(test_bad_sequence),
		T(test_new_message_mid_message),
		T(test_wrong_channel),
		T(test_oversize_length),
		T(test_init_resync_mid_message),
		T(test_busy_other_channel),
		T(test_msg_timeout),
		T(test_commands),
		T(test_send_failure_reported),
		T(test_presence_granted),
		T(test_presence_timeout_keepalives),
		T(test_presence_cancel),
		T(test_presence_init_resync),
		T(test_presence_host_gone),
		T(test_presence_broadcast_init),
#undef T
	};

	return cmocka_run_group_tests_name("ctaphid", tests, NULL, NULL);
}
