/*
 * pathfix.c: the migrator guide's "Mailbox Paths Fixes".  On the
 * source, a plan: each account whose mailbox path must be set again on
 * the target (archivists into the archive, externs to their default
 * place, shared mailboxes into the other account's copied folder,
 * absolute paths inside the mail directory), relative to a root the
 * target resolves with its own paths.  On the target, applying it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control.h"
#include "manifest.h"

#define PLAN_END	"#iwm-end"

static int
fail(int status)
{
	iwm_ctl_status = status;
	return -1;
}

static int
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static void
plan_line(struct iwm_buf *b, const char *email, const char *cls,
    const char *root, const char *path)
{
	iwm_escape_buf(b, email, strlen(email));
	iwm_buf_printf(b, "\t%s\t%s\t", cls, root);
	iwm_escape_buf(b, path, strlen(path));
	iwm_buf_addc(b, '\n');
}

/* A plan PATH: relative, '/'-separated, one trailing '/'. */
static int
path_ok(const char *p)
{
	size_t n = strlen(p);

	return n >= 2 && p[n - 1] == '/' && iwm_path_valid(p, n - 1);
}

int
iwm_pathfix_plan(const struct iwm_tool *t, const struct iwm_pathmaps *maps,
    struct iwm_buf *b, size_t *nproblems)
{
	static const char *const vars[] = { "C_System_Storage_Dir_MailPath",
	    "C_System_Tools_AutoArchive_Path" };
	struct iwm_accounts as;
	char *val[2];
	size_t i;

	*nproblems = 0;
	if (iwm_tool_get_system(t, vars, 2, val) == -1)
		return fail(IWM_EXIT_UNAVAIL);
	/* A path the server reports but iwm cannot map is bad data. */
	for (i = 0; i < 2; i++) {
		char *p;

		if (i == 1 && *val[1] == '\0')
			continue;
		if ((p = iwm_path_localize(maps, val[i])) == NULL) {
			free(val[0]);
			free(val[1]);
			return fail(IWM_EXIT_DATA);
		}
		free(p);
	}
	if (iwm_accounts_load(&as, t, maps, val[0], val[1], NULL, 0) == -1) {
		iwm_accounts_free(&as);
		free(val[0]);
		free(val[1]);
		return fail(IWM_EXIT_UNAVAIL);
	}
	free(val[0]);
	free(val[1]);
	*nproblems = as.nproblems;
	iwm_buf_printf(b, "%s\n", IWM_PATHFIX_HEADER);
	for (i = 0; i < as.n; i++) {
		const struct iwm_account *a = &as.v[i];
		struct iwm_buf p = { 0 };
		const char *cls = NULL, *root = "mail";

		switch (a->cls) {
		case IWM_ACCT_ARCHIVIST:
			cls = "archivist";
			root = "archive";
			iwm_buf_adds(&p, a->dir + strlen(as.archivedir));
			break;
		case IWM_ACCT_EXTERN:
			cls = "extern";
			iwm_buf_adds(&p, a->rel);
			break;
		case IWM_ACCT_SHARED:
			/* Where the owner's copy holds that folder. */
			cls = "shared";
			iwm_buf_adds(&p, a->owner->rel);
			iwm_buf_adds(&p, a->dir + strlen(a->owner->dir));
			break;
		case IWM_ACCT_REGULAR:
			if (!iwm_path_is_absolute(a->mailboxpath))
				break;
			cls = "absolute";
			iwm_buf_adds(&p, a->rel);
			break;
		case IWM_ACCT_NOMAILBOX:
			/*
			 * No data (yet), but an absolute path still names
			 * the source's disks: give it the target's place.
			 */
			if (!iwm_path_is_absolute(a->mailboxpath))
				break;
			if (a->dir != NULL && as.archivedir != NULL &&
			    has_prefix(a->dir, as.archivedir)) {
				cls = "archivist";
				root = "archive";
				iwm_buf_adds(&p, a->dir + strlen(as.archivedir));
			} else if (a->dir != NULL &&
			    has_prefix(a->dir, as.maildir)) {
				cls = "absolute";
				iwm_buf_adds(&p, a->dir + strlen(as.maildir));
			} else {
				cls = "extern";
				iwm_buf_printf(&p, "%s/%s/", a->domain,
				    a->alias);
			}
			break;
		}
		if (cls == NULL) {
			iwm_buf_free(&p);
			continue;
		}
		if (p.len == 0 || !path_ok(p.ptr)) {
			iwm_warnx("account %s: mailbox path '%s' is the %s "
			    "directory itself or not usable: not in the plan",
			    a->email, a->mailboxpath, root);
			(*nproblems)++;
		} else
			plan_line(b, a->email, cls, root, p.ptr);
		iwm_buf_free(&p);
	}
	iwm_buf_printf(b, "%s\n", PLAN_END);
	iwm_accounts_free(&as);
	return 0;
}

struct fix {
	char	*email;
	char	*cls;
	int	 archive;	/* ROOT archive, else mail */
	char	*path;		/* unescaped */
};

struct fixes {
	struct fix *v;
	size_t	 n;
};

