/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_metrics.c - the Prometheus endpoint: libmicrohttpd's thread asks the
 * control thread for a snapshot, then renders it (ctl_metrics_render.c; see
 * ctl_metrics.h).
 *
 * Why a snapshot taken on the control thread: the catalog (topics,
 * partitions, their st_partition pointers) changes only on that thread and
 * a deleted partition is freed there, so reading it anywhere else would need
 * a lock on every catalog change.  Asking that thread instead costs one
 * eventfd wakeup per scrape and keeps the catalog single-threaded.
 *
 * What the snapshot copies, and how it reads counters of other threads:
 *  - struct ctl_server_stats: written by the loop thread, which is the
 *    thread copying it: no race.
 *  - st_partition watermarks (written/flushed/durable/log_start/err) are
 *    _Atomic: acquire loads, as every reader does.
 *  - st_partition next_offset and pstats are plain fields written by the
 *    partition's producer (the control thread itself, or a dataplane lcore).
 *    They are naturally aligned 64-bit fields, and on x86-64 an aligned
 *    8-byte load or store is a single access that cannot tear (Intel SDM
 *    vol. 3A, 9.1.1 "Guaranteed Atomic Operations"); the producer's plain
 *    store compiles to one mov.  The reader side uses __atomic_load_n(...,
 *    __ATOMIC_RELAXED) so the compiler, too, must emit exactly one load.  A
 *    value may be slightly stale, never torn; counters only grow.
 *  - writer and dataplane counters through their own readers
 *    (st_writer_stats_get, dp_stats_read), which do the same.
 *  - consumer groups and their counters: the control thread's own.  The
 *    log end of a committed offset is st_partition_hw() under the store's
 *    visibility -- what Fetch and ListOffsets report -- so the lag shown is
 *    the lag the consumer sees, not the producer's next offset.
 *
 * The group copy is the one part that grows with the clients rather than
 * the configuration (groups x committed partitions), so it is capped
 * (max_group_offsets) and allocated on its own: if that allocation fails the
 * scrape still answers, without the per-group series, and the control
 * thread logs it once.
 *
 * The handshake itself (wake the control thread, wait for the copy) is
 * ctl_snapq.c, shared with the DPDK telemetry commands (ctl_telemetry.c).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl_catalog.h"
#include "ctl_group.h"
#include "ctl_log.h"
#include "ctl_metrics.h"
#include "ctl_uplink.h"
#include "ctl_snapq.h"
#include "ctl_store.h"
#include "dp_lcore.h"
#include "dp_stats.h"
#include "kp_api.h"
#include "st_partition.h"
#include "st_ring.h"
#include "st_writer.h"

#define METRICS_WAIT_S 5                /* a scrape waits this long for the control thread */
#define METRICS_MAX_CONNECTIONS 16
#define METRICS_CONN_TIMEOUT_S 10
#define METRICS_MAX_WRITERS 64
#define METRICS_MAX_GROUP_OFFSETS ((size_t)65536) /* per scrape, unless the params say */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ctl_metrics {
	struct ctl_metrics_params p;
	struct MHD_Daemon *mhd;
	uint16_t port;
	struct ctl_snapq *q;            /* snapshots from the control thread */
};

/* A snapshot and the memory behind its pointers. */
struct snap_owned {
	struct ctl_metrics_snap pub;
	struct dp_stats dp;
	struct dp_lcore_stats lcores[DP_LCORE_MAX];
	struct dp_port_stats ports[FWC_MAX_PORTS];
	struct st_writer_stats writers[METRICS_MAX_WRITERS];
	struct ctl_metrics_part *parts;
	size_t parts_cap;
	struct ctl_metrics_dp_part *dp_parts;
	size_t dp_cap;
	struct ctl_metrics_group *groups;
	struct ctl_metrics_group_offset *goffs;
	size_t n_goffs;
	struct ctl_uplink_stats *uplinks;
	char **strings;                 /* interned topic and group names */
	size_t n_strings, strings_cap;
	bool failed;                    /* an allocation failed */
};

/* ---- snapshot (control thread) ------------------------------------------ */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

/* A copy of @name owned by the snapshot; consecutive equal names share one. */
static const char *intern(struct snap_owned *o, const char *name)
{
	char *s;

	if (o->n_strings && strcmp(o->strings[o->n_strings - 1], name) == 0)
		return o->strings[o->n_strings - 1];
	if (grow((void **)&o->strings, &o->strings_cap, o->n_strings + 1, sizeof(char *)) < 0 ||
	    !(s = strdup(name))) {
		o->failed = true;
		return NULL;
	}
	o->strings[o->n_strings++] = s;
	return s;
}

