/*
 * tool.c: what D/tool.sh runs. Output formats are those of the real tool:
 * `Name: value` lines for get (and display), `key,val1,val2,` CSV lines
 * (trailing comma) for export. Names are case-insensitive and echoed as
 * the caller gave them. Every name must be a variable of the object in
 * tests/iwsim/vars (the public API constants), else the command fails;
 * its flags ([R] [W] [D]) rule set, get and `*`. Domains and accounts are
 * read and written in the accounts database (store.c).
 */
#include "iwsim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct tool {
	struct store st;
	const char *cmd;
	int pass_policy; /* -1 not read yet */
};

static _Noreturn void
tool_usage(const char *why)
{
	if (why)
		fprintf(stderr, "tool: %s\n", why);
	fputs("usage: tool.sh get|display system VAR...|*\n"
	      "       tool.sh get account|domain|remoteaccount KEY VAR...\n"
	      "       tool.sh set|modify system VAR VALUE [VAR VALUE]...\n"
	      "       tool.sh set|modify account|domain|remoteaccount KEY|PATTERN VAR VALUE [VAR VALUE]...\n"
	      "       tool.sh export account|domain|remoteaccount PATTERN [VAR]...\n"
	      "       tool.sh create account|domain|remoteaccount KEY [VAR VALUE]...\n"
	      "       tool.sh create tables N CONNECTION\n"
	      "       tool.sh delete account|domain|remoteaccount KEY|PATTERN\n"
	      "       tool.sh import account|domain|remoteaccount FILE VAR...\n",
	      stderr);
	exit(IWSIM_EX_USAGE);
}

