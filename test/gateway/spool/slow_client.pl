#!/usr/bin/perl
# A slow-body client: POST /api/v1/commands/execute announcing
# Content-Length: 100000, then one byte every 2 s.  Prints
# "<status or -> <closed 0/1> <seconds until the answer> <seconds until closed>".
# Usage: slow_client.pl PORT TOKEN-or-"" MAX_SECONDS
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my ($port, $token, $max) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
$SIG{PIPE} = 'IGNORE';
my $t0 = time;
syswrite($s, "POST /api/v1/commands/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	. ($token ne '' ? "Authorization: Bearer $token\r\n" : '')
	. "Content-Length: 100000\r\n\r\n{");
my ($buf, $closed, $t_answer, $t_closed, $next) = ('', 0, -1, -1, $t0 + 2);
my $sel = IO::Select->new($s);
while (time - $t0 < $max) {
	if ($sel->can_read(0.05)) {
		my $n = sysread($s, my $b, 4096);
		if (!$n) { $closed = 1; $t_closed = time - $t0; last }
		$buf .= $b;
		$t_answer = time - $t0 if $t_answer < 0 && $buf =~ /\r\n\r\n/;
	}
	if (time >= $next) { syswrite($s, ' '); $next += 2 }
}
my ($st) = $buf =~ m{^HTTP/1\.1 (\d+)};
printf "%s %d %.2f %.2f\n", $st // '-', $closed, $t_answer, $t_closed;
