#!/usr/bin/perl
# siteload through naemon-livestatus, the mk-livestatus dialect (issue 17), against real Naemon
# centrals (tests/lib/SiteTest/Naemon.pm; skipped where Naemon is not built):
#   - the central core is detected from the core (GET status), not from the channel;
#   - Naemon -> Naemon over Livestatus alone (config, results, acks, downtimes, comments):
#     scripts/sitediff 0 differences but Naemon's documented one (a host's last_state_change is
#     the time the core processed the result), multi-line output with backslashes and UTF-8;
#   - remote changes -> 0 differences after the next bundle; an unchanged newer bundle sends 0
#     commands;
#   - a command Naemon refuses (the object removed from its config behind siteload's back, by a
#     byte-transparent socket relay that edits the config and reloads the core when the first
#     COMMAND comes): one line naming the object and Naemon's reason, exit 1, sequence not
#     recorded; the next run, with the config back, applies it; two refused commands in one
#     window (siteload sends one barrier per window and asks the central which objects it lacks):
#     both named with their reasons, the good commands around them applied;
#   - a Livestatus that swallows commands silently (as Checkmk's says nothing about a refused
#     one; the same relay, dropping COMMANDs): the read-back names the objects, exit 1,
#     sequence not recorded.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use Encode ();
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);
use SiteTest::Naemon;
use SiteTest::Relay;

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my ($PREFIX, $WHY) = naemon_prefix(build => 1);
if (!$PREFIX) {
    plan skip_all => "naemon not built: run scripts/build-naemon ($WHY)" if $WHY =~ /vendor tarballs not found/;
    BAIL_OUT("naemon: $WHY");
}
guard(600);

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
run_defaults(timeout => 180);
sub b { Encode::encode('UTF-8', $_[0]) }
sub u { Encode::decode('UTF-8', $_[0]) }

# ---- the remote site ------------------------------------------------------------------------
my $OBJ = '';
$OBJ .= "define host {\n\tuse\tsitetest-host\n\thost_name\t$_\n\taddress\t192.0.2.1\n}\n" for ('web01', 'db01', 'häst-ü');
my @SVC = (['web01', 'http'], ['web01', 'load'], ['web01', 'Ωmega'], ['db01', 'mysql'], ['db01', 'backup'],
           ['häst-ü', 'ssh']);
$OBJ .= "define service {\n\tuse\tsitetest-service\n\thost_name\t$_->[0]\n\tservice_description\t$_->[1]\n}\n" for @SVC;
my $rem = naemon_start(objects => $OBJ, name => 'nl-remote');
my $RLS = 'unix:' . $rem->livestatus;
my $now = int(time);
my $T = $now - 3600;
my @cmds = (
    [60,  'PROCESS_HOST_CHECK_RESULT;web01;0;PING OK|rta=0.3ms'],
    [60,  'PROCESS_HOST_CHECK_RESULT;db01;0;PING OK'],
    [70,  'PROCESS_HOST_CHECK_RESULT;häst-ü;1;CRITICAL - unreachable\nsecond line of the host'],
    (map { [100 + 60 * $_, 'PROCESS_SERVICE_CHECK_RESULT;web01;http;2;HTTP CRITICAL - 503|time=0.0' . $_ . 's'] } 1 .. 4),
    [400, 'PROCESS_SERVICE_CHECK_RESULT;web01;load;1;LOAD WARNING|load1=5.1'],
    [460, 'PROCESS_SERVICE_CHECK_RESULT;web01;load;1;LOAD WARNING|load1=5.3'],
    # Livestatus unescapes the text: stored "Größe ok<LF>C:\dir on \\fs\share"
    [500, 'PROCESS_SERVICE_CHECK_RESULT;web01;Ωmega;0;Ωmega OK|parts=3\nGröße ok\nC:\\\\dir on \\\\\\\\fs\\\\share|size=12B'],
    [520, 'PROCESS_SERVICE_CHECK_RESULT;db01;mysql;0;MySQL OK'],
    [540, 'PROCESS_SERVICE_CHECK_RESULT;db01;backup;1;BACKUP WARNING'],
    [560, 'PROCESS_SERVICE_CHECK_RESULT;häst-ü;ssh;2;SSH CRITICAL'],
);
for my $c (@cmds) {
    my $ans = $rem->ls_command($c->[1], $T + $c->[0]);
    is($ans, '', 'remote: ' . substr($c->[1], 0, 40)) if $ans ne '';
}
ok(wait_for(sub { @{ $rem->query("GET services\nColumns: description\nFilter: has_been_checked = 1") } == 6 }, 30),
   'remote: results applied');
