/*
 * iwm-dbexport: convert the source server's databases to SQLite files
 * (the seed's "Databases Export"), or one database given by hand.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "db.h"
#include "icewarp.h"
#include "settings.h"
#include "domainrows.h"

static void
usage_to(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: iwm-dbexport [-q] [--tool PATH] [-o DIR] [--only NAME,...] "
	    "[--since STATE]\n"
	    "                    [--path-map FROM=TO]...\n"
	    "       iwm-dbexport [-q] --conn STRING | --conn-file FILE "
	    "--out FILE [--name NAME]\n"
	    "                    [--platform windows|unix] [--since STATE]\n"
	    "       iwm-dbexport --settings [-q] [--tool PATH] [-o DIR]\n"
	    "       iwm-dbexport --domain DOMAIN [-q] [--tool PATH] [-o DIR]\n"
	    "options:\n"
	    "  --tool PATH        the IceWarp tool (default from icewarp.conf)\n"
	    "  -o, --out-dir DIR  where the carriers (or the settings bundle) go\n"
	    "  --only NAME,...    only these databases\n"
	    "  --since STATE      webmail cache rows changed since STATE\n"
	    "  --path-map FROM=TO the source's Windows path FROM is the local\n"
	    "                     directory TO (repeatable; as in iwm-scan)\n"
	    "  --conn STRING      one database by its connection string\n"
	    "  --conn-file FILE   the same, read from FILE (keeps the password\n"
	    "                     off the command line)\n"
	    "  --out FILE         the carrier of --conn\n"
	    "  --name NAME        the database name recorded in it\n"
	    "  --platform P       the source's platform, windows or unix\n"
	    "  --settings         the settings bundle instead of databases\n"
	    "  --domain DOMAIN    that domain's rows only (DIR/rows.db)\n"
	    "  -q, --quiet        no report, no progress\n"
	    "  -h, --help         this help\n"
	    "  --version          print the version and exit\n");
	exit(status);
}

/*
 * The server's <TempPath>/iw_migration/LEAF, where the exports go by
 * default; NULL (said) when the temp path is not usable on this host.
 */
