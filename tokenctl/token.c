/*
 * The token layer: FIDO2 tokens through libfido2.
 *
 * USB tokens go the normal libfido2 way.  Every other transport ("unix:"
 * sockets, the in-process software token of the tests) is wrapped in one
 * io table here (io_wrap) that libfido2 drives through
 * fido_dev_set_io_functions().  The wrapper enforces the touch timeout as a
 * deadline counted from our last write (libfido2 restarts its per-read
 * timeout on every KEEPALIVE, so a token that keeps asking for a touch would
 * otherwise hold us forever), notices the interrupt flag, and remembers
 * which of the two ended a read, so that libfido2's bare FIDO_ERR_RX can be
 * told apart from a lost token.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "soft/soft.h"
#include "token_int.h"

/*
 * The AAGUID of breakglass software tokens, exported under the public
 * header's name so that token.h needs nothing from the software token.
 * Its bytes come from the same macro as bg_soft_aaguid (soft/soft.h).
 */
_Static_assert(BG_TOKEN_AAGUID_LEN == BG_SOFT_AAGUID_LEN,
    "public and software-token AAGUID lengths differ");
const uint8_t bg_token_soft_aaguid[BG_TOKEN_AAGUID_LEN] = BG_SOFT_AAGUID_INIT;

#define UNIX_PREFIX	"unix:"
#define CANCEL_DRAIN_MS	1000

/* CTAPHID (CTAP 2.1 section 11.2.9.1.6, 11.2.9.2.1): an ERROR frame is the
 * init packet of command 0x3f; payload byte 0 is the error code. */
#define CTAPHID_INIT_ERROR	0xbf
#define CTAPHID_ERR_BUSY	0x06		/* ERR_CHANNEL_BUSY */

struct io_wrap {
	const bg_token_io_t	*inner;
	void			*h;		/* inner handle */
	int			 timeout_ms;
	int64_t			 last_write_ms;
	bool			 timed_out;	/* last failed read hit the deadline */
	bool			 interrupted;	/* ... or saw the interrupt flag */
	/*
	 * Set when the device answered CTAPHID ERROR CHANNEL_BUSY: it is
	 * serving another client.  libfido2 reports that frame as a failed
	 * read (FIDO_ERR_RX), like a lost device, so the layer looks at it
	 * on the way in.  Points into the bg_token, which outlives this
	 * wrapper when libfido2 frees it after a failed open.
	 */
	bool			*saw_busy;
};

struct bg_token {
	fido_dev_t	*dev;
	char		*path;
	struct io_wrap	*io;		/* owned by libfido2's handle; NULL for HID */
	int		 timeout_ms;
	int64_t		 op_start_ms;	/* when the current operation began */
	bool		 saw_busy;	/* see struct io_wrap */
};

static volatile sig_atomic_t *interrupt_flag;

/* Hands the wrapper to io_wrap_open(), which libfido2 calls by path only. */
static _Thread_local struct io_wrap *opening;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
bg_token_interrupted(void)
{
	return interrupt_flag != NULL && *interrupt_flag != 0;
}

void
bg_token_set_interrupt(volatile sig_atomic_t *flag)
{
	interrupt_flag = flag;
}

/*
 * OpenSSL initialises its providers and method store lazily, on first use.
 * An allocation failure inside that first use leaves its global state half
 * built, and a later call crashes on a NULL lock (found by failing each
 * allocation in turn: tests/hardening/failmalloc.py).  So everything the
 * token layer and libfido2 will need is fetched once here, at start, where
 * a failure is a clean refusal before any token or vault is touched.
 */
