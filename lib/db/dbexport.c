/*
 * dbexport.c: one database (MySQL/MariaDB or SQLite) into one SQLite
 * carrier file, from one consistent snapshot, rows streamed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dbint.h"

#define COMMIT_ROWS 100000

struct hw {
	char	*tbl, *col;
	int64_t	 v;
};

struct xcol {
	char	*name, *decl, *generic, *dflt;
	int	 notnull, pk, autoinc;
};

struct xtable {
	char	*name, *ddl;
	uint64_t estrows;
	struct xcol *cols;
	size_t	 ncols;
};

struct exp {
	const struct iwm_dbspec *spec;
	struct iwm_dbexport_opts *o;
	const char *what;
	const char *out;
	sqlite3	*c;		/* the carrier */
	MYSQL	*m;
	sqlite3	*s;		/* SQLite source */
	struct hw *old, *new;
	size_t	 nold, nnew;
	int	 since_full;	/* --since without a state yet */
	int	 ord;
	time_t	 lastprog;
	/* The source rows the carrier's iwm_rows table reads. */
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *lens;
	char	*kinds;
	sqlite3_stmt *sst;	/* SQLite source */
	int	 srcrc;		/* its last step */
	int	 have;		/* a row is fetched */
	unsigned nf;
	uint64_t chunk;		/* rows given in this transaction */
};

static const sqlite3_module rows_module;

static void
hw_free(struct hw *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].tbl);
		free(v[i].col);
	}
	free(v);
}

/* State file: "#iwm-dbexport-state 1", then "TABLE\tCOLUMN\tMAX" lines. */
static int
state_load(struct exp *e, const char *path)
{
	struct iwm_lines l;
	char *line, *t1, *t2;
	size_t len;
	int r;
	long long v;

	if (access(path, F_OK) == -1) {
		e->since_full = 1;
		return 0;
	}
	if (iwm_lines_open(&l, path) == -1) {
		iwm_db_status = IWM_EXIT_IO;
		return -1;
	}
	while ((r = iwm_lines_next(&l, &line, &len)) == 1) {
		char *end;

		if (line[0] == '#' || len == 0)
			continue;
		t1 = strchr(line, '\t');
		t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
		if (t2 == NULL)
			goto bad;
		*t1 = *t2 = '\0';
		errno = 0;
		v = strtoll(t2 + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == t2 + 1)
			goto bad;
		e->old = iwm_reallocarray(e->old, e->nold + 1, sizeof(*e->old));
		e->old[e->nold].tbl = iwm_strdup(line);
		e->old[e->nold].col = iwm_strdup(t1 + 1);
		e->old[e->nold].v = v;
		e->nold++;
	}
	iwm_lines_close(&l);
	if (r == -1) {
		iwm_db_status = IWM_EXIT_IO;
		return -1;
	}
	if (e->nold == 0)
		e->since_full = 1;
	return 0;
bad:
	iwm_seterr("%s:%llu: expected 'TABLE<TAB>COLUMN<TAB>NUMBER'", path,
	    (unsigned long long)l.lineno);
	iwm_lines_close(&l);
	iwm_db_status = IWM_EXIT_DATA;
	return -1;
}

static int
state_save(struct exp *e, const char *path)
{
	struct iwm_buf tmp = { 0 };
	FILE *f;
	size_t i;

	iwm_buf_printf(&tmp, "%s.tmp", path);
	if ((f = fopen(tmp.ptr, "w")) == NULL) {
		iwm_seterr_errno("%s", tmp.ptr);
		goto fail;
	}
	fprintf(f, "#iwm-dbexport-state 1 name=%s\n", e->o->name);
	for (i = 0; i < e->nnew; i++)
		fprintf(f, "%s\t%s\t%lld\n", e->new[i].tbl, e->new[i].col,
		    (long long)e->new[i].v);
	if (ferror(f) || fflush(f) == EOF || fsync(fileno(f)) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF || rename(tmp.ptr, path) == -1) {
		iwm_seterr_errno("%s", path);
		goto fail;
	}
	iwm_buf_free(&tmp);
	return 0;
fail:
	iwm_db_status = IWM_EXIT_IO;
	unlink(tmp.ptr);
	iwm_buf_free(&tmp);
	return -1;
}

static const struct hw *
state_find(const struct exp *e, const char *tbl)
{
	size_t i;

	for (i = 0; i < e->nold; i++)
		if (strcmp(e->old[i].tbl, tbl) == 0)
			return &e->old[i];
	return NULL;
}

static int
cexec(struct exp *e, const char *sql)
{
	if (iwm_db_sqlite_exec(e->c, sql, e->out) == -1) {
		if (iwm_db_status == IWM_EXIT_DATA)
			iwm_db_status = IWM_EXIT_IO;
		return -1;
	}
	return 0;
}

static int
cfail(struct exp *e)
{
	iwm_seterr("%s: %s", e->out, sqlite3_errmsg(e->c));
	iwm_db_status = IWM_EXIT_IO;
	return -1;
}

