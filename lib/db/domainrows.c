/*
 * domainrows.c: the database rows of one domain, out of a server that
 * hosts others (iwm-dbexport --domain) and into one that hosts others
 * (iwm-restore db --merge).
 *
 * Which rows belong to the domain comes from the data file domain-rows:
 * tables selected by an owner column (the domain or an address in it),
 * and tables hanging from those by key columns.  The carrier is one
 * SQLite file: a table "DB.TABLE" per table with the source's columns
 * and values, _iwm_domain (meta) and _iwm_domain_tables.
 *
 * The merge replaces the domain's rows on the target (found there by
 * the same walk) and inserts the carrier's, keeping each key unless the
 * target already uses it for another row: then a fresh key (above both
 * sides' largest) is given and every column that refers to it follows.
 * Rows of other owners are never read for anything but their keys,
 * never changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dbint.h"
#include "domainrows.h"

int iwm_domrows_status;

#define BATCH_KEYS	10000	/* one scan per table when links have no index */
#define BATCH_ROWS	500
#define BATCH_BYTES	(512 * 1024)

/* ---- integer key maps ---------------------------------------------- */

struct kmap {
	int64_t	*k, *v;
	unsigned char *used;
	size_t	 cap, n;
};

static size_t
khash(int64_t k, size_t cap)
{
	uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ULL;

	return (size_t)(x ^ (x >> 29)) & (cap - 1);
}

static void kmap_put(struct kmap *, int64_t, int64_t);

static void
kmap_grow(struct kmap *m)
{
	struct kmap o = *m;
	size_t i;

	m->cap = o.cap == 0 ? 64 : o.cap * 2;
	m->k = iwm_calloc(m->cap, sizeof(*m->k));
	m->v = iwm_calloc(m->cap, sizeof(*m->v));
	m->used = iwm_calloc(m->cap, 1);
	m->n = 0;
	for (i = 0; i < o.cap; i++)
		if (o.used[i])
			kmap_put(m, o.k[i], o.v[i]);
	free(o.k);
	free(o.v);
	free(o.used);
}

static void
kmap_put(struct kmap *m, int64_t k, int64_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		kmap_grow(m);
	for (i = khash(k, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->k[i] == k) {
			m->v[i] = v;
			return;
		}
	m->used[i] = 1;
	m->k[i] = k;
	m->v[i] = v;
	m->n++;
}

static int
kmap_get(const struct kmap *m, int64_t k, int64_t *v)
{
	size_t i;

	if (m->cap == 0)
		return 0;
	for (i = khash(k, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->k[i] == k) {
			if (v != NULL)
				*v = m->v[i];
			return 1;
		}
	return 0;
}

/* Remove by rebuilding (rare: dry runs only). */
static void
kmap_del_all(struct kmap *m, const struct kmap *gone)
{
	struct kmap o = *m;
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < o.cap; i++)
		if (o.used[i] && !kmap_get(gone, o.k[i], NULL))
			kmap_put(m, o.k[i], o.v[i]);
	free(o.k);
	free(o.v);
	free(o.used);
}

static void
kmap_free(struct kmap *m)
{
	free(m->k);
	free(m->v);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

/* ---- the relations (data file domain-rows) ------------------------- */

enum { L_OWNER, L_REF, L_SOFT };

struct link {
	int	 kind;
	char	*col;
	int	 parent;	/* index of the parent relation */
	int	 ci;		/* column index on the current server */
};

struct rel {
	char	*db, *table, *key;
	struct link *l;
	size_t	 nl;
	/* per server */
	int	 present;
	char	*why;		/* why absent */
	char	**cols;
	size_t	 ncols;
	int	 keyci;
	struct kmap keys;	/* export: selected keys; merge: the target's
				 * current rows of the domain */
	struct kmap map;	/* merge: carrier key -> target key */
	char	**owners;	/* merge: the carrier's owners, lower case */
	size_t	 nowners;
	uint64_t rows, fresh, replaced;
};

struct rels {
	struct rel *r;
	size_t	 n;
};

static int
fail(int st)
{
	iwm_domrows_status = st;
	return -1;
}

static void
rel_reset(struct rel *r)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		free(r->cols[i]);
	free(r->cols);
	free(r->why);
	r->cols = NULL;
	r->why = NULL;
	r->ncols = 0;
	r->present = 0;
	r->keyci = -1;
	kmap_free(&r->keys);
	kmap_free(&r->map);
	for (i = 0; i < r->nowners; i++)
		free(r->owners[i]);
	free(r->owners);
	r->owners = NULL;
	r->nowners = 0;
	r->rows = r->fresh = r->replaced = 0;
}

static void
rels_free(struct rels *rs)
{
	size_t i, j;

	for (i = 0; i < rs->n; i++) {
		struct rel *r = &rs->r[i];

		rel_reset(r);
		free(r->db);
		free(r->table);
		free(r->key);
		for (j = 0; j < r->nl; j++)
			free(r->l[j].col);
		free(r->l);
	}
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

static int
rel_find(const struct rels *rs, const char *db, const char *table)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcasecmp(rs->r[i].db, db) == 0 &&
		    strcasecmp(rs->r[i].table, table) == 0)
			return (int)i;
	return -1;
}

