/*
 * An in-process software token: the CTAP2 core (soft.h) behind the CTAPHID
 * framing (ctaphid.h), reachable through a bg_token_io_t with exactly
 * libfido2's fido_dev_io_t semantics, so that libfido2 (or the token layer,
 * through bg_token_open_io()) drives it over real CTAPHID without a socket.
 *
 *   bg_soft_inproc_t *ip = NULL;
 *   bg_soft_inproc_new(NULL, NULL, 0, &ip);        fresh token, touch granted
 *   fido_dev_set_io_functions(dev, bg_soft_inproc_fido_io());
 *   fido_dev_open(dev, bg_soft_inproc_path(ip));
 *   ...
 *   bg_soft_inproc_free(&ip);                       after fido_dev_close()
 *
 * Requests are processed synchronously, in the thread whose write()
 * completes a CTAPHID message; the replies (KEEPALIVEs included) are queued
 * for read().  A write() from another thread while a request is being
 * processed (fido_dev_cancel() while a presence wait runs) is handed to the
 * running presence wait, so CANCEL works as on a USB token.
 *
 * Internal to libbgtoken and its tests; not a public header.
 */
#ifndef BG_SOFT_INPROC_H
#define BG_SOFT_INPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breakglass/token.h"
#include "soft/soft.h"

/* Prefix of the paths bg_soft_inproc_path() hands out. */
#define BG_SOFT_INPROC_PREFIX	"inproc:"

/* What the simulated person does when the token asks for a touch. */
enum bg_soft_inproc_presence {
	BG_SOFT_INPROC_GRANT = 0,	/* touches at once */
	BG_SOFT_INPROC_DENY,		/* core sees BG_SOFT_UP_DENIED */
	BG_SOFT_INPROC_NEVER,		/* never touches: KEEPALIVE(UPNEEDED) every
					   100 ms until the host CANCELs or the
					   user-action timeout passes */
};

typedef struct bg_soft_inproc_opts {
	bg_soft_opts_t	 soft;		/* passed to bg_soft_new() */
	int		 presence;	/* enum bg_soft_inproc_presence */
	uint32_t	 up_timeout_ms;	/* user-action timeout; 0: 30000 */
	/* Randomness for the core and for new state; NULL: randombytes_buf. */
	void		 (*random)(void *ctx, uint8_t *buf, size_t len);
	void		*random_ctx;
} bg_soft_inproc_opts_t;

typedef struct bg_soft_inproc bg_soft_inproc_t;

/*
 * A token from state blob (copied) or, when blob is NULL, a fresh one.
 * opts NULL means all defaults (both PIN protocols, touch granted).
 * Returns 0 or a BG_ERR_* code; *ipp is set only on success.
 */
int bg_soft_inproc_new(const bg_soft_inproc_opts_t *opts,
    const uint8_t *blob, size_t len, bg_soft_inproc_t **ipp);
/* Tolerates NULL; sets *ipp to NULL.  Close the libfido2 device first. */
void bg_soft_inproc_free(bg_soft_inproc_t **ipp);

/*
 * "inproc:N": the path that the io tables' open() maps back to this
 * instance (a process-wide registry; valid until bg_soft_inproc_free()).
 */
const char *bg_soft_inproc_path(const bg_soft_inproc_t *ip);

/* The transport for any instance, for bg_token_open_io(). */
const bg_token_io_t *bg_soft_inproc_io(void);
/*
 * The same functions as a libfido2 fido_dev_io_t, for
 * fido_dev_set_io_functions(); returned as void * so this header does not
 * need <fido.h>.  (bg_token_io_t and fido_dev_io_t have the same layout.)
 */
const void *bg_soft_inproc_fido_io(void);

/*
 * The current persistent state (the last blob the core saved, or the
 * initial one): a copy in sodium_malloc memory the caller frees with
 * sodium_free().  Feed it to bg_soft_inproc_new() to "replug" the token.
 */
int bg_soft_inproc_state(bg_soft_inproc_t *ip, uint8_t **blobp,
    size_t *lenp);
/* How many times the core has saved its state. */
unsigned long bg_soft_inproc_saves(bg_soft_inproc_t *ip);

/* Change the presence policy (enum bg_soft_inproc_presence). */
void bg_soft_inproc_set_presence(bg_soft_inproc_t *ip, int presence);

/*
 * Unplug and replug: bg_soft_power_cycle() on the core, every CTAPHID
 * channel forgotten, queued replies dropped.  Open handles stay valid but
 * the host must send INIT again (libfido2: close and reopen).  Not while
 * another thread is inside a request.
 */
void bg_soft_inproc_power_cycle(bg_soft_inproc_t *ip);

/*
 * Fault injection: fn sees every outgoing 64-byte report before the host
 * can read it, in order, and may alter it; returning false drops it.
 * fn NULL removes the hook.  It runs with the instance's lock held: it
 * must not call back into bg_soft_inproc_*().
 */
typedef bool (*bg_soft_inproc_tamper_fn)(void *ctx, uint8_t report[64]);
void bg_soft_inproc_set_tamper(bg_soft_inproc_t *ip,
    bg_soft_inproc_tamper_fn fn, void *ctx);
/* Reports the token has sent so far (dropped ones included). */
unsigned long bg_soft_inproc_sent(bg_soft_inproc_t *ip);
/* Number of KEEPALIVE reports sent so far. */
unsigned long bg_soft_inproc_keepalives(bg_soft_inproc_t *ip);

#endif /* BG_SOFT_INPROC_H */
