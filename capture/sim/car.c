/* car.c - see car.h */
#include <math.h>
#include <string.h>

#include "capture/sim/car.h"

#define RPM_PER_RADS (60.0 / (2.0 * M_PI))
#define AMBIENT_C 25.0
#define TYRE_TAU_S 20.0
#define TYRE_COLD_KPA 165.0 /* set at TYRE_COLD_C */
#define TYRE_COLD_C 20.0
#define BRAKE_HEAT_CAP_JK 6000.0
#define FUEL_L_PER_J 1.044e-7 /* 280 g/kWh at 0.745 kg/l */
#define FUEL_IDLE_LPS 3e-4
#define FUEL_RESERVE_L 1.0
#define LIMITER_FLAG_S 0.05
#define SLIP_STIFFNESS 15.0 /* longitudinal force per unit load per unit slip */
#define SUSP_STATIC_M 0.030
#define SUSP_RATE_NPM 120000.0

/* the faults' setups (car.h) */
#define FAULT_RIDE_LOW_M 0.032
#define FAULT_FRONT_SPRING_NPM 70000.0
#define FAULT_BIAS_FRONT_LOCKUP 0.80
#define FAULT_BIAS_REAR_LOCKUP 0.45
#define FAULT_TRACTION_SHARE 0.60
#define FAULT_SLIP_G_PER_RAD 7.0
#define FAULT_US_GRADIENT 0.06
#define FAULT_OS_GRADIENT 0.0
#define FAULT_FINAL_LONG 2.55
#define FAULT_FINAL_SHORT 3.95
#define FAULT_COLD_KPA 138.0
#define FAULT_HEAT_C 40.0
#define FAULT_OVER_KPA 200.0
#define FAULT_CAMBER_FRONT_DEG (-5.0)
#define TREAD_C_PER_DEG 3.0 /* inner - outer per degree of negative camber */
#define TREAD_C_PER_KPA 0.4 /* middle - mean(edges) per kPa of cold pressure over clean */
#define PEAK_USE 0.9        /* of a tyre's grip: past it a faulty wheel's slip runs away */
#define RUNAWAY_PER_USE 2.5 /* slip ratio per unit of grip used past PEAK_USE */

static const struct car_fault_info faults[CAR_FAULT_COUNT] = {
	[CAR_FAULT_NONE] = { "none", NULL, { NULL }, "no setup fault" },
	[CAR_FAULT_BOTTOMING] = { "bottoming",
				  "springs",
				  { "ride_height_front", "spring_rate_front" },
				  "front ride height 32 mm too low, front springs 70 N/mm (clean 120)" },
	[CAR_FAULT_FRONT_LOCKUP] = { "front_lockup",
				     "brakes",
				     { "brake_bias" },
				     "brake bias 80 % front (clean 60 %)" },
	[CAR_FAULT_REAR_LOCKUP] = { "rear_lockup",
				    "brakes",
				    { "brake_bias" },
				    "brake bias 45 % front (clean 60 %)" },
	[CAR_FAULT_WHEELSPIN] = { "wheelspin",
				  "differential",
				  { "diff_accel_lock" },
				  "rear traction 60 % of the clean car's (accel diff lock too high)" },
	[CAR_FAULT_UNDERSTEER] = { "understeer",
				   "anti_roll",
				   { "arb_front", "arb_rear" },
				   "front slip angle 1/7 rad per g (clean 1/11), understeer gradient "
				   "0.06 rad/g (clean 0.025)" },
	[CAR_FAULT_OVERSTEER] = { "oversteer",
				  "anti_roll",
				  { "arb_rear", "arb_front" },
				  "rear slip angle 1/7 rad per g (clean 1/13), understeer gradient 0" },
	[CAR_FAULT_LONG_GEARING] = { "long_gearing",
				     "gearing",
				     { "final_drive", "gear_top" },
				     "final drive 2.55 (clean 3.40)" },
	[CAR_FAULT_SHORT_GEARING] = { "short_gearing",
				      "gearing",
				      { "final_drive", "gear_top" },
				      "final drive 3.95 (clean 3.40)" },
	[CAR_FAULT_HOT_TYRES] = { "hot_tyres",
				  "tires",
				  { "tyre_pressure", "tyre_pressure_front", "tyre_pressure_rear" },
				  "cold tyre pressure 138 kPa (clean 165) and 40 degC more heat" },
	[CAR_FAULT_OVER_INFLATED] = { "over_inflated",
				      "tires",
				      { "tyre_pressure", "tyre_pressure_front",
					"tyre_pressure_rear" },
				      "cold tyre pressure 200 kPa on all four (clean 165)" },
	[CAR_FAULT_TOO_MUCH_CAMBER] = { "too_much_camber",
					"alignment",
					{ "camber_front", "camber" },
					"front camber -5.0 deg (clean -2.5)" },
};

