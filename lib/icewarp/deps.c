/* deps.c: the external dependency checks of iwm-deps(1). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "deps.h"

const char *
iwm_sev_name(enum iwm_sev s)
{
	return s == IWM_SEV_ERROR ? "error" : s == IWM_SEV_WARNING ?
	    "warning" : "info";
}

int
iwm_sev_parse(const char *s, enum iwm_sev *out)
{
	if (strcmp(s, "error") == 0)
		*out = IWM_SEV_ERROR;
	else if (strcmp(s, "warning") == 0)
		*out = IWM_SEV_WARNING;
	else if (strcmp(s, "info") == 0)
		*out = IWM_SEV_INFO;
	else {
		iwm_seterr("'%s' is not a severity (info, warning, error)", s);
		return -1;
	}
	return 0;
}

void
iwm_finding_add(struct iwm_findings *f, enum iwm_sev sev, const char *cat,
    const char *obj, const char *fmt, ...)
{
	struct iwm_finding x;
	struct iwm_buf b = { 0 };
	va_list ap;
	size_t i;
	int n;

	for (i = 0; i < f->nignore; i++)
		if (strcmp(f->ignore[i], cat) == 0)
			return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	iwm_buf_grow(&b, (size_t)(n > 0 ? n : 0));
	va_start(ap, fmt);
	vsnprintf(b.ptr, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	x.sev = sev;
	x.seq = f->n;
	x.category = iwm_strdup(cat);
	x.object = iwm_strdup(obj);
	x.message = iwm_buf_steal(&b);
	f->v = iwm_reallocarray(f->v, f->n + 1, sizeof(x));
	f->v[f->n++] = x;
}

static int
cmp_finding(const void *a, const void *b)
{
	const struct iwm_finding *x = a, *y = b;

	if (x->sev != y->sev)
		return (int)x->sev - (int)y->sev;
	/* Stable: findings of one severity keep the order found. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
iwm_findings_sort(struct iwm_findings *f)
{
	qsort(f->v, f->n, sizeof(*f->v), cmp_finding);
}

void
iwm_findings_free(struct iwm_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].category);
		free(f->v[i].object);
		free(f->v[i].message);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* How many fixed words each kind has, and whether TEXT follows. */
static const struct {
	const char *kind;
	int words;
	int text;
} kinds[] = {
	{ "content-file", 2, 0 }, { "content-action", 1, 1 },
	{ "rule-var", 2, 0 }, { "rule-action", 1, 1 },
	{ "ftp-var", 2, 0 }, { "task-file", 2, 0 },
	{ "avfilter-file", 2, 0 }, { "dblist-var", 2, 0 },
	{ "adsync-file", 1, 0 }, { "voip-localnet", 2, 0 },
	{ "path-check", 2, 1 }, { "nonempty", 2, 1 }, { "preserve", 1, 1 },
};

static char *
word(char **p)
{
	char *s = *p, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	for (e = s; *e != '\0' && *e != ' ' && *e != '\t'; e++)
		;
	*p = e;
	return iwm_strndup(s, (size_t)(e - s));
}

int
iwm_depsconf_load(struct iwm_depsconf *c, const char *file)
{
	struct iwm_lines l;
	char *line;
	size_t len, k;
	int rc;

	memset(c, 0, sizeof(*c));
	if (iwm_lines_open(&l, file) == -1)
		return -1;
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		struct iwm_depsitem it = { 0 };
		char *p = line, *status;
		int i;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		it.kind = word(&p);
		for (k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
			if (strcmp(kinds[k].kind, it.kind) == 0)
				break;
		status = word(&p);
		if (k == sizeof(kinds) / sizeof(*kinds) || status == NULL ||
		    (strcmp(status, "observed") != 0 &&
		    strcmp(status, "assumed") != 0)) {
			iwm_seterr("%s:%llu: %s", file,
			    (unsigned long long)l.lineno, status == NULL ?
			    "expected KIND STATUS ..." :
			    k == sizeof(kinds) / sizeof(*kinds) ?
			    "unknown kind" : "STATUS must be observed or "
			    "assumed");
			free(it.kind);
			free(status);
			goto bad;
		}
		free(status);
		for (i = 0; i < kinds[k].words; i++)
			if ((it.w[i] = word(&p)) == NULL) {
				iwm_seterr("%s:%llu: %s needs %d words", file,
				    (unsigned long long)l.lineno, it.kind,
				    kinds[k].words);
				free(it.kind);
				free(it.w[0]);
				goto bad;
			}
		while (*p == ' ' || *p == '\t')
			p++;
		if (kinds[k].text)
			it.text = iwm_strdup(*p != '\0' ? p : it.w[0]);
		else if (*p != '\0') {
			iwm_seterr("%s:%llu: unexpected '%s'", file,
			    (unsigned long long)l.lineno, p);
			free(it.kind);
			free(it.w[0]);
			free(it.w[1]);
			goto bad;
		}
		c->v = iwm_reallocarray(c->v, c->n + 1, sizeof(it));
		c->v[c->n++] = it;
	}
	iwm_lines_close(&l);
	return rc;
bad:
	iwm_lines_close(&l);
	iwm_depsconf_free(c);
	return -1;
}