static int
carrier_create(struct exp *e)
{
	sqlite3_stmt *st;
	const char *kv[5][2];
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	unlink(e->out);
	e->c = iwm_db_sqlite_open(e->out, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, e->out);
	if (e->c == NULL) {
		iwm_db_status = IWM_EXIT_IO;
		return -1;
	}
	/* A scratch file until renamed: no journal, no syncs but the last. */
	if (cexec(e, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
	    "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-8192; "
	    "PRAGMA page_size=16384;"
	    "CREATE TABLE _iwm_meta(key TEXT PRIMARY KEY, value TEXT);"
	    "CREATE TABLE _iwm_tables(tbl TEXT PRIMARY KEY, ord INTEGER, "
	    "ddl TEXT, mode TEXT, pkcol TEXT, hw_from INTEGER, hw_to INTEGER, "
	    "rows INTEGER);"
	    "CREATE TABLE _iwm_columns(tbl TEXT, pos INTEGER, name TEXT, "
	    "decl TEXT, generic TEXT, nonnull INTEGER, pk INTEGER, "
	    "autoinc INTEGER, dflt TEXT);"
	    "CREATE TABLE _iwm_indexes(tbl TEXT, name TEXT, uniq INTEGER, "
	    "cols TEXT);"
	    "CREATE TABLE _iwm_extra(tbl TEXT, sql TEXT);") == -1)
		return -1;
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kv[0][0] = "format"; kv[0][1] = "1";
	kv[1][0] = "engine";
	kv[1][1] = e->spec->engine == IWM_DB_MYSQL ? "mysql" : "sqlite";
	kv[2][0] = "name"; kv[2][1] = e->o->name;
	kv[3][0] = "platform"; kv[3][1] = e->o->platform;
	kv[4][0] = "created"; kv[4][1] = created;
	if (sqlite3_prepare_v2(e->c, "INSERT INTO _iwm_meta VALUES(?,?)", -1,
	    &st, NULL) != SQLITE_OK)
		return cfail(e);
	for (i = 0; i < 5; i++) {
		sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return cfail(e);
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (sqlite3_create_module(e->c, "iwm_rows", &rows_module, e) !=
	    SQLITE_OK)
		return cfail(e);
	return cexec(e, "BEGIN");
}

static void
xtable_free(struct xtable *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].decl);
		free(t->cols[i].generic);
		free(t->cols[i].dflt);
	}
	free(t->cols);
	free(t->name);
	free(t->ddl);
	memset(t, 0, sizeof(*t));
}

static struct xcol *
xcol_add(struct xtable *t)
{
	struct xcol *c;

	t->cols = iwm_reallocarray(t->cols, t->ncols + 1, sizeof(*t->cols));
	c = &t->cols[t->ncols++];
	memset(c, 0, sizeof(*c));
	return c;
}

/* Record an index in _iwm_indexes. */
static int
put_index(struct exp *e, const char *tbl, const char *name, int uniq,
    const char *cols)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(e->c, "INSERT INTO _iwm_indexes VALUES(?,?,?,?)",
	    -1, &st, NULL) != SQLITE_OK)
		return cfail(e);
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, uniq);
	sqlite3_bind_text(st, 4, cols, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cfail(e);
}

static MYSQL_RES *
mquery(struct exp *e, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_real_query(e->m, sql, strlen(sql)) != 0) {
		iwm_db_mysql_fail(e->m, e->what, "query");
		return NULL;
	}
	if ((res = mysql_store_result(e->m)) == NULL)
		iwm_db_mysql_fail(e->m, e->what, "query");
	return res;
}

static void
mquote_str(struct exp *e, struct iwm_buf *b, const char *s)
{
	size_t n = strlen(s);

	iwm_buf_grow(b, 2 * n + 3);
	b->ptr[b->len++] = '\'';
	b->len += mysql_real_escape_string(e->m, b->ptr + b->len, s, n);
	b->ptr[b->len++] = '\'';
	b->ptr[b->len] = '\0';
}

