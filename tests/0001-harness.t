#!/usr/bin/perl
# Proves the integration-test harness itself (tests/lib/SiteTest.pm): the remote fixture
# really holds the situations it describes, status.dat is written, a private Nagios 4 runs,
# and no daemon survives - neither stop(), nor a test script that is killed midway.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT session_pids slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);

my $t0 = time;
my ($ic, $fx) = remote_fixture(name => 'harness');
ok($ic, sprintf 'remote fixture up in %.1fs', time - $t0);
my $now = time;

# ---------------------------------------------------------------------------------------
# Livestatus: the fixture is what it claims to be
my $svc = $ic->query_hash("GET services\nColumns: host_name description state state_type current_attempt "
    . "max_check_attempts has_been_checked plugin_output long_plugin_output perf_data last_check "
    . "acknowledged acknowledgement_type scheduled_downtime_depth groups custom_variables "
    . "check_interval retry_interval latency execution_time contacts contact_groups");
my %S = map { ("$_->{host_name}/$_->{description}" => $_) } @$svc;
my $hosts = $ic->query_hash("GET hosts\nColumns: name alias address parents groups state state_type "
    . "current_attempt has_been_checked acknowledged acknowledgement_type scheduled_downtime_depth "
    . "custom_variables notes notes_url action_url icon_image last_check contacts contact_groups");
my %H = map { ($_->{name} => $_) } @$hosts;

cmp_ok(scalar(@$hosts), '>=', 4, 'at least 4 hosts');
cmp_ok(scalar(@$svc), '>=', 12, 'at least 12 services');
ok($H{'web server 01'}, 'host name with spaces');
ok($H{'häst-ü'}, 'host name with UTF-8');
ok($S{'web server 01/disk /var'}, 'service name with space and slash');
ok($S{'web server 01/Ωmega check'}, 'service name with UTF-8');

# every service matches the fixture's description
for my $h (sort keys %{ $fx->{services} }) {
    for my $s (sort keys %{ $fx->{services}{$h} }) {
        my ($e, $r) = ($fx->{services}{$h}{$s}, $S{"$h/$s"});
        ok($r, "service $h/$s exists") or next;
        is_deeply([ @$r{qw(state state_type current_attempt has_been_checked)}, $r->{acknowledged} ? 1 : 0 ],
                  [ @$e{qw(state state_type icinga_attempt checked acknowledged)} ],
                  "$h/$s: state/type/attempt/checked/ack as described");
        next unless $e->{checked};
        is($r->{last_check}, $e->{last_check}, "$h/$s: last_check is the last result's ts");
        cmp_ok($r->{last_check}, '<', $now, "$h/$s: last_check lies in the past");
        is($r->{plugin_output}, $e->{plugin_output}, "$h/$s: plugin_output");
        is($r->{perf_data}, $e->{perf_data}, "$h/$s: perf_data");
    }
}
for my $h (sort keys %{ $fx->{hosts} }) {
    my ($e, $r) = ($fx->{hosts}{$h}, $H{$h});
    ok($r, "host $h exists") or next;
    is_deeply([ @$r{qw(state state_type has_been_checked)}, $r->{acknowledged} ? 1 : 0 ],
              [ @$e{qw(state state_type checked acknowledged)} ], "host $h: state/type/checked/ack as described");
}

