/*
 * capture.h - pw-capture's private header: one process per game feed.
 *
 * capture.c  main, options, the receive loop (live capture)
 * net.c      UDP sockets: large receive buffers, batched receive with
 *            kernel-drop and timestamp control messages, relays
 * offline.c  --decode: pcap/pcapng/raw file -> one JSON object per frame
 */
#ifndef PW_CAPTURE_H
#define PW_CAPTURE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/decoder.h"

#define CAP_BATCH 64 /* datagrams per recvmmsg */
#define CAP_BUF 4096 /* larger datagrams are truncated and counted as wrong size */
#define CAP_MAX_RELAYS 8
#define NET_WAIT_MS 500 /* longest a waiting receive blocks: the heartbeat period */

struct cap_opts {
	const char *feed;
	const char *instance;
	const char *bind;      /* listen address */
	const char *game_host; /* client feeds */
	const char *password;  /* acc connection password */
	const char *decode_file;
	uint16_t port;     /* listen port, or the game's port for client feeds */
	int passive;       /* client feed: only listen, never handshake */
	int second_player; /* f1 */
	uint64_t ring_frames, ring_raw_mb;
	int rcvbuf_mb; /* UDP receive buffer asked for */
	int nrelays;
	struct sockaddr_in relays[CAP_MAX_RELAYS];
};

/* One received datagram of a batch. */
struct cap_pkt {
	uint8_t *data;
	uint32_t len;
	int truncated;
	int64_t t_ns;
	struct sockaddr_in from;
};

struct cap_rx {
	struct cap_pkt pkt[CAP_BATCH];
	uint32_t kernel_drops; /* cumulative, from SO_RXQ_OVFL */
	int have_drops;
	/* buffers, iovecs and control space, owned by net.c */
	void *priv;
};

/* net.c */
/* Parse "a.b.c.d:port" (IPv4 literal only: never resolve names). */
int net_parse_addr(const char *s, struct sockaddr_in *out);
int net_parse_ip(const char *s, struct in_addr *out);
/* Bound UDP socket with the receive buffer raised to want bytes (granted in *granted). */
int net_udp_socket(const char *ip, uint16_t port, int want_rcvbuf, int *granted);
int net_rx_init(struct cap_rx *rx);
void net_rx_fini(struct cap_rx *rx);
/* Receive up to CAP_BATCH datagrams: count, 0 (nothing within NET_WAIT_MS when
 * wait, nothing queued when not, or a signal), or -errno. */
int net_rx_batch(int fd, struct cap_rx *rx, int wait);
/* Forward n datagrams to each relay with one sendmmsg per relay; returns failures. */
int net_relay(int fd, const struct sockaddr_in *relays, int nrelays, const struct cap_pkt *pkts,
	      int n, uint64_t *sent);

/* offline.c */
int offline_decode(const struct cap_opts *o, const struct decoder *dec);

#endif
