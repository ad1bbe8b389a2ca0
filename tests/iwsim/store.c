/*
 * store.c: the simulator's private state, D/.iwsim/state.db. iwm never reads
 * it; it reaches the same data only through tool.sh. The accounts database
 * a real server has (config/accounts.db) is attached and kept in step.
 *
 * obj(id, kind, dom, name): kind 'd' domain (dom = name, name = ''),
 * 'a' account (alias@dom), 'r' remote account (dom = '', name = key).
 * var(oid, name, value): variables by lower-case name. sys(name, value).
 */
#include "iwsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char schema[] =
	"PRAGMA page_size=4096;"
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sys(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE vdef(lname TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL,"
	" flags TEXT NOT NULL, seq INTEGER NOT NULL);"
	"CREATE TABLE obj(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, dom TEXT NOT NULL,"
	" name TEXT NOT NULL, UNIQUE(kind, dom, name));"
	"CREATE TABLE var(oid INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(oid, name)) WITHOUT ROWID;"
	"CREATE TABLE adb.Domains(D_ID INTEGER PRIMARY KEY, D_Name TEXT NOT NULL UNIQUE,"
	" D_Type INTEGER NOT NULL DEFAULT 0, D_Description TEXT);"
	"CREATE TABLE adb.Users(U_ID INTEGER PRIMARY KEY, U_Alias TEXT NOT NULL, U_Domain TEXT NOT NULL,"
	" U_Mailbox TEXT NOT NULL, U_Type INTEGER NOT NULL DEFAULT 0, U_Name TEXT,"
	" U_MailBoxPath TEXT, U_AccountDisabled INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX adb.Users_Email ON Users(U_Domain, U_Alias);"
	"CREATE TABLE adb.Aliases(A_Alias TEXT NOT NULL, A_Domain TEXT NOT NULL, A_UserID INTEGER NOT NULL,"
	" PRIMARY KEY(A_Alias, A_Domain));"
	"CREATE TABLE adb.MetaData(MD_Key TEXT PRIMARY KEY, MD_Value TEXT);"
	"INSERT INTO adb.MetaData VALUES('version', '" IWSIM_VERSION "');";

static int
attach(struct store *st)
{
	struct buf b = {0};
	char *q;
	int rc;

	buf_printf(&b, "%s/config/accounts.db", st->phys);
	q = sqlite3_mprintf("ATTACH %Q AS adb", buf_str(&b));
	rc = store_exec(st, q);
	sqlite3_free(q);
	buf_free(&b);
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
	if (store_exec(st, "PRAGMA synchronous=OFF") != 0 || attach(st) != 0 ||
	    store_exec(st, "PRAGMA adb.synchronous=OFF") != 0)
		return -1;
	return 0;
}

int
store_create(struct store *st, const char *phys, const char *logical, int windows)
{
	sqlite3_stmt *s;

	if (open_db(st, phys, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) != 0)
		return -1;
	if (store_exec(st, "PRAGMA journal_mode=OFF") != 0 || store_exec(st, "PRAGMA adb.journal_mode=OFF") != 0 ||
	    store_exec(st, "PRAGMA adb.page_size=4096") != 0 || store_exec(st, schema) != 0)
		return -1;
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

/* Splits KEY of KIND into the obj columns (dom, name); NULL when malformed. */
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

/* Object id, 0 when there is none, -1 when KEY is malformed. */
int64_t
store_obj_id(struct store *st, int kind, const char *key)
{
	char k[2] = {(char)kind, 0};
	char *dom, *name;
	sqlite3_stmt *s;
	int64_t id = 0;

	if (split_key(kind, key, &dom, &name) != 0)
		return -1;
	s = store_stmt(st, "SELECT id FROM obj WHERE kind = ?1 AND dom = ?2 AND name = ?3");
	if (s != NULL) {
		sqlite3_bind_text(s, 1, k, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, dom, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW)
			id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	free(dom);
	free(name);
	return id;
}

/* New object id; IWSIM_API_EXISTS when it exists, IWSIM_API_FAIL otherwise. */
int64_t
store_obj_create(struct store *st, int kind, const char *key)
{
	char k[2] = {(char)kind, 0};
	char *dom, *name;
	sqlite3_stmt *s;
	int64_t id;

	id = store_obj_id(st, kind, key);
	if (id > 0)
		return IWSIM_API_EXISTS;
	if (id < 0)
		return IWSIM_API_FAIL;
	if (split_key(kind, key, &dom, &name) != 0)
		return IWSIM_API_FAIL;
	if (kind == 'a') {
		char *dk = util_xstrdup(dom);

		/* An account needs its domain. */
		id = store_obj_id(st, 'd', dk);
		free(dk);
		if (id <= 0) {
			free(dom);
			free(name);
			return IWSIM_API_FAIL;
		}
	}
	s = store_stmt(st, "INSERT INTO obj(kind, dom, name) VALUES(?1, ?2, ?3)");
	id = IWSIM_API_FAIL;
	if (s != NULL) {
		sqlite3_bind_text(s, 1, k, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, dom, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
		if (step_done(s) == 0)
			id = sqlite3_last_insert_rowid(st->db);
	}
	free(dom);
	free(name);
	return id;
}

/* Deleting a domain deletes its accounts, as on a real server. */
int
store_obj_delete(struct store *st, int kind, int64_t id)
{
	static const char *dom_sql[] = {
		"DELETE FROM adb.Aliases WHERE A_UserID IN"
		" (SELECT id FROM obj WHERE kind = 'a' AND dom = (SELECT dom FROM obj WHERE id = ?1))",
		"DELETE FROM adb.Users WHERE U_ID IN"
		" (SELECT id FROM obj WHERE kind = 'a' AND dom = (SELECT dom FROM obj WHERE id = ?1))",
		"DELETE FROM var WHERE oid IN"
		" (SELECT id FROM obj WHERE kind = 'a' AND dom = (SELECT dom FROM obj WHERE id = ?1))",
		"DELETE FROM obj WHERE kind = 'a' AND dom = (SELECT dom FROM obj WHERE id = ?1)",
		"DELETE FROM adb.Domains WHERE D_ID = ?1",
	};
	static const char *obj_sql[] = {
		"DELETE FROM adb.Aliases WHERE A_UserID = ?1",
		"DELETE FROM adb.Users WHERE U_ID = ?1",
		"DELETE FROM var WHERE oid = ?1",
		"DELETE FROM obj WHERE id = ?1",
	};
	size_t i;

	if (kind == 'd')
		for (i = 0; i < sizeof dom_sql / sizeof dom_sql[0]; i++) {
			sqlite3_stmt *s = store_stmt(st, dom_sql[i]);

			if (s == NULL)
				return -1;
			sqlite3_bind_int64(s, 1, id);
			if (step_done(s) != 0)
				return -1;
		}
	for (i = 0; i < sizeof obj_sql / sizeof obj_sql[0]; i++) {
		sqlite3_stmt *s = store_stmt(st, obj_sql[i]);

		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		if (step_done(s) != 0)
			return -1;
	}
	return 0;
}

int
store_var_set(struct store *st, int kind, int64_t id, const char *name, const char *value)
{
	char *lname = util_lower(name);
	sqlite3_stmt *s;
	int rc;

	(void)kind;
	s = store_stmt(st, "INSERT OR REPLACE INTO var VALUES(?1, ?2, ?3)");
	if (s == NULL) {
		free(lname);
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, lname, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, value, -1, SQLITE_TRANSIENT);
	rc = step_done(s);
	free(lname);
	return rc;
}

/* Stored value (malloc'd) or NULL when unset. */
char *
store_var_get(struct store *st, int kind, int64_t id, const char *name)
{
	char *lname = util_lower(name), *v = NULL;
	sqlite3_stmt *s = store_stmt(st, "SELECT value FROM var WHERE oid = ?1 AND name = ?2");

	(void)kind;
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, lname, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = util_xstrdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_reset(s);
	}
	free(lname);
	return v;
}

#define BACKUP_MAGIC "iwsim-backup-1"

/* u_backup/d_backup/ra_backup: every stored variable, NUL-separated, base64url. */
int
store_backup(struct store *st, int kind, int64_t id, struct buf *out)
{
	struct buf raw = {0};
	sqlite3_stmt *s = store_stmt(st, "SELECT name, value FROM var WHERE oid = ?1 ORDER BY name");

	(void)kind;
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

#define ADB_USER_SELECT \
	" SELECT o.id, o.name, o.dom, o.name," \
	" CAST(COALESCE((SELECT value FROM var WHERE oid = o.id AND name = 'u_type'), '0') AS INTEGER)," \
	" (SELECT value FROM var WHERE oid = o.id AND name = 'u_name')," \
	" (SELECT value FROM var WHERE oid = o.id AND name = 'u_mailboxpath')," \
	" CAST(COALESCE((SELECT value FROM var WHERE oid = o.id AND name = 'u_accountdisabled'), '0') AS INTEGER)" \
	" FROM obj o WHERE o.kind = 'a'"
#define ADB_DOMAIN_SELECT \
	" SELECT o.id, o.dom," \
	" CAST(COALESCE((SELECT value FROM var WHERE oid = o.id AND name = 'd_type'), '0') AS INTEGER)," \
	" (SELECT value FROM var WHERE oid = o.id AND name = 'd_description')" \
	" FROM obj o WHERE o.kind = 'd'"

/* Keep config/accounts.db in step with one object (after create or set). */
int
store_adb_sync(struct store *st, int64_t id)
{
	static const char *sql[] = {
		"INSERT OR REPLACE INTO adb.Users" ADB_USER_SELECT " AND o.id = ?1",
		"INSERT OR REPLACE INTO adb.Aliases SELECT name, dom, id FROM obj WHERE kind = 'a' AND id = ?1",
		"INSERT OR REPLACE INTO adb.Domains" ADB_DOMAIN_SELECT " AND o.id = ?1",
	};

	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *s = store_stmt(st, sql[i]);

		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		if (step_done(s) != 0)
			return -1;
	}
	return 0;
}

int
store_adb_sync_all(struct store *st)
{
	return store_exec(st, "INSERT OR REPLACE INTO adb.Domains" ADB_DOMAIN_SELECT " ORDER BY o.dom;"
			      "INSERT OR REPLACE INTO adb.Users" ADB_USER_SELECT " ORDER BY o.id;"
			      "INSERT OR REPLACE INTO adb.Aliases SELECT name, dom, id FROM obj"
			      " WHERE kind = 'a' ORDER BY id;");
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
 * U_FullMailboxPath: the mailbox directory with a trailing separator; a
 * relative U_MailBoxPath is relative to the mail path; empty means the
 * default <domain>/<alias>/.
 */
char *
store_fullpath(struct store *st, const char *domain, const char *alias, const char *mbpath)
{
	struct buf b = {0};

	if (st->mailpath == NULL && store_sys_get(st, "C_System_Storage_Dir_MailPath", &st->mailpath) != 0)
		st->mailpath = util_xstrdup("");
	if (mbpath == NULL || *mbpath == '\0') {
		buf_puts(&b, st->mailpath);
		buf_printf(&b, "%s%c%s%c", domain, st->sep, alias, st->sep);
	} else {
		if (!is_abs(st, mbpath))
			buf_puts(&b, st->mailpath);
		buf_puts(&b, mbpath);
	}
	buf_add(&b, "", 0);
	if (st->windows)
		for (size_t i = 0; i < b.len; i++)
			if (b.p[i] == '/')
				b.p[i] = '\\';
	if (b.len == 0 || b.p[b.len - 1] != st->sep)
		buf_putc(&b, st->sep);
	return b.p;
}
