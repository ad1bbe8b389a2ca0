/*
 * dbimport.c: a carrier file into the target's engine (iwm-restore db),
 * and the table-by-table comparison (iwm-restore db --verify).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dbint.h"

#define BATCH_BYTES (1024 * 1024)

struct imp {
	struct iwm_carrier c;
	const struct iwm_dbspec *spec;
	struct iwm_dbimport_opts *o;
	const char *what;	/* the database's name */
	MYSQL	*m;
	sqlite3	*t;		/* SQLite target */
	int	 convert;	/* platforms differ: fix path columns */
	const char *toplat;
	struct iwm_buf tmp;
	int	 noinfile;	/* the server refuses LOAD DATA LOCAL */
};

static int
is_literal(const char *d)
{
	const char *p = d;

	if (d == NULL || *d == '\0' || strcasecmp(d, "NULL") == 0)
		return 0;
	if (*p == '\'')
		return d[strlen(d) - 1] == '\'' && strlen(d) >= 2;
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return 0;
	return 1;
}

/* "DECIMAL(10,2)" -> its "(10,2)" part, when DECL has one. */
static const char *
decl_args(const char *decl)
{
	const char *p = strchr(decl, '(');

	return p != NULL && strchr(p, ')') != NULL ? p : NULL;
}

static const char *
mysql_type(const struct iwm_ccol *c, struct iwm_buf *scratch, int *longish)
{
	const char *g = c->generic, *a;
	long n;

	*longish = 0;
	iwm_buf_reset(scratch);
	if (strcmp(g, "int") == 0)
		return "BIGINT";
	if (strcmp(g, "real") == 0)
		return "DOUBLE";
	if (strcmp(g, "decimal") == 0) {
		if ((strncasecmp(c->decl, "decimal", 7) == 0 ||
		    strncasecmp(c->decl, "numeric", 7) == 0) &&
		    (a = decl_args(c->decl)) != NULL) {
			iwm_buf_adds(scratch, "DECIMAL");
			iwm_buf_add(scratch, a, (size_t)(strchr(a, ')') - a + 1));
			return scratch->ptr;
		}
		if (strcasestr(c->decl, "bool") != NULL)
			return "TINYINT";
		*longish = 1;
		return "LONGTEXT";
	}
	if (strcmp(g, "text") == 0) {
		if ((strncasecmp(c->decl, "varchar", 7) == 0 ||
		    strncasecmp(c->decl, "char", 4) == 0 ||
		    strncasecmp(c->decl, "nvarchar", 8) == 0) &&
		    (a = decl_args(c->decl)) != NULL &&
		    (n = strtol(a + 1, NULL, 10)) > 0 && n <= 16000) {
			iwm_buf_printf(scratch, "VARCHAR(%ld)", n);
			if (n > 191)
				*longish = 1;
			return scratch->ptr;
		}
		*longish = 1;
		return "LONGTEXT";
	}
	*longish = 1;
	return "LONGBLOB";
}

static const struct iwm_ccol *
find_col(const struct iwm_ctable *t, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (strlen(t->cols[i].name) == len &&
		    strncmp(t->cols[i].name, name, len) == 0)
			return &t->cols[i];
	return NULL;
}

/* "a,b(10)" as a quoted column list; prefixes kept for MySQL. */
static void
index_cols(struct iwm_buf *b, enum iwm_db_engine en,
    const struct iwm_ctable *t, const char *cols)
{
	const char *p = cols, *e, *par;
	struct iwm_buf s = { 0 };
	int first = 1;

	iwm_buf_addc(b, '(');
	while (*p != '\0') {
		const struct iwm_ccol *c;
		char *name;
		int longish = 0;

		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		par = memchr(p, '(', (size_t)(e - p));
		name = iwm_strndup(p, (size_t)((par != NULL ? par : e) - p));
		if (!first)
			iwm_buf_addc(b, ',');
		first = 0;
		iwm_db_quote_ident(b, en, name);
		c = find_col(t, name, strlen(name));
		if (en == IWM_DB_MYSQL) {
			if (par != NULL)
				iwm_buf_add(b, par, (size_t)(e - par));
			else if (c != NULL) {
				mysql_type(c, &s, &longish);
				if (longish)
					iwm_buf_adds(b, "(191)");
			}
		}
		free(name);
		p = *e != '\0' ? e + 1 : e;
	}
	iwm_buf_addc(b, ')');
	iwm_buf_free(&s);
}

