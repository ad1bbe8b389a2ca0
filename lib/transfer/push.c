/*
 * push.c: the engine of iwm-push.  Reads a diff as a stream and keeps
 * up to -j requests in flight on one libcurl multi handle:
 *
 *  - small files, directories and deletions travel in batches (one
 *    POST /v1/batch carries up to BATCH_ITEMS records and their data);
 *  - larger files go alone (PUT), and changed files of at least
 *    --delta-min bytes as librsync deltas against the agent's signature;
 *  - a deleted directory is removed once everything below it is gone.
 *
 * Records are journalled on stdout in input order (a reorder queue),
 * so the journal is itself a manifest.  Memory is bounded by the
 * requests in flight and QUEUE_MAX queued records, not by the input.
 */
#include <sys/stat.h>

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

#include <curl/curl.h>

#include "transfer.h"

#define BATCH_ITEMS	2000
#define BATCH_BYTES	(8u << 20)
#define SMALL_FILE	(1u << 20)	/* larger files are sent alone */
#define BATCH_LINE	512		/* bytes counted for a record line */
#define QUEUE_MAX	100000
/* Seconds: the coarsest mtime clock a source is trusted to have (the
 * kernel's tick, a FAT volume's 2 s). */
#define RACY_TICK	2

/* I_LOST: never sent (target lost, cancel): not journalled, not failed. */
enum ist { I_PENDING, I_OK, I_SKIP, I_FAIL, I_LOST };

struct item {
	struct item	*next;
	char		 op, type;
	uint64_t	 size;
	int64_t		 sec;
	long		 nsec;
	unsigned	 mode;
	char		*root, *path, *source;
	size_t		 plen;
	enum ist	 st;
	char		*note;
	int		 sent;		/* in the current batch body */
	int		 racy;		/* read within a tick of its mtime */
	int		 made_up;	/* a directory without SOURCE */
	int		 busy;		/* owned by a job: not journalled yet */
	int		 delta;		/* went as a delta */
	int		 delmark;	/* first after the input's #iwm-deletions */
};

enum jkind { J_BATCH, J_PUT, J_SIG, J_DELTA };

struct job {
	enum jkind	 kind;
	struct item	**items;
	size_t		 n, cap;
	uint64_t	 bytes;
	CURL		*easy;
	struct curl_slist *hdrs;
	struct iwm_buf	 resp;
	/* batch body */
	size_t		 cur;
	struct iwm_buf	 chunk;
	size_t		 off;
	/* the last source directory read from, kept open */
	int		 srcdir_fd;
	struct iwm_buf	 srcdir;
	/* single file */
	int		 fd;
	uint64_t	 fsize, fsent;
	/* delta */
	uint64_t	 bsize;
	char		 bmtime[40];
	int		 have_bsize;
	struct iwm_rs_delta *delta;
	/* the whole-file check: SHA-256 of the source, on its own thread */
	pthread_t	 hth;
	int		 hashing, hfd, hrc;
	volatile int	 hstop;
	struct iwm_buf	 hhex;
	uint64_t	 inprog;	/* bytes given to curl this attempt */
	unsigned	 tries;
	double		 when;		/* retry not before */
	struct job	*next;		/* retry list */
	struct job	*lnext, *lprev;	/* in flight */
	struct push	*p;
	int		 paused;	/* by the rate limit */
};

struct push {
	const struct iwm_push_opts *o;
	struct iwm_client cl;
	CURLM		*multi;
	struct iwm_mreader mr;
	struct iwm_scope *scope;
	size_t		 nscope;
	FILE		*failed;
	struct item	*head, *tail;
	size_t		 nqueue;
	struct job	*batch;
	struct item	**dstack;	/* directories to delete */
	size_t		 ndstack, dcap;
	struct item	*held;
	struct iwm_buf	 lastdel;	/* ROOT NUL PATH of the last '-' */
	FILE		*dirspool;	/* directories to set the mtime of */
	uint64_t	 ndirspool;
	int		 dirphase;	/* setting them now */
	int		 barrier, held_ready, held_wait, eof;
	unsigned	 inflight;
	struct job	*retry;
	struct job	*live;
	int		 fatal;		/* exit status when >= 64 */
	double		 t0, lastprog;
	double		 tokens, tlast;	/* --rate: one bucket for all */
	uint64_t	 rate;		/* --rate, or --rate-file's */
	double		 rate_read;	/* when --rate-file was last read */
	/* figures */
	uint64_t	 files, fbytes, deltas, dirs, deleted, vanished, nfailed;
	uint64_t	 planned, wire_up, wire_down, nodelete;
	uint64_t	 batch_max;	/* bytes: the agent's max-body allows */
	uint64_t	 mismatches;	/* deltas that failed the whole check */
	uint64_t	 nlost;		/* records of requests given up */
	uint64_t	 shown;		/* bytes the progress line last showed */
	int		 delmarked;	/* an item carries delmark */
	double		 down_since;	/* the target stopped answering; 0 */
	char		 down_why[128];
};

static volatile sig_atomic_t sig_stop, sig_pause;

static void
on_stop(int s)
{
	sig_stop++;
}

static void
on_tstp(int s)
{
	sig_pause = 1;
}

static void
on_cont(int s)
{
	sig_pause = 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- the reorder queue and the journal ------------------------------ */

static void
item_free(struct item *it)
{
	free(it->root);
	free(it->path);
	free(it->source);
	free(it->note);
	free(it);
}

static void
item_done(struct item *it, enum ist st, const char *fmt, ...)
    IWM_PRINTF(3, 4);

static void
item_done(struct item *it, enum ist st, const char *fmt, ...)
{
	struct iwm_buf b = { 0 };
	char tmp[512];
	va_list ap;

	it->st = st;
	free(it->note);
	it->note = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof(tmp), fmt, ap);
		va_end(ap);
		iwm_buf_adds(&b, tmp);
		it->note = iwm_buf_steal(&b);
	}
}

static void
to_rec(const struct item *it, struct iwm_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->op = it->op;
	r->type = it->type;
	r->size = it->size;
	r->mtime_sec = it->sec;
	r->mtime_nsec = it->nsec;
	r->mode = it->mode;
	r->root = it->root;
	r->path = it->path;
	r->path_len = it->plen;
	r->source = it->source;
	r->note = it->note;
}

/* Keep a directory done by the pass for its mtime at the end. */
static void
spool_dir(struct push *p, const struct iwm_rec *r)
{
	struct iwm_rec d = *r;

	if (p->dirspool == NULL) {
		if ((p->dirspool = tmpfile()) == NULL) {
			iwm_warnx("temporary file: %s", strerror(errno));
			return;
		}
		iwm_mwrite_header(p->dirspool, "directory-times");
	}
	d.op = IWM_OP_UPDATE;
	d.source = NULL;
	d.note = NULL;
	if (iwm_mwrite_rec(p->dirspool, &d) == 0)
		p->ndirspool++;
}

