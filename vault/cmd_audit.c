/* vault audit log | verify | proof | receipt | head | export */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "breakglass/err.h"
#include "breakglass/vault.h"
#include "cmd_util.h"
#include "cmds.h"
#include "util.h"

static const char usage[] =
    "usage: vault audit log [--json] [--tenant TENANT] [--person PERSON] "
    "[--action ACTION]\n"
    "                       [--since TIME] [--until TIME]\n"
    "       vault audit verify [--receipt LINE] [--witness FILE]\n"
    "       vault audit verify --proof FILE [--key HEX]\n"
    "       vault audit proof --event SEQ [--size N] [--json]\n"
    "       vault audit proof --from M [--to N] [--json]\n"
    "       vault audit receipt\n"
    "       vault audit head [--json]\n"
    "       vault audit export --out FILE\n";

/* The log or a proof does not verify (docs/vault.1 EXIT STATUS). */

enum { OPT_TENANT = VOPT_LOCAL, OPT_PERSON, OPT_ACTION, OPT_SINCE,
    OPT_UNTIL, OPT_RECEIPT, OPT_PROOF, OPT_KEY, OPT_EVENT, OPT_SIZE,
    OPT_FROM, OPT_TO, OPT_OUT, OPT_WITNESS };

static json_t *
event_json(const bg_vault_event_t *e)
{
	json_t *o = NULL, *ret = NULL;
	char *leaf = NULL, *chain = NULL;

	if ((o = json_loads(e->entry, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o))
		goto out;
	if ((leaf = bg_cli_hex(e->leaf, sizeof(e->leaf))) == NULL ||
	    (chain = bg_cli_hex(e->chain, sizeof(e->chain))) == NULL)
		goto out;
	if (json_object_set_new(o, "leaf_hash", json_string(leaf)) != 0 ||
	    json_object_set_new(o, "chain_hash", json_string(chain)) != 0)
		goto out;
	ret = o;
	o = NULL;
out:
	json_decref(o);
	free(leaf);
	free(chain);
	return ret;
}

static void
print_event(const bg_vault_event_t *e)
{
	json_t *o = NULL, *d;
	char *det = NULL;
	char tb[32];

	if ((o = json_loads(e->entry, 0, NULL)) != NULL &&
	    (d = json_object_get(o, "details")) != NULL &&
	    json_object_size(d) > 0)
		det = json_dumps(d, JSON_SORT_KEYS | JSON_COMPACT);
	printf("%5lld  %s  %-10s %-16s %s%s%s%s%s\n", (long long)e->seq,
	    vault_fmt_time(e->time, tb), e->actor, e->action,
	    e->tenant[0] ? e->tenant : "-", e->object[0] ? " " : "",
	    e->object, det ? "  " : "", det ? det : "");
	free(det);
	json_decref(o);
}

static int
audit_log(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "tenant",	required_argument, NULL, OPT_TENANT },
		{ "person",	required_argument, NULL, OPT_PERSON },
		{ "action",	required_argument, NULL, OPT_ACTION },
		{ "since",	required_argument, NULL, OPT_SINCE },
		{ "until",	required_argument, NULL, OPT_UNTIL },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_audit_filter_t f;
	bg_vault_t *v = NULL;
	bg_vault_event_t *list = NULL;
	json_t *j = NULL, *arr = NULL, *o;
	uint8_t head[BG_VAULT_HASH_LEN];
	char *hh = NULL;
	int64_t size = 0;
	size_t n = 0, i;
	int c, r, ex = VAULT_EXIT_FAIL;

	memset(&f, 0, sizeof(f));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_TENANT:
			f.tenant = optarg;
			break;
		case OPT_PERSON:
			f.person = optarg;
			break;
		case OPT_ACTION:
			f.action = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (vault_parse_time(optarg, c == OPT_SINCE ?
			    &f.since : &f.until) != 0) {
				vault_errx("audit log: bad time '%s' "
				    "(YYYY-MM-DD[THH:MM[:SS]], @EPOCH, -2h)",
				    optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_audit_list(v, &f, &list, &n)) != BG_OK ||
	    (r = bg_vault_audit_head(v, &size, head)) != BG_OK) {
		ex = vault_fail(v, r, "audit log");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if ((hh = bg_cli_hex(head, sizeof(head))) == NULL)
		goto out;
	if (vault_g.json) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (i = 0; i < n; i++) {
			if ((o = event_json(&list[i])) == NULL) {
				vault_errx("audit log: event %lld is not "
				    "valid JSON", (long long)list[i].seq);
				goto out;
			}
			if (json_array_append_new(arr, o) != 0)
				goto out;
		}
		j = json_pack("{s:o, s:{s:I, s:s}, s:s}", "events", arr,
		    "head", "size", (json_int_t)size, "chain_hash", hh,
		    "vault_id", bg_vault_id(v));
		arr = NULL;
		if (j == NULL || vault_json_print(j) != BG_OK)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	for (i = 0; i < n; i++)
		print_event(&list[i]);
	printf("log head: %lld events, chain %.16s...\n", (long long)size, hh);
	ex = VAULT_EXIT_OK;
out:
	free(hh);
	json_decref(arr);
	json_decref(j);
	bg_vault_audit_free(&list, n);
	bg_vault_close(&v);
	return ex;
}

/* Read a whole small file (a proof) into a malloc'd string. */
static char *
slurp(const char *path)
{
	FILE *f = NULL;
	char *buf = NULL, *ret = NULL;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		vault_errx("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((buf = calloc(1, 65536)) == NULL)
		goto out;
	n = fread(buf, 1, 65535, f);
	if (ferror(f) || !feof(f)) {
		vault_errx("%s: unreadable or larger than 64 KiB", path);
		goto out;
	}
	buf[n] = '\0';
	ret = buf;
	buf = NULL;
out:
	free(buf);
	if (f != NULL)
		(void)fclose(f);
	return ret;
}

static int
verify_proof_file(const char *file, const char *key)
{
	char msg[512], *text = NULL;
	bool pinned = false;
	int r, ex = VAULT_EXIT_FAIL;

	if ((text = slurp(file)) == NULL)
		goto out;
	r = bg_vault_log_verify_proof(text, key, &pinned, msg, sizeof(msg));
	if (r != BG_OK) {
		vault_errx("audit verify: %s: %s", file, msg[0] ? msg :
		    bg_strerror(r));
		ex = r == BG_ERR_AUTH ? VAULT_EXIT_TAMPERED : r ==
		    BG_ERR_PARSE || r == BG_ERR_INVALID_ARG ?
		    VAULT_EXIT_USAGE : VAULT_EXIT_FAIL;
		goto out;
	}
	printf("proof verifies: %s\n", msg);
	if (!pinned)
		vault_note("the signing key was taken from the proof; give "
		    "--key with the key from the ceremony log book to pin it");
	ex = VAULT_EXIT_OK;
out:
	free(text);
	return ex;
}

/* A witness state file: one short line. */
static int
read_witness(const char *path, char *buf, size_t cap)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		vault_errx("audit verify: cannot open witness state %s: %s",
		    path, strerror(errno));
		return VAULT_EXIT_FAIL;
	}
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	if (ferror(f) || !feof(f) || fgetc(f) != EOF) {
		(void)fclose(f);
		vault_errx("audit verify: witness state %s is not one short "
		    "line", path);
		return VAULT_EXIT_USAGE;
	}
	(void)fclose(f);
	return 0;
}

