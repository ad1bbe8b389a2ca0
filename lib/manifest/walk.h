/*
 * walk.h: list a directory tree as manifest records, in manifest order
 * (entries sorted bytewise by name, depth first), holding only the
 * listings of the directories on the current path.
 */
#ifndef IWM_WALK_H
#define IWM_WALK_H

#include "manifest.h"

typedef int (*iwm_walk_cb)(void *arg, const struct iwm_rec *);

struct iwm_walk_stats {
	uint64_t files, dirs, bytes;
	uint64_t vanished;	/* entries gone between readdir and stat */
	uint64_t links;		/* symbolic links (TYPE l records) */
	uint64_t skipped;	/* devices, sockets, FIFOs ... */
	uint64_t unreadable;	/* directories that could not be read */
};

/*
 * Walk DIR (absolute, local).  Records get ROOT and paths PREFIX/name
 * (PREFIX may be "" for the top).  With SELF, DIR itself is emitted
 * first as PREFIX (which must then be non-empty).  Records carry
 * SOURCE unless NOSOURCE.  Problems with single entries are warned
 * about on stderr and counted; -1 only when CB fails or DIR is unusable.
 */
int	 iwm_walk(const char *root, const char *dir, const char *prefix,
	    int self, int nosource, iwm_walk_cb cb, void *arg,
	    struct iwm_walk_stats *);

/*
 * The same with helper threads kept from one walk to the next (a scan
 * of many mailboxes).  One walk at a time per walker.  NEXT, when not
 * NULL, names the DIR of the walk that will follow, so that the helpers
 * list it ahead while this one is emitted (a walk of another directory
 * just drops that).
 */
struct iwm_walker;
struct iwm_walker *iwm_walker_new(void);
int	 iwm_walker_walk(struct iwm_walker *, const char *root,
	    const char *dir, const char *next, const char *prefix, int self,
	    int nosource, iwm_walk_cb cb, void *arg, struct iwm_walk_stats *);
void	 iwm_walker_free(struct iwm_walker *);

#endif /* IWM_WALK_H */
