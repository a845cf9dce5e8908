/*
 * child.h - run a shell command: /bin/sh -c CMD, bounded in time.
 *
 * The user's commands (siteload's --reload-command and --check-command,
 * sitedump's --send-command) run here, one way:
 * - in a process group of their own, so the timeout reaches everything
 *   the command started (ssh, an MTA, `icinga2 daemon -C` and its
 *   workers), not only the shell: a straggler must neither hold a lock
 *   for ever nor act later. Not with own_group 0: a caller with a terminal
 *   keeps the command in its group, or a prompt (ssh's password) read
 *   from a background group would stop it;
 * - at the timeout the group gets SIGTERM and, once it is gone or
 *   grace_ms later, SIGKILL (grace 0: SIGKILL at once);
 * - the environment and signal dispositions are the caller's; stdin is
 *   the caller's, /dev/null or a given fd; stdout and stderr are the
 *   caller's unless captured (both into one pipe, read until every
 *   process holding it closed it or the time is up).
 * Exit status, signal and timeout come back apart, so each caller keeps
 * its own messages; err gets a plain one as well.
 */
#ifndef SITEDUMP_CHILD_H
#define SITEDUMP_CHILD_H
#include <stddef.h>
#include "base/error.h"

struct sd_waiter;                       /* base/deadline.h */

#define CHILD_STDIN_NULL (-1)   /* stdin from /dev/null */

struct child_opts {
	int in;                 /* an fd for its stdin (0, the default: ours), or CHILD_STDIN_NULL */
	int own_group;          /* its own process group, signalled as a whole */
	long long timeout_ms;   /* 0: no limit */
	long long grace_ms;     /* SIGTERM to SIGKILL at the timeout */
	/* capture stdout+stderr: the first cap-1 bytes into buf (NUL-ended),
	 * and every byte to out (each may be unset) */
	char *buf;
	size_t cap;
	void (*out)(void *ctx, const char *p, size_t n);
	void *ctx;
	/* told once the command has run past a second (deadline.h); what:
	 * what is waited for ("the reload command ..."); both may be unset */
	const struct sd_waiter *waiter;
	const char *what;
};

enum child_end { CHILD_EXITED, CHILD_SIGNALED, CHILD_TIMED_OUT };

struct child_result {
	enum child_end end;
	int code;               /* the exit status, or the signal */
	size_t len, total;      /* bytes in buf; bytes the command wrote */
};

/* 0: the command ran (r says how it ended; err is set unless it exited
 * 0); -1: it could not be started or waited for (err). */
int child_run(const char *cmd, const struct child_opts *o, struct child_result *r, sd_error *err);

/* 1 if there is a terminal to prompt on (then own_group is best 0). */
int child_have_tty(void);
#endif
