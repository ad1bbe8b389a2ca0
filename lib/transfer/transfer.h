/*
 * transfer.h: the target agent (iwm-serve), its client side (iwm-push,
 * iwm-scan --target) and what they share.  The wire protocol is
 * iwm-protocol(7).
 */
#ifndef IWM_TRANSFER_H
#define IWM_TRANSFER_H

#include <time.h>

#include "iwm.h"
#include "manifest.h"

#define IWM_PROTO_VERSION	"1"
/* Files being written carry this prefix until renamed; swept at start. */
#define IWM_TMP_PREFIX		".iwm-tmp-"
#define IWM_TMP_PREFIX_LEN	(sizeof(IWM_TMP_PREFIX) - 1)
/* Last line of a complete listing (a manifest comment). */
#define IWM_LIST_END		"#iwm-end"
#define IWM_FP_LEN		32	/* SHA-256 */
#define IWM_EXIT_CANCELLED	75	/* stopped by a signal (EX_TEMPFAIL) */

/* proto.c: shared encodings. */
void	 iwm_url_escape(struct iwm_buf *, const char *, size_t);
/* Decode %XX in place; -1 on a bad escape or an encoded NUL. */
int	 iwm_url_unescape(char *, size_t *);
int	 iwm_parse_mtime(const char *, int64_t *sec, long *nsec);
void	 iwm_fmt_mtime(struct iwm_buf *, int64_t sec, long nsec);
/* A name clients may not use: temporary uploads, IWM_RACY_FILE. */
int	 iwm_is_tmpname(const char *name);

/* auth.c: users file ("NAME:pbkdf2-sha256:ITER:SALT:HASH", base64). */
struct iwm_users;
struct iwm_users *iwm_users_load(const char *file);
/* 1 accepted, 0 refused. */
int	 iwm_users_check(struct iwm_users *, const char *user,
	    const char *pass);
void	 iwm_users_free(struct iwm_users *);
/* Only against a password accepted before (no PBKDF2): 1 or 0. */
int	 iwm_users_check_cached(struct iwm_users *, const char *user,
	    const char *pass);
/* Failed logins per client address (numeric), times in seconds. */
#define IWM_FAIL_FREE	3	/* failures in a row before any back-off */
#define IWM_FAIL_MAX	300	/* longest back-off */
struct iwm_failtab;
struct iwm_failtab *iwm_failtab_new(void);
void	 iwm_failtab_free(struct iwm_failtab *);
/* Seconds before ADDR's next login is checked; 0: now. */
double	 iwm_fail_wait(struct iwm_failtab *, const char *addr, double now);
/* Count a failure; the back-off now in force, *COUNT failures in a row. */
double	 iwm_fail_add(struct iwm_failtab *, const char *addr, double now,
	    unsigned *count);
void	 iwm_fail_clear(struct iwm_failtab *, const char *addr);
/* ROLE "admin" or "copy"; NULL keeps an existing user's, else copy. */
int	 iwm_users_add(const char *file, const char *user, const char *pass,
	    const char *role);
/* 1 when USER has the admin role (may run actions). */
int	 iwm_users_admin(struct iwm_users *, const char *user);
int	 iwm_user_valid(const char *);
/* Read a password from stdin, or from the terminal without echo. */
char	*iwm_read_password(void);

/* tls.c: certificates and fingerprints. */
int	 iwm_tls_make_cert(const char *dir, struct iwm_buf *fp);
int	 iwm_tls_cert_fp(const char *certfile, struct iwm_buf *fp);
void	 iwm_fp_format(struct iwm_buf *, const unsigned char *);
/* 32 bytes as 64 lower-case hex digits. */
void	 iwm_fp_hex(struct iwm_buf *, const unsigned char *);
int	 iwm_fp_parse(const char *, unsigned char *);

