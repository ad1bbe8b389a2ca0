/*
 * serve_fs.c: the agent's file operations, each confined below its
 * root.  Every path is a valid manifest path (checked by the caller)
 * and is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), so neither ".." nor a symlink planted in the
 * target tree can lead outside the root.  A file is written as an
 * anonymous inode (O_TMPFILE) in its own directory, gets its mode and
 * mtime and is then linked at its name: a crash leaves nothing behind,
 * and no temporary name is made and renamed.  Where the file system or
 * the agent's privileges do not allow that (iwm_fs_probe: NFS, CIFS,
 * no CAP_DAC_READ_SEARCH for linkat(AT_EMPTY_PATH)), it is written
 * under a temporary name (IWM_TMP_PREFIX) and renamed into place.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transfer.h"

#define RESOLVE_FLAGS	(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | \
			 RESOLVE_NO_MAGICLINKS)

static atomic_ulong tmpseq;

/* The pid in temporary names, asked once: a getpid(2) a file adds up. */
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;
static long pid_cached;

static void
pid_init(void)
{
	pid_cached = (long)getpid();
}

static long
tmp_pid(void)
{
	pthread_once(&pid_once, pid_init);
	return pid_cached;
}

/* A fresh temporary name, IWM_TMP_PREFIX WHAT PID-SEQ, into BUF. */
static void
tmp_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s%s%ld-%lu", IWM_TMP_PREFIX, what, tmp_pid(),
	    atomic_fetch_add(&tmpseq, 1));
}

/*
 * The process's umask, asked once: a file is created with the mode it
 * will keep when the umask lets it, which spares an fchmod(2) a file.
 */
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;
static mode_t umask_cached;

static void
umask_init(void)
{
	umask_cached = umask(022);
	(void)umask(umask_cached);
}

static unsigned
create_mode(unsigned mode)
{
	pthread_once(&umask_once, umask_init);
	return mode & 0777 & ~(unsigned)umask_cached;
}

/*
 * The owner of what the agent writes (iwm-serve --owner, or the target
 * server's IWS_PROCESS_USER): set once before serving, then only read.
 */
static int	own_set;
static uid_t	own_uid;
static gid_t	own_gid;

void
iwm_fs_set_owner(uid_t uid, gid_t gid)
{
	own_uid = uid;
	own_gid = gid;
	own_set = 1;
}

/* Give FD to the owner, before its mode is set (chown clears set-id bits). */
static int
own_fd(int fd)
{
	return own_set ? fchown(fd, own_uid, own_gid) : 0;
}

int
iwm_errno_status(int e)
{
	switch (e) {
	case ENOENT:
		return 404;
	case ELOOP:
	case EXDEV:
	case EACCES:
	case EPERM:
		return 403;
	case EISDIR:
	case ENOTDIR:
	case ENOTEMPTY:
	case EEXIST:
		return 409;
	case ENOSPC:
	case EDQUOT:
		return 507;
	case ENAMETOOLONG:
		return 414;
	default:
		return 500;
	}
}

static int
openat2_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags | O_CLOEXEC;
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_FLAGS;
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd == -1 && errno == EAGAIN);
	return (int)fd;
}

int
iwm_fs_open(int rootfd, const char *path, int flags)
{
	return openat2_beneath(rootfd, *path ? path : ".", flags, 0);
}

/* Create the root directory if needed (the admin named it). */
int
iwm_fs_open_root(struct iwm_serve_root *r)
{
	struct iwm_buf b = { 0 };
	char *p;

	iwm_buf_adds(&b, r->dir);
	for (p = b.ptr + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(b.ptr, 0755) == 0) {
				if (own_set && c == '\0' &&
				    chown(b.ptr, own_uid, own_gid) == -1) {
					iwm_seterr_errno("root %s: chown %s",
					    r->name, b.ptr);
					iwm_buf_free(&b);
					return -1;
				}
			} else if (errno != EEXIST) {
				iwm_seterr_errno("root %s: %s", r->name, b.ptr);
				iwm_buf_free(&b);
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	iwm_buf_free(&b);
	r->fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->fd == -1) {
		iwm_seterr_errno("root %s: %s", r->name, r->dir);
		return -1;
	}
	return 0;
}

