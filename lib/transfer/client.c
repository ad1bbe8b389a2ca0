/*
 * client.c: connecting to an agent with libcurl.
 *
 * Certificate pinning: with --fingerprint, libcurl's own verification
 * is off and an OpenSSL verify callback (installed through
 * CURLOPT_SSL_CTX_FUNCTION) compares the SHA-256 of the server's DER
 * certificate with the pin during the handshake, so credentials are
 * never sent to a server that does not hold the pinned certificate.
 * With --cacert the usual CA and host name checks apply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "transfer.h"

/* One target per process: the pin is global to the verify callback. */
static unsigned char pin[IWM_FP_LEN];
static volatile int pin_mismatch;

static int
verify_cb(int preverify, X509_STORE_CTX *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	X509 *cert;

	if (X509_STORE_CTX_get_error_depth(x) != 0)
		return 1;	/* only the leaf is pinned */
	cert = X509_STORE_CTX_get_current_cert(x);
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &len) != 1 ||
	    len != IWM_FP_LEN || CRYPTO_memcmp(md, pin, IWM_FP_LEN) != 0) {
		pin_mismatch = 1;
		return 0;
	}
	X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

static CURLcode
sslctx_cb(CURL *c, void *ctx, void *arg)
{
	SSL_CTX_set_verify((SSL_CTX *)ctx, SSL_VERIFY_PEER, verify_cb);
	return CURLE_OK;
}

int
iwm_client_pin_mismatch(void)
{
	return pin_mismatch;
}

int
iwm_remote_opt(struct iwm_remote_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 0x1001:
		o->url = arg;
		return 1;
	case 0x1002:
		o->credentials = arg;
		return 1;
	case 0x1003:
		o->fingerprint = arg;
		return 1;
	case 0x1004:
		o->cacert = arg;
		return 1;
	case 0x1005:
		o->proxy = arg;
		return 1;
	case 0x1006:
		o->insecure_http = 1;
		return 1;
	}
	return 0;
}

int
iwm_client_init(struct iwm_client *cl, const struct iwm_remote_opts *o)
{
	const char *cf = o->credentials;
	struct iwm_lines l;
	char *line;
	size_t len;
	int r;

	memset(cl, 0, sizeof(*cl));
	cl->o = o;
	if (o->url == NULL) {
		iwm_seterr("no --target URL");
		return -1;
	}
	if (strncmp(o->url, "https://", 8) != 0 &&
	    !(o->insecure_http && strncmp(o->url, "http://", 7) == 0)) {
		iwm_seterr("--target '%s': expected https://HOST:PORT "
		    "(plain http:// needs --insecure-http)", o->url);
		return -1;
	}
	if (o->fingerprint != NULL) {
		if (iwm_fp_parse(o->fingerprint, pin) == -1)
			return -1;
		cl->pinned = 1;
	}
	if (cf == NULL)
		cf = getenv("IWM_CREDENTIALS");
	if (cf == NULL || *cf == '\0') {
		iwm_seterr("no credentials: use --credentials FILE or "
		    "IWM_CREDENTIALS=FILE (a user:password line)");
		return -1;
	}
	if (iwm_secret_file_check(cf) == -1 || iwm_lines_open(&l, cf) == -1)
		return -1;
	r = iwm_lines_next(&l, &line, &len);
	if (r == 1 && len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (r != 1 || strchr(line, ':') == NULL || line[0] == ':') {
		iwm_lines_close(&l);
		iwm_seterr("%s: expected a user:password line", cf);
		return -1;
	}
	cl->userpwd = iwm_strdup(line);
	OPENSSL_cleanse(line, len);
	iwm_lines_close(&l);
	len = strlen(o->url);
	while (len > 0 && o->url[len - 1] == '/')
		len--;
	cl->base = iwm_strndup(o->url, len);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		iwm_seterr("libcurl initialisation failed");
		return -1;
	}
	return 0;
}

void
iwm_client_free(struct iwm_client *cl)
{
	if (cl->userpwd != NULL) {
		OPENSSL_cleanse(cl->userpwd, strlen(cl->userpwd));
		free(cl->userpwd);
	}
	free(cl->base);
	memset(cl, 0, sizeof(*cl));
}

