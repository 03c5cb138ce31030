#!/bin/bash
# kvm.sh: ferry's KVM path, which these machines cannot run, tried through
# a stand-in qemu: it says how it was called, turns KVM into TCG (and
# -cpu host into qemu64) and runs the real qemu; it can also refuse KVM,
# spin like a hung KVM guest, start slowly, or lack the microvm machine.
cd "$(dirname "$0")/.."
. tests/lib.sh

img=build/test-images
tests/images.sh "$img"
tmp=$(mktemp -d "$PWD/build/kvm-XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/qemu" <<'EOS'
#!/bin/bash
args=() accel= cpu= machine=
while [ $# -gt 0 ]; do
    case $1 in
    -accel) accel=$2; args+=(-accel "${2/kvm/tcg}"); shift 2 ;;
    -cpu) cpu=$2; args+=(-cpu "${2/host/qemu64}"); shift 2 ;;
    -machine) machine=${2%%,*}; args+=("$1" "$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
    esac
done
echo "STANDIN accel=$accel cpu=$cpu machine=$machine" >&2
# a KVM guest has kvmclock; turned into TCG it needs the TSC's rate, or its
# calibration stalls as a hung guest's would
if [ "$accel" = kvm ]; then
    for i in "${!args[@]}"; do
        [ "${args[$i]}" = -append ] && args[$((i + 1))]+=" tsc_early_khz=$STANDIN_TSC_KHZ"
    done
fi
if [ "$accel" = kvm ]; then
    case $STANDIN_KVM in
    refuse) echo "qemu-system-x86_64: failed to initialize kvm: Permission denied" >&2; exit 1 ;;
    hang) while :; do :; done ;;   # 100% CPU, not a word: what a hung KVM guest does
    slow) sleep "$STANDIN_SLOW" ;;
    esac
fi
if [ "$STANDIN_MICROVM" = no ] && [ "$machine" = microvm ]; then
    echo "qemu-system-x86_64: -machine microvm: unsupported machine type" >&2
    exit 1
fi
exec qemu-system-x86_64 "${args[@]}"
EOS
chmod +x "$tmp/qemu"
# the host's TSC rate, as ferry measures it for a TCG boot (a resume
# passes no kernel arguments)
export STANDIN_TSC_KHZ=$(FERRY_NO_RESUME=1 "$FERRY" -v --accel tcg ping "$img/ext4.img" 2>&1 |
                         sed -n 's/.*tsc_early_khz=\([0-9]*\).*/\1/p' | head -1)
# without it the emulated "KVM" guests stall on a loaded machine, and the
# tests below would fail for the wrong reason
case $STANDIN_TSC_KHZ in
'' | *[!0-9]*) fail stand_in_has_the_tsc_rate "none measured" ;;
*) pass stand_in_has_the_tsc_rate ;;
esac
k() {   # ferry with KVM said to be usable, through the stand-in, verbose
    FERRY_TEST_KVM=usable timeout 300 "$FERRY" -v --qemu "$tmp/qemu" "$@"
}
calls() { grep -o 'STANDIN accel=[a-z]* cpu=[a-z0-9]* machine=[a-z0-9]*' "$1" | tr '\n' ' ' | sed 's/ $//'; }

# a failure that is not KVM's is not retried: qemu's own words, once
cp "$img/ext4.qcow2" "$tmp/bad.qcow2"
printf '\377\377\377\377' | dd of="$tmp/bad.qcow2" bs=1 seek=20 conv=notrunc status=none
k cat "$tmp/bad.qcow2" /data/small.txt >/dev/null 2>"$tmp/err"; status=$?
expect damaged_image_is_not_blamed_on_kvm "1 STANDIN accel=kvm cpu=host machine=microvm 0 1" \
    "$status $(calls "$tmp/err") $(grep -c 'falling back' "$tmp/err") $(grep -c 'Unsupported cluster size' "$tmp/err")"

# KVM refused: TCG, and the TCG call never carries -cpu host; qemu's reason is shown
FERRY_CPU=host STANDIN_KVM=refuse k cat "$img/ext4.img" /data/small.txt >"$tmp/out" 2>"$tmp/err"
status=$?
expect kvm_refused_falls_back_to_tcg \
    "0 small file STANDIN accel=kvm cpu=host machine=microvm STANDIN accel=tcg cpu=qemu64 machine=microvm 1" \
    "$status $(cat "$tmp/out") $(calls "$tmp/err") $(grep -c 'failed to initialize kvm' "$tmp/err")"

