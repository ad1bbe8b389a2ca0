/*
 * deps.c: planting the external dependencies iwm-deps must find (seed
 * chapters "External Dependencies Check" and "Additional Dependencies").
 * `--plant KIND[:ARG...]`, repeatable; each adds one item. Tag and variable
 * names marked "assumed" in README are not from any public source.
 */
#include "iwsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	PK_FILTER, PK_RULE, PK_FTP, PK_TASK, PK_AVFILTER, PK_DBLIST, PK_ADSYNC, PK_EXECUTABLE,
	PK_VOIPNET, PK_PATH, PK_SYSLOG, PK_BACKUPDIRS, PK_MONITOR, PK_BADCONTENT, PK_BADRULE,
};

static const char *const action_names[DA_N] = {
	"copy", "respond", "execute", "headerfooter", "extract", "append", "database",
};
/* content.xml action tags (assumed: the real tag names are not public). */
static const char *const action_tags[DA_N] = {
	"COPYTOFOLDER", "RESPOND", "EXECUTE", "HEADERFOOTER", "EXTRACT", "APPEND", "SQL",
};
/* Rule ACTIONTYPE codes of the webclient rules API (icewarp-facts.md). */
static const int action_types[DA_N] = {5, 8, 12, 13, 15, 17, 21};
static const char *const action_titles[DA_N] = {
	"Copy to folder", "Respond with file", "Run application", "Add footer", "Extract attachments",
	"Append to file", "Log to database",
};
static const char *const action_linux[DA_N] = {
	"/var/spool/mailcopy/", "/opt/responses/autoreply.txt", "/usr/local/bin/notify.sh",
	"/opt/footers/disclaimer.html", "/srv/attachments/", "/var/log/mail-append.txt",
	"DSN=crm;user=crm;INSERT INTO maillog(sender) VALUES('%sender%')",
};
static const char *const action_windows[DA_N] = {
	"D:\\MailCopy\\", "D:\\Responses\\autoreply.txt", "D:\\Tools\\notify.exe",
	"D:\\Footers\\disclaimer.html", "D:\\Attachments\\", "D:\\Logs\\mail-append.txt",
	"DSN=crm;user=crm;INSERT INTO maillog(sender) VALUES('%sender%')",
};
static const char *const level_names[] = {"global", "domain", "user"};
static const char *const where_names[] = {"relative", "inside", "outside"};

/* Path-check settings: enable variable (or NULL), path variable, relative path. */
static const struct {
	const char *name, *enable, *var, *rel;
} path_settings[] = {
	{"voip-calls", "C_System_Services_SIP_Calls", "C_System_Services_SIP_CallsFile", "logs/voip/calls.log"},
	{"voip-record", "C_System_Services_SIP_RTPDump", "C_System_Services_SIP_RTPDumpPath", "voip/recordings/"},
	{"tts", NULL, "C_System_Services_SIP_TTSOutputPath", "voip/tts/"},
	{"log-archive", "C_System_Logging_General_Archive", "C_System_Logging_General_ArchiveTo",
	 "logs/archive/deleted-logs.zip"},
	{"backup", "C_System_Tools_AutoBackup_Enable", "C_System_Tools_AutoBackup_BackupTo",
	 "backup/icewarp-backup.zip"},
};
#define NPATHS (sizeof path_settings / sizeof path_settings[0])

static void
add(struct plants *ps, int kind, int arg, int where, int active)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->v = util_xrealloc(ps->v, ps->cap * sizeof *ps->v);
	}
	ps->v[ps->n].kind = kind;
	ps->v[ps->n].arg = arg;
	ps->v[ps->n].where = where;
	ps->v[ps->n].active = active;
	ps->n++;
}

static int
lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Splits SPEC at ':' into at most 4 fields (in a copy). */
static int
fields(const char *spec, char *copy, size_t cap, char **f)
{
	size_t n = strlen(spec);
	int nf = 1;

	if (n >= cap)
		return -1;
	memcpy(copy, spec, n + 1);
	f[0] = copy;
	for (char *p = copy; *p; p++)
		if (*p == ':') {
			if (nf == 4)
				return -1;
			*p = '\0';
			f[nf++] = p + 1;
		}
	return nf;
}

