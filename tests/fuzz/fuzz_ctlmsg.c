/*
 * fuzz_ctlmsg: the control socket's request decoder against arbitrary
 * bytes, through the same reader the supervisor uses on a connection.
 */
#include "proto/ctlmsg.h"

#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctlmsg_reader r;
    int sv[2], rc;

    if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 0;
    if (write(sv[0], data, size) != (ssize_t)size) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    close(sv[0]);
    ctlmsg_reader_init(&r);
    while ((rc = ctlmsg_reader_feed(&r, sv[1])) == 1)
        ctlmsg_request_free(ctlmsg_reader_take(&r));
    ctlmsg_reader_release(&r);
    close(sv[1]);
    return 0;
}
