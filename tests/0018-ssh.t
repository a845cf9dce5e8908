#!/usr/bin/perl
# The ssh pipe (issue 5, part 1): "sitedump ... -o - | ssh central siteload -" with
# scripts/sitedump-ssh-receive as the forced command of the remote site's key:
#   - a private OpenSSH server (Debian openssh-server) on 127.0.0.1, its own host key, config,
#     authorized_keys and pid file in a temp dir; the client checks the host key strictly;
#   - the key's authorized_keys line: command="sitedump-ssh-receive alpha CONF",restrict;
#   - a bundle (--all) of a real Icinga 2 remote goes through ssh into a real Icinga 2 central
#     (config written, core reloaded, state sent): scripts/sitediff shows 0 differences; then a
#     state-only bundle too; siteload's exit status comes back through ssh;
#   - the same key cannot load a bundle of site beta (validly signed, beta trusted): refused,
#     exit 1, nothing of beta on the central; asking for another command (cat /etc/passwd, id,
#     siteload --site beta -) still runs siteload for alpha only; no pty, no port forwarding;
#   - the receiving script's own checks (site name, config file mode, the old shell form); the
#     config file is siteload's INI (--config), and a site key in it loses to authorized_keys'.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(WNOHANG _exit setsid);
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

my $SSHD = '/usr/sbin/sshd';
my $ROOT = repo_root();

# openssh-server is in scripts/install-deps: install what is missing from there
if (!-x $SSHD && $> == 0 && slurp("$ROOT/scripts/install-deps") =~ /^\s*openssh-server\s*$/m) {
    diag 'openssh-server missing: running scripts/install-deps';
    system("$ROOT/scripts/install-deps >&2 </dev/null");
}
plan skip_all => "no $SSHD (Debian package openssh-server; scripts/install-deps installs it as root)" unless -x $SSHD;
for my $tool (qw(ssh ssh-keygen)) {
    plan skip_all => "no $tool (Debian package openssh-client)" unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(600);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $RECEIVE  = "$ROOT/scripts/sitedump-ssh-receive";
my $d = abs_path(tempdir('sd-ssh-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/ssh");
my $USER = getpwuid($>) // die "no user name for uid $>";
die "$d: a path the authorized_keys line cannot hold" if "$d$ROOT" =~ /["\\\s]/;

# run: SiteTest::run (timeout 180 s)
sub q_sh { my ($s) = @_; $s =~ s/'/'\\''/g; "'$s'" }

# ---- the private sshd ------------------------------------------------------------------
my %SSHD;      # pid, guardian, port, conf, log

# every process of our sshd: the listener and all its descendants (per-connection children
# run in sessions of their own, so a process group or session kill would miss them)
sub sshd_pids {
    my ($top) = @_;
    return () unless $top;
    my %kids;
    opendir(my $dh, '/proc') or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        open(my $fh, '<', "/proc/$pid/stat") or next;
        my $l = <$fh> // next;
        $l =~ s/^.*\)\s+//s;
        my ($state, $ppid) = split / /, $l;
        push @{ $kids{$ppid} }, $pid unless $state eq 'Z';
    }
    closedir $dh;
    my @all = kill(0, $top) ? ($top) : ();
    my @todo = ($top);
    while (defined(my $p = shift @todo)) {
        push @all, @{ $kids{$p} || [] };
        push @todo, @{ $kids{$p} || [] };
    }
    return @all;
}

# processes anywhere whose command line names our sshd config (the listener, re-executed
# connection children before they set their title)
sub procs_with_conf {
    my ($conf) = @_;
    my @p;
    opendir(my $dh, '/proc') or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my $c = slurp("/proc/$pid/cmdline") // next;
        push @p, $pid if index($c, $conf) >= 0 && $pid != $$;
    }
    closedir $dh;
    return @p;
}

sub kill_sshd_tree {
    my ($top, $reap) = @_;
    my @p = sshd_pids($top);
    return 1 unless @p;
    kill 'TERM', @p;
    my $deadline = time + 5;
    while (time < $deadline) {
        waitpid($top, WNOHANG) if $reap;
        @p = grep { kill 0, $_ } @p;
        my @zombie_free = grep { (slurp("/proc/$_/stat") // '') !~ /^\d+ \(.*\) Z /s } @p;
        return 1 unless @zombie_free;
        sleep 0.05;
    }
    kill 'KILL', @p;
    waitpid($top, 0) if $reap;
    return 0;
}

sub stop_sshd {
    my $pid = delete $SSHD{pid} or return;
    kill_sshd_tree($pid, 1);
    if (my $g = delete $SSHD{guardian}) { kill 'TERM', $g; waitpid($g, 0) }
}
my $OWNER = $$;
END { local ($?, $!, $@); stop_sshd() if $$ == $OWNER }
for my $sig (qw(INT TERM HUP QUIT ALRM)) {      # stop sshd, then SiteTest's handler (daemons, dirs)
    my $prev = $SIG{$sig};
    $SIG{$sig} = sub {
        stop_sshd();
        File::Path::remove_tree($d) unless $ENV{SITETEST_KEEP};   # END (File::Temp) will not run
        $prev->(@_) if ref $prev eq 'CODE';
        _exit(128 + 1);
    };
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Debian's sshd running as root insists on its privilege separation directory /run/sshd (the
# package's systemd unit creates it at start); it is compiled in, not configurable. Create it
# (empty, root, 0755) if missing and leave it: it is the package's own runtime dir, on tmpfs,
# and a system sshd or a parallel run may be using it by the time we end.
if ($> == 0 && !-d '/run/sshd') {
    mkdir('/run/sshd', 0755) or die "mkdir /run/sshd: $!";
}

my $r = run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'sitedump-test-host', '-f', "$d/ssh/host_key"]);
is($r->{rc}, 0, 'sshd host key') or diag $r->{err};
$r = run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'alpha@remote', '-f', "$d/ssh/alpha_ssh"]);
is($r->{rc}, 0, 'the remote\'s ssh transport key') or diag $r->{err};

