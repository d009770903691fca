#!/usr/bin/env bash
# `make fuzz` (FUZZ_SECONDS, 60 by default) and `make test` (10): libFuzzer with AddressSanitizer
# (and its LeakSanitizer) over every parser that takes outside bytes, each for SECONDS from its
# committed seed corpus in Tests/Fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (no TARGET: all of them)
#
# Build: not the package. Each product module a parser lives in is compiled from the few files
# that hold it (FastCGI and Web without their C and template parts, yaslab/CSV.swift, and the
# parsing files of Waymark listed in WAYMARK_FILES), with -sanitize=fuzzer,address, into
# .build-fuzz/; each harness (Tests/Fuzz/Fuzz*.swift) links those. A unit is rebuilt only when
# one of its inputs (files, flags, what it depends on) changed.
#
# Run: new corpus entries go to var/fuzz/<target>/corpus (the committed corpus is only read),
# crashing inputs to var/fuzz/<target>/. Fails on a crash, a broken invariant, a leak, an input
# over 1 s of wall time (-timeout) or over FUZZ_BUDGET_MS (100) of CPU time: the harness times
# each input with the thread's CPU clock and aborts past the budget, so a loaded machine does not
# fail it, while a slow parser does (libFuzzer's -report_slow_units only reports).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
# (libFuzzer reads -max_total_time=0 as "no limit": at least 1.)
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }

# target → its harness, Tests/Fuzz/<name>.swift (all link FastCGI and Web; WAYMARK_TARGETS also
# the Waymark parsing files and CSV.swift).
declare -A HARNESS=(
  [form]=FuzzForm [multipart]=FuzzMultipart [cookies]=FuzzCookies [fastcgi-params]=FuzzFastCGIParams
  [spend-json]=FuzzSpendJSON [click-json]=FuzzClickJSON [spend-csv]=FuzzSpendCSV
  [token-template]=FuzzTokenTemplate [user-agent]=FuzzUserAgent [fx-rates]=FuzzFXRates
)
ALL=(form multipart cookies fastcgi-params spend-json click-json spend-csv token-template user-agent fx-rates)
WAYMARK_TARGETS=" spend-json click-json spend-csv token-template user-agent fx-rates "
# Largest input per target: bodies and files get room to show super-linear costs.
declare -A MAX_LEN=([multipart]=65536 [spend-csv]=65536 [spend-json]=32768 [fx-rates]=32768)
# The pure parsing files of the product's modules (no database), compiled here together as
# one module named Waymark (the harnesses' `@testable import Waymark`), with the imports of the
# product's own modules dropped from build copies. A parser that needs another pure file gets
# it added here.
WAYMARK_FILES=(
  Sources/WaymarkCore/TokenTemplate.swift Sources/WaymarkCore/Currency.swift Sources/WaymarkCore/Dates.swift
  Sources/WaymarkCore/ASCII.swift Sources/Tracking/UserAgent.swift Sources/Tracking/ClickAPIInput.swift
  Sources/Spend/SpendInput.swift Sources/Spend/FXRates.swift
)
PRODUCT_MODULES="WaymarkCore|Accounts|Catalog|Tracking|Conversions|Deliveries|Integrations|Spend|Reports"

TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  [ -n "${HARNESS[$t]:-}" ] || { echo "fuzz: no target $t (targets: ${ALL[*]})" >&2; exit 2; }
done

SWIFTC=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}
OUT=$ROOT/.build-fuzz
VAR=$ROOT/var/fuzz
mkdir -p "$OUT/mod" "$OUT/lib" "$OUT/bin" "$OUT/stamps" "$VAR"
# One fuzz build at a time in this tree (`make fuzz` and `make test` may overlap).
exec 9>"$OUT/.lock"
flock 9

FLAGS=(-sanitize=fuzzer,address -O -gline-tables-only -parse-as-library -enable-testing
  -I "$OUT/mod" -module-cache-path "$OUT/module-cache")
SWIFT6=(-swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility)

log_build() { echo "[fuzz] $*" >&2; }

# build UNIT OUTPUT DEPS -- swiftc arguments: runs swiftc unless the stamp (a hash of the
# compiler's version, the arguments, the .swift files' contents and the stamps of DEPS, whose
# libraries the arguments name) is unchanged.
build() {
  local unit=$1 output=$2 deps=$3
  shift 4
  local key
  key=$( {
    printf '%s\n' "$("$SWIFTC" --version 2>&1 | head -1)" "$@"
    for a in "$@"; do [[ $a == *.swift ]] && cat "$a"; done
    for d in $deps; do cat "$OUT/stamps/$d.key"; done
  } | sha256sum | cut -d' ' -f1)
  if [ -e "$output" ] && [ "$(cat "$OUT/stamps/$unit.key" 2>/dev/null)" = "$key" ]; then
    return 0
  fi
  log_build "building $unit"
  # A static archive is updated in place, not replaced: members of files no longer in the list
  # would stay and be linked (a stale SpendInput layout crashed spend-json). Start afresh.
  rm -f "$OUT/stamps/$unit.key" "$output"
  local errors=$OUT/stamps/$unit.log
  if ! "$SWIFTC" "$@" >"$errors" 2>&1; then
    # ld.gold's "Cannot export local symbol '__asan_…'" warnings are noise.
    grep -v "Cannot export local symbol" "$errors" | tail -40 >&2
    log_build "building $unit failed"
    return 1
  fi
  echo "$key" >"$OUT/stamps/$unit.key"
}

