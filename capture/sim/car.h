/*
 * car.h - pw-sim's vehicle model: a plausible GT3-like car.
 *
 * The spec (struct car_spec) is the ground truth the analysis is checked
 * against: the same numbers drive the simulation and are printed in the
 * truth JSON. The model is longitudinal physics along a given path (engine
 * torque curve through the gearbox, aero drag, rolling resistance, brakes,
 * traction limited by a friction circle) plus per-wheel quantities derived
 * from the accelerations (loads, temperatures, pressures, wear, slip).
 *
 * Units: SI (m, s, kg, N, N*m, rad), rpm for engine speed, g = 9.80665 m/s^2.
 * Wheel arrays are ordered FL, FR, RL, RR; lateral acceleration is + toward
 * the car's right (a right-hand turn), longitudinal + forward.
 *
 * Setup faults (car_with_fault, pw-sim --fault NAME) give the car one setup
 * error a race engineer should find in its data. A fault changes the spec
 * (gearing: the final drive; balance: the understeer gradient) and the
 * per-wheel model of the axle it concerns; every other number, and the whole
 * model of a car without a fault, is the clean car's:
 *   bottoming      front ride height 32 mm too low and front springs 70 N/mm
 *                  (clean 120): the fronts reach the bump stop
 *                  (CAR_SUSP_TRAVEL_M) in every heavy braking zone
 *   front_lockup   brake bias 80 % front (clean 60 %): a front wheel locks
 *                  when its brake force passes 90 % of its grip (mu = the
 *                  brake limit, on the wheel's load)
 *   rear_lockup    brake bias 45 % front: the rears lock the same way
 *   wheelspin      rear traction 60 % of the clean car's (too much diff
 *                  lock): a driven wheel spins when its drive force passes
 *                  90 % of that grip
 *   understeer     front slip angle 1/7 rad per g (clean 1/11), understeer
 *                  gradient 0.06 rad/g (clean 0.025)
 *   oversteer      rear slip angle 1/7 rad per g (clean 1/13), gradient 0
 *   long_gearing   final drive 2.55 (clean 3.40)
 *   short_gearing  final drive 3.95: the limiter before the longest braking point
 *   hot_tyres      cold pressure 138 kPa (clean 165) and 40 degC more heat: the
 *                  tyres run above 130 degC
 *   over_inflated  cold pressure 200 kPa (clean 165) on all four: the centre of
 *                  the tread runs 14 degC hotter than its edges
 *   too_much_camber  front camber -5.0 deg (clean -2.5): the front tyres' inner
 *                  edges run 15 degC hotter than their outer edges
 * Past 90 % of its grip a faulty wheel's slip ratio grows by 2.5 per unit of
 * grip used (a tyre past its peak runs away to a lock or a spin), capped at
 * -1 (locked) and 1. The car's speed and path are the clean model's: a
 * locked or spinning wheel does not change how the car slows or speeds up.
 *
 * The tread's three zones (car_wheels.tread_c: inner, middle, outer; inner =
 * the edge toward the car's centre line) average to the tyre's temperature
 * (car_state.tyre_temp_c) and differ by two constant gradients: inner - outer
 * = 3 degC per degree of negative camber (clean: 7.5 front, 6.0 rear), and
 * middle - mean(inner, outer) = 0.4 degC per kPa of cold pressure above the
 * clean 165 kPa (below it the shoulders run hotter: hot_tyres gives -10.8).
 *
 * Everything here is pure and deterministic; car_state is plain data the
 * caller owns (no allocation).
 */
#ifndef PW_SIM_CAR_H
#define PW_SIM_CAR_H

#define CAR_G 9.80665
#define CAR_MAX_GEARS 8
#define CAR_MAX_TORQUE_POINTS 12
#define CAR_SUSP_TRAVEL_M 0.080   /* suspension range: travel 0 (full droop) .. the bump stop */
#define CAR_BRAKE_BIAS_FRONT 0.60 /* share of the brake force on the front axle */

enum car_fault {
	CAR_FAULT_NONE = 0,
	CAR_FAULT_BOTTOMING,
	CAR_FAULT_FRONT_LOCKUP,
	CAR_FAULT_REAR_LOCKUP,
	CAR_FAULT_WHEELSPIN,
	CAR_FAULT_UNDERSTEER,
	CAR_FAULT_OVERSTEER,
	CAR_FAULT_LONG_GEARING,
	CAR_FAULT_SHORT_GEARING,
	CAR_FAULT_HOT_TYRES,
	CAR_FAULT_OVER_INFLATED,
	CAR_FAULT_TOO_MUCH_CAMBER,
	CAR_FAULT_COUNT
};

/* What a fault is, for the ground truth: the recommendation that fixes it. */
struct car_fault_info {
	const char *name;          /* "front_lockup"; "none" */
	const char *category;      /* seed 004's category of the fix: "brakes"; NULL for none */
	const char *parameters[3]; /* setup parameters whose change fixes it, the first the
				    * direct one ("brake_bias"); NULL-terminated */
	const char *description;   /* what is wrong, with the numbers */
};

