/* log.c - see log.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"

static const char *component = "pitwall";
static enum log_level threshold = LOG_INFO;
static const char *const names[] = { "debug", "info", "warn", "error" };

void log_init(const char *name)
{
	const char *lvl = config_get("PITWALL_LOG_LEVEL");

	component = name;
	/* unset or unknown: the default, not a previous init's level (config_load is the
	 * one that refuses an unknown level, with an error naming it) */
	threshold = LOG_INFO;
	for (int i = 0; lvl && i < 4; i++)
		if (strcasecmp(lvl, names[i]) == 0)
			threshold = (enum log_level)i;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n;
	va_list ap;

	if (level < threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, names[level], component);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