static void
emit(struct push *p)
{
	struct iwm_rec r;

	while (p->head != NULL && p->head->st != I_PENDING &&
	    !p->head->busy) {
		struct item *it = p->head;

		/* The journal and --failed keep the input's two runs. */
		if (it->delmark && !p->dirphase) {
			fprintf(stdout, "%s\n", IWM_MANIFEST_DELETIONS);
			if (p->failed != NULL)
				fprintf(p->failed, "%s\n",
				    IWM_MANIFEST_DELETIONS);
		}
		to_rec(it, &r);
		switch (it->st) {
		case I_OK:
			r.note = NULL;
			if (p->dirphase)
				break;
			if (it->type == IWM_TYPE_DIR && !it->made_up &&
			    it->op != IWM_OP_DELETE && !p->o->dry_run)
				spool_dir(p, &r);
			if (iwm_mwrite_rec(stdout, &r) == -1 && p->fatal == 0) {
				iwm_warnx("journal: %s", strerror(errno));
				p->fatal = IWM_EXIT_IO;
			}
			if (it->op == IWM_OP_DELETE)
				p->deleted++;
			else if (it->type == IWM_TYPE_DIR)
				p->dirs++;
			else {
				p->files++;
				p->fbytes += it->size;
				p->deltas += it->delta;
			}
			break;
		case I_SKIP:
			p->vanished++;
			iwm_warnx("%s: vanished since the scan, skipped",
			    it->source ? it->source : it->path);
			break;
		case I_LOST:
			break;
		case I_FAIL:
			p->nfailed++;
			iwm_warnx("%s %s: %s", it->root, it->path,
			    it->note ? it->note : "failed");
			if (p->failed != NULL)
				iwm_mwrite_rec(p->failed, &r);
			break;
		default:
			break;
		}
		p->head = it->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->nqueue--;
		item_free(it);
	}
}

/* --- jobs ----------------------------------------------------------- */

static struct job *
job_new(enum jkind k)
{
	struct job *j = iwm_calloc(1, sizeof(*j));

	j->kind = k;
	j->fd = -1;
	j->srcdir_fd = -1;
	return j;
}

static void
job_add(struct job *j, struct item *it)
{
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		j->items = iwm_reallocarray(j->items, j->cap, sizeof(*j->items));
	}
	j->items[j->n++] = it;
	it->busy = 1;
	if (it->type == IWM_TYPE_FILE && it->op != IWM_OP_DELETE)
		j->bytes += it->size;
}

static void *
hash_thread(void *arg)
{
	struct job *j = arg;

	j->hrc = iwm_file_check(j->hfd, IWM_CHECK_XXH128, &j->hstop,
	    &j->hhex);
	return NULL;
}

static void
hash_stop(struct job *j, int now)
{
	if (!j->hashing)
		return;
	j->hstop = now;
	pthread_join(j->hth, NULL);
	close(j->hfd);
	j->hashing = 0;
}

/* After the delta's last byte: the source's hash as a trailer. */
static int
hash_trailer(struct curl_slist **list, void *arg)
{
	struct job *j = arg;
	char tmp[128];

	hash_stop(j, 0);
	/* Unreadable now: without the hash the agent refuses (400), and
	 * the file goes whole. */
	if (j->hrc != 0)
		return CURL_TRAILERFUNC_OK;
	snprintf(tmp, sizeof(tmp), "%s: %s",
	    iwm_check_trailer(IWM_CHECK_XXH128), j->hhex.ptr);
	*list = curl_slist_append(*list, tmp);
	return CURL_TRAILERFUNC_OK;
}

static void
job_reset_transfer(struct job *j)
{
	hash_stop(j, 1);
	iwm_buf_free(&j->hhex);
	if (j->easy != NULL)
		curl_easy_cleanup(j->easy);
	j->easy = NULL;
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	iwm_buf_reset(&j->resp);
	iwm_buf_reset(&j->chunk);
	j->off = j->cur = 0;
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
	j->fsent = 0;
	j->inprog = 0;
	iwm_rs_delta_free(j->delta);
	j->delta = NULL;
}

static void
job_free(struct job *j)
{
	job_reset_transfer(j);
	if (j->srcdir_fd != -1)
		close(j->srcdir_fd);
	iwm_buf_free(&j->srcdir);
	iwm_buf_free(&j->resp);
	iwm_buf_free(&j->chunk);
	free(j->items);
	free(j);
}

static void
live_add(struct push *p, struct job *j)
{
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
	curl_multi_add_handle(p->multi, j->easy);
	j->lprev = NULL;
	j->lnext = p->live;
	if (p->live != NULL)
		p->live->lprev = j;
	p->live = j;
	p->inflight++;
}

static void
live_del(struct push *p, struct job *j)
{
	curl_multi_remove_handle(p->multi, j->easy);
	if (j->lprev != NULL)
		j->lprev->lnext = j->lnext;
	else
		p->live = j->lnext;
	if (j->lnext != NULL)
		j->lnext->lprev = j->lprev;
	j->lnext = j->lprev = NULL;
	p->inflight--;
}

static size_t
write_resp(char *d, size_t sz, size_t n, void *arg)
{
	struct job *j = arg;

	iwm_buf_add(&j->resp, d, sz * n);
	return sz * n;
}

/* The base's size and mtime come back as headers of the signature. */
static size_t
sig_header(char *d, size_t sz, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = sz * n, vl;
	char tmp[64];
	const char *v;

	if (len > 12 && strncasecmp(d, "X-Iwm-Size:", 11) == 0)
		v = d + 11;
	else if (len > 13 && strncasecmp(d, "X-Iwm-Mtime:", 12) == 0)
		v = d + 12;
	else
		return len;
	while (v < d + len && *v == ' ')
		v++;
	vl = (size_t)(d + len - v);
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
		vl--;
	if (vl >= sizeof(tmp))
		return len;
	memcpy(tmp, v, vl);
	tmp[vl] = '\0';
	if (d[6] == 'S' || d[6] == 's')
		j->have_bsize = iwm_parse_u64(tmp, &j->bsize) == 0;
	else
		memcpy(j->bmtime, tmp, vl + 1);
	return len;
}

static void
add_path(struct iwm_buf *b, const char *prefix, const struct item *it)
{
	iwm_buf_adds(b, prefix);
	iwm_url_escape(b, it->root, strlen(it->root));
	iwm_buf_addc(b, '/');
	iwm_url_escape(b, it->path, it->plen);
}

static void
hdr_add(struct job *j, const char *fmt, ...) IWM_PRINTF(2, 3);

static void
hdr_add(struct job *j, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	j->hdrs = curl_slist_append(j->hdrs, tmp);
}

