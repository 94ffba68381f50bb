# Shared helpers for the integration tests (sourced, not run).
# SLUICE_SOURCE_ROOT / SLUICE_BUILD_ROOT come from meson's test environment.
set -u
src=${SLUICE_SOURCE_ROOT:?run through meson test}
bld=${SLUICE_BUILD_ROOT:?run through meson test}
work=$(mktemp -d /tmp/sluice-it.XXXXXX)
trap 'cleanup' EXIT
pids=()
rundirs=()   # DPDK runtime directories of processes a test started itself

cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work" "/var/run/dpdk/sluice-test-$$" "${rundirs[@]}"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
ok() { echo "ok - $*"; }

# DPDK flags for tests: hugepages if free, else --no-huge (the daemon adapts
# its memory options to it), and an EAL file prefix of this test's own so
# that tests running side by side never share a runtime directory.
eal_test_args() {
	local free
	free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
	if [ "${free:-0}" -ge 64 ]; then echo "--file-prefix=sluice-test-$$"; else
		echo "--no-huge --file-prefix=sluice-test-$$"; fi
}

# free_port [tcp|udp]: a port nothing listens on now, on 127.0.0.1.
free_port() {
	local t=SOCK_STREAM
	[ "${1:-tcp}" = udp ] && t=SOCK_DGRAM
	/usr/bin/python3 -c 'import socket, sys; s = socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$t"
}

# tap_up IFACE NET: the Linux side of a sluiced net_tap port: NET.1/24 on
# IFACE, and NET.2 (the appliance's address) reachable through it.
tap_up() {
	ip addr add "$2.1/24" dev "$1" && ip link set "$1" up &&
		ip neigh replace "$2.2" lladdr 02:00:00:00:00:02 dev "$1" nud permanent ||
		fail "configuring $1"
}

# wait_for FILE PATTERN SECONDS: wait until PATTERN appears in FILE.
wait_for() {
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# tls_pki DIR: certificates made with the openssl CLI, for TLS tests: a CA
# (ca), a server cert for 127.0.0.1/localhost (server), a client cert
# (client, CN=client), a second client cert of the same CA (other,
# CN=other), a second CA sluiced does not trust (rogue) with a client
# cert it signed (intruder), and a client cert of the CA that expired a day
# ago (expired).  NAME.pem + NAME.key each.
tls_pki() {
	local d=$1
	mkdir -p "$d"
	_gen() { openssl "$@" >>"$d/openssl.log" 2>&1 || { cat "$d/openssl.log"; fail "openssl $1"; }; }
	_ca() { _gen req -x509 -newkey rsa:2048 -nodes -keyout "$d/$1.key" -out "$d/$1.pem" -days 2 -subj "/CN=$1"; }
	_cert() {
		_gen req -newkey rsa:2048 -nodes -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$1"
		if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\n' "$3" >"$d/$1.ext"; else : >"$d/$1.ext"; fi
		_gen x509 -req -in "$d/$1.csr" -CA "$d/$2.pem" -CAkey "$d/$2.key" -CAcreateserial \
			-out "$d/$1.pem" -days "${4:-2}" -extfile "$d/$1.ext"
	}
	_ca ca
	_ca rogue
	_cert server ca "IP:127.0.0.1,DNS:localhost"
	_cert client ca
	_cert other ca
	_cert intruder rogue
	_cert expired ca "" -1
}
