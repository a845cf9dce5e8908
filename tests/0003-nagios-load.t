#!/usr/bin/perl
# The Nagios side of the export, on a real Nagios 4 central:
# - sitedump -TC (objects + templates) from the Icinga 2 remote fixture passes nagios4 -v together
#   with a minimal central base config that defines only the contacts and contact groups the
#   remote's objects reference (a real central always has its own contacts). Nothing else: no
#   templates, commands or timeperiods from the harness;
# - a central started with that config takes the checkresult text (sitedump -s ..., dropped into
#   check_result_path as c + 6 characters with a .ok marker), and then shows for every checked
#   remote object the remote's state, output, long output, perf data and last check; objects the
#   remote never checked stay unchecked;
# - -p PREFIX: objects and results both prefixed, and they load;
# - -M: the first line is "status" (state) or "config SITE" (configuration), as livedump's.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use Time::HiRes qw(time);
use SiteTest qw(:DEFAULT slurp unescape_long_output);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(400);
delete $ENV{OMD_SITE};

my $BIN = sitedump_bin();
sub bytes_of { Encode::encode('UTF-8', $_[0]) }
sub chars_of { Encode::decode('UTF-8', $_[0], Encode::FB_CROAK) }
run_defaults(timeout => 60);
sub run_sitedump { run([$BIN, map { bytes_of($_) } @_]) }

my ($ic, $fx) = remote_fixture(name => 'nag-load');
my $spec = 'unix:' . $ic->livestatus;

# Two more results on the remote, so that the output rules are really exercised: ';' in the
# first line (Nagios shows it as ':'), ';' and backslashes in the long output (kept), perf data
# in both lines. (\n below is the two characters backslash-n: Icinga makes it a line break.)
my $tsx = int(time) - 30;
$ic->command('PROCESS_SERVICE_CHECK_RESULT;gw;ping;1;PING WARNING; loss 20%; rta 5ms|rta=5ms;100;200;0'
             . '\nline two; with semicolon\nC:\dir\file = 3|loss=20%;10;50', $tsx);
$ic->command('PROCESS_HOST_CHECK_RESULT;db01;0;PING OK; rta 0.4ms|rta=0.4ms;100;200;0', $tsx);
ok(wait_for(sub {
    my $s = $ic->query("GET services\nColumns: last_check plugin_output\nFilter: host_name = gw\nFilter: description = ping");
    my $h = $ic->query("GET hosts\nColumns: last_check\nFilter: name = db01");
    return $s->[0][0] == $tsx && $h->[0][0] == $tsx;
}, 30), 'remote: extra results with ; and \\ applied');

# ---- the remote's truth, read from its Livestatus
my $cols = 'state has_been_checked plugin_output long_plugin_output perf_data last_check contacts contact_groups';
my %RH = map { ($_->{name} => $_) } @{ $ic->query_hash("GET hosts\nColumns: name parents $cols") };
my %RS;
for my $r (@{ $ic->query_hash("GET services\nColumns: host_name description $cols") }) {
    $RS{ $r->{host_name} }{ $r->{description} } = $r;
}
my @all_svcs = map { my $h = $_; map { [$h, $_] } sort keys %{ $RS{$h} } } sort keys %RS;
my @checked_h = grep { $RH{$_}{has_been_checked} } sort keys %RH;
my @checked_s = grep { $RS{ $_->[0] }{ $_->[1] }{has_been_checked} } @all_svcs;
my @pending_h = grep { !$RH{$_}{has_been_checked} } sort keys %RH;
my @pending_s = grep { !$RS{ $_->[0] }{ $_->[1] }{has_been_checked} } @all_svcs;
ok(@checked_h >= 4 && @checked_s >= 10 && @pending_h && @pending_s,
   sprintf('remote: %d checked hosts, %d checked services, %d + %d never checked',
           scalar @checked_h, scalar @checked_s, scalar @pending_h, scalar @pending_s));

