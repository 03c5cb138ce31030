# Makefile: compiles ferry and ferryd. build.sh drives it (and the
# appliance); `make` alone builds the programs for host tests.
CC       = musl-gcc
B        = build
GEN      = $(B)/gen
LIBDIR   = /usr/lib/x86_64-linux-gnu
# format-truncation: error messages are bounded on purpose (FERRY_MAX_ERROR)
WARN     = -Wall -Wextra -Werror -Wno-format-truncation
CFLAGS   = -std=gnu11 -O2 -g -D_GNU_SOURCE -fno-strict-aliasing $(WARN)
DEPFLAGS = -MMD -MP
LDFLAGS  = -static
TIRPC    = $(LIBDIR)/libtirpc.a
HIVEX    = $(LIBDIR)/libhivex.a

# Each side sees the protocol and its own headers, never the other side's.
PROTO_INC  = -Iproto -I$(GEN) -I$(B)/sysinc -I/usr/include/tirpc
DAEMON_INC = $(PROTO_INC) -Idaemon
CLI_INC    = $(PROTO_INC) -Icli -Iembed

PROTO_SRC  = $(wildcard proto/*.c)
DAEMON_SRC = $(wildcard daemon/*.c)
CLI_SRC    = $(wildcard cli/*.c cli/*/*.c)

PROTO_OBJ  = $(PROTO_SRC:%.c=$(B)/obj/%.o) $(B)/obj/ferry_xdr.o
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ    = $(CLI_SRC:%.c=$(B)/obj/%.o)
CLIENT_OBJ = $(B)/obj/cli/rpc/client.o $(B)/obj/cli/rpc/transfer.o $(B)/obj/cli/rpc/channel.o

# The appliance (kernel, initramfs) is made by appliance-builder/, which
# build.sh runs first; the Makefile only links it in.
APPL       = $(B)/appliance
APPL_FILES = $(APPL)/vmlinux.zst $(APPL)/initrd.zst $(APPL)/kernel-version \
             $(APPL)/qemu.zst $(APPL)/bios.zst $(APPL)/qemu-version \
             $(APPL)/state.zst $(APPL)/state.sig
EMBED_OBJ  = $(B)/obj/embed/appliance.o $(B)/obj/embed/blob.o

all: $(B)/ferryd $(B)/ferry

# ---- the wire truth, generated
$(GEN)/ferry.x: proto/ferry.x
	@mkdir -p $(GEN)
	cp $< $@
# rpcgen writes quad_t for hyper, which is long long on musl and clashes
# with libtirpc's int64_t prototypes: name the exact types instead.
$(GEN)/ferry.h: $(GEN)/ferry.x
	cd $(GEN) && rm -f ferry.h && rpcgen -h -o ferry.h ferry.x
	sed -i -e 's/\bu_quad_t\b/uint64_t/g; s/\bquad_t\b/int64_t/g' $@
$(GEN)/ferry_xdr.c: $(GEN)/ferry.x
	cd $(GEN) && rm -f ferry_xdr.c && rpcgen -c -o ferry_xdr.c ferry.x
	sed -i -e 's/\bu_quad_t\b/uint64_t/g; s/\bquad_t\b/int64_t/g' $@
$(GEN)/procs.h: proto/ferry.x proto/gen-procs.sh
	@mkdir -p $(GEN)
	sh proto/gen-procs.sh $< > $@.tmp && mv $@.tmp $@

