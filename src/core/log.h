/*
 * One log for every program: leveled lines on stderr (or a file), safe to
 * call from any thread. Callers must never pass message bodies, tokens or
 * secrets: log what happened and where, not what customers wrote.
 */
#ifndef GLIVI_LOG_H
#define GLIVI_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level);
/* Where lines go from now on: a descriptor, or -1 for nowhere (the
 * screen, which owns the terminal, without a log file). */
void log_set_fd(int);
int log_level_parse(const char *, enum log_level *);
void log_msg(enum log_level, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A logger for libraries that take (cls, fmt, va_list), such as
 * libmicrohttpd's MHD_OPTION_EXTERNAL_LOGGER: their lines go to the debug
 * log with trailing newlines trimmed.
 */
void log_external(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
