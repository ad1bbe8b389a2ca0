/*
 * iwm-scan: list what a migration copies, as a manifest.
 *
 * With an IceWarp server (the default) it lists the mailboxes of every
 * account by its mailbox path (archivists and shared mailboxes are not
 * copied with mail; externs land in their default place), the archive
 * when auto-archive is on, and the logs.  With --root NAME=DIR it lists
 * plain directory trees.  Output streams in manifest order.
 *
 * Built twice: bin/iwm-scan without the agent's client, whose libcurl
 * and OpenSSL bring some 30 shared libraries that take longer to load
 * than a small server takes to list, and bin/iwm-scan-target with it
 * (IWM_SCAN_TARGET), which iwm-scan runs in its place for --target.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "account.h"
#include "icewarp.h"
#include "manifest.h"
#include "transfer.h"
#include "walk.h"

enum { ROOT_ARCHIVE = 1, ROOT_LOGS = 2, ROOT_MAIL = 4 };

struct rootarg {
	char	*name;
	char	*dir;
};

/*
 * The mail queues, below the mail path as IceWarp keeps them by default
 * (path.dat lines 8, 9 and 13): messages received and not yet
 * delivered, or waiting to be sent.  --queues lists them so that the
 * final pass, with the source stopped, carries the messages still in
 * flight to the target, which delivers them when it starts.
 */
static const char *const queue_dirs[] = { "_incoming", "_outgoing" };
#define NQUEUES	(sizeof(queue_dirs) / sizeof(queue_dirs[0]))

struct scan {
	struct iwm_walk_stats st[3];	/* archive, logs, mail */
	int	 queues;	/* list the mail queues (a whole server) */
	int	 out_failed;
	int	 incomplete;	/* something was not listed: no #iwm-end */
	struct iwm_walker *walker;
};

static void
usage(int status)
{
	FILE *fp = status == 0 ? stdout : stderr;

	fprintf(fp,
	    "usage: %s [-v] [--tool PATH] [--roots LIST] [--domain DOMAIN]...\n"
	    "\t[--path-map FROM=TO]... [--queues] [--accounts] [--summary] [--hash]\n"
	    "       %s --root NAME=DIR [--root NAME=DIR]... [--hash]\n"
	    "       %s --target URL [--credentials FILE] [--fingerprint SHA256 |"
	    " --cacert FILE]\n"
	    "\t[--proxy URL] [--insecure-http] [--roots LIST] [--domain DOMAIN]..."
	    " [--hash]\n       %s --version\n", iwm_progname, iwm_progname, iwm_progname,
	    iwm_progname);
	if (status == 0)
		fputs(
	    "  --tool PATH             the IceWarp tool (default: $IWM_TOOL, icewarp.conf)\n"
	    "  --roots LIST            mail,archive,logs or a part of it (default: all)\n"
	    "  --domain DOMAIN         only this domain's mailboxes and archive (repeat)\n"
	    "  --path-map FROM=TO      read the server's paths under FROM below TO\n"
	    "  --queues                also the mail queues _incoming and _outgoing\n"
	    "                          (the final pass of a whole server)\n"
	    "  --accounts              print the accounts and their classes, no manifest\n"
	    "  --summary               print counts per root on standard error\n"
	    "  --hash                  add each file's XXH3-128 (for iwm verify --content)\n"
	    "  --root NAME=DIR         list DIR as root NAME, without a server (repeat)\n"
	    IWM_REMOTE_HELP
	    "  -v, --verbose           say what is left out and why\n"
	    "  -h, --help              this help\n"
	    "  --version               print the version and exit\n", fp);
	exit(status);
}

/* The domains the server hosts, for checking --domain. */
static int
collect_domain(void *arg, char **f, size_t nf)
{
	struct iwm_buf *b = arg;

	if (nf >= 1 && f[0][0] != '\0')
		iwm_buf_printf(b, "%s%s", b->len > 0 ? ", " : "", f[0]);
	return 0;
}

/*
 * Each --domain must be one the server hosts: a typo would otherwise
 * list nothing, and a diff of nothing says "equal".  0, or -1 with
 * iwm_err() naming the hosted domains.
 */
