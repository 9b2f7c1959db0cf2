/* log.c - diagnostics to a log file. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static FILE *log_fp;
static int   log_owned;
static enum log_level log_max = LOG_INFO;

/* Open path for appending log lines. */
int
log_open(const char *path, enum log_level level)
{
	FILE *f;

	log_close();
	log_max = level;
	if (path == NULL)
		return 0;
	if ((f = fopen(path, "ae")) == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	log_fp = f;
	log_owned = 1;
	return 0;
}

/* Log to an open stream that we do not own. */
void
log_stream(FILE *f, enum log_level level)
{
	log_close();
	log_fp = f;
	log_owned = 0;
	log_max = level;
}

/* Close the log. */
void
log_close(void)
{
	if (log_fp != NULL && log_owned)
		fclose(log_fp);
	log_fp = NULL;
	log_owned = 0;
}

/* Write one timestamped line. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	struct timeval tv;
	struct tm tm;
	char ts[32];
	va_list ap;

	if (log_fp == NULL || level > log_max)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(log_fp, "%s.%03ld %s: ", ts, (long)tv.tv_usec / 1000, names[level]);
	va_start(ap, fmt);
	vfprintf(log_fp, fmt, ap);
	va_end(ap);
	fputc('\n', log_fp);
}