void
iwm_depsconf_free(struct iwm_depsconf *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].kind);
		free(c->v[i].w[0]);
		free(c->v[i].w[1]);
		free(c->v[i].text);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* The audit's state while it runs. */
struct audit {
	const struct iwm_depsconf *conf;
	const struct iwm_tool	*tool;
	const struct iwm_pathmaps *maps;
	struct iwm_findings	*f;
	char			*configdir;	/* local, '/'-terminated */
	char			*installpath;	/* as the server reports it */
	const char		*dblist, *dblist_val;
	int			 skip[4];	/* export columns not to read */
	size_t			 nlists_db, nexec;
};

static const struct iwm_depsitem *
item(const struct audit *a, const char *kind, const char *w0)
{
	size_t i;

	for (i = 0; i < a->conf->n; i++)
		if (strcmp(a->conf->v[i].kind, kind) == 0 &&
		    (w0 == NULL || strcmp(a->conf->v[i].w[0], w0) == 0))
			return &a->conf->v[i];
	return NULL;
}

static int
is_true(const char *v)
{
	return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

/* Text of the first child element NAME of N, or NULL. */
static char *
child_text(xmlNode *n, const char *name)
{
	xmlNode *c;

	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcasecmp((const char *)c->name, name) == 0) {
			xmlChar *t = xmlNodeGetContent(c);
			char *s = iwm_strdup(t != NULL ? (char *)t : "");

			xmlFree(t);
			return s;
		}
	return NULL;
}

