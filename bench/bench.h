/*
 * Shared helpers of the benchmark programs (bench/bench_*.c).  Header-only
 * (static functions) so that each program stays one translation unit.
 *
 * Every figure a program prints is one tab-separated line
 *
 *   fig <section> <label> <median> <min> <max> <unit>
 *
 * (scripts/bench turns them into the table) and free-form remarks are
 * "note <section> <text>".  A figure is the median of several rounds, with
 * the fastest and slowest round as its spread.
 */
#ifndef BG_BENCH_H
#define BG_BENCH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_ROUNDS	64

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline bool
bench_quick(void)
{
	const char *q = getenv("BENCH_QUICK");

	return q != NULL && q[0] != '\0' && strcmp(q, "0") != 0;
}

/* Rounds per figure: BENCH_ROUNDS, else 3 in quick mode, 7 otherwise. */
static inline size_t
bench_rounds(void)
{
	const char *s = getenv("BENCH_ROUNDS");
	unsigned long n;
	char *end = NULL;

	if (s != NULL && s[0] != '\0') {
		n = strtoul(s, &end, 10);
		if (end != NULL && *end == '\0' && n >= 1 &&
		    n <= BENCH_MAX_ROUNDS)
			return (size_t)n;
	}
	return bench_quick() ? 3 : 7;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

typedef struct bench_stat {
	double	med, lo, hi;
} bench_stat_t;

/* Median, min, max of n samples (sorts them in place). */
static inline bench_stat_t
bench_stat(double *s, size_t n)
{
	bench_stat_t st = { 0, 0, 0 };

	if (n == 0)
		return st;
	qsort(s, n, sizeof(*s), bench_cmp_double);
	st.lo = s[0];
	st.hi = s[n - 1];
	st.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return st;
}

static inline void
bench_fig(const char *section, const char *label, bench_stat_t st,
    const char *unit)
{
	printf("fig\t%s\t%s\t%.6g\t%.6g\t%.6g\t%s\n", section, label, st.med,
	    st.lo, st.hi, unit);
	fflush(stdout);
}

/* A figure that is a single value (derived or measured once). */
static inline void
bench_fig1(const char *section, const char *label, double x,
    const char *unit)
{
	bench_stat_t st = { x, x, x };

	bench_fig(section, label, st, unit);
}

static inline void
bench_note(const char *section, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void
bench_note(const char *section, const char *fmt, ...)
{
	va_list ap;

	printf("note\t%s\t", section);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Print to stderr and exit 1: benchmarks have no recovery path. */
static inline void
bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
    noreturn));
static inline void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

#endif /* BG_BENCH_H */
