#!/usr/bin/perl
# siteload import into a real central Icinga 2 through Livestatus (issue 4):
#   - a real Icinga 2 remote (remote_fixture: soft and hard problems, sticky and normal acks,
#     fixed and flexible downtimes, comments, multi-line output, perf data, UTF-8, spaces)
#     -> signed --all bundle -> siteload --config-dir --reload-command --livestatus: the
#     central shows the remote exactly (scripts/sitediff: 0 differences, no field ignored);
#   - the link service sitedump-SITE/"sitedump link" carries the bundle's sequence and counts;
#   - the same bundle again: refused (exit 1), nothing sent; with the sequence forgotten the
#     reconciliation still sends nothing but the link result; an older sequence is refused; a
#     bundle signed with another site's key is refused; site B cannot touch site A's hosts,
#     nor the central's own;
#   - changes on the remote (ack removed, downtime deleted, comment added, service recovered,
#     host deleted): after the next bundle the central matches again, and the central's own
#     host, downtime and comments (also one a central user put on a shadow object) are untouched;
#   - --dry-run prints the commands and changes nothing.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(600);
umask 022;      # siteload narrows it for its own files itself (state files 0600)
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-import-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/b");

# run: SiteTest::run (timeout 180 s)

# ---- remote, keys, central ----------------------------------------------------------
my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
for my $k (qw(alpha beta)) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$k"]);
    is($r->{rc}, 0, "keygen $k") or diag $r->{err};
}
system('cp', "$d/alpha.pub", "$d/beta.pub", "$d/trust/") == 0 or die;

# the central has a host of its own, with a downtime and a comment of its own users
my $central = icinga2_start(name => 'central', conf => <<"EOF2");
include_recursive "$d/cfg"
object Host "central-own" { check_command = "dummy"; enable_active_checks = false }
object Service "own-svc" { host_name = "central-own"; check_command = "dummy"; enable_active_checks = false }
EOF2
my $CLS = 'unix:' . $central->livestatus;
my $now = time;
$central->command("SCHEDULE_HOST_DOWNTIME;central-own;" . ($now - 60) . ";" . ($now + 7200) . ";1;0;0;root;central maintenance");
$central->command("ADD_SVC_COMMENT;central-own;own-svc;1;root;central comment");

my $seq = 0;
sub bundle {
    my ($name, %o) = @_;
    my @argv = ($SITEDUMP, @{ $o{args} || ['--all'] }, '-k', "$d/" . ($o{key} // 'alpha') . '.key',
                '--site', $o{site} // 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS, '-o', "$d/b/$name");
    my $r = run(\@argv);
    is($r->{rc}, 0, "sitedump bundle $name") or diag $r->{err};
    return "$d/b/$name";
}
my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--config-format', 'icinga2', '--reload-command', "kill -HUP $central->{pid}", '--livestatus', $CLS);
sub load { my (@b) = @_; run([@LOAD, @b]) }
sub diff_central {
    my (@extra) = @_;
    run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS, @extra]);
}
sub counts {
    my $dt = $central->query("GET downtimes\nColumns: id");
    my $cm = $central->query("GET comments\nColumns: id");
    return (scalar @$dt, scalar @$cm);
}
sub own_intact {
    my ($what) = @_;
    my $dt = $central->query_hash("GET downtimes\nColumns: host_name author comment\nFilter: host_name = central-own");
    my $cm = $central->query_hash("GET comments\nColumns: host_name service_description author comment\nFilter: author = root");
    is(scalar(@$dt), 1, "$what: the central's own downtime is still there");
    is(scalar(grep { $_->{comment} eq 'central comment' } @$cm), 1, "$what: the central's own comment is still there");
}

my $b0 = bundle('b0');
sleep 1;
my $b1 = bundle('b1');

# ---- first import --------------------------------------------------------------------
my $r = load($b1);
is($r->{rc}, 0, 'first import: exit 0') or diag $r->{err};
like($r->{err}, qr/5 hosts owned, 0 refused, config file written/, 'config written, 5 hosts owned');
ok(-f "$d/cfg/sitedump-alpha.conf" && -f "$d/cfg/sitedump-templates.conf", 'per-site config and shared templates');
like(slurp("$d/cfg/sitedump-templates.conf"), qr/sitedump-stale.*\Q$SITELOAD\E/s, 'templates run siteload stale');
$r = diff_central();
is($r->{rc}, 0, 'sitediff: the central mirrors the remote (no field ignored)') or diag $r->{out}, $r->{err};
like($r->{out}, qr/0 differences \(5 hosts, 12 services compared\)/, 'all 17 objects compared');

