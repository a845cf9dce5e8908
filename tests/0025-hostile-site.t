#!/usr/bin/perl
# A hostile remote site that holds its own valid signing key (the critical issue): acceptance
# test, end to end, against real centrals. Each finding gets a central of its own, so that one
# hole cannot hide another:
#   1. commands run as the core's user: host address/alias with "$(id >MARKER)" and `id >MARKER`,
#      the remote's contact nagiosadmin, a DOWN host and a CRITICAL service, imported into a
#      Nagios 4 central with Debian's notify-host-by-email / notify-service-by-email (the
#      command lines of /etc/nagios4/objects/commands.cfg, mail(1) replaced by a stub that
#      only logs) and notifications on; siteload without --contacts, and once more with
#      --contacts nagiosadmin: no marker file, and with contacts the notifications did go out;
#      the same hosts on an Icinga 2 central with the stock conf.d;
#   2. one site stops every site's imports on a status.dat central: a custom variable A-B, a
#      downtime ending at 8e15: a second clean site r2 still imports (exit 0);
#   3. parents: [itself] (Nagios, reload by HUP), a group the central lacks (Icinga 2), the
#      custom variable "notification" against the stock notifications.conf, a remote host in the
#      central's own linux-servers (both cores), the stock ping4/ssh apply rules: the core stays
#      up and its config validates, the central's groups keep their members, no active check of
#      an address the remote chose;
#   4. a fixed downtime ending after 2038, five imports: one downtime, no negative end time;
#   5. a 64 MiB comment: refused or cut, siteload finishes (time measured, 120 s hang guard);
#   6. a group name with a line break: it injects no line into SITE.groups, and the site whose
#      group it named still defines it.
# The expected behaviour is the fixed one (shadow mode): siteload --contacts, --contact-groups and
# --check-command are used when this siteload has them (probed; each probe is a test of its own).
# Bundles are made by sitedump --snapshot from crafted documents, as in 0014. The Icinga 2
# centrals with "stock conf.d" load private copies of /etc/icinga2/conf.d (SiteTest stock => 1).
# T0025_ONLY=ngA,icE runs only the centrals named (tags below).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use SiteTest qw(:DEFAULT slurp spew);

binmode($_, ':encoding(UTF-8)') for Test::More->builder->output, Test::More->builder->failure_output,
    Test::More->builder->todo_output;
guard(900);     # hang guard only (scaled for a sanitized build and load)
umask 022;
delete $ENV{OMD_SITE};
delete $ENV{OMD_ROOT};

