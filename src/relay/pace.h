/*
 * Pacing of requests to the Graph API: a token bucket (for each customer's
 * pair budget), and a number's rate limit that no window of one second
 * (plus a margin for jitter on the way) ever exceeds. Pure arithmetic on
 * times the caller passes in, so tests need no clock; no locks.
 */
#ifndef GLIVI_PACE_H
#define GLIVI_PACE_H

#include <stddef.h>

/* The seconds beyond one that a number's window lasts: requests bunched up
 * on their way (by the network, by Meta's front end) still arrive at most
 * rate to the second. */
#define PACE_JITTER 0.025
#define PACE_WINDOW (1.0 + PACE_JITTER)

struct pace_bucket {
	double tokens;
	double last; /* seconds; 0 before first use */
};

/* Refills the bucket to t; takes a token if there is one. Returns the
 * seconds until one is available (0 when taken). A new bucket is full. */
double pace_bucket_take(struct pace_bucket *, double capacity,
    double per_second, double t);

struct pace;

/* A number's limit: at most rate requests go out in any PACE_WINDOW. */
struct pace *pace_new(long long rate);
void pace_free(struct pace *);
/* Seconds from t until another request may start (0: now). */
double pace_wait(struct pace *, double t);
/*
 * A request starts at t (pace_wait said 0). Until pace_sent or
 * pace_unsent it counts as going out now: a request waiting for its
 * connection may go out any moment.
 */
void pace_start(struct pace *, double t);
/* The request started went out at t (its bytes are being written). */
void pace_sent(struct pace *, double t);
/* The request started never went out (it failed to connect). */
void pace_unsent(struct pace *);

#endif