/* serve*.c: the agent. */
struct iwm_racy;
struct iwm_serve_root {
	char	*name;
	char	*dir;
	int	 fd;		/* O_PATH directory, opened at start */
	/* What its file system stores (iwm_fs_probe). */
	int64_t	 mtime_res;	/* mtime granularity, nanoseconds */
	int64_t	 mtime_min, mtime_max;
	int	 modes;		/* permission bits kept */
	int	 anon;		/* files written as O_TMPFILE, then linked */
	struct iwm_racy *racy;	/* racily clean copies (iwm_racy_open) */
};
struct iwm_serve_opts {
	const char	*listen;	/* ADDR:PORT */
	const char	*cert, *key;
	const char	*users;
	const char	*ready_file;	/* gets the URL once listening */
	struct iwm_serve_root *roots;
	size_t		 nroots;
	int		 insecure_http;
	int		 fsync;
	int		 temp_names;	/* never O_TMPFILE (--temp-names) */
	int		 verbose;
	unsigned	 threads;
	unsigned	 max_conns;
	unsigned	 max_per_addr;	/* connections from one address */
	unsigned	 timeout;	/* idle seconds */
	uint64_t	 max_body;	/* bytes per request body */
	const char	*sig_cache;	/* --sig-cache DIR, or NULL */
	uint64_t	 sig_cache_max;	/* bytes */
	const char	*tool;		/* --tool, for the actions; or NULL */
	char		*temp_dir;	/* the tool's temp path, or NULL */
};
int	 iwm_serve_run(struct iwm_serve_opts *);

/* actions.c: POST /v1/action/NAME (an MHD_Result). */
struct MHD_Connection;
int	 iwm_action_request(struct iwm_serve_opts *, struct iwm_users *,
	    struct MHD_Connection *, const char *name, const char *method);
/* Refuse new actions and wait for a running one to end. */
void	 iwm_actions_drain(void);

/* serve_fs.c: confined file operations below a root. */
struct iwm_dircache {
	int	 rootfd;
	int	 anon;		/* O_TMPFILE works below this root */
	int	 fd;
	struct iwm_buf path;	/* parent path held open in fd */
	dev_t	 dev;		/* fd's directory (have_id) */
	ino_t	 ino;
	int	 have_id;
	int	 touched;	/* a file went in: dirtime to give back */
	struct timespec dirtime;	/* its mtime before the first file */
};
struct iwm_fput {
	int	 dirfd;		/* the cache's, borrowed */
	int	 fd;		/* read and write (a delta hashes it back) */
	int	 anon;		/* O_TMPFILE: no name until the commit */
	unsigned cmode;		/* the mode it was created with */
	char	 tmp[64];
	char	*name;
};
/* Owner and group of every file and directory written from now on. */
void	 iwm_fs_set_owner(uid_t, gid_t);
int	 iwm_fs_open_root(struct iwm_serve_root *);
int	 iwm_fs_sweep(struct iwm_serve_root *, uint64_t *removed);
int	 iwm_fs_open(int rootfd, const char *path, int flags);
int	 iwm_fs_parent(struct iwm_dircache *, const char *path, int create,
	    const char **base);
/* ROOT may be NULL: nothing held until a root is given. */
void	 iwm_dircache_init(struct iwm_dircache *,
	    const struct iwm_serve_root *);
/* 1 if the directory held is still the one at its path. */
int	 iwm_dircache_in_place(const struct iwm_dircache *);
void	 iwm_dircache_free(struct iwm_dircache *);
/* Give the directory held back its mtime from before the first file. */
void	 iwm_dircache_settle(struct iwm_dircache *);
int	 iwm_fput_begin(struct iwm_fput *, struct iwm_dircache *,
	    const char *path, unsigned mode);
/* The upload goes to the directory the cache now holds. */
int	 iwm_fput_reparent(struct iwm_fput *, struct iwm_dircache *);
int	 iwm_fput_write(struct iwm_fput *, const void *, size_t);
int	 iwm_fput_commit(struct iwm_fput *, unsigned mode, int64_t sec,
	    long nsec, int dosync);
void	 iwm_fput_abort(struct iwm_fput *);
int	 iwm_fs_delete(struct iwm_dircache *, const char *path, int isdir);
/* With SETTIME, the directory's mtime too. */
int	 iwm_fs_mkdir(struct iwm_dircache *, const char *path, unsigned mode,
	    int64_t sec, long nsec, int settime);
int	 iwm_errno_status(int);
/* Learn what the root's file system stores, with a temporary file. */
int	 iwm_fs_probe(struct iwm_serve_root *);
/*
 * Racily clean copies (iwm-manifest(5)): the paths of a root whose
 * copy was written from a source that may change again within the
 * same mtime, kept in IWM_RACY_FILE at the top of the root.
 */