static const struct car_spec gt3 = {
	.name = "pitwall_gt3",
	.mass_kg = 1300.0,
	.wheel_radius_m = 0.34,
	.final_drive = 3.40,
	.num_gears = 6,
	.gear_ratios = { 3.30, 2.35, 1.80, 1.45, 1.20, 1.02 },
	.torque_points = 9,
	.torque_curve = {
		{ 1000, 300 }, { 2000, 400 }, { 3000, 480 }, { 4000, 545 }, { 5000, 580 },
		{ 6000, 565 }, { 7000, 505 }, { 7800, 430 }, { 8000, 395 },
	},
	.idle_rpm = 1100.0,
	.redline_rpm = 7800.0,
	.max_rpm = 8000.0,
	.drivetrain_efficiency = 0.90,
	.cda_m2 = 0.80,
	.air_density_kgm3 = 1.225,
	.rolling_resistance = 0.012,
	.grip_limit_g = 1.45,
	.brake_limit_g = 1.60,
	.traction_limit_g = 1.10,
	.wheelbase_m = 2.70,
	.front_weight_frac = 0.45,
	.cg_height_m = 0.45,
	.track_width_m = 1.60,
	.steering_ratio = 12.0,
	.steer_lock_deg = 270.0,
	.understeer_rad_per_g = 0.025,
	.camber_front_deg = -2.5,
	.camber_rear_deg = -2.0,
	.shift_time_s = 0.05,
	.fuel_capacity_l = 120.0,
	.fuel_start_l = 60.0,
};

const struct car_spec *car_default(void)
{
	return &gt3;
}

void car_with_fault(const struct car_spec *base, enum car_fault fault, struct car_spec *out)
{
	*out = *base;
	out->fault = (unsigned)fault < CAR_FAULT_COUNT ? fault : CAR_FAULT_NONE;
	switch (out->fault) {
	case CAR_FAULT_LONG_GEARING:
		out->final_drive = FAULT_FINAL_LONG;
		break;
	case CAR_FAULT_SHORT_GEARING:
		out->final_drive = FAULT_FINAL_SHORT;
		break;
	case CAR_FAULT_UNDERSTEER:
		out->understeer_rad_per_g = FAULT_US_GRADIENT;
		break;
	case CAR_FAULT_OVERSTEER:
		out->understeer_rad_per_g = FAULT_OS_GRADIENT;
		break;
	case CAR_FAULT_TOO_MUCH_CAMBER:
		out->camber_front_deg = FAULT_CAMBER_FRONT_DEG;
		break;
	default:
		break;
	}
}

const struct car_fault_info *car_fault_info(enum car_fault fault)
{
	return (unsigned)fault < CAR_FAULT_COUNT ? &faults[fault] : NULL;
}

int car_fault_parse(const char *name)
{
	for (int i = 0; i < CAR_FAULT_COUNT; i++)
		if (strcmp(name, faults[i].name) == 0)
			return i;
	return -1;
}

void car_state_init(const struct car_spec *c, struct car_state *st, double v_ms, int gear)
{
	memset(st, 0, sizeof *st);
	st->v_ms = v_ms;
	st->gear = gear < 1 ? 1 : gear > c->num_gears ? c->num_gears : gear;
	st->rpm = fmax(c->idle_rpm, car_rpm_at(c, st->gear, v_ms));
	st->fuel_l = c->fuel_start_l;
	for (int i = 0; i < 4; i++) {
		st->tyre_temp_c[i] = 70.0;
		st->tyre_wear[i] = 1.0;
		st->brake_temp_c[i] = 250.0;
	}
}

