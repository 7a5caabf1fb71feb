#!/bin/sh
# The HTML report in a real browser: headless Chromium renders it to a PNG
# (not blank, the timeline's marks drawn in their colours) and its DOM
# holds the SVG timeline with one mark per timeline entry.  No Chromium is
# a failure, not a skip: scripts/install-deps installs it.
. "$(dirname "$0")/lib.sh"
bg_setup
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] ||
    fail "chromium is not installed (scripts/install-deps installs it)"

step "an incident with a denial, a refusal and a release"
std_vault
as tom vault request acme/da --reason 'first <b>try</b>' --ticket INC-0 --ttl 1h
ok
as bob vault deny "$(cat "$T/out")" --reason "not an outage"; ok
new_request
as alice vault approve "$REQ"; ok
as tom vault release "$REQ"; refused 1 "needs 1 more from: mia"
as mia vault approve "$REQ"; ok
as tom vault release "$REQ" --out "$T/value.out"; ok

step "the report: HTML for the browser, JSON for the expected marks"
run vault report --request "$REQ" --format html --out "$T/report.html"; ok
run vault report --request "$REQ" --format json; ok
MARKS=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["incidents"][0]["timeline"]))' "$T/out")
[ "$MARKS" -ge 6 ] || fail "expected at least 6 timeline entries, got $MARKS"

# chromium ARGS...: headless, offline, its own throwaway profile.
chromium_run() {
	mkdir -p "$T/profile"
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$T/profile" "$@"
}

step "render to a PNG"
( cd "$T" && chromium_run --screenshot="$T/shot.png" --window-size=1200,900 \
    "file://$T/report.html" ) >"$T/chromium.log" 2>&1 ||
    fail "chromium --screenshot failed: $(tail -5 "$T/chromium.log")"
[ -s "$T/shot.png" ] || fail "no screenshot written"
python3 - "$T/shot.png" <<'PY' || fail "the screenshot does not show the report"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", body)
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
bpp = 4 if ctype == 6 else 3
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev, off = [], bytearray(stride), 0
for y in range(h):
    f = raw[off]; line = bytearray(raw[off + 1:off + 1 + stride]); off += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
count = {}
for line in rows:
    for x in range(0, stride, bpp):
        px = line[x:x + 3]
        count[px] = count.get(px, 0) + 1
print("screenshot %dx%d, %d distinct colours" % (w, h, len(count)))
assert (w, h) == (1200, 900), (w, h)
assert len(count) > 50, "looks blank: %d colours" % len(count)
top = max(count.values())
assert top < 0.97 * w * h, "one colour covers almost everything"
# the marks: request blue, approve green, release orange (CSS in the report)
for name, rgb in (("request", "2f6fdf"), ("approve", "2ea44f"),
                  ("release", "e36209"), ("refused", "b31d28")):
    n = count.get(bytes.fromhex(rgb), 0)
    assert n >= 100, "%s marks (#%s) not drawn: %d pixels" % (name, rgb, n)
PY

step "the DOM: one SVG timeline with one mark per entry"
( cd "$T" && chromium_run --dump-dom "file://$T/report.html" ) \
    >"$T/dom.html" 2>"$T/chromium.log" ||
    fail "chromium --dump-dom failed: $(tail -5 "$T/chromium.log")"
grep -q "<svg class=\"timeline\" id=\"timeline-$REQ\"" "$T/dom.html" ||
    fail "no SVG timeline in the rendered DOM"
N=$(grep -o '<circle class="mark ' "$T/dom.html" | wc -l)
[ "$N" -eq "$MARKS" ] || fail "$N marks in the DOM, expected $MARKS"
grep -q 'class="mark k-approve"' "$T/dom.html" || fail "no approve mark"
grep -q 'class="mark k-lease-end"' "$T/dom.html" || fail "no lease-end mark"
! grep -q '<script' "$T/dom.html" || fail "a script element"
step "many events: no two timeline labels overlap, as the browser draws them"
printf 'db-value\n' >"$T/v"; op_in "$T/v" vault secret add acme db; ok
as tom vault request acme/db --reason "db down" --ticket INC-9 --ttl 1h; ok
REQ2=$(cat "$T/out")
i=0
while [ $i -lt 24 ]; do
	as tom vault approve "$REQ2"; expect_rc 1
	i=$((i + 1))
done
as alice vault approve "$REQ2"; ok
as mia vault approve "$REQ2"; ok
as tom vault release "$REQ2"; ok
run vault report --request "$REQ2" --format html --out "$T/many.html"; ok
# a copy with a measuring script (the report itself has none): each
# label's box as the browser lays it out, written into the DOM
python3 - "$T/many.html" "$T/measure.html" <<'PY'
import sys
html = open(sys.argv[1]).read()
js = """<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('svg.timeline text').forEach(function (t) {
    var r = t.getBoundingClientRect();
    out.push([r.left, r.top, r.right, r.bottom].map(Math.round).join(','));
  });
  var p = document.createElement('pre');
  p.id = 'boxes';
  p.textContent = out.join(';');
  document.body.appendChild(p);
});
</script>"""
open(sys.argv[2], "w").write(html.replace("</body>", js + "</body>"))
PY
( cd "$T" && chromium_run --dump-dom "file://$T/measure.html" ) \
    >"$T/measure.dom" 2>"$T/chromium.log" ||
    fail "chromium --dump-dom failed: $(tail -5 "$T/chromium.log")"
python3 - "$T/measure.dom" <<'PY' || fail "timeline labels overlap"
import re, sys
m = re.search(r'<pre id="boxes">([^<]*)</pre>', open(sys.argv[1]).read())
assert m, "no measurements in the DOM"
boxes = [tuple(map(int, b.split(","))) for b in m.group(1).split(";") if b]
print("%d labels measured" % len(boxes))
assert len(boxes) >= 2 * 28, len(boxes)
bad = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
       if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
assert not bad, "%d overlapping pairs, e.g. %s" % (len(bad), bad[:3])
PY
echo "report_browser: all passed"
