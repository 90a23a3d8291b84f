#!/usr/bin/env bash
# Runs every DECNET test (unit, integration with real clients and engines, end-to-end in Chromium).
# Installs what the tests need when it is missing and it can (root + apt), restores, builds, runs,
# and closes with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

# Real attacker clients, the browser, and the Docker engine the integration tests drive.
APT_PACKAGES=(
  chromium
  openssh-client openssh-server sshpass curl mariadb-client redis-tools netcat-openbsd telnet nmap hydra swaks lftp ftp
  iproute2 procps debootstrap docker.io
  python3
)

bash deploy/install-packages.sh "${APT_PACKAGES[@]}" || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore Decnet.sln || exit 1
dotnet build Decnet.sln --no-restore -c Debug || exit 1

results=".test-output"
rm -rf "$results"
# Benchmarks (Category=Benchmark) are not tests: ./bench.sh runs them.
dotnet test Decnet.Tests/Decnet.Tests.csproj --no-build -c Debug \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" --filter "Category!=Benchmark" "$@"
status=$?

trx=$(find "$results" -name '*.trx' | head -n 1)
if [ -z "$trx" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
total=$(value total); executed=$(value executed); passed=$(value passed); failed=$(value failed)
errors=$(value error); timeouts=$(value timeout); aborted=$(value aborted)
failed=$((failed + ${errors:-0} + ${timeouts:-0} + ${aborted:-0}))
skipped=$((total - executed))
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
echo "${passed:-0} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "${passed:-0}" -eq 0 ]; then
  exit 1
fi
