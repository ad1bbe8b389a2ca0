/*
 * fuzz-conn: database connection strings, IceWarp's
 * "dbname;user;pass;host;syntax;driver" and the PDO-like forms.
 */
#include "icewarp.h"
#include "db.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct iwm_conn c;
	struct iwm_dbspec spec;
	char *s = fuzz_str(d, n);

	if (iwm_conn_parse(s, &c) == 0)
		iwm_conn_free(&c);
	if (iwm_dbspec_parse(&spec, s, NULL, NULL, "/nonexistent/base",
	    "fuzz") == 0)
		iwm_dbspec_free(&spec);
	free(s);
	return 0;
}
