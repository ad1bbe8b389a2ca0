/*
 * deps.h: the external dependency audit (iwm-deps(1)): what on a source
 * server cannot be migrated automatically.  Where each setting lives is
 * read from a data file (deps.conf), not compiled in.
 */
#ifndef IWM_DEPS_H
#define IWM_DEPS_H

#include "account.h"
#include "icewarp.h"

enum iwm_sev { IWM_SEV_ERROR, IWM_SEV_WARNING, IWM_SEV_INFO };
const char *iwm_sev_name(enum iwm_sev);
int	 iwm_sev_parse(const char *, enum iwm_sev *);

struct iwm_finding {
	enum iwm_sev	 sev;
	size_t		 seq;		/* order found */
	char		*category;
	char		*object;
	char		*message;
};

struct iwm_findings {
	struct iwm_finding *v;
	size_t		 n;
	char		**ignore;	/* categories not to report */
	size_t		 nignore;
};
void	 iwm_finding_add(struct iwm_findings *, enum iwm_sev,
	    const char *category, const char *object, const char *fmt, ...)
	    IWM_PRINTF(5, 6);
void	 iwm_findings_sort(struct iwm_findings *);	/* errors first */
void	 iwm_findings_free(struct iwm_findings *);

/* One line of deps.conf. */
struct iwm_depsitem {
	char	*kind;
	char	*w[2];		/* fixed words (NULL when the kind has fewer) */
	char	*text;		/* the rest of the line, or NULL */
};
struct iwm_depsconf {
	struct iwm_depsitem *v;
	size_t	 n;
};
int	 iwm_depsconf_load(struct iwm_depsconf *, const char *file);
void	 iwm_depsconf_free(struct iwm_depsconf *);

/* Run every check against the server TOOL reaches. -1: audit failed. */
int	 iwm_deps_audit(const struct iwm_depsconf *, const struct iwm_tool *,
	    const struct iwm_pathmaps *, struct iwm_findings *);

#endif /* IWM_DEPS_H */
