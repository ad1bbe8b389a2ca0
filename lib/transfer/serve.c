/*
 * serve.c: the target agent's HTTP side (libmicrohttpd, thread pool).
 * Routing, authentication, and the request bodies of PUT, batch and
 * delta, which are streamed to disk as they arrive.  The protocol is
 * iwm-protocol(7); file operations are in serve_fs.c.
 */
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <netdb.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "transfer.h"
#include "walk.h"

#define LINE_MAX_BATCH	(64u * 1024)
/*
 * GnuTLS priorities: TLS 1.2 and 1.3 only, forward-secret key exchange,
 * AEAD ciphers only (no CBC, no SHA-1 MAC).  AES-128-GCM first (TLS
 * 1.3's mandatory suite): a tenth less CPU than AES-256 on every byte
 * copied, on both sides.
 */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
			"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:" \
			"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:" \
			"+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

struct authjob;

struct serve {
	struct iwm_serve_opts	*o;
	struct iwm_users	*users;
	int			 cachefd;	/* --sig-cache, or -1 */
	pthread_mutex_t		 cachemu;	/* eviction */
	unsigned		 cacheseq;
	/* Logins: checked and delayed off the worker threads. */
	pthread_mutex_t		 amu;
	pthread_cond_t		 acv;
	pthread_t		 ath;
	int			 athread, astop;
	struct authjob		*checks, **checks_tail;	/* to check */
	struct authjob		*waits;		/* failed: answered later */
	size_t			 nchecks;
	unsigned		 unrouted;	/* accepted, not yet routed */
	struct iwm_failtab	*fails;
};

/* A login being checked or a failure being delayed; its connection is
 * suspended meanwhile, so no worker thread waits for it. */
enum astate { A_NONE, A_WAIT, A_OK, A_FAIL, A_BLOCKED };

struct authjob {
	struct authjob		*next;
	struct MHD_Connection	*c;
	struct req		*r;
	char			*user, *pass;
	char			 host[64];
	double			 due;
};

enum kind { K_NONE, K_PUT, K_BATCH, K_DELTA, K_DRAIN, K_DONE };
enum bstate { B_LINE, B_DATA, B_SKIP };

struct req {
	struct serve		*s;
	enum kind		 kind;
	struct iwm_serve_root	*root;
	char			*path;
	struct iwm_dircache	 dc;
	struct iwm_fput		 fp;
	unsigned		 status;	/* error found in the body */
	struct iwm_buf		 msg;
	unsigned		 mode;
	int64_t			 sec;
	long			 nsec;
	int			 racy;		/* a racily clean copy */
	struct iwm_buf		 bpath;		/* the batch item's path */
	uint64_t		 want, got, body;
	/* batch */
	enum bstate		 bst;
	struct iwm_buf		 line, res;
	uint64_t		 remain, nitems;
	int			 fatal;
	/* delta */
	int			 basefd;
	struct iwm_rs_patch	*patch;
	/* signature cache */
	struct iwm_rs_signer	*signer;	/* of a PUT */
	struct iwm_buf		 basesig[IWM_SIG_NFMT];	/* of a base */
	uint64_t		 basesize;
	int			 stripped;	/* setuid/setgid removed */
	/* login */
	enum astate		 auth;
	double			 retry;		/* A_BLOCKED: seconds */
};
/*
 * libmicrohttpd's own messages.  Those of the TLS layer ("received
 * handshake message out of context" when a client speaks plain HTTP, a
 * scanner, a client that gives up) are noise at the default level:
 * only with --verbose.  CLS is the options.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct iwm_serve_opts *o = cls;
	char tmp[1024];
	size_t n;

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	n = strlen(tmp);
	while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == '.'))
		tmp[--n] = '\0';
	if (!o->verbose && (strcasestr(tmp, "handshake") != NULL ||
	    strstr(tmp, "TLS") != NULL || strcasestr(tmp, "gnutls") != NULL))
		return;
	iwm_http_log("%s", tmp);
}

static enum MHD_Result
reply_errno(struct MHD_Connection *c, int e, const char *what)
{
	return iwm_http_reply(c, (unsigned)iwm_errno_status(e), "%s: %s", what,
	    strerror(e));
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Failed logins are answered after this long (seconds). */
#define FAIL_DELAY	1.0
/* Logins waiting for a check at most; more are answered 503. */
#define AUTH_QUEUE_MAX	64

static void
authjob_free(struct authjob *j)
{
	if (j->pass != NULL)
		OPENSSL_cleanse(j->pass, strlen(j->pass));
	free(j->user);
	free(j->pass);
	free(j);
}

/* Under amu: the failure is answered FAIL_DELAY from now. */
static void
auth_delay(struct serve *s, struct authjob *j)
{
	j->r->auth = A_FAIL;
	j->due = now_mono() + FAIL_DELAY;
	j->next = s->waits;
	s->waits = j;
	pthread_cond_signal(&s->acv);
}

/* Under amu: count a failure from J's address and log it. */
static void
auth_failed(struct serve *s, struct authjob *j)
{
	unsigned n = 0;
	double wait = iwm_fail_add(s->fails, j->host, now_mono(), &n);

	if (wait > 0)
		iwm_http_log("%s: login failed for user '%s' (%u in a row from "
		    "this address: its next login is checked in %.0f s)", j->host,
		    j->user != NULL && iwm_user_valid(j->user) ? j->user :
		    "(malformed)", n, wait);
	else
		iwm_http_log("%s: login failed for user '%s'", j->host,
		    j->user != NULL && iwm_user_valid(j->user) ? j->user :
		    "(malformed)");
}

/*
 * The login thread: PBKDF2 for the queued logins, one at a time, and
 * the delayed answers to failures.  A connection is resumed once its
 * request knows the verdict.  At the end every suspended connection
 * is resumed (answered 503): libmicrohttpd must not stop with any.
 */
static void *
auth_thread(void *arg)
{
	struct serve *s = arg;
	struct authjob *j, **pp;

	pthread_mutex_lock(&s->amu);
	for (;;) {
		double now = now_mono(), next = 0;

		for (pp = &s->waits; (j = *pp) != NULL; ) {
			if (j->due <= now || s->astop) {
				/* (When stopping, failures are answered now.) */
				*pp = j->next;
				MHD_resume_connection(j->c);
				authjob_free(j);
				continue;
			}
			if (next == 0 || j->due < next)
				next = j->due;
			pp = &j->next;
		}
		if ((j = s->checks) != NULL) {
			double wait;
			int ok;

			if ((s->checks = j->next) == NULL)
				s->checks_tail = &s->checks;
			s->nchecks--;
			if ((wait = iwm_fail_wait(s->fails, j->host, now)) > 0) {
				/* Came in before the address was held back. */
				j->r->auth = A_BLOCKED;
				j->r->retry = wait;
				MHD_resume_connection(j->c);
				authjob_free(j);
				continue;
			}
			pthread_mutex_unlock(&s->amu);
			ok = iwm_users_check(s->users, j->user, j->pass);
			pthread_mutex_lock(&s->amu);
			if (ok) {
				iwm_fail_clear(s->fails, j->host);
				j->r->auth = A_OK;
				s->unrouted++;
				MHD_resume_connection(j->c);
				authjob_free(j);
			} else {
				auth_failed(s, j);
				auth_delay(s, j);
			}
			continue;
		}
		if (s->astop && s->waits == NULL && s->checks == NULL)
			break;
		if (next == 0)
			pthread_cond_wait(&s->acv, &s->amu);
		else {
			struct timespec ts;
			double w = next - now;

			/* The condition variable runs on CLOCK_MONOTONIC. */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->acv, &s->amu, &ts);
		}
	}
	pthread_mutex_unlock(&s->amu);
	return NULL;
}

static int
auth_start(struct serve *s)
{
	pthread_condattr_t ca;

	s->checks = NULL;
	s->checks_tail = &s->checks;
	s->fails = iwm_failtab_new();
	pthread_mutex_init(&s->amu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->acv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->ath, NULL, auth_thread, s) != 0) {
		iwm_seterr("cannot start the login thread");
		return -1;
	}
	s->athread = 1;
	return 0;
}

/*
 * Before MHD_stop_daemon: no connection may stay suspended.  Logins
 * already waiting are still checked (a request accepted just before
 * the signal, e.g. an action, goes on), failures answered at once, and
 * the accepted requests given up to 5 s to reach their handler; new
 * logins are answered 503.
 */
