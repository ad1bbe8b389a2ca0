/*
 * create.c: `iwsim create DIR`, the builder of a simulated source server.
 * Same options and seed give a byte-identical tree with the same mtimes:
 * every mailbox draws from its own PRNG stream and every time is derived
 * from IWSIM_NOW.
 */
#include "iwsim.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CLS_USER, CLS_ARCHIVIST, CLS_EXTERN, CLS_SHARED, CLS_LIST, CLS_GROUP, CLS_RESOURCE };

struct acct {
	long dom;      /* 1-based domain number */
	long num;      /* number in the alias */
	int cls;
	char alias[32];
	char *mbpath;  /* U_MailBoxPath as stored */
	char *physdir; /* mailbox data written there, or NULL */
	long target;   /* shared: the user whose folder it is */
};

static void
usage(void)
{
	fputs("usage: iwsim create DIR [--seed N] [--domains N] [--users N] [--folders N]\n"
	      "       [--messages N] [--size-median BYTES] [--windows] [--archivists N]\n"
	      "       [--externs N] [--shared N] [--unused N] [--remotes N] [--no-archive]\n"
	      "       [--no-mailboxes] [--target] [--mariadb SOCKET [--mariadb-port PORT]]\n"
	      "       [--db-prefix PREFIX] [--sorting] [--layouts]\n"
	      "       [--plant KIND[:ARG...]]... [-v]\n"
	      "       (iwsim --help for details)\n",
	      stderr);
	exit(IWSIM_EX_USAGE);
}

char *
create_dname(long d)
{
	char b[64];

	snprintf(b, sizeof b, "dom%ld.example", d);
	return util_xstrdup(b);
}

/* Logical path (as the tool reports it) of REL below the install root. */
void
create_lpath(struct sim *sm, struct buf *b, const char *rel)
{
	size_t start = b->len;

	buf_puts(b, sm->logical);
	buf_puts(b, rel);
	for (size_t i = start; i < b->len; i++)
		if (b->p[i] == '/')
			b->p[i] = sm->sep;
}

