#!/usr/bin/perl
# Hostile bundles: siteload must reject each with exit 1 and one line starting "siteload:",
# and leave nothing in its TMPDIR (it unpacks into a private temp dir there).
#   - every single-byte flip (xor 0x01 at every offset, xor 0xff at every 7th) and a sweep of
#     truncations of a real but small bundle (the fixture filtered to host gw), for gzip, zstd
#     and none;
#   - members swapped between two bundles of the same site, a manifest re-signed with a
#     foreign key, a bundle signed by another site's key: rejected for the right reason (hash,
#     signature, key id). A repacked .tar.gz lacks sitedump's signed gzip header, so the inner
#     checks are reached with --compress none bundles repacked in sitedump's canonical form (and
#     an unchanged repack is accepted, so the rejections are the inner checks' doing);
#     repacked gzip/zstd are rejected at the header;
#   - crafted tars (perl): ../x, /etc/x, symlink, hard link, fifo, devices, duplicates, wrong
#     first member, and a 1 GB member streamed through a pipe (never on disk) that must be
#     refused early;
#   - the limit options reject a normal bundle when set below its sizes (and accept it at them);
#   - regressions of the security review (session 1), each accepted or crashed before its fix:
#     a deeply nested manifest, a gzip or zstd bundle decompressed to a plain tar (the outer
#     signature must not be removable), a none bundle's pinned header fields (mode, uname,
#     mtime, size spelling) and a signature file with CRLF line ends and trailing text.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use Errno qw(EAGAIN EINTR EPIPE);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use JSON::PP ();
use MIME::Base64 qw(decode_base64 encode_base64);
use POSIX ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);
use SiteTest::Tar qw(:all);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = $ENV{SITELOAD} // "$ROOT/siteload";
my $MINISIGN = '/usr/bin/minisign';
my $JSON     = JSON::PP->new->utf8->canonical;
my $T0       = time;
my $WORKERS  = 2;

my $dir   = abs_path(tempdir('sd-hostile-XXXXXX', TMPDIR => 1, CLEANUP => 1));
my $ltmp  = "$dir/tmp";           # siteload's TMPDIR: must be empty after every run
my $state = "$dir/state";
make_path($ltmp, "$dir/keys", "$dir/b", "$dir/w", "$dir/cwd");

sub ls_dir {
    my ($d) = @_;
    opendir(my $dh, $d) or return ();
    my @e = sort grep { $_ ne '.' && $_ ne '..' } readdir $dh;
    closedir $dh;
    return @e;
}