static int
rels_load(struct rels *rs)
{
	struct iwm_lines ln;
	char *path = iwm_datafile("domain-rows"), *line;
	size_t len;
	int r;

	memset(rs, 0, sizeof(*rs));
	if (path == NULL)
		return fail(IWM_EXIT_NOINPUT);
	if (iwm_lines_open(&ln, path) == -1) {
		free(path);
		return fail(IWM_EXIT_NOINPUT);
	}
	while ((r = iwm_lines_next(&ln, &line, &len)) == 1) {
		char *f[16], *p = line;
		size_t nf = 0, i;
		struct rel *rl;

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		while (nf < 16) {
			f[nf++] = p;
			p += strcspn(p, "\t");
			if (*p == '\0')
				break;
			*p++ = '\0';
		}
		if (nf < 4 || iwm_dbinfo_find(f[0]) == NULL) {
			iwm_seterr("%s:%llu: expected DATABASE TABLE KEY LINK...",
			    path, (unsigned long long)ln.lineno);
			goto bad;
		}
		rs->r = iwm_reallocarray(rs->r, rs->n + 1, sizeof(*rs->r));
		rl = &rs->r[rs->n++];
		memset(rl, 0, sizeof(*rl));
		rl->keyci = -1;
		rl->db = iwm_strdup(f[0]);
		rl->table = iwm_strdup(f[1]);
		rl->key = strcmp(f[2], "-") == 0 ? NULL : iwm_strdup(f[2]);
		rl->l = iwm_calloc(nf - 3, sizeof(*rl->l));
		for (i = 3; i < nf; i++) {
			struct link *lk = &rl->l[rl->nl];
			char *s;

			if (strncmp(f[i], "owner:", 6) == 0) {
				lk->kind = L_OWNER;
				lk->col = iwm_strdup(f[i] + 6);
				lk->parent = -1;
			} else if ((s = strpbrk(f[i], ">~")) != NULL) {
				lk->kind = *s == '>' ? L_REF : L_SOFT;
				lk->col = iwm_strndup(f[i], (size_t)(s - f[i]));
				lk->parent = rel_find(rs, f[0], s + 1);
				if (lk->parent == -1 ||
				    lk->parent == (int)rs->n - 1) {
					free(lk->col);
					iwm_seterr("%s:%llu: %s: no table %s above",
					    path, (unsigned long long)ln.lineno,
					    f[i], s + 1);
					goto bad;
				}
			} else {
				iwm_seterr("%s:%llu: bad link '%s'", path,
				    (unsigned long long)ln.lineno, f[i]);
				goto bad;
			}
			rl->nl++;
		}
	}
	iwm_lines_close(&ln);
	free(path);
	if (r == -1)
		return fail(IWM_EXIT_IO);
	return 0;
bad:
	iwm_lines_close(&ln);
	free(path);
	rels_free(rs);
	return fail(IWM_EXIT_DATA);
}

/* ---- one connection, either engine --------------------------------- */

struct conn {
	enum iwm_db_engine e;
	sqlite3	*s;
	MYSQL	*m;
	const char *what;
};

enum { V_NULL, V_INT, V_REAL, V_TEXT, V_BLOB };

struct val {
	int	 t;
	int64_t	 i;
	double	 d;
	const char *p;
	size_t	 n;
};

typedef int (*row_cb)(void *, struct val *, size_t);

static int
c_exec(struct conn *c, const char *sql)
{
	int r;

	if (c->e == IWM_DB_MYSQL)
		r = iwm_db_mysql_exec(c->m, sql, c->what);
	else
		r = iwm_db_sqlite_exec(c->s, sql, c->what);
	if (r == -1)
		return fail(iwm_db_status >= 64 ? iwm_db_status :
		    IWM_EXIT_DATA);
	return 0;
}

static int
my_class(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		return V_INT;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		return V_REAL;
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_BIT:
		return f->charsetnr == 63 ? V_BLOB : V_TEXT;
	default:
		return V_TEXT;
	}
}

/* Run SQL; CB gets each row. */
static int
c_query(struct conn *c, const char *sql, row_cb cb, void *arg)
{
	struct val *v = NULL;
	int rc = 0;

	if (c->e == IWM_DB_MYSQL) {
		MYSQL_RES *res;
		MYSQL_ROW row;
		MYSQL_FIELD *fl;
		unsigned long *lens;
		unsigned nf, i;
		int *cls;

		if (mysql_real_query(c->m, sql, strlen(sql)) != 0) {
			iwm_db_mysql_fail(c->m, c->what, "query");
			return fail(iwm_db_status >= 64 ? iwm_db_status :
			    IWM_EXIT_DATA);
		}
		if ((res = mysql_use_result(c->m)) == NULL) {
			if (mysql_field_count(c->m) == 0)
				return 0;	/* a statement */
			iwm_db_mysql_fail(c->m, c->what, "query");
			return fail(iwm_db_status >= 64 ? iwm_db_status :
			    IWM_EXIT_DATA);
		}
		nf = mysql_num_fields(res);
		fl = mysql_fetch_fields(res);
		cls = iwm_calloc(nf + 1, sizeof(*cls));
		v = iwm_calloc(nf + 1, sizeof(*v));
		for (i = 0; i < nf; i++)
			cls[i] = my_class(&fl[i]);
		while ((row = mysql_fetch_row(res)) != NULL) {
			lens = mysql_fetch_lengths(res);
			for (i = 0; i < nf; i++) {
				v[i].p = row[i];
				v[i].n = lens[i];
				if (row[i] == NULL) {
					v[i].t = V_NULL;
					continue;
				}
				v[i].t = cls[i];
				if (cls[i] == V_INT) {
					char *e;

					errno = 0;
					v[i].i = strtoll(row[i], &e, 10);
					if (errno != 0 || *e != '\0')
						v[i].t = V_TEXT;
				} else if (cls[i] == V_REAL)
					v[i].d = strtod(row[i], NULL);
			}
			if (rc == 0 && cb(arg, v, nf) == -1)
				rc = -1;	/* drain the result */
		}
		if (rc == 0 && mysql_errno(c->m) != 0) {
			iwm_db_mysql_fail(c->m, c->what, "read");
			rc = fail(IWM_EXIT_IO);
		}
		mysql_free_result(res);
		free(cls);
		free(v);
		return rc;
	} else {
		sqlite3_stmt *st;
		int n, i, r;

		if (sqlite3_prepare_v2(c->s, sql, -1, &st, NULL) != SQLITE_OK) {
			iwm_seterr("%s: %s", c->what, sqlite3_errmsg(c->s));
			return fail(IWM_EXIT_DATA);
		}
		n = sqlite3_column_count(st);
		v = iwm_calloc((size_t)n + 1, sizeof(*v));
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			for (i = 0; i < n; i++) {
				switch (sqlite3_column_type(st, i)) {
				case SQLITE_NULL:
					v[i].t = V_NULL;
					break;
				case SQLITE_INTEGER:
					v[i].t = V_INT;
					v[i].i = sqlite3_column_int64(st, i);
					break;
				case SQLITE_FLOAT:
					v[i].t = V_REAL;
					v[i].d = sqlite3_column_double(st, i);
					break;
				case SQLITE_BLOB:
					v[i].t = V_BLOB;
					v[i].p = sqlite3_column_blob(st, i);
					v[i].n = (size_t)sqlite3_column_bytes(st, i);
					break;
				default:
					v[i].t = V_TEXT;
					v[i].p = (const char *)
					    sqlite3_column_text(st, i);
					v[i].n = (size_t)sqlite3_column_bytes(st, i);
				}
			}
			if (cb(arg, v, (size_t)n) == -1) {
				rc = -1;
				break;
			}
		}
		if (rc == 0 && r != SQLITE_DONE) {
			iwm_seterr("%s: %s", c->what, sqlite3_errmsg(c->s));
			rc = fail(IWM_EXIT_IO);
		}
		sqlite3_finalize(st);
		free(v);
		return rc;
	}
}

