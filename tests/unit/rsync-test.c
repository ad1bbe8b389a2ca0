/*
 * rsync-test: iwm's signatures, deltas and patches against real librsync
 * (TAP).  iwm makes librsync's formats with its own multi-threaded code;
 * this proves each direction interoperates byte for byte.  Then iwm's
 * own signature format (XXH3-128 strong sums), checked against
 * libxxhash, and the vector rollsum against the plain loop.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <librsync.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

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

/* The vector rollsum equals the plain loop: random bytes, every length
 * 0..4096 at shifting alignments, and a few long buffers. */
static void
test_rollsum(void)
{
	static const size_t longs[] = { 65536, 65536 + 31, 1u << 20,
	    (1u << 20) + 4097, 24u << 20 };
	size_t cap = (24u << 20) + 64, len, i;
	unsigned char *buf = iwm_malloc(cap);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint32_t a[2], b[2];
	int bad = 0;

	for (i = 0; i < cap; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
	for (len = 0; len <= 4096; len++) {
		const unsigned char *p = buf + (len * 7) % 61;

		iwm_rs_rollsum(p, len, a);
		iwm_rs_rollsum_scalar(p, len, b);
		if (a[0] != b[0] || a[1] != b[1]) {
			if (bad++ == 0)
				printf("# length %zu: %08x %08x, plain %08x "
				    "%08x\n", len, a[0], a[1], b[0], b[1]);
		}
	}
	check(bad == 0, "rollsum: vector = plain loop, lengths 0..4096");
	/* All bytes 255: the largest sums, wrapping modulo 2^32. */
	memset(buf, 255, cap);
	for (i = 0; i < sizeof(longs) / sizeof(*longs); i++) {
		iwm_rs_rollsum(buf + 1, longs[i], a);
		iwm_rs_rollsum_scalar(buf + 1, longs[i], b);
		if (a[0] != b[0] || a[1] != b[1])
			bad++;
	}
	for (len = 4000; len <= 4096; len++) {
		iwm_rs_rollsum(buf + 3, len, a);
		iwm_rs_rollsum_scalar(buf + 3, len, b);
		if (a[0] != b[0] || a[1] != b[1])
			bad++;
	}
	check(bad == 0, "rollsum: the same on long and all-255 buffers");
	free(buf);
}

/* Each entry of the XXH3 signature XS: the weak sum of BLAKE2
 * signature BS's entry, and XXH3-128 of the block, truncated. */
static int
xxh3_entries_ok(const char *xs, size_t xlen, const char *bs, size_t blen,
    const unsigned char *data, size_t dlen)
{
	const unsigned char *x = (const unsigned char *)xs;
	const unsigned char *b = (const unsigned char *)bs;
	size_t block = get32(x + 4), strong = get32(x + 8);
	size_t bstrong = get32(b + 8), i, nb;

	if (get32(b + 4) != block || bstrong != strong || strong > 16)
		return 0;
	nb = (dlen + block - 1) / block;
	if (xlen != 12 + nb * (4 + strong) || blen != xlen)
		return 0;
	for (i = 0; i < nb; i++) {
		const unsigned char *e = x + 12 + i * (4 + strong);
		size_t bl = dlen - i * block < block ? dlen - i * block : block;
		XXH128_canonical_t c;

		XXH128_canonicalFromHash(&c, XXH3_128bits(data + i * block,
		    bl));
		if (memcmp(e, b + 12 + i * (4 + strong), 4) != 0 ||
		    memcmp(e + 4, c.digest, strong) != 0)
			return 0;
	}
	return 1;
}

/* Apply DELTA to the file "base" into NAME with iwm's patcher. */
/*
 * iwm's delta of NEWFD against SIG into DELTA (also written to DNAME):
 * small, and librsync's patch of base with it (into ONAME) gives the new
 * file.  TAG prefixes the checks.
 */
static void
delta_lib_patch(const struct iwm_buf *sig, int newfd, struct iwm_buf *delta,
    const char *dname, const char *oname, const unsigned char *nw,
    size_t nlen, const char *tag)
{
	struct iwm_rs_delta *d;
	char buf[65536], what[128];
	FILE *fb, *fd, *fo;
	ssize_t r;

	d = iwm_rs_delta_new(sig->ptr, sig->len, newfd);
	snprintf(what, sizeof(what), "%sa delta against that signature", tag);
	check(d != NULL, what);
	while (d != NULL && (r = iwm_rs_delta_read(d, buf, sizeof(buf))) > 0)
		iwm_buf_add(delta, buf, (size_t)r);
	iwm_rs_delta_free(d);
	snprintf(what, sizeof(what), "%sthe delta is small (about the "
	    "changed megabyte)", tag);
	check(delta->len > 0 && delta->len < (2u << 20), what);
	write_file(dname, (unsigned char *)delta->ptr, delta->len);
	fb = fopen(path("base"), "rb");
	fd = fopen(path(dname), "rb");
	fo = fopen(path(oname), "wb");
	snprintf(what, sizeof(what), "%slibrsync's patch (rs_patch) accepts "
	    "the delta", tag);
	check(rs_patch_file(fb, fd, fo, NULL) == RS_DONE, what);
	fclose(fb);
	fclose(fd);
	fclose(fo);
	check(same_file(oname, nw, nlen), "... and rebuilds the new file exactly");
}

static struct iwm_rs_patch *
patch_into(int basefd, const char *name, const char *delta, size_t dlen,
    struct iwm_fput *fp, struct iwm_dircache *dc, int *rootfd)
{
	struct iwm_serve_root root = { .name = "t", .dir = dir, .fd = -1 };
	struct iwm_rs_patch *p;

	*rootfd = -1;
	if (iwm_fs_open_root(&root) == -1)
		return NULL;
	*rootfd = root.fd;
	iwm_dircache_init(dc, &root);
	if (iwm_fput_begin(fp, dc, name, 0644) == -1)
		return NULL;
	p = iwm_rs_patch_new(basefd, fp);
	if (iwm_rs_patch_feed(p, delta, dlen, 1) == -1) {
		iwm_rs_patch_free(p);
		iwm_fput_abort(fp);
		return NULL;
	}
	return p;
}

/* iwm's XXH3 format: made, searched, applied, signed as it streams and
 * derived after a patch, all agreeing; BASE and NW as in main. */
static void
test_xxh3(const unsigned char *base, size_t blen, const unsigned char *nw,
    size_t nlen, const struct iwm_buf *bsig)
{
	struct iwm_buf xs = { 0 }, delta = { 0 }, streamed = { 0 };
	struct iwm_buf derived = { 0 }, fresh = { 0 }, bad = { 0 };
	struct iwm_rs_signer *g;
	struct iwm_rs_delta *d;
	struct iwm_rs_patch *p;
	struct iwm_dircache dc;
	struct iwm_fput fp;
	size_t i;
	int basefd = open(path("base"), O_RDONLY);
	int newfd = open(path("new"), O_RDONLY), rootfd, outfd;

	check(iwm_rs_signature(basefd, blen, IWM_SIG_XXH3, &xs) == 0 &&
	    iwm_rs_sig_format(xs.ptr, xs.len) == IWM_SIG_XXH3 &&
	    get32((unsigned char *)xs.ptr) == IWM_SIG_XXH3_MAGIC,
	    "xxh3: a signature with iwm's magic");
	check(iwm_rs_sig_format(bsig->ptr, bsig->len) == IWM_SIG_BLAKE2 &&
	    iwm_rs_sig_format("rs\0016xxxxxxxxxx", 12) == -1,
	    "the magic tells the formats apart");
	check(iwm_rs_sig_kind("xxh3") == IWM_SIG_XXH3 &&
	    iwm_rs_sig_kind(NULL) == IWM_SIG_BLAKE2 &&
	    iwm_rs_sig_kind("blake2") == IWM_SIG_BLAKE2 &&
	    iwm_rs_sig_kind("md4") == IWM_SIG_BLAKE2,
	    "X-Iwm-Sig: xxh3 asks for it, anything else gets BLAKE2");
	check(xxh3_entries_ok(xs.ptr, xs.len, bsig->ptr, bsig->len, base,
	    blen), "xxh3: librsync's block and strong lengths, weak sums, "
	    "and truncated XXH3-128 of each block");

	/* Signed as it streams in, in odd pieces: the same bytes. */
	g = iwm_rs_signer_new(blen, IWM_SIG_XXH3);
	for (i = 0; g != NULL && i < blen; i += 77777)
		iwm_rs_signer_feed(g, base + i, blen - i < 77777 ?
		    blen - i : 77777);
	check(g != NULL && iwm_rs_signer_end(g, &streamed) == 0 &&
	    streamed.len == xs.len && memcmp(streamed.ptr, xs.ptr,
	    xs.len) == 0, "xxh3: an upload's signature is the same");
	iwm_rs_signer_free(g);

	/* The delta against it: small, and both patchers rebuild the file. */
	delta_lib_patch(&xs, newfd, &delta, "delta.x3", "out.x3lib", nw, nlen,
	    "xxh3: ");
	p = patch_into(basefd, "out.x3", delta.ptr, delta.len, &fp, &dc,
	    &rootfd);
	check(p != NULL && iwm_fput_commit(&fp, 0644, 0, 0, 0) == 0 &&
	    same_file("out.x3", nw, nlen),
	    "xxh3: iwm's patcher rebuilds the new file exactly");

	/* The new file's signature from the base's: the fresh one's bytes. */
	outfd = open(path("out.x3"), O_RDONLY);
	check(p != NULL && outfd != -1 && iwm_rs_patch_sig(p, xs.ptr, xs.len,
	    blen, outfd, nlen, &derived) == 0 &&
	    iwm_rs_signature(outfd, nlen, IWM_SIG_XXH3, &fresh) == 0 &&
	    derived.len == fresh.len &&
	    memcmp(derived.ptr, fresh.ptr, fresh.len) == 0,
	    "xxh3: the derived signature of the patched file is its own");
	if (outfd != -1)
		close(outfd);
	iwm_rs_patch_free(p);
	iwm_dircache_free(&dc);
	if (rootfd != -1)
		close(rootfd);

	/* Strong sums longer than XXH3-128 are refused. */
	iwm_buf_add(&bad, xs.ptr, xs.len);
	bad.ptr[11] = 17;
	d = iwm_rs_delta_new(bad.ptr, bad.len, newfd);
	check(d == NULL, "xxh3: a signature with 17-byte sums is refused");
	iwm_rs_delta_free(d);

	close(basefd);
	close(newfd);
	iwm_buf_free(&xs);
	iwm_buf_free(&delta);
	iwm_buf_free(&streamed);
	iwm_buf_free(&derived);
	iwm_buf_free(&fresh);
	iwm_buf_free(&bad);
}

int
main(void)
{
	unsigned char *base, *nw, *sig_lib;
	size_t blen, nlen, slen;
	struct iwm_buf sig = { 0 }, delta = { 0 };
	rs_signature_t *sums = NULL;
	FILE *fb, *fs, *fd, *fn;
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
	check(iwm_rs_signature(basefd, blen, IWM_SIG_BLAKE2, &sig) == 0 &&
	    sig.len > 12,
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
	delta_lib_patch(&sig, newfd, &delta, "delta.iwm", "out.lib", nw, nlen,
	    "iwm: ");

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
		iwm_dircache_init(&dc, &root);
		ok = ok && iwm_fput_begin(&fp, &dc, "out.iwm", 0644) == 0;
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
	test_xxh3(base, blen, nw, nlen, &sig);
	test_rollsum();
	free(base);
	free(nw);
	free(sig_lib);
	iwm_buf_free(&sig);
	iwm_buf_free(&delta);
	{
		static const char *const f[] = { "base", "new", "sig.lib",
		    "delta.iwm", "delta.lib", "out.lib", "out.iwm",
		    "delta.x3", "out.x3lib", "out.x3" };
		size_t i;

		for (i = 0; i < sizeof(f) / sizeof(*f); i++)
			unlink(path(f[i]));
		rmdir(dir);
	}
	printf("1..%d\n", n);
	return failed != 0;
}
