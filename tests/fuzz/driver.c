/*
 * driver.c - a deterministic mutation driver for the fuzz targets, so every
 * decoder is fuzzed inside the normal test run (bounded, reproducible) as
 * well as under libFuzzer (`make fuzz`).
 *
 *   fuzz_<name> CORPUS_DIR [ITERATIONS [SEED]]
 *
 * Every seed file runs once unmodified, then ITERATIONS mutated inputs
 * (bit flips, interesting bytes, inserts, deletes, truncation, splices).
 * A crash, a sanitizer report or an abort() from the target fails the run.
 * Prints "PASS <program>" on success (the runner counts it as one test).
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tools/t_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv);

#define FUZZ_MAX_INPUT 65536
#define MAX_SEEDS 512

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

struct seed {
	uint8_t *data;
	size_t len;
};

static int load(const char *dir, struct seed *seeds)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_SEEDS) {
		char path[4096];
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		seeds[n].data = malloc(FUZZ_MAX_INPUT);
		seeds[n].len = fread(seeds[n].data, 1, FUZZ_MAX_INPUT, f);
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

static size_t mutate(uint8_t *b, size_t len, const struct seed *seeds, int nseeds)
{
	static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe, 2, 16, 64 };
	int rounds = 1 + (int)below(4);

	for (int r = 0; r < rounds; r++) {
		size_t pos = below(len + 1), n;
		switch (below(8)) {
		case 0: /* bit flip */
			if (len)
				b[below(len)] ^= (uint8_t)(1u << below(8));
			break;
		case 1: /* interesting byte */
			if (len)
				b[below(len)] = interesting[below(sizeof interesting)];
			break;
		case 2: /* random bytes */
			for (n = below(8) + 1; n-- && len;)
				b[below(len)] = (uint8_t)rnd();
			break;
		case 3: /* insert */
			n = below(64) + 1;
			if (len + n <= FUZZ_MAX_INPUT) {
				memmove(b + pos + n, b + pos, len - pos);
				for (size_t i = 0; i < n; i++)
					b[pos + i] = (uint8_t)rnd();
				len += n;
			}
			break;
		case 4: /* delete */
			n = below(len - (pos < len ? pos : len) + 1);
			if (pos < len) {
				memmove(b + pos, b + pos + n, len - pos - n);
				len -= n;
			}
			break;
		case 5: /* truncate */
			len = below(len + 1);
			break;
		case 6: /* splice with another seed */
			if (nseeds) {
				const struct seed *s = &seeds[below((size_t)nseeds)];
				size_t from = below(s->len + 1), take = below(s->len - from + 1);
				if (pos + take <= FUZZ_MAX_INPUT) {
					memcpy(b + pos, s->data + from, take);
					if (pos + take > len)
						len = pos + take;
				}
			}
			break;
		default: /* 16/32-bit extreme value, often a length or count field */
			if (len >= 4) {
				size_t at = below(len - 3);
				uint32_t v = below(2) ? 0xffffffffu : (uint32_t)below(70000);
				memcpy(b + at, &v, below(2) ? 2 : 4);
			}
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	static struct seed seeds[MAX_SEEDS];
	static uint8_t buf[FUZZ_MAX_INPUT];
	long iters = argc > 2 ? t_arg_long(argv[2], 0, LONG_MAX, "ITERATIONS") : 20000;
	int nseeds;
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS [SEED]]\n", argv[0]);
		return 2;
	}
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) | 1 : 0x9e3779b97f4a7c15ull;
	nseeds = load(argv[1], seeds);
	for (int i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i].data, seeds[i].len);
	for (long i = 0; i < iters; i++) {
		size_t len = 0;
		if (nseeds) {
			const struct seed *s = &seeds[below((size_t)nseeds)];
			memcpy(buf, s->data, s->len);
			len = s->len;
		} else {
			len = below(2048);
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rnd();
		}
		len = mutate(buf, len, seeds, nseeds);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("PASS %s (%d seeds, %ld mutated inputs)\n", name, nseeds, iters);
	for (int i = 0; i < nseeds; i++)
		free(seeds[i].data);
	return 0;
}
