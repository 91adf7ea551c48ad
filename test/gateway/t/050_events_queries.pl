#!/usr/bin/perl
# 050_events_queries.pl - GET /events (the tenant's log: order, after=, limit=)
# and POST /queries/execute (built-in stream and log queries, errors).
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

my ($ta, $TOKA) = area_tenant('events');
# order-1: Created (with an integer beyond 64 bits), then Shipped
{
  my ($s) = req(POST => '/api/v1/commands/execute', token => $TOKA,
                body => append_cmd('order-1', [[Created => { n => 12345678901234567890 }]], ev => 0));
  setup_ok($s == 200, "append order-1 v1 ($s)");
  ($s) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('order-1', [[Shipped => {}]], ev => 1));
  setup_ok($s == 200, "append order-1 v2 ($s)");
}
# and one event in each of two more streams: four in the log
for my $stream ('a/b c', "caf\x{e9}-1") {
  my ($s) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd($stream, [[Odd => { k => 1 }]]));
  setup_ok($s == 200, "append to $stream ($s)");
}


# ---------- events and queries ----------
{
  my ($s, $b) = req(GET => '/api/v1/events', token => $TOKA);
  is($s, 200, 'GET /events: 200');
  my @ev = @{ $b->{events} || [] };
  ok(@ev >= 4, 'log has the tenant events (' . scalar(@ev) . ')');
  ok(!(grep { $ev[$_]{position} <= $ev[$_ - 1]{position} } 1 .. $#ev), 'log ordered by position');
  my $last_pos_a = @ev ? $ev[-1]{position} : 0;
  ($s, $b) = req(GET => "/api/v1/events?after=$ev[0]{position}&limit=1", token => $TOKA);
  ok($s == 200 && @{ $b->{events} } == 1 && $b->{events}[0]{position} == $ev[1]{position}, 'after= and limit= page the log');
  ($s, $b) = req(GET => "/api/v1/events?after=$last_pos_a", token => $TOKA);
  ok($s == 200 && @{ $b->{events} } == 0, 'after the last position: empty list');
  ($s, $b) = req(GET => '/api/v1/events?after=x', token => $TOKA);
  is($s, 400, 'after=x: 400');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => { type => 'stream', stream => 'order-1' });
  ok($s == 200 && @{ $b->{events} || [] } == 2, 'query type stream: 200 with 2 events');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => { type => 'log', limit => 1 });
  ok($s == 200 && @{ $b->{events} || [] } == 1, 'query type log with limit');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => { type => 'no-such-query' });
  is($s, 422, 'unknown query type: 422');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => '"just a string"');
  is($s, 400, 'query that is not an object: 400');
}

done();
