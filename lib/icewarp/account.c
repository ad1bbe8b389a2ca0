/* account.c: localize mailbox paths and classify accounts by them. */
#include <sys/stat.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "manifest.h"

const char *
iwm_acct_class_name(enum iwm_acct_class c)
{
	switch (c) {
	case IWM_ACCT_REGULAR: return "regular";
	case IWM_ACCT_ARCHIVIST: return "archivist";
	case IWM_ACCT_EXTERN: return "extern";
	case IWM_ACCT_SHARED: return "shared";
	case IWM_ACCT_NOMAILBOX: return "nomailbox";
	}
	return "unknown";
}

int
iwm_path_is_windows(const char *p)
{
	return (isalpha((unsigned char)p[0]) && p[1] == ':' &&
	    (p[2] == '\\' || p[2] == '/')) ||
	    (p[0] == '\\' && p[1] == '\\');
}

int
iwm_path_is_absolute(const char *p)
{
	return p[0] == '/' || iwm_path_is_windows(p);
}

/* Windows paths compare case-insensitively, with either slash. */
static int
prefix_match(const char *path, const char *prefix, int windows)
{
	for (; *prefix != '\0'; path++, prefix++) {
		int a = (unsigned char)*path, b = (unsigned char)*prefix;

		if (windows) {
			if (a == '\\')
				a = '/';
			if (b == '\\')
				b = '/';
			a = tolower(a);
			b = tolower(b);
		}
		if (a != b)
			return 0;
	}
	return 1;
}

int
iwm_path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	int win = iwm_path_is_windows(dir);

	if (n == 0 || !prefix_match(path, dir, win))
		return 0;
	/* At a separator: /opt/icewarp is not a prefix of /opt/icewarp2. */
	return dir[n - 1] == '/' || dir[n - 1] == '\\' || path[n] == '\0' ||
	    path[n] == '/' || (win && path[n] == '\\');
}

int
iwm_pathmap_add(struct iwm_pathmaps *m, const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct iwm_pathmap pm;
	size_t tlen;

	if (eq == NULL || eq == spec || eq[1] == '\0') {
		iwm_seterr("--path-map '%s': expected FROM=TO, e.g. "
		    "'E:\\=/mnt/e/'", spec);
		return -1;
	}
	if (eq[1] != '/') {
		iwm_seterr("--path-map '%s': TO must be an absolute local path",
		    spec);
		return -1;
	}
	pm.from = iwm_strndup(spec, (size_t)(eq - spec));
	tlen = strlen(eq + 1);
	pm.to = iwm_malloc(tlen + 2);
	memcpy(pm.to, eq + 1, tlen + 1);
	/* FROM and TO are directories: match and join at separators. */
	if (pm.to[tlen - 1] != '/') {
		pm.to[tlen] = '/';
		pm.to[tlen + 1] = '\0';
	}
	m->v = iwm_reallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = pm;
	return 0;
}

void
iwm_pathmap_free(struct iwm_pathmaps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].from);
		free(m->v[i].to);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Append REST with '\' turned into '/' and doubled slashes folded. */
static void
add_slashed(struct iwm_buf *b, const char *rest, int windows)
{
	for (; *rest != '\0'; rest++) {
		int c = *rest;

		if (windows && c == '\\')
			c = '/';
		if (c == '/' && b->len > 0 && b->ptr[b->len - 1] == '/')
			continue;
		iwm_buf_addc(b, c);
	}
}