static int
audit_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "receipt",	required_argument, NULL, OPT_RECEIPT },
		{ "witness",	required_argument, NULL, OPT_WITNESS },
		{ "proof",	required_argument, NULL, OPT_PROOF },
		{ "key",	required_argument, NULL, OPT_KEY },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	const char *receipt = NULL, *proof = NULL, *key = NULL;
	const char *witness = NULL;
	char wtext[512];
	uint64_t wsize = 0;
	int64_t size = 0, bad = 0;
	char lmsg[512];	/* a vault error message */
	int c, r, fr, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_RECEIPT:
			receipt = optarg;
			break;
		case OPT_PROOF:
			proof = optarg;
			break;
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_WITNESS:
			witness = optarg;
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 0 || (proof != NULL && (receipt != NULL ||
	    witness != NULL)) ||
	    (key != NULL && proof == NULL)) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if (proof != NULL) {
		ex = verify_proof_file(proof, key);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	ex = VAULT_EXIT_FAIL;
	/* The file (opening does not read all of it) checked in a second
	 * thread while the log is walked (about the longer of the two on two
	 * cores, docs/benchmarks.md); the file's verdict reported first. */
	bg_vault_check_ahead(v);
	r = bg_vault_audit_verify(v, &size, &bad);
	(void)snprintf(lmsg, sizeof(lmsg), "%s", bg_vault_errmsg(v));
	if ((fr = bg_vault_integrity(v, false)) != BG_OK) {
		ex = vault_fail(v, fr, "audit verify");
		if (fr == BG_ERR_DB_CORRUPT)
			ex = VAULT_EXIT_TAMPERED;
		goto out;
	}
	if (r != BG_OK) {
		/* the log's sentence, kept from before the file's verdict */
		vault_errx("audit verify: %s", lmsg[0] != '\0' ? lmsg :
		    bg_strerror(r));
		ex = r == BG_ERR_AUTH ? VAULT_EXIT_TAMPERED : vault_exit(r);
		goto out;
	}
	if (receipt != NULL &&
	    (r = bg_vault_log_check_receipt(v, receipt)) != BG_OK) {
		ex = vault_fail(v, r, "audit verify: receipt %s", receipt);
		if (r == BG_ERR_AUTH)
			ex = VAULT_EXIT_TAMPERED;
		else if (r == BG_ERR_PARSE)
			ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (witness != NULL) {
		if ((ex = read_witness(witness, wtext, sizeof(wtext))) != 0)
			goto out;
		ex = VAULT_EXIT_FAIL;
		if ((r = bg_vault_log_check_witness(v, wtext, &wsize)) !=
		    BG_OK) {
			ex = vault_fail(v, r, "audit verify: witness %s",
			    witness);
			if (r == BG_ERR_AUTH)
				ex = VAULT_EXIT_TAMPERED;
			else if (r == BG_ERR_PARSE)
				ex = VAULT_EXIT_USAGE;
			goto out;
		}
	}
	printf("audit log intact: %lld events, entries, leaf hashes, chain, "
	    "Merkle tree and signed tree heads verify (file: quick_check "
	    "ok)\n", (long long)size);
	if (receipt != NULL)
		printf("the log extends receipt %s\n", receipt);
	if (witness != NULL)
		printf("the log extends the tree head of size %llu witnessed in "
		    "%s\n", (unsigned long long)wsize, witness);
	ex = VAULT_EXIT_OK;
out:
	bg_vault_close(&v);
	return ex;
}

/* A proof document as JSON: one member per key, "path" an array. */
static int
print_proof_json(const char *text)
{
	json_t *o = NULL, *path = NULL;
	char *copy = NULL, *line, *save = NULL, *val;
	int ex = VAULT_EXIT_FAIL;

	if ((o = json_object()) == NULL || (path = json_array()) == NULL ||
	    (copy = strdup(text)) == NULL)
		goto out;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((val = strstr(line, ": ")) == NULL)
			goto out;
		*val = '\0';
		val += 2;
		if (strcmp(line, "path") == 0) {
			if (json_array_append_new(path, json_string(val)) != 0)
				goto out;
		} else if (strcmp(line, "bg-proof-v1") == 0) {
			if (json_object_set_new(o, "format",
			    json_string("bg-proof-v1")) != 0 ||
			    json_object_set_new(o, "kind",
			    json_string(val)) != 0)
				goto out;
		} else if (strcmp(line, "event") == 0 ||
		    strstr(line, "size") != NULL) {
			if (json_object_set_new(o, line, json_integer(
			    (json_int_t)strtoll(val, NULL, 10))) != 0)
				goto out;
		} else if (json_object_set_new(o, line, json_string(val)) != 0)
			goto out;
	}
	if (json_object_set(o, "path", path) != 0 || vault_json_print(o) != 0)
		goto out;
	ex = VAULT_EXIT_OK;
out:
	free(copy);
	json_decref(path);
	json_decref(o);
	return ex;
}

