/* vault subcommands: one file each (cmd_<verb>.c), dispatched by main.c. */
#ifndef VAULT_CMDS_H
#define VAULT_CMDS_H

/*
 * Each gets argv[0] == its verb name (global options already removed from
 * before the verb; those after it are parsed by the verb's getopt_long) and
 * returns the process exit code.
 */
int cmd_init(int argc, char **argv);
int cmd_tenant(int argc, char **argv);	/* tenant add | list | show */
int cmd_member(int argc, char **argv);	/* member add | list | remove */
int cmd_policy(int argc, char **argv);	/* policy set | show */
int cmd_secret(int argc, char **argv);	/* secret add | list | show */
int cmd_request(int argc, char **argv);	/* request | request show | list */
int cmd_approve(int argc, char **argv);
int cmd_deny(int argc, char **argv);
int cmd_packet(int argc, char **argv);	/* packet card | export | import */
int cmd_release(int argc, char **argv);
int cmd_ceremony(int argc, char **argv);
int cmd_rotate(int argc, char **argv);	/* rotate begin | commit | abort */
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_audit(int argc, char **argv);	/* audit log */
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_evidence(int argc, char **argv);	/* evidence export | verify */
int cmd_chain(int argc, char **argv);	/* chain show | sign | discard */
int cmd_custodian(int argc, char **argv);	/* custodian add */
int cmd_rekey(int argc, char **argv);	/* rekey propose | show | contribute | abort */

/* Enroll the --token's holder as custodian person of v's genesis draft
 * (cmd_custodian.c; vault init uses it too); returns the exit code. */
struct bg_vault;
int vault_custodian_enroll(struct bg_vault *v, const char *what,
    const char *person, const char *label, int quorum);

#endif /* VAULT_CMDS_H */
