/*
 * vault report: the incident review of a tenant, a ticket, a request or a
 * time range, as text, JSON or one self-contained HTML file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"

static const char usage[] =
    "usage: vault report [TENANT] [--ticket TICKET] [--request ID] "
    "[--since TIME]\n"
    "                    [--until TIME] [--format text|json|html] "
    "[--out FILE]\n"
    "       vault report TENANT --recertification "
    "[--format text|json|html] [--out FILE]\n";

enum { OPT_TICKET = VOPT_LOCAL, OPT_REQUEST, OPT_SINCE, OPT_UNTIL,
    OPT_FORMAT, OPT_OUT, OPT_RECERT };

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "ticket",	required_argument, NULL, OPT_TICKET },
		{ "request",	required_argument, NULL, OPT_REQUEST },
		{ "since",	required_argument, NULL, OPT_SINCE },
		{ "until",	required_argument, NULL, OPT_UNTIL },
		{ "format",	required_argument, NULL, OPT_FORMAT },
		{ "out",	required_argument, NULL, OPT_OUT },
		{ "recertification", no_argument, NULL, OPT_RECERT },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_report_query_t q;
	bg_vault_t *v = NULL;
	const char *out = NULL;
	char *json = NULL, *text = NULL;
	int c, r, ex = VAULT_EXIT_FAIL, format = 0, fd = -1;
	bool created = false, written = false, recert = false;

	memset(&q, 0, sizeof(q));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_TICKET:
			q.ticket = optarg;
			break;
		case OPT_REQUEST:
			if (vault_parse_request_id(optarg, &q.request_id) != 0) {
				vault_errx("report: bad request id '%s'",
				    optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (vault_parse_time(optarg, c == OPT_SINCE ?
			    &q.since : &q.until) != 0) {
				vault_errx("report: bad time '%s' "
				    "(YYYY-MM-DD[THH:MM[:SS]], @EPOCH, -2h)",
				    optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				format = BG_VAULT_REPORT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				format = BG_VAULT_REPORT_JSON;
			else if (strcmp(optarg, "html") == 0)
				format = BG_VAULT_REPORT_HTML;
			else {
				vault_errx("report: unknown format '%s' (text, "
				    "json or html)", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_RECERT:
			recert = true;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind > 1) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (argc - optind == 1)
		q.tenant = argv[optind];
	/* a recertification report is of one tenant, at this moment */
	if (recert && (q.tenant == NULL || q.ticket != NULL ||
	    q.request_id != 0 || q.since != 0 || q.until != 0)) {
		vault_errx("report: --recertification takes a TENANT and no "
		    "--ticket, --request, --since or --until");
		ex = vault_usage_err(usage);
		goto out;
	}
	if (format == 0)
		format = vault_g.json ? BG_VAULT_REPORT_JSON :
		    BG_VAULT_REPORT_TEXT;
	if (out != NULL) {
		if ((fd = vault_create_out("report", out)) < 0) {
			ex = VAULT_EXIT_FAIL;
			goto out;
		}
		created = true;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if (recert)
		r = bg_vault_recert_report(v, q.tenant, &json);
	else
		r = bg_vault_report(v, &q, &json);
	if (r != BG_OK) {
		ex = vault_fail(v, r, "report");
		goto out;
	}
	if ((r = bg_vault_report_render(json, format, &text)) != BG_OK) {
		ex = vault_fail(NULL, r, "report");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if (out != NULL) {
		r = vault_write_out("report", fd, out, text);
		fd = -1;
		if (r != 0)
			goto out;
		written = true;
		vault_note("report written to %s", out);
	} else if (fputs(text, stdout) == EOF) {
		vault_errx("report: writing standard output failed");
		goto out;
	}
	ex = VAULT_EXIT_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	if (created && !written)
		(void)unlink(out);	/* ours, and incomplete */
	free(json);
	free(text);
	bg_vault_close(&v);
	return ex;
}