static void dp_part_add(void *arg, const char *topic, int32_t partition, uint64_t records)
{
	struct snap_owned *o = arg;
	struct ctl_metrics_dp_part *d;
	const char *t = intern(o, topic);

	if (!t || grow((void **)&o->dp_parts, &o->dp_cap, o->pub.n_dp_parts + 1,
		       sizeof(*o->dp_parts)) < 0) {
		o->failed = true;
		return;
	}
	d = &o->dp_parts[o->pub.n_dp_parts++];
	d->topic = t;
	d->partition = partition;
	d->records = records;
}

#define RELAXED(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static void part_copy(struct ctl_metrics_part *d, const char *topic, const struct ctl_partition *cp)
{
	const struct st_partition *p = ctl_store_partition(cp);

	memset(d, 0, sizeof(*d));
	d->topic = topic;
	d->partition = cp->index;
	d->records_out = cp->stats.records_out;
	d->bytes_out = cp->stats.bytes_out;
	if (!p)
		return;
	d->log_start = atomic_load_explicit(&p->log_start, memory_order_acquire);
	d->written = atomic_load_explicit(&p->written, memory_order_acquire);
	d->flushed = atomic_load_explicit(&p->flushed, memory_order_acquire);
	d->durable = atomic_load_explicit(&p->durable, memory_order_acquire);
	d->err = atomic_load_explicit(&p->err, memory_order_acquire);
	d->log_end = RELAXED(p->next_offset);
	d->records_in = RELAXED(p->pstats.records);
	d->bytes_in = RELAXED(p->pstats.bytes);
	d->ring_full = RELAXED(p->pstats.ring_full);
	if (p->ring) {                  /* producer and writer positions: a moment's fill */
		d->ring_used = st_ring_used(p->ring);
		d->ring_size = p->ring->size;
		d->ring_huge = p->ring->mem.kind == ST_HUGEMEM_HUGE ? p->ring->mem.map_len : 0;
	}
}

static void snap_partitions(struct snap_owned *o, const struct ctl_catalog *cat)
{
	size_t n = ctl_catalog_count(cat);

	for (size_t i = 0; i < n && !o->failed; i++) {
		const struct ctl_topic *t = ctl_catalog_at(cat, i);
		const char *name = intern(o, t->name);

		if (!name || grow((void **)&o->parts, &o->parts_cap,
				  o->pub.n_parts + (size_t)t->n_partitions, sizeof(*o->parts)) < 0) {
			o->failed = true;
			break;
		}
		for (int32_t k = 0; k < t->n_partitions; k++)
			part_copy(&o->parts[o->pub.n_parts++], name, &t->partitions[k]);
	}
}

/* The high watermark a Fetch of @t/@partition reports, or -1 when it is gone. */
static int64_t group_log_end(const struct ctl_topic *t, int32_t partition, enum st_visibility vis)
{
	const struct st_partition *sp;

	if (!t || partition < 0 || partition >= t->n_partitions ||
	    !(sp = ctl_store_partition(&t->partitions[partition])))
		return -1;
	return st_partition_hw(sp, vis);
}

/* @g's committed offsets into o->goffs (room was reserved). */
static int group_offsets_copy(struct snap_owned *o, const struct ctl_group *g,
			      struct ctl_metrics_group *d, const struct ctl_catalog *cat,
			      enum st_visibility vis)
{
	const struct ctl_topic *t = NULL;
	const char *name = NULL;

	d->offsets = &o->goffs[o->n_goffs];
	for (size_t k = 0; k < g->n_offsets; k++) {
		const struct ctl_offset *src = &g->offsets[k];
		struct ctl_metrics_group_offset *x = &o->goffs[o->n_goffs + k];

		if (!name || strcmp(name, src->topic) != 0) {   /* sorted: once per topic */
			if (!(name = intern(o, src->topic)))
				return -ENOMEM;
			t = cat ? ctl_catalog_find(cat, name, strlen(name)) : NULL;
		}
		x->topic = name;
		x->partition = src->partition;
		x->committed = src->offset;
		x->log_end = group_log_end(t, src->partition, vis);
	}
	d->n_offsets = g->n_offsets;
	o->n_goffs += g->n_offsets;
	return 0;
}

