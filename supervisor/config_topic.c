/*
 * config_topic.c: the topic.NAME.PROPERTY settings of a configuration, a
 * list in the order they were set.  NAME is a topic name or a glob of one
 * (fnmatch(3), no flags: `*` also matches dots).  For each property, the
 * entry whose pattern is the most specific match of a topic's name wins:
 * an exact name beats every glob, a glob with more literal characters
 * (those outside `*`, `?` and `[...]`) beats one with fewer, and between
 * two as literal the one set last wins, as a later line does for any
 * property.
 */
#include "supervisor/config_topic.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static int config_topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* The index just past the set "[...]" that starts at pat[i], or 0 when it
 * is not one: at least one topic-name character (ranges a-z included),
 * after an optional ! or ^, then ']'. */
static size_t config_topic_set_end(const char *pat, size_t i)
{
    size_t first;

    i++;
    if (pat[i] == '!' || pat[i] == '^')
        i++;
    first = i;
    while (config_topic_char(pat[i]))
        i++;
    return pat[i] == ']' && i > first ? i + 1 : 0;
}

int config_topic_check_pattern(const char *pattern)
{
    size_t len = strlen(pattern), i = 0;

    if (len > TOPIC_NAME_MAX) /* the key quotes it already */
        return err_set(CHUTE_ERR_INVALID,
                       "a pattern of %zu characters is longer than a topic "
                       "name may be (%d)",
                       len, TOPIC_NAME_MAX);
    while (i < len) {
        if (pattern[i] == '[')
            i = config_topic_set_end(pattern, i);
        else if (config_topic_char(pattern[i]) || pattern[i] == '*' ||
                 pattern[i] == '?')
            i++;
        else
            break;
        if (i == 0)
            break;
    }
    if (len > 0 && i == len)
        return 0;
    return err_set(CHUTE_ERR_INVALID,
                   "\"%s\" is not a topic name or glob (" CONFIG_TOPIC_PATTERN_RULE
                   ")",
                   pattern);
}

/* How specific a (checked) pattern is: an exact name beats every glob; a
 * glob counts its literal characters. */
static size_t config_topic_weight(const char *pattern)
{
    size_t literal = 0;
    int glob = 0;

    for (size_t i = 0; pattern[i];) {
        if (pattern[i] == '[') {
            i = config_topic_set_end(pattern, i);
            glob = 1;
        } else {
            glob |= pattern[i] == '*' || pattern[i] == '?';
            literal += pattern[i] != '*' && pattern[i] != '?';
            i++;
        }
    }
    return glob ? literal : SIZE_MAX;
}

static void config_topic_remove(struct config *cfg, size_t i)
{
    free(cfg->topics[i].pattern);
    memmove(&cfg->topics[i], &cfg->topics[i + 1],
            (cfg->topic_count - i - 1) * sizeof(cfg->topics[0]));
    cfg->topic_count--;
}

int config_topic_put(struct config *cfg, char *pattern,
                     enum topic_setting setting, int64_t value)
{
    struct config_topic *grown =
        realloc(cfg->topics, (cfg->topic_count + 1) * sizeof(*grown));

    if (!grown) {
        free(pattern);
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    }
    cfg->topics = grown;
    for (size_t i = 0; i < cfg->topic_count; i++) {
        if (cfg->topics[i].setting == setting &&
            strcmp(cfg->topics[i].pattern, pattern) == 0) {
            config_topic_remove(cfg, i);
            break;
        }
    }
    cfg->topics[cfg->topic_count++] =
        (struct config_topic){pattern, setting, value};
    return 0;
}

const struct config_topic *config_topic_match(const struct config *cfg,
                                              enum topic_setting setting,
                                              const char *name)
{
    const struct config_topic *best = NULL;
    size_t best_weight = 0;

    for (size_t i = 0; i < cfg->topic_count; i++) {
        const struct config_topic *t = &cfg->topics[i];
        size_t weight;

        if (t->setting != setting || fnmatch(t->pattern, name, 0) != 0)
            continue;
        weight = config_topic_weight(t->pattern);
        if (!best || weight >= best_weight) { /* >=: the later one */
            best = t;
            best_weight = weight;
        }
    }
    return best;
}

int config_topic_copy(struct config *to, const struct config *from)
{
    size_t n = from->topic_count;
    struct config_topic *copy = calloc(n ? n : 1, sizeof(*copy));
    size_t i;

    for (i = 0; copy && i < n; i++) {
        copy[i] = from->topics[i];
        copy[i].pattern = strdup(from->topics[i].pattern);
        if (!copy[i].pattern)
            break;
    }
    if (!copy || i < n) {
        while (copy && i > 0)
            free(copy[--i].pattern);
        free(copy);
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    }
    config_topic_release(to);
    to->topics = copy;
    to->topic_count = n;
    return 0;
}

void config_topic_release(struct config *cfg)
{
    for (size_t i = 0; i < cfg->topic_count; i++)
        free(cfg->topics[i].pattern);
    free(cfg->topics);
    cfg->topics = NULL;
    cfg->topic_count = 0;
}
