#!/usr/bin/perl
# Limits against a hostile remote (a valid key, untrusted content; docs/fidelity.md "Limits"):
# a signed bundle (sitedump --snapshot from a crafted snapshot document) with
#   - a fixed downtime ending in 2300, which Icinga 2's Livestatus showed as end -2147483648 so
#     that every import added another: imported five times, the central has ONE downtime,
#     ending 2147483647, and imports 2-5 send no downtime or comment;
#   - a 64 MiB comment (it kept a real Icinga 2 at 95% CPU for 25 minutes): siteload exits
#     normally and quickly, reports the cut, the central's comment is cut to 2048 bytes and
#     the core keeps answering;
#   - a check result with 100 KB of output: cut to 8192 bytes, reported;
#   - a host name of 256 bytes: refused with its reason (config and state).
# Against a real Icinga 2 (Livestatus COMMAND) and a real Nagios 4 (spool + FIFO, status.dat).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

guard(900);
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $d = abs_path(tempdir('sd-limits-XXXXXX', TMPDIR => 1, CLEANUP => 1));
make_path("$d/trust", "$d/sdstate", "$d/cfg-ic", "$d/cfg-ng", "$d/st-ic", "$d/st-ng");

# run (SiteTest): also the CPU time of the command, $r->{cpu}
run_defaults(timeout => 300);

my $now   = int(time);
my $Y2300 = 10382734800;
my $MiB   = 1024 * 1024;
my $HUGE  = ('0123456789abcdef' x ($MiB / 16 * 64)) . 'END';   # 64 MiB and 3 bytes
my $LONGNAME = 'n' x 256;
sub obj { snapshot_object(now => $now, check_command => 'check_lim', @_) }
my @hosts    = (obj(name => 'lim-h'), obj(name => $LONGNAME));
my @services = (obj(host_name => 'lim-h', description => 'svc', state => 2, state_type => 1, current_attempt => 3,
                    last_state_change => $now - 500, plugin_output => 'CRITICAL ' . ('o' x 100_000)));
my @comments = ({ id => 1, host_name => 'lim-h', service_description => 'svc', entry_type => 1, author => 'bob',
                  comment => $HUGE, persistent => JSON::PP::true, entry_time => $now - 40 });
my @downtimes = ({ id => 2, host_name => 'lim-h', service_description => 'svc', start_time => $now - 60,
                   end_time => $Y2300, fixed => JSON::PP::true, duration => 0, triggered_by => 0, author => 'alice',
                   comment => 'until 2300', entry_time => $now - 30 });
# a streaming reader needs format and version before the records: keys in writer order
spew("$d/lim.json", snapshot_json(format => 'sitedump-snapshot', version => 1, site => 'lim', source => 'crafted',
      created => $now, parts => ['state', 'config'], hostgroups => [], servicegroups => [], hosts => \@hosts,
      services => \@services, comments => \@comments, downtimes => \@downtimes));
undef $HUGE;

my $r = run([$SITEDUMP, 'keygen', '-o', "$d/lim"]);
is($r->{rc}, 0, 'keygen');
system('cp', "$d/lim.pub", "$d/trust/") == 0 or die;
$r = run([$SITEDUMP, '--snapshot', "$d/lim.json", '--all', '-k', "$d/lim.key", '--site', 'lim',
          '--state-dir', "$d/sdstate", '-o', "$d/lim.bundle"]);
ok($r->{rc} == 0 || $r->{rc} == 1, 'sitedump --snapshot: bundle written') or diag $r->{err};
ok(-s "$d/lim.bundle", 'the bundle exists');
note(sprintf 'sitedump --snapshot of a 64 MiB comment: %.2f s CPU, bundle %d bytes', $r->{cpu}, -s "$d/lim.bundle");

