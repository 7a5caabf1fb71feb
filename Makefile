# breakglass — plain GNU make with pkg-config.
#
#   make            build both programs
#   make check      install missing deps, build, run every test
#   make check-asan the same under ASan+UBSan (separate build dir)
#   make demo       a full dual-control ceremony on a throwaway vault
#   make fuzz       run each libFuzzer harness for FUZZ_SECONDS
#   make install    programs, man pages, bash completion, systemd units
#                   (PREFIX=/usr/local, DESTDIR=); make uninstall
#   make deb        the Debian package breakglass (build/deb/), lintian clean
#   make offline-bundle  that .deb and its dependencies for an offline
#                   Debian 12 machine (build/offline-bundle/)
#   make check-bundle    install the bundle into a fresh debootstrap root
#                   with no network (slow; not in make check)
#   make check-repro     two builds in two directories: identical bytes?
#
# Sources are found by wildcard so a new file needs no Makefile edit:
#   tokenctl/*.c tokenctl/soft/*.c  -> libbgtoken.a (except main.c, cmd_*.c)
#   vault/*.c                       -> libbgvault.a (except main.c, cmd_*.c)
#   cli/*.c                         -> libbgcli.a   (terminal helpers for both programs)
#   tests/test_*.c                  -> one cmocka program each
#   tests/e2e/*.sh                  -> end-to-end tests of the real programs
#   tests/fuzz/fuzz_*.c             -> libFuzzer harnesses (clang)

BUILD    ?= build
VERSION   = 0.1.0
CC       ?= cc
PKG_CONFIG ?= pkg-config
PKGS      = libfido2 libsodium sqlite3 libcbor libcrypto jansson libqrencode zbar libpng

WARN     = -Wall -Wextra -Wshadow -Wcast-qual -Wwrite-strings \
           -Wmissing-prototypes -Wconversion -Wsign-conversion -Werror
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT     ?= -O2 -g
SAN     ?=

# Resolved lazily so that `make check` can install pkg-config first.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# -ffile-prefix-map: no build directory in the objects (reproducible builds).
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(OPT) $(SAN) \
              -ffile-prefix-map=$(CURDIR)=. \
              -Iinclude -Itokenctl -Ivault -Icli $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)

