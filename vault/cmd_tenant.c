/* vault tenant add | set | list | show | offboard | verify-certificate */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault tenant add TENANT --as CUSTODIAN [--max-ttl DURATION] "
    "[--approval-window DURATION]\n"
    "                        [--rotation-deadline DURATION] "
    "[--client-cosign N]\n"
    "       vault tenant set TENANT --as PERSON [--max-ttl DURATION] "
    "[--approval-window DURATION]\n"
    "                        [--rotation-deadline DURATION] "
    "[--client-cosign N]\n"
    "       vault tenant list [--json]\n"
    "       vault tenant show TENANT [--json]\n"
    "       vault tenant offboard TENANT --confirm TENANT --as OPERATOR "
    "[--certificate FILE]\n"
    "       vault tenant verify-certificate FILE\n";

enum { OPT_MAX_TTL = VOPT_LOCAL, OPT_WINDOW, OPT_ROTDL, OPT_COSIGN,
    OPT_AS_ };

/* add, set and offboard: signed acts (vault_signed_act). */
struct tact {
	bg_vault_t			*v;
	const char			*tenant, *confirm;
	const bg_vault_tenant_opts_t	*o;
	int				 which;	/* 0 add, 1 set, 2 offboard */
	char				*cert;
};

static int
tact_op(void *arg, const bg_vault_signer_t *by)
{
	struct tact *t = arg;

	if (t->which == 0)
		return bg_vault_tenant_add(t->v, by, t->tenant, t->o);
	if (t->which == 1)
		return bg_vault_tenant_set(t->v, by, t->tenant, t->o);
	free(t->cert);
	t->cert = NULL;
	return bg_vault_tenant_offboard(t->v, by, t->tenant, t->confirm,
	    by->tok != NULL ? &t->cert : NULL);
}

static json_t *
tenant_json(const bg_vault_tenant_info_t *t)
{
	return json_pack("{s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:I, s:I, "
	    "s:I, s:I, s:I, s:s, s:o}",
	    "name", t->name,
	    "created_at", vault_json_time(t->created_at),
	    "max_ttl", (json_int_t)t->max_ttl,
	    "approval_window", (json_int_t)t->approval_window,
	    "rotation_deadline", (json_int_t)t->rotation_deadline,
	    "policy", t->has_policy ? json_string(t->policy) : json_null(),
	    "policy_hash", t->has_policy ? json_string(t->policy_hash) :
	    json_null(),
	    "requesters", (json_int_t)t->n_requesters,
	    "approvers", (json_int_t)t->n_approvers,
	    "auditors", (json_int_t)t->n_auditors,
	    "secrets", (json_int_t)t->n_secrets,
	    "sealed", (json_int_t)t->n_sealed,
	    "state", t->offboarded_at != 0 ? "offboarded" : "active",
	    "offboarded_at", vault_json_time(t->offboarded_at));
}

