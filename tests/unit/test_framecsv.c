/*
 * test_framecsv.c - frames back from CSV (common/framecsv.c): what
 * frame_to_csv writes reads back to frames that write the same CSV again
 * (every channel of the emulator's frames, flags, derived marks, "not known
 * yet" sector times, the real Forza values' floats), a subset of columns in
 * another order with an export's time_s and columns that are not a frame's,
 * quoted fields, and every kind of bad header and row refused with the line
 * and column named.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/framecsv.h"
#include "tests/unit/t.h"
#include "tests/unit/t_frames.h"

static struct framecsv *open_header(const char *h)
{
	struct framecsv *m = NULL;
	char err[FRAMECSV_ERR_MAX] = "";

	T_CHECKF(framecsv_open(&m, h, strlen(h), err, sizeof err) == 0, "%s: %s", h, err);
	return m;
}

/* The emulator's frames through CSV and back: the same CSV again. */
static void test_round_trip(void)
{
	const size_t n = 3000;
	struct pw_frame *f = t_sim_frames(n, 11, 100), g;
	char header[8192], a[8192], b[8192], err[FRAMECSV_ERR_MAX];
	struct framecsv *m;
	size_t bad = 0;

	T_CHECK(f != NULL);
	frame_csv_header(header, sizeof header);
	m = open_header(header);
	if (!f || !m)
		goto out;
	for (size_t i = 0; i < n; i++) {
		/* what real frames have beside the emulator's: absent channels, marks, flags */
		if (i % 7 == 0)
			f[i].present &= ~(uint64_t)(FRAME_P_TYRE_WEAR | FRAME_P_BOOST);
		if (i % 5 == 0)
			f[i].derived = f[i].present & (FRAME_P_LAP_DIST | FRAME_P_ACCEL_LAT);
		if (i % 3 == 0) {
			f[i].sector_ms[1] = -1;
			f[i].sector_ms[2] = -1;
		}
		if (i % 4 == 0) /* a tread zone the game gave no reading of: an empty cell */
			f[i].tyre_temp_outer_c[1] = 0;
		f[i].flags_known = (uint16_t)(i % 64);
		f[i].flags = (uint16_t)((i / 3) % 64) & f[i].flags_known;
		frame_to_csv(&f[i], a, sizeof a);
		if (framecsv_row(m, a, strlen(a), i + 2, &g, NULL, err, sizeof err) < 0) {
			T_CHECKF(0, "row %zu: %s", i, err);
			break;
		}
		frame_to_csv(&g, b, sizeof b);
		if (i == 12) {
			T_CHECK(g.present & FRAME_P_TYRE_TEMP_OUTER);
			T_EQ(g.tyre_temp_outer_c[1], 0);
			T_EQ(g.tyre_temp_outer_c[0], f[i].tyre_temp_outer_c[0]);
			T_CHECK(g.tyre_temp_outer_c[0] != 0);
		}
		if (strcmp(a, b) != 0 && bad++ < 3)
			T_CHECKF(0, "row %zu:\n  %s\n  %s", i, a, b);
		if (i == 0) {
			T_EQ(g.seq, f[i].seq);
			T_EQ(g.t_ns, f[i].t_ns);
			T_EQ(g.game, f[i].game);
			T_EQ(g.feed, f[i].feed);
			T_EQ(g.version, FRAME_VERSION);
		}
		/* the channels' values are the same bits (floats read back as the float) */
		if (i == 10) {
			T_EQ(g.speed_kmh, f[i].speed_kmh);
			T_EQ(g.game_time_s, f[i].game_time_s);
			T_MEMEQ(g.tyre_temp_c, f[i].tyre_temp_c, sizeof g.tyre_temp_c);
			T_MEMEQ(g.tyre_temp_inner_c, f[i].tyre_temp_inner_c, 4);
			/* a channel with every value "not known yet" has only empty cells:
			 * it reads back absent, and writes the same empty cells again */
			T_EQ(g.present,
			     f[i].present &
				     ~(uint64_t)(f[i].sector_ms[0] < 0 && f[i].sector_ms[1] < 0 &&
								 f[i].sector_ms[2] < 0
							 ? FRAME_P_SECTOR_TIMES
							 : 0));
		}
	}
	T_EQ(bad, (size_t)0);
out:
	framecsv_free(m);
	free(f);
}

/* An export with options: time_s first, some channels, in another order, and
 * columns that are not a frame's. */
static void test_subset(void)
{
	static const char h[] = "time_s,speed_kmh,power_kw,tyre_temp_c_rr,tyre_temp_c_fl,"
				"tyre_temp_c_fr,tyre_temp_c_rl,in_pit,game,\"my note\"\r\n";
	struct framecsv *m = open_header(h);
	struct pw_frame f;
	char err[FRAMECSV_ERR_MAX], ign[128];
	double t = 0;
	const char *row = "1.25,187.4,12.5,81,88.3,92.1,79.5,1,forza_motorsport_2023,\"a, b\"\r\n";

	if (!m)
		return;
	framecsv_ignored(m, ign, sizeof ign);
	T_STREQ(ign, "power_kw,my note");
	T_CHECK(framecsv_has(m, "speed_kmh") && framecsv_has(m, "time_s") &&
		!framecsv_has(m, "t_ns") && !framecsv_has(m, "power_kw"));
	T_EQ(framecsv_row(m, row, strlen(row), 2, &f, &t, err, sizeof err), 0);
	T_EQ(t, 1.25);
	T_EQ(f.speed_kmh, 187.4f);
	T_EQ(f.tyre_temp_c[0], 88.3f);
	T_EQ(f.tyre_temp_c[3], 81.0f);
	T_EQ(f.present, (uint64_t)(FRAME_P_SPEED | FRAME_P_TYRE_TEMP));
	T_EQ(f.flags_known, (unsigned)FRAME_FLAG_IN_PIT);
	T_EQ(f.flags, (unsigned)FRAME_FLAG_IN_PIT);
	T_EQ(f.game, PW_GAME_FM2023);
	T_EQ(f.feed, PW_FEED_NONE);
	/* empty cells: absent, unknown */
	row = ",,,,,,,,,";
	T_EQ(framecsv_row(m, row, strlen(row), 3, &f, &t, err, sizeof err), 0);
	T_CHECK(isnan(t) && f.present == 0 && f.flags_known == 0 && f.game == 0);
	framecsv_free(m);
}

