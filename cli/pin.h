/*
 * Reading PINs for the programs: from the terminal (/dev/tty, echo off) or
 * from a file the user names with --pin-file PATH.  Never from argv or the
 * environment.
 *
 * Every PIN handed out is a NUL-terminated string in sodium_malloc memory;
 * free it with bg_pin_free(), which wipes it.  Nothing here talks to a
 * token.  On failure *whyp (when whyp is not NULL) points at a static
 * sentence for the user; the caller adds the program name and path.
 */
#ifndef BG_CLI_PIN_H
#define BG_CLI_PIN_H

#include <stddef.h>

#define BG_PIN_MIN_LEN	4	/* CTAP 2.1: at least 4 code points */
#define BG_PIN_MAX_LEN	63	/* CTAP 2.1: at most 63 bytes of UTF-8 */
#define BG_PIN_TRIES	3	/* prompts before giving up, as OpenSSH */

/*
 * Read an existing PIN.  pin_file NULL: prompt on /dev/tty with echo off
 * (the terminal is restored on every path; a SIGINT/SIGTERM/SIGHUP/SIGQUIT
 * while reading restores it and then re-delivers the signal).  Otherwise
 * the first line of pin_file, trailing "\n" or "\r\n" stripped; the file
 * must not be readable or writable by group or others.  "/dev/fd/N" names
 * an inherited descriptor (a shell pipe is mode 0600, so it passes).
 *
 * Returns BG_OK; BG_ERR_PIN_INPUT (no terminal, unreadable or empty file,
 * empty PIN, PIN longer than BG_PIN_MAX_LEN); BG_ERR_DENIED (file mode too
 * open); BG_ERR_NOT_FOUND (no such file); BG_ERR_NOMEM.
 */
int bg_pin_read(const char *pin_file, const char *prompt, char **pinp,
    const char **whyp) __attribute__((warn_unused_result));

/*
 * Read a new PIN: from pin_file as above, or on the terminal asked twice
 * ("<prompt>" then "Repeat <prompt>") and compared.  The PIN must have
 * BG_PIN_MIN_LEN..BG_PIN_MAX_LEN bytes.  Returns as bg_pin_read(), plus
 * BG_ERR_PIN_INPUT when the two entries differ and BG_ERR_TOKEN_PIN_POLICY
 * when the length is out of range.
 */
int bg_pin_read_new(const char *pin_file, const char *prompt, char **pinp,
    const char **whyp) __attribute__((warn_unused_result));

/* Wipes and frees *pinp, sets it to NULL; tolerates NULL. */
void bg_pin_free(char **pinp);

/*
 * The "three tries" loop.  Reads a PIN (as bg_pin_read) and calls
 * fn(ctx, pin).  When fn returns BG_ERR_TOKEN_PIN_INVALID and the PIN came
 * from the terminal, asks again, at most BG_PIN_TRIES times in all; a PIN
 * from a file is tried once.  fn may print (e.g. "wrong PIN, 5 tries
 * left") before returning.  The PIN is wiped after each try.  Returns fn's
 * last result, or the PIN reading error (with *whyp set).
 */
typedef int (*bg_pin_try_fn)(void *ctx, const char *pin);
int bg_pin_try(const char *pin_file, const char *prompt, bg_pin_try_fn fn,
    void *ctx, const char **whyp);

#endif /* BG_CLI_PIN_H */
