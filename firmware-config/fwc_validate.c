/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_validate.c - checks that need the whole configuration (and the
 * machine): lcores that exist, one lcore per queue, no lcore shared with the
 * control thread, unique port/topic names, rules that do not overlap.
 *
 * Separate from loading because --override runs between the two: a file
 * that is only valid once overridden must not be rejected early.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "fwc_internal.h"

#define CPU_LIMIT 1024          /* CPU ids accepted by the key table: 0..1023 */
#define KEY_MAX 512

struct vctx {
	const struct fwc_config *cfg;
	struct fwc_diag *diag;
	bool avail[CPU_LIMIT];
	char avail_str[256];    /* "0-1" for messages */
};

static const char *ofile(const struct vctx *v, const struct fwc_origin *o)
{
	if (o->line == 0)
		return "(built-in default)";
	if (o->file)
		return o->file;
	return v->cfg->path[0] ? v->cfg->path : "(config)";
}

#define VREPORT(v, o, key, ...) fwc_report((v)->diag, ofile(v, o), (o)->line, key, __VA_ARGS__)

static void cpus_describe(struct vctx *v)
{
	size_t n = 0;

	v->avail_str[0] = '\0';
	for (int i = 0; i < CPU_LIMIT && n < sizeof(v->avail_str) - 16; i++) {
		int j = i;

		if (!v->avail[i])
			continue;
		while (j + 1 < CPU_LIMIT && v->avail[j + 1])
			j++;
		n += snprintf(v->avail_str + n, sizeof(v->avail_str) - n, "%s%d", n ? "," : "", i);
		if (j > i)
			n += snprintf(v->avail_str + n, sizeof(v->avail_str) - n, "-%d", j);
		i = j;
	}
}

/* n_cpus = 0: the CPUs this process may run on (what pinning can use). */
static void cpus_init(struct vctx *v, unsigned int n_cpus)
{
	cpu_set_t set;
	long conf;

	memset(v->avail, 0, sizeof(v->avail));
	if (n_cpus == 0 && sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = 0; i < CPU_LIMIT && i < CPU_SETSIZE; i++)
			v->avail[i] = CPU_ISSET(i, &set);
	} else {
		if (n_cpus == 0) {
			conf = sysconf(_SC_NPROCESSORS_CONF);
			n_cpus = conf > 0 ? (unsigned int)conf : 1;
		}
		for (unsigned int i = 0; i < n_cpus && i < CPU_LIMIT; i++)
			v->avail[i] = true;
	}
	cpus_describe(v);
}

static bool cpu_ok(const struct vctx *v, int cpu)
{
	return cpu >= 0 && cpu < CPU_LIMIT && v->avail[cpu];
}

static void check_cpus(struct vctx *v)
{
	const struct fwc_config *cfg = v->cfg;
	const struct fwc_storage *s = &cfg->storage;

	if (cfg->control.cpu >= 0 && !cpu_ok(v, cfg->control.cpu))
		VREPORT(v, &cfg->control.origin, "control.cpu",
			"cpu %d does not exist on this machine (available CPUs: %s)",
			cfg->control.cpu, v->avail_str);
	for (unsigned int i = 0; i < s->n_writer_cpus; i++)
		if (!cpu_ok(v, s->writer_cpus[i]))
			VREPORT(v, &s->writer_cpus_origin, "storage.writer.cpus",
				"cpu %d does not exist on this machine (available CPUs: %s)",
				s->writer_cpus[i], v->avail_str);
}

static bool port_name_ok(const char *s)
{
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-')
			return false;
	return true;
}

/* Names, devices, queue/lcore counts of port @i against the ports before it. */
static void check_port_names(struct vctx *v, unsigned int i, const char prefix[KEY_MAX / 2])
{
	const struct fwc_dataplane *dp = &v->cfg->dataplane;
	const struct fwc_port *p = &dp->ports[i];
	const struct fwc_origin *lo = p->lcores_origin.line ? &p->lcores_origin : &p->origin;
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "%s.name", prefix);
	if (!port_name_ok(p->name))
		VREPORT(v, &p->origin, key, "invalid port name \"%s\": use letters, digits, '_' and '-'",
			p->name);
	for (unsigned int j = 0; j < i; j++) {
		const struct fwc_port *q = &dp->ports[j];

		if (p->name[0] && strcmp(p->name, q->name) == 0)
			VREPORT(v, &p->origin, key, "port \"%s\" is named twice (first at line %u)",
				p->name, q->origin.line);
		if (p->device[0] && strcmp(p->device, q->device) == 0) {
			snprintf(key, sizeof(key), "%s.device", prefix);
			VREPORT(v, &p->origin, key, "device is also port \"%s\": its queues would be "
				"polled by two lcores", q->name);
			snprintf(key, sizeof(key), "%s.name", prefix);
		}
	}
	snprintf(key, sizeof(key), "%s.rx.lcores", prefix);
	if (p->n_rx_lcores != p->rx_queues)
		VREPORT(v, lo, key, "expected one lcore per queue: %u rx.lcores for %u rx.queues",
			p->n_rx_lcores, (unsigned int)p->rx_queues);
}