#define IWM_RACY_FILE		".iwm-racy"
int	 iwm_racy_open(struct iwm_serve_root *);
int	 iwm_racy_mark(struct iwm_serve_root *, const char *path, int racy);
int	 iwm_racy_has(struct iwm_serve_root *, const char *path, size_t len);
void	 iwm_racy_free(struct iwm_serve_root *);

/*
 * rsdelta.c: librsync in memory and streaming.  Signature formats:
 * librsync's BLAKE2 one (the default), and iwm's with XXH3-128 strong
 * sums (iwm-protocol(7), asked for with X-Iwm-Sig: xxh3); the magic
 * number at the start says which.
 */
#define IWM_SIG_BLAKE2		0
#define IWM_SIG_XXH3		1
#define IWM_SIG_NFMT		2
#define IWM_SIG_XXH3_MAGIC	0x69776d33u	/* "iwm3" */
int	 iwm_rs_signature(int fd, uint64_t size, int fmt, struct iwm_buf *sig);
/* The format of signature SIG, -1 if neither. */
int	 iwm_rs_sig_format(const void *sig, size_t len);
/* X-Iwm-Sig's value to a format (BLAKE2 unless "xxh3"), and back. */
int	 iwm_rs_sig_kind(const char *);
const char *iwm_rs_sig_name(int);
/* The rollsum's s1, s2 of P[0..N): the vector code, and the plain loop
 * it must equal (tests). */
void	 iwm_rs_rollsum(const void *, size_t, uint32_t s[2]);
void	 iwm_rs_rollsum_scalar(const void *, size_t, uint32_t s[2]);
struct iwm_rs_delta;
struct iwm_rs_delta *iwm_rs_delta_new(const char *sig, size_t siglen,
	    int srcfd);
/* Fill up to LEN bytes of delta; 0 at the end, -1 on error. */
ssize_t	 iwm_rs_delta_read(struct iwm_rs_delta *, char *, size_t len);
/* The base's size (from X-Iwm-Size), before the first read: lets a
 * short last block match. */
void	 iwm_rs_delta_base_size(struct iwm_rs_delta *, uint64_t);
void	 iwm_rs_delta_free(struct iwm_rs_delta *);
struct iwm_rs_patch;
struct iwm_rs_patch *iwm_rs_patch_new(int basefd, struct iwm_fput *out);
int	 iwm_rs_patch_feed(struct iwm_rs_patch *, const char *, size_t,
	    int eof);
uint64_t iwm_rs_patch_written(const struct iwm_rs_patch *);
void	 iwm_rs_patch_free(struct iwm_rs_patch *);
/* The whole-file check: hash the output, compare with the sender's.
 * X-Iwm-Check names the kind, its trailer carries the hex sum. */
#define IWM_CHECK_SHA256	1
#define IWM_CHECK_XXH128	2	/* what iwm-push sends */
int	 iwm_check_kind(const char *);	/* 0: unknown */
const char *iwm_check_name(int);
const char *iwm_check_trailer(int);
void	 iwm_rs_patch_hash(struct iwm_rs_patch *, int kind);
int	 iwm_rs_patch_check(struct iwm_rs_patch *, const char *hex);
int	 iwm_file_check(int fd, int kind, const volatile int *stop,
	    struct iwm_buf *);
/* The patched file's signature, reusing the base's sums; -1: cannot. */
int	 iwm_rs_patch_sig(const struct iwm_rs_patch *, const char *basesig,
	    size_t baselen, uint64_t basesize, int newfd, uint64_t newsize,
	    struct iwm_buf *out);
/* The signature of a stream of known size (an upload), as it comes. */
struct iwm_rs_signer;
struct iwm_rs_signer *iwm_rs_signer_new(uint64_t size, int fmt);
void	 iwm_rs_signer_feed(struct iwm_rs_signer *, const void *, size_t);
/* -1 unless exactly the announced size was fed. */
int	 iwm_rs_signer_end(struct iwm_rs_signer *, struct iwm_buf *sig);
void	 iwm_rs_signer_free(struct iwm_rs_signer *);

