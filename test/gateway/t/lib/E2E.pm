# E2E.pm - what every test/gateway/t/*.pl file shares: the environment
# run_e2e.sh provides, TAP output (ok/is/diag/done), JWTs (HS256/RS256/ES256),
# HTTP helpers and per-file tenants.  Each .pl file is one area of the REST
# contract and stands alone: it creates the tenants it uses (area_tenant) and
# its own streams, so the files can run in any order against one gateway pair.
package E2E;
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
use Exporter 'import';

our @EXPORT = qw($URL $URL_EC $SECRET $SLOW $host $port $json $http $run $TA $TB $ADMIN $TOKA $TOKB
                 ok is diag like_ct done b64u signing_input claims hs rs es
                 req err_code uuid append_cmd raw area_tenant setup_ok time sleep);

our $URL    = $ENV{ES_E2E_URL}    or die "ES_E2E_URL";
our $URL_EC = $ENV{ES_E2E_URL_EC} or die "ES_E2E_URL_EC";
our $SECRET = $ENV{ES_E2E_SECRET} or die "ES_E2E_SECRET";
our $SLOW   = $ENV{ES_E2E_SLOW} || 1;     # timeout multiplier (valgrind/asan)
our ($host, $port) = $URL =~ m{^http://([^:/]+):(\d+)};

our $json = JSON::PP->new->utf8->canonical->allow_nonref;
$SIG{PIPE} = 'IGNORE';
our $http = HTTP::Tiny->new(timeout => 30 * $SLOW, keep_alive => 1);
my $n = 0; my $failed = 0;
$| = 1;

sub ok { my ($c, $d) = @_; $n++; $failed++ unless $c; print(($c ? "ok" : "not ok") . " $n - $d\n"); return $c; }
sub is { my ($g, $w, $d) = @_; my $r = ok(defined $g && defined $w ? $g eq $w : !defined $g && !defined $w, $d);
         print "#   got: " . (defined $g ? $g : 'undef') . "\n#   expected: " . (defined $w ? $w : 'undef') . "\n" unless $r; $r }
sub diag { print map { "# $_\n" } split /\n/, join '', @_ }
sub like_ct { my ($r, $re, $d) = @_; ok(($r->{headers}{'content-type'} // '') =~ $re, $d) }
# the plan line and the exit status; call at the end of every file
sub done { print "1..$n\n"; exit($failed ? 1 : 0) }

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

our $run = sprintf "%x%x", time(), $$;
our $TA = $ENV{ES_E2E_TA} || "e2e-a-$run"; our $TB = $ENV{ES_E2E_TB} || "e2e-b-$run";
our $ADMIN = hs(claims(sub => 'ops', roles => ['admin']));
our $TOKA  = hs(claims(sub => 'alice', tenant_id => $TA, roles => ['user']));
our $TOKB  = hs(claims(sub => 'bob', tenant_id => $TB));
# run_e2e.sh's own checks after the files (suspension, timeout, drain) use tenant A
if ($ENV{ES_E2E_TOKEN_FILE}) { open my $f, '>', $ENV{ES_E2E_TOKEN_FILE}; print $f $TOKA; close $f }
if ($ENV{ES_E2E_TOKEN_EC_FILE}) { open my $f, '>', $ENV{ES_E2E_TOKEN_EC_FILE}; print $f es(claims(tenant_id => $TA, aud => undef, iss => undef, exp => time() + 3600)); close $f }

# ---------- response recording (checked against the OpenAPI document) ----------
# With ES_E2E_RECORD set, every answer an e2e request gets -- through any
# HTTP::Tiny object or raw() -- is appended to that file as one JSON line;
# run_e2e.sh then validates each against the schema of its route + status
# (test/gateway/client/validate_responses.js).
sub record {
  my ($method, $target, $status, $ctype, $body) = @_;
  my $file = $ENV{ES_E2E_RECORD} or return;
  return unless $status && $status =~ /^\d{3}$/ && $status < 599;
  my $path = $target; $path =~ s{^https?://[^/]+}{}; $path =~ s/[?#].*//s;
  my $line = JSON::PP->new->canonical->encode({ method => $method, path => $path, status => 0 + $status,
    content_type => $ctype // '', body => $body // '' }) . "\n";
  open(my $f, '>>:raw', $file) or return;
  syswrite $f, $line;   # one write per line: forked children append safely
  close $f;
}
{
  no warnings 'redefine';
  my $orig = \&HTTP::Tiny::request;
  *HTTP::Tiny::request = sub {
    my ($self, $method, $url) = @_;
    my $r = $orig->(@_);
    record($method, $url, $r->{status}, $r->{headers}{'content-type'}, $r->{content});
    return $r;
  };
}
# the first response of a raw exchange, when its request line and body are whole
sub record_raw {
  my ($bytes, $resp) = @_;
  my ($method, $target) = $bytes =~ m{^([A-Z]+) (\S+) HTTP/1\.[01]\r\n} or return;
  # "*" and absolute-form targets are never routed: record them as no route
  $target = '/*not-origin-form*' unless $target =~ m{^/};
  my ($st) = $resp =~ m{^HTTP/1\.[01] (\d{3})} or return;
  my $he = index($resp, "\r\n\r\n"); return if $he < 0;
  my $head = substr($resp, 0, $he);
  my ($ct) = $head =~ m{^Content-Type:\s*([^\r\n]*)}mi;
  my ($cl) = $head =~ m{^Content-Length:\s*(\d+)}mi;
  return unless defined $cl && length($resp) >= $he + 4 + $cl;
  record($method, $target, $st, $ct, substr($resp, $he + 4, $cl));
}

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
  record_raw($bytes, $resp);
  return ($st || 0, $resp);
}

# Set-up steps are not assertions: a failure ends the file with a reason
# (run_e2e.sh then reports the file as not run to completion).
sub setup_ok { my ($c, $what) = @_; return 1 if $c; print "# setup failed: $what\n"; print "1..$n\n"; exit 1 }

# A tenant of this file's own, created through the API as an administrator
# (201, or 409 when it exists already), with a token for it.  Without an
# argument: tenant A / B of the run (ES_E2E_TA / ES_E2E_TB), which
# run_e2e.sh's own checks use too.
#   my ($tenant, $token) = area_tenant('streams');
sub area_tenant {
  my ($area, %claims) = @_;
  my $id = !defined $area ? $TA : $area eq 'B' ? $TB : "$TA-$area";
  my ($s) = req(POST => '/api/v1/tenants', token => $ADMIN, body => { id => $id });
  setup_ok($s == 201 || $s == 409, "create tenant $id (got $s)");
  return ($id, hs(claims(sub => 'alice', tenant_id => $id, roles => ['user'], %claims)));
}

1;
