#!/bin/bash
# scaling of app.batch: 1 worker x 2 threads, 2 workers x 1 thread, 2 workers x 2 threads, repeated
cd /tmp/scale/code
for rep in 1 2; do
for cfg in "1 2" "2 1" "2 2"; do
  set -- $cfg
  out=/tmp/scale/out_w$1_t$2_r$rep
  echo "=== rep $rep workers $1 threads $2 $(date -u +%T) load: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "time: wall %e s user %U s sys %S s" nice -n 5 /work/main/.venv/bin/python -m app.batch /tmp/scale/in --out $out --workers $1 --threads $2 --max-frames 120 --force 2>&1 | grep -v WARNING
  /work/main/.venv/bin/python -c "
import json; s=json.load(open('$out/summary.json'))
rows=s['inputs']; print('wall_s', s['wall_s'], 'frames', s['frames_done'], 'throughput_fps', s['throughput_fps'],
 'per video (s, cpu_s, cores):', [(r.get('seconds'), r.get('cpu_s'), round(r.get('cpu_s',0)/r.get('seconds',1),2)) for r in rows])"
  echo "    load after: $(cut -d' ' -f1-3 /proc/loadavg)"
done; done