static void
auth_stop(struct serve *s)
{
	int n;

	if (!s->athread)
		return;
	pthread_mutex_lock(&s->amu);
	s->astop = 1;
	pthread_cond_signal(&s->acv);
	pthread_mutex_unlock(&s->amu);
	pthread_join(s->ath, NULL);
	s->athread = 0;
	for (n = 0; n < 500; n++) {
		pthread_mutex_lock(&s->amu);
		if (s->unrouted == 0)
			n = 500;
		pthread_mutex_unlock(&s->amu);
		if (n < 500)
			usleep(10000);
	}
}

/* A request the login thread accepted has reached its handler (or
 * its connection closed first). */
static void
auth_routed(struct serve *s)
{
	pthread_mutex_lock(&s->amu);
	if (s->unrouted > 0)
		s->unrouted--;
	pthread_mutex_unlock(&s->amu);
}

static void
auth_free(struct serve *s)
{
	auth_stop(s);
	iwm_failtab_free(s->fails);
	s->fails = NULL;
}

static enum MHD_Result
reply_blocked(struct MHD_Connection *c, double retry)
{
	struct iwm_buf b = { 0 }, ra = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;

	iwm_buf_printf(&b, "401 too many failed logins from this address: "
	    "the next one is checked in %.0f s\n", retry + 0.5);
	iwm_buf_printf(&ra, "%.0f", retry + 0.5);
	len = b.len;
	resp = MHD_create_response_from_buffer(len, iwm_buf_steal(&b),
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		iwm_buf_free(&ra);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
	    "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "WWW-Authenticate",
	    "Basic realm=\"iwm\", charset=\"UTF-8\"");
	MHD_add_response_header(resp, "Retry-After", ra.ptr);
	ret = MHD_queue_response(c, 401, resp);
	MHD_destroy_response(resp);
	iwm_buf_free(&ra);
	return ret;
}

/*
 * HTTP Basic, first call of a request.  A request without credentials
 * is answered 401 at once (not a guess).  A password accepted before
 * is recognized here; any other is checked by the login thread while
 * the connection is suspended, and a failure is answered FAIL_DELAY
 * later, so neither PBKDF2 nor the delay holds a worker thread.  An
 * address held back after repeated failures is answered 401 at once,
 * its password unchecked.  Returns A_OK (go on), A_WAIT (suspended),
 * or A_NONE (answered).  The password is never logged.
 */
static enum astate
authenticate(struct serve *s, struct MHD_Connection *c, struct req *r,
    enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	struct authjob *j;
	double wait;
	int cached = 0;

	if (h == NULL) {
		*ret = iwm_http_reply(c, 401, "authentication required");
		return A_NONE;
	}
	j = iwm_calloc(1, sizeof(*j));
	j->c = c;
	j->r = r;
	iwm_http_peer(c, j->host, sizeof(j->host));
	(void)iwm_http_basic(c, &j->user, &j->pass);
	pthread_mutex_lock(&s->amu);
	if ((wait = iwm_fail_wait(s->fails, j->host, now_mono())) > 0) {
		pthread_mutex_unlock(&s->amu);
		authjob_free(j);
		*ret = reply_blocked(c, wait);
		return A_NONE;
	}
	pthread_mutex_unlock(&s->amu);
	if (j->user != NULL && (cached = iwm_users_check_cached(s->users,
	    j->user, j->pass))) {
		authjob_free(j);
		return A_OK;
	}
	pthread_mutex_lock(&s->amu);
	if (s->astop || (j->user != NULL && s->nchecks >= AUTH_QUEUE_MAX)) {
		pthread_mutex_unlock(&s->amu);
		authjob_free(j);
		*ret = iwm_http_reply(c, 503, "too many logins being checked; retry "
		    "later");
		return A_NONE;
	}
	MHD_suspend_connection(c);
	r->auth = A_WAIT;
	if (j->user == NULL) {
		/* Malformed: a failure, without a password to check. */
		auth_failed(s, j);
		auth_delay(s, j);
	} else {
		*s->checks_tail = j;
		s->checks_tail = &j->next;
		s->nchecks++;
		pthread_cond_signal(&s->acv);
	}
	pthread_mutex_unlock(&s->amu);
	*ret = MHD_YES;
	return A_WAIT;
}

/*
 * A root's directory removed (and perhaps made again) while the agent
 * runs: the descriptor opened at start names a deleted directory where
 * nothing can be created.  When the path names another directory now,
 * it is reopened (and logged); when nothing is there, -1 says so.
 * Requests still using the old descriptor keep it: it stays open.
 */
static pthread_mutex_t rootmu = PTHREAD_MUTEX_INITIALIZER;

