/*
 * db.h: moving IceWarp's databases (iwm-dbexport(1), iwm-restore(1) db).
 *
 * Every database travels as one SQLite "carrier" file: the data tables
 * under their own names, plus _iwm_meta, _iwm_tables, _iwm_columns,
 * _iwm_indexes and _iwm_extra that describe the source schema (for a
 * MySQL source the SHOW CREATE TABLE text, so MySQL to MySQL recreates
 * identical tables).  See iwm-dbexport(1) for the format.
 */
#ifndef IWM_DB_H
#define IWM_DB_H

#include "iwm.h"
#include "icewarp.h"

enum iwm_db_engine { IWM_DB_NONE = 0, IWM_DB_SQLITE, IWM_DB_MYSQL };

/* A parsed connection. */
struct iwm_dbspec {
	enum iwm_db_engine engine;
	char	*dbname;	/* database, or the SQLite file */
	char	*user;
	char	*pass;
	char	*host;		/* NULL: default (local socket) */
	unsigned port;		/* 0: default */
	char	*socket;	/* unix socket path, or NULL */
};

/*
 * The sysexits status that fits the last failure of this module
 * (69 unreachable/missing, 77 credentials, 65 bad data or unsupported
 * engine, 74 I/O); set together with iwm_seterr().
 */
extern int iwm_db_status;

/*
 * Parse a connection: IceWarp's "dbname;user;pass;host;syntax;driver"
 * or the PDO-like "mysql:host=H;port=P;dbname=D" / "sqlite:FILE" (then
 * USER/PASS, may be NULL, come from separate variables).  WHAT names
 * the database in messages.  BASEDIR (may be NULL) anchors a relative
 * SQLite file name.  Returns 0, or -1 when empty (iwm_db_status 0) or
 * unsupported (65).
 */
/* NAME is in the comma-separated --only LIST (any case), or LIST is NULL. */
int	 iwm_db_selected(const char *list, const char *name);
int	 iwm_dbspec_parse(struct iwm_dbspec *, const char *conn,
	    const char *user, const char *pass, const char *basedir,
	    const char *what);
void	 iwm_dbspec_free(struct iwm_dbspec *);
/* "mysql iwm@127.0.0.1:3306/db" or "sqlite /path": never the password. */
char	*iwm_dbspec_describe(const struct iwm_dbspec *);
/* Read a connection string from FILE ("-": stdin), first line. */
char	*iwm_db_read_connfile(const char *file);
/*
 * --conn ARG (FROMFILE 0: taken, then wiped from the arguments so ps(1)
 * no longer shows the password) or --conn-file ARG (FROMFILE 1) into
 * *CONN, replacing what it held.  -1 when the file cannot be read.
 */
int	 iwm_db_conn_option(char **conn, int fromfile, char *arg);

/* The databases iwm knows, in export order. */
struct iwm_dbinfo {
	const char *name;	/* groupware, accounts ... webcache */
	const char *var;	/* connection variable, NULL for webcache */
	const char *uservar;	/* separate user / password variables */
	const char *passvar;
};
extern const struct iwm_dbinfo iwm_dbinfos[];
extern const size_t iwm_ndbinfos;
const struct iwm_dbinfo *iwm_dbinfo_find(const char *name);

/*
 * The connection of database INFO on the server behind TOOL.  Returns
 * 1 with SPEC filled, 0 when the server keeps no such database (empty
 * variable, no webmail database), -1 on error.
 */
int	 iwm_db_server_spec(const struct iwm_tool *, const struct iwm_dbinfo *,
	    struct iwm_dbspec *);
/*
 * The webmail cache connection from config/_webmail/server.xml
 * (dbconn, dbuser, dbpass).  1 found, 0 none, -1 error.
 */
int	 iwm_db_webmail_spec(const char *serverxml, struct iwm_dbspec *);
/* "windows" or "unix", from the server's mail path. */
const char *iwm_db_server_platform(const struct iwm_tool *);
/* Install directory of the server (for relative SQLite names). */
char	*iwm_db_server_basedir(const struct iwm_tool *);
/*
 * The source's Windows paths read here (--path-map of iwm-dbexport):
 * iwm_db_server_spec maps SQLite files, the spam folder and the webmail
 * configuration through it.  NULL: none.
 */
struct iwm_pathmaps;
extern const struct iwm_pathmaps *iwm_db_pathmaps;

/* Export. */
struct iwm_dbexport_opts {
	const char *name;	/* database name recorded in the carrier */
	const char *platform;	/* "windows" / "unix" of the source */
	const char *since;	/* state file for incremental export */
	int	 progress;	/* progress lines on stderr */
	uint64_t rows;		/* out: rows written */
	unsigned tables;	/* out: tables written */
	int	 delta;		/* out: 1 when only new rows were written */
};
int	 iwm_dbexport(const struct iwm_dbspec *, const char *outfile,
	    struct iwm_dbexport_opts *);

/* Import and verify. */
struct iwm_dbimport_opts {
	const char *name;	/* override the carrier's database name */
	const char *platform;	/* the target's: "windows" / "unix" */
	int	 progress;
	uint64_t rows;		/* out */
	unsigned tables;	/* out */
	unsigned bad;		/* out (verify): tables that differ */
	FILE	*report;	/* verify: one line per table */
};
int	 iwm_dbimport(const char *carrier, const struct iwm_dbspec *,
	    struct iwm_dbimport_opts *);
int	 iwm_dbverify(const char *carrier, const struct iwm_dbspec *,
	    struct iwm_dbimport_opts *);
/* Read the carrier's _iwm_meta value KEY (malloc'd) or NULL. */
char	*iwm_db_carrier_meta(const char *carrier, const char *key);

/*
 * Path columns (lib/data/path-columns: "database table column" lines,
 * '*' matches any database): is TABLE.COLUMN of DB one of them?
 */
struct iwm_pathcols;
struct iwm_pathcols *iwm_pathcols_load(void);
int	 iwm_pathcols_match(const struct iwm_pathcols *, const char *db,
	    const char *table, const char *column);
void	 iwm_pathcols_free(struct iwm_pathcols *);
/* Convert separators in place: to '/' for "unix", '\\' for "windows". */
void	 iwm_db_convert_path(char *, size_t, const char *to_platform);

/* Quote an SQL identifier (`x` for MySQL, "x" for SQLite). */
void	 iwm_db_quote_ident(struct iwm_buf *, enum iwm_db_engine,
	    const char *);

#endif /* IWM_DB_H */
