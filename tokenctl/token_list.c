/*
 * Discovery: libfido2's manifest knows only HID devices; "unix:" devices
 * are added from the paths and the directory the caller names.  Each
 * device is opened briefly for getInfo's AAGUID, which is what marks a
 * breakglass software token.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "token_int.h"

#define MAX_HID		64
#define PROBE_MS	3000	/* a device that does not answer INIT in 3 s */

struct list {
	bg_token_desc_t	*v;
	size_t		 n, cap;
};

static void
desc_clear(bg_token_desc_t *d)
{
	free(d->path);
	free(d->manufacturer);
	free(d->product);
	memset(d, 0, sizeof(*d));
}

void
bg_token_list_free(bg_token_desc_t **listp, size_t n)
{
	size_t i;

	if (listp == NULL || *listp == NULL)
		return;
	for (i = 0; i < n; i++)
		desc_clear(&(*listp)[i]);
	free(*listp);
	*listp = NULL;
}

static char *
dupstr(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Append a device; identify it by getInfo when it answers. */
static int
list_add(struct list *l, const char *path, const char *manufacturer,
    const char *product, uint16_t vid, uint16_t pid)
{
	bg_token_desc_t *d, *nv;
	bg_token_t *tok = NULL;
	size_t ncap;
	int r = BG_ERR_INTERNAL;

	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 8 : 2 * l->cap;
		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		l->v = nv;
		l->cap = ncap;
	}
	d = &l->v[l->n];
	memset(d, 0, sizeof(*d));
	if ((d->path = strdup(path)) == NULL ||
	    (d->manufacturer = dupstr(manufacturer)) == NULL ||
	    (d->product = dupstr(product)) == NULL) {
		desc_clear(d);
		r = BG_ERR_NOMEM;
		goto out;
	}
	d->vendor_id = vid;
	d->product_id = pid;
	l->n++;
	if (bg_token_open_timeout(path, PROBE_MS, &tok) == BG_OK &&
	    bg_token_aaguid(tok, d->aaguid) == BG_OK) {
		d->aaguid_known = true;
		d->is_soft = memcmp(d->aaguid, bg_token_soft_aaguid, /* public: AAGUID */
		    BG_TOKEN_AAGUID_LEN) == 0;
	}
	r = BG_OK;
out:
	bg_token_close(&tok);
	return r;
}

static int
add_unix(struct list *l, const char *sockpath)
{
	char *path = NULL;
	size_t len;
	int r = BG_ERR_INTERNAL;

	len = strlen("unix:") + strlen(sockpath) + 1;
	if ((path = malloc(len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((size_t)snprintf(path, len, "unix:%s", sockpath) >= len) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	r = list_add(l, path, "", "", 0, 0);
out:
	free(path);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_dir(struct list *l, const char *dir)
{
	DIR *dp = NULL;
	struct dirent *de;
	struct stat st;
	char **names = NULL, **nn, *p = NULL;
	size_t n = 0, cap = 0, i, len;
	int r = BG_ERR_INTERNAL;

	if ((dp = opendir(dir)) == NULL) {
		r = BG_ERR_NOT_FOUND;
		goto out;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		len = strlen(dir) + 1 + strlen(de->d_name) + 1;
		if ((p = malloc(len)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		if ((size_t)snprintf(p, len, "%s/%s", dir, de->d_name) >= len) {
			r = BG_ERR_INTERNAL;
			goto out;
		}
		if (stat(p, &st) != 0 || !S_ISSOCK(st.st_mode)) {
			free(p);
			p = NULL;
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 8 : 2 * cap;
			if ((nn = reallocarray(names, cap, sizeof(*nn))) == NULL) {
				r = BG_ERR_NOMEM;
				goto out;
			}
			names = nn;
		}
		names[n++] = p;
		p = NULL;
	}
	/* A stable order: the same directory lists the same way each time. */
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++)
		if ((r = add_unix(l, names[i])) != BG_OK)
			goto out;
	r = BG_OK;
out:
	free(p);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dp != NULL)
		closedir(dp);
	return r;
}

int
bg_token_list(const char *const *unix_paths, size_t n_unix_paths,
    const char *unix_dir, bg_token_desc_t **listp, size_t *np)
{
	struct list l = { NULL, 0, 0 };
	fido_dev_info_t *devs = NULL;
	const fido_dev_info_t *di;
	size_t i, ndevs = 0;
	int r = BG_ERR_INTERNAL;

	if (listp != NULL)
		*listp = NULL;
	if (np != NULL)
		*np = 0;
	if (listp == NULL || np == NULL ||
	    (n_unix_paths > 0 && unix_paths == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((devs = fido_dev_info_new(MAX_HID)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (fido_dev_info_manifest(devs, MAX_HID, &ndevs) != FIDO_OK)
		ndevs = 0;	/* no HID support here: list the rest */
	for (i = 0; i < ndevs; i++) {
		di = fido_dev_info_ptr(devs, i);
		if ((r = list_add(&l, fido_dev_info_path(di),
		    fido_dev_info_manufacturer_string(di),
		    fido_dev_info_product_string(di),
		    (uint16_t)fido_dev_info_vendor(di),
		    (uint16_t)fido_dev_info_product(di))) != BG_OK)
			goto out;
	}
	for (i = 0; i < n_unix_paths; i++)
		if ((r = add_unix(&l, unix_paths[i])) != BG_OK)
			goto out;
	if (unix_dir != NULL && (r = add_dir(&l, unix_dir)) != BG_OK)
		goto out;
	*listp = l.v;
	*np = l.n;
	l.v = NULL;
	l.n = 0;
	r = BG_OK;
out:
	fido_dev_info_free(&devs, MAX_HID);
	bg_token_list_free(&l.v, l.n);
	return r;
}
