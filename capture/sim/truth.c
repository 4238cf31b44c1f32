/* truth.c - see truth.h */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sim/truth.h"

/* Growable string; on allocation failure it latches failed and drops output. */
struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_grow(struct sbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *s;

	while (cap < need)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->failed = 1;
		return;
	}
	b->s = s;
	b->cap = cap;
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap)
		sb_grow(b, b->len + (size_t)n + 1);
	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* JSON number; non-finite values (never expected) become null. */
static void sb_num(struct sbuf *b, double v)
{
	if (isfinite(v))
		sb_printf(b, "%.10g", v);
	else
		sb_printf(b, "null");
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sb_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			sb_printf(b, "\\u%04x", ch);
		else
			sb_printf(b, "%c", ch);
	}
	sb_printf(b, "\"");
}

static void sb_key_num(struct sbuf *b, const char *key, double v)
{
	sb_printf(b, ",\"%s\":", key);
	sb_num(b, v);
}

static void car_json(struct sbuf *b, const struct car_spec *c)
{
	sb_printf(b, "\"car\":{\"name\":");
	sb_str(b, c->name);
	sb_key_num(b, "mass_kg", c->mass_kg);
	sb_key_num(b, "wheel_radius_m", c->wheel_radius_m);
	sb_key_num(b, "final_drive", c->final_drive);
	sb_printf(b, ",\"num_gears\":%d,\"gear_ratios\":[", c->num_gears);
	for (int g = 0; g < c->num_gears; g++) {
		sb_printf(b, g ? "," : "");
		sb_num(b, c->gear_ratios[g]);
	}
	sb_printf(b, "],\"torque_curve\":[");
	for (int i = 0; i < c->torque_points; i++)
		sb_printf(b, "%s[%.10g,%.10g]", i ? "," : "", c->torque_curve[i][0],
			  c->torque_curve[i][1]);
	sb_printf(b, "]");
	sb_key_num(b, "idle_rpm", c->idle_rpm);
	sb_key_num(b, "redline_rpm", c->redline_rpm);
	sb_key_num(b, "max_rpm", c->max_rpm);
	sb_key_num(b, "grip_limit_g", c->grip_limit_g);
	sb_key_num(b, "brake_limit_g", c->brake_limit_g);
	sb_key_num(b, "traction_limit_g", c->traction_limit_g);
	sb_key_num(b, "cda", c->cda_m2);
	sb_key_num(b, "air_density_kgm3", c->air_density_kgm3);
	sb_key_num(b, "rolling_resistance", c->rolling_resistance);
	sb_key_num(b, "drivetrain_efficiency", c->drivetrain_efficiency);
	sb_key_num(b, "wheelbase_m", c->wheelbase_m);
	sb_key_num(b, "front_weight_frac", c->front_weight_frac);
	sb_key_num(b, "steering_ratio", c->steering_ratio);
	sb_key_num(b, "steer_lock_deg", c->steer_lock_deg);
	sb_key_num(b, "understeer_rad_per_g", c->understeer_rad_per_g);
	sb_key_num(b, "camber_front_deg", c->camber_front_deg);
	sb_key_num(b, "camber_rear_deg", c->camber_rear_deg);
	sb_key_num(b, "shift_time_s", c->shift_time_s);
	sb_key_num(b, "fuel_capacity_l", c->fuel_capacity_l);
	sb_key_num(b, "fuel_start_l", c->fuel_start_l);
	sb_key_num(b, "susp_travel_max_m", CAR_SUSP_TRAVEL_M);
	sb_printf(b, "}");
}

