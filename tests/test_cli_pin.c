/*
 * cli/pin.c (PIN files and the terminal reader), cli/harden.c and the
 * small helpers of cli/util.c.  The terminal is a real pseudo-terminal:
 * the child process has it as its controlling terminal, so /dev/tty is it.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "harden.h"
#include "pin.h"
#include "util.h"

static char dir[] = "/tmp/bg-test-pin.XXXXXX";

static const char *
write_file(const char *name, const char *content, size_t len, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static int
read_file_pin(const char *content, mode_t mode, char **pinp, const char **whyp)
{
	const char *p = write_file("pin", content, strlen(content), mode);

	return bg_pin_read(p, NULL, pinp, whyp);
}

static void
test_file_ok(void **state)
{
	char *pin = NULL;
	const char *why = "x";

	(void)state;
	assert_int_equal(read_file_pin("1234\n", 0600, &pin, &why), BG_OK);
	assert_string_equal(pin, "1234");
	assert_null(why);
	bg_pin_free(&pin);
	assert_null(pin);
	bg_pin_free(&pin);	/* tolerates NULL */
	bg_pin_free(NULL);

	assert_int_equal(read_file_pin("abcd\r\n", 0400, &pin, NULL), BG_OK);
	assert_string_equal(pin, "abcd");
	bg_pin_free(&pin);
	assert_int_equal(read_file_pin("no newline", 0600, &pin, NULL), BG_OK);
	assert_string_equal(pin, "no newline");
	bg_pin_free(&pin);
	assert_int_equal(read_file_pin("first\nsecond\n", 0600, &pin, NULL),
	    BG_OK);
	assert_string_equal(pin, "first");
	bg_pin_free(&pin);
	/* spaces are part of a PIN */
	assert_int_equal(read_file_pin(" 12 34 \n", 0600, &pin, NULL), BG_OK);
	assert_string_equal(pin, " 12 34 ");
	bg_pin_free(&pin);
}

static void
test_file_refused(void **state)
{
	char *pin = (char *)(uintptr_t)1;
	const char *why = NULL;
	char path[256];

	(void)state;
	/* readable by group or others */
	assert_int_equal(read_file_pin("1234\n", 0640, &pin, &why),
	    BG_ERR_DENIED);
	assert_null(pin);
	assert_non_null(why);
	assert_non_null(strstr(why, "chmod 600"));
	assert_int_equal(read_file_pin("1234\n", 0604, &pin, &why),
	    BG_ERR_DENIED);
	assert_int_equal(read_file_pin("1234\n", 0620, &pin, &why),
	    BG_ERR_DENIED);
	/* missing */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(bg_pin_read(path, NULL, &pin, &why), BG_ERR_NOT_FOUND);
	assert_non_null(strstr(why, "does not exist"));
	/* empty file, empty first line */
	assert_int_equal(read_file_pin("", 0600, &pin, &why), BG_ERR_PIN_INPUT);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(read_file_pin("\n1234\n", 0600, &pin, &why),
	    BG_ERR_PIN_INPUT);
	assert_null(pin);
	assert_int_equal(bg_pin_read(path, NULL, NULL, &why),
	    BG_ERR_INVALID_ARG);
}

static void
test_file_lengths(void **state)
{
	char buf[80], *pin = NULL;
	const char *why = NULL;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	buf[63] = '\n';
	buf[64] = '\0';
	assert_int_equal(read_file_pin(buf, 0600, &pin, NULL), BG_OK);
	assert_int_equal(strlen(pin), 63);
	bg_pin_free(&pin);
	buf[63] = 'x';
	buf[64] = '\n';
	buf[65] = '\0';
	assert_int_equal(read_file_pin(buf, 0600, &pin, &why),
	    BG_ERR_PIN_INPUT);
	assert_non_null(strstr(why, "63"));
	assert_null(pin);
	/* much longer than the buffer */
	memset(buf, 'y', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(read_file_pin(buf, 0600, &pin, &why),
	    BG_ERR_PIN_INPUT);
}

static void
test_new_pin_rules(void **state)
{
	const char *p, *why = NULL;
	char *pin = NULL;

	(void)state;
	p = write_file("new", "123\n", 4, 0600);
	assert_int_equal(bg_pin_read_new(p, NULL, &pin, &why),
	    BG_ERR_TOKEN_PIN_POLICY);
	assert_null(pin);
	assert_non_null(why);
	p = write_file("new", "1234\n", 5, 0600);
	assert_int_equal(bg_pin_read_new(p, NULL, &pin, &why), BG_OK);
	assert_string_equal(pin, "1234");
	bg_pin_free(&pin);
	/* four code points in eight bytes is long enough ... */
	p = write_file("new", "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\n", 9, 0600);
	assert_int_equal(bg_pin_read_new(p, NULL, &pin, &why), BG_OK);
	bg_pin_free(&pin);
	/* ... three in six is not */
	p = write_file("new", "\xc3\xa4\xc3\xa4\xc3\xa4\n", 7, 0600);
	assert_int_equal(bg_pin_read_new(p, NULL, &pin, &why),
	    BG_ERR_TOKEN_PIN_POLICY);
	p = write_file("new", "1234\n", 5, 0644);
	assert_int_equal(bg_pin_read_new(p, NULL, &pin, &why), BG_ERR_DENIED);
}

static void
test_dev_fd_pipe(void **state)
{
	char path[64], *pin = NULL;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "4321\n", 5), 5);
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	assert_int_equal(bg_pin_read(path, NULL, &pin, NULL), BG_OK);
	assert_string_equal(pin, "4321");
	bg_pin_free(&pin);
	close(fds[0]);
}

