/*
 * fuzz.h: shared by the libFuzzer harnesses (make fuzz).  Each harness
 * defines LLVMFuzzerTestOneInput and feeds one parser of libiwm.
 */
#ifndef IWM_FUZZ_H
#define IWM_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as a NUL-terminated copy (embedded NULs kept). */
static inline char *
fuzz_str(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

#endif
