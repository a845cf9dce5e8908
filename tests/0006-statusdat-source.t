#!/usr/bin/perl
# The status.dat / objects.cache source (--status-file, --objects-cache):
# 1. On the Icinga 2 remote fixture (its StatusDataWriter writes Nagios-format files), the
#    snapshot read from status.dat equals, field by field, the snapshot read from the same
#    instance's Livestatus, state and configuration. The few differences the files really have
#    are listed below as exceptions, each with its reason, and checked precisely.
# 2. On a real Nagios 4 (objects, one passive result, an ack, a downtime, a comment), the
#    snapshot holds the values that were put in.
# 3. A status.dat cut short: exit 2, one line on stderr naming the file, no output file with -o.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use B ();
use Encode ();
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);
delete $ENV{OMD_SITE};

my $BIN = sitedump_bin();
my $JSON = JSON::PP->new->utf8;
sub bytes_of { Encode::encode('UTF-8', $_[0]) }
run_defaults(timeout => 60);
sub run_sitedump { run([$BIN, map { bytes_of($_) } @_]) }

sub is_num {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVf_IOK() | B::SVf_NOK())) && !($f & B::SVf_POK()) ? 1 : 0;
}
sub is_bool { my ($v) = @_; ref $v && ref $v eq 'JSON::PP::Boolean' }

# deep equality that also tells JSON booleans, numbers and strings apart
sub same {
    my ($a, $b) = @_;
    return !defined $b if !defined $a;
    return 0 if !defined $b;
    return is_bool($b) && (!!$a == !!$b) if is_bool($a);
    return 0 if is_bool($b);
    if (ref $a eq 'ARRAY') {
        return 0 unless ref $b eq 'ARRAY' && @$a == @$b;
        same($a->[$_], $b->[$_]) || return 0 for 0 .. $#$a;
        return 1;
    }
    if (ref $a eq 'HASH') {
        return 0 unless ref $b eq 'HASH' && join("\0", sort keys %$a) eq join("\0", sort keys %$b);
        same($a->{$_}, $b->{$_}) || return 0 for keys %$a;
        return 1;
    }
    return 0 if ref $b;
    return is_num($b) && $a == $b if is_num($a);
    return !is_num($b) && $a eq $b;
}
sub show { my ($v) = @_; defined $v ? (ref $v ? JSON::PP->new->canonical->allow_nonref->encode($v) : is_num($v) ? $v : "'$v'") : 'null' }

sub dump_json {
    my ($label, @args) = @_;
    my $r = run_sitedump(@args, '--format', 'json');
    is($r->{rc}, 0, "$label: exit 0") or diag $r->{err};
    is($r->{err}, '', "$label: nothing on stderr");
    my $d = eval { $JSON->decode($r->{out}) };
    ok($d && ref $d eq 'HASH', "$label: valid JSON") or diag $@;
    return $d;
}

# ======================================================================================
# 1. Icinga 2: status.dat against Livestatus, same instance
my ($ic, $fx) = remote_fixture(name => 'sd-source');
my ($S, $O, $L) = ($ic->status_file, $ic->objects_cache, 'unix:' . $ic->livestatus);

# a status.dat written after the fixture's last command (remote_fixture has waited until the
# file shows the fixture; this waits for one more, fresh, rewrite)
my $fresh = $ic->wait_status(sub {
    my ($st) = @_;
    return @{ $st->{comments} } == @{ $fx->{comments} } + @{ $fx->{acks} } && @{ $st->{downtimes} } == @{ $fx->{downtimes} };
}, 30);
ok($fresh, 'Icinga status.dat rewritten after the fixture was complete');

# Exceptions: fields where Icinga's status.dat really differs from its Livestatus. Everything
# not listed here must be equal.
#  (Icinga's StatusDataWriter writes the HOST's last_check into a never-checked service; the
#   reader normalises it to 0 like Livestatus' -1, so it is no exception: checked below.)
#  - latency, execution_time: Icinga's status.dat prints them with 6 decimals (std::fixed);
#    equal within 1e-6.
#  - the top-level source (statusdat:PATH vs livestatus:SPEC) and created (export time).
# (Not exceptions: triggered_by, null in Livestatus and 0 in status.dat, is 0 in both snapshots
#  by the schema's normalisation; entry_time, a float in status.dat, is the same second.)
my %exception = (
    latency        => sub { my ($sd, $ls) = @_; [ is_num($sd) && abs($sd - $ls) < 1e-6, 'status.dat has 6 decimals' ] },
    execution_time => sub { my ($sd, $ls) = @_; [ is_num($sd) && abs($sd - $ls) < 1e-6, 'status.dat has 6 decimals' ] },
);
my %exceptions_used;

