/*
 * domainmove.c: the target's half of the single-domain procedure.
 *
 *   prepare  create the domain, its accounts and remote accounts from the
 *            source's d_backup, u_backup and ra_backup exports (`tool
 *            import`), remote accounts disabled (RA_Enabled 0), accounts
 *            blocked (u_accountdisabled 2), absolute mailbox paths set to
 *            the default (no source path on the target), config/<domain>/
 *            and the _webmail/_hosts files that name the domain copied.
 *            A domain the server already has is refused unless the
 *            source asked for a merge (DIR/merge) or an earlier prepare
 *            made it (<TempPath>/iwm-target/domain-<name>.prepared).
 *   rows     merge the domain's database rows (DIR/rows.db).
 *   finish   accounts unblocked, remote accounts enabled.
 * Everything is addressed by the domain's own name: no other domain is
 * read or written.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "account.h"
#include "domainmove.h"
#include "domainrows.h"

int iwm_domain_status;

static int
fail(int st)
{
	iwm_domain_status = st;
	return -1;
}

static int
read_line(const char *path, char **out)
{
	struct iwm_lines l;
	char *line;
	size_t len;
	int r;

	*out = NULL;
	if (iwm_lines_open(&l, path) == -1)
		return -1;
	if ((r = iwm_lines_next(&l, &line, &len)) == 1) {
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		*out = iwm_strdup(line);
	}
	iwm_lines_close(&l);
	return r == -1 ? -1 : 0;
}

static int
good_domain(const char *d)
{
	size_t n = strlen(d);

	return n > 0 && n < 254 && d[0] != '.' && d[0] != '-' &&
	    strstr(d, "..") == NULL &&
	    strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-") == n;
}

/* Run the tool, or say it on a dry run. */
static int
tool(const struct iwm_tool *t, struct iwm_domain_opts *o, const char **argv)
{
	size_t i;

	if (o->dry_run) {
		if (o->out != NULL) {
			fputs("would run: tool", o->out);
			for (i = 0; argv[i] != NULL; i++)
				fprintf(o->out, " %s", argv[i]);
			fputc('\n', o->out);
		}
		return 0;
	}
	if (iwm_tool_run(t, argv, NULL, NULL, NULL) == -1)
		return fail(IWM_EXIT_UNAVAIL);
	return 0;
}

static int
has_cb(void *arg, char **f, size_t nf)
{
	(void)f;
	if (nf >= 1)
		*(int *)arg = 1;
	return 0;
}

/* No variables: the key alone (never NULL, memcpy()ed). */
static const char *const novars[1] = { NULL };

static int
has_domain(const struct iwm_tool *t, const char *d)
{
	int found = 0;

	/* The tool fails on an exact name it does not know. */
	(void)iwm_tool_export(t, "domain", d, novars, 0, has_cb, &found);
	return found;
}

static int
nonempty(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

static char *
join(const char *a, const char *b)
{
	struct iwm_buf x = { 0 };

	iwm_buf_printf(&x, "%s/%s", a, b);
	return iwm_buf_steal(&x);
}

/* A server path variable as a local directory, without a trailing '/'. */
static char *
server_dir(const struct iwm_tool *t, const char *var)
{
	char *v = iwm_tool_get1(t, var);
	size_t n;

	if (v == NULL || *v == '\0' || iwm_path_is_windows(v)) {
		iwm_seterr("the server's %s '%s' cannot be used here", var,
		    v != NULL ? v : "");
		free(v);
		fail(IWM_EXIT_UNAVAIL);
		return NULL;
	}
	n = strlen(v);
	while (n > 1 && v[n - 1] == '/')
		v[--n] = '\0';
	return v;
}

/* Make the directory PATH when missing, owned as its parent is. */
static int
make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0)
		return iwm_own_as_parent(-1, path) == -1 ?
		    fail(IWM_EXIT_IO) : 0;
	if (errno == EEXIST)
		return 0;
	iwm_seterr_errno("%s", path);
	return fail(IWM_EXIT_IO);
}

/* Copy one regular file, mode and mtime kept, owned as its directory
 * is, replaced atomically. */
static int
copy_file(const char *src, const char *dst, const struct stat *sb)
{
	struct iwm_buf tmp = { 0 };
	struct timespec ts[2];
	char buf[65536];
	ssize_t r;
	int in, out = -1, rc = -1;

	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		iwm_seterr_errno("%s", src);
		return fail(IWM_EXIT_IO);
	}
	iwm_buf_printf(&tmp, "%s.iwm-tmp", dst);
	if ((out = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, sb->st_mode & 07777)) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		goto done;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r) {
			iwm_seterr_errno("%s", tmp.ptr);
			goto done;
		}
	if (r == -1) {
		iwm_seterr_errno("%s", src);
		goto done;
	}
	ts[0] = sb->st_atim;
	ts[1] = sb->st_mtim;
	if (iwm_own_as_parent(out, dst) == -1)
		goto done;
	if (fchmod(out, sb->st_mode & 07777) == -1 ||
	    futimens(out, ts) == -1 || fsync(out) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		goto done;
	}
	if (close(out) == -1) {
		out = -1;
		iwm_seterr_errno("%s", tmp.ptr);
		goto done;
	}
	out = -1;
	if (rename(tmp.ptr, dst) == -1) {
		iwm_seterr_errno("%s", dst);
		goto done;
	}
	rc = 0;
