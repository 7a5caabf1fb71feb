/*
 * Generated secret values: uniform over the characters of the chosen
 * classes (randombytes_uniform has no modulo bias), and uniform over the
 * values that contain every chosen class (whole-value rejection).
 */
#include <string.h>

#include <sodium.h>

#include "vault_int.h"

static const struct {
	unsigned	 bit;
	const char	*chars;
} classes_tab[] = {
	{ BG_VAULT_GEN_LOWER,  "abcdefghijklmnopqrstuvwxyz" },
	{ BG_VAULT_GEN_UPPER,  "ABCDEFGHIJKLMNOPQRSTUVWXYZ" },
	{ BG_VAULT_GEN_DIGIT,  "0123456789" },
	{ BG_VAULT_GEN_SYMBOL, "!#%+-.:=?@^_~" },
};
#define N_CLASSES (sizeof(classes_tab) / sizeof(classes_tab[0]))

int
bg_vault_generate(size_t len, unsigned classes, uint8_t **valuep,
    size_t *lenp)
{
	char alphabet[128];
	uint8_t *val = NULL;
	size_t i, j, n = 0, off, tries;
	unsigned seen = 0;
	int r = BG_ERR_INTERNAL;

	if (valuep == NULL || lenp == NULL)
		return BG_ERR_INVALID_ARG;
	*valuep = NULL;
	*lenp = 0;
	if (len < BG_VAULT_GEN_MIN_LEN || len > BG_VAULT_GEN_MAX_LEN ||
	    classes == 0 || (classes & ~(unsigned)BG_VAULT_GEN_DEFAULT) != 0)
		return BG_ERR_RANGE;
	for (i = 0; i < N_CLASSES; i++) {
		size_t k = strlen(classes_tab[i].chars);

		if ((classes & classes_tab[i].bit) == 0)
			continue;
		memcpy(alphabet + n, classes_tab[i].chars, k);
		n += k;
	}
	if ((val = sodium_malloc(len + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* With len >= 8 a miss is rare; the bound only stops a bug. */
	for (tries = 0; tries < 10000; tries++) {
		seen = 0;
		for (i = 0; i < len; i++) {
			uint32_t x = randombytes_uniform((uint32_t)n);

			val[i] = (uint8_t)alphabet[x];
			/* Which class: by range of x, not by the secret
			 * character's value through a table. */
			for (j = 0, off = 0; j < N_CLASSES; j++) {
				size_t k;

				if ((classes & classes_tab[j].bit) == 0)
					continue;
				k = strlen(classes_tab[j].chars);
				if (x >= off && x < off + k)
					seen |= classes_tab[j].bit;
				off += k;
			}
		}
		if (seen == classes)
			break;
	}
	if (seen != classes) {
		r = BG_ERR_INTERNAL;
		goto out;
	}
	val[len] = '\0';
	*valuep = val;
	*lenp = len;
	val = NULL;
	r = BG_OK;
out:
	if (val != NULL)
		sodium_free(val);
	sodium_memzero(&seen, sizeof(seen));
	return r;
}
