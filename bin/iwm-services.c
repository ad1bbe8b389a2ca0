/*
 * iwm-services: switch an IceWarp server's services off (recording
 * what ran) and back on, show them, restart its modules.  The modules
 * keep running throughout; only the service switches change.
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
	    "usage: %s [--tool PATH] [--state FILE] [-n] stop "
	    "[--keep-control]\n"
	    "       %s [--tool PATH] [--state FILE] [-n] start "
	    "[--from STATE]\n"
	    "       %s [--tool PATH] status\n"
	    "       %s [--tool PATH] [--wait SECONDS] [-n] restart\n",
	    iwm_progname, iwm_progname, iwm_progname, iwm_progname);
	if (status == 0)
		fprintf(fp,
		    "  --tool PATH       the server's tool (tool.sh)\n"
		    "  --state FILE      the recorded switches (default "
		    "<TempPath>/iw_migration/services.state)\n"
		    "  -n, --dry-run     print what would change, change "
		    "nothing\n"
		    "  --keep-control    stop: leave control on, web off "
		    "(a target)\n"
		    "  --from STATE      start: the switches recorded there "
		    "(default --state)\n"
		    "  --wait SECONDS    restart: how long to wait for the "
		    "tool to answer (180)\n"
		    "  -h, --help        this text\n"
		    "  --version         print the version and exit\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "keep-control", no_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "tool", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_svc_opts o;
	struct iwm_tool tool;
	const char *toolopt = NULL, *cmd;
	char *state = NULL;
	int ch, rc, waitset = 0;
	long v;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	memset(&o, 0, sizeof(o));
	o.wait = 180;
	o.out = stdout;
	while ((ch = getopt_long(argc, argv, "hn", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.dry_run = 1; break;
		case 'f': o.from = optarg; break;
		case 'k': o.keep_control = 1; break;
		case 's': o.state = optarg; break;
		case 't': toolopt = optarg; break;
		case 'w':
			if (iwm_parse_int(optarg, 1, 86400, &v) == -1) {
				iwm_warnx("--wait '%s': seconds, 1 to 86400",
				    optarg);
				usage(IWM_EXIT_USAGE);
			}
			o.wait = v;
			waitset = 1;
			break;
		case 'h': usage(0); break;
		default: usage(IWM_EXIT_USAGE);
		}
	}
	if (optind + 1 != argc)
		usage(IWM_EXIT_USAGE);
	cmd = argv[optind];
	if (strcmp(cmd, "stop") != 0 && strcmp(cmd, "start") != 0 &&
	    strcmp(cmd, "status") != 0 && strcmp(cmd, "restart") != 0) {
		iwm_warnx("unknown command '%s'", cmd);
		usage(IWM_EXIT_USAGE);
	}
	if ((o.keep_control && strcmp(cmd, "stop") != 0) ||
	    (o.from != NULL && strcmp(cmd, "start") != 0) ||
	    (waitset && strcmp(cmd, "restart") != 0) ||
	    (o.state != NULL && strcmp(cmd, "stop") != 0 &&
	    strcmp(cmd, "start") != 0) ||
	    (o.dry_run && strcmp(cmd, "status") == 0)) {
		iwm_warnx("that option does not go with '%s'", cmd);
		usage(IWM_EXIT_USAGE);
	}
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	o.tool = &tool;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((strcmp(cmd, "stop") == 0 || (strcmp(cmd, "start") == 0 &&
	    o.from == NULL)) && o.state == NULL) {
		if ((state = iwm_services_default_state(&tool)) == NULL) {
			iwm_warn_err();
			iwm_tool_free(&tool);
			return iwm_ctl_status;
		}
		o.state = state;
	}
	if (strcmp(cmd, "stop") == 0)
		rc = iwm_services_stop(&o);
	else if (strcmp(cmd, "start") == 0)
		rc = iwm_services_start(&o);
	else if (strcmp(cmd, "status") == 0)
		rc = iwm_services_status(&o);
	else
		rc = iwm_services_restart(&o);
	if (rc == -1) {
		iwm_warn_err();
		rc = iwm_ctl_status != 0 ? iwm_ctl_status : IWM_EXIT_SOFTWARE;
	}
	free(state);
	iwm_tool_free(&tool);
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		if (rc == 0)
			rc = IWM_EXIT_IO;
	}
	return rc;
}
