/*
 * fuzz-manifest: the manifest reader (header, records, escapes, order)
 * over a whole input, and every record line alone; a record that
 * parses must be written back and parse again to the same record.
 */
#include <sys/mman.h>

#include <stdio.h>
#include <unistd.h>

#include "manifest.h"
#include "fuzz.h"

static void
roundtrip(const struct iwm_rec *r)
{
	struct iwm_rec again;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		abort();
	if (iwm_mwrite_rec(f, r) == -1)
		abort();
	fclose(f);
	if (len == 0 || buf[len - 1] != '\n')
		abort();
	buf[--len] = '\0';
	if (iwm_rec_parse(buf, len, &again) == -1 ||
	    iwm_rec_cmp(r, &again) != 0 || again.size != r->size ||
	    again.mode != r->mode || again.mtime_sec != r->mtime_sec ||
	    again.mtime_nsec != r->mtime_nsec)
		abort();	/* written back differently */
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct iwm_mreader mr;
	const struct iwm_rec *rec;
	char *s = fuzz_str(d, n), *line = s, *nl;
	int fd;

	/* Each line alone. */
	while (line != NULL) {
		struct iwm_rec r;

		if ((nl = memchr(line, '\n', (size_t)(s + n - line))) != NULL)
			*nl = '\0';
		if (iwm_rec_parse(line, nl ? (size_t)(nl - line) :
		    (size_t)(s + n - line), &r) == 0)
			roundtrip(&r);
		line = nl ? nl + 1 : NULL;
	}
	free(s);
	/* The whole input through the reader. */
	if ((fd = memfd_create("manifest", 0)) == -1)
		abort();
	if (write(fd, d, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	/* On failure too, close frees the reader (and the fd). */
	if (iwm_mreader_fdopen(&mr, fd, "fuzz") == 0)
		while (iwm_mreader_next(&mr, &rec) == 1)
			free(iwm_mreader_header(&mr, "scope"));
	iwm_mreader_close(&mr);
	return 0;
}
