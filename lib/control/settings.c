/*
 * settings.c: the server settings bundle and its restore (IceWarp's
 * migrator guide, "Source Server Backup" and "Target Server Restore").
 *
 * Backup (source): the system variables of lib/data/settings-vars, the
 * domain, account and remote account backups (d_backup, u_backup,
 * ra_backup) and the files of the config path, into one SQLite file
 * with a SHA-256 of every row, written under a temporary name and
 * renamed.
 *
 * Restore (target): first the target's preserved values
 * (lib/data/preserved) are saved to <TempPath>/iwm-target/preserved.db,
 * which is never replaced once it exists; then the bundle's objects,
 * variables (paths mapped to the target's) and files; then the
 * preserved values again.  Every step compares before it writes, so a
 * restore killed anywhere and run again converges.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "account.h"
#include "settings.h"

int iwm_settings_status;

#define GET_CHUNK	256	/* names per `get system` */
#define SET_CHUNK	32	/* pairs per `set system` */

static int
fail(int status)
{
	iwm_settings_status = status;
	return -1;
}

/* ---- small helpers ---------------------------------------------------- */

struct strv {
	char	**v;
	size_t	 n, cap;
};

static void
strv_add(struct strv *s, const char *p)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 16 : s->cap * 2;
		s->v = iwm_reallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = p != NULL ? iwm_strdup(p) : NULL;
}

static void
strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static ssize_t
strv_find(const struct strv *s, const char *p)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] != NULL && strcasecmp(s->v[i], p) == 0)
			return (ssize_t)i;
	return -1;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
mkdirs(const char *path, mode_t mode)
{
	return iwm_mkdirs(path, mode) == -1 ? fail(IWM_EXIT_IO) : 0;
}

/* Whole file into B; 0, 1 when it does not exist, -1 on error. */
static int
read_file(const char *path, struct iwm_buf *b)
{
	char tmp[65536];
	ssize_t r;
	int fd;

	iwm_buf_reset(b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		iwm_seterr_errno("%s", path);
		return fail(IWM_EXIT_IO);
	}
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		iwm_buf_add(b, tmp, (size_t)r);
	close(fd);
	if (r == -1) {
		iwm_seterr_errno("%s", path);
		return fail(IWM_EXIT_IO);
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char *d = iwm_strdup(path), *s = strrchr(d, '/');
	int fd;

	if (s != NULL)
		*s = '\0';
	if ((fd = open(s != NULL && *d != '\0' ? d : ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	free(d);
	return 0;
}

static int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1) {
		iwm_seterr_errno("%s", path);
		if (fd != -1)
			close(fd);
		return fail(IWM_EXIT_IO);
	}
	close(fd);
	return 0;
}

/*
 * Write DATA to PATH atomically (a temporary file beside it, fsync,
 * rename); owner and group those of the directory when run as root.
 */
static int
write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct iwm_buf tmp = { 0 };
	const char *slash = strrchr(path, '/');
	ssize_t w;
	size_t off = 0;
	int fd;

	if (slash != NULL) {
		char *dir = iwm_strndup(path, (size_t)(slash - path));

		if (mkdirs(dir, 0755) == -1) {
			free(dir);
			return -1;
		}
		free(dir);
		iwm_buf_add(&tmp, path, (size_t)(slash - path) + 1);
	}
	iwm_buf_printf(&tmp, ".iwm-tmp-%ld-%s", (long)getpid(),
	    slash != NULL ? slash + 1 : path);
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode & 07777)) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		iwm_buf_free(&tmp);
		return fail(IWM_EXIT_IO);
	}
	while (off < len) {
		if ((w = write(fd, (const char *)data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto bad;
		}
		off += (size_t)w;
	}
	if (iwm_own_as_parent(fd, path) == -1) {
		close(fd);
		(void)unlink(tmp.ptr);
		iwm_buf_free(&tmp);
		return fail(IWM_EXIT_IO);
	}
	if (fchmod(fd, mode & 07777) == -1 || fsync(fd) == -1)
		goto bad;
	if (close(fd) == -1) {
		fd = -1;
		goto bad;
	}
	if (rename(tmp.ptr, path) == -1) {
		fd = -1;
		goto bad;
	}
	fsync_dir_of(path);
	iwm_buf_free(&tmp);
	return 0;
bad:
	iwm_seterr_errno("%s", path);
	if (fd != -1)
		close(fd);
	unlink(tmp.ptr);
	iwm_buf_free(&tmp);
	return fail(IWM_EXIT_IO);
}

/* A private scratch file (mode 0600), read once by the tool. */
static int
write_plain(const char *path, const void *data, size_t len)
{
	size_t off = 0;
	ssize_t w;
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		iwm_seterr_errno("%s", path);
		return fail(IWM_EXIT_IO);
	}
	while (off < len) {
		if ((w = write(fd, (const char *)data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			iwm_seterr_errno("%s", path);
			close(fd);
			unlink(path);
			return fail(IWM_EXIT_IO);
		}
		off += (size_t)w;
	}
	if (close(fd) == -1) {
		iwm_seterr_errno("%s", path);
		unlink(path);
		return fail(IWM_EXIT_IO);
	}
	return 0;
}

/* ---- SQLite ----------------------------------------------------------- */

static int
sql_fail(sqlite3 *db, const char *what)
{
	iwm_seterr("%s: %s", what, sqlite3_errmsg(db));
	return fail(IWM_EXIT_IO);
}

static int
sql_exec(sqlite3 *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(db, what);
	return 0;
}

static sqlite3_stmt *
sql_prep(sqlite3 *db, const char *sql, const char *what)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_fail(db, what);
		return NULL;
	}
	return st;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *p = sqlite3_column_text(st, i);

	return p != NULL ? iwm_strdup((const char *)p) : NULL;
}

static sqlite3 *
sql_open(const char *path, int flags, const char *what)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		iwm_seterr("%s %s: %s", what, path, db != NULL ?
		    sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		fail(flags & SQLITE_OPEN_CREATE ? IWM_EXIT_IO :
		    IWM_EXIT_NOINPUT);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	sqlite3_exec(db, "PRAGMA cache_size=-32768", NULL, NULL, NULL);
	return db;
}

/* meta(k, v) value, malloc'd, or NULL. */
static char *
meta_get(sqlite3 *db, const char *k)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = col_dup(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
meta_put(sqlite3 *db, const char *k, const char *v)
{
	sqlite3_stmt *st = sql_prep(db,
	    "INSERT OR REPLACE INTO meta(k, v) VALUES(?1, ?2)", "meta");

	if (st == NULL)
		return -1;
	bind_text(st, 1, k);
	bind_text(st, 2, v);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return sql_fail(db, "meta");
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * The bundle's checksum: SHA-256 over every column of every row, each
 * as its SQLite type (1 byte), length (8 bytes, little-endian) and
 * bytes (integers as decimal text).
 */
static void
hash_col(EVP_MD_CTX *ctx, int type, const void *p, uint64_t n)
{
	unsigned char hdr[9];
	int k;

	hdr[0] = (unsigned char)type;
	for (k = 0; k < 8; k++)
		hdr[1 + k] = (unsigned char)(n >> (8 * k));
	EVP_DigestUpdate(ctx, hdr, sizeof(hdr));
	if (n > 0 && p != NULL)
		EVP_DigestUpdate(ctx, p, (size_t)n);
}

static void
hash_text(EVP_MD_CTX *ctx, const char *s)
{
	if (s == NULL)
		hash_col(ctx, SQLITE_NULL, NULL, 0);
	else
		hash_col(ctx, SQLITE_TEXT, s, strlen(s));
}

static EVP_MD_CTX *
hash_start(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		iwm_seterr("SHA-256: cannot start");
		fail(IWM_EXIT_SOFTWARE);
		return NULL;
	}
	return ctx;
}

static void
hash_end(EVP_MD_CTX *ctx, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

/* Every row of QUERIES in order into CTX. */
static int
hash_queries(sqlite3 *db, const char *const *queries, EVP_MD_CTX *ctx)
{
	int rc = 0;

	for (; rc == 0 && *queries != NULL; queries++) {
		sqlite3_stmt *st = sql_prep(db, *queries, "checksum");
		int s;

		if (st == NULL)
			return -1;
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			int c, nc = sqlite3_column_count(st);

			for (c = 0; c < nc; c++) {
				int type = sqlite3_column_type(st, c);
				const void *p = type == SQLITE_BLOB ?
				    sqlite3_column_blob(st, c) :
				    (const void *)sqlite3_column_text(st, c);

				hash_col(ctx, type, p,
				    (uint64_t)sqlite3_column_bytes(st, c));
			}
		}
		if (s != SQLITE_DONE)
			rc = sql_fail(db, "checksum");
		sqlite3_finalize(st);
	}
	return rc;
}

/* ---- data files ------------------------------------------------------- */

/*
 * Each non-comment line of data file NAME split on TABs and spaces
 * (TABONLY: on TABs only) to CB.
 */
typedef int (*data_cb)(void *, char **f, size_t nf, const char *file,
    uint64_t lineno);

static int
data_each(const char *name, int tabonly, data_cb cb, void *arg)
{
	struct iwm_lines l;
	char *path = iwm_datafile(name), *line, *f[8];
	size_t len;
	int rc = 0, r;

	if (path == NULL)
		return fail(IWM_EXIT_NOINPUT);
	if (iwm_lines_open(&l, path) == -1) {
		free(path);
		return fail(IWM_EXIT_NOINPUT);
	}
	while (rc == 0 && (r = iwm_lines_next(&l, &line, &len)) == 1) {
		size_t nf = 0;
		char *p = line;

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		while (*p != '\0' && nf < 8) {
			f[nf++] = p;
			p += strcspn(p, tabonly ? "\t" : " \t");
			if (*p == '\0')
				break;
			*p++ = '\0';
			while (*p == '\t' || (!tabonly && *p == ' '))
				p++;
		}
		rc = cb(arg, f, nf, path, l.lineno);
	}
	iwm_lines_close(&l);
	free(path);
	return rc;
}

static int
vars_line(void *arg, char **f, size_t nf, const char *file, uint64_t ln)
{
	(void)nf;
	(void)file;
	(void)ln;
	strv_add(arg, f[0]);
	return 0;
}

struct plist {
	struct strv vars;	/* preserved system variables */
	struct strv files;	/* preserved files, relative to config */
	char	*admin_var;	/* accounts whose VAR equals VALUE */
	char	*admin_value;
};

static int
plist_line(void *arg, char **f, size_t nf, const char *file, uint64_t ln)
{
	struct plist *p = arg;

	if (nf >= 2 && strcmp(f[0], "var") == 0)
		strv_add(&p->vars, f[1]);
	else if (nf >= 2 && strcmp(f[0], "file") == 0)
		strv_add(&p->files, f[1]);
	else if (nf >= 3 && strcmp(f[0], "admin") == 0) {
		free(p->admin_var);
		free(p->admin_value);
		p->admin_var = iwm_strdup(f[1]);
		p->admin_value = iwm_strdup(f[2]);
	} else {
		iwm_seterr("%s:%llu: expected var, file or admin", file,
		    (unsigned long long)ln);
		return fail(IWM_EXIT_DATA);
	}
	return 0;
}

static void
plist_free(struct plist *p)
{
	strv_free(&p->vars);
	strv_free(&p->files);
	free(p->admin_var);
	free(p->admin_value);
	memset(p, 0, sizeof(*p));
}

/* platform-rules: files to adapt, literal replacements per target. */
struct rule {
	int	 windows;	/* target platform */
	char	*file, *from, *to;
};
struct rules {
	struct strv files;
	struct rule *v;
	size_t	 n;
};

static char *
unescape(const char *s)
{
	struct iwm_buf b = { 0 };

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] == 't') {
			iwm_buf_addc(&b, '\t');
			s++;
		} else if (*s == '\\' && s[1] == '\\') {
			iwm_buf_addc(&b, '\\');
			s++;
		} else
			iwm_buf_addc(&b, *s);
	}
	if (b.ptr == NULL)
		return iwm_strdup("");
	return iwm_buf_steal(&b);
}

