#!/bin/bash
# The batch burndown of Kairos.Bench, by hand, against a PostgreSQL cluster of your own that has pg_stat_statements
# loaded (see bench/README.md, "PostgreSQL: index writes per job"), so that what PostgreSQL did per job can be read back:
# the server published in SERVER_DIR on a fresh schema, JOBS no-op jobs bulk-enqueued, then 4 `Kairos.Bench worker --mode
# batch` processes (capacity 50, fetch and ack 100) drain them. Prints the rate, PostgreSQL's, the server's and the
# worker processes' CPU per job, and writes pg_stat_statements' top statements (calls, time, rows, buffers, WAL) and the table counters to OUT.
# usage: bench/pg-profile.sh SERVER_DIR LABEL [JOBS]      (PGPORT, default 5441; BENCH_DLL: the built Kairos.Bench.dll;
#        ON_GO: a command started with the drain, e.g. a profiler attached to $SPID or $WPIDS; WARMUP: jobs drained
#        before the measured JOBS, default 0; SERVER_ENV, WORKER_ENV: VAR=value ... for the server's or the workers' environment)
set -u
DIR=$1; LABEL=$2; JOBS=${3:-100000}
PGPORT=${PGPORT:-5441}
BENCH_DLL=${BENCH_DLL:-$(cd "$(dirname "$0")" && pwd)/Kairos.Bench/bin/Release/net10.0/Kairos.Bench.dll}
PORT=$((18000 + RANDOM % 1000))
SCHEMA=prof_${LABEL}_$RANDOM
KEY=kx_bench_admin_key_0123456789
PSQL="psql -h 127.0.0.1 -p $PGPORT -U postgres -qAt"
OUT=${TMPDIR:-/tmp}/kairos-pg-profile/$LABEL-$(date +%H%M%S)
mkdir -p $OUT
env ${SERVER_ENV:-} KAIROS_ADMIN_API_KEY=$KEY dotnet $DIR/kairos.dll server --port $PORT --data $OUT/data --store postgres \
  --database-url "Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres;Search Path=$SCHEMA" > $OUT/server.log 2>&1 &
SPID=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.3; done
python3 - <<PY > $OUT/bulk.json
import json
print(json.dumps({"jobs":[{"queue":"bench","type":"noop","payload":{"n":i}} for i in range(1000)]}))
PY
seed() { for i in $(seq $1); do curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary @$OUT/bulk.json http://127.0.0.1:$PORT/api/v1/jobs/bulk || echo seedfail; done; }
# WARMUP jobs first (leased first: same priority, earlier seq): the figures count from the moment they are done, so
# that the JIT's and tiering's work in the fresh processes is left out, as the harness leaves out the first 5%.
WARMUP=${WARMUP:-0}
[ $WARMUP -gt 0 ] && { seed $((WARMUP/2000)) & SP=$!; seed $((WARMUP/2000)); wait $SP; }
seed $((JOBS/2000)) & SP=$!; seed $((JOBS/2000)); wait $SP
$PSQL -c "set search_path=$SCHEMA; select count(*) from jobs where state='queued'"
$PSQL -c "checkpoint; select pg_stat_statements_reset(); select pg_stat_reset();" >/dev/null
PM=$($PSQL -c "select pid from pg_stat_activity where backend_type = 'checkpointer'" | xargs -I{} ps -o ppid= -p {} | tr -d ' ')
pgcpu() { local t=0; for p in $PM $(pgrep -P $PM); do s=($(cut -d')' -f2 /proc/$p/stat 2>/dev/null)); t=$((t + ${s[11]:-0} + ${s[12]:-0})); done; s=($(cut -d')' -f2 /proc/$PM/stat)); echo $((t + ${s[13]} + ${s[14]})); }
srvcpu() { s=($(cut -d')' -f2 /proc/$SPID/stat)); echo $((${s[11]} + ${s[12]})); }
wkcpu() { local t=0; for p in "${WP[@]}"; do s=($(cut -d')' -f2 /proc/$p/stat)); t=$((t + ${s[11]} + ${s[12]})); done; echo $t; }
WP=()
for w in 0 1 2 3; do
  mkfifo $OUT/f$w
  env ${WORKER_ENV:-} W=$w dotnet $BENCH_DLL worker --url http://127.0.0.1:$PORT/ --key $KEY --queue bench --mode batch --capacity 50 --max 100 --registrations 1 --wait-ms 5000 --latency-out $OUT/lat$w.txt --name w$w < $OUT/f$w > $OUT/w$w.log 2>&1 &
  WP+=($!)
done
exec 5>$OUT/f0 6>$OUT/f1 7>$OUT/f2 8>$OUT/f3
for w in 0 1 2 3; do until grep -q ready $OUT/w$w.log; do sleep 0.2; done; done
echo go >&5; echo go >&6; echo go >&7; echo go >&8
D0=0
if [ $WARMUP -gt 0 ]; then
  while true; do D0=$($PSQL -c "set search_path=$SCHEMA; select count(*) from jobs where state='succeeded'"); [ $D0 -ge $WARMUP ] && break; sleep 0.1; done
fi
P0=$(pgcpu); S0=$(srvcpu); W0=$(wkcpu); T0=$(date +%s.%N); U0=$(cat /proc/loadavg)
# ON_GO: a command run beside the drain (a profiler), with SPID (the server) and WPIDS (the workers) in its environment
[ -n "${ON_GO:-}" ] && (SPID=$SPID WPIDS="${WP[*]}" bash -c "$ON_GO" > $OUT/on-go.log 2>&1 &)
while true; do n=$($PSQL -c "set search_path=$SCHEMA; select exists(select 1 from jobs where state='queued') or exists(select 1 from jobs where state='running')"); [ "$n" = f ] && break; sleep 0.25; done
T1=$(date +%s.%N); P1=$(pgcpu); S1=$(srvcpu); W1=$(wkcpu); U1=$(cat /proc/loadavg)
exec 5>&- 6>&- 7>&- 8>&-; wait "${WP[@]}"
python3 -c "
d=$T1-$T0; j=$JOBS+$WARMUP-$D0
print(f'$LABEL: {j} jobs (after {$D0} warm-up) in {d:.1f} s = {j/d:.0f} jobs/s; PG cpu {($P1-$P0)/100:.1f} s = {($P1-$P0)*1e4/j:.0f} us/job; server cpu {($S1-$S0)/100:.1f} s = {($S1-$S0)*1e4/j:.0f} us/job; workers cpu {($W1-$W0)/100:.1f} s = {($W1-$W0)*1e4/j:.0f} us/job; load $U0 -> $U1')
" | tee $OUT/summary.txt
$PSQL -F ' | ' -c "select calls, round(total_exec_time::numeric,0) ms, round((total_exec_time/calls)::numeric,2) ms_per, rows, shared_blks_hit, shared_blks_dirtied, wal_records, wal_bytes, left(regexp_replace(query,'\s+',' ','g'),140) from pg_stat_statements order by total_exec_time desc limit 15" > $OUT/statements.txt
$PSQL -F ' | ' -c "select relname, n_tup_ins, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where schemaname='$SCHEMA' and n_tup_upd+n_tup_ins>0" > $OUT/tables.txt
$PSQL -F ' | ' -c "select sum(wal_records), sum(wal_bytes), sum(wal_fpi) from pg_stat_statements" >> $OUT/statements.txt
$PSQL -c "select * from pg_stat_wal" >> $OUT/statements.txt
kill $SPID; wait $SPID 2>/dev/null
echo $SCHEMA > $OUT/schema
echo $OUT