struct tries {
	int		 calls;
	int		 result;
	char		 seen[16];
};

static int
try_fn(void *ctx, const char *pin)
{
	struct tries *t = ctx;

	t->calls++;
	snprintf(t->seen, sizeof(t->seen), "%s", pin);
	return t->result;
}

static void
test_try_file_once(void **state)
{
	struct tries t = { 0, BG_ERR_TOKEN_PIN_INVALID, "" };
	const char *p, *why = NULL;

	(void)state;
	p = write_file("try", "2468\n", 5, 0600);
	/* a file's PIN is tried once: asking again would give the same */
	assert_int_equal(bg_pin_try(p, NULL, try_fn, &t, &why),
	    BG_ERR_TOKEN_PIN_INVALID);
	assert_int_equal(t.calls, 1);
	assert_string_equal(t.seen, "2468");
	t.calls = 0;
	t.result = BG_OK;
	assert_int_equal(bg_pin_try(p, NULL, try_fn, &t, &why), BG_OK);
	assert_int_equal(t.calls, 1);
	/* a read error is returned with its reason, fn not called */
	p = write_file("try", "2468\n", 5, 0666);
	t.calls = 0;
	assert_int_equal(bg_pin_try(p, NULL, try_fn, &t, &why), BG_ERR_DENIED);
	assert_int_equal(t.calls, 0);
	assert_non_null(why);
	assert_int_equal(bg_pin_try(p, NULL, NULL, &t, &why),
	    BG_ERR_INVALID_ARG);
}

/* --- the terminal, through a pseudo-terminal ------------------------- */

/* Read from the pty master until `want` shows up (or 5 s pass). */
static void
expect_output(int master, const char *want, char *seen, size_t cap)
{
	struct pollfd pfd = { master, POLLIN, 0 };
	size_t len = strlen(seen);
	ssize_t n;
	int i;

	for (i = 0; i < 50 && strstr(seen, want) == NULL; i++) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(master, seen + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		seen[len] = '\0';
	}
	assert_non_null(strstr(seen, want));
}

