/*
 * auth.c: the agent's users file and password checks.
 *
 * One line per user: NAME:pbkdf2-sha256:ITERATIONS:SALT:HASH[:ROLE] with
 * SALT and HASH in base64; ROLE admin (may run actions) or copy (files
 * only), copy when absent.  PBKDF2 is slow on purpose; a successful
 * check is remembered as an HMAC of the password under a key that lives only in
 * this process, so each request of a long transfer does not pay it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "transfer.h"

#define PBKDF2_ITER	200000
#define SALT_LEN	16
#define HASH_LEN	32

struct user {
	char		*name;
	unsigned	 iter;
	unsigned char	 salt[SALT_LEN];
	unsigned char	 hash[HASH_LEN];
	unsigned char	 cached[HASH_LEN];	/* HMAC of an accepted password */
	int		 have_cached;
	int		 admin;			/* role admin */
};

struct iwm_users {
	struct user	*v;
	size_t		 n;
	unsigned char	 key[32];
	pthread_mutex_t	 mu;
};

int
iwm_user_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == '@'))
			return 0;
	}
	return 1;
}

static int
b64dec(const char *s, unsigned char *out, size_t want)
{
	unsigned char tmp[128];
	size_t n = strlen(s);
	int len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return -1;
	len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (len < 0)
		return -1;
	if (s[n - 1] == '=')
		len--;
	if (s[n - 2] == '=')
		len--;
	if ((size_t)len != want)
		return -1;
	memcpy(out, tmp, want);
	return 0;
}

static void
b64enc(struct iwm_buf *b, const unsigned char *p, size_t n)
{
	unsigned char tmp[128];
	int len = EVP_EncodeBlock(tmp, p, (int)n);

	iwm_buf_add(b, tmp, (size_t)len);
}

struct iwm_users *
iwm_users_load(const char *file)
{
	struct iwm_users *u;
	struct iwm_lines l;
	char *line;
	size_t len;
	int rc;

	if (iwm_secret_file_check(file) == -1 ||
	    iwm_lines_open(&l, file) == -1)
		return NULL;
	u = iwm_calloc(1, sizeof(*u));
	pthread_mutex_init(&u->mu, NULL);
	if (RAND_bytes(u->key, sizeof(u->key)) != 1) {
		iwm_seterr("random bytes unavailable");
		goto fail;
	}
	while ((rc = iwm_lines_next(&l, &line, &len)) == 1) {
		char *f[5], *p = line;
		struct user *e;
		char *role;
		long iter;
		int i;

		if (len == 0 || line[0] == '#')
			continue;
		for (i = 0; i < 5; i++) {
			f[i] = p;
			if (i < 4) {
				if ((p = strchr(p, ':')) == NULL)
					break;
				*p++ = '\0';
			}
		}
		if (i < 5 || strcmp(f[1], "pbkdf2-sha256") != 0 ||
		    !iwm_user_valid(f[0]) ||
		    iwm_parse_int(f[2], 1000, 100000000, &iter) == -1) {
			iwm_seterr("%s:%llu: malformed user line", file,
			    (unsigned long long)l.lineno);
			goto fail;
		}
		u->v = iwm_reallocarray(u->v, u->n + 1, sizeof(*u->v));
		e = &u->v[u->n];
		memset(e, 0, sizeof(*e));
		e->iter = (unsigned)iter;
		if ((role = strchr(f[4], ':')) != NULL) {
			*role++ = '\0';
			if (strcmp(role, "admin") != 0 &&
			    strcmp(role, "copy") != 0) {
				iwm_seterr("%s:%llu: role '%s': expected "
				    "admin or copy", file,
				    (unsigned long long)l.lineno, role);
				goto fail;
			}
			e->admin = strcmp(role, "admin") == 0;
		}
		if (b64dec(f[3], e->salt, SALT_LEN) == -1 ||
		    b64dec(f[4], e->hash, HASH_LEN) == -1) {
			iwm_seterr("%s:%llu: malformed salt or hash", file,
			    (unsigned long long)l.lineno);
			goto fail;
		}
		e->name = iwm_strdup(f[0]);
		u->n++;
	}
	if (rc == -1)
		goto fail;
	iwm_lines_close(&l);
	return u;
fail:
	iwm_lines_close(&l);
	iwm_users_free(u);
	return NULL;
}

