/*
 * domainrows.h: the database rows of one domain (iwm-dbexport --domain,
 * iwm-restore db --merge): groupware rows hanging from the owners of
 * its accounts, anti-spam Senders rows of the domain and its accounts,
 * webmail cache rows of its accounts.  The tables and their links are
 * in the data file domain-rows.  See iwm-dbexport(1), iwm-restore(1).
 */
#ifndef IWM_DOMAINROWS_H
#define IWM_DOMAINROWS_H

#include <stdio.h>

#include "icewarp.h"

struct iwm_domrows_opts {
	int	 quiet;
	int	 dryrun;	/* merge: roll back at the end */
	FILE	*out;		/* one line per table */
	uint64_t rows;		/* out: rows written or merged */
};

/* The sysexits status of the last failure. */
extern int iwm_domrows_status;

/* The domain's rows of every database of the server behind TOOL into
 * the carrier OUTFILE (SQLite, replaced atomically). */
int	 iwm_domrows_export(const struct iwm_tool *, const char *domain,
	    const char *outfile, struct iwm_domrows_opts *);
/* Merge a carrier into the databases of the server behind TOOL. */
int	 iwm_domrows_merge(const struct iwm_tool *, const char *carrier,
	    struct iwm_domrows_opts *);

#endif /* IWM_DOMAINROWS_H */
