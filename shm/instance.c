/*
 * instance.c: creating, formatting and attaching the shared-memory objects
 * of an instance (see layout.h for what lives where).
 */
#include "shm/instance.h"

#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPORT_OWNERS_SIZE 4096
static_assert(REPORT_RINGS * sizeof(struct status_report_owner) <=
                  REPORT_OWNERS_SIZE,
              "report owners fit");

/* The modes chuted gives its objects; anything more is not chuted's.  A
 * user object is nobody's but chuted's: clients get a descriptor. */
#define MODE_USER   0600
#define MODE_STATUS 0640
#define MODE_STATE  0600

static void object_name(char *buf, size_t size, const char *name,
                        const char *kind)
{
    snprintf(buf, size, "/chute.%s.%s", name, kind);
}

static void user_object_name(char *buf, size_t size, const char *name,
                             uint32_t user)
{
    snprintf(buf, size, "/chute.%s.u%u", name, user);
}

/* Allocates every page of the object now: a full /dev/shm (or a memory
 * limit) is then an error at start, never a SIGBUS in a client or a
 * worker touching a page later.  0, or CHUTE_ERR_SYSTEM saying so. */
static int allocate(int fd, size_t size, const char *path)
{
    int rc;

    do
        rc = posix_fallocate(fd, 0, (off_t)size);
    while (rc == EINTR);
    if (rc == 0)
        return 0;
    errno = rc;
    return err_sys("cannot allocate %zu bytes of shared memory for \"%s\" "
                   "(is /dev/shm full? see df /dev/shm)",
                   size, path);
}

/* Maps fd whole, read-write; closes it unless *keep (then it stays open,
 * close-on-exec, in *keep). */
static void *map_fd(int fd, size_t size, const char *path, int *keep)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    if (p == MAP_FAILED) {
        err_sys("cannot map \"%s\"", path);
        close(fd);
        return NULL;
    }
    if (keep)
        *keep = fd;
    else
        close(fd);
    return p;
}

static void *map_object(const char *path, size_t size, int mode, int gid,
                        int *keep)
{
    int fd;

    shm_unlink(path);
    fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, mode);
    if (fd < 0 && errno == EEXIST)
        return err_set(CHUTE_ERR_DENIED, "cannot create shared memory \"%s\": "
                       "one of that name exists and chuted may not remove "
                       "it (another user's? see ls -l /dev/shm)", path),
               NULL;
    if (fd < 0)
        return err_sys("cannot create shared memory \"%s\"", path), NULL;
    if (fchmod(fd, mode) < 0 || (gid >= 0 && fchown(fd, (uid_t)-1, gid) < 0) ||
        ftruncate(fd, (off_t)size) < 0) {
        err_sys("cannot size shared memory \"%s\"", path);
        close(fd);
        shm_unlink(path);
        return NULL;
    }
    if (allocate(fd, size, path) < 0) {
        close(fd);
        shm_unlink(path);
        return NULL;
    }
    return map_fd(fd, size, path, keep);
}

static void layout_offsets(struct instance *in, const struct instance_params *p)
{
    in->users = p->users;
    in->user_slots = p->slots;
    in->slots = p->slots * p->users;
    in->ring_size = p->ring_size;
    in->stats_off = sizeof(struct intake_header);
    in->slots_off =
        in->stats_off + CLIENT_MAX * sizeof(struct intake_client_stat);
    in->slot_stride = sizeof(struct ring_prod) + p->ring_size;
    in->reports_off = in->slots_off + p->slots * in->slot_stride;
    in->user_size = in->reports_off +
                    REPORT_RINGS_PER_USER *
                        (sizeof(struct ring_ctl) + REPORT_RING_SIZE);
    in->topics_off = sizeof(struct status_header);
    in->clients_off = in->topics_off + TOPIC_MAX * sizeof(struct status_topic);
    in->rings_off = in->clients_off + CLIENT_MAX * sizeof(struct status_client);
    in->owners_off = in->rings_off + SLOT_MAX * sizeof(struct ring_cons);
    in->users_off = in->owners_off + REPORT_OWNERS_SIZE;
    in->status_size = in->users_off + USER_MAX * sizeof(struct status_user);
    in->chunk_size = p->chunk_size;
    in->chunk_count = p->chunk_count;
    in->workers_off = sizeof(struct state_header);
    in->pslots_off = in->workers_off + WORKER_MAX * sizeof(struct state_worker);
    in->partitions_off = in->pslots_off + SLOT_MAX * sizeof(struct state_slot);
    in->errors_off =
        in->partitions_off + PARTITION_MAX * sizeof(struct state_partition);
    in->metrics_off = in->errors_off + TOPIC_ERROR_MAX * sizeof(struct state_error);
    in->pool_off = in->metrics_off + WORKER_MAX * sizeof(struct state_metrics);
    in->state_size = in->pool_off + (size_t)p->chunk_size * p->chunk_count;
}

