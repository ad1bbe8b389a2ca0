/*
 * rsdelta.c: librsync-format signatures, deltas and patches, streamed
 * through HTTP bodies without temp files.
 *
 * Signatures use the block and strong-sum lengths that rs_sig_args()
 * recommends for the file's size, in one of two formats: librsync's
 * BLAKE2 one (libb2), byte for byte what rs_sig_begin() would write, or
 * iwm's own (IWM_SIG_XXH3_MAGIC), the same but for XXH3-128 strong
 * sums, as rsync uses xxh128 since 3.2: a tenth of the CPU of BLAKE2,
 * and a collision of truncated sums is caught by the whole-file check
 * of every delta (X-Iwm-Check), which then sends the file whole.  They
 * are made here by several threads over ranges of blocks.  Deltas
 * against either are searched here too, by several threads over ranges
 * of the source, and written in librsync's delta format (rs_patch()
 * applies them); a signature of another kind goes through librsync's
 * own delta job.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <blake2.h>
#include <librsync.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include "transfer.h"

#define RS_BUFSZ	(256 * 1024)
#define RS_MAXTHREADS	4
#define SIG_HDRLEN	12
#define STRONG_MAX	32	/* BLAKE2 sums as librsync makes them */
#define XXH3_MAX	16	/* XXH3-128 */
#define CHAR_OFFSET	31	/* librsync's rollsum */
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


static ssize_t
preadfull(int fd, void *buf, size_t n, uint64_t off)
{
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));

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

static unsigned
ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > RS_MAXTHREADS ? RS_MAXTHREADS : (unsigned)n;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The longest strong sum of signature format FMT. */
static size_t
strong_max(int fmt)
{
	return fmt == IWM_SIG_XXH3 ? XXH3_MAX : STRONG_MAX;
}

/*
 * The strong sum: the first LEN bytes of unkeyed BLAKE2b with a 32-byte
 * digest (BLAKE2b-256, not a truncated BLAKE2b-512: the digest length
 * is part of the parameter block), as librsync computes it, from libb2;
 * or of XXH3-128 in its canonical (big-endian) form.
 */
static void
strong_sum(int fmt, const unsigned char *p, size_t n, unsigned char *out,
    size_t len)
{
	unsigned char dig[STRONG_MAX];

	if (fmt == IWM_SIG_XXH3) {
		XXH128_canonical_t c;

		XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
		memcpy(out, c.digest, len);
		return;
	}
	blake2b(dig, p, NULL, STRONG_MAX, n, 0);
	memcpy(out, dig, len);
}

static uint32_t
sig_magic(int fmt)
{
	return fmt == IWM_SIG_XXH3 ? IWM_SIG_XXH3_MAGIC : RS_BLAKE2_SIG_MAGIC;
}

int
iwm_rs_sig_format(const void *sig, size_t len)
{
	uint32_t m;

	if (len < SIG_HDRLEN)
		return -1;
	m = get32(sig);
	return m == RS_BLAKE2_SIG_MAGIC ? IWM_SIG_BLAKE2 :
	    m == IWM_SIG_XXH3_MAGIC ? IWM_SIG_XXH3 : -1;
}

/* X-Iwm-Sig: the format it names; BLAKE2 for anything else. */
int
iwm_rs_sig_kind(const char *name)
{
	return name != NULL && strcasecmp(name, "xxh3") == 0 ?
	    IWM_SIG_XXH3 : IWM_SIG_BLAKE2;
}

const char *
iwm_rs_sig_name(int fmt)
{
	return fmt == IWM_SIG_XXH3 ? "xxh3" : "blake2";
}

/* --- librsync's rollsum (weak sum) ---------------------------------- */

struct rollsum {
	uint32_t s1, s2;	/* only the low 16 bits count */
};

/* The sums of P[0..N) added to S1, S2: four bytes a step. */
static void
roll_scalar(uint32_t *s1p, uint32_t *s2p, const unsigned char *p, size_t n)
{
	uint32_t s1 = *s1p, s2 = *s2p;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		s2 += 4 * s1 + 4 * (uint32_t)p[i] + 3 * (uint32_t)p[i + 1] +
		    2 * (uint32_t)p[i + 2] + p[i + 3];
		s1 += (uint32_t)p[i] + p[i + 1] + p[i + 2] + p[i + 3];
	}
	for (; i < n; i++) {
		s1 += p[i];
		s2 += s1;
	}
	*s1p = s1;
	*s2p = s2;
}

#ifdef __SSE2__
/*
 * The same over whole 32-byte steps, N a multiple of 32, from S1 = S2
 * = 0: a step adds 32 * s1 + sum (32 - j) * c[j] to s2 and sum c[j] to
 * s1.  The byte sums come from _mm_sad_epu8, the weighted ones from
 * _mm_madd_epi16 on the bytes widened to 16 bits; s1 before each step
 * is summed apart and multiplied by 32 at the end.  All of it modulo
 * 2^64 or 2^32, so the low 32 bits are the plain loop's exactly.
 */
static void
roll_sse2(uint32_t *s1p, uint32_t *s2p, const unsigned char *p, size_t n)
{
	const __m128i zero = _mm_setzero_si128();
	const __m128i w0 = _mm_setr_epi16(32, 31, 30, 29, 28, 27, 26, 25);
	const __m128i w1 = _mm_setr_epi16(24, 23, 22, 21, 20, 19, 18, 17);
	const __m128i w2 = _mm_setr_epi16(16, 15, 14, 13, 12, 11, 10, 9);
	const __m128i w3 = _mm_setr_epi16(8, 7, 6, 5, 4, 3, 2, 1);
	__m128i vs1 = zero, vps = zero, vw = zero;
	uint64_t l1[2], lp[2];
	uint32_t lw[4];
	size_t i;

	for (i = 0; i + 32 <= n; i += 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));

		vps = _mm_add_epi64(vps, vs1);
		vs1 = _mm_add_epi64(vs1, _mm_add_epi64(_mm_sad_epu8(a, zero),
		    _mm_sad_epu8(b, zero)));
		vw = _mm_add_epi32(vw, _mm_add_epi32(
		    _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(a, zero), w0),
		    _mm_madd_epi16(_mm_unpackhi_epi8(a, zero), w1)),
		    _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(b, zero), w2),
		    _mm_madd_epi16(_mm_unpackhi_epi8(b, zero), w3))));
	}
	_mm_storeu_si128((__m128i *)l1, vs1);
	_mm_storeu_si128((__m128i *)lp, vps);
	_mm_storeu_si128((__m128i *)lw, vw);
	*s1p = (uint32_t)(l1[0] + l1[1]);
	*s2p = (uint32_t)(32 * (lp[0] + lp[1])) + lw[0] + lw[1] + lw[2] +
	    lw[3];
}
#endif

