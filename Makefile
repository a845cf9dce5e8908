# sitedump / siteload
# Libraries come from pkg-config only; sources are found by wildcard so that
# adding a format or transport needs no Makefile edit.

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DESTDIR   ?=
VERSION   ?= 0.1.0

PKGS      := yajl zlib libzstd libsodium libdeflate libarchive
CC        ?= cc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
# libarchive is dlopen'ed by src/bundle.c (see there why): not linked, but
# its soname is taken from the library we compile against.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libarchive,$(PKGS))) -ldl
LIBARCHIVE_SONAME := $(shell objdump -p $$(pkg-config --variable=libdir libarchive)/libarchive.so 2>/dev/null | \
                       awk '$$1 == "SONAME" { print $$2 }')
ifneq ($(LIBARCHIVE_SONAME),)
PKG_CFLAGS += -DLIBARCHIVE_SONAME='"$(LIBARCHIVE_SONAME)"'
endif

HARDEN    := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -Wformat -Wformat-security
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter $(HARDEN) \
             -Isrc -Iformats -Itransports -DSITEDUMP_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -pthread
LDFLAGS   += -pie -Wl,-z,relro,-z,now -pthread
LDLIBS    += $(PKG_LIBS) -lm

ifeq ($(SANITIZE),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS    := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS))
LDFLAGS   += -fsanitize=address,undefined
endif

MAINS     := src/sitedump.c src/siteload.c
LIB_SRC   := $(filter-out $(MAINS),$(wildcard src/*.c)) $(wildcard formats/*.c) $(wildcard transports/*.c)
LIB_OBJ   := $(LIB_SRC:.c=.o)
BINS      := $(patsubst src/%.c,%,$(wildcard $(MAINS)))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:.c=)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(FUZZ_SRC:.c=)
FUZZ_SECONDS ?= 60

.PHONY: all check unit integration bench fuzz install clean

all: $(BINS)

libsitedump.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

%.o: %.c $(wildcard src/*.h formats/*.h transports/*.h)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BINS): %: src/%.o libsitedump.a
	$(CC) $(LDFLAGS) -o $@ $< libsitedump.a $(LDLIBS)

tests/unit/test_%: tests/unit/test_%.c libsitedump.a
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) $(LDFLAGS) -o $@ $< libsitedump.a $(LDLIBS) $(shell pkg-config --libs cmocka)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; ./$$t; done

integration: $(BINS)
	prove -v tests/*.t

check: unit integration

bench: $(BINS) tests/bench/lsfloor tests/bench/lscmdfloor
	scripts/bench
	scripts/bench-import

# libFuzzer targets, built with clang and ASan regardless of CC.
tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -pthread -fsanitize=fuzzer,address,undefined -Isrc -Iformats -Itransports \
	  -DSITEDUMP_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS) -lm

fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$${f##*/fuzz_}; mkdir -p tests/fuzz/corpus/$$n; \
	  echo "# $$f ($(FUZZ_SECONDS)s)"; ./$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 tests/fuzz/corpus/$$n; done

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(MANDIR)/man5
	install -m 0644 docs/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/*.5 $(DESTDIR)$(MANDIR)/man5/

clean:
	rm -f $(LIB_OBJ) src/*.o libsitedump.a $(BINS) $(UNIT_BIN) $(FUZZ_BIN) tests/bench/lsfloor tests/bench/lscmdfloor

# plain C, no project code: the floor of writing the same commands/files as siteload
tests/bench/lscmdfloor: tests/bench/lscmdfloor.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

tests/bench/lsfloor: tests/bench/lsfloor.c libsitedump.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< libsitedump.a $(LDLIBS)
