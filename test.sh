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

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore Decnet.sln || exit 1
dotnet build Decnet.sln --no-restore -c Debug || exit 1

results=".test-output"
rm -rf "$results"
# Benchmarks (Category=Benchmark) are not tests: ./bench.sh runs them.
dotnet test Decnet.Tests/Decnet.Tests.csproj --no-build -c Debug \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" --filter "Category!=Benchmark" \
  --blame-hang-timeout "${DECNET_HANG_TIMEOUT:-15m}" --blame-hang-dump-type mini "$@"
status=$?

trx=$(find "$results" -name '*.trx' | head -n 1)
if [ -z "$trx" ]; then
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
total=$(value total); executed=$(value executed); passed=$(value passed); failed=$(value failed)
errors=$(value error); timeouts=$(value timeout); aborted=$(value aborted)
failed=$((failed + ${errors:-0} + ${timeouts:-0} + ${aborted:-0}))
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
' "$trx" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'
# Skipped tests with their reasons: a skip is a test that proved nothing.
awk '
  /<UnitTestResult / && /outcome="NotExecuted"/ {
    match($0, /testName="[^"]*"/); print "SKIPPED: " substr($0, RSTART + 10, RLENGTH - 11); inresult = 1; next
  }
  inresult && /<Message>/ { gsub(/<\/?Message>/, ""); sub(/^[ \t]+/, ""); print "    " $0 }
  inresult && /<\/UnitTestResult>/ { inresult = 0 }
' "$trx" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'
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
