/*
 * iwm-restore: the target side of the second phase.  Subcommands:
 *   db         import exported databases (the seed's "Target Server
 *              Databases Import"), or verify them.
 *   settings   restore the settings bundle, keeping the target's
 *              preserved values (the seed's "Target Server Restore").
 *   preserved  re-apply those preserved values alone.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db.h"
#include "domainmove.h"
#include "domainrows.h"
#include "icewarp.h"
#include "settings.h"

static void
usage_to(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: iwm-restore db [-q] [--verify] [--tool PATH] "
	    "[--only NAME,...]\n"
	    "                   [--platform windows|unix] DIR\n"
	    "       iwm-restore db [-q] [--verify] --conn STRING | "
	    "--conn-file FILE\n"
	    "                   [--platform windows|unix] FILE\n"
	    "       iwm-restore db --merge [-q] [-n|--dry-run] [--tool PATH] "
	    "DIR|FILE\n"
	    "       iwm-restore settings [-q] [--tool PATH] [--dircreds FILE]\n"
	    "                   [--ignore-multiple-sync] [-n|--dry-run] "
	    "[--verify] DIR\n"
	    "       iwm-restore preserved [-q] [--tool PATH] [-n|--dry-run]\n"
	    "       iwm-restore domain [--tool PATH] [-n|--dry-run] "
	    "prepare|rows|finish DIR\n"
	    "options:\n"
	    "  --tool PATH        the target's IceWarp tool\n"
	    "  --verify           compare instead of restoring; exit 1 on a "
	    "difference\n"
	    "  --only NAME,...    db: only these databases\n"
	    "  --platform P       db: the target's platform, windows or unix\n"
	    "  --merge            db: merge one domain's rows (iwm-dbexport\n"
	    "                     --domain) into the target's databases\n"
	    "  --conn STRING      db: one database by its connection string\n"
	    "  --conn-file FILE   db: the same, read from FILE\n"
	    "  --dircreds FILE    settings: the target's directory service\n"
	    "                     credentials, KEY=VALUE lines, mode 0600\n"
	    "  --ignore-multiple-sync  settings: restore although several\n"
	    "                     domains synchronize with a directory service\n"
	    "  -n, --dry-run      settings, preserved, db --merge, domain: say what\n"
	    "                     would change\n"
	    "  -q, --quiet        less output\n"
	    "  -h, --help         this help\n"
	    "  --version          print the version and exit\n");
	exit(status);
}

static void
usage(void)
{
	usage_to(stderr, IWM_EXIT_USAGE);
}

static int
worse(int a, int b)
{
	return b > a ? b : a;
}

static int
one(const char *file, const struct iwm_dbspec *spec, const char *platform,
    int verify, int quiet)
{
	struct iwm_dbimport_opts o;
	char *desc;

	memset(&o, 0, sizeof(o));
	o.platform = platform;
	o.progress = !quiet && isatty(STDERR_FILENO);
	o.report = stdout;
	if ((verify ? iwm_dbverify(file, spec, &o) :
	    iwm_dbimport(file, spec, &o)) == -1) {
		iwm_warn_err();
		return iwm_db_status >= 64 ? iwm_db_status : IWM_EXIT_SOFTWARE;
	}
	if (verify)
		return o.bad > 0 ? IWM_EXIT_DIFF : 0;
	desc = iwm_dbspec_describe(spec);
	if (!quiet)
		printf("%s\t%s\t%u tables\t%llu rows\n", file, desc, o.tables,
		    (unsigned long long)o.rows);
	free(desc);
	return 0;
}

static int
sel_db(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && d->d_name[0] != '.' &&
	    strcmp(d->d_name + n - 3, ".db") == 0;
}

/* db --merge: one domain's rows into the target's databases. */
static int
cmd_merge(const char *toolopt, const char *arg, int dry, int quiet)
{
	struct iwm_domrows_opts o;
	struct iwm_tool tool;
	struct iwm_buf path = { 0 };
	struct stat sb;
	int status = 0;

	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode))
		iwm_buf_printf(&path, "%s/rows.db", arg);
	else
		iwm_buf_adds(&path, arg);
	memset(&o, 0, sizeof(o));
	o.quiet = quiet;
	o.dryrun = dry;
	o.out = stdout;
	if (iwm_domrows_merge(&tool, path.ptr, &o) == -1) {
		iwm_warn_err();
		status = iwm_domrows_status >= 64 ? iwm_domrows_status :
		    IWM_EXIT_DATA;
	}
	iwm_buf_free(&path);
	iwm_tool_free(&tool);
	return status;
}