static _Noreturn void
fail(struct tool *t, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static _Noreturn void
fail(struct tool *t, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("tool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (code)
		fprintf(stderr, " (error %d)", code);
	fputc('\n', stderr);
	fflush(stdout);
	if (t && t->st.db)
		sqlite3_exec(t->st.db, "ROLLBACK", NULL, NULL, NULL);
	exit(1);
}

/*
 * The service switches (icewarp-facts-control.md, section 1) and the
 * watchdog flags: every `set system` of one is a line of .iwsim/events.log.
 */
static const char *const switches[] = {
	"C_Mail_SMTP_Active", "C_Mail_POP_Active", "C_Mail_IMAP_Active", "C_Mail_Control_Active",
	"C_Mail_Control_DisableWeb", "C_GW_General_Disable", "C_IM_General_Disable",
	"C_System_Services_SIP_Enable", "C_SMSService_Active", "C_FTPService_Active",
	"C_System_Services_LDAP_Enable", "C_System_Services_Socks_Enabled", "C_System_Services_Minger_Enabled",
	"C_Webmail_Active", "C_ActiveSync_Active", "C_PushServer_Active", "C_WebDAV_Active", "C_Proxy_Active",
	"C_Meeting_Active", "C_TeamChat_Active", "C_WebDocuments_Enabled", "C_System_Services_Fulltext_Enabled",
	"C_AS_General_Enable", "C_System_Tools_WatchDog_SMTP", "C_System_Tools_WatchDog_POP3",
	"C_System_Tools_WatchDog_IM", "C_System_Tools_Watchdog_GW", "C_System_Tools_Watchdog_Control",
};

static const char *
switch_name(const char *name)
{
	for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++)
		if (strcasecmp(switches[i], name) == 0)
			return switches[i];
	return NULL;
}

/* One line appended to DIR/.iwsim/events.log (tests read it, iwm never does). */
void
tool_event(const char *phys, const char *fmt, ...)
{
	struct buf path = {0}, line = {0};
	va_list ap;
	char tmp[4096];
	int fd;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	buf_printf(&line, "%s\n", tmp);
	buf_printf(&path, "%s/.iwsim/events.log", phys);
	fd = open(buf_str(&path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line.p, line.len) != (ssize_t)line.len)
		util_warn("%s: %s", buf_str(&path), strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	buf_free(&line);
}

static int
kind_of(const char *s)
{
	if (strcasecmp(s, "system") == 0)
		return 's';
	if (strcasecmp(s, "domain") == 0)
		return 'd';
	if (strcasecmp(s, "account") == 0)
		return 'a';
	if (strcasecmp(s, "remoteaccount") == 0)
		return 'r';
	return 0;
}

static const char *
kind_name(int kind)
{
	return kind == 'd' ? "domain" : kind == 'a' ? "account" : "remoteaccount";
}

static int
is_backup(int kind, const char *lname)
{
	return (kind == 'a' && strcmp(lname, "u_backup") == 0) || (kind == 'd' && strcmp(lname, "d_backup") == 0) ||
	       (kind == 'r' && strcmp(lname, "ra_backup") == 0);
}

/* Computed, read-only variables (the backups are computed but writable). */
static int
is_computed(int kind, const char *l)
{
	if (is_backup(kind, l))
		return 1;
	if (kind == 'a')
		return strcmp(l, "u_alias") == 0 || strcmp(l, "u_mailbox") == 0 || strcmp(l, "u_domain") == 0 ||
		       strcmp(l, "u_email") == 0 || strcmp(l, "u_fullmailboxpath") == 0;
	if (kind == 'd')
		return strcmp(l, "d_name") == 0;
	return strcmp(l, "ra_name") == 0;
}

/* Value of a computed variable (malloc'd). */
static char *
computed(struct tool *t, int kind, int64_t id, const char *dom, const char *name, const char *l, const char *mbpath)
{
	struct buf b = {0};

	if (is_backup(kind, l)) {
		if (store_backup(&t->st, kind, id, &b) != 0)
			fail(t, IWSIM_API_FAIL, "%s: cannot back up", name);
		return b.p ? b.p : util_xstrdup("");
	}
	if (strcmp(l, "u_domain") == 0 || strcmp(l, "d_name") == 0)
		return util_xstrdup(dom);
	if (strcmp(l, "u_email") == 0) {
		buf_printf(&b, "%s@%s", name, dom);
		return b.p;
	}
	if (strcmp(l, "u_fullmailboxpath") == 0)
		return store_fullpath(&t->st, dom, name, mbpath);
	return util_xstrdup(name); /* u_alias, u_mailbox, ra_name */
}

/* CSV field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
static void
csv_put(const char *v)
{
	if (!util_has_ctl(v)) {
		fputs(v, stdout);
		return;
	}
	putchar('"');
	for (; *v; v++) {
		if (*v == '"')
			putchar('"');
		putchar(*v);
	}
	putchar('"');
}

static int
has_wild(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/*
 * WHERE fragment selecting the objects of KIND matched by PATTERN (exact key,
 * or a glob over the lower-case key); binds :pd :pn :pg.
 */
struct pat {
	char *dom, *name, *glob;
};

/* Column expression E of the object table aliased o (literals as they are). */
static void
oc(struct buf *b, const char *e)
{
	if (e[0] == '\'' || strcmp(e, "NULL") == 0)
		buf_puts(b, e);
	else
		buf_printf(b, "o.%s", e);
}

static int
pat_sql(int kind, const char *pattern, struct buf *sql, struct pat *p)
{
	const struct kdesc *k = store_kind(kind);
	char *lp = util_lower(pattern);

	memset(p, 0, sizeof *p);
	buf_puts(sql, " WHERE 1");
	if (strcmp(lp, "*") == 0 || (kind == 'a' && strcmp(lp, "*@*") == 0)) {
		free(lp);
		return 0;
	}
	if (!has_wild(lp)) {
		if (kind == 'a') {
			char *at = strrchr(lp, '@');

			if (at == NULL || at == lp || at[1] == '\0') {
				free(lp);
				return -1;
			}
			*at = '\0';
			p->name = util_xstrdup(lp);
			p->dom = util_xstrdup(at + 1);
		} else {
			p->dom = util_xstrdup(kind == 'd' ? lp : "");
			p->name = util_xstrdup(kind == 'd' ? "" : lp);
		}
		buf_puts(sql, " AND ");
		oc(sql, k->dom);
		buf_puts(sql, " = :pd AND ");
		oc(sql, k->name);
		buf_puts(sql, " = :pn");
		free(lp);
		return 0;
	}
	p->glob = lp;
	buf_puts(sql, " AND (");
	if (kind == 'a') {
		oc(sql, k->name);
		buf_puts(sql, " || '@' || ");
	}
	oc(sql, kind == 'r' ? k->name : k->dom);
	buf_puts(sql, ") GLOB :pg");
	return 0;
}

/* " ORDER BY dom, name" of the object table o. */
static void
order_sql(int kind, struct buf *sql)
{
	const struct kdesc *k = store_kind(kind);

	buf_puts(sql, " ORDER BY ");
	oc(sql, kind == 'r' ? k->name : k->dom);
	if (kind == 'a') {
		buf_puts(sql, ", ");
		oc(sql, k->name);
	}
}

static void
pat_bind(sqlite3_stmt *s, struct pat *p)
{
	if (p->dom)
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":pd"), p->dom, -1, SQLITE_STATIC);
	if (p->name)
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":pn"), p->name, -1, SQLITE_STATIC);
	if (p->glob)
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":pg"), p->glob, -1, SQLITE_STATIC);
}

