/* util.c: small helpers shared by every part of the simulator. */
#include "iwsim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *
util_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_die("out of memory");
	return p;
}

void *
util_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		util_die("out of memory");
	return q;
}

char *
util_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = util_xmalloc(n);

	memcpy(p, s, n);
	return p;
}

/* Variable names, domains and emails are case-insensitive: keep them lower case. */
char *
util_lower(const char *s)
{
	char *p = util_xstrdup(s);

	for (char *q = p; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

void
util_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("iwsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
util_die(const char *fmt, ...)
{
	va_list ap;

	fputs("iwsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Checked decimal parse: the whole string, within [min, max]. */
int
util_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
util_has_ctl(const char *s)
{
	for (; *s; s++)
		if (*s == ',' || *s == '"' || *s == '\r' || *s == '\n')
			return 1;
	return 0;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = util_xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		util_die("vsnprintf failed");
	buf_add(b, "", 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		b->p = util_xrealloc(b->p, cap);
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Text content escaped for XML. */
void
buf_xml(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		default: buf_putc(b, *s); break;
		}
	}
}

const char *
buf_str(struct buf *b)
{
	buf_add(b, "", 0);
	return b->p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding: the backup blob must never contain a comma. */
void
util_b64url_enc(struct buf *out, const void *p, size_t n)
{
	const unsigned char *s = p;
	char q[4];
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		q[0] = b64tab[v >> 18 & 63];
		q[1] = b64tab[v >> 12 & 63];
		q[2] = b64tab[v >> 6 & 63];
		q[3] = b64tab[v & 63];
		buf_add(out, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		q[0] = b64tab[v >> 18 & 63];
		q[1] = b64tab[v >> 12 & 63];
		buf_add(out, q, 2);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		q[0] = b64tab[v >> 18 & 63];
		q[1] = b64tab[v >> 12 & 63];
		q[2] = b64tab[v >> 6 & 63];
		buf_add(out, q, 3);
	}
	buf_add(out, "", 0);
}

static int
b64val(int c)
{
	const char *p;

	if (c == 0)
		return -1;
	p = strchr(b64tab, c);
	return p ? (int)(p - b64tab) : -1;
}

int
util_b64url_dec(const char *s, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;

	for (; *s; s++) {
		int v = b64val((unsigned char)*s);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)(acc >> bits & 0xff));
		}
	}
	if (bits >= 6)
		return -1;
	buf_add(out, "", 0);
	return 0;
}
