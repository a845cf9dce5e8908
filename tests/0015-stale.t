#!/usr/bin/perl
# Link health and stale data (issue 4, item 7), on real cores with their freshness machinery on:
#   - after an import, the link service sitedump-SITE/"sitedump link" is OK with the bundle's
#     sequence and counts;
#   - when no bundle comes for --stale-after seconds, the shadow objects go UNKNOWN with
#     "stale data ... since <time of the last import>" (Nagios: freshness checking; Icinga 2:
#     the active check every passive result pushes back) and the link service goes CRITICAL;
#   - the next bundle puts the remote's state back, even where its results are older than the
#     stale check's.
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

guard(600);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $d = abs_path(tempdir('sd-stale-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/sdstate");
run_defaults(timeout => 120);
my $STALE = $ENV{STALE_AFTER} // 12;  # long enough for an import under the sanitizers

my $r = run([$SITEDUMP, 'keygen', '-o', "$d/far"]);
system('cp', "$d/far.pub", "$d/trust/") == 0 or die;

my $J = JSON::PP->new->utf8->canonical;
my $n = 0;
# a small remote as a snapshot document (check_interval 0: the template's --stale-after applies)
sub bundle {
    my ($lc) = @_;
    my %common = (state_type => 1, current_attempt => 1, max_check_attempts => 1, has_been_checked => JSON::PP::true,
                  long_plugin_output => '', perf_data => '', last_check => $lc, last_state_change => $lc - 100,
                  last_hard_state => 0, is_flapping => JSON::PP::false, latency => 0, execution_time => 0,
                  check_type => 1, acknowledged => JSON::PP::false, acknowledgement_type => 0, alias => '',
                  address => '', parents => [], groups => [], contacts => [], contact_groups => [],
                  check_command => 'x', check_interval => 0, retry_interval => 0, notes => '', notes_url => '',
                  action_url => '', icon_image => '', custom_variables => {});
    my @hosts = ({ name => 'far host', state => 0, plugin_output => 'UP', %common });
    my @svcs = ({ host_name => 'far host', description => 'disk', state => 2, plugin_output => 'DISK CRITICAL - 99%', %common },
                { host_name => 'far host', description => 'load', state => 0, plugin_output => 'LOAD OK', %common });
    my @kv = (format => 'sitedump-snapshot', version => 1, site => 'far', source => 'test', created => int(time),
              parts => ['state', 'config'], hostgroups => [], servicegroups => [], hosts => \@hosts,
              services => \@svcs, comments => [], downtimes => []);
    my @parts;
    while (my ($k, $v) = splice(@kv, 0, 2)) { push @parts, $J->encode([$k]) =~ s/^\[|\]$//gr . ':' . $J->encode([$v]) =~ s/^\[|\]$//gr }
    $n++;
    spew("$d/snap$n.json", '{' . join(',', @parts) . '}');
    my $r = run([$SITEDUMP, '--snapshot', "$d/snap$n.json", '--all', '-k', "$d/far.key", '--site', 'far',
                 '--state-dir', "$d/sdstate", '-o', "$d/b$n"]);
    is($r->{rc}, 0, "bundle $n") or diag $r->{err};
    return "$d/b$n";
}

sub scenario {
    my ($core, $load, $get) = @_;       # $get->(host, svc) -> [state, output, last_check]
    my $b = bundle(int(time) - 1);
    my $r = $load->($b);
    is($r->{rc}, 0, "$core: import") or diag $r->{err};
    ok(wait_for(sub { ($get->('far host', 'disk')->[1] // '') eq 'DISK CRITICAL - 99%' }, 30), "$core: remote state shown");
    my $link = $get->('sitedump-far', 'sitedump link');
    is($link->[0], 0, "$core: link service OK");
    like($link->[1] // '', qr/^OK - sitedump: bundle \d+ \(both\) of site far, made \d+s ago: 1 hosts, 2 services, applied/, "$core: link output");
    # no bundle for a while: stale
    ok(wait_for(sub { ($get->('far host', 'disk')->[1] // '') =~ /^UNKNOWN - sitedump: stale data: no result from site far since its last bundle was imported at \d{4}-/ }, 90, 0.5),
       "$core: stale after --stale-after $STALE s without a result") or diag explain $get->('far host', 'disk');
    is($get->('far host', 'disk')->[0], 3, "$core: stale object is UNKNOWN");
    ok(wait_for(sub { ($get->('sitedump-far', 'sitedump link')->[1] // '') =~ /^CRITICAL - sitedump: no bundle from site far imported since \d{4}-/ }, 60, 0.5),
       "$core: link service CRITICAL when no bundle comes");
    # a bundle whose results are older than the stale check's still replaces it (but younger than
    # --stale-after: Nagios, which judges freshness by last_check, would call it stale at once)
    my $stale_lc = $get->('far host', 'disk')->[2] || time;
    $b = bundle(int($stale_lc) - 1);
    $r = $load->($b);
    is($r->{rc}, 0, "$core: next import") or diag $r->{err};
    diag explain [$get->("far host", "disk"), time] if $ENV{SITETEST_DEBUG};
    ok(wait_for(sub { ($get->('far host', 'disk')->[1] // '') eq 'DISK CRITICAL - 99%' }, 30), "$core: the remote's state is back (older result over a stale one)")
        or diag explain $get->('far host', 'disk');
}

# ---- Nagios: freshness checking ----------------------------------------------------------
{
    make_path("$d/ng-cfg", "$d/ng-state");
    my $base = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
             . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n";
    my $ng = nagios_start(name => 'stale-ng', objects => [$base], extra_cfg => {
        cfg_dir => "$d/ng-cfg", check_service_freshness => 1, check_host_freshness => 1,
        service_freshness_check_interval => 1, host_freshness_check_interval => 1,
        additional_freshness_latency => 0, execute_service_checks => 1, execute_host_checks => 1 });
    my @load = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/ng-state", '--config-dir', "$d/ng-cfg",
                '--stale-after', $STALE, '--reload-command', "kill -HUP $ng->{pid}",
                '--checkresults', $ng->{checkresult_dir}, '--command-file', $ng->{command_file},
                '--status-file', $ng->{status_file}, '--objects-cache', $ng->{objects_cache});
    scenario('Nagios', sub { run([@load, $_[0]]) }, sub {
        my ($h, $s) = @_;
        my $st = eval { parse_status_dat($ng->{status_file}) } or return [];
        my $o = $st->{services}{$h}{$s} or return [];
        return [ $o->{current_state}, $o->{plugin_output}, $o->{last_check} ];
    });
}

# ---- Icinga 2: the active check every passive result pushes back -----------------------------
{
    make_path("$d/ic-cfg", "$d/ic-state");
    my $ic = icinga2_start(name => 'stale-ic', checker => 1, debug => ($ENV{SITETEST_DEBUG} ? 1 : 0), conf => qq{include_recursive "$d/ic-cfg"\n});
    my @load = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/ic-state", '--config-dir', "$d/ic-cfg",
                '--config-format', 'icinga2', '--stale-after', $STALE, '--reload-command', "kill -HUP $ic->{pid}",
                '--livestatus', 'unix:' . $ic->livestatus);
    scenario('Icinga 2', sub { run([@load, $_[0]]) }, sub {
        my ($h, $s) = @_;
        my $q = eval { $ic->query_hash("GET services\nColumns: state plugin_output last_check\nFilter: host_name = $h\nFilter: description = $s") } || [];
        return @$q ? [ $q->[0]{state}, $q->[0]{plugin_output}, $q->[0]{last_check} ] : [];
    });
}

done_testing;