double car_torque_nm(const struct car_spec *c, double rpm)
{
	const double(*p)[2] = c->torque_curve;
	int n = c->torque_points;

	if (rpm <= p[0][0])
		return p[0][1];
	for (int i = 1; i < n; i++)
		if (rpm <= p[i][0])
			return p[i - 1][1] + (p[i][1] - p[i - 1][1]) * (rpm - p[i - 1][0]) /
						     (p[i][0] - p[i - 1][0]);
	return p[n - 1][1];
}

double car_drag_torque_nm(const struct car_spec *c, double rpm)
{
	(void)c;
	return -(20.0 + 0.006 * rpm);
}

static double overall_ratio(const struct car_spec *c, int gear)
{
	if (gear < 1)
		gear = 1;
	if (gear > c->num_gears)
		gear = c->num_gears;
	return c->gear_ratios[gear - 1] * c->final_drive;
}

double car_rpm_at(const struct car_spec *c, int gear, double v_ms)
{
	return v_ms / c->wheel_radius_m * overall_ratio(c, gear) * RPM_PER_RADS;
}

double car_speed_at(const struct car_spec *c, int gear, double rpm)
{
	return rpm / RPM_PER_RADS / overall_ratio(c, gear) * c->wheel_radius_m;
}

static double force_of_torque(const struct car_spec *c, int gear, double torque_nm)
{
	return torque_nm * overall_ratio(c, gear) / c->wheel_radius_m * c->drivetrain_efficiency;
}

double car_wheel_force_n(const struct car_spec *c, int gear, double v_ms)
{
	return force_of_torque(c, gear, car_torque_nm(c, car_rpm_at(c, gear, v_ms)));
}

double car_resistance_n(const struct car_spec *c, double v_ms)
{
	double aero = 0.5 * c->air_density_kgm3 * c->cda_m2 * v_ms * v_ms;

	return aero + (v_ms > 0.0 ? c->rolling_resistance * c->mass_kg * CAR_G : 0.0);
}

/* Force advantage of gear + 1 over gear at the road speed where gear turns rpm. */
static double upshift_gain_n(const struct car_spec *c, int gear, double rpm)
{
	double v = car_speed_at(c, gear, rpm);

	return car_wheel_force_n(c, gear + 1, v) - car_wheel_force_n(c, gear, v);
}

double car_optimal_shift_rpm(const struct car_spec *c, int gear)
{
	double step = 1.0, lo, hi;
	double start;

	if (gear < 1 || gear >= c->num_gears)
		return c->max_rpm;
	/* below this the next gear would drop under idle */
	start = c->idle_rpm * c->gear_ratios[gear - 1] / c->gear_ratios[gear];
	for (lo = start; lo < c->max_rpm; lo += step) {
		hi = fmin(lo + step, c->max_rpm);
		if (upshift_gain_n(c, gear, hi) < 0.0)
			continue;
		if (upshift_gain_n(c, gear, lo) >= 0.0)
			return lo;
		for (int i = 0; i < 60; i++) {
			double mid = 0.5 * (lo + hi);
			if (upshift_gain_n(c, gear, mid) >= 0.0)
				hi = mid;
			else
				lo = mid;
		}
		return hi;
	}
	return c->max_rpm;
}

double car_recommended_shift_rpm(const struct car_spec *c)
{
	double sum = 0.0;
	int n = c->num_gears - 1;

	for (int g = 1; g <= n; g++)
		sum += car_optimal_shift_rpm(c, g);
	return n > 0 ? round(sum / n / 10.0) * 10.0 : c->max_rpm;
}

void car_shift(const struct car_spec *c, struct car_state *st, int gear)
{
	if (gear < 1)
		gear = 1;
	if (gear > c->num_gears)
		gear = c->num_gears;
	if (gear == st->gear)
		return;
	st->gear = gear;
	st->shift_left_s = c->shift_time_s;
}

/* Fraction of a longitudinal limit left over by the lateral load (friction circle). */
static double circle_share(const struct car_spec *c, double lat_ms2)
{
	double u = lat_ms2 / (c->grip_limit_g * CAR_G);

	return u >= 1.0 || u <= -1.0 ? 0.0 : sqrt(1.0 - u * u);
}