/* "pwd=secret;" or "password=secret;": the value is never shown. */
static size_t
secret_at(const char *v, size_t i)
{
	static const char *const keys[] = { "pwd=", "password=", "pass=" };
	size_t k;

	if (i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' && v[i - 1] != ',')
		return 0;
	for (k = 0; k < sizeof(keys) / sizeof(*keys); k++)
		if (strncasecmp(v + i, keys[k], strlen(keys[k])) == 0)
			return strlen(keys[k]);
	return 0;
}

/* Shorten a value for a message line; one line, secrets masked. */
static void
add_shown(struct iwm_buf *b, const char *v)
{
	size_t i, k, n = strlen(v);

	for (i = 0; i < n && i < 80; i++) {
		if ((k = secret_at(v, i)) > 0) {
			iwm_buf_add(b, v + i, k);
			iwm_buf_adds(b, "***");
			for (i += k; i < n && v[i] != ';' && v[i] != ',' &&
			    v[i] != ' '; i++)
				;
			i--;
			continue;
		}
		iwm_buf_addc(b, v[i] == '\n' || v[i] == '\t' || v[i] == '\r' ?
		    ' ' : v[i]);
	}
	if (n > 80)
		iwm_buf_adds(b, "...");
}

static void
add_value(struct iwm_buf *b, const char *v)
{
	if (*v == '\0')
		return;
	iwm_buf_adds(b, " (");
	add_shown(b, v);
	iwm_buf_addc(b, ')');
}

/* A value as messages show it; valid until the next call. */
static const char *
show(const char *v)
{
	static struct iwm_buf b;

	iwm_buf_reset(&b);
	add_shown(&b, v);
	return b.ptr != NULL ? b.ptr : "";
}
static char *
xml_error(void)
{
	const xmlError *e = xmlGetLastError();
	struct iwm_buf m = { 0 };

	iwm_buf_printf(&m, "not well-formed XML (line %d: %s): not checked; "
	    "check it by hand", e != NULL ? e->line : 0,
	    e != NULL && e->message != NULL ? e->message : "empty document");
	/* libxml2's messages end with a newline. */
	for (size_t i = 0; i < m.len; i++)
		if (m.ptr[i] == '\n')
			m.ptr[i] = ' ';
	while (m.len > 0 && m.ptr[m.len - 1] == ' ')
		m.ptr[--m.len] = '\0';
	return iwm_buf_steal(&m);
}

static xmlDoc *
parse_xml(struct audit *a, const char *text, size_t len, const char *cat,
    const char *obj)
{
	xmlDoc *doc = xmlReadMemory(text, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		char *m = xml_error();

		iwm_finding_add(a->f, IWM_SEV_WARNING, cat, obj, "%s", m);
		free(m);
		if (doc != NULL)
			xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static int
read_file(const char *path, struct iwm_buf *b, int *missing)
{
	FILE *fp = fopen(path, "r");
	char tmp[65536];
	size_t n;

	*missing = 0;
	if (fp == NULL) {
		if (errno == ENOENT) {
			*missing = 1;
			return 0;
		}
		iwm_seterr_errno("%s", path);
		return -1;
	}
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		iwm_buf_add(b, tmp, n);
	if (ferror(fp)) {
		iwm_seterr_errno("%s", path);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/*
 * Parse FILE of the config directory.  NULL with *RC 0: the file is
 * absent, or not XML (then a finding says so); NULL with *RC -1: it
 * could not be read, and the audit fails.
 */
static xmlDoc *
load_config_xml(struct audit *a, const char *file, const char *cat, int *rc)
{
	struct iwm_buf path = { 0 }, text = { 0 };
	xmlDoc *doc = NULL;
	int missing;

	*rc = 0;
	iwm_buf_printf(&path, "%s%s", a->configdir, file);
	if (read_file(path.ptr, &text, &missing) == -1)
		*rc = -1;
	else if (!missing)
		doc = parse_xml(a, text.ptr, text.len, cat, path.ptr);
	iwm_buf_free(&path);
	iwm_buf_free(&text);
	return doc;
}

/* Content filters: risky actions, warning when active, else info. */
static int
check_content(struct audit *a)
{
	const struct iwm_depsitem *cf = item(a, "content-file", NULL);
	xmlDoc *doc;
	xmlNode *n;
	int rc;

	if (cf == NULL ||
	    (doc = load_config_xml(a, cf->w[0], "content-filter", &rc)) == NULL)
		return cf == NULL ? 0 : rc;
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		struct iwm_buf acts = { 0 }, obj = { 0 };
		char *title, *active;
		xmlNode *c;

		if (n->type != XML_ELEMENT_NODE ||
		    strcasecmp((const char *)n->name, cf->w[1]) != 0)
			continue;
		for (c = n->children; c != NULL; c = c->next) {
			const struct iwm_depsitem *act;
			xmlChar *v;

			if (c->type != XML_ELEMENT_NODE ||
			    (act = item(a, "content-action",
			    (const char *)c->name)) == NULL)
				continue;
			v = xmlNodeGetContent(c);
			if (acts.len > 0)
				iwm_buf_adds(&acts, "; ");
			iwm_buf_adds(&acts, act->text);
			add_value(&acts, v != NULL ? (char *)v : "");
			xmlFree(v);
		}
		if (acts.len > 0) {
			title = child_text(n, "TITLE");
			active = child_text(n, "ACTIVE");
			iwm_buf_printf(&obj, "content filter '%s'",
			    title != NULL ? title : "(untitled)");
			if (is_true(active))
				iwm_finding_add(a->f, IWM_SEV_WARNING,
				    "content-filter", obj.ptr, "active; %s: "
				    "recreate what it uses on the target and "
				    "test it", acts.ptr);
			else
				iwm_finding_add(a->f, IWM_SEV_INFO,
				    "content-filter", obj.ptr, "inactive; %s",
				    acts.ptr);
			free(title);
			free(active);
		}
		iwm_buf_free(&acts);
		iwm_buf_free(&obj);
	}
	xmlFreeDoc(doc);
	return 0;
}

/*
 * What one rule XML text says: each rule with risky actions, or why the
 * text is not XML.  Many accounts carry the same rules (a template), so
 * the parse of a text is kept and reused: emitting findings from it is
 * cheap, parsing a document per account is not.
 */
struct rulesum {
	char	*title;
	int	 active;
	char	*acts;
};
struct ruleset {
	uint64_t	 hash;
	char		*xml;
	char		*error;		/* not well-formed: why */
	struct rulesum	*v;
	size_t		 n;
};
#define RULECACHE	256

static struct ruleset rulecache[RULECACHE];

static void
ruleset_clear(struct ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].title);
		free(rs->v[i].acts);
	}
	free(rs->v);
	free(rs->xml);
	free(rs->error);
	memset(rs, 0, sizeof(*rs));
}

static void
rulecache_free(void)
{
	size_t i;

	for (i = 0; i < RULECACHE; i++)
		ruleset_clear(&rulecache[i]);
}

static void
ruleset_parse(struct audit *a, const char *xml, struct ruleset *rs)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root, *r;

	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		rs->error = xml_error();
		if (doc != NULL)
			xmlFreeDoc(doc);
		return;
	}
	root = xmlDocGetRootElement(doc);
	/* <RULES><RULE>...</RULE></RULES>, or a lone <RULE>. */
	r = strcasecmp((const char *)root->name, "RULE") == 0 ? root :
	    root->children;
	for (; r != NULL; r = r == root ? NULL : r->next) {
		struct iwm_buf acts = { 0 };
		xmlNode *c, *it;
		char *active;

		if (r->type != XML_ELEMENT_NODE ||
		    strcasecmp((const char *)r->name, "RULE") != 0)
			continue;
		for (c = r->children; c != NULL; c = c->next) {
			if (c->type != XML_ELEMENT_NODE ||
			    strcasecmp((const char *)c->name, "ACTIONS") != 0)
				continue;
			for (it = c->children; it != NULL; it = it->next) {
				const struct iwm_depsitem *act;
				char *type, *val;

				if (it->type != XML_ELEMENT_NODE)
					continue;
				type = child_text(it, "ACTIONTYPE");
				act = type != NULL ? item(a, "rule-action",
				    type) : NULL;
				if (act != NULL) {
					val = child_text(it, "VALUE");
					if (acts.len > 0)
						iwm_buf_adds(&acts, "; ");
					iwm_buf_adds(&acts, act->text);
					add_value(&acts, val != NULL ? val : "");
					free(val);
				}
				free(type);
			}
		}
		if (acts.len > 0) {
			struct rulesum sum;

			sum.title = child_text(r, "TITLE");
			if (sum.title == NULL)
				sum.title = iwm_strdup("(untitled)");
			active = child_text(r, "ACTIVE");
			sum.active = is_true(active);
			free(active);
			sum.acts = iwm_buf_steal(&acts);
			rs->v = iwm_reallocarray(rs->v, rs->n + 1,
			    sizeof(*rs->v));
			rs->v[rs->n++] = sum;
		}
		iwm_buf_free(&acts);
	}
	xmlFreeDoc(doc);
}

