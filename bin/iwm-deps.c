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

#include "deps.h"

enum format { FMT_TSV, FMT_CSV, FMT_TABLE };

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [--tool PATH] [--path-map FROM=TO]... "
	    "[--format tsv|csv|table]\n"
	    "\t[--csv FILE] [--min-severity info|warning|error] "
	    "[--ignore CATEGORY]...\n\t[--data FILE]\n", iwm_progname);
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

/* Write the CSV beside FILE and rename it in: never half a file. */
static int
save_csv(const char *file, const struct iwm_findings *f, enum iwm_sev min)
{
	struct iwm_buf tmp = { 0 };
	FILE *fp;
	int bad;

	iwm_buf_printf(&tmp, "%s.tmp.%ld", file, (long)getpid());
	if ((fp = fopen(tmp.ptr, "w")) == NULL) {
		iwm_seterr_errno("%s", tmp.ptr);
		iwm_buf_free(&tmp);
		return -1;
	}
	write_csv(fp, f, min);
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad || rename(tmp.ptr, file) == -1) {
		iwm_seterr_errno("%s", file);
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
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_findings f = { 0 };
	struct iwm_depsconf conf;
	struct iwm_pathmaps maps = { 0 };
	struct iwm_tool tool;
	const char *toolopt = NULL, *csvfile = NULL;
	char *data = NULL;
	enum iwm_sev min = IWM_SEV_INFO;
	int ch, fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_TSV, rc;
	size_t i, count[3] = { 0 };

	iwm_setprogname(argv[0]);
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
			usage(IWM_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(IWM_EXIT_USAGE);
	if (data == NULL && (data = iwm_datafile("deps.conf")) == NULL) {
		iwm_warn_err();
		return IWM_EXIT_NOINPUT;
	}
	if (iwm_depsconf_load(&conf, data) == -1) {
		iwm_warn_err();
		return IWM_EXIT_DATA;
	}
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (iwm_deps_audit(&conf, &tool, &maps, &f) == -1) {
		iwm_warnx("audit failed: %s", iwm_err());
		return IWM_EXIT_UNAVAIL;
	}
	iwm_findings_sort(&f);
	if (csvfile != NULL && save_csv(csvfile, &f, min) == -1) {
		iwm_warn_err();
		return IWM_EXIT_IO;
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
	iwm_findings_free(&f);
	free(f.ignore);
	iwm_depsconf_free(&conf);
	iwm_tool_free(&tool);
	iwm_pathmap_free(&maps);
	free(data);
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		return IWM_EXIT_IO;
	}
	return rc;
}
