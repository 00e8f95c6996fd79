#!/usr/bin/env bash
# Runs a command under /usr/bin/time -v and samples its /proc/<pid>/io every second: prints
# `uptime` before and after, the peak RSS, the bytes the process read through read()/pread()
# (rchar: every byte of the checkpoint it read, page cache or not) and from storage (read_bytes).
#   bench/scale/measured.sh node bin/linscope.mjs linearity -m /work/big/llama-2-13b ...
set -u
echo "uptime before: $(uptime)"
/usr/bin/time -v "$@" 2> >(tee /tmp/measured-time.$$ >&2) &
outer=$!
# every process under time (a launcher may start the real one): last values seen per pid, summed
declare -A seen_r seen_b
descendants() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done; }
while kill -0 "$outer" 2>/dev/null; do
  for p in $(descendants "$outer"); do
    if [ -r "/proc/$p/io" ]; then
      r=$(awk '/^rchar/{print $2}' "/proc/$p/io" 2>/dev/null); b=$(awk '/^read_bytes/{print $2}' "/proc/$p/io" 2>/dev/null)
      [ -n "$r" ] && seen_r[$p]=$r; [ -n "$b" ] && seen_b[$p]=$b
    fi
  done
  sleep 1
done
rchar=0; rbytes=0
for p in "${!seen_r[@]}"; do rchar=$((rchar + seen_r[$p])); done
for p in "${!seen_b[@]}"; do rbytes=$((rbytes + seen_b[$p])); done
wait "$outer"; rc=$?
sleep 0.5
echo "uptime after: $(uptime)"
echo "peak RSS: $(awk -F': ' '/Maximum resident set size/{printf "%.2f GB (%s kB)", $2/1048576, $2}' /tmp/measured-time.$$)"
echo "wall: $(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' /tmp/measured-time.$$)"
echo "bytes read (rchar, sampled each second): $rchar ($(awk -v r=$rchar 'BEGIN{printf "%.2f GB", r/1073741824}'))"
echo "bytes read from storage (read_bytes): $rbytes"
rm -f /tmp/measured-time.$$
exit $rc