# --dry-run: the cost of a 64 MiB comment to siteload itself
$r = run([$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-dry", '--dry-run', "$d/lim.bundle"]);
ok($r->{rc} == 0 || $r->{rc} == 1, 'siteload --dry-run: exits normally') or diag $r->{err};
ok($r->{cpu} < 10, sprintf('siteload --dry-run of the 64 MiB comment: %.2f s CPU', $r->{cpu}));

# Five imports of the same bundle (the sequence forgotten in between).
# $central->() reads the central: (downtimes [[end, comment]], comments [[author, comment]], output)
sub five_imports {
    my ($core, $st, $argv, $central, $alive) = @_;
    for my $i (1 .. 5) {
        unlink "$st/lim.imported";
        my $r = run($argv);
        diag $r->{err} if $ENV{SITETEST_DEBUG};
        ok($r->{rc} == 0 || $r->{rc} == 1, "$core import $i: exits normally (rc $r->{rc})") or diag $r->{err};
        note(sprintf "$core import $i: %.2f s CPU", $r->{cpu});
        ok($r->{cpu} < 10, "$core import $i: quick");
        like($r->{err}, qr/downtime 2 on service 'lim-h;svc': end $Y2300 after 2038.*clamped/, "$core import $i: clamp reported");
        like($r->{err}, qr/comment 1 on service 'lim-h;svc': comment cut to siteload's limit/, "$core import $i: cut reported");
        if ($i == 1) {
            like($r->{err}, qr/host '$LONGNAME': name longer than 255 bytes/, "$core: the 256-byte host name refused with its reason");
            like($r->{err}, qr/service 'lim-h;svc': plugin output cut to siteload's limit/, "$core: output cut reported");
            like($r->{err}, qr/downtimes 1 added 0 deleted, comments 1 added 0 deleted/, "$core import 1: one downtime, one comment");
        } else {
            like($r->{err}, qr/downtimes 0 added 0 deleted, comments 0 added 0 deleted/, "$core import $i: nothing added or deleted");
        }
        my ($dts, $cms) = $central->($i);
        is(scalar @$dts, 1, "$core import $i: one downtime on the central");
        is($dts->[0][0], 2147483647, "$core import $i: its end is 2147483647") if @$dts;
        my @bob = grep { $_->[0] eq 'bob' } @$cms;
        is(scalar @bob, 1, "$core import $i: one comment");
        is(length($bob[0][1] // ''), 2048, "$core import $i: the comment cut to 2048 bytes") if @bob;
        ok($alive->(), "$core import $i: the core still answers");
    }
}

# ---- Icinga 2 through Livestatus ------------------------------------------------------------
my $ic = icinga2_start(name => 'central-lim', conf => qq{include_recursive "$d/cfg-ic"\n});
my $ICLS = 'unix:' . $ic->livestatus;
five_imports('Icinga', "$d/st-ic",
    [$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-ic", '--config-dir', "$d/cfg-ic",
     '--reload-command', "kill -HUP $ic->{pid}", '--livestatus', $ICLS, "$d/lim.bundle"],
    sub {
        my $dts = $ic->query("GET downtimes\nColumns: end_time comment\nFilter: host_name = lim-h");
        my $cms = $ic->query("GET comments\nColumns: author comment\nFilter: host_name = lim-h\nFilter: entry_type = 1");
        return ($dts, $cms);
    },
    sub { my $s = eval { $ic->query("GET status\nColumns: program_start") }; $s && @$s });
my $svc = $ic->query_hash("GET services\nColumns: plugin_output\nFilter: host_name = lim-h");
is(length($svc->[0]{plugin_output}), 8192, 'Icinga: the output cut to 8192 bytes');

# ---- Nagios 4 through spool + FIFO ----------------------------------------------------------
# Nagios refuses to start without a host and a service
my $base = "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n"
         . "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n"
         . "define command {\n\tcommand_name\tcheck_lim\n\tcommand_line\t/bin/true\n}\n";
my $ng = nagios_start(name => 'central-lim-ng', objects => [$base], extra_cfg => { cfg_dir => "$d/cfg-ng" });
five_imports('Nagios', "$d/st-ng",
    [$SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-ng", '--config-dir', "$d/cfg-ng",
     '--reload-command', "kill -HUP $ng->{pid}", '--checkresults', $ng->{checkresult_dir},
     '--command-file', $ng->{command_file}, '--status-file', $ng->{status_file},
     '--objects-cache', $ng->{objects_cache}, "$d/lim.bundle"],
    sub {
        # the next import reads status.dat: wait until it shows this one's commands
        my $st = $ng->wait_status(sub {
            my $s = shift;
            (grep { ($_->{host_name} // '') eq 'lim-h' } @{ $s->{downtimes} })
                && (grep { ($_->{author} // '') eq 'bob' } @{ $s->{comments} })
        }, 30) || $ng->status;
        my @dts = map { [$_->{end_time}, $_->{comment}] } grep { ($_->{host_name} // '') eq 'lim-h' } @{ $st->{downtimes} };
        my @cms = map { [$_->{author}, $_->{comment_data}] } grep { $_->{entry_type} == 1 } @{ $st->{comments} };
        return (\@dts, \@cms);
    },
    sub { kill 0, $ng->{pid} });
my $nst = $ng->status;
is(length($nst->{services}{'lim-h'}{svc}{plugin_output} // ''), 8192, 'Nagios: the output cut to 8192 bytes');

done_testing;