# ---- the central's own base config: the contacts / contact groups the remote references
my (%contacts, %cgroups);
for my $r (values(%RH), map { values %$_ } values %RS) {
    $contacts{$_}++ for @{ $r->{contacts} || [] };
    $cgroups{$_}++ for @{ $r->{contact_groups} || [] };
}
my %cg_members = map { ($_->[0] => $_->[1]) } @{ $ic->query("GET contactgroups\nColumns: name members") };
$contacts{$_}++ for map { @{ $cg_members{$_} || [] } } keys %cgroups;
ok(%contacts && %cgroups, 'the remote references contacts (' . join(', ', sort keys %contacts)
   . ') and contact groups (' . join(', ', sort keys %cgroups) . ')');

sub central_base {
    my $t = "# the central's own objects: a notification period, a no-op command, its contacts\n"
          . "define timeperiod {\n\ttimeperiod_name\tcentral-24x7\n\talias\tcentral 24x7\n"
          . join('', map { "\t$_\t00:00-24:00\n" } qw(sunday monday tuesday wednesday thursday friday saturday))
          . "}\n"
          . "define command {\n\tcommand_name\tcentral-notify-none\n\tcommand_line\t/bin/true\n}\n";
    for my $c (sort keys %contacts) {
        $t .= "define contact {\n\tcontact_name\t$c\n\talias\t$c\n\thost_notifications_enabled\t0\n"
            . "\tservice_notifications_enabled\t0\n\thost_notification_period\tcentral-24x7\n"
            . "\tservice_notification_period\tcentral-24x7\n\thost_notification_options\tn\n"
            . "\tservice_notification_options\tn\n\thost_notification_commands\tcentral-notify-none\n"
            . "\tservice_notification_commands\tcentral-notify-none\n}\n";
    }
    for my $g (sort keys %cgroups) {
        my @m = @{ $cg_members{$g} || [] };
        $t .= "define contactgroup {\n\tcontactgroup_name\t$g\n\talias\t$g\n" . (@m ? "\tmembers\t" . join(',', @m) . "\n" : '') . "}\n";
    }
    return $t;
}
my $BASE = central_base();

# ---- the configuration: -TC
my $cfg_r = run_sitedump('-TC', '-s', $spec);
is($cfg_r->{rc}, 0, '-TC: exit 0') or diag $cfg_r->{err};
my $CFG = $cfg_r->{out};
my @warn = grep { length } split /\n/, $cfg_r->{err};
ok(!grep({ !/^sitedump: warning: / } @warn), '-TC: stderr holds only warnings') or diag $cfg_r->{err};
unlike($CFG, qr/sitetest-/, '-TC output references nothing of the harness (sitetest-*)');
my %defined_hosts = map { (chars_of($_) => 1) } $CFG =~ /^\s*host_name\s+(.+?)\s*$/mg;
is_deeply([ sort keys %defined_hosts ], [ sort keys %RH ], '-TC defines (or uses) exactly the remote hosts');

my ($vrc, $vout) = nagios_verify([$CFG]);
isnt($vrc, 0, 'without the central\'s contacts nagios4 -v fails (the objects reference them)');
my @errs = grep { /Error/ && !/Error processing object config files/ } split /\n/, $vout;
ok(@errs && !grep({ !/contact/i } @errs), 'and the only errors are about contacts')
    or diag join("\n", @errs);

($vrc, $vout) = nagios_verify([$BASE, $CFG], base => 0);
is($vrc, 0, 'nagios4 -v passes: central base (contacts only) + sitedump -TC') or diag $vout;
like($vout, qr/Total Errors:\s+0/, 'nagios4 -v: 0 errors');

my $cfg_g = run_sitedump('-TCG', '-s', $spec);
is($cfg_g->{rc}, 0, '-TCG: exit 0') or diag $cfg_g->{err};
like($cfg_g->{out}, qr/^\s*contact_groups\s+/m, '-TCG writes contact groups');
unlike($cfg_g->{out}, qr/^\s*contacts\s+/m, '-TCG writes no contacts');
($vrc, $vout) = nagios_verify([$BASE, $cfg_g->{out}], base => 0);
is($vrc, 0, 'nagios4 -v passes: central base + sitedump -TCG') or diag $vout;

