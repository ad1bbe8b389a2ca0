/*
 * iwm-restore: the target side of the second phase.  Subcommands:
 *   db   import exported databases (the seed's "Target Server
 *        Databases Import"), or verify them.
 * (settings comes with its own issue.)
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db.h"
#include "icewarp.h"

static void
usage_to(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: iwm-restore db [-q] [--verify] [--tool PATH] "
	    "[--only NAME,...]\n"
	    "                   [--platform windows|unix] DIR\n"
	    "       iwm-restore db [-q] [--verify] --conn STRING | "
	    "--conn-file FILE\n"
	    "                   [--platform windows|unix] FILE\n");
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

static int
cmd_db(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "conn", required_argument, NULL, 'c' },
		{ "conn-file", required_argument, NULL, 'C' },
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
	int ch, quiet = 0, verify = 0, status = 0, n, i, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 'C':
			if (iwm_db_conn_option(&conn, ch == 'C', optarg) == -1) {
				iwm_warn_err();
				return IWM_EXIT_USAGE;
			}
			break;
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

int
main(int argc, char *argv[])
{
	int status;

	iwm_setprogname(argv[0]);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		usage_to(stdout, 0);
	if (strcmp(argv[1], "db") == 0)
		status = cmd_db(argc - 1, argv + 1);
	else {
		iwm_warnx("unknown part '%s'", argv[1]);
		usage();
	}
	if (iwm_close_stdout() == -1 && status == 0)
		status = IWM_EXIT_IO;
	return status;
}