static void format_user(struct instance *in, uint32_t user)
{
    struct intake_header *h = in->user[user];

    h->magic = LAYOUT_MAGIC;
    h->layout_version = LAYOUT_VERSION;
    h->header_size = sizeof(*h);
    h->total_size = in->user_size;
    h->slot_count = in->user_slots;
    h->ring_size = in->ring_size;
    h->stats_off = in->stats_off;
    h->slots_off = in->slots_off;
    h->slot_stride = in->slot_stride;
    h->reports_off = in->reports_off;
    h->report_ring_size = REPORT_RING_SIZE;
    h->user = user;
}

static void format_status(struct instance *in, const struct instance_params *p)
{
    struct status_header *h = in->status;

    h->magic = LAYOUT_MAGIC;
    h->layout_version = LAYOUT_VERSION;
    h->header_size = sizeof(*h);
    h->total_size = in->status_size;
    h->slot_count = in->slots;
    h->ring_size = p->ring_size;
    h->max_record = p->max_record;
    h->supervisor_pid = getpid();
    h->topics_off = in->topics_off;
    h->clients_off = in->clients_off;
    h->rings_off = in->rings_off;
    h->owners_off = in->owners_off;
    h->users_off = in->users_off;
    h->user_count = in->users;
    h->user_slots = in->user_slots;
    h->generation = 1;
    h->queue_full_fail = p->queue_full_fail;
    h->max_block_ms = p->max_block_ms;
    snprintf(h->name, sizeof(h->name), "%s", p->name);
    for (uint32_t i = 0; i < CLIENT_MAX; i++)
        atomic_store(&instance_client(in, i)->report_ring, -1);
    atomic_store(&h->accepting, 1);
}

static void format_state(struct instance *in)
{
    struct state_header *s = in->state;

    s->magic = LAYOUT_MAGIC;
    s->layout_version = LAYOUT_VERSION;
    s->header_size = sizeof(*s);
    s->total_size = in->state_size;
    s->workers_off = in->workers_off;
    s->pool_off = in->pool_off;
    s->slots_off = in->pslots_off;
    s->partitions_off = in->partitions_off;
    s->errors_off = in->errors_off;
    s->metrics_off = in->metrics_off;
    for (uint32_t i = 0; i < WORKER_MAX; i++)
        metrics_init(instance_metrics(in, i));
    for (uint32_t i = 0; i < SLOT_MAX; i++) {
        atomic_store(&s->slot_owner[i], -1);
        atomic_store(&s->slot_target[i], -1);
    }
    for (uint32_t i = 0; i < SLOT_MAX; i++)
        atomic_store(&instance_pslot(in, i)->producer_id, -1);
    s->chunk_size = in->chunk_size;
    s->chunk_count = in->chunk_count;
}

static void instance_clear(struct instance *in, const char *name)
{
    memset(in, 0, sizeof(*in));
    snprintf(in->name, sizeof(in->name), "%s", name);
    for (uint32_t u = 0; u < USER_MAX; u++)
        in->user_fd[u] = -1;
}

