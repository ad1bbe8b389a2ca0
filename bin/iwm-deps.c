/*
 * iwm-deps: audit a source IceWarp server for what cannot be migrated
 * automatically (the seed's external dependencies check and additional
 * dependencies).  One finding a line; exit 0 clean, 1 warnings, 2 errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include "deps.h"
#include "manifest.h"
#include "transfer.h"

#define NROOTS	3
static const char *const rootnames[NROOTS] = { "archive", "logs", "mail" };

enum format { FMT_TSV, FMT_CSV, FMT_TABLE };

/* The categories of iwm-deps(1) CHECKS: --ignore takes only these. */
#define CATEGORY_NAMES "content-filter, rule, ftp, task, av-filter, " \
	"mailing-list, directory-sync, executable, voip, path, syslog, " \
	"backup, monitor, preserved, audit, disk-space"

static int
known_category(const char *name)
{
	static const char *const names[] = { "content-filter", "rule", "ftp",
	    "task", "av-filter", "mailing-list", "directory-sync",
	    "executable", "voip", "path", "syslog", "backup", "monitor",
	    "preserved", "audit", "disk-space" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

static void
usage(int status)
{
	FILE *fp = status == 0 ? stdout : stderr;

	fprintf(fp,
	    "usage: %s [--tool PATH] [--path-map FROM=TO]... "
	    "[--format tsv|csv|table]\n"
	    "\t[--csv FILE] [--min-severity info|warning|error] "
	    "[--ignore CATEGORY]...\n\t[--data FILE] [--target URL "
	    "[--credentials FILE] [--fingerprint SHA256 | --cacert FILE]\n"
	    "\t[--proxy URL] [--insecure-http]]\n"
	    "       %s --version\n", iwm_progname, iwm_progname);
	if (status == 0)
		fputs(
	    "  --tool PATH             the IceWarp tool (default: $IWM_TOOL, icewarp.conf)\n"
	    "  --path-map FROM=TO      read the server's paths under FROM below TO\n"
	    "  --format tsv|csv|table  the output (default: table on a terminal, tsv)\n"
	    "  --csv FILE              also write the findings as CSV to FILE\n"
	    "  --min-severity SEV      only findings of SEV or above (info)\n"
	    "  --ignore CATEGORY       drop a check's findings (repeat; see iwm-deps(1))\n"
	    "  --data FILE             the checks from FILE, not the installed deps.conf\n"
	    IWM_REMOTE_HELP
	    "  -h, --help              this help\n"
	    "  --version               print the version and exit\n", fp);
	exit(status);
}

/* TSV and table cells stay on one line. */
static void
put_cell(FILE *fp, const char *s, size_t width)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		putc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, fp);
	for (; n < width; n++)
		putc(' ', fp);
}

static void
write_csv(FILE *fp, const struct iwm_findings *f, enum iwm_sev min)
{
	struct iwm_buf b = { 0 };
	size_t i;

	fputs("Severity,Category,Object,Message\r\n", fp);
	for (i = 0; i < f->n; i++) {
		const struct iwm_finding *x = &f->v[i];

		if (x->sev > min)
			continue;
		iwm_buf_reset(&b);
		iwm_csv_quote(&b, iwm_sev_name(x->sev));
		iwm_buf_addc(&b, ',');
		iwm_csv_quote(&b, x->category);
		iwm_buf_addc(&b, ',');
		iwm_csv_quote(&b, x->object);
		iwm_buf_addc(&b, ',');
		iwm_csv_quote(&b, x->message);
		iwm_buf_adds(&b, "\r\n");
		fwrite(b.ptr, 1, b.len, fp);
	}
	iwm_buf_free(&b);
}

static void
write_tsv(FILE *fp, const struct iwm_findings *f, enum iwm_sev min)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct iwm_finding *x = &f->v[i];

		if (x->sev > min)
			continue;
		fprintf(fp, "%s\t", iwm_sev_name(x->sev));
		put_cell(fp, x->category, 0);
		putc('\t', fp);
		put_cell(fp, x->object, 0);
		putc('\t', fp);
		put_cell(fp, x->message, 0);
		putc('\n', fp);
	}
}