/*
 * The source's directory, kept open by the job while its records stay
 * in it (a job reads its records in order; jobs in flight read
 * elsewhere): each file is then opened by its last component instead
 * of from the top of its path again.  AT_FDCWD and the whole path where
 * it cannot be, so that every error is the one the path gives.
 */
static int
source_dir(struct job *j, const char *src, const char **base)
{
	const char *slash = strrchr(src, '/');
	size_t len;

	*base = src;
	if (slash == NULL || slash == src)
		return AT_FDCWD;
	len = (size_t)(slash - src);
	if (j->srcdir_fd == -1 || j->srcdir.len != len ||
	    memcmp(j->srcdir.ptr, src, len) != 0) {
		if (j->srcdir_fd != -1)
			close(j->srcdir_fd);
		iwm_buf_reset(&j->srcdir);
		iwm_buf_add(&j->srcdir, src, len);
		j->srcdir_fd = open(j->srcdir.ptr, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (j->srcdir_fd == -1) {
			iwm_buf_reset(&j->srcdir);
			return AT_FDCWD;
		}
	}
	*base = slash + 1;
	return j->srcdir_fd;
}

/* Open the source as it is now; 0 ok, -1 vanished or failed (item set). */
static int
open_source(struct job *j, struct item *it, struct stat *sb)
{
	struct timespec t;
	const char *base;
	int dfd, fd;

	if (it->source == NULL) {
		item_done(it, I_FAIL, "no SOURCE path in the record");
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &t);
	dfd = source_dir(j, it->source, &base);
	if ((fd = openat(dfd, base, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			item_done(it, I_SKIP, NULL);
		else
			item_done(it, I_FAIL, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode)) {
		item_done(it, I_FAIL, "not a regular file any more");
		close(fd);
		return -1;
	}
	it->sec = sb->st_mtim.tv_sec;
	it->nsec = sb->st_mtim.tv_nsec;
	it->mode = sb->st_mode & 07777;
	/*
	 * Racily clean (iwm-manifest(5)): a write after this read may
	 * leave the same mtime when the mtime is not older than the read
	 * by a clock tick; the agent marks such a copy, and the next pass
	 * checks it by content.  A write stamps about the time of the
	 * write: an mtime far in the future is never met again by one.
	 */
	it->racy = (it->sec > t.tv_sec - RACY_TICK ||
	    (it->sec == t.tv_sec - RACY_TICK && it->nsec >= t.tv_nsec)) &&
	    it->sec <= t.tv_sec + RACY_TICK;
	return fd;
}

/* A batch item's header: its record, with no source. */
static void
batch_header(struct iwm_buf *b, const struct item *it, uint64_t size)
{
	struct iwm_rec r;

	to_rec(it, &r);
	r.op = it->op == IWM_OP_DELETE ? '-' : '+';
	r.size = size;
	r.source = NULL;
	r.note = it->racy && it->op != IWM_OP_DELETE &&
	    it->type == IWM_TYPE_FILE ? IWM_NOTE_RACY : NULL;
	iwm_mfmt_rec(b, &r);
}

/* The next record of a batch body, with its data read whole. */
static void
batch_next(struct job *j, struct item *it)
{
	struct stat sb;
	size_t hl;
	int fd;

	iwm_buf_reset(&j->chunk);
	j->off = 0;
	it->sent = 0;
	if (it->st != I_PENDING)
		return;
	if (it->op == IWM_OP_DELETE || it->type == IWM_TYPE_DIR) {
		batch_header(&j->chunk, it, 0);
		it->sent = 1;
		return;
	}
	if ((fd = open_source(j, it, &sb)) == -1)
		return;
	batch_header(&j->chunk, it, 0);	/* measured, rewritten below */
	hl = j->chunk.len;
	iwm_buf_reset(&j->chunk);
	iwm_buf_grow(&j->chunk, hl + 32 + (size_t)sb.st_size);
	/* Leave room for the header, read the data after it. */
	{
		size_t cap = (size_t)sb.st_size, got = 0, room = hl + 32;
		char *data = j->chunk.ptr + room;

		while (got < cap) {
			ssize_t r = read(fd, data + got, cap - got);

			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r == -1) {
					item_done(it, I_FAIL, "read: %s",
					    strerror(errno));
					close(fd);
					return;
				}
				break;	/* shrank: send what is there now */
			}
			got += (size_t)r;
		}
		close(fd);
		it->size = got;
		{
			struct iwm_buf h = { 0 };

			batch_header(&h, it, got);
			memmove(j->chunk.ptr + (room - h.len),
			    h.ptr, h.len);
			j->off = room - h.len;
			j->chunk.len = room + got;
			iwm_buf_free(&h);
		}
	}
	it->sent = 1;
}

/*
 * --rate is one token bucket shared by every transfer (a per-handle
 * limit would split it -j ways even when one file is moving).  A read
 * callback that finds it empty pauses its transfer; pump() resumes it.
 */
static double
rate_quantum(const struct push *p)
{
	double q = (double)p->rate / 20;

	return q < 1 ? 1 : q > 16384 ? 16384 : q;
}

/* --rate-file: read the rate again once a second (iwm speed writes it). */
static void
rate_poll(struct push *p)
{
	char line[64];
	uint64_t r;
	double t = now();
	FILE *f;

	if (p->o->rate_file == NULL || t - p->rate_read < 1)
		return;
	p->rate_read = t;
	if ((f = fopen(p->o->rate_file, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (iwm_parse_size(line, &r) == 0 && r != p->rate) {
			struct job *l;

			p->rate = r;
			p->tokens = 0;
			p->tlast = t;
			/* Transfers the old limit paused go on. */
			for (l = p->live; l != NULL; l = l->lnext)
				if (l->paused) {
					l->paused = 0;
					curl_easy_pause(l->easy, CURLPAUSE_CONT);
				}
		}
	}
	fclose(f);
}

static size_t
rate_allow(struct job *j, size_t want)
{
	struct push *p = j->p;
	double t;

	if (p->rate == 0)
		return want;
	t = now();
	p->tokens += (t - p->tlast) * (double)p->rate;
	p->tlast = t;
	if (p->tokens > (double)p->rate / 10 + 16384)
		p->tokens = (double)p->rate / 10 + 16384;
	/* Send in pieces of at least 16 KiB: fewer, fuller TLS records. */
	if (p->tokens < rate_quantum(p)) {
		j->paused = 1;
		return 0;
	}
	return p->tokens < (double)want ? (size_t)p->tokens : want;
}

static void
rate_used(struct job *j, size_t n)
{
	j->inprog += n;		/* progress inside a batch or a file */
	if (j->p->rate > 0)
		j->p->tokens -= (double)n;
}

static size_t
batch_read(char *buf, size_t sz, size_t nm, void *arg)
{
	struct job *j = arg;
	size_t want = sz * nm, out = 0;

	if (sig_stop || sig_pause)
		return CURL_READFUNC_ABORT;
	if ((want = rate_allow(j, want)) == 0)
		return CURL_READFUNC_PAUSE;
	while (out < want) {
		size_t n;

		if (j->off >= j->chunk.len) {
			if (j->cur == j->n)
				break;
			batch_next(j, j->items[j->cur++]);
			continue;
		}
		n = j->chunk.len - j->off;
		if (n > want - out)
			n = want - out;
		memcpy(buf + out, j->chunk.ptr + j->off, n);
		j->off += n;
		out += n;
	}
	rate_used(j, out);
	return out;
}

static size_t
file_read(char *buf, size_t sz, size_t nm, void *arg)
{
	struct job *j = arg;
	size_t want = sz * nm;
	ssize_t r;

	if (sig_stop || sig_pause)
		return CURL_READFUNC_ABORT;
	if (want > j->fsize - j->fsent)
		want = (size_t)(j->fsize - j->fsent);
	if (want == 0)
		return 0;
	if ((want = rate_allow(j, want)) == 0)
		return CURL_READFUNC_PAUSE;
	do
		r = read(j->fd, buf, want);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return CURL_READFUNC_ABORT;	/* shrank: try again */
	j->fsent += (uint64_t)r;
	rate_used(j, (size_t)r);
	return (size_t)r;
}

static size_t
delta_read(char *buf, size_t sz, size_t nm, void *arg)
{
	struct job *j = arg;
	size_t want;
	ssize_t r;

	if (sig_stop || sig_pause)
		return CURL_READFUNC_ABORT;
	if ((want = rate_allow(j, sz * nm)) == 0)
		return CURL_READFUNC_PAUSE;
	if ((r = iwm_rs_delta_read(j->delta, buf, want)) < 0)
		return CURL_READFUNC_ABORT;
	rate_used(j, (size_t)r);
	return (size_t)r;
}

static void
common_setup(struct push *p, struct job *j)
{
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, write_resp);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	/* No "Expect: 100-continue" round trip. */
	j->hdrs = curl_slist_append(j->hdrs, "Expect:");
	j->p = p;
}

/* Build the request of J and add it to the multi handle. */
static int
job_start(struct push *p, struct job *j)
{
	struct iwm_buf path = { 0 };
	struct item *it = j->n > 0 ? j->items[0] : NULL;
	struct stat sb;
	int fd;

	job_reset_transfer(j);
	switch (j->kind) {
	case J_BATCH:
		j->easy = iwm_client_easy(&p->cl, "/v1/batch");
		if (j->easy == NULL)
			break;
		common_setup(p, j);
		curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, batch_read);
		curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
		j->hdrs = curl_slist_append(j->hdrs,
		    "Content-Type: application/x-iwm-batch");
		break;
	case J_PUT:
		if ((fd = open_source(j, it, &sb)) == -1)
			return 0;	/* settled: vanished or failed */
		j->fd = fd;
		j->fsize = (uint64_t)sb.st_size;
		it->size = j->fsize;
		add_path(&path, "/v1/file/", it);
		j->easy = iwm_client_easy(&p->cl, path.ptr);
		if (j->easy == NULL)
			break;
		common_setup(p, j);
		curl_easy_setopt(j->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(j->easy, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)j->fsize);
		curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, file_read);
		curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
		hdr_add(j, "X-Iwm-Size: %llu", (unsigned long long)j->fsize);
		hdr_add(j, "X-Iwm-Mtime: %lld.%09ld", (long long)it->sec,
		    it->nsec);
		hdr_add(j, "X-Iwm-Mode: %o", it->mode);
		if (it->racy)
			hdr_add(j, "X-Iwm-Racy: 1");
		break;
	case J_SIG:
		add_path(&path, "/v1/sig/", it);
		j->easy = iwm_client_easy(&p->cl, path.ptr);
		if (j->easy == NULL)
			break;
		common_setup(p, j);
		j->have_bsize = 0;
		j->bmtime[0] = '\0';
		curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, sig_header);
		curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
		/* XXH3 strong sums; an older agent ignores it (BLAKE2). */
		hdr_add(j, "X-Iwm-Sig: xxh3");
		break;
	case J_DELTA:
		/* Only started from delta_start(). */
		break;
	}
	iwm_buf_free(&path);
	if (j->easy == NULL) {
		iwm_warnx("cannot set up a transfer: %s", iwm_err());
		p->fatal = IWM_EXIT_SOFTWARE;
		return -1;
	}
	live_add(p, j);
	return 1;
}

