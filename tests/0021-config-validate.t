#!/usr/bin/perl
# Shadow mode of the config writers (siteload's, with an untrusted remote) on random hostile
# sites, checked by the real cores:
# - a few hundred random sites (the decoder of tests/fuzz/fuzz_config_writers.c, run by
#   `tests/unit/test_config_writers generate`: hostile text, "$(id)", backticks, javascript:
#   URLs, bad custom variable names, the central's contacts or none), each with its own
#   prefixes, written through both writers in shadow mode;
# - `nagios4 -v` and `icinga2 daemon -C` accept them, in batches (a failed batch is checked
#   record by record to name the record);
# - no macro-carrying value holds '$', '`' or '"' (a check of our own, not the generator's):
#   Nagios: the value of every attribute of every object; Icinga 2: every string literal,
#   where not even the escape \" may appear;
# - the cases that matter happened: records written, values mapped, URLs and variables left out.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use SiteTest qw(:DEFAULT slurp spew);

guard(900);

my $ROOT = SiteTest::repo_root();
my $GEN = "$ROOT/tests/unit/test_config_writers";
my $COUNT = $ENV{CONFIG_VALIDATE_COUNT} // 300;
my $SEED = $ENV{CONFIG_VALIDATE_SEED} // 21;
my $BATCH = 100;

my $m = run_cmd(['make', '-s', '-C', $ROOT, 'tests/unit/test_config_writers'], timeout => 300);
is($m->{rc}, 0, 'the generator (tests/unit/test_config_writers) builds') or diag $m->{out} . $m->{err};