static void
c_ident(struct conn *c, struct iwm_buf *b, const char *id)
{
	iwm_db_quote_ident(b, c->e, id);
}

static void
c_lit(struct conn *c, struct iwm_buf *b, const struct val *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	switch (v->t) {
	case V_NULL:
		iwm_buf_adds(b, "NULL");
		break;
	case V_INT:
		iwm_buf_printf(b, "%lld", (long long)v->i);
		break;
	case V_REAL:
		iwm_buf_printf(b, "%.17g", v->d);
		break;
	case V_TEXT:
		if (c->e == IWM_DB_MYSQL) {
			iwm_buf_grow(b, v->n * 2 + 3);
			b->ptr[b->len++] = '\'';
			b->len += mysql_real_escape_string(c->m,
			    b->ptr + b->len, v->p, v->n);
			b->ptr[b->len++] = '\'';
			b->ptr[b->len] = '\0';
			break;
		}
		iwm_buf_addc(b, '\'');
		for (i = 0; i < v->n; i++) {
			if (v->p[i] == '\'')
				iwm_buf_addc(b, '\'');
			iwm_buf_addc(b, v->p[i]);
		}
		iwm_buf_addc(b, '\'');
		break;
	default:
		iwm_buf_grow(b, v->n * 2 + 4);
		iwm_buf_adds(b, "X'");
		for (i = 0; i < v->n; i++) {
			iwm_buf_addc(b, hex[(unsigned char)v->p[i] >> 4]);
			iwm_buf_addc(b, hex[(unsigned char)v->p[i] & 15]);
		}
		iwm_buf_addc(b, '\'');
	}
}

static void
c_text(struct conn *c, struct iwm_buf *b, const char *s)
{
	struct val v = { V_TEXT, 0, 0, s, strlen(s) };

	c_lit(c, b, &v);
}

/* The columns of TABLE: 0 found, 1 no such table, -1 error. */
static int
c_columns(struct conn *c, const char *table, char ***cols, size_t *n)
{
	struct iwm_buf b = { 0 };
	size_t i;

	*cols = NULL;
	*n = 0;
	iwm_buf_adds(&b, "SELECT * FROM ");
	c_ident(c, &b, table);
	iwm_buf_adds(&b, " LIMIT 0");
	if (c->e == IWM_DB_MYSQL) {
		MYSQL_RES *res;
		MYSQL_FIELD *fl;

		if (mysql_real_query(c->m, b.ptr, b.len) != 0 ||
		    (res = mysql_store_result(c->m)) == NULL) {
			iwm_buf_free(&b);
			if (mysql_errno(c->m) == 1146)
				return 1;
			iwm_db_mysql_fail(c->m, c->what, "columns");
			return fail(IWM_EXIT_DATA);
		}
		*n = mysql_num_fields(res);
		fl = mysql_fetch_fields(res);
		*cols = iwm_calloc(*n + 1, sizeof(**cols));
		for (i = 0; i < *n; i++)
			(*cols)[i] = iwm_strdup(fl[i].name);
		mysql_free_result(res);
	} else {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(c->s, b.ptr, -1, &st, NULL) !=
		    SQLITE_OK) {
			const char *msg = sqlite3_errmsg(c->s);

			iwm_buf_free(&b);
			if (strncmp(msg, "no such table", 13) == 0)
				return 1;
			iwm_seterr("%s: %s", c->what, msg);
			return fail(IWM_EXIT_DATA);
		}
		*n = (size_t)sqlite3_column_count(st);
		*cols = iwm_calloc(*n + 1, sizeof(**cols));
		for (i = 0; i < *n; i++)
			(*cols)[i] = iwm_strdup(sqlite3_column_name(st,
			    (int)i));
		sqlite3_finalize(st);
	}
	iwm_buf_free(&b);
	return 0;
}

static int
col_index(char **cols, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(cols[i], name) == 0)
			return (int)i;
	return -1;
}

/* Open the server's database INFO: 1 open, 0 none here, -1 error. */
static int
c_open(struct conn *c, const struct iwm_tool *t, const struct iwm_dbinfo *info,
    int write)
{
	struct iwm_dbspec spec;
	int r;

	memset(c, 0, sizeof(*c));
	c->what = info->name;
	r = iwm_db_server_spec(t, info, &spec);
	if (r == -1)
		return fail(iwm_db_status >= 64 ? iwm_db_status :
		    IWM_EXIT_DATA);
	if (r == 0)
		return 0;
	c->e = spec.engine;
	if (spec.engine == IWM_DB_MYSQL)
		c->m = iwm_db_mysql_connect(&spec, info->name, 0);
	else
		c->s = iwm_db_sqlite_open(spec.dbname, write ?
		    SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, info->name);
	iwm_dbspec_free(&spec);
	if (c->m == NULL && c->s == NULL)
		return fail(iwm_db_status >= 64 ? iwm_db_status :
		    IWM_EXIT_UNAVAIL);
	return 1;
}

static void
c_close(struct conn *c)
{
	if (c->m != NULL)
		mysql_close(c->m);
	if (c->s != NULL)
		sqlite3_close(c->s);
	memset(c, 0, sizeof(*c));
}

/* ---- the walk ---------------------------------------------------- */

/* Describe relation R on the server behind C: columns, links. */
static int
rel_bind(struct conn *c, struct rels *rs, struct rel *r)
{
	size_t i;
	int x;

	rel_reset(r);
	if ((x = c_columns(c, r->table, &r->cols, &r->ncols)) == -1)
		return -1;
	if (x == 1) {
		r->why = iwm_strdup("no such table");
		return 0;
	}
	if (r->key != NULL &&
	    (r->keyci = col_index(r->cols, r->ncols, r->key)) == -1) {
		r->why = iwm_strdup("no key column");
		return 0;
	}
	for (i = 0; i < r->nl; i++) {
		struct link *lk = &r->l[i];

		lk->ci = col_index(r->cols, r->ncols, lk->col);
		if (lk->ci == -1 && lk->kind != L_SOFT) {
			struct iwm_buf b = { 0 };

			iwm_buf_printf(&b, "no column %s", lk->col);
			r->why = iwm_buf_steal(&b);
			return 0;
		}
		if (lk->kind == L_REF && !rs->r[lk->parent].present) {
			r->why = iwm_strdup("its parent table is not here");
			return 0;
		}
	}
	r->present = 1;
	return 0;
}

