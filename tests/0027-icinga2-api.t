#!/usr/bin/perl
# The Icinga 2 REST API client (src/icinga2api) and the action codec (formats/icinga2_api)
# against a real private Icinga 2 with its ApiListener (SiteTest::Icinga2Api), driven through
# tests/support/api_probe (issue 18):
#   - GET /v1/status; a streamed object query (200 services) fed in chunks, nothing held;
#   - process-check-result for a service and a host (multi-line output, perf data, UTF-8,
#     quotes, a Latin-1 byte) read back through the API and Livestatus: output, perf data,
#     execution_start/_end exact, execution_time = end - start; last_check is the time Icinga
#     processed it (Icinga 2.13 sets schedule_start/_end itself);
#   - failures are one line naming the URL and the cause: wrong password (401), a CA that did
#     not sign the server's certificate (TLS verification), a closed port (connection failed),
#     a server that accepts and says nothing (timeout, bounded);
#   - failover: a dead first URL or one answering 503 (openssl s_server), the second answers and
#     is the one named; a 500 is not failed over;
#   - a restricted ApiUser: objects outside its filter are "No objects found" (404), types
#     without a permission 403; a client certificate user.
# And the rate of sequential process-check-results over one keep-alive connection (diag only).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use SiteTest qw(:DEFAULT);
use SiteTest::Icinga2Api;

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(600);

my $PROBE = repo_root() . '/tests/support/api_probe';
plan skip_all => "$PROBE not built (make)" unless -x $PROBE;

my $conf = '';
for my $h (qw(web-1 db-1)) {
    $conf .= qq{object Host "$h" { check_command = "dummy"; enable_active_checks = false; max_check_attempts = 1 }\n};
}
$conf .= qq{object Service "http" { host_name = "web-1"; check_command = "dummy"; enable_active_checks = false }\n};
$conf .= qq{object Service "mysql" { host_name = "db-1"; check_command = "dummy"; enable_active_checks = false }\n};
$conf .= qq{object Service "svc-$_" { host_name = "web-1"; check_command = "dummy"; enable_active_checks = false }\n}
    for 1 .. 200;

my $ic = icinga2_api_start(name => 'api', conf => $conf);
my $A = $ic->{api};
my @ROOT = ('-U', 'root', '-P', $A->{passfile}, '-C', $A->{ca});

# probe(@args) -> run result; stdout lines split into {status, url, lines}
sub probe {
    my $r = run([ $PROBE, @_ ], timeout => 120);
    ($r->{status}) = $r->{out} =~ /^status (\d+)/m;
    ($r->{url}) = $r->{out} =~ /^url (\S+)$/m;
    return $r;
}

sub one_line_ok {
    my ($r, $re, $name) = @_;
    my @l = split /\n/, $r->{err};
    ok(@l == 1 && $l[0] =~ $re, $name) or diag("stderr: $r->{err}");
}

my $json = JSON::PP->new->utf8;

# fake_https(STATUS) -> (port, pid): openssl s_server with the API's certificate answering one
# connection with STATUS and an Icinga-style error body; kill -pid when done
sub fake_https {
    my ($code) = @_;
    my $port = free_port();
    my $body = qq({"error":$code,"status":"every object failed."});
    my $reply = "HTTP/1.1 $code Fake\r\nContent-Type: application/json\r\nContent-Length: " . length($body)
              . "\r\n\r\n$body";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        open(my $in, '|-', 'timeout', '60', 'openssl', 's_server', '-quiet', '-naccept', '1',
             '-accept', "127.0.0.1:$port", '-cert', $A->{server_cert}, '-key', $A->{server_key}) or POSIX::_exit(127);
        $in->autoflush(1);
        print $in $reply;
        sleep 60;
        POSIX::_exit(0);
    }
    # listening once the port cannot be bound (a test connection would use up its one accept)
    my $up = wait_for(sub { !IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 1) }, 20, 0.1);
    die "openssl s_server not listening on $port" unless $up;
    return ($port, $pid);
}