sub compare_docs {
    my ($label, $sd, $ls) = @_;
    is($sd->{source}, "statusdat:$S", "$label: source of the status.dat export");
    is($ls->{source}, "livestatus:$L", "$label: source of the Livestatus export");
    for my $k (qw(format version site parts)) {
        ok(same($sd->{$k}, $ls->{$k}), "$label: top-level $k equal") or diag show($sd->{$k}) . ' vs ' . show($ls->{$k});
    }
    ok(abs($sd->{created} - $ls->{created}) <= 5, "$label: created within seconds");
    is_deeply([ sort keys %$sd ], [ sort keys %$ls ], "$label: same top-level members");
    my %keyf = (
        hostgroups => sub { $_[0]{name} }, servicegroups => sub { $_[0]{name} },
        hosts => sub { $_[0]{name} }, services => sub { "$_[0]{host_name}/$_[0]{description}" },
        comments => sub { "#$_[0]{id}" }, downtimes => sub { "#$_[0]{id}" },
    );
    for my $sec (grep { exists $ls->{$_} } qw(hostgroups servicegroups hosts services comments downtimes)) {
        my (%a, %b);
        $a{ $keyf{$sec}->($_) } = $_ for @{ $sd->{$sec} };
        $b{ $keyf{$sec}->($_) } = $_ for @{ $ls->{$sec} };
        is_deeply([ sort keys %a ], [ sort keys %b ], "$label: $sec: the same " . scalar(keys %b) . " records");
        ok(keys(%b) > 0, "$label: $sec: not empty");
        (my $kind = $sec) =~ s/s$//;
        for my $id (sort keys %b) {
            my ($x, $y) = ($a{$id}, $b{$id});
            next unless $x;
            is_deeply([ sort keys %$x ], [ sort keys %$y ], "$label: $kind $id: same fields");
            my @bad;
            for my $f (sort keys %$y) {
                my $ex = $exception{$f} ? $exception{$f}->($x->{$f}, $y->{$f}, $y, $kind, $ls) : undef;
                if ($ex) {
                    $exceptions_used{"$f: $ex->[1]"}++;
                    push @bad, "$f (exception '$ex->[1]' does not hold): " . show($x->{$f}) . ' vs ' . show($y->{$f}) unless $ex->[0];
                    next;
                }
                push @bad, "$f: status.dat " . show($x->{$f}) . ', Livestatus ' . show($y->{$f}) unless same($x->{$f}, $y->{$f});
            }
            ok(!@bad, "$label: $kind $id: every field equal") or diag join("\n", @bad);
        }
    }
}

my $sd_state = dump_json('Icinga status.dat, state', '--status-file', $S, '--objects-cache', $O);
my $ls_state = dump_json('Icinga Livestatus, state', '-s', $L);
my $sd_conf  = dump_json('Icinga status.dat, config', '-C', '--status-file', $S, '--objects-cache', $O);
my $ls_conf  = dump_json('Icinga Livestatus, config', '-C', '-s', $L);
compare_docs('state', $sd_state, $ls_state) if $sd_state && $ls_state;
compare_docs('config', $sd_conf, $ls_conf) if $sd_conf && $ls_conf;
{
    # the case the normalisation is for: a never-checked service of a checked host
    my ($svc) = grep { $_->{host_name} eq 'web server 01' && $_->{description} eq 'never run' } @{ $sd_state->{services} };
    my ($host) = grep { $_->{name} eq 'web server 01' } @{ $sd_state->{hosts} };
    ok($svc && !$svc->{has_been_checked} && $svc->{last_check} == 0 && $host && $host->{last_check} > 0,
       'never-checked service of a checked host: last_check 0 from status.dat (Icinga writes the host\'s there)');
}
note "exceptions applied: " . join('; ', map { "$_ x$exceptions_used{$_}" } sort keys %exceptions_used);