/* The link that selects R's rows: its first owner link, else first ref. */
static const struct link *
rel_selector(const struct rel *r)
{
	size_t i;

	for (i = 0; i < r->nl; i++)
		if (r->l[i].kind == L_OWNER)
			return &r->l[i];
	for (i = 0; i < r->nl; i++)
		if (r->l[i].kind == L_REF)
			return &r->l[i];
	return NULL;
}

/*
 * Run "HEAD WHERE <R's rows of DOMAIN>" in batches: CB per row.
 */
static int
rel_select(struct conn *c, struct rels *rs, struct rel *r, const char *domain,
    const char *head, row_cb cb, void *arg)
{
	const struct link *lk = rel_selector(r);
	struct iwm_buf b = { 0 };
	const struct kmap *pk;
	size_t i, inb = 0;
	int rc = 0;

	if (lk == NULL)
		return 0;
	if (lk->kind == L_OWNER && r->owners != NULL) {
		/* Merge: only the owners the carrier brings. */
		for (i = 0; i < r->nowners && rc == 0; i++) {
			if (inb == 0) {
				iwm_buf_reset(&b);
				iwm_buf_printf(&b, "%s WHERE LOWER(", head);
				c_ident(c, &b, lk->col);
				iwm_buf_adds(&b, ") IN (");
			} else
				iwm_buf_addc(&b, ',');
			c_text(c, &b, r->owners[i]);
			if (++inb == BATCH_KEYS || i + 1 == r->nowners) {
				iwm_buf_addc(&b, ')');
				rc = c_query(c, b.ptr, cb, arg);
				inb = 0;
			}
		}
		iwm_buf_free(&b);
		return rc;
	}
	if (lk->kind == L_OWNER) {
		struct iwm_buf at = { 0 };
		char *low = iwm_strdup(domain);

		for (i = 0; low[i] != '\0'; i++)
			if (low[i] >= 'A' && low[i] <= 'Z')
				low[i] += 'a' - 'A';
		iwm_buf_printf(&at, "@%s", low);
		iwm_buf_printf(&b, "%s WHERE LOWER(", head);
		c_ident(c, &b, lk->col);
		iwm_buf_adds(&b, ") = ");
		c_text(c, &b, low);
		iwm_buf_adds(&b, " OR LOWER(SUBSTR(");
		c_ident(c, &b, lk->col);
		iwm_buf_printf(&b, ", -%zu)) = ", at.len);
		c_text(c, &b, at.ptr);
		rc = c_query(c, b.ptr, cb, arg);
		iwm_buf_free(&at);
		iwm_buf_free(&b);
		free(low);
		return rc;
	}
	pk = &rs->r[lk->parent].keys;
	inb = 0;
	for (i = 0; i < pk->cap && rc == 0; i++) {
		if (!pk->used[i])
			continue;
		if (inb == 0) {
			iwm_buf_reset(&b);
			iwm_buf_printf(&b, "%s WHERE ", head);
			c_ident(c, &b, lk->col);
			iwm_buf_adds(&b, " IN (");
		} else
			iwm_buf_addc(&b, ',');
		iwm_buf_printf(&b, "%lld", (long long)pk->k[i]);
		if (++inb == BATCH_KEYS) {
			iwm_buf_addc(&b, ')');
			rc = c_query(c, b.ptr, cb, arg);
			inb = 0;
		}
	}
	if (rc == 0 && inb > 0) {
		iwm_buf_addc(&b, ')');
		rc = c_query(c, b.ptr, cb, arg);
	}
	iwm_buf_free(&b);
	return rc;
}

/* Same, for statements (DELETE): no rows back. */
static int
nop_cb(void *arg, struct val *v, size_t n)
{
	(void)arg;
	(void)v;
	(void)n;
	return 0;
}

static int
val_int(const struct val *v, int64_t *out)
{
	char buf[32], *e;

	if (v->t == V_INT) {
		*out = v->i;
		return 1;
	}
	if (v->t != V_TEXT || v->n == 0 || v->n >= sizeof(buf))
		return 0;
	memcpy(buf, v->p, v->n);
	buf[v->n] = '\0';
	if (strspn(buf, "-0123456789") != v->n)
		return 0;
	errno = 0;
	*out = strtoll(buf, &e, 10);
	return errno == 0 && *e == '\0';
}

/* ---- export ------------------------------------------------------- */

struct xp {
	struct rel *r;
	sqlite3_stmt *ins;
	sqlite3 *car;
};