static void
gen_mysql_ddl(struct iwm_buf *b, const struct iwm_ctable *t, int ifnot,
    const char *name, int keys)
{
	struct iwm_buf s = { 0 };
	size_t i, k;
	int npk = 0, longish;

	iwm_buf_adds(b, ifnot ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
	iwm_db_quote_ident(b, IWM_DB_MYSQL, name);
	iwm_buf_adds(b, " (\n");
	for (i = 0; i < t->ncols; i++) {
		const struct iwm_ccol *c = &t->cols[i];

		if (c->pk > 0)
			npk++;
		iwm_buf_adds(b, i > 0 ? ",\n  " : "  ");
		iwm_db_quote_ident(b, IWM_DB_MYSQL, c->name);
		iwm_buf_printf(b, " %s", mysql_type(c, &s, &longish));
		if (c->notnull || c->pk > 0)
			iwm_buf_adds(b, " NOT NULL");
		if (c->autoinc && strcmp(c->generic, "int") == 0)
			iwm_buf_adds(b, " AUTO_INCREMENT");
		else if (is_literal(c->dflt))
			iwm_buf_printf(b, " DEFAULT %s", c->dflt);
	}
	if (npk > 0) {
		struct iwm_buf cols = { 0 };

		for (k = 1; k <= (size_t)npk; k++)
			for (i = 0; i < t->ncols; i++)
				if (t->cols[i].pk == (int)k) {
					if (cols.len > 0)
						iwm_buf_addc(&cols, ',');
					iwm_buf_adds(&cols, t->cols[i].name);
				}
		iwm_buf_adds(b, ",\n  PRIMARY KEY ");
		index_cols(b, IWM_DB_MYSQL, t, cols.ptr);
		iwm_buf_free(&cols);
	}
	for (i = 0; keys && i < t->nidx; i++) {
		iwm_buf_adds(b, t->idx[i].uniq ? ",\n  UNIQUE KEY " :
		    ",\n  KEY ");
		iwm_db_quote_ident(b, IWM_DB_MYSQL, t->idx[i].name);
		iwm_buf_addc(b, ' ');
		index_cols(b, IWM_DB_MYSQL, t, t->idx[i].cols);
	}
	iwm_buf_adds(b, "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
	iwm_buf_free(&s);
}

/* The secondary keys of T, added to table NAME in one ALTER (or none). */
static void
gen_mysql_alter(struct iwm_buf *b, const struct iwm_ctable *t,
    const char *name)
{
	size_t i;

	for (i = 0; i < t->nidx; i++) {
		if (i == 0) {
			iwm_buf_adds(b, "ALTER TABLE ");
			iwm_db_quote_ident(b, IWM_DB_MYSQL, name);
		} else
			iwm_buf_addc(b, ',');
		iwm_buf_adds(b, t->idx[i].uniq ? " ADD UNIQUE KEY " :
		    " ADD KEY ");
		iwm_db_quote_ident(b, IWM_DB_MYSQL, t->idx[i].name);
		iwm_buf_addc(b, ' ');
		index_cols(b, IWM_DB_MYSQL, t, t->idx[i].cols);
	}
}

/*
 * A MySQL source's SHOW CREATE TABLE text, for a table called NAME and
 * without its plain and unique secondary keys: those go to one ALTER
 * run after the rows (a sorted build per key instead of upkeep row by
 * row; the server sorts keys by kind, so SHOW CREATE TABLE comes out
 * the same).  FULLTEXT and SPATIAL keys stay.  Returns -1 when the text
 * is not in SHOW CREATE TABLE's shape or has foreign keys (constraint
 * names are per database, so a copy could not be made beside the old
 * table): the caller then uses it as it is.
 */
static int
split_ddl(const char *ddl, const char *name, struct iwm_buf *create,
    struct iwm_buf *alter)
{
	const char *p, *nl, *e;
	size_t nkept = 0, nkeys = 0;

	iwm_buf_reset(create);
	iwm_buf_reset(alter);
	if (strncmp(ddl, "CREATE TABLE `", 14) != 0 ||
	    strstr(ddl, "CONSTRAINT") != NULL || strstr(ddl, "FOREIGN KEY") !=
	    NULL)
		return -1;
	for (p = ddl + 14; *p != '`' || p[1] == '`'; p += *p == '`' ? 2 : 1)
		if (*p == '\0')
			return -1;
	if (strncmp(++p, " (\n", 3) != 0)
		return -1;
	iwm_buf_adds(create, "CREATE TABLE ");
	iwm_db_quote_ident(create, IWM_DB_MYSQL, name);
	iwm_buf_adds(create, " (\n");
	iwm_buf_adds(alter, "ALTER TABLE ");
	iwm_db_quote_ident(alter, IWM_DB_MYSQL, name);
	for (p += 3; *p != ')'; p = nl + 1) {
		if (*p == '\0' || (nl = strchr(p, '\n')) == NULL)
			return -1;
		e = nl > p && nl[-1] == ',' ? nl - 1 : nl;
		if (strncmp(p, "  KEY `", 7) == 0 ||
		    strncmp(p, "  UNIQUE KEY `", 14) == 0) {
			iwm_buf_adds(alter, nkeys++ > 0 ? ", ADD " : " ADD ");
			iwm_buf_add(alter, p + 2, (size_t)(e - p - 2));
			continue;
		}
		if (nkept++ > 0)
			iwm_buf_adds(create, ",\n");
		iwm_buf_add(create, p, (size_t)(e - p));
	}
	if (nkept == 0)
		return -1;
	iwm_buf_addc(create, '\n');
	iwm_buf_adds(create, p);
	if (nkeys == 0)
		iwm_buf_reset(alter);
	return 0;
}

static void
gen_sqlite_ddl(struct iwm_buf *b, const struct iwm_ctable *t, int ifnot)
{
	size_t i, k;
	int npk = 0, rowid = 0;
	const char *g;

	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].pk > 0)
			npk++;
	iwm_buf_adds(b, ifnot ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
	iwm_db_quote_ident(b, IWM_DB_SQLITE, t->name);
	iwm_buf_addc(b, '(');
	for (i = 0; i < t->ncols; i++) {
		const struct iwm_ccol *c = &t->cols[i];

		g = c->generic;
		if (i > 0)
			iwm_buf_addc(b, ',');
		iwm_db_quote_ident(b, IWM_DB_SQLITE, c->name);
		if (npk == 1 && c->pk == 1 && c->autoinc &&
		    strcmp(g, "int") == 0) {
			/* Like AUTO_INCREMENT: numbers are never reused. */
			iwm_buf_adds(b, " INTEGER PRIMARY KEY AUTOINCREMENT");
			rowid = 1;
			continue;
		}
		iwm_buf_printf(b, " %s", strcmp(g, "int") == 0 ? "INTEGER" :
		    strcmp(g, "real") == 0 ? "REAL" : strcmp(g, "blob") == 0 ?
		    "BLOB" : strcmp(g, "any") == 0 ? "BLOB" : "TEXT");
		if (c->notnull)
			iwm_buf_adds(b, " NOT NULL");
		if (is_literal(c->dflt))
			iwm_buf_printf(b, " DEFAULT %s", c->dflt);
	}
	if (npk > 0 && !rowid) {
		iwm_buf_adds(b, ",PRIMARY KEY(");
		for (k = 1; k <= (size_t)npk; k++)
			for (i = 0; i < t->ncols; i++)
				if (t->cols[i].pk == (int)k) {
					if (k > 1)
						iwm_buf_addc(b, ',');
					iwm_db_quote_ident(b, IWM_DB_SQLITE,
					    t->cols[i].name);
				}
		iwm_buf_addc(b, ')');
	}
	iwm_buf_addc(b, ')');
}

/* "CREATE TABLE x" -> "CREATE TABLE IF NOT EXISTS x". */
static void
ddl_ifnot(struct iwm_buf *b, const char *ddl)
{
	if (strncasecmp(ddl, "CREATE TABLE ", 13) == 0 &&
	    strncasecmp(ddl + 13, "IF NOT EXISTS", 13) != 0) {
		iwm_buf_adds(b, "CREATE TABLE IF NOT EXISTS ");
		iwm_buf_adds(b, ddl + 13);
	} else
		iwm_buf_adds(b, ddl);
}

static int
texec(struct imp *im, const char *sql)
{
	if (im->m != NULL)
		return iwm_db_mysql_exec(im->m, sql, im->what);
	return iwm_db_sqlite_exec(im->t, sql, im->what);
}

static int
create_table(struct imp *im, const struct iwm_ctable *t)
{
	enum iwm_db_engine en = im->spec->engine;
	int same = strcmp(im->c.engine, en == IWM_DB_MYSQL ? "mysql" :
	    "sqlite") == 0 && t->ddl != NULL;
	int full = strcmp(t->mode, "full") == 0;
	struct iwm_buf q = { 0 };
	int r = 0;

	if (full) {
		iwm_buf_adds(&q, "DROP TABLE IF EXISTS ");
		iwm_db_quote_ident(&q, en, t->name);
		r = texec(im, q.ptr);
		iwm_buf_reset(&q);
	}
	if (r == 0) {
		if (same && full)
			iwm_buf_adds(&q, t->ddl);
		else if (same)
			ddl_ifnot(&q, t->ddl);
		else if (en == IWM_DB_MYSQL)
			gen_mysql_ddl(&q, t, !full, t->name, 1);
		else
			gen_sqlite_ddl(&q, t, !full);
		r = texec(im, q.ptr);
	}
	/* (MySQL: import_mysql_inplace() does it in its transaction.) */
	if (r == 0 && strcmp(t->mode, "replace") == 0 && im->m == NULL) {
		iwm_buf_reset(&q);
		iwm_buf_adds(&q, "DELETE FROM ");
		iwm_db_quote_ident(&q, en, t->name);
		r = texec(im, q.ptr);
	}
	iwm_buf_free(&q);
	return r;
}

/* Indexes and triggers after the rows (faster than keeping them up). */
static int
create_late(struct imp *im, const struct iwm_ctable *t)
{
	struct iwm_buf q = { 0 };
	size_t i;
	int r = 0;

	if (im->m != NULL || strcmp(t->mode, "full") != 0)
		return 0;
	if (strcmp(im->c.engine, "sqlite") == 0) {
		for (i = 0; i < t->nextra && r == 0; i++)
			r = texec(im, t->extra[i]);
		return r;
	}
	for (i = 0; i < t->nidx && r == 0; i++) {
		iwm_buf_reset(&q);
		iwm_buf_adds(&q, t->idx[i].uniq ? "CREATE UNIQUE INDEX " :
		    "CREATE INDEX ");
		/* SQLite index names are per database, MySQL's per table. */
		iwm_buf_printf(&q, "\"%s_", t->name);
		iwm_buf_adds(&q, t->idx[i].name);
		iwm_buf_adds(&q, "\" ON ");
		iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
		index_cols(&q, IWM_DB_SQLITE, t, t->idx[i].cols);
		r = texec(im, q.ptr);
	}
	iwm_buf_free(&q);
	return r;
}

static void
progress(struct imp *im, const char *tbl, uint64_t n, int end)
{
	static time_t last;
	time_t now;

	if (!im->o->progress)
		return;
	now = time(NULL);
	if (!end && now == last)
		return;
	last = now;
	fprintf(stderr, "\r%s: %s: %llu rows%s", im->what, tbl,
	    (unsigned long long)n, end ? "\n" : "\033[K");
}

static void
add_escaped(struct iwm_buf *b, const unsigned char *s, size_t n)
{
	size_t i;
	char *w;

	iwm_buf_grow(b, 2 * n + 3);
	w = b->ptr + b->len;
	*w++ = '\'';
	for (i = 0; i < n; i++) {
		unsigned char ch = s[i];

		switch (ch) {
		case 0: *w++ = '\\'; *w++ = '0'; break;
		case '\n': *w++ = '\\'; *w++ = 'n'; break;
		case '\r': *w++ = '\\'; *w++ = 'r'; break;
		case '\\': *w++ = '\\'; *w++ = '\\'; break;
		case '\'': *w++ = '\\'; *w++ = '\''; break;
		case 0x1a: *w++ = '\\'; *w++ = 'Z'; break;
		default: *w++ = (char)ch;
		}
	}
	*w++ = '\'';
	*w = '\0';
	b->len = (size_t)(w - b->ptr);
}

static void
add_hex(struct iwm_buf *b, const unsigned char *s, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;
	char *w;

	if (n == 0) {
		iwm_buf_adds(b, "''");
		return;
	}
	iwm_buf_grow(b, 2 * n + 4);
	w = b->ptr + b->len;
	*w++ = 'X';
	*w++ = '\'';
	for (i = 0; i < n; i++) {
		*w++ = hx[s[i] >> 4];
		*w++ = hx[s[i] & 15];
	}
	*w++ = '\'';
	*w = '\0';
	b->len = (size_t)(w - b->ptr);
}

/* The text of a path column, converted to the target's separators. */
static const unsigned char *
pathfix(struct imp *im, const unsigned char *s, size_t n)
{
	iwm_buf_reset(&im->tmp);
	iwm_buf_add(&im->tmp, s, n);
	iwm_db_convert_path(im->tmp.ptr, n, im->toplat);
	return (const unsigned char *)im->tmp.ptr;
}

static void
add_value(struct imp *im, struct iwm_buf *b, sqlite3_stmt *st, int i,
    const struct iwm_ccol *c)
{
	const unsigned char *s;
	size_t n;
	double d;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		iwm_buf_adds(b, "NULL");
		break;
	case SQLITE_INTEGER:
		iwm_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st,
		    i));
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		if (isfinite(d))
			iwm_buf_printf(b, "%.17g", d);
		else
			iwm_buf_adds(b, "NULL");
		break;
	case SQLITE_TEXT:
		s = sqlite3_column_text(st, i);
		n = (size_t)sqlite3_column_bytes(st, i);
		if (im->convert && c->path)
			s = pathfix(im, s, n);
		add_escaped(b, s, n);
		break;
	default:
		s = sqlite3_column_blob(st, i);
		n = (size_t)sqlite3_column_bytes(st, i);
		add_hex(b, s, n);
		break;
	}
}

