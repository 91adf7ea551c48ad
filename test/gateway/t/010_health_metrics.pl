#!/usr/bin/perl
# 010_health_metrics.pl - operations endpoints (/health, /health/live, /health/ready,
# /metrics, openapi.json) and routing errors (404, 405 + Allow, dot-dot).
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

# no tenant exists yet when this runs first: $TOKA names tenant A of the run

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
  sub is_deeply_empty { my ($v, $d) = @_; ok(ref $v eq 'ARRAY' && !@$v, $d) }
  for my $m (qw(process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes
                process_open_fds process_max_fds process_start_time_seconds)) {
    ok($r->{content} =~ /^# TYPE $m (gauge|counter)\n$m [0-9.e+]+$/m && $r->{content} =~ /^$m ([0-9.e+]+)$/m && $1 > 0, "/metrics has $m > 0");
  }
  my ($started) = $r->{content} =~ /^process_start_time_seconds ([0-9.]+)$/m;
  ok(defined $started && $started <= time() + 1 && $started > time() - 3600, 'process_start_time_seconds is the gateway start (Unix time)');
  ok($r->{content} =~ /^es_gateway_build_info\{version="\d+\.\d+\.\d+"\} 1$/m, 'es_gateway_build_info{version} 1');
  ok($r->{content} =~ /^es_gateway_sse_subscribers \d+$/m, 'es_gateway_sse_subscribers gauge');
  ($s, $b) = req(GET => '/api/v1/openapi.json');
  is($s, 200, 'openapi.json without auth 200');
  is($b->{openapi} // '', '3.1.0', 'OpenAPI 3.1 document');
  is_deeply_empty($b->{paths}{'/health'}{get}{security}, 'openapi: /health is public (security: [])');
  my %ids; $ids{$_->{operationId} // ''}++ for map { values %$_ } values %{ $b->{paths} };
  ok(!exists $ids{''} && !(grep { $_ > 1 } values %ids), 'openapi: every operation has a unique operationId');
  my @want = ('/health', '/health/live', '/health/ready', '/metrics', '/api/v1/tenants', '/api/v1/tenants/{id}',
              '/api/v1/commands/execute', '/api/v1/commands/{id}', '/api/v1/queries/execute',
              '/api/v1/streams/{stream}', '/api/v1/events', '/api/v1/openapi.json');
  ok(!(grep { !exists $b->{paths}{$_} } @want), 'openapi documents every contract route');
  ok(exists $b->{paths}{'/api/v1/tenants'}{post}{responses}{201}, 'openapi: POST /tenants answers 201');
}

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

done();