static int
xp_row(void *arg, struct val *v, size_t n)
{
	struct xp *x = arg;
	size_t i;
	int64_t k;

	sqlite3_reset(x->ins);
	for (i = 0; i < n; i++) {
		int col = (int)i + 1;

		switch (v[i].t) {
		case V_NULL: sqlite3_bind_null(x->ins, col); break;
		case V_INT: sqlite3_bind_int64(x->ins, col, v[i].i); break;
		case V_REAL: sqlite3_bind_double(x->ins, col, v[i].d); break;
		case V_TEXT:
			sqlite3_bind_text(x->ins, col, v[i].p, (int)v[i].n,
			    SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_blob(x->ins, col, v[i].p, (int)v[i].n,
			    SQLITE_STATIC);
		}
	}
	if (sqlite3_step(x->ins) != SQLITE_DONE) {
		iwm_seterr("carrier: %s", sqlite3_errmsg(x->car));
		return fail(IWM_EXIT_IO);
	}
	if (x->r->keyci >= 0 && val_int(&v[x->r->keyci], &k))
		kmap_put(&x->r->keys, k, k);
	x->r->rows++;
	return 0;
}

static int
export_db(const struct iwm_tool *t, struct rels *rs, const char *db,
    const char *domain, sqlite3 *car, struct iwm_domrows_opts *o)
{
	const struct iwm_dbinfo *info = iwm_dbinfo_find(db);
	struct conn c;
	size_t i, j;
	int r;

	if ((r = c_open(&c, t, info, 0)) <= 0) {
		if (r == 0 && !o->quiet && o->out != NULL)
			fprintf(o->out, "%s\t-\tnot in a database here: "
			    "skipped\n", db);
		return r;
	}
	r = c_exec(&c, c.e == IWM_DB_MYSQL ?
	    "START TRANSACTION WITH CONSISTENT SNAPSHOT" : "BEGIN");
	for (i = 0; r == 0 && i < rs->n; i++) {
		struct rel *rl = &rs->r[i];
		struct iwm_buf b = { 0 }, hd = { 0 };
		struct xp x;

		if (strcmp(rl->db, db) != 0)
			continue;
		if ((r = rel_bind(&c, rs, rl)) == -1)
			break;
		if (!rl->present) {
			if (!o->quiet && o->out != NULL)
				fprintf(o->out, "%s\t%s\tskipped: %s\n", db,
				    rl->table, rl->why);
			continue;
		}
		iwm_buf_printf(&b, "CREATE TABLE \"%s.%s\"(", db, rl->table);
		for (j = 0; j < rl->ncols; j++) {
			if (j > 0)
				iwm_buf_addc(&b, ',');
			iwm_db_quote_ident(&b, IWM_DB_SQLITE, rl->cols[j]);
		}
		iwm_buf_adds(&b, ")");
		if (iwm_db_sqlite_exec(car, b.ptr, "carrier") == -1) {
			iwm_buf_free(&b);
			r = fail(IWM_EXIT_IO);
			break;
		}
		iwm_buf_reset(&b);
		iwm_buf_printf(&b, "INSERT INTO \"%s.%s\" VALUES(", db,
		    rl->table);
		for (j = 0; j < rl->ncols; j++)
			iwm_buf_adds(&b, j > 0 ? ",?" : "?");
		iwm_buf_addc(&b, ')');
		memset(&x, 0, sizeof(x));
		x.r = rl;
		x.car = car;
		if (sqlite3_prepare_v2(car, b.ptr, -1, &x.ins, NULL) !=
		    SQLITE_OK) {
			iwm_seterr("carrier: %s", sqlite3_errmsg(car));
			iwm_buf_free(&b);
			r = fail(IWM_EXIT_IO);
			break;
		}
		iwm_buf_adds(&hd, "SELECT * FROM ");
		c_ident(&c, &hd, rl->table);
		r = rel_select(&c, rs, rl, domain, hd.ptr, xp_row, &x);
		sqlite3_finalize(x.ins);
		iwm_buf_reset(&b);
		iwm_buf_printf(&b, "INSERT INTO _iwm_domain_tables VALUES("
		    "'%s', '%s', %llu)", db, rl->table,
		    (unsigned long long)rl->rows);
		if (r == 0 && iwm_db_sqlite_exec(car, b.ptr, "carrier") == -1)
			r = fail(IWM_EXIT_IO);
		iwm_buf_free(&b);
		iwm_buf_free(&hd);
		if (r == 0 && !o->quiet && o->out != NULL)
			fprintf(o->out, "%s\t%s\t%llu rows\n", db, rl->table,
			    (unsigned long long)rl->rows);
		o->rows += rl->rows;
	}
	if (c.e == IWM_DB_MYSQL)
		(void)iwm_db_mysql_exec(c.m, "COMMIT", db);
	c_close(&c);
	return r == -1 ? -1 : 1;
}

/* Does the server have domain D?  1 yes, 0 no, -1 the tool failed. */
static int
dom_cb(void *arg, char **f, size_t nf)
{
	int *found = arg;

	(void)f;
	if (nf >= 1)
		*found = 1;
	return 0;
}

/* No variables: the key alone (never NULL, memcpy()ed). */
static const char *const novars[1] = { NULL };

static int
domain_exists(const struct iwm_tool *t, const char *domain)
{
	int found = 0;

	if (strpbrk(domain, "*?[],/\\ \t\n") != NULL || *domain == '\0') {
		iwm_seterr("'%s' is not a domain name", domain);
		return fail(IWM_EXIT_USAGE);
	}
	if (iwm_tool_export(t, "domain", domain, novars, 0, dom_cb, &found) ==
	    -1) {
		/* The tool fails on an exact name it does not know. */
		found = 0;
	}
	return found;
}

int
iwm_domrows_export(const struct iwm_tool *t, const char *domain,
    const char *outfile, struct iwm_domrows_opts *o)
{
	struct rels rs;
	struct iwm_buf tmp = { 0 }, b = { 0 };
	sqlite3 *car;
	const char *seen[16];
	size_t nseen = 0, i, j;
	int r = 0, x;

	iwm_domrows_status = 0;
	if ((x = domain_exists(t, domain)) <= 0) {
		if (x == 0) {
			iwm_seterr("no domain %s on this server", domain);
			return fail(IWM_EXIT_NOINPUT);
		}
		return -1;
	}
	if (rels_load(&rs) == -1)
		return -1;
	iwm_buf_printf(&tmp, "%s.tmp", outfile);
	(void)unlink(tmp.ptr);
	if ((car = iwm_db_sqlite_open(tmp.ptr, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, "carrier")) == NULL) {
		rels_free(&rs);
		iwm_buf_free(&tmp);
		return fail(IWM_EXIT_IO);
	}
	iwm_buf_adds(&b, "PRAGMA journal_mode=OFF; BEGIN;"
	    "CREATE TABLE _iwm_domain(k TEXT PRIMARY KEY, v TEXT);"
	    "CREATE TABLE _iwm_domain_tables(db TEXT, tbl TEXT, rows INTEGER);"
	    "INSERT INTO _iwm_domain VALUES('format', 'iwm-domainrows 1');"
	    "INSERT INTO _iwm_domain VALUES('domain', ");
	{
		struct conn lc = { IWM_DB_SQLITE, car, NULL, "carrier" };

		c_text(&lc, &b, domain);
	}
	iwm_buf_printf(&b, "); INSERT INTO _iwm_domain VALUES('created', "
	    "'%lld');", (long long)time(NULL));
	{
		/* The mail path, so that paths in rows can follow. */
		struct conn lc = { IWM_DB_SQLITE, car, NULL, "carrier" };
		char *mp = iwm_tool_get1(t, "C_System_Storage_Dir_MailPath");

		iwm_buf_adds(&b, "INSERT INTO _iwm_domain VALUES('mailpath', ");
		c_text(&lc, &b, mp != NULL ? mp : "");
		iwm_buf_adds(&b, "); INSERT INTO _iwm_domain VALUES('platform', ");
		c_text(&lc, &b, iwm_db_server_platform(t));
		iwm_buf_adds(&b, ");");
		free(mp);
	}
	if (iwm_db_sqlite_exec(car, b.ptr, "carrier") == -1)
		r = fail(IWM_EXIT_IO);
	for (i = 0; r == 0 && i < rs.n; i++) {
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], rs.r[i].db) == 0)
				break;
		if (j < nseen || nseen == 16)
			continue;
		seen[nseen++] = rs.r[i].db;
		if (export_db(t, &rs, rs.r[i].db, domain, car, o) == -1)
			r = -1;
	}
	if (r == 0 && iwm_db_sqlite_exec(car, "COMMIT", "carrier") == -1)
		r = fail(IWM_EXIT_IO);
	if (sqlite3_close(car) != SQLITE_OK && r == 0) {
		iwm_seterr("carrier: %s: cannot close", tmp.ptr);
		r = fail(IWM_EXIT_IO);
	}
	if (r == 0 && rename(tmp.ptr, outfile) == -1) {
		iwm_seterr_errno("%s", outfile);
		r = fail(IWM_EXIT_IO);
	}
	if (r == -1)
		(void)unlink(tmp.ptr);
	iwm_buf_free(&tmp);
	iwm_buf_free(&b);
	rels_free(&rs);
	return r;
}