static int
check_domains(const struct iwm_tool *t, char *const *domains, size_t n)
{
	struct iwm_buf all = { 0 };
	size_t i;
	int rc = 0;

	if (iwm_tool_export(t, "domain", "*", NULL, 0, collect_domain,
	    &all) == -1) {
		iwm_buf_free(&all);
		return -2;
	}
	iwm_buf_addc(&all, '\0');
	for (i = 0; i < n && rc == 0; i++) {
		const char *p = all.ptr;
		size_t dl = strlen(domains[i]);
		int found = 0;

		while (!found && *p != '\0') {
			size_t l = strcspn(p, ",");

			found = l == dl && strncasecmp(p, domains[i], l) == 0;
			p += l;
			while (*p == ',' || *p == ' ')
				p++;
		}
		if (!found) {
			iwm_seterr("--domain %s: the server hosts no such "
			    "domain; it hosts: %s", domains[i],
			    all.len > 1 ? all.ptr : "(none)");
			rc = -1;
		}
	}
	iwm_buf_free(&all);
	return rc;
}

/*
 * Progress on a terminal: a thread redraws one line on standard error
 * twice a second (entries and bytes listed, rates) from two counters
 * the writer bumps; off a terminal there is none.
 */
static atomic_uint_fast64_t prog_n, prog_b;
static struct {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 on, stop, drawn;
	struct timespec	 t0;
} prog = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
prog_draw(int last)
{
	uint64_t n = atomic_load_explicit(&prog_n, memory_order_relaxed);
	uint64_t b = atomic_load_explicit(&prog_b, memory_order_relaxed);
	double el = since(&prog.t0);
	char bs[32], rs[32];

	iwm_fmt_bytes(bs, sizeof(bs), (double)b);
	iwm_fmt_bytes(rs, sizeof(rs), el > 0 ? (double)b / el : 0);
	fprintf(stderr, "\r%s: %llu entries, %s listed, %.0f entries/s, "
	    "%s/s\033[K%s", iwm_progname, (unsigned long long)n, bs,
	    el > 0 ? (double)n / el : 0, rs, last ? "\n" : "");
	fflush(stderr);
}

static void *
prog_thread(void *arg)
{
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&prog.mu);
	while (!prog.stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 500000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&prog.cv, &prog.mu, &until);
		if (!prog.stop) {
			prog_draw(0);
			prog.drawn = 1;
		}
	}
	pthread_mutex_unlock(&prog.mu);
	return NULL;
}

static void
prog_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &prog.t0);
	prog.on = pthread_create(&prog.th, NULL, prog_thread, NULL) == 0;
}

static void
prog_end(void)
{
	if (!prog.on)
		return;
	pthread_mutex_lock(&prog.mu);
	prog.stop = 1;
	pthread_cond_signal(&prog.cv);
	pthread_mutex_unlock(&prog.mu);
	pthread_join(prog.th, NULL);
	prog.on = 0;
	/* A scan done (or failed) within half a second leaves no line. */
	if (prog.drawn)
		prog_draw(1);
}

#ifdef IWM_SCAN_TARGET
/* --target: each record the agent lists counts as the scan's would. */
static void
prog_line(const char *line, size_t len)
{
	const char *t, *end = line + len;
	uint64_t size = 0;

	if (len == 0 || *line == '#')
		return;
	atomic_fetch_add_explicit(&prog_n, 1, memory_order_relaxed);
	/* PATH TAB TYPE TAB SIZE ... */
	if ((t = memchr(line, '\t', len)) == NULL || end - t < 4 ||
	    t[1] != 'f' || t[2] != '\t')
		return;
	for (t += 3; t < end && *t >= '0' && *t <= '9'; t++)
		size = size * 10 + (uint64_t)(*t - '0');
	atomic_fetch_add_explicit(&prog_b, size, memory_order_relaxed);
}
#endif

/* A line of its own on standard error while the progress line is drawn. */
static void
prog_lock(void)
{
	if (prog.on) {
		pthread_mutex_lock(&prog.mu);
		fputs("\r\033[K", stderr);
	}
}

