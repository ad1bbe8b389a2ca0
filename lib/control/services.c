/*
 * services.c: switch an IceWarp server's services off and on through
 * its tool (the migrator guide's "Source Server Stop", "Target Server
 * Restore", "Target Server Start") and restart its modules ("Modules
 * Restart").  Modules keep running: only the service switches change.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define STATE_HEADER	"#iwm-services 1"
#define STATE_END	"#iwm-end"
#define CONTROL_VAR	"C_Mail_Control_Active"
#define WEB_VAR		"C_Mail_Control_DisableWeb"

int iwm_ctl_status;

static int
fail(int status)
{
	iwm_ctl_status = status;
	return -1;
}

static const char *
pol_name(enum iwm_polarity p)
{
	return p == IWM_POL_ENABLE ? "enable" : "disable";
}

static int
pol_parse(const char *s, enum iwm_polarity *p)
{
	if (strcmp(s, "enable") == 0)
		*p = IWM_POL_ENABLE;
	else if (strcmp(s, "disable") == 0)
		*p = IWM_POL_DISABLE;
	else
		return -1;
	return 0;
}

/* "0", "" and "false" are 0; everything else (1, 2, true) is not. */
static int
is_zero(const char *v)
{
	return *v == '\0' || strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0;
}

int
iwm_switch_on(enum iwm_polarity p, const char *value)
{
	return p == IWM_POL_ENABLE ? !is_zero(value) : is_zero(value);
}

const char *
iwm_switch_offvalue(enum iwm_polarity p)
{
	return p == IWM_POL_ENABLE ? "0" : "1";
}

void
iwm_switches_free(struct iwm_switches *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].var);
		free(s->v[i].value);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void
add_switch(struct iwm_switches *s, const char *name, const char *var,
    enum iwm_polarity pol, const char *value)
{
	struct iwm_switch *w;

	s->v = iwm_reallocarray(s->v, s->n + 1, sizeof(*s->v));
	w = &s->v[s->n++];
	w->name = iwm_strdup(name);
	w->var = iwm_strdup(var);
	w->pol = pol;
	w->value = value != NULL ? iwm_strdup(value) : NULL;
}

static const struct iwm_switch *
find_var(const struct iwm_switches *s, const char *var)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcasecmp(s->v[i].var, var) == 0)
			return &s->v[i];
	return NULL;
}

/* Split LINE at runs of SEP characters into at most MAX words. */
static size_t
split(char *line, const char *sep, char **w, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p != '\0' && n < max) {
		p += strspn(p, sep);
		if (*p == '\0')
			break;
		w[n++] = p;
		p += strcspn(p, sep);
		if (*p != '\0')
			*p++ = '\0';
	}
	return n;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s == '_' || *s == '-' || (*s >= '0' && *s <= '9') ||
		    (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

int
iwm_switches_load(struct iwm_switches *s, const char *file)
{
	struct iwm_lines l;
	char *path = NULL, *line, *w[4];
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	if (file == NULL && (file = path = iwm_datafile("services")) == NULL)
		return fail(IWM_EXIT_NOINPUT);
	if (iwm_lines_open(&l, file) == -1) {
		free(path);
		return fail(IWM_EXIT_NOINPUT);
	}
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		enum iwm_polarity pol;
		size_t n;

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (line[strspn(line, " \t")] == '#' ||
		    line[strspn(line, " \t")] == '\0')
			continue;
		n = split(line, " \t", w, 4);
		if (n != 3 || !valid_name(w[0]) || !valid_name(w[1]) ||
		    pol_parse(w[2], &pol) == -1) {
			iwm_seterr("%s:%llu: expected NAME VARIABLE "
			    "enable|disable", file, (unsigned long long)l.lineno);
			rc = -1;
			break;
		}
		if (find_var(s, w[1]) != NULL) {
			iwm_seterr("%s:%llu: %s listed twice", file,
			    (unsigned long long)l.lineno, w[1]);
			rc = -1;
			break;
		}
		add_switch(s, w[0], w[1], pol, NULL);
	}
	iwm_lines_close(&l);
	if (rc == 0 && s->n == 0) {
		iwm_seterr("%s: no service switch listed", file);
		rc = -1;
	}
	free(path);
	if (rc == -1) {
		iwm_switches_free(s);
		return fail(IWM_EXIT_DATA);
	}
	return 0;
}

