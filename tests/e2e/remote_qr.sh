#!/bin/sh
# Remote approval by QR code only (issue 13, Transport): alice's card and
# the request packets reach the approvers' machines, and the approval and
# the denial come back, as PNG images of QR parts and nothing else; each kind (card,
# request, approval, denial) is also read back by a second, independent
# reader (zbarimg and a base45 decoder in Python) and compared byte for
# byte; parts missing, mixed or not ours are refused with one line.
. "$(dirname "$0")/lib.sh"
bg_setup

command -v zbarimg >/dev/null ||
    fail "zbarimg (Debian zbar-tools) is needed: scripts/install-deps"

# away NAME ARGS...: tokenctl on NAME's own machine (remote_approval.sh).
away() {
	_n=$1; shift
	mkdir -p "$T/$_n-machine/home"
	RC=0
	( cd "$T/$_n-machine" && unset BREAKGLASS_VAULT XDG_STATE_HOME \
	    XDG_DATA_HOME && HOME=$T/$_n-machine/home \
	    "$TOKENCTL_BIN" "$@" ) >"$T/out" 2>"$T/err" </dev/null || RC=$?
}

# same_by_zbarimg DIR FILE: zbarimg reads every image of DIR; the parts,
# joined by this independent decoder, are FILE's bytes.
same_by_zbarimg() {
	for f in "$1"/*.png; do
		# QR codes only: with every symbology on, zbarimg may also
		# "find" a DataBar code in a QR code's modules
		zbarimg --raw -q --nodbus -Sdisable -Sqrcode.enable "$f" \
		    >"$T/zbar.one" 2>"$T/zbar.err" ||
		    fail "zbarimg cannot read $f: $(cat "$T/zbar.err")"
		[ "$(wc -l <"$T/zbar.one")" -eq 1 ] ||
		    fail "zbarimg reads more than one code from $f"
		cat "$T/zbar.one"
	done >"$T/zbar.txt"
	python3 - "$T/zbar.txt" "$2" <<'PY' || fail "zbarimg's parts of $1 are not $2"
import hashlib, re, sys
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
def b45(s):
    out = bytearray()
    for i in range(0, len(s), 3):
        c = [A.index(x) for x in s[i:i + 3]]
        v = sum(x * 45 ** j for j, x in enumerate(c))
        out += v.to_bytes(2 if len(c) == 3 else 1, "big")
    return bytes(out)
parts = {}
for line in open(sys.argv[1]).read().split("\n"):
    if not line:
        continue
    m = re.fullmatch(r"BG1/([1-9][0-9]*)/([1-9][0-9]*)/([0-9A-F]{16})/(.+)", line)
    if not m:
        sys.exit("not a part: %r" % line[:40])
    parts[int(m.group(1))] = (int(m.group(2)), m.group(3), b45(m.group(4)))
ns = {p[0] for p in parts.values()}
ids = {p[1] for p in parts.values()}
assert len(ns) == 1 and len(ids) == 1, "parts of several packets"
n = ns.pop()
assert sorted(parts) == list(range(1, n + 1)), "parts missing"
assert all(len(parts[k][2]) == 600 for k in range(1, n)), "part size"
whole = b"".join(parts[k][2] for k in range(1, n + 1))
want = open(sys.argv[2], "rb").read()
assert whole == want, "joined bytes differ"
assert hashlib.sha256(whole).hexdigest()[:16].upper() == ids.pop(), "id"
print("%s: %d bytes in %d QR parts of at most 600 bytes" % (sys.argv[2].rsplit("/", 1)[-1], len(whole), n))
PY
}

step "standard vault; alice's and bob's cards as files and as QR codes"
std_vault
for p in alice bob; do
	as $p vault packet card acme --out "$T/$p.card" --out-qr "$T/$p-card-qr"
	ok
	expect_out "QR codes written to $T/$p-card-qr"
done
same_by_zbarimg "$T/alice-card-qr" "$T/alice.card"

step "request; packets for alice and bob as QR images only"
new_request
for p in alice bob; do
	as tom vault packet export "$REQ" --for $p --out "$T/$p.req" \
	    --out-qr "$T/$p-req-qr"
	ok
	expect_out "QR codes written to $T/$p-req-qr"
	expect_out "at most 600 bytes a part"
done
same_by_zbarimg "$T/alice-req-qr" "$T/alice.req"
n=$(ls "$T/alice-req-qr" | wc -l)
[ "$n" -gt 1 ] || fail "the request packet is not multi-part ($n)"
ls "$T/alice-req-qr" | grep -q "^part-01-of-$n.png$" || fail "part names"
# only the images travel
# (alice's card too: bob's goes as a file)
for p in alice bob; do
	mkdir -p "$T/$p-machine"
	mv "$T/$p-req-qr" "$T/$p-machine/req-qr"
	rm "$T/$p.req"
done
mv "$T/alice-card-qr" "$T/alice-machine/card-qr"
cp "$T/alice.card" "$T/alice-machine/alice.card"	# for the refusals below
cp "$T/bob.card" "$T/bob-machine/bob.card"
as tom vault packet export "$REQ" --for alice --out "$T/x.req" \
    --out-qr "$T/alice-machine/req-qr"
refused 1 "is not empty; refusing to mix two packets' images in it"

step "refused: a part missing, parts of two packets, an image with no code"
cp -r "$T/alice-machine/req-qr" "$T/alice-machine/bad-qr"
rm "$T/alice-machine/bad-qr/part-02-of-$n.png"
away alice approve --card "$T/alice-machine/alice.card" \
    --packet-qr "$T/alice-machine/bad-qr" --out "$T/x.appr" \
    --token "$(token alice)" --pin-file "$T/alice.pin"
expect_rc 1; expect_err "part 2 of $n of packet"; expect_err "is missing"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line"
cp "$T/bob-machine/req-qr"/part-02-of-*.png \
    "$T/alice-machine/bad-qr/part-02-of-$n.png"
away alice approve --card "$T/alice-machine/alice.card" \
    --packet-qr "$T/alice-machine/bad-qr" --out "$T/x.appr" \
    --token "$(token alice)" --pin-file "$T/alice.pin"
expect_rc 1; expect_err "is part of another packet"
rm -r "$T/alice-machine/bad-qr"; mkdir "$T/alice-machine/bad-qr"
python3 -c 'import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
w = 64
raw = b"".join(b"\0" + b"\xff" * w for _ in range(w))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" +
    chunk(b"IHDR", struct.pack(">IIBBBBB", w, w, 8, 0, 0, 0, 0)) +
    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))' \
    >"$T/alice-machine/bad-qr/blank.png"
away alice approve --card "$T/alice-machine/alice.card" \
    --packet-qr "$T/alice-machine/bad-qr" --out "$T/x.appr" \
    --token "$(token alice)" --pin-file "$T/alice.pin"
expect_rc 1; expect_err "no QR code found in"
printf 'not an image\n' >"$T/alice-machine/bad-qr/blank.png"
away alice approve --card "$T/alice-machine/alice.card" \
    --packet-qr "$T/alice-machine/bad-qr" --out "$T/x.appr" \
    --token "$(token alice)" --pin-file "$T/alice.pin"
expect_rc 1; expect_err "blank.png is not a readable PNG image"
[ ! -e "$T/x.appr" ] || fail "an approval was written"
# a request packet's images given as the card
away alice approve --card-qr "$T/alice-machine/req-qr" \
    --packet-qr "$T/alice-machine/req-qr" --out "$T/x.appr" \
    --token "$(token alice)" --pin-file "$T/alice.pin"
expect_rc 1; expect_err "the card $T/alice-machine/req-qr: "
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line"
# both a card file and card images
away alice approve --card "$T/alice-machine/alice.card" \
    --card-qr "$T/alice-machine/req-qr" \
    --packet-qr "$T/alice-machine/req-qr" --out "$T/x.appr" \
    --token "$(token alice)" --pin-file "$T/alice.pin"
expect_rc 2

step "alice approves from the images; her approval goes back as images"
rm "$T/alice-machine/alice.card"
away alice approve --card-qr "$T/alice-machine/card-qr" \
    --packet-qr "$T/alice-machine/req-qr" --out "$T/alice-machine/a.appr" \
    --out-qr "$T/alice-machine/appr-qr" --show-qr \
    --token "$(token alice)" --pin-file "$T/alice.pin"
ok
expect_err "alice, you are asked to APPROVE"
expect_out "approval of request $REQ written"
expect_out "vault packet import --qr $T/alice-machine/appr-qr"
expect_out "QR part 1 of"
grep -q "$(printf '\342\226\200')" "$T/out" || fail "no half blocks printed"
same_by_zbarimg "$T/alice-machine/appr-qr" "$T/alice-machine/a.appr"
mv "$T/alice-machine/appr-qr" "$T/alice-appr-qr"
run vault packet import --qr "$T/alice-appr-qr"; ok
expect_out "request $REQ approved"
expect_event approve '"remote": true'
run vault packet import --qr "$T/alice-appr-qr"
refused 1 "already"

step "bob denies from the images; the denial goes back as images"
away bob deny --card "$T/bob-machine/bob.card" \
    --packet-qr "$T/bob-machine/req-qr" --out "$T/bob-machine/b.deny" \
    --out-qr "$T/bob-machine/deny-qr" --reason "not during the freeze" \
    --token "$(token bob)" --pin-file "$T/bob.pin"
ok
expect_out "denial of request $REQ written"
same_by_zbarimg "$T/bob-machine/deny-qr" "$T/bob-machine/b.deny"
run vault packet import --qr "$T/bob-machine/deny-qr"; ok
expect_out "request $REQ denied"
expect_event deny "not during the freeze"

step "the vault refuses images that are not a packet's parts"
run vault packet import --qr "$T/alice-machine/bad-qr"
refused 1 "is not a readable PNG image"
run vault packet import --qr "$T/nowhere"
refused 1 "cannot open $T/nowhere"
run vault packet import --qr "$T/alice-appr-qr" "$T/alice-machine/a.appr"
expect_rc 2
echo "ok"
