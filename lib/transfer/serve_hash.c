/*
 * serve_hash.c: content hashes of regular files, for GET /v1/hash on
 * the agent and iwm-scan --hash on the source, so that iwm verify
 * --content compares two hashed listings and no file crosses the
 * network to be compared.  The hash is SHA-256 (OpenSSL), written in a
 * record's NOTE as "sha256:" and 64 lower-case hex digits
 * (iwm-protocol(7), Hashed listings).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "transfer.h"

/*
 * Hash the open file FD to its end into NOTE (IWM_HASH_NOTE_LEN bytes
 * and a NUL).  0, or -1 with iwm_err().
 */
int
iwm_hash_fd(int fd, char note[IWM_HASH_NOTE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	EVP_MD_CTX *ctx;
	char *buf;
	ssize_t n;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		iwm_seterr("out of memory (hash)");
		return -1;
	}
	buf = iwm_malloc(1 << 16);
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		iwm_seterr("SHA-256 is not available");
		goto out;
	}
	for (;;) {
		n = read(fd, buf, 1 << 16);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			iwm_seterr_errno("read");
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			iwm_seterr("SHA-256 failed");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		iwm_seterr("SHA-256 failed");
		goto out;
	}
	memcpy(note, IWM_HASH_PREFIX, sizeof(IWM_HASH_PREFIX) - 1);
	for (i = 0; i < mdlen; i++) {
		note[sizeof(IWM_HASH_PREFIX) - 1 + 2 * i] = hex[md[i] >> 4];
		note[sizeof(IWM_HASH_PREFIX) - 1 + 2 * i + 1] = hex[md[i] & 15];
	}
	note[IWM_HASH_NOTE_SIZE - 1] = '\0';
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * The NOTE of a listed regular file: its hash, or IWM_HASH_UNREADABLE
 * when it cannot be opened or read (vanished, no permission), which
 * never equals a hash and so shows as a difference.  ROOTFD >= 0: PATH
 * (PATHLEN bytes) below that root, resolved as the agent resolves
 * every path; ROOTFD -1: PATH is the source's absolute file name.
 */
const char *
iwm_hash_note(int rootfd, const char *path, size_t pathlen,
    char note[IWM_HASH_NOTE_SIZE])
{
	char *p = iwm_strndup(path, pathlen);
	int fd, rc;

	if (rootfd >= 0)
		fd = iwm_fs_open(rootfd, p, O_RDONLY);
	else
		fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(p);
	if (fd == -1)
		return IWM_HASH_UNREADABLE;
	rc = iwm_hash_fd(fd, note);
	close(fd);
	return rc == 0 ? note : IWM_HASH_UNREADABLE;
}