char *
iwm_path_localize(const struct iwm_pathmaps *m, const char *path)
{
	struct iwm_buf b = { 0 };
	int windows = iwm_path_is_windows(path);
	const struct iwm_pathmap *best = NULL;
	size_t i, bestlen = 0;

	for (i = 0; m != NULL && i < m->n; i++) {
		size_t flen = strlen(m->v[i].from);
		const char *after;

		if (!prefix_match(path, m->v[i].from, windows))
			continue;
		/* Only at a separator: "E:\mail" must not match "E:\mailx". */
		after = path + flen;
		if (flen > 0 && m->v[i].from[flen - 1] != '\\' &&
		    m->v[i].from[flen - 1] != '/' && *after != '\0' &&
		    *after != '\\' && *after != '/')
			continue;
		if (flen > bestlen) {
			best = &m->v[i];
			bestlen = flen;
		}
	}
	if (best != NULL) {
		iwm_buf_adds(&b, best->to);
		add_slashed(&b, path + bestlen, windows);
	} else if (windows) {
		iwm_seterr("'%s' is a Windows path: map it to a local "
		    "directory with --path-map 'PREFIX=/local/dir/'", path);
		return NULL;
	} else if (path[0] != '/') {
		iwm_seterr("'%s' is not an absolute path", path);
		return NULL;
	} else
		add_slashed(&b, path, 0);
	if (b.len == 0 || b.ptr[b.len - 1] != '/')
		iwm_buf_addc(&b, '/');
	return iwm_buf_steal(&b);
}

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* DIR ("/.../john/") ends in the component NAME. */
static int
dir_named(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	return dl >= nl + 2 && dir[dl - nl - 2] == '/' &&
	    strncmp(dir + dl - nl - 1, name, nl) == 0;
}

static int
cmp_dir(const void *a, const void *b)
{
	const struct iwm_account *x = *(const struct iwm_account *const *)a;
	const struct iwm_account *y = *(const struct iwm_account *const *)b;
	int c = iwm_path_cmp(x->dir, strlen(x->dir), y->dir, strlen(y->dir));
	int xo, yo;

	if (c != 0)
		return c;
	/* Same directory: its owner is the account whose name it bears. */
	xo = dir_named(x->dir, x->alias);
	yo = dir_named(y->dir, y->alias);
	if (xo != yo)
		return xo ? -1 : 1;
	return strcmp(x->email, y->email);
}

int
iwm_accounts_classify(struct iwm_accounts *as)
{
	struct iwm_account **cand;
	const struct iwm_account *holder = NULL;
	size_t i, n = 0;

	cand = iwm_calloc(as->n, sizeof(*cand));
	for (i = 0; i < as->n; i++) {
		struct iwm_account *a = &as->v[i];

		a->owner = NULL;
		if (a->cls == IWM_ACCT_NOMAILBOX || a->dir == NULL)
			continue;
		if (as->archivedir != NULL && has_prefix(a->dir, as->archivedir))
			a->cls = IWM_ACCT_ARCHIVIST;
		else
			cand[n++] = a;
	}
	/*
	 * Sorted by directory, a mailbox inside (or equal to) an earlier
	 * one follows it: that one is shared, held by the earlier owner.
	 */
	qsort(cand, n, sizeof(*cand), cmp_dir);
	for (i = 0; i < n; i++) {
		struct iwm_account *a = cand[i];

		if (holder != NULL && has_prefix(a->dir, holder->dir)) {
			a->cls = IWM_ACCT_SHARED;
			a->owner = holder;
			continue;
		}
		holder = a;
		free(a->rel);
		if (has_prefix(a->dir, as->maildir) &&
		    strlen(a->dir) > strlen(as->maildir)) {
			a->cls = IWM_ACCT_REGULAR;
			a->rel = iwm_strdup(a->dir + strlen(as->maildir));
		} else {
			struct iwm_buf b = { 0 };

			a->cls = IWM_ACCT_EXTERN;
			iwm_buf_printf(&b, "%s/%s/", a->domain, a->alias);
			a->rel = iwm_buf_steal(&b);
		}
	}
	free(cand);
	return 0;
}

struct loadctx {
	struct iwm_accounts		*as;
	const struct iwm_pathmaps	*maps;
	int				 windows;
	const char			*maildir_raw;
};

