/* error.c: per-thread last error and program-level messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iwm.h"

const char *iwm_progname = "iwm";
static _Thread_local char errbuf[2048];

void
iwm_setprogname(const char *argv0)
{
	const char *p = strrchr(argv0, '/');

	iwm_progname = p != NULL ? p + 1 : argv0;
	/* Run by the agent (actions.c): output streamed line by line. */
	if (getenv("IWM_LINE_BUFFERED") != NULL)
		setvbuf(stdout, NULL, _IOLBF, 0);
}

/*
 * The message is formatted into a buffer of its own and only then
 * copied over the last error, so an argument may be iwm_err() itself:
 * iwm_seterr("%s: %s", what, iwm_err()) prefixes the previous message.
 */
static void
seterr(const char *fmt, va_list ap, const char *suffix)
{
	char tmp[sizeof(errbuf)];
	size_t n;

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (suffix != NULL) {
		n = strlen(tmp);
		snprintf(tmp + n, sizeof(tmp) - n, ": %s", suffix);
	}
	memcpy(errbuf, tmp, sizeof(errbuf));
}

void
iwm_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	seterr(fmt, ap, NULL);
	va_end(ap);
}

void
iwm_seterr_errno(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	seterr(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

const char *
iwm_err(void)
{
	return errbuf[0] != '\0' ? errbuf : "unknown error";
}

void
iwm_warnx(const char *fmt, ...)
{
	va_list ap;
	char msg[4096];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", iwm_progname, msg);
}

void
iwm_warn_err(void)
{
	fprintf(stderr, "%s: %s\n", iwm_progname, iwm_err());
}

int
iwm_close_stdout(void)
{
	int bad = ferror(stdout);

	if (fclose(stdout) != 0 || bad) {
		iwm_seterr_errno("standard output");
		return -1;
	}
	return 0;
}
