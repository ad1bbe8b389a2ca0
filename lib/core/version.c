/* version.c: --version, the same on every program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iwm.h"

/*
 * "--version" anywhere before "--" prints "PROG VERSION" (the
 * Makefile's VERSION) and exits 0, before any other option is read,
 * so it works alike on programs with and without subcommands.
 */
void
iwm_version_opt(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return;
		if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", iwm_progname, IWM_VERSION);
			exit(iwm_close_stdout() == 0 ? 0 : IWM_EXIT_IO);
		}
	}
}
