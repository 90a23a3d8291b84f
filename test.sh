#!/usr/bin/env bash
# Runs every DECNET test (unit, integration with real clients and engines, end-to-end in Chromium).
# Installs what the tests need when it is missing and it can (root + apt), restores, builds, runs,
# and closes with one line: "N passed, N failed, N skipped".
#
# A skipped test fails the run (a real-engine test that skips proves nothing), unless
# DECNET_ALLOW_SKIPS=1. A test that hangs fails the run: when no test has started or finished for
# DECNET_HANG_TIMEOUT (default 15m), the test host is dumped (mini dump in .test-output/) and killed,
# the running test is reported as hung, and the summary line is still printed.
set -uo pipefail
cd "$(dirname "$0")"

# Real attacker clients, the browser, the Docker engine the integration tests drive, and PostgreSQL
# (started by the tests themselves through deploy/postgres/start-test-server.sh, never as a system service).
APT_PACKAGES=(
  chromium
  openssh-client openssh-server sshpass curl mariadb-client redis-tools postgresql-client snmp netcat-openbsd telnet nmap hydra swaks lftp ftp
  iproute2 procps debootstrap docker.io systemd
  smbclient samba-common-bin freetds-bin vncsnapshot ldap-utils freerdp2-x11 bind9-dnsutils python3-impacket xvfb xauth
  sipsak mosquitto-clients tftp-hpa mbpoll
  postgresql python3
)
# kubectl from Debian, unless one is installed already (another package owning /usr/bin/kubectl would conflict).
command -v kubectl >/dev/null || APT_PACKAGES+=(kubernetes-client)

bash deploy/install-packages.sh "${APT_PACKAGES[@]}" || exit 1

# The Docker tests' base image starts from a debootstrap rootfs (cached): fetch it while the solution builds.
mkdir -p .test-output
bash deploy/docker/build-images.sh --rootfs-only > .test-output/rootfs.log 2>&1 &

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore Decnet.sln || exit 1
dotnet build Decnet.sln --no-restore -c Debug || exit 1

results=".test-output"
rm -rf "$results/suite" "$results/isolated" "$results/isolated.log"
mkdir -p "$results"
# Two test processes run side by side:
#  - the suite, its test classes in parallel (Decnet.Tests/xunit.runner.json);
#  - the tests that measure the whole process (managed heap, file descriptors: Category=Isolated, the fuzz
#    campaigns among them), one at a time in a process of their own, so nothing else is measured with them.
# Benchmarks (Category=Benchmark) are not tests: ./bench.sh runs them.
run_tests() { # <name> <filter> [extra dotnet test arguments]
  local name=$1 filter=$2
  shift 2
  dotnet test Decnet.Tests/Decnet.Tests.csproj --no-build -c Debug \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results/$name" --filter "$filter" \
    --blame-hang-timeout "${DECNET_HANG_TIMEOUT:-15m}" --blame-hang-dump-type mini "$@"
}
# A --filter given to test.sh narrows both runs (each keeps its own part of the suite).
user_filter=''
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) user_filter=${2:-}; shift 2 || shift ;;
    --filter=*) user_filter=${1#--filter=}; shift ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
narrowed() { if [ -n "$user_filter" ]; then echo "($1)&($user_filter)"; else echo "$1"; fi; }
run_tests isolated "$(narrowed "Category=Isolated")" "${passthrough[@]}" > "$results/isolated.log" 2>&1 &
isolated_pid=$!
run_tests suite "$(narrowed "Category!=Benchmark&Category!=Isolated")" "${passthrough[@]}"
suite_status=$?
wait "$isolated_pid"
isolated_status=$?
echo "---- process-wide measurements (Category=Isolated), run beside the suite: $results/isolated.log"
grep -E '^\s*(Passed|Failed|Skipped) |^\[fuzz\]|Total tests|Passed:|Failed:|Test Run' "$results/isolated.log" || cat "$results/isolated.log"
status=$suite_status
[ "$isolated_status" -ne 0 ] && status=$isolated_status

trxs=()
declare -A run_status=([suite]=$suite_status [isolated]=$isolated_status)
for name in suite isolated; do
  trx=$(find "$results/$name" -name '*.trx' 2>/dev/null | head -n 1)
  if [ -z "$trx" ] && [ "${run_status[$name]}" -eq 0 ] && [ -n "$user_filter" ]; then
    continue # the filter left nothing for this run
  fi
  if [ -z "$trx" ]; then
    echo "FAILED: the $name test run wrote no results (see the log above)"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
  trxs+=("$trx")
done
if [ "${#trxs[@]}" -eq 0 ]; then
  echo "FAILED: no test matched the filter '$user_filter'"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
total=0; executed=0; passed=0; failed=0
for trx in "${trxs[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  value() { local v; v=$(echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"); echo "${v:-0}"; }
  total=$((total + $(value total))); executed=$((executed + $(value executed))); passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
done
skipped=$((total - executed))

# The hang guard kills the test host: the tests it was running never report a result. The blame
# sequence files name them (Completed="False").
hung=$(find "$results" -name 'Sequence_*.xml' -exec grep -ho '<Test Name="[^"]*"[^>]*Completed="False"' {} + \
  | sed 's/<Test Name="\([^"]*\)".*/\1/' | sort -u)
# One name per line: theory names carry spaces in their arguments.
while IFS= read -r name; do
  [ -n "$name" ] || continue
  echo "FAILED: $name"
  echo "    hung: no test started or finished for ${DECNET_HANG_TIMEOUT:-15m}; dumps: $(find "$results" -name '*hangdump*' -not -path '*/In/*' | tr '\n' ' ')"
  failed=$((failed + 1))
done <<< "$hung"
# A run that failed without naming a failed test (host crash, aborted run) still counts as a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAILED: the test run itself (dotnet test exited with $status; see the log above)"
  failed=1
fi
# Failed tests again, with their messages, so the end of the log says what broke.
awk '
  /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ {
    match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11)
    print "FAILED: " name; inresult = 1; lines = 0; next
  }
  inresult && /<\/UnitTestResult>/ { inresult = 0; next }
  inresult && /<Message>|<StackTrace>/ { show = 1 }
  inresult && show && lines < 25 { gsub(/<\/?(Message|StackTrace|ErrorInfo|Output)>/, ""); sub(/^[ \t]+/, ""); if ($0 != "") { print "    " $0; lines++ } }
  inresult && /<\/StackTrace>/ { show = 0 }
' "${trxs[@]}" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'
# Skipped tests with their reasons: a skip is a test that proved nothing.
awk '
  /<UnitTestResult / && /outcome="NotExecuted"/ {
    match($0, /testName="[^"]*"/); print "SKIPPED: " substr($0, RSTART + 10, RLENGTH - 11); inresult = 1; next
  }
  inresult && /<Message>/ { gsub(/<\/?Message>/, ""); sub(/^[ \t]+/, ""); print "    " $0 }
  inresult && /<\/UnitTestResult>/ { inresult = 0 }
' "${trxs[@]}" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'
if [ "$skipped" -ne 0 ] && [ "${DECNET_ALLOW_SKIPS:-0}" != "1" ]; then
  echo "$skipped skipped: a skipped test fails the run (set DECNET_ALLOW_SKIPS=1 to accept skips on a machine that cannot run them)"
fi
echo "${passed:-0} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "${passed:-0}" -eq 0 ]; then
  exit 1
fi
if [ "$skipped" -ne 0 ] && [ "${DECNET_ALLOW_SKIPS:-0}" != "1" ]; then
  exit 1
fi
