/*
 * name.c: validation of instance names.
 */
#include "common/name.h"

#include <string.h>

#include "common/err.h"

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int name_check(const char *name)
{
    size_t n = strlen(name);
    size_t i;

    for (i = 0; i < n && name_char_ok(name[i]); i++)
        ;
    if (n == 0 || n > CHUTE_NAME_MAX || i < n)
        return err_set(CHUTE_ERR_INVALID,
                       "\"%s\" is not a valid instance name (1 to %d of "
                       "A-Z a-z 0-9 _ . -)",
                       name, CHUTE_NAME_MAX);
    return 0;
}
