/*
 * cars.h - car characteristics: a car's profile over its shift_points
 * analyses, the seed's "Car Characteristics" detail and list shapes. A query
 * over the analyses the store keeps (cars.c also serves the
 * characteristics.list and characteristics.get commands).
 *
 * cars_characteristics() builds the detail
 *   {"car_name","gears":[{"gear","min_rpm","max_rpm","min_speed_kmh",
 *    "max_speed_kmh"}...],"recommended_shift_rpm","session_count"}
 * from the "analysis" objects of one car's completed shift_points sessions;
 * cars_characteristics_summary() cuts a detail down to its list entry.
 * docs/analysis-shift_points.md describes both. Pure functions, no I/O;
 * results are new references owned by the caller.
 */
#ifndef PW_STORE_CARS_H
#define PW_STORE_CARS_H

#include <jansson.h>
#include <stddef.h>

/* The detail of car_name (NULL is written as "") over its n analyses
 * (borrowed; NULL or malformed entries are skipped). A new object, or NULL
 * when out of memory. */
json_t *cars_characteristics(const char *car_name, json_t *const *analyses, size_t n);
/* The list entry {"car_name","session_count","recommended_shift_rpm"} of a
 * detail made by cars_characteristics (borrowed). Returns a new object, or
 * NULL when detail is not an object (or out of memory). */
json_t *cars_characteristics_summary(const json_t *detail);

#endif
