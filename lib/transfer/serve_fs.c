/*
 * serve_fs.c: the agent's file operations, each confined below its
 * root.  Every path is a valid manifest path (checked by the caller)
 * and is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), so neither ".." nor a symlink planted in the
 * target tree can lead outside the root.  Files are written under a
 * temporary name (IWM_TMP_PREFIX) in their own directory, then get
 * their mode and mtime and are renamed into place.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transfer.h"

#define RESOLVE_FLAGS	(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | \
			 RESOLVE_NO_MAGICLINKS)

static atomic_ulong tmpseq;

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
			if (mkdir(b.ptr, 0755) == -1 && errno != EEXIST) {
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
		if (iwm_is_tmpname(de->d_name)) {
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
iwm_dircache_init(struct iwm_dircache *c, int rootfd)
{
	memset(c, 0, sizeof(*c));
	c->rootfd = rootfd;
	c->fd = -1;
}

void
iwm_dircache_free(struct iwm_dircache *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	iwm_buf_free(&c->path);
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
		if (mkdirat(fd, comp.ptr, 0755) == -1 && errno != EEXIST)
			goto fail;
		if ((nfd = openat2_beneath(fd, comp.ptr, O_RDONLY | O_DIRECTORY,
		    0)) == -1)
			goto fail;
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
	int fd;

	*base = slash ? slash + 1 : path;
	if (c->fd != -1 && c->path.len == plen &&
	    memcmp(c->path.ptr, path, plen) == 0)
		return c->fd;
	iwm_buf_reset(&c->path);
	iwm_buf_add(&c->path, path, plen);
	fd = openat2_beneath(c->rootfd, plen ? c->path.ptr : ".",
	    O_RDONLY | O_DIRECTORY, 0);
	if (fd == -1 && errno == ENOENT && create)
		fd = mkparents(c->rootfd, path, plen);
	if (c->fd != -1)
		close(c->fd);
	c->fd = fd;
	if (fd == -1) {
		int e = errno;

		iwm_buf_reset(&c->path);
		errno = e;
	}
	return fd;
}

int
iwm_fput_begin(struct iwm_fput *f, struct iwm_dircache *c, const char *path)
{
	const char *base;
	struct stat sb;
	int dfd;

	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
	if ((dfd = iwm_fs_parent(c, path, 1, &base)) == -1)
		return -1;
	if ((f->dirfd = dup(dfd)) == -1)
		return -1;
	/* The directory's mtime before the temporary name touches it. */
	if (fstat(f->dirfd, &sb) == 0) {
		f->dirtime = sb.st_mtim;
		f->have_dirtime = 1;
	}
	for (;;) {
		snprintf(f->tmp, sizeof(f->tmp), "%s%ld-%lu", IWM_TMP_PREFIX,
		    (long)getpid(), atomic_fetch_add(&tmpseq, 1));
		f->fd = openat(f->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd != -1 || errno != EEXIST)
			break;
	}
	if (f->fd == -1) {
		int e = errno;

		close(f->dirfd);
		f->dirfd = -1;
		errno = e;
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
		unlinkat(f->dirfd, f->tmp, 0);
	}
	if (f->dirfd != -1)
		close(f->dirfd);
	free(f->name);
	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
	errno = e;
}

int
iwm_fput_commit(struct iwm_fput *f, unsigned mode, int64_t sec, long nsec,
    int dosync)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
	ts[0].tv_nsec = ts[1].tv_nsec = nsec;
	if (fchmod(f->fd, mode & 07777) == -1 ||
	    (dosync && fdatasync(f->fd) == -1) ||
	    futimens(f->fd, ts) == -1)
		goto fail;
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
	/*
	 * The directory keeps the mtime it had: when the source's changed
	 * too, the directory's own record in the pass sets it afterwards.
	 */
	if (f->have_dirtime) {
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = f->dirtime;
		(void)futimens(f->dirfd, ts);
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
	if (fchmod(fd, mode & 07777) == -1 ||
	    (settime && futimens(fd, ts) == -1)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}
