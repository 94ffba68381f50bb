/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice - the operator's command line tool.
 *
 * Subcommands work on the data directory and the configuration offline;
 * they never need the daemon (that is what the Kafka protocol is for).
 * Each subcommand is one row of the table below: name, one-line summary,
 * handler.  Handlers return the process exit code.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sluice_build.h"
#include "fwc_config.h"
#include "st_dump.h"

struct sluice_cmd {
	const char *name;
	const char *args;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static int cmd_check_config(int argc, char **argv);
static int cmd_dump_log(int argc, char **argv);
static int cmd_verify(int argc, char **argv);

static const struct sluice_cmd sluice_cmds[] = {
	{ "check-config", "[FILE]", "validate a configuration file (default: the embedded one)",
	  cmd_check_config },
	{ "dump-log", "[--records] PATH...", "print the batches of segment files (.log/.index/.timeindex)",
	  cmd_dump_log },
	{ "verify", "DIR", "check a data directory: CRCs, offsets, indexes",
	  cmd_verify },
};

#define N_CMDS (sizeof(sluice_cmds) / sizeof(sluice_cmds[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluice COMMAND [ARGS...]\n"
		     "       sluice --help | --version\n\nCommands:\n");
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(out, "  %-13s %-22s %s\n", sluice_cmds[i].name, sluice_cmds[i].args,
			sluice_cmds[i].summary);
	fprintf(out, "\n'sluice COMMAND --help' describes a command.\n");
}

static int cmd_check_config(int argc, char **argv)
{
	static struct fwc_config cfg;
	struct fwc_diag diag = { 0 };

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"Usage: sluice check-config [FILE]\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	fwc_config_defaults(&cfg);
	if (argc == 2)
		fwc_config_load(&cfg, argv[1], &diag);
	else
		fwc_config_load_default(&cfg, &diag);
	fwc_config_validate(&cfg, 0, &diag);
	if (diag.n_errors) {
		fprintf(stderr, "sluice: %u error%s\n", diag.n_errors, diag.n_errors == 1 ? "" : "s");
		return 2;
	}
	printf("%s: OK\n", argc == 2 ? argv[1] : FWC_DEFAULT_NAME);
	return 0;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* Exit codes: 0 all valid, 1 corrupt or torn, 2 usage or unreadable. */
static int cmd_dump_log(int argc, char **argv)
{
	bool records = false;
	int worst = 0, n = 0, rc;

	if (wants_help(argc, argv)) {
		printf("Usage: sluice dump-log [--records] PATH...\n"
		       "Print each batch (offsets, count, size, timestamps, producer, CRC) like\n"
		       "kafka-dump-log.sh; --records also prints keys, values and headers.\n"
		       "Exit 0 when every batch is valid, 1 on a corrupt or torn segment.\n");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--records") || !strcmp(argv[i], "--print-data-log")) {
			records = true;
			continue;
		}
		printf("Dumping %s\n", argv[i]);
		rc = st_dump_log(stdout, argv[i], records);
		n++;
		if (rc < 0) {
			fprintf(stderr, "sluice: %s: %s\n", argv[i], strerror(-rc));
			worst = 2;
		} else if (rc > worst) {
			worst = rc;
		}
	}
	if (n == 0) {
		fprintf(stderr, "Usage: sluice dump-log [--records] PATH...\n");
		return 2;
	}
	return worst;
}

static int cmd_verify(int argc, char **argv)
{
	int rc;

	if (wants_help(argc, argv) || argc != 2) {
		fprintf(argc == 2 ? stdout : stderr,
			"Usage: sluice verify DIR\n"
			"Check every segment under DIR (a log.dirs directory or one partition):\n"
			"batch headers, CRC-32C, contiguous offsets, index entries.\n");
		return argc == 2 ? 0 : 2;
	}
	rc = st_verify_dir(stdout, argv[1]);
	if (rc < 0) {
		fprintf(stderr, "sluice: %s: %s\n", argv[1], strerror(-rc));
		return 2;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(argv[1], sluice_cmds[i].name))
			return sluice_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
