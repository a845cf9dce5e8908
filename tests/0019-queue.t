#!/usr/bin/perl
# Store and forward (issue 5, part 4): sitedump --queue DIR --send-command CMD.
#   - the transport (a wrapper around siteload, as ssh central siteload - would be) is down for
#     three runs: each exits 3 with one clear line, the bundle stays queued; configuration
#     bundles are all kept, a state bundle superseded by a newer one is dropped;
#   - up on the fourth run: the queue is sent oldest first and emptied; the central (a real
#     Icinga 2, Livestatus) ends with the latest state and every configuration change
#     (scripts/sitediff: 0 differences, the removed hosts gone);
#   - -o DIR/ as the transport and --queue-max: superseded configuration goes when over the
#     bound, the newest is kept.
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
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-queue-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate");

# run: SiteTest::run (timeout 180 s)

my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
my $r = run([$SITEDUMP, 'keygen', '-o', "$d/alpha"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/alpha.pub", "$d/trust/") == 0 or die;
my $central = icinga2_start(name => 'central', conf => qq{include_recursive "$d/cfg"\n});
my $CLS = 'unix:' . $central->livestatus;

# the transport: siteload behind a switch (ssh central siteload - in real life)
spew("$d/send", <<"EOF");
#!/bin/sh
if [ -e '$d/DOWN' ]; then echo 'send: central unreachable (test)' >&2; exit 255; fi
exec '$SITELOAD' --trust '$d/trust' --state-dir '$d/state' --config-dir '$d/cfg' --config-format icinga2 \\
    --reload-command 'kill -HUP $central->{pid}' --livestatus '$CLS' -q -
EOF
chmod 0755, "$d/send" or die;

my $Q = "$d/queue";
my @DUMP = ($SITEDUMP, '-v', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS,
            '--queue', $Q, '--send-command', "$d/send");
my @F1 = ('-O', 'Filter: name != db01', '-S', 'Filter: host_name != db01');
my @F2 = (@F1, '-O', 'Filter: name != pending host', '-S', 'Filter: host_name != pending host');
sub queued { my $q = $_[0] // $Q; opendir(my $dh, $q) or return (); sort { ($a =~ /-(\d+)-/)[0] <=> ($b =~ /-(\d+)-/)[0] } grep { !/^\./ && -f "$q/$_" } readdir $dh }
sub kinds { join ' ', map { /-\d+-(\w+)\./ ? $1 : '?' } @_ }
sub diff_central { run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS, @_]) }

# ---- run 0: the transport up, the first bundle goes through at once ---------------------
$r = run([@DUMP, '--all']);
is($r->{rc}, 0, 'run 0 (up): exit 0') or diag $r->{err};
like($r->{err}, qr/^sitedump: sent alpha-\d+-both\.tar\.gz \(--send-command '\Q$d\E\/send'\)$/m, 'says what it sent');
is_deeply([queued()], [], 'queue empty');
ok(-d $Q && ((stat $Q)[2] & 07777) == 0700, 'the queue directory is made private');
is(diff_central()->{rc}, 0, 'the central mirrors the remote');

# ---- runs 1-3: down -----------------------------------------------------------------------
spew("$d/DOWN", '');
$rem->command("ADD_HOST_COMMENT;gw;1;kim;while the central is away", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = kim") } }, 20);
$r = run([@DUMP, '-C', @F1]);                                   # a configuration change: db01 goes
is($r->{rc}, 3, 'run 1 (down, -C): exit 3');
like($r->{err}, qr/^sitedump: alpha-\d+-config\.tar\.gz not sent: --send-command '\Q$d\E\/send' exited with status 255; 1 bundle stays queued in \Q$Q\E$/m,
     'run 1: one clear line') or diag $r->{err};
is(kinds(queued()), 'config', 'run 1: the config bundle is queued');

$rem->command("PROCESS_SERVICE_CHECK_RESULT;web server 01;load;0;LOAD OK - recovered|load1=0.1", time - 1);
wait_for(sub { $rem->query("GET services\nColumns: state\nFilter: host_name = web server 01\nFilter: description = load")->[0][0] == 0 }, 20);
$r = run([@DUMP, @F1]);
is($r->{rc}, 3, 'run 2 (down, state): exit 3');
like($r->{err}, qr/config\.tar\.gz not sent: .* exited with status 255; 2 bundles stay queued in /, 'run 2: the oldest is tried first, two stay');
is(kinds(queued()), 'config state', 'run 2: config and state queued');
my ($state2) = grep { /-state\./ } queued();

$rem->command("REMOVE_SVC_ACKNOWLEDGEMENT;häst-ü;ping", time - 1);
$rem->command("ADD_HOST_COMMENT;gw;1;lee;still away", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = lee") } }, 20);
$r = run([@DUMP, '--all', @F2]);                                # config change 2 (pending host goes) and state
is($r->{rc}, 3, 'run 3 (down, --all): exit 3');
like($r->{err}, qr/^sitedump: queue: dropped \Q$state2\E: superseded by alpha-\d+-both\.tar\.gz$/m, 'run 3: the older state bundle is dropped');
is(kinds(queued()), 'config both', 'run 3: every config bundle kept, only the newest state');
is(scalar @{ $central->query("GET comments\nColumns: id\nFilter: author = lee") }, 0, 'the central has seen none of it');

# ---- run 4: up ---------------------------------------------------------------------------
unlink "$d/DOWN" or die;
$rem->command("ADD_HOST_COMMENT;gw;1;max;back again", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = max") } }, 20);
my @before = queued();
$r = run([@DUMP, @F2]);
is($r->{rc}, 0, 'run 4 (up): exit 0') or diag $r->{err};
my @sent = $r->{err} =~ /^sitedump: sent (alpha-\d+-\w+\.tar\.gz) /mg;
is(scalar @sent, 3, 'three bundles sent');
is_deeply([@sent[0, 1]], \@before, 'the queued ones first, oldest first');
like($sent[2], qr/-state\.tar\.gz$/, 'then the new state bundle');
is_deeply([queued()], [], 'the queue is empty');
my ($seq4) = $sent[2] =~ /-(\d+)-/;
like(slurp("$d/state/alpha.imported"), qr/^$seq4 /, 'the central imported the latest sequence');
# Icinga reloads after each configuration bundle, finishing after siteload returns (as in 0012)
ok(wait_for(sub { eval { !@{ $central->query("GET hosts\nColumns: name\nFilter: name = pending host") } } }, 60),
   'the central has reloaded with the last configuration');
ok(wait_for(sub { $r = diff_central('--ignore-host', 'db01', '--ignore-host', 'pending host'); $r->{rc} == 0 }, 30),
   'sitediff: the central has the latest state') or diag $r->{out}, $r->{err};
like($r->{out}, qr/0 differences \(3 hosts, 8 services compared\)/, 'all objects of the site compared');
is(scalar @{ $central->query("GET hosts\nColumns: name\nFilter: name = db01") }, 0, 'config change 1: db01 is gone from the central');
is(scalar @{ $central->query("GET hosts\nColumns: name\nFilter: name = pending host") }, 0, 'config change 2: pending host is gone');
is(scalar @{ $central->query("GET comments\nColumns: id\nFilter: author = max") }, 1, 'the last change arrived');
my $link = $central->query_hash("GET services\nColumns: plugin_output\nFilter: host_name = sitedump-alpha");
like($link->[0]{plugin_output} // '', qr/bundle $seq4 \(state\) of site alpha/, 'link service: the latest bundle');

# ---- a bundle the central refuses (siteload exit 1) is set aside, the queue goes on -------------
# the central forgets alpha's key: siteload refuses (exit 1, as through ssh); sending it again
# cannot help, so it must not block the bundles behind it
rename("$d/trust/alpha.pub", "$d/alpha.pub.away") or die;
$r = run([@DUMP, @F2]);
is($r->{rc}, 3, 'refused by the central: exit 3');
my ($refused) = $r->{err} =~ /^sitedump: (alpha-\d+-state\.tar\.gz) set aside in refused\/: --send-command '\Q$d\E\/send' exited with status 1: the central refused the bundle$/m;
ok($refused, 'one line: the bundle, where it went, why') or diag $r->{err};
is_deeply([queued()], [], 'the refused bundle left the queue');
is_deeply([queued("$Q/refused")], [$refused // 'none'], '... into DIR/refused/');
ok(((stat "$Q/refused")[2] & 07777) == 0700, 'refused/ is private');
rename("$d/alpha.pub.away", "$d/trust/alpha.pub") or die;
$r = run([@DUMP, @F2]);
is($r->{rc}, 0, 'the central trusts alpha again: exit 0') or diag $r->{err};
like($r->{err}, qr/^sitedump: sent alpha-\d+-state\.tar\.gz /m, 'the next bundle goes through');
is_deeply([queued("$Q/refused")], [$refused // 'none'], 'the refused one is kept for the admin, not resent');

# processes of process group $pgid that still run (zombies do not count)
sub group_running {
    my ($pgid) = @_;
    return grep { (slurp("/proc/$_/stat") // '') =~ /^\d+ \(.*\) [^ZX] \d+ $pgid / }
           map { m{/proc/(\d+)} ? $1 : () } glob('/proc/[0-9]*');
}

# ---- a transport that hangs: --send-timeout stops it, the bundle stays queued ------------------
spew("$d/hang", "#!/bin/sh\necho \$\$ > '$d/hang.pid'\nsleep 60\nexit 0\n");
chmod 0755, "$d/hang" or die;
my @HANG = ($SITEDUMP, '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS,
            '--queue', "$d/qh", '--send-command', "$d/hang", '--send-timeout', '2');
my $t0 = time;
$r = run([@HANG]);
my $took = time - $t0;
is($r->{rc}, 3, 'a hanging --send-command: exit 3');
like($r->{err}, qr/^sitedump: alpha-\d+-state\.tar\.gz not sent: --send-command '\Q$d\E\/hang' did not finish within 2 s \(--send-timeout\) and was stopped; 1 bundle stays queued in /m,
     'says it was stopped, and the bundle stays queued') or diag $r->{err};
cmp_ok($took, '<', 40, 'sitedump returned long before the command would have ended');
my $hpid = slurp("$d/hang.pid") // '';
chomp $hpid;
ok(pid_gone($hpid), "the command's shell is dead");
ok($hpid =~ /^\d+$/ && wait_for(sub { !group_running($hpid) }, 10),
   '... and nothing of its process group (the sleep) runs');
is(kinds(queued("$d/qh")), 'state', 'the bundle is still queued');
# a straggler that ignores SIGTERM (the shell goes, a child stays): SIGKILL for the group 5 s later,
# or it could deliver the bundle after sitedump gave up on it
spew("$d/stubborn", "#!/bin/sh\necho \$\$ > '$d/hang.pid'\n( trap '' TERM; exec sleep 60 ) &\nwait\n");
chmod 0755, "$d/stubborn" or die;
$t0 = time;
$r = run([@HANG[0 .. $#HANG - 4], '--send-command', "$d/stubborn", '--send-timeout', '1']);
$took = time - $t0;
is($r->{rc}, 3, 'a command whose child ignores SIGTERM: exit 3');
cmp_ok($took, '<', 30, 'sitedump returned') ;
$hpid = slurp("$d/hang.pid") // '';
chomp $hpid;
ok($hpid =~ /^\d+$/ && wait_for(sub { !group_running($hpid) }, 2),
   '... and the child that ignored SIGTERM is gone too (SIGKILL)');
$r = run([$SITEDUMP, '-k', "$d/alpha.key", '-s', $RLS, '-o', "$d/x.tgz", '--send-timeout', '5']);
is($r->{rc}, 2, '--send-timeout without --send-command or --mail-to: usage error');

# ---- -o DIR/ as the transport, --queue-max --------------------------------------------------
my $Q2 = "$d/q2";
my @D2 = ($SITEDUMP, '-v', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS,
          '--queue', $Q2, '--queue-max', '2', '-o', "$d/outbox/");
for my $i (1 .. 3) {
    $r = run([@D2, '-C']);
    is($r->{rc}, 3, "-o DIR/ missing, config run $i: exit 3");
}
like($r->{err}, qr/^sitedump: queue: dropped alpha-\d+-config\.tar\.gz: over --queue-max 2 \(configuration superseded by alpha-\d+-config\.tar\.gz\)$/m,
     'over --queue-max: the oldest superseded configuration goes');
like($r->{err}, qr/not sent: .*outbox.*; 2 bundles stay queued/, 'the directory transport failing says so');
is(kinds(queued($Q2)), 'config config', 'two config bundles queued');
mkdir "$d/outbox" or die;
$r = run([@D2]);
is($r->{rc}, 0, 'outbox there: exit 0') or diag $r->{err};
like($r->{err}, qr/^sitedump: queue: dropped alpha-\d+-state\.tar\.gz: over --queue-max 2 \(state goes first, oldest first\)$/m,
     'over --queue-max with two config bundles queued: the state bundle goes first');
is_deeply([queued($Q2)], [], 'queue empty');
is(kinds(queued("$d/outbox")), 'config config', 'copied into the directory, in order');
like($r->{err}, qr/^sitedump: sent alpha-\d+-config\.tar\.gz \(copy to \Q$d\E\/outbox\/\)$/m, 'says so');

# ---- usage ---------------------------------------------------------------------------------
$r = run([$SITEDUMP, '-k', "$d/alpha.key", '-s', $RLS, '--queue', $Q]);
is($r->{rc}, 2, '--queue without a transport: usage error');
like($r->{err}, qr/--queue needs a transport/, 'says so');
$r = run([$SITEDUMP, '-s', $RLS, '--send-command', 'cat']);
is($r->{rc}, 2, '--send-command without -k: usage error');
$r = run([$SITEDUMP, '-k', "$d/alpha.key", '-s', $RLS, '--send-command', 'cat', '--mail-to', 'x@y']);
is($r->{rc}, 2, 'two transports: usage error');

# ---- what a cron job sees (issue 20): nothing on success by default, errors only with -q -----
make_path("$d/quiet");
$r = run([$SITEDUMP, '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS,
          '--send-command', "cat > $d/quiet/b"]);
ok($r->{rc} == 0 && $r->{err} eq '' && -s "$d/quiet/b", 'a bundle sent without -v: exit 0, nothing on stderr')
    or diag $r->{err};
$r = run([$SITEDUMP, '-v', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS,
          '-o', "$d/quiet/"]);
like($r->{err}, qr/^sitedump: wrote \Q$d\E\/quiet\/alpha-\d+-state\.tar\.gz$/, '-v: says what it wrote');
$r = run([$SITEDUMP, '-q', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS,
          '-O', 'Filter: name = nosuchhost', '-o', "$d/quiet/"]);
ok($r->{rc} == 0 && $r->{err} eq '', '-q: nothing on stderr') or diag $r->{err};
$r = run([$SITEDUMP, '-k', "$d/alpha.key", '-s', $RLS, '-p', 'r1-', '-o', "$d/quiet/x"]);
is($r->{rc}, 2, '-p with a bundle: usage error');
like($r->{err}, qr/^sitedump: -p with a bundle: .*siteload --prefix/, 'points to siteload --prefix');
SKIP: {
    skip 'no script(1) for a terminal', 2 unless -x '/usr/bin/script';
    my $out = `/usr/bin/script -qec '$SITEDUMP -k $d/alpha.key -s $RLS' /dev/null 2>&1`;
    is($? >> 8, 2, 'a bundle to a terminal: exit 2');
    like($out, qr/sitedump: a bundle is binary: not written to a terminal/, 'says why');
}

done_testing;
