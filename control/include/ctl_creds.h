/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_creds.h - the SASL credentials file (sasl.credentials.location).
 *
 * A text file, one line per user and SCRAM mechanism, written by
 * `sluice users add` and read by sluiced:
 *
 *     # comment
 *     NAME MECHANISM SALT ITERATIONS STOREDKEY SERVERKEY
 *
 * (salt and keys base64).  No password is stored; PLAIN logins are checked
 * against the SCRAM-SHA-256 line.  Saved through a temporary file and
 * rename(), mode 0600, so a reader never sees half a file.
 */
#ifndef CTL_CREDS_H
#define CTL_CREDS_H

#include "ctl_scram.h"

struct ctl_creds;

/** An empty set.  @return 0 or -ENOMEM. */
int ctl_creds_new(struct ctl_creds **out);
/**
 * Load @path.  @bad_line: set to the 1-based line of a malformed entry.
 * @return 0, -ENOENT/-EACCES (open), -EINVAL (malformed), -ENOMEM.
 */
int ctl_creds_load(const char *path, struct ctl_creds **out, unsigned int *bad_line);
/** Write @c to @path (temp file, fsync, rename; mode 0600).  @return 0 or -errno. */
int ctl_creds_save(const struct ctl_creds *c, const char *path);
void ctl_creds_free(struct ctl_creds *c);

/** True if @name may be a user name: 1..127 printable, non-space bytes. */
bool ctl_creds_name_ok(const char *name);
/** @return 0 (copied to @out), -ENOENT. */
int ctl_creds_lookup(const struct ctl_creds *c, enum ctl_sasl_mech mech, const char *user,
		     struct ctl_scram_cred *out);
/** Add or replace @user's credential for @mech.  @return 0, -EINVAL, -ENOMEM. */
int ctl_creds_set(struct ctl_creds *c, const char *user, enum ctl_sasl_mech mech,
		  const struct ctl_scram_cred *cred);
/** Remove every line of @user.  @return lines removed (0 = no such user). */
int ctl_creds_delete(struct ctl_creds *c, const char *user);
/** Entries, in file order: @return how many; ctl_creds_entry names entry @i. */
unsigned int ctl_creds_count(const struct ctl_creds *c);
const char *ctl_creds_entry(const struct ctl_creds *c, unsigned int i, enum ctl_sasl_mech *mech,
			    uint32_t *iterations);

#endif /* CTL_CREDS_H */