# libmd's and the compressors' headers live in /usr/include, which musl-gcc
# does not search: expose just those, not the whole glibc header tree.
$(B)/sysinc/.stamp: Makefile
	@mkdir -p $(B)/sysinc
	ln -sf /usr/include/md5.h /usr/include/sha1.h /usr/include/sha2.h \
	       /usr/include/zstd.h /usr/include/zstd_errors.h /usr/include/zlib.h \
	       /usr/include/zconf.h /usr/include/lzma.h /usr/include/lzma \
	       /usr/include/hivex.h /usr/include/libewf.h /usr/include/libewf \
	       /usr/include/archive.h /usr/include/archive_entry.h $(B)/sysinc/
	@mkdir -p $(B)/sysinc/openssl
	ln -sf /usr/include/openssl/*.h /usr/include/x86_64-linux-gnu/openssl/*.h \
	       $(B)/sysinc/openssl/
	# the kernel's own headers (linux-libc-dev), for FIEMAP
	ln -sfn /usr/include/linux /usr/include/asm-generic $(B)/sysinc/
	ln -sfn /usr/include/x86_64-linux-gnu/asm $(B)/sysinc/asm
	@touch $@

# generated before anything compiles; afterwards -MMD knows who needs what
GENERATED = $(GEN)/ferry.h $(GEN)/procs.h $(B)/sysinc/.stamp

define compile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(1) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<
endef

$(B)/obj/ferry_xdr.o: $(GEN)/ferry_xdr.c | $(GENERATED)
	$(call compile,$(PROTO_INC) -Wno-unused-variable)
$(B)/obj/proto/%.o: proto/%.c | $(GENERATED)
	$(call compile,$(PROTO_INC))
$(B)/obj/daemon/%.o: daemon/%.c | $(GENERATED)
	$(call compile,$(DAEMON_INC))
$(B)/obj/cli/%.o: cli/%.c | $(GENERATED)
	$(call compile,$(CLI_INC))
$(B)/obj/embed/%.o: embed/%.c | $(GENERATED)
	$(call compile,$(CLI_INC))
$(B)/obj/tests/fuzz/fuzz-daemon.o: tests/fuzz/fuzz-daemon.c | $(GENERATED)
	$(call compile,$(DAEMON_INC) -Itests)
$(B)/obj/tests/%.o: tests/%.c | $(GENERATED)
	$(call compile,$(CLI_INC) -Itests)

$(B)/ferryd: $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC) $(LIBDIR)/libmd.a $(HIVEX)

$(B)/obj/embed/blob.o: embed/blob.S $(APPL_FILES)
	@mkdir -p $(dir $@)
	$(CC) -c -DKERNEL_ZST='"$(APPL)/vmlinux.zst"' -DINITRD_ZST='"$(APPL)/initrd.zst"' \
	      -DKERNEL_VERSION='"$(APPL)/kernel-version"' -DQEMU_ZST='"$(APPL)/qemu.zst"' \
	      -DBIOS_ZST='"$(APPL)/bios.zst"' -DQEMU_VERSION='"$(APPL)/qemu-version"' \
	      -DSTATE_ZST='"$(APPL)/state.zst"' -DSTATE_SIG='"$(APPL)/state.sig"' -o $@ $<

$(B)/ferry: $(CLI_OBJ) $(EMBED_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC) $(LIBDIR)/libzstd.a $(LIBDIR)/libcrypto.a \
	      $(LIBDIR)/libewf.a $(LIBDIR)/libarchive.a $(LIBDIR)/libz.a $(LIBDIR)/liblzma.a

clean:
	rm -rf $(B)

.PHONY: all clean

# ---- tests
# the protocol tests: every TEST() in tests/protocol/, listed by list.sh
PROTOCOL_SRC = $(filter-out tests/protocol/main.c,$(wildcard tests/protocol/*.c))
$(GEN)/protocol-tests.h: $(PROTOCOL_SRC) tests/protocol/list.sh
	@mkdir -p $(GEN)
	sh tests/protocol/list.sh $(PROTOCOL_SRC) > $@.tmp && mv $@.tmp $@
$(B)/obj/tests/protocol/main.o: $(GEN)/protocol-tests.h
$(B)/tests/protocol: \
                     $(patsubst %.c,$(B)/obj/%.o,$(wildcard tests/protocol/*.c)) \
                     $(CLIENT_OBJ) $(B)/obj/cli/launch/nbd.o $(B)/obj/cli/launch/monitor.o \
                     $(B)/obj/cli/launch/argv.o $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC)

tests: $(B)/tests/protocol
.PHONY: tests

$(B)/tests/make-seeds: $(B)/obj/tests/fuzz/make-seeds.o $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC)

# The fuzz harnesses, built to replay the corpus without libFuzzer, with
# gcc and glibc so that AddressSanitizer, LeakSanitizer and UBSan watch
# every input: a regression (a leak, an overflow) fails the replay.
SAN_CC    = gcc
SAN_FLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -fno-omit-frame-pointer \
            -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_PROTO = $(PROTO_SRC) $(GEN)/ferry_xdr.c
$(B)/tests/replay-daemon: tests/fuzz/fuzz-daemon.c tests/fuzz/driver.c $(filter-out daemon/main.c,$(DAEMON_SRC)) $(SAN_PROTO) | $(GENERATED)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_FLAGS) $(DAEMON_INC) -Itests -Wno-unused-variable -o $@ $(filter %.c,$^) \
	    -ltirpc -lmd -lhivex -lpthread
$(B)/tests/replay-client: tests/fuzz/fuzz-client.c tests/fuzz/driver.c cli/rpc/client.c cli/rpc/transfer.c cli/rpc/channel.c $(SAN_PROTO) | $(GENERATED)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_FLAGS) $(CLI_INC) -Itests -Wno-unused-variable -o $@ $(filter %.c,$^) -ltirpc
tests: $(B)/tests/make-seeds $(B)/tests/replay-daemon $(B)/tests/replay-client
$(B)/tests/hostile-daemon: $(B)/obj/tests/hostile-daemon.o $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC)
tests: $(B)/tests/hostile-daemon

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
