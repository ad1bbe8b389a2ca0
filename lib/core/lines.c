/* lines.c: the shared line iterator (large reads, memchr, no copies). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iwm.h"

#define LINES_BLOCK	(256 * 1024)

void
iwm_lines_fdopen(struct iwm_lines *l, int fd, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->name = name;
}

int
iwm_lines_open(struct iwm_lines *l, const char *path)
{
	int fd;

	if (strcmp(path, "-") == 0) {
		iwm_lines_fdopen(l, STDIN_FILENO, "-");
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		iwm_seterr_errno("%s", path);
		return -1;
	}
	iwm_lines_fdopen(l, fd, path);
	return 0;
}

int
iwm_lines_next(struct iwm_lines *l, char **line, size_t *len)
{
	for (;;) {
		char *nl = NULL;
		ssize_t n;

		if (l->end > l->start)
			nl = memchr(l->buf + l->start, '\n', l->end - l->start);
		if (nl != NULL) {
			*line = l->buf + l->start;
			*len = (size_t)(nl - *line);
			*nl = '\0';
			l->start = (size_t)(nl - l->buf) + 1;
			l->lineno++;
			return 1;
		}
		if (l->eof) {
			if (l->end == l->start)
				return 0;
			/* Last line without a newline; room was kept for NUL. */
			*line = l->buf + l->start;
			*len = l->end - l->start;
			(*line)[*len] = '\0';
			l->start = l->end;
			l->lineno++;
			return 1;
		}
		/* Move the partial line to the front, grow when it fills. */
		if (l->start > 0) {
			memmove(l->buf, l->buf + l->start, l->end - l->start);
			l->end -= l->start;
			l->start = 0;
		}
		if (l->cap - l->end < LINES_BLOCK / 2 + 1) {
			l->cap = l->cap == 0 ? LINES_BLOCK : l->cap * 2;
			l->buf = iwm_realloc(l->buf, l->cap);
		}
		if (l->waiting != NULL)
			l->waiting(l);
		n = read(l->fd, l->buf + l->end, l->cap - l->end - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			iwm_seterr_errno("%s", l->name);
			return -1;
		}
		if (n == 0)
			l->eof = 1;
		l->end += (size_t)n;
	}
}

void
iwm_lines_close(struct iwm_lines *l)
{
	if (l->fd > STDIN_FILENO)
		close(l->fd);
	free(l->buf);
	l->buf = NULL;
	l->fd = -1;
}
