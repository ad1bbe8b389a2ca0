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

void
iwm_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

void
iwm_seterr_errno(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	n = strlen(errbuf);
	snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", strerror(saved));
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