struct car_spec {
	const char *name;
	double mass_kg;
	double wheel_radius_m;
	double final_drive;
	int num_gears;
	double gear_ratios[CAR_MAX_GEARS]; /* 1st .. nth */
	int torque_points;
	double torque_curve[CAR_MAX_TORQUE_POINTS][2]; /* {rpm, N*m}, piecewise linear */
	double idle_rpm;
	double redline_rpm;
	double max_rpm; /* rev limiter */
	double drivetrain_efficiency;
	double cda_m2; /* drag coefficient * frontal area */
	double air_density_kgm3;
	double rolling_resistance; /* coefficient, N per N of weight */
	double grip_limit_g;       /* lateral */
	double brake_limit_g;
	double traction_limit_g; /* longitudinal drive, straight line */
	double wheelbase_m;
	double front_weight_frac;
	double cg_height_m;
	double track_width_m;
	double steering_ratio;
	double steer_lock_deg; /* steering-wheel angle at steer = 1 */
	double understeer_rad_per_g;
	double camber_front_deg, camber_rear_deg; /* static camber, negative = top inward */
	double shift_time_s;                      /* drive cut while changing gear */
	double fuel_capacity_l;
	double fuel_start_l;
	enum car_fault fault; /* CAR_FAULT_NONE for the clean car */
};

/* Dynamic state of one car; zero it, then car_state_init(). */
struct car_state {
	double v_ms;          /* road speed along the path */
	double accel_ms2;     /* longitudinal, last step */
	double accel_lat_ms2; /* lateral (+ right), as last set by the caller */
	int gear;
	double rpm;
	double throttle, brake, clutch;
	double torque_nm; /* engine output torque, last step */
	double power_w;
	double shift_left_s;   /* > 0 while a gear change cuts the drive */
	double limiter_left_s; /* > 0 shortly after the limiter cut fuel */
	int traction_limited;
	int abs_active;
	double fuel_l;
	double drive_force_n; /* at the contact patches, after traction */
	double brake_force_n;
	double tyre_temp_c[4];
	double tyre_wear[4];
	double brake_temp_c[4];
};

/* Per-wheel channels derived from the state (car_wheels). */
struct car_wheels {
	double load_n[4];
	double susp_travel_m[4];
	double wheel_speed_rads[4];
	double slip_ratio[4];
	double slip_angle_rad[4];
	double tyre_press_kpa[4];
	double susp_travel_norm[4]; /* susp_travel_m / CAR_SUSP_TRAVEL_M, 0..1 */
	double tread_c[4][3];       /* degC of the tread's inner, middle, outer zone */
};

/* Lifecycle */
/* The built-in car ("pitwall_gt3"); static storage, never freed. */
const struct car_spec *car_default(void);
/* *out = *base with fault's setup error (see the top comment). */
void car_with_fault(const struct car_spec *base, enum car_fault fault, struct car_spec *out);
/* The fault's description (static); NULL out of range. */
const struct car_fault_info *car_fault_info(enum car_fault fault);
/* The fault named name ("none" included), or -1. */
int car_fault_parse(const char *name);
void car_state_init(const struct car_spec *c, struct car_state *st, double v_ms, int gear);

/* Model functions (pure) */
/* Full-throttle engine torque at rpm (piecewise linear, clamped at the ends). */
double car_torque_nm(const struct car_spec *c, double rpm);
/* Closed-throttle engine drag torque at rpm (negative). */
double car_drag_torque_nm(const struct car_spec *c, double rpm);
/* Engine rpm in gear at road speed v (wheel-derived, not clamped to idle). */
double car_rpm_at(const struct car_spec *c, int gear, double v_ms);
/* Road speed at which gear reaches rpm. */
double car_speed_at(const struct car_spec *c, int gear, double rpm);
/* Full-throttle tractive force at the wheels in gear at speed v (no traction
 * limit, no limiter): torque(rpm) * ratio * final / radius * efficiency. */
double car_wheel_force_n(const struct car_spec *c, int gear, double v_ms);
/* Aero drag plus rolling resistance at speed v, N. */
double car_resistance_n(const struct car_spec *c, double v_ms);
/*
 * The rpm in gear at which the full-throttle wheel force in gear + 1 at the
 * same road speed becomes >= the force in gear (the optimal upshift point);
 * max_rpm when gear + 1 never wins below the limiter. gear is 1..num_gears-1.
 */
double car_optimal_shift_rpm(const struct car_spec *c, int gear);
/* Mean of the optimal shift rpms over gears 1..n-1, rounded to 10 rpm. */
double car_recommended_shift_rpm(const struct car_spec *c);

/* Operations */
/* Start a gear change (drive cut for shift_time_s). gear is clamped to 1..n. */
void car_shift(const struct car_spec *c, struct car_state *st, int gear);
/*
 * Advance the longitudinal dynamics by dt seconds with the given pedals
 * (0..1). lat_ms2 is the lateral acceleration the path imposes now (it
 * shrinks the traction and braking available, friction circle).
 */
void car_step(const struct car_spec *c, struct car_state *st, double throttle, double brake,
	      double lat_ms2, double dt);
/* Pedals that produce longitudinal acceleration a_ms2 at the current state. */
void car_pedals_for(const struct car_spec *c, const struct car_state *st, double a_ms2,
		    double *throttle, double *brake);
/* Per-wheel quantities at the state; curvature_1pm (+ right) of the path. */
void car_wheels(const struct car_spec *c, const struct car_state *st, double curvature_1pm,
		struct car_wheels *w);

#endif