static int
root_current(int fd, const char *dir)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && a.st_nlink > 0 && stat(dir, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
root_check(struct iwm_serve_root *root)
{
	struct stat sb;
	int fd, rc = 0;

	if (root_current(root->fd, root->dir))
		return 0;
	pthread_mutex_lock(&rootmu);
	if (root_current(root->fd, root->dir))
		goto done;
	if (stat(root->dir, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    (fd = open(root->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		iwm_seterr("root %s: its directory %s was removed", root->name,
		    root->dir);
		rc = -1;
		goto done;
	}
	__atomic_store_n(&root->fd, fd, __ATOMIC_RELEASE);
	iwm_http_log("root %s: directory %s was removed and made again: "
	    "reopened", root->name, root->dir);
done:
	pthread_mutex_unlock(&rootmu);
	return rc;
}

/* A Content-Length over --max-body: its value, else 0. */
static uint64_t
too_long(struct serve *s, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t v;

	return h != NULL && iwm_parse_u64(h, &v) == 0 && v > s->o->max_body ?
	    v : 0;
}

/* "ROOT/PATH" (still %-encoded) into a root and a checked path. */
static unsigned
target(struct serve *s, const char *rest, struct iwm_serve_root **rootp,
    char **pathp, struct iwm_buf *why)
{
	const char *slash = strchr(rest, '/');
	char *root, *path, *p;
	size_t rlen, plen;
	size_t i;

	if (slash == NULL) {
		iwm_buf_adds(why, "expected ROOT/PATH");
		return 400;
	}
	rlen = (size_t)(slash - rest);
	root = iwm_strndup(rest, rlen);
	path = iwm_strdup(slash + 1);
	plen = strlen(path);
	if (iwm_url_unescape(root, &rlen) == -1 ||
	    iwm_url_unescape(path, &plen) == -1) {
		iwm_buf_adds(why, "bad %-escape or encoded NUL");
		goto bad;
	}
	if (!iwm_path_valid(path, plen)) {
		iwm_buf_adds(why, "path is absolute, empty, or has . .. or "
		    "empty components");
		goto bad;
	}
	for (p = path; p != NULL; p = strchr(p, '/'))
		if (iwm_is_tmpname(*p == '/' ? ++p : p)) {
			iwm_buf_adds(why, "names starting with " IWM_TMP_PREFIX
			    " are reserved");
			goto bad;
		}
	for (i = 0; i < s->o->nroots; i++)
		if (strcmp(s->o->roots[i].name, root) == 0)
			break;
	if (i == s->o->nroots) {
		iwm_buf_adds(why, "no such root");
		free(root);
		free(path);
		return 404;
	}
	*rootp = &s->o->roots[i];
	*pathp = path;
	free(root);
	return 0;
bad:
	free(root);
	free(path);
	return 400;
}

static const char *
hdr(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int
hdr_u64(struct MHD_Connection *c, const char *name, uint64_t *v)
{
	const char *h = hdr(c, name);

	return h != NULL && iwm_parse_u64(h, v) == 0 ? 0 : -1;
}

static int
hdr_meta(struct MHD_Connection *c, struct req *r)
{
	const char *m = hdr(c, "X-Iwm-Mtime"), *mo = hdr(c, "X-Iwm-Mode");

	return m != NULL && mo != NULL &&
	    iwm_parse_mtime(m, &r->sec, &r->nsec) == 0 &&
	    iwm_parse_octal(mo, 07777, &r->mode) == 0 ? 0 : -1;
}

/* --- info ---------------------------------------------------------- */

static enum MHD_Result
do_info(struct serve *s, struct MHD_Connection *c)
{
	struct iwm_buf b = { 0 };
	struct utsname u;
	size_t i;

	iwm_buf_printf(&b, "version\t%s\nprotocol\t%s\n", IWM_VERSION,
	    IWM_PROTO_VERSION);
	iwm_buf_printf(&b, "max-body\t%llu\nmax-line\t%u\n",
	    (unsigned long long)s->o->max_body, LINE_MAX_BATCH);
	if (uname(&u) == 0)
		iwm_buf_printf(&b, "platform\t%s %s %s\n", u.sysname,
		    u.release, u.machine);
	for (i = 0; i < s->o->nroots; i++) {
		struct iwm_serve_root *r = &s->o->roots[i];
		struct statvfs sv;
		uint64_t fr = 0, tot = 0;

		if (fstatvfs(r->fd, &sv) == 0) {
			fr = (uint64_t)sv.f_bavail * sv.f_frsize;
			tot = (uint64_t)sv.f_blocks * sv.f_frsize;
		}
		iwm_buf_printf(&b, "root\t%s\t%llu\t%llu\t", r->name,
		    (unsigned long long)fr, (unsigned long long)tot);
		iwm_escape_buf(&b, r->dir, strlen(r->dir));
		iwm_buf_addc(&b, '\n');
	}
	return iwm_http_send(c, 200, &b, "text/plain; charset=utf-8");
}

/* --- list ---------------------------------------------------------- */

struct lelem {
	const char	*root;
	struct iwm_serve_root *sr;
	int		 fd;
	char		*prefix;	/* without the trailing '/', or NULL */
};

struct lister {
	FILE		*f;
	struct iwm_serve_root *cur;	/* the root being walked */
	int64_t		 res, tmin, tmax;
	int		 modes;
	int		 wfd;
	struct lelem	*v;
	size_t		 n;
	char		*scope;
	int		 hash;		/* GET /v1/hash: content in NOTE */
};

static int
list_rec(void *arg, const struct iwm_rec *rec)
{
	struct lister *l = arg;
	const char *base = strrchr(rec->path, '/');
	char note[IWM_HASH_NOTE_SIZE];

	if (iwm_is_tmpname(base ? base + 1 : rec->path))
		return 0;
	if (l->hash && rec->type == IWM_TYPE_FILE) {	/* serve_hash.c */
		struct iwm_rec r = *rec;

		r.note = iwm_hash_note(l->cur->fd, rec->path, rec->path_len,
		    note);
		return iwm_mwrite_rec(l->f, &r);
	}
	if (rec->type == IWM_TYPE_FILE && iwm_racy_has(l->cur, rec->path,
	    rec->path_len)) {
		struct iwm_rec r = *rec;

		r.note = IWM_NOTE_RACY;
		return iwm_mwrite_rec(l->f, &r);
	}
	return iwm_mwrite_rec(l->f, rec);
}

static void *
list_thread(void *arg)
{
	struct lister *l = arg;
	struct iwm_buf hd = { 0 };
	size_t i;
	int ok = 1;

	if ((l->f = fdopen(l->wfd, "w")) == NULL) {
		close(l->wfd);
		ok = 0;
	} else {
		setvbuf(l->f, NULL, _IOFBF, 1 << 16);
		/* What the listed roots' file systems store. */
		iwm_buf_printf(&hd, "scope=%s mtime-res=%lld mtime-min=%lld "
		    "mtime-max=%lld modes=%d", l->scope, (long long)l->res,
		    (long long)l->tmin, (long long)l->tmax, l->modes);
		if (iwm_mwrite_header(l->f, hd.ptr) == -1)
			ok = 0;
	}
	for (i = 0; i < l->n && ok; i++) {
		struct iwm_walk_stats st = { 0 };
		char dir[64];

		if (l->v[i].fd == -1)
			continue;
		snprintf(dir, sizeof(dir), "/proc/self/fd/%d", l->v[i].fd);
		l->cur = l->v[i].sr;
		if (iwm_walk(l->v[i].root, dir, l->v[i].prefix ?
		    l->v[i].prefix : "", l->v[i].prefix != NULL, 1, list_rec,
		    l, &st) == -1) {
			if (errno != EPIPE)
				iwm_http_log("list: %s", iwm_err());
			ok = 0;
		}
	}
	/* Only a complete listing ends with the marker. */
	if (ok)
		fputs(IWM_LIST_END "\n", l->f);
	if (l->f != NULL)
		fclose(l->f);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].fd != -1)
			close(l->v[i].fd);
		free(l->v[i].prefix);
	}
	free(l->v);
	free(l->scope);
	free(l);
	iwm_buf_free(&hd);
	iwm_mwrite_free();
	return NULL;
}

static ssize_t
pipe_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	int fd = (int)(intptr_t)cls;
	ssize_t n;

	do
		n = read(fd, buf, max);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void
pipe_free(void *cls)
{
	close((int)(intptr_t)cls);
}

static int
cmp_scope(const void *a, const void *b)
{
	const struct iwm_scope *x = a, *y = b;
	int c = strcmp(x->root, y->root);

	if (c != 0)
		return c;
	if (x->prefix == NULL || y->prefix == NULL)
		return (x->prefix != NULL) - (y->prefix != NULL);
	return iwm_path_cmp(x->prefix, strlen(x->prefix), y->prefix,
	    strlen(y->prefix));
}

static enum MHD_Result
do_list(struct serve *s, struct MHD_Connection *c, int hash)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "scope");
	struct iwm_scope *sc = NULL;
	struct iwm_buf all = { 0 }, fmt = { 0 };
	struct MHD_Response *resp;
	struct lister *l;
	pthread_attr_t at;
	pthread_t th;
	enum MHD_Result ret;
	size_t nsc = 0, i, qlen;
	char *qs;
	int pfd[2];

	if (q == NULL) {
		for (i = 0; i < s->o->nroots; i++)
			iwm_buf_printf(&all, "%s%s", i ? "," : "",
			    s->o->roots[i].name);
		qs = iwm_buf_steal(&all);
	} else
		qs = iwm_strdup(q);
	qlen = strlen(qs);
	if (iwm_url_unescape(qs, &qlen) == -1 ||
	    iwm_scope_parse(qs, &sc, &nsc) == -1) {
		free(qs);
		return iwm_http_reply(c, 400, "bad scope");
	}
	free(qs);
	qsort(sc, nsc, sizeof(*sc), cmp_scope);
	l = iwm_calloc(1, sizeof(*l));
	l->v = iwm_calloc(nsc ? nsc : 1, sizeof(*l->v));
	l->res = 1;
	l->tmin = INT64_MIN;
	l->tmax = INT64_MAX;
	l->modes = 1;
	l->hash = hash;
	for (i = 0; i < nsc; i++) {
		struct iwm_serve_root *r = NULL;
		struct lelem *e = &l->v[l->n];
		size_t k, plen;

		/* Drop an element inside the one before it. */
		if (l->n > 0 && strcmp(l->v[l->n - 1].root, sc[i].root) == 0 &&
		    (l->v[l->n - 1].prefix == NULL || (sc[i].prefix != NULL &&
		    strncmp(sc[i].prefix, l->v[l->n - 1].prefix,
		    strlen(l->v[l->n - 1].prefix)) == 0 &&
		    sc[i].prefix[strlen(l->v[l->n - 1].prefix)] == '/')))
			continue;
		for (k = 0; k < s->o->nroots; k++)
			if (strcmp(s->o->roots[k].name, sc[i].root) == 0)
				r = &s->o->roots[k];
		if (r == NULL) {
			ret = iwm_http_reply(c, 404, "no such root: %s", sc[i].root);
			goto out;
		}
		if (root_check(r) == -1) {
			ret = iwm_http_reply(c, 503, "%s", iwm_err());
			goto out;
		}
		e->root = r->name;
		e->sr = r;
		if (r->mtime_res > l->res)
			l->res = r->mtime_res;
		if (r->mtime_min > l->tmin)
			l->tmin = r->mtime_min;
		if (r->mtime_max < l->tmax)
			l->tmax = r->mtime_max;
		l->modes &= r->modes;
		e->fd = -1;
		if (sc[i].prefix != NULL) {
			plen = strlen(sc[i].prefix);
			while (plen > 0 && sc[i].prefix[plen - 1] == '/')
				plen--;
			e->prefix = iwm_strndup(sc[i].prefix, plen);
			if (!iwm_path_valid(e->prefix, plen)) {
				l->n++;
				ret = iwm_http_reply(c, 400, "bad scope prefix");
				goto out;
			}
		}
		e->fd = iwm_fs_open(r->fd, e->prefix ? e->prefix : "",
		    O_RDONLY | O_DIRECTORY);
		l->n++;
		if (e->fd == -1 && errno != ENOENT) {
			ret = reply_errno(c, errno, "scope");
			goto out;
		}
	}
	iwm_scope_format(&fmt, sc, nsc);
	l->scope = iwm_buf_steal(&fmt);
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		ret = reply_errno(c, errno, "pipe");
		goto out;
	}
	l->wfd = pfd[1];
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1 << 16,
	    pipe_read, (void *)(intptr_t)pfd[0], pipe_free);
	if (resp == NULL) {
		close(pfd[0]);
		close(pfd[1]);
		ret = MHD_NO;
		goto out;
	}
	MHD_add_response_header(resp, "Content-Type",
	    "text/x-iwm-manifest; charset=utf-8");
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, list_thread, l) != 0) {
		pthread_attr_destroy(&at);
		close(pfd[1]);
		MHD_destroy_response(resp);
		ret = iwm_http_reply(c, 500, "cannot start the listing");
		goto out;
	}
	pthread_attr_destroy(&at);
	l = NULL;
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
out:
	if (l != NULL) {
		for (i = 0; i < l->n; i++) {
			if (l->v[i].fd != -1)
				close(l->v[i].fd);
			free(l->v[i].prefix);
		}
		free(l->v);
		free(l->scope);
		free(l);
	}
	iwm_scope_free(sc, nsc);
	iwm_buf_free(&fmt);
	return ret;
}

