#!/usr/bin/env bash
# TLS on an SSL:// listener of the real sluiced, with certificates made here
# by the openssl CLI (a CA, a server cert for 127.0.0.1, a client cert, and
# a second "rogue" CA that sluiced does not trust):
# - kcat (librdkafka, security.protocol=SSL) produces 50 messages and reads
#   all 50 back, with a client certificate (ssl.client.auth=requested);
# - kafka-python (security_protocol='SSL') produces and consumes;
# - a fetch larger than one TLS record / bounce buffer reads back intact;
# - a plaintext client on the TLS port gets an error, the handshake failure
#   is counted (sluice_kafka_tls_handshake_failures_total) and sluiced keeps
#   serving;
# - a client trusting only the rogue CA refuses sluiced's certificate;
#   a client certificate signed by the rogue CA is refused by sluiced;
# - with ssl.client.auth=required a client without a certificate is
#   refused and one with a good certificate is served;
# - the certificate names the principal for ACLs: User:CN=client may read
#   topic tls, User:CN=other (same CA) gets TOPIC_AUTHORIZATION_FAILED;
# - an SSL listener without ssl.key.location stops the start naming the key.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v openssl >/dev/null || skip "no openssl CLI"
command -v kcat >/dev/null || skip "no kcat"

pki=$work/pki
tls_pki "$pki"
ok "certificates made (CA, server, client; rogue CA and a client cert it signed)"

cd "$src"
port=$(free_port)
mport=$(free_port)
n=0
launch() {
	n=$((n + 1))
	log=$work/sluiced.$n.log
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=SSL://127.0.0.1:$port" \
		--override "metrics.listener=127.0.0.1:$mport" \
		--override "ssl.certificate.location=$pki/server.pem" \
		--override "ssl.key.location=$pki/server.key" \
		--override "ssl.ca.location=$pki/ca.pem" \
		"$@" -- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
}
start() {
	launch "$@"
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
}
stop() { kill -TERM "$pid"; wait "$pid" || { cat "$log"; fail "exit code after SIGTERM"; }; }
alive() { kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "sluiced died: $*"; }; }

tls=(-X security.protocol=SSL -X "ssl.ca.location=$pki/ca.pem")
mine=(-X "ssl.certificate.location=$pki/client.pem" -X "ssl.key.location=$pki/client.key")
# refused ARGS...: a metadata request that must fail
refused() { ! timeout 30 kcat -b "127.0.0.1:$port" -L -m 5 "$@" >"$work/refused.out" 2>&1; }

start --override ssl.client.auth=requested
ok "sluiced up with SSL://127.0.0.1:$port (ssl.client.auth=requested)"

seq 1 50 | sed 's/^/tls-/' | timeout 60 kcat -b "127.0.0.1:$port" "${tls[@]}" "${mine[@]}" \
	-P -t tls -X acks=all 2>"$work/kcat.err" || { cat "$work/kcat.err"; fail "kcat SSL produce"; }
got=$(timeout 60 kcat -b "127.0.0.1:$port" "${tls[@]}" "${mine[@]}" -C -t tls -o beginning -e -q)
[ "$(echo "$got" | wc -l)" -eq 50 ] || fail "read back $(echo "$got" | wc -l) of 50 over TLS"
[ "$(echo "$got" | tail -1)" = tls-50 ] || fail "last message over TLS: '$(echo "$got" | tail -1)'"
ok "kcat over TLS with a client certificate: 50 produced, 50 read back in order"

# A fetch bigger than the 64 KiB bounce buffer and many TLS records.
head -c 300000 /dev/urandom | base64 -w 0 >"$work/big.txt"
timeout 60 kcat -b "127.0.0.1:$port" "${tls[@]}" -P -t big -X acks=all \
	"$work/big.txt" 2>"$work/kcat.err" || { cat "$work/kcat.err"; fail "kcat SSL produce big"; }
timeout 60 kcat -b "127.0.0.1:$port" "${tls[@]}" -C -t big -o beginning -c 1 -e -q -f '%s' \
	>"$work/big.out" || fail "kcat SSL consume big"
cmp -s "$work/big.txt" "$work/big.out" || fail "a 400 kB message came back different over TLS"
ok "a 400 kB message read back byte for byte over TLS"

/usr/bin/python3 - "$port" "$pki" <<'EOF' || fail "kafka-python over TLS"
import sys
from kafka import KafkaConsumer, KafkaProducer
port, pki = sys.argv[1], sys.argv[2]
ssl = dict(bootstrap_servers=f"127.0.0.1:{port}", security_protocol="SSL",
           ssl_cafile=f"{pki}/ca.pem", ssl_certfile=f"{pki}/client.pem",
           ssl_keyfile=f"{pki}/client.key")
