/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced_priv.c - least privilege for sluiced: refuse Kafka listeners
 * that would take unauthenticated, unencrypted traffic from beyond this
 * host, and drop root once EAL and the ports are up.
 *
 * The drop happens after rte_eal_init and port start (hugepages mapped,
 * devices opened, the DPDK runtime directory and telemetry socket made) and
 * before storage opens log.dirs, so every file Sluice creates belongs to
 * the unprivileged user.  setgroups/setgid/setuid change every thread of
 * the process (glibc), EAL's included.  One capability stays:
 * CAP_IPC_LOCK, because the writers' io_uring registered buffers (one
 * storage.ring.bytes ring per partition) count as locked memory and
 * RLIMIT_MEMLOCK is usually far smaller (8 MiB); everything else (root's
 * file access, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN, ...) is gone, and it
 * is not inheritable: nothing sluiced could exec gets it.  DPDK memory
 * allocated after the drop (fragment tables, mempools of the lcores) must
 * not need physical addresses, which /proc/self/pagemap hides from an
 * unprivileged process: with control.user, EAL gets --iova-mode=va unless
 * told otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "ctl_listener.h"
#include "sluiced_priv.h"

/* Keep exactly CAP_IPC_LOCK (permitted + effective) across setuid. */
static int keep_ipc_lock_begin(void)
{
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

static int keep_ipc_lock_end(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	d[CAP_IPC_LOCK / 32].permitted = d[CAP_IPC_LOCK / 32].effective = 1u << (CAP_IPC_LOCK % 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? -errno : 0;
}

/* Is the listener bound to loopback only (127.0.0.0/8, ::1)? */
static bool listener_loopback(const struct ctl_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!l->host[0] || ctl_listener_sockaddr(l, &ss, &len) < 0)
		return false; /* "" is every address */
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return false;
}

int sluiced_check_insecure(const struct fwc_broker *b, const struct ctl_listener *l,
			   const char *text)
{
	if (l->security != CTL_SEC_PLAINTEXT || b->listeners_allow_insecure || listener_loopback(l))
		return 0;
	fprintf(stderr, "sluiced: listeners: '%s' takes plaintext, unauthenticated connections from "
		"beyond this host: use SSL, SASL_SSL or SASL_PLAINTEXT, or set "
		"listeners.allow.insecure: true (docs/security.md)\n", text);
	return -EPERM;
}

static bool has_iova_mode(int argc, char *const *argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "--iova-mode", 11))
			return true;
	return false;
}

static bool cfg_has_iova_mode(const struct fwc_dataplane *d)
{
	for (unsigned int i = 0; i < d->n_eal_args; i++)
		if (!strncmp(d->eal_args[i], "--iova-mode", 11))
			return true;
	return false;
}

int sluiced_eal_for_user(const struct fwc_config *cfg, int *argc, char ***argv)
{
	char **v;

	if (!cfg->control.user[0] || has_iova_mode(*argc, *argv) || cfg_has_iova_mode(&cfg->dataplane))
		return 0;
	v = calloc((size_t)*argc + 2, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, *argv, (size_t)*argc * sizeof(*v));
	v[(*argc)++] = (char *)"--iova-mode=va";
	*argv = v; /* lives as long as the process */
	return 0;
}

int sluiced_drop_privileges(const struct fwc_control *c, const char *log_dirs)
{
	const struct passwd *pw;
	const struct group *gr;
	gid_t gid;

	if (!c->user[0])
		return 0;
	if (!(pw = getpwnam(c->user))) {
		fprintf(stderr, "sluiced: control.user: no user '%s'\n", c->user);
		return -ENOENT;
	}
	gid = pw->pw_gid;
	if (c->group[0]) {
		if (!(gr = getgrnam(c->group))) {
			fprintf(stderr, "sluiced: control.group: no group '%s'\n", c->group);
			return -ENOENT;
		}
		gid = gr->gr_gid;
	}
	if (keep_ipc_lock_begin() < 0 || setgroups(1, &gid) < 0 || setgid(gid) < 0 ||
	    setuid(pw->pw_uid) < 0 || keep_ipc_lock_end() < 0) {
		int rc = -errno;

		fprintf(stderr, "sluiced: dropping privileges to %s: %s\n", c->user, strerror(-rc));
		return rc;
	}
	/* Make sure it cannot be undone, and that the data directory is ours. */
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "sluiced: still able to become root after dropping to %s\n", c->user);
		return -EPERM;
	}
	if (access(log_dirs, R_OK | W_OK | X_OK) < 0) {
		int rc = -errno;

		fprintf(stderr, "sluiced: log.dirs %s is not usable by user %s: %s "
			"(chown -R it; docs/security.md)\n", log_dirs, c->user, strerror(-rc));
		return rc;
	}
	fprintf(stderr, "sluiced: running as user %s (uid %u, gid %u)\n", c->user,
		(unsigned int)pw->pw_uid, (unsigned int)gid);
	return 0;
}
