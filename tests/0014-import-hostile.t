#!/usr/bin/perl
# A hostile remote (issue 4, safety): names, outputs, authors and comments holding ';', LF, CR,
# "[123] SHUTDOWN_PROGRAM", "\nCOMMAND [1] ..." and an empty line, carried in a signed bundle
# (made by sitedump --snapshot from a crafted snapshot document), imported into a real Icinga 2
# (Livestatus COMMAND) and a real Nagios 4 (spool + FIFO). Checked on the cores themselves:
# notifications still enabled, both still running, only the commands siteload meant in the
# Nagios log, the hostile text arrived as text, names that cannot be addressed refused with
# their reason, and nothing of another site or of the central touched.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(600);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $d = abs_path(tempdir('sd-hostile-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/sdstate", "$d/cfg-ic", "$d/cfg-ng", "$d/st-ic", "$d/st-ng");
# run: SiteTest::run (timeout 180 s)

my $now = int(time);
my $INJ  = "\n[$now] SHUTDOWN_PROGRAM\nCOMMAND [$now] DISABLE_NOTIFICATIONS\n\nCOMMAND [$now] SHUTDOWN_PROGRAM";
my $INJ2 = "x;1;$now] DISABLE_NOTIFICATIONS\r[$now] DISABLE_NOTIFICATIONS";
sub obj { snapshot_object(now => $now, check_command => 'check_evil', @_) }
my @hosts = (
    obj(name => 'evil host', plugin_output => "UP$INJ", perf_data => "rta=1ms$INJ"),
    obj(name => "semi;colon host"),
    obj(name => "newline\n[$now] SHUTDOWN_PROGRAM"),
);
my @services = (
    obj(host_name => 'evil host', description => 'output', state => 2, state_type => 1,
        plugin_output => "CRITICAL $INJ2 | still output", long_plugin_output => "second line$INJ\nC:\\new\\path",
        perf_data => "a=1;2;3 b=2$INJ", acknowledged => JSON::PP::true, acknowledgement_type => 2),
    obj(host_name => 'evil host', description => "svc;$now] DISABLE_NOTIFICATIONS"),
    obj(host_name => 'evil host', description => "cr\rsvc"),
);
my @comments = (
    { id => 1, host_name => 'evil host', service_description => 'output', entry_type => 4, author => "eve;1;injected",
      comment => "ack$INJ", persistent => JSON::PP::false, entry_time => $now - 50 },
    { id => 2, host_name => 'evil host', service_description => undef, entry_type => 1, author => "mallory;0;x",
      comment => "comment$INJ2$INJ", persistent => JSON::PP::true, entry_time => $now - 40 },
);
my @downtimes = (
    { id => 3, host_name => 'evil host', service_description => 'output', start_time => $now - 60, end_time => $now + 3600,
      fixed => JSON::PP::true, duration => 0, triggered_by => 0, author => "trudy;x", comment => "dt; cut here$INJ",
      entry_time => $now - 30 },
);
# a streaming reader needs format and version before the records: keys in writer order
spew("$d/hostile.json", snapshot_json(format => 'sitedump-snapshot', version => 1, site => 'evil', source => 'crafted',
      created => $now, parts => ['state', 'config'], hostgroups => [], servicegroups => [], hosts => \@hosts,
      services => \@services, comments => \@comments, downtimes => \@downtimes));

my $r = run([$SITEDUMP, 'keygen', '-o', "$d/evil"]);
is($r->{rc}, 0, 'keygen');
system('cp', "$d/evil.pub", "$d/trust/") == 0 or die;
$r = run([$SITEDUMP, '--snapshot', "$d/hostile.json", '--all', '-k', "$d/evil.key", '--site', 'evil',
          '--state-dir', "$d/sdstate", '-o', "$d/evil.bundle"]);
is($r->{rc}, 1, 'sitedump --snapshot: bundle written, unwritable objects reported (exit 1)') or diag $r->{err};
ok(-s "$d/evil.bundle", 'the hostile bundle exists');

sub checks {
    my ($core, $r, $notif, $alive) = @_;
    like($r->{err}, qr/host 'semi;colon host': ';' in a name splits/, "$core: ';' host refused with its reason");
    like($r->{err}, qr/host 'newline\n?.*: a line break in a name|host 'newline.*: .*(line break|control)/s,
         "$core: newline host refused");
    is($notif->(), 1, "$core: notifications still enabled");
    ok($alive->(), "$core: core still running");
}

# ---- Icinga 2 through Livestatus ------------------------------------------------------------
my $ic = icinga2_start(name => 'central-ic', conf => qq{include_recursive "$d/cfg-ic"\n});
my $ICLS = 'unix:' . $ic->livestatus;
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-ic", '--config-dir', "$d/cfg-ic",
          '--reload-command', "kill -HUP $ic->{pid}", '--livestatus', $ICLS, "$d/evil.bundle"]);
