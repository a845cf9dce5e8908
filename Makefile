# sitedump / siteload
# Libraries come from pkg-config only; sources are found by wildcard so that
# adding a format, a transport, a unit test (tests/unit/test_*.c) or a fuzz
# target (tests/fuzz/fuzz_*.c) needs no Makefile edit.
#
# Three variants, each with a build directory of its own, so that no object is
# ever reused with another variant's flags:
#   make                  build/       CC (cc), CFLAGS (-O2 -g), hardened
#   make SANITIZE=1       build-san/   the same plus ASan/UBSan
#   make fuzz, tests/fuzz/fuzz_NAME
#                         build-fuzz/  clang, libFuzzer + ASan/UBSan, -O1 -g (FUZZ_CFLAGS)
# The programs are then hard-linked to the paths the tests, scripts and docs
# run (./sitedump, ./siteload, tests/unit/test_*, tests/bench/*floor,
# tests/fuzz/fuzz_*): whatever variant was built last is what they run.

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/libexec
DOCDIR    ?= $(PREFIX)/share/doc/sitedump
# systemd's own unit directory for PREFIX=/usr (Debian 12: /lib/systemd/system), else under PREFIX
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= /lib/systemd/system
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif
SUBST_PATHS = sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/libexec/sitedump/|$(LIBEXECDIR)/sitedump/|g'
DESTDIR   ?=
VERSION   ?= 0.1.0

MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

PKGS      := yajl zlib libzstd libsodium libdeflate libarchive libcurl inih
CC        ?= cc
FUZZ_CC   ?= clang
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
# libarchive and libcurl are dlopen'ed (src/bundle/bundle.c, src/icinga2api/api.c:
# see there why): not linked, but their sonames are taken from the libraries we
# compile against.
DLOPENED   := libarchive libcurl
PKG_LIBS   := $(shell pkg-config --libs $(filter-out $(DLOPENED),$(PKGS))) -ldl
soname_of   = $(shell objdump -p $$(pkg-config --variable=libdir $(1))/$(1).so 2>/dev/null | \
                awk '$$1 == "SONAME" { print $$2 }')
LIBARCHIVE_SONAME := $(call soname_of,libarchive)
LIBCURL_SONAME    := $(call soname_of,libcurl)
ifneq ($(LIBARCHIVE_SONAME),)
PKG_CFLAGS += -DLIBARCHIVE_SONAME='"$(LIBARCHIVE_SONAME)"'
endif
ifneq ($(LIBCURL_SONAME),)
PKG_CFLAGS += -DLIBCURL_SONAME='"$(LIBCURL_SONAME)"'
endif
# only the unit tests need cmocka: asked for when one is built
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS   = $(shell pkg-config --libs cmocka)

# ---- flags: the one block, used by every variant --------------------------------------------
# What the build needs is forced (override), so that CFLAGS, CPPFLAGS, LDFLAGS
# and LDLIBS given on the command line or in the environment only add to it:
# `make CFLAGS=-O0` sets the optimisation, not the include paths.
SD_CPPFLAGS := -Isrc -I. -D_GNU_SOURCE -DSITEDUMP_VERSION='"$(VERSION)"' -DSITEDUMP_BINDIR='"$(BINDIR)"' $(PKG_CFLAGS)
SD_CFLAGS   := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -pthread
SD_LDFLAGS  := -pthread
SD_LDLIBS   := $(PKG_LIBS) -lm
HARDEN      := -fstack-protector-strong -fPIE -Wformat -Wformat-security
HARDEN_LD   := -pie -Wl,-z,relro,-z,now
# _FORTIFY_SOURCE needs an optimisation level, and is left out under ASan
FORTIFY     := -D_FORTIFY_SOURCE=2
SAN_CFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_LDFLAGS := -fsanitize=address,undefined
DEPFLAGS     = -MMD -MP

CFLAGS    ?= -O2 -g
ifeq ($(SANITIZE),1)
B         := build-san
FORTIFY   :=
override CFLAGS  := $(SD_CFLAGS) $(HARDEN) $(SAN_CFLAGS) $(CFLAGS)
override LDFLAGS := $(SD_LDFLAGS) $(HARDEN_LD) $(SAN_LDFLAGS) $(LDFLAGS)
else
B         := build
override CFLAGS  := $(SD_CFLAGS) $(HARDEN) $(CFLAGS)
override LDFLAGS := $(SD_LDFLAGS) $(HARDEN_LD) $(LDFLAGS)
endif
ifeq ($(filter -O -O1 -O2 -O3 -Os -Og -Oz -Ofast,$(lastword $(filter -O%,$(CFLAGS)))),)
FORTIFY   :=
endif
override CPPFLAGS := $(SD_CPPFLAGS) $(FORTIFY) $(CPPFLAGS)
override LDLIBS   := $(SD_LDLIBS) $(LDLIBS)

