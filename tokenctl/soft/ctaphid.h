/*
 * CTAPHID framing of the software authenticator (CTAP 2.1 §11.2, USB HID
 * transport) over 64-byte reports, independent of how the reports travel
 * (socket daemon, in-process adapter, fuzzer) and of the CTAP2 core (a
 * callback).  No real time: the clock is injected.
 *
 * One bg_ctaphid_t is one plugged-in device: it allocates channels, builds
 * messages out of init and continuation packets, answers INIT, PING, WINK
 * and CANCEL itself, hands CBOR messages to the handler, and sends ERROR
 * replies.  It is single-threaded: the front end calls bg_ctaphid_input()
 * for each report from the host and bg_ctaphid_tick() when it has been idle,
 * and the replies leave through io->send() before those calls return.
 *
 * While a CBOR request waits for a touch, the core's presence callback is
 * bg_ctaphid_presence() (install it with bg_soft_set_presence(soft,
 * bg_ctaphid_presence, ctaphid)): it sends KEEPALIVE(UPNEEDED) every
 * 100 ms on the active channel, reads reports through io->recv() meanwhile,
 * and asks the front end's presence policy.
 *
 * Internal to libbgtoken; not a public header.
 */
#ifndef BG_CTAPHID_H
#define BG_CTAPHID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BG_CTAPHID_REPORT_LEN	64
#define BG_CTAPHID_INIT_DATA	57	/* payload bytes in an init packet */
#define BG_CTAPHID_CONT_DATA	59	/* payload bytes in a continuation */
#define BG_CTAPHID_BROADCAST	0xffffffffu

/* Largest message accepted or sent; BCNT above it is ERR_INVALID_LEN. */
#define BG_CTAPHID_MAX_MSG	2048	/* == BG_SOFT_MAX_MSG (getInfo maxMsgSize) */

#define BG_CTAPHID_MSG_TIMEOUT_MS	500	/* between packets of a message */
#define BG_CTAPHID_KEEPALIVE_MS		100
#define BG_CTAPHID_UP_TIMEOUT_MS	30000	/* default user-action timeout */

/* Commands (without the 0x80 init-packet bit). */
#define BG_CTAPHID_PING		0x01
#define BG_CTAPHID_MSG		0x03
#define BG_CTAPHID_LOCK		0x04
#define BG_CTAPHID_INIT		0x06
#define BG_CTAPHID_WINK		0x08
#define BG_CTAPHID_CBOR		0x10
#define BG_CTAPHID_CANCEL	0x11
#define BG_CTAPHID_KEEPALIVE	0x3b
#define BG_CTAPHID_ERROR	0x3f

/* ERROR codes. */
#define BG_CTAPHID_ERR_INVALID_CMD	0x01
#define BG_CTAPHID_ERR_INVALID_PAR	0x02
#define BG_CTAPHID_ERR_INVALID_LEN	0x03
#define BG_CTAPHID_ERR_INVALID_SEQ	0x04
#define BG_CTAPHID_ERR_MSG_TIMEOUT	0x05
#define BG_CTAPHID_ERR_CHANNEL_BUSY	0x06
#define BG_CTAPHID_ERR_INVALID_CHANNEL	0x0b
#define BG_CTAPHID_ERR_OTHER		0x7f

/* KEEPALIVE status. */
#define BG_CTAPHID_STATUS_PROCESSING	1
#define BG_CTAPHID_STATUS_UPNEEDED	2

/* INIT reply capability flags. */
#define BG_CTAPHID_CAP_WINK	0x01
#define BG_CTAPHID_CAP_CBOR	0x04
#define BG_CTAPHID_CAP_NMSG	0x08	/* no CTAP1 MSG: we set it */

/* INIT reply: CTAPHID protocol version and our device version. */
#define BG_CTAPHID_PROTOCOL	2
#define BG_CTAPHID_DEV_MAJOR	1
#define BG_CTAPHID_DEV_MINOR	0
#define BG_CTAPHID_DEV_BUILD	0

