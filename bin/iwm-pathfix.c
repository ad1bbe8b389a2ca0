/*
 * iwm-pathfix: the migrator guide's "Mailbox Paths Fixes".  --plan on
 * the source lists the accounts whose mailbox path the target must set
 * (archivists, externs, shared mailboxes, absolute paths), relative to
 * the target's own mail or archive path; --apply FILE on the target
 * sets them through its tool.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

static void
usage(int status)
{
	FILE *fp = status == 0 ? stdout : stderr;

	fprintf(fp,
	    "usage: %s --plan [--tool PATH] [--path-map FROM=TO]... "
	    "[-o FILE]\n"
	    "       %s --apply FILE [--tool PATH] [-n]\n",
	    iwm_progname, iwm_progname);
	if (status == 0)
		fprintf(fp,
		    "  --plan              list the fixes of this (source) "
		    "server\n"
		    "  --apply FILE        make them on this (target) server\n"
		    "  --tool PATH         the server's tool (tool.sh)\n"
		    "  --path-map FROM=TO  plan: a Windows source's prefix "
		    "mounted here\n"
		    "  -o, --output FILE   plan: write FILE atomically "
		    "(default: standard output)\n"
		    "  -n, --dry-run       apply: print what would change, "
		    "change nothing\n"
		    "  -h, --help          this text\n"
		    "  --version           print the version and exit\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "apply", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "path-map", required_argument, NULL, 'm' },
		{ "plan", no_argument, NULL, 'p' },
		{ "tool", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_pathmaps maps = { NULL, 0 };
	struct iwm_tool tool;
	const char *toolopt = NULL, *apply = NULL, *output = NULL;
	int ch, plan = 0, dry_run = 0, rc;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	while ((ch = getopt_long(argc, argv, "hno:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': apply = optarg; break;
		case 'n': dry_run = 1; break;
		case 'o': output = optarg; break;
		case 'm':
			if (iwm_pathmap_add(&maps, optarg) == -1) {
				iwm_warn_err();
				usage(IWM_EXIT_USAGE);
			}
			break;
		case 'p': plan = 1; break;
		case 't': toolopt = optarg; break;
		case 'h': usage(0); break;
		default: usage(IWM_EXIT_USAGE);
		}
	}
	if (optind != argc || plan == (apply != NULL) ||
	    (plan && dry_run) || (apply != NULL && (output != NULL ||
	    maps.n > 0)))
		usage(IWM_EXIT_USAGE);
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		iwm_pathmap_free(&maps);
		return IWM_EXIT_UNAVAIL;
	}
	if (plan) {
		struct iwm_buf b = { 0 };
		size_t nproblems;

		rc = iwm_pathfix_plan(&tool, &maps, &b, &nproblems);
		if (rc == 0 && output != NULL) {
			if (iwm_ctl_mkparent(output) == -1 ||
			    iwm_ctl_write_file(output, b.ptr, b.len, 1) == -1)
				rc = -1;
		} else if (rc == 0)
			fwrite(b.ptr, 1, b.len, stdout);
		iwm_buf_free(&b);
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);
		rc = iwm_pathfix_apply(&tool, apply, dry_run, stdout);
	}
	if (rc == -1) {
		iwm_warn_err();
		rc = iwm_ctl_status != 0 ? iwm_ctl_status : IWM_EXIT_SOFTWARE;
	}
	iwm_tool_free(&tool);
	iwm_pathmap_free(&maps);
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		if (rc == 0)
			rc = IWM_EXIT_IO;
	}
	return rc;
}
