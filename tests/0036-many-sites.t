#!/usr/bin/perl
# Many sites into one central (issue 19): what an import reads of the central follows the site.
#   - a Nagios 4 central read from status.dat: one run importing the state bundles of three
#     sites parses status.dat once (seen with strace), not once per site, and every site's
#     state arrives;
#   - a site sending again in the same run gets a fresh read (its own objects changed);
#   - a Naemon central over Livestatus reads each site's objects only (tests/0035 shows the
#     filter; here: three sites, each state import applied, no site touching another's objects).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

guard(600);
umask 022;
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};
my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
run_defaults(timeout => 180);
my $d = abs_path(tempdir('sd-many-XXXXXX', TMPDIR => 1, CLEANUP => 1));
chmod 0755, $d;
make_path("$d/trust", "$d/sdstate", "$d/b", "$d/state");
make_path("$d/cfg", { mode => 0755 });
my @SITES = qw(alpha beta gamma);
for my $s (@SITES) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$s"]);
    is($r->{rc}, 0, "keygen $s") or diag $r->{err};
    system('cp', "$d/$s.pub", "$d/trust/") == 0 or die;
}
my $now = int(time);
my $nb = 0;
# a site's bundle: hosts SITE-h1, SITE-h2 with services s1, s2; $state for every service
sub bundle {
    my ($site, $kind, $state, $t, $nh) = @_;
    my @h = map { snapshot_object(now => $t, name => "$site-h$_", check_command => 'x') } 1 .. ($nh // 2);
    my @s = map { my $h = $_; map { snapshot_object(now => $t, host_name => "$site-h$h", description => "s$_",
                                                    check_command => 'x', state => $state,
                                                    plugin_output => "S$state at $t") } 1 .. 2 } 1 .. 2;
    my $json = snapshot_json(format => 'sitedump-snapshot', version => 1, site => $site, source => 'crafted',
        created => $t, parts => ['state', 'config'], hostgroups => [], servicegroups => [],
        hosts => \@h, services => \@s, comments => [], downtimes => []);
    $nb++;
    spew("$d/b/$site-$nb.json", $json);
    my $r = run([$SITEDUMP, '--snapshot', "$d/b/$site-$nb.json", $kind eq 'all' ? '--all' : (), '-k', "$d/$site.key",
                 '--site', $site, '--state-dir', "$d/sdstate", '-o', "$d/b/$site-$nb.bundle"]);
    ok(-s "$d/b/$site-$nb.bundle", "bundle $site-$nb ($kind)") or diag $r->{err};
    return "$d/b/$site-$nb.bundle";
}

my $ng = nagios_start(name => 'many-ng', extra_cfg => { cfg_dir => "$d/cfg" },
                      objects => ["define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
                                  . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town\n}\n"]);
my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--reload-command', "kill -HUP $ng->{pid}", '--checkresults', $ng->{checkresult_dir},
            '--command-file', $ng->{command_file}, '--status-file', $ng->{status_file},
            '--objects-cache', $ng->{objects_cache}, '--reload-wait', 60);
my $r = run([@LOAD, map { bundle($_, 'all', 0, $now - 600) } @SITES]);
is($r->{rc}, 0, 'three sites, config and state, one run: exit 0') or diag $r->{err};
sub states {
    my $st = parse_status_dat($ng->{status_file});
    return { map { my $s = $_; ($s => [ map { my $h = $_; map { $st->{services}{"$s-h$h"}{"s$_"}{current_state} // 'none' } 1 .. 2 } 1 .. 2 ]) } @SITES };
}
ok(wait_for(sub { my $x = states(); !grep { join(',', @{ $x->{$_} }) ne '0,0,0,0' } @SITES }, 30),
   'every site\'s services OK on the central') or diag explain states();

# ---- state bundles of the three sites in one run: status.dat parsed once --------------------
my @b = map { bundle($_, 'state', 2, $now - 60) } @SITES;
sleep 1;
my $trace = "$d/strace.out";
$r = run(['strace', '-f', '-qq', '-e', 'trace=openat', '-o', $trace, @LOAD, @b],
         env => { ASAN_OPTIONS => 'detect_leaks=0' });     # LeakSanitizer cannot run under ptrace
is($r->{rc}, 0, 'three state bundles, one run: exit 0') or diag $r->{err};
like($r->{err}, qr/site $_: sequence \d+: 2 hosts, 4 services: \d+ results for 6 objects/, "site $_: its objects updated")
    for @SITES;
my @opens = grep { /openat\(.*\Q$ng->{status_file}\E"/ && !/ENOENT/ } split /\n/, slurp($trace) // '';
# one for telling the core (the version at its head), one parse for all three sites
is(scalar @opens, 2, 'status.dat opened twice in the run: the core\'s version, and one parse shared by the sites')
    or diag join("\n", @opens);
ok(wait_for(sub { my $x = states(); !grep { join(',', @{ $x->{$_} }) ne '2,2,2,2' } @SITES }, 30),
   'every site\'s services CRITICAL on the central') or diag explain states();

# ---- the same site twice in a run: the second is superseded, the others still share ---------
@b = ((map { bundle($_, 'state', 1, $now - 30) } @SITES), bundle('alpha', 'state', 0, $now - 20));
$r = run([@LOAD, @b]);
is($r->{rc}, 0, 'four state bundles (alpha twice): exit 0') or diag $r->{err};
like($r->{err}, qr/state superseded by a newer bundle of the site in this run: skipped/, 'alpha\'s older state superseded');
ok(wait_for(sub { my $x = states(); join(',', @{ $x->{alpha} }) eq '0,0,0,0' && join(',', @{ $x->{beta} }) eq '1,1,1,1'
                  && join(',', @{ $x->{gamma} }) eq '1,1,1,1' }, 30), 'alpha OK, beta and gamma WARNING')
    or diag explain states();

# ---- --dry-run shows what a config change would do to the file (issue 20) --------------------
my $cfg = "$d/cfg/sitedump-beta.cfg";
my $before = slurp($cfg);
$r = run([@LOAD, '--dry-run', bundle('beta', 'all', 1, $now - 10, 3)]);
is($r->{rc}, 0, 'dry run of a config change: exit 0') or diag $r->{err};
like($r->{out}, qr{^# would write \Q$cfg\E \(\d+ bytes\):\n--- \Q$cfg\E.*\n\+\+\+ /dev/fd/\d+}m, 'a unified diff against the file in place')
    or diag $r->{out};
like($r->{out}, qr/^\+\s+host_name\s+beta-h3$/m, 'the new host among the added lines');
is(slurp($cfg), $before, 'the file unchanged');

done_testing;
