/* buf.c: growable, NUL-terminated byte buffers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iwm.h"

void
iwm_buf_grow(struct iwm_buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		abort();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->ptr = iwm_realloc(b->ptr, b->cap);
}

void
iwm_buf_add(struct iwm_buf *b, const void *p, size_t n)
{
	iwm_buf_grow(b, n);
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void
iwm_buf_adds(struct iwm_buf *b, const char *s)
{
	iwm_buf_add(b, s, strlen(s));
}

void
iwm_buf_addc(struct iwm_buf *b, int c)
{
	iwm_buf_grow(b, 1);
	b->ptr[b->len++] = (char)c;
	b->ptr[b->len] = '\0';
}

void
iwm_buf_printf(struct iwm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	iwm_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
iwm_buf_reset(struct iwm_buf *b)
{
	b->len = 0;
	if (b->ptr != NULL)
		b->ptr[0] = '\0';
}

void
iwm_buf_free(struct iwm_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

char *
iwm_buf_steal(struct iwm_buf *b)
{
	char *p;

	if (b->ptr == NULL)
		return iwm_strdup("");
	p = b->ptr;
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}
