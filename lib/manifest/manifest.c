/* manifest.c: manifest v1 reading, writing, order and scope. */
#include <errno.h>
#include <pthread.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

#define MANIFEST_MAGIC	"#iwm-manifest 1"

/*
 * Eight bytes at a time: a word's bytes that are zero get their high
 * bit set.  A borrow can also flag a byte above a true zero, never one
 * below it, so on a little-endian machine the lowest flag is exact.
 */
#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL
#define ZEROS(w)	(((w) - ONES) & ~(w) & HIGHS)
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORDS_LE	1	/* first byte lowest: ctz finds it */
#endif

/*
 * Component-wise, bytewise: '/' sorts below every other byte.  Keys in
 * manifest order share long prefixes ("dom/user/Maildir/cur/..."): the
 * common part is skipped eight bytes at a time (memcpy: any alignment),
 * the last part too, as the word that ends at the shorter key's end
 * (bytes already found equal compare again, harmlessly).
 */
static inline int
path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, n = alen < blen ? alen : blen;
	uint64_t x, y;
	int ca, cb;

	for (;;) {
		if (n - i < sizeof(x)) {
			if (i == n || n < sizeof(x))
				break;
			i = n - sizeof(x);
		}
		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		if (x != y) {
#ifdef WORDS_LE
			i += (size_t)__builtin_ctzll(x ^ y) >> 3;
			goto differ;
#else
			break;
#endif
		}
		i += sizeof(x);
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			goto differ;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
differ:
	ca = (unsigned char)a[i];
	cb = (unsigned char)b[i];
	ca = ca == '/' ? 0 : ca + 1;
	cb = cb == '/' ? 0 : cb + 1;
	return ca < cb ? -1 : 1;
}

int
iwm_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	return path_cmp(a, alen, b, blen);
}

/* strcmp of two ROOTs (short names): inline, no call. */
static inline int
root_cmp(const char *a, const char *b)
{
	while (*a == *b && *a != '\0') {
		a++;
		b++;
	}
	return (unsigned char)*a < (unsigned char)*b ? -1 :
	    (unsigned char)*a > (unsigned char)*b ? 1 : 0;
}

int
iwm_rec_cmp(const struct iwm_rec *a, const struct iwm_rec *b)
{
	int c = root_cmp(a->root, b->root);

	if (c != 0)
		return c;
	return path_cmp(a->path, a->path_len, b->path, b->path_len);
}

int
iwm_root_valid(const char *root)
{
	const char *p = root;

	if (*p < 'a' || *p > 'z')
		return 0;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			return 0;
	return p - root <= 64;
}

int
iwm_path_valid(const char *path, size_t len)
{
	size_t i, start = 0;

	if (len == 0) {
		iwm_seterr("empty path");
		return 0;
	}
	if (memchr(path, '\0', len) != NULL) {
		iwm_seterr("path contains a NUL byte");
		return 0;
	}
	if (path[0] == '/') {
		iwm_seterr("path is absolute");
		return 0;
	}
	for (i = 0; i <= len; i++) {
		size_t clen;

		if (i < len && path[i] != '/')
			continue;
		clen = i - start;
		if (clen == 0) {
			iwm_seterr("path has an empty component");
			return 0;
		}
		if ((clen == 1 && path[start] == '.') ||
		    (clen == 2 && path[start] == '.' && path[start + 1] == '.')) {
			iwm_seterr("path has a '.' or '..' component");
			return 0;
		}
		if (clen > 255) {
			iwm_seterr("path component longer than 255 bytes");
			return 0;
		}
		start = i + 1;
	}
	return 1;
}

/* Undo \\ \t \n \r in place; returns the new length or -1. */
static ssize_t
unescape(char *s)
{
	char *r = s, *w = s;

	if ((r = strchr(s, '\\')) == NULL)
		return (ssize_t)strlen(s);
	w = r;
	while (*r != '\0') {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		switch (r[1]) {
		case '\\': *w++ = '\\'; break;
		case 't': *w++ = '\t'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		default:
			iwm_seterr("bad escape '\\%c'", r[1] != '\0' ? r[1] : ' ');
			return -1;
		}
		r += 2;
	}
	*w = '\0';
	return w - s;
}