static char *
lpath(struct sim *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
lpath(struct sim *sm, const char *fmt, ...)
{
	struct buf b = {0};
	char rel[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	create_lpath(sm, &b, rel);
	return b.p;
}

/* Relative path with the server's separator (relative U_MailBoxPath). */
static char *
rpath(struct sim *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
rpath(struct sim *sm, const char *fmt, ...)
{
	char rel[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	for (char *p = rel; *p; p++)
		if (*p == '/')
			*p = sm->sep;
	return util_xstrdup(rel);
}

static char *
ppath(struct sim *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
ppath(struct sim *sm, const char *fmt, ...)
{
	struct buf b = {0};
	char rel[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	buf_printf(&b, "%s/%s", sm->phys, rel);
	return b.p;
}

static void
sys(struct store *st, const char *name, const char *value)
{
	struct vdef d;

	/* Only variables of tests/iwsim/vars: a typo here would be a variable no server has. */
	if (store_vdef(st, name, &d) != 0 || d.kind != 's')
		util_die("%s: not a system variable of tests/iwsim/vars", name);
	if (store_sys_set(st, name, value, 0) != 0)
		util_die("state: cannot set %s", name);
}

/*
 * tests/iwsim/vars (beside the executable): every variable the tool knows,
 * with its kind, type and flags; system variables start at their type's
 * default (0 or empty).
 */
static void
load_vars(struct sim *sm, struct store *st)
{
	char path[PATH_MAX], line[1024], *slash;
	long seq = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s", sm->exe);
	slash = strrchr(path, '/');
	if (slash == NULL)
		util_die("%s: cannot find the variables file", sm->exe);
	snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "vars");
	f = fopen(path, "r");
	if (f == NULL)
		util_die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		char *fld[5], *p = line;
		int n = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		while (n < 5 && p != NULL) {
			fld[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (n < 4 || strlen(fld[1]) != 1)
			util_die("%s: bad line '%s'", path, line);
		if (store_vdef_add(st, fld[0], fld[1][0], fld[2], fld[3], ++seq) != 0)
			util_die("state: cannot define %s", fld[0]);
		if (fld[1][0] == 's') {
			int num = strncasecmp(fld[2], "Bool", 4) == 0 || strncasecmp(fld[2], "Int", 3) == 0 ||
				  strcasecmp(fld[2], "Enum") == 0;

			if (store_sys_set(st, fld[0], num ? "0" : "", 0) != 0)
				util_die("state: cannot set %s", fld[0]);
		}
	}
	fclose(f);
}

/* A license as C_License and C_License_XML answer it, over several lines (format ASSUMED beyond
 * <header><purchaseid> and <licensetype>, which public scripts parse). */
static const char license_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<license>\n"
	"<header><purchaseid>IWSIM-2026-0001</purchaseid></header>\n"
	"<licensetype>onpremise</licensetype>\n"
	"<company>Simulated Company</company>\n"
	"<modules><module><type>mail</type><users>100</users></module>"
	"<module><type>groupware</type><users>100</users></module></modules>\n"
	"</license>";

static void
sys_path(struct sim *sm, struct store *st, const char *name, const char *rel, const char *suffix)
{
	struct buf b = {0};

	create_lpath(sm, &b, rel);
	buf_puts(&b, suffix);
	sys(st, name, buf_str(&b));
	buf_free(&b);
}

/* Every system variable of DESIGN.md §4 and icewarp-facts.md, with defaults. */
static void
sys_defaults(struct sim *sm, struct store *st)
{
	static const char *const plain[][2] = {
		{"C_System_Storage_Mailbox_PrefixLen", "2"},
		{"C_System_Storage_Mailbox_GroupedPrefix", "0"},
		{"C_System_Storage_Accounts_StorageMode", "2"},
		{"C_ActiveSync_DBUser", ""},
		{"C_ActiveSync_DBPass", ""},
		{"C_AS_SpamReportsDBConn", ""},
		{"C_AS_SpamReportsDBUser", ""},
		{"C_AS_SpamReportsDBPass", ""},
		{"C_GW_SuperUser", "gwsuperuser"},
		{"C_GW_SuperPass", "simulated"},
		{"C_Mail_SMTP_Active", "1"},
		{"C_Mail_POP_Active", "1"},
		{"C_Mail_IMAP_Active", "1"},
		{"C_Mail_Control_Active", "1"},
		{"C_Mail_Control_DisableWeb", "0"},
		{"C_GW_General_Disable", "0"},
		{"C_IM_General_Disable", "0"},
		{"C_System_Services_SIP_Enable", "1"},
		{"C_SMSService_Active", "0"},
		{"C_FTPService_Active", "0"},
		{"C_ActiveSync_Active", "1"},
		{"C_PushServer_Active", "1"},
		{"C_WebDAV_Active", "1"},
		{"C_Webmail_Active", "1"},
		{"C_System_Services_Minger_Enabled", "0"},
		{"C_System_Services_LDAP_Enable", "0"},
		{"C_System_Services_Socks_Enabled", "0"},
		{"C_Proxy_Active", "0"},
		{"C_Meeting_Active", "0"},
		{"C_TeamChat_Active", "1"},
		{"C_System_Services_SIP_LocalNet", ""},
		{"C_System_Services_SIP_LocalAccessHost", "192.0.2.10"},
		{"C_System_Services_SIP_RemoteAccessHost", "sip.dom1.example"},
		{"C_System_Services_SIP_SDPRemoteAccessHost", ""},
		{"C_System_Services_SIP_Calls", "0"},
		{"C_System_Services_SIP_CallsFile", ""},
		{"C_System_Services_SIP_RTPDump", "0"},
		{"C_System_Services_SIP_RTPDumpPath", ""},
		{"C_System_Services_SIP_TTSOutputPath", ""}, /* assumed name */
		{"C_Mail_SMTP_General_DNSServer", "192.0.2.53"},
		{"C_System_Logging_Syslog_Active", "0"},
		{"C_System_Logging_Syslog_Server", ""},
		{"C_System_Logging_General_Archive", "0"},
		{"C_System_Logging_General_ArchiveTo", ""},
		{"C_System_Tools_AutoBackup_Enable", "0"},
		{"C_System_Tools_AutoBackup_BackupTo", ""},
		{"C_System_Tools_Backup_Dirs", ""},
		{"C_System_Tools_Monitor_Enable", "1"},
		{"C_System_Tools_Monitor_DiskSize", "1024"},
		{"C_System_Tools_Monitor_DiskPaths", ""}, /* assumed name */
		{"C_Webmail_URL", "https://mail.dom1.example/webmail/"},
		{"C_Webmail_DBConnection", ""},
		{"C_Mail_Filter_Content_Enable", "1"},
		{"C_Mail_Filter_BW_Enable", "1"},
		{"C_Mail_Filter_RulesContentXML", ""},
		{"C_FTP_GlobalSettings", ""},
		{"C_AV_Misc_DisableExternalAV", "0"},
		{"C_Accounts_Global_ActiveDirectorySyncInterval", "60"},
		{"C_System_ADSyncLogType", "0"},
		{"C_Accounts_Policies_Pass_DenyExport", "1"},
		{"C_Accounts_Policies_Pass_AllowAdminPass", "0"},
		{"C_Mail_SMTP_General_HostName", "mail.dom1.example"},
		{"C_WebDocuments_Enabled", "0"},
		{"C_System_Services_Fulltext_Enabled", "0"},
		{"C_AS_General_Enable", "1"},
		{"C_System_Tools_WatchDog_SMTP", "1"},
		{"C_System_Tools_WatchDog_POP3", "1"},
		{"C_System_Tools_WatchDog_IM", "1"},
		{"C_System_Tools_Watchdog_GW", "1"},
		{"C_System_Tools_Watchdog_Control", "1"},
	};
	/* What the migrator guide preserves on a target: its own values. */
	static const char *const target[][2] = {
		{"C_System_Services_SIP_LocalNet", "172.16.0.0/12;198.51.100.0/24"},
		{"C_System_Services_SIP_LocalAccessHost", "198.51.100.20"},
		{"C_System_Services_SIP_RemoteAccessHost", "sip." IWSIM_TARGET_DOMAIN},
		{"C_System_Services_SIP_SDPRemoteAccessHost", "198.51.100.21"},
		{"C_Mail_SMTP_General_DNSServer", "198.51.100.53"},
		{"C_Webmail_URL", "https://mail." IWSIM_TARGET_DOMAIN "/webmail/"},
		{"C_Mail_SMTP_General_HostName", "mail." IWSIM_TARGET_DOMAIN},
		{"C_GW_SuperUser", "gwtarget"},
		{"C_GW_SuperPass", "target-gw-secret"},
	};

	load_vars(sm, st);
	sys(st, "C_Version", IWSIM_VERSION);
	sys(st, "C_OS", sm->windows ? "0" : "1");
	sys(st, "C_License", license_xml);
	sys(st, "C_License_XML", license_xml);
	sys(st, "C_License_Type", "onpremise");
	sys(st, "C_Accounts_Policies_SuperUser", "superuser");
	sys(st, "C_Accounts_Policies_SuperUserPassword", sm->target ? "target-super-secret" : "source-super-secret");
	sys_path(sm, st, "C_InstallPath", "", "");
	sys_path(sm, st, "C_ConfigPath", "config/", "");
	sys_path(sm, st, "C_System_Storage_Dir_MailPath", "mail/", "");
	sys_path(sm, st, "C_System_Storage_Dir_TempPath", "temp/", "");
	sys_path(sm, st, "C_System_Storage_Dir_LogPath", "logs/", "");
	sys_path(sm, st, "C_SpamPath", "spam/", "");
	sys_path(sm, st, "C_CalendarPath", "calendar/", "");
	sys(st, "C_System_Tools_AutoArchive_Enable", sm->archive ? "1" : "0");
	sys(st, "C_System_Storage_Mailbox_UseSorting", sm->sorting ? "1" : "0");
	sys_path(sm, st, "C_System_Tools_AutoArchive_Path", "archive/", "");
	sys_path(sm, st, "C_System_Storage_Accounts_ODBCConnString", "config/accounts.db", ";;;;7;3");
	sys_path(sm, st, "C_GW_ConnectionString", "calendar/groupware.db", ";;;;7;3");
	sys_path(sm, st, "C_AS_Challenge_ConnectionString", "spam/antispam.db", ";;;;7;3");
	sys_path(sm, st, "C_Accounts_Global_Accounts_DirectoryCacheConnectionString", "config/dircache.db",
		 ";;;;7;3");
	sys_path(sm, st, "C_ActiveSync_DBConnection", "config/activesync.db", ";;;;7;3");
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		sys(st, plain[i][0], plain[i][1]);
	if (sm->target) {
		/* Its own archive path, in a layout the source does not have. */
		sys_path(sm, st, "C_System_Tools_AutoArchive_Path", "storage/archive/", "");
		for (size_t i = 0; i < sizeof target / sizeof target[0]; i++)
			sys(st, target[i][0], target[i][1]);
	}
}

/*
 * A target's own domain and the administrator account used to connect
 * (U_Admin 1), in a domain no source has.
 */
static void
target_accounts(struct sim *sm, struct store *st)
{
	static const char *const vars[][2] = {
		{"u_type", "0"}, {"u_accountdisabled", "0"}, {"u_authmode", "0"},
		{"u_name", "Target administrator"}, {"u_admin", "1"},
		{"u_password", "target-admin-secret"}, {"u_maxboxsize", "0"}, {"u_activesync", "1"},
	};
	int64_t did = store_obj_create(st, 'd', IWSIM_TARGET_DOMAIN), id;
	char *mb;

	if (did <= 0)
		util_die("state: cannot create domain %s", IWSIM_TARGET_DOMAIN);
	store_var_set(st, 'd', did, "d_type", "0");
	store_var_set(st, 'd', did, "d_description", "Target's own domain");
	store_var_set(st, 'd', did, "d_adminemail", IWSIM_TARGET_ADMIN);
	id = store_obj_create(st, 'a', IWSIM_TARGET_ADMIN);
	if (id <= 0)
		util_die("state: cannot create %s", IWSIM_TARGET_ADMIN);
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		store_var_set(st, 'a', id, vars[i][0], vars[i][1]);
	mb = rpath(sm, "%s/admin/", IWSIM_TARGET_DOMAIN);
	store_var_set(st, 'a', id, "u_mailboxpath", mb);
	free(mb);
}

static void
avar(struct store *st, int64_t id, const char *name, const char *value)
{
	if (store_var_set(st, 'a', id, name, value) != 0)
		util_die("state: cannot set %s", name);
}

static int64_t
new_account(struct store *st, const char *alias, const char *dom)
{
	char email[256];
	int64_t id;

	snprintf(email, sizeof email, "%s@%s", alias, dom);
	id = store_obj_create(st, 'a', email);
	if (id <= 0)
		util_die("state: cannot create account %s", email);
	return id;
}

static const char harmless_rule[] =
	"<RULES><RULE><RULEID>1</RULEID><TITLE>Flag newsletters</TITLE><ACTIVE>1</ACTIVE>"
	"<CONDITIONS><ITEM><CONDITIONTYPE>2</CONDITIONTYPE><VALUE>newsletter</VALUE></ITEM></CONDITIONS>"
	"<ACTIONS><ITEM><ACTIONTYPE>9</ACTIONTYPE><VALUE>\\Flagged</VALUE></ITEM>"
	"<ITEM><ACTIONTYPE>27</ACTIONTYPE></ITEM></ACTIONS></RULE></RULES>";

/* Relative dir of user<NUM> below the mail path: with --sorting the prefixes of its alias. */
static char *
user_rel(struct sim *sm, const char *dn, long num)
{
	struct buf b = {0}, a = {0};

	buf_printf(&a, "user%ld", num);
	buf_printf(&b, "%s/", dn);
	if (sm->sorting && num % 4 != 3)
		store_sort_prefix(&b, buf_str(&a), 2, '/');
	buf_puts(&b, buf_str(&a));
	buf_free(&a);
	return b.p;
}

/* Plans every account and stores it with realistic variables. */
static struct acct *
plan_accounts(struct sim *sm, struct store *st, size_t *nout)
{
	size_t cap = (size_t)(sm->domains * (sm->users + 3) + sm->archivists + sm->externs + sm->shared) + 1;
	struct acct *v = util_xmalloc(cap * sizeof *v);
	size_t n = 0;
	char buf[512];

	for (long d = 1; d <= sm->domains; d++) {
		char *dn = create_dname(d);
		int64_t did = store_obj_create(st, 'd', dn);

		if (did <= 0)
			util_die("state: cannot create domain %s", dn);
		store_var_set(st, 'd', did, "d_type", "0");
		snprintf(buf, sizeof buf, "Simulated domain %ld", d);
		store_var_set(st, 'd', did, "d_description", buf);
		store_var_set(st, 'd', did, "d_rulescontentxml", d == 1 ? harmless_rule : "");
		store_var_set(st, 'd', did, "d_ftp_domainsettings", "");
		store_var_set(st, 'd', did, "d_archive", sm->archive ? "1" : "0");
		store_var_set(st, 'd', did, "d_ldap_active", "0");
		snprintf(buf, sizeof buf, "admin@%s", dn);
		store_var_set(st, 'd', did, "d_adminemail", buf);
		for (long u = 1; u <= sm->users; u++) {
			struct acct *a = &v[n++];

			memset(a, 0, sizeof *a);
			a->dom = d;
			a->num = u;
			a->cls = CLS_USER;
			snprintf(a->alias, sizeof a->alias, "user%ld", u);
			/* Both forms occur on real servers: mostly relative, some absolute. */
			if (u % 4 == 3)
				a->mbpath = lpath(sm, "mail/%s/%s/", dn, a->alias);
			else
				a->mbpath = rpath(sm, "%s/%s/", dn, a->alias);
			{
				char *rel = user_rel(sm, dn, u);

				a->physdir = ppath(sm, "mail/%s", rel);
				free(rel);
			}
		}
		for (int k = 0; k < 3; k++) {
			static const char *const al[] = {"list1", "group1", "resource1"};
			static const int cl[] = {CLS_LIST, CLS_GROUP, CLS_RESOURCE};
			struct acct *a = &v[n++];

			memset(a, 0, sizeof *a);
			a->dom = d;
			a->num = 1;
			a->cls = cl[k];
			snprintf(a->alias, sizeof a->alias, "%s", al[k]);
			a->mbpath = util_xstrdup("");
		}
		free(dn);
	}
	for (long k = 1; k <= sm->archivists; k++) {
		struct acct *a = &v[n++];
		char *dn = create_dname((k - 1) % sm->domains + 1);

		memset(a, 0, sizeof *a);
		a->dom = (k - 1) % sm->domains + 1;
		a->num = k;
		a->cls = CLS_ARCHIVIST;
		snprintf(a->alias, sizeof a->alias, "archive%ld", k);
		/* Odd: the whole domain's archive; even: one user's archive folder. */
		if (k % 2 == 1 || sm->users == 0)
			a->mbpath = lpath(sm, "archive/%s/", dn);
		else
			a->mbpath = lpath(sm, "archive/%s/user%ld/", dn, (k / 2 - 1) % sm->users + 1);
		free(dn);
	}
	for (long k = 1; k <= sm->externs; k++) {
		struct acct *a = &v[n++];

		memset(a, 0, sizeof *a);
		a->dom = (k - 1) % sm->domains + 1;
		a->num = k;
		a->cls = CLS_EXTERN;
		snprintf(a->alias, sizeof a->alias, "extern%ld", k);
		if (sm->windows) {
			snprintf(buf, sizeof buf, "E:\\externs\\%s\\", a->alias);
			a->mbpath = util_xstrdup(buf);
			a->physdir = ppath(sm, "drive-e/externs/%s", a->alias);
		} else {
			a->physdir = ppath(sm, "external/%s", a->alias);
			snprintf(buf, sizeof buf, "%s/", a->physdir);
			a->mbpath = util_xstrdup(buf);
		}
	}
	for (long k = 1; k <= sm->shared; k++) {
		struct acct *a = &v[n++];
		char *dn = create_dname((k - 1) % sm->domains + 1);

		memset(a, 0, sizeof *a);
		a->dom = (k - 1) % sm->domains + 1;
		a->num = k;
		a->cls = CLS_SHARED;
		a->target = ((k - 1) / sm->domains) % sm->users + 1;
		snprintf(a->alias, sizeof a->alias, "shared%ld", k);
		{
			char *rel = user_rel(sm, dn, a->target);

			a->mbpath = rpath(sm, "%s/Shared/", rel);
			a->physdir = ppath(sm, "mail/%s/Shared", rel);
			free(rel);
		}
		free(dn);
	}
	for (size_t i = 0; i < n; i++) {
		struct acct *a = &v[i];
		char *dn = create_dname(a->dom);
		int64_t id = new_account(st, a->alias, dn);
		static const char *const types[] = {"0", "0", "0", "0", "1", "7", "8"};

		avar(st, id, "u_type", types[a->cls]);
		avar(st, id, "u_accountdisabled", "0");
		avar(st, id, "u_authmode", "0");
		avar(st, id, "u_mailboxpath", a->mbpath);
		switch (a->cls) {
		case CLS_LIST:
			avar(st, id, "u_name", "Staff list");
			avar(st, id, "m_sendalllists", "0");
			snprintf(buf, sizeof buf, "user1@%s\r\nuser2@%s\r\n", dn, dn);
			avar(st, id, "m_listfile_contents", buf);
			break;
		case CLS_GROUP:
			avar(st, id, "u_name", "All staff");
			snprintf(buf, sizeof buf, "user1@%s\r\n", dn);
			avar(st, id, "g_listfile_contents", buf);
			break;
		case CLS_RESOURCE:
			/* A comma in a value: the export must quote it. */
			avar(st, id, "u_name", "Meeting room, 2nd floor");
			break;
		default:
			if (a->cls == CLS_USER && a->num == 2)
				snprintf(buf, sizeof buf, "Bob \"The Builder\" Novak");
			else
				snprintf(buf, sizeof buf, "%s %s", a->alias, dn);
			avar(st, id, "u_name", buf);
			snprintf(buf, sizeof buf, "pw-%llx-%s",
				 (unsigned long long)(sm->seed * 2654435761ULL + (uint64_t)id), a->alias);
			avar(st, id, "u_password", buf);
			avar(st, id, "u_maxboxsize", "0");
			/* Full (ActiveSync) users and light ones, as license reports count them. */
			avar(st, id, "u_activesync", a->num % 2 == 1 ? "1" : "0");
			if (a->cls == CLS_USER && a->num % 3 == 2)
				avar(st, id, "u_rulescontentxml", harmless_rule);
			break;
		}
		free(dn);
	}
	*nout = n;
	return v;
}

/* Remote accounts (POP3 download): keyed by name, e.g. ra1. */
static void
plan_remotes(struct sim *sm, struct store *st)
{
	char key[64], buf[256];

	for (long k = 1; k <= sm->remotes; k++) {
		int64_t id;

		snprintf(key, sizeof key, "ra%ld", k);
		id = store_obj_create(st, 'r', key);
		if (id <= 0)
			util_die("state: cannot create remote account %s", key);
		snprintf(buf, sizeof buf, "pop.provider%ld.example.net", k);
		store_var_set(st, 'r', id, "ra_server", buf);
		snprintf(buf, sizeof buf, "remote%ld", k);
		store_var_set(st, 'r', id, "ra_username", buf);
		store_var_set(st, 'r', id, "ra_password", "remote-secret");
		snprintf(buf, sizeof buf, "user1@%s", "dom1.example");
		store_var_set(st, 'r', id, "ra_owner", buf);
		store_var_set(st, 'r', id, "ra_enabled", "1");
		store_var_set(st, 'r', id, "ra_rulescontentxml", "");
	}
}

static void
wfile(struct sim *sm, const char *rel, const char *text, mode_t mode)
{
	char *p = ppath(sm, "%s", rel);

	if (fs_write(p, text, strlen(text), IWSIM_NOW - 3600, mode) != 0)
		util_die("cannot write %s", p);
	free(p);
}

static void
mkd(struct sim *sm, const char *rel)
{
	char *p = ppath(sm, "%s", rel);

	if (fs_mkdirs(p) != 0)
		util_die("%s: cannot create: %s", p, strerror(errno));
	free(p);
}

/* Shell single quoting for tool.sh and icewarp.conf. */
static void
shq(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *s);
	buf_putc(b, '\'');
}

static void
write_config(struct sim *sm)
{
	struct buf b = {0};
	const char *nl = sm->windows ? "\r\n" : "\n";
	char *p;

	buf_puts(&b, "#!/bin/sh\n# IceWarp tool (simulated by iwsim)\nexec ");
	shq(&b, sm->exe);
	buf_puts(&b, " tool ");
	shq(&b, sm->phys);
	buf_puts(&b, " \"$@\"\n");
	wfile(sm, "tool.sh", buf_str(&b), 0755);

	/*
	 * icewarpd.sh: module control as on Linux. Module pids live in
	 * var/<module>.pid; every call is one line of .iwsim/events.log.
	 */
	b.len = 0;
	buf_puts(&b, "#!/bin/sh\n# IceWarp module control (simulated by iwsim): "
		     "--start|--stop|--restart [all|smtp|pop3|control|im|cal]\nD=");
	shq(&b, sm->phys);
	buf_puts(&b, "\nusage() {\n"
		     "\techo 'usage: icewarpd.sh --start|--stop|--restart [all|smtp|pop3|control|im|cal]' >&2\n"
		     "\texit 64\n}\n"
		     "[ $# -ge 1 ] && [ $# -le 2 ] || usage\n"
		     "case $1 in --start|--stop|--restart) act=${1#--} ;; *) usage ;; esac\n"
		     "m=${2:-all}\n"
		     "case $m in\nall) list='smtp pop3 control im cal' ;;\n"
		     "smtp|pop3|control|im|cal) list=$m ;;\n*) usage ;;\nesac\n"
		     "for x in $list; do\n"
		     "\tcase $act in\n"
		     "\tstart) [ -f \"$D/var/$x.pid\" ] || echo $$ >\"$D/var/$x.pid\" ;;\n"
		     "\tstop) rm -f \"$D/var/$x.pid\" ;;\n"
		     "\trestart) echo $$ >\"$D/var/$x.pid\" ;;\n"
		     "\tesac || exit 1\n"
		     "done\n"
		     "echo \"$act $m\" >>\"$D/.iwsim/events.log\" || exit 1\n");
	wfile(sm, "icewarpd.sh", buf_str(&b), 0755);
	{
		static const char *const mods[] = {"smtp", "pop3", "control", "im", "cal"};

		for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
			char rel[64];

			snprintf(rel, sizeof rel, "var/%s.pid", mods[i]);
			b.len = 0;
			buf_printf(&b, "%zu\n", 4100 + i);
			wfile(sm, rel, buf_str(&b), 0644);
		}
	}
	wfile(sm, ".iwsim/events.log", "", 0644);
	/* Monitoring status files scripts keep in var/ (M/iw_backup.sh, M/iwmon_agent.sh). */
	wfile(sm, "var/iwbackupstatus.mon", "OK\n", 0644);
	wfile(sm, "var/smtpstatus.mon", "OK\n", 0644);
	wfile(sm, "var/imapstatus.mon", "OK\n", 0644);
	/*
	 * provisioned.dat in the storage (mail) path: without it a server that
	 * checks availability does not turn services on (AC:1358). Content ASSUMED.
	 */
	b.len = 0;
	buf_printf(&b, "%08llX\r\n", (unsigned long long)(sm->seed * 0x9e3779b97f4a7c15ULL) >> 32);
	wfile(sm, "mail/provisioned.dat", buf_str(&b), 0644);

	/* Real servers write IWS_INSTALL_DIR="/opt/icewarp"; quote otherwise only when needed. */
	b.len = 0;
	buf_puts(&b, "IWS_INSTALL_DIR=");
	if (strpbrk(sm->phys, "\"$`\\") == NULL)
		buf_printf(&b, "\"%s\"", sm->phys);
	else
		shq(&b, sm->phys);
	buf_puts(&b, "\nIWS_PROCESS_USER=\"icewarp\"\nIWS_VERSION=\"" IWSIM_VERSION "\"\n");
	wfile(sm, "icewarp.conf", buf_str(&b), 0644);

	/* path.dat: 1 config, 2 html, 4 server id, 6/7 spam/calendar, 8/9 outgoing, 11 host, 13 incoming */
	b.len = 0;
	p = lpath(sm, "config/");
	buf_printf(&b, "%s%s", p, nl);
	free(p);
	p = lpath(sm, "html/");
	buf_printf(&b, "%s%s%s", p, nl, nl);
	free(p);
	buf_printf(&b, "%08llX%s%s", (unsigned long long)(sm->seed * 0x9e3779b97f4a7c15ULL) >> 32, nl, nl);
	p = lpath(sm, "spam/");
	buf_printf(&b, "%s%s", p, nl);
	free(p);
	p = lpath(sm, "calendar/");
	buf_printf(&b, "%s%s", p, nl);
	free(p);
	p = lpath(sm, "mail/_outgoing/");
	buf_printf(&b, "%s%s", p, nl);
	free(p);
	p = lpath(sm, "mail/_outgoing/retry/");
	buf_printf(&b, "%s%s%s", p, nl, nl);
	free(p);
	buf_printf(&b, "mail.%s%s%s", sm->target ? IWSIM_TARGET_DOMAIN : "dom1.example", nl, nl);
	p = lpath(sm, "mail/_incoming/");
	buf_printf(&b, "%s%s", p, nl);
	free(p);
	wfile(sm, "path.dat", buf_str(&b), 0644);

	b.len = 0;
	deps_content_xml(sm, &b);
	wfile(sm, "config/content.xml", buf_str(&b), 0644);
	b.len = 0;
	deps_tasks_xml(sm, &b);
	wfile(sm, "config/tasks.xml", buf_str(&b), 0644);
	b.len = 0;
	deps_extfilters_xml(sm, &b);
	wfile(sm, "config/extfilters.xml", buf_str(&b), 0644);

	/* syncad.dat: one DOMAIN node per domain; --plant adsync:N activates N. */
	b.len = 0;
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<DOMAINS>\r\n");
	for (long d = 1; d <= sm->domains; d++) {
		int on = d <= deps_adsync_domains(sm);

		buf_printf(&b,
			   " <DOMAIN>\r\n  <DOMAIN>dom%ld.example</DOMAIN>\r\n  <ACTIVE>%d</ACTIVE>\r\n"
			   "  <HOSTDOMAINACTIVE>%d</HOSTDOMAINACTIVE>\r\n"
			   "  <HOSTDOMAIN>%s%ld.corp.example;dom%ld.example</HOSTDOMAIN>\r\n"
			   "  <ACCOUNTFILTERS>(objectClass=user)</ACCOUNTFILTERS>\r\n"
			   "  <LDAPSERVERTYPE>0</LDAPSERVERTYPE>\r\n </DOMAIN>\r\n",
			   d, on, on, "ad", d, d);
	}
	buf_puts(&b, "</DOMAINS>\r\n");
	wfile(sm, "config/syncad.dat", buf_str(&b), 0644);

	b.len = 0;
	buf_puts(&b, "smtp;0.0.0.0;25\r\nsmtp;0.0.0.0;587\r\nsmtp;0.0.0.0;465;cert.pem;0;\r\n"
		     "pop3;0.0.0.0;110\r\nimap;0.0.0.0;143\r\nimap;0.0.0.0;993;cert.pem;0;\r\n"
		     "control;0.0.0.0;80\r\ncontrol;0.0.0.0;443;cert.pem;0;\r\nsip;0.0.0.0;5060\r\n");
	wfile(sm, "config/servicebind.dat", buf_str(&b), 0644);

	b.len = 0;
	if (sm->target)
		buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<global_settings>\r\n <item>\r\n"
			     "  <dbconn>sqlite:</dbconn>\r\n  <dbuser></dbuser>\r\n  <dbpass></dbpass>\r\n"
			     "  <smtpserver>198.51.100.25</smtpserver>\r\n  <smtpport>587</smtpport>\r\n"
			     "  <smtp_auth>1</smtp_auth>\r\n"
			     "  <imapserver>198.51.100.25</imapserver>\r\n  <imapport>993</imapport>\r\n"
			     "  <imserver>198.51.100.25</imserver>\r\n"
			     "  <url>https://mail." IWSIM_TARGET_DOMAIN "/webmail/</url>\r\n"
			     "  <logging_type>2</logging_type>\r\n </item>\r\n</global_settings>\r\n");
	else
		buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<global_settings>\r\n <item>\r\n"
			     "  <dbconn>sqlite:</dbconn>\r\n  <dbuser></dbuser>\r\n  <dbpass></dbpass>\r\n"
			     "  <smtpserver>127.0.0.1</smtpserver>\r\n  <smtpport>25</smtpport>\r\n"
			     "  <imapserver>127.0.0.1</imapserver>\r\n  <imapport>143</imapport>\r\n"
			     "  <imserver>127.0.0.1</imserver>\r\n"
			     "  <url>https://mail.dom1.example/webmail/</url>\r\n </item>\r\n</global_settings>\r\n");
	wfile(sm, "config/_webmail/server.xml", buf_str(&b), 0644);
	for (long d = 1; d <= sm->domains; d++) {
		char rel[256];

		b.len = 0;
		buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<host>\r\n <domain>dom%ld.example</domain>\r\n"
			   " <url>https://mail.dom%ld.example/webmail/</url>\r\n</host>\r\n", d, d);
		snprintf(rel, sizeof rel, "config/_webmail/_hosts/mail.dom%ld.example.xml", d);
		wfile(sm, rel, buf_str(&b), 0644);
		snprintf(rel, sizeof rel, "config/dom%ld.example", d);
		mkd(sm, rel);
		b.len = 0;
		buf_printf(&b, "user1@dom%ld.example\r\nuser2@dom%ld.example\r\n", d, d);
		snprintf(rel, sizeof rel, "config/dom%ld.example/list1.txt", d);
		wfile(sm, rel, buf_str(&b), 0644);
		b.len = 0;
		buf_printf(&b, "user1@dom%ld.example\r\n", d);
		snprintf(rel, sizeof rel, "config/dom%ld.example/group1.txt", d);
		wfile(sm, rel, buf_str(&b), 0644);
	}
	buf_free(&b);
}

static void
write_logs(struct sim *sm)
{
	static const char *const svc[][2] = {{"smtp", "s"}, {"imap", "i"}, {"control", "c"}, {"pop3", "p"}};
	struct buf b = {0};
	struct rng r;

	rand_seed(&r, sm->seed, 0x1095);
	for (size_t s = 0; s < sizeof svc / sizeof svc[0]; s++) {
		char rel[256];

		snprintf(rel, sizeof rel, "logs/%s", svc[s][0]);
		mkd(sm, rel);
		for (int day = 0; day < 3; day++) {
			time_t t = IWSIM_NOW - (time_t)(2 - day) * 86400;
			struct tm tm;
			char *p;
			int lines = 20 + (int)rand_below(&r, 40);

			gmtime_r(&t, &tm);
			b.len = 0;
			for (int l = 0; l < lines; l++)
				buf_printf(&b, "192.0.2.%u [%02d%02d] %02d:%02d:%02d [%u] %s connection %s\r\n",
					   (unsigned)rand_below(&r, 250) + 1, tm.tm_hour, tm.tm_min, l / 3600 % 24,
					   l / 60 % 60, l % 60, (unsigned)rand_below(&r, 90000) + 1000, svc[s][0],
					   rand_below(&r, 3) ? "accepted" : "closed");
			snprintf(rel, sizeof rel, "logs/%s/%s%04d%02d%02d.log", svc[s][0], svc[s][1], tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday);
			p = ppath(sm, "%s", rel);
			if (fs_write(p, b.p, b.len, t, 0644) != 0)
				util_die("cannot write %s", p);
			free(p);
		}
	}
	wfile(sm, "temp/readme.txt", "IceWarp temporary files\r\n", 0644);
	buf_free(&b);
}

static void
sql_file(struct sim *sm, const char *rel, const char *sql)
{
	char *p = ppath(sm, "%s", rel);
	sqlite3 *db = NULL;
	char *err = NULL;

	if (sqlite3_open(p, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		util_die("%s: %s", p, err ? err : db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_close(db);
	if (fs_touch(p, IWSIM_NOW - 600) != 0)
		exit(1);
	free(p);
}

/* Groupware, anti-spam, directory cache and EAS databases with the known tables. */
static void
write_databases(struct sim *sm, struct acct *v, size_t n)
{
	struct buf g = {0}, s = {0};
	long own = 0;

	/*
	 * The columns public scripts use (M/domainmove.sh, M/iw_export_gw_webclient.sh,
	 * M/faorsms.sh); the others ASSUMED.
	 */
	buf_puts(&g, "PRAGMA journal_mode=OFF; PRAGMA page_size=4096; BEGIN;"
		     "CREATE TABLE EventOwner(OWN_ID INTEGER PRIMARY KEY, OWN_Email TEXT NOT NULL);"
		     "CREATE TABLE EventGroup(GRP_ID INTEGER PRIMARY KEY, GRPOWN_ID INTEGER NOT NULL,"
		     " GrpTitle TEXT NOT NULL DEFAULT '', GrpDailyEventsEmail TEXT, GrpReminderEmail TEXT);"
		     "CREATE TABLE Folders(FDR_ID INTEGER PRIMARY KEY, FDRGRP_ID INTEGER NOT NULL, FDRType TEXT NOT NULL,"
		     " FdrName TEXT);"
		     "CREATE TABLE FolderRights(FRT_ID INTEGER PRIMARY KEY, FRTFDR_ID INTEGER, FrtEmail TEXT, FrtRights TEXT);"
		     "CREATE TABLE ContactItem(ITM_ID INTEGER PRIMARY KEY, ITMGRP_ID INTEGER NOT NULL, ItmFolder TEXT NOT NULL,"
		     " ItmClassName TEXT, ItmTitle TEXT, ItmEmail TEXT);"
		     "CREATE TABLE ContactLocation(LCT_ID INTEGER PRIMARY KEY, LCTITM_ID INTEGER NOT NULL, LctType TEXT,"
		     " LctEmail TEXT, LctPhone TEXT);"
		     "CREATE TABLE ItemAttr(ATR_ID INTEGER PRIMARY KEY, ATRITM_ID INTEGER, AtrName TEXT, AtrValue TEXT);"
		     "CREATE TABLE Tags(TAG_ID INTEGER PRIMARY KEY, TAGOWN_ID INTEGER, TagName TEXT);"
		     "CREATE TABLE Tickets(TCK_ID INTEGER PRIMARY KEY, TCKOWN_ID INTEGER, TckValue TEXT);");
	buf_puts(&s, "PRAGMA journal_mode=OFF; PRAGMA page_size=4096; BEGIN;"
		     "CREATE TABLE Senders(SndID INTEGER PRIMARY KEY, SndOwner TEXT NOT NULL, SndEmail TEXT NOT NULL,"
		     " SndType INTEGER NOT NULL, SndDate TEXT);"
		     "CREATE TABLE Quarantine(QID INTEGER PRIMARY KEY, QOwner TEXT, QSender TEXT, QDate TEXT);");
	for (size_t i = 0; i < n; i++) {
		char *dn;

		if (v[i].cls != CLS_USER)
			continue;
		dn = create_dname(v[i].dom);
		own++;
		/* Per owner: the personal group (GrpTitle ''), its folders, a contact and "my card". */
		buf_printf(&g, "INSERT INTO EventOwner VALUES(%ld, '%s@%s');", own, v[i].alias, dn);
		buf_printf(&g, "INSERT INTO EventGroup VALUES(%ld, %ld, '', '%s@%s', '%s@%s');", own, own, v[i].alias, dn,
			   v[i].alias, dn);
		for (int f = 0; f < 6; f++) {
			static const char *const ft[][2] = {{"C", "Contacts"}, {"E", "Calendar"}, {"T", "Tasks"},
							    {"F", "Files"}, {"J", "Journal"}, {"M", "INBOX"}};

			buf_printf(&g, "INSERT INTO Folders VALUES(%ld, %ld, '%s', '%s');", own * 6 - 5 + f, own,
				   ft[f][0], ft[f][1]);
		}
		buf_printf(&g, "INSERT INTO ContactItem VALUES(%ld, %ld, '%ld', 'Contact', 'Partner %ld',"
			       " 'p%ld@partner.example.net'), (%ld, %ld, '@@mycard@@', 'Contact', '%s', '%s@%s');",
			   own * 2 - 1, own, own * 6 - 5, own, own, own * 2, own, v[i].alias, v[i].alias, dn);
		buf_printf(&g, "INSERT INTO ContactLocation VALUES(%ld, %ld, 'H', '%s@%s', '+420 555 %04ld');", own,
			   own * 2, v[i].alias, dn, own);
		if (v[i].num <= 2) {
			/* SndType: 1 whitelist, 2 blacklist (assumed codes) */
			buf_printf(&s, "INSERT INTO Senders(SndOwner, SndEmail, SndType, SndDate) VALUES"
				       "('%s@%s', 'friend@partner.example.net', 1, '2026-10-01'),"
				       "('%s@%s', 'spammer@bulk.example.org', 2, '2026-10-02');",
				   v[i].alias, dn, v[i].alias, dn);
		}
		free(dn);
	}
	buf_puts(&g, "COMMIT;");
	buf_puts(&s, "COMMIT;");
	sql_file(sm, "calendar/groupware.db", buf_str(&g));
	sql_file(sm, "spam/antispam.db", buf_str(&s));
	sql_file(sm, "config/dircache.db",
		 "PRAGMA journal_mode=OFF; PRAGMA page_size=4096;"
		 "CREATE TABLE AccountCacheJournals(ACJ_ID INTEGER PRIMARY KEY, ACJ_Email TEXT, ACJ_Time INTEGER);");
	sql_file(sm, "config/activesync.db",
		 "PRAGMA journal_mode=OFF; PRAGMA page_size=4096;"
		 "CREATE TABLE folders(id INTEGER PRIMARY KEY, account TEXT, device TEXT, folder TEXT, synckey TEXT);"
		 "CREATE TABLE items(id INTEGER PRIMARY KEY, folder_id INTEGER, uid TEXT, flags INTEGER);"
		 "CREATE TABLE push(id INTEGER PRIMARY KEY, account TEXT, device TEXT);"
		 "CREATE TABLE dummy_folders(id INTEGER PRIMARY KEY, account TEXT, name TEXT);");
	buf_free(&g);
	buf_free(&s);
}

/* The mailboxes with index % nworkers == worker. */
static void
write_mailboxes(struct sim *sm, struct mailgen *mg, struct acct *v, size_t n, long worker, long nworkers)
{
	for (size_t i = (size_t)worker; i < n; i += (size_t)nworkers) {
		struct acct *a = &v[i];
		char owner[256], *dn, *arch = NULL;
		struct rng r;

		if (a->physdir == NULL || a->cls == CLS_SHARED)
			continue;
		dn = create_dname(a->dom);
		snprintf(owner, sizeof owner, "%s@%s", a->alias, dn);
		rand_seed(&r, sm->seed, (uint64_t)a->dom << 32 | (uint64_t)a->cls << 24 | (uint64_t)a->num);
		if (a->cls == CLS_USER)
			arch = ppath(sm, "archive/%s/%s", dn, a->alias);
		if (mail_mailbox(mg, &r, a->physdir, arch, owner, sm->folders, sm->messages) != 0)
			util_die("cannot write mailbox %s", a->physdir);
		free(arch);
		free(dn);
	}
}

/*
 * Mailboxes, archive, externs, shared folders and unused directories. The
 * mailboxes are split over one process per core (writing is kernel-bound);
 * each mailbox has its own PRNG stream, so the split changes nothing.
 */
static void
write_mail(struct sim *sm, struct acct *v, size_t n)
{
	struct mailgen *mg = mail_new(sm);
	long nw = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t pids[4];
	int fds[4];

	if (nw < 1)
		nw = 1;
	if (nw > 4)
		nw = 4;
	if (n < 64)
		nw = 1;
	fflush(NULL);
	for (long w = 0; w < nw; w++) {
		int pfd[2];

		if (pipe(pfd) != 0 || (pids[w] = fork()) < 0)
			util_die("fork: %s", strerror(errno));
		if (pids[w] == 0) {
			unsigned long long st[2];

			close(pfd[0]);
			write_mailboxes(sm, mg, v, n, w, nw);
			st[0] = sm->nmsg;
			st[1] = sm->nbytes;
			if (write(pfd[1], st, sizeof st) != (ssize_t)sizeof st)
				_exit(1);
			_exit(0);
		}
		close(pfd[1]);
		fds[w] = pfd[0];
	}
	for (long w = 0; w < nw; w++) {
		unsigned long long st[2];
		int status;

		if (read(fds[w], st, sizeof st) != (ssize_t)sizeof st)
			st[0] = st[1] = 0;
		close(fds[w]);
		if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			util_die("writing mailboxes failed");
		sm->nmsg += st[0];
		sm->nbytes += st[1];
	}
	/* A shared account's folder: a folder of another user, with messages. */
	for (size_t i = 0; i < n; i++) {
		struct acct *a = &v[i];
		char owner[256];
		struct rng r;

		if (a->cls != CLS_SHARED || fs_is_empty_dir(a->physdir) >= 0)
			continue;
		snprintf(owner, sizeof owner, "user%ld@dom%ld.example", a->target, a->dom);
		rand_seed(&r, sm->seed, (uint64_t)a->dom << 32 | (uint64_t)CLS_SHARED << 24 | (uint64_t)a->target);
		if (mail_folder(mg, &r, a->physdir, NULL, owner, sm->messages) != 0)
			util_die("cannot write %s", a->physdir);
	}
	for (long k = 1; k <= sm->unused; k++) {
		char *dir = ppath(sm, "mail/dom%ld.example/olduser%ld/inbox", (k - 1) % sm->domains + 1, k);
		char owner[256];
		struct rng r;

		snprintf(owner, sizeof owner, "olduser%ld@dom%ld.example", k, (k - 1) % sm->domains + 1);
		rand_seed(&r, sm->seed, 0xdead0000ULL + (uint64_t)k);
		if (mail_folder(mg, &r, dir, NULL, owner, sm->messages) != 0)
			util_die("cannot write %s", dir);
		free(dir);
	}
	mail_free(mg);
}

static void
target_mailbox(struct sim *sm)
{
	struct mailgen *mg = mail_new(sm);
	char *dir = ppath(sm, "mail/%s/admin", IWSIM_TARGET_DOMAIN);
	struct rng r;

	if (sm->sorting) {
		free(dir);
		dir = ppath(sm, "mail/%s/ad/mi/admin", IWSIM_TARGET_DOMAIN);
	}
	rand_seed(&r, sm->seed, 0x7a26e7ULL);
	if (mail_mailbox(mg, &r, dir, NULL, IWSIM_TARGET_ADMIN, 0, sm->messages) != 0)
		util_die("cannot write mailbox %s", dir);
	free(dir);
	mail_free(mg);
}

/* --mariadb: tests/iwsim/iwsim-db moves the databases into MariaDB. */
static void
move_to_mariadb(struct sim *sm)
{
	char prog[PATH_MAX], *slash;
	const char *av[16];
	int n = 0, status;
	pid_t pid;

	snprintf(prog, sizeof prog, "%s", sm->exe);
	slash = strrchr(prog, '/');
	if (slash == NULL)
		util_die("%s: cannot find iwsim-db", sm->exe);
	snprintf(slash + 1, sizeof prog - (size_t)(slash + 1 - prog), "iwsim-db");
	av[n++] = prog;
	av[n++] = "mysql";
	av[n++] = sm->phys;
	av[n++] = "--socket";
	av[n++] = sm->my_socket;
	if (sm->my_port) {
		av[n++] = "--port";
		av[n++] = sm->my_port;
	}
	av[n++] = "--prefix";
	av[n++] = sm->db_prefix ? sm->db_prefix : sm->target ? "iwt_" : "iw_";
	av[n++] = "--move";
	av[n++] = "--webcache-rows";
	av[n++] = "100";
	av[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		util_die("fork: %s", strerror(errno));
	if (pid == 0) {
		execv(prog, (char *const *)av);
		fprintf(stderr, "iwsim: %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		util_die("%s: moving the databases into MariaDB failed", prog);
}

static void
num_opt(const char *name, const char *arg, long min, long max, long *out)
{
	if (util_parse_long(arg, min, max, out) != 0) {
		fprintf(stderr, "iwsim create: --%s: expected a number from %ld to %ld, got '%s'\n", name, min, max,
			arg);
		usage();
	}
}

int
create_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"seed", required_argument, NULL, 's'},
		{"domains", required_argument, NULL, 'd'},
		{"users", required_argument, NULL, 'u'},
		{"folders", required_argument, NULL, 'f'},
		{"messages", required_argument, NULL, 'm'},
		{"size-median", required_argument, NULL, 'z'},
		{"windows", no_argument, NULL, 'w'},
		{"archivists", required_argument, NULL, 'A'},
		{"externs", required_argument, NULL, 'E'},
		{"shared", required_argument, NULL, 'S'},
		{"unused", required_argument, NULL, 'U'},
		{"remotes", required_argument, NULL, 'R'},
		{"no-archive", no_argument, NULL, 'n'},
		{"no-mailboxes", no_argument, NULL, 'N'},
		{"plant", required_argument, NULL, 'p'},
		{"target", no_argument, NULL, 'T'},
		{"sorting", no_argument, NULL, 'o'},
		{"layouts", no_argument, NULL, 'L'},
		{"mariadb", required_argument, NULL, 'M'},
		{"mariadb-port", required_argument, NULL, 'P'},
		{"db-prefix", required_argument, NULL, 'X'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sim sm;
	struct store st;
	struct acct *accts;
	size_t nacct;
	char real[PATH_MAX];
	long seed = 1;
	int c, empty, domains_set = 0, remotes_set = 0;
	static const char *const dirs[] = {"config/_webmail/_hosts", "mail/_outgoing/retry", "mail/_incoming",
					   "archive", "logs", "temp", "calendar", "spam", "html", ".iwsim", "var"};

	memset(&sm, 0, sizeof sm);
	sm.domains = 2;
	sm.users = 5;
	sm.folders = 2;
	sm.messages = 5;
	sm.size_median = 4096;
	sm.archive = 1;
	sm.remotes = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 's': num_opt("seed", optarg, 0, LONG_MAX, &seed); break;
		case 'd': num_opt("domains", optarg, 0, 100000, &sm.domains); domains_set = 1; break;
		case 'u': num_opt("users", optarg, 0, 1000000, &sm.users); break;
		case 'f': num_opt("folders", optarg, 0, 1000, &sm.folders); break;
		case 'm': num_opt("messages", optarg, 0, 9999, &sm.messages); break;
		case 'z': num_opt("size-median", optarg, 64, 16L << 20, &sm.size_median); break;
		case 'w': sm.windows = 1; break;
		case 'A': num_opt("archivists", optarg, 0, 100000, &sm.archivists); break;
		case 'E': num_opt("externs", optarg, 0, 100000, &sm.externs); break;
		case 'S': num_opt("shared", optarg, 0, 100000, &sm.shared); break;
		case 'U': num_opt("unused", optarg, 0, 100000, &sm.unused); break;
		case 'R': num_opt("remotes", optarg, 0, 100000, &sm.remotes); remotes_set = 1; break;
		case 'n': sm.archive = 0; break;
		case 'N': sm.no_mailboxes = 1; break;
		case 'p':
			if (deps_parse(&sm.plants, optarg) != 0) {
				fprintf(stderr, "iwsim create: --plant: bad value '%s'\n", optarg);
				usage();
			}
			break;
		case 'T': sm.target = 1; break;
		case 'o': sm.sorting = 1; break;
		case 'L': sm.layouts = 1; break;
		case 'M': sm.my_socket = optarg; break;
		case 'P': sm.my_port = optarg; break;
		case 'X': sm.db_prefix = optarg; break;
		case 'v': sm.verbose = 1; break;
		case 'h': iwsim_help(); exit(0);
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (sm.target && !domains_set)
		sm.domains = 0; /* a fresh target: only its own domain */
	if (sm.target && !remotes_set)
		sm.remotes = 0;
	if (sm.domains == 0 && (!sm.target || sm.archivists || sm.externs || sm.shared || sm.unused ||
				sm.plants.n || sm.remotes)) {
		fputs("iwsim create: --domains 0 only with --target and without account classes or plants\n", stderr);
		usage();
	}
	if ((sm.my_port || sm.db_prefix) && !sm.my_socket) {
		fputs("iwsim create: --mariadb-port and --db-prefix need --mariadb\n", stderr);
		usage();
	}
	if (sm.shared > 0 && sm.users == 0) {
		fputs("iwsim create: --shared needs --users of at least 1\n", stderr);
		usage();
	}
	sm.seed = (uint64_t)seed;
	if (fs_mkdirs(argv[optind]) != 0)
		util_die("%s: cannot create: %s", argv[optind], strerror(errno));
	empty = fs_is_empty_dir(argv[optind]);
	if (empty != 1)
		util_die("%s: %s", argv[optind], empty == 0 ? "directory is not empty" : strerror(errno));
	if (realpath(argv[optind], real) == NULL)
		util_die("%s: %s", argv[optind], strerror(errno));
	sm.phys = util_xstrdup(real);
	if (realpath("/proc/self/exe", real) == NULL)
		util_die("/proc/self/exe: %s", strerror(errno));
	sm.exe = util_xstrdup(real);
	sm.windows = sm.windows ? 1 : 0;
	sm.sep = sm.windows ? '\\' : '/';
	if (sm.windows) {
		sm.logical = util_xstrdup(IWSIM_WIN_ROOT);
	} else {
		struct buf b = {0};

		buf_printf(&b, "%s/", sm.phys);
		sm.logical = b.p;
	}
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		mkd(&sm, dirs[i]);

	if (store_create(&st, sm.phys, sm.logical, sm.windows) != 0 || store_exec(&st, "BEGIN") != 0)
		util_die("cannot create the simulator state");
	sys_defaults(&sm, &st);
	accts = plan_accounts(&sm, &st, &nacct);
	plan_remotes(&sm, &st);
	if (sm.target)
		target_accounts(&sm, &st);
	if (deps_apply(&sm, &st) != 0)
		exit(1);
	if (store_exec(&st, "COMMIT") != 0)
		util_die("cannot write the simulator state");
	store_close(&st);

	write_config(&sm);
	write_logs(&sm);
	write_databases(&sm, accts, nacct);
	if (!sm.no_mailboxes)
		write_mail(&sm, accts, nacct);
	if (sm.target) {
		mkd(&sm, "storage/archive");
		if (!sm.no_mailboxes)
			target_mailbox(&sm);
	}
	{
		static const char *const dbs[] = {".iwsim/state.db", "config/accounts.db"};

		for (size_t i = 0; i < 2; i++) {
			char *p = ppath(&sm, "%s", dbs[i]);

			if (fs_touch(p, IWSIM_NOW - 600) != 0)
				exit(1);
			free(p);
		}
	}
	if (fs_dir_times(sm.phys, IWSIM_DIR_TIME, sm.sorting ? 5 : 3) != 0)
		util_die("%s: cannot set directory times", sm.phys);
	if (sm.my_socket)
		move_to_mariadb(&sm);
	if (sm.verbose)
		printf("iwsim: created %s: %ld domains, %zu accounts, %llu messages, %llu bytes%s\n", sm.phys,
		       sm.domains, nacct, sm.nmsg, sm.nbytes, sm.windows ? " (windows paths)" : "");
	for (size_t i = 0; i < nacct; i++) {
		free(accts[i].physdir);
		free(accts[i].mbpath);
	}
	free(accts);
	free(sm.plants.v);
	free(sm.phys);
	free(sm.logical);
	free(sm.exe);
	return 0;
}
