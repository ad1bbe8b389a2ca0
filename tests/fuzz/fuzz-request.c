/*
 * fuzz-request: how the agent reads a request's path and headers: the
 * percent-decoding and the path and name checks of a URL's ROOT/PATH,
 * a list scope, and the X-Iwm-Size, -Mtime and -Mode values.  A path
 * the checks accept must never lead outside its root.
 */
#include "transfer.h"
#include "fuzz.h"

static void
check_path(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || p[0] == '/' || memchr(p, '\0', len) != NULL)
		abort();
	for (i = 0; i < len; i++) {
		size_t start = i, clen;

		while (i < len && p[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0 || (clen == 1 && p[start] == '.') ||
		    (clen == 2 && p[start] == '.' && p[start + 1] == '.'))
			abort();	/* accepted, yet it climbs */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n), *copy;
	struct iwm_scope *sc = NULL;
	size_t len = n, nsc = 0;
	uint64_t u;
	int64_t sec;
	long nsec;
	unsigned mode;

	copy = fuzz_str(d, n);
	len = strlen(copy);	/* a URL never holds a raw NUL */
	if (iwm_url_unescape(copy, &len) == 0 && iwm_path_valid(copy, len))
		check_path(copy, len);
	free(copy);
	if (iwm_scope_parse(s, &sc, &nsc) == 0)
		iwm_scope_free(sc, nsc);
	(void)iwm_is_tmpname(s);
	(void)iwm_parse_u64(s, &u);
	(void)iwm_parse_size(s, &u);
	if (iwm_parse_mtime(s, &sec, &nsec) == 0 &&
	    (nsec < 0 || nsec > 999999999))
		abort();
	if (iwm_parse_octal(s, 07777, &mode) == 0 && mode > 07777)
		abort();
	free(s);
	return 0;
}