p = KafkaProducer(acks="all", **ssl)
for i in range(20):
    p.send("pytls", f"py-{i}".encode()).get(timeout=30)
p.close()
c = KafkaConsumer("pytls", auto_offset_reset="earliest", consumer_timeout_ms=10000, **ssl)
got = [m.value.decode() for m in c]
c.close()
assert got == [f"py-{i}" for i in range(20)], got
EOF
ok "kafka-python over TLS: 20 produced, the same 20 consumed"

refused || fail "a plaintext client got metadata from the TLS port"
alive "after a plaintext client"
timeout 30 kcat -b "127.0.0.1:$port" "${tls[@]}" -L -m 10 >/dev/null 2>&1 ||
	fail "TLS client refused after a plaintext one"
fails=$(curl -sf "http://127.0.0.1:$mport/metrics" | awk '$1 == "sluice_kafka_tls_handshake_failures_total" {print $2}')
[ "${fails:-0}" -ge 1 ] || fail "plaintext client not counted as a handshake failure (got '${fails:-}')"
ok "plaintext client on the TLS port: refused, counted ($fails), sluiced still serves TLS"

refused -X security.protocol=SSL -X "ssl.ca.location=$pki/rogue.pem" ||
	fail "a client trusting only another CA accepted sluiced's certificate"
grep -qi "certificate verify failed\|ssl handshake failed" "$work/refused.out" ||
	{ cat "$work/refused.out"; fail "the client did not report a certificate failure"; }
refused "${tls[@]}" -X "ssl.certificate.location=$pki/intruder.pem" \
	-X "ssl.key.location=$pki/intruder.key" ||
	fail "a client certificate signed by an untrusted CA was accepted"
refused "${tls[@]}" -X "ssl.certificate.location=$pki/expired.pem" \
	-X "ssl.key.location=$pki/expired.key" ||
	fail "an expired client certificate was accepted"
alive "after untrusted certificates"
ok "untrusted CA refused both ways, an expired client certificate refused (ssl.client.auth=requested)"
stop

"$bld/sluice" acls add --file "$work/acls" --allow-principal User:CN=client --operation Read \
	--topic tls || fail "sluice acls add"
start --override ssl.client.auth=required --override "acls.location=$work/acls"
refused "${tls[@]}" || fail "ssl.client.auth=required served a client without a certificate"
timeout 30 kcat -b "127.0.0.1:$port" "${tls[@]}" "${mine[@]}" -C -t tls -o beginning -e -q \
	>"$work/req.out" 2>&1 || { cat "$work/req.out"; fail "client with a certificate refused"; }
[ "$(wc -l <"$work/req.out")" -eq 50 ] || fail "required: read $(wc -l <"$work/req.out") of 50"
ok "ssl.client.auth=required: no certificate refused, a CA-signed one reads all 50"
timeout 30 kcat -b "127.0.0.1:$port" "${tls[@]}" -X "ssl.certificate.location=$pki/other.pem" \
	-X "ssl.key.location=$pki/other.key" -C -t tls -o beginning -e -q >"$work/other.out" 2>&1
grep -qi "authorization failed" "$work/other.out" || { cat "$work/other.out"; fail "CN=other read topic tls"; }
ok "ACLs by certificate: User:CN=client reads, User:CN=other is refused (TOPIC_AUTHORIZATION_FAILED)"
stop

start --override "listeners=EXTERNAL://127.0.0.1:$port" \
	--override "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:SSL"
timeout 30 kcat -b "127.0.0.1:$port" "${tls[@]}" -L -m 10 >"$work/ext.out" 2>&1 &&
	grep -q "at 127.0.0.1:$port" "$work/ext.out" || { cat "$work/ext.out"; fail "EXTERNAL (SSL) listener"; }
refused || fail "plaintext served on a listener the map makes SSL"
stop
ok "listener.security.protocol.map: EXTERNAL://... mapped to SSL serves TLS only"

launch --override ssl.key.location=
wait "$pid"; rc=$?
[ $rc -ne 0 ] || fail "sluiced started an SSL listener without a key"
grep -q "ssl.key.location is not set" "$log" || { cat "$log"; fail "no line naming ssl.key.location"; }
ok "SSL listener without ssl.key.location: start refused (exit $rc) naming the key"
