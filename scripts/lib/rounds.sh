# Sourced by scripts/bench-server.sh and scripts/bench-load.sh: what their rounds add up to.

# `rounds_summary FILE NAME`: over the rows of FILE whose first field is NAME (fields:
# name, round, requests/s, p99 in ms, ...), prints the mean requests/s and the median p99.
rounds_summary() {
    awk -v t="$2" '$1 == t { n++; rps += $3; p[n] = $4 }
        END {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (p[j] < p[i]) { x = p[i]; p[i] = p[j]; p[j] = x }
            median = (n % 2) ? p[(n + 1) / 2] : (p[n / 2] + p[n / 2 + 1]) / 2
            printf "%.0f %.2f\n", rps / n, median
        }' "$1"
}