/* The signature is in: start the delta upload, or fall back to a PUT. */
static int
delta_start(struct push *p, struct job *j)
{
	struct item *it = j->items[0];
	struct iwm_buf path = { 0 }, sig = { 0 };
	struct stat sb;
	int fd;

	if (!j->have_bsize || j->bmtime[0] == '\0') {
		iwm_warnx("signature response without X-Iwm-Size/Mtime");
		p->fatal = IWM_EXIT_PROTO;
		return -1;
	}
	/* Keep the signature across the reset of the transfer. */
	sig = j->resp;
	memset(&j->resp, 0, sizeof(j->resp));
	job_reset_transfer(j);
	j->kind = J_DELTA;
	if ((fd = open_source(j, it, &sb)) == -1) {
		iwm_buf_free(&sig);
		return 0;
	}
	j->fd = fd;
	it->size = (uint64_t)sb.st_size;
	j->delta = iwm_rs_delta_new(sig.ptr, sig.len, fd);
	iwm_buf_free(&sig);
	if (j->delta == NULL) {
		item_done(it, I_FAIL, "%s", iwm_err());
		return 0;
	}
	iwm_rs_delta_base_size(j->delta, j->bsize);
	/* The agent checks the patched file against this before renaming. */
	j->hstop = 0;
	j->hrc = -1;
	if ((j->hfd = dup(fd)) == -1 ||
	    pthread_create(&j->hth, NULL, hash_thread, j) != 0) {
		if (j->hfd != -1)
			close(j->hfd);
		item_done(it, I_FAIL, "cannot hash the source: %s",
		    strerror(errno));
		return 0;
	}
	j->hashing = 1;
	add_path(&path, "/v1/delta/", it);
	j->easy = iwm_client_easy(&p->cl, path.ptr);
	iwm_buf_free(&path);
	common_setup(p, j);
	curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, delta_read);
	curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
	j->hdrs = curl_slist_append(j->hdrs,
	    "Content-Type: application/x-librsync-delta");
	j->hdrs = curl_slist_append(j->hdrs, "Transfer-Encoding: chunked");
	hdr_add(j, "X-Iwm-Check: %s", iwm_check_name(IWM_CHECK_XXH128));
	hdr_add(j, "Trailer: %s", iwm_check_trailer(IWM_CHECK_XXH128));
	curl_easy_setopt(j->easy, CURLOPT_TRAILERFUNCTION, hash_trailer);
	curl_easy_setopt(j->easy, CURLOPT_TRAILERDATA, j);
	hdr_add(j, "X-Iwm-Base-Size: %llu", (unsigned long long)j->bsize);
	hdr_add(j, "X-Iwm-Base-Mtime: %s", j->bmtime);
	hdr_add(j, "X-Iwm-Size: %llu", (unsigned long long)it->size);
	hdr_add(j, "X-Iwm-Mtime: %lld.%09ld", (long long)it->sec, it->nsec);
	hdr_add(j, "X-Iwm-Mode: %o", it->mode);
	if (it->racy)
		hdr_add(j, "X-Iwm-Racy: 1");
	live_add(p, j);
	return 1;
}

