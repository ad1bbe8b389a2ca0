/*
 * serve_hash.c: content hashes of regular files, for GET /v1/hash on
 * the agent and iwm-scan --hash on the source, so that iwm verify
 * --content compares two hashed listings and no file crosses the
 * network to be compared.  The hash is XXH3-128 (libxxhash, as the
 * deltas' whole-file check), written in a record's NOTE as "xxh128:"
 * and 32 lower-case hex digits of its canonical (big-endian) form
 * (iwm-protocol(7), GET /v1/hash).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "transfer.h"

/*
 * Hash the open file FD to its end into NOTE (IWM_HASH_NOTE_LEN bytes
 * and a NUL).  0, or -1 with iwm_err().
 */
int
iwm_hash_fd(int fd, char note[IWM_HASH_NOTE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	const size_t pl = sizeof(IWM_HASH_PREFIX) - 1;
	XXH128_canonical_t c;
	XXH3_state_t *st;
	char *buf;
	ssize_t n;
	size_t i;
	int rc = -1;

	if ((st = XXH3_createState()) == NULL ||
	    XXH3_128bits_reset(st) != XXH_OK) {
		iwm_seterr("XXH3-128 is not available");
		XXH3_freeState(st);
		return -1;
	}
	buf = iwm_malloc(1 << 16);
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
		(void)XXH3_128bits_update(st, buf, (size_t)n);
	}
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	memcpy(note, IWM_HASH_PREFIX, pl);
	for (i = 0; i < sizeof(c.digest); i++) {
		note[pl + 2 * i] = hex[c.digest[i] >> 4];
		note[pl + 2 * i + 1] = hex[c.digest[i] & 15];
	}
	note[IWM_HASH_NOTE_SIZE - 1] = '\0';
	rc = 0;
out:
	free(buf);
	XXH3_freeState(st);
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