my $dir = tempdir('st-cfgval-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{SITETEST_KEEP});
make_path("$dir/nagios", "$dir/icinga2");
my $g = run_cmd([$GEN, 'generate', $SEED, $COUNT, $dir], timeout => 120);
is($g->{rc}, 0, "generate $COUNT sites (seed $SEED): the fuzz target's checks pass on every one")
    or diag $g->{err};
my @n = map { "$dir/nagios/$_.cfg" } 0 .. $COUNT - 1;
my @i = map { "$dir/icinga2/$_.conf" } 0 .. $COUNT - 1;
is(scalar(grep { -f } @n, @i), 2 * $COUNT, 'one Nagios and one Icinga 2 file per site');

# ---- the records really are hostile, and shadow mode did its work on them
my ($nag_all, $ic_all) = (join('', map { slurp($_) } @n), join('', map { slurp($_) } @i));
my %count = (
    'Nagios hosts' => scalar(() = $nag_all =~ /^define host \{/mg),
    'Nagios services' => scalar(() = $nag_all =~ /^define service \{/mg),
    'Icinga 2 hosts' => scalar(() = $ic_all =~ /^object Host /mg),
    'Icinga 2 services' => scalar(() = $ic_all =~ /^object Service /mg),
    'look-alikes of $ written' => scalar(() = $nag_all =~ /\xef\xbc\x84/g),
    'look-alikes of ` written' => scalar(() = $ic_all =~ /\xef\xbd\x80/g),
    'percent-encoded URLs' => scalar(() = $nag_all =~ /_url +\S*%2[0-9]/g),
    'remote variables in vars.sitedump_remote' => scalar(() = $ic_all =~ /vars\.sitedump_remote\["/g),
    'Nagios objects without notifications' => scalar(() = $nag_all =~ /^    notifications_enabled   0$/mg),
    'Icinga 2 objects with the central users' => scalar(() = $ic_all =~ /vars\.sitedump_notify_users = /g),
);
cmp_ok($count{$_}, '>', 20, "$_: $count{$_}") for sort keys %count;

# ---- the cores accept them: batches, then record by record for a failed batch
my $central = <<'EOF';
define command {
    command_name    notify-none
    command_line    /bin/true
}
define timeperiod {
    timeperiod_name central-24x7
    alias           central 24x7
    monday          00:00-24:00
}
EOF
$central .= join '', map { <<"EOF" } qw(nagiosadmin sitedump-other);
define contact {
    contact_name                    $_
    host_notification_period        central-24x7
    service_notification_period     central-24x7
    host_notification_commands      notify-none
    service_notification_commands   notify-none
}
EOF
$central .= "define contactgroup {\n    contactgroup_name $_\n    members nagiosadmin\n}\n" for qw(admins sitedump-others);
spew("$dir/central.cfg", $central);

sub nagios_ok {
    my (@files) = @_;
    my ($rc, $out) = nagios_verify(["$dir/central.cfg", "$dir/nagios-templates.cfg", @files], base => 0);
    return ($rc == 0 && $out =~ /Total Errors:\s+0/, join("\n", grep { /Error/ } split /\n/, $out));
}

sub icinga2_ok {
    my (@files) = @_;
    my $d = tempdir('st-cfgval-ic-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    make_path(map { "$d/$_" } qw(lib log cache spool run));
    spew("$d/icinga2.conf", "include <itl>\n" . join('', map { "include \"$_\"\n" } "$dir/icinga2-templates.conf", @files));
    my $r = run_cmd([$SiteTest::ICINGA2, 'daemon', '-C', '-c', "$d/icinga2.conf",
        "-DConfiguration.DataDir=$d/lib", "-DConfiguration.LogDir=$d/log",
        "-DConfiguration.CacheDir=$d/cache", "-DConfiguration.SpoolDir=$d/spool",
        "-DConfiguration.InitRunDir=$d/run", "-DConfiguration.PidPath=$d/run/icinga2.pid",
        "-DConfiguration.RunAsUser=root", "-DConfiguration.RunAsGroup=root"],
        timeout => 300, env => { ICINGA2_USER => 'root', ICINGA2_GROUP => 'root' });
    my $out = $r->{out} . $r->{err};
    return ($r->{rc} == 0, join("\n", grep { /critical|Location|Error/ } split /\n/, $out));
}

for my $core (['nagios4 -v', \&nagios_ok, \@n], ['icinga2 daemon -C', \&icinga2_ok, \@i]) {
    my ($label, $ok, $files) = @$core;
    for (my $b = 0; $b < $COUNT; $b += $BATCH) {
        my $e = $b + $BATCH - 1 < $COUNT - 1 ? $b + $BATCH - 1 : $COUNT - 1;
        my ($pass, $why) = $ok->(@$files[$b .. $e]);
        ok($pass, "$label: sites $b..$e") and next;
        for my $k ($b .. $e) {
            my ($p1, $w1) = $ok->($files->[$k]);
            diag "$label fails on site $k ($files->[$k]):\n$w1" unless $p1;
        }
        diag "batch: $why";
    }
}

# the validation can fail (a control: site 0 twice, every object defined twice)
ok(!(nagios_ok($n[0], $n[0]))[0], 'control: nagios4 -v refuses site 0 loaded twice');
ok(!(icinga2_ok($i[0], $i[0]))[0], 'control: icinga2 daemon -C refuses site 0 loaded twice');

# ---- our own grep: no '$', '`' or '"' in a value that can reach a macro
my @bad;
for my $f (@n) {
    my ($in, $ln) = (0, 0);
    for my $l (split /\n/, slurp($f)) {
        $ln++;
        if ($l =~ /^define \w+ \{$/) { $in = 1; next }
        if ($l eq '}') { $in = 0; next }
        next unless $in;
        my ($key, $value) = $l =~ /^    (\S+) +(.*)$/ or do { push @bad, "$f:$ln: not an attribute line"; next };
        push @bad, "$f:$ln: $key holds a metacharacter" if $value =~ /[\$`"]/;
    }
}
for my $f (@i) {
    my $ln = 0;
    for my $l (split /\n/, slurp($f)) {
        $ln++;
        next if $l =~ /^#/;
        # string literals: "..." with \\ the only escape the writer may need
        (my $rest = $l) =~ s{"((?:[^"\\]|\\.)*)"}{
            my $s = $1;
            push @bad, "$f:$ln: a metacharacter in \"$s\"" if $s =~ m{[\$`]|\\"};
            ''
        }ge;
        push @bad, "$f:$ln: a metacharacter or an unclosed string outside strings: $rest" if $rest =~ /[\$`"]/;
        push @bad, "$f:$ln: an address attribute" if $l =~ /^  address /;
    }
}
is(scalar(@bad), 0, 'no $ ` " in any Nagios attribute value or Icinga 2 string (and no Icinga 2 address)')
    or diag join("\n", @bad[0 .. ($#bad < 20 ? $#bad : 19)]);

# the grep can fail (a control: one hostile line added to a copy)
my $ctl = slurp($n[0]);
$ctl =~ s/^(    host_name +\S.*)$/$1\n    alias                   web"\$(id)"/m;
ok($ctl =~ /^    alias +web"\$\(id\)"$/m && $ctl =~ /[\$`"]/, 'control: the grep sees a hostile alias');

done_testing;
