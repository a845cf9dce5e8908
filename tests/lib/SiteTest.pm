package SiteTest;
#
# Integration-test harness for sitedump: private Icinga 2 and Nagios 4 instances in temp dirs,
# a Livestatus client, a status.dat / objects.cache parser, and a "remote site" fixture.
# Core Perl only.
#
# Every daemon started here is killed (TERM, then KILL) and its temp dir removed
#   - by stop(),
#   - in an END block (normal exit, die),
#   - on SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGALRM (unless the test installed its own handler),
#   - by a guardian process (own session) if the test script vanishes without running END
#     (SIGKILL, SIGPIPE, ...).
# SITETEST_KEEP=1 keeps the temp dirs (daemons are still stopped).
# SITETEST_DEBUG=1 prints progress diagnostics to STDERR.
#
use strict;
use warnings;
use utf8;
use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EINTR EAGAIN ENOENT ESRCH);
use Fcntl qw(O_WRONLY O_NONBLOCK O_CREAT O_EXCL);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::UNIX;
use JSON::PP;
use POSIX qw(WNOHANG _exit setsid);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);
use Encode ();

use Exporter 'import';
our @EXPORT = qw(icinga2_start nagios_start nagios_verify remote_fixture
                 parse_status_dat parse_objects_cache wait_for run_cmd repo_root sitedump_bin
                 write_checkresult pid_gone snapshot_object snapshot_json
                 run run_defaults guard);
our @EXPORT_OK = qw(slurp spew livestatus_query livestatus_command nagios_base_objects
                    unescape_long_output session_pids guard_scale sanitized_build);

our $ICINGA2    = $ENV{SITETEST_ICINGA2} // '/usr/sbin/icinga2';
our $NAGIOS4    = $ENV{SITETEST_NAGIOS4} // '/usr/sbin/nagios4';
our $START_TIMEOUT = $ENV{SITETEST_START_TIMEOUT} // 30;   # seconds, per daemon start
our $STOP_TIMEOUT  = 10;                                     # TERM -> KILL after this
our $KEEP  = $ENV{SITETEST_KEEP} ? 1 : 0;
our $DEBUG = $ENV{SITETEST_DEBUG} ? 1 : 0;
$Carp::Internal{$_}++ for qw(SiteTest SiteTest::Instance SiteTest::Icinga2 SiteTest::Nagios4);

my $OWNER; BEGIN { $OWNER = $$ }   # only this process cleans up (not forked children)
my %LIVE;                # "$obj" => instance object, every daemon not yet stopped
my @TEMPDIRS;            # other temp dirs (nagios_verify, ...) to remove at the end

sub _dbg { print STDERR "# [SiteTest] @_\n" if $DEBUG }

# ---------------------------------------------------------------------------------------
# small helpers

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $d = <$fh>;
    close $fh;
    return $d // '';
}

sub spew {
    my ($path, $data) = @_;
    $data = Encode::encode('UTF-8', $data) if utf8::is_utf8($data);
    open(my $fh, '>:raw', $path) or croak "open $path: $!";
    print $fh $data or croak "write $path: $!";
    close $fh or croak "close $path: $!";
    return $path;
}

sub _bytes {
    my ($s) = @_;
    return $s unless defined $s && utf8::is_utf8($s);
    return Encode::encode('UTF-8', $s);
}

sub _tail {
    my ($path, $n) = @_;
    $n //= 30;
    my $d = slurp($path);
    return "($path: missing)" unless defined $d;
    my @l = split /\n/, $d;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", map { "    $_" } @l);
}

# Poll $cond every $interval seconds until it returns true (returns that value) or $timeout
# seconds have passed (returns undef).
sub wait_for {
    my ($cond, $timeout, $interval) = @_;
    $timeout  //= 30;
    $interval //= 0.2;
    my $deadline = time + $timeout;
    while (1) {
        my $r = eval { $cond->() };
        return $r if $r;
        return undef if time > $deadline;
        sleep $interval;
    }
}

# A process that has ended: gone from /proc, or a zombie that its parent (init, for a
# daemon's orphaned worker) has yet to reap; kill(0, PID) still succeeds on a zombie.
# Waits up to $timeout seconds (default 10). 1 or undef.
sub pid_gone {
    my ($pid, $timeout) = @_;
    return undef unless defined $pid && $pid =~ /^\d+$/;
    return wait_for(sub {
        open(my $fh, '<', "/proc/$pid/stat") or return 1;
        my $l = <$fh> // return 1;
        $l =~ s/^.*\)\s+//s;
        return $l =~ /^[ZX]/ ? 1 : 0;
    }, $timeout // 10, 0.05);
}

sub repo_root {
    my $here = abs_path(__FILE__);
    $here =~ s{/tests/lib/SiteTest\.pm$}{};
    return $here;
}

sub sitedump_bin { return $ENV{SITEDUMP} // repo_root() . '/sitedump' }

# run_cmd(\@argv, stdin => $text, timeout => $s, env => {...})
# -> { rc => exit code (or 128+signal), out => stdout bytes, err => stderr bytes, timed_out => 0/1 }
sub run_cmd {
    my ($argv, %o) = @_;
    my $timeout = $o{timeout} // 60;
    my $dir = tempdir('sitetest-run-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    my ($in, $out, $err) = map { "$dir/$_" } qw(in out err);
    spew($in, $o{stdin} // '');
    my $pid = fork() // croak "fork: $!";
    if (!$pid) {
        eval {
            setpgrp(0, 0);
            $ENV{$_} = $o{env}{$_} for keys %{ $o{env} || {} };
            open(STDIN, '<', $in)   or die;
            open(STDOUT, '>', $out) or die;
            open(STDERR, '>', $err) or die;
            exec { $argv->[0] } @$argv;
        };
        print STDERR "exec $argv->[0]: $!\n";
        _exit(127);
    }
    my $deadline = time + $timeout;
    my $timed_out = 0;
    my $st;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) { $st = $?; last }
        if (time > $deadline) {
            $timed_out = 1;
            kill 'KILL', -$pid;
            waitpid($pid, 0);
            $st = $?;
            last;
        }
        sleep 0.02;
    }
    my %r = (
        rc        => ($st & 127) ? 128 + ($st & 127) : $st >> 8,
        out       => slurp($out),
        err       => slurp($err),
        timed_out => $timed_out,
    );
    remove_tree($dir);
    return \%r;
}

# run(\@argv, %o): run_cmd with the test file's defaults (run_defaults; timeout 180 s unless
# set) and the options given (env merged over the defaults' env). The result has run_cmd's
# keys and cpu: the user + system CPU seconds of the command (its waited-for processes).
my %RUN_DEFAULTS = (timeout => 180);
sub run_defaults {
    my (%o) = @_;
    %RUN_DEFAULTS = (%RUN_DEFAULTS, %o);
    return %RUN_DEFAULTS;
}
sub run {
    my ($argv, %o) = @_;
    my %env = (%{ $RUN_DEFAULTS{env} || {} }, %{ $o{env} || {} });
    my @t0 = times;
    my $r = run_cmd($argv, %RUN_DEFAULTS, %o, env => \%env);
    my @t1 = times;
    $r->{cpu} = ($t1[2] + $t1[3]) - ($t0[2] + $t0[3]);
    return $r;
}

# A sanitized build (make SANITIZE=1: ASan/UBSan) of the binaries the tests run: their
# dynamic symbols name __asan_init / __ubsan_handle_* (read from the file, no binutils).
my $SANITIZED;
sub sanitized_build {
    return $SANITIZED if defined $SANITIZED;
    $SANITIZED = 0;
    for my $bin (sitedump_bin(), repo_root() . '/siteload') {
        my $d = slurp($bin) // next;
        if ($d =~ /\0__(?:asan_init|ubsan_handle_)/) { $SANITIZED = 1; last }
    }
    return $SANITIZED;
}

sub _ncpu {
    my $n = 0;
    if (open(my $fh, '<', '/proc/cpuinfo')) { $n = grep { /^processor\s*:/ } <$fh>; close $fh }
    return $n || 1;
}
sub _loadavg {
    open(my $fh, '<', '/proc/loadavg') or return 0;
    my ($l) = split ' ', (<$fh> // '0');
    close $fh;
    return $l // 0;
}

# The factor for hang guards: x3 for a sanitized build, x2 when the 1-minute load average is
# above the number of CPUs, times SITETEST_GUARD_SCALE if set (e.g. 2 under valgrind).
sub guard_scale {
    my $f = 1;
    $f *= 3 if sanitized_build();
    $f *= 2 if _loadavg() > _ncpu();
    $f *= $ENV{SITETEST_GUARD_SCALE} if ($ENV{SITETEST_GUARD_SCALE} // '') =~ /^\d+(?:\.\d+)?$/ && $ENV{SITETEST_GUARD_SCALE} > 0;
    return $f;
}

# guard(SECONDS): a wall-clock hang guard, not a timing check: alarm(SECONDS x guard_scale()).
# SIGALRM stops the daemons and ends the test (the handler below). Returns the seconds set.
sub guard {
    my ($s) = @_;
    croak 'guard(SECONDS)' unless defined $s && $s > 0;
    my $t = int($s * guard_scale() + 0.5);
    _dbg("guard: alarm $t (${s}s x " . guard_scale() . ')');
    alarm $t;
    return $t;
}

sub _mkdirs { make_path(@_, { mode => 0755 }) }

sub _newdir {
    my ($kind, $name) = @_;
    $name //= $kind;
    $name =~ s/[^A-Za-z0-9_.-]+/_/g;
    # short names: unix socket paths are limited to 107 bytes
    my $d = tempdir("st-$name-XXXXXX", TMPDIR => 1, CLEANUP => 0);
    return abs_path($d);
}

# ---------------------------------------------------------------------------------------
# process bookkeeping

# pids of all processes in session $sid (from /proc), excluding zombies.
sub _session_pids {
    my ($sid) = @_;
    return () unless $sid && $sid > 1;
    my @p;
    opendir(my $dh, '/proc') or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        open(my $fh, '<', "/proc/$pid/stat") or next;
        my $l = <$fh> // next;
        close $fh;
        $l =~ s/^.*\)\s+//s;                        # after "pid (comm) "
        my ($state, $ppid, $pgrp, $session) = split / /, $l;
        next if !defined $session || $state eq 'Z';
        push @p, $pid if $session == $sid;
    }
    closedir $dh;
    return @p;
}

sub session_pids { _session_pids(@_) }

sub _group_alive {
    my ($sid) = @_;
    return scalar(_session_pids($sid)) ? 1 : 0;
}

# Stop a daemon whose processes all live in session $sid (the daemon's main pid): TERM the
# main pid, wait up to $STOP_TIMEOUT for the whole session to exit, then KILL every process
# left in it. $child (optional) is our direct child and is reaped. Returns 1 when all are gone.
sub _kill_group {
    my ($sid, $child) = @_;
    return 1 unless $sid && $sid > 1;
    kill 'TERM', $sid;
    my $deadline = time + $STOP_TIMEOUT;
    my $killed = 0;
    while (1) {
        waitpid($child, WNOHANG) if $child;
        my @left = _session_pids($sid);
        return 1 unless @left;
        if (time > $deadline) {
            return 0 if $killed && time > $deadline + 5;
            if (!$killed || time > $killed + 1) {
                _dbg("session $sid did not stop on TERM; KILL @left");
                kill 'KILL', @left;
                $killed = time;
            }
        }
        sleep 0.05;
    }
}

# The guardian: a child in a session of its own (so terminal signals to the test's process
# group do not reach it) that waits for the test script to vanish, then kills the daemon's
# session and removes its dir. stop() ends and reaps it.
sub _start_guardian {
    my ($self) = @_;
    my $parent = $$;
    my $sid    = $self->{sid};
    my $dir    = $self->{dir};
    my $keep   = $KEEP;
    my $pid = fork();
    return unless defined $pid;
    if ($pid) {
        $self->{guardian} = $pid;
        return;
    }
    # guardian
    setsid();
    $0 = "sitetest-guardian $sid";
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>', '/dev/null');
    open(STDERR, '>', '/dev/null');
    # do not hold prove's pipe (Test::Builder's dups) or other descriptors open
    if (opendir(my $dh, '/proc/self/fd')) {
        my @fds = grep { /^\d+$/ && $_ > 2 } readdir $dh;
        closedir $dh;
        POSIX::close($_) for @fds;
    }
    $SIG{$_} = 'DEFAULT' for qw(INT HUP QUIT ALRM PIPE);
    $SIG{TERM} = sub { _exit(0) };
    # the parent's death reparents us at once, even while it is still an unreaped zombie
    sleep 0.5 while getppid() == $parent;
    _kill_group($sid);
    remove_tree($dir) unless $keep;
    _exit(0);
}

sub _stop_guardian {
    my ($self) = @_;
    my $g = delete $self->{guardian} or return;
    kill 'TERM', $g;
    waitpid($g, 0);
}

sub _cleanup_all {
    return unless $$ == $OWNER;
    for my $k (keys %LIVE) {
        my $o = $LIVE{$k};
        eval { $o->stop; 1 } or print STDERR "# SiteTest cleanup: $@";
    }
    if (!$KEEP) {
        remove_tree($_) for grep { -d } @TEMPDIRS;
    }
    @TEMPDIRS = ();
}

END {
    local ($?, $!, $@);
    _cleanup_all();
}

for my $sig (qw(INT TERM HUP QUIT ALRM)) {
    my $cur = $SIG{$sig};
    next if defined $cur && $cur ne '' && $cur ne 'DEFAULT';
    $SIG{$sig} = sub {
        print STDERR "# SiteTest: caught SIG$sig, stopping daemons\n" if $sig ne 'TERM' || $DEBUG;
        _cleanup_all();
        # die of the same signal (the handler runs with it blocked: unblock first)
        $SIG{$sig} = 'DEFAULT';
        my $num = eval "POSIX::SIG$sig()";
        POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), POSIX::SigSet->new($num)) if $num;
        kill $sig, $$;
        sleep 1;
        POSIX::_exit(128 + ($num || 15));
    };
}

