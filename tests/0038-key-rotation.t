#!/usr/bin/perl
# Key rotation, SITE.error and the wait notice (issue 20, Build 1, 4, 6), with real sitedump and
# siteload bundles imported into a real central Nagios 4, following README "Key rotation":
# - while the trust dir's r1.pub holds the old and the new key, bundles signed by either are
#   imported (rc 0) and `siteload status` lists both keys and the one that verified the last;
# - the sequence stays the site's: an old bundle replayed after the rotation is refused as old;
# - once the old key is removed, a bundle it signed is refused (exit 1) with a line naming the
#   site and the key id, its sequence is not recorded, and r1.error holds the reason;
# - the next successful import removes r1.error;
# - a channel error (the core never reads the checkresult spool) is recorded in r1.error too;
#   on a terminal (script(1)'s pty) the wait for the reaping says what it waits for and for how
#   long, once it passes a second; not without a terminal, not with -q.
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
use SiteTest qw(:DEFAULT slurp spew);

guard(300);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $DATA     = "$ROOT/tests/data/statusdat/nagios4";
my $d = abs_path(tempdir('sd-rotate-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/unread");

plan skip_all => 'script(1) (util-linux) is needed for the terminal part' unless -x '/usr/bin/script';

# ---- keys: the old one trusted -------------------------------------------------------------
my %id;
for my $k (qw(old new)) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$k"]);
    is($r->{rc}, 0, "keygen $k") or diag $r->{err};
    ($id{$k}) = $r->{out} =~ /key id ([0-9A-F]{16})/;
}
copy("$d/old.pub", "$d/trust/r1.pub") or die;

my $own = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
        . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n";
my $ng = nagios_start(objects => [$own], extra_cfg => { cfg_dir => "$d/cfg" });
my @IMPORT = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
              '--reload-command', "kill -HUP $ng->{pid}", '--status-file', $ng->{status_file},
              '--objects-cache', $ng->{objects_cache}, '--command-file', $ng->{command_file});
my @STATUS = ($SITELOAD, 'status', '--state-dir', "$d/state", '--trust', "$d/trust");
my $n = 0;

