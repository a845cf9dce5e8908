#!/usr/bin/perl
# Bundles by e-mail through a real MTA (issue 5, part 3):
#   - two private exim4 instances (Debian's exim4-daemon-light, own config files and spool
#     directories, never the system's): the remote site's MTA takes sitedump's message by local
#     submission (sitedump --sendmail "exim4 -C REMOTE.conf -odf -oi -t") and relays it over
#     SMTP to the central's MTA, a daemon on 127.0.0.1 on a free port, which delivers the
#     central's address into a Maildir in the test's temp dir: the message crosses a real
#     relay (Received: headers, SMTP transfer) as it would between sites;
#   - siteload --maildir into a real central (Icinga 2 via Livestatus, as 0012): the good
#     messages are applied in one run (cur/ with the S flag), the central mirrors the remote
#     (scripts/sitediff 0 differences); a message with one base64 character changed and one
#     without an attachment are moved to .rejected/cur/ with an X-Sitedump-Rejected header;
#     a redelivered (replayed) message is refused as old; --dry-run moves nothing;
#   - siteload --mail - (the .forward / aliases pipe): applied (0), tampered (1), the central
#     unreachable (75, EX_TEMPFAIL: the MTA keeps the message and retries; the retry works);
#   - a failing sendmail: sitedump exits 3 with one clear line.
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
use POSIX qw(setsid _exit);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(600);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $EXIM = $ENV{SITETEST_EXIM} // '/usr/sbin/exim4';
plan skip_all => "no $EXIM (apt-get install exim4-daemon-light)" unless -x $EXIM;

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $d = abs_path(tempdir('sd-mail-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/state", "$d/cfg", "$d/sdstate", "$d/mail", "$d/rmta/spool/db", "$d/rmta/log");
# exim delivers as nobody (it never delivers as root): the Maildir's parent is nobody's
my ($nuid, $ngid) = (getpwnam('nobody'))[2, 3];
chmod 0711, $d, "$d/rmta" or die;
chown $nuid, $ngid, "$d/mail", "$d/rmta/spool/db" or die;
my $MAILDIR = "$d/mail/Maildir";
my $TO = 'central@central.sitetest.invalid';

# run: SiteTest::run (timeout 180 s)

# ---- the central's MTA: an exim daemon on 127.0.0.1 ------------------------------------
package SiteTest::Exim { our @ISA = ('SiteTest::Instance') }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp') or die "$!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub exim_central {
    my ($port) = @_;
    my $dir = SiteTest::_newdir('exim', 'central-mta');
    make_path("$dir/spool", "$dir/log");
    spew("$dir/exim.conf", <<"EOF");
# private test instance: own spool, log and pid file; only 127.0.0.1:$port
primary_hostname = central.sitetest.invalid
qualify_domain = central.sitetest.invalid
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
pid_file_path = $dir/exim.pid
exim_user = root
exim_group = root
never_users =
keep_environment =
daemon_smtp_ports = $port
local_interfaces = <; 127.0.0.1
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
queue_run_max = 0
domainlist local_domains = central.sitetest.invalid
acl_smtp_rcpt = acl_rcpt

begin acl
acl_rcpt:
  accept domains = +local_domains
         local_parts = central
  deny   message = relay not permitted

begin routers
central:
  driver = accept
  domains = +local_domains
  local_parts = central
  transport = maildir_t

begin transports
maildir_t:
  driver = appendfile
  directory = $MAILDIR
  maildir_format
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add
  user = nobody
  group = nogroup
  mode = 0600
EOF
    my $self = bless { dir => $dir, owner => $$, kind => 'exim', name => 'central-mta',
                       log => "$dir/log/mainlog", conf => "$dir/exim.conf" }, 'SiteTest::Exim';
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setsid();
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$dir/console.log");
        open(STDERR, '>&', \*STDOUT);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT ALRM PIPE);
        { exec { $EXIM } $EXIM, '-C', "$dir/exim.conf", '-bdf' };
        _exit(127);
    }
    @$self{qw(pid sid child)} = ($pid, $pid, $pid);
    SiteTest::_register($self);
    $self->_start_guardian_;
    wait_for(sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 1) }, 20)
        or die "central exim does not listen on $port:\n" . $self->log_tail(20) . (slurp("$dir/console.log") // '');
    return $self;
}

