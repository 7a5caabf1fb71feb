#!/bin/sh
# tokenctl soft create + soft serve, driven by libfido2 clients over the
# UNIX SOCK_SEQPACKET socket: tokenctl itself, and a small independent
# libfido2 client compiled here (fido_dev_set_io_functions over the socket,
# no breakglass code) that can hold a connection open and print the sign
# counter.  Checks: the socket and state are 0600, a second concurrent
# client is turned away with CHANNEL_BUSY at once (and tokenctl says the
# token is busy with another program, not lost), malformed packets are
# dropped, SIGTERM exits 0 and removes the socket, and the state (PIN,
# credentials, counter) survives a restart.
set -eu

: "${BG_BUILD:?BG_BUILD must name the build directory}"
TOKENCTL=$BG_BUILD/tokenctl
CC=${CC_E2E:-cc}

T=$(mktemp -d "${TMPDIR:-/tmp}/bg-soft-serve.XXXXXX")
PID=
HOLD=
cleanup() {
	[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null || true
	[ -n "$PID" ] && kill "$PID" 2>/dev/null || true
	[ -n "$HOLD" ] && wait "$HOLD" 2>/dev/null || true
	[ -n "$PID" ] && wait "$PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/serve.log "$T"/out "$T"/err; do
		[ -f "$f" ] && { echo "--- $f:" >&2; cat "$f" >&2; }
	done
	exit 1
}

mode_of() {
	stat -c %a "$1"
}

start() {
	# empty the log first: the ready line must be this daemon's
	: >"$T/serve.log"
	"$TOKENCTL" soft serve --state "$T/st" --socket "$T/s" "$@" \
	    2>"$T/serve.log" &
	PID=$!
	i=0
	while ! grep -q "^soft token ready on unix:$T/s\$" "$T/serve.log"; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "daemon did not become ready"
		kill -0 "$PID" 2>/dev/null || fail "daemon exited early"
		sleep 0.01
	done
}

stop() {
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	PID=
	[ "$rc" -eq 0 ] || fail "daemon exited $rc on SIGTERM"
	[ ! -e "$T/s" ] || fail "socket file left behind"
}

# --- the independent client ----------------------------------------------
cat >"$T/client.c" <<'EOF'
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fido.h>
#include <fido/es256.h>

static void *
x_open(const char *path)
{
	struct sockaddr_un sa;
	int *fd = malloc(sizeof(*fd));

	if (fd == NULL || strlen(path) >= sizeof(sa.sun_path))
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	*fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (*fd < 0 || connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return NULL;
	return fd;
}
static void x_close(void *h) { close(*(int *)h); free(h); }
static int
x_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct pollfd p = { *(int *)h, POLLIN, 0 };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return (int)recv(*(int *)h, buf, len, 0);
}
static int
x_write(void *h, const unsigned char *buf, size_t len)
{
	/* drop libfido2's report-id byte: the socket carries raw reports */
	if (send(*(int *)h, buf + 1, len - 1, 0) != (ssize_t)(len - 1))
		return -1;
	return (int)len;
}
static const fido_dev_io_t io = { x_open, x_close, x_read, x_write };

static const unsigned char cdh[32] = { 1, 2, 3 };

/* junk, then INIT by hand: the junk is dropped, INIT answered */
static int
raw(const char *path)
{
	unsigned char rep[64] = { 0xff, 0xff, 0xff, 0xff, 0x86, 0, 8,
	    '1', '2', '3', '4', '5', '6', '7', '8' }, in[100];
	int *fd = x_open(path);

	if (fd == NULL || send(*fd, "short", 5, 0) != 5 ||
	    send(*fd, rep, 64, 0) != 64 ||
	    x_read(fd, in, sizeof(in), 3000) != 64 || in[4] != 0x86 ||
	    memcmp(in + 7, "12345678", 8) != 0) /* public: test nonce */
		return 1;
	x_close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	fido_dev_t *dev;
	fido_cred_t *c;
	fido_assert_t *a;
	es256_pk_t *pk;
	unsigned char buf[600];
	FILE *f;
	size_t n, idlen;
	int r;

	if (argc < 3)
		return 2;
	if (strcmp(argv[2], "raw") == 0)
		return raw(argv[1]);
	fido_init(0);
	dev = fido_dev_new();
	fido_dev_set_io_functions(dev, &io);
	fido_dev_set_timeout(dev, 5000);
	if ((r = fido_dev_open(dev, argv[1])) != FIDO_OK) {
		fprintf(stderr, "open: %s\n", fido_strerr(r));
		return 1;
	}
	if (strcmp(argv[2], "hold") == 0) {
		printf("holding\n");
		fflush(stdout);
		pause();
	} else if (strcmp(argv[2], "enroll") == 0) {
		c = fido_cred_new();
		fido_cred_set_type(c, COSE_ES256);
		fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh));
		fido_cred_set_rp(c, "e2e.example", NULL);
		fido_cred_set_user(c, cdh, 8, "e2e", NULL, NULL);
		if ((r = fido_dev_make_cred(dev, c, NULL)) != FIDO_OK ||
		    (r = fido_cred_verify_self(c)) != FIDO_OK) {
			fprintf(stderr, "enroll: %s\n", fido_strerr(r));
			return 1;
		}
		idlen = fido_cred_id_len(c);
		f = fopen(argv[3], "wb");
		fputc((int)idlen, f); fputc((int)(idlen >> 8), f);
		fwrite(fido_cred_id_ptr(c), 1, idlen, f);
		fwrite(fido_cred_pubkey_ptr(c), 1, 64, f);
		fclose(f);
		printf("enrolled\n");
	} else if (strcmp(argv[2], "assert") == 0) {
		f = fopen(argv[3], "rb");
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		idlen = (size_t)buf[0] | (size_t)buf[1] << 8;
		if (n != 2 + idlen + 64)
			return 2;
		a = fido_assert_new();
		fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh));
		fido_assert_set_rp(a, "e2e.example");
		fido_assert_allow_cred(a, buf + 2, idlen);
		pk = es256_pk_new();
		es256_pk_from_ptr(pk, buf + 2 + idlen, 64);
		if ((r = fido_dev_get_assert(dev, a, NULL)) != FIDO_OK ||
		    (r = fido_assert_verify(a, 0, COSE_ES256, pk)) != FIDO_OK) {
			fprintf(stderr, "assert: %s\n", fido_strerr(r));
			return 1;
		}
		printf("counter %u\n", fido_assert_sigcount(a, 0));
	} else
		return 2;
	fido_dev_close(dev);
	fido_dev_free(&dev);
	return 0;
}
EOF
# shellcheck disable=SC2046
$CC -o "$T/client" "$T/client.c" $(pkg-config --cflags --libs libfido2) ||
    fail "cannot build the test client"

