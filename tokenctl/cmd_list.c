/* tokenctl list: the tokens this machine can reach. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "util.h"

static const char usage_list[] =
    "usage: tokenctl list [--json] [--dir DIR] [--token PATH]...\n";

static const char *
kind(const bg_token_desc_t *d)
{
	if (d->is_soft)
		return "software token (breakglass)";
	if (strncmp(d->path, "unix:", 5) == 0)
		return d->aaguid_known ? "CTAPHID socket" :
		    "CTAPHID socket (not answering)";
	return d->aaguid_known ? "USB token" : "USB token (not answering)";
}

static int
print_json(const bg_token_desc_t *list, size_t n)
{
	json_t *arr = NULL, *o;
	char uuid[37];
	size_t i;
	int r = BG_ERR_NOMEM;

	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (list[i].aaguid_known)
			bg_cli_uuid(list[i].aaguid, uuid);
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:b}",
		    "path", list[i].path,
		    "kind", kind(&list[i]),
		    "manufacturer", list[i].manufacturer,
		    "product", list[i].product,
		    "vendor_id", (json_int_t)list[i].vendor_id,
		    "product_id", (json_int_t)list[i].product_id,
		    "aaguid", list[i].aaguid_known ? json_string(uuid) :
		    json_null(),
		    "software", list[i].is_soft);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto out;
	}
	r = bg_cli_json_print(arr);
out:
	json_decref(arr);
	return r;
}

static void
print_text(const bg_token_desc_t *list, size_t n)
{
	char uuid[37];
	size_t i;

	for (i = 0; i < n; i++) {
		if (list[i].aaguid_known)
			bg_cli_uuid(list[i].aaguid, uuid);
		else
			snprintf(uuid, sizeof(uuid), "%s", "-");
		printf("%s\t%s", list[i].path, kind(&list[i]));
		if (list[i].manufacturer[0] != '\0' ||
		    list[i].product[0] != '\0')
			printf("\t%s %s (%04x:%04x)", list[i].manufacturer,
			    list[i].product, list[i].vendor_id,
			    list[i].product_id);
		printf("\taaguid %s\n", uuid);
	}
}

int
cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",  no_argument,       NULL, 'j' },
		{ "dir",   required_argument, NULL, 'd' },
		{ "token", required_argument, NULL, 't' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_token_desc_t *list = NULL;
	const char **paths = NULL, **np;
	const char *dir = NULL;
	size_t n = 0, npaths = 0;
	bool json = false;
	int c, r = BG_ERR_INTERNAL, rc = BG_EXIT_FAIL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			np = reallocarray(paths, npaths + 1, sizeof(*paths));
			if (np == NULL) {
				bg_cli_err("tokenctl", BG_ERR_NOMEM, NULL);
				goto out;
			}
			paths = np;
			/* the list wants socket paths; "unix:" is optional */
			paths[npaths++] = strncmp(optarg, "unix:", 5) == 0 ?
			    optarg + 5 : optarg;
			break;
		case 'h':
			fputs(usage_list, stdout);
			rc = BG_EXIT_OK;
			goto out;
		default:
			bg_cli_errx("tokenctl", "list: bad option '%s'",
			    argv[optind - 1]);
			fputs(usage_list, stderr);
			rc = BG_EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc) {
		fputs(usage_list, stderr);
		rc = BG_EXIT_USAGE;
		goto out;
	}
	if ((r = bg_token_list(paths, npaths, dir, &list, &n)) != BG_OK) {
		if (r == BG_ERR_NOT_FOUND && dir != NULL)
			bg_cli_errx("tokenctl", "%s: no such directory", dir);
		else
			bg_cli_err("tokenctl", r, "list");
		rc = bg_cli_exit_code(r);
		goto out;
	}
	if (json) {
		if ((r = print_json(list, n)) != BG_OK) {
			bg_cli_err("tokenctl", r, "list");
			goto out;
		}
	} else {
		print_text(list, n);
		if (n == 0)
			fputs("tokenctl: no tokens found\n", stderr);
	}
	rc = BG_EXIT_OK;
out:
	bg_token_list_free(&list, n);
	free(paths);
	return rc;
}
