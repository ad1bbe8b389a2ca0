/*
 * dbcarrier.c: engine handles and the carrier file's description
 * tables, shared by export, import and verify.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbint.h"

static int
has(const char *s, const char *word)
{
	return strcasestr(s, word) != NULL;
}

const char *
iwm_db_generic_mysql(const char *dt, const char *ct)
{
	static const char *ints[] = { "tinyint", "smallint", "mediumint",
	    "int", "integer", "bigint", "year", "bool", "boolean", NULL };
	size_t i;

	for (i = 0; ints[i] != NULL; i++)
		if (strcasecmp(dt, ints[i]) == 0) {
			/* Beyond int64: carried as exact text. */
			if (strcasecmp(dt, "bigint") == 0 && has(ct, "unsigned"))
				return "decimal";
			return "int";
		}
	if (strcasecmp(dt, "float") == 0 || strcasecmp(dt, "double") == 0 ||
	    strcasecmp(dt, "real") == 0)
		return "real";
	if (strcasecmp(dt, "decimal") == 0 || strcasecmp(dt, "numeric") == 0)
		return "decimal";
	if (has(dt, "blob") || has(dt, "binary") || strcasecmp(dt, "bit") == 0 ||
	    has(dt, "geometry") || has(dt, "point") || has(dt, "polygon") ||
	    has(dt, "linestring"))
		return "blob";
	return "text";
}

/* SQLite's affinity rules (datatype3.html, 3.1), as type classes. */
const char *
iwm_db_generic_sqlite(const char *decl)
{
	if (decl == NULL || *decl == '\0')
		return "any";
	if (has(decl, "int"))
		return "int";
	if (has(decl, "char") || has(decl, "clob") || has(decl, "text"))
		return "text";
	if (has(decl, "blob"))
		return "any";
	if (has(decl, "real") || has(decl, "floa") || has(decl, "doub"))
		return "real";
	return "decimal";	/* NUMERIC affinity */
}

const char *
iwm_db_carrier_decl(const char *g)
{
	if (strcmp(g, "int") == 0)
		return "INTEGER";
	if (strcmp(g, "real") == 0)
		return "REAL";
	if (strcmp(g, "blob") == 0)
		return "BLOB";
	if (strcmp(g, "any") == 0)
		return "";
	return "TEXT";		/* text, decimal: exact */
}

int
iwm_db_mysql_fail(MYSQL *m, const char *what, const char *doing)
{
	unsigned e = mysql_errno(m);

	iwm_seterr("%s: %s: %s", what, doing, mysql_error(m));
	switch (e) {
	case 1044: case 1045: case 1698:
		iwm_db_status = IWM_EXIT_AUTH;
		break;
	case 1049: case 2002: case 2003: case 2005: case 2006: case 2013:
		iwm_db_status = IWM_EXIT_UNAVAIL;
		break;
	default:
		iwm_db_status = e >= 2000 ? IWM_EXIT_UNAVAIL : IWM_EXIT_DATA;
	}
	return -1;
}

int
iwm_db_mysql_exec(MYSQL *m, const char *sql, const char *what)
{
	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return iwm_db_mysql_fail(m, what, "query");
	return 0;
}

MYSQL *
iwm_db_mysql_connect(const struct iwm_dbspec *s, const char *what,
    int flags)
{
	MYSQL *m;
	unsigned timeout = 10, infile = (flags & IWM_DBC_INFILE) != 0;
	int create_db = (flags & IWM_DBC_CREATE) != 0;
	char *desc = iwm_dbspec_describe(s);
	const char *host = s->host;

	if ((m = mysql_init(NULL)) == NULL) {
		iwm_seterr("%s: out of memory", what);
		iwm_db_status = IWM_EXIT_SOFTWARE;
		free(desc);
		return NULL;
	}
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &infile);
	/* "localhost" would mean the default socket: use TCP with a port. */
	if (host != NULL && strcmp(host, "localhost") == 0 && s->port != 0)
		host = "127.0.0.1";
	if (mysql_real_connect(m, host, s->user, s->pass,
	    create_db ? NULL : s->dbname, s->port, s->socket, 0) == NULL) {
		char doing[512];

		snprintf(doing, sizeof(doing), "cannot connect to %s", desc);
		iwm_db_mysql_fail(m, what, doing);
		mysql_close(m);
		free(desc);
		return NULL;
	}
	free(desc);
	if (create_db) {
		struct iwm_buf b = { 0 };
		int r;

		iwm_buf_adds(&b, "CREATE DATABASE IF NOT EXISTS ");
		iwm_db_quote_ident(&b, IWM_DB_MYSQL, s->dbname);
		r = iwm_db_mysql_exec(m, b.ptr, what);
		iwm_buf_free(&b);
		if (r == 0 && mysql_select_db(m, s->dbname) != 0)
			r = iwm_db_mysql_fail(m, what, "select database");
		if (r == -1) {
			mysql_close(m);
			return NULL;
		}
	}
	/*
	 * Values travel as UTC text and zero dates or a 0 in an
	 * AUTO_INCREMENT column must survive as they are.
	 */
	if (iwm_db_mysql_exec(m, "SET time_zone='+00:00', "
	    "sql_mode='NO_AUTO_VALUE_ON_ZERO', foreign_key_checks=0, "
	    "unique_checks=0", what) == -1) {
		mysql_close(m);
		return NULL;
	}
	return m;
}