static void check_ports(struct vctx *v)
{
	const struct fwc_config *cfg = v->cfg;
	const struct fwc_dataplane *dp = &cfg->dataplane;
	int owner_port[CPU_LIMIT], owner_queue[CPU_LIMIT];
	char prefix[KEY_MAX / 2], key[KEY_MAX];

	for (int c = 0; c < CPU_LIMIT; c++)
		owner_port[c] = -1;
	for (unsigned int i = 0; i < dp->n_ports; i++) {
		const struct fwc_port *p = &dp->ports[i];
		const struct fwc_origin *lo = p->lcores_origin.line ? &p->lcores_origin : &p->origin;

		if (p->name[0])
			snprintf(prefix, sizeof(prefix), "dataplane.ports.%s", p->name);
		else
			snprintf(prefix, sizeof(prefix), "dataplane.ports.%u", i);
		check_port_names(v, i, prefix);
		snprintf(key, sizeof(key), "%s.rx.lcores", prefix);
		for (unsigned int q = 0; q < p->n_rx_lcores && q < FWC_MAX_QUEUES; q++) {
			int lc = p->rx_lcores[q];

			if (!cpu_ok(v, lc)) {
				VREPORT(v, lo, key, "lcore %d does not exist on this machine "
					"(available CPUs: %s)", lc, v->avail_str);
				continue;
			}
			if (lc == cfg->control.cpu)
				VREPORT(v, lo, key, "lcore %d is control.cpu: the control thread "
					"would compete with the poll loop", lc);
			if (dp->exclusive_lcores && owner_port[lc] >= 0)
				VREPORT(v, lo, key, "lcore %d already polls queue %d of port \"%s\" "
					"(dataplane.exclusive.lcores is true)", lc, owner_queue[lc],
					dp->ports[owner_port[lc]].name);
			else if (owner_port[lc] < 0) {
				owner_port[lc] = (int)i;
				owner_queue[lc] = (int)q;
			}
		}
	}
}

static bool topic_name_ok(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static bool same_traffic(const struct fwc_rule *a, const struct fwc_rule *b)
{
	if (a->udp_port != b->udp_port || a->vlan != b->vlan || a->has_address != b->has_address)
		return false;
	return !a->has_address || (a->address_family == b->address_family &&
				   memcmp(a->address, b->address, sizeof(a->address)) == 0);
}

/* Rule @r of topic @ti against every rule before it, in any topic. */
static void check_rule(struct vctx *v, unsigned int ti, unsigned int ri)
{
	const struct fwc_config *cfg = v->cfg;
	const struct fwc_rule *r = &cfg->topics[ti].rules[ri];
	char key[KEY_MAX];

	if (r->udp_port == 0)   /* missing: reported by the loader */
		return;
	for (unsigned int tj = 0; tj <= ti; tj++) {
		const struct fwc_topic *t = &cfg->topics[tj];

		for (unsigned int rj = 0; rj < t->n_rules && (tj < ti || rj < ri); rj++) {
			if (!same_traffic(r, &t->rules[rj]))
				continue;
			snprintf(key, sizeof(key), "topics.%s.rules.%u", cfg->topics[ti].name, ri);
			VREPORT(v, &r->origin, key, "matches the same traffic as topics.%s.rules.%u "
				"(line %u): same udp.port, address and vlan",
				t->name, rj, t->rules[rj].origin.line);
			return;
		}
	}
}

static void check_topics(struct vctx *v)
{
	const struct fwc_config *cfg = v->cfg;
	char key[KEY_MAX];

	for (unsigned int i = 0; i < cfg->n_topics; i++) {
		const struct fwc_topic *t = &cfg->topics[i];

		snprintf(key, sizeof(key), "topics.%s.name", t->name[0] ? t->name : "?");
		if (t->name[0] && !topic_name_ok(t->name))
			VREPORT(v, &t->origin, key, "invalid topic name \"%s\": use letters, digits, "
				"'.', '_' and '-', not \".\" or \"..\"", t->name);
		for (unsigned int j = 0; j < i; j++)
			if (t->name[0] && strcmp(t->name, cfg->topics[j].name) == 0)
				VREPORT(v, &t->origin, key, "topic \"%s\" is named twice "
					"(first at line %u)", t->name, cfg->topics[j].origin.line);
		for (unsigned int r = 0; r < t->n_rules; r++)
			check_rule(v, i, r);
	}
}

int fwc_config_validate(const struct fwc_config *cfg, unsigned int n_cpus, struct fwc_diag *diag)
{
	struct fwc_diag dflt = { 0 };
	struct vctx v = { .cfg = cfg };
	unsigned int before;

	if (!diag)
		diag = &dflt;
	v.diag = diag;
	before = diag->n_errors;
	cpus_init(&v, n_cpus);
	check_cpus(&v);
	check_ports(&v);
	check_topics(&v);
	fwc_uplinks_validate(cfg, diag);
	return diag->n_errors > before ? -EINVAL : 0;
}
