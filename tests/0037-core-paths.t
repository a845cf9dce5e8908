#!/usr/bin/perl
# Where siteload finds the central's paths (issue 20, Build 2 and 7):
#   - a real Nagios 4 central configured only by --nagios-cfg (its nagios.cfg): the command FIFO,
#     the check result spool, status.dat, objects.cache and the config dir (the sitedump/ below
#     the first cfg_dir that has one, as on Debian where the plugins' cfg_dir comes first) come
#     from there; a bundle is imported: config written, results in the core;
#   - given options win: the command line over the config file (--config, key nagios-cfg) over
#     nagios.cfg;
#   - a nagios.cfg siteload cannot use, or a path in it that is no FIFO: one line naming the file
#     (and line), exit 2, before any bundle is read or the state dir made;
#   - the templates' stale check names the installed siteload (SITEDUMP_BINDIR), not the build
#     that ran: a second build importing the same config rewrites nothing and reloads nothing
#     (in a private mount namespace with a siteload bound at BINDIR; root only);
#   - under OMD_ROOT (a fake site around a real Naemon with Livestatus): the socket, the spool and
#     the config dir are found without options, the state goes to $OMD_ROOT/var/sitedump.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(sleep);
use SiteTest qw(:DEFAULT slurp spew);
use SiteTest::Naemon;