my $cts = int(time) - 1;
for my $c ('ACKNOWLEDGE_SVC_PROBLEM;web01;http;2;0;0;alice;sticky, looking',
           'ACKNOWLEDGE_SVC_PROBLEM;häst-ü;ssh;0;0;0;bob;normal ack',
           'ACKNOWLEDGE_HOST_PROBLEM;häst-ü;0;0;0;carol;power',
           # persistent: its comment stays when the ack is removed (below)
           'ACKNOWLEDGE_SVC_PROBLEM;db01;backup;2;0;1;frank;persistent ack',
           'SCHEDULE_SVC_DOWNTIME;db01;mysql;' . ($now - 1800) . ';' . ($now + 3600) . ';1;0;0;dave;DB work',
           'ADD_SVC_COMMENT;web01;load;1;erin;check tomorrow \\\\ C:\\\\tmp',
           'ADD_HOST_COMMENT;db01;1;zoë;Größe prüfen') {
    my $ans = $rem->ls_command($c, $cts);
    is($ans, '', 'remote: ' . substr($c, 0, 40)) if $ans ne '';
}
ok(wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: entry_type = 1") } == 2
                  && @{ $rem->query("GET services\nColumns: description\nFilter: acknowledged = 1") } == 3 }, 30),
   'remote: acks, downtime, comments applied');

# ---- keys, dirs, the central ------------------------------------------------------------------
my $d = abs_path(tempdir('sd-nl-XXXXXX', TMPDIR => 1, CLEANUP => 1));
chmod 0755, $d;
make_path("$d/trust", "$d/state", "$d/sdstate", "$d/b");
make_path("$d/cfg", { mode => 0755 });
my $r = run([$SITEDUMP, 'keygen', '-o', "$d/alpha"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/alpha.pub", "$d/trust/") == 0 or die;
my $cen = naemon_start(objects => "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n",
                       name => 'nl-central', extra_cfg => { cfg_dir => "$d/cfg" });
my $CLS = 'unix:' . $cen->livestatus;
# siteload tells a reloaded core by GET status program_start (whole seconds) and nagios_pid (the
# same after a HUP): a reload within the second the core started is not seen
sleep 1.1;
my $n = 0;
sub bundle {
    my $f = "$d/b/b" . ++$n;
    my $r = run([$SITEDUMP, '--all', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate",
                 '-s', $RLS, '-o', $f]);
    is($r->{rc}, 0, "bundle $n") or diag $r->{err};
    return $f;
}
sub load {
    my ($ls, @more) = @_;
    my $r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
                 '--reload-command', "kill -HUP $cen->{pid}", '--livestatus', $ls, '--reap-wait', 30, @more]);
    note u($r->{err});
    return $r;
}
sub seq_of { my $s = slurp("$d/state/alpha.imported") // ''; $s =~ /(\d{6,})/ ? $1 : '' }
# Naemon sets a host's last_state_change to the time it processes a passive host result, not the
# result's time: no command can set it (docs/core-behaviour.md, Naemon).
# After a reload without retention Naemon shows a hard problem at its max attempts (seen here:
# attempt 1 -> 4 on SIGHUP); the diffs after the central was reloaded behind siteload's back
# leave attempts out (after_reload => 1).
sub diff0 {
    my ($label, %o) = @_;
    my $ign = 'host:last_state_change' . ($o{after_reload} ? ',current_attempt' : '');
    my $r = run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS, '--ignore', $ign]);
    like(u($r->{out}), qr/^sitediff: 0 differences/m, "$label: sitediff remote vs central: 0 differences")
        or diag u($r->{out}) . $r->{err};
}

# ---- Naemon -> Naemon over Livestatus ---------------------------------------------------------
my $b1 = bundle();
$r = load($CLS, $b1);
is($r->{rc}, 0, 'first import over Livestatus: exit 0') or diag $r->{err};
unlike($r->{err}, qr/not a core siteload knows|400:|not take/, 'no refusal, the core known') or diag $r->{err};
like($r->{err}, qr/acks 4 set 0 removed, downtimes 1 added 0 deleted, comments 2 added 0 deleted/,
     'acks, downtime and comments sent') or diag $r->{err};
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--livestatus', $CLS, '--core', 'nonesuch', $b1]);
is($r->{rc}, 2, '--core nonesuch: usage error');
like($r->{err}, qr/--core: want nagios, naemon, checkmk or icinga2/, '--core names the choices');
my $om = $cen->query("GET services\nColumns: plugin_output long_plugin_output perf_data\nFilter: description = Ωmega");
is_deeply($om->[0], ['Ωmega OK', "Größe ok\\nC:\\dir on \\\\fs\\share", 'parts=3 size=12B'],
          'multi-line output: line break, backslashes and UTF-8 as the remote has them');
my $hl = $cen->query("GET hosts\nColumns: long_plugin_output\nFilter: name = häst-ü");
is($hl->[0][0], 'second line of the host', 'host long output carried');
diff0('first import');