static int
audit_proof(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "event",	required_argument, NULL, OPT_EVENT },
		{ "size",	required_argument, NULL, OPT_SIZE },
		{ "from",	required_argument, NULL, OPT_FROM },
		{ "to",		required_argument, NULL, OPT_TO },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	uint64_t ev = 0, size = 0, from = 0, to = 0, *dst;
	char *text = NULL;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			ex = vault_usage_ok(usage);
			goto out;
		case OPT_EVENT:
		case OPT_SIZE:
		case OPT_FROM:
		case OPT_TO:
			dst = c == OPT_EVENT ? &ev : c == OPT_SIZE ? &size :
			    c == OPT_FROM ? &from : &to;
			if (vault_parse_uint(optarg, 1, INT64_MAX, dst) != 0) {
				vault_errx("audit proof: '%s' is not a "
				    "positive number", optarg);
				ex = VAULT_EXIT_USAGE;
				goto out;
			}
			break;
		default:
			ex = vault_usage_err(usage);
			goto out;
		}
	}
	if (argc - optind != 0 || (ev == 0) == (from == 0) ||
	    (ev != 0 && to != 0) || (from != 0 && size != 0)) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	r = ev != 0 ? bg_vault_log_inclusion_proof(v, (int64_t)ev, size,
	    &text) : bg_vault_log_consistency_proof(v, from, to, &text);
	if (r != BG_OK) {
		ex = vault_fail(v, r, "audit proof");
		if (r == BG_ERR_RANGE || r == BG_ERR_INVALID_ARG)
			ex = VAULT_EXIT_USAGE;
		goto out;
	}
	if (vault_g.json) {
		ex = print_proof_json(text);
		goto out;
	}
	fputs(text, stdout);
	ex = VAULT_EXIT_OK;