static void wheel_loads(const struct car_spec *c, double lon_ms2, double lat_ms2, double load[4])
{
	double m = c->mass_kg, w = m * CAR_G;
	double front = w * c->front_weight_frac, rear = w - front;
	double dlon = m * lon_ms2 * c->cg_height_m / c->wheelbase_m;
	/* a right-hand turn (lat > 0) loads the left (outer) wheels */
	double dlat = m * lat_ms2 * c->cg_height_m / c->track_width_m;
	double df = dlat * c->front_weight_frac, dr = dlat - df;

	load[0] = 0.5 * (front - dlon) + 0.5 * df;
	load[1] = 0.5 * (front - dlon) - 0.5 * df;
	load[2] = 0.5 * (rear + dlon) + 0.5 * dr;
	load[3] = 0.5 * (rear + dlon) - 0.5 * dr;
	for (int i = 0; i < 4; i++)
		load[i] = fmax(load[i], 0.0);
}

static double static_load(const struct car_spec *c, int wheel)
{
	double w = c->mass_kg * CAR_G;

	return 0.5 * w * (wheel < 2 ? c->front_weight_frac : 1.0 - c->front_weight_frac);
}

/* Engine torque and rpm for the step; sets limiter and clutch state. */
static double engine_torque(const struct car_spec *c, struct car_state *st, double throttle)
{
	double rpm_w = car_rpm_at(c, st->gear, st->v_ms);

	st->clutch = 0.0;
	st->rpm = rpm_w;
	if (rpm_w < c->idle_rpm) {
		/* slipping clutch holds the engine at idle */
		st->rpm = c->idle_rpm;
		st->clutch = 1.0 - rpm_w / c->idle_rpm;
	}
	if (st->shift_left_s > 0.0) {
		st->clutch = 1.0;
		return 0.0;
	}
	if (st->rpm >= c->max_rpm) {
		st->limiter_left_s = LIMITER_FLAG_S;
		return car_drag_torque_nm(c, st->rpm);
	}
	return throttle * car_torque_nm(c, st->rpm) +
	       (1.0 - throttle) * car_drag_torque_nm(c, st->rpm);
}

static void step_thermal(const struct car_spec *c, struct car_state *st, double lat_ms2, double dt)
{
	double load[4];
	double g_tot = hypot(lat_ms2, st->accel_ms2) / CAR_G;
	double v = st->v_ms;
	double brake_power = st->brake_force_n * v;
	static const double brake_share[4] = { 0.3, 0.3, 0.2, 0.2 };

	wheel_loads(c, st->accel_ms2, lat_ms2, load);
	for (int i = 0; i < 4; i++) {
		double ratio = load[i] / static_load(c, i);
		double target = 55.0 + 40.0 * g_tot * ratio + 8.0 * v / 50.0;
		double cool = (0.004 + 0.0008 * v) * (st->brake_temp_c[i] - AMBIENT_C);

		if (c->fault == CAR_FAULT_HOT_TYRES)
			target += FAULT_HEAT_C;
		st->tyre_temp_c[i] += (target - st->tyre_temp_c[i]) * dt / TYRE_TAU_S;
		st->tyre_wear[i] -= dt * 1.5e-5 * (0.2 + g_tot * ratio) * v / 50.0;
		if (st->tyre_wear[i] < 0.0)
			st->tyre_wear[i] = 0.0;
		st->brake_temp_c[i] +=
			dt * (brake_power * brake_share[i] / BRAKE_HEAT_CAP_JK - cool);
	}
	st->fuel_l -= dt * (fmax(st->power_w, 0.0) * FUEL_L_PER_J + FUEL_IDLE_LPS);
	if (st->fuel_l < FUEL_RESERVE_L)
		st->fuel_l = FUEL_RESERVE_L;
}

