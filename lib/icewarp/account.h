/*
 * account.h: where each account's mailbox lies, and what that means for
 * the migration (seed: "User Data Migration"): regular mailboxes are
 * copied, archivists are fixed later to point into the archive, externs
 * are copied into the default <domain>/<alias>/ place, shared mailboxes
 * (inside another account's mailbox) are not copied twice.
 */
#ifndef IWM_ACCOUNT_H
#define IWM_ACCOUNT_H

#include "iwm.h"
#include "icewarp.h"

enum iwm_acct_class {
	IWM_ACCT_REGULAR,
	IWM_ACCT_ARCHIVIST,
	IWM_ACCT_EXTERN,
	IWM_ACCT_SHARED,
	IWM_ACCT_NOMAILBOX	/* no mailbox path, or its directory is absent */
};
const char *iwm_acct_class_name(enum iwm_acct_class);

/* --path-map 'E:\=/mnt/e/': Windows prefix to local directory. */
struct iwm_pathmap {
	char	*from;		/* as given, e.g. "E:\" */
	char	*to;		/* local, ends with '/' */
};
struct iwm_pathmaps {
	struct iwm_pathmap *v;
	size_t	 n;
};
int	 iwm_pathmap_add(struct iwm_pathmaps *, const char *spec);
void	 iwm_pathmap_free(struct iwm_pathmaps *);
int	 iwm_path_is_windows(const char *);
/* PATH lies in DIR (both as the server reports them; Windows-aware). */
int	 iwm_path_under(const char *path, const char *dir);
int	 iwm_path_is_absolute(const char *);
/*
 * Turn a path the server reported into a local absolute path with '/'
 * separators and one trailing '/' (for directories).  A Windows path
 * needs a matching map entry.  Returns malloc'd string or NULL.
 */
char	*iwm_path_localize(const struct iwm_pathmaps *, const char *path);

struct iwm_account {
	char	*email;
	char	*domain;
	char	*alias;		/* local part */
	int	 type;		/* U_Type */
	char	*mailboxpath;	/* as the server reports it */
	char	*dir;		/* local absolute directory, '/'-terminated */
	char	*rel;		/* where it lands in the mail root, '/'-term. */
	enum iwm_acct_class cls;
	const struct iwm_account *owner; /* SHARED: whose mailbox holds it */
};

struct iwm_accounts {
	struct iwm_account *v;
	size_t	 n;
	size_t	 nproblems;	/* accounts whose mailbox path is unusable */
	char	*maildir;	/* local, '/'-terminated */
	char	*archivedir;	/* local, '/'-terminated, or NULL */
};

/*
 * Read every account (or those of DOMAINS, when ndomains > 0) with one
 * tool export, localize paths and classify.  MAILDIR/ARCHIVEDIR are
 * the server's paths as reported (localized here).
 */
int	 iwm_accounts_load(struct iwm_accounts *, const struct iwm_tool *,
	    const struct iwm_pathmaps *, const char *maildir,
	    const char *archivedir, char *const *domains, size_t ndomains);
/*
 * Start the first export iwm_accounts_load with the same DOMAINS reads
 * (iwm_tool_start), so that it runs while the caller asks the tool for
 * the paths it needs; those of further domains run in turn, one tool
 * process more at a time is enough.
 */
void	 iwm_accounts_start(struct iwm_tool *, char *const *domains,
	    size_t ndomains);
/* Classify already-filled accounts (exposed for unit tests). */
int	 iwm_accounts_classify(struct iwm_accounts *);
void	 iwm_accounts_free(struct iwm_accounts *);

#endif /* IWM_ACCOUNT_H */
