# SPDX-License-Identifier: Apache-2.0
# omsplunkgo build. `make` builds the module and its Go library into build/,
# `make install` puts both where Debian's rsyslogd looks for modules.

# Every recipe fails on the first failing command, also inside a pipe.
SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# The Go of go.mod: the machine's when new enough, else one that
# scripts/setup-go.sh installs privately (Debian's backports Go fetching
# the exact toolchain from the Go module proxy).
# From a release tarball (no .git), as distributions build, it is the go
# on PATH.
ifeq ($(origin GO),undefined)
ifneq ($(wildcard .git),)
GO := $(or $(shell scripts/setup-go.sh),$(error no Go: scripts/setup-go.sh failed))/go
else
GO := go
endif
endif
CC        ?= gcc
CFLAGS    ?= -O2 -g
# Warnings are errors: the shim is small and talks raw ABI to rsyslogd.
# The build directory is mapped away (and Go's build ID, which hashes the
# build environment, left empty), so that two builds of the same source in
# different places give the same bytes.
SHIM_CFLAGS = $(CFLAGS) -std=gnu11 -fPIC -Wall -Wextra -Werror -fvisibility=hidden -ffile-prefix-map=$(CURDIR)=.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
MODDIR    ?= /usr/lib/$(MULTIARCH)/rsyslog
BINDIR    ?= /usr/bin
DESTDIR   ?=
BUILD     := build