/*
 * MySQL without LOAD DATA LOCAL (refused by the server): multi-row
 * INSERTs of about 1 MB into table TBL; each is sent before the next one
 * is built, so the server works while we prepare (send/read split).
 */
static int
load_mysql(struct imp *im, const struct iwm_ctable *t, const char *tbl,
    sqlite3_stmt *st, uint64_t *nrows)
{
	struct iwm_buf head = { 0 }, b[2] = { { 0 }, { 0 } };
	int cur = 0, inflight = 0, rc, r = -1, delta;
	size_t i, nc = t->ncols;
	uint64_t n = 0, inbatch = 0;

	delta = strcmp(t->mode, "delta") == 0;
	iwm_buf_adds(&head, delta ? "REPLACE INTO " : "INSERT INTO ");
	iwm_db_quote_ident(&head, IWM_DB_MYSQL, tbl);
	iwm_buf_adds(&head, " (");
	for (i = 0; i < nc; i++) {
		if (i > 0)
			iwm_buf_addc(&head, ',');
		iwm_db_quote_ident(&head, IWM_DB_MYSQL, t->cols[i].name);
	}
	iwm_buf_adds(&head, ") VALUES ");
	for (;;) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			struct iwm_buf *w = &b[cur];

			if (inbatch == 0) {
				iwm_buf_reset(w);
				iwm_buf_add(w, head.ptr, head.len);
			} else
				iwm_buf_addc(w, ',');
			iwm_buf_addc(w, '(');
			for (i = 0; i < nc; i++) {
				if (i > 0)
					iwm_buf_addc(w, ',');
				add_value(im, w, st, (int)i, &t->cols[i]);
			}
			iwm_buf_addc(w, ')');
			inbatch++;
			n++;
			if (w->len < BATCH_BYTES)
				continue;
		} else if (rc != SQLITE_DONE) {
			iwm_seterr("%s: %s: %s", im->c.path, t->name,
			    sqlite3_errmsg(im->c.db));
			iwm_db_status = IWM_EXIT_DATA;
			goto out;
		}
		if (inflight) {
			if (mysql_read_query_result(im->m) != 0) {
				iwm_db_mysql_fail(im->m, im->what, t->name);
				inflight = 0;
				goto out;
			}
			inflight = 0;
		}
		if (inbatch > 0) {
			if (mysql_send_query(im->m, b[cur].ptr,
			    (unsigned long)b[cur].len) != 0) {
				iwm_db_mysql_fail(im->m, im->what, t->name);
				goto out;
			}
			inflight = 1;
			cur ^= 1;
			inbatch = 0;
			progress(im, t->name, n, 0);
		}
		if (rc == SQLITE_DONE)
			break;
	}
	if (inflight) {
		inflight = 0;
		if (mysql_read_query_result(im->m) != 0) {
			iwm_db_mysql_fail(im->m, im->what, t->name);
			goto out;
		}
	}
	*nrows = n;
	r = 0;
