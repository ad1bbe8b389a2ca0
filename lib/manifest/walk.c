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
 * The kernel's lookups (one fstatat per entry) dominate a scan, so they
 * are shared: helper threads list and stat the directories that come
 * next in manifest order (and the next walk's top, when told) while the
 * calling thread emits; the calling thread stats the directory it waits
 * for in chunks claimed alongside the helpers, and works ahead too
 * rather than sleep.  What is read ahead is bounded (AHEAD_DIRS
 * listings, AHEAD_ENTS entries): memory is that of the listings on the
 * current path plus a constant, whatever the number of files.
 */
#define CHUNK		32	/* entries stat'ed per claim */
#define AHEAD_DIRS	32
#define AHEAD_ENTS	16384
#define MAX_HELPERS	3
#define DENTS_BUF	32768

struct entry {
	size_t	 off;		/* name offset in the names buffer */
	size_t	 len;		/* name length */
	uint64_t size;
	int64_t	 sec;
	long	 nsec;
	mode_t	 mode;
	int	 err;		/* errno of fstatat, or 0 */
};

enum { N_LISTING, N_STAT, N_DONE };

/*
 * One directory's listing, under the walker's mu but for what a job
 * writes alone: the lister fd, err, rderr, ents, n and names; a chunk's
 * stat its entries.  They are read once the state says they are done.
 */
struct node {
	struct node	*up;	/* listing holding this one's entry */
	size_t		 idx;	/* that entry */
	char		*dir;	/* a walk's top (no up): its path */
	int		 state;
	int		 busy;	/* threads listing or stat'ing it */
	int		 fd;	/* -1: could not be opened (err) */
	int		 err;
	int		 rderr;	/* errno of reading it, or 0 */
	struct entry	*ents;
	size_t		 n, cap;
	struct iwm_buf	 names;
	size_t		 claim;	/* next entry to stat */
	size_t		 left;	/* entries not yet stat'ed */
	/* N_DONE: the subdirectories, their listings once started */
	size_t		*dirs;
	struct node	**kids;
	size_t		 ndirs;
	size_t		 knext;	/* first kid the walk has not entered */
};

struct job {
	struct node	*nd;
	int		 list;	/* else stat entries lo..hi */
	size_t		 lo, hi;
};

struct iwm_walker {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work_cv;	/* helpers wait for work */
	pthread_cond_t	 done_cv;	/* the walk waits for a listing */
	int		 idle;		/* helpers waiting on work_cv */
	int		 full;		/* a helper stopped at the bound */
	int		 taken;		/* listings taken since */
	int		 waiting;	/* the walk waits on done_cv */
	int		 quit;
	pthread_t	 tid[MAX_HELPERS];
	int		 nhelpers;
	struct node	**path;		/* listings being emitted, top first */
	size_t		 depth, pathcap;
	char		*nextdir;	/* the next walk's top, when told */
	struct node	*next;		/* its listing, once started */

	/* The walk under way. */
	const char	*root;
	int		 nosource;
	iwm_walk_cb	 cb;
	void		*arg;
	struct iwm_walk_stats *st;
	struct iwm_buf	 rel;	/* path within the root */
	struct iwm_buf	 src;	/* absolute local path */
};

static struct node *
node_new(struct node *up, size_t idx)
{
	struct node *nd = iwm_calloc(1, sizeof(*nd));

	nd->up = up;
	nd->idx = idx;
	nd->fd = -1;
	nd->state = N_LISTING;
	return nd;
}

static void
stat_range(struct node *nd, size_t lo, size_t hi)
{
	struct stat sb;

	for (; lo < hi; lo++) {
		struct entry *e = &nd->ents[lo];

		if (fstatat(nd->fd, nd->names.ptr + e->off, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			e->err = errno;
			continue;
		}
		e->err = 0;
		e->mode = sb.st_mode;
		e->size = (uint64_t)sb.st_size;
		e->sec = sb.st_mtim.tv_sec;
		e->nsec = sb.st_mtim.tv_nsec;
	}
}

/* qsort_r: the walker runs in the agent's threads too. */
static int
cmp_entry(const void *a, const void *b, void *names)
{
	const struct entry *x = a, *y = b;

	return strcmp((char *)names + x->off, (char *)names + y->off);
}

/*
 * Open ND (a walk's top by its path, else by its entry in the parent
 * listing), read and sort its entries.  getdents64 with a large buffer:
 * one call for most directories, no DIR stream.
 */
static void
list_dir(struct node *nd)
{
	char buf[DENTS_BUF];
	struct entry *e;
	ssize_t r, p;
	int fd;

	if (nd->dir != NULL)
		fd = open(nd->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		const struct node *up = nd->up;

		fd = openat(up->fd, up->names.ptr + up->ents[nd->idx].off,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1) {
		nd->err = errno;
		return;
	}
	nd->fd = fd;
	for (;;) {
		if ((r = getdents64(fd, buf, sizeof(buf))) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			nd->rderr = r == -1 ? errno : 0;
			break;
		}
		/*
		 * Room for the chunk's names and entries at once: a record
		 * takes at least 24 bytes, its name and NUL fewer.
		 */
		iwm_buf_grow(&nd->names, (size_t)r);
		if (nd->cap - nd->n < (size_t)r / 24) {
			nd->cap = nd->n + (size_t)r / 24;
			nd->ents = iwm_reallocarray(nd->ents, nd->cap,
			    sizeof(*nd->ents));
		}
		for (p = 0; p < r;) {
			const struct dirent64 *de = (void *)(buf + p);
			const char *name = de->d_name;

			p += de->d_reclen;
			if (name[0] == '.' && (name[1] == '\0' ||
			    (name[1] == '.' && name[2] == '\0')))
				continue;
			e = &nd->ents[nd->n++];
			e->off = nd->names.len;
			e->len = strlen(name);
			memcpy(nd->names.ptr + e->off, name, e->len + 1);
			nd->names.len += e->len + 1;
		}
		nd->names.ptr[nd->names.len] = '\0';
	}
	if (nd->n > 1)
		qsort_r(nd->ents, nd->n, sizeof(*nd->ents), cmp_entry,
		    nd->names.ptr);
}

/*
 * Under mu: wake the helpers, or the walk, if they sleep.  The count is
 * cleared at once so that the events before they run make no more
 * futex calls; a sleeper counts itself again.
 */
static void
wake_helpers(struct iwm_walker *w)
{
	if (w->idle > 0) {
		w->idle = 0;
		pthread_cond_broadcast(&w->work_cv);
	}
}

static void
wake_walk(struct iwm_walker *w)
{
	if (w->waiting) {
		w->waiting = 0;
		pthread_cond_broadcast(&w->done_cv);
	}
}

/*
 * Under mu: the walk took a listing read ahead.  Helpers stopped by the
 * bound resume once a quarter of it is free, not at every listing (a
 * wake-up costs more than the wait).
 */
static void
room_made(struct iwm_walker *w)
{
	if (w->full && ++w->taken < AHEAD_DIRS / 4)
		return;
	w->full = 0;
	w->taken = 0;
	wake_helpers(w);
}

/* Under mu: all of ND is stat'ed; note its subdirectories. */
static void
node_done(struct iwm_walker *w, struct node *nd)
{
	size_t i, k = 0;

	for (i = 0; i < nd->n; i++)
		if (nd->ents[i].err == 0 && S_ISDIR(nd->ents[i].mode))
			k++;
	if (k > 0) {
		nd->dirs = iwm_reallocarray(NULL, k, sizeof(*nd->dirs));
		nd->kids = iwm_calloc(k, sizeof(*nd->kids));
		for (i = 0, k = 0; i < nd->n; i++)
			if (nd->ents[i].err == 0 && S_ISDIR(nd->ents[i].mode))
				nd->dirs[k++] = i;
	}
	nd->ndirs = k;
	nd->state = N_DONE;
	wake_walk(w);
	wake_helpers(w);
}

/* Under mu: claim the next chunk of ND's entries. */
static void
claim_chunk(struct node *nd, struct job *j)
{
	j->nd = nd;
	j->list = 0;
	j->lo = nd->claim;
	j->hi = nd->n - nd->claim > CHUNK ? nd->claim + CHUNK : nd->n;
	nd->claim = j->hi;
	nd->busy++;
}

/* Do J without mu held. */
static void
job_run(const struct job *j)
{
	if (j->list)
		list_dir(j->nd);
	else
		stat_range(j->nd, j->lo, j->hi);
}

/* Under mu: J is done. */
static void
job_end(struct iwm_walker *w, const struct job *j)
{
	struct node *nd = j->nd;

	nd->busy--;
	if (j->list) {
		nd->state = N_STAT;
		nd->left = nd->n;
		if (nd->n == 0)
			node_done(w, nd);
		else
			wake_helpers(w);
	} else {
		nd->left -= j->hi - j->lo;
		if (nd->left == 0)
			node_done(w, nd);
	}
	if (nd->busy == 0)
		wake_walk(w);
}

/*
 * Under mu: the first job in manifest order among the kids of ND from K
 * on and their subtrees: 1 found, 0 none, -1 the read-ahead is full.
 */
static int
find_in(struct node *nd, size_t k, size_t *dirs, size_t *ents,
    struct job *j)
{
	int r;

	for (; k < nd->ndirs; k++) {
		struct node *c = nd->kids[k];

		if (c == NULL) {
			if (*dirs >= AHEAD_DIRS || *ents >= AHEAD_ENTS)
				return -1;
			c = nd->kids[k] = node_new(nd, nd->dirs[k]);
			c->busy++;
			j->nd = c;
			j->list = 1;
			return 1;
		}
		(*dirs)++;
		if (c->state == N_LISTING)	/* n grows unlocked */
			continue;
		*ents += c->n;
		if (c->state == N_STAT && c->claim < c->n) {
			claim_chunk(c, j);
			return 1;
		}
		if (c->state == N_DONE && (r = find_in(c, 0, dirs, ents,
		    j)) != 0)
			return r;
	}
	return 0;
}

/* Under mu: the most urgent job (the walk's own listing first). */
static int
find_job(struct iwm_walker *w, struct job *j)
{
	size_t d, dirs = 0, ents = 0;
	struct node *top;
	int r;

	if (w->depth > 0) {
		top = w->path[w->depth - 1];
		if (top->state == N_STAT && top->claim < top->n) {
			claim_chunk(top, j);
			return 1;
		}
	}
	for (d = w->depth; d-- > 0;)
		if ((r = find_in(w->path[d], w->path[d]->knext, &dirs, &ents,
		    j)) != 0) {
			w->full = r == -1;
			return r == 1;
		}
	/* Then the next walk's top and what lies below it. */
	if (w->nextdir == NULL)
		return 0;
	if ((top = w->next) == NULL) {
		if (dirs >= AHEAD_DIRS || ents >= AHEAD_ENTS) {
			w->full = 1;
			return 0;
		}
		top = w->next = node_new(NULL, 0);
		top->dir = iwm_strdup(w->nextdir);
		top->busy++;
		j->nd = top;
		j->list = 1;
		return 1;
	}
	if (top->state == N_LISTING)
		return 0;
	dirs++;
	ents += top->n;
	if (top->state == N_STAT && top->claim < top->n) {
		claim_chunk(top, j);
		return 1;
	}
	if (top->state != N_DONE)
		return 0;
	r = find_in(top, 0, &dirs, &ents, j);
	w->full = r == -1;
	return r == 1;
}

static void *
helper_main(void *arg)
{
	struct iwm_walker *w = arg;
	struct job j;

	pthread_mutex_lock(&w->mu);
	while (!w->quit) {
		if (!find_job(w, &j)) {
			w->idle++;
			pthread_cond_wait(&w->work_cv, &w->mu);
			continue;
		}
		pthread_mutex_unlock(&w->mu);
		job_run(&j);
		pthread_mutex_lock(&w->mu);
		job_end(w, &j);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Under mu: wait until no helper works on ND. */
static void
wait_idle(struct iwm_walker *w, struct node *nd)
{
	while (nd->busy > 0) {
		w->waiting = 1;
		pthread_cond_wait(&w->done_cv, &w->mu);
	}
}

/* Under mu: free ND and what was read ahead below it. */
static void
node_free(struct iwm_walker *w, struct node *nd)
{
	size_t k;

	wait_idle(w, nd);
	for (k = 0; k < nd->ndirs; k++)
		if (nd->kids[k] != NULL)
			node_free(w, nd->kids[k]);
	if (nd->fd != -1)
		close(nd->fd);
	free(nd->dir);
	free(nd->ents);
	free(nd->dirs);
	free(nd->kids);
	iwm_buf_free(&nd->names);
	free(nd);
}

/*
 * Put ND (listed by nobody yet when MINE) on the path and wait, helping,
 * until it is all stat'ed.
 */
static void
enter(struct iwm_walker *w, struct node *nd, int mine)
{
	struct job j;

	pthread_mutex_lock(&w->mu);
	if (w->depth == w->pathcap) {
		w->pathcap = w->pathcap == 0 ? 16 : w->pathcap * 2;
		w->path = iwm_reallocarray(w->path, w->pathcap,
		    sizeof(*w->path));
	}
	w->path[w->depth++] = nd;
	if (mine) {
		pthread_mutex_unlock(&w->mu);
		j.nd = nd;
		j.list = 1;
		job_run(&j);
		pthread_mutex_lock(&w->mu);
		job_end(w, &j);
	}
	while (nd->state != N_DONE) {
		/*
		 * Its own chunks first, then any job ahead: the helper's
		 * chunk ends about when one of those does, and a sleep and
		 * a wake-up cost more.
		 */
		if (find_job(w, &j)) {
			pthread_mutex_unlock(&w->mu);
			job_run(&j);
			pthread_mutex_lock(&w->mu);
			job_end(w, &j);
			continue;
		}
		w->waiting = 1;
		pthread_cond_wait(&w->done_cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Take ND off the path and free it. */
static void
leave(struct iwm_walker *w, struct node *nd)
{
	pthread_mutex_lock(&w->mu);
	w->depth--;
	node_free(w, nd);
	pthread_mutex_unlock(&w->mu);
}

/* The listing of kid K of ND, started here when no helper did. */
static struct node *
kid(struct iwm_walker *w, struct node *nd, size_t k)
{
	struct node *c;
	int mine = 0;

	pthread_mutex_lock(&w->mu);
	if ((c = nd->kids[k]) == NULL) {
		c = node_new(nd, nd->dirs[k]);
		c->busy++;
		mine = 1;
	} else
		room_made(w);
	nd->kids[k] = NULL;
	nd->knext = k + 1;
	pthread_mutex_unlock(&w->mu);
	enter(w, c, mine);
	return c;
}

static int
emit(struct iwm_walker *w, const struct entry *e, char type)
{
	struct iwm_rec r;

	r.op = IWM_OP_LIST;
	r.type = type;
	r.size = type != IWM_TYPE_DIR ? e->size : 0;
	r.mtime_sec = e->sec;
	r.mtime_nsec = e->nsec;
	r.mode = e->mode & 07777;
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
gone_or_unreadable(struct iwm_walker *w, int err)
{
	if (err == ENOENT) {
		iwm_warnx("%s: vanished during the scan, skipped", w->src.ptr);
		w->st->vanished++;
	} else {
		iwm_warnx("%s: %s", w->src.ptr, strerror(err));
		w->st->unreadable++;
	}
}

/* Emit the entries of ND (on the path, all stat'ed), depth first. */
static int
walk_list(struct iwm_walker *w, struct node *nd)
{
	size_t i, k = 0, rlen = w->rel.len, slen = w->src.len;
	int rc = 0;

	if (nd->rderr != 0) {
		iwm_warnx("%s: %s", w->src.ptr, strerror(nd->rderr));
		w->st->unreadable++;
	}
	for (i = 0; i < nd->n && rc == 0; i++) {
		const char *name = nd->names.ptr + nd->ents[i].off;
		const struct entry *e = &nd->ents[i];
		struct node *c;

		w->rel.len = rlen;
		w->src.len = slen;
		if (rlen > 0)
			iwm_buf_addc(&w->rel, '/');
		iwm_buf_add(&w->rel, name, e->len);
		iwm_buf_addc(&w->src, '/');
		iwm_buf_add(&w->src, name, e->len);
		if (e->err != 0) {
			gone_or_unreadable(w, e->err);
			continue;
		}
		if (S_ISREG(e->mode)) {
			rc = emit(w, e, IWM_TYPE_FILE);
			continue;
		}
		if (S_ISLNK(e->mode)) {
			/* Listed, never followed: the copy reports it, the
			 * target's listing lets it be deleted. */
			rc = emit(w, e, IWM_TYPE_LINK);
			continue;
		}
		if (!S_ISDIR(e->mode)) {
			iwm_warnx("%s: not a regular file or directory, "
			    "skipped", w->src.ptr);
			w->st->skipped++;
			continue;
		}
		if ((rc = emit(w, e, IWM_TYPE_DIR)) != 0)
			break;
		c = kid(w, nd, k++);
		if (c->fd == -1)
			gone_or_unreadable(w, c->err);
		else
			rc = walk_list(w, c);
		leave(w, c);
	}
	w->rel.len = rlen;
	w->src.len = slen;
	w->rel.ptr[rlen] = '\0';
	w->src.ptr[slen] = '\0';
	return rc;
}

/* Under mu: forget the next walk's top and what was read below it. */
static void
drop_next(struct iwm_walker *w)
{
	struct node *nd = w->next;

	/* Out of the helpers' sight first: node_free waits for them. */
	w->next = NULL;
	free(w->nextdir);
	w->nextdir = NULL;
	if (nd != NULL)
		node_free(w, nd);
}

struct iwm_walker *
iwm_walker_new(void)
{
	struct iwm_walker *w = iwm_calloc(1, sizeof(*w));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int want = ncpu > MAX_HELPERS ? MAX_HELPERS : (int)ncpu - 1;

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work_cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	/* Without helpers the walk still works, alone. */
	while (w->nhelpers < want && pthread_create(&w->tid[w->nhelpers],
	    NULL, helper_main, w) == 0)
		w->nhelpers++;
	return w;
}

void
iwm_walker_free(struct iwm_walker *w)
{
	int i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	drop_next(w);
	w->quit = 1;
	pthread_cond_broadcast(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nhelpers; i++)
		pthread_join(w->tid[i], NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work_cv);
	pthread_cond_destroy(&w->done_cv);
	free(w->path);
	iwm_buf_free(&w->rel);
	iwm_buf_free(&w->src);
	free(w);
}

/*
 * The walk of the top DIR (trailing '/' dropped) is due: told ahead, it
 * may have been listed already; else it is done here.  NEXT (or NULL)
 * is the one after it, for the helpers to list ahead.
 */
static struct node *
take_top(struct iwm_walker *w, const char *dir, const char *next)
{
	size_t nl = next != NULL ? strlen(next) : 0;

	struct node *nd = NULL;
	int mine = 0;

	pthread_mutex_lock(&w->mu);
	if (w->nextdir != NULL && strcmp(w->nextdir, dir) == 0 &&
	    w->next != NULL) {
		nd = w->next;
		w->next = NULL;
	}
	drop_next(w);
	if (nd == NULL) {
		nd = node_new(NULL, 0);
		nd->dir = iwm_strdup(dir);
		nd->busy++;
		mine = 1;
	}
	if (next != NULL) {
		while (nl > 1 && next[nl - 1] == '/')
			nl--;
		w->nextdir = iwm_strndup(next, nl);
		wake_helpers(w);
	}
	pthread_mutex_unlock(&w->mu);
	enter(w, nd, mine);
	return nd;
}

int
iwm_walker_walk(struct iwm_walker *w, const char *root, const char *dir,
    const char *next, const char *prefix, int self, int nosource,
    iwm_walk_cb cb, void *arg, struct iwm_walk_stats *st)
{
	struct node *top;
	struct stat sb;
	struct entry e;
	size_t dl = strlen(dir);
	int rc;

	w->root = root;
	w->nosource = nosource;
	w->cb = cb;
	w->arg = arg;
	w->st = st;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	iwm_buf_reset(&w->src);
	iwm_buf_add(&w->src, dir, dl);
	iwm_buf_reset(&w->rel);
	iwm_buf_adds(&w->rel, prefix);
	while (w->rel.len > 0 && w->rel.ptr[w->rel.len - 1] == '/')
		w->rel.ptr[--w->rel.len] = '\0';
	top = take_top(w, w->src.ptr, next);
	if (top->fd == -1 || fstat(top->fd, &sb) == -1) {
		if (top->fd == -1)
			errno = top->err;
		iwm_seterr_errno("%s", w->src.ptr);
		rc = -1;
	} else if (self) {
		memset(&e, 0, sizeof(e));
		e.mode = sb.st_mode;
		e.sec = sb.st_mtim.tv_sec;
		e.nsec = sb.st_mtim.tv_nsec;
		rc = emit(w, &e, IWM_TYPE_DIR);
	} else
		rc = 0;
	if (rc == 0)
		rc = walk_list(w, top);
	leave(w, top);
	return rc;
}

int
iwm_walk(const char *root, const char *dir, const char *prefix, int self,
    int nosource, iwm_walk_cb cb, void *arg, struct iwm_walk_stats *st)
{
	struct iwm_walker *w = iwm_walker_new();
	int rc;

	rc = iwm_walker_walk(w, root, dir, NULL, prefix, self, nosource, cb,
	    arg, st);
	iwm_walker_free(w);
	return rc;
}
