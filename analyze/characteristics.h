/*
 * characteristics.h - a car's profile over its shift_points analyses: the
 * seed's "Car Characteristics" detail and list shapes.
 *
 * an_characteristics() (declared in analysis.h) builds the detail
 *   {"car_name","gears":[{"gear","min_rpm","max_rpm","min_speed_kmh",
 *    "max_speed_kmh"}...],"recommended_shift_rpm","session_count"}
 * from the "analysis" objects of one car's completed shift_points sessions;
 * an_characteristics_summary() cuts a detail down to its list entry.
 * docs/analysis-shift_points.md describes both. Pure functions, no I/O;
 * results are new references owned by the caller.
 */
#ifndef PW_CHARACTERISTICS_H
#define PW_CHARACTERISTICS_H

#include <jansson.h>

#include "analyze/analysis.h"

/* The list entry {"car_name","session_count","recommended_shift_rpm"} of a
 * detail made by an_characteristics (borrowed). Returns a new object, or
 * NULL when detail is not an object (or out of memory). */
json_t *an_characteristics_summary(const json_t *detail);

#endif
