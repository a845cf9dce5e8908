#!/usr/bin/perl
# Regressions for the findings of the security review (session 1): each
# case was accepted or crashed before its fix. Bundles are made from the
# committed Nagios status.dat fixture, so no daemon is needed.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";
use SiteTest qw(run_cmd guard slurp spew);
use SiteTest::Tar qw(tar_member tar_end tar_edit tar_list);

guard(120);
my $root = SiteTest::repo_root();
my ($SD, $SL) = ("$root/sitedump", "$root/siteload");
my $d = tempdir(CLEANUP => 1);
my @src = ('--status-file', "$root/tests/data/statusdat/nagios4/status.dat",
           '--objects-cache', "$root/tests/data/statusdat/nagios4/objects.cache");
is(run_cmd([$SD, 'keygen', '-o', "$d/r1"])->{rc}, 0, 'keygen');

sub bundle {
    my ($name, @args) = @_;
    my $r = run_cmd([$SD, @src, '-k', "$d/r1.key", '--site', 'r1', '--state-dir', "$d/state", @args, '-o', "$d/$name"]);
    is($r->{rc}, 0, "bundle $name written") or diag $r->{err};
    return "$d/$name";
}

sub rejected {
    my ($what, $file, $re, @cmd) = @_;
    @cmd = ('verify', '-p', "$d/r1.pub") unless @cmd;
    my $r = run_cmd([$SL, @cmd, $file]);
    is($r->{rc}, 1, "$what: exit 1") or diag "stderr: $r->{err}";
    like($r->{err}, $re, "$what: reason");
}

# tar helpers: SiteTest::Tar (ustar header as sitedump's writer makes it)

# 1. a deeply nested manifest: crashed siteload (stack) before any signature check
{
    my $m = ('[' x 524278) . (']' x 524278);
    my $sig = "untrusted comment: signature from sitedump secret key\nAAAA\ntrusted comment: x\nAAAA\n";
    spew("$d/deep.tar", tar_member('manifest.json', $m) . tar_member('manifest.json.minisig', $sig) . tar_end());
    rejected('deep manifest, inspect', "$d/deep.tar", qr/nested too deeply/, 'inspect');
    rejected('deep manifest, verify', "$d/deep.tar", qr/signature/);
}

# 2. gzip stripped: the outer signature must not be removable
{
    my $gz = bundle('b.tar.gz');
    is(run_cmd([$SL, 'verify', '-p', "$d/r1.pub", $gz])->{rc}, 0, 'control: gzip bundle verifies');
    system("gzip -dc < $gz > $d/strip.tar") == 0 or die;
    rejected('gzip decompressed to plain tar', "$d/strip.tar", qr/manifest says gzip but the file is none/);
    my $zs = bundle('b.tar.zst', '--compress', 'zstd');
    system("zstd -q -dc < $zs > $d/strip2.tar") == 0 or die;
    rejected('zstd decompressed to plain tar', "$d/strip2.tar", qr/manifest says zstd but the file is none/);
}

# 3. uncompressed bundles: header fields and the signature file are pinned
{
    my $plain = bundle('b.tar', '--compress', 'none');
    my $t = slurp($plain);
    is(run_cmd([$SL, 'verify', '-p', "$d/r1.pub", $plain])->{rc}, 0, 'control: plain bundle verifies');
    my %cases = (
        'mode 4777'       => sub { my $h = shift; substr($h, 100, 8) = "004777 \0"; $h },
        'uname attacker'  => sub { my $h = shift; substr($h, 265, 8) = "attacker"; $h },
        'mtime 0'         => sub { my $h = shift; substr($h, 136, 12) = sprintf('%011o ', 0); $h },
        'size with +'     => sub { my $h = shift; my $s = oct(substr($h, 124, 11)); substr($h, 124, 12) = sprintf('+%010o ', $s); $h },
        'size in spaces'  => sub { my $h = shift; my $s = oct(substr($h, 124, 11)); substr($h, 124, 12) = sprintf('%11o ', $s); $h },
    );
    for my $c (sort keys %cases) {
        spew("$d/m.tar", tar_edit($t, 'state.json', $cases{$c}));
        rejected("state.json header: $c", "$d/m.tar", qr/not in the form sitedump writes|octal digits|time differs/);
    }
    # the signature file with CRLF line ends and text after the fourth line
    my ($e) = grep { $_->[0] eq 'manifest.json.minisig' } tar_list($t);
    my $sig = $e->[4];
    my @l = split /\n/, $sig;
    my $new = "$l[0]\n$l[1]\r\n$l[2]\r\n$l[3]\r\nextra junk\n";
    my @parts;
    for my $x (tar_list($t)) {
        my $mt = oct(substr($t, $x->[3] + 136, 11));
        push @parts, tar_member($x->[0], $x->[0] eq 'manifest.json.minisig' ? $new : $x->[4], mtime => $mt);
    }
    spew("$d/crlf.tar", join('', @parts) . tar_end());
    rejected('signature with CRLF and trailing text', "$d/crlf.tar", qr/not in the form sitedump writes/);
}

# 4. a sequence file holding -1 (strtoull made it ULLONG_MAX)
{
    mkdir "$d/bad";
    spew("$d/bad/r1.seq", "-1\n");
    my $r = run_cmd([$SD, @src, '-k', "$d/r1.key", '--site', 'r1', '--state-dir', "$d/bad", '-o', "$d/x.tgz"]);
    is($r->{rc}, 2, 'sequence file -1: exit 2');
    like($r->{err}, qr/not a sequence number/, 'sequence file -1: reason');
    ok(!-e "$d/x.tgz", 'sequence file -1: no bundle');
}

# 5. -o "" read before the buffer
is(run_cmd([$SD, @src, '-o', ''])->{rc}, 2, 'sitedump -o "": usage error');

# 6. -o on a device or FIFO writes into it; renaming a temp file over it
#    replaced /dev/null with a regular file once (a private node here, so a
#    regression cannot break the machine's own /dev/null)
SKIP: {
    skip 'mknod needs root', 4 if $>;
    system('mknod', "$d/null", 'c', '1', '3') == 0 or skip 'mknod failed', 4;
    is(run_cmd([$SD, @src, '-o', "$d/null"])->{rc}, 0, '-o device: plain export written');
    ok(-c "$d/null", '-o device: still a character device');
    is(run_cmd([$SD, @src, '-k', "$d/r1.key", '--site', 'r1', '--state-dir', "$d/state", '-o', "$d/null"])->{rc}, 0,
       '-o device: bundle written');
    ok(-c "$d/null", '-o device: still a character device after a bundle');
}
{
    system('mkfifo', "$d/fifo") == 0 or die;
    my $pid = fork // die;
    if (!$pid) { open my $f, '<', "$d/fifo" or exit 1; local $/; my $x = <$f>; exit(length($x // '') > 100 ? 0 : 1) }
    is(run_cmd([$SD, @src, '-o', "$d/fifo"])->{rc}, 0, '-o FIFO: written');
    waitpid $pid, 0;
    is($?, 0, '-o FIFO: the reader got the output');
    ok(-p "$d/fifo", '-o FIFO: still a FIFO');
}
{
    my $r = run_cmd([$SD, @src, '-o', $d]);
    is($r->{rc}, 2, '-o DIRECTORY for a plain export: exit 2');
    like($r->{err}, qr/is a directory/, '-o DIRECTORY: reason');
}

done_testing();
