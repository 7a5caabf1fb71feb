/* tokenctl info: what a token offers, and whether breakglass can use it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "cmds.h"
#include "util.h"

static const char usage_info[] =
    "usage: tokenctl info [--json] --token PATH\n";

static json_t *
str_list(const bg_token_features_t *f, int which)
{
	json_t *a = json_array();
	size_t i;

	if (a == NULL)
		return NULL;
	switch (which) {
	case 0:
		if (f->fido_2_0)
			json_array_append_new(a, json_string("FIDO_2_0"));
		if (f->fido_2_1)
			json_array_append_new(a, json_string("FIDO_2_1"));
		break;
	case 1:
		if (f->hmac_secret)
			json_array_append_new(a, json_string("hmac-secret"));
		if (f->cred_protect)
			json_array_append_new(a, json_string("credProtect"));
		break;
	case 2:
		if (f->es256)
			json_array_append_new(a, json_string("es256"));
		if (f->eddsa)
			json_array_append_new(a, json_string("eddsa"));
		break;
	default:
		for (i = 0; i < f->n_pin_protocols; i++)
			json_array_append_new(a,
			    json_integer(f->pin_protocols[i]));
		break;
	}
	return a;
}

static int
print_json(const char *path, const bg_token_features_t *f, int usable,
    const char *why)
{
	json_t *o = NULL;
	char uuid[37];
	int r = BG_ERR_NOMEM;

	bg_cli_uuid(f->aaguid, uuid);
	o = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, "
	    "s:{s:b, s:b, s:b, s:b}, s:o, s:I, s:b, s:o}",
	    "path", path,
	    "kind", f->is_soft ? "software token (breakglass)" : "token",
	    "aaguid", uuid,
	    "software", f->is_soft,
	    "versions", str_list(f, 0),
	    "extensions", str_list(f, 1),
	    "algorithms", str_list(f, 2),
	    "pin_protocols", str_list(f, 3),
	    "options",
	    "clientPin", f->client_pin,
	    "pin_set", f->pin_set,
	    "uv", f->uv,
	    "pinUvAuthToken", f->pin_uv_auth_token,
	    "pin_retries", f->pin_retries >= 0 ?
	    json_integer(f->pin_retries) : json_null(),
	    "max_msg_size", (json_int_t)f->max_msg_size,
	    "usable", usable == BG_OK,
	    "unusable_reason", why != NULL ? json_string(why) : json_null());
	if (o == NULL)
		goto out;
	r = bg_cli_json_print(o);
out:
	json_decref(o);
	return r;
}

static void
print_text(const char *path, const bg_token_features_t *f, int usable,
    const char *why)
{
	char uuid[37];
	size_t i;

	bg_cli_uuid(f->aaguid, uuid);
	printf("path: %s\n", path);
	printf("kind: %s\n", f->is_soft ? "software token (breakglass)" :
	    "token");
	printf("aaguid: %s\n", uuid);
	printf("versions:%s%s\n", f->fido_2_0 ? " FIDO_2_0" : "",
	    f->fido_2_1 ? " FIDO_2_1" : "");
	printf("extensions:%s%s\n", f->hmac_secret ? " hmac-secret" : "",
	    f->cred_protect ? " credProtect" : "");
	printf("algorithms:%s%s\n", f->es256 ? " es256" : "",
	    f->eddsa ? " eddsa" : "");
	printf("pin protocols:");
	for (i = 0; i < f->n_pin_protocols; i++)
		printf(" %u", (unsigned)f->pin_protocols[i]);
	printf("\n");
	printf("clientPin: %s\n", !f->client_pin ? "not supported" :
	    f->pin_set ? "PIN set" : "supported, no PIN set");
	printf("built-in uv: %s\n", f->uv ? "yes" : "no");
	printf("pinUvAuthToken: %s\n", f->pin_uv_auth_token ? "yes" : "no");
	if (f->pin_retries >= 0)
		printf("pin retries: %d\n", f->pin_retries);
	printf("max message size: %llu\n", (unsigned long long)f->max_msg_size);
	if (usable == BG_OK)
		printf("usable by breakglass: yes\n");
	else
		printf("usable by breakglass: no: %s\n", why);
}

int
cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",  no_argument,       NULL, 'j' },
		{ "token", required_argument, NULL, 't' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_token_features_t feat;
	bg_token_t *tok = NULL;
	const char *path = NULL, *why = NULL;
	bool json = false;
	int c, usable, r = BG_ERR_INTERNAL, rc = BG_EXIT_FAIL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			path = optarg;
			break;
		case 'h':
			fputs(usage_info, stdout);
			rc = BG_EXIT_OK;
			goto out;
		default:
			bg_cli_errx("tokenctl", "info: bad option '%s'",
			    argv[optind - 1]);
			fputs(usage_info, stderr);
			rc = BG_EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc || path == NULL) {
		fputs(usage_info, stderr);
		rc = BG_EXIT_USAGE;
		goto out;
	}
	if ((r = bg_token_open(path, &tok)) != BG_OK ||
	    (r = bg_token_probe(tok, &feat)) != BG_OK) {
		bg_cli_token_err("tokenctl", NULL, r, "%s", path);
		rc = bg_cli_exit_code(r);
		goto out;
	}
	usable = bg_token_check_usable(&feat, &why);
	if (json) {
		if ((r = print_json(path, &feat, usable, why)) != BG_OK) {
			bg_cli_err("tokenctl", r, "info");
			goto out;
		}
	} else
		print_text(path, &feat, usable, why);
	rc = BG_EXIT_OK;
out:
	bg_token_close(&tok);
	return rc;
}