done:
	close(in);
	if (out != -1)
		close(out);
	if (rc == -1) {
		(void)unlink(tmp.ptr);
		iwm_domain_status = IWM_EXIT_IO;
	}
	iwm_buf_free(&tmp);
	return rc;
}

/* Copy the tree SRC into DST (made when missing); nothing is deleted. */
static int
copy_tree(const char *src, const char *dst, struct iwm_domain_opts *o,
    unsigned *n)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (!o->dry_run && make_dir(dst, 0755) == -1)
		return -1;
	if ((d = opendir(src)) == NULL) {
		iwm_seterr_errno("%s", src);
		return fail(IWM_EXIT_IO);
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat sb;
		char *s, *t;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		s = join(src, e->d_name);
		t = join(dst, e->d_name);
		if (lstat(s, &sb) == -1) {
			iwm_seterr_errno("%s", s);
			rc = fail(IWM_EXIT_IO);
		} else if (S_ISDIR(sb.st_mode))
			rc = copy_tree(s, t, o, n);
		else if (!S_ISREG(sb.st_mode)) {
			if (o->out != NULL)
				fprintf(o->out, "%s: not a plain file: left "
				    "out\n", s);
		} else {
			if (o->dry_run) {
				if (o->out != NULL)
					fprintf(o->out, "would copy: %s\n", t);
			} else
				rc = copy_file(s, t, &sb);
			(*n)++;
		}
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

/* Each line of FILE (remote account names) to tool ARGV with it at [2]. */
static int
each_name(const struct iwm_tool *t, struct iwm_domain_opts *o,
    const char *file, const char **argv, unsigned *n)
{
	struct iwm_lines l;
	char *line;
	size_t len;
	int r, rc = 0;

	if (access(file, F_OK) == -1)
		return 0;
	if (iwm_lines_open(&l, file) == -1)
		return fail(IWM_EXIT_NOINPUT);
	while (rc == 0 && (r = iwm_lines_next(&l, &line, &len)) == 1) {
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0)
			continue;
		argv[2] = line;
		rc = tool(t, o, argv);
		(*n)++;
	}
	iwm_lines_close(&l);
	return rc;
}

/* Accounts of paths.csv whose mailbox path is absolute: the default. */
static int
fix_paths(const struct iwm_tool *t, struct iwm_domain_opts *o,
    const char *file, const char *dom, unsigned *n)
{
	struct iwm_lines l;
	struct iwm_csv csv;
	char *line;
	size_t len;
	int r, rc = 0, k;

	if (access(file, F_OK) == -1)
		return 0;
	if (iwm_lines_open(&l, file) == -1)
		return fail(IWM_EXIT_NOINPUT);
	memset(&csv, 0, sizeof(csv));
	while (rc == 0 && (r = iwm_lines_next(&l, &line, &len)) == 1) {
		const char *p, *em, *at;
		struct iwm_buf def = { 0 };
		const char *argv[6];

		if ((k = iwm_csv_feed(&csv, line, len)) == 0)
			continue;
		if (k == -1 || csv.nfields < 2) {
			iwm_seterr("%s:%llu: bad record", file,
			    (unsigned long long)l.lineno);
			rc = fail(IWM_EXIT_DATA);
			break;
		}
		em = csv.fields[0];
		p = csv.fields[1];
		if (!(p[0] == '/' || p[0] == '\\' ||
		    (p[0] != '\0' && p[1] == ':')))
			continue;
		at = strchr(em, '@');
		if (at == NULL || strcasecmp(at + 1, dom) != 0) {
			iwm_seterr("%s: %s is not an account of %s", file, em,
			    dom);
			rc = fail(IWM_EXIT_DATA);
			break;
		}
		iwm_buf_printf(&def, "%s/", dom);
		iwm_buf_add(&def, em, (size_t)(at - em));
		iwm_buf_addc(&def, '/');
		argv[0] = "set";
		argv[1] = "account";
		argv[2] = em;
		argv[3] = "u_mailboxpath";
		argv[4] = def.ptr;
		argv[5] = NULL;
		rc = tool(t, o, argv);
		iwm_buf_free(&def);
		(*n)++;
	}
	iwm_lines_close(&l);
	iwm_csv_free(&csv);
	return rc;
}

