/*
 * iwm-push: make the target match a diff.  Reads iwm-diff output (or a
 * plain scan, copied whole), sends it to an iwm-serve agent, and writes
 * a journal of the records it applied.  See iwm-push(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transfer.h"

static void
usage_to(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: %s --target URL [--credentials FILE] [--fingerprint SHA256"
	    " | --cacert FILE]\n"
	    "\t[--proxy URL] [--insecure-http] [-j N] [--rate RATE]"
	    " [--rate-file FILE]\n"
	    "\t[--delta-min SIZE] [--failed FILE] [--retries N]"
	    " [--retry-for DURATION] [--delete]"
	    " [--dry-run]\n"
	    "\t[--progress | --no-progress] [--stats] [-v] [FILE]\n"
	    "       %s --target URL [--credentials FILE] [--fingerprint SHA256"
	    " | --cacert FILE]\n"
	    "\t[--proxy URL] --action NAME\n"
	    "       %s --version\n", iwm_progname, iwm_progname, iwm_progname);
	if (status == 0)
		fputs(IWM_REMOTE_HELP
	    "  -j, --jobs N            requests in flight (default 4)\n"
	    "  --rate RATE             at most RATE bytes a second in all (K, M, G, T)\n"
	    "  --rate-file FILE        the rate read from FILE, again once a second\n"
	    "  --delta-min SIZE        smallest changed file sent as a delta (1M)\n"
	    "  --failed FILE           the records that failed, as a manifest\n"
	    "  --retries N             retries of a request the agent failed (3)\n"
	    "  --retry-for DURATION    keep retrying a lost target this long (10m)\n"
	    "  --delete                apply deletions (- records)\n"
	    "  --dry-run               contact nobody; journal what would be done\n"
	    "  --progress, --no-progress  a progress line on standard error (default:\n"
	    "                          on a terminal)\n"
	    "  --stats                 a final line of figures (files, bytes, wire)\n"
	    "  -v                      report each retry\n"
	    "  --action NAME           run the agent's target action NAME\n"
	    "  -h, --help              this help\n"
	    "  --version               print the version and exit\n", fp);
	exit(status);
}

static void
usage(void)
{
	usage_to(stderr, IWM_EXIT_USAGE);
}

/* 90, 90s, 10m, 2h: seconds, at most a week. */
static int
parse_duration(const char *s, unsigned *out)
{
	struct iwm_buf b = { 0 };
	size_t n = strlen(s);
	unsigned long mul = 1;
	long v;
	int rc;

	if (n > 1 && strchr("smh", s[n - 1]) != NULL) {
		mul = s[n - 1] == 'h' ? 3600 : s[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	iwm_buf_add(&b, s, n);
	iwm_buf_addc(&b, '\0');
	rc = iwm_parse_int(b.ptr, 0, 7 * 86400, &v);
	iwm_buf_free(&b);
	if (rc == -1 || (unsigned long)v * mul > 7 * 86400)
		return -1;
	*out = (unsigned)((unsigned long)v * mul);
	return 0;
}

int
main(int argc, char *argv[])
{
	enum { O_RATE = 256, O_DELTAMIN, O_FAILED, O_RETRIES, O_DELETE,
	    O_DRYRUN, O_PROGRESS, O_NOPROGRESS, O_STATS, O_RATEFILE, O_ACTION,
	    O_RETRYFOR };
	static const struct option longopts[] = {
		IWM_REMOTE_LONGOPTS,
		{ "jobs", required_argument, NULL, 'j' },
		{ "rate", required_argument, NULL, O_RATE },
		{ "rate-file", required_argument, NULL, O_RATEFILE },
		{ "delta-min", required_argument, NULL, O_DELTAMIN },
		{ "failed", required_argument, NULL, O_FAILED },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "retry-for", required_argument, NULL, O_RETRYFOR },
		{ "delete", no_argument, NULL, O_DELETE },
		{ "dry-run", no_argument, NULL, O_DRYRUN },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NOPROGRESS },
		{ "stats", no_argument, NULL, O_STATS },
		{ "action", required_argument, NULL, O_ACTION },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_push_opts o;
	const char *action = NULL;
	long v;
	int ch, rc, progress = -1;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	memset(&o, 0, sizeof(o));
	o.input = "-";
	o.jobs = 4;
	o.retries = 3;
	o.retry_for = 600;
	o.delta_min = 1 << 20;
	while ((ch = getopt_long(argc, argv, "j:vh", longopts, NULL)) != -1) {
		if (iwm_remote_opt(&o.remote, ch, optarg))
			continue;
		switch (ch) {
		case 'j':
			if (iwm_parse_int(optarg, 1, 64, &v) == -1) {
				iwm_warnx("-j '%s': expected 1 to 64", optarg);
				usage();
			}
			o.jobs = (unsigned)v;
			break;
		case O_RATE:
			if (iwm_parse_size(optarg, &o.rate) == -1) {
				iwm_warnx("--rate: %s", iwm_err());
				usage();
			}
			break;
		case O_RATEFILE:
			o.rate_file = optarg;
			break;
		case O_DELTAMIN:
			if (iwm_parse_size(optarg, &o.delta_min) == -1) {
				iwm_warnx("--delta-min: %s", iwm_err());
				usage();
			}
			break;
		case O_FAILED:
			o.failed = optarg;
			break;
		case O_RETRIES:
			if (iwm_parse_int(optarg, 0, 100, &v) == -1) {
				iwm_warnx("--retries '%s': expected 0 to 100",
				    optarg);
				usage();
			}
			o.retries = (unsigned)v;
			break;
		case O_RETRYFOR:
			if (parse_duration(optarg, &o.retry_for) == -1) {
				iwm_warnx("--retry-for '%s': expected seconds, "
				    "or a number with s, m or h (90, 10m, 2h)",
				    optarg);
				usage();
			}
			break;
		case O_DELETE:
			o.do_delete = 1;
			break;
		case O_DRYRUN:
			o.dry_run = 1;
			break;
		case O_PROGRESS:
			progress = 1;
			break;
		case O_NOPROGRESS:
			progress = 0;
			break;
		case O_STATS:
			o.stats = 1;
			break;
		case O_ACTION:
			action = optarg;
			break;
		case 'v':
			o.remote.verbose = 1;
			break;
		case 'h':
			usage_to(stdout, 0);
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	if (optind < argc)
		o.input = argv[optind];
	if (o.remote.url == NULL && !o.dry_run)
		usage();
	if (o.remote.fingerprint != NULL && o.remote.cacert != NULL) {
		iwm_warnx("--fingerprint and --cacert exclude each other");
		usage();
	}
	if (action != NULL) {
		/* Run one of the agent's actions (lib/transfer/actcli.c). */
		if (optind < argc || o.remote.url == NULL)
			usage();
		rc = iwm_remote_action(&o.remote, action, stdout);
		if (iwm_close_stdout() == -1 && rc == 0) {
			iwm_warn_err();
			rc = IWM_EXIT_IO;
		}
		return rc;
	}
	o.progress = progress == -1 ? isatty(STDERR_FILENO) : progress;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	rc = iwm_push_run(&o);
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		if (rc == 0 || rc == 1)
			rc = IWM_EXIT_IO;
	}
	return rc;
}
