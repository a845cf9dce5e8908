#!/usr/bin/perl
# README.md's Debian quick starts (issue 20, Build 1) against the Debian 12 packages:
# - every absolute path in the ```sh blocks of the "Quick start" sections about Debian exists
#   after `apt-get install nagios4-core icinga2-bin` (scripts/install-deps), or is one that a
#   documented step makes: listed below, each with the step that must be in the README (or the
#   package file that makes it);
# - the nagios.cfg settings the Nagios checklist names are Debian's own values;
# - the owners and modes the checklists give as reasons (groups www-data and nagios) are the
#   packages';
# - the package file names are those debian/changelog builds; the README's first lines (the two
#   commands) are unchanged.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use SiteTest qw(:DEFAULT slurp);

my $ROOT = repo_root();
my $readme = slurp("$ROOT/README.md") // die "README.md: $!";
for my $p (qw(nagios4-core icinga2-bin)) {
    my $st = `dpkg-query -W -f='\${Status}' $p 2>/dev/null`;
    plan skip_all => "$p is not installed (scripts/install-deps)" unless $st =~ /install ok installed/;
}

like($readme, qr/\A# sitedump\n\nOn a fresh Debian 12 machine, as root, in this directory:\n\n```sh\nscripts\/demo +#[^\n]*\nmake check +#[^\n]*\n```\n/,
     "the README's first lines: the two commands");