# --- create ----------------------------------------------------------------
"$TOKENCTL" soft create --state "$T/st" || fail "soft create"
[ "$(mode_of "$T/st")" = 600 ] || fail "state mode $(mode_of "$T/st")"
rc=0
"$TOKENCTL" soft create --state "$T/st" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "soft create overwrote an existing state"
grep -q '^tokenctl: .*exists' "$T/err" || fail "no 'exists' message"

# refusals before serving
chmod 644 "$T/st"
rc=0
"$TOKENCTL" soft serve --state "$T/st" --socket "$T/s" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "served a world-readable state"
grep -q '^tokenctl: .*mode 0644' "$T/err" || fail "no mode message"
chmod 600 "$T/st"
rc=0
"$TOKENCTL" soft serve --state "$T/missing" --socket "$T/s" 2>"$T/err" ||
    rc=$?
[ "$rc" -ne 0 ] || fail "served a missing state"
grep -q '^tokenctl: no token state' "$T/err" || fail "no missing message"
: >"$T/notsock"
rc=0
"$TOKENCTL" soft serve --state "$T/st" --socket "$T/notsock" 2>"$T/err" ||
    rc=$?
[ "$rc" -ne 0 ] || fail "replaced a file that is not a socket"
grep -q 'not a socket' "$T/err" || fail "no 'not a socket' message"
[ -f "$T/notsock" ] || fail "removed a file that is not a socket"