# ======================================================================================
# 2. Nagios 4: the values put in come out
my $objs = <<'EOF';
define hostgroup {
	hostgroup_name	ng-web
	alias	Nagios web hosts
	members	nh1
}
define servicegroup {
	servicegroup_name	ng-sg
	alias	Nagios service group
	members	nh1,svc ä one
}
define host {
	use	sitetest-host
	host_name	nh1
	alias	Nagios host one
	address	127.0.0.2
	notes	host notes = x
	_rack	r9
}
define host {
	use	sitetest-host
	host_name	nh2 pending
	address	127.0.0.3
	parents	nh1
}
define service {
	use	sitetest-service
	host_name	nh1
	service_description	svc ä one
	_port	8080
}
define service {
	use	sitetest-service
	host_name	nh1
	service_description	svc two
}
define service {
	use	sitetest-service
	host_name	nh2 pending
	service_description	never
}
EOF
my $ng = nagios_start(objects => $objs, name => 'sd-nagios');
my $now = int(time);
my %in = (
    ts_result => $now - 100, ts_ack => $now - 50, ts_dt => $now - 40, ts_cmt => $now - 30,
    dt_start => $now - 60, dt_end => $now + 3600,
    output => 'CRIT disk C:\ at 99%', long => "line two\nC:\\temp\\new dir", perf => 'x=1;2;3 y=5',
);
# checkresult file: backslashes escaped as \\, newlines as \n (the form Nagios unescapes)
(my $esc_out = $in{output}) =~ s/\\/\\\\/g;
(my $esc_long = $in{long}) =~ s/\\/\\\\/g;
$esc_long =~ s/\n/\\n/g;
my ($tsr) = $in{ts_result};
$ng->submit_checkresult("file_time=$now\n\nhost_name=nh1\nservice_description=svc ä one\ncheck_type=1\n"
    . "latency=0.5\nstart_time=$tsr.000000\nfinish_time=$tsr.250000\nreturn_code=2\n"
    . "output=$esc_out|x=1;2;3\\n$esc_long|y=5\n\n");
ok($ng->wait_status(sub { $_[0]{services}{nh1}{'svc ä one'}{has_been_checked} }, 30), 'Nagios: passive result applied');
$ng->command("ACKNOWLEDGE_SVC_PROBLEM;nh1;svc ä one;2;0;1;alice;ack text; with semi", $in{ts_ack});
$ng->command("SCHEDULE_SVC_DOWNTIME;nh1;svc two;$in{dt_start};$in{dt_end};1;0;0;bob;planned work", $in{ts_dt});
$ng->command("ADD_HOST_COMMENT;nh1;1;carol;host note = fine | ok", $in{ts_cmt});
my $nst = $ng->wait_status(sub {
    my ($st) = @_;
    return $st->{services}{nh1}{'svc ä one'}{problem_has_been_acknowledged} && @{ $st->{downtimes} } == 1
        && (grep { $_->{entry_type} == 1 } @{ $st->{comments} });
}, 30);
ok($nst, 'Nagios: ack, downtime and comment in status.dat');
is($nst && $nst->{services}{nh1}{'svc ä one'}{long_plugin_output}, 'line two\nC:\\\\temp\\\\new dir',
   'Nagios status.dat escapes the long output (\n and \\\\): the reader has to undo both');

