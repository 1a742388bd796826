/*
 * chuted: the chute service.  `chuted -c FILE [-X key=value]...` runs in
 * the foreground and logs to stderr.
 */
#include "common/err.h"
#include "common/log.h"
#include "supervisor/sup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: chuted [-c FILE] [-X key=value]... [-D]\n"
                 "Runs a chute instance in the foreground; -D prints the effective "
                 "configuration instead.\nSee docs/configuration.md for the "
                 "properties.\n");
}

int main(int argc, char **argv)
{
    static struct sup s;
    bool dump = false;
    int opt, rc;

    config_init(&s.cfg);
    /* Load the file first, so -X overrides win whatever their order. */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "-c") == 0) {
            s.config_path = argv[i + 1];
            if (config_load_file(&s.cfg, argv[i + 1]) < 0) {
                fprintf(stderr, "chuted: %s\n", chute_errmsg());
                return 2;
            }
        }
    s.overrides = calloc((size_t)argc, sizeof(char *));
    if (!s.overrides)
        return 2;
    while ((opt = getopt(argc, argv, "c:X:hD")) != -1) {
        switch (opt) {
        case 'c':
            break;
        case 'X':
            s.overrides[s.override_count++] = optarg;
            if (config_set_arg(&s.cfg, optarg) < 0) {
                fprintf(stderr, "chuted: -X %s: %s\n", optarg, chute_errmsg());
                return 2;
            }
            break;
        case 'D':
            dump = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (config_validate(&s.cfg) < 0) {
        fprintf(stderr, "chuted: %s\n", chute_errmsg());
        return 2;
    }
    if (dump)
        return config_dump(&s.cfg, stdout) < 0;
    log_set_level(s.cfg.log_level);
    rc = sup_run(&s);
    config_release(&s.cfg);
    free(s.overrides);
    return rc;
}