void car_step(const struct car_spec *c, struct car_state *st, double throttle, double brake,
	      double lat_ms2, double dt)
{
	double m = c->mass_kg, share = circle_share(c, lat_ms2);
	double torque, drive, drive_max, brake_n, brake_max, a;

	throttle = fmin(fmax(throttle, 0.0), 1.0);
	brake = fmin(fmax(brake, 0.0), 1.0);
	torque = engine_torque(c, st, throttle);
	drive = force_of_torque(c, st->gear, torque);
	drive_max = c->traction_limit_g * m * CAR_G * share;
	st->traction_limited = drive > drive_max;
	if (st->traction_limited)
		drive = drive_max;
	brake_n = brake * c->brake_limit_g * m * CAR_G;
	brake_max = c->brake_limit_g * m * CAR_G * share;
	st->abs_active = brake_n > brake_max;
	if (st->abs_active)
		brake_n = brake_max;

	a = (drive - brake_n - car_resistance_n(c, st->v_ms)) / m;
	st->v_ms += a * dt;
	if (st->v_ms < 0.0) {
		st->v_ms = 0.0;
		a = 0.0;
	}
	st->accel_ms2 = a;
	st->accel_lat_ms2 = lat_ms2;
	st->throttle = throttle;
	st->brake = brake;
	st->torque_nm = torque;
	st->power_w = torque * st->rpm / RPM_PER_RADS;
	st->drive_force_n = drive;
	st->brake_force_n = brake_n;
	if (st->shift_left_s > 0.0)
		st->shift_left_s -= dt;
	if (st->limiter_left_s > 0.0)
		st->limiter_left_s -= dt;
	step_thermal(c, st, lat_ms2, dt);
}

void car_pedals_for(const struct car_spec *c, const struct car_state *st, double a_ms2,
		    double *throttle, double *brake)
{
	double rpm = fmax(st->rpm, c->idle_rpm);
	double need = c->mass_kg * a_ms2 + car_resistance_n(c, st->v_ms);
	double full = force_of_torque(c, st->gear, car_torque_nm(c, rpm));
	double closed = force_of_torque(c, st->gear, car_drag_torque_nm(c, rpm));

	*throttle = 0.0;
	*brake = 0.0;
	if (need >= closed)
		*throttle = fmin((need - closed) / (full - closed), 1.0);
	else
		*brake = fmin((closed - need) / (c->brake_limit_g * c->mass_kg * CAR_G), 1.0);
}

/* Slip ratio of a faulty wheel using `use` of its grip: linear up to PEAK_USE,
 * then running away toward a lock (fx < 0) or a spin, within -1..1. */
static double runaway_slip(double linear, double fx, double use)
{
	double sr = linear;

	if (use > PEAK_USE)
		sr += (fx < 0.0 ? -1.0 : 1.0) * RUNAWAY_PER_USE * (use - PEAK_USE);
	return fmin(fmax(sr, -1.0), 1.0);
}

/* The fault's changes to the clean per-wheel channels of w (car.h). */
static void wheels_fault(const struct car_spec *c, const struct car_state *st, const double path[4],
			 struct car_wheels *w)
{
	double lat_g = st->accel_lat_ms2 / CAR_G;
	double bias = c->fault == CAR_FAULT_FRONT_LOCKUP  ? FAULT_BIAS_FRONT_LOCKUP
		      : c->fault == CAR_FAULT_REAR_LOCKUP ? FAULT_BIAS_REAR_LOCKUP
							  : CAR_BRAKE_BIAS_FRONT;

