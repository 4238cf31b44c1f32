/*
 * bench_ws_seed.c - the cost of a seed-004 telemetry message (api/ws_seed.c):
 * the contract's payload formatted from a frame, and the whole message
 * (payload and envelope) as the pacer builds it once per feed and tick,
 * beside pitwall's own frame JSON for scale. Frames: the emulator's laps at
 * 333 Hz with FM2023's metadata (every channel present).
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/ws_int.h"
#include "common/clock.h"
#include "tests/unit/t_frames.h"

#define NFRAMES 20000
#define REPS 5

int main(void)
{
	struct pw_frame *f = t_sim_frames(NFRAMES, 5, 1);
	struct ws_feed *feed = calloc(1, sizeof *feed);
	char buf[WS_SEED_TELEMETRY_MAX];
	size_t bytes = 0, frame_bytes = 0;
	double payload_ns, msg_ns, frame_ns;
	int64_t t0;

	if (!f || !feed) {
		fprintf(stderr, "bench_ws_seed: out of memory\n");
		return 1;
	}
	snprintf(feed->name, sizeof feed->name, "forza");
	snprintf(feed->meta.track, sizeof feed->meta.track, "track_ordinal:861");
	feed->have_latest = feed->in_session = true;
	t0 = clock_mono_ns();
	for (int r = 0; r < REPS; r++)
		for (size_t i = 0; i < NFRAMES; i++) {
			ws_seed_lap_track(&feed->seed_lap, &f[i]);
			bytes += ws_seed_telemetry(&f[i], &feed->meta, &feed->seed_lap, true, 1000,
						   buf, sizeof buf);
		}
	payload_ns = (double)(clock_mono_ns() - t0) / (NFRAMES * REPS);
	t0 = clock_mono_ns();
	for (size_t i = 0; i < NFRAMES; i++) {
		feed->latest = f[i];
		ws_msg_unref(ws_seed_telemetry_msg(feed, true));
	}
	msg_ns = (double)(clock_mono_ns() - t0) / NFRAMES;
	t0 = clock_mono_ns();
	for (size_t i = 0; i < NFRAMES; i++)
		frame_bytes += frame_to_json(&f[i], buf, sizeof buf);
	frame_ns = (double)(clock_mono_ns() - t0) / NFRAMES;
	printf("seed-004 telemetry message: payload %.0f ns (%zu bytes), whole message %.0f ns per "
	       "feed and tick, shared by the feed's clients (pitwall's frame JSON: %.0f ns, %zu "
	       "bytes)\n",
	       payload_ns, bytes / (NFRAMES * REPS), msg_ns, frame_ns, frame_bytes / NFRAMES);
	free(feed);
	free(f);
	return 0;
}