static void
prog_unlock(void)
{
	if (prog.on)
		pthread_mutex_unlock(&prog.mu);
}

/* --hash: each regular file's content hash in NOTE (serve_hash.c). */
static int hashing;

static int
write_rec(void *arg, const struct iwm_rec *r)
{
	struct scan *s = arg;
	struct iwm_rec hr;
	char note[IWM_HASH_NOTE_SIZE];

	/* Counted for the progress line only: no locked add otherwise. */
	if (prog.on) {
		atomic_fetch_add_explicit(&prog_n, 1, memory_order_relaxed);
		if (r->type == IWM_TYPE_FILE)
			atomic_fetch_add_explicit(&prog_b, r->size,
			    memory_order_relaxed);
	}
	if (hashing && r->type == IWM_TYPE_FILE) {
		hr = *r;
		hr.note = r->source == NULL ? IWM_HASH_UNREADABLE :
		    iwm_hash_note(-1, r->source, strlen(r->source), note);
		r = &hr;
	}

	if (iwm_mwrite_rec(stdout, r) == -1) {
		s->out_failed = 1;
		iwm_seterr_errno("standard output");
		return -1;
	}
	return 0;
}

/*
 * One walker for every tree of the scan: its helper threads stay, and
 * list the next mailbox (NEXT, when not NULL) while this one is emitted.
 */
static int
scan_walk(struct scan *s, const char *root, const char *dir,
    const char *prefix, int self, struct iwm_walk_stats *st,
    const char *next)
{
	if (s->walker == NULL)
		s->walker = iwm_walker_new();
	return iwm_walker_walk(s->walker, root, dir, next, prefix, self, 0,
	    write_rec, s, st);
}