my $PORT = free_port();
my $cmta = exim_central($PORT);
ok($cmta->alive, "central MTA: exim daemon on 127.0.0.1:$PORT");

# the remote site's MTA: local submission, relays everything to the central over SMTP
my $RCONF = "$d/rmta/exim.conf";
spew($RCONF, <<"EOF");
primary_hostname = remote.sitetest.invalid
qualify_domain = remote.sitetest.invalid
spool_directory = $d/rmta/spool
log_file_path = $d/rmta/log/%slog
exim_user = root
exim_group = root
never_users =
keep_environment =
host_lookup =

begin routers
relay:
  driver = accept
  transport = smtp_t

begin transports
smtp_t:
  driver = smtp
  hosts = 127.0.0.1
  hosts_override
  port = $PORT
  allow_localhost
  user = nobody
EOF
my $SENDMAIL = "$EXIM -C $RCONF -odf -oi -t";
sub submit {           # a message of our own through the remote MTA
    my ($text) = @_;
    my $r = run([$EXIM, '-C', $RCONF, '-odf', '-oi', '-t'], stdin => $text);
    is($r->{rc}, 0, 'remote MTA takes the message') or diag $r->{err};
}
sub maildir_files { my ($sub) = @_; opendir(my $dh, "$MAILDIR/$sub") or return (); sort grep { !/^\./ } readdir $dh }
sub wait_new { my ($n) = @_; wait_for(sub { my @f = maildir_files('new'); @f == $n }, 30) }
my %name;                # which message is which file in new/
sub arrived {
    my ($what, $n) = @_;
    ok(wait_new($n), "the $what message arrives in the Maildir") or diag $cmta->log_tail(20);
    my %known = map { $_ => 1 } values %name;
    my @new = grep { !$known{$_} } maildir_files('new');
    is(scalar @new, 1, "one new file for the $what message");
    $name{$what} = $new[0];
}

# ---- remote, key, central --------------------------------------------------------------
my ($rem, $fx) = remote_fixture(name => 'remote');
my $RLS = 'unix:' . $rem->livestatus;
my $r = run([$SITEDUMP, 'keygen', '-o', "$d/alpha"]);
is($r->{rc}, 0, 'keygen') or diag $r->{err};
system('cp', "$d/alpha.pub", "$d/trust/") == 0 or die;
my $central = icinga2_start(name => 'central', conf => qq{include_recursive "$d/cfg"\n});
my $CLS = 'unix:' . $central->livestatus;

my @DUMP = ($SITEDUMP, '-v', '-k', "$d/alpha.key", '--site', 'alpha', '--state-dir', "$d/sdstate", '-s', $RLS);
sub mail_bundle {
    my (@args) = @_;
    my $r = run([@DUMP, @args, '--mail-to', $TO, '--mail-from', 'sitedump@remote.sitetest.invalid',
                 '--sendmail', $SENDMAIL]);
    is($r->{rc}, 0, "sitedump @args --mail-to: exit 0") or diag $r->{err};
    like($r->{err}, qr/^sitedump: sent alpha-\d+-\w+\.tar\.gz \(mail to \Q$TO\E through '\Q$SENDMAIL\E'\)$/m,
         'sitedump says what it sent');
    return $r;
}
sub capture {            # the message sitedump would send, kept in a file instead
    my ($name, @args) = @_;
    my $r = run([@DUMP, @args, '--mail-to', $TO, '--sendmail', "cat > $d/$name"]);
    is($r->{rc}, 0, "sitedump @args: message captured in $name") or diag $r->{err};
    return slurp("$d/$name");
}
sub tamper {             # one base64 character of the attachment changed
    my ($msg) = @_;
    my ($head, $b64) = $msg =~ /\A(.*?Content-Disposition: attachment[^\n]*\n\n)(.*)\z/s or die 'no attachment';
    my @l = split /\n/, $b64, -1;
    my $c = substr($l[2], 20, 1);
    substr($l[2], 20, 1) = $c eq 'A' ? 'B' : 'A';
    return $head . join("\n", @l);
}
my @LOAD = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/state", '--config-dir', "$d/cfg",
            '--config-format', 'icinga2', '--reload-command', "kill -HUP $central->{pid}", '--livestatus', $CLS);
