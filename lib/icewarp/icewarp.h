/*
 * icewarp.h: talking to an IceWarp server through its command-line
 * tool (tool.sh / tool.exe), the only interface iwm uses besides the
 * files of the installation tree.  See iwm-icewarp(7).
 */
#ifndef IWM_ICEWARP_H
#define IWM_ICEWARP_H

#include "iwm.h"

struct iwm_tool {
	char	*path;		/* the tool program */
	char	*install_dir;	/* IWS_INSTALL_DIR when known, else NULL */
	struct iwm_tool_ahead *ahead;	/* calls started ahead (icewarp.c) */
};

/*
 * Find the tool: OPT (--tool) if given, else $IWM_TOOL, else
 * IWS_INSTALL_DIR from /etc/icewarp/icewarp.conf ($IWM_ICEWARP_CONF
 * overrides that file's name) + "/tool.sh".
 */
int	 iwm_tool_find(struct iwm_tool *, const char *opt);
void	 iwm_tool_free(struct iwm_tool *);

/*
 * Run the tool with ARGV (not including the tool itself).  Standard
 * output is handed line by line to CB (return -1 from CB to stop);
 * when CB is NULL it is collected into OUT.  On a non-zero exit the
 * error names the command and carries the tool's standard error.
 */
typedef int (*iwm_tool_line_cb)(void *arg, char *line, size_t len);
int	 iwm_tool_run(const struct iwm_tool *, const char *const *argv,
	    iwm_tool_line_cb cb, void *arg, struct iwm_buf *out);
/*
 * Start the call with ARGV now, its output left waiting in its pipe:
 * the first call with the same ARGV (iwm_tool_run, _export, _get...)
 * reads it instead of starting one, so that calls that do not depend
 * on each other run together.  What it prints, its errors and its exit
 * status are reported then, as if it had started then (its timeout
 * counts from its start).  iwm_tool_free stops a call started ahead
 * that nobody read.
 */
void	 iwm_tool_start(struct iwm_tool *, const char *const *argv);

/*
 * `tool get system VAR...`: VALUES[i] receives a malloc'd copy of each
 * value (matched by name, case-insensitively).  One tool call.
 */
int	 iwm_tool_get_system(const struct iwm_tool *, const char *const *vars,
	    size_t nvars, char **values);
/*
 * KEY's value in the server's icewarp.conf ($IWM_ICEWARP_CONF, else
 * /etc/icewarp/icewarp.conf; *CONF gets the name read), malloc'd, or
 * NULL with iwm_err().
 */
char	*iwm_icewarp_conf_get(const char *key, const char **conf);

/* Convenience: one variable; returns malloc'd value or NULL. */
char	*iwm_tool_get1(const struct iwm_tool *, const char *var);

/*
 * The server's <TempPath>/iw_migration/LEAF, where the migration's files
 * go on the source (malloc'd), or NULL with iwm_err(): 1 in *LOCAL when
 * the tool answered but the path is not a local absolute one here.
 */
char	*iwm_tool_migration_path(const struct iwm_tool *, const char *leaf,
	    int *local);

/*
 * `tool export KIND PATTERN VAR...` (KIND: account, domain,
 * remoteaccount): CB gets each CSV record split into fields:
 * fields[0] is the email or domain, fields[1..nvars] the values.
 * Quoted values (with "" for a quote, embedded commas and newlines) and
 * the trailing comma are handled.  Streams: one record in memory.
 */
typedef int (*iwm_export_cb)(void *arg, char **fields, size_t nfields);
int	 iwm_tool_export(const struct iwm_tool *, const char *kind,
	    const char *pattern, const char *const *vars, size_t nvars,
	    iwm_export_cb cb, void *arg);
/* That export started ahead (iwm_tool_start). */
void	 iwm_tool_export_start(struct iwm_tool *, const char *kind,
	    const char *pattern, const char *const *vars, size_t nvars);

/* `tool set system VAR VALUE`. */
int	 iwm_tool_set_system(const struct iwm_tool *, const char *var,
	    const char *value);

/* Parse one "Name: value" line. Returns 0 and pointers into LINE. */
int	 iwm_parse_name_value(char *line, char **name, char **value);
/*
 * Split one CSV record.  Returns 1 with fields set (pointers into a
 * buffer owned by the parser), 0 when the record continues on the next
 * line (quoted newline: call again with the next line), -1 on error.
 */
struct iwm_csv {
	struct iwm_buf	 rec;	/* the record being assembled */
	int		 pending; /* rec ends inside a quoted value */
	char		**fields;
	size_t		 nfields, cap;
};
int	 iwm_csv_feed(struct iwm_csv *, const char *line, size_t len);
void	 iwm_csv_free(struct iwm_csv *);

/* Quote a value for CSV output the way iwm-deps(1) writes it. */
void	 iwm_csv_quote(struct iwm_buf *, const char *);

/*
 * Connection strings "dbname;user;pass;host;syntax;driver" (a failover
 * connection may follow after '|': only the first is parsed).
 */
struct iwm_conn {
	char	*dbname;
	char	*user;
	char	*pass;
	char	*host;		/* may carry ":port" */
	int	 syntax;	/* 3 MySQL, 7 SQLite (icewarp-facts) */
	int	 driver;	/* 2 MySQL, 3 SQLite */
};
int	 iwm_conn_parse(const char *, struct iwm_conn *);
void	 iwm_conn_free(struct iwm_conn *);

#endif /* IWM_ICEWARP_H */
