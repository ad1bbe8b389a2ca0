/* secret.c: files that hold passwords must be private to their owner. */
#include <sys/stat.h>

#include <errno.h>
#include <string.h>

#include "iwm.h"

/*
 * Refuse a secrets file that group or others may read or write, as ssh
 * refuses such a private key: a password that other local users can read
 * is a password already shared.  Root-owned or not, only the mode counts.
 */
int
iwm_secret_file_check(const char *file)
{
	struct stat st;

	if (stat(file, &st) == -1) {
		iwm_seterr("%s: %s", file, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		iwm_seterr("%s: holds secrets but is accessible by group or "
		    "others (mode %04o): run chmod 600 %s", file,
		    (unsigned)(st.st_mode & 07777), file);
		return -1;
	}
	return 0;
}