static int
onoff(int nf, char **f, int at, int *active)
{
	*active = 1;
	if (nf == at)
		return 0;
	if (nf == at + 1 && strcmp(f[at], "off") == 0) {
		*active = 0;
		return 0;
	}
	return -1;
}

static void
plant_all(struct plants *ps)
{
	for (int a = 0; a < DA_N; a++)
		for (int on = 1; on >= 0; on--) {
			add(ps, PK_FILTER, a, 0, on);
			for (int l = 0; l < 3; l++)
				add(ps, PK_RULE, l, a, on);
		}
	for (int l = 0; l < 3; l++)
		add(ps, PK_FTP, l, 0, 1);
	add(ps, PK_TASK, 0, 0, 1);
	add(ps, PK_TASK, 0, 0, 0);
	add(ps, PK_AVFILTER, 0, 0, 1);
	add(ps, PK_AVFILTER, 0, 0, 0);
	add(ps, PK_DBLIST, 0, 0, 1);
	add(ps, PK_ADSYNC, 2, 0, 1);
	add(ps, PK_EXECUTABLE, 0, 0, 1);
	add(ps, PK_VOIPNET, 0, 0, 1);
	for (size_t i = 0; i < NPATHS; i++)
		add(ps, PK_PATH, (int)i, 2, 1);
	add(ps, PK_SYSLOG, 0, 0, 1);
	add(ps, PK_BACKUPDIRS, 0, 0, 1);
	add(ps, PK_MONITOR, 0, 0, 1);
}

int
deps_parse(struct plants *ps, const char *spec)
{
	static const char *const simple[] = {"dblist", "executable", "voip-localnet", "syslog", "backup-dirs",
					     "monitor-disks", "malformed-content-xml"};
	static const int simple_kind[] = {PK_DBLIST, PK_EXECUTABLE, PK_VOIPNET, PK_SYSLOG, PK_BACKUPDIRS,
					  PK_MONITOR, PK_BADCONTENT};
	char copy[256], *f[4];
	int nf = fields(spec, copy, sizeof copy, f), a, l, on;
	long n;

	if (nf < 1)
		return -1;
	if (strcmp(f[0], "all") == 0 && nf == 1) {
		plant_all(ps);
		return 0;
	}
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (strcmp(f[0], simple[i]) == 0) {
			if (nf != 1)
				return -1;
			add(ps, simple_kind[i], 0, 0, 1);
			return 0;
		}
	if (strcmp(f[0], "filter") == 0) {
		if (nf < 2 || (a = lookup(f[1], action_names, DA_N)) < 0 || onoff(nf, f, 2, &on) != 0)
			return -1;
		add(ps, PK_FILTER, a, 0, on);
	} else if (strcmp(f[0], "rule") == 0) {
		if (nf < 3 || (l = lookup(f[1], level_names, 3)) < 0 || (a = lookup(f[2], action_names, DA_N)) < 0 ||
		    onoff(nf, f, 3, &on) != 0)
			return -1;
		add(ps, PK_RULE, l, a, on);
	} else if (strcmp(f[0], "malformed-rule") == 0) {
		if (nf != 2 || (l = lookup(f[1], level_names, 3)) < 0)
			return -1;
		add(ps, PK_BADRULE, l, 0, 1);
	} else if (strcmp(f[0], "ftp") == 0) {
		if (nf != 2 || (l = lookup(f[1], level_names, 3)) < 0)
			return -1;
		add(ps, PK_FTP, l, 0, 1);
	} else if (strcmp(f[0], "task") == 0 || strcmp(f[0], "avfilter") == 0) {
		if (onoff(nf, f, 1, &on) != 0)
			return -1;
		add(ps, strcmp(f[0], "task") == 0 ? PK_TASK : PK_AVFILTER, 0, 0, on);
	} else if (strcmp(f[0], "adsync") == 0) {
		if (nf != 2 || util_parse_long(f[1], 1, 100000, &n) != 0)
			return -1;
		add(ps, PK_ADSYNC, (int)n, 0, 1);
	} else if (strcmp(f[0], "path") == 0) {
		int w = -1;

		if (nf != 3 || (w = lookup(f[2], where_names, 3)) < 0)
			return -1;
		for (size_t i = 0; i < NPATHS; i++)
			if (strcmp(f[1], path_settings[i].name) == 0) {
				add(ps, PK_PATH, (int)i, w, 1);
				return 0;
			}
		return -1;
	} else {
		return -1;
	}
	return 0;
}

