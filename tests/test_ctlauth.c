/*
 * test_ctlauth.c: supervisor/ctlauth.c, who may send which control
 * request.  Tables of credentials against a policy and of request types;
 * then the kernel's word for real peers: a child process that drops to
 * another uid, gid and supplementary groups connects to a listening
 * socket, and ctlauth_peer_read must see exactly those (root only:
 * skipped otherwise).
 */
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "supervisor/ctlauth.h"

#define SELF  990  /* chuted's own uid in the tables */
#define ADMIN 4    /* admin.group's gid in the tables */
#define NONE  (-1) /* no admin.group */

static const struct admin_case {
    const char *what;
    long admin_gid;
    uid_t uid;
    gid_t gid;
    gid_t groups[4];
    size_t n_groups;
    bool admin;
} admin_cases[] = {
    {"root", NONE, 0, 0, {0}, 0, true},
    {"root with another gid", ADMIN, 0, 100, {0}, 0, true},
    {"chuted's own user", NONE, SELF, 100, {0}, 0, true},
    {"a stranger", NONE, 1000, 100, {100}, 1, false},
    {"a stranger, admin.group set", ADMIN, 1000, 100, {100, 27}, 2, false},
    {"admin.group as primary group", ADMIN, 1000, ADMIN, {0}, 0, true},
    {"admin.group as supplementary", ADMIN, 1000, 100, {100, ADMIN}, 2, true},
    {"admin.group last of four", ADMIN, 1000, 100, {1, 2, 3, ADMIN}, 4, true},
    {"in the group, no admin.group", NONE, 1000, ADMIN, {ADMIN}, 1, false},
    {"uid equal to the admin gid", ADMIN, ADMIN, 100, {100}, 1, false},
};

static void test_is_admin(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(admin_cases) / sizeof(admin_cases[0]); i++) {
        const struct admin_case *c = &admin_cases[i];
        struct ctlauth_policy pol = {SELF, c->admin_gid, "adm"};

        if (ctlauth_is_admin(&pol, c->uid, c->gid, c->groups, c->n_groups) !=
            c->admin)
            fail_msg("%s: admin should be %d", c->what, c->admin);
    }
}

static const struct request_case {
    int body;
    const char *name;
    bool admin;
} request_cases[] = {
    {CHUTE__CTL__REQUEST__BODY__NOT_SET, "empty request", false},
    {CHUTE__CTL__REQUEST__BODY_HELLO, "hello", false},
    {CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC, "resolve", false},
    {CHUTE__CTL__REQUEST__BODY_STATUS, "status", false},
    {CHUTE__CTL__REQUEST__BODY_TOPICS, "topics", false},
    {CHUTE__CTL__REQUEST__BODY_SCALE, "scale", true},
    {CHUTE__CTL__REQUEST__BODY_FLUSH, "flush", true},
    {CHUTE__CTL__REQUEST__BODY_DRAIN, "drain", true},
    {CHUTE__CTL__REQUEST__BODY_RELOAD, "reload", true},
    /* A request type the table does not list is for admins. */
    {99, "unknown request", true},
};

static void test_requests(void **state)
{
    struct ctlauth_policy pol = {SELF, ADMIN, "adm"};
    struct ctlauth_peer stranger = {.uid = 1000, .gid = 100, .pid = 4242};
    struct ctlauth_peer admin = {.uid = 1000, .gid = ADMIN, .pid = 4243, .admin = true};

    (void)state;
    for (size_t i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]);
         i++) {
        const struct request_case *c = &request_cases[i];
        Chute__Ctl__Request__BodyCase body = c->body;

        assert_string_equal(ctlauth_request_name(body), c->name);
        if (ctlauth_needs_admin(body) != c->admin)
            fail_msg("%s: needs admin should be %d", c->name, c->admin);
        assert_int_equal(ctlauth_check(&pol, &stranger, body),
                         c->admin ? CHUTE_ERR_DENIED : 0);
        assert_int_equal(ctlauth_check(&pol, &admin, body), 0);
    }
}

