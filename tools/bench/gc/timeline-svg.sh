#!/bin/bash
# tools/bench/gc/timeline-svg.sh OUT.svg TITLE PANEL... - the stop-the-world pauses of bench_gc
# runs as a picture: one panel per PANEL, each pause a mark at the time it ended (x, from the
# run's start) and as high as it was long (y, a log scale from 0.1 us to 1 s), a colour per
# runtime. PANEL is "caption|label=file|label=file...", each file the "ms us" lines a run
# wrote to $BENCH_GC_TIMELINE (bench_gc.c, go/bench_gc.go).
set -euo pipefail
OUT=${1:?usage: timeline-svg.sh OUT.svg TITLE PANEL...}
TITLE=$2
shift 2

{
	i=0
	for panel in "$@"; do
		IFS='|' read -r -a parts <<<"$panel"
		echo "P $i ${parts[0]}"
		for s in "${parts[@]:1}"; do
			label=${s%%=*} file=${s#*=}
			echo "S $i $label"
			[ -s "$file" ] && sed "s/^/D $i $label /" "$file"
		done
		i=$((i + 1))
	done
} | awk -v title="$TITLE" '
function x(i, ms) { return left + (ms / xmax[i]) * width }
function y(i, us,  l) {
	l = log(us < 0.1 ? 0.1 : us) / log(10)	# -1 (0.1 us) .. 6 (1 s)
	return top[i] + height - (l + 1) / 7 * height
}
BEGIN {
	left = 70; width = 760; height = 220; gap = 70
	colour["gochan"] = "#1f77b4"; colour["Go"] = "#2ca02c"; colour["Boehm"] = "#d62728"
}
$1 == "P" { np = $2 + 1; caption[$2] = substr($0, index($0, $3)); next }
$1 == "S" { ns[$2]++; series[$2, ns[$2]] = $3; next }
$1 == "D" {
	n++; di[n] = $2; dl[n] = $3; dms[n] = $4; dus[n] = $5
	if ($4 > xmax[$2]) xmax[$2] = $4
	if ($5 > ymax[$2, $3]) ymax[$2, $3] = $5
	cnt[$2, $3]++
}
END {
	H = 50 + np * (height + gap)
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", H
	printf "<rect width=\"900\" height=\"%d\" fill=\"white\"/>\n", H
	printf "<text x=\"450\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">%s</text>\n", title
	for (i = 0; i < np; i++) {
		top[i] = 50 + i * (height + gap)
		if (!xmax[i]) xmax[i] = 1
		printf "<text x=\"%d\" y=\"%d\" font-size=\"13\">%s</text>\n", left, top[i] - 8, caption[i]
		split("0.1 us|1 us|10 us|100 us|1 ms|10 ms|100 ms|1 s", tick, "|")
		for (k = 0; k <= 7; k++) {
			yy = top[i] + height - k / 7 * height
			printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, yy, left + width, yy
			printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>\n", left - 6, yy + 4, tick[k + 1]
		}
		printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left, top[i] + height, left + width, top[i] + height
		for (k = 0; k <= 4; k++)
			printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%.0f ms</text>\n", left + k / 4 * width, top[i] + height + 16, k / 4 * xmax[i]
		for (k = 1; k <= ns[i]; k++) {
			l = series[i, k]
			printf "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", left + width - 250, top[i] + 4 + (k - 1) * 16, colour[l]
			printf "<text x=\"%d\" y=\"%d\">%s: %d pauses, longest %s</text>\n", left + width - 235, top[i] + 13 + (k - 1) * 16, l, cnt[i, l], fmt(ymax[i, l])
		}
	}
	for (j = 1; j <= n; j++) {
		i = di[j]
		printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-opacity=\"0.6\"/>\n", x(i, dms[j]), top[i] + height, x(i, dms[j]), y(i, dus[j]), colour[dl[j]]
		printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", x(i, dms[j]), y(i, dus[j]), colour[dl[j]]
	}
	print "</svg>"
}
function fmt(us) { return us >= 1000 ? sprintf("%.1f ms", us / 1000) : sprintf("%.1f us", us) }
' >"$OUT"