/* FNV-1a: cheap, and good enough to pick a cache slot. */
static uint64_t
hash_text(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* One level's rule XML: same actions, same severities as filters. */
static void
check_rules(struct audit *a, const char *level, const char *owner,
    const char *xml)
{
	struct ruleset *rs;
	uint64_t h;
	size_t i;

	if (xml == NULL || *xml == '\0')
		return;
	h = hash_text(xml);
	rs = &rulecache[h % RULECACHE];
	if (rs->xml == NULL || rs->hash != h || strcmp(rs->xml, xml) != 0) {
		ruleset_clear(rs);
		rs->hash = h;
		rs->xml = iwm_strdup(xml);
		ruleset_parse(a, xml, rs);
	}
	if (rs->error != NULL) {
		struct iwm_buf obj = { 0 };

		if (owner != NULL)
			iwm_buf_printf(&obj, "%s rules of %s", level, owner);
		else
			iwm_buf_printf(&obj, "%s rules", level);
		iwm_finding_add(a->f, IWM_SEV_WARNING, "rule", obj.ptr, "%s",
		    rs->error);
		iwm_buf_free(&obj);
		return;
	}
	for (i = 0; i < rs->n; i++) {
		const struct rulesum *r = &rs->v[i];
		struct iwm_buf o = { 0 };

		iwm_buf_printf(&o, "%s rule '%s'%s%s", level, r->title,
		    owner != NULL ? " of " : "", owner != NULL ? owner : "");
		if (r->active)
			iwm_finding_add(a->f, IWM_SEV_WARNING, "rule", o.ptr,
			    "active; %s: recreate what it uses on the target "
			    "and test it", r->acts);
		else
			iwm_finding_add(a->f, IWM_SEV_INFO, "rule", o.ptr,
			    "inactive; %s", r->acts);
		iwm_buf_free(&o);
	}
}

static void
check_ftp(struct audit *a, const char *level, const char *owner,
    const char *v)
{
	struct iwm_buf o = { 0 };

	if (v == NULL || *v == '\0')
		return;
	iwm_buf_printf(&o, "%s FTP settings%s%s", level, owner != NULL ?
	    " of " : "", owner != NULL ? owner : "");
	iwm_finding_add(a->f, IWM_SEV_WARNING, "ftp", o.ptr, "FTP site "
	    "configured: its folders and accounts are not migrated; set it "
	    "up on the target");
	iwm_buf_free(&o);
}

/* Tasks and external AV filters: any one found is a warning. */
static int
check_listfile(struct audit *a, const char *kind, const char *cat,
    const char *what, const char *todo)
{
	const struct iwm_depsitem *it = item(a, kind, NULL);
	xmlDoc *doc;
	xmlNode *n;
	int rc;

	if (it == NULL || (doc = load_config_xml(a, it->w[0], cat, &rc)) == NULL)
		return it == NULL ? 0 : rc;
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		struct iwm_buf o = { 0 };
		char *title, *active, *enabled;

		if (n->type != XML_ELEMENT_NODE ||
		    strcasecmp((const char *)n->name, it->w[1]) != 0)
			continue;
		title = child_text(n, "TITLE");
		active = child_text(n, "ACTIVE");
		enabled = child_text(n, "ENABLED");
		iwm_buf_printf(&o, "%s '%s'", what, title != NULL ? title :
		    "(untitled)");
		iwm_finding_add(a->f, IWM_SEV_WARNING, cat, o.ptr, "%s%s",
		    (active != NULL && !is_true(active)) ||
		    (enabled != NULL && !is_true(enabled)) ? "(inactive) " :
		    "", todo);
		free(title);
		free(active);
		free(enabled);
		iwm_buf_free(&o);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* More than one directory-synchronised domain is an error. */
static int
check_adsync(struct audit *a)
{
	const struct iwm_depsitem *it = item(a, "adsync-file", NULL);
	struct iwm_buf names = { 0 };
	xmlDoc *doc;
	xmlNode *n;
	int rc, count = 0;

	if (it == NULL ||
	    (doc = load_config_xml(a, it->w[0], "directory-sync", &rc)) == NULL)
		return it == NULL ? 0 : rc;
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		char *dom, *active;

		if (n->type != XML_ELEMENT_NODE ||
		    strcasecmp((const char *)n->name, "DOMAIN") != 0)
			continue;
		dom = child_text(n, "DOMAIN");
		active = child_text(n, "ACTIVE");
		if (is_true(active)) {
			if (count++ > 0)
				iwm_buf_adds(&names, ", ");
			iwm_buf_adds(&names, dom != NULL ? dom : "?");
		}
		free(dom);
		free(active);
	}
	xmlFreeDoc(doc);
	if (count > 1)
		iwm_finding_add(a->f, IWM_SEV_ERROR, "directory-sync",
		    names.ptr, "%d domains are synchronised with a directory "
		    "service; only one is supported: keep one and set up "
		    "the others on the target after the migration", count);
	else if (count == 1)
		iwm_finding_add(a->f, IWM_SEV_INFO, "directory-sync",
		    names.ptr, "synchronised with a directory service: give "
		    "the target's directory credentials for the restore");
	iwm_buf_free(&names);
	return 0;
}

static int
account_row(void *arg, char **f, size_t nf)
{
	struct audit *a = arg;
	long type = -1;

	/* fields: email, u_type, rules, ftp, dblist */
	(void)iwm_parse_int(f[1], -1000, 1000, &type);
	if (type == 2) {
		a->nexec++;
		iwm_finding_add(a->f, IWM_SEV_WARNING, "executable", f[0],
		    "executable account: the program it runs is not "
		    "migrated; install it on the target");
	}
	if (type == 1 && a->dblist != NULL && !a->skip[3] &&
	    strcmp(f[4], a->dblist_val) == 0) {
		a->nlists_db++;
		iwm_finding_add(a->f, IWM_SEV_WARNING, "mailing-list", f[0],
		    "members come from a database: make that database "
		    "reachable from the target and check the list");
	}
	if (!a->skip[1])
		check_rules(a, "user", f[0], f[2]);
	if (!a->skip[2])
		check_ftp(a, "user", f[0], f[3]);
	(void)nf;
	return 0;
}

static int
remote_row(void *arg, char **f, size_t nf)
{
	struct audit *a = arg;

	if (!a->skip[0])
		check_rules(a, "remote account", f[0], f[1]);
	return 0;
}

static int
domain_row(void *arg, char **f, size_t nf)
{
	struct audit *a = arg;

	if (!a->skip[0])
		check_rules(a, "domain", f[0], f[1]);
	if (!a->skip[1])
		check_ftp(a, "domain", f[0], f[2]);
	(void)nf;
	return 0;
}

/* Absolute outside the install dir: error; inside: warning; else ok. */
static void
check_path(struct audit *a, const struct iwm_depsitem *it, const char *v,
    const char *enable)
{
	if (v == NULL || *v == '\0')
		return;
	if (enable != NULL && !is_true(enable)) {
		iwm_finding_add(a->f, IWM_SEV_INFO, "path", it->text,
		    "%s is set to %s but disabled", it->w[0], show(v));
		return;
	}
	if (!iwm_path_is_absolute(v))
		iwm_finding_add(a->f, IWM_SEV_INFO, "path", it->text,
		    "relative path %s: it moves with the installation", show(v));
	else if (a->installpath != NULL && *a->installpath != '\0' &&
	    iwm_path_under(v, a->installpath))
		iwm_finding_add(a->f, IWM_SEV_WARNING, "path", it->text,
		    "absolute path %s inside the install directory: check "
		    "that it matches the target's install directory", show(v));
	else
		iwm_finding_add(a->f, IWM_SEV_ERROR, "path", it->text,
		    "absolute path %s outside the install directory: it is "
		    "not migrated; create it on the target or change %s",
		    show(v), it->w[0]);
}

/*
 * Get system variables in one call; when the tool refuses (a variable
 * this IceWarp version does not know), ask one by one so one stale name
 * in deps.conf costs a finding, not the audit.
 */
static int
get_system(struct audit *a, const char **vars, size_t n, char **vals)
{
	size_t i;

	if (iwm_tool_get_system(a->tool, vars, n, vals) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (iwm_tool_get_system(a->tool, &vars[i], 1, &vals[i]) == 0)
			continue;
		if (i == 0)
			return -1;	/* the tool itself does not work */
		iwm_finding_add(a->f, IWM_SEV_WARNING, "audit", vars[i],
		    "the tool does not know this variable (%s): correct "
		    "deps.conf for this IceWarp version", iwm_err());
		vals[i] = NULL;
	}
	return 0;
}

static int
noop_row(void *arg, char **f, size_t nf)
{
	return 0;
}

/*
 * One export with every column; when the tool refuses it, find the
 * variables it does not know (one small export each), report them, read
 * SAFE in their place and skip those columns: a stale name in deps.conf
 * costs a finding, not the audit.
 */
static int
export_checked(struct audit *a, const char *kind, const char *pattern,
    const char **vars, size_t nvars, const char *safe, iwm_export_cb cb)
{
	size_t i, before = a->f->n;

	memset(a->skip, 0, sizeof(a->skip));
	if (iwm_tool_export(a->tool, kind, pattern, vars, nvars, cb, a) == 0)
		return 0;
	/* Findings of a half-read export would come twice. */
	while (a->f->n > before) {
		struct iwm_finding *x = &a->f->v[--a->f->n];

		free(x->category);
		free(x->object);
		free(x->message);
	}
	for (i = 0; i < nvars; i++) {
		if (strcasecmp(vars[i], safe) == 0 ||
		    iwm_tool_export(a->tool, kind, pattern, &vars[i], 1,
		    noop_row, NULL) == 0)
			continue;
		iwm_finding_add(a->f, IWM_SEV_WARNING, "audit", vars[i],
		    "the tool does not export this %s variable (%s): not "
		    "checked; correct deps.conf for this IceWarp version",
		    kind, iwm_err());
		vars[i] = safe;
		a->skip[i] = 1;
	}
	return iwm_tool_export(a->tool, kind, pattern, vars, nvars, cb, a);
}

static const char *
sysval(const char **vars, char **vals, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(vars[i], name) == 0)
			return vals[i];
	return NULL;
}