static void test_refusal_message(void **state)
{
    struct ctlauth_policy pol = {SELF, ADMIN, "adm"};
    struct ctlauth_peer p = {.uid = 1000, .gid = 100, .pid = 4242};

    (void)state;
    assert_int_equal(ctlauth_check(&pol, &p, CHUTE__CTL__REQUEST__BODY_DRAIN),
                     CHUTE_ERR_DENIED);
    assert_string_equal(chute_errmsg(),
                        "\"drain\" changes the service: only root, chuted's "
                        "own user (uid 990) or a member of admin.group "
                        "\"adm\" may ask for it, not uid 1000 (gid 100, pid "
                        "4242)");
    pol.admin_gid = NONE;
    assert_int_equal(ctlauth_check(&pol, &p, CHUTE__CTL__REQUEST__BODY_SCALE),
                     CHUTE_ERR_DENIED);
    assert_string_equal(chute_errmsg(),
                        "\"scale\" changes the service: only root, chuted's "
                        "own user (uid 990) may ask for it, not uid 1000 "
                        "(gid 100, pid 4242)");
}

/* ---- the kernel's word ---------------------------------------------------- */

static char dir[] = "/tmp/chute-test-ctlauth-XXXXXX";
static struct sockaddr_un sa = {.sun_family = AF_UNIX};

/* Becomes uid/gid with these supplementary groups, connects to sa and
 * waits until the parent closes; exits 0 if all went well. */
static void child_connect(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
    int fd;
    char b;

    if (setgroups(n, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
        _exit(2);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        _exit(3);
    (void)!read(fd, &b, 1);
    _exit(0);
}

/* What the policy sees of a child with these credentials. */
static struct ctlauth_peer peer_of(const struct ctlauth_policy *pol,
                                   uid_t uid, gid_t gid, const gid_t *groups,
                                   size_t n, pid_t *child)
{
    struct ctlauth_peer p;
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fd, status;

    assert_true(lfd >= 0);
    unlink(sa.sun_path);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(chmod(sa.sun_path, 0777), 0);
    assert_int_equal(listen(lfd, 1), 0);
    *child = fork();
    assert_true(*child >= 0);
    if (*child == 0)
        child_connect(uid, gid, groups, n);
    fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    assert_int_equal(ctlauth_peer_read(fd, pol, &p), 0);
    close(fd);
    close(lfd);
    assert_int_equal(waitpid(*child, &status, 0), *child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return p;
}

static void test_peer_from_kernel(void **state)
{
    static gid_t many[200];
    const struct {
        const char *what;
        long admin_gid;
        gid_t gid;
        const gid_t *groups;
        size_t n;
        bool admin;
    } rows[] = {
        {"a stranger", ADMIN, 50, (const gid_t[]){100}, 1, false},
        {"primary group", ADMIN, ADMIN, (const gid_t[]){100}, 1, true},
        {"supplementary", ADMIN, 50, (const gid_t[]){100, ADMIN}, 2, true},
        {"no admin.group", NONE, ADMIN, (const gid_t[]){ADMIN}, 1, false},
        /* More groups than ctlauth reads without an allocation. */
        {"admin.group 200th", ADMIN, 50, many, 200, true},
        {"200 others", 7777, 50, many, 200, false},
    };

    (void)state;
    if (geteuid() != 0)
        skip();
    for (int i = 0; i < 200; i++)
        many[i] = (gid_t)(10000 + i);
    many[199] = ADMIN;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ctlauth_policy pol = {0, rows[i].admin_gid, "adm"};
        pid_t child;
        struct ctlauth_peer p = peer_of(&pol, 61001, rows[i].gid,
                                        rows[i].groups, rows[i].n, &child);

        assert_int_equal(p.uid, 61001);
        assert_int_equal(p.gid, rows[i].gid);
        assert_int_equal(p.pid, child);
        if (p.admin != rows[i].admin)
            fail_msg("%s: admin should be %d", rows[i].what, rows[i].admin);
    }
}

/* chuted's own user is an admin whatever its groups. */
static void test_peer_own_user(void **state)
{
    struct ctlauth_policy pol = {61002, NONE, ""};
    pid_t child;
    struct ctlauth_peer p;

    (void)state;
    if (geteuid() != 0)
        skip();
    p = peer_of(&pol, 61002, 50, (const gid_t[]){100}, 1, &child);
    assert_true(p.admin);
    pol.self = 61003;
    p = peer_of(&pol, 61002, 50, (const gid_t[]){100}, 1, &child);
    assert_false(p.admin);
}

static int dir_setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
        return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
    return 0;
}

static int dir_teardown(void **state)
{
    (void)state;
    unlink(sa.sun_path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_admin),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_refusal_message),
        cmocka_unit_test(test_peer_from_kernel),
        cmocka_unit_test(test_peer_own_user),
    };

    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
