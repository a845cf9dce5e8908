#!/usr/bin/perl
# Bad input: every failure gives one line naming the source and the problem,
# exit code 2, and no output file. Truncated and malformed replies cannot be
# produced on demand by a real core, so a scripted unix-socket server plays
# the Livestatus side here (the only mock in the suite); server errors and
# unknown columns from the real Icinga 2 are tested in 0002. Also: -o "" and -o DIRECTORY.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::UNIX;
use POSIX ':sys_wait_h';
use FindBin;
use lib "$FindBin::Bin/lib";
use SiteTest qw(run guard repo_root);

my $sitedump = './sitedump';
my $dir = tempdir(CLEANUP => 1);
my $sock = "$dir/live";

# Serve one canned reply per connection, in order; then exit.
sub serve {
    my @replies = @_;
    unlink $sock;
    my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $sock, Listen => 5)
        or die "listen: $!";
    my $pid = fork // die;
    if (!$pid) {
        local $SIG{ALRM} = sub { exit 0 };
        guard(20);
        for my $r (@replies) {
            my $c = $srv->accept or exit 0;
            my $req = '';
            while (defined(my $l = <$c>)) { last if $l eq "\n"; $req .= $l }
            if ($r eq 'HANG') { sleep 10; next }
            print $c $r;
            close $c;
        }
        exit 0;
    }
    close $srv;
    return $pid;
}

sub hdr { my ($code, $body) = @_; sprintf("%03d %11d\n", $code, length $body) }

# Run sitedump with -o (SiteTest's run); return (exit code, stderr, output file exists?, temp files left).
sub run_o {
    my (@args) = @_;
    my $out = "$dir/out";
    unlink $out;
    my $r = run([$sitedump, @args, '-o', $out], timeout => 60);
    opendir(my $dh, $dir) or die; my @left = grep { /^\.out\./ } readdir $dh; closedir $dh;
    return ($r->{rc}, $r->{err}, -e $out, scalar @left);
}

sub case {
    my ($name, $replies, $args, $like) = @_;
    my $pid = serve(@$replies);
    my ($rc, $err, $exists, $temps) = run_o('-s', "unix:$sock", @$args);
    is($rc, 2, "$name: exit 2");
    like($err, $like, "$name: message");
    is(scalar(() = $err =~ /\n/g), 1, "$name: one line");
    ok(!$exists && !$temps, "$name: no output file, no temp file");
    kill 'KILL', $pid; waitpid $pid, 0;
}

my $good_hosts = "[]";
case('truncated body', [hdr(200, '[["h1",0' x 50) . '[["h1",0'], [],
     qr/^sitedump: livestatus unix:\S+: reply truncated: 8 of 400 bytes$/m);
case('malformed JSON', [hdr(200, '[["h1",0,]]') . '[["h1",0,]]'], [],
     qr/^sitedump: livestatus unix:\S+: malformed JSON reply after row 0: unexpected ']' at byte 9$/m);
case('truncated JSON', [hdr(200, '[["h1",0') . '[["h1",0'], [],
     qr/^sitedump: livestatus unix:\S+: truncated JSON reply after row 0$/m);
case('wrong column count', [hdr(200, '[["h1",0]]') . '[["h1",0]]'], [],
     qr/^sitedump: livestatus unix:\S+: reply row has 2 columns, asked for \d+$/m);
case('garbage header', ["HTTP/1.0 400 Bad request\r\n\r\n"], [],
     qr/^sitedump: livestatus unix:\S+: malformed reply header$/m);
case('short header', ["200  "], [],
     qr/^sitedump: livestatus unix:\S+: reply ended after 5 bytes of the 16-byte header$/m);
case('server error', [hdr(404, "Table 'hosts' does not exist.\n") . "Table 'hosts' does not exist.\n"], [],
     qr/^sitedump: livestatus unix:\S+: server error 404: Table 'hosts' does not exist\.$/m);