/* Columns, DDL and indexes of a MySQL table. */
static int
mysql_describe(struct exp *e, struct xtable *t)
{
	struct iwm_buf q = { 0 }, cols = { 0 };
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *curidx = NULL;
	int curuniq = 0, r = -1;
	size_t i;

	iwm_buf_adds(&q, "SHOW CREATE TABLE ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, t->name);
	if ((res = mquery(e, q.ptr)) == NULL)
		goto out;
	if ((row = mysql_fetch_row(res)) != NULL && row[1] != NULL)
		t->ddl = iwm_strdup(row[1]);
	mysql_free_result(res);

	iwm_buf_reset(&q);
	iwm_buf_adds(&q, "SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, "
	    "IS_NULLABLE, EXTRA, COLUMN_DEFAULT FROM information_schema.COLUMNS "
	    "WHERE TABLE_SCHEMA=DATABASE() AND TABLE_NAME=");
	mquote_str(e, &q, t->name);
	iwm_buf_adds(&q, " ORDER BY ORDINAL_POSITION");
	if ((res = mquery(e, q.ptr)) == NULL)
		goto out;
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct xcol *c = xcol_add(t);

		c->name = iwm_strdup(row[0] != NULL ? row[0] : "");
		c->decl = iwm_strdup(row[1] != NULL ? row[1] : "");
		c->generic = iwm_strdup(iwm_db_generic_mysql(row[2] != NULL ?
		    row[2] : "", c->decl));
		c->notnull = row[3] != NULL && strcmp(row[3], "NO") == 0;
		c->autoinc = row[4] != NULL &&
		    strcasestr(row[4], "auto_increment") != NULL;
		c->dflt = row[5] != NULL ? iwm_strdup(row[5]) : NULL;
	}
	mysql_free_result(res);

	iwm_buf_reset(&q);
	iwm_buf_adds(&q, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, "
	    "SEQ_IN_INDEX FROM information_schema.STATISTICS WHERE "
	    "TABLE_SCHEMA=DATABASE() AND TABLE_NAME=");
	mquote_str(e, &q, t->name);
	iwm_buf_adds(&q, " ORDER BY INDEX_NAME, SEQ_IN_INDEX");
	if ((res = mquery(e, q.ptr)) == NULL)
		goto out;
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *name = row[0] != NULL ? row[0] : "";
		const char *col = row[2] != NULL ? row[2] : "";
		long seq = row[4] != NULL ? strtol(row[4], NULL, 10) : 0;

		if (strcmp(name, "PRIMARY") == 0) {
			for (i = 0; i < t->ncols; i++)
				if (strcmp(t->cols[i].name, col) == 0)
					t->cols[i].pk = (int)seq;
			continue;
		}
		if (curidx != NULL && strcmp(curidx, name) != 0) {
			if (put_index(e, t->name, curidx, curuniq, cols.ptr)
			    == -1) {
				mysql_free_result(res);
				goto out;
			}
			free(curidx);
			curidx = NULL;
		}
		if (curidx == NULL) {
			curidx = iwm_strdup(name);
			curuniq = row[1] != NULL && strcmp(row[1], "0") == 0;
			iwm_buf_reset(&cols);
		} else
			iwm_buf_addc(&cols, ',');
		iwm_buf_adds(&cols, col);
		if (row[3] != NULL)
			iwm_buf_printf(&cols, "(%s)", row[3]);
	}
	mysql_free_result(res);
	if (curidx != NULL && put_index(e, t->name, curidx, curuniq,
	    cols.ptr) == -1)
		goto out;
	r = 0;
out:
	free(curidx);
	iwm_buf_free(&q);
	iwm_buf_free(&cols);
	return r;
}

static int
sqlite_src_fail(struct exp *e, const char *doing)
{
	iwm_seterr("%s: %s: %s", e->what, doing, sqlite3_errmsg(e->s));
	iwm_db_status = IWM_EXIT_DATA;
	return -1;
}