/* --- signature cache ---------------------------------------------- */

/*
 * With --sig-cache DIR, the signature of every file of at least
 * SIGCACHE_MIN bytes that the agent wrote or signed is kept in DIR
 * under the SHA-256 of its root and path, after a line that names the
 * file's device, inode, size, mtime and ctime: it is used only while
 * all five are unchanged.  Uploads are signed as they stream in,
 * patched files reuse the sums of the blocks copied from their base,
 * so a delta does not need a read of the base.  Oldest entries go when
 * DIR holds more than --sig-cache-max bytes.  Each signature format
 * has its own entry (the XXH3 one's name ends in ".xxh3") and an entry
 * is used only if its magic is the format asked for.  Uploads are
 * signed in the XXH3 format, the one iwm-push asks for, at a tenth of
 * BLAKE2's CPU; an older client's first BLAKE2 signature of such a
 * file is computed from it.
 */
#define SIGCACHE_MIN	((uint64_t)1 << 20)

#define CACHE_NAME	72	/* 64 hex digits, ".xxh3", NUL */

static void
cache_name(const struct iwm_serve_root *root, const char *path, int fmt,
    char name[CACHE_NAME])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, root->name, strlen(root->name) + 1);
	EVP_DigestUpdate(ctx, path, strlen(path));
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++)
		snprintf(name + 2 * i, 3, "%02x", md[i]);
	/* BLAKE2 entries keep the name they had before XXH3 came. */
	if (fmt == IWM_SIG_XXH3)
		memcpy(name + 64, ".xxh3", 6);
}

static void
cache_stamp(struct iwm_buf *b, const struct stat *sb)
{
	iwm_buf_printf(b, "iwm-sig 1 %llu %llu %llu %lld.%09ld %lld.%09ld\n",
	    (unsigned long long)sb->st_dev, (unsigned long long)sb->st_ino,
	    (unsigned long long)sb->st_size, (long long)sb->st_mtim.tv_sec,
	    sb->st_mtim.tv_nsec, (long long)sb->st_ctim.tv_sec,
	    sb->st_ctim.tv_nsec);
}

