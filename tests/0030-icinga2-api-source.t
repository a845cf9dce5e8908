#!/usr/bin/perl
# sitedump's REST API source (-s https://HOST:PORT, src/icinga2api/source_api.c) against its
# Livestatus source on the same private Icinga 2 (issue 18, build 3):
#   - a site with soft and hard problems, multi-line output (hosts too), perf data, UTF-8, acks
#     (normal and sticky), fixed, flexible and triggered downtimes, comments, host and service
#     groups, custom variables (strings, numbers, arrays, dictionaries), parents, notes/URLs;
#   - `--format json` (state), `-C --format json` (config) and `--all --format json` from both
#     sources, compared field by field: equal except the differences docs/fidelity.md names
#     ("sitedump from the REST API"), each checked here to be exactly that difference;
#   - wrong password, a CA that did not sign the server, a closed port: one line naming the
#     cause, exit 2, no output file;
#   - a second site of 2,000 services: time and peak RSS of a snapshot from each source
#     (diag only, /usr/bin/time -v; no timed assertion).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use SiteTest qw(:DEFAULT slurp);
use SiteTest::Icinga2Api;

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(900);

my $SD = sitedump_bin();
my $TMP = tempdir('sd-0030-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $J = JSON::PP->new->utf8->canonical;

# ---- the site --------------------------------------------------------------------------------

my $conf = <<'EOF';
object HostGroup "linux" { display_name = "Linux servers" }
object HostGroup "dmz" { display_name = "DMZ – äöü" }
object ServiceGroup "web" { display_name = "Web services" }
template Host "h" { check_command = "dummy"; enable_active_checks = false; max_check_attempts = 3
                    check_interval = 300; retry_interval = 60 }
template Service "s" { check_command = "dummy"; enable_active_checks = false; max_check_attempts = 3
                       check_interval = 90; retry_interval = 30 }
object Host "gw" { import "h"; address = "10.0.0.1"; groups = [ "linux" ] }
object Host "web-1" { import "h"; address = "10.0.0.2"; display_name = "Web One"; groups = [ "linux", "dmz" ]
  notes = "front end"; notes_url = "https://wiki.example/web-1"; action_url = "https://act.example/"
  icon_image = "web.png"
  vars.os = "Linux"; vars.rack = 42; vars.disks = [ "sda", "sdb" ]; vars.http = { port = 8080, tls = true }
  vars.empty = "" }
object Host "dß-ü" { import "h"; address = "::1"; enable_active_checks = true; check_interval = 86400 }
object Host "never" { import "h" }
object Dependency "gw-web" { parent_host_name = "gw"; child_host_name = "web-1"; disable_checks = false }
object Service "ok" { import "s"; host_name = "web-1"; groups = [ "web" ]; vars.owner = "ops" }
object Service "soft" { import "s"; host_name = "web-1" }
object Service "hard" { import "s"; host_name = "web-1"; max_check_attempts = 1 }
object Service "multi" { import "s"; host_name = "web-1" }
object Service "ack-normal" { import "s"; host_name = "web-1"; max_check_attempts = 1 }
object Service "ack-sticky" { import "s"; host_name = "gw"; max_check_attempts = 1 }
object Service "dt" { import "s"; host_name = "gw" }
object Service "ünï – cödé" { import "s"; host_name = "dß-ü"; groups = [ "web" ] }
object Service "pending" { import "s"; host_name = "gw" }
object Service "semi;colon" { import "s"; host_name = "gw" }
object Host "behind" { import "h"; max_check_attempts = 1 }
object Dependency "web-behind" { parent_host_name = "web-1"; child_host_name = "behind" }
object Service "nl-first" { import "s"; host_name = "gw" }
object Service "literal" { import "s"; host_name = "gw" }
EOF

my $ic = icinga2_api_start(name => 'api-source', conf => $conf);
my $A = $ic->{api};
my @API = ('-s', $A->{url}, '--api-user', 'root', '--api-password-file', $A->{passfile}, '--api-ca', $A->{ca});
my @LS = ('-s', $ic->livestatus);

sub post_ok {
    my ($path, $body, $name) = @_;
    my ($st, $j, $raw) = api_post($ic, $path, $body);
    ok($st && $st == 200, $name) or diag("$path: " . ($st // 'no status') . " $raw");
}

my $now = time;
sub result {
    my ($target, $exit, $out, $perf, %o) = @_;
    my %b = (%$target, exit_status => $exit, plugin_output => $out, %o);
    $b{performance_data} = $perf if $perf;
    post_ok('/v1/actions/process-check-result', \%b, "result for " . ($target->{service} // $target->{host}));
}
sub svc { return { type => 'Service', service => "$_[0]!$_[1]" } }
sub host { return { type => 'Host', host => $_[0] } }

result(host('gw'), 0, "PING OK - rta 0.1 ms", [ "rta=0.1ms;100;500;0", "pl=0%;20;60;0" ],
       execution_start => $now - 3, execution_end => $now - 2.5);
result(host('web-1'), 1, "DOWN: no route\nhop 1: 10.0.0.1\nhop 2: * * *", [ "rta=0ms" ]);
result(host('web-1'), 1, "DOWN: no route\nhop 1: 10.0.0.1\nhop 2: * * *", [ "rta=0ms" ]);
result(host('dß-ü'), 0, "UP – grüße ✓", undef);
result(svc('web-1', 'ok'), 0, "HTTP OK: 200 in 0.05 s", [ "time=0.05s;1;2;0", "size=1024B;;;0" ],
       execution_start => $now - 10.25, execution_end => $now - 9.75);
result(svc('web-1', 'soft'), 2, "CRITICAL: soft problem", [ "load=9.5;5;8" ]);
result(svc('web-1', 'hard'), 1, "WARNING: hard one", undef);
result(svc('web-1', 'multi'), 0, "OK: first line\nsecond line\n\tthird, tabbed\nC:\\dir", [ "'with space'=1", "a=2" ]);
result(svc('web-1', 'ack-normal'), 2, "CRITICAL: acked", undef);
result(svc('gw', 'ack-sticky'), 2, "CRITICAL: sticky", undef);
result(svc('gw', 'dt'), 0, "OK", undef);
result(svc('dß-ü', 'ünï – cödé'), 3, "UNKNOWN: ünïcödé ✓ – \"quoted\" <b>", [ "ü=1" ]);
result(svc('gw', 'semi;colon'), 0, "OK; with semicolon", undef);
result(host('behind'), 1, "DOWN: behind a down parent", undef);
result(svc('gw', 'nl-first'), 0, "\nonly long output", undef);
result(svc('gw', 'literal'), 0, "first\nwith a literal \\n in it", undef);

post_ok('/v1/actions/acknowledge-problem', { %{ svc('web-1', 'ack-normal') }, author => 'alice', comment => 'on it – ü' },
        'normal ack');
post_ok('/v1/actions/acknowledge-problem', { %{ svc('gw', 'ack-sticky') }, author => 'bob', comment => 'sticky',
                                               sticky => JSON::PP::true }, 'sticky ack');
post_ok('/v1/actions/acknowledge-problem', { %{ host('web-1') }, author => 'carol', comment => 'host ack' }, 'host ack');
post_ok('/v1/actions/add-comment', { %{ svc('web-1', 'ok') }, author => 'dave', comment => "a comment\nof two lines" },
        'service comment');
post_ok('/v1/actions/add-comment', { %{ host('gw') }, author => 'erin', comment => 'host comment ✓' }, 'host comment');
post_ok('/v1/actions/schedule-downtime', { %{ svc('gw', 'dt') }, author => 'frank', comment => 'fixed window',
                                             start_time => $now - 60, end_time => $now + 3600, fixed => JSON::PP::true },
        'fixed downtime');
post_ok('/v1/actions/schedule-downtime', { %{ host('gw') }, author => 'grace', comment => 'flexible',
                                             start_time => $now + 600, end_time => $now + 7200,
                                             fixed => JSON::PP::false, duration => 1800 }, 'flexible downtime');
my ($dst, $dj) = api_get($ic, '/v1/objects/downtimes', body => '{"attrs":["comment"]}');
my ($trigger) = map { $_->{name} } grep { $_->{attrs}{comment} eq 'fixed window' } @{ $dj->{results} || [] };
post_ok('/v1/actions/schedule-downtime', { %{ svc('web-1', 'soft') }, author => 'heidi', comment => 'triggered',
                                             start_time => $now - 60, end_time => $now + 3600,
                                             fixed => JSON::PP::true, trigger_name => $trigger }, 'triggered downtime');

# ---- dumping -----------------------------------------------------------------------------------

# dump(NAME, @argv) -> decoded snapshot (or undef), the run
sub dump_json {
    my ($name, @argv) = @_;
    my $out = "$TMP/$name.json";
    my $r = run([ $SD, @argv, '--site', 's', '-o', $out ]);
    is($r->{rc}, 0, "$name: exit 0") or diag($r->{err});
    is($r->{err}, '', "$name: nothing on stderr");
    return -f $out ? $J->decode(slurp($out)) : undef;
}

# index records by their key
sub by_key {
    my ($snap) = @_;
    my %ix;
    for my $h (@{ $snap->{hosts} || [] }) { $ix{"host $h->{name}"} = $h }
    for my $s (@{ $snap->{services} || [] }) { $ix{"service $s->{host_name};$s->{description}"} = $s }
    for my $k (qw(hostgroups servicegroups)) { $ix{"$k $_->{name}"} = $_ for @{ $snap->{$k} || [] } }
    for my $k (qw(comments downtimes)) { $ix{"$k $_->{id}"} = $_ for @{ $snap->{$k} || [] } }
    return \%ix;
}

# The differences the API source is documented to have (docs/fidelity.md, "sitedump from the
# REST API"), by "SECTION FIELD": true when the two values differ exactly as documented.
my %EXPLAINED = (
    # Icinga's Livestatus shows persistent 1 for every comment; the API the comment's own flag
    'comments persistent' => sub { my ($api, $ls) = @_; $ls eq 'true' },
    # a host whose parent is down: Livestatus UNREACHABLE (2), the API has no reachability (DOWN, 1)
    'host state' => sub { my ($api, $ls) = @_; $api == 1 && $ls == 2 },
    # an output starting with a line break: Icinga's Livestatus drops the long output
    'service long_plugin_output' => sub { my ($api, $ls) = @_;
        $api eq 'only long output' && $ls eq '' or
        # a literal backslash-n: Livestatus escapes line breaks as backslash-n and nothing else, so
        # the Livestatus source reads it as a line break; the API gives the text as it is
        $api eq 'with a literal \\n in it' && $ls eq "with a literal \n in it" },
);
my %explained;

# compare(API, LS, NAME): every record and field equal; floats to 1 ms (Livestatus prints them
# rounded); returns the number of differences.
sub compare {
    my ($api, $ls, $name) = @_;
    my ($a, $l) = (by_key($api), by_key($ls));
    my @d;
    for my $k (sort keys %{ { %$a, %$l } }) {
        if (!$a->{$k} || !$l->{$k}) { push @d, "$k only from " . ($a->{$k} ? 'the API' : 'Livestatus'); next }
        for my $f (sort keys %{ { %{ $a->{$k} }, %{ $l->{$k} } } }) {
            my ($x, $y) = ($a->{$k}{$f}, $l->{$k}{$f});
            my ($ex, $ey) = map { ref $_ ? $J->encode($_) : $_ // 'null' } $x, $y;
            next if $ex eq $ey;
            next if defined $x && defined $y && !ref $x && !ref $y && $x =~ /^-?[\d.e+-]+$/ && $y =~ /^-?[\d.e+-]+$/
                 && abs($x - $y) < 0.001;
            my ($sect) = $k =~ /^(\S+)/;
            if ($EXPLAINED{"$sect $f"} && $EXPLAINED{"$sect $f"}->($ex, $ey)) { $explained{"$sect $f"}++; next }
            push @d, "$k $f: API $ex, Livestatus $ey";
        }
    }
    for my $s (qw(hostgroups servicegroups hosts services comments downtimes)) {
        is(defined $api->{$s} ? 1 : 0, defined $ls->{$s} ? 1 : 0, "$name: section $s in both or neither");
    }
    is(scalar(@d), 0, "$name: the API source's snapshot equals the Livestatus source's, field by field")
        or diag(join("\n", @d));
    return scalar @d;
}

my $state_api = dump_json('state-api', @API, '--format', 'json');
my $state_ls = dump_json('state-ls', @LS, '--format', 'json');
is($state_api->{source}, "icinga2-api:$A->{url}", 'the source is named');
ok(@{ $state_api->{services} } == 12 && @{ $state_api->{hosts} } == 5, 'all objects read from the API')
    or diag(scalar(@{ $state_api->{services} }) . " services");
compare($state_api, $state_ls, 'state');

my $cfg_api = dump_json('config-api', @API, '-C', '--format', 'json');
my $cfg_ls = dump_json('config-ls', @LS, '-C', '--format', 'json');
compare($cfg_api, $cfg_ls, 'config');

my $all_api = dump_json('all-api', @API, '--all', '--format', 'json');
my $all_ls = dump_json('all-ls', @LS, '--all', '--format', 'json');
compare($all_api, $all_ls, 'state and config');

# the default format (check result text, asked with only the fields it needs): the same
# records, but for the objects with a documented difference and the file header's time
{
    my ($ra, $rl) = map { run([ $SD, @$_, '--site', 's' ]) } \@API, \@LS;
    ok($ra->{rc} == 0 && $rl->{rc} == 0, 'checkresult text from both') or diag("$ra->{err}$rl->{err}");
    # (the header's file_time is a line of the first record: /m, or two runs a second apart differ)
    my @r = map { [ grep { !/^file_time=|host_name=behind|service_description=(nl-first|literal)\n/m } split /\n\n/, $_->{out} ] }
            $ra, $rl;
    ok(@{ $r[0] } >= 12, 'checkresult records') or diag($ra->{out});
    is_deeply($r[0], $r[1], 'checkresult text: the same records from the API as from Livestatus');
}

# what the comparison rests on: the site is what the test made it
my $o = by_key($all_api);
ok($o->{'service web-1;soft'}{state_type} == 0 && $o->{'service web-1;soft'}{current_attempt} < 3, 'a soft problem');
is($o->{'service web-1;hard'}{state_type}, 1, 'a hard problem');
is($o->{'service web-1;multi'}{long_plugin_output}, "second line\n\tthird, tabbed\nC:\\dir", 'long output');
is($o->{'host web-1'}{long_plugin_output}, "hop 1: 10.0.0.1\nhop 2: * * *", 'host long output');
is($o->{'service web-1;multi'}{perf_data}, "'with space'=1 a=2", 'perf data array to text');
is($o->{'service dß-ü;ünï – cödé'}{plugin_output}, "UNKNOWN: ünïcödé ✓ – \"quoted\" <b>", 'UTF-8 output');
is($o->{'service gw;ack-sticky'}{acknowledgement_type}, 2, 'sticky ack');
is($o->{'service web-1;ack-normal'}{acknowledgement_type}, 1, 'normal ack');
is_deeply($o->{'host web-1'}{parents}, [ 'gw' ], 'parents from the dependency');
is_deeply($o->{'host web-1'}{groups}, [ 'linux', 'dmz' ], 'host groups');
is_deeply($o->{'host web-1'}{custom_variables},
          { disks => '["sda","sdb"]', empty => '', http => '{"port":8080,"tls":true}', os => 'Linux', rack => '42' },
          'custom variables: structured ones as JSON text');
is(scalar(grep { !$_->{persistent} } @{ $all_ls->{comments} }), 0, 'Livestatus: every comment persistent');
diag("explained differences: " . join(', ', map { "$_ ($explained{$_})" } sort keys %explained));
is($o->{'host web-1'}{custom_variables}{os}, 'Linux', 'a string variable');
ok(abs($o->{'service web-1;ok'}{execution_time} - 0.5) < 1e-6, 'execution time from execution_start/_end');
is($o->{'service web-1;ok'}{check_interval}, 1.5, 'check interval in minutes');
is($o->{'service gw;pending'}{has_been_checked}, JSON::PP::false, 'a never-checked service');
my @trig = grep { $_->{comment} eq 'triggered' } @{ $all_api->{downtimes} };
my @fixed = grep { $_->{comment} eq 'fixed window' } @{ $all_api->{downtimes} };
ok(@trig == 1 && @fixed == 1 && $trig[0]{triggered_by} == $fixed[0]{id} && $fixed[0]{id} > 0,
   'triggered_by: the trigger\'s legacy id');
is(scalar(grep { $_->{entry_type} == 4 } @{ $all_api->{comments} }), 3, 'three ack comments');

# ---- a bundle from the API ---------------------------------------------------------------------
{
    my $r = run([ $SD, 'keygen', '-o', "$TMP/k" ]);
    my $b = run([ $SD, @API, '--all', '-k', "$TMP/k.key", '--state-dir', "$TMP/state", '--site', 's',
                  '-o', "$TMP/b.tar.gz" ]);
    # exit 1: the service named with ';' cannot go into the bundle's nagios.cfg (said so), the rest is written
    ok($b->{rc} == 1 && $b->{err} =~ /\Asitedump: skipped service 'gw;semi;colon': not in nagios.cfg: [^\n]*\n\z/ && -s "$TMP/b.tar.gz",
       'a signed bundle from the API source') or diag($b->{err});
}

# ---- failures ----------------------------------------------------------------------------------

sub fails_ok {
    my ($name, $re, @argv) = @_;
    my $out = "$TMP/fail-$name.json";
    my $r = run([ $SD, @argv, '--format', 'json', '--timeout', '10', '-o', $out ]);
    is($r->{rc}, 2, "$name: exit 2");
    my @l = split /\n/, $r->{err};
    ok(@l == 1 && $l[0] =~ $re, "$name: one line naming the cause") or diag($r->{err});
    ok(!-e $out, "$name: no output file left");
    opendir(my $d, $TMP);
    ok(!grep(/^fail-\Q$name\E/, readdir $d), "$name: no temp file left");
}

spew_pass("$TMP/wrong.pass", "not-the-password\n");
fails_ok('wrong password', qr/^sitedump: \Q$A->{url}\E.*401 Unauthorized: wrong user or password/,
         '-s', $A->{url}, '--api-user', 'root', '--api-password-file', "$TMP/wrong.pass", '--api-ca', $A->{ca});
fails_ok('wrong CA', qr/^sitedump: \Q$A->{url}\E.*TLS verification of the server's certificate failed/,
         '-s', $A->{url}, '--api-user', 'root', '--api-password-file', $A->{passfile}, '--api-ca', $A->{other_ca});
my $dead = 'https://localhost:' . free_port();
fails_ok('API down', qr/^sitedump: \Q$dead\E.*connection failed/,
         '-s', $dead, '--api-user', 'root', '--api-password-file', $A->{passfile}, '--api-ca', $A->{ca});
fails_ok('no CA', qr/^sitedump: .*--api-ca/, '-s', $A->{url}, '--api-user', 'root', '--api-password-file', $A->{passfile});
fails_ok('no password file', qr/^sitedump: --api-password-file \Q$TMP\E\/nope: No such file/,
         '-s', $A->{url}, '--api-user', 'root', '--api-password-file', "$TMP/nope", '--api-ca', $A->{ca});
# failover: a dead first URL, the second answers
{
    my $r = run([ $SD, '-s', "$dead,$A->{url}", '--api-user', 'root', '--api-password-file', $A->{passfile},
                  '--api-ca', $A->{ca}, '--format', 'json', '-o', "$TMP/failover.json" ]);
    is($r->{rc}, 0, 'failover: the second URL answers') or diag($r->{err});
}
# a restricted ApiUser sees only its objects (web-*): its snapshot is that part of the site
{
    my $r = run([ $SD, '-s', $A->{url}, '--api-user', 'limited', '--api-password-file', $A->{limited_passfile},
                  '--api-ca', $A->{ca}, '--format', 'json', '-o', "$TMP/limited.json" ]);
    isnt($r->{rc}, 0, 'a user without permission for comments/downtimes: refused, not a partial snapshot');
    like($r->{err}, qr{\A[^\n]*/v1/objects/comments: HTTP 404: No objects found. \(no such object, or the ApiUser lacks the permission\)\n\z},
         'the cause is named, in one line') or diag($r->{err});
    ok(!-e "$TMP/limited.json", 'no output file');
}
$ic->stop;

sub spew_pass { my ($f, $t) = @_; open(my $fh, '>', $f) or die; print $fh $t; close $fh; chmod 0600, $f }

# ---- time and memory on 2,000 services (diag only) ---------------------------------------------
SKIP: {
    skip 'SITETEST_SKIP_BIG set', 1 if $ENV{SITETEST_SKIP_BIG};
    skip '/usr/bin/time not installed', 1 unless -x '/usr/bin/time';
    # passive services given one result each, so Icinga is idle while the snapshots are taken
    my $big = "template Service \"b\" { check_command = \"dummy\"; enable_active_checks = false; vars.team = \"ops\" }\n";
    for my $h (1 .. 20) {
        $big .= qq{object Host "big-$h" { check_command = "dummy"; enable_active_checks = false; vars.n = $h }\n};
        $big .= qq{object Service "svc-$_" { import "b"; host_name = "big-$h" }\n} for 1 .. 100;
    }
    my $bic = icinga2_api_start(name => 'api-big', conf => $big);
    my $B = $bic->{api};
    for my $h (1 .. 20) {
        $bic->command("PROCESS_SERVICE_CHECK_RESULT;big-$h;svc-$_;" . ($_ % 7 ? 0 : 2)
                      . ";OK: all fine here, a line of ordinary length $_\\nsecond line\\nthird|time=0.0${_}s;1;2;0 size=${_}B")
            for 1 .. 100;
    }
    my $n_checked = 0;
    wait_for(sub {
        my $r = run([ $SD, '-s', $bic->livestatus, '--format', 'json', '-o', "$TMP/big-count.json" ]);
        my $j = $r->{rc} == 0 ? $J->decode(slurp("$TMP/big-count.json")) : { services => [] };
        $n_checked = grep { $_->{has_been_checked} } @{ $j->{services} };
        $n_checked >= 2000 }, 120, 2);
    is($n_checked, 2000, '2,000 services checked');
    my (%m, %w);
    for my $src ([ 'api', '-s', $B->{url}, '--api-user', 'root', '--api-password-file', $B->{passfile},
                   '--api-ca', $B->{ca} ], [ 'livestatus', '-s', $bic->livestatus ]) {
        my ($n, @a) = @$src;
        for my $i (1 .. 5) {
            my $r = run([ '/usr/bin/time', '-v', $SD, @a, '--all', '--format', 'json', '-o', "$TMP/big-$n.json" ]);
            is($r->{rc}, 0, "big site from $n: exit 0") or diag($r->{err});
            my ($wall) = $r->{err} =~ /Elapsed \(wall clock\) time.*: (?:(\d+):)?([\d.]+)$/m;
            my ($rss) = $r->{err} =~ /Maximum resident set size \(kbytes\): (\d+)/;
            my ($u) = $r->{err} =~ /User time \(seconds\): ([\d.]+)/;
            my ($s) = $r->{err} =~ /System time \(seconds\): ([\d.]+)/;
            $wall = $r->{err} =~ /Elapsed \(wall clock\) time.*: (\d+):([\d.]+)$/m ? $1 * 60 + $2 : $wall;
            push @{ $w{$n} }, $wall // -1;
            push @{ $m{$n} }, sprintf('%.2fs wall %.2fs cpu %d KB', $wall // -1, ($u // 0) + ($s // 0), $rss // -1);
        }
        my $j = $J->decode(slurp("$TMP/big-$n.json"));
        is(scalar(@{ $j->{services} }), 2000, "big site from $n: 2,000 services");
        my @s = sort { $a <=> $b } @{ $w{$n} };
        diag("2,000 services, --all --format json from $n (" . (-s "$TMP/big-$n.json") . " bytes), median wall "
             . "$s[2] s: " . join(' | ', @{ $m{$n} }));
    }
    compare($J->decode(slurp("$TMP/big-api.json")), $J->decode(slurp("$TMP/big-livestatus.json")), 'the big site');
    $bic->stop;
}

done_testing;
