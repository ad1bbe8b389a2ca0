/*
 * iwm-diff: compare two sorted manifests in one pass and print what the
 * target lacks (+), what differs (~), what only the target has (-, with
 * --delete, and only inside the source's declared scope), and with -a
 * what is the same (=).  Memory does not depend on the manifests' size.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: %s [-a] [--delete] "
	    "[--exit-code] [--modify-window SECONDS] SOURCE TARGET\n"
	    "       %s --version\n"
	    "  -a, --all               also print unchanged records (=)\n"
	    "  --delete                print deletions (-) inside the source's "
	    "scope\n"
	    "  --exit-code             exit 1 when the manifests differ, 0 when "
	    "equal\n"
	    "  --modify-window SECONDS mtimes this close are equal\n"
	    "  -h, --help              this help\n"
	    "  --version               print the version and exit\n",
	    iwm_progname, iwm_progname);
	exit(status);
}

/*
 * Creations and updates go to standard output as they come; with
 * --delete, the deletions (and what replaces a deleted name, which must
 * wait for it) go to SPOOL, printed after "#iwm-deletions" once the
 * source is known complete.
 */
static FILE *out;

static int	emit(char, const struct iwm_rec *, int);

/*
 * Before a read that may wait (the reader holds no whole line): when
 * the input has nothing ready, what was written goes out now, so that
 * a consumer in a pipeline gets the creations as the scan finds them,
 * not 64 KiB at a time.  The reader calls it (iwm_lines.waiting): no
 * test per record.
 */
static void
flush_if_waiting(const struct iwm_lines *l)
{
	struct pollfd pfd;

	pfd.fd = l->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 0)
		(void)fflush(stdout);
}

static int
emit_to(FILE *fp, char op, const struct iwm_rec *from, int keep_source)
{
	FILE *saved = out;
	int rc;

	out = fp;
	rc = emit(op, from, keep_source);
	out = saved;
	return rc;
}

static int
emit(char op, const struct iwm_rec *from, int keep_source)
{
	struct iwm_rec r = *from;

	r.op = op;
	if (!keep_source)
		r.source = NULL;
	r.note = NULL;
	if (iwm_mwrite_rec(out, &r) == -1) {
		iwm_seterr_errno("standard output");
		return -1;
	}
	return 0;
}

/*
 * Copy the spooled output to stdout; drop the deletions when the source
 * manifest turned out incomplete (a failed or cut-off scan must never
 * delete what it did not see).
 */
static int
unspool(FILE *sp, int keep_deletions)
{
	struct iwm_lines l;
	char *line;
	size_t len;
	int rc, marked = 0;

	if (fflush(sp) == EOF || lseek(fileno(sp), 0, SEEK_SET) == -1) {
		iwm_seterr_errno("spool file");
		return -1;
	}
	iwm_lines_fdopen(&l, fileno(sp), "spool");
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		if (!keep_deletions && line[0] == IWM_OP_DELETE)
			continue;
		if (!marked && printf("%s\n", IWM_MANIFEST_DELETIONS) < 0) {
			iwm_seterr_errno("standard output");
			rc = -1;
			break;
		}
		marked = 1;
		line[len] = '\n';
		if (fwrite(line, 1, len + 1, stdout) != len + 1) {
			iwm_seterr_errno("standard output");
			rc = -1;
			break;
		}
	}
	free(l.buf);
	return rc;
}

/*
 * What the target's file system stores (header keys of its listing,
 * iwm-manifest(5)): mtime granularity in nanoseconds, the range of
 * mtimes, whether permission bits are kept.
 */
struct fsinfo {
	int64_t		 res;		/* 0: not declared */
	int64_t		 tmin, tmax;
	int		 modes;
	int64_t		 window;	/* --modify-window, seconds */
};

