/*
 * The socket front end of the software authenticator: a UNIX
 * SOCK_SEQPACKET socket on which every packet is one raw 64-byte CTAPHID
 * report (no report-id byte), in both directions.  Clients are served one
 * after another; each newly served connection is a power cycle of the
 * token.  A client that connects while another is being served gets
 * CTAPHID ERROR CHANNEL_BUSY for every report it sends.
 *
 * Also the state file helpers used by "tokenctl soft create|serve".
 *
 * Internal to libbgtoken; not a public header.  Nothing here prints:
 * lines for the operator go through the log callback.
 */
#ifndef BG_SOFT_SERVE_H
#define BG_SOFT_SERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "soft/soft.h"

#define BG_SOFT_STATE_MAX	65536	/* a larger state file is refused */

typedef struct bg_soft_serve_opts {
	const char	*state_path;	/* state file, rewritten on every save */
	const char	*socket_path;	/* created mode 0600; removed on exit */
	bg_soft_opts_t	 soft;
	bool		 no_presence;	/* never touched: KEEPALIVE until the
					   client cancels or 30 s pass */
	uint32_t	 up_timeout_ms;	/* 0: 30000 */
	uint32_t	 touch_delay_ms;	/* presence granted this long after
					   it is asked for (a person's touch,
					   for benchmarks); 0: at once */
	/*
	 * Set (from a SIGTERM/SIGINT handler the caller installed, without
	 * SA_RESTART) to ask for a clean exit: the report in hand is
	 * finished, the socket file removed, and bg_soft_serve() returns 0.
	 * bg_soft_serve() blocks SIGTERM and SIGINT except while it waits,
	 * so a signal is never lost between a check and a wait.
	 */
	volatile sig_atomic_t *stop;
	/* One line for the operator (no newline); NULL: silent. */
	void		 (*log)(void *ctx, const char *line);
	void		*log_ctx;
} bg_soft_serve_opts_t;

/*
 * Serve the token whose state blob is given (copied) until *opts->stop.
 * Logs "soft token ready on unix:PATH" once the socket accepts clients.
 * Refuses (before creating anything) when socket_path exists and is not a
 * stale socket: BG_ERR_EXISTS (not a socket, or a socket someone serves).
 * A corrupt blob: the code of bg_soft_new().  On error *why (if not NULL)
 * points at a static phrase naming what failed.
 */
int bg_soft_serve(const bg_soft_serve_opts_t *opts, const uint8_t *blob,
    size_t len, const char **why);

/*
 * Read a state file: it must be a regular file (symlinks are not
 * followed), at most BG_SOFT_STATE_MAX bytes, and not accessible to group
 * or others.  *blobp is sodium_malloc memory (sodium_free()).
 * BG_ERR_NOT_FOUND: missing; BG_ERR_DENIED: mode too open (*modep has the
 * mode) or not a regular file; BG_ERR_PARSE: empty or too large;
 * BG_ERR_IO: read error.
 */
int bg_soft_state_load(const char *path, uint8_t **blobp, size_t *lenp,
    unsigned *modep);

/*
 * Write a state file atomically: a temporary file (mode 0600) in the same
 * directory, write, fsync, then rename over path (or, with exclusive, link
 * to path, failing with BG_ERR_EXISTS if path exists), then fsync the
 * directory.  0 or BG_ERR_IO / BG_ERR_EXISTS.
 */
int bg_soft_state_store(const char *path, const uint8_t *blob, size_t len,
    bool exclusive);

#endif /* BG_SOFT_SERVE_H */
