/* icewarp.c: run the IceWarp tool and parse what it prints. */
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "icewarp.h"

#define ICEWARP_CONF	"/etc/icewarp/icewarp.conf"

extern char **environ;

/* Read KEY="..." (IWS_INSTALL_DIR, ...) from the shell-syntax icewarp.conf. */
static char *
conf_value(const char *conf, const char *key)
{
	struct iwm_lines l;
	char *line, *val = NULL;
	size_t len, klen = strlen(key);

	if (iwm_lines_open(&l, conf) == -1)
		return NULL;
	while (iwm_lines_next(&l, &line, &len) == 1) {
		char *p = line;
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		p += klen + 1;
		n = strlen(p);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
			p++;
			n -= 2;
		}
		while (n > 1 && p[n - 1] == '/')
			n--;
		free(val);
		val = iwm_strndup(p, n);
	}
	iwm_lines_close(&l);
	if (val == NULL)
		iwm_seterr("%s: no %s", conf, key);
	return val;
}

static const char *
conf_path(void)
{
	const char *conf = getenv("IWM_ICEWARP_CONF");

	return conf == NULL || *conf == '\0' ? ICEWARP_CONF : conf;
}

char *
iwm_icewarp_conf_get(const char *key, const char **conf)
{
	*conf = conf_path();
	return conf_value(*conf, key);
}

int
iwm_tool_find(struct iwm_tool *t, const char *opt)
{
	const char *env = getenv("IWM_TOOL"), *conf;
	char *dir;

	memset(t, 0, sizeof(*t));
	if (opt == NULL && env != NULL && *env != '\0')
		opt = env;
	if (opt != NULL) {
		if (access(opt, X_OK) == -1) {
			iwm_seterr_errno("IceWarp tool %s", opt);
			return -1;
		}
		t->path = iwm_strdup(opt);
		return 0;
	}
	conf = conf_path();
	if (access(conf, R_OK) == -1) {
		iwm_seterr("no IceWarp tool found: give --tool PATH or set "
		    "IWM_TOOL (%s: %s)", conf, strerror(errno));
		return -1;
	}
	if ((dir = conf_value(conf, "IWS_INSTALL_DIR")) == NULL)
		return -1;
	t->install_dir = dir;
	t->path = iwm_malloc(strlen(dir) + sizeof("/tool.sh"));
	memcpy(t->path, dir, strlen(dir));
	memcpy(t->path + strlen(dir), "/tool.sh", sizeof("/tool.sh"));
	if (access(t->path, X_OK) == -1) {
		iwm_seterr_errno("IceWarp tool %s (from %s)", t->path, conf);
		iwm_tool_free(t);
		return -1;
	}
	return 0;
}

/* "tool export account *@*": never more than the verb and object. */
static void
describe(struct iwm_buf *b, const struct iwm_tool *t, const char *const *argv)
{
	size_t i;

	iwm_buf_adds(b, t->path);
	for (i = 0; argv[i] != NULL && i < 3; i++) {
		iwm_buf_addc(b, ' ');
		iwm_buf_adds(b, argv[i]);
	}
	if (argv[i] != NULL)
		iwm_buf_adds(b, " ...");
}

/*
 * A tool call that does not finish within the timeout is killed (its
 * whole process group) by a watchdog thread: reading its output then
 * ends, and the call fails naming the command.  IWM_TOOL_TIMEOUT
 * (seconds) changes the default.
 */
#define TOOL_TIMEOUT	300

struct watchdog {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pid_t		 pid;
	unsigned	 secs;
	int		 done, fired;
};

static unsigned
tool_timeout(void)
{
	const char *e = getenv("IWM_TOOL_TIMEOUT");
	long v;

	if (e != NULL && iwm_parse_int(e, 1, 86400 * 7, &v) == 0)
		return (unsigned)v;
	return TOOL_TIMEOUT;
}

