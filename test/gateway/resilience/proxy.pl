#!/usr/bin/perl
# TCP proxy between the gateway and PostgreSQL for fault injection.
#   proxy.pl LISTEN_PORT TARGET_PORT CONTROL_DIR
# One forked child per connection.  When CONTROL_DIR/drop_commit exists, the
# first client write containing "COMMIT" claims it (the file is renamed away),
# is forwarded, the server's answer is read and thrown away (the transaction
# committed), and both sockets are closed: the gateway loses its connection
# mid-COMMIT with the outcome unknown.  Binds 127.0.0.1 only.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($lport, $tport, $ctl) = @ARGV;
$SIG{CHLD} = 'IGNORE';
my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $lport,
                               Listen => 64, ReuseAddr => 1) or die "listen: $!";
while (1) {
  my $c = $ls->accept or next;
  my $pid = fork;
  if (!defined $pid) { close $c; next; }
  if ($pid) { close $c; next; }
  close $ls;
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tport) or exit 0;
  my $sel = IO::Select->new($c, $s);
  while (1) {
    for my $r ($sel->can_read) {
      my $buf;
      my $n = sysread($r, $buf, 65536);
      exit 0 unless $n;
      if ($r == $c) {
        if (index($buf, "COMMIT") >= 0 && -e "$ctl/drop_commit"
            && rename("$ctl/drop_commit", "$ctl/dropped.$$")) {
          syswrite($s, $buf);
          my $ss = IO::Select->new($s);
          my $end = time + 2;
          while (time < $end && $ss->can_read(0.3)) { last unless sysread($s, my $x, 65536); }
          exit 0;     # both sockets close: the answer never reaches the gateway
        }
        syswrite($s, $buf);
      } else {
        syswrite($c, $buf);
      }
    }
  }
}