# the fuzz variant: the same block, clang's fuzzer flags in place of the user's
F            := build-fuzz
FUZZ_CFLAGS  ?= -O1 -g
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer
FUZZ_CPPFLAGS := $(SD_CPPFLAGS)
FUZZ_ALLCFLAGS := $(SD_CFLAGS) $(HARDEN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_CFLAGS)
FUZZ_LDFLAGS := $(SD_LDFLAGS) $(HARDEN_LD) $(FUZZ_SAN) -fsanitize=fuzzer
FUZZ_SECONDS ?= 60

# ---- what is built --------------------------------------------------------------------------
# The folders are the layers (docs/hacking.md, `make layering`). Each tool
# links the layers both use (libsitedump.a) and its own top layer only:
# sitedump carries no importer code, siteload no exporter-only code.
MAINS     := src/export/sitedump.c src/import/siteload.c
CORE_SRC  := $(wildcard src/base/*.c src/model/*.c formats/*.c src/livestatus/*.c src/icinga2api/*.c \
               src/bundle/*.c transports/*.c)
EXPORT_SRC := $(filter-out $(MAINS),$(wildcard src/export/*.c))
IMPORT_SRC := $(filter-out $(MAINS),$(wildcard src/import/*.c))
LIB_SRC   := $(CORE_SRC) $(EXPORT_SRC) $(IMPORT_SRC)
BINS      := $(notdir $(basename $(wildcard $(MAINS))))
LIBS      := libimport.a libexport.a libsitedump.a
# readers only the unit tests and fuzz targets need (tests/support/readers.h);
# the probes are programs the TAP tests run (a main each: not in libsupport.a)
PROBE_BIN := tests/support/api_probe
SUPPORT_SRC := $(filter-out $(PROBE_BIN:=.c),$(wildcard tests/support/*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:.c=)
BENCH_BIN := tests/bench/lsfloor tests/bench/lscmdfloor
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(FUZZ_SRC:.c=)

LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o) $(SUPPORT_SRC:%.c=$(B)/%.o)
UNIT_OBJ  := $(UNIT_SRC:%.c=$(B)/%.o)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(F)/%.o) $(SUPPORT_SRC:%.c=$(F)/%.o)
FUZZ_OBJ  := $(FUZZ_SRC:%.c=$(F)/%.o)

.PHONY: all check layering unit integration bench fuzz install clean FORCE

all: $(BINS) $(PROBE_BIN)

# ---- the variant's build directory ----------------------------------------------------------
# $(B)/flags holds the variant's compile and link flags; it changes (and every
# object of the variant is rebuilt) only when they do, e.g. make CFLAGS=-O0.
sq = '$(subst ','\'',$(1))'
define flagstamp
	+@mkdir -p $(@D); printf '%s\n' $(call sq,$(1)) | cmp -s - $@ 2>/dev/null || printf '%s\n' $(call sq,$(1)) >$@
endef
$(B)/flags: FORCE
	$(call flagstamp,$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(LDLIBS))
$(F)/flags: FORCE
	$(call flagstamp,$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_ALLCFLAGS) $(FUZZ_LDFLAGS) $(SD_LDLIBS))

$(B)/%.o: %.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(UNIT_OBJ): $(B)/%.o: %.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CMOCKA_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# one archive per part, in both variants' directories ($(1): B or F)
define libs
$$($(1))/libsitedump.a: $$(CORE_SRC:%.c=$$($(1))/%.o)
$$($(1))/libexport.a: $$(EXPORT_SRC:%.c=$$($(1))/%.o)
$$($(1))/libimport.a: $$(IMPORT_SRC:%.c=$$($(1))/%.o)
$$($(1))/libsupport.a: $$(SUPPORT_SRC:%.c=$$($(1))/%.o)
$$(LIBS:%=$$($(1))/%) $$($(1))/libsupport.a:
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(eval $(call libs,B))
$(eval $(call libs,F))

$(B)/sitedump: $(B)/src/export/sitedump.o $(B)/libexport.a $(B)/libsitedump.a
$(B)/siteload: $(B)/src/import/siteload.o $(B)/libimport.a $(B)/libsitedump.a
$(BINS:%=$(B)/%):
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT_BIN:%=$(B)/%): $(B)/%: $(B)/%.o $(B)/libsupport.a $(LIBS:%=$(B)/%)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# plain C, no project code: the floor of writing the same commands/files as siteload
$(B)/tests/bench/lscmdfloor: $(B)/tests/bench/lscmdfloor.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/bench/lsfloor: $(B)/tests/bench/lsfloor.o $(B)/libsitedump.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the Icinga 2 API client driven by tests/0027-icinga2-api.t
$(PROBE_BIN:%=$(B)/%): $(B)/%: $(B)/%.o $(B)/libsitedump.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets: built with clang regardless of CC, in build-fuzz/
$(F)/%.o: %.c $(F)/flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_ALLCFLAGS) $(DEPFLAGS) -c -o $@ $<

$(FUZZ_BIN:%=$(F)/%): $(F)/%: $(F)/%.o $(F)/libsupport.a $(LIBS:%=$(F)/%)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(SD_LDLIBS)

-include $(LIB_OBJ:.o=.d) $(MAINS:%.c=$(B)/%.d) $(UNIT_OBJ:.o=.d) $(BENCH_BIN:%=$(B)/%.d) $(PROBE_BIN:%=$(B)/%.d) \
	 $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)

# ---- the paths everything runs: a hard link to the variant built last -----------------------
# (a link, not a symlink: siteload writes its own /proc/self/exe into the core's
# config, which must name ./siteload)
define place
	@[ $< -ef $@ ] || cmp -s $< $@ 2>/dev/null || { rm -f $@ && { ln $< $@ 2>/dev/null || cp -p $< $@; } && echo "ln $< $@"; }
endef

$(BINS) $(UNIT_BIN) $(BENCH_BIN) $(PROBE_BIN): %: $(B)/% FORCE
	$(place)

$(FUZZ_BIN): %: $(F)/% FORCE
	$(place)

# ---- the targets ----------------------------------------------------------------------------
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; ./$$t; done

integration: $(BINS) $(PROBE_BIN)
	prove -v tests/*.t

# the include rule of the layers (docs/hacking.md): checked first, it takes no time
layering:
	@scripts/layering

check: layering
	@$(MAKE) --no-print-directory unit integration

bench: $(BINS) $(BENCH_BIN)
	scripts/bench
	scripts/bench-import

# New inputs go to build-fuzz/corpus/NAME (libFuzzer writes to its first corpus
# directory); the seed corpus tests/fuzz/corpus/NAME is only read. To keep new
# inputs: tests/fuzz/fuzz_NAME -merge=1 tests/fuzz/corpus/NAME build-fuzz/corpus/NAME
fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$${f##*/fuzz_}; mkdir -p $(F)/corpus/$$n $(F)/artifacts; \
	  seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  echo "# $$f ($(FUZZ_SECONDS)s)"; ./$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(F)/artifacts/$$n- $(F)/corpus/$$n $$seeds; done

