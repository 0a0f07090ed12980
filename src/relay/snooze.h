/*
 * The snooze timer: one thread that sleeps until the soonest snooze ends,
 * then reopens every conversation whose snooze has ended, through the
 * committer (so once: a reopened conversation is no longer snoozed). A
 * commit wakes it to look again, since a new snooze may end sooner.
 */
#ifndef GLIVI_SNOOZE_H
#define GLIVI_SNOOZE_H

#include "relay/committer.h"
#include "relay/config.h"

struct snooze;

struct snooze *snooze_start(const struct relay_config *, struct committer *,
    char **cause);
/* After a commit (committer thread): the soonest end may have moved. */
void snooze_notify(struct snooze *);
/* Before the committer stops. */
void snooze_stop(struct snooze *);
void snooze_free(struct snooze *);

#endif
