#!/usr/bin/perl
# 030_commands.pl - POST /commands/execute and GET /commands/{id}: append
# results, Idempotency-Key, expected versions (409), size limits (413), bad
# commands (400/422), URL-encoded stream names.  Tenant A of the run: its
# order-1 is what run_e2e.sh reads while the tenant is suspended.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

area_tenant();

# ---------- commands ----------
my ($cmd_a, $res_a);
{
  $cmd_a = uuid();
  my ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, headers => { 'Idempotency-Key' => $cmd_a },
                    body => append_cmd('order-1', [[Created => { n => 12345678901234567890 }]], ev => 0));
  is($s, 200, 'append command: 200');
  is($b->{version} // '', 1, 'result version 1');
  is($b->{stream} // '', 'order-1', 'result stream');
  ok(ref $b->{events} eq 'ARRAY' && @{ $b->{events} } == 1, 'result lists the appended event');
  $res_a = $b;
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, headers => { 'Idempotency-Key' => $cmd_a },
                 body => append_cmd('order-1', [[Created => { n => 1 }]], ev => 0));
  is($s, 200, 'same Idempotency-Key again: 200 (stored result)');
  is($b->{position} // '', $res_a->{position}, '... same position, nothing appended twice');
  ($s, $b) = req(GET => "/api/v1/commands/$cmd_a", token => $TOKA);
  is($s, 200, 'GET /commands/{id}: 200');
  is($b->{status} // '', 'executed', 'command status executed');
  is($b->{id} // '', $cmd_a, 'command id echoed');
  is($b->{result}{position} // '', $res_a->{position}, 'command result stored');
  ($s, $b) = req(GET => '/api/v1/commands/' . uc($cmd_a), token => $TOKA);
  is($s, 200, 'uppercase UUID finds the command');
  ($s, $b) = req(GET => '/api/v1/commands/' . uuid(), token => $TOKA);
  is($s, 404, 'unknown command: 404'); is(err_code($b), 'not_found', '... not_found');
  ($s, $b) = req(GET => '/api/v1/commands/not-a-uuid', token => $TOKA);
  is($s, 400, 'non-UUID command id: 400');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, headers => { 'Idempotency-Key' => 'abc' },
                 body => append_cmd('order-1', [[X => {}]]));
  is($s, 400, 'non-UUID Idempotency-Key: 400');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, headers => { 'Idempotency-Key' => uuid() },
                 body => { %{ append_cmd('order-1', [[X => {}]]) }, id => uuid() });
  is($s, 400, 'Idempotency-Key differing from body id: 400'); is(err_code($b), 'malformed_request', '... malformed_request');
  my $same = uuid();
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, headers => { 'Idempotency-Key' => $same },
                 body => { %{ append_cmd('order-1', [[Shipped => {}]], ev => 1) }, id => $same });
  is($s, 200, 'Idempotency-Key equal to body id: 200');
  is($b->{version} // '', 2, '... version 2');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('order-1', [[X => {}]], ev => 1));
  is($s, 409, 'wrong expected version: 409');
  is(err_code($b), 'wrong_expected_version', '... wrong_expected_version');
  is($b->{error}{details}{current_version} // '', 2, '... details.current_version = 2');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => { type => 'append', stream => 'order-1', events => [] });
  is($s, 422, 'empty events: 422'); is(err_code($b), 'invalid_content', '... invalid_content');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('many-1', [ map { [M => {}] } 1 .. 1001 ]));
  is($s, 413, '1001 events in one append: 413'); is(err_code($b), 'payload_too_large', '... payload_too_large');
  is($b->{error}{details}{reason} // '', 'batch_too_large', '... details.reason batch_too_large');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => '{"type":"append","stream":"big-1","events":[{"type":"B","data":[' . join(',', ('1e300') x 3600) . ']}]}');
  # 21 KB of body, over 1 MiB as JSON text (1e300 is 301 digits): the
  # extension's limit, not the gateway's body limit
  is($s, 413, 'event over es_saas.max_event_bytes: 413'); is(err_code($b), 'payload_too_large', '... payload_too_large');
  is($b->{error}{details}{reason} // '', 'event_too_large', '... details.reason event_too_large');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => { type => 'no-such-command', stream => 'x-1' });
  is($s, 422, 'unknown command type: 422');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => [1, 2]);
  is($s, 400, 'command that is not an object: 400');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('order-1', [[X => {}]], ev => -1));
  is($s, 400, 'negative expected_version: 400');
  for my $name ("a/b c", "caf\x{e9}-1") {
    my $enc = $name; utf8::encode($enc);
    (my $path = $enc) =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
    ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd($name, [[Odd => { k => 1 }]]));
    is($s, 200, "append to stream '$path'");
    ($s, $b) = req(GET => "/api/v1/streams/$path", token => $TOKA);
    is($s, 200, "read URL-encoded stream '$path'");
    is($b->{stream} // '', $name, '... stream name decoded');
  }
}

done();
