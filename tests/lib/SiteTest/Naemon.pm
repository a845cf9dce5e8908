package SiteTest::Naemon;
#
# Private Naemon instances for sitedump's tests, in the style of SiteTest's nagios_start: a temp
# dir with every path private (objects, status.dat, objects.cache, command FIFO, checkresult
# spool, query socket) and the naemon-livestatus socket DIR/live.
#
# Naemon is built from the vendor tarballs by scripts/build-naemon into a cache outside the tree
# (docs/hacking.md "Naemon in the tests"); naemon_prefix() finds it, and returns undef when
# there is none, so a test can skip.
#
# Why an unprivileged user: naemon refuses to run as root (without --allow-root, which the tests
# do not use so that they see what a real site does). When the tests run as root the daemon runs
# as SITETEST_NAEMON_USER (default nobody) and its dir is chowned to that user; the test process
# (root) still writes the FIFO and the spool and reads every file. Files the daemon must read
# are in its dir, so a caller's other dirs (tempdir makes them 0700) need not be opened up.
# Otherwise it runs as the test's own user.
#
# The daemon runs in the foreground (no -d) in a session of its own, our direct child, so an
# early exit is seen at once; stop(), END, the signal handlers and the guardian process of
# SiteTest kill it like the other cores.
#
use strict;
use warnings;
use Carp qw(croak);
use File::Find ();
use File::Path qw(remove_tree);
use POSIX qw(WNOHANG _exit setsid);
use Time::HiRes qw(time sleep);
use SiteTest ();

use Exporter 'import';
our @EXPORT = qw(naemon_start naemon_prefix);

our $USER = $ENV{SITETEST_NAEMON_USER} // 'nobody';
my %PREFIX;     # build => 0|1 -> [prefix, why], asked once per test file

$Carp::Internal{$_}++ for qw(SiteTest::Naemon SiteTest::Naemon::Instance);

# naemon_prefix(build => 0) -> PREFIX, or undef; in list context (PREFIX, WHY).
# SITETEST_NAEMON_PREFIX overrides. Otherwise scripts/build-naemon --print; with build => 1 a
# missing build is made (4 to 7 minutes on 2 cores, once per machine). WHY says why there is none:
# no vendor tarballs (build-naemon exit 3), not built, or the build's error.
sub naemon_prefix {
    my (%o) = @_;
    my $build = $o{build} ? 1 : 0;
    my $r = $PREFIX{$build} //= _find_prefix($build);
    return wantarray ? @$r : $r->[0];
}

sub _find_prefix {
    my ($build) = @_;
    if (my $p = $ENV{SITETEST_NAEMON_PREFIX}) {
        return -x "$p/bin/naemon" ? [$p, ''] : [undef, "SITETEST_NAEMON_PREFIX=$p has no bin/naemon"];
    }
    my $script = SiteTest::repo_root() . '/scripts/build-naemon';
    my $r = SiteTest::run_cmd([$script, '--print'], timeout => 60);
    my ($p) = $r->{out} =~ /^(\S.*)$/m;
    return [$p, ''] if $r->{rc} == 0 && $p;
    my $why = $r->{err} =~ s/\s+\z//r;
    return [undef, $why] if $r->{rc} == 3 || !$build;
    $r = SiteTest::run_cmd([$script], timeout => 3600);
    ($p) = $r->{out} =~ /^(\S.*)$/m;
    return [$p, ''] if $r->{rc} == 0 && $p;
    return [undef, "scripts/build-naemon failed (exit $r->{rc}; scripts/install-deps installs its "
                 . "build dependencies):\n$r->{err}"];
}

# The uid and gid the daemon runs as: $USER when we are root, else our own.
sub _ids {
    return ($<, (split " ", $()[0]) if $< != 0;
    my ($uid, $gid) = (getpwnam($USER))[2, 3];
    croak "SiteTest::Naemon: no user '$USER' (SITETEST_NAEMON_USER) to run naemon as" unless defined $uid;
    croak "SiteTest::Naemon: SITETEST_NAEMON_USER=$USER is root; naemon refuses root" if $uid == 0;
    return ($uid, $gid);
}

sub _chown_tree {
    my ($dir, $uid, $gid) = @_;
    File::Find::find({ no_chdir => 1, wanted => sub { chown($uid, $gid, $_) or croak "chown $_: $!" } }, $dir);
}

# Runs $argv as ($uid, $gid) in the child (after fork): setsid, groups, gid, uid, exec.
sub _exec_as {
    my ($uid, $gid, $argv, $console) = @_;
    setsid();
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', $console);
    open(STDERR, '>&', \*STDOUT);
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT ALRM PIPE);
    if ($< == 0) {
        $) = "$gid $gid";               # egid and the supplementary groups: only $gid
        POSIX::setgid($gid) or do { print STDERR "setgid $gid: $!\n"; _exit(126) };
        POSIX::setuid($uid) or do { print STDERR "setuid $uid: $!\n"; _exit(126) };
        if ($< != $uid || $> != $uid) { print STDERR "could not drop to uid $uid\n"; _exit(126) }
    }
    { exec { $argv->[0] } @$argv };
    print STDERR "exec $argv->[0]: $!\n";
    _exit(127);
}