# ---- the blocks -----------------------------------------------------------------------------
my ($qs) = $readme =~ /^## Quick start: a real remote and central\n(.*?)(?=^## )/ms;
ok($qs, 'the quick start section') or BAIL_OUT('no quick start');
my (%sections, @order);
for my $part (split /^(?=### )/m, $qs) {
    my ($title) = $part =~ /^### (.*)$/m or next;
    next unless $title =~ /Debian/;
    push @order, $title;
    $sections{$title} = join("\n", $part =~ /^```sh\n(.*?)^```$/msg);
}
ok(scalar(grep { /Nagios 4 central/ } @order) && scalar(grep { /Icinga 2 central/ } @order)
   && scalar(grep { /remote/ } @order), 'Debian sections: remote, Nagios 4 central, Icinga 2 central')
    or diag join(', ', @order);
my $all = join("\n", map { $sections{$_} } @order);

# Paths no package has: each is made by a step the README shows (a regex over the blocks), or
# by our own packages (a file of debian/ that must name it).
my %MADE = (
    '/etc/sitedump'                  => qr{install -d [^\n]*/etc/sitedump(?:\s|$)}m,
    '/etc/sitedump/ssh'              => qr{install -d [^\n]*/etc/sitedump/ssh\b},
    '/etc/sitedump/r1'               => qr{sitedump keygen -o /etc/sitedump/r1\b},
    '/etc/sitedump/r1.key'           => qr{sitedump keygen -o /etc/sitedump/r1\b},
    '/etc/sitedump/ssh/id_r1'        => qr{ssh-keygen [^\n]*-f /etc/sitedump/ssh/id_r1\b},
    '/etc/sitedump/ssh/known_hosts'  => qr{ssh-keyscan [^\n]*>/etc/sitedump/ssh/known_hosts},
    '/etc/sitedump/trust'            => qr{install -d [^\n]*/etc/sitedump/trust\b},
    '/etc/sitedump/trust/r1.pub'     => qr{install -m 0644 r1\.pub /etc/sitedump/trust/r1\.pub},
    '/etc/sitedump/siteload.conf'    => qr{cat >/etc/sitedump/siteload\.conf <<},
    '/etc/sudoers.d/sitedump'        => qr{apt-get install [^\n]*\bsudo\b.*>/etc/sudoers\.d/sitedump}s,
    '/etc/nagios4/conf.d/sitedump'   => qr{install -d [^\n]*/etc/nagios4/conf\.d/sitedump\b},
    '/etc/icinga2/conf.d/sitedump'   => qr{install -d [^\n]*/etc/icinga2/conf\.d/sitedump\b},
    '/var/lib/sitedump-ssh/.ssh'     => qr{install -d [^\n]*/var/lib/sitedump-ssh/\.ssh\b},
    '/var/lib/sitedump-ssh/.ssh/authorized_keys' => qr{>>/var/lib/sitedump-ssh/\.ssh/authorized_keys},
    # Icinga 2 makes them at start once the features are on (the paths: below)
    '/var/run/icinga2/cmd'            => qr{icinga2 feature enable livestatus[^\n]*systemctl restart icinga2},
    '/var/run/icinga2/cmd/livestatus' => qr{icinga2 feature enable livestatus command\nsystemctl restart icinga2},
    '/var/run/icinga2/cmd/icinga2.cmd' => qr{icinga2 feature enable livestatus command\nsystemctl restart icinga2},
    # Nagios makes them when it runs (they are nagios.cfg's values: below)
    '/var/lib/nagios4/rw/nagios.cmd'  => 'nagios.cfg',
    '/var/lib/nagios4/status.dat'     => 'nagios.cfg',
    '/var/lib/nagios4/objects.cache'  => 'nagios.cfg',
    # our packages
    '/var/lib/sitedump'               => 'debian/siteload.postinst',
    '/var/lib/sitedump-ssh'           => 'debian/siteload.postinst',
    '/usr/libexec/sitedump/sitedump-ssh-receive' => 'debian/siteload.install',
);
my %seen;
my @paths = grep { !$seen{$_}++ } map { s{[.,;:)"']+$}{}r } $all =~ m{(?:^|[\s='"(>:])(/[A-Za-z0-9._+/-]*[A-Za-z0-9_])}g;
cmp_ok(scalar @paths, '>', 20, scalar(@paths) . ' absolute paths in the Debian blocks');
for my $p (@paths) {
    if (-e $p) {
        pass("exists: $p");
    } elsif (my $how = $MADE{$p}) {
        if (ref $how) {
            like($all, $how, "made by a documented step: $p");
        } elsif ($how eq 'nagios.cfg') {
            my $cfg = slurp('/etc/nagios4/nagios.cfg') // '';
            like($cfg, qr{^\w+=\Q$p\E$}m, "made by Nagios, as /etc/nagios4/nagios.cfg names it: $p");
        } else {
            my $f = slurp("$ROOT/$how") // '';
            my $rel = $p =~ s{^/}{}r;
            like($f, qr{\Q$rel\E}, "made by our package ($how): $p");
        }
    } else {
        fail("$p: neither there after apt-get install nagios4-core icinga2-bin nor made by a listed step");
    }
}

# ---- the cores' Debian paths anywhere in the README and the man pages (the finding: a pasted
# --objects-cache /var/cache/nagios4/objects.cache, which Debian does not have)
for my $doc ('README.md', 'docs/siteload.1', 'docs/sitedump.1') {
    my $text = (slurp("$ROOT/$doc") // '') =~ s/\\-/-/gr;
    my %s;
    my @core = grep { !$s{$_}++ } map { s{[.,;:)"']+$}{}r }
        $text =~ m{(/(?:var/lib/nagios4|var/cache/nagios4|etc/nagios4|var/run/icinga2|run/icinga2|etc/icinga2)(?:/[A-Za-z0-9._+-]*[A-Za-z0-9_])*)}g;
    my @bad = grep { my $p = $_; !-e $p && !$MADE{$p} && !grep { index($p, "$_/") == 0 || $p eq $_ } grep { ref $MADE{$_} || $MADE{$_} eq 'nagios.cfg' } keys %MADE } @core;
    # /run/icinga2/... is /var/run/icinga2/...: made at Icinga's start like the paths above
    @bad = grep { !(m{^/run/icinga2/cmd(?:/livestatus|/icinga2\.cmd)?$}) } @bad;
    is(join(' ', @bad), '', "$doc: every Debian core path exists or is made by a step (" . scalar(@core) . ' paths)');
}

# ---- what the checklists say about the packages ---------------------------------------------
my ($nagios) = grep { /Nagios 4 central/ } split /^(?=### )/m, $qs;
my %claimed = $nagios =~ /`(\w+)=([^`]+)`/g;
cmp_ok(scalar keys %claimed, '>=', 6, 'the Nagios checklist names nagios.cfg settings');
my $cfg = slurp('/etc/nagios4/nagios.cfg') // '';
for my $k (sort keys %claimed) {
    like($cfg, qr{^\Q$k\E=\Q$claimed{$k}\E$}m, "Debian's nagios.cfg: $k=$claimed{$k}");
}

sub owner_mode {
    my ($p) = @_;
    my @st = stat($p) or return "$p: missing";
    return sprintf('%s:%s %o', scalar getpwuid($st[4]), scalar getgrgid($st[5]), $st[2] & 07777);
}
is(owner_mode('/var/lib/nagios4'), 'nagios:www-data 750', '/var/lib/nagios4 nagios:www-data 0750');
is(owner_mode('/var/lib/nagios4/rw'), 'nagios:www-data 2710', '/var/lib/nagios4/rw nagios:www-data 2710');
is(owner_mode('/var/lib/nagios4/spool'), 'nagios:nagios 750', '/var/lib/nagios4/spool nagios:nagios 0750');
is(owner_mode('/etc/icinga2/conf.d'), 'nagios:nagios 750', '/etc/icinga2/conf.d nagios:nagios 0750');
my $prep = slurp('/usr/lib/icinga2/prepare-dirs') // '';
like($prep, qr/ICINGA2_COMMAND_GROUP:="www-data"/, "Icinga 2's run dir group is www-data (prepare-dirs)");
like($prep, qr/mkdir -m 2750 "\$ICINGA2_INIT_RUN_DIR"\/cmd/, '... its cmd dir 2750');
like(slurp('/etc/icinga2/icinga2.conf') // '', qr/^include_recursive "conf\.d"$/m, 'icinga2.conf includes conf.d recursively');
for my $f (qw(livestatus command)) {
    ok(-f "/etc/icinga2/features-available/$f.conf", "the Icinga 2 feature $f exists");
}
my $bin = `strings /usr/lib/x86_64-linux-gnu/icinga2/sbin/icinga2 2>/dev/null` // '';
SKIP: {
    skip 'no strings(1) or no icinga2 binary there', 1 unless $bin;
    ok($bin =~ m{^/run/icinga2$}m && $bin =~ m{^/cmd/livestatus$}m && $bin =~ m{^/cmd/icinga2\.cmd$}m,
       'the icinga2 binary\'s defaults: /run/icinga2 + /cmd/livestatus, /cmd/icinga2.cmd');
}
ok(-l '/var/run' && readlink('/var/run') =~ m{^(?:/run|\.\./run)$}, '/var/run is /run');

# ---- the package names ----------------------------------------------------------------------
my ($ver) = (slurp("$ROOT/debian/changelog") // '') =~ /^sitedump \(([^)]+)\)/;
my @debs = $all =~ /\.\/(site(?:dump|load)_[^ \n]+\.deb)/g;
ok(@debs, 'the quick start names the packages');
is($_, ($_ =~ /^(\w+)_/)[0] . "_${ver}_amd64.deb", "$_: the version debian/changelog builds") for @debs;

done_testing();
