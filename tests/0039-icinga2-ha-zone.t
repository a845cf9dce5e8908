#!/usr/bin/perl
# siteload --icinga2-api URL1,URL2 into an Icinga 2 HA zone (issue 19 Build 3, issue 18):
# two private Icinga 2 instances on 127.0.0.1, endpoints of one Zone "master" (certificates
# from `icinga2 pki`, SiteTest::icinga2_ha_start), siteload feeding the first endpoint:
#   1. results, acks (sticky, persistent), downtimes and comments imported through endpoint 1
#      are on both endpoints, field by field (scripts/sitediff against the remote), the
#      comments and downtimes once each and under the same names on both; no request reached
#      endpoint 2 (its log); the replication delay is printed (diag);
#   2. endpoint 1 stopped before the next bundle (a recovery, a comment added, one deleted, a
#      downtime deleted): siteload fails over to endpoint 2, exit 0, sequence recorded,
#      endpoint 2 shows the change; endpoint 1 started again gets it from endpoint 2's replay
#      log; no duplicates on either; what was deleted through endpoint 2 and comes back there
#      when endpoint 1 reconnects (Icinga issue 10022) is deleted by a run through endpoint 2
#      first, and nothing else is;
#   3. endpoint 1 stopped in the middle of a run: a site of 2,000 services, siteload frozen
#      (SIGSTOP) once endpoint 1 shows its first results, endpoint 1 stopped, siteload let go:
#      the rest goes to endpoint 2, exit 0, every result on both endpoints in the end, the
#      comment and downtime once;
#   4. both endpoints down: one line naming both URLs, exit 2 (retry later), sequence not
#      recorded; with the zone back the same bundle is applied.
#
# The zone's config: siteload writes the site's shadow config into --config-dir and runs the
# reload command. Icinga syncs config inside a zone only from the config master's zones.d
# (then it reloads the other endpoint itself); here both endpoints simply include the same
# --config-dir (one machine) and the reload command HUPs both. That is the simplest correct
# way: the objects are the same on both (the cluster matches objects by name; objects outside
# zones.d belong to the local zone, "master", on each), and what is tested is the state path.
# On real HA masters, --config-dir is the config master's zones.d/master (or a directory both
# read) and the reload command reloads the config master.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG _exit);
use Time::HiRes ();
use SiteTest qw(:DEFAULT slurp spew);
use SiteTest::Icinga2Api;

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(900);
umask 022;
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-ha-XXXXXX', TMPDIR => 1, CLEANUP => 1));
chmod 0755, $d;
make_path("$d/trust", "$d/state", "$d/sdstate", "$d/b");
make_path("$d/cfg", { mode => 0755 });

my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
for my $s (qw(alpha beta)) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$s"]);
    is($r->{rc}, 0, "keygen $s") or diag $r->{err};
    system('cp', "$d/$s.pub", "$d/trust/") == 0 or die;
}