int instance_create(struct instance *in, const struct instance_params *p)
{
    char path[128];
    bool ok = true;

    instance_clear(in, p->name);
    layout_offsets(in, p);
    for (uint32_t u = 0; u < in->users && ok; u++) {
        user_object_name(path, sizeof(path), p->name, u);
        in->user[u] = map_object(path, in->user_size, MODE_USER, -1,
                                 &in->user_fd[u]);
        ok = in->user[u] != NULL;
    }
    if (ok) {
        object_name(path, sizeof(path), p->name, "status");
        in->status = map_object(path, in->status_size, MODE_STATUS,
                                p->intake_gid, NULL);
    }
    if (in->status) {
        object_name(path, sizeof(path), p->name, "state");
        in->state = map_object(path, in->state_size, MODE_STATE, -1, NULL);
    }
    if (!in->state) {
        instance_detach(in);
        instance_unlink(p->name); /* nothing half made stays in /dev/shm */
        return CHUTE_ERR_SYSTEM;  /* the message says which and why */
    }
    format_state(in);
    for (uint32_t u = 0; u < in->users; u++)
        format_user(in, u);
    format_status(in, p);
    /* A fresh object is zero-filled: rings, tables and chunks start empty
     * (CHUNK_FREE, TOPIC_FREE, pid 0) without writing every page. */
    atomic_store_explicit(&in->status->ready, 1, memory_order_release);
    return 0;
}

/*
 * Whether an object left by a dead supervisor may be taken over: it must
 * be this user's and give nobody more than the mode chuted gives it.
 * Another user's object is never taken over: it could make chuted read
 * records it never accepted or signal the pids it lists.
 */