/* Each byte counts as itself plus CHAR_OFFSET. */
static void
roll_offset(uint32_t *s1, uint32_t *s2, size_t n)
{
	*s1 += (uint32_t)(n * CHAR_OFFSET);
	*s2 += (uint32_t)(n * (n + 1) / 2 * CHAR_OFFSET);
}

static void
roll_init(struct rollsum *r, const unsigned char *p, size_t n)
{
	uint32_t s1 = 0, s2 = 0;
	size_t i = 0;

#ifdef __SSE2__
	i = n / 32 * 32;
	if (i > 0)
		roll_sse2(&s1, &s2, p, i);
#endif
	roll_scalar(&s1, &s2, p + i, n - i);
	roll_offset(&s1, &s2, n);
	r->s1 = s1;
	r->s2 = s2;
}

void
iwm_rs_rollsum(const void *p, size_t n, uint32_t s[2])
{
	struct rollsum r;

	roll_init(&r, p, n);
	s[0] = r.s1;
	s[1] = r.s2;
}

void
iwm_rs_rollsum_scalar(const void *p, size_t n, uint32_t s[2])
{
	s[0] = s[1] = 0;
	roll_scalar(&s[0], &s[1], p, n);
	roll_offset(&s[0], &s[1], n);
}

static inline void
roll_rotate(struct rollsum *r, unsigned char out, unsigned char in,
    uint32_t count)
{
	r->s1 += (uint32_t)in - out;
	r->s2 += r->s1 - count * ((uint32_t)out + CHAR_OFFSET);
}

static inline uint32_t
roll_digest(const struct rollsum *r)
{
	return (r->s2 & 0xffff) << 16 | (r->s1 & 0xffff);
}

static uint32_t
weak_sum(const unsigned char *p, size_t n)
{
	struct rollsum r;

	roll_init(&r, p, n);
	return roll_digest(&r);
}

/* --- signatures ----------------------------------------------------- */

struct sigjob {
	int		 fd;
	uint64_t	 size;
	int		 fmt;
	size_t		 block, strong;
	uint64_t	 nblocks;
	unsigned char	*out;		/* entries, after the header */
	uint64_t	 b0, b1;	/* this thread's blocks */
	int		 err;		/* errno, or -1: the file shrank */
};

static void *
sig_thread(void *arg)
{
	struct sigjob *j = arg;
	size_t per = j->block < RS_BUFSZ ? RS_BUFSZ / j->block : 1;
	size_t esz = 4 + j->strong;
	unsigned char *buf = iwm_malloc(per * j->block);
	uint64_t b = j->b0;

	while (b < j->b1) {
		uint64_t off = b * j->block, n = j->b1 - b;
		size_t want, k;
		ssize_t got;

		if (n > per)
			n = per;
		want = (size_t)(n * j->block);
		if (off + want > j->size)
			want = (size_t)(j->size - off);
		if ((got = preadfull(j->fd, buf, want, off)) == -1) {
			j->err = errno;
			break;
		}
		if ((size_t)got != want) {
			j->err = -1;
			break;
		}
		for (k = 0; k < n; k++) {
			size_t bl = want - k * j->block;
			unsigned char *e = j->out + (b + k) * esz;

			if (bl > j->block)
				bl = j->block;
			put32(e, weak_sum(buf + k * j->block, bl));
			strong_sum(j->fmt, buf + k * j->block, bl, e + 4,
			    j->strong);
		}
		b += n;
	}
	free(buf);
	return NULL;
}

int
iwm_rs_signature(int fd, uint64_t size, int fmt, struct iwm_buf *sig)
{
	rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
	size_t block = 0, strong = (size_t)-1;	/* minimum safe strong sum */
	struct sigjob jobs[RS_MAXTHREADS];
	pthread_t tid[RS_MAXTHREADS];
	unsigned nt, i, started;
	uint64_t nblocks, per;
	unsigned char *hdr;
	size_t total;

	/* XXH3 sums as long as librsync's BLAKE2 ones would be. */
	if (rs_sig_args((rs_long_t)size, &magic, &block, &strong) != RS_DONE ||
	    block == 0 || strong == 0 || strong > strong_max(fmt)) {
		iwm_seterr("librsync: bad signature arguments");
		return -1;
	}
	nblocks = (size + block - 1) / block;
	total = SIG_HDRLEN + (size_t)nblocks * (4 + strong);
	iwm_buf_grow(sig, total + 1);
	hdr = (unsigned char *)sig->ptr + sig->len;
	put32(hdr, sig_magic(fmt));
	put32(hdr + 4, (uint32_t)block);
	put32(hdr + 8, (uint32_t)strong);
	/* One thread per 4 MiB at least, up to the cores. */
	nt = ncpu();
	if (nt > size / (4 << 20))
		nt = size < (8 << 20) ? 1 : (unsigned)(size / (4 << 20));
	per = (nblocks + nt - 1) / nt;
	for (i = 0; i < nt; i++) {
		jobs[i] = (struct sigjob){ .fd = fd, .fmt = fmt, .size = size,
		    .block = block, .strong = strong, .nblocks = nblocks,
		    .out = hdr + SIG_HDRLEN, .b0 = per * i,
		    .b1 = per * (i + 1) };
		if (jobs[i].b0 > nblocks)
			jobs[i].b0 = nblocks;
		if (jobs[i].b1 > nblocks)
			jobs[i].b1 = nblocks;
	}
	started = 0;
	for (i = 1; i < nt; i++) {
		if (pthread_create(&tid[i], NULL, sig_thread, &jobs[i]) != 0)
			break;
		started = i;
	}
	/* Threads that could not start: this one does their share. */
	for (i = started + 1; i < nt; i++)
		sig_thread(&jobs[i]);
	sig_thread(&jobs[0]);
	for (i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < nt; i++) {
		if (jobs[i].err == -1) {
			iwm_seterr("file changed while being signed");
			return -1;
		}
		if (jobs[i].err != 0) {
			errno = jobs[i].err;
			iwm_seterr_errno("read");
			return -1;
		}
	}
	sig->len += total;
	sig->ptr[sig->len] = '\0';
	return 0;
}