# A module's files, less those that need what this build leaves out (C libraries, templates).
module_files() {
  local dir=$1 exclude=$2
  grep -L -E "^import ($exclude)\$" "$dir"/*.swift
}

build_libraries() {
  local fastcgi web csv_dir=$ROOT/.build/checkouts/CSV.swift/Sources/CSV
  mapfile -t fastcgi < <(module_files Sources/FastCGI "CFastCGI|Synchronization")
  mapfile -t web < <(module_files Sources/Web "Mustache|Logging")
  build FastCGI "$OUT/lib/libFastCGI.a" "" -- "${FLAGS[@]}" "${SWIFT6[@]}" -module-name FastCGI -emit-module \
    -emit-module-path "$OUT/mod/FastCGI.swiftmodule" -emit-library -static -o "$OUT/lib/libFastCGI.a" "${fastcgi[@]}" || return 1
  build Web "$OUT/lib/libWeb.a" "FastCGI" -- "${FLAGS[@]}" "${SWIFT6[@]}" -module-name Web -emit-module \
    -emit-module-path "$OUT/mod/Web.swiftmodule" -emit-library -static -o "$OUT/lib/libWeb.a" "${web[@]}" || return 1
  local need_waymark=0
  for t in "${TARGETS[@]}"; do [[ $WAYMARK_TARGETS == *" $t "* ]] && need_waymark=1; done
  [ $need_waymark = 1 ] || return 0
  if [ ! -d "$csv_dir" ]; then
    log_build "resolving packages (for CSV.swift's sources)"
    swift package resolve >&2 || return 1
  fi
  build CSV "$OUT/lib/libCSV.a" "" -- "${FLAGS[@]}" -swift-version 5 -module-name CSV -emit-module \
    -emit-module-path "$OUT/mod/CSV.swiftmodule" -emit-library -static -o "$OUT/lib/libCSV.a" "$csv_dir"/*.swift || return 1
  mkdir -p "$OUT/src"
  local copies=()
  for f in "${WAYMARK_FILES[@]}"; do
    local copy=$OUT/src/$(echo "$f" | tr / _)
    grep -v -E "^import ($PRODUCT_MODULES)\$" "$f" >"$copy.new"
    cmp -s "$copy.new" "$copy" && rm "$copy.new" || mv "$copy.new" "$copy"
    copies+=("$copy")
  done
  build Waymark "$OUT/lib/libWaymark.a" "FastCGI Web CSV" -- "${FLAGS[@]}" "${SWIFT6[@]}" -module-name Waymark -emit-module \
    -emit-module-path "$OUT/mod/Waymark.swiftmodule" -emit-library -static -o "$OUT/lib/libWaymark.a" "${copies[@]}"
}

build_harness() {
  local t=$1 deps="FastCGI Web" libs=()
  if [[ $WAYMARK_TARGETS == *" $t "* ]]; then
    deps="FastCGI Web CSV Waymark"
    libs+=("$OUT/lib/libWaymark.a" "$OUT/lib/libCSV.a")
  fi
  libs+=("$OUT/lib/libWeb.a" "$OUT/lib/libFastCGI.a")
  build "bin-$t" "$OUT/bin/$t" "$deps" -- "${FLAGS[@]}" "${SWIFT6[@]}" -module-name "Fuzz_${t//-/_}" \
    -o "$OUT/bin/$t" Tests/Fuzz/FuzzSupport.swift "Tests/Fuzz/${HARNESS[$t]}.swift" "${libs[@]}"
}

started=$(date +%s)
build_libraries || exit 1
for t in "${TARGETS[@]}"; do build_harness "$t" || exit 1; done
built=$(date +%s)
log_build "build: $((built - started)) s"

# Swift's own backtracer would hold a crashing process for seconds; libFuzzer and ASan report.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:detect_stack_use_after_return=0}
# Leaks in the toolchain's own libraries (each explained there) are suppressed, no others.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/Tests/Fuzz/lsan.supp:print_suppressions=0}
passed=0
failed=0
for t in "${TARGETS[@]}"; do
  dir=$VAR/$t
  mkdir -p "$dir/corpus" Tests/Fuzz/corpus/"$t"
  log=$dir/log
  "$OUT/bin/$t" -max_total_time="$SECS" -timeout="${FUZZ_TIMEOUT:-1}" -max_len="${MAX_LEN[$t]:-8192}" \
    -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$dir/" \
    "$dir/corpus" "Tests/Fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  if [ $rc -eq 0 ]; then
    result=ok
  elif grep -q "==FUZZ== SLOW INPUT" "$log"; then
    result="slow input ($(grep -o 'SLOW INPUT: [0-9]* ms' "$log" | head -1 | sed 's/SLOW INPUT: //'))"
  elif grep -q "==FUZZ== INVARIANT BROKEN" "$log"; then
    result="invariant broken"
  elif grep -q "ERROR: LeakSanitizer" "$log"; then
    result=leak
  elif grep -q "ERROR: libFuzzer: timeout" "$log"; then
    result="timeout (over ${FUZZ_TIMEOUT:-1} s)"
  elif grep -q "out-of-memory" "$log"; then
    result="out of memory"
  else
    result="crash (exit $rc)"
  fi
  printf 'fuzz %-15s runs=%-9s %s\n' "$t" "${runs:-0}" "$result"
  if [ "$result" = ok ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    cp "$log" "$dir/failed-$(date +%Y%m%d-%H%M%S).log"
    artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
    grep -E "==FUZZ==|ERROR: |SUMMARY: " "$log" | head -5 | sed 's/^/    /'
    [ -n "$artifact" ] && echo "    input: $artifact (replay: $OUT/bin/$t $artifact; log: $log)"
  fi
done
echo "fuzz: ${SECS} s per target, $(( $(date +%s) - started )) s in all (build $((built - started)) s)"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
