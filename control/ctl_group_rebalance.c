/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_group_rebalance.c - the group membership protocol (Kafka's
 * GroupCoordinator, one broker): members' session timers, the join phase
 * and its timer, protocol and leader selection, and the JoinGroup,
 * SyncGroup, Heartbeat and LeaveGroup logic.  The groups and their storage
 * are in ctl_group.c; the records in ctl_group_log.c; the wire formats in
 * kp_group.c.
 *
 * A parked JoinGroup or SyncGroup is never answered inside the call that
 * parked it (the server does not allow completing a slot before dispatch
 * returns): a join phase that could complete at once arms the group's join
 * timer at 0 ms instead, and the answer goes out on the next loop pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ctl_group_int.h"
#include "ctl_log.h"
#include "fwc_config.h"

/* ---- members and their sessions -------------------------------------------- */

static void member_remove(struct ctl_member *m);
static void prepare_rebalance(struct ctl_group *g);
static void try_complete_join(struct ctl_group *g);

void grp_session_fire(void *arg, struct ctl_timer *t)
{
	struct ctl_member *m = arg;
	struct ctl_group *g = m->g;

	(void)t;
	/* A member waiting in a join or sync phase is not expired (Kafka's shouldKeepAlive). */
	if (!m->pending && (m->join_resp || m->sync_resp)) {
		grp_member_touch(m);
		return;
	}
	CTL_LOG(INFO, "group %s: member %s %s after %d ms without a heartbeat", g->id, m->id,
		m->pending ? "never rejoined" : "expired", m->session_timeout_ms);
	g->gs->st.members_expired += !m->pending;
	member_remove(m);
}

void grp_member_touch(struct ctl_member *m)
{
	struct ctl_groups *gs = m->g->gs;

	if (gs->srv)
		ctl_timer_arm(gs->srv, &m->session, (uint64_t)m->session_timeout_ms);
}

static struct ctl_member *member_new(struct ctl_group *g, const char *id, const struct grp_join *j)
{
	struct ctl_member *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->g = g;
	m->id = strdup(id);
	m->instance_id = grp_strdup(j->instance_id);
	m->client_id = grp_strdup(j->client_id.ptr ? j->client_id : (struct kp_str){ "", 0 });
	m->client_host = strdup(j->client_host ? j->client_host : "");
	ctl_timer_init(&m->session, grp_session_fire, m);
	if (!m->id || !m->client_id || !m->client_host || (j->instance_id.ptr && !m->instance_id)) {
		grp_member_free(m);
		return NULL;
	}
	return m;
}

/* Replace the member's protocols and timeouts with the join's. @return false: no memory. */
static bool member_update(struct ctl_member *m, const struct grp_join *j)
{
	struct ctl_member_proto *p = calloc((size_t)j->n_protos + 1, sizeof(*p));

	if (!p)
		return false;
	for (int32_t i = 0; i < j->n_protos; i++) {
		p[i].name = grp_strdup(j->protos[i].name);
		p[i].meta_len = j->protos[i].meta.ptr ? j->protos[i].meta.len : 0;
		p[i].meta = malloc((size_t)p[i].meta_len + 1);
		if (!p[i].name || !p[i].meta) {
			for (int32_t k = 0; k <= i; k++) {
				free(p[k].name);
				free(p[k].meta);
			}
			free(p);
			return false;
		}
		if (p[i].meta_len)
			memcpy(p[i].meta, j->protos[i].meta.ptr, (size_t)p[i].meta_len);
	}
	for (unsigned int i = 0; i < m->n_protos; i++) {
		free(m->protos[i].name);
		free(m->protos[i].meta);
	}
	free(m->protos);
	m->protos = p;
	m->n_protos = (unsigned int)j->n_protos;
	m->session_timeout_ms = j->session_timeout_ms;
	m->rebalance_timeout_ms = j->version >= 1 ? j->rebalance_timeout_ms : j->session_timeout_ms;
	return true;
}

const struct ctl_member_proto *grp_member_proto(const struct ctl_member *m, const char *name)
{
	for (unsigned int i = 0; name && i < m->n_protos; i++)
		if (strcmp(m->protos[i].name, name) == 0)
			return &m->protos[i];
	return NULL;
}

