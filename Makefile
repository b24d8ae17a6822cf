# omsplunkgo build. `make` builds the module and its Go library into build/,
# `make install` puts both where Debian's rsyslogd looks for modules.

GO        ?= go
CC        ?= gcc
CFLAGS    ?= -O2 -g
# Warnings are errors: the shim is small and talks raw ABI to rsyslogd.
SHIM_CFLAGS = $(CFLAGS) -std=gnu11 -fPIC -Wall -Wextra -Werror -fvisibility=hidden
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
MODDIR    ?= /usr/lib/$(MULTIARCH)/rsyslog
DESTDIR   ?=
BUILD     := build

GO_SOURCES   := $(shell find hec plugin -name '*.go' -not -name '*_test.go') go.mod go.sum
SHIM_SOURCES := cshim/omsplunkgo.c cshim/rsyslog_abi.h cshim/omsplunkgo_plugin.h

.PHONY: all install uninstall test unit integration abi-check vet clean setup demo bench

all: $(BUILD)/omsplunkgo.so $(BUILD)/libomsplunkgo.so $(BUILD)/hecreceiver

# The shim exports only modInit; everything else is reached through its
# entry point table. rsyslogd provides the rsyslog symbols at load time.
$(BUILD)/omsplunkgo.so: $(SHIM_SOURCES)
	@mkdir -p $(BUILD)
	$(CC) $(SHIM_CFLAGS) -shared -o $@ cshim/omsplunkgo.c -ldl -lpthread

$(BUILD)/libomsplunkgo.so: $(GO_SOURCES)
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared -trimpath -o $@ ./plugin
	@rm -f $(BUILD)/libomsplunkgo.h

$(BUILD)/hecreceiver: $(shell find hecreceiver cmd -name '*.go' -not -name '*_test.go') go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -o $@ ./cmd/hecreceiver

install: $(BUILD)/omsplunkgo.so $(BUILD)/libomsplunkgo.so
	install -d $(DESTDIR)$(MODDIR)
	install -m 0644 $(BUILD)/omsplunkgo.so $(DESTDIR)$(MODDIR)/omsplunkgo.so
	install -m 0644 $(BUILD)/libomsplunkgo.so $(DESTDIR)$(MODDIR)/libomsplunkgo.so

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/omsplunkgo.so $(DESTDIR)$(MODDIR)/libomsplunkgo.so

clean:
	rm -rf $(BUILD)
