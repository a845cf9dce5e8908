#!/usr/bin/perl
# A site's config cannot break the central (issue: untrusted remote with a valid key), checked
# on a real Nagios 4 and a real Icinga 2 central, bundles crafted with sitedump --snapshot:
#   - a host its own parent and a 2-host parent cycle: the edges that close the cycles are
#     dropped with one warning per host; the core validates and is up after the reload;
#   - a host listing `linux-servers`, a group the central defines (with its own member) and
#     the site does not: the reference is dropped; no group of the central gains a member, and
#     Icinga 2 still starts; groups the site defines are named SITE:name;
#   - a group name with a newline ("x\nH db": what once injected a line into SITE.groups):
#     refused; a second site that defines and uses "db" is imported fine;
#   - a candidate the core refuses (a host name the central's illegal_object_name_chars
#     forbids; --contacts nosuchcontact): exit 1 with the core's own error line, the previous
#     file unchanged, nothing left behind, the core still running, another site in the same
#     run applied, and the same site's next good bundle applied;
#   - the same host without --check-command: Nagios exits at the HUP and siteload says the core
#     is down (exit 2, the reload owed); bad --contacts / --contact-groups names: usage errors.
# The checks of site-scoped group names and of --contacts need the writers that honour
# writer_opts.group_prefix / notify_contacts: TODO until formats/ has them.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

