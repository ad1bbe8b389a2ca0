/*
 * tls.c: the agent's self-signed certificate and the SHA-256
 * fingerprint (of the DER certificate) that clients pin.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "transfer.h"

void
iwm_fp_format(struct iwm_buf *b, const unsigned char *d)
{
	size_t i;

	for (i = 0; i < IWM_FP_LEN; i++)
		iwm_buf_printf(b, "%s%02X", i ? ":" : "", d[i]);
}

/* Hex with or without colons, any case, optional "sha256:" prefix. */
int
iwm_fp_parse(const char *s, unsigned char *out)
{
	size_t n = 0;
	int hi = -1;

	if (strncasecmp(s, "sha256:", 7) == 0)
		s += 7;
	for (; *s != '\0'; s++) {
		int v;

		if (*s == ':' && hi == -1)
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			goto bad;
		if (hi == -1)
			hi = v;
		else {
			if (n == IWM_FP_LEN)
				goto bad;
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (n == IWM_FP_LEN && hi == -1)
		return 0;
bad:
	iwm_seterr("fingerprint: expected 32 hex bytes (SHA-256)");
	return -1;
}

static int
x509_fp(X509 *x, struct iwm_buf *fp)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (X509_digest(x, EVP_sha256(), md, &len) != 1 || len != IWM_FP_LEN) {
		iwm_seterr("cannot hash the certificate");
		return -1;
	}
	iwm_fp_format(fp, md);
	return 0;
}

int
iwm_tls_cert_fp(const char *certfile, struct iwm_buf *fp)
{
	FILE *f;
	X509 *x;
	int rc;

	if ((f = fopen(certfile, "r")) == NULL) {
		iwm_seterr_errno("%s", certfile);
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		iwm_seterr("%s: not a PEM certificate", certfile);
		return -1;
	}
	rc = x509_fp(x, fp);
	X509_free(x);
	return rc;
}

static int
write_pem(const char *path, int mode, X509 *x, EVP_PKEY *k)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		iwm_seterr_errno("%s", path);
		return -1;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		iwm_seterr_errno("%s", path);
		close(fd);
		return -1;
	}
	ok = x != NULL ? PEM_write_X509(f, x) :
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || ok != 1) {
		iwm_seterr("%s: cannot write", path);
		return -1;
	}
	return 0;
}

/*
 * DIR/cert.pem and DIR/key.pem (0600): ECDSA P-256, ten years, CN and
 * subjectAltName from the host name.  Existing files are not replaced.
 */
int
iwm_tls_make_cert(const char *dir, struct iwm_buf *fp)
{
	struct iwm_buf cpath = { 0 }, kpath = { 0 }, san = { 0 };
	unsigned char serial[16];
	char host[256];
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	BIGNUM *bn = NULL;
	int rc = -1;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		iwm_seterr_errno("%s", dir);
		return -1;
	}
	if (gethostname(host, sizeof(host)) == -1)
		memcpy(host, "localhost", 10);
	host[sizeof(host) - 1] = '\0';
	iwm_buf_printf(&cpath, "%s/cert.pem", dir);
	iwm_buf_printf(&kpath, "%s/key.pem", dir);
	iwm_buf_printf(&san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", host);
	if ((k = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL ||
	    RAND_bytes(serial, sizeof(serial)) != 1)
		goto ssl;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) == NULL ||
	    X509_set_pubkey(x, k) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)host, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1)
		goto ssl;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    san.ptr)) == NULL || X509_add_ext(x, ext, -1) != 1 ||
	    X509_sign(x, k, EVP_sha256()) == 0)
		goto ssl;
	if (write_pem(kpath.ptr, 0600, NULL, k) == -1)
		goto done;
	if (write_pem(cpath.ptr, 0644, x, NULL) == -1) {
		unlink(kpath.ptr);
		goto done;
	}
	rc = x509_fp(x, fp);
	goto done;
ssl:
	iwm_seterr("cannot make a certificate (OpenSSL)");
done:
	X509_EXTENSION_free(ext);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(k);
	iwm_buf_free(&cpath);
	iwm_buf_free(&kpath);
	iwm_buf_free(&san);
	return rc;
}