sub start_sshd {
    for my $try (1 .. 5) {
        my $port = free_port();
        my $conf = "$d/ssh/sshd_config";
        spew($conf, <<"EOF");
# private test sshd: nothing of /etc/ssh is used
ListenAddress 127.0.0.1:$port
HostKey $d/ssh/host_key
PidFile $d/ssh/sshd.pid
AuthorizedKeysFile $d/ssh/authorized_keys
AuthorizedPrincipalsFile none
AuthorizedKeysCommand none
StrictModes no
AllowUsers $USER
PermitRootLogin prohibit-password
PubkeyAuthentication yes
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
GSSAPIAuthentication no
KerberosAuthentication no
PermitUserEnvironment no
# allowed here on purpose: the key's "restrict" is what must forbid them
AllowTcpForwarding yes
PermitTTY yes
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
EOF
        my $t = run([$SSHD, '-t', '-f', $conf]);
        if ($t->{rc} != 0) {
            fail('sshd -t accepts the private config');
            diag $t->{err};
            return 0;
        }
        my $log = "$d/ssh/sshd.log";
        unlink $log;
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            setsid();
            open(STDIN, '<', '/dev/null');
            open(STDOUT, '>>', $log);
            open(STDERR, '>&', \*STDOUT);
            { no warnings "exec"; exec { $SSHD } $SSHD, "-D", "-e", "-f", $conf; }
            _exit(127);
        }
        %SSHD = (pid => $pid, port => $port, conf => $conf, log => $log);
        # a guardian that stops this sshd when the test script vanishes without END
        my $parent = $$;
        my $g = fork();
        if (defined $g && !$g) {
            setsid();
            $0 = "sitedump-0018-guardian $pid";
            open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
            if (opendir(my $dh, '/proc/self/fd')) {
                POSIX::close($_) for grep { /^\d+$/ && $_ > 2 } readdir $dh;
            }
            $SIG{$_} = 'DEFAULT' for qw(INT HUP QUIT ALRM PIPE);
            $SIG{TERM} = sub { _exit(0) };
            sleep 0.5 while getppid() == $parent;
            kill_sshd_tree($pid, 0);
            _exit(0);
        }
        $SSHD{guardian} = $g;
        my $up = wait_for(sub {
            return 'up' if (slurp($log) // '') =~ /Server listening on 127\.0\.0\.1 port $port/;
            return 'dead' if waitpid($pid, WNOHANG) == $pid;
            return undef;
        }, 20);
        return 1 if ($up // '') eq 'up';
        my $why = slurp($log) // '';
        stop_sshd();
        next if $why =~ /Bind to port|Address already in use|Cannot bind/;    # lost the port race
        fail('sshd started');
        diag $why;
        return 0;
    }
    return 0;
}

# ---- remote, site keys, central -----------------------------------------------------------
my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
for my $k (qw(alpha beta)) {
    $r = run([$SITEDUMP, 'keygen', '-o', "$d/$k"]);
    is($r->{rc}, 0, "sitedump keygen $k (site signing key)") or diag $r->{err};
}
# both sites are trusted on the central: only the ssh key's pin keeps beta out
system('cp', "$d/alpha.pub", "$d/beta.pub", "$d/trust/") == 0 or die;

my $central = icinga2_start(name => 'central', conf => <<"EOF2");
include_recursive "$d/cfg"
object Host "central-own" { check_command = "dummy"; enable_active_checks = false }
EOF2
my $CLS = 'unix:' . $central->livestatus;

# the central's siteload options (siteload --config, INI; mode 0644, owned by us)
my $CONF = "$d/siteload.conf";
spew($CONF, <<"EOF");
# siteload's options, read by sitedump-ssh-receive through siteload --config
[siteload]
trust = $d/trust
state-dir = $d/state
config-dir = $d/cfg
config-format = icinga2
reload-command = kill -HUP $central->{pid}
livestatus = $CLS
EOF
chmod 0644, $CONF;

my $pub = slurp("$d/ssh/alpha_ssh.pub");
chomp $pub;
spew("$d/ssh/authorized_keys", qq{command="$RECEIVE alpha $CONF $SITELOAD",restrict $pub\n});

ok(start_sshd(), "private sshd on 127.0.0.1:$SSHD{port}") or BAIL_OUT('no sshd: ' . (slurp("$d/ssh/sshd.log") // ''));
my $hostpub = slurp("$d/ssh/host_key.pub");
spew("$d/ssh/known_hosts", "[127.0.0.1]:$SSHD{port} $hostpub");

my @SSH = ('ssh', '-F', '/dev/null', '-i', "$d/ssh/alpha_ssh", '-p', $SSHD{port},
           '-o', 'StrictHostKeyChecking=yes', '-o', "UserKnownHostsFile=$d/ssh/known_hosts",
           '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'UpdateHostKeys=no', '-o', 'BatchMode=yes',
           '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'ConnectTimeout=10',
           '-o', 'LogLevel=ERROR');
my $DEST = "$USER\@127.0.0.1";
my $SSH_SH = join(' ', map { q_sh($_) } @SSH, $DEST);

# sitedump ... -o - | ssh ... CMD, as the cron line does it (bash: pipefail)
sub pipe_bundle {
    my ($cmd, %o) = @_;
    my @sd = ($SITEDUMP, @{ $o{args} || ['--all'] }, '-k', "$d/" . ($o{key} // 'alpha') . '.key',
              '--site', $o{site} // 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS, '-o', '-');
    my $line = join(' ', map { q_sh($_) } @sd) . " | $SSH_SH" . (defined $cmd ? ' ' . q_sh($cmd) : '');
    return run(['bash', '-o', 'pipefail', '-c', $line]);
}
sub diff_central { run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS]) }
sub counts {
    my $dt = $central->query("GET downtimes\nColumns: id");
    my $cm = $central->query("GET comments\nColumns: id");
    my $h  = $central->query("GET hosts\nColumns: name");
    return (scalar @$dt, scalar @$cm, scalar @$h);
}

# ---- the host key is checked -----------------------------------------------------------------
{
    my @bad = map { $_ eq "UserKnownHostsFile=$d/ssh/known_hosts" ? "UserKnownHostsFile=$d/ssh/empty_known_hosts" : $_ } @SSH;
    spew("$d/ssh/empty_known_hosts", '');
    $r = run([@bad, $DEST, 'siteload', '-'], timeout => 30);
    is($r->{rc}, 255, 'an unknown host key: ssh refuses to connect (StrictHostKeyChecking)') or diag $r->{err};
}

# ---- config + state through ssh ----------------------------------------------------------------
$r = pipe_bundle('siteload -');
is($r->{rc}, 0, 'sitedump --all -o - | ssh central siteload -: exit 0') or diag $r->{err}, slurp($SSHD{log});
like($r->{err}, qr/5 hosts owned, 0 refused, config file written/, 'the central siteload wrote the config (stderr comes back)');
unlike($r->{err}, qr/ignoring the command/, '"siteload -" is the expected command: nothing logged');
ok(-f "$d/cfg/sitedump-alpha.conf", 'sitedump-alpha.conf written on the central');
like(slurp($SSHD{log}) // '', qr/Accepted publickey for \Q$USER\E from 127\.0\.0\.1/, 'sshd accepted the key');
$r = diff_central();
is($r->{rc}, 0, 'sitediff remote vs central: exit 0') or diag $r->{out}, $r->{err};
like($r->{out}, qr/0 differences \(5 hosts, 12 services compared\)/, 'the central mirrors the remote: 0 differences');
my $link = $central->query_hash("GET services\nColumns: plugin_output\nFilter: host_name = sitedump-alpha");
like($link->[0]{plugin_output} // '', qr/^OK - sitedump: bundle \d+ \(both\) of site alpha/, 'link service: OK with the ssh bundle');
my $imported = slurp("$d/state/alpha.imported");
ok(defined $imported, 'alpha.imported recorded');

# ---- a state-only bundle, no command asked for -------------------------------------------------------
my $ts = time - 2;
$rem->command("ADD_HOST_COMMENT;gw;1;sshuser;arrived through ssh", $ts);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = sshuser") } }, 20);
$r = pipe_bundle(undef, args => []);
is($r->{rc}, 0, 'state-only bundle through ssh (no command given): exit 0') or diag $r->{err};
like($r->{err}, qr/comments 1 added/, 'the new comment was sent');
my $cm = $central->query_hash("GET comments\nColumns: author comment\nFilter: author = sshuser");
is(scalar @$cm, 1, 'the remote\'s new comment is on the central');
$r = diff_central();
like($r->{out}, qr/^sitediff: 0 differences \(5 hosts, 12 services compared\)$/m, 'after the state bundle: 0 differences')
    or diag $r->{out};
isnt(slurp("$d/state/alpha.imported"), $imported, 'a newer sequence recorded');
$imported = slurp("$d/state/alpha.imported");

# the same state bundle again through ssh is refused, and ssh carries siteload's exit 1 back
$r = run(['bash', '-o', 'pipefail', '-c', join(' ', map { q_sh($_) } $SITEDUMP, '-k', "$d/alpha.key", '--site', 'alpha',
          '--state-dir', "$d/sdstate", '-s', $RLS, '-o', "$d/again") . " && $SSH_SH siteload - < " . q_sh("$d/again")
          . " && $SSH_SH siteload - < " . q_sh("$d/again")]);
is($r->{rc}, 1, 'the same bundle twice: the second is refused and ssh exits 1 (siteload\'s status)');
like($r->{err}, qr/refused: not newer than the last imported sequence/, 'refused as not newer');
$imported = slurp("$d/state/alpha.imported");

# ---- the key is pinned to alpha -------------------------------------------------------------------
my @before = counts();
for my $cmd (undef, 'siteload -', 'siteload --site beta -', "$SITELOAD --trust $d/trust --site beta -") {
    my $what = defined $cmd ? "asking for '$cmd'" : 'no command';
    $r = pipe_bundle($cmd, key => 'beta', site => 'beta');
    is($r->{rc}, 1, "beta's bundle with alpha's ssh key, $what: exit 1") or diag $r->{err};
    like($r->{err}, qr/bundle of site 'beta' refused: this key may only load site 'alpha'/, "$what: refused by the pin");
    if (defined $cmd && $cmd ne 'siteload -') {
        like($r->{err}, qr/sitedump-ssh-receive: site alpha: ignoring the command the client asked for \(\Q$cmd\E\)/,
             "$what: the command asked for is logged and ignored");
    }
}
is_deeply([counts()], \@before, 'beta: no host, downtime or comment on the central');
ok(!-e "$d/cfg/sitedump-beta.conf", 'beta: no config file written');
my @beta_state = glob("$d/state/beta.*");
is_deeply(\@beta_state, [], 'beta: nothing in the state dir (no sequence, hosts, ledger)');
is(scalar @{ $central->query("GET hosts\nColumns: name\nFilter: name = sitedump-beta") }, 0, 'beta: no link host');
is(slurp("$d/state/alpha.imported"), $imported, 'alpha\'s sequence untouched');
is(diff_central()->{rc}, 0, 'alpha still mirrored: 0 differences');

# ---- other commands: the forced command runs instead -------------------------------------------------
for my $cmd ('cat /etc/passwd', 'id', 'sh -c "echo pwned > ' . "$d/pwned" . '"', 'siteload verify -p x -') {
    $r = run([@SSH, $DEST, $cmd], timeout => 60);
    isnt($r->{rc}, 0, "'$cmd': non-zero exit (stdin is no bundle)");
    isnt($r->{rc}, 255, "'$cmd': that exit status is siteload's, not an ssh failure") or diag $r->{err};
    is($r->{out}, '', "'$cmd': nothing on stdout (no /etc/passwd, no id)");
    note "'$cmd' -> exit $r->{rc}: $r->{err}";
    like($r->{err}, qr/ignoring the command the client asked for/, "'$cmd': logged as ignored");
    like($r->{err}, qr/^siteload: /m, "'$cmd': siteload import ran instead") or diag $r->{err};
}
ok(!-e "$d/pwned", 'no shell command ran');

# ---- restrict: no pty, no port forwarding ---------------------------------------------------------------
$r = run([@SSH, '-tt', $DEST, 'siteload', '-'], timeout => 60);
like($r->{err}, qr/PTY allocation request failed/, 'restrict: no pty');

my $rport = free_port();
$r = run([@SSH, '-N', '-o', 'ExitOnForwardFailure=yes', '-R', "127.0.0.1:$rport:127.0.0.1:$SSHD{port}", $DEST], timeout => 30);
is($r->{rc}, 255, 'restrict: remote port forwarding refused (ssh -R exits 255)') or diag $r->{err};
like($r->{err}, qr/remote port forwarding failed/i, 'ssh -R: "remote port forwarding failed"');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $rport, Timeout => 2), 'nothing listens on the -R port');

{
    my $lport = free_port();
    my $errf = "$d/ssh/L.err";
    my $pid = fork() // die;
    if (!$pid) {
        setsid();
        open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', $errf);
        { no warnings "exec"; exec(@SSH, "-N", "-L", "127.0.0.1:$lport:127.0.0.1:$SSHD{port}", $DEST); }
        _exit(127);
    }
    my $sock = wait_for(sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $lport, Timeout => 2) }, 20);
    ok($sock, 'ssh -L: the client listens locally');
    my $got = '';
    if ($sock) {
        my $sel = IO::Select->new($sock);
        my $deadline = time + 5;
        while (time < $deadline && $sel->can_read(0.5)) {
            my $n = sysread($sock, my $buf, 4096);
            last unless $n;
            $got .= $buf;
        }
        close $sock;
    }
    unlike($got, qr/^SSH-2\.0-/, 'restrict: a connection through -L does not reach the target (no sshd banner)');
    kill 'TERM', -$pid;
    waitpid($pid, 0);
    ok(wait_for(sub { (slurp($SSHD{log}) // '') =~ /refused local port forward/ }, 10), 'sshd log: "refused local port forward"');
}

# ---- the receiving script's own checks (run directly) ----------------------------------------------------
$r = run([$RECEIVE, 'bad/site', $CONF]);
is($r->{rc}, 2, 'a bad site name in authorized_keys: exit 2');
like($r->{err}, qr/bad site name/, 'bad site name reported');
$r = run([$RECEIVE, '.hidden', $CONF]);
is($r->{rc}, 2, 'a site name starting with a dot: exit 2');
spew("$d/loose.conf", slurp($CONF));
chmod 0666, "$d/loose.conf";
$r = run([$RECEIVE, 'alpha', "$d/loose.conf"]);
is($r->{rc}, 2, 'a config file others may write: refused, exit 2');
like($r->{err}, qr/writable by no one else: its commands run as this user/, 'the config file mode is named');
# a site key in the file loses to authorized_keys' site: beta's bundle is still refused
spew("$d/site.conf", slurp($CONF) . "site = beta\n");
chmod 0644, "$d/site.conf";
$r = run([$SITEDUMP, '-k', "$d/beta.key", '--site', 'beta', '--state-dir', "$d/sdstate", '-s', $RLS, '-o', "$d/beta-bundle"]);
is($r->{rc}, 0, 'a state bundle of beta') or diag $r->{err};
$r = run(['sh', '-c', 'exec "$@" < "$0"', "$d/beta-bundle", $RECEIVE, 'alpha', "$d/site.conf", $SITELOAD]);
is($r->{rc}, 1, 'site = beta in the config file: beta\'s bundle through alpha\'s key still refused, exit 1') or diag $r->{err};
like($r->{err}, qr/bundle of site 'beta' refused: this key may only load site 'alpha'/, '... by the pin from authorized_keys');
is_deeply([glob("$d/state/beta.*")], [], 'beta: still nothing in the state dir');
# the shell form of earlier versions is named as such
spew("$d/old.conf", qq{SITELOAD_ARGS="--trust $d/trust"\n});
chmod 0644, "$d/old.conf";
$r = run([$RECEIVE, 'alpha', "$d/old.conf", $SITELOAD]);
is($r->{rc}, 2, 'a config file in the old shell form: exit 2');
like($r->{err}, qr/SITELOAD_ARGS is the old shell form: write each option as an INI key/, '... named as such');
$r = run([$RECEIVE, 'alpha', "$d/missing.conf"]);
is($r->{rc}, 2, 'a missing config file: exit 2');

# ---- stop sshd: none of ours survives -------------------------------------------------------------------
my $conf = $SSHD{conf};
my $spid = $SSHD{pid};
stop_sshd();
ok(pid_gone($spid), 'the sshd listener is gone');
is_deeply([sshd_pids($spid)], [], 'no descendant of it is left');
is_deeply([procs_with_conf($conf)], [], 'no process runs with the private sshd config');

done_testing;