int
iwm_switches_read_state(struct iwm_switches *s, const char *file)
{
	struct iwm_lines l;
	char *line;
	size_t len;
	int rc, ended = 0;

	memset(s, 0, sizeof(*s));
	if (iwm_lines_open(&l, file) == -1)
		return fail(errno == ENOENT ? IWM_EXIT_NOINPUT : IWM_EXIT_IO);
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		enum iwm_polarity pol;
		char *f[4], *p = line;
		size_t n;

		if (l.lineno == 1) {
			if (strcmp(line, STATE_HEADER) != 0) {
				iwm_seterr("%s:1: not a services state (no "
				    "'%s' line)", file, STATE_HEADER);
				rc = -1;
				break;
			}
			continue;
		}
		if (ended) {
			iwm_seterr("%s:%llu: text after '%s'", file,
			    (unsigned long long)l.lineno, STATE_END);
			rc = -1;
			break;
		}
		if (strcmp(line, STATE_END) == 0) {
			ended = 1;
			continue;
		}
		if (line[0] == '#')
			continue;
		/* NAME TAB VARIABLE TAB POLARITY TAB VALUE (may be empty) */
		for (n = 0; n < 4; n++) {
			f[n] = p;
			if (n < 3) {
				if ((p = strchr(p, '\t')) == NULL)
					break;
				*p++ = '\0';
			}
		}
		if (n != 4 || strchr(f[3], '\t') != NULL ||
		    !valid_name(f[0]) || !valid_name(f[1]) ||
		    pol_parse(f[2], &pol) == -1) {
			iwm_seterr("%s:%llu: expected NAME<TAB>VARIABLE<TAB>"
			    "enable|disable<TAB>VALUE", file,
			    (unsigned long long)l.lineno);
			rc = -1;
			break;
		}
		if (find_var(s, f[1]) != NULL) {
			iwm_seterr("%s:%llu: %s recorded twice", file,
			    (unsigned long long)l.lineno, f[1]);
			rc = -1;
			break;
		}
		add_switch(s, f[0], f[1], pol, f[3]);
	}
	iwm_lines_close(&l);
	if (rc == 0 && l.lineno == 0) {
		iwm_seterr("%s: empty, not a services state", file);
		rc = -1;
	} else if (rc == 0 && !ended) {
		iwm_seterr("%s: no '%s' line: the state is cut short", file,
		    STATE_END);
		rc = -1;
	}
	if (rc == -1) {
		iwm_switches_free(s);
		return fail(IWM_EXIT_DATA);
	}
	return 0;
}

int
iwm_switches_get(struct iwm_switches *s, const struct iwm_tool *t)
{
	const char **vars = iwm_calloc(s->n + 1, sizeof(*vars));
	char **vals = iwm_calloc(s->n + 1, sizeof(*vals));
	size_t i, known = 0;
	int rc;

	for (i = 0; i < s->n; i++) {
		vars[i] = s->v[i].var;
		free(s->v[i].value);
		s->v[i].value = NULL;
	}
	rc = iwm_tool_get_system(t, vars, s->n, vals);
	if (rc == 0) {
		for (i = 0; i < s->n; i++)
			s->v[i].value = vals[i];
		known = s->n;
	} else {
		/*
		 * The tool fails the whole call for one name it does not
		 * know (an older IceWarp): ask one by one to find it.
		 */
		char *err = iwm_strdup(iwm_err());

		for (i = 0; i < s->n; i++) {
			if ((s->v[i].value = iwm_tool_get1(t, vars[i])) != NULL)
				known++;
			else {
				free(err);
				err = iwm_strdup(iwm_err());
			}
		}
		/*
		 * None known: either all are too new for this server or the
		 * tool does not work.  Its mail path tells (every version
		 * has it).
		 */
		if (known == 0) {
			char *probe = iwm_tool_get1(t,
			    "C_System_Storage_Dir_MailPath");

			if (probe == NULL) {
				iwm_seterr("%s", err);
				free(err);
				free(vars);
				free(vals);
				return fail(IWM_EXIT_UNAVAIL);
			}
			free(probe);
		}
		for (i = 0; i < s->n; i++)
			if (s->v[i].value == NULL)
				iwm_warnx("%s (%s): unknown to this server, "
				    "skipped", s->v[i].var, s->v[i].name);
		free(err);
	}
	free(vars);
	free(vals);
	return 0;
}

