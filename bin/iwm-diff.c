/*
 * iwm-diff: compare two sorted manifests in one pass and print what the
 * target lacks (+), what differs (~), what only the target has (-, with
 * --delete, and only inside the source's declared scope), and with -a
 * what is the same (=).  Memory does not depend on the manifests' size.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-a] [--delete] [--modify-window SECONDS] "
	    "SOURCE TARGET\n", iwm_progname);
	exit(IWM_EXIT_USAGE);
}

static int
emit(char op, const struct iwm_rec *from, int keep_source)
{
	struct iwm_rec r = *from;

	r.op = op;
	if (!keep_source)
		r.source = NULL;
	r.note = NULL;
	if (iwm_mwrite_rec(stdout, &r) == -1) {
		iwm_seterr_errno("standard output");
		return -1;
	}
	return 0;
}

/* The seed's quick check: a file differs when its size or mtime does. */
static int
differs(const struct iwm_rec *s, const struct iwm_rec *t, int64_t window)
{
	int64_t d;

	if (s->type != t->type)
		return 1;
	if (s->type == IWM_TYPE_DIR)
		return 0;
	if (s->size != t->size)
		return 1;
	d = s->mtime_sec - t->mtime_sec;
	if (d < 0)
		d = -d;
	return d > window;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "delete", no_argument, NULL, 'd' },
		{ "modify-window", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct iwm_mreader src, tgt;
	const struct iwm_rec *rs = NULL, *rt = NULL;
	struct iwm_buf hdr = { 0 };
	int ch, all = 0, del = 0, differ = 0, rc, warned = 0;
	long window = 0;

	iwm_setprogname(argv[0]);
	while ((ch = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'd':
			del = 1;
			break;
		case 'w':
			if (iwm_parse_int(optarg, 0, 1L << 30, &window) == -1) {
				iwm_warnx("--modify-window: %s", iwm_err());
				usage();
			}
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (strcmp(argv[0], "-") == 0 && strcmp(argv[1], "-") == 0) {
		iwm_warnx("SOURCE and TARGET cannot both be standard input");
		usage();
	}
	if (iwm_mreader_open(&src, argv[0]) == -1 ||
	    iwm_mreader_open(&tgt, argv[1]) == -1) {
		iwm_warn_err();
		return IWM_EXIT_DATA;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (src.scope != NULL) {
		iwm_buf_adds(&hdr, "scope=");
		iwm_scope_format(&hdr, src.scope, src.nscope);
	}
	if (iwm_mwrite_header(stdout, hdr.ptr) == -1)
		goto ioerr;
	if ((rc = iwm_mreader_next(&src, &rs)) == -1 ||
	    (rc = iwm_mreader_next(&tgt, &rt)) == -1)
		goto dataerr;
	while (rs != NULL || rt != NULL) {
		int c = rs == NULL ? 1 : rt == NULL ? -1 : iwm_rec_cmp(rs, rt);

		if (c < 0) {
			differ = 1;
			if (emit(IWM_OP_CREATE, rs, 1) == -1)
				goto ioerr;
		} else if (c > 0) {
			if (iwm_scope_contains(src.scope, src.nscope,
			    rt->root, rt->path, rt->path_len)) {
				differ = 1;
				if (del && emit(IWM_OP_DELETE, rt, 0) == -1)
					goto ioerr;
			} else if (del && src.scope == NULL && !warned) {
				iwm_warnx("%s declares no scope: "
				    "nothing is marked for deletion", argv[0]);
				warned = 1;
			}
		} else if (differs(rs, rt, window)) {
			differ = 1;
			if (emit(IWM_OP_UPDATE, rs, 1) == -1)
				goto ioerr;
		} else if (all && emit(IWM_OP_SAME, rs, 1) == -1)
			goto ioerr;
		if (c <= 0 && (rc = iwm_mreader_next(&src, &rs)) != 1) {
			if (rc == -1)
				goto dataerr;
			rs = NULL;
		}
		if (c >= 0 && (rc = iwm_mreader_next(&tgt, &rt)) != 1) {
			if (rc == -1)
				goto dataerr;
			rt = NULL;
		}
	}
	iwm_mreader_close(&src);
	iwm_mreader_close(&tgt);
	iwm_buf_free(&hdr);
	if (iwm_close_stdout() == -1) {
		iwm_warn_err();
		return IWM_EXIT_IO;
	}
	return differ ? IWM_EXIT_DIFF : IWM_EXIT_OK;
dataerr:
	iwm_warn_err();
	return IWM_EXIT_DATA;
ioerr:
	iwm_warnx("standard output: write error");
	return IWM_EXIT_IO;
}