# ---- status, stream ------------------------------------------------------------------------
{
    my $r = probe('-u', $A->{url}, @ROOT, 'get', '/v1/status/IcingaApplication');
    is($r->{rc}, 0, 'GET /v1/status: exit 0');
    is($r->{status}, 200, 'GET /v1/status: 200');
    like($r->{out}, qr/"node_name":"localhost"/, 'GET /v1/status: the body is the status');

    $r = probe('-u', $A->{url}, @ROOT, 'stream', 'GET', '/v1/objects/services', '{"attrs":["name"],"filter":"host.name==\"web-1\""}');
    is($r->{rc}, 0, 'stream: exit 0');
    my ($body, $chunks, $bytes) = $r->{out} =~ /\A(.*)\nstatus 200 chunks (\d+) bytes (\d+)\n/s;
    ok(defined $body && length($body) == $bytes, 'stream: every byte fed, in order') or diag($r->{out} =~ s/^(.{300}).*/$1/sr);
    my $rows = eval { $json->decode($body)->{results} } || [];
    is(scalar(@$rows), 201, 'stream: all 201 services of web-1 in the fed body');
    cmp_ok($chunks, '>', 1, "stream: fed in $chunks chunks, not as one reply");

    $r = probe('-u', $A->{url}, @ROOT, 'stream', 'GET', '/v1/objects/hosts/nosuchhost', '');
    like($r->{out}, qr/^status 404 chunks 0 bytes 0$/m, 'stream: a 404 is not fed');
    one_line_ok($r, qr{^api_probe: \Q$A->{url}\E/v1/objects/hosts/nosuchhost: HTTP 404: No objects found},
                'stream: the 404 named with its URL and Icinga\'s text');
}

# ---- process-check-result --------------------------------------------------------------------
my ($START, $END) = (1765000000.25, 1765000001.75);   # exact in binary: compared with ==
{
    my $out = qq{CRITICAL - "quoted" \\ back\\slash ünïcödé\nlong line 2\nlong line 3};
    my $t0 = time;
    my $r = probe('-u', $A->{url}, @ROOT, 'pcr', 'web-1', 'http', 2, $START, $END, 'site-a',
                  $out, 'time=0.5s;1;2;0', "'odd label'=3");
    is($r->{rc}, 0, 'process-check-result (service): exit 0');
    like($r->{out}, qr/^result 200 Successfully processed check result for object 'web-1!http'\.$/m,
         'process-check-result (service): the result read from the reply');
    my ($st, $j) = api_get($ic, '/v1/objects/services/web-1!http?attrs=last_check_result&attrs=state&attrs=last_check');
    my $a = $j->{results}[0]{attrs};
    my $cr = $a->{last_check_result};
    is($st, 200, 'read back: 200');
    is($a->{state}, 2, 'read back: state CRITICAL');
    is($cr->{output}, $out, 'read back: output with long output, quotes, backslashes, UTF-8 exact');
    is_deeply($cr->{performance_data}, [ 'time=0.5s;1;2;0', "'odd label'=3" ], 'read back: performance_data items');
    ok($cr->{execution_start} == $START && $cr->{execution_end} == $END, 'read back: execution_start/_end exact')
        or diag("$cr->{execution_start} $cr->{execution_end}");
    is($cr->{check_source}, 'site-a', 'read back: check_source');
    cmp_ok($a->{last_check}, '>=', int($t0), 'last_check is the processing time (Icinga 2.13), not execution_end');
    my $ls = $ic->query_hash("GET services\nColumns: execution_time plugin_output long_plugin_output\n"
                             . "Filter: host_name = web-1\nFilter: description = http");
    ok(@$ls && $ls->[0]{execution_time} == $END - $START, 'Livestatus: execution_time = end - start exactly')
        or diag(explain $ls);

    my $hout = "DOWN - first line\nsecond line\nthird line";
    $r = probe('-u', $A->{url}, @ROOT, 'pcr', 'web-1', '-', 1, $START, $END, '', $hout);
    is($r->{rc}, 0, 'process-check-result (host): exit 0');
    ($st, $j) = api_get($ic, '/v1/objects/hosts/web-1?attrs=last_check_result&attrs=state');
    is($j->{results}[0]{attrs}{state}, 1, 'host: state DOWN');
    is($j->{results}[0]{attrs}{last_check_result}{output}, $hout, 'host: multi-line output exact');

    # free text that is not UTF-8 is repaired (U+FFFD), not refused; a name is refused
    $r = probe('-u', $A->{url}, @ROOT, 'pcr', 'db-1', 'mysql', 0, 0, 0, '', "OK caf\xe9");
    is($r->{rc}, 0, 'Latin-1 output: sent');
    ($st, $j) = api_get($ic, '/v1/objects/services/db-1!mysql?attrs=last_check_result');
    is($j->{results}[0]{attrs}{last_check_result}{output}, "OK caf\x{fffd}", 'Latin-1 output: the bad byte is U+FFFD');
    $r = probe('-u', $A->{url}, @ROOT, 'pcr', "db-\xe9", '-', 0, 0, 0, '', 'x');
    is($r->{rc}, 2, 'a host name that is not UTF-8: refused before sending');
    one_line_ok($r, qr/not UTF-8/, 'a host name that is not UTF-8: named');

    $r = probe('-u', $A->{url}, @ROOT, 'pcr', 'web-1', 'nosuchservice', 0, 0, 0, '', 'x');
    is($r->{rc}, 1, 'an unknown service: exit 1');
    one_line_ok($r, qr{\Q$A->{url}\E/v1/actions/process-check-result: HTTP 404: No objects found}, 'an unknown service: 404 named');
}