void
iwm_users_free(struct iwm_users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++)
		free(u->v[i].name);
	OPENSSL_cleanse(u->v, u->n * sizeof(*u->v));
	free(u->v);
	pthread_mutex_destroy(&u->mu);
	OPENSSL_cleanse(u->key, sizeof(u->key));
	free(u);
}

static int
pbkdf2(const char *pass, const unsigned char *salt, unsigned iter,
    unsigned char *out)
{
	return PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), salt, SALT_LEN,
	    (int)iter, EVP_sha256(), HASH_LEN, out) == 1 ? 0 : -1;
}

/* Only the remembered HMAC: cheap, 1 for a password accepted before. */
int
iwm_users_check_cached(struct iwm_users *u, const char *user,
    const char *pass)
{
	unsigned char mac[HASH_LEN];
	unsigned int maclen = 0;
	size_t i;
	int ok = 0;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, user) == 0)
			break;
	if (i == u->n)
		return 0;
	HMAC(EVP_sha256(), u->key, sizeof(u->key), (const unsigned char *)pass,
	    strlen(pass), mac, &maclen);
	pthread_mutex_lock(&u->mu);
	ok = u->v[i].have_cached &&
	    CRYPTO_memcmp(mac, u->v[i].cached, HASH_LEN) == 0;
	pthread_mutex_unlock(&u->mu);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

int
iwm_users_check(struct iwm_users *u, const char *user, const char *pass)
{
	static const unsigned char dummy_salt[SALT_LEN];
	unsigned char mac[HASH_LEN], h[HASH_LEN];
	unsigned int maclen = 0;
	struct user *e = NULL;
	size_t i;
	int ok = 0;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, user) == 0)
			e = &u->v[i];
	if (e == NULL) {
		/* Same cost as a wrong password: no user enumeration. */
		(void)pbkdf2(pass, dummy_salt, PBKDF2_ITER, h);
		return 0;
	}
	HMAC(EVP_sha256(), u->key, sizeof(u->key), (const unsigned char *)pass,
	    strlen(pass), mac, &maclen);
	pthread_mutex_lock(&u->mu);
	ok = e->have_cached && CRYPTO_memcmp(mac, e->cached, HASH_LEN) == 0;
	pthread_mutex_unlock(&u->mu);
	if (ok)
		return 1;
	if (pbkdf2(pass, e->salt, e->iter, h) == -1)
		return 0;
	ok = CRYPTO_memcmp(h, e->hash, HASH_LEN) == 0;
	if (ok) {
		pthread_mutex_lock(&u->mu);
		memcpy(e->cached, mac, HASH_LEN);
		e->have_cached = 1;
		pthread_mutex_unlock(&u->mu);
	}
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

/*
 * Failed logins per client address.  The first IWM_FAIL_FREE failures
 * in a row cost only their delay; each one after that makes the
 * address wait twice as long before its next login is checked (2 s,
 * 4 s ... IWM_FAIL_MAX s).  A success, or an hour without a failure,
 * forgets the address.  When the table is full the entry whose last
 * failure is oldest makes room.  The caller serializes the calls.
 */
#define FAIL_SLOTS	512
#define FAIL_FORGET	3600.0

struct failent {
	char		 addr[64];
	unsigned	 count;
	double		 last;		/* time of the last failure */
	double		 until;		/* next login checked from then on */
};

struct iwm_failtab {
	struct failent	 v[FAIL_SLOTS];
};

struct iwm_failtab *
iwm_failtab_new(void)
{
	return iwm_calloc(1, sizeof(struct iwm_failtab));
}

void
iwm_failtab_free(struct iwm_failtab *t)
{
	free(t);
}

static struct failent *
fail_find(struct iwm_failtab *t, const char *addr, double now)
{
	size_t i;

	for (i = 0; i < FAIL_SLOTS; i++)
		if (t->v[i].count > 0 && strcmp(t->v[i].addr, addr) == 0) {
			if (now - t->v[i].last > FAIL_FORGET &&
			    now >= t->v[i].until) {
				memset(&t->v[i], 0, sizeof(t->v[i]));
				return NULL;
			}
			return &t->v[i];
		}
	return NULL;
}

double
iwm_fail_wait(struct iwm_failtab *t, const char *addr, double now)
{
	struct failent *e = fail_find(t, addr, now);

	return e != NULL && e->until > now ? e->until - now : 0;
}