GO_SOURCES   := $(shell find hec plugin -name '*.go' -not -name '*_test.go') go.mod go.sum
SHIM_SOURCES := $(wildcard cshim/*.c cshim/*.h)
SHIM_UNITS   := cshim/omsplunkgo.c cshim/params.c cshim/pem.c cshim/keypair.c cshim/gohost.c cshim/stats.c

# How long each fuzz target runs in `make check`: a count of executions
# (about 10 s each here), not a duration. A duration races Go's fuzz
# coordinator at the deadline and fails with "context deadline exceeded"
# and no crasher (golang/go#75804, unfixed in Go 1.26).
FUZZTIME ?= 150000x
FUZZ_TARGETS := internal/event:FuzzAppendEvent internal/event:FuzzValidFields internal/endpoint:FuzzParseReply .:FuzzWindowFile

.PHONY: dist deb-chroot options-doc all install uninstall check lint unit shim-test fuzz abi-check integration clean demo bench deb rpm packages versions container

all: $(BUILD)/omsplunkgo.so $(BUILD)/libomsplunkgo.so $(BUILD)/omsplunkgo $(BUILD)/hecreceiver

# The shim exports only modInit; everything else is reached through its
# entry point table. rsyslogd provides the rsyslog symbols at load time.
$(BUILD)/omsplunkgo.so: $(SHIM_SOURCES)
	@mkdir -p $(BUILD)
	$(CC) $(SHIM_CFLAGS) $(LDFLAGS) -shared -o $@ $(SHIM_UNITS) -ldl -lpthread

$(BUILD)/libomsplunkgo.so: $(GO_SOURCES)
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared -trimpath -buildvcs=false -ldflags=-buildid= -o $@ ./plugin
	@rm -f $(BUILD)/libomsplunkgo.h

# The Go library with fault injection (hec/fault_on.go), for the tests that
# check a panic stays in its action; never installed.
$(BUILD)/faults/libomsplunkgo.so: $(GO_SOURCES)
	@mkdir -p $(BUILD)/faults
	$(GO) build -buildmode=c-shared -tags omsplunkgo_faults -trimpath -buildvcs=false -o $@ ./plugin
	@rm -f $(BUILD)/faults/libomsplunkgo.h

# The companion tool: `omsplunkgo check` and `omsplunkgo replay`.
$(BUILD)/omsplunkgo: $(GO_SOURCES) $(wildcard cmd/omsplunkgo/*.go internal/errorlog/*.go internal/rsconf/*.go)
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -buildvcs=false -ldflags=-buildid= -o $@ ./cmd/omsplunkgo

$(BUILD)/hecreceiver: $(wildcard internal/hecreceiver/*.go cmd/hecreceiver/*.go) go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -o $@ ./cmd/hecreceiver

$(BUILD)/loadgen: $(wildcard internal/loadgen/*.go cmd/loadgen/*.go) go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -o $@ ./cmd/loadgen

# omprog helper of the benchmark, built on the hec package.
$(BUILD)/hecpipe: $(GO_SOURCES) bench/hecpipe/main.go
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -o $@ ./bench/hecpipe

install: $(BUILD)/omsplunkgo.so $(BUILD)/libomsplunkgo.so $(BUILD)/omsplunkgo
	install -d $(DESTDIR)$(MODDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/omsplunkgo $(DESTDIR)$(BINDIR)/omsplunkgo
	install -m 0644 $(BUILD)/omsplunkgo.so $(DESTDIR)$(MODDIR)/omsplunkgo.so
	install -m 0644 $(BUILD)/libomsplunkgo.so $(DESTDIR)$(MODDIR)/libomsplunkgo.so

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/omsplunkgo.so $(DESTDIR)$(MODDIR)/libomsplunkgo.so $(DESTDIR)$(BINDIR)/omsplunkgo

# Packaging. `make dist` makes the release tarball: what git tracks (and
# untracked files it does not ignore) plus every Go module vendored, so that
# a build needs nothing but the tarball, a C compiler and a Go at least as
# new as go.mod's go line (Debian 13's). It is reproducible: sorted,
# owner-less, dated by the newest debian/changelog entry. The .deb and the
# .rpm are built from it, in build/pkg/; scripts/setup-packaging.sh installs
# Debian's debhelper and rpm. On Debian 12 the .deb is built with the Go of
# scripts/setup-go.sh and without dpkg's build-dependency check (Debian
# 12's golang is older than the floor); `make deb-chroot` builds it as a
# Debian 13 builder would (scripts/deb-chroot.sh).
VERSION   := $(shell head -1 debian/changelog | cut -d' ' -f2 | tr -d '()')
SOURCE_DATE_EPOCH ?= $(shell date -d "$$(sed -n 's/^ -- .*>  //p' debian/changelog | head -1)" +%s)
export SOURCE_DATE_EPOCH
PKGDIR    := $(BUILD)/pkg
DISTNAME  := rsyslog-omsplunkgo-$(VERSION)
DIST      := $(PKGDIR)/$(DISTNAME).tar.gz

dist: $(DIST)
$(DIST): $(GO_SOURCES) $(SHIM_SOURCES) Makefile $(wildcard debian/* packaging/rpm/*)
	rm -rf $(PKGDIR)/$(DISTNAME) && mkdir -p $(PKGDIR)/$(DISTNAME)
	git ls-files -co --exclude-standard | while read -r f; do if [ -e "$$f" ]; then echo "$$f"; fi; done | \
		tar -cf - -T - | tar -xf - -C $(PKGDIR)/$(DISTNAME)
	cd $(PKGDIR)/$(DISTNAME) && $(GO) mod vendor
	scripts/check-copyright.sh $(PKGDIR)/$(DISTNAME)
	tar --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner \
		-cf - -C $(PKGDIR) $(DISTNAME) | gzip -9n >$@
	@echo "dist: $@"

deb: $(DIST)
	rm -rf $(PKGDIR)/deb && mkdir -p $(PKGDIR)/deb && tar -xzf $(DIST) -C $(PKGDIR)/deb
	cd $(PKGDIR)/deb/$(DISTNAME) && GO=$(GO) dpkg-buildpackage -b -d -us -uc >../dpkg-buildpackage.log 2>&1 || \
		{ tail -40 $(PKGDIR)/deb/dpkg-buildpackage.log; exit 1; }
	rm -f $(PKGDIR)/rsyslog-omsplunkgo_*.deb # an earlier version's
	mv $(PKGDIR)/deb/rsyslog-omsplunkgo_$(VERSION)_*.deb $(PKGDIR)/
	@ls $(PKGDIR)/rsyslog-omsplunkgo_$(VERSION)_*.deb

# rpmbuild checks BuildRequires against the RPM database, which on a
# Debian host holds no packages: scripts/rpm-host-provides.sh records, in
# a private database, the versions of the tools this host really has
# (Go, gcc, make), so the spec's requirements are checked, not skipped.
rpm: $(DIST)
	scripts/rpm-host-provides.sh $(PKGDIR)/rpmdb $(GO)
	scripts/check-bundled.sh packaging/rpm/rsyslog-omsplunkgo.spec $(PKGDIR)/$(DISTNAME)/vendor/modules.txt
	rm -rf $(PKGDIR)/rpm/RPMS # an earlier version's
	PATH="$$(dirname $(GO)):$$PATH" rpmbuild -bb --define "_dbpath $(CURDIR)/$(PKGDIR)/rpmdb" \
		--define "_topdir $(CURDIR)/$(PKGDIR)/rpm" --define "_sourcedir $(CURDIR)/$(PKGDIR)" \
		packaging/rpm/rsyslog-omsplunkgo.spec >$(PKGDIR)/rpmbuild.log 2>&1 || { tail -40 $(PKGDIR)/rpmbuild.log; exit 1; }
	@ls $(PKGDIR)/rpm/RPMS/*/rsyslog-omsplunkgo-$(VERSION)-*.rpm

packages:
	scripts/setup-packaging.sh
	$(MAKE) deb rpm

# The .deb as a Debian 13 builder makes it: in a trixie chroot made of
# Debian's packages, with its own golang-go, from the dist tarball, without
# network; then installed and run there, checked by lintian, and built a
# second time to compare the two byte for byte.
deb-chroot: $(DIST) all $(BUILD)/loadgen
	scripts/deb-chroot.sh $(DIST) $(BUILD)

# The container image of docker/Dockerfile, built with podman from base
# images made of Debian's packages (no registry needed; kept by podman
# between runs), under the name the README uses.
IMAGE := omsplunkgo
container:
	scripts/container.sh build $(IMAGE)

# Everything scripts/test.sh (and CI) runs. Integration tests come last:
# they need the build and take the longest.
check: all lint unit shim-test fuzz abi-check packages deb-chroot container integration versions

# staticcheck from the Go module proxy, pinned (2026.2.2).
STATICCHECK_VERSION := v0.8.2
# The README stays what a user reads first; detail lives beside its subject.
README_BUDGET := 780
# gofmt's own failure (a file it cannot parse) fails the target too, not
# only a non-empty list. Only the project's files: build/ holds vendored
# modules of the dist tree.
lint:
	@unformatted=$$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l) || { echo "gofmt failed"; exit 1; }; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) run ./internal/optionsdoc -check
	$(GO) run ./internal/countersdoc
	@n=$$(wc -l <README.md); if [ "$$n" -gt $(README_BUDGET) ]; then \
		echo "README.md has $$n lines, over its budget of $(README_BUDGET): put detail beside its subject (scripts/, packaging/, bench/, integration/)"; exit 1; fi