void
deps_help(void)
{
	fputs("Planting dependencies (--plant KIND[:ARG...], repeatable, each adds one item):\n"
	      "  filter:ACTION[:off]        config/content.xml FILTER, ACTIVE 1 (0 with :off)\n"
	      "  rule:LEVEL:ACTION[:off]    rule XML; LEVEL global (C_Mail_Filter_RulesContentXML),\n"
	      "                             domain (D_RulesContentXML of dom1.example),\n"
	      "                             user (U_RulesContentXML of user1@dom1.example)\n"
	      "      ACTION: copy respond execute headerfooter extract append database\n"
	      "      (FILTER tags COPYTOFOLDER RESPOND EXECUTE HEADERFOOTER EXTRACT APPEND SQL;\n"
	      "       rule ACTIONTYPE 5 8 12 13 15 17 21)\n"
	      "  ftp:LEVEL                  C_FTP_GlobalSettings / D_FTP_DomainSettings /\n"
	      "                             U_FTP_UserSettings non-empty\n"
	      "  task[:off]                 TASK in config/tasks.xml\n"
	      "  avfilter[:off]             FILTER in config/extfilters.xml\n"
	      "  dblist                     mailing list dblistN@dom1.example, M_SendAllLists 5, M_ODBC, M_SQL\n"
	      "  adsync:N                   N domains ACTIVE 1 in config/syncad.dat (D_LDAP_Active 1)\n"
	      "  executable                 account execN@dom1.example, U_Type 2\n"
	      "  voip-localnet              C_System_Services_SIP_LocalNet not the default (empty)\n"
	      "  path:SETTING:WHERE         SETTING voip-calls voip-record tts log-archive backup;\n"
	      "                             WHERE relative inside outside (the install dir)\n"
	      "  syslog                     C_System_Logging_Syslog_Server set\n"
	      "  backup-dirs                C_System_Tools_Backup_Dirs set\n"
	      "  monitor-disks              C_System_Tools_Monitor_DiskPaths set\n"
	      "  malformed-content-xml      config/content.xml is not well-formed\n"
	      "  malformed-rule:LEVEL       that level's rule XML is not well-formed\n"
	      "  all                        every kind above (active and inactive), paths outside;\n"
	      "                             not the malformed ones\n",
	      stdout);
}

static const char *
avalue(struct sim *sm, int a)
{
	return sm->windows ? action_windows[a] : action_linux[a];
}

/* Rule XML of one level: a harmless rule, then the planted ones. */
static void
rules_xml(struct sim *sm, struct buf *b, int level)
{
	int id = 1;

	for (size_t i = 0; i < sm->plants.n; i++)
		if (sm->plants.v[i].kind == PK_BADRULE && sm->plants.v[i].arg == level) {
			buf_puts(b, "<RULES><RULE><RULEID>1</RULEID><TITLE>Broken rule<ACTIVE>1</ACTIVE>"
				    "<ACTIONS><ITEM><ACTIONTYPE>12</ACTIONTYPE></RULE></RULES");
			return;
		}
	buf_puts(b, "<RULES><RULE><RULEID>1</RULEID><TITLE>Flag newsletters</TITLE><ACTIVE>1</ACTIVE>"
		    "<CONDITIONS><ITEM><CONDITIONTYPE>2</CONDITIONTYPE><VALUE>newsletter</VALUE></ITEM></CONDITIONS>"
		    "<ACTIONS><ITEM><ACTIONTYPE>9</ACTIONTYPE><VALUE>\\Flagged</VALUE></ITEM>"
		    "<ITEM><ACTIONTYPE>27</ACTIONTYPE></ITEM></ACTIONS></RULE>");
	for (size_t i = 0; i < sm->plants.n; i++) {
		struct plant *p = &sm->plants.v[i];

		if (p->kind != PK_RULE || p->arg != level)
			continue;
		buf_printf(b, "<RULE><RULEID>%d</RULEID><TITLE>", ++id);
		buf_xml(b, action_titles[p->where]);
		buf_printf(b, "</TITLE><ACTIVE>%d</ACTIVE>"
			      "<CONDITIONS><ITEM><CONDITIONTYPE>1</CONDITIONTYPE><VALUE>invoice</VALUE></ITEM></CONDITIONS>"
			      "<ACTIONS><ITEM><ACTIONTYPE>%d</ACTIONTYPE><VALUE>",
			   p->active, action_types[p->where]);
		buf_xml(b, avalue(sm, p->where));
		buf_puts(b, "</VALUE></ITEM></ACTIONS></RULE>");
	}
	buf_puts(b, "</RULES>");
}