static int
sqlite_describe(struct exp *e, struct xtable *t)
{
	struct iwm_buf q = { 0 }, cols = { 0 };
	sqlite3_stmt *st = NULL, *st2 = NULL;
	int rc, npk = 0, r = -1;
	size_t i;

	iwm_buf_adds(&q, "PRAGMA table_info(");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
	iwm_buf_addc(&q, ')');
	if (sqlite3_prepare_v2(e->s, q.ptr, -1, &st, NULL) != SQLITE_OK) {
		sqlite_src_fail(e, t->name);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct xcol *c = xcol_add(t);
		const char *dt = (const char *)sqlite3_column_text(st, 2);
		const char *df = (const char *)sqlite3_column_text(st, 4);

		c->name = iwm_strdup((const char *)sqlite3_column_text(st, 1));
		c->decl = iwm_strdup(dt != NULL ? dt : "");
		c->generic = iwm_strdup(iwm_db_generic_sqlite(c->decl));
		c->notnull = sqlite3_column_int(st, 3);
		c->dflt = df != NULL ? iwm_strdup(df) : NULL;
		c->pk = sqlite3_column_int(st, 5);
		if (c->pk > 0)
			npk++;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* INTEGER PRIMARY KEY is the rowid: auto-numbered. */
	for (i = 0; i < t->ncols; i++)
		if (npk == 1 && t->cols[i].pk == 1 &&
		    strcasecmp(t->cols[i].decl, "INTEGER") == 0)
			t->cols[i].autoinc = 1;

	iwm_buf_reset(&q);
	iwm_buf_adds(&q, "PRAGMA index_list(");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
	iwm_buf_addc(&q, ')');
	if (sqlite3_prepare_v2(e->s, q.ptr, -1, &st, NULL) != SQLITE_OK) {
		sqlite_src_fail(e, t->name);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *origin = (const char *)sqlite3_column_text(st, 3);
		int uniq = sqlite3_column_int(st, 2), ok = 1;

		if (name == NULL || (origin != NULL && strcmp(origin, "pk") == 0))
			continue;
		iwm_buf_reset(&q);
		iwm_buf_adds(&q, "PRAGMA index_info(");
		iwm_db_quote_ident(&q, IWM_DB_SQLITE, name);
		iwm_buf_addc(&q, ')');
		if (sqlite3_prepare_v2(e->s, q.ptr, -1, &st2, NULL) !=
		    SQLITE_OK) {
			sqlite_src_fail(e, name);
			goto out;
		}
		iwm_buf_reset(&cols);
		while (sqlite3_step(st2) == SQLITE_ROW) {
			const char *cn = (const char *)sqlite3_column_text(st2,
			    2);

			if (cn == NULL) {	/* an expression */
				ok = 0;
				break;
			}
			if (cols.len > 0)
				iwm_buf_addc(&cols, ',');
			iwm_buf_adds(&cols, cn);
		}
		sqlite3_finalize(st2);
		st2 = NULL;
		if (ok && cols.len > 0 && put_index(e, t->name, name, uniq,
		    cols.ptr) == -1)
			goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	/* Indexes and triggers verbatim, for a SQLite target. */
	if (sqlite3_prepare_v2(e->s, "SELECT sql FROM sqlite_master WHERE "
	    "tbl_name=? AND type IN ('index','trigger') AND sql IS NOT NULL "
	    "ORDER BY type, name", -1, &st, NULL) != SQLITE_OK) {
		sqlite_src_fail(e, t->name);
		goto out;
	}
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	if (sqlite3_prepare_v2(e->c, "INSERT INTO _iwm_extra VALUES(?,?)", -1,
	    &st2, NULL) != SQLITE_OK) {
		cfail(e);
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_bind_text(st2, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_value(st2, 2, sqlite3_column_value(st, 0));
		if (sqlite3_step(st2) != SQLITE_DONE) {
			cfail(e);
			goto out;
		}
		sqlite3_reset(st2);
	}
	r = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(st2);
	iwm_buf_free(&q);
	iwm_buf_free(&cols);
	return r;
}

static void
progress(struct exp *e, const char *tbl, uint64_t n, uint64_t est, int end)
{
	time_t now;

	if (!e->o->progress)
		return;
	now = time(NULL);
	if (!end && now == e->lastprog)
		return;
	e->lastprog = now;
	if (est > 0 && !end)
		fprintf(stderr, "\r%s: %s: %llu/~%llu rows", e->o->name, tbl,
		    (unsigned long long)n, (unsigned long long)est);
	else
		fprintf(stderr, "\r%s: %s: %llu rows", e->o->name, tbl,
		    (unsigned long long)n);
	fputs(end ? "\n" : "\033[K", stderr);
}

/*
 * iwm_rows: a virtual table over the source rows being streamed (a
 * MySQL result or a SQLite statement), so that one INSERT ... SELECT
 * fills a transaction's worth of rows: a prepared INSERT stepped once
 * per row costs a statement start, a cursor and a halt per row, as
 * much as the row itself.  A column gives the source's own buffer,
 * valid until the next fetch, which comes only once the row is stored.
 */
struct rows_vtab {
	sqlite3_vtab	 base;
	struct exp	*e;
};

struct rows_cur {
	sqlite3_vtab_cursor base;
	struct exp	*e;
};

static int
rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
    sqlite3_vtab **vt, char **err)
{
	struct exp *e = aux;
	struct rows_vtab *v;
	struct iwm_buf b = { 0 };
	unsigned i;
	int rc;

	iwm_buf_adds(&b, "CREATE TABLE x(");
	for (i = 0; i < e->nf; i++)
		iwm_buf_printf(&b, i > 0 ? ",c%u" : "c%u", i);
	iwm_buf_addc(&b, ')');
	rc = sqlite3_declare_vtab(db, b.ptr);
	iwm_buf_free(&b);
	if (rc != SQLITE_OK)
		return rc;
	if ((v = sqlite3_malloc(sizeof(*v))) == NULL)
		return SQLITE_NOMEM;
	memset(v, 0, sizeof(*v));
	v->e = e;
	*vt = &v->base;
	return SQLITE_OK;
}

static int
rows_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

static int
rows_bestindex(sqlite3_vtab *vt, sqlite3_index_info *ii)
{
	ii->estimatedCost = 1e9;
	return SQLITE_OK;
}

static int
rows_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **cur)
{
	struct rows_cur *c;

	if ((c = sqlite3_malloc(sizeof(*c))) == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	c->e = ((struct rows_vtab *)vt)->e;
	*cur = &c->base;
	return SQLITE_OK;
}

static int
rows_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static void
rows_fetch(struct exp *e)
{
	if (e->sst != NULL) {
		e->srcrc = sqlite3_step(e->sst);
		e->have = e->srcrc == SQLITE_ROW;
	} else if ((e->row = mysql_fetch_row(e->res)) != NULL) {
		e->lens = mysql_fetch_lengths(e->res);
		e->have = 1;
	} else
		e->have = 0;
}

static int
rows_filter(sqlite3_vtab_cursor *cur, int idxnum, const char *idxstr,
    int argc, sqlite3_value **argv)
{
	struct exp *e = ((struct rows_cur *)cur)->e;

	e->chunk = 0;
	rows_fetch(e);
	return SQLITE_OK;
}

/* A transaction ends after COMMIT_ROWS rows, with the next unfetched. */
static int
rows_next(sqlite3_vtab_cursor *cur)
{
	struct exp *e = ((struct rows_cur *)cur)->e;

	if (++e->chunk < COMMIT_ROWS)
		rows_fetch(e);
	return SQLITE_OK;
}

static int
rows_eof(sqlite3_vtab_cursor *cur)
{
	struct exp *e = ((struct rows_cur *)cur)->e;

	return !e->have || e->chunk >= COMMIT_ROWS;
}

/*
 * A SQLite source's value by reference, not copied as
 * sqlite3_result_value() would (a malloc per value).  The connection
 * has one thread, so reading its column value is safe.
 */
static int
rows_column_sqlite(struct exp *e, sqlite3_context *ctx, int i)
{
	sqlite3_value *v = sqlite3_column_value(e->sst, i);
	const void *p;

	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		sqlite3_result_double(ctx, sqlite3_value_double(v));
		break;
	case SQLITE_TEXT:
		p = sqlite3_value_text(v);
		sqlite3_result_text(ctx, p, sqlite3_value_bytes(v),
		    SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		/* An empty blob has no pointer: NULL would make it NULL. */
		if ((p = sqlite3_value_blob(v)) == NULL)
			sqlite3_result_zeroblob(ctx, 0);
		else
			sqlite3_result_blob(ctx, p, sqlite3_value_bytes(v),
			    SQLITE_STATIC);
		break;
	}
	return SQLITE_OK;
}

static int
rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
	struct exp *e = ((struct rows_cur *)cur)->e;
	const char *p;
	size_t len, k = 0;
	int64_t v = 0;
	int neg = 0;

	if (e->sst != NULL)
		return rows_column_sqlite(e, ctx, i);
	p = e->row[i];
	len = e->lens[i];
	if (p == NULL)
		return SQLITE_OK;	/* NULL unless set */
	switch (e->kinds[i]) {
	case 'i':
		/* Plain decimal integers here; else SQLite converts. */
		if (len > 0 && p[0] == '-') {
			neg = 1;
			k = 1;
		}
		if (len - k == 0 || len - k > 18)
			break;
		for (; k < len; k++) {
			if (p[k] < '0' || p[k] > '9')
				break;
			v = v * 10 + (p[k] - '0');
		}
		if (k < len)
			break;
		sqlite3_result_int64(ctx, neg ? -v : v);
		return SQLITE_OK;
	case 'r':
		sqlite3_result_double(ctx, strtod(p, NULL));
		return SQLITE_OK;
	case 'b':
		sqlite3_result_blob(ctx, p, (int)len, SQLITE_STATIC);
		return SQLITE_OK;
	}
	sqlite3_result_text(ctx, p, (int)len, SQLITE_STATIC);
	return SQLITE_OK;
}

static int
rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct rows_cur *)cur)->e->chunk;
	return SQLITE_OK;
}

