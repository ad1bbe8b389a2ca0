/*
 * http.h: what the agent's request handlers (serve.c, actions.c) share:
 * plain-text answers, the client's address, HTTP Basic credentials.
 */
#ifndef IWM_HTTP_H
#define IWM_HTTP_H

#include <stddef.h>

#include <microhttpd.h>

#include "iwm.h"

/* Queue B (taken) as the answer; a 401 also asks for Basic credentials. */
enum MHD_Result iwm_http_send(struct MHD_Connection *, unsigned status,
	    struct iwm_buf *b, const char *ctype);
/* A one-line text answer "STATUS message". */
enum MHD_Result iwm_http_reply(struct MHD_Connection *, unsigned status,
	    const char *fmt, ...) IWM_PRINTF(3, 4);
/* A line "iwm-serve: message" on the agent's log, in one write. */
void	 iwm_http_log(const char *fmt, ...) IWM_PRINTF(1, 2);
/* The client's numeric address, or "?". */
void	 iwm_http_peer(struct MHD_Connection *, char *host, size_t len);
/*
 * The request's Basic credentials: 0 with *USER and *PASS allocated
 * (wipe the password with OPENSSL_cleanse before freeing it), -1 when
 * there are none or they are malformed.
 */
int	 iwm_http_basic(struct MHD_Connection *, char **user, char **pass);

#endif
