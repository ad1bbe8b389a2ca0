/*
 * proto.c: encodings shared by the agent and its clients
 * (iwm-protocol(7)): paths in URLs, mtimes in headers, temp names.
 */
#include <string.h>

#include "transfer.h"

/*
 * Everything but unreserved characters and '/' is %-encoded (paths are
 * valid manifest paths, so '.' never forms a "." or ".." part).
 */
void
iwm_url_escape(struct iwm_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	iwm_buf_grow(b, len * 3);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '~' || c == '/' || c == '.')
			iwm_buf_addc(b, c);
		else {
			iwm_buf_addc(b, '%');
			iwm_buf_addc(b, hex[c >> 4]);
			iwm_buf_addc(b, hex[c & 15]);
		}
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
iwm_url_unescape(char *s, size_t *lenp)
{
	size_t i, o = 0, len = *lenp;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0')
			return -1;
		else
			s[o++] = s[i];
	}
	s[o] = '\0';
	*lenp = o;
	return 0;
}

int
iwm_parse_mtime(const char *s, int64_t *sec, long *nsec)
{
	const char *dot = strchr(s, '.');
	char secs[32];
	long v, ns = 0;
	size_t n = dot ? (size_t)(dot - s) : strlen(s), i;

	if (n == 0 || n >= sizeof(secs))
		return -1;
	memcpy(secs, s, n);
	secs[n] = '\0';
	if (iwm_parse_int(secs, -(1L << 40), 1L << 40, &v) == -1)
		return -1;
	if (dot != NULL) {
		const char *d = dot + 1;

		if (strlen(d) != 9)
			return -1;
		for (i = 0; i < 9; i++) {
			if (d[i] < '0' || d[i] > '9')
				return -1;
			ns = ns * 10 + (d[i] - '0');
		}
	}
	*sec = v;
	*nsec = ns;
	return 0;
}

void
iwm_fmt_mtime(struct iwm_buf *b, int64_t sec, long nsec)
{
	iwm_buf_printf(b, "%lld.%09ld", (long long)sec, nsec);
}

int
iwm_is_tmpname(const char *name)
{
	size_t n = sizeof(IWM_RACY_FILE) - 1;

	return strncmp(name, IWM_TMP_PREFIX, IWM_TMP_PREFIX_LEN) == 0 ||
	    (strncmp(name, IWM_RACY_FILE, n) == 0 &&
	    (name[n] == '\0' || name[n] == '/'));
}

void
iwm_fp_hex(struct iwm_buf *b, const unsigned char *md)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < IWM_FP_LEN; i++) {
		iwm_buf_addc(b, hex[md[i] >> 4]);
		iwm_buf_addc(b, hex[md[i] & 15]);
	}
}