/* ---- merge -------------------------------------------------------- */

static int
key_cb(void *arg, struct val *v, size_t n)
{
	struct kmap *m = arg;
	int64_t k;

	if (n >= 1 && val_int(&v[0], &k))
		kmap_put(m, k, k);
	return 0;
}

static int
max_cb(void *arg, struct val *v, size_t n)
{
	int64_t *mx = arg, k;

	if (n >= 1 && val_int(&v[0], &k) && k > *mx)
		*mx = k;
	return 0;
}

/* Paths in rows below the source's mail path go below the target's. */
struct pathmap {
	struct iwm_pathcols *pc;
	char	*from, *to;	/* mail paths; NULL: no mapping */
	int	 from_win;
	const char *to_platform;
};

struct mg {
	const struct pathmap *pm;
	int	*ispath;	/* carrier column holds a path */
	struct iwm_buf *scratch; /* per column, for rewritten values */
	struct conn *c;
	struct rels *rs;
	struct rel *r;
	struct kmap taken;	/* the target's keys */
	int64_t	 next;
	int	*to;		/* carrier column -> target column, or -1 */
	size_t	 ncar;
	struct iwm_buf head, b;
	size_t	 inb;
	int	 dry;
};

static int
mg_flush(struct mg *m)
{
	int r = 0;

	if (m->inb > 0 && !m->dry)
		r = c_exec(m->c, m->b.ptr);
	m->inb = 0;
	iwm_buf_reset(&m->b);
	return r;
}

static int
mg_row(void *arg, struct val *v, size_t n)
{
	struct mg *m = arg;
	struct rel *r = m->r;
	char num[32];
	size_t i, j, first;
	int64_t k, nk;

	if (n != m->ncar) {
		iwm_seterr("carrier: %s: row of %zu columns", r->table, n);
		return fail(IWM_EXIT_DATA);
	}
	for (i = 0; m->pm->from != NULL && i < n; i++) {
		size_t fl = strlen(m->pm->from);
		struct iwm_buf *sb = &m->scratch[i];

		if (!m->ispath[i] || v[i].t != V_TEXT || v[i].n < fl ||
		    (m->pm->from_win ? strncasecmp(v[i].p, m->pm->from, fl) :
		    strncmp(v[i].p, m->pm->from, fl)) != 0)
			continue;
		iwm_buf_reset(sb);
		iwm_buf_adds(sb, m->pm->to);
		iwm_buf_add(sb, v[i].p + fl, v[i].n - fl);
		iwm_db_convert_path(sb->ptr, sb->len, m->pm->to_platform);
		v[i].p = sb->ptr;
		v[i].n = sb->len;
	}
	/* Links to parents follow their new keys. */
	for (j = 0; j < r->nl; j++) {
		struct link *lk = &r->l[j];
		struct rel *p;
		int ci = -1;

		if (lk->kind == L_OWNER)
			continue;
		p = &m->rs->r[lk->parent];
		for (i = 0; i < n; i++)
			if (m->to[i] >= 0 && (int)m->to[i] == lk->ci)
				ci = (int)i;
		if (ci == -1 || !val_int(&v[ci], &k) ||
		    !kmap_get(&p->map, k, &nk) || nk == k)
			continue;
		if (v[ci].t == V_INT)
			v[ci].i = nk;
		else {
			snprintf(num, sizeof(num), "%lld", (long long)nk);
			v[ci].p = num;
			v[ci].n = strlen(num);
		}
	}
	if (r->keyci >= 0) {
		int ci = -1;

		for (i = 0; i < n; i++)
			if (m->to[i] == r->keyci)
				ci = (int)i;
		if (ci >= 0 && val_int(&v[ci], &k)) {
			nk = k;
			if (kmap_get(&m->taken, k, NULL)) {
				nk = m->next++;
				r->fresh++;
			}
			kmap_put(&m->taken, nk, nk);
			kmap_put(&r->map, k, nk);
			v[ci].t = V_INT;
			v[ci].i = nk;
		}
	}
	if (m->inb == 0)
		iwm_buf_add(&m->b, m->head.ptr, m->head.len);
	else
		iwm_buf_addc(&m->b, ',');
	iwm_buf_addc(&m->b, '(');
	first = 1;
	for (i = 0; i < n; i++) {
		if (m->to[i] < 0)
			continue;
		if (!first)
			iwm_buf_addc(&m->b, ',');
		first = 0;
		c_lit(m->c, &m->b, &v[i]);
	}
	iwm_buf_addc(&m->b, ')');
	r->rows++;
	if (++m->inb >= BATCH_ROWS || m->b.len >= BATCH_BYTES)
		return mg_flush(m);
	return 0;
}

static int
own_cb(void *arg, struct val *v, size_t n)
{
	struct rel *r = arg;

	if (n >= 1 && v[0].t == V_TEXT) {
		r->owners = iwm_reallocarray(r->owners, r->nowners + 1,
		    sizeof(*r->owners));
		r->owners[r->nowners++] = iwm_strndup(v[0].p, v[0].n);
	}
	return 0;
}