sub diff_central { run([$SITEDIFF, '--a-livestatus', $RLS, '--b-livestatus', $CLS]) }
sub rejected_files { opendir(my $dh, "$MAILDIR/.rejected/cur") or return (); sort grep { !/^\./ } readdir $dh }

# ---- four messages through the MTAs: good, tampered, no attachment, good ---------------
mail_bundle('--all');
arrived('both', 1);
my $m1 = slurp("$MAILDIR/new/$name{both}");
like($m1, qr/^Received: from .*\n\tby central\.sitetest\.invalid with esmtp/m, 'it was relayed over SMTP');
like($m1, qr/^Subject: sitedump bundle: site alpha, both, sequence (\d+)$/m, 'subject names site, kind and sequence');
like($m1, qr/^Content-Disposition: attachment; filename="alpha-\d+-both\.tar\.gz"$/m, 'the attachment is named SITE-SEQ-KIND');

my $good = capture('t.eml');
submit(tamper($good));
arrived('tampered', 2);
submit("To: $TO\nSubject: hello\n\nno bundle in here\n");
arrived('plain', 3);

$rem->command("ADD_HOST_COMMENT;gw;1;ivan;comment after the first bundle", time - 2);
$rem->command("PROCESS_SERVICE_CHECK_RESULT;web server 01;load;0;LOAD OK - recovered|load1=0.1", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = ivan") } }, 20);
mail_bundle();
arrived('state', 4);

# ---- siteload --maildir ----------------------------------------------------------------------
$r = run([@LOAD, '--maildir', $MAILDIR]);
is($r->{rc}, 1, 'siteload --maildir: exit 1 (two messages refused)') or diag $r->{err};
is_deeply([maildir_files('new')], [], 'new/ is empty');
is_deeply([sort(maildir_files('cur'))], [sort map { "$name{$_}:2,S" } qw(both state)], 'the good ones are in cur/ with the S flag');
like($r->{err}, qr{maildir new/\Q$name{both}\E: applied; moved to cur/\Q$name{both}\E:2,S}, 'applied message named');
my @rej = rejected_files();
is_deeply([sort @rej], [sort map { "$name{$_}:2," } qw(tampered plain)], 'the bad ones are in .rejected/cur/');
ok(-f "$MAILDIR/.rejected/maildirfolder", '.rejected is a Maildir++ folder');
my $rt = slurp("$MAILDIR/.rejected/cur/$name{tampered}:2,");
like($rt, qr/\AX-Sitedump-Rejected: \S.*\n(?i:Return-path): /, 'tampered: the reason header on top of the stored copy');
unlike($rt, qr/\AX-Sitedump-Rejected: [^\n]*[^\x20-\x7e\n]/, 'the reason is one line of printable ASCII');
my ($why) = $rt =~ /\AX-Sitedump-Rejected: (.*)\n/;
note("tampered message refused: $why");
like($why, qr/gzip|signature|hash|checksum|verif|corrupt|zlib|bundle/i, 'tampered: refused as a bad bundle');
like(slurp("$MAILDIR/.rejected/cur/$name{plain}:2,"), qr/\AX-Sitedump-Rejected: not a MIME message \(no Content-Type header\): no bundle attachment\n/,
     'no attachment: refused with the reason');
like($r->{err}, qr{maildir new/\Q$name{plain}\E: refused: .*; moved to \.rejected/cur/\Q$name{plain}\E:2,}, 'refusal reported on stderr');
$r = diff_central();
is($r->{rc}, 0, 'sitediff: the central mirrors the remote') or diag $r->{out}, $r->{err};
like($r->{out}, qr/0 differences \(5 hosts, 12 services compared\)/, 'all objects compared');
my ($seq2) = slurp("$MAILDIR/cur/$name{state}:2,S") =~ /sequence (\d+)/;
like(slurp("$d/state/alpha.imported"), qr/^$seq2 /, 'the newest sequence is recorded');
my $link = $central->query_hash("GET services\nColumns: plugin_output\nFilter: host_name = sitedump-alpha");
like($link->[0]{plugin_output} // '', qr/bundle $seq2 \(state\) of site alpha/, 'link service: the newest bundle');

$r = run([@LOAD, '--maildir', $MAILDIR]);
is($r->{rc}, 0, 'again: nothing to do, exit 0') or diag $r->{err};

# a redelivered message: refused as old; --dry-run first moves nothing
spew("$MAILDIR/new/1795000000.M1P1.redelivered", slurp("$MAILDIR/cur/$name{state}:2,S"));
$r = run([@LOAD, '--dry-run', '--maildir', $MAILDIR]);
is($r->{rc}, 1, 'dry run of a replay: exit 1');
like($r->{err}, qr/refused: not newer than the last imported sequence \d+ \(dry run: not moved\)/, 'dry run says so');
is_deeply([maildir_files('new')], ['1795000000.M1P1.redelivered'], 'dry run: still in new/');
$r = run([@LOAD, '--maildir', $MAILDIR]);
is($r->{rc}, 1, 'replayed message: exit 1');
like(slurp("$MAILDIR/.rejected/cur/1795000000.M1P1.redelivered:2,"), qr/\AX-Sitedump-Rejected: refused: not newer than the last imported sequence $seq2\n/,
     'replay filed in .rejected with the reason');

# ---- siteload --mail - (a .forward or aliases pipe) ------------------------------------------
$rem->command("ADD_HOST_COMMENT;gw;1;judy;comment for the pipe", time - 1);
wait_for(sub { @{ $rem->query("GET comments\nColumns: id\nFilter: author = judy") } }, 20);
my $m3 = capture('m3.eml');
$r = run([@LOAD, '--mail', '-'], stdin => tamper($m3));
is($r->{rc}, 1, '--mail -: a tampered message exits 1 (the MTA bounces it)');
like($r->{err}, qr/^siteload: \/dev\/fd\/\d+: .+/m, 'with the reason');
$r = run([@LOAD[0 .. $#LOAD - 2], '--livestatus', "unix:$d/no-such-socket", '--mail', '-'], stdin => $m3);
is($r->{rc}, 75, '--mail -: the central unreachable exits 75 (EX_TEMPFAIL: the MTA retries)') or diag $r->{err};
$r = run([@LOAD, '--mail', '-'], stdin => $m3);
is($r->{rc}, 0, '--mail -: the retry is applied') or diag $r->{err};
is(diff_central()->{rc}, 0, 'the central mirrors the remote again');
$r = run([@LOAD, '--mail', '-'], stdin => "Subject: x\n\nhi\n");
is($r->{rc}, 1, '--mail -: no attachment exits 1');
like($r->{err}, qr/^siteload: message on stdin: refused: not a MIME message/m, 'and says why');
$r = run([@LOAD, '--mail', '-', "$d/t.eml"]);
is($r->{rc}, 2, '--mail with a bundle argument: usage error');

# ---- sendmail failing ----------------------------------------------------------------------
$r = run([@DUMP, '--mail-to', $TO, '--sendmail', 'cat >/dev/null; exit 75']);
is($r->{rc}, 3, 'sendmail exits 75: sitedump exits 3');
like($r->{err}, qr/^sitedump: alpha-\d+-state\.tar\.gz not delivered: sendmail 'cat >\/dev\/null; exit 75' exited with status 75$/m,
     'one clear line');
$r = run([@DUMP, '--mail-to', $TO, '--sendmail', "$d/no-such-sendmail -t"]);
is($r->{rc}, 3, 'sendmail missing: exit 3');
like($r->{err}, qr/not delivered: sendmail '.*no-such-sendmail -t': command not found \(exit status 127\)$/m, 'says so');
$r = run([@DUMP, '--mail-to', "a\@b\nBcc: x\@y"]);
is($r->{rc}, 2, 'an address with a line break: usage error');

$cmta->stop;
done_testing;
