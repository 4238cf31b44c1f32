/* net.c - UDP sockets for pw-capture (see capture.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "common/clock.h"

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define CTRL_SPACE 128

struct rx_priv {
	struct mmsghdr msgs[CAP_BATCH];
	struct iovec iov[CAP_BATCH];
	uint8_t ctrl[CAP_BATCH][CTRL_SPACE];
	uint8_t bufs[CAP_BATCH][CAP_BUF];
	int used; /* headers the last receive filled: reset before the next */
};

/* A header ready for the kernel: the lengths it overwrites restored. */
static void rx_reset(struct rx_priv *p, struct cap_rx *rx, int i)
{
	struct msghdr *h = &p->msgs[i].msg_hdr;

	h->msg_namelen = sizeof rx->pkt[i].from;
	h->msg_controllen = CTRL_SPACE;
	h->msg_flags = 0;
}

int net_parse_ip(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -EINVAL;
}

int net_parse_addr(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return net_parse_ip(host, &out->sin_addr);
}

int net_udp_socket(const char *ip, uint16_t port, int want, int *granted)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1, got = 0;
	socklen_t len = sizeof got;

	if (net_parse_ip(ip, &a.sin_addr) < 0)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* the kernel caps SO_RCVBUF at rmem_max; root may exceed it with FORCE */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
	if (got / 2 < want)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want);
	len = sizeof got;
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
	*granted = got / 2; /* Linux reports double the usable size */
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	/* a waiting receive returns at least this often, so the heartbeat keeps beating */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_usec = NET_WAIT_MS * 1000 },
		   sizeof(struct timeval));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int net_rx_init(struct cap_rx *rx)
{
	struct rx_priv *p = calloc(1, sizeof *p);

	if (!p)
		return -ENOMEM;
	memset(rx, 0, sizeof *rx);
	rx->priv = p;
	for (int i = 0; i < CAP_BATCH; i++) {
		struct msghdr *h = &p->msgs[i].msg_hdr;

		rx->pkt[i].data = p->bufs[i];
		p->iov[i] = (struct iovec){ p->bufs[i], CAP_BUF };
		h->msg_iov = &p->iov[i];
		h->msg_iovlen = 1;
		h->msg_name = &rx->pkt[i].from;
		h->msg_control = p->ctrl[i];
		rx_reset(p, rx, i);
	}
	return 0;
}

void net_rx_fini(struct cap_rx *rx)
{
	free(rx->priv);
	rx->priv = NULL;
}

int net_rx_batch(int fd, struct cap_rx *rx, int wait)
{
	struct rx_priv *p = rx->priv;
	int n;
	int64_t now;

	for (int i = 0; i < p->used; i++)
		rx_reset(p, rx, i);
	p->used = 0;
	n = recvmmsg(fd, p->msgs, CAP_BATCH, wait ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	p->used = n;
	now = clock_now_ns();
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &p->msgs[i].msg_hdr;
		struct cap_pkt *k = &rx->pkt[i];

		k->len = p->msgs[i].msg_len;
		k->truncated = (h->msg_flags & MSG_TRUNC) != 0;
		k->t_ns = now;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SO_RXQ_OVFL && c->cmsg_len >= CMSG_LEN(4)) {
				memcpy(&rx->kernel_drops, CMSG_DATA(c), 4);
				rx->have_drops = 1;
			} else if (c->cmsg_type == SO_TIMESTAMPNS &&
				   c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(c), sizeof ts);
				k->t_ns = (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
			}
		}
	}
	return n;
}

int net_relay(int fd, const struct sockaddr_in *relays, int nrelays, const struct cap_pkt *pkts,
	      int n, uint64_t *sent)
{
	struct mmsghdr msgs[CAP_BATCH];
	struct iovec iov[CAP_BATCH];
	int failures = 0;

	for (int r = 0; r < nrelays; r++) {
		int m = 0, done = 0;

		for (int i = 0; i < n; i++) {
			if (pkts[i].truncated)
				continue;
			iov[m] = (struct iovec){ pkts[i].data, pkts[i].len };
			memset(&msgs[m], 0, sizeof msgs[m]);
			msgs[m].msg_hdr.msg_iov = &iov[m];
			msgs[m].msg_hdr.msg_iovlen = 1;
			msgs[m].msg_hdr.msg_name = (void *)&relays[r];
			msgs[m].msg_hdr.msg_namelen = sizeof relays[r];
			m++;
		}
		/* never block capture on a relay target: what does not go is counted */
		while (done < m) {
			int k = sendmmsg(fd, msgs + done, (unsigned)(m - done), MSG_DONTWAIT);
			if (k <= 0)
				break;
			done += k;
		}
		*sent += (uint64_t)done;
		failures += m - done;
	}
	return failures;
}