# Only what an installation runs: the two tools (never a test program), sitediff, the ssh
# receiver where the docs expect it ($(LIBEXECDIR)/sitedump), the systemd units, the man pages
# and the docs. The scripts and units name the tools by their installed paths: /usr/local/bin
# in the sources, rewritten to BINDIR/LIBEXECDIR here. The user the units run as (sitedump)
# is created by the packages' postinst, or by hand after make install (docs/install.md).
install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(LIBEXECDIR)/sitedump $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0755 scripts/sitediff $(DESTDIR)$(BINDIR)/sitediff
	$(SUBST_PATHS) scripts/sitedump-ssh-receive >$(DESTDIR)$(LIBEXECDIR)/sitedump/sitedump-ssh-receive
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/sitedump/sitedump-ssh-receive
	set -e; for u in scripts/systemd/*; do \
	  $(SUBST_PATHS) $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; done
	install -m 0644 docs/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 scripts/sitedump.cron scripts/polkit/50-sitedump.rules $(DESTDIR)$(DOCDIR)/examples/

# all variants; also the objects of the in-tree builds before build directories
clean:
	rm -rf build build-san build-fuzz
	rm -f $(BINS) $(UNIT_BIN) $(BENCH_BIN) $(PROBE_BIN) $(FUZZ_BIN) \
	  libsitedump.a src/*.o src/*/*.o formats/*.o transports/*.o