# Run a program fast (no polling): stdin from a file or /dev/null, stdout/stderr to files.
# -> (exit code or 128+signal, stdout, stderr)
sub run_fast {
    my ($argv, %o) = @_;
    my ($out, $err) = ($o{out} // "$dir/run.out", $o{err} // "$dir/run.err");
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        $ENV{TMPDIR} = $o{tmpdir} // $ltmp;
        chdir($o{cwd} // "$dir/cwd");
        open(STDIN, '<', $o{stdin} // '/dev/null') or POSIX::_exit(126);
        open(STDOUT, '>', $out) or POSIX::_exit(126);
        open(STDERR, '>', $err) or POSIX::_exit(126);
        { no warnings 'exec'; exec { $argv->[0] } @$argv; }
        POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $st = $?;
    return (($st & 127) ? 128 + ($st & 127) : $st >> 8, slurp($out) // '', slurp($err) // '');
}

# siteload verify/inspect on a file: (rc, stderr, leftovers in TMPDIR [removed])
sub siteload {
    my ($file, @args) = @_;
    my ($rc, $out, $err) = run_fast([$SITELOAD, @args, $file]);
    my @left = ls_dir($ltmp);
    remove_tree("$ltmp/$_") for @left;
    return ($rc, $err, \@left, $out);
}

# One assertion for "rejected properly": exit 1, one line "siteload: ...", matching $re, TMPDIR empty.
sub rejected {
    my ($name, $file, $re, @args) = @_;
    @args = ('verify', '-p', "$dir/keys/r1.pub") unless @args;
    my ($rc, $err, $left) = siteload($file, @args);
    my $ok = $rc == 1 && $err =~ /\Asiteload: [^\n]*\n\z/ && $err =~ $re && !@$left;
    return ok($ok, $name) || diag "exit $rc, stderr: $err" . (@$left ? "left in TMPDIR: @$left" : '');
}

sub accepted {
    my ($name, $file, @args) = @_;
    @args = ('verify', '-p', "$dir/keys/r1.pub") unless @args;
    my ($rc, $err, $left) = siteload($file, @args);
    return ok($rc == 0 && $err eq '' && !@$left, $name) || diag "exit $rc, stderr: $err" . (@$left ? "left: @$left" : '');
}

# The review's regressions (session 1) check exit 1 and the reason as two assertions each.
sub refused {
    my ($what, $file, $re, @cmd) = @_;
    @cmd = ('verify', '-p', "$dir/keys/r1.pub") unless @cmd;
    my $r = run([$SITELOAD, @cmd, $file]);
    is($r->{rc}, 1, "$what: exit 1") or diag "stderr: $r->{err}";
    like($r->{err}, $re, "$what: reason");
}

sub keygen {
    my ($name) = @_;
    my ($rc, $out, $err) = run_fast([$SITEDUMP, 'keygen', '-o', "$dir/keys/$name"]);
    die "keygen $name: $err" if $rc;
    my ($id) = $out =~ /^key id ([0-9A-F]{16})$/m;
    return $id;
}

# ---- a tar writer (ustar), independent of GNU tar and libarchive: SiteTest::Tar
# The header exactly as sitedump's writer makes it (the reader pins every byte
# but name, size, mtime and checksum; mtime must be the manifest's "created").
$SiteTest::Tar::MTIME = 1795000000;

# ======================================================================================
my ($ic, $fx) = remote_fixture(name => 'hostile');
ok($ic, sprintf 'remote fixture up in %.1fs', time - $T0);
my $spec = 'unix:' . $ic->livestatus;

my $R1 = keygen('r1');
my $R2 = keygen('r2');
my $mg = run_cmd([$MINISIGN, '-G', '-W', '-p', "$dir/keys/foreign.pub", '-s', "$dir/keys/foreign.key"], timeout => 30);
is($mg->{rc}, 0, 'minisign -G -W: foreign key') or diag "$mg->{out}$mg->{err}";
# minisign prints the key id without leading zeros (%PRIX64); sitedump pads to 16
my ($FOREIGN) = (slurp("$dir/keys/foreign.pub") // '') =~ /public key ([0-9A-F]{1,16})/;
$FOREIGN = ('0' x (16 - length $FOREIGN)) . $FOREIGN if defined $FOREIGN;
ok($R1 && $R2 && $FOREIGN && $R1 ne $R2, "keys: r1 $R1, r2 $R2, foreign $FOREIGN");

my %EXT = (gzip => 'tar.gz', zstd => 'tar.zst', none => 'tar');
# sitedump -k ... -> path; dies on failure
sub bundle {
    my ($name, %o) = @_;
    my $path = "$dir/b/$name";
    my ($rc, $out, $err) = run_fast([$SITEDUMP, '-s', $spec, '-k', "$dir/keys/" . ($o{key} // 'r1') . '.key',
        '--site', $o{site} // 'r1', '--state-dir', $state, '--compress', $o{compress} // 'gzip',
        @{ $o{args} || [] }, '-o', $path], tmpdir => "$dir/w");
    die "sitedump for $name failed ($rc): $err" if $rc;
    return $path;
}

# ======================================================================================
# 1. every flip and a sweep of cuts, for gzip, zstd and none
# the base64 lines of a none bundle's signature member (line 2: signature, line 4: comment signature)
sub sig_b64 {
    my ($raw) = @_;
    my ($sm) = grep { $_->[0] eq 'manifest.json.minisig' } tar_list($raw);
    return () unless $sm;
    my @l = split /\n/, $sm->[4];
    my $base = $sm->[3] + 512;
    return ([ $base + length($l[0]) + 1, $l[1] ],
            [ $base + length($l[0]) + length($l[1]) + length($l[2]) + 3, $l[3] ]);   # [offset, text]
}
my %SMALL;
for my $c (qw(gzip zstd none)) {
    # for none, a signature whose base64 holds a '/' (~95% of them do): the sweep below
    # then covers every class of base64 character
    my $tries = 0;
    do { $SMALL{$c} = bundle("small.$EXT{$c}", compress => $c, args => ['-H', 'Filter: host_name = gw']) }
        while ($c eq 'none' && ++$tries < 20 && !grep { $_->[1] =~ m{/} } sig_b64(slurp($SMALL{$c})));
    my $n = -s $SMALL{$c};
    cmp_ok($n, '<', 8192, "small $c bundle: $n bytes");
    accepted("small $c bundle verifies (control)", $SMALL{$c});
    my $j = eval { $JSON->decode((siteload($SMALL{$c}, 'inspect', '--json'))[3]) } || {};
    is_deeply([ @$j{qw(hosts services)} ], [1, 1], "small $c bundle: 1 host, 1 service (gw)");
}

# cases: [compression, what, offset, xor] (xor 0: truncation at offset)
my @cases;
for my $c (qw(gzip zstd none)) {
    my $len = -s $SMALL{$c};
    push @cases, map { [ $c, 'xor 0x01', $_, 0x01 ] } 0 .. $len - 1;
    push @cases, map { [ $c, 'xor 0xff', 7 * $_, 0xff ] } 0 .. int(($len - 1) / 7);
    my %cut = map { ($_ => 1) } (0, 1, 2, 10, $len - 1, $len - 2, $len - 8, $len - 512, $len - 1024),
        map({ int($_ * $len / 64) } 1 .. 63), ($c eq 'none' ? map { 512 * $_ } 1 .. int($len / 512) - 1 : ());
    push @cases, map { [ $c, 'cut', $_, 0 ] } grep { $_ >= 0 && $_ < $len } sort { $a <=> $b } keys %cut;
}
# and, for none, xor 0xff at every byte of the signature member (its base64 lines), so that what
# the every-7th sample hits only by chance is checked every time
{
    my $raw = slurp($SMALL{none});
    my ($sigm) = grep { $_->[0] eq 'manifest.json.minisig' } tar_list($raw);
    push @cases, map { [ 'none', 'xor 0xff, signature member', $sigm->[3] + 512 + $_, 0xff ] } 0 .. $sigm->[2] - 1;
}
my %ncut;
$ncut{ $_->[0] }++ for grep { $_->[1] eq 'cut' } @cases;
ok(!grep({ $ncut{$_} < 50 } qw(gzip zstd none)), "at least 50 cuts each: gzip $ncut{gzip}, zstd $ncut{zstd}, none $ncut{none}");

my %SMALLDATA = map { ($_ => slurp($SMALL{$_})) } qw(gzip zstd none);
my $t_scan = time;
my @kids;
for my $w (0 .. $WORKERS - 1) {
    my $pid = fork() // die "fork: $!";
    if ($pid) { push @kids, $pid; next }
    # worker: its own TMPDIR and scratch file; results as lines "i rc oneline left err"
    my $wt = "$dir/w$w";
    make_path("$wt/tmp");
    open(my $res, '>', "$wt/results") or POSIX::_exit(1);
    my %orig = map { ($_ => slurp($SMALL{$_})) } qw(gzip zstd none);
    my $parent = getppid();
    for (my $i = $w; $i < @cases; $i += $WORKERS) {
        POSIX::_exit(1) if getppid() != $parent;       # the test is gone (alarm, kill): stop
        my ($c, $kind, $off, $x) = @{ $cases[$i] };
        my $data = $orig{$c};
        if ($x) { substr($data, $off, 1) = chr(ord(substr($data, $off, 1)) ^ $x) }
        else    { $data = substr($data, 0, $off) }
        my $f = "$wt/b";
        open(my $fh, '>:raw', $f) or POSIX::_exit(1);
        print $fh $data;
        close $fh;
        my ($rc, $out, $err) = run_fast([$SITELOAD, 'verify', '-p', "$dir/keys/r1.pub", $f],
            tmpdir => "$wt/tmp", out => "$wt/out", err => "$wt/err");
        my @left = ls_dir("$wt/tmp");
        remove_tree("$wt/tmp/$_") for @left;
        my $one = $err =~ /\Asiteload: [^\n]*\n\z/ ? 1 : 0;
        (my $e1 = $err) =~ s/[\t\n]/ /g;
        print $res join("\t", $i, $rc, $one, scalar(@left), $e1), "\n";
    }
    close $res;
    POSIX::_exit(0);
}
waitpid($_, 0) for @kids;
my (%fail, %count, %reasons);
for my $w (0 .. $WORKERS - 1) {
    open(my $fh, '<', "$dir/w$w/results") or next;
    while (my $l = <$fh>) {
        chomp $l;
        my ($i, $rc, $one, $left, $err) = split /\t/, $l, 5;
        my ($c, $kind, $off, $x) = @{ $cases[$i] };
        my $k = "$c $kind";
        $count{$k}++;
        (my $why = $err) =~ s/^siteload: \S+: //;
        $why =~ s/^(?:bundle: |not a bundle: )+//;
        $why =~ s/ \(.*//;
        $why =~ s/\d+/N/g;
        $reasons{$c}{ substr($why, 0, 70) }++;
        my $orig = substr($SMALLDATA{$c}, $off, 1);
        my $byte = $x ? sprintf(' (0x%02x -> 0x%02x)', ord $orig, ord($orig) ^ $x) : '';
        push @{ $fail{$k} }, "offset $off$byte: exit $rc" . ($one ? '' : ', not one siteload: line') . ($left ? ", $left left in TMPDIR" : '') . " ($err)"
            if $rc != 1 || !$one || $left;
    }
}
note sprintf '%d siteload runs in %.1fs (%d workers)', scalar(@cases), time - $t_scan, $WORKERS;
for my $c (qw(gzip zstd none)) {
    my $len = -s $SMALL{$c};
    for my $kind ('xor 0x01', 'xor 0xff', 'cut', ($c eq 'none' ? 'xor 0xff, signature member' : ())) {
        my $k = "$c $kind";
        my $want = scalar grep { $_->[0] eq $c && $_->[1] eq $kind } @cases;
        my @f = @{ $fail{$k} || [] };
        ok(($count{$k} // 0) == $want && !@f,
           "$c ($len bytes), $kind: all $want rejected with exit 1, one 'siteload:' line, TMPDIR empty")
            or diag join("\n", "ran " . ($count{$k} // 0) . " of $want", @f[0 .. ($#f < 19 ? $#f : 19)]);
    }
    note "$c: reasons: " . join('; ', map { "$reasons{$c}{$_}x $_" } sort { $reasons{$c}{$b} <=> $reasons{$c}{$a} } keys %{ $reasons{$c} });
}

# The same, aimed: a byte >= 0x80 in place of a '/' of the signature's base64 (libsodium 1.0.18's
# sodium_base642bin decodes such bytes as '/', so the signature still verifies).
{
    my $raw = slurp($SMALL{none});
    my ($off) = map { my $i = index($_->[1], '/'); $i >= 0 ? $_->[0] + $i : () } sig_b64($raw);
    SKIP: {
        skip "no '/' in the signature's base64", 1 unless defined $off;
        substr($raw, $off, 1) = "\xd0";
        rejected("none: 0xd0 in place of the '/' at offset $off (signature's base64): exit 1, signature",
                 spew("$dir/b64-alias.tar", $raw), qr/signature/);
    }
}

# ======================================================================================
# 2. swapped members, foreign re-signing, another site's key

# two bundles of the same site, one second apart (state.json differs in "created" only: same size)
sub wait_next_second { my $s = int(time); sleep 0.05 while int(time) == $s }
my %A = (none => bundle('A.tar', compress => 'none'), gzip => bundle('A.tar.gz'), zstd => bundle('A.tar.zst', compress => 'zstd'));
wait_next_second();
my %B = (none => bundle('B.tar', compress => 'none'), gzip => bundle('B.tar.gz'));
my %SMALLER = (none => bundle('C.tar', compress => 'none', args => ['-H', 'Filter: host_name = gw']));
sub unpack_to {
    my ($file, $to) = @_;
    make_path($to);
    my $r = run_cmd(['tar', '-xf', $file, '-C', $to], timeout => 30);     # GNU tar detects gzip/zstd
    die "tar -xf $file: $r->{err}" if $r->{rc};
    return $to;
}
my $ua = unpack_to($A{none}, "$dir/ua");
my $ub = unpack_to($B{none}, "$dir/ub");
my $uc = unpack_to($SMALLER{none}, "$dir/uc");
is(-s "$ua/state.json", -s "$ub/state.json", 'bundles A and B: state.json of the same size');
isnt(slurp("$ua/state.json"), slurp("$ub/state.json"), 'bundles A and B: state.json differs (created)');
isnt(-s "$ua/state.json", -s "$uc/state.json", 'bundle C (gw only): state.json of another size');

my @ORDER = qw(manifest.json manifest.json.minisig state.json);
# repack a directory with GNU tar in bundle order; compress: none (ustar), gzip (gzip -n), zstd
sub repack {
    my ($src, $out, $comp) = @_;
    if ($comp eq 'none') {      # the canonical writer: reaches the reader's inner checks
        my ($created) = slurp("$src/manifest.json") =~ /"created":\s*(\d+)/;
        local $SiteTest::Tar::MTIME = $created;
        spew($out, join('', map { tar_member($_, slurp("$src/$_")) } @ORDER) . tar_end());
        return $out;
    }
    my @files = map { "'$_'" } @ORDER;
    my $cmd = "cd '$src' && tar --format=ustar -cf - @files";
    $cmd .= $comp eq 'gzip' ? ' | gzip -n' : $comp eq 'zstd' ? ' | zstd -q -c' : '';
    my $r = run_cmd(['/bin/bash', '-c', "set -o pipefail; $cmd > '$out'"], timeout => 30);
    die "repack: $r->{err}" if $r->{rc};
    return $out;
}
sub mixdir {
    my ($name, %from) = @_;       # member => dir
    my $d = "$dir/mix-$name";
    make_path($d);
    for my $m (@ORDER) { spew("$d/$m", slurp("$from{$m}/$m")) }
    return $d;
}

accepted('A unpacked and repacked canonically: still verifies (control)', repack($ua, "$dir/A-repack.tar", 'none'));
{   # the same bytes through GNU tar: its header form (owner names, mode spelling) is refused
    my $r = run_cmd(['/bin/bash', '-c', "cd '$ua' && tar --format=ustar -cf - @ORDER > '$dir/A-gnutar.tar'"], timeout => 30);
    rejected('A repacked by GNU tar --format=ustar: exit 1, header form', "$dir/A-gnutar.tar",
             qr/not in the form sitedump writes/);
}
my $swap = mixdir('swap', 'manifest.json' => $ua, 'manifest.json.minisig' => $ua, 'state.json' => $ub);
rejected("A's manifest and signature with B's state.json (same size): exit 1, hash",
         repack($swap, "$dir/swap.tar", 'none'), qr/state\.json: hash differs from the manifest/);
rejected("... the same with siteload inspect (no key): exit 1, hash",
         "$dir/swap.tar", qr/state\.json: hash differs from the manifest/, 'inspect');
my $swap2 = mixdir('swap2', 'manifest.json' => $ua, 'manifest.json.minisig' => $ua, 'state.json' => $uc);
rejected("A's manifest and signature with C's state.json (other size): exit 1, size",
         repack($swap2, "$dir/swap2.tar", 'none'), qr/state\.json: size differs from the manifest/);
my $swap3 = mixdir('swap3', 'manifest.json' => $ub, 'manifest.json.minisig' => $ua, 'state.json' => $ub);
rejected("B's manifest with A's signature: exit 1, signature",
         repack($swap3, "$dir/swap3.tar", 'none'), qr/signature: verification failed/);

# compressed repacks lack sitedump's signed container: rejected at the header
my $uag = unpack_to($A{gzip}, "$dir/uag");
my $ubg = unpack_to($B{gzip}, "$dir/ubg");
rejected('A.tar.gz unpacked and repacked unchanged (tar | gzip -n): exit 1, gzip header',
         repack($uag, "$dir/A-repack.tar.gz", 'gzip'), qr/gzip header is not the one sitedump writes/);
my $swapg = mixdir('swapg', 'manifest.json' => $uag, 'manifest.json.minisig' => $uag, 'state.json' => $ubg);
rejected("gzip: A's manifest with B's state.json, tar | gzip -n: exit 1, gzip header",
         repack($swapg, "$dir/swapg.tar.gz", 'gzip'), qr/gzip header is not the one sitedump writes/);
rejected('A.tar.zst unpacked and repacked unchanged (tar | zstd): exit 1, signature frame',
         repack(unpack_to($A{zstd}, "$dir/uaz"), "$dir/A-repack.tar.zst", 'zstd'), qr/zstd stream does not start with sitedump's signature frame/);

# gzip stripped: the outer signature must not be removable (a regression of the security review)
{
    is(run([$SITELOAD, 'verify', '-p', "$dir/keys/r1.pub", $A{gzip}])->{rc}, 0, 'control: gzip bundle verifies');
    system("gzip -dc < $A{gzip} > $dir/strip.tar") == 0 or die;
    refused('gzip decompressed to plain tar', "$dir/strip.tar", qr/manifest says gzip but the file is none/);
    system("zstd -q -dc < $A{zstd} > $dir/strip2.tar") == 0 or die;
    refused('zstd decompressed to plain tar', "$dir/strip2.tar", qr/manifest says zstd but the file is none/);
}

# the manifest re-signed with a foreign key (same trusted comment)
my ($tc) = slurp("$ua/manifest.json.minisig") =~ /^trusted comment: (.*)$/m;
like($tc, qr/^sitedump-bundle site:r1 seq:\d+ kind:state created:\d+ compression:none$/, "A's trusted comment: $tc");
my $rs = mixdir('resign', 'manifest.json' => $ua, 'manifest.json.minisig' => $ua, 'state.json' => $ua);
unlink "$rs/manifest.json.minisig";
my $ms = run_cmd([$MINISIGN, '-S', '-s', "$dir/keys/foreign.key", '-m', "$rs/manifest.json", '-t', $tc], timeout => 30);
is($ms->{rc}, 0, 'minisign -S -s foreign.key -t <same trusted comment>') or diag "$ms->{out}$ms->{err}";
my $sig = slurp("$rs/manifest.json.minisig") // '';
rejected('re-signed by a foreign key (minisign\'s own untrusted line): exit 1',
         repack($rs, "$dir/resign-raw.tar", 'none'), qr/does not start with sitedump's line/);
# the untrusted first line is not signed: with sitedump's line the key id is what gives it away
(my $sig2 = $sig) =~ s/\A[^\n]*\n/untrusted comment: signature from sitedump secret key\n/;
spew("$rs/manifest.json.minisig", $sig2);
my $resigned = repack($rs, "$dir/resign.tar", 'none');
rejected('re-signed by a foreign key (sitedump\'s untrusted line): exit 1, key id',
         $resigned, qr/signature: made by key \Q$FOREIGN\E, but the trusted key is \Q$R1\E/);
accepted('the same re-signed bundle verifies with foreign.pub (control: re-signing was sound)',
         $resigned, 'verify', '-p', "$dir/keys/foreign.pub");
rejected('re-signed by a foreign key, repacked as tar | gzip -n: exit 1, gzip header',
         repack($rs, "$dir/resign.tar.gz", 'gzip'), qr/gzip header is not the one sitedump writes/);
# ... and with r1's key number written into the foreign signature: the signature itself fails
{
    my @l = split /\n/, $sig2;
    my $bin = decode_base64($l[1]);
    my $r1bin = decode_base64((split /\n/, slurp("$dir/keys/r1.pub"))[1]);
    substr($bin, 2, 8) = substr($r1bin, 2, 8);
    $l[1] = encode_base64($bin, '');
    spew("$rs/manifest.json.minisig", join("\n", @l) . "\n");
    rejected('re-signed by a foreign key claiming r1\'s key id: exit 1, signature',
             repack($rs, "$dir/resign-forged.tar", 'none'), qr/signature: verification failed/);
}

# a bundle made with another site's key
for my $c (qw(gzip zstd none)) {
    my $f = bundle("r2.$EXT{$c}", key => 'r2', site => 'r2', compress => $c);
    rejected("$c: site r2's bundle verified with r1.pub: exit 1, key id",
             $f, qr/made by key \Q$R2\E, but the trusted key is \Q$R1\E/);
    $f = bundle("r2-as-r1.$EXT{$c}", key => 'r2', site => 'r1', compress => $c);
    rejected("$c: a bundle claiming site r1 but signed with r2's key: exit 1, key id",
             $f, qr/made by key \Q$R2\E, but the trusted key is \Q$R1\E/);
    accepted("$c: ... and it verifies with r2.pub (control)", $f, 'verify', '-p', "$dir/keys/r2.pub");
}

# ======================================================================================
# 3. crafted tars (uncompressed), for verify -p r1.pub and for inspect
my $RAW = slurp($A{none});
my %M = map { ($_->[0] => $_) } tar_list($RAW);
is_deeply([ map { $_->[0] } tar_list($RAW) ], \@ORDER, 'tar_list reads the real bundle: manifest, signature, state.json');
($SiteTest::Tar::MTIME) = $M{'manifest.json'}[4] =~ /"created":\s*(\d+)/;     # crafted members carry its time
my $MAN = tar_member('manifest.json', $M{'manifest.json'}[4]);
my $SIG = tar_member('manifest.json.minisig', $M{'manifest.json.minisig'}[4]);
my $STATE = tar_member('state.json', $M{'state.json'}[4]);
spew("$dir/crafted-control.tar", $MAN . $SIG . $STATE . tar_end());
accepted('perl-made tar of the real members verifies (control)', "$dir/crafted-control.tar");

my $etc_x_before = -e '/etc/x';
my @crafted = (
    [ 'member ../x',                   $MAN . $SIG . tar_member('../x', 'evil') . $STATE, qr/tar member with a bad name/ ],
    [ 'member /etc/x',                 $MAN . $SIG . tar_member('/etc/x', 'evil') . $STATE, qr/tar member with a bad name/ ],
    [ 'member ../x after the members', $MAN . $SIG . $STATE . tar_member('../x', 'evil'), qr/tar member with a bad name/ ],
    [ 'first member ../x',             tar_member('../x', 'evil') . $MAN . $SIG . $STATE, qr/tar member with a bad name/ ],
    [ 'state.json a symlink',          $MAN . $SIG . tar_member('state.json', '', type => '2', linkname => '/etc/passwd'), qr/state\.json is not a regular file/ ],
    [ 'state.json a hard link',        $MAN . $SIG . tar_member('state.json', '', type => '1', linkname => 'manifest.json'), qr/state\.json is not a regular file/ ],
    [ 'state.json a fifo',             $MAN . $SIG . tar_member('state.json', '', type => '6'), qr/state\.json is not a regular file/ ],
    [ 'state.json a char device',      $MAN . $SIG . tar_member('state.json', '', type => '3', major => 1, minor => 3), qr/state\.json is not a regular file/ ],
    [ 'state.json a block device',     $MAN . $SIG . tar_member('state.json', '', type => '4', major => 7, minor => 0), qr/state\.json is not a regular file/ ],
    [ 'state.json a directory',        $MAN . $SIG . tar_member('state.json', '', type => '5', mode => 0755), qr/state\.json is not a regular file/ ],
    [ 'state.json twice',              $MAN . $SIG . $STATE . $STATE, qr/member state\.json appears twice/ ],
    [ 'manifest.json again at the end', $MAN . $SIG . $STATE . $MAN, qr/member manifest\.json is not in the manifest/ ],
    [ 'manifest.json twice at the start', $MAN . $MAN . $SIG . $STATE, qr/second member is not manifest\.json\.minisig/ ],
    [ 'first member state.json',       $STATE . $MAN . $SIG, qr/first member is not manifest\.json/ ],
    [ 'manifest.json a symlink',       tar_member('manifest.json', '', type => '2', linkname => '/etc/passwd') . $SIG . $STATE, qr/manifest\.json is not a regular file/ ],
    [ 'signature missing',             $MAN . $STATE, qr/second member is not manifest\.json\.minisig/ ],
    [ 'state.json missing',            $MAN . $SIG, qr/member state\.json is missing/ ],
    # bytes that nothing covers (bundle-format.md 1.3: in a none bundle "every byte is covered
    # by tar header checksums, the member hashes, the fixed first line of the signature file and
    # the rule that padding is zero"; 1.4: "the members the manifest lists ...; nothing else")
    [ 'a pax extended header (500 KB comment) before state.json',
      $MAN . $SIG . tar_member('./PaxHeaders/state.json', pax_record('comment', 'A' x 500000), type => 'x') . $STATE, qr/PaxHeaders\/state\.json is not a regular file/ ],
    [ 'a pax global header before manifest.json',
      tar_member('./PaxHeaders/global', pax_record('comment', 'hidden payload'), type => 'g') . $MAN . $SIG . $STATE, qr/PaxHeaders\/global is not a regular file/ ],
    [ 'a GNU long-name header naming state.json',
      $MAN . $SIG . tar_member('././@LongLink', "state.json\0", type => 'L') . tar_member('other', $M{'state.json'}[4]), qr/\@LongLink is not a regular file/ ],
);
for my $c (@crafted) {
    my ($what, $tar, $re) = @$c;
    (my $fn = $what) =~ s/[^A-Za-z0-9]+/_/g;
    my $f = spew("$dir/crafted-$fn.tar", $tar . tar_end());
    rejected("crafted: $what: verify exit 1, right reason", $f, $re);
    rejected("crafted: $what: inspect exit 1, right reason", $f, $re, 'inspect');
}
ok(!-e "$dir/cwd/x" && !-e "$dir/x" && !-e "$ltmp/x" && !-e "$dir/cwd/../x", 'no ../x written anywhere');
ok($etc_x_before || !-e '/etc/x', 'no /etc/x written');

# Regressions of the security review (session 1).
# A deeply nested manifest: crashed siteload (stack) before any signature check
{
    my $m = ('[' x 524278) . (']' x 524278);
    my $sig = "untrusted comment: signature from sitedump secret key\nAAAA\ntrusted comment: x\nAAAA\n";
    spew("$dir/deep.tar", tar_member('manifest.json', $m) . tar_member('manifest.json.minisig', $sig) . tar_end());
    refused('deep manifest, inspect', "$dir/deep.tar", qr/nested too deeply/, 'inspect');
    refused('deep manifest, verify', "$dir/deep.tar", qr/signature/);
}
# uncompressed bundles: header fields and the signature file are pinned
{
    my $t = $RAW;
    is(run([$SITELOAD, 'verify', '-p', "$dir/keys/r1.pub", $A{none}])->{rc}, 0, 'control: plain bundle verifies');
    my %cases = (
        'mode 4777'       => sub { my $h = shift; substr($h, 100, 8) = "004777 \0"; $h },
        'uname attacker'  => sub { my $h = shift; substr($h, 265, 8) = "attacker"; $h },
        'mtime 0'         => sub { my $h = shift; substr($h, 136, 12) = sprintf('%011o ', 0); $h },
        'size with +'     => sub { my $h = shift; my $s = oct(substr($h, 124, 11)); substr($h, 124, 12) = sprintf('+%010o ', $s); $h },
        'size in spaces'  => sub { my $h = shift; my $s = oct(substr($h, 124, 11)); substr($h, 124, 12) = sprintf('%11o ', $s); $h },
    );
    for my $c (sort keys %cases) {
        spew("$dir/m.tar", tar_edit($t, 'state.json', $cases{$c}));
        refused("state.json header: $c", "$dir/m.tar", qr/not in the form sitedump writes|octal digits|time differs/);
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
    spew("$dir/crlf.tar", join('', @parts) . tar_end());
    refused('signature with CRLF and trailing text', "$dir/crlf.tar", qr/not in the form sitedump writes/);
}

# ======================================================================================
# 4. the bomb: manifest + signature of a real bundle, then a state.json whose header says
#    1 GB, streamed as zeros through a pipe into siteload verify -p r1.pub - (never on disk).
# -> (exit code, stderr, bytes written before EPIPE, seconds)
sub stream_bomb {
    my ($prefix, $header, $total, @args) = @_;
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        close $wr;
        $ENV{TMPDIR} = $ltmp;
        open(STDIN, '<&', $rd) or POSIX::_exit(126);
        open(STDOUT, '>', "$dir/bomb.out") or POSIX::_exit(126);
        open(STDERR, '>', "$dir/bomb.err") or POSIX::_exit(126);
        exec($SITELOAD, @args, '-') or POSIX::_exit(127);
    }
    close $rd;
    local $SIG{PIPE} = 'IGNORE';
    my $fl = fcntl($wr, F_GETFL, 0);
    fcntl($wr, F_SETFL, $fl | O_NONBLOCK);
    my $t0 = time;
    my $deadline = $t0 + 20;
    my $sel = IO::Select->new($wr);
    my $buf = $prefix . $header;
    my $zeros = "\0" x 65536;
    my ($written, $epipe) = (0, 0);
    my $limit = length($buf) + $total;
    while ($written < $limit && time < $deadline) {
        next unless $sel->can_write(0.2);
        if (!length $buf) { my $n = $limit - $written; $buf = $n < 65536 ? substr($zeros, 0, $n) : $zeros }
        my $n = syswrite($wr, $buf);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EINTR;
            $epipe = $! == EPIPE;
            last;
        }
        $written += $n;
        substr($buf, 0, $n) = '';
    }
    close $wr;
    my $st;
    my $wait_end = time + 10;
    while (1) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid) { $st = $?; last }
        if (time > $wait_end) { kill 'KILL', $pid; waitpid($pid, 0); $st = -1; last }
        sleep 0.01;
    }
    my @left = ls_dir($ltmp);
    remove_tree("$ltmp/$_") for @left;
    return ($st == -1 ? -1 : $st >> 8, slurp("$dir/bomb.err") // '', $written, time - $t0, $epipe, \@left);
}
my $GB = 1 << 30;
my $prefix = substr($RAW, 0, $M{'state.json'}[3]);
is(length($prefix), 512 * 2 + 512 * int((length($M{'manifest.json'}[4]) + 511) / 512) + 512 * int((length($M{'manifest.json.minisig'}[4]) + 511) / 512),
   'bomb prefix: exactly the real manifest and signature members');
my $bombhdr = tar_header(name => 'state.json', size => $GB);
for my $args ([ 'verify', '-p', "$dir/keys/r1.pub" ], [ 'inspect' ]) {
    my ($rc, $err, $written, $secs, $epipe, $left) = stream_bomb($prefix, $bombhdr, $GB, @$args);
    my $what = "bomb (1 GB state.json, manifest says " . length($M{'state.json'}[4]) . " bytes), siteload $args->[0]";
    ok($rc == 1 && $err =~ /\Asiteload: -: [^\n]*\n\z/ && $err =~ /state\.json: size differs from the manifest/,
       "$what: exit 1, one line, size reason") or diag "exit $rc: $err";
    ok($epipe && $written < 16 << 20, sprintf("$what: refused early: %d bytes written before EPIPE", $written))
        or diag "epipe $epipe, written $written";
    cmp_ok($secs, '<', 5, sprintf("$what: finished in %.2fs", $secs));
    ok(!@$left, "$what: TMPDIR empty") or diag "left: @$left";
}

# The same bomb with a manifest that does declare 1 GB, signed with r1's key (minisign -S, as
# a compromised or buggy remote could): the size limits must stop the stream early.
{
    my $man = $JSON->decode($M{'manifest.json'}[4]);
    $man->{members}[0]{size} = $GB;
    my $mtext = JSON::PP->new->utf8->pretty->encode($man);
    my $bd = "$dir/bigman";
    make_path($bd);
    spew("$bd/manifest.json", $mtext);
    my ($btc) = $M{'manifest.json.minisig'}[4] =~ /^trusted comment: (.*)$/m;
    my $s = run_cmd([$MINISIGN, '-S', '-s', "$dir/keys/r1.key", '-m', "$bd/manifest.json", '-t', $btc], timeout => 30);
    is($s->{rc}, 0, 'minisign -S with r1.key signs a manifest declaring a 1 GB state.json') or diag "$s->{out}$s->{err}";
    (my $bsig = slurp("$bd/manifest.json.minisig") // '') =~ s/\A[^\n]*\n/untrusted comment: signature from sitedump secret key\n/;
    my $bprefix = tar_member('manifest.json', $mtext) . tar_member('manifest.json.minisig', $bsig);
    # control: the signed big manifest passes the signature check (a short state.json is then a size mismatch)
    spew("$dir/bigman-control.tar", $bprefix . $STATE . tar_end());
    rejected('signed 1 GB manifest, real short state.json: signature accepted, size differs', "$dir/bigman-control.tar",
             qr/state\.json: size differs from the manifest/);
    for my $lim ([ '--max-member-size', '1M' ], [ '--max-total-size', '1M' ]) {
        my ($rc, $err, $written, $secs, $epipe, $left) =
            stream_bomb($bprefix, $bombhdr, $GB, 'verify', '-p', "$dir/keys/r1.pub", @$lim);
        my $what = "signed 1 GB state.json, verify @$lim";
        ok($rc == 1 && $err =~ /\Asiteload: -: [^\n]*\n\z/ && $err =~ /state\.json is larger than its manifest entry or the size limit/,
           "$what: exit 1, one line, size limit") or diag "exit $rc: $err";
        ok($epipe && $written < 16 << 20, sprintf("$what: stopped early: %d bytes written before EPIPE", $written))
            or diag "epipe $epipe, written $written";
        cmp_ok($secs, '<', 5, sprintf("$what: finished in %.2fs", $secs));
        ok(!@$left, "$what: TMPDIR empty") or diag "left: @$left";
    }
}

# ======================================================================================
# 5. limit options against a normal bundle (state + config: 4 members)
{
    my $f = bundle('both.tar.gz', args => ['--all']);
    my $u = unpack_to($f, "$dir/uboth");
    my @m = qw(state.json config.json nagios.cfg icinga2.conf);
    my ($max) = sort { $b <=> $a } map { -s "$u/$_" } @m;
    my $sum = 0; $sum += -s "$u/$_" for @m;
    my @pk = ('-p', "$dir/keys/r1.pub");
    accepted('both bundle verifies with default limits', $f);
    rejected("--max-member-size " . ($max - 1) . " (largest member $max): exit 1", $f,
             qr/is larger than its manifest entry or the size limit/, 'verify', @pk, '--max-member-size', $max - 1);
    accepted("--max-member-size $max: accepted", $f, 'verify', @pk, '--max-member-size', $max);
    rejected("--max-total-size " . ($sum - 1) . " (members total $sum): exit 1", $f,
             qr/is larger than its manifest entry or the size limit/, 'verify', @pk, '--max-total-size', $sum - 1);
    accepted("--max-total-size $sum: accepted", $f, 'verify', @pk, '--max-total-size', $sum);
    rejected('--max-members 3 (4 members): exit 1', $f, qr/more members than the limit/, 'verify', @pk, '--max-members', 3);
    accepted('--max-members 4: accepted', $f, 'verify', @pk, '--max-members', 4);
    rejected('inspect --max-member-size 1K: exit 1', $f, qr/is larger than its manifest entry or the size limit/,
             'inspect', '--max-member-size', '1K');
    for my $bad ('0', '-5', 'x', '1T') {
        my ($rc, $err) = siteload($f, 'verify', @pk, '--max-member-size', $bad);
        ok($rc == 2 && $err =~ /^siteload: bad limit '\Q$bad\E'$/m, "--max-member-size $bad: exit 2, bad limit") or diag "exit $rc: $err";
    }
}

note sprintf 'total %.1fs', time - $T0;
done_testing;
