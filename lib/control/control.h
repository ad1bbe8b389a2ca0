/*
 * control.h: controlling an IceWarp server through its tool: service
 * switches (iwm-services(1)) and mailbox path fixes (iwm-pathfix(1)).
 */
#ifndef IWM_CONTROL_H
#define IWM_CONTROL_H

#include "iwm.h"
#include "icewarp.h"
#include "account.h"

/*
 * The exit status (sysexits) that goes with the last -1 returned here:
 * 65 bad data, 66 no input, 69 the tool failed, 74 I/O.
 */
extern int iwm_ctl_status;

/*
 * A service switch (data file "services"): with polarity ENABLE the
 * service runs when the value is not 0 (_Active, _Enable, _Enabled),
 * with DISABLE when it is 0 (_Disable).
 */
enum iwm_polarity { IWM_POL_ENABLE, IWM_POL_DISABLE };

struct iwm_switch {
	char	*name;		/* short name: smtp, imap, web ... */
	char	*var;		/* the system variable */
	enum iwm_polarity pol;
	char	*value;		/* recorded (state) or read; NULL: unknown */
};

struct iwm_switches {
	struct iwm_switch *v;
	size_t	 n;
};

/* FILE NULL: the shipped data file "services". */
int	 iwm_switches_load(struct iwm_switches *, const char *file);
/* A state file written by `iwm-services stop`. */
int	 iwm_switches_read_state(struct iwm_switches *, const char *file);
void	 iwm_switches_free(struct iwm_switches *);
int	 iwm_switch_on(enum iwm_polarity, const char *value);
const char *iwm_switch_offvalue(enum iwm_polarity);

/*
 * Read every switch's value with one `get system`; when that fails,
 * one variable at a time: a variable the server does not know is
 * reported on standard error and left NULL.  -1 when none answers.
 */
int	 iwm_switches_get(struct iwm_switches *, const struct iwm_tool *);

struct iwm_svc_opts {
	const struct iwm_tool *tool;
	const char	*state;		/* stop: where to record; start: --state */
	const char	*from;		/* start --from */
	int		 dry_run;
	int		 keep_control;
	long		 wait;		/* restart: seconds */
	FILE		*out;		/* what was done, a line each */
};

/* <TempPath>/iw_migration/services.state of the server (malloc'd). */
char	*iwm_services_default_state(const struct iwm_tool *);
/* Each returns 0 on success, 1 when some switch failed, -1 on error. */
int	 iwm_services_stop(const struct iwm_svc_opts *);
int	 iwm_services_start(const struct iwm_svc_opts *);
int	 iwm_services_status(const struct iwm_svc_opts *);
int	 iwm_services_restart(const struct iwm_svc_opts *);

/*
 * Write LEN bytes to PATH atomically (a temporary file beside it,
 * fsync, then rename, or link when !REPLACE so an existing file is
 * never overwritten: -1 with errno EEXIST).  Mode 0600.
 */
int	 iwm_ctl_write_file(const char *path, const char *data, size_t len,
	    int replace);
/* mkdir -p of PATH's parent directory (mode 0700 for new ones). */
int	 iwm_ctl_mkparent(const char *path);

/* Path-fix plans (iwm-pathfix(1)). */
#define IWM_PATHFIX_HEADER	"#iwm-pathfix 1"

/*
 * The plan of the server behind TOOL into BUF: one line per account
 * whose mailbox path must be set on the target.  NPROBLEMS counts the
 * accounts whose path could not be read (already reported).
 */
int	 iwm_pathfix_plan(const struct iwm_tool *, const struct iwm_pathmaps *,
	    struct iwm_buf *, size_t *nproblems);
/*
 * Apply the plan FILE on the server behind TOOL.  0 all fixed or
 * already right, 1 some account unknown or failed (reported), -1 a
 * malformed plan (nothing changed) or an unusable server.
 */
int	 iwm_pathfix_apply(const struct iwm_tool *, const char *file,
	    int dry_run, FILE *out);

#endif /* IWM_CONTROL_H */
