/* log.c - diagnostics to a log file. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "utf8.h"

static FILE *log_fp;
static int   log_owned;
static enum log_level log_max = LOG_INFO;

/*
 * Open path for appending log lines: created 0600 like the rest of the state,
 * and a regular file of ours that others may read is tightened to 0600.
 */
int
log_open(const char *path, enum log_level level)
{
	struct stat st;
	FILE *f;
	int fd;

	log_close();
	log_max = level;
	if (path == NULL)
		return 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    (st.st_mode & 077) != 0)
		(void)fchmod(fd, st.st_mode & 0700);
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return -1;
	}
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

/*
 * Write p[0..n) to f with every control character escaped, whatever its
 * source: C0 bytes, DEL and C1 characters (U+0080..U+009F) as \xHH / \u00HH,
 * each byte of invalid UTF-8 as \xHH, and the backslash doubled so that an
 * escape in the log is always ours.  Printable UTF-8 is written as it is.
 */
static void
log_escaped(FILE *f, const uint8_t *p, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = utf8_decode(p + i, n - i, &cp);
		if (k == 0) {
			fprintf(f, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02x", (unsigned)cp);
		else if (cp >= 0x80 && cp <= 0x9f)
			fprintf(f, "\\u%04x", (unsigned)cp);
		else if (cp == '\\')
			fputs("\\\\", f);
		else
			fwrite(p + i, 1, k, f);
		i += k;
	}
}

/* Write one timestamped line (the message escaped: see log_escaped). */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	struct timeval tv;
	struct tm tm;
	char ts[32], small[512], *msg = small;
	va_list ap;
	int n;

	if (log_fp == NULL || level > log_max)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof small) {
		if ((msg = malloc((size_t)n + 1)) == NULL) {
			msg = small;   /* write what fits */
			n = (int)sizeof small - 1;
		} else {
			va_start(ap, fmt);
			vsnprintf(msg, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	fprintf(log_fp, "%s.%03ld %s: ", ts, (long)tv.tv_usec / 1000, names[level]);
	log_escaped(log_fp, (const uint8_t *)msg, (size_t)n);
	fputc('\n', log_fp);
	if (msg != small)
		free(msg);
}
