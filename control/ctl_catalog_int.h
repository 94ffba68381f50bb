/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_catalog_int.h - catalog internals shared by ctl_catalog.c and ctl_meta.c. */
#ifndef CTL_CATALOG_INT_H
#define CTL_CATALOG_INT_H

#include "ctl_catalog.h"

struct ctl_catalog {
	const struct fwc_config *cfg;
	const struct ctl_catalog_ops *ops;
	void *ops_arg;
	ctl_partition_closing_fn closing;       /* kp_data's, see ctl_catalog_set_closing_hook */
	void *closing_arg;
	int64_t broker_v[CTL_TCFG_COUNT];       /* broker-level config values */
	struct ctl_topic **topics;              /* creation order */
	size_t n_topics, cap;
};

#define CTL_TOPICS_FILE "sluice-topics"

/* Create without persisting or logging. */
enum kp_err ctl_catalog_insert(struct ctl_catalog *cat, const struct ctl_topic_spec *spec,
			       bool validate_only, struct ctl_topic **out, char *msg, size_t msg_len);
/* Rewrite <log.dirs>/sluice-topics (failures are logged, not returned). */
void ctl_catalog_persist(const struct ctl_catalog *cat);
/* Load the remembered topics; @return 0 or -errno (a missing file is fine). */
int ctl_catalog_load_persisted(struct ctl_catalog *cat);

#endif /* CTL_CATALOG_INT_H */
