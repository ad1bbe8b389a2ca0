/* data.c: find the data files shipped with iwm (share/iwm). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iwm.h"

#ifndef IWM_DATADIR
#define IWM_DATADIR "/usr/local/share/iwm"
#endif

static char *
try_dir(const char *dir, const char *name)
{
	struct iwm_buf b = { 0 };

	iwm_buf_printf(&b, "%s/%s", dir, name);
	if (access(b.ptr, R_OK) == 0)
		return iwm_buf_steal(&b);
	iwm_buf_free(&b);
	return NULL;
}

/*
 * Look in $IWM_DATADIR, then next to the running program: in the source
 * tree (bin/../lib/data) or in an install tree (bin/../share/iwm, wherever
 * PREFIX and DESTDIR put it), then the compiled-in install directory; an
 * administrator edits the installed copy for their IceWarp version.
 */
char *
iwm_datafile(const char *name)
{
	const char *env = getenv("IWM_DATADIR");
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		if ((p = try_dir(env, name)) == NULL)
			iwm_seterr("data file '%s' not found in IWM_DATADIR "
			    "(%s)", name, env);
		return p;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			struct iwm_buf b = { 0 };

			*slash = '\0';
			iwm_buf_printf(&b, "%s/../lib/data", exe);
			p = try_dir(b.ptr, name);
			if (p == NULL) {
				iwm_buf_reset(&b);
				iwm_buf_printf(&b, "%s/../share/iwm", exe);
				p = try_dir(b.ptr, name);
			}
			iwm_buf_free(&b);
			if (p != NULL)
				return p;
		}
	}
	if ((p = try_dir(IWM_DATADIR, name)) != NULL)
		return p;
	iwm_seterr("data file '%s' not found (set IWM_DATADIR)", name);
	return NULL;
}