static int
has(struct sim *sm, int kind, int arg)
{
	int n = 0;

	for (size_t i = 0; i < sm->plants.n; i++)
		if (sm->plants.v[i].kind == kind && (arg < 0 || sm->plants.v[i].arg == arg))
			n++;
	return n;
}

int
deps_adsync_domains(struct sim *sm)
{
	int n = 0;

	for (size_t i = 0; i < sm->plants.n; i++)
		if (sm->plants.v[i].kind == PK_ADSYNC && sm->plants.v[i].arg > n)
			n = sm->plants.v[i].arg;
	return n;
}

static void
set_sys(struct store *st, const char *name, const char *value)
{
	if (store_sys_set(st, name, value, 1) != 0)
		util_die("plant: cannot set %s", name);
}

static const char *
ftp_xml(struct sim *sm, int level)
{
	static char b[512];

	snprintf(b, sizeof b,
		 "<FTPSITES><SITE><NAME>%s-site</NAME><ACTIVE>1</ACTIVE><HOMEDIR>%s</HOMEDIR>"
		 "<USER>ftpuser</USER></SITE></FTPSITES>",
		 level_names[level], sm->windows ? "D:\\FTP\\site\\" : "/srv/ftp/site/");
	return b;
}

/* Sets the variables and creates the accounts the plants need (inside the create transaction). */
int
deps_apply(struct sim *sm, struct store *st)
{
	struct buf b = {0};
	int64_t dom1 = store_obj_id(st, 'd', "dom1.example");
	int64_t user1 = store_obj_id(st, 'a', "user1@dom1.example");
	char key[64];

	if ((has(sm, PK_RULE, 2) || has(sm, PK_BADRULE, 2) || has(sm, PK_FTP, 2)) && user1 <= 0) {
		util_warn("create: user-level plants need --users of at least 1");
		return -1;
	}
	if (deps_adsync_domains(sm) > sm->domains) {
		util_warn("create: --plant adsync:%d needs as many domains", deps_adsync_domains(sm));
		return -1;
	}
	if (has(sm, PK_RULE, 0) || has(sm, PK_BADRULE, 0)) {
		rules_xml(sm, &b, 0);
		set_sys(st, "C_Mail_Filter_RulesContentXML", buf_str(&b));
	}
	b.len = 0;
	rules_xml(sm, &b, 1);
	store_var_set(st, 'd', dom1, "d_rulescontentxml", buf_str(&b));
	if (has(sm, PK_RULE, 2) || has(sm, PK_BADRULE, 2)) {
		b.len = 0;
		rules_xml(sm, &b, 2);
		store_var_set(st, 'a', user1, "u_rulescontentxml", buf_str(&b));
	}
	if (has(sm, PK_FTP, 0)) {
		set_sys(st, "C_FTPService_Active", "1");
		set_sys(st, "C_FTP_GlobalSettings", ftp_xml(sm, 0));
	}
	if (has(sm, PK_FTP, 1))
		store_var_set(st, 'd', dom1, "d_ftp_domainsettings", ftp_xml(sm, 1));
	if (has(sm, PK_FTP, 2))
		store_var_set(st, 'a', user1, "u_ftp_usersettings", ftp_xml(sm, 2));
	for (int k = 1; k <= has(sm, PK_DBLIST, -1); k++) {
		int64_t id;

		snprintf(key, sizeof key, "dblist%d@dom1.example", k);
		id = store_obj_create(st, 'a', key);
		if (id <= 0)
			return -1;
		store_var_set(st, 'a', id, "u_type", "1");
		store_var_set(st, 'a', id, "u_name", "Customers (from CRM)");
		store_var_set(st, 'a', id, "u_accountdisabled", "0");
		store_var_set(st, 'a', id, "u_mailboxpath", "");
		store_var_set(st, 'a', id, "m_sendalllists", "5");
		/* M_ODBC is DSN,user,pwd,server,type: commas, so the export quotes it. */
		store_var_set(st, 'a', id, "m_odbc", "crmdsn,crmuser,crmpass,db.dom1.example,3");
		store_var_set(st, 'a', id, "m_sql", "SELECT email FROM customers WHERE newsletter = 1");
	}
	for (int k = 1; k <= has(sm, PK_EXECUTABLE, -1); k++) {
		int64_t id;

		snprintf(key, sizeof key, "exec%d@dom1.example", k);
		id = store_obj_create(st, 'a', key);
		if (id <= 0)
			return -1;
		store_var_set(st, 'a', id, "u_type", "2");
		store_var_set(st, 'a', id, "u_name", "Ticket gateway");
		store_var_set(st, 'a', id, "u_accountdisabled", "0");
		store_var_set(st, 'a', id, "u_mailboxpath", "");
		/* assumed variable name */
		store_var_set(st, 'a', id, "e_executable",
			      sm->windows ? "D:\\Tools\\ticket.exe" : "/usr/local/bin/ticket-gateway");
	}
	for (int d = 1; d <= deps_adsync_domains(sm); d++) {
		int64_t id;

		snprintf(key, sizeof key, "dom%d.example", d);
		id = store_obj_id(st, 'd', key);
		store_var_set(st, 'd', id, "d_ldap_active", "1");
	}
	if (has(sm, PK_VOIPNET, -1))
		set_sys(st, "C_System_Services_SIP_LocalNet", "10.20.0.0/16;192.168.50.0/24");
	for (size_t i = 0; i < sm->plants.n; i++) {
		struct plant *p = &sm->plants.v[i];
		const char *rel;

		if (p->kind != PK_PATH)
			continue;
		rel = path_settings[p->arg].rel;
		b.len = 0;
		if (p->where == 0) {
			buf_puts(&b, rel);
			if (sm->windows)
				for (size_t j = 0; j < b.len; j++)
					if (b.p[j] == '/')
						b.p[j] = '\\';
		} else if (p->where == 1) {
			create_lpath(sm, &b, rel);
		} else if (sm->windows) {
			buf_puts(&b, "D:\\IceWarpData\\");
			buf_puts(&b, rel);
			for (size_t j = 0; j < b.len; j++)
				if (b.p[j] == '/')
					b.p[j] = '\\';
		} else {
			buf_puts(&b, "/srv/icewarp-data/");
			buf_puts(&b, rel);
		}
		if (path_settings[p->arg].enable)
			set_sys(st, path_settings[p->arg].enable, "1");
		set_sys(st, path_settings[p->arg].var, buf_str(&b));
	}
	if (has(sm, PK_SYSLOG, -1)) {
		set_sys(st, "C_System_Logging_Syslog_Active", "1");
		set_sys(st, "C_System_Logging_Syslog_Server", "syslog.dom1.example:514");
	}
	if (has(sm, PK_BACKUPDIRS, -1))
		set_sys(st, "C_System_Tools_Backup_Dirs",
			sm->windows ? "D:\\Scripts\\;E:\\Certificates\\" : "/etc/icewarp-extra/;/srv/scripts/");
	if (has(sm, PK_MONITOR, -1))
		set_sys(st, "C_System_Tools_Monitor_DiskPaths", sm->windows ? "D:\\;E:\\" : "/srv;/var/lib/mysql");
	buf_free(&b);
	return 0;
}

