/*
 * memdump: search the memory of a running process for a byte string.
 *
 *   printf %s "$NEEDLE" | memdump PID
 *
 * Reads the needle from standard input (so that it is on no command line
 * and in no file), then every readable mapping of PID from /proc/PID/maps
 * through /proc/PID/mem (needs ptrace access: root, or the same user for a
 * dumpable process; breakglass programs are not dumpable, so root).
 * Regions with nothing resident (smaps Rss 0) hold no data to find and
 * are skipped, as are regions above 1 GiB (the reserved shadow of an ASan
 * build: reading it would take hours); both are counted in the summary.
 * Prints one line per hit ("hit ADDR MAPPING") and a summary with the
 * number of bytes searched.  Exit status: 0 no hit, 1 hit(s), 2 error.
 * A test helper (tests/e2e/canary.sh builds it), not part of breakglass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK	(1024 * 1024)

int
main(int argc, char **argv)
{
	char path[64], line[1024], name[512], perms[8];
	unsigned long long lo, hi, a, bytes = 0;
	unsigned char *buf = NULL, needle[4096];
	size_t nlen = 0, keep, got;
	ssize_t k;
	FILE *maps = NULL;
	int fd = -1, hits = 0, ex = 2, regions = 0, skipped = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: memdump PID < needle\n");
		goto out;
	}
	while (nlen < sizeof(needle) &&
	    (k = read(0, needle + nlen, sizeof(needle) - nlen)) > 0)
		nlen += (size_t)k;
	if (nlen == 0) {
		fprintf(stderr, "memdump: empty needle\n");
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%s/smaps", argv[1]);
	if ((maps = fopen(path, "r")) == NULL) {
		perror(path);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((fd = open(path, O_RDONLY)) < 0) {
		perror(path);
		goto out;
	}
	if ((buf = malloc(CHUNK + sizeof(needle))) == NULL)
		goto out;
	lo = hi = 0;
	perms[0] = '-';
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long long rss;

		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3 &&
		    strchr(line, ':') != NULL && line[0] != 'R') {
			/* a region header: remember it until its Rss line */
			name[0] = '\0';
			(void)sscanf(line, "%*s %*s %*s %*s %*s %511[^\n]", name);
			continue;
		}
		if (sscanf(line, "Rss: %llu kB", &rss) != 1)
			continue;
		if (perms[0] != 'r' || strcmp(name, "[vvar]") == 0 ||
		    strcmp(name, "[vsyscall]") == 0)
			continue;
		if (rss == 0 || hi - lo > (1ULL << 30)) {
			skipped++;
			continue;
		}
		regions++;
		keep = 0;
		for (a = lo; a < hi; ) {
			size_t want = hi - a < CHUNK ? (size_t)(hi - a) : CHUNK;
			size_t i;

			k = pread(fd, buf + keep, want, (off_t)a);
			if (k <= 0)
				break;	/* unreadable (guard pages): skip rest */
			got = keep + (size_t)k;
			bytes += (unsigned long long)k;
			for (i = 0; i + nlen <= got; i++)
				if (buf[i] == needle[0] &&
				    memcmp(buf + i, needle, nlen) == 0) { /* public: test needle */
					printf("hit 0x%llx %s\n",
					    a - keep + i, name);
					hits++;
				}
			/* carry the tail over, for a needle across chunks */
			keep = got < nlen - 1 ? got : nlen - 1;
			memmove(buf, buf + got - keep, keep);
			a += (unsigned long long)k;
		}
	}
	printf("searched %llu bytes in %d regions (%d empty or huge skipped): "
	    "%d hit(s)\n", bytes, regions, skipped, hits);
	ex = hits > 0 ? 1 : 0;
out:
	if (maps != NULL)
		fclose(maps);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ex;
}
