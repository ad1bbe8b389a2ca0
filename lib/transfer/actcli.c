/*
 * actcli.c: iwm-push --action NAME, the client of the agent's target
 * actions (iwm-protocol(7), ACTIONS).  The action's output is printed
 * line by line as it arrives; its last line "#iwm-exit N" is not
 * printed but becomes the exit status.  A stream without it (the
 * connection was cut) is a protocol error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "transfer.h"

#define EXIT_MARK	"#iwm-exit "
#define EXIT_MARK_LEN	(sizeof(EXIT_MARK) - 1)

struct actcb {
	FILE		*out;
	CURL		*e;
	int		 checked, ok, werr;
	int		 code;		/* of a "#iwm-exit N" line, or -1 */
	struct iwm_buf	 mark;		/* that line, until another follows */
	struct iwm_buf	 part;		/* an incomplete line */
	struct iwm_buf	 err;		/* the body of a refusal */
};

static int
exit_line(const char *p, size_t n)
{
	char num[8];
	long v;

	if (n <= EXIT_MARK_LEN || n - EXIT_MARK_LEN >= sizeof(num) ||
	    memcmp(p, EXIT_MARK, EXIT_MARK_LEN) != 0)
		return -1;
	memcpy(num, p + EXIT_MARK_LEN, n - EXIT_MARK_LEN);
	num[n - EXIT_MARK_LEN] = '\0';
	if (iwm_parse_int(num, 0, 255, &v) == -1)
		return -1;
	return (int)v;
}

static int
put(struct actcb *a, const char *p, size_t n)
{
	if (fwrite(p, 1, n, a->out) != n || fflush(a->out) == EOF) {
		a->werr = 1;
		return -1;
	}
	return 0;
}

/* One complete line, with its '\n'. */
static int
line(struct actcb *a, const char *p, size_t n)
{
	int code;

	/* An exit line that is not the last was output like any other. */
	if (a->code != -1) {
		if (put(a, a->mark.ptr, a->mark.len) == -1)
			return -1;
		iwm_buf_reset(&a->mark);
		a->code = -1;
	}
	if ((code = exit_line(p, n - 1)) != -1) {
		a->code = code;
		iwm_buf_add(&a->mark, p, n);
		return 0;
	}
	return put(a, p, n);
}

static size_t
act_write(char *p, size_t sz, size_t n, void *arg)
{
	struct actcb *a = arg;
	size_t len = sz * n, i, start = 0;

	if (!a->checked) {
		long http = 0;

		curl_easy_getinfo(a->e, CURLINFO_RESPONSE_CODE, &http);
		a->ok = http == 200;
		a->checked = 1;
	}
	if (!a->ok) {
		if (a->err.len < 4096)
			iwm_buf_add(&a->err, p, len);
		return len;
	}
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (a->part.len > 0) {
			iwm_buf_add(&a->part, p + start, i + 1 - start);
			if (line(a, a->part.ptr, a->part.len) == -1)
				return 0;
			iwm_buf_reset(&a->part);
		} else if (line(a, p + start, i + 1 - start) == -1)
			return 0;
		start = i + 1;
	}
	iwm_buf_add(&a->part, p + start, len - start);
	return len;
}

int
iwm_remote_action(const struct iwm_remote_opts *o, const char *name,
    FILE *out)
{
	struct iwm_client cl;
	struct iwm_buf path = { 0 };
	struct actcb a;
	CURLcode cc;
	long http = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	a.out = out;
	a.code = -1;
	if (name[0] == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz-") !=
	    strlen(name)) {
		iwm_warnx("--action '%s': not an action name (see "
		    "iwm-push(1))", name);
		return IWM_EXIT_USAGE;
	}
	if (iwm_client_init(&cl, o) == -1) {
		iwm_warn_err();
		return IWM_EXIT_USAGE;
	}
	iwm_buf_adds(&path, "/v1/action/");
	iwm_url_escape(&path, name, strlen(name));
	a.e = iwm_client_easy(&cl, path.ptr);
	iwm_buf_free(&path);
	if (a.e == NULL) {
		iwm_client_free(&cl);
		iwm_warnx("libcurl: cannot make a handle");
		return IWM_EXIT_SOFTWARE;
	}
	curl_easy_setopt(a.e, CURLOPT_POST, 1L);
	curl_easy_setopt(a.e, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(a.e, CURLOPT_POSTFIELDSIZE, 0L);
	/* An action may be silent for long (a restart waits): no stall limit. */
	curl_easy_setopt(a.e, CURLOPT_LOW_SPEED_TIME, 0L);
	curl_easy_setopt(a.e, CURLOPT_WRITEFUNCTION, act_write);
	curl_easy_setopt(a.e, CURLOPT_WRITEDATA, &a);
	cc = curl_easy_perform(a.e);
	curl_easy_getinfo(a.e, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(a.e);
	iwm_client_free(&cl);
	if (a.werr) {
		iwm_warnx("standard output: %s", strerror(errno));
		rc = IWM_EXIT_IO;
	} else if (cc == CURLE_OK && http == 403) {
		iwm_warnx("%s: %.*s", o->url, (int)strcspn(a.err.ptr ?
		    a.err.ptr : "", "\n"), a.err.ptr ? a.err.ptr : "");
		rc = IWM_EXIT_AUTH;
	} else if (cc == CURLE_OK && http == 409) {
		iwm_warnx("%s: %.*s", o->url, (int)strcspn(a.err.ptr ?
		    a.err.ptr : "", "\n"), a.err.ptr ? a.err.ptr : "");
		rc = IWM_EXIT_CANCELLED;	/* EX_TEMPFAIL: try later */
	} else if (http != 200) {
		rc = iwm_client_fail(cc, http, a.err.ptr, o->url);
	} else if (cc != CURLE_OK || a.code == -1 || a.part.len > 0) {
		/* The stream began but was cut: print what came. */
		if (cc != CURLE_OK && a.code != -1)
			(void)put(&a, a.mark.ptr, a.mark.len);
		(void)put(&a, a.part.ptr ? a.part.ptr : "", a.part.len);
		iwm_warnx("%s: action %s: the stream ended without "
		    "\"#iwm-exit N\"%s%s (see the agent's log)", o->url, name,
		    cc != CURLE_OK ? ": " : "", cc != CURLE_OK ?
		    curl_easy_strerror(cc) : "");
		rc = IWM_EXIT_PROTO;
	} else
		rc = a.code;
	iwm_buf_free(&a.mark);
	iwm_buf_free(&a.part);
	iwm_buf_free(&a.err);
	return rc;
}