static const sqlite3_module rows_module = {
	.xCreate = rows_connect,
	.xConnect = rows_connect,
	.xBestIndex = rows_bestindex,
	.xDisconnect = rows_disconnect,
	.xDestroy = rows_disconnect,
	.xOpen = rows_open,
	.xClose = rows_close,
	.xFilter = rows_filter,
	.xNext = rows_next,
	.xEof = rows_eof,
	.xColumn = rows_column,
	.xRowid = rows_rowid,
};

/*
 * Fill the data table from the source rows set up in E, a transaction
 * every COMMIT_ROWS rows.  INSERT is "INSERT INTO main.t SELECT * FROM
 * temp.iwm_rows".
 */
static int
fill(struct exp *e, struct xtable *t, const char *insert, uint64_t *nrows)
{
	sqlite3_stmt *ins = NULL;
	uint64_t n = 0;
	int r = -1;

	/* Declared with this source's columns, dropped after it. */
	if (cexec(e, "CREATE VIRTUAL TABLE temp.iwm_rows USING iwm_rows") ==
	    -1)
		return -1;
	if (sqlite3_prepare_v2(e->c, insert, -1, &ins, NULL) != SQLITE_OK) {
		cfail(e);
		goto out;
	}
	do {
		if (n > 0) {
			if (cexec(e, "COMMIT; BEGIN") == -1)
				goto out;
			progress(e, t->name, n, t->estrows, 0);
		}
		if (sqlite3_step(ins) != SQLITE_DONE) {
			cfail(e);
			goto out;
		}
		sqlite3_reset(ins);
		n += e->chunk;
	} while (e->have);
	*nrows = n;
	r = 0;
out:
	sqlite3_finalize(ins);
	if (sqlite3_exec(e->c, "DROP TABLE temp.iwm_rows", NULL, NULL,
	    NULL) != SQLITE_OK && r == 0)
		r = cfail(e);
	e->have = 0;
	return r;
}

