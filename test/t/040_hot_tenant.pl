# One hot tenant under the shared position counter (es_saas preloaded):
# 32 writers append to it, 1 transaction in 5 rolling back after its
# append, while a churner keeps a 16-entry counter table starting over (so
# the hot tenant's counter is rebuilt under load, positions.c rules 3 and
# 4) and the server is crashed (immediate stop) and restarted halfway.  A
# subscriber reads es_read_log from its checkpoint and commits what it saw
# with the new checkpoint (the last position it saw) in one transaction.
# At the end: it saw every committed event exactly once, in strictly
# increasing position order, never at or below the checkpoint it read
# from, and the committed positions are unique.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $phase_seconds = 10;

my $node = PostgreSQL::Test::Cluster->new('hot_tenant');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'es_saas'
es_saas.worker_count = 0
es_saas.position_cache_size = 16
max_connections = 60
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql(q{
CREATE EXTENSION es_saas;
SELECT es_create_tenant('hot');
SELECT count(*) FROM (SELECT es_create_tenant('churn' || i) FROM generate_series(1, 100) i) s;
CREATE SEQUENCE batches;
CREATE TABLE seen (batch bigint, ord bigint, position bigint, after bigint,
	PRIMARY KEY (batch, ord));
CREATE TABLE checkpoint (position bigint NOT NULL);
INSERT INTO checkpoint VALUES (0);
-- reads from the stored checkpoint; stores what it saw and the new
-- checkpoint in one transaction; with drain, runs until a read after the
-- deadline returns nothing
CREATE PROCEDURE subscribe(deadline timestamptz, drain bool)
LANGUAGE plpgsql AS $$
DECLARE
	c bigint;
	b bigint;
	last bigint;
BEGIN
	LOOP
		SELECT position INTO c FROM checkpoint;
		b := nextval('batches');
		INSERT INTO seen SELECT b, t.ordinality, t.position, c
			FROM es_read_log('hot', c, 200) WITH ORDINALITY AS t;
		SELECT position INTO last FROM seen WHERE batch = b ORDER BY ord DESC LIMIT 1;
		IF last IS NOT NULL THEN
			UPDATE checkpoint SET position = last;
		END IF;
		COMMIT;
		EXIT WHEN clock_timestamp() > deadline AND (NOT drain OR last IS NULL);
		PERFORM pg_sleep(0.002);
	END LOOP;
END
$$;
});

my $hot = $node->basedir . '/hot.sql';
open(my $fh, '>', $hot) or die "cannot write $hot: $!";
print $fh q{\set sid random(1, 300)
\set n random(1, 3)
\set rb random(0, 4)
BEGIN;
SELECT position FROM es_append('hot', 's-' || :sid, NULL,
	(SELECT jsonb_agg(jsonb_build_object('type', 'E', 'data', jsonb_build_object('i', i))) FROM generate_series(1, :n) i));
\if :rb = 0
ROLLBACK;
\else
COMMIT;
\endif
};
close($fh);
my $churn = $node->basedir . '/churn.sql';
open($fh, '>', $churn) or die "cannot write $churn: $!";
print $fh q{\set t random(1, 100)
SELECT position FROM es_append('churn' || :t, 's', NULL, '[{"type":"C","data":{}}]');
};
close($fh);

# writers, churner and subscriber for one phase; returns their harnesses
sub start_phase
{
	my @h;
	my ($out, $err) = ('', '');
	for my $spec ([ $hot, 32 ], [ $churn, 1 ])
	{
		push @h, IPC::Run::start(
			[ 'pgbench', '-n', '-c', $spec->[1], '-j', '2', '-T', $phase_seconds,
			  '-f', $spec->[0], '-h', $node->host, '-p', $node->port, 'postgres' ],
			'>', \$out, '2>', \$err);
	}
	push @h, IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
		  "CALL subscribe(clock_timestamp() + interval '$phase_seconds seconds', false)" ],
		'>', \$out, '2>', \$err);
	return @h;
}

my $started = time();
my $start_time = sql(q{SELECT pg_postmaster_start_time()});

# phase 1, cut short by a crash
my @phase1 = start_phase();
sleep($phase_seconds / 2);
my $before_crash = sql(q{SELECT count(*) FROM es_saas.events WHERE tenant_id = 'hot'});
ok($before_crash > 0, "$before_crash events of the hot tenant before the crash");
$node->stop('immediate');
$_->finish() for @phase1;    # they lost their server: exit status ignored
$node->start;
isnt(sql(q{SELECT pg_postmaster_start_time()}), $start_time, 'the server was restarted');

# phase 2 from the stored checkpoint, then drain
my @phase2 = start_phase();
my @writers = @phase2[ 0, 1 ];
$_->finish() for @phase2;
my $before_drain = sql(q{SELECT count(*) FROM seen});
is($writers[0]->result(0), 0, 'the 32 writers ran the second phase without error');
sql(q{CALL subscribe(clock_timestamp(), true)});

my $committed = sql(q{SELECT count(*) FROM es_saas.events WHERE tenant_id = 'hot'});
my $top = sql(q{SELECT max(position) FROM es_saas.events WHERE tenant_id = 'hot'});
ok($committed > 1000, "$committed committed events of the hot tenant");
ok($top > $committed, "holes from rolled-back appends ($top positions, $committed events)");
is(sql(q{SELECT count(DISTINCT position) FROM es_saas.events WHERE tenant_id = 'hot'}),
	$committed, 'committed positions are unique');
# a counter (rebuilt or not) never collides with es_append's own rows
my $collisions = () = slurp_file($node->logfile) =~ /could not allocate a log position/g;
is($collisions, 0, 'no append met a position already taken');
is(sql(q{SELECT count(*) FROM es_saas.events e WHERE tenant_id = 'hot'
	AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.position = e.position)}),
	'0', 'the subscriber saw every committed event');
is(sql(q{SELECT count(*) FROM seen s WHERE NOT EXISTS
	(SELECT 1 FROM es_saas.events e WHERE e.tenant_id = 'hot' AND e.position = s.position)}),
	'0', 'the subscriber saw only committed events');
is(sql(q{SELECT count(*) - count(DISTINCT position) FROM seen}), '0',
	'the subscriber saw each event once');
is(sql(q{SELECT count(*) FROM seen WHERE position <= after}), '0',
	'never a position at or below the checkpoint read from');
is(sql(q{SELECT count(*) FROM (SELECT position, lag(position) OVER (ORDER BY batch, ord) AS prev
	FROM seen) s WHERE prev >= position}), '0', 'positions strictly increasing in delivery order');
ok($before_drain > 0, "the subscriber saw $before_drain events while writers ran");

my $elapsed = time() - $started;
ok($elapsed < 120, "bounded in time ($elapsed s)");

$node->stop;
done_testing();
