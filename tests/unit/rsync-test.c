/*
 * rsync-test: iwm's signatures, deltas and patches against real librsync
 * (TAP).  iwm makes librsync's formats with its own multi-threaded code;
 * this proves each direction interoperates byte for byte.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <librsync.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transfer.h"

static int n, failed;
static char dir[] = "/tmp/iwm-rsync-test.XXXXXX";

static void
check(int cond, const char *what)
{
	n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
	if (!cond)
		failed++;
}

static char *
path(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static void
write_file(const char *name, const unsigned char *p, size_t len)
{
	FILE *fp = fopen(path(name), "wb");

	if (fp == NULL || fwrite(p, 1, len, fp) != len || fclose(fp) != 0) {
		perror(name);
		exit(1);
	}
}

static unsigned char *
read_file(const char *name, size_t *len)
{
	FILE *fp = fopen(path(name), "rb");
	struct iwm_buf b = { 0 };
	char tmp[65536];
	size_t r;

	if (fp == NULL)
		return NULL;
	while ((r = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		iwm_buf_add(&b, tmp, r);
	fclose(fp);
	*len = b.len;
	return (unsigned char *)iwm_buf_steal(&b);
}

static int
same_file(const char *a, const unsigned char *p, size_t len)
{
	size_t la;
	unsigned char *x = read_file(a, &la);
	int same = x != NULL && la == len && memcmp(x, p, len) == 0;

	free(x);
	return same;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A deterministic file, and a new version of it: edits, a shift, a tail. */
static void
make_files(unsigned char **base, size_t *blen, unsigned char **nw,
    size_t *nlen)
{
	uint64_t x = 88172645463325252ULL;
	size_t i, b = 24u << 20, m;

	*base = iwm_malloc(b);
	for (i = 0; i < b; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		(*base)[i] = (unsigned char)x;
	}
	*blen = b;
	*nlen = b + 333 + 100000;
	*nw = iwm_malloc(*nlen);
	m = 0;
	memcpy(*nw, *base, 5000);			/* same start */
	m = 5000;
	memset(*nw + m, 'I', 333);			/* 333 bytes inserted */
	m += 333;
	memcpy(*nw + m, *base + 5000, b - 5000);	/* then shifted */
	m += b - 5000;
	memset(*nw + (12u << 20), 'C', 1u << 20);	/* 1 MiB changed */
	for (i = 0; i < 100000; i++)			/* a tail appended */
		(*nw)[m + i] = (unsigned char)(i * 7);
}

int
main(void)
{
	unsigned char *base, *nw, *sig_lib;
	size_t blen, nlen, slen;
	struct iwm_buf sig = { 0 }, delta = { 0 };
	struct iwm_rs_delta *d;
	rs_signature_t *sums = NULL;
	FILE *fb, *fs, *fd, *fo, *fn;
	char buf[65536];
	ssize_t r;
	int basefd, newfd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	make_files(&base, &blen, &nw, &nlen);
	write_file("base", base, blen);
	write_file("new", nw, nlen);

	/* 1. iwm's signature equals librsync's, same parameters. */
	basefd = open(path("base"), O_RDONLY);
	check(iwm_rs_signature(basefd, blen, &sig) == 0 && sig.len > 12,
	    "iwm makes a signature");
	fb = fopen(path("base"), "rb");
	fs = fopen(path("sig.lib"), "wb");
	check(rs_sig_file(fb, fs, get32((unsigned char *)sig.ptr + 4),
	    get32((unsigned char *)sig.ptr + 8),
	    (rs_magic_number)get32((unsigned char *)sig.ptr), NULL) == RS_DONE,
	    "librsync signs the same file with the same parameters");
	fclose(fb);
	fclose(fs);
	sig_lib = read_file("sig.lib", &slen);
	check(sig_lib != NULL && slen == sig.len &&
	    memcmp(sig_lib, sig.ptr, slen) == 0,
	    "the signatures are byte-identical");

	/* 2. iwm's delta, applied by librsync's patch, gives the new file. */
	newfd = open(path("new"), O_RDONLY);
	d = iwm_rs_delta_new(sig.ptr, sig.len, newfd);
	check(d != NULL, "iwm starts a delta against that signature");
	while (d != NULL && (r = iwm_rs_delta_read(d, buf, sizeof(buf))) > 0)
		iwm_buf_add(&delta, buf, (size_t)r);
	iwm_rs_delta_free(d);
	check(delta.len > 0 && delta.len < (2u << 20),
	    "the delta is small (about the changed megabyte)");
	write_file("delta.iwm", (unsigned char *)delta.ptr, delta.len);
	fb = fopen(path("base"), "rb");
	fd = fopen(path("delta.iwm"), "rb");
	fo = fopen(path("out.lib"), "wb");
	check(rs_patch_file(fb, fd, fo, NULL) == RS_DONE,
	    "librsync's patch accepts iwm's delta");
	fclose(fb);
	fclose(fd);
	fclose(fo);
	check(same_file("out.lib", nw, nlen),
	    "... and rebuilds the new file exactly");

	/* 3. librsync's delta, applied by iwm's patcher, gives it too. */
	fs = fopen(path("sig.lib"), "rb");
	check(rs_loadsig_file(fs, &sums, NULL) == RS_DONE &&
	    rs_build_hash_table(sums) == RS_DONE, "librsync loads the signature");
	fclose(fs);
	fn = fopen(path("new"), "rb");
	fd = fopen(path("delta.lib"), "wb");
	check(rs_delta_file(sums, fn, fd, NULL) == RS_DONE,
	    "librsync makes its own delta");
	fclose(fn);
	fclose(fd);
	rs_free_sumset(sums);
	{
		struct iwm_serve_root root = { .name = "t", .dir = dir, .fd = -1 };
		struct iwm_dircache dc;
		struct iwm_fput fp;
		struct iwm_rs_patch *p;
		size_t dl;
		unsigned char *dd = read_file("delta.lib", &dl);
		int ok;

		ok = iwm_fs_open_root(&root) == 0;
		iwm_dircache_init(&dc, root.fd);
		ok = ok && iwm_fput_begin(&fp, &dc, "out.iwm") == 0;
		p = ok ? iwm_rs_patch_new(basefd, &fp) : NULL;
		ok = p != NULL && dd != NULL &&
		    iwm_rs_patch_feed(p, (char *)dd, dl, 1) == 0;
		check(ok, "iwm's patcher accepts librsync's delta");
		iwm_rs_patch_free(p);
		check(ok && iwm_fput_commit(&fp, 0644, 0, 0, 0) == 0 &&
		    same_file("out.iwm", nw, nlen),
		    "... and rebuilds the new file exactly");
		iwm_dircache_free(&dc);
		close(root.fd);
		free(dd);
	}
	close(basefd);
	close(newfd);
	free(base);
	free(nw);
	free(sig_lib);
	iwm_buf_free(&sig);
	iwm_buf_free(&delta);
	{
		static const char *const f[] = { "base", "new", "sig.lib",
		    "delta.iwm", "delta.lib", "out.lib", "out.iwm" };
		size_t i;

		for (i = 0; i < sizeof(f) / sizeof(*f); i++)
			unlink(path(f[i]));
		rmdir(dir);
	}
	printf("1..%d\n", n);
	return failed != 0;
}
