/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_authz.c - the authorizer the handlers ask (kp_authorized): ACLs from
 * acls.location (ctl_acl.h), the request's principal (ctl_resp_principal),
 * super.users and allow.everyone.if.no.acl.found.  Without acls.location
 * there is no authorizer and everything is allowed, as in Kafka without
 * authorizer.class.name.  The file is re-read when it changes, checked at
 * most once a second, so `sluice acls add` needs no restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_acl.h"
#include "ctl_textfile.h"
#include "ctl_log.h"
#include "fwc_config.h"
#include "kp_api.h"

struct kp_authz {
	const struct fwc_broker *b;
	struct ctl_acls *acls;
	struct ctl_acl_policy policy;
	struct stat st;
	uint64_t checked_ns;
};

static int authz_load(struct kp_authz *z, bool at_start)
{
	const char *path = z->b->acls_location;
	struct ctl_acls *a;
	unsigned int line;
	struct stat st;
	int rc;

	if ((rc = ctl_textfile_changed(path, at_start ? NULL : &z->st, &st)) <= 0) {
		if (rc < 0)
			CTL_LOG(ERR, "acls.location %s: %s%s", path, strerror(-rc),
				at_start ? "" : " (keeping the ACLs loaded before)");
		return rc;
	}
	if ((rc = ctl_acls_load(path, &a, &line)) < 0) {
		if (rc == -EINVAL)
			CTL_LOG(ERR, "acls.location: %s:%u: malformed rule%s", path, line,
				at_start ? "" : " (keeping the ACLs loaded before)");
		else
			CTL_LOG(ERR, "acls.location %s: %s", path, strerror(-rc));
		return rc;
	}
	ctl_acls_free(z->acls);
	z->acls = a;
	z->st = st;
	CTL_LOG(INFO, "acls.location %s: %u rule(s)%s", path, ctl_acls_count(a),
		at_start ? "" : " (re-read)");
	return 0;
}

int kp_authz_create(const struct fwc_broker *b, struct kp_authz **out)
{
	struct kp_authz *z;

	*out = NULL;
	if (!b->acls_location[0])
		return 0;
	if (!(z = calloc(1, sizeof(*z))))
		return -ENOMEM;
	z->b = b;
	z->policy.super_users = b->super_users;
	z->policy.allow_if_no_acl = b->allow_everyone_if_no_acl_found;
	if (authz_load(z, true) < 0) {
		free(z);
		return -EINVAL;
	}
	z->checked_ns = ctl_now_ns();
	*out = z;
	return 0;
}

void kp_authz_destroy(struct kp_authz *z)
{
	if (!z)
		return;
	ctl_acls_free(z->acls);
	free(z);
}

bool kp_authorized(struct kp_req *req, enum ctl_acl_op op, enum ctl_acl_res res,
		   struct kp_str name)
{
	struct kp_authz *z = req->ctx->authz;
	uint64_t now;

	if (!z)
		return true;
	now = ctl_now_ns();
	if (now - z->checked_ns >= 1000000000u) {
		z->checked_ns = now;
		authz_load(z, false);
	}
	return name.len >= 0 &&
	       ctl_acls_allowed(z->acls, &z->policy, ctl_resp_principal(req->resp), op, res,
				name.ptr, (size_t)name.len);
}