/* client.c: connections to an agent. */
struct iwm_remote_opts {
	const char	*url;
	const char	*credentials;	/* file; NULL: $IWM_CREDENTIALS */
	const char	*fingerprint;
	const char	*cacert;
	const char	*proxy;
	int		 insecure_http;
	int		 verbose;
	/* Listings: called with each line written (progress); or NULL. */
	void		(*on_line)(const char *line, size_t len);
};
struct iwm_client {
	char		*base;		/* URL without the trailing '/' */
	char		*userpwd;
	const struct iwm_remote_opts *o;
	int		 pinned;
};
int	 iwm_client_init(struct iwm_client *, const struct iwm_remote_opts *);
void	 iwm_client_free(struct iwm_client *);
/* A new easy handle for BASE + PATH (already escaped). */
void	*iwm_client_easy(struct iwm_client *, const char *path);
/* Exit status and message for a failed transfer (curl code, HTTP). */
int	 iwm_client_fail(int curlcode, long http, const char *body,
	    const char *what);
int	 iwm_client_pin_mismatch(void);
/*
 * List the agent's roots within SCOPE (NULL: all) as a manifest.  These
 * two print their own messages and return 0 or an exit status.
 */
int	 iwm_remote_list(const struct iwm_remote_opts *, const char *scope,
	    FILE *out);
/* The same listing with each regular file's content hash in NOTE
 * (GET /v1/hash, serve_hash.c). */
int	 iwm_remote_hash(const struct iwm_remote_opts *, const char *scope,
	    FILE *out);
/* Content hashes (serve_hash.c): NOTE "xxh128:" and 32 hex digits. */
#define IWM_HASH_PREFIX		"xxh128:"
#define IWM_HASH_NOTE_SIZE	(sizeof(IWM_HASH_PREFIX) - 1 + 32 + 1)
#define IWM_HASH_UNREADABLE	"unreadable"
int	 iwm_hash_fd(int fd, char note[IWM_HASH_NOTE_SIZE]);
const char *iwm_hash_note(int rootfd, const char *path, size_t pathlen,
	    char note[IWM_HASH_NOTE_SIZE]);
/* The scope= for --roots LIST and --domain D... (NULL: everything). */
char	*iwm_remote_scope(const char *roots, char *const *domains, size_t n);
int	 iwm_remote_info(const struct iwm_remote_opts *, FILE *out);
/* Options shared by iwm-push and iwm-scan --target (getopt_long). */
#define IWM_REMOTE_LONGOPTS \
	{ "target", required_argument, NULL, 0x1001 }, \
	{ "credentials", required_argument, NULL, 0x1002 }, \
	{ "fingerprint", required_argument, NULL, 0x1003 }, \
	{ "cacert", required_argument, NULL, 0x1004 }, \
	{ "proxy", required_argument, NULL, 0x1005 }, \
	{ "insecure-http", no_argument, NULL, 0x1006 }
/* Their lines of --help. */
#define IWM_REMOTE_HELP \
	"  --target URL            the agent, https://HOST:PORT\n" \
	"  --credentials FILE      USER:PASSWORD for the agent, mode 0600\n" \
	"                          (default: the file named by $IWM_CREDENTIALS)\n" \
	"  --fingerprint SHA256    trust only the agent with this certificate\n" \
	"  --cacert FILE           verify the agent against these CAs instead\n" \
	"  --proxy URL             connect through this proxy\n" \
	"  --insecure-http         allow an http:// target (no TLS)\n"
/* 1 when CH was one of those and has been stored. */
int	 iwm_remote_opt(struct iwm_remote_opts *, int ch, const char *arg);

/* actcli.c: run an agent's action, print its output; its exit status. */
int	 iwm_remote_action(const struct iwm_remote_opts *, const char *name,
	    FILE *out);

/* push.c: make the target match a diff. */
struct iwm_push_opts {
	struct iwm_remote_opts remote;
	const char	*input;		/* "-" */
	const char	*failed;	/* --failed FILE */
	unsigned	 jobs;
	uint64_t	 rate;		/* bytes/s, 0 unlimited */
	const char	*rate_file;	/* --rate-file: re-read once a second */
	uint64_t	 delta_min;
	unsigned	 retries;
	unsigned	 retry_for;	/* seconds a lost target is retried */
	int		 dry_run;
	int		 do_delete;
	int		 progress;
	int		 stats;
};
int	 iwm_push_run(const struct iwm_push_opts *);

#endif /* IWM_TRANSFER_H */