static void
sweep_dir(int fd, uint64_t *removed)
{
	struct dirent *de;
	DIR *d;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, IWM_TMP_PREFIX,
		    IWM_TMP_PREFIX_LEN) == 0) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				(*removed)++;
			continue;
		}
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub != -1)
				sweep_dir(sub, removed);
		}
	}
	closedir(d);
}

/* Remove temp files an interrupted upload left behind. */
int
iwm_fs_sweep(struct iwm_serve_root *r, uint64_t *removed)
{
	int fd = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		iwm_seterr_errno("%s", r->dir);
		return -1;
	}
	sweep_dir(fd, removed);
	return 0;
}

void
iwm_dircache_init(struct iwm_dircache *c, const struct iwm_serve_root *root)
{
	memset(c, 0, sizeof(*c));
	c->rootfd = root != NULL ? root->fd : -1;
	c->anon = root != NULL && root->anon;
	c->fd = -1;
}

/*
 * The directory held gets back the mtime it had before the first file
 * went in (the new names changed it): a directory keeps its time
 * whether files went in or not, and when the source's changed too, its
 * own record in the pass sets it afterwards.  Once a directory, not
 * once a file.
 */
void
iwm_dircache_settle(struct iwm_dircache *c)
{
	struct timespec ts[2];

	if (c->fd == -1 || !c->touched)
		return;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = c->dirtime;
	(void)futimens(c->fd, ts);
	c->touched = 0;
}

void
iwm_dircache_free(struct iwm_dircache *c)
{
	iwm_dircache_settle(c);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->have_id = c->touched = 0;
	iwm_buf_free(&c->path);
}

/*
 * The directory held is the one at its path now: one fstatat(2) of the
 * path against the identity taken when it was opened.  Only compared,
 * never used to open anything, so a symlink on the way can only make
 * it differ.
 */
int
iwm_dircache_in_place(const struct iwm_dircache *c)
{
	struct stat sb;
	int rc;

	if (c->fd == -1 || !c->have_id)
		return 0;
	if (c->path.len > 0)
		rc = fstatat(c->rootfd, c->path.ptr, &sb, AT_SYMLINK_NOFOLLOW);
	else
		rc = fstat(c->rootfd, &sb);
	return rc == 0 && sb.st_dev == c->dev && sb.st_ino == c->ino;
}

/* Walk down creating each missing directory (mode 0755). */
static int
mkparents(int rootfd, const char *path, size_t len)
{
	struct iwm_buf comp = { 0 };
	const char *p = path, *end = path + len;
	int fd = dup(rootfd);

	if (fd == -1)
		return -1;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *ce = slash ? slash : end;
		int nfd;

		iwm_buf_reset(&comp);
		iwm_buf_add(&comp, p, (size_t)(ce - p));
		int made = mkdirat(fd, comp.ptr, 0755) == 0;

		if (!made && errno != EEXIST)
			goto fail;
		if ((nfd = openat2_beneath(fd, comp.ptr, O_RDONLY | O_DIRECTORY,
		    0)) == -1)
			goto fail;
		if (made && own_fd(nfd) == -1) {
			close(fd);
			fd = nfd;
			goto fail;
		}
		close(fd);
		fd = nfd;
		p = ce + 1;
	}
	iwm_buf_free(&comp);
	return fd;
fail:
	{
		int e = errno;

		close(fd);
		iwm_buf_free(&comp);
		errno = e;
	}
	return -1;
}

/*
 * The directory holding PATH, kept open in the cache for the next file
 * of a batch.  *BASE gets the last component.  -1 with errno set.
 */