out:
	if (inflight)
		mysql_read_query_result(im->m);
	iwm_buf_free(&head);
	iwm_buf_free(&b[0]);
	iwm_buf_free(&b[1]);
	return r;
}

/*
 * MySQL: LOAD DATA LOCAL INFILE fed by callbacks that encode carrier
 * rows in LOAD DATA's text form (tab between fields, newline after each
 * row, \N for NULL, backslash escapes), so no file is written and the
 * server never parses SQL per row.  A table goes in statements of
 * CHUNK_ROWS rows, each its own transaction; the first one is short
 * (FIRST_ROWS): MariaDB 10.7+ loads a transaction that starts on an
 * empty table in "bulk" mode, measured 2x slower than plain inserts for
 * a 1M row table.
 */
#define FIRST_ROWS	256
#define CHUNK_ROWS	131072
#define FILL_BYTES	(64 * 1024)

struct infile {
	struct imp *im;
	const struct iwm_ctable *t;
	sqlite3_stmt *st;
	struct iwm_buf b;	/* encoded, not yet handed to the library */
	size_t	 off;
	uint64_t n;		/* rows encoded, whole table */
	uint64_t limit;		/* the current statement ends at row LIMIT */
	int	 done;		/* the carrier has no more rows */
	int	 err;		/* carrier read error (iwm_seterr done) */
	int	 called;	/* the server asked for the data */
};

/* Bytes that LOAD DATA must see escaped (0 when plain). */
static const char inf_esc[256] = {
	[0] = '0', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
};

static void
inf_bytes(struct iwm_buf *b, const unsigned char *s, size_t n)
{
	size_t i;
	char *w;

	iwm_buf_grow(b, 2 * n + 1);
	w = b->ptr + b->len;
	for (i = 0; i < n; i++) {
		if (inf_esc[s[i]] != 0) {
			*w++ = '\\';
			*w++ = inf_esc[s[i]];
		} else
			*w++ = (char)s[i];
	}
	b->len = (size_t)(w - b->ptr);
}

static void
inf_int(struct iwm_buf *b, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	iwm_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Encode rows into f->b until FILL_BYTES, the chunk's end or the end. */
static void
inf_fill(struct infile *f)
{
	struct imp *im = f->im;
	sqlite3_stmt *st = f->st;
	size_t i, nc = f->t->ncols, n;
	const unsigned char *s;
	double d;
	int rc;

	while (f->b.len < FILL_BYTES && f->n < f->limit && !f->done) {
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			f->done = 1;
			if (rc != SQLITE_DONE) {
				iwm_seterr("%s: %s: %s", im->c.path,
				    f->t->name, sqlite3_errmsg(im->c.db));
				iwm_db_status = IWM_EXIT_DATA;
				f->err = 1;
			}
			break;
		}
		for (i = 0; i < nc; i++) {
			if (i > 0)
				iwm_buf_addc(&f->b, '\t');
			switch (sqlite3_column_type(st, (int)i)) {
			case SQLITE_NULL:
				iwm_buf_add(&f->b, "\\N", 2);
				break;
			case SQLITE_INTEGER:
				inf_int(&f->b, (long long)sqlite3_column_int64(
				    st, (int)i));
				break;
			case SQLITE_FLOAT:
				d = sqlite3_column_double(st, (int)i);
				if (isfinite(d))
					iwm_buf_printf(&f->b, "%.17g", d);
				else
					iwm_buf_add(&f->b, "\\N", 2);
				break;
			case SQLITE_TEXT:
				s = sqlite3_column_text(st, (int)i);
				n = (size_t)sqlite3_column_bytes(st, (int)i);
				if (im->convert && f->t->cols[i].path)
					s = pathfix(im, s, n);
				inf_bytes(&f->b, s, n);
				break;
			default:
				s = sqlite3_column_blob(st, (int)i);
				n = (size_t)sqlite3_column_bytes(st, (int)i);
				inf_bytes(&f->b, s, n);
				break;
			}
		}
		iwm_buf_addc(&f->b, '\n');
		if (++f->n % 65536 == 0)
			progress(im, f->t->name, f->n, 0);
	}
}

static int
inf_init(void **ptr, const char *file, void *ud)
{
	struct infile *f = ud;

	(void)file;		/* never a file: the rows come from f */
	f->called = 1;
	*ptr = f;
	return 0;
}

static int
inf_read(void *ptr, char *buf, unsigned int len)
{
	struct infile *f = ptr;
	size_t k = 0, a;

	while (k < len && !f->err) {
		if (f->off == f->b.len) {
			iwm_buf_reset(&f->b);
			f->off = 0;
			inf_fill(f);
			if (f->b.len == 0)
				break;
		}
		a = f->b.len - f->off;
		if (a > len - k)
			a = len - k;
		memcpy(buf + k, f->b.ptr + f->off, a);
		k += a;
		f->off += a;
	}
	return f->err ? -1 : (int)k;
}

static void
inf_end(void *ptr)
{
	(void)ptr;
}

static int
inf_error(void *ptr, char *buf, unsigned int len)
{
	snprintf(buf, len, "cannot read the carrier");
	(void)ptr;
	return 2000;
}

/*
 * LOAD DATA LOCAL refused by configuration: MariaDB 4166 (10.5+) or
 * 1148, MySQL 8 3948/3950, the client library 2068.
 */
static int
infile_refused(unsigned e)
{
	return e == 4166 || e == 1148 || e == 3948 || e == 3950 || e == 2068;
}

/*
 * May rows go to a table made by DDL as CHARACTER SET binary (bytes
 * stored as they come, about 5% less server time than utf8mb4)?  Only
 * when every text column is utf8mb4, where both store the same bytes,
 * and no ENUM or SET (which convert from binary byte by byte).
 */
static int
ddl_binary_safe(const char *ddl)
{
	const char *p;

	if (ddl == NULL || strcasestr(ddl, "enum(") != NULL ||
	    strcasestr(ddl, "set(") != NULL ||
	    strcasestr(ddl, "CHARSET=utf8mb4") == NULL)
		return 0;
	for (p = ddl; (p = strcasestr(p, "CHARSET=")) != NULL; p += 8)
		if (strncasecmp(p + 8, "utf8mb4", 7) != 0)
			return 0;
	for (p = ddl; (p = strcasestr(p, "CHARACTER SET ")) != NULL; p += 14)
		if (strncasecmp(p + 14, "utf8mb4", 7) != 0 &&
		    strncasecmp(p + 14, "binary", 6) != 0)
			return 0;
	return 1;
}

/*
 * Load T's rows from ST into table TBL, made by DDL (NULL: not known).
 * Returns 0, -1 on error, 1 when the server refused LOAD DATA LOCAL
 * before any row was sent (im->noinfile is set; nothing was loaded).
 */
