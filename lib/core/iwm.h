/*
 * iwm.h: the small shared core of libiwm (errors, buffers, numbers,
 * the line iterator).  Each topic has its own header beside this one
 * (manifest.h, icewarp.h, account.h ...); they all include this.
 *
 * Library code never exits on a recoverable error: it returns -1 (or
 * NULL) after iwm_seterr(), and main() decides the exit status.
 */
#ifndef IWM_H
#define IWM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit statuses shared by every program (see iwm(7)). */
#define IWM_EXIT_OK	 0
#define IWM_EXIT_DIFF	 1	/* differences, warnings, some items failed */
#define IWM_EXIT_BLOCK	 2	/* blocking problems (dependency errors) */
#define IWM_EXIT_USAGE	64
#define IWM_EXIT_DATA	65
#define IWM_EXIT_NOINPUT 66
#define IWM_EXIT_UNAVAIL 69
#define IWM_EXIT_SOFTWARE 70
#define IWM_EXIT_IO	74
#define IWM_EXIT_PROTO	76
#define IWM_EXIT_AUTH	77

#if defined(__GNUC__)
#define IWM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define IWM_PRINTF(a, b)
#endif

/*
 * error.c: the last error of this thread, and program-level messages.
 * iwm_seterr may take iwm_err() as an argument (to prefix it): the
 * message is formatted apart, then copied over the last error.
 */
extern const char *iwm_progname;
void		 iwm_setprogname(const char *argv0);
void		 iwm_version_opt(int argc, char **argv); /* --version: print, exit 0 */
void		 iwm_seterr(const char *fmt, ...) IWM_PRINTF(1, 2);
void		 iwm_seterr_errno(const char *fmt, ...) IWM_PRINTF(1, 2);
const char	*iwm_err(void);
void		 iwm_warnx(const char *fmt, ...) IWM_PRINTF(1, 2);
void		 iwm_warn_err(void);	/* "prog: <iwm_err()>" */
int		 iwm_close_stdout(void); /* flush+check stdout; -1 on error */

/* alloc.c: allocation failure is not recoverable; these abort. */
void		*iwm_malloc(size_t);
void		*iwm_calloc(size_t, size_t);
void		*iwm_realloc(void *, size_t);
void		*iwm_reallocarray(void *, size_t, size_t);
char		*iwm_strdup(const char *);
char		*iwm_strndup(const char *, size_t);

/* buf.c: a growable byte buffer, always NUL-terminated. */
struct iwm_buf {
	char	*ptr;
	size_t	 len;
	size_t	 cap;
};
void	 iwm_buf_grow(struct iwm_buf *, size_t extra);
void	 iwm_buf_add(struct iwm_buf *, const void *, size_t);
void	 iwm_buf_adds(struct iwm_buf *, const char *);
void	 iwm_buf_addc(struct iwm_buf *, int);
void	 iwm_buf_printf(struct iwm_buf *, const char *, ...) IWM_PRINTF(2, 3);
void	 iwm_buf_reset(struct iwm_buf *);
void	 iwm_buf_free(struct iwm_buf *);
char	*iwm_buf_steal(struct iwm_buf *);

/* num.c: checked number parsing (no atoi). */
int	 iwm_parse_u64(const char *, uint64_t *);	/* decimal */
int	 iwm_parse_int(const char *, long min, long max, long *);
int	 iwm_parse_size(const char *, uint64_t *);	/* 10, 4K, 2M, 1G, 1T */
int	 iwm_parse_octal(const char *, unsigned max, unsigned *);
/* "12.3 MB" into BUF, for progress lines (powers of 1000) */
void	 iwm_fmt_bytes(char *buf, size_t len, double b);
char	*iwm_fmt_u64(char *end, uint64_t);	/* writes backwards, returns start */

/*
 * lines.c: the one line iterator every tool uses.  Reads an fd in large
 * blocks; a returned line is NUL-terminated without its '\n' and stays
 * valid (and writable) until the next call.  A final line without '\n'
 * is returned too.
 */
struct iwm_lines {
	int	 fd;
	char	*buf;
	size_t	 cap;
	size_t	 start;		/* first unread byte */
	size_t	 end;		/* end of valid data */
	int	 eof;
	uint64_t lineno;	/* number of the line last returned */
	const char *name;	/* for messages: file name or "-" */
	/* When set: called before a read(2) that may wait, since no whole
	 * line is buffered (iwm-diff flushes its output there). */
	void	(*waiting)(const struct iwm_lines *);
};
int	 iwm_lines_open(struct iwm_lines *, const char *path); /* "-" = stdin */
void	 iwm_lines_fdopen(struct iwm_lines *, int fd, const char *name);
/* 1 and *line,*len set; 0 at EOF; -1 on read error. */
int	 iwm_lines_next(struct iwm_lines *, char **line, size_t *len);
void	 iwm_lines_close(struct iwm_lines *);

/* data.c: locate a shipped data file (IWM_DATADIR, install dir, tree). */
char	*iwm_datafile(const char *name);
/* dirs.c: mkdir -p PATH with MODE for what it makes; -1 with the error */
int	 iwm_mkdirs(const char *path, mode_t mode);
int	 iwm_own_as_parent(int fd, const char *path);
/* secret.c: 0 when FILE is private to its owner, else -1 with the chmod to run */
int	 iwm_secret_file_check(const char *file);

#endif /* IWM_H */
