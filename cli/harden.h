/*
 * Process hardening shared by tokenctl and vault.  Call first thing in
 * main(), before any secret exists.
 */
#ifndef BG_CLI_HARDEN_H
#define BG_CLI_HARDEN_H

/*
 * Disables core dumps (RLIMIT_CORE 0), makes the process non-dumpable
 * (PR_SET_DUMPABLE 0, which also forbids ptrace attach by non-root), and
 * runs sodium_init().  Returns BG_OK, or BG_ERR_HARDENING with *whyp (may
 * be NULL) pointing at a static sentence naming the step that failed.
 */
int bg_harden_process(const char **whyp) __attribute__((warn_unused_result));

#endif /* BG_CLI_HARDEN_H */
