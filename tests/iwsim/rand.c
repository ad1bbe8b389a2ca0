/*
 * rand.c: seeded PRNG. xoshiro256** seeded through splitmix64; every mailbox
 * gets its own stream so the tree does not depend on the order it is built in.
 * No libm: the build links only -lsqlite3.
 */
#include "iwsim.h"

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rand_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rand_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t
rand_below(struct rng *r, uint64_t n)
{
	return n ? rand_next(r) % n : 0;
}

double
rand_unit(struct rng *r)
{
	return (double)(rand_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* exp(x) by range halving and a Taylor series: plenty for message sizes. */
static double
rand_exp(double x)
{
	int halvings = 0;
	double term = 1.0, sum = 1.0;

	while (x > 0.5 || x < -0.5) {
		x /= 2;
		halvings++;
	}
	for (int i = 1; i < 20; i++) {
		term *= x / i;
		sum += term;
	}
	while (halvings-- > 0)
		sum *= sum;
	return sum;
}

/* Log-normal size around MEDIAN; the normal deviate is Irwin-Hall (12 uniforms). */
size_t
rand_lognormal(struct rng *r, double median, double sigma)
{
	double z = -6.0, v;

	for (int i = 0; i < 12; i++)
		z += rand_unit(r);
	v = median * rand_exp(sigma * z);
	if (v > median * 200)
		v = median * 200;
	return v < 1 ? 1 : (size_t)v;
}
