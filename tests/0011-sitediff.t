#!/usr/bin/perl
# scripts/sitediff: compares two sites' state (A the remote, B the central mirror).
# 1. Hand-written snapshot fixtures (tests/data/sitediff/): ref.json against variants, exact
#    difference lines, summary and exit codes; errors (exit 2, one line naming the source).
# 2. A real Icinga 2 (the remote fixture): the site against itself through Livestatus twice
#    and through its status.dat; then against a snapshot captured earlier while the site got a
#    new check result (and the snapshot an edited comment), which must show exactly those.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use File::Temp qw(tempdir);
use JSON::PP ();
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);
delete $ENV{OMD_SITE};

my $ROOT = repo_root();
my $SITEDIFF = "$ROOT/scripts/sitediff";
my $DATA = "$FindBin::Bin/data/sitediff";
my $BIN = sitedump_bin();

# run sitediff; lines of stdout and stderr decoded
sub sitediff {
    my (@args) = @_;
    my %o = ref $args[-1] eq 'HASH' ? %{ pop @args } : ();
    my $r = run_cmd([$^X, $SITEDIFF, map { Encode::encode('UTF-8', $_) } @args], timeout => 120, %o);
    my %res = (rc => $r->{rc}, out_raw => $r->{out});
    for my $k (qw(out err)) {
        my $t = Encode::decode('UTF-8', $r->{$k} // '');
        $res{$k} = [ split /\n/, $t ];
        $res{"${k}_text"} = $t;
    }
    return \%res;
}

# fixture B against ref.json as A: exact lines (then the summary) and exit code
sub case {
    my ($name, $b, $args, $want, $hosts, $svcs) = @_;
    my $r = sitediff('--a-json', "$DATA/ref.json", '--b-json', "$DATA/$b", @$args);
    my $n = @$want;
    is_deeply($r->{out}, [ @$want, "sitediff: $n differences ($hosts hosts, $svcs services compared)" ], "$name: output")
        or diag "got:\n" . join("\n", @{ $r->{out} });
    is($r->{rc}, $n ? 1 : 0, "$name: exit " . ($n ? 1 : 0));
    is($r->{err_text}, '', "$name: nothing on stderr");
}

# an error: exit 2, nothing on stdout, exactly one line on stderr matching $re
sub error_case {
    my ($name, $re, @args) = @_;
    my $r = sitediff(@args);
    is($r->{rc}, 2, "$name: exit 2");
    is($r->{out_text}, '', "$name: nothing on stdout");
    ok(@{ $r->{err} } == 1 && $r->{err}[0] =~ $re, "$name: one line on stderr naming the problem")
        or diag "stderr: $r->{err_text}";
}

# ======================================================================================
# 1. fixtures
case('identical (another export: other ids, entry times, order, fractional last_check, latency)',
     'same.json', [], [], 5, 8);
case('identical file with itself', 'ref.json', [], [], 5, 8);

case('changed output', 'changed-output.json', [], [
    q{service 'db01;disk': plugin_output: A 'DISK CRITICAL - C:\\\\temp is 99% full' B 'DISK CRITICAL - C:\\\\temp is 98% full'},
    q{service 'web server 01;HTTP': plugin_output: A 'OK - 200' B 'OK - 2000'},
    q{service 'web server 01;disk /var': long_plugin_output: A '/var 85%\nlast week 80%' B '/var 85%\n\tlast week 80%\x07'},
], 5, 8);

case('missing service (and its downtime with it: reported once)', 'missing-service.json', [], [
    q{service 'db01;mysql': only on A},
], 5, 7);

case('extra central-own host (with service, comment, downtime) ignored', 'extra-host.json', [], [], 5, 8);
case('extra central-own host with --strict', 'extra-host.json', ['--strict'], [
    q{host 'central-own': only on B},
], 5, 8);

case('prefix mapping', 'prefixed.json', ['--prefix', 'r1-'], [], 5, 8);
case('prefix mapping, --strict: only the central host is extra', 'prefixed.json', ['--prefix', 'r1-', '--strict'], [
    q{host 'central-own': only on B},
], 5, 8);
case('prefixed central without --prefix: every remote host missing', 'prefixed.json', [], [
    map { "host '$_': only on A" } 'db01', 'gw', 'häst-ü', 'pending host', 'web server 01'
], 0, 0);
case('--prefix on an unprefixed central', 'ref.json', ['--prefix', 'r1-'], [
    map { "host '$_': only on A (B has no 'r1-$_')" } 'db01', 'gw', 'häst-ü', 'pending host', 'web server 01'
], 0, 0);

case('missing downtime; flexible downtime with another duration', 'missing-downtime.json', [], [
    q{downtime only on A: service 'db01;disk' 1795288000-1795291600 fixed author 'alice' comment 'maint'},
    q{downtime only on A: service 'db01;mysql' 1795290000-1795297200 flexible duration 600 author 'frank' comment 'flexible backup window'},
    q{downtime only on B: service 'db01;mysql' 1795290000-1795297200 flexible duration 900 author 'frank' comment 'flexible backup window'},
], 5, 8);
case('missing downtime, --ignore downtimes', 'missing-downtime.json', ['--ignore', 'downtimes'], [], 5, 8);

case('duplicated comment', 'dup-comment.json', [], [
    q{comment only on B: service 'web server 01;HTTP' author 'bob' comment 'watch this' (A 1x, B 2x)},
], 5, 8);
case('duplicated comment, --ignore comments', 'dup-comment.json', ['--ignore', 'comments'], [], 5, 8);

case('different ack author (newest ack comment on each side)', 'ack-author.json', [], [
    q{service 'db01;disk': ack_author: A 'alice' B 'mallory'},
], 5, 8);
case('different ack author, --ignore ack_author', 'ack-author.json', ['--ignore', 'ack_author'], [], 5, 8);
case('different ack author, --ignore host:ack_author keeps the service one', 'ack-author.json', ['--ignore', 'host:ack_author'], [
    q{service 'db01;disk': ack_author: A 'alice' B 'mallory'},
], 5, 8);

case('never-checked objects with another state, type, attempt, output: not reported', 'never-checked.json', [], [], 5, 8);

{
    # checked on one side only: that is a difference, and every field is compared
    my $doc = JSON::PP->new->utf8->decode(slurp("$DATA/ref.json"));
    my ($s) = grep { $_->{description} eq 'never run' } @{ $doc->{services} };
    @$s{qw(has_been_checked state plugin_output last_check last_state_change)} = (JSON::PP::true, 0, 'OK - first run', 1795290555.9, 1795290555);
    my $dir = tempdir('sitediff-fx-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    spew("$dir/checked.json", JSON::PP->new->utf8->encode($doc));
    my $r = sitediff('--a-json', "$DATA/ref.json", '--b-json', "$dir/checked.json");
    is_deeply([ $r->{rc}, $r->{out} ], [ 1, [
        q{service 'web server 01;never run': state: A 3 B 0},
        q{service 'web server 01;never run': has_been_checked: A false B true},
        q{service 'web server 01;never run': plugin_output: A '' B 'OK - first run'},
        q{service 'web server 01;never run': last_check: A 0 B 1795290555},
        q{service 'web server 01;never run': last_state_change: A 0 B 1795290555},
        'sitediff: 5 differences (5 hosts, 8 services compared)' ] ],
        'checked on B only: has_been_checked and the result fields reported') or diag $r->{out_text};
}

my @ign_all = (
    q{host 'gw': long_plugin_output: A '' B 'via 192.0.2.1'},
    q{host 'gw': last_state_change: A 1795280000 B 1795281234},
    q{service 'gw;ping': current_attempt: A 1 B 2},
    q{service 'web server 01;disk /var': current_attempt: A 2 B 3},
    q{service 'web server 01;disk /var': long_plugin_output: A '/var 85%\nlast week 80%' B '/var 85%\nlast week 81%'},
);
case('--ignore: without it', 'ignore.json', [], \@ign_all, 5, 8);
case('--ignore current_attempt,last_state_change --ignore host:long_plugin_output', 'ignore.json',
     ['--ignore', 'current_attempt,last_state_change', '--ignore', 'host:long_plugin_output'], [ $ign_all[4] ], 5, 8);
case('--ignore service:long_plugin_output', 'ignore.json', ['--ignore', 'service:long_plugin_output'], [ @ign_all[0 .. 3] ], 5, 8);
case('--ignore-host gw', 'ignore.json', ['--ignore-host', 'gw'], [ @ign_all[3, 4] ], 4, 7);
case('--ignore-host gw --ignore-host "web server 01"', 'ignore.json', ['--ignore-host', 'gw', '--ignore-host', 'web server 01'], [], 3, 4);

{
    my $r = sitediff('--a-json', '-', '--b-json', "$DATA/same.json", { stdin => slurp("$DATA/ref.json") });
    is_deeply([ $r->{rc}, $r->{out} ], [ 0, ['sitediff: 0 differences (5 hosts, 8 services compared)'] ], '--a-json - reads standard input');
}
# the columns (version 2) and column blocks (version 3, a bundle's state.json) layouts read to
# the same records
for my $L ([ 'json-columns', 2, qr/"hosts":\[\["gw",/ ], [ 'json-blocks', 3, qr/"hosts":\[\[\["gw",/ ]) {
    my ($fmt, $ver, $shape) = @$L;
    my $r = run_cmd([$BIN, '--snapshot', "$DATA/changed-output.json", '--format', $fmt, '--site', 'x'], timeout => 60);
    is($r->{rc}, 0, "sitedump --format $fmt of a fixture: exit 0") or diag $r->{err};
    like($r->{out}, qr/^\{"format":"sitedump-snapshot","version":$ver,.*"columns":\{"hosts":\["name","state",/,
         "$fmt: version $ver with the column lists");
    like($r->{out}, $shape, "$fmt: records in its layout");
    my $rows = run_cmd([$BIN, '--snapshot', "$DATA/changed-output.json", '--format', 'json', '--site', 'x'], timeout => 60);
    my $c = sitediff('--a-json', '-', '--b-json', "$DATA/changed-output.json", { stdin => $r->{out} });
    is_deeply([ $c->{rc}, $c->{out} ], [ 0, ['sitediff: 0 differences (5 hosts, 8 services compared)'] ],
              "sitediff: $fmt equals the rows it came from");
    $c = sitediff('--a-json', "$DATA/ref.json", '--b-json', '-', { stdin => $r->{out} });
    my $d = sitediff('--a-json', "$DATA/ref.json", '--b-json', "$DATA/changed-output.json");
    is_deeply($c->{out}, $d->{out}, "sitediff: against ref, $fmt shows the same differences as its rows");
    cmp_ok(scalar @{ $d->{out} }, '>', 1, '... and there are some');
    my $back = run_cmd([$BIN, '--snapshot', '-', '--format', 'json', '--site', 'x'], stdin => $r->{out}, timeout => 60);
    (my $x = $back->{out}) =~ s/"source":"[^"]*","created":\d+,//;
    (my $y = $rows->{out}) =~ s/"source":"[^"]*","created":\d+,//;
    is($x, $y, "sitedump --snapshot reads $fmt back to the same rows");
}
{
    my $r = sitediff('--help');
    is($r->{rc}, 0, '--help: exit 0');
    like($r->{out_text}, qr/^usage: sitediff .*--X-livestatus SPEC.*--X-json FILE/s, '--help: usage on stdout');
}

# errors
error_case('no arguments', qr/^sitediff: usage: no source for side A\b/);
error_case('no B source', qr/^sitediff: usage: no source for side B\b/, '--a-json', "$DATA/ref.json");
error_case('two sources on one side', qr/^sitediff: usage: more than one source for side A/,
           '--a-json', "$DATA/ref.json", '--a-livestatus', 'unix:/nonexistent', '--b-json', "$DATA/ref.json");
error_case('status file without objects cache', qr/^sitediff: usage: side B: --b-status-file needs --b-objects-cache/,
           '--a-json', "$DATA/ref.json", '--b-status-file', '/nonexistent');
error_case('unknown option', qr/^sitediff: usage: Unknown option: frobnicate/,
           '--a-json', "$DATA/ref.json", '--b-json', "$DATA/ref.json", '--frobnicate');
error_case('unknown --ignore field', qr/^sitediff: usage: --ignore: unknown field 'service:colour'/,
           '--a-json', "$DATA/ref.json", '--b-json', "$DATA/ref.json", '--ignore', 'state,service:colour');
error_case('missing file', qr{^sitediff: B json \Q$DATA\E/nonexistent\.json: cannot open: No such file or directory$},
           '--a-json', "$DATA/ref.json", '--b-json', "$DATA/nonexistent.json");
error_case('truncated JSON', qr{^sitediff: B json \Q$DATA\E/broken\.json: invalid JSON: },
           '--a-json', "$DATA/ref.json", '--b-json', "$DATA/broken.json");
error_case('config-only snapshot', qr{^sitediff: A json \Q$DATA\E/config-only\.json: snapshot has no state part},
           '--a-json', "$DATA/config-only.json", '--b-json', "$DATA/ref.json");
error_case('unknown snapshot version', qr{^sitediff: A json \Q$DATA\E/version4\.json: snapshot version 4 not supported},
           '--a-json', "$DATA/version4.json", '--b-json', "$DATA/ref.json");
error_case('not a snapshot', qr{^sitediff: A json \Q$DATA\E/not-snapshot\.json: not a sitedump snapshot},
           '--a-json', "$DATA/not-snapshot.json", '--b-json', "$DATA/ref.json");
error_case('unreachable Livestatus (sitedump fails)', qr{^sitediff: B livestatus unix:/nonexistent/live: sitedump failed \(exit 2\): \S},
           '--a-json', "$DATA/ref.json", '--b-livestatus', 'unix:/nonexistent/live', '--sitedump', $BIN);
error_case('--sitedump not executable', qr{^sitediff: sitedump /nonexistent/sitedump: not an executable file$},
           '--a-json', "$DATA/ref.json", '--b-livestatus', 'unix:/nonexistent/live', '--sitedump', '/nonexistent/sitedump');

# ======================================================================================
# 2. a real Icinga 2
SKIP: {
    skip 'sitedump not built', 1 unless -x $BIN;
    my ($ic, $fx) = remote_fixture(name => 'sitediff');
    my $spec = 'unix:' . $ic->livestatus;
    my $nh = keys %{ $fx->{hosts} };
    my $ns = 0; $ns += keys %{ $fx->{services}{$_} } for keys %{ $fx->{services} };

    # the site against itself (default sitedump: the one next to the script)
    my $r = sitediff('--a-livestatus', $spec, '--b-livestatus', $spec);
    is_deeply($r->{out}, ["sitediff: 0 differences ($nh hosts, $ns services compared)"], 'Icinga: Livestatus against itself: 0 differences')
        or diag "$r->{out_text}$r->{err_text}";
    is($r->{rc}, 0, 'Icinga: Livestatus against itself: exit 0');
    is($r->{err_text}, '', 'Icinga: Livestatus against itself: nothing on stderr');

    # Livestatus against the same instance's status.dat
    $r = sitediff('--a-livestatus', $spec, '--b-status-file', $ic->status_file, '--b-objects-cache', $ic->objects_cache,
                  '--sitedump', $BIN);
    is_deeply([ $r->{rc}, $r->{out} ], [ 0, ["sitediff: 0 differences ($nh hosts, $ns services compared)"] ],
              'Icinga: Livestatus against its own status.dat: 0 differences, exit 0')
        or diag "$r->{out_text}$r->{err_text}";

    # a snapshot captured now ...
    my $dir = tempdir('sitediff-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $d = run_cmd([$BIN, '-s', $spec, '--format', 'json', '-o', "$dir/before.json"], timeout => 60);
    is($d->{rc}, 0, 'Icinga: snapshot captured') or diag $d->{err};
    my $before = JSON::PP->new->utf8->decode(slurp("$dir/before.json"));
    my ($old) = grep { $_->{host_name} eq 'db01' && $_->{description} eq 'mysql' } @{ $before->{services} };
    ok($old && $old->{state} == 0 && $old->{has_been_checked}, 'Icinga: db01;mysql OK in the snapshot');

    $r = sitediff('--a-livestatus', $spec, '--b-json', "$dir/before.json", '--sitedump', $BIN);
    is_deeply([ $r->{rc}, $r->{out} ], [ 0, ["sitediff: 0 differences ($nh hosts, $ns services compared)"] ],
              'Icinga: against the fresh snapshot: 0 differences');

    # ... then the site gets a new check result, and the snapshot an edited user comment
    my $ts = int(time) - 5;
    $ic->command("PROCESS_SERVICE_CHECK_RESULT;db01;mysql;2;MYSQL CRITICAL - connection refused|qps=0\\nretried 3 times", $ts);
    ok(wait_for(sub {
        ($ic->query("GET services\nColumns: last_check\nFilter: host_name = db01\nFilter: description = mysql")->[0][0] // 0) == $ts
    }, 30), 'Icinga: new result applied');
    my ($cmt) = grep { $_->{entry_type} == 1 && $_->{host_name} eq 'häst-ü' } @{ $before->{comments} };
    ok($cmt, 'Icinga: the snapshot has the user comment on häst-ü;ssh');
    $cmt->{comment} = "Größe prüfen\tbald";
    spew("$dir/edited.json", JSON::PP->new->utf8->encode($before));

    my $now = $ic->query_hash("GET services\nColumns: state_type current_attempt last_state_change\nFilter: host_name = db01\nFilter: description = mysql")->[0];
    my @want = (
        q{service 'db01;mysql': state: A 2 B 0},
        ($now->{state_type} != $old->{state_type} ? ("service 'db01;mysql': state_type: A $now->{state_type} B $old->{state_type}") : ()),
        ($now->{current_attempt} != $old->{current_attempt} ? ("service 'db01;mysql': current_attempt: A $now->{current_attempt} B $old->{current_attempt}") : ()),
        qq{service 'db01;mysql': plugin_output: A 'MYSQL CRITICAL - connection refused' B '$old->{plugin_output}'},
        qq{service 'db01;mysql': long_plugin_output: A 'retried 3 times' B ''},
        qq{service 'db01;mysql': perf_data: A 'qps=0' B '$old->{perf_data}'},
        qq{service 'db01;mysql': last_check: A $ts B $old->{last_check}},
        qq{service 'db01;mysql': last_state_change: A $now->{last_state_change} B $old->{last_state_change}},
        q{comment only on A: service 'häst-ü;ssh' author 'zoë' comment 'Größe prüfen'},
        q{comment only on B: service 'häst-ü;ssh' author 'zoë' comment 'Größe prüfen\tbald'},
    );
    $r = sitediff('--a-livestatus', $spec, '--b-json', "$dir/edited.json", '--sitedump', $BIN);
    is_deeply($r->{out}, [ @want, sprintf('sitediff: %d differences (%d hosts, %d services compared)', scalar(@want), $nh, $ns) ],
              'Icinga: against the earlier, edited snapshot: exactly the new result and the edited comment')
        or diag "got:\n$r->{out_text}$r->{err_text}";
    note $r->{out_text};
    is($r->{rc}, 1, 'Icinga: differences: exit 1');

    $r = sitediff('--a-livestatus', $spec, '--b-json', "$dir/edited.json", '--sitedump', $BIN, '--ignore-host', 'db01', '--ignore', 'comments');
    is_deeply([ $r->{rc}, $r->{out} ], [ 0, [ sprintf('sitediff: 0 differences (%d hosts, %d services compared)', $nh - 1, $ns - 3) ] ],
              'Icinga: --ignore-host db01 --ignore comments: 0 differences')
        or diag "$r->{out_text}$r->{err_text}";

    $ic->stop;
    ok(pid_gone($ic->{pid}), 'Icinga stopped');
}

done_testing;
