/* num.c: checked number parsing and fast formatting. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iwm.h"

int
iwm_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p == '\0') {
		iwm_seterr("empty number");
		return -1;
	}
	for (; *p != '\0'; p++) {
		unsigned d;

		if (*p < '0' || *p > '9') {
			iwm_seterr("'%s' is not a number", s);
			return -1;
		}
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			iwm_seterr("'%s' is too large", s);
			return -1;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
iwm_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0') {
		iwm_seterr("'%s' is not a number", s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		iwm_seterr("'%s' is out of range %ld to %ld", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
iwm_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	uint64_t mult = 1, v;

	if (n == 0 || n >= sizeof(num)) {
		iwm_seterr("'%s' is not a size", s);
		return -1;
	}
	memcpy(num, s, n + 1);
	/*
	 * One syntax: a number of bytes with an optional K, M, G or T
	 * (powers of 1024).  Lower-case letters are refused: "20m" could
	 * mean minutes or milli, and a rate must not be read as a guess.
	 */
	switch (num[n - 1]) {
	case 'K': mult = 1024ULL; break;
	case 'M': mult = 1024ULL * 1024; break;
	case 'G': mult = 1024ULL * 1024 * 1024; break;
	case 'T': mult = 1024ULL * 1024 * 1024 * 1024; break;
	case 'k': case 'm': case 'g': case 't':
		iwm_seterr("'%s' is not a size: suffixes are upper case "
		    "(K, M, G, T: powers of 1024), e.g. %.*s%c", s,
		    (int)(n - 1), s, num[n - 1] - 'a' + 'A');
		return -1;
	default: break;
	}
	if (mult != 1)
		num[n - 1] = '\0';
	if (iwm_parse_u64(num, &v) == -1) {
		iwm_seterr("'%s' is not a size (bytes, or a number with K, M, "
		    "G or T)", s);
		return -1;
	}
	if (v > UINT64_MAX / mult) {
		iwm_seterr("'%s' is too large", s);
		return -1;
	}
	*out = v * mult;
	return 0;
}

int
iwm_parse_octal(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 8) {
		iwm_seterr("'%s' is not an octal mode", s);
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7') {
			iwm_seterr("'%s' is not an octal mode", s);
			return -1;
		}
		v = v * 8 + (unsigned)(*p - '0');
	}
	if (v > max) {
		iwm_seterr("mode '%s' is out of range", s);
		return -1;
	}
	*out = v;
	return 0;
}

char *
iwm_fmt_u64(char *end, uint64_t v)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

/* A byte count for progress lines: "12.3 MB" (powers of 1000). */
void
iwm_fmt_bytes(char *buf, size_t len, double b)
{
	const char *u = "B";

	if (b >= 1e9)
		b /= 1e9, u = "GB";
	else if (b >= 1e6)
		b /= 1e6, u = "MB";
	else if (b >= 1e3)
		b /= 1e3, u = "kB";
	snprintf(buf, len, "%.1f %s", b, u);
}
