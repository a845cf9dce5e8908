package SiteTest::Tar;
#
# A ustar writer and reader for hostile-bundle tests, independent of GNU tar and libarchive.
# The header is exactly the one sitedump's writer makes (the reader pins every byte but name,
# size, mtime and checksum); the options craft the others (type, linkname, mode, devices).
# Core Perl only.
#
use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(tar_header tar_member tar_end tar_checksum tar_list tar_edit pax_record);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# mtime of headers without one (a test sets it to its bundle's "created"; local works)
our $MTIME = 0;

# tar_header(name => N, size => 0, mtime => $MTIME, mode => 0644, type => '0', linkname => '',
#            major => 0, minor => 0): one 512-byte header, checksum set
sub tar_header {
    my (%o) = @_;
    my $h = pack('a100 a8 a8 a8 a12 a12 a8 a1 a100 a6 a2 a32 a32 a8 a8 a155 a12',
        $o{name}, sprintf("%06o \0", $o{mode} // 0644), "000000 \0", "000000 \0",
        sprintf('%011o ', $o{size} // 0), sprintf('%011o ', $o{mtime} // $MTIME), ' ' x 8,
        $o{type} // '0', $o{linkname} // '', "ustar\0", '00', '', '',
        sprintf("%06o \0", $o{major} // 0), sprintf("%06o \0", $o{minor} // 0), '', '');
    return tar_checksum($h);
}

# tar_checksum(HEADER): the header with its checksum field recomputed (after an edit)
sub tar_checksum {
    my ($h) = @_;
    substr($h, 148, 8) = ' ' x 8;
    my $sum = unpack('%32C*', $h);
    substr($h, 148, 8) = sprintf('%06o', $sum) . "\0 ";
    return $h;
}

# tar_member(NAME, DATA, OPTIONS of tar_header): header, data, padding to 512
sub tar_member {
    my ($name, $data, %o) = @_;
    $data //= '';
    my $pad = (512 - length($data) % 512) % 512;
    return tar_header(name => $name, size => length $data, %o) . $data . ("\0" x $pad);
}

# the end of an archive: two zero blocks
sub tar_end { "\0" x 1024 }

# a pax extended header record "LEN key=value\n"
sub pax_record {
    my ($k, $v) = @_;
    my $body = " $k=$v\n";
    my $len = length($body) + 1;
    $len++ while length($len . $body) != $len;
    return $len . $body;
}

# the members of an uncompressed tar: [name, type, size, header offset, data]
sub tar_list {
    my ($t) = @_;
    my @m;
    my $off = 0;
    while ($off + 512 <= length $t) {
        my $h = substr($t, $off, 512);
        last if $h =~ /\A\0{512}\z/;
        my ($name) = unpack('Z100', $h);
        my $size = oct(unpack('Z12', substr($h, 124, 12)) || 0);
        push @m, [ $name, substr($h, 156, 1), $size, $off, substr($t, $off + 512, $size) ];
        $off += 512 + $size + (512 - $size % 512) % 512;
    }
    return @m;
}

# tar_edit(TAR, NAME, sub { HEADER -> HEADER }): the tar with NAME's header edited, checksum fixed
sub tar_edit {
    my ($t, $name, $code) = @_;
    for my $m (tar_list($t)) {
        next unless $m->[0] eq $name;
        substr($t, $m->[3], 512) = tar_checksum($code->(substr($t, $m->[3], 512)));
    }
    return $t;
}

1;
