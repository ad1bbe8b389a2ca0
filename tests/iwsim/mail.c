/*
 * mail.c: mailboxes, folders and messages. Messages are RFC 822 text (CRLF,
 * as stored by the server) named from their date, mtime = date, sizes
 * log-normal around --size-median. The body is sliced from one block of
 * pseudo-random text made once, so 100,000 messages cost little.
 */
#include "iwsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_LEN 74 /* 72 characters + CRLF */
#define TEXT_LINES 4096

struct mailgen {
	struct sim *sm;
	char *text;
	size_t textlen;
	struct buf msg;
	struct buf idx;
};

static const char *const words[] = {
	"meeting", "invoice", "project", "report", "the", "and", "of", "schedule", "budget", "review",
	"please", "attached", "find", "regards", "update", "server", "mail", "office", "quarter", "client",
	"contract", "delivery", "thanks", "team", "proposal", "call", "tomorrow", "agenda", "notes", "draft",
	"to", "for", "with", "on", "we", "will", "is", "a", "in", "this",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const names[] = {
	"Alice Martin", "Bob Novak", "Carla Rossi", "David Chen", "Eva Dvorak", "Frank Weber",
	"Grace Kim", "Hugo Blanc", "Ines Garcia", "Jan Horak",
};
static const char *const subjects[] = {
	"Quarterly report", "Re: Invoice 2024-118", "Meeting tomorrow", "Project update",
	"Fwd: Contract draft", "Holiday schedule", "Re: Re: Budget review", "Newsletter",
	"Delivery confirmation", "Call notes",
};
static const char *const custom_names[] = {
	"Projects", "Invoices", "Family", "Newsletters", "Travel 2024", "Receipts",
};
static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct mailgen *
mail_new(struct sim *sm)
{
	struct mailgen *mg = util_xmalloc(sizeof *mg);
	struct rng r;

	memset(mg, 0, sizeof *mg);
	mg->sm = sm;
	mg->textlen = (size_t)LINE_LEN * TEXT_LINES;
	mg->text = util_xmalloc(mg->textlen);
	rand_seed(&r, sm->seed, 0x7e47);
	for (size_t l = 0; l < TEXT_LINES; l++) {
		char *line = mg->text + l * LINE_LEN;
		size_t n = 0;

		while (n < 72) {
			const char *w = words[rand_below(&r, NWORDS)];
			size_t wl = strlen(w);

			if (n > 0)
				line[n++] = ' ';
			for (size_t i = 0; i < wl && n < 72; i++)
				line[n++] = w[i];
		}
		line[72] = '\r';
		line[73] = '\n';
	}
	return mg;
}

void
mail_free(struct mailgen *mg)
{
	if (mg == NULL)
		return;
	free(mg->text);
	buf_free(&mg->msg);
	buf_free(&mg->idx);
	free(mg);
}

/* One message of about SIZE bytes dated T into mg->msg. */
static void
make_message(struct mailgen *mg, struct rng *r, const char *owner, time_t t, size_t size, long seq)
{
	struct buf *m = &mg->msg;
	struct tm tm;
	char date[64];
	const char *from = names[rand_below(r, sizeof names / sizeof names[0])];
	size_t need, off;

	gmtime_r(&t, &tm);
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", wday[tm.tm_wday], tm.tm_mday,
		 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	m->len = 0;
	buf_printf(m,
		   "Return-Path: <%c.%s@partner.example.net>\r\n"
		   "Received: from mx.partner.example.net ([192.0.2.%u])\r\n"
		   "\tby mail.%s (IceWarp " IWSIM_VERSION ") with ESMTP id %08llX; %s\r\n"
		   "Date: %s\r\n"
		   "From: \"%s\" <%c.%s@partner.example.net>\r\n"
		   "To: <%s>\r\n"
		   "Subject: %s\r\n"
		   "Message-ID: <%llx.%ld@partner.example.net>\r\n"
		   "MIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n"
		   "Content-Transfer-Encoding: 7bit\r\n"
		   "\r\n",
		   from[0] | 0x20, strchr(from, ' ') + 1, (unsigned)rand_below(r, 250) + 1,
		   strchr(owner, '@') ? strchr(owner, '@') + 1 : owner, (unsigned long long)(rand_next(r) >> 32),
		   date, date, from, from[0] | 0x20, strchr(from, ' ') + 1, owner,
		   subjects[rand_below(r, sizeof subjects / sizeof subjects[0])],
		   (unsigned long long)rand_next(r), seq);
	if (size < m->len + 2)
		size = m->len + 2;
	need = size - m->len - 2;
	off = (size_t)rand_below(r, TEXT_LINES) * LINE_LEN;
	while (need > 0) {
		size_t n = mg->textlen - off;

		if (n > need)
			n = need;
		buf_add(m, mg->text + off, n);
		need -= n;
		off = 0;
	}
	buf_add(m, "\r\n", 2);
}

static int
write_index(struct mailgen *mg, const char *dir, time_t t, long uidnext, uint64_t validity)
{
	char path[4096];
	struct buf hdr = {0};
	int rc;

	snprintf(path, sizeof path, "%s/imapindex.dat", dir);
	buf_printf(&hdr, "IMAPINDEX 1\r\nUIDVALIDITY %llu\r\nUIDNEXT %ld\r\n", (unsigned long long)validity,
		   uidnext);
	buf_add(&hdr, mg->idx.p ? mg->idx.p : "", mg->idx.len);
	rc = fs_write(path, hdr.p, hdr.len, t, 0644);
	buf_free(&hdr);
	return rc;
}

int
mail_folder(struct mailgen *mg, struct rng *r, const char *dir, const char *arch, const char *owner, long n)
{
	char path[4096];
	time_t t = IWSIM_NOW - 730L * 86400 + (time_t)rand_below(r, 30L * 86400);
	time_t step = n > 0 ? (time_t)(700L * 86400 / n) : 1;
	uint64_t validity = 1600000000ULL + rand_below(r, 100000000);
	struct buf aidx = {0};
	time_t alast = IWSIM_NOW;
	int rc = 0;

	if (fs_mkdirs(dir) != 0) {
		util_warn("%s: cannot create folder", dir);
		return -1;
	}
	if (arch && fs_mkdirs(arch) != 0) {
		util_warn("%s: cannot create folder", arch);
		return -1;
	}
	mg->idx.len = 0;
	for (long i = 0; i < n; i++) {
		struct tm tm;
		char name[64];
		size_t size;
		unsigned flags = (unsigned)rand_below(r, 4);

		t += 1 + (time_t)rand_below(r, (uint64_t)step);
		gmtime_r(&t, &tm);
		snprintf(name, sizeof name, "%04d%02d%02d%02d%02d%02d%04ld.imap", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, i % 10000);
		size = rand_lognormal(r, (double)mg->sm->size_median, 0.8);
		make_message(mg, r, owner, t, size, i);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (fs_write(path, mg->msg.p, mg->msg.len, t, 0644) != 0)
			return -1;
		buf_printf(&mg->idx, "%ld\t%s\t%zu\t%u\r\n", i + 1, name, mg->msg.len, flags);
		mg->sm->nmsg++;
		mg->sm->nbytes += mg->msg.len;
		/* Auto-archive keeps the older half, under the same names and times. */
		if (arch && i < n / 2) {
			snprintf(path, sizeof path, "%s/%s", arch, name);
			if (fs_write(path, mg->msg.p, mg->msg.len, t, 0644) != 0)
				return -1;
			buf_printf(&aidx, "%ld\t%s\t%zu\t%u\r\n", i + 1, name, mg->msg.len, flags);
			alast = t;
			mg->sm->nmsg++;
			mg->sm->nbytes += mg->msg.len;
		}
	}
	if (write_index(mg, dir, n > 0 ? t : IWSIM_NOW, n + 1, validity) != 0 || fs_touch(dir, IWSIM_DIR_TIME) != 0)
		rc = -1;
	if (arch) {
		struct buf keep = mg->idx;

		mg->idx = aidx;
		if (write_index(mg, arch, alast, n / 2 + 1, validity) != 0 || fs_touch(arch, IWSIM_DIR_TIME) != 0)
			rc = -1;
		mg->idx = keep;
		buf_free(&aidx);
	}
	return rc;
}

static int
settings_xml(const char *dir, const char *owner)
{
	char path[4096];
	struct buf b = {0};
	int rc;

	snprintf(path, sizeof path, "%s/~webmail", dir);
	if (fs_mkdirs(path) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/~webmail/settings.xml", dir);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<settings>\r\n <item>\r\n");
	buf_puts(&b, "  <language>en</language>\r\n  <skin>default</skin>\r\n  <timezone>UTC</timezone>\r\n");
	buf_printf(&b, "  <email>%s</email>\r\n </item>\r\n</settings>\r\n", owner);
	rc = fs_write(path, b.p, b.len, IWSIM_NOW - 86400, 0644);
	buf_free(&b);
	return rc;
}

/*
 * The webmail cache of a mailbox when it is SQLite: <mailbox>/cache.db
 * (the migrator guide: "usually cache.db in user's mailbox"); tables as
 * the MySQL cache's (folder, item), ASSUMED for SQLite.
 */
static int
webcache_db(const char *dir, const char *owner)
{
	char path[4096], *sql;
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof path, "%s/cache.db", dir);
	sql = sqlite3_mprintf("PRAGMA journal_mode=OFF; PRAGMA page_size=4096; BEGIN;"
			      "CREATE TABLE folder(folder_id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, name TEXT,"
			      " path TEXT, uid_validity INTEGER, sync_update INTEGER NOT NULL DEFAULT 0);"
			      "CREATE TABLE item(item_id INTEGER PRIMARY KEY, folder_id INTEGER NOT NULL, uid INTEGER,"
			      " flags INTEGER, size INTEGER, subject TEXT);"
			      "INSERT INTO folder VALUES(1, %Q, 'INBOX', 'inbox/', 1700000000, 1),"
			      " (2, %Q, 'Sent', 'Sent/', 1700000000, 1);"
			      "INSERT INTO item VALUES(1, 1, 1, 0, 1234, 'Cached subject');"
			      "COMMIT;",
			      owner, owner);
	rc = sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (rc != 0)
		util_warn("%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_close(db);
	sqlite3_free(sql);
	return rc == 0 ? fs_touch(path, IWSIM_NOW - 3600) : -1;
}

/*
 * A mailbox: inbox, Sent, Trash, ~spam with N messages, Drafts empty, CUSTOM
 * numbered folders (every odd one with a nested "Old"), ~webmail/settings.xml.
 * ARCH, when set, receives the archive of inbox and Sent.
 */
int
mail_mailbox(struct mailgen *mg, struct rng *r, const char *dir, const char *arch, const char *owner,
	     long custom, long n)
{
	static const char *const std[] = {"inbox", "Sent", "Trash", "~spam", "Drafts"};
	char path[4096], apath[4096];

	for (size_t i = 0; i < sizeof std / sizeof std[0]; i++) {
		int archived = arch && i < 2;

		snprintf(path, sizeof path, "%s/%s", dir, std[i]);
		if (archived)
			snprintf(apath, sizeof apath, "%s/%s", arch, std[i]);
		if (mail_folder(mg, r, path, archived ? apath : NULL, owner, i == 4 ? 0 : n) != 0)
			return -1;
	}
	for (long i = 1; i <= custom; i++) {
		char name[64];
		size_t nn = sizeof custom_names / sizeof custom_names[0];

		if ((size_t)i <= nn)
			snprintf(name, sizeof name, "%s", custom_names[i - 1]);
		else
			snprintf(name, sizeof name, "%s %ld", custom_names[(size_t)(i - 1) % nn], i);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (mail_folder(mg, r, path, NULL, owner, n) != 0)
			return -1;
		if (i % 2 == 1) {
			snprintf(path, sizeof path, "%s/%s/Old", dir, name);
			if (mail_folder(mg, r, path, NULL, owner, n) != 0)
				return -1;
			/* Creating Old changed its parent's mtime. */
			snprintf(path, sizeof path, "%s/%s", dir, name);
			if (fs_touch(path, IWSIM_DIR_TIME) != 0)
				return -1;
		}
	}
	if (mg->sm->layouts) {
		/* A folder name ending in '.' is stored as enc~<hex of the name> (icewarp-facts.md). */
		snprintf(path, sizeof path, "%s/enc~%s", dir, "4e6f7465732e"); /* "Notes." */
		if (mail_folder(mg, r, path, NULL, owner, n) != 0 || webcache_db(dir, owner) != 0)
			return -1;
	}
	if (settings_xml(dir, owner) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/~webmail", dir);
	if (fs_touch(path, IWSIM_DIR_TIME) != 0 || fs_touch(dir, IWSIM_DIR_TIME) != 0 ||
	    (arch && fs_touch(arch, IWSIM_DIR_TIME) != 0))
		return -1;
	return 0;
}
