#!/usr/bin/perl
# siteload import into a real central Nagios 4 through its checkresult spool and command FIFO,
# reading the central's state from status.dat/objects.cache (issue 4):
#   - remote_fixture (real Icinga 2) -> --all bundle -> siteload --config-dir (Nagios objects)
#     --reload-command --checkresults --command-file --status-file: scripts/sitediff shows only
#     the documented differences (docs/fidelity.md): Nagios keeps a hard problem at
#     max_check_attempts where Icinga shows 1, last_state_change of first results, and a ';' in a
#     downtime comment, which Nagios would cut, arrives as ','; soft attempts are exact;
#   - the spool files: written whole under c?????? + .ok, read by Nagios before the acks are
#     sent (else Nagios would drop an ack on an object it still thinks is OK);
#   - re-import with the sequence forgotten: nothing but the link result; the same bundle:
#     refused, nothing written;
#   - remote changes arrive through the FIFO alone (no spool): PROCESS_*_CHECK_RESULT;
#   - a FIFO nobody reads: exit 2 at once with the reason, no hang.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX qw(mkfifo);
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
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-import-ng-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/b");
# run: SiteTest::run (timeout 180 s)

my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
my $r = run([$SITEDUMP, 'keygen', '-o', "$d/alpha"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/alpha.pub", "$d/trust/") == 0 or die;

# the central's own objects: contacts the remote references, a host and service of its own
my $base = "define timeperiod {\n\ttimeperiod_name\tcentral-24x7\n\talias\tcentral\n}\n"
         . "define command {\n\tcommand_name\tcentral-none\n\tcommand_line\t/bin/true\n}\n";
for my $c (map { $_->[0] } @{ $rem->query("GET contacts\nColumns: name") }) {
    $base .= "define contact {\n\tcontact_name\t$c\n\thost_notifications_enabled\t0\n\tservice_notifications_enabled\t0\n"
           . "\thost_notification_period\tcentral-24x7\n\tservice_notification_period\tcentral-24x7\n"
           . "\thost_notification_options\tn\n\tservice_notification_options\tn\n"
           . "\thost_notification_commands\tcentral-none\n\tservice_notification_commands\tcentral-none\n}\n";
}
for my $g (@{ $rem->query("GET contactgroups\nColumns: name members") }) {
    $base .= "define contactgroup {\n\tcontactgroup_name\t$g->[0]\n\talias\t$g->[0]\n"
           . (@{ $g->[1] } ? "\tmembers\t" . join(',', @{ $g->[1] }) . "\n" : '') . "}\n";
}
$base .= "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
       . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n";
my $ng = nagios_start(objects => [$base], extra_cfg => { cfg_dir => "$d/cfg" });

my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--reload-command', "kill -HUP $ng->{pid}", '--status-file', $ng->{status_file},
            '--objects-cache', $ng->{objects_cache}, '--command-file', $ng->{command_file});
my @SPOOL = ('--checkresults', $ng->{checkresult_dir});
sub bundle {
    my ($name) = @_;
    my $r = run([$SITEDUMP, '--all', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate",
                 '-s', $RLS, '-o', "$d/b/$name"]);
    is($r->{rc}, 0, "sitedump bundle $name") or diag $r->{err};
    return "$d/b/$name";
}
# status.dat lags the core by up to status_update_interval: wait until it shows the import
sub settle { sleep 3 }
my @IGN = ('--ignore', 'current_attempt,last_state_change');
my $DT_DIFF = "downtime only on B: service 'db01;mysql' %d-%d fixed author 'dave' comment 'DB maintenance, fixed'\n"
            . "downtime only on A: service 'db01;mysql' %d-%d fixed author 'dave' comment 'DB maintenance; fixed'\n";
my ($dt) = grep { ($_->{service} // '') eq 'mysql' } @{ $fx->{downtimes} };
my $EXPECT_DT = sprintf($DT_DIFF, $dt->{start}, $dt->{end}, $dt->{start}, $dt->{end});
sub diff_central {
    run([$SITEDIFF, '--a-livestatus', $RLS, '--b-status-file', $ng->{status_file},
         '--b-objects-cache', $ng->{objects_cache}, @IGN, @_]);
}
# attempts: soft exact, hard at max (Nagios) where Icinga says 1; a service whose host is
# down goes hard at its first result in Nagios, so at attempt 1
sub attempts_ok {
    my ($what) = @_;
    my $st = parse_status_dat($ng->{status_file});
    my $rs = $rem->query_hash("GET services\nColumns: host_name description state state_type current_attempt max_check_attempts has_been_checked");
    my %hdown = map { ($_->[0] => $_->[1] != 0) } @{ $rem->query("GET hosts\nColumns: name state") };
    my @bad;
    for my $s (@$rs) {
        next unless $s->{has_been_checked};
        my $c = $st->{services}{ $s->{host_name} }{ $s->{description} } or do { push @bad, "$s->{description}: missing"; next };
        my $want = $s->{state_type} && $s->{state} ? ($hdown{ $s->{host_name} } ? 1 : $s->{max_check_attempts})
                 : $s->{current_attempt};
        push @bad, "$s->{host_name};$s->{description}: type $c->{state_type} attempt $c->{current_attempt}, want $s->{state_type}/$want"
            if $c->{state_type} != $s->{state_type} || $c->{current_attempt} != $want;
    }
    is_deeply(\@bad, [], "$what: state types exact, attempts exact (soft) or at max (hard, Nagios)");
}

# ---- first import: spool + FIFO -----------------------------------------------------------
my $b1 = bundle('b1');
$r = run([@LOAD, @SPOOL, $b1]);
is($r->{rc}, 0, 'import into Nagios: exit 0') or diag $r->{err};
like($r->{err}, qr/5 hosts owned, 0 refused, config file written/, 'config written');
like($r->{err}, qr/acks 3 set 0 removed, downtimes 3 added 0 deleted, comments 3 added 0 deleted/, 'acks, downtimes, comments sent');
like($r->{err}, qr/sent 9 commands, 1 checkresult files/, 'results through one spool file, the rest through the FIFO');
my @left = grep { !/^\.\.?$/ } do { opendir(my $h, $ng->{checkresult_dir}); readdir $h };
is_deeply(\@left, [], 'Nagios has read the spool (nothing left, no temp files)');
my ($vrc, $vout) = nagios_verify(["$d/cfg/sitedump-templates.cfg", "$d/cfg/sitedump-alpha.cfg", $base], base => 1);
is($vrc, 0, 'the written config passes nagios4 -v') or diag $vout;
settle();
$r = diff_central();
is($r->{out}, $EXPECT_DT . "sitediff: 2 differences (5 hosts, 12 services compared)\n",
   'sitediff: only the documented difference (downtime comment ; as ,)') or diag $r->{err};
attempts_ok('first import');
my $log = $ng->log_text;
unlike($log, qr/Error: External command failed/, 'no external command failed');
my $st = parse_status_dat($ng->{status_file});
my @acks = grep { $_->{entry_type} == 4 } @{ $st->{comments} };
is(scalar @acks, 3, 'three ack comments (none lost to the spool race)');

# ---- again ---------------------------------------------------------------------------------
my $n_cmd = () = $ng->log_text =~ /EXTERNAL COMMAND/g;
$r = run([@LOAD, @SPOOL, $b1]);
is($r->{rc}, 1, 'same bundle: exit 1');
like($r->{err}, qr/refused: not newer/, 'same bundle: refused');
sleep 1;
is(scalar(() = $ng->log_text =~ /EXTERNAL COMMAND/g), $n_cmd, 'same bundle: no command reached Nagios');
unlink "$d/state/alpha.imported";
$r = run([@LOAD, @SPOOL, $b1]);
is($r->{rc}, 0, 're-import, sequence forgotten: exit 0') or diag $r->{err};
like($r->{err}, qr/: 0 results for 0 objects, acks 0 set 0 removed, downtimes 0 added 0 deleted, comments 0 added 0 deleted/,
     're-import: nothing to send');
like($r->{err}, qr/sent 0 commands, 1 checkresult files/, 're-import: only the link result (one spool file)');
settle();
is(diff_central()->{out}, $EXPECT_DT . "sitediff: 2 differences (5 hosts, 12 services compared)\n", 're-import: unchanged');

# ---- changes through the FIFO alone ---------------------------------------------------------
my $ts = int(time) - 5;
$rem->command("REMOVE_SVC_ACKNOWLEDGEMENT;häst-ü;ping", $ts);
$rem->command("ADD_HOST_COMMENT;gw;1;ivan;new remote comment", $ts);
$rem->command("PROCESS_SERVICE_CHECK_RESULT;web server 01;load;0;LOAD OK - recovered|load1=0.1\\nall fine", $ts + 1);
$rem->command("PROCESS_SERVICE_CHECK_RESULT;gw;ping;1;PING WARNING - rta 90ms|rta=90ms", $ts + 2);
wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: host_name = gw\nFilter: description = ping")->[0][0] == 1 }, 20);
my $b2 = bundle('b2');
$r = run([@LOAD, $b2]);
is($r->{rc}, 0, 'changes via the FIFO: exit 0') or diag $r->{err};
like($r->{err}, qr/acks 0 set 1 removed/, 'the removed ack is removed');
like($r->{err}, qr/0 checkresult files/, 'no spool used');
like($ng->log_text, qr/PROCESS_SERVICE_CHECK_RESULT;gw;ping;1;PING WARNING/, 'results arrived as commands');
settle();
is(diff_central()->{out}, $EXPECT_DT . "sitediff: 2 differences (5 hosts, 12 services compared)\n", 'after the changes the central matches again');
attempts_ok('after the changes');

# ---- a FIFO without a reader -----------------------------------------------------------------
mkfifo("$d/dead.cmd", 0600) or die;
my $t0 = time;
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state2", '--command-file', "$d/dead.cmd",
          '--status-file', $ng->{status_file}, '--objects-cache', $ng->{objects_cache}, $b2], timeout => 30);
is($r->{rc}, 2, 'FIFO without a reader: exit 2');
like($r->{err}, qr/dead\.cmd: no process is reading the command FIFO/, 'FIFO without a reader: the reason');
ok(time - $t0 < 20, 'FIFO without a reader: no hang');

done_testing;