my $ts = int(time) - 2;
$rem->ls_command('REMOVE_SVC_ACKNOWLEDGEMENT;häst-ü;ssh', $ts);
$rem->ls_command('REMOVE_SVC_ACKNOWLEDGEMENT;db01;backup', $ts);
$rem->ls_command('PROCESS_SERVICE_CHECK_RESULT;web01;load;0;LOAD OK\nall fine', $ts + 1);
$rem->ls_command('ADD_HOST_COMMENT;web01;1;ivan;new comment', $ts);
my $dt = $rem->query("GET downtimes\nColumns: id");
$rem->ls_command("DEL_SVC_DOWNTIME;$dt->[0][0]", $ts) if @$dt;
ok(wait_for(sub { !@{ $rem->query("GET downtimes\nColumns: id") }
                  && $rem->query("GET services\nColumns: state\nFilter: description = load")->[0][0] == 0 }, 20),
   'remote: changes applied');
$r = load($CLS, bundle());
is($r->{rc}, 0, 'changes: exit 0') or diag $r->{err};
like($r->{err}, qr/acks 0 set 2 removed, downtimes 0 added 1 deleted, comments 1 added 0 deleted/,
     'changes: two acks removed, one downtime deleted, one comment added') or diag $r->{err};
my $pc = $cen->query("GET comments\nColumns: author comment entry_type persistent\nFilter: service_description = backup");
is_deeply($pc, [['frank', 'persistent ack', 4, 1]], 'the persistent ack\'s comment stays on the central, as on the remote')
    or diag explain $pc;
diff0('after the changes');
$r = load($CLS, bundle());
is($r->{rc}, 0, 'unchanged newer bundle: exit 0') or diag $r->{err};
like($r->{err}, qr/0 results for 0 objects, acks 0 set 0 removed, downtimes 0 added 0 deleted, comments 0 added 0 deleted/,
     'unchanged newer bundle: nothing sent but the link') or diag $r->{err};

# A remote result is sent only when it is newer than the central's: each case's results one
# second after the last case's, however fast the run (a case can take less than a second).
sub next_ts {
    my ($prev) = @_;
    sleep 0.1 while int(time) - 1 <= $prev + 1;
    return int(time) - 1;
}

# ---- a relay in front of the central's socket (tests/lib/SiteTest/Relay.pm) ---------------------
sub relay_to_central {
    my (%o) = @_;
    my $path = "$d/relay-" . ++$n;
    return ($path, relay(upstream => $cen->livestatus, path => $path, %o));
}

# ---- a command Naemon refuses ------------------------------------------------------------------
my $cfgfile = "$d/cfg/sitedump-alpha.cfg";
ok(-f $cfgfile, "siteload's config file for the site: $cfgfile");
my $orig = slurp($cfgfile);
$ts = next_ts($ts);
$rem->ls_command('PROCESS_SERVICE_CHECK_RESULT;db01;backup;2;BACKUP CRITICAL', $ts);
$rem->ls_command('PROCESS_SERVICE_CHECK_RESULT;web01;http;0;HTTP OK', $ts);
ok(wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: description = backup")->[0][0] == 2 }, 20),
   'remote: backup CRITICAL');
my $b5 = bundle();
my $seq0 = seq_of();
my ($rp, $rpid) = relay_to_central(hook => sub {
    # the service db01;backup removed from the central's config behind siteload's back
    my $cut = $orig;
    $cut =~ s/define service \{(?:(?!\}).)*service_description\s+backup\n(?:(?!\}).)*\}\n//s or die 'no backup service';
    spew($cfgfile, $cut);
    kill 'HUP', $cen->{pid};
    wait_for(sub { my $x = eval { $cen->query("GET services\nColumns: description\nFilter: description = backup") };
                   $x && !@$x }, 30) or die 'the central did not drop the service';
});
$r = load("unix:$rp", '--core', 'naemon', $b5);
kill 'TERM', $rpid;
waitpid $rpid, 0;
note $r->{err};
is($r->{rc}, 1, 'a command Naemon refused: exit 1') or diag $r->{err};
like(u($r->{err}), qr/^siteload: .*db01;backup.*: .*400: .*$/m, 'one line naming the object and Naemon\'s reason')
    or diag $r->{err};
is(seq_of(), $seq0, 'sequence not recorded');
spew($cfgfile, $orig);
kill 'HUP', $cen->{pid};
ok(wait_for(sub { eval { @{ $cen->query("GET services\nColumns: description\nFilter: description = backup") } } }, 30),
   'central: the config is back');
$r = load($CLS, $b5);
is($r->{rc}, 0, 'the next run with the config back: exit 0') or diag $r->{err};
isnt(seq_of(), $seq0, 'sequence recorded');
diff0('after the refused command was applied', after_reload => 1);