static void
fixes_free(struct fixes *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].email);
		free(f->v[i].cls);
		free(f->v[i].path);
	}
	free(f->v);
}

/* Undo the manifest escapes \\ \t \n \r in place; -1 on a bad one. */
static int
unescape(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		switch (r[1]) {
		case '\\': *w++ = '\\'; break;
		case 't': *w++ = '\t'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		default: return -1;
		}
		r += 2;
	}
	*w = '\0';
	return 0;
}

static int
cmp_email(const void *a, const void *b)
{
	return strcasecmp(((const struct fix *)a)->email,
	    ((const struct fix *)b)->email);
}

/* The whole plan, checked, before anything changes. */
static int
read_plan(const char *file, struct fixes *f)
{
	struct iwm_lines l;
	char *line;
	size_t len, i;
	int rc, ended = 0;

	memset(f, 0, sizeof(*f));
	if (iwm_lines_open(&l, file) == -1)
		return fail(IWM_EXIT_NOINPUT);
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		unsigned long long ln = (unsigned long long)l.lineno;
		char *fld[4], *p = line, *at;
		size_t n;

		if (ln == 1) {
			if (strcmp(line, IWM_PATHFIX_HEADER) != 0) {
				iwm_seterr("%s:1: not a path-fix plan (no "
				    "'%s' line)", file, IWM_PATHFIX_HEADER);
				rc = -1;
				break;
			}
			continue;
		}
		if (ended) {
			iwm_seterr("%s:%llu: text after '%s'", file, ln,
			    PLAN_END);
			rc = -1;
			break;
		}
		if (strcmp(line, PLAN_END) == 0) {
			ended = 1;
			continue;
		}
		if (line[0] == '#')
			continue;
		for (n = 0; n < 4 && p != NULL; n++) {
			fld[n] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (n != 4 || p != NULL) {
			iwm_seterr("%s:%llu: expected 4 TAB-separated fields "
			    "EMAIL CLASS ROOT PATH", file, ln);
			rc = -1;
			break;
		}
		if (unescape(fld[0]) == -1 || (at = strrchr(fld[0], '@')) ==
		    NULL || at == fld[0] || at[1] == '\0' ||
		    strpbrk(fld[0], " \t\r\n,") != NULL) {
			iwm_seterr("%s:%llu: '%s' is not an email address",
			    file, ln, fld[0]);
			rc = -1;
			break;
		}
		if (strcmp(fld[1], "archivist") != 0 &&
		    strcmp(fld[1], "extern") != 0 &&
		    strcmp(fld[1], "shared") != 0 &&
		    strcmp(fld[1], "absolute") != 0) {
			iwm_seterr("%s:%llu: unknown class '%s' (archivist, "
			    "extern, shared, absolute)", file, ln, fld[1]);
			rc = -1;
			break;
		}
		if (strcmp(fld[2], "mail") != 0 &&
		    strcmp(fld[2], "archive") != 0) {
			iwm_seterr("%s:%llu: unknown root '%s' (mail, "
			    "archive)", file, ln, fld[2]);
			rc = -1;
			break;
		}
		if (unescape(fld[3]) == -1 || !path_ok(fld[3])) {
			iwm_seterr("%s:%llu: '%s' is not a relative path "
			    "ending in '/'", file, ln, fld[3]);
			rc = -1;
			break;
		}
		f->v = iwm_reallocarray(f->v, f->n + 1, sizeof(*f->v));
		f->v[f->n].email = iwm_strdup(fld[0]);
		f->v[f->n].cls = iwm_strdup(fld[1]);
		f->v[f->n].archive = strcmp(fld[2], "archive") == 0;
		f->v[f->n].path = iwm_strdup(fld[3]);
		f->n++;
	}
	iwm_lines_close(&l);
	if (rc == 0 && l.lineno == 0) {
		iwm_seterr("%s: empty, not a path-fix plan", file);
		rc = -1;
	} else if (rc == 0 && !ended) {
		iwm_seterr("%s: no '%s' line: the plan is cut short", file,
		    PLAN_END);
		rc = -1;
	}
	if (rc == 0) {
		struct fixes sorted;

		sorted.n = f->n;
		sorted.v = iwm_calloc(f->n + 1, sizeof(*f->v));
		memcpy(sorted.v, f->v, f->n * sizeof(*f->v));
		qsort(sorted.v, sorted.n, sizeof(*sorted.v), cmp_email);
		for (i = 1; i < sorted.n; i++)
			if (strcasecmp(sorted.v[i].email,
			    sorted.v[i - 1].email) == 0) {
				iwm_seterr("%s: %s is listed twice", file,
				    sorted.v[i].email);
				rc = -1;
				break;
			}
		free(sorted.v);
	}
	if (rc == -1) {
		fixes_free(f);
		memset(f, 0, sizeof(*f));
		return fail(IWM_EXIT_DATA);
	}
	return 0;
}

struct current {
	char	*email;
	char	*path;
};

struct currents {
	struct current *v;
	size_t	 n;
};