# The README's configuration reference, from cshim/options.h.
options-doc:
	$(GO) run ./internal/optionsdoc -write

# The race detector runs where the code is concurrent: the HEC client
# (connection slots, re-commit folding, ack pollers, spool, endpoint
# health) and the receiver; the integration tests run the receiver under
# it too.
RACE_PACKAGES := ./hec/... ./internal/hecreceiver/...
unit:
	$(GO) test -count=1 -race $(RACE_PACKAGES)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -E '/(integration|hec|hec/.*|internal/hecreceiver)$$')

# The shim loaded by a stand-in for rsyslogd (cshim/test/modinit_test.c):
# what it does with an rsyslog it does not know.
shim-test: $(BUILD)/omsplunkgo.so
	$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -rdynamic -o $(BUILD)/modinit_test cshim/test/modinit_test.c -ldl
	$(BUILD)/modinit_test $(BUILD)/omsplunkgo.so

fuzz:
	@for pt in $(FUZZ_TARGETS); do \
		p=$${pt%%:*} t=$${pt#*:}; \
		echo "fuzz: $$t ($$p) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./hec/$$p/; \
	done

# Compares cshim/rsyslog_abi.h with the headers of the installed rsyslog's
# Debian source package (fetched into .cache/ once).
abi-check:
	@src=$$(cshim/abi-check/fetch-rsyslog-source.sh .cache/rsyslog-src) && \
		cshim/abi-check/check.sh "$$src"

# The package tests install and purge the .deb, and read the .rpm, that
# `make packages` built; the container tests run the image `make
# container` built.
integration: all $(BUILD)/faults/libomsplunkgo.so
	OMSPLUNKGO_BUILD=$(CURDIR)/$(BUILD) OMSPLUNKGO_PKGDIR=$(CURDIR)/$(PKGDIR) OMSPLUNKGO_IMAGE=$(IMAGE) \
		$(GO) test -count=1 -race -timeout 25m ./integration/

# The module against the other rsyslog versions in the field, built from
# Debian's source packages (scripts/build-rsyslog.sh, cached outside the
# repository): the ABI check against their headers, then the core
# integration tests with their rsyslogd.
RSYSLOG_SUITES ?= bullseye trixie
CORE_TESTS := TestEveryMessageArrivesOnceWithExactFields TestDaemonizedRsyslogdDelivers \
	TestConfigCheckAcceptsAGoodAction TestConfigCheckNamesTheBadParameter TestConfigCheckRefusesUnusablePaths \
	TestRestartDuringOutageLosesNothing TestImpstatsCountersMatchTheReceiver
empty :=
space := $(empty) $(empty)
# Each named test must have passed: a renamed test must not leave the
# pattern matching nothing, which go test reports as ok.
versions: all
	@for s in $(RSYSLOG_SUITES); do \
		d=$$(scripts/build-rsyslog.sh $$s); \
		src=$$(ls -d $${OMSPLUNKGO_RSYSLOG_CACHE:-/var/cache/omsplunkgo}/src-$$s/rsyslog-*/ | head -1); \
		echo "versions: $$s: $$($$d -v | head -1)"; \
		cshim/abi-check/check.sh "$$src"; \
		log=$(BUILD)/versions-$$s.log; \
		OMSPLUNKGO_RSYSLOGD=$$d OMSPLUNKGO_BUILD=$(CURDIR)/$(BUILD) \
			$(GO) test -count=1 -v -timeout 10m -run '^($(subst $(space),|,$(strip $(CORE_TESTS))))$$' ./integration/ >$$log 2>&1 || \
			{ grep -E '^(--- FAIL|FAIL|panic)' -A20 $$log | head -80; exit 1; }; \
		for t in $(CORE_TESTS); do \
			grep -q "^--- PASS: $$t " $$log || { echo "versions: $$s: $$t did not run"; exit 1; }; \
		done; \
		echo "versions: $$s: $(words $(CORE_TESTS)) core tests passed"; \
	done

demo:
	scripts/demo.sh

# Compares omsplunkgo with omfile (ceiling), omprog + Python, omprog + Go
# and syslog-ng http(); prints a table, writes bench/results/. Options go
# in BENCH_FLAGS, e.g. BENCH_FLAGS="-n 1000000" (see go run ./bench -h).
BENCH_FLAGS ?=
bench: all $(BUILD)/hecpipe
	scripts/setup-bench.sh
	$(GO) run ./bench $(BENCH_FLAGS)

clean:
	rm -rf $(BUILD)