/* --- deltas --------------------------------------------------------- */

/*
 * The source is cut into regions of whole blocks, searched by worker
 * threads in any order and written out in order as they complete; a
 * region's commands are copies of base blocks and literal ranges of
 * the source, which are read again when written.
 */
#define REGION_MIN	(16u << 20)

enum { OP_COPY, OP_LIT };
struct dop {
	int		 kind;
	uint64_t	 off;		/* base offset, or source offset */
	uint64_t	 len;
};
struct region {
	uint64_t	 start, end;
	struct dop	*ops;
	size_t		 nops, cap;
	int		 done;
	int		 err;		/* errno */
};

struct iwm_rs_delta {
	/* Another kind of signature: librsync's delta job. */
	rs_signature_t	*sig;
	rs_job_t	*job;
	rs_buffers_t	 bufs;
	char		*in;
	int		 fd;
	int		 done;

	/* BLAKE2 or XXH3 with rollsum: searched here. */
	int		 fmt;
	size_t		 block, strong;
	uint32_t	 nblocks;
	uint64_t	 base_size;	/* UINT64_MAX: unknown */
	unsigned char	*sums;		/* weak, strong per block */
	uint32_t	*table;		/* block + 1, open addressing */
	uint32_t	 tmask;
	uint64_t	 size;		/* of the source */
	struct region	*regions;
	size_t		 nregions, next, cur, curop;
	uint64_t	 litdone;	/* of the current literal */
	unsigned char	 pend[32];
	size_t		 npend, pendoff;
	int		 started, stop, hdr_sent, end_sent, cmd_sent;
	unsigned	 nthreads;
	pthread_t	 tid[RS_MAXTHREADS];
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
};

static uint32_t
thash(uint32_t weak)
{
	return (weak * 0x9e3779b1u) ^ (weak >> 15);
}

static int
load_sig(struct iwm_rs_delta *d, const unsigned char *p, size_t n)
{
	uint32_t i, tsize;
	size_t esz;

	d->block = get32(p + 4);
	d->strong = get32(p + 8);
	if (d->block == 0 || d->strong == 0 ||
	    d->strong > strong_max(d->fmt)) {
		iwm_seterr("signature from the agent: bad header");
		return -1;
	}
	esz = 4 + d->strong;
	if ((n - SIG_HDRLEN) % esz != 0 ||
	    (n - SIG_HDRLEN) / esz >= UINT32_MAX / 4) {
		iwm_seterr("signature from the agent: truncated");
		return -1;
	}
	d->nblocks = (uint32_t)((n - SIG_HDRLEN) / esz);
	d->sums = iwm_malloc(n - SIG_HDRLEN + 1);
	memcpy(d->sums, p + SIG_HDRLEN, n - SIG_HDRLEN);
	for (tsize = 16; tsize < 2 * d->nblocks; tsize *= 2)
		;
	d->tmask = tsize - 1;
	d->table = iwm_calloc(tsize, sizeof(*d->table));
	for (i = 0; i < d->nblocks; i++) {
		uint32_t h = thash(get32(d->sums + i * esz)) & d->tmask;

		while (d->table[h] != 0)
			h = (h + 1) & d->tmask;
		d->table[h] = i + 1;
	}
	return 0;
}

struct iwm_rs_delta *
iwm_rs_delta_new(const char *sigp, size_t siglen, int srcfd)
{
	struct iwm_rs_delta *d = iwm_calloc(1, sizeof(*d));
	rs_buffers_t b;
	rs_job_t *job;
	rs_result res;

	d->fd = srcfd;
	d->base_size = UINT64_MAX;
	if ((d->fmt = iwm_rs_sig_format(sigp, siglen)) != -1) {
		struct stat sb;

		if (load_sig(d, (const unsigned char *)sigp, siglen) == -1)
			goto fail;
		if (fstat(srcfd, &sb) == -1) {
			iwm_seterr_errno("stat");
			goto fail;
		}
		d->size = (uint64_t)sb.st_size;
		pthread_mutex_init(&d->mu, NULL);
		pthread_cond_init(&d->cv, NULL);
		return d;
	}
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
	d->in = iwm_malloc(RS_BUFSZ);
	return d;
fail:
	if (d->sig != NULL)
		rs_free_sumset(d->sig);
	free(d->sums);
	free(d->table);
	free(d);
	return NULL;
}

void
iwm_rs_delta_base_size(struct iwm_rs_delta *d, uint64_t size)
{
	d->base_size = size;
}

static void
add_op(struct region *r, int kind, uint64_t off, uint64_t len)
{
	struct dop *o = r->nops > 0 ? &r->ops[r->nops - 1] : NULL;

	if (len == 0)
		return;
	if (o != NULL && o->kind == kind && o->off + o->len == off) {
		o->len += len;
		return;
	}
	if (r->nops == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->ops = iwm_reallocarray(r->ops, r->cap, sizeof(*r->ops));
	}
	r->ops[r->nops++] = (struct dop){ kind, off, len };
}

/*
 * The base block whose sums are WEAK and the strong sum of P[0..LEN),
 * preferring PREFER (the block after the last copy); -1 if none.
 */