/* Each group's summary, and its offsets while they fit in @cap. */
static int groups_copy(struct snap_owned *o, const struct ctl_metrics_params *p, size_t cap)
{
	enum st_visibility vis = p->store ? ctl_store_visibility(p->store) : ST_VIS_DURABLE;
	size_t n = ctl_groups_count(p->groups);

	for (size_t i = 0; i < n; i++) {
		const struct ctl_group *g = ctl_groups_at(p->groups, i);
		struct ctl_metrics_group *d = &o->groups[o->pub.n_groups++];

		if (!(d->id = intern(o, g->id)))
			return -ENOMEM;
		d->state = g->state;
		d->generation = g->generation;
		d->n_members = g->n_members;
		if (g->n_offsets > cap - o->n_goffs)
			o->pub.group_offsets_omitted += g->n_offsets;
		else if (group_offsets_copy(o, g, d, p->cat, vis) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Counters and counts always; per-group series unless memory runs out. */
static void snap_groups(struct snap_owned *o, const struct ctl_metrics_params *p)
{
	struct ctl_metrics_snap *s = &o->pub;
	size_t n = ctl_groups_count(p->groups), total = 0;
	size_t cap = p->max_group_offsets ? p->max_group_offsets : METRICS_MAX_GROUP_OFFSETS;

	if (!p->groups)
		return;
	s->group_stats = *ctl_groups_stats(p->groups);
	for (size_t i = 0; i < n; i++) {
		const struct ctl_group *g = ctl_groups_at(p->groups, i);

		if (g->state < CTL_GROUP_STATES)
			s->groups_by_state[g->state]++;
		total += g->n_offsets;
	}
	if (total < cap)
		cap = total;
	if (!n)
		return;
	o->groups = calloc(n, sizeof(*o->groups));
	o->goffs = cap ? malloc(cap * sizeof(*o->goffs)) : NULL;
	if (o->groups && (o->goffs || !cap) && groups_copy(o, p, cap) == 0) {
		s->groups = o->groups;
		return;
	}
	o->failed = false;              /* only this part fails: its series are left out */
	free(o->groups);
	free(o->goffs);
	o->groups = NULL;
	o->goffs = NULL;
	s->n_groups = 0;
	s->group_offsets_omitted = total;
	s->groups_nomem = true;
}

/* @dir/@name as an unsigned number; 0 when unreadable. */
static uint64_t read_u64(const char *dir, const char *name)
{
	char path[PATH_MAX];
	unsigned long long v = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    !(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static int huge_cmp(const void *a, const void *b)
{
	const struct ctl_metrics_hugepages *x = a, *y = b;

	return x->size_kb < y->size_kb ? -1 : x->size_kb > y->size_kb;
}

/*
 * The host's hugepage pools (hugepages-<size>kB: nr_hugepages,
 * free_hugepages), and the DPDK heap's size when EAL runs on hugepages.
 */
static void snap_hugepages(struct ctl_metrics_snap *s, const struct ctl_metrics_params *p)
{
	const char *root = p->hugepages_dir ? p->hugepages_dir : "/sys/kernel/mm/hugepages";
	DIR *d = opendir(root);
	struct dirent *e;
	char dir[PATH_MAX];
	unsigned long long kb;

	while (d && (e = readdir(d)) && s->n_huge < CTL_METRICS_HUGE_SIZES) {
		if (sscanf(e->d_name, "hugepages-%llukB", &kb) != 1 ||
		    snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name) >= (int)sizeof(dir))
			continue;
		s->huge[s->n_huge++] = (struct ctl_metrics_hugepages){
			.size_kb = kb, .total = read_u64(dir, "nr_hugepages"),
			.free = read_u64(dir, "free_hugepages") };
	}
	if (d)
		closedir(d);
	qsort(s->huge, s->n_huge, sizeof(s->huge[0]), huge_cmp);
	if (!p->eal || !rte_eal_has_hugepages())
		return;
	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats ms;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &ms) == 0)
			s->dpdk_heap_huge += ms.heap_totalsz_bytes;
	}
}

/* The uplinks' figures (atomics of their threads). */
static void snap_uplinks(struct snap_owned *o, const struct ctl_uplinks *u)
{
	size_t n = ctl_uplinks_count(u);

	if (n == 0)
		return;
	o->uplinks = calloc(n, sizeof(*o->uplinks));
	if (!o->uplinks) {
		o->failed = true;
		return;
	}
	while (o->pub.n_uplinks < n &&
	       ctl_uplinks_stats(u, o->pub.n_uplinks, &o->uplinks[o->pub.n_uplinks]) == 0)
		o->pub.n_uplinks++;
	o->pub.uplinks = o->uplinks;
}

struct ctl_metrics_snap *ctl_metrics_snap_take(const struct ctl_metrics_params *p)
{
	struct snap_owned *o = calloc(1, sizeof(*o));
	struct ctl_metrics_snap *s;

	if (!o)
		return NULL;
	s = &o->pub;
	if (p->srv)
		s->server = *ctl_server_stats(p->srv);
	s->apis = kp_api_table(&s->n_apis);
	while (p->store && s->n_writers < METRICS_MAX_WRITERS &&
	       ctl_store_writer_stats(p->store, (unsigned int)s->n_writers,
				      &o->writers[s->n_writers]) == 0)
		s->n_writers++;
	s->writers = o->writers;
	dp_stats_read(p->lcores, &o->dp);
	s->dp = &o->dp;
	s->n_lcores = dp_stats_lcores(p->lcores, o->lcores, DP_LCORE_MAX);
	s->n_ports = dp_stats_ports(p->lcores, o->ports, FWC_MAX_PORTS);
	if (s->n_lcores > DP_LCORE_MAX)
		s->n_lcores = DP_LCORE_MAX;
	if (s->n_ports > FWC_MAX_PORTS)
		s->n_ports = FWC_MAX_PORTS;
	s->lcores = o->lcores;
	s->ports = o->ports;
	if (p->lcores)
		dp_stats_foreach_partition(p->lcores, dp_part_add, o);
	snap_hugepages(s, p);
	if (p->cat)
		snap_partitions(o, p->cat);
	if (!o->failed)
		snap_groups(o, p);
	s->parts = o->parts;
	s->dp_parts = o->dp_parts;
	snap_uplinks(o, p->uplinks);
	if (o->failed) {
		ctl_metrics_snap_free(s);
		return NULL;
	}
	return s;
}

void ctl_metrics_snap_free(struct ctl_metrics_snap *s)
{
	struct snap_owned *o = (struct snap_owned *)s;  /* pub is the first member */

	if (!o)
		return;
	for (size_t i = 0; i < o->n_strings; i++)
		free(o->strings[i]);
	free(o->strings);
	free(o->parts);
	free(o->dp_parts);
	free(o->groups);
	free(o->goffs);
	free(o->uplinks);
	free(o);
}

/* ---- HTTP ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8");
}

static enum MHD_Result serve_metrics(struct ctl_metrics *m, struct MHD_Connection *c)
{
	struct ctl_metrics_snap *s = ctl_snapq_get(m->q, METRICS_WAIT_S);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	if (!s)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "control thread busy\n");
	out = open_memstream(&buf, &len);
	if (!out) {
		ctl_metrics_snap_free(s);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	rc = ctl_metrics_render(s, out);
	ctl_metrics_snap_free(s);
	if (fclose(out) != 0 || rc < 0) {
		free(buf);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return reply(c, MHD_HTTP_OK, buf, len, MHD_RESPMEM_MUST_FREE, METRICS_CONTENT_TYPE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (*upload_data_size)          /* a GET with a body: ignore it */
		*upload_data_size = 0;
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(cls, c);
	if (strcmp(url, "/") == 0)
		return reply_text(c, MHD_HTTP_OK, "Sluice: metrics at /metrics\n");
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n");
}