guard(600);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};
run_defaults(timeout => 180);

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $d = abs_path(tempdir('sd-paths-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/sdstate", "$d/plugins", "$d/ncfg/sitedump");

my $r = run([$SITEDUMP, 'keygen', '-o', "$d/far"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/far.pub", "$d/trust/") == 0 or die;

my $J = JSON::PP->new->utf8->canonical;
my $n = 0;
# a small remote as a snapshot document; each call a new bundle (the next sequence)
sub bundle {
    my (%o) = @_;
    my $lc = int(time) - 1;
    my %common = (state_type => 1, current_attempt => 1, max_check_attempts => 1, has_been_checked => JSON::PP::true,
                  long_plugin_output => '', perf_data => '', last_check => $lc, last_state_change => $lc - 100,
                  last_hard_state => 0, is_flapping => JSON::PP::false, latency => 0, execution_time => 0.5,
                  check_type => 1, acknowledged => JSON::PP::false, acknowledgement_type => 0, alias => '',
                  address => '', parents => [], groups => [], contacts => [], contact_groups => [],
                  check_command => 'x', check_interval => 5, retry_interval => 1, notes => '', notes_url => '',
                  action_url => '', icon_image => '', custom_variables => {});
    my @hosts = ({ name => 'far host', state => 0, plugin_output => 'UP', %common });
    my @svcs = ({ host_name => 'far host', description => 'disk', state => 2, plugin_output => $o{disk} // 'DISK CRITICAL - 99%', %common },
                { host_name => 'far host', description => 'load', state => 0, plugin_output => 'LOAD OK', %common });
    my @kv = (format => 'sitedump-snapshot', version => 1, site => 'far', source => 'test', created => int(time),
              parts => ['state', 'config'], hostgroups => [], servicegroups => [], hosts => \@hosts,
              services => \@svcs, comments => [], downtimes => []);
    my @parts;
    while (my ($k, $v) = splice(@kv, 0, 2)) { push @parts, $J->encode([$k]) =~ s/^\[|\]$//gr . ':' . $J->encode([$v]) =~ s/^\[|\]$//gr }
    $n++;
    spew("$d/snap$n.json", '{' . join(',', @parts) . '}');
    my $r = run([$SITEDUMP, '--snapshot', "$d/snap$n.json", $o{config_only} ? '-C' : '--all', '-k', "$d/far.key", '--site', 'far',
                 '--state-dir', "$d/sdstate", '-o', "$d/b$n"]);
    is($r->{rc}, 0, "bundle $n") or diag $r->{err};
    return "$d/b$n";
}

# ---- a Nagios 4 central known only by its nagios.cfg ------------------------------------------
my $base = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
         . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n";
# Debian's order: the plugins' cfg_dir (no sitedump/ there) before the objects'
my $ng = nagios_start(name => 'paths-ng', objects => [$base],
                      extra_cfg => { cfg_dir => ["$d/plugins", "$d/ncfg"] });
my $NCFG = $ng->{cfg};
my @BASE = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--reload-command', "kill -HUP $ng->{pid}");
sub central_disk {
    my $st = eval { parse_status_dat($ng->{status_file}) } or return '';
    my $o = $st->{services}{'far host'}{disk} or return '';
    return "$o->{current_state} $o->{plugin_output}";
}

$r = run([@BASE, '--nagios-cfg', $NCFG, bundle()]);
is($r->{rc}, 0, '--nagios-cfg alone: import into Nagios 4, exit 0') or diag $r->{err};
ok(-f "$d/ncfg/sitedump/sitedump-far.cfg", "config written to the first cfg_dir's sitedump/ ($d/ncfg, not $d/plugins)");
ok(!-e "$d/plugins/sitedump-far.cfg", 'nothing written to the plugins\' cfg_dir');
like($r->{err}, qr/config file written/, 'the config changed and was written');
like($r->{err}, qr/checkresult files/, 'results through check_result_path (the spool)');
ok(wait_for(sub { central_disk() eq '2 DISK CRITICAL - 99%' }, 60, 0.5),
   'the remote\'s result is in the core (status_file read back)') or diag central_disk();

# ---- bad nagios.cfg: one line, exit 2, nothing read or made -----------------------------------
my $text = slurp($NCFG);
spew("$d/bad.cfg", $text . "cfg_dir=$d/ncfg\nthis line is no setting\n");
my $badline = () = ($text . "cfg_dir=x\n") =~ /\n/g;
$badline++;
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-bad", '--nagios-cfg', "$d/bad.cfg", "$d/no-such-bundle"]);
is($r->{rc}, 2, 'a line nagios.cfg cannot have: exit 2');
is($r->{err}, "siteload: --nagios-cfg: $d/bad.cfg:$badline: not a key=value line\n",
   'one line naming the file and the line (no word of the bundle)');
ok(!-e "$d/st-bad", 'the state dir was not made');
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-bad", '--nagios-cfg', "$d/none.cfg", "$d/no-such-bundle"]);
is($r->{rc}, 2, 'a nagios.cfg that is not there: exit 2');
is($r->{err}, "siteload: --nagios-cfg: $d/none.cfg: No such file or directory\n", '... named');
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-bad", '--nagios-cfg', "$d/none.cfg", '--mail', '-'], stdin => '');
is($r->{rc}, 75, '... through an MTA (--mail): 75, the message stays queued');

# command_file names a regular file: refused before the bundle, naming nagios.cfg
spew("$d/nofifo", '');
(my $wrong = $text) =~ s/^command_file=.*$/command_file=$d\/nofifo/m or die 'no command_file in nagios.cfg';
spew("$d/wrong.cfg", $wrong);
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-bad", '--nagios-cfg', "$d/wrong.cfg", "$d/no-such-bundle"]);
is($r->{rc}, 2, 'command_file that is no FIFO: exit 2');
is($r->{err}, "siteload: command_file of $d/wrong.cfg: $d/nofifo: not a FIFO (the core's command pipe)\n",
   '... one line naming nagios.cfg\'s key and the path');
ok(!-e "$d/st-bad", 'the state dir was not made');

# ---- given options win: command line > config file > nagios.cfg ----------------------------
$r = run([@BASE, '--nagios-cfg', "$d/wrong.cfg", '--command-file', $ng->{command_file}, bundle(disk => 'DISK CRITICAL - 98%')]);
is($r->{rc}, 0, '--command-file on the command line wins over nagios.cfg\'s') or diag $r->{err};
like($r->{err}, qr/config unchanged/, 'the same config: unchanged');
ok(wait_for(sub { central_disk() eq '2 DISK CRITICAL - 98%' }, 60, 0.5), '... and the result arrived') or diag central_disk();

spew("$d/siteload.conf", "# siteload's options\n[siteload]\ntrust = $d/trust\nstate-dir = $d/state\n"
     . "nagios-cfg = $d/wrong.cfg\ncommand-file = $ng->{command_file}\nreload-command = kill -HUP $ng->{pid}\n");
$r = run([$SITELOAD, '--config', "$d/siteload.conf", bundle(disk => 'DISK CRITICAL - 97%')]);
is($r->{rc}, 0, 'config file: nagios-cfg as a key, its command-file wins over nagios.cfg\'s') or diag $r->{err};
ok(wait_for(sub { central_disk() eq '2 DISK CRITICAL - 97%' }, 60, 0.5), '... and the result arrived') or diag central_disk();
$r = run([$SITELOAD, '--config', "$d/siteload.conf", '--checkresults', "$d/nonexistent", "$d/no-such-bundle"]);
is($r->{rc}, 2, 'the command line wins over the config file and nagios.cfg (--checkresults)');
is($r->{err}, "siteload: --checkresults $d/nonexistent: No such file or directory\n", '... named as the option');
$r = run([$SITELOAD, '--trust', "$d/trust", '--nagios-cfg', $NCFG, '--core', 'icinga2', "$d/no-such-bundle"]);
is($r->{rc}, 2, '--nagios-cfg with --core icinga2: a usage error');

# ---- the templates name the installed siteload, whichever build ran --------------------------
SKIP: {
    my $bin = slurp($SITELOAD) // '';
    my ($bindir) = $ENV{SITETEST_BINDIR} // '/usr/local/bin';
    skip "siteload was not built with SITEDUMP_BINDIR=$bindir (set SITETEST_BINDIR)", 7
        unless index($bin, "$bindir/siteload") >= 0;
    skip 'a private mount namespace needs root', 7 if $>;
    my $probe = run(['unshare', '-m', '--propagation', 'private', 'true']);
    skip "no private mount namespace here (unshare: $probe->{err})", 7 if $probe->{rc};
    skip "$bindir does not exist", 7 unless -d $bindir;
    make_path("$d/inst", "$d/buildA", "$d/buildB", "$d/tcfg", "$d/tstate");
    for my $to ("$d/inst/siteload", "$d/buildA/siteload", "$d/buildB/siteload") {
        copy($SITELOAD, $to) or die "$to: $!";
        chmod 0755, $to;
    }
    # $bindir/siteload is $d/inst/siteload in the namespace only
    my $ns = sub {
        my ($exe, @args) = @_;
        run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"',
             'sh', "$d/inst", $bindir, $exe, '--trust', "$d/trust", '--state-dir', "$d/tstate",
             '--config-dir', "$d/tcfg", '--reload-command', "echo reload >>$d/reloads", @args]);
    };
    $r = $ns->("$d/buildA/siteload", bundle(config_only => 1));
    is($r->{rc}, 0, 'build A imports a config') or diag $r->{err};
    my $tpl = slurp("$d/tcfg/sitedump-templates.cfg") // '';
    like($tpl, qr{\Q$bindir\E/siteload stale }, "the templates' stale check names $bindir/siteload");
    unlike($tpl, qr{buildA}, '... not the build that ran');
    is(slurp("$d/reloads"), "reload\n", 'one reload');
    my @st = stat("$d/tcfg/sitedump-templates.cfg");
    $r = $ns->("$d/buildB/siteload", bundle(config_only => 1));
    is($r->{rc}, 0, 'build B imports the same config') or diag $r->{err};
    my @st2 = stat("$d/tcfg/sitedump-templates.cfg");
    is("$st2[1] $st2[9] " . slurp("$d/tcfg/sitedump-templates.cfg"), "$st[1] $st[9] $tpl",
       'the templates are not rewritten (same inode, time and text)');
    is(slurp("$d/reloads"), "reload\n", 'no second reload');
}

$ng->stop;

# ---- OMD_ROOT: a site's own paths without options --------------------------------------------
SKIP: {
    my ($prefix, $why) = naemon_prefix();
    skip "naemon not built: run scripts/build-naemon ($why)", 7 unless $prefix;
    # the fake site, laid out as OMD's with its Naemon core (CORE naemon: tmp/naemon,
    # etc/naemon); what the site's Naemon reads must be readable by its user
    my $o = "$d/omd";
    make_path("$o/tmp/run", "$o/tmp/naemon", "$o/var", "$o/etc/naemon/conf.d/sitedump");
    chmod 0755, $d;
    system('chmod', '-R', 'a+rX', $o) == 0 or die;
    my $nm = naemon_start(name => 'paths-omd', objects => [$base], extra_cfg => { cfg_dir => "$o/etc/naemon/conf.d" });
    symlink($nm->livestatus, "$o/tmp/run/live") or die "symlink: $!";
    symlink($nm->{checkresult_dir}, "$o/tmp/naemon/checkresults") or die "symlink: $!";
    # siteload tells a reloaded core by program_start (whole seconds) and its pid (the same
    # after a HUP): a reload within the second the core started is not seen (as in 0028)
    sleep 1.1;
    local $ENV{OMD_ROOT} = $o;
    $r = run([$SITELOAD, '--trust', "$d/trust", '--reload-command', "kill -HUP $nm->{pid}", bundle(disk => 'DISK CRITICAL - 96%')]);
    is($r->{rc}, 0, 'under OMD_ROOT: import without a path option, exit 0') or diag $r->{err};
    ok(-f "$o/etc/naemon/conf.d/sitedump/sitedump-far.cfg", 'config in $OMD_ROOT/etc/naemon/conf.d/sitedump');
    ok(-f "$o/var/sitedump/far.imported", 'state in $OMD_ROOT/var/sitedump');
    like($r->{err}, qr/checkresult files/, 'results through $OMD_ROOT/tmp/naemon/checkresults (the Naemon core detected)');
    my $got = sub {
        my $q = eval { $nm->query("GET services\nColumns: state plugin_output\nFilter: host_name = far host\nFilter: description = disk") } || [];
        return @$q ? "$q->[0][0] $q->[0][1]" : '';
    };
    ok(wait_for(sub { $got->() eq '2 DISK CRITICAL - 96%' }, 60, 0.5), 'the result is in the site\'s core (read over its socket)')
        or diag $got->();
    $r = run([$SITELOAD, '--trust', "$d/trust", '--livestatus', "unix:$d/nothing", "$d/no-such-bundle"]);
    is($r->{rc}, 2, 'an explicit --livestatus wins over the site\'s socket (which would work)');
    like($r->{err}, qr{\Q$d\E/nothing}, '... the one named');
    $nm->stop;
}

done_testing();
