/* encoder.c - the encoder table; the first entry of a feed is its default format. */
#include <string.h>

#include "capture/sim/encoder.h"

static const struct encoder *const encoders[] = {
	&enc_ksudp,        &enc_pcars_v2,  &enc_pcars_v1, &enc_acc,
	&enc_forza_fm2023, &enc_forza_fm7, &enc_forza_fh, &enc_forza_sled,
	&enc_f1_2025,      &enc_f1_2024,   &enc_f1_2023,  NULL,
};

const struct encoder *const *enc_all(void)
{
	return encoders;
}

const struct encoder *enc_find(const char *feed, const char *format)
{
	for (const struct encoder *const *e = encoders; *e; e++)
		if (strcmp((*e)->feed, feed) == 0 && (!format || strcmp((*e)->format, format) == 0))
			return *e;
	return NULL;
}