sqlite3 *
iwm_db_sqlite_open(const char *path, int flags, const char *what)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		iwm_seterr("%s: %s: %s", what, path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		iwm_db_status = IWM_EXIT_UNAVAIL;
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

int
iwm_db_sqlite_exec(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(db);

		iwm_seterr("%s: %s", what, msg != NULL ? msg :
		    sqlite3_errmsg(db));
		sqlite3_free(msg);
		iwm_db_status = code == SQLITE_NOTADB || code == SQLITE_CORRUPT ?
		    IWM_EXIT_DATA : code == SQLITE_CANTOPEN ? IWM_EXIT_UNAVAIL :
		    code == SQLITE_IOERR || code == SQLITE_FULL ? IWM_EXIT_IO :
		    IWM_EXIT_DATA;
		return -1;
	}
	return 0;
}

static char *
coldup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? iwm_strdup((const char *)t) : NULL;
}

static int
cfail(struct iwm_carrier *c, const char *doing)
{
	iwm_seterr("%s: %s: %s", c->path, doing, sqlite3_errmsg(c->db));
	iwm_db_status = IWM_EXIT_DATA;
	return -1;
}

int
iwm_carrier_open(struct iwm_carrier *c, const char *path)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	c->path = iwm_strdup(path);
	if ((c->db = iwm_db_sqlite_open(path, SQLITE_OPEN_READONLY,
	    path)) == NULL)
		goto fail;
	if (sqlite3_prepare_v2(c->db, "SELECT key, value FROM _iwm_meta",
	    -1, &st, NULL) != SQLITE_OK) {
		iwm_seterr("%s: not an iwm database export (%s)", path,
		    sqlite3_errmsg(c->db));
		iwm_db_status = IWM_EXIT_DATA;
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		char **dst = NULL;

		if (k == NULL)
			continue;
		if (strcmp(k, "engine") == 0)
			dst = &c->engine;
		else if (strcmp(k, "name") == 0)
			dst = &c->name;
		else if (strcmp(k, "kind") == 0)
			dst = &c->kind;
		else if (strcmp(k, "platform") == 0)
			dst = &c->platform;
		if (dst != NULL) {
			free(*dst);
			*dst = coldup(st, 1);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		cfail(c, "_iwm_meta");
		goto fail;
	}
	if (c->engine == NULL || c->name == NULL) {
		iwm_seterr("%s: incomplete export (no engine or name)", path);
		iwm_db_status = IWM_EXIT_DATA;
		goto fail;
	}
	if (c->kind == NULL)
		c->kind = iwm_strdup("full");
	if (c->platform == NULL)
		c->platform = iwm_strdup("unix");
	if (sqlite3_prepare_v2(c->db, "SELECT tbl, ddl, mode, pkcol, hw_from, "
	    "hw_to FROM _iwm_tables ORDER BY ord", -1, &st, NULL) != SQLITE_OK) {
		cfail(c, "_iwm_tables");
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct iwm_ctable *t;

		c->t = iwm_reallocarray(c->t, c->nt + 1, sizeof(*c->t));
		t = &c->t[c->nt++];
		memset(t, 0, sizeof(*t));
		t->name = coldup(st, 0);
		t->ddl = coldup(st, 1);
		t->mode = coldup(st, 2);
		t->pkcol = coldup(st, 3);
		t->hw_from = sqlite3_column_int64(st, 4);
		t->hw_to = sqlite3_column_int64(st, 5);
		if (t->mode == NULL)
			t->mode = iwm_strdup("full");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		cfail(c, "_iwm_tables");
		goto fail;
	}
	for (i = 0; i < c->nt; i++) {
		struct iwm_ctable *t = &c->t[i];

		if (sqlite3_prepare_v2(c->db, "SELECT name, decl, generic, "
		    "nonnull, pk, autoinc, dflt FROM _iwm_columns WHERE tbl=? "
		    "ORDER BY pos", -1, &st, NULL) != SQLITE_OK) {
			cfail(c, "_iwm_columns");
			goto fail;
		}
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct iwm_ccol *col;

			t->cols = iwm_reallocarray(t->cols, t->ncols + 1,
			    sizeof(*t->cols));
			col = &t->cols[t->ncols++];
			memset(col, 0, sizeof(*col));
			col->name = coldup(st, 0);
			col->decl = coldup(st, 1);
			col->generic = coldup(st, 2);
			col->notnull = sqlite3_column_int(st, 3);
			col->pk = sqlite3_column_int(st, 4);
			col->autoinc = sqlite3_column_int(st, 5);
			col->dflt = coldup(st, 6);
			if (col->name == NULL)
				col->name = iwm_strdup("");
			if (col->decl == NULL)
				col->decl = iwm_strdup("");
			if (col->generic == NULL)
				col->generic = iwm_strdup("any");
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE || t->ncols == 0) {
			if (rc == SQLITE_DONE)
				iwm_seterr("%s: table %s has no columns", path,
				    t->name);
			else
				cfail(c, "_iwm_columns");
			iwm_db_status = IWM_EXIT_DATA;
			goto fail;
		}
		if (sqlite3_prepare_v2(c->db, "SELECT name, uniq, cols FROM "
		    "_iwm_indexes WHERE tbl=? ORDER BY rowid", -1, &st,
		    NULL) != SQLITE_OK) {
			cfail(c, "_iwm_indexes");
			goto fail;
		}
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct iwm_cidx *x;

			t->idx = iwm_reallocarray(t->idx, t->nidx + 1,
			    sizeof(*t->idx));
			x = &t->idx[t->nidx++];
			x->name = coldup(st, 0);
			x->uniq = sqlite3_column_int(st, 1);
			x->cols = coldup(st, 2);
			if (x->name == NULL)
				x->name = iwm_strdup("");
			if (x->cols == NULL)
				x->cols = iwm_strdup("");
		}
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_prepare_v2(c->db, "SELECT sql FROM _iwm_extra "
		    "WHERE tbl=? ORDER BY rowid", -1, &st, NULL) != SQLITE_OK) {
			cfail(c, "_iwm_extra");
			goto fail;
		}
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			t->extra = iwm_reallocarray(t->extra, t->nextra + 1,
			    sizeof(char *));
			t->extra[t->nextra++] = coldup(st, 0);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	return 0;
