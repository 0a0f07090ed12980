/*
 * Pacing: a number never has more than its rate of requests go out in any
 * window of PACE_WINDOW, whenever each really leaves; it keeps up with its
 * rate when requests are always waiting; buckets refill and cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "relay/pace.h"

/* The largest number of sends within any window of length w. */
static size_t
busiest(const double *t, size_t n, double w)
{
	size_t best = 0;

	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < n && t[j] < t[i] + w - 1e-12)
			j++;
		if (j - i > best)
			best = j - i;
	}
	return best;
}

/* A deterministic generator, so a failure can be replayed. */
static uint64_t
next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/*
 * Requests always waiting; each goes out after a delay (its connection)
 * of up to max_delay, some in bunches. Sends are recorded as they leave.
 */
static size_t
simulate(long long rate, double seconds, double max_delay, uint64_t seed,
    double **out)
{
	struct pace *p = pace_new(rate);
	size_t cap = (size_t)(rate * seconds * 2) + 16, n = 0, npend = 0;
	double *sent = calloc(cap, sizeof *sent);
	double *pend = calloc(4096, sizeof *pend);
	uint64_t s = seed;

	for (double t = 1.0; t < 1.0 + seconds; t += 0.0001) {
		/* Requests whose delay is over go out, in order of leaving. */
		for (size_t i = 0; i < npend;) {
			if (pend[i] <= t) {
				pace_sent(p, t);
				sent[n++] = t;
				pend[i] = pend[--npend];
			} else
				i++;
		}
		/* Now and then the scheduler stalls us for a while. */
		if (next_rand(&s) % 20000 == 0)
			t += (double)(next_rand(&s) % 200) / 1000.0;
		while (pace_wait(p, t) == 0 && npend < 4096) {
			pace_start(p, t);
			pend[npend++] = t + max_delay *
			    (double)(next_rand(&s) % 1000) / 1000.0;
		}
	}
	pace_free(p);
	free(pend);
	*out = sent;
	return n;
}

static void
pace__never_more_than_rate_in_any_window(void **state)
{
	static const long long rates[] = { 1, 2, 80, 1000 };
	static const double delays[] = { 0, 0.003, 0.05, 0.4 };
	double *t;
	size_t n;

	(void)state;
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		for (size_t d = 0; d < sizeof delays / sizeof delays[0]; d++) {
			n = simulate(rates[r], 6, delays[d], 42 + r * 7 + d, &t);
			assert_true(n > 0);
			assert_true(busiest(t, n, PACE_WINDOW) <=
			    (size_t)rates[r]);
			free(t);
		}
	}
}

static void
pace__keeps_up_with_its_rate(void **state)
{
	double *t;
	size_t n;

	(void)state;
	/* No stalls to speak of, requests leave at once: the rate less the
	 * window's margin, and no more than the rate. */
	n = simulate(1000, 10, 0.0005, 7, &t);
	assert_true((double)n / 10.0 >= 0.96 * 1000.0 / PACE_WINDOW);
	assert_true((double)n / 10.0 <= 1000.0);
	free(t);
	n = simulate(80, 10, 0.0005, 9, &t);
	assert_true((double)n / 10.0 >= 0.95 * 80.0 / PACE_WINDOW);
	free(t);
}

static void
pace__starts_without_a_burst(void **state)
{
	struct pace *p = pace_new(1000);
	int started = 0;

	(void)state;
	/* A fresh number starts one request, then waits for the next
	 * token: connections are made one by one. */
	while (pace_wait(p, 5.0) == 0 && started < 100) {
		pace_start(p, 5.0);
		started++;
	}
	assert_int_equal(started, 1);
	assert_true(pace_wait(p, 5.0) > 0);
	assert_true(pace_wait(p, 5.0011) == 0);
	pace_free(p);
}

static void
pace__requests_not_yet_out_count_as_going_out(void **state)
{
	struct pace *p = pace_new(2);
	double t = 10;

	(void)state;
	/* Two started and held back by their connections: none more, however
	 * long they take. */
	assert_true(pace_wait(p, t) == 0);
	pace_start(p, t);
	t += 1;
	assert_true(pace_wait(p, t) == 0);
	pace_start(p, t);
	t += 5;
	assert_true(pace_wait(p, t) > 0);
	/* One fails to connect: its place is free again. */
	pace_unsent(p);
	assert_true(pace_wait(p, t) == 0);
	pace_start(p, t);
	/* Both go out now: the next has to wait a whole window. */
	pace_sent(p, t);
	pace_sent(p, t);
	assert_true(pace_wait(p, t + PACE_WINDOW - 0.01) > 0);
	assert_true(pace_wait(p, t + PACE_WINDOW + 0.01) == 0);
	pace_free(p);
}

static void
pace_bucket__starts_full_refills_and_caps(void **state)
{
	struct pace_bucket b = { 0 };
	double w;

	(void)state;
	/* A pair budget of 3, one more every 2 s. */
	for (int i = 0; i < 3; i++)
		assert_true(pace_bucket_take(&b, 3, 0.5, 100) == 0);
	w = pace_bucket_take(&b, 3, 0.5, 100);
	assert_true(w > 1.99 && w < 2.01);
	assert_true(pace_bucket_take(&b, 3, 0.5, 102.01) == 0);
	assert_true(pace_bucket_take(&b, 3, 0.5, 102.02) > 0);
	/* A long pause refills to the cap, not past it. */
	for (int i = 0; i < 3; i++)
		assert_true(pace_bucket_take(&b, 3, 0.5, 1000) == 0);
	assert_true(pace_bucket_take(&b, 3, 0.5, 1000) > 0);
	/* A clock that seems to go back takes nothing away. */
	assert_true(pace_bucket_take(&b, 3, 0.5, 999) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pace__never_more_than_rate_in_any_window),
		cmocka_unit_test(pace__keeps_up_with_its_rate),
		cmocka_unit_test(pace__starts_without_a_burst),
		cmocka_unit_test(pace__requests_not_yet_out_count_as_going_out),
		cmocka_unit_test(pace_bucket__starts_full_refills_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