static bool member_supports(const struct ctl_member *m, const char *proto)
{
	return grp_member_proto(m, proto) != NULL;
}

/* Same protocols, same metadata, same order (Kafka's matches()). */
static bool member_matches(const struct ctl_member *m, const struct grp_join *j)
{
	if ((int32_t)m->n_protos != j->n_protos)
		return false;
	for (int32_t i = 0; i < j->n_protos; i++) {
		int32_t len = j->protos[i].meta.ptr ? j->protos[i].meta.len : 0;

		if (!grp_str_is(m->protos[i].name, j->protos[i].name) ||
		    m->protos[i].meta_len != len ||
		    (len && memcmp(m->protos[i].meta, j->protos[i].meta.ptr, (size_t)len)))
			return false;
	}
	return true;
}

/* Could the group take these protocols (Kafka's supportsProtocols)? */
static bool group_supports(const struct ctl_group *g, const struct grp_join *j)
{
	if (!g->members)
		return j->protocol_type.len > 0 && j->n_protos > 0;
	if (!grp_str_is(g->protocol_type, j->protocol_type))
		return false;
	for (int32_t i = 0; i < j->n_protos; i++) {
		char *name = grp_strdup(j->protos[i].name);
		bool all = name != NULL;

		for (const struct ctl_member *m = g->members; m && all; m = m->next)
			all = member_supports(m, name);
		free(name);
		if (all)
			return true;
	}
	return false;
}

