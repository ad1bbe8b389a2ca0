/*
 * actions.c: the agent's target actions (iwm-protocol(7), ACTIONS).
 *
 * POST /v1/action/NAME runs one of a fixed list of iwm programs, found
 * next to the agent's own executable, with fixed arguments derived from
 * the agent's --tool and its migration root: no shell, no path from the
 * request, stdin /dev/null, a reduced environment.  Its stdout and
 * stderr are streamed to the client as they come (chunked), followed by
 * a last line "#iwm-exit N".  One action at a time.
 *
 * A runner thread reads the program's output into a buffer the response
 * drains; when the buffer is empty the connection is suspended and the
 * runner resumes it as output arrives, so a silent action holds no MHD
 * thread.  A client that goes away does not stop the action: it runs to
 * its end.  Every line of output also goes to the agent's log.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
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

extern char **environ;

#define OUT_CAP		(256 * 1024)	/* unsent output before the runner waits */
#define ARGV_MAX	16

enum { PROG_SERVICES, PROG_RESTORE, PROG_PATHFIX };

static const char *const progs[] = {
	"iwm-services", "iwm-restore", "iwm-pathfix"
};

/* The whitelist; names are compared whole, never decoded. */
static const struct action {
	const char	*name;
	int		 prog;
} actions[] = {
	{ "services-stop", PROG_SERVICES },
	{ "services-start", PROG_SERVICES },
	{ "services-status", PROG_SERVICES },
	{ "restart", PROG_SERVICES },
	{ "restore-settings", PROG_RESTORE },
	{ "restore-preserved", PROG_RESTORE },
	{ "restore-db", PROG_RESTORE },
	{ "pathfix", PROG_PATHFIX },
	{ "domain-prepare", PROG_RESTORE },
	{ "domain-rows", PROG_RESTORE },
	{ "domain-finish", PROG_RESTORE },
};

/* Variables a child keeps; everything else is dropped. */
static const char *const keep_env[] = {
	"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ",
	"TMPDIR", "IWM_DATADIR", "ASAN_OPTIONS", "UBSAN_OPTIONS",
	"LSAN_OPTIONS",
};

struct run {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct MHD_Connection	*conn;
	int			 client;	/* the response is alive */
	int			 suspended;
	int			 done;		/* trailer queued */
	int			 refs;
	int			 lastnl;
	struct iwm_buf		 out;		/* not yet sent */
	size_t			 off;
	struct iwm_buf		 logline;	/* after the client left */
	const char		*name;
	pid_t			 pid;
	int			 fd;
	time_t			 start;
};

static pthread_mutex_t amu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acv = PTHREAD_COND_INITIALIZER;
static const char *current_name;	/* the running action, or NULL */
static char current_since[32];
static int draining;
static unsigned streams;	/* responses of actions still sending */


/* An action that could not start: 200, why, and "#iwm-exit CODE". */
static enum MHD_Result
not_started(struct MHD_Connection *c, const char *name, const char *why,
    int code)
{
	struct iwm_buf b = { 0 };

	iwm_buf_printf(&b, "%s: action %s: %s\n#iwm-exit %d\n", iwm_progname,
	    name, why, code);
	return iwm_http_send(c, 200, &b, "text/plain; charset=utf-8");
}

/* --- the stream ------------------------------------------------------ */

static void
run_unref(struct run *r)
{
	int last;

	pthread_mutex_lock(&r->mu);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (!last)
		return;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	iwm_buf_free(&r->out);
	iwm_buf_free(&r->logline);
	free(r);
}

/* Called with r->mu held: the output into the log, line by line. */
static void
log_output(struct run *r, const char *p, size_t n)
{
	const char *nl;

	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			iwm_buf_add(&r->logline, p, n);
			if (r->logline.len < 4096)
				return;
			nl = p + n;	/* a very long line: cut it */
			n = 0;
		} else {
			iwm_buf_add(&r->logline, p, (size_t)(nl - p));
			n -= (size_t)(nl - p) + 1;
			p = nl + 1;
		}
		iwm_http_log("action %s: %s", r->name, r->logline.ptr);
		iwm_buf_reset(&r->logline);
	}
}