# ---- failures: one line naming the URL and the cause -------------------------------------
my $closed = free_port();
{
    my $r = probe('-u', $A->{url}, '-U', 'root', '-P', $A->{limited_passfile}, '-C', $A->{ca}, 'get', '/v1/status');
    is($r->{rc}, 1, 'wrong password: exit 1');
    one_line_ok($r, qr{^api_probe: \Q$A->{url}\E/v1/status: 401 Unauthorized: wrong user or password}, 'wrong password: 401 named');

    $r = probe('-u', $A->{url}, '-U', 'root', '-P', $A->{passfile}, '-C', $A->{other_ca}, 'get', '/v1/status');
    is($r->{rc}, 2, 'wrong CA: exit 2');
    one_line_ok($r, qr{^api_probe: \Q$A->{url}\E/v1/status: TLS verification of the server's certificate failed},
                'wrong CA: TLS verification named');

    $r = probe('-u', "https://127.0.0.1:$A->{port}", @ROOT, 'get', '/v1/status');
    is($r->{rc}, 2, 'a certificate for another name (localhost, not 127.0.0.1): exit 2');
    one_line_ok($r, qr{TLS verification|certificate}, 'another name: the certificate named');

    $r = probe('-u', "https://localhost:$closed", @ROOT, 'get', '/v1/status');
    is($r->{rc}, 2, 'API down: exit 2');
    one_line_ok($r, qr{^api_probe: https://localhost:$closed/v1/status: connection failed: }, 'API down: connection failure named');

    # accepts (the kernel does) and never answers: the handshake times out, bounded
    my $mute = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5) or die "listen: $!";
    my $mport = $mute->sockport;
    $r = probe('-u', "https://localhost:$mport", @ROOT, '-t', 1500, 'get', '/v1/status');
    is($r->{rc}, 2, 'a mute server: exit 2');
    one_line_ok($r, qr{^api_probe: https://localhost:$mport/v1/status: .*tim}i, 'a mute server: the timeout named');
    close $mute;

    $r = probe('-u', 'http://localhost:1', @ROOT, 'get', '/v1/status');
    is($r->{rc}, 2, 'plain http: refused');
    $r = probe('-u', $A->{url}, '-U', 'root', '-P', $A->{passfile}, 'get', '/v1/status');
    is($r->{rc}, 2, 'no CA file: refused (verification has no off switch)');
    one_line_ok($r, qr/a CA file is required/, 'no CA file: named');
}

# ---- failover ----------------------------------------------------------------------------------
{
    my $r = probe('-u', "https://localhost:$closed", '-u', $A->{url}, @ROOT, 'get', '/v1/status/IcingaApplication');
    is($r->{rc}, 0, 'failover: first URL dead, exit 0');
    is($r->{status}, 200, 'failover: 200 from the second');
    is($r->{url}, $A->{url}, 'failover: the second URL is the one in use');
    is($r->{err}, '', 'failover: nothing on stderr');

    # the URL that answered is kept: the dead one is tried once, not once per request, and
    # the 20 requests share one connection (connect(2) counted by strace)
    my $trace = "$ic->{dir}/connect.trace";
    $r = run([ 'strace', '-f', '-e', 'trace=connect', '-o', $trace, $PROBE, '-u', "https://localhost:$closed",
               '-u', $A->{url}, @ROOT, 'bench', 20, 'web-1', 'http' ], timeout => 120,
             env => { ASAN_OPTIONS => 'detect_leaks=0' });   # LeakSanitizer cannot run under ptrace
    is($r->{rc}, 0, 'failover: 20 requests after it, all answered') or diag($r->{err});
    # (IPv4 only: localhost is also tried at ::1, where nothing listens)
    my @conn = grep { /connect\(.*AF_INET,.*htons\(\d+\)/ } split /\n/, (SiteTest::slurp($trace) // '');
    is(scalar(grep { /htons\($closed\)/ } @conn), 1, 'failover: the dead URL tried once for 20 requests');
    is(scalar(grep { /htons\($A->{port}\)/ } @conn), 1, 'failover: one connection to the live one for 20 requests');

    # a gateway status on a fresh connection fails over; 500 (Icinga's "every object failed")
    # does not: the request reached a core
    for my $case ([ 503, 0, $A->{url} ], [ 500, 1, undef ]) {
        my ($code, $rc, $url) = @$case;
        my ($port, $pid) = fake_https($code);
        $url //= "https://localhost:$port";
        $r = probe('-u', "https://localhost:$port", '-u', $A->{url}, @ROOT, 'get', '/v1/status/IcingaApplication');
        is($r->{rc}, $rc, "first URL answers $code: exit $rc");
        is($r->{url}, $url, "first URL answers $code: " . ($rc ? 'no failover' : 'failover to the second'));
        one_line_ok($r, qr{^api_probe: https://localhost:$port/v1/status/IcingaApplication: HTTP 500: every object failed\.$},
                    '500: named with its text') if $rc;
        kill 'TERM', -$pid;
        waitpid($pid, 0);
    }

    $r = probe('-u', "https://localhost:$closed", '-u', "https://localhost:$closed", @ROOT, 'get', '/v1/status');
    is($r->{rc}, 2, 'both dead: exit 2');
    one_line_ok($r, qr{connection failed.*\(before: .*connection failed}, 'both dead: both failures in one line');
}

# ---- permissions ----------------------------------------------------------------------------
{
    my @LIM = ('-u', $A->{url}, '-U', 'limited', '-P', $A->{limited_passfile}, '-C', $A->{ca});
    my $r = probe(@LIM, 'pcr', 'web-1', 'http', 0, 0, 0, '', 'OK from limited');
    is($r->{rc}, 0, 'restricted user: a host within its filter accepted');
    $r = probe(@LIM, 'pcr', 'db-1', 'mysql', 0, 0, 0, '', 'OK from limited');
    is($r->{rc}, 1, 'restricted user: a host outside its filter refused');
    one_line_ok($r, qr{process-check-result: HTTP 404: No objects found}, 'restricted user: outside the filter named (404)');
    my ($st, $j) = api_get($ic, '/v1/objects/services/db-1!mysql?attrs=last_check_result');
    isnt($j->{results}[0]{attrs}{last_check_result}{output}, 'OK from limited', 'restricted user: db-1 untouched');

    # Icinga 2.13 answers a missing permission with 404, never 403: the message says both
    $r = probe(@LIM, 'get', '/v1/objects/users');
    is($r->{rc}, 1, 'restricted user: a type without permission: exit 1');
    one_line_ok($r, qr{^api_probe: \Q$A->{url}\E/v1/objects/users: HTTP 404: No objects found\. \(no such object, or the ApiUser lacks the permission\)},
                'restricted user: no permission named (404)');
    $r = probe(@LIM, 'req', 'POST', '/v1/actions/add-comment', '{"type":"Host","host":"web-1","author":"a","comment":"c"}');
    is($r->{rc}, 1, 'restricted user: an action without permission: exit 1');
    one_line_ok($r, qr{add-comment: HTTP 404: .*lacks the permission}, 'restricted user: the action refused, named');

    $r = probe(@LIM, 'get', '/v1/objects/hosts?attrs=name');
    my $rows = eval { $json->decode(($r->{out} =~ /^status 200\n(.*)\nurl /ms)[0])->{results} } || [];
    is_deeply([ map { $_->{name} } @$rows ], [ 'web-1' ], 'restricted user: sees only web-1');

    $r = probe('-u', $A->{url}, '-c', $A->{client_cert}, '-k', $A->{client_key}, '-C', $A->{ca}, 'get', '/v1/objects/hosts?attrs=name');
    is($r->{rc}, 0, 'client certificate user: exit 0');
    like($r->{out}, qr/"name":"db-1".*"name":"web-1"|"name":"web-1".*"name":"db-1"/s, 'client certificate user: sees both hosts');
}

# ---- rate (no assertion: a number for the report) ----------------------------------------
{
    my $n = $ENV{API_BENCH_N} // 1000;
    my $r = probe('-u', $A->{url}, @ROOT, 'bench', $n, 'web-1', 'http');
    is($r->{rc}, 0, "$n sequential process-check-results over one connection");
    diag($r->{out} =~ /^(bench .*)$/m ? $1 : $r->{out});
}

$ic->stop;
done_testing;
