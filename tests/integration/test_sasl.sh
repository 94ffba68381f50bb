#!/usr/bin/env bash
# SASL on the real sluiced, users made with `sluice users`:
# - sluice users add (stdin and --password-file), list, delete; the file
#   holds no password and is mode 0600;
# - SASL_SSL + SCRAM-SHA-256: kcat produces 30 messages and reads them back;
#   a wrong password is refused with the authentication failure librdkafka
#   reports, counted in sluice_kafka_auth_failures_total{mechanism};
# - SASL_PLAINTEXT next to a PLAINTEXT listener (listed first): each one's
#   Metadata advertises itself; kafka-python with PLAIN and with
#   SCRAM-SHA-512 (the v0 handshake and bare token frames) produces and
#   consumes on the SASL one; a wrong PLAIN
#   password fails; a Metadata request before logging in closes the
#   connection and sluiced keeps serving;
# - after sasl.max.failed.logins.per.minute failures from 127.0.0.1 even the
#   right password is refused (sluice_kafka_auth_refused_total);
# - a user added while sluiced runs can log in (the file is re-read).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v openssl >/dev/null || skip "no openssl CLI"
command -v kcat >/dev/null || skip "no kcat"

pki=$work/pki
tls_pki "$pki"
users=$work/users
printf 'alice-secret\n' | "$bld/sluice" users add alice --file "$users" || fail "users add (stdin)"
printf 'bob-secret\n' >"$work/bob.pw"
"$bld/sluice" users add bob --password-file "$work/bob.pw" --iterations 8192 --file "$users" ||
	fail "users add --password-file"
printf 'x\n' | "$bld/sluice" users add carol --file "$users" || fail "users add carol"
"$bld/sluice" users delete carol --file "$users" || fail "users delete"
! "$bld/sluice" users delete carol --file "$users" 2>/dev/null || fail "deleted carol twice"
list=$("$bld/sluice" users list --file "$users")
[ "$(echo "$list" | grep -c '^alice SCRAM-SHA-\(256\|512\) iterations=4096$')" -eq 2 ] ||
	fail "users list: $list"
echo "$list" | grep -q '^bob SCRAM-SHA-512 iterations=8192$' || fail "users list (bob): $list"
echo "$list" | grep -q carol && fail "carol still listed"
grep -q 'secret' "$users" && fail "a password is in the users file"
[ "$(stat -c %a "$users")" = 600 ] || fail "users file mode $(stat -c %a "$users")"
ok "sluice users: add (stdin, file, --iterations), delete, list; no password stored, mode 0600"

cd "$src"
port=$(free_port)
mport=$(free_port)
n=0
launch() {
	n=$((n + 1))
	log=$work/sluiced.$n.log
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "metrics.listener=127.0.0.1:$mport" \
		--override "ssl.certificate.location=$pki/server.pem" \
		--override "ssl.key.location=$pki/server.key" \
		--override "sasl.credentials.location=$users" \
		"$@" -- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
}
stop() { kill -TERM "$pid"; wait "$pid" || { cat "$log"; fail "exit code after SIGTERM"; }; }
alive() { kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "sluiced died: $*"; }; }
metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

launch --override "listeners=SASL_SSL://127.0.0.1:$port"
scram() {
	echo -X security.protocol=SASL_SSL -X "ssl.ca.location=$pki/ca.pem" \
		-X sasl.mechanisms=SCRAM-SHA-256 -X "sasl.username=$1" -X "sasl.password=$2"
}
seq 1 30 | sed 's/^/sasl-/' | timeout 60 kcat -b "127.0.0.1:$port" $(scram alice alice-secret) \
	-P -t sasl -X acks=all 2>"$work/kcat.err" || { cat "$work/kcat.err"; fail "kcat SCRAM produce"; }
got=$(timeout 60 kcat -b "127.0.0.1:$port" $(scram alice alice-secret) -C -t sasl -o beginning -e -q)
[ "$(echo "$got" | wc -l)" -eq 30 ] && [ "$(echo "$got" | tail -1)" = sasl-30 ] ||
	fail "read back over SASL_SSL: '$got'"
ok "SASL_SSL SCRAM-SHA-256 (kcat): 30 produced, 30 read back"
/usr/bin/python3 - "$port" "$pki/ca.pem" <<'EOF' || fail "kafka-python over SASL_SSL"
import sys
from kafka import KafkaConsumer, KafkaProducer
conf = dict(bootstrap_servers=f"127.0.0.1:{sys.argv[1]}", security_protocol="SASL_SSL",
            ssl_cafile=sys.argv[2], ssl_check_hostname=False, sasl_mechanism="SCRAM-SHA-256",
            sasl_plain_username="alice", sasl_plain_password="alice-secret")
p = KafkaProducer(acks="all", **conf)
for i in range(10):
    p.send("sasl-py", f"py-{i}".encode()).get(timeout=30)
p.close()
c = KafkaConsumer("sasl-py", auto_offset_reset="earliest", consumer_timeout_ms=10000, **conf)
got = [m.value.decode() for m in c]
c.close()
assert got == [f"py-{i}" for i in range(10)], got
print("ok - SASL_SSL SCRAM-SHA-256 (kafka-python): 10 produced, 10 consumed")
EOF

! timeout 30 kcat -b "127.0.0.1:$port" $(scram alice wrong) -L -m 5 >"$work/bad.out" 2>&1 ||
	fail "a wrong password got metadata"
