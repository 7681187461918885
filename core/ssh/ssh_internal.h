/* Internals shared by the ssh source files; not part of the API. */
#ifndef PERFGO_SSH_INTERNAL_H
#define PERFGO_SSH_INTERNAL_H

#include "ssh.h"

struct ssh_session {
    const struct proc_api *proc;
    struct ssh_argv base;   /* ssh -F .. -o ControlPath=.. options -p -l -i */
    struct ssh_argv client; /* the same for commands over the master */
    char *dest;             /* the host as given to ssh (name or alias) */
    char *target;           /* user@hostname:port from ssh -G */
    char *control_path;
    bool closed;
    bool owns_master; /* we started it: close ends it */
    bool have_platform;
    char os[32], arch[32];
    char *home;
    int remote_rsync; /* -1 unknown, 0 no, 1 yes */
};

/* The local argv that runs remote_cmd (a login-shell command string) over
 * the master. */
int ssh_session_argv(const struct ssh_session *s, struct ssh_argv *out, const char *remote_cmd);

/* The sh script that runs a watchdog command's ssh (argv.c). */
extern const char ssh_local_watchdog[];

/* Runs a local argv, captures piped stdout and stderr. */
int ssh_run_local(const struct proc_api *api, char *const *argv, const struct proc_io_spec *in,
                  const struct proc_io_spec *out, bool same_pgroup, struct ssh_result *r, char *err,
                  size_t errlen);

#endif