char *
iwm_services_default_state(const struct iwm_tool *t)
{
	int local;
	char *p = iwm_tool_migration_path(t, "services.state", &local);

	if (p == NULL && local) {
		iwm_seterr("%s: give --state FILE", iwm_err());
		fail(IWM_EXIT_USAGE);
	} else if (p == NULL)
		fail(IWM_EXIT_UNAVAIL);
	return p;
}

int
iwm_ctl_mkparent(const char *path)
{
	char *p = iwm_strdup(path), *slash = strrchr(p, '/');

	if (slash == NULL || slash == p) {
		free(p);
		return 0;
	}
	*slash = '\0';
	if (iwm_mkdirs(p, 0700) == -1) {
		free(p);
		return fail(IWM_EXIT_IO);
	}
	free(p);
	return 0;
}

int
iwm_ctl_write_file(const char *path, const char *data, size_t len,
    int replace)
{
	struct iwm_buf tmp = { 0 };
	const char *slash = strrchr(path, '/');
	size_t off = 0;
	int fd, dfd, saved;

	iwm_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp.ptr)) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		iwm_buf_free(&tmp);
		return fail(IWM_EXIT_IO);
	}
	if (fchmod(fd, 0600) == -1)
		goto bad;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			goto bad;
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto bad;
	}
	fd = -1;
	if (replace ? rename(tmp.ptr, path) == -1 :
	    link(tmp.ptr, path) == -1) {
		saved = errno;
		unlink(tmp.ptr);
		errno = saved;
		iwm_seterr_errno("%s", path);
		iwm_buf_free(&tmp);
		errno = saved;
		return fail(IWM_EXIT_IO);
	}
	if (!replace)
		unlink(tmp.ptr);
	/* The directory entry too. */
	if (slash != NULL) {
		char *dir = iwm_strndup(path, slash == path ? 1 :
		    (size_t)(slash - path));

		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	iwm_buf_free(&tmp);
	return 0;
bad:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp.ptr);
	errno = saved;
	iwm_seterr_errno("%s", tmp.ptr);
	iwm_buf_free(&tmp);
	return fail(IWM_EXIT_IO);
}

static int
record_state(const struct iwm_svc_opts *o, const struct iwm_switches *s)
{
	struct iwm_buf b = { 0 };
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	iwm_buf_printf(&b, "%s\n# recorded by iwm-services stop at %s\n"
	    "# NAME<TAB>VARIABLE<TAB>POLARITY<TAB>VALUE\n", STATE_HEADER, when);
	for (i = 0; i < s->n; i++) {
		const struct iwm_switch *w = &s->v[i];

		if (w->value == NULL)
			continue;
		if (strpbrk(w->value, "\t\r\n") != NULL) {
			iwm_seterr("%s: value holds a tab or a line break, "
			    "cannot record it", w->var);
			iwm_buf_free(&b);
			return fail(IWM_EXIT_DATA);
		}
		iwm_buf_printf(&b, "%s\t%s\t%s\t%s\n", w->name, w->var,
		    pol_name(w->pol), w->value);
	}
	iwm_buf_printf(&b, "%s\n", STATE_END);
	if (iwm_ctl_mkparent(o->state) == -1) {
		iwm_buf_free(&b);
		return -1;
	}
	rc = iwm_ctl_write_file(o->state, b.ptr, b.len, 0);
	iwm_buf_free(&b);
	return rc;
}

/*
 * Set W to VALUE unless it holds that already; one line to OUT either
 * way.  Returns 0, or 1 when the tool refused (reported).
 */