static void
write_table(FILE *fp, const struct iwm_findings *f, enum iwm_sev min)
{
	size_t i, wc = 8, wo = 6, count[3] = { 0 };

	for (i = 0; i < f->n; i++) {
		count[f->v[i].sev]++;
		if (f->v[i].sev > min)
			continue;
		if (strlen(f->v[i].category) > wc)
			wc = strlen(f->v[i].category);
		if (strlen(f->v[i].object) > wo)
			wo = strlen(f->v[i].object);
	}
	if (wo > 48)
		wo = 48;
	fprintf(fp, "%-8s %-*s %-*s %s\n", "SEVERITY", (int)wc, "CATEGORY",
	    (int)wo, "OBJECT", "MESSAGE");
	for (i = 0; i < f->n; i++) {
		const struct iwm_finding *x = &f->v[i];

		if (x->sev > min)
			continue;
		put_cell(fp, iwm_sev_name(x->sev), 8);
		putc(' ', fp);
		put_cell(fp, x->category, wc);
		putc(' ', fp);
		put_cell(fp, x->object, wo);
		putc(' ', fp);
		put_cell(fp, x->message, 0);
		putc('\n', fp);
	}
	fprintf(fp, "%zu error%s, %zu warning%s, %zu info\n", count[0],
	    count[0] == 1 ? "" : "s", count[1], count[1] == 1 ? "" : "s",
	    count[2]);
}

/*
 * Bytes per root that a migration copies: what iwm-scan lists (the same
 * account rules), read from its manifest through a pipe.
 */
static int
source_bytes(const char *tool, char *const *maps, size_t nmaps,
    uint64_t bytes[NROOTS])
{
	struct iwm_mreader r;
	const struct iwm_rec *rec;
	const char **argv = iwm_calloc(nmaps * 2 + 4, sizeof(*argv));
	char exe[4096], *slash;
	ssize_t n;
	size_t i, k = 0;
	int pfd[2], status, rc = 0;
	pid_t pid;

	/* The iwm-scan beside this program, else the one on PATH. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 16);
	if (n > 0 && (exe[n] = '\0', slash = strrchr(exe, '/')) != NULL) {
		memcpy(slash + 1, "iwm-scan", sizeof("iwm-scan"));
		if (access(exe, X_OK) == -1)
			memcpy(exe, "iwm-scan", sizeof("iwm-scan"));
	} else
		memcpy(exe, "iwm-scan", sizeof("iwm-scan"));
	argv[k++] = exe;
	argv[k++] = "--tool";
	argv[k++] = tool;
	for (i = 0; i < nmaps; i++) {
		argv[k++] = "--path-map";
		argv[k++] = maps[i];
	}
	if (pipe(pfd) == -1 || (pid = fork()) == -1) {
		iwm_seterr_errno("iwm-scan");
		free(argv);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execvp(exe, (char *const *)argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", iwm_progname, exe,
		    strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	free(argv);
	memset(bytes, 0, NROOTS * sizeof(*bytes));
	if (iwm_mreader_fdopen(&r, pfd[0], "iwm-scan") == -1)
		rc = -1;
	while (rc == 0 && (rc = iwm_mreader_next(&r, &rec)) == 1) {
		for (i = 0; i < NROOTS; i++)
			if (strcmp(rec->root, rootnames[i]) == 0)
				bytes[i] += rec->size;
		rc = 0;
	}
	close(pfd[0]);
	iwm_mreader_close(&r);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	/* Exit 1 (a directory it could not read) still gives a total. */
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) > 1)) {
		iwm_seterr("iwm-scan failed (exit %d)", WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128 + WTERMSIG(status));
		rc = -1;
	}
	return rc;
}

static void
human(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", d, unit[u]);
}

