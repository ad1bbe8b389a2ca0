/* walk.c: streaming, ordered directory listing (see walk.h). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "walk.h"

/*
 * The kernel's lookups dominate a scan, so a second thread shares them:
 * while the walk emits one directory, it lists and stats the next
 * sibling directory ahead; and a large directory met without such help
 * is stat'ed in two halves.  Memory stays bounded by the listings of
 * the directories on the current path plus the one read ahead.
 */
#define PAR_MIN		32

struct entry {
	size_t	 off;		/* name offset in the names buffer */
	int	 err;		/* errno of fstatat, or 0 */
	struct stat sb;
};

struct listing {
	DIR		*d;	/* NULL when the directory could not be opened */
	int		 err;	/* errno of opening it */
	int		 rderr;	/* errno of reading it, or 0 */
	struct entry	*ents;
	size_t		 n, cap;
	struct iwm_buf	 names;
};

enum { JOB_IDLE, JOB_STAT, JOB_LIST, JOB_DONE, JOB_QUIT };

struct worker {
	pthread_t	 tid;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 state;
	int		 kind;		/* JOB_STAT or JOB_LIST */
	/* JOB_STAT: entries lo..hi of a directory */
	int		 dfd;
	const char	*names;
	struct entry	*ents;
	size_t		 lo, hi;
	/* JOB_LIST: entry INDEX of listing PARENT, read ahead into PF */
	const struct listing *parent;
	size_t		 index;
	struct listing	 pf;
};

struct walk {
	struct worker	*wk;	/* NULL: single-threaded */
	const char	*root;
	int		 nosource;
	iwm_walk_cb	 cb;
	void		*arg;
	struct iwm_walk_stats *st;
	struct iwm_buf	 rel;	/* path within the root */
	struct iwm_buf	 src;	/* absolute local path */
};

static void
stat_range(int dfd, const char *names, struct entry *e, size_t lo, size_t hi)
{
	for (; lo < hi; lo++)
		e[lo].err = fstatat(dfd, names + e[lo].off, &e[lo].sb,
		    AT_SYMLINK_NOFOLLOW) == -1 ? errno : 0;
}

/* qsort_r: the walker runs in the agent's threads too. */
static int
cmp_entry(const void *a, const void *b, void *names)
{
	const struct entry *x = a, *y = b;

	return strcmp((char *)names + x->off, (char *)names + y->off);
}

/* Read and sort the entries of the directory open as FD (taken over). */
static void
list_read(struct listing *l, int fd)
{
	struct dirent *de;

	memset(l, 0, sizeof(*l));
	if ((l->d = fdopendir(fd)) == NULL) {
		l->err = errno;
		close(fd);
		return;
	}
	errno = 0;
	while ((de = readdir(l->d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap == 0 ? 64 : l->cap * 2;
			l->ents = iwm_reallocarray(l->ents, l->cap,
			    sizeof(*l->ents));
		}
		l->ents[l->n].off = l->names.len;
		iwm_buf_add(&l->names, de->d_name, strlen(de->d_name) + 1);
		l->n++;
		errno = 0;
	}
	l->rderr = errno;
	if (l->n > 1)
		qsort_r(l->ents, l->n, sizeof(*l->ents), cmp_entry,
		    l->names.ptr);
}

/* Open NAME below PARENTFD and read it; stat it too with DOSTAT. */
static void
list_open(struct listing *l, int parentfd, const char *name, int dostat)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd == -1) {
		memset(l, 0, sizeof(*l));
		l->err = errno;
		return;
	}
	list_read(l, fd);
	if (dostat && l->d != NULL)
		stat_range(dirfd(l->d), l->names.ptr, l->ents, 0, l->n);
}

static void
list_free(struct listing *l)
{
	if (l->d != NULL)
		closedir(l->d);
	free(l->ents);
	iwm_buf_free(&l->names);
	memset(l, 0, sizeof(*l));
}

static void *
worker_main(void *arg)
{
	struct worker *k = arg;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (k->state != JOB_STAT && k->state != JOB_LIST &&
		    k->state != JOB_QUIT)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->state == JOB_QUIT)
			break;
		pthread_mutex_unlock(&k->mu);
		if (k->kind == JOB_STAT)
			stat_range(k->dfd, k->names, k->ents, k->lo, k->hi);
		else
			list_open(&k->pf, dirfd(k->parent->d),
			    k->parent->names.ptr + k->parent->ents[k->index].off,
			    1);
		pthread_mutex_lock(&k->mu);
		k->state = JOB_DONE;
		pthread_cond_broadcast(&k->cv);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