# ---- two refused commands in one window, good ones around them -------------------------------
# siteload sends one barrier per window of 64 commands; Naemon's `400:` does not name the object,
# so siteload asks the central which of the window's objects it has: both refusals named, each
# with its reason, the good commands before, between and after them applied.
sub cut_service {
    my ($text, $svc) = @_;
    $text =~ s/define service \{(?:(?!\}).)*service_description\s+\Q$svc\E\n(?:(?!\}).)*\}\n//s
        or die "no $svc service";
    return $text;
}
$ts = next_ts($ts);
my %good = ('db01;mysql' => 'MySQL WARNING - slow', 'häst-ü;ssh' => 'SSH OK - back',
            'web01;http' => 'HTTP WARNING - slow', 'web01;Ωmega' => 'Ωmega WARNING');
$rem->ls_command('PROCESS_SERVICE_CHECK_RESULT;db01;backup;0;BACKUP OK', $ts);
$rem->ls_command('PROCESS_SERVICE_CHECK_RESULT;web01;load;2;LOAD CRITICAL|load1=9.9', $ts);
$rem->ls_command("PROCESS_SERVICE_CHECK_RESULT;$_;1;$good{$_}", $ts) for sort keys %good;
ok(wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: description = load")->[0][0] == 2
                  && $rem->query("GET services\nColumns: state\nFilter: description = ssh")->[0][0] == 1 }, 20),
   'remote: six services changed');
my $b7 = bundle();
$seq0 = seq_of();
($rp, $rpid) = relay_to_central(hook => sub {
    # db01;backup and web01;load removed from the central's config behind siteload's back
    spew($cfgfile, cut_service(cut_service($orig, 'backup'), 'load'));
    kill 'HUP', $cen->{pid};
    wait_for(sub { my $x = eval { $cen->query("GET services\nColumns: description\n"
                                              . "Filter: description = backup\nFilter: description = load\nOr: 2") };
                   $x && !@$x }, 30) or die 'the central did not drop the services';
});
$r = load("unix:$rp", '--core', 'naemon', $b7);
kill 'TERM', $rpid;
waitpid $rpid, 0;
is($r->{rc}, 1, 'two commands Naemon refused in one window: exit 1') or diag $r->{err};
my @refused = grep { /400: / } split /\n/, u($r->{err});
# (a result replayed as several attempts is several commands: each refused, each named)
ok(@refused >= 2 && !grep({ !/db01;backup|web01;load/ } @refused), 'every refusal names one of the two objects')
    or diag explain \@refused;
like(u($r->{err}), qr/^siteload: .*db01;backup.*: 400: .*$/m, 'the first named: db01;backup and Naemon\'s reason');
like(u($r->{err}), qr/^siteload: .*web01;load.*: 400: .*$/m, 'the second named: web01;load and Naemon\'s reason');
is(seq_of(), $seq0, 'sequence not recorded');
for my $k (sort keys %good) {
    my ($h, $s) = split /;/, $k;
    ok(wait_for(sub { my $x = $cen->query("GET services\nColumns: plugin_output\nFilter: host_name = $h\n"
                                          . "Filter: description = $s");
                      @$x && $x->[0][0] eq $good{$k} }, 30), "the good command for $k applied");
}
spew($cfgfile, $orig);
kill 'HUP', $cen->{pid};
ok(wait_for(sub { eval { @{ $cen->query("GET services\nColumns: description\n"
                                        . "Filter: description = backup\nFilter: description = load\nOr: 2") } == 2 } }, 30),
   'central: the config is back');
$r = load($CLS, $b7);
is($r->{rc}, 0, 'the next run with the config back: exit 0') or diag $r->{err};
isnt(seq_of(), $seq0, 'sequence recorded');
diff0('after the two refused commands were applied', after_reload => 1);

# ---- a Livestatus that swallows commands -------------------------------------------------------
$ts = next_ts($ts);
$rem->ls_command('PROCESS_SERVICE_CHECK_RESULT;db01;mysql;2;MySQL CRITICAL', $ts);
ok(wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: description = mysql")->[0][0] == 2 }, 20),
   'remote: mysql CRITICAL');
my $b6 = bundle();
$seq0 = seq_of();
($rp, $rpid) = relay_to_central(drop => 1);
$r = load("unix:$rp", '--core', 'checkmk', '--reap-wait', 3, $b6);
kill 'TERM', $rpid;
waitpid $rpid, 0;
note $r->{err};
is($r->{rc}, 1, 'commands swallowed silently: exit 1') or diag $r->{err};
like(u($r->{err}), qr/^siteload: .*db01;mysql.*not taken/m, 'the read-back names the object') or diag $r->{err};
is(seq_of(), $seq0, 'sequence not recorded');
$r = load($CLS, $b6);
is($r->{rc}, 0, 'through the real socket: exit 0') or diag $r->{err};
diff0('after the swallowed commands', after_reload => 1);

done_testing;
