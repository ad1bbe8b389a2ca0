/*
 * rsdelta.c: librsync 2.x jobs driven by hand, so that signatures,
 * deltas and patches stream through HTTP bodies without temp files.
 * Signatures use BLAKE2 and the block and strong-sum lengths that
 * rs_sig_args() recommends for the file's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librsync.h>

#include "transfer.h"

#define RS_BUFSZ	(256 * 1024)

static ssize_t
readfull(int fd, char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
iwm_rs_signature(int fd, uint64_t size, struct iwm_buf *sig)
{
	rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
	size_t block = 0, strong = (size_t)-1;	/* minimum safe strong sum */
	rs_buffers_t bufs;
	rs_result res;
	rs_job_t *job;
	char *in = iwm_malloc(RS_BUFSZ);
	int rc = -1;

	if (rs_sig_args((rs_long_t)size, &magic, &block, &strong) != RS_DONE) {
		iwm_seterr("librsync: bad signature arguments");
		free(in);
		return -1;
	}
	job = rs_sig_begin(block, strong, magic);
	memset(&bufs, 0, sizeof(bufs));
	for (;;) {
		if (bufs.avail_in == 0 && !bufs.eof_in) {
			ssize_t n = readfull(fd, in, RS_BUFSZ);

			if (n == -1) {
				iwm_seterr_errno("read");
				goto done;
			}
			bufs.next_in = in;
			bufs.avail_in = (size_t)n;
			bufs.eof_in = n == 0;
		}
		iwm_buf_grow(sig, 64 * 1024);
		bufs.next_out = sig->ptr + sig->len;
		bufs.avail_out = sig->cap - sig->len - 1;
		res = rs_job_iter(job, &bufs);
		sig->len = (size_t)(bufs.next_out - sig->ptr);
		sig->ptr[sig->len] = '\0';
		if (res == RS_DONE)
			break;
		if (res != RS_BLOCKED) {
			iwm_seterr("librsync: %s", rs_strerror(res));
			goto done;
		}
	}
	rc = 0;
done:
	rs_job_free(job);
	free(in);
	return rc;
}

struct iwm_rs_delta {
	rs_signature_t	*sig;
	rs_job_t	*job;
	rs_buffers_t	 bufs;
	int		 fd;
	int		 done;
	char		*in;
	size_t		 inlen;		/* valid bytes at in */
};

struct iwm_rs_delta *
iwm_rs_delta_new(const char *sigp, size_t siglen, int srcfd)
{
	struct iwm_rs_delta *d = iwm_calloc(1, sizeof(*d));
	rs_buffers_t b;
	rs_job_t *job;
	rs_result res;

	job = rs_loadsig_begin(&d->sig);
	memset(&b, 0, sizeof(b));
	b.next_in = (char *)sigp;
	b.avail_in = siglen;
	b.eof_in = 1;
	res = rs_job_iter(job, &b);
	rs_job_free(job);
	if (res != RS_DONE) {
		iwm_seterr("signature from the agent: %s", rs_strerror(res));
		goto fail;
	}
	if ((res = rs_build_hash_table(d->sig)) != RS_DONE) {
		iwm_seterr("signature: %s", rs_strerror(res));
		goto fail;
	}
	d->job = rs_delta_begin(d->sig);
	d->fd = srcfd;
	d->in = iwm_malloc(RS_BUFSZ);
	return d;
fail:
	if (d->sig != NULL)
		rs_free_sumset(d->sig);
	free(d);
	return NULL;
}

ssize_t
iwm_rs_delta_read(struct iwm_rs_delta *d, char *out, size_t len)
{
	rs_result res;

	if (d->done)
		return 0;
	d->bufs.next_out = out;
	d->bufs.avail_out = len;
	while (d->bufs.avail_out == len) {
		if (d->bufs.avail_in == 0 && !d->bufs.eof_in) {
			ssize_t n = readfull(d->fd, d->in, RS_BUFSZ);

			if (n == -1) {
				iwm_seterr_errno("read");
				return -1;
			}
			d->bufs.next_in = d->in;
			d->bufs.avail_in = (size_t)n;
			d->bufs.eof_in = n == 0;
		}
		res = rs_job_iter(d->job, &d->bufs);
		if (res == RS_DONE) {
			d->done = 1;
			break;
		}
		if (res != RS_BLOCKED) {
			iwm_seterr("librsync delta: %s", rs_strerror(res));
			return -1;
		}
	}
	return (ssize_t)(len - d->bufs.avail_out);
}

void
iwm_rs_delta_free(struct iwm_rs_delta *d)
{
	if (d == NULL)
		return;
	rs_job_free(d->job);
	rs_free_sumset(d->sig);
	free(d->in);
	free(d);
}

struct iwm_rs_patch {
	rs_job_t	*job;
	int		 basefd;
	struct iwm_fput	*out;
	char		*obuf;
	uint64_t	 written;
};

static rs_result
copy_cb(void *arg, rs_long_t pos, size_t *len, void **buf)
{
	struct iwm_rs_patch *p = arg;
	ssize_t n;

	do
		n = pread(p->basefd, *buf, *len, (off_t)pos);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return RS_IO_ERROR;
	if (n == 0)
		return RS_INPUT_ENDED;
	*len = (size_t)n;
	return RS_DONE;
}

struct iwm_rs_patch *
iwm_rs_patch_new(int basefd, struct iwm_fput *out)
{
	struct iwm_rs_patch *p = iwm_calloc(1, sizeof(*p));

	p->basefd = basefd;
	p->out = out;
	p->obuf = iwm_malloc(RS_BUFSZ);
	p->job = rs_patch_begin(copy_cb, p);
	return p;
}

int
iwm_rs_patch_feed(struct iwm_rs_patch *p, const char *in, size_t n, int eof)
{
	rs_buffers_t b;
	rs_result res;

	memset(&b, 0, sizeof(b));
	b.next_in = (char *)in;
	b.avail_in = n;
	b.eof_in = eof;
	for (;;) {
		size_t before = b.avail_in, w;

		b.next_out = p->obuf;
		b.avail_out = RS_BUFSZ;
		res = rs_job_iter(p->job, &b);
		w = (size_t)(b.next_out - p->obuf);
		if (w > 0) {
			if (iwm_fput_write(p->out, p->obuf, w) == -1) {
				iwm_seterr_errno("write");
				return -1;
			}
			p->written += w;
		}
		if (res == RS_DONE)
			return 0;
		if (res != RS_BLOCKED) {
			iwm_seterr("librsync patch: %s", rs_strerror(res));
			return -1;
		}
		/* Blocked without progress: it wants more of the delta. */
		if (w == 0 && b.avail_in == before) {
			if (eof) {
				iwm_seterr("librsync patch: delta ends early");
				return -1;
			}
			return 0;
		}
	}
}

uint64_t
iwm_rs_patch_written(const struct iwm_rs_patch *p)
{
	return p->written;
}

void
iwm_rs_patch_free(struct iwm_rs_patch *p)
{
	if (p == NULL)
		return;
	rs_job_free(p->job);
	free(p->obuf);
	free(p);
}
