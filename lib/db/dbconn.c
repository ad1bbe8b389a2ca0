/*
 * dbconn.c: where IceWarp keeps each database, parsing connections,
 * the webmail server.xml, path columns.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "account.h"
#include "db.h"

int iwm_db_status;

/*
 * Names and variables: icewarp-facts.md "Databases".  Export order is
 * this order; webcache last (it is the big one).
 */
const struct iwm_dbinfo iwm_dbinfos[] = {
	{ "groupware", "C_GW_ConnectionString", NULL, NULL },
	{ "accounts", "C_System_Storage_Accounts_ODBCConnString", NULL, NULL },
	{ "antispam", "C_AS_Challenge_ConnectionString", NULL, NULL },
	{ "dircache",
	  "C_Accounts_Global_Accounts_DirectoryCacheConnectionString",
	  NULL, NULL },
	{ "eas", "C_ActiveSync_DBConnection", "C_ActiveSync_DBUser",
	  "C_ActiveSync_DBPass" },
	{ "spamreports", "C_AS_SpamReportsDBConn", "C_AS_SpamReportsDBUser",
	  "C_AS_SpamReportsDBPass" },
	{ "webcache", NULL, NULL, NULL },
};
const size_t iwm_ndbinfos = sizeof(iwm_dbinfos) / sizeof(iwm_dbinfos[0]);

const struct iwm_dbinfo *
iwm_dbinfo_find(const char *name)
{
	size_t i;

	for (i = 0; i < iwm_ndbinfos; i++)
		if (strcasecmp(iwm_dbinfos[i].name, name) == 0)
			return &iwm_dbinfos[i];
	return NULL;
}

void
iwm_dbspec_free(struct iwm_dbspec *s)
{
	free(s->dbname);
	free(s->user);
	if (s->pass != NULL) {
		explicit_bzero(s->pass, strlen(s->pass));
		free(s->pass);
	}
	free(s->host);
	free(s->socket);
	memset(s, 0, sizeof(*s));
}

static char *
dupnz(const char *s)
{
	return s != NULL && *s != '\0' ? iwm_strdup(s) : NULL;
}

const struct iwm_pathmaps *iwm_db_pathmaps;

/*
 * PATH as a local file name: a Windows path through iwm_db_pathmaps
 * (without the trailing '/' iwm_path_localize gives directories), any
 * other path as it is.  NULL with iwm_err() when a Windows path has no
 * map.
 */
static char *
local_path(const char *path, int dir)
{
	char *l;
	size_t len;

	if (!iwm_path_is_windows(path))
		return iwm_strdup(path);
	if ((l = iwm_path_localize(iwm_db_pathmaps, path)) == NULL)
		return NULL;
	len = strlen(l);
	if (!dir && len > 1 && l[len - 1] == '/')
		l[len - 1] = '\0';
	return l;
}

static char *
anchor(const char *path, const char *basedir)
{
	struct iwm_buf b = { 0 };

	if (path[0] == '/' || basedir == NULL || *basedir == '\0' ||
	    iwm_path_is_windows(path))
		return iwm_strdup(path);
	iwm_buf_adds(&b, basedir);
	if (b.len > 0 && b.ptr[b.len - 1] != '/')
		iwm_buf_addc(&b, '/');
	iwm_buf_adds(&b, path);
	return iwm_buf_steal(&b);
}

/* HOST may be "host", "host:port", or a socket path. */
static int
set_host(struct iwm_dbspec *s, const char *host, const char *what)
{
	const char *colon;
	long v;

	if (host == NULL || *host == '\0')
		return 0;
	if (host[0] == '/') {
		/* The last of host=/... and unix_socket= wins (found by
		 * fuzz-conn: the earlier one leaked). */
		free(s->socket);
		s->socket = iwm_strdup(host);
		return 0;
	}
	colon = strrchr(host, ':');
	if (colon != NULL && strchr(host, ']') == NULL &&
	    colon == strchr(host, ':')) {
		if (iwm_parse_int(colon + 1, 1, 65535, &v) == -1) {
			iwm_seterr("%s: bad port in host '%s'", what, host);
			iwm_db_status = IWM_EXIT_DATA;
			return -1;
		}
		s->port = (unsigned)v;
		s->host = iwm_strndup(host, (size_t)(colon - host));
	} else
		s->host = iwm_strdup(host);
	return 0;
}

