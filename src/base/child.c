/* child.c - run a shell command, bounded in time (child.h says why so). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/child.h"
#include "base/deadline.h"

extern char **environ;

/* One run: the command, its output pipe (-1 once closed), its status. */
struct run {
	const struct child_opts *o;
	struct child_result *r;
	pid_t pid, target;
	int fd, st, reaped, fired;
	struct sd_deadline dl, kill_dl;
	long nap_ns;
};

int child_have_tty(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int spawn_actions(posix_spawn_file_actions_t *fa, const struct child_opts *o, int outfd)
{
	int rc = 0;

	if (o->in == CHILD_STDIN_NULL)
		rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	else if (o->in > 0)
		rc = posix_spawn_file_actions_adddup2(fa, o->in, 0);
	if (rc == 0 && outfd >= 0)
		rc = posix_spawn_file_actions_adddup2(fa, outfd, 1);
	if (rc == 0 && outfd >= 0)
		rc = posix_spawn_file_actions_adddup2(fa, outfd, 2);
	return rc;
}

/* posix_spawn, not fork: no copy of a large process, and the group is
 * set before the exec (a fork's child would race the parent's kill). */
static int spawn(const char *cmd, const struct child_opts *o, int outfd, pid_t *pid)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	rc = spawn_actions(&fa, o, outfd);
	if (rc == 0 && o->own_group)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	if (rc == 0 && o->own_group)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (rc == 0)
		rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

static void take(struct run *w, const char *p, size_t n)
{
	const struct child_opts *o = w->o;
	size_t room = o->cap > w->r->len + 1 ? o->cap - w->r->len - 1 : 0;

	if (o->buf && room) {
		memcpy(o->buf + w->r->len, p, n < room ? n : room);
		w->r->len += n < room ? n : room;
		o->buf[w->r->len] = '\0';
	}
	w->r->total += n;
	if (o->out)
		o->out(o->ctx, p, n);
}

/* Wait up to ms for output and take it; the pipe closes at its end. */
static void drain(struct run *w, int ms)
{
	struct pollfd pf = { .fd = w->fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	if (poll(&pf, 1, ms) <= 0 || !(pf.revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if ((n = read(w->fd, buf, sizeof(buf))) > 0)
		take(w, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(w->fd);
		w->fd = -1;
	}
}

/* Sleep a little (1 ms, doubling to 50 ms), reading output meanwhile. */
static void pause_run(struct run *w)
{
	struct timespec nap = { 0, w->nap_ns };

	if (w->fd >= 0)
		drain(w, (int)(w->nap_ns / 1000000));
	else
		nanosleep(&nap, NULL);
	if (w->nap_ns < 50000000)
		w->nap_ns *= 2;
}

/* Reap the shell if it ended (block: no output to read and no limit). */
static int reap(struct run *w)
{
	int block = w->fd < 0 && w->o->timeout_ms <= 0;
	pid_t x;

	while (!w->reaped) {
		if ((x = waitpid(w->pid, &w->st, block ? 0 : WNOHANG)) == w->pid)
			w->reaped = 1;
		else if (x == 0)
			return 0;
		else if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* The time is up: SIGTERM, then SIGKILL when the group is gone or the
 * grace is over. 1 once the run is finished, -1 waitpid failed. */
static int stop(struct run *w)
{
	if (!w->fired) {
		w->fired = 1;
		sd_deadline_start(&w->kill_dl, w->o->grace_ms);
		if (w->o->grace_ms > 0) {
			kill(w->target, SIGTERM);
			return 0;
		}
	} else if (!sd_deadline_over(&w->kill_dl) &&
		   !(w->reaped && (!w->o->own_group || kill(w->target, 0) < 0)))
		return 0;
	kill(w->target, SIGKILL);
	while (!w->reaped && waitpid(w->pid, &w->st, 0) < 0)
		if (errno != EINTR)
			return -1;
	w->reaped = 1;
	return 1;
}

static int watch(struct run *w)
{
	int s;

	for (;;) {
		if (reap(w) < 0)
			return -1;
		if (w->reaped && w->fd < 0 && !w->fired)
			return 0;
		if (w->fired || sd_deadline_over(&w->dl)) {
			if ((s = stop(w)) != 0)
				return s;
		}
		if (w->o->waiter && !w->fired)
			sd_deadline_notice(&w->dl, w->o->waiter, "%s", w->o->what ? w->o->what : "a command");
		pause_run(w);
	}
}

static int result(struct run *w, const char *cmd, sd_error *err)
{
	struct child_result *r = w->r;

	if (w->fired) {
		r->end = CHILD_TIMED_OUT;
		r->code = WIFSIGNALED(w->st) ? WTERMSIG(w->st) : WEXITSTATUS(w->st);
		return sd_fail(err, "timed out after %lld s (killed): %s", w->o->timeout_ms / 1000, cmd), 0;
	}
	if (WIFEXITED(w->st)) {
		r->end = CHILD_EXITED;
		r->code = WEXITSTATUS(w->st);
		if (r->code)
			sd_fail(err, "exited with status %d: %s", r->code, cmd);
		return 0;
	}
	r->end = CHILD_SIGNALED;
	r->code = WTERMSIG(w->st);
	return sd_fail(err, "killed by signal %d: %s", r->code, cmd), 0;
}

int child_run(const char *cmd, const struct child_opts *o, struct child_result *r, sd_error *err)
{
	struct run w = { .o = o, .r = r, .fd = -1, .nap_ns = 1000000 };
	int pfd[2] = { -1, -1 }, rc, capture = o->buf || o->out;

	memset(r, 0, sizeof(*r));
	if (o->buf && o->cap)
		o->buf[0] = '\0';
	if (capture && pipe2(pfd, O_CLOEXEC) < 0)
		return sd_fail(err, "pipe: %s", strerror(errno));
	rc = spawn(cmd, o, pfd[1], &w.pid);
	if (capture)
		close(pfd[1]);
	if (rc != 0) {
		if (capture)
			close(pfd[0]);
		return sd_fail(err, "cannot run /bin/sh: %s", strerror(rc));
	}
	w.fd = pfd[0];
	w.target = o->own_group ? -w.pid : w.pid;
	sd_deadline_start(&w.dl, o->timeout_ms > 0 ? o->timeout_ms : -1);
	rc = watch(&w);
	if (rc < 0)
		sd_fail(err, "waitpid: %s", strerror(errno));
	if (w.fd >= 0)
		close(w.fd);
	if (rc < 0)
		return -1;
	return result(&w, cmd, err);
}
