#!/usr/bin/perl
# 070_tenant_isolation.pl - tenant isolation over HTTP: streams, log, queries,
# command ids of another tenant; the tenant comes from the token only (body
# and X-Tenant-Id ignored); forged, expired, alg-none tokens for the other
# tenant; unknown and invalid tenant ids in a token.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

my ($TA, $TOKA) = area_tenant('iso-a');
my ($TB) = area_tenant('iso-b');
my $TOKB = hs(claims(sub => 'bob', tenant_id => $TB));

# ---------- tenant isolation ----------
{
  my $cmd_b = uuid();
  my ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKB, headers => { 'Idempotency-Key' => $cmd_b },
                    body => append_cmd('secret-1', [[Secret => { pin => 1234 }]], ev => 0));
  is($s, 200, 'tenant B appends secret-1');
  my $b_event_id = $b->{events}[0]{id};
  ($s, $b) = req(GET => '/api/v1/streams/secret-1', token => $TOKA);
  is($s, 404, "A cannot read B's stream (404: not in A's log)");
  ($s, $b) = req(GET => '/api/v1/events', token => $TOKA);
  ok($s == 200 && !(grep { $_->{stream} eq 'secret-1' || $_->{id} eq $b_event_id } @{ $b->{events} }), "B's event is not in A's log");
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => { type => 'stream', stream => 'secret-1' });
  ok($s != 200 || !@{ $b->{events} || [] }, "A's stream query does not see B's stream");
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => { type => 'log', tenant => $TB, tenant_id => $TB });
  ok($s == 200 && !(grep { $_->{stream} eq 'secret-1' } @{ $b->{events} || [] }), 'tenant in a query body is ignored');
  ($s, $b) = req(GET => "/api/v1/commands/$cmd_b", token => $TOKA);
  is($s, 404, "A cannot see B's command result");
  ($s, $b) = req(GET => "/api/v1/commands/$cmd_b", token => $TOKB);
  is($s, 200, 'B sees its own command');
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, headers => { 'Idempotency-Key' => $cmd_b },
                 body => append_cmd('mine-1', [[Mine => {}]]));
  ok($s == 200 && ($b->{stream} // '') eq 'mine-1', "A reusing B's command id gets its own result, not B's");
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA,
                 headers => { 'X-Tenant-Id' => $TB }, body => { %{ append_cmd('secret-1', [[Injected => {}]]) }, tenant => $TB, tenant_id => $TB });
  is($s, 200, 'A appends with a body/header naming B');
  ($s, $b) = req(GET => '/api/v1/streams/secret-1', token => $TOKB);
  is($b->{version} // '', 1, "... B's stream unchanged (tenant came from the token)");
  ($s, $b) = req(GET => '/api/v1/streams/secret-1', token => $TOKA);
  is($b->{version} // '', 1, "... the event landed in A's own secret-1");
  ($s, $b) = req(GET => "/api/v1/tenants/$TB", token => $TOKA);
  is($s, 403, "A cannot read B's tenant record");
  ($s, $b) = req(POST => '/api/v1/tenants', token => $TOKA, body => { id => $TB, name => 'hijack' });
  is($s, 403, 'A cannot (re)create tenants');
  my $forged = hs(claims(tenant_id => $TB), 'y' x 48);
  ($s) = req(GET => '/api/v1/streams/secret-1', token => $forged);
  is($s, 401, "forged token for B: 401");
  ($s) = req(GET => '/api/v1/streams/secret-1', token => hs(claims(tenant_id => $TB, exp => time() - 3600)));
  is($s, 401, "expired token for B: 401");
  ($s) = req(GET => '/api/v1/streams/secret-1', token => hs(claims(tenant_id => $TB, aud => 'wrong')));
  is($s, 401, "wrong-audience token for B: 401");
  ($s) = req(GET => '/api/v1/streams/secret-1', token => b64u('{"alg":"none"}') . '.' . b64u($json->encode(claims(tenant_id => $TB))) . '.');
  is($s, 401, "alg-none token for B: 401");
  my $ghost = hs(claims(tenant_id => "ghost-$run"));
  ($s, $b) = req(GET => '/api/v1/events', token => $ghost);
  ok($s == 404 || $s == 403, "token for a tenant that does not exist: $s");
  ($s, $b) = req(GET => '/api/v1/events', token => hs(claims(tenant_id => "bad tenant!")));
  is($s, 400, 'token with an invalid tenant id: 400');
}

done();