static int
load_one(void *arg, char **f, size_t nf)
{
	struct loadctx *x = arg;
	struct iwm_account a = { 0 };
	const char *at = strrchr(f[0], '@'), *mbp = f[2];
	const char *full = nf > 3 ? f[3] : "";
	long type;
	struct stat st;

	if (at == NULL || at == f[0] || at[1] == '\0') {
		iwm_seterr("export: '%s' is not an email address", f[0]);
		return -1;
	}
	if (iwm_parse_int(f[1], -1000, 1000, &type) == -1)
		type = -1;
	a.email = iwm_strdup(f[0]);
	a.alias = iwm_strndup(f[0], (size_t)(at - f[0]));
	a.domain = iwm_strdup(at + 1);
	a.type = (int)type;
	a.mailboxpath = iwm_strdup(mbp);
	a.cls = IWM_ACCT_NOMAILBOX;
	/*
	 * The mailbox directory is U_FullMailboxPath (absolute, trailing
	 * separator; with sorting prefixes <domain>/jo/hn/john/, which
	 * U_MailBoxPath does not say).  Without it, U_MailBoxPath: relative
	 * paths hang off the mail directory.
	 */
	if (nf > 3 && *full != '\0' && iwm_path_is_absolute(full)) {
		a.dir = iwm_path_localize(x->maps, full);
		mbp = full;
	} else if (*mbp != '\0') {
		if (iwm_path_is_absolute(mbp))
			a.dir = iwm_path_localize(x->maps, mbp);
		else {
			struct iwm_buf b = { 0 };

			iwm_buf_adds(&b, x->as->maildir);
			add_slashed(&b, mbp, x->windows);
			if (b.ptr[b.len - 1] != '/')
				iwm_buf_addc(&b, '/');
			a.dir = iwm_buf_steal(&b);
		}
	}
	if (*mbp != '\0') {
		/*
		 * An unusable path is this account's problem, not the
		 * whole scan's: say so, and let the caller know that what
		 * it lists is incomplete.
		 */
		if (a.dir == NULL) {
			iwm_warnx("account %s: %s", a.email, iwm_err());
			x->as->nproblems++;
		} else if (stat(a.dir, &st) == 0 && S_ISDIR(st.st_mode))
			a.cls = IWM_ACCT_REGULAR;	/* refined later */
		else if (!has_prefix(a.dir, x->as->maildir) &&
		    (x->as->archivedir == NULL ||
		    !has_prefix(a.dir, x->as->archivedir))) {
			/* Outside the mail dir: an unmounted disk? */
			iwm_warnx("account %s: mailbox %s does not exist (a "
			    "disk not mounted, or a wrong --path-map?)",
			    a.email, a.dir);
			x->as->nproblems++;
		}
	}
	x->as->v = iwm_reallocarray(x->as->v, x->as->n + 1, sizeof(a));
	x->as->v[x->as->n++] = a;
	return 0;
}

static const char *const load_vars[] = { "u_type", "u_mailboxpath",
    "u_fullmailboxpath" };

void
iwm_accounts_start(struct iwm_tool *t, char *const *domains, size_t ndomains)
{
	struct iwm_buf pat = { 0 };

	iwm_buf_printf(&pat, "*@%s", ndomains == 0 ? "*" : domains[0]);
	iwm_tool_export_start(t, "account", pat.ptr, load_vars, 3);
	iwm_buf_free(&pat);
}

int
iwm_accounts_load(struct iwm_accounts *as, const struct iwm_tool *t,
    const struct iwm_pathmaps *maps, const char *maildir,
    const char *archivedir, char *const *domains, size_t ndomains)
{
	struct loadctx x;
	size_t i;

	memset(as, 0, sizeof(*as));
	if ((as->maildir = iwm_path_localize(maps, maildir)) == NULL)
		return -1;
	if (archivedir != NULL && *archivedir != '\0' &&
	    (as->archivedir = iwm_path_localize(maps, archivedir)) == NULL)
		return -1;
	x.as = as;
	x.maps = maps;
	x.windows = iwm_path_is_windows(maildir);
	x.maildir_raw = maildir;
	if (ndomains == 0) {
		if (iwm_tool_export(t, "account", "*@*", load_vars, 3,
		    load_one, &x) == -1)
			return -1;
	}
	for (i = 0; i < ndomains; i++) {
		struct iwm_buf pat = { 0 };
		int rc;

		iwm_buf_printf(&pat, "*@%s", domains[i]);
		rc = iwm_tool_export(t, "account", pat.ptr, load_vars, 3,
		    load_one, &x);
		iwm_buf_free(&pat);
		if (rc == -1)
			return -1;
	}
	return iwm_accounts_classify(as);
}

void
iwm_accounts_free(struct iwm_accounts *as)
{
	size_t i;

	for (i = 0; i < as->n; i++) {
		free(as->v[i].email);
		free(as->v[i].domain);
		free(as->v[i].alias);
		free(as->v[i].mailboxpath);
		free(as->v[i].dir);
		free(as->v[i].rel);
	}
	free(as->v);
	free(as->maildir);
	free(as->archivedir);
	memset(as, 0, sizeof(*as));
}