static int
load_infile(struct imp *im, const struct iwm_ctable *t, const char *tbl,
    const char *ddl, sqlite3_stmt *st, uint64_t *nrows)
{
	struct infile f;
	struct iwm_buf q = { 0 };
	const char *info;
	size_t i;
	int r = -1;

	memset(&f, 0, sizeof(f));
	f.im = im;
	f.t = t;
	f.st = st;
	iwm_buf_adds(&q, "LOAD DATA LOCAL INFILE 'iwm-carrier' ");
	if (strcmp(t->mode, "delta") == 0)
		iwm_buf_adds(&q, "REPLACE ");
	iwm_buf_adds(&q, "INTO TABLE ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, tbl);
	/*
	 * Else utf8mb4, the connection's character set, as for INSERT:
	 * text is converted for a column in another character set, bytes
	 * go unchanged into binary columns.
	 */
	iwm_buf_adds(&q, ddl_binary_safe(ddl) ? " CHARACTER SET binary" :
	    " CHARACTER SET utf8mb4");
	iwm_buf_adds(&q, " FIELDS TERMINATED BY '\\t' ENCLOSED BY '' "
	    "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' STARTING BY '' (");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			iwm_buf_addc(&q, ',');
		iwm_db_quote_ident(&q, IWM_DB_MYSQL, t->cols[i].name);
	}
	iwm_buf_addc(&q, ')');
	mysql_set_local_infile_handler(im->m, inf_init, inf_read, inf_end,
	    inf_error, &f);
	while (!f.done) {
		f.limit = f.n + (f.n == 0 ? FIRST_ROWS : CHUNK_ROWS);
		f.called = 0;
		if (mysql_real_query(im->m, q.ptr, (unsigned long)q.len) != 0) {
			if (f.err)
				goto out;
			if (f.n == 0 && !f.called &&
			    infile_refused(mysql_errno(im->m))) {
				im->noinfile = 1;
				r = 1;
				goto out;
			}
			iwm_db_mysql_fail(im->m, im->what, t->name);
			goto out;
		}
		if (f.err)
			goto out;
		/*
		 * LOCAL implies IGNORE: a row the server rejects (duplicate
		 * key) is only counted.  Make that an error.
		 */
		if ((info = mysql_info(im->m)) != NULL &&
		    (info = strstr(info, "Skipped: ")) != NULL &&
		    strtoull(info + 9, NULL, 10) > 0) {
			iwm_seterr("%s: %s: %llu rows rejected by the server "
			    "(duplicate keys)", im->what, t->name,
			    strtoull(info + 9, NULL, 10));
			iwm_db_status = IWM_EXIT_DATA;
			goto out;
		}
		if (f.n < f.limit)
			f.done = 1;
	}
	*nrows = f.n;
	r = 0;
out:
	mysql_set_local_infile_default(im->m);
	iwm_buf_free(&f.b);
	iwm_buf_free(&q);
	return r;
}

static int
load_sqlite(struct imp *im, const struct iwm_ctable *t, sqlite3_stmt *st,
    uint64_t *nrows)
{
	struct iwm_buf q = { 0 };
	sqlite3_stmt *ins = NULL;
	size_t i, nc = t->ncols;
	uint64_t n = 0;
	int rc, r = -1;

	iwm_buf_adds(&q, strcmp(t->mode, "delta") == 0 ?
	    "INSERT OR REPLACE INTO " : "INSERT INTO ");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
	iwm_buf_adds(&q, " (");
	for (i = 0; i < nc; i++) {
		if (i > 0)
			iwm_buf_addc(&q, ',');
		iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->cols[i].name);
	}
	iwm_buf_adds(&q, ") VALUES (");
	for (i = 0; i < nc; i++)
		iwm_buf_adds(&q, i > 0 ? ",?" : "?");
	iwm_buf_addc(&q, ')');
	if (sqlite3_prepare_v2(im->t, q.ptr, -1, &ins, NULL) != SQLITE_OK) {
		iwm_seterr("%s: %s: %s", im->what, t->name,
		    sqlite3_errmsg(im->t));
		iwm_db_status = IWM_EXIT_DATA;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < nc; i++) {
			if (im->convert && t->cols[i].path &&
			    sqlite3_column_type(st, (int)i) == SQLITE_TEXT) {
				size_t len = (size_t)sqlite3_column_bytes(st,
				    (int)i);
				const unsigned char *s = pathfix(im,
				    sqlite3_column_text(st, (int)i), len);

				sqlite3_bind_text(ins, (int)i + 1,
				    (const char *)s, (int)len, SQLITE_TRANSIENT);
			} else
				sqlite3_bind_value(ins, (int)i + 1,
				    sqlite3_column_value(st, (int)i));
		}
		if (sqlite3_step(ins) != SQLITE_DONE) {
			iwm_seterr("%s: %s: %s", im->what, t->name,
			    sqlite3_errmsg(im->t));
			iwm_db_status = IWM_EXIT_DATA;
			goto out;
		}
		sqlite3_reset(ins);
		if (++n % 65536 == 0)
			progress(im, t->name, n, 0);
	}
	if (rc != SQLITE_DONE) {
		iwm_seterr("%s: %s: %s", im->c.path, t->name,
		    sqlite3_errmsg(im->c.db));
		iwm_db_status = IWM_EXIT_DATA;
		goto out;
	}
	*nrows = n;
	r = 0;
out:
	sqlite3_finalize(ins);
	iwm_buf_free(&q);
	return r;
}

static sqlite3_stmt *
carrier_select(struct imp *im, const struct iwm_ctable *t)
{
	struct iwm_buf q = { 0 };
	sqlite3_stmt *st = NULL;
	size_t i;

	iwm_buf_adds(&q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			iwm_buf_addc(&q, ',');
		iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->cols[i].name);
	}
	iwm_buf_adds(&q, " FROM ");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, t->name);
	if (sqlite3_prepare_v2(im->c.db, q.ptr, -1, &st, NULL) != SQLITE_OK) {
		iwm_seterr("%s: %s: %s", im->c.path, t->name,
		    sqlite3_errmsg(im->c.db));
		iwm_db_status = IWM_EXIT_DATA;
		st = NULL;
	}
	iwm_buf_free(&q);
	return st;
}

/* Rows of T into MySQL table TBL (made by DDL): LOAD DATA, else INSERTs. */
static int
load_rows(struct imp *im, const struct iwm_ctable *t, const char *tbl,
    const char *ddl, uint64_t *n)
{
	sqlite3_stmt *st;
	int r = 1;

	*n = 0;
	if ((st = carrier_select(im, t)) == NULL)
		return -1;
	if (!im->noinfile)
		r = load_infile(im, t, tbl, ddl, st, n);
	if (r == 1) {
		sqlite3_reset(st);
		r = load_mysql(im, t, tbl, st, n);
	}
	sqlite3_finalize(st);
	return r;
}

/* "_iwm_new_NAME" or, when that is too long, "_iwm_new_<hash>". */
static void
side_name(char *out, size_t size, const char *pfx, const char *name)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;
	size_t a = strlen(pfx), b = strlen(name);

	if (a + b <= 64 && a + b < size) {
		memcpy(out, pfx, a);
		memcpy(out + a, name, b + 1);
		return;
	}
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(out, size, "%s%016llx", pfx, (unsigned long long)h);
}

