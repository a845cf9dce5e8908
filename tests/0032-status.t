#!/usr/bin/perl
# siteload status (issue 20, Build 6): every site of the state dir and the trust dir, from what
# real imports into a real central Nagios 4 recorded:
# - before any import: the trusted site is listed as never imported, stale, exit 2;
# - after an --all import: sequence, made time, owned hosts and key id are the bundle's
#   (siteload inspect --json), exit 0; --json says the same;
# - a second site whose last import is old (its SITE.imported rewritten), one whose record is
#   damaged, a recorded last error (SITE.error), an unreadable trusted key: each shown, and
#   any stale site makes the exit 2; --stale-after moves the line;
# - usage errors exit 3 (2 is "stale", for the core's check).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;
use SiteTest qw(:DEFAULT slurp spew);

guard(300);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $DATA     = "$ROOT/tests/data/statusdat/nagios4";
my $d = abs_path(tempdir('sd-status-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate");

my $k = run([$SITEDUMP, 'keygen', '-o', "$d/r1"]);
is($k->{rc}, 0, 'keygen r1') or diag $k->{err};
my ($keyid) = $k->{out} =~ /key id ([0-9A-F]{16})/;
ok($keyid, "keygen names the key id ($keyid)");
system('cp', "$d/r1.pub", "$d/trust/") == 0 or die;
my @STATUS = ($SITELOAD, 'status', '--state-dir', "$d/state", '--trust', "$d/trust");

# ---- before any import ----------------------------------------------------------------------
my $s = run([@STATUS]);
is($s->{rc}, 2, 'no import yet: exit 2 (stale)') or diag $s->{out} . $s->{err};
like($s->{out}, qr/^site r1: STALE \(never imported\)$/m, 'the trusted site shown as never imported');
like($s->{out}, qr/^  trusted key +\Q$keyid\E$/m, 'with its key id');

# ---- a real import --------------------------------------------------------------------------
my $own = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
        . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n";
my $ng = nagios_start(objects => [$own], extra_cfg => { cfg_dir => "$d/cfg" });
my $r = run([$SITEDUMP, '--all', '-k', "$d/r1.key", '--site', 'r1', '--state-dir', "$d/sdstate",
             '--status-file', "$DATA/status.dat", '--objects-cache', "$DATA/objects.cache", '-o', "$d/b1.tgz"]);
is($r->{rc}, 0, 'sitedump --all bundle from the Nagios 4 fixture') or diag $r->{err};
my $info = decode_json(run([$SITELOAD, 'inspect', '-p', "$d/r1.pub", '--json', "$d/b1.tgz"])->{out});
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
          '--reload-command', "kill -HUP $ng->{pid}", '--status-file', $ng->{status_file},
          '--objects-cache', $ng->{objects_cache}, '--command-file', $ng->{command_file},
          '--checkresults', $ng->{checkresult_dir}, "$d/b1.tgz"]);
is($r->{rc}, 0, 'siteload imports it') or diag $r->{err};

$s = run([@STATUS]);
is($s->{rc}, 0, 'after the import: exit 0') or diag $s->{out} . $s->{err};
like($s->{out}, qr/^1 site, 0 stale/m, 'one site, none stale');
like($s->{out}, qr/^site r1: ok$/m, 'r1 ok');
like($s->{out}, qr/^  sequence +$info->{sequence}$/m, "the bundle's sequence ($info->{sequence})");
like($s->{out}, qr/^  hosts owned +$info->{hosts}$/m, "the bundle's hosts owned ($info->{hosts})");
like($s->{out}, qr/^  made +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s ago\)$/m, 'made, with its age');
like($s->{out}, qr/^  imported +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s ago\)$/m, 'imported, with its age');

my $j = run([@STATUS, '--json']);
is($j->{rc}, 0, '--json: exit 0');
my $doc = eval { decode_json($j->{out}) };
ok($doc, '--json is JSON') or diag $j->{out};
my ($r1) = grep { $_->{site} eq 'r1' } @{ $doc->{sites} || [] };
is($r1->{sequence}, "$info->{sequence}", 'json: sequence (a string: epoch ms)');
is($r1->{created}, $info->{created}, 'json: created');
is($r1->{hosts}, $info->{hosts}, 'json: hosts');
is($r1->{key_id}, $keyid, 'json: key_id');
ok(!$r1->{stale}, 'json: not stale');
is($doc->{stale_after}, 1800, 'json: the default --stale-after');

# ---- stale, damaged, errors -----------------------------------------------------------------
my $now = time;
spew("$d/state/r2.imported", sprintf("%d %d %d\n", ($now - 4000) * 1000, $now - 4000, $now - 3999));
spew("$d/state/r2.hosts", "r2-a\nr2-b\n");
spew("$d/state/r2.error", ($now - 100) . " refused: not newer than the last imported sequence 5\n");
spew("$d/state/r3.imported", "garbage\n");
spew("$d/trust/r2.pub", "not a key\n");
$s = run([@STATUS]);
is($s->{rc}, 2, 'a site imported 4000 s ago: exit 2') or diag $s->{out};
like($s->{out}, qr/^3 sites, 2 stale/m, 'three sites, two stale');
like($s->{out}, qr/^site r2: STALE$/m, 'r2 stale');
like($s->{out}, qr/^  imported +\S+ \S+ \(1h 6m ago\)$/m, 'its import 1h 6m ago');
like($s->{out}, qr/^  hosts owned +2$/m, 'its two hosts');
like($s->{out}, qr/^  last error +\S+ \S+ \(1m 40s ago\): refused: not newer than the last imported sequence 5$/m,
     'its recorded last error, with the time');
like($s->{out}, qr/^  trusted key +none: .*r2\.pub/m, 'its unreadable key named');
like($s->{out}, qr/^site r3: STALE \(never imported\)\n(?:  .*\n)*?  last error +\S*r3\.imported: damaged/m,
     'a damaged record: stale, and why');
like($s->{out}, qr/^site r1: ok$/m, 'r1 still ok');

$s = run([@STATUS, '--stale-after', '5000']);
like($s->{out}, qr/^site r2: ok$/m, '--stale-after 5000: r2 is not stale');
is($s->{rc}, 2, '... r3 (damaged) still is: exit 2');
unlink "$d/state/r3.imported";
is(run([@STATUS, '--stale-after', '5000'])->{rc}, 0, 'without r3: exit 0');

# ---- usage ----------------------------------------------------------------------------------
$s = run([$SITELOAD, 'status', '--bogus']);
is($s->{rc}, 3, 'an unknown option: exit 3');
like($s->{err}, qr/unknown option --bogus/, '... named');
is(run([$SITELOAD, 'status', '--stale-after', 'soon'])->{rc}, 3, 'a bad --stale-after: exit 3');
$s = run([$SITELOAD, 'status', '--help']);
is($s->{rc}, 0, 'status --help: exit 0');
like($s->{out}, qr/^usage: siteload status/, '... the usage');
spew("$d/notadir", "x\n");
$s = run([$SITELOAD, 'status', '--state-dir', "$d/notadir"]);
is($s->{rc}, 3, 'a state dir that cannot be listed: exit 3');
like($s->{err}, qr/notadir: Not a directory/, '... and why');

$ng->stop;
done_testing();
