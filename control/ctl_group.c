/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_group.c - the coordinator's groups (Kafka's GroupMetadataManager
 * cache, one broker): the table of groups sorted by id, their lifetime,
 * the storage of their members and committed offsets, the partition of
 * __consumer_offsets that holds a group, OffsetCommit's group checks and
 * the maintenance timer.  The membership protocol that moves a group
 * between states is in ctl_group_rebalance.c; the records these changes
 * write are in ctl_group_log.c; the wire formats in kp_group.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_catalog.h"
#include "ctl_group_int.h"
#include "ctl_log.h"
#include "fwc_config.h"

static const char *const state_names[CTL_GROUP_STATES] = {
	[CTL_GROUP_EMPTY] = "Empty",
	[CTL_GROUP_PREPARING_REBALANCE] = "PreparingRebalance",
	[CTL_GROUP_COMPLETING_REBALANCE] = "CompletingRebalance",
	[CTL_GROUP_STABLE] = "Stable",
	[CTL_GROUP_DEAD] = "Dead",
};

const char *ctl_group_state_name(enum ctl_group_state s)
{
	return s < CTL_GROUP_STATES ? state_names[s] : "Unknown";
}

int64_t grp_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *grp_strdup(struct kp_str s)
{
	char *p;

	if (!s.ptr)
		return NULL;
	p = malloc((size_t)s.len + 1);
	if (p) {
		memcpy(p, s.ptr, (size_t)s.len);
		p[s.len] = '\0';
	}
	return p;
}

bool grp_str_is(const char *c, struct kp_str s)
{
	return c && s.ptr && strlen(c) == (size_t)s.len && memcmp(c, s.ptr, (size_t)s.len) == 0;
}

/* ---- Java's String.hashCode over the UTF-16 of a UTF-8 group id ----------- */

/* Decode one code point; invalid input is U+FFFD for one byte, as Java's decoder. */
static uint32_t utf8_next(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	uint32_t c = *p++, need, min;

	if (c < 0x80) {
		*pp = p;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		need = 1, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 2, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		need = 3, min = 0x10000, c &= 0x07;
	} else {
		*pp = p;
		return 0xfffd;
	}
	if ((size_t)(end - p) < need)
		goto bad;
	for (uint32_t i = 0; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*pp = p + need;
	return c;
bad:
	*pp = *pp + 1;
	return 0xfffd;
}

int32_t ctl_group_partition_for(const char *group, size_t len, int32_t n_partitions)
{
	const uint8_t *p = (const uint8_t *)group, *end = p + len;
	uint32_t h = 0;
	int32_t s;

	while (p < end) {
		uint32_t c = utf8_next(&p, end);

		if (c >= 0x10000) {
			c -= 0x10000;
			h = 31 * h + (0xd800 + (c >> 10));
			h = 31 * h + (0xdc00 + (c & 0x3ff));
		} else {
			h = 31 * h + c;
		}
	}
	s = (int32_t)h;
	/* Kafka's Utils.abs: abs(Integer.MIN_VALUE) is 0. */
	s = s == INT32_MIN ? 0 : s < 0 ? -s : s;
	return n_partitions > 0 ? s % n_partitions : 0;
}

/* ---- groups ---------------------------------------------------------------- */

static int grp_cmp(const char *a, struct kp_str b)
{
	size_t la = strlen(a), n = la < (size_t)b.len ? la : (size_t)b.len;
	int c = n ? memcmp(a, b.ptr, n) : 0;

	if (c)
		return c;
	return la < (size_t)b.len ? -1 : la > (size_t)b.len ? 1 : 0;
}

/* Index of @id, or -(insertion point) - 1. */
static ssize_t grp_index(const struct ctl_groups *gs, struct kp_str id)
{
	size_t lo = 0, hi = gs->n_groups;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = grp_cmp(gs->groups[mid]->id, id);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(ssize_t)lo - 1;
}

bool grp_count_full(const struct ctl_groups *gs)
{
	return gs->n_groups >= (size_t)gs->cfg->broker.group_max_count;
}

struct ctl_group *grp_get(struct ctl_groups *gs, struct kp_str id, bool create)
{
	ssize_t i = grp_index(gs, id);
	struct ctl_group *g;
	size_t at;

	if (i >= 0)
		return gs->groups[i];
	if (!create)
		return NULL;
	if (gs->n_groups == gs->cap_groups) {
		size_t cap = gs->cap_groups ? gs->cap_groups * 2 : 16;
		struct ctl_group **n = realloc(gs->groups, cap * sizeof(*n));

		if (!n)
			return NULL;
		gs->groups = n;
		gs->cap_groups = cap;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->id = grp_strdup(id))) {
		free(g);
		return NULL;
	}
	g->gs = gs;
	g->state = CTL_GROUP_EMPTY;
	g->state_ts = grp_wall_ms();
	g->meta_record = -1;
	g->coord_partition = ctl_group_partition_for(id.ptr, (size_t)id.len,
						     gs->topic ? gs->topic->n_partitions : 1);
	ctl_timer_init(&g->join_timer, grp_join_fire, g);
	at = (size_t)(-i - 1);
	memmove(&gs->groups[at + 1], &gs->groups[at], (gs->n_groups - at) * sizeof(*gs->groups));
	gs->groups[at] = g;
	gs->n_groups++;
	return g;
}