static void fault_json(struct sbuf *b, const struct car_spec *c)
{
	const struct car_fault_info *f = car_fault_info(c->fault);

	if (!f || c->fault == CAR_FAULT_NONE) {
		sb_printf(b, ",\"fault\":null");
		return;
	}
	sb_printf(b, ",\"fault\":{\"name\":");
	sb_str(b, f->name);
	sb_printf(b, ",\"category\":");
	sb_str(b, f->category);
	sb_printf(b, ",\"parameters\":[");
	for (int i = 0; i < 3 && f->parameters[i]; i++) {
		sb_printf(b, i ? "," : "");
		sb_str(b, f->parameters[i]);
	}
	sb_printf(b, "]");
	sb_printf(b, ",\"description\":");
	sb_str(b, f->description);
	sb_printf(b, "}");
}

static void shift_json(struct sbuf *b, const struct car_spec *c)
{
	sb_printf(b, ",\"optimal_shift_rpm\":[");
	for (int g = 1; g < c->num_gears; g++) {
		sb_printf(b, g > 1 ? "," : "");
		sb_num(b, car_optimal_shift_rpm(c, g));
	}
	sb_printf(b, "]");
	sb_key_num(b, "recommended_shift_rpm", car_recommended_shift_rpm(c));
}

static void corners_json(struct sbuf *b, const struct track *t)
{
	sb_printf(b, ",\"corners\":[");
	for (int i = 0; i < track_corner_count(t); i++) {
		const struct track_corner *k = track_corner(t, i);

		sb_printf(b, "%s{\"index\":%d,\"direction\":\"%s\"", i ? "," : "", k->index,
			  k->direction > 0 ? "right" : "left");
		sb_key_num(b, "start_m", k->start_m);
		sb_key_num(b, "apex_dist_m", k->apex_m);
		sb_key_num(b, "end_m", k->end_m);
		sb_key_num(b, "angle_deg", k->angle_deg);
		sb_key_num(b, "min_radius_m", k->min_radius_m);
		sb_printf(b, "}");
	}
	sb_printf(b, "],\"corner_count\":%d", track_corner_count(t));
}

static void track_json(struct sbuf *b, const struct track *t)
{
	double len = track_length_m(t);

	sb_printf(b, ",\"track\":{\"name\":");
	sb_str(b, track_name(t));
	sb_printf(b, ",\"layout\":");
	sb_str(b, track_layout(t));
	sb_key_num(b, "length_m", len);
	sb_key_num(b, "width_m", track_width_m(t));
	sb_printf(b, ",\"direction\":\"clockwise\"");
	corners_json(b, t);
	sb_printf(b, ",\"sectors\":[");
	for (int i = 0; i < track_sector_count(t); i++) {
		sb_printf(b, i ? "," : "");
		sb_num(b, track_sector_start_m(t, i));
	}
	sb_printf(b, "],\"center_line_sample\":[");
	for (int i = 0; i * TRUTH_SAMPLE_M < len; i++) {
		struct track_point p;

		track_sample(t, i * TRUTH_SAMPLE_M, &p);
		sb_printf(b, "%s[%.3f,%.3f]", i ? "," : "", p.x_m, p.z_m);
	}
	sb_printf(b, "]}");
}

static void run_json(struct sbuf *b, const struct truth_run *run)
{
	sb_printf(b, ",\"course\":{\"name\":");
	sb_str(b, run->course_name);
	sb_key_num(b, "length_m", run->course_length_m);
	sb_printf(b, "},\"reference_lap_ms\":%d,\"mode\":", (int)run->reference_lap_ms);
	sb_str(b, run->mode);
	sb_printf(b, ",\"seed\":%llu,\"rate_hz\":", (unsigned long long)run->seed);
	if (run->rate_hz > 0)
		sb_num(b, run->rate_hz);
	else
		sb_printf(b, "null");
	sb_printf(b, ",\"feed\":");
	sb_str(b, run->feed);
	sb_printf(b, ",\"format\":");
	sb_str(b, run->format);
}

char *truth_json(const struct car_spec *c, const struct track *t, const struct truth_run *run)
{
	struct sbuf b = { 0 };

	sb_printf(&b, "{");
	car_json(&b, c);
	shift_json(&b, c);
	track_json(&b, t);
	run_json(&b, run);
	fault_json(&b, c);
	sb_printf(&b, "}");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
