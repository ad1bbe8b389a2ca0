/*
 * iwsim.h: private header of the IceWarp simulator (tests/iwsim).
 * The simulator is test infrastructure: it builds an installation tree that
 * looks like a real IceWarp server and answers tool.sh like one.
 */
#ifndef IWSIM_H
#define IWSIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <sqlite3.h>

#define IWSIM_EX_USAGE 64
#define IWSIM_VERSION "14.1.0.5"
/* "Now" of every simulated server: 2026-11-01 12:00:00 UTC, so trees are reproducible. */
#define IWSIM_NOW ((time_t)1793534400)
#define IWSIM_TARGET_DOMAIN "target.local"
#define IWSIM_TARGET_ADMIN "admin@target.local"
#define IWSIM_WIN_ROOT "C:\\Program Files\\IceWarp\\"
#define IWSIM_MAX_VARS 256

/* API result codes of the real tool (icewarp-facts.md). */
#define IWSIM_API_FAIL (-1)
#define IWSIM_API_EXISTS (-7)

/* util.c: growable buffers, numbers, strings, base64url */
struct buf {
	char *p;
	size_t len, cap;
};

void *util_xmalloc(size_t n);
void *util_xrealloc(void *p, size_t n);
char *util_xstrdup(const char *s);
char *util_lower(const char *s);
void util_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void util_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int util_parse_long(const char *s, long min, long max, long *out);
int util_has_ctl(const char *s);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_xml(struct buf *b, const char *s);
const char *buf_str(struct buf *b);
void buf_free(struct buf *b);
void util_b64url_enc(struct buf *out, const void *p, size_t n);
int util_b64url_dec(const char *s, struct buf *out);

/* rand.c: seeded PRNG (xoshiro256**), no libm */
struct rng {
	uint64_t s[4];
};

void rand_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rand_next(struct rng *r);
uint64_t rand_below(struct rng *r, uint64_t n);
double rand_unit(struct rng *r);
size_t rand_lognormal(struct rng *r, double median, double sigma);

/* fs.c: plain write(2) helpers */
int fs_mkdirs(const char *path);
int fs_write(const char *path, const void *p, size_t n, time_t mtime, mode_t mode);
int fs_touch(const char *path, time_t mtime);
int fs_dir_times(const char *root, time_t t, int maxdepth);
#define IWSIM_DIR_TIME (IWSIM_NOW - 60)
int fs_is_empty_dir(const char *path);

/* store.c: the simulator's private state (D/.iwsim/state.db) */
#define STORE_NCACHE 96
struct store {
	sqlite3 *db;
	char *phys;    /* physical install dir, no trailing slash */
	char *logical; /* install dir as the tool reports it, trailing separator */
	char sep;      /* '/' or '\\' */
	int windows;
	char *mailpath; /* cached C_System_Storage_Dir_MailPath */
	int sorting;    /* cached UseSorting (-1 unread) and PrefixLen */
	long prefixlen;
	int adb;        /* accounts database attached: 1 SQLite, 2 MariaDB copy */
	void *my;       /* MYSQL * of the accounts database (mdb.c) */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STORE_NCACHE];
};

struct vdef {
	char name[128]; /* canonical spelling */
	int kind;       /* 's', 'd', 'a', 'r' */
	char flags[8];  /* R W D, "-" for none */
	int numeric;    /* Bool, Int, Enum: unset reads as 0 */
};

struct var {
	char *name; /* lower case */
	char *value;
};

