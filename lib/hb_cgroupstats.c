// SPDX-License-Identifier: Apache-2.0
/*
 * cgroupstats for a whole scrape in one call: the agent asks for every container at once, because
 * one FFI round trip per request and per reply cost more than the kernel's work behind them.
 * Requests go out in windows: one datagram carries a window's requests (generic netlink handles
 * each message of a datagram in turn and answers each with a datagram of its own), and a window
 * bounds how many cgroup directories are open at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/cgroupstats.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "hb_internal.h"

#define WINDOW 32
#define RECV_TIMEOUT_S 2
/* A reply is 64 bytes and an error 48 (it echoes the request); a larger datagram is not ours. */
#define SLOT_BYTES 256
#define STATS_WORDS (sizeof(struct cgroupstats) / sizeof(uint64_t))

struct request {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	struct nlattr attr;
	uint32_t fd;
};

struct window {
	uint32_t first;			/* index of the window's first path */
	uint32_t n;
	uint32_t pending;		/* requests sent and not yet answered */
	int fds[WINDOW];
	int waiting[WINDOW];
};

static void reply_stats(const struct nlmsghdr *nlh, int family, uint64_t *out, int32_t *err)
{
	const struct genlmsghdr *genl = NLMSG_DATA(nlh);
	int left = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(GENL_HDRLEN);
	const struct nlattr *a = (const void *)((const char *)genl + GENL_HDRLEN);

	*err = EPROTO;
	if (nlh->nlmsg_type != family || left < 0 || genl->cmd != CGROUPSTATS_CMD_NEW)
		return;
	for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left;
	     left -= NLA_ALIGN(a->nla_len), a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		if ((a->nla_type & NLA_TYPE_MASK) != CGROUPSTATS_TYPE_CGROUP_STATS ||
		    a->nla_len < NLA_HDRLEN + sizeof(struct cgroupstats))
			continue;
		memcpy(out, (const char *)a + NLA_HDRLEN, sizeof(struct cgroupstats));
		*err = 0;
		return;
	}
}

/* The messages of one received datagram: each answers the request whose sequence number it carries. */
static void take(struct window *w, const char *buf, size_t len, int truncated, int family, uint64_t *out,
		 int32_t *errs)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	int left = (int)len;
	uint32_t i, k;

	if (truncated) {
		/* the header survives truncation: fail that request rather than wait for it */
		if (left >= NLMSG_HDRLEN && (i = nlh->nlmsg_seq - w->first) < w->n && w->waiting[i]) {
			w->waiting[i] = 0;
			w->pending--;
			errs[nlh->nlmsg_seq] = EMSGSIZE;
		}
		return;
	}
	for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
		k = nlh->nlmsg_seq;
		i = k - w->first;
		if (i >= w->n || !w->waiting[i])
			continue;	/* not a request of this window */
		w->waiting[i] = 0;
		w->pending--;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			/* an acknowledgement without a reply (error 0) was never asked for */
			errs[k] = nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0 ? -e->error : EPROTO;
		} else {
			reply_stats(nlh, family, out + (size_t)k * STATS_WORDS, &errs[k]);
		}
	}
}

static int receive(int sock, struct window *w, int family, uint64_t *out, int32_t *errs)
{
	char bufs[WINDOW][SLOT_BYTES];
	struct mmsghdr msgs[WINDOW];
	struct iovec iov[WINDOW];
	int flags = MSG_WAITFORONE, got, j;
	uint32_t i;

	while (w->pending) {
		memset(msgs, 0, sizeof(msgs));
		for (j = 0; j < (int)w->pending; j++) {
			iov[j] = (struct iovec){ .iov_base = bufs[j], .iov_len = SLOT_BYTES };
			msgs[j].msg_hdr.msg_iov = &iov[j];
			msgs[j].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(sock, msgs, w->pending, flags, NULL);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ENOBUFS) {
			/*
			 * The socket's receive buffer overflowed and some replies were dropped: take those
			 * that are queued and give up on the rest rather than wait for them.
			 */
			flags = MSG_DONTWAIT;
			continue;
		}
		if (got < 0 && errno == EAGAIN && flags == MSG_DONTWAIT)
			break;
		if (got < 0 && errno == EAGAIN)
			return hb_fail(NULL, ETIMEDOUT, "no reply within %d s", RECV_TIMEOUT_S);
		if (got < 0)
			return hb_fail(NULL, errno, "recv");
		for (j = 0; j < got; j++)
			take(w, bufs[j], msgs[j].msg_len, msgs[j].msg_hdr.msg_flags & MSG_TRUNC, family, out, errs);
	}
	for (i = 0; i < w->n; i++)
		if (w->waiting[i])
			errs[w->first + i] = ENOBUFS;
	return 0;
}

static int send_all(int sock, const void *buf, size_t len)
{
	while (send(sock, buf, len, 0) < 0)
		if (errno != EINTR)
			return hb_fail(NULL, errno, "send");
	return 0;
}

static int query(int sock, int family, const char **path, struct window *w, uint64_t *out, int32_t *errs)
{
	struct request req[WINDOW];
	uint32_t i, k;
	int rc = 0;

	w->pending = 0;
	for (i = 0; i < w->n; i++) {
		k = w->first + i;
		memset(out + (size_t)k * STATS_WORDS, 0, sizeof(struct cgroupstats));
		w->waiting[i] = 0;
		w->fds[i] = open(*path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*path += strlen(*path) + 1;
		errs[k] = w->fds[i] < 0 ? errno : 0;
		if (w->fds[i] < 0)
			continue;
		req[w->pending] = (struct request){
			.nlh = { .nlmsg_len = sizeof(struct request), .nlmsg_type = family,
				 .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = k },
			.genl = { .cmd = CGROUPSTATS_CMD_GET, .version = 1 },
			.attr = { .nla_len = NLA_HDRLEN + sizeof(uint32_t), .nla_type = CGROUPSTATS_CMD_ATTR_FD },
			.fd = w->fds[i],
		};
		w->waiting[i] = 1;
		w->pending++;
	}
	if (w->pending)
		rc = send_all(sock, req, w->pending * sizeof(req[0]));
	if (rc == 0)
		rc = receive(sock, w, family, out, errs);
	/* the kernel is done with every directory once its answer (or our giving up) is in */
	for (i = 0; i < w->n; i++)
		if (w->fds[i] >= 0)
			close(w->fds[i]);
	return rc;
}

HB_API int hb_cgroupstats(int family, const char *paths, uint32_t count, uint64_t *out, int32_t *errs)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	struct timeval timeout = { .tv_sec = RECV_TIMEOUT_S };
	struct window w;
	int sock, rc = 0;

	if (count > INT_MAX || family <= 0 || family > UINT16_MAX)
		return hb_fail(NULL, EINVAL, "%u paths of family %d", count, family);
	/* a socket per call: a reply that missed its call's timeout can never be taken for a later one's */
	sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sock < 0)
		return hb_fail(NULL, errno, "netlink socket");
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0)
		rc = hb_fail(NULL, errno, "netlink socket setup");
	for (w.first = 0; rc == 0 && w.first < count; w.first += w.n) {
		w.n = count - w.first < WINDOW ? count - w.first : WINDOW;
		rc = query(sock, family, &paths, &w, out, errs);
	}
	close(sock);
	return rc < 0 ? rc : (int)count;
}
