/*
 * Process hardening shared by tokenctl and vault.  Call first thing in
 * main(), before any secret exists.
 */
#ifndef BG_CLI_HARDEN_H
#define BG_CLI_HARDEN_H

#include <stddef.h>

/*
 * Secret memory either program may hold locked at once, with room to
 * spare: a value of up to 64 KiB and its decrypted copy, shares, keys and
 * PINs, each sodium_malloc allocation locking at least one whole page.
 */
#define BG_HARDEN_MEMLOCK_NEED	((size_t)1024 * 1024)

/*
 * Disables core dumps (RLIMIT_CORE 0), makes the process non-dumpable
 * (PR_SET_DUMPABLE 0, which also forbids ptrace attach by non-root), runs
 * sodium_init(), and checks that BG_HARDEN_MEMLOCK_NEED bytes of guarded
 * memory can be locked into RAM (raising the soft RLIMIT_MEMLOCK up to the
 * hard limit if need be).  Returns BG_OK, or BG_ERR_HARDENING with *whyp
 * (may be NULL) pointing at a static sentence naming the step that failed
 * and, for memory locking, the limit and how to raise it.
 */
int bg_harden_process(const char **whyp) __attribute__((warn_unused_result));

#endif /* BG_CLI_HARDEN_H */
