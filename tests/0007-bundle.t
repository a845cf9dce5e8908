#!/usr/bin/perl
# Signed bundles from the command line, against a real Icinga 2 (remote_fixture):
#   - sitedump keygen: modes, refusal without -f (files untouched), -f replaces, the printed
#     verify command;
#   - sitedump -k for state (default), config (-C) and both (--all), compressed with gzip
#     (default), zstd and none: siteload verify / inspect / inspect --json name the site,
#     sequence, kind, creation time and the site's real counts (read from Livestatus); GNU tar
#     lists and unpacks every bundle; the unpacked members equal sitedump's plain output of
#     the same site; -o DIR/ names the file SITE-SEQ-KIND.EXT; -o - and "siteload verify -"
#     work through a real pipe;
#   - minisign interop (Debian's minisign): the unpacked manifest verifies with minisign -V;
#     a minisign -G -W key signs bundles; an encrypted minisign key is refused.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use Encode ();
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

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

my $dir    = abs_path(tempdir('sd-bundle-XXXXXX', TMPDIR => 1, CLEANUP => 1));
my $sdtmp  = "$dir/tmp";        # TMPDIR of every sitedump/siteload run: must stay empty
my $state  = "$dir/state";      # --state-dir
make_path($sdtmp, "$dir/keys", "$dir/out", "$dir/unpack");

# ---- helpers ------------------------------------------------------------------------
run_defaults(timeout => 60, env => { TMPDIR => $sdtmp });
sub one_line { my ($s) = @_; defined $s && $s =~ /\A[^\n]+\n\z/ ? 1 : 0 }
sub mode_of { my @s = stat($_[0]); @s ? sprintf('%04o', $s[2] & 07777) : 'missing' }
sub ls_dir {
    my ($d) = @_;
    opendir(my $dh, $d) or return ();
    my @e = sort grep { $_ ne '.' && $_ ne '..' } readdir $dh;
    closedir $dh;
    return @e;
}
sub tmp_clean {
    my ($what) = @_;
    my @left = ls_dir($sdtmp);
    ok(!@left, "$what: nothing left in TMPDIR") or diag "left in TMPDIR: @left";
    remove_tree("$sdtmp/$_") for @left;
}

# Encrypted minisign key: scrypt with minisign's "sensitive" limits takes seconds and ~1 GB,
# so it runs in the background while the fixture starts. minisign reads the password from
# stdin when it has no terminal (setsid: no controlling terminal).
my $enc_pid;
{
    spew("$dir/pw", "sitedump-test-pw\nsitedump-test-pw\n");
    $enc_pid = fork() // die "fork: $!";
    if (!$enc_pid) {
        POSIX::setsid();
        open(STDIN, '<', "$dir/pw") or POSIX::_exit(126);
        open(STDOUT, '>', "$dir/enc.out") or POSIX::_exit(126);
        open(STDERR, '>&', \*STDOUT) or POSIX::_exit(126);
        exec($MINISIGN, '-G', '-p', "$dir/keys/enc.pub", '-s', "$dir/keys/enc.key") or POSIX::_exit(127);
    }
}

my ($ic, $fx) = remote_fixture(name => 'bundle');
ok($ic, sprintf 'remote fixture up in %.1fs', time - $T0);
my $spec = 'unix:' . $ic->livestatus;

# the site's real numbers, read from Livestatus, checked against the fixture's description
my %REAL = (
    hosts     => scalar @{ $ic->query("GET hosts\nColumns: name") },
    services  => scalar @{ $ic->query("GET services\nColumns: host_name description") },
    comments  => scalar @{ $ic->query("GET comments\nColumns: id") },
    downtimes => scalar @{ $ic->query("GET downtimes\nColumns: id") },
);
my $nsvc_fx = 0; $nsvc_fx += keys %{ $fx->{services}{$_} } for keys %{ $fx->{services} };
is_deeply(\%REAL, { hosts => scalar(keys %{ $fx->{hosts} }), services => $nsvc_fx,
                    comments => @{ $fx->{comments} } + @{ $fx->{acks} }, downtimes => scalar @{ $fx->{downtimes} } },
          "Livestatus counts are the fixture's: $REAL{hosts} hosts, $REAL{services} services, "
          . "$REAL{comments} comments, $REAL{downtimes} downtimes");

