/*
 * track.h - pw-sim's built-in closed circuit, "pitwall_ring".
 *
 * The circuit is a sequence of straights and constant-radius arcs joined by
 * short clothoids (curvature linear in distance), run clockwise. Two of the
 * straight lengths are adjusted at build time (least-norm correction over all
 * straights) so the loop closes exactly. Everything is sampled by centre-line
 * distance s (m, wrapped into [0, length)).
 *
 * World axes: x and z horizontal (y up, always 0). Heading psi (rad) is
 * measured so that the direction of travel is (sin psi, cos psi) in (x, z):
 * psi = 0 drives toward +z; psi grows in a right-hand turn, so curvature is
 * + for right turns and the car's right is (cos psi, -sin psi). A lateral
 * offset is + to the right of the direction of travel.
 *
 * A track is built once (track_new) and then read-only: safe to share.
 */
#ifndef PW_SIM_TRACK_H
#define PW_SIM_TRACK_H

struct track;

struct track_point {
	double x_m, z_m;
	double heading_rad;   /* psi, continuous (not wrapped) */
	double curvature_1pm; /* + right */
};

struct track_corner {
	int index;                     /* 1-based, in driving order */
	int direction;                 /* +1 right, -1 left */
	double start_m, apex_m, end_m; /* centre-line distances */
	double angle_deg;              /* total heading change, positive */
	double min_radius_m;
};

/* Lifecycle */
/* Build the built-in circuit. Returns NULL on allocation failure; the
 * caller owns the track and frees it with track_free(). */
struct track *track_new(void);
void track_free(struct track *t);

/* Accessors */
const char *track_name(const struct track *t);
const char *track_layout(const struct track *t);
double track_length_m(const struct track *t);
double track_width_m(const struct track *t);
int track_corner_count(const struct track *t);
const struct track_corner *track_corner(const struct track *t, int i); /* 0-based */
int track_sector_count(const struct track *t);
double track_sector_start_m(const struct track *t, int i);
int track_sector_at(const struct track *t, double s_m);

/* Operations */
/* Centre-line curvature at s, 1/m (+ right); cheaper than track_sample. */
double track_curvature(const struct track *t, double s_m);
/* Centre line at distance s (wrapped into the lap). */
void track_sample(const struct track *t, double s_m, struct track_point *p);
/* Point offset_m to the right of the centre line at s (left boundary:
 * -width/2, right boundary: +width/2). */
void track_offset_point(const struct track *t, double s_m, double offset_m, double *x_m,
			double *z_m);
/* s wrapped into [0, length). */
double track_wrap(const struct track *t, double s_m);

#endif