my $link = $central->query_hash("GET services\nColumns: host_name description state plugin_output perf_data\nFilter: host_name = sitedump-alpha");
is(scalar @$link, 1, 'link service exists');
like($link->[0]{plugin_output} // '', qr/^OK - sitedump: bundle \d+ \(both\) of site alpha/, 'link service: OK with the bundle');
like($link->[0]{perf_data} // '', qr/services=12/, 'link service perf data counts the services');
own_intact('first import');

# ---- the same bundle again -------------------------------------------------------------
my @before = counts();
$r = load($b1);
is($r->{rc}, 1, 'same bundle again: exit 1');
like($r->{err}, qr/refused: not newer than the last imported sequence/, 'same bundle: refused as not newer');
is_deeply([counts()], \@before, 'same bundle: no downtime or comment added');
$r = load($b0);
is($r->{rc}, 1, 'older bundle: exit 1');
like($r->{err}, qr/b0: site alpha sequence \d+: refused: not newer/, 'older bundle refused');

# with the sequence forgotten, reconciliation finds nothing to send
unlink "$d/state/alpha.imported" or die;
$r = load($b1);
is($r->{rc}, 0, 're-import with the sequence forgotten: exit 0') or diag $r->{err};
like($r->{err}, qr/config unchanged/, 're-import: config file not rewritten');
like($r->{err}, qr/: 0 results for 0 objects, acks 0 set 0 removed, downtimes 0 added 0 deleted, comments 0 added 0 deleted; .* sent 0 commands, 0 checkresult files/,
     're-import: nothing sent but the link result');
is_deeply([counts()], \@before, 're-import: no downtime or comment added');
is(diff_central()->{rc}, 0, 're-import: still 0 differences');

# ---- foreign keys, other sites, the central's own --------------------------------------
my $forged = bundle('forged', key => 'beta', site => 'alpha');     # site alpha signed by beta's key
$r = load($forged);
is($r->{rc}, 1, 'bundle for alpha signed with beta\'s key: exit 1');
like($r->{err}, qr/forged: .*signature/i, 'forged bundle: signature refused');
system('rm', '-f', "$d/trust/gamma.pub");
my $gamma = bundle('gamma', key => 'alpha', site => 'gamma');       # no trusted key for gamma
$r = load($gamma);
is($r->{rc}, 1, 'untrusted site: exit 1');
like($r->{err}, qr/no trusted key for site 'gamma'/, 'untrusted site named');
my $beta = bundle('beta', key => 'beta', site => 'beta');           # beta claims alpha's hosts
@before = counts();
$r = load($beta);
is($r->{rc}, 1, 'site beta with alpha\'s hosts: exit 1');
like($r->{err}, qr/site beta: host 'gw': owned by another site/, 'beta: alpha\'s host refused');
like($r->{err}, qr/0 hosts owned, 5 refused/, 'beta owns nothing');
like($r->{err}, qr/beta owns no hosts yet|0 results for 0 objects/, 'beta: no state applied');
is_deeply([counts()], \@before, 'beta: nothing added');
is(diff_central()->{rc}, 0, 'beta: alpha\'s objects unchanged');
own_intact('after beta');

# ---- changes on the remote ---------------------------------------------------------------
my $ts = time - 5;
$central->command("ADD_SVC_COMMENT;gw;ping;1;centraluser;central note on a shadow object");
$rem->command("REMOVE_SVC_ACKNOWLEDGEMENT;häst-ü;ping", $ts);
my $dts = $rem->query_hash("GET downtimes\nColumns: id host_name service_description\nFilter: service_description = mysql");
$rem->command("DEL_SVC_DOWNTIME;$dts->[0]{id}", $ts);
$rem->command("ADD_HOST_COMMENT;gw;1;ivan;new remote comment", $ts);
$rem->command("PROCESS_SERVICE_CHECK_RESULT;web server 01;load;0;LOAD OK - recovered|load1=0.1", $ts + 1);
wait_for(sub { my $q = $rem->query("GET services\nColumns: state\nFilter: host_name = web server 01\nFilter: description = load"); $q->[0][0] == 0 }, 20);
my $b2 = bundle('b2', args => ['--all', '-O', 'Filter: name != db01', '-S', 'Filter: host_name != db01']);
$r = load($b2);
is($r->{rc}, 0, 'changed remote: exit 0') or diag $r->{err};
like($r->{err}, qr/4 hosts owned, 0 refused, config file written/, 'db01 dropped from the config');
wait_for(sub { !@{ $central->query("GET hosts\nColumns: name\nFilter: name = db01") } }, 30);
is(scalar @{ $central->query("GET hosts\nColumns: name\nFilter: name = db01") }, 0, 'deleted host gone from the central');
# the only difference left is the comment the central's own user added
my $ONLY_OWN = "comment only on B: service 'gw;ping' author 'centraluser' comment 'central note on a shadow object'\n"
             . "sitediff: 1 differences (4 hosts, 9 services compared)\n";
$r = diff_central('--ignore-host', 'db01');
is($r->{out}, $ONLY_OWN, 'changed remote: the central matches again (but for the central user\'s comment)');
my $gwc = $central->query_hash("GET comments\nColumns: author comment\nFilter: host_name = gw");
is(scalar(grep { $_->{author} eq 'centraluser' } @$gwc), 1, 'a central user\'s comment on a shadow object is untouched');
is(scalar(grep { $_->{author} eq 'ivan' } @$gwc), 1, 'the new remote comment arrived');
own_intact('after changes');

# ---- dry run ------------------------------------------------------------------------------
$rem->command("ADD_HOST_COMMENT;gw;1;judy;dry-run comment", time - 2);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = judy") } }, 20);
my $b3 = bundle('b3', args => ['--all', '-O', 'Filter: name != db01', '-S', 'Filter: host_name != db01']);
@before = counts();
my $imported = slurp("$d/state/alpha.imported");
is(join(' ', map { sprintf('%04o', ((stat("$d/state/alpha.$_"))[2] // 0) & 07777) } qw(hosts imported)), '0600 0644',
   'state files: alpha.hosts 0600 whatever the caller\'s umask (' . sprintf('%03o', umask) . '), alpha.imported 0644 for the stale check');
$r = run([@LOAD, '--dry-run', $b3]);
is($r->{rc}, 0, 'dry run: exit 0') or diag $r->{err};
like($r->{out}, qr/^\[\d+\] ADD_HOST_COMMENT;gw;1;judy;dry-run comment$/m, 'dry run prints the command');
is_deeply([counts()], \@before, 'dry run: nothing added');
is(slurp("$d/state/alpha.imported"), $imported, 'dry run: sequence not recorded');
$r = load($b3);
is($r->{rc}, 0, 'after the dry run the real import works');
is(diff_central('--ignore-host', 'db01')->{out}, $ONLY_OWN, 'and the central matches');

# ---- several bundles in one run, and stdin -------------------------------------------------
my @FILT = ('-O', 'Filter: name != db01', '-S', 'Filter: host_name != db01');
$rem->command("ADD_HOST_COMMENT;gw;1;kim;first of two", time - 2);
sleep 1;
my $b4 = bundle('b4', args => [@FILT]);
$rem->command("ADD_HOST_COMMENT;gw;1;lee;second of two", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = lee") } }, 20);
my $b5 = bundle('b5', args => [@FILT]);
my ($seq5) = $b5 =~ /b5$/ ? (run([$SITELOAD, 'inspect', '--json', $b5])->{out} =~ /"sequence":(\d+)/) : ();
$r = load($b5, $b4);                     # given newest first
is($r->{rc}, 0, 'two state bundles in one run: exit 0') or diag $r->{err};
like($r->{err}, qr/b4: site alpha sequence \d+: state superseded by a newer bundle of the site in this run: skipped/,
     'the older state bundle is skipped as superseded');
like(slurp("$d/state/alpha.imported"), qr/^$seq5 /, 'the newest sequence is recorded');
is(diff_central('--ignore-host', 'db01')->{out}, $ONLY_OWN, 'the central has the newest state');
$rem->command("ADD_HOST_COMMENT;gw;1;max;through stdin", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = max") } }, 20);
my $b6 = bundle('b6', args => [@FILT]);
$r = run([@LOAD, '-'], stdin => slurp($b6));
is($r->{rc}, 0, 'a bundle on stdin (-): exit 0') or diag $r->{err};
is(diff_central('--ignore-host', 'db01')->{out}, $ONLY_OWN, 'stdin bundle applied');

# ---- objects the central does not know: reported, nothing sent ------------------------------
# site "delta" (its own key) owns the remote's hosts under a prefix, but its config never
# reached the central's config dir (no --config-dir): ownership only
system('cp', "$d/beta.pub", "$d/trust/delta.pub") == 0 or die;
my $dconf = bundle('delta-c', key => 'beta', site => 'delta', args => ['-C']);
my @DLOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--prefix', 'delta-', '--livestatus', $CLS);
$r = run([@DLOAD, $dconf]);
is($r->{rc}, 0, 'delta: config bundle without --config-dir: ownership only') or diag $r->{err};
like($r->{err}, qr/site delta: config: 5 hosts owned, 0 refused \(no --config-dir: ownership only\)/, 'delta owns delta-*');
my $dstate = bundle('delta-s', key => 'beta', site => 'delta', args => []);
@before = counts();
$r = run([@DLOAD, $dstate]);
is($r->{rc}, 0, 'delta: state for objects the central does not know: not fatal (exit 0)') or diag $r->{err};
like($r->{err}, qr/service 'delta-gw;ping': unknown to the central core: skipped/, 'an unknown object is reported');
like($r->{err}, qr/: 0 results for 0 objects, .* 17 unknown, 0 refused; sent 0 commands/, 'nothing sent for unknown objects');
is_deeply([counts()], \@before, 'delta: no downtime or comment added');

# ---- the stale check ------------------------------------------------------------------------
$r = run([$SITELOAD, 'stale', '--state-dir', "$d/state", '--site', 'alpha']);
is($r->{rc}, 3, 'stale check: UNKNOWN');
like($r->{out}, qr/^UNKNOWN - sitedump: stale data: no result from site alpha since its last bundle was imported at \d{4}-/, 'stale check text says since when');
$r = run([$SITELOAD, 'stale', '--state-dir', "$d/state", '--site', 'alpha', '--link']);
is($r->{rc}, 2, 'link stale check: CRITICAL');
like($r->{out}, qr/^CRITICAL - sitedump: no bundle from site alpha imported since \d{4}-/, 'link stale text');

done_testing;
