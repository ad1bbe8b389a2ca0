/*
 * manifest.h: manifest v1 (iwm-manifest(5)).
 *
 *	#iwm-manifest 1 [key=value ...]
 *	OP TYPE SIZE MTIME MODE ROOT PATH SOURCE [NOTE]	(TAB-separated)
 *
 * Records come in manifest order: ROOT (bytewise), then PATH compared
 * component by component, bytewise.  The reader checks fields, escapes
 * and order, and reports "FILE:LINE: reason" through iwm_err().
 */
#ifndef IWM_MANIFEST_H
#define IWM_MANIFEST_H

#include "iwm.h"

/*
 * The last line of a complete manifest.  A producer writes it only when
 * it listed everything it meant to; consumers never delete on the word
 * of a manifest without it (a failed or cut-off scan).
 */
#define IWM_MANIFEST_END "#iwm-end"

/*
 * In a diff: the deletions (and the replacements that wait for them)
 * follow this line, sorted among themselves, after every creation and
 * update (iwm-manifest(5), Order).  The producer streams the creations
 * and holds only the deletions until its source is known complete.
 */
#define IWM_MANIFEST_DELETIONS "#iwm-deletions"

#define IWM_OP_LIST	'.'
#define IWM_OP_CREATE	'+'
#define IWM_OP_UPDATE	'~'
#define IWM_OP_DELETE	'-'
#define IWM_OP_SAME	'='

#define IWM_TYPE_FILE	'f'
#define IWM_TYPE_DIR	'd'
#define IWM_TYPE_LINK	'l'	/* a symbolic link: listed, never copied */

/* NOTE of a target listing's record whose copy must be checked by
 * content (iwm-manifest(5), "Racily clean copies"). */
#define IWM_NOTE_RACY	"racy"

struct iwm_rec {
	char		 op;
	char		 type;
	uint64_t	 size;
	int64_t		 mtime_sec;
	long		 mtime_nsec;
	unsigned	 mode;		/* permission bits, <= 07777 */
	const char	*root;
	const char	*path;		/* unescaped; relative, '/'-separated */
	size_t		 path_len;
	const char	*source;	/* unescaped absolute path, or NULL for "-" */
	const char	*note;		/* unescaped, or NULL when absent */
};

/* One element of a header's scope= list: a root, or a root and prefix. */
struct iwm_scope {
	char	*root;
	char	*prefix;	/* NULL: the whole root; else "dom.example/" */
};

struct iwm_mreader {
	struct iwm_lines lines;
	int		 started;	/* header read */
	char		*header;	/* the header words after the version */
	struct iwm_scope *scope;	/* NULL when the header has no scope= */
	size_t		 nscope;
	struct iwm_buf	 prev;		/* key of the previous record */
	int		 have_prev;
	/* The last '-' record that may be followed, after the deletions
	 * of its subtree, by a record of its path with another TYPE. */
	struct iwm_buf	 anchor;
	size_t		 anchor_rootlen;
	char		 anchor_type;
	int		 complete;	/* IWM_MANIFEST_END was read */
	int		 deletions;	/* IWM_MANIFEST_DELETIONS was read */
	struct iwm_rec	 rec;
	size_t		 keylen;	/* ROOT NUL PATH at rec.root */
};

/* Open FILE ("-" is stdin) and read its header.  -1 with iwm_err(). */
int	 iwm_mreader_open(struct iwm_mreader *, const char *file);
int	 iwm_mreader_fdopen(struct iwm_mreader *, int fd, const char *name);
/* 1: *rec set (valid until the next call); 0: end; -1: error. */
int	 iwm_mreader_next(struct iwm_mreader *, const struct iwm_rec **rec);
void	 iwm_mreader_close(struct iwm_mreader *);
/* iwm_rec_cmp of two readers' current records, faster. */
int	 iwm_mreader_cmp(const struct iwm_mreader *,
	    const struct iwm_mreader *);
/* Header value of KEY, or NULL.  Returned string is malloc'd. */
char	*iwm_mreader_header(const struct iwm_mreader *, const char *key);

/* Parse one record line in place (for programs that read their own). */
int	 iwm_rec_parse(char *line, size_t len, struct iwm_rec *);

/* Writing: stdio, escaped, fast.  Return -1 on a write error. */
int	 iwm_mwrite_header(FILE *, const char *words);	/* words may be NULL */
int	 iwm_mwrite_rec(FILE *, const struct iwm_rec *);
/* The same line appended to a buffer. */
void	 iwm_mfmt_rec(struct iwm_buf *, const struct iwm_rec *);
void	 iwm_mwrite_free(void);	/* a thread's buffer, before it ends */
int	 iwm_mwrite_end(FILE *);
/* Append PATH/SOURCE/NOTE escapes of s[0..len) to a buffer. */
void	 iwm_escape_buf(struct iwm_buf *, const char *s, size_t len);

/* Component-wise path order and record key order. */
int	 iwm_path_cmp(const char *a, size_t alen, const char *b, size_t blen);
int	 iwm_rec_cmp(const struct iwm_rec *, const struct iwm_rec *);

/* Check a relative manifest PATH (no '/', '.', '..', empty parts, NUL). */
int	 iwm_path_valid(const char *path, size_t len);
int	 iwm_root_valid(const char *root);

/* Scope: parse "mail:dom/,logs", test whether a key lies inside it. */
int	 iwm_scope_parse(const char *text, struct iwm_scope **, size_t *);
void	 iwm_scope_free(struct iwm_scope *, size_t);
int	 iwm_scope_contains(const struct iwm_scope *, size_t n,
	    const char *root, const char *path, size_t pathlen);
void	 iwm_scope_format(struct iwm_buf *, const struct iwm_scope *, size_t);

#endif /* IWM_MANIFEST_H */
