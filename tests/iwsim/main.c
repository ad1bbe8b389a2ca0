/*
 * main.c: iwsim, the IceWarp simulator used by iwm's tests and benchmarks.
 *   iwsim create DIR [options]   build a simulated source server in DIR
 *   iwsim tool DIR ARGS...       what DIR/tool.sh runs
 */
#include "iwsim.h"

#include <stdio.h>
#include <string.h>

void
iwsim_help(void)
{
	fputs("usage: iwsim create DIR [options]\n"
	      "       iwsim tool DIR ARGS...     (what DIR/tool.sh runs)\n"
	      "       iwsim --help\n"
	      "\n"
	      "create builds a reproducible IceWarp installation in DIR (created; must be\n"
	      "empty): tool.sh, icewarp.conf, path.dat, config/, mail/, archive/, logs/,\n"
	      "temp/, calendar/groupware.db, spam/antispam.db, config/accounts.db; the\n"
	      "simulator's own state is DIR/.iwsim/state.db (iwm must never read it).\n"
	      "Same options and seed give the same tree, bytes and mtimes.\n"
	      "\n"
	      "Options:\n"
	      "  --seed N            PRNG seed (1)\n"
	      "  --domains N         domains dom1.example ... (2)\n"
	      "  --users N           regular users user1 ... per domain (5); user N with\n"
	      "                      N % 4 == 3 has an absolute U_MailBoxPath, the others\n"
	      "                      the relative <domain>/<alias>/\n"
	      "  --folders N         custom folders per mailbox (2); odd ones hold 'Old'\n"
	      "  --messages N        messages per non-empty folder (5, at most 9999)\n"
	      "  --size-median BYTES median message size, log-normal (4096)\n"
	      "  --windows           report Windows paths: install C:\\Program Files\\IceWarp\\,\n"
	      "                      externs E:\\externs\\<alias>\\ (files under DIR/drive-e/)\n"
	      "  --archivists N      archiveK@domK: mailbox in the archive (odd K: the domain's\n"
	      "                      archive dir, even K: a user's archive dir) (0)\n"
	      "  --externs N         externK: mailbox DIR/external/<alias>/ with data (0)\n"
	      "  --shared N          sharedK: mailbox <domain>/userM/Shared/, a folder of\n"
	      "                      userM that holds messages (0)\n"
	      "  --unused N          mail/<domain>/olduserK/: data no account uses (0)\n"
	      "  --remotes N         remote accounts raK (1)\n"
	      "  --no-archive        C_System_Tools_AutoArchive_Enable 0 (archive/ still exists)\n"
	      "  --no-mailboxes      accounts only, no mail/archive/extern data (for audits\n"
	      "                      of many accounts, e.g. iwm-deps benchmarks)\n"
	      "  --plant KIND[:ARG]  plant a dependency for iwm-deps (see below)\n"
	      "  --target            a pre-configured migration target: domain target.local\n"
	      "                      with admin@target.local (U_Admin 1), its own archive path,\n"
	      "                      VoIP, DNS, webmail URL and server.xml; no dom<N>.example\n"
	      "                      unless --domains is given\n"
	      "  --sorting           C_System_Storage_Mailbox_UseSorting 1: default mailboxes\n"
	      "                      in <domain>/us/er/user1/ (u_fullmailboxpath says so)\n"
	      "  --layouts           enc~<hex> folders and webmail cache.db in mailboxes\n"
	      "  --mariadb SOCKET    move the databases into MariaDB (tests/iwsim/iwsim-db,\n"
	      "                      root over SOCKET; users iwm/iwmpass)\n"
	      "  --mariadb-port PORT connection strings use 127.0.0.1:PORT (else SOCKET)\n"
	      "  --db-prefix P       MariaDB database names P<name> (iwt_ target, iw_ other)\n"
	      "  -v, --verbose       print a one-line summary\n"
	      "Every domain also has list1 (U_Type 1), group1 (7) and resource1 (8),\n"
	      "without mailbox data. Exit: 0 ok, 1 error, 64 usage.\n"
	      "\n",
	      stdout);
	deps_help();
	fputs("\n"
	      "tool (DIR/tool.sh) commands, formats as the real tool:\n"
	      "  get|display system VAR...|*          'Name: value' lines (Name as the caller\n"
	      "                                       spelled it); * lists all but [D] and [W]\n"
	      "  get account|domain|remoteaccount KEY VAR...|*\n"
	      "  set|modify system VAR VALUE [VAR VALUE]...   ([R] variables fail)\n"
	      "  set|modify account|domain|remoteaccount KEY|PATTERN VAR VALUE...\n"
	      "  export account|domain|remoteaccount PATTERN VAR...  'key,val,...,' CSV\n"
	      "  create account|domain|remoteaccount KEY [VAR VALUE]... (u_backup/d_backup/\n"
	      "                                       ra_backup BLOB restores); exists: -7\n"
	      "  create tables N CONNECTION           accepted, no effect\n"
	      "  delete account|domain|remoteaccount KEY|PATTERN (a domain takes its accounts)\n"
	      "  import account|domain|remoteaccount FILE VAR...  reads the export format\n"
	      "Variables: tests/iwsim/vars (from the public API constants, with type and\n"
	      "flags [R] [W] [D]); any other name, or a name of another object, fails.\n"
	      "u_password is empty unless C_Accounts_Policies_Pass_DenyExport 0 and\n"
	      "_AllowAdminPass 1. Write-only variables read empty; setting one is a line\n"
	      "of DIR/.iwsim/events.log. Errors: message on stderr, exit 1 (usage 64).\n"
	      "\n"
	      "DIR/icewarpd.sh --start|--stop|--restart [all|smtp|pop3|control|im|cal]\n",
	      stdout);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "help") == 0)) {
		iwsim_help();
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return create_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "tool") == 0)
		return tool_main(argc - 2, argv + 2);
	fputs("usage: iwsim create DIR [options] | iwsim tool DIR ARGS... | iwsim --help\n", stderr);
	return IWSIM_EX_USAGE;
}