my $T_START  = time;
my $ROOT     = repo_root();
my $SITEDUMP = sitedump_bin();
my $SITELOAD = "$ROOT/siteload";
my $d = abs_path(tempdir('sd-hostile25-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{SITETEST_KEEP}));
make_path("$d/trust", "$d/b", "$d/bin");
# run: SiteTest::run (timeout 180 s)
# T0025_ONLY=ngA,icE runs only those centrals (for debugging a fix)
sub phase { my ($tag) = @_; !$ENV{T0025_ONLY} || grep { $_ eq $tag } split /,/, $ENV{T0025_ONLY} }
sub rc_str { my ($r) = @_; $r->{timed_out} ? "timed out (rc $r->{rc})" : "rc $r->{rc}" }

for my $site (qw(evil r2)) {
    my $r = run([$SITEDUMP, 'keygen', '-o', "$d/$site"]);
    is($r->{rc}, 0, "keygen $site") or diag $r->{err};
    system('cp', "$d/$site.pub", "$d/trust/") == 0 or die;
}

# ---- the fixed siteload's options (probed: today's siteload does not know them) -------------
sub has_option {
    my (@o) = @_;
    my $r = run([$SITELOAD, @o, '--trust', "$d/trust", '--state-dir', "$d/probe", "$d/no-such.bundle"], timeout => 30);
    return $r->{err} !~ /unrecognized option|unknown option|invalid option/i;
}
my %HAS = (check => has_option('--check-command', 'true'), contacts => has_option('--contacts', 'nagiosadmin'),
           contact_groups => has_option('--contact-groups', 'admins'));
ok($HAS{check}, 'siteload accepts --check-command CMD');
ok($HAS{contacts}, 'siteload accepts --contacts LIST');
ok($HAS{contact_groups}, 'siteload accepts --contact-groups LIST');
diag("today's siteload: running without --check-command/--contacts where they are missing")
    if grep { !$_ } values %HAS;

# ---- crafted snapshots -------------------------------------------------------------------
my $now = int(time);
sub obj { snapshot_object(now => $now, check_command => 'check-host-alive', last_check => $now - 60, @_) }
sub down { (state => 1, last_hard_state => 1, plugin_output => 'CRITICAL - host unreachable') }
sub crit { (state => 2, last_hard_state => 2, plugin_output => 'CRITICAL - no answer', max_check_attempts => 1) }
# a streaming reader needs format and version before the records: keys in writer order
sub snapshot {
    my ($file, $site, %s) = @_;
    return spew("$d/$file.json", snapshot_json(format => 'sitedump-snapshot', version => 1, site => $site,
        source => 'crafted', created => $now, parts => ['state', 'config'], hostgroups => $s{hostgroups} // [],
        servicegroups => [], hosts => $s{hosts} // [], services => $s{services} // [],
        comments => $s{comments} // [], downtimes => $s{downtimes} // []));
}
my $NB = 0;
# bundle(SITE, SNAPSHOT_FILE): a signed bundle, sequence increasing per site
sub bundle {
    my ($site, $json) = @_;
    my $out = sprintf("%s/b/%02d-%s.bundle", $d, ++$NB, $site);
    my $r = run([$SITEDUMP, '--snapshot', $json, '--all', '-k', "$d/$site.key", '--site', $site,
                 '--state-dir', "$d/sdstate-$site", '-o', $out], timeout => 300);
    ok(($r->{rc} == 0 || $r->{rc} == 1) && -s $out, "sitedump --snapshot: bundle $NB of $site made")
        or diag rc_str($r) . ": $r->{err}";
    return $out;
}

# the clean second site r2: one host in its own group r2grp, one service, all OK
my $R2_JSON = snapshot('r2', 'r2',
    hostgroups => [ { name => 'r2grp', alias => 'r2 group' } ],
    hosts => [ obj(name => 'r2-h1', address => '192.0.2.201', alias => 'r2 host', groups => ['r2grp']) ],
    services => [ obj(host_name => 'r2-h1', description => 'ping', plugin_output => 'PING OK') ]);
# its next config: one host more, so the next import needs a reload that must work
my $R2_NEXT = snapshot('r2-next', 'r2',
    hostgroups => [ { name => 'r2grp', alias => 'r2 group' } ],
    hosts => [ obj(name => 'r2-h1', address => '192.0.2.201', alias => 'r2 host', groups => ['r2grp']),
               obj(name => 'r2-h2', address => '192.0.2.202', alias => 'r2 host 2', groups => ['r2grp']) ],
    services => [ obj(host_name => 'r2-h1', description => 'ping', plugin_output => 'PING OK') ]);

# finding 1: address/alias with command substitutions, a DOWN host (host notification: address)
# and an UP host with a CRITICAL service (service notification: alias and address), for "$(...)"
# and for backticks; and finding 3's joiner: the central's linux-servers, vars.os Linux, an address
sub inject_snapshot {
    my ($tag, $m) = @_;
    make_path($m);
    my %v = (dollar => [ map { qq{"\$(id >$m/$_)"} } qw(a b c d) ],
             tick   => [ map { "`id >$m/$_`" } qw(e f g h) ]);
    my (@h, @s);
    for my $k (qw(dollar tick)) {
        my ($a1, $l1, $a2, $l2) = @{ $v{$k} };
        push @h, obj(name => "web-$k-down", address => "10.0.0.1$a1", alias => "web$l1", contacts => ['nagiosadmin'], down());
        push @h, obj(name => "web-$k-up", address => "10.0.0.2$a2", alias => "web$l2", contacts => ['nagiosadmin']);
        push @s, obj(host_name => "web-$k-down", description => 'http', contacts => ['nagiosadmin'], crit());
        push @s, obj(host_name => "web-$k-up", description => 'http', contacts => ['nagiosadmin'], crit());
    }
    push @h, obj(name => 'joiner', address => '192.0.2.50', alias => 'joins linux-servers', groups => ['linux-servers'],
                 custom_variables => { os => 'Linux' });
    return snapshot("inject-$tag", 'evil', hosts => \@h, services => \@s);
}
my @INJECT_HOSTS = map { ("web-$_-down", "web-$_-up") } qw(dollar tick);
sub markers { my ($m) = @_; [ sort map { s{.*/}{}r } glob("$m/*") ] }
sub marker_list { my ($m) = @_; join ' ', @{ markers($m) } }

# ---- Nagios centrals ------------------------------------------------------------------------
# Debian's notification commands, mail(1) replaced by a stub that logs its arguments
spew("$d/bin/mail", "#!/bin/sh\nprintf 'mail %s\\n' \"\$*\" >>'$d/mail.log'\ncat >/dev/null\nexit 0\n");
chmod 0755, "$d/bin/mail";
my $stock_cmds = slurp('/etc/nagios4/objects/commands.cfg') // BAIL_OUT('/etc/nagios4/objects/commands.cfg missing');
my %NOTIFY;
while ($stock_cmds =~ /define\s+command\s*\{(.*?)\}/sg) {
    my $b = $1;
    my ($n) = $b =~ /^\s*command_name\s+(\S+)/m or next;
    my ($l) = $b =~ /^\s*command_line\s+(.*?)\s*$/m or next;
    $NOTIFY{$n} = $l =~ s{/usr/bin/mail\b}{$d/bin/mail}gr;
}
ok($NOTIFY{'notify-host-by-email'} && $NOTIFY{'notify-service-by-email'}, "Debian's notify-*-by-email command lines found")
    or BAIL_OUT('no stock notification commands');
my $NG_BASE = join '',
    (map { "define command {\n\tcommand_name\t$_\n\tcommand_line\t$NOTIFY{$_}\n}\n" } qw(notify-host-by-email notify-service-by-email)),
    "define contact {\n\tcontact_name\tnagiosadmin\n\talias\tNagios Admin\n\temail\troot\@localhost\n",
    "\thost_notification_period\tsitetest-24x7\n\tservice_notification_period\tsitetest-24x7\n",
    "\thost_notification_options\td,u,r\n\tservice_notification_options\tw,u,c,r\n",
    "\thost_notification_commands\tnotify-host-by-email\n\tservice_notification_commands\tnotify-service-by-email\n}\n",
    "define hostgroup {\n\thostgroup_name\tlinux-servers\n\talias\tLinux Servers\n\tmembers\tcentral-own\n}\n",
    "define host {\n\tuse\tsitetest-host\n\thost_name\tcentral-own\n}\n",
    "define service {\n\tuse\tsitetest-service\n\thost_name\tcentral-own\n\tservice_description\town-svc\n}\n";

sub nagios_central {
    my ($tag) = @_;
    make_path("$d/cfg-$tag", "$d/st-$tag");
    return nagios_start(name => "ng-$tag", objects => [$NG_BASE],
                        extra_cfg => { cfg_dir => "$d/cfg-$tag", enable_notifications => 1 });
}
# siteload into a Nagios central read through status.dat, everything through the FIFO
sub load_ng {
    my ($ng, $tag, $bundle, %o) = @_;
    my @a = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-$tag", '--config-dir', "$d/cfg-$tag",
             '--reload-command', "kill -HUP $ng->{pid}", '--reload-wait', 15,
             '--status-file', $ng->{status_file}, '--objects-cache', $ng->{objects_cache},
             '--command-file', $ng->{command_file});
    push @a, '--check-command', $ng->validate_command if $HAS{check};
    push @a, '--contacts', $o{contacts} if $o{contacts} && $HAS{contacts};
    my $r = run([@a, $bundle]);
    diag "siteload ($tag): " . rc_str($r) . "\n$r->{err}" if $ENV{SITETEST_DEBUG};
    return $r;
}
sub ng_alive { my ($ng) = @_; kill(0, $ng->{pid}) && (slurp($ng->{lock_file}) // '') =~ /^\s*$ng->{pid}\b/ ? 1 : 0 }
# the core is up and loads its config as it is now
sub ng_healthy {
    my ($ng, $what) = @_;
    sleep 2;        # a HUP reload that kills Nagios takes a moment
    ok(ng_alive($ng), "$what: Nagios is still running");
    my ($rc, $out) = $ng->validate;
    is($rc, 0, "$what: the central's config passes nagios4 -v")
        or diag join("\n", grep { /Error|Warning/ } split /\n/, $out);
}
# r2's next import after the hostile one, with a config change (a new host r2-h2)
sub r2_next_ng {
    my ($ng, $tag, $what) = @_;
    my $r = load_ng($ng, $tag, bundle('r2', $R2_NEXT));
    is($r->{rc}, 0, "$what: the clean site r2's next import exits 0") or diag rc_str($r) . ": $r->{err}";
    ok(wait_for(sub { ng_alive($ng) && $ng->objects->{host}{'r2-h2'} }, 5),
       "$what: r2's new host is on the central (r2's config change was loaded)");
    return $r;
}
sub in_log { my ($ng, $re) = @_; my @l = grep { /$re/ } split /\n/, ($ng->log_text // ''); scalar @l }

# -- finding 1 (no --contacts) and the central's hostgroup: the main Nagios scenario
if (phase('ngA')) {
    my $W = 'Nagios, hostile address/alias, no --contacts';
    my $M = "$d/m-ngA";
    my $ng = nagios_central('ngA');
    my $r = load_ng($ng, 'ngA', bundle('r2', $R2_JSON));
    is($r->{rc}, 0, "$W: r2's first import exits 0 (the harness works)") or diag $r->{err};
    $r = load_ng($ng, 'ngA', bundle('evil', inject_snapshot('ngA', $M)));
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    my $st = $ng->wait_status(sub { ($_[0]{hosts}{'web-dollar-down'}{current_state} // 0) == 1 }, 20);
    ok($st, "$W: the hostile DOWN host arrived on the central (the state was sent)");
    # notifications go out at once on the hard state change; give the workers time
    wait_for(sub { @{ markers($M) } >= 6 }, 15);
    is(marker_list($M), '', "$W: no command of the site ran (no marker file)");
    my @n = map { in_log($ng, $_) } qr/HOST NOTIFICATION:/, qr/SERVICE NOTIFICATION:/;
    is("@n", '0 0', "$W: no notification for the site's objects (HOST, SERVICE NOTIFICATION lines: @n)");
    ng_healthy($ng, $W);
    my $oc = $ng->objects;
    is($oc->{hostgroup}{'linux-servers'}{members} // '', 'central-own',
       "$W: the central's linux-servers keeps exactly its own members");
    r2_next_ng($ng, 'ngA', $W);
    $ng->stop;
}

# -- finding 1 with --contacts nagiosadmin: notifications on, still no command of the site
if (phase('ngB')) {
    my $W = 'Nagios, hostile address/alias, --contacts nagiosadmin';
    my $M = "$d/m-ngB";
    unlink "$d/mail.log";
    my $ng = nagios_central('ngB');
    my $r = load_ng($ng, 'ngB', bundle('evil', inject_snapshot('ngB', $M)), contacts => 'nagiosadmin');
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    my $hn = wait_for(sub { in_log($ng, qr/HOST NOTIFICATION: nagiosadmin;[^;]*web-(dollar|tick)-down;/) >= 2 }, 30);
    wait_for(sub { in_log($ng, qr/SERVICE NOTIFICATION: nagiosadmin;/) >= 2 }, 10);
    ok($hn, "$W: HOST NOTIFICATION lines for the DOWN hosts in nagios.log (notification attempted)")
        or diag $ng->log_tail(20);
    wait_for(sub { @{ markers($M) } >= 6 }, 5);
    sleep 2;    # the notification commands run in Nagios's workers
    my $mails = () = (slurp("$d/mail.log") // '') =~ /^mail /mg;
    ok($mails >= 2, "$W: the notification commands ran ($mails mails to the stub)");
    is(marker_list($M), '', "$W: no command of the site ran (no marker file)");
    diag sprintf("$W: %d HOST NOTIFICATION, %d SERVICE NOTIFICATION lines", in_log($ng, qr/HOST NOTIFICATION:/),
                 in_log($ng, qr/SERVICE NOTIFICATION:/));
    ng_healthy($ng, $W);
    $ng->stop;
}

# -- finding 2a/2b: status.dat the central writes must not stop any site's imports
for my $case (
    [ 'ngC1', "Nagios (status.dat), custom variable 'A-B'",
      hosts => [ obj(name => 'ab-host', address => '192.0.2.60', custom_variables => { 'A-B' => 'x' }) ] ],
    [ 'ngC2', 'Nagios (status.dat), downtime ending at 8e15',
      hosts => [ obj(name => 'dt8-host', address => '192.0.2.61') ],
      downtimes => [ { id => 7, host_name => 'dt8-host', service_description => undef, start_time => $now - 60,
                       end_time => 8_000_000_000_000_000, fixed => JSON::PP::true, duration => 0, triggered_by => 0,
                       author => 'eve', comment => 'forever', entry_time => $now - 60 } ] ],
) {
    my ($tag, $W, %s) = @$case;
    next unless phase($tag);
    my $ng = nagios_central($tag);
    my $r = load_ng($ng, $tag, bundle('r2', $R2_JSON));
    is($r->{rc}, 0, "$W: r2's first import exits 0") or diag $r->{err};
    $r = load_ng($ng, $tag, bundle('evil', snapshot($tag, 'evil', %s)));
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    sleep 2;    # status.dat is rewritten every second
    r2_next_ng($ng, $tag, $W);
    $r = load_ng($ng, $tag, bundle('evil', snapshot($tag, 'evil', %s)));
    isnt($r->{rc}, 2, "$W: the hostile site's own next import does not fail reading the central")
        or diag $r->{err};
    ng_healthy($ng, $W);
    $ng->stop;
}

# -- finding 3: parents: [itself], reload by HUP
if (phase('ngD')) {
    my $W = 'Nagios, parents: [itself]';
    my $ng = nagios_central('ngD');
    my $r = load_ng($ng, 'ngD', bundle('r2', $R2_JSON));
    is($r->{rc}, 0, "$W: r2's first import exits 0") or diag $r->{err};
    $r = load_ng($ng, 'ngD', bundle('evil', snapshot('ngD', 'evil',
        hosts => [ obj(name => 'loop', address => '192.0.2.70', parents => ['loop']) ])));
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    ng_healthy($ng, $W);
    r2_next_ng($ng, 'ngD', $W);
    $ng->stop;
}

# -- finding 6: a group name with a line break, then a site whose group it names
if (phase('ngE')) {
    my $W = 'Nagios, group name with a line break';
    my $ng = nagios_central('ngE');
    my $g = "evilgrp\nH r2grp";
    my $r = load_ng($ng, 'ngE', bundle('evil', snapshot('ngE', 'evil',
        hostgroups => [ { name => $g, alias => 'x' }, { name => 'evilgrp', alias => 'evil group' } ],
        hosts => [ obj(name => 'eg-host', address => '192.0.2.80', groups => [$g, 'evilgrp']) ])));
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    my @inj = grep { /^[HS] r2grp$/ } split /\n/, (slurp("$d/st-ngE/evil.groups") // '');
    is_deeply(\@inj, [], "$W: no line injected into SITE.groups");
    $r = load_ng($ng, 'ngE', bundle('r2', $R2_JSON));
    is($r->{rc}, 0, "$W: the clean site r2's import afterwards exits 0") or diag rc_str($r) . ": $r->{err}";
    my $defined = 0;
    for my $f (glob("$d/cfg-ngE/*")) {
        $defined++ if (slurp($f) // '') =~ /^\s*hostgroup_name\s+\S*r2grp\s*$/m && $f =~ /r2/;
    }
    ok($defined, "$W: r2 still defines its group r2grp");
    ng_healthy($ng, $W);
    $ng->stop;
}

# ---- Icinga 2 centrals -----------------------------------------------------------------------
sub icinga_central {
    my ($tag, %o) = @_;
    make_path("$d/cfg-$tag", "$d/st-$tag");
    return icinga2_start(name => "ic-$tag", conf => qq{include_recursive "$d/cfg-$tag"\n},
                         ($o{stock} ? (stock => 1, stock_mail => "$d/bin/mail") : ()));
}
sub load_ic {
    my ($ic, $tag, $bundle, %o) = @_;
    my @a = ($SITELOAD, '--trust', "$d/trust", '--state-dir', "$d/st-$tag", '--config-dir', "$d/cfg-$tag",
             '--config-format', 'icinga2', '--reload-command', "kill -HUP $ic->{pid}", '--reload-wait', 15,
             '--livestatus', 'unix:' . $ic->livestatus);
    push @a, '--check-command', $ic->validate_command if $HAS{check};
    my $t0 = time;
    my $r = run([@a, $bundle], timeout => $o{timeout} // 180);
    $r->{secs} = time - $t0;
    diag "siteload ($tag): " . rc_str($r) . "\n$r->{err}" if $ENV{SITETEST_DEBUG};
    return $r;
}
sub ic_answers { my ($ic) = @_; my $x = eval { $ic->query("GET status\nColumns: program_start", timeout => 10) }; $x && @$x ? 1 : 0 }
sub ic_healthy {
    my ($ic, $what) = @_;
    ok(kill(0, $ic->{pid}) && ic_answers($ic), "$what: Icinga 2 is running and answers Livestatus");
    my ($rc, $out) = $ic->validate;
    is($rc, 0, "$what: the central's config passes icinga2 daemon -C (the core would start)")
        or diag join("\n", grep { /critical|Error/ } split /\n/, $out);
}
sub r2_next_ic {
    my ($ic, $tag, $what) = @_;
    my $r = load_ic($ic, $tag, bundle('r2', $R2_NEXT));
    is($r->{rc}, 0, "$what: the clean site r2's next import exits 0") or diag rc_str($r) . ": $r->{err}";
    my $h = eval { $ic->query("GET hosts\nColumns: name\nFilter: name = r2-h2", timeout => 10) } // [];
    is(scalar @$h, 1, "$what: r2's new host is on the central (r2's config change was loaded)");
}
sub hg_members {
    my ($ic, $g) = @_;
    my $x = eval { $ic->query("GET hostgroups\nColumns: members\nFilter: name = $g", timeout => 10) } or return undef;
    return @$x ? join(',', sort @{ $x->[0][0] }) : undef;
}

# -- the main Icinga scenario: stock conf.d (apply rules, groups, notifications)
if (phase('icA')) {
    my $W = 'Icinga 2 (stock conf.d), hostile address/alias/groups/vars';
    my $M = "$d/m-icA";
    my $ic = icinga_central('icA', stock => 1);
    my $svc0 = $ic->query("GET services\nColumns: description");
    ok(scalar(grep { $_->[0] eq 'ping4' } @$svc0), "$W: the stock conf.d is loaded (ping4 on the central's own host)");
    my $lin0 = hg_members($ic, 'linux-servers');
    ok(defined $lin0, "$W: the central has its own linux-servers (" . ($lin0 // 'none') . ')');
    my $r = load_ic($ic, 'icA', bundle('r2', $R2_JSON));
    is($r->{rc}, 0, "$W: r2's first import exits 0 (the harness works)") or diag $r->{err};
    $r = load_ic($ic, 'icA', bundle('evil', inject_snapshot('icA', $M)));
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    my $h = eval { $ic->query("GET hosts\nColumns: name state\nFilter: name = web-dollar-down\nFilter: name = joiner\nOr: 2") } // [];
    is(scalar @$h, 2, "$W: the hostile hosts exist on the central (the config was loaded)");
    wait_for(sub { @{ markers($M) } }, 10);
    is(marker_list($M), '', "$W: no command of the site ran (no marker file)");
    is(hg_members($ic, 'linux-servers'), $lin0, "$W: the central's linux-servers keeps exactly its own members");
    my %shadow = map { ($_ => 1) } @INJECT_HOSTS, 'joiner', 'r2-h1';
    my $svc = eval { $ic->query_hash("GET services\nColumns: host_name description active_checks_enabled host_address check_command") } // [];
    my @active = map { "$_->{host_name}/$_->{description} ($_->{check_command} on '$_->{host_address}')" }
        grep { $shadow{ $_->{host_name} } && $_->{description} =~ /^(ping4|ssh)$/ && $_->{active_checks_enabled} } @$svc;
    is(join('; ', @active), '', "$W: no stock ping4/ssh service actively checks an address the remote chose");
    ic_healthy($ic, $W);
    r2_next_ic($ic, 'icA', $W);
    $ic->stop;
}

# -- finding 3: the custom variable "notification" against the stock notifications.conf, and a
#    group the central does not have
for my $case (
    [ 'icB', "Icinga 2 (stock conf.d), custom variable 'notification'",
      hosts => [ obj(name => 'nv-host', address => '192.0.2.90', custom_variables => { notification => 'x' }) ] ],
    [ 'icC', 'Icinga 2 (stock conf.d), a group the central does not have',
      hosts => [ obj(name => 'ng-host', address => '192.0.2.91', groups => ['no-such-group']) ] ],
) {
    my ($tag, $W, %s) = @$case;
    next unless phase($tag);
    my $ic = icinga_central($tag, stock => 1);
    my $r = load_ic($ic, $tag, bundle('r2', $R2_JSON));
    is($r->{rc}, 0, "$W: r2's first import exits 0") or diag $r->{err};
    $r = load_ic($ic, $tag, bundle('evil', snapshot($tag, 'evil', %s)));
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the hostile import finishes (exit 0 or 1)") or diag rc_str($r) . ": $r->{err}";
    ic_healthy($ic, $W);
    r2_next_ic($ic, $tag, $W);
    $ic->stop;
}

# -- finding 4: a fixed downtime ending after 2038, imported five times
if (phase('icD')) {
    my $W = 'Icinga 2, downtime ending after 2038, five imports';
    my $ic = icinga_central('icD');
    my $json = snapshot('icD', 'evil',
        hosts => [ obj(name => 'dt-host', address => '192.0.2.100') ],
        downtimes => [ { id => 9, host_name => 'dt-host', service_description => undef, start_time => $now - 60,
                         end_time => 2_200_000_000, fixed => JSON::PP::true, duration => 0, triggered_by => 0,
                         author => 'eve', comment => 'until 2039', entry_time => $now - 60 } ]);
    my @rc;
    for my $i (1 .. 5) {
        my $r = load_ic($ic, 'icD', bundle('evil', $json));
        push @rc, $r->{rc};
        diag "$W: import $i: $r->{err}" if $r->{err} =~ /not newer/;
    }
    ok(!(grep { $_ > 1 } @rc), "$W: every import finishes (exit codes @rc)");
    my $dt = eval { $ic->query_hash("GET downtimes\nColumns: id host_name end_time") } // [];
    my @mine = grep { $_->{host_name} eq 'dt-host' } @$dt;
    ok(@mine <= 1, "$W: at most one downtime on the host, not one per import (" . scalar(@mine) . ')');
    is_deeply([ map { $_->{end_time} } grep { $_->{end_time} < 0 } @mine ], [], "$W: no downtime with a negative end time");
    ic_healthy($ic, $W);
    $ic->stop;
}

# CPU seconds used by a daemon's processes so far
sub cpu_secs {
    my ($inst) = @_;
    my $t = 0;
    for my $pid ($inst->processes) {
        my $l = slurp("/proc/$pid/stat") // next;
        $l =~ s/^.*\)\s+//s;
        my @f = split / /, $l;
        $t += ($f[11] + $f[12]) / 100;      # utime, stime (fields 14, 15) in clock ticks
    }
    return $t;
}

# -- finding 5: a 64 MiB comment (last: today it pins Icinga's CPU until the daemon is stopped)
if (phase('icE')) {
    my $W = 'Icinga 2, a 64 MiB comment';
    my $big = '0123456789abcdef' x (4 * 1024 * 1024);     # 64 MiB
    my $json = snapshot('icE', 'evil',
        hosts => [ obj(name => 'big-host', address => '192.0.2.110') ],
        comments => [ { id => 1, host_name => 'big-host', service_description => undef, entry_type => 1, author => 'eve',
                        comment => $big, persistent => JSON::PP::true, entry_time => $now - 30 } ]);
    undef $big;
    my $bf = bundle('evil', $json);
    my $ic = icinga_central('icE');
    ok(ic_answers($ic), "$W: Icinga 2 answers before the import (the harness works)")
        or diag "console:\n" . SiteTest::_tail($ic->{console}, 20) . "\nlog:\n" . $ic->log_tail(20);
    my $cpu0 = cpu_secs($ic);
    my $r = load_ic($ic, 'icE', $bf, timeout => 120);
    diag sprintf("$W: siteload took %.1f s (%s); Icinga 2 used %.1f s of CPU meanwhile",
                 $r->{secs}, rc_str($r), cpu_secs($ic) - $cpu0);
    ok(!$r->{timed_out}, "$W: siteload finishes within the 120 s hang guard");
    ok($r->{rc} == 0 || $r->{rc} == 1, "$W: the import exits 0 or 1") or diag rc_str($r) . ": " . substr($r->{err}, 0, 2000);
    ok(ic_answers($ic), "$W: Icinga 2 still answers Livestatus");
    my $cm = eval { $ic->query("GET comments\nColumns: host_name comment", timeout => 10) };
    my ($max) = sort { $b <=> $a } map { length $_->[1] } @{ $cm // [] };
    ok(!$r->{timed_out} && $cm && ($max // 0) < 64 * 1024 * 1024, "$W: the comment is refused or cut (siteload done, "
       . 'longest comment on the central: ' . ($cm ? $max // 0 : 'no answer') . ' characters)');
    $ic->stop;
}

diag sprintf('total %.0f s', time - $T_START);
done_testing;