static int
unsupported(const char *what, const char *engine)
{
	iwm_seterr("%s: database engine %s is not supported (only MySQL/"
	    "MariaDB and SQLite are): convert it to MySQL or SQLite on the "
	    "source first, migrate it by hand, or leave it out (--only)",
	    what, engine);
	iwm_db_status = IWM_EXIT_DATA;
	return -1;
}

/* "mysql:host=H;port=P;dbname=D;unix_socket=S" or "sqlite:FILE". */
static int
parse_pdo(struct iwm_dbspec *s, const char *conn, const char *basedir,
    const char *what)
{
	const char *colon = strchr(conn, ':'), *p, *e;
	size_t dl = (size_t)(colon - conn);
	long v;

	if (dl == 6 && strncasecmp(conn, "sqlite", 6) == 0) {
		s->engine = IWM_DB_SQLITE;
		s->dbname = anchor(colon + 1, basedir);
		return 0;
	}
	if (!(dl == 5 && strncasecmp(conn, "mysql", 5) == 0)) {
		char *eng = iwm_strndup(conn, dl);
		int r = unsupported(what, eng);

		free(eng);
		return r;
	}
	s->engine = IWM_DB_MYSQL;
	for (p = colon + 1; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		const char *eq;
		char *val;

		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq == NULL)
			continue;
		val = iwm_strndup(eq + 1, (size_t)(e - eq - 1));
#define KEY(k) ((size_t)(eq - p) == sizeof(k) - 1 && \
	    strncasecmp(p, k, sizeof(k) - 1) == 0)
		if (KEY("host")) {
			free(s->host);
			s->host = NULL;
			if (set_host(s, val, what) == -1) {
				free(val);
				return -1;
			}
		} else if (KEY("port")) {
			if (iwm_parse_int(val, 1, 65535, &v) == -1) {
				iwm_seterr("%s: bad port '%s'", what, val);
				iwm_db_status = IWM_EXIT_DATA;
				free(val);
				return -1;
			}
			s->port = (unsigned)v;
		} else if (KEY("dbname")) {
			free(s->dbname);
			s->dbname = iwm_strdup(val);
		} else if (KEY("unix_socket")) {
			free(s->socket);
			s->socket = iwm_strdup(val);
		}
#undef KEY
		free(val);
	}
	if (s->dbname == NULL || *s->dbname == '\0') {
		iwm_seterr("%s: connection has no dbname", what);
		iwm_db_status = IWM_EXIT_DATA;
		return -1;
	}
	return 0;
}

int
iwm_dbspec_parse(struct iwm_dbspec *s, const char *conn, const char *user,
    const char *pass, const char *basedir, const char *what)
{
	struct iwm_conn c;
	const char *semi, *colon;
	int r;

	memset(s, 0, sizeof(*s));
	iwm_db_status = 0;
	if (conn == NULL || *conn == '\0') {
		iwm_seterr("%s: no connection configured", what);
		return -1;
	}
	semi = strchr(conn, ';');
	colon = strchr(conn, ':');
	/* PDO form: "engine:" before any ';' and not a Windows drive. */
	if (colon != NULL && (semi == NULL || colon < semi) &&
	    colon - conn > 1 && strchr(conn, '=') != NULL) {
		r = parse_pdo(s, conn, basedir, what);
	} else if (colon != NULL && colon - conn > 1 && semi == NULL) {
		r = parse_pdo(s, conn, basedir, what);
	} else {
		if (iwm_conn_parse(conn, &c) == -1) {
			iwm_seterr("%s: %s", what, iwm_err());
			iwm_db_status = IWM_EXIT_DATA;
			return -1;
		}
		r = 0;
		if (c.syntax == 3 || (c.syntax == -1 && c.driver == 2)) {
			s->engine = IWM_DB_MYSQL;
			s->dbname = iwm_strdup(c.dbname);
			s->user = dupnz(c.user);
			s->pass = dupnz(c.pass);
			r = set_host(s, c.host, what);
		} else if (c.syntax == 7 || (c.syntax == -1 &&
		    (c.driver == 3 || c.driver == -1))) {
			s->engine = IWM_DB_SQLITE;
			s->dbname = anchor(c.dbname, basedir);
		} else {
			char code[64];

			snprintf(code, sizeof(code), "(syntax code %d, driver "
			    "%d: MSSQL, Oracle, Firebird ...)", c.syntax,
			    c.driver);
			r = unsupported(what, code);
		}
		iwm_conn_free(&c);
	}
	if (r == 0 && s->engine == IWM_DB_MYSQL) {
		if (s->user == NULL)
			s->user = dupnz(user);
		if (s->pass == NULL)
			s->pass = dupnz(pass);
		if (s->pass == NULL)
			s->pass = dupnz(getenv("IWM_DB_PASSWORD"));
	}
	if (r == -1)
		iwm_dbspec_free(s);
	return r;
}

