#!/usr/bin/perl
# siteload --spool DIR (issue 5, part 2) on a real central Icinga 2:
#   - sitedump -o DIR/ writes a bundle atomically: from an strace of a real run, the final name is
#     only ever the target of a rename from a hidden temp name in the same directory, after every
#     write to it and its fsync; on a full disk (a tiny tmpfs) nothing appears under a final name;
#   - 20 bundles of 2 sites (a real Icinga 2 remote, and a crafted snapshot), config first, state
#     with changes between them, dropped in shuffled order, one corrupted, one still being written
#     (temp name), an unknown file: the good ones applied in order (superseded state skipped), all
#     in done/, the corrupted one in rejected/ with NAME.reason naming the verification failure,
#     the temp and unknown files untouched; the central mirrors the newest state (sitediff: 0
#     differences), the state dir holds the newest sequence per site; once the temp file is
#     renamed, the next run takes it; a replayed bundle goes to rejected/ as not newer;
#   - a spool that piled up (few file descriptors): taken in batches in site and sequence order,
#     the same result;
#   - the lock: a run waits while the spool is locked; two runs started at once apply every
#     bundle once (the second finds nothing), no comment doubled;
#   - read-only media (a read-only bind mount; fallback chattr +i): new bundles applied, nothing
#     moved, already imported ones skipped without a word (exit 0), also by two runs at once; a
#     second run applies nothing, exit 0, says nothing; a corrupted bundle there: exit 1, reported;
#   - usage: bundles besides --spool, a missing spool: exit 2.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use Fcntl qw(:flock O_RDONLY O_DIRECTORY);
use File::Basename qw(basename);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use List::Util qw(shuffle sum0 max);
use POSIX ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(900);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-spool-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path(map { "$d/$_" } qw(trust state cfg sdstate out spool media-src media tiny));
# run: SiteTest::run (timeout 180 s)

my (@MOUNTED, @IMMUTABLE);
END {
    system('chattr', '-i', $_) for @IMMUTABLE;
    system('umount', $_) for reverse @MOUNTED;
}

# ---- sites, keys, central -----------------------------------------------------------------
my ($rem) = remote_fixture(name => 'remote');          # site alpha
my $RLS = 'unix:' . $rem->livestatus;
for my $k (qw(alpha far)) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$k"]);
    is($r->{rc}, 0, "keygen $k") or diag $r->{err};
    copy("$d/$k.pub", "$d/trust/$k.pub") or die;
}
my $central = icinga2_start(name => 'central', conf => qq{include_recursive "$d/cfg"\n});
my $CLS = 'unix:' . $central->livestatus;
my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--config-format', 'icinga2', '--reload-command', "kill -HUP $central->{pid}", '--livestatus', $CLS);

