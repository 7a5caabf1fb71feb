/*
 * Process hardening: no core files, not dumpable (which also keeps
 * non-root debuggers from attaching), libsodium ready for guarded memory,
 * and proof that the guarded memory can really be locked.
 *
 * sodium_malloc() mlock()s the pages it hands out but ignores a failure to
 * do so, so a process over its RLIMIT_MEMLOCK would silently keep its keys
 * in swappable memory.  We therefore lock a probe region as large as the
 * most secret memory either program holds at once (BG_HARDEN_MEMLOCK_NEED)
 * before any secret exists, and refuse to run when that fails.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "harden.h"

static char memlock_why[256];

/*
 * Raise the soft RLIMIT_MEMLOCK towards need when the hard limit allows
 * (an unprivileged user may), then lock and unlock a probe of need bytes.
 * CAP_IPC_LOCK (root) makes the limit moot; the probe tells either way.
 */
static int
check_memlock(size_t need, const char **whyp)
{
	struct rlimit rl;
	void *probe = NULL;
	int r = BG_ERR_HARDENING;

	*whyp = NULL;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ?
		    need : rl.rlim_max;
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	if ((probe = sodium_malloc(need)) == NULL) {
		*whyp = "cannot lock secret memory: no memory for the probe";
		goto out;
	}
	if (sodium_mlock(probe, need) != 0) {
		if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0)
			rl.rlim_cur = 0;
		(void)snprintf(memlock_why, sizeof(memlock_why),
		    "cannot lock secret memory into RAM (mlock: %s): the "
		    "locked-memory limit is %llu KiB and breakglass needs %zu "
		    "KiB; raise it (ulimit -l %zu, or LimitMEMLOCK= for a "
		    "service) so that keys and PINs cannot be swapped to disk",
		    strerror(errno), rl.rlim_cur == RLIM_INFINITY ? 0ULL :
		    (unsigned long long)(rl.rlim_cur / 1024), need / 1024,
		    need / 1024);
		*whyp = memlock_why;
		goto out;
	}
	(void)sodium_munlock(probe, need);	/* also wipes the probe */
	r = BG_OK;
out:
	if (probe != NULL)
		sodium_free(probe);
	return r;
}

int
bg_harden_process(const char **whyp)
{
	struct rlimit rl = { 0, 0 };
	const char *why = NULL;
	int r = BG_ERR_HARDENING;

	if (whyp != NULL)
		*whyp = NULL;
	if (setrlimit(RLIMIT_CORE, &rl) != 0) {
		why = "could not disable core dumps (setrlimit RLIMIT_CORE)";
		goto out;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		why = "could not make the process non-dumpable (prctl PR_SET_DUMPABLE)";
		goto out;
	}
	if (sodium_init() < 0) {
		why = "could not initialise libsodium";
		goto out;
	}
	if (check_memlock(BG_HARDEN_MEMLOCK_NEED, &why) != BG_OK)
		goto out;
	r = BG_OK;
out:
	if (whyp != NULL)
		*whyp = why;
	return r;
}
