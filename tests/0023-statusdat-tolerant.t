#!/usr/bin/perl
# A real central Nagios 4 whose status.dat holds what one hostile site can make it write, read
# through status.dat/objects.cache (no Livestatus). Before, the reader refused the whole file
# and every import of every site exited 2 "reading the central's state":
#   - objects with custom variables '_A-B' (status.dat "_A-B=0;0", then "_A-B=1;x=y z" after
#     CHANGE_CUSTOM_HOST_VAR), '_ÄÖ' with ';' and '\' in the value, '_DOT.X';
#   - a downtime ending at 8e15 (SCHEDULE_HOST_DOWNTIME through the command pipe: Nagios stores
#     it, duration 7999998...), and one starting at -5 (stored as 18446744073709551611).
# Then:
#   - siteload of a clean --all bundle of another site (alpha, from the nagios4 fixture):
#     exit 0, its hosts owned and its results applied; the clamped times reported on stderr,
#     each naming the status.dat line;
#   - sitedump exports that status.dat: state and config as JSON and as a bundle, exit 0, the
#     variables carried under their own names, the downtimes kept with clamped times.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $FX       = "$ROOT/tests/data/statusdat/nagios4";
my $d = abs_path(tempdir('sd-tolerant-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/b");
run_defaults(timeout => 120);

# ---- the central: its own objects, alpha's contacts, and the hostile ones --------------------
my $base = "define timeperiod {\n\ttimeperiod_name\tcentral-24x7\n\talias\tcentral\n}\n"
         . "define command {\n\tcommand_name\tcentral-none\n\tcommand_line\t/bin/true\n}\n";
for my $c (qw(alice bob)) {
    $base .= "define contact {\n\tcontact_name\t$c\n\thost_notifications_enabled\t0\n\tservice_notifications_enabled\t0\n"
           . "\thost_notification_period\tcentral-24x7\n\tservice_notification_period\tcentral-24x7\n"
           . "\thost_notification_options\tn\n\tservice_notification_options\tn\n"
           . "\thost_notification_commands\tcentral-none\n\tservice_notification_commands\tcentral-none\n}\n";
}
$base .= "define contactgroup {\n\tcontactgroup_name\tadmins\n\talias\tadmins\n\tmembers\talice,bob\n}\n";
my $evil = "define host {\n\tuse\tsitetest-host\n\thost_name\tevil\n\t_A-B\t0\n\t_ÄÖ\tv\\;al\\\\ue\n\t_DOT.X\ty\n}\n"
         . "define service {\n\tuse\tsitetest-service\n\thost_name\tevil\n\tservice_description\ts1\n\t_Q-R\tz\n}\n";
my $ng = nagios_start(objects => [$base, $evil], extra_cfg => { cfg_dir => "$d/cfg" });
my $now = time;
$ng->command("SCHEDULE_HOST_DOWNTIME;evil;" . ($now - 10) . ";8000000000000000;1;0;0;mallory;until 8e15");
$ng->command("SCHEDULE_HOST_DOWNTIME;evil;-5;" . ($now + 3600) . ";1;0;0;mallory;from -5");
$ng->command("CHANGE_CUSTOM_HOST_VAR;evil;A-B;x=y z");
my $SF = $ng->{status_file};
ok(wait_for(sub { my $t = slurp($SF) // ''; $t =~ /^\tend_time=8000000000000000$/m && $t =~ /^\t_A-B=1;x=y z$/m
                  && $t =~ /^\tstart_time=18446744073709551611$/m }, 20),
   'Nagios wrote _A-B=1;x=y z, end_time=8000000000000000, start_time=18446744073709551611 into status.dat');
my $sd = slurp($SF);
utf8::decode($sd);
like($sd, qr/^\t_ÄÖ=0;v;al\\\\ue$/m, 'and _ÄÖ with ; and \\ in the value');
my @lines = split /\n/, $sd;
my ($l8e15) = grep { $lines[$_ - 1] eq "\tend_time=8000000000000000" } 1 .. @lines;
my ($lneg) = grep { $lines[$_ - 1] eq "\tstart_time=18446744073709551611" } 1 .. @lines;

# ---- siteload: a clean bundle of another site --------------------------------------------------
my $r = run([$SITEDUMP, 'keygen', '-o', "$d/alpha"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/alpha.pub", "$d/trust/") == 0 or die;
$r = run([$SITEDUMP, '--all', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate",
          '--status-file', "$FX/status.dat", '--objects-cache', "$FX/objects.cache", '-o', "$d/b/b1"]);
is($r->{rc}, 0, 'alpha: a clean --all bundle (from the nagios4 fixture)') or diag $r->{err};
my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--reload-command', "kill -HUP $ng->{pid}", '--status-file', $SF,
            '--objects-cache', $ng->{objects_cache}, '--command-file', $ng->{command_file});
$r = run([@LOAD, "$d/b/b1"]);
is($r->{rc}, 0, 'siteload of alpha into the central: exit 0') or diag $r->{err};
unlike($r->{err}, qr/reading the central's state/, 'the central was read');
like($r->{err}, qr/4 hosts owned, 0 refused, config file written/, 'alpha: config written');
like($r->{err}, qr/\Q$SF\E:\d+: hostdowntime block of 'evil': \Q$SF\E:$l8e15: end_time '8000000000000000' is out of range: read as 1000000000000000/,
     'the 8e15 end reported, naming the status.dat line');
like($r->{err}, qr/\Q$SF\E:$lneg: start_time '18446744073709551611' is out of range: read as 0/,
     'the -5 start (as Nagios prints it) reported');
unlike($r->{err}, qr/A-B|ÄÖ/, 'the custom variables are read silently');
ok(wait_for(sub { my $st = eval { parse_status_dat($SF) } or return 0;
                  ($st->{hosts}{db01}{current_state} // 0) == 1 && ($st->{services}{'db01'}{'mysql'}{current_state} // 0) == 2 }, 30),
   "alpha's results applied (db01 DOWN, db01;mysql CRITICAL)");
my $st = parse_status_dat($SF);
is(scalar(grep { $_->{host_name} eq 'evil' } @{ $st->{downtimes} }), 2, "evil's two downtimes untouched");

# a second import reads the same file again: still exit 0
$r = run([$SITEDUMP, '--all', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate",
          '--status-file', "$FX/status.dat", '--objects-cache', "$FX/objects.cache", '-o', "$d/b/b2"]);
is($r->{rc}, 0, 'alpha: the next bundle') or diag $r->{err};
$r = run([@LOAD, "$d/b/b2"]);
is($r->{rc}, 0, 'the next import: exit 0') or diag $r->{err};

# ---- sitedump exports that status.dat -----------------------------------------------------------
my @SRC = ('--status-file', $SF, '--objects-cache', $ng->{objects_cache});
$r = run([$SITEDUMP, @SRC, '--format', 'json', '-o', "$d/state.json"]);
is($r->{rc}, 0, 'sitedump: state as JSON, exit 0') or diag $r->{err};
# (other line numbers now: alpha's objects came first)
like($r->{err}, qr/^sitedump: warning: \Q$SF\E:\d+: hostdowntime block of 'evil': \Q$SF\E:\d+: end_time '8000000000000000'/m,
     'sitedump: the clamped end reported');
my $js = decode_json(slurp("$d/state.json") // '{}');
my ($big) = grep { $_->{comment} eq 'until 8e15' } @{ $js->{downtimes} // [] };
is($big && $big->{end_time}, 1000000000000000, 'sitedump: the 8e15 downtime kept, its end clamped');
my ($neg) = grep { $_->{comment} eq 'from -5' } @{ $js->{downtimes} // [] };
is($neg && $neg->{start_time}, 0, 'sitedump: the -5 start kept as 0');
$r = run([$SITEDUMP, '-C', @SRC, '--format', 'json', '-o', "$d/config.json"]);
is($r->{rc}, 0, 'sitedump -C: config as JSON, exit 0') or diag $r->{err};
$js = decode_json(slurp("$d/config.json") // '{}');
my ($eh) = grep { $_->{name} eq 'evil' } @{ $js->{hosts} // [] };
# objects.cache has the configured values (CHANGE_CUSTOM_HOST_VAR is status.dat's)
is_deeply($eh && $eh->{custom_variables}, { 'A-B' => '0', 'ÄÖ' => 'v;al\\\\ue', 'DOT.X' => 'y' },
          'sitedump -C: the custom variables under their own names, ; and \\ kept')
    or diag explain $eh;
$r = run([$SITEDUMP, '--all', '-k', "$d/alpha.key", '--site', 'central', '--state-dir', "$d/sdstate", @SRC,
          '-o', "$d/b/central"]);
is($r->{rc}, 0, 'sitedump --all: a bundle of that status.dat, exit 0') or diag $r->{err};
$r = run([$SITELOAD, 'verify', '-p', "$d/alpha.pub", "$d/b/central"]);
is($r->{rc}, 0, 'and siteload verify reads that bundle') or diag $r->{err};

done_testing;