# a bundle of site r1 signed with key $k, config (the default: the rotation needs no more) or
# state; its path
sub bundle {
    my ($k, $kind) = @_;
    my $out = "$d/b" . ++$n . ".tgz";
    my $r = run([$SITEDUMP, ($kind // '') eq 'state' ? () : '-C', '-k', "$d/$k.key", '--site', 'r1', '--state-dir', "$d/sdstate",
                 '--status-file', "$DATA/status.dat", '--objects-cache', "$DATA/objects.cache", '-o', $out]);
    is($r->{rc}, 0, "bundle $n signed by the $k key") or diag $r->{err};
    return $out;
}
sub import_ {
    my (@paths) = @_;
    return run([@IMPORT, '--checkresults', $ng->{checkresult_dir}, @paths]);
}
sub imported_seq { (split ' ', slurp("$d/state/r1.imported") // '')[0] // 0 }
sub seq_of {
    my ($b) = @_;
    decode_json(run([$SITELOAD, 'inspect', '--json', $b])->{out})->{sequence};
}
sub status_json {
    my $j = run([@STATUS, '--json']);
    my $doc = eval { decode_json($j->{out}) } or diag $j->{out} . $j->{err};
    my ($s) = grep { $_->{site} eq 'r1' } @{ $doc->{sites} || [] };
    return $s || {};
}

# ---- before: the old key ----------------------------------------------------------------------
my $b1 = bundle('old');
my $r = import_($b1);
is($r->{rc}, 0, 'a bundle of the old key, the old key trusted: imported') or diag $r->{err};
is(status_json()->{verified_by}, $id{old}, 'status: verified by the old key');
ok(!-e "$d/state/r1.error", 'no r1.error after a successful import');

# ---- 1. the new key added next to the old one -------------------------------------------------
spew("$d/trust/r1.pub", slurp("$d/trust/r1.pub") . slurp("$d/new.pub"));
my $s = run([@STATUS]);
like($s->{out}, qr/^  trusted keys +\Q$id{old}, $id{new}\E$/m, 'status: both keys trusted') or diag $s->{out};
my $b2 = bundle('old');
my $b3 = bundle('new');
$r = import_($b2);
is($r->{rc}, 0, 'both trusted: a bundle of the old key is imported') or diag $r->{err};
$r = import_($b3);
is($r->{rc}, 0, 'both trusted: a bundle of the new key is imported') or diag $r->{err};
is(imported_seq(), seq_of($b3), "the new key's bundle's sequence recorded");
my $st = status_json();
is($st->{verified_by}, $id{new}, 'status --json: verified_by the new key');
is_deeply($st->{key_ids}, [$id{old}, $id{new}], 'status --json: key_ids, both');
like(run([@STATUS])->{out}, qr/^  verified by +\Q$id{new}\E$/m, 'status: verified by the new key');

# the sequence is the site's, whichever key signed: a replay of the old key's earlier bundle is old
$r = import_($b2);
is($r->{rc}, 1, 'the old bundle replayed: refused (exit 1)');
like($r->{err}, qr/not newer than the last imported sequence/, '... as not newer');
is(imported_seq(), seq_of($b3), '... the sequence unchanged');
like(slurp("$d/state/r1.error") // '', qr/^\d+ sequence \d+: refused: not newer/, '... and recorded in r1.error');

# ---- 2. the old key removed -----------------------------------------------------------------
copy("$d/new.pub", "$d/trust/r1.pub") or die;
my $b4 = bundle('old');
$r = import_($b4);
is($r->{rc}, 1, 'the old key removed: a new bundle it signed is refused (exit 1)') or diag $r->{err};
like($r->{err}, qr/^siteload: .*site r1: signature made by key \Q$id{old}\E, which is not trusted for the site \(r1\.pub: \Q$id{new}\E\)$/m,
     '... a line naming the site and the key id');
is(imported_seq(), seq_of($b3), '... its sequence not recorded');
my $err = slurp("$d/state/r1.error") // '';
like($err, qr/^(\d+) \Qb4.tgz: site r1: signature made by key $id{old}\E/, 'r1.error: the refusal, with its time');
$s = run([@STATUS]);
like($s->{out}, qr/^  trusted key +\Q$id{new}\E$/m, 'status: only the new key trusted') or diag $s->{out};
like($s->{out}, qr/^  last error +\S+ \S+ \(\d+s ago\): b4\.tgz: site r1: signature made by key \Q$id{old}\E/m,
     'status: the last error, with its time');
$st = status_json();
like($st->{last_error} // '', qr/signature made by key \Q$id{old}\E/, 'status --json: last_error');
like($st->{last_error_at} // '', qr/^\d+$/, 'status --json: last_error_at');

my $b5 = bundle('new');
$r = import_($b5);
is($r->{rc}, 0, 'a bundle of the new key: imported') or diag $r->{err};
ok(!-e "$d/state/r1.error", '... and r1.error removed');
ok(!defined status_json()->{last_error}, 'status --json: no last_error');

# ---- a channel error, and the wait for it on a terminal -------------------------------------
# a spool the core never reads: the wait for the reaping runs out (--reap-wait 2)
my $q = sub { my ($x) = @_; $x =~ s/'/'\\''/g; "'$x'" };
my @unread = (@IMPORT, '--checkresults', "$d/unread", '--reap-wait', '2');
# (state bundles: the config bundles above sent no results, so the central lacks them all)
my $b6 = bundle('new', 'state');
$r = run(['/usr/bin/script', '-qec', join(' ', map { $q->($_) } @unread, $b6), '/dev/null']);
isnt($r->{rc}, 0, 'results the core never reads: the import fails') or diag $r->{out};
like($r->{out}, qr/^siteload: waiting for nagios to reap \d+ check results \(1 file\) in \Q$d\E\/unread \(up to 2 s\)\r?$/m,
     'on a terminal: the wait past a second says what it waits for and for how long') or diag $r->{out};
like(slurp("$d/state/r1.error") // '', qr/^\d+ sequence \d+: .*has not read 1 checkresult file/,
     'r1.error: the channel error');
unlink glob("$d/unread/*");
my $b7 = bundle('new', 'state');
$r = run([@unread, $b7]);
isnt($r->{rc}, 0, 'the same without a terminal: fails');
unlike($r->{err}, qr/waiting for/, '... and says nothing about the wait (cron stays quiet)');
unlink glob("$d/unread/*");
my $b8 = bundle('new', 'state');
$r = run(['/usr/bin/script', '-qec', join(' ', map { $q->($_) } @unread, '-q', $b8), '/dev/null']);
isnt($r->{rc}, 0, 'with -q on a terminal: fails');
unlike($r->{out}, qr/waiting for/, '... and -q silences the wait');
ok(-e "$d/state/r1.error", 'r1.error still there');
$r = import_(bundle('new', 'state'));
is($r->{rc}, 0, 'a state bundle into the spool the core reads: imported') or diag $r->{err};

# the reload command past a second is a wait too: the config file removed behind siteload's back,
# so the next config bundle writes it again and reloads through a slow command
unlink("$d/cfg/sitedump-r1.cfg") or die "sitedump-r1.cfg: $!";
my @slow = map { $_ eq "kill -HUP $ng->{pid}" ? "sleep 1.5; kill -HUP $ng->{pid}" : $_ } @IMPORT;
$r = run(['/usr/bin/script', '-qec', join(' ', map { $q->($_) } @slow, bundle('new')), '/dev/null']);
is($r->{rc}, 0, 'a config bundle with a slow reload command: imported') or diag $r->{out};
like($r->{out}, qr/^siteload: waiting for the reload command \(up to \d+ s\)\r?$/m,
     'on a terminal: the reload command past a second is said to be waited for') or diag $r->{out};
ok(-f "$d/cfg/sitedump-r1.cfg", '... and the config file is back');
ok(!-e "$d/state/r1.error", '... and r1.error removed');

$ng->stop;
done_testing();