# a KVM qemu slower to start than the old 5 s, but alive (it uses no
# processor time while it waits): kept, no fallback
start=$(date +%s)
STANDIN_KVM=slow STANDIN_SLOW=7 k cat "$img/ext4.img" /data/small.txt >"$tmp/out" 2>"$tmp/err"
status=$?
expect slow_kvm_start_is_kept "0 small file STANDIN accel=kvm cpu=host machine=microvm 0 waited" \
    "$status $(cat "$tmp/out") $(calls "$tmp/err") $(grep -c 'falling back' "$tmp/err") $(
       [ $(( $(date +%s) - start )) -ge 7 ] && echo waited)"

# a KVM start that never ends (not spinning, so the processor-time watch
# keeps it) falls back at --launch-timeout, and says which limit it hit
STANDIN_KVM=slow STANDIN_SLOW=600 k --launch-timeout 3 cat "$img/ext4.img" /data/small.txt \
    >"$tmp/out" 2>"$tmp/err"; status=$?
expect kvm_timeout_falls_back \
    "0 small file|ferry: the appliance did not start within 3 s under KVM; falling back to TCG|STANDIN accel=kvm cpu=host machine=microvm STANDIN accel=tcg cpu=qemu64 machine=microvm" \
    "$status $(cat "$tmp/out")|$(grep 'falling back' "$tmp/err")|$(calls "$tmp/err")"

# a hung KVM guest (spinning, silent) falls back, and the message names the limit
STANDIN_KVM=hang k cat "$img/ext4.img" /data/small.txt >"$tmp/out" 2>"$tmp/err"; status=$?
expect hung_kvm_falls_back \
    "0 small file|ferry: the KVM guest used 5 s of processor time without a sign of life; falling back to TCG|STANDIN accel=kvm cpu=host machine=microvm STANDIN accel=tcg cpu=qemu64 machine=microvm" \
    "$status $(cat "$tmp/out")|$(grep 'falling back' "$tmp/err")|$(calls "$tmp/err")"

# no microvm: q35, with the same accelerator
STANDIN_MICROVM=no k -m /dev/sda1 cat "$img/gpt.img" /data/sub/deep.txt >"$tmp/out" 2>"$tmp/err"
status=$?
expect no_microvm_keeps_kvm \
    "0 deeper STANDIN accel=kvm cpu=host machine=microvm STANDIN accel=kvm cpu=host machine=q35" \
    "$status $(cat "$tmp/out") $(calls "$tmp/err")"

# ---- the saved appliance under KVM: resumed, not booted. A stand-in for
# the carried qemu (a test hook runs it in its place) turns KVM into TCG and
# runs the very qemu ferry carries (build/qemu), which the state belongs to
cp build/qemu/qemu-system-x86_64 "$tmp/carried-qemu"
cat > "$tmp/carried" <<'EOS'
#!/bin/bash
args=() accel= cpu= incoming=
while [ $# -gt 0 ]; do
    case $1 in
    -accel) accel=$2; args+=(-accel "${2/kvm/tcg}"); shift 2 ;;
    -cpu) cpu=$2; args+=(-cpu "$2"); shift 2 ;;
    -incoming) incoming=$2; args+=("$1" "$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
    esac
done
echo "CARRIED accel=$accel cpu=$cpu incoming=$incoming" >&2
exec "$(dirname "$0")/carried-qemu" "${args[@]}"
EOS
chmod +x "$tmp/carried"
FERRY_TEST_KVM=usable FERRY_TEST_CARRIED_STANDIN="$tmp/carried" timeout 300 "$FERRY" -v \
    cat "$img/ext4.img" /data/small.txt >"$tmp/out" 2>"$tmp/err"
status=$?
expect kvm_resumes_the_saved_appliance "0 small file|CARRIED accel=kvm cpu=qemu64 incoming=fd:9|1" \
    "$status $(cat "$tmp/out")|$(grep -o 'CARRIED.*' "$tmp/err" | head -1)|$(grep -c 'appliance up (KVM, microvm, resumed)' "$tmp/err")"

# a /dev/kvm the user may not open: one line says how to get KVM, TCG runs
touch "$tmp/kvm" && chmod 600 "$tmp/kvm"
cp "$img/ext4.img" "$tmp/nobody.img" && chmod 644 "$tmp/nobody.img"
out=$(FERRY_TEST_KVM_DEVICE=$tmp/kvm setpriv --reuid=65534 --regid=65534 --clear-groups \
      "$FERRY" cat "$tmp/nobody.img" /data/small.txt 2>"$tmp/err"); status=$?
expect kvm_denied_says_how "0 small file 1 ferry: $tmp/kvm: permission denied, so the appliance runs without KVM, about ten times slower; for KVM, add yourself to the kvm group (sudo usermod -aG kvm \$USER, then log in again)" \
    "$status $out $(wc -l < "$tmp/err") $(cat "$tmp/err")"
finish