static int64_t
find_block(struct iwm_rs_delta *d, uint32_t weak, const unsigned char *p,
    size_t len, uint32_t prefer)
{
	size_t esz = 4 + d->strong;
	unsigned char st[STRONG_MAX];
	int have = 0;
	uint32_t h, e;
	int64_t found = -1;

	if (prefer < d->nblocks &&
	    get32(d->sums + (size_t)prefer * esz) == weak) {
		strong_sum(d->fmt, p, len, st, d->strong);
		have = 1;
		if (memcmp(st, d->sums + (size_t)prefer * esz + 4,
		    d->strong) == 0)
			return prefer;
	}
	for (h = thash(weak) & d->tmask; (e = d->table[h]) != 0;
	    h = (h + 1) & d->tmask) {
		const unsigned char *s = d->sums + (size_t)(e - 1) * esz;

		if (get32(s) != weak || e - 1 == prefer)
			continue;
		if (!have) {
			strong_sum(d->fmt, p, len, st, d->strong);
			have = 1;
		}
		if (memcmp(st, s + 4, d->strong) == 0) {
			found = e - 1;
			break;
		}
	}
	return found;
}

/* Length of base block I: the last one may be short. */
static size_t
block_len(const struct iwm_rs_delta *d, uint32_t i)
{
	if (i + 1 == d->nblocks && d->base_size != UINT64_MAX &&
	    d->base_size > (uint64_t)i * d->block &&
	    d->base_size - (uint64_t)i * d->block < d->block)
		return (size_t)(d->base_size - (uint64_t)i * d->block);
	return d->block;
}

static void
search_region(struct iwm_rs_delta *d, struct region *r, unsigned char *buf,
    size_t bufcap)
{
	const size_t B = d->block;
	uint64_t bufoff = r->start, lit = r->start, pos = r->start;
	size_t buflen = 0;
	uint32_t prefer = UINT32_MAX;
	struct rollsum rs;
	int fresh = 1;
	uint32_t shortb = UINT32_MAX;
	size_t shortlen = 0;

	if (d->nblocks > 0 && block_len(d, d->nblocks - 1) < B) {
		shortb = d->nblocks - 1;
		shortlen = block_len(d, shortb);
	}
	while (!d->stop) {
		size_t at;

		/* Keep [pos, pos + B] in the buffer. */
		if (pos + B + 1 > bufoff + buflen && bufoff + buflen < r->end) {
			size_t keep = (size_t)(bufoff + buflen - pos), want;
			ssize_t got;

			memmove(buf, buf + (pos - bufoff), keep);
			bufoff = pos;
			buflen = keep;
			want = bufcap - buflen;
			if (want > r->end - (bufoff + buflen))
				want = (size_t)(r->end - (bufoff + buflen));
			got = preadfull(d->fd, buf + buflen, want,
			    bufoff + buflen);
			if (got == -1 || (size_t)got != want) {
				r->err = got == -1 ? errno : EIO;
				return;
			}
			buflen += want;
		}
		at = (size_t)(pos - bufoff);
		/* The short last block, right after the block before it. */
		if (prefer == shortb && pos + shortlen <= r->end &&
		    find_block(d, weak_sum(buf + at, shortlen), buf + at,
		    shortlen, shortb) == shortb) {
			add_op(r, OP_LIT, lit, pos - lit);
			add_op(r, OP_COPY, (uint64_t)shortb * B, shortlen);
			pos += shortlen;
			lit = pos;
			prefer = UINT32_MAX;
			fresh = 1;
			continue;
		}
		if (pos + B > r->end)
			break;
		if (fresh) {
			roll_init(&rs, buf + at, B);
			fresh = 0;
		}
		{
			int64_t b = find_block(d, roll_digest(&rs), buf + at, B,
			    prefer);

			if (b >= 0 && block_len(d, (uint32_t)b) == B) {
				add_op(r, OP_LIT, lit, pos - lit);
				add_op(r, OP_COPY, (uint64_t)b * B, B);
				pos += B;
				lit = pos;
				prefer = (uint32_t)b + 1;
				fresh = 1;
				continue;
			}
		}
		if (pos + B >= r->end) {
			pos++;
			break;
		}
		roll_rotate(&rs, buf[at], buf[at + B], (uint32_t)B);
		pos++;
		prefer = UINT32_MAX;
	}
	add_op(r, OP_LIT, lit, r->end - lit);
}

static void *
delta_thread(void *arg)
{
	struct iwm_rs_delta *d = arg;
	size_t bufcap = d->block * 2 + RS_BUFSZ * 4;
	unsigned char *buf = iwm_malloc(bufcap);

	for (;;) {
		struct region *r;

		pthread_mutex_lock(&d->mu);
		if (d->stop || d->next == d->nregions) {
			pthread_mutex_unlock(&d->mu);
			break;
		}
		r = &d->regions[d->next++];
		pthread_mutex_unlock(&d->mu);
		search_region(d, r, buf, bufcap);
		pthread_mutex_lock(&d->mu);
		r->done = 1;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
	}
	free(buf);
	return NULL;
}

static int
delta_start(struct iwm_rs_delta *d)
{
	uint64_t rsz, off;
	size_t i;

	d->started = 1;
	rsz = REGION_MIN / d->block * d->block;
	if (rsz < d->block * 64)
		rsz = d->block * 64;
	d->nregions = d->size == 0 ? 1 : (size_t)((d->size + rsz - 1) / rsz);
	d->regions = iwm_calloc(d->nregions, sizeof(*d->regions));
	for (i = 0, off = 0; i < d->nregions; i++, off += rsz) {
		d->regions[i].start = off < d->size ? off : d->size;
		d->regions[i].end = off + rsz < d->size ? off + rsz : d->size;
	}
	d->nthreads = ncpu();
	if (d->nthreads > d->nregions)
		d->nthreads = (unsigned)d->nregions;
	for (i = 0; i < d->nthreads; i++)
		if (pthread_create(&d->tid[i], NULL, delta_thread, d) != 0)
			break;
	d->nthreads = (unsigned)i;
	if (d->nthreads == 0)
		delta_thread(d);	/* all of it, here */
	return 0;
}

static size_t
int_width(uint64_t v)
{
	return v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffULL ? 4 : 8;
}

static int
width_code(size_t w)
{
	return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3;
}

