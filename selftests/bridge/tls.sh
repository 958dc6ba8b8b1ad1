#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: gochan-bridge over TLS (OpenSSL; Debian 12's hiredis has
# none) to a redis-server that asks for client certificates:
#  1. with the CA that signed the server's certificate and a client
#     certificate (one bridge checks the server's address, the other its
#     name): values sent on one host arrive on the other once each, in
#     order;
#  2. with another CA: a clear error at start ("certificate verify failed");
#  3. with a server name the certificate does not carry: a clear error at
#     start ("hostname mismatch").
# The certificates are made at build time (gen-certs, in tls/).
# Prints TAP; skips without the module or the bridge's guest bundle.

. "$(dirname "$0")/lib.sh"

CERTS=$here/tls
begin 3
TPORT=$((30000 + $$ % 20000))
while netstat -ltn 2>/dev/null | grep -q ":$TPORT "; do
	TPORT=$((TPORT + 1))
done
redis_start --tls-port "$TPORT" --tls-cert-file "$CERTS/server.crt" \
	--tls-key-file "$CERTS/server.key" --tls-ca-cert-file "$CERTS/ca.crt"
host_new A
host_new B

TLS="tls yes
tls-ca $CERTS/ca.crt
tls-cert $CERTS/client.crt
tls-key $CERTS/client.key"

# 1. A -> B, both bridges over TLS.
N=300
mkchan $A t 64 16
mkchan $B t 64 16
conf $tmp/a1.conf "redis tcp://127.0.0.1:$TPORT" "$TLS" "name host-a" \
	"stats-interval 0" "out t s1"
conf $tmp/b1.conf "redis tcp://127.0.0.1:$TPORT" "$TLS" "tls-server-name localhost" \
	"name host-b" "stats-interval 0" "in t s1"
bridge_start $A a1 $tmp/a1.conf; a1=$last
bridge_start $B b1 $tmp/b1.conf; b1=$last
spawn_on $B $PEER recv t $N >$tmp/t1.out; recv=$last
on $A $PEER send t 9 $N
why=
wait_pid 180 $recv || why="the receiver got $(lines $tmp/t1.out) of $N"
[ -z "$why" ] && ! wait_for 60 drained s1 && why="group not drained"
bridge_stop $a1 >/dev/null
bridge_stop $b1 >/dev/null
expect_values 9 $N >$tmp/t1.want
[ -z "$why" ] && ! cmp -s $tmp/t1.out $tmp/t1.want && why="received $(lines $tmp/t1.out) values, not the $N in order"
if [ -z "$why" ]; then
	result OK "over TLS with a client certificate: $N values arrive on the other host once each, in order"
else
	show $tmp/a1.log $tmp/b1.log $tmp/redis.log
	result FAIL "over TLS with a client certificate: $N values arrive on the other host once each, in order" "$why"
fi

# expect_fail NAME TEXT CONF-LINE...: the bridge exits 1 at start, saying TEXT.
expect_fail() {
	_name=$1 _text=$2
	shift 2
	conf $tmp/bad.conf "redis tcp://127.0.0.1:$TPORT" "stats-interval 0" "out t s1" "$@"
	on $A timeout 60 "$BRIDGE" -c $tmp/bad.conf >$tmp/bad.out 2>&1
	_rc=$?
	sed 's/^/# /' $tmp/bad.out
	if [ $_rc -eq 1 ] && grep -q "$_text" $tmp/bad.out; then
		result OK "$_name"
	else
		result FAIL "$_name" "exit status $_rc, want 1 and \"$_text\""
	fi
}

# 2-3. Verification failures are errors at start, not retried for ever.
expect_fail "a server certificate from another CA: clear error at start" \
	"certificate verify failed: self-signed certificate in certificate chain" \
	"tls yes" "tls-ca $CERTS/other-ca.crt" "tls-cert $CERTS/client.crt" \
	"tls-key $CERTS/client.key"
expect_fail "a server name the certificate does not carry: clear error at start" \
	"certificate verify failed: hostname mismatch" \
	"$TLS" "tls-server-name wrong.example"

finish 3