guard(900);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $d = abs_path(tempdir('sd-guard-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/sdstate", "$d/b");
run_defaults(timeout => 300);

# do the writers know the shadow options yet? (formats/ is changed by another branch)
my $W_GROUPS   = slurp("$ROOT/formats/nagios_objects.c") =~ /group_prefix/ && slurp("$ROOT/formats/icinga2_dsl.c") =~ /group_prefix/;
my $W_CONTACTS = slurp("$ROOT/formats/nagios_objects.c") =~ /notify_contacts/;

for my $s (qw(alpha beta gamma)) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$s"]);
    is($r->{rc}, 0, "keygen $s") or diag $r->{err};
    system('cp', "$d/$s.pub", "$d/trust/") == 0 or die;
}

my $now = int(time);
sub obj { snapshot_object(now => $now, check_command => 'x', @_) }
# bundle(site, hosts => [...], services => [...], hostgroups => [...]) -> path; sequence grows
my $nb = 0;
sub bundle {
    my ($site, %o) = @_;
    my $json = snapshot_json(format => 'sitedump-snapshot', version => 1, site => $site, source => 'crafted',
        created => int(time), parts => ['state', 'config'],
        hostgroups => [ map { { name => $_, alias => $_ } } @{ $o{hostgroups} || [] } ],
        servicegroups => [], hosts => [ map { obj(%$_) } @{ $o{hosts} } ],
        services => [ map { obj(%$_) } @{ $o{services} || [] } ], comments => [], downtimes => []);
    $nb++;
    spew("$d/b/$site-$nb.json", $json);
    my $r = run([$SITEDUMP, '--snapshot', "$d/b/$site-$nb.json", '--all', '-k', "$d/$site.key", '--site', $site,
                 '--state-dir', "$d/sdstate", '-o', "$d/b/$site-$nb.bundle"]);
    ok(-s "$d/b/$site-$nb.bundle", "bundle $site-$nb") or diag $r->{err};
    return "$d/b/$site-$nb.bundle";
}

my %ALPHA = (
    hostgroups => ['web', "x\nH db"],
    hosts => [ { name => 'loop1', parents => ['loop1'] },
               { name => 'ca', parents => ['cb'] }, { name => 'cb', parents => ['ca'] },
               { name => 'web1', groups => ['linux-servers', 'web'], parents => ['ca'] },
               { name => 'web2', groups => ["x\nH db", 'web'] } ],
    services => [ { host_name => 'web1', description => 'http' } ],
);
my %BETA = (hostgroups => ['db'], hosts => [ { name => 'b1', groups => ['db'] } ]);

# files left in a config dir besides the cores' own (candidates, files kept aside)
sub leftovers { my ($dir) = @_; opendir(my $h, $dir) or return ['?']; [ sort grep { /^\./ && !/^\.\.?$/ } readdir $h ] }

# ---- Nagios 4 ------------------------------------------------------------------------------
{
    make_path("$d/ng-cfg", "$d/ng-state");
    my $base = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
             . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n"
             . "define hostgroup {\n\thostgroup_name\tlinux-servers\n\talias\tcentral linux\n\tmembers\tcentral-own\n}\n"
             . "define contact {\n\tcontact_name\tcentral-ops\n\thost_notifications_enabled\t0\n"
             . "\tservice_notifications_enabled\t0\n\thost_notification_period\tsitetest-24x7\n"
             . "\tservice_notification_period\tsitetest-24x7\n\thost_notification_options\tn\n"
             . "\tservice_notification_options\tn\n\thost_notification_commands\tsitetest-notify-none\n"
             . "\tservice_notification_commands\tsitetest-notify-none\n}\n";
    # a central stricter than the stock illegal_object_name_chars: '#' is refused by the core
    # and not by siteload, so only the core's check can catch it
    my $ng = nagios_start(name => 'guard-ng', objects => [$base],
                          extra_cfg => { cfg_dir => "$d/ng-cfg", illegal_object_name_chars => q{`~!$%^&*|'"<>?,()=#} });
    my $CHECK = "/usr/sbin/nagios4 -v $ng->{cfg}";
    my @load = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/ng-state", '--config-dir', "$d/ng-cfg",
                '--reload-command', "kill -HUP $ng->{pid}", '--check-command', $CHECK,
                '--checkresults', $ng->{checkresult_dir}, '--command-file', $ng->{command_file},
                '--status-file', $ng->{status_file}, '--objects-cache', $ng->{objects_cache}, '--reload-wait', 30);
    my $oc = sub { SiteTest::parse_objects_cache($ng->{objects_cache}) };

    # cycles, the central's group, a group name with a newline
    my $r = run([@load, bundle('alpha', %ALPHA)]);
    is($r->{rc}, 1, 'Nagios alpha: imported, the newline group refused (exit 1)') or diag $r->{err};
    like($r->{err}, qr/site alpha: host 'loop1': parent 'loop1' left out: it would close a cycle of parents/,
         'Nagios: the self-parent dropped with a warning');
    my $ncyc = () = $r->{err} =~ /site alpha: host 'c[ab]': parent 'c[ab]' left out: it would close a cycle/g;
    is($ncyc, 1, 'Nagios: one edge of the 2-host cycle dropped, one warning') or diag $r->{err};
    like($r->{err}, qr/site alpha: hostgroup 'x\?H db': .*control character/, 'Nagios: the newline group refused, named on one line');
    like($r->{err}, qr/site alpha: host 'web1': left out of hostgroups 'linux-servers': the site's config does not define it/,
         'Nagios: the reference to the central\'s group dropped with a warning');
    like($r->{err}, qr/site alpha: config: 5 hosts owned, 0 refused, config file written/, 'Nagios alpha: config written');
    ok(kill(0, $ng->{pid}), 'Nagios: still running after the reload');
    my $v = run(['/usr/sbin/nagios4', '-v', $ng->{cfg}]);
    is($v->{rc}, 0, 'Nagios: nagios4 -v passes with the site\'s config') or diag $v->{out};
    my $o = $oc->();
    ok($o->{host}{loop1} && !defined $o->{host}{loop1}{parents}, 'Nagios: loop1 loaded, without parents');
    is(join(',', sort grep { defined } map { $o->{host}{$_}{parents} } qw(ca cb)), 'cb', 'Nagios: ca/cb keep one edge of their cycle') or diag explain [$o->{host}{ca}, $o->{host}{cb}];
    is($o->{host}{web1}{parents}, 'ca', 'Nagios: a parent outside the cycle kept');
    is($o->{hostgroup}{'linux-servers'}{members}, 'central-own', 'Nagios: the central\'s linux-servers has only its own member');
    my @foreign = grep { my $g = $_; grep { /^(web\d|loop1|c[ab])$/ } split /,/, ($o->{hostgroup}{$g}{members} // '') }
                  grep { !/^alpha:/ } keys %{ $o->{hostgroup} || {} };
    TODO: {
        local $TODO = 'the writers do not honour group_prefix yet' unless $W_GROUPS;
        is_deeply(\@foreign, [], 'Nagios: alpha\'s hosts are only in alpha: groups');
        is(join(',', sort split /,/, $o->{hostgroup}{'alpha:web'}{members} // ''), 'web1,web2', 'Nagios: alpha:web holds web1 and web2');
    }
    ok(!-e "$d/ng-state/alpha.groups", 'Nagios: no SITE.groups state file');

    # the group the newline name tried to claim: beta defines and uses its own
    $r = run([@load, bundle('beta', %BETA)]);
    is($r->{rc}, 0, 'Nagios beta: its own group "db" imported') or diag $r->{err};
    $o = $oc->();
    my ($db) = grep { /(^|:)db$/ } keys %{ $o->{hostgroup} || {} };
    ok($db && $o->{hostgroup}{$db}{members} eq 'b1', "Nagios beta: b1 in its group ($db)") or diag explain $o->{hostgroup};

    # a candidate the core refuses, another site in the same run
    $r = run([@load, bundle('gamma', hosts => [ { name => 'g1' } ])]);
    is($r->{rc}, 0, 'Nagios gamma: first bundle') or diag $r->{err};
    my $gfile = "$d/ng-cfg/sitedump-gamma.cfg";
    my $before = slurp($gfile);
    my $gseq = slurp("$d/ng-state/gamma.imported");
    my $pid = $ng->{pid};
    my $bad = bundle('gamma', hosts => [ { name => 'g1' }, { name => 'web#1' } ]);
    my $b2 = bundle('beta', %BETA, hosts => [ @{ $BETA{hosts} }, { name => 'b2' } ]);
    $r = run([@load, $bad, $b2]);
    is($r->{rc}, 1, 'Nagios: a candidate the core refuses: exit 1') or diag $r->{err};
    like($r->{err}, qr/site gamma sequence \d+: refused by the core's config check \(previous config kept, core not reloaded\): exit 1: Error: The name of host 'web#1' contains one or more illegal characters/,
         'Nagios: the core\'s own error line reported');
    is(slurp($gfile), $before, 'Nagios: gamma\'s previous config file unchanged');
    is(slurp("$d/ng-state/gamma.imported"), $gseq, 'Nagios: gamma\'s bundle not recorded as imported');
    ok(!-e "$d/ng-state/gamma.reload-pending", 'Nagios: no reload owed for the refused candidate');
    is_deeply(leftovers("$d/ng-cfg"), [], 'Nagios: no candidate or kept-aside file left');
    like($r->{err}, qr/site beta: config: 2 hosts owned, 0 refused, config file written/, 'Nagios: beta in the same run applied');
    ok(kill(0, $pid), 'Nagios: still running');
    ok(wait_for(sub { my $x = eval { $oc->() }; $x && $x->{host}{b2} }, 30), 'Nagios: beta\'s new host loaded');
    ok(!$oc->()->{host}{'web#1'}, 'Nagios: the refused host never loaded');

    # the same site's next good bundle
    $r = run([@load, bundle('gamma', hosts => [ { name => 'g1' }, { name => 'g2' } ])]);
    is($r->{rc}, 0, 'Nagios gamma: the next good bundle applied (not refused for good)') or diag $r->{err};
    ok(wait_for(sub { my $x = eval { $oc->() }; $x && $x->{host}{g2} }, 30), 'Nagios gamma: g2 loaded');

    # --contacts with a contact the central lacks: refused by the core
    $before = slurp($gfile);
    $r = run([@load, '--contacts', 'nosuchcontact', bundle('gamma', hosts => [ { name => 'g1' }, { name => 'g3' } ])]);
    TODO: {
        local $TODO = 'the writers do not honour notify_contacts yet' unless $W_CONTACTS;
        is($r->{rc}, 1, 'Nagios: --contacts nosuchcontact: exit 1') or diag $r->{err};
        like($r->{err}, qr/refused by the core's config check .*: exit 1: Error: .*nosuchcontact/, 'Nagios: --contacts: the core\'s error line');
        is(slurp($gfile), $before, 'Nagios: --contacts: the previous file unchanged');
    }
    ok(kill(0, $pid), 'Nagios: still running after the refused candidates');
    is_deeply(leftovers("$d/ng-cfg"), [], 'Nagios: nothing left behind');

    # without --check-command the same host reaches the core; Nagios exits at the HUP, and
    # siteload says the core is down (status.dat no longer written) instead of "did not restart"
    my @nocheck = grep { $_ ne '--check-command' && $_ ne $CHECK } @load;
    $r = run([@nocheck, '--reload-wait', 15, bundle('gamma', hosts => [ { name => 'g1' }, { name => 'web#9' } ])]);
    is($r->{rc}, 2, 'Nagios down after the reload: exit 2') or diag $r->{err};
    like($r->{err}, qr/the core is down after the reload command \(\S*status\.dat not written for \d+ s\): see its log; the reload is retried at the next import \(--check-command validates a site's config first\)/,
         'Nagios down after the reload: said so');
    ok(!kill(0, $pid), 'Nagios down after the reload: it really is');
    ok(-e "$d/ng-state/gamma.reload-pending", 'Nagios down after the reload: the reload is owed');

    # usage errors
    $r = run([@load, '--contacts', 'ok,bad;name', $bad]);
    is($r->{rc}, 2, 'a bad --contacts name: exit 2');
    like($r->{err}, qr/^siteload: --contacts: 'bad;name' cannot be a Nagios name: ';' in the name/, 'a bad --contacts name: named');
    $r = run([@load, '--contact-groups', "a,,b", $bad]);
    is($r->{rc}, 2, 'an empty --contact-groups name: exit 2');
    like($r->{err}, qr/^siteload: --contact-groups: '' cannot be a Nagios name: empty name/, 'an empty --contact-groups name: named');
}

# ---- Icinga 2 ------------------------------------------------------------------------------
{
    make_path("$d/ic-cfg", "$d/ic-state");
    my $conf = qq{object HostGroup "linux-servers" { }\n}
             . qq{object Host "centralhost" {\n  check_command = "dummy"\n  enable_active_checks = false\n  groups = [ "linux-servers" ]\n}\n}
             . qq{include_recursive "$d/ic-cfg"\n};
    my $ic = icinga2_start(name => 'guard-ic', conf => $conf);
    my $D = $ic->{dir};
    my $CHECK = "ICINGA2_USER=root ICINGA2_GROUP=root /usr/sbin/icinga2 daemon -C -c $ic->{conf} "
              . join(' ', map { "-DConfiguration.$_" } "DataDir=$D/lib", "LogDir=$D/log", "CacheDir=$D/cache",
                     "SpoolDir=$D/spool", "InitRunDir=$D/run", "PidPath=$D/run/icinga2-check.pid",
                     'RunAsUser=root', 'RunAsGroup=root');
    my @load = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/ic-state", '--config-dir', "$d/ic-cfg",
                '--config-format', 'icinga2', '--reload-command', "kill -HUP $ic->{pid}", '--check-command', $CHECK,
                '--livestatus', 'unix:' . $ic->livestatus, '--reload-wait', 60);
    my $groups = sub { +{ map { ($_->[0] => [ sort @{ $_->[1] } ]) } @{ $ic->query("GET hostgroups\nColumns: name members") } } };

    my $r = run([@load, bundle('alpha', %ALPHA)]);
    is($r->{rc}, 1, 'Icinga alpha: imported, the newline group refused (exit 1)') or diag $r->{err};
    like($r->{err}, qr/site alpha: host 'loop1': parent 'loop1' left out: it would close a cycle of parents/, 'Icinga: the self-parent dropped');
    like($r->{err}, qr/site alpha: hostgroup 'x\?H db': .*control character/, 'Icinga: the newline group refused');
    like($r->{err}, qr/site alpha: config: 5 hosts owned, 0 refused, config file written/, 'Icinga alpha: config written');
    unlike($r->{err}, qr/did not restart|core is down/, 'Icinga: the core restarted with the site\'s config');
    ok(kill(0, $ic->{pid}), 'Icinga: still running');
    my $hosts = { map { ($_->[0] => 1) } @{ $ic->query("GET hosts\nColumns: name") } };
    ok($hosts->{loop1} && $hosts->{web2}, 'Icinga: the site\'s hosts loaded');
    my $g = $groups->();
    is_deeply($g->{'linux-servers'}, ['centralhost'], 'Icinga: the central\'s linux-servers has only its own member');
    TODO: {
        local $TODO = 'the writers do not honour group_prefix yet' unless $W_GROUPS;
        is_deeply($g->{'alpha:web'}, ['web1', 'web2'], 'Icinga: alpha:web holds web1 and web2');
        is_deeply([ sort grep { !/^alpha:/ && grep { /^web\d$/ } @{ $g->{$_} } } keys %$g ], [], 'Icinga: alpha\'s hosts only in alpha: groups');
    }
    $r = run([@load, bundle('beta', %BETA)]);
    is($r->{rc}, 0, 'Icinga beta: its own group "db" imported') or diag $r->{err};
    $g = $groups->();
    my ($db) = grep { /(^|:)db$/ } keys %$g;
    is_deeply($db ? $g->{$db} : undef, ['b1'], "Icinga beta: b1 in its group") or diag explain $g;
    is_deeply(leftovers("$d/ic-cfg"), [], 'Icinga: no candidate or kept-aside file left');

    # a candidate refused on Icinga 2: what the real core refuses is caught by siteload or the
    # writer before, so a check command that refuses the candidate holding "b9" stands in for
    # it (the last --check-command wins); the rest of the command is the real check
    my $before = slurp("$d/ic-cfg/sitedump-beta.conf");
    $r = run([@load, '--check-command', "grep -q b9 $d/ic-cfg/sitedump-beta.conf && echo '[2026-01-01 00:00:00 +0000] critical/config: Error: test refusal' && exit 1; $CHECK",
              bundle('beta', %BETA, hosts => [ @{ $BETA{hosts} }, { name => 'b9' } ])]);
    is($r->{rc}, 1, 'Icinga: a refused candidate: exit 1') or diag $r->{err};
    like($r->{err}, qr/refused by the core's config check \(previous config kept, core not reloaded\): exit 1: critical\/config: Error: test refusal/,
         'Icinga: the critical/config line reported');
    is(slurp("$d/ic-cfg/sitedump-beta.conf"), $before, 'Icinga: the previous file unchanged');
    ok(!-e "$d/ic-state/beta.reload-pending", 'Icinga: no reload owed');
    ok(kill(0, $ic->{pid}), 'Icinga: still running at the end');
    is_deeply(leftovers("$d/ic-cfg"), [], 'Icinga: nothing left behind');

    # From a review: a host or service listed twice ("re-defined" in Icinga 2, "Duplicate
    # definition" in Nagios), a host named like the shared template (one namespace with host
    # templates in Icinga 2), names that start with '-' or hold '&', '|', '<', '>'.
    my %DUP = (hosts => [ { name => 'dup' }, { name => 'dup' }, { name => 'livedump-host' }, { name => '-oX=y' },
                          { name => 'a&&id' } ],
               services => [ { host_name => 'dup', description => 's' }, { host_name => 'dup', description => 's' },
                             { host_name => 'dup', description => '-x' } ]);
    $r = run([@load, bundle('beta', %DUP)]);
    is($r->{rc}, 1, 'Icinga: duplicates and reserved names: imported, refusals reported (exit 1)') or diag $r->{err};
    like($r->{err}, qr/site beta: host 'dup': listed again in the site's config: only the first is written/, 'Icinga: a host listed twice is written once');
    like($r->{err}, qr/site beta: service 'dup;s': listed again/, 'Icinga: a service listed twice is written once');
    like($r->{err}, qr/host 'livedump-host': names starting with 'livedump-' are reserved/, 'Icinga: a host named like the shared template refused');
    like($r->{err}, qr/host '-oX=y': a name starting with '-'/, 'Icinga: a host name starting with \'-\' refused');
    like($r->{err}, qr/service 'dup;-x': a name starting with '-'/, 'Icinga: a service name starting with \'-\' refused');
    like($r->{err}, qr/host 'a&&id': one of .* in the name/, 'Icinga: a host name with \'&\' refused');
    unlike($r->{err}, qr/refused by the core's config check|did not restart|core is down/, 'Icinga: the core took the config');
    my $dh = $ic->query("GET services\nColumns: description\nFilter: host_name = dup");
    is(scalar @$dh, 1, 'Icinga: dup has its one service');

    # a run killed while its candidate was being checked leaves it in place and the previous
    # file aside: the next run of any site puts it back before anything is checked or reloaded
    my $good = slurp("$d/ic-cfg/sitedump-beta.conf");
    spew("$d/ic-cfg/.sitedump-beta.conf.prev", $good);
    spew("$d/ic-cfg/sitedump-beta.conf", "object Host \"broken\" { this is not Icinga 2 }\n");
    $r = run([@load, bundle('alpha', %ALPHA, hosts => [ @{ $ALPHA{hosts} }, { name => 'a9' } ])]);
    is($r->{rc}, 1, 'Icinga: after a killed run, alpha imports (its newline group still refused: exit 1)') or diag $r->{err};
    unlike($r->{err}, qr/refused by the core's config check/, 'Icinga: the check did not see the unchecked candidate');
    is(slurp("$d/ic-cfg/sitedump-beta.conf"), $good, "Icinga: beta's previous file is back");
    ok((grep { $_->[0] eq 'a9' } @{ $ic->query("GET hosts\nColumns: name") }), "Icinga: alpha's new host loaded");
    is_deeply(leftovers("$d/ic-cfg"), [], 'Icinga: no file left aside');
}

# a site named "templates" would replace the shared templates file every site uses
{
    make_path("$d/tp-cfg", "$d/tp-state");
    run([$SITEDUMP, 'keygen', '-o', "$d/templates"]);
    system('cp', "$d/templates.pub", "$d/trust/") == 0 or die;
    my $r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/tp-state", '--config-dir', "$d/tp-cfg",
                 bundle('templates', %BETA)]);
    is($r->{rc}, 1, 'a site named "templates": refused (exit 1)') or diag $r->{err};
    like($r->{err}, qr/the site name 'templates' is reserved/, 'a site named "templates": the reason');
    ok(!-e "$d/tp-cfg/sitedump-templates.cfg", 'a site named "templates": nothing written');
}

done_testing;
