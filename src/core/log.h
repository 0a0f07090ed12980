/*
 * One log for every program: leveled lines on stderr (or a file), safe to
 * call from any thread. Callers must never pass message bodies, tokens or
 * secrets: log what happened and where, not what customers wrote.
 */
#ifndef GLIVI_LOG_H
#define GLIVI_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level);
int log_level_parse(const char *, enum log_level *);
void log_msg(enum log_level, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