/* ---- lifecycle --------------------------------------------------------------- */

/* "host:port" or "[v6]:port" -> a bindable address. */
static int listener_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *res;
	const char *colon = strrchr(s, ':');
	char host[256];
	size_t hl;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int ctl_metrics_create(const struct ctl_metrics_params *p, struct ctl_metrics **out)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct ctl_metrics *m = NULL;
	socklen_t sl;
	int rc;

	*out = NULL;
	if (!p->listener || !p->listener[0])
		return 0;
	if ((rc = listener_addr(p->listener, &ss, &sl)) < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return -ENOMEM;
	m->p = *p;
	if ((rc = ctl_snapq_create(p, &m->q)) < 0) {
		free(m);
		return rc;
	}
	m->mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
				  (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, on_request, m,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!m->mhd) {
		rc = -EADDRINUSE;
		goto out;
	}
	/*
	 * Registered last, as there is no way to unregister: the loop is not
	 * running yet, so a scrape arriving before this line just waits.
	 */
	if ((rc = ctl_snapq_attach(m->q)) < 0) {
		MHD_stop_daemon(m->mhd);
		goto out;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : 0;
	CTL_LOG(INFO, "metrics: GET /metrics on %s (port %u)", p->listener, m->port);
	*out = m;
	return 0;
out:
	ctl_snapq_free(m->q);
	free(m);
	return rc;
}

uint16_t ctl_metrics_port(const struct ctl_metrics *m)
{
	return m ? m->port : 0;
}

void ctl_metrics_destroy(struct ctl_metrics *m)
{
	if (!m)
		return;
	ctl_snapq_close(m->q);
	MHD_stop_daemon(m->mhd);
	ctl_snapq_free(m->q);
	free(m);
}