static int
add_or_set(int argc, char **argv, bool add)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "max-ttl",		required_argument, NULL, OPT_MAX_TTL },
		{ "approval-window",	required_argument, NULL, OPT_WINDOW },
		{ "rotation-deadline",	required_argument, NULL, OPT_ROTDL },
		{ "client-cosign",	required_argument, NULL, OPT_COSIGN },
		{ "as",			required_argument, NULL, OPT_AS_ },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_tenant_opts_t o;
	struct tact ta;
	bg_vault_t *v = NULL;
	const char *as = NULL;
	char what[BG_VAULT_NAME_MAX + 32];
	uint64_t n = 0;
	int64_t *dst;
	int c, ex = VAULT_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_MAX_TTL:
		case OPT_WINDOW:
		case OPT_ROTDL:
			dst = c == OPT_MAX_TTL ? &o.max_ttl :
			    c == OPT_WINDOW ? &o.approval_window :
			    &o.rotation_deadline;
			if (vault_parse_duration(optarg, dst) != 0 ||
			    *dst <= 0) {
				vault_errx("tenant: bad duration '%s' (e.g. "
				    "90m, 1h, 2d)", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_COSIGN:
			if (vault_parse_uint(optarg, 1, 16, &n) != 0) {
				vault_errx("tenant: --client-cosign must be a "
				    "number from 1 to 16");
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			o.client_cosign = (int)n;
			break;
		case OPT_AS_:
			as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	memset(&ta, 0, sizeof(ta));
	ta.v = v;
	ta.tenant = argv[optind];
	ta.o = &o;
	ta.which = add ? 0 : 1;
	(void)snprintf(what, sizeof(what), "tenant %s %s", add ? "add" : "set",
	    argv[optind]);
	if ((ex = vault_signed_act(v, add ? NULL : argv[optind], as, what,
	    NULL, tact_op, &ta)) != 0)
		goto out;
	printf("tenant %s %s: its draft link takes effect when it is signed "
	    "(vault chain show %s)\n", argv[optind], add ? "added" :
	    "updated", argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

static void
print_tenant(const bg_vault_tenant_info_t *t)
{
	char tb[32], s1[32], s2[32], s3[32];

	printf("tenant:            %s\n", t->name);
	if (t->offboarded_at != 0)
		printf("state:             OFFBOARDED at %s: its sealed "
		    "material is destroyed; it refuses every use\n",
		    vault_fmt_time(t->offboarded_at, tb));
	else
		printf("state:             active\n");
	printf("created:           %s\n", vault_fmt_time(t->created_at, tb));
	printf("policy:            %s\n", t->has_policy ? t->policy :
	    "(none yet: vault policy set)");
	if (t->has_policy)
		printf("policy hash:       %s\n", t->policy_hash);
	printf("max TTL:           %s\n", vault_fmt_span(t->max_ttl, s1));
	printf("approval window:   %s\n",
	    vault_fmt_span(t->approval_window, s2));
	printf("rotation deadline: %s after the lease ends\n",
	    vault_fmt_span(t->rotation_deadline, s3));
	printf("members:           %zu requester(s), %zu approver(s), "
	    "%zu auditor(s)\n", t->n_requesters, t->n_approvers,
	    t->n_auditors);
	printf("secrets:           %zu (%zu sealed)\n", t->n_secrets,
	    t->n_sealed);
}

/*
 * Text from the vault file on the terminal: names and reasons in a link
 * passed the chain's text rule when it was parsed; control bytes still
 * become '?' here, should anything else reach this.
 */
static void
put_text(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* "alice (client approver)": the side of every approver. */
static void
put_who(const char *person, int role, int side)
{
	put_text(person);
	printf(" (%s%s%s)", role == BG_VAULT_ROLE_APPROVER ?
	    bg_vault_side_name(side) : "", role == BG_VAULT_ROLE_APPROVER ?
	    " " : "", bg_vault_role_name(role));
}

/* The RACI block of tenant show, from the chain in force. */
static void
print_raci(const bg_vault_raci_t *rc)
{
	static const struct {
		const char	*cls, *title;
	} groups[] = {
		{ "accountable", "Accountable (client approvers):" },
		{ "responsible", "Responsible (operators, MSP approvers):" },
		{ "requester",	 "Requesters (technicians):" },
		{ "audit-owner", "Audit owner:" },
	};
	const bg_vault_raci_member_t *m;
	char tb[32], title[64];
	size_t g, i, k;

	printf("RACI");
	if (rc->has_link)
		printf(" (link %llu in force):\n",
		    (unsigned long long)rc->link.seq);
	else
		printf(" (no link in force yet: vault chain show %s):\n",
		    rc->tenant);
	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		printf("  %-40s ", groups[g].title);
		for (i = 0, k = 0; i < rc->n_members; i++) {
			m = &rc->members[i];
			if (strcmp(bg_vault_raci_class(m->role, m->side),
			    groups[g].cls) != 0)
				continue;
			printf("%s", k++ ? ", " : "");
			put_who(m->person, m->role, m->side);
			if (m->expired)
				printf(" EXPIRED");
			else if (m->due)
				printf(" due %s", vault_fmt_time(m->expires_at,
				    tb));
		}
		printf("%s\n", k == 0 ? "(none)" : "");
	}
	(void)snprintf(title, sizeof(title), "Custodians (vault link %llu):",
	    (unsigned long long)rc->vault_seq);
	printf("  %-40s ", title);
	for (i = 0; i < rc->n_custodians; i++) {
		printf("%s", i ? ", " : "");
		put_text(rc->custodians[i]);
	}
	printf("%s\n", rc->n_custodians == 0 ? "(none)" : "");
	if (rc->msp_alone)
		printf("  the policy can be met by MSP approvers alone\n");
	if (rc->has_exception) {
		printf("  EXCEPTION: %s %s: ", rc->exception_live ?
		    "MSP may approve its own access until" :
		    "the exception that let the MSP approve its own access "
		    "ended", vault_fmt_time(rc->exception_expires, tb));
		put_text(rc->exception_reason);
		printf("\n    (link %llu, signed by ",
		    (unsigned long long)rc->exception_since.seq);
		for (i = 0; i < rc->n_exception_signers; i++) {
			printf("%s", i ? ", " : "");
			put_who(rc->exception_signers[i].person,
			    rc->exception_signers[i].role,
			    rc->exception_signers[i].side);
		}
		printf("%s)\n", rc->n_exception_signers == 0 ? "nobody whose "
		    "signature verifies" : "");
	}
}

/* The "raci" member of tenant show --json (the report's object). */
static int
raci_json(const bg_vault_raci_t *rc, json_t *j)
{
	json_error_t jerr;
	json_t *o = NULL;
	char *text = NULL;
	int r;

	if ((r = bg_vault_raci_json(rc, &text)) != BG_OK)
		return r;
	o = json_loads(text, 0, &jerr);
	free(text);
	if (o == NULL || json_object_set_new(j, "raci", o) != 0)
		return BG_ERR_NOMEM;
	return BG_OK;
}

static int
list_or_show(int argc, char **argv, bool show)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_tenant_info_t *list = NULL;
	bg_vault_raci_t *rc = NULL;
	json_t *j = NULL, *arr = NULL;
	char raci_why[BG_VAULT_TEXT_MAX];
	size_t n = 0, i;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == 'h') {
			ex = vault_usage_ok(usage);
			goto out;
		}
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind != (show ? 1 : 0)) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (show) {
		r = bg_vault_tenant_show(v, argv[optind], &list);
		n = 1;
	} else
		r = bg_vault_tenant_list(v, &list, &n);
	if (r != BG_OK) {
		ex = vault_fail(v, r, "tenant %s%s%s", show ? "show" : "list",
		    show ? " " : "", show ? argv[optind] : "");
		goto out;
	}
	/*
	 * The RACI from the chain in force (not the membership rows).  Reads
	 * still work when a chain does not verify, so that an auditor can
	 * see what happened: then the RACI is not shown, and why is said.
	 */
	raci_why[0] = '\0';
	if (show && list[0].offboarded_at == 0 &&
	    (r = bg_vault_raci(v, argv[optind], &rc)) != BG_OK) {
		(void)snprintf(raci_why, sizeof(raci_why), "%s",
		    bg_vault_errmsg(v)[0] != '\0' ? bg_vault_errmsg(v) :
		    bg_strerror(r));
		vault_errx("tenant show %s: RACI not shown: %s", argv[optind],
		    raci_why);
	}
	ex = VAULT_EXIT_FAIL;
	if (vault_g.json) {
		if (show) {
			if ((j = tenant_json(&list[0])) == NULL ||
			    (rc != NULL ? raci_json(rc, j) :
			    json_object_set_new(j, "raci", json_null())) != 0)
				goto out;
			if (raci_why[0] != '\0' && json_object_set_new(j,
			    "raci_error", json_string(raci_why)) != 0)
				goto out;
		} else {
			if ((arr = json_array()) == NULL)
				goto out;
			for (i = 0; i < n; i++)
				if (json_array_append_new(arr,
				    tenant_json(&list[i])) != 0)
					goto out;
			j = json_pack("{s:o}", "tenants", arr);
			arr = NULL;
		}
		if (j == NULL || json_object_set_new(j, "soft_tokens_allowed",
		    json_boolean(bg_vault_allows_soft_tokens(v))) != 0)
			goto out;
		if (vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	vault_soft_banner(v);
	if (show) {
		print_tenant(&list[0]);
		if (rc != NULL)
			print_raci(rc);
		else if (raci_why[0] != '\0')
			printf("RACI:              not shown: the chain does "
			    "not verify (see above)\n");
	} else if (n == 0)
		printf("no tenants yet (vault tenant add NAME)\n");
	else {
		printf("%-16s %-10s %-5s %-5s %-7s %s\n", "TENANT", "STATE",
		    "REQ", "APPR", "SECRETS", "POLICY");
		for (i = 0; i < n; i++)
			printf("%-16s %-10s %-5zu %-5zu %-7zu %s\n",
			    list[i].name, list[i].offboarded_at != 0 ?
			    "offboarded" : "active", list[i].n_requesters,
			    list[i].n_approvers, list[i].n_secrets,
			    list[i].has_policy ? list[i].policy : "-");
	}
	ex = VAULT_EXIT_OK;
out:
	json_decref(arr);
	json_decref(j);
	bg_vault_raci_free(&rc);
	bg_vault_tenant_free(&list);
	bg_vault_close(&v);
	return ex;
}

enum { OPT_CONFIRM = VOPT_LOCAL + 32, OPT_CERT };

/* Write all of s to fd; 0 or -1. */
static int
write_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
tenant_offboard(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "confirm",	 required_argument, NULL, OPT_CONFIRM },
		{ "certificate", required_argument, NULL, OPT_CERT },
		{ "as",		 required_argument, NULL, OPT_AS_ },
		{ NULL, 0, NULL, 0 }
	};
	struct tact ta;
	bg_vault_t *v = NULL;
	const char *confirm = NULL, *file = NULL, *as = NULL;
	char *cert = NULL, what[BG_VAULT_NAME_MAX + 32];
	int c, fd = -1, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_CONFIRM:
			confirm = optarg;
			break;
		case OPT_CERT:
			file = optarg;
			break;
		case OPT_AS_:
			as = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	/* The certificate file first: never lose a certificate to EEXIST
	 * after the secrets are gone. */
	if (file != NULL && (fd = open(file, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		vault_errx("tenant offboard %s: %s: %s", argv[optind], file,
		    strerror(errno));
		ex = VAULT_EXIT_FAIL;
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	memset(&ta, 0, sizeof(ta));
	ta.v = v;
	ta.tenant = argv[optind];
	ta.confirm = confirm;
	ta.which = 2;
	(void)snprintf(what, sizeof(what), "tenant offboard %s", argv[optind]);
	ex = vault_signed_act(v, argv[optind], as, what, NULL, tact_op, &ta);
	cert = ta.cert;
	if (ex != 0)
		goto out;
	if (fd >= 0) {
		if (write_all(fd, cert, strlen(cert)) != 0 || fsync(fd) != 0 ||
		    close(fd) != 0) {
			fd = -1;
			vault_errx("tenant offboard %s: writing %s: %s (the "
			    "certificate follows on stdout)", argv[optind],
			    file, strerror(errno));
			fputs(cert, stdout);
			ex = VAULT_EXIT_FAIL;
			file = NULL;
			goto out;
		}
		fd = -1;
		file = NULL;	/* keep it */
	}
	fputs(cert, stdout);
	vault_note("%s offboarded: every sealed value, share and token key "
	    "destroyed; the audit events remain", argv[optind]);
	vault_note_receipt(v);
	ex = VAULT_EXIT_OK;
out:
	if (fd >= 0) {
		(void)close(fd);
		if (file != NULL)
			(void)unlink(file);
	}
	free(cert);
	bg_vault_close(&v);
	return ex;
}

static int
tenant_verify_cert(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0, got;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == 'h') {
			ex = vault_usage_ok(usage);
			goto out;
		}
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind != 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((f = fopen(argv[optind], "rb")) == NULL) {
		vault_errx("tenant verify-certificate: %s: %s", argv[optind],
		    strerror(errno));
		ex = VAULT_EXIT_NOTFOUND;
		goto out;
	}
	for (;;) {
		if (n == cap) {
			char *nb;

			cap = cap ? 2 * cap : 4096;
			if (cap > (1u << 24) || (nb = realloc(buf, cap)) == NULL) {
				vault_errx("tenant verify-certificate: %s: too "
				    "large", argv[optind]);
				goto out;
			}
			buf = nb;
		}
		if ((got = fread(buf + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_certificate_verify(v, buf, n)) != BG_OK) {
		ex = vault_fail(v, r, "tenant verify-certificate %s",
		    argv[optind]);
		goto out;
	}
	printf("certificate %s: signature good (signed by this vault's "
	    "key)\n", argv[optind]);
	ex = VAULT_EXIT_OK;
out:
	if (f != NULL)
		(void)fclose(f);
	free(buf);
	bg_vault_close(&v);
	return ex;
}

int
cmd_tenant(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "add") == 0)
		return add_or_set(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "set") == 0)
		return add_or_set(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "list") == 0)
		return list_or_show(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "show") == 0)
		return list_or_show(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "offboard") == 0)
		return tenant_offboard(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify-certificate") == 0)
		return tenant_verify_cert(argc - 1, argv + 1);
	return vault_subcommand_unknown("tenant", argv[1], usage);
}