static size_t
put_int(unsigned char *p, uint64_t v, size_t w)
{
	size_t i;

	for (i = 0; i < w; i++)
		p[i] = (unsigned char)(v >> (8 * (w - 1 - i)));
	return w;
}

/* Encode the command of OP into d->pend. */
static void
encode_op(struct iwm_rs_delta *d, const struct dop *o)
{
	unsigned char *p = d->pend;
	size_t n = 0;

	if (o->kind == OP_LIT) {
		size_t w = int_width(o->len);

		p[n++] = (unsigned char)(0x41 + width_code(w));
		n += put_int(p + n, o->len, w);
	} else {
		size_t w1 = int_width(o->off), w2 = int_width(o->len);

		p[n++] = (unsigned char)(0x45 + 4 * width_code(w1) +
		    width_code(w2));
		n += put_int(p + n, o->off, w1);
		n += put_int(p + n, o->len, w2);
	}
	d->npend = n;
	d->pendoff = 0;
}

static ssize_t
own_delta_read(struct iwm_rs_delta *d, char *out, size_t len)
{
	size_t n = 0;

	if (!d->started && delta_start(d) == -1)
		return -1;
	if (!d->hdr_sent) {
		put32(d->pend, RS_DELTA_MAGIC);
		d->npend = 4;
		d->pendoff = 0;
		d->hdr_sent = 1;
	}
	while (n < len) {
		struct region *r;
		struct dop *o;

		if (d->pendoff < d->npend) {
			size_t k = d->npend - d->pendoff;

			if (k > len - n)
				k = len - n;
			memcpy(out + n, d->pend + d->pendoff, k);
			d->pendoff += k;
			n += k;
			continue;
		}
		if (d->cur == d->nregions) {
			if (d->end_sent)
				break;
			d->pend[0] = 0;		/* RS_OP_END */
			d->npend = 1;
			d->pendoff = 0;
			d->end_sent = 1;
			continue;
		}
		r = &d->regions[d->cur];
		if (!r->done) {
			if (n > 0)	/* hand back what there is first */
				break;
			pthread_mutex_lock(&d->mu);
			while (!r->done)
				pthread_cond_wait(&d->cv, &d->mu);
			pthread_mutex_unlock(&d->mu);
		}
		if (r->err != 0) {
			errno = r->err;
			iwm_seterr_errno("read");
			return -1;
		}
		if (d->curop == r->nops) {
			d->cur++;
			d->curop = 0;
			continue;
		}
		o = &r->ops[d->curop];
		if (!d->cmd_sent) {
			encode_op(d, o);
			d->cmd_sent = 1;
			d->litdone = 0;
			continue;
		}
		if (o->kind == OP_LIT && d->litdone < o->len) {
			size_t k = len - n;
			ssize_t got;

			if (k > o->len - d->litdone)
				k = (size_t)(o->len - d->litdone);
			got = preadfull(d->fd, out + n, k, o->off + d->litdone);
			if (got == -1) {
				iwm_seterr_errno("read");
				return -1;
			}
			if ((size_t)got != k) {
				iwm_seterr("source file shrank while being "
				    "sent");
				return -1;
			}
			n += k;
			d->litdone += k;
			continue;
		}
		d->curop++;
		d->cmd_sent = 0;
	}
	return (ssize_t)n;
}

static ssize_t
lib_delta_read(struct iwm_rs_delta *d, char *out, size_t len)
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

ssize_t
iwm_rs_delta_read(struct iwm_rs_delta *d, char *out, size_t len)
{
	return d->sums != NULL ? own_delta_read(d, out, len) :
	    lib_delta_read(d, out, len);
}

void
iwm_rs_delta_free(struct iwm_rs_delta *d)
{
	size_t i;

	if (d == NULL)
		return;
	if (d->sums != NULL) {
		pthread_mutex_lock(&d->mu);
		d->stop = 1;
		pthread_mutex_unlock(&d->mu);
		for (i = 0; i < d->nthreads; i++)
			pthread_join(d->tid[i], NULL);
		for (i = 0; i < d->nregions; i++)
			free(d->regions[i].ops);
		free(d->regions);
		free(d->sums);
		free(d->table);
		pthread_mutex_destroy(&d->mu);
		pthread_cond_destroy(&d->cv);
	} else {
		rs_job_free(d->job);
		rs_free_sumset(d->sig);
		free(d->in);
	}
	free(d);
}

/* --- signatures of uploads, as they stream in ----------------------- */

struct iwm_rs_signer {
	int		 fmt;
	uint64_t	 size, fed;
	size_t		 block, strong, have;
	unsigned char	*part;		/* the block being filled */
	struct iwm_buf	 sig;
};

struct iwm_rs_signer *
iwm_rs_signer_new(uint64_t size, int fmt)
{
	struct iwm_rs_signer *g;
	rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
	size_t block = 0, strong = (size_t)-1;
	unsigned char hdr[SIG_HDRLEN];

	if (rs_sig_args((rs_long_t)size, &magic, &block, &strong) != RS_DONE ||
	    block == 0 || strong == 0 || strong > strong_max(fmt))
		return NULL;
	g = iwm_calloc(1, sizeof(*g));
	g->fmt = fmt;
	g->size = size;
	g->block = block;
	g->strong = strong;
	g->part = iwm_malloc(block);
	put32(hdr, sig_magic(fmt));
	put32(hdr + 4, (uint32_t)block);
	put32(hdr + 8, (uint32_t)strong);
	iwm_buf_add(&g->sig, hdr, sizeof(hdr));
	return g;
}

static void
signer_block(struct iwm_rs_signer *g, const unsigned char *p, size_t n)
{
	unsigned char e[4 + STRONG_MAX];

	put32(e, weak_sum(p, n));
	strong_sum(g->fmt, p, n, e + 4, g->strong);
	iwm_buf_add(&g->sig, e, 4 + g->strong);
}