static void
job_settle(struct push *p, struct job *j)
{
	size_t i;

	/*
	 * What a request given up (the target lost, a cancel, a fatal
	 * error) did not send is not a failure of its own: the same pass
	 * run again sends it.  It is counted, not listed.
	 */
	for (i = 0; i < j->n; i++) {
		if (j->items[i]->st == I_PENDING) {
			item_done(j->items[i], I_LOST, NULL);
			p->nlost++;
		}
		j->items[i]->busy = 0;
	}
	job_free(j);
}

/* Per-record results of a batch: "CODE[\tmessage]" per sent record. */
static int
batch_results(struct job *j)
{
	char *line = j->resp.ptr, *nl;
	size_t i = 0;

	if (line == NULL || strncmp(line, "#iwm-batch 1", 12) != 0)
		return -1;
	line = strchr(line, '\n');
	for (; line != NULL && *++line != '\0'; line = nl) {
		long code;
		char *tab;

		if ((nl = strchr(line, '\n')) == NULL)
			return -1;
		*nl = '\0';
		while (i < j->n && !j->items[i]->sent)
			i++;
		if (i == j->n)
			return -1;
		if ((tab = strchr(line, '\t')) != NULL)
			*tab++ = '\0';
		if (iwm_parse_int(line, 100, 599, &code) == -1)
			return -1;
		if (code == 200)
			item_done(j->items[i], I_OK, NULL);
		else
			item_done(j->items[i], I_FAIL, "agent: %ld %s", code,
			    tab ? tab : "");
		i++;
	}
	while (i < j->n && !j->items[i]->sent)
		i++;
	return i == j->n ? 0 : -1;
}

static int
transient(CURLcode cc, long http)
{
	if (cc != CURLE_OK)
		return !iwm_client_pin_mismatch() &&
		    cc != CURLE_PEER_FAILED_VERIFICATION &&
		    cc != CURLE_ABORTED_BY_CALLBACK;
	return http == 500 || http == 502 || http == 503 || http == 504;
}

/* "5m 0s", "42 s": a duration for a message. */
static void
fmt_secs(char *buf, size_t len, double s)
{
	unsigned long n = s > 0 ? (unsigned long)(s + 0.5) : 0;

	if (n >= 60)
		snprintf(buf, len, "%lum %lus", n / 60, n % 60);
	else
		snprintf(buf, len, "%lu s", n);
}

/* J goes back to the retry list, to start afresh (a delta with a new
 * signature) not before WHEN. */
static void
job_requeue(struct push *p, struct job *j, double when)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		j->items[i]->st = I_PENDING;
	if (j->kind == J_DELTA)
		j->kind = J_SIG;
	job_reset_transfer(j);
	j->when = when;
	j->next = p->retry;
	p->retry = j;
}

/*
 * A request that failed for a transient reason is sent again after a
 * growing delay (0.5 s doubling, at most 30 s).  A lost connection
 * (the agent or the network down) is retried for --retry-for seconds
 * from when the target stopped answering, whatever the count: a copy
 * that runs for days outlives a reboot of the target.  Errors the
 * agent answered (HTTP 5xx) are retried --retries times.
 */
static void
job_retry(struct push *p, struct job *j, const char *why, int conn)
{
	double t = now();
	unsigned sh;

	if (conn && p->down_since == 0) {
		p->down_since = t;
		snprintf(p->down_why, sizeof(p->down_why), "%s", why);
		if (p->o->retry_for > 0 && !p->fatal) {
			char d[32];

			fmt_secs(d, sizeof(d), p->o->retry_for);
			iwm_warnx("the target stopped answering (%s): "
			    "retrying for up to %s", why, d);
		}
	}
	if (conn ? t - p->down_since >= p->o->retry_for :
	    j->tries >= p->o->retries) {
		if (!p->fatal && !conn)
			iwm_warnx("giving up after %u tries: %s", j->tries + 1,
			    why);
		if (!p->fatal)
			p->fatal = IWM_EXIT_UNAVAIL;
		job_settle(p, j);
		return;
	}
	j->tries++;
	if (!conn && (p->o->progress || p->o->remote.verbose))
		iwm_warnx("retrying (%s)", why);
	sh = j->tries < 6 ? j->tries : 6;
	t += (1u << sh) * 0.5 < 30 ? (1u << sh) * 0.5 : 30;
	if (conn && t > p->down_since + p->o->retry_for)
		t = p->down_since + p->o->retry_for;
	job_requeue(p, j, t);
}

