package SiteTest::Icinga2Api;
#
# A private Icinga 2 with its REST API (ApiListener) on 127.0.0.1:<free port>, for the tests of
# src/icinga2api and what is built on it. Uses SiteTest::icinga2_start (its conf => snippet);
# nothing in SiteTest.pm changed.
#
#   my $ic = icinga2_api_start(conf => TEXT, name => NAME, ...);   # icinga2_start's options
#   $ic->{api}: url, port, ca (the CA file to trust), other_ca (a CA that did not sign it),
#               user/password/passfile ("root", permissions *),
#               limited_user/limited_passfile (only hosts, and their services, named web-*),
#               client_cert/client_key (CN "sitedump-client", an ApiUser by client_cn)
#   api_get($ic, PATH, %o) / api_post($ic, PATH, BODY, %o) -> (status, decoded body or undef, raw)
#       %o: user => U, password => P (default the root user)
#
# Certificates come from `icinga2 pki new-ca / new-cert / sign-csr` in a temp dir; the
# server's is for CN "localhost" (SAN DNS:localhost), so clients connect to
# https://localhost:PORT with host name verification on. HTTP is spoken with the curl command
# (IO::Socket::SSL is not installed; HTTP::Tiny could not do TLS).
# Core Perl only (plus curl(1), which the libcurl dependency brings).
#
use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use SiteTest qw(icinga2_start run_cmd wait_for spew);

use Exporter 'import';
our @EXPORT = qw(icinga2_api_start api_get api_post free_port);

our $PASSWORD         = 'api-secret-0027';
our $LIMITED_PASSWORD = 'limited-secret-0027';
our $CLIENT_CN        = 'sitedump-client';

# a TCP port nobody listens on right now (bound and released: a small race, fine for tests)
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1)
        or croak "free_port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub _pki_run {
    my ($dir, @args) = @_;
    my $r = run_cmd([ $SiteTest::ICINGA2, 'pki', @args,
                      "-DConfiguration.DataDir=$dir/lib", "-DConfiguration.LogDir=$dir/log",
                      "-DConfiguration.CacheDir=$dir/cache" ],
                    timeout => 120, env => { ICINGA2_USER => 'root', ICINGA2_GROUP => 'root' });
    croak "icinga2 pki @args: $r->{out}$r->{err}" if $r->{rc};
}

# a CA in $dir/lib/ca and certificates signed by it: ($dir, CN => basename, ...)
sub _pki {
    my ($dir, %certs) = @_;
    mkdir "$dir/$_" for qw(lib log cache);
    _pki_run($dir, 'new-ca');
    for my $cn (sort keys %certs) {
        my $b = "$dir/$certs{$cn}";
        _pki_run($dir, 'new-cert', '--cn', $cn, '--key', "$b.key", '--csr', "$b.csr");
        _pki_run($dir, 'sign-csr', '--csr', "$b.csr", '--cert', "$b.crt");
    }
    return "$dir/lib/ca/ca.crt";
}

sub _api_conf {
    my ($a) = @_;
    return <<"EOF";
// ---- REST API (SiteTest::Icinga2Api) ----
const NodeName = "localhost"
object Endpoint "localhost" { }
object Zone "master" { endpoints = [ "localhost" ] }
object ApiListener "api" {
  bind_host = "127.0.0.1"
  bind_port = $a->{port}
  cert_path = "$a->{server_cert}"
  key_path = "$a->{server_key}"
  ca_path = "$a->{ca}"
  accept_config = false
  accept_commands = false
}
object ApiUser "root" {
  password = "$PASSWORD"
  permissions = [ "*" ]
}
object ApiUser "limited" {
  password = "$LIMITED_PASSWORD"
  permissions = [
    { permission = "objects/query/Host", filter = {{ match("web-*", host.name) }} },
    { permission = "objects/query/Service", filter = {{ match("web-*", host.name) }} },
    { permission = "actions/process-check-result", filter = {{ match("web-*", host.name) }} },
    "status/query",
  ]
}
object ApiUser "client-cert" {
  client_cn = "$CLIENT_CN"
  permissions = [ "*" ]
}
EOF
}

# icinga2_api_start(%icinga2_start_options) -> the instance, with $ic->{api} (see the top)
sub icinga2_api_start {
    my (%o) = @_;
    my $pki = abs_path(tempdir('st-pki-XXXXXX', TMPDIR => 1, CLEANUP => 1));
    my $ca = _pki("$pki/a", localhost => 'server', $CLIENT_CN => 'client');
    my $other = _pki("$pki/b");
    my %a = (
        port => free_port(), ca => $ca, other_ca => $other,
        server_cert => "$pki/a/server.crt", server_key => "$pki/a/server.key",
        client_cert => "$pki/a/client.crt", client_key => "$pki/a/client.key",
        user => 'root', password => $PASSWORD, passfile => "$pki/root.pass",
        limited_user => 'limited', limited_password => $LIMITED_PASSWORD,
        limited_passfile => "$pki/limited.pass", pki => $pki,
    );
    $a{url} = "https://localhost:$a{port}";
    spew($a{passfile}, "$PASSWORD\n");
    spew($a{limited_passfile}, "$LIMITED_PASSWORD\n");
    my $ic = icinga2_start(%o, conf => _api_conf(\%a) . ($o{conf} // ''));
    $ic->{api} = \%a;
    # icinga2_start waits for Livestatus; the listener may come a moment later
    my $up = wait_for(sub { my ($st) = api_get($ic, '/v1/status/IcingaApplication'); $st && $st == 200 },
                      $o{timeout} // 30, 0.2);
    croak "icinga2 API not answering on $a{url}" unless $up;
    return $ic;
}

sub _curl {
    my ($ic, $method, $path, $body, %o) = @_;
    my $a = $ic->{api};
    my @argv = ('curl', '-sS', '--cacert', $a->{ca}, '-u', ($o{user} // $a->{user}) . ':' . ($o{password} // $a->{password}),
                '-H', 'Accept: application/json', '-w', '\n%{http_code}', '-X', $method);
    push @argv, '-H', 'Content-Type: application/json', '--data-binary', $body if defined $body;
    push @argv, '-H', 'X-HTTP-Method-Override: GET', '-X', 'POST' if defined $body && $method eq 'GET';
    my $r = run_cmd([ @argv, "$a->{url}$path" ], timeout => 60);
    return (undef, undef, $r->{err}) if $r->{rc};
    my ($raw, $status) = $r->{out} =~ /\A(.*)\n(\d+)\z/s or return (undef, undef, $r->{out});
    my $json = eval { JSON::PP->new->utf8->decode($raw) };
    return ($status, $json, $raw);
}

# api_get($ic, PATH, body => JSON, user =>, password =>) -> (status, decoded, raw)
sub api_get {
    my ($ic, $path, %o) = @_;
    return _curl($ic, 'GET', $path, delete $o{body}, %o);
}

# api_post($ic, PATH, BODY (text or a ref to encode), user =>, password =>) -> (status, decoded, raw)
sub api_post {
    my ($ic, $path, $body, %o) = @_;
    $body = JSON::PP->new->utf8->canonical->encode($body) if ref $body;
    return _curl($ic, 'POST', $path, $body, %o);
}

1;