grep -qi "authentication failed\|SASL authentication error" "$work/bad.out" ||
	{ cat "$work/bad.out"; fail "kcat did not report an authentication failure"; }
fails=$(metric 'sluice_kafka_auth_failures_total{mechanism="SCRAM-SHA-256"}')
[ "${fails:-0}" -ge 1 ] || fail "failure not counted (got '${fails:-}')"
alive "after a failed login"
ok "wrong password: kcat reports the authentication failure; counted ($fails)"
stop

pport=$(free_port)
launch --override "listeners=PLAINTEXT://127.0.0.1:$pport,SASL_PLAINTEXT://127.0.0.1:$port" \
	--override "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" \
	--override sasl.max.failed.logins.per.minute=3
timeout 30 kcat -b "127.0.0.1:$pport" -L -m 10 2>&1 | grep -q "at 127.0.0.1:$pport" ||
	fail "the PLAINTEXT listener does not advertise itself"
timeout 30 kcat -b "127.0.0.1:$port" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
	-X sasl.username=alice -X sasl.password=alice-secret -L -m 10 2>&1 |
	grep -q "at 127.0.0.1:$port" || fail "the SASL listener does not advertise itself"
ok "two listeners: Metadata on each advertises that listener"
/usr/bin/python3 - "$port" <<'EOF' || fail "kafka-python over SASL_PLAINTEXT"
import socket, struct, sys
from kafka import KafkaConsumer, KafkaProducer
port = sys.argv[1]
def sasl(mech, user, pw):
    return dict(bootstrap_servers=f"127.0.0.1:{port}", security_protocol="SASL_PLAINTEXT",
                sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=pw)
for mech, user, pw, topic in (("PLAIN", "alice", "alice-secret", "plain"),
                              ("SCRAM-SHA-512", "bob", "bob-secret", "scram512")):
    p = KafkaProducer(acks="all", **sasl(mech, user, pw))
    for i in range(10):
        p.send(topic, f"{mech}-{i}".encode()).get(timeout=30)
    p.close()
    c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=10000,
                      **sasl(mech, user, pw))
    got = [m.value.decode() for m in c]
    c.close()
    assert got == [f"{mech}-{i}" for i in range(10)], (mech, got)
    print(f"ok - kafka-python {mech}: 10 produced, 10 consumed")
# Metadata v1 before any login: the connection is closed, nothing answered.
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
body = struct.pack(">hhih", 3, 1, 7, 2) + b"py" + struct.pack(">i", -1)
s.sendall(struct.pack(">i", len(body)) + body)
assert s.recv(100) == b"", "a request before the login was answered"
print("ok - Metadata before a login: connection closed")
EOF
alive "after a request before the login"

/usr/bin/python3 - "$port" <<'EOF' || fail "a wrong PLAIN password was accepted"
import sys
from kafka import KafkaProducer
try:
    KafkaProducer(bootstrap_servers=f"127.0.0.1:{sys.argv[1]}", security_protocol="SASL_PLAINTEXT",
                  sasl_mechanism="PLAIN", sasl_plain_username="alice",
                  sasl_plain_password="nope", request_timeout_ms=5000, api_version_auto_timeout_ms=5000,
                  max_block_ms=5000).send("plain", b"x").get(timeout=10)
except Exception as e:
    print(f"ok - wrong PLAIN password refused ({type(e).__name__})")
    sys.exit(0)
sys.exit(1)
EOF
plain_fails=$(metric 'sluice_kafka_auth_failures_total{mechanism="PLAIN"}')
[ "${plain_fails:-0}" -ge 1 ] || fail "PLAIN failure not counted"

# Past 3 failures from 127.0.0.1 this minute: even the right password is refused.
for i in 1 2 3; do
	timeout 20 kcat -b "127.0.0.1:$port" -X security.protocol=SASL_PLAINTEXT \
		-X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice -X sasl.password=bad \
		-L -m 3 >/dev/null 2>&1
done
! timeout 20 kcat -b "127.0.0.1:$port" -X security.protocol=SASL_PLAINTEXT \
	-X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice -X sasl.password=alice-secret \
	-L -m 5 >"$work/limited.out" 2>&1 || fail "the right password got through past the limit"
grep -q "too many failed logins" "$work/limited.out" || { cat "$work/limited.out"; fail "no reason given"; }
refused=$(metric sluice_kafka_auth_refused_total)
[ "${refused:-0}" -ge 1 ] || fail "refusal not counted"
alive "after the rate limit"
ok "rate limit: past 3 failures a minute the right password is refused too ($refused refused)"
stop

# A user added while sluiced runs (and no limit in the way).
launch --override "listeners=SASL_PLAINTEXT://127.0.0.1:$port" \
	--override sasl.max.failed.logins.per.minute=0
printf 'dave-secret\n' | "$bld/sluice" users add dave --file "$users" || fail "users add dave"
timeout 30 kcat -b "127.0.0.1:$port" -X security.protocol=SASL_PLAINTEXT \
	-X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=dave -X sasl.password=dave-secret \
	-L -m 10 >"$work/dave.out" 2>&1 || { cat "$work/dave.out"; fail "dave refused after users add"; }
grep -q "re-read" "$log" || fail "no line about the re-read credentials"
ok "a user added while sluiced runs logs in (credentials re-read)"
stop