diag $r->{err} if $ENV{SITETEST_DEBUG};
is($r->{rc}, 1, 'Icinga: imported, with refusals reported (exit 1)');
sleep 1;
checks('Icinga', $r, sub { $ic->query("GET status\nColumns: enable_notifications")->[0][0] },
       sub { kill 0, $ic->{pid} });
my $svc = $ic->query_hash("GET services\nColumns: description state plugin_output long_plugin_output perf_data acknowledged\nFilter: host_name = evil host");
is_deeply([ sort map { $_->{description} } @$svc ], ['output'], 'Icinga: only the addressable service exists');
my ($o) = @$svc;
is($o->{state}, 2, 'Icinga: the hostile service is CRITICAL');
like($o->{long_plugin_output}, qr/\[$now\] SHUTDOWN_PROGRAM/, 'Icinga: the injection arrived as text (long output)');
is($o->{acknowledged}, 1, 'Icinga: the ack was set');
my $cm = $ic->query_hash("GET comments\nColumns: author comment entry_type");
ok((grep { $_->{author} eq 'mallory,0,x' && $_->{comment} =~ /DISABLE_NOTIFICATIONS/ } @$cm), 'Icinga: comment author ";" replaced, text kept on one line');
ok(!(grep { $_->{comment} =~ /[\r\n]/ } @$cm), 'Icinga: no comment holds a line break');
my $dtq = $ic->query_hash("GET downtimes\nColumns: author comment");
is(scalar @$dtq, 1, 'Icinga: one downtime');
is($dtq->[0]{author}, 'trudy,x', 'Icinga: downtime author ";" replaced');

# ---- Nagios through spool + FIFO ------------------------------------------------------------
my $base = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
         . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n"
         . "define command {\n\tcommand_name\tcheck_evil\n\tcommand_line\t/bin/true\n}\n";
my $ng = nagios_start(name => 'central-ng', objects => [$base],
                      extra_cfg => { cfg_dir => "$d/cfg-ng", enable_notifications => 1 });
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-ng", '--config-dir', "$d/cfg-ng",
          '--reload-command', "kill -HUP $ng->{pid}", '--checkresults', $ng->{checkresult_dir},
          '--command-file', $ng->{command_file}, '--status-file', $ng->{status_file},
          '--objects-cache', $ng->{objects_cache}, "$d/evil.bundle"]);
diag $r->{err} if $ENV{SITETEST_DEBUG};
is($r->{rc}, 1, 'Nagios: imported, with refusals reported (exit 1)');
sleep 3;
my $st = parse_status_dat($ng->{status_file});
checks('Nagios', $r, sub { $st->{programstatus}{enable_notifications} // $st->{programstatus}[0]{enable_notifications} },
       sub { kill 0, $ng->{pid} });
my $log = $ng->log_text;
my @verbs = $log =~ /EXTERNAL COMMAND: ([A-Z_]+);/g;
my %allowed = map { ($_ => 1) } qw(PROCESS_SERVICE_CHECK_RESULT PROCESS_HOST_CHECK_RESULT ACKNOWLEDGE_SVC_PROBLEM
    ACKNOWLEDGE_HOST_PROBLEM SCHEDULE_SVC_DOWNTIME SCHEDULE_HOST_DOWNTIME ADD_HOST_COMMENT ADD_SVC_COMMENT PROCESS_FILE);
ok(@verbs >= 3, 'Nagios logged the commands (' . scalar(@verbs) . ')');
is_deeply([ grep { !$allowed{$_} } @verbs ], [], 'Nagios: no command but the ones siteload meant');
unlike($log, qr/Unrecognized external command|Malformed command/, 'Nagios: no stray command line');
my $ns = $st->{services}{'evil host'}{output};
ok($ns, 'Nagios: the hostile service exists');
is($ns->{current_state}, 2, 'Nagios: CRITICAL');
like($ns->{long_plugin_output}, qr/SHUTDOWN_PROGRAM/, 'Nagios: the injection arrived as text');
is($ns->{problem_has_been_acknowledged}, 1, 'Nagios: acknowledged');
my @ncm = grep { $_->{entry_type} == 1 } @{ $st->{comments} };
is(scalar @ncm, 1, 'Nagios: one user comment');
is($ncm[0]{author}, 'mallory,0,x', 'Nagios: author ";" replaced (fields not shifted)');
my @ndt = @{ $st->{downtimes} };
is(scalar @ndt, 1, 'Nagios: one downtime');
like($ndt[0]{comment}, qr/^dt, cut here/, 'Nagios: downtime comment ";" replaced, so Nagios does not cut it');

done_testing;