static void
job_done(struct push *p, struct job *j, CURLcode cc)
{
	struct item *it = j->items[0];
	curl_off_t up = 0, down = 0;
	long http = 0, hs = 0, rs = 0;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(j->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(j->easy, CURLINFO_HEADER_SIZE, &hs);
	curl_easy_getinfo(j->easy, CURLINFO_REQUEST_SIZE, &rs);
	p->wire_up += (uint64_t)up + (uint64_t)rs;
	p->wire_down += (uint64_t)down + (uint64_t)hs;
	live_del(p, j);
	if (sig_stop && cc != CURLE_OK) {
		job_settle(p, j);
		return;
	}
	if (sig_pause && cc != CURLE_OK) {
		job_requeue(p, j, 0);
		return;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK && j->kind == J_PUT) {
		/* The file shrank while it was read: send it again. */
		job_retry(p, j, "source changed while read", 0);
		return;
	}
	if (transient(cc, http)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", cc != CURLE_OK ?
		    curl_easy_strerror(cc) : "agent error");
		if (cc == CURLE_OK)
			snprintf(why, sizeof(why), "HTTP %ld", http);
		job_retry(p, j, why, cc != CURLE_OK);
		return;
	}
	/* An answer: the target is back. */
	if (p->down_since != 0) {
		char d[32];

		fmt_secs(d, sizeof(d), now() - p->down_since);
		iwm_warnx("the target answers again after %s", d);
		p->down_since = 0;
	}
	if (cc != CURLE_OK || http == 401) {
		int rc = iwm_client_fail(cc, http, j->resp.ptr, p->cl.base);

		if (p->fatal == 0)
			p->fatal = rc;
		job_settle(p, j);
		return;
	}
	switch (j->kind) {
	case J_BATCH:
		if (http != 200 || batch_results(j) == -1) {
			if (p->fatal == 0)
				p->fatal = iwm_client_fail(cc, http == 200 ?
				    0 : http, j->resp.ptr, "batch");
			if (http == 200 && p->fatal != 0)
				iwm_warnx("batch: malformed results");
		}
		break;
	case J_PUT:
		if (http == 200)
			item_done(it, I_OK, NULL);
		else
			item_done(it, I_FAIL, "agent: %.*s",
			    j->resp.ptr ? (int)strcspn(j->resp.ptr, "\n") : 0,
			    j->resp.ptr ? j->resp.ptr : "");
		break;
	case J_SIG:
		if (http == 200) {
			int r = delta_start(p, j);

			if (r == 1)
				return;		/* still going */
			if (r == -1)
				break;
			job_settle(p, j);
			return;
		}
		/* No base to patch (gone, or not a file): send it whole. */
		j->kind = J_PUT;
		if (job_start(p, j) != 1)
			job_settle(p, j);
		return;
	case J_DELTA:
		if (http == 200) {
			it->delta = 1;
			item_done(it, I_OK, NULL);
			break;
		}
		if (http == 412)
			p->mismatches++;
		if (http == 409 || http == 400 || http == 412) {
			/* The base moved under us: send it whole. */
			j->kind = J_PUT;
			if (job_start(p, j) != 1)
				job_settle(p, j);
			return;
		}
		item_done(it, I_FAIL, "agent: %.*s",
		    j->resp.ptr ? (int)strcspn(j->resp.ptr, "\n") : 0,
		    j->resp.ptr ? j->resp.ptr : "");
		break;
	}
	job_settle(p, j);
}

/* --- reading the diff ------------------------------------------------ */

static int
inside(const struct item *dir, const struct item *it)
{
	return strcmp(dir->root, it->root) == 0 && it->plen > dir->plen &&
	    memcmp(it->path, dir->path, dir->plen) == 0 &&
	    it->path[dir->plen] == '/';
}

/* A queued item for REC, or NULL when there is nothing to do. */
static struct item *
make_item(struct push *p, const struct iwm_rec *rec)
{
	struct item *it;
	char op = rec->op;

	if (op == IWM_OP_SAME)
		return NULL;
	if (op == IWM_OP_LIST)
		op = IWM_OP_CREATE;	/* a plain scan: copy everything */
	if (op == IWM_OP_DELETE && !p->o->do_delete) {
		p->nodelete++;
		return NULL;
	}
	it = iwm_calloc(1, sizeof(*it));
	it->op = op;
	it->type = rec->type;
	it->size = rec->size;
	it->sec = rec->mtime_sec;
	it->nsec = rec->mtime_nsec;
	it->mode = rec->mode;
	it->root = iwm_strdup(rec->root);
	it->path = iwm_strndup(rec->path, rec->path_len);
	it->plen = rec->path_len;
	it->source = rec->source ? iwm_strdup(rec->source) : NULL;
	if (it->type == IWM_TYPE_DIR && it->source == NULL && !p->dirphase &&
	    op != IWM_OP_DELETE) {
		/* Made up by the scan (an extern's domain absent here):
		 * made now, and its mtime never set again. */
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		it->sec = t.tv_sec;
		it->nsec = t.tv_nsec;
		it->made_up = 1;
	}
	if (p->tail != NULL)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	p->nqueue++;
	if (it->type == IWM_TYPE_FILE && op != IWM_OP_DELETE)
		p->planned += it->size;
	if (op == IWM_OP_DELETE && p->scope != NULL &&
	    !iwm_scope_contains(p->scope, p->nscope, it->root, it->path,
	    it->plen))
		item_done(it, I_FAIL, "deletion outside the manifest's scope "
		    "refused");
	else if (op != IWM_OP_DELETE && it->type == IWM_TYPE_LINK)
		item_done(it, I_FAIL, "a symbolic link: not copied (iwm "
		    "copies regular files and directories only)");
	return it;
}

/* Is IT of the ROOT NUL PATH in KEY? */
static int
same_key(const struct iwm_buf *key, const struct item *it)
{
	size_t rl = strlen(it->root) + 1;

	return key->len == rl + it->plen && memcmp(key->ptr, it->root,
	    rl) == 0 && memcmp(key->ptr + rl, it->path, it->plen) == 0;
}

static struct job *
take_batch(struct push *p)
{
	struct job *j = p->batch;

	p->batch = NULL;
	return j;
}

/* The next request to start, or NULL for "not now". */
static struct job *
next_job(struct push *p)
{
	struct job *j;
	struct item *it;

	for (;;) {
		if (p->barrier) {
			/* Deleted directories go once their contents have. */
			if (p->batch != NULL)
				return take_batch(p);
			if (p->inflight > 0 || p->retry != NULL)
				return NULL;
			j = job_new(J_BATCH);
			while (p->ndstack > 0 && (p->held == NULL ||
			    !inside(p->dstack[p->ndstack - 1], p->held))) {
				struct item *d = p->dstack[--p->ndstack];

				/* Replaced by the held item: it waits for
				 * this deletion to be done. */
				if (p->held != NULL && d->plen ==
				    p->held->plen && strcmp(d->root,
				    p->held->root) == 0 && memcmp(d->path,
				    p->held->path, d->plen) == 0)
					p->held_wait = 1;
				job_add(j, d);
			}
			p->barrier = 0;
			p->held_ready = p->held != NULL;
			if (j->n > 0)
				return j;
			job_free(j);
			continue;
		}
		if (p->held_ready && p->held_wait) {
			if (p->inflight > 0 || p->retry != NULL)
				return NULL;
			p->held_wait = 0;
		}
		if (p->held_ready) {
			it = p->held;
			p->held = NULL;
			p->held_ready = 0;
		} else {
			const struct iwm_rec *rec;
			int r;

			if (p->eof) {
				if (p->ndstack > 0) {
					p->barrier = 1;
					continue;
				}
				return p->batch ? take_batch(p) : NULL;
			}
			if (p->nqueue >= QUEUE_MAX && p->head != NULL &&
			    !(p->head->op == IWM_OP_DELETE &&
			    p->head->type == IWM_TYPE_DIR))
				return p->batch ? take_batch(p) : NULL;
			if ((r = iwm_mreader_next(&p->mr, &rec)) == -1) {
				iwm_warn_err();
				p->fatal = IWM_EXIT_DATA;
				p->eof = 1;
				return NULL;
			}
			if (r == 0) {
				p->eof = 1;
				continue;
			}
			if ((it = make_item(p, rec)) == NULL)
				continue;
			if (p->mr.deletions && !p->delmarked && !p->dirphase) {
				it->delmark = 1;
				p->delmarked = 1;
			}
			if (p->ndstack > 0 &&
			    !inside(p->dstack[p->ndstack - 1], it)) {
				p->held = it;
				p->barrier = 1;
				continue;
			}
			if (same_key(&p->lastdel, it)) {
				/* A replacement: its deletion goes first. */
				iwm_buf_reset(&p->lastdel);
				p->held = it;
				p->barrier = 1;
				continue;
			}
			iwm_buf_reset(&p->lastdel);
			if (it->op == IWM_OP_DELETE) {
				iwm_buf_adds(&p->lastdel, it->root);
				iwm_buf_addc(&p->lastdel, '\0');
				iwm_buf_add(&p->lastdel, it->path, it->plen);
			}
		}
		if (it->st != I_PENDING)
			continue;
		if (p->o->dry_run) {
			item_done(it, I_OK, NULL);
			continue;
		}
		if (it->op == IWM_OP_DELETE && it->type == IWM_TYPE_DIR) {
			if (p->ndstack == p->dcap) {
				p->dcap = p->dcap ? p->dcap * 2 : 16;
				p->dstack = iwm_reallocarray(p->dstack, p->dcap,
				    sizeof(*p->dstack));
			}
			p->dstack[p->ndstack++] = it;
			continue;
		}
		if (it->type == IWM_TYPE_FILE && it->op != IWM_OP_DELETE) {
			if (it->op == IWM_OP_UPDATE && it->size >= p->o->delta_min &&
			    it->size > 0) {
				j = job_new(J_SIG);
				job_add(j, it);
				return j;
			}
			if (it->size > SMALL_FILE || it->size > p->batch_max / 2) {
				j = job_new(J_PUT);
				job_add(j, it);
				return j;
			}
		}
		if (p->batch == NULL)
			p->batch = job_new(J_BATCH);
		job_add(p->batch, it);
		if (p->batch->n >= BATCH_ITEMS || p->batch->bytes +
		    p->batch->n * BATCH_LINE >= p->batch_max)
			return take_batch(p);
	}
}

