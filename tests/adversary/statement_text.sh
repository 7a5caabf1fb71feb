#!/bin/sh
# Text that approvers read before they sign: a reason or ticket with C0 or
# C1 controls (U+009B CSI among them), bidirectional overrides, line or
# paragraph separators, or invalid UTF-8 is refused with a clear error
# before any token is touched and before anything prints it.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

before=$(db "SELECT count(*) FROM requests")
# each: a name for the step, then the bytes (printf escapes)
for c in 'C1 CSI U+009B:\302\233' 'C0 ESC:\033[31m' 'DEL:\177' \
    'LRE U+202A:\342\200\252' 'RLE U+202B:\342\200\253' \
    'PDF U+202C:\342\200\254' 'LRO U+202D:\342\200\255' \
    'RLO U+202E:\342\200\256' 'LRI U+2066:\342\201\246' \
    'RLI U+2067:\342\201\247' 'FSI U+2068:\342\201\250' \
    'PDI U+2069:\342\201\251' 'LRM U+200E:\342\200\216' \
    'RLM U+200F:\342\200\217' 'ALM U+061C:\330\234' \
    'LS U+2028:\342\200\250' 'PS U+2029:\342\200\251' \
    'newline:\n' 'invalid UTF-8:\377\376' 'overlong:\300\257' \
    'surrogate:\355\240\200'; do
	name=${c%%:*}
	bytes=$(printf "${c#*:}x")
	step "reason with $name"
	as tom vault request acme/da --reason "ok ${bytes}" --ticket T-1 --ttl 1h
	refused 2 "must be 1 to 512 bytes of valid UTF-8"
	grep -q "Touch the token" "$T/err" && fail "asked for a touch first"
	step "ticket with $name"
	as tom vault request acme/da --reason "fine" --ticket "T${bytes}" --ttl 1h
	refused 2 "request: --ticket"
	step "deny reason with $name"
	as bob vault deny 1 --reason "no ${bytes}"
	refused 2 "deny: --reason"
done
[ "$(db "SELECT count(*) FROM requests")" = "$before" ] ||
    fail "a request was made"
step "plain UTF-8 is welcome"
as tom vault request acme/da --reason "Störung im Rechenzentrum, 3 Uhr" \
    --ticket "INC-ÄÖ-1" --ttl 1h; ok
echo "statement_text: all passed"