/* The protocol most members vote for: each votes its first one all support. */
static const char *select_protocol(const struct ctl_group *g)
{
	const struct ctl_member *first = g->members;
	const char *best = NULL;
	unsigned int best_votes = 0;

	for (unsigned int i = 0; first && i < first->n_protos; i++) {
		const char *cand = first->protos[i].name;
		unsigned int votes = 0;
		bool all = true;

		for (const struct ctl_member *m = g->members; m && all; m = m->next)
			all = member_supports(m, cand);
		if (!all)
			continue;
		for (const struct ctl_member *m = g->members; m; m = m->next) {
			for (unsigned int k = 0; k < m->n_protos; k++) {
				const char *p = m->protos[k].name;
				bool common = true;

				for (const struct ctl_member *o = g->members; o && common; o = o->next)
					common = member_supports(o, p);
				if (common) {
					votes += strcmp(p, cand) == 0;
					break;
				}
			}
		}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best;
}

static void unlink_member(struct ctl_member **head, struct ctl_member *m)
{
	for (struct ctl_member **pp = head; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			m->next = NULL;
			return;
		}
}

static void choose_leader(struct ctl_group *g)
{
	const struct ctl_member *pick = NULL;

	for (const struct ctl_member *m = g->members; m && !pick; m = m->next)
		if (m->join_resp)
			pick = m;
	if (!pick)
		pick = g->members;
	free(g->leader);
	g->leader = pick ? strdup(pick->id) : NULL;
}

/* Take a member out (left, expired, or not rejoined): answer what it had parked. */
static void member_drop(struct ctl_member *m)
{
	struct ctl_group *g = m->g;

	if (m->pending) {
		unlink_member(&g->pendings, m);
	} else {
		unlink_member(&g->members, m);
		g->n_members--;
		if (m->join_resp)
			kp_group_join_answer(m, KP_ERR_UNKNOWN_MEMBER_ID);
		if (m->sync_resp)
			kp_group_sync_answer(m, KP_ERR_UNKNOWN_MEMBER_ID);
		if (g->leader && strcmp(g->leader, m->id) == 0)
			choose_leader(g);
	}
	grp_member_free(m);
}

/* Kafka's removeMemberAndUpdateGroup. */
static void member_remove(struct ctl_member *m)
{
	struct ctl_group *g = m->g;
	bool was_pending = m->pending;

	member_drop(m);
	switch (g->state) {
	case CTL_GROUP_STABLE:
	case CTL_GROUP_COMPLETING_REBALANCE:
		if (!was_pending)
			prepare_rebalance(g);
		break;
	case CTL_GROUP_PREPARING_REBALANCE:
		try_complete_join(g);
		break;
	default:
		break;
	}
}

/* ---- the join phase ------------------------------------------------------------ */

static bool all_joined(const struct ctl_group *g)
{
	if (g->pendings)
		return false;
	for (const struct ctl_member *m = g->members; m; m = m->next)
		if (!m->join_resp)
			return false;
	return true;
}

static void complete_join(struct ctl_group *g);

/*
 * The join phase ends once every member has rejoined: on the next loop pass,
 * since the parked JoinGroup answers cannot be written inside the dispatch of
 * one of them -- or at once when the last member went (Kafka's Empty after a
 * leave), there being nobody to answer.
 */
static void try_complete_join(struct ctl_group *g)
{
	if (g->state != CTL_GROUP_PREPARING_REBALANCE || g->initial_delay || !all_joined(g) ||
	    !g->gs->srv)
		return;
	if (!g->members) {
		ctl_timer_cancel(g->gs->srv, &g->join_timer);
		complete_join(g);
	} else {
		ctl_timer_arm(g->gs->srv, &g->join_timer, 0);
	}
}

static int32_t max_rebalance_timeout(const struct ctl_group *g)
{
	int32_t t = 0;

	for (const struct ctl_member *m = g->members; m; m = m->next)
		if (m->rebalance_timeout_ms > t)
			t = m->rebalance_timeout_ms;
	return t;
}

static void prepare_rebalance(struct ctl_group *g)
{
	struct ctl_groups *gs = g->gs;
	int32_t rebalance = max_rebalance_timeout(g);
	int32_t delay = gs->cfg->broker.group_initial_rebalance_delay_ms;

	if (g->state == CTL_GROUP_COMPLETING_REBALANCE) {
		for (struct ctl_member *m = g->members; m; m = m->next) {
			free(m->assignment);
			m->assignment = NULL;
			m->assignment_len = 0;
			if (m->sync_resp)
				kp_group_sync_answer(m, KP_ERR_REBALANCE_IN_PROGRESS);
		}
	}
	g->initial_delay = g->state == CTL_GROUP_EMPTY && delay > 0;
	g->join_deadline_ns = (int64_t)ctl_now_ns() + (int64_t)rebalance * 1000000;
	grp_set_state(g, CTL_GROUP_PREPARING_REBALANCE);
	if (!gs->srv)
		return;
	if (g->initial_delay)
		ctl_timer_arm(gs->srv, &g->join_timer,
			      (uint64_t)(delay < rebalance ? delay : rebalance));
	else
		ctl_timer_arm(gs->srv, &g->join_timer, (uint64_t)rebalance);
	try_complete_join(g);
}

static void empty_stored(void *arg, int16_t err)
{
	struct ctl_group *g = arg;

	if (err)
		CTL_LOG(WARNING, "group %s: storing its metadata: %s", g->id, kp_err_name(err));
}

/* Kafka's onCompleteJoin. */
static void complete_join(struct ctl_group *g)
{
	struct ctl_member *m, *next;
	const char *proto;

	for (m = g->members; m; m = next) {
		next = m->next;
		if (!m->join_resp)
			member_drop(m);
	}
	g->generation++;
	g->gs->st.rebalances++;
	free(g->protocol);
	g->protocol = NULL;
	if (!g->members) {
		free(g->leader);
		g->leader = NULL;
		grp_set_state(g, CTL_GROUP_EMPTY);
		(void)grp_log_store_group(g, false, empty_stored, g);
		return;
	}
	proto = select_protocol(g);
	g->protocol = proto ? strdup(proto) : NULL;
	if (!g->leader || !grp_member(g, (struct kp_str){ g->leader, (int32_t)strlen(g->leader) }))
		choose_leader(g);
	grp_set_state(g, CTL_GROUP_COMPLETING_REBALANCE);
	for (m = g->members; m; m = m->next) {
		m->is_new = false;
		kp_group_join_answer(m, KP_ERR_NONE);
		grp_member_touch(m);
	}
}

void grp_join_fire(void *arg, struct ctl_timer *t)
{
	struct ctl_group *g = arg;
	int64_t now = (int64_t)ctl_now_ns(), left = g->join_deadline_ns - now;

	(void)t;
	if (g->state != CTL_GROUP_PREPARING_REBALANCE)
		return;
	if (g->initial_delay) {
		/* Kafka's InitialDelayedJoin: more time while members keep arriving. */
		int32_t delay = g->gs->cfg->broker.group_initial_rebalance_delay_ms;
		bool newcomers = false;

		for (struct ctl_member *m = g->members; m; m = m->next)
			if (m->is_new)
				newcomers = true, m->is_new = false;
		if (newcomers && left > 0) {
			int64_t ms = left / 1000000;

			ctl_timer_arm(g->gs->srv, t, (uint64_t)(ms < delay ? ms : delay));
			return;
		}
		g->initial_delay = false;
		complete_join(g);
		return;
	}
	if (all_joined(g) || left <= 0)
		complete_join(g);
	else
		ctl_timer_arm(g->gs->srv, t, (uint64_t)(left + 999999) / 1000000);
}

/* ---- JoinGroup -------------------------------------------------------------- */

static char *member_id_new(struct kp_str client_id)
{
	uint8_t u[16];
	char *id;

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return NULL;
	u[6] = (u[6] & 0x0f) | 0x40; /* a version 4 UUID, as Kafka's */
	u[8] = (u[8] & 0x3f) | 0x80;
	if (asprintf(&id, "%.*s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		     client_id.ptr ? client_id.len : 0, client_id.ptr ? client_id.ptr : "",
		     u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		     u[13], u[14], u[15]) < 0)
		return NULL;
	return id;
}

/* The connection of a parked join or sync went away: forget (and free) the slot. */
static void parked_cancel(void *arg, struct ctl_resp *r)
{
	struct ctl_member *m = arg;

	if (m->join_resp == r)
		m->join_resp = NULL;
	if (m->sync_resp == r)
		m->sync_resp = NULL;
	ctl_resp_complete(r, false);
}

/* Park @resp on @m for the join phase; a duplicate join replaces the older one. */
static void park_join(struct ctl_member *m, struct ctl_resp *resp, int16_t version)
{
	if (m->join_resp)
		kp_group_join_answer(m, KP_ERR_REBALANCE_IN_PROGRESS);
	m->join_resp = resp;
	m->join_version = version;
	ctl_resp_set_cancel(resp, parked_cancel, m);
}

static int16_t add_member_and_rebalance(struct ctl_group *g, const char *id,
					const struct grp_join *j, struct ctl_resp *resp)
{
	struct ctl_member *m = member_new(g, id, j), **tail;

	if (!m || !member_update(m, j)) {
		if (m)
			grp_member_free(m);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (!g->members) {
		free(g->protocol_type);
		g->protocol_type = grp_strdup(j->protocol_type);
	}
	for (tail = &g->members; *tail; tail = &(*tail)->next)
		;
	*tail = m;
	g->n_members++;
	if (!g->leader)
		g->leader = strdup(m->id);
	m->is_new = true;
	park_join(m, resp, j->version);
	grp_member_touch(m);
	if (g->state == CTL_GROUP_PREPARING_REBALANCE)
		try_complete_join(g);
	else
		prepare_rebalance(g);
	return KP_ERR_NONE;
}

/* group.max.size: members and pending members (KIP-394) count, as a new one would take a place. */
static bool group_full(const struct ctl_group *g)
{
	size_t n = g->n_members;

	for (const struct ctl_member *m = g->pendings; m; m = m->next)
		n++;
	return n >= (size_t)g->gs->cfg->broker.group_max_size;
}

static int16_t join_unknown(struct ctl_group *g, const struct grp_join *j, struct ctl_resp *resp,
			    const char **new_id)
{
	char *id = member_id_new(j->client_id);
	struct ctl_member *m;
	int16_t err;

	if (!id)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (group_full(g)) {
		free(id);
		return KP_ERR_GROUP_MAX_SIZE_REACHED;
	}
	if (j->version < 4) {
		err = add_member_and_rebalance(g, id, j, resp);
		free(id);
		return err;
	}
	/* KIP-394: v4+ get an id to rejoin with; the member is pending meanwhile. */
	m = member_new(g, id, j);
	free(id);
	if (!m)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	m->pending = true;
	m->session_timeout_ms = j->session_timeout_ms;
	m->next = g->pendings;
	g->pendings = m;
	grp_member_touch(m);
	*new_id = m->id;
	return KP_ERR_MEMBER_ID_REQUIRED;
}

static int16_t join_known(struct ctl_group *g, const struct grp_join *j, struct ctl_resp *resp,
			  struct ctl_member **now_member)
{
	struct ctl_member *m;

	for (m = g->pendings; m; m = m->next)
		if (grp_str_is(m->id, j->member_id)) {
			char *id = strdup(m->id);
			int16_t err;

			unlink_member(&g->pendings, m);
			grp_member_free(m);
			if (!id)
				return KP_ERR_UNKNOWN_SERVER_ERROR;
			err = add_member_and_rebalance(g, id, j, resp);
			free(id);
			return err;
		}
	m = grp_member(g, j->member_id);
	if (!m)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	switch (g->state) {
	case CTL_GROUP_PREPARING_REBALANCE:
		if (!member_update(m, j))
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		park_join(m, resp, j->version);
		grp_member_touch(m);
		try_complete_join(g);
		return KP_ERR_NONE;
	case CTL_GROUP_COMPLETING_REBALANCE:
	case CTL_GROUP_STABLE:
		/* The same metadata again (and, when Stable, not the leader): this generation's answer. */
		if (member_matches(m, j) && (g->state == CTL_GROUP_COMPLETING_REBALANCE ||
					     strcmp(g->leader ? g->leader : "", m->id) != 0)) {
			grp_member_touch(m);
			*now_member = m;
			return KP_ERR_NONE;
		}
		if (!member_update(m, j))
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		park_join(m, resp, j->version);
		grp_member_touch(m);
		prepare_rebalance(g);
		return KP_ERR_NONE;
	default:
		return KP_ERR_UNKNOWN_MEMBER_ID;
	}
}

int16_t grp_join(struct ctl_groups *gs, const struct grp_join *j, struct ctl_resp *resp,
		 struct ctl_member **now_member, const char **new_id)
{
	const struct fwc_broker *b = &gs->cfg->broker;
	struct ctl_group *g;
	int16_t err;

	*now_member = NULL;
	*new_id = NULL;
	if (!j->group_id.ptr || j->group_id.len == 0)
		return KP_ERR_INVALID_GROUP_ID;
	if (!gs->srv || !resp)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (j->session_timeout_ms < b->group_min_session_timeout_ms ||
	    j->session_timeout_ms > b->group_max_session_timeout_ms)
		return KP_ERR_INVALID_SESSION_TIMEOUT;
	if ((err = grp_log_ready(gs)))
		return err;
	if (j->member_id.len == 0 && !grp_get(gs, j->group_id, false) && grp_count_full(gs))
		return KP_ERR_GROUP_MAX_SIZE_REACHED;
	g = grp_get(gs, j->group_id, j->member_id.len == 0);
	if (!g)
		return j->member_id.len == 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : KP_ERR_UNKNOWN_MEMBER_ID;
	if (g->state == CTL_GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (!group_supports(g, j))
		return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	if (j->member_id.len == 0)
		return join_unknown(g, j, resp, new_id);
	return join_known(g, j, resp, now_member);
}

/* ---- SyncGroup ------------------------------------------------------------------ */

struct sync_store {
	struct ctl_group *g;
	int32_t generation;
};

static void sync_stored(void *arg, int16_t err)
{
	struct sync_store *s = arg;
	struct ctl_group *g = s->g;

	if (g->state == CTL_GROUP_COMPLETING_REBALANCE && g->generation == s->generation) {
		if (err) {
			/* Kafka: the assignments are reset and the error goes to every member. */
			for (struct ctl_member *m = g->members; m; m = m->next) {
				free(m->assignment);
				m->assignment = NULL;
				m->assignment_len = 0;
				if (m->sync_resp)
					kp_group_sync_answer(m, err);
			}
			prepare_rebalance(g);
		} else {
			grp_set_state(g, CTL_GROUP_STABLE);
			for (struct ctl_member *m = g->members; m; m = m->next)
				if (m->sync_resp)
					kp_group_sync_answer(m, KP_ERR_NONE);
		}
	}
	free(s);
}

/* The leader's assignments: kept on the members, then the group's record. */
static int16_t sync_leader(struct ctl_group *g, const struct grp_assign *as, int32_t n_as)
{
	struct sync_store *s = malloc(sizeof(*s));
	int16_t err;

	if (!s)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (struct ctl_member *m = g->members; m; m = m->next) {
		free(m->assignment);
		m->assignment = NULL;
		m->assignment_len = 0;
		for (int32_t i = 0; i < n_as; i++) {
			int32_t len = as[i].assignment.ptr ? as[i].assignment.len : 0;

			if (!grp_str_is(m->id, as[i].member_id))
				continue;
			free(m->assignment);
			m->assignment = malloc((size_t)len + 1);
			if (!m->assignment) {
				free(s);
				return KP_ERR_UNKNOWN_SERVER_ERROR;
			}
			if (len)
				memcpy(m->assignment, as[i].assignment.ptr, (size_t)len);
			m->assignment_len = len;
		}
	}
	s->g = g;
	s->generation = g->generation;
	err = grp_log_store_group(g, false, sync_stored, s);
	if (err)
		free(s);
	return err;
}

int16_t grp_sync(struct ctl_groups *gs, struct kp_str group_id, int32_t generation,
		 struct kp_str member_id, const struct grp_assign *as, int32_t n_as,
		 struct ctl_resp *resp, int16_t version, struct ctl_member **now)
{
	struct ctl_group *g;
	struct ctl_member *m;
	int16_t err;

	*now = NULL;
	if (!group_id.ptr || group_id.len == 0)
		return KP_ERR_INVALID_GROUP_ID;
	if (!gs->srv || !resp)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	g = grp_get(gs, group_id, false);
	if (!g || !(m = grp_member(g, member_id)))
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	switch (g->state) {
	case CTL_GROUP_PREPARING_REBALANCE:
		return KP_ERR_REBALANCE_IN_PROGRESS;
	case CTL_GROUP_COMPLETING_REBALANCE:
		/* The leader's first sync of the generation stores; a repeat waits with it. */
		if (g->leader && strcmp(g->leader, m->id) == 0 && !m->sync_resp &&
		    (err = sync_leader(g, as, n_as)))
			return err;
		if (m->sync_resp)
			kp_group_sync_answer(m, KP_ERR_REBALANCE_IN_PROGRESS);
		m->sync_resp = resp;
		m->sync_version = version;
		ctl_resp_set_cancel(resp, parked_cancel, m);
		grp_member_touch(m);
		return KP_ERR_NONE;
	case CTL_GROUP_STABLE:
		grp_member_touch(m);
		*now = m;
		return KP_ERR_NONE;
	default:
		return KP_ERR_UNKNOWN_MEMBER_ID;
	}
}

/* ---- Heartbeat, LeaveGroup ------------------------------------------------------ */

int16_t grp_heartbeat(struct ctl_groups *gs, struct kp_str group_id, int32_t generation,
		      struct kp_str member_id)
{
	struct ctl_group *g;
	struct ctl_member *m;

	if (!group_id.ptr || group_id.len == 0)
		return KP_ERR_INVALID_GROUP_ID;
	if (!gs->srv)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	g = grp_get(gs, group_id, false);
	if (!g || g->state == CTL_GROUP_EMPTY || !(m = grp_member(g, member_id)))
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (g->state == CTL_GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	grp_member_touch(m);
	return g->state == CTL_GROUP_PREPARING_REBALANCE ? KP_ERR_REBALANCE_IN_PROGRESS
							 : KP_ERR_NONE;
}

int16_t grp_leave(struct ctl_groups *gs, struct kp_str group_id, struct kp_str member_id)
{
	struct ctl_group *g;
	struct ctl_member *m = NULL;

	if (!group_id.ptr || group_id.len == 0)
		return KP_ERR_INVALID_GROUP_ID;
	if (!gs->srv)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	g = grp_get(gs, group_id, false);
	if (g) {
		m = grp_member(g, member_id);
		for (struct ctl_member *p = g->pendings; !m && p; p = p->next)
			if (grp_str_is(p->id, member_id))
				m = p;
	}
	if (!m)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	member_remove(m);
	return KP_ERR_NONE;
}