int
iwm_fs_parent(struct iwm_dircache *c, const char *path, int create,
    const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash ? (size_t)(slash - path) : 0;
	struct stat sb;
	int fd;

	*base = slash ? slash + 1 : path;
	if (c->fd != -1 && c->path.len == plen &&
	    memcmp(c->path.ptr, path, plen) == 0)
		return c->fd;
	iwm_dircache_settle(c);
	iwm_buf_reset(&c->path);
	iwm_buf_add(&c->path, path, plen);
	fd = openat2_beneath(c->rootfd, plen ? c->path.ptr : ".",
	    O_RDONLY | O_DIRECTORY, 0);
	if (fd == -1 && errno == ENOENT && create)
		fd = mkparents(c->rootfd, path, plen);
	if (c->fd != -1)
		close(c->fd);
	c->fd = fd;
	c->have_id = c->touched = 0;
	if (fd == -1) {
		int e = errno;

		iwm_buf_reset(&c->path);
		errno = e;
		return -1;
	}
	/* Its identity, for the checks that it did not move. */
	if (fstat(fd, &sb) == 0) {
		c->dev = sb.st_dev;
		c->ino = sb.st_ino;
		c->have_id = 1;
	}
	return fd;
}

/* A file goes in: the held directory's mtime before it (settle). */
static void
dc_touch(struct iwm_dircache *c)
{
	struct stat sb;

	if (!c->touched && fstat(c->fd, &sb) == 0) {
		c->dirtime = sb.st_mtim;
		c->touched = 1;
	}
}

/* A new temporary name in the file's directory, opened with the mode. */
static int
fput_named(struct iwm_fput *f)
{
	for (;;) {
		tmp_name(f->tmp, sizeof(f->tmp), "");
		f->fd = openat(f->dirfd, f->tmp, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, f->cmode);
		if (f->fd != -1 || errno != EEXIST)
			return f->fd;
	}
}

/*
 * Begin writing PATH (its mode MODE) in the directory the cache holds
 * for it.  -1 with errno set.
 */
int
iwm_fput_begin(struct iwm_fput *f, struct iwm_dircache *c, const char *path,
    unsigned mode)
{
	const char *base;

	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
	if ((f->dirfd = iwm_fs_parent(c, path, 1, &base)) == -1)
		return -1;
	f->cmode = create_mode(mode);
	dc_touch(c);
	if (c->anon) {
		f->fd = openat(f->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
		    f->cmode);
		if (f->fd != -1)
			f->anon = 1;
		else if (errno == EOPNOTSUPP || errno == EISDIR ||
		    errno == EINVAL)
			c->anon = 0;	/* another file system below */
	}
	/* c->anon still set: O_TMPFILE failed, not for lack of it. */
	if (f->fd == -1 && (c->anon || fput_named(f) == -1)) {
		f->dirfd = -1;
		return -1;
	}
	f->name = iwm_strdup(base);
	return 0;
}

