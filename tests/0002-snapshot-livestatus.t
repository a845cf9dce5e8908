#!/usr/bin/perl
# The JSON snapshot from Livestatus (sitedump -s ... --format json, -C, --all) against the
# remote's own Livestatus, read directly with the same columns: every object, every field the
# schema (docs/snapshot-schema.md) lists, compared one by one. The only differences allowed
# are the normalisations the schema lists:
#   - booleans are JSON true/false (Icinga sends true/false for some columns, 0/1 for others);
#   - null becomes 0 (numbers) or "" (text) (never-checked perf data, latency, execution time;
#     downtimes' triggered_by);
#   - last_check -1 (never checked) becomes 0;
#   - long_plugin_output: the literal backslash-n becomes a newline;
#   - acknowledgement_type is 0 when the object is not acknowledged;
#   - host comments/downtimes have service_description null;
#   - custom_variables: Livestatus' [[name, value], ...] is the object {name: value}.
# Also: counts, names with UTF-8 and spaces byte-exact, ack comments, both downtimes, exit
# code, valid JSON, -o FILE (and -o on a device or FIFO), and -H 'Filter: host_name = ...'.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use B ();
use Encode ();
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time);
use SiteTest qw(:DEFAULT slurp);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);
delete $ENV{OMD_SITE};

my $BIN = sitedump_bin();
my $JSON = JSON::PP->new->utf8;

# ---- the schema's fields (docs/snapshot-schema.md)
my @STATE = qw(state state_type current_attempt max_check_attempts has_been_checked plugin_output
               long_plugin_output perf_data last_check last_state_change last_hard_state is_flapping
               latency execution_time check_type acknowledged acknowledgement_type);
my @CONFIG = qw(max_check_attempts groups contacts contact_groups check_command check_interval
                retry_interval notes notes_url action_url icon_image custom_variables);
my @CONFIG_HOST = qw(alias address parents);
my @COMMENT  = qw(id host_name service_description entry_type author comment persistent entry_time);
my @DOWNTIME = qw(id host_name service_description start_time end_time fixed duration triggered_by
                  author comment entry_time);
my %BOOL = map { $_ => 1 } qw(has_been_checked is_flapping acknowledged persistent fixed);
my %TEXT = map { $_ => 1 } qw(name host_name description plugin_output long_plugin_output perf_data
                              check_command notes notes_url action_url icon_image alias address
                              author comment);
my %LIST = map { $_ => 1 } qw(groups contacts contact_groups parents);

sub uniq { my %s; grep { !$s{$_}++ } @_ }
sub bytes_of { Encode::encode('UTF-8', $_[0]) }

my $t0 = time;
my ($ic, $fx) = remote_fixture(name => 'ls-json');
my $sock = $ic->livestatus;
my $spec = "unix:$sock";
note sprintf 'fixture up in %.1fs', time - $t0;

# One more result, so that the text rules are exercised beyond the fixture: ';' in both lines,
# backslashes in the long output, perf data in both lines (\n: Icinga makes it a line break).
my $tsx = int(time) - 30;
$ic->command('PROCESS_SERVICE_CHECK_RESULT;gw;ping;1;PING WARNING; loss 20%|rta=5ms;100;200;0'
             . '\nline two; with semicolon\nC:\dir\file = 3 \ttab|loss=20%;10;50', $tsx);
ok(wait_for(sub {
    $ic->query("GET services\nColumns: last_check\nFilter: host_name = gw\nFilter: description = ping")->[0][0] == $tsx
}, 30), 'remote: extra result applied');

# ---- Livestatus, read directly (hashes keyed by column name)
my @hcols = uniq('name', @STATE, @CONFIG_HOST, @CONFIG);
my @scols = uniq('host_name', 'description', @STATE, @CONFIG);
my $LS_HOSTS = $ic->query_hash("GET hosts\nColumns: @hcols");
my $LS_SVCS  = $ic->query_hash("GET services\nColumns: @scols");
my $LS_CMTS  = $ic->query_hash("GET comments\nColumns: id host_name service_description is_service entry_type author comment persistent entry_time");
my $LS_DTS   = $ic->query_hash("GET downtimes\nColumns: id host_name service_description is_service start_time end_time fixed duration triggered_by author comment entry_time");
my $LS_HG    = $ic->query_hash("GET hostgroups\nColumns: name alias");
my $LS_SG    = $ic->query_hash("GET servicegroups\nColumns: name alias");
my %LSH = map { ($_->{name} => $_) } @$LS_HOSTS;
my %LSS = map { ("$_->{host_name}\t$_->{description}" => $_) } @$LS_SVCS;
my %LSC = map { ($_->{id} => $_) } @$LS_CMTS;
my %LSD = map { ($_->{id} => $_) } @$LS_DTS;