/*
 * Batches fit the agent's --max-body (its /v1/info "max-body" line):
 * at most half of it, the rest left for the record lines.  -1 with the
 * exit status in *RC if the agent cannot be asked.
 */
static int
agent_limits(struct push *p, int *rc)
{
	char *info = NULL, *line, *nl;
	size_t ilen = 0;
	uint64_t v;
	FILE *mem;

	p->batch_max = BATCH_BYTES;
	if ((mem = open_memstream(&info, &ilen)) == NULL) {
		iwm_warnx("memory stream: %s", strerror(errno));
		*rc = IWM_EXIT_SOFTWARE;
		return -1;
	}
	*rc = iwm_remote_info(&p->o->remote, mem);
	fclose(mem);
	for (line = info; *rc == 0 && line != NULL && *line != '\0';
	    line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (strncmp(line, "max-body\t", 9) == 0 &&
		    iwm_parse_u64(line + 9, &v) == 0 && v / 2 < p->batch_max)
			p->batch_max = v / 2 > 4096 ? v / 2 : 4096;
	}
	free(info);
	return *rc == 0 ? 0 : -1;
}

/* --- progress and the main loop -------------------------------------- */

/*
 * The progress line: files done, bytes sent so far (the files done and
 * what the requests in flight have sent of their batch or file), of
 * the total the diff announces (once it is read whole: percentage and
 * ETA), and the rate.  Redrawn at most twice a second.
 */
static void
progress(struct push *p, int last)
{
	double t = now(), el = t - p->t0, rate;
	char b1[32], b2[32], b3[32], total[64] = "", eta[32] = "";
	uint64_t done = p->fbytes;
	struct job *j;

	if (!p->o->progress || (!last && t - p->lastprog < 0.5))
		return;
	p->lastprog = t;
	for (j = p->live; j != NULL; j = j->lnext)
		done += j->bytes > 0 && j->inprog > j->bytes ? j->bytes :
		    j->inprog;
	if (done < p->shown)	/* a request done, its files not yet counted */
		done = p->shown;
	if (p->planned > 0 && done > p->planned)
		done = p->planned;
	p->shown = done;
	rate = el > 0 ? done / el : 0;
	iwm_fmt_bytes(b1, sizeof(b1), (double)done);
	iwm_fmt_bytes(b2, sizeof(b2), rate);
	iwm_fmt_bytes(b3, sizeof(b3), (double)p->planned);
	if (p->eof && p->planned > 0)
		snprintf(total, sizeof(total), " of %s (%.0f%%)", b3,
		    100.0 * (double)done / (double)p->planned);
	else if (p->planned > 0)
		snprintf(total, sizeof(total), " of at least %s", b3);
	if (p->eof && rate > 0 && p->planned > done)
		snprintf(eta, sizeof(eta), ", ETA %.0f s",
		    (p->planned - done) / rate);
	fprintf(stderr, "\r%s: %llu files, %s%s, %s/s%s%s\033[K%s",
	    iwm_progname, (unsigned long long)p->files, b1, total, b2, eta,
	    sig_pause ? " (pausing)" : sig_stop ? " (cancelling)" : "",
	    last ? "\n" : "");
}

static void
pump(struct push *p)
{
	struct job *j, **jp;
	CURLMsg *m;
	int running, left;
	double t = now();

	/* Retries whose time has come. */
	for (jp = &p->retry; (j = *jp) != NULL && !sig_pause; ) {
		if (j->when <= t || sig_stop) {
			*jp = j->next;
			j->next = NULL;
			if (sig_stop) {
				job_settle(p, j);
				continue;
			}
			if (job_start(p, j) != 1)
				job_settle(p, j);
		} else
			jp = &j->next;
	}
	rate_poll(p);
	/* Resume transfers the rate limit paused, once tokens are back. */
	if (p->rate > 0) {
		struct job *l, *ln;

		(void)rate_allow(&(struct job){ .p = p }, 1);
		for (l = p->live; l != NULL && p->tokens >= rate_quantum(p);
		    l = ln) {
			ln = l->lnext;
			if (l->paused) {
				l->paused = 0;
				curl_easy_pause(l->easy, CURLPAUSE_CONT);
			}
		}
	}
	curl_multi_perform(p->multi, &running);
	while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &j);
		job_done(p, j, m->data.result);
	}
	if (p->inflight > 0 || p->retry != NULL)
		curl_multi_poll(p->multi, NULL, 0, p->rate ? 10 : 100,
		    NULL);
}

/*
 * Cancel and pause take effect at once: the requests in flight are
 * dropped (the agent removes their temporary files), given up on a
 * cancel, queued again on a pause to be sent afresh once resumed.
 */
static void
drop_live(struct push *p, int requeue)
{
	while (p->live != NULL) {
		struct job *j = p->live;

		live_del(p, j);
		if (requeue)
			job_requeue(p, j, 0);
		else
			job_settle(p, j);
	}
}

