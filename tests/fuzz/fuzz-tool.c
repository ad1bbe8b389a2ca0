/*
 * fuzz-tool: what the IceWarp tool prints: "Name: value" lines and CSV
 * records (quoted values across lines), as iwm_tool_run hands them over.
 */
#include "icewarp.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct iwm_csv csv;
	struct iwm_buf q = { 0 };
	char *s = fuzz_str(d, n), *line = s, *nl;
	size_t i;

	memset(&csv, 0, sizeof(csv));
	while (line != NULL) {
		size_t len;
		char *copy, *name, *value;

		if ((nl = memchr(line, '\n', (size_t)(s + n - line))) != NULL)
			*nl = '\0';
		len = nl ? (size_t)(nl - line) : (size_t)(s + n - line);
		copy = fuzz_str((const uint8_t *)line, len);
		if (iwm_parse_name_value(copy, &name, &value) == 0 &&
		    (name == NULL || value == NULL))
			abort();
		free(copy);
		if (iwm_csv_feed(&csv, line, len) == 1)
			for (i = 0; i < csv.nfields; i++) {
				iwm_buf_reset(&q);
				iwm_csv_quote(&q, csv.fields[i]);
			}
		line = nl ? nl + 1 : NULL;
	}
	iwm_csv_free(&csv);
	iwm_buf_free(&q);
	free(s);
	return 0;
}
