/* offline.c - pw-capture --decode: a capture file in, one JSON frame per line out, with the
 * derived channels a live capture adds (common/derive.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/rawsplit.h"
#include "common/derive.h"
#include "common/log.h"
#include "common/pcap.h"

struct tally {
	uint64_t packets, frames, decoded, wrong_size, unknown;
};

struct offline {
	const struct decoder *dec;
	struct dec_state *st;
	struct derive *derive; /* as live: the derived channels are in the output */
	struct tally t;
};

static void decode_one(struct offline *x, const uint8_t *buf, size_t len, int64_t t_ns)
{
	static char line[8192];
	struct pw_frame f;
	int r = x->dec->decode(x->st, buf, len, &f);

	x->t.packets++;
	x->st->out_len = 0; /* offline: nobody to answer */
	if (r == DEC_ESIZE) {
		x->t.wrong_size++;
		return;
	}
	if (r == DEC_EFORMAT) {
		x->t.unknown++;
		return;
	}
	x->t.decoded++;
	if (r != DEC_FRAME)
		return;
	f.seq = x->t.frames++;
	f.t_ns = t_ns;
	derive_frame(x->derive, &f);
	frame_to_json(&f, line, sizeof line);
	fputs(line, stdout);
	fputc('\n', stdout);
}

static int decode_pcap(struct pcap_reader *r, struct offline *x)
{
	struct pcap_pkt p;
	int rc;

	while ((rc = pcap_next(r, &p)) == 1)
		decode_one(x, p.data, p.len, p.t_ns);
	return rc;
}

static int decode_raw(const char *path, struct offline *x)
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
	if (rawsplit_init(&rs, x->dec->feed, (size_t)size) < 0) {
		log_error("msg=\"cannot split a raw %s capture: datagram lengths are not "
			  "recoverable; use a pcap/pcapng file\" file=%s",
			  x->dec->feed, path);
		rc = -EINVAL;
		goto out;
	}
	while (off < (size_t)size) {
		size_t n = rawsplit_next(&rs, buf + off, (size_t)size - off);
		if (n == 0) {
			log_error("msg=\"raw capture: unrecognised datagram\" file=%s offset=%zu",
				  path, off);
			rc = -EPROTO;
			break;
		}
		decode_one(x, buf + off, n, 0);
		off += n;
	}
out:
	free(buf);
	fclose(f);
	return rc;
}

int offline_decode(const struct cap_opts *o, const struct decoder *dec)
{
	struct offline x = { .dec = dec };
	struct pcap_reader *r = NULL;
	const char *kind = "raw";
	int rc;

	x.st = calloc(1, sizeof *x.st);
	x.derive = derive_new(DERIVE_WINDOW_S);
	if (!x.st || !x.derive) {
		rc = -ENOMEM;
		goto out;
	}
	if (o->second_player)
		x.st->opt_flags |= DEC_OPT_F1_SECOND_PLAYER;
	rc = pcap_open(&r, o->decode_file);
	if (rc == 0) {
		kind = pcap_is_ng(r) ? "pcapng" : "pcap";
		rc = decode_pcap(r, &x);
		pcap_close(r);
		if (rc < 0)
			log_error("msg=\"corrupt capture file, stopped\" file=%s", o->decode_file);
	} else if (rc == -EPROTO) {
		rc = decode_raw(o->decode_file, &x);
	} else {
		log_error("msg=\"cannot open\" file=%s error=\"%s\"", o->decode_file,
			  strerror(-rc));
	}
	fflush(stdout);
	log_info("msg=decoded file=%s kind=%s feed=%s packets=%llu decoded=%llu frames=%llu "
		 "wrong_size=%llu unknown_format=%llu car=\"%s\" track=\"%s\" driver=\"%s\"",
		 o->decode_file, kind, dec->feed, (unsigned long long)x.t.packets,
		 (unsigned long long)x.t.decoded, (unsigned long long)x.t.frames,
		 (unsigned long long)x.t.wrong_size, (unsigned long long)x.t.unknown,
		 x.st->meta.car, x.st->meta.track, x.st->meta.driver);
out:
	derive_free(x.derive);
	free(x.st);
	return rc < 0 ? rc : 0;
}