	for (int i = 0; i < 4; i++) {
		int rear = i >= 2;
		double load = fmax(w->load_n[i], 100.0);
		double drive = rear ? 0.5 * st->drive_force_n : 0.0;
		double brake = 0.5 * (rear ? 1.0 - bias : bias) * st->brake_force_n;
		double fx = drive - brake, linear = fx / (SLIP_STIFFNESS * load);

		switch (c->fault) {
		case CAR_FAULT_BOTTOMING:
			if (!rear)
				w->susp_travel_m[i] =
					fmin(fmax(SUSP_STATIC_M + FAULT_RIDE_LOW_M +
							  (w->load_n[i] - static_load(c, i)) /
								  FAULT_FRONT_SPRING_NPM,
						  0.0),
					     CAR_SUSP_TRAVEL_M);
			break;
		case CAR_FAULT_FRONT_LOCKUP:
		case CAR_FAULT_REAR_LOCKUP:
			w->slip_ratio[i] = linear;
			if (rear == (c->fault == CAR_FAULT_REAR_LOCKUP))
				w->slip_ratio[i] =
					runaway_slip(linear, fx, brake / (c->brake_limit_g * load));
			break;
		case CAR_FAULT_WHEELSPIN:
			if (rear && fx > 0.0)
				w->slip_ratio[i] = runaway_slip(
					linear, fx,
					fx / (FAULT_TRACTION_SHARE * c->brake_limit_g * load));
			break;
		case CAR_FAULT_UNDERSTEER:
			if (!rear)
				w->slip_angle_rad[i] = lat_g / FAULT_SLIP_G_PER_RAD;
			break;
		case CAR_FAULT_OVERSTEER:
			if (rear)
				w->slip_angle_rad[i] = lat_g / FAULT_SLIP_G_PER_RAD;
			break;
		case CAR_FAULT_HOT_TYRES:
		case CAR_FAULT_OVER_INFLATED:
			w->tyre_press_kpa[i] = (c->fault == CAR_FAULT_HOT_TYRES ? FAULT_COLD_KPA
										: FAULT_OVER_KPA) *
					       (st->tyre_temp_c[i] + 273.15) /
					       (TYRE_COLD_C + 273.15);
			break;
		default:
			break;
		}
		w->wheel_speed_rads[i] =
			st->v_ms * path[i] * (1.0 + w->slip_ratio[i]) / c->wheel_radius_m;
	}
}

void car_wheels(const struct car_spec *c, const struct car_state *st, double curvature_1pm,
		struct car_wheels *w)
{
	static const double brake_share[4] = { 0.3, 0.3, 0.2, 0.2 };
	double half_track = 0.5 * c->track_width_m;
	double lat_g = st->accel_lat_ms2 / CAR_G;
	double path[4];

	wheel_loads(c, st->accel_ms2, st->accel_lat_ms2, w->load_n);
	for (int i = 0; i < 4; i++) {
		int left = i == 0 || i == 2, rear = i >= 2;
		double load = fmax(w->load_n[i], 100.0);
		double drive = rear ? 0.5 * st->drive_force_n : 0.0;
		double fx = drive - brake_share[i] * st->brake_force_n;

		/* the outer wheels of a turn roll on a larger radius */
		path[i] = 1.0 + (left ? 1.0 : -1.0) * curvature_1pm * half_track;
		w->slip_ratio[i] = fx / (SLIP_STIFFNESS * load);
		w->wheel_speed_rads[i] =
			st->v_ms * path[i] * (1.0 + w->slip_ratio[i]) / c->wheel_radius_m;
		w->slip_angle_rad[i] = lat_g / (rear ? 13.0 : 11.0);
		w->susp_travel_m[i] = fmax(
			SUSP_STATIC_M + (w->load_n[i] - static_load(c, i)) / SUSP_RATE_NPM, 0.0);
		w->tyre_press_kpa[i] =
			TYRE_COLD_KPA * (st->tyre_temp_c[i] + 273.15) / (TYRE_COLD_C + 273.15);
	}
	if (c->fault != CAR_FAULT_NONE)
		wheels_fault(c, st, path, w);
	for (int i = 0; i < 4; i++) {
		double t = st->tyre_temp_c[i];
		/* the tread's zones (car.h): from the camber and the cold pressure */
		double grad = -TREAD_C_PER_DEG * (i < 2 ? c->camber_front_deg : c->camber_rear_deg);
		double cold = w->tyre_press_kpa[i] * (TYRE_COLD_C + 273.15) / (t + 273.15);
		double crown = TREAD_C_PER_KPA * (cold - TYRE_COLD_KPA);
		double edges = t - crown / 3.0;

		w->susp_travel_m[i] = fmin(w->susp_travel_m[i], CAR_SUSP_TRAVEL_M);
		w->susp_travel_norm[i] = w->susp_travel_m[i] / CAR_SUSP_TRAVEL_M;
		w->tread_c[i][0] = edges + 0.5 * grad;
		w->tread_c[i][1] = edges + crown;
		w->tread_c[i][2] = edges - 0.5 * grad;
	}
}