static int
openssl_warm_up(void)
{
	static const char *const signatures[] = { "ECDSA", "ED25519" };
	static const char *const keymgmts[] = { "EC", "ED25519" };
	EVP_PKEY *pk = NULL;
	EVP_MD *md = NULL;
	EVP_CIPHER *ci = NULL;
	EVP_MAC *mac = NULL;
	EVP_SIGNATURE *sig = NULL;
	EVP_KEYMGMT *km = NULL;
	EVP_KEYEXCH *kx = NULL;
	EVP_KDF *kdf = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t i;
	int r = BG_ERR_CRYPTO;

	if (OPENSSL_init_crypto(0, NULL) != 1 ||
	    (pk = EVP_EC_gen("P-256")) == NULL ||
	    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (ci = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL ||
	    (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (kx = EVP_KEYEXCH_fetch(NULL, "ECDH", NULL)) == NULL)
		goto out;
	/*
	 * libfido2 reaches HKDF (PIN protocol 2) and ECDH through legacy
	 * ids, which go through OpenSSL's name store on first use.
	 */
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) != 1)
		goto out;
	EVP_PKEY_CTX_free(pctx);
	if ((pctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) != 1)
		goto out;
	for (i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++) {
		if ((sig = EVP_SIGNATURE_fetch(NULL, signatures[i], NULL)) ==
		    NULL || (km = EVP_KEYMGMT_fetch(NULL, keymgmts[i], NULL)) ==
		    NULL)
			goto out;
		EVP_SIGNATURE_free(sig);
		sig = NULL;
		EVP_KEYMGMT_free(km);
		km = NULL;
	}
	r = BG_OK;
out:
	EVP_PKEY_free(pk);
	EVP_MD_free(md);
	EVP_CIPHER_free(ci);
	EVP_MAC_free(mac);
	EVP_SIGNATURE_free(sig);
	EVP_KEYMGMT_free(km);
	EVP_KEYEXCH_free(kx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

int
bg_token_init(void)
{
	if (sodium_init() < 0)
		return BG_ERR_CRYPTO;
	fido_init(0);
	return openssl_warm_up();
}

/* --- the io wrapper -------------------------------------------------- */

static void *
io_wrap_open(const char *path)
{
	struct io_wrap *w = opening;

	if (w == NULL || (w->h = w->inner->open(path)) == NULL)
		return NULL;
	opening = NULL;		/* now libfido2's: freed in io_wrap_close() */
	return w;
}

static void
io_wrap_close(void *handle)
{
	struct io_wrap *w = handle;

	if (w == NULL)
		return;
	w->inner->close(w->h);
	free(w);
}

static int
io_wrap_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct io_wrap *w = handle;
	int64_t left;
	int eff, n;

	if (bg_token_interrupted()) {
		w->interrupted = true;
		return -1;
	}
	left = w->timeout_ms < 0 ? -1 :
	    w->last_write_ms + w->timeout_ms - mono_ms();
	if (w->timeout_ms >= 0 && left <= 0) {
		w->timed_out = true;
		return -1;
	}
	eff = ms;
	if (left >= 0 && (eff < 0 || left < eff))
		eff = (int)left;
	n = w->inner->read(w->h, buf, len, eff);
	if (n >= 8 && (size_t)n <= len && buf[4] == CTAPHID_INIT_ERROR &&
	    buf[5] == 0 && buf[6] >= 1 && buf[7] == CTAPHID_ERR_BUSY &&
	    w->saw_busy != NULL)
		*w->saw_busy = true;
	if (n < 0) {
		if (bg_token_interrupted())
			w->interrupted = true;
		else if (w->timeout_ms >= 0 &&
		    mono_ms() >= w->last_write_ms + w->timeout_ms)
			w->timed_out = true;
	}
	return n;
}

static int
io_wrap_write(void *handle, const unsigned char *buf, size_t len)
{
	struct io_wrap *w = handle;

	w->last_write_ms = mono_ms();
	return w->inner->write(w->h, buf, len);
}

static const fido_dev_io_t io_wrap_fido = {
	io_wrap_open,
	io_wrap_close,
	io_wrap_read,
	io_wrap_write,
};

/* Forget why the previous operation ended; called before each one. */
static void
op_begin(bg_token_t *tok)
{
	tok->op_start_ms = mono_ms();
	tok->saw_busy = false;
	if (tok->io != NULL) {
		tok->io->timed_out = false;
		tok->io->interrupted = false;
		tok->io->last_write_ms = mono_ms();
	}
}

/*
 * After CANCEL the token answers the pending request with an error; read
 * that answer (best effort) so that it cannot be taken for the reply to
 * the next request on this handle.
 */
static void
drain_after_cancel(bg_token_t *tok)
{
	unsigned char pkt[64];
	int64_t until;
	int left;

	if (tok->io == NULL)
		return;
	until = mono_ms() + CANCEL_DRAIN_MS;
	while ((left = (int)(until - mono_ms())) > 0) {
		if (tok->io->inner->read(tok->io->h, pkt, sizeof(pkt),
		    left) != (int)sizeof(pkt))
			break;
		/* 0x90 is CTAPHID_CBOR with the init bit: the final answer. */
		if (pkt[4] == 0x90 || pkt[4] == 0xbf)
			break;
	}
	sodium_memzero(pkt, sizeof(pkt));
}

/*
 * Translate the result of one libfido2 call on tok, telling a timeout and
 * an interrupt apart from a lost token; both cancel the pending request.
 */
static int
op_result(bg_token_t *tok, int fido_r)
{
	if (fido_r == FIDO_OK)
		return BG_OK;
	if (bg_token_interrupted() ||
	    (tok->io != NULL && tok->io->interrupted)) {
		(void)fido_dev_cancel(tok->dev);
		return BG_ERR_TOKEN_CANCELLED;
	}
	if (tok->io != NULL && tok->io->timed_out) {
		(void)fido_dev_cancel(tok->dev);
		drain_after_cancel(tok);
		return BG_ERR_TOKEN_TIMEOUT;
	}
	if (tok->saw_busy && (fido_r == FIDO_ERR_RX ||
	    fido_r == FIDO_ERR_CHANNEL_BUSY))
		return BG_ERR_TOKEN_BUSY;
	/*
	 * libfido2 spends its own budget (the same timeout, counted from the
	 * start of the call) and then says only that a read failed.  On USB
	 * that is all we see; on a socket its budget can run out before the
	 * wrapper's, which counts from the last write, so a loaded machine
	 * turned a timeout into "lost contact".  The clock says why.
	 */
	if (fido_r == FIDO_ERR_RX &&
	    mono_ms() - tok->op_start_ms >= tok->timeout_ms) {
		(void)fido_dev_cancel(tok->dev);
		if (tok->io != NULL)
			drain_after_cancel(tok);
		return BG_ERR_TOKEN_TIMEOUT;
	}
	return bg_token_err_from_fido(fido_r);
}

/* --- opening --------------------------------------------------------- */

static int
open_common(const char *path, const bg_token_io_t *io, int ms,
    bg_token_t **tokp)
{
	bg_token_t *tok = NULL;
	struct io_wrap *w = NULL;
	struct stat st;
	int fr, r = BG_ERR_INTERNAL;

	if (tokp != NULL)
		*tokp = NULL;
	if (path == NULL || tokp == NULL || *path == '\0') {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((tok = calloc(1, sizeof(*tok))) == NULL ||
	    (tok->path = strdup(path)) == NULL ||
	    (tok->dev = fido_dev_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	tok->timeout_ms = BG_TOKEN_TIMEOUT_MS;
	if (io != NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		w->inner = io;
		w->timeout_ms = ms;
		w->last_write_ms = mono_ms();
		w->saw_busy = &tok->saw_busy;
		if (fido_dev_set_io_functions(tok->dev, &io_wrap_fido) !=
		    FIDO_OK) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
	}
	if (fido_dev_set_timeout(tok->dev, ms) != FIDO_OK) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	opening = w;
	if (io != NULL && strncmp(path, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		fr = fido_dev_open(tok->dev, path + strlen(UNIX_PREFIX));
	else
		fr = fido_dev_open(tok->dev, path);
	if (io != NULL && opening == NULL) {
		/* io_wrap_open() handed w to libfido2 */
		if (fr == FIDO_OK)
			tok->io = w;
		w = NULL;	/* libfido2 closed (and freed) it on failure */
	}
	opening = NULL;
	if (fr != FIDO_OK) {
		if (w != NULL)
			r = BG_ERR_TOKEN_NOT_FOUND;	/* nothing answered */
		else if (tok->saw_busy)
			r = BG_ERR_TOKEN_BUSY;	/* it answered: "not now" */
		else if (io == NULL && stat(path, &st) != 0)
			r = BG_ERR_TOKEN_NOT_FOUND;
		else if (fr == FIDO_ERR_RX || fr == FIDO_ERR_TX)
			r = BG_ERR_TOKEN_IO;
		else
			r = bg_token_err_from_fido(fr);
		goto out;
	}
	/* From now on the layer's touch timeout applies. */
	if (tok->io != NULL)
		tok->io->timeout_ms = tok->timeout_ms;
	(void)fido_dev_set_timeout(tok->dev, tok->timeout_ms);
	*tokp = tok;
	tok = NULL;
	r = BG_OK;
out:
	free(w);
	bg_token_close(&tok);
	return r;
}

int
bg_token_open_timeout(const char *path, int ms, bg_token_t **tokp)
{
	if (path != NULL && strncmp(path, UNIX_PREFIX,
	    strlen(UNIX_PREFIX)) == 0)
		return open_common(path, &bg_token_unix_io, ms, tokp);
	return open_common(path, NULL, ms, tokp);
}

int
bg_token_open(const char *path, bg_token_t **tokp)
{
	return bg_token_open_timeout(path, BG_TOKEN_TIMEOUT_MS, tokp);
}

int
bg_token_open_io(const char *path, const bg_token_io_t *io,
    bg_token_t **tokp)
{
	if (io == NULL || io->open == NULL || io->close == NULL ||
	    io->read == NULL || io->write == NULL) {
		if (tokp != NULL)
			*tokp = NULL;
		return BG_ERR_INVALID_ARG;
	}
	return open_common(path, io, BG_TOKEN_TIMEOUT_MS, tokp);
}

void
bg_token_close(bg_token_t **tokp)
{
	bg_token_t *tok;

	if (tokp == NULL || (tok = *tokp) == NULL)
		return;
	if (tok->dev != NULL) {
		(void)fido_dev_close(tok->dev);	/* fails harmlessly if not open */
		fido_dev_free(&tok->dev);
	}
	free(tok->path);
	free(tok);
	*tokp = NULL;
}

const char *
bg_token_path(const bg_token_t *tok)
{
	return tok != NULL ? tok->path : NULL;
}

int
bg_token_set_timeout(bg_token_t *tok, int ms)
{
	if (tok == NULL || ms < 0)
		return BG_ERR_INVALID_ARG;
	if (ms == 0)
		ms = BG_TOKEN_TIMEOUT_MS;
	if (fido_dev_set_timeout(tok->dev, ms) != FIDO_OK)
		return BG_ERR_INVALID_ARG;
	tok->timeout_ms = ms;
	if (tok->io != NULL)
		tok->io->timeout_ms = ms;
	return BG_OK;
}

/* --- features -------------------------------------------------------- */

static bool
str_in(char **list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && strcmp(list[i], s) == 0)
			return true;
	return false;
}

int
bg_token_aaguid(bg_token_t *tok, uint8_t aaguid[BG_TOKEN_AAGUID_LEN])
{
	fido_cbor_info_t *ci = NULL;
	int r = BG_ERR_INTERNAL;

	if (tok == NULL || aaguid == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((ci = fido_cbor_info_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	op_begin(tok);
	if ((r = op_result(tok, fido_dev_get_cbor_info(tok->dev, ci))) != BG_OK)
		goto out;
	if (fido_cbor_info_aaguid_len(ci) != BG_TOKEN_AAGUID_LEN) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	memcpy(aaguid, fido_cbor_info_aaguid_ptr(ci), BG_TOKEN_AAGUID_LEN);
	r = BG_OK;
out:
	fido_cbor_info_free(&ci);
	return r;
}

int
bg_token_probe(bg_token_t *tok, bg_token_features_t *feat)
{
	fido_cbor_info_t *ci = NULL;
	char **names;
	const bool *values;
	const uint8_t *protos;
	size_t i, n;
	int retries = -1, r = BG_ERR_INTERNAL;

	if (feat != NULL)
		memset(feat, 0, sizeof(*feat));
	if (tok == NULL || feat == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	feat->pin_retries = -1;
	if ((ci = fido_cbor_info_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	op_begin(tok);
	if ((r = op_result(tok, fido_dev_get_cbor_info(tok->dev, ci))) != BG_OK)
		goto out;

	if (fido_cbor_info_aaguid_len(ci) != BG_TOKEN_AAGUID_LEN) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	memcpy(feat->aaguid, fido_cbor_info_aaguid_ptr(ci), BG_TOKEN_AAGUID_LEN);
	feat->is_soft = memcmp(feat->aaguid, bg_token_soft_aaguid, /* public: AAGUID */
	    BG_TOKEN_AAGUID_LEN) == 0;

	names = fido_cbor_info_versions_ptr(ci);
	n = fido_cbor_info_versions_len(ci);
	feat->fido_2_0 = str_in(names, n, "FIDO_2_0");
	feat->fido_2_1 = str_in(names, n, "FIDO_2_1");

	names = fido_cbor_info_extensions_ptr(ci);
	n = fido_cbor_info_extensions_len(ci);
	feat->hmac_secret = str_in(names, n, "hmac-secret");
	feat->cred_protect = str_in(names, n, "credProtect");

	names = fido_cbor_info_options_name_ptr(ci);
	values = fido_cbor_info_options_value_ptr(ci);
	n = fido_cbor_info_options_len(ci);
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		if (strcmp(names[i], "clientPin") == 0) {
			feat->client_pin = true;
			feat->pin_set = values[i];
		} else if (strcmp(names[i], "uv") == 0) {
			feat->uv = true;
		} else if (strcmp(names[i], "pinUvAuthToken") == 0) {
			feat->pin_uv_auth_token = values[i];
		}
	}

	n = fido_cbor_info_algorithm_count(ci);
	for (i = 0; i < n; i++) {
		if (fido_cbor_info_algorithm_cose(ci, i) == COSE_ES256)
			feat->es256 = true;
		else if (fido_cbor_info_algorithm_cose(ci, i) == COSE_EDDSA)
			feat->eddsa = true;
	}
	/* CTAP 2.0 tokens may omit the list: ES256 is then implied. */
	if (n == 0)
		feat->es256 = true;

	protos = fido_cbor_info_protocols_ptr(ci);
	n = fido_cbor_info_protocols_len(ci);
	for (i = 0; i < n && feat->n_pin_protocols <
	    sizeof(feat->pin_protocols); i++)
		feat->pin_protocols[feat->n_pin_protocols++] = protos[i];

	feat->max_msg_size = fido_cbor_info_maxmsgsiz(ci);

	if (feat->client_pin) {
		op_begin(tok);
		r = op_result(tok, fido_dev_get_retry_count(tok->dev, &retries));
		if (r == BG_ERR_TOKEN_CANCELLED || r == BG_ERR_TOKEN_IO ||
		    r == BG_ERR_TOKEN_TIMEOUT)
			goto out;
		feat->pin_retries = r == BG_OK ? retries : -1;
	}
	if (feat->is_soft)
		(void)snprintf(feat->product, sizeof(feat->product), "%s",
		    "breakglass software token");
	r = BG_OK;
out:
	fido_cbor_info_free(&ci);
	return r;
}

int
bg_token_check_usable(const bg_token_features_t *feat, const char **whyp)
{
	const char *why = NULL;
	int r = BG_ERR_INTERNAL;

	if (feat == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (!feat->client_pin) {
		r = BG_ERR_TOKEN_UNSUPPORTED;
		why = "this token cannot verify a PIN (no clientPin support); "
		    "breakglass needs a token with a PIN";
		goto out;
	}
	if (!feat->hmac_secret) {
		r = BG_ERR_TOKEN_UNSUPPORTED;
		why = "this token lacks the hmac-secret extension, which "
		    "breakglass needs to bind keys to it";
		goto out;
	}
	if (!feat->es256 && !feat->eddsa) {
		r = BG_ERR_TOKEN_UNSUPPORTED;
		why = "this token offers neither ES256 nor EdDSA credentials";
		goto out;
	}
	if (!feat->pin_set) {
		r = BG_ERR_TOKEN_PIN_NOT_SET;
		why = "this token has no PIN yet; set one with "
		    "'tokenctl pin set --token PATH'";
		goto out;
	}
	r = BG_OK;
out:
	if (whyp != NULL)
		*whyp = why;
	return r;
}

/* --- PIN management -------------------------------------------------- */

int
bg_token_pin_set(bg_token_t *tok, const char *pin)
{
	if (tok == NULL || pin == NULL)
		return BG_ERR_INVALID_ARG;
	op_begin(tok);
	return op_result(tok, fido_dev_set_pin(tok->dev, pin, NULL));
}

int
bg_token_pin_change(bg_token_t *tok, const char *old_pin, const char *new_pin)
{
	if (tok == NULL || old_pin == NULL || new_pin == NULL)
		return BG_ERR_INVALID_ARG;
	op_begin(tok);
	return op_result(tok, fido_dev_set_pin(tok->dev, new_pin, old_pin));
}

int
bg_token_pin_retries(bg_token_t *tok, int *retriesp)
{
	int n = -1, r = BG_ERR_INTERNAL;

	if (retriesp != NULL)
		*retriesp = -1;
	if (tok == NULL || retriesp == NULL)
		return BG_ERR_INVALID_ARG;
	op_begin(tok);
	if ((r = op_result(tok, fido_dev_get_retry_count(tok->dev, &n))) ==
	    BG_OK)
		*retriesp = n;
	return r;
}

int
bg_token_reset(bg_token_t *tok)
{
	if (tok == NULL)
		return BG_ERR_INVALID_ARG;
	op_begin(tok);
	return op_result(tok, fido_dev_reset(tok->dev));
}

/* --- enrollment ------------------------------------------------------ */

void
bg_token_cred_free(bg_token_cred_t **credp)
{
	bg_token_cred_t *c;

	if (credp == NULL || (c = *credp) == NULL)
		return;
	free(c->id);
	free(c->pubkey);
	free(c->cose_pubkey);
	free(c->fmt);
	free(c->x5c);
	free(c->att_authdata);
	free(c->att_stmt);
	sodium_memzero(c, sizeof(*c));
	free(c);
	*credp = NULL;
}

static int
dup_bytes(const unsigned char *p, size_t len, uint8_t **outp, size_t *lenp)
{
	uint8_t *b = NULL;

	*outp = NULL;
	*lenp = 0;
	if (p == NULL || len == 0)
		return BG_OK;
	if ((b = malloc(len)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(b, p, len);
	*outp = b;
	*lenp = len;
	return BG_OK;
}

/*
 * The COSE public key exactly as the token wrote it: attestedCredentialData
 * in the raw authenticator data is rpIdHash(32) flags(1) signCount(4)
 * aaguid(16) L(2) credentialId(L) credentialPublicKey(CBOR map).  Checks
 * that the credential id there is the one libfido2 reported.
 */
static int
cose_from_authdata(const fido_cred_t *cred, uint8_t **cosep, size_t *lenp)
{
	const unsigned char *ad = fido_cred_authdata_raw_ptr(cred);
	size_t adlen = fido_cred_authdata_raw_len(cred), off, idlen;
	struct cbor_load_result res;
	cbor_item_t *item = NULL;
	int r = BG_ERR_TOKEN_PROTOCOL;

	*cosep = NULL;
	*lenp = 0;
	if (ad == NULL || adlen < 37 + 16 + 2 || (ad[32] & 0x40) == 0)
		goto out;
	off = 37 + 16;
	idlen = (size_t)ad[off] << 8 | ad[off + 1];
	off += 2;
	if (idlen != fido_cred_id_len(cred) || adlen - off < idlen ||
	    memcmp(ad + off, fido_cred_id_ptr(cred), idlen) != 0) /* public: credential id */
		goto out;
	off += idlen;
	memset(&res, 0, sizeof(res));
	item = cbor_load(ad + off, adlen - off, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    !cbor_isa_map(item) || res.read == 0 || res.read > adlen - off)
		goto out;
	r = dup_bytes(ad + off, res.read, cosep, lenp);
out:
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

int
bg_token_enroll(bg_token_t *tok, const char *rp_id, const char *user_name,
    int alg, const char *pin, bg_token_cred_t **credp)
{
	bg_token_features_t feat;
	bg_token_cred_t *c = NULL;
	fido_cred_t *cred = NULL;
	uint8_t user_id[32], cdh[32];
	const char *fmt;
	int fr, ext, cose_alg, r = BG_ERR_INTERNAL;

	if (credp != NULL)
		*credp = NULL;
	if (tok == NULL || rp_id == NULL || user_name == NULL ||
	    pin == NULL || credp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (alg == 0)
		alg = BG_TOKEN_ES256;
	if (alg == BG_TOKEN_ES256)
		cose_alg = COSE_ES256;
	else if (alg == BG_TOKEN_EDDSA)
		cose_alg = COSE_EDDSA;
	else {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = bg_token_probe(tok, &feat)) != BG_OK)
		goto out;
	if ((r = bg_token_check_usable(&feat, NULL)) != BG_OK)
		goto out;
	if ((alg == BG_TOKEN_ES256 && !feat.es256) ||
	    (alg == BG_TOKEN_EDDSA && !feat.eddsa)) {
		r = BG_ERR_TOKEN_UNSUPPORTED;
		goto out;
	}

	randombytes_buf(user_id, sizeof(user_id));
	randombytes_buf(cdh, sizeof(cdh));
	if ((cred = fido_cred_new()) == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	ext = FIDO_EXT_HMAC_SECRET;
	if (fido_cred_set_type(cred, cose_alg) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_cred_set_rp(cred, rp_id, NULL) != FIDO_OK ||
	    fido_cred_set_user(cred, user_id, sizeof(user_id), user_name,
	    NULL, NULL) != FIDO_OK ||
	    fido_cred_set_extensions(cred, ext) != FIDO_OK ||
	    fido_cred_set_rk(cred, FIDO_OPT_OMIT) != FIDO_OK) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	/* Level 3 where offered; tokens without credProtect still enroll. */
	if (feat.cred_protect &&
	    fido_cred_set_prot(cred, FIDO_CRED_PROT_UV_REQUIRED) != FIDO_OK) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	/* With a PIN libfido2 sends pinUvAuthParam, which makes it UV. */
	op_begin(tok);
	if ((r = op_result(tok, fido_dev_make_cred(tok->dev, cred, pin))) !=
	    BG_OK)
		goto out;

	if ((fido_cred_flags(cred) & 0x01) == 0) {
		r = BG_ERR_TOKEN_DENIED;
		goto out;
	}
	if ((fido_cred_flags(cred) & 0x04) == 0) {
		r = BG_ERR_TOKEN_NO_UV;
		goto out;
	}

	/* The attestation. */
	fmt = fido_cred_fmt(cred);
	if (fmt == NULL) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if (fido_cred_x5c_len(cred) > 0) {
		if ((fr = fido_cred_verify(cred)) != FIDO_OK) {
			r = BG_ERR_TOKEN_ATTESTATION;
			goto out;
		}
		c->attestation = BG_TOKEN_ATT_X5C;
	} else if (strcmp(fmt, "none") == 0) {
		c->attestation = BG_TOKEN_ATT_NONE;
	} else {
		if ((fr = fido_cred_verify_self(cred)) != FIDO_OK) {
			r = BG_ERR_TOKEN_ATTESTATION;
			goto out;
		}
		c->attestation = BG_TOKEN_ATT_SELF;
	}

	c->alg = alg;
	if (fido_cred_id_len(cred) == 0 ||
	    fido_cred_aaguid_len(cred) != BG_TOKEN_AAGUID_LEN ||
	    (alg == BG_TOKEN_ES256 && fido_cred_pubkey_len(cred) != 64) ||
	    (alg == BG_TOKEN_EDDSA && fido_cred_pubkey_len(cred) != 32)) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if ((r = dup_bytes(fido_cred_id_ptr(cred), fido_cred_id_len(cred),
	    &c->id, &c->id_len)) != BG_OK ||
	    (r = dup_bytes(fido_cred_pubkey_ptr(cred),
	    fido_cred_pubkey_len(cred), &c->pubkey, &c->pubkey_len)) != BG_OK ||
	    (r = dup_bytes(fido_cred_x5c_ptr(cred), fido_cred_x5c_len(cred),
	    &c->x5c, &c->x5c_len)) != BG_OK ||
	    (r = dup_bytes(fido_cred_authdata_raw_ptr(cred),
	    fido_cred_authdata_raw_len(cred), &c->att_authdata,
	    &c->att_authdata_len)) != BG_OK ||
	    (r = dup_bytes(fido_cred_attstmt_ptr(cred),
	    fido_cred_attstmt_len(cred), &c->att_stmt, &c->att_stmt_len)) !=
	    BG_OK)
		goto out;
	memcpy(c->att_cdh, cdh, sizeof(c->att_cdh));
	if ((r = cose_from_authdata(cred, &c->cose_pubkey,
	    &c->cose_pubkey_len)) != BG_OK)
		goto out;
	memcpy(c->aaguid, fido_cred_aaguid_ptr(cred), BG_TOKEN_AAGUID_LEN);
	if ((c->fmt = strdup(fmt)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	c->cred_protect = fido_cred_prot(cred);
	if (feat.cred_protect && c->cred_protect != FIDO_CRED_PROT_UV_REQUIRED) {
		/* The token offered credProtect and gave us less. */
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	c->sign_count = fido_cred_sigcount(cred);
	c->is_soft = memcmp(c->aaguid, bg_token_soft_aaguid, /* public: AAGUID */
	    BG_TOKEN_AAGUID_LEN) == 0;

	*credp = c;
	c = NULL;
	r = BG_OK;
out:
	sodium_memzero(user_id, sizeof(user_id));
	fido_cred_free(&cred);
	bg_token_cred_free(&c);
	return r;
}

/* --- assertion ------------------------------------------------------- */

void
bg_token_assertion_free(bg_token_assertion_t **assertp)
{
	bg_token_assertion_t *a;

	if (assertp == NULL || (a = *assertp) == NULL)
		return;
	free(a->authdata);
	free(a->sig);
	if (a->hmac_secret != NULL)
		sodium_free(a->hmac_secret);
	sodium_memzero(a, sizeof(*a));
	free(a);
	*assertp = NULL;
}

/* libfido2 keeps authenticator data as a CBOR byte string: unwrap it. */
static int
unwrap_authdata(const unsigned char *cb, size_t cblen, uint8_t **outp,
    size_t *lenp)
{
	struct cbor_load_result res;
	cbor_item_t *item = NULL;
	int r = BG_ERR_TOKEN_PROTOCOL;

	*outp = NULL;
	*lenp = 0;
	if (cb == NULL || cblen == 0)
		goto out;
	memset(&res, 0, sizeof(res));
	item = cbor_load(cb, cblen, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != cblen || !cbor_isa_bytestring(item) ||
	    !cbor_bytestring_is_definite(item) ||
	    cbor_bytestring_length(item) == 0)
		goto out;
	r = dup_bytes(cbor_bytestring_handle(item),
	    cbor_bytestring_length(item), outp, lenp);
out:
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

static int
verify_with_fido(const fido_assert_t *fa, int alg, const uint8_t *pubkey,
    size_t pubkey_len)
{
	es256_pk_t *es = NULL;
	eddsa_pk_t *ed = NULL;
	int fr, r = BG_ERR_INTERNAL;

	if (alg == BG_TOKEN_ES256) {
		if ((es = es256_pk_new()) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		if (es256_pk_from_ptr(es, pubkey, pubkey_len) != FIDO_OK) {
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
		fr = fido_assert_verify(fa, 0, COSE_ES256, es);
	} else {
		if ((ed = eddsa_pk_new()) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		if (eddsa_pk_from_ptr(ed, pubkey, pubkey_len) != FIDO_OK) {
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
		fr = fido_assert_verify(fa, 0, COSE_EDDSA, ed);
	}
	r = fr == FIDO_OK ? BG_OK : BG_ERR_TOKEN_BAD_SIGNATURE;
out:
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	return r;
}

int
bg_token_assert(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len,
    int alg, const uint8_t *pubkey, size_t pubkey_len,
    const uint8_t cdh[BG_TOKEN_CDH_LEN], const uint8_t *salt,
    const char *pin, bg_token_assertion_t **assertp)
{
	bg_token_assertion_t *a = NULL;
	fido_assert_t *fa = NULL;
	const unsigned char *id;
	uint8_t flags;
	int r = BG_ERR_INTERNAL;

	if (assertp != NULL)
		*assertp = NULL;
	if (tok == NULL || rp_id == NULL || cred_id == NULL ||
	    cred_id_len == 0 || pubkey == NULL || cdh == NULL ||
	    pin == NULL || assertp == NULL ||
	    (alg != BG_TOKEN_ES256 && alg != BG_TOKEN_EDDSA) ||
	    (alg == BG_TOKEN_ES256 && pubkey_len != 64) ||
	    (alg == BG_TOKEN_EDDSA && pubkey_len != 32)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((fa = fido_assert_new()) == NULL ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/*
	 * UV: libfido2 1.12, given a PIN, obtains a pinUvAuthToken and sends
	 * pinUvAuthParam instead of the "uv" option (which a PIN-only token
	 * would reject); the token then sets the UV flag.  Asking for
	 * FIDO_OPT_TRUE here only makes fido_assert_verify() demand that
	 * flag too; we check it ourselves below in any case.
	 */
	if (fido_assert_set_rp(fa, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(fa, cdh, BG_TOKEN_CDH_LEN) !=
	    FIDO_OK ||
	    fido_assert_allow_cred(fa, cred_id, cred_id_len) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(fa, FIDO_OPT_TRUE) != FIDO_OK) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (salt != NULL &&
	    (fido_assert_set_extensions(fa, FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
	    fido_assert_set_hmac_salt(fa, salt, BG_TOKEN_SALT_LEN) != FIDO_OK)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	op_begin(tok);
	if ((r = op_result(tok, fido_dev_get_assert(tok->dev, fa, pin))) !=
	    BG_OK)
		goto out;
	if (fido_assert_count(fa) != 1) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	/* The token may omit the credential id when allowList has one. */
	if ((id = fido_assert_id_ptr(fa, 0)) != NULL &&
	    (fido_assert_id_len(fa, 0) != cred_id_len ||
	    memcmp(id, cred_id, cred_id_len) != 0)) { /* public: credential id */
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	flags = fido_assert_flags(fa, 0);
	if ((flags & 0x01) == 0) {
		r = BG_ERR_TOKEN_DENIED;
		goto out;
	}
	if ((flags & 0x04) == 0) {
		r = BG_ERR_TOKEN_NO_UV;
		goto out;
	}
	/*
	 * A missing or wrong-length hmac-secret is a malformed reply; check
	 * it before the signature, because fido_assert_verify() also refuses
	 * a reply lacking a requested extension and that would read as a bad
	 * signature (tests/test_token_faults.c).
	 */
	if (salt != NULL &&
	    (fido_assert_hmac_secret_len(fa, 0) != BG_TOKEN_HMAC_LEN ||
	    fido_assert_hmac_secret_ptr(fa, 0) == NULL)) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if ((r = verify_with_fido(fa, alg, pubkey, pubkey_len)) != BG_OK)
		goto out;

	a->flags = flags;
	a->sign_count = fido_assert_sigcount(fa, 0);
	if ((r = unwrap_authdata(fido_assert_authdata_ptr(fa, 0),
	    fido_assert_authdata_len(fa, 0), &a->authdata,
	    &a->authdata_len)) != BG_OK)
		goto out;
	if ((r = dup_bytes(fido_assert_sig_ptr(fa, 0), fido_assert_sig_len(fa, 0),
	    &a->sig, &a->sig_len)) != BG_OK)
		goto out;
	if (a->sig == NULL) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if (salt != NULL) {
		if (fido_assert_hmac_secret_len(fa, 0) != BG_TOKEN_HMAC_LEN ||
		    fido_assert_hmac_secret_ptr(fa, 0) == NULL) {
			r = BG_ERR_TOKEN_PROTOCOL;
			goto out;
		}
		if ((a->hmac_secret = sodium_malloc(BG_TOKEN_HMAC_LEN)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		memcpy(a->hmac_secret, fido_assert_hmac_secret_ptr(fa, 0),
		    BG_TOKEN_HMAC_LEN);
	}
	/* libfido2 wipes its copy of the secret when the assert is freed. */
	fido_assert_free(&fa);

	/* Our own verifier too: what is stored as evidence must pass it. */
	if ((r = bg_token_verify(alg, pubkey, pubkey_len, rp_id, cdh,
	    a->authdata, a->authdata_len, a->sig, a->sig_len, true)) != BG_OK)
		goto out;

	*assertp = a;
	a = NULL;
	r = BG_OK;
out:
	fido_assert_free(&fa);
	bg_token_assertion_free(&a);
	return r;
}

int
bg_token_assert_without_uv(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t *salt,
    uint8_t *flagsp, uint8_t **hmacp)
{
	fido_assert_t *fa = NULL;
	uint8_t *hmac = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN];
	int r = BG_ERR_INTERNAL;

	if (flagsp != NULL)
		*flagsp = 0;
	if (hmacp != NULL)
		*hmacp = NULL;
	if (tok == NULL || rp_id == NULL || cred_id == NULL || salt == NULL ||
	    flagsp == NULL || hmacp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	randombytes_buf(cdh, sizeof(cdh));
	if ((fa = fido_assert_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* UP only: no PIN, "uv" left out, as a client that skips UV would. */
	if (fido_assert_set_rp(fa, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(fa, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_allow_cred(fa, cred_id, cred_id_len) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(fa, FIDO_OPT_OMIT) != FIDO_OK ||
	    fido_assert_set_extensions(fa, FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
	    fido_assert_set_hmac_salt(fa, salt, BG_TOKEN_SALT_LEN) != FIDO_OK) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	op_begin(tok);
	if ((r = op_result(tok, fido_dev_get_assert(tok->dev, fa, NULL))) !=
	    BG_OK)
		goto out;
	if (fido_assert_count(fa) != 1 ||
	    fido_assert_hmac_secret_len(fa, 0) != BG_TOKEN_HMAC_LEN ||
	    fido_assert_hmac_secret_ptr(fa, 0) == NULL) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if ((hmac = sodium_malloc(BG_TOKEN_HMAC_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(hmac, fido_assert_hmac_secret_ptr(fa, 0), BG_TOKEN_HMAC_LEN);
	*flagsp = fido_assert_flags(fa, 0);
	*hmacp = hmac;
	hmac = NULL;
	r = BG_OK;
out:
	fido_assert_free(&fa);
	if (hmac != NULL)
		sodium_free(hmac);
	return r;
}

/*
 * "Does this token hold that credential?" without a touch: UV through
 * the PIN (a credProtect level 3 credential answers only then), "up"
 * false, over a fixed hash that no act uses.  The reply's signature is
 * checked against pubkey, so a token cannot pass for someone else's.
 */
int
bg_token_holds(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len,
    int alg, const uint8_t *pubkey, size_t pubkey_len, const char *pin,
    bool *heldp)
{
	static const char tag[] = "breakglass probe v1\n";
	fido_assert_t *fa = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN];
	int r = BG_ERR_INTERNAL;

	if (heldp != NULL)
		*heldp = false;
	if (tok == NULL || rp_id == NULL || cred_id == NULL ||
	    cred_id_len == 0 || pubkey == NULL || pin == NULL ||
	    heldp == NULL ||
	    (alg != BG_TOKEN_ES256 && alg != BG_TOKEN_EDDSA) ||
	    (alg == BG_TOKEN_ES256 && pubkey_len != 64) ||
	    (alg == BG_TOKEN_EDDSA && pubkey_len != 32)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	crypto_hash_sha256(cdh, (const uint8_t *)tag, sizeof(tag) - 1);
	if ((fa = fido_assert_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (fido_assert_set_rp(fa, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(fa, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_allow_cred(fa, cred_id, cred_id_len) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_FALSE) != FIDO_OK ||
	    fido_assert_set_uv(fa, FIDO_OPT_TRUE) != FIDO_OK) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	op_begin(tok);
	r = op_result(tok, fido_dev_get_assert(tok->dev, fa, pin));
	if (r == BG_ERR_TOKEN_NO_CREDENTIAL) {
		r = BG_OK;	/* not this one: *heldp stays false */
		goto out;
	}
	if (r != BG_OK)
		goto out;
	if (fido_assert_count(fa) != 1) {
		r = BG_ERR_TOKEN_PROTOCOL;
		goto out;
	}
	if ((r = verify_with_fido(fa, alg, pubkey, pubkey_len)) != BG_OK)
		goto out;
	*heldp = true;
	r = BG_OK;
out:
	fido_assert_free(&fa);
	return r;
}

/* --- offline verification -------------------------------------------- */

/*
 * The COSE key's x || y as an OpenSSL public key, imported directly
 * (EVP_PKEY_fromdata decodes the point and refuses one that is not on
 * P-256), without the libfido2 es256_pk -> legacy EC_KEY -> provider key
 * round trip, which built the curve group twice per verification.
 */
static int
es256_pkey(const uint8_t *pubkey, EVP_PKEY **pkeyp)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	uint8_t point[65];
	char group[] = "prime256v1";
	int r = BG_ERR_INTERNAL;

	*pkeyp = NULL;
	point[0] = 0x04;	/* uncompressed */
	memcpy(point + 1, pubkey, 64);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, pkeyp, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		*pkeyp = NULL;
		r = BG_ERR_INVALID_ARG;	/* not a point of P-256 */
		goto out;
	}
	r = BG_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
verify_es256(const uint8_t *pubkey, const uint8_t *msg, size_t msg_len,
    const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	int r = BG_ERR_INTERNAL;

	if ((r = es256_pkey(pubkey, &pkey)) != BG_OK)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = EVP_DigestVerify(md, sig, sig_len, msg, msg_len) == 1 ? BG_OK :
	    BG_ERR_TOKEN_BAD_SIGNATURE;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return r;
}

int
bg_token_verify(int alg, const uint8_t *pubkey, size_t pubkey_len,
    const char *rp_id, const uint8_t cdh[BG_TOKEN_CDH_LEN],
    const uint8_t *authdata, size_t authdata_len,
    const uint8_t *sig, size_t sig_len, bool require_uv)
{
	uint8_t rp_hash[crypto_hash_sha256_BYTES];
	uint8_t *msg = NULL;
	size_t msg_len;
	uint8_t flags;
	int r = BG_ERR_INTERNAL;

	if (pubkey == NULL || rp_id == NULL || cdh == NULL ||
	    authdata == NULL || sig == NULL ||
	    (alg != BG_TOKEN_ES256 && alg != BG_TOKEN_EDDSA) ||
	    (alg == BG_TOKEN_ES256 && pubkey_len != 64) ||
	    (alg == BG_TOKEN_EDDSA && pubkey_len != 32)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	/* rpIdHash(32) flags(1) signCount(4) [extensions] */
	if (authdata_len < 37 || authdata_len > SIZE_MAX - BG_TOKEN_CDH_LEN) {
		r = BG_ERR_PARSE;
		goto out;
	}
	crypto_hash_sha256(rp_hash, (const unsigned char *)rp_id,
	    strlen(rp_id));
	if (memcmp(authdata, rp_hash, sizeof(rp_hash)) != 0) { /* public: rpIdHash */
		r = BG_ERR_TOKEN_BAD_SIGNATURE;
		goto out;
	}
	flags = authdata[32];
	if ((flags & 0x01) == 0) {
		r = BG_ERR_TOKEN_DENIED;
		goto out;
	}
	if (require_uv && (flags & 0x04) == 0) {
		r = BG_ERR_TOKEN_NO_UV;
		goto out;
	}
	msg_len = authdata_len + BG_TOKEN_CDH_LEN;
	if ((msg = malloc(msg_len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(msg, authdata, authdata_len);
	memcpy(msg + authdata_len, cdh, BG_TOKEN_CDH_LEN);
	if (alg == BG_TOKEN_EDDSA) {
		if (sig_len != crypto_sign_BYTES) {
			r = BG_ERR_TOKEN_BAD_SIGNATURE;
			goto out;
		}
		r = crypto_sign_verify_detached(sig, msg, msg_len, pubkey) == 0 ?
		    BG_OK : BG_ERR_TOKEN_BAD_SIGNATURE;
	} else {
		if (sig_len == 0 || sig_len > 72) {	/* DER ECDSA P-256 */
			r = BG_ERR_TOKEN_BAD_SIGNATURE;
			goto out;
		}
		r = verify_es256(pubkey, msg, msg_len, sig, sig_len);
	}
out:
	free(msg);
	return r;
}
