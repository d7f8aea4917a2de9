# samples.sh — helpers for the sample-page and scorer tests (sourced).

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# jfield FILE ID KEY — value of "KEY" in the truth line of page ID (strings
# without quotes).  Keys are matched as "KEY": so pack does not match
# pack_page; the first occurrence wins (top-level keys come first).
jfield() {
    grep "\"id\": \"$2\"" "$1" | head -n 1 |
        sed -n "s/.*\"$3\": \"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1
}

# tsvcol FILE ID COLUMN — one cell of a scorepage TSV.
tsvcol() {
    awk -F'\t' -v id="$2" -v col="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        $1 == id && c { print $c; found = 1 }
        END { if (!c || !found) exit 1 }' "$1"
}

# sumval FILE KEY — one value of a scorepage --summary file.
sumval() {
    awk -F'\t' -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' "$1"
}

# within A B TOL — |A - B| <= TOL (floating point).
within() {
    awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}

# between X LO HI — LO <= X <= HI.
between() {
    awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}