static int
current_cb(void *arg, char **fields, size_t nfields)
{
	struct currents *c = arg;

	c->v = iwm_reallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n].email = iwm_strdup(fields[0]);
	c->v[c->n].path = iwm_strdup(nfields > 1 ? fields[1] : "");
	c->n++;
	return 0;
}

static int
cmp_current(const void *a, const void *b)
{
	return strcasecmp(((const struct current *)a)->email,
	    ((const struct current *)b)->email);
}

/* Same path: Windows paths without case and with either slash. */
static int
same_path(const char *a, const char *b, int windows)
{
	if (!windows)
		return strcmp(a, b) == 0;
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		int x = *a == '/' ? '\\' : tolower((unsigned char)*a);
		int y = *b == '/' ? '\\' : tolower((unsigned char)*b);

		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* ROOT (the target's own, as its tool reports it) + PATH, its style. */
static char *
target_path(const char *root, const char *path, int windows)
{
	struct iwm_buf b = { 0 };
	const char *p;
	char sep = windows ? '\\' : '/';

	iwm_buf_adds(&b, root);
	if (b.len > 0 && b.ptr[b.len - 1] != '/' && b.ptr[b.len - 1] != '\\')
		iwm_buf_addc(&b, sep);
	for (p = path; *p != '\0'; p++)
		iwm_buf_addc(&b, *p == '/' ? sep : *p);
	return iwm_buf_steal(&b);
}

int
iwm_pathfix_apply(const struct iwm_tool *t, const char *file, int dry_run,
    FILE *out)
{
	static const char *const vars[] = { "C_System_Storage_Dir_MailPath",
	    "C_System_Tools_AutoArchive_Path" };
	static const char *const xvars[] = { "u_mailboxpath" };
	struct fixes f;
	struct currents cur = { NULL, 0 };
	char *val[2];
	size_t i;
	int windows, bad = 0;

	if (read_plan(file, &f) == -1)
		return -1;
	if (iwm_tool_get_system(t, vars, 2, val) == -1) {
		fixes_free(&f);
		return fail(IWM_EXIT_UNAVAIL);
	}
	if (*val[0] == '\0' || !iwm_path_is_absolute(val[0])) {
		iwm_seterr("the target's mail path '%s' is not absolute",
		    val[0]);
		free(val[0]);
		free(val[1]);
		fixes_free(&f);
		return fail(IWM_EXIT_DATA);
	}
	windows = iwm_path_is_windows(val[0]);
	/* Every account's current path in one call. */
	if (f.n > 0 && iwm_tool_export(t, "account", "*@*", xvars, 1,
	    current_cb, &cur) == -1) {
		free(val[0]);
		free(val[1]);
		fixes_free(&f);
		for (i = 0; i < cur.n; i++) {
			free(cur.v[i].email);
			free(cur.v[i].path);
		}
		free(cur.v);
		return fail(IWM_EXIT_UNAVAIL);
	}
	if (cur.n > 0)
		qsort(cur.v, cur.n, sizeof(*cur.v), cmp_current);
	for (i = 0; i < f.n; i++) {
		const struct fix *x = &f.v[i];
		const char *root = x->archive ? val[1] : val[0];
		struct current key = { x->email, NULL }, *c;
		char *want, *have;

		c = cur.n > 0 ? bsearch(&key, cur.v, cur.n, sizeof(*cur.v),
		    cmp_current) : NULL;
		if (c == NULL) {
			iwm_warnx("%s: no such account on this server: not "
			    "fixed", x->email);
			bad = 1;
			continue;
		}
		if (*root == '\0' || !iwm_path_is_absolute(root)) {
			iwm_warnx("%s: the target's %s path '%s' is not "
			    "absolute: not fixed", x->email, x->archive ?
			    "archive" : "mail", root);
			bad = 1;
			continue;
		}
		want = target_path(root, x->path, windows);
		/* A relative path hangs off the mail path: compare that. */
		have = *c->path != '\0' && !iwm_path_is_absolute(c->path) ?
		    target_path(val[0], c->path, windows) :
		    iwm_strdup(c->path);
		if (same_path(have, want, windows))
			fprintf(out, "%s\t%s\tunchanged\t%s\n", x->email, x->cls,
			    want);
		else if (dry_run)
			fprintf(out, "%s\t%s\twould set\t%s\t(now %s)\n",
			    x->email, x->cls, want, c->path);
		else {
			const char *set[] = { "set", "account", x->email,
			    "u_mailboxpath", want, NULL };
			const char *refresh[] = { "set", "account", x->email,
			    "u_directorycache_refreshnow", "1", NULL };

			if (iwm_tool_run(t, set, NULL, NULL, NULL) == -1 ||
			    iwm_tool_run(t, refresh, NULL, NULL, NULL) == -1) {
				iwm_warnx("%s: %s", x->email, iwm_err());
				bad = 1;
			} else
				fprintf(out, "%s\t%s\tfixed\t%s\n", x->email,
				    x->cls, want);
		}
		free(want);
		free(have);
	}
	for (i = 0; i < cur.n; i++) {
		free(cur.v[i].email);
		free(cur.v[i].path);
	}
	free(cur.v);
	free(val[0]);
	free(val[1]);
	fixes_free(&f);
	return bad;
}
