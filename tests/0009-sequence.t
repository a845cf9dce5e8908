#!/usr/bin/perl
# Durable per-site sequence numbers (--state-dir), against a real Icinga 2 (remote_fixture):
#   - 100 runs of sitedump -k KEY --state-dir D -o DIR/, some killed with SIGKILL at several
#     points (just after fork, just after exec, after 1..20 ms): the sequence numbers (read with
#     siteload inspect --json) strictly increase; after each kill the state file still holds a
#     valid number, every file under a final name r1-*.tar.gz is a complete, valid bundle, and
#     the next successful run's number is above every earlier one (bundles and state file);
#   - concurrent runs never get the same number: a burst released at once from a held lock, and
#     free-running pairs; a run killed while it waits for the lock uses no number;
#   - the number is taken when a run starts: a run whose Livestatus answers late (a proxy holds
#     its first reply back) and so finishes after a later one still has the lower number.
#   - a state file holding -1 is refused (exit 2), no bundle.
# Leftovers of killed runs (hidden temp files, private temp dirs) are reported with note().
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use Fcntl qw(:flock O_RDWR O_CREAT);
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
my $JSON     = JSON::PP->new->utf8;
my $T0       = time;

my $dir = abs_path(tempdir('sd-seq-XXXXXX', TMPDIR => 1, CLEANUP => 1));
my ($D, $O, $T, $K) = map { "$dir/$_" } qw(state out tmp keys);
make_path($D, $O, $T, $K, "$dir/log");

sub ls_dir {
    my ($d) = @_;
    opendir(my $dh, $d) or return ();
    my @e = sort grep { $_ ne '.' && $_ ne '..' } readdir $dh;
    closedir $dh;
    return @e;
}

my ($ic) = remote_fixture(name => 'sequence');
ok($ic, sprintf 'remote fixture up in %.1fs', time - $T0);
my $spec = 'unix:' . $ic->livestatus;
my $kg = run_cmd([$SITEDUMP, 'keygen', '-o', "$K/r1"], timeout => 30);
is($kg->{rc}, 0, 'keygen') or diag $kg->{err};

my @DUMP = ($SITEDUMP, '-s', $spec, '-k', "$K/r1.key", '--site', 'r1', '--state-dir', $D, '-o', "$O/");
my $nrun = 0;

# start sitedump in the background; stderr to a log file
sub start {
    my (@cmd) = @_ ? @_ : @DUMP;
    my $log = "$dir/log/" . ++$nrun;
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        $ENV{TMPDIR} = $T;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$log.out");
        open(STDERR, '>', "$log.err");
        exec(@cmd) or POSIX::_exit(127);
    }
    return ($pid, $log);
}
# wait (at most 30 s): (exit code, signal)
sub finish {
    my ($pid) = @_;
    my $deadline = time + 30;
    while (waitpid($pid, POSIX::WNOHANG()) != $pid) {
        if (time > $deadline) { kill 'KILL', $pid; waitpid($pid, 0); return (-1, 9) }
        sleep 0.002;
    }
    return ($? >> 8, $? & 127);
}
sub state_value {
    my $s = slurp("$D/r1.seq");
    return defined $s && $s =~ /\A(\d+)\n\z/ ? $1 : undef;
}
sub finals { grep { /^r1-\d+-state\.tar\.gz$/ } ls_dir($O) }
sub inspect_seq {
    my ($f) = @_;
    my $r = run_cmd([$SITELOAD, 'inspect', '--json', '-p', "$K/r1.pub", $f], timeout => 30, env => { TMPDIR => "$dir/ltmp" });
    my $j = eval { $JSON->decode($r->{out}) };
    return $r->{rc} == 0 && $j ? $j->{sequence} : undef;
}
make_path("$dir/ltmp");

my %seen_file;          # final name => sequence
my $maxseen = 0;        # the highest number seen anywhere (bundles, state file)
my @order;              # bundle sequences in the order the runs completed
my (%leftover, @killnotes, @dur);     # @dur: durations of normal runs (start to exit)