static void
pat_free(struct pat *p)
{
	free(p->dom);
	free(p->name);
	free(p->glob);
}

/* Ids of the objects matched; an exact key that matches nothing is an error. */
static int64_t *
collect(struct tool *t, int kind, const char *pattern, size_t *n)
{
	struct buf sql = {0};
	struct pat p;
	sqlite3_stmt *s;
	int64_t *ids = NULL;
	size_t cap = 0;

	*n = 0;
	buf_printf(&sql, "SELECT o.%s FROM %s o", store_kind(kind)->id, store_kind(kind)->tab);
	if (pat_sql(kind, pattern, &sql, &p) != 0)
		fail(t, IWSIM_API_FAIL, "%s: not a valid %s", pattern, kind_name(kind));
	order_sql(kind, &sql);
	s = store_prep(&t->st, buf_str(&sql));
	if (s == NULL)
		fail(t, IWSIM_API_FAIL, "state error");
	pat_bind(s, &p);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = util_xrealloc(ids, cap * sizeof *ids);
		}
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (*n == 0 && !has_wild(pattern))
		fail(t, IWSIM_API_FAIL, "%s %s does not exist", kind_name(kind), pattern);
	pat_free(&p);
	buf_free(&sql);
	return ids;
}

static void
obj_key(struct tool *t, int kind, int64_t id, char **dom, char **name)
{
	if (store_obj_key(&t->st, kind, id, dom, name) != 0)
		fail(t, IWSIM_API_FAIL, "object vanished");
}

/* The definition of NAME as a variable of KIND; anything else fails as on a real server. */
static void
var_check(struct tool *t, int kind, const char *name, struct vdef *d)
{
	if (store_vdef(&t->st, name, d) != 0 || d->kind != kind)
		fail(t, IWSIM_API_FAIL, "%s: unknown %s variable", name, kind == 's' ? "system" : kind_name(kind));
}

static int
has_flag(const struct vdef *d, char f)
{
	return strchr(d->flags, f) != NULL;
}

/* u_password is exported only under the policy scripts set first (icewarp-facts.md). */
static int
pass_exportable(struct tool *t)
{
	char *deny = NULL, *allow = NULL;
	int ok;

	if (t->pass_policy >= 0)
		return t->pass_policy;
	ok = store_sys_get(&t->st, "C_Accounts_Policies_Pass_DenyExport", &deny) == 0 &&
	     store_sys_get(&t->st, "C_Accounts_Policies_Pass_AllowAdminPass", &allow) == 0 &&
	     strcmp(deny, "0") == 0 && strcmp(allow, "1") == 0;
	free(deny);
	free(allow);
	t->pass_policy = ok;
	return ok;
}

