/* http.c: answers, addresses and credentials for the agent's handlers. */
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"

enum MHD_Result
iwm_http_send(struct MHD_Connection *c, unsigned status, struct iwm_buf *b,
    const char *ctype)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = b->len;

	resp = MHD_create_response_from_buffer(len, iwm_buf_steal(b),
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Basic realm=\"iwm\", charset=\"UTF-8\"");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
iwm_http_reply(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	struct iwm_buf b = { 0 };
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	iwm_buf_printf(&b, "%u %s\n", status, tmp);
	return iwm_http_send(c, status, &b, "text/plain; charset=utf-8");
}

void
iwm_http_log(const char *fmt, ...)
{
	struct iwm_buf b = { 0 };
	char tmp[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	iwm_buf_printf(&b, "%s: %s\n", iwm_progname, tmp);
	/* One write: lines from several threads do not mix. */
	(void)!write(STDERR_FILENO, b.ptr, b.len);
	iwm_buf_free(&b);
}

void
iwm_http_peer(struct MHD_Connection *c, char *host, size_t len)
{
	const union MHD_ConnectionInfo *ci;

	snprintf(host, len, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL)
		getnameinfo(ci->client_addr, ci->client_addr->sa_family ==
		    AF_INET6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in), host, (socklen_t)len, NULL, 0,
		    NI_NUMERICHOST);
}

int
iwm_http_basic(struct MHD_Connection *c, char **user, char **pass)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char dec[768];
	char *colon;
	size_t n;
	int len, rc = -1;

	*user = *pass = NULL;
	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return -1;
	h += 6;
	while (*h == ' ')
		h++;
	n = strlen(h);
	if (n < 4 || n % 4 != 0 || n / 4 * 3 >= sizeof(dec) ||
	    (len = EVP_DecodeBlock(dec, (const unsigned char *)h,
	    (int)n)) < 0)
		return -1;
	if (h[n - 1] == '=')
		len--;
	if (h[n - 2] == '=')
		len--;
	dec[len] = '\0';
	/* A NUL inside, or no colon: malformed. */
	if (strlen((char *)dec) == (size_t)len &&
	    (colon = strchr((char *)dec, ':')) != NULL) {
		*colon = '\0';
		*user = iwm_strdup((char *)dec);
		*pass = iwm_strdup(colon + 1);
		rc = 0;
	}
	OPENSSL_cleanse(dec, sizeof(dec));
	return rc;
}
