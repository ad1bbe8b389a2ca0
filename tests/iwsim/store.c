/*
 * store.c: the simulator's state. System variables, variable definitions
 * and remote accounts live in D/.iwsim/state.db (private: iwm never reads
 * it). Domains and accounts live where a real server in storage mode 2
 * keeps them: the accounts database named by
 * C_System_Storage_Accounts_ODBCConnString, a SQLite file attached as
 * "adb", or a MariaDB database copied into an in-memory "adb" for the call
 * and written back after a change (mdb.c). Changing those tables from
 * outside (UPDATE Users ..., a database import) changes what the tool
 * answers.
 *
 * Accounts: Users(U_ID, U_Alias, U_Domain, U_Mailbox, U_Type, U_Name,
 * U_MailBoxPath, U_AccountDisabled) + UserProperties(UP_UserID, UP_Name,
 * UP_Value) for every other variable; Aliases(A_Alias, A_Domain, A_UserID).
 * Domains: Domains(D_ID, D_Name, D_Type, D_Description) +
 * DomainProperties(DP_DomainID, DP_Name, DP_Value). Keys are lower case.
 * Remote accounts: ra(id, name) + ravar(oid, name, value) in state.db.
 */
#include "iwsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char schema[] =
	"PRAGMA page_size=4096;"
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sys(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE vdef(lname TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL,"
	" flags TEXT NOT NULL, seq INTEGER NOT NULL);"
	"CREATE TABLE ra(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE ravar(oid INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(oid, name)) WITHOUT ROWID;";

/* The accounts database's tables (copied to MariaDB by iwsim-db; in memory for mdb.c). */
const char store_adb_schema[] =
	"CREATE TABLE adb.Domains(D_ID INTEGER PRIMARY KEY, D_Name TEXT NOT NULL UNIQUE,"
	" D_Type INTEGER NOT NULL DEFAULT 0, D_Description TEXT);"
	"CREATE TABLE adb.DomainProperties(DP_DomainID INTEGER NOT NULL, DP_Name TEXT NOT NULL, DP_Value TEXT,"
	" PRIMARY KEY(DP_DomainID, DP_Name));"
	"CREATE TABLE adb.Users(U_ID INTEGER PRIMARY KEY, U_Alias TEXT NOT NULL, U_Domain TEXT NOT NULL,"
	" U_Mailbox TEXT NOT NULL, U_Type INTEGER NOT NULL DEFAULT 0, U_Name TEXT,"
	" U_MailBoxPath TEXT, U_AccountDisabled INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX adb.Users_Email ON Users(U_Domain, U_Mailbox);"
	"CREATE TABLE adb.UserProperties(UP_UserID INTEGER NOT NULL, UP_Name TEXT NOT NULL, UP_Value TEXT,"
	" PRIMARY KEY(UP_UserID, UP_Name));"
	"CREATE TABLE adb.Aliases(A_Alias TEXT NOT NULL, A_Domain TEXT NOT NULL, A_UserID INTEGER NOT NULL,"
	" PRIMARY KEY(A_Alias, A_Domain));"
	"CREATE TABLE adb.MetaData(MD_Key TEXT PRIMARY KEY, MD_Value TEXT);";

static int
attach_file(struct store *st, const char *path)
{
	char *q = sqlite3_mprintf("ATTACH %Q AS adb", path);
	int rc = store_exec(st, q);

	sqlite3_free(q);
	return rc;
}

static int
open_db(struct store *st, const char *phys, int flags)
{
	struct buf b = {0};
	int rc;

	memset(st, 0, sizeof *st);
	st->phys = util_xstrdup(phys);
	buf_printf(&b, "%s/.iwsim/state.db", phys);
	rc = sqlite3_open_v2(buf_str(&b), &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		util_warn("%s: %s", buf_str(&b), st->db ? sqlite3_errmsg(st->db) : "cannot open");
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	sqlite3_busy_timeout(st->db, 10000);
	/* Test infrastructure: durability does not matter, speed does. */
	return store_exec(st, "PRAGMA synchronous=OFF");
}

int
store_create(struct store *st, const char *phys, const char *logical, int windows)
{
	struct buf b = {0};
	sqlite3_stmt *s;

	if (open_db(st, phys, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) != 0)
		return -1;
	buf_printf(&b, "%s/config/accounts.db", phys);
	if (attach_file(st, buf_str(&b)) != 0 || store_exec(st, "PRAGMA adb.synchronous=OFF") != 0 ||
	    store_exec(st, "PRAGMA journal_mode=OFF") != 0 || store_exec(st, "PRAGMA adb.journal_mode=OFF") != 0 ||
	    store_exec(st, "PRAGMA adb.page_size=4096") != 0 || store_exec(st, schema) != 0 ||
	    store_exec(st, store_adb_schema) != 0 ||
	    store_exec(st, "INSERT INTO adb.MetaData VALUES('version', '" IWSIM_VERSION "')") != 0) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	st->adb = 1;
	st->logical = util_xstrdup(logical);
	st->windows = windows;
	st->sep = windows ? '\\' : '/';
	s = store_prep(st, "INSERT INTO meta VALUES('logical', ?1), ('windows', ?2)");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, logical, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, windows);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int
store_open(struct store *st, const char *phys)
{
	sqlite3_stmt *s;

	if (open_db(st, phys, SQLITE_OPEN_READWRITE) != 0)
		return -1;
	s = store_prep(st, "SELECT k, v FROM meta");
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		const char *v = (const char *)sqlite3_column_text(s, 1);

		if (strcmp(k, "logical") == 0)
			st->logical = util_xstrdup(v);
		else if (strcmp(k, "windows") == 0)
			st->windows = strcmp(v, "1") == 0;
	}
	sqlite3_finalize(s);
	if (st->logical == NULL) {
		util_warn("%s: not a simulated server", phys);
		return -1;
	}
	st->sep = st->windows ? '\\' : '/';
	return 0;
}

/*
 * Physical path of a path as the server reports it: below the logical
 * install dir it is below DIR; another Windows drive X: is DIR/drive-x/.
 */
char *
store_phys_path(struct store *st, const char *lp)
{
	struct buf b = {0};
	size_t n = strlen(st->logical);

	if (st->windows && strncasecmp(lp, st->logical, n) == 0) {
		buf_printf(&b, "%s/%s", st->phys, lp + n);
	} else if (st->windows && ((lp[0] | 0x20) >= 'a' && (lp[0] | 0x20) <= 'z') && lp[1] == ':') {
		buf_printf(&b, "%s/drive-%c/%s", st->phys, lp[0] | 0x20, lp[2] == '\\' || lp[2] == '/' ? lp + 3 : lp + 2);
	} else {
		buf_puts(&b, lp);
	}
	buf_add(&b, "", 0);
	if (st->windows)
		for (size_t i = 0; i < b.len; i++)
			if (b.p[i] == '\\')
				b.p[i] = '/';
	return b.p;
}

/*
 * Attaches the accounts database the connection string names ("file;;;;7;3"
 * SQLite, "db;user;pass;host;3;2" MariaDB). Only commands on domains and
 * accounts need it: the tool answers system variables without it.
 */
int
store_adb_open(struct store *st)
{
	char *conn = NULL, *f[6] = {0}, *p;
	int n = 0, rc = -1;

	if (st->adb)
		return 0;
	if (store_sys_get(st, "C_System_Storage_Accounts_ODBCConnString", &conn) != 0) {
		util_warn("no accounts connection string");
		return -1;
	}
	p = strchr(conn, '|'); /* a failover connection may follow: the first one is used */
	if (p)
		*p = '\0';
	for (p = conn; n < 6 && p != NULL; n++) {
		f[n] = p;
		p = strchr(p, ';');
		if (p)
			*p++ = '\0';
	}
	if (n >= 5 && strcmp(f[4], "7") == 0 && *f[0] != '\0') {
		char *path = store_phys_path(st, f[0]);

		if (access(path, R_OK | W_OK) != 0)
			util_warn("accounts database %s: cannot open", f[0]);
		else
			rc = attach_file(st, path);
		free(path);
	} else if (n >= 5 && strcmp(f[4], "3") == 0) {
		if (attach_file(st, ":memory:") == 0 && store_exec(st, store_adb_schema) == 0)
			rc = mdb_pull(st, f[0], f[1], f[2], f[3]);
	} else {
		util_warn("accounts connection string: unknown syntax");
	}
	free(conn);
	if (rc == 0)
		st->adb = st->my ? 2 : 1;
	return rc;
}

void
store_close(struct store *st)
{
	for (size_t i = 0; i < STORE_NCACHE && st->cache[i].sql; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db)
		sqlite3_close(st->db);
	free(st->phys);
	free(st->logical);
	free(st->mailpath);
	mdb_close(st);
	memset(st, 0, sizeof *st);
}

int
store_exec(struct store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		util_warn("state: %s", err ? err : "error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
store_prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		util_warn("state: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	return s;
}

/* Statements by call site (SQL text pointer): 50,000 accounts must not mean 500,000 prepares. */
static sqlite3_stmt *
store_stmt(struct store *st, const char *sql)
{
	size_t i;

	for (i = 0; i < STORE_NCACHE && st->cache[i].sql; i++)
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	if (i == STORE_NCACHE)
		util_die("statement cache full");
	st->cache[i].stmt = store_prep(st, sql);
	if (st->cache[i].stmt == NULL)
		return NULL;
	st->cache[i].sql = sql;
	return st->cache[i].stmt;
}

static int
step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* System variables: all known at create time; the tool refuses others (must_exist). */
int
store_sys_set(struct store *st, const char *name, const char *value, int must_exist)
{
	char *lname = util_lower(name);
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, must_exist ? "UPDATE sys SET value = ?2 WHERE name = ?1"
				      : "INSERT OR REPLACE INTO sys VALUES(?1, ?2)");
	if (s == NULL) {
		free(lname);
		return -1;
	}
	sqlite3_bind_text(s, 1, lname, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
	rc = step_done(s);
	free(lname);
	if (rc == 0 && must_exist && sqlite3_changes(st->db) == 0)
		return 1;
	if (rc == 0 && st->mailpath) {
		free(st->mailpath);
		st->mailpath = NULL;
	}
	return rc;
}

/* 0 found (*value malloc'd), 1 unknown, -1 error. */
int
store_sys_get(struct store *st, const char *name, char **value)
{
	char *lname = util_lower(name);
	sqlite3_stmt *s = store_stmt(st, "SELECT value FROM sys WHERE name = ?1");
	int rc;

	if (s == NULL) {
		free(lname);
		return -1;
	}
	sqlite3_bind_text(s, 1, lname, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*value = util_xstrdup((const char *)sqlite3_column_text(s, 0));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_reset(s);
	free(lname);
	return rc;
}

/* Variable definitions (tests/iwsim/vars, loaded at create). */
int
store_vdef_add(struct store *st, const char *name, int kind, const char *type, const char *flags, long seq)
{
	char k[2] = {(char)kind, 0};
	char *lname = util_lower(name);
	sqlite3_stmt *s = store_stmt(st, "INSERT OR REPLACE INTO vdef VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	int rc = -1;

	if (s != NULL) {
		sqlite3_bind_text(s, 1, lname, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, k, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, type, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 5, flags, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 6, seq);
		rc = step_done(s);
	}
	free(lname);
	return rc;
}

/* 0 found (*d filled), 1 unknown, -1 error. */
int
store_vdef(struct store *st, const char *name, struct vdef *d)
{
	char *lname = util_lower(name);
	sqlite3_stmt *s = store_stmt(st, "SELECT name, kind, type, flags FROM vdef WHERE lname = ?1");
	int rc = -1;

	memset(d, 0, sizeof *d);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, lname, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *ty = (const char *)sqlite3_column_text(s, 2);

			snprintf(d->name, sizeof d->name, "%s", (const char *)sqlite3_column_text(s, 0));
			d->kind = *(const char *)sqlite3_column_text(s, 1);
			snprintf(d->flags, sizeof d->flags, "%s", (const char *)sqlite3_column_text(s, 3));
			d->numeric = strncasecmp(ty, "Bool", 4) == 0 || strncasecmp(ty, "Int", 3) == 0 ||
				     strcasecmp(ty, "Enum") == 0;
			rc = 0;
		} else {
			rc = rc == SQLITE_DONE ? 1 : -1;
		}
		sqlite3_reset(s);
	}
	free(lname);
	return rc;
}

/* Splits KEY of KIND into the lower-case (dom, name) pair; -1 when malformed. */
static int
split_key(int kind, const char *key, char **dom, char **name)
{
	char *lk = util_lower(key);
	char *at;

	*dom = *name = NULL;
	if (*lk == '\0') {
		free(lk);
		return -1;
	}
	if (kind == 'a') {
		at = strrchr(lk, '@');
		if (at == NULL || at == lk || at[1] == '\0') {
			free(lk);
			return -1;
		}
		*at = '\0';
		*name = util_xstrdup(lk);
		*dom = util_xstrdup(at + 1);
	} else if (kind == 'd') {
		*dom = util_xstrdup(lk);
		*name = util_xstrdup("");
	} else {
		*dom = util_xstrdup("");
		*name = util_xstrdup(lk);
	}
	free(lk);
	return 0;
}

static const char *const ucols[][2] = {
	{"u_type", "U_Type"}, {"u_name", "U_Name"}, {"u_mailboxpath", "U_MailBoxPath"},
	{"u_accountdisabled", "U_AccountDisabled"},
};
static const char *const dcols[][2] = {{"d_type", "D_Type"}, {"d_description", "D_Description"}};

static const struct kdesc kd_a = {
	"adb.Users", "U_ID", "U_Domain", "U_Mailbox", "U_MailBoxPath", "adb.UserProperties", "UP_UserID", "UP_Name",
	"UP_Value", ucols, sizeof ucols / sizeof ucols[0],
};
static const struct kdesc kd_d = {
	"adb.Domains", "D_ID", "D_Name", "''", "NULL", "adb.DomainProperties", "DP_DomainID", "DP_Name", "DP_Value",
	dcols, sizeof dcols / sizeof dcols[0],
};
static const struct kdesc kd_r = {
	"main.ra", "id", "''", "name", "NULL", "main.ravar", "oid", "name", "value", NULL, 0,
};

const struct kdesc *
store_kind(int kind)
{
	return kind == 'a' ? &kd_a : kind == 'd' ? &kd_d : &kd_r;
}

/*
 * SQL text per (kind, query, column), made once: the statement cache is
 * keyed by the text's address.
 */
enum { Q_ID, Q_NEXT, Q_PGET, Q_PDEL, Q_PINS, Q_KEY, Q_BACKUP, Q_DELP, Q_DELO, Q_N };
#define QCOLS 8

static const char *
ksql(int kind, int q, size_t col)
{
	static char *cache[3][Q_N + QCOLS * 2];
	const struct kdesc *k = store_kind(kind);
	int ki = kind == 'a' ? 0 : kind == 'd' ? 1 : 2;
	int slot = q < Q_N ? q : q == Q_N ? Q_N + (int)col : Q_N + QCOLS + (int)col;
	char *s = NULL;

	if (cache[ki][slot])
		return cache[ki][slot];
	switch (q) {
	case Q_ID:
		s = sqlite3_mprintf("SELECT %s FROM %s WHERE %s = ?1 AND %s = ?2", k->id, k->tab, k->dom, k->name);
		break;
	case Q_NEXT:
		s = sqlite3_mprintf("SELECT COALESCE(MAX(%s), 0) + 1 FROM %s", k->id, k->tab);
		break;
	case Q_PGET:
		s = sqlite3_mprintf("SELECT %s FROM %s WHERE %s = ?1 AND %s = ?2", k->pval, k->ptab, k->pid, k->pname);
		break;
	case Q_PDEL:
		s = sqlite3_mprintf("DELETE FROM %s WHERE %s = ?1 AND %s = ?2", k->ptab, k->pid, k->pname);
		break;
	case Q_PINS:
		s = sqlite3_mprintf("INSERT INTO %s(%s, %s, %s) VALUES(?1, ?2, ?3)", k->ptab, k->pid, k->pname, k->pval);
		break;
	case Q_KEY:
		s = sqlite3_mprintf("SELECT %s, %s FROM %s WHERE %s = ?1", k->dom, k->name, k->tab, k->id);
		break;
	case Q_BACKUP: {
		struct buf b = {0};

		buf_puts(&b, "SELECT n, v FROM (");
		for (size_t i = 0; i < k->ncols; i++)
			buf_printf(&b, "SELECT '%s' AS n, CAST(%s AS TEXT) AS v FROM %s WHERE %s = ?1 UNION ALL ",
				   k->cols[i][0], k->cols[i][1], k->tab, k->id);
		buf_printf(&b, "SELECT %s AS n, %s AS v FROM %s WHERE %s = ?1) WHERE v IS NOT NULL ORDER BY n", k->pname,
			   k->pval, k->ptab, k->pid);
		s = sqlite3_mprintf("%s", buf_str(&b));
		buf_free(&b);
		break;
	}
	case Q_DELP:
		s = sqlite3_mprintf("DELETE FROM %s WHERE %s = ?1", k->ptab, k->pid);
		break;
	case Q_DELO:
		s = sqlite3_mprintf("DELETE FROM %s WHERE %s = ?1", k->tab, k->id);
		break;
	case Q_N: /* column get */
		s = sqlite3_mprintf("SELECT %s FROM %s WHERE %s = ?1", k->cols[col][1], k->tab, k->id);
		break;
	default: /* column set */
		s = sqlite3_mprintf("UPDATE %s SET %s = ?2 WHERE %s = ?1", k->tab, k->cols[col][1], k->id);
		break;
	}
	if (s == NULL)
		util_die("out of memory");
	cache[ki][slot] = s;
	return s;
}

static int
col_index(const struct kdesc *k, const char *lname, size_t *i)
{
	for (*i = 0; *i < k->ncols; (*i)++)
		if (strcmp(k->cols[*i][0], lname) == 0)
			return 1;
	return 0;
}

/* Object id, 0 when there is none, -1 when KEY is malformed. */
int64_t
store_obj_id(struct store *st, int kind, const char *key)
{
	char *dom, *name;
	sqlite3_stmt *s;
	int64_t id = 0;

	if (split_key(kind, key, &dom, &name) != 0)
		return -1;
	s = store_stmt(st, ksql(kind, Q_ID, 0));
	if (s != NULL) {
		sqlite3_bind_text(s, 1, dom, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW)
			id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	free(dom);
	free(name);
	return id;
}

static int
run1(struct store *st, const char *sql, int64_t id, const char *a, const char *b)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (a)
		sqlite3_bind_text(s, 2, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(s, 3, b, -1, SQLITE_TRANSIENT);
	return step_done(s);
}

/* New object id; IWSIM_API_EXISTS when it exists, IWSIM_API_FAIL otherwise. */
int64_t
store_obj_create(struct store *st, int kind, const char *key)
{
	static const char *const ins[] = {
		"INSERT INTO adb.Users(U_ID, U_Alias, U_Domain, U_Mailbox, U_Type, U_AccountDisabled)"
		" VALUES(?1, ?3, ?2, ?3, 0, 0)",
		"INSERT INTO adb.Aliases(A_Alias, A_Domain, A_UserID) VALUES(?3, ?2, ?1)",
		"INSERT INTO adb.Domains(D_ID, D_Name, D_Type) VALUES(?1, ?2, 0)",
		"INSERT INTO main.ra(id, name) VALUES(?1, ?3)",
	};
	char *dom, *name;
	sqlite3_stmt *s;
	int64_t id;
	int rc = 0;

	id = store_obj_id(st, kind, key);
	if (id > 0)
		return IWSIM_API_EXISTS;
	if (id < 0 || split_key(kind, key, &dom, &name) != 0)
		return IWSIM_API_FAIL;
	/* An account needs its domain. */
	if (kind == 'a' && store_obj_id(st, 'd', dom) <= 0) {
		free(dom);
		free(name);
		return IWSIM_API_FAIL;
	}
	/* Explicit ids: an imported table may lack INTEGER PRIMARY KEY. */
	s = store_stmt(st, ksql(kind, Q_NEXT, 0));
	id = 0;
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	if (s != NULL)
		sqlite3_reset(s);
	for (size_t i = 0; id > 0 && rc == 0 && i < sizeof ins / sizeof ins[0]; i++) {
		if ((kind == 'a') != (i < 2) || (kind == 'd') != (i == 2))
			continue;
		s = store_stmt(st, ins[i]);
		if (s == NULL) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, dom, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
		rc = step_done(s);
	}
	free(dom);
	free(name);
	return id > 0 && rc == 0 ? id : IWSIM_API_FAIL;
}

/* Deleting a domain deletes its accounts, as on a real server. */
int
store_obj_delete(struct store *st, int kind, int64_t id)
{
	static const char *const dom_sql[] = {
		"DELETE FROM adb.UserProperties WHERE UP_UserID IN (SELECT U_ID FROM adb.Users"
		" WHERE U_Domain = (SELECT D_Name FROM adb.Domains WHERE D_ID = ?1))",
		"DELETE FROM adb.Aliases WHERE A_UserID IN (SELECT U_ID FROM adb.Users"
		" WHERE U_Domain = (SELECT D_Name FROM adb.Domains WHERE D_ID = ?1))",
		"DELETE FROM adb.Users WHERE U_Domain = (SELECT D_Name FROM adb.Domains WHERE D_ID = ?1)",
	};

	if (kind == 'd')
		for (size_t i = 0; i < sizeof dom_sql / sizeof dom_sql[0]; i++)
			if (run1(st, dom_sql[i], id, NULL, NULL) != 0)
				return -1;
	if (kind == 'a' && run1(st, "DELETE FROM adb.Aliases WHERE A_UserID = ?1", id, NULL, NULL) != 0)
		return -1;
	if (run1(st, ksql(kind, Q_DELP, 0), id, NULL, NULL) != 0 || run1(st, ksql(kind, Q_DELO, 0), id, NULL, NULL) != 0)
		return -1;
	return 0;
}

int
store_var_set(struct store *st, int kind, int64_t id, const char *name, const char *value)
{
	const struct kdesc *k = store_kind(kind);
	char *lname = util_lower(name);
	size_t c;
	int rc;

	if (col_index(k, lname, &c))
		rc = run1(st, ksql(kind, Q_N + 1, c), id, value, NULL);
	else
		rc = run1(st, ksql(kind, Q_PDEL, 0), id, lname, NULL) != 0 ||
				     run1(st, ksql(kind, Q_PINS, 0), id, lname, value) != 0
			     ? -1
			     : 0;
	free(lname);
	return rc;
}

/* Stored value (malloc'd) or NULL when unset. */
char *
store_var_get(struct store *st, int kind, int64_t id, const char *name)
{
	const struct kdesc *k = store_kind(kind);
	char *lname = util_lower(name), *v = NULL;
	size_t c;
	int col = col_index(k, lname, &c);
	sqlite3_stmt *s = store_stmt(st, col ? ksql(kind, Q_N, c) : ksql(kind, Q_PGET, 0));

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, id);
		if (!col)
			sqlite3_bind_text(s, 2, lname, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
			v = util_xstrdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_reset(s);
	}
	free(lname);
	return v;
}

/* Key parts (malloc'd) of object ID; -1 when there is none. */
int
store_obj_key(struct store *st, int kind, int64_t id, char **dom, char **name)
{
	sqlite3_stmt *s = store_stmt(st, ksql(kind, Q_KEY, 0));
	int rc = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*dom = util_xstrdup((const char *)sqlite3_column_text(s, 0));
		*name = util_xstrdup((const char *)sqlite3_column_text(s, 1));
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

#define BACKUP_MAGIC "iwsim-backup-1"

/* u_backup/d_backup/ra_backup: every stored variable, NUL-separated, base64url. */
int
store_backup(struct store *st, int kind, int64_t id, struct buf *out)
{
	struct buf raw = {0};
	sqlite3_stmt *s = store_stmt(st, ksql(kind, Q_BACKUP, 0));

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	buf_add(&raw, BACKUP_MAGIC, sizeof BACKUP_MAGIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		buf_add(&raw, sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0) + 1);
		buf_add(&raw, sqlite3_column_text(s, 1), (size_t)sqlite3_column_bytes(s, 1) + 1);
	}
	sqlite3_reset(s);
	util_b64url_enc(out, raw.p, raw.len);
	buf_free(&raw);
	return 0;
}

int
store_restore(struct store *st, int kind, int64_t id, const char *blob)
{
	struct buf raw = {0};
	const char *p, *end;

	if (util_b64url_dec(blob, &raw) != 0 || raw.len < sizeof BACKUP_MAGIC ||
	    memcmp(raw.p, BACKUP_MAGIC, sizeof BACKUP_MAGIC) != 0) {
		buf_free(&raw);
		return -1;
	}
	p = raw.p + sizeof BACKUP_MAGIC;
	end = raw.p + raw.len;
	while (p < end) {
		const char *name = p, *value;

		value = name + strlen(name) + 1;
		if (value >= end) {
			buf_free(&raw);
			return -1;
		}
		if (store_var_set(st, kind, id, name, value) != 0) {
			buf_free(&raw);
			return -1;
		}
		p = value + strlen(value) + 1;
	}
	buf_free(&raw);
	return 0;
}

static int
is_abs(const struct store *st, const char *p)
{
	if (st->windows)
		return (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':' &&
			(p[2] == '\\' || p[2] == '/')) ||
		       (p[0] == '\\' && p[1] == '\\');
	return p[0] == '/';
}

/*
 * Sorting prefixes (C_System_Storage_Mailbox_UseSorting): john with
 * PrefixLen 2 is stored in jo/hn/john/ (icewarp-facts.md). An alias
 * shorter than two prefixes is padded with '_' (ASSUMED).
 */
void
store_sort_prefix(struct buf *b, const char *alias, long plen, char sep)
{
	size_t n = strlen(alias);

	if (plen < 1 || plen > 8)
		plen = 2;
	for (size_t level = 0; level < 2; level++) {
		for (size_t i = 0; i < (size_t)plen; i++) {
			size_t k = level * (size_t)plen + i;

			buf_putc(b, k < n ? alias[k] : '_');
		}
		buf_putc(b, sep);
	}
}

static void
sorting_read(struct store *st)
{
	char *v = NULL;

	st->sorting = 0;
	st->prefixlen = 2;
	if (store_sys_get(st, "C_System_Storage_Mailbox_UseSorting", &v) == 0)
		st->sorting = strcmp(v, "0") != 0 && *v != '\0';
	free(v);
	v = NULL;
	if (store_sys_get(st, "C_System_Storage_Mailbox_PrefixLen", &v) == 0 &&
	    util_parse_long(v, 1, 8, &st->prefixlen) != 0)
		st->prefixlen = 2;
	free(v);
}

/*
 * U_FullMailboxPath: the mailbox directory with a trailing separator; a
 * relative U_MailBoxPath is relative to the mail path; empty means the
 * default <domain>/<alias>/. With sorting on, the default path (empty, or
 * exactly <domain>/<alias>/) takes the prefixes: <domain>/jo/hn/john/;
 * any other path is used as it is (ASSUMED).
 */
char *
store_fullpath(struct store *st, const char *domain, const char *alias, const char *mbpath)
{
	struct buf b = {0}, def = {0};
	int is_default;

	if (st->mailpath == NULL && store_sys_get(st, "C_System_Storage_Dir_MailPath", &st->mailpath) != 0)
		st->mailpath = util_xstrdup("");
	if (st->sorting < 0 || st->prefixlen == 0)
		sorting_read(st);
	buf_printf(&def, "%s%c%s%c", domain, st->sep, alias, st->sep);
	is_default = mbpath == NULL || *mbpath == '\0' || strcasecmp(mbpath, buf_str(&def)) == 0;
	if (is_default) {
		buf_puts(&b, st->mailpath);
		buf_printf(&b, "%s%c", domain, st->sep);
		if (st->sorting)
			store_sort_prefix(&b, alias, st->prefixlen, st->sep);
		buf_printf(&b, "%s%c", alias, st->sep);
	} else {
		if (!is_abs(st, mbpath))
			buf_puts(&b, st->mailpath);
		buf_puts(&b, mbpath);
	}
	buf_free(&def);
	buf_add(&b, "", 0);
	if (st->windows)
		for (size_t i = 0; i < b.len; i++)
			if (b.p[i] == '/')
				b.p[i] = '\\';
	if (b.len == 0 || b.p[b.len - 1] != st->sep)
		buf_putc(&b, st->sep);
	return b.p;
}