double
iwm_fail_add(struct iwm_failtab *t, const char *addr, double now,
    unsigned *count)
{
	struct failent *e = fail_find(t, addr, now);
	double wait = 0;
	size_t i;

	if (e == NULL) {
		e = &t->v[0];
		for (i = 0; i < FAIL_SLOTS; i++) {
			if (t->v[i].count == 0) {
				e = &t->v[i];
				break;
			}
			if (t->v[i].last < e->last)
				e = &t->v[i];
		}
		memset(e, 0, sizeof(*e));
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
	}
	e->count++;
	e->last = now;
	if (e->count > IWM_FAIL_FREE) {
		unsigned k = e->count - IWM_FAIL_FREE;

		wait = k >= 9 ? IWM_FAIL_MAX : (double)(1u << k);
		if (wait > IWM_FAIL_MAX)
			wait = IWM_FAIL_MAX;
		e->until = now + wait;
	}
	*count = e->count;
	return wait;
}

void
iwm_fail_clear(struct iwm_failtab *t, const char *addr)
{
	struct failent *e = fail_find(t, addr, 0);

	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

int
iwm_users_admin(struct iwm_users *u, const char *user)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, user) == 0)
			return u->v[i].admin;
	return 0;
}

/* Rewrite FILE with USER's line replaced or added (temp + rename). */
int
iwm_users_add(const char *file, const char *user, const char *pass,
    const char *role)
{
	unsigned char salt[SALT_LEN], h[HASH_LEN];
	struct iwm_buf out = { 0 }, tmp = { 0 };
	struct iwm_lines l;
	char *line;
	size_t len, ulen = strlen(user);
	int rc = -1, fd = -1, r;

	if (!iwm_user_valid(user)) {
		iwm_seterr("user name '%s': letters, digits, . - _ @ only",
		    user);
		return -1;
	}
	if (access(file, F_OK) == 0) {
		if (iwm_lines_open(&l, file) == -1)
			goto done;
		while ((r = iwm_lines_next(&l, &line, &len)) == 1) {
			if (len > ulen && memcmp(line, user, ulen) == 0 &&
			    line[ulen] == ':') {
				/* A new password keeps the old role. */
				if (role == NULL && len > 6 &&
				    strcmp(line + len - 6, ":admin") == 0)
					role = "admin";
				continue;
			}
			iwm_buf_add(&out, line, len);
			iwm_buf_addc(&out, '\n');
		}
		iwm_lines_close(&l);
		if (r == -1)
			goto done;
	}
	if (RAND_bytes(salt, SALT_LEN) != 1 ||
	    pbkdf2(pass, salt, PBKDF2_ITER, h) == -1) {
		iwm_seterr("PBKDF2 failed");
		goto done;
	}
	iwm_buf_printf(&out, "%s:pbkdf2-sha256:%u:", user, PBKDF2_ITER);
	b64enc(&out, salt, SALT_LEN);
	iwm_buf_addc(&out, ':');
	b64enc(&out, h, HASH_LEN);
	iwm_buf_printf(&out, ":%s\n", role != NULL ? role : "copy");
	iwm_buf_printf(&tmp, "%s.tmpXXXXXX", file);
	if ((fd = mkstemp(tmp.ptr)) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		goto done;
	}
	if (fchmod(fd, 0600) == -1 ||
	    write(fd, out.ptr, out.len) != (ssize_t)out.len ||
	    fsync(fd) == -1) {
		iwm_seterr_errno("%s", tmp.ptr);
		unlink(tmp.ptr);
		goto done;
	}
	if (rename(tmp.ptr, file) == -1) {
		iwm_seterr_errno("%s", file);
		unlink(tmp.ptr);
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	OPENSSL_cleanse(h, sizeof(h));
	iwm_buf_free(&out);
	iwm_buf_free(&tmp);
	return rc;
}

char *
iwm_read_password(void)
{
	struct termios old, noecho;
	struct iwm_buf b = { 0 };
	int tty = isatty(STDIN_FILENO), c;

	if (tty) {
		fputs("Password: ", stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		} else
			tty = 0;
	}
	while ((c = getchar()) != EOF && c != '\n')
		iwm_buf_addc(&b, c);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (b.len > 0 && b.ptr[b.len - 1] == '\r')
		b.ptr[--b.len] = '\0';
	if (b.len == 0) {
		iwm_buf_free(&b);
		iwm_seterr("empty password");
		return NULL;
	}
	return iwm_buf_steal(&b);
}