int
iwm_deps_audit(const struct iwm_depsconf *conf, const struct iwm_tool *tool,
    const struct iwm_pathmaps *maps, struct iwm_findings *f)
{
	struct audit a = { 0 };
	const char **vars = NULL;
	char **vals = NULL;
	const char *avars[4], *dvars[2];
	size_t i, n = 0;
	int rc = -1;

	a.conf = conf;
	a.tool = tool;
	a.maps = maps;
	a.f = f;
	/* Every system variable the checks read, in one tool call. */
	vars = iwm_calloc(conf->n * 2 + 2, sizeof(*vars));
	vals = iwm_calloc(conf->n * 2 + 2, sizeof(*vals));
	vars[n++] = "C_InstallPath";
	vars[n++] = "C_ConfigPath";
	for (i = 0; i < conf->n; i++) {
		const struct iwm_depsitem *it = &conf->v[i];

		if ((strcmp(it->kind, "rule-var") == 0 ||
		    strcmp(it->kind, "ftp-var") == 0) &&
		    (strcmp(it->w[0], "global") == 0 ||
		    strcmp(it->w[0], "system") == 0))
			vars[n++] = it->w[1];
		else if (strcmp(it->kind, "voip-localnet") == 0 ||
		    strcmp(it->kind, "nonempty") == 0)
			vars[n++] = it->w[0];
		else if (strcmp(it->kind, "path-check") == 0) {
			vars[n++] = it->w[0];
			if (strcmp(it->w[1], "-") != 0)
				vars[n++] = it->w[1];
		}
	}
	if (get_system(&a, vars, n, vals) == -1)
		goto out;
	a.installpath = vals[0];
	if (vals[1] == NULL && vals[0] != NULL) {
		/* As scripts do: path.dat's first line, else <install>/config. */
		char *inst = iwm_path_localize(maps, vals[0]);
		struct iwm_buf pd = { 0 }, text = { 0 };
		int missing = 1;

		if (inst == NULL)
			goto out;
		iwm_buf_printf(&pd, "%spath.dat", inst);
		if (read_file(pd.ptr, &text, &missing) == 0 && !missing &&
		    text.len > 0 && text.ptr[0] != '\n' && text.ptr[0] != '\r')
			vals[1] = iwm_strndup(text.ptr, strcspn(text.ptr, "\r\n"));
		else {
			iwm_buf_reset(&pd);
			iwm_buf_printf(&pd, "%sconfig/", inst);
			vals[1] = iwm_strdup(pd.ptr);
		}
		free(inst);
		iwm_buf_free(&pd);
		iwm_buf_free(&text);
	}
	if (vals[1] == NULL) {
		iwm_seterr("the tool reports neither C_ConfigPath nor "
		    "C_InstallPath");
		goto out;
	}
	if ((a.configdir = iwm_path_localize(maps, vals[1])) == NULL)
		goto out;
	/* The system-level checks, in the order of the data file. */
	for (i = 0; i < conf->n; i++) {
		const struct iwm_depsitem *it = &conf->v[i];
		int global = strcmp(it->kind, "rule-var") == 0 ||
		    strcmp(it->kind, "ftp-var") == 0;
		const char *v = sysval(vars, vals, n, global ? it->w[1] :
		    it->w[0]);
		const char *en = strcmp(it->kind, "path-check") == 0 ?
		    sysval(vars, vals, n, it->w[1]) : NULL;

		if (strcmp(it->kind, "rule-var") == 0 &&
		    strcmp(it->w[0], "global") == 0)
			check_rules(&a, "global", NULL, v);
		else if (strcmp(it->kind, "ftp-var") == 0 &&
		    strcmp(it->w[0], "system") == 0)
			check_ftp(&a, "system", NULL, v);
		else if (strcmp(it->kind, "voip-localnet") == 0 && v != NULL &&
		    strcmp(v, strcmp(it->w[1], "-") == 0 ? "" : it->w[1]) != 0)
			iwm_finding_add(f, IWM_SEV_WARNING, "voip", it->w[0],
			    "VoIP local network %s differs from the default: "
			    "the target keeps its own; set it there if it "
			    "should match", show(v));
		else if (strcmp(it->kind, "path-check") == 0)
			check_path(&a, it, v, en);
		else if (strcmp(it->kind, "nonempty") == 0 && v != NULL &&
		    *v != '\0')
			iwm_finding_add(f, IWM_SEV_WARNING, it->w[1], it->text,
			    "%s is set (%s): it is not migrated; set it up on "
			    "the target", it->w[0], show(v));
		else if (strcmp(it->kind, "preserve") == 0)
			iwm_finding_add(f, IWM_SEV_INFO, "preserved", it->w[0],
			    "the target keeps its own %s; the source's is not "
			    "migrated", it->text);
	}
	if (check_content(&a) == -1 || check_adsync(&a) == -1 ||
	    check_listfile(&a, "task-file", "task", "scheduled task",
	    "scheduled tasks are not migrated; recreate it on the target") ==
	    -1 || check_listfile(&a, "avfilter-file", "av-filter",
	    "external antivirus filter", "external filters are not migrated; "
	    "install and configure it on the target") == -1)
		goto out;
	/* Domains and accounts: one export each, never a call per item. */
	{
		const struct iwm_depsitem *dr = item(&a, "rule-var", "domain");
		const struct iwm_depsitem *df = item(&a, "ftp-var", "domain");
		const struct iwm_depsitem *ur = item(&a, "rule-var", "user");
		const struct iwm_depsitem *uf = item(&a, "ftp-var", "user");
		const struct iwm_depsitem *dl = item(&a, "dblist-var", NULL);
		const struct iwm_depsitem *rr = item(&a, "rule-var", "remote");

		dvars[0] = dr != NULL ? dr->w[1] : "D_RulesContentXML";
		dvars[1] = df != NULL ? df->w[1] : "D_FTP_DomainSettings";
		if (export_checked(&a, "domain", "*", dvars, 2, "d_type",
		    domain_row) == -1)
			goto out;
		a.dblist = dl != NULL ? dl->w[0] : NULL;
		a.dblist_val = dl != NULL ? dl->w[1] : NULL;
		/* Remote accounts' rules (RA_RulesContentXML), keyed by name. */
		if (rr != NULL) {
			const char *rvars[1] = { rr->w[1] };

			if (export_checked(&a, "remoteaccount", "*", rvars, 1,
			    "ra_name", remote_row) == -1)
				goto out;
		}
		avars[0] = "u_type";
		avars[1] = ur != NULL ? ur->w[1] : "U_RulesContentXML";
		avars[2] = uf != NULL ? uf->w[1] : "U_FTP_UserSettings";
		avars[3] = a.dblist != NULL ? a.dblist : "M_SendAllLists";
		if (export_checked(&a, "account", "*@*", avars, 4, "u_type",
		    account_row) == -1)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
	free(vars);
	free(a.configdir);
	rulecache_free();
	return rc;
}
