/*
 * pcap.h - reading UDP payloads out of pcap/pcapng files, and writing pcap.
 *
 * Reader: classic pcap (either byte order, micro- or nanosecond) and pcapng
 * (SHB/IDB/EPB/SPB, per-interface link type and timestamp resolution), link
 * types NULL/LOOP, Ethernet (with 802.1Q tags), RAW/IPv4/IPv6, Linux SLL and
 * SLL2. Only UDP datagrams are returned; other packets are skipped and
 * counted. The file is mapped read-only; packets point into the mapping and
 * stay valid until pcap_close(). Every length is checked before use: a
 * truncated or corrupt file ends the read with -EPROTO, never a crash.
 *
 * Writer: pure formatters, so callers keep control of their own durable I/O:
 * a classic nanosecond pcap header with LINKTYPE_RAW, and per datagram a
 * record with IPv4 + UDP headers carrying the real addresses and ports (IP
 * checksum filled in; UDP checksum 0 = not computed, valid for IPv4), so
 * tshark and Wireshark decode it.
 */
#ifndef PW_PCAP_H
#define PW_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct pcap_pkt {
	int64_t t_ns;        /* capture time, ns since the epoch */
	const uint8_t *data; /* UDP payload */
	uint32_t len;
	uint32_t src_ip, dst_ip; /* IPv4, host order (0 for IPv6) */
	uint16_t src_port, dst_port;
};

struct pcap_reader;

/* Lifecycle */
/* Open path; -EPROTO when it is neither pcap nor pcapng (the caller may treat
 * it as a raw capture), -errno on I/O errors. */
int pcap_open(struct pcap_reader **out, const char *path);
void pcap_close(struct pcap_reader *r);

/* Operations */
/* Next UDP datagram: 1, 0 at the end, -EPROTO on a corrupt file. */
int pcap_next(struct pcap_reader *r, struct pcap_pkt *p);
/* Rewind to the first packet. */
void pcap_rewind(struct pcap_reader *r);

/* Accessors */
uint64_t pcap_skipped(const struct pcap_reader *r); /* non-UDP packets passed over */
int pcap_is_ng(const struct pcap_reader *r);

/* Writer */
#define PCAP_FILE_HEADER_LEN 24
#define PCAP_UDP_OVERHEAD (16 + 20 + 8) /* record header + IPv4 + UDP */
/* The 24-byte file header (nanosecond magic, LINKTYPE_RAW, snaplen 65535). */
void pcap_file_header(uint8_t out[PCAP_FILE_HEADER_LEN]);
/* One record for a UDP datagram; returns its length (len + PCAP_UDP_OVERHEAD)
 * or 0 when cap is too small or len > 65507. Addresses in host order. */
size_t pcap_udp_record(uint8_t *out, size_t cap, int64_t t_ns, uint32_t src_ip, uint16_t src_port,
		       uint32_t dst_ip, uint16_t dst_port, const void *payload, size_t len);

#endif