static int
parse_mtime(const char *s, int64_t *sec, long *nsec)
{
	const char *p = s;
	int neg = 0, digits = 0;
	uint64_t v = 0;
	long ns = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (v > (uint64_t)INT64_MAX / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0 || v > (uint64_t)INT64_MAX)
		goto bad;
	if (*p == '.') {
		int nd = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
			if (nd == 9)
				goto bad;
			ns = ns * 10 + (*p - '0');
		}
		if (nd == 0)
			goto bad;
		for (; nd < 9; nd++)
			ns *= 10;
	}
	if (*p != '\0')
		goto bad;
	*sec = neg ? -(int64_t)v : (int64_t)v;
	*nsec = ns;
	return 0;
bad:
	iwm_seterr("bad MTIME '%s'", s);
	return -1;
}

/*
 * The full parser: every form the format allows (escapes, long
 * numbers), and the message for every error.
 */
static int
rec_parse_full(char *line, size_t len, struct iwm_rec *rec)
{
	char *f[10];
	size_t nf = 0;
	char *p = line, *end = line + len;
	ssize_t n;

	if (len == 0) {
		iwm_seterr("empty line");
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		iwm_seterr("line contains a NUL byte");
		return -1;
	}
	for (;;) {
		char *tab = memchr(p, '\t', (size_t)(end - p));

		if (nf == 9) {
			iwm_seterr("too many fields (at most 9)");
			return -1;
		}
		f[nf++] = p;
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (nf < 8) {
		iwm_seterr("%zu fields, expected 8 or 9 "
		    "(OP TYPE SIZE MTIME MODE ROOT PATH SOURCE [NOTE])", nf);
		return -1;
	}
	if (f[0][0] == '\0' || f[0][1] != '\0' ||
	    strchr(".+~-=", f[0][0]) == NULL) {
		iwm_seterr("bad OP '%s' (one of . + ~ - =)", f[0]);
		return -1;
	}
	rec->op = f[0][0];
	if ((f[1][0] != 'f' && f[1][0] != 'd' && f[1][0] != 'l') ||
	    f[1][1] != '\0') {
		iwm_seterr("bad TYPE '%s' (f, d or l)", f[1]);
		return -1;
	}
	rec->type = f[1][0];
	if (iwm_parse_u64(f[2], &rec->size) == -1) {
		iwm_seterr("bad SIZE '%s'", f[2]);
		return -1;
	}
	if (parse_mtime(f[3], &rec->mtime_sec, &rec->mtime_nsec) == -1)
		return -1;
	if (iwm_parse_octal(f[4], 07777, &rec->mode) == -1) {
		iwm_seterr("bad MODE '%s' (octal, at most 7777)", f[4]);
		return -1;
	}
	if (!iwm_root_valid(f[5])) {
		iwm_seterr("bad ROOT '%s' (lower-case name)", f[5]);
		return -1;
	}
	rec->root = f[5];
	if ((n = unescape(f[6])) == -1)
		return -1;
	if (!iwm_path_valid(f[6], (size_t)n))
		return -1;
	rec->path = f[6];
	rec->path_len = (size_t)n;
	if (strcmp(f[7], "-") == 0)
		rec->source = NULL;
	else {
		if (unescape(f[7]) == -1)
			return -1;
		if (f[7][0] != '/') {
			iwm_seterr("SOURCE must be an absolute path or '-'");
			return -1;
		}
		rec->source = f[7];
	}
	rec->note = NULL;
	if (nf == 9) {
		if (unescape(f[8]) == -1)
			return -1;
		rec->note = f[8];
	}
	return 0;
}

/* The bytes that end a run of name bytes in rec_parse_fast (span). */
static const unsigned char namestop[256] = {
	['\t'] = 1, ['\0'] = 1, ['\\'] = 1,
};

/* Bytes of a ROOT after its first (iwm_root_valid). */
static const unsigned char rootbyte[256] = {
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
	['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['_'] = 1, ['-'] = 1,
};

/*
 * The first byte at or after P that ends a run of name bytes: a TAB, a
 * NUL or a '\\'.  END is the line's NUL: words are read only before it.
 * A word test flags the bytes below 0x10 (as ZEROS does the zeros) and
 * the '\\'s; a control byte other than TAB or NUL, rare, is passed over.
 */
static inline const unsigned char *
span(const unsigned char *p, const unsigned char *end)
{
	uint64_t w, m = 0;

	for (;;) {
		while (end - p >= 8) {
			memcpy(&w, p, sizeof(w));
			m = ((w - ONES * 0x10) & ~w & HIGHS) |
			    ZEROS(w ^ (ONES * '\\'));
			if (m != 0)
				break;
			p += 8;
		}
#ifdef WORDS_LE
		if (end - p >= 8) {
			p += __builtin_ctzll(m) >> 3;
			if (namestop[*p])
				return p;
			p++;
			continue;
		}
#endif
		/* The last bytes, or the flagged word elsewhere. */
		while (!namestop[*p])
			p++;
		return p;
	}
}

/* Does the component at S, N bytes before the path's end, read . or ..? */
static inline int
dotcomp(const unsigned char *s, size_t n)
{
	return s[0] == '.' && (n == 1 || s[1] == '/' ||
	    (s[1] == '.' && (n == 2 || s[2] == '/')));
}

/*
 * Is PATH, LEN bytes without a TAB, NUL or '\\', valid (iwm_path_valid)?
 * Only a component that starts at the beginning or after a '/' can be
 * empty, "." or "..": the '/'s are found eight bytes at a time (exact
 * flags: no borrow crosses a byte).  Paths over 255 bytes, where a
 * component may be too long, are left to the full parser.  END is the
 * line's NUL: words are read only before it.
 */
static int
path_ok(const unsigned char *s, size_t len, const unsigned char *end)
{
	size_t i, j;
#ifdef WORDS_LE
	uint64_t w, m;
#endif

	if (len == 0 || len > 255 || s[0] == '/' || s[len - 1] == '/' ||
	    dotcomp(s, len))
		return 0;
	for (i = 0; i < len; i += 8) {
#ifdef WORDS_LE
		if (end - (s + i) >= 8) {
			memcpy(&w, s + i, sizeof(w));
			w ^= ONES * '/';
			m = ~(((w & ~HIGHS) + ~HIGHS) | w) & HIGHS;
			if (len - i < 8)
				m &= (1ULL << (8 * (len - i))) - 1;
			for (; m != 0; m &= m - 1) {
				j = i + ((size_t)__builtin_ctzll(m) >> 3);
				if (s[j + 1] == '/' ||
				    dotcomp(s + j + 1, len - j - 1))
					return 0;
			}
			continue;
		}
#endif
		for (j = i; j < len && j < i + 8; j++)
			if (s[j] == '/' && (s[j + 1] == '/' ||
			    dotcomp(s + j + 1, len - j - 1)))
				return 0;
	}
	return 1;
}

#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')

#ifdef WORDS_LE
/*
 * W, eight bytes less '0' each, as a number when all were digits (the
 * first the most significant): the usual SWAR conversion, pairs, then
 * quads, then the halves.
 */
static inline uint64_t
swar_value(uint64_t w)
{
	w = w * 10 + (w >> 8);
	return ((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
	    ((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >> 32;
}

/* Eight digits at P: 1 and their value, or 0. */
static inline int
eight_digits(const unsigned char *p, uint64_t *vp)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	w -= ONES * '0';
	if (((w | (w + ONES * 6)) & (ONES * 0xf0)) != 0)
		return 0;
	*vp = swar_value(w);
	return 1;
}
#endif

/*
 * The decimal digits at *PP: their number (any, the value wraps past
 * 19) and value; *PP is left on the first other byte.  On little-endian
 * machines eight at a time (swar_value).
 */
static inline size_t
digits(const unsigned char **pp, const unsigned char *end, uint64_t *vp)
{
	static const uint64_t pow10[9] = { 1, 10, 100, 1000, 10000,
	    100000, 1000000, 10000000, 100000000 };
	const unsigned char *p = *pp;
	uint64_t v = 0;
	size_t n = 0;
#ifdef WORDS_LE
	uint64_t w, bad;
	size_t k;

	while (end - p >= 8) {
		memcpy(&w, p, sizeof(w));
		w -= ONES * '0';
		/* A byte that was no digit has a high nibble now (a borrow
		 * or carry only reaches the bytes after it). */
		bad = (w | (w + ONES * 6)) & (ONES * 0xf0);
		k = bad == 0 ? 8 : (size_t)__builtin_ctzll(bad) >> 3;
		if (k == 0)
			break;
		/* The K digits to the top bytes, leading zeros below. */
		v = v * pow10[k] + swar_value(w << 8 * (8 - k));
		n += k;
		p += k;
		if (k < 8)
			goto done;
	}
#endif
	for (; ISDIGIT(*p); p++, n++)
		v = v * 10 + (uint64_t)(*p - '0');
#ifdef WORDS_LE
done:
#endif
	*pp = p;
	*vp = v;
	return n;
}

/*
 * The common record in one pass over LINE (NUL-terminated at LEN, as
 * every caller's is): no escapes, numbers short enough not to overflow
 * (SIZE up to 19 digits, MTIME seconds up to 18, MODE up to 4 octal
 * digits).  It writes nothing until it accepts, and accepts only what
 * rec_parse_full accepts, with the same result; on 0 that parser
 * decides and words the error.  On 1, the TABs are cut to NULs and
 * *ROOTLEN is the length of ROOT.
 */
static int
rec_parse_fast(char *line, size_t len, struct iwm_rec *rec, size_t *rootlen)
{
	const unsigned char *p = (const unsigned char *)line, *end = p + len;
	const unsigned char *root, *path, *source, *note = NULL;
	uint64_t v;
#ifdef WORDS_LE
	uint64_t ns;
#endif
	size_t nd;
	unsigned mode;
	int neg;

	switch (p[0]) {
	case '.': case '+': case '~': case '-': case '=':
		break;
	default:
		return 0;
	}
	if (p[1] != '\t' || (p[2] != 'f' && p[2] != 'd' && p[2] != 'l') ||
	    p[3] != '\t')
		return 0;
	p += 4;
	nd = digits(&p, end, &v);
	if (nd == 0 || nd > 19 || *p != '\t')
		return 0;
	rec->size = v;
	p++;
#ifdef WORDS_LE
	/* MTIME as the writer puts it today, 10 digits '.' 9 digits. */
	if (end - p >= 21 && p[10] == '.' && p[20] == '\t' &&
	    ISDIGIT(p[8]) && ISDIGIT(p[9]) && ISDIGIT(p[19]) &&
	    eight_digits(p, &v) && eight_digits(p + 11, &ns)) {
		rec->mtime_sec = (int64_t)(v * 100 +
		    (uint64_t)(p[8] - '0') * 10 + (uint64_t)(p[9] - '0'));
		rec->mtime_nsec = (long)(ns * 10 + (uint64_t)(p[19] - '0'));
		p += 20;
	} else
#endif
	{
		if ((neg = *p == '-'))
			p++;
		nd = digits(&p, end, &v);
		if (nd == 0 || nd > 18)
			return 0;
		rec->mtime_sec = neg ? -(int64_t)v : (int64_t)v;
		rec->mtime_nsec = 0;
		if (*p == '.') {
			p++;
			nd = digits(&p, end, &v);
			if (nd == 0 || nd > 9)
				return 0;
			for (; nd < 9; nd++)
				v *= 10;
			rec->mtime_nsec = (long)v;
		}
	}
	if (*p != '\t')
		return 0;
	for (mode = 0, nd = 0, p++; *p >= '0' && *p <= '7'; p++, nd++)
		mode = mode * 8 + (unsigned)(*p - '0');
	if (nd == 0 || nd > 4 || *p != '\t')
		return 0;
	rec->mode = mode;
	root = ++p;
	if (*p < 'a' || *p > 'z')
		return 0;
	while (rootbyte[*++p])
		;
	if (*p != '\t' || p - root > 64)
		return 0;
	path = ++p;
	p = span(p, end);
	if (*p != '\t' || !path_ok(path, (size_t)(p - path), end))
		return 0;
	source = ++p;
	if (p[0] == '-' && (p[1] == '\t' || p[1] == '\0'))
		p++;
	else if (p[0] != '/')
		return 0;
	else
		p = span(p, end);
	if (*p == '\t')
		p = span(note = p + 1, end);
	/* A NUL before the end, an escape, or a tenth field. */
	if (p != end)
		return 0;

	rec->op = line[0];
	rec->type = line[2];
	line[1] = line[3] = '\0';
	line[(const char *)root - line - 1] = '\0';
	rec->root = (const char *)root;
	*rootlen = (size_t)(path - root - 1);
	line[(const char *)path - line - 1] = '\0';
	rec->path = (const char *)path;
	rec->path_len = (size_t)(source - path - 1);
	line[(const char *)source - line - 1] = '\0';
	rec->source = *source == '-' ? NULL : (const char *)source;
	rec->note = NULL;
	if (note != NULL) {
		line[(const char *)note - line - 1] = '\0';
		rec->note = (const char *)note;
	}
	return 1;
}

/* A record line, and the length of its ROOT. */
static int
rec_parse(char *line, size_t len, struct iwm_rec *rec, size_t *rootlen)
{
	if (rec_parse_fast(line, len, rec, rootlen))
		return 0;
	if (rec_parse_full(line, len, rec) == -1)
		return -1;
	*rootlen = strlen(rec->root);
	return 0;
}

int
iwm_rec_parse(char *line, size_t len, struct iwm_rec *rec)
{
	size_t rootlen;

	return rec_parse(line, len, rec, &rootlen);
}

int
iwm_scope_parse(const char *text, struct iwm_scope **out, size_t *nout)
{
	struct iwm_scope *v = NULL;
	size_t n = 0;
	const char *p = text;

	if (*text == '\0') {
		*out = NULL;
		*nout = 0;
		return 0;
	}
	for (;;) {
		const char *comma = strchr(p, ','), *colon;
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char *item = iwm_strndup(p, len);
		struct iwm_scope s = { 0 };

		if ((colon = strchr(item, ':')) != NULL) {
			size_t plen;

			s.root = iwm_strndup(item, (size_t)(colon - item));
			plen = strlen(colon + 1);
			while (plen > 0 && colon[plen] == '/')
				plen--;
			if (plen == 0 || !iwm_path_valid(colon + 1, plen)) {
				iwm_seterr("bad scope prefix in '%s'", item);
				goto bad;
			}
			s.prefix = iwm_malloc(plen + 2);
			memcpy(s.prefix, colon + 1, plen);
			s.prefix[plen] = '/';
			s.prefix[plen + 1] = '\0';
		} else
			s.root = iwm_strdup(item);
		if (!iwm_root_valid(s.root)) {
			iwm_seterr("bad scope root in '%s'", item);
			goto bad;
		}
		free(item);
		v = iwm_reallocarray(v, n + 1, sizeof(*v));
		v[n++] = s;
		if (comma == NULL)
			break;
		p = comma + 1;
		continue;
bad:
		free(item);
		free(s.root);
		free(s.prefix);
		iwm_scope_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

void
iwm_scope_free(struct iwm_scope *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].root);
		free(v[i].prefix);
	}
	free(v);
}

int
iwm_scope_contains(const struct iwm_scope *v, size_t n, const char *root,
    const char *path, size_t pathlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t plen;

		if (strcmp(v[i].root, root) != 0)
			continue;
		if (v[i].prefix == NULL)
			return 1;
		plen = strlen(v[i].prefix);
		if (pathlen > plen && memcmp(path, v[i].prefix, plen) == 0)
			return 1;
	}
	return 0;
}

void
iwm_scope_format(struct iwm_buf *b, const struct iwm_scope *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			iwm_buf_addc(b, ',');
		iwm_buf_adds(b, v[i].root);
		if (v[i].prefix != NULL) {
			iwm_buf_addc(b, ':');
			iwm_buf_adds(b, v[i].prefix);
		}
	}
}

static int
read_header(struct iwm_mreader *r)
{
	char *line, *scope;
	size_t len;
	int rc;

	rc = iwm_lines_next(&r->lines, &line, &len);
	if (rc == -1)
		return -1;
	if (rc == 0 || strncmp(line, MANIFEST_MAGIC,
	    sizeof(MANIFEST_MAGIC) - 1) != 0 ||
	    (line[sizeof(MANIFEST_MAGIC) - 1] != '\0' &&
	    line[sizeof(MANIFEST_MAGIC) - 1] != ' ')) {
		iwm_seterr("%s:1: not a manifest (first line must be '%s')",
		    r->lines.name, MANIFEST_MAGIC);
		return -1;
	}
	r->header = iwm_strdup(line + sizeof(MANIFEST_MAGIC) - 1);
	r->started = 1;
	if ((scope = iwm_mreader_header(r, "scope")) != NULL) {
		if (iwm_scope_parse(scope, &r->scope, &r->nscope) == -1) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s", iwm_err());
			iwm_seterr("%s:1: %s", r->lines.name, msg);
			free(scope);
			return -1;
		}
		/* "scope=" alone declares an empty scope: no deletions. */
		if (r->scope == NULL)
			r->scope = iwm_calloc(1, sizeof(*r->scope));
		free(scope);
	}
	return 0;
}

int
iwm_mreader_fdopen(struct iwm_mreader *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	iwm_lines_fdopen(&r->lines, fd, name);
	return read_header(r);
}

int
iwm_mreader_open(struct iwm_mreader *r, const char *file)
{
	memset(r, 0, sizeof(*r));
	if (iwm_lines_open(&r->lines, file) == -1) {
		r->lines.fd = -1;	/* tells "cannot open" from bad data */
		return -1;
	}
	return read_header(r);
}

char *
iwm_mreader_header(const struct iwm_mreader *r, const char *key)
{
	const char *p = r->header;
	size_t klen = strlen(key);

	while (p != NULL && *p != '\0') {
		const char *end;

		while (*p == ' ')
			p++;
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=')
			return iwm_strndup(p + klen + 1,
			    (size_t)(end - p) - klen - 1);
		p = end;
	}
	return NULL;
}

/* The current record against the anchor: 0 same key, 1 inside it, -1. */
static int
anchor_rel(const struct iwm_mreader *r)
{
	const char *ap = r->anchor.ptr + r->anchor_rootlen + 1;
	size_t al = r->anchor.len - r->anchor_rootlen - 1;

	if (root_cmp(r->rec.root, r->anchor.ptr) != 0)
		return -1;
	if (r->rec.path_len == al && memcmp(r->rec.path, ap, al) == 0)
		return 0;
	return r->rec.path_len > al && r->rec.path[al] == '/' &&
	    memcmp(r->rec.path, ap, al) == 0 ? 1 : -1;
}

/*
 * A replacement (iwm-manifest(5), Order): a record that is not a
 * deletion, of the same ROOT and PATH as the last '-' record but of
 * another TYPE, right after it and the deletions of its subtree.
 */
static int
replacement(const struct iwm_mreader *r)
{
	return r->anchor.len > 0 && r->rec.op != IWM_OP_DELETE &&
	    r->rec.type != r->anchor_type && anchor_rel(r) == 0;
}

/*
 * B = the key of the current record: ROOT NUL PATH.  Both parsers leave
 * it so in the line (PATH starts after ROOT's cut TAB, and unescaping
 * only shortens it), so it is one copy.
 */
static void
set_key(struct iwm_buf *b, const struct iwm_mreader *r)
{
	b->len = 0;
	if (b->cap <= r->keylen)
		iwm_buf_grow(b, r->keylen);
	memcpy(b->ptr, r->rec.root, r->keylen);
	b->ptr[r->keylen] = '\0';
	b->len = r->keylen;
}

/*
 * Keys as ROOT NUL PATH compare as paths do (iwm_path_cmp): ROOTs hold
 * no '/', and the NUL sorts below their bytes as strcmp has it.
 */
int
iwm_mreader_cmp(const struct iwm_mreader *a, const struct iwm_mreader *b)
{
	return path_cmp(a->rec.root, a->keylen, b->rec.root, b->keylen);
}

int
iwm_mreader_next(struct iwm_mreader *r, const struct iwm_rec **out)
{
	char *line, msg[1024];
	size_t len, rootlen;
	int rc, c;

	for (;;) {
		if ((rc = iwm_lines_next(&r->lines, &line, &len)) <= 0)
			return rc;
		if (line[0] != '#')
			break;
		if (strcmp(line, IWM_MANIFEST_END) == 0)
			r->complete = 1;
		else if (strcmp(line, IWM_MANIFEST_DELETIONS) == 0) {
			if (r->deletions || r->complete) {
				iwm_seterr("%s: a second one, or after %s",
				    IWM_MANIFEST_DELETIONS, IWM_MANIFEST_END);
				goto bad;
			}
			/* A second sorted run begins. */
			r->deletions = 1;
			r->have_prev = 0;
			iwm_buf_reset(&r->anchor);
		}
	}
	if (r->complete) {
		iwm_seterr("record after the %s line", IWM_MANIFEST_END);
		goto bad;
	}
	if (rec_parse(line, len, &r->rec, &rootlen) == -1)
		goto bad;
	r->keylen = rootlen + 1 + r->rec.path_len;
	if (r->have_prev) {
		c = path_cmp(r->rec.root, r->keylen, r->prev.ptr,
		    r->prev.len);
		if (c <= 0 && !replacement(r)) {
			iwm_seterr(c == 0 ? "duplicate record" :
			    "out of order (records must be sorted by ROOT, "
			    "then PATH component by component)");
			goto bad;
		}
	}
	if (r->rec.op == IWM_OP_DELETE) {
		if (r->anchor.len == 0 || anchor_rel(r) != 1) {
			set_key(&r->anchor, r);
			r->anchor_rootlen = rootlen;
			r->anchor_type = r->rec.type;
		}
	} else if (r->anchor.len > 0)
		iwm_buf_reset(&r->anchor);
	set_key(&r->prev, r);
	r->have_prev = 1;
	*out = &r->rec;
	return 1;
bad:
	snprintf(msg, sizeof(msg), "%s", iwm_err());
	iwm_seterr("%s:%llu: %s", r->lines.name,
	    (unsigned long long)r->lines.lineno, msg);
	return -1;
}

void
iwm_mreader_close(struct iwm_mreader *r)
{
	iwm_lines_close(&r->lines);
	free(r->header);
	iwm_scope_free(r->scope, r->nscope);
	iwm_buf_free(&r->prev);
	iwm_buf_free(&r->anchor);
	memset(r, 0, sizeof(*r));
}

/* Bytes that need an escape; everything else is copied as it is. */
static const unsigned char needs_escape[256] = {
	['\\'] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/*
 * The length of the run of S[0..len) that needs no escape.  Sixteen
 * bytes at a time with SSE2, then eight: a word with no byte below 14
 * and none equal to '\\' holds none of \\ \t \n \r; other words are
 * looked at byte by byte.  Every record's path and source go through
 * here.
 */
static size_t
plain_run(const char *s, size_t len)
{
	size_t i = 0;
	uint64_t x;

#ifdef __SSE2__
	const __m128i max13 = _mm_set1_epi8(13), bsl = _mm_set1_epi8('\\');

	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const void *)(s + i));
		/* Bytes below 14 (as unsigned), and backslashes. */
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, max13),
		    v), _mm_cmpeq_epi8(v, bsl));

		if (_mm_movemask_epi8(m) != 0)
			break;
	}
