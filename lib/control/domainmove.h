/*
 * domainmove.h: the target's half of moving one domain into a server
 * that hosts others (iwm-restore domain, called by `iwm domain`).
 */
#ifndef IWM_DOMAINMOVE_H
#define IWM_DOMAINMOVE_H

#include <stdio.h>

#include "icewarp.h"

struct iwm_domain_opts {
	int	 dry_run;
	FILE	*out;
};

extern int iwm_domain_status;

/*
 * STEP prepare, rows or finish, from the files the source's `iwm domain`
 * wrote: DIR/name holds the domain's name, DIR/<name>/ its files
 * (domain.csv, accounts.csv, remoteaccounts.csv, remoteaccounts.list,
 * paths.csv, options, config/<name>/, config/_hosts/, rows.db).
 */
int	 iwm_domain_target(const struct iwm_tool *, const char *step,
	    const char *dir, struct iwm_domain_opts *);

#endif /* IWM_DOMAINMOVE_H */
