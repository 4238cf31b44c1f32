/*
 * frame_check.h - invariants every decoded frame must hold, shared by the
 * decoder fuzz targets: a present channel's floats are finite, an absent
 * one's are zero, and inputs and fractions are in their documented ranges.
 * A broken invariant aborts (the fuzzer reports it).
 */
#ifndef PW_FRAME_CHECK_H
#define PW_FRAME_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/frame.h"

/* A present channel's floats are finite; an absent one's are all zero. */
static inline void check_float(uint64_t present, uint64_t bit, const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((present & bit) && !isfinite(v[i]))
			abort();
		if (!(present & bit) && v[i] != 0.0f)
			abort();
	}
}

static inline void check_unit(uint64_t present, uint64_t bit, const float *v, size_t n, float lo)
{
	for (size_t i = 0; (present & bit) && i < n; i++)
		if (!(v[i] >= lo && v[i] <= 1.0f))
			abort();
}

static inline void check_floats(const struct pw_frame *f)
{
	uint64_t p = f->present;

	check_float(p, FRAME_P_THROTTLE, &f->throttle, 1);
	check_float(p, FRAME_P_BRAKE, &f->brake, 1);
	check_float(p, FRAME_P_CLUTCH, &f->clutch, 1);
	check_float(p, FRAME_P_HANDBRAKE, &f->handbrake, 1);
	check_float(p, FRAME_P_STEER, &f->steer, 1);
	check_float(p, FRAME_P_STEER_DEG, &f->steer_deg, 1);
	check_float(p, FRAME_P_SPEED, &f->speed_kmh, 1);
	check_float(p, FRAME_P_RPM, &f->rpm, 1);
	check_float(p, FRAME_P_MAX_RPM, &f->max_rpm, 1);
	check_float(p, FRAME_P_POWER, &f->power_w, 1);
	check_float(p, FRAME_P_TORQUE, &f->torque_nm, 1);
	check_float(p, FRAME_P_VEL, f->vel_ms, 3);
	check_float(p, FRAME_P_ACCEL_LAT, &f->accel_lat_g, 1);
	check_float(p, FRAME_P_ACCEL_LON, &f->accel_lon_g, 1);
	check_float(p, FRAME_P_ACCEL_VERT, &f->accel_vert_g, 1);
	check_float(p, FRAME_P_POS, f->pos_m, 3);
	check_float(p, FRAME_P_YAW, &f->yaw_rad, 1);
	check_float(p, FRAME_P_PITCH, &f->pitch_rad, 1);
	check_float(p, FRAME_P_ROLL, &f->roll_rad, 1);
	check_float(p, FRAME_P_LAP_DIST, &f->lap_dist_m, 1);
	check_float(p, FRAME_P_SPLINE, &f->spline, 1);
	check_float(p, FRAME_P_TRACK_LEN, &f->track_len_m, 1);
	check_float(p, FRAME_P_TYRE_TEMP, f->tyre_temp_c, 4);
	check_float(p, FRAME_P_TYRE_PRESS, f->tyre_press_kpa, 4);
	check_float(p, FRAME_P_BRAKE_TEMP, f->brake_temp_c, 4);
	check_float(p, FRAME_P_SLIP_RATIO, f->slip_ratio, 4);
	check_float(p, FRAME_P_SLIP_ANGLE, f->slip_angle_rad, 4);
	check_float(p, FRAME_P_WHEEL_SPEED, f->wheel_speed_rads, 4);
	check_float(p, FRAME_P_SUSP_TRAVEL, f->susp_travel_m, 4);
	check_float(p, FRAME_P_TYRE_LOAD, f->tyre_load_n, 4);
	check_float(p, FRAME_P_TYRE_WEAR, f->tyre_wear, 4);
	check_float(p, FRAME_P_FUEL_L, &f->fuel_l, 1);
	check_float(p, FRAME_P_FUEL_FRAC, &f->fuel_frac, 1);
	check_float(p, FRAME_P_BOOST, &f->boost_bar, 1);
	check_unit(p, FRAME_P_THROTTLE, &f->throttle, 1, 0.0f);
	check_unit(p, FRAME_P_BRAKE, &f->brake, 1, 0.0f);
	check_unit(p, FRAME_P_CLUTCH, &f->clutch, 1, 0.0f);
	check_unit(p, FRAME_P_HANDBRAKE, &f->handbrake, 1, 0.0f);
	check_unit(p, FRAME_P_STEER, &f->steer, 1, -1.0f);
	check_unit(p, FRAME_P_FUEL_FRAC, &f->fuel_frac, 1, 0.0f);
	check_unit(p, FRAME_P_TYRE_WEAR, f->tyre_wear, 4, 0.0f);
}

#endif