char *
iwm_dbspec_describe(const struct iwm_dbspec *s)
{
	struct iwm_buf b = { 0 };

	if (s->engine == IWM_DB_SQLITE) {
		iwm_buf_printf(&b, "sqlite %s", s->dbname);
		return iwm_buf_steal(&b);
	}
	iwm_buf_adds(&b, "mysql ");
	if (s->user != NULL)
		iwm_buf_printf(&b, "%s@", s->user);
	if (s->socket != NULL)
		iwm_buf_adds(&b, s->socket);
	else
		iwm_buf_adds(&b, s->host != NULL ? s->host : "localhost");
	if (s->port != 0 && s->socket == NULL)
		iwm_buf_printf(&b, ":%u", s->port);
	iwm_buf_printf(&b, "/%s", s->dbname);
	return iwm_buf_steal(&b);
}

char *
iwm_db_read_connfile(const char *file)
{
	struct iwm_lines l;
	char *line, *r = NULL;
	size_t len;

	if (iwm_lines_open(&l, file) == -1)
		return NULL;
	if (iwm_lines_next(&l, &line, &len) == 1) {
		while (len > 0 && (line[len - 1] == '\r' ||
		    line[len - 1] == ' '))
			line[--len] = '\0';
		r = iwm_strdup(line);
		explicit_bzero(line, len);
	} else
		iwm_seterr("%s: no connection string", file);
	iwm_lines_close(&l);
	return r;
}

int
iwm_db_conn_option(char **conn, int fromfile, char *arg)
{
	free(*conn);
	if (fromfile)
		return (*conn = iwm_db_read_connfile(arg)) == NULL ? -1 : 0;
	*conn = iwm_strdup(arg);
	explicit_bzero(arg, strlen(arg));
	return 0;
}

char *
iwm_db_server_basedir(const struct iwm_tool *t)
{
	const char *slash;

	if (t->install_dir != NULL)
		return iwm_strdup(t->install_dir);
	slash = strrchr(t->path, '/');
	if (slash == NULL)
		return iwm_strdup(".");
	return iwm_strndup(t->path, (size_t)(slash - t->path));
}

const char *
iwm_db_server_platform(const struct iwm_tool *t)
{
	char *v = iwm_tool_get1(t, "C_System_Storage_Dir_MailPath");
	const char *r = "unix";

	if (v != NULL && iwm_path_is_windows(v))
		r = "windows";
	free(v);
	return r;
}

static char *
xml_child_text(xmlNode *parent, const char *name)
{
	xmlNode *n;

	for (n = parent->children; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE &&
		    strcasecmp((const char *)n->name, name) == 0) {
			xmlChar *c = xmlNodeGetContent(n);
			char *r = iwm_strdup(c != NULL ? (char *)c : "");

			xmlFree(c);
			return r;
		}
	}
	return NULL;
}

/* Depth-first search for the element that holds <dbconn>. */
static xmlNode *
find_dbconn_parent(xmlNode *n)
{
	xmlNode *c, *r;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (c = n->children; c != NULL; c = c->next)
			if (c->type == XML_ELEMENT_NODE &&
			    strcasecmp((const char *)c->name, "dbconn") == 0)
				return n;
		if ((r = find_dbconn_parent(n->children)) != NULL)
			return r;
	}
	return NULL;
}

