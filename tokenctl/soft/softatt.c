/*
 * A software token with an attestation identity: an attestation key and
 * its certificate chain, read from files once at creation and kept in
 * the token's state (version 2, state.c), so that makeCredential answers
 * with packed attestation and an x5c, as a vendor's token does.  Tests
 * use it with certificates from scripts/test-ca to exercise vetted
 * tokens end to end; a vault tells such a token from hardware only by
 * whom the custodians trust.
 *
 * The key file must be a regular file not accessible to group or others
 * (as a token state is); keys never come from argv or the environment.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "soft/serve.h"
#include "soft/soft_int.h"

#define CERT_FILE_MAX	65536

static void
say(char *why, size_t whylen, const char *fmt, const char *a)
{
	if (why != NULL && whylen > 0)
		(void)snprintf(why, whylen, fmt, a);
}

/* Every PEM certificate of path, appended to att (at least one). */
static int
read_certs(const char *path, struct bg_soft_att *att, char *why,
    size_t whylen)
{
	BIO *b = NULL;
	X509 *x = NULL;
	uint8_t *der = NULL;
	size_t before = att->n;
	int len, r = BG_ERR_PARSE;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		say(why, whylen, "%s cannot be read", path);
		r = BG_ERR_IO;
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (att->n == BG_SOFT_ATT_CERTS) {
			say(why, whylen, "%s: an x5c holds at most 4 "
			    "certificates", path);
			r = BG_ERR_RANGE;
			goto out;
		}
		if ((len = i2d_X509(x, &der)) <= 0) {
			say(why, whylen, "%s: a certificate does not encode",
			    path);
			goto out;
		}
		if ((size_t)len > sizeof(att->x5c) -
		    (att->n == 0 ? 0 : att->off[att->n - 1] +
		    att->len[att->n - 1])) {
			say(why, whylen, "%s: the certificates exceed the "
			    "1536 bytes a makeCredential reply has room for",
			    path);
			r = BG_ERR_RANGE;
			goto out;
		}
		att->off[att->n] = att->n == 0 ? 0 :
		    att->off[att->n - 1] + att->len[att->n - 1];
		att->len[att->n] = (size_t)len;
		memcpy(att->x5c + att->off[att->n], der, (size_t)len);
		att->n++;
		OPENSSL_free(der);
		der = NULL;
		X509_free(x);
		x = NULL;
	}
	if (att->n == before) {
		say(why, whylen, "%s holds no PEM certificate", path);
		goto out;
	}
	r = BG_OK;
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	return r;
}

/* The P-256 private scalar of the PEM key in path, into d. */
static int
read_key(const char *path, const struct bg_soft_att *att, uint8_t d[32],
    char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	unsigned mode = 0;
	BIO *b = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL;
	X509 *leaf = NULL;
	const unsigned char *p = att->x5c;
	char grp[32];
	int r;

	if ((r = bg_soft_state_load(path, &buf, &len, &mode)) != BG_OK) {
		if (r == BG_ERR_DENIED && (mode & 077) != 0)
			say(why, whylen, "%s is accessible to group or others; "
			    "an attestation key file must not be (chmod 600)",
			    path);
		else if (r == BG_ERR_DENIED)
			say(why, whylen, "%s is not a regular file", path);
		else
			say(why, whylen, "%s cannot be read (missing, empty or "
			    "too large)", path);
		goto out;
	}
	r = BG_ERR_PARSE;
	if (len > INT32_MAX || (b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		say(why, whylen, "%s is not a PEM private key", path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, grp,
	    sizeof(grp), NULL) != 1 || strcmp(grp, "prime256v1") != 0) {
		say(why, whylen, "%s is not a P-256 key (packed attestation "
		    "here is ES256)", path);
		goto out;
	}
	if ((leaf = d2i_X509(NULL, &p, (long)att->len[0])) == NULL ||
	    X509_check_private_key(leaf, pk) != 1) {
		say(why, whylen, "%s is not the key of the attestation "
		    "certificate", path);
		goto out;
	}
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1 ||
	    BN_bn2binpad(bn, d, 32) != 32) {
		say(why, whylen, "%s: the private scalar cannot be read", path);
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = BG_OK;
out:
	BN_clear_free(bn);
	X509_free(leaf);
	EVP_PKEY_free(pk);
	BIO_free(b);
	if (buf != NULL)
		sodium_free(buf);
	return r;
}

int
bg_soft_state_create_att(void (*rnd)(void *, uint8_t *, size_t), void *ctx,
    const uint8_t aaguid[BG_SOFT_AAGUID_LEN], const char *cert_path,
    const char *key_path, const char *chain_path, uint8_t **blobp,
    size_t *lenp, char *why, size_t whylen)
{
	struct bg_soft_secrets *sec = NULL;
	struct bg_soft_pstate ps;
	struct bg_soft_att *att = NULL;
	uint8_t *v1 = NULL, *blob = NULL;
	size_t v1len = 0, len;
	int r = BG_ERR_INTERNAL;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (blobp != NULL)
		*blobp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (rnd == NULL || aaguid == NULL || cert_path == NULL ||
	    key_path == NULL || blobp == NULL || lenp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((att = calloc(1, sizeof(*att))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = read_certs(cert_path, att, why, whylen)) != BG_OK)
		goto out;
	if (att->n != 1) {
		say(why, whylen, "%s holds more than the attestation "
		    "certificate; give the rest with --attestation-chain",
		    cert_path);
		r = BG_ERR_PARSE;
		goto out;
	}
	if (chain_path != NULL &&
	    (r = read_certs(chain_path, att, why, whylen)) != BG_OK)
		goto out;
	memcpy(att->aaguid, aaguid, BG_SOFT_AAGUID_LEN);
	att->on = true;
	if ((r = bg_soft_state_create(rnd, ctx, &v1, &v1len)) != BG_OK)
		goto out;
	if ((sec = sodium_malloc(sizeof(*sec))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	sodium_memzero(sec, sizeof(*sec));
	if ((r = bg_soft_state_read(v1, v1len, sec, &ps)) != BG_OK ||
	    (r = read_key(key_path, att, sec->att_key, why, whylen)) != BG_OK)
		goto out;
	len = bg_soft_state_len(att);
	if ((blob = sodium_malloc(len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_soft_state_write_att(sec, &ps, att, blob);
	*blobp = blob;
	blob = NULL;
	*lenp = len;
	r = BG_OK;
out:
	if (sec != NULL)
		sodium_free(sec);	/* sodium_free wipes */
	if (v1 != NULL)
		sodium_free(v1);
	if (blob != NULL)
		sodium_free(blob);
	free(att);
	return r;
}
