# The async projection worker is woken by an append's commit only when a
# registered async projection wants one of the appended event types; the
# naptime is long here, so a projection that catches up within seconds
# proves the wake-up still happens when there is work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('wakeup');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'es_saas'
es_saas.worker_database = 'postgres'
es_saas.worker_count = 1
es_saas.worker_naptime = '60s'
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION es_saas;
CREATE TABLE applied (tenant text, position bigint);
CREATE FUNCTION applier(tenant text, event jsonb) RETURNS void LANGUAGE sql
AS $$ INSERT INTO applied VALUES (tenant, (event ->> 'position')::bigint) $$;
SELECT es_create_tenant('t' || i) FROM generate_series(1, 4) i;
});

# the contract's event-processing retries by default: 2 retries, 2 s -> 4 s
is($node->safe_psql('postgres', 'SHOW es_saas.worker_max_attempts'), '3',
	'default: 3 attempts at an event (2 retries)');
is($node->safe_psql('postgres', 'SHOW es_saas.worker_retry_delay'), '2s',
	'default: first retry after 2 s (then 4 s)');

my $worker_pid;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'es_saas projection worker'})
  or die 'no projection worker';
$worker_pid = $node->safe_psql('postgres', q{
	SELECT pid FROM pg_stat_activity WHERE backend_type = 'es_saas projection worker'});

# times the worker went to sleep and was woken (each latch wake-up is one)
sub worker_wakeups
{
	open(my $fh, '<', "/proc/$worker_pid/status") or die "worker $worker_pid: $!";
	my ($n) = map { /^voluntary_ctxt_switches:\s+(\d+)/ ? $1 : () } <$fh>;
	close($fh);
	return $n;
}

# $n commits of one event of $type each (one psql session, autocommit)
my $seq = 0;
sub append_commits
{
	my ($n, $type) = @_;
	my $sql = '';
	for my $i (1 .. $n)
	{
		$seq++;
		$sql .= "SELECT FROM es_append('t" . ($seq % 4 + 1) . "', 's-$seq', NULL, "
		  . "'[{\"type\": \"$type\", \"data\": {}}]');\n";
	}
	$node->safe_psql('postgres', $sql);
}

my $commits = 3000;

my $before = worker_wakeups();
append_commits($commits, 'E');
my $spent = worker_wakeups() - $before;
note "no projection registered: worker woken $spent times over $commits commits";
cmp_ok($spent, '<', 50, "no projection registered: $commits commits leave the worker asleep");

$node->safe_psql('postgres', q{
SELECT es_register_projection('only_other', 'applier(text,jsonb)', ARRAY['Other'], 'async')});
$before = worker_wakeups();
append_commits($commits, 'E');
$spent = worker_wakeups() - $before;
note "projection of another type: worker woken $spent times over $commits commits";
cmp_ok($spent, '<', 50, "an async projection of other event types does not wake the worker");

# a wanted type wakes it: caught up long before the 60 s naptime
append_commits(5, 'Other');
ok( $node->poll_query_until('postgres', q{SELECT count(*) = 5 FROM applied}, 't'),
	'an appended event a projection wants wakes the worker (applied well before the naptime)');
my $waited = $node->safe_psql('postgres', q{
	SELECT extract(epoch FROM now() - min(recorded_at)) < 30
	FROM es_read_log('t1', 0, 100000) WHERE type = 'Other'});
is($waited, 't', 'applied within 30 s of the append (naptime 60 s)');

$node->stop;
done_testing();
