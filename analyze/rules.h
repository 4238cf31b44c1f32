/*
 * rules.h - the race engineer's rules (rules.c), for engineer.c and the unit
 * tests only.
 *
 * rule_defs[] describes each rule once: the channels it needs (needs, or the
 * alternative set needs_alt), the channels the frame does not have at all
 * (absent: such a rule is never evaluated), its category, title and the
 * highest confidence it may reach. The detection runs per lap:
 * rules_lap_start, then rules_frame for every frame of the lap in order,
 * then rules_lap_end, which sums each active rule up in a struct rule_lap.
 * rule_compose turns a rule's laps (struct rule_summary) into the seed's
 * recommendation fields. Thresholds, windows, adjustments and caps are in
 * rules.c, each with the REFERENCE-ux §5 rule it comes from.
 *
 * Wheels are numbered 0..3 = FL FR RL RR; "where" values 4 and 5 mean the
 * front and rear axle, 6 the car.
 */
#ifndef PW_RULES_H
#define PW_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/engineer.h"
#include "common/frame.h"

#define RULE_MAX_EP 8 /* episodes kept per rule and lap (every one is counted) */
#define RULE_WHERE_FRONT 4
#define RULE_WHERE_REAR 5
#define RULE_WHERE_CAR 6
#define RULE_DRIVING_MS 5.0 /* the common gate: driving at >= 5 m/s */

enum rule_id {
	R_BOTTOMING = 0,        /* §5 rule 1 */
	R_NEAR_BUMP_STOP,       /* 2 */
	R_REAR_SQUAT,           /* 3 */
	R_FRONT_LOCKUP,         /* 4 */
	R_REAR_LOCKUP,          /* 5 */
	R_WHEELSPIN,            /* 6 */
	R_UNDERSTEER,           /* 7 */
	R_OVERSTEER,            /* 8 */
	R_ENTRY_UNDERSTEER,     /* 9 */
	R_GEARING_LONG,         /* 10 */
	R_GEARING_SHORT,        /* 11 */
	R_EXIT_BOG,             /* 12 */
	R_TYRE_PRESSURE_SPREAD, /* 13 */
	R_TYRE_CAMBER_SPREAD,   /* 14 */
	R_TYRE_OVERHEAT,        /* 15, absolute temperatures */
	R_AXLE_TEMP_BALANCE,    /* 15, front against rear */
	R_COUNT
};

struct rule_def {
	const char *id; /* "front_lockup" */
	int number;     /* REFERENCE-ux §5 row */
	enum eng_category category;
	const char *title;
	uint64_t needs;            /* FRAME_P_* that must all be present */
	uint64_t needs_alt;        /* another set that will do (0: none) */
	const char *const *absent; /* NULL-terminated names the frame has no channel for */
	enum eng_confidence max_conf;
	bool pattern; /* a tyre-temperature pattern: an observation (low) unless a
					* second signal agrees */
};

extern const struct rule_def rule_defs[R_COUNT];

/* One frame as every rule reads it, worked out once by engineer.c. */
struct eng_frame {
	const struct pw_frame *f;
	double lap_t_s; /* since the first frame of the lap */
	double dt_s;    /* this frame's share of time (> 0) */
	double v_ms;    /* road speed, m/s */
	bool driving;   /* v >= RULE_DRIVING_MS, not in the pit, not paused */
	bool have_sr;   /* sr[] known: the game's slip ratio or derived */
	bool have_yaw_rate;
	float sr[4];     /* longitudinal slip ratio */
	double yaw_rate; /* rad/s, + turning right (sign set by the run's lateral g) */
	float dist_m;    /* lap distance, NAN when unknown */
};

struct rule_episode {
	double t_s; /* start, s into the lap */
	double dur_s;
	double peak;    /* the worst value of the episode */
	float dist_m;   /* lap distance at the start, NAN unknown */
	int16_t corner; /* track model corner (1-based), 0 = none (engineer.c) */
	uint8_t where;  /* the first wheel 0..3, or RULE_WHERE_* */
	uint8_t wheels; /* per-wheel rules: every wheel of the zone (bit w) */
};

/* One rule's summary of one lap. */
struct rule_lap {
	bool active;      /* the rule ran on this lap (its channels were there) */
	bool hit, strong; /* symptom past the threshold / past the strong one */
	int episodes;     /* every episode counted (per-wheel rules: zones, where
					* wheels overlapping in time make one) */
	int nep;          /* kept in ep[] */
	struct rule_episode ep[RULE_MAX_EP];
	double value;     /* the rule's figure for the lap (rules.c says which) */
	double aux, aux2; /* more figures (rules.c) */
	unsigned wheels;  /* bit w: wheel w was involved */
	double gate_s;    /* time the rule's gate was open (cornering, braking ...) */
};

/* A rule over the analysed laps, for rule_compose. */
struct rule_summary {
	enum rule_id rule;
	int laps; /* analysed */
	int laps_hit, laps_strong;
	int episodes;                 /* over the laps */
	const struct rule_lap *worst; /* the lap with the strongest evidence */
	uint32_t worst_lap;           /* its number */
	const uint32_t *hit_laps;     /* numbers of the laps it fired on (laps_hit of them) */
	unsigned wheels;              /* over the laps */
	double value_mean;            /* of the laps it fired on */
	bool second_signal;           /* patterns: the balance rules agree */
	bool live;
};

/* Per-lap state of every rule; plain data, engineer.c owns it. */
struct rules_state;
size_t rules_state_size(void);
/* Start a lap: only the rules in active (bit per enum rule_id) run. */
void rules_lap_start(struct rules_state *s, uint32_t active);
void rules_frame(struct rules_state *s, const struct eng_frame *e);
/* Close the lap: out[r] for every rule (active false for the others). */
void rules_lap_end(struct rules_state *s, struct rule_lap out[R_COUNT]);

/*
 * The seed's recommendation fields of one rule's finding (a new object):
 * category, title, detected, cause, adjustment, expected_outcome, caveats,
 * alternatives, driving_style_assumed, locked_fallback_used; plus the
 * preferred parameter in *param (static). NULL when out of memory.
 */
json_t *rule_compose(const struct rule_summary *sum, const char **param);

/* The caps of REFERENCE-ux §5 on one adjustment. */
enum rule_cap { CAP_NONE = 0, CAP_SPRING_PCT, CAP_DAMPING_CLICKS, CAP_PRESSURE_PSI, CAP_BIAS_PCT };
/* change clamped to its cap (spring +-15 %, damping +-2 clicks, pressure
 * +-2 psi, brake bias +-2 %); unchanged for CAP_NONE. */
double rule_cap(enum rule_cap cap, double change);

#endif
