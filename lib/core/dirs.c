/*
 * dirs.c: make a directory and its parents, as mkdir -p does; and give
 * what iwm writes into a server's folders the owner of the folder.
 *
 * A real IceWarp runs as IWS_PROCESS_USER (icewarp.conf), and must be
 * able to write its own configuration, databases and mailboxes after a
 * migration: run as root, iwm gives every file and directory it makes
 * the owner and group of the directory it is made in.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iwm.h"

int
iwm_own_as_parent(int fd, const char *path)
{
	const char *slash;
	struct stat st;
	char *dir;
	int r;

	if (geteuid() != 0)
		return 0;
	if ((slash = strrchr(path, '/')) == NULL)
		dir = iwm_strdup(".");
	else if (slash == path)
		dir = iwm_strdup("/");
	else
		dir = iwm_strndup(path, (size_t)(slash - path));
	if (stat(dir, &st) == -1) {
		iwm_seterr_errno("%s", dir);
		free(dir);
		return -1;
	}
	free(dir);
	r = fd >= 0 ? fchown(fd, st.st_uid, st.st_gid) :
	    fchownat(AT_FDCWD, path, st.st_uid, st.st_gid,
	    AT_SYMLINK_NOFOLLOW);
	if (r == -1) {
		iwm_seterr_errno("%s: chown", path);
		return -1;
	}
	return 0;
}

int
iwm_mkdirs(const char *path, mode_t mode)
{
	char *p = iwm_strdup(path), *s;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) == -1) {
				if (errno != EEXIST) {
					iwm_seterr_errno("%s", p);
					free(p);
					return -1;
				}
			} else if (iwm_own_as_parent(-1, p) == -1) {
				free(p);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return 0;
}
