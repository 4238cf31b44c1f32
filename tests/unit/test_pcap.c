/* test_pcap.c - self-test of the pcap/pcapng reader and the pcap writer (common/pcap.h). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/pcap.h"
#include "tests/unit/t.h"

static char dir[64];

/* A path in the test's directory; four live at a time. */
static const char *tmp_path(const char *name)
{
	static char p[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* A growable byte buffer for building files by hand. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void zeros(struct buf *b, size_t n)
{
	static const uint8_t z[64];

	while (n) {
		size_t k = n < sizeof z ? n : sizeof z;
		put(b, z, k);
		n -= k;
	}
}

static void u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void u16(struct buf *b, int be, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	if (be)
		x[0] = (uint8_t)(v >> 8), x[1] = (uint8_t)v;
	put(b, x, 2);
}

static void u32(struct buf *b, int be, uint32_t v)
{
	if (be) {
		u16(b, 1, (uint16_t)(v >> 16));
		u16(b, 1, (uint16_t)v);
	} else {
		u16(b, 0, (uint16_t)v);
		u16(b, 0, (uint16_t)(v >> 16));
	}
}

static void set_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void free_buf(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

static void write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	T_CHECK(f != NULL);
	if (!f)
		return;
	T_EQ(fwrite(d, 1, n, f), n);
	fclose(f);
}

/* Payload byte i of packet seed. */
static uint8_t pat(unsigned seed, size_t i)
{
	return (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* An expected datagram. */
struct pkt {
	int64_t t_ns;
	uint32_t src_ip, dst_ip;
	uint16_t sport, dport;
	uint32_t len;
	unsigned seed;
};

static void payload(struct buf *b, const struct pkt *k)
{
	for (uint32_t i = 0; i < k->len; i++)
		u8(b, pat(k->seed, i));
}

static uint16_t ip_sum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* IPv4 header (proto, flags/fragment word) + body built by the caller after it. */
static void ipv4(struct buf *b, uint8_t proto, uint32_t src, uint32_t dst, size_t body,
		 uint16_t frag)
{
	size_t at = b->len;

	u8(b, 0x45);
	u8(b, 0);
	u16(b, 1, (uint16_t)(20 + body));
	u16(b, 1, 0x1234);
	u16(b, 1, frag);
	u8(b, 64);
	u8(b, proto);
	u16(b, 1, 0);
	u32(b, 1, src);
	u32(b, 1, dst);
	set_be16(b->p + at + 10, (uint16_t)~ip_sum(b->p + at, 20));
}

static void udp(struct buf *b, const struct pkt *k)
{
	u16(b, 1, k->sport);
	u16(b, 1, k->dport);
	u16(b, 1, (uint16_t)(8 + k->len));
	u16(b, 1, 0);
	payload(b, k);
}

static void ipv4_udp(struct buf *b, const struct pkt *k)
{
	ipv4(b, 17, k->src_ip, k->dst_ip, 8 + k->len, 0);
	udp(b, k);
}

static void ipv6_udp(struct buf *b, const struct pkt *k)
{
	static const uint8_t src[16] = { 0xfe, 0x80, [15] = 1 }, dst[16] = { 0xfe, 0x80, [15] = 2 };

	u32(b, 1, 0x60000000);
	u16(b, 1, (uint16_t)(8 + k->len));
	u8(b, 17);
	u8(b, 64);
	put(b, src, 16);
	put(b, dst, 16);
	udp(b, k);
}

/* An IPv4 TCP segment: not UDP, must be skipped and counted. */
static void ipv4_tcp(struct buf *b)
{
	ipv4(b, 6, 0x0a000001, 0x0a000002, 20 + 5, 0);
	u16(b, 1, 443);
	u16(b, 1, 50000);
	zeros(b, 16);
	put(b, "hello", 5);
}

static void ethernet(struct buf *b, int vlans, uint16_t type)
{
	static const uint8_t macs[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	put(b, macs, 12);
	if (vlans > 1) {
		u16(b, 1, 0x88a8);
		u16(b, 1, 100);
	}
	if (vlans > 0) {
		u16(b, 1, 0x8100);
		u16(b, 1, 42);
	}
	u16(b, 1, type);
}

/* Read every datagram of path and compare with want[]; returns the final pcap_next result. */
static int read_expect(const char *path, const struct pkt *want, int n, uint64_t skipped, int ng)
{
	struct pcap_reader *r = NULL;
	struct pcap_pkt p;
	int rc, got = 0;

	rc = pcap_open(&r, path);
	T_CHECKF(rc == 0, "pcap_open %s: %d", path, rc);
	if (rc)
		return rc;
	T_EQ(pcap_is_ng(r), ng);
	for (int pass = 0; pass < 2; pass++) { /* the second time after a rewind */
		got = 0;
		while ((rc = pcap_next(r, &p)) == 1) {
			const struct pkt *k;
			int bad = 0;

			if (got == n) {
				T_CHECKF(0, "more than %d packets", n);
				break;
			}
			k = &want[got];
			for (uint32_t i = 0; i < p.len && i < k->len; i++)
				bad += p.data[i] != pat(k->seed, i);
			T_CHECKF(p.len == k->len && !bad, "pkt %d: len %u want %u, %d bad bytes",
				 got, p.len, k->len, bad);
			T_CHECKF(p.t_ns == k->t_ns, "pkt %d: t_ns %lld want %lld", got,
				 (long long)p.t_ns, (long long)k->t_ns);
			T_CHECKF(p.src_port == k->sport && p.dst_port == k->dport,
				 "pkt %d: ports %u>%u", got, p.src_port, p.dst_port);
			T_CHECKF(p.src_ip == k->src_ip && p.dst_ip == k->dst_ip,
				 "pkt %d: ip %08x>%08x", got, p.src_ip, p.dst_ip);
			got++;
		}
		T_CHECKF(rc == 0 && got == n, "%s: rc %d after %d of %d packets", path, rc, got, n);
		T_EQ(pcap_next(r, &p), 0); /* the end stays the end */
		pcap_rewind(r);
		if (pass == 0)
			T_CHECKF(pcap_skipped(r) == skipped, "skipped %llu want %llu",
				 (unsigned long long)pcap_skipped(r), (unsigned long long)skipped);
	}
	pcap_close(r);
	return rc;
}

static void test_writer_format(void)
{
	uint8_t h[PCAP_FILE_HEADER_LEN], rec[128], big[65507 + PCAP_UDP_OVERHEAD];
	static const uint8_t want_h[24] = {
		0x4d, 0x3c, 0xb2, 0xa1, 2,    0,    4, 0, 0,   0, 0, 0,
		0,    0,    0,    0,    0xff, 0xff, 0, 0, 101, 0, 0, 0
	};
	static const uint8_t want_rec[16 + 28] = {
		0x20, 0xf1, 0x21, 0x69,                       /* 1763832096 s */
		0x15, 0xcd, 0x5b, 0x07,                       /* 123456789 ns */
		33,   0,    0,    0,    33, 0,  0, 0,         /* incl, orig */
		0x45, 0,    0,    33,   0,  0,  0, 0, 64, 17, /* IPv4, total 33, TTL 64, UDP */
		0,    0,                                      /* checksum, checked below */
		192,  168,  1,    20,   10, 0,  0, 1,         /* addresses */
		0xc3, 0x50, 0x27, 0x0c, 0,  13, 0, 0 /* 50000 -> 9996, length 13, no checksum */
	};
	size_t n;

	memset(h, 0xee, sizeof h);
	pcap_file_header(h);
	T_MEMEQ(h, want_h, sizeof h);
	n = pcap_udp_record(rec, sizeof rec, 1763832096123456789ll, 0xc0a80114, 50000, 0x0a000001,
			    9996, "hello", 5);
	T_CHECK(n == 5 + PCAP_UDP_OVERHEAD && n == 49);
	T_CHECK(memcmp(rec, want_rec, 26) == 0 && memcmp(rec + 28, want_rec + 28, 16) == 0);
	T_MEMEQ(rec + 44, "hello", 5);
	T_EQ(ip_sum(rec + 16, 20), 0xffff); /* a valid IPv4 header checksum */
	/* capacity: exactly enough works, one byte less is refused */
	T_EQ(pcap_udp_record(rec, 49, 0, 1, 2, 3, 4, "hello", 5), 49);
	T_EQ(pcap_udp_record(rec, 48, 0, 1, 2, 3, 4, "hello", 5), 0);
	T_EQ(pcap_udp_record(rec, 44, 0, 1, 2, 3, 4, "", 0), 44);
	T_EQ(pcap_udp_record(rec, 43, 0, 1, 2, 3, 4, "", 0), 0);
	T_EQ(pcap_udp_record(rec, 44, 0, 1, 2, 3, 4, NULL, 0), 44);
	/* the largest UDP datagram over IPv4, and one more byte */
	memset(big + 44, 7, 65507);
	T_EQ(pcap_udp_record(big, sizeof big, 0, 1, 2, 3, 4, big + 44, 65507), sizeof big);
	T_CHECK(big[18] == 0xff && big[19] == 0xff); /* IP total length 65535 */
	T_EQ(ip_sum(big + 16, 20), 0xffff);
	T_EQ(pcap_udp_record(big, sizeof big, 0, 1, 2, 3, 4, big + 44, 65508), 0);
}

/* Writer -> reader round trip over payload sizes, ports, addresses and times. */
static struct pkt rt_pkts[] = {
	{ 0, 0, 0, 0, 0, 0, 1 },
	{ 1, 0x7f000001, 0x7f000001, 50000, 9996, 1, 2 },
	{ 999999999, 0xffffffff, 0x01020304, 65535, 1, 7, 3 },
	{ 1000000000, 0xc0a80114, 0x0a000001, 1, 65535, 8, 4 },
	{ 1487973768153762000ll, 0x7f000001, 0x7f000001, 50000, 9996, 328, 5 },
	{ 1763832096123456789ll, 0x0a000001, 0xc0a80114, 9000, 9000, 1472, 6 },
	{ 1763832096123456790ll, 0x0a000001, 0xc0a80114, 20777, 20777, 1473, 7 },
	{ 1763832097000000001ll, 0x08080808, 0xe0000001, 5606, 5606, 9000, 8 },
	{ 4294967295999999999ll, 0x00000001, 0x80000000, 5300, 5301, 65000, 9 },
	{ 4294967295999999999ll, 0xfffffffe, 0x7fffffff, 12345, 54321, 65507, 10 },
};
#define RT_N ((int)(sizeof rt_pkts / sizeof rt_pkts[0]))

static void write_rt(const char *path, int n)
{
	struct buf b = { 0 };
	uint8_t h[PCAP_FILE_HEADER_LEN];

	pcap_file_header(h);
	put(&b, h, sizeof h);
	for (int i = 0; i < n; i++) {
		const struct pkt *k = &rt_pkts[i];
		struct buf pl = { 0 };
		size_t at = b.len, len;

		payload(&pl, k);
		zeros(&b, k->len + PCAP_UDP_OVERHEAD);
		len = pcap_udp_record(b.p + at, k->len + PCAP_UDP_OVERHEAD, k->t_ns, k->src_ip,
				      k->sport, k->dst_ip, k->dport, pl.p, k->len);
		T_EQ(len, k->len + PCAP_UDP_OVERHEAD);
		free_buf(&pl);
	}
	write_file(path, b.p, b.len);
	free_buf(&b);
}

static void test_roundtrip(void)
{
	const char *path = tmp_path("rt.pcap");

	write_rt(path, RT_N);
	read_expect(path, rt_pkts, RT_N, 0, 0);
	unlink(path);
}

/* Parse tshark's view of a file the writer made: UDP with the right ports and addresses. */
static void test_tshark(void)
{
	char cmd[512], line[512];
	const char *path = tmp_path("ts.pcap"), *out = tmp_path("ts.txt");
	FILE *f;
	int n = 0;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("# tshark not installed: writer not cross-checked\n");
		return;
	}
	write_rt(path, RT_N);
	snprintf(cmd, sizeof cmd,
		 "tshark -o ip.check_checksum:TRUE -r '%s' -T fields -E separator=, -e udp.srcport "
		 "-e udp.dstport -e udp.length -e ip.src -e ip.dst -e ip.checksum.status "
		 "-e frame.time_epoch > '%s' 2>/dev/null",
		 path, out);
	T_CHECKF(system(cmd) == 0, "%s", cmd);
	f = fopen(out, "r");
	T_CHECK(f != NULL);
	while (f && fgets(line, sizeof line, f)) {
		const struct pkt *k = &rt_pkts[n];
		char want[256];

		if (n == RT_N) {
			n++;
			break;
		}
		snprintf(want, sizeof want, "%u,%u,%u,%u.%u.%u.%u,%u.%u.%u.%u,1,%lld.%09lld\n",
			 k->sport, k->dport, 8 + k->len, k->src_ip >> 24, k->src_ip >> 16 & 255,
			 k->src_ip >> 8 & 255, k->src_ip & 255, k->dst_ip >> 24,
			 k->dst_ip >> 16 & 255, k->dst_ip >> 8 & 255, k->dst_ip & 255,
			 (long long)(k->t_ns / 1000000000), (long long)(k->t_ns % 1000000000));
		T_CHECKF(strcmp(line, want) == 0, "tshark: %s want %s", line, want);
		n++;
	}
	T_CHECKF(n == RT_N, "tshark saw %d packets", n);
	if (f)
		fclose(f);
	unlink(out);
	unlink(path);
}

/* Classic pcap in both byte orders and both resolutions, over every link type. */
static void classic_header(struct buf *b, int be, int nsec, uint32_t linktype)
{
	u32(b, be, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	u16(b, be, 2);
	u16(b, be, 4);
	u32(b, be, 0);
	u32(b, be, 0);
	u32(b, be, 262144);
	u32(b, be, linktype);
}

static void classic_record(struct buf *b, int be, int nsec, int64_t t_ns, const struct buf *pkt)
{
	u32(b, be, (uint32_t)(t_ns / 1000000000));
	u32(b, be, (uint32_t)(t_ns % 1000000000 / (nsec ? 1 : 1000)));
	u32(b, be, (uint32_t)pkt->len);
	u32(b, be, (uint32_t)pkt->len + 3); /* orig_len is not used */
	put(b, pkt->p, pkt->len);
}

/* The link-layer framing of lt around an IPv4 (v6 = 0) or IPv6 packet. */
static void link_frame(struct buf *b, uint32_t lt, int v6, const struct pkt *k)
{
	size_t start = b->len;

	switch (lt) {
	case 0:
		u32(b, 0, v6 ? 10 : 2);
		break; /* NULL: AF in host order */
	case 108:
		u32(b, 1, v6 ? 24 : 2);
		break; /* LOOP: AF in network order */
	case 1:
		ethernet(b, 0, v6 ? 0x86dd : 0x0800);
		break;
	case 113:
		zeros(b, 14);
		u16(b, 1, v6 ? 0x86dd : 0x0800);
		break;
	case 276:
		u16(b, 1, v6 ? 0x86dd : 0x0800);
		zeros(b, 18);
		break;
	default:
		break; /* RAW, IPV4, IPV6 */
	}
	if (v6)
		ipv6_udp(b, k);
	else
		ipv4_udp(b, k);
	if (lt == 1 && b->len - start < 60)
		zeros(b, 60 - (b->len - start)); /* Ethernet minimum frame: padding after IP */
}

static void test_classic_variants(void)
{
	static const uint32_t lts[] = { 101, 1, 0, 108, 113, 276, 228, 229 };
	const char *path = tmp_path("var.pcap");

	for (int be = 0; be < 2; be++)
		for (int nsec = 0; nsec < 2; nsec++)
			for (size_t l = 0; l < sizeof lts / sizeof lts[0]; l++) {
				struct buf b = { 0 }, pkt = { 0 };
				struct pkt want[3];
				int n = 0;

				classic_header(&b, be, nsec, lts[l]);
				for (int i = 0; i < 3; i++) {
					int v6 = lts[l] == 229 || (lts[l] != 228 && i == 1);
					struct pkt k = { 1487973768000000000ll + i * 1001001001ll,
							 v6 ? 0 : 0x7f000001u + (uint32_t)i,
							 v6 ? 0 : 0xc0a80001u,
							 (uint16_t)(50000 + i),
							 (uint16_t)(9996 + l),
							 (uint32_t)(i * 150 + 3),
							 (unsigned)(l * 10 + (size_t)i) };
					if (!nsec)
						k.t_ns -= k.t_ns % 1000;
					pkt.len = 0;
					link_frame(&pkt, lts[l], v6, &k);
					classic_record(&b, be, nsec, k.t_ns, &pkt);
					want[n++] = k;
				}
				write_file(path, b.p, b.len);
				if (read_expect(path, want, n, 0, 0) != 0 || t_case_failed) {
					T_CHECKF(0, "be %d nsec %d linktype %u", be, nsec, lts[l]);
					l = 100, nsec = be = 2;
				}
				free_buf(&b);
				free_buf(&pkt);
			}
	/* an unknown link type: every packet is skipped */
	{
		struct buf b = { 0 }, pkt = { 0 };
		struct pkt k = { 0, 1, 2, 3, 4, 10, 1 };

		classic_header(&b, 0, 1, 147);
		ipv4_udp(&pkt, &k);
		classic_record(&b, 0, 1, 0, &pkt);
		classic_record(&b, 0, 1, 0, &pkt);
		write_file(path, b.p, b.len);
		read_expect(path, NULL, 0, 2, 0);
		free_buf(&b);
		free_buf(&pkt);
	}
	unlink(path);
}

/* Non-UDP and broken IP packets are passed over and counted; valid ones around them come through. */
static void test_skipped(void)
{
	const char *path = tmp_path("skip.pcap");
	struct buf b = { 0 }, pkt = { 0 };
	struct pkt good[3] = {
		{ 1000, 0x0a000001, 0x0a000002, 1111, 2222, 20, 1 },
		{ 3000, 0x0a000003, 0x0a000004, 3333, 4444, 0, 2 },
		{ 9000, 0x0a000005, 0x0a000006, 5555, 6666, 33, 3 },
	};
	struct pkt k = { 0, 1, 2, 3, 4, 16, 9 };

	classic_header(&b, 0, 1, 101);
#define REC(t, build)                              \
	do {                                       \
		pkt.len = 0;                       \
		build;                             \
		classic_record(&b, 0, 1, t, &pkt); \
	} while (0)
	REC(1000, ipv4_udp(&pkt, &good[0]));
	REC(2000, ipv4_tcp(&pkt));                                         /* TCP */
	REC(2100, ipv4(&pkt, 1, 1, 2, 8, 0); zeros(&pkt, 8));              /* ICMP */
	REC(2200, ipv4(&pkt, 17, 1, 2, 8 + k.len, 0x2000); udp(&pkt, &k)); /* first fragment */
	REC(2300, ipv4(&pkt, 17, 1, 2, 8 + k.len, 0x0010); udp(&pkt, &k)); /* later fragment */
	REC(2400, ipv4_udp(&pkt, &k); pkt.len -= 1);                       /* cut by the snaplen */
	REC(2500, ipv4_udp(&pkt, &k); set_be16(pkt.p + 24, 7));            /* UDP length < 8 */
	REC(2600, ipv4_udp(&pkt, &k); set_be16(pkt.p + 24, 8 + 17));       /* UDP length > IP */
	REC(2700, ipv4_udp(&pkt, &k); pkt.p[0] = 0x44);                    /* IHL 16 bytes */
	REC(2800, ipv4_udp(&pkt, &k); pkt.p[0] = 0x55);                    /* IP version 5 */
	REC(2900, (void)0);                                                /* empty record */
	REC(2950, put(&pkt, "\x45", 1));                                   /* 1 byte of IP */
	REC(3000, ipv4_udp(&pkt, &good[1]));
	REC(4000, ethernet(&pkt, 0, 0x0800); ipv4_udp(&pkt, &k)); /* wrong link type */
	/* IPv4 with 4 bytes of options (IHL 6) is still UDP */
	REC(9000, {
		struct buf body = { 0 };
		udp(&body, &good[2]);
		u8(&pkt, 0x46);
		u8(&pkt, 0);
		u16(&pkt, 1, (uint16_t)(24 + body.len));
		zeros(&pkt, 5);
		u8(&pkt, 17);
		zeros(&pkt, 2);
		u32(&pkt, 1, good[2].src_ip);
		u32(&pkt, 1, good[2].dst_ip);
		zeros(&pkt, 4);
		put(&pkt, body.p, body.len);
		free_buf(&body);
	});
#undef REC
	write_file(path, b.p, b.len);
	read_expect(path, good, 3, 12, 0);
	free_buf(&b);
	free_buf(&pkt);
	unlink(path);
}

/* pcapng, built block by block; section byte order from be. */
static void ng_block(struct buf *b, int be, uint32_t type, const struct buf *body)
{
	size_t pad = (4 - body->len % 4) % 4;
	uint32_t total = (uint32_t)(12 + body->len + pad);

	u32(b, be, type);
	u32(b, be, total);
	put(b, body->p, body->len);
	zeros(b, pad);
	u32(b, be, total);
}

static void ng_shb(struct buf *b, int be)
{
	struct buf body = { 0 };

	u32(&body, be, 0x1a2b3c4d);
	u16(&body, be, 1);
	u16(&body, be, 0);
	u32(&body, be, 0xffffffff);
	u32(&body, be, 0xffffffff); /* section length unknown */
	ng_block(b, be, 0x0a0d0d0a, &body);
	free_buf(&body);
}

/* Interface with link type lt and, when tsresol >= 0, an if_tsresol option after an if_name. */
static void ng_idb(struct buf *b, int be, uint16_t lt, int tsresol)
{
	struct buf body = { 0 };

	u16(&body, be, lt);
	u16(&body, be, 0);
	u32(&body, be, 65535);
	u16(&body, be, 2); /* if_name, 5 bytes + 3 padding */
	u16(&body, be, 5);
	put(&body, "eth0\0\0\0\0", 8);
	if (tsresol >= 0) {
		u16(&body, be, 9);
		u16(&body, be, 1);
		u8(&body, (uint8_t)tsresol);
		zeros(&body, 3);
	}
	u16(&body, be, 0); /* opt_endofopt */
	u16(&body, be, 0);
	ng_block(b, be, 1, &body);
	free_buf(&body);
}

static void ng_epb(struct buf *b, int be, uint32_t ifc, uint64_t ts, const struct buf *pkt)
{
	struct buf body = { 0 };

	u32(&body, be, ifc);
	u32(&body, be, (uint32_t)(ts >> 32));
	u32(&body, be, (uint32_t)ts);
	u32(&body, be, (uint32_t)pkt->len);
	u32(&body, be, (uint32_t)pkt->len);
	put(&body, pkt->p, pkt->len);
	ng_block(b, be, 6, &body);
	free_buf(&body);
}

static void ng_spb(struct buf *b, int be, const struct buf *pkt)
{
	struct buf body = { 0 };

	u32(&body, be, (uint32_t)pkt->len);
	put(&body, pkt->p, pkt->len);
	ng_block(b, be, 3, &body);
	free_buf(&body);
}

/* The pcapng test file: two sections (LE then BE), several interfaces, every block kind.
 * ends[] receives the file offset after each block and udp_before[] the number of
 * datagrams complete by then. */
#define NG_WANT 8
static struct pkt ng_want[NG_WANT];
static size_t ng_ends[64], ng_udp[64];
static int ng_nblocks;

static void ng_mark(const struct buf *b, int udp_so_far)
{
	ng_ends[ng_nblocks] = b->len;
	ng_udp[ng_nblocks++] = (size_t)udp_so_far;
}

static void build_ng(struct buf *b)
{
	struct buf pkt = { 0 };
	int n = 0;
	struct pkt *w = ng_want;

	ng_nblocks = 0;
	memset(ng_want, 0, sizeof ng_want);
	/* section 1, little-endian: if0 Ethernet in us, if1 RAW in ns */
	ng_shb(b, 0);
	ng_mark(b, n);
	ng_idb(b, 0, 1, 6);
	ng_mark(b, n);
	ng_idb(b, 0, 101, 9);
	ng_mark(b, n);
	/* Ethernet + 802.1Q + IPv4 UDP */
	w[n] = (struct pkt){ 1487973768153762000ll, 0x7f000001, 0x7f000001, 50000, 9996, 328, 21 };
	pkt.len = 0;
	ethernet(&pkt, 1, 0x0800);
	ipv4_udp(&pkt, &w[n]);
	ng_epb(b, 0, 0, 1487973768153762ull, &pkt);
	ng_mark(b, ++n);
	/* Ethernet + IPv6 UDP */
	w[n] = (struct pkt){ 1487973768200000000ll, 0, 0, 20777, 20778, 1347, 22 };
	pkt.len = 0;
	ethernet(&pkt, 0, 0x86dd);
	ipv6_udp(&pkt, &w[n]);
	ng_epb(b, 0, 0, 1487973768200000ull, &pkt);
	ng_mark(b, ++n);
	/* Ethernet + 802.1ad + 802.1Q + IPv4 UDP, odd length (block padding) */
	w[n] = (struct pkt){ 1487973768300001000ll, 0x0a000001, 0x0a000002, 5606, 5606, 5, 23 };
	pkt.len = 0;
	ethernet(&pkt, 2, 0x0800);
	ipv4_udp(&pkt, &w[n]);
	ng_epb(b, 0, 0, 1487973768300001ull, &pkt);
	ng_mark(b, ++n);
	/* RAW on if1, nanoseconds */
	w[n] = (struct pkt){ 1763832096123456789ll, 0xc0a80114, 0x0a000001, 9000, 9000, 0, 24 };
	pkt.len = 0;
	ipv4_udp(&pkt, &w[n]);
	ng_epb(b, 0, 1, 1763832096123456789ull, &pkt);
	ng_mark(b, ++n);
	/* skipped: ARP on Ethernet, an EPB for an interface that was never described */
	pkt.len = 0;
	ethernet(&pkt, 0, 0x0806);
	zeros(&pkt, 28);
	ng_epb(b, 0, 0, 1, &pkt);
	ng_mark(b, n);
	pkt.len = 0;
	ipv4_udp(&pkt, &w[0]);
	ng_epb(b, 0, 5, 1, &pkt);
	ng_mark(b, n);
	/* a name-resolution block and a custom block: ignored, not counted */
	pkt.len = 0;
	zeros(&pkt, 4);
	ng_block(b, 0, 4, &pkt);
	ng_mark(b, n);
	ng_block(b, 0, 0x40000bad, &pkt);
	ng_mark(b, n);
	/* simple packet block on if0: no timestamp */
	w[n] = (struct pkt){ 0, 0x01020304, 0x05060708, 1, 2, 41, 25 };
	pkt.len = 0;
	ethernet(&pkt, 0, 0x0800);
	ipv4_udp(&pkt, &w[n]);
	ng_spb(b, 0, &pkt);
	ng_mark(b, ++n);
	/* section 2, big-endian: interfaces numbered afresh */
	ng_shb(b, 1);
	ng_mark(b, n);
	ng_idb(b, 1, 113, -1); /* Linux SLL, default microseconds */
	ng_mark(b, n);
	ng_idb(b, 1, 1, 0x80 | 20); /* 2^-20 s */
	ng_mark(b, n);
	ng_idb(b, 1, 229, 12); /* IPv6 link type, picoseconds */
	ng_mark(b, n);
	w[n] = (struct pkt){ 1000000000ll, 0xac100001, 0xac100002, 40000, 9000, 77, 26 };
	pkt.len = 0;
	zeros(&pkt, 14);
	u16(&pkt, 1, 0x0800);
	ipv4_udp(&pkt, &w[n]);
	ng_epb(b, 1, 0, 1000000ull, &pkt);
	ng_mark(b, ++n);
	w[n] = (struct pkt){ 3500000000ll, 0xac100003, 0xac100004, 40001, 9001, 64, 27 };
	pkt.len = 0;
	ethernet(&pkt, 1, 0x0800);
	ipv4_udp(&pkt, &w[n]);
	ng_epb(b, 1, 1, 3ull << 20 | 1ull << 19, &pkt);
	ng_mark(b, ++n);
	w[n] = (struct pkt){ 1234567890123ll, 0, 0, 40002, 9002, 3, 28 };
	pkt.len = 0;
	ipv6_udp(&pkt, &w[n]);
	ng_epb(b, 1, 2, 1234567890123456ull, &pkt);
	ng_mark(b, ++n);
	T_EQ(n, NG_WANT);
	free_buf(&pkt);
}

static void test_pcapng(void)
{
	const char *path = tmp_path("t.pcapng");
	struct buf b = { 0 }, pkt = { 0 };
	struct pcap_reader *r = NULL;
	struct pcap_pkt p;

	build_ng(&b);
	write_file(path, b.p, b.len);
	read_expect(path, ng_want, NG_WANT, 2, 1);
	/* a timestamp far beyond int64 ns wraps instead of overflowing (UBSan checks) */
	b.len = 0;
	ng_shb(&b, 0);
	ng_idb(&b, 0, 101, 3);
	{
		struct pkt k = { 0, 1, 2, 3, 4, 1, 1 };
		ipv4_udp(&pkt, &k);
	}
	ng_epb(&b, 0, 0, UINT64_MAX, &pkt);
	write_file(path, b.p, b.len);
	T_EQ(pcap_open(&r, path), 0);
	if (r) {
		T_CHECK(pcap_next(r, &p) == 1 && p.len == 1 && p.dst_port == 4);
		T_EQ(pcap_next(r, &p), 0);
		pcap_close(r);
	}
	/* a byte-order mark that is neither order */
	b.len = 0;
	ng_shb(&b, 0);
	b.p[8] = 0x12;
	write_file(path, b.p, b.len);
	T_EQ(pcap_open(&r, path), 0);
	if (r) {
		T_EQ(pcap_next(r, &p), -EPROTO);
		pcap_close(r);
	}
	/* block lengths that are too small or not a multiple of 4 */
	for (uint32_t bad = 0; bad < 16; bad++) {
		if (bad == 12)
			continue;
		b.len = 0;
		ng_shb(&b, 0);
		u32(&b, 0, 6);
		u32(&b, 0, bad == 13 ? 30 : bad);
		zeros(&b, 40);
		write_file(path, b.p, b.len);
		T_EQ(pcap_open(&r, path), 0);
		if (r) {
			T_CHECKF(pcap_next(r, &p) == -EPROTO, "block length %u", bad);
			pcap_close(r);
		}
	}
	free_buf(&b);
	free_buf(&pkt);
	unlink(path);
}

/* Every prefix of a file: the complete packets, then 0 at a record boundary or -EPROTO. */
static void truncations(const struct buf *b, const size_t *ends, const size_t *udp, int nends,
			const struct pkt *want, const char *what)
{
	const char *path = tmp_path("trunc");

	for (size_t len = 0; len < b->len; len++) {
		struct pcap_reader *r = NULL;
		struct pcap_pkt p;
		size_t complete = 0;
		int at_end = len == 0, rc, got = 0;

		for (int i = 0; i < nends; i++)
			if (ends[i] <= len) {
				complete = udp[i];
				at_end |= ends[i] == len;
			}
		write_file(path, b->p, len);
		rc = pcap_open(&r, path);
		if (len < 24) {
			T_CHECKF(rc == -EPROTO, "%s: %zu bytes: open %d", what, len, rc);
			continue;
		}
		T_CHECKF(rc == 0, "%s: %zu bytes: open %d", what, len, rc);
		if (rc)
			break;
		while ((rc = pcap_next(r, &p)) == 1 && got < 100) {
			T_CHECK(p.len == want[got].len && p.dst_port == want[got].dport);
			got++;
		}
		T_CHECKF((size_t)got == complete && rc == (at_end ? 0 : -EPROTO),
			 "%s cut at %zu: %d packets (want %zu), rc %d", what, len, got, complete,
			 rc);
		T_EQ(pcap_next(r, &p), rc); /* an error stays an error, without moving */
		pcap_close(r);
		if (t_case_failed)
			break;
	}
	unlink(path);
}

static void test_truncation(void)
{
	struct buf b = { 0 };
	size_t ends[4], udp[4];

	/* classic: header + 3 records */
	write_rt(tmp_path("three.pcap"), 3);
	{
		size_t n;
		uint8_t *d = t_read_file(tmp_path("three.pcap"), &n);
		T_CHECK(d != NULL && n == 24 + 3 * 44 + 0 + 1 + 7);
		if (d)
			put(&b, d, n);
		free(d);
	}
	unlink(tmp_path("three.pcap"));
	ends[0] = 24, udp[0] = 0;
	ends[1] = 24 + 44, udp[1] = 1;
	ends[2] = 24 + 44 + 45, udp[2] = 2;
	ends[3] = 24 + 44 + 45 + 51, udp[3] = 3;
	truncations(&b, ends, udp, 4, rt_pkts, "pcap");
	free_buf(&b);
	/* pcapng: every block boundary of the two-section file */
	build_ng(&b);
	truncations(&b, ng_ends, ng_udp, ng_nblocks, ng_want, "pcapng");
	free_buf(&b);
}

static void test_garbage(void)
{
	const char *path = tmp_path("junk");
	struct pcap_reader *r = NULL;
	struct pcap_pkt p;
	struct buf b = { 0 };
	uint8_t h[PCAP_FILE_HEADER_LEN];
	unsigned seed = 99;

	T_EQ(pcap_open(&r, tmp_path("absent.pcap")), -ENOENT);
	write_file(path, "", 0);
	T_EQ(pcap_open(&r, path), -EPROTO);
	pcap_file_header(h);
	write_file(path, h, 23);
	T_EQ(pcap_open(&r, path), -EPROTO);
	write_file(path, "this is not a pcap file, just some text\n", 40);
	T_EQ(pcap_open(&r, path), -EPROTO);
	T_EQ(pcap_open(&r, t_data_path("ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw")),
	     -EPROTO);
	T_LT(pcap_open(&r, dir), 0); /* a directory */
	/* a header alone: a valid, empty capture */
	write_file(path, h, sizeof h);
	T_EQ(pcap_open(&r, path), 0);
	if (r) {
		T_CHECK(pcap_next(r, &p) == 0 && pcap_skipped(r) == 0 && !pcap_is_ng(r));
		pcap_close(r);
	}
	/* a record longer than the file */
	put(&b, h, sizeof h);
	u32(&b, 0, 1);
	u32(&b, 0, 2);
	u32(&b, 0, 0xffffffff);
	u32(&b, 0, 0xffffffff);
	zeros(&b, 100);
	write_file(path, b.p, b.len);
	T_EQ(pcap_open(&r, path), 0);
	if (r) {
		T_EQ(pcap_next(r, &p), -EPROTO);
		pcap_close(r);
	}
	free_buf(&b);
	/* random damage to the pcapng and pcap files: never a crash, payloads inside the file */
	for (int kind = 0; kind < 2; kind++) {
		struct buf good = { 0 };

		if (kind == 0) {
			build_ng(&good);
		} else {
			size_t n;
			uint8_t *d;
			write_rt(path, 6);
			d = t_read_file(path, &n);
			if (d)
				put(&good, d, n);
			free(d);
		}
		for (int round = 0; round < 1500; round++) {
			int flips = 1 + round % 4, rc, steps = 0;

			b.len = 0;
			put(&b, good.p, good.len);
			for (int i = 0; i < flips; i++) {
				size_t at = (size_t)rand_r(&seed) % b.len;
				b.p[at] = round % 3 ? (uint8_t)rand_r(&seed) : b.p[at] ^ 0x80;
			}
			if (round % 5 == 0)
				b.len = (size_t)rand_r(&seed) % b.len;
			write_file(path, b.p, b.len);
			if (pcap_open(&r, path) != 0)
				continue;
			while ((rc = pcap_next(r, &p)) == 1 && steps++ < 1000) {
				if (p.len && !memmem(b.p, b.len, p.data, p.len)) {
					T_CHECKF(0, "round %d: payload not from the file", round);
					break;
				}
			}
			T_CHECK(rc == 0 || rc == -EPROTO || rc == 1);
			pcap_close(r);
			if (t_case_failed)
				break;
		}
		free_buf(&good);
		free_buf(&b);
	}
	unlink(path);
}

/* The real capture: 8641 RTCarInfo datagrams (328 bytes) from port 50000 to 9996 on
 * loopback, microsecond pcap; the payloads are the .raw file's 328-byte slices. */
static void test_real_capture(void)
{
	struct pcap_reader *r = NULL;
	struct pcap_pkt p;
	size_t raw_len = 0;
	uint8_t *raw = t_read_file(t_data_path("ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw"),
				   &raw_len);
	int64_t first = 0, prev = 0;
	int n = 0, bad = 0, rc;

	T_CHECK(raw && raw_len == 8641 * 328);
	rc = pcap_open(&r, t_data_path("ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"));
	T_CHECKF(rc == 0, "open: %d", rc);
	if (rc || !raw) {
		free(raw);
		return;
	}
	T_CHECK(!pcap_is_ng(r));
	while ((rc = pcap_next(r, &p)) == 1) {
		if (p.len != 328 || p.dst_port != 9996 || p.src_port != 50000 ||
		    p.src_ip != 0x7f000001 || p.dst_ip != 0x7f000001 || p.t_ns < prev ||
		    (size_t)(n + 1) * 328 > raw_len ||
		    memcmp(p.data, raw + (size_t)n * 328, 328) != 0)
			bad++;
		if (n == 0)
			first = p.t_ns;
		prev = p.t_ns;
		n++;
	}
	T_CHECKF(rc == 0 && n == 8641 && bad == 0, "rc %d, %d packets, %d bad", rc, n, bad);
	T_EQ(first, 1487973768153762000ll);
	T_EQ(prev, 1487973916918460000ll);
	T_EQ(pcap_skipped(r), 0);
	pcap_rewind(r);
	n = 0;
	while (pcap_next(r, &p) == 1)
		n++;
	T_EQ(n, 8641);
	pcap_close(r);
	free(raw);
}

/* Remove what a failed case may have left behind, then the directory. */
static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(tmp_path(e->d_name));
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/pw_test_pcap.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_writer_format);
	T_RUN(test_roundtrip);
	T_RUN(test_tshark);
	T_RUN(test_classic_variants);
	T_RUN(test_skipped);
	T_RUN(test_pcapng);
	T_RUN(test_truncation);
	T_RUN(test_garbage);
	T_RUN(test_real_capture);
	remove_dir();
	return T_DONE();
}
