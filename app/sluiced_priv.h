/* SPDX-License-Identifier: BSD-3-Clause */
/* sluiced_priv.h - least privilege for sluiced (sluiced_priv.c). */
#ifndef SLUICED_PRIV_H
#define SLUICED_PRIV_H

#include "ctl_listener.h"
#include "fwc_config.h"

/**
 * A PLAINTEXT listener on a non-loopback address (or all addresses) is
 * refused unless listeners.allow.insecure.  @text: the listener as written.
 * @return 0 or -EPERM (printed).
 */
int sluiced_check_insecure(const struct fwc_broker *b, const struct ctl_listener *l,
			   const char *text);

/**
 * With control.user, append --iova-mode=va to the EAL arguments (*@argv
 * replaced) unless an --iova-mode is already given: memory DPDK allocates
 * after the drop cannot be looked up in /proc/self/pagemap.
 * @return 0 or -ENOMEM.
 */
int sluiced_eal_for_user(const struct fwc_config *cfg, int *argc, char ***argv);

/**
 * Become control.user (and control.group, else the user's group): no-op
 * when control.user is "".  Then log.dirs must be usable by that user.
 * @return 0 or -errno (printed).
 */
int sluiced_drop_privileges(const struct fwc_control *c, const char *log_dirs);

#endif /* SLUICED_PRIV_H */
