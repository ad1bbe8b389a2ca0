/*
 * settings.h: the server settings bundle (iwm-dbexport --settings on the
 * source) and its restore on the target (iwm-restore settings, iwm-restore
 * preserved).  See iwm-dbexport(1), iwm-restore(1) and iwm-icewarp(7).
 *
 * The bundle is one SQLite file, DIR/settings.db, written under a
 * temporary name and renamed; its tables describe themselves (meta
 * "describe") and meta "sha256" is the checksum of every row.
 */
#ifndef IWM_SETTINGS_H
#define IWM_SETTINGS_H

#include "iwm.h"
#include "icewarp.h"

#define IWM_SETTINGS_BUNDLE	"settings.db"
#define IWM_SETTINGS_FORMAT	"iwm-settings 1"
#define IWM_PRESERVED_FILE	"preserved.db"

/* The sysexits status that fits the last failure (with iwm_seterr). */
extern int iwm_settings_status;

struct iwm_settings_opts {
	const char *dircreds;	/* KEY=VALUE file, mode 0600, or NULL */
	int	 ignore_multi_sync; /* more than one synced domain: go on */
	int	 dry_run;	/* print what would change, change nothing */
	int	 verify;	/* print preserved/restored per setting */
	int	 quiet;
	FILE	*out;		/* the report (stdout) */
	/* Results. */
	unsigned warnings;	/* items that could not be restored */
	unsigned mismatches;	/* --verify: settings that differ */
};

/*
 * Source: write the bundle into DIR (created).  DIR NULL: the server's
 * <TempPath>/iw_migration/settings.
 */
int	 iwm_settings_backup(const struct iwm_tool *, const char *dir,
	    struct iwm_settings_opts *);
/*
 * Target: save the preserved values (once), restore the bundle in DIR,
 * re-apply them; or only --verify / --dry-run.
 */
int	 iwm_settings_restore(const struct iwm_tool *, const char *dir,
	    struct iwm_settings_opts *);
/* Target: re-apply the saved preserved values alone. */
int	 iwm_settings_preserved(const struct iwm_tool *,
	    struct iwm_settings_opts *);

#endif /* IWM_SETTINGS_H */
