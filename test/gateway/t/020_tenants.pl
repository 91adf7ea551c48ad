#!/usr/bin/perl
# 020_tenants.pl - the tenant routes: create (201, 409, 400), who may create
# (admin only), read (own 200, other 403, admin 200, unknown 404).
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

# this file's own tenants, created here through the routes under test
my ($TA, $TB) = ("$TA-t", "$TB-t");
my $TOKA = hs(claims(sub => 'alice', tenant_id => $TA, roles => ['user']));

# ---------- tenants ----------
{
  my ($s, $b) = req(POST => '/api/v1/tenants', token => $ADMIN, body => { id => $TA, name => 'Tenant A', settings => { plan => 'pro' } });
  is($s, 201, 'admin creates tenant A: 201');
  is($b->{id} // '', $TA, 'created tenant body has id');
  ($s, $b) = req(POST => '/api/v1/tenants', token => $ADMIN, body => { id => $TB });
  is($s, 201, 'admin creates tenant B: 201');
  ($s, $b) = req(POST => '/api/v1/tenants', token => $ADMIN, body => { id => $TA });
  is($s, 409, 'duplicate tenant: 409'); is(err_code($b), 'conflict', 'duplicate tenant code conflict');
  ($s, $b) = req(POST => '/api/v1/tenants', token => $TOKA, body => { id => "x$run" });
  is($s, 403, 'non-admin cannot create tenants'); is(err_code($b), 'forbidden', '... code forbidden');
  ($s, $b) = req(POST => '/api/v1/tenants', token => $ADMIN, body => { name => 'no id' });
  is($s, 400, 'tenant without id: 400');
  ($s, $b) = req(POST => '/api/v1/tenants', token => $ADMIN, body => { id => 'bad tenant id!' });
  is($s, 400, 'invalid tenant id: 400 (ES400)'); is(err_code($b), 'malformed_request', '... malformed_request');
  ($s, $b) = req(GET => "/api/v1/tenants/$TA", token => $TOKA);
  is($s, 200, 'tenant reads itself: 200'); is($b->{status} // '', 'active', 'tenant status active');
  is($b->{settings}{plan} // '', 'pro', 'settings round-trip');
  ($s, $b) = req(GET => "/api/v1/tenants/$TB", token => $TOKA);
  is($s, 403, 'tenant A cannot read tenant B: 403');
  ($s, $b) = req(GET => "/api/v1/tenants/$TB", token => $ADMIN);
  is($s, 200, 'admin reads tenant B: 200');
  ($s, $b) = req(GET => "/api/v1/tenants/nope-$run", token => $ADMIN);
  is($s, 404, 'unknown tenant: 404'); is(err_code($b), 'not_found', '... not_found');
}

done();
