/* alloc.c: allocation that aborts when memory is exhausted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iwm.h"

static void
oom(void)
{
	fprintf(stderr, "%s: out of memory\n", iwm_progname);
	abort();
}

void *
iwm_malloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
iwm_calloc(size_t n, size_t size)
{
	void *p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
iwm_realloc(void *p, size_t n)
{
	p = realloc(p, n != 0 ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
iwm_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom();
	return iwm_realloc(p, n * size);
}

char *
iwm_strdup(const char *s)
{
	return iwm_strndup(s, strlen(s));
}

char *
iwm_strndup(const char *s, size_t n)
{
	char *p = iwm_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
