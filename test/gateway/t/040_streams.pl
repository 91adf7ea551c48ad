#!/usr/bin/perl
# 040_streams.pl - GET /streams/{stream}: the event keys of the contract, versions
# and positions, from_version/limit, 404 for an empty stream, bad parameters
# and encodings.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

my ($ta, $TOKA) = area_tenant('streams');
# order-1: Created (with an integer beyond 64 bits), then Shipped
{
  my ($s) = req(POST => '/api/v1/commands/execute', token => $TOKA,
                body => append_cmd('order-1', [[Created => { n => 12345678901234567890 }]], ev => 0));
  setup_ok($s == 200, "append order-1 v1 ($s)");
  ($s) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('order-1', [[Shipped => {}]], ev => 1));
  setup_ok($s == 200, "append order-1 v2 ($s)");
}

# ---------- streams ----------
{
  my ($s, $b) = req(GET => '/api/v1/streams/order-1', token => $TOKA);
  is($s, 200, 'GET /streams/{stream}: 200');
  is($b->{stream} // '', 'order-1', 'stream key'); is($b->{version} // '', 2, 'stream version 2');
  ok(ref $b->{events} eq 'ARRAY' && @{ $b->{events} } == 2, 'two events');
  my $e = $b->{events}[0] || {};
  is(join(',', sort keys %$e), 'data,id,metadata,position,recorded_at,stream,type,version', 'event keys exactly the contract set');
  is($e->{version} // '', 1, 'first event version 1');
  ok($b->{events}[1]{position} > $e->{position}, 'positions increase');
  ok((eval { $b->{events}[0]{data}{n} } // '') eq '12345678901234567890', 'big integer survives the gateway untouched');
  ($s, $b) = req(GET => '/api/v1/streams/order-1?from_version=2', token => $TOKA);
  ok($s == 200 && @{ $b->{events} } == 1 && $b->{events}[0]{version} == 2, 'from_version=2 returns the second event');
  ($s, $b) = req(GET => '/api/v1/streams/order-1?limit=1', token => $TOKA);
  ok($s == 200 && @{ $b->{events} } == 1 && $b->{version} == 2, 'limit=1 returns one event, version stays 2');
  ($s, $b) = req(GET => '/api/v1/streams/never-written', token => $TOKA);
  is($s, 404, 'stream without events: 404'); is(err_code($b), 'not_found', '... not_found');
  ($s, $b) = req(GET => '/api/v1/streams/order-1?from_version=abc', token => $TOKA);
  is($s, 400, 'from_version=abc: 400');
  ($s, $b) = req(GET => '/api/v1/streams/order-1?limit=-1', token => $TOKA);
  is($s, 400, 'limit=-1: 400');
  ($s, $b) = req(GET => '/api/v1/streams/%zz', token => $TOKA);
  is($s, 400, 'malformed percent-encoding: 400');
  ($s, $b) = req(GET => '/api/v1/streams/a%00b', token => $TOKA);
  is($s, 400, 'encoded NUL in stream name: 400');
}

done();