static int
cmp_rootarg(const void *a, const void *b)
{
	return strcmp(((const struct rootarg *)a)->name,
	    ((const struct rootarg *)b)->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_rel(const void *a, const void *b)
{
	const struct iwm_account *x = *(const struct iwm_account *const *)a;
	const struct iwm_account *y = *(const struct iwm_account *const *)b;

	return iwm_path_cmp(x->rel, strlen(x->rel) - 1, y->rel,
	    strlen(y->rel) - 1);
}

static int
scan_plain(struct rootarg *roots, size_t nroots, struct scan *s, int summary)
{
	struct iwm_buf hdr = { 0 };
	size_t i;

	qsort(roots, nroots, sizeof(*roots), cmp_rootarg);
	iwm_buf_adds(&hdr, "scope=");
	for (i = 0; i < nroots; i++) {
		if (i > 0 && strcmp(roots[i].name, roots[i - 1].name) == 0) {
			iwm_warnx("--root %s given twice", roots[i].name);
			return IWM_EXIT_USAGE;
		}
		iwm_buf_printf(&hdr, "%s%s", i > 0 ? "," : "", roots[i].name);
	}
	if (iwm_mwrite_header(stdout, hdr.ptr) == -1)
		return IWM_EXIT_IO;
	iwm_buf_free(&hdr);
	for (i = 0; i < nroots; i++) {
		struct iwm_walk_stats st = { 0 };

		if (scan_walk(s, roots[i].name, roots[i].dir, "", 0, &st,
		    i + 1 < nroots ? roots[i + 1].dir : NULL) == -1) {
			iwm_warn_err();
			return s->out_failed ? IWM_EXIT_IO : IWM_EXIT_NOINPUT;
		}
		if (st.unreadable > 0)
			s->incomplete = 1;
		if (summary) {
			prog_lock();
			fprintf(stderr, "%-8s %10llu files %8llu dirs "
			    "%14llu bytes\n", roots[i].name,
			    (unsigned long long)st.files,
			    (unsigned long long)st.dirs,
			    (unsigned long long)st.bytes);
			prog_unlock();
		}
	}
	return -1;
}

/* Emit the directories above REL that PREV's chain did not emit yet. */
static int
emit_parents(const char *maildir, const char *rel, const char *prev,
    struct scan *s)
{
	size_t i, rl = strlen(rel) - 1;	/* without the final '/' */

	for (i = 0; i < rl; i++) {
		struct iwm_rec r = { 0 };
		struct iwm_buf src = { 0 };
		struct stat sb;
		int rc;

		if (rel[i] != '/')
			continue;
		/* Shared with the previous entry's chain: already out. */
		if (prev != NULL && strncmp(prev, rel, i + 1) == 0)
			continue;
		iwm_buf_printf(&src, "%s%.*s", maildir, (int)i, rel);
		r.op = IWM_OP_LIST;
		r.type = IWM_TYPE_DIR;
		r.root = "mail";
		r.path = rel;
		r.path_len = i;
		if (stat(src.ptr, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			r.mtime_sec = sb.st_mtim.tv_sec;
			r.mtime_nsec = sb.st_mtim.tv_nsec;
			r.mode = sb.st_mode & 07777;
			r.source = src.ptr;
		} else
			r.mode = 0755;	/* an extern's domain, absent here */
		/* The writer takes path_len: no copy of the prefix needed. */
		rc = write_rec(s, &r);
		s->st[2].dirs++;
		iwm_buf_free(&src);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
scan_mail(const struct iwm_accounts *as, struct scan *s)
{
	const struct iwm_account **v = iwm_calloc(as->n + NQUEUES, sizeof(*v));
	struct iwm_account q[NQUEUES];
	const char *prev = NULL;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < as->n; i++)
		if (as->v[i].cls == IWM_ACCT_REGULAR ||
		    as->v[i].cls == IWM_ACCT_EXTERN)
			v[n++] = &as->v[i];
	/* The queues walk like mailboxes, in their place in the order. */
	memset(q, 0, sizeof(q));
	for (i = 0; s->queues && i < NQUEUES; i++) {
		struct iwm_buf d = { 0 }, r = { 0 };
		struct stat sb;

		iwm_buf_printf(&d, "%s%s/", as->maildir, queue_dirs[i]);
		if (stat(d.ptr, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
			iwm_buf_free(&d);
			continue;
		}
		iwm_buf_printf(&r, "%s/", queue_dirs[i]);
		q[i].email = (char *)queue_dirs[i];
		q[i].dir = iwm_buf_steal(&d);
		q[i].rel = iwm_buf_steal(&r);
		q[i].cls = IWM_ACCT_REGULAR;
		v[n++] = &q[i];
	}
	qsort(v, n, sizeof(*v), cmp_rel);
	for (i = 0; i < n && rc == 0; i++) {
		const struct iwm_account *a = v[i];

		if (prev != NULL && strncmp(a->rel, prev, strlen(prev)) == 0) {
			/* An extern's default place holds another mailbox. */
			iwm_warnx("%s: mailbox %s would land inside %s; not "
			    "listed: move one of them on the source", a->email,
			    a->rel, prev);
			s->incomplete = 1;
			continue;
		}
		if (emit_parents(as->maildir, a->rel, prev, s) == -1) {
			rc = -1;
			break;
		}
		/* iwm_walk drops the trailing '/' of the prefix itself. */
		rc = scan_walk(s, "mail", a->dir, a->rel, 1, &s->st[2],
		    i + 1 < n ? v[i + 1]->dir : NULL);
		if (rc == -1 && !s->out_failed) {
			/* Gone since the export: the account went away. */
			iwm_warn_err();
			if (errno == ENOENT)
				s->st[2].vanished++;
			else {
				s->st[2].unreadable++;
				s->incomplete = 1;
			}
			rc = 0;
		}
		prev = a->rel;
	}
	for (i = 0; i < NQUEUES; i++) {
		free(q[i].dir);
		free(q[i].rel);
	}
	free(v);
	return rc;
}

static void
print_accounts(const struct iwm_accounts *as)
{
	size_t i;

	for (i = 0; i < as->n; i++) {
		const struct iwm_account *a = &as->v[i];

		printf("%s\t%s\t%d\t%s\t%s\t%s\n", a->email,
		    iwm_acct_class_name(a->cls), a->type,
		    a->rel != NULL ? a->rel : "-",
		    a->dir != NULL ? a->dir : "-",
		    a->owner != NULL ? a->owner->email : "-");
	}
}

static void
print_summary(const struct iwm_accounts *as, const struct scan *s, int roots)
{
	static const char *const names[] = { "archive", "logs", "mail" };
	size_t cls[5] = { 0 }, i;

	for (i = 0; i < as->n; i++)
		cls[as->v[i].cls]++;
	fprintf(stderr, "accounts: %zu regular, %zu archivist, %zu extern, "
	    "%zu shared, %zu without mailbox\n", cls[IWM_ACCT_REGULAR],
	    cls[IWM_ACCT_ARCHIVIST], cls[IWM_ACCT_EXTERN],
	    cls[IWM_ACCT_SHARED], cls[IWM_ACCT_NOMAILBOX]);
	for (i = 0; i < 3; i++)
		if (roots & (1 << i))
			fprintf(stderr, "%-8s %10llu files %8llu dirs "
			    "%14llu bytes\n", names[i],
			    (unsigned long long)s->st[i].files,
			    (unsigned long long)s->st[i].dirs,
			    (unsigned long long)s->st[i].bytes);
}

static int
parse_roots(const char *list, int *roots)
{
	char *copy = iwm_strdup(list), *p = copy, *tok;

	*roots = 0;
	while ((tok = strsep(&p, ",")) != NULL) {
		if (strcmp(tok, "mail") == 0)
			*roots |= ROOT_MAIL;
		else if (strcmp(tok, "archive") == 0)
			*roots |= ROOT_ARCHIVE;
		else if (strcmp(tok, "logs") == 0)
			*roots |= ROOT_LOGS;
		else {
			iwm_warnx("--roots: unknown root '%s' (mail, archive, "
			    "logs)", tok);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

#ifdef IWM_SCAN_TARGET
#define remote_opt	iwm_remote_opt
#else
/* Only whether --target was given: iwm-scan-target reads the rest. */
static int
remote_opt(struct iwm_remote_opts *o, int ch, const char *arg)
{
	static const struct option ro[] = { IWM_REMOTE_LONGOPTS };
	size_t i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (ro[i].val == ch) {
			if (strcmp(ro[i].name, "target") == 0)
				o->url = arg;
			return 1;
		}
	return 0;
}

/*
 * --target: become iwm-scan-target, installed beside this program, with
 * the command line as given (getopt_long reorders argv).  Returns only
 * on failure, with an exit status.
 */
static int
exec_target(char *const *av)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0 || (exe[n] = '\0', slash = strrchr(exe, '/')) == NULL) {
		iwm_warnx("cannot find my own directory: %s", strerror(errno));
		return IWM_EXIT_UNAVAIL;
	}
	if ((size_t)(slash - exe) + sizeof("/iwm-scan-target") > sizeof(exe)) {
		iwm_warnx("%s: path too long", exe);
		return IWM_EXIT_UNAVAIL;
	}
	memcpy(slash, "/iwm-scan-target", sizeof("/iwm-scan-target"));
	execv(exe, av);
	iwm_warnx("cannot run %s: %s%s", exe, strerror(errno),
	    errno == ENOENT ? " (not installed next to iwm-scan)" : "");
	return IWM_EXIT_UNAVAIL;
}
#endif

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "tool", required_argument, NULL, 't' },
		{ "roots", required_argument, NULL, 'R' },
		{ "domain", required_argument, NULL, 'D' },
		{ "path-map", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' },
		{ "accounts", no_argument, NULL, 'A' },
		{ "summary", no_argument, NULL, 'S' },
		{ "hash", no_argument, NULL, 'H' },
		{ "queues", no_argument, NULL, 'Q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		IWM_REMOTE_LONGOPTS,	/* --target: transfer.h */
		{ NULL, 0, NULL, 0 }
	};
	static const char *const vars[] = {
		"C_System_Storage_Dir_MailPath",
		"C_System_Tools_AutoArchive_Enable",
		"C_System_Tools_AutoArchive_Path",
		"C_System_Storage_Dir_LogPath",
	};
	struct iwm_pathmaps maps = { 0 };
	struct iwm_accounts as = { 0 };
	struct iwm_tool tool = { 0 };
	struct rootarg *plain = NULL;
	struct scan s = { 0 };
	struct iwm_buf hdr = { 0 };
	char **domains = NULL, *val[4] = { NULL }, *logdir = NULL;
	struct iwm_remote_opts remote = { 0 };
	const char *toolopt = NULL, *rootlist = NULL;
	size_t ndomains = 0, ndomains_given = 0, nplain = 0, i;
	int ch, roots = -1, accounts = 0, summary = 0, verbose = 0, queues = 0;
	int archive_on, rc = -1;
#ifndef IWM_SCAN_TARGET
	char **av = iwm_calloc((size_t)argc + 1, sizeof(*av));

	memcpy(av, argv, (size_t)argc * sizeof(*av));
#endif

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			toolopt = optarg;
			break;
		case 'R':
			rootlist = optarg;	/* parsed below */
			break;
		case 'D':
			if (*optarg == '\0' || strchr(optarg, '/') != NULL ||
			    strchr(optarg, ',') != NULL ||
			    !iwm_path_valid(optarg, strlen(optarg))) {
				iwm_warnx("--domain '%s': not a domain name",
				    optarg);
				usage(IWM_EXIT_USAGE);
			}
			/* Domain names are case-insensitive; IceWarp's are
			 * stored, and named on disk, in lower case. */
			for (char *p = optarg; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			domains = iwm_reallocarray(domains, ndomains + 1,
			    sizeof(*domains));
			domains[ndomains++] = iwm_strdup(optarg);
			ndomains_given++;
			break;
		case 'm':
			if (iwm_pathmap_add(&maps, optarg) == -1) {
				iwm_warn_err();
				usage(IWM_EXIT_USAGE);
			}
			break;
		case 'r': {
			char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg || eq[1] != '/') {
				iwm_warnx("--root '%s': expected NAME=/abs/dir",
				    optarg);
				usage(IWM_EXIT_USAGE);
			}
			*eq = '\0';
			if (!iwm_root_valid(optarg)) {
				iwm_warnx("--root: '%s' is not a root name "
				    "(lower-case letters, digits, - and _)",
				    optarg);
				usage(IWM_EXIT_USAGE);
			}
			plain = iwm_reallocarray(plain, nplain + 1,
			    sizeof(*plain));
			plain[nplain].name = optarg;
			plain[nplain++].dir = eq + 1;
			break;
		}
		case 'A':
			accounts = 1;
			break;
		case 'S':
			summary = 1;
			break;
		case 'H':
			hashing = 1;
			break;
		case 'Q':
			queues = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			if (remote_opt(&remote, ch, optarg))
				break;
			usage(IWM_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(IWM_EXIT_USAGE);
	if (queues && (ndomains_given > 0 || nplain > 0 || remote.url != NULL)) {
		iwm_warnx("--queues lists a whole server's mail queues: not "
		    "with --domain, --root or --target");
		usage(IWM_EXIT_USAGE);
	}
	/* --target: the agent lists its own roots (client.c). */
	if (remote.url != NULL) {
#ifdef IWM_SCAN_TARGET
		char *sc;

#endif
		if (nplain > 0 || toolopt != NULL || accounts || summary) {
			iwm_warnx("--target does not go with --root, --tool, "
			    "--accounts or --summary");
			usage(IWM_EXIT_USAGE);
		}
#ifndef IWM_SCAN_TARGET
		rc = exec_target(av);
		free(av);
#else
		sc = iwm_remote_scope(rootlist, domains, ndomains);
		if (isatty(STDERR_FILENO)) {
			remote.on_line = prog_line;
			prog_start();
		}
		rc = hashing ? iwm_remote_hash(&remote, sc, stdout) :
		    iwm_remote_list(&remote, sc, stdout);
		prog_end();
		free(sc);
#endif
		for (i = 0; i < ndomains; i++)
			free(domains[i]);
		free(domains);
		if (iwm_close_stdout() == -1) {
			iwm_warn_err();
			if (rc == 0)
				rc = IWM_EXIT_IO;
		}
		return rc;
	}
#ifndef IWM_SCAN_TARGET
	free(av);
#endif
	if (rootlist != NULL && parse_roots(rootlist, &roots) == -1)
		usage(IWM_EXIT_USAGE);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (isatty(STDERR_FILENO) && !accounts)
		prog_start();
	if (nplain > 0) {
		if (toolopt != NULL || ndomains > 0 || roots != -1 ||
		    accounts || maps.n > 0) {
			iwm_warnx("--root lists plain directories; it does not "
			    "go with --tool, --domain, --roots, --path-map or "
			    "--accounts");
			usage(IWM_EXIT_USAGE);
		}
		rc = scan_plain(plain, nplain, &s, summary);
		goto done;
	}
	if (iwm_tool_find(&tool, toolopt) == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_UNAVAIL;
		goto done;
	}
	/*
	 * The exports below need nothing of what get system says: started
	 * now, they run while it does instead of each after the other.
	 */
	if (ndomains_given > 0)
		iwm_tool_export_start(&tool, "domain", "*", NULL, 0);
	iwm_accounts_start(&tool, domains, ndomains_given);
	if (iwm_tool_get_system(&tool, vars, 4, val) == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_UNAVAIL;
		goto done;
	}
	archive_on = strcmp(val[1], "1") == 0 || strcasecmp(val[1], "true") == 0;
	if (roots == -1)
		roots = ndomains > 0 ? ROOT_MAIL | ROOT_ARCHIVE :
		    ROOT_MAIL | ROOT_ARCHIVE | ROOT_LOGS;
	if ((roots & ROOT_ARCHIVE) && !archive_on) {
		if (verbose)
			iwm_warnx("auto-archive is off: the archive is not "
			    "listed");
		roots &= ~ROOT_ARCHIVE;
	}
	if ((roots & ROOT_LOGS) &&
	    (logdir = iwm_path_localize(&maps, val[3])) == NULL) {
		iwm_warn_err();
		rc = IWM_EXIT_DATA;
		goto done;
	}
	/* A path the server reports but iwm cannot map is bad data. */
	for (i = 0; i < 3; i += 2) {
		char *p;

		if (*val[i] == '\0' && i == 2)
			continue;
		if ((p = iwm_path_localize(&maps, val[i])) == NULL) {
			iwm_warn_err();
			rc = IWM_EXIT_DATA;
			goto done;
		}
		free(p);
	}
	if (ndomains_given > 0) {
		int dc = check_domains(&tool, domains, ndomains_given);

		if (dc != 0) {
			iwm_warn_err();
			rc = dc == -1 ? IWM_EXIT_NOINPUT : IWM_EXIT_UNAVAIL;
			goto done;
		}
	}
	/*
	 * Archivists are told by the archive path even when auto-archive
	 * is off: their data is never copied into the mail directory.
	 */
	if (iwm_accounts_load(&as, &tool, &maps, val[0], val[2], domains,
	    ndomains_given) == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_UNAVAIL;
		goto done;
	}
	if (as.nproblems > 0)
		s.incomplete = 1;
	if (accounts) {
		print_accounts(&as);
		rc = -1;
		goto done;
	}
	/*
	 * The scope: each scanned domain of mail and archive, all logs.
	 * A mailbox stored under another top directory than its domain's
	 * adds that directory, so everything listed is inside the scope.
	 */
	for (i = 0; i < as.n; i++) {
		const struct iwm_account *a = &as.v[i];

		if (ndomains_given == 0) {
			domains = iwm_reallocarray(domains, ndomains + 1,
			    sizeof(*domains));
			domains[ndomains++] = iwm_strdup(a->domain);
		}
		if (a->rel != NULL && (a->cls == IWM_ACCT_REGULAR ||
		    a->cls == IWM_ACCT_EXTERN)) {
			domains = iwm_reallocarray(domains, ndomains + 1,
			    sizeof(*domains));
			domains[ndomains++] = iwm_strndup(a->rel,
			    strcspn(a->rel, "/"));
		}
	}
	qsort(domains, ndomains, sizeof(*domains), cmp_str);
	for (i = 0; i + 1 < ndomains; )
		if (strcmp(domains[i], domains[i + 1]) == 0) {
			free(domains[i + 1]);
			memmove(domains + i + 1, domains + i + 2,
			    (ndomains - i - 2) * sizeof(*domains));
			ndomains--;
		} else
			i++;
	iwm_buf_adds(&hdr, "scope=");
	if (roots & ROOT_ARCHIVE)
		for (i = 0; i < ndomains; i++)
			iwm_buf_printf(&hdr, "%sarchive:%s/",
			    hdr.len > 6 ? "," : "", domains[i]);
	if (roots & ROOT_LOGS)
		iwm_buf_printf(&hdr, "%slogs", hdr.len > 6 ? "," : "");
	if (roots & ROOT_MAIL)
		for (i = 0; i < ndomains; i++)
			iwm_buf_printf(&hdr, "%smail:%s/",
			    hdr.len > 6 ? "," : "", domains[i]);
	/*
	 * The mail queues, when asked for, are listed but left out of the
	 * scope: their files are added to the target's queues, and the
	 * target's own queued messages are never deleted.
	 */
	s.queues = queues && (roots & ROOT_MAIL);
	if (iwm_mwrite_header(stdout, hdr.ptr) == -1) {
		rc = IWM_EXIT_IO;
		goto done;
	}
	if ((roots & ROOT_ARCHIVE) && as.archivedir != NULL &&
	    access(as.archivedir, F_OK) == -1) {
		/* The archive is on but not there: a disk not mounted? */
		iwm_warnx("archive %s: %s", as.archivedir, strerror(errno));
		s.incomplete = 1;
	}
	if (roots & ROOT_ARCHIVE)
		for (i = 0; i < ndomains; i++) {
			struct iwm_buf d = { 0 };
			struct stat sb;
			int wrc = 0;

			iwm_buf_printf(&d, "%s%s", as.archivedir, domains[i]);
			if (stat(d.ptr, &sb) == 0 && S_ISDIR(sb.st_mode))
				wrc = scan_walk(&s, "archive", d.ptr,
				    domains[i], 1, &s.st[0], NULL);
			iwm_buf_free(&d);
			if (wrc == -1)
				goto walkfail;
		}
	if ((roots & ROOT_LOGS) &&
	    scan_walk(&s, "logs", logdir, "", 0, &s.st[1], NULL) == -1)
		goto walkfail;
	if ((roots & ROOT_MAIL) && scan_mail(&as, &s) == -1)
		goto walkfail;
	prog_end();
	if (summary)
		print_summary(&as, &s, roots);
	for (i = 0; i < 3; i++)
		if (s.st[i].unreadable > 0)
			s.incomplete = 1;
	goto done;
walkfail:
	iwm_warn_err();
	rc = s.out_failed ? IWM_EXIT_IO : IWM_EXIT_UNAVAIL;
done:
	prog_end();
	iwm_walker_free(s.walker);
	/* Only a listing that left nothing out may ever cause deletions. */
	if (rc == -1 && !accounts && !s.incomplete &&
	    iwm_mwrite_end(stdout) == -1)
		rc = IWM_EXIT_IO;
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		if (rc == -1)
			rc = IWM_EXIT_IO;
	}
	if (rc == -1)
		rc = s.incomplete ? IWM_EXIT_DIFF : IWM_EXIT_OK;
	if (s.incomplete && !accounts)
		iwm_warnx("the listing is incomplete: it cannot cause "
		    "deletions on the target");
	for (i = 0; i < 4; i++)
		free(val[i]);
	free(logdir);
	for (i = 0; i < ndomains; i++)
		free(domains[i]);
	free(domains);
	free(plain);
	iwm_accounts_free(&as);
	iwm_tool_free(&tool);
	iwm_pathmap_free(&maps);
	iwm_buf_free(&hdr);
	return rc;
}