/*
 * The owners of R's rows in the carrier: a merge replaces their rows
 * only, so the target's own accounts of the domain (--merge) keep theirs.
 */
static int
rel_owners(struct conn *cc, const char *db, struct rel *r)
{
	const struct link *lk = rel_selector(r);
	struct iwm_buf q = { 0 };
	char **cols = NULL;
	size_t n = 0, i;
	int x;

	if (lk == NULL || lk->kind != L_OWNER)
		return 0;
	iwm_buf_printf(&q, "%s.%s", db, r->table);
	x = c_columns(cc, q.ptr, &cols, &n);
	for (i = 0; i < n; i++)
		free(cols[i]);
	free(cols);
	/* Not in the carrier: nothing of it is replaced. */
	r->owners = iwm_calloc(1, sizeof(*r->owners));
	if (x != 0) {
		iwm_buf_free(&q);
		return x == -1 ? -1 : 0;
	}
	iwm_buf_reset(&q);
	iwm_buf_adds(&q, "SELECT DISTINCT LOWER(");
	iwm_db_quote_ident(&q, IWM_DB_SQLITE, lk->col);
	iwm_buf_printf(&q, ") FROM \"%s.%s\"", db, r->table);
	x = c_query(cc, q.ptr, own_cb, r);
	iwm_buf_free(&q);
	return x;
}

static int
merge_db(const struct iwm_tool *t, struct rels *rs, const char *db,
    const char *domain, sqlite3 *car, const struct pathmap *pm,
    struct iwm_domrows_opts *o)
{
	const struct iwm_dbinfo *info = iwm_dbinfo_find(db);
	struct conn c, cc = { IWM_DB_SQLITE, car, NULL, "carrier" };
	size_t i, j;
	int r, x;

	if (info == NULL) {
		iwm_seterr("carrier: unknown database %s", db);
		return fail(IWM_EXIT_DATA);
	}
	if ((r = c_open(&c, t, info, 1)) <= 0) {
		if (r == 0 && strcmp(db, "webcache") == 0) {
			/* A cache: the webclient rebuilds it. */
			if (!o->quiet && o->out != NULL)
				fprintf(o->out, "webcache\t-\tthis server keeps "
				    "no webmail cache database: skipped (the "
				    "webclient rebuilds it)\n");
			return 0;
		}
		if (r == 0) {
			iwm_seterr("the carrier holds %s rows but this server "
			    "keeps no %s database", db, db);
			return fail(IWM_EXIT_UNAVAIL);
		}
		return -1;
	}
	r = o->dryrun ? 0 : c_exec(&c, c.e == IWM_DB_MYSQL ?
	    "START TRANSACTION" : "BEGIN IMMEDIATE");
	/* The domain's rows the target holds now: their keys. */
	for (i = 0; r == 0 && i < rs->n; i++) {
		struct rel *rl = &rs->r[i];
		struct iwm_buf hd = { 0 };

		if (strcmp(rl->db, db) != 0)
			continue;
		if ((r = rel_bind(&c, rs, rl)) == -1 || !rl->present)
			continue;
		if ((r = rel_owners(&cc, db, rl)) == -1)
			continue;
		if (rl->keyci < 0)
			continue;
		iwm_buf_adds(&hd, "SELECT ");
		c_ident(&c, &hd, rl->key);
		iwm_buf_adds(&hd, " FROM ");
		c_ident(&c, &hd, rl->table);
		r = rel_select(&c, rs, rl, domain, hd.ptr, key_cb, &rl->keys);
		rl->replaced = rl->keys.n;
		iwm_buf_free(&hd);
	}
	/* Deleted, children first. */
	for (i = rs->n; r == 0 && !o->dryrun && i-- > 0;) {
		struct rel *rl = &rs->r[i];
		struct iwm_buf hd = { 0 };

		if (strcmp(rl->db, db) != 0 || !rl->present)
			continue;
		iwm_buf_adds(&hd, "DELETE FROM ");
		c_ident(&c, &hd, rl->table);
		r = rel_select(&c, rs, rl, domain, hd.ptr, nop_cb, NULL);
		iwm_buf_free(&hd);
	}
	/* The carrier's rows, parents first. */
	for (i = 0; r == 0 && i < rs->n; i++) {
		struct rel *rl = &rs->r[i];
		struct iwm_buf q = { 0 };
		char **ccols = NULL;
		size_t ncc = 0;
		struct mg m;
		int64_t tmax = 0, cmax = 0;

		if (strcmp(rl->db, db) != 0)
			continue;
		iwm_buf_printf(&q, "%s.%s", db, rl->table);
		x = c_columns(&cc, q.ptr, &ccols, &ncc);
		if (x != 0) {
			iwm_buf_free(&q);
			if (x == -1)
				r = -1;
			continue;
		}
		if (!rl->present) {
			fprintf(stderr, "%s: %s: %s.%s: %s here: its rows are "
			    "not merged\n", iwm_progname, domain, db,
			    rl->table, rl->why);
			r = fail(IWM_EXIT_DATA);
			goto next;
		}
		memset(&m, 0, sizeof(m));
		m.c = &c;
		m.rs = rs;
		m.r = rl;
		m.dry = o->dryrun;
		m.ncar = ncc;
		m.pm = pm;
		m.to = iwm_calloc(ncc + 1, sizeof(*m.to));
		m.ispath = iwm_calloc(ncc + 1, sizeof(*m.ispath));
		m.scratch = iwm_calloc(ncc + 1, sizeof(*m.scratch));
		for (j = 0; j < ncc; j++)
			m.ispath[j] = pm->pc != NULL &&
			    iwm_pathcols_match(pm->pc, db, rl->table, ccols[j]);
		iwm_buf_adds(&m.head, "INSERT INTO ");
		c_ident(&c, &m.head, rl->table);
		iwm_buf_adds(&m.head, " (");
		for (j = 0, x = 0; j < ncc; j++) {
			m.to[j] = col_index(rl->cols, rl->ncols, ccols[j]);
			if (m.to[j] < 0) {
				fprintf(stderr, "%s: %s.%s: column %s not on "
				    "this server: left out\n", iwm_progname,
				    db, rl->table, ccols[j]);
				continue;
			}
			if (x++ > 0)
				iwm_buf_addc(&m.head, ',');
			c_ident(&c, &m.head, rl->cols[m.to[j]]);
		}
		iwm_buf_adds(&m.head, ") VALUES ");
		if (rl->keyci >= 0) {
			struct iwm_buf s = { 0 };

			iwm_buf_adds(&s, "SELECT ");
			c_ident(&c, &s, rl->key);
			iwm_buf_adds(&s, " FROM ");
			c_ident(&c, &s, rl->table);
			r = c_query(&c, s.ptr, key_cb, &m.taken);
			iwm_buf_reset(&s);
			/* A dry run has not deleted the domain's rows. */
			if (o->dryrun)
				kmap_del_all(&m.taken, &rl->keys);
			for (j = 0; j < m.taken.cap; j++)
				if (m.taken.used[j] && m.taken.k[j] > tmax)
					tmax = m.taken.k[j];
			iwm_buf_adds(&s, "SELECT ");
			iwm_db_quote_ident(&s, IWM_DB_SQLITE, rl->key);
			iwm_buf_printf(&s, " FROM \"%s\"", q.ptr);
			if (r == 0)
				r = c_query(&cc, s.ptr, max_cb, &cmax);
			iwm_buf_free(&s);
			m.next = (tmax > cmax ? tmax : cmax) + 1;
		}
		iwm_buf_reset(&q);
		iwm_buf_printf(&q, "SELECT * FROM \"%s.%s\"", db, rl->table);
		if (r == 0)
			r = c_query(&cc, q.ptr, mg_row, &m);
		if (r == 0)
			r = mg_flush(&m);
		if (r == 0 && !o->quiet && o->out != NULL)
			fprintf(o->out, "%s\t%s\t%llu rows\t%llu new keys\t"
			    "%llu replaced%s\n", db, rl->table,
			    (unsigned long long)rl->rows,
			    (unsigned long long)rl->fresh,
			    (unsigned long long)rl->replaced,
			    o->dryrun ? "\t(dry run)" : "");
		o->rows += rl->rows;
		free(m.to);
		free(m.ispath);
		for (j = 0; j < ncc; j++)
			iwm_buf_free(&m.scratch[j]);
		free(m.scratch);
		kmap_free(&m.taken);
		iwm_buf_free(&m.head);
		iwm_buf_free(&m.b);
next:
		for (j = 0; j < ncc; j++)
			free(ccols[j]);
		free(ccols);
		iwm_buf_free(&q);
	}
	if (!o->dryrun) {
		if (r == 0)
			r = c_exec(&c, "COMMIT");
		else if (c.e == IWM_DB_MYSQL)
			(void)mysql_query(c.m, "ROLLBACK");
		else
			(void)sqlite3_exec(c.s, "ROLLBACK", NULL, NULL, NULL);
	}
	c_close(&c);
	return r;
}