static void header_refused(const char *h, const char *part)
{
	struct framecsv *m = NULL;
	char err[FRAMECSV_ERR_MAX] = "";

	T_EQ(framecsv_open(&m, h, strlen(h), err, sizeof err), -EINVAL);
	T_CHECK(m == NULL);
	T_CHECKF(strstr(err, part) != NULL, "%s: \"%s\" lacks \"%s\"", h, err, part);
}

static void row_refused(struct framecsv *m, const char *row, const char *part)
{
	struct pw_frame f;
	char err[FRAMECSV_ERR_MAX] = "";

	T_EQ(framecsv_row(m, row, strlen(row), 7, &f, NULL, err, sizeof err), -EINVAL);
	T_CHECKF(strstr(err, part) != NULL, "%s: \"%s\" lacks \"%s\"", row, err, part);
}

static void test_refused(void)
{
	struct framecsv *m;

	header_refused("a,b,c", "names no channel of a pitwall frame");
	header_refused("", "names no channel");
	header_refused("speed_kmh,rpm,speed_kmh", "the column speed_kmh twice");
	header_refused("speed_kmh,tyre_temp_c_fl,tyre_temp_c_fr", "but not tyre_temp_c_rl");
	header_refused("speed_kmh,\"rpm", "quoted name that does not end");

	m = open_header("seq,t_ns,feed,game,speed_kmh,gear,lap,sector_ms_1,sector_ms_2,"
			"sector_ms_3,tyre_temp_c_fl,tyre_temp_c_fr,tyre_temp_c_rl,tyre_temp_c_rr,"
			"abs,derived");
	if (!m)
		return;
	row_refused(m, "1,2,ksudp,assetto_corsa,fast,,,,,,,,,,,",
		    "line 7, field 5: \"fast\" is "
		    "not a number");
	row_refused(m, "1,2,ksudp,assetto_corsa,1e999,,,,,,,,,,,", "is not a number");
	row_refused(m, "1,2,ksudp,assetto_corsa,,300,,,,,,,,,,",
		    "field 6: 300 is out of the "
		    "channel's range");
	row_refused(m, "1,2,ksudp,assetto_corsa,,2.5,,,,,,,,,,", "is not a whole number");
	row_refused(m, "1,2,ksudp,assetto_corsa,,, 3,,,,,,,,,", "is not a whole number");
	row_refused(m, "1,2,ksudp,assetto_corsa,,,-1,,,,,,,,,", "out of the channel's range");
	row_refused(m, "1,2,nosuch,assetto_corsa,,,,,,,,,,,,", "\"nosuch\" is not a feed");
	row_refused(m, "1,2,ksudp,nosuch,,,,,,,,,,,,", "\"nosuch\" is not a game");
	row_refused(m, "-1,2,ksudp,assetto_corsa,,,,,,,,,,,,", "field 1: \"-1\" is not a whole");
	row_refused(m, "1,x,ksudp,assetto_corsa,,,,,,,,,,,,", "field 2");
	row_refused(m, "1,2,ksudp,assetto_corsa,,,,,,,,,,,2,", "\"2\" is not 0 or 1");
	row_refused(m, "1,2,ksudp,assetto_corsa,,,,,,,,,,,,speedy", "\"speedy\" is not a channel");
	row_refused(m, "1,2,ksudp,assetto_corsa,,,,,,,80,81,,,,",
		    "tyre_temp_c has a value in "
		    "some of its columns, not all");
	row_refused(m, "1,2,ksudp,assetto_corsa,,,,,,,,,,,,,", "more than the header's 16");
	row_refused(m, "1,2,ksudp", "fewer fields than the header has");
	row_refused(m, "1,2,\"ksudp,assetto_corsa,,,,,,,,,,,,", "a quote not closed");
	/* a "not known yet" sector time is an empty cell and reads back as -1 */
	{
		struct pw_frame f;
		char err[FRAMECSV_ERR_MAX];
		const char *row = "1,2,ksudp,assetto_corsa,,,,31000,,,,,,,,speed_kmh";

		T_EQ(framecsv_row(m, row, strlen(row), 8, &f, NULL, err, sizeof err), 0);
		T_EQ(f.present, (uint64_t)FRAME_P_SECTOR_TIMES);
		T_CHECK(f.sector_ms[0] == 31000 && f.sector_ms[1] == -1 && f.sector_ms[2] == -1);
		T_EQ(f.derived, (uint64_t)0); /* derived only where present */
	}
	framecsv_free(m);
}

int main(void)
{
	T_RUN(test_round_trip);
	T_RUN(test_subset);
	T_RUN(test_refused);
	return T_DONE();
}