/* Called with r->mu held; drops it around the resume. */
static void
wake_client(struct run *r)
{
	struct MHD_Connection *c;

	if (!r->suspended)
		return;
	r->suspended = 0;
	c = r->conn;
	/* A suspended connection cannot go away until resumed. */
	pthread_mutex_unlock(&r->mu);
	MHD_resume_connection(c);
	pthread_mutex_lock(&r->mu);
}

/* Every line goes to the log; to the client too while it is there. */
static void
deliver(struct run *r, const char *p, size_t n)
{
	pthread_mutex_lock(&r->mu);
	r->lastnl = p[n - 1] == '\n';
	log_output(r, p, n);
	if (r->client) {
		iwm_buf_add(&r->out, p, n);
		wake_client(r);
		while (r->client && r->out.len - r->off > OUT_CAP)
			pthread_cond_wait(&r->cv, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
}

static ssize_t
act_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct run *r = cls;
	size_t n;

	pthread_mutex_lock(&r->mu);
	if ((n = r->out.len - r->off) > 0) {
		if (n > max)
			n = max;
		memcpy(buf, r->out.ptr + r->off, n);
		r->off += n;
		if (r->off == r->out.len) {
			iwm_buf_reset(&r->out);
			r->off = 0;
		}
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		return (ssize_t)n;
	}
	if (r->done) {
		pthread_mutex_unlock(&r->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing yet: hold no thread, the runner resumes us. */
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

/* The response is done with: the client got everything or went away. */
static void
act_free(void *cls)
{
	struct run *r = cls;

	pthread_mutex_lock(&r->mu);
	if (!r->done)
		iwm_http_log("action %s: the client went away; the action "
		    "goes on", r->name);
	r->client = 0;
	r->conn = NULL;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	run_unref(r);
	pthread_mutex_lock(&amu);
	streams--;
	pthread_cond_broadcast(&acv);
	pthread_mutex_unlock(&amu);
}

static void *
runner(void *arg)
{
	struct run *r = arg;
	struct iwm_buf tr = { 0 };
	char tmp[16384];
	ssize_t n;
	pid_t w;
	int st = 0, code, exited = 0;

	/*
	 * Until end of file, or until the program has exited and its pipe
	 * is drained: a daemon it started (a module restarted by
	 * icewarpd.sh) may keep the pipe open for ever.
	 */
	for (;;) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

		if (!exited) {
			while ((w = waitpid(r->pid, &st, WNOHANG)) == -1 &&
			    errno == EINTR)
				;
			if (w == r->pid || w == -1) {
				exited = 1;
				(void)fcntl(r->fd, F_SETFL, O_NONBLOCK);
			}
		}
		if (!exited && poll(&pfd, 1, 500) == 0)
			continue;
		do
			n = read(r->fd, tmp, sizeof(tmp));
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			break;
		deliver(r, tmp, (size_t)n);
	}
	close(r->fd);
	if (!exited)
		while (waitpid(r->pid, &st, 0) == -1 && errno == EINTR)
			;
	if (WIFEXITED(st))
		code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		code = 128 + WTERMSIG(st);
	else
		code = IWM_EXIT_SOFTWARE;
	iwm_http_log("action %s: ended after %llds: exit %d%s", r->name,
	    (long long)(time(NULL) - r->start), code, WIFSIGNALED(st) ?
	    " (killed by a signal)" : "");
	iwm_buf_printf(&tr, "%s#iwm-exit %d\n", r->lastnl ? "" : "\n", code);
	pthread_mutex_lock(&r->mu);
	if (r->logline.len > 0)
		log_output(r, "\n", 1);
	if (r->client)
		iwm_buf_add(&r->out, tr.ptr, tr.len);
	r->done = 1;
	wake_client(r);
	pthread_mutex_unlock(&r->mu);
	iwm_buf_free(&tr);

	pthread_mutex_lock(&amu);
	current_name = NULL;
	pthread_cond_broadcast(&acv);
	pthread_mutex_unlock(&amu);
	run_unref(r);
	return NULL;
}

/* --- starting an action --------------------------------------------- */

struct args {
	char	*v[ARGV_MAX + 1];
	size_t	 n;
};

static void
arg(struct args *a, const char *s)
{
	if (a->n == ARGV_MAX)
		abort();
	a->v[a->n++] = iwm_strdup(s);
	a->v[a->n] = NULL;
}

/* DIR/NAME */
static void
argpath(struct args *a, const char *dir, const char *name)
{
	struct iwm_buf b = { 0 };

	if (a->n == ARGV_MAX)
		abort();
	iwm_buf_printf(&b, "%s/%s", dir, name);
	a->v[a->n++] = iwm_buf_steal(&b);
	a->v[a->n] = NULL;
}

static void
args_free(struct args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/*
 * REL inside the migration root: 1 present, 0 absent, -1 present but
 * not a plain entry of the root (a symbolic link, say): refused.
 */
static int
inside(const struct iwm_serve_root *mig, const char *rel)
{
	int fd = iwm_fs_open(mig->fd, rel, O_PATH);

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	close(fd);
	return 1;
}

/* The program's directory: the agent's own, never PATH. */
static int
exe_dir(struct iwm_buf *b)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return -1;
	*slash = '\0';
	iwm_buf_adds(b, exe);
	return 0;
}

/* The command line of action A; -1 with WHY set if it cannot be run. */
static int
build(const struct iwm_serve_opts *o, const struct iwm_serve_root *mig,
    const struct action *a, struct args *v, struct iwm_buf *why)
{
	struct iwm_buf dir = { 0 };
	const char *m = mig->dir, *need = NULL;

	if (exe_dir(&dir) == -1) {
		iwm_buf_printf(why, "cannot find my own directory: %s",
		    strerror(errno));
		return -1;
	}
	argpath(v, dir.ptr, progs[a->prog]);
	iwm_buf_free(&dir);
	if (strcmp(a->name, "services-stop") == 0) {
		arg(v, "--tool");
		arg(v, o->tool);
		arg(v, "--state");
		argpath(v, o->temp_dir, "iwm-target/services.state");
		arg(v, "stop");
		arg(v, "--keep-control");
	} else if (strcmp(a->name, "services-start") == 0) {
		need = "services.state";
		arg(v, "--tool");
		arg(v, o->tool);
		arg(v, "start");
		arg(v, "--from");
		argpath(v, m, need);
	} else if (strcmp(a->name, "services-status") == 0 ||
	    strcmp(a->name, "restart") == 0) {
		arg(v, "--tool");
		arg(v, o->tool);
		arg(v, a->name[0] == 'r' ? "restart" : "status");
	} else if (strcmp(a->name, "restore-settings") == 0) {
		need = "settings";
		arg(v, "settings");
		arg(v, "--tool");
		arg(v, o->tool);
		switch (inside(mig, "dircreds")) {
		case 1:
			arg(v, "--dircreds");
			argpath(v, m, "dircreds");
			break;
		case -1:
			iwm_buf_adds(why, "dircreds in the migration root is "
			    "not a plain entry (a symbolic link?): refused");
			return -1;
		}
		argpath(v, m, need);
	} else if (strcmp(a->name, "restore-preserved") == 0) {
		arg(v, "preserved");
		arg(v, "--tool");
		arg(v, o->tool);
	} else if (strcmp(a->name, "restore-db") == 0) {
		need = "db";
		arg(v, "db");
		arg(v, "--tool");
		arg(v, o->tool);
		argpath(v, m, need);
	} else if (strcmp(a->name, "pathfix") == 0) {
		need = "pathfix";
		arg(v, "--apply");
		argpath(v, m, need);
		arg(v, "--tool");
		arg(v, o->tool);
	} else if (strncmp(a->name, "domain-", 7) == 0) {
		/* iwm domain: the target's half of prepare, cutover, finish. */
		need = "domain";
		arg(v, "domain");
		arg(v, "--tool");
		arg(v, o->tool);
		arg(v, a->name + 7);
		argpath(v, m, need);
	}
	/* Absent: the program says so; a way out of the root: never. */
	if (need != NULL && inside(mig, need) == -1) {
		iwm_buf_printf(why, "%s in the migration root is not a plain "
		    "entry (a symbolic link?): refused", need);
		return -1;
	}
	return 0;
}

static char **
child_env(void)
{
	char **env = iwm_calloc(sizeof(keep_env) / sizeof(keep_env[0]) + 2,
	    sizeof(*env));
	size_t i, n = 0;

	for (i = 0; i < sizeof(keep_env) / sizeof(keep_env[0]); i++) {
		const char *v = getenv(keep_env[i]);
		struct iwm_buf b = { 0 };

		if (v == NULL)
			continue;
		iwm_buf_printf(&b, "%s=%s", keep_env[i], v);
		env[n++] = iwm_buf_steal(&b);
	}
	/* iwm programs flush stdout per line: the stream is live. */
	env[n++] = iwm_strdup("IWM_LINE_BUFFERED=1");
	env[n] = NULL;
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Start V with its output into *FD; errno on failure. */
static int
spawn(struct args *v, pid_t *pid, int *fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	char **env;
	int p[2], e;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	/* Not the agent's blocked signals or ignored SIGPIPE. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	/* Its own process group: a ^C to the agent is not for it. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	env = child_env();
	e = posix_spawn(pid, v->v[0], &fa, &at, v->v, env);
	env_free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		errno = e;
		return -1;
	}
	*fd = p[0];
	return 0;
}

static const struct action *
find_action(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

int
iwm_action_request(struct iwm_serve_opts *o, struct iwm_users *users,
    struct MHD_Connection *c, const char *name, const char *method)
{
	const struct iwm_serve_root *mig = NULL;
	const struct action *a;
	struct MHD_Response *resp;
	struct iwm_buf why = { 0 };
	struct args v = { .n = 0 };
	struct run *r;
	pthread_attr_t pa;
	pthread_t th;
	enum MHD_Result ret;
	char user[72] = "", host[64], since[32], *u = NULL, *pass = NULL;
	size_t i;
	int fd;
	pid_t pid;

	if ((a = find_action(name)) == NULL)
		return iwm_http_reply(c, 404, "no such action (see iwm-protocol(7), "
		    "ACTIONS)");
	if (strcmp(method, "POST") != 0)
		return iwm_http_reply(c, 405, "POST only");
	iwm_http_peer(c, host, sizeof(host));
	/* The credentials were checked by serve.c: only the name is kept. */
	if (iwm_http_basic(c, &u, &pass) == 0) {
		OPENSSL_cleanse(pass, strlen(pass));
		if (strlen(u) < sizeof(user))
			memcpy(user, u, strlen(u) + 1);
	}
	free(pass);
	free(u);
	if (!iwm_user_valid(user) || !iwm_users_admin(users, user)) {
		iwm_http_log("%s: action %s refused: user '%s' has not the "
		    "admin role", host, a->name, iwm_user_valid(user) ? user : "?");
		return iwm_http_reply(c, 403, "action %s needs a user with the "
		    "admin role (iwm-serve --add-user NAME --role admin)",
		    a->name);
	}
	if (o->tool == NULL)
		return iwm_http_reply(c, 503, "actions need an agent started with "
		    "--tool (this one serves --root directories only)");
	for (i = 0; i < o->nroots; i++)
		if (strcmp(o->roots[i].name, "migration") == 0)
			mig = &o->roots[i];
	if (mig == NULL || o->temp_dir == NULL)
		return iwm_http_reply(c, 503, "actions need the migration root: the "
		    "tool gave no temp path");

	pthread_mutex_lock(&amu);
	if (draining) {
		pthread_mutex_unlock(&amu);
		return iwm_http_reply(c, 503, "the agent is stopping");
	}
	if (current_name != NULL) {
		const char *busy = current_name;

		snprintf(since, sizeof(since), "%s", current_since);
		pthread_mutex_unlock(&amu);
		iwm_http_log("%s: action %s by %s refused: busy with %s", host,
		    a->name, user, busy);
		return iwm_http_reply(c, 409, "busy: %s running since %s", busy,
		    since);
	}
	/* Reserved under the lock; released by the runner or below. */
	current_name = a->name;
	{
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(current_since, sizeof(current_since),
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	pthread_mutex_unlock(&amu);

	if (strcmp(a->name, "services-stop") == 0) {
		struct iwm_buf d = { 0 };

		/* The target's own state lives beside the migration root. */
		iwm_buf_printf(&d, "%s/iwm-target", o->temp_dir);
		if (mkdir(d.ptr, 0700) == -1 && errno != EEXIST)
			iwm_buf_printf(&why, "%s: %s", d.ptr, strerror(errno));
		iwm_buf_free(&d);
	}
	if (why.len > 0 || build(o, mig, a, &v, &why) == -1) {
		iwm_http_log("%s: action %s by %s: refused: %s", host,
		    a->name, user, why.ptr);
		ret = not_started(c, a->name, why.ptr, IWM_EXIT_DATA);
		goto release;
	}
	if (spawn(&v, &pid, &fd) == -1) {
		int e = errno;

		iwm_http_log("%s: action %s by %s: cannot run %s: %s", host,
		    a->name, user, v.v[0], strerror(e));
		iwm_buf_printf(&why, "cannot run %s: %s%s", v.v[0],
		    strerror(e), e == ENOENT ? " (not installed next to "
		    "iwm-serve)" : "");
		ret = not_started(c, a->name, why.ptr, IWM_EXIT_UNAVAIL);
		goto release;
	}
	iwm_http_log("%s: action %s by %s: started %s (pid %ld)", host,
	    a->name, user, v.v[0], (long)pid);

	r = iwm_calloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->conn = c;
	r->client = 1;
	r->refs = 2;		/* the runner and the response */
	r->lastnl = 1;
	r->name = a->name;
	r->pid = pid;
	r->fd = fd;
	r->start = time(NULL);
	pthread_mutex_lock(&amu);
	streams++;		/* act_free counts it out */
	pthread_mutex_unlock(&amu);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1 << 14,
	    act_read, r, act_free);
	if (resp == NULL) {
		pthread_mutex_lock(&amu);
		streams--;
		pthread_mutex_unlock(&amu);
		r->client = 0;
		r->refs = 1;
		ret = MHD_NO;
	} else {
		MHD_add_response_header(resp, "Content-Type",
		    "text/plain; charset=utf-8");
		MHD_add_response_header(resp, "X-Content-Type-Options",
		    "nosniff");
	}
	pthread_attr_init(&pa);
	pthread_attr_setdetachstate(&pa, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &pa, runner, r) != 0) {
		/* Cannot happen short of resources: wait for it here. */
		iwm_http_log("action %s: no thread; output goes nowhere",
		    a->name);
		r->client = 0;
		runner(r);
	}
	pthread_attr_destroy(&pa);
	if (resp != NULL) {
		ret = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
	}
	args_free(&v);
	iwm_buf_free(&why);
	return ret;
release:
	pthread_mutex_lock(&amu);
	current_name = NULL;
	pthread_cond_broadcast(&acv);
	pthread_mutex_unlock(&amu);
	args_free(&v);
	iwm_buf_free(&why);
	return ret;
}

/*
 * Before the daemon stops: refuse new actions, wait for a running one
 * to end (its program is not killed), then up to DRAIN_SEND seconds for
 * its client to get the end of the output.
 */
#define DRAIN_SEND	10

void
iwm_actions_drain(void)
{
	struct timespec ts;

	pthread_mutex_lock(&amu);
	draining = 1;
	if (current_name != NULL)
		iwm_http_log("waiting for action %s to end", current_name);
	while (current_name != NULL)
		pthread_cond_wait(&acv, &amu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DRAIN_SEND;
	while (streams > 0)
		if (pthread_cond_timedwait(&acv, &amu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&amu);
}