#endif
	for (; i + 8 <= len; i += 8) {
		memcpy(&x, s + i, 8);
		if ((((x - ONES * 14) & ~x) |
		    (((x ^ (ONES * '\\')) - ONES) & ~(x ^ (ONES * '\\')))) &
		    HIGHS)
			break;
	}
	for (; i < len && !needs_escape[(unsigned char)s[i]]; i++)
		;
	return i;
}

/* Copy S[0..len) escaped to P (room for 2 * len); returns the end. */
static char *
escape_to(char *p, const char *s, size_t len)
{
	size_t i;

	while ((i = plain_run(s, len)) < len) {
		memcpy(p, s, i);
		p += i;
		*p++ = '\\';
		switch (s[i]) {
		case '\\': *p++ = '\\'; break;
		case '\t': *p++ = 't'; break;
		case '\n': *p++ = 'n'; break;
		default: *p++ = 'r'; break;
		}
		s += i + 1;
		len -= i + 1;
	}
	memcpy(p, s, len);
	return p + len;
}

void
iwm_escape_buf(struct iwm_buf *b, const char *s, size_t len)
{
	size_t i;

	/* Nearly every name needs no escape: one scan, one copy. */
	if ((i = plain_run(s, len)) == len) {
		iwm_buf_add(b, s, len);
		return;
	}
	if (len > (SIZE_MAX - b->len - 1) / 2)
		abort();
	iwm_buf_grow(b, 2 * len);
	b->len = (size_t)(escape_to(b->ptr + b->len, s, len) - b->ptr);
	b->ptr[b->len] = '\0';
}