/* "merge=1" in DIR/options: the source asked for --merge. */
static int
merge_asked(const char *dir)
{
	char *f = join(dir, "options"), *l = NULL;
	int merge = 0;

	if (access(f, F_OK) == 0 && read_line(f, &l) == 0 && l != NULL &&
	    strcmp(l, "merge=1") == 0)
		merge = 1;
	free(l);
	free(f);
	return merge;
}

/*
 * u_accountdisabled VALUE for the domain's accounts: all of them by
 * pattern, or on a merge those of accounts.csv only (the target's own
 * accounts of the domain keep their state).
 */
static int
set_disabled(const struct iwm_tool *t, struct iwm_domain_opts *o,
    const char *dir, const char *dom, int merge, const char *value)
{
	struct iwm_buf pat = { 0 };
	struct iwm_lines l;
	struct iwm_csv csv;
	const char *argv[6];
	char *f, *line;
	size_t len;
	int rc = 0, r, k;

	argv[0] = "set";
	argv[1] = "account";
	argv[3] = "u_accountdisabled";
	argv[4] = value;
	argv[5] = NULL;
	if (!merge) {
		iwm_buf_printf(&pat, "*@%s", dom);
		argv[2] = pat.ptr;
		rc = tool(t, o, argv);
		iwm_buf_free(&pat);
		return rc;
	}
	f = join(dir, "accounts.csv");
	if (iwm_lines_open(&l, f) == -1) {
		free(f);
		return fail(IWM_EXIT_NOINPUT);
	}
	memset(&csv, 0, sizeof(csv));
	while (rc == 0 && (r = iwm_lines_next(&l, &line, &len)) == 1) {
		const char *at;

		if ((k = iwm_csv_feed(&csv, line, len)) == 0)
			continue;
		if (k == -1 || csv.nfields < 1 ||
		    (at = strchr(csv.fields[0], '@')) == NULL ||
		    strcasecmp(at + 1, dom) != 0) {
			iwm_seterr("%s:%llu: not an account of %s", f,
			    (unsigned long long)l.lineno, dom);
			rc = fail(IWM_EXIT_DATA);
			break;
		}
		argv[2] = csv.fields[0];
		rc = tool(t, o, argv);
	}
	iwm_lines_close(&l);
	iwm_csv_free(&csv);
	free(f);
	return rc;
}

static int
prepare(const struct iwm_tool *t, const char *dir, const char *dom,
    struct iwm_domain_opts *o)
{
	struct iwm_buf pat = { 0 }, mark = { 0 };
	char *temp = NULL, *conf = NULL, *f = NULL, *cdir = NULL, *g = NULL;
	const char *argv[8];
	unsigned nra = 0, npath = 0, nconf = 0;
	int rc = -1, merge;

