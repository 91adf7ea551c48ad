#!/usr/bin/perl
# 060_auth.pl - authentication: missing/Basic/garbage tokens, every way a JWT
# can be wrong (401 invalid_token + WWW-Authenticate), RS256 and ES256 keys,
# leeway, exp required, maximum lifetime, a token without a tenant on a data route (403).
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

my ($TA, $TOKA) = area_tenant('auth');
my ($TB) = area_tenant('B');
{
  my ($s) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('order-1', [[Created => {}]], ev => 0));
  setup_ok($s == 200, "append order-1 ($s)");
}

# ---------- authentication ----------
{
  my ($s, $b, $r) = req(GET => '/api/v1/events');
  is($s, 401, 'no token: 401'); is(err_code($b), 'missing_token', '... missing_token');
  ok(($r->{headers}{'www-authenticate'} // '') =~ /^Bearer/, '401 carries WWW-Authenticate: Bearer');
  ($s, $b, $r) = req(GET => '/api/v1/events', headers => { Authorization => 'Basic YTpi' });
  is($s, 401, 'Basic credentials: 401');
  my %bad = (
    'garbage token'        => 'not.a.jwt',
    'wrong secret'         => hs(claims(tenant_id => $TA), 'x' x 40),
    'expired (exp-60s)'    => hs(claims(tenant_id => $TA, exp => time() - 60)),
    'no exp (ES_JWT_REQUIRE_EXP defaults to true)' => hs(claims(tenant_id => $TA, exp => undef)),
    'exp - iat over ES_JWT_MAX_TTL_SECONDS (7200)' => hs(claims(tenant_id => $TA, iat => time() - 7000, exp => time() + 600)),
    'no iat, exp - now over ES_JWT_MAX_TTL_SECONDS' => hs(claims(tenant_id => $TA, iat => undef, exp => time() + 7300)),
    'not yet valid (nbf+120s)' => hs(claims(tenant_id => $TA, nbf => time() + 120)),
    'wrong audience'       => hs(claims(tenant_id => $TA, aud => 'other-api')),
    'no audience'          => hs(claims(tenant_id => $TA, aud => undef)),
    'wrong issuer'         => hs(claims(tenant_id => $TA, iss => 'https://evil.test')),
    'alg none'             => b64u($json->encode({ alg => 'none', typ => 'JWT' })) . '.' . b64u($json->encode(claims(tenant_id => $TA))) . '.',
    'alg HS512'            => hs(claims(tenant_id => $TA), undef, { alg => 'HS512' }),
    'HS256 keyed with the RSA public key (confusion)' => do { local $/; open my $f, '<', $ENV{ES_E2E_RSA_PUB}; my $pem = <$f>; hs(claims(tenant_id => $TA, roles => ['admin']), $pem) },
    'RS256 header on an HMAC signature' => hs(claims(tenant_id => $TA), undef, { alg => 'RS256' }),
    'kid pointing at a file' => hs(claims(tenant_id => $TA), '', { alg => 'HS256', kid => '/dev/null' }),
    'ES256 token (no EC key configured here)' => es(claims(tenant_id => $TA)),
  );
  for my $d (sort keys %bad) {
    ($s, $b, $r) = req(GET => '/api/v1/events', token => $bad{$d});
    ok($s == 401 && err_code($b) eq 'invalid_token' && ($r->{headers}{'www-authenticate'} // '') =~ /^Bearer/, "$d: 401 invalid_token");
  }
  my $rs = rs(claims(tenant_id => $TA));
  ($s, $b) = req(GET => '/api/v1/streams/order-1', token => $rs);
  is($s, 200, 'RS256 token verified with the public key: 200');
  (my $tampered = $rs) =~ s/^([^.]+)\.([^.]+)\./$1 . '.' . b64u($json->encode(claims(tenant_id => $TB))) . '.'/e;
  ($s) = req(GET => '/api/v1/streams/order-1', token => $tampered);
  is($s, 401, 'RS256 with swapped payload: 401');
  ($s) = req(GET => '/api/v1/events', token => hs(claims(tenant_id => $TA, iat => undef, exp => time() + 7000)));
  is($s, 200, 'no iat, exp - now within ES_JWT_MAX_TTL_SECONDS: 200');
  ($s, $b, $r) = req(GET => '/api/v1/events', base => $URL_EC, token => es(claims(tenant_id => $TA, aud => undef, iss => undef, exp => undef)));
  ok($s == 401 && err_code($b) eq 'invalid_token', 'ES256 token without exp: 401 invalid_token');
  ($s) = req(GET => '/api/v1/events', token => hs(claims(tenant_id => $TA, exp => time() - 10)));
  is($s, 200, 'expired 10 s ago is inside the 30 s leeway: 200');
  ($s, $b) = req(GET => '/api/v1/events', token => $ADMIN);
  is($s, 403, 'token without tenant_id on a data route: 403'); is(err_code($b), 'forbidden', '... forbidden');
  ($s, $b) = req(GET => '/api/v1/events', base => $URL_EC, token => es(claims(tenant_id => $TA, aud => undef, iss => undef)));
  is($s, 200, 'ES256 token on the EC-keyed gateway: 200');
  ($s, $b) = req(GET => '/api/v1/events', base => $URL_EC, token => $TOKA);
  is($s, 401, 'HS256 token on a gateway without a secret: 401');
  ($s, $b) = req(GET => '/api/v1/events', base => $URL_EC, token => rs(claims(tenant_id => $TA)));
  is($s, 401, 'RS256 token on the EC-keyed gateway: 401');
}

done();