void
deps_content_xml(struct sim *sm, struct buf *b)
{
	static const char *const harmless[][4] = {
		{"1", "Reject executable attachments", "<TYPE>attachment</TYPE><VALUE>*.exe;*.scr;*.pif</VALUE>",
		 "<REJECT>1</REJECT>"},
		{"1", "Mark bulk senders", "<TYPE>header</TYPE><VALUE>Precedence: bulk</VALUE>", "<MARKSPAM>1</MARKSPAM>"},
		{"0", "Delete old test messages", "<TYPE>subject</TYPE><VALUE>[test]</VALUE>", "<DELETE>1</DELETE>"},
		{"1", "Trusted partners", "<TYPE>from</TYPE><VALUE>*@partner.example.net</VALUE>", "<ACCEPT>1</ACCEPT>"},
	};

	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<CONTENTFILTER>\r\n");
	for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++)
		buf_printf(b, " <FILTER>\r\n  <ACTIVE>%s</ACTIVE>\r\n  <TITLE>%s</TITLE>\r\n"
			      "  <CONDITION>%s</CONDITION>\r\n  %s\r\n </FILTER>\r\n",
			   harmless[i][0], harmless[i][1], harmless[i][2], harmless[i][3]);
	for (size_t i = 0; i < sm->plants.n; i++) {
		struct plant *p = &sm->plants.v[i];

		if (p->kind != PK_FILTER)
			continue;
		buf_printf(b, " <FILTER>\r\n  <ACTIVE>%d</ACTIVE>\r\n  <TITLE>", p->active);
		buf_xml(b, action_titles[p->arg]);
		buf_printf(b, "</TITLE>\r\n  <CONDITION><TYPE>subject</TYPE><VALUE>invoice</VALUE></CONDITION>\r\n"
			      "  <%s>",
			   action_tags[p->arg]);
		buf_xml(b, avalue(sm, p->arg));
		buf_printf(b, "</%s>\r\n </FILTER>\r\n", action_tags[p->arg]);
	}
	if (has(sm, PK_BADCONTENT, -1)) {
		/* Cut short, as a half-written file would be. */
		buf_puts(b, " <FILTER>\r\n  <ACTIVE>1</ACTIVE>\r\n  <TITLE>Broken filter\r\n  <EXECUTE>");
		return;
	}
	buf_puts(b, "</CONTENTFILTER>\r\n");
}

