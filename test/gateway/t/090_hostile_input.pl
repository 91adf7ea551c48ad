#!/usr/bin/perl
# 090_hostile_input.pl - hostile requests: oversized and truncated bodies,
# invalid UTF-8, media types, deep JSON, NULs, huge headers/URLs/tokens,
# unknown methods, TLS on plain HTTP, bad chunking; the gateway stays
# healthy and no request of the run so far answered 5xx.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

my ($ta, $TOKA) = area_tenant('hostile');

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

# ---------- request targets and versions civetweb handles before the gateway ----------
# "*" and absolute-form targets: civetweb 1.15 closes without a word; the
# gateway's connection_close hook answers 400 (contract error JSON)
{
  my $json_error = sub { my ($resp, $code) = @_;
    my ($body) = $resp =~ /\r\n\r\n(.*)\z/s; my $e = eval { $json->decode($body // '') };
    ref $e eq 'HASH' && ref $e->{error} eq 'HASH' && ($e->{error}{code} // '') eq $code
      && defined $e->{error}{message} && $resp =~ m{\r\nContent-Type: application/json\r\n}i };
  for my $case (['GET * HTTP/1.1', 'GET *'], ['OPTIONS * HTTP/1.1', 'OPTIONS *'],
                ['GET http://host/api/v1/events HTTP/1.1', 'absolute-form target'],
                ["GET http://127.0.0.1:$port/health HTTP/1.1", 'absolute-form target naming this server'],
                ['GET https://host:8443/x HTTP/1.1', 'absolute-form https target with a port']) {
    my ($s, $resp) = raw("$case->[0]\r\nHost: x\r\n\r\n");
    is($s, 400, "$case->[1]: 400, not a closed connection");
    ok($json_error->($resp, 'malformed_request'), "... error JSON malformed_request");
  }
  my ($s, $resp) = raw("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET * HTTP/1.1\r\nHost: x\r\n\r\n");
  ok($resp =~ m{^HTTP/1\.1 200 .*\r\n\r\n\{"status":"ok"\}HTTP/1\.1 400 }s, 'GET * after a keep-alive request: 200, then 400');
  for my $v ('HTTP/2.0', 'HTTP/9.9') {
    ($s, $resp) = raw("GET /health $v\r\nHost: x\r\n\r\n");
    is($s, 505, "$v request line: 505");
    ok($json_error->($resp, 'http_version_not_supported'), '... error JSON http_version_not_supported');
    ok($resp =~ m{^HTTP/1\.1 505 HTTP Version Not Supported\r\n}, '... with its reason phrase');
  }
  ($s) = req(GET => '/health');
  is($s, 200, 'gateway healthy after the odd request lines');
}

done();