static int
rename_into_place(struct imp *im, const char *name, const char *tmp)
{
	struct iwm_buf q = { 0 };
	char old[80];
	int r;

	side_name(old, sizeof(old), "_iwm_old_", name);
	iwm_buf_adds(&q, "DROP TABLE IF EXISTS ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, old);
	if ((r = iwm_db_mysql_exec(im->m, q.ptr, im->what)) == -1)
		goto out;
	/* One RENAME of both: atomic, and nothing happens if it fails. */
	iwm_buf_reset(&q);
	iwm_buf_adds(&q, "RENAME TABLE ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, name);
	iwm_buf_adds(&q, " TO ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, old);
	iwm_buf_adds(&q, ", ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, tmp);
	iwm_buf_adds(&q, " TO ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, name);
	if (mysql_real_query(im->m, q.ptr, (unsigned long)q.len) == 0) {
		iwm_buf_reset(&q);
		iwm_buf_adds(&q, "DROP TABLE ");
		iwm_db_quote_ident(&q, IWM_DB_MYSQL, old);
		r = iwm_db_mysql_exec(im->m, q.ptr, im->what);
		goto out;
	}
	if (mysql_errno(im->m) != 1146) {	/* ER_NO_SUCH_TABLE */
		r = iwm_db_mysql_fail(im->m, im->what, name);
		goto out;
	}
	iwm_buf_reset(&q);
	iwm_buf_adds(&q, "RENAME TABLE ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, tmp);
	iwm_buf_adds(&q, " TO ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, name);
	r = iwm_db_mysql_exec(im->m, q.ptr, im->what);
out:
	iwm_buf_free(&q);
	return r;
}

/*
 * A whole table into MySQL.  It is built under a side name
 * (_iwm_new_NAME) without its secondary keys, loaded, given its keys in
 * one ALTER, then renamed over the old table in one atomic RENAME: a
 * failure leaves the old table as it was (and _iwm_new_NAME, dropped
 * on the failure when the connection still works, else on the next
 * run).  A definition with foreign keys is loaded in place (old table
 * dropped first) as before.
 */
static int
import_mysql_full(struct imp *im, const struct iwm_ctable *t, uint64_t *n)
{
	struct iwm_buf create = { 0 }, alter = { 0 }, q = { 0 };
	int same = strcmp(im->c.engine, "mysql") == 0 && t->ddl != NULL;
	char tmp[80];
	const char *tbl = tmp;
	int r = -1, made = 0;

	side_name(tmp, sizeof(tmp), "_iwm_new_", t->name);
	if (!same) {
		gen_mysql_ddl(&create, t, 0, tmp, 0);
		gen_mysql_alter(&alter, t, tmp);
	} else if (split_ddl(t->ddl, tmp, &create, &alter) == -1) {
		/* In place, with the definition as it is. */
		iwm_buf_reset(&create);
		iwm_buf_reset(&alter);
		iwm_buf_adds(&create, t->ddl);
		tbl = t->name;
	}
	iwm_buf_adds(&q, "DROP TABLE IF EXISTS ");
	iwm_db_quote_ident(&q, IWM_DB_MYSQL, tbl);
	if (iwm_db_mysql_exec(im->m, q.ptr, im->what) == -1 ||
	    iwm_db_mysql_exec(im->m, create.ptr, im->what) == -1)
		goto out;
	made = 1;
	if (load_rows(im, t, tbl, create.ptr, n) == -1)
		goto out;
	if (alter.len > 0 && iwm_db_mysql_exec(im->m, alter.ptr, im->what) ==
	    -1)
		goto out;
	if (tbl == tmp && rename_into_place(im, t->name, tmp) == -1)
		goto out;
	r = 0;
out:
	if (r == -1 && made && tbl == tmp)
		/* Best effort: the error already set stays. */
		mysql_real_query(im->m, q.ptr, (unsigned long)q.len);
	iwm_buf_free(&create);
	iwm_buf_free(&alter);
	iwm_buf_free(&q);
	return r;
}

/*
 * A delta (REPLACE by key) or a replaced small table (DELETE, then the
 * rows) into MySQL: in the table itself, in one transaction.
 */
static int
import_mysql_inplace(struct imp *im, const struct iwm_ctable *t,
    uint64_t *n)
{
	int r;

	if (create_table(im, t) == -1 || iwm_db_mysql_exec(im->m,
	    "START TRANSACTION", im->what) == -1)
		return -1;
	if (strcmp(t->mode, "replace") == 0) {
		struct iwm_buf q = { 0 };

		iwm_buf_adds(&q, "DELETE FROM ");
		iwm_db_quote_ident(&q, IWM_DB_MYSQL, t->name);
		r = iwm_db_mysql_exec(im->m, q.ptr, im->what);
		iwm_buf_free(&q);
		if (r == -1)
			goto fail;
	}
	if (load_rows(im, t, t->name, NULL, n) == -1 ||
	    iwm_db_mysql_exec(im->m, "COMMIT", im->what) == -1)
		goto fail;
	return 0;
fail:
	mysql_real_query(im->m, "ROLLBACK", 8);
	return -1;
}

static int
imp_open(struct imp *im, const char *carrier, const struct iwm_dbspec *spec,
    struct iwm_dbimport_opts *o, int verify)
{
	struct iwm_pathcols *pc;
	int fresh;

	memset(im, 0, sizeof(*im));
	im->spec = spec;
	im->o = o;
	o->rows = 0;
	o->tables = 0;
	o->bad = 0;
	if (iwm_carrier_open(&im->c, carrier) == -1)
		return -1;
	im->what = o->name != NULL ? o->name : im->c.name;
	im->toplat = o->platform != NULL ? o->platform : "unix";
	if (strcmp(im->c.platform, im->toplat) != 0) {
		im->convert = 1;
		if ((pc = iwm_pathcols_load()) == NULL) {
			iwm_db_status = IWM_EXIT_SOFTWARE;
			return -1;
		}
		iwm_carrier_mark_paths(&im->c, pc);
		iwm_pathcols_free(pc);
	}
	if (spec->engine == IWM_DB_MYSQL) {
		if ((im->m = iwm_db_mysql_connect(spec, im->what, verify ? 0 :
		    IWM_DBC_CREATE | IWM_DBC_INFILE)) == NULL)
			return -1;
		return 0;
	}
	if (verify && access(spec->dbname, F_OK) == -1) {
		iwm_seterr("%s: %s: %s", im->what, spec->dbname,
		    strerror(errno));
		iwm_db_status = IWM_EXIT_UNAVAIL;
		return -1;
	}
	fresh = !verify && access(spec->dbname, F_OK) == -1;
	im->t = iwm_db_sqlite_open(spec->dbname, verify ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, im->what);
	if (im->t == NULL)
		return -1;
	/* A database made here belongs to the server, as its folder does. */
	if (fresh && iwm_own_as_parent(-1, spec->dbname) == -1) {
		iwm_seterr("%s: %s", im->what, iwm_err());
		iwm_db_status = IWM_EXIT_IO;
		return -1;
	}
	if (!verify && iwm_db_sqlite_exec(im->t, "PRAGMA foreign_keys=OFF",
	    im->what) == -1)
		return -1;
	return 0;
}

static void
imp_close(struct imp *im)
{
	if (im->m != NULL)
		mysql_close(im->m);
	if (im->t != NULL)
		sqlite3_close(im->t);
	iwm_carrier_close(&im->c);
	iwm_buf_free(&im->tmp);
}

/*
 * Before the accounts database is replaced: warn (standard error) when
 * the target's Users table holds accounts the source's does not, such
 * as the target's administrator (iwm-restore preserved re-creates it).
 */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
user_key(const char *alias, const char *domain)
{
	struct iwm_buf b = { 0 };
	char *p;

	iwm_buf_printf(&b, "%s@%s", alias != NULL ? alias : "",
	    domain != NULL ? domain : "");
	for (p = b.ptr; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return iwm_buf_steal(&b);
}

static void
lost_one(const char *alias, const char *domain, char **src, size_t nsrc,
    struct iwm_buf *ex, size_t *nlost)
{
	char *k = user_key(alias, domain);

	if (bsearch(&k, src, nsrc, sizeof(*src), cmp_str) == NULL) {
		if (*nlost < 5)
			iwm_buf_printf(ex, "%s%s", *nlost > 0 ? ", " : "", k);
		(*nlost)++;
	}
	free(k);
}

static void
warn_lost_accounts(struct imp *im)
{
	static const char q[] = "SELECT U_Alias, U_Domain FROM Users";
	struct iwm_buf ex = { 0 };
	sqlite3_stmt *st;
	char **src = NULL;
	size_t i, nsrc = 0, cap = 0, nlost = 0;

	if (strcmp(im->what, "accounts") != 0 || im->c.name == NULL ||
	    strcmp(im->c.name, "accounts") != 0)
		return;
	if (sqlite3_prepare_v2(im->c.db, q, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nsrc == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			src = iwm_reallocarray(src, cap, sizeof(*src));
		}
		src[nsrc++] = user_key((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	qsort(src, nsrc, sizeof(*src), cmp_str);
	if (im->m != NULL) {
		MYSQL_RES *res;
		MYSQL_ROW row;

		if (mysql_real_query(im->m, q, sizeof(q) - 1) == 0 &&
		    (res = mysql_use_result(im->m)) != NULL) {
			while ((row = mysql_fetch_row(res)) != NULL)
				lost_one(row[0], row[1], src, nsrc, &ex, &nlost);
			mysql_free_result(res);
		}
	} else if (im->t != NULL && sqlite3_prepare_v2(im->t, q, -1, &st,
	    NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			lost_one((const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), src, nsrc,
			    &ex, &nlost);
		sqlite3_finalize(st);
	}
	if (nlost > 0)
		iwm_warnx("warning: the target's accounts database holds %zu "
		    "accounts the source's does not (%s%s); they are replaced: "
		    "run iwm-restore preserved afterwards to re-create the "
		    "target's administrator", nlost, ex.ptr,
		    nlost > 5 ? ", ..." : "");
	for (i = 0; i < nsrc; i++)
		free(src[i]);
	free(src);
	iwm_buf_free(&ex);
}

int
iwm_dbimport(const char *carrier, const struct iwm_dbspec *spec,
    struct iwm_dbimport_opts *o)
{
	struct imp im;
	sqlite3_stmt *st;
	size_t i;
	uint64_t n;
	int r = -1;

	iwm_db_status = IWM_EXIT_SOFTWARE;
	if (imp_open(&im, carrier, spec, o, 0) == -1)
		goto out;
	warn_lost_accounts(&im);
	for (i = 0; i < im.c.nt; i++) {
		const struct iwm_ctable *t = &im.c.t[i];

		n = 0;
		if (im.m != NULL) {
			if ((strcmp(t->mode, "full") == 0 ?
			    import_mysql_full(&im, t, &n) :
			    import_mysql_inplace(&im, t, &n)) == -1)
				goto out;
			progress(&im, t->name, n, 1);
			o->rows += n;
			o->tables++;
			continue;
		}
		/* SQLite: one transaction per table. */
		if (iwm_db_sqlite_exec(im.t, "BEGIN IMMEDIATE", im.what) == -1)
			goto out;
		if (create_table(&im, t) == -1)
			goto out;
		if ((st = carrier_select(&im, t)) == NULL)
			goto out;
		r = load_sqlite(&im, t, st, &n);
		sqlite3_finalize(st);
		if (r == -1 || create_late(&im, t) == -1) {
			r = -1;
			goto out;
		}
		r = -1;
		if (iwm_db_sqlite_exec(im.t, "COMMIT", im.what) == -1)
			goto out;
		progress(&im, t->name, n, 1);
		o->rows += n;
		o->tables++;
	}
	r = 0;
	iwm_db_status = 0;
out:
	if (r == -1 && im.t != NULL)
		sqlite3_exec(im.t, "ROLLBACK", NULL, NULL, NULL);
	imp_close(&im);
	return r;
}

/*
 * Verify.  Values are hashed in a form both engines agree on: reals
 * as %.15g, exact numbers without trailing zeros, the rest as bytes.
 */
static void
hash_text(struct iwm_rowhash *h, const char *g, const char *s, size_t n,
    struct iwm_buf *scratch)
{
	char num[64], *end;
	double d;

	if (strcmp(g, "real") == 0 && n > 0 && n < sizeof(num)) {
		memcpy(num, s, n);
		num[n] = '\0';
		d = strtod(num, &end);
		if (*end == '\0') {
			int k = snprintf(num, sizeof(num), "%.15g", d);

			iwm_rowhash_add(h, num, (size_t)k);
			return;
		}
	}
	if ((strcmp(g, "decimal") == 0 || strcmp(g, "int") == 0) && n > 0 &&
	    n < sizeof(num) && memchr(s, '.', n) != NULL) {
		size_t k;

		memcpy(num, s, n);
		num[n] = '\0';
		strtod(num, &end);
		if (*end == '\0' && strchr(num, 'e') == NULL &&
		    strchr(num, 'E') == NULL) {
			k = n;
			while (k > 0 && num[k - 1] == '0')
				k--;
			if (k > 0 && num[k - 1] == '.')
				k--;
			iwm_rowhash_add(h, num, k);
			return;
		}
	}
	(void)scratch;
	iwm_rowhash_add(h, s, n);
}

struct tsum {
	uint64_t rows, sum;
};

static int
sum_carrier(struct imp *im, const struct iwm_ctable *t, struct tsum *ts)
{
	sqlite3_stmt *st = carrier_select(im, t);
	struct iwm_rowhash h;
	size_t i;
	int rc;

	memset(ts, 0, sizeof(*ts));
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		iwm_rowhash_init(&h);
		for (i = 0; i < t->ncols; i++) {
			const struct iwm_ccol *c = &t->cols[i];
			int ty = sqlite3_column_type(st, (int)i);
			const unsigned char *s;
			size_t n;

			if (ty == SQLITE_NULL) {
				iwm_rowhash_add(&h, NULL, 0);
				continue;
			}
			if (ty == SQLITE_BLOB) {
				s = sqlite3_column_blob(st, (int)i);
				n = (size_t)sqlite3_column_bytes(st, (int)i);
				iwm_rowhash_add(&h, n > 0 ? (const void *)s :
				    "", n);
				continue;
			}
			s = sqlite3_column_text(st, (int)i);
			n = (size_t)sqlite3_column_bytes(st, (int)i);
			if (im->convert && c->path && ty == SQLITE_TEXT)
				s = pathfix(im, s, n);
			hash_text(&h, c->generic, (const char *)s, n, NULL);
		}
		ts->sum += iwm_rowhash_final(&h);
		ts->rows++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		iwm_seterr("%s: %s: %s", im->c.path, t->name,
		    sqlite3_errmsg(im->c.db));
		iwm_db_status = IWM_EXIT_DATA;
		return -1;
	}
	return 0;
}

static void
target_select(struct iwm_buf *q, enum iwm_db_engine en,
    const struct iwm_ctable *t)
{
	size_t i;

	iwm_buf_adds(q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			iwm_buf_addc(q, ',');
		iwm_db_quote_ident(q, en, t->cols[i].name);
	}
	iwm_buf_adds(q, " FROM ");
	iwm_db_quote_ident(q, en, t->name);
	/* A delta is compared over its own key range. */
	if (strcmp(t->mode, "delta") == 0 && t->pkcol != NULL) {
		iwm_buf_adds(q, " WHERE ");
		iwm_db_quote_ident(q, en, t->pkcol);
		iwm_buf_printf(q, " > %lld AND ", (long long)t->hw_from);
		iwm_db_quote_ident(q, en, t->pkcol);
		iwm_buf_printf(q, " <= %lld", (long long)t->hw_to);
	}
}

/* 0 ok, 1 table missing, -1 error. */
static int
sum_target(struct imp *im, const struct iwm_ctable *t, struct tsum *ts)
{
	struct iwm_buf q = { 0 };
	struct iwm_rowhash h;
	size_t i;
	int r = -1;

	memset(ts, 0, sizeof(*ts));
	target_select(&q, im->spec->engine, t);
	if (im->m != NULL) {
		MYSQL_RES *res;
		MYSQL_ROW row;
		unsigned long *lens;

		if (mysql_real_query(im->m, q.ptr, q.len) != 0 ||
		    (res = mysql_use_result(im->m)) == NULL) {
			r = mysql_errno(im->m) == 1146 ? 1 :
			    iwm_db_mysql_fail(im->m, im->what, t->name);
			goto out;
		}
		while ((row = mysql_fetch_row(res)) != NULL) {
			lens = mysql_fetch_lengths(res);
			iwm_rowhash_init(&h);
			for (i = 0; i < t->ncols; i++) {
				if (row[i] == NULL)
					iwm_rowhash_add(&h, NULL, 0);
				else
					hash_text(&h, t->cols[i].generic,
					    row[i], lens[i], NULL);
			}
			ts->sum += iwm_rowhash_final(&h);
			ts->rows++;
		}
		if (mysql_errno(im->m) != 0) {
			iwm_db_mysql_fail(im->m, im->what, t->name);
			mysql_free_result(res);
			goto out;
		}
		mysql_free_result(res);
		r = 0;
	} else {
		sqlite3_stmt *st;
		int rc;

		if (sqlite3_prepare_v2(im->t, q.ptr, -1, &st, NULL) !=
		    SQLITE_OK) {
			r = strstr(sqlite3_errmsg(im->t), "no such") != NULL ?
			    1 : -1;
			if (r == -1) {
				iwm_seterr("%s: %s: %s", im->what, t->name,
				    sqlite3_errmsg(im->t));
				iwm_db_status = IWM_EXIT_DATA;
			}
			goto out;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			iwm_rowhash_init(&h);
			for (i = 0; i < t->ncols; i++) {
				int ty = sqlite3_column_type(st, (int)i);
				const void *s;
				size_t n;

				if (ty == SQLITE_NULL) {
					iwm_rowhash_add(&h, NULL, 0);
					continue;
				}
				if (ty == SQLITE_BLOB) {
					s = sqlite3_column_blob(st, (int)i);
					n = (size_t)sqlite3_column_bytes(st,
					    (int)i);
					iwm_rowhash_add(&h, n > 0 ? s : "", n);
					continue;
				}
				s = sqlite3_column_text(st, (int)i);
				n = (size_t)sqlite3_column_bytes(st, (int)i);
				hash_text(&h, t->cols[i].generic, s, n, NULL);
			}
			ts->sum += iwm_rowhash_final(&h);
			ts->rows++;
		}
		if (rc != SQLITE_DONE) {
			iwm_seterr("%s: %s: %s", im->what, t->name,
			    sqlite3_errmsg(im->t));
			iwm_db_status = IWM_EXIT_DATA;
			sqlite3_finalize(st);
			goto out;
		}
		sqlite3_finalize(st);
		r = 0;
	}
out:
	iwm_buf_free(&q);
	return r;
}

int
iwm_dbverify(const char *carrier, const struct iwm_dbspec *spec,
    struct iwm_dbimport_opts *o)
{
	struct imp im;
	struct tsum a, b;
	FILE *rep = o->report != NULL ? o->report : stdout;
	size_t i;
	int r = -1, miss;

	iwm_db_status = IWM_EXIT_SOFTWARE;
	if (imp_open(&im, carrier, spec, o, 1) == -1)
		goto out;
	if (im.m != NULL && iwm_db_mysql_exec(im.m, "START TRANSACTION WITH "
	    "CONSISTENT SNAPSHOT", im.what) == -1)
		goto out;
	for (i = 0; i < im.c.nt; i++) {
		const struct iwm_ctable *t = &im.c.t[i];

		if (sum_carrier(&im, t, &a) == -1)
			goto out;
		if ((miss = sum_target(&im, t, &b)) == -1)
			goto out;
		if (miss) {
			fprintf(rep, "%s.%s\tmissing\trows %llu/-\n", im.what,
			    t->name, (unsigned long long)a.rows);
			o->bad++;
		} else if (a.rows != b.rows || a.sum != b.sum) {
			fprintf(rep, "%s.%s\tdiffer\trows %llu/%llu\tsum "
			    "%016llx/%016llx\n", im.what, t->name,
			    (unsigned long long)a.rows,
			    (unsigned long long)b.rows,
			    (unsigned long long)a.sum,
			    (unsigned long long)b.sum);
			o->bad++;
		} else
			fprintf(rep, "%s.%s\tok\trows %llu\tsum %016llx\n",
			    im.what, t->name, (unsigned long long)a.rows,
			    (unsigned long long)a.sum);
		o->tables++;
		o->rows += a.rows;
	}
	r = 0;
	iwm_db_status = 0;
out:
	imp_close(&im);
	return r;
}

char *
iwm_db_carrier_meta(const char *carrier, const char *key)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *r = NULL;

	if ((db = iwm_db_sqlite_open(carrier, SQLITE_OPEN_READONLY,
	    carrier)) == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT value FROM _iwm_meta WHERE key=?",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			r = iwm_strdup((const char *)sqlite3_column_text(st,
			    0));
		sqlite3_finalize(st);
	} else {
		iwm_seterr("%s: not an iwm database export", carrier);
		iwm_db_status = IWM_EXIT_DATA;
	}
	sqlite3_close(db);
	return r;
}
