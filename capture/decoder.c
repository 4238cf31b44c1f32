/* decoder.c - the decoder table: adding a game is one file and one line here. */
#include <string.h>

#include "capture/decoder.h"

static const struct decoder *const decoders[] = {
	&dec_ksudp, &dec_pcars, &dec_acc, &dec_forza, &dec_f1, NULL,
};

void dec_reset(struct dec_state *st)
{
	memset(st, 0, sizeof *st);
}

const struct decoder *const *dec_all(void)
{
	return decoders;
}

const struct decoder *dec_find(const char *feed)
{
	for (const struct decoder *const *d = decoders; *d; d++)
		if (feed && strcmp((*d)->feed, feed) == 0)
			return *d;
	return NULL;
}

const struct decoder *dec_by_id(enum pw_feed feed)
{
	for (const struct decoder *const *d = decoders; *d; d++)
		if ((*d)->feed_id == feed)
			return *d;
	return NULL;
}

void dec_meta_set(struct dec_state *st, char *dst, size_t cap, const char *src, size_t n)
{
	char tmp[256];
	size_t c = cap < sizeof tmp ? cap : sizeof tmp;

	meta_strcpy(tmp, c, src, n);
	if (strncmp(tmp, dst, c) != 0) {
		memcpy(dst, tmp, c);
		st->meta_gen++;
	}
}