/*
 * The seed's disk space check: what the source copies against the free
 * space on the target, root by root.  Roots reporting the same free and
 * total bytes are taken to share a file system: their needs add up.
 */
static int
check_space(struct iwm_findings *f, const struct iwm_remote_opts *ro,
    const char *tool, char *const *maps, size_t nmaps)
{
	uint64_t need[NROOTS], fr[NROOTS] = { 0 }, tot[NROOTS] = { 0 };
	int have[NROOTS] = { 0 };
	char *info = NULL, *line, *save = NULL;
	size_t ilen = 0, i, j;
	FILE *mem;
	int rc;

	if ((mem = open_memstream(&info, &ilen)) == NULL) {
		iwm_seterr_errno("memory stream");
		return IWM_EXIT_SOFTWARE;
	}
	rc = iwm_remote_info(ro, mem);
	fclose(mem);
	if (rc != 0) {
		free(info);
		return rc;
	}
	for (line = strtok_r(info, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long long a, b;

		if (sscanf(line, "root\t%63[^\t]\t%llu\t%llu", name, &a, &b) != 3)
			continue;
		for (i = 0; i < NROOTS; i++)
			if (strcmp(name, rootnames[i]) == 0) {
				fr[i] = a;
				tot[i] = b;
				have[i] = 1;
			}
	}
	free(info);
	if (source_bytes(tool, maps, nmaps, need) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	for (i = 0; i < NROOTS; i++) {
		uint64_t sum = need[i];
		char hn[32], hf[32], obj[128];
		struct iwm_buf with = { 0 };

		if (need[i] == 0)
			continue;
		if (!have[i]) {
			iwm_finding_add(f, IWM_SEV_WARNING, "disk-space",
			    rootnames[i], "the target agent serves no %s root: "
			    "its free space is unknown", rootnames[i]);
			continue;
		}
		for (j = 0; j < NROOTS; j++)
			if (j != i && have[j] && fr[j] == fr[i] &&
			    tot[j] == tot[i] && need[j] > 0) {
				sum += need[j];
				iwm_buf_printf(&with, " with %s", rootnames[j]);
			}
		human(hn, sizeof(hn), sum);
		human(hf, sizeof(hf), fr[i]);
		snprintf(obj, sizeof(obj), "target %s", rootnames[i]);
		if (sum > fr[i])
			iwm_finding_add(f, IWM_SEV_ERROR, "disk-space", obj,
			    "the source copies %s (%llu bytes%s) but the "
			    "target has %s (%llu bytes) free: free space on "
			    "the target (data already there counts as "
			    "needed; --ignore disk-space to go on)", hn,
			    (unsigned long long)sum, with.len > 0 ? with.ptr :
			    "", hf, (unsigned long long)fr[i]);
		else
			iwm_finding_add(f, IWM_SEV_INFO, "disk-space", obj,
			    "the source copies %s (%llu bytes%s); the target "
			    "has %s free", hn, (unsigned long long)sum,
			    with.len > 0 ? with.ptr : "", hf);
		iwm_buf_free(&with);
	}
	return 0;
}

/* Write the CSV beside FILE and rename it in: never half a file. */
static int
save_csv(const char *file, const struct iwm_findings *f, enum iwm_sev min)
{
	struct iwm_buf tmp = { 0 };
	FILE *fp;
	int bad;

	iwm_buf_printf(&tmp, "%s.tmp.%ld", file, (long)getpid());
	if ((fp = fopen(tmp.ptr, "w")) == NULL) {
		iwm_seterr_errno("--csv %s", file);
		iwm_buf_free(&tmp);
		return -1;
	}
	write_csv(fp, f, min);
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad || rename(tmp.ptr, file) == -1) {
		iwm_seterr_errno("--csv %s", file);
		unlink(tmp.ptr);
		iwm_buf_free(&tmp);
		return -1;
	}
	iwm_buf_free(&tmp);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "tool", required_argument, NULL, 't' },
		{ "path-map", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "csv", required_argument, NULL, 'c' },
		{ "min-severity", required_argument, NULL, 's' },
		{ "ignore", required_argument, NULL, 'i' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		IWM_REMOTE_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_findings f = { 0 };
	struct iwm_depsconf conf;
	struct iwm_pathmaps maps = { 0 };
	struct iwm_tool tool;
	struct iwm_remote_opts remote = { 0 };
	const char *toolopt = NULL, *csvfile = NULL;
	char *data = NULL, **mapargs = NULL;
	size_t nmapargs = 0;
	enum iwm_sev min = IWM_SEV_INFO;
	int ch, fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_TSV, rc;
	size_t i, count[3] = { 0 };

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			toolopt = optarg;
			break;
		case 'm':
			if (iwm_pathmap_add(&maps, optarg) == -1) {
				iwm_warn_err();
				usage(IWM_EXIT_USAGE);
			}
			mapargs = iwm_reallocarray(mapargs, nmapargs + 1,
			    sizeof(*mapargs));
			mapargs[nmapargs++] = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "tsv") == 0)
				fmt = FMT_TSV;
			else if (strcmp(optarg, "csv") == 0)
				fmt = FMT_CSV;
			else if (strcmp(optarg, "table") == 0)
				fmt = FMT_TABLE;
			else {
				iwm_warnx("--format: tsv, csv or table");
				usage(IWM_EXIT_USAGE);
			}
			break;
		case 'c':
			csvfile = optarg;
			break;
		case 's':
			if (iwm_sev_parse(optarg, &min) == -1) {
				iwm_warn_err();
				usage(IWM_EXIT_USAGE);
			}
			break;
		case 'i':
			if (!known_category(optarg)) {
				iwm_warnx("--ignore %s: no such category; valid: "
				    "%s", optarg, CATEGORY_NAMES);
				usage(IWM_EXIT_USAGE);
			}
			f.ignore = iwm_reallocarray(f.ignore, f.nignore + 1,
			    sizeof(*f.ignore));
			f.ignore[f.nignore++] = optarg;
			break;
		case 'd':
			free(data);
			data = iwm_strdup(optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			if (iwm_remote_opt(&remote, ch, optarg))
				break;
			usage(IWM_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(IWM_EXIT_USAGE);
	memset(&conf, 0, sizeof(conf));
	memset(&tool, 0, sizeof(tool));
	if (data == NULL && (data = iwm_datafile("deps.conf")) == NULL) {
		iwm_warn_err();
		rc = IWM_EXIT_NOINPUT;
		goto out;
	}
	if (iwm_depsconf_load(&conf, data) == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_DATA;
		goto out;
	}
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_UNAVAIL;
		goto out;
	}
	if (iwm_deps_audit(&conf, &tool, &maps, &f) == -1) {
		iwm_warnx("audit failed: %s", iwm_err());
		rc = IWM_EXIT_UNAVAIL;
		goto out;
	}
	if (remote.url != NULL &&
	    (rc = check_space(&f, &remote, tool.path, mapargs, nmapargs)) != 0)
		goto out;
	iwm_findings_sort(&f);
	if (csvfile != NULL && save_csv(csvfile, &f, min) == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_IO;
		goto out;
	}
	if (fmt == FMT_CSV)
		write_csv(stdout, &f, min);
	else if (fmt == FMT_TABLE)
		write_table(stdout, &f, min);
	else
		write_tsv(stdout, &f, min);
	for (i = 0; i < f.n; i++)
		count[f.v[i].sev]++;
	rc = count[IWM_SEV_ERROR] > 0 ? IWM_EXIT_BLOCK :
	    count[IWM_SEV_WARNING] > 0 ? IWM_EXIT_DIFF : IWM_EXIT_OK;
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_IO;
	}
out:
	iwm_findings_free(&f);
	free(f.ignore);
	iwm_depsconf_free(&conf);
	iwm_tool_free(&tool);
	iwm_pathmap_free(&maps);
	free(mapargs);
	free(data);
	return rc;
}
