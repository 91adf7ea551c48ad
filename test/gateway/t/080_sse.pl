#!/usr/bin/perl
# 080_sse.pl - the live subscription (GET /events, text/event-stream): resume
# after Last-Event-ID, delivery within a second of the commit, never another
# tenant's events, heartbeats, a malformed Last-Event-ID.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;
use IO::Socket::INET;

my ($TA, $TOKA) = area_tenant('sse-a');
my ($TB) = area_tenant('sse-b');
my $TOKB = hs(claims(sub => 'bob', tenant_id => $TB));
# two events already in A's log; the subscription resumes after the last
my $last_pos_a;
{
  my ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('order-1', [[A => {}], [B => {}]]));
  setup_ok($s == 200, "append order-1 ($s)");
  ($s, $b) = req(GET => '/api/v1/events', token => $TOKA);
  setup_ok($s == 200 && @{ $b->{events} || [] } == 2, "read the log ($s)");
  $last_pos_a = $b->{events}[-1]{position};
}

sub sse_gauge { my ($v) = $http->get("$URL/metrics")->{content} =~ /^es_gateway_sse_subscribers (\d+)$/m; $v }
my $gauge0 = sse_gauge() // -1;

# ---------- live subscription (SSE) ----------
{
  my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 10 * $SLOW);
  print $s "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKA\r\nAccept: text/event-stream\r\nLast-Event-ID: $last_pos_a\r\n\r\n";
  my $buf = '';
  my $read_until = sub { my ($re, $secs) = @_; my $dl = time + $secs;
    while (time < $dl && $buf !~ $re) { my $rin = ''; vec($rin, fileno($s), 1) = 1;
      if (select($rin, undef, undef, 0.1)) { my $r = sysread($s, my $chunk, 65536); last unless $r; $buf .= $chunk } }
    $buf =~ $re };
  ok($read_until->(qr/\r\n\r\n/, 5 * $SLOW) && $buf =~ m{^HTTP/1\.1 200} && $buf =~ m{Content-Type: text/event-stream}i, 'SSE: 200 text/event-stream');
  is(sse_gauge(), $gauge0 + 1, 'es_gateway_sse_subscribers counts the subscription while it is connected');
  # B writes first, then A: A's subscriber must see A's event and never B's
  req(POST => '/api/v1/commands/execute', token => $TOKB, body => append_cmd('secret-2', [[SecretB => {}]]));
  my $t0 = time;
  my ($st, $res) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('live-1', [[Live => { x => 1 }]]));
  my $pos = $res->{position} // -1;
  ok($read_until->(qr/^id: $pos\n/m, 3 * $SLOW), "SSE: new event delivered with id: = position $pos");
  ok(time - $t0 < 1.5 * $SLOW, sprintf('SSE: delivered within %.2fs of the commit', time - $t0));
  ok($buf =~ /^data: .*"stream": ?"live-1"/m, 'SSE: data line carries the event JSON');
  ok($buf !~ /secret-2|SecretB/, "SSE: B's event never reaches A's subscription");
  ok($buf !~ /^id: (\d+)\n/m || $1 > $last_pos_a, 'SSE: resumes after Last-Event-ID');
  ok($read_until->(qr/^: heartbeat/m, 3 * $SLOW), 'SSE: heartbeat comment');
  close $s;
  my $dl = time + 5 * $SLOW; my $g;
  do { select(undef, undef, undef, 0.1); $g = sse_gauge() } while (($g // -1) != $gauge0 && time < $dl);
  is($g, $gauge0, 'es_gateway_sse_subscribers drops back when the subscriber disconnects');
  ($st) = raw("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKA\r\nAccept: text/event-stream\r\nLast-Event-ID: nope\r\nConnection: close\r\n\r\n");
  is($st, 400, 'SSE: malformed Last-Event-ID: 400');
}

done();
