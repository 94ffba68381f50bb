#!/usr/bin/env bash
# ACLs on the real sluiced (SASL_PLAINTEXT logins, rules made with
# `sluice acls`): admin is a super user; alice may Write and Read topic
# acl-data; bob may Read it and use group g-bob; carol has no rule.
# - alice produces 10 messages; bob's produce fails with
#   TOPIC_AUTHORIZATION_FAILED; carol's fetch fails the same way and her
#   Metadata does not list the topic;
# - bob consumes the 10 in group g-bob (join, sync, heartbeat, commit);
#   in group g-other he gets GROUP_AUTHORIZATION_FAILED;
# - a Deny rule added while sluiced runs wins over alice's Allow.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "no kcat"

users=$work/users
acls=$work/acls
for u in admin alice bob carol; do
	printf '%s-pw\n' "$u" | "$bld/sluice" users add "$u" --file "$users" || fail "users add $u"
done
acl() { "$bld/sluice" acls "$@" --file "$acls" || fail "sluice acls $*"; }
acl add --allow-principal User:alice --operation Write --topic acl-data
acl add --allow-principal User:alice --operation Read --topic acl-
acl remove --allow-principal User:alice --operation Read --topic acl-
acl add --allow-principal User:alice --operation Read --topic acl- --resource-pattern-type prefixed
acl add --allow-principal User:bob --operation Read --topic acl-data
acl add --allow-principal User:bob --operation Read --group g-bob
[ "$("$bld/sluice" acls list --file "$acls" | wc -l)" -eq 4 ] || fail "acls list: $("$bld/sluice" acls list --file "$acls")"
ok "sluice acls: add, remove, list (4 rules)"

cd "$src"
port=$(free_port)
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" --override metrics.listener= \
	--override "listeners=SASL_PLAINTEXT://127.0.0.1:$port" \
	--override "sasl.enabled.mechanisms=PLAIN" --override "sasl.credentials.location=$users" \
	--override "acls.location=$acls" --override "super.users=User:admin" \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
as() {
	echo -b "127.0.0.1:$port" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
		-X "sasl.username=$1" -X "sasl.password=$1-pw"
}

# The super user creates the topic (auto-creation needs Create).
echo first | timeout 60 kcat $(as admin) -P -t acl-data -X acks=all 2>"$work/k.err" ||
	{ cat "$work/k.err"; fail "admin produce"; }
seq 1 10 | timeout 60 kcat $(as alice) -P -t acl-data -X acks=all 2>"$work/k.err" ||
	{ cat "$work/k.err"; fail "alice produce"; }
got=$(timeout 60 kcat $(as alice) -C -t acl-data -o beginning -e -q | wc -l)
[ "$got" -eq 11 ] || fail "alice read $got of 11"
ok "alice (Write, prefixed Read): produced 10, read 11"

seq 1 3 | timeout 60 kcat $(as bob) -P -t acl-data -X acks=all -X message.timeout.ms=5000 \
	>"$work/bob.out" 2>&1
grep -qi "authorization failed" "$work/bob.out" || { cat "$work/bob.out"; fail "bob's produce not refused"; }
got=$(timeout 60 kcat $(as alice) -C -t acl-data -o beginning -e -q | wc -l)
[ "$got" -eq 11 ] || fail "bob's refused produce still wrote ($got messages)"
ok "bob without Write: produce refused (TOPIC_AUTHORIZATION_FAILED), nothing written"

timeout 30 kcat $(as carol) -C -t acl-data -o beginning -e -q >"$work/carol.out" 2>&1
grep -qi "authorization failed" "$work/carol.out" || { cat "$work/carol.out"; fail "carol's fetch not refused"; }
timeout 30 kcat $(as carol) -L >"$work/carol.md" 2>&1 || { cat "$work/carol.md"; fail "carol metadata"; }
grep -q 'topic "acl-data"' "$work/carol.md" && fail "Metadata lists acl-data to carol"
timeout 30 kcat $(as bob) -L >"$work/bob.md" 2>&1
grep -q 'topic "acl-data"' "$work/bob.md" || { cat "$work/bob.md"; fail "Metadata hides acl-data from bob"; }
ok "carol without Read: fetch refused, topic hidden from her Metadata (bob sees it)"

/usr/bin/python3 - "$port" <<'EOF' || fail "group ACLs"
import sys
from kafka import KafkaConsumer
from kafka.errors import GroupAuthorizationFailedError
port = sys.argv[1]
conf = dict(bootstrap_servers=f"127.0.0.1:{port}", security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN", sasl_plain_username="bob", sasl_plain_password="bob-pw",
            auto_offset_reset="earliest", consumer_timeout_ms=10000)
c = KafkaConsumer("acl-data", group_id="g-bob", **conf)
got = [m.value for m in c]
c.commit()
c.close()
assert len(got) == 11, got
print("ok - bob in group g-bob: joined, consumed 11, committed")
c = KafkaConsumer("acl-data", group_id="g-other", **conf)
try:
    list(c)
except GroupAuthorizationFailedError:
    print("ok - bob in group g-other: GROUP_AUTHORIZATION_FAILED")
    sys.exit(0)
sys.exit("bob consumed in a group he has no Read on")
EOF

acl add --deny-principal 'User:*' --operation Write --topic acl-data
sleep 1.5 # the file is checked at most once a second
echo denied | timeout 60 kcat $(as alice) -P -t acl-data -X acks=all -X message.timeout.ms=5000 \
	>"$work/alice.out" 2>&1
grep -qi "authorization failed" "$work/alice.out" || { cat "$work/alice.out"; fail "Deny did not win"; }
grep -q "re-read" "$log" || fail "no line about the re-read ACLs"
ok "Deny User:* Write added while running wins over alice's Allow"
kill -TERM "$pid"; wait "$pid" || { cat "$log"; fail "exit code after SIGTERM"; }
