#!/bin/sh
# t_ops_metrics.sh — the metrics file spoold's writer produces passes the
# strict checker (promcheck) and its values can be read back; promcheck
# itself rejects each kind of malformed file with the right line number.
set -eu
cd "$SCRATCH"

# --- the real writer's output is valid and reads back
mkmetrics m.prom node-a "/srv/spool one" packs_done=12 pages_done=1200 \
    stage.deskew=3.25 queue.incoming=5 queue.retry=0 heartbeat_age=2 \
    spool_available=1 workers_busy=1 workers_total=2
promcheck m.prom | grep -q '^m.prom: ok, 11 families, 21 samples$'
v=$(promcheck m.prom \
    'spoold_packs_total{result="done",spool="/srv/spool one",node="node-a"}' \
    'spoold_stage_seconds_total{node="node-a",spool="/srv/spool one",stage="deskew"}' \
    'spoold_queue_packs{node="node-a",spool="/srv/spool one",state="retry"}')
[ "$v" = "$(printf '12\n3.25\n0')" ] || { echo "read back: $v"; exit 1; }
# a series that is not there is an error (unknown gauge: no sample)
if promcheck m.prom 'spoold_queue_packs{node="node-a",spool="/srv/spool one",state="done"}'; then
    echo "missing series found"; exit 1
fi
# a label missing from the query does not match
if promcheck m.prom 'spoold_reclaims_total{node="node-a"}' >/dev/null 2>&1; then
    echo "partial label set matched"; exit 1
fi

# --- a good hand-written file, then one defect at a time
cat >good.prom <<'EOF'
# HELP a_total Things.
# TYPE a_total counter
a_total{x="1"} 3
a_total{x="2",} 4 1700000000000
# HELP g A gauge with "quotes" and \\ and \n escapes.
# TYPE g gauge
g -1.5e3
# a free comment
g{y="caf\u00e9"} NaN

# HELP h A histogram.
# TYPE h histogram
h_bucket{le="+Inf"} 1
h_sum 2
h_count 1
EOF
# the \u00e9 placeholder becomes real UTF-8 (e acute)
sed 's/\\u00e9/\xc3\xa9/' good.prom >g.prom && mv g.prom good.prom
promcheck good.prom | grep -q 'ok, 3 families, 7 samples'

# expect_bad LINE REASON-PATTERN: good.prom edited by the sed script on
# stdin must be refused at LINE with a message matching the pattern
n=0
expect_bad() {
    n=$((n + 1))
    sed -f /dev/stdin good.prom >bad$n.prom
    if out=$(promcheck bad$n.prom 2>&1); then
        echo "bad$n accepted:"; cat bad$n.prom; exit 1
    fi
    echo "$out" | grep -q "^bad$n.prom:$1: .*$2" ||
        { echo "bad$n: want line $1 /$2/, got: $out"; exit 1; }
}
bad() { printf '%s\n' "$3" | expect_bad "$1" "$2"; }
bad 4 'duplicate series'      's/^a_total{x="2",} 4/a_total{x="1"} 4/'
bad 4 'given twice'           's/^a_total{x="2",} 4/a_total{x="2",x="3"} 4/'
bad 3 'must be finite'        '3s/3$/-3/'
bad 3 'end in _total'         's/a_total/a/g'
bad 2 'without HELP and TYPE' '2d'
bad 2 'unknown type'          '2s/counter/countr/'
bad 7 'bad value'             's/^g -1.5e3/g 1,5/'
bad 7 'bad value'             's/^g -1.5e3/g 0x10/'
bad 7 'bad value'             's/^g -1.5e3/g infinity/'
bad 7 'expected a blank'      's/^g -1.5e3/g/'
bad 7 'bad label name'        's/^g -1.5e3/g{1x="a"} 1/'
bad 7 'reserved'              's/^g -1.5e3/g{__x="a"} 1/'
bad 7 'bad escape'            's/^g -1.5e3/g{x="a\\t"} 1/'
bad 7 'unterminated'          's/^g -1.5e3/g{x="a} 1/'
bad 7 'invalid UTF-8'         's/^g -1.5e3/g{x="\xff"} 1/'
bad 7 'bad timestamp'         's/^g -1.5e3/g 1 12.5/'
bad 8 'not together'          '7a\
a_total{x="9"} 1'
bad 7 'second TYPE'           '5a\
# TYPE g gauge'
bad 5 'after its samples'     '4a\
# HELP a_total again'
bad 16 'lacks HELP'           '$a\
# TYPE lonely gauge'
bad 14 'carriage return'      's/^h_sum 2/h_sum 2\r/'

# no final newline
printf '# HELP x X.\n# TYPE x gauge\nx 1' >nonl.prom
if promcheck nonl.prom 2>/dev/null; then echo "no-newline accepted"; exit 1; fi
# a file that does not exist: usage/I-O error 2, not "invalid"
set +e
promcheck missing.prom 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || { echo "missing file: exit $rc"; exit 1; }
echo "t_ops_metrics: ok ($n malformed files refused)"
