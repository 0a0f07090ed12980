/*
 * Request pacing for the outbound sender: token buckets and a number's
 * windowed rate limit. Times are seconds on one monotonic scale, given by
 * the caller; nothing here reads a clock or takes a lock.
 */
#include "relay/pace.h"

#include <math.h>
#include <stdlib.h>

#include "core/xalloc.h"

/* A number's bucket holds this many seconds of its rate: it spreads
 * requests out, yet lets a short stall be made up for. */
#define CATCH_UP 0.05

double
pace_bucket_take(struct pace_bucket *b, double capacity, double per_second,
    double t)
{
	if (b->last == 0) {
		b->tokens = capacity;
		b->last = t;
	} else if (b->last < 0)
		b->last = t; /* starts with the tokens it was given */
	if (t > b->last) {
		b->tokens += (t - b->last) * per_second;
		b->last = t;
	}
	if (b->tokens > capacity)
		b->tokens = capacity;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (1 - b->tokens) / per_second;
}

/*
 * The times the last rate requests went out (a ring, oldest at head), and
 * how many started requests have not gone out yet. At every moment, the
 * requests that went out in the last PACE_WINDOW plus those that may go
 * out any moment are at most rate; so no window of PACE_WINDOW ever holds
 * more than rate, whenever each request really leaves.
 */
struct pace {
	struct pace_bucket bucket;
	double capacity, per_second;
	double *sent;
	size_t rate, head, n;
	size_t unsent;
};

struct pace *
pace_new(long long rate)
{
	struct pace *p = xcalloc(1, sizeof *p);
	double burst = floor((double)rate * CATCH_UP);

	p->rate = rate > 0 ? (size_t)rate : 1;
	p->capacity = burst < 1 ? 1 : burst;
	p->per_second = (double)p->rate;
	p->sent = xcalloc(p->rate, sizeof *p->sent);
	/* At start every connection is still to be made: a full bucket
	 * would start them all at once, and their handshakes would hold the
	 * first requests back, then let them arrive together. */
	p->bucket.tokens = 1;
	p->bucket.last = -1;
	return p;
}

void
pace_free(struct pace *p)
{
	if (p == NULL)
		return;
	free(p->sent);
	free(p);
}

double
pace_wait(struct pace *p, double t)
{
	struct pace_bucket b = p->bucket;
	double w, free_at;
	size_t k;

	if (p->unsent >= p->rate)
		return PACE_WINDOW; /* only a request going out frees one */
	/* Room for one more: the (rate - unsent)th newest request sent must
	 * have left the window. */
	k = p->rate - p->unsent;
	if (p->n >= k) {
		free_at = p->sent[(p->head + p->n - k) % p->rate] + PACE_WINDOW;
		if (free_at > t)
			return free_at - t;
	}
	/* Look at the bucket without taking a token. */
	w = pace_bucket_take(&b, p->capacity, p->per_second, t);
	return w;
}

void
pace_start(struct pace *p, double t)
{
	pace_bucket_take(&p->bucket, p->capacity, p->per_second, t);
	p->unsent++;
}

void
pace_sent(struct pace *p, double t)
{
	if (p->unsent > 0)
		p->unsent--;
	if (p->n == p->rate) {
		p->sent[p->head] = t;
		p->head = (p->head + 1) % p->rate;
	} else
		p->sent[(p->head + p->n++) % p->rate] = t;
}

void
pace_unsent(struct pace *p)
{
	if (p->unsent > 0)
		p->unsent--;
}
