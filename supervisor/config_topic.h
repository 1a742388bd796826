/*
 * config_topic.h: the list of topic.NAME.PROPERTY settings of a struct
 * config (config.h), as config.c keeps it: the patterns they may have,
 * which one applies to a topic, and the list's life cycle.  What each
 * PROPERTY is, how its value parses and what it turns into for the
 * workers stays in config.c's table.
 */
#ifndef CHUTE_SUPERVISOR_CONFIG_TOPIC_H
#define CHUTE_SUPERVISOR_CONFIG_TOPIC_H

#include "supervisor/config.h"

/* What a pattern may hold, for messages and the documentation. */
#define CONFIG_TOPIC_PATTERN_RULE                                             \
    "1 to 249 of A-Z a-z 0-9 . _ -, and the globs * ? [...]"

/* 0 if `pattern` is a topic name or an fnmatch(3) glob of one (*, ?, and
 * [...] sets of topic-name characters, negated by a leading ! or ^), else
 * CHUTE_ERR_INVALID naming it. */
int config_topic_check_pattern(const char *pattern);

/* Adds (pattern, setting) = value to cfg's list, taking `pattern` (a heap
 * string); an earlier entry of the same pattern and setting goes, so the
 * new one counts as set last.  0, or CHUTE_ERR_SYSTEM (pattern freed,
 * the list unchanged). */
int config_topic_put(struct config *cfg, char *pattern,
                     enum topic_setting setting, int64_t value);

/* The entry of `setting` that applies to topic `name` (the rule is in
 * config.h, config_topic_values), or NULL when none matches. */
const struct config_topic *config_topic_match(const struct config *cfg,
                                              enum topic_setting setting,
                                              const char *name);

/* Replaces to's list with a copy of from's.  0, or CHUTE_ERR_SYSTEM with
 * `to` unchanged. */
int config_topic_copy(struct config *to, const struct config *from);

/* Frees the list; cfg then has none. */
void config_topic_release(struct config *cfg);

#endif