void
deps_tasks_xml(struct sim *sm, struct buf *b)
{
	int k = 0;

	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<TASKS>\r\n");
	for (size_t i = 0; i < sm->plants.n; i++) {
		if (sm->plants.v[i].kind != PK_TASK)
			continue;
		k++;
		buf_printf(b, " <TASK>\r\n  <ACTIVE>%d</ACTIVE>\r\n  <TITLE>Nightly job %d</TITLE>\r\n"
			      "  <SCHEDULE>daily 03:%02d</SCHEDULE>\r\n  <COMMAND>%s%d%s</COMMAND>\r\n </TASK>\r\n",
			   sm->plants.v[i].active, k, k % 60, sm->windows ? "D:\\Tools\\nightly" : "/usr/local/bin/nightly",
			   k, sm->windows ? ".bat" : ".sh");
	}
	buf_puts(b, "</TASKS>\r\n");
}

void
deps_extfilters_xml(struct sim *sm, struct buf *b)
{
	int k = 0;

	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<EXTERNALFILTERS>\r\n");
	for (size_t i = 0; i < sm->plants.n; i++) {
		if (sm->plants.v[i].kind != PK_AVFILTER)
			continue;
		k++;
		buf_printf(b, " <FILTER>\r\n  <TITLE>External scanner %d</TITLE>\r\n  <MODULE>%s%d%s</MODULE>\r\n"
			      "  <MESSAGE>Virus found</MESSAGE>\r\n  <SMTPMESSAGE>550 Virus detected</SMTPMESSAGE>\r\n"
			      "  <ENABLED>%d</ENABLED>\r\n </FILTER>\r\n",
			   k, sm->windows ? "D:\\AV\\scanner" : "/opt/av/scanner", k, sm->windows ? ".dll" : ".so",
			   sm->plants.v[i].active);
	}
	buf_puts(b, "</EXTERNALFILTERS>\r\n");
}
