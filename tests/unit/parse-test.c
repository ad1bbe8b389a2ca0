/* parse-test: unit tests (TAP) for libiwm's parsers and path helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "icewarp.h"
#include "manifest.h"

static int n, failed;

static void
check(int cond, const char *what)
{
	n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
	if (!cond)
		failed++;
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
test_path_cmp(void)
{
	static const char *const order[] = {
		"a", "a/b", "a/b/c", "a/c", "a-b", "a.b", "ab", "b",
		"\xc3\xa9", "\xff"
	};
	size_t i, j;
	int good = 1;

	for (i = 0; i < sizeof(order) / sizeof(*order); i++)
		for (j = 0; j < sizeof(order) / sizeof(*order); j++) {
			int c = iwm_path_cmp(order[i], strlen(order[i]),
			    order[j], strlen(order[j]));

			if ((i < j && c >= 0) || (i > j && c <= 0) ||
			    (i == j && c != 0))
				good = 0;
		}
	check(good, "component-wise order, bytes compared unsigned");
}

static void
test_csv(void)
{
	struct iwm_csv c = { 0 };
	const char *l1 = "john@a.example,0,\"C:\\x, y\",\"say \"\"hi\"\"\",";

	check(iwm_csv_feed(&c, l1, strlen(l1)) == 1 && c.nfields == 4 &&
	    streq(c.fields[0], "john@a.example") && streq(c.fields[1], "0") &&
	    streq(c.fields[2], "C:\\x, y") && streq(c.fields[3], "say \"hi\""),
	    "CSV: quoted comma, doubled quotes, trailing comma");
	check(iwm_csv_feed(&c, "a@b,\"two", 8) == 0, "CSV: open quote waits");
	check(iwm_csv_feed(&c, "lines\",x,", 9) == 1 && c.nfields == 3 &&
	    streq(c.fields[1], "two\nlines") && streq(c.fields[2], "x"),
	    "CSV: a value over two lines");
	check(iwm_csv_feed(&c, "a@b,,", 5) == 1 && c.nfields == 2 &&
	    streq(c.fields[1], ""), "CSV: empty value");
	check(iwm_csv_feed(&c, "a@b,\"x\"y,", 9) == -1,
	    "CSV: text after a closing quote is an error");
	iwm_csv_free(&c);
}

static void
test_name_value(void)
{
	char l1[] = "C_System_Storage_Dir_MailPath: /opt/icewarp/mail/";
	char l2[] = "Empty:";
	char *name, *value;

	check(iwm_parse_name_value(l1, &name, &value) == 0 &&
	    streq(name, "C_System_Storage_Dir_MailPath") &&
	    streq(value, "/opt/icewarp/mail/"), "Name: value");
	check(iwm_parse_name_value(l2, &name, &value) == 0 &&
	    streq(value, ""), "Name: with an empty value");
}

static void
test_conn(void)
{
	struct iwm_conn c;

	check(iwm_conn_parse("/opt/icewarp/config/accounts.db;;;;7;3", &c)
	    == 0 && streq(c.dbname, "/opt/icewarp/config/accounts.db") &&
	    c.syntax == 7 && c.driver == 3 && streq(c.user, ""),
	    "SQLite connection string");
	iwm_conn_free(&c);
	check(iwm_conn_parse("gw;u;p;db.host:3307;3;2|gw2;u;p;h2;3;2", &c)
	    == 0 && streq(c.dbname, "gw") && streq(c.user, "u") &&
	    streq(c.pass, "p") && streq(c.host, "db.host:3307") &&
	    c.syntax == 3 && c.driver == 2, "MySQL string, failover ignored");
	iwm_conn_free(&c);
	check(iwm_conn_parse(";u;p;h;3;2", &c) == -1, "no database name");
	check(iwm_conn_parse("db;u;p;h;x;2", &c) == -1, "bad syntax code");
}

static void
test_localize(void)
{
	struct iwm_pathmaps m = { 0 };
	char *p;

	check(iwm_pathmap_add(&m, "E:\\=/mnt/e") == 0 &&
	    iwm_pathmap_add(&m, "C:\\Program Files\\IceWarp\\=/srv/iw/") == 0,
	    "path maps accepted");
	check(iwm_pathmap_add(&m, "E:\\=relative") == -1,
	    "a relative map target is refused");
	p = iwm_path_localize(&m, "E:\\johnny\\");
	check(streq(p, "/mnt/e/johnny/"), "E:\\johnny\\ maps to /mnt/e/johnny/");
	free(p);
	p = iwm_path_localize(&m, "c:/program files/icewarp/mail/dom/x");
	check(streq(p, "/srv/iw/mail/dom/x/"),
	    "Windows prefixes match without case, either slash");
	free(p);
	p = iwm_path_localize(&m, "F:\\other\\");
	check(p == NULL && strstr(iwm_err(), "--path-map") != NULL,
	    "an unmapped Windows path is an error naming --path-map");
	p = iwm_path_localize(&m, "/opt//icewarp/mail");
	check(streq(p, "/opt/icewarp/mail/"), "Linux paths: slashes folded");
	free(p);
	iwm_pathmap_free(&m);
}

static void
add(struct iwm_accounts *as, const char *email, const char *dir)
{
	struct iwm_account a = { 0 };
	const char *at = strchr(email, '@');

	a.email = iwm_strdup(email);
	a.alias = iwm_strndup(email, (size_t)(at - email));
	a.domain = iwm_strdup(at + 1);
	a.dir = dir != NULL ? iwm_strdup(dir) : NULL;
	a.cls = dir != NULL ? IWM_ACCT_REGULAR : IWM_ACCT_NOMAILBOX;
	as->v = iwm_reallocarray(as->v, as->n + 1, sizeof(a));
	as->v[as->n++] = a;
}

static void
test_classify(void)
{
	struct iwm_accounts as = { 0 };

	as.maildir = iwm_strdup("/iw/mail/");
	as.archivedir = iwm_strdup("/iw/archive/");
	add(&as, "john@d.example", "/iw/mail/d.example/john/");
	add(&as, "arch@d.example", "/iw/archive/d.example/");
	add(&as, "ext@d.example", "/e/johnny/");
	add(&as, "sh@d.example", "/iw/mail/d.example/john/Shared/");
	add(&as, "twin@d.example", "/iw/mail/d.example/john/");
	add(&as, "list@d.example", NULL);
	add(&as, "johnx@d.example", "/iw/mail/d.example/johnx/");
	iwm_accounts_classify(&as);
	check(as.v[0].cls == IWM_ACCT_REGULAR &&
	    streq(as.v[0].rel, "d.example/john/"), "regular");
	check(as.v[1].cls == IWM_ACCT_ARCHIVIST, "archivist");
	check(as.v[2].cls == IWM_ACCT_EXTERN &&
	    streq(as.v[2].rel, "d.example/ext/"),
	    "extern lands in <domain>/<alias>/");
	check(as.v[3].cls == IWM_ACCT_SHARED && as.v[3].owner == &as.v[0],
	    "shared: inside another mailbox, owner found");
	check(as.v[4].cls == IWM_ACCT_SHARED && as.v[4].owner == &as.v[0],
	    "same directory: the account named by it owns it");
	check(as.v[5].cls == IWM_ACCT_NOMAILBOX, "no mailbox");
	check(as.v[6].cls == IWM_ACCT_REGULAR,
	    "a name prefix (johnx beside john) is not nesting");
	iwm_accounts_free(&as);
}

int
main(void)
{
	test_path_cmp();
	test_csv();
	test_name_value();
	test_conn();
	test_localize();
	test_classify();
	printf("1..%d\n", n);
	return failed != 0;
}
