/* tokenctl subcommands: one file each (cmd_<verb>.c), dispatched by main.c. */
#ifndef TOKENCTL_CMDS_H
#define TOKENCTL_CMDS_H

/* Each gets argv[0] == its verb name and returns the process exit code. */
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_pin(int argc, char **argv);	/* pin set | pin change */
int cmd_reset(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_soft(int argc, char **argv);	/* soft create | soft serve */
/* Remote approval on the approver's machine (vault/remote.h). */
int cmd_approve(int argc, char **argv);
int cmd_deny(int argc, char **argv);

#endif
