#!/usr/bin/env bash
# Runs the DECNET benchmarks (not part of ./test.sh): SSH brute force with hydra against a decky and
# against Debian's OpenSSH sshd, concurrent SSH sessions with the failure delay on, and HTTP with wrk
# against the http honeypot and a bare Kestrel endpoint, the REST API under 500 wrk connections (JWT, locust
# mix, seeded database) next to bare Kestrel, dashboard memory per live circuit (100 browser-free Blazor circuit clients plus a Chromium spot check), and login connections and
# credentials per second for the database, mail and SNMP deckies and for the Windows family (SMB, MSSQL, LDAP,
# VNC, RDP next to a bare TLS loop too, LLMNR queries next to a bare UDP loop) and the cloud/ICS family (Docker API,
# Kubernetes, Modbus, S7comm, TFTP next to a bare UDP loop) next to a bare accept loop. Every figure is printed next to its
# reference measured in the same run; record them in docs/PERFORMANCE.md.
# Built in Release, as the product is deployed (the figures in docs/PERFORMANCE.md say which build they used).
# Installs what the benchmarks need when it is missing and it can (root + apt).
set -uo pipefail
cd "$(dirname "$0")"

# openssh-server provides the reference sshd (started by the benchmark itself on a loopback port with
# its own temp config; the package's own service is not used), openssh-client its ssh-keygen.
APT_PACKAGES=(openssh-server openssh-client hydra wrk postgresql)

bash deploy/install-packages.sh "${APT_PACKAGES[@]}" || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
echo "bench.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build Decnet.Tests/Decnet.Tests.csproj -c Release || exit 1
dotnet test Decnet.Tests --no-build -c Release --filter "Category=Benchmark" --logger "console;verbosity=detailed" "$@"
