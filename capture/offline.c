/* offline.c - pw-capture --decode: a capture file in, one JSON frame per line out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/rawsplit.h"
#include "common/log.h"
#include "common/pcap.h"

struct tally {
	uint64_t packets, frames, decoded, wrong_size, unknown;
};

static void decode_one(const struct decoder *dec, struct dec_state *st, const uint8_t *buf,
		       size_t len, int64_t t_ns, struct tally *t)
{
	static char line[8192];
	struct pw_frame f;
	int r = dec->decode(st, buf, len, &f);

	t->packets++;
	st->out_len = 0; /* offline: nobody to answer */
	if (r == DEC_ESIZE) {
		t->wrong_size++;
		return;
	}
	if (r == DEC_EFORMAT) {
		t->unknown++;
		return;
	}
	t->decoded++;
	if (r != DEC_FRAME)
		return;
	f.seq = t->frames++;
	f.t_ns = t_ns;
	frame_to_json(&f, line, sizeof line);
	fputs(line, stdout);
	fputc('\n', stdout);
}

static int decode_pcap(struct pcap_reader *r, const struct decoder *dec, struct dec_state *st,
		       struct tally *t)
{
	struct pcap_pkt p;
	int rc;

	while ((rc = pcap_next(r, &p)) == 1)
		decode_one(dec, st, p.data, p.len, p.t_ns, t);
	return rc;
}

static int decode_raw(const char *path, const struct decoder *dec, struct dec_state *st,
		      struct tally *t)
{
	struct rawsplit rs;
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	size_t off = 0;
	int rc = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		rc = -EIO;
		goto out;
	}
	if (rawsplit_init(&rs, dec->feed, (size_t)size) < 0) {
		log_error("msg=\"cannot split a raw %s capture: datagram lengths are not "
			  "recoverable; use a pcap/pcapng file\" file=%s", dec->feed, path);
		rc = -EINVAL;
		goto out;
	}
	while (off < (size_t)size) {
		size_t n = rawsplit_next(&rs, buf + off, (size_t)size - off);
		if (n == 0) {
			log_error("msg=\"raw capture: unrecognised datagram\" file=%s offset=%zu", path,
				  off);
			rc = -EPROTO;
			break;
		}
		decode_one(dec, st, buf + off, n, 0, t);
		off += n;
	}
out:
	free(buf);
	fclose(f);
	return rc;
}

int offline_decode(const struct cap_opts *o, const struct decoder *dec)
{
	struct dec_state *st = calloc(1, sizeof *st);
	struct pcap_reader *r = NULL;
	struct tally t = { 0 };
	const char *kind = "raw";
	int rc;

	if (!st)
		return -ENOMEM;
	if (o->second_player)
		st->opt_flags |= DEC_OPT_F1_SECOND_PLAYER;
	rc = pcap_open(&r, o->decode_file);
	if (rc == 0) {
		kind = pcap_is_ng(r) ? "pcapng" : "pcap";
		rc = decode_pcap(r, dec, st, &t);
		pcap_close(r);
		if (rc < 0)
			log_error("msg=\"corrupt capture file, stopped\" file=%s", o->decode_file);
	} else if (rc == -EPROTO) {
		rc = decode_raw(o->decode_file, dec, st, &t);
	} else {
		log_error("msg=\"cannot open\" file=%s error=\"%s\"", o->decode_file, strerror(-rc));
	}
	fflush(stdout);
	log_info("msg=decoded file=%s kind=%s feed=%s packets=%llu decoded=%llu frames=%llu "
		 "wrong_size=%llu unknown_format=%llu car=\"%s\" track=\"%s\" driver=\"%s\"",
		 o->decode_file, kind, dec->feed, (unsigned long long)t.packets,
		 (unsigned long long)t.decoded, (unsigned long long)t.frames,
		 (unsigned long long)t.wrong_size, (unsigned long long)t.unknown, st->meta.car,
		 st->meta.track, st->meta.driver);
	free(st);
	return rc < 0 ? rc : 0;
}