/* Everything the child wrote until it went away. */
static void
drain(int master, char *seen, size_t cap)
{
	struct pollfd pfd = { master, POLLIN, 0 };
	size_t len = strlen(seen);
	ssize_t n;

	while (len < cap - 1 && poll(&pfd, 1, 200) > 0) {
		n = read(master, seen + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		seen[len] = '\0';
	}
}

static bool
echo_on(int master)
{
	struct termios t;

	assert_int_equal(tcgetattr(master, &t), 0);
	return (t.c_lflag & ECHO) != 0;
}

/* Child: read a PIN (new=1: twice) and exit 0 if it is "5678". */
static void
child_read(int new_pin)
{
	char *pin = NULL;
	int r;

	alarm(10);	/* a stuck child fails the test instead of hanging it */
	if (new_pin)
		r = bg_pin_read_new(NULL, "New PIN: ", &pin, NULL);
	else
		r = bg_pin_read(NULL, "PIN: ", &pin, NULL);
	_exit(r == BG_OK && strcmp(pin, "5678") == 0 ? 0 :
	    r == BG_ERR_PIN_INPUT ? 3 : 4);
}

static void
test_tty_read(void **state)
{
	char seen[512] = "";
	int master, st;
	pid_t pid;

	(void)state;
	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		child_read(0);
	expect_output(master, "PIN: ", seen, sizeof(seen));
	assert_false(echo_on(master));		/* echo is off while asking */
	assert_int_equal(write(master, "5678\n", 5), 5);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	drain(master, seen, sizeof(seen));
	assert_non_null(strstr(seen, "PIN: "));
	assert_null(strstr(seen, "5678"));	/* never echoed */
	close(master);
}

static void
test_tty_new_twice(void **state)
{
	char seen[512] = "";
	int master, st;
	pid_t pid;

	(void)state;
	/* the same twice */
	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		child_read(1);
	expect_output(master, "New PIN: ", seen, sizeof(seen));
	assert_int_equal(write(master, "5678\n", 5), 5);
	expect_output(master, "Repeat New PIN: ", seen, sizeof(seen));
	assert_int_equal(write(master, "5678\n", 5), 5);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(master);

	/* two different entries are refused */
	seen[0] = '\0';
	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		child_read(1);
	expect_output(master, "New PIN: ", seen, sizeof(seen));
	assert_int_equal(write(master, "5678\n", 5), 5);
	expect_output(master, "Repeat New PIN: ", seen, sizeof(seen));
	assert_int_equal(write(master, "8765\n", 5), 5);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	close(master);
}

static void
test_tty_sigint_restores(void **state)
{
	char seen[512] = "";
	int master, st;
	pid_t pid;

	(void)state;
	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		child_read(0);
	expect_output(master, "PIN: ", seen, sizeof(seen));
	assert_false(echo_on(master));
	assert_int_equal(write(master, "12\x03", 3), 3);	/* Ctrl-C */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* the terminal was restored, then the signal delivered */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGINT);
	assert_true(echo_on(master));
	close(master);
}

static void
test_no_tty(void **state)
{
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *pin = NULL;
		const char *why = NULL;
		int r;

		alarm(10);
		(void)setsid();		/* no controlling terminal now */
		r = bg_pin_read(NULL, "PIN: ", &pin, &why);
		_exit(r == BG_ERR_PIN_INPUT && pin == NULL && why != NULL &&
		    strstr(why, "--pin-file") != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* --- harden and util ------------------------------------------------- */

static void
test_harden(void **state)
{
	struct rlimit rl;
	const char *why = "x";

	(void)state;
	assert_int_equal(bg_harden_process(&why), BG_OK);
	assert_null(why);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

static void
test_util(void **state)
{
	static const uint8_t b[] = { 0x00, 0x7f, 0xa5, 0xff };
	uint8_t id[16];
	char uuid[37], *h;
	size_t i;

	(void)state;
	h = bg_cli_hex(b, sizeof(b));
	assert_non_null(h);
	assert_string_equal(h, "007fa5ff");
	free(h);
	h = bg_cli_hex(b, 0);
	assert_string_equal(h, "");
	free(h);
	for (i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(i * 17);
	bg_cli_uuid(id, uuid);
	assert_string_equal(uuid, "00112233-4455-6677-8899-aabbccddeeff");
	assert_int_equal(bg_cli_exit_code(BG_OK), 0);
	assert_int_equal(bg_cli_exit_code(BG_ERR_TOKEN_PIN_INVALID), 3);
	assert_int_equal(bg_cli_exit_code(BG_ERR_TOKEN_PIN_BLOCKED), 3);
	assert_int_equal(bg_cli_exit_code(BG_ERR_TOKEN_NOT_FOUND), 4);
	assert_int_equal(bg_cli_exit_code(BG_ERR_TOKEN_TIMEOUT), 1);
}

static int
mk_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
rm_dir(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/pin", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/new", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/try", dir);
	unlink(path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_ok),
		cmocka_unit_test(test_file_refused),
		cmocka_unit_test(test_file_lengths),
		cmocka_unit_test(test_new_pin_rules),
		cmocka_unit_test(test_dev_fd_pipe),
		cmocka_unit_test(test_try_file_once),
		cmocka_unit_test(test_tty_read),
		cmocka_unit_test(test_tty_new_twice),
		cmocka_unit_test(test_tty_sigint_restores),
		cmocka_unit_test(test_no_tty),
		cmocka_unit_test(test_harden),
		cmocka_unit_test(test_util),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("cli_pin", tests, mk_dir, rm_dir);
}
