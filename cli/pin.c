/*
 * PIN entry.  A small termios reader (Debian's glibc has no
 * readpassphrase): the PIN goes straight from read(2) into sodium_malloc
 * memory, one byte at a time, so no stdio buffer ever holds it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "pin.h"

/* Room for the longest PIN, one byte to notice "too long", and NUL. */
#define PINBUF_LEN	(BG_PIN_MAX_LEN + 2)

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_TTY_SIGNALS	(sizeof(tty_signals) / sizeof(tty_signals[0]))

static volatile sig_atomic_t caught_signal;

static void
on_signal(int sig)
{
	caught_signal = sig;
}

void
bg_pin_free(char **pinp)
{
	if (pinp == NULL || *pinp == NULL)
		return;
	sodium_free(*pinp);	/* wipes */
	*pinp = NULL;
}

static int
write_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/*
 * Read one line from fd into buf (cap PINBUF_LEN), byte by byte.  Sets
 * *too_long when the line does not fit.  With waitmask (the terminal), the
 * caller has blocked the signals it catches; each wait is a ppoll() that
 * unblocks them atomically, so a signal that came before the wait is not
 * lost and the read stops at once.  Returns the number of bytes stored
 * (NUL-terminated), or -1 on error or a caught signal.
 */
static ssize_t
read_line(int fd, char *buf, bool *too_long, bool *got_any,
    const sigset_t *waitmask)
{
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	char c;

	*too_long = false;
	*got_any = false;
	for (;;) {
		if (waitmask != NULL) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (ppoll(&pfd, 1, NULL, waitmask) < 0) {
				if (errno == EINTR && caught_signal == 0)
					continue;
				return -1;
			}
		}
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR) {
			if (caught_signal != 0)
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got_any = true;
		if (c == '\n')
			break;
		if (len < PINBUF_LEN - 1)
			buf[len++] = c;
		else
			*too_long = true;
	}
	sodium_memzero(&c, sizeof(c));
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > BG_PIN_MAX_LEN)
		*too_long = true;
	buf[len] = '\0';
	return (ssize_t)len;
}

static int
pin_from_file(const char *path, char **pinp, const char **whyp)
{
	struct stat st;
	char *pin = NULL;
	bool too_long = false, got_any = false;
	ssize_t n;
	int fd = -1, r = BG_ERR_INTERNAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = errno == ENOENT ? BG_ERR_NOT_FOUND : BG_ERR_PIN_INPUT;
		*whyp = errno == ENOENT ? "the PIN file does not exist" :
		    "the PIN file cannot be opened";
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "the PIN file cannot be examined";
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = BG_ERR_DENIED;
		*whyp = "the PIN file is accessible by group or others; "
		    "make it private (chmod 600)";
		goto out;
	}
	if ((pin = sodium_malloc(PINBUF_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	caught_signal = 0;
	if ((n = read_line(fd, pin, &too_long, &got_any, NULL)) < 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "the PIN file cannot be read";
		goto out;
	}
	if (too_long) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "the PIN in the file is longer than 63 bytes";
		goto out;
	}
	if (n == 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "the PIN file is empty (the PIN is its first line)";
		goto out;
	}
	*pinp = pin;
	pin = NULL;
	r = BG_OK;
out:
	bg_pin_free(&pin);
	if (fd >= 0)
		close(fd);
	return r;
}

static int
pin_from_tty(const char *prompt, char **pinp, const char **whyp)
{
	struct sigaction sa, saved[N_TTY_SIGNALS];
	sigset_t block, oldmask;
	struct termios old, noecho;
	char *pin = NULL;
	bool too_long = false, got_any = false, restore = false;
	bool handlers = false;
	ssize_t n = -1;
	size_t i;
	int fd = -1, sig = 0, r = BG_ERR_INTERNAL;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "there is no terminal to ask for the PIN on; "
		    "use --pin-file";
		goto out;
	}
	if ((pin = sodium_malloc(PINBUF_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (tcgetattr(fd, &old) != 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "cannot read the terminal settings";
		goto out;
	}
	/*
	 * The signals stay blocked except inside ppoll() (read_line), so
	 * one that comes at any moment is seen before or during the wait.
	 */
	caught_signal = 0;
	sigemptyset(&block);
	for (i = 0; i < N_TTY_SIGNALS; i++)
		sigaddset(&block, tty_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &sa, &saved[i]);
	handlers = true;

	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "cannot turn off echo on the terminal";
		goto out;
	}
	restore = true;
	if (write_all(fd, prompt) != 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "cannot write to the terminal";
		goto out;
	}
	n = read_line(fd, pin, &too_long, &got_any, &oldmask);
	if (caught_signal != 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "interrupted";
		goto out;
	}
	if (n < 0 || !got_any) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "the PIN could not be read from the terminal";
		goto out;
	}
	if (too_long) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "the PIN is longer than 63 bytes";
		goto out;
	}
	if (n == 0) {
		r = BG_ERR_PIN_INPUT;
		*whyp = "no PIN entered";
		goto out;
	}
	*pinp = pin;
	pin = NULL;
	r = BG_OK;
out:
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		(void)write_all(fd, "\n");
	}
	if (handlers) {
		for (i = 0; i < N_TTY_SIGNALS; i++)
			sigaction(tty_signals[i], &saved[i], NULL);
		/* a signal still pending now meets its old disposition */
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	bg_pin_free(&pin);
	if (fd >= 0)
		close(fd);
	/* Deliver the signal the user meant, now that the terminal is sane. */
	if ((sig = caught_signal) != 0) {
		caught_signal = 0;
		raise(sig);
	}
	return r;
}

