/* log.h - diagnostics to a log file (never to the terminal the UI owns). */
#ifndef CONFAB_LOG_H
#define CONFAB_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Send log lines to path (NULL: discard), at or below level. */
int  log_open(const char *path, enum log_level level);
/* Send log lines to an already open stream (tests, headless --log -). */
void log_stream(FILE *f, enum log_level level);
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
