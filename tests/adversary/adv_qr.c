/*
 * The carrier's QR maker: whoever carries the codes across the gap can
 * cut any bytes into well-formed parts, with the right ID for those
 * bytes (the ID is a hash, not a signature).  It uses the programs' own
 * cutter and drawer, so its images are exactly as good as genuine ones.
 *
 *   adv_qr FILE DIR
 *
 * Writes FILE's bytes as DIR/part-K-of-N.png; exit 0, or 2 on an error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "breakglass/err.h"
#include "qr.h"

int
main(int argc, char **argv)
{
	char why[BG_QR_WHY_MAX], *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f;
	int c, ex = 2;

	if (argc != 3) {
		fputs("usage: adv_qr FILE DIR\n", stderr);
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	while ((c = fgetc(f)) != EOF) {
		char *nb = realloc(buf, len + 1);

		if (nb == NULL)
			goto out;
		buf = nb;
		buf[len++] = (char)c;
	}
	if (bg_qr_write_dir((const unsigned char *)buf, len, argv[2], &n, why,
	    sizeof(why)) != BG_OK) {
		fprintf(stderr, "adv_qr: %s\n", why);
		goto out;
	}
	printf("%zu parts\n", n);
	ex = 0;
out:
	(void)fclose(f);
	free(buf);
	return ex;
}