# the fixture's own numbers, so that a Livestatus that shows less cannot pass unnoticed
my $nsvc_fx = 0; $nsvc_fx += keys %{ $fx->{services}{$_} } for keys %{ $fx->{services} };
is(scalar(@$LS_HOSTS), scalar(keys %{ $fx->{hosts} }), 'Livestatus: all fixture hosts');
is(scalar(@$LS_SVCS), $nsvc_fx, 'Livestatus: all fixture services');
is(scalar(@$LS_CMTS), @{ $fx->{comments} } + @{ $fx->{acks} }, 'Livestatus: user and ack comments');
is(scalar(@$LS_DTS), scalar(@{ $fx->{downtimes} }), 'Livestatus: all downtimes');

# ---- expected snapshot value of a Livestatus value, with exactly the schema's normalisations
sub expect {
    my ($key, $v, $row) = @_;
    return ($v ? 1 : 0) if $BOOL{$key};
    if ($key eq 'last_check') { return 0 if !defined $v || $v == -1; return $v }
    if ($key eq 'long_plugin_output') { $v //= ''; $v =~ s/\\n/\n/g; return $v }
    if ($key eq 'acknowledgement_type') { return $row->{acknowledged} ? ($v // 0) : 0 }
    if ($key eq 'custom_variables') {
        return { map { ($_->[0] => ref $_->[1] ? JSON::PP->new->canonical->encode($_->[1]) : $_->[1]) } @{ $v || [] } };
    }
    return $v // [] if $LIST{$key};
    return $v // '' if $TEXT{$key};
    return $v // 0;
}

sub is_json_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVf_IOK() | B::SVf_NOK())) && !($f & B::SVf_POK()) ? 1 : 0;
}