# ---- load state into a real central
sub wait_applied {
    my ($ng, $prefix, $path) = @_;
    my $why = '';
    my $st = $ng->wait_status(sub {
        my ($st) = @_;
        for my $h (@checked_h) {
            my $c = $st->{hosts}{"$prefix$h"} or do { $why = "no host $prefix$h"; return 0 };
            if (!$c->{has_been_checked} || $c->{last_check} != $RH{$h}{last_check}) { $why = "host $prefix$h not yet"; return 0 }
        }
        for my $x (@checked_s) {
            my $c = $st->{services}{"$prefix$x->[0]"}{ $x->[1] } or do { $why = "no service $prefix$x->[0]/$x->[1]"; return 0 };
            if (!$c->{has_been_checked} || $c->{last_check} != $RS{ $x->[0] }{ $x->[1] }{last_check}) {
                $why = "service $prefix$x->[0]/$x->[1] not yet"; return 0;
            }
        }
        return !-e $path && !-e "$path.ok";
    }, 60);
    diag "not applied: $why\n" . slurp($ng->{log}) unless $st;
    return $st;
}

sub compare_central {
    my ($label, $st, $prefix) = @_;
    my @objs = ((map { [$_, undef] } @checked_h), @checked_s);
    for my $o (@objs) {
        my ($h, $s) = @$o;
        my $r = defined $s ? $RS{$h}{$s} : $RH{$h};
        my $c = defined $s ? $st->{services}{"$prefix$h"}{$s} : $st->{hosts}{"$prefix$h"};
        my $what = "$label: " . (defined $s ? "$prefix$h/$s" : "$prefix$h");
        ok($c, "$what on the central") or next;
        is($c->{has_been_checked}, 1, "$what: has_been_checked");
        is($c->{current_state}, $r->{state}, "$what: current_state = remote state ($r->{state})");
        # docs/core-behaviour.md §6: Nagios shows ';' in the first output line as ':' (and nothing
        # else changes)
        (my $po = $r->{plugin_output} // '') =~ tr/;/:/;
        is($c->{plugin_output}, $po, "$what: plugin_output");
        (my $lo = $r->{long_plugin_output} // '') =~ s/\\n/\n/g;
        is(unescape_long_output($c->{long_plugin_output} // ''), $lo, "$what: long_plugin_output");
        is($c->{performance_data}, $r->{perf_data} // '', "$what: performance_data");
        is($c->{last_check}, $r->{last_check}, "$what: last_check");
    }
    for my $h (@pending_h) {
        my $c = $st->{hosts}{"$prefix$h"};
        ok($c && $c->{has_been_checked} == 0 && $c->{last_check} == 0, "$label: never-checked host $prefix$h is still unchecked");
    }
    for my $x (@pending_s) {
        my $c = $st->{services}{"$prefix$x->[0]"}{ $x->[1] };
        ok($c && $c->{has_been_checked} == 0 && $c->{last_check} == 0,
           "$label: never-checked service $prefix$x->[0]/$x->[1] is still unchecked");
    }
    my $nsvc = 0; $nsvc += keys %{ $st->{services}{$_} } for keys %{ $st->{services} };
    is_deeply([ sort keys %{ $st->{hosts} } ], [ sort map { "$prefix$_" } keys %RH ], "$label: the central has exactly the remote hosts");
    is($nsvc, scalar(@all_svcs), "$label: the central has exactly the remote's number of services");
}

my $state_r = run_sitedump('-s', $spec);
is($state_r->{rc}, 0, 'state: exit 0') or diag $state_r->{err};
is($state_r->{err}, '', 'state: nothing on stderr');
my $STATE = $state_r->{out};
like($STATE, qr/^file_time=\d+$/m, 'state: has file_time');
my $nrec = () = $STATE =~ /^host_name=/mg;
is($nrec, @checked_h + @checked_s, 'state: one record per checked object, none for never-checked ones');

my $t0 = time;
my $ng = nagios_start(objects => [$BASE, $CFG], base => 0, name => 'central');
ok($ng, sprintf 'central Nagios 4 started with base + -TC (%.1fs)', time - $t0);
my $path = $ng->submit_checkresult($STATE);
like($path, qr{/c[A-Za-z0-9]{6}$}, 'checkresult file named c + 6 characters');
ok(-e "$path.ok", '... with its .ok marker');
my $st = wait_applied($ng, '', $path);
ok($st, 'status.dat shows every result; the file and its .ok were consumed');
compare_central('central', $st, '') if $st;
# the rule spelled out once, on the extra result
is_deeply([ @{ $RS{gw}{ping} }{qw(plugin_output long_plugin_output perf_data)} ],
          [ 'PING WARNING; loss 20%; rta 5ms', 'line two; with semicolon\\nC:\\dir\\file = 3', 'rta=5ms;100;200;0 loss=20%;10;50' ],
          'remote gw/ping: ; in both lines, backslashes, perf in both lines');
is_deeply($st && [ @{ $st->{services}{gw}{ping} }{qw(plugin_output long_plugin_output performance_data)} ],
          [ 'PING WARNING: loss 20%: rta 5ms', 'line two; with semicolon\\nC:\\\\dir\\\\file = 3', 'rta=5ms;100;200;0 loss=20%;10;50' ],
          'central gw/ping (raw status.dat): ; shown as : in the first line only; long output escaped by Nagios');
unlike($ng->log_text // '', qr/Error: |Warning: Check result queue contained results for (host|service) '/,
       'nagios.log: no errors, no results for unknown objects');
$ng->stop;

# ---- -p PREFIX: objects and results both prefixed
my $pcfg = run_sitedump('-TC', '-p', 'r1-', '-s', $spec);
is($pcfg->{rc}, 0, '-TC -p r1-: exit 0') or diag $pcfg->{err};
my @hn = map { chars_of($_) } $pcfg->{out} =~ /^\s*host_name\s+(.+?)\s*$/mg;
ok(@hn && !grep({ !/^r1-/ } @hn), '-TC -p r1-: every host_name prefixed (' . scalar(@hn) . ')');
my @par = map { chars_of($_) } $pcfg->{out} =~ /^\s*parents\s+(.+?)\s*$/mg;
is_deeply(\@par, ['r1-gw'], '-TC -p r1-: parents prefixed');
my $pst = run_sitedump('-p', 'r1-', '-s', $spec);
is($pst->{rc}, 0, '-p r1-: exit 0') or diag $pst->{err};
my @rn = map { chars_of($_) } $pst->{out} =~ /^host_name=(.*)$/mg;
ok(@rn == @checked_h + @checked_s && !grep({ !/^r1-/ } @rn), '-p r1-: every result prefixed');
($vrc, $vout) = nagios_verify([$BASE, $pcfg->{out}], base => 0);
is($vrc, 0, 'nagios4 -v passes: central base + -TC -p r1-') or diag $vout;
$ng = nagios_start(objects => [$BASE, $pcfg->{out}], base => 0, name => 'central-r1');
$path = $ng->submit_checkresult($pst->{out});
$st = wait_applied($ng, 'r1-', $path);
ok($st, 'prefixed results applied');
compare_central('prefix', $st, 'r1-') if $st;
my $oc = $ng->objects;
is($oc && $oc->{host}{'r1-web server 01'}{parents}, 'r1-gw', 'central objects.cache: r1-web server 01 has parent r1-gw');
$ng->stop;

# ---- -M: the mode line first, then the same output
my $m = run_sitedump('-M', '-s', $spec);
is($m->{rc}, 0, '-M state: exit 0');
my ($first, $rest) = split /\n/, $m->{out}, 2;
is($first, 'status', '-M state: first line "status"');
s/^file_time=\d+$/file_time=X/m for $rest, (my $plain = $STATE);
is($rest, $plain, '-M state: the rest is the normal state output');
$m = run_sitedump('-M', '-C', '--site', 'r1', '-s', $spec);
is($m->{rc}, 0, '-M -C: exit 0');
($first, $rest) = split /\n/, $m->{out}, 2;
is($first, 'config r1', '-M -C --site r1: first line "config r1"');
like($rest, qr/^# Nagios object definitions/, '-M -C: then the configuration');
$m = run_cmd([$BIN, '-M', '-C', '-s', $spec], timeout => 60, env => { OMD_SITE => 'omdsite' });
is((split /\n/, $m->{out})[0], 'config omdsite', '-M -C: the site defaults to $OMD_SITE');

$ic->stop;
done_testing;
