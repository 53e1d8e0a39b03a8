# Sourced by the benchmark scripts: the helpers they share.

# cpu_ticks PID -> the process's user + system CPU time so far, in clock ticks (CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# median NUMBER... -> their median (the mean of the middle two for an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
