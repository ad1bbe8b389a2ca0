/*
 * mdb.c: an accounts database kept in MariaDB ("db;user;pass;host;3;2").
 * For one tool call its tables are copied into the in-memory "adb" (same
 * schema as the SQLite file), and written back whole after a change: the
 * simulator's MariaDB servers are small test servers.
 */
#include "iwsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

static const char *const tables[] = {"Domains", "DomainProperties", "Users", "UserProperties", "Aliases"};
#define NTABLES (sizeof tables / sizeof tables[0])

static int
my_fail(MYSQL *m, const char *what)
{
	util_warn("accounts database (MariaDB): %s: %s", what, mysql_error(m));
	return -1;
}

/* HOST: "host[:port]" or a socket path. */
static MYSQL *
my_connect(const char *db, const char *user, const char *pass, const char *host)
{
	MYSQL *m = mysql_init(NULL);
	char h[256], *colon;
	unsigned int port = 0;
	const char *sock = NULL;

	if (m == NULL)
		return NULL;
	snprintf(h, sizeof h, "%s", host);
	if (host[0] == '/') {
		sock = host;
		snprintf(h, sizeof h, "localhost");
	} else if ((colon = strrchr(h, ':')) != NULL) {
		long p;

		*colon = '\0';
		if (util_parse_long(colon + 1, 1, 65535, &p) != 0) {
			util_warn("accounts database: bad port in %s", host);
			mysql_close(m);
			return NULL;
		}
		port = (unsigned int)p;
	}
	if (mysql_real_connect(m, h, user, pass, db, port, sock, 0) == NULL ||
	    mysql_set_character_set(m, "utf8mb4") != 0) {
		my_fail(m, "connect");
		mysql_close(m);
		return NULL;
	}
	return m;
}

static int
pull_table(struct store *st, MYSQL *m, const char *t)
{
	struct buf q = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	MYSQL_FIELD *fld;
	sqlite3_stmt *s = NULL;
	unsigned int nf;
	int rc = 0;

	buf_printf(&q, "SELECT * FROM `%s`", t);
	if (mysql_query(m, buf_str(&q)) != 0) {
		buf_free(&q);
		return my_fail(m, t);
	}
	res = mysql_use_result(m);
	if (res == NULL) {
		buf_free(&q);
		return my_fail(m, t);
	}
	nf = mysql_num_fields(res);
	fld = mysql_fetch_fields(res);
	q.len = 0;
	buf_printf(&q, "INSERT INTO adb.\"%s\"(", t);
	for (unsigned int i = 0; i < nf; i++)
		buf_printf(&q, "%s\"%s\"", i ? ", " : "", fld[i].name);
	buf_puts(&q, ") VALUES(");
	for (unsigned int i = 0; i < nf; i++)
		buf_puts(&q, i ? ", ?" : "?");
	buf_puts(&q, ")");
	s = store_prep(st, buf_str(&q));
	if (s == NULL)
		rc = -1;
	while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);

		for (unsigned int i = 0; i < nf; i++)
			if (row[i] == NULL)
				sqlite3_bind_null(s, (int)i + 1);
			else
				sqlite3_bind_text(s, (int)i + 1, row[i], (int)len[i], SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE) {
			util_warn("accounts database: %s: %s", t, sqlite3_errmsg(st->db));
			rc = -1;
		}
		sqlite3_reset(s);
	}
	if (rc == 0 && mysql_errno(m) != 0)
		rc = my_fail(m, t);
	sqlite3_finalize(s);
	mysql_free_result(res);
	buf_free(&q);
	return rc;
}

int
mdb_pull(struct store *st, const char *db, const char *user, const char *pass, const char *host)
{
	MYSQL *m = my_connect(db, user, pass, host);

	if (m == NULL)
		return -1;
	st->my = m;
	for (size_t i = 0; i < NTABLES; i++)
		if (pull_table(st, m, tables[i]) != 0)
			return -1;
	return 0;
}

static void
esc(MYSQL *m, struct buf *b, const char *v, size_t n)
{
	char *e = util_xmalloc(2 * n + 1);
	unsigned long k = mysql_real_escape_string(m, e, v, (unsigned long)n);

	buf_putc(b, '\'');
	buf_add(b, e, k);
	buf_putc(b, '\'');
	free(e);
}

static int
push_table(struct store *st, MYSQL *m, const char *t)
{
	struct buf q = {0}, head = {0};
	sqlite3_stmt *s;
	int rows = 0, nc, rc = 0;

	buf_printf(&q, "DELETE FROM `%s`", t);
	if (mysql_query(m, buf_str(&q)) != 0) {
		buf_free(&q);
		return my_fail(m, t);
	}
	q.len = 0;
	buf_printf(&q, "SELECT * FROM adb.\"%s\"", t);
	s = store_prep(st, buf_str(&q));
	if (s == NULL) {
		buf_free(&q);
		return -1;
	}
	nc = sqlite3_column_count(s);
	buf_printf(&head, "INSERT INTO `%s` (", t);
	for (int i = 0; i < nc; i++)
		buf_printf(&head, "%s`%s`", i ? ", " : "", sqlite3_column_name(s, i));
	buf_puts(&head, ") VALUES ");
	q.len = 0;
	for (;;) {
		int r = sqlite3_step(s);

		if (r == SQLITE_ROW) {
			if (rows == 0) {
				q.len = 0;
				buf_add(&q, head.p, head.len);
				buf_puts(&q, "(");
			} else {
				buf_puts(&q, ", (");
			}
			for (int i = 0; i < nc; i++) {
				if (i)
					buf_puts(&q, ", ");
				if (sqlite3_column_type(s, i) == SQLITE_NULL)
					buf_puts(&q, "NULL");
				else
					esc(m, &q, (const char *)sqlite3_column_text(s, i),
					    (size_t)sqlite3_column_bytes(s, i));
			}
			buf_puts(&q, ")");
			rows++;
		}
		if ((r != SQLITE_ROW && rows > 0) || q.len > (1u << 20)) {
			if (mysql_real_query(m, q.p, q.len) != 0) {
				rc = my_fail(m, t);
				break;
			}
			q.len = 0;
			rows = 0;
		}
		if (r != SQLITE_ROW) {
			if (r != SQLITE_DONE) {
				util_warn("accounts database: %s: %s", t, sqlite3_errmsg(st->db));
				rc = -1;
			}
			break;
		}
	}
	sqlite3_finalize(s);
	buf_free(&q);
	buf_free(&head);
	return rc;
}

/* Writes the in-memory tables back, in one transaction. */
int
mdb_push(struct store *st)
{
	MYSQL *m = st->my;

	if (m == NULL)
		return 0;
	if (mysql_query(m, "START TRANSACTION") != 0)
		return my_fail(m, "begin");
	for (size_t i = 0; i < NTABLES; i++)
		if (push_table(st, m, tables[i]) != 0) {
			mysql_query(m, "ROLLBACK");
			return -1;
		}
	if (mysql_query(m, "COMMIT") != 0)
		return my_fail(m, "commit");
	return 0;
}

void
mdb_close(struct store *st)
{
	if (st->my)
		mysql_close(st->my);
	st->my = NULL;
}