int
iwm_fput_write(struct iwm_fput *f, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(f->fd, c, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

void
iwm_fput_abort(struct iwm_fput *f)
{
	int e = errno;

	if (f->fd != -1) {
		close(f->fd);
		if (!f->anon)
			unlinkat(f->dirfd, f->tmp, 0);
	}
	free(f->name);
	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
	errno = e;
}

/*
 * The directory the upload was begun in left its path (the cache holds
 * the one there now): a named upload follows it there.
 */
int
iwm_fput_reparent(struct iwm_fput *f, struct iwm_dircache *c)
{
	if (!f->anon && renameat(f->dirfd, f->tmp, c->fd, f->tmp) == -1)
		return -1;
	f->dirfd = c->fd;
	dc_touch(c);
	return 0;
}

/*
 * An anonymous upload linked at its name.  A name already there is
 * replaced through a temporary name and a rename, so that the old file
 * stays whole until the new one is: 1 when that is left to do, 0 done,
 * -1 failed.
 */
static int
fput_link(struct iwm_fput *f)
{
	if (linkat(f->fd, "", f->dirfd, f->name, AT_EMPTY_PATH) == 0) {
		if (close(f->fd) == -1) {
			int e = errno;

			f->fd = -1;
			unlinkat(f->dirfd, f->name, 0);
			errno = e;
			return -1;
		}
		f->fd = -1;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	for (;;) {
		tmp_name(f->tmp, sizeof(f->tmp), "");
		if (linkat(f->fd, "", f->dirfd, f->tmp, AT_EMPTY_PATH) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	f->anon = 0;
	return 1;
}

int
iwm_fput_commit(struct iwm_fput *f, unsigned mode, int64_t sec, long nsec,
    int dosync)
{
	struct timespec ts[2];
	int rc;

	ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
	ts[0].tv_nsec = ts[1].tv_nsec = nsec;
	if (own_fd(f->fd) == -1 || ((mode & 07777) != f->cmode &&
	    fchmod(f->fd, mode & 07777) == -1) ||
	    (dosync && fdatasync(f->fd) == -1) ||
	    futimens(f->fd, ts) == -1)
		goto fail;
	if (f->anon) {
		if ((rc = fput_link(f)) == -1)
			goto fail;
		if (rc == 0) {
			iwm_fput_abort(f);	/* frees what is left */
			return 0;
		}
	}
	if (close(f->fd) == -1) {
		f->fd = -1;
		unlinkat(f->dirfd, f->tmp, 0);
		goto fail;
	}
	f->fd = -1;
	if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) == -1) {
		int e = errno;

		unlinkat(f->dirfd, f->tmp, 0);
		errno = e;
		goto fail;
	}
	iwm_fput_abort(f);	/* frees what is left */
	return 0;
fail:
	iwm_fput_abort(f);
	return -1;
}

/* Already absent counts as done: deleting is idempotent. */
int
iwm_fs_delete(struct iwm_dircache *c, const char *path, int isdir)
{
	const char *base;
	int dfd = iwm_fs_parent(c, path, 0, &base);

	if (dfd == -1)
		return errno == ENOENT ? 0 : -1;
	if (iwm_is_tmpname(base)) {
		errno = EACCES;
		return -1;
	}
	if (unlinkat(dfd, base, isdir ? AT_REMOVEDIR : 0) == -1)
		return errno == ENOENT ? 0 : -1;
	return 0;
}

int
iwm_fs_mkdir(struct iwm_dircache *c, const char *path, unsigned mode,
    int64_t sec, long nsec, int settime)
{
	struct timespec ts[2];
	const char *base;
	int dfd = iwm_fs_parent(c, path, 1, &base), fd;

	if (dfd == -1)
		return -1;
	if (mkdirat(dfd, base, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((fd = openat2_beneath(dfd, base, O_RDONLY | O_DIRECTORY, 0)) == -1)
		return -1;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
	ts[0].tv_nsec = ts[1].tv_nsec = nsec;
	if (own_fd(fd) == -1 || fchmod(fd, mode & 07777) == -1 ||
	    (settime && futimens(fd, ts) == -1)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* --- what the file system stores ------------------------------------ */

static int
probe_time(int fd, int64_t sec, long nsec, struct timespec *got)
{
	struct timespec ts[2];
	struct stat sb;

	ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
	ts[0].tv_nsec = ts[1].tv_nsec = nsec;
	if (futimens(fd, ts) == -1 || fstat(fd, &sb) == -1)
		return -1;
	*got = sb.st_mtim;
	return 0;
}

/*
 * Whether files can be written as O_TMPFILE inodes and linked at their
 * name: the file system must have O_TMPFILE and the agent the right to
 * linkat(AT_EMPTY_PATH) (CAP_DAC_READ_SEARCH before Linux 6.10).
 */
static int
probe_anon(int rootfd, const char *name)
{
	int fd, ok;

	if ((fd = openat(rootfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC,
	    0600)) == -1)
		return 0;
	ok = linkat(fd, "", rootfd, name, AT_EMPTY_PATH) == 0;
	close(fd);
	if (ok)
		unlinkat(rootfd, name, 0);
	return ok;
}

/*
 * Set a few mtimes and modes on a temporary file and read back what the
 * file system kept: the mtime granularity (a FAT volume keeps 2 s, ext3
 * with small inodes 1 s, NTFS through CIFS 100 ns), the range of mtimes
 * (ext4 clamps beyond 2446), and whether permission bits are kept.
 */
int
iwm_fs_probe(struct iwm_serve_root *r)
{
	static const long want = 123456789;
	struct timespec got, ts[2];
	struct stat sb, root;
	char name[64];
	long k;
	int fd, have_root;

	r->mtime_res = 1000000000;
	r->mtime_min = INT64_MIN;
	r->mtime_max = INT64_MAX;
	r->modes = 1;
	have_root = fstat(r->fd, &root) == 0;
	tmp_name(name, sizeof(name), "probe-");
	if ((fd = openat(r->fd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		/* A read-only root: nothing will be written anyway. */
		iwm_seterr_errno("root %s: %s: cannot learn what its file "
		    "system stores", r->name, r->dir);
		r->mtime_res = 1;
		return -1;
	}
	if (probe_time(fd, 1000000001, want, &got) == 0) {
		if (got.tv_sec == 1000000000)
			r->mtime_res = 2000000000;
		else if (got.tv_sec == 1000000001 && got.tv_nsec == want)
			r->mtime_res = 1;
		else if (got.tv_sec == 1000000001)
			for (k = 10; k < 1000000000; k *= 10)
				if (got.tv_nsec == want - want % k) {
					r->mtime_res = k;
					break;
				}
	}
	if (probe_time(fd, (int64_t)1 << 62, 0, &got) == 0)
		r->mtime_max = got.tv_sec;
	if (probe_time(fd, -((int64_t)1 << 62), 0, &got) == 0)
		r->mtime_min = got.tv_sec;
	if (fchmod(fd, 0640) == -1 || fstat(fd, &sb) == -1 ||
	    (sb.st_mode & 07777) != 0640 || fchmod(fd, 0604) == -1 ||
	    fstat(fd, &sb) == -1 || (sb.st_mode & 07777) != 0604)
		r->modes = 0;
	close(fd);
	unlinkat(r->fd, name, 0);
	r->anon = probe_anon(r->fd, name);
	if (have_root) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = root.st_mtim;
		(void)futimens(r->fd, ts);
	}
	return 0;
}

/* --- racily clean copies ---------------------------------------------- */

/*
 * A sorted set of paths, in memory and in IWM_RACY_FILE (one escaped
 * path a line, rewritten whole under a temporary name on each change).
 * There are few: only copies of files changed within a clock tick of
 * being read.
 */
struct iwm_racy {
	pthread_mutex_t	 mu;
	char		**v;
	size_t		 n, cap;
	atomic_size_t	 count;		/* n, read without the lock */
};

static int
racy_find(const struct iwm_racy *s, const char *path, size_t len, size_t *at)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		size_t ml = strlen(s->v[mid]);
		int c = memcmp(s->v[mid], path, ml < len ? ml : len);

		if (c == 0)
			c = ml < len ? -1 : ml > len ? 1 : 0;
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

static void
racy_insert(struct iwm_racy *s, const char *path, size_t len)
{
	size_t at;

	if (racy_find(s, path, len, &at))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = iwm_reallocarray(s->v, s->cap, sizeof(*s->v));
	}
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at] = iwm_strndup(path, len);
	s->n++;
	atomic_store(&s->count, s->n);
}

static int
racy_save(struct iwm_serve_root *r)
{
	struct iwm_racy *s = r->racy;
	struct iwm_buf b = { 0 };
	char tmp[64];
	size_t i;
	int fd, ok;

	if (s->n == 0) {
		if (unlinkat(r->fd, IWM_RACY_FILE, 0) == -1 && errno != ENOENT)
			return -1;
		return 0;
	}
	for (i = 0; i < s->n; i++) {
		iwm_escape_buf(&b, s->v[i], strlen(s->v[i]));
		iwm_buf_addc(&b, '\n');
	}
	tmp_name(tmp, sizeof(tmp), "racy-");
	if ((fd = openat(r->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		iwm_buf_free(&b);
		return -1;
	}
	ok = write(fd, b.ptr, b.len) == (ssize_t)b.len && fdatasync(fd) == 0;
	if (close(fd) == -1)
		ok = 0;
	iwm_buf_free(&b);
	if (!ok || renameat(r->fd, tmp, r->fd, IWM_RACY_FILE) == -1) {
		int e = errno;

		unlinkat(r->fd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int
iwm_racy_open(struct iwm_serve_root *r)
{
	struct iwm_racy *s = iwm_calloc(1, sizeof(*s));
	struct iwm_lines l;
	char *line;
	size_t len;
	int fd, rc;

	pthread_mutex_init(&s->mu, NULL);
	r->racy = s;
	if ((fd = openat(r->fd, IWM_RACY_FILE, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		iwm_seterr_errno("root %s: %s/%s", r->name, r->dir,
		    IWM_RACY_FILE);
		return -1;
	}
	iwm_lines_fdopen(&l, fd, IWM_RACY_FILE);
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		struct iwm_buf b = { 0 };
		size_t i;

		/* Undo the manifest escapes. */
		for (i = 0; i < len; i++) {
			if (line[i] == '\\' && i + 1 < len) {
				i++;
				iwm_buf_addc(&b, line[i] == 't' ? '\t' :
				    line[i] == 'n' ? '\n' : line[i] == 'r' ?
				    '\r' : line[i]);
			} else
				iwm_buf_addc(&b, line[i]);
		}
		if (b.len > 0 && iwm_path_valid(b.ptr, b.len))
			racy_insert(s, b.ptr, b.len);
		iwm_buf_free(&b);
	}
	iwm_lines_close(&l);
	if (rc == -1) {
		iwm_seterr_errno("root %s: %s/%s", r->name, r->dir,
		    IWM_RACY_FILE);
		return -1;
	}
	return 0;
}

/* Mark PATH racy or clean; kept on disk before this returns. */
int
iwm_racy_mark(struct iwm_serve_root *r, const char *path, int racy)
{
	struct iwm_racy *s = r->racy;
	size_t at, len = strlen(path);
	int rc = 0, had;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->mu);
	had = racy_find(s, path, len, &at);
	if (racy && !had) {
		racy_insert(s, path, len);
		rc = racy_save(r);
	} else if (!racy && had) {
		free(s->v[at]);
		memmove(s->v + at, s->v + at + 1,
		    (s->n - at - 1) * sizeof(*s->v));
		s->n--;
		atomic_store(&s->count, s->n);
		rc = racy_save(r);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
iwm_racy_has(struct iwm_serve_root *r, const char *path, size_t len)
{
	struct iwm_racy *s = r->racy;
	size_t at;
	int has;

	/* A listing asks for every file: no lock while there is none. */
	if (s == NULL || atomic_load(&s->count) == 0)
		return 0;
	pthread_mutex_lock(&s->mu);
	has = s->n > 0 && racy_find(s, path, len, &at);
	pthread_mutex_unlock(&s->mu);
	return has;
}

void
iwm_racy_free(struct iwm_serve_root *r)
{
	size_t i;

	if (r->racy == NULL)
		return;
	for (i = 0; i < r->racy->n; i++)
		free(r->racy->v[i]);
	free(r->racy->v);
	pthread_mutex_destroy(&r->racy->mu);
	free(r->racy);
	r->racy = NULL;
}