my $nsd = dump_json('Nagios status.dat, state', '--status-file', $ng->status_file, '--objects-cache', $ng->objects_cache);
my $ncf = dump_json('Nagios status.dat, config', '-C', '--status-file', $ng->status_file, '--objects-cache', $ng->objects_cache);
if ($nsd) {
    is($nsd->{source}, 'statusdat:' . $ng->status_file, 'Nagios: source');
    my %H = map { ($_->{name} => $_) } @{ $nsd->{hosts} };
    my %Sv = map { ("$_->{host_name}/$_->{description}" => $_) } @{ $nsd->{services} };
    is_deeply([ sort keys %H ], ['nh1', 'nh2 pending'], 'Nagios: the hosts');
    is_deeply([ sort keys %Sv ], [ sort 'nh1/svc ä one', 'nh1/svc two', 'nh2 pending/never' ], 'Nagios: the services (UTF-8 name)');
    my $s = $Sv{'nh1/svc ä one'};
    my %want = (
        state => 2, state_type => 0, current_attempt => 1, max_check_attempts => 4, has_been_checked => JSON::PP::true,
        plugin_output => $in{output}, long_plugin_output => $in{long}, perf_data => $in{perf},
        last_check => $in{ts_result}, last_state_change => $in{ts_result}, last_hard_state => 0,
        is_flapping => JSON::PP::false, latency => 0.5, execution_time => 0.25, check_type => 1,
        acknowledged => JSON::PP::true, acknowledgement_type => 2,
    );
    for my $f (sort keys %want) {
        ok(same($s->{$f}, $want{$f}), "Nagios service with a result: $f") or diag 'got ' . show($s->{$f}) . ', put in ' . show($want{$f});
    }
    for my $o ($H{nh1}, $H{'nh2 pending'}, $Sv{'nh1/svc two'}, $Sv{'nh2 pending/never'}) {
        my $n = $o->{description} ? "$o->{host_name}/$o->{description}" : $o->{name};
        ok(same([ @$o{qw(has_been_checked state last_check plugin_output perf_data acknowledged)} ],
                [ JSON::PP::false, 0, 0, '', '', JSON::PP::false ]), "Nagios never-checked $n: unchecked, state 0, last_check 0");
    }
    my @c = sort { $a->{entry_type} <=> $b->{entry_type} } @{ $nsd->{comments} };
    my ($user) = grep { $_->{entry_type} == 1 } @c;
    my ($ack)  = grep { $_->{entry_type} == 4 } @c;
    my ($dtc)  = grep { $_->{entry_type} == 2 } @c;
    is(scalar(@c), 3, 'Nagios: three comments (user, ack, and the one Nagios adds for a downtime)');
    ok($user && same([ @$user{qw(host_name service_description author comment persistent entry_time)} ],
                     [ 'nh1', undef, 'carol', 'host note = fine | ok', JSON::PP::true, $in{ts_cmt} ]),
       'Nagios host comment: host, service null, author, text, persistent, entry_time as sent') or diag show($user);
    ok($ack && same([ @$ack{qw(host_name service_description author comment persistent)} ],
                    [ 'nh1', 'svc ä one', 'alice', 'ack text; with semi', JSON::PP::true ]),
       'Nagios ack comment (entry_type 4): author and text') or diag show($ack);
    ok($dtc && $dtc->{author} eq 'bob' && $dtc->{service_description} eq 'svc two',
       'Nagios downtime comment (entry_type 2) reported as the core has it') or diag show($dtc);
    my ($d) = @{ $nsd->{downtimes} };
    ok($d && same([ @$d{qw(host_name service_description start_time end_time fixed duration triggered_by author comment entry_time)} ],
                  [ 'nh1', 'svc two', $in{dt_start}, $in{dt_end}, JSON::PP::true, $in{dt_end} - $in{dt_start}, 0, 'bob', 'planned work', $in{ts_dt} ]),
       'Nagios downtime: every field (fixed: Nagios stores duration = end - start)') or diag show($d);
    is(scalar(@{ $nsd->{downtimes} }), 1, 'Nagios: one downtime');
    # the ids are the core's own
    my ($sdt) = @{ $nst->{downtimes} };
    is($d && $d->{id}, $sdt->{downtime_id}, 'Nagios downtime id = status.dat downtime_id');
}
if ($ncf) {
    my %H = map { ($_->{name} => $_) } @{ $ncf->{hosts} };
    my %Sv = map { ("$_->{host_name}/$_->{description}" => $_) } @{ $ncf->{services} };
    ok(same($ncf->{hostgroups}, [ { name => 'ng-web', alias => 'Nagios web hosts' } ]), 'Nagios config: hostgroup');
    ok(same($ncf->{servicegroups}, [ { name => 'ng-sg', alias => 'Nagios service group' } ]), 'Nagios config: servicegroup');
    my $h = $H{nh1};
    # Nagios upper-cases custom variable names (objects.cache has _RACK)
    ok($h && same([ @$h{qw(alias address parents groups contacts contact_groups check_command check_interval retry_interval max_check_attempts notes custom_variables)} ],
                  [ 'Nagios host one', '127.0.0.2', [], ['ng-web'], ['sitetest-nobody'], [], 'sitetest-dummy!0', 5, 1, 4, 'host notes = x', { RACK => 'r9' } ]),
       'Nagios config: host nh1 as defined') or diag show($h);
    ok($H{'nh2 pending'} && same($H{'nh2 pending'}{parents}, ['nh1']), 'Nagios config: parents');
    my $s = $Sv{'nh1/svc ä one'};
    ok($s && same([ @$s{qw(groups custom_variables max_check_attempts check_command)} ], [ ['ng-sg'], { PORT => '8080' }, 4, 'sitetest-dummy!0' ]),
       'Nagios config: service groups and custom variables') or diag show($s);
}