# every bundle made: { path, name, site, seq, kind, bytes }
sub made {
    my ($r, $site, $kind) = @_;
    my ($path) = ($r->{err} // '') =~ /^sitedump: wrote (\S+)$/m;
    ok($r->{rc} == 0 && $path && -f $path, "sitedump: $site $kind bundle") or diag $r->{err};
    my ($seq) = basename($path // '') =~ /^\Q$site\E-(\d+)-\Q$kind\E\.tar\.gz$/;
    ok($seq, "named SITE-SEQ-KIND.tar.gz: " . basename($path // '?'));
    return { path => $path, name => $path ? basename($path) : '?', site => $site, seq => $seq, kind => $kind, bytes => slurp($path) };
}

# alpha: the real Icinga 2 remote
sub alpha_bundle {
    my ($kind, @pre) = @_;
    my $r = run([$SITEDUMP, '-v', @pre, ($kind eq 'config' ? '-C' : ()), '-k', "$d/alpha.key", '--site', 'alpha',
                 '--state-dir', "$d/sdstate", '-s', $RLS, '-o', "$d/out/"]);
    return made($r, 'alpha', $kind);
}
my $nc = 0;
sub alpha_change {                      # a new comment on the remote: the next state differs
    my $n = ++$nc;
    $rem->command("ADD_HOST_COMMENT;gw;1;spool$n;spool comment $n", int(time) - 1);
    wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = spool$n") } }, 20) or die "comment $n";
}

# far: a crafted snapshot document (format and version first), generation $g differs in the
# disk service's state and output and in the number of comments
my $J = JSON::PP->new->utf8->canonical;
my $T0 = int(time);
sub far_doc {
    my ($g, %o) = @_;
    my $lc = $T0 - 600 + 5 * $g;         # each generation's results newer than the last's
    my %common = (state_type => 1, current_attempt => 1, max_check_attempts => 1, has_been_checked => JSON::PP::true,
                  long_plugin_output => '', perf_data => '', last_check => $lc, last_state_change => $lc - 100,
                  last_hard_state => 0, is_flapping => JSON::PP::false, latency => 0, execution_time => 0,
                  check_type => 1, acknowledged => JSON::PP::false, acknowledgement_type => 0, alias => '',
                  address => '', parents => [], groups => [], contacts => [], contact_groups => [],
                  check_command => 'x', check_interval => 5, retry_interval => 1, notes => '', notes_url => '',
                  action_url => '', icon_image => '', custom_variables => {});
    my @hosts = ({ name => 'far host', state => 0, plugin_output => 'UP', %common });
    my @svcs = ({ host_name => 'far host', description => 'disk', state => $g % 3,
                  plugin_output => "DISK generation $g", %common },
                { host_name => 'far host', description => 'load', state => 0, plugin_output => 'LOAD OK', %common });
    push @svcs, map { { host_name => 'far host', description => sprintf('svc %05d', $_), state => 0,
                        plugin_output => "OK " . join('', map { chr(65 + int(rand(26))) } 1 .. 40), %common } } 1 .. ($o{many} // 0);
    my @comments = map { { id => $_, host_name => 'far host', service_description => undef, entry_type => 1,
                           author => "far$_", comment => "far comment $_", persistent => JSON::PP::true,
                           entry_time => $lc - 1000 + $_ } } 1 .. $g;
    my @kv = (format => 'sitedump-snapshot', version => 1, site => 'far', source => 'test', created => int(time),
              parts => ['state', 'config'], hostgroups => [], servicegroups => [], hosts => \@hosts,
              services => \@svcs, comments => \@comments, downtimes => []);
    my @parts;
    while (my ($k, $v) = splice(@kv, 0, 2)) { push @parts, $J->encode([$k]) =~ s/^\[|\]$//gr . ':' . $J->encode([$v]) =~ s/^\[|\]$//gr }
    return '{' . join(',', @parts) . '}';
}
my $far_gen = 0;
sub far_bundle {
    my ($kind) = @_;
    $far_gen++ if $kind eq 'state';
    spew("$d/far$far_gen.json", far_doc($far_gen));
    my $r = run([$SITEDUMP, '-v', '--snapshot', "$d/far$far_gen.json", ($kind eq 'config' ? '-C' : ()), '-k', "$d/far.key",
                 '--site', 'far', '--state-dir', "$d/sdstate", '-o', "$d/out/"]);
    return made($r, 'far', $kind);
}

# like rsync: a temp name in the drop dir, then the rename
sub drop {
    my ($dir, @b) = @_;
    for my $b (@b) {
        spew("$dir/.$b->{name}.part", $b->{bytes});
        rename("$dir/.$b->{name}.part", "$dir/$b->{name}") or die "$dir/$b->{name}: $!";
    }
}
sub names { my ($dir) = @_; opendir(my $dh, $dir) or return []; [ sort grep { !/^\.\.?$/ } readdir $dh ] }
sub flip {
    my ($b) = @_;
    my $x = $b->{bytes};
    my $at = int(length($x) / 2);
    substr($x, $at, 1) = chr(ord(substr($x, $at, 1)) ^ 0x55);
    return { %$b, bytes => $x, corrupted => 1 };
}
sub summary {
    my ($err) = @_;
    my ($n, $a, $s, $o, $rj, $f) = ($err // '') =~ /spool \S+: (\d+) bundles: (\d+) applied, (\d+) skipped \(superseded\), (\d+) not newer, (\d+) rejected, (\d+) failed/
        or return undef;
    return { found => $n, applied => $a, skipped => $s, old => $o, rejected => $rj, failed => $f };
}
sub imported_seq { my ($site) = @_; (slurp("$d/state/$site.imported") // '') =~ /^(\d+) / ? $1 : 0 }
sub diff_central { run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS]) }
sub far_is {                            # the central shows far's generation $g (commands are asynchronous)
    my ($g, $what) = @_;
    my @got;
    wait_for(sub { @got = far_on_central(); $got[0] eq "DISK generation $g" && $got[1] == $g }, 20);
    is_deeply(\@got, ["DISK generation $g", $g], "$what: far's newest state (output, $g comments) on the central");
}
sub far_on_central {
    my $s = $central->query_hash("GET services\nColumns: plugin_output\nFilter: host_name = far host\nFilter: description = disk");
    my $c = $central->query_hash("GET comments\nColumns: author\nFilter: host_name = far host");
    return (($s->[0] // {})->{plugin_output} // '', scalar @$c);
}
sub no_doubled_comments {
    my ($what) = @_;
    my %n;
    $n{join ';', map { $_ // '' } @$_{qw(host_name service_description author comment)}}++
        for @{ $central->query_hash("GET comments\nColumns: host_name service_description author comment") };
    my @dup = grep { $n{$_} > 1 } sort keys %n;
    is_deeply(\@dup, [], "$what: no comment doubled on the central");
}
# a siteload --spool in the background: (pid, file prefix)
my $bg = 0;
sub spawn {
    my (@argv) = @_;
    my $f = "$d/bg" . ++$bg;
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<', '/dev/null'); open(STDOUT, '>', "$f.out"); open(STDERR, '>', "$f.err");
        exec { $argv[0] } @argv or POSIX::_exit(127);
    }
    return [$pid, $f];
}
sub reap {
    my ($p) = @_;
    my $deadline = time + 180;
    while (waitpid($p->[0], POSIX::WNOHANG()) == 0) {
        if (time > $deadline) { kill 'KILL', $p->[0]; waitpid($p->[0], 0); last }
        sleep 0.05;
    }
    return { rc => $? >> 8, err => slurp("$p->[1].err") // '', out => slurp("$p->[1].out") // '' };
}

# ---- sitedump -o DIR/ writes atomically --------------------------------------------------------
{
    my $log = "$d/strace.log";
    my $r = run(['strace', '-f', '-y', '-qq', '-s', '0', '-o', $log, '-e', 'trace=openat,write,fsync,fdatasync,rename,renameat,renameat2',
                 $SITEDUMP, '-v', '-k', "$d/alpha.key", '--site', 'probe', '--state-dir', "$d/sdstate", '-s', $RLS, '-o', "$d/out/"],
             env => { ASAN_OPTIONS => 'detect_leaks=0' });     # LeakSanitizer cannot run under ptrace
    my ($final) = ($r->{err} // '') =~ /^sitedump: wrote (\S+)$/m;
    ok($r->{rc} == 0 && $final, 'strace of sitedump -o DIR/: bundle written') or diag $r->{err};
    $final //= '?';
    my @sys = split /\n/, slurp($log) // '';
    my @touch_final = grep { /\Q$final\E(?:[">]|$)/ } @sys;
    is(scalar(@touch_final), 1, 'the final name appears in exactly one system call') or diag join("\n", @touch_final);
    my ($tmp) = ($touch_final[0] // '') =~ /^\d+\s+rename\w*\((?:[^,]+,\s*)?"([^"]+)",/;
    ok($tmp && basename($tmp) =~ /^\.\Q${\ basename($final)}\E\./ && $tmp =~ m{^\Q$d/out/\E}, 'and that is a rename from a hidden temp name in the same directory')
        or diag $touch_final[0];
    $tmp //= '?';
    my ($ren_at) = grep { $sys[$_] eq ($touch_final[0] // '') } 0 .. $#sys;
    my @w = grep { $sys[$_] =~ /^\d+\s+write\(\d+<\Q$tmp\E>/ } 0 .. $#sys;
    my @s = grep { $sys[$_] =~ /^\d+\s+f(?:data)?sync\(\d+<\Q$tmp\E>/ } 0 .. $#sys;
    ok(@w && max(@w) < ($ren_at // -1), 'every write to the temp file comes before the rename (' . scalar(@w) . ' writes)');
    ok(@s && $s[-1] > max(@w) && $s[-1] < ($ren_at // -1), 'the temp file is fsynced after the last write, before the rename');
    ok(!-e $tmp, 'no temp file left');
    unlink $final;

    # a disk too small for the bundle: the write fails, and nothing appears under a final name
  SKIP: {
        system('mount', '-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', "$d/tiny") == 0
            or skip('mounting a tmpfs is not permitted here', 3);
        push @MOUNTED, "$d/tiny";
        spew("$d/big.json", far_doc(1, many => 3000));
        $r = run([$SITEDUMP, '-v', '--snapshot', "$d/big.json", '-k', "$d/far.key", '--site', 'big',
                  '--state-dir', "$d/sdstate", '--compress', 'none', '-o', "$d/tiny/"]);
        is($r->{rc}, 2, 'disk full while writing: exit 2');
        like($r->{err}, qr/No space left on device/, 'and says why');
        is_deeply(names("$d/tiny"), [], 'disk full: no file at all under any name');
        system('umount', "$d/tiny") == 0 and @MOUNTED = grep { $_ ne "$d/tiny" } @MOUNTED;
    }
}

# ---- 20 bundles of 2 sites, shuffled, one corrupted, one still being written -----------------
my (@alpha, @far);
push @alpha, alpha_bundle('config');
push @far, far_bundle('config');
for my $i (1 .. 9) {
    alpha_change();
    push @alpha, alpha_bundle('state');
    push @far, far_bundle('state');
}
# the remote unchanged since: the next alpha bundle is still being written when the spool runs
my $partial = alpha_bundle('state');
my $PART = ".$partial->{name}.Xk3q9Z";            # sitedump's temp name: .NAME.XXXXXX
my $half = substr($partial->{bytes}, 0, int(length($partial->{bytes}) / 2));
$alpha[5] = flip($alpha[5]);                     # a state bundle in the middle
my @all = (@alpha, @far);
is(scalar @all, 20, '20 bundles');
my $S = "$d/spool";
drop($S, shuffle @all);
spew("$S/$PART", $half);
spew("$S/README", "not a bundle\n");
spew("$S/alpha-12-state.tar.bz2", "not a bundle either\n");

my $r = run([@LOAD, '--spool', $S]);
is($r->{rc}, 1, 'spool with a corrupted bundle: exit 1') or diag $r->{err};
my $sum = summary($r->{err});
is_deeply($sum, { found => 20, applied => 4, skipped => 15, old => 0, rejected => 1, failed => 0 },
          'summary: 2 config + the newest state per site applied, 15 superseded state skipped, 1 rejected')
    or diag $r->{err};
my @good = grep { !$_->{corrupted} } @all;
my ($bad) = grep { $_->{corrupted} } @all;
is_deeply(names("$S/done"), [ sort map { $_->{name} } @good ], 'every good bundle is in done/');
is_deeply(names("$S/rejected"), [ sort($bad->{name}, "$bad->{name}.reason") ], 'the corrupted one is in rejected/, with NAME.reason');
my $reason = slurp("$S/rejected/$bad->{name}.reason") // '';
like($reason, qr/^[^\n]*(?:hash|digest|checksum|signature|verif|corrupt|damaged|crc|data error)[^\n]*\n\z/i,
     'NAME.reason: one line naming the verification failure') or diag $reason;
like($r->{err}, qr/^siteload: \Q$S\E\/\Q$bad->{name}\E: .*\(moved to rejected\/\)$/m, 'the rejection is reported with where it went');
is_deeply(names($S), [ sort($PART, 'README', 'alpha-12-state.tar.bz2', 'done', 'rejected') ],
          'left in the spool: the temp file and the unknown files');
is(slurp("$S/$PART"), $half, 'the file still being written is untouched');
is(slurp("$S/README"), "not a bundle\n", 'the unknown file is untouched');
is((stat("$S/done"))[2] & 07777, 0700, 'done/ created with mode 0700');
unlike($r->{err}, qr/owns no hosts yet|refused: not newer/, 'configs applied before states, nothing refused as not newer');
like($r->{err}, qr/\Q$alpha[1]{name}\E: state superseded by a newer bundle of the site: skipped, moved to done\//,
     'a superseded state bundle is said to be skipped');
my ($newest_alpha) = sort { $b->{seq} <=> $a->{seq} } grep { !$_->{corrupted} } @alpha;
my ($newest_far) = sort { $b->{seq} <=> $a->{seq} } @far;
is(imported_seq('alpha'), $newest_alpha->{seq}, 'state dir: alpha at its newest sequence');
is(imported_seq('far'), $newest_far->{seq}, 'state dir: far at its newest sequence');
$r = diff_central();
is($r->{rc}, 0, 'sitediff: the central mirrors the remote alpha') or diag $r->{out}, $r->{err};
like($r->{out}, qr/0 differences \(5 hosts, 12 services compared\)/, 'all 17 objects compared');
far_is(9, 'spool');

# the writer finishes: the temp file renamed to its final name is taken by the next run
spew("$S/$PART", $partial->{bytes});
rename("$S/$PART", "$S/$partial->{name}") or die;
$r = run([@LOAD, '--spool', $S]);
is($r->{rc}, 0, 'the finished bundle: exit 0') or diag $r->{err};
is_deeply(summary($r->{err}), { found => 1, applied => 1, skipped => 0, old => 0, rejected => 0, failed => 0 }, 'one bundle applied');
ok(-f "$S/done/$partial->{name}" && !-e "$S/$partial->{name}", 'and moved to done/');
is(imported_seq('alpha'), $partial->{seq}, 'alpha at the finished bundle\'s sequence');

# a replay of an imported bundle: not newer, filed in rejected/
drop($S, $alpha[3]);
$r = run([@LOAD, '--spool', $S]);
is($r->{rc}, 1, 'a replayed bundle: exit 1');
like(slurp("$S/rejected/$alpha[3]{name}.reason") // '', qr/^refused: not newer than the last imported sequence \d+\n\z/,
     'the replay is in rejected/ as not newer');

# ---- a spool that piled up: taken in batches (with 40 file descriptors: 4 bundles a batch) ---------
{
    my @pile;
    for my $i (1 .. 5) {
        alpha_change();
        push @pile, alpha_bundle('state');
        push @pile, far_bundle('state') if $i <= 4;
    }
    drop($S, shuffle @pile);
    $r = run(['/bin/sh', '-c', 'ulimit -n 40 && exec "$@"', 'sh', @LOAD, '--spool', $S]);
    is($r->{rc}, 0, 'piled-up spool, few file descriptors: exit 0') or diag $r->{err};
    is_deeply(summary($r->{err}), { found => 9, applied => 4, skipped => 5, old => 0, rejected => 0, failed => 0 },
              'in batches of 4 in site and sequence order: the newest state of each batch applied, nothing refused')
        or diag $r->{err};
    is_deeply([grep { -f "$S/done/$_->{name}" } @pile], \@pile, 'all 9 in done/');
    my ($na) = sort { $b->{seq} <=> $a->{seq} } grep { $_->{site} eq 'alpha' } @pile;
    my ($nf) = sort { $b->{seq} <=> $a->{seq} } grep { $_->{site} eq 'far' } @pile;
    is_deeply([imported_seq('alpha'), imported_seq('far')], [$na->{seq}, $nf->{seq}], 'both sites at their newest sequence');
    is(diff_central()->{rc}, 0, 'batches: the central mirrors the remote');
    far_is($far_gen, 'batches');
}

# ---- the lock ------------------------------------------------------------------------------------
{
    alpha_change();
    my $b = alpha_bundle('state');
    drop($S, $b);
    sysopen(my $lk, $S, O_RDONLY | O_DIRECTORY) or die "$S: $!";
    flock($lk, LOCK_EX) or die "flock: $!";
    my $p = spawn(@LOAD, '--spool', $S);
    sleep 2;
    is(waitpid($p->[0], POSIX::WNOHANG()), 0, 'while the spool is locked, siteload --spool waits');
    ok(-f "$S/$b->{name}", 'and has not touched the bundle');
    close $lk;
    $r = reap($p);
    is($r->{rc}, 0, 'lock released: the run goes on, exit 0') or diag $r->{err};
    ok(-f "$S/done/$b->{name}", 'bundle applied and moved');
}

# two runs at once: each bundle applied once
{
    my @batch;
    for my $i (1 .. 3) {
        alpha_change();
        push @batch, alpha_bundle('state');
        push @batch, far_bundle('state') if $i <= 2;
    }
    drop($S, shuffle @batch);
    my @p = (spawn(@LOAD, '--spool', $S), spawn(@LOAD, '--spool', $S));
    my @r = map { reap($_) } @p;
    is_deeply([map { $_->{rc} } @r], [0, 0], 'two concurrent runs: both exit 0') or diag map { $_->{err} } @r;
    my @s = map { summary($_->{err}) // {} } @r;
    is_deeply([sort { $a <=> $b } map { $_->{found} // -1 } @s], [0, 5], 'one run found the 5 bundles, the other none');
    is(sum0(map { ($_->{applied} // 0) + ($_->{skipped} // 0) } @s), 5, 'each bundle applied (or skipped as superseded) once');
    unlike(join('', map { $_->{err} } @r), qr/refused: not newer/, "no bundle refused as not newer");
    is_deeply([grep { -f "$S/done/$_->{name}" } @batch], \@batch, 'all 5 in done/');
    no_doubled_comments('concurrent runs');
    is(diff_central()->{rc}, 0, 'concurrent runs: the central mirrors the remote');
    far_is($far_gen, 'again');
}

# ---- read-only media -------------------------------------------------------------------------------
{
    my $M = "$d/media";
    my $SRC = "$d/media-src";
    my $how;
    if (system('mount', '--bind', $SRC, $M) == 0) {
        push @MOUNTED, $M;
        if (system('mount', '-o', 'remount,bind,ro', $M) == 0) {
            $how = 'a read-only bind mount';
        } else {
            system('umount', $M);
            @MOUNTED = grep { $_ ne $M } @MOUNTED;
        }
    }
    if (!$how) {
        $M = $SRC;
        $how = 'chattr +i (bind mounts not permitted)';
    }
    diag "read-only media: $how";
    # the stick: new bundles and some already imported ones
    my @new;
    for my $i (1 .. 2) {
        alpha_change();
        push @new, alpha_bundle('state');
    }
    push @new, far_bundle('state');
    my @seen = ($alpha[0], $alpha[2], $far[4]);
    drop($SRC, @new, @seen);
    if ($M eq $SRC) { system('chattr', '+i', $SRC) == 0 or BAIL_OUT('chattr +i failed'); push @IMMUTABLE, $SRC }
    ok(!open(my $probe, '>', "$M/probe"), "the media directory cannot be written ($how)");
    my $before = names($SRC);

    my @p = (spawn(@LOAD, '--spool', $M), spawn(@LOAD, '--spool', $M));
    my @r = map { reap($_) } @p;
    is_deeply([map { $_->{rc} } @r], [0, 0], 'read-only, two runs at once: both exit 0') or diag map { $_->{err} } @r;
    my @s = map { summary($_->{err}) // {} } @r;
    is(sum0(map { ($_->{applied} // 0) + ($_->{skipped} // 0) } @s), 3, 'the 3 new bundles applied once in all');
    is_deeply([map { $_->{found} // -1 } @s], [6, 6], 'both runs saw all 6 (nothing can be moved)');
    like($r[0]{err} . $r[1]{err}, qr/read-only: nothing moved/, 'the summary says read-only');
    my $seen_re = join '|', map { quotemeta $_->{name} } @seen;
    unlike($r[0]{err} . $r[1]{err}, qr/$seen_re|refused:/, 'already imported bundles: not a word about them');
    is_deeply(names($SRC), $before, 'nothing moved, no done/ or rejected/ created');
    my ($na) = sort { $b->{seq} <=> $a->{seq} } grep { $_->{site} eq 'alpha' } @new;
    is(imported_seq('alpha'), $na->{seq}, 'alpha at the newest sequence from the media');
    is(diff_central()->{rc}, 0, 'read-only: the central mirrors the remote');
    far_is($far_gen, 'again');
    no_doubled_comments('read-only');

    $r = run([@LOAD, '-q', '--spool', $M]);
    is($r->{rc}, 0, 'read-only, again: exit 0') or diag $r->{err};
    is($r->{err}, '', 'and with -q not a word: everything there was imported before');
    $r = run([@LOAD, '--spool', $M]);
    is_deeply(summary($r->{err}), { found => 6, applied => 0, skipped => 0, old => 6, rejected => 0, failed => 0 },
              'a second run applies nothing');

    # a corrupted bundle on the media: reported every time, exit 1, still nothing moved
    alpha_change();
    my $c = flip(alpha_bundle('state'));
    system('chattr', '-i', $SRC) if $M eq $SRC;
    drop($SRC, $c);
    system('chattr', '+i', $SRC) if $M eq $SRC;
    $before = names($SRC);
    $r = run([@LOAD, '-q', '--spool', $M]);
    is($r->{rc}, 1, 'read-only with a corrupted bundle: exit 1');
    like($r->{err}, qr/^siteload: \Q$M\/$c->{name}\E: /m, 'the corrupted bundle is reported');
    is(scalar(() = $r->{err} =~ /^siteload: /mg), 1, 'and nothing else');
    is_deeply(names($SRC), $before, 'nothing moved');
}

# ---- an encrypted bundle: named .tar.gz.sealed, taken from the spool with the central's key -------
{
    my $k = run([$SITELOAD, 'keygen', '-o', "$d/central"]);
    is($k->{rc}, 0, "siteload keygen: the central's encryption key") or diag $k->{err};
    alpha_change();
    my $w = run([$SITEDUMP, '-v', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate",
                 '-s', $RLS, '--encrypt-to', "$d/central.pub", '-o', "$d/out/"]);
    my ($path) = ($w->{err} // '') =~ /^sitedump: wrote (\S+)$/m;
    is($w->{rc}, 0, 'sitedump --encrypt-to: exit 0') or diag $w->{err};
    my ($seq) = basename($path // '') =~ /^alpha-(\d+)-state\.tar\.gz\.sealed$/;
    ok($seq, 'an encrypted bundle is named SITE-SEQ-KIND.tar.gz.sealed: ' . basename($path // '?'));
    isnt(substr(slurp($path) // '', 0, 2), "\x1f\x8b", '... and is not gzip');
    my $E = "$d/spool-sealed";
    mkdir $E or die "$E: $!";
    drop($E, { name => basename($path), bytes => slurp($path) });
    my $r = run([@LOAD, '--decrypt-key', "$d/central.key", '--spool', $E]);
    is($r->{rc}, 0, 'the spool takes it with --decrypt-key: exit 0') or diag $r->{err};
    is_deeply(summary($r->{err}), { found => 1, applied => 1, skipped => 0, old => 0, rejected => 0, failed => 0 },
              'one bundle found and applied') or diag $r->{err};
    is(imported_seq('alpha'), $seq, 'alpha at the encrypted bundle\'s sequence');
}

# ---- usage ----------------------------------------------------------------------------------------
$r = run([@LOAD, '--spool', $S, "$S/done/$alpha[1]{name}"]);
is($r->{rc}, 2, '--spool with a bundle besides: exit 2');
$r = run([@LOAD, '--spool', "$d/no-such-spool"]);
is($r->{rc}, 2, 'a missing spool: exit 2');
like($r->{err}, qr/no-such-spool: No such file or directory/, 'and says why');

done_testing;
