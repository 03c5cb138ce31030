#!/bin/bash
# manyimages.sh: what docs/many-images.md tells a user with many images to do
# works as written. Without a cluster, the Kubernetes manifest
# (docs/kubernetes-job.yaml) is run as a kubelet would run each index: its
# arguments with $(VAR) expanded from its env, its user, no capabilities, no
# new privileges, a read-only root holding only /ferry and what a container
# runtime adds, the volume mounted read-only at its mountPath, the links made
# by the page's own loop. The page's xargs line is run as written too. And
# --log records of runs in parallel never mix. Needs root (chroot, mounts).
cd "$(dirname "$0")/.."
. tests/lib.sh

if [ "$(id -u)" != 0 ]; then
    echo "SKIP manyimages: not root"
    finish
    exit 0
fi
img=build/test-images
tests/images.sh "$img"
tmp=$(realpath "$(mktemp -d "$PWD/build/many-XXXXXX")")
chmod 755 "$tmp"
cleanup() { # never remove what is still mounted
    for _ in 1 2 3 4; do
        for m in $(awk -v t="$tmp/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r); do
            umount -l "$m" 2>/dev/null
        done
    done
    if awk -v t="$tmp/" 'index($2, t) == 1 {found = 1} END {exit !found}' /proc/mounts; then
        echo "manyimages: still mounted under $tmp, left in place" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

# ---- the evidence volume: images of three formats, readable by anyone
ev=$tmp/evidence
mkdir -p "$ev"
cp "$img/os.img" "$ev/linux.img"
cp "$img/windows.img" "$ev/windows.img"
qemu-img convert -O qcow2 "$img/os.img" "$ev/linux.qcow2"
qemu-img convert -O vmdk "$img/windows.img" "$ev/windows.vmdk"
chmod 644 "$ev"/*

# the page's loop that makes by-index/, with the volume's path put in
block() { # the shell block of the page that starts with $1
    awk -v first="$1" '/^ *```/ { if (grab) exit; inblock = !inblock; top = 1; next }
        inblock && top { top = 0; if (index($0, first)) grab = 1 }
        grab { sub(/^   /, ""); print }' docs/many-images.md
}
links=$(block 'cd /evidence')
[ -n "$links" ] || fail links_loop_found "no block starting with 'cd /evidence' in docs/many-images.md"
(eval "${links//\/evidence/$ev}")
expect links_name_every_image "0 linux.qcow2|1 windows.vmdk|2 linux.img|3 windows.img" \
    "$(tr '\n' '|' < "$ev/by-index/list.txt" | sed 's/|$//')"

# ---- the manifest, run index by index as a kubelet would
root=$tmp/root
mkdir -p "$root/proc" "$root/dev" "$root/evidence"
cp "$FERRY" "$root/ferry"
chmod 755 "$root/ferry"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9; do
    IFS=: read -r n ma mi <<< "$d"
    mknod -m 666 "$root/dev/$n" c "$ma" "$mi"
done
[ -c /dev/kvm ] && mknod -m 666 "$root/dev/kvm" c 10 232
python3 - docs/kubernetes-job.yaml Dockerfile "$root" "$ev" "$tmp/pod" 4 <<'EOF'
import ctypes, json, os, re, subprocess, sys, yaml
manifest, dockerfile, root, volume, out, count = sys.argv[1:7]
# the image's entry point, which the manifest's args follow
(entry,) = [json.loads(l.split(None, 1)[1]) for l in open(dockerfile) if l.startswith("ENTRYPOINT")]
job = yaml.safe_load(open(manifest))
assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
pod = job["spec"]["template"]["spec"]
(c,) = pod["containers"]
sc = c["securityContext"]
assert sc["readOnlyRootFilesystem"] and sc["allowPrivilegeEscalation"] is False
assert sc["capabilities"]["drop"] == ["ALL"]
vols = {v["name"]: v for v in pod["volumes"]}
mounts = c["volumeMounts"]
# a read-only root, then what the runtime mounts on it
subprocess.run(["mount", "--bind", root, root], check=True)
subprocess.run(["mount", "-o", "remount,bind,ro", root], check=True)
subprocess.run(["mount", "-t", "proc", "proc", root + "/proc"], check=True)
# the volume at its mountPath, read-only as both the mount and the claim say
for m in mounts:
    assert m["readOnly"] and vols[m["name"]]["persistentVolumeClaim"]["readOnly"]
    target = root + m["mountPath"]
    subprocess.run(["mount", "--bind", volume, target], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", target], check=True)
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38

def enter():
    os.chroot(root)
    os.chdir("/")
    os.setgroups([])
    os.setgid(sc["runAsGroup"])
    os.setuid(sc["runAsUser"])  # leaves no capability behind
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl")

for index in range(int(count)):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOSTNAME": f"ferry-inspect-{index}-x1y2z", "JOB_COMPLETION_INDEX": str(index),
           "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    annotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            assert e["valueFrom"]["fieldRef"]["fieldPath"] == annotation
            env[e["name"]] = str(index)
    # Kubernetes' rules: $(VAR) of a defined variable is replaced, $$ is $
    expand = lambda s: re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                              lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), s)
    argv = [expand(a) for a in c.get("command", entry) + c["args"]]
    with open(f"{out}-{index}.out", "wb") as o, open(f"{out}-{index}.err", "wb") as e:
        r = subprocess.run(argv, env=env, stdout=o, stderr=e, preexec_fn=enter, timeout=600)
    open(f"{out}-{index}.status", "w").write(f"{r.returncode} {' '.join(argv)}\n")
EOF
i=0
while read -r n name; do
    want=$("$FERRY" inspect --json "$ev/$name" 2>&1)
    got=$(cat "$tmp/pod-$n.out" "$tmp/pod-$n.err" 2>/dev/null)
    status=$(cut -d' ' -f1 "$tmp/pod-$n.status" 2>/dev/null)
    case $want in *'"type":"'*) ;; *) fail "pod_${n}_reference" "ferry found no OS in $name: $want" ;; esac
    expect "pod_${n}_inspects_$name" "0 $want" "$status $got"
    i=$((i + 1))
done < "$ev/by-index/list.txt"
expect every_index_ran 4 "$i"
expect pod_arguments "/ferry inspect --json /evidence/by-index/2" \
    "$(cut -d' ' -f2- "$tmp/pod-2.status" 2>/dev/null)"

# ---- the page's xargs line, as written, over the volume
line=$(block 'find /evidence')
[ -n "$line" ] || fail xargs_line_found "no block starting with 'find /evidence'"
cp -a "$ev" "$tmp/local" && rm -rf "$tmp/local/by-index"
(PATH=$(dirname "$FERRY"):$PATH; eval "${line//\/evidence/$tmp/local}")
expect xargs_line_inspects_each "$("$FERRY" inspect --json "$ev/linux.qcow2")" \
    "$(cat "$tmp/local/linux.qcow2.inspect.json" 2>&1)"

# ---- --log from runs in parallel: one record is one write, so records
# never mix, even long ones (here over 4 KiB: a long image path)
long=$tmp/l
for i in $(seq 12); do long=$long/$(printf 'd%.0s' $(seq 200)); done
mkdir -p "$long" && ln -s "$ev/linux.img" "$long/image.img"
strace -f -qq -s 8192 -e trace=open,openat,write,writev -o "$tmp/trace" \
    "$FERRY" --log "$tmp/audit.jsonl" ls "$long/image.img" / > /dev/null
writes=$(python3 - "$tmp/trace" "$tmp/audit.jsonl" <<'EOF'
import re, sys
fds, writes = set(), 0
for line in open(sys.argv[1]):
    m = re.search(r'open(at)?\(.*"' + re.escape(sys.argv[2]) + r'".* = (\d+)$', line)
    if m:
        fds.add(m.group(2))
    m = re.search(r'writev?\((\d+), ', line)
    if m and m.group(1) in fds:
        writes += 1
print(writes)
EOF
)
expect log_record_is_one_write "1 $(wc -c < "$tmp/audit.jsonl")" "$writes $(stat -c %s "$tmp/audit.jsonl")"
rm -f "$tmp/audit.jsonl"
for i in 1 2 3 4; do
    "$FERRY" --log "$tmp/audit.jsonl" ls "$long/image.img" / > /dev/null &
done
wait
expect parallel_log_records_whole "4 records, all whole" "$(python3 - "$tmp/audit.jsonl" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
bad = 0
for l in lines:
    try:
        r = json.loads(l)
        bad += not (r["images"][0]["unchanged"] and len(l) > 4096)
    except ValueError:
        bad += 1
print(f"{len(lines)} records, " + ("all whole" if not bad else f"{bad} broken"))
EOF
)"
finish
