#!/usr/bin/perl
# 100_resource_bounds.pl - the second gateway (ES256 only, request timeout 1.5 s,
# ES_SSE_MAX_CLIENTS=1, heartbeats every 30 s): subscription limit (503), a
# killed `curl -N` frees its slot within a second (not at the next heartbeat),
# slowloris cut off, a subscriber that never reads is cut off and its slot freed.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;
use IO::Socket::INET;
use Socket ();

my ($TA, $TOKA) = area_tenant('bounds');

# ---------- resource bounds on the second gateway (ES256; request timeout 1.5 s; 1 SSE client) ----------
{
  my ($h2, $p2) = $URL_EC =~ m{^http://([^:/]+):(\d+)};
  my $tok = es(claims(tenant_id => $TA, aud => undef, iss => undef));
  my $sse = sub { my %o = @_;
    socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0) or die;
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096) if $o{small};
    connect($s, Socket::pack_sockaddr_in($p2, Socket::inet_aton($h2))) or die;
    my $old = select($s); $| = 1; select($old);
    print $s "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $tok\r\nAccept: text/event-stream\r\nLast-Event-ID: " . ($o{last} // 999999999) . "\r\n\r\n";
    return $s };
  my $status_of = sub { my $s = shift; my $buf = ''; my $dl = time + 5 * $SLOW;
    while (time < $dl && $buf !~ /\r\n\r\n/) { my $rin = ''; vec($rin, fileno($s), 1) = 1;
      if (select($rin, undef, undef, 0.1)) { last unless sysread($s, my $c, 4096); $buf .= $c } }
    $buf =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0 };
  my $s1 = $sse->();
  is($status_of->($s1), 200, 'gw2: first live subscription admitted');
  my $s2 = $sse->();
  is($status_of->($s2), 503, 'gw2: subscription beyond ES_SSE_MAX_CLIENTS=1: 503');
  close $s2; close $s1;
  # wait until the slot is free again (a closed socket is seen within a second)
  my $reuse_after = sub { my $t = time; my $st = 0;
    while (time - $t < 10 * $SLOW) { my $s = $sse->(); $st = $status_of->($s); close $s; last if $st == 200; select(undef, undef, undef, 0.05) }
    ($st, time - $t) };
  my ($st0, $w0) = $reuse_after->();
  is($st0, 200, sprintf('gw2: a closed subscription frees its slot (%.2fs)', $w0));
  ok($w0 < 1.0 * $SLOW + 0.3, sprintf('gw2: ... within a second of the close, heartbeats are 30 s apart (%.2fs)', $w0));
  # a real `curl -N` killed with -9 (the reconnect-burst case): its slot is free within 1 s
  {
    my $out = "/tmp/e2e-curl-$$.out";
    my $pid = fork() // die "fork: $!";
    if (!$pid) { open(STDOUT, '>', $out); open(STDERR, '>', '/dev/null');
      exec('curl', '-siN', '-H', "Authorization: Bearer $tok", '-H', 'Accept: text/event-stream', "http://$h2:$p2/api/v1/events?after=999999999") or exit 127 }
    my $dl = time + 5 * $SLOW;
    select(undef, undef, undef, 0.05) while (time < $dl && !-s $out);
    my ($gauge) = $http->get("http://$h2:$p2/metrics")->{content} =~ /^es_gateway_sse_subscribers (\d+)$/m;
    is($gauge, 1, 'gw2: the curl -N subscription holds the only slot');
    kill 'KILL', $pid; waitpid($pid, 0); unlink $out;
    my ($st1, $w1) = $reuse_after->();
    is($st1, 200, 'gw2: after kill -9 of curl -N a new subscription is admitted');
    ok($w1 <= 1.0 * $SLOW, sprintf('gw2: ... within 1 s of the kill (%.2fs)', $w1));
  }
  # slowloris: headers never finished -> connection closed after the request timeout
  my $slow = IO::Socket::INET->new(PeerAddr => $h2, PeerPort => $p2) or die;
  print $slow "GET /health HTTP/1.1\r\nHost: x\r\n";
  my $t0 = time; my $closed = 0;
  while (time - $t0 < 10 * $SLOW) { my $rin = ''; vec($rin, fileno($slow), 1) = 1;
    if (select($rin, undef, undef, 0.2)) { my $r = sysread($slow, my $c, 4096); if (!$r) { $closed = 1; last } } }
  ok($closed, sprintf('gw2: unfinished request headers: connection closed after %.1fs', time - $t0));
  close $slow;
  # a subscriber that never reads is cut off, freeing its slot
  my ($lazy, $admitted, $t2) = (undef, 0, time);
  while (time - $t2 < 10 * $SLOW) {   # wait until the previous subscriptions' slot is free
    $lazy = $sse->(small => 1, last => 0);
    if ($status_of->($lazy) == 200) { $admitted = 1; last }
    close $lazy; sleep 0.2;
  }
  ok($admitted, 'gw2: a subscriber that will never read is admitted');
  my $pad = 'x' x (900 * 1024);
  my $t3 = time;
  for (1 .. 24) { req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('bulk-1', [[Bulk => { pad => $pad }]])) }
  diag(sprintf 'appended 24 x 900 KiB in %.1fs', time - $t3);
  my $freed = 0; my $t1 = time;
  while (time - $t1 < 15 * $SLOW) {
    my $s3 = $sse->(); my $st = $status_of->($s3); close $s3;
    if ($st == 200) { $freed = 1; last }
    sleep 0.3;
  }
  ok($freed, sprintf('gw2: slow SSE consumer cut off, its slot reusable after %.1fs', time - $t1));
  close $lazy;
}

done();