static int64_t
header_i64(const struct iwm_mreader *r, const char *key, int64_t def)
{
	char *v = iwm_mreader_header(r, key);
	int64_t n = def;
	long long x;
	char *end;

	if (v != NULL) {
		errno = 0;
		x = strtoll(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0')
			n = x;
		free(v);
	}
	return n;
}

/* An mtime as the target would store it: clamped, then truncated. */
static void
storable(const struct fsinfo *fs, int64_t res, int64_t *sec, long *nsec)
{
	if (*sec > fs->tmax || *sec < fs->tmin) {
		*sec = *sec > fs->tmax ? fs->tmax : fs->tmin;
		*nsec = 0;
	}
	if (res <= 1)
		return;
	if (res < 1000000000)
		*nsec -= *nsec % (long)res;
	else {
		int64_t rs = res / 1000000000, m = *sec % rs;

		*nsec = 0;
		*sec -= m < 0 ? m + rs : m;
	}
}

/* MODE bits compared: the agent never makes setuid/setgid files. */
#define FILE_MODE_BITS	01777

/*
 * A name differs when its TYPE, its MODE, a file's SIZE, or its MTIME
 * as the target can store it differ, or when the target's copy is
 * racily clean.  Symbolic links always do: iwm-push reports them.
 */
static int
differs(const struct iwm_rec *s, const struct iwm_rec *t,
    const struct fsinfo *fs)
{
	int64_t ss = s->mtime_sec, ts = t->mtime_sec, res = fs->res;
	long sn = s->mtime_nsec, tn = t->mtime_nsec;
	unsigned mask = s->type == IWM_TYPE_FILE ? FILE_MODE_BITS : 07777;

	if (s->type != t->type || s->type == IWM_TYPE_LINK)
		return 1;
	/* A directory made up by the scan (no SOURCE): existence only. */
	if (s->type == IWM_TYPE_DIR && s->source == NULL)
		return 0;
	if (s->type == IWM_TYPE_FILE && (s->size != t->size ||
	    (t->note != NULL && strcmp(t->note, IWM_NOTE_RACY) == 0)))
		return 1;
	if (fs->modes && (s->mode & mask) != (t->mode & mask))
		return 1;
	/* Undeclared: a target without nanoseconds shows none. */
	if (res == 0)
		res = tn == 0 && sn != 0 ? 1000000000 : 1;
	storable(fs, res, &ss, &sn);
	storable(fs, res, &ts, &tn);
	if (fs->window == 0)
		return ss != ts || sn != tn;
	if (ss - ts > fs->window + 1 || ts - ss > fs->window + 1)
		return 1;
	ss = (ss - ts) * 1000000000 + (sn - tn);
	return (ss < 0 ? -ss : ss) > fs->window * 1000000000;
}

/* Copied with an mtime the target cannot store: say so, once a copy. */
static void
warn_range(const struct iwm_rec *r, const struct fsinfo *fs)
{
	if (r->mtime_sec <= fs->tmax && r->mtime_sec >= fs->tmin)
		return;
	iwm_warnx("%s %s: mtime %lld is outside what the target's file "
	    "system stores (%lld to %lld): it gets the nearest, and is "
	    "compared as such", r->root, r->path, (long long)r->mtime_sec,
	    (long long)fs->tmin, (long long)fs->tmax);
}

/* Is R inside the subtree of the record held in KEY (root NUL path)? */
static int
inside(const struct iwm_buf *key, size_t rootlen, const struct iwm_rec *r)
{
	size_t plen = key->len - rootlen - 1;

	return strcmp(r->root, key->ptr) == 0 && r->path_len > plen &&
	    r->path[plen] == '/' &&
	    memcmp(r->path, key->ptr + rootlen + 1, plen) == 0;
}

/* A source record kept until the target's subtree it replaces is gone. */
struct pending {
	int		 on;
	struct iwm_rec	 rec;
	struct iwm_buf	 key, source;
	size_t		 rootlen;
};

static void
pending_set(struct pending *p, const struct iwm_rec *r)
{
	p->on = 1;
	p->rec = *r;
	p->rootlen = strlen(r->root);
	iwm_buf_reset(&p->key);
	iwm_buf_add(&p->key, r->root, p->rootlen + 1);
	iwm_buf_add(&p->key, r->path, r->path_len);
	iwm_buf_reset(&p->source);
	if (r->source != NULL)
		iwm_buf_adds(&p->source, r->source);
	p->rec.root = p->key.ptr;
	p->rec.path = p->key.ptr + p->rootlen + 1;
	p->rec.source = r->source != NULL ? p->source.ptr : NULL;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "delete", no_argument, NULL, 'd' },
		{ "modify-window", required_argument, NULL, 'w' },
		{ "exit-code", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_mreader src, tgt;
	FILE *spool = NULL;
	const struct iwm_rec *rs = NULL, *rt = NULL;
	struct iwm_buf hdr = { 0 };
	struct fsinfo fs;
	struct pending pend = { 0 };
	struct iwm_buf repl = { 0 };	/* ROOT NUL PATH of a replaced dir */
	size_t repl_rootlen = 0;
	int ch, all = 0, del = 0, differ = 0, rc, warned = 0, deletions = 0;
	int exitcode = 0;
	long window = 0;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	while ((ch = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'd':
			del = 1;
			break;
		case 'e':
			exitcode = 1;
			break;
		case 'w':
			if (iwm_parse_int(optarg, 0, 1L << 30, &window) == -1) {
				iwm_warnx("--modify-window: %s", iwm_err());
				usage(IWM_EXIT_USAGE);
			}
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(IWM_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage(IWM_EXIT_USAGE);
	if (strcmp(argv[0], "-") == 0 && strcmp(argv[1], "-") == 0) {
		iwm_warnx("SOURCE and TARGET cannot both be standard input");
		usage(IWM_EXIT_USAGE);
	}
	memset(&tgt, 0, sizeof(tgt));
	tgt.lines.fd = -1;
	if (iwm_mreader_open(&src, argv[0]) == -1) {
		rc = src.lines.fd == -1 ? IWM_EXIT_NOINPUT : IWM_EXIT_DATA;
		iwm_warn_err();
		goto out;
	}
	if (iwm_mreader_open(&tgt, argv[1]) == -1) {
		rc = tgt.lines.fd == -1 ? IWM_EXIT_NOINPUT : IWM_EXIT_DATA;
		iwm_warn_err();
		goto out;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	src.lines.waiting = flush_if_waiting;
	tgt.lines.waiting = flush_if_waiting;
	out = stdout;
	/* Only deletions wait until the source is known to be complete. */
	if (del && (spool = tmpfile()) == NULL) {
		iwm_warnx("temporary file: %s", strerror(errno));
		rc = IWM_EXIT_IO;
		goto out;
	}
	if (src.scope != NULL) {
		iwm_buf_adds(&hdr, "scope=");
		iwm_scope_format(&hdr, src.scope, src.nscope);
	}
	if (iwm_mwrite_header(out, hdr.ptr) == -1)
		goto ioerr;
	fs.window = window;
	fs.res = header_i64(&tgt, "mtime-res", 0);
	if (fs.res < 0)
		fs.res = 0;
	fs.tmin = header_i64(&tgt, "mtime-min", INT64_MIN);
	fs.tmax = header_i64(&tgt, "mtime-max", INT64_MAX);
	fs.modes = header_i64(&tgt, "modes", 1) != 0;
	if ((rc = iwm_mreader_next(&src, &rs)) == -1 ||
	    (rc = iwm_mreader_next(&tgt, &rt)) == -1)
		goto dataerr;
	while (rs != NULL || rt != NULL || pend.on) {
		int c;

		/* A replaced directory's contents are gone: create. */
		if (pend.on && (rt == NULL ||
		    !inside(&pend.key, pend.rootlen, rt))) {
			pend.on = 0;
			if (emit_to(spool, IWM_OP_CREATE, &pend.rec, 1) == -1)
				goto ioerr;
			continue;
		}
		c = rs == NULL ? 1 : rt == NULL ? -1 :
		    iwm_mreader_cmp(&src, &tgt);
		/* Below a replaced name: after its deletion, in the spool. */
		if (repl.len > 0 && (rs == NULL ||
		    !inside(&repl, repl_rootlen, rs)))
			iwm_buf_reset(&repl);
		if (c < 0) {
			differ = 1;
			warn_range(rs, &fs);
			if (emit_to(repl.len > 0 ? spool : stdout,
			    IWM_OP_CREATE, rs, 1) == -1)
				goto ioerr;
		} else if (c > 0) {
			if (iwm_scope_contains(src.scope, src.nscope,
			    rt->root, rt->path, rt->path_len)) {
				differ = 1;
				deletions++;
				if (del && emit_to(spool, IWM_OP_DELETE, rt,
				    0) == -1)
					goto ioerr;
			} else if (del && src.scope == NULL && !warned) {
				iwm_warnx("%s declares no scope: "
				    "nothing is marked for deletion", argv[0]);
				warned = 1;
			}
		} else if (rs->type != rt->type && rs->type != IWM_TYPE_LINK &&
		    del && iwm_scope_contains(src.scope, src.nscope,
		    rt->root, rt->path, rt->path_len)) {
			/* Another type on the target: delete, then create. */
			differ = 1;
			deletions++;
			if (emit_to(spool, IWM_OP_DELETE, rt, 0) == -1)
				goto ioerr;
			if (rt->type == IWM_TYPE_DIR)
				pending_set(&pend, rs);
			else if (emit_to(spool, IWM_OP_CREATE, rs, 1) == -1)
				goto ioerr;
			if (rs->type == IWM_TYPE_DIR) {
				/* What the source has below it follows. */
				repl_rootlen = strlen(rs->root);
				iwm_buf_reset(&repl);
				iwm_buf_add(&repl, rs->root, repl_rootlen + 1);
				iwm_buf_add(&repl, rs->path, rs->path_len);
			}
		} else if (differs(rs, rt, &fs)) {
			differ = 1;
			warn_range(rs, &fs);
			if (emit_to(repl.len > 0 ? spool : stdout,
			    IWM_OP_UPDATE, rs, 1) == -1)
				goto ioerr;
		} else if (all && emit_to(repl.len > 0 ? spool : stdout,
		    IWM_OP_SAME, rs, 1) == -1)
			goto ioerr;
		if (c <= 0 && (rc = iwm_mreader_next(&src, &rs)) != 1) {
			if (rc == -1)
				goto dataerr;
			rs = NULL;
		}
		if (c >= 0 && (rc = iwm_mreader_next(&tgt, &rt)) != 1) {
			if (rc == -1)
				goto dataerr;
			rt = NULL;
		}
	}
	if (spool != NULL) {
		if (!src.complete && deletions > 0)
			iwm_warnx("%s is incomplete (no %s line: its scan "
			    "failed or was cut off): %d deletion%s not listed",
			    argv[0], IWM_MANIFEST_END, deletions,
			    deletions == 1 ? "" : "s");
		if (unspool(spool, src.complete) == -1)
			goto ioerr;
	}
	/* Complete only when the source was: a diff knows no more. */
	if (src.complete && iwm_mwrite_end(stdout) == -1)
		goto ioerr;
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		rc = IWM_EXIT_IO;
	} else
		rc = exitcode && differ ? IWM_EXIT_DIFF : IWM_EXIT_OK;
	goto out;
dataerr:
	iwm_warn_err();
	rc = IWM_EXIT_DATA;
	goto out;
ioerr:
	iwm_warnx("standard output: write error");
	rc = IWM_EXIT_IO;
out:
	if (spool != NULL)
		fclose(spool);
	iwm_mreader_close(&src);
	iwm_mreader_close(&tgt);
	iwm_buf_free(&hdr);
	iwm_buf_free(&pend.key);
	iwm_buf_free(&pend.source);
	iwm_buf_free(&repl);
	return rc;
}