# ---------------------------------------------------------------------------------------
# status.dat / objects.cache parsing (independent of the C code)

# Parses a Nagios-format status.dat (Nagios 4 or Icinga 2's StatusDataWriter).
# Returns { info => {...}, programstatus => {...}, hosts => { NAME => {...} },
#           services => { HOST => { DESC => {...} } }, contacts => { NAME => {...} },
#           comments => [ {...,_type=>'hostcomment'|'servicecomment'} ],
#           downtimes => [ {..., _type=>'hostdowntime'|'servicedowntime'} ],
#           blocks => [ [type, {...}] ... ] }  or undef if the file is missing.
# Values are decoded from UTF-8 (invalid bytes become U+FFFD) unless raw => 1; they are not
# unescaped (long_plugin_output keeps its \n and \\ escapes; see unescape_long_output).
sub parse_status_dat {
    my ($path, %o) = @_;
    my $data = slurp($path);
    return undef unless defined $data;
    $data = Encode::decode('UTF-8', $data, Encode::FB_DEFAULT) unless $o{raw};
    my %st = (info => {}, programstatus => {}, hosts => {}, services => {}, contacts => {},
              comments => [], downtimes => [], blocks => []);
    my ($type, $cur);
    my $complete = 0;
    for my $line (split /\n/, $data) {
        if (!defined $type) {
            next if $line =~ /^\s*(#|$)/;
            if ($line =~ /^(\w+) \{\s*$/) { $type = $1; $cur = {}; next }
            croak "$path: unexpected line outside a block: $line";
        }
        if ($line =~ /^\s*\}\s*$/) {
            push @{ $st{blocks} }, [$type, $cur];
            if    ($type eq 'info')          { $st{info} = $cur }
            elsif ($type eq 'programstatus') { $st{programstatus} = $cur }
            elsif ($type eq 'hoststatus')    { $st{hosts}{ $cur->{host_name} } = $cur }
            elsif ($type eq 'servicestatus') {
                $st{services}{ $cur->{host_name} }{ $cur->{service_description} } = $cur;
            }
            elsif ($type eq 'contactstatus') { $st{contacts}{ $cur->{contact_name} } = $cur }
            elsif ($type =~ /comment$/)      { $cur->{_type} = $type; push @{ $st{comments} }, $cur }
            elsif ($type =~ /downtime$/)     { $cur->{_type} = $type; push @{ $st{downtimes} }, $cur }
            undef $type;
            next;
        }
        if ($line =~ /^\t([^=]*)=(.*)$/s) { $cur->{$1} = $2; next }
        croak "$path: unexpected line in block $type: $line";
    }
    croak "$path: truncated (inside block $type)" if defined $type;
    return \%st;
}

# Parses objects.cache (define TYPE {, \tKEY\tVALUE, \t}). Returns
# { host => { NAME => {...} }, service => { HOST => { DESC => {...} } },
#   TYPE => { TYPE_name => {...} } for others (command, contact, timeperiod, hostgroup, ...),
#   list => [ [type, {...}] ... ] }
sub parse_objects_cache {
    my ($path, %o) = @_;
    my $data = slurp($path);
    return undef unless defined $data;
    $data = Encode::decode('UTF-8', $data, Encode::FB_DEFAULT) unless $o{raw};
    my %oc = (list => []);
    my ($type, $cur);
    for my $line (split /\n/, $data) {
        if (!defined $type) {
            next if $line =~ /^\s*(#|$)/;
            if ($line =~ /^define (\w+) \{\s*$/) { $type = $1; $cur = {}; next }
            croak "$path: unexpected line outside a definition: $line";
        }
        next if $line eq '';             # Icinga: blank lines inside command definitions
        if ($line =~ /^\s*\}\s*$/) {      # Icinga: servicegroup blocks end in "}" without TAB
            push @{ $oc{list} }, [$type, $cur];
            if ($type eq 'service') {
                $oc{service}{ $cur->{host_name} // '' }{ $cur->{service_description} // '' } = $cur;
            } else {
                my $n = $cur->{"${type}_name"} // $cur->{name} // '';
                $oc{$type}{$n} = $cur;
            }
            undef $type;
            next;
        }
        if ($line =~ /^\t([^\t]+)\t(.*)$/s) { $cur->{$1} = $2; next }
        if ($line =~ /^\t([^\t]+)$/)       { $cur->{$1} = ''; next }
        croak "$path: unexpected line in $type: $line";
    }
    croak "$path: truncated (inside define $type)" if defined $type;
    return \%oc;
}

# status.dat long_plugin_output escapes: \n -> LF, \\ -> \ (Nagios); Icinga escapes only LF.
sub unescape_long_output {
    my ($s) = @_;
    return $s unless defined $s;
    $s =~ s/\\(n|\\)/$1 eq 'n' ? "\n" : "\\"/ge;
    return $s;
}

# ---------------------------------------------------------------------------------------
# crafted snapshot documents (input of sitedump --snapshot)

# One host or service object of a snapshot document: OK, hard, checked, not acknowledged,
# checked 100 s and changed 1000 s before `now` (default: the current time), every config
# field present and empty. %fields override or add (name, or host_name and description, ...).
sub snapshot_object {
    my (%o) = @_;
    my $now = delete $o{now} // int(time);
    return { state => 0, state_type => 1, current_attempt => 1, max_check_attempts => 3, has_been_checked => JSON::PP::true,
             plugin_output => 'OK', long_plugin_output => '', perf_data => '', last_check => $now - 100,
             last_state_change => $now - 1000, last_hard_state => 0, is_flapping => JSON::PP::false, latency => 0,
             execution_time => 0, check_type => 1, acknowledged => JSON::PP::false, acknowledgement_type => 0,
             alias => '', address => '', parents => [], groups => [], contacts => [], contact_groups => [],
             check_command => 'check_dummy', check_interval => 5, retry_interval => 1, notes => '', notes_url => '',
             action_url => '', icon_image => '', custom_variables => {}, %o };
}

# The JSON text (UTF-8 bytes) of an object with the top-level keys in the order given (a
# streaming reader needs format and version before the records: the writer's order); nested
# hashes with sorted keys.
my $SNAPSHOT_J = JSON::PP->new->utf8->canonical;
sub snapshot_json {
    croak "snapshot_json: odd number of arguments (KEY => VALUE pairs)" if @_ % 2;
    my @kv;
    for (my $i = 0; $i < @_; $i += 2) {
        push @kv, $SNAPSHOT_J->encode([$_[$i]]) =~ s/^\[|\]$//gr . ':' . $SNAPSHOT_J->encode([$_[$i + 1]]) =~ s/^\[|\]$//gr;
    }
    return '{' . join(',', @kv) . '}';
}

# ---------------------------------------------------------------------------------------
# Livestatus client (unix socket, fixed16, JSON)

sub _ls_connect {
    my ($socket, $timeout) = @_;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $socket, Timeout => $timeout)
        or croak "Livestatus connect $socket: $!";
    return $s;
}

sub _ls_write {
    my ($s, $data, $timeout) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s);
    while ($off < length $data) {
        croak "Livestatus write timeout" if time > $deadline;
        next unless $sel->can_write(0.5);
        my $n = syswrite($s, $data, length($data) - $off, $off);
        if (!defined $n) { next if $! == EINTR || $! == EAGAIN; croak "Livestatus write: $!" }
        $off += $n;
    }
}

sub _ls_read {
    my ($s, $len, $timeout) = @_;
    my $buf = '';
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s);
    while (length $buf < $len) {
        croak sprintf("Livestatus read timeout (%d of %d bytes)", length $buf, $len)
            if time > $deadline;
        next unless $sel->can_read(0.5);
        my $n = sysread($s, $buf, $len - length $buf, length $buf);
        if (!defined $n) { next if $! == EINTR || $! == EAGAIN; croak "Livestatus read: $!" }
        croak sprintf("Livestatus: connection closed after %d of %d bytes", length $buf, $len)
            if $n == 0;
    }
    return $buf;
}