static int
copy_rows_mysql(struct exp *e, struct xtable *t, const char *select,
    const char *insert, uint64_t *nrows)
{
	unsigned i;
	int r;

	if (mysql_real_query(e->m, select, strlen(select)) != 0)
		return iwm_db_mysql_fail(e->m, e->what, t->name);
	/* Streamed: one row at a time from the server. */
	if ((e->res = mysql_use_result(e->m)) == NULL)
		return iwm_db_mysql_fail(e->m, e->what, t->name);
	e->nf = mysql_num_fields(e->res);
	e->kinds = iwm_malloc(e->nf + 1);
	for (i = 0; i < e->nf; i++) {
		const char *g = i < t->ncols ? t->cols[i].generic : "text";

		e->kinds[i] = g[0] == 'i' ? 'i' : g[0] == 'r' ? 'r' :
		    g[0] == 'b' ? 'b' : 't';
	}
	r = fill(e, t, insert, nrows);
	if (r == 0 && mysql_errno(e->m) != 0)
		r = iwm_db_mysql_fail(e->m, e->what, t->name);
	free(e->kinds);
	e->kinds = NULL;
	mysql_free_result(e->res);
	e->res = NULL;
	e->row = NULL;
	return r;
}

static int
copy_rows_sqlite(struct exp *e, struct xtable *t, const char *select,
    const char *insert, uint64_t *nrows)
{
	int r;

	if (sqlite3_prepare_v2(e->s, select, -1, &e->sst, NULL) != SQLITE_OK)
		return sqlite_src_fail(e, t->name);
	e->nf = (unsigned)sqlite3_column_count(e->sst);
	e->srcrc = SQLITE_DONE;
	r = fill(e, t, insert, nrows);
	if (r == 0 && e->srcrc != SQLITE_DONE)
		r = sqlite_src_fail(e, t->name);
	sqlite3_finalize(e->sst);
	e->sst = NULL;
	return r;
}

/* MAX(col) in the snapshot; 0 when the table is empty. */
static int
max_of(struct exp *e, const char *tbl, const char *col, int64_t *v)
{
	struct iwm_buf q = { 0 };
	enum iwm_db_engine en = e->spec->engine;
	int r = 0;

	*v = 0;
	iwm_buf_adds(&q, "SELECT MAX(");
	iwm_db_quote_ident(&q, en, col);
	iwm_buf_adds(&q, ") FROM ");
	iwm_db_quote_ident(&q, en, tbl);
	if (en == IWM_DB_MYSQL) {
		MYSQL_RES *res = mquery(e, q.ptr);
		MYSQL_ROW row;

		if (res == NULL)
			r = -1;
		else {
			if ((row = mysql_fetch_row(res)) != NULL &&
			    row[0] != NULL)
				*v = strtoll(row[0], NULL, 10);
			mysql_free_result(res);
		}
	} else {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(e->s, q.ptr, -1, &st, NULL) != SQLITE_OK)
			r = sqlite_src_fail(e, tbl);
		else {
			if (sqlite3_step(st) == SQLITE_ROW)
				*v = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	iwm_buf_free(&q);
	return r;
}

static int
export_table(struct exp *e, struct xtable *t)
{
	enum iwm_db_engine en = e->spec->engine;
	struct iwm_buf q = { 0 }, sel = { 0 };
	sqlite3_stmt *st = NULL;
	const struct xcol *pk = NULL;
	const struct hw *old = NULL;
	const char *mode = "full";
	int64_t from = 0, to = 0;
	uint64_t n = 0;
	size_t i;
	int npk = 0, r = -1, ranged = 0;

	if (en == IWM_DB_MYSQL ? mysql_describe(e, t) : sqlite_describe(e, t))
		return -1;
	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].pk > 0) {
			npk++;
			pk = &t->cols[i];
		}
	/*
	 * Incremental export: tables with a single auto-numbered integer
	 * key carry only rows above the last high-water mark ("added");
	 * other tables are carried whole and replace the target's.
	 */
	if (e->o->since != NULL) {
		if (npk == 1 && pk->autoinc && strcmp(pk->generic, "int") == 0) {
			if (max_of(e, t->name, pk->name, &to) == -1)
				goto out;
			e->new = iwm_reallocarray(e->new, e->nnew + 1,
			    sizeof(*e->new));
			e->new[e->nnew].tbl = iwm_strdup(t->name);
			e->new[e->nnew].col = iwm_strdup(pk->name);
			e->new[e->nnew].v = to;
			e->nnew++;
			if (!e->since_full) {
				old = state_find(e, t->name);
				mode = "delta";
				if (old != NULL) {
					from = old->v;
					ranged = 1;
				} else
					from = INT64_MIN;
			}
		} else if (!e->since_full)
			mode = "replace";
	}

	/* Describe the table in the carrier. */
	if (sqlite3_prepare_v2(e->c, "INSERT INTO _iwm_columns VALUES"
	    "(?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		cfail(e);
		goto out;
	}
	for (i = 0; i < t->ncols; i++) {
		const struct xcol *c = &t->cols[i];

		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)i);
		sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, c->decl, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, c->generic, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, c->notnull);
		sqlite3_bind_int(st, 7, c->pk);
		sqlite3_bind_int(st, 8, c->autoinc);
		if (c->dflt != NULL)
			sqlite3_bind_text(st, 9, c->dflt, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 9);
		if (sqlite3_step(st) != SQLITE_DONE) {
			cfail(e);
			goto out;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;

	/* The data table: plain columns, no keys (fast to fill). */
	iwm_buf_adds(&q, "CREATE TABLE ");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
	iwm_buf_addc(&q, '(');
	iwm_buf_adds(&sel, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		const char *decl = en == IWM_DB_SQLITE ? t->cols[i].decl :
		    iwm_db_carrier_decl(t->cols[i].generic);

		if (i > 0) {
			iwm_buf_addc(&q, ',');
			iwm_buf_addc(&sel, ',');
		}
		iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->cols[i].name);
		if (*decl != '\0')
			iwm_buf_printf(&q, " %s", decl);
		iwm_db_quote_ident(&sel, en, t->cols[i].name);
	}
	iwm_buf_addc(&q, ')');
	if (cexec(e, q.ptr) == -1)
		goto out;
	iwm_buf_adds(&sel, " FROM ");
	iwm_db_quote_ident(&sel, en, t->name);
	if (strcmp(mode, "delta") == 0 || (e->o->since != NULL && to != 0 &&
	    strcmp(mode, "full") == 0 && pk != NULL && npk == 1 && pk->autoinc)) {
		/* Exactly the rows the state will account for. */
		iwm_buf_adds(&sel, " WHERE ");
		if (ranged) {
			iwm_db_quote_ident(&sel, en, pk->name);
			iwm_buf_printf(&sel, " > %lld AND ", (long long)from);
		}
		iwm_db_quote_ident(&sel, en, pk->name);
		iwm_buf_printf(&sel, " <= %lld", (long long)to);
	}

	iwm_buf_reset(&q);
	/* main.: a table named iwm_rows is not the temp one. */
	iwm_buf_adds(&q, "INSERT INTO main.");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
	iwm_buf_adds(&q, " SELECT * FROM temp.iwm_rows");
	if ((en == IWM_DB_MYSQL ? copy_rows_mysql(e, t, sel.ptr, q.ptr, &n) :
	    copy_rows_sqlite(e, t, sel.ptr, q.ptr, &n)) == -1)
		goto out;
	progress(e, t->name, n, t->estrows, 1);

	if (sqlite3_prepare_v2(e->c, "INSERT INTO _iwm_tables VALUES"
	    "(?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		cfail(e);
		goto out;
	}
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, e->ord++);
	if (t->ddl != NULL)
		sqlite3_bind_text(st, 3, t->ddl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, mode, -1, SQLITE_STATIC);
	if (npk == 1)
		sqlite3_bind_text(st, 5, pk->name, -1, SQLITE_STATIC);
	if (strcmp(mode, "delta") == 0) {
		sqlite3_bind_int64(st, 6, from);
		sqlite3_bind_int64(st, 7, to);
	}
	sqlite3_bind_int64(st, 8, (sqlite3_int64)n);
	if (sqlite3_step(st) != SQLITE_DONE) {
		cfail(e);
		goto out;
	}
	e->o->rows += n;
	e->o->tables++;
	r = 0;