# ======================================================================================
# 3. status.dat cut short: exit 2, one line naming the file, no output file
sub cut_cases {
    my ($label, $status, $objects) = @_;
    my $data = slurp($status);
    my $mid = int(length($data) / 2);
    # a cut inside a line, and a cut exactly between two blocks (that parses: the counts differ)
    my $bound = index($data, "\t}\n\n", $mid);
    $bound = $bound < 0 ? undef : $bound + 4;
    for my $cut (['in the middle', $mid], ['between two blocks', $bound]) {
        my ($how, $len) = @$cut;
        next unless defined $len;
        my $dir = tempdir('sitedump-cut-XXXXXX', TMPDIR => 1, CLEANUP => 1);
        spew("$dir/status.dat", substr($data, 0, $len));
        copy($objects, "$dir/objects.cache") or die "copy: $!";
        my $r = run_sitedump('--status-file', "$dir/status.dat", '--objects-cache', "$dir/objects.cache",
                             '--format', 'json', '-o', "$dir/out.json");
        is($r->{rc}, 2, "$label status.dat cut $how: exit 2") or diag $r->{err};
        my @lines = split /\n/, $r->{err}, -1;
        pop @lines if @lines && $lines[-1] eq '';
        # inside a block: that block is reported skipped first (the reader skips a block it
        # cannot use, a cut header line is a stray line), then the cross-check refuses the file
        my $want = $how eq 'in the middle' ? 2 : 1;
        ok(@lines == $want || (@lines == 1 && $want == 2), "$label cut $how: one line on stderr, after the cut block's report")
            or diag $r->{err};
        like($lines[0], qr/^sitedump: (?:skipped \Q$dir\E\/status\.dat:\d+: \w+ block .*: end of file inside the '\w+' block \(truncated\?\)|warning: \Q$dir\E\/status\.dat:\d+: a line outside any block.*)$/,
             "$label cut $how: the cut block reported") or diag $r->{err} if @lines == 2;
        like($lines[-1] // '', qr/\Q$dir\E\/status\.dat.*\(truncated or out of sync\)$/, "$label cut $how: the message names the file") or diag $r->{err};
        opendir(my $dh, $dir); my @left = sort grep { !/^\.\.?$/ } readdir $dh; closedir $dh;
        is_deeply(\@left, ['objects.cache', 'status.dat'], "$label cut $how: no output file, no temp file");
        is($r->{out}, '', "$label cut $how: nothing on stdout");
    }
    # control: the same copy, whole, is read
    my $dir = tempdir('sitedump-cut-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    spew("$dir/status.dat", $data);
    copy($objects, "$dir/objects.cache") or die "copy: $!";
    my $r = run_sitedump('--status-file', "$dir/status.dat", '--objects-cache', "$dir/objects.cache",
                         '--format', 'json', '-o', "$dir/out.json");
    ok($r->{rc} == 0 && -s "$dir/out.json", "$label control: the whole copy is read (exit 0, output written)") or diag $r->{err};
}
# copies taken from files that are consistent with each other (cores replace them by rename)
my $nd = tempdir('sitedump-src-XXXXXX', TMPDIR => 1, CLEANUP => 1);
copy($ng->status_file, "$nd/ns.dat") && copy($ng->objects_cache, "$nd/no.cache") or die "copy: $!";
cut_cases('Nagios', "$nd/ns.dat", "$nd/no.cache");
my $st_ic = $ic->wait_status(sub { 1 }, 30);
copy($S, "$nd/is.dat") && copy($O, "$nd/io.cache") or die "copy: $!";
cut_cases('Icinga', "$nd/is.dat", "$nd/io.cache");

$ng->stop;
$ic->stop;
done_testing;