/* The carrier's _iwm_domain value K (malloc'd) or NULL. */
static char *
meta_get(const char *carrier, const char *k)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;

	if ((db = iwm_db_sqlite_open(carrier, SQLITE_OPEN_READONLY,
	    "carrier")) == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT v FROM _iwm_domain WHERE k = ?",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			v = iwm_strdup((const char *)sqlite3_column_text(st,
			    0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static int
db_cb(void *arg, struct val *v, size_t n)
{
	struct iwm_buf *b = arg;

	if (n >= 1 && v[0].t == V_TEXT) {
		iwm_buf_add(b, v[0].p, v[0].n);
		iwm_buf_addc(b, '\n');
	}
	return 0;
}

int
iwm_domrows_merge(const struct iwm_tool *t, const char *carrier,
    struct iwm_domrows_opts *o)
{
	struct rels rs;
	struct iwm_buf dbs = { 0 };
	struct pathmap pm;
	sqlite3 *car;
	char *fmt, *domain, *p, *e;
	int r = 0;

	iwm_domrows_status = 0;
	if (access(carrier, R_OK) == -1) {
		iwm_seterr_errno("%s", carrier);
		return fail(IWM_EXIT_NOINPUT);
	}
	fmt = meta_get(carrier, "format");
	domain = meta_get(carrier, "domain");
	if (fmt == NULL || strcmp(fmt, "iwm-domainrows 1") != 0 ||
	    domain == NULL) {
		iwm_seterr("%s: not a carrier of iwm-dbexport --domain",
		    carrier);
		free(fmt);
		free(domain);
		return fail(IWM_EXIT_DATA);
	}
	free(fmt);
	if (domain_exists(t, domain) != 1) {
		iwm_seterr("no domain %s on this server: create it first "
		    "(iwm domain %s prepare)", domain, domain);
		free(domain);
		return fail(IWM_EXIT_NOINPUT);
	}
	if (rels_load(&rs) == -1) {
		free(domain);
		return -1;
	}
	if ((car = iwm_db_sqlite_open(carrier, SQLITE_OPEN_READONLY,
	    "carrier")) == NULL) {
		rels_free(&rs);
		free(domain);
		return fail(IWM_EXIT_NOINPUT);
	}
	{
		struct conn cc = { IWM_DB_SQLITE, car, NULL, "carrier" };

		r = c_query(&cc, "SELECT DISTINCT db FROM _iwm_domain_tables "
		    "ORDER BY rowid", db_cb, &dbs);
	}
	memset(&pm, 0, sizeof(pm));
	pm.pc = iwm_pathcols_load();
	pm.to_platform = iwm_db_server_platform(t);
	{
		char *from = meta_get(carrier, "mailpath");
		char *fplat = meta_get(carrier, "platform");
		char *to = iwm_tool_get1(t, "C_System_Storage_Dir_MailPath");

		if (from != NULL && *from != '\0' && to != NULL && *to != '\0' &&
		    strcmp(from, to) != 0) {
			pm.from = from;
			pm.to = to;
			from = to = NULL;
			pm.from_win = fplat != NULL &&
			    strcmp(fplat, "windows") == 0;
		}
		free(from);
		free(to);
		free(fplat);
	}
	for (p = dbs.ptr; r == 0 && p != NULL && *p != '\0'; p = e + 1) {
		e = strchr(p, '\n');
		*e = '\0';
		r = merge_db(t, &rs, p, domain, car, &pm, o);
	}
	free(pm.from);
	free(pm.to);
	if (pm.pc != NULL)
		iwm_pathcols_free(pm.pc);
	sqlite3_close(car);
	iwm_buf_free(&dbs);
	rels_free(&rs);
	free(domain);
	return r;
}