# new files under a final name: each must be a complete bundle whose sequence is its name's
# and above everything seen before. Returns (ok, [new seqs], problems).
sub new_finals {
    my @new = grep { !exists $seen_file{$_} } finals();
    my (@seqs, @bad);
    for my $f (sort @new) {
        my ($nseq) = $f =~ /^r1-(\d+)-/;
        my $seq = inspect_seq("$O/$f");
        if (!defined $seq)          { push @bad, "$f: not a valid bundle" }
        elsif ($seq != $nseq)       { push @bad, "$f: sequence $seq inside" }
        elsif ($seq <= $maxseen)    { push @bad, "$f: sequence $seq not above $maxseen" }
        $seen_file{$f} = $seq // 0;
        push @seqs, $seq // 0;
    }
    return (!@bad, \@seqs, \@bad);
}
sub wchan { return slurp("/proc/$_[0]/wchan") // '' }
sub leftovers {
    my %l = (out => [ grep { /^\./ } ls_dir($O) ], state => [ grep { /^\./ } ls_dir($D) ], tmp => [ ls_dir($T) ]);
    return \%l;
}

# ---- one normal run
sub normal_run {
    my ($what) = @_;
    my $before = state_value() // 0;
    my $t = time;
    my ($pid, $log) = start();
    my ($rc, $sig) = finish($pid);
    push @dur, time - $t;
    my ($ok, $seqs, $bad) = new_finals();
    my $st = state_value();
    my $good = $rc == 0 && $ok && @$seqs == 1 && defined $st && $st == $seqs->[0] && $seqs->[0] > $before;
    ok($good, "$what: exit 0, one new bundle, sequence " . ($seqs->[0] // '?') . " above every earlier one ($maxseen)")
        or diag "exit $rc sig $sig; new: @$seqs; state " . ($st // 'invalid') . "; @$bad; " . (slurp("$log.err") // '');
    for (@$seqs) { push @order, $_; $maxseen = $_ if $_ > $maxseen }
    return $seqs->[0];
}

# ---- one killed run; $delay: 'fork' (right after fork), 'exec' (right after exec) or ms
sub killed_run {
    my ($what, $delay) = @_;
    my $before = state_value();
    my ($pid, $log) = start();
    if ($delay eq 'exec') {
        my $deadline = time + 5;
        while (time < $deadline) { my $e = readlink("/proc/$pid/exe") // ''; last if $e =~ /sitedump$/; }
    } elsif ($delay ne 'fork') {
        sleep $delay / 1000;
    }
    kill 'KILL', $pid;
    my ($rc, $sig) = finish($pid);
    my $st = state_value();
    ok(defined $st && (!defined $before || $st >= $before),
       "$what: state file still holds a valid number (" . ($st // 'invalid') . ")")
        or diag "state file: " . (slurp("$D/r1.seq") // 'missing');
    my ($ok, $seqs, $bad) = new_finals();
    ok($ok, "$what: every file under a final name r1-*.tar.gz is a complete bundle") or diag "@$bad";
    for (@$seqs) { push @order, $_; $maxseen = $_ if $_ > $maxseen }
    $maxseen = $st if defined $st && $st > $maxseen;
    my $l = leftovers();
    my $outcome = $sig == 9 ? 'killed' : "completed (exit $rc) before the kill";
    $outcome .= defined $before && defined $st && $st != $before ? ', sequence used' : ', no sequence used' if $sig == 9;
    $outcome .= ', bundle released' if @$seqs;
    my @lo = map { "$_: @{ $l->{$_} }" } grep { @{ $l->{$_} } } qw(out state tmp);
    push @killnotes, sprintf('%-5s %s%s', $delay, $outcome, @lo ? '; left: ' . join('; ', @lo) : '');
    for my $k (qw(out state tmp)) { $leftover{$k}++ if @{ $l->{$k} } }
    # leftovers are reported, then cleared so that the next kill's are its own
    unlink map { "$O/$_" } @{ $l->{out} };
    unlink map { "$D/$_" } @{ $l->{state} };
    remove_tree(map { "$T/$_" } @{ $l->{tmp} });
}

# ======================================================================================
# 100 runs, every 5th killed
# The first kills use fixed delays; the later ones fractions of a normal run's duration as
# measured here, so that they spread over the whole run (which takes ~10-20 ms) on any machine.
my @delays = ('fork', 'exec', 1, 5, 20, map { "f$_" } qw(0.2 0.3 0.35 0.4 0.45 0.5 0.55 0.6 0.65 0.7 0.75 0.8 0.85 0.9 1.0));
my $t_runs = time;
my $k = 0;
for my $i (1 .. 100) {
    if ($i % 5 == 0) {
        my $d = $delays[$k++ % @delays];
        if ($d =~ /^f([\d.]+)$/) {
            my @s = sort { $a <=> $b } @dur;
            $d = sprintf '%.1f', $1 * $s[@s / 2] * 1000;
        }
        killed_run("run $i (SIGKILL " . ($d =~ /^[\d.]+$/ ? "after $d ms" : "right after $d") . ")", $d);
    } else {
        normal_run("run $i");
    }
}
note sprintf '100 runs in %.1fs; a normal run takes %.1f ms (median)', time - $t_runs, 1000 * (sort { $a <=> $b } @dur)[@dur / 2];
note "kills (delay: outcome):\n" . join("\n", @killnotes);
note sprintf 'kills leaving a hidden temp file in the output dir: %d, in the state dir: %d, a private dir in TMPDIR: %d (of %d)',
    $leftover{out} // 0, $leftover{state} // 0, $leftover{tmp} // 0, scalar @killnotes;
is_deeply(\@order, [ sort { $a <=> $b } @order ], 'sequences strictly increase in run order') or diag "@order";
my %u; $u{$_}++ for @order;
is(scalar(keys %u), scalar(@order), 'no sequence twice');
is(scalar(finals()), scalar(@order), 'one final file per released bundle (none overwritten)');
is(state_value(), $maxseen, 'state file holds the highest number');

# A run killed after it reserved its number (deterministic): -o - into a pipe nobody reads,
# shrunk to one page, so that sitedump blocks writing the bundle. The number stays used.
{
    my $before = state_value();
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $psz = fcntl($wr, 1031, 4096);        # F_SETPIPE_SZ (Linux)
    ok($psz, 'pipe shrunk to one page') or diag "F_SETPIPE_SZ: $!";
    my $pid = fork() // die;
    if (!$pid) {
        close $rd;
        $ENV{TMPDIR} = $T;
        open(STDOUT, '>&', $wr) or POSIX::_exit(126);
        open(STDERR, '>', "$dir/log/pipe.err");
        exec(@DUMP[0 .. $#DUMP - 1], '-', '--compress', 'none') or POSIX::_exit(127);
    }
    close $wr;
    my $reserved = wait_for(sub { (state_value() // 0) != ($before // 0) }, 15, 0.01);
    sleep 0.3;
    ok($reserved && waitpid($pid, POSIX::WNOHANG()) == 0,
       'a run writing into a full pipe has reserved its number and still runs (blocked: ' . wchan($pid) . ')');
    kill 'KILL', $pid;
    finish($pid);
    close $rd;
    my $st = state_value();
    ok(defined $st && $st > ($before // 0), "killed after reserving: the state file keeps the used number ($st)");
    is_deeply([ grep { !exists $seen_file{$_} } finals() ], [], 'killed after reserving: no bundle file');
    $maxseen = $st if defined $st && $st > $maxseen;
    my $next = normal_run('the run after it');
    ok(defined $next && defined $st && $next > $st, 'the next number is above the one the killed run used (a gap, no repeat)');
    my $l = leftovers();
    note 'killed while writing to a pipe, left: ' . join('; ', map { "$_: @{ $l->{$_} }" } grep { @{ $l->{$_} } } qw(out state tmp));
    remove_tree(map { "$T/$_" } @{ $l->{tmp} });
}

# ======================================================================================
# concurrency (a): six runs held at the lock, released at once
{
    sysopen(my $lk, "$D/r1.seq.lock", O_RDWR | O_CREAT, 0600) or die "lock: $!";
    flock($lk, LOCK_EX) or die "flock: $!";
    my @p = map { [ start() ] } 1 .. 6;
    # each one does its Livestatus pass, then waits for the lock
    my $blocked = wait_for(sub { 6 == grep { my $p = $_->[0]; grep { (readlink($_) // '') =~ /r1\.seq\.lock$/ } glob("/proc/$p/fd/*") } @p }, 15, 0.01);
    sleep 0.3;
    note(($blocked ? 'all six have the lock file open; ' : 'not all six reached the lock; ') . 'wchan: ' . join(', ', map { wchan($_->[0]) } @p));
    is_deeply([ grep { !exists $seen_file{$_} } finals() ], [], 'while the lock is held, no bundle is released');
    is(state_value(), $maxseen, 'while the lock is held, the state file is unchanged');
    close $lk;
    my @rc = map { [ finish($_->[0]) ] } @p;
    is_deeply([ map { "@$_" } @rc ], [ ('0 0') x 6 ], 'six released at once: all exit 0');
    my ($ok, $seqs, $bad) = new_finals();
    my %d; $d{$_}++ for @$seqs;
    ok($ok && @$seqs == 6 && keys(%d) == 6, "six concurrent runs: six bundles, six different numbers (@$seqs)")
        or diag "@$bad";
    for (@$seqs) { $maxseen = $_ if $_ > $maxseen }
    is(state_value(), $maxseen, 'state file holds the highest of them');
}

# concurrency (b): free-running pairs
{
    my (@all, @rcs);
    for (1 .. 10) {
        my @p = map { [ start() ] } 1 .. 2;
        push @rcs, map { (finish($_->[0]))[0] } @p;
    }
    my ($ok, $seqs, $bad) = new_finals();
    my %d; $d{$_}++ for @$seqs;
    ok(!grep({ $_ != 0 } @rcs) && $ok && @$seqs == 20 && keys(%d) == 20,
       'ten pairs of concurrent runs: 20 bundles, 20 different numbers, each above all before') or diag "rc @rcs; seqs @$seqs; @$bad";
    for (@$seqs) { $maxseen = $_ if $_ > $maxseen }
}

# a run killed while it waits for the lock: no number used, nothing released
{
    sysopen(my $lk, "$D/r1.seq.lock", O_RDWR | O_CREAT, 0600) or die "lock: $!";
    flock($lk, LOCK_EX) or die "flock: $!";
    my $before = state_value();
    my ($pid) = start();
    # it has the lock file open (it opens, then flocks) and stays: it waits for the lock
    my $waiting = wait_for(sub { grep { (readlink($_) // '') =~ /r1\.seq\.lock$/ } glob("/proc/$pid/fd/*") }, 15, 0.01);
    sleep 0.3;
    ok($waiting && waitpid($pid, POSIX::WNOHANG()) == 0, 'a run waits for the held lock (wchan: ' . wchan($pid) . ')');
    kill 'KILL', $pid;
    finish($pid);
    close $lk;
    is(state_value(), $before, 'killed while waiting for the lock: state file unchanged');
    is_deeply([ grep { !exists $seen_file{$_} } finals() ], [], 'killed while waiting for the lock: no bundle');
    my $l = leftovers();
    note 'killed while waiting for the lock, left: ' . join('; ', map { "$_: @{ $l->{$_} }" } grep { @{ $l->{$_} } } qw(out state tmp));
    remove_tree(map { "$T/$_" } @{ $l->{tmp} });
    normal_run('the run after it');
}

# the number is taken when the run starts: A's first query is held back by a proxy, B starts
# after A has its number and finishes first; A's bundle still has the lower number
{
    require IO::Socket::UNIX;
    my $px = "$dir/slow.sock";
    my $srv = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Local => $px, Listen => 8)
        or die "listen $px: $!";
    my $ppid = fork() // die "fork: $!";
    if (!$ppid) {
        my $first = 1;
        while (my $c = $srv->accept) {
            local $/;
            my $req = <$c>;             # sitedump shuts its side down after the request
            sleep 1.5 if $first;
            $first = 0;
            my $up = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Peer => $ic->livestatus)
                or POSIX::_exit(1);
            print $up $req;
            shutdown($up, 1);
            my $rep = <$up>;
            print $c $rep if defined $rep;
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;
    my $before = state_value() // 0;
    my ($pa, $loga) = start($SITEDUMP, '-s', "unix:$px", @DUMP[3 .. $#DUMP]);
    my $reserved = wait_for(sub { (state_value() // 0) > $before }, 15, 0.01);
    my $seq_a = state_value();
    ok($reserved && waitpid($pa, POSIX::WNOHANG()) == 0, 'a run waiting for Livestatus has already taken its number');
    my $seq_b = normal_run('a run started after it, finished before it');
    my ($rc) = finish($pa);
    kill 'TERM', $ppid;
    waitpid($ppid, 0);
    my $max = $maxseen;
    $maxseen = $before;             # A's number is below B's: compare it with what came before both
    my ($ok, $seqs, $bad) = new_finals();
    $maxseen = $max;
    is($rc, 0, 'the held-back run ends well') or diag slurp("$loga.err");
    ok($ok && @$seqs == 1 && defined $seq_a && $seqs->[0] == $seq_a && $seq_a < $seq_b,
       "its bundle has the number it took first ($seq_a), below the later run's ($seq_b)") or diag "@$seqs @$bad";
}

# a state file that does not hold a sequence number: "-1", which strtoull made ULLONG_MAX (a
# regression of the security review, session 1): refused, no bundle
{
    make_path("$dir/bad");
    spew("$dir/bad/r1.seq", "-1\n");
    my $r = run([$SITEDUMP, '-s', $spec, '-k', "$K/r1.key", '--site', 'r1', '--state-dir', "$dir/bad", '-o', "$dir/x.tgz"]);
    is($r->{rc}, 2, 'sequence file -1: exit 2');
    like($r->{err}, qr/not a sequence number/, 'sequence file -1: reason');
    ok(!-e "$dir/x.tgz", 'sequence file -1: no bundle');
}

# a state dir sitedump makes is 0711 whatever the umask, as siteload's (they share the default
# one; the central's stale check runs as the core's user): issue 20
{
    my $fresh = "$K/fresh-state";
    my $old = umask 077;
    my $r = run([@DUMP[0 .. $#DUMP - 4], '--state-dir', $fresh, '-o', "$O/"]);
    umask $old;
    is($r->{rc}, 0, 'a new state dir: bundle made') or diag $r->{err};
    is(sprintf('%04o', (stat $fresh)[2] & 07777), '0711', 'a new state dir is 0711 (umask 077)');
}

note sprintf 'total %.1fs', time - $T0;
done_testing;