/* Names of the variables of KIND a `*` lists: neither [D] nor [W]. */
static char **
star_vars(struct tool *t, int kind, int *n)
{
	char k[2] = {(char)kind, 0};
	sqlite3_stmt *s = store_prep(&t->st, "SELECT name FROM vdef WHERE kind = ?1 AND instr(flags, 'D') = 0"
					     " AND instr(flags, 'W') = 0 ORDER BY seq");
	char **v = NULL;
	int cap = 0;

	*n = 0;
	if (s == NULL)
		fail(t, IWSIM_API_FAIL, "state error");
	sqlite3_bind_text(s, 1, k, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			v = util_xrealloc(v, (size_t)cap * sizeof *v);
		}
		v[(*n)++] = util_xstrdup((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	return v;
}

static void
cmd_get(struct tool *t, int kind, int argc, char **argv)
{
	struct vdef d;

	if (kind == 's') {
		char **vals;

		if (argc < 1)
			tool_usage("get system: no variable");
		if (argc == 1 && strcmp(argv[0], "*") == 0) {
			int n;
			char **all = star_vars(t, 's', &n);

			cmd_get(t, 's', n, all);
			for (int i = 0; i < n; i++)
				free(all[i]);
			free(all);
			return;
		}
		vals = util_xmalloc((size_t)argc * sizeof *vals);
		/* All or nothing: an unknown name fails the whole call. */
		for (int i = 0; i < argc; i++) {
			var_check(t, 's', argv[i], &d);
			if (has_flag(&d, 'W'))
				vals[i] = util_xstrdup("");
			else if (store_sys_get(&t->st, argv[i], &vals[i]) != 0)
				fail(t, IWSIM_API_FAIL, "get system: unknown variable %s", argv[i]);
		}
		for (int i = 0; i < argc; i++) {
			printf("%s: %s\n", argv[i], vals[i]);
			free(vals[i]);
		}
		free(vals);
		return;
	}
	if (argc < 2)
		tool_usage("get: no key or variable");
	if (argc == 2 && strcmp(argv[1], "*") == 0) {
		int n;
		char **all = star_vars(t, kind, &n), **av = util_xmalloc(((size_t)n + 1) * sizeof *av);

		av[0] = argv[0];
		for (int i = 0; i < n; i++)
			av[i + 1] = all[i];
		cmd_get(t, kind, n + 1, av);
		for (int i = 0; i < n; i++)
			free(all[i]);
		free(all);
		free(av);
		return;
	}
	{
		int64_t id = store_obj_id(&t->st, kind, argv[0]);
		char *dom, *name, *mb;

		if (id <= 0)
			fail(t, IWSIM_API_FAIL, "%s %s does not exist", kind_name(kind), argv[0]);
		for (int i = 1; i < argc; i++)
			var_check(t, kind, argv[i], &d);
		obj_key(t, kind, id, &dom, &name);
		mb = kind == 'a' ? store_var_get(&t->st, kind, id, "u_mailboxpath") : NULL;
		for (int i = 1; i < argc; i++) {
			char *l = util_lower(argv[i]);
			char *v;

			var_check(t, kind, argv[i], &d);
			if (has_flag(&d, 'W') || (strcmp(l, "u_password") == 0 && !pass_exportable(t)))
				v = NULL;
			else if (is_computed(kind, l))
				v = computed(t, kind, id, dom, name, l, mb);
			else
				v = store_var_get(&t->st, kind, id, l);
			printf("%s: %s\n", argv[i], v ? v : d.numeric && !has_flag(&d, 'W') ? "0" : "");
			free(v);
			free(l);
		}
		free(mb);
		free(dom);
		free(name);
	}
}

/* One query for all rows: a LEFT JOIN per stored variable asked for. */
static void
cmd_export(struct tool *t, int kind, int argc, char **argv)
{
	struct buf sql = {0};
	struct pat p;
	sqlite3_stmt *s;
	char **l;
	const char **dflt;
	const struct kdesc *k = store_kind(kind);
	int *col, *jn, nj = 0, nsel = 0;
	size_t nrow = 0;

	if (kind == 's' || argc < 1)
		tool_usage("export: account, domain or remoteaccount and a pattern");
	argc--;
	argv++;
	if (argc > IWSIM_MAX_VARS)
		tool_usage("export: too many variables");
	l = util_xmalloc(((size_t)argc + 1) * sizeof *l);
	col = util_xmalloc(((size_t)argc + 1) * sizeof *col);
	dflt = util_xmalloc(((size_t)argc + 1) * sizeof *dflt);
	jn = util_xmalloc(((size_t)argc + 1) * sizeof *jn);
	for (int i = 0; i < argc; i++)
		jn[i] = -1;
	buf_printf(&sql, "SELECT o.%s, ", k->id);
	oc(&sql, k->dom);
	buf_puts(&sql, ", ");
	oc(&sql, k->name);
	buf_puts(&sql, ", ");
	oc(&sql, k->mbpath);
	for (int i = 0; i < argc; i++) {
		struct vdef d;
		const char *c = NULL;

		var_check(t, kind, argv[i], &d);
		l[i] = util_lower(argv[i]);
		col[i] = -1;
		dflt[i] = d.numeric ? "0" : "";
		/* -2: always empty (write-only, or a password the policy hides) */
		if (has_flag(&d, 'W') || (strcmp(l[i], "u_password") == 0 && !pass_exportable(t))) {
			col[i] = -2;
			dflt[i] = "";
			continue;
		}
		if (is_computed(kind, l[i]))
			continue;
		for (size_t j = 0; j < k->ncols; j++)
			if (strcmp(k->cols[j][0], l[i]) == 0)
				c = k->cols[j][1];
		if (c) {
			buf_printf(&sql, ", o.%s", c);
			col[i] = 4 + nsel++;
			continue;
		}
		for (int j = 0; j < i; j++)
			if (jn[j] >= 0 && strcmp(l[j], l[i]) == 0) {
				col[i] = col[j];
				jn[i] = jn[j];
			}
		if (col[i] >= 0)
			continue;
		if (nj == 60)
			tool_usage("export: too many variables");
		jn[i] = nj++;
		col[i] = 4 + nsel++;
		buf_printf(&sql, ", v%d.%s", jn[i], k->pval);
	}
	buf_printf(&sql, " FROM %s o", k->tab);
	for (int i = 0, done = 0; i < argc; i++)
		if (jn[i] == done) {
			char *q = sqlite3_mprintf(" LEFT JOIN %s v%d ON v%d.%s = o.%s AND v%d.%s = %Q", k->ptab, done, done,
						  k->pid, k->id, done, k->pname, l[i]);

			buf_puts(&sql, q);
			sqlite3_free(q);
			done++;
		}
	if (pat_sql(kind, argv[-1], &sql, &p) != 0)
		fail(t, IWSIM_API_FAIL, "%s: not a valid %s", argv[-1], kind_name(kind));
	order_sql(kind, &sql);
	s = store_prep(&t->st, buf_str(&sql));
	if (s == NULL)
		fail(t, IWSIM_API_FAIL, "state error");
	pat_bind(s, &p);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const char *dom = (const char *)sqlite3_column_text(s, 1);
		const char *name = (const char *)sqlite3_column_text(s, 2);
		const char *mb = (const char *)sqlite3_column_text(s, 3);

		nrow++;
		if (kind == 'a')
			printf("%s@%s,", name, dom);
		else
			printf("%s,", kind == 'd' ? dom : name);
		for (int i = 0; i < argc; i++) {
			if (col[i] == -2) {
				/* nothing */
			} else if (col[i] < 0) {
				char *v = computed(t, kind, id, dom, name, l[i], mb);

				csv_put(v);
				free(v);
			} else {
				const char *v = (const char *)sqlite3_column_text(s, col[i]);

				csv_put(v ? v : dflt[i]);
			}
			putchar(',');
		}
		putchar('\n');
	}
	sqlite3_finalize(s);
	/* As the README says of patterns: an exact key that matches nothing is an error. */
	if (nrow == 0 && !has_wild(argv[-1]))
		fail(t, IWSIM_API_FAIL, "%s %s does not exist", kind_name(kind), argv[-1]);
	pat_free(&p);
	for (int i = 0; i < argc; i++)
		free(l[i]);
	free(l);
	free(col);
	free(dflt);
	free(jn);
	buf_free(&sql);
}

/* Applies VAR VALUE pairs to one object. */
static void
apply_vars(struct tool *t, int kind, int64_t id, int argc, char **argv)
{
	for (int i = 0; i + 1 < argc; i += 2) {
		char *l = util_lower(argv[i]);
		struct vdef d;

		var_check(t, kind, argv[i], &d);
		if (is_backup(kind, l)) {
			if (store_restore(&t->st, kind, id, argv[i + 1]) != 0)
				fail(t, IWSIM_API_FAIL, "%s: not a valid backup", argv[i]);
		} else if (is_computed(kind, l) || has_flag(&d, 'R')) {
			fail(t, IWSIM_API_FAIL, "%s is read-only", argv[i]);
		} else if (has_flag(&d, 'W')) {
			/* Write-only (e.g. U_DirectoryCache_RefreshNow): an action, recorded. */
			char *dom, *name;

			obj_key(t, kind, id, &dom, &name);
			tool_event(t->st.phys, "set %s%s%s %s %s", name, kind == 'a' ? "@" : "", dom, d.name, argv[i + 1]);
			free(dom);
			free(name);
		} else if (store_var_set(&t->st, kind, id, l, argv[i + 1]) != 0) {
			fail(t, IWSIM_API_FAIL, "cannot set %s", argv[i]);
		}
		free(l);
	}
}

static void
cmd_set(struct tool *t, int kind, int argc, char **argv)
{
	if (kind == 's') {
		struct vdef d;

		if (argc < 2 || argc % 2 != 0)
			tool_usage("set system: VAR VALUE pairs");
		for (int i = 0; i < argc; i += 2)
			var_check(t, 's', argv[i], &d);
		for (int i = 0; i < argc; i += 2) {
			int rc;

			var_check(t, 's', argv[i], &d);
			if (has_flag(&d, 'R'))
				fail(t, IWSIM_API_FAIL, "set system: %s is read-only", argv[i]);
			if (has_flag(&d, 'W')) {
				tool_event(t->st.phys, "set %s %s", d.name, argv[i + 1]);
				continue;
			}
			rc = store_sys_set(&t->st, argv[i], argv[i + 1], 1);
			if (rc == 1)
				fail(t, IWSIM_API_FAIL, "set system: unknown variable %s", argv[i]);
			if (rc != 0)
				fail(t, IWSIM_API_FAIL, "set system: cannot set %s", argv[i]);
			if (switch_name(argv[i]))
				tool_event(t->st.phys, "set %s %s", switch_name(argv[i]), argv[i + 1]);
		}
		return;
	}
	if (argc < 3 || (argc - 1) % 2 != 0)
		tool_usage("set: KEY|PATTERN then VAR VALUE pairs");
	{
		size_t n;
		int64_t *ids = collect(t, kind, argv[0], &n);

		for (size_t i = 0; i < n; i++)
			apply_vars(t, kind, ids[i], argc - 1, argv + 1);
		free(ids);
	}
}

static void
create_one(struct tool *t, int kind, const char *key, int argc, char **argv, int or_update)
{
	int64_t id = store_obj_create(&t->st, kind, key);

	if (id == IWSIM_API_EXISTS && or_update) {
		id = store_obj_id(&t->st, kind, key);
	} else if (id == IWSIM_API_EXISTS) {
		fail(t, IWSIM_API_EXISTS, "create %s %s: item already exists", kind_name(kind), key);
	} else if (id <= 0) {
		fail(t, IWSIM_API_FAIL, "create %s %s: %s", kind_name(kind), key,
		     kind == 'a' && strchr(key, '@') && store_obj_id(&t->st, 'd', strchr(key, '@') + 1) <= 0
			     ? "domain does not exist"
			     : "invalid name");
	} else if (kind == 'a') {
		store_var_set(&t->st, kind, id, "u_type", "0");
		store_var_set(&t->st, kind, id, "u_accountdisabled", "0");
	} else if (kind == 'd') {
		store_var_set(&t->st, kind, id, "d_type", "0");
	}
	apply_vars(t, kind, id, argc, argv);
}

static void
cmd_create(struct tool *t, int kind, int argc, char **argv)
{
	if (kind == 's')
		tool_usage("create: account, domain or remoteaccount");
	if (argc < 1 || (argc - 1) % 2 != 0)
		tool_usage("create: KEY then VAR VALUE pairs");
	create_one(t, kind, argv[0], argc - 1, argv + 1, 0);
}

static void
cmd_delete(struct tool *t, int kind, int argc, char **argv)
{
	size_t n;
	int64_t *ids;

	if (kind == 's' || argc != 1)
		tool_usage("delete: account, domain or remoteaccount and one KEY|PATTERN");
	ids = collect(t, kind, argv[0], &n);
	for (size_t i = 0; i < n; i++)
		if (store_obj_delete(&t->st, kind, ids[i]) != 0)
			fail(t, IWSIM_API_FAIL, "cannot delete");
	free(ids);
}

/* Reads the export format: records of fields, quoted fields may span lines. */
static void
cmd_import(struct tool *t, int kind, int argc, char **argv)
{
	FILE *f;
	struct buf data = {0}, field = {0};
	char chunk[65536], **rec = NULL;
	size_t n, nrec = 0, cap = 0, i = 0;
	int lineno = 1;

	if (kind == 's' || argc < 1)
		tool_usage("import: account, domain or remoteaccount, FILE and variables");
	f = fopen(argv[0], "rb");
	if (f == NULL)
		fail(t, IWSIM_API_FAIL, "%s: %s", argv[0], strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&data, chunk, n);
	fclose(f);
	buf_add(&data, "", 0);
	while (i < data.len) {
		int quoted = 0, end_rec = 0;

		field.len = 0;
		if (data.p[i] == '"') {
			quoted = 1;
			i++;
		}
		for (; i < data.len; i++) {
			char c = data.p[i];

			if (quoted) {
				if (c == '"' && i + 1 < data.len && data.p[i + 1] == '"') {
					buf_putc(&field, '"');
					i++;
				} else if (c == '"') {
					quoted = 0;
				} else {
					if (c == '\n')
						lineno++;
					buf_putc(&field, c);
				}
			} else if (c == ',') {
				i++;
				break;
			} else if (c == '\n' || c == '\r') {
				end_rec = 1;
				i += (c == '\r' && i + 1 < data.len && data.p[i + 1] == '\n') ? 2 : 1;
				break;
			} else {
				buf_putc(&field, c);
			}
		}
		if (quoted)
			fail(t, IWSIM_API_FAIL, "%s:%d: unterminated quote", argv[0], lineno);
		/* The trailing comma leaves an empty last field: it is not a value. */
		if (!(end_rec && field.len == 0 && nrec > 0) && !(end_rec && nrec == 0 && field.len == 0)) {
			if (nrec == cap) {
				cap = cap ? cap * 2 : 16;
				rec = util_xrealloc(rec, cap * sizeof *rec);
			}
			rec[nrec++] = util_xstrdup(buf_str(&field));
		}
		if (i >= data.len)
			end_rec = 1;
		if (end_rec) {
			if (nrec > 0) {
				char **pairs = util_xmalloc((size_t)(2 * argc) * sizeof *pairs);
				int np = 0;

				for (size_t k = 1; k < nrec && (int)k < argc; k++) {
					pairs[np++] = argv[k];
					pairs[np++] = rec[k];
				}
				create_one(t, kind, rec[0], np, pairs, 1);
				free(pairs);
			}
			for (size_t k = 0; k < nrec; k++)
				free(rec[k]);
			nrec = 0;
			lineno++;
		}
	}
	free(rec);
	buf_free(&data);
	buf_free(&field);
}

int
tool_main(int argc, char **argv)
{
	struct tool t;
	int kind, rc;
	char *cmd;
	static char obuf[1 << 16];

	memset(&t, 0, sizeof t);
	t.pass_policy = -1;
	if (argc < 1)
		tool_usage("no installation directory");
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if (argc < 3)
		tool_usage(NULL);
	cmd = util_lower(argv[1]);
	if (strcmp(cmd, "create") == 0 && strcasecmp(argv[2], "tables") == 0) {
		/* Table creation on the configured databases: the simulated ones exist already. */
		if (argc != 5)
			tool_usage("create tables N CONNECTION");
		free(cmd);
		return 0;
	}
	kind = kind_of(argv[2]);
	if (kind == 0)
		tool_usage("unknown object type");
	if (store_open(&t.st, argv[0]) != 0)
		fail(NULL, IWSIM_API_FAIL, "%s: cannot open the server state", argv[0]);
	t.cmd = cmd;
	if ((kind == 'a' || kind == 'd') && store_adb_open(&t.st) != 0)
		fail(&t, IWSIM_API_FAIL, "cannot open the accounts database");
	if (strcmp(cmd, "get") == 0 || strcmp(cmd, "display") == 0) {
		cmd_get(&t, kind, argc - 3, argv + 3);
	} else if (strcmp(cmd, "export") == 0) {
		cmd_export(&t, kind, argc - 3, argv + 3);
	} else if (strcmp(cmd, "set") == 0 || strcmp(cmd, "modify") == 0 || strcmp(cmd, "create") == 0 ||
		   strcmp(cmd, "delete") == 0 || strcmp(cmd, "import") == 0) {
		if (store_exec(&t.st, "BEGIN IMMEDIATE") != 0)
			fail(&t, IWSIM_API_FAIL, "server state is busy");
		if (cmd[0] == 's' || cmd[0] == 'm')
			cmd_set(&t, kind, argc - 3, argv + 3);
		else if (cmd[0] == 'c')
			cmd_create(&t, kind, argc - 3, argv + 3);
		else if (cmd[0] == 'd')
			cmd_delete(&t, kind, argc - 3, argv + 3);
		else
			cmd_import(&t, kind, argc - 3, argv + 3);
		if (store_exec(&t.st, "COMMIT") != 0)
			fail(&t, IWSIM_API_FAIL, "cannot commit");
		if (t.st.adb == 2 && kind != 'r' && mdb_push(&t.st) != 0)
			fail(NULL, IWSIM_API_FAIL, "cannot write the accounts database");
	} else {
		tool_usage("unknown command");
	}
	store_close(&t.st);
	free(cmd);
	rc = fflush(stdout) != 0 || ferror(stdout) ? 74 : 0;
	if (rc)
		fprintf(stderr, "tool: stdout: %s\n", strerror(errno));
	return rc;
}
