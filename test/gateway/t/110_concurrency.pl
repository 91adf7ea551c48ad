#!/usr/bin/perl
# 110_concurrency.pl - parallel appends through the connection pool: 4 clients x
# 10 appends to one stream, all 200, versions gap-free.
# Driven by run_e2e.sh (which provides the environment); prints TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use E2E;

my ($ta, $TOKA) = area_tenant('parallel');

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

done();