# naemon_start(objects => TEXT | [TEXT, ...], extra_cfg => {...}, base => 1, name => NAME,
#              debug => 0, timeout => 30, prefix => PREFIX)
# The nagios.cfg of SiteTest's nagios_start (same defaults: passive only, nothing runs by
# itself), without its nagios_user/nagios_group (obsolete in Naemon) and with the Livestatus
# broker module. Object files given as paths must be readable by the daemon's user.
sub naemon_start {
    my (%o) = @_;
    my $prefix = $o{prefix} // naemon_prefix() // croak 'naemon_start: naemon not built (naemon_prefix)';
    my ($uid, $gid) = _ids();
    my $dir = SiteTest::_newdir('naemon', $o{name});
    my $live = "$dir/live";
    my $p = SiteTest::_nagios_cfg($dir, $o{objects}, base => $o{base}, debug => $o{debug}, extra_cfg => {
        nagios_user          => undef,
        nagios_group         => undef,
        log_rotation_method  => undef,
        event_broker_options => -1,
        broker_module        => "$prefix/lib/naemon-livestatus/livestatus.so $live",
        %{ $o{extra_cfg} || {} },
    });
    my $self = bless { %$p, owner => $$, kind => 'naemon', name => $o{name} // 'naemon', prefix => $prefix,
                       naemon => "$prefix/bin/naemon", livestatus => $live, console => "$dir/console.log",
                       uid => $uid, gid => $gid },
        'SiteTest::Naemon::Instance';
    my $fail = sub {
        my ($msg) = @_;
        $msg .= "\n--- $self->{console}:\n" . SiteTest::_tail($self->{console}, 20)
              . "\n--- $p->{log}:\n" . SiteTest::_tail($p->{log}, 30);
        if ($self->{sid}) { eval { $self->stop } } else { remove_tree($dir) unless $SiteTest::KEEP }
        croak $msg;
    };
    chmod 0755, $dir;
    _chown_tree($dir, $uid, $gid);
    my ($vrc, $vout) = $self->validate;
    if ($vrc != 0) {
        my @err = grep { /Error|Warning/ } split /\n/, $vout;
        $fail->("naemon --verify-config $p->{cfg} failed ($vrc):\n" . join("\n", @err ? @err : $vout));
    }
    my $pid = fork() // croak "fork: $!";
    _exec_as($uid, $gid, [$self->{naemon}, $p->{cfg}], $self->{console}) unless $pid;
    @$self{qw(pid sid child)} = ($pid, $pid, $pid);
    SiteTest::_register($self);
    $self->_start_guardian_;
    SiteTest::_dbg("naemon pid $pid (uid $uid) in $dir");

    my $timeout = $o{timeout} // $SiteTest::START_TIMEOUT;
    my $deadline = time + $timeout;
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{child};
            $fail->('naemon exited with status ' . ($? >> 8));
        }
        last if -p $p->{command_file} && -S $live && eval {
            my $rows = SiteTest::livestatus_query($live, "GET status\nColumns: nagios_pid", timeout => 5);
            ($rows->[0][0] // 0) == $pid;
        } && eval { (SiteTest::parse_status_dat($p->{status_file})->{programstatus}{nagios_pid} // 0) == $pid };
        $fail->("naemon (pid $pid) did not answer GET status and write status.dat within ${timeout}s")
            if time > $deadline;
        sleep 0.1;
    }
    SiteTest::_dbg(sprintf 'naemon ready after %.1fs', $timeout - ($deadline - time));
    return $self;
}

# ---------------------------------------------------------------------------------------------

package SiteTest::Naemon::Instance;
use strict;
use warnings;
use Carp qw(croak);
use IO::Select;
use Time::HiRes qw(time);
our @ISA = ('SiteTest::Nagios4');      # command() (FIFO), submit_checkresult, status, objects, stop ...

sub livestatus { $_[0]{livestatus} }
sub socket     { $_[0]{livestatus} }

# query($request) -> rows (arrays); query_hash($request) -> rows as hashes (needs Columns:)
sub query      { my ($self, $req, %o) = @_; SiteTest::livestatus_query($self->{livestatus}, $req, %o) }
sub query_hash { SiteTest::Icinga2::query_hash(@_) }

# ls_command($cmd, $ts): COMMAND [ts] CMD through Livestatus. naemon-livestatus answers a
# command that succeeds with nothing at all, and reads any header after it as a request of its
# own, so the request is the COMMAND line alone and the answer (if any) is returned: '' when
# accepted, the "400: ..." text when the core refused it.
sub ls_command {
    my ($self, $cmd, $ts) = @_;
    $ts //= int(Time::HiRes::time());
    croak "command contains a line break: $cmd" if $cmd =~ /[\r\n]/;
    my $s = SiteTest::_ls_connect($self->{livestatus}, 10);
    SiteTest::_ls_write($s, SiteTest::_bytes("COMMAND [$ts] $cmd\n\n"), 10);
    shutdown($s, 1);
    my ($buf, $sel) = ('', IO::Select->new($s));
    my $deadline = time + 10;
    while (time < $deadline) {
        next unless $sel->can_read(0.5);
        my $n = sysread($s, $buf, 4096, length $buf);
        last unless $n;
    }
    close $s;
    return $buf;
}

# validate() -> (exit code, output) of naemon --verify-config on the config as it is now, run
# as the daemon's user (it refuses root)
sub validate {
    my ($self, %o) = @_;
    my ($uid, $gid) = @$self{qw(uid gid)};
    my $out = "$self->{dir}/verify.out";
    unlink $out;
    my $pid = fork() // croak "fork: $!";
    SiteTest::Naemon::_exec_as($uid, $gid, [$self->{naemon}, '--verify-config', $self->{cfg}], $out) unless $pid;
    my $ok = SiteTest::wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, $o{timeout} // 60, 0.05);
    if (!$ok) { kill 'KILL', -$pid; waitpid($pid, 0); return (124, "naemon --verify-config timed out\n") }
    my $rc = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
    my $text = SiteTest::slurp($out) // '';
    unlink $out;
    return ($rc, $text);
}

# validate_command(): the same as one shell command line (e.g. for siteload --check-command)
sub validate_command {
    my ($self) = @_;
    my $v = "$self->{naemon} --verify-config $self->{cfg}";
    return $< == 0 ? "runuser -u " . getpwuid($self->{uid}) . " -- $v" : $v;
}

sub log_text { SiteTest::slurp($_[0]{log}) }

1;

__END__

=head1 NAME

SiteTest::Naemon - private Naemon (with naemon-livestatus) instances for sitedump's tests

=head1 SYNOPSIS

  use SiteTest;
  use SiteTest::Naemon;
  my ($prefix, $why) = naemon_prefix(build => 1);
  plan skip_all => "naemon not built: run scripts/build-naemon ($why)" unless $prefix;
  my $nm = naemon_start(objects => $cfg_text);
  my $rows = $nm->query("GET status\nColumns: program_version livestatus_version");
  $nm->command("PROCESS_SERVICE_CHECK_RESULT;h;s;0;OK");     # FIFO
  $nm->submit_checkresult($text);                             # check_result_path
  $nm->stop;

=head1 FUNCTIONS

=over

=item naemon_prefix(build => 0)

The install prefix of the Naemon built by C<scripts/build-naemon>, or undef (list context:
C<(PREFIX, WHY)>). C<build =E<gt> 1> builds it when the vendor tarballs are there but the cache
is not (once per machine, minutes: call it before C<guard>). C<SITETEST_NAEMON_PREFIX> overrides.

=item naemon_start(objects => TEXT | [TEXT, ...], extra_cfg => {...}, base => 1, name => NAME, debug => 0, timeout => 30)

The config of C<nagios_start> (see SiteTest) with the Livestatus module at C<DIR/live>, run in
the foreground as C<SITETEST_NAEMON_USER> (default nobody) when the tests run as root, the dir
chowned to that user; validated with C<naemon --verify-config> first. Returns once Livestatus
answers C<GET status> with the daemon's pid and status.dat is written. Handle keys: those of
C<nagios_start> plus C<livestatus prefix console uid gid>; methods those of a Nagios 4 handle
(C<command> through the FIFO, C<submit_checkresult>, C<status>, C<wait_status>, C<objects>,
C<log_text>, C<stop>) plus C<query>, C<query_hash>, C<ls_command> (a Livestatus COMMAND; returns
the core's answer, '' when accepted), C<validate>, C<validate_command>.

=back

=cut