/* Returned by a presence policy: no decision yet, keep waiting. */
#define BG_CTAPHID_UP_PENDING	(-1)

typedef struct bg_ctaphid_io {
	/* Deliver one report to the host; 0, or a BG_ERR_* code. */
	int	 (*send)(void *ctx, const uint8_t report[BG_CTAPHID_REPORT_LEN]);
	/*
	 * Only during a presence wait: wait at most ms milliseconds for the
	 * next report from the host.  1: one report in *report; 0: none came
	 * in time; <0: a BG_ERR_* code (host gone, shutdown asked): the wait
	 * ends as if the host had cancelled.  NULL: nothing can ever arrive,
	 * so a pending presence wait ends at once with BG_SOFT_UP_TIMEOUT.
	 */
	int	 (*recv)(void *ctx, uint8_t report[BG_CTAPHID_REPORT_LEN], int ms);
	/* Monotonic milliseconds. */
	uint64_t (*now_ms)(void *ctx);
	/*
	 * The person's answer to "touch the token": BG_SOFT_UP_GRANTED,
	 * BG_SOFT_UP_DENIED, or BG_CTAPHID_UP_PENDING.  NULL: granted.
	 */
	int	 (*policy)(void *ctx);
	void	*ctx;
} bg_ctaphid_io_t;

/* One CBOR request (command byte + parameters) -> response (status +
 * CBOR) in resp[0..cap); 0, or a BG_ERR_* code which is answered with
 * CTAPHID ERROR OTHER. */
typedef int (*bg_ctaphid_cbor_fn)(void *ctx, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len);

typedef struct bg_ctaphid bg_ctaphid_t;

/* io is copied.  cbor_ctx is passed to cbor.  0 or BG_ERR_NOMEM. */
int bg_ctaphid_new(const bg_ctaphid_io_t *io, bg_ctaphid_cbor_fn cbor,
    void *cbor_ctx, bg_ctaphid_t **hidp);
void bg_ctaphid_free(bg_ctaphid_t **hidp);

/* First CID that INIT on the broadcast channel allocates (default 1);
 * later ones count up.  For tests and for seeding from randomness. */
void bg_ctaphid_set_next_cid(bg_ctaphid_t *hid, uint32_t cid);
/* User-action timeout of a presence wait; 0 restores the default. */
void bg_ctaphid_set_up_timeout(bg_ctaphid_t *hid, uint32_t ms);

/* Forget every channel and any partial message (a power cycle). */
void bg_ctaphid_reset(bg_ctaphid_t *hid);

/*
 * One report from the host.  Replies go out through io->send() before
 * this returns (a CBOR request runs the handler, presence wait included).
 * Returns 0, or the error of io->send() (the host is probably gone);
 * protocol errors are CTAPHID ERROR replies, not return values.
 */
int bg_ctaphid_input(bg_ctaphid_t *hid,
    const uint8_t report[BG_CTAPHID_REPORT_LEN]);

/*
 * Call when no report arrived for a while: a message whose continuation
 * is overdue is abandoned with ERR_MSG_TIMEOUT.  Returns the milliseconds
 * until the next such deadline, or -1 when nothing is pending (so a front
 * end can use it as its poll timeout).
 */
int bg_ctaphid_tick(bg_ctaphid_t *hid);

/*
 * The core's presence callback; ctx is the bg_ctaphid_t.  Returns enum
 * bg_soft_up: GRANTED/DENIED from the policy, CANCELLED on CANCEL or INIT
 * on the active channel or when io->recv() fails, TIMEOUT after the
 * user-action timeout.  Other channels are answered ERR_CHANNEL_BUSY
 * meanwhile.  Outside a CBOR request it returns the policy's answer
 * without waiting (PENDING counts as TIMEOUT).
 */
int bg_ctaphid_presence(void *ctx);

/* Counters for tests: KEEPALIVE reports sent, reports sent in total. */
unsigned long bg_ctaphid_keepalives(const bg_ctaphid_t *hid);
unsigned long bg_ctaphid_sent(const bg_ctaphid_t *hid);

#endif /* BG_CTAPHID_H */