	if ((temp = server_dir(t, "C_System_Storage_Dir_TempPath")) == NULL ||
	    (conf = server_dir(t, "C_ConfigPath")) == NULL)
		goto done;
	iwm_buf_printf(&mark, "%s/iwm-target/domain-%s.prepared", temp, dom);
	merge = merge_asked(dir);
	if (has_domain(t, dom) && !merge && access(mark.ptr, F_OK) == -1) {
		iwm_seterr("%s already exists on this server: iwm domain %s "
		    "prepare --merge adds the source's accounts to it", dom,
		    dom);
		fail(IWM_EXIT_DATA);
		goto done;
	}
	argv[0] = "import";
	argv[4] = NULL;
	argv[1] = "domain";
	argv[2] = f = join(dir, "domain.csv");
	argv[3] = "d_backup";
	if (!nonempty(f)) {
		iwm_seterr("%s: missing or empty", f);
		fail(IWM_EXIT_NOINPUT);
		goto done;
	}
	if (tool(t, o, argv) == -1)
		goto done;
	free(f);
	argv[1] = "account";
	argv[2] = f = join(dir, "accounts.csv");
	argv[3] = "u_backup";
	if (nonempty(f) && tool(t, o, argv) == -1)
		goto done;
	free(f);
	argv[1] = "remoteaccount";
	argv[2] = f = join(dir, "remoteaccounts.csv");
	argv[3] = "ra_backup";
	if (nonempty(f) && tool(t, o, argv) == -1)
		goto done;
	free(f);
	f = join(dir, "remoteaccounts.list");
	argv[0] = "set";
	argv[1] = "remoteaccount";
	argv[3] = "ra_enabled";
	argv[4] = "0";
	argv[5] = NULL;
	if (each_name(t, o, f, argv, &nra) == -1)
		goto done;
	if (set_disabled(t, o, dir, dom, merge, "2") == -1)
		goto done;
	free(f);
	f = join(dir, "paths.csv");
	if (fix_paths(t, o, f, dom, &npath) == -1)
		goto done;
	free(f);
	f = join(dir, "config");
	cdir = join(f, dom);
	if (access(cdir, F_OK) == 0) {
		free(g);
		g = join(conf, dom);
		if (copy_tree(cdir, g, o, &nconf) == -1)
			goto done;
	}
	free(cdir);
	cdir = join(f, "_hosts");
	if (access(cdir, F_OK) == 0) {
		struct iwm_buf h = { 0 };

		iwm_buf_printf(&h, "%s/_webmail", conf);
		if (!o->dry_run && make_dir(h.ptr, 0755) == -1) {
			iwm_buf_free(&h);
			goto done;
		}
		iwm_buf_adds(&h, "/_hosts");
		rc = copy_tree(cdir, h.ptr, o, &nconf);
		iwm_buf_free(&h);
		if (rc == -1)
			goto done;
		rc = -1;
	}
	if (!o->dry_run) {
		struct iwm_buf m = { 0 };
		int fd;

		iwm_buf_printf(&m, "%s/iwm-target", temp);
		if (make_dir(m.ptr, 0700) == -1) {
			iwm_buf_free(&m);
			goto done;
		}
		iwm_buf_free(&m);
		if ((fd = open(mark.ptr, O_WRONLY | O_CREAT | O_CLOEXEC,
		    0600)) == -1) {
			iwm_seterr_errno("%s", mark.ptr);
			fail(IWM_EXIT_IO);
			goto done;
		}
		close(fd);
	}
	if (o->out != NULL)
		fprintf(o->out, "%s: %s on this server: accounts blocked, "
		    "%u remote accounts disabled, %u mailbox paths set to the "
		    "default, %u configuration files%s\n", dom,
		    merge ? "merged" : "created", nra, npath, nconf,
		    o->dry_run ? " (dry run)" : "");
	rc = 0;
done:
	free(temp);
	free(conf);
	free(f);
	free(g);
	free(cdir);
	iwm_buf_free(&pat);
	iwm_buf_free(&mark);
	return rc;
}

static int
finish(const struct iwm_tool *t, const char *dir, const char *dom,
    struct iwm_domain_opts *o)
{
	const char *argv[6];
	char *f;
	unsigned nra = 0;
	int rc;

	if (!has_domain(t, dom)) {
		iwm_seterr("no domain %s on this server", dom);
		return fail(IWM_EXIT_NOINPUT);
	}
	if (set_disabled(t, o, dir, dom, merge_asked(dir), "0") == -1)
		return -1;
	f = join(dir, "remoteaccounts.list");
	argv[0] = "set";
	argv[1] = "remoteaccount";
	argv[5] = NULL;
	argv[3] = "ra_enabled";
	argv[4] = "1";
	rc = each_name(t, o, f, argv, &nra);
	free(f);
	if (rc == 0 && o->out != NULL)
		fprintf(o->out, "%s: accounts unblocked, %u remote accounts "
		    "enabled%s\n", dom, nra, o->dry_run ? " (dry run)" : "");
	return rc;
}

int
iwm_domain_target(const struct iwm_tool *t, const char *step,
    const char *dir, struct iwm_domain_opts *o)
{
	char *f = join(dir, "name"), *dom = NULL;
	int rc;

	iwm_domain_status = 0;
	if (read_line(f, &dom) == -1 || dom == NULL) {
		if (dom == NULL)
			iwm_seterr("%s: missing or empty (written by iwm "
			    "domain on the source)", f);
		free(f);
		return fail(IWM_EXIT_NOINPUT);
	}
	free(f);
	if (!good_domain(dom)) {
		iwm_seterr("%s/name: '%s' is not a domain name", dir, dom);
		free(dom);
		return fail(IWM_EXIT_DATA);
	}
	/* The domain's own files are in DIR/<domain>/. */
	f = join(dir, dom);
	if (strcmp(step, "prepare") == 0)
		rc = prepare(t, f, dom, o);
	else if (strcmp(step, "finish") == 0)
		rc = finish(t, f, dom, o);
	else if (strcmp(step, "rows") == 0) {
		struct iwm_domrows_opts ro;

		char *rows = join(f, "rows.db");

		memset(&ro, 0, sizeof(ro));
		ro.dryrun = o->dry_run;
		ro.out = o->out;
		rc = iwm_domrows_merge(t, rows, &ro);
		free(rows);
		if (rc == -1)
			iwm_domain_status = iwm_domrows_status;
	} else {
		iwm_seterr("unknown step '%s' (prepare, rows, finish)", step);
		rc = fail(IWM_EXIT_USAGE);
	}
	free(f);
	free(dom);
	return rc;
}