fail:
	sqlite3_finalize(st);
	iwm_carrier_close(c);
	return -1;
}

void
iwm_carrier_mark_paths(struct iwm_carrier *c, const struct iwm_pathcols *pc)
{
	size_t i, j;

	for (i = 0; i < c->nt; i++)
		for (j = 0; j < c->t[i].ncols; j++)
			c->t[i].cols[j].path = iwm_pathcols_match(pc, c->name,
			    c->t[i].name, c->t[i].cols[j].name);
}

void
iwm_carrier_close(struct iwm_carrier *c)
{
	size_t i, j;

	for (i = 0; i < c->nt; i++) {
		struct iwm_ctable *t = &c->t[i];

		for (j = 0; j < t->ncols; j++) {
			free(t->cols[j].name);
			free(t->cols[j].decl);
			free(t->cols[j].generic);
			free(t->cols[j].dflt);
		}
		for (j = 0; j < t->nidx; j++) {
			free(t->idx[j].name);
			free(t->idx[j].cols);
		}
		for (j = 0; j < t->nextra; j++)
			free(t->extra[j]);
		free(t->cols);
		free(t->idx);
		free(t->extra);
		free(t->name);
		free(t->ddl);
		free(t->mode);
		free(t->pkcol);
	}
	free(c->t);
	sqlite3_close(c->db);
	free(c->path);
	free(c->engine);
	free(c->name);
	free(c->kind);
	free(c->platform);
	memset(c, 0, sizeof(*c));
}

/*
 * Row hashing: FNV-1a over each value with its length (so "ab","c"
 * differs from "a","bc"), finished with a 64-bit mixer; the table sum
 * of row hashes does not depend on row order, so no sort is needed.
 */
#define FNV_OFF 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

void
iwm_rowhash_init(struct iwm_rowhash *r)
{
	r->h = FNV_OFF;
}

void
iwm_rowhash_add(struct iwm_rowhash *r, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = r->h;
	size_t i;

	if (p == NULL) {
		h ^= 0xff;
		h *= FNV_PRIME;
		h ^= 0x4e;
		h *= FNV_PRIME;
		r->h = h;
		return;
	}
	for (i = 0; i < sizeof(len); i++) {
		h ^= (len >> (8 * i)) & 0xff;
		h *= FNV_PRIME;
	}
	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= FNV_PRIME;
	}
	r->h = h;
}

uint64_t
iwm_rowhash_final(const struct iwm_rowhash *r)
{
	uint64_t z = r->h + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