int
iwm_db_webmail_spec(const char *serverxml, struct iwm_dbspec *s)
{
	xmlDoc *doc;
	xmlNode *p;
	char *conn = NULL, *user = NULL, *pass = NULL;
	int r = 0;

	memset(s, 0, sizeof(*s));
	iwm_db_status = 0;
	if (access(serverxml, F_OK) == -1)
		return 0;
	/* HTML entities (&amp; ...) are decoded by the parser; no network. */
	doc = xmlReadFile(serverxml, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		iwm_seterr("webcache: %s: not well-formed XML", serverxml);
		iwm_db_status = IWM_EXIT_DATA;
		return -1;
	}
	p = find_dbconn_parent(xmlDocGetRootElement(doc));
	if (p != NULL) {
		conn = xml_child_text(p, "dbconn");
		user = xml_child_text(p, "dbuser");
		pass = xml_child_text(p, "dbpass");
	}
	xmlFreeDoc(doc);
	if (conn != NULL && *conn != '\0') {
		if (strncasecmp(conn, "sqlite", 6) == 0)
			r = 0;	/* cache.db files travel with the mailboxes */
		else if (iwm_dbspec_parse(s, conn, user, pass, NULL,
		    "webcache") == -1)
			r = -1;
		else
			r = 1;
	}
	free(conn);
	free(user);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	return r;
}

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

int
iwm_db_server_spec(const struct iwm_tool *t, const struct iwm_dbinfo *info,
    struct iwm_dbspec *s)
{
	const char *vars[3];
	char *vals[3] = { NULL, NULL, NULL }, *base;
	size_t n = 0, i;
	int r;