int
iwm_mwrite_header(FILE *fp, const char *words)
{
	if (fputs(MANIFEST_MAGIC, fp) == EOF)
		return -1;
	if (words != NULL && *words != '\0') {
		if (putc(' ', fp) == EOF || fputs(words, fp) == EOF)
			return -1;
	}
	return putc('\n', fp) == EOF ? -1 : 0;
}

int
iwm_mwrite_end(FILE *fp)
{
	return fputs(IWM_MANIFEST_END "\n", fp) == EOF ? -1 : 0;
}

/*
 * Numbers go out two digits a step: digit by digit, they were the
 * first item of a scan's time in user space.
 */
static const char digit_pairs[] =
    "000102030405060708091011121314151617181920212223242526272829303132"
    "333435363738394041424344454647484950515253545556575859606162636465"
    "66676869707172737475767778798081828384858687888990919293949596979899";

/* Decimal V at P; returns the end. */
static char *
put_num(char *p, uint64_t v)
{
	char tmp[24], *q = tmp + sizeof(tmp);
	size_t n;

	for (; v >= 100; v /= 100) {
		q -= 2;
		memcpy(q, digit_pairs + 2 * (v % 100), 2);
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, digit_pairs + 2 * v, 2);
	} else
		*--q = (char)('0' + v);
	n = (size_t)(tmp + sizeof(tmp) - q);
	memcpy(p, q, n);
	return p + n;
}

