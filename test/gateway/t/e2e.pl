#!/usr/bin/perl
# e2e.pl - the REST contract over real HTTP against es-gateway + es_saas.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use Digest::SHA qw(hmac_sha256 sha256);
use MIME::Base64 qw(encode_base64url decode_base64);
use IO::Socket::INET;
use Socket ();
use Time::HiRes qw(time sleep);
use File::Temp qw(tempfile);

my $URL    = $ENV{ES_E2E_URL}    or die "ES_E2E_URL";
my $URL_EC = $ENV{ES_E2E_URL_EC} or die "ES_E2E_URL_EC";
my $SECRET = $ENV{ES_E2E_SECRET} or die "ES_E2E_SECRET";
my $SLOW   = $ENV{ES_E2E_SLOW} || 1;     # timeout multiplier (valgrind/asan)
my ($host, $port) = $URL =~ m{^http://([^:/]+):(\d+)};

my $json = JSON::PP->new->utf8->canonical->allow_nonref;
$SIG{PIPE} = 'IGNORE';
my $http = HTTP::Tiny->new(timeout => 30 * $SLOW, keep_alive => 1);
my $n = 0; my $failed = 0;
$| = 1;

sub ok { my ($c, $d) = @_; $n++; $failed++ unless $c; print(($c ? "ok" : "not ok") . " $n - $d\n"); return $c; }
sub is { my ($g, $w, $d) = @_; my $r = ok(defined $g && defined $w ? $g eq $w : !defined $g && !defined $w, $d);
         print "#   got: " . (defined $g ? $g : 'undef') . "\n#   expected: " . (defined $w ? $w : 'undef') . "\n" unless $r; $r }
sub diag { print map { "# $_\n" } split /\n/, join '', @_ }

# ---------- tokens ----------
sub b64u { encode_base64url($_[0]) }
sub signing_input { my ($h, $p) = @_; b64u($json->encode($h)) . '.' . b64u($json->encode($p)) }
sub claims { my %c = (aud => 'es-api', iss => 'https://idp.test', exp => time() + 600, iat => int(time()), @_);
             delete $c{$_} for grep { !defined $c{$_} } keys %c; \%c }
sub hs { my ($p, $key, $hdr) = @_; $key //= $SECRET; $hdr //= { alg => 'HS256', typ => 'JWT' };
         my $in = signing_input($hdr, $p); "$in." . b64u(hmac_sha256($in, $key)) }
sub openssl_sign { my ($keyfile, $data) = @_;
  my ($fh, $fn) = tempfile(UNLINK => 1); binmode $fh; print $fh $data; close $fh;
  open(my $o, '-|', 'openssl', 'dgst', '-sha256', '-sign', $keyfile, '-binary', $fn) or die;
  binmode $o; local $/; my $sig = <$o>; close $o; $sig }
sub rs { my ($p, $hdr) = @_; $hdr //= { alg => 'RS256', typ => 'JWT' };
         my $in = signing_input($hdr, $p); "$in." . b64u(openssl_sign($ENV{ES_E2E_RSA}, $in)) }
sub der_to_jose { my $d = shift; # SEQUENCE { INTEGER r, INTEGER s }
  my $i = 2; $i++ if ord(substr($d, 1, 1)) & 0x80; my @v;
  for (1 .. 2) { my $len = ord(substr($d, $i + 1, 1)); my $x = substr($d, $i + 2, $len); $i += 2 + $len;
                 $x =~ s/^\x00+//; push @v, ("\x00" x (32 - length $x)) . $x }
  join '', @v }
sub es { my ($p) = @_; my $in = signing_input({ alg => 'ES256', typ => 'JWT' }, $p);
         "$in." . b64u(der_to_jose(openssl_sign($ENV{ES_E2E_EC}, $in))) }

my $run = sprintf "%x%x", time(), $$;
my $TA = $ENV{ES_E2E_TA} || "e2e-a-$run"; my $TB = $ENV{ES_E2E_TB} || "e2e-b-$run";
my $ADMIN = hs(claims(sub => 'ops', roles => ['admin']));
my $TOKA  = hs(claims(sub => 'alice', tenant_id => $TA, roles => ['user']));
my $TOKB  = hs(claims(sub => 'bob', tenant_id => $TB));
if ($ENV{ES_E2E_TOKEN_FILE}) { open my $f, '>', $ENV{ES_E2E_TOKEN_FILE}; print $f $TOKA; close $f }
if ($ENV{ES_E2E_TOKEN_EC_FILE}) { open my $f, '>', $ENV{ES_E2E_TOKEN_EC_FILE}; print $f es(claims(tenant_id => $TA, aud => undef, iss => undef, exp => time() + 3600)); close $f }

# ---------- HTTP helpers ----------
sub req {
  my ($method, $path, %o) = @_;
  my %h = %{ $o{headers} || {} };
  $h{Authorization} = "Bearer $o{token}" if defined $o{token};
  my %args = (headers => \%h);
  if (exists $o{body}) {
    $args{content} = ref $o{body} ? $json->encode($o{body}) : $o{body};
    $h{'Content-Type'} //= 'application/json';
  }
  my $r = $http->request($method, ($o{base} || $URL) . $path, \%args);
  my $b = eval { $json->decode($r->{content}) };
  return ($r->{status}, $b, $r);
}
sub err_code { my $b = shift; ref $b eq 'HASH' && ref $b->{error} eq 'HASH' ? $b->{error}{code} : '' }
sub uuid { my @b = map { int rand 256 } 1 .. 16; $b[6] = ($b[6] & 0x0f) | 0x40; $b[8] = ($b[8] & 0x3f) | 0x80;
           my $h = join '', map { sprintf '%02x', $_ } @b; join '-', unpack 'A8 A4 A4 A4 A12', $h }
sub append_cmd { my ($stream, $ev, %x) = @_;
  { type => 'append', stream => $stream, expected_version => $x{ev}, events => [ map { { type => $_->[0], data => $_->[1] } } @$ev ] } }

# raw socket request; returns (status, full response text)
sub raw {
  my ($bytes, %o) = @_;
  my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 10 * $SLOW) or return (0, '');
  $s->autoflush(1);
  print $s $bytes;
  shutdown($s, 1) if $o{half_close};
  my $resp = '';
  my $deadline = time + 10 * $SLOW;
  while (time < $deadline) {
    my $buf; my $r = sysread($s, $buf, 65536);
    last if !defined $r || $r == 0;
    $resp .= $buf;
    last if $o{first_response} && $resp =~ /\r\n\r\n/ && $resp =~ /Content-Length: (\d+)/i && length($resp) >= index($resp, "\r\n\r\n") + 4 + $1;
  }
  close $s;
  my ($st) = $resp =~ m{^HTTP/1\.[01] (\d{3})};
  return ($st || 0, $resp);
}

# ======================================================================
# operations endpoints
{
  my ($s, $b, $r) = req(GET => '/health');
  is($s, 200, 'GET /health 200');
  is($b->{status}, 'ok', '/health status ok');
  ok(exists $b->{circuit_breakers}, '/health reports breaker states');
  ($s) = req(GET => '/health/live');  is($s, 200, 'GET /health/live 200');
  ($s) = req(GET => '/health/ready'); is($s, 200, 'GET /health/ready 200');
  ($s, $b, $r) = req(GET => '/metrics');
  is($s, 200, 'GET /metrics 200');
  like_ct($r, qr{^text/plain}, '/metrics is text/plain');
  ok($r->{content} =~ /^db_pool_size 4$/m, 'db_pool_size gauge reports ES_POOL_SIZE');
  ok($r->{content} =~ /^circuit_breaker_state\{service="event_store"\} 0$/m, 'circuit_breaker_state event_store 0');
  ($s, $b) = req(GET => '/api/v1/openapi.json');
  is($s, 200, 'openapi.json without auth 200');
  is($b->{openapi} // '', '3.0.3', 'OpenAPI 3 document');
  my @want = ('/health', '/health/live', '/health/ready', '/metrics', '/api/v1/tenants', '/api/v1/tenants/{id}',
              '/api/v1/commands/execute', '/api/v1/commands/{id}', '/api/v1/queries/execute',
              '/api/v1/streams/{stream}', '/api/v1/events', '/api/v1/openapi.json');
  ok(!(grep { !exists $b->{paths}{$_} } @want), 'openapi documents every contract route');
  ok(exists $b->{paths}{'/api/v1/tenants'}{post}{responses}{201}, 'openapi: POST /tenants answers 201');
}
sub like_ct { my ($r, $re, $d) = @_; ok(($r->{headers}{'content-type'} // '') =~ $re, $d) }

# ---------- routing errors ----------
{
  my ($s, $b, $r) = req(GET => '/nope');
  is($s, 404, 'unknown route 404'); is(err_code($b), 'not_found', 'unknown route JSON not_found');
  ($s, $b, $r) = req(DELETE => '/api/v1/events', token => $TOKA);
  is($s, 405, 'wrong method 405'); is(err_code($b), 'method_not_allowed', '405 JSON body');
  is($r->{headers}{allow} // '', 'GET', '405 carries Allow');
  ($s, $b) = req(GET => '/api/v1/../../etc/passwd');
  ok($s == 404 || $s == 400, "dot-dot path is not served ($s)");
}

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
  is($s, 429, '1001 events in one append: 429'); is(err_code($b), 'limit_exceeded', '... limit_exceeded');
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

# ---------- events and queries ----------
my $last_pos_a;
{
  my ($s, $b) = req(GET => '/api/v1/events', token => $TOKA);
  is($s, 200, 'GET /events: 200');
  my @ev = @{ $b->{events} || [] };
  ok(@ev >= 4, 'log has the tenant events (' . scalar(@ev) . ')');
  ok(!(grep { $ev[$_]{position} <= $ev[$_ - 1]{position} } 1 .. $#ev), 'log ordered by position');
  $last_pos_a = @ev ? $ev[-1]{position} : 0;
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
  ($st) = raw("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKA\r\nAccept: text/event-stream\r\nLast-Event-ID: nope\r\nConnection: close\r\n\r\n");
  is($st, 400, 'SSE: malformed Last-Event-ID: 400');
}

# ---------- hostile requests ----------
{
  my $big = '{"type":"log","pad":"' . ('x' x (1024 * 1024 + 10)) . '"}';
  my ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => $big);
  is($s, 413, 'body over ES_MAX_BODY_BYTES (Content-Length): 413'); is(err_code($b), 'payload_too_large', '... payload_too_large');
  my $sent = 0;
  my $r = $http->request(POST => "$URL/api/v1/queries/execute", {
    headers => { Authorization => "Bearer $TOKA", 'Content-Type' => 'application/json' },
    content => sub { return undef if $sent > 2 * 1024 * 1024; $sent += 65536; 'x' x 65536 } });
  is($r->{status}, 413, 'chunked body over the limit: 413');
  ($s) = raw("POST /api/v1/queries/execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKA\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":", half_close => 1);
  is($s, 400, 'truncated body (Content-Length 100, 8 bytes then EOF): 400');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => "{\"type\":\"log\",\"x\":\"\xff\xfe\"}");
  is($s, 400, 'invalid UTF-8 body: 400');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => '{"type":"log"}', headers => { 'Content-Type' => 'text/plain' });
  is($s, 415, 'text/plain body: 415'); is(err_code($b), 'unsupported_media_type', '... unsupported_media_type');
  $r = $http->request(POST => "$URL/api/v1/queries/execute", { headers => { Authorization => "Bearer $TOKA" }, content => '{"type":"log"}' });
  is($r->{status}, 415, 'no Content-Type: 415');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => '{"type":"log"}', headers => { 'Content-Type' => 'application/json; charset=utf-8' });
  is($s, 200, 'application/json; charset=utf-8 accepted');
  ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => ('[' x 100000) . (']' x 100000));
  is($s, 400, 'JSON nested 100000 deep: 400');
  my $deep = '{"type":"append","stream":"deep-1","events":[{"type":"D","data":' . ('[' x 900) . (']' x 900) . '}]}';
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => $deep);
  ok($s == 200 || ($s >= 400 && $s < 500), "JSON nested 900 deep in event data: $s (no 5xx)");
  for my $case (['{"type":', 'truncated JSON'], ['{"type":"log"} x', 'trailing garbage'], ['', 'empty body'],
                ['{"type":"log","s":"a\u0000b"}', 'escaped NUL in a string'], ['{"type":"log"}' . "\0", 'raw NUL byte']) {
    ($s, $b) = req(POST => '/api/v1/queries/execute', token => $TOKA, body => $case->[0]);
    ok($s >= 400 && $s < 500, "$case->[1]: $s (4xx)");
  }
  ($s, $b) = req(POST => '/api/v1/commands/execute', token => $TOKA, body => append_cmd('x' x 300, [[X => {}]]));
  ok($s >= 400 && $s < 500, "stream name over 255 bytes: $s (4xx)");
  ($s) = raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " . ('a' x 40000) . "\r\n\r\n");
  ok($s >= 400 && $s < 500, "40 KB header: $s (4xx)");
  ($s) = raw("GET /api/v1/streams/" . ('a' x 9000) . " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKA\r\nConnection: close\r\n\r\n");
  ok($s >= 400 && $s < 500, "9 KB URL: $s (4xx)");
  ($s) = raw("BREW /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ok($s >= 400 && $s < 500, "unknown method: $s (4xx)");
  ($s) = raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n");
  ok($s == 0 || ($s >= 400 && $s < 500), "TLS hello on plain HTTP: " . ($s || 'closed'));
  ($s) = raw("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n");
  ok($s == 0 || ($s >= 400 && $s < 500) || $s == 200, "negative Content-Length: " . ($s || 'closed'));
  ($s) = raw("POST /api/v1/queries/execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKA\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", half_close => 1);
  ok($s == 0 || ($s >= 400 && $s < 500), "malformed chunk size: " . ($s || 'closed'));
  ($s) = req(GET => '/api/v1/events', token => $TOKA . ('A' x 10000));
  ok($s == 401 || $s == 431 || $s == 400, "10 KB token: $s");
  ($s, $b) = req(GET => '/health');
  is($s, 200, 'gateway healthy after the hostile requests');
  my $fivexx = 0;
  for my $line (split /\n/, $http->get("$URL/metrics")->{content}) {
    $fivexx++ if $line =~ /^http_requests_total\{.*status_code="5\d\d"\} /;
  }
  is($fivexx, 0, 'no request so far answered 5xx');
}

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

# ---------- concurrency: parallel appends through the pool ----------
{
  my @kids;
  for my $k (1 .. 4) {
    my $pid = fork();
    if (!$pid) { my $h = HTTP::Tiny->new(timeout => 30 * $SLOW); my $bad = 0;
      for (1 .. 10) { my $r = $h->request(POST => "$URL/api/v1/commands/execute", { headers => { Authorization => "Bearer $TOKA", 'Content-Type' => 'application/json' },
        content => $json->encode(append_cmd('par-1', [[P => { k => $k }]])) }); $bad++ unless $r->{status} == 200 }
      exit($bad ? 1 : 0) }
    push @kids, $pid;
  }
  my $bad = 0; for (@kids) { waitpid($_, 0); $bad++ if $? }
  is($bad, 0, '4 clients x 10 appends to one stream: all 200');
  my ($s, $b) = req(GET => '/api/v1/streams/par-1', token => $TOKA);
  is($b->{version} // '', 40, '... stream version 40, versions gap-free');
}

print "1..$n\n";
exit($failed ? 1 : 0);
