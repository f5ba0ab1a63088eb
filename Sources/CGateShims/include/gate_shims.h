/* Helpers Swift cannot express directly: `struct ucred` is only declared under _GNU_SOURCE, which
 * Glibc's Swift module map does not define, so the peer-credential read lives here; prctl(2) is variadic,
 * which Swift cannot call. No logic. */
#ifndef GATE_SHIMS_H
#define GATE_SHIMS_H

#include <sys/types.h>

/// Reads the peer's credentials of a connected AF_UNIX socket (getsockopt SO_PEERCRED).
/// Returns 0 on success, -1 with errno set otherwise.
int gate_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// Sets whether the process may dump core and be ptrace-attached by its own user
/// (prctl PR_SET_DUMPABLE). Returns 0 on success, -1 with errno set otherwise.
int gate_set_dumpable(int dumpable);

#endif
