#!/usr/bin/perl
# The Icinga 2 side of the export: sitedump --format icinga2 -C -T from the Icinga 2 remote
# fixture
# - passes `icinga2 daemon -C` on a private config (the harness's private paths), with and
#   without `include <itl>` (the output brings its own command and templates);
# - loaded into a real central Icinga 2, whose Livestatus then shows every remote host and
#   service, byte-exact names, passive (active checks off, passive on), with the remote's groups
#   (names and aliases), custom variables and the rest of the object configuration.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(300);

my $BIN = sitedump_bin();
sub bytes_of { Encode::encode('UTF-8', $_[0]) }
run_defaults(timeout => 60);
sub run_sitedump { run([$BIN, map { bytes_of($_) } @_]) }

# icinga2 daemon -C on TEXT, with every path private (as SiteTest::icinga2_start runs it)
sub icinga2_validate {
    my ($text, %o) = @_;
    my $dir = tempdir('st-ic2C-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    make_path(map { "$dir/$_" } qw(lib log cache spool run run/cmd));
    spew("$dir/icinga2.conf", (($o{itl} // 1) ? "include <itl>\n" : '') . $text);
    my $r = run_cmd([$SiteTest::ICINGA2, 'daemon', '-C', '-c', "$dir/icinga2.conf",
        "-DConfiguration.DataDir=$dir/lib", "-DConfiguration.LogDir=$dir/log",
        "-DConfiguration.CacheDir=$dir/cache", "-DConfiguration.SpoolDir=$dir/spool",
        "-DConfiguration.InitRunDir=$dir/run", "-DConfiguration.PidPath=$dir/run/icinga2.pid",
        "-DConfiguration.RunAsUser=root", "-DConfiguration.RunAsGroup=root"],
        timeout => 120, env => { ICINGA2_USER => 'root', ICINGA2_GROUP => 'root' });
    return ($r->{rc}, $r->{out} . $r->{err});
}

my ($ic, $fx) = remote_fixture(name => 'ic2-remote');
my $spec = 'unix:' . $ic->livestatus;

# ---- the remote's configuration, from its Livestatus
my $common = 'display_name groups custom_variables check_command max_check_attempts check_interval '
           . 'retry_interval notes notes_url action_url icon_image contacts';
my %RH = map { ($_->{name} => $_) } @{ $ic->query_hash("GET hosts\nColumns: name alias address parents $common") };
my %RS = map { ("$_->{host_name}/$_->{description}" => $_) } @{ $ic->query_hash("GET services\nColumns: host_name description $common") };
my %RHG = map { @$_ } @{ $ic->query("GET hostgroups\nColumns: name alias") };
my %RSG = map { @$_ } @{ $ic->query("GET servicegroups\nColumns: name alias") };

my $r = run_sitedump('--format', 'icinga2', '-C', '-T', '-s', $spec);
is($r->{rc}, 0, '--format icinga2 -C -T: exit 0') or diag $r->{err};
is($r->{err}, '', '--format icinga2 -C -T: nothing on stderr');
my $DSL = $r->{out};
like($DSL, qr/^template Host /m, '-T: host template written');
like($DSL, qr/^template Service /m, '-T: service template written');
unlike($DSL, qr/sitetest/, 'nothing of the harness is referenced');

# ---- icinga2 daemon -C, with and without the ITL
for my $itl (1, 0) {
    my $label = $itl ? 'with include <itl>' : 'without include <itl>';
    my ($rc, $out) = icinga2_validate($DSL, itl => $itl);
    is($rc, 0, "icinga2 daemon -C passes $label") or diag $out;
    like($out, qr/Instantiated ${\ scalar keys %RH} Hosts?\./, "$label: " . keys(%RH) . ' hosts instantiated');
    like($out, qr/Instantiated ${\ scalar keys %RS} Services?\./, "$label: " . keys(%RS) . ' services instantiated');
    like($out, qr/Instantiated ${\ scalar keys %RHG} HostGroups?\./, "$label: host groups instantiated");
    like($out, qr/Instantiated ${\ scalar keys %RSG} ServiceGroups?\./, "$label: service groups instantiated");
}
# the validation can fail (a control: the same text with its last closing brace removed)
(my $broken = $DSL) =~ s/\}\s*\z//;
my ($brc) = icinga2_validate($broken, itl => 1);
isnt($brc, 0, 'control: icinga2 daemon -C rejects a broken copy');

# ---- a real central with that configuration
my $t0 = time;
my $central = icinga2_start(conf => $DSL, name => 'ic2-central');
ok($central, sprintf 'central Icinga 2 started with the generated config (%.1fs)', time - $t0);
my $cols = "$common active_checks_enabled accept_passive_checks";
my %CH = map { ($_->{name} => $_) } @{ $central->query_hash("GET hosts\nColumns: name alias address $cols") };
my %CS = map { ("$_->{host_name}/$_->{description}" => $_) } @{ $central->query_hash("GET services\nColumns: host_name description $cols") };
my %CHG = map { @$_ } @{ $central->query("GET hostgroups\nColumns: name alias") };
my %CSG = map { @$_ } @{ $central->query("GET servicegroups\nColumns: name alias") };

is_deeply([ map { bytes_of($_) } sort keys %CH ], [ map { bytes_of($_) } sort keys %RH ], 'central: exactly the remote host names (byte-exact)');
is_deeply([ map { bytes_of($_) } sort keys %CS ], [ map { bytes_of($_) } sort keys %RS ], 'central: exactly the remote services (byte-exact)');
is_deeply(\%CHG, \%RHG, 'central: host groups with their aliases');
is_deeply(\%CSG, \%RSG, 'central: service groups with their aliases');

sub vars_of { my ($l) = @_; +{ map { ($_->[0] => $_->[1]) } @{ $l || [] } } }

sub compare_object {
    my ($what, $c, $r, @fields) = @_;
    ok($c, "$what on the central") or return;
    is($c->{active_checks_enabled}, 0, "$what: active checks off");
    is($c->{accept_passive_checks}, 1, "$what: passive checks on");
    is_deeply([ sort @{ $c->{groups} || [] } ], [ sort @{ $r->{groups} || [] } ], "$what: groups");
    my $cv = vars_of($c->{custom_variables});
    my $rv = vars_of($r->{custom_variables});
    my %own = map { ($_ => $cv->{$_}) } grep { !/^sitedump_/ } keys %$cv;
    is_deeply(\%own, $rv, "$what: custom variables (besides sitedump_*) are the remote's");
    is($cv->{sitedump_check_command}, $r->{check_command}, "$what: the remote's check_command kept in vars.sitedump_check_command");
    is($c->{$_} // '', $r->{$_} // '', "$what: $_") for @fields;
    for my $f (qw(check_interval retry_interval max_check_attempts)) {
        ok(defined $c->{$f} && defined $r->{$f} && $c->{$f} == $r->{$f}, "$what: $f")
            or diag "central " . ($c->{$f} // 'null') . ", remote " . ($r->{$f} // 'null');
    }
}
for my $h (sort keys %RH) {
    compare_object("host '$h'", $CH{$h}, $RH{$h}, qw(display_name alias address notes notes_url action_url icon_image));
    my $cv = $CH{$h} ? vars_of($CH{$h}{custom_variables}) : {};
    if (@{ $RH{$h}{parents} || [] }) {
        # Icinga's Livestatus shows a structured variable as its JSON text
        my $p = $cv->{sitedump_parents};
        $p = eval { JSON::PP->new->decode($p) } // $p if defined $p && !ref $p;
        is_deeply($p, $RH{$h}{parents}, "host '$h': remote parents kept in vars.sitedump_parents");
    }
}
for my $k (sort keys %RS) {
    compare_object("service '$k'", $CS{$k}, $RS{$k}, qw(display_name notes notes_url action_url icon_image));
}
# contacts cannot be objects on the central (its users are its own): kept in vars.sitedump_contacts
for my $o ((map { ["host '$_'", $CH{$_}, $RH{$_}] } sort keys %RH), (map { ["service '$_'", $CS{$_}, $RS{$_}] } sort keys %RS)) {
    my ($what, $c, $rr) = @$o;
    next unless $c && @{ $rr->{contacts} || [] };
    my $v = vars_of($c->{custom_variables})->{sitedump_contacts};
    $v = eval { JSON::PP->new->decode($v) } // $v if defined $v && !ref $v;
    is_deeply([ sort @{ ref $v eq 'ARRAY' ? $v : [] } ], [ sort @{ $rr->{contacts} } ], "$what: remote contacts kept in vars.sitedump_contacts");
}

# the central really is passive: nothing was checked
my $checked = $central->query("GET services\nColumns: host_name description\nFilter: has_been_checked = 1");
is(scalar(@$checked), 0, 'central: no service was checked (no active checks)');

$central->stop;
$ic->stop;
done_testing;
