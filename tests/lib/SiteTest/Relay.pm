package SiteTest::Relay;
# A byte-transparent relay in front of a Livestatus socket, for tests that need to see or
# steer what siteload sends to a real core: every request is passed on to the real socket and
# every answer back, each client connection served by a process of its own (siteload keeps
# its command connection open while it reads the central on another).
#   relay(upstream => PATH, path => PATH, hook => CODE, drop => 1, log => FILE)
#     hook: run once, before the first COMMAND request goes on (e.g. change the core's config)
#     drop: swallow every COMMAND request (a server that says nothing about a command)
#     log:  append each request's first line and its Filter lines, one request per line
# Returns the relay's pid; stop it with kill TERM + waitpid.
use strict;
use warnings;
use Exporter 'import';
use IO::Select;
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);

our @EXPORT = qw(relay);

sub _log {
    my ($file, $req) = @_;
    return unless $file;
    for my $r (split /\n\n/, $req) {
        my @l = split /\n/, $r;
        next unless @l;
        open(my $fh, '>>', $file) or die "relay log: $!";
        print $fh join(' | ', $l[0], grep { /^Filter:/ } @l[1 .. $#l]), "\n";
        close $fh;
    }
}

sub _serve {
    my ($c, $buf, %o) = @_;
    my $up = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $o{upstream}) or die "relay up: $!";
    my $sel = IO::Select->new($c, $up);
    my $out = $buf;
    while (1) {
        $out =~ s/COMMAND [^\n]*\n\n//g if $o{drop};
        if (length $out && $out =~ /\n\n/) {
            my $cut = rindex($out, "\n\n") + 2;
            _log($o{log}, substr($out, 0, $cut));
            syswrite($up, substr($out, 0, $cut));
            substr($out, 0, $cut) = '';
        }
        my @ready = $sel->can_read(60) or last;
        for my $h (@ready) {
            my $k = sysread($h, my $chunk, 65536);
            if (!$k) {
                return if $h == $up;            # the server is done
                $sel->remove($c);               # the client is: let the server answer
                next;
            }
            if ($h == $c) { $out .= $chunk } else { syswrite($c, $chunk) }
        }
    }
}

sub relay {
    my (%o) = @_;
    my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $o{path}, Listen => 16) or die "relay: $!";
    my $pid = fork() // die "fork: $!";
    return ($srv->close, $pid)[1] if $pid;
    my $hooked = 0;
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $srv->accept) {
        my $buf = '';
        while ($buf !~ /\n\n/) { sysread($c, $buf, 65536, length $buf) or last }
        $o{hook}->() if $buf =~ /^COMMAND / && $o{hook} && !$hooked++;
        if (fork()) { close $c; next }
        _serve($c, $buf, %o);
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}

1;