# compare one snapshot field with the expected value; returns 1 if equal
sub check_field {
    my ($what, $key, $got, $exp) = @_;
    my $name = "$what: $key";
    if ($BOOL{$key}) {
        my $isbool = ref $got && ref $got eq 'JSON::PP::Boolean';
        return ok($isbool && ($got ? 1 : 0) == $exp, $name)
            || diag "got " . (defined $got ? ($isbool ? ($got ? 'true' : 'false') : "'$got' (not a JSON boolean)") : 'null') . ", expected " . ($exp ? 'true' : 'false');
    }
    if (ref $exp eq 'ARRAY' || ref $exp eq 'HASH') {
        return is_deeply($got, $exp, $name);
    }
    if ($TEXT{$key} || ($key eq 'service_description')) {
        if (!defined $exp) { return ok(!defined $got, $name) || diag "got '" . ($got // '') . "', expected null" }
        return ok(defined $got && !ref $got && !is_json_number($got) && $got eq $exp, $name)
            || diag "got '" . ($got // 'null') . "', expected '$exp'";
    }
    return ok(is_json_number($got) && $got == $exp, $name)
        || diag "got " . ($got // 'null') . (is_json_number($got) ? '' : ' (not a JSON number)') . ", expected $exp";
}

run_defaults(timeout => 60);
sub run_sitedump { run([$BIN, map { bytes_of($_) } @_]) }

# top-level members and their order (the schema: groups, hosts, services, comments/downtimes)
sub check_top {
    my ($label, $raw, $doc, $parts, $t_before, $t_after) = @_;
    my @sections = @$parts == 1 && $parts->[0] eq 'state' ? qw(hosts services comments downtimes)
                 : @$parts == 1                            ? qw(hostgroups servicegroups hosts services)
                 :                                            qw(hostgroups servicegroups hosts services comments downtimes);
    is_deeply([ sort keys %$doc ], [ sort(qw(format version site source core core_version created parts), @sections) ],
              "$label: exactly the top-level members of the parts written");
    is($doc->{core}, 'icinga2', "$label: the site's core, as it says itself (GET status)");
    like($doc->{core_version}, qr/^r2\.\d+/, "$label: its version ($doc->{core_version})");
    is($doc->{format}, 'sitedump-snapshot', "$label: format");
    ok(is_json_number($doc->{version}) && $doc->{version} == 1, "$label: version 1");
    is($doc->{site}, (POSIX::uname())[1], "$label: site defaults to the host name (no --site, no OMD_SITE)");
    is($doc->{source}, $spec =~ s/^/livestatus:/r, "$label: source");
    ok(is_json_number($doc->{created}) && $doc->{created} >= int($t_before) && $doc->{created} <= $t_after + 1,
       "$label: created is the export time") or diag "created $doc->{created}, run between $t_before and $t_after";
    is_deeply($doc->{parts}, $parts, "$label: parts");
    # member order in the text (the member names are unique at the top level)
    my @pos = map { my $p = index($raw, qq{"$_":[}); $p } @sections;
    my @order = grep { $pos[$_] >= 0 } 0 .. $#pos;
    my @want = @sections;
    my @got = map { $sections[$_] } sort { $pos[$a] <=> $pos[$b] } @order;
    # comments and downtimes may come in either order
    s/^(comments|downtimes)$/comments|downtimes/ for @want, @got;
    is_deeply(\@got, \@want, "$label: sections in schema order");
}

# every record of $doc against Livestatus; $parts decides which fields must be there
sub check_doc {
    my ($label, $doc, $parts) = @_;
    my %p = map { $_ => 1 } @$parts;
    my @hkeys = uniq('name', $p{state} ? @STATE : (), $p{config} ? (@CONFIG_HOST, @CONFIG) : ());
    my @skeys = uniq('host_name', 'description', $p{state} ? @STATE : (), $p{config} ? @CONFIG : ());

    is(scalar(@{ $doc->{hosts} }), scalar(@$LS_HOSTS), "$label: host count");
    is(scalar(@{ $doc->{services} }), scalar(@$LS_SVCS), "$label: service count");
    my (%seen_h, %seen_s);
    for my $h (@{ $doc->{hosts} }) {
        my $n = $h->{name} // '';
        my $r = $LSH{$n};
        ok($r && !$seen_h{$n}++, "$label: host '$n' is a remote host, once") or next;
        is_deeply([ sort keys %$h ], [ sort @hkeys ], "$label: host '$n' has exactly the schema's keys");
        check_field("$label host '$n'", $_, $h->{$_}, expect($_, $r->{$_}, $r)) for grep { $_ ne 'name' } @hkeys;
    }
    for my $s (@{ $doc->{services} }) {
        my $k = ($s->{host_name} // '') . "\t" . ($s->{description} // '');
        (my $n = $k) =~ s/\t/\//;
        my $r = $LSS{$k};
        ok($r && !$seen_s{$k}++, "$label: service '$n' is a remote service, once") or next;
        is_deeply([ sort keys %$s ], [ sort @skeys ], "$label: service '$n' has exactly the schema's keys");
        check_field("$label service '$n'", $_, $s->{$_}, expect($_, $r->{$_}, $r))
            for grep { $_ ne 'host_name' && $_ ne 'description' } @skeys;
    }
    if ($p{config}) {
        for my $g (['hostgroups', $LS_HG], ['servicegroups', $LS_SG]) {
            my ($k, $ls) = @$g;
            is_deeply([ sort { $a->{name} cmp $b->{name} } @{ $doc->{$k} } ],
                      [ sort { $a->{name} cmp $b->{name} } map { +{ name => $_->{name}, alias => $_->{alias} // '' } } @$ls ],
                      "$label: $k (name, alias), all of them");
        }
    }
    return unless $p{state};
    is(scalar(@{ $doc->{comments} }), scalar(@$LS_CMTS), "$label: comment count");
    my %seen;
    for my $c (@{ $doc->{comments} }) {
        my $r = $LSC{ $c->{id} // '' };
        ok($r && !$seen{ $c->{id} }++, "$label: comment id " . ($c->{id} // 'null') . " is a remote comment, once") or next;
        is_deeply([ sort keys %$c ], [ sort @COMMENT ], "$label: comment $c->{id} has exactly the schema's keys");
        for my $f (grep { $_ ne 'id' } @COMMENT) {
            my $e = $f eq 'service_description' ? ($r->{is_service} ? $r->{service_description} : undef)
                                                : expect($f, $r->{$f}, $r);
            check_field("$label comment $c->{id}", $f, $c->{$f}, $e);
        }
    }
    is(scalar(@{ $doc->{downtimes} }), scalar(@$LS_DTS), "$label: downtime count");
    %seen = ();
    for my $d (@{ $doc->{downtimes} }) {
        my $r = $LSD{ $d->{id} // '' };
        ok($r && !$seen{ $d->{id} }++, "$label: downtime id " . ($d->{id} // 'null') . " is a remote downtime, once") or next;
        is_deeply([ sort keys %$d ], [ sort @DOWNTIME ], "$label: downtime $d->{id} has exactly the schema's keys");
        for my $f (grep { $_ ne 'id' } @DOWNTIME) {
            my $e = $f eq 'service_description' ? ($r->{is_service} ? $r->{service_description} : undef)
                                                : expect($f, $r->{$f}, $r);
            check_field("$label downtime $d->{id}", $f, $d->{$f}, $e);
        }
    }
}

my %DOC;
for my $mode (['state', [], ['state']], ['config', ['-C'], ['config']], ['all', ['--all'], ['state', 'config']]) {
    my ($label, $extra, $parts) = @$mode;
    my $tb = time;
    my $r = run_sitedump('-s', $spec, @$extra, '--format', 'json');
    my $ta = time;
    is($r->{rc}, 0, "$label: exit 0") or diag $r->{err};
    is($r->{err}, '', "$label: nothing on stderr");
    my $doc = eval { $JSON->decode($r->{out}) };
    ok($doc && ref $doc eq 'HASH', "$label: output is one valid JSON document") or do { diag $@; next };
    $DOC{$label} = [$r->{out}, $doc];
    check_top($label, $r->{out}, $doc, $parts, $tb, $ta);
    check_doc($label, $doc, $parts);
}

# ---- the particular situations, spelled out (independent of the field loop above)
my $state = $DOC{state}[1];
my $raw   = $DOC{state}[0];
if ($state) {
    my %H = map { ($_->{name} => $_) } @{ $state->{hosts} };
    my %S = map { ("$_->{host_name}/$_->{description}" => $_) } @{ $state->{services} };
    for my $name ('häst-ü', 'web server 01', 'pending host') {
        ok((grep { bytes_of($_->{name}) eq bytes_of($name) } @{ $state->{hosts} }), "host name '$name' byte-exact");
    }
    ok(exists $H{'häst-ü'} && bytes_of((grep { $_ eq 'häst-ü' } keys %H)[0]) eq "h\xc3\xa4st-\xc3\xbc",
       'UTF-8 host name decodes to the exact UTF-8 bytes');
    for my $k ('web server 01/Ωmega check', 'web server 01/disk /var', 'häst-ü/ssh', 'häst-ü/ping') {
        ok($S{$k}, "service '$k' present (UTF-8, spaces, slash)");
    }
    ok(index($raw, "\\u03a9mega check") >= 0 || index($raw, bytes_of('Ωmega check')) >= 0,
       'Ωmega is in the raw JSON as \\u03a9 or as its UTF-8 bytes');
    my $om = $S{'web server 01/Ωmega check'};
    is($om && $om->{long_plugin_output}, "second line\nthird", 'multi-line long output with real newlines');
    is($om && $om->{perf_data}, 'a=1;2;3 b=2s', 'perf data of both lines');
    my $nr = $S{'web server 01/never run'};
    ok($nr && !$nr->{has_been_checked} && $nr->{last_check} == 0 && $nr->{perf_data} eq ''
       && $nr->{latency} == 0 && $nr->{execution_time} == 0 && $nr->{state} == 3,
       'never-checked service: has_been_checked false, last_check 0, "" perf, 0 latency/execution, state as reported (3)');
    ok($H{'pending host'} && !$H{'pending host'}{has_been_checked} && $H{'pending host'}{state} == 1,
       'never-checked host: has_been_checked false, state as reported (1)');
    like(bytes_of($S{'db01/backup'}{plugin_output} // ''), qr/^BACKUP WARNING - C:\\temp is 91% full$/, 'backslash in output kept as is');
    is($S{'gw/ping'}{long_plugin_output}, "line two; with semicolon\nC:\\dir\\file = 3 \\ttab",
       'long output: only backslash-n became a newline; ; and other backslashes kept');

    # acknowledgements: the flag, the type, and the entry_type 4 comment with author and text
    for my $a (@{ $fx->{acks} }) {
        my $what = defined $a->{service} ? "$a->{host}/$a->{service}" : $a->{host};
        my $obj = defined $a->{service} ? $S{$what} : $H{ $a->{host} };
        ok($obj && $obj->{acknowledged} && $obj->{acknowledgement_type} == $a->{sticky},
           "ack on $what: acknowledged, type $a->{sticky}");
        my @c = grep { $_->{entry_type} == 4 && $_->{host_name} eq $a->{host}
                       && (defined $a->{service} ? ($_->{service_description} // '') eq $a->{service} : !defined $_->{service_description}) }
                @{ $state->{comments} };
        is(scalar(@c), 1, "ack on $what: one entry_type 4 comment");
        is_deeply([ map { @$_{qw(author comment)} } @c ], [ $a->{author}, $a->{comment} ], "ack on $what: author and text");
    }
    for my $c (@{ $fx->{comments} }) {
        my @m = grep { $_->{entry_type} == 1 && $_->{host_name} eq $c->{host} && $_->{author} eq $c->{author}
                       && $_->{comment} eq $c->{comment}
                       && (defined $c->{service} ? ($_->{service_description} // '') eq $c->{service} : !defined $_->{service_description}) }
                @{ $state->{comments} };
        is(scalar(@m), 1, "user comment '$c->{comment}' by $c->{author} present once");
    }
    # downtimes: fixed (service, host) and flexible, with every field
    for my $d (@{ $fx->{downtimes} }) {
        my $what = (defined $d->{service} ? "$d->{host}/$d->{service}" : $d->{host}) . ($d->{fixed} ? ' fixed' : ' flexible');
        my @m = grep { $_->{host_name} eq $d->{host}
                       && (defined $d->{service} ? ($_->{service_description} // '') eq $d->{service} : !defined $_->{service_description}) }
                @{ $state->{downtimes} };
        is(scalar(@m), 1, "downtime $what present once") or next;
        my $g = $m[0];
        is_deeply([ @$g{qw(start_time end_time duration triggered_by author comment)}, $g->{fixed} ? 1 : 0 ],
                  [ @$d{qw(start end duration)}, 0, @$d{qw(author comment fixed)} ],
                  "downtime $what: start, end, duration, triggered_by, author, comment, fixed");
        ok($g->{entry_time} >= $fx->{now} - 5 && $g->{entry_time} <= time, "downtime $what: entry_time when it was scheduled");
    }
}

# ---- --all is state + config of the same objects
if ($DOC{all} && $DOC{state} && $DOC{config}) {
    my $strip = sub {
        my ($list, @k) = @_;
        my %r;
        for my $o (@$list) {
            my $id = $o->{name} // "$o->{host_name}/$o->{description}";
            $r{$id} = { map { ($_ => $o->{$_}) } grep { exists $o->{$_} } @k };
        }
        return \%r;
    };
    for my $t (['hosts', ['name', @STATE], ['name', @CONFIG_HOST, @CONFIG]], ['services', ['host_name', 'description', @STATE], ['host_name', 'description', @CONFIG]]) {
        my ($k, $sk, $ck) = @$t;
        is_deeply($strip->($DOC{all}[1]{$k}, @$sk), $strip->($DOC{state}[1]{$k}, @$sk), "--all: $k state fields equal the state export");
        is_deeply($strip->($DOC{all}[1]{$k}, @$ck), $strip->($DOC{config}[1]{$k}, @$ck), "--all: $k config fields equal the config export");
    }
}

# ---- -o FILE: the same content, written atomically
{
    my $dir = tempdir('sitedump-o-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $r1 = run_sitedump('-s', $spec, '--format', 'json', '--all', '-o', "$dir/snap.json");
    my $r2 = run_sitedump('-s', $spec, '--format', 'json', '--all');
    is($r1->{rc}, 0, '-o: exit 0') or diag $r1->{err};
    is($r1->{out}, '', '-o: nothing on stdout');
    my $file = slurp("$dir/snap.json");
    ok(defined $file, '-o: file written');
    s/"created":\d+/"created":0/ for $file, $r2->{out};
    ok(defined $file && $file eq $r2->{out}, '-o: file content equals standard output (created aside)')
        or diag "file " . length($file // '') . " bytes, stdout " . length($r2->{out}) . " bytes";
    opendir(my $dh, $dir); my @left = sort grep { !/^\.\.?$/ } readdir $dh; closedir $dh;
    is_deeply(\@left, ['snap.json'], '-o: no temporary file left next to it');
}

# ---- -o on a device or FIFO writes into it (a regression of the security review, session 1):
# renaming a temp file over it replaced /dev/null with a regular file once (a private node
# here, so a regression cannot break the machine's own /dev/null)
{
    my $dir = tempdir('sitedump-odev-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    is(run([$BIN, 'keygen', '-o', "$dir/r1"])->{rc}, 0, 'keygen');
    SKIP: {
        skip 'mknod needs root', 4 if $>;
        system('mknod', "$dir/null", 'c', '1', '3') == 0 or skip 'mknod failed', 4;
        is(run_sitedump('-s', $spec, '-o', "$dir/null")->{rc}, 0, '-o device: plain export written');
        ok(-c "$dir/null", '-o device: still a character device');
        is(run_sitedump('-s', $spec, '-k', "$dir/r1.key", '--site', 'r1', '--state-dir', "$dir/state", '-o', "$dir/null")->{rc}, 0,
           '-o device: bundle written');
        ok(-c "$dir/null", '-o device: still a character device after a bundle');
    }
    system('mkfifo', "$dir/fifo") == 0 or die;
    my $pid = fork // die;
    if (!$pid) { open my $f, '<', "$dir/fifo" or exit 1; local $/; my $x = <$f>; exit(length($x // '') > 100 ? 0 : 1) }
    is(run_sitedump('-s', $spec, '-o', "$dir/fifo")->{rc}, 0, '-o FIFO: written');
    waitpid $pid, 0;
    is($?, 0, '-o FIFO: the reader got the output');
    ok(-p "$dir/fifo", '-o FIFO: still a FIFO');
}

# ---- -H 'Filter: host_name = X' restricts hosts, services, comments and downtimes
for my $h ('gw', 'häst-ü') {
    my $r = run_sitedump('-s', $spec, '--format', 'json', '-H', "Filter: host_name = $h");
    is($r->{rc}, 0, "-H host_name = $h: exit 0") or diag $r->{err};
    my $d = eval { $JSON->decode($r->{out}) } or do { fail("-H $h: valid JSON"); next };
    is_deeply([ map { $_->{name} } @{ $d->{hosts} } ], [$h], "-H $h: only that host");
    is_deeply([ sort map { "$_->{host_name}/$_->{description}" } @{ $d->{services} } ],
              [ sort map { "$_->{host_name}/$_->{description}" } grep { $_->{host_name} eq $h } @$LS_SVCS ],
              "-H $h: exactly that host's services");
    my @want_c = sort { $a <=> $b } map { $_->{id} } grep { $_->{host_name} eq $h } @$LS_CMTS;
    my @want_d = sort { $a <=> $b } map { $_->{id} } grep { $_->{host_name} eq $h } @$LS_DTS;
    is_deeply([ sort { $a <=> $b } map { $_->{id} } @{ $d->{comments} } ], \@want_c, "-H $h: exactly that host's comments (" . scalar(@want_c) . ")");
    is_deeply([ sort { $a <=> $b } map { $_->{id} } @{ $d->{downtimes} } ], \@want_d, "-H $h: exactly that host's downtimes (" . scalar(@want_d) . ")");
    if ($h ne 'gw') {
        # the filter is really tested here: the host has comments and downtimes, others too
        ok(@want_c && @want_c < @$LS_CMTS && @want_d && @want_d < @$LS_DTS,
           "-H $h: the host has comments and downtimes and other hosts have more");
    }
    # the filtered records are the same records as without a filter
    my %full = map { ("$_->{host_name}/$_->{description}" => $_) } @{ $state->{services} };
    is_deeply({ map { ("$_->{host_name}/$_->{description}" => $_) } @{ $d->{services} } },
              { map { ($_ => $full{$_}) } grep { m{^\Q$h\E/} } keys %full }, "-H $h: services identical to the unfiltered export");
}

$ic->stop;
done_testing;
