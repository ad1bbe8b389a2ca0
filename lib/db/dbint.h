/*
 * dbint.h: private to lib/db*.c: engine handles, the carrier file's
 * description tables, type classes, row checksums.
 */
#ifndef IWM_DBINT_H
#define IWM_DBINT_H

#include <mysql.h>
#include <sqlite3.h>

#include "db.h"

/*
 * Type classes ("generic" in _iwm_columns), decide how values travel
 * and how a column is declared in the other engine:
 * int, real, decimal (exact text), text, blob, any (SQLite untyped).
 */
const char *iwm_db_generic_mysql(const char *data_type, const char *coltype);
const char *iwm_db_generic_sqlite(const char *decl);
/* Carrier declaration for a MySQL column of class G. */
const char *iwm_db_carrier_decl(const char *g);

/*
 * Connect.  FLAGS: IWM_DBC_CREATE creates the database when missing;
 * IWM_DBC_INFILE allows LOAD DATA LOCAL INFILE (the caller installs its
 * own handler with mysql_set_local_infile_handler(), so the server can
 * never make the client read a file).
 */
#define IWM_DBC_CREATE	1
#define IWM_DBC_INFILE	2
MYSQL	*iwm_db_mysql_connect(const struct iwm_dbspec *, const char *what,
	    int flags);
int	 iwm_db_mysql_exec(MYSQL *, const char *sql, const char *what);
int	 iwm_db_mysql_fail(MYSQL *, const char *what, const char *doing);
sqlite3	*iwm_db_sqlite_open(const char *path, int flags, const char *what);
int	 iwm_db_sqlite_exec(sqlite3 *, const char *sql, const char *what);

/* The carrier's description of one table. */
struct iwm_ccol {
	char	*name, *decl, *generic, *dflt;
	int	 notnull, pk, autoinc, path;
};
struct iwm_cidx {
	char	*name;
	int	 uniq;
	char	*cols;		/* "a,b(10)" */
};
struct iwm_ctable {
	char	*name, *ddl, *mode, *pkcol;
	int64_t	 hw_from, hw_to;
	struct iwm_ccol *cols;
	size_t	 ncols;
	struct iwm_cidx *idx;
	size_t	 nidx;
	char	**extra;	/* SQLite source: CREATE INDEX/TRIGGER text */
	size_t	 nextra;
};
struct iwm_carrier {
	sqlite3	*db;
	char	*path, *engine, *name, *kind, *platform;
	struct iwm_ctable *t;
	size_t	 nt;
};
int	 iwm_carrier_open(struct iwm_carrier *, const char *path);
void	 iwm_carrier_close(struct iwm_carrier *);
/* Mark the path columns for the carrier's database. */
void	 iwm_carrier_mark_paths(struct iwm_carrier *,
	    const struct iwm_pathcols *);

/* Order-independent table checksum: the sum of per-row hashes. */
struct iwm_rowhash {
	uint64_t h;
};
void	 iwm_rowhash_init(struct iwm_rowhash *);
/* Add one value; P NULL means SQL NULL. */
void	 iwm_rowhash_add(struct iwm_rowhash *, const void *p, size_t len);
uint64_t iwm_rowhash_final(const struct iwm_rowhash *);

#endif /* IWM_DBINT_H */