# Raw request: sends $request (text lines, without the terminating blank line) plus
# ResponseHeader: fixed16, returns (code, body bytes).
sub _ls_request {
    my ($socket, $request, $timeout) = @_;
    $timeout //= 30;
    $request = _bytes($request);
    croak "Livestatus request must not contain an empty line" if $request =~ /\n\n./s;
    $request =~ s/\n+\z//;
    $request .= "\nResponseHeader: fixed16" unless $request =~ /^ResponseHeader:/mi;
    my $s = _ls_connect($socket, $timeout);
    _ls_write($s, "$request\n\n", $timeout);
    my $hdr = _ls_read($s, 16, $timeout);
    $hdr =~ /^(\d{3}) +(\d+)\n\z/ or croak "Livestatus: bad fixed16 header '$hdr'";
    my ($code, $len) = ($1, $2);
    my $body = $len ? _ls_read($s, $len, $timeout) : '';
    close $s;
    return ($code, $body);
}

my $JSON = JSON::PP->new->utf8->allow_nonref;

# livestatus_query($socket, $request) -> arrayref of rows (arrays), or with ColumnHeaders
# the first row is the header. Dies with the server's text on non-200.
sub livestatus_query {
    my ($socket, $request, %o) = @_;
    $request =~ s/\n+\z//;
    $request .= "\nOutputFormat: json" unless $request =~ /^OutputFormat:/mi;
    my ($code, $body) = _ls_request($socket, $request, $o{timeout});
    if ($code != 200) {
        my $msg = $body;
        $msg =~ s/\n.*//s unless $o{full_error};
        croak "Livestatus error $code: $msg";
    }
    return $body if $o{raw};
    return [] if $body eq '';
    return $JSON->decode($body);
}

# livestatus_command($socket, $cmd, $ts) sends "COMMAND [ts] CMD"; dies unless 200.
sub livestatus_command {
    my ($socket, $cmd, $ts, %o) = @_;
    $ts //= int(time);
    croak "command contains a line break: $cmd" if $cmd =~ /[\r\n]/;
    my ($code, $body) = _ls_request($socket, "COMMAND [$ts] $cmd", $o{timeout});
    if ($code != 200) {
        $body =~ s/\n.*//s;
        croak "Livestatus COMMAND failed ($code): $body\n  command: $cmd";
    }
    return 1;
}

# ---------------------------------------------------------------------------------------
# base class for instances

package SiteTest::Instance;
use strict;
use warnings;
use Carp qw(croak);
use Time::HiRes qw(time sleep);
use File::Path qw(remove_tree);

sub dir { $_[0]{dir} }
sub pid { $_[0]{pid} }

# pids of every process of this daemon still running (its whole session)
sub processes { SiteTest::_session_pids($_[0]{sid}) }

sub alive {
    my ($self) = @_;
    return 0 if $self->{stopped};
    if ($self->{child} && waitpid($self->{child}, POSIX::WNOHANG()) == $self->{child}) {
        delete $self->{child};
        return 0;
    }
    return kill(0, $self->{pid}) ? 1 : 0;
}

# Parsed status.dat (see SiteTest::parse_status_dat).
sub status {
    my ($self, %o) = @_;
    return SiteTest::parse_status_dat($self->{status_file}, %o);
}

sub objects { SiteTest::parse_objects_cache($_[0]{objects_cache}) }

# wait_status(sub { my $st = shift; ... true when done }, $timeout) -> status hash or undef.
# Only status.dat files written after the call started are considered, so a condition is never
# met by a file older than the change the caller waits for (use fresh => 0 to allow older).
sub wait_status {
    my ($self, $cond, $timeout, %o) = @_;
    $timeout //= 30;
    my $since = time;
    my $fresh = $o{fresh} // 1;
    my $res;
    SiteTest::wait_for(sub {
        if ($fresh) {
            my @s = Time::HiRes::stat($self->{status_file}) or return 0;
            return 0 if $s[9] <= $since;
        }
        my $st = eval { $self->status } or return 0;   # may be mid-rewrite: retry
        return 0 unless $cond->($st);
        $res = $st;
        return 1;
    }, $timeout, 0.25);
    return $res;
}

sub log_tail {
    my ($self, $n) = @_;
    return SiteTest::_tail($self->{log}, $n);
}

sub stop {
    my ($self) = @_;
    return 1 if $self->{stopped};
    return 1 unless $$ == $self->{owner};
    my $ok = SiteTest::_kill_group($self->{sid}, $self->{child});
    $self->{stopped} = 1;
    $self->_stop_guardian_;
    SiteTest::_forget($self);
    if (!$SiteTest::KEEP) {
        remove_tree($self->{dir});
    } else {
        print STDERR "# SiteTest: kept $self->{dir}\n";
    }
    croak "could not stop session $self->{sid}" unless $ok;
    return 1;
}

sub _stop_guardian_ { SiteTest::_stop_guardian($_[0]) }

sub DESTROY { }

package SiteTest;

sub _register { my ($o) = @_; $LIVE{"$o"} = $o }
sub _forget   { my ($o) = @_; delete $LIVE{"$o"} }

# ---------------------------------------------------------------------------------------
# Icinga 2

package SiteTest::Icinga2;
use strict;
use warnings;
our @ISA = ('SiteTest::Instance');
use Carp qw(croak);

sub socket        { $_[0]{livestatus} }
sub livestatus    { $_[0]{livestatus} }
sub command_pipe  { $_[0]{command_pipe} }
sub status_file   { $_[0]{status_file} }
sub objects_cache { $_[0]{objects_cache} }

# query($request) -> arrayref of rows (arrays of column values)
sub query { my ($self, $req, %o) = @_; SiteTest::livestatus_query($self->{livestatus}, $req, %o) }