# --- serve -----------------------------------------------------------------
start
[ "$(mode_of "$T/s")" = 600 ] || fail "socket mode $(mode_of "$T/s")"
"$TOKENCTL" info --token "unix:$T/s" >"$T/out" 2>"$T/err" ||
    fail "tokenctl info over the socket"
grep -q 'software token' "$T/out" || fail "info does not mark a soft token"
"$T/client" "$T/s" enroll "$T/cred" >"$T/out" 2>"$T/err" || fail "enroll"
"$T/client" "$T/s" assert "$T/cred" >"$T/out" 2>"$T/err" || fail "assert 1"
c1=$(sed -n 's/^counter //p' "$T/out")
"$T/client" "$T/s" assert "$T/cred" >"$T/out" 2>"$T/err" || fail "assert 2"
c2=$(sed -n 's/^counter //p' "$T/out")
[ "$c2" -gt "$c1" ] || fail "counter $c1 then $c2"

# a second client while one holds the token: refused at once, not hung
"$T/client" "$T/s" hold >"$T/hold.out" 2>&1 &
HOLD=$!
i=0
while ! grep -q holding "$T/hold.out"; do
	i=$((i + 1))
	[ $i -lt 500 ] || fail "holding client did not connect"
	sleep 0.01
done
t0=$(date +%s)
rc=0
"$T/client" "$T/s" assert "$T/cred" >"$T/out" 2>"$T/err" || rc=$?
t1=$(date +%s)
[ "$rc" -ne 0 ] || fail "a second client was served concurrently"
[ $((t1 - t0)) -lt 4 ] || fail "the busy client waited $((t1 - t0)) s"
rc=0
"$TOKENCTL" info --token "unix:$T/s" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "tokenctl info served while busy"
# CHANNEL_BUSY is not a lost token: the message says who has it
grep -q 'busy with another program' "$T/err" ||
    fail "busy token not reported as busy"
grep -q 'lost contact' "$T/err" && fail "busy token reported as lost"
kill "$HOLD"
wait "$HOLD" 2>/dev/null || true
HOLD=
# the holder is gone: the next client is served (a fresh power cycle)
"$T/client" "$T/s" assert "$T/cred" >"$T/out" 2>"$T/err" ||
    fail "assert after the holder left"

# packets that are not 64 bytes are dropped with a log line
"$T/client" "$T/s" raw >"$T/out" 2>"$T/err" || fail "raw INIT after junk"
grep -q 'dropped a packet of 5 bytes' "$T/serve.log" ||
    fail "short packet not logged"

stop
[ "$(mode_of "$T/st")" = 600 ] || fail "state mode after saves"
ls -a "$T" | grep -q '^\.bg-soft-state' && fail "temporary state file left"

# --- restart: same token, counter keeps increasing -----------------------
start
"$T/client" "$T/s" assert "$T/cred" >"$T/out" 2>"$T/err" ||
    fail "assert after restart"
c3=$(sed -n 's/^counter //p' "$T/out")
[ "$c3" -gt "$c2" ] || fail "counter went from $c2 to $c3 over a restart"
# a stale socket (daemon killed hard) is replaced; a live one is not
rc=0
"$TOKENCTL" soft serve --state "$T/st" --socket "$T/s" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a second daemon took over a live socket"
grep -q 'another process' "$T/err" || fail "no 'another process' message"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
PID=
[ -S "$T/s" ] || fail "expected a stale socket"
start
stop
echo "soft_serve: ok"