# ======================================================================================
# keygen
my $k = "$dir/keys/r1";
my $r = run([$SITEDUMP, 'keygen', '-o', $k]);
is($r->{rc}, 0, 'keygen: exit 0') or diag $r->{err};
is(mode_of("$k.key"), '0600', 'keygen: r1.key mode 0600');
is(mode_of("$k.pub"), '0644', 'keygen: r1.pub mode 0644');
like($r->{out}, qr/^check a bundle:\s+siteload verify -p \Q$k.pub\E BUNDLE$/m, 'keygen prints the siteload verify command');
like($r->{out}, qr/^.*minisign -V -p \Q$k.pub\E -m manifest\.json$/m, 'keygen prints the minisign -V command');
my ($keyid) = $r->{out} =~ /^key id ([0-9A-F]{16})$/m;
ok($keyid, 'keygen prints the key id') or diag $r->{out};
like(slurp("$k.key") // '', qr/\Auntrusted comment: [^\n]*\n[A-Za-z0-9+\/]+=*\n\z/, 'r1.key: minisign secret key file shape');
like(slurp("$k.pub") // '', qr/\Auntrusted comment: [^\n]*\nRW[A-Za-z0-9+\/]+=*\n\z/, 'r1.pub: minisign public key file shape');

my %before = map { my @s = stat("$k.$_"); ($_ => [slurp("$k.$_"), @s[1, 2, 9]]) } qw(key pub);
sleep 1.1;      # an unwanted rewrite would show in mtime as well as in content
$r = run([$SITEDUMP, 'keygen', '-o', $k]);
is($r->{rc}, 2, 'second keygen without -f: exit 2');
ok(one_line($r->{err}) && $r->{err} =~ /^sitedump: .*exists.*-f/, 'second keygen: one line naming -f') or diag $r->{err};
for my $x (qw(key pub)) {
    my @s = stat("$k.$x");
    is_deeply([slurp("$k.$x"), @s[1, 2, 9]], $before{$x}, "second keygen: r1.$x unchanged (content, inode, mode, mtime)");
}
# only one of the two present: still refused, and the missing one is not created
unlink "$k.pub";
$r = run([$SITEDUMP, 'keygen', '-o', $k]);
is($r->{rc}, 2, 'keygen with only r1.key present: exit 2');
is(slurp("$k.key"), $before{key}[0], 'keygen with only r1.key present: r1.key unchanged');
ok(!-e "$k.pub", 'keygen with only r1.key present: r1.pub not written');
spew("$k.pub", $before{pub}[0]);
chmod 0644, "$k.pub";

$r = run([$SITEDUMP, 'keygen', '-o', $k, '-f']);
is($r->{rc}, 0, 'keygen -f: exit 0') or diag $r->{err};
isnt(slurp("$k.key"), $before{key}[0], 'keygen -f: r1.key replaced');
isnt(slurp("$k.pub"), $before{pub}[0], 'keygen -f: r1.pub replaced');
is(mode_of("$k.key"), '0600', 'keygen -f: r1.key mode 0600');
is(mode_of("$k.pub"), '0644', 'keygen -f: r1.pub mode 0644');
($keyid) = $r->{out} =~ /^key id ([0-9A-F]{16})$/m;
ok($keyid, "keygen -f: new key id $keyid");
like(slurp("$k.pub"), qr/^untrusted comment: .*\Q$keyid\E/i, 'r1.pub names the printed key id');

# modes do not depend on the umask
for my $um (0, 077) {
    my $name = sprintf "$dir/keys/um%03o", $um;
    my $pid = fork() // die;
    if (!$pid) {
        umask $um;
        open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
        exec($SITEDUMP, 'keygen', '-o', $name) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    is(($? >> 8) . ' ' . mode_of("$name.key") . ' ' . mode_of("$name.pub"), '0 0600 0644',
       sprintf('keygen under umask %03o: exit 0, modes 0600/0644', $um));
}
tmp_clean('keygen');

# ======================================================================================
# bundles: state / config / both x gzip / zstd / none
my %MEMBERS = (state => ['state.json'], config => ['config.json', 'nagios.cfg', 'icinga2.conf'],
               both => ['state.json', 'config.json', 'nagios.cfg', 'icinga2.conf']);
my %KINDOPT = (state => [], config => ['-C'], both => ['--all']);
my %EXT = (gzip => 'tar.gz', zstd => 'tar.zst', none => 'tar');
my %TARX = (gzip => ['-z'], zstd => ['--zstd'], none => []);

# sitedump's plain output of the same site, for comparison with the unpacked members
sub strip_created { my ($s) = @_; $s =~ s/"created":\d+,//; return $s }
sub strip_asof { my ($s) = @_; $s =~ s/^# as of [^\n]*\n//m; return $s }
my %PLAIN;
for ([ 'state.json', ['--format', 'json-blocks'] ], [ 'config.json', ['--format', 'json-blocks', '-C'] ],
     [ 'nagios.cfg', ['-C'] ], [ 'icinga2.conf', ['--format', 'icinga2', '-C'] ]) {
    my ($m, $args) = @$_;
    $r = run([$SITEDUMP, '-s', $spec, '--site', 'r1', @$args]);
    ok($r->{rc} == 0 && length $r->{out}, "plain sitedump @$args: exit 0") or diag $r->{err};
    $PLAIN{$m} = $r->{out};
}

my $lastseq = 0;
my %BUNDLE;     # "$kind/$comp" => { path, seq, created }
for my $comp (qw(gzip zstd none)) {
    for my $kind (qw(state config both)) {
        my $what = "$kind/$comp";
        my $file = "$dir/out/b-$kind.$EXT{$comp}";
        my $t1 = int(time);
        $r = run([$SITEDUMP, '-s', $spec, '-k', "$k.key", '--site', 'r1', '--state-dir', $state,
                  @{ $KINDOPT{$kind} }, ($comp eq 'gzip' ? () : ('--compress', $comp)), '-o', $file]);
        my $t2 = int(time);
        is($r->{rc}, 0, "$what: sitedump -k exit 0") or diag $r->{err};
        ok(-f $file && -s $file, "$what: bundle written to -o FILE");
        is_deeply([ grep { /^\./ } ls_dir("$dir/out") ], [], "$what: no temp file left next to it");
        tmp_clean("$what: sitedump");

        # verify
        my $v = run([$SITELOAD, 'verify', '-p', "$k.pub", $file]);
        is($v->{rc}, 0, "$what: siteload verify exit 0") or diag $v->{err};
        my ($vseq) = $v->{out} =~ /^\Q$file\E: OK: site r1, sequence (\d+), kind \Q$kind\E, \Q$REAL{hosts}\E hosts, \Q$REAL{services}\E services, key \Q$keyid\E$/m;
        ok($vseq, "$what: verify names site r1, the sequence, kind $kind, the counts and key $keyid") or diag $v->{out};
        $vseq //= 0;
        cmp_ok($vseq, '>', $lastseq, "$what: sequence $vseq above the previous bundle's ($lastseq)");
        cmp_ok($vseq, '>=', $t1, "$what: sequence is at least the time of the run (max(last+1, now))");
        $lastseq = $vseq;
        is(slurp("$state/r1.seq"), "$vseq\n", "$what: state file holds the bundle's sequence");

        # inspect --json (without and with the key)
        my $j = run([$SITELOAD, 'inspect', '--json', $file]);
        is($j->{rc}, 0, "$what: inspect --json exit 0") or diag $j->{err};
        my $J = eval { $JSON->decode($j->{out}) } || {};
        my $expcounts = $kind eq 'config' ? { %REAL, comments => 0, downtimes => 0 } : \%REAL;
        is_deeply({ map { ($_ => $J->{$_}) } qw(bundle version site sequence kind hosts services comments downtimes members) },
                  { bundle => $file, version => 1, site => 'r1', sequence => $vseq, kind => $kind,
                    %$expcounts, members => $MEMBERS{$kind} },
                  "$what: inspect --json: site, sequence, kind, real counts, members");
        ok(defined $J->{created} && $J->{created} >= $t1 && $J->{created} <= $t2,
           "$what: inspect --json: created within the run") or diag "created " . ($J->{created} // 'undef') . ", run $t1..$t2";
        ok(ref $J->{signature_checked} && !$J->{signature_checked} && !exists $J->{key_id},
           "$what: inspect without -p: signature not checked");
        like($J->{generator} // '', qr/^sitedump \d/, "$what: generator");
        $j = run([$SITELOAD, 'inspect', '--json', '-p', "$k.pub", $file]);
        my $JK = eval { $JSON->decode($j->{out}) } || {};
        ok($j->{rc} == 0 && $JK->{signature_checked} && ($JK->{key_id} // '') eq $keyid,
           "$what: inspect -p: signature checked, key id $keyid");

        # inspect (text)
        my $t = run([$SITELOAD, 'inspect', $file]);
        is($t->{rc}, 0, "$what: inspect exit 0") or diag $t->{err};
        my %T = $t->{out} =~ /^(\w+):\s+(.*)$/mg;
        my $created = $J->{created} // -1;
        my $iso = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($created));
        is_deeply([ @T{qw(site sequence kind created counts members)} ],
                  [ 'r1', $vseq, $kind, "$iso ($created)",
                    "$expcounts->{hosts} hosts, $expcounts->{services} services, $expcounts->{comments} comments, $expcounts->{downtimes} downtimes",
                    "@{ $MEMBERS{$kind} }" ], "$what: inspect text: site, sequence, kind, created, counts, members");
        tmp_clean("$what: siteload");

        # GNU tar lists and unpacks it
        my $l = run(['tar', @{ $TARX{$comp} }, '-tf', $file]);
        is_deeply([ split /\n/, $l->{out} ], [ 'manifest.json', 'manifest.json.minisig', @{ $MEMBERS{$kind} } ],
                  "$what: tar @{ $TARX{$comp} } -tf lists manifest, signature, members in order") or diag $l->{err};
        my $ud = "$dir/unpack/$kind-$comp";
        make_path($ud);
        my $x = run(['tar', @{ $TARX{$comp} }, '-xf', $file, '-C', $ud]);
        is($x->{rc}, 0, "$what: tar -xf unpacks") or diag $x->{err};
        my $man = eval { $JSON->decode(slurp("$ud/manifest.json") // '') } || {};
        is_deeply([ map { [ $_->{name}, $_->{size} ] } @{ $man->{members} || [] } ],
                  [ map { [ $_, -s "$ud/$_" ] } @{ $MEMBERS{$kind} } ], "$what: manifest lists each member with its size");
        is_deeply([ @$man{qw(format site sequence kind created)} ], [ 'sitedump-bundle', 'r1', $vseq, $kind, $created ],
                  "$what: manifest.json: format, site, sequence, kind, created");
        for my $m (@{ $MEMBERS{$kind} }) {
            my $got = slurp("$ud/$m") // '';
            if ($m =~ /\.json$/) {
                like($got, qr/"created":\Q$created\E,/, "$what: $m carries the bundle's created");
                is(strip_created($got), strip_created($PLAIN{$m}), "$what: $m equals plain sitedump output (but created)");
            } else {
                is(strip_asof($got), strip_asof($PLAIN{$m}), "$what: $m equals plain sitedump output (but the 'as of' line)");
            }
        }
        # (a) of the minisign interop: the stock minisign verifies the unpacked manifest
        my $ms = run([$MINISIGN, '-V', '-p', "$k.pub", '-m', "$ud/manifest.json"]);
        is($ms->{rc}, 0, "$what: minisign -V -p r1.pub -m manifest.json succeeds") or diag "$ms->{out}$ms->{err}";
        like($ms->{out}, qr/^Trusted comment: sitedump-bundle site:r1 seq:\Q$vseq\E kind:\Q$kind\E created:\Q$created\E compression:(?:gzip|zstd|none)$/m,
             "$what: minisign prints the trusted comment with site and seq");
        $BUNDLE{$what} = { path => $file, seq => $vseq, created => $created, dir => $ud };
    }
}

# minisign really checks the content (so the success above means something)
{
    my $ud = $BUNDLE{'state/gzip'}{dir};
    my $m = slurp("$ud/manifest.json");
    (my $m2 = $m) =~ s/"hosts": \d+/"hosts": 999/;
    spew("$dir/unpack/changed.json", $m2);
    copy("$ud/manifest.json.minisig", "$dir/unpack/changed.json.minisig") or die "copy: $!";
    my $ms = run([$MINISIGN, '-V', '-p', "$k.pub", '-m', "$dir/unpack/changed.json"]);
    isnt($ms->{rc}, 0, 'minisign -V rejects a manifest with a changed count');
}

# ======================================================================================
# -o DIR/ : SITE-SEQ-KIND.EXT
my $od = "$dir/outdir";
make_path($od);
for my $c ([ 'state', 'gzip' ], [ 'config', 'gzip' ], [ 'both', 'gzip' ], [ 'state', 'zstd' ], [ 'state', 'none' ]) {
    my ($kind, $comp) = @$c;
    my @pre = ls_dir($od);
    $r = run([$SITEDUMP, '-v', '-s', $spec, '-k', "$k.key", '--site', 'r1', '--state-dir', $state, @{ $KINDOPT{$kind} },
              '--compress', $comp, '-o', "$od/"]);
    is($r->{rc}, 0, "-o DIR/ ($kind, $comp): exit 0") or diag $r->{err};
    my %pre = map { ($_ => 1) } @pre;
    my @new = grep { !$pre{$_} } ls_dir($od);
    ok(@new == 1 && $new[0] =~ /^r1-(\d+)-\Q$kind\E\.\Q$EXT{$comp}\E$/, "-o DIR/ ($kind, $comp): one new file r1-SEQ-$kind.$EXT{$comp}")
        or diag "new: @new";
    my ($fseq) = ($new[0] // '') =~ /^r1-(\d+)-/;
    $fseq //= 0;
    like($r->{err}, qr/^sitedump: wrote \Q$od\E\/r1-\Q$fseq\E-\Q$kind\E\.\Q$EXT{$comp}\E$/m, "-o DIR/ ($kind, $comp): says which file it wrote");
    my $j = run([$SITELOAD, 'inspect', '--json', '-p', "$k.pub", "$od/" . ($new[0] // 'none')]);
    my $J = eval { $JSON->decode($j->{out}) } || {};
    ok($j->{rc} == 0 && ($J->{sequence} // -1) == $fseq && ($J->{kind} // '') eq $kind && $fseq > $lastseq,
       "-o DIR/ ($kind, $comp): the name's SEQ is the bundle's sequence ($fseq), above the last ($lastseq)")
        or diag "$j->{out}$j->{err}";
    $lastseq = $fseq if $fseq > $lastseq;
}
# an existing directory given without the slash
$r = run([$SITEDUMP, '-v', '-s', $spec, '-k', "$k.key", '--site', 'r1', '--state-dir', $state, '-o', $od]);
ok($r->{rc} == 0 && $r->{err} =~ /^sitedump: wrote \Q$od\E\/r1-(\d+)-state\.tar\.gz$/m && -f "$od/r1-$1-state.tar.gz",
   '-o DIR (existing, no slash): also SITE-SEQ-KIND.tar.gz inside it') or diag $r->{err};
$lastseq = $1 if $1 && $1 > $lastseq;
is_deeply([ grep { /^\./ } ls_dir($od) ], [], '-o DIR/: no temp files left in DIR');
tmp_clean('-o DIR/');

# -o FILE gets 0666 less the caller's umask, like any file a program creates (bundles and
# plain exports; the umask is read, never changed, while other threads may create files)
for my $um (027, 002) {
    for my $args ([ '-k', "$k.key", '--site', 'r1', '--state-dir', $state ], [ '--format', 'json' ]) {
        my $f = sprintf "$dir/out/mode-%03o-%s", $um, @$args > 2 ? 'bundle' : 'plain';
        my $pid = fork() // die;
        if (!$pid) {
            umask $um;
            $ENV{TMPDIR} = $sdtmp;
            open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
            exec($SITEDUMP, '-s', $spec, @$args, '-o', $f) or POSIX::_exit(127);
        }
        waitpid($pid, 0);
        is(($? >> 8) . ' ' . mode_of($f), '0 ' . sprintf('%04o', 0666 & ~$um),
           sprintf('-o FILE under umask %03o (%s): exit 0, mode %04o', $um, @$args > 2 ? 'bundle' : 'plain', 0666 & ~$um));
        if ($f =~ /bundle$/) {
            my ($seq) = (run([$SITELOAD, 'inspect', $f])->{out} // '') =~ /^sequence:\s+(\d+)$/m;
            $lastseq = $seq if $seq && $seq > $lastseq;
        }
    }
}
tmp_clean('-o FILE modes');

# ======================================================================================
# -o - and siteload verify - (stdin)
for my $comp (qw(gzip zstd none)) {
    $r = run([$SITEDUMP, '-s', $spec, '-k', "$k.key", '--site', 'r1', '--state-dir', $state, '--compress', $comp, '-o', '-']);
    is($r->{rc}, 0, "-o - ($comp): exit 0") or diag $r->{err};
    my $magic = { gzip => "\x1f\x8b", zstd => "\x50\x2a\x4d\x18", none => 'manifest.json' }->{$comp};
    is(substr($r->{out}, 0, length $magic), $magic, "-o - ($comp): the bundle is on stdout");
    unlike($r->{err}, qr/wrote/, "-o - ($comp): no file written");
    my $v = run([$SITELOAD, 'verify', '-p', "$k.pub", '-'], stdin => $r->{out});
    ok($v->{rc} == 0 && $v->{out} =~ /^-: OK: site r1, sequence (\d+), kind state,/m && $1 > $lastseq,
       "-o - ($comp): siteload verify -p r1.pub - reads it from stdin") or diag "$v->{out}$v->{err}";
    $lastseq = $1 if $1 && $1 > $lastseq;
    # and through a real pipe, sitedump | siteload
    my $cmd = join(' ', map { "'$_'" } $SITEDUMP, '-s', $spec, '-k', "$k.key", '--site', 'r1', '--state-dir', $state,
                   '--compress', $comp, '-o', '-') . ' | ' . join(' ', map { "'$_'" } $SITELOAD, 'verify', '-p', "$k.pub", '-');
    my $p = run(['/bin/bash', '-c', "set -o pipefail; $cmd"]);
    ok($p->{rc} == 0 && $p->{out} =~ /^-: OK: site r1, sequence (\d+), kind state,/m && $1 > $lastseq,
       "sitedump -o - | siteload verify -p r1.pub - ($comp): OK") or diag "$p->{out}$p->{err}";
    $lastseq = $1 if $1 && $1 > $lastseq;
}
# the same stdin bytes with another key: rejected (the stdin path does check the signature)
{
    my $r2 = run([$SITEDUMP, 'keygen', '-o', "$dir/keys/other"]);
    $r = run([$SITEDUMP, '-s', $spec, '-k', "$k.key", '--site', 'r1', '--state-dir', $state, '-o', '-']);
    my $v = run([$SITELOAD, 'verify', '-p', "$dir/keys/other.pub", '-'], stdin => $r->{out});
    ok($v->{rc} == 1 && one_line($v->{err}) && $v->{err} =~ /^siteload: -: .*trusted key/,
       'verify - with another site\'s key: exit 1, one line') or diag "$v->{rc} $v->{err}";
}
tmp_clean('-o -');

# ======================================================================================
# minisign interop (b): a key made by minisign -G -W signs bundles
{
    my $mk = "$dir/keys/m";
    my $g = run([$MINISIGN, '-G', '-W', '-p', "$mk.pub", '-s', "$mk.key"]);
    is($g->{rc}, 0, 'minisign -G -W: exit 0') or diag "$g->{out}$g->{err}";
    # minisign prints the key id without leading zeros (%PRIX64); sitedump pads to 16
    my ($mid) = (slurp("$mk.pub") // '') =~ /minisign public key ([0-9A-F]{1,16})/i;
    $mid = ('0' x (16 - length $mid)) . uc $mid if defined $mid;
    ok($mid, "minisign key id $mid");
    my $file = "$dir/out/minisign-key.tar.gz";
    $r = run([$SITEDUMP, '-s', $spec, '-k', "$mk.key", '--site', 'r1', '--state-dir', $state, '-o', $file]);
    is($r->{rc}, 0, 'sitedump -k minisign.key: exit 0') or diag $r->{err};
    my $v = run([$SITELOAD, 'verify', '-p', "$mk.pub", $file]);
    ok($v->{rc} == 0 && $v->{out} =~ /: OK: site r1, sequence \d+, kind state, .* key \Q$mid\E$/m,
       "siteload verify -p minisign.pub accepts it (key $mid)") or diag "$v->{out}$v->{err}";
    $v = run([$SITELOAD, 'verify', '-p', "$k.pub", $file]);
    ok($v->{rc} == 1 && $v->{err} =~ /made by key \Q$mid\E, but the trusted key is \Q$keyid\E/i,
       'the same bundle with r1.pub: exit 1, key id named') or diag "$v->{rc} $v->{err}";
    # and the stock minisign verifies its manifest
    my $ud = "$dir/unpack/minisign-key";
    make_path($ud);
    run(['tar', '-xzf', $file, '-C', $ud]);
    my $ms = run([$MINISIGN, '-V', '-p', "$mk.pub", '-m', "$ud/manifest.json"]);
    ok($ms->{rc} == 0 && $ms->{out} =~ /^Trusted comment: sitedump-bundle site:r1 seq:\d+ kind:state /m,
       'minisign -V with the minisign key verifies the manifest') or diag "$ms->{out}$ms->{err}";
}

# minisign interop (c): an encrypted key is refused
{
    my $deadline = time + 90;
    my $done = 0;
    while (time < $deadline) { if (waitpid($enc_pid, POSIX::WNOHANG()) == $enc_pid) { $done = 1; last } sleep 0.1 }
    if (!$done) { kill 'KILL', $enc_pid; waitpid($enc_pid, 0) }
    my $ek = "$dir/keys/enc";
    my $ok = $done && $? == 0 && -s "$ek.key";
    ok($ok, 'minisign -G with a password (fed on stdin, no terminal): encrypted key made') or diag slurp("$dir/enc.out");
    SKIP: {
        skip 'no encrypted minisign key', 9 unless $ok;
        like(slurp("$ek.key"), qr/^untrusted comment: minisign encrypted secret key/, 'the key file is an encrypted one');
        my $es = "$dir/encstate";
        my $file = "$dir/out/enc.tar.gz";
        $r = run([$SITEDUMP, '-s', $spec, '-k', "$ek.key", '--site', 'r1', '--state-dir', $es, '-o', $file]);
        is($r->{rc}, 2, 'sitedump -k encrypted.key: exit 2');
        ok(one_line($r->{err}) && $r->{err} =~ /^sitedump: .*encrypted/, 'one line saying the key is encrypted') or diag $r->{err};
        ok(!-e $file, 'no bundle written');
        is_deeply([ grep { /^\.enc/ } ls_dir("$dir/out") ], [], 'no temp file left');
        ok(!-e "$es/r1.seq", 'no sequence number used');
        $r = run([$SITEDUMP, '-s', $spec, '-k', "$ek.key", '--site', 'r1', '--state-dir', $es, '-o', '-']);
        ok($r->{rc} == 2 && $r->{out} eq '', '-o -: exit 2, nothing on stdout');
        my @pre = ls_dir("$dir/out");
        $r = run([$SITEDUMP, '-s', $spec, '-k', "$ek.key", '--site', 'r1', '--state-dir', $es, '-o', "$dir/out/"]);
        ok($r->{rc} == 2, '-o DIR/: exit 2');
        is_deeply([ ls_dir("$dir/out") ], \@pre, '-o DIR/: nothing written into DIR');
    }
}
tmp_clean('minisign interop');

note sprintf 'total %.1fs', time - $T0;
done_testing;