int store_create(struct store *st, const char *phys, const char *logical, int windows);
int store_open(struct store *st, const char *phys);
void store_close(struct store *st);
int store_exec(struct store *st, const char *sql);
sqlite3_stmt *store_prep(struct store *st, const char *sql);
int store_sys_set(struct store *st, const char *name, const char *value, int must_exist);
int store_sys_get(struct store *st, const char *name, char **value);
int store_vdef_add(struct store *st, const char *name, int kind, const char *type, const char *flags, long seq);
int store_vdef(struct store *st, const char *name, struct vdef *d);
/* kind: 'd' domain, 'a' account, 'r' remote account */
struct kdesc {
	const char *tab, *id, *dom, *name, *mbpath; /* object table and column expressions */
	const char *ptab, *pid, *pname, *pval;      /* property rows: other variables */
	const char *const (*cols)[2];               /* variable -> column of tab */
	size_t ncols;
};
extern const char store_adb_schema[];
const struct kdesc *store_kind(int kind);
int store_adb_open(struct store *st);
char *store_phys_path(struct store *st, const char *logical);
int64_t store_obj_id(struct store *st, int kind, const char *key);
int64_t store_obj_create(struct store *st, int kind, const char *key);
int store_obj_delete(struct store *st, int kind, int64_t id);
int store_obj_key(struct store *st, int kind, int64_t id, char **dom, char **name);
int store_var_set(struct store *st, int kind, int64_t id, const char *name, const char *value);
char *store_var_get(struct store *st, int kind, int64_t id, const char *name);
int store_backup(struct store *st, int kind, int64_t id, struct buf *out);
int store_restore(struct store *st, int kind, int64_t id, const char *blob);

/* mdb.c: a MariaDB accounts database, copied into memory for one call */
int mdb_pull(struct store *st, const char *db, const char *user, const char *pass, const char *host);
int mdb_push(struct store *st);
void mdb_close(struct store *st);
void store_sort_prefix(struct buf *b, const char *alias, long plen, char sep);
char *store_fullpath(struct store *st, const char *domain, const char *alias, const char *mbpath);

/* deps.c: planting external dependencies */
enum deps_action { DA_COPY, DA_RESPOND, DA_EXECUTE, DA_HEADERFOOTER, DA_EXTRACT, DA_APPEND, DA_DATABASE, DA_N };

struct plant {
	int kind;   /* PK_* in deps.c */
	int arg;    /* action, level or path setting */
	int where;  /* path case: 0 relative, 1 inside, 2 outside */
	int active; /* 1 active, 0 inactive */
};

struct plants {
	struct plant *v;
	size_t n, cap;
};

int deps_parse(struct plants *ps, const char *spec);
void deps_help(void);
struct sim;
int deps_apply(struct sim *sm, struct store *st);
void deps_content_xml(struct sim *sm, struct buf *b);
void deps_tasks_xml(struct sim *sm, struct buf *b);
void deps_extfilters_xml(struct sim *sm, struct buf *b);
int deps_adsync_domains(struct sim *sm);

/* create.c: the builder */
struct sim {
	char *phys;    /* absolute install dir, no trailing slash */
	char *logical; /* install root as reported, trailing separator */
	char sep;
	int windows;
	int archive;
	int verbose;
	int no_mailboxes;
	uint64_t seed;
	long domains, users, folders, messages, size_median;
	long archivists, externs, shared, unused, remotes;
	struct plants plants;
	int target;       /* --target: a pre-configured migration target */
	int sorting;      /* --sorting: C_System_Storage_Mailbox_UseSorting 1 */
	int layouts;      /* --layouts: enc~ folders and webmail cache.db files */
	char *my_socket;  /* --mariadb SOCKET: databases moved there (iwsim-db) */
	char *my_port;    /* --mariadb-port PORT */
	char *db_prefix;  /* --db-prefix P: MariaDB database names P<name> */
	char *exe;
	unsigned long long nmsg, nbytes;
};

int create_main(int argc, char **argv);
void create_lpath(struct sim *sm, struct buf *b, const char *rel);
char *create_dname(long d);

/* mail.c: messages and folders */
struct mailgen;
struct mailgen *mail_new(struct sim *sm);
void mail_free(struct mailgen *mg);
/* Fills folder DIR (created) with n messages for OWNER; when ARCH is set, the
 * older half is mirrored there as auto-archive would. -1 on error. */
int mail_folder(struct mailgen *mg, struct rng *r, const char *dir, const char *arch, const char *owner, long n);
int mail_mailbox(struct mailgen *mg, struct rng *r, const char *dir, const char *arch, const char *owner,
		 long custom, long n);

/* main.c */
void iwsim_help(void);

/* tool.c: tool.sh emulation */
void tool_event(const char *phys, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tool_main(int argc, char **argv);

#endif
