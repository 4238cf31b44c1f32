/*
 * rawsplit.h - split a "raw" capture (datagram payloads concatenated with no
 * framing, as in the .raw files of tests/data) back into datagrams.
 *
 * Only formats whose datagram length can be told from its first bytes can be
 * split: ksudp (RTCarInfo 328 B, handshake response 408 B), pcars v1 (type
 * bits) and v2 (packet type byte), f1 (format + packet id), forza (one fixed
 * size for the whole file, chosen from the file size). ACC messages are
 * variable-length: record ACC as pcap.
 */
#ifndef PW_RAWSPLIT_H
#define PW_RAWSPLIT_H

#include <stddef.h>
#include <stdint.h>

struct rawsplit {
	const char *feed;
	size_t fixed; /* forza: the file's datagram size */
};

/* Prepare for a file of total bytes; -EINVAL when the feed cannot be split. */
int rawsplit_init(struct rawsplit *rs, const char *feed, size_t total);
/* Length of the datagram at buf (avail bytes left), or 0 when unknown/short. */
size_t rawsplit_next(const struct rawsplit *rs, const uint8_t *buf, size_t avail);

#endif
