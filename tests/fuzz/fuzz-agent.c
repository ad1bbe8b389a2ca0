/*
 * fuzz-agent: the agent itself.  iwm-serve runs in this process (plain
 * HTTP on 127.0.0.1, one root in a temporary directory, --max-body
 * 64k) and each input is sent as raw bytes on a new connection:
 * request line, paths, headers, credentials, batch framing, chunked
 * bodies.  Each connection comes from its own 127.x.y.z address so
 * that the failed-login back-off of one input does not hold back the
 * next.  The seeds log in as fuzz:fuzz (ZnV6ejpmdXp6).  Nothing may be
 * written outside the root (checked by the sanitizers and by a
 * sentinel file beside it).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "transfer.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);

static struct iwm_serve_opts o;
static struct iwm_serve_root root;
static char base[64] = "/tmp/iwm-fuzz-agent.XXXXXX";
static char sentinel[128];
static int port;
static unsigned seq;

static void *
agent(void *arg)
{
	if (iwm_serve_run(&o) == -1) {
		fprintf(stderr, "fuzz-agent: %s\n", iwm_err());
		abort();
	}
	return NULL;
}

/* A users file for fuzz:fuzz with few iterations: checks stay cheap. */
static void
users(const char *file)
{
	static const unsigned char salt[16] = "iwm-fuzz-salt-16";
	unsigned char h[32], b64[64];
	FILE *f;

	PKCS5_PBKDF2_HMAC("fuzz", 4, salt, 16, 1000, EVP_sha256(), 32, h);
	if ((f = fopen(file, "w")) == NULL)
		abort();
	fprintf(f, "fuzz:pbkdf2-sha256:1000:");
	EVP_EncodeBlock(b64, salt, 16);
	fprintf(f, "%s:", b64);
	EVP_EncodeBlock(b64, h, 32);
	fprintf(f, "%s\n", b64);
	fclose(f);
	if (chmod(file, 0600) == -1)	/* the agent wants it private */
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char ufile[128], dir[128], ready[128];
	pthread_t t;
	FILE *f;
	int i, p = 0;

	if (mkdtemp(base) == NULL)
		abort();
	snprintf(ufile, sizeof(ufile), "%s/users", base);
	snprintf(dir, sizeof(dir), "%s/root", base);
	snprintf(ready, sizeof(ready), "%s/ready", base);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
	users(ufile);
	if ((f = fopen(sentinel, "w")) == NULL)
		abort();
	fclose(f);
	iwm_setprogname("fuzz-agent");
	root.name = "mail";
	root.dir = dir;
	root.fd = -1;
	o.listen = "127.0.0.1:0";
	o.users = ufile;
	o.ready_file = ready;
	o.roots = &root;
	o.nroots = 1;
	o.insecure_http = 1;
	o.threads = 2;
	o.max_conns = 64;
	o.max_per_addr = 16;
	o.timeout = 5;
	o.max_body = 64 * 1024;
	if (pthread_create(&t, NULL, agent, NULL) != 0)
		abort();
	for (i = 0; i < 200 && p == 0; i++) {
		char url[128] = "";

		usleep(20000);
		if ((f = fopen(ready, "r")) == NULL)
			continue;
		if (fgets(url, sizeof(url), f) != NULL &&
		    strrchr(url, ':') != NULL)
			p = (int)strtol(strrchr(url, ':') + 1, NULL, 10);
		fclose(f);
	}
	if (p == 0)
		abort();
	port = p;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sockaddr_in me, sa;
	struct pollfd pfd;
	struct stat sb;
	char buf[4096];
	size_t off = 0;
	unsigned k = ++seq;
	int fd, idle = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(0x7f000000u | ((k % 0xfffffeu) + 1));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return 0;
	}
	while (off < n) {
		ssize_t w = send(fd, d + off, n - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	/* The answer, until the agent closes or stays quiet 40 ms (a
	 * failed login is answered a second later: not waited for). */
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (idle < 2) {
		int r = poll(&pfd, 1, 20);

		if (r == 0) {
			idle++;
			continue;
		}
		if (r < 0 || recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
		idle = 0;
	}
	close(fd);
	if (stat(sentinel, &sb) == -1 || sb.st_size != 0)
		abort();	/* something reached outside the root */
	return 0;
}