out:
	sqlite3_finalize(st);
	iwm_buf_free(&q);
	iwm_buf_free(&sel);
	return r;
}

static int
list_tables(struct exp *e, struct xtable **tv, size_t *nt)
{
	*tv = NULL;
	*nt = 0;
	if (e->spec->engine == IWM_DB_MYSQL) {
		MYSQL_RES *res = mquery(e, "SELECT TABLE_NAME, TABLE_ROWS FROM "
		    "information_schema.TABLES WHERE TABLE_SCHEMA=DATABASE() "
		    "AND TABLE_TYPE='BASE TABLE' ORDER BY TABLE_NAME");
		MYSQL_ROW row;

		if (res == NULL)
			return -1;
		while ((row = mysql_fetch_row(res)) != NULL) {
			*tv = iwm_reallocarray(*tv, *nt + 1, sizeof(**tv));
			memset(&(*tv)[*nt], 0, sizeof(**tv));
			(*tv)[*nt].name = iwm_strdup(row[0]);
			(*tv)[*nt].estrows = row[1] != NULL ?
			    strtoull(row[1], NULL, 10) : 0;
			(*nt)++;
		}
		mysql_free_result(res);
	} else {
		sqlite3_stmt *st;
		int rc;

		if (sqlite3_prepare_v2(e->s, "SELECT name, sql FROM "
		    "sqlite_master WHERE type='table' AND name NOT LIKE "
		    "'sqlite!_%' ESCAPE '!' AND name NOT LIKE '!_iwm!_%' "
		    "ESCAPE '!' AND sql NOT LIKE 'CREATE VIRTUAL%' "
		    "ORDER BY name", -1, &st, NULL) != SQLITE_OK) {
			if (sqlite3_errcode(e->s) == SQLITE_NOTADB) {
				iwm_seterr("%s: %s: not a SQLite database",
				    e->what, e->spec->dbname);
				iwm_db_status = IWM_EXIT_DATA;
				return -1;
			}
			return sqlite_src_fail(e, e->spec->dbname);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *sql = (const char *)sqlite3_column_text(st,
			    1);

			*tv = iwm_reallocarray(*tv, *nt + 1, sizeof(**tv));
			memset(&(*tv)[*nt], 0, sizeof(**tv));
			(*tv)[*nt].name = iwm_strdup(
			    (const char *)sqlite3_column_text(st, 0));
			(*tv)[*nt].ddl = sql != NULL ? iwm_strdup(sql) : NULL;
			(*nt)++;
		}
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			if (sqlite3_errcode(e->s) == SQLITE_NOTADB) {
				iwm_seterr("%s: %s: not a SQLite database",
				    e->what, e->spec->dbname);
				iwm_db_status = IWM_EXIT_DATA;
				return -1;
			}
			return sqlite_src_fail(e, e->spec->dbname);
		}
		sqlite3_finalize(st);
	}
	return 0;
}

