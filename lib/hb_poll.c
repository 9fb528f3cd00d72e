// SPDX-License-Identifier: Apache-2.0
/*
 * The poller: one thread sleeps in epoll_wait on every event source of the agent (event readers,
 * sockets, /dev/kmsg) and writes the tags of the ready ones to a pipe that the JavaScript event loop
 * watches, so an idle agent wakes for nothing. The thread never calls into JavaScript and touches no
 * handle state; after each report it waits until the caller arms it again (after reading), then a
 * while longer, so a busy source is read in batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

#include "hb_internal.h"

#define POLL_BATCH 64
/* epoll tag of the arm eventfd, which is in the set only to interrupt a wait for stop */
#define ARM_TAG UINT32_MAX

struct hb_poller {
	int epfd;
	int armfd;		/* eventfd: each write lets the thread wait once more */
	int pipefd[2];		/* u32 tags of ready sources, read by the caller */
	int interval_ms;	/* rest after a report was read, before the next wait */
	int stop;
	pthread_t thread;
};

static int stopping(struct hb_poller *p)
{
	return __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
}

/* Blocks until the caller arms the thread again (or stops it). */
static int wait_armed(struct hb_poller *p)
{
	uint64_t arms;

	while (read(p->armfd, &arms, sizeof(arms)) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Sleeps for the interval after a report was read; a write to the arm eventfd (stop) cuts it short. */
static void rest(struct hb_poller *p)
{
	struct pollfd pfd = { .fd = p->armfd, .events = POLLIN };

	poll(&pfd, 1, p->interval_ms);
}

/* Tags of the ready sources, as many as epoll gives at once; 0 when stopping, -errno on failure. */
static int wait_ready(struct hb_poller *p, uint32_t *tags)
{
	struct epoll_event evs[POLL_BATCH];
	int i, n, k = 0;

	while (!k && !stopping(p)) {
		n = epoll_wait(p->epfd, evs, POLL_BATCH, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 != ARM_TAG)
				tags[k++] = evs[i].data.u32;
			else if (!stopping(p))
				wait_armed(p);	/* armed twice: take the extra count, or it stays ready */
		}
	}
	return stopping(p) ? 0 : k;
}

/* One report (one pipe write, atomic) per arming, the first at once, the next after a rest. */
static void *poll_loop(void *arg)
{
	struct hb_poller *p = arg;
	uint32_t tags[POLL_BATCH];
	int k, first = 1;

	/* how it shows in ps -L and top -H */
	prctl(PR_SET_NAME, "hb-poller");
	while (!wait_armed(p) && !stopping(p)) {
		if (!first)
			rest(p);
		first = 0;
		k = wait_ready(p, tags);
		if (k <= 0 || write(p->pipefd[1], tags, k * sizeof(tags[0])) < 0)
			break;
	}
	/* the caller sees end of file and knows the poller is gone */
	close(p->pipefd[1]);
	p->pipefd[1] = -1;
	return NULL;
}

static void poller_close_fds(struct hb_poller *p)
{
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->armfd >= 0)
		close(p->armfd);
	if (p->pipefd[0] >= 0)
		close(p->pipefd[0]);
	if (p->pipefd[1] >= 0)
		close(p->pipefd[1]);
}

static int poller_fds(struct hb_poller *p)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = ARM_TAG };

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	/* starts armed: the first wait needs no write */
	p->armfd = eventfd(1, EFD_CLOEXEC);
	if (p->epfd < 0 || p->armfd < 0 || pipe2(p->pipefd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->armfd, &ev) ? -errno : 0;
}

/* The thread blocks every signal: the agent's handlers run on its own threads. */
static int poller_thread(struct hb_poller *p)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	err = compat_pthread_create(&p->thread, NULL, poll_loop, p);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return -err;
}

HB_API int hb_poll_start(int h, int32_t *fds, int interval_ms)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_poller *p;
	int err;

	if (!hh)
		return -EBADF;
	if (hh->poller)
		return hb_fail(hh, EBUSY, "start poller");
	p = calloc(1, sizeof(*p));
	if (!p)
		return hb_fail(hh, ENOMEM, "start poller");
	p->epfd = p->armfd = p->pipefd[0] = p->pipefd[1] = -1;
	p->interval_ms = interval_ms;
	err = poller_fds(p);
	if (!err)
		err = poller_thread(p);
	if (err) {
		poller_close_fds(p);
		free(p);
		return hb_fail(hh, err, "start poller");
	}
	hh->poller = p;
	fds[0] = p->pipefd[0];
	fds[1] = p->armfd;
	return 0;
}

static struct hb_poller *get_poller(struct hb_handle *hh)
{
	if (!hh->poller)
		hb_fail(hh, ENOENT, "no poller started on this handle");
	return hh->poller;
}

HB_API int hb_poll_add(int h, int fd, uint32_t tag)
{
	struct hb_handle *hh = hb_enter(h);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	struct hb_poller *p;

	if (!hh)
		return -EBADF;
	p = get_poller(hh);
	if (!p)
		return -ENOENT;
	if (tag == ARM_TAG)
		return hb_fail(hh, EINVAL, "poll fd %d: tag %u is reserved", fd, tag);
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev))
		return hb_fail(hh, errno, "poll fd %d", fd);
	return 0;
}

HB_API int hb_poll_del(int h, int fd)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_poller *p;

	if (!hh)
		return -EBADF;
	p = get_poller(hh);
	if (!p)
		return -ENOENT;
	if (epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL))
		return hb_fail(hh, errno, "stop polling fd %d", fd);
	return 0;
}

void hb_poller_free(struct hb_handle *hh)
{
	struct hb_poller *p = hh->poller;
	uint64_t one = 1;

	if (!p)
		return;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	/* wakes the thread in either of its waits: read(armfd), or epoll_wait with armfd in the set */
	while (write(p->armfd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	compat_pthread_join(p->thread, NULL);
	poller_close_fds(p);
	free(p);
	hh->poller = NULL;
}
