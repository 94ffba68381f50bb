/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice_users.c - `sluice users add|delete|list`: edit the SASL credentials
 * file sluiced reads (sasl.credentials.location, format in ctl_creds.h).
 * `add` stores a SCRAM-SHA-256 and a SCRAM-SHA-512 credential (PLAIN logins
 * are checked against the first); the password is read from a file or
 * standard input, never from the command line, where ps would show it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl_creds.h"
#include "sluice_cmds.h"

static void users_usage(FILE *out)
{
	fprintf(out,
		"Usage: sluice users add NAME --file PATH [--password-file F] [--iterations N]\n"
		"       sluice users delete NAME --file PATH\n"
		"       sluice users list --file PATH\n\n"
		"add reads the password from --password-file or standard input (first line),\n"
		"and stores salted SCRAM-SHA-256 and SCRAM-SHA-512 credentials (iterations:\n"
		"%d..%d, default 4096).  The file is created mode 0600 if missing.\n",
		CTL_SCRAM_MIN_ITER, CTL_SCRAM_MAX_ITER);
}

/* The first line of @path ("-" or NULL: stdin), without its newline. */
static int read_password(const char *path, char *pw, size_t cap)
{
	FILE *f = path && strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(pw, (int)cap, f))
		pw[0] = '\0';
	if (f != stdin)
		fclose(f);
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	return n ? 0 : -ENODATA;
}

static int load_or_new(const char *file, bool may_be_missing, struct ctl_creds **c)
{
	unsigned int line;
	int rc = ctl_creds_load(file, c, &line);

	if (rc == -ENOENT && may_be_missing)
		return ctl_creds_new(c);
	if (rc == -EINVAL)
		fprintf(stderr, "sluice users: %s:%u: malformed credential line\n", file, line);
	else if (rc < 0)
		fprintf(stderr, "sluice users: %s: %s\n", file, strerror(-rc));
	return rc;
}

static int users_add(struct ctl_creds *c, const char *name, const char *pwfile, long iter)
{
	static const enum ctl_sasl_mech mechs[] = { CTL_MECH_SCRAM_SHA_256, CTL_MECH_SCRAM_SHA_512 };
	struct ctl_scram_cred cred;
	char pw[1024];
	int rc;

	if (!ctl_creds_name_ok(name)) {
		fprintf(stderr, "sluice users: '%s': a name is 1..%d printable characters, no spaces\n",
			name, CTL_SCRAM_NAME_MAX - 1);
		return -EINVAL;
	}
	if ((rc = read_password(pwfile, pw, sizeof(pw))) < 0) {
		fprintf(stderr, "sluice users: password from %s: %s\n", pwfile ? pwfile : "stdin",
			rc == -ENODATA ? "empty" : strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		rc = ctl_scram_cred_derive(mechs[i], pw, strlen(pw), NULL, 0, (uint32_t)iter, &cred);
		if (rc == 0)
			rc = ctl_creds_set(c, name, mechs[i], &cred);
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(&cred, sizeof(cred));
	if (rc < 0)
		fprintf(stderr, "sluice users: deriving the credential: %s\n", strerror(-rc));
	return rc;
}

static void users_list(const struct ctl_creds *c)
{
	for (unsigned int i = 0; i < ctl_creds_count(c); i++) {
		enum ctl_sasl_mech m;
		uint32_t it;
		const char *u = ctl_creds_entry(c, i, &m, &it);

		printf("%s %s iterations=%u\n", u, ctl_sasl_mech_name(m), it);
	}
}

/* Runs the action parsed by sluice_cmd_users; @return the exit code. */
static int users_run(const char *action, const char *name, const char *file, const char *pwfile,
		     long iter)
{
	bool add = !strcmp(action, "add"), del = !strcmp(action, "delete");
	struct ctl_creds *c = NULL;
	int rc;

	if (load_or_new(file, add, &c) < 0)
		return 1;
	if (add) {
		rc = users_add(c, name, pwfile, iter);
	} else if (del) {
		rc = ctl_creds_delete(c, name) > 0 ? 0 : -ENOENT;
		if (rc < 0)
			fprintf(stderr, "sluice users: no user '%s' in %s\n", name, file);
	} else {
		users_list(c);
		ctl_creds_free(c);
		return 0;
	}
	if (rc == 0 && (rc = ctl_creds_save(c, file)) < 0)
		fprintf(stderr, "sluice users: writing %s: %s\n", file, strerror(-rc));
	ctl_creds_free(c);
	return rc < 0 ? 1 : 0;
}

int sluice_cmd_users(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *pwfile = NULL, *action, *name = NULL;
	long iter = CTL_SCRAM_MIN_ITER;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "f:p:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'i':
			iter = strtol(optarg, &end, 10);
			if (*end || iter < CTL_SCRAM_MIN_ITER || iter > CTL_SCRAM_MAX_ITER) {
				fprintf(stderr, "sluice users: --iterations: %d..%d\n",
					CTL_SCRAM_MIN_ITER, CTL_SCRAM_MAX_ITER);
				return 2;
			}
			break;
		case 'h': users_usage(stdout); return 0;
		default: users_usage(stderr); return 2;
		}
	}
	action = optind < argc ? argv[optind++] : "";
	if (strcmp(action, "list"))
		name = optind < argc ? argv[optind++] : NULL;
	if (!file || optind != argc || (strcmp(action, "list") && !name) ||
	    (strcmp(action, "add") && strcmp(action, "delete") && strcmp(action, "list"))) {
		users_usage(stderr);
		return 2;
	}
	return users_run(action, name, file, pwfile, iter);
}