/* The cached signature (format FMT) of the file SB describes; -1 if none. */
static int
cache_get(struct serve *s, const struct iwm_serve_root *root,
    const char *path, const struct stat *sb, int fmt, struct iwm_buf *sig)
{
	struct iwm_buf want = { 0 }, got = { 0 };
	char name[CACHE_NAME];
	struct stat cs;
	size_t nl;
	int fd, rc = -1;

	if (s->cachefd == -1 || (uint64_t)sb->st_size < SIGCACHE_MIN)
		return -1;
	cache_name(root, path, fmt, name);
	if ((fd = openat(s->cachefd, name, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &cs) == -1 || !S_ISREG(cs.st_mode) ||
	    cs.st_size > (off_t)1 << 32)
		goto done;
	iwm_buf_grow(&got, (size_t)cs.st_size + 1);
	while (got.len < (size_t)cs.st_size) {
		ssize_t n = read(fd, got.ptr + got.len,
		    (size_t)cs.st_size - got.len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		got.len += (size_t)n;
	}
	cache_stamp(&want, sb);
	nl = want.len;
	if (got.len <= nl || memcmp(got.ptr, want.ptr, nl) != 0 ||
	    iwm_rs_sig_format(got.ptr + nl, got.len - nl) != fmt)
		goto done;
	iwm_buf_add(sig, got.ptr + nl, got.len - nl);
	rc = 0;
done:
	close(fd);
	iwm_buf_free(&want);
	iwm_buf_free(&got);
	return rc;
}

struct centry {
	char		 name[72];
	struct timespec	 t;
	off_t		 size;
};

static int
centry_cmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	if (x->t.tv_sec != y->t.tv_sec)
		return x->t.tv_sec < y->t.tv_sec ? -1 : 1;
	if (x->t.tv_nsec != y->t.tv_nsec)
		return x->t.tv_nsec < y->t.tv_nsec ? -1 : 1;
	return 0;
}

/* Remove the oldest entries while the cache is over its size. */
static void
cache_evict(struct serve *s)
{
	struct centry *e = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t total = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = openat(s->cachefd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (de->d_name[0] == '.' || strlen(de->d_name) >=
		    sizeof(e->name) || fstatat(s->cachefd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			e = iwm_reallocarray(e, cap, sizeof(*e));
		}
		memcpy(e[n].name, de->d_name, strlen(de->d_name) + 1);
		e[n].t = sb.st_mtim;
		e[n].size = sb.st_size;
		total += (uint64_t)sb.st_size;
		n++;
	}
	closedir(d);
	if (total > s->o->sig_cache_max) {
		qsort(e, n, sizeof(*e), centry_cmp);
		for (i = 0; i < n && total > s->o->sig_cache_max; i++)
			if (unlinkat(s->cachefd, e[i].name, 0) == 0)
				total -= (uint64_t)e[i].size;
	}
	free(e);
}

/* Keep SIG as the signature of ROOT/PATH, in the state SB. */
static void
cache_put(struct serve *s, const struct iwm_serve_root *root,
    const char *path, const struct stat *sb, const struct iwm_buf *sig)
{
	struct iwm_buf b = { 0 };
	char name[CACHE_NAME], tmp[96];
	unsigned seq;
	int fd, ok, fmt;

	if (s->cachefd == -1 ||
	    (fmt = iwm_rs_sig_format(sig->ptr, sig->len)) == -1)
		return;
	cache_name(root, path, fmt, name);
	if ((uint64_t)sb->st_size < SIGCACHE_MIN) {
		unlinkat(s->cachefd, name, 0);
		return;
	}
	cache_stamp(&b, sb);
	iwm_buf_add(&b, sig->ptr, sig->len);
	pthread_mutex_lock(&s->cachemu);
	seq = s->cacheseq++;
	pthread_mutex_unlock(&s->cachemu);
	snprintf(tmp, sizeof(tmp), ".tmp-%ld-%u", (long)getpid(), seq);
	if ((fd = openat(s->cachefd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		iwm_buf_free(&b);
		return;
	}
	ok = write(fd, b.ptr, b.len) == (ssize_t)b.len;
	if (close(fd) == -1)
		ok = 0;
	if (!ok || renameat(s->cachefd, tmp, s->cachefd, name) == -1) {
		unlinkat(s->cachefd, tmp, 0);
		iwm_buf_free(&b);
		return;
	}
	iwm_buf_free(&b);
	pthread_mutex_lock(&s->cachemu);
	cache_evict(s);
	pthread_mutex_unlock(&s->cachemu);
}

/* Forget the signature in format FMT of ROOT/PATH. */
static void
cache_drop_fmt(struct serve *s, const struct iwm_serve_root *root,
    const char *path, int fmt)
{
	char name[CACHE_NAME];

	if (s->cachefd == -1)
		return;
	cache_name(root, path, fmt, name);
	unlinkat(s->cachefd, name, 0);
}

/* Forget what the cache knows of ROOT/PATH (deleted, replaced). */
static void
cache_drop(struct serve *s, const struct iwm_serve_root *root,
    const char *path)
{
	int fmt;

	for (fmt = 0; fmt < IWM_SIG_NFMT; fmt++)
		cache_drop_fmt(s, root, path, fmt);
}

/* At start: the directory, made if need be, and outside every root. */
static int
cache_open(struct serve *s)
{
	struct iwm_serve_opts *o = s->o;
	char *real;
	size_t i;
	struct dirent *de;
	DIR *d;
	int fd;

	s->cachefd = -1;
	pthread_mutex_init(&s->cachemu, NULL);
	if (o->sig_cache == NULL)
		return 0;
	if (mkdir(o->sig_cache, 0700) == -1 && errno != EEXIST) {
		iwm_seterr_errno("--sig-cache %s", o->sig_cache);
		return -1;
	}
	if ((real = realpath(o->sig_cache, NULL)) == NULL) {
		iwm_seterr_errno("--sig-cache %s", o->sig_cache);
		return -1;
	}
	for (i = 0; i < o->nroots; i++) {
		char *rr = realpath(o->roots[i].dir, NULL);
		size_t rl = rr != NULL ? strlen(rr) : 0;
		int inside = rr != NULL && strncmp(real, rr, rl) == 0 &&
		    (real[rl] == '/' || real[rl] == '\0' ||
		    (rl == 1 && rr[0] == '/'));

		free(rr);
		if (inside) {
			iwm_seterr("--sig-cache %s is inside root %s",
			    o->sig_cache, o->roots[i].name);
			free(real);
			return -1;
		}
	}
	free(real);
	if ((s->cachefd = open(o->sig_cache, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		iwm_seterr_errno("--sig-cache %s", o->sig_cache);
		return -1;
	}
	/* Temporary files of an earlier run. */
	if ((fd = openat(s->cachefd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, ".tmp-", 5) == 0)
				unlinkat(s->cachefd, de->d_name, 0);
		closedir(d);
	} else if (fd != -1)
		close(fd);
	return 0;
}

/* --- signature ----------------------------------------------------- */

static enum MHD_Result
do_sig(struct serve *s, struct MHD_Connection *c, struct iwm_serve_root *root,
    const char *path)
{
	struct iwm_buf sig = { 0 }, v = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct stat sb;
	size_t len;
	int fd;
	/* The client's choice; BLAKE2 (librsync's) for an older one. */
	int fmt = iwm_rs_sig_kind(hdr(c, "X-Iwm-Sig"));

	/* O_NONBLOCK: a FIFO planted in the root must not hang a worker. */
	if ((fd = iwm_fs_open(root->fd, path, O_RDONLY | O_NONBLOCK)) == -1)
		return reply_errno(c, errno, "open");
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return iwm_http_reply(c, 409, "not a regular file");
	}
	if (cache_get(s, root, path, &sb, fmt, &sig) == 0)
		;	/* kept from when the file was written or signed */
	else if (iwm_rs_signature(fd, (uint64_t)sb.st_size, fmt, &sig) ==
	    -1) {
		close(fd);
		iwm_buf_free(&sig);
		return iwm_http_reply(c, 500, "%s", iwm_err());
	} else if ((uint64_t)sb.st_size >= SIGCACHE_MIN && s->cachefd != -1) {
		struct stat now;

		/* Kept only if the file did not change while signed. */
		if (fstat(fd, &now) == 0 && now.st_size == sb.st_size &&
		    now.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
		    now.st_mtim.tv_nsec == sb.st_mtim.tv_nsec &&
		    now.st_ctim.tv_sec == sb.st_ctim.tv_sec &&
		    now.st_ctim.tv_nsec == sb.st_ctim.tv_nsec)
			cache_put(s, root, path, &now, &sig);
	}
	close(fd);
	len = sig.len;
	resp = MHD_create_response_from_buffer(len, iwm_buf_steal(&sig),
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	iwm_buf_printf(&v, "%llu", (unsigned long long)sb.st_size);
	MHD_add_response_header(resp, "X-Iwm-Size", v.ptr);
	iwm_buf_reset(&v);
	iwm_fmt_mtime(&v, sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	MHD_add_response_header(resp, "X-Iwm-Mtime", v.ptr);
	MHD_add_response_header(resp, "X-Iwm-Sig", iwm_rs_sig_name(fmt));
	MHD_add_response_header(resp, "Content-Type", fmt == IWM_SIG_XXH3 ?
	    "application/x-iwm-signature" : "application/x-librsync-signature");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	iwm_buf_free(&v);
	return ret;
}

/* --- uploads ------------------------------------------------------- */

static void
req_fail(struct req *r, unsigned status, const char *fmt, ...)
    IWM_PRINTF(3, 4);

static void
req_fail(struct req *r, unsigned status, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	if (r->status != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	r->status = status;
	iwm_buf_reset(&r->msg);
	iwm_buf_adds(&r->msg, tmp);
	if (r->fp.fd != -1 || r->fp.dirfd != -1)
		iwm_fput_abort(&r->fp);
}

/*
 * Rename the upload into place.  A racily clean copy is marked before,
 * so that no crash leaves it unmarked; any other copy clears the mark
 * after.
 */
static int
commit(struct req *r, struct iwm_serve_root *root, const char *path)
{
	if (r->racy && iwm_racy_mark(root, path, 1) == -1) {
		iwm_fput_abort(&r->fp);
		return -1;
	}
	if (iwm_fput_commit(&r->fp, r->mode, r->sec, r->nsec,
	    r->s->o->fsync) == -1)
		return -1;
	if (!r->racy)
		(void)iwm_racy_mark(root, path, 0);
	return 0;
}

static void
batch_result(struct req *r, unsigned code, const char *fmt, ...)
    IWM_PRINTF(3, 4);

static void
batch_result(struct req *r, unsigned code, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	size_t i;

	iwm_buf_printf(&r->res, "%u", code);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof(tmp), fmt, ap);
		va_end(ap);
		for (i = 0; tmp[i] != '\0'; i++)
			if (tmp[i] == '\n' || tmp[i] == '\t')
				tmp[i] = ' ';
		iwm_buf_printf(&r->res, "\t%s", tmp);
	}
	iwm_buf_addc(&r->res, '\n');
	r->nitems++;
}

/*
 * Never a setuid or setgid file on the target, whatever the request
 * says: the bits are removed from r->mode, logged and reported.
 */
static int
strip_suid(struct req *r, const char *path)
{
	struct iwm_buf b = { 0 };

	if ((r->mode & 06000) == 0)
		return 0;
	iwm_escape_buf(&b, path, strlen(path));
	iwm_http_log("%s/%s: setuid/setgid bits removed (mode %04o stored "
	    "as %04o)", r->root->name, b.ptr, r->mode, r->mode & ~06000u);
	iwm_buf_free(&b);
	r->mode &= ~06000u;
	return 1;
}

/*
 * A file's parent is resolved once (and cached for the next records of
 * a batch); the directory may have been renamed away since, and the
 * file would land there.  Before the commit: check that the directory
 * is still at its path, else resolve the path again and move the
 * upload to the directory now there.
 */
static int
fput_reparent(struct req *r, const char *path)
{
	const char *base;
	int old;

	if (r->dc.fd == -1 || r->fp.dirfd == -1 ||
	    iwm_dircache_in_place(&r->dc))
		return 0;
	/* The upload keeps the old directory until it has moved. */
	old = r->dc.fd;
	r->dc.fd = -1;
	iwm_dircache_free(&r->dc);
	iwm_dircache_init(&r->dc, r->root);
	if (iwm_fs_parent(&r->dc, path, 1, &base) == -1 ||
	    iwm_fput_reparent(&r->fp, &r->dc) == -1) {
		int e = errno;

		iwm_fput_abort(&r->fp);
		close(old);
		errno = e;
		return -1;
	}
	close(old);
	return 0;
}

/* After the commit: 1 if the parent left its path meanwhile. */
static int
parent_moved(struct req *r)
{
	if (r->dc.fd == -1 || iwm_dircache_in_place(&r->dc))
		return 0;
	iwm_dircache_free(&r->dc);
	iwm_dircache_init(&r->dc, r->root);
	return 1;
}

static void
batch_commit(struct req *r)
{
	if (fput_reparent(r, r->bpath.ptr) == -1 ||
	    commit(r, r->root, r->bpath.ptr) == -1)
		batch_result(r, (unsigned)iwm_errno_status(errno), "%s",
		    strerror(errno));
	else if (parent_moved(r))
		batch_result(r, 409, "the file's directory was moved away "
		    "while it was written");
	else if (r->stripped)
		batch_result(r, 200, "setuid/setgid bits removed");
	else
		batch_result(r, 200, NULL);
}

static void
batch_root(struct req *r, struct iwm_serve_root *root)
{
	if (r->root == root)
		return;
	iwm_dircache_free(&r->dc);
	iwm_dircache_init(&r->dc, root);
	r->root = root;
}

/* One header line of a batch: a manifest record. */
static void
batch_line(struct req *r, char *line, size_t len)
{
	struct iwm_rec rec;
	struct iwm_serve_root *root = NULL;
	size_t i;
	const char *p;

	if (len > 0 && line[0] == '#')
		return;
	if (iwm_rec_parse(line, len, &rec) == -1) {
		/* Without a size the rest cannot be framed: stop here. */
		r->fatal = 1;
		req_fail(r, 400, "batch item %llu: %s",
		    (unsigned long long)r->nitems + 1, iwm_err());
		return;
	}
	for (i = 0; i < r->s->o->nroots; i++)
		if (strcmp(r->s->o->roots[i].name, rec.root) == 0)
			root = &r->s->o->roots[i];
	r->remain = (rec.op == IWM_OP_CREATE || rec.op == IWM_OP_UPDATE) &&
	    rec.type == IWM_TYPE_FILE ? rec.size : 0;
	r->bst = r->remain > 0 ? B_SKIP : B_LINE;
	if (root == NULL) {
		batch_result(r, 404, "no such root");
		goto ready;
	}
	for (p = rec.path; p != NULL; p = strchr(p, '/'))
		if (iwm_is_tmpname(*p == '/' ? ++p : p)) {
			batch_result(r, 400, "reserved name");
			goto ready;
		}
	if (r->root != root && root_check(root) == -1) {
		batch_result(r, 503, "%s", iwm_err());
		goto ready;
	}
	batch_root(r, root);
	switch (rec.op) {
	case IWM_OP_CREATE:
	case IWM_OP_UPDATE:
		if (rec.type == IWM_TYPE_LINK) {
			batch_result(r, 400, "symbolic links are not made");
			break;
		}
		if (rec.type == IWM_TYPE_DIR) {
			if (iwm_fs_mkdir(&r->dc, rec.path, rec.mode,
			    rec.mtime_sec, rec.mtime_nsec, 1) == -1)
				batch_result(r, (unsigned)iwm_errno_status(errno),
				    "mkdir: %s", strerror(errno));
			else
				batch_result(r, 200, NULL);
			break;
		}
		if (iwm_fput_begin(&r->fp, &r->dc, rec.path, rec.mode) == -1) {
			batch_result(r, (unsigned)iwm_errno_status(errno),
			    "create: %s", strerror(errno));
			break;
		}
		r->mode = rec.mode;
		r->sec = rec.mtime_sec;
		r->nsec = rec.mtime_nsec;
		r->racy = rec.note != NULL &&
		    strcmp(rec.note, IWM_NOTE_RACY) == 0;
		iwm_buf_reset(&r->bpath);
		iwm_buf_add(&r->bpath, rec.path, rec.path_len);
		r->stripped = strip_suid(r, r->bpath.ptr);
		r->bst = B_DATA;
		break;
	case IWM_OP_DELETE:
		if (iwm_fs_delete(&r->dc, rec.path,
		    rec.type == IWM_TYPE_DIR) == -1)
			batch_result(r, (unsigned)iwm_errno_status(errno),
			    "delete: %s", strerror(errno));
		else {
			if (rec.type != IWM_TYPE_DIR) {
				cache_drop(r->s, root, rec.path);
				(void)iwm_racy_mark(root, rec.path, 0);
			}
			batch_result(r, 200, NULL);
		}
		break;
	default:
		batch_result(r, 400, "op '%c' not accepted", rec.op);
	}
ready:
	if (r->bst == B_DATA && r->remain == 0) {
		r->bst = B_LINE;
		batch_commit(r);
	}
}

static void
batch_body(struct req *r, const char *d, size_t n)
{
	while (n > 0 && !r->fatal) {
		if (r->bst == B_LINE) {
			const char *nl = memchr(d, '\n', n);
			size_t take = nl ? (size_t)(nl - d) : n;

			if (r->line.len + take > LINE_MAX_BATCH) {
				r->fatal = 1;
				req_fail(r, 413, "batch record line longer than "
				    "%u bytes", LINE_MAX_BATCH);
				return;
			}
			iwm_buf_add(&r->line, d, take);
			d += take;
			n -= take;
			if (nl != NULL) {
				d++;
				n--;
				batch_line(r, r->line.ptr, r->line.len);
				iwm_buf_reset(&r->line);
			}
			continue;
		}
		{
			size_t take = n < r->remain ? n : (size_t)r->remain;

			if (r->bst == B_DATA && iwm_fput_write(&r->fp, d,
			    take) == -1) {
				batch_result(r, (unsigned)iwm_errno_status(errno),
				    "write: %s", strerror(errno));
				iwm_fput_abort(&r->fp);
				r->bst = B_SKIP;
			}
			d += take;
			n -= take;
			r->remain -= take;
			if (r->remain > 0)
				continue;
			if (r->bst == B_DATA)
				batch_commit(r);
			r->bst = B_LINE;
		}
	}
}

static void
body(struct req *r, const char *d, size_t n)
{
	r->body += n;
	if (r->body > r->s->o->max_body) {
		r->fatal = 1;
		req_fail(r, 413, "request body larger than the agent accepts "
		    "(--max-body %llu)", (unsigned long long)r->s->o->max_body);
		return;
	}
	switch (r->kind) {
	case K_PUT:
		if (r->status != 0)
			return;
		r->got += n;
		if (r->got > r->want)
			req_fail(r, 400, "body longer than X-Iwm-Size");
		else if (iwm_fput_write(&r->fp, d, n) == -1)
			req_fail(r, (unsigned)iwm_errno_status(errno),
			    "write: %s", strerror(errno));
		else if (r->signer != NULL)
			iwm_rs_signer_feed(r->signer, d, n);
		break;
	case K_BATCH:
		batch_body(r, d, n);
		break;
	case K_DELTA:
		if (r->status != 0)
			return;
		if (iwm_rs_patch_feed(r->patch, d, n, 0) == -1)
			req_fail(r, errno == ENOSPC ? 507 : 400, "%s",
			    iwm_err());
		break;
	default:
		break;
	}
}

/* A file was written: keep its signature, or forget the old one. */
static void
cache_written(struct req *r, enum kind k)
{
	struct serve *s = r->s;
	struct iwm_buf sig[IWM_SIG_NFMT] = { { 0 } };
	struct stat sb;
	int fd, ok[IWM_SIG_NFMT], fmt;

	for (fmt = 0; fmt < IWM_SIG_NFMT; fmt++)
		ok[fmt] = -1;
	if (s->cachefd == -1)
		return;
	if ((fd = iwm_fs_open(r->root->fd, r->path, O_RDONLY |
	    O_NONBLOCK)) == -1)
		return;
	/*
	 * Reopened by name after the rename: keep the signature only for
	 * the file this request wrote (its size and mtime to the
	 * nanosecond), never for one that replaced it meanwhile.
	 */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size == r->want && sb.st_mtim.tv_sec == r->sec &&
	    sb.st_mtim.tv_nsec == r->nsec) {
		if (k == K_PUT && r->signer != NULL)
			ok[IWM_SIG_XXH3] = iwm_rs_signer_end(r->signer,
			    &sig[IWM_SIG_XXH3]);
		/* A patched file: each format the base had, derived. */
		for (fmt = 0; k == K_DELTA && fmt < IWM_SIG_NFMT; fmt++)
			if (r->basesig[fmt].len > 0)
				ok[fmt] = iwm_rs_patch_sig(r->patch,
				    r->basesig[fmt].ptr, r->basesig[fmt].len,
				    r->basesize, fd, (uint64_t)sb.st_size,
				    &sig[fmt]);
	}
	close(fd);
	for (fmt = 0; fmt < IWM_SIG_NFMT; fmt++) {
		if (ok[fmt] == 0)
			cache_put(s, r->root, r->path, &sb, &sig[fmt]);
		else
			cache_drop_fmt(s, r->root, r->path, fmt);
		iwm_buf_free(&sig[fmt]);
	}
}

static enum MHD_Result finish_reply(struct req *, struct MHD_Connection *);

/*
 * The body is in: commit and answer, and give the last directory its
 * mtime back before the answer goes out, so that a request the client
 * sends next (the directories' times of the pass) comes after it.
 */
static enum MHD_Result
finish(struct req *r, struct MHD_Connection *c)
{
	enum MHD_Result rv = finish_reply(r, c);

	iwm_dircache_settle(&r->dc);
	return rv;
}

static enum MHD_Result
finish_reply(struct req *r, struct MHD_Connection *c)
{
	struct iwm_buf b = { 0 };
	enum kind k = r->kind;

	switch (r->kind) {
	case K_PUT:
		if (r->status == 0 && r->got != r->want)
			req_fail(r, 400, "body shorter than X-Iwm-Size");
		break;
	case K_DELTA:
		if (r->status == 0 && iwm_rs_patch_feed(r->patch, NULL, 0,
		    1) == -1)
			req_fail(r, 400, "%s", iwm_err());
		if (r->status == 0 && iwm_rs_patch_written(r->patch) != r->want)
			req_fail(r, 400, "patched file has %llu bytes, "
			    "expected %llu", (unsigned long long)
			    iwm_rs_patch_written(r->patch),
			    (unsigned long long)r->want);
		if (r->status == 0 && hdr(c, "X-Iwm-Check") != NULL) {
			int kind = iwm_check_kind(hdr(c, "X-Iwm-Check"));
			const char *want = kind == 0 ? NULL :
			    MHD_lookup_connection_value(c, MHD_FOOTER_KIND,
			    iwm_check_trailer(kind));
			int same = want != NULL ?
			    iwm_rs_patch_check(r->patch, want) : -1;

			if (kind == 0)
				req_fail(r, 400, "X-Iwm-Check: unknown "
				    "(sha256 or xxh128)");
			else if (same == -1)
				req_fail(r, 400, "%s trailer missing",
				    iwm_check_trailer(kind));
			else if (same == 0) {
				/* Patched against another base than signed. */
				req_fail(r, 412, "whole-file check failed: "
				    "the patched file is not the source's");
				cache_drop(r->s, r->root, r->path);
				iwm_http_log("%s %s: whole-file check of "
				    "a delta failed; the client sends it whole",
				    r->root->name, r->path);
			}
		}
		break;
	case K_BATCH:
		if (!r->fatal && (r->bst != B_LINE || r->line.len > 0)) {
			r->fatal = 1;
			req_fail(r, 400, "batch ends inside an item");
		}
		if (r->fatal)
			break;
		r->kind = K_DONE;
		iwm_buf_printf(&b, "#iwm-batch 1 items=%llu\n",
		    (unsigned long long)r->nitems);
		iwm_buf_add(&b, r->res.ptr, r->res.len);
		return iwm_http_send(c, 200, &b, "text/plain; charset=utf-8");
	default:
		break;
	}
	r->kind = K_DONE;
	if (r->status != 0)
		return iwm_http_reply(c, r->status, "%s", r->msg.ptr);
	if (fput_reparent(r, r->path) == -1 ||
	    commit(r, r->root, r->path) == -1)
		return reply_errno(c, errno, "commit");
	if (parent_moved(r))
		return iwm_http_reply(c, 409, "the file's directory was moved away "
		    "while it was written");
	cache_written(r, k);
	if (r->stripped)
		return iwm_http_reply(c, 200, "ok; setuid/setgid bits removed");
	return iwm_http_reply(c, 200, "ok");
}

/*
 * A body over --max-body gets 413.  One at most DRAIN_MAX bytes over
 * is read and dropped first: answered early, with the connection then
 * closed, a client still sending may see only a reset.  A larger one
 * is answered at once.
 */
#define DRAIN_MAX	((uint64_t)64 << 20)

static enum MHD_Result
refuse_body(struct req *r, struct MHD_Connection *c, uint64_t len,
    const char *what)
{
	if (len - r->s->o->max_body <= DRAIN_MAX) {
		r->kind = K_DRAIN;
		req_fail(r, 413, "%s larger than the agent accepts (--max-body "
		    "%llu)", what, (unsigned long long)r->s->o->max_body);
		return MHD_YES;
	}
	r->kind = K_DONE;
	return iwm_http_reply(c, 413, "%s larger than the agent accepts (--max-body "
	    "%llu)", what, (unsigned long long)r->s->o->max_body);
}

/* First call of a request: headers are in, no body yet. */
static enum MHD_Result
route(struct serve *s, struct req *r, struct MHD_Connection *c,
    const char *url, const char *method)
{
	struct iwm_buf why = { 0 };
	struct iwm_dircache dc;
	enum MHD_Result ret;
	unsigned st;
	int isget = strcmp(method, "GET") == 0;
	int isput = strcmp(method, "PUT") == 0;
	int ispost = strcmp(method, "POST") == 0;
	int isdel = strcmp(method, "DELETE") == 0;
	const char *rest = NULL;
	enum { R_FILE, R_DIR, R_SIG, R_DELTA } which = R_FILE;
	uint64_t blen;

	r->kind = K_DONE;
	if (strcmp(url, "/v1/info") == 0)
		return isget ? do_info(s, c) : iwm_http_reply(c, 405, "GET only");
	if (strcmp(url, "/v1/list") == 0)
		return isget ? do_list(s, c, 0) : iwm_http_reply(c, 405,
		    "GET only");
	if (strcmp(url, "/v1/hash") == 0)
		return isget ? do_list(s, c, 1) : iwm_http_reply(c, 405,
		    "GET only");
	if ((blen = too_long(s, c)) != 0)
		return refuse_body(r, c, blen, "request body");
	if (strncmp(url, "/v1/action/", 11) == 0)
		return (enum MHD_Result)iwm_action_request(s->o, s->users, c,
		    url + 11, method);
	if (strcmp(url, "/v1/batch") == 0) {
		if (!ispost)
			return iwm_http_reply(c, 405, "POST only");
		r->kind = K_BATCH;
		iwm_dircache_init(&r->dc, NULL);
		return MHD_YES;
	}
	if (strncmp(url, "/v1/file/", 9) == 0)
		rest = url + 9, which = R_FILE;
	else if (strncmp(url, "/v1/dir/", 8) == 0)
		rest = url + 8, which = R_DIR;
	else if (strncmp(url, "/v1/sig/", 8) == 0)
		rest = url + 8, which = R_SIG;
	else if (strncmp(url, "/v1/delta/", 10) == 0)
		rest = url + 10, which = R_DELTA;
	if (rest == NULL)
		return iwm_http_reply(c, 404, "no such endpoint");
	if ((st = target(s, rest, &r->root, &r->path, &why)) != 0) {
		ret = iwm_http_reply(c, st, "%s", why.ptr);
		iwm_buf_free(&why);
		return ret;
	}
	if (root_check(r->root) == -1)
		return iwm_http_reply(c, 503, "%s", iwm_err());
	iwm_dircache_init(&dc, r->root);
	if (which == R_SIG) {
		if (!isget)
			return iwm_http_reply(c, 405, "GET only");
		return do_sig(s, c, r->root, r->path);
	}
	if (isdel && (which == R_FILE || which == R_DIR)) {
		int rc = iwm_fs_delete(&dc, r->path, which == R_DIR);

		if (rc == 0 && which == R_FILE) {
			cache_drop(s, r->root, r->path);
			(void)iwm_racy_mark(r->root, r->path, 0);
		}

		iwm_dircache_free(&dc);
		return rc == -1 ? reply_errno(c, errno, "delete") :
		    iwm_http_reply(c, 200, "ok");
	}
	if (which == R_DIR) {
		int rc;

		if (!isput)
			return iwm_http_reply(c, 405, "PUT or DELETE only");
		if (hdr(c, "X-Iwm-Mode") == NULL || iwm_parse_octal(hdr(c,
		    "X-Iwm-Mode"), 07777, &r->mode) == -1 ||
		    (hdr(c, "X-Iwm-Mtime") != NULL && iwm_parse_mtime(hdr(c,
		    "X-Iwm-Mtime"), &r->sec, &r->nsec) == -1))
			return iwm_http_reply(c, 400, "X-Iwm-Mode missing or bad, or "
			    "X-Iwm-Mtime bad");
		rc = iwm_fs_mkdir(&dc, r->path, r->mode, r->sec, r->nsec,
		    hdr(c, "X-Iwm-Mtime") != NULL);
		iwm_dircache_free(&dc);
		return rc == -1 ? reply_errno(c, errno, "mkdir") :
		    iwm_http_reply(c, 200, "ok");
	}
	if ((which == R_FILE && !isput) || (which == R_DELTA && !ispost))
		return iwm_http_reply(c, 405, "method not allowed");
	if (hdr_meta(c, r) == -1 || hdr_u64(c, "X-Iwm-Size", &r->want) == -1)
		return iwm_http_reply(c, 400, "X-Iwm-Size, X-Iwm-Mtime or X-Iwm-Mode "
		    "missing or bad");
	r->racy = hdr(c, "X-Iwm-Racy") != NULL &&
	    strcmp(hdr(c, "X-Iwm-Racy"), "1") == 0;
	if (which == R_DELTA) {
		uint64_t bsize;
		int64_t bsec;
		long bnsec;
		struct stat sb;
		const char *bm = hdr(c, "X-Iwm-Base-Mtime");
		int fmt;

		if (hdr_u64(c, "X-Iwm-Base-Size", &bsize) == -1 || bm == NULL ||
		    iwm_parse_mtime(bm, &bsec, &bnsec) == -1)
			return iwm_http_reply(c, 400, "X-Iwm-Base-Size or "
			    "X-Iwm-Base-Mtime missing or bad");
		if ((r->basefd = iwm_fs_open(r->root->fd, r->path,
		    O_RDONLY | O_NONBLOCK)) == -1)
			return errno == ENOENT ? iwm_http_reply(c, 409, "base file "
			    "is gone") : reply_errno(c, errno, "open");
		if (fstat(r->basefd, &sb) == 0 && !S_ISREG(sb.st_mode))
			return iwm_http_reply(c, 409, "base is not a regular file");
		if (fstat(r->basefd, &sb) == -1 ||
		    (uint64_t)sb.st_size != bsize ||
		    sb.st_mtim.tv_sec != bsec || sb.st_mtim.tv_nsec != bnsec)
			return iwm_http_reply(c, 409, "base file changed since its "
			    "signature");
		/* The base's signatures, to derive the new file's. */
		r->basesize = (uint64_t)sb.st_size;
		for (fmt = 0; fmt < IWM_SIG_NFMT; fmt++)
			(void)cache_get(s, r->root, r->path, &sb, fmt,
			    &r->basesig[fmt]);
	}
	if (r->want > s->o->max_body && which == R_FILE)
		return refuse_body(r, c, r->want, "file");
	if (strip_suid(r, r->path))
		r->stripped = 1;
	iwm_dircache_init(&r->dc, r->root);
	if (iwm_fput_begin(&r->fp, &r->dc, r->path, r->mode) == -1)
		return reply_errno(c, errno, "create");
	if (which == R_DELTA) {
		r->patch = iwm_rs_patch_new(r->basefd, &r->fp);
		r->kind = K_DELTA;
		/* The whole-file check: the hash comes as a trailer. */
		if (iwm_check_kind(hdr(c, "X-Iwm-Check")) != 0)
			iwm_rs_patch_hash(r->patch,
			    iwm_check_kind(hdr(c, "X-Iwm-Check")));
	} else {
		r->kind = K_PUT;
		if (s->cachefd != -1 && r->want >= SIGCACHE_MIN)
			r->signer = iwm_rs_signer_new(r->want, IWM_SIG_XXH3);
	}
	return MHD_YES;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	struct serve *s = cls;
	struct req *r = *ctx;
	enum MHD_Result ret;

	if (r == NULL) {
		r = iwm_calloc(1, sizeof(*r));
		r->s = s;
		r->basefd = -1;
		r->fp.fd = r->fp.dirfd = -1;
		iwm_dircache_init(&r->dc, NULL);
		*ctx = r;
		if (s->o->verbose)
			iwm_http_log("%s %s", method, url);
		switch (authenticate(s, c, r, &ret)) {
		case A_OK:
			return route(s, r, c, url, method);
		case A_WAIT:
			return ret;
		default:
			r->kind = K_DONE;
			return ret;
		}
	}
	if (r->auth != A_NONE) {
		/* Resumed: the first call again, with the login's verdict. */
		enum astate a = r->auth;

		r->auth = A_NONE;
		r->kind = K_DONE;
		switch (a) {
		case A_OK:
			ret = route(s, r, c, url, method);
			auth_routed(s);
			return ret;
		case A_BLOCKED:
			return reply_blocked(c, r->retry);
		default:
			return iwm_http_reply(c, 401, "authentication required");
		}
	}
	if (*size > 0) {
		/* After an error the rest is read and dropped: the answer
		 * (413, 400 ...) can only be given once the body is in. */
		if (r->kind != K_DONE)
			body(r, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (r->kind == K_DONE)
		return MHD_YES;
	return finish(r, c);
}

static void
completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode code)
{
	struct req *r = *ctx;
	int i;

	if (r == NULL)
		return;
	if (r->auth == A_OK)
		auth_routed(r->s);
	/* An unfinished upload leaves nothing under its final name. */
	if (r->fp.fd != -1 || r->fp.dirfd != -1)
		iwm_fput_abort(&r->fp);
	if (r->basefd != -1)
		close(r->basefd);
	iwm_rs_patch_free(r->patch);
	iwm_rs_signer_free(r->signer);
	for (i = 0; i < IWM_SIG_NFMT; i++)
		iwm_buf_free(&r->basesig[i]);
	iwm_dircache_free(&r->dc);
	iwm_buf_free(&r->msg);
	iwm_buf_free(&r->line);
	iwm_buf_free(&r->res);
	iwm_buf_free(&r->bpath);
	free(r->path);
	free(r);
	*ctx = NULL;
}

/* Paths arrive raw: decoding is ours, so %00 and friends are refused. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *uri)
{
	return strlen(uri);
}

static char *
slurp(const char *file)
{
	struct iwm_buf b = { 0 };
	char tmp[4096];
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		iwm_seterr_errno("%s", file);
		return NULL;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		iwm_buf_add(&b, tmp, (size_t)n);
	close(fd);
	if (n == -1) {
		iwm_seterr_errno("%s", file);
		iwm_buf_free(&b);
		return NULL;
	}
	return iwm_buf_steal(&b);
}

static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (colon == NULL || colon[1] == '\0')
		goto bad;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL)
		goto bad;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	iwm_seterr("--listen '%s': expected ADDR:PORT (numeric)", s);
	return -1;
}

int
iwm_serve_run(struct iwm_serve_opts *o)
{
	struct MHD_OptionItem opts[16];
	struct sockaddr_storage ss;
	struct serve s;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	char *cert = NULL, *key = NULL;
	socklen_t sl;
	sigset_t set;
	size_t i, n = 0;
	unsigned flags;
	int sig = 0, rc = -1;

	memset(&s, 0, sizeof(s));
	s.cachefd = -1;
	s.o = o;
	if (parse_listen(o->listen, &ss, &sl) == -1)
		return -1;
	if ((s.users = iwm_users_load(o->users)) == NULL)
		return -1;
	if (!o->insecure_http && ((cert = slurp(o->cert)) == NULL ||
	    (key = slurp(o->key)) == NULL))
		goto done;
	for (i = 0; i < o->nroots; i++) {
		uint64_t removed = 0;

		if (iwm_fs_open_root(&o->roots[i]) == -1 ||
		    iwm_fs_sweep(&o->roots[i], &removed) == -1 ||
		    iwm_racy_open(&o->roots[i]) == -1)
			goto done;
		if (iwm_fs_probe(&o->roots[i]) == -1)
			iwm_http_log("%s", iwm_err());
		if (o->temp_names)
			o->roots[i].anon = 0;
		if (o->verbose)
			iwm_http_log("root %s: files written %s", o->roots[i].name,
			    o->roots[i].anon ? "as O_TMPFILE inodes, then "
			    "linked" : "under temporary names, then renamed");
		if (removed > 0)
			iwm_http_log("root %s: removed %llu unfinished "
			    "upload(s)", o->roots[i].name, (unsigned long long)removed);
	}
	if (cache_open(&s) == -1 || auth_start(&s) == -1)
		goto done;
	/* Threads inherit this mask; main takes the signals with sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* First, or libmicrohttpd says so on its own standard logger. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_log, o };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
	    o->threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    o->max_conns, NULL };
	/* Slow or idle clients on one address cannot take every slot. */
	opts[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_addr, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    o->timeout, NULL };
	opts[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, 256 * 1024, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)completed, &s };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK,
	    (intptr_t)no_unescape, NULL };
	if (!o->insecure_http) {
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_CERT, 0, cert };
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_KEY, 0, key };
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME;	/* logins, actions.c */
	if (!o->insecure_http)
		flags |= MHD_USE_TLS;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, &s,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (d == NULL) {
		iwm_seterr("cannot listen on %s", o->listen);
		goto done;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	{
		struct iwm_buf url = { 0 };
		char host[128];
		const char *h = o->listen;
		const char *colon = strrchr(h, ':');

		snprintf(host, sizeof(host), "%.*s", (int)(colon - h), h);
		iwm_buf_printf(&url, "%s://%s:%u\n", o->insecure_http ?
		    "http" : "https", host, di ? (unsigned)di->port : 0);
		iwm_http_log("listening on %.*s%s", (int)url.len - 1, url.ptr,
		    o->insecure_http ? " (plain HTTP: INSECURE)" : "");
		if (o->ready_file != NULL) {
			/* Written whole, then renamed: readers never see half. */
			struct iwm_buf tmp = { 0 };
			FILE *f;

			iwm_buf_printf(&tmp, "%s.tmp", o->ready_file);
			if ((f = fopen(tmp.ptr, "w")) != NULL) {
				fputs(url.ptr, f);
				if (fclose(f) == 0)
					rename(tmp.ptr, o->ready_file);
			}
			iwm_buf_free(&tmp);
		}
		iwm_buf_free(&url);
	}
	if (sigwait(&set, &sig) == 0)
		iwm_http_log("signal %d: stopping", sig);
	auth_stop(&s);
	iwm_actions_drain();
	MHD_stop_daemon(d);
	rc = 0;
done:
	auth_free(&s);
	for (i = 0; i < o->nroots; i++)
		iwm_racy_free(&o->roots[i]);
	if (s.cachefd != -1)
		close(s.cachefd);
	iwm_users_free(s.users);
	free(cert);
	free(key);
	return rc;
}