void
iwm_rs_signer_feed(struct iwm_rs_signer *g, const void *data, size_t n)
{
	const unsigned char *p = data;

	g->fed += n;
	if (g->fed > g->size)
		return;		/* refused by _end */
	while (n > 0) {
		size_t k;

		if (g->have == 0 && n >= g->block) {
			signer_block(g, p, g->block);
			p += g->block;
			n -= g->block;
			continue;
		}
		k = g->block - g->have;
		if (k > n)
			k = n;
		memcpy(g->part + g->have, p, k);
		g->have += k;
		p += k;
		n -= k;
		if (g->have == g->block) {
			signer_block(g, g->part, g->block);
			g->have = 0;
		}
	}
}

int
iwm_rs_signer_end(struct iwm_rs_signer *g, struct iwm_buf *sig)
{
	if (g->fed != g->size)
		return -1;
	if (g->have > 0)
		signer_block(g, g->part, g->have);
	g->have = 0;
	iwm_buf_add(sig, g->sig.ptr, g->sig.len);
	return 0;
}

void
iwm_rs_signer_free(struct iwm_rs_signer *g)
{
	if (g == NULL)
		return;
	free(g->part);
	iwm_buf_free(&g->sig);
	free(g);
}

/* --- patches -------------------------------------------------------- */

/*
 * librsync's delta format, applied here: copies go from the base to
 * the output in the kernel (copy_file_range) where it can, and are
 * remembered, so that the new file's signature can reuse the base's
 * sums of the blocks that were copied whole and in step.
 */
#define MAX_COPIES	(1u << 20)

struct pcopy {
	uint64_t	 out, base, len;
};

/* A whole-file check sum being computed (kind 0: none). */
struct wsum {
	int		 kind;
	EVP_MD_CTX	*md;
	XXH3_state_t	*xx;
};

struct iwm_rs_patch {
	int		 basefd;
	struct iwm_fput	*out;
	char		*obuf;
	uint64_t	 written;
	int		 state;		/* P_MAGIC ... */
	unsigned char	 cmd[17];
	size_t		 ncmd, need;
	uint64_t	 litleft;
	struct pcopy	*copies;
	size_t		 ncopies, capcopies;
	int		 untracked;	/* too many copies to remember */
	/*
	 * The whole-file check: a thread hashes the output (SHA-256) as
	 * it is written, reading it back behind the writer, so that
	 * copies stay in the kernel and the hash uses another core.
	 */
	struct wsum	 ws;		/* kind 0: no check */
	pthread_t	 hth;
	pthread_mutex_t	 hmu;
	pthread_cond_t	 hcv;
	int		 hfd;
	uint64_t	 hpub;		/* bytes written so far */
	uint64_t	 hashed;
	int		 hend, hstop, herr;
};

enum { P_MAGIC, P_OP, P_ARGS, P_LIT, P_END };

static void	 hash_publish(struct iwm_rs_patch *);

static int
patch_copy(struct iwm_rs_patch *p, uint64_t pos, uint64_t len)
{
	uint64_t left = len, at = pos;
	int kernel = 1;

	if (!p->untracked) {
		struct pcopy *c = p->ncopies > 0 ?
		    &p->copies[p->ncopies - 1] : NULL;

		if (c != NULL && c->out + c->len == p->written &&
		    c->base + c->len == pos)
			c->len += len;
		else if (p->ncopies == MAX_COPIES)
			p->untracked = 1;
		else {
			if (p->ncopies == p->capcopies) {
				p->capcopies = p->capcopies ?
				    2 * p->capcopies : 64;
				p->copies = iwm_reallocarray(p->copies,
				    p->capcopies, sizeof(*p->copies));
			}
			p->copies[p->ncopies++] =
			    (struct pcopy){ p->written, pos, len };
		}
	}
	while (left > 0) {
		ssize_t n;

		if (kernel) {
			loff_t off = (loff_t)at;

			n = copy_file_range(p->basefd, &off, p->out->fd, NULL,
			    left > (1u << 30) ? (1u << 30) : (size_t)left, 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EXDEV || errno == EINVAL ||
			    errno == ENOSYS || errno == EOPNOTSUPP ||
			    errno == EBADF)) {
				kernel = 0;
				continue;
			}
		} else {
			size_t k = left > RS_BUFSZ ? RS_BUFSZ : (size_t)left;

			n = preadfull(p->basefd, p->obuf, k, at);
			if (n > 0 && iwm_fput_write(p->out, p->obuf,
			    (size_t)n) == -1) {
				iwm_seterr_errno("write");
				return -1;
			}
		}
		if (n == -1) {
			iwm_seterr_errno("copy from the base");
			return -1;
		}
		if (n == 0) {
			iwm_seterr("librsync patch: copy beyond the base");
			return -1;
		}
		at += (uint64_t)n;
		left -= (uint64_t)n;
		p->written += (uint64_t)n;
		hash_publish(p);
	}
	return 0;
}

static uint64_t
get_int(const unsigned char *c, size_t w)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < w; i++)
		v = v << 8 | c[i];
	return v;
}

struct iwm_rs_patch *
iwm_rs_patch_new(int basefd, struct iwm_fput *out)
{
	struct iwm_rs_patch *p = iwm_calloc(1, sizeof(*p));

	p->basefd = basefd;
	p->out = out;
	p->hfd = -1;
	p->obuf = iwm_malloc(RS_BUFSZ);
	p->state = P_MAGIC;
	p->need = 4;
	return p;
}

/* The argument bytes after opcode OP; -1 for a reserved one. */
static int
op_args(unsigned op)
{
	static const int w[4] = { 1, 2, 4, 8 };

	if (op >= 0x01 && op <= 0x40)
		return 0;
	if (op >= 0x41 && op <= 0x44)
		return w[op - 0x41];
	if (op >= 0x45 && op <= 0x54)
		return w[(op - 0x45) / 4] + w[(op - 0x45) % 4];
	return -1;
}

static int
patch_command(struct iwm_rs_patch *p)
{
	static const int w[4] = { 1, 2, 4, 8 };
	unsigned op = p->cmd[0];

	if (op >= 0x01 && op <= 0x40) {
		p->litleft = op;
		p->state = P_LIT;
	} else if (op >= 0x41 && op <= 0x44) {
		p->litleft = get_int(p->cmd + 1, (size_t)w[op - 0x41]);
		p->state = P_LIT;
	} else {
		size_t w1 = (size_t)w[(op - 0x45) / 4];
		size_t w2 = (size_t)w[(op - 0x45) % 4];

		if (patch_copy(p, get_int(p->cmd + 1, w1),
		    get_int(p->cmd + 1 + w1, w2)) == -1)
			return -1;
		p->state = P_OP;
	}
	if (p->state == P_LIT && p->litleft == 0)
		p->state = P_OP;
	return 0;
}

