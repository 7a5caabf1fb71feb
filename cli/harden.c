/*
 * Process hardening: no core files, not dumpable (which also keeps
 * non-root debuggers from attaching), libsodium ready for guarded memory.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "harden.h"

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
	r = BG_OK;
out:
	if (whyp != NULL)
		*whyp = why;
	return r;
}