static void *
watchdog_run(void *arg)
{
	struct watchdog *w = arg;
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += w->secs;
	pthread_mutex_lock(&w->mu);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	if (!w->done) {
		w->fired = 1;
		kill(-w->pid, SIGKILL);
		kill(w->pid, SIGKILL);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * One tool call: started by call_start, its output read by call_finish
 * or dropped by call_cancel, either of which frees it.  A call that
 * could not start keeps the message for call_finish to give, so that a
 * call started ahead fails in its turn, not before the calls that
 * precede it.
 */
struct iwm_tool_call {
	struct iwm_tool_call *next;	/* calls started ahead (iwm_tool) */
	char		**av;		/* the tool's arguments, owned */
	struct iwm_buf	 cmd;		/* describe() */
	char		*failed;	/* why it did not start, or NULL */
	int		 out, errfd;
	pid_t		 pid;
	struct watchdog	 w;
	pthread_t	 wt;
	int		 watching;
};

struct iwm_tool_ahead {
	struct iwm_tool_call *first;
};

static struct iwm_tool_call *
call_start(const struct iwm_tool *t, const char *const *argv)
{
	struct iwm_tool_call *c = iwm_calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	const char **av;
	size_t n, i;
	int out_pipe[2], rc;
	char errname[] = "/tmp/iwm-tool-err.XXXXXX";
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t dfl;

	for (n = 0; argv[n] != NULL; n++)
		;
	c->av = iwm_calloc(n + 1, sizeof(*c->av));
	for (i = 0; i < n; i++)
		c->av[i] = iwm_strdup(argv[i]);
	c->out = c->errfd = -1;
	describe(&c->cmd, t, argv);
	av = iwm_calloc(n + 2, sizeof(*av));
	av[0] = t->path;
	memcpy(av + 1, argv, n * sizeof(*av));
	/*
	 * Standard error goes to an unlinked file so it cannot block; not
	 * inherited by the calls started while this one runs.
	 */
	if ((c->errfd = mkostemp(errname, O_CLOEXEC)) == -1) {
		iwm_seterr_errno("temporary file");
		goto fail;
	}
	unlink(errname);
	if (pipe2(out_pipe, O_CLOEXEC) == -1) {
		iwm_seterr_errno("pipe");
		goto fail;
	}
	/* posix_spawn: no copy of this process for each of many calls. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, c->errfd, STDERR_FILENO);
	posix_spawnattr_init(&sa);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	/* Its own process group: a timeout stops its children too. */
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&c->pid, t->path, &fa, &sa, (char *const *)av,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(out_pipe[1]);
	if (rc != 0) {
		errno = rc;
		iwm_seterr_errno("cannot run %s", t->path);
		close(out_pipe[0]);
		goto fail;
	}
	c->out = out_pipe[0];
	c->w.pid = c->pid;
	c->w.secs = tool_timeout();
	pthread_mutex_init(&c->w.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->w.cv, &ca);
	pthread_condattr_destroy(&ca);
	c->watching = pthread_create(&c->wt, NULL, watchdog_run, &c->w) == 0;
	free(av);
	return c;
fail:
	c->failed = iwm_strdup(iwm_err());
	if (c->errfd != -1)
		close(c->errfd);
	c->errfd = -1;
	free(av);
	return c;
}

/* Reap C's process and stop its watchdog. */
static void
call_wait(struct iwm_tool_call *c, int *status)
{
	while (waitpid(c->pid, status, 0) == -1 && errno == EINTR)
		;
	if (c->watching) {
		pthread_mutex_lock(&c->w.mu);
		c->w.done = 1;
		pthread_cond_signal(&c->w.cv);
		pthread_mutex_unlock(&c->w.mu);
		pthread_join(c->wt, NULL);
	}
	pthread_cond_destroy(&c->w.cv);
	pthread_mutex_destroy(&c->w.mu);
}

static void
call_free(struct iwm_tool_call *c)
{
	size_t i;

	if (c->errfd != -1)
		close(c->errfd);
	for (i = 0; c->av[i] != NULL; i++)
		free(c->av[i]);
	free(c->av);
	free(c->failed);
	iwm_buf_free(&c->cmd);
	free(c);
}

/* Nobody reads C: stop it (the tool must not wait on a pipe). */
static void
call_cancel(struct iwm_tool_call *c)
{
	int status;

	if (c->failed == NULL) {
		close(c->out);
		kill(-c->pid, SIGTERM);
		kill(c->pid, SIGTERM);
		call_wait(c, &status);
	}
	call_free(c);
}

static int
call_finish(struct iwm_tool_call *c, iwm_tool_line_cb cb, void *arg,
    struct iwm_buf *out)
{
	struct iwm_lines l;
	struct iwm_buf err = { 0 };
	size_t len;
	int status, rc = 0, cbfail = 0;
	char *line;

	if (c->failed != NULL) {
		iwm_seterr("%s", c->failed);
		call_free(c);
		return -1;
	}
	iwm_lines_fdopen(&l, c->out, c->cmd.ptr);
	while (!cbfail && (rc = iwm_lines_next(&l, &line, &len)) == 1) {
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (cb != NULL) {
			if (cb(arg, line, len) == -1)
				cbfail = 1;
		} else if (out != NULL) {
			iwm_buf_add(out, line, len);
			iwm_buf_addc(out, '\n');
		}
	}
	if (cbfail) {
		/* Nobody reads the rest: the tool must not wait on a pipe. */
		kill(-c->pid, SIGTERM);
		kill(c->pid, SIGTERM);
	}
	iwm_lines_close(&l);
	call_wait(c, &status);
	if (c->w.fired) {
		iwm_seterr("%s: no answer after %u seconds: stopped (set "
		    "IWM_TOOL_TIMEOUT to wait longer)", c->cmd.ptr, c->w.secs);
		goto fail;
	}
	if (cbfail || rc == -1)
		goto fail;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char tmp[4096];
		ssize_t r;

		lseek(c->errfd, 0, SEEK_SET);
		while ((r = read(c->errfd, tmp, sizeof(tmp))) > 0 &&
		    err.len < 2048)
			iwm_buf_add(&err, tmp, (size_t)r);
		while (err.len > 0 &&
		    isspace((unsigned char)err.ptr[err.len - 1]))
			err.ptr[--err.len] = '\0';
		if (WIFEXITED(status))
			iwm_seterr("%s: exit status %d%s%s", c->cmd.ptr,
			    WEXITSTATUS(status), err.len > 0 ? ": " : "",
			    err.len > 0 ? err.ptr : "");
		else
			iwm_seterr("%s: killed by signal %d", c->cmd.ptr,
			    WTERMSIG(status));
		goto fail;
	}
	iwm_buf_free(&err);
	call_free(c);
	return 0;
fail:
	iwm_buf_free(&err);
	call_free(c);
	return -1;
}

void
iwm_tool_start(struct iwm_tool *t, const char *const *argv)
{
	struct iwm_tool_call *c = call_start(t, argv), **pp;

	if (t->ahead == NULL)
		t->ahead = iwm_calloc(1, sizeof(*t->ahead));
	for (pp = &t->ahead->first; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = c;
}

/* The call with ARGV started ahead, taken off the list, or NULL. */
static struct iwm_tool_call *
take_ahead(const struct iwm_tool *t, const char *const *argv)
{
	struct iwm_tool_call **pp, *c;
	size_t i;

	if (t->ahead == NULL)
		return NULL;
	for (pp = &t->ahead->first; (c = *pp) != NULL; pp = &c->next) {
		for (i = 0; argv[i] != NULL && c->av[i] != NULL &&
		    strcmp(argv[i], c->av[i]) == 0; i++)
			;
		if (argv[i] == NULL && c->av[i] == NULL) {
			*pp = c->next;
			return c;
		}
	}
	return NULL;
}

int
iwm_tool_run(const struct iwm_tool *t, const char *const *argv,
    iwm_tool_line_cb cb, void *arg, struct iwm_buf *out)
{
	struct iwm_tool_call *c;

	if ((c = take_ahead(t, argv)) == NULL)
		c = call_start(t, argv);
	return call_finish(c, cb, arg, out);
}

void
iwm_tool_free(struct iwm_tool *t)
{
	struct iwm_tool_call *c;

	while (t->ahead != NULL && (c = t->ahead->first) != NULL) {
		t->ahead->first = c->next;
		call_cancel(c);
	}
	free(t->ahead);
	free(t->path);
	free(t->install_dir);
	memset(t, 0, sizeof(*t));
}

int
iwm_parse_name_value(char *line, char **name, char **value)
{
	char *colon = strchr(line, ':');

	if (colon == NULL || colon == line)
		return -1;
	*colon = '\0';
	*name = line;
	*value = colon[1] == ' ' ? colon + 2 : colon + 1;
	return 0;
}

struct getsys {
	const char *const *vars;
	size_t	 nvars;
	char	**values;
	ssize_t	 last;		/* index of the value a continuation extends */
};

/*
 * A line that does not start with one of the requested names is the
 * continuation of a multi-line value (rules XML, for example).
 */
static int
getsys_line(void *arg, char *line, size_t len)
{
	struct getsys *g = arg;
	char *colon = strchr(line, ':');
	size_t i;

	if (colon != NULL) {
		for (i = 0; i < g->nvars; i++) {
			size_t n = strlen(g->vars[i]);

			if ((size_t)(colon - line) == n &&
			    strncasecmp(line, g->vars[i], n) == 0) {
				char *name = NULL, *value = NULL;

				iwm_parse_name_value(line, &name, &value);
				free(g->values[i]);
				g->values[i] = iwm_strdup(value);
				g->last = (ssize_t)i;
				return 0;
			}
		}
	}
	if (g->last >= 0) {
		struct iwm_buf b = { 0 };

		iwm_buf_adds(&b, g->values[g->last]);
		iwm_buf_addc(&b, '\n');
		iwm_buf_add(&b, line, len);
		free(g->values[g->last]);
		g->values[g->last] = iwm_buf_steal(&b);
		return 0;
	}
	iwm_seterr("unexpected tool output '%.80s'", line);
	return -1;
}

int
iwm_tool_get_system(const struct iwm_tool *t, const char *const *vars,
    size_t nvars, char **values)
{
	struct getsys g = { vars, nvars, values, -1 };
	const char **argv = iwm_calloc(nvars + 3, sizeof(*argv));
	size_t i;
	int rc;

	argv[0] = "get";
	argv[1] = "system";
	for (i = 0; i < nvars; i++) {
		values[i] = NULL;
		argv[i + 2] = vars[i];
	}
	rc = iwm_tool_run(t, argv, getsys_line, &g, NULL);
	free(argv);
	for (i = 0; rc == 0 && i < nvars; i++)
		if (values[i] == NULL) {
			iwm_seterr("%s get system: no value printed for %s",
			    t->path, vars[i]);
			rc = -1;
		}
	if (rc == -1)
		for (i = 0; i < nvars; i++) {
			free(values[i]);
			values[i] = NULL;
		}
	return rc;
}

char *
iwm_tool_get1(const struct iwm_tool *t, const char *var)
{
	char *v = NULL;

	if (iwm_tool_get_system(t, &var, 1, &v) == -1)
		return NULL;
	return v;
}

char *
iwm_tool_migration_path(const struct iwm_tool *t, const char *leaf,
    int *local)
{
	char *tp = iwm_tool_get1(t, "C_System_Storage_Dir_TempPath");
	struct iwm_buf b = { 0 };

	*local = 0;
	if (tp == NULL)
		return NULL;
	if (tp[0] != '/') {
		iwm_seterr("the server's temp path '%s' is not a local path "
		    "here", tp);
		free(tp);
		*local = 1;
		return NULL;
	}
	iwm_buf_adds(&b, tp);
	if (b.ptr[b.len - 1] != '/')
		iwm_buf_addc(&b, '/');
	iwm_buf_printf(&b, "iw_migration/%s", leaf);
	free(tp);
	return iwm_buf_steal(&b);
}

int
iwm_tool_set_system(const struct iwm_tool *t, const char *var,
    const char *value)
{
	const char *argv[] = { "set", "system", var, value, NULL };

	return iwm_tool_run(t, argv, NULL, NULL, NULL);
}

int
iwm_csv_feed(struct iwm_csv *c, const char *line, size_t len)
{
	char *r, *w, *end;
	int inq = 0;

	if (!c->pending)
		iwm_buf_reset(&c->rec);
	else
		iwm_buf_addc(&c->rec, '\n');
	iwm_buf_add(&c->rec, line, len);
	/* First find whether the record is complete. */
	for (r = c->rec.ptr, end = r + c->rec.len; r < end; r++)
		if (*r == '"')
			inq = !inq;
	if (inq) {
		c->pending = 1;
		return 0;
	}
	c->pending = 0;
	c->nfields = 0;
	r = w = c->rec.ptr;
	for (;;) {
		char *start = w;

		if (c->nfields == c->cap) {
			c->cap = c->cap == 0 ? 16 : c->cap * 2;
			c->fields = iwm_reallocarray(c->fields, c->cap,
			    sizeof(*c->fields));
		}
		if (r < end && *r == '"') {
			for (r++; r < end; r++) {
				if (*r == '"') {
					if (r + 1 < end && r[1] == '"') {
						*w++ = '"';
						r++;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r;
			}
			if (r < end && *r != ',') {
				iwm_seterr("bad CSV: text after a closing quote");
				return -1;
			}
		} else
			while (r < end && *r != ',')
				*w++ = *r++;
		c->fields[c->nfields++] = start;
		if (r >= end) {
			*w = '\0';
			break;
		}
		/* r is at a comma: the field ends; a final comma ends all. */
		*w++ = '\0';
		r++;
		if (r >= end)
			break;
	}
	return 1;
}

void
iwm_csv_free(struct iwm_csv *c)
{
	iwm_buf_free(&c->rec);
	free(c->fields);
	memset(c, 0, sizeof(*c));
}

void
iwm_csv_quote(struct iwm_buf *b, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		iwm_buf_adds(b, s);
		return;
	}
	iwm_buf_addc(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			iwm_buf_addc(b, '"');
		iwm_buf_addc(b, *p);
	}
	iwm_buf_addc(b, '"');
}

struct exportctx {
	struct iwm_csv	 csv;
	iwm_export_cb	 cb;
	void		*arg;
	size_t		 nvars;
};

static int
export_line(void *arg, char *line, size_t len)
{
	struct exportctx *x = arg;
	int rc;

	if ((rc = iwm_csv_feed(&x->csv, line, len)) <= 0)
		return rc;
	if (x->csv.nfields < x->nvars + 1) {
		iwm_seterr("export line for '%s' has %zu values, expected %zu",
		    x->csv.fields[0], x->csv.nfields - 1, x->nvars);
		return -1;
	}
	return x->cb(x->arg, x->csv.fields, x->csv.nfields);
}

/* The arguments of `tool export KIND PATTERN VAR...`, to free. */
static const char **
export_argv(const char *kind, const char *pattern, const char *const *vars,
    size_t nvars)
{
	const char **argv = iwm_calloc(nvars + 4, sizeof(*argv));

	argv[0] = "export";
	argv[1] = kind;
	argv[2] = pattern;
	if (nvars > 0)
		memcpy(argv + 3, vars, nvars * sizeof(*argv));
	return argv;
}

void
iwm_tool_export_start(struct iwm_tool *t, const char *kind,
    const char *pattern, const char *const *vars, size_t nvars)
{
	const char **argv = export_argv(kind, pattern, vars, nvars);

	iwm_tool_start(t, argv);
	free(argv);
}

int
iwm_tool_export(const struct iwm_tool *t, const char *kind,
    const char *pattern, const char *const *vars, size_t nvars,
    iwm_export_cb cb, void *arg)
{
	struct exportctx x = { { { 0 }, 0, NULL, 0, 0 }, cb, arg, nvars };
	const char **argv = export_argv(kind, pattern, vars, nvars);
	int rc;

	rc = iwm_tool_run(t, argv, export_line, &x, NULL);
	if (rc == 0 && x.csv.pending) {
		iwm_seterr("%s export %s: output ends inside a quoted value",
		    t->path, kind);
		rc = -1;
	}
	iwm_csv_free(&x.csv);
	free(argv);
	return rc;
}

int
iwm_conn_parse(const char *s, struct iwm_conn *c)
{
	char *f[6] = { NULL };
	const char *p = s, *bar = strchr(s, '|');
	const char *end = bar != NULL ? bar : s + strlen(s);
	size_t i;
	long v;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 6; i++) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *fe = semi != NULL ? semi : end;

		f[i] = iwm_strndup(p, (size_t)(fe - p));
		if (semi == NULL) {
			p = end;
			for (i++; i < 6; i++)
				f[i] = iwm_strdup("");
			break;
		}
		p = semi + 1;
	}
	c->dbname = f[0];
	c->user = f[1];
	c->pass = f[2];
	c->host = f[3];
	c->syntax = c->driver = -1;
	if (*f[4] != '\0') {
		if (iwm_parse_int(f[4], 0, 1000, &v) == -1)
			goto bad;
		c->syntax = (int)v;
	}
	if (*f[5] != '\0') {
		if (iwm_parse_int(f[5], 0, 1000, &v) == -1)
			goto bad;
		c->driver = (int)v;
	}
	free(f[4]);
	free(f[5]);
	if (*c->dbname == '\0') {
		iwm_seterr("connection string has no database name");
		iwm_conn_free(c);
		return -1;
	}
	return 0;
bad:
	iwm_seterr("connection string: bad syntax or driver code");
	free(f[4]);
	free(f[5]);
	iwm_conn_free(c);
	return -1;
}

void
iwm_conn_free(struct iwm_conn *c)
{
	free(c->dbname);
	free(c->user);
	free(c->pass);
	free(c->host);
	memset(c, 0, sizeof(*c));
}