case('second query fails', [hdr(200, $good_hosts) . $good_hosts, hdr(452, "Error: boom\nstack") . "Error: boom\nstack"], [],
     qr/^sitedump: livestatus unix:\S+: server error 452: Error: boom$/m);
case('timeout', ['HANG'], ['--timeout', '1'],
     qr/^sitedump: livestatus unix:\S+: reading reply: Connection timed out$/m);

unlink $sock;
my ($rc, $err, $exists) = run_o('-s', "unix:$dir/nosuch");
is($rc, 2, 'unreachable socket: exit 2');
like($err, qr/^sitedump: livestatus unix:\S+nosuch: connect: No such file or directory$/, 'unreachable socket: message');
ok(!$exists, 'unreachable socket: no output');

($rc, $err) = run_o('-s', 'tcp:127.0.0.1:1');
is($rc, 2, 'refused tcp: exit 2');
like($err, qr/connect: Connection refused/, 'refused tcp: message');

for my $bad (['-C', '--format', 'checkresult'], ['--format', 'xml'], ['--all'], ['-H', "Filter: a\n\nGET x"],
             ['--status-file', 'x'], ['-i', 'abc']) {
    ($rc, $err) = run_o('-s', 'unix:/nonexistent', @$bad);
    is($rc, 2, "usage error @$bad: exit 2");
}

# -o that is not a file to write (regressions of the security review, session 1). The source
# is the committed status.dat fixture, good input, so the exit 2 is the -o argument's doing.
my @src = ('--status-file', repo_root() . '/tests/data/statusdat/nagios4/status.dat',
           '--objects-cache', repo_root() . '/tests/data/statusdat/nagios4/objects.cache');
# -o "" read before the buffer
is(run([$sitedump, @src, '-o', ''])->{rc}, 2, 'sitedump -o "": usage error');
{
    my $r = run([$sitedump, @src, '-o', $dir]);
    is($r->{rc}, 2, '-o DIRECTORY for a plain export: exit 2');
    like($r->{err}, qr/is a directory/, '-o DIRECTORY: reason');
}

# Livestatus specs that cannot name a socket: said before any connect (issue 20)
for my $c (['unix:', qr/: empty path$/], ["unix:$dir", qr/: not a socket \(a directory\)$/],
           ['/etc/passwd', qr/: not a socket \(a file\)$/], ['tcp:localhost:99999', qr/: bad port '99999' \(1-65535\)$/],
           ['tcp:localhost:', qr/: (expected tcp:HOST:PORT|bad port '')/]) {
    my $r = run([$sitedump, '-s', $c->[0]]);
    is($r->{rc}, 2, "-s $c->[0]: exit 2");
    like($r->{err}, $c->[1], "-s $c->[0]: says what is wrong") or diag $r->{err};
}

# help for every subcommand, and a command word that is none (issue 20)
my $siteload = repo_root() . '/siteload';
for my $c ([$sitedump, 'keygen'], [$siteload, 'keygen'], [$siteload, 'verify'], [$siteload, 'inspect'],
           [$siteload, 'stale']) {
    my $r = run([@$c, '--help']);
    is($r->{rc}, 0, "@$c --help: exit 0");
    like($r->{out}, qr/^usage: \S+ $c->[1] /, "@$c --help: its own usage on stdout");
}
{
    my $r = run([$siteload, 'verfy', '-p', 'x.pub', 'b']);
    is($r->{rc}, 2, 'siteload verfy: exit 2');
    like($r->{err}, qr/^siteload: unknown command 'verfy'/, 'siteload verfy: an unknown command, named');
    $r = run([$siteload, 'verify', "$dir/b.tar.gz"]);
    is($r->{rc}, 2, 'siteload verify without -p: exit 2');
    like($r->{err}, qr/^siteload: verify: -p SITE\.pub missing.*\nusage: siteload verify /s, 'the missing key named, then verify\'s usage');
}

done_testing();