# Sorted: the archive and link order, and so the bytes, never depend on
# the order the file system lists a directory in.
TOKEN_SRC  = $(filter-out tokenctl/main.c tokenctl/cmd_%.c, \
               $(sort $(wildcard tokenctl/*.c tokenctl/soft/*.c)))
VAULT_SRC  = $(filter-out vault/main.c vault/cmd_%.c, $(sort $(wildcard vault/*.c)))
CLI_SRC    = $(sort $(wildcard cli/*.c))
TOKENCTL_SRC = $(sort $(wildcard tokenctl/main.c tokenctl/cmd_*.c))
VAULTPRG_SRC = $(sort $(wildcard vault/main.c vault/cmd_*.c))
TEST_SRC   = $(wildcard tests/test_*.c)
TEST_HELPER_SRC = $(wildcard tests/helpers/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBTOKEN = $(BUILD)/libbgtoken.a
LIBVAULT = $(BUILD)/libbgvault.a
LIBCLI   = $(BUILD)/libbgcli.a
TOKENCTL = $(BUILD)/tokenctl
VAULT    = $(BUILD)/vault
TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

PROGRAMS = $(TOKENCTL) $(if $(VAULTPRG_SRC),$(VAULT))

.PHONY: all deps check check-asan check-valgrind unit e2e adversary lint-man \
        lint-src demo fuzz fuzz-smoke bench clean FORCE
all: $(PROGRAMS)

# --- version and source commit (--version) ----------------------------------
# Only the two main.o files see them (-D), and they are rebuilt when the
# commit changes: the stamp is rewritten only when its text differs.  The
# commit is the bare hash (scripts/source-info), so two builds of one
# commit agree byte for byte.
COMMIT := $(shell scripts/source-info commit 2>/dev/null || echo unknown)
VERSION_STAMP = $(BUILD)/version.stamp
MAIN_OBJS = $(call obj,vault/main.c tokenctl/main.c)
$(MAIN_OBJS): $(VERSION_STAMP)
$(MAIN_OBJS): VERSION_DEFS = -DBG_VERSION='"$(VERSION)"' -DBG_COMMIT='"$(COMMIT)"'
$(VERSION_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION) $(COMMIT)' | cmp -s - $@ 2>/dev/null || \
	    echo '$(VERSION) $(COMMIT)' >$@
FORCE:

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

# Quiet by default; `make V=1` shows the full command lines.
Q = $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(VERSION_DEFS) -MMD -MP -c $< -o $@

# D: deterministic archives (zero timestamps, uids and modes).
$(LIBTOKEN): $(call obj,$(TOKEN_SRC))
	@rm -f $@; ar rcsD $@ $^
$(LIBVAULT): $(call obj,$(VAULT_SRC))
	@rm -f $@; ar rcsD $@ $^
$(LIBCLI): $(call obj,$(CLI_SRC))
	@rm -f $@; ar rcsD $@ $^

# tokenctl takes the store-free part of the engine (remote approval:
# remote.c, chain, seal, policy, Merkle); --as-needed keeps SQLite, which
# nothing it links calls, out of its dependencies (checked by
# tests/e2e/remote_approval.sh).
$(TOKENCTL): $(call obj,$(TOKENCTL_SRC)) $(LIBCLI) $(LIBVAULT) $(LIBTOKEN)
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $^ $(PKG_LIBS)
$(VAULT): $(call obj,$(VAULTPRG_SRC)) $(LIBCLI) $(LIBVAULT) $(LIBTOKEN)
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/test_%.o $(call obj,$(TEST_HELPER_SRC)) \
                       $(LIBCLI) $(LIBVAULT) $(LIBTOKEN)
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# --- tests -------------------------------------------------------------
unit: $(TESTS)
	@scripts/run-tests unit $(TESTS)

e2e: $(PROGRAMS)
	@BG_BUILD=$(abspath $(BUILD)) scripts/run-tests e2e $(filter-out tests/e2e/lib.sh,$(wildcard tests/e2e/*.sh))

# The insider's attacks (tests/adversary/): each asserts refusal.  The
# adv_*.c programs are the insider's own tools on a second machine,
# linked against the engine's libraries.
ADV_BINS = $(patsubst tests/adversary/%.c,$(BUILD)/adversary/%,\
	     $(wildcard tests/adversary/adv_*.c))
$(BUILD)/adversary/adv_%: $(BUILD)/obj/tests/adversary/adv_%.o $(LIBCLI) \
                          $(LIBVAULT) $(LIBTOKEN)
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
adversary: $(PROGRAMS) $(ADV_BINS)
	@BG_BUILD=$(abspath $(BUILD)) scripts/run-tests e2e $(filter-out tests/adversary/lib.sh,$(wildcard tests/adversary/*.sh))

lint-man:
	@for m in docs/*.1; do mandoc -T lint -W warning "$$m" || exit 1; done
	@echo "man pages: lint clean"

lint-src:
	@scripts/check-banned
	@scripts/check-secret-free

check: deps
	@$(MAKE) --no-print-directory all $(TESTS)
	@$(MAKE) --no-print-directory BUILD=build-clang CC=clang all
	@$(MAKE) --no-print-directory lint-src lint-man
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory adversary
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory hardening-quick

# ASan+UBSan: its own build tree; leak detection on, halt on any report.
check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all unit e2e adversary

check-valgrind: deps
	@$(MAKE) --no-print-directory all $(TESTS)
	@VALGRIND=1 scripts/run-tests unit $(TESTS)

# --- fuzzing (clang + libFuzzer, its own build tree) -----------------------
# The libraries are rebuilt with clang, ASan+UBSan and fuzzer coverage
# instrumentation; harnesses are relinked every time (cheap) so that a
# library change is never missed.
FUZZ_SRC     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BUILD   = build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_BINS    = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: fuzz-libs
fuzz-libs:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	    SAN="$(FUZZ_SAN)" $(FUZZ_BUILD)/libbgvault.a $(FUZZ_BUILD)/libbgtoken.a

$(FUZZ_BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c fuzz-libs
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  FUZZ    $@")
	$(Q)clang -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -Iinclude -Itokenctl -Ivault \
	    $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(FUZZ_BUILD)/libbgvault.a $(FUZZ_BUILD)/libbgtoken.a $(PKG_LIBS)

fuzz-smoke: $(FUZZ_BINS)
	@scripts/run-fuzz smoke $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz long $(FUZZ_BINS)

# --- hardening (tests/hardening/, issue 5: J1) ------------------------------
# Crash (SIGKILL at every file-changing syscall), EIO/ENOSPC, allocation
# failure (failmalloc.so, LD_PRELOAD, test-only), byte flips, rollback and
# clock, all against the real programs.  `make hardening-quick` (in `make
# check`, ~2 minutes), `make hardening` (long versions, ASan build for the
# allocation failures, ~20 minutes).  Figures: docs/security.md.
HARDENING_SO    = $(BUILD)/hardening/failmalloc.so
HARDENING_TESTS = crash faults failmalloc byteflip rollback
HARDENING_RUN   = BG_BUILD=$(abspath $(BUILD)) \
                  BG_FAILMALLOC_SO=$(abspath $(HARDENING_SO)) tests/hardening/run.sh

.PHONY: hardening hardening-quick
$(HARDENING_SO): tests/hardening/failmalloc.c
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  CC      $@")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl
hardening-quick: $(PROGRAMS) $(HARDENING_SO)
	@$(HARDENING_RUN) quick $(HARDENING_TESTS)
hardening: $(PROGRAMS) $(HARDENING_SO)
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	@BG_ASAN_BUILD=$(abspath build-asan) $(HARDENING_RUN) long $(HARDENING_TESTS)
# --- end of hardening -------------------------------------------------------

demo: deps all
	@BG_BUILD=$(abspath $(BUILD)) scripts/demo

# --- benchmarks (bench/, issue 6) -------------------------------------------
# bench/bench_*.c -> $(BUILD)/bench/bench_*, linked like the tests.  They are
# programs, never tests: `make bench` runs scripts/bench (under 10 minutes
# on 2 cores), `make bench-quick` the same with BENCH_QUICK=1 (about a
# minute).  The peers (age, ssss, hyperfine) come from install-deps --bench.
BENCH_SRC  = $(wildcard bench/bench_*.c)
BENCH_BINS = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

$(BUILD)/bench/bench_%: $(BUILD)/obj/bench/bench_%.o $(LIBCLI) $(LIBVAULT) \
                        $(LIBTOKEN)
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(BENCH_LDFLAGS) -o $@ $^ $(PKG_LIBS)
# bench_vault times the FIDO client (libfido2 host side) around the engine's
# token calls: bg_token_assert is wrapped (__wrap_bg_token_assert).
$(BUILD)/bench/bench_vault: BENCH_LDFLAGS = -Wl,--wrap=bg_token_assert

.PHONY: bench-deps bench-bins bench-quick
bench-deps: deps
	@scripts/install-deps --bench --check >/dev/null 2>&1 || \
	    scripts/install-deps --bench
bench-bins: $(BENCH_BINS)
bench: bench-deps all bench-bins
	@BG_BUILD=$(abspath $(BUILD)) scripts/bench
bench-quick: bench-deps all bench-bins
	@BENCH_QUICK=1 BG_BUILD=$(abspath $(BUILD)) scripts/bench
# --- end of benchmarks ------------------------------------------------------

# --- install, Debian package, offline bundle, reproducibility --------------
# `make install` honours PREFIX and DESTDIR; the systemd units go where
# systemd looks for a PREFIX (/usr/local/lib/systemd/system by default; the
# Debian package uses /lib/systemd/system).  /etc/default/breakglass is
# installed only when missing, and removed by uninstall only when unchanged.
PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
MANDIR         ?= $(PREFIX)/share/man
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR     ?= /etc
INSTALL        ?= install
UNITS           = breakglass-check.service breakglass-check.timer
DEFAULTS        = $(DESTDIR)$(SYSCONFDIR)/default/breakglass

.PHONY: install uninstall
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/default
	$(INSTALL) -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 docs/vault.1 docs/tokenctl.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 completions/vault completions/tokenctl $(DESTDIR)$(BASHCOMPDIR)/
	for u in $(UNITS); do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        systemd/$$u.in >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
	    mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	@if [ -e $(DEFAULTS) ]; then echo "install: keeping $(DEFAULTS)"; \
	else echo "$(INSTALL) -m 0644 systemd/breakglass.default $(DEFAULTS)"; \
	    $(INSTALL) -m 0644 systemd/breakglass.default $(DEFAULTS); fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vault $(DESTDIR)$(BINDIR)/tokenctl \
	    $(DESTDIR)$(MANDIR)/man1/vault.1 $(DESTDIR)$(MANDIR)/man1/tokenctl.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/vault $(DESTDIR)$(BASHCOMPDIR)/tokenctl \
	    $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS))
	@if cmp -s systemd/breakglass.default $(DEFAULTS); then \
	    echo "rm -f $(DEFAULTS)"; rm -f $(DEFAULTS); \
	elif [ -e $(DEFAULTS) ]; then \
	    echo "uninstall: $(DEFAULTS) was changed; kept"; fi

# `make deb`: the Debian package breakglass in $(BUILD)/deb/, built with
# debhelper from a copy of the tracked files and checked by lintian
# (LINTIAN=0 skips that).  The packaging tools come from install-deps --pkg.
DEB_DIR  = $(BUILD)/deb
BUNDLE   = $(BUILD)/offline-bundle
LINTIAN ?= 1

.PHONY: pkg-deps deb offline-bundle check-bundle check-repro
pkg-deps: deps
	@scripts/install-deps --pkg --check >/dev/null 2>&1 || \
	    scripts/install-deps --pkg
deb: pkg-deps
	@scripts/build-deb $(DEB_DIR) $(VERSION) $(LINTIAN)

# `make offline-bundle`: the .deb, every .deb it needs on a fresh Debian 12
# beyond the packages of priority required, SHA256SUMS and INSTALL.
offline-bundle: deb
	@scripts/offline-bundle $(DEB_DIR) $(BUNDLE)

# Slow, and they need the Debian mirror: not in `make check`.
# check-bundle: debootstrap a minimal Debian 12, install the bundle there
# with no network, run both programs.  check-repro: build this commit twice
# in two directories, at two times, and compare the bytes.
check-bundle: offline-bundle
	@scripts/test-offline-bundle $(BUNDLE)
check-repro: pkg-deps
	@scripts/check-repro

clean:
	rm -rf build build-asan build-fuzz build-clang

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