void *
iwm_client_easy(struct iwm_client *cl, const char *path)
{
	struct iwm_buf url = { 0 };
	char *colon = strchr(cl->userpwd, ':');
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	iwm_buf_printf(&url, "%s%s", cl->base, path);
	curl_easy_setopt(e, CURLOPT_URL, url.ptr);
	iwm_buf_free(&url);
	*colon = '\0';
	curl_easy_setopt(e, CURLOPT_USERNAME, cl->userpwd);
	curl_easy_setopt(e, CURLOPT_PASSWORD, colon + 1);
	*colon = ':';
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    cl->o->insecure_http ? "http,https" : "https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 byte/s for 5 minutes) fails. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 300L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	if (cl->o->proxy != NULL)
		curl_easy_setopt(e, CURLOPT_PROXY, cl->o->proxy);
	if (cl->pinned) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, sslctx_cb);
	} else if (cl->o->cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, cl->o->cacert);
	/* No CURLOPT_VERBOSE: it would print the Authorization header. */
	return e;
}

int
iwm_client_fail(int cc, long http, const char *body, const char *what)
{
	if (cc != CURLE_OK) {
		if (pin_mismatch) {
			iwm_warnx("%s: the agent's certificate does not match "
			    "--fingerprint: refusing to talk to it", what);
			return IWM_EXIT_AUTH;
		}
		iwm_warnx("%s: %s", what, curl_easy_strerror((CURLcode)cc));
		if (cc == CURLE_PEER_FAILED_VERIFICATION ||
		    cc == CURLE_SSL_CACERT_BADFILE)
			return IWM_EXIT_AUTH;
		return IWM_EXIT_UNAVAIL;
	}
	if (http == 401) {
		iwm_warnx("%s: the agent refused the credentials", what);
		return IWM_EXIT_AUTH;
	}
	iwm_warnx("%s: HTTP %ld%s%.*s", what, http, body && *body ? ": " : "",
	    body ? (int)strcspn(body, "\n") : 0, body ? body : "");
	return IWM_EXIT_PROTO;
}

struct listcb {
	FILE		*out;
	void		(*on_line)(const char *, size_t);
	CURL		*e;
	int		 checked, ok, werr;
	struct iwm_buf	 hold;	/* the last line(s), until the marker */
	struct iwm_buf	 err;
};

static size_t
list_write(char *p, size_t sz, size_t n, void *arg)
{
	struct listcb *lc = arg;
	size_t len = sz * n;
	char *last, *prev;

	if (!lc->checked) {
		long http = 0;

		curl_easy_getinfo(lc->e, CURLINFO_RESPONSE_CODE, &http);
		lc->ok = http == 200;
		lc->checked = 1;
	}
	if (!lc->ok) {
		if (lc->err.len < 4096)
			iwm_buf_add(&lc->err, p, len);
		return len;
	}
	iwm_buf_add(&lc->hold, p, len);
	/* Keep back the last complete line: it may be the end marker. */
	if ((last = memrchr(lc->hold.ptr, '\n', lc->hold.len)) == NULL)
		return len;
	prev = last > lc->hold.ptr ? memrchr(lc->hold.ptr, '\n',
	    (size_t)(last - lc->hold.ptr)) : NULL;
	if (prev != NULL) {
		size_t w = (size_t)(prev + 1 - lc->hold.ptr);

		if (fwrite(lc->hold.ptr, 1, w, lc->out) != w) {
			lc->werr = 1;
			return 0;
		}
		if (lc->on_line != NULL) {
			char *s = lc->hold.ptr, *e;

			while ((e = memchr(s, '\n', w - (size_t)(s -
			    lc->hold.ptr))) != NULL) {
				lc->on_line(s, (size_t)(e - s));
				s = e + 1;
			}
		}
		memmove(lc->hold.ptr, prev + 1, lc->hold.len - w);
		lc->hold.len -= w;
		lc->hold.ptr[lc->hold.len] = '\0';
	}
	return len;
}

