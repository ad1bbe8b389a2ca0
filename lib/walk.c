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
 * Large directories are stat'ed by two threads, each taking half: the
 * kernel's lookups dominate a scan, and a second core halves them.
 */
#define PAR_MIN		32

struct entry {
	size_t	 off;		/* name offset in the names buffer */
	int	 err;		/* errno of fstatat, or 0 */
	struct stat sb;
};

struct statjob {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 state;	/* 0 idle, 1 work posted, 2 done, 3 quit */
	int		 dfd;
	const char	*names;
	struct entry	*ents;
	size_t		 lo, hi;
};

struct walk {
	struct statjob	*job;	/* NULL: single-threaded */
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

static void *
stat_worker(void *arg)
{
	struct statjob *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (j->state != 1 && j->state != 3)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->state == 3)
			break;
		pthread_mutex_unlock(&j->mu);
		stat_range(j->dfd, j->names, j->ents, j->lo, j->hi);
		pthread_mutex_lock(&j->mu);
		j->state = 2;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void
stat_all(struct walk *w, int dfd, const char *names, struct entry *e,
    size_t n)
{
	struct statjob *j = w->job;
	size_t half = n / 2;

	if (j == NULL || n < PAR_MIN) {
		stat_range(dfd, names, e, 0, n);
		return;
	}
	pthread_mutex_lock(&j->mu);
	j->dfd = dfd;
	j->names = names;
	j->ents = e;
	j->lo = half;
	j->hi = n;
	j->state = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	stat_range(dfd, names, e, 0, half);
	pthread_mutex_lock(&j->mu);
	while (j->state != 2)
		pthread_cond_wait(&j->cv, &j->mu);
	j->state = 0;
	pthread_mutex_unlock(&j->mu);
}

/* qsort_r: the walker runs in the agent's threads too. */
static int
cmp_entry(const void *a, const void *b, void *names)
{
	const struct entry *x = a, *y = b;

	return strcmp((char *)names + x->off, (char *)names + y->off);
}

static int
emit(struct walk *w, const struct stat *sb, char type)
{
	struct iwm_rec r;

	r.op = IWM_OP_LIST;
	r.type = type;
	r.size = type == IWM_TYPE_FILE ? (uint64_t)sb->st_size : 0;
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
	} else
		w->st->dirs++;
	return w->cb(w->arg, &r);
}

/* List the directory open as FD; rel and src name it. Closes FD. */
static int
walk_dir(struct walk *w, int fd)
{
	DIR *d;
	struct dirent *de;
	struct entry *ents = NULL;
	struct iwm_buf names = { 0 };
	size_t n = 0, cap = 0, i, rlen, slen;
	int rc = 0;

	if ((d = fdopendir(fd)) == NULL) {
		iwm_warnx("%s: %s", w->src.ptr, strerror(errno));
		close(fd);
		w->st->unreadable++;
		return 0;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			ents = iwm_reallocarray(ents, cap, sizeof(*ents));
		}
		ents[n].off = names.len;
		iwm_buf_add(&names, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	if (errno != 0) {
		iwm_warnx("%s: %s", w->src.ptr, strerror(errno));
		w->st->unreadable++;
	}
	if (n > 1)
		qsort_r(ents, n, sizeof(*ents), cmp_entry, names.ptr);
	stat_all(w, dirfd(d), names.ptr, ents, n);
	rlen = w->rel.len;
	slen = w->src.len;
	for (i = 0; i < n && rc == 0; i++) {
		const char *name = names.ptr + ents[i].off;
		const struct stat *sb = &ents[i].sb;

		w->rel.len = rlen;
		w->src.len = slen;
		if (rlen > 0)
			iwm_buf_addc(&w->rel, '/');
		iwm_buf_adds(&w->rel, name);
		iwm_buf_addc(&w->src, '/');
		iwm_buf_adds(&w->src, name);
		if (ents[i].err != 0) {
			if (ents[i].err == ENOENT) {
				iwm_warnx("%s: vanished during the scan, skipped",
				    w->src.ptr);
				w->st->vanished++;
			} else {
				iwm_warnx("%s: %s", w->src.ptr,
				    strerror(ents[i].err));
				w->st->unreadable++;
			}
			continue;
		}
		if (S_ISREG(sb->st_mode))
			rc = emit(w, sb, IWM_TYPE_FILE);
		else if (S_ISDIR(sb->st_mode)) {
			int sub;

			if ((rc = emit(w, sb, IWM_TYPE_DIR)) != 0)
				break;
			sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (sub == -1) {
				if (errno == ENOENT) {
					iwm_warnx("%s: vanished during the "
					    "scan", w->src.ptr);
					w->st->vanished++;
				} else {
					iwm_warnx("%s: %s", w->src.ptr,
					    strerror(errno));
					w->st->unreadable++;
				}
				continue;
			}
			rc = walk_dir(w, sub);
		} else {
			iwm_warnx("%s: not a regular file or directory, "
			    "skipped", w->src.ptr);
			w->st->skipped++;
		}
	}
	w->rel.len = rlen;
	w->src.len = slen;
	w->rel.ptr[rlen] = '\0';
	w->src.ptr[slen] = '\0';
	closedir(d);
	free(ents);
	iwm_buf_free(&names);
	return rc;
}

int
iwm_walk(const char *root, const char *dir, const char *prefix, int self,
    int nosource, iwm_walk_cb cb, void *arg, struct iwm_walk_stats *st)
{
	struct walk w = { NULL, root, nosource, cb, arg, st, { 0 }, { 0 } };
	struct statjob job;
	pthread_t tid;
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
	memset(&job, 0, sizeof(job));
	pthread_mutex_init(&job.mu, NULL);
	pthread_cond_init(&job.cv, NULL);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
	    pthread_create(&tid, NULL, stat_worker, &job) == 0)
		w.job = &job;
	rc = walk_dir(&w, fd);
	if (w.job != NULL) {
		pthread_mutex_lock(&job.mu);
		job.state = 3;
		pthread_cond_broadcast(&job.cv);
		pthread_mutex_unlock(&job.mu);
		pthread_join(tid, NULL);
	}
	pthread_mutex_destroy(&job.mu);
	pthread_cond_destroy(&job.cv);
out:
	iwm_buf_free(&w.rel);
	iwm_buf_free(&w.src);
	return rc;
}