out:
	free(text);
	bg_vault_close(&v);
	return ex;
}

/* receipt | head: the newest signed tree head. */
static int
audit_head(int argc, char **argv, bool receipt_only)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	bg_vault_log_head_t h;
	json_t *j = NULL;
	char *root = NULL, tb[32];
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		ex = c == 'h' ? vault_usage_ok(usage) : vault_usage_err(usage);
		goto out;
	}
	if (argc - optind != 0) {
		ex = vault_usage_err(usage);
		goto out;
	}
	if ((ex = vault_open(&v)) != 0)
		goto out;
	if ((r = bg_vault_log_head(v, &h)) != BG_OK) {
		ex = vault_fail(v, r, "audit %s", receipt_only ? "receipt" :
		    "head");
		goto out;
	}
	ex = VAULT_EXIT_FAIL;
	if (receipt_only) {
		printf("%s\n", h.receipt);
		ex = VAULT_EXIT_OK;
		goto out;
	}
	if ((root = bg_cli_hex(h.root, sizeof(h.root))) == NULL)
		goto out;
	if (vault_g.json) {
		j = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s}", "vault_id",
		    bg_vault_id(v), "size", (json_int_t)h.size, "root", root,
		    "time", (json_int_t)h.time, "tree_head", h.text,
		    "receipt", h.receipt, "public_key", h.public_key);
		if (j == NULL || vault_json_print(j) != 0)
			goto out;
		ex = VAULT_EXIT_OK;
		goto out;
	}
	printf("vault:      %s\nsize:       %llu events\nroot:       %s\n"
	    "signed at:  %s\npublic key: %s\nreceipt:    %s\n%s\n",
	    bg_vault_id(v), (unsigned long long)h.size, root,
	    vault_fmt_time(h.time, tb), h.public_key, h.receipt, h.text);
	ex = VAULT_EXIT_OK;
out:
	free(root);
	json_decref(j);
	bg_vault_close(&v);
	return ex;
}

static int
audit_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		VAULT_GLOBAL_LONGOPTS,
		{ "out",	required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 }
	};
	bg_vault_t *v = NULL;
	const char *out = NULL;
	int64_t ne = 0, nh = 0;
	int c, r, ex = VAULT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (vault_global_opt(c, optarg))
			continue;
		if (c == OPT_OUT) {
			out = optarg;
			continue;
		}
		ex = c == 'h' ? vault_usage_ok(usage) : vault_usage_err(usage);
		goto done;
	}
	if (argc - optind != 0 || out == NULL) {
		ex = vault_usage_err(usage);
		goto done;
	}
	if ((ex = vault_open(&v)) != 0)
		goto done;
	if ((r = bg_vault_log_export(v, out, &ne, &nh)) != BG_OK) {
		ex = vault_fail(v, r, "audit export");
		goto done;
	}
	vault_note("wrote %lld events and %lld signed tree heads to %s",
	    (long long)ne, (long long)nh, out);
	ex = VAULT_EXIT_OK;
done:
	bg_vault_close(&v);
	return ex;
}

int
cmd_audit(int argc, char **argv)
{
	int ex;

	if ((ex = vault_subcommand_pre(argc, argv, usage)) >= 0)
		return ex;
	if (strcmp(argv[1], "log") == 0)
		return audit_log(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "proof") == 0)
		return audit_proof(argc - 1, argv + 1);
	if (strcmp(argv[1], "receipt") == 0)
		return audit_head(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "head") == 0)
		return audit_head(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "export") == 0)
		return audit_export(argc - 1, argv + 1);
	return vault_subcommand_unknown("audit", argv[1], usage);
}
