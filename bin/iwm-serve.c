/*
 * iwm-serve: the target agent.  An HTTPS server that maps the logical
 * roots of a migration (mail, archive, logs, config, migration) to this
 * server's directories and lets iwm-push and iwm-scan --target list,
 * write, patch and delete files below them.  See iwm-serve(1) and
 * iwm-protocol(7).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icewarp.h"
#include "transfer.h"

static void
usage_to(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: %s --listen ADDR:PORT --users FILE [--cert FILE --key FILE"
	    " | --insecure-http]\n"
	    "\t(--tool PATH | --root NAME=DIR ...) [--owner USER[:GROUP]]\n"
	    "\t[--fsync] [--temp-names] [--threads N]"
	    "\n"
	    "\t[--max-connections N] [--max-per-address N] [--timeout SECONDS]\n"
	    "\t[--max-body SIZE]"
	    " [--sig-cache DIR [--sig-cache-max SIZE]]\n"
	    "\t[--ready-file FILE] [-v]\n"
	    "       %s --make-cert DIR\n"
	    "       %s --print-fingerprint --cert FILE\n"
	    "       %s --add-user NAME --users FILE [--role admin|copy]\n"
	    "       %s --version\n",
	    iwm_progname, iwm_progname, iwm_progname, iwm_progname,
	    iwm_progname);
	if (status == 0)
		fputs(
	    "  --listen ADDR:PORT      numeric address and port (port 0: any free one)\n"
	    "  --users FILE            the accounts file (--add-user), mode 0600\n"
	    "  --cert FILE, --key FILE PEM certificate and key (--make-cert)\n"
	    "  --insecure-http         serve plain HTTP (a trusted link only)\n"
	    "  --tool PATH             the roots from this server's IceWarp tool;\n"
	    "                          the target actions too\n"
	    "  --root NAME=DIR         a root by hand (repeat)\n"
	    "  --owner USER[:GROUP]    owner of what the agent writes (default with\n"
	    "                          --tool: IWS_PROCESS_USER of icewarp.conf)\n"
	    "  --fsync                 fsync each file before it is put in place\n"
	    "  --temp-names            write files under temporary names, then rename\n"
	    "                          them (as where O_TMPFILE is missing)\n"
	    "  --threads N             the thread pool (default: the CPUs, at least 4)\n"
	    "  --max-connections N     concurrent connections (64)\n"
	    "  --max-per-address N     concurrent connections from one address (16)\n"
	    "  --timeout SECONDS       idle time before a connection is closed (120)\n"
	    "  --max-body SIZE         largest request body (64G)\n"
	    "  --sig-cache DIR         keep the signatures of large files in DIR\n"
	    "  --sig-cache-max SIZE    the cache's largest size (256M)\n"
	    "  --ready-file FILE       write the agent's URL there once it listens\n"
	    "  -v                      log every request, and TLS handshake failures\n"
	    "  --make-cert DIR         write a self-signed certificate and key\n"
	    "  --print-fingerprint     print the SHA-256 fingerprint of --cert\n"
	    "  --add-user NAME         add or replace a user (password on stdin)\n"
	    "  --role admin|copy       the user's role (admin: the target actions)\n"
	    "  -h, --help              this help\n"
	    "  --version               print the version and exit\n", fp);
	exit(status);
}

static void
usage(void)
{
	usage_to(stderr, IWM_EXIT_USAGE);
}

static void
add_root(struct iwm_serve_opts *o, const char *name, const char *dir)
{
	size_t i, len = strlen(dir);

	for (i = 0; i < o->nroots; i++)
		if (strcmp(o->roots[i].name, name) == 0) {
			iwm_warnx("root %s given twice", name);
			usage();
		}
	while (len > 1 && dir[len - 1] == '/')
		len--;
	o->roots = iwm_reallocarray(o->roots, o->nroots + 1,
	    sizeof(*o->roots));
	o->roots[o->nroots].name = iwm_strdup(name);
	o->roots[o->nroots].dir = iwm_strndup(dir, len);
	o->roots[o->nroots].fd = -1;
	o->nroots++;
}

/* The target server's own directories, from its tool. */
static int
tool_roots(struct iwm_serve_opts *o, const char *toolpath)
{
	static const char *const vars[] = {
		"C_System_Storage_Dir_MailPath",
		"C_System_Tools_AutoArchive_Path",
		"C_System_Storage_Dir_LogPath",
		"C_ConfigPath",
		"C_System_Storage_Dir_TempPath",
	};
	static const char *const names[] = {
		"mail", "archive", "logs", "config", "migration"
	};
	struct iwm_tool tool = { 0 };
	char *val[5] = { NULL };
	size_t i;
	int rc = -1;

	if (iwm_tool_find(&tool, toolpath) == -1 ||
	    iwm_tool_get_system(&tool, vars, 5, val) == -1)
		goto done;
	for (i = 0; i < 5; i++) {
		struct iwm_buf b = { 0 };

		if (val[i] == NULL || val[i][0] == '\0')
			continue;	/* e.g. no archive path configured */
		if (val[i][0] != '/') {
			iwm_seterr("%s is '%s': not an absolute path here",
			    vars[i], val[i]);
			goto done;
		}
		iwm_buf_adds(&b, val[i]);
		if (i == 4) {
			while (b.len > 1 && b.ptr[b.len - 1] == '/')
				b.ptr[--b.len] = '\0';
			iwm_buf_adds(&b, "/iw_migration");
		}
		add_root(o, names[i], b.ptr);
		if (i == 4) {
			/* The actions' <Temp> (iwm-protocol(7), ACTIONS). */
			o->temp_dir = iwm_strndup(b.ptr,
			    b.len - strlen("/iw_migration"));
		}
		iwm_buf_free(&b);
	}
	rc = 0;
done:
	for (i = 0; i < 5; i++)
		free(val[i]);
	iwm_tool_free(&tool);
	return rc;
}

