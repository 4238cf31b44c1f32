/*
 * log.h - one-line key=value logging to stderr: "2026-11-22T10:00:00.123Z info capture feed=ksudp msg=...".
 *
 * log_init() names the component once per process; log_msg() formats the
 * rest as printf. Thread-safe (one fprintf per line). Levels below the
 * threshold set by PITWALL_LOG_LEVEL (debug|info|warn|error, default info;
 * read through common/config.h when log_init() runs) are dropped.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(const char *component);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