static int
simple_get(const struct iwm_remote_opts *o, const char *path,
    struct listcb *lc, int marker)
{
	struct iwm_client cl;
	CURLcode cc;
	long http = 0;
	int rc;

	if (iwm_client_init(&cl, o) == -1) {
		iwm_warn_err();
		return IWM_EXIT_USAGE;
	}
	lc->e = iwm_client_easy(&cl, path);
	curl_easy_setopt(lc->e, CURLOPT_WRITEFUNCTION, list_write);
	curl_easy_setopt(lc->e, CURLOPT_WRITEDATA, lc);
	cc = curl_easy_perform(lc->e);
	curl_easy_getinfo(lc->e, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(lc->e);
	iwm_client_free(&cl);
	if (lc->werr) {
		iwm_warnx("standard output: %s", strerror(errno));
		return IWM_EXIT_IO;
	}
	if (cc != CURLE_OK || http != 200)
		return iwm_client_fail(cc, http, lc->err.ptr, o->url);
	if (marker) {
		if (lc->hold.len != sizeof(IWM_LIST_END) ||
		    memcmp(lc->hold.ptr, IWM_LIST_END "\n",
		    lc->hold.len) != 0) {
			iwm_warnx("%s: the listing ended early (see the "
			    "agent's log)", o->url);
			return IWM_EXIT_PROTO;
		}
	} else if (fwrite(lc->hold.ptr, 1, lc->hold.len, lc->out) !=
	    lc->hold.len) {
		iwm_warnx("standard output: %s", strerror(errno));
		return IWM_EXIT_IO;
	}
	rc = 0;
	return rc;
}

static int
remote_list(const struct iwm_remote_opts *o, const char *endpoint,
    const char *scope, FILE *out)
{
	struct listcb lc;
	struct iwm_buf path = { 0 };
	int rc;

	memset(&lc, 0, sizeof(lc));
	lc.out = out;
	lc.on_line = o->on_line;
	iwm_buf_adds(&path, endpoint);
	if (scope != NULL) {
		iwm_buf_adds(&path, "?scope=");
		iwm_url_escape(&path, scope, strlen(scope));
	}
	rc = simple_get(o, path.ptr, &lc, 1);
	iwm_buf_free(&path);
	iwm_buf_free(&lc.hold);
	iwm_buf_free(&lc.err);
	return rc;
}

int
iwm_remote_list(const struct iwm_remote_opts *o, const char *scope,
    FILE *out)
{
	return remote_list(o, "/v1/list", scope, out);
}

int
iwm_remote_hash(const struct iwm_remote_opts *o, const char *scope,
    FILE *out)
{
	return remote_list(o, "/v1/hash", scope, out);
}

int
iwm_remote_info(const struct iwm_remote_opts *o, FILE *out)
{
	struct listcb lc;
	int rc;

	memset(&lc, 0, sizeof(lc));
	lc.out = out;
	rc = simple_get(o, "/v1/info", &lc, 0);
	iwm_buf_free(&lc.hold);
	iwm_buf_free(&lc.err);
	return rc;
}

/* Domains filter the per-domain roots (mail, archive, config). */
char *
iwm_remote_scope(const char *roots, char *const *domains, size_t n)
{
	struct iwm_buf b = { 0 };
	char *copy, *p, *tok;
	size_t i;

	if (roots == NULL && n == 0)
		return NULL;
	copy = iwm_strdup(roots != NULL ? roots : "archive,mail");
	p = copy;
	while ((tok = strsep(&p, ",")) != NULL) {
		int perdom = strcmp(tok, "mail") == 0 ||
		    strcmp(tok, "archive") == 0 || strcmp(tok, "config") == 0;

		if (*tok == '\0')
			continue;
		if (perdom && n > 0)
			for (i = 0; i < n; i++)
				iwm_buf_printf(&b, "%s%s:%s/", b.len ? "," : "",
				    tok, domains[i]);
		else
			iwm_buf_printf(&b, "%s%s", b.len ? "," : "", tok);
	}
	free(copy);
	if (b.len == 0)
		iwm_buf_adds(&b, "");
	return iwm_buf_steal(&b);
}