# ---- the zone ------------------------------------------------------------------------------
my ($e1, $e2) = icinga2_ha_start(name => 'ha', conf => <<"EOC");
include_recursive "$d/cfg"
object Host "central-own" { check_command = "dummy"; enable_active_checks = false }
object Service "own-svc" { host_name = "central-own"; check_command = "dummy"; enable_active_checks = false }
EOC
pass("HA zone up: $e1->{api}{endpoint} and $e2->{api}{endpoint} connected");
# loadcmd(): siteload feeding endpoint 1, failing over to endpoint 2; loadcmd($e2, $e1) the other
# way round. The reload command names the daemons' pids of the moment (they are restarted below).
sub loadcmd {
    my @order = @_ ? @_ : ($e1, $e2);
    return ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--config-format', 'icinga2', '--reload-command', "kill -HUP $e1->{pid}; kill -HUP $e2->{pid}",
            '--reload-wait', '30', '--icinga2-api', join(',', map { $_->{api}{url} } @order), '--api-user', 'root',
            '--api-password-file', $e1->{api}{passfile}, '--api-ca', $e1->{api}{ca});
}
sub load { my (@b) = @_; run([loadcmd(), @b]) }
sub bundle {
    my ($name, @args) = @_;
    my $r = run([$SITEDUMP, @args, '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate",
                 '-s', $RLS, '-o', "$d/b/$name"]);
    is($r->{rc}, 0, "sitedump bundle $name") or diag $r->{err};
    return "$d/b/$name";
}
sub diff_ep {
    my ($ic, @o) = @_;
    return run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', 'unix:' . $ic->livestatus, '--ignore', 'last_check', @o]);
}
# comments (acknowledgement comments too) and downtimes of the site, one line each, sorted:
# endpoint against endpoint, field by field, duplicates included (sitediff compares each with
# the remote)
sub notes {
    my ($ic) = @_;
    my $c = $ic->query("GET comments\nColumns: host_name service_description entry_type persistent author comment entry_time");
    my $t = $ic->query("GET downtimes\nColumns: host_name service_description start_time end_time fixed duration author comment entry_time");
    return [ grep { !/^\w+\|central-own\|/ }
             sort(map { join '|', 'comment', map { $_ // '' } @$_ } @$c), sort(map { join '|', 'downtime', map { $_ // '' } @$_ } @$t) ];
}
sub dups { my %n; $n{$_}++ for @{ $_[0] }; return join "\n", grep { $n{$_} > 1 } sort keys %n }
# the acknowledgements' comments without times: these the remote has too (persistent included)
sub acks {
    my ($ic) = @_;
    return [ sort map { join '|', map { $_ // '' } @$_ }
             @{ $ic->query("GET comments\nColumns: host_name service_description persistent author comment\nFilter: entry_type = 4") } ];
}
# the API's names of the comments and downtimes: equal on both endpoints when the second got
# them by replication (a comment added again would have a name of its own)
sub api_names {
    my ($ic) = @_;
    my @n;
    for my $type (qw(comments downtimes)) {
        my ($st, $j) = api_get($ic, "/v1/objects/$type", body => '{"attrs":["author"]}');
        return undef unless ($st // 0) == 200;
        push @n, map { "$type:$_->{name}" } @{ $j->{results} || [] };
    }
    return join "\n", sort @n;
}
# POST /v1/actions requests an endpoint served, from its log (Icinga 2.13 logs each request
# at "information"; the FileLogger flushes within a second or so)
sub actions_seen {
    my ($ic) = @_;
    my $log = slurp($ic->{log}) // '';
    return scalar(() = $log =~ m{HttpServerConnection: Request:? POST /v1/actions/}g);
}
sub clean_everywhere {
    my ($what, @ics) = @_;
    for my $ic (@ics) {
        my $ep = $ic->{api}{endpoint};
        my $r = diff_ep($ic);
        is($r->{rc}, 0, "$what: $ep mirrors the remote field by field (but last_check), comments and downtimes as multisets")
            or diag $r->{out}, $r->{err};
        like($r->{out}, qr/sitediff: 0 differences \(5 hosts, 12 services compared\)/, "$what: $ep: all 17 objects compared");
        is(dups(notes($ic)), '', "$what: $ep: no comment or downtime twice");
        is_deeply(acks($ic), acks($rem), "$what: $ep: acknowledgements (author, comment, persistent) as on the remote");
    }
    return if @ics < 2;
    is_deeply(notes($ics[1]), notes($ics[0]), "$what: comments and downtimes the same on both endpoints, entry times too");
    is(api_names($ics[1]), api_names($ics[0]), "$what: ... and under the same names (replicated, not added again)");
}

# ---- config: both endpoints load the site's shadow config ---------------------------------
my $r = load(bundle('b0', '-C'));
is($r->{rc}, 0, 'config bundle through endpoint 1: exit 0') or diag $r->{err};
like($r->{err}, qr/5 hosts owned, 0 refused, config file written/, 'config written, 5 hosts owned');
sub knows_site {
    my ($ic) = @_;
    my $h = eval { $ic->query("GET hosts\nColumns: name\nFilter: name = pending host") } || [];
    return scalar @$h;
}
ok(wait_for(sub { knows_site($e1) && knows_site($e2) }, 60), 'both endpoints reloaded with the site\'s hosts');
ok(icinga2_ha_connected($e1, $e2, 60), 'the cluster connection is back after the reloads');

# ---- the replication delay: a result posted to endpoint 1, read back from endpoint 2 ------
{
    my @dt;
    for my $i (1 .. 5) {
        my $out = "own result $i";
        my ($st) = api_post($e1, '/v1/actions/process-check-result',
                            { type => 'Service', service => 'central-own!own-svc', exit_status => $i % 3, plugin_output => $out });
        my $t0 = Time::HiRes::time();
        my $seen = wait_for(sub {
            my (undef, $j) = api_get($e2, '/v1/objects/services/central-own!own-svc?attrs=last_check_result');
            ($j->{results}[0]{attrs}{last_check_result}{output} // '') eq $out }, 30, 0.01);
        push @dt, Time::HiRes::time() - $t0 if $seen && ($st // 0) == 200;
    }
    is(scalar @dt, 5, 'five results posted to endpoint 1 all seen on endpoint 2');
    @dt = sort { $a <=> $b } @dt;
    diag(sprintf 'replication endpoint 1 -> 2: a result on endpoint 2 within %.0f ms (median), %.0f ms (max), '
                 . 'as polled (one API query takes a few ms)', 1000 * $dt[2], 1000 * $dt[-1]) if @dt == 5;
}

# ---- 1. results, acks, downtimes, comments through endpoint 1: on both ---------------------
my $a1 = actions_seen($e1);
my $a2 = actions_seen($e2);
my $t0 = Time::HiRes::time();
$r = load(bundle('b1', '--all'));
my $t1 = Time::HiRes::time();
is($r->{rc}, 0, 'state through endpoint 1: exit 0') or diag $r->{err};
like($r->{err}, qr/config unchanged/, 'config unchanged: no reload');
my ($nres, $ncmd) = $r->{err} =~ /: (\d+) results for \d+ objects, .* sent (\d+) commands/;
ok($nres && $ncmd, "$nres results and $ncmd commands sent") or diag $r->{err};
my $lag;
ok(wait_for(sub { !diff_ep($e2)->{rc} && ($lag //= Time::HiRes::time() - $t1) }, 30, 0.1),
   'endpoint 2 shows the import');
diag(sprintf 'endpoint 2 mirrored the remote %.2f s after siteload (%.2f s) exited (first clean sitediff, '
             . 'one sitediff run takes about 0.1 s)', $lag, $t1 - $t0) if defined $lag;
clean_everywhere('import through endpoint 1', $e1, $e2);
ok(wait_for(sub { actions_seen($e1) >= $a1 + $nres + $ncmd }, 10), 'endpoint 1 served the requests (its log)')
    or diag actions_seen($e1) - $a1, " actions seen on endpoint 1";
is(actions_seen($e2), $a2, 'endpoint 2 served none: it has everything by replication');
my %acks = map { ("$_->{host_name};$_->{description}" => $_) }
    @{ $e2->query_hash("GET services\nColumns: host_name description acknowledged acknowledgement_type\nFilter: acknowledged = 1") };
is($acks{'web server 01;Ωmega check'}{acknowledgement_type}, 2, 'endpoint 2: the sticky ack is sticky');

# ---- 2. endpoint 1 down before the next bundle: failover to endpoint 2 ----------------------
$e1->halt;
ok(!eval { $e1->query("GET status\nColumns: program_start") }, 'endpoint 1 stopped');
my $ts = time - 5;
$rem->command("PROCESS_SERVICE_CHECK_RESULT;web server 01;load;0;LOAD OK - recovered|load1=0.1", $ts + 1);
$rem->command("ADD_HOST_COMMENT;gw;1;ivan;comment while endpoint 1 is down", $ts);
my $cms = $rem->query_hash("GET comments\nColumns: id\nFilter: author = bob\nFilter: entry_type = 1");   # not bob's ack
$rem->command("DEL_HOST_COMMENT;$cms->[0]{id}", $ts);
my $dts = $rem->query_hash("GET downtimes\nColumns: id\nFilter: service_description = mysql");
$rem->command("DEL_SVC_DOWNTIME;$dts->[0]{id}", $ts);
wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: host_name = web server 01\nFilter: description = load")->[0][0] == 0
               && @{ $rem->query("GET comments\nColumns: id\nFilter: author = ivan") } }, 20);
my $seq0 = slurp("$d/state/alpha.imported");
$a2 = actions_seen($e2);
$r = load(bundle('b2'));
is($r->{rc}, 0, 'endpoint 1 down: exit 0 (failed over to endpoint 2)') or diag $r->{err};
like($r->{err}, qr/acks 0 set 0 removed, downtimes 0 added 1 deleted, comments 1 added 1 deleted/,
     'the comment added, the comment and the downtime made through endpoint 1 deleted by name on endpoint 2')
    or diag $r->{err};
my $seq1 = slurp("$d/state/alpha.imported");
isnt($seq1, $seq0, 'sequence recorded');
ok(wait_for(sub { actions_seen($e2) > $a2 }, 10), 'endpoint 2 served the requests (its log)');
clean_everywhere('endpoint 1 down, endpoint 2', $e2);

my $t2 = Time::HiRes::time();
$e1->restart;
my $t3 = Time::HiRes::time();
ok(icinga2_ha_connected($e1, $e2, 60), 'endpoint 1 back, the zone connected again');
my $t4 = Time::HiRes::time();
ok(wait_for(sub { !diff_ep($e1)->{rc} }, 60, 0.1), 'endpoint 1 got the changes from endpoint 2 (replay log)');
diag(sprintf 'endpoint 1 restarted: Livestatus and API up in %.1f s, the zone connected %.1f s later, '
             . 'endpoint 1 caught up %.1f s after that (first clean sitediff)', $t3 - $t2, $t4 - $t3, Time::HiRes::time() - $t4);
clean_everywhere('after the resync', $e1);
# Icinga 2.13 (Icinga/icinga2 issue 10022, open): objects deleted through the API while the zone
# was apart come back on the endpoint that deleted them when the other one reconnects (it sends
# its runtime objects, which still hold them; it deletes its own copies from the replay log).
# So endpoint 2 may show again the comment and the downtime siteload deleted through it, and
# endpoint 1, which siteload reads first, does not: a run through endpoint 2 first deletes them
# (the deletion then reaches endpoint 1, which has nothing to delete).
# (they come with what endpoint 1 sends on connecting: waited for up to 20 s, both came in
# every run seen; without them the run below must delete nothing)
my @ghosts;
wait_for(sub { @ghosts = grep { !/^sitediff:/ } split /\n/, diff_ep($e2)->{out}; @ghosts >= 2 }, 20, 0.25);
ok(!grep({ !/^(?:downtime only on B: service 'db01;mysql' .* author 'dave'|comment only on B: host 'db01' author 'bob')/ } @ghosts),
   'endpoint 2 differs at most by what was deleted through it while endpoint 1 was away') or diag join "\n", @ghosts;
diag('endpoint 2 after endpoint 1 reconnected: ' . (@ghosts ? join('; ', @ghosts) . ' (back again: Icinga issue 10022)' : 'as the remote'));
sleep 1;
$r = run([loadcmd($e2, $e1), bundle('b2r')]);
is($r->{rc}, 0, 'a run through endpoint 2 first: exit 0') or diag $r->{err};
my ($gd) = grep { /^downtime/ } @ghosts;
my ($gc) = grep { /^comment/ } @ghosts;
like($r->{err}, qr/downtimes 0 added ${\($gd ? 1 : 0)} deleted, comments 0 added ${\($gc ? 1 : 0)} deleted/,
     'it deleted what came back, nothing else') or diag $r->{err};
ok(wait_for(sub { !diff_ep($e1)->{rc} && !diff_ep($e2)->{rc} }, 30, 0.1), 'both endpoints as the remote');
clean_everywhere('after a run through endpoint 2 first', $e1, $e2);

# ---- 3. endpoint 1 stopped in the middle of a run ----------------------------------------
# A site "beta" of 10 hosts x 200 services (crafted bundles): its config first, all OK; then a
# state bundle turning all 2,000 services CRITICAL, with a comment and a downtime. siteload
# sends one request at a time; it is frozen (SIGSTOP) as soon as endpoint 1 shows the first
# CRITICAL, endpoint 1 is stopped (TERM, waited for), and siteload goes on (SIGCONT). Where
# exactly it was frozen is not fixed (between two requests or waiting for a reply), but either
# way endpoint 1 is gone before the next request: the run must carry on to endpoint 2.
my ($NH, $NS) = (10, 200);
my $N = $NH * $NS;
my $now = int(time);
my $nb = 0;
sub beta_bundle {
    my ($kind, $state, $t, %x) = @_;
    my @h = map { snapshot_object(now => $t, name => "beta-h$_", check_command => 'x') } 1 .. $NH;
    my @s = map { my $h = $_; map { snapshot_object(now => $t, host_name => "beta-h$h", description => "s$_",
                                                    check_command => 'x', state => $state,
                                                    plugin_output => "S$state at $t") } 1 .. $NS } 1 .. $NH;
    my $json = snapshot_json(format => 'sitedump-snapshot', version => 1, site => 'beta', source => 'crafted',
        created => $t, parts => ['state', 'config'], hostgroups => [], servicegroups => [],
        hosts => \@h, services => \@s, comments => $x{comments} // [], downtimes => $x{downtimes} // []);
    $nb++;
    spew("$d/b/beta-$nb.json", $json);
    my $r = run([$SITEDUMP, '--snapshot', "$d/b/beta-$nb.json", $kind eq 'all' ? '--all' : (), '-k', "$d/beta.key",
                 '--site', 'beta', '--state-dir', "$d/sdstate", '-o', "$d/b/beta-$nb.bundle"]);
    ok(-s "$d/b/beta-$nb.bundle", "beta bundle $nb ($kind)") or diag $r->{err};
    return "$d/b/beta-$nb.bundle";
}
sub beta_count {   # beta's checked services in $state (and HARD) on an endpoint (undef: it does not answer)
    my ($ic, $state, $hard) = @_;
    my $x = eval { $ic->query("GET services\nFilter: host_name ~ ^beta-h\nFilter: has_been_checked = 1\n"
                              . ($hard ? "Filter: state_type = 1\n" : '') . "Stats: state = $state") } or return undef;
    return $x->[0][0];
}
$r = load(beta_bundle('all', 0, $now - 600));
is($r->{rc}, 0, 'beta: config and state (2,000 services OK): exit 0') or diag $r->{err};
ok(wait_for(sub { (beta_count($e1, 0) // 0) == $N && (beta_count($e2, 0) // 0) == $N }, 120),
   'beta: 2,000 services OK on both endpoints');
ok(icinga2_ha_connected($e1, $e2, 60), 'the zone connected after the reloads');

my %bx = (comments => [ { id => 1, host_name => 'beta-h1', service_description => 's1', entry_type => 1, author => 'otto',
                          comment => 'beta comment, sent after the results', persistent => JSON::PP::true, entry_time => $now - 50 } ],
          downtimes => [ { id => 1, host_name => 'beta-h2', service_description => undef, start_time => $now - 100,
                           end_time => $now + 3600, fixed => JSON::PP::true, duration => 3700, triggered_by => 0,
                           author => 'otto', comment => 'beta downtime', entry_time => $now - 50 } ]);
my $bb = beta_bundle('state', 2, $now - 30, %bx);
my $bseq0 = slurp("$d/state/beta.imported");
my ($out, $err) = ("$d/mid.out", "$d/mid.err");
my $pid = fork() // die "fork: $!";
if (!$pid) {
    open(STDOUT, '>', $out) or _exit(127);
    open(STDERR, '>', $err) or _exit(127);
    { exec { $SITELOAD } loadcmd(), $bb };
    _exit(127);
}
my $rc;
my $reaped = sub { return 1 if defined $rc; return 0 if waitpid($pid, WNOHANG) != $pid; $rc = $? >> 8; return 1 };
wait_for(sub { $reaped->() || (beta_count($e1, 2) // 0) > 0 }, 120, 0.02);
kill 'STOP', $pid unless defined $rc;
my $k = beta_count($e1, 2) // 0;
ok(!defined $rc && $k > 0 && $k < $N, "siteload frozen after endpoint 1 took $k of $N results (mid-run)")
    or diag 'siteload ' . (defined $rc ? "had already exited ($rc)" : 'running') . ", endpoint 1: $k CRITICAL";
$e1->halt;
kill 'CONT', $pid;
wait_for($reaped, 300, 0.1);
is($rc, 0, 'endpoint 1 stopped mid-run: exit 0') or diag slurp($err);
like(slurp($err) // '', qr/: \d+ results for ${\($N + $NH)} objects, .*downtimes 1 added 0 deleted, comments 1 added 0 deleted/,
     "results for all $N services, the comment and the downtime sent")
    or diag slurp($err);
isnt(slurp("$d/state/beta.imported"), $bseq0, 'beta: sequence recorded');
ok(wait_for(sub { (beta_count($e2, 2, 1) // 0) == $N }, 60), "endpoint 2: all $N services CRITICAL HARD (none lost)")
    or diag 'endpoint 2: ', beta_count($e2, 2), " CRITICAL";
my $bnotes = sub {
    my ($ic) = @_;
    return [ map { s/\|\d+\z//r } grep { /\|otto\|/ } @{ notes($ic) } ];   # without entry_time
};
my $want_b = [ 'comment|beta-h1|s1|1|1|otto|beta comment, sent after the results',
               # a fixed downtime's duration goes as 0 (Icinga ignores it; the remote fixture's are 0 too)
               "downtime|beta-h2||" . ($now - 100) . '|' . ($now + 3600) . '|1|0|otto|beta downtime' ];
is_deeply($bnotes->($e2), $want_b, 'endpoint 2: beta\'s comment and downtime once each');
$e1->restart;
ok(icinga2_ha_connected($e1, $e2, 60), 'endpoint 1 back, connected');
ok(wait_for(sub { (beta_count($e1, 2, 1) // 0) == $N && @{ $bnotes->($e1) } == 2 }, 60, 0.25),
   "endpoint 1 caught up: all $N services CRITICAL HARD") or diag 'endpoint 1: ', beta_count($e1, 2), " CRITICAL";
is_deeply($bnotes->($e1), $want_b, 'endpoint 1: beta\'s comment and downtime once each');
is(api_names($e1), api_names($e2), 'the same comment and downtime names on both endpoints');
clean_everywhere('alpha after beta\'s run', $e1, $e2);

# ---- 4. both endpoints down: exit 2, sequence not recorded; then applied -------------------
$rem->command("ADD_HOST_COMMENT;db01;1;judy;while the zone is down", time - 2);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = judy") } }, 20);
my $b3 = bundle('b3');
$e1->halt;
$e2->halt;
my $seq2 = slurp("$d/state/alpha.imported");
$r = run([loadcmd(), '--reload-wait', '5', $b3]);
is($r->{rc}, 2, 'both endpoints down: exit 2 (retry later)');
my @l = split /\n/, $r->{err};
ok(@l == 1 && $l[0] =~ /\Q$e1->{api}{url}\E/ && $l[0] =~ /\Q$e2->{api}{url}\E/ && $l[0] =~ /connect/i,
   'both endpoints down: one line naming both URLs and the cause') or diag $r->{err};
diag("both endpoints down: $l[0]") if @l;
is(slurp("$d/state/alpha.imported"), $seq2, 'both endpoints down: sequence not recorded');
$e2->restart;
$r = load($b3);
is($r->{rc}, 0, 'endpoint 2 back (endpoint 1 still down): the same bundle applied') or diag $r->{err};
like($r->{err}, qr/comments 1 added 0 deleted/, 'the comment added');
$e1->restart;
ok(icinga2_ha_connected($e1, $e2, 60), 'the zone whole again');
ok(wait_for(sub { !diff_ep($e1)->{rc} }, 60, 0.25),
   'endpoint 1 caught up');
clean_everywhere('the end', $e1, $e2);

done_testing;
