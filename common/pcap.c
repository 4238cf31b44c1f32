/* pcap.c - see pcap.h */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/pcap.h"

#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_RAW 101
#define LT_LOOP 108
#define LT_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_SLL2 276
#define MAX_IFACES 16

/* A pcapng interface's timestamp unit as a fraction of a nanosecond: t_ns = ts * num / den. */
struct ts_unit {
	uint64_t num, den;
};

struct pcap_reader {
	const uint8_t *map;
	size_t size, pos, first;
	int ng, swapped;
	uint32_t linktype; /* classic pcap */
	int64_t tick_ns;   /* classic: 1000 (us) or 1 (ns) */
	uint32_t if_linktype[MAX_IFACES];
	struct ts_unit if_unit[MAX_IFACES];
	int nifaces;
	uint64_t skipped;
};

static uint16_t g16(const struct pcap_reader *r, const uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);
	return r->swapped ? (uint16_t)(v >> 8 | v << 8) : v;
}

static uint32_t g32(const struct pcap_reader *r, const uint8_t *p)
{
	uint32_t v =
		(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return r->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pcap_open(struct pcap_reader **out, const char *path)
{
	struct pcap_reader *r;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t magic;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_size < 24) {
		close(fd);
		return -EPROTO;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->size = (size_t)st.st_size;
	r->map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		free(r);
		return -errno;
	}
	magic = (uint32_t)r->map[0] | (uint32_t)r->map[1] << 8 | (uint32_t)r->map[2] << 16 |
		(uint32_t)r->map[3] << 24;
	switch (magic) {
	case 0xa1b2c3d4:
		r->tick_ns = 1000;
		break;
	case 0xd4c3b2a1:
		r->tick_ns = 1000;
		r->swapped = 1;
		break;
	case 0xa1b23c4d:
		r->tick_ns = 1;
		break;
	case 0x4d3cb2a1:
		r->tick_ns = 1;
		r->swapped = 1;
		break;
	case 0x0a0d0d0a:
		r->ng = 1;
		break;
	default:
		pcap_close(r);
		return -EPROTO;
	}
	if (!r->ng) {
		r->linktype = g32(r, r->map + 20) & 0xffff;
		r->first = 24;
	}
	r->pos = r->first;
	*out = r;
	return 0;
}

void pcap_close(struct pcap_reader *r)
{
	if (!r)
		return;
	munmap((void *)r->map, r->size);
	free(r);
}

void pcap_rewind(struct pcap_reader *r)
{
	r->pos = r->first;
	r->nifaces = 0;
}

uint64_t pcap_skipped(const struct pcap_reader *r)
{
	return r->skipped;
}

int pcap_is_ng(const struct pcap_reader *r)
{
	return r->ng;
}

/* Parse an IPv4/IPv6 packet; 1 if it holds a complete UDP datagram. */
static int parse_ip(const uint8_t *p, size_t n, struct pcap_pkt *out)
{
	size_t hl, total;

	if (n < 1)
		return 0;
	if ((p[0] >> 4) == 4) {
		if (n < 20)
			return 0;
		hl = (size_t)(p[0] & 15) * 4;
		total = be16(p + 2);
		if (hl < 20 || total < hl || total > n || p[9] != 17)
			return 0;
		if ((be16(p + 6) & 0x3fff) != 0) /* fragments are not reassembled */
			return 0;
		out->src_ip = be32(p + 12);
		out->dst_ip = be32(p + 16);
		p += hl;
		n = total - hl;
	} else if ((p[0] >> 4) == 6) {
		if (n < 40 || p[6] != 17)
			return 0;
		total = 40 + (size_t)be16(p + 4);
		if (total > n)
			return 0;
		out->src_ip = out->dst_ip = 0;
		p += 40;
		n = total - 40;
	} else {
		return 0;
	}
	if (n < 8 || be16(p + 4) < 8 || be16(p + 4) > n)
		return 0;
	out->src_port = be16(p);
	out->dst_port = be16(p + 2);
	out->data = p + 8;
	out->len = (uint32_t)be16(p + 4) - 8;
	return 1;
}

static int parse_link(uint32_t lt, const uint8_t *p, size_t n, struct pcap_pkt *out)
{
	size_t off;
	uint16_t type;

	switch (lt) {
	case LT_RAW:
	case LT_IPV4:
	case LT_IPV6:
		return parse_ip(p, n, out);
	case LT_NULL:
	case LT_LOOP:
		return n >= 4 && parse_ip(p + 4, n - 4, out);
	case LT_ETHERNET:
		off = 12;
		for (int tags = 0; tags < 2 && n >= off + 2 &&
				   (be16(p + off) == 0x8100 || be16(p + off) == 0x88a8);
		     tags++)
			off += 4;
		if (n < off + 2)
			return 0;
		type = be16(p + off);
		off += 2;
		return (type == 0x0800 || type == 0x86dd) && parse_ip(p + off, n - off, out);
	case LT_SLL:
		return n >= 16 && parse_ip(p + 16, n - 16, out);
	case LT_SLL2:
		return n >= 20 && parse_ip(p + 20, n - 20, out);
	default:
		return 0;
	}
}

static int next_classic(struct pcap_reader *r, struct pcap_pkt *p)
{
	while (r->pos < r->size) {
		const uint8_t *h = r->map + r->pos;
		uint32_t incl;

		if (r->size - r->pos < 16)
			return -EPROTO;
		incl = g32(r, h + 8);
		if (incl > r->size - r->pos - 16)
			return -EPROTO;
		r->pos += 16 + (size_t)incl;
		p->t_ns = (int64_t)g32(r, h) * 1000000000ll + (int64_t)g32(r, h + 4) * r->tick_ns;
		if (parse_link(r->linktype, h + 16, incl, p))
			return 1;
		r->skipped++;
	}
	return 0;
}

static struct ts_unit ng_unit(const struct pcap_reader *r, const uint8_t *opt, size_t n)
{
	/* if_tsresol option (9): 10^-v s, or 2^-(v & 0x7f) s with the top bit */
	while (n >= 4) {
		uint16_t code = g16(r, opt), len = g16(r, opt + 2);
		if (code == 0 || (size_t)len + 4 > n)
			break;
		if (code == 9 && len >= 1) {
			uint8_t v = opt[4];
			struct ts_unit u = { 1, 1 };
			if (v & 0x80) {
				u.num = 1000000000;
				u.den = 1ull << ((v & 0x7f) < 63 ? v & 0x7f : 63);
				return u;
			}
			for (int i = v; i < 9; i++)
				u.num *= 10;
			for (int i = 9; i < v && i < 28; i++) /* below 1e-28 s every ts is 0 ns */
				u.den = u.den > UINT64_MAX / 10 ? UINT64_MAX : u.den * 10;
			return u;
		}
		size_t step = 4 + (((size_t)len + 3) & ~(size_t)3);
		if (step > n)
			break;
		opt += step;
		n -= step;
	}
	return (struct ts_unit){ 1000, 1 }; /* default: microseconds */
}

static int next_ng(struct pcap_reader *r, struct pcap_pkt *p)
{
	while (r->pos < r->size) {
		const uint8_t *b = r->map + r->pos;
		uint32_t type, len;

		if (r->size - r->pos < 12)
			return -EPROTO;
		type = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		       (uint32_t)b[3] << 24;
		if (type == 0x0a0d0d0a) {
			/* section header: its byte-order magic decides the section's endianness */
			uint32_t bom = (uint32_t)b[8] | (uint32_t)b[9] << 8 |
				       (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
			if (bom == 0x1a2b3c4d)
				r->swapped = 0;
			else if (bom == 0x4d3c2b1a)
				r->swapped = 1;
			else
				return -EPROTO;
			r->nifaces = 0;
		} else {
			type = g32(r, b);
		}
		len = g32(r, b + 4);
		if (len < 12 || len % 4 || len > r->size - r->pos)
			return -EPROTO;
		r->pos += len;
		if (type == 1 && len >= 20) { /* IDB */
			if (r->nifaces < MAX_IFACES) {
				r->if_linktype[r->nifaces] = g16(r, b + 8);
				r->if_unit[r->nifaces] = ng_unit(r, b + 16, len - 20);
			}
			r->nifaces++;
		} else if (type == 6 && len >= 32) { /* EPB */
			uint32_t ifc = g32(r, b + 8), cap = g32(r, b + 20);
			uint64_t ts = (uint64_t)g32(r, b + 12) << 32 | g32(r, b + 16);
			if (cap > len - 32 || ifc >= (uint32_t)r->nifaces || ifc >= MAX_IFACES) {
				r->skipped++;
				continue;
			}
			/* 128-bit: a corrupt timestamp must wrap, not overflow a signed int */
			p->t_ns = (int64_t)(uint64_t)((unsigned __int128)ts * r->if_unit[ifc].num /
						      r->if_unit[ifc].den);
			if (parse_link(r->if_linktype[ifc], b + 28, cap, p))
				return 1;
			r->skipped++;
		} else if (type == 3 && len >= 16 && r->nifaces > 0) { /* SPB */
			uint32_t orig = g32(r, b + 8), cap = len - 16;
			p->t_ns = 0;
			if (parse_link(r->if_linktype[0], b + 12, orig < cap ? orig : cap, p))
				return 1;
			r->skipped++;
		}
	}
	return 0;
}

int pcap_next(struct pcap_reader *r, struct pcap_pkt *p)
{
	memset(p, 0, sizeof *p);
	return r->ng ? next_ng(r, p) : next_classic(r, p);
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void pcap_file_header(uint8_t out[PCAP_FILE_HEADER_LEN])
{
	put32le(out, 0xa1b23c4d); /* nanosecond resolution */
	out[4] = 2, out[5] = 0;   /* version 2.4 */
	out[6] = 4, out[7] = 0;
	put32le(out + 8, 0);      /* thiszone */
	put32le(out + 12, 0);     /* sigfigs */
	put32le(out + 16, 65535); /* snaplen */
	put32le(out + 20, LT_RAW);
}

size_t pcap_udp_record(uint8_t *out, size_t cap, int64_t t_ns, uint32_t src_ip, uint16_t src_port,
		       uint32_t dst_ip, uint16_t dst_port, const void *payload, size_t len)
{
	size_t total = PCAP_UDP_OVERHEAD + len;
	uint8_t *ip = out + 16, *udp = out + 36;
	uint32_t sum = 0;

	if (len > 65507 || cap < total)
		return 0;
	put32le(out, (uint32_t)(t_ns / 1000000000ll));
	put32le(out + 4, (uint32_t)(t_ns % 1000000000ll));
	put32le(out + 8, (uint32_t)(total - 16));
	put32le(out + 12, (uint32_t)(total - 16));
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(20 + 8 + len));
	ip[8] = 64; /* TTL */
	ip[9] = 17; /* UDP */
	put32be(ip + 12, src_ip);
	put32be(ip + 16, dst_ip);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16be(ip + 10, (uint16_t)~sum);
	put16be(udp, src_port);
	put16be(udp + 2, dst_port);
	put16be(udp + 4, (uint16_t)(8 + len));
	put16be(udp + 6, 0);
	if (len) /* an empty datagram may come with a NULL payload */
		memcpy(udp + 8, payload, len);
	return total;
}
