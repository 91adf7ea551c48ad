# test/lib/common.sh - sourced by the shell suites and benchmarks:
# TAP counters (ok, nok, check; the caller prints "$PASS passed, $FAIL failed"),
# a free TCP port on 127.0.0.1, and the median of numbers on stdin.
# shellcheck shell=bash
PASS=0; FAIL=0; N=0
ok()   { N=$((N+1)); PASS=$((PASS+1)); echo "ok $N - $*"; }
nok()  { N=$((N+1)); FAIL=$((FAIL+1)); echo "not ok $N - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

free_port() {
  perl -MIO::Socket::INET -e 'my $s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>0,Listen=>1,ReuseAddr=>1) or die; print $s->sockport'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