/* A user or group: a name, else a number. */
static int
id_of(const char *name, int group, unsigned long *id, unsigned long *pgid)
{
	uint64_t n;

	if (group) {
		struct group *gr = getgrnam(name);

		if (gr != NULL) {
			*id = gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(name);

		if (pw != NULL) {
			*id = pw->pw_uid;
			*pgid = pw->pw_gid;
			return 0;
		}
	}
	if (iwm_parse_u64(name, &n) == 0 && n < (uint64_t)(uid_t)-1) {
		*id = (unsigned long)n;
		if (!group) {
			struct passwd *pw = getpwuid((uid_t)n);

			*pgid = pw != NULL ? pw->pw_gid : (unsigned long)n;
		}
		return 0;
	}
	iwm_seterr("no such %s '%s' on this server", group ? "group" : "user",
	    name);
	return -1;
}

/*
 * USER[:GROUP] (the group defaults to the user's): the owner of every
 * file and directory the agent writes.  WHERE says where it came from.
 */
static int
set_owner(const char *spec, const char *where)
{
	struct iwm_buf u = { 0 };
	const char *colon = strchr(spec, ':');
	unsigned long uid, gid = 0, pgid = 0;
	int rc = -1;

	iwm_buf_add(&u, spec, colon != NULL ? (size_t)(colon - spec) :
	    strlen(spec));
	iwm_buf_addc(&u, '\0');
	if (u.ptr[0] == '\0' || (colon != NULL && colon[1] == '\0')) {
		iwm_seterr("%s '%s': expected USER[:GROUP]", where, spec);
		goto done;
	}
	if (id_of(u.ptr, 0, &uid, &pgid) == -1 ||
	    (colon != NULL && id_of(colon + 1, 1, &gid, NULL) == -1)) {
		iwm_seterr("%s: %s", where, iwm_err());
		goto done;
	}
	if (colon == NULL)
		gid = pgid;
	if (geteuid() != 0 && uid != geteuid()) {
		iwm_seterr("%s: files can be given to %s only when iwm-serve "
		    "runs as root (or as %s)", where, u.ptr, u.ptr);
		goto done;
	}
	iwm_fs_set_owner((uid_t)uid, (gid_t)gid);
	rc = 0;
done:
	iwm_buf_free(&u);
	return rc;
}

/*
 * With --tool and no --owner: the target server's process user
 * (IWS_PROCESS_USER in its icewarp.conf), so that IceWarp can write
 * what the migration brought.  Without one, files keep the agent's
 * owner, with a warning.
 */
static int
owner_from_conf(void)
{
	const char *conf;
	char *user = iwm_icewarp_conf_get("IWS_PROCESS_USER", &conf);
	struct iwm_buf where = { 0 };
	int rc;

	if (user == NULL || *user == '\0') {
		iwm_warnx("%s: the files written keep the agent's owner "
		    "(give --owner USER[:GROUP])", user == NULL ? iwm_err() :
		    "IWS_PROCESS_USER is empty");
		free(user);
		return 0;
	}
	iwm_buf_printf(&where, "IWS_PROCESS_USER in %s", conf);
	rc = set_owner(user, where.ptr);
	iwm_buf_free(&where);
	free(user);
	return rc;
}

static long
num(const char *opt, const char *arg, long min, long max)
{
	long v;

	if (iwm_parse_int(arg, min, max, &v) == -1) {
		iwm_warnx("%s '%s': expected a number from %ld to %ld", opt,
		    arg, min, max);
		usage();
	}
	return v;
}

int
main(int argc, char *argv[])
{
	enum { O_LISTEN = 256, O_CERT, O_KEY, O_USERS, O_TOOL, O_ROOT,
	    O_INSECURE, O_FSYNC, O_THREADS, O_MAXCONN, O_TIMEOUT, O_MAXBODY,
	    O_READY, O_MAKECERT, O_ADDUSER, O_PRINTFP, O_SIGCACHE,
	    O_SIGCACHEMAX, O_ROLE, O_MAXPERADDR, O_OWNER, O_TEMPNAMES };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "users", required_argument, NULL, O_USERS },
		{ "tool", required_argument, NULL, O_TOOL },
		{ "root", required_argument, NULL, O_ROOT },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "insecure-http", no_argument, NULL, O_INSECURE },
		{ "fsync", no_argument, NULL, O_FSYNC },
		{ "temp-names", no_argument, NULL, O_TEMPNAMES },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "max-per-address", required_argument, NULL, O_MAXPERADDR },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "max-body", required_argument, NULL, O_MAXBODY },
		{ "sig-cache", required_argument, NULL, O_SIGCACHE },
		{ "sig-cache-max", required_argument, NULL, O_SIGCACHEMAX },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "make-cert", required_argument, NULL, O_MAKECERT },
		{ "add-user", required_argument, NULL, O_ADDUSER },
		{ "role", required_argument, NULL, O_ROLE },
		{ "print-fingerprint", no_argument, NULL, O_PRINTFP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_serve_opts o;
	struct iwm_buf fp = { 0 };
	const char *tool = NULL, *makecert = NULL, *adduser = NULL;
	const char *role = NULL, *owner = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ch, printfp = 0, rc;
	size_t i;

	iwm_setprogname(argv[0]);
	iwm_version_opt(argc, argv);
	memset(&o, 0, sizeof(o));
	o.threads = ncpu > 4 ? (unsigned)ncpu : 4;
	o.max_conns = 64;
	o.max_per_addr = 16;
	o.timeout = 120;
	o.max_body = (uint64_t)64 << 30;
	o.sig_cache_max = (uint64_t)256 << 20;
	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (ch) {
		case O_LISTEN:
			o.listen = optarg;
			break;
		case O_CERT:
			o.cert = optarg;
			break;
		case O_KEY:
			o.key = optarg;
			break;
		case O_USERS:
			o.users = optarg;
			break;
		case O_TOOL:
			tool = optarg;
			break;
		case O_OWNER:
			owner = optarg;
			break;
		case O_ROOT: {
			char *eq = strchr(optarg, '=');

			if (eq == NULL || eq[1] != '/') {
				iwm_warnx("--root '%s': expected NAME=/abs/dir",
				    optarg);
				usage();
			}
			*eq = '\0';
			if (!iwm_root_valid(optarg)) {
				iwm_warnx("--root: '%s' is not a root name",
				    optarg);
				usage();
			}
			add_root(&o, optarg, eq + 1);
			break;
		}
		case O_INSECURE:
			o.insecure_http = 1;
			break;
		case O_FSYNC:
			o.fsync = 1;
			break;
		case O_TEMPNAMES:
			o.temp_names = 1;
			break;
		case O_THREADS:
			o.threads = (unsigned)num("--threads", optarg, 1, 256);
			break;
		case O_MAXCONN:
			o.max_conns = (unsigned)num("--max-connections", optarg,
			    1, 10000);
			break;
		case O_MAXPERADDR:
			o.max_per_addr = (unsigned)num("--max-per-address",
			    optarg, 1, 10000);
			break;
		case O_TIMEOUT:
			o.timeout = (unsigned)num("--timeout", optarg, 1, 86400);
			break;
		case O_MAXBODY:
			if (iwm_parse_size(optarg, &o.max_body) == -1) {
				iwm_warnx("--max-body: %s", iwm_err());
				usage();
			}
			if (o.max_body == 0) {
				iwm_warnx("--max-body: must be more than 0");
				usage();
			}
			break;
		case O_SIGCACHE:
			o.sig_cache = optarg;
			break;
		case O_SIGCACHEMAX:
			if (iwm_parse_size(optarg, &o.sig_cache_max) == -1) {
				iwm_warnx("--sig-cache-max: %s", iwm_err());
				usage();
			}
			break;
		case O_READY:
			o.ready_file = optarg;
			break;
		case O_MAKECERT:
			makecert = optarg;
			break;
		case O_ADDUSER:
			adduser = optarg;
			break;
		case O_ROLE:
			if (strcmp(optarg, "admin") != 0 &&
			    strcmp(optarg, "copy") != 0) {
				iwm_warnx("--role '%s': expected admin or copy",
				    optarg);
				usage();
			}
			role = optarg;
			break;
		case O_PRINTFP:
			printfp = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage_to(stdout, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (makecert != NULL) {
		if (iwm_tls_make_cert(makecert, &fp) == -1) {
			iwm_warn_err();
			return IWM_EXIT_IO;
		}
		printf("%s\n", fp.ptr);
		iwm_buf_free(&fp);
		return iwm_close_stdout() == -1 ? IWM_EXIT_IO : 0;
	}
	if (printfp) {
		if (o.cert == NULL)
			usage();
		if (iwm_tls_cert_fp(o.cert, &fp) == -1) {
			iwm_warn_err();
			return IWM_EXIT_DATA;
		}
		printf("%s\n", fp.ptr);
		iwm_buf_free(&fp);
		return iwm_close_stdout() == -1 ? IWM_EXIT_IO : 0;
	}
	if (role != NULL && adduser == NULL)
		usage();
	if (adduser != NULL) {
		char *pw;

		if (o.users == NULL)
			usage();
		if ((pw = iwm_read_password()) == NULL) {
			iwm_warn_err();
			return IWM_EXIT_DATA;
		}
		rc = iwm_users_add(o.users, adduser, pw, role);
		memset(pw, 0, strlen(pw));
		free(pw);
		if (rc == -1) {
			iwm_warn_err();
			return IWM_EXIT_IO;
		}
		return 0;
	}
	if (o.listen == NULL || o.users == NULL ||
	    (!o.insecure_http && (o.cert == NULL || o.key == NULL)))
		usage();
	if ((tool != NULL) == (o.nroots > 0)) {
		iwm_warnx("give either --tool or --root");
		usage();
	}
	if (tool != NULL && tool_roots(&o, tool) == -1) {
		iwm_warn_err();
		return IWM_EXIT_UNAVAIL;
	}
	if (owner != NULL ? set_owner(owner, "--owner") == -1 :
	    tool != NULL && owner_from_conf() == -1)
		rc = IWM_EXIT_UNAVAIL;
	else {
		o.tool = tool;	/* actions run only with --tool */
		rc = iwm_serve_run(&o) == -1 ? IWM_EXIT_UNAVAIL : 0;
	}
	if (rc != 0)
		iwm_warn_err();
	for (i = 0; i < o.nroots; i++) {
		free(o.roots[i].name);
		free(o.roots[i].dir);
		if (o.roots[i].fd != -1)
			close(o.roots[i].fd);
	}
	free(o.roots);
	free(o.temp_dir);
	return rc;
}
