/*
 * breakglass vault engine: incident reports and evidence bundles.
 * Part of the public API; included by vault.h, not on its own.
 * Same conventions as vault.h: BG_OK or a negative BG_ERR_* code, details
 * in bg_vault_errmsg(), outputs cleared on entry and owned by the caller.
 *
 * Reports and bundles hold no secret: names, reasons, tickets, times,
 * statements, public keys, signatures and hashes.  Every string in them
 * may come from a database someone edited, so renderers escape all of it.
 */
#ifndef BREAKGLASS_VAULT_EVIDENCE_H
#define BREAKGLASS_VAULT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

/* --- incident review reports ---------------------------------------------- */

/*
 * What a report covers.  Every field narrows (all zero / NULL: everything):
 * requests of tenant, with ticket, the one request_id, created in
 * [since, until] (inclusive, 0 unbounded).  Refusals and anomalies are
 * those of the same tenant and time range (with request_id: those that
 * name the request or its secret while it was open or its lease ran).
 */
typedef struct bg_vault_report_query {
	const char	*tenant;
	const char	*ticket;
	int64_t		 request_id;
	int64_t		 since, until;
} bg_vault_report_query_t;

/*
 * Build the report as JSON (format tag "bg-report-v1"; docs/vault.1 and
 * docs/evidence-format.md describe its members) into *jsonp (malloc,
 * NUL-terminated, compact with sorted keys; free()).  BG_ERR_NOT_FOUND
 * when request_id or tenant does not exist.  Judges leases and deadlines
 * at max(clock, newest event), like every read.
 */
int bg_vault_report(bg_vault_t *v, const bg_vault_report_query_t *q,
    char **jsonp);

enum bg_vault_report_format {
	BG_VAULT_REPORT_TEXT = 1,
	BG_VAULT_REPORT_JSON = 2,	/* indented, sorted keys */
	BG_VAULT_REPORT_HTML = 3,	/* one self-contained file, inline CSS
					   and SVG timeline, no scripts */
};

/*
 * Render a report JSON (from bg_vault_report(), or from an evidence
 * bundle: it is parsed as untrusted input) into *outp (malloc; free()).
 * Needs no vault.  BG_ERR_PARSE when json is not a report.
 */
int bg_vault_report_render(const char *json, int format, char **outp);

/* --- evidence bundles ------------------------------------------------------ */

#define BG_EVIDENCE_FORMAT	"bg-evidence-v1"
#define BG_EVIDENCE_MAX		(16u * 1024u * 1024u)	/* bytes of a bundle */

/*
 * The evidence bundle of one request (docs/evidence-format.md) into
 * *bundlep (malloc, NUL-terminated JSON; free()), signed with the vault's
 * signing key.  Logs an "evidence.export" event first, so the bundle's
 * tree head covers its own export.  receipt (may be NULL) is a paper
 * receipt line: the bundle then carries the full root at its size and a
 * consistency proof to the bundle's tree head (BG_ERR_AUTH when today's
 * log does not extend it).  BG_ERR_NOT_FOUND for no such request.
 * by: the tenant's auditor, an operator of it or a custodian, who signs
 * the export (tok NULL: check only, no bundle).
 */
int bg_vault_evidence_export(bg_vault_t *v, const bg_vault_signer_t *by,
    int64_t request_id, const char *receipt, char **bundlep);

/*
 * One line of a verification: what was checked and whether it held.
 * what: "tree head signature", "event 17 inclusion", "approval by alice
 * signature", ...; detail: a sentence when it failed ("" when it held).
 */
typedef struct bg_evidence_check {
	char	 what[128];
	int	 ok;		/* 1 held, 0 failed */
	char	 detail[256];
} bg_evidence_check_t;

typedef struct bg_evidence_result {
	bg_evidence_check_t	*checks;
	size_t			 n_checks;
	size_t			 n_failed;
	int64_t			 request_id;
	char			 vault_id[BG_VAULT_ID_LEN + 1];
	char			 pubkey_hex[65];	/* key the bundle was checked with */
	int			 pubkey_pinned;		/* 1 when the caller gave it */
	char			*report_json;		/* the bundle's report (malloc) */
} bg_evidence_result_t;

/*
 * Verify a bundle (len bytes, need not be NUL-terminated) without any
 * vault: the tree head signature (against pubkey when not NULL, else the
 * key in the bundle, and then pubkey_pinned is 0), every event's
 * inclusion proof against that head, every assertion's signature over the
 * clientDataHash recomputed from its statement, every statement's
 * agreement with the events, and the bundle signature.  receipt (may be
 * NULL) is a paper receipt line the tree head must extend (the bundle
 * carries a consistency proof for it when it was exported with one, else
 * that check fails).
 *
 * Returns BG_OK when every check held, BG_ERR_AUTH when at least one
 * failed (the result lists them all), BG_ERR_PARSE when the bundle cannot
 * be read at all (*resultp then holds one failed check saying why).
 * *resultp is set in all three cases; free it with
 * bg_evidence_result_free().
 */
int bg_evidence_verify(const uint8_t *bundle, size_t len,
    const uint8_t *pubkey, const char *receipt,
    bg_evidence_result_t **resultp) __attribute__((warn_unused_result));
void bg_evidence_result_free(bg_evidence_result_t **p);

#endif /* BREAKGLASS_VAULT_EVIDENCE_H */