static int
worker_idle(struct worker *k)
{
	int idle;

	pthread_mutex_lock(&k->mu);
	idle = k->state == JOB_IDLE;
	pthread_mutex_unlock(&k->mu);
	return idle;
}

static void
worker_post(struct worker *k, int kind)
{
	pthread_mutex_lock(&k->mu);
	k->kind = kind;
	k->state = kind;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

/* Wait for the posted job, then hand the worker back as idle. */
static void
worker_finish(struct worker *k)
{
	pthread_mutex_lock(&k->mu);
	while (k->state != JOB_DONE && k->state != JOB_IDLE)
		pthread_cond_wait(&k->cv, &k->mu);
	k->state = JOB_IDLE;
	pthread_mutex_unlock(&k->mu);
}

/* Stat a listing read by this thread, in halves when the worker is free. */
static void
stat_listing(struct walk *w, struct listing *l)
{
	struct worker *k = w->wk;
	size_t half = l->n / 2;

	if (k == NULL || l->n < PAR_MIN || !worker_idle(k)) {
		stat_range(dirfd(l->d), l->names.ptr, l->ents, 0, l->n);
		return;
	}
	k->dfd = dirfd(l->d);
	k->names = l->names.ptr;
	k->ents = l->ents;
	k->lo = half;
	k->hi = l->n;
	worker_post(k, JOB_STAT);
	stat_range(dirfd(l->d), l->names.ptr, l->ents, 0, half);
	worker_finish(k);
}

/*
 * Take the read-ahead of entry I of L if there is one (returns 1), else
 * read it here (returns 0).
 */
static int
list_child(struct walk *w, struct listing *l, size_t i, struct listing *out)
{
	struct worker *k = w->wk;

	if (k != NULL && k->kind == JOB_LIST && k->parent == l &&
	    k->index == i && !worker_idle(k)) {
		worker_finish(k);
		*out = k->pf;
		memset(&k->pf, 0, sizeof(k->pf));
		k->parent = NULL;
		return 1;
	}
	list_open(out, dirfd(l->d), l->names.ptr + l->ents[i].off, 0);
	if (out->d != NULL)
		stat_listing(w, out);
	return 0;
}

/*
 * Start reading ahead a later sibling directory of entry I of L: the
 * next one, or with SKIP the one after it, so that the two threads take
 * alternate siblings and both read while this one also emits.
 */
static void
read_ahead(struct walk *w, struct listing *l, size_t i, int skip)
{
	struct worker *k = w->wk;
	size_t j;

	if (k == NULL || !worker_idle(k))
		return;
	for (j = i + 1; j < l->n; j++)
		if (l->ents[j].err == 0 && S_ISDIR(l->ents[j].sb.st_mode) &&
		    skip-- == 0)
			break;
	if (j == l->n)
		return;
	k->parent = l;
	k->index = j;
	worker_post(k, JOB_LIST);
}

/* A read-ahead of a child of L that was not taken: wait, discard it. */
static void
drop_ahead(struct walk *w, const struct listing *l)
{
	struct worker *k = w->wk;

	if (k == NULL || k->kind != JOB_LIST || k->parent != l ||
	    worker_idle(k))
		return;
	worker_finish(k);
	list_free(&k->pf);
	k->parent = NULL;
}

static int
emit(struct walk *w, const struct stat *sb, char type)
{
	struct iwm_rec r;

	r.op = IWM_OP_LIST;
	r.type = type;
	r.size = type != IWM_TYPE_DIR ? (uint64_t)sb->st_size : 0;
	r.mtime_sec = sb->st_mtim.tv_sec;
	r.mtime_nsec = sb->st_mtim.tv_nsec;
	r.mode = sb->st_mode & 07777;
	r.root = w->root;
	r.path = w->rel.ptr;
	r.path_len = w->rel.len;
	r.source = w->nosource ? NULL : w->src.ptr;
	r.note = NULL;
	if (type == IWM_TYPE_FILE) {
		w->st->files++;
		w->st->bytes += r.size;
	} else if (type == IWM_TYPE_LINK)
		w->st->links++;
	else
		w->st->dirs++;
	return w->cb(w->arg, &r);
}

static void
gone_or_unreadable(struct walk *w, int err)
{
	if (err == ENOENT) {
		iwm_warnx("%s: vanished during the scan, skipped", w->src.ptr);
		w->st->vanished++;
	} else {
		iwm_warnx("%s: %s", w->src.ptr, strerror(err));
		w->st->unreadable++;
	}
}

/* Emit the entries of L, depth first; rel and src name L. */
static int
walk_list(struct walk *w, struct listing *l)
{
	size_t i, rlen = w->rel.len, slen = w->src.len;
	int rc = 0;

	if (l->rderr != 0) {
		iwm_warnx("%s: %s", w->src.ptr, strerror(l->rderr));
		w->st->unreadable++;
	}
	for (i = 0; i < l->n && rc == 0; i++) {
		const char *name = l->names.ptr + l->ents[i].off;
		const struct stat *sb = &l->ents[i].sb;
		struct listing sub;

		w->rel.len = rlen;
		w->src.len = slen;
		if (rlen > 0)
			iwm_buf_addc(&w->rel, '/');
		iwm_buf_adds(&w->rel, name);
		iwm_buf_addc(&w->src, '/');
		iwm_buf_adds(&w->src, name);
		if (l->ents[i].err != 0) {
			gone_or_unreadable(w, l->ents[i].err);
			continue;
		}
		if (S_ISREG(sb->st_mode)) {
			rc = emit(w, sb, IWM_TYPE_FILE);
			continue;
		}
		if (S_ISLNK(sb->st_mode)) {
			/* Listed, never followed: the copy reports it, the
			 * target's listing lets it be deleted. */
			rc = emit(w, sb, IWM_TYPE_LINK);
			continue;
		}
		if (!S_ISDIR(sb->st_mode)) {
			iwm_warnx("%s: not a regular file or directory, "
			    "skipped", w->src.ptr);
			w->st->skipped++;
			continue;
		}
		if ((rc = emit(w, sb, IWM_TYPE_DIR)) != 0)
			break;
		read_ahead(w, l, i, list_child(w, l, i, &sub));
		if (sub.d == NULL) {
			gone_or_unreadable(w, sub.err);
			list_free(&sub);
			continue;
		}
		rc = walk_list(w, &sub);
		list_free(&sub);
	}
	drop_ahead(w, l);
	w->rel.len = rlen;
	w->src.len = slen;
	w->rel.ptr[rlen] = '\0';
	w->src.ptr[slen] = '\0';
	return rc;
}

int
iwm_walk(const char *root, const char *dir, const char *prefix, int self,
    int nosource, iwm_walk_cb cb, void *arg, struct iwm_walk_stats *st)
{
	struct walk w = { NULL, root, nosource, cb, arg, st, { 0 }, { 0 } };
	struct worker k;
	struct listing top;
	struct stat sb;
	size_t dl = strlen(dir);
	int fd, rc;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	iwm_buf_add(&w.src, dir, dl);
	iwm_buf_adds(&w.rel, prefix);
	while (w.rel.len > 0 && w.rel.ptr[w.rel.len - 1] == '/')
		w.rel.ptr[--w.rel.len] = '\0';
	fd = open(w.src.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		iwm_seterr_errno("%s", w.src.ptr);
		if (fd != -1)
			close(fd);
		rc = -1;
		goto out;
	}
	if (self && (rc = emit(&w, &sb, IWM_TYPE_DIR)) != 0) {
		close(fd);
		goto out;
	}
	memset(&k, 0, sizeof(k));
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
	    pthread_create(&k.tid, NULL, worker_main, &k) == 0)
		w.wk = &k;
	list_read(&top, fd);
	if (top.d == NULL) {
		errno = top.err;
		iwm_seterr_errno("%s", w.src.ptr);
		rc = -1;
	} else {
		stat_listing(&w, &top);
		rc = walk_list(&w, &top);
	}
	list_free(&top);
	if (w.wk != NULL) {
		pthread_mutex_lock(&k.mu);
		k.state = JOB_QUIT;
		pthread_cond_broadcast(&k.cv);
		pthread_mutex_unlock(&k.mu);
		pthread_join(k.tid, NULL);
	}
	pthread_mutex_destroy(&k.mu);
	pthread_cond_destroy(&k.cv);
out:
	iwm_buf_free(&w.rel);
	iwm_buf_free(&w.src);
	return rc;
}