int
bg_pin_read(const char *pin_file, const char *prompt, char **pinp,
    const char **whyp)
{
	const char *why = NULL;
	int r = BG_ERR_INTERNAL;

	if (pinp != NULL)
		*pinp = NULL;
	if (whyp != NULL)
		*whyp = NULL;
	if (pinp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (pin_file != NULL)
		r = pin_from_file(pin_file, pinp, &why);
	else
		r = pin_from_tty(prompt != NULL ? prompt : "PIN: ", pinp, &why);
out:
	if (whyp != NULL)
		*whyp = why;
	return r;
}

/* Length rules of CTAP 2.1: >= 4 code points, <= 63 bytes. */
static bool
pin_length_ok(const char *pin)
{
	size_t bytes = 0, points = 0;

	for (; pin[bytes] != '\0'; bytes++)
		if (((unsigned char)pin[bytes] & 0xc0) != 0x80)
			points++;
	return points >= BG_PIN_MIN_LEN && bytes <= BG_PIN_MAX_LEN;
}

int
bg_pin_read_new(const char *pin_file, const char *prompt, char **pinp,
    const char **whyp)
{
	char *pin = NULL, *again = NULL, *prompt2 = NULL;
	const char *why = NULL;
	size_t len, len2, plen;
	int r = BG_ERR_INTERNAL;

	if (pinp != NULL)
		*pinp = NULL;
	if (whyp != NULL)
		*whyp = NULL;
	if (pinp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (prompt == NULL)
		prompt = "New PIN: ";
	if ((r = bg_pin_read(pin_file, prompt, &pin, &why)) != BG_OK)
		goto out;
	if (!pin_length_ok(pin)) {
		r = BG_ERR_TOKEN_PIN_POLICY;
		why = "a PIN must have 4 to 63 characters";
		goto out;
	}
	if (pin_file == NULL) {
		plen = strlen(prompt) + sizeof("Repeat ");
		if ((prompt2 = sodium_malloc(plen)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		/* The prompt is public; sodium_malloc only for symmetry. */
		if (snprintf(prompt2, plen, "Repeat %s", prompt) < 0) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if ((r = bg_pin_read(NULL, prompt2, &again, &why)) != BG_OK)
			goto out;
		len = strlen(pin);
		len2 = strlen(again);
		if (len != len2 || sodium_memcmp(pin, again, len) != 0) {
			r = BG_ERR_PIN_INPUT;
			why = "the two PINs entered differ";
			goto out;
		}
	}
	*pinp = pin;
	pin = NULL;
	r = BG_OK;
out:
	bg_pin_free(&pin);
	bg_pin_free(&again);
	if (prompt2 != NULL)
		sodium_free(prompt2);
	if (whyp != NULL)
		*whyp = why;
	return r;
}

int
bg_pin_try(const char *pin_file, const char *prompt, bg_pin_try_fn fn,
    void *ctx, const char **whyp)
{
	char *pin = NULL;
	const char *why = NULL;
	int tries, r = BG_ERR_INTERNAL;

	if (whyp != NULL)
		*whyp = NULL;
	if (fn == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	for (tries = 0; tries < BG_PIN_TRIES; tries++) {
		if ((r = bg_pin_read(pin_file, prompt, &pin, &why)) != BG_OK)
			goto out;
		r = fn(ctx, pin);
		bg_pin_free(&pin);
		if (r != BG_ERR_TOKEN_PIN_INVALID || pin_file != NULL)
			break;
	}
out:
	bg_pin_free(&pin);
	if (whyp != NULL)
		*whyp = why;
	return r;
}