void grp_member_free(struct ctl_member *m)
{
	if (m->g && m->g->gs->srv)
		ctl_timer_cancel(m->g->gs->srv, &m->session);
	for (unsigned int i = 0; i < m->n_protos; i++) {
		free(m->protos[i].name);
		free(m->protos[i].meta);
	}
	free(m->protos);
	free(m->assignment);
	free(m->id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	free(m);
}

void grp_remove(struct ctl_group *g)
{
	struct ctl_groups *gs = g->gs;
	ssize_t i = grp_index(gs, (struct kp_str){ g->id, (int32_t)strlen(g->id) });
	struct ctl_member *m;

	if (i >= 0) {
		memmove(&gs->groups[i], &gs->groups[i + 1],
			(gs->n_groups - (size_t)i - 1) * sizeof(*gs->groups));
		gs->n_groups--;
	}
	if (gs->srv)
		ctl_timer_cancel(gs->srv, &g->join_timer);
	while ((m = g->members)) {
		g->members = m->next;
		grp_member_free(m);
	}
	while ((m = g->pendings)) {
		g->pendings = m->next;
		grp_member_free(m);
	}
	for (size_t k = 0; k < g->n_offsets; k++) {
		free(g->offsets[k].topic);
		free(g->offsets[k].metadata);
	}
	free(g->offsets);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	free(g->id);
	free(g);
}

size_t ctl_groups_count(const struct ctl_groups *gs)
{
	return gs ? gs->n_groups : 0;
}

struct ctl_group *ctl_groups_at(const struct ctl_groups *gs, size_t i)
{
	return gs && i < gs->n_groups ? gs->groups[i] : NULL;
}

struct ctl_group *ctl_groups_find(const struct ctl_groups *gs, const char *id, size_t len)
{
	ssize_t i;

	if (!gs)
		return NULL;
	i = grp_index(gs, (struct kp_str){ id, (int32_t)len });
	return i >= 0 ? gs->groups[i] : NULL;
}

const struct ctl_groups_stats *ctl_groups_stats(const struct ctl_groups *gs)
{
	return &gs->st;
}

struct ctl_member *grp_member(const struct ctl_group *g, struct kp_str id)
{
	for (struct ctl_member *m = g->members; m; m = m->next)
		if (grp_str_is(m->id, id))
			return m;
	return NULL;
}

void grp_set_state(struct ctl_group *g, enum ctl_group_state s)
{
	if (s != g->state)
		CTL_LOG_RL(&g->gs->state_log, INFO, "group %s: %s -> %s, generation %d, %u member(s)",
			   g->id, state_names[g->state], state_names[s], g->generation, g->n_members);
	g->state = s;
	g->state_ts = grp_wall_ms();
}

/* ---- offsets: sorted by (topic, partition) ------------------------------- */

static int off_cmp(const struct ctl_offset *o, const char *topic, size_t len, int32_t part)
{
	struct kp_str t = { topic, (int32_t)len };
	int c = grp_cmp(o->topic, t);

	if (c)
		return c;
	return o->partition < part ? -1 : o->partition > part ? 1 : 0;
}

static size_t off_lower(const struct ctl_group *g, const char *topic, size_t len, int32_t part)
{
	size_t lo = 0, hi = g->n_offsets;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (off_cmp(&g->offsets[mid], topic, len, part) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct ctl_offset *grp_offset_find(const struct ctl_group *g, const char *topic, size_t len,
				   int32_t partition)
{
	size_t i = off_lower(g, topic, len, partition);

	if (i < g->n_offsets && off_cmp(&g->offsets[i], topic, len, partition) == 0)
		return &g->offsets[i];
	return NULL;
}

struct ctl_offset *grp_offset_set(struct ctl_group *g, const char *topic, size_t tlen,
				  int32_t partition, int64_t offset, int32_t leader_epoch,
				  const char *meta, size_t mlen, int64_t commit_ts, int64_t record)
{
	size_t i = off_lower(g, topic, tlen, partition);
	struct ctl_offset *o;
	char *m = grp_strdup((struct kp_str){ meta ? meta : "", meta ? (int32_t)mlen : 0 });

	if (!m)
		return NULL;
	if (i < g->n_offsets && off_cmp(&g->offsets[i], topic, tlen, partition) == 0) {
		o = &g->offsets[i];
		free(o->metadata);
	} else {
		char *t = grp_strdup((struct kp_str){ topic, (int32_t)tlen });

		if (!t || (g->n_offsets == g->cap_offsets &&
			   !(o = realloc(g->offsets, (g->cap_offsets ? g->cap_offsets * 2 : 8) *
						     sizeof(*o))))) {
			free(t);
			free(m);
			return NULL;
		}
		if (g->n_offsets == g->cap_offsets) {
			g->offsets = o;
			g->cap_offsets = g->cap_offsets ? g->cap_offsets * 2 : 8;
		}
		memmove(&g->offsets[i + 1], &g->offsets[i], (g->n_offsets - i) * sizeof(*o));
		g->n_offsets++;
		o = &g->offsets[i];
		o->topic = t;
		o->partition = partition;
		grp_log_live(g->gs, g->coord_partition, +1);
	}
	o->offset = offset;
	o->leader_epoch = leader_epoch;
	o->metadata = m;
	o->commit_ts = commit_ts;
	o->record = record;
	return o;
}

void grp_offset_delete(struct ctl_group *g, struct ctl_offset *o)
{
	size_t i = (size_t)(o - g->offsets);

	free(o->topic);
	free(o->metadata);
	memmove(&g->offsets[i], &g->offsets[i + 1], (g->n_offsets - i - 1) * sizeof(*o));
	g->n_offsets--;
	grp_log_live(g->gs, g->coord_partition, -1);
}

/* ---- OffsetCommit ---------------------------------------------------------------- */

int16_t grp_commit_begin(struct ctl_groups *gs, struct kp_str group_id, int32_t generation,
			 struct kp_str member_id, bool can_wait, struct ctl_group **out)
{
	struct ctl_group *g;
	struct ctl_member *m;
	int16_t err;

	*out = NULL;
	if (!group_id.ptr || group_id.len == 0)
		return KP_ERR_INVALID_GROUP_ID;
	if (!gs->srv || !can_wait)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if ((err = grp_log_ready(gs)))
		return err;
	g = grp_get(gs, group_id, false);
	if (!g) {
		/* Not managed by us (a simple consumer): allowed, the group is made for it. */
		if (generation >= 0)
			return KP_ERR_ILLEGAL_GENERATION;
		if (grp_count_full(gs))
			return KP_ERR_GROUP_MAX_SIZE_REACHED;
		if (!(g = grp_get(gs, group_id, true)))
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		*out = g;
		return KP_ERR_NONE;
	}
	if (g->state == CTL_GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (generation < 0 && g->state == CTL_GROUP_EMPTY) {
		*out = g;
		return KP_ERR_NONE;
	}
	if (g->state == CTL_GROUP_COMPLETING_REBALANCE)
		return KP_ERR_REBALANCE_IN_PROGRESS;
	if (!(m = grp_member(g, member_id)))
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	grp_member_touch(m);
	*out = g;
	return KP_ERR_NONE;
}

bool ctl_group_id_internal(const char *id, size_t len)
{
	size_t n = strlen(CTL_GROUP_INTERNAL_PREFIX);

	return id && len >= n && memcmp(id, CTL_GROUP_INTERNAL_PREFIX, n) == 0;
}

int16_t ctl_groups_commit(struct ctl_groups *gs, const char *group, const char *topic,
			  const int32_t *partitions, const int64_t *offsets, int32_t n,
			  void (*done)(void *arg, int16_t err), void *arg)
{
	struct kp_str gid = { group, (int32_t)strlen(group) }, none = { "", 0 };
	struct grp_commit_part *parts;
	struct ctl_group *g;
	int16_t err;

	if (n <= 0)
		return KP_ERR_INVALID_REQUEST;
	err = grp_commit_begin(gs, gid, -1, none, true, &g);
	if (err != KP_ERR_NONE)
		return err;
	parts = calloc((size_t)n, sizeof(*parts));
	if (!parts)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; i < n; i++)
		parts[i] = (struct grp_commit_part){ .topic = { topic, (int32_t)strlen(topic) },
						     .partition = partitions[i],
						     .offset = offsets[i], .leader_epoch = -1,
						     .metadata = none };
	err = grp_log_store_offsets(g, parts, n, done, arg);
	free(parts);
	return err;
}

int64_t ctl_groups_committed(const struct ctl_groups *gs, const char *group, const char *topic,
			     int32_t partition)
{
	const struct ctl_group *g = ctl_groups_find(gs, group, strlen(group));
	const struct ctl_offset *o = g ? grp_offset_find(g, topic, strlen(topic), partition) : NULL;

	return o ? o->offset : -1;
}

/* ---- lifetime --------------------------------------------------------------------- */

static void maint_fire(void *arg, struct ctl_timer *t)
{
	struct ctl_groups *gs = arg;

	grp_log_maintain(gs);
	ctl_timer_arm(gs->srv, t, (uint64_t)gs->cfg->broker.offsets_retention_check_interval_ms);
}

static void groups_notify(void *arg)
{
	grp_log_recheck(arg);
}

int ctl_groups_create(struct ctl_catalog *cat, const struct fwc_config *cfg,
		      struct ctl_groups **out)
{
	struct ctl_groups *gs = calloc(1, sizeof(*gs));
	int rc;

	if (!gs)
		return -ENOMEM;
	gs->cat = cat;
	gs->cfg = cfg;
	gs->state_log = (struct fwc_ratelimit)CTL_LOG_RL_INIT;
	ctl_timer_init(&gs->maint, maint_fire, gs);
	grp_log_init(gs);
	rc = grp_log_replay(gs);
	if (rc < 0) {
		ctl_groups_destroy(gs);
		return rc;
	}
	*out = gs;
	return 0;
}

int ctl_groups_start(struct ctl_groups *gs, struct ctl_server *srv)
{
	int rc = ctl_server_on_notify(srv, groups_notify, gs);

	if (rc < 0)
		return rc;
	gs->srv = srv;
	for (size_t i = 0; i < gs->n_groups; i++)
		for (struct ctl_member *m = gs->groups[i]->members; m; m = m->next)
			grp_member_touch(m);
	ctl_timer_arm(srv, &gs->maint, (uint64_t)gs->cfg->broker.offsets_retention_check_interval_ms);
	return 0;
}

void ctl_groups_destroy(struct ctl_groups *gs)
{
	if (!gs)
		return;
	/*
	 * The server is gone, its timers with it; its connections' cancel
	 * hooks have already taken every parked slot back (parked_cancel).
	 */
	gs->srv = NULL;
	grp_log_free_all(gs);
	while (gs->n_groups)
		grp_remove(gs->groups[gs->n_groups - 1]);
	free(gs->groups);
	free(gs->parts);
	free(gs);
}