# the individual situations, spelled out
my $s;
$s = $S{'web server 01/disk /var'};
is_deeply([ @$s{qw(state state_type current_attempt max_check_attempts)} ], [1, 0, 2, 4], 'SOFT WARNING, attempt 2 of 4');
$s = $S{'web server 01/load'};
is_deeply([ @$s{qw(state state_type current_attempt)} ], [2, 0, 2], 'SOFT CRITICAL, attempt 2');
$s = $S{'web server 01/Ωmega check'};
is_deeply([ @$s{qw(state state_type current_attempt)} ], [2, 1, 1], 'HARD CRITICAL (Icinga shows attempt 1 when hard)');
is($s->{plugin_output}, 'CRIT first line', 'multi-line: first line');
is($s->{long_plugin_output}, 'second line\nthird', 'multi-line: long output with literal backslash-n');
is($s->{perf_data}, 'a=1;2;3 b=2s', 'multi-line: perf data from both lines');
ok($s->{acknowledged} && $s->{acknowledgement_type} == 2, 'sticky acknowledgement');
is_deeply($s->{groups}, ['critical'], 'service groups');
is($s->{check_interval}, 5, 'check_interval in minutes');
is($s->{retry_interval}, 1, 'retry_interval in minutes');
$s = $S{'häst-ü/ping'};
ok($s->{acknowledged} && $s->{acknowledgement_type} == 1 && $s->{state} == 2 && $s->{state_type} == 1,
   'HARD CRITICAL with a normal acknowledgement');
$s = $S{'häst-ü/ssh'};
is_deeply([ @$s{qw(state state_type)} ], [3, 1], 'HARD UNKNOWN');
$s = $S{'db01/backup'};
like($s->{plugin_output}, qr/C:\\temp/, 'output with a backslash');
$s = $S{'db01/mysql'};
is($s->{scheduled_downtime_depth}, 1, 'service in fixed downtime');
$s = $S{'web server 01/http'};
is_deeply($s->{custom_variables}, [['port', '80'], ['proto', 'https']], 'service custom variables');
for my $p ('web server 01/never run', 'pending host/ping') {
    $s = $S{$p};
    is_deeply([ @$s{qw(has_been_checked state state_type last_check perf_data latency)} ],
              [0, 3, 0, -1, undef, undef], "$p is pending (never checked)");
}
my $h = $H{'häst-ü'};
is_deeply([ @$h{qw(state state_type)} ], [1, 1], 'host HARD DOWN');
ok($h->{acknowledged}, 'host acknowledged');
is($h->{scheduled_downtime_depth}, 1, 'host in fixed downtime');
is($H{'pending host'}{has_been_checked}, 0, 'pending host never checked');
$h = $H{'web server 01'};
is_deeply($h->{custom_variables}, [['os', 'Linux'], ['rack', 'R4']], 'host custom variables');
is_deeply($h->{parents}, ['gw'], 'host parents (through a Dependency)');
is_deeply($h->{groups}, ['linux', 'web'], 'host groups');
is($h->{alias}, 'Web server one', 'alias = display_name');
is($h->{notes}, 'Front web; rack 4', 'notes');
is($h->{notes_url}, 'https://wiki.example/web01', 'notes_url');
is($h->{action_url}, 'https://grafana.example/d/web01?var=a', 'action_url');
is($h->{icon_image}, 'web.png', 'icon_image');
is_deeply([ sort @{ $h->{contacts} } ], ['alice', 'carol'], 'host contacts (users and group members of its Notification)');
is_deeply($h->{contact_groups}, ['admins'], 'host contact_groups');
is_deeply([ sort @{ $S{'web server 01/http'}{contacts} } ], ['alice', 'bob'], 'service contacts');

my %hg = map { @$_ } @{ $ic->query("GET hostgroups\nColumns: name alias") };
is_deeply(\%hg, $fx->{hostgroups}, 'hostgroups name/alias');
my %sg = map { @$_ } @{ $ic->query("GET servicegroups\nColumns: name alias") };
is_deeply(\%sg, $fx->{servicegroups}, 'servicegroups name/alias');

# downtimes
my $dts = $ic->query_hash("GET downtimes\nColumns: id host_name service_description author comment "
    . "start_time end_time fixed duration type is_service triggered_by entry_time");
