/*
 * Constant time of the policy split and combine (vault/policy.c) by the
 * ctgrind technique, as tests/test_shamir.c does for GF(2^8) and Shamir:
 * the program re-runs itself under valgrind memcheck with the key, the
 * node secrets drawn by the rng and every leaf share marked undefined, so
 * that any branch on them or any address computed from them is reported.
 * The tree walk itself depends only on the (public) policy and the
 * (public) set of present leaves.  A positive control (a look-up indexed
 * by a secret byte) shows that the method sees what it is meant to see.
 * ASan and valgrind do not mix: sanitizer builds say so and skip.
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "policy.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define POLICY	"all-of(2-of(alice,bob,carol),1-of(mia,nina),3-of(p1,p2,p3,p4))"

/* the same tree's behaviour, checked in plain runs */
static void
test_split_combine(void **state)
{
	bg_policy_t *p = NULL;
	uint8_t key[BG_POLICY_KEY_LEN], out[BG_POLICY_KEY_LEN], *sh;
	bool have[9] = { true, false, true, false, true, true, true, true,
	    false };
	size_t n;

	(void)state;
	assert_int_equal(bg_policy_parse(POLICY, &p, NULL), BG_OK);
	n = bg_policy_leaf_count(p);
	assert_int_equal(n, 9);
	assert_non_null(sh = sodium_malloc(n * 32));
	randombytes_buf(key, sizeof(key));
	assert_int_equal(bg_policy_split(p, key, sh, NULL, NULL), BG_OK);
	assert_int_equal(bg_policy_combine(p, have, sh, out), BG_OK);
	assert_memory_equal(out, key, sizeof(key));
	have[4] = false;	/* neither mia nor nina */
	have[5] = false;
	assert_int_equal(bg_policy_combine(p, have, sh, out), BG_ERR_DENIED);
	sodium_free(sh);
	bg_policy_free(&p);
}

#if defined(HAVE_MEMCHECK) && !defined(UNDER_ASAN)
#define CT_ERROR_EXIT	42

static void
secret_rng(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
	VALGRIND_MAKE_MEM_UNDEFINED(buf, len);
}

static int
ct_child(const char *mode)
{
	static const uint8_t table[256] = { 1, 2, 3 };
	bg_policy_t *p = NULL;
	uint8_t key[BG_POLICY_KEY_LEN], out[BG_POLICY_KEY_LEN], *sh;
	bool have[9] = { true, false, true, false, true, true, true, true,
	    false };
	volatile uint8_t sink = 0;
	int rc = 0;

	randombytes_buf(key, sizeof(key));
	VALGRIND_MAKE_MEM_UNDEFINED(key, sizeof(key));
	if (strcmp(mode, "leaky") == 0) {
		sink = table[key[0]];	/* the positive control */
		(void)sink;
		return 0;
	}
	if (bg_policy_parse(POLICY, &p, NULL) != BG_OK ||
	    (sh = sodium_malloc(bg_policy_leaf_count(p) * 32)) == NULL)
		return 2;
	if (bg_policy_split(p, key, sh, secret_rng, NULL) != BG_OK)
		rc = 3;
	/* shares as they come out of their AEADs: secret */
	VALGRIND_MAKE_MEM_UNDEFINED(sh, bg_policy_leaf_count(p) * 32);
	if (rc == 0 && bg_policy_combine(p, have, sh, out) != BG_OK)
		rc = 4;
	sodium_free(sh);
	bg_policy_free(&p);
	return rc;
}

static int
run(char *const argv[], const char *mode)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (mode != NULL && setenv("BG_CT_MODE", mode, 1) != 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* As tests/test_shamir.c: a copy without debug info (valgrind 3.19 and
 * clang 14's DWARF 5). */
static int
run_ct(const char *mode)
{
	char self[4096], dir[] = "/tmp/bg-ct-XXXXXX", copy[4200];
	char oc[] = "objcopy", sd[] = "--strip-debug";
	char vgn[] = "valgrind", q[] = "-q";
	char ee[] = "--error-exitcode=42", lc[] = "--leak-check=no";
	ssize_t n;
	int rc;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_non_null(mkdtemp(dir));
	assert_true(snprintf(copy, sizeof(copy), "%s/t", dir) <
	    (int)sizeof(copy));
	{
		char *strip[] = { oc, sd, self, copy, NULL };
		char *vg[] = { vgn, q, ee, lc, copy, NULL };

		rc = run(strip, NULL);
		rc = rc == 0 ? run(vg, mode) : -rc;
	}
	(void)unlink(copy);
	(void)rmdir(dir);
	return rc;
}

static void
test_constant_time(void **state)
{
	(void)state;
	assert_int_equal(run_ct("leaky"), CT_ERROR_EXIT);
	assert_int_equal(run_ct("clean"), 0);
}
#else
static void
test_constant_time(void **state)
{
	(void)state;
	print_message("constant-time check needs valgrind and a build "
	    "without ASan\n");
	skip();
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_combine),
		cmocka_unit_test(test_constant_time),
	};

	if (sodium_init() < 0)
		return 1;
#if defined(HAVE_MEMCHECK) && !defined(UNDER_ASAN)
	if (getenv("BG_CT_MODE") != NULL)
		return ct_child(getenv("BG_CT_MODE"));
#endif
	return cmocka_run_group_tests_name("ctgrind", tests, NULL, NULL);
}