static int
rules_line(void *arg, char **f, size_t nf, const char *file, uint64_t ln)
{
	struct rules *r = arg;

	if (nf >= 2 && strcmp(f[0], "file") == 0) {
		strv_add(&r->files, f[1]);
		return 0;
	}
	if (nf >= 4 && (strcmp(f[0], "unix") == 0 ||
	    strcmp(f[0], "windows") == 0)) {
		r->v = iwm_reallocarray(r->v, r->n + 1, sizeof(*r->v));
		r->v[r->n].windows = strcmp(f[0], "windows") == 0;
		r->v[r->n].file = iwm_strdup(f[1]);
		r->v[r->n].from = unescape(f[2]);
		r->v[r->n].to = unescape(f[3]);
		r->n++;
		return 0;
	}
	iwm_seterr("%s:%llu: expected file, unix or windows", file,
	    (unsigned long long)ln);
	return fail(IWM_EXIT_DATA);
}

static void
rules_free(struct rules *r)
{
	size_t i;

	strv_free(&r->files);
	for (i = 0; i < r->n; i++) {
		free(r->v[i].file);
		free(r->v[i].from);
		free(r->v[i].to);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- the tool --------------------------------------------------------- */

static int
word_in(const char *hay, const char *w)
{
	size_t n = strlen(w);
	const char *p;

	for (p = hay; (p = strcasestr(p, w)) != NULL; p++) {
		int before = p == hay || !(isalnum((unsigned char)p[-1]) ||
		    p[-1] == '_');
		int after = !(isalnum((unsigned char)p[n]) || p[n] == '_');

		if (before && after)
			return 1;
	}
	return 0;
}

/* The one of NAMES the tool's error message (after the command) names. */
static ssize_t
err_names(const char *err, const char **names, size_t n)
{
	const char *p = strstr(err, ": exit status ");
	ssize_t found = -1;
	size_t i;

	if (p == NULL || (p = strchr(p + 14, ':')) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (word_in(p, names[i])) {
			if (found >= 0)
				return -1;
			found = (ssize_t)i;
		}
	return found;
}

/*
 * `get system` of NAMES: VALUES[i] malloc'd, or NULL when this server
 * does not know the name.  A server fails the whole call on a name it
 * does not know: the name its message gives is dropped, or else the
 * list is halved, until every name is answered or alone and refused.
 */
static void
get_some(const struct iwm_tool *t, const char **names, size_t n,
    char **values, unsigned *calls)
{
	const char **sub = iwm_calloc(n + 1, sizeof(*sub));
	char **tmp = iwm_calloc(n + 1, sizeof(*tmp));
	size_t *pos = iwm_calloc(n + 1, sizeof(*pos));
	size_t i, m = n;

	for (i = 0; i < n; i++) {
		sub[i] = names[i];
		pos[i] = i;
		values[i] = NULL;
	}
	while (m > 0) {
		ssize_t k;

		(*calls)++;
		if (iwm_tool_get_system(t, sub, m, tmp) == 0) {
			for (i = 0; i < m; i++)
				values[pos[i]] = tmp[i];
			break;
		}
		if (m == 1)
			break;
		if ((k = err_names(iwm_err(), sub, m)) >= 0) {
			memmove(sub + k, sub + k + 1,
			    (m - (size_t)k - 1) * sizeof(*sub));
			memmove(pos + k, pos + k + 1,
			    (m - (size_t)k - 1) * sizeof(*pos));
			m--;
			continue;
		}
		get_some(t, sub, m / 2, tmp, calls);
		get_some(t, sub + m / 2, m - m / 2, tmp + m / 2, calls);
		for (i = 0; i < m; i++)
			values[pos[i]] = tmp[i];
		break;
	}
	free(sub);
	free(tmp);
	free(pos);
}

static void
get_vars(const struct iwm_tool *t, char *const *names, size_t n,
    char **values)
{
	unsigned calls = 0;
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < GET_CHUNK ? n - i : GET_CHUNK;
		get_some(t, (const char **)names + i, k, values + i, &calls);
	}
}

/*
 * `set system` of the pairs, SET_CHUNK a call; a refused call is done
 * again name by name, and a refused name is reported and counted.
 */
static int
set_vars(const struct iwm_tool *t, const char **names, const char **values,
    size_t n, struct iwm_settings_opts *o)
{
	const char **argv = iwm_calloc(2 * SET_CHUNK + 3, sizeof(*argv));
	size_t i, j, k;

	argv[0] = "set";
	argv[1] = "system";
	for (i = 0; i < n; i += k) {
		k = n - i < SET_CHUNK ? n - i : SET_CHUNK;
		for (j = 0; j < k; j++) {
			argv[2 + 2 * j] = names[i + j];
			argv[3 + 2 * j] = values[i + j];
		}
		argv[2 + 2 * k] = NULL;
		if (iwm_tool_run(t, argv, NULL, NULL, NULL) == 0)
			continue;
		for (j = 0; j < k; j++)
			if (iwm_tool_set_system(t, names[i + j],
			    values[i + j]) == -1) {
				iwm_warnx("cannot set %s: %s", names[i + j],
				    iwm_err());
				o->warnings++;
			}
	}
	free(argv);
	return 0;
}

/* `import KIND FILE VAR` from the rows (key, backup) of ST, less SKIP. */
static int
import_rows(const struct iwm_tool *t, const char *kind, const char *var,
    sqlite3_stmt *st, const struct strv *skip, const char *tmpdir,
    size_t *count)
{
	struct iwm_buf b = { 0 }, path = { 0 };
	const char *argv[5];
	int rc = 0, s;

	*count = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const char *bk = (const char *)sqlite3_column_text(st, 1);

		if (key == NULL || (skip != NULL && strv_find(skip, key) >= 0))
			continue;
		iwm_csv_quote(&b, key);
		iwm_buf_addc(&b, ',');
		iwm_csv_quote(&b, bk != NULL ? bk : "");
		iwm_buf_adds(&b, ",\n");
		(*count)++;
	}
	if (s != SQLITE_DONE) {
		iwm_seterr("reading the %s backups: %s", kind,
		    sqlite3_errmsg(sqlite3_db_handle(st)));
		iwm_buf_free(&b);
		return fail(IWM_EXIT_DATA);
	}
	if (*count == 0) {
		iwm_buf_free(&b);
		return 0;
	}
	iwm_buf_printf(&path, "%s/import-%s.csv", tmpdir, kind);
	if (write_plain(path.ptr, b.ptr, b.len) == -1)
		rc = -1;
	else {
		argv[0] = "import";
		argv[1] = kind;
		argv[2] = path.ptr;
		argv[3] = var;
		argv[4] = NULL;
		if (iwm_tool_run(t, argv, NULL, NULL, NULL) == -1)
			rc = fail(IWM_EXIT_UNAVAIL);
		unlink(path.ptr);
	}
	explicit_bzero(b.ptr, b.len);
	iwm_buf_free(&b);
	iwm_buf_free(&path);
	return rc;
}

/* ---- the servers ------------------------------------------------------ */

enum { P_INSTALL, P_CONFIG, P_MAIL, P_TEMP, P_LOG, P_ARCHIVE, P_N };
static const char *const path_vars[P_N] = {
	"C_InstallPath", "C_ConfigPath", "C_System_Storage_Dir_MailPath",
	"C_System_Storage_Dir_TempPath", "C_System_Storage_Dir_LogPath",
	"C_System_Tools_AutoArchive_Path"
};
static const char *const path_keys[P_N] = {
	"install", "config", "mail", "temp", "log", "archive"
};

struct server {
	char	*path[P_N];	/* as the server reports them, or NULL */
	int	 windows;
	char	*confdir;	/* the config path here, no trailing '/' */
	char	*tempdir;	/* the temp path here, or NULL */
};

static char *
local_dir(const char *p)
{
	size_t n;
	struct stat st;

	if (p == NULL || p[0] != '/' || stat(p, &st) == -1 ||
	    !S_ISDIR(st.st_mode))
		return NULL;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return iwm_strndup(p, n);
}

static int
server_load(const struct iwm_tool *t, struct server *s)
{
	char *mail;

	memset(s, 0, sizeof(*s));
	if ((mail = iwm_tool_get1(t, path_vars[P_MAIL])) == NULL)
		return fail(IWM_EXIT_UNAVAIL);
	free(mail);
	get_vars(t, (char *const *)path_vars, P_N, s->path);
	s->windows = iwm_path_is_windows(s->path[P_MAIL]);
	if ((s->confdir = local_dir(s->path[P_CONFIG])) == NULL) {
		struct iwm_buf b = { 0 };
		const char *slash = strrchr(t->path, '/');

		if (t->install_dir != NULL)
			iwm_buf_printf(&b, "%s/config", t->install_dir);
		else if (slash != NULL) {
			iwm_buf_add(&b, t->path, (size_t)(slash - t->path));
			iwm_buf_adds(&b, "/config");
		}
		if (b.ptr != NULL)
			s->confdir = local_dir(b.ptr);
		iwm_buf_free(&b);
	}
	s->tempdir = local_dir(s->path[P_TEMP]);
	return 0;
}

static void
server_free(struct server *s)
{
	int i;

	for (i = 0; i < P_N; i++)
		free(s->path[i]);
	free(s->confdir);
	free(s->tempdir);
	memset(s, 0, sizeof(*s));
}

/* ---- path mapping ----------------------------------------------------- */

struct pmap {
	char	*from, *to;
};
struct pmaps {
	struct pmap v[P_N];
	size_t	 n;
	int	 from_win, to_win;
};

static int
is_sep(int c)
{
	return c == '/' || c == '\\';
}

static void
pmaps_build(struct pmaps *m, char *const *from, int from_win,
    char *const *to, int to_win)
{
	size_t i, j;

	memset(m, 0, sizeof(*m));
	m->from_win = from_win;
	m->to_win = to_win;
	for (i = 0; i < P_N; i++) {
		if (from[i] == NULL || to[i] == NULL || *from[i] == '\0' ||
		    *to[i] == '\0' || strlen(from[i]) < 3)
			continue;
		if (strcmp(from[i], to[i]) == 0 && from_win == to_win)
			continue;
		m->v[m->n].from = from[i];
		m->v[m->n].to = to[i];
		m->n++;
	}
	/* Longest first: the mail path before the install path. */
	for (i = 1; i < m->n; i++)
		for (j = i; j > 0 && strlen(m->v[j].from) >
		    strlen(m->v[j - 1].from); j--) {
			struct pmap x = m->v[j];

			m->v[j] = m->v[j - 1];
			m->v[j - 1] = x;
		}
}

/* Length of the FROM prefix at P, or 0 (without its last separator too). */
static size_t
pmatch(const char *p, const char *from, int win, int *nosep)
{
	size_t n = strlen(from), k;

	*nosep = 0;
	for (k = 0; k < n; k++) {
		int a = (unsigned char)p[k], b = (unsigned char)from[k];

		if (a == '\0')
			break;
		if (win ? !(tolower(a) == tolower(b) ||
		    (is_sep(a) && is_sep(b))) : a != b)
			break;
	}
	if (k == n)
		return n;
	/* "C:\...\mail" without its trailing separator, at a value's end. */
	if (k == n - 1 && is_sep(from[n - 1]) && (p[k] == '\0' ||
	    strchr(";|\"',<>\r\n\t", p[k]) != NULL)) {
		*nosep = 1;
		return k;
	}
	return 0;
}

/*
 * V with every source path replaced by the target's and the separators
 * of the rest of that path converted; malloc'd.
 */
static char *
map_value(const struct pmaps *m, const char *v)
{
	struct iwm_buf b = { 0 };
	const char *p = v;
	size_t i;

	if (m->n == 0)
		return iwm_strdup(v);
	while (*p != '\0') {
		size_t len = 0;
		int nosep = 0;

		/* A path starts a value or follows a delimiter. */
		if (p == v || strchr(";|\"'=,<> \t\r\n", p[-1]) != NULL)
			for (i = 0; i < m->n; i++)
				if ((len = pmatch(p, m->v[i].from, m->from_win,
				    &nosep)) > 0)
					break;
		if (len == 0) {
			iwm_buf_addc(&b, *p++);
			continue;
		}
		if (nosep)
			iwm_buf_add(&b, m->v[i].to, strlen(m->v[i].to) - 1);
		else
			iwm_buf_adds(&b, m->v[i].to);
		for (p += len; *p != '\0' && strchr(";|\"'<>,\r\n\t",
		    *p) == NULL; p++)
			iwm_buf_addc(&b, is_sep(*p) ?
			    (m->to_win ? '\\' : '/') : *p);
	}
	if (b.ptr == NULL)
		return iwm_strdup("");
	return iwm_buf_steal(&b);
}

/* ---- the bundle: backup ----------------------------------------------- */

static const char bundle_schema[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT);"
    "CREATE TABLE sysvar(name TEXT PRIMARY KEY COLLATE NOCASE, value TEXT);"
    "CREATE TABLE object(kind TEXT NOT NULL, key TEXT NOT NULL COLLATE NOCASE,"
    " type TEXT, backup TEXT);"
    "CREATE TABLE file(path TEXT PRIMARY KEY, mode INTEGER NOT NULL,"
    " content BLOB NOT NULL);";

static const char bundle_describe[] =
    "iwm settings bundle (iwm-dbexport --settings, iwm-restore settings). "
    "meta(k, v): format, created, platform, the source's paths (install, "
    "config, mail, temp, log, archive), host, counts, sha256 (of every "
    "row of sysvar, object and file in rowid order, then of meta but "
    "sha256 by key; each column as type, length, bytes). "
    "sysvar(name, value): system variables, value NULL when the source "
    "did not know the name. object(kind domain|account|remoteaccount, "
    "key, type (U_Type of accounts), backup (d_backup, u_backup or "
    "ra_backup)). file(path under the config path, '/'-separated; mode; "
    "content).";

static const char *const bundle_queries[] = {
	"SELECT name, value FROM sysvar ORDER BY rowid",
	"SELECT kind, key, type, backup FROM object ORDER BY rowid",
	"SELECT path, mode, content FROM file ORDER BY rowid",
	"SELECT k, v FROM meta WHERE k <> 'sha256' ORDER BY k",
	NULL
};
/* The backup hashes the first three as it inserts the rows. */
static const char *const bundle_meta_query[] = {
	"SELECT k, v FROM meta WHERE k <> 'sha256' ORDER BY k",
	NULL
};

struct objins {
	sqlite3_stmt *st;
	EVP_MD_CTX *ctx;
	const char *kind;
	int	 typed;
	size_t	 n;
};

static int
obj_cb(void *arg, char **f, size_t nf)
{
	struct objins *x = arg;

	(void)nf;
	sqlite3_reset(x->st);
	bind_text(x->st, 1, x->kind);
	bind_text(x->st, 2, f[0]);
	bind_text(x->st, 3, x->typed ? f[1] : NULL);
	bind_text(x->st, 4, f[x->typed ? 2 : 1]);
	if (sqlite3_step(x->st) != SQLITE_DONE)
		return sql_fail(sqlite3_db_handle(x->st), "bundle");
	hash_text(x->ctx, x->kind);
	hash_text(x->ctx, f[0]);
	hash_text(x->ctx, x->typed ? f[1] : NULL);
	hash_text(x->ctx, f[x->typed ? 2 : 1]);
	x->n++;
	return 0;
}

static int
skip_config_file(const char *name)
{
	static const char *const sfx[] = { ".db", ".db-journal", ".db-wal",
	    ".db-shm", "-journal", "-wal", "-shm", NULL };
	size_t n = strlen(name), k;
	int i;

	if (strncmp(name, ".iwm-tmp-", 9) == 0)
		return 1;
	for (i = 0; sfx[i] != NULL; i++) {
		k = strlen(sfx[i]);
		if (n > k && strcasecmp(name + n - k, sfx[i]) == 0)
			return 1;
	}
	return 0;
}

/* The config path's files, read by a thread while the exports run. */
struct cfile {
	char	*path;
	int	 mode;
	struct iwm_buf data;
};
struct cwalk {
	const char *root;
	struct cfile *v;
	size_t	 n, cap;
	int	 rc;
	char	 err[512];
};

/* Every regular file below ROOT/REL (no databases) into W. */
static int
walk_config(struct cwalk *w, const char *rel)
{
	struct iwm_buf dir = { 0 }, full = { 0 }, sub = { 0 };
	struct dirent *e;
	DIR *d;
	int rc = 0;

	iwm_buf_printf(&dir, "%s%s%s", w->root, *rel != '\0' ? "/" : "", rel);
	if ((d = opendir(dir.ptr)) == NULL) {
		iwm_seterr_errno("%s", dir.ptr);
		iwm_buf_free(&dir);
		return fail(IWM_EXIT_IO);
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		struct cfile *f;
		int r;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		iwm_buf_reset(&full);
		iwm_buf_printf(&full, "%s/%s", dir.ptr, e->d_name);
		iwm_buf_reset(&sub);
		iwm_buf_printf(&sub, "%s%s%s", rel, *rel != '\0' ? "/" : "",
		    e->d_name);
		if (lstat(full.ptr, &st) == -1) {
			iwm_seterr_errno("%s", full.ptr);
			rc = fail(IWM_EXIT_IO);
		} else if (S_ISDIR(st.st_mode))
			rc = walk_config(w, sub.ptr);
		else if (S_ISREG(st.st_mode) && !skip_config_file(e->d_name)) {
			if (w->n == w->cap) {
				w->cap = w->cap == 0 ? 256 : w->cap * 2;
				w->v = iwm_reallocarray(w->v, w->cap,
				    sizeof(*w->v));
			}
			f = &w->v[w->n];
			memset(f, 0, sizeof(*f));
			if ((r = read_file(full.ptr, &f->data)) == -1)
				rc = -1;
			else if (r == 0) {	/* 1: gone meanwhile */
				f->path = iwm_strdup(sub.ptr);
				f->mode = (int)(st.st_mode & 07777);
				w->n++;
			} else
				iwm_buf_free(&f->data);
		}
	}
	closedir(d);
	iwm_buf_free(&dir);
	iwm_buf_free(&full);
	iwm_buf_free(&sub);
	return rc;
}

static void *
walk_thread(void *arg)
{
	struct cwalk *w = arg;

	if ((w->rc = walk_config(w, "")) == -1)
		snprintf(w->err, sizeof(w->err), "%s", iwm_err());
	return NULL;
}

static void
cwalk_free(struct cwalk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		free(w->v[i].path);
		iwm_buf_free(&w->v[i].data);
	}
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static char *
default_dir(const struct server *s, const char *leaf)
{
	struct iwm_buf b = { 0 };

	if (s->tempdir == NULL) {
		iwm_seterr("cannot use the server's temp path '%s' here: "
		    "give the directory", s->path[P_TEMP] != NULL ?
		    s->path[P_TEMP] : "");
		fail(IWM_EXIT_USAGE);
		return NULL;
	}
	iwm_buf_printf(&b, "%s/%s", s->tempdir, leaf);
	return iwm_buf_steal(&b);
}

int
iwm_settings_backup(const struct iwm_tool *t, const char *dirarg,
    struct iwm_settings_opts *o)
{
	struct server src;
	struct strv names = { 0 };
	struct iwm_buf tmp = { 0 }, fin = { 0 };
	struct objins x;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char **values = NULL, *dir = NULL, hex[65], num[32], *host;
	const char *hostv = "C_Mail_SMTP_General_HostName";
	size_t i, nabsent = 0, nobj[3] = { 0, 0, 0 }, nfiles = 0;
	time_t now = time(NULL);
	struct tm tm;
	struct cwalk cw;
	pthread_t walker;
	EVP_MD_CTX *ctx = NULL;
	int rc = -1, walking = 0;

	iwm_settings_status = IWM_EXIT_SOFTWARE;
	memset(&cw, 0, sizeof(cw));
	if (server_load(t, &src) == -1)
		return -1;
	if (dirarg != NULL)
		dir = iwm_strdup(dirarg);
	else if ((dir = default_dir(&src, "iw_migration/settings")) == NULL)
		goto out;
	if (src.confdir == NULL) {
		iwm_seterr("the server's config path '%s' is not a directory "
		    "here", src.path[P_CONFIG] != NULL ? src.path[P_CONFIG] :
		    "");
		fail(IWM_EXIT_NOINPUT);
		goto out;
	}
	if (mkdirs(dir, 0700) == -1 ||
	    data_each("settings-vars", 0, vars_line, &names) == -1)
		goto out;
	iwm_buf_printf(&tmp, "%s/.%s.tmp", dir, IWM_SETTINGS_BUNDLE);
	iwm_buf_printf(&fin, "%s/%s", dir, IWM_SETTINGS_BUNDLE);
	unlink(tmp.ptr);
	if ((db = sql_open(tmp.ptr, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, "bundle")) == NULL)
		goto out;
	if (sql_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	    "BEGIN", "bundle") == -1 ||
	    sql_exec(db, bundle_schema, "bundle") == -1)
		goto out;

	/* System variables, by name, NULL when this server lacks one. */
	values = iwm_calloc(names.n + 1, sizeof(*values));
	get_vars(t, names.v, names.n, values);
	host = iwm_tool_get1(t, hostv);
	if ((ctx = hash_start()) == NULL ||
	    (st = sql_prep(db, "INSERT OR IGNORE INTO sysvar VALUES(?1, ?2)",
	    "bundle")) == NULL)
		goto out_host;
	for (i = 0; i < names.n; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, names.v[i]);
		bind_text(st, 2, values[i]);
		if (values[i] == NULL)
			nabsent++;
		if (sqlite3_step(st) != SQLITE_DONE) {
			sql_fail(db, "bundle");
			goto out_host;
		}
		if (sqlite3_changes(db) == 1) {
			hash_text(ctx, names.v[i]);
			hash_text(ctx, values[i]);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (names.n > 0 && nabsent == names.n) {
		iwm_seterr("the tool answered none of the %zu variables of "
		    "settings-vars", names.n);
		fail(IWM_EXIT_UNAVAIL);
		goto out_host;
	}

	/* The config files are read meanwhile. */
	cw.root = src.confdir;
	if ((errno = pthread_create(&walker, NULL, walk_thread, &cw)) != 0) {
		iwm_seterr_errno("thread");
		fail(IWM_EXIT_SOFTWARE);
		goto out_host;
	}
	walking = 1;

	/* Domains, accounts, remote accounts. */
	if ((st = sql_prep(db, "INSERT INTO object VALUES(?1, ?2, ?3, ?4)",
	    "bundle")) == NULL)
		goto out_host;
	{
		static const char *const dv[] = { "d_backup" };
		static const char *const av[] = { "u_type", "u_backup" };
		static const char *const rv[] = { "ra_backup" };
		static const struct {
			const char *kind, *pattern;
			const char *const *vars;
			size_t nvars;
		} ex[3] = {
			{ "domain", "*", dv, 1 },
			{ "account", "*@*", av, 2 },
			{ "remoteaccount", "*", rv, 1 },
		};

		for (i = 0; i < 3; i++) {
			memset(&x, 0, sizeof(x));
			x.st = st;
			x.ctx = ctx;
			x.kind = ex[i].kind;
			x.typed = ex[i].nvars == 2;
			if (iwm_tool_export(t, ex[i].kind, ex[i].pattern,
			    ex[i].vars, ex[i].nvars, obj_cb, &x) == -1) {
				fail(IWM_EXIT_UNAVAIL);
				goto out_host;
			}
			nobj[i] = x.n;
		}
	}
	sqlite3_finalize(st);

	/* The config path's files. */
	if ((st = sql_prep(db, "INSERT OR IGNORE INTO file VALUES(?1, ?2, ?3)",
	    "bundle")) == NULL)
		goto out_host;
	pthread_join(walker, NULL);
	walking = 0;
	if (cw.rc == -1) {
		iwm_seterr("%s", cw.err);
		fail(IWM_EXIT_IO);
		goto out_host;
	}
	for (i = 0; i < cw.n; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, cw.v[i].path);
		sqlite3_bind_int(st, 2, cw.v[i].mode);
		sqlite3_bind_blob(st, 3, cw.v[i].data.ptr != NULL ?
		    cw.v[i].data.ptr : "", (int)cw.v[i].data.len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sql_fail(db, "bundle");
			goto out_host;
		}
		if (sqlite3_changes(db) != 1)
			continue;
		hash_text(ctx, cw.v[i].path);
		snprintf(num, sizeof(num), "%d", cw.v[i].mode);
		hash_col(ctx, SQLITE_INTEGER, num, strlen(num));
		hash_col(ctx, SQLITE_BLOB, cw.v[i].data.ptr,
		    cw.v[i].data.len);
		nfiles++;
	}
	sqlite3_finalize(st);
	st = NULL;

	gmtime_r(&now, &tm);
	strftime(num, sizeof(num), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (meta_put(db, "format", IWM_SETTINGS_FORMAT) == -1 ||
	    meta_put(db, "describe", bundle_describe) == -1 ||
	    meta_put(db, "created", num) == -1 ||
	    meta_put(db, "platform", src.windows ? "windows" : "unix") == -1 ||
	    meta_put(db, "host", host) == -1)
		goto out_host;
	for (i = 0; i < P_N; i++)
		if (meta_put(db, path_keys[i], src.path[i]) == -1)
			goto out_host;
	{
		static const char *const ck[] = { "domains", "accounts",
		    "remoteaccounts" };

		for (i = 0; i < 3; i++) {
			snprintf(num, sizeof(num), "%zu", nobj[i]);
			if (meta_put(db, ck[i], num) == -1)
				goto out_host;
		}
		snprintf(num, sizeof(num), "%zu", nfiles);
		if (meta_put(db, "files", num) == -1)
			goto out_host;
	}
	if (hash_queries(db, bundle_meta_query, ctx) == -1)
		goto out_host;
	hash_end(ctx, hex);
	ctx = NULL;
	if (meta_put(db, "sha256", hex) == -1 ||
	    sql_exec(db, "COMMIT", "bundle") == -1)
		goto out_host;
	if (sqlite3_close(db) != SQLITE_OK) {
		sql_fail(db, "bundle");
		goto out_host;
	}
	db = NULL;
	if (iwm_own_as_parent(-1, tmp.ptr) == -1) {
		fail(IWM_EXIT_IO);
		goto out_host;
	}
	if (fsync_path(tmp.ptr) == -1)
		goto out_host;
	if (rename(tmp.ptr, fin.ptr) == -1) {
		iwm_seterr_errno("%s", fin.ptr);
		fail(IWM_EXIT_IO);
		goto out_host;
	}
	fsync_dir_of(fin.ptr);
	if (!o->quiet)
		fprintf(o->out, "settings\t%s\t%zu variables (%zu unknown "
		    "here)\t%zu domains\t%zu accounts\t%zu remote accounts\t"
		    "%zu files\n", fin.ptr, names.n - nabsent, nabsent,
		    nobj[0], nobj[1], nobj[2], nfiles);
	rc = 0;
out_host:
	if (walking)
		pthread_join(walker, NULL);
	cwalk_free(&cw);
	free(host);
out:
	if (ctx != NULL)
		hash_end(ctx, hex);
	if (st != NULL)
		sqlite3_finalize(st);
	if (db != NULL) {
		sqlite3_close(db);
		unlink(tmp.ptr);
	}
	if (values != NULL)
		for (i = 0; i < names.n; i++)
			free(values[i]);
	free(values);
	strv_free(&names);
	iwm_buf_free(&tmp);
	iwm_buf_free(&fin);
	free(dir);
	server_free(&src);
	return rc;
}

/* ---- the bundle: reading ---------------------------------------------- */

struct bundle {
	sqlite3	*db;
	char	*path[P_N];
	int	 windows;
	struct strv names, values;	/* values: NULL when absent */
};

static void
bundle_close(struct bundle *b)
{
	int i;

	if (b->db != NULL)
		sqlite3_close(b->db);
	for (i = 0; i < P_N; i++)
		free(b->path[i]);
	strv_free(&b->names);
	strv_free(&b->values);
	memset(b, 0, sizeof(*b));
}

static int
bundle_open(const char *dir, struct bundle *b)
{
	struct iwm_buf path = { 0 };
	char hex[65], *fmt = NULL, *sum = NULL, *plat;
	EVP_MD_CTX *ctx;
	sqlite3_stmt *st;
	struct stat sb;
	int i, s;

	memset(b, 0, sizeof(*b));
	iwm_buf_printf(&path, "%s/%s", dir, IWM_SETTINGS_BUNDLE);
	if (stat(path.ptr, &sb) == -1) {
		iwm_seterr_errno("%s", path.ptr);
		iwm_buf_free(&path);
		return fail(IWM_EXIT_NOINPUT);
	}
	if ((b->db = sql_open(path.ptr, SQLITE_OPEN_READONLY, "bundle")) ==
	    NULL)
		goto bad;
	fmt = meta_get(b->db, "format");
	sum = meta_get(b->db, "sha256");
	if (fmt == NULL || strcmp(fmt, IWM_SETTINGS_FORMAT) != 0) {
		iwm_seterr("%s: not an iwm settings bundle (%s)", path.ptr,
		    IWM_SETTINGS_FORMAT);
		fail(IWM_EXIT_DATA);
		goto bad;
	}
	if ((ctx = hash_start()) == NULL)
		goto bad;
	if (hash_queries(b->db, bundle_queries, ctx) == -1) {
		hash_end(ctx, hex);
		goto bad;
	}
	hash_end(ctx, hex);
	if (sum == NULL || strcmp(sum, hex) != 0) {
		iwm_seterr("%s: checksum mismatch: the bundle is damaged",
		    path.ptr);
		fail(IWM_EXIT_DATA);
		goto bad;
	}
	for (i = 0; i < P_N; i++)
		b->path[i] = meta_get(b->db, path_keys[i]);
	plat = meta_get(b->db, "platform");
	b->windows = plat != NULL && strcmp(plat, "windows") == 0;
	free(plat);
	if ((st = sql_prep(b->db, "SELECT name, value FROM sysvar ORDER BY "
	    "name", "bundle")) == NULL)
		goto bad;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		strv_add(&b->names, (const char *)sqlite3_column_text(st, 0));
		strv_add(&b->values, (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		sql_fail(b->db, "bundle");
		goto bad;
	}
	free(fmt);
	free(sum);
	iwm_buf_free(&path);
	return 0;
bad:
	free(fmt);
	free(sum);
	iwm_buf_free(&path);
	bundle_close(b);
	return -1;
}

/* ---- preserved values ------------------------------------------------- */

struct preserved {
	struct strv names, values;	/* values NULL: absent there */
	struct strv files;		/* paths */
	struct iwm_buf *contents;
	int	*present;
	struct strv accounts, abackups;	/* administrator accounts */
	struct strv domains, dbackups;	/* and their domains */
	char	*path[P_N];
	int	 windows;
};

static void
preserved_free(struct preserved *p)
{
	size_t i;

	strv_free(&p->names);
	strv_free(&p->values);
	for (i = 0; i < p->files.n; i++)
		iwm_buf_free(&p->contents[i]);
	free(p->contents);
	free(p->present);
	strv_free(&p->files);
	strv_free(&p->accounts);
	strv_free(&p->abackups);
	strv_free(&p->domains);
	strv_free(&p->dbackups);
	for (i = 0; i < P_N; i++)
		free(p->path[i]);
	memset(p, 0, sizeof(*p));
}

struct admins {
	const struct plist *pl;
	struct preserved *p;
};

static int
admin_cb(void *arg, char **f, size_t nf)
{
	struct admins *a = arg;
	const char *at;

	(void)nf;
	if (strcmp(f[1], a->pl->admin_value) != 0)
		return 0;
	strv_add(&a->p->accounts, f[0]);
	strv_add(&a->p->abackups, f[2]);
	if ((at = strrchr(f[0], '@')) != NULL &&
	    strv_find(&a->p->domains, at + 1) == -1)
		strv_add(&a->p->domains, at + 1);
	return 0;
}

static int
dom_cb(void *arg, char **f, size_t nf)
{
	struct preserved *p = arg;

	(void)nf;
	strv_add(&p->dbackups, f[1]);
	return 0;
}

/* Read the target's preserved values through its tool and files. */
static int
preserved_read(const struct iwm_tool *t, const struct server *tgt,
    const struct plist *pl, struct preserved *p)
{
	char **vals;
	size_t i;

	memset(p, 0, sizeof(*p));
	vals = iwm_calloc(pl->vars.n + 1, sizeof(*vals));
	get_vars(t, pl->vars.v, pl->vars.n, vals);
	for (i = 0; i < pl->vars.n; i++) {
		strv_add(&p->names, pl->vars.v[i]);
		strv_add(&p->values, vals[i]);
		free(vals[i]);
	}
	free(vals);
	p->contents = iwm_calloc(pl->files.n + 1, sizeof(*p->contents));
	p->present = iwm_calloc(pl->files.n + 1, sizeof(*p->present));
	for (i = 0; i < pl->files.n; i++) {
		struct iwm_buf path = { 0 };
		int r;

		strv_add(&p->files, pl->files.v[i]);
		iwm_buf_printf(&path, "%s/%s", tgt->confdir, pl->files.v[i]);
		r = read_file(path.ptr, &p->contents[i]);
		iwm_buf_free(&path);
		if (r == -1)
			return -1;
		p->present[i] = r == 0;
	}
	if (pl->admin_var != NULL) {
		const char *vars[2] = { pl->admin_var, "u_backup" };
		struct admins a = { pl, p };

		if (iwm_tool_export(t, "account", "*@*", vars, 2, admin_cb,
		    &a) == -1)
			return fail(IWM_EXIT_UNAVAIL);
		for (i = 0; i < p->domains.n; i++) {
			const char *dv = "d_backup";
			size_t before = p->dbackups.n;

			if (iwm_tool_export(t, "domain", p->domains.v[i], &dv,
			    1, dom_cb, p) == -1)
				return fail(IWM_EXIT_UNAVAIL);
			if (p->dbackups.n == before)
				strv_add(&p->dbackups, "");
		}
	}
	for (i = 0; i < P_N; i++)
		p->path[i] = tgt->path[i] != NULL ? iwm_strdup(tgt->path[i]) :
		    NULL;
	p->windows = tgt->windows;
	return 0;
}

static const char preserved_schema[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT);"
    "CREATE TABLE var(name TEXT PRIMARY KEY COLLATE NOCASE, value TEXT);"
    "CREATE TABLE file(path TEXT PRIMARY KEY, content BLOB);"
    "CREATE TABLE account(email TEXT PRIMARY KEY COLLATE NOCASE, backup TEXT);"
    "CREATE TABLE domain(name TEXT PRIMARY KEY COLLATE NOCASE, backup TEXT);";

static int
pairs_write(sqlite3 *db, const char *sql, const struct strv *a,
    const struct strv *b)
{
	sqlite3_stmt *st = sql_prep(db, sql, "preserved");
	size_t i;

	if (st == NULL)
		return -1;
	for (i = 0; i < a->n; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, a->v[i]);
		bind_text(st, 2, b->v[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return sql_fail(db, "preserved");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Write P to FILE: a temporary name, fsync, rename (never over one). */
static int
preserved_write(const char *file, const struct preserved *p)
{
	struct iwm_buf tmp = { 0 };
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t i;
	int rc = -1;

	iwm_buf_printf(&tmp, "%s.tmp", file);
	unlink(tmp.ptr);
	if ((db = sql_open(tmp.ptr, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, "preserved values")) == NULL) {
		iwm_buf_free(&tmp);
		return -1;
	}
	if (sql_exec(db, "PRAGMA journal_mode=OFF; BEGIN", "preserved") ==
	    -1 || sql_exec(db, preserved_schema, "preserved") == -1 ||
	    meta_put(db, "format", "iwm-preserved 1") == -1 ||
	    meta_put(db, "platform", p->windows ? "windows" : "unix") == -1)
		goto out;
	for (i = 0; i < P_N; i++)
		if (meta_put(db, path_keys[i], p->path[i]) == -1)
			goto out;
	if (pairs_write(db, "INSERT INTO var VALUES(?1, ?2)", &p->names,
	    &p->values) == -1 ||
	    pairs_write(db, "INSERT INTO account VALUES(?1, ?2)", &p->accounts,
	    &p->abackups) == -1 ||
	    pairs_write(db, "INSERT INTO domain VALUES(?1, ?2)", &p->domains,
	    &p->dbackups) == -1)
		goto out;
	if ((st = sql_prep(db, "INSERT INTO file VALUES(?1, ?2)", "preserved"))
	    == NULL)
		goto out;
	for (i = 0; i < p->files.n; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, p->files.v[i]);
		if (p->present[i])
			sqlite3_bind_blob(st, 2, p->contents[i].ptr != NULL ?
			    p->contents[i].ptr : "", (int)p->contents[i].len,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 2);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			sql_fail(db, "preserved");
			goto out;
		}
	}
	sqlite3_finalize(st);
	if (sql_exec(db, "COMMIT", "preserved") == -1)
		goto out;
	if (sqlite3_close(db) != SQLITE_OK) {
		sql_fail(db, "preserved");
		db = NULL;
		goto out;
	}
	db = NULL;
	chmod(tmp.ptr, 0600);
	if (iwm_own_as_parent(-1, tmp.ptr) == -1) {
		fail(IWM_EXIT_IO);
		goto out;
	}
	if (fsync_path(tmp.ptr) == -1)
		goto out;
	if (link(tmp.ptr, file) == -1) {
		if (errno == EEXIST)
			rc = 1;
		else {
			iwm_seterr_errno("%s", file);
			fail(IWM_EXIT_IO);
		}
		goto out;
	}
	unlink(tmp.ptr);
	fsync_dir_of(file);
	rc = 0;
out:
	if (db != NULL)
		sqlite3_close(db);
	if (rc != 0)
		unlink(tmp.ptr);
	iwm_buf_free(&tmp);
	return rc;
}

static int
pairs_read(sqlite3 *db, const char *sql, struct strv *a, struct strv *b)
{
	sqlite3_stmt *st = sql_prep(db, sql, "preserved");
	int s;

	if (st == NULL)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		strv_add(a, (const char *)sqlite3_column_text(st, 0));
		strv_add(b, (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return sql_fail(db, "preserved");
	return 0;
}

/* 0 loaded, 1 no such file, -1 error. */
static int
preserved_load(const char *file, struct preserved *p)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *fmt, *plat;
	size_t n = 0;
	int i, s, rc = -1;

	memset(p, 0, sizeof(*p));
	if (access(file, F_OK) == -1)
		return 1;
	if ((db = sql_open(file, SQLITE_OPEN_READONLY, "preserved values")) ==
	    NULL)
		return -1;
	fmt = meta_get(db, "format");
	if (fmt == NULL || strcmp(fmt, "iwm-preserved 1") != 0) {
		iwm_seterr("%s: not iwm's preserved values", file);
		fail(IWM_EXIT_DATA);
		goto out;
	}
	for (i = 0; i < P_N; i++)
		p->path[i] = meta_get(db, path_keys[i]);
	plat = meta_get(db, "platform");
	p->windows = plat != NULL && strcmp(plat, "windows") == 0;
	free(plat);
	if (pairs_read(db, "SELECT name, value FROM var ORDER BY rowid",
	    &p->names, &p->values) == -1 ||
	    pairs_read(db, "SELECT email, backup FROM account ORDER BY rowid",
	    &p->accounts, &p->abackups) == -1 ||
	    pairs_read(db, "SELECT name, backup FROM domain ORDER BY rowid",
	    &p->domains, &p->dbackups) == -1)
		goto out;
	if ((st = sql_prep(db, "SELECT path, content FROM file ORDER BY rowid",
	    "preserved")) == NULL)
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		p->contents = iwm_reallocarray(p->contents, n + 1,
		    sizeof(*p->contents));
		p->present = iwm_reallocarray(p->present, n + 1,
		    sizeof(*p->present));
		memset(&p->contents[n], 0, sizeof(p->contents[n]));
		strv_add(&p->files, (const char *)sqlite3_column_text(st, 0));
		p->present[n] = sqlite3_column_type(st, 1) != SQLITE_NULL;
		if (p->present[n])
			iwm_buf_add(&p->contents[n], sqlite3_column_blob(st, 1),
			    (size_t)sqlite3_column_bytes(st, 1));
		n++;
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		sql_fail(db, "preserved");
		goto out;
	}
	rc = 0;
out:
	free(fmt);
	sqlite3_close(db);
	if (rc == -1)
		preserved_free(p);
	return rc;
}

static char *
state_file(const struct server *tgt, const char *leaf)
{
	struct iwm_buf b = { 0 };

	if (tgt->tempdir == NULL) {
		iwm_seterr("cannot use the target's temp path '%s' here",
		    tgt->path[P_TEMP] != NULL ? tgt->path[P_TEMP] : "");
		fail(IWM_EXIT_UNAVAIL);
		return NULL;
	}
	iwm_buf_printf(&b, "%s/iwm-target", tgt->tempdir);
	if (mkdirs(b.ptr, 0700) == -1) {
		iwm_buf_free(&b);
		return NULL;
	}
	if (leaf != NULL)
		iwm_buf_printf(&b, "/%s", leaf);
	return iwm_buf_steal(&b);
}

/* ---- directory service ------------------------------------------------ */

static char *
xml_child(xmlNode *n, const char *name, xmlNode **node)
{
	xmlNode *c;

	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcasecmp((const char *)c->name, name) == 0) {
			xmlChar *s = xmlNodeGetContent(c);
			char *r = iwm_strdup(s != NULL ? (const char *)s : "");

			xmlFree(s);
			if (node != NULL)
				*node = c;
			return r;
		}
	return NULL;
}

struct dircreds {
	struct strv keys, elements;	/* lib/data/dircreds */
	struct strv fkeys, fvalues;	/* the --dircreds file */
};

static int
dircreds_line(void *arg, char **f, size_t nf, const char *file, uint64_t ln)
{
	struct dircreds *d = arg;

	if (nf < 2) {
		iwm_seterr("%s:%llu: expected KEY ELEMENT", file,
		    (unsigned long long)ln);
		return fail(IWM_EXIT_DATA);
	}
	strv_add(&d->keys, f[0]);
	strv_add(&d->elements, f[1]);
	return 0;
}

static void
dircreds_free(struct dircreds *d)
{
	size_t i;

	for (i = 0; i < d->fvalues.n; i++)
		if (d->fvalues.v[i] != NULL)
			explicit_bzero(d->fvalues.v[i], strlen(d->fvalues.v[i]));
	strv_free(&d->keys);
	strv_free(&d->elements);
	strv_free(&d->fkeys);
	strv_free(&d->fvalues);
}

/* The --dircreds file: mode 0600 (nothing for group or others). */
static int
dircreds_read(const char *file, struct dircreds *d)
{
	struct iwm_buf b = { 0 };
	struct stat st;
	char *p, *e;
	int r;

	if (data_each("dircreds", 0, dircreds_line, d) == -1)
		return -1;
	if (stat(file, &st) == -1) {
		iwm_seterr_errno("--dircreds %s", file);
		return fail(IWM_EXIT_NOINPUT);
	}
	if ((st.st_mode & 077) != 0) {
		iwm_seterr("--dircreds %s: mode %04o: it holds a password, "
		    "make it 0600", file, (unsigned)(st.st_mode & 07777));
		return fail(IWM_EXIT_AUTH);
	}
	if ((r = read_file(file, &b)) != 0) {
		if (r == 1)
			iwm_seterr("--dircreds %s: no such file", file);
		return fail(IWM_EXIT_NOINPUT);
	}
	for (p = b.ptr; p != NULL && *p != '\0'; p = e) {
		char *eq, *nl = strchr(p, '\n');
		size_t n;

		e = nl != NULL ? nl + 1 : p + strlen(p);
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
			n--;
		p[n] = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL ||
		    strv_find(&d->keys, (*eq = '\0', p)) == -1) {
			iwm_seterr("--dircreds %s: expected KEY=VALUE with a "
			    "KEY of the dircreds data file", file);
			explicit_bzero(b.ptr, b.len);
			iwm_buf_free(&b);
			return fail(IWM_EXIT_DATA);
		}
		strv_add(&d->fkeys, p);
		strv_add(&d->fvalues, eq + 1);
	}
	if (b.ptr != NULL)
		explicit_bzero(b.ptr, b.len);
	iwm_buf_free(&b);
	return 0;
}

/*
 * syncad.dat: the names of the domains whose ACTIVE is 1 into SYNCED;
 * with D (credentials) and exactly one synced domain, OUT gets the file
 * with them set in that domain's node.  -1 when not well-formed.
 */
static int
syncad(const struct iwm_buf *in, struct strv *synced,
    const struct dircreds *d, struct iwm_buf *out)
{
	xmlDoc *doc;
	xmlNode *root, *n, *only = NULL;
	size_t i;

	doc = xmlReadMemory(in->ptr != NULL ? in->ptr : "", (int)in->len,
	    "syncad.dat", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
		xmlFreeDoc(doc);
		iwm_seterr("config/syncad.dat is not well-formed XML");
		return fail(IWM_EXIT_DATA);
	}
	for (n = root->children; n != NULL; n = n->next) {
		char *act, *name;

		if (n->type != XML_ELEMENT_NODE ||
		    strcasecmp((const char *)n->name, "DOMAIN") != 0)
			continue;
		act = xml_child(n, "ACTIVE", NULL);
		name = xml_child(n, "DOMAIN", NULL);
		if (act != NULL && strcmp(act, "1") == 0) {
			strv_add(synced, name != NULL ? name : "?");
			only = n;
		}
		free(act);
		free(name);
	}
	if (d != NULL && out != NULL && synced->n == 1 && d->fkeys.n > 0) {
		xmlChar *mem = NULL;
		int len = 0;

		for (i = 0; i < d->fkeys.n; i++) {
			const char *el = d->elements.v[strv_find(&d->keys,
			    d->fkeys.v[i])];
			xmlNode *c = NULL;
			char *old = xml_child(only, el, &c);

			free(old);
			if (c != NULL)
				xmlNodeSetContent(c, NULL);
			else
				c = xmlNewChild(only, NULL, BAD_CAST el, NULL);
			xmlNodeAddContent(c, BAD_CAST d->fvalues.v[i]);
		}
		xmlDocDumpMemory(doc, &mem, &len);
		iwm_buf_reset(out);
		iwm_buf_add(out, mem, (size_t)len);
		if (mem != NULL)
			explicit_bzero(mem, (size_t)len);
		xmlFree(mem);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* ---- restore ---------------------------------------------------------- */

struct ctx {
	const struct iwm_tool *t;
	struct iwm_settings_opts *o;
	struct server tgt;
	struct bundle b;
	struct plist pl;
	struct preserved p;
	struct rules rules;
	struct dircreds dc;
	struct pmaps pm;
	char	*statedir;
	int	 have_dc;
};

static void
report(struct ctx *c, const char *fmt, ...) IWM_PRINTF(2, 3);

static void
report(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->quiet && !c->o->verify)
		return;
	va_start(ap, fmt);
	vfprintf(c->o->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->o->out);
}

/* What file PATH of the bundle becomes on the target. */
static int
adapt_file(struct ctx *c, const char *path, const struct iwm_buf *in,
    struct iwm_buf *out)
{
	size_t i;

	iwm_buf_reset(out);
	if (in->len > 0)
		iwm_buf_add(out, in->ptr, in->len);
	if (strcasecmp(path, "syncad.dat") == 0 && c->have_dc) {
		struct strv synced = { 0 };
		int r = syncad(in, &synced, &c->dc, out);

		strv_free(&synced);
		return r;
	}
	if (strv_find(&c->rules.files, path) == -1 || in->len == 0)
		return 0;
	{
		char *s = iwm_strndup(in->ptr, in->len), *m = map_value(&c->pm, s);

		iwm_buf_reset(out);
		iwm_buf_adds(out, m);
		free(s);
		free(m);
	}
	if (c->b.windows == c->tgt.windows)
		return 0;
	for (i = 0; i < c->rules.n; i++) {
		const struct rule *r = &c->rules.v[i];
		struct iwm_buf nb = { 0 };
		const char *p, *q;

		if (r->windows != c->tgt.windows ||
		    strcasecmp(r->file, path) != 0 || *r->from == '\0')
			continue;
		for (p = out->ptr; (q = strstr(p, r->from)) != NULL;
		    p = q + strlen(r->from)) {
			iwm_buf_add(&nb, p, (size_t)(q - p));
			iwm_buf_adds(&nb, r->to);
		}
		iwm_buf_adds(&nb, p);
		iwm_buf_free(out);
		*out = nb;
		if (out->ptr == NULL)
			iwm_buf_adds(out, "");
	}
	return 0;
}

static int
is_preserved_var(struct ctx *c, const char *name)
{
	return strv_find(&c->pl.vars, name) >= 0;
}

/* The bundle's variables that the restore sets, with their values. */
static void
wanted_vars(struct ctx *c, struct strv *names, struct strv *vals)
{
	size_t i;

	for (i = 0; i < c->b.names.n; i++) {
		char *m;

		if (c->b.values.v[i] == NULL ||
		    is_preserved_var(c, c->b.names.v[i]))
			continue;
		m = map_value(&c->pm, c->b.values.v[i]);
		strv_add(names, c->b.names.v[i]);
		strv_add(vals, m);
		free(m);
	}
}

/* Set NAMES to VALS where the target differs; DRY: only say so. */
static int
converge_vars(struct ctx *c, const struct strv *names, const struct strv *vals,
    const char *why, size_t *nset)
{
	char **cur = iwm_calloc(names->n + 1, sizeof(*cur));
	struct strv sn = { 0 }, sv = { 0 };
	size_t i;

	*nset = 0;
	get_vars(c->t, names->v, names->n, cur);
	for (i = 0; i < names->n && cur[i] == NULL; i++)
		;
	if (names->n > 1 && i == names->n) {
		free(cur);
		iwm_seterr("the target's tool answered none of %zu variables",
		    names->n);
		return fail(IWM_EXIT_UNAVAIL);
	}
	for (i = 0; i < names->n; i++) {
		if (vals->v[i] == NULL)
			continue;
		if (cur[i] == NULL) {
			report(c, "absent\tvar\t%s\tthe target does not know "
			    "it", names->v[i]);
			continue;
		}
		if (strcmp(cur[i], vals->v[i]) == 0)
			continue;
		if (c->o->dry_run)
			report(c, "would set\tvar\t%s\t(%s)", names->v[i], why);
		strv_add(&sn, names->v[i]);
		strv_add(&sv, vals->v[i]);
	}
	for (i = 0; i < names->n; i++)
		free(cur[i]);
	free(cur);
	*nset = sn.n;
	if (!c->o->dry_run && sn.n > 0)
		set_vars(c->t, (const char **)sn.v, (const char **)sv.v, sn.n,
		    c->o);
	strv_free(&sn);
	strv_free(&sv);
	return 0;
}

/* Write file PATH (under the config path) when it differs. */
static int
converge_file(struct ctx *c, const char *path, const struct iwm_buf *want,
    int mode, const char *why, size_t *nw)
{
	struct iwm_buf full = { 0 }, cur = { 0 };
	int r, rc = 0;

	iwm_buf_printf(&full, "%s/%s", c->tgt.confdir, path);
	if ((r = read_file(full.ptr, &cur)) == -1)
		rc = -1;
	else if (r == 1 || cur.len != want->len ||
	    (want->len > 0 && memcmp(cur.ptr, want->ptr, want->len) != 0)) {
		if (c->o->dry_run)
			report(c, "would write\tfile\t%s\t(%s)", path, why);
		else if (write_atomic(full.ptr, want->ptr != NULL ? want->ptr :
		    "", want->len, (mode_t)mode) == -1)
			rc = -1;
		(*nw)++;
	}
	iwm_buf_free(&full);
	iwm_buf_free(&cur);
	return rc;
}

/* A file path of the bundle that is safe below the config path. */
static int
safe_rel(const char *p)
{
	const char *s;

	if (*p == '/' || *p == '\0')
		return 0;
	for (s = p; s != NULL; s = strchr(s, '/')) {
		if (*s == '/')
			s++;
		if (strncmp(s, "..", 2) == 0 && (s[2] == '/' || s[2] == '\0'))
			return 0;
	}
	return strchr(p, '\\') == NULL;
}

/* Re-apply the preserved values (vars, files, admin domains/accounts). */
static int
apply_preserved(struct ctx *c)
{
	size_t i, nset = 0, nw = 0;
	struct iwm_buf bk = { 0 }, path = { 0 };
	const char *argv[5];
	int rc = 0, k;

	if (converge_vars(c, &c->p.names, &c->p.values, "preserved",
	    &nset) == -1)
		return -1;
	for (i = 0; i < c->p.files.n; i++)
		if (c->p.present[i] && converge_file(c, c->p.files.v[i],
		    &c->p.contents[i], 0644, "preserved", &nw) == -1)
			return -1;
	/* The administrators' domains, then the accounts: re-created. */
	for (k = 0; k < 2 && rc == 0; k++) {
		const struct strv *keys = k == 0 ? &c->p.domains :
		    &c->p.accounts;
		const struct strv *vals = k == 0 ? &c->p.dbackups :
		    &c->p.abackups;
		const char *kind = k == 0 ? "domain" : "account";

		if (keys->n == 0)
			continue;
		if (c->o->dry_run) {
			for (i = 0; i < keys->n; i++)
				report(c, "would re-apply\t%s\t%s\t(preserved)",
				    kind, keys->v[i]);
			continue;
		}
		iwm_buf_reset(&bk);
		for (i = 0; i < keys->n; i++) {
			if (vals->v[i] == NULL || *vals->v[i] == '\0')
				continue;
			iwm_csv_quote(&bk, keys->v[i]);
			iwm_buf_addc(&bk, ',');
			iwm_csv_quote(&bk, vals->v[i]);
			iwm_buf_adds(&bk, ",\n");
		}
		if (bk.len == 0)
			continue;
		iwm_buf_reset(&path);
		iwm_buf_printf(&path, "%s/import-preserved-%s.csv",
		    c->statedir, kind);
		if (write_plain(path.ptr, bk.ptr, bk.len) == -1) {
			rc = -1;
			break;
		}
		argv[0] = "import";
		argv[1] = kind;
		argv[2] = path.ptr;
		argv[3] = k == 0 ? "d_backup" : "u_backup";
		argv[4] = NULL;
		if (iwm_tool_run(c->t, argv, NULL, NULL, NULL) == -1)
			rc = fail(IWM_EXIT_UNAVAIL);
		unlink(path.ptr);
		explicit_bzero(bk.ptr, bk.len);
	}
	iwm_buf_free(&bk);
	iwm_buf_free(&path);
	if (rc == 0 && !c->o->dry_run)
		report(c, "preserved\t%zu variables set again\t%zu files "
		    "written again\t%zu domains\t%zu accounts", nset, nw,
		    c->p.domains.n, c->p.accounts.n);
	return rc;
}

static int
ctx_init(struct ctx *c, const struct iwm_tool *t, struct iwm_settings_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->o = o;
	iwm_settings_status = IWM_EXIT_SOFTWARE;
	if (server_load(t, &c->tgt) == -1)
		return -1;
	if (c->tgt.confdir == NULL) {
		iwm_seterr("the target's config path '%s' is not a directory "
		    "here", c->tgt.path[P_CONFIG] != NULL ?
		    c->tgt.path[P_CONFIG] : "");
		return fail(IWM_EXIT_UNAVAIL);
	}
	if ((c->statedir = state_file(&c->tgt, NULL)) == NULL)
		return -1;
	if (data_each("preserved", 0, plist_line, &c->pl) == -1 ||
	    data_each("platform-rules", 1, rules_line, &c->rules) == -1)
		return -1;
	return 0;
}

static void
ctx_free(struct ctx *c)
{
	server_free(&c->tgt);
	bundle_close(&c->b);
	plist_free(&c->pl);
	preserved_free(&c->p);
	rules_free(&c->rules);
	dircreds_free(&c->dc);
	free(c->statedir);
}

/* Load the saved preserved values, or save them now (once). */
static int
ctx_preserved(struct ctx *c, int may_save)
{
	struct iwm_buf file = { 0 };
	int r;

	iwm_buf_printf(&file, "%s/%s", c->statedir, IWM_PRESERVED_FILE);
	if ((r = preserved_load(file.ptr, &c->p)) != 1) {
		if (r == 0)
			report(c, "preserved\t%s\tsaved before: kept", file.ptr);
		iwm_buf_free(&file);
		return r;
	}
	if (!may_save) {
		iwm_seterr("%s: no saved preserved values: run iwm-restore "
		    "settings first", file.ptr);
		iwm_buf_free(&file);
		return fail(IWM_EXIT_NOINPUT);
	}
	if (preserved_read(c->t, &c->tgt, &c->pl, &c->p) == -1) {
		iwm_buf_free(&file);
		return -1;
	}
	if (c->o->dry_run)
		report(c, "would save\tpreserved\t%s", file.ptr);
	else {
		if ((r = preserved_write(file.ptr, &c->p)) == -1) {
			iwm_buf_free(&file);
			return -1;
		}
		if (r == 1) {
			/* Another run saved them first: theirs count. */
			preserved_free(&c->p);
			r = preserved_load(file.ptr, &c->p);
			iwm_buf_free(&file);
			return r == 0 ? 0 : -1;
		}
		report(c, "preserved\t%s\tsaved", file.ptr);
	}
	iwm_buf_free(&file);
	return 0;
}

/* Load the target's current backups of KIND into temp.cur. */
struct curins {
	sqlite3_stmt *st;
	const char *kind;
};

static int
cur_cb(void *arg, char **f, size_t nf)
{
	struct curins *ci = arg;

	(void)nf;
	sqlite3_reset(ci->st);
	bind_text(ci->st, 1, ci->kind);
	bind_text(ci->st, 2, f[0]);
	bind_text(ci->st, 3, f[1]);
	if (sqlite3_step(ci->st) != SQLITE_DONE)
		return sql_fail(sqlite3_db_handle(ci->st), "compare");
	return 0;
}

static const char *const kinds[3] = { "domain", "account", "remoteaccount" };
static const char *const kvars[3] = { "d_backup", "u_backup", "ra_backup" };
static const char *const kpats[3] = { "*", "*@*", "*" };

static int
load_current(struct ctx *c)
{
	struct curins ci;
	int k;

	if (sql_exec(c->b.db, "DROP TABLE IF EXISTS temp.cur;"
	    "CREATE TEMP TABLE cur(kind TEXT, key TEXT COLLATE NOCASE, "
	    "backup TEXT, PRIMARY KEY(kind, key))", "compare") == -1)
		return -1;
	if ((ci.st = sql_prep(c->b.db, "INSERT OR REPLACE INTO temp.cur "
	    "VALUES(?1, ?2, ?3)", "compare")) == NULL)
		return -1;
	for (k = 0; k < 3; k++) {
		ci.kind = kinds[k];
		if (iwm_tool_export(c->t, kinds[k], kpats[k], &kvars[k], 1,
		    cur_cb, &ci) == -1) {
			sqlite3_finalize(ci.st);
			return fail(IWM_EXIT_UNAVAIL);
		}
	}
	sqlite3_finalize(ci.st);
	return 0;
}

/* Objects of the bundle kept as the target's (administrators). */
static const struct strv *
skip_of(struct ctx *c, int k)
{
	return k == 0 ? &c->p.domains : k == 1 ? &c->p.accounts : NULL;
}

static int
verify(struct ctx *c)
{
	struct strv names = { 0 }, vals = { 0 };
	struct iwm_buf want = { 0 }, cur = { 0 }, full = { 0 };
	sqlite3_stmt *st;
	char **now;
	size_t i, np;
	int k, s, rc = 0;

	/* Variables: the bundle's (restored) and the preserved ones. */
	wanted_vars(c, &names, &vals);
	np = names.n;
	for (i = 0; i < c->p.names.n; i++) {
		strv_add(&names, c->p.names.v[i]);
		strv_add(&vals, c->p.values.v[i]);
	}
	now = iwm_calloc(names.n + 1, sizeof(*now));
	get_vars(c->t, names.v, names.n, now);
	for (i = 0; i < names.n; i++) {
		const char *how = i < np ? "restored" : "preserved";

		if (vals.v[i] == NULL)
			continue;
		if (now[i] == NULL)
			report(c, "absent\tvar\t%s", names.v[i]);
		else if (strcmp(now[i], vals.v[i]) == 0)
			report(c, "%s\tvar\t%s", how, names.v[i]);
		else {
			report(c, "MISMATCH\tvar\t%s\t(%s)", names.v[i], how);
			c->o->mismatches++;
		}
		free(now[i]);
	}
	free(now);
	strv_free(&names);
	strv_free(&vals);

	/* Files. */
	if ((st = sql_prep(c->b.db, "SELECT path, content FROM file ORDER BY "
	    "path", "bundle")) == NULL)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		ssize_t pi = strv_find(&c->p.files, path);
		struct iwm_buf in = { 0 };
		const char *how = "restored";
		int r;

		if (!safe_rel(path))
			continue;
		iwm_buf_add(&in, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
		if (pi >= 0 && c->p.present[pi]) {
			how = "preserved";
			iwm_buf_reset(&want);
			iwm_buf_add(&want, c->p.contents[pi].ptr,
			    c->p.contents[pi].len);
		} else if (adapt_file(c, path, &in, &want) == -1) {
			iwm_buf_free(&in);
			rc = -1;
			break;
		}
		iwm_buf_free(&in);
		iwm_buf_reset(&full);
		iwm_buf_printf(&full, "%s/%s", c->tgt.confdir, path);
		r = read_file(full.ptr, &cur);
		if (r == 0 && cur.len == want.len && (want.len == 0 ||
		    memcmp(cur.ptr, want.ptr, want.len) == 0))
			report(c, "%s\tfile\t%s", how, path);
		else {
			report(c, "MISMATCH\tfile\t%s\t(%s)", path, how);
			c->o->mismatches++;
		}
	}
	sqlite3_finalize(st);
	iwm_buf_free(&want);
	iwm_buf_free(&cur);
	iwm_buf_free(&full);
	if (rc == -1)
		return -1;

	/* Domains, accounts, remote accounts: their backups compared. */
	if (load_current(c) == -1)
		return -1;
	for (k = 0; k < 3; k++) {
		size_t ok = 0, bad = 0;

		if ((st = sql_prep(c->b.db, "SELECT o.key, o.backup, c.backup "
		    "FROM object o LEFT JOIN temp.cur c ON c.kind = o.kind AND "
		    "c.key = o.key WHERE o.kind = ?1 ORDER BY o.rowid", "compare"))
		    == NULL)
			return -1;
		sqlite3_bind_text(st, 1, kinds[k], -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *key = (const char *)sqlite3_column_text(st,
			    0);

			if (skip_of(c, k) != NULL &&
			    strv_find(skip_of(c, k), key) >= 0)
				continue;
			if (streq((const char *)sqlite3_column_text(st, 1),
			    (const char *)sqlite3_column_text(st, 2)))
				ok++;
			else {
				report(c, "MISMATCH\t%s\t%s", kinds[k], key);
				bad++;
			}
		}
		sqlite3_finalize(st);
		report(c, "restored\t%ss\t%zu", kinds[k], ok);
		c->o->mismatches += (unsigned)bad;
	}
	/* The administrators: as saved. */
	for (k = 0; k < 2; k++) {
		const struct strv *keys = k == 0 ? &c->p.domains :
		    &c->p.accounts;
		const struct strv *vals2 = k == 0 ? &c->p.dbackups :
		    &c->p.abackups;

		if ((st = sql_prep(c->b.db, "SELECT backup FROM temp.cur WHERE "
		    "kind = ?1 AND key = ?2", "compare")) == NULL)
			return -1;
		for (i = 0; i < keys->n; i++) {
			const char *have = NULL;

			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, kinds[k], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, keys->v[i], -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				have = (const char *)sqlite3_column_text(st, 0);
			if (have != NULL && streq(have, vals2->v[i]))
				report(c, "preserved\t%s\t%s", kinds[k],
				    keys->v[i]);
			else {
				report(c, "MISMATCH\t%s\t%s\t(preserved)",
				    kinds[k], keys->v[i]);
				c->o->mismatches++;
			}
		}
		sqlite3_finalize(st);
	}
	return 0;
}

/* The directory service check: before anything changes. */
static int
check_sync(struct ctx *c)
{
	sqlite3_stmt *st;
	struct strv synced = { 0 };
	struct iwm_buf in = { 0 };
	int found = 0, rc = 0;

	if (c->o->dircreds != NULL) {
		if (dircreds_read(c->o->dircreds, &c->dc) == -1)
			return -1;
	}
	if ((st = sql_prep(c->b.db, "SELECT content FROM file WHERE path = "
	    "'syncad.dat' COLLATE NOCASE", "bundle")) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		iwm_buf_add(&in, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	}
	sqlite3_finalize(st);
	if (found && syncad(&in, &synced, NULL, NULL) == -1) {
		iwm_buf_free(&in);
		return -1;
	}
	iwm_buf_free(&in);
	if (synced.n > 1) {
		struct iwm_buf l = { 0 };
		size_t i;

		for (i = 0; i < synced.n; i++)
			iwm_buf_printf(&l, "%s%s", i > 0 ? ", " : "",
			    synced.v[i]);
		if (!c->o->ignore_multi_sync) {
			iwm_seterr("%zu domains synchronize with a directory "
			    "service (%s); IceWarp's migrator guide supports "
			    "one: give --ignore-multiple-sync to restore "
			    "anyway and set them up by hand", synced.n, l.ptr);
			rc = fail(IWM_EXIT_DATA);
		} else {
			iwm_warnx("%zu domains synchronize with a directory "
			    "service (%s): restored as on the source; set "
			    "their credentials by hand", synced.n, l.ptr);
		}
		iwm_buf_free(&l);
	} else if (synced.n == 1 && c->dc.fkeys.n > 0) {
		c->have_dc = 1;
		report(c, "dircreds\t%s\tthe target's credentials",
		    synced.v[0]);
	} else if (synced.n == 1)
		report(c, "dircreds\t%s\tno --dircreds: the source's "
		    "credentials kept", synced.v[0]);
	else if (c->dc.fkeys.n > 0) {
		iwm_warnx("--dircreds: no domain synchronizes with a "
		    "directory service: not used");
		c->o->warnings++;
	}
	strv_free(&synced);
	return rc;
}

int
iwm_settings_restore(const struct iwm_tool *t, const char *dir,
    struct iwm_settings_opts *o)
{
	struct ctx c;
	struct strv names = { 0 }, vals = { 0 };
	sqlite3_stmt *st = NULL;
	size_t count, nset, nw = 0;
	int k, s, rc = -1;

	if (ctx_init(&c, t, o) == -1 || bundle_open(dir, &c.b) == -1)
		goto out;
	pmaps_build(&c.pm, c.b.path, c.b.windows, c.tgt.path, c.tgt.windows);
	/* Checks that need no change come first. */
	if (check_sync(&c) == -1)
		goto out;
	if (ctx_preserved(&c, !o->verify) == -1)
		goto out;
	if (o->verify) {
		rc = verify(&c);
		goto out;
	}
	if (o->dry_run && load_current(&c) == -1)
		goto out;

	/* Domains, accounts, remote accounts (not the administrators'). */
	for (k = 0; k < 3; k++) {
		const struct strv *skip = skip_of(&c, k);

		if ((st = sql_prep(c.b.db, o->dry_run ?
		    "SELECT o.key, o.backup, c.backup IS NULL FROM object o "
		    "LEFT JOIN temp.cur c ON c.kind = o.kind AND c.key = o.key "
		    "WHERE o.kind = ?1 AND (c.backup IS NULL OR "
		    "c.backup <> o.backup) ORDER BY o.rowid" :
		    "SELECT key, backup FROM object WHERE kind = ?1 ORDER BY "
		    "rowid", "bundle")) == NULL)
			goto out;
		sqlite3_bind_text(st, 1, kinds[k], -1, SQLITE_STATIC);
		if (o->dry_run) {
			size_t nnew = 0, nchg = 0;

			while ((s = sqlite3_step(st)) == SQLITE_ROW) {
				const char *key = (const char *)
				    sqlite3_column_text(st, 0);

				if (skip != NULL && strv_find(skip, key) >= 0)
					continue;
				if (sqlite3_column_int(st, 2))
					nnew++;
				else
					nchg++;
			}
			report(&c, "would import\t%ss\t%zu new\t%zu changed",
			    kinds[k], nnew, nchg);
		} else {
			if (import_rows(t, kinds[k], kvars[k], st, skip,
			    c.statedir, &count) == -1)
				goto out;
			report(&c, "restored\t%ss\t%zu", kinds[k], count);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	for (k = 0; k < 2; k++) {
		const struct strv *skip = skip_of(&c, k);
		size_t i;

		for (i = 0; i < skip->n; i++)
			report(&c, "kept\t%s\t%s\tthe target's administrator",
			    kinds[k], skip->v[i]);
	}

	/* System variables, the source's paths mapped to the target's. */
	wanted_vars(&c, &names, &vals);
	if (converge_vars(&c, &names, &vals, "restored", &nset) == -1)
		goto out;
	if (!o->dry_run)
		report(&c, "restored\tvariables\t%zu set\t%zu already equal",
		    nset, names.n - nset);

	/* Files of the config path. */
	if ((st = sql_prep(c.b.db, "SELECT path, mode, content FROM file "
	    "ORDER BY path", "bundle")) == NULL)
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		ssize_t pi = strv_find(&c.p.files, path);
		struct iwm_buf in = { 0 }, want = { 0 };
		int r;

		if (!safe_rel(path)) {
			iwm_warnx("bundle file '%s': not below the config "
			    "path: skipped", path);
			o->warnings++;
			continue;
		}
		if (pi >= 0 && c.p.present[pi])
			continue;	/* the target's own, re-applied below */
		iwm_buf_add(&in, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2));
		r = adapt_file(&c, path, &in, &want);
		if (r == 0)
			r = converge_file(&c, path, &want,
			    sqlite3_column_int(st, 1), "restored", &nw);
		iwm_buf_free(&in);
		iwm_buf_free(&want);
		if (r == -1)
			goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!o->dry_run)
		report(&c, "restored\tfiles\t%zu written", nw);

	/* The preserved values again. */
	if (apply_preserved(&c) == -1)
		goto out;
	rc = 0;
out:
	if (st != NULL)
		sqlite3_finalize(st);
	strv_free(&names);
	strv_free(&vals);
	ctx_free(&c);
	return rc;
}

int
iwm_settings_preserved(const struct iwm_tool *t, struct iwm_settings_opts *o)
{
	struct ctx c;
	int rc = -1;

	if (ctx_init(&c, t, o) == -1 || ctx_preserved(&c, 0) == -1)
		goto out;
	rc = apply_preserved(&c);
out:
	ctx_free(&c);
	return rc;
}