static int
apply(const struct iwm_svc_opts *o, const struct iwm_switch *w,
    const char *value)
{
	const char *state = iwm_switch_on(w->pol, value) ? "on" : "off";

	if (strcmp(w->value, value) == 0) {
		fprintf(o->out, "%s\t%s\t%s\t%s\t(already)\n", w->name, state,
		    w->var, value);
		return 0;
	}
	if (o->dry_run) {
		fprintf(o->out, "%s\t%s\t%s\t%s\t(would set; now %s)\n",
		    w->name, state, w->var, value, w->value);
		return 0;
	}
	if (iwm_tool_set_system(o->tool, w->var, value) == -1) {
		iwm_warnx("%s (%s): cannot set it to %s: %s", w->var, w->name,
		    value, iwm_err());
		return 1;
	}
	fprintf(o->out, "%s\t%s\t%s\t%s\t(was %s)\n", w->name, state, w->var,
	    value, w->value);
	return 0;
}

int
iwm_services_stop(const struct iwm_svc_opts *o)
{
	struct iwm_switches s, old;
	struct stat st;
	size_t i;
	int failed = 0;

	if (iwm_switches_load(&s, NULL) == -1)
		return -1;
	if (iwm_switches_get(&s, o->tool) == -1) {
		iwm_switches_free(&s);
		return -1;
	}
	/*
	 * A state that exists records what really ran before the first
	 * stop: never replace it with the switched-off values.
	 */
	if (stat(o->state, &st) == 0) {
		if (iwm_switches_read_state(&old, o->state) == -1) {
			iwm_switches_free(&s);
			return -1;
		}
		iwm_switches_free(&old);
		fprintf(o->out, "# %s exists: kept, not recorded again\n",
		    o->state);
	} else if (errno != ENOENT) {
		iwm_seterr_errno("%s", o->state);
		iwm_switches_free(&s);
		return fail(IWM_EXIT_IO);
	} else if (o->dry_run)
		fprintf(o->out, "# would record the switches in %s\n", o->state);
	else {
		if (record_state(o, &s) == -1) {
			if (errno == EEXIST)
				iwm_seterr("%s appeared while recording: "
				    "another stop runs?", o->state);
			iwm_switches_free(&s);
			return -1;
		}
		fprintf(o->out, "# recorded in %s\n", o->state);
	}
	for (i = 0; i < s.n; i++) {
		const struct iwm_switch *w = &s.v[i];
		const char *to = iwm_switch_offvalue(w->pol);

		if (w->value == NULL)
			continue;
		if (o->keep_control && strcasecmp(w->var, CONTROL_VAR) == 0)
			to = "1";
		failed |= apply(o, w, to);
	}
	iwm_switches_free(&s);
	return failed;
}

int
iwm_services_start(const struct iwm_svc_opts *o)
{
	struct iwm_switches rec, now;
	const char *file = o->from != NULL ? o->from : o->state;
	size_t i;
	int failed = 0;

	if (iwm_switches_read_state(&rec, file) == -1) {
		if (iwm_ctl_status == IWM_EXIT_NOINPUT)
			iwm_seterr("%s: no services state (recorded by "
			    "iwm-services stop): %s", file, strerror(errno));
		return -1;
	}
	/* What the server holds now, in the same order. */
	memset(&now, 0, sizeof(now));
	for (i = 0; i < rec.n; i++)
		add_switch(&now, rec.v[i].name, rec.v[i].var, rec.v[i].pol,
		    NULL);
	if (now.n > 0 && iwm_switches_get(&now, o->tool) == -1) {
		iwm_switches_free(&rec);
		iwm_switches_free(&now);
		return -1;
	}
	/*
	 * The control channel and web first, the mail services last: the
	 * reverse of the order stop switches them off.
	 */
	for (i = rec.n; i-- > 0;) {
		if (now.v[i].value == NULL)
			continue;
		failed |= apply(o, &now.v[i], rec.v[i].value);
	}
	iwm_switches_free(&rec);
	iwm_switches_free(&now);
	return failed;
}