static _Thread_local struct iwm_buf wbuf;
static pthread_key_t wbuf_key;
static pthread_once_t wbuf_once = PTHREAD_ONCE_INIT;

/* Free this thread's record buffer (a thread that ends calls it). */
void
iwm_mwrite_free(void)
{
	iwm_buf_free(&wbuf);
}

static void
wbuf_destroy(void *p)
{
	iwm_buf_free(p);
}

/*
 * Threads of a pool that write manifests (the agent's listings) end
 * without calling iwm_mwrite_free: a key destructor frees the buffer
 * when any thread ends.
 */
static void
wbuf_key_make(void)
{
	(void)pthread_key_create(&wbuf_key, wbuf_destroy);
}

/*
 * One record's line appended to B: sized once for the worst case (every
 * byte of PATH, SOURCE and NOTE escaped), written with plain stores.
 */
void
iwm_mfmt_rec(struct iwm_buf *b, const struct iwm_rec *rec)
{
	size_t rootlen = strlen(rec->root);
	size_t srclen = rec->source != NULL ? strlen(rec->source) : 1;
	size_t notelen = rec->note != NULL ? strlen(rec->note) : 0;
	char *p;
	unsigned long ns;
	int i;

	if (rec->path_len > SIZE_MAX / 8 || srclen > SIZE_MAX / 8 ||
	    notelen > SIZE_MAX / 8 || rootlen > SIZE_MAX / 8)
		abort();
	/* OP TYPE SIZE MTIME MODE and the tabs: below 96 bytes. */
	iwm_buf_grow(b, 96 + rootlen + 2 * (rec->path_len + srclen +
	    notelen));
	p = b->ptr + b->len;
	*p++ = rec->op;
	*p++ = '\t';
	*p++ = rec->type;
	*p++ = '\t';
	p = put_num(p, rec->size);
	*p++ = '\t';
	if (rec->mtime_sec < 0) {
		*p++ = '-';
		p = put_num(p, (uint64_t)-rec->mtime_sec);
	} else
		p = put_num(p, (uint64_t)rec->mtime_sec);
	/* '.' and nine digits: the last one, then four pairs. */
	*p = '.';
	ns = (unsigned long)rec->mtime_nsec % 1000000000UL;
	p[9] = (char)('0' + ns % 10);
	for (i = 7, ns /= 10; i > 0; i -= 2, ns /= 100)
		memcpy(p + i, digit_pairs + 2 * (ns % 100), 2);
	p += 10;
	*p++ = '\t';
	for (i = 9; i >= 0; i -= 3)
		if (i == 0 || (rec->mode >> i) != 0)
			*p++ = (char)('0' + ((rec->mode >> i) & 7));
	*p++ = '\t';
	memcpy(p, rec->root, rootlen);
	p += rootlen;
	*p++ = '\t';
	p = escape_to(p, rec->path, rec->path_len);
	*p++ = '\t';
	if (rec->source != NULL)
		p = escape_to(p, rec->source, srclen);
	else
		*p++ = '-';
	if (rec->note != NULL) {
		*p++ = '\t';
		p = escape_to(p, rec->note, notelen);
	}
	*p++ = '\n';
	b->len = (size_t)(p - b->ptr);
	b->ptr[b->len] = '\0';
}

/* One record, with one fwrite from this thread's buffer. */
int
iwm_mwrite_rec(FILE *fp, const struct iwm_rec *rec)
{
	struct iwm_buf b = wbuf;
	int rc;

	if (b.ptr == NULL) {
		pthread_once(&wbuf_once, wbuf_key_make);
		(void)pthread_setspecific(wbuf_key, &wbuf);
	}
	iwm_buf_reset(&b);
	iwm_mfmt_rec(&b, rec);
	rc = fwrite(b.ptr, 1, b.len, fp) == b.len ? 0 : -1;
	wbuf = b;
	return rc;
}
