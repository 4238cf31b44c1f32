/*
 * bench_ring.c - frame-ring throughput with 0, 1 and 2 reader processes
 * (target >= 10 M frames/s each), and what the readers saw.
 *
 * Readers are separate processes, as in the stack: they follow the ring
 * with seg_read and block in seg_wait when they catch up. The producer
 * notifies once per 256 frames (pw-capture notifies once per receive batch).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/seg.h"

#define FRAMES 20000000ull
#define TARGET 10e6

static char inst[32];

static void reader(void)
{
	struct seg *s = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame f;
	uint64_t n = 0;
	int64_t deadline = clock_mono_ns() + 60 * NS_PER_S;

	if (seg_attach(&s, inst, "bench") < 0)
		_exit(1);
	while (c.next < FRAMES && clock_mono_ns() < deadline) {
		if (seg_read(s, &c, &f) == 1)
			n++;
		else
			seg_wait(s, c.next, 10);
	}
	printf("  reader %d: read %llu, lapped past %llu (%.1f%%)\n", getpid(),
	       (unsigned long long)n, (unsigned long long)c.missed,
	       100.0 * (double)c.missed / FRAMES);
	fflush(stdout);
	_exit(0);
}

static int bench(int readers)
{
	struct seg_config cfg = seg_default_config(333, 333 * 360);
	struct seg *s = NULL;
	struct pw_frame f;
	pid_t kids[2];
	int64_t t0, dt;
	double rate;

	seg_unlink(inst, "bench");
	if (seg_create(&s, inst, "bench", PW_FEED_KSUDP, &cfg) < 0)
		return 1;
	for (int k = 0; k < readers; k++)
		if ((kids[k] = fork()) == 0)
			reader();
	usleep(50000);
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	t0 = clock_mono_ns();
	for (uint64_t i = 0; i < FRAMES; i++) {
		f.speed_kmh = (float)i;
		seg_publish(s, &f);
		if ((i & 255) == 255)
			seg_notify(s);
	}
	seg_notify(s);
	dt = clock_mono_ns() - t0;
	rate = (double)FRAMES / ((double)dt / 1e9);
	printf("ring %d reader(s): %.1f M frames/s (%.1f ns/frame, %llu slots)  %s\n", readers,
	       rate / 1e6, (double)dt / FRAMES, (unsigned long long)cfg.frame_slots,
	       rate >= TARGET ? "ok" : "UNDER TARGET");
	fflush(stdout);
	for (int k = 0; k < readers; k++)
		waitpid(kids[k], NULL, 0);
	seg_close(s);
	seg_unlink(inst, "bench");
	return rate >= TARGET ? 0 : 1;
}

int main(void)
{
	int fails = 0;

	snprintf(inst, sizeof inst, "bench%d", (int)getpid());
	for (int r = 0; r <= 2; r++)
		fails += bench(r);
	return fails ? 1 : 0;
}