int
iwm_services_status(const struct iwm_svc_opts *o)
{
	struct iwm_switches s;
	size_t i;

	if (iwm_switches_load(&s, NULL) == -1)
		return -1;
	if (iwm_switches_get(&s, o->tool) == -1) {
		iwm_switches_free(&s);
		return -1;
	}
	for (i = 0; i < s.n; i++) {
		const struct iwm_switch *w = &s.v[i];

		if (w->value == NULL)
			continue;
		fprintf(o->out, "%s\t%s\t%s\t%s\n", w->name,
		    iwm_switch_on(w->pol, w->value) ? "on" : "off", w->var,
		    strpbrk(w->value, "\t\n") != NULL ? "?" : w->value);
	}
	iwm_switches_free(&s);
	return 0;
}

/*
 * The installation directory: C_InstallPath as the server reports it,
 * else IWS_INSTALL_DIR of icewarp.conf (when the tool was found there).
 */
static char *
install_dir(const struct iwm_tool *t)
{
	char *p = iwm_tool_get1(t, "C_InstallPath");
	size_t n;

	if (p != NULL && iwm_path_is_windows(p)) {
		iwm_seterr("the server is installed in '%s' (Windows): "
		    "restart its IceWarp services there (IceWarpSMTP, "
		    "IceWarpPOP3, IceWarpControl, IceWarpIM, IceWarpCalendar)",
		    p);
		free(p);
		fail(IWM_EXIT_UNAVAIL);
		return NULL;
	}
	if ((p == NULL || p[0] != '/') && t->install_dir != NULL) {
		free(p);
		p = iwm_strdup(t->install_dir);
	}
	if (p == NULL || p[0] != '/') {
		iwm_seterr("cannot tell the server's installation directory "
		    "(C_InstallPath '%s')", p != NULL ? p : "");
		free(p);
		fail(IWM_EXIT_UNAVAIL);
		return NULL;
	}
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
iwm_services_restart(const struct iwm_svc_opts *o)
{
	struct iwm_buf script = { 0 };
	char *dir, *v;
	double start;
	pid_t pid;
	int status;

	if ((dir = install_dir(o->tool)) == NULL)
		return -1;
	iwm_buf_printf(&script, "%s/icewarpd.sh", dir);
	free(dir);
	if (o->dry_run) {
		fprintf(o->out, "# would run %s --restart all\n", script.ptr);
		iwm_buf_free(&script);
		return 0;
	}
	if (access(script.ptr, X_OK) == -1) {
		iwm_seterr_errno("%s", script.ptr);
		iwm_buf_free(&script);
		return fail(IWM_EXIT_UNAVAIL);
	}
	fprintf(o->out, "# running %s --restart all\n", script.ptr);
	fflush(o->out);
	fflush(stderr);
	start = now_sec();
	if ((pid = fork()) == -1) {
		iwm_seterr_errno("fork");
		iwm_buf_free(&script);
		return fail(IWM_EXIT_UNAVAIL);
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		/* Its output goes where ours goes (the agent streams it). */
		if (fileno(o->out) != STDOUT_FILENO)
			dup2(fileno(o->out), STDOUT_FILENO);
		execl(script.ptr, script.ptr, "--restart", "all", (char *)NULL);
		fprintf(stderr, "%s: cannot run %s: %s\n", iwm_progname,
		    script.ptr, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			iwm_seterr("%s --restart all: exit status %d",
			    script.ptr, WEXITSTATUS(status));
		else
			iwm_seterr("%s --restart all: killed by signal %d",
			    script.ptr, WTERMSIG(status));
		iwm_buf_free(&script);
		return fail(IWM_EXIT_UNAVAIL);
	}
	/* The modules are back when the tool answers again. */
	for (;;) {
		if ((v = iwm_tool_get1(o->tool, "C_Version")) != NULL) {
			fprintf(o->out, "# the server answers again after "
			    "%.0f s (C_Version %s)\n", now_sec() - start, v);
			free(v);
			break;
		}
		if (now_sec() - start >= (double)o->wait) {
			char *last = iwm_strdup(iwm_err());

			iwm_seterr("%s --restart all ran, but the server did "
			    "not answer 'get system C_Version' within %ld s "
			    "(last error: %s)", script.ptr, o->wait, last);
			free(last);
			iwm_buf_free(&script);
			return fail(IWM_EXIT_UNAVAIL);
		}
		sleep(1);
	}
	iwm_buf_free(&script);
	return 0;
}
