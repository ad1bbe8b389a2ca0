/* dirs.c: make a directory and its parents, as mkdir -p does. */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>

#include "iwm.h"

int
iwm_mkdirs(const char *path, mode_t mode)
{
	char *p = iwm_strdup(path), *s;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) == -1 && errno != EEXIST) {
				iwm_seterr_errno("%s", p);
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
