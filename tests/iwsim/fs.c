/* fs.c: file system helpers; plain write(2), no fsync: benchmarks run on tmpfs. */
#include "iwsim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p: try the leaf first; on ENOENT make the parent (recursively) and retry. */
int
fs_mkdirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	char *slash;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	memcpy(tmp, path, n + 1);
	slash = strrchr(tmp, '/');
	if (slash == NULL || slash == tmp)
		return -1;
	*slash = '\0';
	if (fs_mkdirs(tmp) != 0)
		return -1;
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
fs_write(const char *path, const void *p, size_t n, time_t mtime, mode_t mode)
{
	struct timespec ts[2];
	const char *s = p;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0) {
		util_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			util_warn("%s: write: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) != 0 || close(fd) != 0) {
		util_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
fs_touch(const char *path, time_t mtime)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0) {
		util_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Directory mtimes change while the tree is built; they are set once a
 * directory is complete so that two builds with one seed list the same
 * times. Mailbox folders are set by mail.c as they are finished; this walk
 * sets the top of the tree down to MAXDEPTH (depth-MAXDEPTH directories are
 * touched, not opened), so it stays cheap with 50,000 mailboxes.
 */
static int
dir_times(int dfd, const char *name, time_t t, int depth, int maxdepth)
{
	struct timespec ts[2];
	DIR *d;
	struct dirent *e;
	int fd, rc = 0;

	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type != DT_DIR &&
		    (e->d_type != DT_UNKNOWN || fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		     !S_ISDIR(sb.st_mode)))
			continue;
		if (depth + 1 < maxdepth) {
			if (dir_times(fd, e->d_name, t, depth + 1, maxdepth) != 0)
				rc = -1;
		} else if (utimensat(fd, e->d_name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -1;
		}
	}
	if (futimens(fd, ts) != 0)
		rc = -1;
	closedir(d);
	return rc;
}

int
fs_dir_times(const char *root, time_t t, int maxdepth)
{
	return dir_times(AT_FDCWD, root, t, 0, maxdepth);
}

int
fs_is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}