static bool owned_by_us(const struct stat *st, const char *path, mode_t mode)
{
    if (st->st_uid == geteuid() && !(st->st_mode & 07777 & ~mode) &&
        S_ISREG(st->st_mode))
        return true;
    err_set(CHUTE_ERR_DENIED, "refusing to take over shared memory \"%s\": "
            "it belongs to uid %u with mode %04o, not to chuted's user (uid "
            "%u) with mode %04o; remove it if it is stale", path,
            (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
            (unsigned)geteuid(), (unsigned)mode);
    return false;
}

/* Maps an existing object of exactly `size` bytes, or NULL: ENOENT when
 * there is none, EACCES when it is not ours to take, another errno
 * otherwise (the message says). */
static void *map_existing(const char *path, size_t size, mode_t mode, int *err,
                          int *keep)
{
    struct stat st;
    int fd = shm_open(path, O_RDWR, 0);

    *err = fd < 0 ? errno : 0;
    if (fd < 0) {
        err_sys("cannot open shared memory \"%s\"", path);
        return NULL;
    }
    if (fstat(fd, &st) == 0 && !owned_by_us(&st, path, mode)) {
        close(fd);
        *err = EACCES;
        return NULL;
    }
    if (fstat(fd, &st) < 0 || (size_t)st.st_size != size) {
        close(fd);
        *err = EINVAL;
        err_set(CHUTE_ERR_LAYOUT, "\"%s\" has another size than this "
                "configuration makes (%lld, not %zu bytes)", path,
                (long long)st.st_size, size);
        return NULL;
    }
    if (allocate(fd, size, path) < 0) { /* pages it never touched */
        close(fd);
        *err = ENOSPC;
        return NULL;
    }
    void *p = map_fd(fd, size, path, keep);
    if (!p)
        *err = EINVAL;
    return p;
}

/* The service's own check of what it finds: the layout it would have
 * written itself with this configuration. */
static int check_service_layout(const struct instance *in,
                                const struct instance_params *p)
{
    const struct status_header *h = in->status;
    const struct state_header *st = in->state;

    if (h->magic != LAYOUT_MAGIC || st->magic != LAYOUT_MAGIC)
        return err_set(CHUTE_ERR_LAYOUT, "the shared memory of \"%s\" is not "
                       "chute's", p->name);
    if (h->layout_version != LAYOUT_VERSION ||
        st->layout_version != LAYOUT_VERSION)
        return err_set(CHUTE_ERR_LAYOUT, "the shared memory of \"%s\" has "
                       "layout version %u, this chuted writes %u",
                       p->name, h->layout_version, LAYOUT_VERSION);
    if (h->user_slots != p->slots || h->user_count != p->users ||
        h->ring_size != p->ring_size || h->rings_off != in->rings_off ||
        h->users_off != in->users_off || st->chunk_size != p->chunk_size ||
        st->chunk_count != p->chunk_count || st->pool_off != in->pool_off)
        return err_set(CHUTE_ERR_LAYOUT, "the shared memory of \"%s\" was "
                       "made with other sizes (slots %u, users.max %u, "
                       "ring.size %u, %u chunks of %u bytes)", p->name,
                       h->user_slots, h->user_count, h->ring_size,
                       st->chunk_count, st->chunk_size);
    return 0;
}

/* Maps one object of a dead supervisor into *obj; 0, 1 when there is
 * none, or an error. */
static int reattach_one(const char *path, size_t size, mode_t mode, void **obj,
                        int *keep)
{
    int err;

    *obj = map_existing(path, size, mode, &err, keep);
    if (*obj)
        return 0;
    return err == ENOENT  ? 1
           : err == EACCES ? CHUTE_ERR_DENIED
                           : CHUTE_ERR_LAYOUT;
}

static int reattach_all(struct instance *in, const struct instance_params *p)
{
    char path[128];
    int rc = 0;

    object_name(path, sizeof(path), p->name, "status");
    rc = reattach_one(path, in->status_size, MODE_STATUS,
                      (void **)&in->status, NULL);
    for (uint32_t u = 0; u < in->users && rc == 0; u++) {
        user_object_name(path, sizeof(path), p->name, u);
        rc = reattach_one(path, in->user_size, MODE_USER,
                          (void **)&in->user[u], &in->user_fd[u]);
    }
    if (rc == 0) {
        object_name(path, sizeof(path), p->name, "state");
        rc = reattach_one(path, in->state_size, MODE_STATE,
                          (void **)&in->state, NULL);
    }
    return rc;
}

int instance_reattach(struct instance *in, const struct instance_params *p)
{
    struct status_header *h;
    int rc;

    instance_clear(in, p->name);
    layout_offsets(in, p);
    rc = reattach_all(in, p);
    if (rc == 0)
        rc = check_service_layout(in, p);
    if (rc != 0) {
        bool none = rc == 1 && !in->status;
        instance_detach(in);
        /* Some objects but not all: nothing to take over, and not ours to
         * discard silently. */
        return none ? 1 : rc == 1 ? err_set(CHUTE_ERR_LAYOUT, "some of the "
                                            "shared memory of \"%s\" is "
                                            "missing", p->name)
                                  : rc;
    }
    h = in->status;
    h->supervisor_pid = getpid();
    h->generation++;
    h->queue_full_fail = p->queue_full_fail;
    h->max_block_ms = p->max_block_ms;
    atomic_store(&h->accepting, 1);
    return 0;
}

/* The status header a client mapped: right magic and version, and sizes
 * that fit the object. */
static int check_status(const struct status_header *h, size_t size,
                        const char *name)
{
    if (h->magic != LAYOUT_MAGIC)
        return err_set(CHUTE_ERR_LAYOUT, "the shared memory of \"%s\" is not "
                       "chute's", name);
    if (h->layout_version != LAYOUT_VERSION)
        return err_set(CHUTE_ERR_LAYOUT,
                       "the shared memory of \"%s\" has layout version %u, "
                       "this library speaks %u",
                       name, h->layout_version, LAYOUT_VERSION);
    if (!atomic_load_explicit(&h->ready, memory_order_acquire))
        return err_set(CHUTE_ERR_NO_SERVICE, "chute \"%s\" is not ready yet",
                       name);
    if (h->total_size != size || h->user_count == 0 ||
        h->user_count > USER_MAX || h->user_slots == 0 ||
        (h->user_slots & (h->user_slots - 1)) ||
        h->slot_count != h->user_count * h->user_slots ||
        h->slot_count > SLOT_MAX || (h->ring_size & (h->ring_size - 1)) ||
        h->users_off + USER_MAX * sizeof(struct status_user) > size ||
        h->owners_off + REPORT_OWNERS_SIZE > size ||
        h->rings_off + SLOT_MAX * sizeof(struct ring_cons) > size ||
        h->clients_off + CLIENT_MAX * sizeof(struct status_client) > size ||
        h->topics_off + TOPIC_MAX * sizeof(struct status_topic) > size)
        return err_set(CHUTE_ERR_LAYOUT,
                       "the shared memory of \"%s\" has inconsistent sizes",
                       name);
    return 0;
}

int instance_attach_status(struct instance *in, const char *name)
{
    char path[128];
    struct stat st;
    void *p;
    int fd, rc;

    instance_clear(in, name);
    object_name(path, sizeof(path), name, "status");
    /* Read-only, so that no writable mapping can be made of it either. */
    fd = shm_open(path, O_RDONLY, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return err_set(CHUTE_ERR_NO_SERVICE,
                           "no chute service named \"%s\" is running", name);
        if (errno == EACCES)
            return err_set(CHUTE_ERR_DENIED, "cannot open shared memory "
                           "\"%s\": permission denied (is this user in the "
                           "instance's intake.group?)", path);
        return err_sys("cannot open shared memory \"%s\"", path);
    }
    if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(struct status_header)) {
        close(fd);
        return err_set(CHUTE_ERR_LAYOUT, "\"%s\" is too small", path);
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return err_sys("cannot map \"%s\"", path);
    in->status = p;
    in->status_size = (size_t)st.st_size;
    rc = check_status(in->status, in->status_size, name);
    if (rc < 0) {
        instance_detach(in);
        return rc;
    }
    in->users = in->status->user_count;
    in->user_slots = in->status->user_slots;
    in->slots = in->status->slot_count;
    in->ring_size = in->status->ring_size;
    in->topics_off = in->status->topics_off;
    in->clients_off = in->status->clients_off;
    in->rings_off = in->status->rings_off;
    in->owners_off = in->status->owners_off;
    in->users_off = in->status->users_off;
    return 0;
}

int instance_attach_user(struct instance *in, uint32_t user, int fd)
{
    struct intake_header *h;
    struct stat st;

    if (user >= in->users || fstat(fd, &st) < 0 ||
        st.st_size < (off_t)sizeof(struct intake_header)) {
        close(fd);
        return err_set(CHUTE_ERR_PROTOCOL, "the service passed a bad "
                       "descriptor for user space %u", user);
    }
    h = map_fd(fd, (size_t)st.st_size, "user space", NULL);
    if (!h)
        return CHUTE_ERR_SYSTEM;
    in->user[user] = h;
    in->user_size = (size_t)st.st_size;
    if (h->magic != LAYOUT_MAGIC || h->layout_version != LAYOUT_VERSION ||
        h->total_size != in->user_size || h->user != user ||
        h->slot_count != in->user_slots || h->ring_size != in->ring_size ||
        h->slot_stride != sizeof(struct ring_prod) + (uint64_t)h->ring_size ||
        h->slots_off + (uint64_t)h->slot_count * h->slot_stride >
            in->user_size ||
        h->stats_off + CLIENT_MAX * sizeof(struct intake_client_stat) >
            in->user_size ||
        h->report_ring_size != REPORT_RING_SIZE ||
        h->reports_off + REPORT_RINGS_PER_USER *
                             (sizeof(struct ring_ctl) + REPORT_RING_SIZE) >
            in->user_size)
        return err_set(CHUTE_ERR_LAYOUT, "user space %u of \"%s\" has "
                       "another layout", user, in->name);
    in->stats_off = h->stats_off;
    in->slots_off = h->slots_off;
    in->slot_stride = h->slot_stride;
    in->reports_off = h->reports_off;
    /* Map the rings' pages now rather than at one send in every few dozen
     * (a page fault each, a microsecond or more): that would be the
     * sends' tail latency.  Only an optimisation, so its failure (an old
     * kernel, a truncated object) is ignored: no SIGBUS comes of it. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)h + h->slots_off) & ~(page - 1);
    uintptr_t to = (uintptr_t)h + h->slots_off +
                   (uintptr_t)h->slot_count * h->slot_stride;
    (void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
    return 0;
}

void instance_detach(struct instance *in)
{
    for (uint32_t u = 0; u < USER_MAX; u++) {
        if (in->user[u])
            munmap(in->user[u], in->user_size);
        if (in->user_fd[u] >= 0)
            close(in->user_fd[u]);
        in->user[u] = NULL;
        in->user_fd[u] = -1;
    }
    if (in->status)
        munmap(in->status, in->status_size);
    if (in->state)
        munmap(in->state, in->state_size);
    in->status = NULL;
    in->state = NULL;
}

void instance_unlink(const char *name)
{
    char path[128];

    object_name(path, sizeof(path), name, "status");
    shm_unlink(path);
    object_name(path, sizeof(path), name, "state");
    shm_unlink(path);
    for (uint32_t u = 0; u < USER_MAX; u++) {
        user_object_name(path, sizeof(path), name, u);
        shm_unlink(path);
    }
}

void instance_ring(const struct instance *in, uint32_t slot, struct ring *r)
{
    uint32_t user = slot / in->user_slots;
    uint8_t *base = (uint8_t *)in->user[user] + in->slots_off +
                    (size_t)(slot % in->user_slots) * in->slot_stride;

    ring_attach(r, (struct ring_prod *)base,
                (struct ring_cons *)((uint8_t *)in->status + in->rings_off) +
                    slot,
                base + sizeof(struct ring_prod), in->ring_size);
}

struct state_partition *instance_find_partition(const struct instance *in,
                                                uint32_t user, uint32_t topic,
                                                int32_t partition, bool create)
{
    uint64_t key = (uint64_t)user << 56 | ((uint64_t)topic + 1) << 32 |
                   (uint32_t)partition;
    uint32_t h = (uint32_t)(key * 0x9e3779b97f4a7c15ULL >> 40);

    for (uint32_t i = 0; i < PARTITION_MAX; i++) {
        struct state_partition *p =
            instance_partition(in, (h + i) & (PARTITION_MAX - 1));
        uint64_t k = atomic_load(&p->key);
        if (k == key)
            return p;
        if (k != 0)
            continue;
        if (!create)
            return NULL;
        if (atomic_compare_exchange_strong(&p->key, &k, key) || k == key)
            return p;
    }
    return NULL;
}

struct status_report_owner *instance_report_owner(const struct instance *in,
                                                  uint32_t idx)
{
    return (struct status_report_owner *)((uint8_t *)in->status +
                                          in->owners_off) +
           idx;
}

bool instance_report_ring(const struct instance *in, uint32_t idx,
                          struct ring *r)
{
    uint32_t user = idx / REPORT_RINGS_PER_USER;
    struct ring_ctl *ctl;

    if (idx >= REPORT_RINGS || !in->user[user])
        return false;
    ctl = (struct ring_ctl *)((uint8_t *)in->user[user] + in->reports_off +
                              (size_t)(idx % REPORT_RINGS_PER_USER) *
                                  (sizeof(struct ring_ctl) + REPORT_RING_SIZE));
    ring_attach_ctl(r, ctl, REPORT_RING_SIZE);
    return true;
}

static struct state_error *error_entry(const struct instance *in, uint32_t i)
{
    return (struct state_error *)((uint8_t *)in->state + in->errors_off) + i;
}

void instance_count_error(const struct instance *in, uint32_t topic,
                          int16_t error, uint64_t n)
{
    uint32_t key = (topic + 1) << 16 | (uint16_t)error;

    for (uint32_t i = 0; i < TOPIC_ERROR_MAX; i++) {
        struct state_error *e =
            error_entry(in, (key * 2654435761u + i) % TOPIC_ERROR_MAX);
        uint32_t k = atomic_load(&e->key);
        if (k == 0 && atomic_compare_exchange_strong(&e->key, &k, key))
            k = key;
        if (k != key)
            continue;
        atomic_fetch_add(&e->records, n);
        return;
    }
}

void instance_each_error(const struct instance *in,
                         void (*fn)(void *ctx, uint32_t topic, int16_t error,
                                    uint64_t records),
                         void *ctx)
{
    for (uint32_t i = 0; i < TOPIC_ERROR_MAX; i++) {
        struct state_error *e = error_entry(in, i);
        uint32_t k = atomic_load(&e->key);
        if (k)
            fn(ctx, (k >> 16) - 1, (int16_t)(k & 0xffff),
               atomic_load(&e->records));
    }
}

int instance_find_topic(const struct instance *in, const char *name)
{
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        const struct status_topic *t = instance_topic(in, id);
        if (atomic_load_explicit(&t->state, memory_order_acquire) ==
                TOPIC_READY &&
            strncmp(t->name, name, sizeof(t->name)) == 0)
            return (int)id;
    }
    return -1;
}