int
iwm_rs_patch_feed(struct iwm_rs_patch *p, const char *in, size_t n, int eof)
{
	const unsigned char *c = (const unsigned char *)in;

	while (n > 0) {
		size_t k;
		int a;

		switch (p->state) {
		case P_MAGIC:
		case P_ARGS:
			k = p->need - p->ncmd;
			if (k > n)
				k = n;
			memcpy(p->cmd + p->ncmd, c, k);
			p->ncmd += k;
			c += k;
			n -= k;
			if (p->ncmd < p->need)
				break;
			if (p->state == P_MAGIC) {
				if (get32(p->cmd) != RS_DELTA_MAGIC) {
					iwm_seterr("librsync patch: not a "
					    "delta");
					return -1;
				}
				p->state = P_OP;
			} else if (patch_command(p) == -1)
				return -1;
			break;
		case P_OP:
			p->cmd[0] = *c++;
			n--;
			if (p->cmd[0] == 0) {
				p->state = P_END;
				break;
			}
			if ((a = op_args(p->cmd[0])) < 0) {
				iwm_seterr("librsync patch: bad command "
				    "0x%02x", p->cmd[0]);
				return -1;
			}
			p->ncmd = 1;
			p->need = 1 + (size_t)a;
			p->state = P_ARGS;
			if (a == 0 && patch_command(p) == -1)
				return -1;
			break;
		case P_LIT:
			k = p->litleft < n ? (size_t)p->litleft : n;
			if (iwm_fput_write(p->out, c, k) == -1) {
				iwm_seterr_errno("write");
				return -1;
			}
			p->written += k;
			hash_publish(p);
			p->litleft -= k;
			c += k;
			n -= k;
			if (p->litleft == 0)
				p->state = P_OP;
			break;
		case P_END:
			iwm_seterr("librsync patch: data after the end");
			return -1;
		}
	}
	if (eof && p->state != P_END) {
		iwm_seterr("librsync patch: delta ends early");
		return -1;
	}
	return 0;
}

uint64_t
iwm_rs_patch_written(const struct iwm_rs_patch *p)
{
	return p->written;
}

/*
 * The signature of the patched file (NEWFD, NEWSIZE bytes) from the
 * base's (BASESIG, of BASESIZE bytes): the sums of blocks copied whole
 * from block boundaries of the base to block boundaries here are the
 * base's; the rest are computed from NEWFD.  Same block length as the
 * base's.  -1 when that cannot be done (the strong sums would be too
 * short for the new size, the copies were not all remembered).
 */
int
iwm_rs_patch_sig(const struct iwm_rs_patch *p, const char *basesig,
    size_t baselen, uint64_t basesize, int newfd, uint64_t newsize,
    struct iwm_buf *out)
{
	const unsigned char *bs = (const unsigned char *)basesig;
	rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
	size_t block, strong, esz, ci = 0, want = (size_t)-1;
	uint64_t nbase, nnew, k;
	unsigned char *buf, e[4 + STRONG_MAX];
	int fmt = iwm_rs_sig_format(basesig, baselen);

	if (p->untracked || fmt == -1)
		return -1;
	block = get32(bs + 4);
	strong = get32(bs + 8);
	if (block == 0 || strong == 0 || strong > strong_max(fmt))
		return -1;
	esz = 4 + strong;
	if ((baselen - SIG_HDRLEN) % esz != 0)
		return -1;
	nbase = (baselen - SIG_HDRLEN) / esz;
	if (nbase != (basesize + block - 1) / block)
		return -1;
	/* The strong sums must still be long enough at the new size. */
	{
		size_t bl = block;

		if (rs_sig_args((rs_long_t)newsize, &magic, &bl, &want) !=
		    RS_DONE || want > strong)
			return -1;
	}
	nnew = (newsize + block - 1) / block;
	iwm_buf_grow(out, SIG_HDRLEN + (size_t)nnew * esz + 1);
	iwm_buf_add(out, bs, SIG_HDRLEN);
	buf = iwm_malloc(block);
	for (k = 0; k < nnew; k++) {
		uint64_t o = k * block, bl = newsize - o < block ?
		    newsize - o : block;
		const struct pcopy *c;

		while (ci < p->ncopies &&
		    p->copies[ci].out + p->copies[ci].len <= o)
			ci++;
		c = ci < p->ncopies ? &p->copies[ci] : NULL;
		if (bl == block && c != NULL && c->out <= o &&
		    o + block <= c->out + c->len) {
			uint64_t b = c->base + (o - c->out);

			if (b % block == 0 && b + block <= basesize) {
				iwm_buf_add(out, bs + SIG_HDRLEN +
				    (b / block) * esz, esz);
				continue;
			}
		}
		if (preadfull(newfd, buf, (size_t)bl, o) != (ssize_t)bl) {
			free(buf);
			return -1;
		}
		put32(e, weak_sum(buf, (size_t)bl));
		strong_sum(fmt, buf, (size_t)bl, e + 4, strong);
		iwm_buf_add(out, e, esz);
	}
	free(buf);
	return 0;
}

/*
 * The whole-file check of a delta: SHA-256 (OpenSSL) or XXH3 128-bit
 * (libxxhash, as rsync's whole-file checksum), in lowercase hex.  The
 * check is against accidents (a base changed after its signature), not
 * against an adversary: the connection is authenticated TLS.
 */
static const struct {
	const char	*name, *trailer;
} checks[] = {
	[IWM_CHECK_SHA256] = { "sha256", "X-Iwm-Sha256" },
	[IWM_CHECK_XXH128] = { "xxh128", "X-Iwm-Xxh128" },
};

