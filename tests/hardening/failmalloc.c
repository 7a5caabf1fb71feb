/*
 * failmalloc: an LD_PRELOAD object that makes the Nth allocation of a
 * process fail, to prove that every allocation failure ends in a clean
 * error.  Test-only code; never linked into the product.
 *
 * BG_FAILMALLOC names a control file (read by this library, not by the
 * product) whose first line is
 *     N      fail only the Nth call of malloc/calloc/realloc (1-based);
 *     N+     fail the Nth call and every one after it;
 *     0      fail nothing (count only).
 * When the Nth call is reached, the library creates "<control>.hit"; at
 * exit it writes the number of calls it saw to "<control>.count".  A
 * harness runs N = 1, 2, ... until no ".hit" file appears.
 *
 * Counting starts when the engine opens the vault (the first call of
 * sqlite3_open_v2, interposed here): the test is about allocations in
 * the engine's paths, not in process start-up.  Start-up includes
 * OpenSSL 3.0's provider initialisation, which reports success even when
 * an allocation inside it failed and then crashes on a NULL lock; the
 * programs initialise OpenSSL before opening the vault (bg_token_init)
 * so that this fragile first use never falls inside the counted window.
 * docs/security.md says so.
 *
 * The real allocator is found with dlsym(RTLD_NEXT), so under a gcc
 * ASan build (libasan.so) the failures go through ASan's allocator;
 * dlsym's own allocations are served from a small static arena.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

void *malloc(size_t n);
void *calloc(size_t k, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static _Alignas(16) unsigned char arena[8192];
static size_t arena_used;
static int in_init;
static int loaded;		/* control file read */
static unsigned long fail_at;	/* 0: never */
static int fail_after;		/* N+ */
static unsigned long calls;
static char ctl[4096];
static int armed;		/* the engine has opened the vault */

static int
in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	    (const unsigned char *)p < arena + sizeof(arena);
}

static void *
arena_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(arena) - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += n;
	return p;
}

static void
load(void)
{
	const char *path;
	char buf[64];
	ssize_t k;
	int fd;
	size_t i;

	if (environ == NULL)
		return;		/* too early (a sanitizer's start-up): later */
	loaded = 1;
	if ((path = getenv("BG_FAILMALLOC")) == NULL ||
	    strlen(path) + 8 > sizeof(ctl))
		return;
	memcpy(ctl, path, strlen(path) + 1);
	if ((fd = open(ctl, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return;
	buf[k] = '\0';
	for (i = 0; buf[i] >= '0' && buf[i] <= '9'; i++)
		fail_at = fail_at * 10 + (unsigned long)(buf[i] - '0');
	fail_after = buf[i] == '+';
}

static void
mark(const char *suffix, const char *text)
{
	char p[4096 + 16];
	size_t n = strlen(ctl);
	int fd;

	if (n == 0)
		return;
	memcpy(p, ctl, n);
	memcpy(p + n, suffix, strlen(suffix) + 1);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	if (write(fd, text, strlen(text)) < 0) {
		/* nothing to do: the harness sees a short file */
	}
	close(fd);
}

static void
init(void)
{
	if (real_malloc != NULL || in_init)
		return;
	in_init = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	in_init = 0;
}

/* True when this call must fail. */
static int
should_fail(void)
{
	unsigned long c;

	if (!loaded)
		load();
	if (!loaded || !__atomic_load_n(&armed, __ATOMIC_SEQ_CST))
		return 0;
	c = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
	if (fail_at == 0 || c < fail_at || (c > fail_at && !fail_after))
		return 0;
	if (c == fail_at)
		mark(".hit", "1\n");
	return 1;
}

void *
malloc(size_t n)
{
	init();
	if (real_malloc == NULL)
		return arena_alloc(n);
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return real_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	void *p;

	init();
	if (real_calloc == NULL) {
		if (n != 0 && k > SIZE_MAX / n)
			return NULL;
		if ((p = arena_alloc(k * n)) != NULL)
			memset(p, 0, k * n);
		return p;
	}
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return real_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	init();
	if (in_arena(p) || real_realloc == NULL) {
		void *q = malloc(n);
		size_t have;

		if (q != NULL && p != NULL) {
			have = (size_t)(arena + sizeof(arena) -
			    (unsigned char *)p);
			memcpy(q, p, n < have ? n : have);
		}
		return q;
	}
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc(p, n);
}

void
free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	init();
	if (real_free != NULL)
		real_free(p);
}

/* Interposed: arms the counter, then opens the database for real. */
struct sqlite3;
int sqlite3_open_v2(const char *name, struct sqlite3 **db, int flags,
    const char *vfs);

int
sqlite3_open_v2(const char *name, struct sqlite3 **db, int flags,
    const char *vfs)
{
	int (*real_open)(const char *, struct sqlite3 **, int, const char *);

	real_open = (int (*)(const char *, struct sqlite3 **, int,
	    const char *))dlsym(RTLD_NEXT, "sqlite3_open_v2");
	__atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
	if (real_open == NULL)
		return 1;	/* SQLITE_ERROR */
	return real_open(name, db, flags, vfs);
}

__attribute__((destructor)) static void
report(void)
{
	char buf[32];

	if (!loaded || ctl[0] == '\0')
		return;
	(void)snprintf(buf, sizeof(buf), "%lu\n", calls);
	mark(".count", buf);
}