static char *
temp_migration(struct iwm_tool *tool, const char *leaf)
{
	int local;
	char *p = iwm_tool_migration_path(tool, leaf, &local);

	if (p == NULL)
		iwm_warnx("%s%s", iwm_err(), local ? ": give -o DIR" : "");
	return p;
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
export_one(const struct iwm_dbspec *spec, const char *name, const char *out,
    const char *platform, const char *since, int quiet)
{
	struct iwm_dbexport_opts o;

	memset(&o, 0, sizeof(o));
	o.name = name;
	o.platform = platform;
	o.since = since;
	o.progress = !quiet && isatty(STDERR_FILENO);
	if (iwm_dbexport(spec, out, &o) == -1) {
		iwm_warn_err();
		return iwm_db_status >= 64 ? iwm_db_status : IWM_EXIT_SOFTWARE;
	}
	printf("%s\t%s\t%u tables\t%llu rows\t%s\n", name, out, o.tables,
	    (unsigned long long)o.rows, o.delta ? "delta" : "full");
	return 0;
}

/* --domain D: that domain's rows into DIR/rows.db. */
static int
domain_rows(const char *toolopt, const char *domain, const char *outdir,
    int quiet, int other)
{
	struct iwm_domrows_opts o;
	struct iwm_tool tool;
	struct iwm_buf dir = { 0 }, out = { 0 };
	int status = 0;

	if (other)
		usage();
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (outdir == NULL) {
		struct iwm_buf leaf = { 0 };
		char *p;

		iwm_buf_printf(&leaf, "domain/%s", domain);
		p = temp_migration(&tool, leaf.ptr);
		iwm_buf_free(&leaf);
		if (p == NULL) {
			iwm_tool_free(&tool);
			return IWM_EXIT_USAGE;
		}
		iwm_buf_adds(&dir, p);
		free(p);
	} else
		iwm_buf_adds(&dir, outdir);
	if (strchr(domain, '/') != NULL || iwm_mkdirs(dir.ptr, 0700) == -1) {
		if (strchr(domain, '/') != NULL)
			iwm_warnx("'%s' is not a domain name", domain);
		else
			iwm_warn_err();
		iwm_buf_free(&dir);
		iwm_tool_free(&tool);
		return strchr(domain, '/') != NULL ? IWM_EXIT_USAGE :
		    IWM_EXIT_IO;
	}
	iwm_buf_printf(&out, "%s/rows.db", dir.ptr);
	memset(&o, 0, sizeof(o));
	o.quiet = quiet;
	o.out = stdout;
	if (iwm_domrows_export(&tool, domain, out.ptr, &o) == -1) {
		iwm_warn_err();
		status = iwm_domrows_status >= 64 ? iwm_domrows_status :
		    IWM_EXIT_DATA;
	} else if (!quiet)
		printf("total\t%s\t%llu rows\n", out.ptr,
		    (unsigned long long)o.rows);
	iwm_buf_free(&dir);
	iwm_buf_free(&out);
	iwm_tool_free(&tool);
	if (iwm_close_stdout() == -1 && status == 0)
		status = IWM_EXIT_IO;
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "conn", required_argument, NULL, 'c' },
		{ "conn-file", required_argument, NULL, 'C' },
		{ "domain", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'O' },
		{ "out", required_argument, NULL, 'f' },
		{ "out-dir", required_argument, NULL, 'o' },
		{ "path-map", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "since", required_argument, NULL, 's' },
		{ "settings", no_argument, NULL, 'S' },
		{ "tool", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *toolopt = NULL, *outdir = NULL, *only = NULL, *since = NULL;
	const char *outfile = NULL, *name = NULL, *platform = NULL;
	const char *domain = NULL;
	char *conn = NULL, *dir = NULL;
	struct iwm_tool tool;
	struct iwm_dbspec spec;
	static struct iwm_pathmaps maps;	/* until exit */
	int ch, quiet = 0, status = 0, rc, settings = 0;
	size_t i;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	while ((ch = getopt_long(argc, argv, "o:q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 'C':
			if (iwm_db_conn_option(&conn, ch == 'C', optarg) == -1) {
				iwm_warn_err();
				return IWM_EXIT_USAGE;
			}
			break;
		case 'd': domain = optarg; break;
		case 'n': name = optarg; break;
		case 'O': only = optarg; break;
		case 'f': outfile = optarg; break;
		case 'o': outdir = optarg; break;
		case 'm':
			if (iwm_pathmap_add(&maps, optarg) == -1) {
				iwm_warn_err();
				usage();
			}
			iwm_db_pathmaps = &maps;
			break;
		case 'p':
			if (strcmp(optarg, "windows") != 0 &&
			    strcmp(optarg, "unix") != 0)
				usage();
			platform = optarg;
			break;
		case 'q': quiet = 1; break;
		case 's': since = optarg; break;
		case 'S': settings = 1; break;
		case 't': toolopt = optarg; break;
		case 'h': usage_to(stdout, 0); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (domain != NULL)
		return domain_rows(toolopt, domain, outdir, quiet, conn != NULL ||
		    only != NULL || since != NULL || outfile != NULL ||
		    name != NULL || platform != NULL || settings);
	if (settings) {
		struct iwm_settings_opts so;

		if (conn != NULL || only != NULL || since != NULL ||
		    outfile != NULL || name != NULL || platform != NULL)
			usage();
		if (iwm_tool_find(&tool, toolopt) == -1) {
			iwm_warn_err();
			return IWM_EXIT_UNAVAIL;
		}
		memset(&so, 0, sizeof(so));
		so.quiet = quiet;
		so.out = stdout;
		if (iwm_settings_backup(&tool, outdir, &so) == -1) {
			iwm_warn_err();
			status = iwm_settings_status;
		}
		iwm_tool_free(&tool);
		if (iwm_close_stdout() == -1 && status == 0)
			status = IWM_EXIT_IO;
		return status;
	}
	if (only != NULL) {
		const char *p = only;

		while (*p != '\0') {
			const char *e = strchr(p, ',');
			char *one = iwm_strndup(p, e != NULL ?
			    (size_t)(e - p) : strlen(p));

			if (iwm_dbinfo_find(one) == NULL) {
				iwm_warnx("--only: unknown database '%s'", one);
				free(one);
				usage();
			}
			free(one);
			p = e != NULL ? e + 1 : p + strlen(p);
		}
	}

	if (conn != NULL) {
		if (outfile == NULL || outdir != NULL || only != NULL)
			usage();
		rc = iwm_dbspec_parse(&spec, conn, NULL, NULL, NULL,
		    name != NULL ? name : "database");
		explicit_bzero(conn, strlen(conn));
		free(conn);
		if (rc == -1) {
			iwm_warn_err();
			return iwm_db_status >= 64 ? iwm_db_status :
			    IWM_EXIT_DATA;
		}
		status = export_one(&spec, name != NULL ? name : "database",
		    outfile, platform != NULL ? platform : "unix", since, quiet);
		iwm_dbspec_free(&spec);
		if (iwm_close_stdout() == -1 && status == 0)
			status = IWM_EXIT_IO;
		return status;
	}
	if (outfile != NULL || name != NULL)
		usage();

	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (platform == NULL)
		platform = iwm_db_server_platform(&tool);
	if (outdir == NULL) {
		if ((dir = temp_migration(&tool, "db")) == NULL) {
			iwm_tool_free(&tool);
			return IWM_EXIT_USAGE;
		}
	} else
		dir = iwm_strdup(outdir);
	if (iwm_mkdirs(dir, 0700) == -1) {
		iwm_warn_err();
		free(dir);
		iwm_tool_free(&tool);
		return IWM_EXIT_IO;
	}
	for (i = 0; i < iwm_ndbinfos; i++) {
		const struct iwm_dbinfo *info = &iwm_dbinfos[i];
		struct iwm_buf out = { 0 };

		if (!iwm_db_selected(only, info->name))
			continue;
		rc = iwm_db_server_spec(&tool, info, &spec);
		if (rc == -1) {
			iwm_warn_err();
			status = worse(status, iwm_db_status >= 64 ?
			    iwm_db_status : IWM_EXIT_DATA);
			continue;
		}
		if (rc == 0) {
			printf("%s\t-\tnot in a database here: skipped\n",
			    info->name);
			continue;
		}
		iwm_buf_printf(&out, "%s/%s.db", dir, info->name);
		/* Only the webmail cache is copied in increments. */
		status = worse(status, export_one(&spec, info->name, out.ptr,
		    platform, strcmp(info->name, "webcache") == 0 ? since :
		    NULL, quiet));
		iwm_dbspec_free(&spec);
		iwm_buf_free(&out);
	}
	free(dir);
	iwm_tool_free(&tool);
	if (iwm_close_stdout() == -1 && status == 0)
		status = IWM_EXIT_IO;
	return status;
}