int
iwm_check_kind(const char *name)
{
	int k;

	for (k = IWM_CHECK_SHA256; k <= IWM_CHECK_XXH128; k++)
		if (name != NULL && strcmp(name, checks[k].name) == 0)
			return k;
	return 0;
}

const char *
iwm_check_name(int kind)
{
	return checks[kind].name;
}

const char *
iwm_check_trailer(int kind)
{
	return checks[kind].trailer;
}

static int
wsum_init(struct wsum *w, int kind)
{
	w->kind = kind;
	w->md = NULL;
	w->xx = NULL;
	if (kind == IWM_CHECK_XXH128)
		return (w->xx = XXH3_createState()) != NULL &&
		    XXH3_128bits_reset(w->xx) == XXH_OK ? 0 : -1;
	return (w->md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static void
wsum_update(struct wsum *w, const void *buf, size_t n)
{
	if (w->xx != NULL)
		(void)XXH3_128bits_update(w->xx, buf, n);
	else
		(void)EVP_DigestUpdate(w->md, buf, n);
}

static int
wsum_final(struct wsum *w, struct iwm_buf *hex)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0, i;

	if (w->xx != NULL) {
		XXH128_canonical_t c;

		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(w->xx));
		memcpy(md, c.digest, sizeof(c.digest));
		len = sizeof(c.digest);
	} else if (EVP_DigestFinal_ex(w->md, md, &len) != 1)
		return -1;
	for (i = 0; i < len; i++) {
		iwm_buf_add(hex, &hx[md[i] >> 4], 1);
		iwm_buf_add(hex, &hx[md[i] & 15], 1);
	}
	iwm_buf_add(hex, "", 1);
	hex->len--;
	return 0;
}

static void
wsum_free(struct wsum *w)
{
	EVP_MD_CTX_free(w->md);
	XXH3_freeState(w->xx);
	w->md = NULL;
	w->xx = NULL;
}

static void *
hash_thread(void *arg)
{
	struct iwm_rs_patch *p = arg;
	char *buf = iwm_malloc(RS_BUFSZ);

	pthread_mutex_lock(&p->hmu);
	for (;;) {
		uint64_t n;
		ssize_t got;

		while (p->hashed == p->hpub && !p->hend && !p->hstop)
			pthread_cond_wait(&p->hcv, &p->hmu);
		if (p->hstop || p->herr || p->hashed == p->hpub)
			break;
		n = p->hpub - p->hashed;
		pthread_mutex_unlock(&p->hmu);
		if (n > RS_BUFSZ)
			n = RS_BUFSZ;
		got = preadfull(p->hfd, buf, (size_t)n, p->hashed);
		pthread_mutex_lock(&p->hmu);
		if (got != (ssize_t)n) {
			p->herr = 1;
			break;
		}
		wsum_update(&p->ws, buf, (size_t)n);
		p->hashed += n;
	}
	pthread_mutex_unlock(&p->hmu);
	free(buf);
	return NULL;
}

/* Tell the hashing thread how far the output is written. */
static void
hash_publish(struct iwm_rs_patch *p)
{
	if (p->ws.kind == 0)
		return;
	pthread_mutex_lock(&p->hmu);
	p->hpub = p->written;
	pthread_cond_signal(&p->hcv);
	pthread_mutex_unlock(&p->hmu);
}

/* Hash everything written from now on (before the first feed). */
void
iwm_rs_patch_hash(struct iwm_rs_patch *p, int kind)
{
	if (p->ws.kind != 0)
		return;
	/* The output is open for reading too; pread(2) keeps its offset. */
	if (wsum_init(&p->ws, kind) == -1 ||
	    (p->hfd = fcntl(p->out->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		goto fail;
	pthread_mutex_init(&p->hmu, NULL);
	pthread_cond_init(&p->hcv, NULL);
	if (pthread_create(&p->hth, NULL, hash_thread, p) == 0)
		return;
	pthread_mutex_destroy(&p->hmu);
	pthread_cond_destroy(&p->hcv);
	close(p->hfd);
	p->hfd = -1;
fail:
	wsum_free(&p->ws);
	p->ws.kind = 0;
}

static void
hash_end(struct iwm_rs_patch *p, int stop)
{
	if (p->hfd == -1)
		return;
	pthread_mutex_lock(&p->hmu);
	p->hend = 1;
	p->hstop = stop;
	pthread_cond_signal(&p->hcv);
	pthread_mutex_unlock(&p->hmu);
	pthread_join(p->hth, NULL);
	pthread_mutex_destroy(&p->hmu);
	pthread_cond_destroy(&p->hcv);
	close(p->hfd);
	p->hfd = -1;
}

/* 1: the output's check sum is HEX; 0: it is not; -1: not hashed. */
int
iwm_rs_patch_check(struct iwm_rs_patch *p, const char *hex)
{
	struct iwm_buf b = { 0 };
	int same;

	if (p->ws.kind == 0)
		return -1;
	hash_publish(p);
	hash_end(p, 0);
	if (p->herr || p->hashed != p->written ||
	    wsum_final(&p->ws, &b) == -1) {
		iwm_buf_free(&b);
		return -1;
	}
	same = strcasecmp(b.ptr, hex) == 0;
	iwm_buf_free(&b);
	return same;
}

void
iwm_rs_patch_free(struct iwm_rs_patch *p)
{
	if (p == NULL)
		return;
	hash_end(p, 1);
	wsum_free(&p->ws);
	free(p->copies);
	free(p->obuf);
	free(p);
}

/* The check sum KIND of a whole file (the new file of a delta), in hex. */
int
iwm_file_check(int fd, int kind, const volatile int *stop,
    struct iwm_buf *hex)
{
	struct wsum w;
	char *buf = iwm_malloc(RS_BUFSZ * 4);
	uint64_t off = 0;
	ssize_t n = 0;
	int rc = -1;

	if (wsum_init(&w, kind) == -1)
		goto out;
	while (!*stop && (n = preadfull(fd, buf, RS_BUFSZ * 4, off)) > 0) {
		wsum_update(&w, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (*stop || n == -1 || wsum_final(&w, hex) == -1)
		goto out;
	rc = 0;
out:
	wsum_free(&w);
	free(buf);
	return rc;
}