static int
cmd_db(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "conn", required_argument, NULL, 'c' },
		{ "conn-file", required_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "merge", no_argument, NULL, 'm' },
		{ "only", required_argument, NULL, 'O' },
		{ "platform", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tool", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	const char *toolopt = NULL, *only = NULL, *platform = NULL;
	char *conn = NULL;
	struct iwm_tool tool;
	struct iwm_dbspec spec;
	struct dirent **ents = NULL;
	int ch, quiet = 0, verify = 0, status = 0, n, i, rc, merge = 0;
	int dry = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "nq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 'C':
			if (iwm_db_conn_option(&conn, ch == 'C', optarg) == -1) {
				iwm_warn_err();
				return IWM_EXIT_USAGE;
			}
			break;
		case 'm': merge = 1; break;
		case 'n': dry = 1; break;
		case 'O': only = optarg; break;
		case 'p':
			if (strcmp(optarg, "windows") != 0 &&
			    strcmp(optarg, "unix") != 0)
				usage();
			platform = optarg;
			break;
		case 'q': quiet = 1; break;
		case 't': toolopt = optarg; break;
		case 'v': verify = 1; break;
		case 'h': usage_to(stdout, 0); break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (merge || dry) {
		if (!merge || conn != NULL || only != NULL || verify ||
		    platform != NULL)
			usage();
		return cmd_merge(toolopt, argv[optind], dry, quiet);
	}
	if (conn != NULL) {
		if (only != NULL || toolopt != NULL)
			usage();
		rc = iwm_dbspec_parse(&spec, conn, NULL, NULL, NULL, "target");
		explicit_bzero(conn, strlen(conn));
		free(conn);
		if (rc == -1) {
			iwm_warn_err();
			return iwm_db_status >= 64 ? iwm_db_status :
			    IWM_EXIT_DATA;
		}
		status = one(argv[optind], &spec, platform != NULL ? platform :
		    "unix", verify, quiet);
		iwm_dbspec_free(&spec);
		return status;
	}

	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (platform == NULL)
		platform = iwm_db_server_platform(&tool);
	if ((n = scandir(argv[optind], &ents, sel_db, alphasort)) == -1) {
		iwm_warnx("%s: %s", argv[optind], strerror(errno));
		iwm_tool_free(&tool);
		return IWM_EXIT_UNAVAIL;
	}
	for (i = 0; i < n; i++) {
		struct iwm_buf path = { 0 };
		const struct iwm_dbinfo *info;
		char *name;

		iwm_buf_printf(&path, "%s/%s", argv[optind], ents[i]->d_name);
		name = iwm_db_carrier_meta(path.ptr, "name");
		if (name == NULL) {
			iwm_warnx("%s: not an iwm database export: skipped",
			    path.ptr);
			status = worse(status, IWM_EXIT_DIFF);
		} else if (!iwm_db_selected(only, name)) {
			;
		} else if ((info = iwm_dbinfo_find(name)) == NULL) {
			iwm_warnx("%s: unknown database '%s': skipped "
			    "(use --conn)", path.ptr, name);
			status = worse(status, IWM_EXIT_DIFF);
		} else if ((rc = iwm_db_server_spec(&tool, info, &spec)) ==
		    -1) {
			iwm_warn_err();
			status = worse(status, iwm_db_status >= 64 ?
			    iwm_db_status : IWM_EXIT_DATA);
		} else if (rc == 0) {
			iwm_warnx("%s: the target keeps no %s database: "
			    "skipped", path.ptr, name);
			status = worse(status, IWM_EXIT_DIFF);
		} else {
			status = worse(status, one(path.ptr, &spec, platform,
			    verify, quiet));
			iwm_dbspec_free(&spec);
		}
		free(name);
		iwm_buf_free(&path);
		free(ents[i]);
	}
	free(ents);
	iwm_tool_free(&tool);
	return status;
}

/* settings DIR, or preserved. */
static int
cmd_settings(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "dircreds", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "ignore-multiple-sync", no_argument, NULL, 'I' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tool", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_settings_opts o;
	struct iwm_tool tool;
	const char *toolopt = NULL;
	int ch, rc, preserved = strcmp(argv[0], "preserved") == 0;

	memset(&o, 0, sizeof(o));
	o.out = stdout;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "nq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o.dircreds = optarg; break;
		case 'n': o.dry_run = 1; break;
		case 'I': o.ignore_multi_sync = 1; break;
		case 'q': o.quiet = 1; break;
		case 't': toolopt = optarg; break;
		case 'v': o.verify = 1; break;
		case 'h': usage_to(stdout, 0); break;
		default: usage();
		}
	}
	if (argc - optind != (preserved ? 0 : 1) || (o.verify && o.dry_run))
		usage();
	if (preserved && (o.dircreds != NULL || o.verify ||
	    o.ignore_multi_sync))
		usage();
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	rc = preserved ? iwm_settings_preserved(&tool, &o) :
	    iwm_settings_restore(&tool, argv[optind], &o);
	iwm_tool_free(&tool);
	if (rc == -1) {
		iwm_warn_err();
		return iwm_settings_status;
	}
	if (o.verify && o.mismatches > 0) {
		iwm_warnx("%u settings differ", o.mismatches);
		return IWM_EXIT_DIFF;
	}
	if (o.warnings > 0) {
		iwm_warnx("%u items could not be restored (see above)",
		    o.warnings);
		return IWM_EXIT_DIFF;
	}
	return 0;
}

/* domain prepare|rows|finish DIR. */
static int
cmd_domain(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tool", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *toolopt = NULL;
	struct iwm_domain_opts o;
	struct iwm_tool tool;
	int ch, status = 0;

	memset(&o, 0, sizeof(o));
	o.out = stdout;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "nq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.dry_run = 1; break;
		case 'q': o.out = NULL; break;
		case 't': toolopt = optarg; break;
		case 'h': usage_to(stdout, 0); break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (iwm_domain_target(&tool, argv[optind], argv[optind + 1], &o) ==
	    -1) {
		iwm_warn_err();
		status = iwm_domain_status >= 64 ? iwm_domain_status :
		    IWM_EXIT_DATA;
	}
	iwm_tool_free(&tool);
	return status;
}

int
main(int argc, char *argv[])
{
	int status;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		usage_to(stdout, 0);
	if (strcmp(argv[1], "db") == 0)
		status = cmd_db(argc - 1, argv + 1);
	else if (strcmp(argv[1], "domain") == 0)
		status = cmd_domain(argc - 1, argv + 1);
	else if (strcmp(argv[1], "settings") == 0 ||
	    strcmp(argv[1], "preserved") == 0)
		status = cmd_settings(argc - 1, argv + 1);
	else {
		iwm_warnx("unknown part '%s'", argv[1]);
		usage();
	}
	if (iwm_close_stdout() == -1 && status == 0)
		status = IWM_EXIT_IO;
	return status;
}