	memset(s, 0, sizeof(*s));
	iwm_db_status = 0;
	if (info->var == NULL) {
		char *cfg = iwm_tool_get1(t, "C_ConfigPath");
		struct iwm_buf b = { 0 };

		if (empty(cfg)) {
			free(cfg);
			base = iwm_db_server_basedir(t);
			iwm_buf_printf(&b, "%s/config/", base);
			free(base);
		} else {
			char *l = local_path(cfg, 1);

			/* An unmapped Windows path: no server.xml here. */
			iwm_buf_adds(&b, l != NULL ? l : cfg);
			free(l);
			free(cfg);
			if (b.len > 0 && b.ptr[b.len - 1] != '/' &&
			    b.ptr[b.len - 1] != '\\')
				iwm_buf_addc(&b, '/');
		}
		iwm_buf_adds(&b, "_webmail/server.xml");
		r = iwm_db_webmail_spec(b.ptr, s);
		iwm_buf_free(&b);
		return r;
	}
	vars[n++] = info->var;
	if (info->uservar != NULL) {
		vars[n++] = info->uservar;
		vars[n++] = info->passvar;
	}
	if (iwm_tool_get_system(t, vars, n, vals) == -1) {
		iwm_seterr("%s: %s", info->name, iwm_err());
		iwm_db_status = IWM_EXIT_UNAVAIL;
		return -1;
	}
	if (empty(vals[0]) && strcmp(info->name, "spamreports") == 0) {
		/*
		 * Empty means the default SQLite file (icewarp-facts); its
		 * name is assumed: spamreports.db in the spam directory.
		 */
		char *spam = iwm_tool_get1(t, "C_SpamPath");
		struct iwm_buf conn = { 0 };
		struct stat sb;

		r = 0;
		if (!empty(spam)) {
			char *l = local_path(spam, 1);

			iwm_buf_adds(&conn, l != NULL ? l : spam);
			free(l);
			if (conn.ptr[conn.len - 1] != '/' &&
			    conn.ptr[conn.len - 1] != '\\')
				iwm_buf_addc(&conn, '/');
			iwm_buf_adds(&conn, "spamreports.db");
			if (stat(conn.ptr, &sb) == 0 && S_ISREG(sb.st_mode)) {
				iwm_buf_adds(&conn, ";;;;7;3");
				base = iwm_db_server_basedir(t);
				r = iwm_dbspec_parse(s, conn.ptr, NULL, NULL,
				    base, info->name) == -1 ? -1 : 1;
				free(base);
			}
		}
		free(spam);
		iwm_buf_free(&conn);
	} else if (empty(vals[0])) {
		r = 0;
	} else {
		base = iwm_db_server_basedir(t);
		r = iwm_dbspec_parse(s, vals[0], vals[1], vals[2], base,
		    info->name) == -1 ? -1 : 1;
		free(base);
		/* A SQLite file named by a Windows path: mapped here. */
		if (r == 1 && s->engine == IWM_DB_SQLITE &&
		    iwm_path_is_windows(s->dbname)) {
			char *l = local_path(s->dbname, 0);

			if (l == NULL) {
				iwm_seterr("%s: %s", info->name, iwm_err());
				iwm_db_status = IWM_EXIT_UNAVAIL;
				iwm_dbspec_free(s);
				r = -1;
			} else {
				free(s->dbname);
				s->dbname = l;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (vals[i] != NULL)
			explicit_bzero(vals[i], strlen(vals[i]));
		free(vals[i]);
	}
	return r;
}

void
iwm_db_quote_ident(struct iwm_buf *b, enum iwm_db_engine e, const char *id)
{
	char q = e == IWM_DB_MYSQL ? '`' : '"';

	iwm_buf_addc(b, q);
	for (; *id != '\0'; id++) {
		if (*id == q)
			iwm_buf_addc(b, q);
		iwm_buf_addc(b, *id);
	}
	iwm_buf_addc(b, q);
}

void
iwm_db_convert_path(char *s, size_t len, const char *to)
{
	char from = '\\', dst = '/';
	size_t i;

	if (strcmp(to, "windows") == 0) {
		from = '/';
		dst = '\\';
	}
	for (i = 0; i < len; i++)
		if (s[i] == from)
			s[i] = dst;
}

struct iwm_pathcols {
	char	**db, **tbl, **col;
	size_t	 n;
};

struct iwm_pathcols *
iwm_pathcols_load(void)
{
	struct iwm_pathcols *pc;
	struct iwm_lines l;
	char *path, *line, *f[3], *save;
	size_t len;
	int r, i;

	if ((path = iwm_datafile("path-columns")) == NULL)
		return NULL;
	if (iwm_lines_open(&l, path) == -1) {
		free(path);
		return NULL;
	}
	pc = iwm_calloc(1, sizeof(*pc));
	while ((r = iwm_lines_next(&l, &line, &len)) == 1) {
		char *p = line;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		for (i = 0; i < 3; i++) {
			while (*p == ' ' || *p == '\t')
				p++;
			save = p;
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
			if (*p != '\0')
				*p++ = '\0';
			f[i] = save;
		}
		if (*f[2] == '\0') {
			iwm_seterr("%s:%llu: expected 'database table column'",
			    path, (unsigned long long)l.lineno);
			iwm_lines_close(&l);
			free(path);
			iwm_pathcols_free(pc);
			return NULL;
		}
		pc->db = iwm_reallocarray(pc->db, pc->n + 1, sizeof(char *));
		pc->tbl = iwm_reallocarray(pc->tbl, pc->n + 1, sizeof(char *));
		pc->col = iwm_reallocarray(pc->col, pc->n + 1, sizeof(char *));
		pc->db[pc->n] = iwm_strdup(f[0]);
		pc->tbl[pc->n] = iwm_strdup(f[1]);
		pc->col[pc->n] = iwm_strdup(f[2]);
		pc->n++;
	}
	iwm_lines_close(&l);
	free(path);
	if (r == -1) {
		iwm_pathcols_free(pc);
		return NULL;
	}
	return pc;
}

int
iwm_pathcols_match(const struct iwm_pathcols *pc, const char *db,
    const char *tbl, const char *col)
{
	size_t i;

	if (pc == NULL)
		return 0;
	/* Table and column names compare without case (MySQL on Windows). */
	for (i = 0; i < pc->n; i++)
		if ((strcmp(pc->db[i], "*") == 0 ||
		    strcasecmp(pc->db[i], db) == 0) &&
		    strcasecmp(pc->tbl[i], tbl) == 0 &&
		    strcasecmp(pc->col[i], col) == 0)
			return 1;
	return 0;
}

void
iwm_pathcols_free(struct iwm_pathcols *pc)
{
	size_t i;

	if (pc == NULL)
		return;
	for (i = 0; i < pc->n; i++) {
		free(pc->db[i]);
		free(pc->tbl[i]);
		free(pc->col[i]);
	}
	free(pc->db);
	free(pc->tbl);
	free(pc->col);
	free(pc);
}

int
iwm_db_selected(const char *list, const char *name)
{
	const char *p = list, *e;
	size_t n = strlen(name);

	if (list == NULL)
		return 1;
	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && strncasecmp(p, name, n) == 0)
			return 1;
		p = *e != '\0' ? e + 1 : e;
	}
	return 0;
}