is(scalar(@$dts), 3, 'three downtimes');
my %D = map { (($_->{service_description} // '') . "\@$_->{host_name}" => $_) } @$dts;
my $d = $D{'mysql@db01'};
ok($d && $d->{fixed} && $d->{type} == 1 && $d->{start_time} < $now && $d->{end_time} > $now,
   'fixed service downtime in effect (start past, end future)');
is($d->{comment}, 'DB maintenance; fixed', 'downtime comment keeps ;');
$d = $D{'@häst-ü'};
ok($d && $d->{fixed} && $d->{type} == 1 && $d->{is_service} == 0, 'fixed host downtime in effect');
$d = $D{'backup@db01'};
ok($d && !$d->{fixed} && $d->{duration} == 600 && $d->{type} == 0 && $d->{start_time} > $now,
   'flexible downtime (600s) in a future window, not in effect');

# comments
my $cms = $ic->query_hash("GET comments\nColumns: id host_name service_description author comment entry_type type persistent");
my @user = grep { $_->{entry_type} == 1 } @$cms;
my @ack  = grep { $_->{entry_type} == 4 } @$cms;
is(scalar(@user), 3, 'three user comments');
is(scalar(@ack), 3, 'three acknowledgement comments (entry_type 4)');
ok((grep { $_->{comment} eq 'needs attention; check tomorrow' && $_->{author} eq 'alice'
           && $_->{service_description} eq 'load' } @user), 'service comment with ; in the text');
ok((grep { $_->{comment} eq 'maintenance; see ticket #42 = ok' && !defined $_->{service_description} } @user),
   'host comment with ; in the text');
ok((grep { $_->{author} eq 'zoë' && $_->{comment} eq 'Größe prüfen' } @user), 'UTF-8 comment author and text');

# errors come back as errors
eval { $ic->query("GET services\nColumns: no_such_column") };
like($@, qr/452.*no_such_column/, 'query dies with the server text on a bad column');
eval { $ic->command("ACKNOWLEDGE_SVC_PROBLEM;gw;ping;2;0;1;x;y") };
like($@, qr/452.*OK/, 'command dies with the server text (ack on OK refused)');

# ---------------------------------------------------------------------------------------
# status.dat / objects.cache of the same instance
ok(-s $ic->status_file, 'Icinga status.dat written');
my $st = $ic->wait_status(sub { $_[0]{services}{'web server 01'}{'disk /var'} }, 10);
ok($st, 'status.dat parsed');
is($st->{services}{'web server 01'}{'disk /var'}{current_attempt}, 2, 'status.dat: soft attempt 2');
is($st->{services}{'web server 01'}{'disk /var'}{state_type}, 0, 'status.dat: soft');
is($st->{services}{'web server 01'}{'Ωmega check'}{long_plugin_output}, 'second line\nthird',
   'status.dat: long output escaped');
is(scalar(@{ $st->{downtimes} }), 3, 'status.dat: 3 downtimes');
is(scalar(@{ $st->{comments} }), 6, 'status.dat: 6 comments (3 user, 3 ack)');
ok(defined $st->{programstatus}{icinga_pid}, 'status.dat: icinga_pid');
my $oc = $ic->objects;
is_deeply([ sort keys %{ $oc->{host} } ], [ sort keys %{ $fx->{hosts} } ], 'objects.cache: all hosts');
is($oc->{servicegroup}{disks}{alias}, 'Disk checks', 'objects.cache: servicegroup (Icinga ends it with "}" without TAB)');

# ---------------------------------------------------------------------------------------
# a private Nagios 4
my $objs = <<'EOF';
define host {
	use	sitetest-host
	host_name	n1
	address	127.0.0.1
}
define service {
	use	sitetest-service
	host_name	n1
	service_description	svc one
}
EOF
my ($vrc, $vout) = nagios_verify([$objs], base => 1);
is($vrc, 0, 'nagios_verify: tiny config valid') or diag $vout;
($vrc, $vout) = nagios_verify(["define host {\n\thost_name x\n\tcheck_period nope\n}\n"]);
isnt($vrc, 0, 'nagios_verify: broken config rejected');
like($vout, qr/Error/, 'nagios_verify: output has the error');

$t0 = time;
my $ng = nagios_start(objects => $objs, name => 'harness');
ok($ng, sprintf 'nagios started in %.1fs', time - $t0);
ok(-p $ng->command_file, 'command FIFO exists');
ok(-d $ng->checkresult_dir, 'checkresult dir exists');
$st = $ng->status;
is($st->{programstatus}{nagios_pid}, $ng->pid, 'status.dat from our Nagios');
is($st->{services}{n1}{'svc one'}{has_been_checked}, 0, 'service not yet checked');

my $ts = int(time) - 30;
$ng->submit_checkresult("file_time=" . int(time) . "\n\nhost_name=n1\nservice_description=svc one\ncheck_type=1\n"
    . "start_time=$ts.000000\nfinish_time=$ts.250000\nreturn_code=2\noutput=CRIT one|x=1\\nlong two\n\n");
$st = $ng->wait_status(sub { ($_[0]{services}{n1}{'svc one'}{current_state} // 0) == 2 }, 20);
ok($st, 'checkresult file applied');
is($st && $st->{services}{n1}{'svc one'}{last_check}, $ts, 'last_check = start_time');
is($st && $st->{services}{n1}{'svc one'}{long_plugin_output}, 'long two', 'long output');
my @left = glob($ng->checkresult_dir . '/c*');
is_deeply(\@left, [], 'checkresult file and .ok consumed');

$ng->command("ADD_SVC_COMMENT;n1;svc one;1;tester;hello; world", int(time) - 5);
$st = $ng->wait_status(sub { @{ $_[0]{comments} } }, 20);
ok($st && $st->{comments}[0]{comment_data} eq 'hello; world', 'command through the FIFO');

# ---------------------------------------------------------------------------------------
# stop: nothing survives
my ($isid, $nsid, $idir, $ndir) = ($ic->{sid}, $ng->{sid}, $ic->dir, $ng->dir);
ok(scalar($ic->processes) >= 1 && scalar($ng->processes) >= 1, 'daemon processes visible before stop');
$ic->stop;
$ng->stop;
is_deeply([ session_pids($isid) ], [], 'icinga2 processes gone after stop');
is_deeply([ session_pids($nsid) ], [], 'nagios4 processes (and workers) gone after stop');
ok(!-e $idir && !-e $ndir, 'temp dirs removed') unless $ENV{SITETEST_KEEP};

# ---------------------------------------------------------------------------------------
# a test script killed midway leaves nothing behind (signal handler; guardian for SIGKILL)
my $victim = "$FindBin::Bin/lib/.victim-$$.pl";
spew($victim, <<"EOF");
use strict; use warnings; use lib '$FindBin::Bin/lib'; use SiteTest;
\$| = 1;
my \$ic = icinga2_start(conf => '', name => 'victim');
my \$ng = nagios_start(objects => q{$objs}, name => 'victim');
print "READY \$ic->{sid} \$ng->{sid} \$ic->{dir} \$ng->{dir}\\n";
die "dying on purpose\\n" if \$ARGV[0] eq 'die';
sleep 120;
EOF
for my $how (qw(TERM INT KILL die)) {
    my $out = "$victim.$how.out";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open(STDOUT, '>', $out); open(STDERR, '>&', \*STDOUT);
        $SIG{INT} = 'DEFAULT';
        exec($^X, $victim, $how) or POSIX::_exit(127);
    }
    my $ready = SiteTest::wait_for(sub { (slurp($out) // '') =~ /^READY (\d+) (\d+) (\S+) (\S+)$/m && [$1, $2, $3, $4] }, 60);
    ok($ready, "victim ($how) started its daemons") or diag slurp($out);
    kill $how, $pid if $how ne 'die';
    waitpid($pid, 0);
    next unless $ready;
    my $gone = SiteTest::wait_for(sub {
        !session_pids($ready->[0]) && !session_pids($ready->[1]) && !-e $ready->[2] && !-e $ready->[3]
    }, 30);
    ok($gone, "victim killed by $how: no daemon and no temp dir left")
        or diag "left: @{[ session_pids($ready->[0]), session_pids($ready->[1]) ]}\n" . slurp($out);
    unlink $out;
}
unlink $victim;

done_testing;