# query_hash($request) -> arrayref of hashes keyed by column name (needs a Columns: line)
sub query_hash {
    my ($self, $req, %o) = @_;
    $req =~ s/\n+\z//;
    $req .= "\nColumnHeaders: on";
    my $rows = $self->query($req, %o);
    my $hdr = shift @$rows or return [];
    return [ map { my $r = $_; +{ map { ($hdr->[$_] => $r->[$_]) } 0 .. $#$hdr } } @$rows ];
}

# command($cmd, $ts) - COMMAND [ts] CMD through Livestatus, dies unless 200.
sub command { my ($self, $cmd, $ts) = @_; SiteTest::livestatus_command($self->{livestatus}, $cmd, $ts) }

# validate_argv(): icinga2 daemon -C on this instance's config, with its private paths (the
# object and vars caches of the check go to DIR/cache-check, not the running daemon's).
sub validate_argv {
    my ($self) = @_;
    my @def = map { m{^-DConfiguration\.CacheDir=} ? "-DConfiguration.CacheDir=$self->{dir}/cache-check" : $_ }
        @{ $self->{defines} };
    return ($SiteTest::ICINGA2, 'daemon', '-C', '-c', $self->{conf}, @def);
}

# validate_command(): the same as one /bin/sh command line (e.g. for siteload --check-command)
sub validate_command {
    my ($self) = @_;
    File::Path::make_path("$self->{dir}/cache-check");
    return join ' ', 'ICINGA2_USER=root', 'ICINGA2_GROUP=root', $self->validate_argv;
}

# validate() -> (exit code, output) of icinga2 daemon -C on this instance's config
sub validate {
    my ($self, %o) = @_;
    File::Path::make_path("$self->{dir}/cache-check");
    my $r = SiteTest::run_cmd([ $self->validate_argv ], timeout => $o{timeout} // 120,
                              env => { ICINGA2_USER => 'root', ICINGA2_GROUP => 'root' });
    return ($r->{rc}, $r->{out} . $r->{err});
}

package SiteTest;

sub _icinga2_conf {
    my ($d, %o) = @_;
    my $itl = ($o{itl} // 1) ? "include <itl>\n" : '';
    my $interval = $o{status_interval} // 1;
    my $checker = $o{checker} ? qq{object CheckerComponent "checker" { }\n} : '';
    my $debuglog = $o{debug}
        ? qq{object FileLogger "debug-file" { path = "$d->{logdir}/debug.log"; severity = "debug" }\n} : '';
    my $stock = '';
    if ($o{stock}) {
        # the Debian package's /etc/icinga2/conf.d (copied privately by _icinga2_stock): its
        # apply rules, groups, users, notification commands; plus what icinga2.conf and
        # features-enabled/notification.conf give it there
        $stock = qq{const PluginDir = "/usr/lib/nagios/plugins"\ninclude <plugins>\n}
               . qq{object NotificationComponent "notification" { }\n}
               . qq{include_recursive "$d->{dir}/conf.d"\n};
    }
    return <<"EOF" . ($o{conf} // '') . "\n";
// generated by SiteTest.pm
$itl$stock
object LivestatusListener "livestatus" {
  socket_type = "unix"
  socket_path = "$d->{livestatus}"
}
object ExternalCommandListener "command" {
  command_path = "$d->{command_pipe}"
}
object StatusDataWriter "status" {
  status_path = "$d->{status_file}"
  objects_path = "$d->{objects_cache}"
  update_interval = ${interval}s
}
object FileLogger "main-log" {
  path = "$d->{logdir}/icinga2.log"
  severity = "information"
}
$checker$debuglog
// ---- test objects ----
EOF
}

# stock => 1: copies of the Debian package's /etc/icinga2/conf.d/*.conf into DIR/conf.d and of
# /etc/icinga2/scripts/* into DIR/scripts, with the paths made private (ConfigDir + "/scripts/"
# -> DIR/scripts/). stock_mail => PATH: the copied mail scripts run PATH instead of mail(1).
# Nothing else of /etc/icinga2 is read (no features-enabled, no zones, no constants.conf).
sub _icinga2_stock {
    my ($dir, %o) = @_;
    my $src = $o{stock_dir} // '/etc/icinga2';
    _mkdirs("$dir/conf.d", "$dir/scripts");
    opendir(my $dh, "$src/conf.d") or croak "$src/conf.d: $!";
    for my $f (sort grep { /\.conf\z/ } readdir $dh) {
        my $t = slurp("$src/conf.d/$f") // croak "read $src/conf.d/$f: $!";
        $t =~ s{ConfigDir\s*\+\s*"/scripts/}{"$dir/scripts/}g;
        spew("$dir/conf.d/$f", $t);
    }
    closedir $dh;
    if (opendir(my $sh, "$src/scripts")) {
        for my $f (grep { -f "$src/scripts/$_" } readdir $sh) {
            my $t = slurp("$src/scripts/$f") // next;
            $t =~ s{^MAILBIN="mail"}{MAILBIN="$o{stock_mail}"}m if $o{stock_mail};
            spew("$dir/scripts/$f", $t);
            chmod 0755, "$dir/scripts/$f";
        }
        closedir $sh;
    }
}

# icinga2_start(conf => TEXT, name => NAME, itl => 1, checker => 0, debug => 0,
#               status_interval => 1, timeout => 30, stock => 0, stock_mail => PATH)
sub icinga2_start {
    my (%o) = @_;
    my $dir = _newdir('icinga2', $o{name});
    my %d = (
        dir           => $dir,
        conf          => "$dir/icinga2.conf",
        livestatus    => "$dir/run/live",
        command_pipe  => "$dir/run/cmd/icinga2.cmd",
        status_file   => "$dir/status.dat",
        objects_cache => "$dir/objects.cache",
        logdir        => "$dir/log",
        log           => "$dir/log/icinga2.log",
        console       => "$dir/log/console.log",
        pidfile       => "$dir/run/icinga2.pid",
    );
    _mkdirs(map { "$dir/$_" } qw(lib log cache spool run run/cmd spool/checkresults));
    _icinga2_stock($dir, %o) if $o{stock};
    spew($d{conf}, _icinga2_conf(\%d, %o));
    my @argv = ($ICINGA2, 'daemon', '-c', $d{conf},
        "-DConfiguration.DataDir=$dir/lib",
        "-DConfiguration.LogDir=$dir/log",
        "-DConfiguration.CacheDir=$dir/cache",
        "-DConfiguration.SpoolDir=$dir/spool",
        "-DConfiguration.InitRunDir=$dir/run",
        "-DConfiguration.PidPath=$d{pidfile}",
        "-DConfiguration.RunAsUser=root",
        "-DConfiguration.RunAsGroup=root",
    );
    my $self = bless { %d, owner => $$, kind => 'icinga2', name => $o{name} // 'icinga2',
                       defines => [ @argv[4 .. $#argv] ] },
        'SiteTest::Icinga2';
    my $pid = fork() // croak "fork: $!";
    if (!$pid) {
        setsid();
        $ENV{ICINGA2_USER}  = 'root';
        $ENV{ICINGA2_GROUP} = 'root';
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $d{console});
        open(STDERR, '>&', \*STDOUT);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT ALRM PIPE);
        { exec { $argv[0] } @argv };
        print STDERR "exec $argv[0]: $!\n";
        _exit(127);
    }
    @$self{qw(pid sid child)} = ($pid, $pid, $pid);
    _register($self);
    $self->_start_guardian_;
    _dbg("icinga2 pid $pid in $dir");

    my $timeout = $o{timeout} // $START_TIMEOUT;
    my $deadline = time + $timeout;
    my $err;
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $err = "icinga2 exited with status " . ($? >> 8);
            delete $self->{child};
            last;
        }
        if (-S $d{livestatus}) {
            my $rows = eval { livestatus_query($d{livestatus}, "GET status\nColumns: program_start", timeout => 5) };
            last if $rows && @$rows;
        }
        if (time > $deadline) { $err = "icinga2 not answering GET status after ${timeout}s"; last }
        sleep 0.1;
    }
    if ($err) {
        my $msg = "$err\n--- $d{console}:\n" . _tail($d{console}, 40) . "\n--- $d{log}:\n" . _tail($d{log}, 20);
        eval { $self->stop };
        croak $msg;
    }
    _dbg(sprintf "icinga2 ready after %.1fs", $timeout - ($deadline - time));
    return $self;
}

sub SiteTest::Instance::_start_guardian_ { SiteTest::_start_guardian($_[0]) }

# ---------------------------------------------------------------------------------------
# Nagios 4

package SiteTest::Nagios4;
use strict;
use warnings;
our @ISA = ('SiteTest::Instance');
use Carp qw(croak);
use Fcntl qw(O_WRONLY O_NONBLOCK);

sub command_file    { $_[0]{command_file} }
sub checkresult_dir { $_[0]{checkresult_dir} }
sub status_file     { $_[0]{status_file} }
sub objects_cache   { $_[0]{objects_cache} }
sub cfg             { $_[0]{cfg} }

# command($cmd, $ts): write "[ts] CMD\n" to the command FIFO in one write().
sub command {
    my ($self, $cmd, $ts) = @_;
    $ts //= int(Time::HiRes::time());
    croak "command contains a line break: $cmd" if $cmd =~ /[\r\n]/;
    sysopen(my $fh, $self->{command_file}, O_WRONLY | O_NONBLOCK)
        or croak "open $self->{command_file}: $!";
    my $line = SiteTest::_bytes("[$ts] $cmd\n");
    my $n = syswrite($fh, $line);
    croak "write $self->{command_file}: $!" unless defined $n && $n == length $line;
    close $fh;
    return 1;
}

# submit_checkresult($text) -> path: drops $text into check_result_path as c?????? + .ok
sub submit_checkresult { my ($self, $text) = @_; SiteTest::write_checkresult($self->{checkresult_dir}, $text) }

sub log_text { SiteTest::slurp($_[0]{log}) }

# validate() -> (exit code, output) of nagios4 -v on this instance's nagios.cfg as it is now
sub validate {
    my ($self, %o) = @_;
    my $r = SiteTest::run_cmd([$SiteTest::NAGIOS4, '-v', $self->{cfg}], timeout => $o{timeout} // 60);
    return ($r->{rc}, $r->{out} . $r->{err});
}

# validate_command(): the same as one /bin/sh command line (e.g. for siteload --check-command)
sub validate_command { "$SiteTest::NAGIOS4 -v $_[0]{cfg}" }

package SiteTest;

# write_checkresult($dir, $text) -> path of the c?????? file; creates the .ok marker after it.
sub write_checkresult {
    my ($dir, $text) = @_;
    my @c = ('a' .. 'z', 'A' .. 'Z', '0' .. '9');
    for (1 .. 100) {
        my $name = 'c' . join('', map { $c[rand @c] } 1 .. 6);
        my $path = "$dir/$name";
        sysopen(my $fh, $path, O_WRONLY | O_CREAT | O_EXCL, 0644) or next;
        my $b = _bytes($text);
        print $fh $b;
        close $fh or croak "close $path: $!";
        spew("$path.ok", '');
        return $path;
    }
    croak "write_checkresult: could not create a file in $dir";
}

# Base objects usable by nagios_start/nagios_verify (base => 1): a timeperiod, a command and
# passive-only templates. Names are prefixed sitetest- so they cannot collide with -TC output.
sub nagios_base_objects {
    my $plugin = -x '/usr/lib/nagios/plugins/check_dummy'
        ? '/usr/lib/nagios/plugins/check_dummy $ARG1$ $ARG2$' : '/bin/true';
    return <<"EOF";
define timeperiod {
	timeperiod_name	sitetest-24x7
	alias	always
	sunday	00:00-24:00
	monday	00:00-24:00
	tuesday	00:00-24:00
	wednesday	00:00-24:00
	thursday	00:00-24:00
	friday	00:00-24:00
	saturday	00:00-24:00
}
define command {
	command_name	sitetest-dummy
	command_line	$plugin
}
define command {
	command_name	sitetest-notify-none
	command_line	/bin/true
}
define contact {
	contact_name	sitetest-nobody
	alias	nobody
	host_notifications_enabled	0
	service_notifications_enabled	0
	host_notification_period	sitetest-24x7
	service_notification_period	sitetest-24x7
	host_notification_options	n
	service_notification_options	n
	host_notification_commands	sitetest-notify-none
	service_notification_commands	sitetest-notify-none
}
define host {
	name	sitetest-host
	register	0
	contacts	sitetest-nobody
	check_command	sitetest-dummy!0
	check_period	sitetest-24x7
	max_check_attempts	4
	check_interval	5
	retry_interval	1
	active_checks_enabled	0
	passive_checks_enabled	1
	notifications_enabled	0
	notification_period	sitetest-24x7
	notification_interval	0
}
define service {
	name	sitetest-service
	register	0
	contacts	sitetest-nobody
	check_command	sitetest-dummy!0
	check_period	sitetest-24x7
	max_check_attempts	4
	check_interval	5
	retry_interval	1
	active_checks_enabled	0
	passive_checks_enabled	1
	notifications_enabled	0
	notification_period	sitetest-24x7
	notification_interval	0
}
EOF
}

# Writes a private nagios.cfg into $dir. $objects: TEXT or [ FILE_OR_TEXT, ... ].
sub _nagios_cfg {
    my ($dir, $objects, %o) = @_;
    my %p = (
        dir             => $dir,
        cfg             => "$dir/nagios.cfg",
        log             => "$dir/nagios.log",
        lock_file       => "$dir/nagios.lock",
        command_file    => "$dir/rw/nagios.cmd",
        query_socket    => "$dir/rw/nagios.qh",
        checkresult_dir => "$dir/checkresults",
        status_file     => "$dir/status.dat",
        objects_cache   => "$dir/objects.cache",
        precached       => "$dir/objects.precache",
        temp_file       => "$dir/nagios.tmp",
        temp_path       => "$dir/tmp",
        retention       => "$dir/retention.dat",
        debug_file      => "$dir/nagios.debug",
    );
    _mkdirs(map { "$dir/$_" } qw(rw checkresults tmp archives etc));
    my @cfg_files;
    if ($o{base} // 1) {
        push @cfg_files, spew("$dir/etc/00-sitetest-base.cfg", nagios_base_objects());
    }
    my @obj = ref $objects eq 'ARRAY' ? @$objects : defined $objects ? ($objects) : ();
    my $i = 0;
    for my $x (@obj) {
        $i++;
        if ($x !~ /\n/ && -f $x) {
            push @cfg_files, abs_path($x);
        } else {
            push @cfg_files, spew(sprintf("$dir/etc/%02d-objects.cfg", $i), $x);
        }
    }
    my %cfg = (
        log_file                      => $p{log},
        object_cache_file             => $p{objects_cache},
        precached_object_file         => $p{precached},
        resource_file                 => spew("$dir/etc/resource.cfg", "\$USER1\$=/usr/lib/nagios/plugins\n"),
        status_file                   => $p{status_file},
        status_update_interval        => 1,
        nagios_user                   => 'root',
        nagios_group                  => 'root',
        check_external_commands       => 1,
        command_file                  => $p{command_file},
        query_socket                  => $p{query_socket},
        lock_file                     => $p{lock_file},
        temp_file                     => $p{temp_file},
        temp_path                     => $p{temp_path},
        check_result_path             => $p{checkresult_dir},
        check_result_reaper_frequency => 1,
        max_check_result_file_age     => 3600,
        state_retention_file          => $p{retention},
        retain_state_information      => 1,
        retention_update_interval     => 60,
        debug_file                    => $p{debug_file},
        debug_level                   => ($o{debug} ? 1684 : 0),
        debug_verbosity               => 1,
        interval_length               => 60,
        use_syslog                    => 0,
        log_rotation_method           => 'n',
        log_archive_path              => "$dir/archives",
        log_passive_checks            => 1,
        log_external_commands         => 1,
        # a test central: nothing runs by itself
        enable_notifications          => 0,
        enable_event_handlers         => 0,
        execute_service_checks        => 0,
        execute_host_checks           => 0,
        check_service_freshness       => 0,
        check_host_freshness          => 0,
        process_performance_data      => 0,
        enable_flap_detection         => 1,
        date_format                   => 'iso8601',
        illegal_macro_output_chars    => q{`~$&|'"<>},
        %{ $o{extra_cfg} || {} },
    );
    my $text = "# generated by SiteTest.pm\n";
    $text .= "cfg_file=$_\n" for @cfg_files;
    for my $k (sort keys %cfg) {
        next unless defined $cfg{$k};
        $text .= "$k=$_\n" for ref $cfg{$k} eq 'ARRAY' ? @{ $cfg{$k} } : ($cfg{$k});
    }
    spew($p{cfg}, $text);
    $p{cfg_files} = \@cfg_files;
    return \%p;
}

# nagios_verify(\@files_or_texts, base => 1, extra_cfg => {...})  or  nagios_verify(@files)
# -> (exit code, output of nagios4 -v)
sub nagios_verify {
    my ($objects, %o);
    if (ref $_[0] eq 'ARRAY') { ($objects, %o) = @_ } else { $objects = [@_] }
    my $dir = _newdir('nagios-verify', $o{name});
    push @TEMPDIRS, $dir;
    my $p = _nagios_cfg($dir, $objects, base => $o{base} // 0, extra_cfg => $o{extra_cfg});
    my $r = run_cmd([$NAGIOS4, '-v', $p->{cfg}], timeout => 60);
    remove_tree($dir) unless $KEEP;
    @TEMPDIRS = grep { $_ ne $dir } @TEMPDIRS;
    return ($r->{rc}, $r->{out} . $r->{err});
}

# nagios_start(objects => TEXT | [FILE_OR_TEXT...], extra_cfg => {...}, base => 1,
#              name => NAME, debug => 0, timeout => 30)
sub nagios_start {
    my (%o) = @_;
    my $dir = _newdir('nagios4', $o{name});
    my $p = _nagios_cfg($dir, $o{objects}, base => $o{base}, extra_cfg => $o{extra_cfg}, debug => $o{debug});
    my $self = bless { %$p, owner => $$, kind => 'nagios4', name => $o{name} // 'nagios4' },
        'SiteTest::Nagios4';
    my $fail = sub {
        my ($msg) = @_;
        $msg .= "\n--- $p->{log}:\n" . _tail($p->{log}, 30);
        eval { $self->stop } if $self->{sid};
        if (!$self->{sid}) { remove_tree($dir) unless $KEEP }
        croak $msg;
    };
    my $v = run_cmd([$NAGIOS4, '-v', $p->{cfg}], timeout => 60);
    if ($v->{rc} != 0) {
        my $out = $v->{out} . $v->{err};
        my @err = grep { /Error|Warning/ } split /\n/, $out;
        $fail->("nagios4 -v $p->{cfg} failed ($v->{rc}):\n" . join("\n", @err ? @err : $out));
    }
    my $r = run_cmd([$NAGIOS4, '-d', $p->{cfg}], timeout => 30);
    $fail->("nagios4 -d failed ($r->{rc}): $r->{out}$r->{err}") if $r->{rc} != 0;
    my $pid;
    my $timeout = $o{timeout} // $START_TIMEOUT;
    wait_for(sub { my $l = slurp($p->{lock_file}); ($pid) = ($l // '') =~ /^(\d+)/; $pid }, $timeout, 0.05)
        or $fail->("nagios4 wrote no pid to $p->{lock_file}");
    # nagios -d calls setsid(): its session id is its pid; the workers stay in that session
    # (each in a process group of its own)
    @$self{qw(pid sid)} = ($pid, $pid);
    _register($self);
    $self->_start_guardian_;
    _dbg("nagios4 pid $pid in $dir");
    my $ok = wait_for(sub {
        return 0 unless kill 0, $pid;
        return 0 unless -p $p->{command_file};
        my $st = eval { parse_status_dat($p->{status_file}) } or return 0;
        return ($st->{programstatus}{nagios_pid} // 0) == $pid;
    }, $timeout, 0.1);
    $fail->("nagios4 (pid $pid) did not write status.dat/command file within ${timeout}s"
            . (kill(0, $pid) ? '' : ' (process died)')) unless $ok;
    return $self;
}

# ---------------------------------------------------------------------------------------
# The "remote site" fixture (Icinga 2)

sub _q { my ($s) = @_; $s =~ s/(["\\])/\\$1/g; return qq{"$s"} }

# remote_fixture(name => ...) -> $icinga2 handle (in list context: ($handle, $description)).
# $handle->{fixture} holds the same description:
#   now, hosts => { NAME => {...expected} }, services => { HOST => { DESC => {...} } },
#   downtimes => [...], comments => [...], acks => [...], hostgroups, servicegroups
# Expected values per object: state, state_type (0 soft, 1 hard), attempt (logical: soft k,
# hard = max_check_attempts, i.e. what Nagios shows), icinga_attempt (what Icinga shows: 1 for
# hard), checked (0/1), plugin_output, long_plugin_output (with real LFs), perf_data,
# acknowledged, acknowledgement_type, last_check, last_state_change, results (list of
# [ts, rc, output] as sent, in order).
sub remote_fixture {
    my (%o) = @_;
    my $now = int(time);
    my $T0  = $now - 3600;    # all results lie between T0 and now - 60

    my %hg = (linux => 'Linux servers', web => 'Web servers', 'db servers' => 'Database servers');
    my %sg = (disks => 'Disk checks', critical => 'Business critical');

    # hosts: name => { attrs, results => [rc...] }
    my @hosts = (
        { name => 'gw', address => '192.0.2.1', groups => ['linux'], vars => { os => 'Linux' },
          display => 'Gateway', results => [ [0, 'PING OK - rta 0.3ms|rta=0.3ms;100;200;0'] ] },
        { name => 'web server 01', address => '192.0.2.10', groups => ['linux', 'web'],
          vars => { os => 'Linux', rack => 'R4' }, display => 'Web server one',
          notes => 'Front web; rack 4', notes_url => 'https://wiki.example/web01',
          action_url => 'https://grafana.example/d/web01?var=a', icon_image => 'web.png',
          parents => ['gw'],
          results => [ [0, 'PING OK - rta 1.2ms|rta=1.2ms;100;200;0'] ] },
        { name => 'häst-ü', address => '192.0.2.20', groups => ['linux'], vars => { os => 'Linux' },
          display => 'Häst Ü', notes => 'UTF-8 host',
          # UP, then DOWN x3 (max_check_attempts 3) -> HARD DOWN
          results => [ [0, 'PING OK'], ([1, 'PING CRITICAL - 100% packet loss']) x 3 ] },
        { name => 'db01', address => '192.0.2.30', groups => ['linux', 'db servers'],
          vars => { os => 'Linux' }, display => 'Database', icon_image => 'db.png',
          results => [ [0, 'PING OK - rta 0.5ms'] ] },
        { name => 'pending host', address => '192.0.2.40', groups => [], vars => {},
          display => 'Never checked', results => [] },
    );
    my $ml = 'CRIT first line|a=1;2;3\nsecond line\nthird|b=2s';
    my @services = (
        { host => 'gw', name => 'ping', results => [ [0, 'PING OK|rta=0.3ms'] ] },
        { host => 'web server 01', name => 'http', groups => ['critical'],
          vars => { port => '80', proto => 'https' }, notes => 'HTTP front; port 80',
          notes_url => 'https://wiki.example/http', action_url => 'https://graphs.example/http',
          icon_image => 'http.png',
          results => [ [0, 'HTTP OK: 200 in 0.01s|time=0.01s;1;2;0'] ] },
        { host => 'web server 01', name => 'disk /var', groups => ['disks'],
          results => [ [0, 'DISK OK'], ([1, 'DISK WARNING - /var 85%|/var=85%;80;90']) x 2 ] },   # SOFT WARNING 2/4
        { host => 'web server 01', name => 'Ωmega check', groups => ['critical'],
          results => [ [0, 'OMEGA OK'], ([2, $ml]) x 4 ] },                            # HARD CRITICAL
        { host => 'web server 01', name => 'load', vars => { os => 'Linux' },
          results => [ [0, 'LOAD OK'], ([2, 'LOAD CRITICAL - 12.0|load1=12.0;5;10;0']) x 2 ] },    # SOFT CRITICAL 2/4
        { host => 'web server 01', name => 'never run', results => [] },                  # pending
        { host => 'häst-ü', name => 'ping', results => [ [0, 'PING OK'], ([2, 'PING CRITICAL - unreachable']) x 4 ] },
        { host => 'häst-ü', name => 'ssh', results => [ [0, 'SSH OK'], ([3, 'SSH UNKNOWN - no banner']) x 4 ] },
        { host => 'db01', name => 'mysql', results => [ [0, 'MYSQL OK - 42 queries/s|qps=42'] ] },
        { host => 'db01', name => 'backup',
          results => [ [0, 'BACKUP OK'], ([1, 'BACKUP WARNING - C:\temp is 91% full|used=91%;90;95']) x 4 ] },
        { host => 'db01', name => 'disk /var', groups => ['disks'], results => [ [0, 'DISK OK - /var 40%|/var=40%;80;90'] ] },
        { host => 'pending host', name => 'ping', results => [] },                        # pending
    );

    # ---- config
    my $conf = '';
    $conf .= sprintf qq{object HostGroup %s { display_name = %s }\n}, _q($_), _q($hg{$_}) for sort keys %hg;
    $conf .= sprintf qq{object ServiceGroup %s { display_name = %s }\n}, _q($_), _q($sg{$_}) for sort keys %sg;
    # contacts: users and user groups reach hosts/services through Notification objects (no
    # NotificationComponent is enabled, so nothing is ever sent)
    $conf .= <<'EOC';
object User "alice" { display_name = "Alice A."; email = "alice@example.org" }
object User "bob" { display_name = "Bob B."; email = "bob@example.org" }
object UserGroup "admins" { display_name = "Administrators" }
object User "carol" { display_name = "Carol C."; groups = [ "admins" ] }
object NotificationCommand "sitetest-none" { command = [ "/bin/true" ] }
object Notification "web-host" { host_name = "web server 01"; command = "sitetest-none"; users = [ "alice" ]; user_groups = [ "admins" ] }
object Notification "web-http" { host_name = "web server 01"; service_name = "http"; command = "sitetest-none"; users = [ "alice", "bob" ] }
EOC
    $hosts[1]{contacts} = ['alice', 'carol'];
    $hosts[1]{contact_groups} = ['admins'];
    $services[1]{contacts} = ['alice', 'bob'];
    $services[1]{contact_groups} = [];
    for my $h (@hosts) {
        my @a = ('check_command = "dummy"', 'enable_active_checks = false', 'enable_passive_checks = true',
                 'max_check_attempts = 3', 'check_interval = 5m', 'retry_interval = 1m',
                 'address = ' . _q($h->{address}), 'display_name = ' . _q($h->{display}));
        push @a, 'groups = [ ' . join(', ', map { _q($_) } @{ $h->{groups} }) . ' ]' if @{ $h->{groups} };
        for my $k (qw(notes notes_url action_url icon_image)) { push @a, "$k = " . _q($h->{$k}) if defined $h->{$k} }
        push @a, "vars.$_ = " . _q($h->{vars}{$_}) for sort keys %{ $h->{vars} };
        $conf .= sprintf "object Host %s {\n  %s\n}\n", _q($h->{name}), join("\n  ", @a);
        for my $par (@{ $h->{parents} || [] }) {
            $conf .= sprintf qq{object Dependency %s { parent_host_name = %s; child_host_name = %s; disable_checks = false; disable_notifications = true }\n},
                _q("$h->{name}-$par"), _q($par), _q($h->{name});
        }
    }
    for my $s (@services) {
        my @a = ('host_name = ' . _q($s->{host}), 'check_command = "dummy"', 'enable_active_checks = false',
                 'enable_passive_checks = true', 'max_check_attempts = 4', 'check_interval = 5m',
                 'retry_interval = 1m');
        push @a, 'groups = [ ' . join(', ', map { _q($_) } @{ $s->{groups} }) . ' ]' if $s->{groups};
        for my $k (qw(notes notes_url action_url icon_image)) { push @a, "$k = " . _q($s->{$k}) if defined $s->{$k} }
        push @a, "vars.$_ = " . _q($s->{vars}{$_}) for sort keys %{ $s->{vars} || {} };
        $conf .= sprintf "object Service %s {\n  %s\n}\n", _q($s->{name}), join("\n  ", @a);
    }

    my $ic = icinga2_start(conf => $conf, name => $o{name} // 'remote');

    # ---- results, in the past. Services of a host are sent before its host results.
    my %desc = (now => $now, hostgroups => \%hg, servicegroups => \%sg, hosts => {}, services => {},
                downtimes => [], comments => [], acks => []);
    my $ts = $T0;
    my $expect = sub {
        my ($obj, $max, $is_host) = @_;
        my @r = @{ $obj->{results} };
        my %e = (checked => @r ? 1 : 0, max_check_attempts => $max, acknowledged => 0,
                 acknowledgement_type => 0, results => []);
        if (!@r) {
            @e{qw(state state_type attempt icinga_attempt plugin_output long_plugin_output perf_data last_check)} =
                ($is_host ? 1 : 3, 0, 1, 1, '', '', undef, -1);
            return \%e;
        }
        my ($state, $type, $att, $lsc, $last) = (0, 1, 1, 0, undef);
        for my $x (@r) {
            my ($rc, $out) = @$x;
            $ts += 60;
            push @{ $e{results} }, [$ts, $rc, $out];
            my $new = $is_host ? ($rc ? 1 : 0) : ($rc > 3 ? 3 : $rc);
            if ($new == 0) { $lsc = $ts if $state != 0; ($state, $type, $att) = (0, 1, 1) }
            elsif ($state == 0 || $type == 0) {
                $lsc = $ts if $new != $state;
                $att = $state == 0 ? 1 : $att + 1;
                $type = $att >= $max ? 1 : 0;
                $state = $new;
            } else { $lsc = $ts if $new != $state; $state = $new }
            $last = $x;
        }
        my ($first, @long) = split /\\n/, $last->[1], -1;
        my @perf;
        my ($po, $p1) = split /\|/, $first, 2;
        push @perf, $p1 if defined $p1;
        my @lo;
        for my $l (@long) { my ($t, $p) = split /\|/, $l, 2; push @lo, $t; push @perf, $p if defined $p }
        @e{qw(state state_type attempt icinga_attempt plugin_output long_plugin_output perf_data last_check last_state_change)} =
            ($state, $type, $att, $type == 1 ? 1 : $att, $po, join("\n", @lo), join(' ', @perf), $ts, $lsc);
        return \%e;
    };
    for my $h (@hosts) {
        for my $s (grep { $_->{host} eq $h->{name} } @services) {
            my $e = $expect->($s, 4, 0);
            $e->{$_} = $s->{$_} for grep { defined $s->{$_} } qw(groups vars notes notes_url action_url icon_image contacts contact_groups);
            $desc{services}{ $s->{host} }{ $s->{name} } = $e;
            $ic->command("PROCESS_SERVICE_CHECK_RESULT;$s->{host};$s->{name};$_->[1];$_->[2]", $_->[0])
                for @{ $e->{results} };
        }
        my $e = $expect->($h, 3, 1);
        $e->{$_} = $h->{$_} for grep { defined $h->{$_} } qw(groups vars notes notes_url action_url icon_image address display parents contacts contact_groups);
        $desc{hosts}{ $h->{name} } = $e;
        $ic->command("PROCESS_HOST_CHECK_RESULT;$h->{name};$_->[1];$_->[2]", $_->[0]) for @{ $e->{results} };
    }

    # ---- acks, downtimes, comments (Icinga ignores their [ts] but we never send a future one)
    my $cts = int(time) - 1;
    my @acks = (
        [ 'web server 01', 'Ωmega check', 2, 1, 'alice', 'sticky ack; looking into it' ],
        [ 'häst-ü', 'ping', 1, 0, 'bob', 'normal ack' ],
        [ 'häst-ü', undef, 1, 1, 'carol', 'host ack: datacenter power' ],
    );
    for my $a (@acks) {
        my ($h, $s, $sticky, $pers, $author, $text) = @$a;
        if (defined $s) {
            $ic->command("ACKNOWLEDGE_SVC_PROBLEM;$h;$s;$sticky;0;$pers;$author;$text", $cts);
            @{ $desc{services}{$h}{$s} }{qw(acknowledged acknowledgement_type)} = (1, $sticky);
        } else {
            $ic->command("ACKNOWLEDGE_HOST_PROBLEM;$h;$sticky;0;$pers;$author;$text", $cts);
            @{ $desc{hosts}{$h} }{qw(acknowledged acknowledgement_type)} = (1, $sticky);
        }
        push @{ $desc{acks} }, { host => $h, service => $s, sticky => $sticky, persistent => $pers,
                                 author => $author, comment => $text };
    }
    my @dts = (
        { host => 'db01', service => 'mysql', start => $now - 1800, end => $now + 3600, fixed => 1,
          duration => 0, author => 'dave', comment => 'DB maintenance; fixed', in_effect => 1 },
        { host => 'häst-ü', service => undef, start => $now - 600, end => $now + 7200, fixed => 1,
          duration => 0, author => 'erin', comment => 'host rebuild', in_effect => 1 },
        { host => 'db01', service => 'backup', start => $now + 600, end => $now + 4200, fixed => 0,
          duration => 600, author => 'frank', comment => 'flexible backup window', in_effect => 0 },
    );
    for my $d (@dts) {
        my $tail = "$d->{start};$d->{end};$d->{fixed};0;$d->{duration};$d->{author};$d->{comment}";
        if (defined $d->{service}) {
            $ic->command("SCHEDULE_SVC_DOWNTIME;$d->{host};$d->{service};$tail", $cts);
        } else {
            $ic->command("SCHEDULE_HOST_DOWNTIME;$d->{host};$tail", $cts);
        }
        push @{ $desc{downtimes} }, $d;
    }
    my @cmts = (
        { host => 'web server 01', service => 'load', author => 'alice', comment => 'needs attention; check tomorrow' },
        { host => 'db01', service => undef, author => 'bob', comment => 'maintenance; see ticket #42 = ok' },
        { host => 'häst-ü', service => 'ssh', author => 'zoë', comment => 'Größe prüfen' },
    );
    for my $c (@cmts) {
        if (defined $c->{service}) {
            $ic->command("ADD_SVC_COMMENT;$c->{host};$c->{service};1;$c->{author};$c->{comment}", $cts);
        } else {
            $ic->command("ADD_HOST_COMMENT;$c->{host};1;$c->{author};$c->{comment}", $cts);
        }
        push @{ $desc{comments} }, $c;
    }

    # ---- wait until Livestatus shows everything
    my $why = '';
    my $ok = wait_for(sub {
        my $svc = $ic->query_hash("GET services\nColumns: host_name description state state_type current_attempt has_been_checked acknowledged acknowledgement_type last_check");
        for my $r (@$svc) {
            my $e = $desc{services}{ $r->{host_name} }{ $r->{description} }
                or do { $why = "unexpected service $r->{host_name}/$r->{description}"; return 0 };
            for (['state', 'state'], ['state_type', 'state_type'], ['current_attempt', 'icinga_attempt'],
                 ['has_been_checked', 'checked'], ['acknowledgement_type', 'acknowledgement_type']) {
                if (($r->{ $_->[0] } // -99) != $e->{ $_->[1] }) {
                    $why = "service $r->{host_name}/$r->{description}: $_->[0]=" . ($r->{ $_->[0] } // 'null')
                         . ", expected $e->{$_->[1]}";
                    return 0;
                }
            }
            if (($r->{acknowledged} ? 1 : 0) != $e->{acknowledged}) { $why = "ack $r->{description}"; return 0 }
        }
        my $nsvc = 0; $nsvc += keys %{ $desc{services}{$_} } for keys %{ $desc{services} };
        if (@$svc != $nsvc) { $why = scalar(@$svc) . " services, expected $nsvc"; return 0 }
        my $hosts = $ic->query_hash("GET hosts\nColumns: name state state_type has_been_checked acknowledged");
        for my $r (@$hosts) {
            my $e = $desc{hosts}{ $r->{name} } or do { $why = "unexpected host $r->{name}"; return 0 };
            if ($r->{state} != $e->{state} || $r->{state_type} != $e->{state_type}
                || $r->{has_been_checked} != $e->{checked} || ($r->{acknowledged} ? 1 : 0) != $e->{acknowledged}) {
                $why = "host $r->{name}: " . join(' ', map { "$_=" . ($r->{$_} // 'null') } sort keys %$r);
                return 0;
            }
        }
        my $dt = $ic->query("GET downtimes\nColumns: id");
        if (@$dt != @dts) { $why = scalar(@$dt) . " downtimes"; return 0 }
        my $cm = $ic->query("GET comments\nColumns: id\nFilter: entry_type = 1");
        if (@$cm != @cmts) { $why = scalar(@$cm) . " user comments"; return 0 }
        return 1;
    }, 30, 0.2);
    croak "remote_fixture: Livestatus does not show the fixture: $why\n" . $ic->log_tail(20) unless $ok;
    # ... and until status.dat does (StatusDataWriter writes every second)
    my $ncm = @acks + @cmts;
    $ic->wait_status(sub {
        my ($st) = @_;
        my $s = $st->{services}{'web server 01'}{'Ωmega check'} or return 0;
        return $s->{current_state} == 2 && $s->{problem_has_been_acknowledged} == 1
            && @{ $st->{comments} } == $ncm && @{ $st->{downtimes} } == @dts;
    }, 30) or croak "remote_fixture: status.dat does not show the fixture";
    $ic->{fixture} = \%desc;
    return wantarray ? ($ic, \%desc) : $ic;
}

# ---------------------------------------------------------------------------------------
# Icinga 2: halt and restart in place, and a two-endpoint HA zone (tests/0039)

package SiteTest::Icinga2;

# halt(): stop the daemon (TERM, then KILL, as stop()) but keep its dir (state file, replay
# log, runtime comments and downtimes) and its registration, so that restart() can bring it
# back with its state, and END still removes the dir. 1, or croaks.
sub halt {
    my ($self) = @_;
    croak "halt: $self->{name} is not running" if $self->{stopped} || $self->{halted};
    my $ok = SiteTest::_kill_group($self->{sid}, $self->{child});
    delete $self->{child};
    croak "halt: could not stop session $self->{sid}" unless $ok;
    $self->{halted} = 1;
    SiteTest::_dbg("icinga2 $self->{name} halted (dir kept)");
    return 1;
}

# restart(timeout => 30): the same command line in the same dir after halt(); waits for
# Livestatus as icinga2_start does, and for the API when the instance has one ($ic->{api}).
sub restart {
    my ($self, %o) = @_;
    croak "restart: $self->{name} was not halted" unless $self->{halted};
    $self->_stop_guardian_;         # it watches the old session
    SiteTest::_icinga2_spawn($self, $o{timeout});
    delete $self->{halted};
    return $self;
}

package SiteTest;

# exported without touching the list at the top (several sessions add to this file)
push @EXPORT, qw(icinga2_ha_start icinga2_ha_connected);

# fork and exec icinga2 with $self's conf and defines, wait for Livestatus (and the API if
# $self->{api}); sets pid/sid/child and a new guardian. Croaks with the log's tail.
sub _icinga2_spawn {
    my ($self, $timeout) = @_;
    $timeout //= $START_TIMEOUT;
    my @argv = ($ICINGA2, 'daemon', '-c', $self->{conf}, @{ $self->{defines} });
    my $pid = fork() // croak "fork: $!";
    if (!$pid) {
        setsid();
        $ENV{ICINGA2_USER}  = 'root';
        $ENV{ICINGA2_GROUP} = 'root';
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $self->{console});
        open(STDERR, '>&', \*STDOUT);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT ALRM PIPE);
        { exec { $argv[0] } @argv };
        print STDERR "exec $argv[0]: $!\n";
        _exit(127);
    }
    @$self{qw(pid sid child)} = ($pid, $pid, $pid);
    $self->_start_guardian_;
    my $deadline = time + $timeout;
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{child};
            croak "icinga2 $self->{name} exited with status " . ($? >> 8) . "\n" . _tail($self->{log}, 20);
        }
        last if eval { @{ livestatus_query($self->{livestatus}, "GET status\nColumns: program_start", timeout => 5) } };
        croak "icinga2 $self->{name} not answering GET status after ${timeout}s\n" . _tail($self->{log}, 20)
            if time > $deadline;
        sleep 0.1;
    }
    return unless $self->{api};
    require SiteTest::Icinga2Api;
    wait_for(sub { my ($st) = SiteTest::Icinga2Api::api_get($self, '/v1/status/IcingaApplication'); ($st // 0) == 200 },
             $deadline - time + 5, 0.2)
        or croak "icinga2 $self->{name}: API not answering on $self->{api}{url}\n" . _tail($self->{log}, 20);
}

# The config of one endpoint of the zone: both Endpoints on 127.0.0.1, one Zone "master".
# accept_config: comments and downtimes made at runtime reach the other endpoint as
# config::UpdateObject messages, which an ApiListener without it ignores (check results,
# acknowledgements and removals travel as events and need neither flag). No zones.d: both
# endpoints load the same files (tests/0039 says why), so there is no config to sync.
sub _icinga2_ha_conf {
    my ($z, $i) = @_;
    my $me = $z->{endpoints}[$i];
    my $eps = join '', map { qq{object Endpoint "$z->{endpoints}[$_]" { host = "127.0.0.1"; port = $z->{ports}[$_] }\n} } 0, 1;
    return <<"HACONF";
// ---- HA zone (SiteTest::icinga2_ha_start): endpoint $me ----
const NodeName = "$me"
$eps
object Zone "master" { endpoints = [ "$z->{endpoints}[0]", "$z->{endpoints}[1]" ] }
object ApiListener "api" {
  bind_host = "127.0.0.1"
  bind_port = $z->{ports}[$i]
  cert_path = "$z->{pki}/e$i.crt"
  key_path = "$z->{pki}/e$i.key"
  ca_path = "$z->{ca}"
  accept_config = true
  accept_commands = false
}
object ApiUser "root" {
  password = "$z->{password}"
  permissions = [ "*" ]
}
HACONF
}

# icinga2_ha_start(name => NAME, conf => TEXT, %icinga2_start_options) -> ($e1, $e2)
# Two Icinga 2 instances forming the HA zone "master": endpoints NAME1.localhost and
# NAME2.localhost (certificates from `icinga2 pki`, one CA), each listening on 127.0.0.1 at a
# port of its own, each with its own temp dir (as icinga2_start), both loading TEXT. Each
# handle has {api} as SiteTest::Icinga2Api's (url https://NAMEi.localhost:PORT, ca, user,
# password, passfile; endpoint, the name) so api_get/api_post work on it. libcurl resolves
# *.localhost to the loopback itself (curl 7.88 here), so the names need no /etc/hosts entry
# and clients verify the certificates' names. Returns once both API listeners answer and the
# cluster connection is up (icinga2_ha_connected).
sub icinga2_ha_start {
    my (%o) = @_;
    require SiteTest::Icinga2Api;
    my $name = $o{name} // 'ha';
    my $pki = abs_path(tempdir('st-hapki-XXXXXX', TMPDIR => 1, CLEANUP => 1));
    my %z = (pki => "$pki/ca", endpoints => [ map { "$name$_.localhost" } 1, 2 ], password => 'ha-secret-0039');
    mkdir $z{pki};
    $z{ca} = SiteTest::Icinga2Api::_pki($z{pki}, $z{endpoints}[0] => 'e0', $z{endpoints}[1] => 'e1');
    my @p = (SiteTest::Icinga2Api::free_port());
    do { $p[1] = SiteTest::Icinga2Api::free_port() } while $p[1] == $p[0];
    $z{ports} = \@p;
    spew("$pki/root.pass", "$z{password}\n");
    my @ic;
    for my $i (0, 1) {
        my $ic = icinga2_start(%o, name => "$name" . ($i + 1), conf => _icinga2_ha_conf(\%z, $i) . ($o{conf} // ''));
        $ic->{api} = { url => "https://$z{endpoints}[$i]:$p[$i]", port => $p[$i], ca => $z{ca}, user => 'root',
                       password => $z{password}, passfile => "$pki/root.pass", endpoint => $z{endpoints}[$i] };
        push @ic, $ic;
    }
    for my $ic (@ic) {
        wait_for(sub { my ($st) = SiteTest::Icinga2Api::api_get($ic, '/v1/status/IcingaApplication'); ($st // 0) == 200 },
                 $o{timeout} // $START_TIMEOUT, 0.2)
            or croak "icinga2 API not answering on $ic->{api}{url}\n" . _tail($ic->{log}, 20);
    }
    icinga2_ha_connected(@ic, $o{timeout} // 60) or croak "HA zone: the endpoints did not connect\n"
        . join("\n", map { "--- $_->{log}:\n" . _tail($_->{log}, 20) } @ic);
    return @ic;
}

# icinga2_ha_connected($e1, $e2, TIMEOUT): wait until each endpoint's ApiListener status
# names the other as connected (/v1/status/ApiListener, api.conn_endpoints). 1 or undef.
# Icinga 2.13 retries a lost cluster connection every 10 s.
sub icinga2_ha_connected {
    my ($e1, $e2, $timeout) = @_;
    require SiteTest::Icinga2Api;
    my $sees = sub {
        my ($ic, $other) = @_;
        my ($st, $j) = SiteTest::Icinga2Api::api_get($ic, '/v1/status/ApiListener');
        return 0 unless ($st // 0) == 200;
        my $api = $j->{results}[0]{status}{api} or return 0;
        return scalar grep { $_ eq $other->{api}{endpoint} } @{ $api->{conn_endpoints} || [] };
    };
    return wait_for(sub { $sees->($e1, $e2) && $sees->($e2, $e1) }, $timeout // 60, 0.25);
}

1;

__END__

=head1 NAME

SiteTest - private Icinga 2 / Nagios 4 instances and a remote-site fixture for sitedump's tests

=head1 SYNOPSIS

  use FindBin; use lib "$FindBin::Bin/lib";
  use Test::More; use utf8;
  use SiteTest;

  my ($ic, $fx) = remote_fixture();            # Icinga 2 "remote site", described in $fx
  my $rows = $ic->query("GET services\nColumns: host_name description state");
  my $r = run_cmd([sitedump_bin(), '-s', 'unix:' . $ic->livestatus]);
  my $ng = nagios_start(objects => $cfg_text);  # central
  $ng->submit_checkresult($r->{out});
  my $st = $ng->wait_status(sub { $_[0]{services}{'web server 01'}{http}{has_been_checked} }, 20);
  done_testing;                                 # daemons are stopped in END in any case

=head1 FUNCTIONS (exported)

=over

=item icinga2_start(conf => TEXT, name => NAME, itl => 1, checker => 0, debug => 0, status_interval => 1, timeout => 30)

Private Icinga 2 in a fresh temp dir, run in the foreground in a session of its own. The config
has C<include E<lt>itlE<gt>>, a LivestatusListener (unix socket), an ExternalCommandListener
FIFO, a StatusDataWriter (status.dat + objects.cache every C<status_interval> s) and TEXT.
No CheckerComponent unless C<checker =E<gt> 1> (so nothing is ever executed, no freshness checks).
Returns once C<GET status> answers; dies with the log tail otherwise. Handle keys: C<dir pid
livestatus command_pipe status_file objects_cache log console conf>; methods C<query($req)>
(rows as arrays), C<query_hash($req)> (rows as hashes, needs Columns:), C<command($cmd, $ts)>,
C<status()>, C<wait_status(\&cond, $timeout)>, C<objects()>, C<processes()>, C<log_tail($n)>,
C<validate()> (exit code and output of C<icinga2 daemon -C> on this config, private paths),
C<validate_command()> (the same as one shell command line, e.g. for C<siteload --check-command>),
C<stop()>.

C<stock =E<gt> 1> adds private copies of the Debian package's C</etc/icinga2/conf.d> (its apply
rules ping4/ssh/..., groups linux-servers/..., the user icingaadmin, notifications.conf) and of
C</etc/icinga2/scripts>, with C<include E<lt>pluginsE<gt>>, C<PluginDir> and a
NotificationComponent, as the package's icinga2.conf would give them; C<stock_mail =E<gt> PATH>
makes the copied mail scripts run PATH instead of mail(1).

=item nagios_start(objects => TEXT | [FILE_OR_TEXT, ...], extra_cfg => {...}, base => 1, name => NAME, debug => 0, timeout => 30)

Private C<nagios4 -d> with every path private (validated with C<nagios4 -v> first; dies with
its errors). C<base> adds passive templates C<sitetest-host>/C<sitetest-service>, the contact
C<sitetest-nobody>, the timeperiod C<sitetest-24x7> and the command C<sitetest-dummy> (Nagios
needs at least one contact and one service). Defaults besides those the brief requires:
notifications, event handlers, active checks and freshness checks off (override through
C<extra_cfg>). Handle keys: C<dir pid cfg log lock_file command_file checkresult_dir
status_file objects_cache retention query_socket>; methods C<command($cmd, $ts)> (FIFO),
C<submit_checkresult($text)>, C<status()>, C<wait_status()>, C<objects()>, C<processes()>,
C<log_text()>, C<validate()> (exit code and output of C<nagios4 -v> on the nagios.cfg as it is now),
C<validate_command()> (the same as a shell command line), C<stop()>.

=item nagios_verify([FILE_OR_TEXT, ...], base => 0, extra_cfg => {...})  /  nagios_verify(FILE, ...)

Runs C<nagios4 -v> on a private nagios.cfg holding these object files; returns (exit code, output).

=item remote_fixture(name => NAME)

An Icinga 2 remote site (5 hosts, 12 services) set up through Livestatus COMMANDs with past
timestamps; returns the handle (list context: handle and description; also in
C<$handle-E<gt>{fixture}>). The description: C<hosts>/C<services> (expected state, state_type,
attempt [Nagios counting], icinga_attempt, checked, plugin_output, long_plugin_output [real LF],
perf_data, last_check, last_state_change, acknowledged, acknowledgement_type, results sent,
groups, vars, notes...), C<downtimes>, C<comments>, C<acks>, C<hostgroups>, C<servicegroups>,
C<now>.

=item icinga2_ha_start(name => NAME, conf => TEXT, ...)  /  icinga2_ha_connected($e1, $e2, TIMEOUT)

Two Icinga 2 instances forming the HA zone C<master> on 127.0.0.1 (endpoints
C<NAME1.localhost>, C<NAME2.localhost>, certificates from C<icinga2 pki>, C<accept_config>
on), both loading TEXT; each handle has C<{api}> as SiteTest::Icinga2Api's (url, ca, user,
password, passfile, endpoint). Returns once the cluster connection is up;
C<icinga2_ha_connected> waits for it again (after a reload or restart). An Icinga 2 handle's
C<halt()> stops the daemon but keeps its dir and state, C<restart()> starts it again there.

=item parse_status_dat(PATH, raw => 0), parse_objects_cache(PATH, raw => 0)

Independent parsers; values decoded from UTF-8, not unescaped.

=item snapshot_object(now => TIME, FIELD => VALUE, ...)

A hash ref: one host or service object of a crafted snapshot document (for
C<sitedump --snapshot>) with defaults for every field (state 0 hard, checked, C<last_check>
TIME-100, C<last_state_change> TIME-1000, not acknowledged, empty alias, address, parents,
groups, contacts, contact_groups, notes..., C<custom_variables> {}, C<check_command>
C<check_dummy>, check_interval 5, retry_interval 1); the FIELDs given override them or add
C<name> / C<host_name>, C<description>. TIME defaults to the current time.

=item snapshot_json(KEY => VALUE, ...)

The JSON text (UTF-8 bytes) of an object whose top-level keys are in the order given, e.g. a
snapshot document in writer order (C<format>, C<version>, C<site>, ... before the records, as
a streaming reader needs them); nested hashes have sorted keys. Write it with C<spew>.

=item run(\@argv, OPTIONS), run_defaults(OPTIONS)

C<run_cmd> with the test file's defaults: C<run_defaults(timeout =E<gt> 60, env =E<gt> {...})>
sets them once for the file (timeout 180 s unless set); the OPTIONS of a call override them,
its C<env> is merged over theirs. The result also has C<cpu>: the command's user + system CPU
seconds.

=item guard(SECONDS)

The hang guard of a test file: C<alarm> of SECONDS times C<guard_scale()> (x3 for a sanitized
build, detected from the binaries; x2 when the load average is above the number of CPUs;
times C<SITETEST_GUARD_SCALE> if set). A guard, not a timing check. Returns the seconds set.
C<guard_scale()> and C<sanitized_build()> can be imported.

=item wait_for(\&cond, $timeout, $interval), run_cmd(\@argv, stdin => ..., timeout => ..., env => {...}), write_checkresult($dir, $text), repo_root(), sitedump_bin()

=back

Cleanup: stop(), END, SIGINT/TERM/HUP/QUIT/ALRM handlers, and a guardian process per daemon
that kills it when the test script disappears (SIGKILL). C<SITETEST_KEEP=1> keeps temp dirs,
C<SITETEST_DEBUG=1> prints progress.

=cut