static void
run(struct push *p)
{
	const struct iwm_push_opts *o = p->o;
	struct job *j;

	for (;;) {
		if (sig_stop) {
			drop_live(p, 0);
			break;
		}
		if (sig_pause && !p->fatal) {
			drop_live(p, 1);
			fflush(stdout);
			progress(p, 0);
			iwm_warnx("paused (SIGCONT resumes)");
			raise(SIGSTOP);
			sig_pause = 0;
			iwm_warnx("resumed");
			continue;
		}
		while (!sig_stop && !sig_pause && !p->fatal &&
		    p->down_since == 0 &&
		    p->inflight < o->jobs && (j = next_job(p)) != NULL)
			if (job_start(p, j) != 1)
				job_settle(p, j);
		emit(p);
		progress(p, 0);
		if (p->inflight == 0 && p->retry == NULL) {
			if (p->fatal || (p->eof &&
			    p->batch == NULL && p->ndstack == 0 &&
			    !p->barrier && !p->held_ready))
				break;
		}
		pump(p);
	}
}

int
iwm_push_run(const struct iwm_push_opts *o)
{
	struct push p;
	struct sigaction sa;
	struct job *j;
	int rc;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.t0 = p.tlast = now();
	p.rate = o->rate;
	p.rate_read = -1;
	rate_poll(&p);
	if (iwm_mreader_open(&p.mr, o->input) == -1) {
		iwm_warn_err();
		return IWM_EXIT_DATA;
	}
	/* The reader parsed the header's scope= (NULL: none given). */
	p.scope = p.mr.scope;
	p.nscope = p.mr.nscope;
	if (!o->dry_run && iwm_client_init(&p.cl, &o->remote) == -1) {
		iwm_warn_err();
		iwm_mreader_close(&p.mr);
		return IWM_EXIT_USAGE;
	}
	p.batch_max = BATCH_BYTES;
	if (!o->dry_run && agent_limits(&p, &rc) == -1) {
		iwm_client_free(&p.cl);
		iwm_mreader_close(&p.mr);
		return rc;
	}
	if (o->failed != NULL) {
		if ((p.failed = fopen(o->failed, "w")) == NULL) {
			iwm_warnx("%s: %s", o->failed, strerror(errno));
			rc = IWM_EXIT_IO;
			goto out;
		}
		iwm_mwrite_header(p.failed, "failed");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_tstp;
	sigaction(SIGTSTP, &sa, NULL);
	sa.sa_handler = on_cont;
	sigaction(SIGCONT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	p.multi = curl_multi_init();
	curl_multi_setopt(p.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)o->jobs);
	curl_multi_setopt(p.multi, CURLMOPT_MAXCONNECTS, (long)o->jobs);
	iwm_mwrite_header(stdout, o->dry_run ? "journal dry-run" : "journal");

	run(&p);
	/*
	 * Directory mtimes, as rsync -a sets them: once everything below
	 * them is written, every directory the pass made or updated gets
	 * its mtime again (writes inside it changed it).
	 */
	if (p.dirspool != NULL && p.ndirspool > 0 && !p.fatal && !sig_stop) {
		int fd;

		iwm_mreader_close(&p.mr);
		if (fflush(p.dirspool) == EOF ||
		    (fd = dup(fileno(p.dirspool))) == -1 ||
		    lseek(fd, 0, SEEK_SET) == -1) {
			iwm_warnx("directory times: %s", strerror(errno));
			p.fatal = IWM_EXIT_IO;
		} else if (iwm_mreader_fdopen(&p.mr, fd, "directory times") ==
		    -1) {
			iwm_warn_err();
			p.fatal = IWM_EXIT_SOFTWARE;
		} else {
			p.dirphase = 1;
			p.eof = 0;
			p.scope = NULL;
			run(&p);
		}
	}
	/* Whatever never started is simply not journalled. */
	if (p.batch != NULL)
		job_free(take_batch(&p));
	for (j = p.retry; j != NULL; j = p.retry) {
		p.retry = j->next;
		job_settle(&p, j);
	}
	while (p.head != NULL && p.head->st == I_PENDING) {
		struct item *it = p.head;

		p.head = it->next;
		p.nqueue--;
		item_free(it);
	}
	emit(&p);
	progress(&p, 1);
	if (p.nodelete > 0)
		iwm_warnx("%llu deletion(s) not applied (no --delete)",
		    (unsigned long long)p.nodelete);
	if (o->stats)
		fprintf(stderr, "%s: stats files=%llu bytes=%llu deltas=%llu "
		    "delta_mismatch=%llu "
		    "dirs=%llu deleted=%llu vanished=%llu failed=%llu "
		    "wire_up=%llu wire_down=%llu wire=%llu seconds=%.3f\n",
		    iwm_progname, (unsigned long long)p.files,
		    (unsigned long long)p.fbytes, (unsigned long long)p.deltas,
		    (unsigned long long)p.mismatches,
		    (unsigned long long)p.dirs, (unsigned long long)p.deleted,
		    (unsigned long long)p.vanished,
		    (unsigned long long)p.nfailed,
		    (unsigned long long)p.wire_up,
		    (unsigned long long)p.wire_down,
		    (unsigned long long)(p.wire_up + p.wire_down),
		    now() - p.t0);
	if (p.fatal && p.down_since != 0) {
		char d[32];

		/* One line for a lost target, not one per record. */
		fmt_secs(d, sizeof(d), now() - p.down_since);
		iwm_warnx("the target did not answer for %s (%s): gave up; "
		    "%llu record(s) in flight not sent, the rest of the input "
		    "not started; run the same pass again to continue", d,
		    p.down_why, (unsigned long long)p.nlost);
	}
	if (p.fatal)
		rc = p.fatal;
	else if (sig_stop) {
		iwm_warnx("cancelled (%llu record(s) in flight not sent); run "
		    "the same pass again to continue",
		    (unsigned long long)p.nlost);
		rc = IWM_EXIT_CANCELLED;
	} else
		rc = p.nfailed > 0 || p.nlost > 0 ? IWM_EXIT_DIFF : IWM_EXIT_OK;
out:
	if (p.failed != NULL && fclose(p.failed) != 0) {
		iwm_warnx("%s: %s", o->failed, strerror(errno));
		rc = rc ? rc : IWM_EXIT_IO;
	}
	while (p.head != NULL) {
		struct item *it = p.head;

		p.head = it->next;
		item_free(it);
	}
	if (p.multi != NULL)
		curl_multi_cleanup(p.multi);
	free(p.dstack);
	iwm_buf_free(&p.lastdel);
	if (p.dirspool != NULL)
		fclose(p.dirspool);
	iwm_mreader_close(&p.mr);
	if (!o->dry_run)
		iwm_client_free(&p.cl);
	return rc;
}