static int
open_source(struct exp *e)
{
	struct stat sb;

	if (e->spec->engine == IWM_DB_MYSQL) {
		if ((e->m = iwm_db_mysql_connect(e->spec, e->what, 0)) == NULL)
			return -1;
		/* One consistent snapshot for every table (InnoDB). */
		if (iwm_db_mysql_exec(e->m, "SET SESSION TRANSACTION ISOLATION "
		    "LEVEL REPEATABLE READ", e->what) == -1 ||
		    iwm_db_mysql_exec(e->m, "START TRANSACTION WITH CONSISTENT "
		    "SNAPSHOT", e->what) == -1)
			return -1;
		return 0;
	}
	if (access(e->spec->dbname, R_OK) == -1) {
		iwm_seterr("%s: %s: %s", e->what, e->spec->dbname,
		    strerror(errno));
		iwm_db_status = IWM_EXIT_UNAVAIL;
		return -1;
	}
	/* SQLite takes an empty file (or /dev/null) for an empty database. */
	if (stat(e->spec->dbname, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		iwm_seterr("%s: %s: not a regular file, so not a SQLite "
		    "database", e->what, e->spec->dbname);
		iwm_db_status = IWM_EXIT_DATA;
		return -1;
	}
	/* One thread uses it: no mutex around each column read. */
	if ((e->s = iwm_db_sqlite_open(e->spec->dbname, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, e->what)) == NULL)
		return -1;
	/* A read transaction: the snapshot holds until COMMIT. */
	return iwm_db_sqlite_exec(e->s, "BEGIN", e->what);
}

int
iwm_dbexport(const struct iwm_dbspec *spec, const char *outfile,
    struct iwm_dbexport_opts *o)
{
	struct exp e;
	struct xtable *tv = NULL;
	struct iwm_buf tmp = { 0 };
	size_t nt = 0, i;
	int r = -1;

	memset(&e, 0, sizeof(e));
	e.spec = spec;
	e.o = o;
	e.what = o->name;
	o->rows = 0;
	o->tables = 0;
	o->delta = 0;
	if (o->platform == NULL)
		o->platform = "unix";
	iwm_db_status = IWM_EXIT_SOFTWARE;
	if (o->since != NULL && state_load(&e, o->since) == -1)
		goto out;
	o->delta = o->since != NULL && !e.since_full;
	if (open_source(&e) == -1)
		goto out;
	iwm_buf_printf(&tmp, "%s.part", outfile);
	e.out = tmp.ptr;
	if (list_tables(&e, &tv, &nt) == -1)
		goto out;
	/* An IceWarp database always has tables: none is a wrong source. */
	if (nt == 0) {
		iwm_seterr("%s: %s: no tables (an empty file or database, or "
		    "not the database meant)", e.what, spec->dbname);
		iwm_db_status = IWM_EXIT_DATA;
		goto out;
	}
	if (carrier_create(&e) == -1)
		goto out;
	if (cexec(&e, o->delta ? "INSERT INTO _iwm_meta VALUES('kind','delta')" :
	    "INSERT INTO _iwm_meta VALUES('kind','full')") == -1)
		goto out;
	for (i = 0; i < nt; i++)
		if (export_table(&e, &tv[i]) == -1)
			goto out;
	if (cexec(&e, "COMMIT") == -1)
		goto out;
	if (sqlite3_close(e.c) != SQLITE_OK) {
		iwm_seterr("%s: cannot close", e.out);
		iwm_db_status = IWM_EXIT_IO;
		e.c = NULL;
		goto out;
	}
	e.c = NULL;
	if (rename(tmp.ptr, outfile) == -1) {
		iwm_seterr_errno("%s", outfile);
		iwm_db_status = IWM_EXIT_IO;
		goto out;
	}
	/* The state moves only once the carrier is safely in place. */
	if (o->since != NULL && state_save(&e, o->since) == -1)
		goto out;
	r = 0;
	iwm_db_status = 0;
out:
	for (i = 0; i < nt; i++)
		xtable_free(&tv[i]);
	free(tv);
	if (e.m != NULL) {
		if (r == 0)
			mysql_query(e.m, "COMMIT");
		mysql_close(e.m);
	}
	if (e.s != NULL) {
		sqlite3_exec(e.s, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(e.s);
	}
	if (e.c != NULL)
		sqlite3_close(e.c);
	if (r == -1 && tmp.ptr != NULL)
		unlink(tmp.ptr);
	iwm_buf_free(&tmp);
	hw_free(e.old, e.nold);
	hw_free(e.new, e.nnew);
	return r;
}
